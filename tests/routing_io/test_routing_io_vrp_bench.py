"""benchmarks/vrp.py keeps working: one easy instance at a short limit, every column filled."""

import importlib.util
import sys
from pathlib import Path

import pytest

SCRIPT = Path(__file__).resolve().parents[2] / "benchmarks" / "vrp.py"


@pytest.fixture(scope="module")
def vrp_bench_script():
    spec = importlib.util.spec_from_file_location("vrp_bench_script", SCRIPT)
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


@pytest.mark.shared
@pytest.mark.slow
def test_benchmark_runs_every_solver_on_c201(vrp_bench, vrp_bench_script, capsys):
    assert vrp_bench == vrp_bench_script.BENCH_DIR
    assert vrp_bench_script.main(["--only", "C201", "--time-limit", "1"]) == 0
    out = capsys.readouterr().out
    row = next(line for line in out.splitlines() if line.startswith("| solomon/C201.txt"))
    project, ortools, pyvrp = (cell.strip() for cell in row.split("|")[3:6])
    # C201 is easy: the project and PyVRP reach the best-known 591.56 within a second
    assert project.startswith("0.00") and pyvrp.startswith("0.00")
    assert ortools != "n/a (0)"
    assert "checker: OK" in out


def test_benchmark_recomputes_costs_under_each_convention(vrp_bench_script):
    import numpy as np

    inst = vrp_bench_script.Instance(
        file="x", kind="CVRP", bks=10, bks_vehicles=1,
        coords=np.array([[0, 0], [1, 1], [2, 0]]), demand=np.array([0, 1, 1]),
        capacity=2, fleet=1,
    )  # fmt: skip
    assert inst.cost([[1, 2]]) == 1 + 1 + 2  # sqrt(2) rounds to 1 on each of two arcs
    inst.kind = "VRPTW"
    assert inst.cost([[1, 2]]) == pytest.approx(2 * np.sqrt(2) + 2)
