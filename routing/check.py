"""The independent checker: recompute every route from the problem data and list violations.

It reads only the problem and the solution's step order and reported times; it imports no
engine and none of the code that built the solution's numbers, so an engine bug cannot hide
behind a shared helper. Rules checked: every task served once or reported unassigned with a
reason, skills and firms, shipments picked up before delivery on one vehicle, reachability,
capacity at every point in every dimension, time windows, shifts and centre opening hours,
breaks (each taken once, in a window, inside the route, fitted between stops), max duration and
distance, and that the reported figures match the recomputation: every step's arrival, waiting
(never negative), service, load, distance and travel time, every route's and the summary's
totals, start and end times, route count and penalties (`solve` ranks plans by them), and
VROOM's timing invariant: each step reached when the one before it ends plus the travel between
them, every break where the vehicle is when it starts, and so every route's span its travel +
service + waiting + breaks. Its one shared piece is the tolerance `TOL`, so the timing and the
checker agree on what is round-off.
"""

from __future__ import annotations

import itertools
import math
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field

from routing.model import Job, Problem, Shipment, TimeWindow, Vehicle
from routing.solution import TOL, Route, Solution, Step


@dataclass(frozen=True)
class Violation:
    """One broken rule: its kind, the vehicle (if on a route), the item and a readable message."""

    kind: str
    message: str
    vehicle: str | None = None
    item: str | None = None

    def __str__(self) -> str:
        where = f"vehicle '{self.vehicle}': " if self.vehicle else ""
        return f"[{self.kind}] {where}{self.message}"


@dataclass
class CheckReport:
    """The verdict: `ok` when there is no violation, plus recomputed totals."""

    violations: list[Violation] = field(default_factory=list)
    cost: float = 0.0
    distance: float = 0.0
    duration: float = 0.0
    service: float = 0.0
    waiting: float = 0.0
    penalty: float = 0.0
    served: int = 0
    unassigned: int = 0

    @property
    def ok(self) -> bool:
        return not self.violations

    def kinds(self) -> set[str]:
        return {v.kind for v in self.violations}

    def summary(self) -> str:
        """One line for the CLI."""
        if self.ok:
            return (
                f"checker: OK ({self.served} tasks served, {self.unassigned} unassigned, "
                f"cost {self.cost:.2f}, distance {self.distance:.2f})"
            )
        counts = Counter(v.kind for v in self.violations)
        listed = ", ".join(f"{k} x{n}" for k, n in sorted(counts.items()))
        return f"checker: {len(self.violations)} violations ({listed}); first: {self.violations[0]}"


def check(problem: Problem, solution: Solution) -> CheckReport:
    """Recompute the solution from the problem data and list every violation."""
    report = CheckReport()
    visits: dict[tuple[str, str], list[tuple[str, int]]] = {}  # (task, kind) -> (vehicle, pos)
    seen_vehicles: set[str] = set()
    vehicle_ids = {v.id for v in problem.vehicles}
    tasks = _Tasks({j.id: j for j in problem.jobs}, {s.id: s for s in problem.shipments})
    for route in solution.routes:
        if route.vehicle in seen_vehicles:
            report.violations.append(Violation("vehicle", "has more than one route", route.vehicle))
            continue
        seen_vehicles.add(route.vehicle)
        if route.vehicle not in vehicle_ids:
            report.violations.append(Violation("unknown", "no such vehicle", route.vehicle))
            continue
        _RouteCheck(problem, problem.vehicle(route.vehicle), route, report, visits, tasks).run()
    _check_coverage(problem, solution, visits, report, tasks)
    _check_totals(problem, solution, report)
    return report


def _in_windows(t: float, windows: Sequence[TimeWindow]) -> bool:
    return not windows or any(w.start - TOL <= t <= w.end + TOL for w in windows)


def _windows_text(windows: Sequence[TimeWindow]) -> str:
    return ", ".join(f"[{w.start:g}, {w.end:g}]" for w in windows)


def _differs(reported: float, actual: float) -> bool:
    return abs(reported - actual) > TOL + 1e-9 * abs(actual)


def _step_name(step: Step) -> str:
    """How messages name a step: `job 'a'`, `break 'lunch'`, `start step`, `end step`."""
    return f"{step.type} step" if step.type in ("start", "end") else f"{step.type} '{step.id}'"


@dataclass
class _Walk:
    """Where a route's walk stands after its last stop: its place, the time it left, the
    breaks taken since, and the totals and load so far."""

    loc: int | None
    begin: float | None
    depart: float | None
    load: list[int]
    pending: list[Step] = field(default_factory=list)  # breaks since the last stop
    dist: float = 0.0
    dur: float = 0.0
    service: float = 0.0
    taken: Counter[str] = field(default_factory=Counter)


@dataclass(frozen=True)
class _Tasks:
    """The problem's jobs and shipments by id, indexed once per check: each route indexed
    them (219 routes of 1,000 jobs) and each unassigned task was sought by a scan of them all
    (a plan serving none of 1,000 jobs took 168 ms to check, now 2 ms)."""

    jobs: dict[str, Job]
    shipments: dict[str, Shipment]


class _RouteCheck:
    """Walks one route step by step, recomputing times, loads, distance and cost."""

    def __init__(
        self,
        problem: Problem,
        vehicle: Vehicle,
        route: Route,
        report: CheckReport,
        visits: dict[tuple[str, str], list[tuple[str, int]]],
        tasks: _Tasks,
    ) -> None:
        self.p, self.v, self.r, self.report, self.visits = problem, vehicle, route, report, visits
        self.tasks = tasks
        self.travel = problem.matrices[vehicle.profile]
        self.dims = self._count_dims()
        self.cap = self._capacity()

    def flag(self, kind: str, message: str, item: str | None = None) -> None:
        self.report.violations.append(Violation(kind, message, self.v.id, item))

    def run(self) -> None:
        steps = list(self.r.steps)
        starts = [s for s in steps if s.type == "start"]
        ends = [s for s in steps if s.type == "end"]
        start_loc, end_loc = self._check_route_ends(steps, starts, ends)
        tasks = [s for s in steps if s.type in ("job", "pickup", "delivery")]
        begin = starts[0].arrival if starts else None
        walk = _Walk(loc=start_loc, begin=begin, depart=begin, load=self._initial_load(tasks))
        self._check_load(walk.load, self.cap, "at the start")
        if starts:
            self._compare_load(starts[0], walk.load)
        for step in steps:
            if step.waiting < -TOL:
                self.flag(
                    "report", f"{_step_name(step)}: reported waiting {step.waiting:g} s is negative"
                )
        for pos, step in enumerate(steps):
            if step.type in ("break", "end"):
                self._compare_load(step, walk.load)
                if step.type == "break":
                    walk.pending.append(step)
                    walk.taken[step.id or ""] += 1
            elif step.type != "start":
                self._visit(pos, step, walk)
        finish = self._finish(walk, ends[0] if ends else None, end_loc)
        self._check_breaks(walk.taken)
        self._check_step_times(steps, walk.dur)
        self._check_span(walk.begin, finish, walk.dist)
        self._check_figures(steps, walk, finish)

    def _check_route_ends(
        self, steps: list[Step], starts: list[Step], ends: list[Step]
    ) -> tuple[int | None, int | None]:
        """The route starts and ends where its vehicle's centres are (or nowhere when it has
        none); returns those centres' locations."""
        v = self.v
        start_loc = None if v.start is None else self._centre_location(v.start)
        end_loc = None if v.end is None else self._centre_location(v.end)
        if (
            (start_loc is None) != (not starts)
            or len(starts) > 1
            or (starts and steps[0].type != "start")
        ):
            self.flag("route", "start step does not match the vehicle's start centre")
        if (end_loc is None) != (not ends) or len(ends) > 1 or (ends and steps[-1].type != "end"):
            self.flag("route", "end step does not match the vehicle's end centre")
        if starts and starts[0].location != start_loc:
            self.flag("route", f"starts at location {starts[0].location}, not its centre's")
        if ends and ends[0].location != end_loc:
            self.flag("route", f"ends at location {ends[0].location}, not its centre's")
        return start_loc, end_loc

    def _visit(self, pos: int, step: Step, walk: _Walk) -> None:
        """A task step: the leg to it and the breaks on that leg, its time window, service,
        load and reported cumulative figures; then the walk stands at it."""
        where = self._task_location(step)
        if where is None:
            return
        self.visits.setdefault((step.id or "", step.type), []).append((self.v.id, pos))
        self._check_skills(step)
        leg, leg_m = self._leg(walk.loc, where, step.id)
        self._check_break_places(walk.pending, walk.loc, where, walk.dur, leg)
        service_start = step.arrival + step.waiting
        self._check_arrival(step, walk, leg, service_start)
        service, windows = self._service(step)
        if not _in_windows(service_start, windows):
            self.flag(
                "time window",
                f"service starts at {service_start:g}, outside {_windows_text(windows)}",
                step.id,
            )
        if _differs(step.service, service):
            self.flag(
                "report", f"reported service {step.service:g} s, expected {service:g}", step.id
            )
        walk.service += service  # tasks only: breaks are not service, as in VROOM
        walk.dist += leg_m
        walk.dur += leg
        walk.load = self._apply(step, walk.load)
        self._check_load(walk.load, self.cap, f"after {step.type} '{step.id}'")
        self._compare_load(step, walk.load)
        if _differs(step.distance, walk.dist) or _differs(step.duration, walk.dur):
            self.flag(
                "report",
                "reported cumulative distance/travel time differs from "
                f"the recomputed {walk.dist:g} / {walk.dur:g}",
                step.id,
            )
        walk.depart = service_start + service
        walk.pending = []
        walk.loc = where

    def _check_arrival(self, step: Step, walk: _Walk, leg: float, service_start: float) -> None:
        """Service starts no sooner than the vehicle can be there, breaks on the way taken; a
        route without a start centre begins at its first stop (or the breaks before it)."""
        arrival = self._after_breaks(walk.depart, leg, walk.pending, step.id)
        if walk.begin is None:  # no start centre: the route begins at its first stop or break
            walk.begin = min([service_start, *(b.arrival + b.waiting for b in walk.pending)])
            # free until then, it is at the stop when its service begins, or when the
            # breaks it takes there first end
            arrival = arrival if walk.pending else service_start
        if service_start < arrival - TOL:
            self.flag(
                "time",
                f"service starts at {service_start:g}, before it can arrive ({arrival:g})",
                step.id,
            )
        if _differs(step.arrival, arrival) and step.arrival < arrival:
            self.flag(
                "report",
                f"reported arrival {step.arrival:g} is before the earliest possible {arrival:g}",
                step.id,
            )

    def _finish(self, walk: _Walk, end: Step | None, end_loc: int | None) -> float | None:
        """When the route ends: back at its end centre (the leg there and the breaks on it),
        or after the breaks taken past its last stop."""
        if end is None:
            if walk.pending and walk.depart is not None:
                self._check_break_places(walk.pending, walk.loc, None, walk.dur, 0.0)
                return self._after_breaks(walk.depart, 0.0, walk.pending, "the route end")
            return walk.depart
        if walk.loc is not None and end_loc is not None:
            leg, leg_m = self._leg(walk.loc, end_loc, "the end centre")
        else:
            leg = leg_m = 0.0
        depart = end.arrival if walk.depart is None else walk.depart
        self._check_break_places(walk.pending, walk.loc, end_loc, walk.dur, leg)
        arrival = self._after_breaks(depart, leg, walk.pending, "the end centre")
        walk.dist += leg_m
        walk.dur += leg
        if end.arrival < arrival - TOL:
            self.flag(
                "time",
                f"arrives at the end centre at {end.arrival:g}, before it can ({arrival:g})",
            )
        # a vehicle back before its end centre opens waits there: the route ends later
        return max(end.arrival, arrival) + max(end.waiting, 0.0)

    def _check_figures(self, steps: list[Step], walk: _Walk, finish: float | None) -> None:
        """The route's reported totals against the walk's, which then add to the report's."""
        v = self.v
        cost = v.fixed_cost + v.cost_per_km * walk.dist / 1000 + v.cost_per_hour * walk.dur / 3600
        # idle time is what the steps report: their arrivals and service starts are checked
        # above, and a later arrival (a break taken at the stop, then the drive) is allowed
        waiting = sum(s.waiting for s in steps)
        figures = [
            ("distance", self.r.distance, walk.dist),
            ("travel time", self.r.duration, walk.dur),
            ("cost", self.r.cost, cost),
            ("service", self.r.service, walk.service),
            ("waiting", self.r.waiting, waiting),
        ]
        if walk.begin is not None:
            figures.append(("start_time", self.r.start_time, walk.begin))
        if finish is not None:
            figures.append(("end_time", self.r.end_time, finish))
        for name, reported, actual in figures:
            if _differs(reported, actual):
                self.flag("report", f"route {name}: reported {reported:g}, recomputed {actual:g}")
        self.report.cost += cost
        self.report.distance += walk.dist
        self.report.duration += walk.dur
        self.report.service += walk.service
        self.report.waiting += waiting

    # ---------------------------------------------------------------- pieces
    def _centre_location(self, centre_id: str) -> int:
        return next(c.location for c in self.p.centres if c.id == centre_id)

    def _task(self, step: Step) -> Job | Shipment | None:
        if step.type == "job":
            return self.tasks.jobs.get(step.id or "")
        return self.tasks.shipments.get(step.id or "")

    def _task_location(self, step: Step) -> int | None:
        task = self._task(step)
        if task is None:
            self.flag(
                "unknown", f"no {'job' if step.type == 'job' else 'shipment'} with this id", step.id
            )
            return None
        where = task.location if isinstance(task, Job) else getattr(task, step.type).location
        if step.location is not None and step.location != where:
            self.flag(
                "report", f"step location {step.location} is not the task's ({where})", step.id
            )
        return where

    def _service(self, step: Step) -> tuple[float, Sequence[TimeWindow]]:
        task = self._task(step)
        if isinstance(task, Job):
            return task.service, task.time_windows
        stop = getattr(task, step.type)
        return stop.service, stop.time_windows

    def _check_skills(self, step: Step) -> None:
        task = self._task(step)
        assert task is not None
        missing = task.skills - self.v.skills
        if missing:
            self.flag("skills", f"lacks skills {sorted(missing)}", step.id)
        if not self.p.pooled and task.firm is not None and self.v.firm not in (None, task.firm):
            self.flag(
                "firm",
                f"firm '{self.v.firm}' serves a task of firm '{task.firm}' while pooling is off",
                step.id,
            )

    def _leg(self, a: int | None, b: int, item: str | None) -> tuple[float, float]:
        if a is None:
            return 0.0, 0.0
        t, d = float(self.travel.durations[a, b]), float(self.travel.distances[a, b])
        if math.isinf(t) or math.isinf(d):
            self.flag("unreachable", f"no way from location {a} to {b}", item)
            return 0.0, 0.0
        return t, d

    def _after_breaks(
        self, depart: float | None, leg: float, breaks: list[Step], item: str | None
    ) -> float:
        """Earliest arrival after leaving at `depart`, travelling `leg` and taking `breaks`.

        `depart` None: no earlier stop (a route without a start centre), so the vehicle is free
        until its first stop, but the breaks taken before it are checked all the same."""
        t = -math.inf if depart is None else depart
        total = 0.0
        for b in breaks:
            brk = next((x for x in self.v.breaks if x.id == b.id), None)
            if brk is None:
                self.flag("break", "no such break for this vehicle", b.id)
                continue
            start = b.arrival + b.waiting
            if start < t - TOL:
                self.flag("break", f"starts at {start:g}, before the vehicle is free ({t:g})", b.id)
            if not _in_windows(start, brk.windows):
                self.flag(
                    "break", f"starts at {start:g}, outside {_windows_text(brk.windows)}", b.id
                )
            if _differs(b.service, brk.duration) and b.service < brk.duration:
                self.flag("break", f"lasts {b.service:g} s, shorter than {brk.duration:g}", b.id)
            t = max(t, start) + brk.duration
            total += brk.duration
        return t if depart is None else max(depart + leg + total, t)

    def _check_break_places(
        self, breaks: list[Step], here: int | None, there: int | None, before: float, leg: float
    ) -> None:
        """Each break of the leg from `here` to `there` is where the vehicle is when it starts:
        at `here` before any of the leg's `leg` seconds of travel are driven, at `there` once all
        are, on the road (no location) in between. The travel driven before it is its reported
        cumulative travel less the `before` of the stop left, checked in `_check_step_times`."""
        for b in breaks:
            driven = b.duration - before
            places = {here} if here is not None and driven <= TOL else set()
            if driven >= leg - TOL:
                places.add(there)
            if b.location is not None and b.location not in places:
                self.flag(
                    "report",
                    f"taken at location {b.location}, but it starts after {driven:g} s of the "
                    f"{leg:g} s drive from location {here} to {there}",
                    b.id,
                )

    def _check_step_times(self, steps: list[Step], travel: float) -> None:
        """VROOM's timing invariant, step by step: each step is reached when the one before it
        ends plus the travel between them (the growth of the cumulative travel time), neither
        sooner (a leg driven in no time) nor later (time that is no travel, waiting, service or
        break). Summed, the route's span is its travel + service + waiting + breaks: idle time
        must show in some step's waiting, or the waiting totals, ETAs and pay read from them
        are wrong (the time audit's finding 3)."""
        if not steps:
            return
        for prev, step in itertools.pairwise(steps):
            moved = step.duration - prev.duration
            if moved < -TOL:
                self.flag(
                    "report",
                    f"{_step_name(step)}: cumulative travel time falls from {prev.duration:g} "
                    f"to {step.duration:g}",
                    step.id,
                )
            elif step.arrival < prev.departure + moved - TOL:
                self.flag(
                    "time",
                    f"{_step_name(step)}: arrives at {step.arrival:g}, before it can: "
                    f"{_step_name(prev)} ends at {prev.departure:g}, then {moved:g} s of travel",
                    step.id,
                )
        span = steps[-1].departure - steps[0].arrival
        service = sum(s.service for s in steps if s.type != "break")
        breaks = sum(s.service for s in steps if s.type == "break")
        waiting = sum(s.waiting for s in steps)
        unaccounted = span - (travel + service + waiting + breaks)
        if abs(unaccounted) > TOL * len(steps):
            self.flag(
                "report",
                f"route span {span:g} s ({steps[0].arrival:g} to {steps[-1].departure:g}) is "
                f"not travel {travel:g} + service {service:g} + waiting {waiting:g} + breaks "
                f"{breaks:g} s: {unaccounted:+g} s unaccounted{self._idle_at(steps)}",
            )

    @staticmethod
    def _idle_at(steps: list[Step]) -> str:
        """Where time first goes unaccounted: the step reached later than the one before it
        ends plus the travel between them, for the span message."""
        for prev, step in itertools.pairwise(steps):
            idle = step.arrival - prev.departure - (step.duration - prev.duration)
            if idle > TOL:
                return f", {idle:g} s of it before {_step_name(step)}"
        return ""

    def _check_breaks(self, taken: Counter[str]) -> None:
        for brk in self.v.breaks:
            if taken[brk.id] != 1:
                self.flag("break", f"taken {taken[brk.id]} times (once per used vehicle)", brk.id)

    def _check_span(self, begin: float | None, finish: float | None, dist: float) -> None:
        v = self.v
        if begin is None or finish is None:
            return
        if v.shift and (begin < v.shift.start - TOL or finish > v.shift.end + TOL):
            self.flag(
                "shift",
                f"route runs {begin:g}-{finish:g}, outside the shift "
                f"[{v.shift.start:g}, {v.shift.end:g}]",
            )
        for ref, t, what in ((v.start, begin, "leaves"), (v.end, finish, "returns to")):
            opening = (
                None if ref is None else next(c.opening for c in self.p.centres if c.id == ref)
            )
            if opening is not None and not opening.contains(t, tol=TOL):
                self.flag(
                    "opening hours",
                    f"{what} centre '{ref}' at {t:g}, outside [{opening.start:g}, {opening.end:g}]",
                )
        if v.max_duration is not None and finish - begin > v.max_duration + TOL:
            self.flag("max duration", f"route takes {finish - begin:g} s > {v.max_duration:g}")
        if v.max_distance is not None and dist > v.max_distance + TOL:
            self.flag("max distance", f"route drives {dist:g} > {v.max_distance:g}")

    def _count_dims(self) -> int:
        for v in self.p.vehicles:
            if v.capacity:
                return len(v.capacity)
        for j in self.p.jobs:
            if j.delivery or j.pickup:
                return len(j.delivery or j.pickup)
        for s in self.p.shipments:
            if s.amount:
                return len(s.amount)
        return 0

    def _vec(self, amount: Sequence[int]) -> list[int]:
        return list(amount) if amount else [0] * self.dims

    def _capacity(self) -> list[float]:
        if self.v.capacity is None:
            return [math.inf] * self.dims
        return [float(c) for c in self.v.capacity]

    def _initial_load(self, tasks: list[Step]) -> list[int]:
        load = [0] * self.dims
        for s in tasks:
            task = self._task(s)
            if s.type == "job" and isinstance(task, Job):
                load = [a + b for a, b in zip(load, self._vec(task.delivery), strict=True)]
        return load

    def _apply(self, step: Step, load: list[int]) -> list[int]:
        task = self._task(step)
        if isinstance(task, Job):
            change = [
                p - d for p, d in zip(self._vec(task.pickup), self._vec(task.delivery), strict=True)
            ]
        else:
            sign = 1 if step.type == "pickup" else -1
            change = [sign * a for a in self._vec(task.amount)]  # type: ignore[union-attr]
        return [a + b for a, b in zip(load, change, strict=True)]

    def _check_load(self, load: list[int], cap: list[float], when: str) -> None:
        for d, (amount, c) in enumerate(zip(load, cap, strict=True)):
            if amount > c or amount < 0:
                self.flag(
                    "capacity",
                    f"load {amount} in dimension {d} {when} exceeds capacity {c:g}"
                    if amount > c
                    else f"negative load {amount} {when}",
                )

    def _compare_load(self, step: Step, load: list[int]) -> None:
        """The load carried after the step; an empty one is wrong too wherever goods move."""
        if list(step.load) != load:
            self.flag(
                "report",
                f"{_step_name(step)}: reported load {list(step.load)}, recomputed {load}",
                step.id,
            )


def _check_coverage(
    problem: Problem,
    solution: Solution,
    visits: dict[tuple[str, str], list[tuple[str, int]]],
    report: CheckReport,
    tasks: _Tasks,
) -> None:
    unassigned = Counter(u.id for u in solution.unassigned)
    for u in solution.unassigned:
        known = u.id in (tasks.jobs if u.type == "job" else tasks.shipments)
        if not known:
            report.violations.append(
                Violation("unknown", f"unassigned {u.type} does not exist", item=u.id)
            )
        if not u.reason.strip():
            report.violations.append(Violation("unassigned", "no reason given", item=u.id))
        if unassigned[u.id] > 1:
            report.violations.append(
                Violation("duplicate", "listed unassigned more than once", item=u.id)
            )
    for job in problem.jobs:
        done = visits.get((job.id, "job"), [])
        _coverage(job.id, len(done), unassigned[job.id], report)
        report.served += bool(done)
    for ship in problem.shipments:
        pickups = visits.get((ship.id, "pickup"), [])
        deliveries = visits.get((ship.id, "delivery"), [])
        if len(pickups) != len(deliveries):
            report.violations.append(
                Violation(
                    "precedence", "pickup and delivery are not both in the plan", item=ship.id
                )
            )
        elif pickups and deliveries:
            (pv, ppos), (dv, dpos) = pickups[0], deliveries[0]
            if pv != dv:
                report.violations.append(
                    Violation(
                        "precedence", f"picked up by '{pv}' but delivered by '{dv}'", item=ship.id
                    )
                )
            elif ppos > dpos:
                report.violations.append(
                    Violation("precedence", "delivered before it is picked up", pv, ship.id)
                )
        _coverage(ship.id, max(len(pickups), len(deliveries)), unassigned[ship.id], report)
        report.served += bool(pickups or deliveries)
    report.unassigned = len(unassigned)


def _coverage(task_id: str, visits: int, unassigned: int, report: CheckReport) -> None:
    if visits > 1:
        report.violations.append(Violation("duplicate", f"served {visits} times", item=task_id))
    if visits and unassigned:
        report.violations.append(
            Violation("duplicate", "both served and listed unassigned", item=task_id)
        )
    if not visits and not unassigned:
        report.violations.append(
            Violation("missing", "neither served nor listed unassigned", item=task_id)
        )


def _check_totals(problem: Problem, solution: Solution, report: CheckReport) -> None:
    """The summary against the recomputed routes and the penalties of the tasks left out:
    `solve` ranks plans by summary cost plus penalty, so a wrong one picks the wrong plan."""
    penalties = {("job", j.id): j.penalty or 0.0 for j in problem.jobs}
    penalties |= {("shipment", s.id): s.penalty or 0.0 for s in problem.shipments}
    report.penalty = sum(penalties.get((u.type, u.id), 0.0) for u in solution.unassigned)
    s = solution.summary
    for name, reported, actual in (
        ("cost", s.cost, report.cost),
        ("distance", s.distance, report.distance),
        ("duration", s.duration, report.duration),
        ("service", s.service, report.service),
        ("waiting", s.waiting, report.waiting),
        ("penalty", s.penalty, report.penalty),
    ):
        if _differs(reported, actual):
            report.violations.append(
                Violation(
                    "report", f"summary {name} {reported:g} differs from the recomputed {actual:g}"
                )
            )
    for name, reported, count in (
        ("unassigned", s.unassigned, len(solution.unassigned)),
        ("routes", s.routes, len(solution.routes)),
    ):
        if reported != count:
            report.violations.append(
                Violation("report", f"summary {name} {reported} differs from the {count} listed")
            )
