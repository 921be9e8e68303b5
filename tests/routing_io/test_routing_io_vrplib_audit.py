"""VRPLIB files as the CVRPLIB sets write them (the benchmark-format audit's findings): every
field and section used or refused, rows keyed by their node ids, TSPLIB's weight rules."""

from __future__ import annotations

import itertools
import json
import math
from pathlib import Path

import numpy as np
import pytest
from typer.testing import CliRunner

from routing.check import check
from routing.io import read_problem
from routing.io._benchmark import InstanceFormatError
from routing.io.vrplib import read_vrplib
from routing.model import ProblemError
from routing.solve import solve

# depot (0, 0); customers on a 10 x 10 square: (10, 0), (10, 10), (0, 10) and (5, 5)
COORDS = [(0, 0), (10, 0), (10, 10), (0, 10), (5, 5)]


def vrp(tmp_path: Path, *fields: str, sections: str | None = None, name: str = "t") -> Path:
    """A CVRP file of the five nodes above, demand 1 each, with extra fields (before the
    sections) and its own sections if given."""
    coords = "".join(f"{i} {x} {y}\n" for i, (x, y) in enumerate(COORDS, start=1))
    body = sections or (
        f"NODE_COORD_SECTION\n{coords}DEMAND_SECTION\n1 0\n2 1\n3 1\n4 1\n5 1\n"
        "DEPOT_SECTION\n1\n-1\n"
    )
    head = [f"NAME : {name}", "TYPE : CVRP", "DIMENSION : 5", "CAPACITY : 10", *fields]
    if not any(f.startswith("EDGE_WEIGHT_TYPE") for f in fields):
        head.append("EDGE_WEIGHT_TYPE : EUC_2D")
    path = tmp_path / f"{name}.vrp"
    path.write_text("\n".join(head) + "\n" + body + "EOF\n")
    return path


def arcs(problem) -> np.ndarray:
    return problem.travel("euclidean").distances


def test_cmt_route_length_bounds_travel_and_service(tmp_path: Path):
    """DISTANCE was dropped: a single route 4x the limit passed the checker."""
    path = vrp(tmp_path, "DISTANCE : 32", "SERVICE_TIME : 2")
    problem = read_vrplib(path)
    van = problem.vehicles[0]
    assert (van.max_duration, van.max_distance) == (32.0, None)  # travel + service, as CMT
    assert len(problem.vehicles) == 4  # a vehicle a customer: the limit, not the load, binds
    assert [problem.job(j).service for j in "1234"] == [2.0] * 4
    plan = solve(problem, engine="ortools", time_limit_s=1)
    assert check(problem, plan).ok and not plan.unassigned
    for route in plan.routes:
        assert route.duration + route.service <= 32 + 1e-6
    assert len([r for r in plan.routes if r.steps]) >= 2  # one round trip of all is 34 + 8
    without = read_vrplib(vrp(tmp_path, "DISTANCE : 30", name="plain"))
    assert (without.vehicles[0].max_duration, without.vehicles[0].max_distance) == (None, 30.0)


def test_rows_are_keyed_by_their_node_ids(tmp_path: Path):
    """The rows were taken in file order: a reversed DEMAND_SECTION put demands on the wrong
    nodes."""
    coords = "".join(f"{i} {x} {y}\n" for i, (x, y) in reversed(list(enumerate(COORDS, 1))))
    sections = f"NODE_COORD_SECTION\n{coords}DEMAND_SECTION\n5 9\n4 1\n3 2\n2 3\n1 0\n"
    problem = read_vrplib(vrp(tmp_path, sections=sections))
    assert [problem.job(j).delivery for j in "1234"] == [(3,), (2,), (1,), (9,)]
    assert arcs(problem)[0, 1] == 10 and arcs(problem)[0, 4] == 7  # round(5 * sqrt(2))


@pytest.mark.parametrize(
    ("sections", "message"),
    [
        (
            "NODE_COORD_SECTION\n1 0 0\n2 10 0\n3 10 10\n4 0 10\n5 5 5\n"
            "DEMAND_SECTION\n1 0\n2 1\n3 1\n",
            r"t.vrp line 12: DEMAND_SECTION: 3 rows for DIMENSION 5 nodes; node 4 has none",
        ),
        (
            "NODE_COORD_SECTION\n1 0 0\n2 10 0\n3 10 10\n4 0 10\n7 5 5\n"
            "DEMAND_SECTION\n1 0\n2 1\n3 1\n4 1\n5 1\n",
            r"t.vrp line 11: NODE_COORD_SECTION: node 7 is not one of 1..5",
        ),
        (
            "NODE_COORD_SECTION\n1 0 0\n2 10 0\n3 10 10\n4 0 10\n4 5 5\n"
            "DEMAND_SECTION\n1 0\n2 1\n3 1\n4 1\n5 1\n",
            r"line 11: NODE_COORD_SECTION: node 4 is listed twice \(also line 10\)",
        ),
        (
            "NODE_COORD_SECTION\n1 0 0\n2 10 0\n3 10 10\n4 0 10\n5 5 5\n"
            "DEMAND_SECTION\n1 0\n2 2.6\n3 1\n4 1\n5 1\n",
            r"line 14: DEMAND_SECTION: node 2: demand 2.6 must be a whole number >= 0",
        ),
        (
            "NODE_COORD_SECTION\n1 0 0\n2 10 0\n3 10 10\n4 0 10\n5 5 5\n"
            "DEMAND_SECTION\n1 0\n2 1 1\n3 1 1\n4 1 1\n5 1 1\n",
            r"line 14: DEMAND_SECTION: a row holds a node id and 1 value\(s\), got 3",
        ),
        (
            "NODE_COORD_SECTION\n1 0 0\n2 10 0\n3 10 10\n4 0 10\n5 5 5\n"
            "DEMAND_SECTION\n1 0\n2 1\n3 1\n4 1\n5 1\nBACKHAUL_SECTION\n3\n-1\n",
            r"line 18: BACKHAUL_SECTION is not supported \(its constraint would be dropped\)",
        ),
    ],
)
def test_sections_that_do_not_fit_the_dimension_are_refused(tmp_path: Path, sections, message):
    """A short section dropped customers (neither served nor listed), a fractional demand was
    truncated, an unknown section ignored."""
    with pytest.raises(InstanceFormatError, match=message):
        read_vrplib(vrp(tmp_path, sections=sections))


def test_unknown_fields_and_weight_types_are_named(tmp_path: Path):
    with pytest.raises(InstanceFormatError, match=r"line 5: MAX_ROUTE is not a VRPLIB field"):
        read_vrplib(vrp(tmp_path, "MAX_ROUTE : 3"))
    with pytest.raises(InstanceFormatError, match=r"EDGE_WEIGHT_TYPE 'EUC_3D' is not read \(one"):
        read_vrplib(vrp(tmp_path, "EDGE_WEIGHT_TYPE : EUC_3D"))
    with pytest.raises(InstanceFormatError, match=r"VRPLIB field EDGE_WEIGHT_FORMAT missing"):
        read_vrplib(vrp(tmp_path, "EDGE_WEIGHT_TYPE : EXPLICIT"))


def test_a_comment_naming_a_section_or_eof_is_a_comment(tmp_path: Path):
    """Any line holding '_SECTION' was a section to `vrplib` ("Specification presented after
    section"), any line holding 'EOF' the end of the file."""
    path = vrp(tmp_path, "COMMENT : see DEMAND_SECTION; no EOF before the data")
    problem = read_vrplib(path)
    assert len(problem.jobs) == 4 and problem.job("4").delivery == (1,)


def full_matrix() -> np.ndarray:
    x = np.array(COORDS, dtype=float)
    return np.floor(np.hypot(*(x[:, None, :] - x[None, :, :]).transpose(2, 0, 1)) + 0.5)


@pytest.mark.parametrize(
    ("layout", "pairs"),
    [
        ("FULL_MATRIX", lambda n: itertools.product(range(n), range(n))),
        ("UPPER_ROW", lambda n: ((i, j) for i in range(n) for j in range(i + 1, n))),
        ("LOWER_ROW", lambda n: ((i, j) for i in range(n) for j in range(i))),
        ("UPPER_DIAG_ROW", lambda n: ((i, j) for i in range(n) for j in range(i, n))),
        ("LOWER_DIAG_ROW", lambda n: ((i, j) for i in range(n) for j in range(i + 1))),
        ("UPPER_COL", lambda n: ((i, j) for j in range(n) for i in range(j))),
        ("LOWER_COL", lambda n: ((i, j) for j in range(n) for i in range(j + 1, n))),
        ("UPPER_DIAG_COL", lambda n: ((i, j) for j in range(n) for i in range(j + 1))),
        ("LOWER_DIAG_COL", lambda n: ((i, j) for j in range(n) for i in range(j, n))),
    ],
)
def test_every_explicit_layout_wrapped_anyhow(tmp_path: Path, layout, pairs):
    """Five of TSPLIB's nine layouts were refused ("Edge weight type or format unknown"), a
    full matrix wrapped over lines was a numpy error; values are one stream, 3 a line here."""
    weights = full_matrix()
    values = [f"{weights[i, j]:g}" for i, j in pairs(5)]
    lines = "\n".join(" ".join(values[k : k + 3]) for k in range(0, len(values), 3))
    sections = f"EDGE_WEIGHT_SECTION\n{lines}\nDEMAND_SECTION\n1 0\n2 1\n3 1\n4 1\n5 1\n"
    fields = ("EDGE_WEIGHT_TYPE : EXPLICIT", f"EDGE_WEIGHT_FORMAT : {layout}")
    problem = read_vrplib(vrp(tmp_path, *fields, sections=sections))
    np.testing.assert_array_equal(arcs(problem), weights)
    short = sections.replace(f"{lines}\n", f"{lines.rsplit(' ', 1)[0]}\n")
    with pytest.raises(InstanceFormatError, match=rf"EDGE_WEIGHT_SECTION: \d+ values; {layout}"):
        read_vrplib(vrp(tmp_path, *fields, sections=short, name="short"))


@pytest.mark.parametrize(
    ("kind", "a", "b", "weight"),
    [
        ("EUC_2D", (0, 0), (1, 1), 1),  # nint(1.414)
        ("CEIL_2D", (0, 0), (1, 1), 2),
        ("MAN_2D", (0, 0), (3, 4), 7),
        ("MAX_2D", (0, 0), (3, 4), 4),
        ("ATT", (0, 0), (10, 0), 4),  # sqrt(100 / 10) = 3.16: rounded up, not to 3
        ("GEO", (0.0, 0.0), (1.0, 0.0), 112),  # one degree of latitude: 111.3 km, + 1 truncated
        ("GEO", (0.0, 0.0), (0.30, 0.0), 56),  # 0.30 is 0 degrees 30 minutes: 55.7 km
        ("GEO", (0.0, 0.0), (0.50, 0.0), 93),  # 50 minutes; degrees truncated, not rounded to 1
    ],
)
def test_tsplib_weight_rules(tmp_path: Path, kind, a, b, weight):
    sections = f"NODE_COORD_SECTION\n1 {a[0]} {a[1]}\n2 {b[0]} {b[1]}\nDEMAND_SECTION\n1 0\n2 1\n"
    path = vrp(tmp_path, f"EDGE_WEIGHT_TYPE : {kind}", sections=sections)
    path.write_text(path.read_text().replace("DIMENSION : 5", "DIMENSION : 2"))
    problem = read_vrplib(path)
    assert arcs(problem)[0, 1] == arcs(problem)[1, 0] == weight
    assert arcs(problem)[0, 0] == 0


def test_distance_rule_by_set_and_fields(tmp_path: Path):
    """EUC_2D was always rounded, so CMT, Golden and time-window files reported costs off
    their real-valued best-known ones (C101 in VRPLIB form: 829 against 828.94)."""
    diagonal = 5 * math.sqrt(2)
    assert arcs(read_vrplib(vrp(tmp_path, name="X-n5-k1")))[0, 4] == 7
    assert arcs(read_vrplib(vrp(tmp_path, name="CMT1")))[0, 4] == pytest.approx(diagonal)
    assert arcs(read_vrplib(vrp(tmp_path, name="Golden_1")))[0, 4] == pytest.approx(diagonal)
    served = read_vrplib(vrp(tmp_path, "SERVICE_TIME : 1", name="svc"))
    assert arcs(served)[0, 4] == pytest.approx(diagonal)
    assert arcs(read_vrplib(vrp(tmp_path, name="CMT2"), distance_rule="nint"))[0, 4] == 7
    exact = read_vrplib(vrp(tmp_path, name="X-n5-k2"), distance_rule="exact")
    assert exact.meta["distance_rule"] == "unrounded Euclidean"
    with pytest.raises(InstanceFormatError, match="distance rule must be one of auto, nint"):
        read_vrplib(vrp(tmp_path), distance_rule="round")


def test_cli_distance_rule(tmp_path: Path, tiny_files):
    from api.cli.main import app

    out = tmp_path / "plan.json"
    args = ["solve", str(vrp(tmp_path, name="CMT9")), "-o", str(out), "--time-limit", "0.5"]
    done = CliRunner().invoke(app, [*args, "--distance-rule", "nint", "-q"])
    assert done.exit_code == 0, done.stderr
    assert "distances: nearest integer per arc" in done.stderr
    assert json.loads(out.read_text())["summary"]["cost"] == 44  # 10 + 10 + 10 + 7 + 7, rounded
    solomon = ["solve", str(tiny_files["solomon"]), "-o", str(out), "--distance-rule", "exact"]
    refused = CliRunner().invoke(app, solomon)  # `run` turns it into one line and exit code 2
    assert isinstance(refused.exception, ProblemError)
    assert str(refused.exception).startswith("--distance-rule: only VRPLIB files have a choice")
    assert read_problem(tiny_files["vrplib"], distance_rule="exact").meta["distance_rule"] == (
        "unrounded Euclidean"
    )
