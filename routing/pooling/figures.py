"""The figures of a plan: vehicle-km, vehicles, driver hours, stops, CO2, parcels and cost."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import asdict, dataclass, fields
from itertools import groupby

from routing.model import Problem
from routing.pooling.day import VehicleType
from routing.pooling.plans import BuiltPlan
from routing.pooling.transfer import TransferFigures
from routing.solution import Route, Solution, Unassigned

#: The units of a compared day's figures, as its summary and a firm's result state them: a
#: cost is in whatever money the day gives its prices in (fleets' and line haul's fixed_cost,
#: cost_per_km and cost_per_hour, unserved_parcel_cost), which the tool never converts.
UNITS: dict[str, str] = {
    "cost": "the day's money: the unit of its prices (fixed_cost, cost_per_km, ...), e.g. CNY",
    "vehicle_km": "km",
    "transfer_km": "km",
    "driver_hours": "h",
    "co2_kg": "kg",
    "distance_m": "m",
    "walked_m": "m",
    "duration_s": "s",
    "arrival_s": "s from the day's midnight, as shifts and windows are given",
}


@dataclass(frozen=True)
class Figures:
    """What a plan costs the city and the firms.

    ``route_cost`` is what the engines minimise (fixed + per km + per hour of travel);
    ``cost`` adds the driver's time at stops (service and waiting, at the vehicle's cost per
    hour: a driver is paid while unloading too, which is where locker drops save) and the
    day's ``unserved_parcel_cost`` for each parcel left undelivered.
    ``stops`` counts places a vehicle parks at (several parcels at one place or a locker drop
    are one stop); ``driver_hours`` is each used vehicle's time from leaving to returning.
    A pooled plan also pays the line haul from each firm's depot to the centres: its cost,
    km, hours and CO2 are inside ``cost``, ``vehicle_km``, ``driver_hours`` and ``co2_kg`` (the
    city sees those trucks too) and are shown on their own as ``transfer_*``; ``vehicles``
    counts delivery vehicles only.
    """

    cost: float = 0.0
    route_cost: float = 0.0
    vehicle_km: float = 0.0
    vehicles: int = 0
    driver_hours: float = 0.0
    stops: int = 0
    co2_kg: float = 0.0
    parcels: int = 0
    parcels_in_lockers: int = 0
    unserved: int = 0
    transfer_cost: float = 0.0
    transfer_km: float = 0.0
    transfer_trips: int = 0

    def as_dict(self) -> dict[str, float | int]:
        """The figures rounded for reports."""
        return {k: round(v, 3) if isinstance(v, float) else v for k, v in asdict(self).items()}


def plan_figures(
    plan: BuiltPlan,
    solution: Solution,
    vehicle_types: Mapping[str, VehicleType],
    *,
    haul: TransferFigures,
    unserved_parcel_cost: float,
) -> Figures:
    """Read a solved plan's figures from its solution (all parcels, whichever firm); ``haul`` is
    the plan's line haul (``transfer_figures``), which the caller also reads legs from."""
    km = co2 = hours = at_stops = 0.0
    stops = 0
    for route in solution.routes:
        at_stops += paid_at_stops(plan.problem, route)
        route_km = route.distance / 1000.0
        km += route_km
        co2 += route_km * vehicle_types[plan.vehicle_type[route.vehicle]].co2_g_per_km / 1000.0
        hours += (route.end_time - route.start_time) / 3600.0
        stops += _stops(plan.problem, route)
    unserved = len(unserved_parcels(plan, solution))
    parcels = sum(len(p) for p in plan.job_parcels.values())
    in_lockers = len(delivered_to_lockers(plan, solution))
    haul_cost = haul.total("cost")
    return Figures(
        cost=solution.summary.cost + at_stops + unserved * unserved_parcel_cost + haul_cost,
        route_cost=solution.summary.cost,
        vehicle_km=km + haul.total("km"),
        vehicles=len(solution.routes),
        driver_hours=hours + haul.total("hours"),
        stops=stops,
        co2_kg=co2 + haul.total("co2_kg"),
        parcels=parcels - unserved,
        parcels_in_lockers=in_lockers,
        unserved=unserved,
        transfer_cost=haul_cost,
        transfer_km=haul.total("km"),
        transfer_trips=int(haul.total("trips")),
    )


def _stops(problem: Problem, route: Route) -> int:
    """Places the route parks at: consecutive tasks at one position are one stop. Each parcel
    has a location of its own in the plan's problem (its door), so parcels for one tower were
    counted a stop each when told apart by location index; their coordinates tell them apart
    (the index only where the problem has none)."""
    places = [_place(problem, s.location) for s in route.task_steps()]
    return sum(1 for _ in groupby(places))


def _place(problem: Problem, index: int | None) -> object:
    """Where a step stands: its coordinates, else its location index."""
    return (problem.coordinates(index) if index is not None else None) or index


def unserved_parcels(plan: BuiltPlan, solution: Solution) -> dict[str, Unassigned]:
    """Each parcel the solution leaves undelivered -> the job the solver left out, with its
    reason (a locker drop left out leaves every parcel in it undelivered, for the drop's reason)."""
    return {parcel: task for task in solution.unassigned for parcel in plan.job_parcels[task.id]}


def delivered_to_lockers(plan: BuiltPlan, solution: Solution) -> dict[str, str]:
    """Parcel id -> its locker, for the parcels the plan puts in a locker and a van brings there.

    The locker assignment is made before routing; a drop the solver then leaves out (a deadline
    no van can meet, say) puts nothing in the locker, so its parcels are not counted here: they
    are undelivered (`unserved_parcels`). Every count of parcels in lockers reads this.
    """
    if plan.lockers is None:
        return {}
    left = unserved_parcels(plan, solution)
    return {p: locker for p, locker in plan.lockers.locker_of().items() if p not in left}


def paid_at_stops(problem: Problem, route: Route) -> float:
    """The driver's paid time at a route's stops (service and waiting at the vehicle's cost per
    hour): the engines' route cost counts only driving, a plan's cost counts this too."""
    per_hour = problem.vehicle(route.vehicle).cost_per_hour
    return per_hour * (route.service + route.waiting) / 3600.0


def total(figures: Iterable[Figures]) -> Figures:
    """Figures of several plans added up (e.g. every firm's solo plan)."""
    sums = {f.name: 0 for f in fields(Figures)}
    for item in figures:
        for name in sums:
            sums[name] += getattr(item, name)
    return Figures(**sums)


def saving_percent(was: float, saved: float) -> float | None:
    """``saved`` as a percentage of ``was`` (2 decimals): 0 where nothing changed, None where
    ``was`` is 0 and something did. A firm whose solo plan cost nothing and whose share of the
    pooled plan is 10.3 was shown "saving 0.0 %", as if pooling cost it nothing; the day's
    `savings` read the same way (a day whose solo plans drive no km)."""
    if saved == 0:
        return 0.0
    return round(100.0 * saved / was, 2) if was else None


def savings(before: Figures, after: Figures) -> dict[str, dict[str, float | None]]:
    """What ``after`` saves against ``before``, per figure: absolute and percent (None where
    ``before`` is 0 and ``after`` is not: `saving_percent`)."""
    out = {}
    for name in ("cost", "vehicle_km", "vehicles", "driver_hours", "stops", "co2_kg"):
        was, now = getattr(before, name), getattr(after, name)
        saved = round(was - now, 3) + 0.0  # + 0.0: a float's crumb below zero wrote "-0.0"
        out[name] = {"saved": saved, "percent": saving_percent(was, saved)}
    return out
