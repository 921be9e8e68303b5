"""`gongpei site --curve` says what its curve costs: each point's time (`CURVE_POINT_S`) comes
on top of ``--time-limit``, which covers the plan alone, so the plan is the same with or
without a curve. The help said the limit was for the whole run, and a run with
``--curve-max 40 --time-limit 10`` took 52 s."""

from __future__ import annotations

import re

import routing.siting.curve as curve_mod
from api.cli import site_cmd
from tests.siting.test_siting_cli import site
from tests.siting.test_siting_cli_time_limit import CAMPUS


def _spy(monkeypatch, module) -> list[dict]:
    """Records the options of every ``solve`` that ``module`` calls."""
    calls: list[dict] = []
    solve = module.solve

    def spy(*args, **options):
        calls.append(options)
        return solve(*args, **options)

    monkeypatch.setattr(module, "solve", spy)
    return calls


def test_the_help_says_what_the_curve_adds_to_the_limit() -> None:
    shown = re.sub(r"[\s│]+", " ", site("--help").stdout)  # the rich table's lines joined
    assert "(--curve's points come after it)" in shown
    point = f"{site_cmd.CURVE_POINT_S:g} s"
    assert f"each of its points takes up to {point} (--time-limit where less) on top" in shown
    assert f"--curve-max 10 adds up to {10 * site_cmd.CURVE_POINT_S:g} s" in shown


def test_the_curve_takes_none_of_the_plans_time(tmp_path, monkeypatch) -> None:
    plan_calls, point_calls = _spy(monkeypatch, site_cmd), _spy(monkeypatch, curve_mod)
    monkeypatch.setattr(curve_mod, "plot_curve", lambda points, path, **kw: path)
    out = ("--format", "native", "-o", str(tmp_path / "plan.json"), "--time-limit", "5")
    assert site(str(CAMPUS), *out).returncode == 0
    run = site(str(CAMPUS), *out, "--curve", str(tmp_path / "c.png"), "--curve-max", "3")
    assert run.returncode == 0, run.exception
    assert plan_calls[0]["keep_s"] == plan_calls[1]["keep_s"]  # nothing kept for the curve
    assert [call["time_limit_s"] for call in point_calls] == [site_cmd.CURVE_POINT_S] * 3
