"""Why a task was left out: try it alone on each vehicle that may serve it, name what fails."""

from __future__ import annotations

import math

from routing.model import Job, Problem, Shipment, TimeWindow, Vehicle


def explain(problem: Problem, task_id: str) -> str:
    """A one-line reason for leaving the task out of a plan.

    If no allowed vehicle can serve the task even on an otherwise empty route, the reason names
    the binding constraint (unreachable, time window, shift, capacity, max distance/duration);
    otherwise the task fits alone but not beside the others (or, when optional, it costs more
    than its penalty).
    """
    task: Job | Shipment = (
        problem.job(task_id) if problem.has_job(task_id) else problem.shipment(task_id)
    )
    vehicles = problem.allowed_vehicles(task)
    if not vehicles:
        return "no vehicle has the required skills" + ("" if problem.pooled else " and firm")
    failures = [_alone(problem, v, task) for v in vehicles]
    if any(f is None for f in failures):
        if task.optional:
            return (
                f"optional: serving it would cost more than its penalty ({task.penalty:g}) "
                "or leave no room for other tasks"
            )
        return "no room left on any vehicle (capacity, time or route limits) beside other tasks"
    reasons = sorted({f for f in failures if f})
    return "no vehicle can serve it even alone: " + "; ".join(reasons)


def fits_alone(problem: Problem, task: Job | Shipment) -> bool:
    """Whether some vehicle allowed to serve the task could serve it on an otherwise empty
    route (a task that fits nowhere is left out of every plan, whoever made it)."""
    return any(_alone(problem, v, task) is None for v in problem.allowed_vehicles(task))


def _alone(problem: Problem, vehicle: Vehicle, task: Job | Shipment) -> str | None:
    """None if the vehicle can serve just this task; else the first constraint that fails.

    The vehicle leaves as early as its shift and start centre allow and waits wherever a window
    (or its end centre) is not open yet. Its duration counts from the latest departure that
    keeps that schedule: a shipment whose delivery opens late is served by leaving late, so the
    waiting it could have spent at its centre does not count against a max duration.
    """
    if not _fits_load(problem, vehicle, task):
        return "too large for its capacity"
    leave, last_leave = _departure_window(problem, vehicle)  # meet: the model checks it
    trip = _Trip(problem, vehicle, leave)
    failure = trip.visit(_stops(task)) or trip.close()
    if failure:
        return failure
    if vehicle.max_distance is not None and trip.distance > vehicle.max_distance + 1e-6:
        return "the round trip is longer than the vehicle's max distance"
    later = trip.later_start(last_leave - leave if vehicle.start is not None else math.inf)
    if vehicle.max_duration is not None and (
        trip.t - trip.begin - later > vehicle.max_duration + 1e-6
    ):
        return "the round trip takes longer than the vehicle's max duration"
    return None


def _fits_load(problem: Problem, vehicle: Vehicle, task: Job | Shipment) -> bool:
    cap = problem.capacity(vehicle)
    if isinstance(task, Job):
        sizes = (problem.amount(task.delivery), problem.amount(task.pickup))
    else:
        sizes = (problem.amount(task.amount),)
    return all(a <= c for size in sizes for a, c in zip(size, cap, strict=True))


def _stops(task: Job | Shipment) -> list[tuple[int, float, tuple[TimeWindow, ...]]]:
    """(location, service, windows) of the task's stops in the order they are served."""
    if isinstance(task, Job):
        return [(task.location, task.service, task.time_windows)]
    return [(s.location, s.service, s.time_windows) for s in (task.pickup, task.delivery)]


def _departure_window(problem: Problem, vehicle: Vehicle) -> tuple[float, float]:
    """Earliest and latest departure: the shift, within the start centre's opening hours."""
    early = vehicle.shift.start if vehicle.shift else 0.0
    late = vehicle.shift.end if vehicle.shift else math.inf
    if vehicle.start is not None and (opening := problem.centre(vehicle.start).opening):
        early, late = max(early, opening.start), min(late, opening.end)
    return early, late


class _Trip:
    """One vehicle's schedule for a single task, walked forward from its earliest departure,
    remembering at each point after the route begins how long it waited and how much later it
    could be there (the forward time slack of Savelsbergh's route checks)."""

    def __init__(self, problem: Problem, vehicle: Vehicle, leave: float) -> None:
        self.problem, self.vehicle = problem, vehicle
        self.travel = problem.travel(vehicle.profile)
        self.here = problem.start_location(vehicle)
        self.t = self.begin = leave
        self.distance = 0.0
        self.waits: list[float] = []
        self.slack: list[float] = []

    def _drive(self, where: int) -> bool:
        """Travel on to `where`; False if no road leads there."""
        if self.here is not None:
            leg = float(self.travel.durations[self.here, where])
            if math.isinf(leg):
                return False
            self.t += leg
            self.distance += float(self.travel.distances[self.here, where])
        return True

    def _wait(self, opens: float, closes: float, *, began: bool = True) -> None:
        start = max(self.t, opens)
        self.waits.append(start - self.t if began else 0.0)  # no route yet: no waiting on it
        self.slack.append(closes - start)
        self.t = start

    def visit(self, stops: list[tuple[int, float, tuple[TimeWindow, ...]]]) -> str | None:
        """Serve the stops in order; the first failure, if any."""
        for where, service, windows in stops:
            began = self.here is not None  # without a start centre the route begins here
            if not self._drive(where):
                return "unreachable from its start on the travel network"
            fits = [w for w in windows if self.t <= w.end]
            if windows and not fits:
                return "its time windows close before the vehicle can arrive"
            opens, closes = (fits[0].start, fits[0].end) if windows else (-math.inf, math.inf)
            self._wait(opens, closes, began=began)
            if not began:
                self.begin = self.t
            self.t += service
            self.here = where
        return None

    def close(self) -> str | None:
        """Drive back to the end centre (waiting for it to open); the failure, if any."""
        opens, closes = -math.inf, self.vehicle.shift.end if self.vehicle.shift else math.inf
        if self.vehicle.end is not None:
            if (opening := self.problem.centre(self.vehicle.end).opening) is not None:
                opens, closes = opening.start, min(closes, opening.end)
            if not self._drive(self.problem.centre(self.vehicle.end).location):
                return "the end centre is unreachable from it on the travel network"
            self._wait(opens, closes)
        if self.t > closes + 1e-6:
            return "the shift (or centre opening hours) ends before the vehicle could be back"
        return None

    def later_start(self, most: float) -> float:
        """How much later the route may begin and still end when it does: the waiting it
        absorbs, as far as every stop stays in its window (and the start centre open)."""
        push, waited = min(sum(self.waits), most), 0.0
        for wait, slack in zip(self.waits, self.slack, strict=True):
            waited += wait
            push = min(push, waited + slack)
        return max(push, 0.0)
