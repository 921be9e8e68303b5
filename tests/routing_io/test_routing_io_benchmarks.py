"""The CVRPLIB, Solomon and Li & Lim readers against known values (hand-made and shared files)."""

import csv
import itertools
import math
from pathlib import Path

import pytest

from routing.check import check
from routing.io._benchmark import InstanceFormatError
from routing.io.lilim import read_lilim
from routing.io.solomon import read_solomon
from routing.io.vrplib import read_solution, read_vrplib, write_solution
from routing.model import Problem
from routing.solution import RoutePlan, Visit, build_solution


def route_cost(problem: Problem, routes: list[list[str]]) -> float:
    """Length of depot-to-depot routes given as job ids, from the problem's own matrix."""
    dist = problem.travel("euclidean").distances
    total = 0.0
    for route in routes:
        stops = [0, *(problem.job(j).location for j in route), 0]
        total += sum(dist[a, b] for a, b in itertools.pairwise(stops))
    return total


def test_vrplib_rounds_each_arc_to_nearest_integer(tiny_files):
    problem = read_vrplib(tiny_files["vrplib"])
    dist = problem.travel("euclidean").distances
    assert dist[0, 1] == 5 and dist[3, 4] == 7 and dist[0, 4] == 1
    assert [j.id for j in problem.jobs] == ["1", "2", "3", "4"]
    assert problem.job("3").delivery == (6,)
    assert problem.vehicles[0].capacity == (10,)
    # demand 18 over capacity 10: bound 2, fleet max(2 * 2, 2 + 2) capped at 4 jobs
    assert len(problem.vehicles) == 4
    solution = read_solution(tiny_files["sol"])
    assert solution.routes == [["1", "2"], ["3", "4"]]
    assert route_cost(problem, solution.routes) == solution.cost == 32
    exact = read_vrplib(tiny_files["vrplib"], distance_rule="exact", vehicles=2)
    assert exact.travel("euclidean").distances[3, 4] == pytest.approx(math.sqrt(50))
    assert len(exact.vehicles) == 2


def test_vrplib_with_time_windows_and_vehicles(tmp_path: Path, tiny_files):
    text = tiny_files["vrplib"].read_text().replace("EOF\n", "")
    text = text.replace("CAPACITY : 10", "CAPACITY : 10\nVEHICLES : 3")
    text += "SERVICE_TIME_SECTION\n1 0\n2 5\n3 5\n4 5\n5 5\n"
    text += "TIME_WINDOW_SECTION\n1 0 100\n2 0 20\n3 10 50\n4 0 90\n5 0 90\nEOF\n"
    path = tmp_path / "tiny-tw.vrp"
    path.write_text(text)
    problem = read_vrplib(path)
    assert len(problem.vehicles) == 3
    job = problem.job("2")
    assert job.service == 5 and (job.time_windows[0].start, job.time_windows[0].end) == (10, 50)
    assert problem.centres[0].opening.end == 100


def test_reversed_window_names_file_and_customer(tmp_path: Path, tiny_files):
    solomon, lilim = tiny_files["solomon"].read_text(), tiny_files["lilim"].read_text()
    path = tmp_path / "rev.txt"
    path.write_text(solomon.replace("10         50", "50         10"))
    late = r"rev\.txt line 12: customer 2: READY TIME 50 is after DUE DATE 10"
    with pytest.raises(InstanceFormatError, match=late):
        read_solomon(path)
    path.write_text(lilim.replace("2\t3\t-4\t-4\t0\t80", "2\t3\t-4\t-4\t90\t80"))
    with pytest.raises(InstanceFormatError, match=r"rev.txt: task 2: time_windows.*ends"):
        read_lilim(path)


def test_solomon_reads_windows_service_and_fleet(tiny_files):
    problem = read_solomon(tiny_files["solomon"])
    assert len(problem.vehicles) == 2 and problem.vehicles[0].capacity == (10,)
    job = problem.job("2")
    assert (job.location, job.delivery, job.service) == (2, (5,), 5.0)
    assert (job.time_windows[0].start, job.time_windows[0].end) == (10.0, 50.0)
    assert problem.centres[0].opening.end == 100
    travel = problem.travel("euclidean")
    assert travel.durations[1, 2] == travel.distances[1, 2] == 8
    assert travel.distances[1, 3] == pytest.approx(math.hypot(9, 4))


def test_lilim_pairs_become_shipments(tiny_files):
    problem = read_lilim(tiny_files["lilim"])
    assert [s.id for s in problem.shipments] == ["1-2", "3-4"]
    first = problem.shipment("1-2")
    assert (first.pickup.id, first.delivery.id, first.amount) == ("1", "2", (4,))
    assert first.delivery.time_windows[0].end == 80
    assert problem.travel("euclidean").distances[3, 4] == pytest.approx(math.sqrt(50))


@pytest.mark.parametrize(
    ("text", "reader", "message"),
    [
        ("NAME : x\nTYPE : CVRP\n", read_vrplib, "tiny.bad"),
        ("nonsense\n", read_solomon, "not a readable Solomon"),
        (
            "2 10 1\n0 0 0 0 0 100 0 0 0\n1 3 4 4 0 50 5 0 3\n2 3 -4 -4 0 80 5 1 0\n",
            read_lilim,
            "delivery sibling 3",
        ),
        ("2 10 1\n0 0 0 0 0 100 0 0 0\n1 3 4 4 0 50 5 0\n", read_lilim, "9 numbers"),
    ],
)
def test_bad_files_name_the_file_and_part(tmp_path: Path, text, reader, message):
    path = tmp_path / "tiny.bad"
    path.write_text(text)
    with pytest.raises(InstanceFormatError, match=message):
        reader(path)


@pytest.mark.shared
def test_cvrplib_sol_costs_recomputed(vrp_bench: Path, tmp_path: Path):
    """Every X instance's .sol routes cost exactly the stated BKS under the rounding rule."""
    with open(vrp_bench / "bks.csv", newline="") as fh:
        bks = {r["file"]: float(r["bks"]) for r in csv.DictReader(fh)}
    for vrp in sorted((vrp_bench / "cvrp").glob("*.vrp")):
        problem = read_vrplib(vrp)
        solution = read_solution(vrp.with_suffix(".sol"))
        served = sorted(int(j) for r in solution.routes for j in r)
        assert served == list(range(1, len(problem.jobs) + 1))
        assert route_cost(problem, solution.routes) == solution.cost == bks[f"cvrp/{vrp.name}"]
        # the same routes as a project solution pass the independent checker at the same cost
        plans = [RoutePlan(v.id, [Visit("job", j) for j in route])
                 for v, route in zip(problem.vehicles, solution.routes, strict=False)]  # fmt: skip
        assert len(plans) == len(solution.routes)
        built = build_solution(problem, plans, {}, engine="best-known")
        report = check(problem, built)
        assert report.ok, report.summary()
        assert report.cost == built.summary.cost == solution.cost
        written = tmp_path / vrp.with_suffix(".sol").name
        write_solution(written, built)
        again = read_solution(written)
        assert again.routes == solution.routes and again.cost == solution.cost


@pytest.mark.shared
def test_shared_solomon_and_lilim_sizes(vrp_bench: Path):
    c101 = read_solomon(vrp_bench / "solomon" / "C101.txt")
    assert (len(c101.jobs), len(c101.vehicles), c101.vehicles[0].capacity) == (100, 25, (200,))
    assert c101.job("1").time_windows[0].start == 912
    lc101 = read_lilim(vrp_bench / "pdptw" / "lc101.txt")
    assert len(lc101.shipments) == 53 and len(lc101.vehicles) == 25
    assert sum(s.amount[0] for s in lc101.shipments) > 0
