"""The scenario's day through routing.pooling; its result as figures, savings and route layers."""

from typing import Any

from api.scenario.demand import DayParcel
from api.scenario.mapdata import MapGraphs
from api.scenario.schema import Fleet, Scenario
from api.scenario.sites import OpenLocker
from routing.pooling.compare import DayResult, SolvedPlan
from routing.pooling.day import Day, parse_day
from routing.pooling.figures import paid_at_stops
from routing.pooling.output import route_features
from routing.pooling.plans import PlanKind
from routing.pooling.transfer import Along


def build_day(
    spec: Scenario,
    maps: MapGraphs,
    source: str,
    parcels: list[DayParcel],
    lockers: list[OpenLocker],
) -> Day:
    """The scenario's day in routing.pooling's model (places resolved on the map)."""
    data = {
        "name": spec.name,
        "travel": {"source": source, "walk_radius_m": spec.siting.radius_m},
        "firms": [
            {
                "id": f.name,
                "depot": list(maps.place(f.depot)),
                "fleet": [_fleet(entry) for entry in f.fleet],
            }
            for f in spec.firms
        ],
        "centres": [
            {
                "id": c.id,
                "at": list(maps.place(c.at)),
                "fleet": [_fleet(entry) for entry in c.fleet],
            }
            for c in spec.centres
        ],
        "lockers": [{"id": lk.id, "at": [lk.lat, lk.lon], "free": lk.free} for lk in lockers],
        "parcels": [
            {
                "id": p.id,
                "firm": p.firm,
                "at": [p.lat, p.lon],
                "size": p.size,
                "service_s": p.service_s,
                "window": list(p.window) if p.window else None,
            }
            for p in parcels
        ],
        "vehicle_types": {
            name: {"co2_g_per_km": grams, "profile": name}
            for name, grams in spec.run.co2_g_per_km.items()
        },
        "unserved_parcel_cost": spec.run.unserved_parcel_cost,
        "transfer": spec.run.transfer.model_dump() if spec.run.transfer else None,
    }
    return parse_day(data)


def _fleet(entry: Fleet) -> dict[str, Any]:
    start, end = entry.shift.seconds()
    return {
        "type": entry.profile,
        "count": entry.count,
        "capacity_parcels": entry.capacity,
        "cost_per_km": entry.cost_per_km,
        "cost_per_hour": entry.cost_per_hour,
        "fixed_cost": entry.fixed_cost,
        "shift": [start, end],
    }


def pooled_kinds(locker_drops: bool) -> tuple[PlanKind, ...]:
    """The pooled plans a scenario reports: with locker drops unless its run turns them off."""
    return ("pooled", "lockers") if locker_drops else ("pooled",)


#: Every routing solve stops at its time limit rather than at a proven optimum, so the figures
#: depend on how much search the machine fits into that time: said in summary.json and the report.
RUN_TO_RUN_NOTE = (
    "Each plan is solved by a search that stops at its time limit, so the same scenario and seed "
    "can give slightly different routes, costs and shares from one run to the next, more so on "
    "a busy machine."
)


def result_summary(result: DayResult) -> dict[str, Any]:
    """Plans, savings, splits, each split's best arrangement (`DayResult.best_arrangement`) and
    per-firm rows for summary.json and the report (the locker drops where the day was compared
    with them). Each plan's undelivered parcels (``unserved``:
    firm, parcel, the task left out and the solver's reason) and routing's ``warnings`` are kept:
    a saving bought by not delivering parcels must be visible where the saving is."""
    full = result.summary()
    lockers = result.lockers is not None
    return {
        "plans": full["plans"],
        "savings_vs_solo": full["savings_vs_solo"],
        "best_arrangement": full["best_arrangement"],
        "warnings": full["warnings"],
        "unserved": full["unserved"],
        "splits": full["splits"],
        "firms": [_firm(row, list(result.splits), lockers) for row in full["firms_table"]],
        "firms_table": full["firms_table"],
        **({"locker_drops": full["lockers"]["drops"]} if lockers else {}),
        "checker": full["checker"],
        "solves": full["solves"],
        "run_to_run": RUN_TO_RUN_NOTE,
    }


def _firm(row: dict[str, Any], kinds: list[str], lockers: bool) -> dict[str, Any]:
    """One firm's row, each split keyed by its plan: the simple splits differ between the
    pooled plans, so a bare figure would not say which plan it splits."""
    return {
        "name": row["firm"],
        "parcels": row["parcels"],
        "solo_cost": row["solo_cost"],
        "shares": {kind: row[f"{kind}_shapley"] for kind in kinds},
        "by_parcels": {kind: row[f"{kind}_by_parcels"] for kind in kinds},
        "by_standalone": {kind: row[f"{kind}_by_standalone"] for kind in kinds},
        **({"parcels_in_lockers": row["parcels_in_lockers"]} if lockers else {}),
    }


def route_layers(
    result: DayResult, along: Along | None
) -> tuple[dict[str, list[dict]], list[dict]]:
    """GeoJSON routes of the solo and the pooled plans as `gongpei pool` writes them
    (`routing.pooling.output.route_features`: each route and line haul drawn by ``along``, the
    vehicle roads, straight where None; a Point per stop with its task id and times, and per
    undelivered task with its reason), and each route's load/time profile for the plots."""
    layers = {f"routes_{kind}": features for kind, features in route_features(
        result, along=along
    ).items()}
    plans: dict[str, list[tuple[str, SolvedPlan]]] = {
        "solo": list(result.solo.items()),
        **{kind: [("shared", plan)] for kind, plan in result.pooled_plans().items()},
    }
    profiles = [
        {
            "plan": kind,
            "firm": owner,
            "vehicle": route.vehicle,
            "stops": len(route.task_steps()),
            "distance_m": round(route.distance),
            "duration_s": round(route.duration),
            # the courier's walk between road and doors: drawn, timed, not driven
            "walked_m": None if route.walked is None else round(route.walked),
            "cost": round(route.cost + paid_at_stops(plan.built.problem, route), 2),
            "profile": [
                {"t": s.arrival, "load": s.load[0] if s.load else 0, "type": s.type}
                for s in route.steps
                if s.type != "break"
            ],
        }
        for kind, solved in plans.items()
        for owner, plan in solved
        for route in plan.solution.routes
    ]
    return layers, profiles
