"""Why a task was left out: try it alone on each vehicle that may serve it, name what fails.

A task alone on a vehicle is a route of at most two stops (plus the vehicle's breaks), so every
way of serving it can be tried: each choice of time window at each stop and, with breaks, each
place and order of the breaks between the stops. For one such choice the schedule is walked
once, with every time written as max(fixed, b + lag) of the time b the route begins (`_At`):
travel, service and waiting for a window all keep that form. That gives the latest begin that
keeps every stop in its window, and there the route is shortest (leaving later only absorbs
waiting), which is what a max duration needs.

Vehicles alike in everything this depends on (all but names and costs) form one kind, tried
once for all of them: with hundreds of like vans the reasons cost as much as with one.
"""

from __future__ import annotations

import itertools
import math
import weakref
from collections.abc import Collection, Iterator, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

from routing.model import Break, Job, Problem, Shipment, TimeWindow, Vehicle

TOL = 1e-6  # seconds / metres: round-off allowed when comparing with a limit
# Ways of placing a vehicle's breaks around one task tried at most; beyond (many breaks with
# many windows) the breaks are taken to fit, so a reason never blames them without proof.
MAX_SCHEDULES = 20_000
#: How the reason begins for a task a plan leaves out though it fits alone on an idle vehicle:
#: the search ran out of time before finding a plan that serves it.
NOT_FOUND_IN_TIME = "no plan serving it was found within the time limit"


class Travel(Protocol):
    """Travel times and distances between location indices (a `TravelMatrices` or a view)."""

    @property
    def durations(self) -> Any: ...

    @property
    def distances(self) -> Any: ...


def explain(problem: Problem, task_id: str, *, used: Collection[str] | None = None) -> str:
    """A one-line reason for leaving the task out of a plan.

    If no allowed vehicle can serve the task even on an otherwise empty route, the reason names
    the binding constraint (unreachable, time window, shift, capacity, max distance/duration,
    breaks); otherwise the task fits alone but not beside the others (or, when optional, it
    costs more than its penalty). `used`, the ids of the vehicles the plan uses, tells a
    required task that fits alone on an idle vehicle apart: then the search, not the room,
    left it out (an engine stopped at its time limit). Each kind of vehicle (`_Kind`) is
    tried once, not each vehicle: a plan of 3,000 jobs for 750 like vans that left them all
    out took 85 s to explain, one try per vehicle.
    """
    task: Job | Shipment = (
        problem.job(task_id) if problem.has_job(task_id) else problem.shipment(task_id)
    )
    kinds = _allowed_kinds(problem, task)
    if not kinds:
        return "no vehicle has the required skills" + ("" if problem.pooled else " and firm")
    failures = [why_not_alone(problem, kind.vehicle, task) for kind in kinds]
    fitting = [kind for kind, f in zip(kinds, failures, strict=True) if f is None]
    if fitting:
        if task.optional:
            return (
                f"optional: serving it would cost more than its penalty ({task.penalty:g}) "
                "or leave no room for other tasks"
            )
        idle = _first_idle(problem, fitting, used)
        if idle is not None:
            return (
                f"{NOT_FOUND_IN_TIME}, though it fits alone on idle vehicle '{idle}'"
            )
        return "no room left on any vehicle (capacity, time or route limits) beside other tasks"
    reasons = sorted({f for f in failures if f})
    return "no vehicle can serve it even alone: " + "; ".join(reasons)


def fits_alone(problem: Problem, task: Job | Shipment) -> bool:
    """Whether some vehicle allowed to serve the task could serve it on an otherwise empty
    route (a task that fits nowhere is left out of every plan, whoever made it)."""
    return any(
        why_not_alone(problem, kind.vehicle, task) is None
        for kind in _allowed_kinds(problem, task)
    )


def has_carrier(problem: Problem, task: Job | Shipment) -> bool:
    """Whether some vehicle may serve the task and has room for it alone (`Problem.carriers`
    is not empty), asked of each kind of vehicle once rather than of every vehicle."""
    return any(_fits_load(problem, kind.vehicle, task) for kind in _allowed_kinds(problem, task))


@dataclass(frozen=True)
class _Kind:
    """Vehicles alike in all that serving a task alone depends on: `vehicle` is the first of
    them in the problem's order, `positions` their places in `problem.vehicles`."""

    vehicle: Vehicle
    positions: tuple[int, ...]


# What a vehicle's kind ignores: names and costs (a break's id too, see `vehicle_kind`).
_UNKINDED = frozenset({"id", "name", "fixed_cost", "cost_per_km", "cost_per_hour"})
_KIND_FIELDS = tuple(name for name in Vehicle.model_fields if name not in _UNKINDED)


def vehicle_kind(vehicle: Vehicle) -> tuple[Any, ...]:
    """What vehicles alike in all that serving a task depends on share: every field of the
    vehicle but those in `_UNKINDED`, so that a field added later splits kinds (never merges
    them) until it is listed there. Used here and by the PyVRP engine (which tries a task on
    one vehicle of each kind, and adds the costs to make its vehicle types)."""
    return tuple(
        tuple((b.windows, b.duration) for b in vehicle.breaks) if name == "breaks"
        else getattr(vehicle, name)
        for name in _KIND_FIELDS
    )  # fmt: skip


class _Kinds:
    """A problem's vehicle kinds, and which of them may serve tasks of each skills and firm."""

    def __init__(self, problem: Problem) -> None:
        groups: dict[tuple[Any, ...], list[int]] = {}
        for k, vehicle in enumerate(problem.vehicles):
            groups.setdefault(vehicle_kind(vehicle), []).append(k)
        self.kinds = [_Kind(problem.vehicles[ks[0]], tuple(ks)) for ks in groups.values()]
        self.allowed: dict[tuple[frozenset[str], str | None], list[_Kind]] = {}


# Kinds per live problem, by identity: `explain` is asked once per task left out.
_CACHE: dict[int, tuple[weakref.ref[Problem], _Kinds]] = {}


def _problem_kinds(problem: Problem) -> _Kinds:
    key = id(problem)
    hit = _CACHE.get(key)
    if hit is not None and hit[0]() is problem:
        return hit[1]
    kinds = _Kinds(problem)
    _CACHE[key] = (weakref.ref(problem, lambda _, key=key: _CACHE.pop(key, None)), kinds)
    return kinds


def _allowed_kinds(problem: Problem, task: Job | Shipment) -> list[_Kind]:
    """The kinds of vehicle allowed to serve the task, in the problem's order (computed once
    per skills and firm: `vehicle_may_serve` reads nothing else of the task)."""
    kinds = _problem_kinds(problem)
    key = (task.skills, task.firm)
    if key not in kinds.allowed:
        kinds.allowed[key] = [
            kind for kind in kinds.kinds if problem.vehicle_may_serve(kind.vehicle, task)
        ]
    return kinds.allowed[key]


def _first_idle(
    problem: Problem, fitting: list[_Kind], used: Collection[str] | None
) -> str | None:
    """The first vehicle, in the problem's order, of these kinds that the plan leaves idle."""
    if used is None:
        return None
    firsts = (
        next((k for k in kind.positions if problem.vehicles[k].id not in used), None)
        for kind in fitting
    )
    first = min((k for k in firsts if k is not None), default=None)
    return None if first is None else problem.vehicles[first].id


def why_not_alone(
    problem: Problem, vehicle: Vehicle, task: Job | Shipment, *, travel: Travel | None = None
) -> str | None:
    """None if the vehicle can serve just this task; else the constraint that fails.

    The stops' own limits are tried first, then the vehicle's breaks, so a reason naming the
    breaks means the task fits without them. `travel` replaces the vehicle's travel matrices
    (an engine may pass shortest paths through other stops, to test a relaxation).
    """
    if not _fits_load(problem, vehicle, task):
        return "too large for its capacity"
    trip = _Trip(problem, vehicle, travel or problem.travel(vehicle.profile))
    stops = _stops(task)
    failure = trip.unreachable(stops)
    if failure:
        return failure
    best = trip.best(_schedules(stops, ()))
    if best.stage == _WINDOWS:
        return "its time windows close before the vehicle can arrive"
    if best.stage == _BACK:
        return "the shift (or centre opening hours) ends before the vehicle could be back"
    if vehicle.max_distance is not None and trip.distance(stops) > vehicle.max_distance + TOL:
        return "the round trip is longer than the vehicle's max distance"
    if trip.too_long(best):
        return "the round trip takes longer than the vehicle's max duration"
    if vehicle.breaks and _count(stops, vehicle.breaks) <= MAX_SCHEDULES:
        with_breaks = trip.best(_schedules(stops, vehicle.breaks))
        if with_breaks.stage != _DONE or trip.too_long(with_breaks):
            return (
                "its breaks cannot all be taken on a route serving it "
                "(break windows, shift or max duration)"
            )
    return None


def _fits_load(problem: Problem, vehicle: Vehicle, task: Job | Shipment) -> bool:
    cap = problem.capacity(vehicle)
    if isinstance(task, Job):
        sizes = (problem.amount(task.delivery), problem.amount(task.pickup))
    else:
        sizes = (problem.amount(task.amount),)
    return all(a <= c for size in sizes for a, c in zip(size, cap, strict=True))


@dataclass(frozen=True)
class _Event:
    """A stop (at `location`, `duration` of service) or, with no location, a break, taken in
    `window` (None: any time)."""

    location: int | None
    duration: float
    window: TimeWindow | None


_Stop = tuple[int, float, tuple[TimeWindow, ...]]  # location, service, windows


def _stops(task: Job | Shipment) -> list[_Stop]:
    """(location, service, windows) of the task's stops in the order they are served."""
    if isinstance(task, Job):
        return [(task.location, task.service, task.time_windows)]
    return [(s.location, s.service, s.time_windows) for s in (task.pickup, task.delivery)]


def _choices(windows: tuple[TimeWindow, ...]) -> tuple[TimeWindow | None, ...]:
    return windows or (None,)


def _count(stops: list[_Stop], breaks: Sequence[Break]) -> int:
    """How many schedules `_schedules` yields."""
    n = len(stops) + len(breaks)
    placings = math.comb(n, len(stops)) * math.factorial(len(breaks))
    windows = math.prod(len(_choices(w)) for _, _, w in stops)
    return placings * windows * math.prod(len(_choices(b.windows)) for b in breaks)


def _schedules(stops: list[_Stop], breaks: Sequence[Break]) -> Iterator[list[_Event]]:
    """Every order of the stops (kept in their order) and breaks, with every window choice."""
    n = len(stops) + len(breaks)
    for stop_places in itertools.combinations(range(n), len(stops)):
        break_places = [i for i in range(n) if i not in stop_places]
        for order in itertools.permutations(breaks):
            slots: list[list[_Event]] = [[] for _ in range(n)]
            for i, (where, service, windows) in zip(stop_places, stops, strict=True):
                slots[i] = [_Event(where, service, w) for w in _choices(windows)]
            for i, brk in zip(break_places, order, strict=True):
                slots[i] = [_Event(None, brk.duration, w) for w in _choices(brk.windows)]
            yield from (list(events) for events in itertools.product(*slots))


@dataclass(frozen=True)
class _At:
    """A time that depends on when the route begins, b: max(fixed, b + lag)."""

    fixed: float
    lag: float

    def plus(self, seconds: float) -> _At:
        return _At(self.fixed + seconds, self.lag + seconds)

    def no_earlier(self, t: float) -> _At:
        return _At(max(self.fixed, t), self.lag)

    def join(self, other: _At) -> _At:
        return _At(max(self.fixed, other.fixed), max(self.lag, other.lag))

    def at(self, begin: float) -> float:
        return max(self.fixed, begin + self.lag)


_WINDOWS, _BACK, _DONE = 0, 1, 2  # how far a schedule gets: a stop's window, the return, all


@dataclass(frozen=True)
class _Outcome:
    stage: int
    duration: float = math.inf  # shortest span of the route, when done


class _Trip:
    """One vehicle serving a single task, checked against its shift, centres' opening hours,
    the stops' windows and its breaks (as the checker reads them: taken from the moment the
    vehicle leaves a stop, the next arrival delayed by their durations)."""

    def __init__(self, problem: Problem, vehicle: Vehicle, travel: Travel) -> None:
        self.problem, self.vehicle, self.travel = problem, vehicle, travel
        self.start = problem.start_location(vehicle)
        self.end = problem.end_location(vehicle)
        # the route begins when it leaves its start centre, else at its first stop or break
        self.early = vehicle.shift.start if vehicle.shift else 0.0
        self.late = vehicle.shift.end if vehicle.shift else math.inf
        if vehicle.start is not None and (opening := problem.centre(vehicle.start).opening):
            self.early, self.late = max(self.early, opening.start), min(self.late, opening.end)
        self.opens, self.closes = -math.inf, vehicle.shift.end if vehicle.shift else math.inf
        if vehicle.end is not None and (opening := problem.centre(vehicle.end).opening):
            self.opens, self.closes = opening.start, min(self.closes, opening.end)

    def _leg(self, a: int | None, b: int | None) -> tuple[float, float]:
        if a is None or b is None:
            return 0.0, 0.0
        return float(self.travel.durations[a, b]), float(self.travel.distances[a, b])

    def _path(self, stops: list[_Stop]) -> list[int | None]:
        return [self.start, *(where for where, _, _ in stops), self.end]

    def unreachable(self, stops: list[_Stop]) -> str | None:
        path = self._path(stops)
        for k, (a, b) in enumerate(itertools.pairwise(path)):
            if any(math.isinf(x) for x in self._leg(a, b)):
                if k == len(path) - 2:
                    return "the end centre is unreachable from it on the travel network"
                return "unreachable from its start on the travel network"
        return None

    def distance(self, stops: list[_Stop]) -> float:
        return sum(self._leg(a, b)[1] for a, b in itertools.pairwise(self._path(stops)))

    def too_long(self, outcome: _Outcome) -> bool:
        limit = self.vehicle.max_duration
        return limit is not None and outcome.duration > limit + TOL

    def best(self, schedules: Iterator[list[_Event]]) -> _Outcome:
        """The furthest any schedule gets; among those done, the shortest."""
        best = _Outcome(_WINDOWS - 1)
        for events in schedules:
            outcome = self._walk(events)
            if (outcome.stage, -outcome.duration) > (best.stage, -best.duration):
                best = outcome
        return best

    def _walk(self, events: list[_Event]) -> _Outcome:
        latest = self.late  # the latest begin that keeps every time so far in its window

        def within(t: _At, closes: float) -> bool:
            nonlocal latest
            latest = min(latest, closes - t.lag)
            return t.fixed <= closes + TOL and latest >= self.early - TOL

        depart = free = _At(-math.inf, 0.0)  # leaving the last stop; free of breaks too
        begin = free if self.start is not None else None
        pending, here = 0.0, self.start  # break time since the last stop
        for e in events:
            if e.location is None:  # a break: from the moment the vehicle is free
                at = free if e.window is None else free.no_earlier(e.window.start)
                free, pending = at.plus(e.duration), pending + e.duration
            else:
                leg = self._leg(here, e.location)[0]
                arrive = depart.plus(leg + pending).join(free)
                at = arrive if e.window is None else arrive.no_earlier(e.window.start)
                depart = free = at.plus(e.duration)
                pending, here = 0.0, e.location
            if begin is None:
                begin = at
            if e.window is not None and not within(at, e.window.end):
                return _Outcome(_WINDOWS)
        finish = depart.plus(self._leg(here, self.end)[0] + pending).join(free)
        finish = finish.no_earlier(self.opens)
        if not within(finish, self.closes):
            return _Outcome(_BACK)
        assert begin is not None
        if math.isinf(latest):  # no limit on a late begin: the span tends to its lags' gap
            return _Outcome(_DONE, finish.lag - begin.lag)
        return _Outcome(_DONE, finish.at(latest) - begin.at(latest))
