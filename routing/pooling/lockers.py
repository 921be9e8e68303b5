"""Which parcels go into which locker: most parcels into free compartments that fit."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np
from ortools.graph.python import min_cost_flow

from routing.pooling.day import DOOR_ONLY_SIZE, Locker, Parcel
from routing.pooling.errors import PoolingError

#: Walking metres a parcel "pays" for each compartment size above the smallest that fits, so
#: small parcels leave the big compartments to the parcels that need them.
_SIZE_STEP_M = 1


@dataclass(frozen=True)
class LockerDrop:
    """One locker stop: the parcels loaded into it and the compartments they take, by size."""

    locker: str
    parcels: tuple[str, ...]
    compartments: dict[str, int]


@dataclass(frozen=True)
class LockerAssignment:
    """The locker drops of a day and the parcels that still go to the door (with a reason)."""

    drops: list[LockerDrop]
    to_door: dict[str, str] = field(default_factory=dict)

    def locker_of(self) -> dict[str, str]:
        """Parcel id -> the locker it is dropped at."""
        return {p: d.locker for d in self.drops for p in d.parcels}


def fitting_sizes(
    parcel_size: str | Sequence[float], compartments: Mapping[str, Sequence[float]]
) -> list[str]:
    """Compartment sizes a parcel fits in (any orientation), smallest volume first.

    ``parcel_size`` is a compartment size name (fits that size and every larger one), "XL"
    (``DOOR_ONLY_SIZE``: fits none; the day refuses a compartment of that name), or the
    parcel's dimensions in cm.
    """
    if isinstance(parcel_size, str):
        if parcel_size == DOOR_ONLY_SIZE:
            return []
        dims = sorted(compartments[parcel_size])
    else:
        dims = sorted(parcel_size)
    fits = [
        name
        for name, inner in compartments.items()
        if all(a <= b for a, b in zip(dims, sorted(inner), strict=True))
    ]
    return sorted(fits, key=lambda name: float(np.prod(compartments[name])))


def assign_lockers(
    parcels: Sequence[Parcel],
    lockers: Sequence[Locker],
    compartments: Mapping[str, Sequence[float]],
    walk_m: np.ndarray,
    *,
    radius_m: float,
) -> LockerAssignment:
    """Put as many parcels as fit into lockers within ``radius_m`` walk of their recipients.

    ``walk_m[i, k]`` is the walking distance in metres from parcel i's recipient to locker k
    (np.inf where out of reach). A parcel whose recipient chose a locker (``parcel.locker``)
    goes there or to the door, whatever the distance.

    A parcel may go to a locker when its recipient is within the walking radius of it (or chose it
    as the drop point) and the locker has a free compartment of the parcel's size or larger. Which
    parcels get which compartments is a max-flow min-cost problem (parcel -> locker compartment size
    -> sink, capacities = free compartments), solved with OR-Tools' min-cost flow: as many parcels
    as possible in lockers, then the least walking and the smallest compartments.
    """
    if walk_m.shape != (len(parcels), len(lockers)):
        raise PoolingError(
            f"lockers: walking distances have shape {walk_m.shape}, "
            f"expected {(len(parcels), len(lockers))} (parcels x lockers)"
        )
    column = {lk.id: k for k, lk in enumerate(lockers)}
    slots = [(k, size) for k, lk in enumerate(lockers) for size, n in lk.free.items() if n > 0]
    slot_index = {slot: 2 + len(parcels) + s for s, slot in enumerate(slots)}
    starts: list[int] = []
    ends: list[int] = []
    caps: list[int] = []
    costs: list[int] = []
    candidate_arcs: list[tuple[int, int, str]] = []  # (parcel, locker, size) per parcel arc
    to_door: dict[str, str] = {}
    for i, parcel in enumerate(parcels):
        sizes = fitting_sizes(parcel.size, compartments)
        if not sizes:
            to_door[parcel.id] = "too large for any locker compartment"
            continue
        if parcel.locker is not None:
            reach = [column[parcel.locker]]
        else:
            reach = [k for k in range(len(lockers)) if walk_m[i, k] <= radius_m]
        options = 0
        for k in reach:
            walk = walk_m[i, k] if np.isfinite(walk_m[i, k]) else 0.0
            for rank, size in enumerate(sizes):
                if (k, size) in slot_index:
                    starts.append(2 + i)
                    ends.append(slot_index[(k, size)])
                    caps.append(1)
                    costs.append(round(walk) + rank * _SIZE_STEP_M)
                    candidate_arcs.append((i, k, size))
                    options += 1
        if options == 0:
            to_door[parcel.id] = _no_option_reason(parcel, reach, lockers, sizes)
    arcs_from_parcels = len(starts)
    for i, parcel in enumerate(parcels):
        if parcel.id not in to_door:
            starts.append(0)
            ends.append(2 + i)
            caps.append(1)
            costs.append(0)
    for (k, size), node in slot_index.items():
        starts.append(node)
        ends.append(1)
        caps.append(lockers[k].free[size])
        costs.append(0)
    flow = _max_flow_min_cost(starts, ends, caps, costs)
    placed: dict[int, list[tuple[int, str]]] = {}
    for arc in np.flatnonzero(flow[:arcs_from_parcels] > 0):
        i, k, size = candidate_arcs[arc]
        placed.setdefault(k, []).append((i, size))
    drops = []
    for k in sorted(placed):
        used: dict[str, int] = {}
        for _, size in placed[k]:
            used[size] = used.get(size, 0) + 1
        ids = tuple(parcels[i].id for i, _ in sorted(placed[k]))
        drops.append(LockerDrop(locker=lockers[k].id, parcels=ids, compartments=used))
    in_locker = {p for d in drops for p in d.parcels}
    for parcel in parcels:
        if parcel.id not in in_locker and parcel.id not in to_door:
            to_door[parcel.id] = "every fitting compartment in reach went to other parcels"
    return LockerAssignment(drops=drops, to_door=to_door)


def _no_option_reason(
    parcel: Parcel, reach: list[int], lockers: Sequence[Locker], sizes: list[str]
) -> str:
    if parcel.locker is not None:
        locker = lockers[reach[0]]
        free = ", ".join(f"{s} {n}" for s, n in locker.free.items()) or "none"
        return (
            f"locker '{locker.id}' (the recipient's choice) has no free compartment of size "
            f"{'/'.join(sizes)} (free: {free})"
        )
    if not reach:
        return "no locker within walking radius"
    return f"no free compartment of size {'/'.join(sizes)} in the lockers within walking radius"


def _max_flow_min_cost(
    starts: list[int], ends: list[int], caps: list[int], costs: list[int]
) -> np.ndarray:
    """Flow on each arc of the most flow from node 0 to node 1 at the least cost."""
    if not starts:
        return np.zeros(0, dtype=np.int64)
    solver = min_cost_flow.SimpleMinCostFlow()
    arcs = solver.add_arcs_with_capacity_and_unit_cost(
        np.asarray(starts), np.asarray(ends), np.asarray(caps), np.asarray(costs)
    )
    out_of_source = sum(c for s, c in zip(starts, caps, strict=True) if s == 0)
    solver.set_node_supply(0, out_of_source)
    solver.set_node_supply(1, -out_of_source)
    status = solver.solve_max_flow_with_min_cost()
    if status != solver.OPTIMAL:
        raise PoolingError(f"lockers: the compartment assignment did not solve (status {status})")
    return np.asarray(solver.flows(arcs))
