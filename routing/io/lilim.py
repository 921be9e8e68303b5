"""Li & Lim (2001) pickup-and-delivery instances (SINTEF text format) as problems with shipments.

The first line is `vehicles capacity speed` (some copies drop the speed, read as 1): distance is
the Euclidean length and travel time that length divided by the speed (every published file has
speed 1, where the two agree).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from routing.io._benchmark import (
    PROFILE,
    InstanceFormatError,
    benchmark_problem,
    euclidean,
    naming,
    reading,
    window,
)
from routing.model import Problem, Shipment, ShipmentStop, TravelMatrices


@dataclass(frozen=True)
class LiLimInstance:
    """The numbers of a Li & Lim file, row 0 being the depot.

    `pairs` lists (pickup row, delivery row) for every task; the rows are the file's own task ids.
    `speed` divides the Euclidean length to give the travel time (1 when the file omits it).
    """

    name: str
    vehicles: int
    capacity: int
    coords: np.ndarray  # (n, 2) float
    demand: np.ndarray  # (n,) int, positive at pickups, negative at deliveries
    time_window: np.ndarray  # (n, 2) float
    service_time: np.ndarray  # (n,) float
    pairs: list[tuple[int, int]]
    speed: float = 1.0


def parse_lilim(path: str | Path) -> LiLimInstance:
    """Parse a Li & Lim file: a `vehicles capacity speed` line (speed may be left out: 1),
    then one line per task.

    Each task line is `id x y demand ready due service pickup_sibling delivery_sibling`; a pickup
    has pickup_sibling 0 and names its delivery, a delivery names its pickup, and the delivery's
    demand is minus the pickup's. The speed must be a number above 0.
    """
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8-sig").splitlines()  # a byte order mark is no value
    except (OSError, UnicodeDecodeError) as err:
        raise InstanceFormatError(f"{path.name}: cannot read ({err})") from None
    numbered = [(no, ln.split()) for no, ln in enumerate(text, start=1) if ln.strip()]
    lines = [line for _, line in numbered]
    vehicles, capacity, speed = _first_line(path, lines[0] if lines else [])
    for number, line in numbered[1:]:
        if len(line) != 9:
            raise InstanceFormatError(
                f"{path.name}: line {number}: a task line has 9 numbers, got {len(line)}"
            )
    try:
        rows = np.array([[float(v) for v in ln] for ln in lines[1:]]).reshape(-1, 9)
    except ValueError as err:
        raise InstanceFormatError(f"{path.name}: non-numeric value ({err})") from None
    fractional = np.flatnonzero(rows[:, 3] != np.round(rows[:, 3]))
    if fractional.size:  # the model's amounts are whole numbers
        row = rows[fractional[0]]
        raise InstanceFormatError(
            f"{path.name}: task {row[0]:g}: demand {row[3]:g} must be a whole number"
        )
    ids = rows[:, 0].astype(int)
    if not np.array_equal(ids, np.arange(len(rows))):
        raise InstanceFormatError(f"{path.name}: task ids must run 0, 1, 2, ... with 0 the depot")
    pairs = []
    for row in rows[1:]:
        task, pickup_of, delivery_of = int(row[0]), int(row[7]), int(row[8])
        if pickup_of == 0 and delivery_of > 0:
            if not 0 < delivery_of < len(rows) or int(rows[delivery_of, 7]) != task:
                raise InstanceFormatError(
                    f"{path.name}: task {task}: delivery sibling {delivery_of} does not name it "
                    "as its pickup"
                )
            if rows[delivery_of, 3] != -row[3]:
                raise InstanceFormatError(
                    f"{path.name}: pickup task {task} has demand {row[3]:g} but its delivery task "
                    f"{delivery_of} has {rows[delivery_of, 3]:g} (expected {-row[3]:g})"
                )
            pairs.append((task, delivery_of))
        elif not (delivery_of == 0 and pickup_of > 0):
            raise InstanceFormatError(f"{path.name}: task {task}: is neither pickup nor delivery")
    if 2 * len(pairs) != len(rows) - 1:
        raise InstanceFormatError(f"{path.name}: some deliveries have no pickup")
    return LiLimInstance(
        name=path.stem,
        vehicles=vehicles,
        capacity=capacity,
        coords=rows[:, 1:3],
        demand=rows[:, 3].astype(int),
        time_window=rows[:, 4:6],
        service_time=rows[:, 6],
        pairs=pairs,
        speed=speed,
    )


def _first_line(path: Path, values: list[str]) -> tuple[int, int, float]:
    """The first line's vehicles, capacity and speed. Published files have all three; some
    copies drop the speed, which then is 1 (every published file's). Any other count of
    values is refused: a file without this line (its first line the depot's task line, 9
    values) was read with 0 vehicles, and a value too many was ignored."""
    if len(values) not in (2, 3):
        raise InstanceFormatError(
            f"{path.name}: first line must be 'vehicles capacity speed' (or 'vehicles "
            f"capacity'), got {len(values)} values"
        )
    vehicles = _positive_int(path, "vehicles", values[0])
    capacity = _positive_int(path, "capacity", values[1])
    return vehicles, capacity, _speed(path, values[2]) if len(values) == 3 else 1.0


def _positive_int(path: Path, field: str, text: str) -> int:
    """A whole number above 0 of the first line (a fleet of 0 vans or 0 capacity is no
    instance: it failed later as the model's "vehicles: at least 1 item")."""
    if not text.isdecimal() or int(text) < 1:
        raise InstanceFormatError(
            f"{path.name}: first line: {field} '{text}' is not a whole number above 0 "
            "(the line is 'vehicles capacity speed')"
        )
    return int(text)


def _speed(path: Path, text: str) -> float:
    """The first line's speed: a finite number above 0."""
    try:
        speed = float(text)
    except ValueError:
        speed = math.nan
    if not (math.isfinite(speed) and speed > 0):
        raise InstanceFormatError(
            f"{path.name}: first line: speed '{text}' is not a number above 0 "
            "(the line is 'vehicles capacity speed')"
        )
    return speed


def read_lilim(path: str | Path) -> Problem:
    """Read a Li & Lim PDPTW file as a problem of shipments.

    Each task pair becomes shipment "P-D" whose pickup step has id "P" and delivery step id "D"
    (the file's task numbers). Distance = unrounded Euclidean length, compared with the
    best-known distance at 2 decimals; travel time = distance / the file's speed (equal to the
    distance at speed 1, as in every published file); the fleet is the file's vehicle count.
    """
    inst = parse_lilim(path)
    tw, service = inst.time_window, inst.service_time

    def stop(i: int) -> ShipmentStop:
        with naming(f"task {i}"):
            return ShipmentStop(id=str(i), location=i, service=float(service[i]),
                                time_windows=window(*tw[i]))  # fmt: skip

    distances = euclidean(inst.coords, rounded=False)
    with reading(path):
        shipments = [
            Shipment(id=f"{p}-{d}", pickup=stop(p), delivery=stop(d), amount=(int(inst.demand[p]),))
            for p, d in inst.pairs
        ]
        problem = benchmark_problem(
            name=inst.name,
            source="lilim",
            travel=distances,
            fleet=inst.vehicles,
            capacity=inst.capacity,
            shipments=shipments,
            depot_window=tuple(tw[0]),
            meta={"distance_rule": "unrounded Euclidean, compared at 2 decimals"},
        )
        if inst.speed == 1:
            return problem
        durations = distances / inst.speed
        travel = TravelMatrices(durations=durations, distances=distances)
        return problem.replace(
            matrices={PROFILE: travel}, meta={**problem.meta, "speed": inst.speed}
        )
