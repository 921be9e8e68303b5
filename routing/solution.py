"""A routing plan shaped like VROOM's output: summary, routes with timed steps, unassigned tasks.

Engines only decide the order of visits (and, when they know them, the service start times);
`build_solution` turns that into timed steps with loads, distances and costs from the problem
data, so every engine reports the same way. `routing.check` verifies the result independently.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from routing.model import Job, Problem, Shipment, Vehicle

_NUMBERED_FORMATS = ("vroom", "vrplib", "solomon", "lilim")  # inputs whose ids are numbers
TOL = 1e-3
"""Seconds, metres and cost units within which two numbers count as equal. Engines round at this
scale and float sums drift by far less (0.1 + 0.2 s of travel is 0.30000000000000004, just past
a window ending at 0.3). The timing below and the checker (`routing.check`) share this one
value, so a stop timed as inside its window is one the checker accepts."""
StepType = Literal["start", "job", "pickup", "delivery", "break", "end"]
VisitType = Literal["job", "pickup", "delivery", "break"]

__all__ = [
    "TOL",
    "Route",
    "RoutePlan",
    "Solution",
    "Step",
    "Summary",
    "Unassigned",
    "Visit",
    "build_solution",
    "route_cost",
]


class _Out(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class Step(_Out):
    """One step of a route. `arrival` at the place, `waiting` until service may start (at the
    end centre: until it opens), then `service` seconds; `load` is carried after the step;
    `distance` and `duration` (travel time) are cumulative from the route start. As in VROOM,
    each step is reached when the one before it ends plus the travel between them, so a route's
    span is its travel + service + waiting + breaks. A break's `arrival` is when the vehicle is
    ready for it, its `waiting` the idle time until it starts (a vehicle at the next stop before
    lunch is due), its `service` its length; its `location` is where it is taken (the stop left,
    the next stop, or None on the road), its `duration` and `distance` the travel before it.
    `access` is the walk (m) between the parked vehicle and the place, each way, which its
    arrival includes (None when travel did not come from a road network; see
    `routing.model.TravelMatrices.access_m`)."""

    type: StepType
    id: str | None = None
    location: int | None = None
    coordinates: tuple[float, float] | None = None
    arrival: float
    waiting: float = 0.0
    service: float = 0.0
    load: tuple[int, ...] = ()
    distance: float = 0.0
    duration: float = 0.0
    access: float | None = None

    @property
    def start(self) -> float:
        """When service (or the break) starts."""
        return self.arrival + self.waiting

    @property
    def departure(self) -> float:
        return self.arrival + self.waiting + self.service


class Route(_Out):
    """One used vehicle's route; `duration` is total travel time as in VROOM, `service` the
    tasks' service time (breaks excluded), `waiting` every step's idle time: before service
    starts, before a break starts and, at the end centre, before it opens. `walked` is the
    metres the courier walks between the parked vehicle and the stops, there and back, which
    `duration` includes and `distance` (driven) does not; None when travel did not come from
    a road network."""

    vehicle: str
    steps: tuple[Step, ...]
    cost: float
    distance: float
    duration: float
    service: float
    waiting: float
    start_time: float
    end_time: float
    walked: float | None = None

    def task_steps(self) -> list[Step]:
        return [s for s in self.steps if s.type in ("job", "pickup", "delivery")]


class Unassigned(_Out):
    """A job or shipment left out of the plan, with the reason; `location` is the job's place
    or the shipment's pickup, `coordinates` its (lon, lat) when known."""

    id: str
    type: Literal["job", "shipment"]
    reason: str
    location: int | None = None
    coordinates: tuple[float, float] | None = None


class Summary(_Out):
    cost: float
    routes: int
    unassigned: int
    distance: float
    duration: float
    service: float
    waiting: float
    penalty: float = 0.0


class Solution(_Out):
    """The plan plus which engine made it and why it was chosen."""

    summary: Summary
    routes: tuple[Route, ...]
    unassigned: tuple[Unassigned, ...] = ()
    engine: str
    engine_reason: str = ""
    runtime_s: float = 0.0
    meta: dict[str, Any] = Field(default_factory=dict)

    @property
    def cost(self) -> float:
        return self.summary.cost

    def route(self, vehicle_id: str) -> Route | None:
        return next((r for r in self.routes if r.vehicle == vehicle_id), None)

    def assigned_ids(self) -> set[str]:
        return {s.id for r in self.routes for s in r.task_steps() if s.id is not None}

    def to_vroom(self, problem: Problem | None = None) -> dict[str, Any]:
        """VROOM's output JSON: `code`, `summary`, `routes` with `steps`, `unassigned`.

        Ids are written as integers when the problem came from integer ids (VROOM input or a
        benchmark file), so the output can be compared with other tools' directly.
        Shipment steps carry the pickup/delivery step id when the input gave one. A route timed
        on a road network also carries `walked_m` (see `Route.walked`), a key VROOM lacks.
        """
        int_ids = problem is not None and bool(
            problem.meta.get("int_ids") or problem.meta.get("format") in _NUMBERED_FORMATS
        )

        def ident(value: str | None) -> Any:
            if value is not None and int_ids and value.lstrip("-").isdigit():
                return int(value)
            return value

        def step_id(step: Step) -> Any:
            if problem is not None and step.type in ("pickup", "delivery") and step.id:
                stop = getattr(problem.shipment(step.id), step.type)
                return ident(stop.id or step.id)
            return ident(step.id)

        routes = []
        for r in self.routes:
            steps = []
            for s in r.steps:
                out: dict[str, Any] = {"type": s.type}
                if s.id is not None:
                    out["id"] = step_id(s)
                if s.type in ("pickup", "delivery"):
                    out["shipment"] = ident(s.id)
                if s.location is not None:
                    out["location_index"] = s.location
                if s.coordinates is not None:
                    out["location"] = list(s.coordinates)
                out.update(
                    arrival=_num(s.arrival),
                    duration=_num(s.duration),
                    distance=_num(s.distance),
                    service=_num(s.service),
                    waiting_time=_num(s.waiting),
                    load=list(s.load),
                )
                steps.append(out)
            route: dict[str, Any] = {
                "vehicle": ident(r.vehicle),
                "cost": _num(r.cost),
                "distance": _num(r.distance),
                "duration": _num(r.duration),
                "service": _num(r.service),
                "waiting_time": _num(r.waiting),
            }
            if r.walked is not None:  # Gongpei's own, as the summary's engine is
                route["walked_m"] = _num(r.walked)
            routes.append({**route, "steps": steps})
        s = self.summary
        return {
            "code": 0,
            "summary": {
                "cost": _num(s.cost),
                "routes": s.routes,
                "unassigned": s.unassigned,
                "distance": _num(s.distance),
                "duration": _num(s.duration),
                "service": _num(s.service),
                "waiting_time": _num(s.waiting),
                "penalty": _num(s.penalty),
                "computing_times": {"solving": round(self.runtime_s * 1000)},
                "engine": self.engine,
                "engine_reason": self.engine_reason,
            },
            "unassigned": [
                entry for u in self.unassigned for entry in _unassigned_entries(u, problem, ident)
            ],
            "routes": routes,
        }

    def to_geojson(
        self, *, line: Callable[[list[list[float]], Route], list[list[float]]] | None = None
    ) -> dict[str, Any]:
        """A FeatureCollection: one LineString per route through its stops, one Point per
        stop and one per task left out (`type` "unassigned", its `id`, `task` "job" or
        "shipment", the solver's `reason`; at a shipment's pickup); empty where coordinates
        are unknown. Legs are straight segments unless ``line`` (given the stops' [lon, lat]
        and the route) draws them, for example along the roads whose travel the matrices
        hold: routing itself has no roads to draw on.

        Numbers are rounded as in `to_vroom`, so the map and the JSON show the same figures.
        Figures are named with their units, as in a pooling run's GeoJSON
        (`routing.pooling.output`): a route's `cost` is in the vehicles' cost units,
        `distance_m` the metres driven, `duration_s` its travel time in seconds, `walked_m` the
        metres walked between the parked vehicle and its stops (there and back; in
        `duration_s`, not in `distance_m`), and each stop's `access_m` that walk one way (both
        null when travel did not come from a road network).
        A stop gives what a dispatcher needs, in seconds: `arrival_s`, `waiting_s` (for its
        window or opening hours), `service_start_s`, `service_s` and `departure_s`, the times
        counted from midnight of the plan's day like the problem's times (`arrival` repeats
        `arrival_s` for readers of the older name). Its `order` is its position in the route's
        `steps` of the JSON, so a break (which has no Point) leaves a gap in the numbers."""
        features: list[dict[str, Any]] = []
        for r in self.routes:
            coords = [
                list(s.coordinates)
                for s in r.steps
                if s.coordinates is not None and s.type != "break"
            ]
            if len(coords) >= 2:
                features.append(_route_feature(r, coords if line is None else line(coords, r)))
            features += [
                _stop_feature(r.vehicle, order, s)
                for order, s in enumerate(r.steps)
                if s.coordinates is not None and s.type != "break"
            ]
        features += [_unassigned_feature(u) for u in self.unassigned if u.coordinates is not None]
        return {"type": "FeatureCollection", "features": features}


def _route_feature(route: Route, coords: list[list[float]]) -> dict[str, Any]:
    """A route's line, with its figures rounded as in the JSON."""
    return {
        "type": "Feature",
        "geometry": {"type": "LineString", "coordinates": coords},
        "properties": {
            "vehicle": route.vehicle,
            "cost": _num(route.cost),
            "distance_m": _num(route.distance),
            "duration_s": _num(route.duration),
            "walked_m": _maybe(route.walked),
        },
    }


def _stop_feature(vehicle: str, order: int, step: Step) -> dict[str, Any]:
    """A stop's Point: when the vehicle arrives, waits, serves and leaves (seconds; see
    `Solution.to_geojson`). The arrival alone misleads: a stop reached before its window shows
    hours before it is served."""
    assert step.coordinates is not None
    return {
        "type": "Feature",
        "geometry": {"type": "Point", "coordinates": list(step.coordinates)},
        "properties": {
            "vehicle": vehicle,
            "order": order,
            "type": step.type,
            "id": step.id,
            "arrival": _num(step.arrival),
            "arrival_s": _num(step.arrival),
            "waiting_s": _num(step.waiting),
            "service_start_s": _num(step.start),
            "service_s": _num(step.service),
            "departure_s": _num(step.departure),
            "access_m": _maybe(step.access),
        },
    }


def _unassigned_feature(task: Unassigned) -> dict[str, Any]:
    """A task left out, where it is: a map of the plan shows what it does not deliver, and why.
    No vehicle serves it (`vehicle` null, as stops name theirs)."""
    assert task.coordinates is not None
    return {
        "type": "Feature",
        "geometry": {"type": "Point", "coordinates": list(task.coordinates)},
        "properties": {
            "vehicle": None,
            "type": "unassigned",
            "id": task.id,
            "task": task.type,
            "reason": task.reason,
        },
    }


def _unassigned_entries(
    u: Unassigned, problem: Problem | None, ident: Callable[[str | None], Any]
) -> list[dict[str, Any]]:
    """VROOM lists a left-out shipment as its pickup and its delivery step; a job once."""
    if u.type == "job" or problem is None:
        where = {"location_index": u.location} if u.location is not None else {}
        return [{"id": ident(u.id), "type": u.type, "reason": u.reason, **where}]
    ship = problem.shipment(u.id)
    return [
        {
            "id": ident(stop.id or u.id),
            "type": kind,
            "shipment": ident(u.id),
            "reason": u.reason,
            "location_index": stop.location,
        }
        for kind, stop in (("pickup", ship.pickup), ("delivery", ship.delivery))
    ]


def _num(x: float) -> float | int:
    """Whole numbers as ints (VROOM writes integers), others rounded to millis."""
    return round(x) if abs(x - round(x)) < 1e-9 else round(x, 3)


def _maybe(x: float | None) -> float | int | None:
    """`_num` of a figure that may be unknown (None, null in JSON)."""
    return None if x is None else _num(x)


# --------------------------------------------------------------------------- building


@dataclass(frozen=True)
class Visit:
    """One planned visit: a job, a shipment's pickup or delivery (id = shipment id), or a
    break (id = break id). `start` is the service start time when the engine knows it."""

    type: VisitType
    id: str
    start: float | None = None


@dataclass(frozen=True)
class RoutePlan:
    """An engine's plan for one vehicle: visits in order and, optionally, its departure time."""

    vehicle: str
    visits: Sequence[Visit]
    departure: float | None = None


def route_cost(vehicle: Vehicle, distance: float, travel: float) -> float:
    """fixed + per km driven + per hour of travel (the model's cost definition)."""
    return (
        vehicle.fixed_cost
        + vehicle.cost_per_km * distance / 1000.0
        + vehicle.cost_per_hour * travel / 3600.0
    )


def build_solution(
    problem: Problem,
    plans: Sequence[RoutePlan],
    unassigned: dict[str, str],
    *,
    engine: str,
    engine_reason: str = "",
    runtime_s: float = 0.0,
    meta: dict[str, Any] | None = None,
) -> Solution:
    """Timed, costed solution from the engine's visit orders; `unassigned` maps task id to
    its reason. Plans with no visits are dropped (the vehicle stays home)."""
    routes = tuple(
        _timed_route(problem, plan) for plan in plans if any(v.type != "break" for v in plan.visits)
    )
    left = tuple(_unassigned(problem, tid, reason) for tid, reason in unassigned.items())
    penalty = sum(_task(problem, u).penalty or 0.0 for u in left)
    summary = Summary(
        cost=sum(r.cost for r in routes),
        routes=len(routes),
        unassigned=len(left),
        distance=sum(r.distance for r in routes),
        duration=sum(r.duration for r in routes),
        service=sum(r.service for r in routes),
        waiting=sum(r.waiting for r in routes),
        penalty=penalty,
    )
    return Solution(
        summary=summary,
        routes=routes,
        unassigned=left,
        engine=engine,
        engine_reason=engine_reason,
        runtime_s=runtime_s,
        meta=meta or {},
    )


def with_unassigned(problem: Problem, solution: Solution, reasons: dict[str, str]) -> Solution:
    """``solution`` with more tasks listed unassigned (task id -> reason), its summary's count
    and penalty updated: the tasks set aside before an engine ran."""
    if not reasons:
        return solution
    left = tuple(_unassigned(problem, tid, reason) for tid, reason in reasons.items())
    penalty = sum(_task(problem, u).penalty or 0.0 for u in left)
    summary = solution.summary.model_copy(
        update={
            "unassigned": solution.summary.unassigned + len(left),
            "penalty": solution.summary.penalty + penalty,
        }
    )
    return solution.model_copy(
        update={"summary": summary, "unassigned": (*solution.unassigned, *left)}
    )


def _task(problem: Problem, u: Unassigned) -> Job | Shipment:
    return problem.job(u.id) if u.type == "job" else problem.shipment(u.id)


def _unassigned(problem: Problem, task_id: str, reason: str) -> Unassigned:
    kind: Literal["job", "shipment"] = "job"
    if problem.has_job(task_id):
        where = problem.job(task_id).location
    else:  # KeyError for an unknown id: an engine bug, not user input
        kind, where = "shipment", problem.shipment(task_id).pickup.location
    return Unassigned(
        id=task_id,
        type=kind,
        reason=reason,
        location=where,
        coordinates=problem.coordinates(where),
    )


def _stop(problem: Problem, visit: Visit) -> tuple[int, float, tuple[int, ...], Any]:
    """(location, service, load change, windows) of a task visit."""
    if visit.type == "job":
        job: Job = problem.job(visit.id)
        change = tuple(
            p - d
            for p, d in zip(problem.amount(job.pickup), problem.amount(job.delivery), strict=True)
        )
        return job.location, job.service, change, job.time_windows
    ship: Shipment = problem.shipment(visit.id)
    stop = ship.pickup if visit.type == "pickup" else ship.delivery
    sign = 1 if visit.type == "pickup" else -1
    change = tuple(sign * a for a in problem.amount(ship.amount))
    return stop.location, stop.service, change, stop.time_windows


def _earliest_in(windows: Sequence[Any], t: float) -> float:
    """Earliest time >= t inside one of the windows (t itself when there are none or past all).

    A window still takes `t` up to `TOL` past its end: that much is round-off (the checker
    accepts it), and moving the stop to its next window for it would add hours of waiting."""
    for w in windows:
        if t <= w.end + TOL:
            return max(t, w.start)
    return t


def _engine_start(start: float, arrival: float, windows: Sequence[Any], walk: _Walk) -> float:
    """When service begins at a stop the engine timed to ``start``: at the arrival instead
    where the engine's start is later only by its rounding and no window holds the vehicle.

    The engines time in whole milliseconds (`TOL`), rounding each leg's travel and the service
    before it up, so their start runs up to two of those a stop ahead of the arrival timed here
    from the unrounded matrices, for every stop since their time was last taken
    (`walk.rounded`): on a road network that showed as 0.001-0.003 s of waiting at stops
    without a time window."""
    late = start - arrival
    if 0.0 < late < 2 * TOL * (walk.rounded + 1) and _earliest_in(windows, arrival) == arrival:
        walk.rounded += 1
        return arrival
    walk.rounded = 0
    return start


def _opens(problem: Problem, centre: str | None) -> float:
    """When the centre opens (0 if it has no opening hours or the route has no centre there)."""
    opening = None if centre is None else problem.centre(centre).opening
    return opening.start if opening else 0.0


@dataclass
class _Walk:
    """Where the timing of a route stands: the place last left (None before an open route's
    first stop), when the vehicle may leave it, and the travel, distance and idle time so far."""

    loc: int | None
    depart: float
    dist: float = 0.0
    dur: float = 0.0
    waiting: float = 0.0
    service: float = 0.0
    on_foot: float = 0.0
    rounded: int = 0  # stops timed here, not at the engine's start, since it last set one


def _break_place(here: int | None, there: int | None, driven: float, leg: float) -> int | None:
    """Where a break is taken after `driven` of a leg's `leg` seconds of travel: at the stop left
    (nothing driven yet), at the next stop (all driven) or on the road between them (None)."""
    if here is not None and driven <= TOL:
        return here
    if driven >= leg - TOL:
        return there
    return None


def _timed_breaks(
    problem: Problem,
    vehicle: Vehicle,
    walk: _Walk,
    there: int | None,
    pending: Sequence[Visit],
    load: Sequence[int],
) -> tuple[list[Step], float, float]:
    """The steps of the breaks taken on the leg from `walk.loc` to `there`, when the vehicle is
    free after them, and the travel time driven before the last of them.

    VROOM's reading (its `format_route`): the vehicle drives until a break is due, so the idle
    time of a vehicle that reaches the next stop before its break starts is that break's
    `waiting_time`, and what is left of the drive follows the break. A break is then where it
    is taken: at the stop left when it starts on leaving, at the next stop when the drive ends
    first, on the road (no location) in between; and every second from leaving one stop to
    arriving at the next is travel, waiting or break. `Visit.start` is the engine's break
    start; without one the break starts as soon as a window allows."""
    leg, leg_m = _travel(problem, vehicle, walk.loc, there)
    lengths = {b.id: b for b in vehicle.breaks}
    steps: list[Step] = []
    t, driven = walk.depart, 0.0
    for visit in pending:
        brk = lengths[visit.id]
        begin = visit.start if visit.start is not None else _earliest_in(brk.windows, t)
        if walk.loc is None and not steps:
            t = begin  # an open route begins with this break: it has nowhere to wait before it
        drive = min(max(begin - t, 0.0), leg - driven)
        driven += drive
        arrival = min(t + drive, begin)  # begin < t only for an engine time the checker rejects
        where = _break_place(walk.loc, there, driven, leg)
        steps.append(
            Step(
                type="break",
                id=visit.id,
                location=where,
                coordinates=problem.coordinates(where) if where is not None else None,
                arrival=arrival,
                waiting=begin - arrival,
                service=brk.duration,
                load=tuple(load),
                distance=walk.dist + (leg_m * driven / leg if leg > 0 else 0.0),
                duration=walk.dur + driven,
            )
        )
        t = begin + brk.duration
    return steps, t, driven


def _travel(
    problem: Problem, vehicle: Vehicle, here: int | None, there: int | None
) -> tuple[float, float]:
    """(seconds, metres) from `here` to `there`; nothing when either end is no place (an open
    route's start, or its end after the last stop)."""
    if here is None or there is None:
        return 0.0, 0.0
    travel = problem.travel(vehicle.profile)
    return float(travel.durations[here, there]), float(travel.distances[here, there])


def _access(problem: Problem, vehicle: Vehicle, loc: int) -> float | None:
    """Metres between the vehicle, parked on its roads, and place `loc`, each way (None when
    travel did not come from a road network)."""
    access = problem.travel(vehicle.profile).access_m
    return None if access is None else access[loc]


def _walked(problem: Problem, vehicle: Vehicle, here: int | None, there: int | None) -> float:
    """Metres walked on the leg from `here` to `there`: back from `here` to the vehicle and
    from it to `there`, as the leg's duration counts them (none within one place, or between
    two locations at one position: one door, see `routing.travel.with_access_walk`)."""
    if here is None or there is None or here == there:
        return 0.0
    door = problem.coordinates(here)
    if door is not None and door == problem.coordinates(there):
        return 0.0
    return (_access(problem, vehicle, here) or 0.0) + (_access(problem, vehicle, there) or 0.0)


def _drive(
    problem: Problem,
    vehicle: Vehicle,
    walk: _Walk,
    there: int | None,
    pending: Sequence[Visit],
    load: Sequence[int],
) -> tuple[list[Step], float]:
    """Drive from `walk.loc` to `there`, taking the `pending` breaks on the way: their steps and
    the arrival (the leg's whole travel time after leaving, plus the breaks and the waiting
    before them). Adds the leg and that waiting to `walk`."""
    steps, free, driven = _timed_breaks(problem, vehicle, walk, there, pending, load)
    leg, leg_m = _travel(problem, vehicle, walk.loc, there)
    walk.dist += leg_m
    walk.dur += leg
    walk.on_foot += _walked(problem, vehicle, walk.loc, there)
    walk.waiting += sum(s.waiting for s in steps)
    return steps, free + leg - driven


def _timed_route(problem: Problem, plan: RoutePlan) -> Route:
    vehicle = problem.vehicle(plan.vehicle)
    start_loc = problem.start_location(vehicle)
    load = _initial_load(problem, plan)
    earliest = max(vehicle.shift.start if vehicle.shift else 0.0, _opens(problem, vehicle.start))
    t = plan.departure if plan.departure is not None else earliest
    steps: list[Step] = []
    if start_loc is not None:
        steps.append(
            Step(
                type="start",
                location=start_loc,
                coordinates=problem.coordinates(start_loc),
                arrival=t,
                load=tuple(load),
                access=_access(problem, vehicle, start_loc),
            )
        )
    walk = _Walk(loc=start_loc, depart=t)
    pending: list[Visit] = []  # breaks since the last stop, taken on the way to the next
    for v in plan.visits:
        if v.type == "break":
            pending.append(v)
        else:
            steps += _timed_stop(problem, vehicle, walk, v, pending, load)
            pending = []
    end_steps, end_time = _timed_end(problem, vehicle, walk, pending, load)
    steps += end_steps
    first = steps[0].arrival if steps else t
    tasks = [s for s in steps if s.type != "start"]
    if (
        plan.departure is None
        and start_loc is not None
        and tasks
        and tasks[0].type != "break"
        and tasks[0].waiting > 0
    ):
        # No engine times: leave just in time for the first stop instead of waiting there.
        later = RoutePlan(plan.vehicle, plan.visits, departure=t + tasks[0].waiting)
        return _timed_route(problem, later)
    return Route(
        vehicle=vehicle.id,
        steps=tuple(steps),
        cost=route_cost(vehicle, walk.dist, walk.dur),
        distance=walk.dist,
        duration=walk.dur,
        service=walk.service,
        waiting=walk.waiting,
        start_time=first,
        end_time=end_time,
        walked=None if problem.travel(vehicle.profile).access_m is None else walk.on_foot,
    )


def _initial_load(problem: Problem, plan: RoutePlan) -> list[int]:
    """What the vehicle carries out of its start: every job's delivery on the route."""
    load = [0] * problem.n_dims
    for v in plan.visits:
        if v.type == "job":
            for d, amount in enumerate(problem.amount(problem.job(v.id).delivery)):
                load[d] += amount
    return load


def _timed_stop(
    problem: Problem,
    vehicle: Vehicle,
    walk: _Walk,
    visit: Visit,
    pending: Sequence[Visit],
    load: list[int],
) -> list[Step]:
    """The steps of driving to a task's stop (the `pending` breaks on the way) and serving it
    there, at the engine's time or as soon as a window allows; `load` becomes what is carried
    after it, and `walk` stands at the stop."""
    where, service, change, windows = _stop(problem, visit)
    steps, arrival = _drive(problem, vehicle, walk, where, pending, load)
    if visit.start is not None:
        begin = _engine_start(visit.start, arrival, windows, walk)
        arrival = min(arrival, begin)
    else:
        begin = _earliest_in(windows, arrival)
    if walk.loc is None and not steps:
        # No start centre and nothing before: the route begins at this stop, so the vehicle
        # arrives when service begins (not at the shift start, to wait there for hours).
        arrival = begin
    for d, c in enumerate(change):
        load[d] += c
    steps.append(
        Step(
            type=visit.type,
            id=visit.id,
            location=where,
            coordinates=problem.coordinates(where),
            arrival=arrival,
            waiting=begin - arrival,
            service=service,
            load=tuple(load),
            distance=walk.dist,
            duration=walk.dur,
            access=_access(problem, vehicle, where),
        )
    )
    walk.waiting += begin - arrival
    walk.service += service
    walk.depart = begin + service
    walk.loc = where
    return steps


def _timed_end(
    problem: Problem, vehicle: Vehicle, walk: _Walk, pending: Sequence[Visit], load: list[int]
) -> tuple[list[Step], float]:
    """The steps after the last stop (the drive back with its breaks and the end step, or an
    open route's last breaks, taken at its last stop) and when the route ends."""
    end_loc = problem.end_location(vehicle)
    if end_loc is None:
        if not pending:
            return [], walk.depart
        return _drive(problem, vehicle, walk, None, pending, load)
    steps, arrival = _drive(problem, vehicle, walk, end_loc, pending, load)
    end_time = max(arrival, _opens(problem, vehicle.end))  # back early: wait for it to open
    walk.waiting += end_time - arrival
    steps.append(
        Step(
            type="end",
            location=end_loc,
            coordinates=problem.coordinates(end_loc),
            arrival=arrival,
            waiting=end_time - arrival,
            load=tuple(load),
            distance=walk.dist,
            duration=walk.dur,
            access=_access(problem, vehicle, end_loc),
        )
    )
    return steps, end_time
