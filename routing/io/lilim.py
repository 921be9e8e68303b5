"""Li & Lim (2001) pickup-and-delivery instances (SINTEF text format) as problems with shipments."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from routing.io._benchmark import (
    InstanceFormatError,
    benchmark_problem,
    euclidean,
    naming,
    reading,
    window,
)
from routing.model import Problem, Shipment, ShipmentStop


@dataclass(frozen=True)
class LiLimInstance:
    """The numbers of a Li & Lim file, row 0 being the depot.

    `pairs` lists (pickup row, delivery row) for every task; the rows are the file's own task ids.
    """

    name: str
    vehicles: int
    capacity: int
    coords: np.ndarray  # (n, 2) float
    demand: np.ndarray  # (n,) int, positive at pickups, negative at deliveries
    time_window: np.ndarray  # (n, 2) int
    service_time: np.ndarray  # (n,) int
    pairs: list[tuple[int, int]]


def parse_lilim(path: str | Path) -> LiLimInstance:
    """Parse a Li & Lim file: a `vehicles capacity speed` line, then one line per task.

    Each task line is `id x y demand ready due service pickup_sibling delivery_sibling`; a pickup
    has pickup_sibling 0 and names its delivery, a delivery names its pickup.
    """
    path = Path(path)
    try:
        lines = [ln.split() for ln in path.read_text().splitlines() if ln.strip()]
    except (OSError, UnicodeDecodeError) as err:
        raise InstanceFormatError(f"{path.name}: cannot read ({err})") from None
    if not lines or len(lines[0]) < 2:
        raise InstanceFormatError(f"{path.name}: first line must be 'vehicles capacity speed'")
    for number, line in enumerate(lines[1:], start=2):
        if len(line) != 9:
            raise InstanceFormatError(f"{path.name}: line {number}: a task line has 9 numbers")
    try:
        vehicles, capacity = int(lines[0][0]), int(lines[0][1])
        rows = np.array([[float(v) for v in ln] for ln in lines[1:]]).reshape(-1, 9)
    except ValueError as err:
        raise InstanceFormatError(f"{path.name}: non-numeric value ({err})") from None
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
        time_window=rows[:, 4:6].astype(int),
        service_time=rows[:, 6].astype(int),
        pairs=pairs,
    )


def read_lilim(path: str | Path) -> Problem:
    """Read a Li & Lim PDPTW file as a problem of shipments.

    Each task pair becomes shipment "P-D" whose pickup step has id "P" and delivery step id "D"
    (the file's task numbers). Distance = travel time = unrounded Euclidean length, compared with
    the best-known distance at 2 decimals; the fleet is the file's vehicle count.
    """
    inst = parse_lilim(path)
    tw, service = inst.time_window, inst.service_time

    def stop(i: int) -> ShipmentStop:
        with naming(f"task {i}"):
            return ShipmentStop(id=str(i), location=i, service=float(service[i]),
                                time_windows=window(*tw[i]))  # fmt: skip

    with reading(path):
        shipments = [
            Shipment(id=f"{p}-{d}", pickup=stop(p), delivery=stop(d), amount=(int(inst.demand[p]),))
            for p, d in inst.pairs
        ]
        return benchmark_problem(
            name=inst.name,
            source="lilim",
            travel=euclidean(inst.coords, rounded=False),
            fleet=inst.vehicles,
            capacity=inst.capacity,
            shipments=shipments,
            depot_window=tuple(tw[0]),
            meta={"distance_rule": "unrounded Euclidean, compared at 2 decimals"},
        )
