"""What the CVRPLIB, Solomon and Li & Lim readers share: Euclidean travel, one depot, one fleet.

Benchmark instances use plane coordinates in their own unit, not latitude and longitude, so the
problems they give have no `locations`; distances and travel times are both the Euclidean
length (in the instance's unit), and every vehicle costs exactly its distance
(`cost_per_km=1000` per thousand units, nothing per hour), which is the benchmarks' objective.
Job ids are the instance's own customer numbers, so a solution can be recomputed by anyone.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import numpy as np

from network.errors import GongpeiError
from routing.model import Centre, Job, Problem, ProblemError, Shipment, Vehicle

PROFILE = "euclidean"
DEPOT = "depot"


class InstanceFormatError(GongpeiError):
    """A benchmark instance file that its reader cannot understand; names the file and part."""


@contextmanager
def reading(path: Path) -> Iterator[None]:
    """Prefix the file name to the model's own error (which names the item and field)."""
    try:
        yield
    except ProblemError as err:
        raise InstanceFormatError(f"{path.name}: {err}") from None


@contextmanager
def naming(item: str) -> Iterator[None]:
    """Name the instance's item (customer or task number) in an error about one of its fields."""
    try:
        yield
    except ProblemError as err:
        field = str(err).split(": ", 1)[-1]  # drop the model's generic "job:" prefix
        raise ProblemError(f"{item}: {field}") from None


def euclidean(coords: np.ndarray, *, rounded: bool) -> np.ndarray:
    """Pairwise Euclidean lengths; `rounded` applies the CVRPLIB rule (nearest integer per arc)."""
    coords = np.asarray(coords, dtype=np.float64)
    diff = coords[:, None, :] - coords[None, :, :]
    lengths = np.sqrt((diff**2).sum(axis=2))
    return np.round(lengths) if rounded else lengths


def benchmark_problem(
    *,
    name: str,
    source: str,
    travel: np.ndarray,
    fleet: int,
    capacity: int | None,
    jobs: Sequence[Job] = (),
    shipments: Sequence[Shipment] = (),
    depot_window: tuple[float, float] | None = None,
    max_duration: float | None = None,
    max_distance: float | None = None,
    meta: dict[str, Any] | None = None,
) -> Problem:
    """A problem with one depot at location 0 and `fleet` identical vehicles v1..vN, each
    route within `max_duration` and `max_distance` where given.

    `travel` serves as both the distance and the travel-time matrix (the benchmarks' rule).
    """
    opening = None if depot_window is None else tuple(map(float, depot_window))
    vehicles = tuple(
        Vehicle(
            id=f"v{k}",
            start=DEPOT,
            end=DEPOT,
            capacity=None if capacity is None else (capacity,),
            shift=opening,
            max_duration=max_duration,
            max_distance=max_distance,
            cost_per_km=1000.0,
            cost_per_hour=0.0,
            profile=PROFILE,
        )
        for k in range(1, fleet + 1)
    )
    matrices = {PROFILE: {"durations": travel, "distances": travel}}
    return Problem(
        name=name,
        centres=(Centre(id=DEPOT, location=0, opening=opening),),
        vehicles=vehicles,
        jobs=tuple(jobs),
        shipments=tuple(shipments),
        matrices=matrices,
        meta={"format": source, "objective": "distance", "int_ids": True, **(meta or {})},
    )


def window(start: float, end: float) -> tuple[tuple[float, float], ...]:
    """A single time window, validated by the job or stop it is given to (so errors name it)."""
    return ((float(start), float(end)),)


def delivery_jobs(
    demand: np.ndarray,
    service: np.ndarray,
    windows: np.ndarray | None,
    ids: Sequence[str] | None = None,
) -> list[Job]:
    """One delivery job per customer row 1..n-1 (row 0 is the depot), id = the row number, or
    `ids[i]` when given (the file's own number for row i, `ids[0]` the depot's, unused); the
    job's location is its row either way."""
    jobs = []
    for i in range(1, len(demand)):
        ident = str(i) if ids is None else ids[i]
        with naming(f"customer {ident}"):
            jobs.append(
                Job(
                    id=ident,
                    location=i,
                    delivery=(int(demand[i]),),
                    service=float(service[i]),
                    time_windows=() if windows is None else window(*windows[i]),
                )
            )
    return jobs
