"""A small batch (API) or day (`gongpei solve`) ends on a plateau instead of running its whole
time limit: a firm waited 5-10 s for a plan of two parcels found in milliseconds. The option is
`no_improvement_s` (API) and `--no-improvement` (CLI); both default to `routing.stop.default_stop`.
Asserted on what ended the search (the `engine_reason`), never on time.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from pydantic import ValidationError

from api.cli.checks import OptionError
from api.jobs.runner import solve_batch
from api.schemas.jobs import BatchSubmit
from routing.solve import ORTOOLS_SMALL_DAY_STOPS

ENDED = "ended early: no better plan for"


def _day(jobs: int = 2) -> dict:
    return {
        "travel": {"source": "straight_line", "speed_kmh": 25},
        "locations": [
            {"lat": 36.06 + 0.002 * i, "lon": 120.38 + 0.003 * i} for i in range(jobs + 1)
        ],
        "centres": [{"id": "hub", "location": 0}],
        "vehicles": [{"id": "van-1", "start": "hub", "end": "hub", "cost_per_km": 1.2}],
        "jobs": [{"id": f"p{i}", "location": i} for i in range(1, jobs + 1)],
    }


@pytest.mark.parametrize(
    ("engine", "plateau", "limit"),
    [("auto", None, 30), ("pyvrp", None, 30), ("ortools", 0.3, 30), ("ortools", None, 30)],
)
def test_a_small_batch_ends_on_its_plateau(engine: str, plateau: float | None, limit: float):
    payload = {"format": "native", "problem": _day(), "engine": engine, "time_limit_s": limit,
               "no_improvement_s": plateau}  # fmt: skip
    solution, _ = solve_batch(payload, lambda _share: None)
    assert ENDED in solution["summary"]["engine_reason"]
    assert solution["summary"]["checker"]["ok"] and not solution["unassigned"]


@pytest.mark.parametrize(
    ("engine", "plateau", "limit", "jobs"),
    [("pyvrp", 0.5, 0.5, 2), ("ortools", None, 3, ORTOOLS_SMALL_DAY_STOPS + 1)],
)
def test_a_batch_without_a_plateau_runs_to_its_limit(
    engine: str, plateau: float | None, limit: float, jobs: int
) -> None:
    """A plateau of the limit or more, or OR-Tools alone by default on a day past its small
    ones (whose 1 s plateau would fire well before 3 s), never ends early."""
    payload = {"format": "native", "problem": _day(jobs), "engine": engine, "time_limit_s": limit,
               "no_improvement_s": plateau}  # fmt: skip
    solution, _ = solve_batch(payload, lambda _share: None)
    assert ENDED not in solution["summary"]["engine_reason"]


@pytest.mark.parametrize("value", [0, -1, "2", True])
def test_a_bad_no_improvement_is_refused_by_name(value: object) -> None:
    assert BatchSubmit(format="native", problem=_day(), no_improvement_s=2.5).no_improvement_s
    with pytest.raises(ValidationError) as err:
        BatchSubmit(format="native", problem=_day(), no_improvement_s=value)
    (error,) = err.value.errors()
    assert error["loc"] == ("no_improvement_s",) and error["type"] != "extra_forbidden"


def test_the_openapi_documents_no_improvement(client) -> None:
    body = client.get("/openapi.json").json()["components"]["schemas"]["BatchSubmit"]
    field = body["properties"]["no_improvement_s"]
    assert "no better plan" in field["description"]


def _cli(*args: str):
    from typer.testing import CliRunner

    from api.cli.main import app

    return CliRunner().invoke(app, ["solve", *args])


def test_cli_solve_of_a_tiny_day_ends_on_the_plateau(tmp_path: Path) -> None:
    problem, out = tmp_path / "day.json", tmp_path / "plan.json"
    problem.write_text(json.dumps(_day()))
    done = _cli(str(problem), "-o", str(out), "--time-limit", "30", "--engine", "pyvrp")
    assert done.exit_code == 0, done.stderr
    assert ENDED in json.loads(out.read_text())["summary"]["engine_reason"]


def test_cli_refuses_a_bad_no_improvement_by_name(tmp_path: Path) -> None:
    problem = tmp_path / "day.json"
    problem.write_text(json.dumps(_day()))
    done = _cli(str(problem), "-o", str(tmp_path / "p.json"), "--no-improvement", "0")
    assert isinstance(done.exception, OptionError)  # `gongpei`'s exit code 2, one line
    assert str(done.exception) == "--no-improvement: must be positive, got 0.0"
