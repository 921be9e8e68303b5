"""PyVRP (iterated local search, state of the art on CVRP/VRPTW) for problems that fit its model.

PyVRP works in integers. When every time (travel, service, windows, shifts) is a whole number
it is used as is, else it is scaled by `FINE_SCALE` (milliseconds for seconds) and rounded so that
a schedule feasible in integers is feasible in the real data: travel and service times up,
window openings up, window closings, shift ends and max durations down. Costs likewise: exact
when whole, else scaled by `FINE_SCALE` (an error below 0.0005 per arc on the benchmarks), and
folded, per vehicle type, into one arc cost matrix (cost per km x distance + cost per hour x
travel time), which is exactly the model's cost of a route; fixed costs and optional tasks'
penalties (as PyVRP prizes) use the same scale. Loads are never scaled: PyVRP's default
penalty parameters are tuned for unscaled loads against costs of the instance's own magnitude,
so costs in thousandths get penalties a thousand times larger (and a cap above the largest
prize, see `_Translation.penalties`). A window holding no whole unit of time leaves its task
out with that reason, as does a job that only such windows would let a vehicle serve. The
plan's times, loads and costs are then recomputed from the real data by
`routing.solution.build_solution`.

Every client and shipment stop has its own PyVRP location. Mapped parts of the model:
- several time windows on a job: one client per window in a mutually exclusive client group
  (exactly one is visited), PyVRP's documented way to model them;
- skills and firms (when not pooled): a vehicle sees the arcs to and from the stops of tasks it
  may not serve at PyVRP's largest value, through a routing profile of its own (as PyVRP's
  VRPLIB reader does for allowed clients), and any route breaking that is discarded;
- centre opening hours: the window of the centre's depot, which bounds the departures from it
  and the returns to it (a vehicle back early waits for it to open, as in the model);
- open routes (no start or end centre): an extra depot location free to reach and to leave;
- tasks that cannot all be served: when no plan serving them all turns up in half the time,
  the rest is spent with every task optional, those that must be served carrying a prize of
  (1 + priority) times one that outweighs any route cost (as the OR-Tools engine does).
What does not fit (named by `supports`): breaks, several time windows on a shipment's stop,
and a max distance on a vehicle that also pays per hour.
"""

from __future__ import annotations

import math
import time
import warnings
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np
import pyvrp
from pyvrp.constants import MAX_VALUE
from pyvrp.exceptions import PenaltyBoundWarning
from pyvrp.IteratedLocalSearch import IteratedLocalSearchCallbacks, IteratedLocalSearchParams
from pyvrp.PenaltyManager import PenaltyParams
from scipy.sparse.csgraph import csgraph_from_dense, dijkstra

from routing.engines import STOPPED, EngineError, Progress, ProgressCallback, ShouldStop
from routing.model import Job, Problem, Shipment, TimeWindow, Vehicle
from routing.solution import RoutePlan, Solution, Visit, build_solution
from routing.stop import Criterion, Watch
from routing.unassigned import explain, vehicle_kind, why_not_alone

NAME = "pyvrp"
FINE_SCALE = 1000  # integer unit for times or costs that are not whole: 1/1000 of the model's
_UNLIMITED = MAX_VALUE  # PyVRP's largest safe value, for missing windows and capacities
_FINISH_S_PER_TASK = 2e-4  # measured: plan building and checks take ~0.1 s per 800 tasks
# Late-acceptance history of the iterated local search. PyVRP's default (300) suits long runs;
# for runs of seconds a shorter history converges sooner. Measured on six benchmark instances
# (X-n101/157/200, R101, RC101, RC201) at fixed iteration counts, two to four seeds each: mean
# gap to best-known 0.42 % with 100 against 0.55 % with 300 at 6000 (X) and 8000 (Solomon)
# iterations, about what PyVRP does in 10 s here, and 0.67 % against 0.83 % at half of them.
PYVRP_HISTORY = 300
SHORT_RUN_HISTORY = 100
# The search where every task is optional is the answer when not all can be served: it gets at
# least this many iterations (well under a millisecond each on small problems) even once time is
# up, so a stalled machine still returns a plan rather than every task left out (CI saw it).
FALLBACK_ITERATIONS = 200
SHORT_RUN_S = 30.0


def supports(problem: Problem) -> tuple[bool, str]:
    """Whether every part of the problem maps onto PyVRP's model, and if not, the first reason."""
    for s in problem.shipments:
        if any(len(stop.time_windows) > 1 for stop in (s.pickup, s.delivery)):
            return False, f"shipment '{s.id}' has several time windows on a stop"
    for v in problem.vehicles:
        if v.breaks:
            return False, f"vehicle '{v.id}' has breaks (PyVRP has none)"
        if v.max_distance is not None and (v.cost_per_hour > 0 or v.cost_per_km <= 0):
            return False, (
                f"vehicle '{v.id}' has a max distance and a cost not proportional to distance"
            )
    scale = _time_scale(problem)
    unit = "second" if scale == 1 else "millisecond"
    for v in problem.vehicles:
        if v.shift and not _timable(v.shift, scale):
            return False, f"vehicle '{v.id}' has a shift holding no whole {unit} (PyVRP's unit)"
    for c in problem.centres:
        if c.opening and not _timable(c.opening, scale):
            return False, (
                f"centre '{c.id}' has opening hours holding no whole {unit} (PyVRP's unit)"
            )
    return True, "fits PyVRP: capacities, time windows, shipments, centres, skills, costs"


def solve(
    problem: Problem,
    *,
    time_limit_s: float = 10.0,
    seed: int = 0,
    progress: ProgressCallback | None = None,
    should_stop: ShouldStop | None = None,
    stop: Criterion | None = None,
) -> Solution:
    """Solve with PyVRP within `time_limit_s` (including the model translation), seeded;
    `should_stop` is asked at every iteration of the search, and `stop` (`routing.stop`,
    watched afresh by each of the two searches) told the best cost there (see `_Stop`)."""
    started = time.perf_counter()
    ok, reason = supports(problem)
    if not ok:
        raise EngineError(f"engine: pyvrp cannot solve this problem: {reason}")
    # the search stops early enough to leave time for building the timed plan afterwards
    tasks = len(problem.jobs) + len(problem.shipments)
    deadline = started + max(0.0, time_limit_s - _FINISH_S_PER_TASK * tasks)
    # Every task required, as PyVRP searches best; if no plan serving them all turns up in
    # half the time, some cannot be served together: the rest of the time goes to a search
    # where every task is optional, those that must be served carrying an overriding prize.
    translated = _Translation(problem)
    give_up = started + (deadline - started) / 2
    halt = _Stop(deadline, give_up=give_up, should_stop=should_stop,
                 watch=stop.watch() if stop else None)  # fmt: skip
    result = _search(translated, halt, seed, progress, started)
    iterations = result.num_iterations
    if not result.best.is_feasible() and not halt.stopped:
        translated = _Translation(problem, all_optional=True)
        halt = _Stop(deadline, at_least=FALLBACK_ITERATIONS, should_stop=should_stop,
                     watch=stop.watch() if stop else None)  # fmt: skip
        result = _search(translated, halt, seed, progress, started)
        iterations += result.num_iterations
    plans, dropped = translated.plans(result.best)
    served = {v.id for plan in plans for v in plan.visits}
    used = {plan.vehicle for plan in plans}
    unassigned = {  # a stopped solve's caller wants no plan: no need to explain it
        task.id: STOPPED if halt.stopped else (
            translated.untimable.get(task.id) or explain(problem, task.id, used=used)
        )
        for task in (*problem.jobs, *problem.shipments)
        if task.id not in served
    }  # fmt: skip
    for task_id, why in dropped.items():
        unassigned[task_id] = f"{unassigned[task_id]} ({why})"
    return build_solution(
        problem,
        plans,
        unassigned,
        engine=NAME,
        engine_reason=reason,
        runtime_s=time.perf_counter() - started,
        meta={
            "pyvrp_iterations": iterations,
            "seed": seed,
            "stopped": halt.stopped,
            "stopped_by": halt.stopped_by,
        },
    )


def _search(translated: _Translation, stop: _Stop, seed: int,
            progress: ProgressCallback | None, started: float) -> pyvrp.Result:  # fmt: skip
    callbacks = IteratedLocalSearchCallbacks()
    if progress is not None:
        callbacks = _Reporter(progress, started, translated)
    history = SHORT_RUN_HISTORY if stop.seconds <= SHORT_RUN_S else PYVRP_HISTORY
    ils = IteratedLocalSearchParams(history_length=history, callbacks=callbacks)
    with warnings.catch_warnings():
        # PyVRP warns when it struggles to find a feasible plan; `solve` handles that case
        # itself and reports every task left out with its reason.
        warnings.simplefilter("ignore", PenaltyBoundWarning)
        return pyvrp.solve(translated.data, stop=stop, seed=seed, display=False,
                           params=pyvrp.SolveParams(ils=ils,
                                                    penalty=translated.penalties()))  # fmt: skip


class _Stop:
    """PyVRP stopping criterion: the deadline, or `give_up` if no feasible plan by then, or
    the caller's `watch` (`routing.stop`) told the best feasible cost; never before `at_least`
    iterations, unless the caller's `should_stop` says to stop (then `stopped`). PyVRP asks it
    at every iteration, in Python between its C++ steps, so the caller's own threads (a job
    worker's heartbeat) run meanwhile and a cancel ends the search within an iteration of being
    heard. `stopped_by` names what ended the search (`routing.solve.solve`'s words)."""

    _INFEASIBLE = np.iinfo(np.int64).max  # PyVRP's cost of an infeasible solution

    def __init__(
        self,
        deadline: float,
        *,
        give_up: float | None = None,
        at_least: int = 0,
        should_stop: ShouldStop | None = None,
        watch: Watch | None = None,
    ) -> None:
        self._deadline = deadline
        self._give_up = give_up
        self._left = at_least
        self._should_stop = should_stop
        self._watch = watch
        self.stopped = False
        self.stopped_by = "max_runtime"
        self.seconds = max(0.0, deadline - time.perf_counter())  # the search's whole budget

    def __call__(self, best_cost: int) -> bool:
        if self._should_stop is not None and self._should_stop():
            self.stopped, self.stopped_by = True, "cancelled"
            return True
        self._left -= 1
        if self._left >= 0:
            return False
        now = time.perf_counter()
        if now >= self._deadline:
            return True
        feasible = best_cost < self._INFEASIBLE
        if self._watch is not None and self._watch(best_cost if feasible else math.inf):
            self.stopped_by = self._watch.fired or self.stopped_by
            return True
        return self._give_up is not None and now >= self._give_up and not feasible


class _Reporter(IteratedLocalSearchCallbacks):
    """Passes each new best feasible plan's cost (in the model's unit) to the progress callback."""

    def __init__(self, progress: ProgressCallback, started: float, translated: _Translation):
        self._progress = progress
        self._started = started
        self._scale = translated.cost_scale
        # with every task optional, uncollected prizes are not the model's penalties
        self._partial = translated.all_optional

    def on_best(self, best: pyvrp.Solution) -> None:
        if best.is_feasible():
            cost = best.distance_cost() + best.fixed_vehicle_cost()
            message = "new best plan (routes only; some tasks cannot all be served)"
            if not self._partial:
                cost += best.uncollected_prizes()  # optional tasks' penalties
                message = "new best plan"
            self._progress(Progress(engine=NAME, elapsed_s=time.perf_counter() - self._started,
                                    cost=cost / self._scale, message=message))  # fmt: skip


def _whole(values: np.ndarray) -> bool:
    """Whether every finite value is a whole number (then it needs no scaling)."""
    finite = values[np.isfinite(values)]
    return bool(np.all(finite == np.round(finite)))


def _time_scale(problem: Problem) -> int:
    """PyVRP's units per second: 1 when every time is whole, else `FINE_SCALE`."""
    return 1 if _whole(_time_values(problem)) else FINE_SCALE


def _timable(window: TimeWindow, scale: int) -> bool:
    """Whether the window holds a whole number of PyVRP's time units (`scale` per second),
    rounded as `_Translation` rounds windows: openings up, closings down."""
    return math.ceil(window.start * scale - 1e-6) <= math.floor(window.end * scale + 1e-6)


def _time_values(problem: Problem) -> np.ndarray:
    """Every time the problem states: travel, service, windows, shifts, openings, max durations."""
    values: list[float] = []
    for job in problem.jobs:
        values += [job.service, *(t for w in job.time_windows for t in (w.start, w.end))]
    for s in problem.shipments:
        for stop in (s.pickup, s.delivery):
            values += [stop.service, *(t for w in stop.time_windows for t in (w.start, w.end))]
    for v in problem.vehicles:
        values += [t for w in (v.shift,) if w for t in (w.start, w.end)]
        values += [v.max_duration] if v.max_duration is not None else []
    for c in problem.centres:
        values += [t for w in (c.opening,) if w for t in (w.start, w.end)]
    used = {v.profile for v in problem.vehicles}
    matrices = [problem.travel(p).durations.ravel() for p in sorted(used)]
    return np.concatenate([np.array(values, dtype=np.float64), *matrices])


class _Translation:
    """The problem as PyVRP `ProblemData`, and the way back from PyVRP routes to route plans."""

    def __init__(self, problem: Problem, *, all_optional: bool = False) -> None:
        self.problem = problem
        self.all_optional = all_optional
        self.dims = problem.n_dims
        self.time_scale = _time_scale(problem)
        # one vehicle of each kind, to try tasks on
        self._kinds = list({vehicle_kind(v): v for v in problem.vehicles}.values())
        self._shortcuts: dict[str, _Shortcuts] = {}
        # Tasks PyVRP cannot time (task id -> why), left out with that reason.
        self.untimable = {t.id: why for t in (*problem.jobs, *problem.shipments)
                          if (why := self._untimable(t))}  # fmt: skip
        # A task no vehicle can serve in any route stays out: PyVRP would otherwise spoil the
        # route it is put on.
        self.jobs = [j for j in problem.jobs if j.id not in self.untimable and self._servable(j)]
        self.shipments = [s for s in problem.shipments
                          if s.id not in self.untimable and self._servable(s)]  # fmt: skip
        # PyVRP clients: one per job, or one per time window of a job that has several (those
        # form a mutually exclusive group: exactly one is visited).
        self.client_jobs: list[Job] = []
        self._client_windows: list[tuple[TimeWindow, ...]] = []
        self._grouped: set[str] = set()
        for job in self.jobs:
            timed = [w for w in job.time_windows if _timable(w, self.time_scale)]
            windows = [(w,) for w in timed] if len(timed) > 1 else [tuple(timed)]
            if len(windows) > 1:
                self._grouped.add(job.id)
            self.client_jobs += [job] * len(windows)
            self._client_windows += windows
        self.groups: list[pyvrp.ClientGroup] = []

        # PyVRP locations: the depots, one per client, two per shipment; `rows` maps each to its
        # row of the model's matrices, row n being an open route's end (free to reach, leave).
        ends = {c for v in problem.vehicles for c in (v.start, v.end)}
        self.centre_ids = sorted(ends, key=lambda c: (c is None, c or ""))
        n = problem.n_locations
        rows = [n if c is None else problem.centre(c).location for c in self.centre_ids]
        rows += [j.location for j in self.client_jobs]
        rows += [x.location for s in self.shipments for x in (s.pickup, s.delivery)]
        self._rows = np.array(rows)
        self._first_shipment = len(self.centre_ids) + len(self.client_jobs)

        # One PyVRP profile per travel profile, cost rates, max distance use and the tasks the
        # vehicle may not serve (skills, firm), whose arcs it sees at PyVRP's largest value.
        keys = {v.id: (v.profile, v.cost_per_km, v.cost_per_hour, v.max_distance is not None,
                       self._barred(v)) for v in problem.vehicles}  # fmt: skip
        profile_keys = list(dict.fromkeys(keys.values()))
        costs = [self._arc_costs(*key[:3]) for key in profile_keys]
        stated = [v.fixed_cost for v in problem.vehicles]
        stated += [t.penalty for t in (*self.jobs, *self.shipments) if t.optional]
        exact = all(_whole(c) for c in costs) and _whole(np.array(stated, dtype=np.float64))
        self.cost_scale = 1 if exact else FINE_SCALE
        # a prize larger than anything serving one task can cost (two arcs and a vehicle)
        finite = [c[np.isfinite(c)].max(initial=0.0) for c in costs]
        most = 2 * max(finite, default=0.0) + max(stated, default=0.0)
        tasks = len(self.jobs) + len(self.shipments)
        self.must_prize = min(self._money(10 * most) + 1, 2**62 // (101 * (tasks + 1)))
        distance_mats = [self._integer_costs(c, capped=key[3], barred=key[4])
                         for c, key in zip(costs, profile_keys, strict=True)]  # fmt: skip
        duration_mats = [self._durations(key[0]) for key in profile_keys]

        groups: dict[tuple, list[Vehicle]] = defaultdict(list)
        for v in problem.vehicles:
            groups[(profile_keys.index(keys[v.id]), *self._type_key(v))].append(v)
        self.type_vehicles = list(groups.values())
        depots = [self._depot(i, c) for i, c in enumerate(self.centre_ids)]
        first = len(depots)
        clients = [self._client(k, first + k) for k in range(len(self.client_jobs))]
        self.data = pyvrp.ProblemData(
            [pyvrp.Location(*(problem.coordinates(r) or (0.0, 0.0))) for r in rows],
            clients,
            depots,
            [self._vehicle_type(vs, profile) for (profile, *_), vs in groups.items()],
            distance_mats,
            duration_mats,
            groups=self.groups,
            shipments=[
                self._shipment(s, self._first_shipment + 2 * k)
                for k, s in enumerate(self.shipments)
            ],
        )

    def _servable(self, task: Job | Shipment) -> bool:
        """Whether some vehicle might serve the task in some route.

        Alone is the easiest way to serve a task only where travel keeps the triangle
        inequality; where it does not (or a direct road is missing), a stop may be reached
        sooner through others. So a task that fails alone is dropped only if it also fails
        with every leg cut to its shortest path through the stops: a relaxation of any route
        (waiting and service only add time, other stops only add load)."""
        problem = self.problem
        kinds = [v for v in self._kinds if problem.vehicle_may_serve(v, task)]
        if any(why_not_alone(problem, v, task) is None for v in kinds):
            return True
        return any(
            why_not_alone(problem, v, task, travel=self._shortest(v.profile)) is None
            for v in kinds
        )

    def penalties(self) -> PenaltyParams:
        """PyVRP's penalty parameters, with the cap on a unit of excess load, time warp or
        distance (`max_penalty`) above the largest prize, so that keeping a task in a route it
        overloads never pays: under PyVRP's cap (1e5) an optional task with a larger penalty
        kept its route infeasible for the whole search. The cap rises only as far as the
        largest violation PyVRP could price (every load at once, every route warping through
        the longest arcs) stays below 2**62 at it.

        Costs scaled by `FINE_SCALE` scale the penalties alike (the start, and the cap as far as
        it may rise): PyVRP prices a unit of excess load (or time warp) against costs of the
        instance's own magnitude, and against costs in thousandths its defaults were a thousand
        times weaker. Overloading a van then cost less than another route: on a 10-parcel day
        of 3 vans for 4 each PyVRP found no plan serving every parcel in 5 s (the fallback
        search did), on others it settled 2-3 % dearer than OR-Tools on every seed (5 and 5
        parcels on two vans of 8, where 2 and 8 is cheaper), though it priced OR-Tools' plan
        lower too and kept it when started from it.
        """
        default = PenaltyParams()
        prizes = [self._money(t.penalty) for t in (*self.jobs, *self.shipments) if t.optional]
        if self.all_optional:
            prizes.append(self.must_prize * 101)
        data = self.data
        steps = [x for sh in data.shipments() for x in (sh.pickup, sh.delivery)]
        loads = [sum(c.delivery) + sum(c.pickup) for c in data.clients()]
        loads += [2 * sum(sh.amount) for sh in data.shipments()]
        matrices = list(data.duration_matrices())
        if any(v.max_distance is not None for v in self.problem.vehicles):
            matrices += data.distance_matrices()
        longest = max(int(m.max(initial=0)) for m in matrices)
        services = sum(x.service_duration for x in (*data.clients(), *steps))
        opens = max([x.tw_early for x in (*data.clients(), *steps)], default=0)
        per_route = opens + services + (data.num_locations + 1) * longest
        worst = sum(loads) + data.num_vehicles * per_route + 1
        scaled = default.max_penalty * self.cost_scale
        cap = min(max(max(prizes, default=0) + 1, scaled), 2**62 // worst)
        per_time = self.cost_scale / self.time_scale  # time warp is in PyVRP's time units
        return _PenaltyParams(
            max_penalty=max(default.max_penalty, float(cap)),
            scales=(float(self.cost_scale), per_time, 1.0),  # distances are costs here
        )

    def _shortest(self, profile: str) -> _Shortcuts:
        if profile not in self._shortcuts:
            self._shortcuts[profile] = _Shortcuts(self.problem, profile)
        return self._shortcuts[profile]

    def _untimable(self, task: Job | Shipment) -> str | None:
        """Why PyVRP cannot time the task, if so: every window of a stop falls between two
        whole units of its time (rounding it outward would let the real plan miss it), or
        only such windows could be met.

        A job with a window PyVRP can time and one it cannot keeps only the first in PyVRP's
        model; if no route can meet that one (say it closes before a vehicle can arrive), PyVRP
        leaves the job out, and the reason, judged on every window in real seconds, blamed
        the room beside other tasks. So the job is refused here, naming its windows, when it
        could be served alone only in windows PyVRP cannot time."""
        stops = [("", task.time_windows)] if isinstance(task, Job) else [
            ("pickup ", task.pickup.time_windows), ("delivery ", task.delivery.time_windows)]
        unit = "second" if self.time_scale == 1 else "millisecond"
        for name, windows in stops:
            if windows and not any(_timable(w, self.time_scale) for w in windows):
                return (f"PyVRP cannot serve it: its {name}time windows hold no whole {unit}, "
                        "PyVRP's unit of time here")  # fmt: skip
        if not isinstance(task, Job):  # a shipment's stops have one window each (`supports`)
            return None
        timable = tuple(w for w in task.time_windows if _timable(w, self.time_scale))
        if len(timable) < len(task.time_windows):
            timed = task.model_copy(update={"time_windows": timable})
            if not self._servable(timed) and self._servable(task):
                return (f"PyVRP cannot serve it: the time windows it could be served in hold no "
                        f"whole {unit}, PyVRP's unit of time here")  # fmt: skip
        return None

    def _barred(self, v: Vehicle) -> frozenset[str]:
        """Ids of the tasks this vehicle may not serve (skills it lacks, another firm's)."""
        tasks = (*self.jobs, *self.shipments)
        return frozenset(t.id for t in tasks if not self.problem.vehicle_may_serve(v, t))

    # ---- scaling
    def _up(self, seconds: float) -> int:
        if math.isinf(seconds):
            return _UNLIMITED
        return min(math.ceil(seconds * self.time_scale - 1e-6), _UNLIMITED)

    def _down(self, seconds: float) -> int:
        if math.isinf(seconds):
            return _UNLIMITED
        return min(math.floor(seconds * self.time_scale + 1e-6), _UNLIMITED)

    def _window(self, windows: tuple[TimeWindow, ...]) -> dict[str, int]:
        if not windows:
            return {"tw_early": 0, "tw_late": _UNLIMITED}
        return {"tw_early": self._up(windows[0].start), "tw_late": self._down(windows[0].end)}

    def _money(self, amount: float) -> int:
        return round(amount * self.cost_scale)

    # ---- building
    def _amount(self, values: tuple[int, ...]) -> list[int]:
        return list(self.problem.amount(values)) if self.dims else []

    def _prize(self, task: Job | Shipment) -> dict[str, Any]:
        if task.optional:
            return {"required": False, "prize": self._money(task.penalty)}
        if self.all_optional:
            return {"required": False, "prize": self.must_prize * (1 + task.priority)}
        return {}

    def _client(self, index: int, location: int) -> pyvrp.Client:
        """The PyVRP client `index`; with several windows, a member of its job's group, which
        carries the need to visit (members are optional)."""
        job = self.client_jobs[index]
        prize = self._prize(job)
        group = None
        if job.id in self._grouped:
            if not self.groups or self.groups[-1].name != job.id:
                required = prize.get("required", True)
                self.groups.append(pyvrp.ClientGroup(required=required, name=job.id))
            group = len(self.groups) - 1
            self.groups[group].add_client(index)
            prize = {"required": False, "prize": prize.get("prize", 0)}
        return pyvrp.Client(location, delivery=self._amount(job.delivery),
                            pickup=self._amount(job.pickup),
                            service_duration=self._up(job.service),
                            **self._window(self._client_windows[index]), **prize, group=group,
                            name=job.id)  # fmt: skip

    def _shipment(self, s: Shipment, location: int) -> pyvrp.Shipment:
        pick, drop = self._window(s.pickup.time_windows), self._window(s.delivery.time_windows)
        return pyvrp.Shipment(
            location,
            location + 1,
            pickup_tw_early=pick["tw_early"],
            pickup_tw_late=pick["tw_late"],
            pickup_service_duration=self._up(s.pickup.service),
            delivery_tw_early=drop["tw_early"],
            delivery_tw_late=drop["tw_late"],
            delivery_service_duration=self._up(s.delivery.service),
            amount=self._amount(s.amount),
            **self._prize(s),
            name=s.id,
        )

    def _durations(self, profile: str) -> np.ndarray:
        seconds = self._between(self.problem.travel(profile).durations)
        scaled = np.ceil(np.minimum(seconds * self.time_scale - 1e-6, _UNLIMITED))
        return np.maximum(scaled, 0).astype(np.int64)

    def _arc_costs(self, profile: str, per_km: float, per_hour: float) -> np.ndarray:
        """The model's cost of each arc for a vehicle paying `per_km` and `per_hour`."""
        travel = self.problem.travel(profile)
        distances, durations = self._between(travel.distances), self._between(travel.durations)
        cost = np.zeros_like(distances)
        if per_km:
            cost = cost + per_km / 1000.0 * distances
        if per_hour:
            cost = cost + per_hour / 3600.0 * durations
        return np.where(np.isinf(durations) | np.isinf(distances), np.inf, cost)

    def _between(self, matrix: np.ndarray) -> np.ndarray:
        """The model's matrix between PyVRP locations (the open route end costs nothing)."""
        padded = np.pad(matrix, (0, 1))
        return padded[np.ix_(self._rows, self._rows)]

    def _integer_costs(
        self, cost: np.ndarray, *, capped: bool, barred: frozenset[str]
    ) -> np.ndarray:
        """Scaled arc costs; rounded up where they also enforce a max distance; PyVRP's largest
        value to and from the locations of tasks the vehicle may not serve."""
        scaled = np.minimum(cost * self.cost_scale, _UNLIMITED)
        scaled = np.ceil(scaled - 1e-6) if capped else np.round(scaled)
        scaled = np.maximum(scaled, 0).astype(np.int64)
        blocked = [i for i, t in enumerate(self._location_tasks()) if t in barred]
        scaled[blocked, :] = scaled[:, blocked] = _UNLIMITED
        np.fill_diagonal(scaled, 0)
        return scaled

    def _location_tasks(self) -> list[str | None]:
        """The task id at each PyVRP location (None at depots)."""
        return (
            [None] * len(self.centre_ids)
            + [j.id for j in self.client_jobs]
            + [s.id for s in self.shipments for _ in (0, 1)]
        )

    @staticmethod
    def _type_key(v: Vehicle) -> tuple:
        """What makes two vehicles one PyVRP vehicle type, beside their profile key (travel
        profile, per-km and per-hour costs, barred tasks): their kind (`vehicle_kind`: every
        field but names and costs, so a field added to `Vehicle` later splits types rather
        than giving one vehicle's value to all) and their fixed cost, which the type carries.
        The kind's skills and firm split a little more than the barred tasks alone would."""
        return (*vehicle_kind(v), v.fixed_cost)

    def _depot(self, index: int, centre: str | None) -> pyvrp.Depot:
        """The PyVRP depot of a centre, open when the centre is: PyVRP's depot window bounds
        both a route's departure from it and its return to it (waiting there if early), the
        model's opening-hours rule for start and end centres alike."""
        opening = None if centre is None else self.problem.centre(centre).opening
        return pyvrp.Depot(index, **self._window((opening,) if opening else ()), name=centre or "")

    def _vehicle_type(self, vehicles: list[Vehicle], profile: int) -> pyvrp.VehicleType:
        v = vehicles[0]
        early = v.shift.start if v.shift else 0.0
        late = v.shift.end if v.shift else math.inf
        capacity = [_UNLIMITED] * self.dims if v.capacity is None else list(v.capacity)
        extra: dict[str, int] = {}
        if v.max_duration is not None:
            extra["shift_duration"] = self._down(v.max_duration)
        if v.max_distance is not None:
            # Arc costs are cost_per_km / 1000 per distance unit (checked by `supports`).
            limit = v.max_distance * v.cost_per_km / 1000 * self.cost_scale
            extra["max_distance"] = math.floor(limit + 1e-6)
        return pyvrp.VehicleType(
            num_available=len(vehicles),
            capacity=capacity,
            start_depot=self.centre_ids.index(v.start),
            end_depot=self.centre_ids.index(v.end),
            fixed_cost=self._money(v.fixed_cost),
            tw_early=self._up(early),
            tw_late=self._down(late),
            unit_distance_cost=1,
            profile=profile,
            **extra,
            name=v.id,
        )

    # ---- reading back
    def plans(self, best: pyvrp.Solution) -> tuple[list[RoutePlan], dict[str, str]]:
        """Route plans for the feasible routes; an infeasible route is cut back to its longest
        feasible start (`_feasible_part`), so a plan that overloads a vehicle still serves what
        fits rather than nothing. Tasks cut off are returned as dropped (task id -> what was
        violated) so the plan stays valid."""
        free = [list(vs) for vs in self.type_vehicles]
        plans, dropped = [], {}
        for found in best.routes():
            why = _violated(found)
            route, cut = _feasible_part(self.data, found, self._optional_prize)
            for activity in cut:
                dropped[self._visit(activity).id] = f"PyVRP found no feasible route for it: {why}"
            visits = [self._visit(a) for a in route.schedule() if not a.is_depot()]
            if not visits:
                continue
            vehicle = free[route.vehicle_type()][0]
            barred = [v.id for v in visits if not self._may_serve(vehicle, v.id)]
            if barred:
                for visit in visits:
                    dropped[visit.id] = "PyVRP found no feasible route for it: skills or firm"
                continue
            free[route.vehicle_type()].pop(0)
            departure = route.start_time() / self.time_scale
            plans.append(RoutePlan(vehicle.id, visits, departure=departure))
        return plans, dropped

    def _optional_prize(self, activity: Any) -> int | None:
        """The prize of an optional task's PyVRP activity; None for a task that must be served."""
        task = (self.client_jobs if activity.is_client() else self.shipments)[activity.idx]
        return self._money(task.penalty) if task.optional else None

    def _may_serve(self, vehicle: Vehicle, task_id: str) -> bool:
        problem = self.problem
        task = problem.job(task_id) if problem.has_job(task_id) else problem.shipment(task_id)
        return problem.vehicle_may_serve(vehicle, task)

    def _visit(self, activity: Any) -> Visit:
        if activity.is_client():
            return Visit("job", self.client_jobs[activity.idx].id)
        shipment = self.shipments[activity.idx]
        return Visit("pickup" if activity.is_pickup() else "delivery", shipment.id)


@dataclass
class _PenaltyParams(PenaltyParams):
    """PyVRP's penalty parameters whose search starts from PyVRP's default penalties (its
    default midpoint) times `scales` (load, duration, distance: see
    `_Translation.penalties`), whatever the cap."""

    scales: tuple[float, float, float] = (1.0, 1.0, 1.0)

    def midpoint_penalties(self, data: pyvrp.ProblemData) -> tuple[list[float], float, float]:
        loads, duration, distance = PenaltyParams().midpoint_penalties(data)
        load_scale, duration_scale, distance_scale = self.scales
        return (
            [x * load_scale for x in loads],
            duration * duration_scale,
            distance * distance_scale,
        )


class _Shortcuts:
    """A profile's travel cut to shortest paths through the places routes visit (centres and
    task stops): no route can make a leg faster or shorter. Read like `TravelMatrices`."""

    def __init__(self, problem: Problem, profile: str) -> None:
        places = {c.location for c in problem.centres} | {j.location for j in problem.jobs}
        places |= {x.location for s in problem.shipments for x in (s.pickup, s.delivery)}
        ordered = np.array(sorted(places))
        at = {int(place): k for k, place in enumerate(ordered)}
        travel, among = problem.travel(profile), np.ix_(ordered, ordered)
        self.durations = _Nearest(travel.durations[among], at)
        self.distances = _Nearest(travel.distances[among], at)


class _Nearest:
    """Shortest paths on one matrix, indexed by the model's location pairs; each source is
    solved when first asked for (only tasks that fail alone ask). Zero-length arcs (two stops
    at one place) are arcs: inf, not 0, marks a missing road."""

    def __init__(self, matrix: np.ndarray, at: dict[int, int]) -> None:
        self._graph, self._at = csgraph_from_dense(matrix, null_value=np.inf), at
        self._rows: dict[int, np.ndarray] = {}

    def __getitem__(self, pair: tuple[int, int]) -> float:
        a, b = pair
        if a not in self._rows:
            self._rows[a] = dijkstra(self._graph, indices=self._at[a])
        return float(self._rows[a][self._at[b]])


def _feasible_part(
    data: pyvrp.ProblemData, route: pyvrp.Route, prize: Callable[[Any], int | None]
) -> tuple[pyvrp.Route, list[Any]]:
    """A feasible part of an infeasible route and the activities cut from it.

    PyVRP's best plan is infeasible when no penalty it may use outweighs the prizes of tasks
    that cannot all fit (loads are penalised per unit up to a bound), so an optional task with
    a large penalty can overload a route of required ones. Optional tasks (`prize` of an
    activity: its prize, None when required) are dropped first, lowest prize first, each
    only if that lessens what the route breaks; then the route is cut from its end, which only
    lowers the load carried and the time warp. A shipment's pickup and delivery go together.
    """
    vehicle_type = route.vehicle_type()
    kept = [pyvrp.Activity(a.type, a.idx) for a in route.schedule() if not a.is_depot()]
    cut: list[Any] = []
    optional = {(a.is_client(), a.idx): p for a in kept if (p := prize(a)) is not None}
    for task in sorted(optional, key=optional.__getitem__):
        if route.is_feasible():
            break
        rest = [a for a in kept if (a.is_client(), a.idx) != task]
        trial = pyvrp.Route(data, rest, vehicle_type)
        if _lessens(trial, route):
            cut += [a for a in kept if (a.is_client(), a.idx) == task]
            kept, route = rest, trial
    while not route.is_feasible():
        last = kept.pop()
        pair = [a for a in kept if last.is_shipment() and a.is_shipment() and a.idx == last.idx]
        kept = [a for a in kept if not any(a is b for b in pair)]
        cut += [last, *pair]
        route = pyvrp.Route(data, kept, vehicle_type)
    return route, cut


def _lessens(trial: pyvrp.Route, route: pyvrp.Route) -> bool:
    """Whether `trial` breaks no limit more than `route` does, and some limit less."""
    before = (*route.excess_load(), route.time_warp(), route.excess_distance())
    after = (*trial.excess_load(), trial.time_warp(), trial.excess_distance())
    return all(a <= b for a, b in zip(after, before, strict=True)) and after != before


def _violated(route: pyvrp.Route) -> str:
    """What an infeasible PyVRP route breaks, in words."""
    if route.has_time_warp():
        return "time windows or shift"
    return "capacity" if route.has_excess_load() else "max distance"
