"""`gongpei solve`'s output, from a CLI audit: its summary line whole when piped (it was cut at
rich's 80 columns), a solution given back as a problem named as such (it read "matrices:
missing"), and the engine's reason kept beside the tasks set aside (it was replaced)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from test_routing_formats import VROOM
from test_routing_model import base
from test_routing_solve_cli import gongpei

from routing.io import read_problem
from routing.model import Problem, ProblemError
from routing.solve import solve


def test_summary_line_is_whole_when_not_a_terminal(tmp_path: Path) -> None:
    problem, out = tmp_path / "problem.json", tmp_path / "solution.json"
    problem.write_text(json.dumps(VROOM))
    done = gongpei(str(problem), "-o", str(out), "--time-limit", "0.5", "-q")
    assert done.returncode == 0, done.stderr
    reason = json.loads(out.read_text())["summary"]["engine_reason"]
    assert len(reason) > 80  # auto: why PyVRP does not fit, and the warm start
    summary = [line for line in done.stderr.splitlines() if line.startswith("ortools: cost")]
    assert len(summary) == 1 and summary[0].endswith(f" - {reason}"), done.stderr


@pytest.mark.parametrize("format", [None, "vroom", "native"])
def test_a_solution_given_as_a_problem_is_named_a_solution(
    tmp_path: Path, format: str | None
) -> None:
    problem, out = tmp_path / "problem.json", tmp_path / "solution.json"
    problem.write_text(json.dumps(VROOM))
    assert gongpei(str(problem), "-o", str(out), "--time-limit", "0.5", "-q").returncode == 0
    with pytest.raises(ProblemError, match="this is a solution, not a problem"):
        read_problem(out, format=format)
    with pytest.raises(ProblemError, match="this is a solution, not a problem"):  # exit 2
        gongpei(str(out), "-o", str(tmp_path / "again.json"))


def test_tasks_set_aside_keep_the_engines_reason() -> None:
    jobs = [{"id": "ok", "location": 1, "delivery": [2, 5]},
            {"id": "crane", "location": 2, "skills": ["crane"]}]  # fmt: skip
    solution = solve(Problem.model_validate(base(jobs=jobs)), engine="ortools", time_limit_s=0.3)
    assert solution.engine_reason == (
        "asked for ortools; 1 task(s) no vehicle can take left out first"
    )
