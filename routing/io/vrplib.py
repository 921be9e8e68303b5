"""CVRPLIB instances (VRPLIB format) and their `.sol` solutions (read and written by `vrplib`).

The instance text is parsed by `routing.io._tsplib` (see there why not by `vrplib`). Every
field and section is used or refused by name: a constraint the model would drop (another
section, a multi-depot file, an unknown field) stops the read, never the plan.

Distance rules (`distance_rule`):
- ``nint``: each EUC_2D arc the Euclidean length rounded to the nearest integer (TSPLIB's
  `nint`), the convention under which best-known costs of sets A, B, E, F, M, P and X are
  stated;
- ``exact``: EUC_2D arcs unrounded, as for the sets whose best-known costs are real numbers
  (Christofides-Mingozzi-Toth, Golden et al., Li et al.) and files with service times, a
  route length limit or time windows (read in the instance's own unit);
- ``auto`` (the default): ``exact`` for those (by their field or a NAME starting ``CMT``,
  ``Golden`` or ``Li_``), ``nint`` otherwise.
Other edge weight types follow TSPLIB (CEIL_2D, ATT, GEO, MAN_2D, MAX_2D, EXPLICIT in all nine
layouts) whatever the rule. A route length limit (`DISTANCE`) bounds each route's travel plus
service, as in the Christofides-Mingozzi-Toth sets. Job ids are the instance's customer
numbers as in `.sol` files: the 0-based node index, the depot (node 0) excluded.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import vrplib

from routing.io._benchmark import (
    InstanceFormatError,
    benchmark_problem,
    delivery_jobs,
    reading,
)
from routing.io._tsplib import (
    MATRIX_FORMATS,
    WEIGHT_TYPES,
    TsplibText,
    coordinate_weights,
    explicit_weights,
    parse_tsplib,
)
from routing.model import Problem
from routing.solution import Solution

DISTANCE_RULES = ("auto", "nint", "exact")
#: Fields read; any other is refused (its meaning would be lost).
FIELDS = (
    "NAME", "COMMENT", "TYPE", "DIMENSION", "CAPACITY", "EDGE_WEIGHT_TYPE", "EDGE_WEIGHT_FORMAT",
    "EDGE_DATA_FORMAT", "NODE_COORD_TYPE", "DISPLAY_DATA_TYPE", "DISTANCE", "SERVICE_TIME",
    "VEHICLES",
)  # fmt: skip
SECTIONS = (
    "NODE_COORD_SECTION", "DEMAND_SECTION", "DEPOT_SECTION", "EDGE_WEIGHT_SECTION",
    "TIME_WINDOW_SECTION", "SERVICE_TIME_SECTION", "DISPLAY_DATA_SECTION",
)  # fmt: skip
#: Sets whose best-known costs are stated over unrounded Euclidean arcs.
EXACT_SETS = ("CMT", "Golden", "Li_")


@dataclass(frozen=True)
class VrplibSolution:
    """A `.sol` file: routes as lists of job ids (customer numbers) and the stated cost."""

    routes: list[list[str]]
    cost: float | None


def read_vrplib(
    path: str | Path, *, vehicles: int | None = None, distance_rule: str = "auto"
) -> Problem:
    """Read a VRPLIB (CVRP, optionally with time windows, service times and a route length
    limit) instance.

    The fleet is `vehicles` when given, else the file's VEHICLES, else twice the capacity lower
    bound ceil(total demand / capacity): CVRPLIB fleets are unlimited, and any-fit packing never
    needs more than that many vehicles, so the bound never cuts off a solution that matters.
    With a route length limit (DISTANCE) it is one vehicle per customer instead.
    """
    if distance_rule not in DISTANCE_RULES:
        raise InstanceFormatError(
            f"distance rule must be one of {', '.join(DISTANCE_RULES)}, got '{distance_rule}'"
        )
    path = Path(path)
    text = parse_tsplib(path)
    _refuse_unknown(text)
    n = int(_required(text, "DIMENSION", whole=True, least=2))
    capacity = _required(text, "CAPACITY", whole=True, least=1)
    demand = _demand(text, n)
    _single_depot(text)
    service = _service(text, n)
    windows = text.node_rows("TIME_WINDOW_SECTION", n, 2)
    limit = text.number("DISTANCE", least=0.0)
    exact = _exact(text, distance_rule, service.any() or limit is not None or windows is not None)
    travel = _weights(text, n, exact=exact)
    with reading(path):
        jobs = delivery_jobs(demand, service, windows)
        bound = math.ceil(demand.sum() / capacity)
        # a route length limit may need a vehicle a customer, whatever the load
        enough = n - 1 if limit is not None else min(n - 1, max(2 * bound, bound + 2))
        fleet = vehicles or int(text.number("VEHICLES", whole=True, least=1) or enough)
        return benchmark_problem(
            name=text.text("NAME") or path.stem,
            source="vrplib",
            travel=travel,
            fleet=fleet,
            capacity=int(capacity),
            jobs=jobs,
            depot_window=None if windows is None else tuple(windows[0]),
            # CMT's length counts service; without service both limits are the travel's
            max_duration=limit if service.any() else None,
            max_distance=None if service.any() else limit,
            meta={"distance_rule": _rule_text(text, exact)},
        )


def _refuse_unknown(text: TsplibText) -> None:
    for key, (line, _) in text.fields.items():
        if key not in FIELDS:
            known = ", ".join(FIELDS)
            raise text.error(line, f"{key} is not a VRPLIB field this reader knows ({known})")
    for name, section in text.sections.items():
        if name not in SECTIONS:
            raise text.error(
                section.line,
                f"{name} is not supported (its constraint would be dropped); the sections read "
                f"are {', '.join(SECTIONS)}",
            )
    kind = text.text("TYPE")
    if kind is not None and kind.upper() not in ("CVRP", "VRPTW", "CVRPTW", "DCVRP"):
        raise text.error(text.fields["TYPE"][0], f"TYPE {kind}: only CVRP and VRPTW are read")


def _required(text: TsplibText, key: str, **rule: float | bool) -> float:
    value = text.number(key, **rule)  # type: ignore[arg-type]
    if value is None:
        raise InstanceFormatError(f"{text.path.name}: VRPLIB field {key} missing")
    return value


def _demand(text: TsplibText, n: int) -> np.ndarray:
    """Each node's demand, a whole number >= 0 (the model's amounts are integers)."""
    rows = text.node_rows("DEMAND_SECTION", n, 1)
    if rows is None:
        raise InstanceFormatError(f"{text.path.name}: VRPLIB section DEMAND_SECTION missing")
    demand = rows[:, 0]
    bad = np.flatnonzero((demand < 0) | (demand != np.floor(demand)))
    if bad.size:
        line = next(ln for ln, row in text.sections["DEMAND_SECTION"].rows if row[0] == bad[0] + 1)
        raise text.error(
            line, f"DEMAND_SECTION: node {bad[0] + 1}: demand {demand[bad[0]]:g} must be a whole "
            "number >= 0",
        )
    return demand.astype(np.int64)


def _single_depot(text: TsplibText) -> None:
    section = text.sections.get("DEPOT_SECTION")
    depots = [] if section is None else [v for _, row in section.rows for v in row if v != -1]
    if depots not in ([], [1.0]):
        line = section.line if section is not None else 0
        raise text.error(
            line,
            "DEPOT_SECTION: only a single depot at node 1 is supported "
            f"(got nodes {[int(d) for d in depots]})",
        )


def _service(text: TsplibText, n: int) -> np.ndarray:
    """Each node's service time: its SERVICE_TIME_SECTION row, else the SERVICE_TIME field
    for every customer (CMT), else none."""
    rows = text.node_rows("SERVICE_TIME_SECTION", n, 1)
    if rows is not None:
        if (rows < 0).any():
            raise InstanceFormatError(f"{text.path.name}: SERVICE_TIME_SECTION: a time < 0")
        return rows[:, 0]
    each = text.number("SERVICE_TIME", least=0.0) or 0.0
    service = np.full(n, each)
    service[0] = 0.0  # the depot
    return service


def _exact(text: TsplibText, rule: str, real_valued: bool) -> bool:
    if rule != "auto":
        return rule == "exact"
    name = text.text("NAME") or text.path.stem
    return real_valued or name.startswith(EXACT_SETS)


def _weights(text: TsplibText, n: int, *, exact: bool) -> np.ndarray:
    kind = _choice(text, "EDGE_WEIGHT_TYPE", WEIGHT_TYPES)
    if kind == "EXPLICIT":
        return explicit_weights(text, n, _choice(text, "EDGE_WEIGHT_FORMAT", MATRIX_FORMATS))
    coords = text.node_rows("NODE_COORD_SECTION", n, 2)
    if coords is None:
        raise InstanceFormatError(
            f"{text.path.name}: EDGE_WEIGHT_TYPE {kind} needs NODE_COORD_SECTION (x y per node)"
        )
    return coordinate_weights(coords, kind, exact=exact)


def _choice(text: TsplibText, key: str, allowed: tuple[str, ...]) -> str:
    """The field's value, one of ``allowed`` (in any case)."""
    if key not in text.fields:
        raise InstanceFormatError(f"{text.path.name}: VRPLIB field {key} missing")
    line, value = text.fields[key]
    if value.upper() not in allowed:
        raise text.error(line, f"{key} '{value}' is not read (one of {', '.join(allowed)})")
    return value.upper()


def _rule_text(text: TsplibText, exact: bool) -> str:
    kind = (text.text("EDGE_WEIGHT_TYPE") or "").upper()
    if kind != "EUC_2D":
        return f"{kind} (TSPLIB)"
    return "unrounded Euclidean" if exact else "nearest integer per arc"


def read_solution(path: str | Path) -> VrplibSolution:
    """Read a VRPLIB `.sol` file (`Route #k: ...` lines and `Cost ...`)."""
    path = Path(path)
    try:
        sol = vrplib.read_solution(path)
    except (OSError, ValueError) as err:
        raise InstanceFormatError(f"{path.name}: not a readable VRPLIB solution ({err})") from None
    routes = [[str(int(c)) for c in route] for route in sol.get("routes", [])]
    cost = sol.get("cost")
    return VrplibSolution(routes=routes, cost=None if cost is None else float(cost))


def write_solution(path: str | Path, solution: Solution) -> None:
    """Write a plan for a benchmark problem as a VRPLIB `.sol` file (`Route #k: ...`, `Cost`).

    Visits are written as the instance's task numbers (their matrix rows, as the benchmark
    readers lay them out), so CVRPLIB tools and `read_solution` read it back.
    """
    routes = [[step.location for step in route.task_steps()] for route in solution.routes]
    vrplib.write_solution(path, [r for r in routes if r], {"Cost": _plain(solution.cost)})


def _plain(cost: float) -> int | float:
    return round(cost) if abs(cost - round(cost)) < 1e-9 else round(cost, 2)
