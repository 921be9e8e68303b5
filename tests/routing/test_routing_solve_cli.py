"""`gongpei solve` on each input format: a checked plan, or exit code 2 with a named error."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from test_routing_formats import VROOM

SOLOMON = """TINY

VEHICLE
NUMBER     CAPACITY
  2         10

CUSTOMER
CUST NO.  XCOORD.   YCOORD.    DEMAND   READY TIME  DUE DATE   SERVICE   TIME
    0      0          0          0          0       1000          0
    1      10         0          4          0        100         10
    2      0          10         4          0        100         10
    3      10         10         4         50        200         10
"""


class Done:
    """What a `gongpei solve` run left: exit code and stderr."""

    def __init__(self, returncode: int, stderr: str) -> None:
        self.returncode, self.stderr = returncode, stderr


def gongpei(*args: str) -> Done:
    """Run `gongpei solve` in this process (start-up is the slow part of a subprocess)."""
    from typer.testing import CliRunner

    from api.cli.main import app

    result = CliRunner().invoke(app, ["solve", *args])
    if result.exception is not None and not isinstance(result.exception, SystemExit):
        raise result.exception
    return Done(result.exit_code, result.stderr)


def test_solve_vroom_file_with_checker_verdict(tmp_path: Path) -> None:
    problem = tmp_path / "problem.json"
    problem.write_text(json.dumps(VROOM))
    out, geo = tmp_path / "solution.json", tmp_path / "routes.geojson"
    done = gongpei(str(problem), "-o", str(out), "--time-limit", "0.5", "--geojson", str(geo))
    assert done.returncode == 0, done.stderr
    assert "checker: OK" in done.stderr
    solution = json.loads(out.read_text())
    assert solution["summary"]["checker"]["ok"] is True
    assert solution["summary"]["engine"] == "ortools"  # breaks and skills: PyVRP does not fit
    assert json.loads(geo.read_text())["type"] == "FeatureCollection"


def test_solve_solomon_file_keeps_customer_numbers(tmp_path: Path) -> None:
    problem = tmp_path / "tiny.txt"
    problem.write_text(SOLOMON)
    out = tmp_path / "solution.json"
    done = gongpei(str(problem), "-o", str(out), "--format", "solomon", "--time-limit", "0.5",
                   "--engine", "ortools")
    assert done.returncode == 0, done.stderr
    steps = [s for r in json.loads(out.read_text())["routes"] for s in r["steps"]]
    assert sorted(s["id"] for s in steps if s["type"] == "job") == [1, 2, 3]


def test_invalid_input_exits_2_naming_item_and_field(tmp_path: Path) -> None:
    data = json.loads(json.dumps(VROOM))
    data["jobs"][0]["service"] = -30
    problem = tmp_path / "bad.json"
    problem.write_text(json.dumps(data))
    done = subprocess.run(  # the real command: its entry point turns errors into exit code 2
        [sys.executable, "-m", "api.cli.main", "solve", str(problem), "-o",
         str(tmp_path / "s.json")], capture_output=True, text=True, timeout=120, check=False)
    assert done.returncode == 2
    assert "job '10': service: Input should be greater than or equal to 0" in done.stderr
    assert "Traceback" not in done.stderr


@pytest.mark.shared
@pytest.mark.slow
@pytest.mark.parametrize("name", ["cvrp/X-n101-k25.vrp", "solomon/C101.txt", "pdptw/lc101.txt"])
def test_solve_benchmark_files(shared_dir: Path, tmp_path: Path, name: str) -> None:
    out = tmp_path / "solution.json"
    done = gongpei(str(shared_dir / "bench" / "vrp" / name), "-o", str(out),
                   "--time-limit", "1", "--engine", "ortools")
    assert done.returncode == 0, done.stderr
    solution = json.loads(out.read_text())
    assert solution["summary"]["checker"]["ok"] and solution["summary"]["unassigned"] == 0


def test_engine_that_does_not_fit_is_refused_by_name(tmp_path: Path) -> None:
    from routing.engines import EngineError

    problem = tmp_path / "problem.json"
    problem.write_text(json.dumps(VROOM))
    with pytest.raises(EngineError, match=r"engine: pyvrp cannot solve this problem: .*breaks"):
        gongpei(str(problem), "-o", str(tmp_path / "s.json"), "--engine", "pyvrp")
