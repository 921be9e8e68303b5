"""Solomon (1987) VRPTW instances in their original text format.

Distance convention: travel time = distance = unrounded Euclidean length (double precision);
the plan's total distance is compared with the distance-only best-known values at 2 decimals.
The fleet is the file's VEHICLE NUMBER; the depot's ready/due times bound every vehicle's shift.
Job ids are the file's CUST NO. values (the first customer row, the depot, excluded, whatever
its number); a job's location index is its row position (the depot 0).

The reader parses the rows itself rather than through `vrplib.read_instance(...,
instance_format="solomon")`: that parser reads the rows with `np.genfromtxt(dtype=int)`, which
silently turns any non-integer field (a coordinate of 55.5, say) into -1, drops the CUST NO.
column, and reports a bad row in a two-line numpy message counting data lines only. Here
coordinates and times are read as written (floats), the vehicle number, capacity and demands
must be whole (the model's amounts are integers), and every error is one line naming the file,
the file's line number (every line counted from 1) and the customer number.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from routing.io._benchmark import (
    InstanceFormatError,
    benchmark_problem,
    delivery_jobs,
    euclidean,
    reading,
)
from routing.model import MAX_AMOUNT, Problem

#: The seven numbers of a customer row, in file order.
FIELDS = ("CUST NO.", "XCOORD.", "YCOORD.", "DEMAND", "READY TIME", "DUE DATE", "SERVICE TIME")
#: The words the customer header line must hold (some files space them unevenly).
HEADER = ("CUST", "NO.", "XCOORD.", "YCOORD.", "DEMAND", "READY", "DUE", "DATE", "SERVICE", "TIME")


@dataclass(frozen=True)
class SolomonInstance:
    """The numbers of a Solomon file, row 0 being the depot.

    `ids` holds each row's CUST NO. as written in whole numbers ("0", "1", ...); the job of row
    i has id `ids[i]` and location i.
    """

    name: str
    vehicles: int
    capacity: int
    ids: list[str]
    coords: np.ndarray  # (n, 2) float
    demand: np.ndarray  # (n,) int
    time_window: np.ndarray  # (n, 2) float: READY TIME, DUE DATE
    service_time: np.ndarray  # (n,) float


def _number(text: str) -> float | None:
    """The finite number a field holds, or None."""
    try:
        value = float(text)
    except ValueError:
        return None
    return value if math.isfinite(value) else None


def _whole(value: float | None) -> int | None:
    """The whole number `value` is (10 and 10.0 alike), or None."""
    return int(value) if value is not None and value == int(value) else None


def parse_solomon(path: str | Path) -> SolomonInstance:
    """Parse a Solomon file: a name line, `VEHICLE`, a `NUMBER CAPACITY` header and its two
    numbers, `CUSTOMER`, a column header, then one row of 7 numbers per customer (the depot
    first). Blank lines (and lines starting with `#`), CRLF and tabs may appear anywhere."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8-sig")  # a byte order mark is no name
    except (OSError, UnicodeDecodeError) as err:
        raise InstanceFormatError(f"{path.name}: not a readable Solomon instance ({err})") from None
    lines = [
        (number, line.strip())
        for number, line in enumerate(text.splitlines(), start=1)
        if line.strip() and not line.strip().startswith("#")
    ]

    def fail(number: int, message: str) -> InstanceFormatError:
        return InstanceFormatError(f"{path.name} line {number}: {message}")

    def expect(index: int, what: str, words: Sequence[str]) -> None:
        if index >= len(lines):
            raise InstanceFormatError(
                f"{path.name}: not a readable Solomon instance: the file ends before the {what}"
            )
        number, line = lines[index]
        if not all(word in line.upper() for word in words):
            shown = line if len(line) <= 40 else line[:37] + "..."
            raise fail(
                number, f"not a readable Solomon instance: expected the {what}, got '{shown}'"
            )

    expect(1, "VEHICLE line", ["VEHICLE"])
    expect(2, "'NUMBER CAPACITY' header", ["NUMBER", "CAPACITY"])
    expect(3, "vehicle number and capacity", [])
    number, fleet_fields = lines[3][0], lines[3][1].split()
    if len(fleet_fields) != 2:
        raise fail(
            number, f"{len(fleet_fields)} values, expected 2 (VEHICLE NUMBER, VEHICLE CAPACITY)"
        )
    fleet_capacity = []
    for field, raw in zip(("VEHICLE NUMBER", "VEHICLE CAPACITY"), fleet_fields, strict=True):
        value = _whole(_number(raw))
        if value is None or value < 1:
            raise fail(number, f"{field} '{raw}' is not a whole number >= 1")
        fleet_capacity.append(value)
    expect(4, "CUSTOMER line", ["CUSTOMER"])
    expect(5, "customer header (CUST NO. XCOORD. ... SERVICE TIME)", HEADER)
    if len(lines) < 7:
        raise InstanceFormatError(
            f"{path.name}: not a readable Solomon instance: no customer rows (the depot first)"
        )

    ids: list[str] = []
    rows: list[list[float]] = []
    seen: dict[int, int] = {}
    for number, line in lines[6:]:
        fields = line.split()
        cust = _whole(_number(fields[0]))
        if cust is None or cust < 0:
            raise fail(number, f"CUST NO. '{fields[0]}' is not a whole number >= 0")
        who = f"customer {cust}"
        if len(fields) != len(FIELDS):
            raise fail(
                number,
                f"{who}: {len(fields)} values, expected {len(FIELDS)} ({', '.join(FIELDS)})",
            )
        if cust in seen:
            raise fail(number, f"{who}: CUST NO. {cust} already used on line {seen[cust]}")
        seen[cust] = number
        values = [float(cust)]
        for field, raw in zip(FIELDS[1:], fields[1:], strict=True):
            value = _number(raw)
            if value is None:
                raise fail(number, f"{who}: {field} '{raw}' is not a number")
            values.append(value)
        _, _, _, demand, ready, due, service = values
        raw_demand, raw_ready, raw_due, raw_service = fields[3:]
        if _whole(demand) is None or demand < 0:
            raise fail(
                number,
                f"{who}: DEMAND {raw_demand} is not a whole number >= 0 (amounts are integers)",
            )
        if demand > MAX_AMOUNT:
            raise fail(number, f"{who}: DEMAND {raw_demand} is above {MAX_AMOUNT}")
        for field, value, raw in (("READY TIME", ready, raw_ready), ("DUE DATE", due, raw_due),
                                  ("SERVICE TIME", service, raw_service)):  # fmt: skip
            if value < 0:
                raise fail(number, f"{who}: {field} {raw} is negative")
        if ready > due:
            raise fail(number, f"{who}: READY TIME {raw_ready} is after DUE DATE {raw_due}")
        ids.append(str(cust))
        rows.append(values)

    table = np.array(rows, dtype=np.float64)
    return SolomonInstance(
        name=lines[0][1],
        vehicles=fleet_capacity[0],
        capacity=fleet_capacity[1],
        ids=ids,
        coords=table[:, 1:3],
        demand=table[:, 3].astype(np.int64),
        time_window=table[:, 4:6],
        service_time=table[:, 6],
    )


def read_solomon(path: str | Path) -> Problem:
    """Read a Solomon VRPTW text file (VEHICLE block, then one line per customer)."""
    path = Path(path)
    inst = parse_solomon(path)
    with reading(path):
        jobs = delivery_jobs(inst.demand, inst.service_time, inst.time_window, ids=inst.ids)
        return benchmark_problem(
            name=inst.name,
            source="solomon",
            travel=euclidean(inst.coords, rounded=False),
            fleet=inst.vehicles,
            capacity=inst.capacity,
            jobs=jobs,
            depot_window=tuple(inst.time_window[0]),
            meta={"distance_rule": "unrounded Euclidean, compared at 2 decimals"},
        )
