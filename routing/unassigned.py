"""Why a task was left out: try it alone on each vehicle that may serve it, name what fails."""

from __future__ import annotations

import math

from routing.model import Job, Problem, Shipment, Vehicle


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
            return (f"optional: serving it would cost more than its penalty ({task.penalty:g}) "
                    "or leave no room for other tasks")
        return "no room left on any vehicle (capacity, time or route limits) beside other tasks"
    reasons = sorted({f for f in failures if f})
    return "no vehicle can serve it even alone: " + "; ".join(reasons)


def _alone(problem: Problem, vehicle: Vehicle, task: Job | Shipment) -> str | None:
    """None if the vehicle can serve just this task; else the first constraint that fails."""
    travel = problem.travel(vehicle.profile)
    cap = problem.capacity(vehicle)
    if isinstance(task, Job):
        stops = [(task.location, task.service, task.time_windows)]
        sizes = (problem.amount(task.delivery), problem.amount(task.pickup))
    else:
        stops = [(s.location, s.service, s.time_windows) for s in (task.pickup, task.delivery)]
        sizes = (problem.amount(task.amount),)
    if any(a > c for size in sizes for a, c in zip(size, cap, strict=True)):
        return "too large for its capacity"

    start = problem.start_location(vehicle)
    end = problem.end_location(vehicle)
    shift_start = vehicle.shift.start if vehicle.shift else 0.0
    shift_end = vehicle.shift.end if vehicle.shift else math.inf
    if vehicle.start is not None and (opening := problem.centre(vehicle.start).opening):
        shift_start = max(shift_start, opening.start)
    latest_back = shift_end
    if vehicle.end is not None and (opening := problem.centre(vehicle.end).opening):
        latest_back = min(latest_back, opening.end)

    t = shift_start
    first_start = None
    here, dist = start, 0.0
    for where, service, windows in stops:
        leg = 0.0 if here is None else float(travel.durations[here, where])
        dist += 0.0 if here is None else float(travel.distances[here, where])
        if math.isinf(leg):
            return "unreachable from its start on the travel network"
        t += leg
        if windows:
            fits = [w for w in windows if t <= w.end]
            if not fits:
                return "its time windows close before the vehicle can arrive"
            t = max(t, fits[0].start)
        if first_start is None:
            first_start = t - (leg if here is not None else 0.0)
        t += service
        here = where
    if end is not None:
        leg = float(travel.durations[here, end])
        if math.isinf(leg):
            return "the end centre is unreachable from it on the travel network"
        t += leg
        dist += float(travel.distances[here, end])
    if t > latest_back + 1e-6:
        return "the shift (or centre opening hours) ends before the vehicle could be back"
    if vehicle.max_distance is not None and dist > vehicle.max_distance + 1e-6:
        return "the round trip is longer than the vehicle's max distance"
    if vehicle.max_duration is not None and t - (first_start or shift_start) > (
        vehicle.max_duration + 1e-6
    ):
        return "the round trip takes longer than the vehicle's max duration"
    return None
