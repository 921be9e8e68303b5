"""Build the routing problem of each plan: a firm alone, a coalition pooled, pooled with lockers."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Literal

import numpy as np

from routing.model import Model, Problem, format_time
from routing.pooling.day import DROP_JOB_PREFIX, Day, FleetEntry, Parcel
from routing.pooling.lockers import LockerAssignment, assign_lockers
from routing.pooling.transfer import TransferPrices, transfer_prices
from routing.pooling.travel import DayTravel

PlanKind = Literal["solo", "pooled", "lockers"]
CAPACITY_NAMES = ("parcels", "grams")


@dataclass(frozen=True)
class BuiltPlan:
    """One plan's routing problem and what it needs to be read back per firm and per parcel.

    ``job_parcels`` maps each job to the parcels it delivers (one, or many for a locker drop);
    ``vehicle_type`` maps each vehicle to its day vehicle type (for its CO2 factor);
    ``transfer`` prices a pooled plan's line haul from each firm's depot to the centres;
    ``centre_of`` is set where each firm's parcels must leave from one centre.

    All plans of a day index the same travel matrices (``DayTravel``), cut down to the places each
    problem uses, so their costs are comparable. Capacity has two dimensions: parcels and grams.
    """

    kind: PlanKind
    firms: frozenset[str]
    problem: Problem
    job_parcels: dict[str, tuple[str, ...]]
    vehicle_type: dict[str, str]
    lockers: LockerAssignment | None = None
    transfer: TransferPrices | None = None
    centre_of: dict[str, str] | None = None


def solo_plan(day: Day, travel: DayTravel, firm: str) -> BuiltPlan:
    """The firm alone: its own parcels, from its own depot, with its own fleet."""
    owner = next(f for f in day.firms if f.id == firm)
    depot = f"depot:{firm}"
    builder = _Builder(day, travel, f"{day.name}: {firm} alone", pooled=False)
    builder.centre(depot, travel.places.depot[firm], firm=firm)
    builder.fleet(owner.fleet, centre=depot, firm=firm)
    builder.parcels(day.parcels_of({firm}))
    return builder.build("solo", frozenset({firm}))


def pooled_plan(
    day: Day,
    travel: DayTravel,
    firms: Iterable[str],
    *,
    lockers: bool = False,
    centre_of: Mapping[str, str] | None = None,
) -> BuiltPlan:
    """The coalition's parcels consolidated at the shared centres and routed by the shared fleet.

    With ``lockers``, parcels within walking reach of a locker with a free compartment that
    fits are dropped there (one stop for the lot, or one per deadline: see
    `_Builder.locker_drop`); the rest go to the door.
    With ``centre_of`` (firm -> centre id), each firm's parcels leave from that centre only, so
    each firm drives one line haul: the engines choose centres without seeing the line haul,
    and may split a firm over several centres for a few metres of delivery route.
    """
    members = frozenset(firms)
    parcels = day.parcels_of(members)
    kind: PlanKind = "lockers" if lockers else "pooled"
    label = "pooled with locker drops" if lockers else "pooled"
    name = f"{day.name}: {', '.join(sorted(members))} {label}"
    builder = _Builder(day, travel, name, centre_of=centre_of)
    for centre in day.centres:
        stop = f"centre:{centre.id}"
        builder.centre(stop, travel.places.centre[centre.id])
        skills = _from(centre.id) if centre_of else frozenset()
        builder.fleet(centre.fleet, centre=stop, firm=None, skills=skills)
    centres = {f"centre:{c.id}": c.id for c in day.centres}
    haul = transfer_prices(day, travel, members, centres)
    if not lockers:
        builder.parcels(parcels)
        return builder.build(kind, members, transfer=haul)
    rows = [travel.places.parcel_row[p.id] for p in parcels]
    assignment = assign_lockers(
        parcels,
        day.lockers,
        day.compartments,
        travel.walk_m[rows] if rows else np.zeros((0, len(day.lockers))),
        radius_m=day.travel.walk_radius_m,
    )
    in_locker = assignment.locker_of()
    builder.parcels([p for p in parcels if p.id not in in_locker])
    by_id = {p.id: p for p in parcels}
    for drop in assignment.drops:
        groups: dict[tuple[str | None, float | None], list[Parcel]] = {}
        for parcel_id in drop.parcels:
            parcel = by_id[parcel_id]
            key = (builder.centre_from(parcel), _deadline(parcel))
            groups.setdefault(key, []).append(parcel)
        several_centres = len({centre for centre, _ in groups}) > 1
        several_deadlines = len({due for _, due in groups}) > 1
        for (centre, due), group in groups.items():
            builder.locker_drop(
                drop.locker,
                group,
                centre=centre if several_centres else None,
                due=due,
                name_due=several_deadlines,
            )
    return builder.build(kind, members, lockers=assignment, transfer=haul)


def _deadline(parcel: Parcel) -> float | None:
    """When the parcel must be in its locker: its window's end (None: no window)."""
    return None if parcel.window is None else parcel.window.end


def _from(centre: str | None) -> frozenset[str]:
    """The skill that ties a parcel to the vehicles of one centre (none: any centre's)."""
    return frozenset() if centre is None else frozenset({f"from:{centre}"})


class _Builder:
    """Collects the places a plan uses and maps them onto a cut of the day's matrices.

    ``centre_of`` (firm -> centre id) ties those firms' parcels to that centre's vehicles.
    """

    def __init__(
        self,
        day: Day,
        travel: DayTravel,
        name: str,
        *,
        pooled: bool = True,
        centre_of: Mapping[str, str] | None = None,
    ) -> None:
        self.day = day
        self.travel = travel
        self.model = Model(name=name, capacity_names=CAPACITY_NAMES, pooled=pooled)
        self.local: dict[int, int] = {}  # day place index -> problem location index
        self.job_parcels: dict[str, tuple[str, ...]] = {}
        self.vehicle_type: dict[str, str] = {}
        self.types = day.known_vehicle_types()
        self.centre_of = dict(centre_of) if centre_of is not None else None

    def place(self, index: int) -> int:
        if index not in self.local:
            lat, lon = self.travel.places.points[index]
            name = self.travel.places.names[index]
            self.local[index] = self.model.add_location(lat=lat, lon=lon, name=name)
        return self.local[index]

    def centre(self, centre_id: str, index: int, *, firm: str | None = None) -> None:
        self.model.add_centre(centre_id, location=self.place(index), firm=firm)

    def fleet(
        self,
        fleet: list[FleetEntry],
        *,
        centre: str,
        firm: str | None,
        skills: frozenset[str] = frozenset(),
    ) -> None:
        for n, entry in enumerate(fleet):
            for k in range(entry.count):
                vehicle_id = f"{centre}:{entry.type}:{n}.{k}"
                self.vehicle_type[vehicle_id] = entry.type
                self.model.add_vehicle(
                    vehicle_id,
                    start=centre,
                    end=centre,
                    capacity=(entry.capacity_parcels, round(entry.capacity_kg * 1000)),
                    shift=entry.shift,
                    fixed_cost=entry.fixed_cost,
                    cost_per_km=entry.cost_per_km,
                    cost_per_hour=entry.cost_per_hour,
                    profile=self.types[entry.type].profile,
                    firm=firm,
                    skills=skills,
                )

    def parcels(self, parcels: Iterable[Parcel]) -> None:
        for parcel in parcels:
            self.job_parcels[parcel.id] = (parcel.id,)
            self.model.add_job(
                parcel.id,
                location=self.place(self.travel.places.parcel[parcel.id]),
                delivery=(1, parcel.grams()),
                service=parcel.service_s,
                time_windows=() if parcel.window is None else (parcel.window,),
                firm=parcel.firm,
                skills=self._skills(parcel),
            )

    def locker_drop(
        self,
        locker_id: str,
        parcels: list[Parcel],
        *,
        centre: str | None,
        due: float | None,
        name_due: bool,
    ) -> None:
        """One job per vanload into the locker (usually one: a stop for many parcels).

        ``parcels`` leave from ``centre`` (None: any) and share the deadline ``due`` (None: no
        window). Recipients collect from a locker later, so only a window's "deliver by" end
        binds a drop. The caller groups a locker's parcels by deadline, one drop each, rather
        than giving one drop the earliest deadline of all its parcels: a parcel whose deadline
        no van can meet then fails alone, as it would at the door (where the window's start
        binds too), instead of leaving every parcel in the locker undelivered. A van serving
        two drops of one locker is charged the locker's base time for each; a day has few
        distinct deadlines (a scenario's window classes), so few drops per locker.

        Job ids start with ``DROP_JOB_PREFIX``, which no parcel id may; with ``@centre`` when
        the locker is served from several centres, `` by HH:MM`` when its parcels have several
        deadlines (``name_due``) and ``#k`` for the k-th of several vanloads.
        """
        loads = self._vanloads(parcels)
        base = f"{DROP_JOB_PREFIX}{locker_id}"
        if centre is not None:
            base += f"@{centre}"
        if name_due and due is not None:
            base += f" by {format_time(due)}"
        stop = self.day.locker_stop
        for k, load in enumerate(loads, start=1):
            job_id = self._fresh(base if len(loads) == 1 else f"{base}#{k}")
            self.job_parcels[job_id] = tuple(p.id for p in load)
            self.model.add_job(
                job_id,
                location=self.place(self.travel.places.locker[locker_id]),
                delivery=(len(load), sum(p.grams() for p in load)),
                service=stop.base_s + stop.per_parcel_s * len(load),
                time_windows=(() if due is None else ((0.0, due),)),
                name=f"{len(load)} parcels into locker {locker_id}",
                skills=self._skills(load[0]),
            )

    def _fresh(self, job_id: str) -> str:
        """``job_id``, or with ``~n`` added when already taken: a locker id holding "@", "#"
        or " by " can spell another drop's id (lockers "a@hub" and "a" served from "hub")."""
        fresh, n = job_id, 1
        while fresh in self.job_parcels:
            n += 1
            fresh = f"{job_id}~{n}"
        return fresh

    def centre_from(self, parcel: Parcel) -> str | None:
        """The centre the parcel must leave from (None: any)."""
        return (self.centre_of or {}).get(parcel.firm)

    def _skills(self, parcel: Parcel) -> frozenset[str]:
        return _from(self.centre_from(parcel))

    def _vanloads(self, parcels: list[Parcel]) -> list[list[Parcel]]:
        """Parcels cut into loads that fit the roomiest vehicle (parcels and grams)."""
        room = max((v.capacity for v in self.model.vehicles if v.capacity), default=None)
        if room is None:
            return [parcels]
        loads: list[list[Parcel]] = [[]]
        grams = 0
        for parcel in parcels:
            weight = parcel.grams()
            if loads[-1] and (len(loads[-1]) >= room[0] or grams + weight > room[1]):
                loads.append([])
                grams = 0
            loads[-1].append(parcel)
            grams += weight
        return loads

    def build(
        self,
        kind: PlanKind,
        firms: frozenset[str],
        *,
        lockers: LockerAssignment | None = None,
        transfer: TransferPrices | None = None,
    ) -> BuiltPlan:
        index = np.fromiter(self.local, dtype=np.int64, count=len(self.local))
        profiles = {v.profile for v in self.model.vehicles}
        for profile in sorted(profiles):
            self.model.matrices[profile] = self.travel.cut(profile, index)
        return BuiltPlan(
            kind=kind,
            firms=firms,
            problem=self.model.build(),
            job_parcels=self.job_parcels,
            vehicle_type=self.vehicle_type,
            lockers=lockers,
            transfer=transfer,
            centre_of=self.centre_of,
        )
