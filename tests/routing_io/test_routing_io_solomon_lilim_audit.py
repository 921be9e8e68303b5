"""The Solomon and Li & Lim readers after the vrpfmt audit (findings F2, F5, F6, F9, F10).

Solomon rows are parsed by the reader itself: decimals kept, job ids the file's CUST NO., one
line per error naming the file, its line and the customer. Li & Lim honours the speed field and
refuses pairs whose amounts disagree. Published files read exactly as before.
"""

from __future__ import annotations

import math
import re
from pathlib import Path

import numpy as np
import pytest
import vrplib

from routing.check import check
from routing.io._benchmark import (
    InstanceFormatError,
    benchmark_problem,
    delivery_jobs,
    euclidean,
    reading,
)
from routing.io.lilim import read_lilim
from routing.io.solomon import read_solomon
from routing.model import Problem
from routing.solve import solve

HEAD = """R101.25

VEHICLE
NUMBER     CAPACITY
  3         20

CUSTOMER
CUST NO.   XCOORD.   YCOORD.    DEMAND   READY TIME   DUE DATE   SERVICE TIME

"""
#: File lines 1-9 are the head above; customer row k (the depot k = 0) is line 10 + k.
ROWS = [
    "0   35   35    0     0   230    0",
    "1   41   49    4     0   200   10",
    "2   35   17    7    50   160   10",
    "3   55   45    5    16   126   10",
    "4   55   20    3    49   159   10",
]
FIELDS = "CUST NO., XCOORD., YCOORD., DEMAND, READY TIME, DUE DATE, SERVICE TIME"


def solomon_file(tmp_path: Path, rows: list[str], name: str = "R101.txt") -> Path:
    path = tmp_path / name
    path.write_text(HEAD + "\n".join(rows) + "\n")
    return path


def vrplib_solomon(path: Path) -> Problem:
    """The problem the reader built before the audit (through `vrplib`'s Solomon parser)."""
    data = vrplib.read_instance(path, instance_format="solomon", compute_edge_weights=False)
    with reading(path):
        jobs = delivery_jobs(
            np.asarray(data["demand"], dtype=np.int64), data["service_time"], data["time_window"]
        )
        return benchmark_problem(
            name=str(data["name"]),
            source="solomon",
            travel=euclidean(np.asarray(data["node_coord"], dtype=np.float64), rounded=False),
            fleet=int(data["vehicles"]),
            capacity=int(data["capacity"]),
            jobs=jobs,
            depot_window=tuple(data["time_window"][0]),
            meta={"distance_rule": "unrounded Euclidean, compared at 2 decimals"},
        )


@pytest.mark.shared
@pytest.mark.parametrize("name", ["C101.txt", "C201.txt", "R101.txt", "RC101.txt", "RC201.txt"])
def test_solomon_published_files_read_as_vrplib_did(vrp_bench: Path, tmp_path: Path, name):
    """The same problem as through `vrplib`, also when a tool writes every number as 40.0."""
    path = vrp_bench / "solomon" / name
    if not path.is_file():
        pytest.skip(f"{path} is absent")
    data = vrplib.read_instance(path, instance_format="solomon")
    problem = read_solomon(path)
    assert problem == vrplib_solomon(path)
    travel = problem.travel("euclidean")
    assert np.array_equal(travel.distances, data["edge_weight"])
    assert np.array_equal(travel.durations, data["edge_weight"])
    assert [j.id for j in problem.jobs] == [str(i) for i in range(1, len(data["demand"]))]
    assert [j.delivery[0] for j in problem.jobs] == list(data["demand"][1:])
    windows = [(j.time_windows[0].start, j.time_windows[0].end) for j in problem.jobs]
    assert windows == [tuple(w) for w in data["time_window"][1:].tolist()]
    assert [j.service for j in problem.jobs] == list(data["service_time"][1:])
    assert len(problem.vehicles) == data["vehicles"]
    assert problem.vehicles[0].capacity == (data["capacity"],)
    depot = problem.centres[0].opening
    assert (depot.start, depot.end) == tuple(data["time_window"][0].tolist())
    # vrplib's integer parse made each "40.0" a -1; the reader keeps the value
    lines = path.read_text().splitlines()
    first = next(i for i, ln in enumerate(lines) if ln.split()[:1] == ["0"])
    floats = [" ".join(f"{float(v):.1f}" for v in ln.split()) if i > first - 1 and ln.strip()
              else ln for i, ln in enumerate(lines)]  # fmt: skip
    floats[first] = floats[first].replace("0.0", "0", 1)  # CUST NO. may be written 0 or 0.0
    written = tmp_path / name
    written.write_text("\n".join(floats) + "\n")
    assert read_solomon(written) == problem


def test_solomon_keeps_a_decimal_coordinate_through_crlf_and_tabs(tmp_path: Path):
    rows = list(ROWS)
    rows[3] = "3\t55.5\t45\t5\t16\t126\t10"
    path = tmp_path / "R101.txt"
    path.write_bytes((HEAD + "\n\n".join(rows) + "\n\n").replace("\n", "\r\n").encode())
    problem = read_solomon(path)
    assert problem.job("3").location == 3
    distances = problem.travel("euclidean").distances
    assert distances[0, 3] == pytest.approx(math.hypot(55.5 - 35, 45 - 35))
    assert distances[1, 3] == pytest.approx(math.hypot(55.5 - 41, 45 - 49))
    assert [j.id for j in problem.jobs] == ["1", "2", "3", "4"]


def test_solomon_job_ids_are_the_cust_no_and_the_plan_checks(tmp_path: Path):
    """Customers 0, 2, 4, 6, 8: the jobs are "2", "4", "6", "8" at locations 1..4."""
    rows = [f"{2 * k}" + row[1:] for k, row in enumerate(ROWS)]
    problem = read_solomon(solomon_file(tmp_path, rows))
    assert [(j.id, j.location) for j in problem.jobs] == [("2", 1), ("4", 2), ("6", 3), ("8", 4)]
    assert problem.job("6").delivery == (5,)
    solution = solve(problem, engine="ortools", time_limit_s=1)
    served = sorted(s.id for r in solution.routes for s in r.steps if s.type == "job")
    assert served == ["2", "4", "6", "8"] and not solution.unassigned
    report = check(problem, solution)
    assert report.ok, report.summary()


def test_solomon_depot_is_the_first_row_whatever_its_number(tmp_path: Path):
    rows = ["9" + ROWS[0][1:], "0" + ROWS[1][1:], "1" + ROWS[2][1:], "2" + ROWS[3][1:]]
    problem = read_solomon(solomon_file(tmp_path, rows))
    assert [(j.id, j.location) for j in problem.jobs] == [("0", 1), ("1", 2), ("2", 3)]
    assert problem.centres[0].location == 0 and problem.centres[0].opening.end == 230


@pytest.mark.parametrize(
    ("row", "replacement", "message"),
    [
        (3, "3 55 45 5 16 126", f"line 13: customer 3: 6 values, expected 7 ({FIELDS})"),
        (2, "2 35 1a7 7 50 160 10", "line 12: customer 2: YCOORD. '1a7' is not a number"),
        (4, "4 55 20 3 49 nan 10", "line 14: customer 4: DUE DATE 'nan' is not a number"),
        (3, "3 55 45 2.6 16 126 10",
         "line 13: customer 3: DEMAND 2.6 is not a whole number >= 0 (amounts are integers)"),
        (3, "3 55 45 1e20 16 126 10", "line 13: customer 3: DEMAND 1e20 is above 1000000000000"),
        (2, "2 35 17 7 100 50 10", "line 12: customer 2: READY TIME 100 is after DUE DATE 50"),
        (4, "4 55 20 3 49 159 -5", "line 14: customer 4: SERVICE TIME -5 is negative"),
        (4, "4 55 20 3 -49 159 10", "line 14: customer 4: READY TIME -49 is negative"),
        (4, "2 55 20 3 49 159 10", "line 14: customer 2: CUST NO. 2 already used on line 12"),
        (1, "1.5 41 49 4 0 200 10", "line 11: CUST NO. '1.5' is not a whole number >= 0"),
    ],
)  # fmt: skip
def test_solomon_row_errors_are_one_line_naming_file_line_and_customer(
    tmp_path: Path, row, replacement, message
):
    rows = list(ROWS)
    rows[row] = replacement
    with pytest.raises(InstanceFormatError) as err:
        read_solomon(solomon_file(tmp_path, rows))
    assert str(err.value) == f"R101.txt {message}"


@pytest.mark.parametrize(
    ("fleet", "message"),
    [
        ("  3.5       20", "line 5: VEHICLE NUMBER '3.5' is not a whole number >= 1"),
        ("  3         0", "line 5: VEHICLE CAPACITY '0' is not a whole number >= 1"),
        ("  3", "line 5: 1 values, expected 2 (VEHICLE NUMBER, VEHICLE CAPACITY)"),
    ],
)
def test_solomon_fleet_line_errors_name_the_field(tmp_path: Path, fleet, message):
    path = solomon_file(tmp_path, ROWS)
    path.write_text(path.read_text().replace("  3         20", fleet))
    with pytest.raises(InstanceFormatError) as err:
        read_solomon(path)
    assert str(err.value) == f"R101.txt {message}"


def test_solomon_a_file_without_vehicle_block_names_the_line(tmp_path: Path):
    path = solomon_file(tmp_path, ROWS)
    path.write_text(re.sub(r"VEHICLE\nNUMBER .*\n  3 .*\n", "", path.read_text()))
    with pytest.raises(InstanceFormatError) as err:
        read_solomon(path)
    assert str(err.value) == (
        "R101.txt line 4: not a readable Solomon instance: expected the VEHICLE line, "
        "got 'CUSTOMER'"
    )


# --------------------------------------------------------------------------- Li & Lim

LILIM = """2\t10\t{speed}
0\t0\t0\t0\t0\t100\t0\t0\t0
1\t3\t4\t4\t0\t50\t5\t0\t2
2\t3\t-4\t{delivery}\t0\t80\t5\t1\t0
3\t-6\t0\t3\t0\t90\t5\t0\t4
4\t1\t1\t-3\t0\t95\t5\t3\t0
"""


def lilim_file(tmp_path: Path, speed: str = "1", delivery: str = "-4") -> Path:
    path = tmp_path / "lc.txt"
    path.write_text(LILIM.format(speed=speed, delivery=delivery))
    return path


def test_lilim_speed_divides_travel_time_not_distance(tmp_path: Path):
    slow = read_lilim(lilim_file(tmp_path, speed="1"))
    fast = read_lilim(lilim_file(tmp_path, speed="2.5"))
    assert fast.travel("euclidean").distances[0, 1] == 5
    assert fast.travel("euclidean").durations[0, 1] == 2
    assert np.array_equal(fast.travel("euclidean").distances, slow.travel("euclidean").distances)
    assert np.allclose(fast.travel("euclidean").durations * 2.5, slow.travel("euclidean").durations)
    assert fast.shipments == slow.shipments and fast.vehicles == slow.vehicles
    solution = solve(fast, engine="ortools", time_limit_s=1)
    assert check(fast, solution).ok
    assert solution.summary.distance == pytest.approx(solution.summary.cost)


@pytest.mark.parametrize("speed", ["0", "-1", "fast", "nan", "inf"])
def test_lilim_speed_must_be_a_number_above_zero(tmp_path: Path, speed):
    with pytest.raises(InstanceFormatError) as err:
        read_lilim(lilim_file(tmp_path, speed=speed))
    assert str(err.value) == (
        f"lc.txt: first line: speed '{speed}' is not a number above 0 "
        "(the line is 'vehicles capacity speed')"
    )


def test_lilim_pair_whose_amounts_disagree_is_refused(tmp_path: Path):
    with pytest.raises(InstanceFormatError) as err:
        read_lilim(lilim_file(tmp_path, delivery="-7"))
    assert str(err.value) == (
        "lc.txt: pickup task 1 has demand 4 but its delivery task 2 has -7 (expected -4)"
    )


@pytest.mark.shared
def test_lilim_published_files_read_as_before_and_honour_a_speed(vrp_bench: Path, tmp_path: Path):
    files = sorted((vrp_bench / "pdptw").glob("*.txt"))
    if not files:
        pytest.skip("no Li & Lim files in the shared benchmark folder")
    for path in files:
        problem = read_lilim(path)
        coords = np.array([[float(v) for v in ln.split()[1:3]]
                           for ln in path.read_text().splitlines()[1:] if ln.strip()])  # fmt: skip
        travel = problem.travel("euclidean")
        assert np.array_equal(travel.distances, euclidean(coords, rounded=False))
        assert np.array_equal(travel.durations, travel.distances)
        assert "speed" not in problem.meta
        # the same file at speed 2: distances and everything else the same, travel halved
        lines = path.read_text().splitlines()
        assert lines[0].split()[2] == "1"
        lines[0] = "\t".join([*lines[0].split()[:2], "2"])
        doubled = tmp_path / path.name
        doubled.write_text("\n".join(lines) + "\n")
        fast = read_lilim(doubled)
        assert np.array_equal(fast.travel("euclidean").distances, travel.distances)
        assert np.array_equal(fast.travel("euclidean").durations, travel.distances / 2)
        assert (fast.shipments, fast.vehicles, fast.centres) == (
            problem.shipments, problem.vehicles, problem.centres
        )


def test_lilim_keeps_fractional_times_and_refuses_fractional_demand(tmp_path: Path, tiny_files):
    """Windows and service were truncated to whole numbers, a demand of 3.5 to 3."""
    text = tiny_files["lilim"].read_text()
    path = tmp_path / "frac.txt"
    path.write_text(text.replace("1\t3\t4\t4\t0\t50\t5\t0\t2", "1\t3\t4\t4\t0.5\t50.25\t5.5\t0\t2"))
    pickup = read_lilim(path).shipment("1-2").pickup
    assert (pickup.time_windows[0].start, pickup.time_windows[0].end) == (0.5, 50.25)
    assert pickup.service == 5.5
    path.write_text(text.replace("3\t-6\t0\t3\t", "3\t-6\t0\t3.5\t"))
    with pytest.raises(InstanceFormatError, match=r"frac.txt: task 3: demand 3.5 must be a whole"):
        read_lilim(path)


def test_lilim_short_row_names_its_file_line(tmp_path: Path, tiny_files):
    """The line number counted non-blank lines only."""
    text = tiny_files["lilim"].read_text().replace("\n", "\n\n", 2)  # two blank lines first
    path = tmp_path / "gaps.txt"
    path.write_text(text.replace("3\t-6\t0\t3\t0\t90\t5\t0\t4", "3\t-6\t0\t3\t0\t90\t5\t0"))
    with pytest.raises(InstanceFormatError, match=r"gaps.txt: line 7: a task line has 9 numbers"):
        read_lilim(path)
