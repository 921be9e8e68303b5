"""`gongpei site --time-limit` covers the whole run: the search gets what reading the input
(its walking catchments on the map) left of it. Before, the search had the whole limit after
them, and the run ended that much past it."""

from __future__ import annotations

import time

from api.cli import site_cmd
from tests.siting.test_siting_cli import ROOT, site

CAMPUS = ROOT / "routing" / "siting" / "examples" / "campus.json"


def test_the_search_gets_what_reading_the_input_left(tmp_path, monkeypatch) -> None:
    read, solve = site_cmd._read, site_cmd.solve
    spent = []

    def slow_read(*args):
        time.sleep(0.5)  # catchments that take a while
        return read(*args)

    def spy(*args, **options):
        spent.append(options["spent_s"])
        return solve(*args, **options)

    monkeypatch.setattr(site_cmd, "_read", slow_read)
    monkeypatch.setattr(site_cmd, "solve", spy)
    run = site(str(CAMPUS), "--format", "native", "-o", str(tmp_path / "plan.json"),
               "--time-limit", "5")  # fmt: skip
    assert run.returncode == 0, run.exception
    assert spent and spent[0] >= 0.5
