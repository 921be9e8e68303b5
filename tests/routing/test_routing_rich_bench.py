"""The rich-problem benchmark script still runs end to end (not a timing: one small day, 1 s)."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

BENCH = Path(__file__).resolve().parents[2] / "benchmarks"


@pytest.mark.slow
def test_rich_benchmark_runs_and_checks_both_plans(tmp_path: Path, capsys) -> None:
    pytest.importorskip("vroom")
    sys.path.insert(0, str(BENCH))
    try:
        import vrp_rich
    finally:
        sys.path.remove(str(BENCH))
    vrp_rich.main(["--time-limit", "1", "--seeds", "1", "--only", "rich-060-a",
                   "--keep", str(tmp_path)])
    out = capsys.readouterr().out
    assert "all checked plans ok: True" in out
    assert "| rich-060-a | 60 | 7 | 1 |" in out  # the per-instance table
    assert (tmp_path / "rich-060-a.json").is_file()
