"""The general engine: OR-Tools routing with every part of the model.

How the model maps onto OR-Tools (following its documentation and maintainers' advice):
- travel as matrices (no Python code of ours runs in the search): the arc cost one per cost
  class with `RegisterTransitMatrix`, the time (and distance) one per travel profile as a
  lookup in C (see `_Builder._dimension_transits`);
- a "time" dimension whose transit i->j is service(i) + travel(i, j); several time windows
  are `SetRange` plus `RemoveInterval` for the gaps; shifts and centre opening hours bound the
  route start and end; max duration is the vehicle's span upper bound;
- breaks are interval variables given to `SetBreakIntervalsOfVehicle`, kept inside the route
  and apart from each other; a vehicle one of whose breaks fits nowhere serves nothing;
- capacities are one dimension per capacity dimension (delivered loads are on board at the
  start, pickups come back to the end, shipments ride from pickup to delivery);
- skills and firms (when not pooled) restrict the values of each task's `VehicleVar`;
- every task is a disjunction: optional ones with their penalty, mandatory ones with a penalty
  larger than any plan's cost, so an impossible task is left out (with a reason) rather than
  making the whole problem infeasible;
- shipments are pickup-and-delivery pairs on one vehicle, pickup first;
- arcs between centres are free, as only an unused vehicle's empty route takes them (see
  `_Builder._free_empty`), so a vehicle that cannot go straight home in time stays unused;
- first solution by parallel cheapest insertion (savings for plain capacitated problems),
  limited to each stop's nearest neighbours, or local cheapest insertion, where all of it would
  not fit its share of the time limit (see `insertion_plan`), then guided local search until
  the time limit.
OR-Tools needs integers: times and costs are scaled by 1000 when the data are not whole
numbers, with travel times rounded up so that a plan feasible here is feasible in seconds.
"""

from __future__ import annotations

import functools
import itertools
import math
import time
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from ortools.constraint_solver import pywrapcp, routing_enums_pb2, routing_parameters_pb2

from routing.engines import (
    NO_PLAN_IN_TIME,
    STOPPED,
    EngineError,
    Progress,
    ProgressCallback,
    ShouldStop,
)
from routing.model import Break, Problem, TimeWindow, Vehicle
from routing.solution import RoutePlan, Solution, Visit, build_solution
from routing.stop import Criterion, Watch
from routing.unassigned import explain, fits_alone

NAME = "ortools"
FINE = 1000  # scale for data that are not whole numbers
_FS = routing_enums_pb2.FirstSolutionStrategy
FIRST_SOLUTIONS = {  # names for `solve(first_solution=...)`
    "parallel": _FS.PARALLEL_CHEAPEST_INSERTION,  # best plans; slow start on big timed ones
    "local": _FS.LOCAL_CHEAPEST_INSERTION,  # fast start, then more time for local search
    "savings": _FS.SAVINGS,
}
# Guided local search's penalty weight from a restored plan (OR-Tools' default is 0.1): a
# lighter one leaves that good plan's arcs less penalised. Measured on the rich benchmark from
# fixed PyVRP starts (3 per instance, 2 s): one start of rich-060-a 29986 -> 29823, the same
# elsewhere; the metaheuristic (tabu, annealing), full propagation, CP-SAT and more LNS
# operators changed nothing there.
WARM_GLS_LAMBDA = 0.05
# The most of the time left after building the model that restoring another plan may take: a
# plan OR-Tools cannot restore in that leaves its tasks to the search (see `_Builder.restore`).
RESTORE_SHARE = 0.6
MIN_SEARCH_S = 0.05  # the least time a search is given, even past the deadline
# A dimension's table holds a cell per pair of OR-Tools indices, a vehicle's start and end
# each one: past this many indices per place the fleet dominates the places, and the
# matrix (a cell per pair of places) is used instead (see `_Builder._dimension_transits`).
TABLE_MAX_INDICES_PER_NODE = 2
# ... unless the table is this small anyway (16 MB in int32): with 199 vans on 200 places
# (CMT-like) every route check copied the 200^2 matrix, and an insertion operator that checks
# every route before it looks at the clock held the search 1-4 s past its limit.
TABLE_MAX_CELLS = 4_000_000
# Parallel cheapest insertion's seconds per unit of `_insertion_work`, wall time: on Li & Lim-
# and Gehring & Homberger-like files of 200-1,000 tasks (benchmarks/ortools_scale.py
# --insertion) 1.3e-7 to 9.5e-7 at load 2, up to 1.9e-6 at load 3 (so the constant allows
# for a busy machine); city days of 500-3,000 jobs 6-7e-7; the rich benchmark's days with
# breaks 1.4e-6 to 1.1e-5 (a fraction of a second either way at their size).
INSERTION_S_PER_WORK = 2e-6
FIRST_PLAN_SHARE = 0.25  # of the time limit the first plan may take by that estimate
# The fewest nearest neighbours parallel insertion considers per stop: with 20 it left tasks
# out of its plan on Li & Lim-like files; below this, local cheapest insertion instead.
MIN_NEIGHBOURS = 40
# Up to this many stops parallel insertion always considers every stop: it reaches its plan
# in under a second there (0.74 s for 100 shipments without capacities and 8 vans, 0.25 s on a
# 200-stop Li & Lim-like day), where the estimate, which assumes the fewest routes the loads
# need, overshot 8-10x and local insertion's start made plans 28-48 % dearer at 1-5 s.
FULL_INSERTION_STOPS = 300


def supports(problem: Problem) -> tuple[bool, str]:
    """OR-Tools handles every part of the model."""
    return True, "OR-Tools supports every part of the model"


@dataclass(frozen=True)
class _Node:
    """One OR-Tools node: a centre (or the open-route dummy, location None) or a task stop."""

    location: int | None
    service: float = 0.0
    windows: tuple[TimeWindow, ...] = ()
    visit: str | None = None  # "job" / "pickup" / "delivery"
    task: str | None = None


def _whole(values: np.ndarray | Sequence[float]) -> bool:
    arr = np.asarray(values, dtype=np.float64)
    arr = arr[np.isfinite(arr)]
    return bool(np.all(np.abs(arr - np.round(arr)) < 1e-9))


class _Builder:
    """Builds the OR-Tools model for one problem and reads its solution back."""

    def __init__(self, problem: Problem) -> None:
        self.p = problem
        self.nodes: list[_Node] = []
        self.centre_node: dict[str | None, int] = {}
        for v in problem.vehicles:
            for ref in (v.start, v.end):
                if ref not in self.centre_node:
                    loc = None if ref is None else problem.centre(ref).location
                    self.centre_node[ref] = len(self.nodes)
                    self.nodes.append(_Node(location=loc))
        self.n_centres = len(self.nodes)  # centre nodes come first
        self.task_nodes: dict[str, list[int]] = {}
        for j in problem.jobs:
            self.task_nodes[j.id] = [len(self.nodes)]
            self.nodes.append(_Node(j.location, j.service, j.time_windows, "job", j.id))
        for s in problem.shipments:
            self.task_nodes[s.id] = [len(self.nodes), len(self.nodes) + 1]
            self.nodes.append(
                _Node(s.pickup.location, s.pickup.service, s.pickup.time_windows, "pickup", s.id)
            )
            self.nodes.append(
                _Node(
                    s.delivery.location,
                    s.delivery.service,
                    s.delivery.time_windows,
                    "delivery",
                    s.id,
                )
            )
        self.locs = np.array([-1 if n.location is None else n.location for n in self.nodes])
        self._choose_scales()

    # ------------------------------------------------------------------ scaling
    def _choose_scales(self) -> None:
        p = self.p

        def bounds(windows: Sequence[TimeWindow | None]) -> list[float]:
            return [x for w in windows if w is not None for x in (w.start, w.end)]

        times: list[float] = [n.service for n in self.nodes]
        times += bounds([w for n in self.nodes for w in n.windows])
        times += bounds([v.shift for v in p.vehicles] + [c.opening for c in p.centres])
        times += [v.max_duration for v in p.vehicles if v.max_duration is not None]
        times += [b.duration for v in p.vehicles for b in v.breaks]
        times += bounds([w for v in p.vehicles for b in v.breaks for w in b.windows])
        whole = _whole(times) and all(_whole(m.durations) for m in p.matrices.values())
        self.ts = 1 if whole else FINE
        costs = [v.fixed_cost for v in p.vehicles]
        costs += [t.penalty for t in (*p.jobs, *p.shipments) if t.penalty is not None]
        whole_cost = _whole(costs) and all(
            _whole(self._cost_matrix(v)) for v in self._cost_classes().values()
        )
        self.cs = 1 if whole_cost else FINE
        ends = [x for x in times if math.isfinite(x)]
        travel_max = max(
            (
                float(np.max(m.durations[np.isfinite(m.durations)], initial=0.0))
                for m in p.matrices.values()
            ),
            default=0.0,
        )
        bound = sum(n.service for n in self.nodes) + (len(self.nodes) + 2) * travel_max
        bound += sum(b.duration for v in p.vehicles for b in v.breaks)
        self.horizon = math.ceil((max(ends, default=0.0) + bound + 1) * self.ts)

    def t_up(self, seconds: float) -> int:
        return math.ceil(seconds * self.ts - 1e-6)

    def t_down(self, seconds: float) -> int:
        return math.floor(seconds * self.ts + 1e-6)

    def units(self, start: float, end: float) -> tuple[int, int]:
        """The window [start, end] of seconds (end may be inf) in whole time units, at most
        the horizon.

        Rounded inward (start up, end down), so any time OR-Tools picks lies in the window.
        A window too narrow to hold a whole unit (under 1 ms between non-whole times at the
        fine scale; whole data never are) would then be empty and make the model fail, so it
        becomes the one unit nearest its middle instead: at most half a unit (0.5 ms) outside
        the window, well within the checker's tolerance, rather than a crash.
        """
        lo = self.t_up(start)
        hi = self.horizon if math.isinf(end) else min(self.horizon, self.t_down(end))
        if lo > hi:
            lo = hi = min(self.horizon, round((start + end) / 2 * self.ts))
        return lo, hi

    def domain(self, windows: Sequence[TimeWindow]) -> list[tuple[int, int]]:
        """Disjoint, sorted unit ranges covering the windows (see `units`); windows that
        rounding brings together are merged."""
        merged: list[tuple[int, int]] = []
        for lo, hi in (self.units(w.start, w.end) for w in windows):
            if merged and lo <= merged[-1][1] + 1:
                merged[-1] = (merged[-1][0], max(merged[-1][1], hi))
            else:
                merged.append((lo, hi))
        return merged

    # ------------------------------------------------------------------ matrices
    def _cost_classes(self) -> dict[tuple[str, float, float], Vehicle]:
        classes: dict[tuple[str, float, float], Vehicle] = {}
        for v in self.p.vehicles:
            classes.setdefault((v.profile, v.cost_per_km, v.cost_per_hour), v)
        return classes

    def _node_matrix(self, m: np.ndarray) -> np.ndarray:
        """A location matrix spread over nodes; the open-route dummy is 0 from and to all."""
        locs = np.where(self.locs < 0, 0, self.locs)
        out = m[np.ix_(locs, locs)].astype(np.float64)
        dummy = self.locs < 0
        out[dummy, :] = 0.0
        out[:, dummy] = 0.0
        return out

    def _cost_matrix(self, v: Vehicle) -> np.ndarray:
        """Cost per arc; not finite where no road joins the two (a zero rate times such an
        arc's inf is nan, which callers treat as inf, so numpy's warning is silenced)."""
        t = self.p.travel(v.profile)
        with np.errstate(invalid="ignore"):
            return (
                v.cost_per_km * self._node_matrix(t.distances) / 1000.0
                + v.cost_per_hour * self._node_matrix(t.durations) / 3600.0
            )

    def _free_empty(self, transits: np.ndarray) -> np.ndarray:
        """The transits with those between centre nodes zeroed: only an empty route takes
        such an arc (a used one goes from its start to its stops and on to its end).

        OR-Tools holds an unused vehicle's empty route, start -> end, to every dimension, so
        a vehicle that cannot drive straight from its start centre to its end centre within
        its hours or max distance (or at all) would make the whole model infeasible and no
        plan be found. With those arcs free its empty route always fits (it stays unused if
        it can serve nothing), while a used route still pays every leg it drives.
        """
        transits[: self.n_centres, : self.n_centres] = 0
        return transits

    def _dimension_transits(self, transits: np.ndarray) -> int:
        """A dimension's node transits (centre-to-centre arcs freed, see `_free_empty`)
        registered as a lookup by OR-Tools' variable indices: a numpy table's bound `item`.

        Not `RegisterTransitMatrix`: OR-Tools (9.15) passes a dimension's evaluator by value
        to its cumul filter, which so copies the whole matrix held inside it at each route it
        checks, O(nodes^2) every time. On 3,000 jobs (72 MB a copy) the first-solution
        heuristic outlasted a 30 s limit and the plan left nine jobs in ten out; on R101 (100
        customers) the copies took half the search's time. A bound method copies as a
        reference and reads the table in C, so the search runs no Python code of ours and
        makes the same moves, only faster. Arc costs stay a matrix: OR-Tools reads those in
        place.
        """
        transits = self._free_empty(transits)
        routing = self.routing
        size = routing.Size() + routing.vehicles()  # starts and ends included
        if size > TABLE_MAX_INDICES_PER_NODE * len(self.nodes) and size * size > TABLE_MAX_CELLS:
            # a fleet far larger than the places (10 jobs, 2,000 vans: two tables of 4,010^2,
            # 128 MB): the matrix, by node, stays small, and so do its copies
            return routing.RegisterTransitMatrix(transits.tolist())
        nodes = np.array([self.manager.IndexToNode(i) for i in range(size)])
        lo, hi = int(transits.min(initial=0)), int(transits.max(initial=0))
        narrow = lo >= -(2**31) and hi < 2**31  # half the memory: 38 MB on 3,000 jobs
        table = np.ascontiguousarray(
            transits[np.ix_(nodes, nodes)], dtype=np.int32 if narrow else np.int64
        )
        self._tables.append(table)  # kept alive with the model that reads it
        if lo >= 0:  # as RegisterTransitMatrix finds it: OR-Tools relies on it
            return routing.RegisterTransitCallback(
                table.item, routing.kTransitEvaluatorSignPositiveOrZero
            )
        return routing.RegisterTransitCallback(table.item)

    # ------------------------------------------------------------------ model
    def build(self, *, finalizers: bool = True) -> None:
        """The OR-Tools model. `finalizers` (earliest finish, then latest start per vehicle)
        give compact schedules, but a search from a restored plan fails with them."""
        self.finalizers = finalizers
        # vehicle index -> why no plan could use it; such a vehicle serves no task
        self.unusable: dict[int, str] = {}
        p = self.p
        starts = [self.centre_node[v.start] for v in p.vehicles]
        ends = [self.centre_node[v.end] for v in p.vehicles]
        self.manager = pywrapcp.RoutingIndexManager(len(self.nodes), len(p.vehicles), starts, ends)
        self.routing = pywrapcp.RoutingModel(self.manager, _model_parameters())
        self._tables: list[np.ndarray] = []
        self._costs()
        self._time()
        self._capacities()
        self._distance_limits()
        self._tasks()

    def _costs(self) -> None:
        routing = self.routing
        big = float(self.horizon) * 4 + 1
        self.max_arc = 0
        for key, v in self._cost_classes().items():
            cost = self._cost_matrix(v) * self.cs
            cost[~np.isfinite(cost)] = big * self.cs
            ints = np.rint(cost).astype(np.int64)
            self.max_arc = max(self.max_arc, int(ints.max(initial=0)))
            evaluator = routing.RegisterTransitMatrix(ints.tolist())
            for k, veh in enumerate(self.p.vehicles):
                if (veh.profile, veh.cost_per_km, veh.cost_per_hour) == key:
                    routing.SetArcCostEvaluatorOfVehicle(evaluator, k)
        for k, veh in enumerate(self.p.vehicles):
            if veh.fixed_cost:
                routing.SetFixedCostOfVehicle(round(veh.fixed_cost * self.cs), k)

    def _time(self) -> None:
        p, routing = self.p, self.routing
        service = np.array([n.service for n in self.nodes])
        evaluators: dict[str, int] = {}
        for profile in {v.profile for v in p.vehicles}:
            travel = self._node_matrix(p.travel(profile).durations)
            finite = np.isfinite(travel)
            ints = np.zeros(travel.shape, dtype=np.int64)
            # service at the origin plus travel, travel rounded up (a feasible plan stays so)
            ints[finite] = np.ceil(travel[finite] * self.ts - 1e-6).astype(np.int64)
            ints += np.array([round(s * self.ts) for s in service])[:, None]
            ints[~finite] = self.horizon + 1  # unreachable: no plan can use it
            evaluators[profile] = self._dimension_transits(ints)
        routing.AddDimensionWithVehicleTransits(
            [evaluators[v.profile] for v in p.vehicles], self.horizon, self.horizon, False, "time"
        )
        self.time = routing.GetDimensionOrDie("time")
        for node, n in enumerate(self.nodes):
            if n.task is None or not n.windows:
                continue
            self._restrict(
                self.time.CumulVar(self.manager.NodeToIndex(node)), self.domain(n.windows)
            )
        for k, v in enumerate(p.vehicles):
            self._vehicle_times(k, v)

    @staticmethod
    def _restrict(var: pywrapcp.IntVar, ranges: Sequence[tuple[int, int]]) -> None:
        """Limit the variable to the disjoint sorted unit ranges (none: no limit)."""
        if not ranges:
            return
        var.SetRange(ranges[0][0], ranges[-1][1])
        for (_, a_end), (b_start, _) in itertools.pairwise(ranges):
            var.RemoveInterval(a_end + 1, b_start - 1)

    def _vehicle_times(self, k: int, v: Vehicle) -> None:
        routing, dim = self.routing, self.time
        start_lo, start_hi = self._open_units(v, v.start)
        end_lo, end_hi = self._open_units(v, v.end)
        breaks = [self._break_ranges(b, start_lo, end_hi) for b in v.breaks]
        if start_lo > end_hi:
            self.unusable[k] = (
                "its start centre opens (or its shift starts) after its end centre closes"
            )
        elif b := next((b for b, r in zip(v.breaks, breaks, strict=True) if not r), None):
            self.unusable[k] = f"its break '{b.id}' fits nowhere in its shift and centre hours"
        if k in self.unusable:
            return  # left unconstrained: its route stays empty (see `_tasks`)
        start, end = dim.CumulVar(routing.Start(k)), dim.CumulVar(routing.End(k))
        start.SetRange(start_lo, start_hi)
        end.SetRange(end_lo, end_hi)
        if v.max_duration is not None:
            dim.SetSpanUpperBoundForVehicle(self.t_down(v.max_duration), k)
        if v.breaks:
            self._breaks(k, v, end, breaks)
        if self.finalizers:
            self._compact(start, end)

    def _compact(self, start: pywrapcp.IntVar, end: pywrapcp.IntVar) -> None:
        """Finish as early as possible, then leave as late as that allows (no idle start).

        Registered after the vehicle's breaks, whose starts `SetBreakIntervalsOfVehicle` hands
        to the same finalizer: it fixes its variables in the order they came, each by trying
        its target, then the next unit, one failure per unit. Fixed before the breaks, the end
        took the least value propagation left it, which ignores the breaks still to be taken,
        and then rose one unit per failure, up to a break's length: 1.8 million failures for
        a 30-minute break in milliseconds (data in fractions of a second), so the search ran
        out of time before its first plan and every task was left out (the routing audit's
        finding 401). With the breaks placed first, the end's least value is a real one.
        """
        self.routing.AddVariableMinimizedByFinalizer(end)
        self.routing.AddVariableMaximizedByFinalizer(start)

    def _open_units(self, v: Vehicle, centre: str | None) -> tuple[int, int]:
        """When the vehicle may be at this end of its route, in units: its shift within the
        centre's opening hours (the model checks that the two meet)."""
        lo, hi = (v.shift.start, v.shift.end) if v.shift else (0.0, math.inf)
        if centre is not None and (opening := self.p.centre(centre).opening):
            lo, hi = max(lo, opening.start), min(hi, opening.end)
        return self.units(lo, hi)

    def _break_ranges(self, b: Break, earliest: int, latest_end: int) -> list[tuple[int, int]]:
        """Where the break may start, in units: in its windows (anywhere without), no earlier
        than the route may start (see `_breaks`) and ending by the latest the route may end.
        Empty if the break fits nowhere, which no plan of the vehicle can then meet."""
        last = latest_end - self.t_up(b.duration)
        ranges = self.domain(b.windows) if b.windows else [(0, self.horizon)]
        return [
            (max(lo, earliest), min(hi, last)) for lo, hi in ranges if lo <= last and hi >= earliest
        ]

    def _breaks(
        self, k: int, v: Vehicle, end: pywrapcp.IntVar, ranges: list[list[tuple[int, int]]]
    ) -> None:
        """Breaks of a used vehicle (an unused one takes none), one at a time, each ending
        before its route ends; `ranges` are where each may start (see `_break_ranges`).

        A break may still fall before the route starts: `read` then starts the route with it
        at the start centre, so the break domain begins no earlier than the shift and the
        centre's opening. (Constraining break start >= route start directly makes OR-Tools'
        first-solution search fail on multi-vehicle problems.) OR-Tools keeps each break off
        the visits and travel but lets two breaks overlap, so a disjunctive constraint keeps
        them apart: a driver takes one break after another.
        """
        solver = self.routing.solver()
        used = self.routing.ActiveVehicleVar(k)
        intervals = []
        for b, where in zip(v.breaks, ranges, strict=True):
            var = solver.IntVar(0, self.horizon, f"break {k} {b.id}")
            self._restrict(var, where)
            interval = solver.FixedDurationIntervalVar(
                var, self.t_up(b.duration), used, f"break {k} {b.id}"
            )
            solver.Add(interval.SafeEndExpr(0) <= end)
            if v.max_duration is not None:
                solver.Add(
                    end - interval.SafeStartExpr(self.horizon) <= self.t_down(v.max_duration)
                )
            intervals.append(interval)
        if len(intervals) > 1:
            solver.Add(solver.DisjunctiveConstraint(intervals, f"breaks {k}"))
        # service time per variable index (not per node: starts and ends are duplicated)
        manager = self.manager
        size = self.routing.Size() + self.routing.vehicles()
        visit = [round(self.nodes[manager.IndexToNode(i)].service * self.ts) for i in range(size)]
        self.time.SetBreakIntervalsOfVehicle(intervals, k, visit)

    def _capacities(self) -> None:
        p, routing = self.p, self.routing
        caps = [p.capacity(v) for v in p.vehicles]
        for d in range(p.n_dims):
            delivery = np.zeros(len(self.nodes), dtype=np.int64)
            pickup = np.zeros(len(self.nodes), dtype=np.int64)
            for j in p.jobs:
                node = self.task_nodes[j.id][0]
                delivery[node] = p.amount(j.delivery)[d]
                pickup[node] = p.amount(j.pickup)[d]
            for s in p.shipments:
                pu, de = self.task_nodes[s.id]
                pickup[pu] = p.amount(s.amount)[d]
                delivery[de] = p.amount(s.amount)[d]
            # no vehicle carries more than everything there is
            total = int(delivery.sum() + pickup.sum())
            vehicle_caps = [int(min(c[d], total)) for c in caps]
            name = f"load{d}"
            job_pickups = any(p.amount(j.pickup)[d] for j in p.jobs)
            if not job_pickups and not p.shipments:
                # classic capacity: what is delivered is on board from the start
                ev = routing.RegisterUnaryTransitVector(delivery.tolist())
                routing.AddDimensionWithVehicleCapacity(ev, 0, vehicle_caps, True, name)
                continue
            ev = routing.RegisterUnaryTransitVector((pickup - delivery).tolist())
            routing.AddDimensionWithVehicleCapacity(ev, 0, vehicle_caps, False, name)
            load = routing.GetDimensionOrDie(name)
            if not delivery[[self.task_nodes[j.id][0] for j in p.jobs]].any():
                for k in range(len(p.vehicles)):  # nothing on board at the start
                    load.CumulVar(routing.Start(k)).SetValue(0)
                continue
            if not job_pickups:
                # The start load is free: loads never below zero force it up to the route's
                # job deliveries, the least start (and the true load) being exactly that sum.
                continue
            # on board at the start = the job deliveries of the route (shipments excluded)
            job_delivery = np.zeros(len(self.nodes), dtype=np.int64)
            for j in p.jobs:
                job_delivery[self.task_nodes[j.id][0]] = p.amount(j.delivery)[d]
            ev2 = routing.RegisterUnaryTransitVector(job_delivery.tolist())
            routing.AddDimension(ev2, 0, total, True, f"delivered{d}")
            delivered = routing.GetDimensionOrDie(f"delivered{d}")
            for k in range(len(p.vehicles)):
                routing.solver().Add(
                    load.CumulVar(routing.Start(k)) == delivered.CumulVar(routing.End(k))
                )

    def _distance_limits(self) -> None:
        p, routing = self.p, self.routing
        if all(v.max_distance is None for v in p.vehicles):
            return
        whole = all(_whole(m.distances) for m in p.matrices.values())
        self.ds = 1 if whole else FINE
        evaluators = {}
        for profile in {v.profile for v in p.vehicles}:
            dist = self._node_matrix(p.travel(profile).distances)
            ints = np.full(dist.shape, 10**15, dtype=np.int64)
            finite = np.isfinite(dist)
            ints[finite] = np.ceil(dist[finite] * self.ds - 1e-6).astype(np.int64)
            evaluators[profile] = self._dimension_transits(ints)
        limits = [
            10**15 if v.max_distance is None else math.floor(v.max_distance * self.ds + 1e-6)
            for v in p.vehicles
        ]
        routing.AddDimensionWithVehicleTransitAndCapacity(
            [evaluators[v.profile] for v in p.vehicles], 0, limits, True, "distance"
        )

    def _tasks(self) -> None:
        p, routing, manager = self.p, self.routing, self.manager
        solver = routing.solver()
        fixed = sum(v.fixed_cost for v in p.vehicles) * self.cs
        must = int(max(10**6, 2 * (fixed + (len(self.nodes) + 2 * len(p.vehicles)) * self.max_arc)))
        self.must_penalty = must
        everyone = list(range(len(p.vehicles)))
        # who may serve a task depends on its skills and firm alone: asked once per pair (3,000
        # jobs x 750 vans had made 2.25 million calls, 0.73 s of a 3 s limit)
        allowed_for: dict[tuple[frozenset[str], str | None], list[int]] = {}
        for task in (*p.jobs, *p.shipments):
            indices = [manager.NodeToIndex(n) for n in self.task_nodes[task.id]]
            share = len(indices)
            if task.penalty is not None:
                penalty = round(task.penalty * self.cs / share)
            else:
                penalty = must * (1 + task.priority) // share
            for index in indices:
                routing.AddDisjunction([index], penalty)
            key = (task.skills, task.firm)
            if key not in allowed_for:
                allowed_for[key] = [
                    k
                    for k, v in enumerate(p.vehicles)
                    if k not in self.unusable and p.vehicle_may_serve(v, task)
                ]
            allowed = allowed_for[key]
            if allowed != everyone:  # -1 keeps "not performed" open for the disjunction
                for index in indices:
                    routing.VehicleVar(index).SetValues([-1, *allowed])
            if len(indices) == 2:
                pu, de = indices
                routing.AddPickupAndDelivery(pu, de)
                solver.Add(routing.ActiveVar(pu) == routing.ActiveVar(de))
                solver.Add(routing.VehicleVar(pu) == routing.VehicleVar(de))
                # Pickup before delivery on one route already orders their times (transits
                # are never negative); a cumul constraint of its own would also bind a pair
                # left out, so one impossible shipment made the whole model infeasible.

    # ------------------------------------------------------------------ search
    def parameters(
        self, time_limit_s: float, first_solution: str | None = None
    ) -> pywrapcp.DefaultRoutingSearchParameters:
        """The search's parameters; `first_heuristic` says which start was chosen."""
        params = pywrapcp.DefaultRoutingSearchParameters()
        timed = any(n.windows for n in self.nodes) or any(v.breaks for v in self.p.vehicles)
        neighbours = None
        if first_solution is None:
            first_solution = "savings"
            if self.p.shipments or timed:
                first_solution, neighbours = insertion_plan(self.p, time_limit_s)
        params.first_solution_strategy = FIRST_SOLUTIONS[first_solution]
        self.first_heuristic = first_solution
        if neighbours is not None:
            near = params.global_cheapest_insertion_first_solution_parameters
            near.neighbors_ratio = neighbours / len(self.nodes)
            near.min_neighbors = neighbours
            self.first_heuristic += f", {neighbours} neighbours"
        params.local_search_metaheuristic = (
            routing_enums_pb2.LocalSearchMetaheuristic.GUIDED_LOCAL_SEARCH
        )
        params.time_limit.FromMilliseconds(max(1, int(time_limit_s * 1000)))
        return params

    def restore(
        self, plan: Solution, params: pywrapcp.DefaultRoutingSearchParameters, budget_s: float
    ) -> pywrapcp.Assignment | None:
        """The plan's visit orders as an OR-Tools assignment, or None if it is infeasible here
        (or names what the problem lacks); takes at most `budget_s` and closes the model.

        Each reading of routes runs OR-Tools' solver to place times and breaks, and proving a
        route with breaks infeasible can take it seconds (the routing audit: 5 s for one plan
        of 11 tasks on data in milliseconds). So each reading gets a third of the budget
        (`params`' time limit is set to it: the model takes its limit when closed), one that
        runs out counts as infeasible, and the repair starts no reading once a third of the
        budget is spent; whatever is left out is the search's to re-insert."""
        routes = self._routes(plan)
        if routes is None:
            return None
        began = time.monotonic()
        params.time_limit.FromMilliseconds(max(1, int(1000 * budget_s / 3)))
        self.routing.CloseModelWithParameters(params)
        restored = self.routing.ReadAssignmentFromRoutes(routes, True)
        if restored is None:  # repair each route that breaks a rule on its own
            deadline = began + budget_s / 3
            routes = [self._repaired(k, r, deadline) for k, r in enumerate(routes)]
            restored = self.routing.ReadAssignmentFromRoutes(routes, True)
        return restored

    def _routes(self, plan: Solution) -> list[list[int]] | None:
        """The plan's routes as OR-Tools indices per vehicle; None if it names an unknown
        vehicle or task."""
        order = {v.id: k for k, v in enumerate(self.p.vehicles)}
        routes: list[list[int]] = [[] for _ in self.p.vehicles]
        for route in plan.routes:
            for step in route.task_steps():
                nodes = self.task_nodes.get(step.id or "")
                if route.vehicle not in order or nodes is None:
                    return None
                node = nodes[1] if step.type == "delivery" else nodes[0]
                routes[order[route.vehicle]].append(self.manager.NodeToIndex(node))
        return routes

    def _repaired(self, k: int, route: list[int], deadline: float) -> list[int]:
        """The route itself if feasible alone, else the tasks kept greedily in route order
        (a task joins when the route with it is still feasible) and the rest left out for the
        search to re-insert: one late stop no longer costs the whole route. Past `deadline`
        nothing more is tried (and kept)."""
        vehicles = len(self.p.vehicles)

        def feasible(indices: list[int]) -> bool:
            if time.monotonic() >= deadline:
                return False
            routes = [indices if j == k else [] for j in range(vehicles)]
            return self.routing.ReadAssignmentFromRoutes(routes, True) is not None

        if not route or feasible(route):
            return route
        task_of = {self.manager.NodeToIndex(n): t for t, ns in self.task_nodes.items() for n in ns}
        kept: set[str] = set()
        for task in dict.fromkeys(task_of[i] for i in route):
            trial = [i for i in route if task_of[i] in kept or task_of[i] == task]
            if feasible(trial):
                kept.add(task)
        return [i for i in route if task_of[i] in kept]

    def missing(self, assignment: pywrapcp.Assignment) -> int:
        """Required tasks the assignment leaves out although some vehicle could serve them
        alone (those none can serve are left out of every plan and do not count)."""
        return sum(assignment.Value(self.routing.NextVar(i)) == i for i in self._servable)

    @functools.cached_property
    def _servable(self) -> list[int]:
        """The index of the (first) stop of each required task that fits on some vehicle."""
        p = self.p
        return [
            self.manager.NodeToIndex(self.task_nodes[t.id][0])
            for t in (*p.jobs, *p.shipments)
            if not t.optional and fits_alone(p, t)
        ]

    def read(self, assignment: pywrapcp.Assignment) -> tuple[list[RoutePlan], list[str]]:
        """Plans per used vehicle (visits with their start times) and the left-out task ids.

        Visits and breaks are listed by start time. At a tie the break came first if it
        lasts nothing (it ends as the service starts) and after the visit otherwise (OR-Tools
        keeps breaks off service, so that visit's service lasts nothing)."""
        p, routing, manager, dim = self.p, self.routing, self.manager, self.time
        breaks: dict[int, list[tuple[float, str]]] = {}
        intervals = assignment.IntervalVarContainer()
        for i in range(intervals.Size()):
            element = intervals.Element(i)
            if element.PerformedValue():
                _, k, bid = element.Var().Name().split(" ", 2)
                breaks.setdefault(int(k), []).append((element.StartValue() / self.ts, bid))
        plans, served = [], set()
        for k, v in enumerate(p.vehicles):
            index = routing.Start(k)
            departure = assignment.Value(dim.CumulVar(index)) / self.ts
            timed: list[tuple[float, int, Visit]] = []  # (start, tie order, visit)
            index = assignment.Value(routing.NextVar(index))
            while not routing.IsEnd(index):
                node = self.nodes[manager.IndexToNode(index)]
                start = assignment.Value(dim.CumulVar(index)) / self.ts
                timed.append((start, 1, Visit(node.visit, node.task, start)))  # type: ignore[arg-type]
                served.add(node.task)
                index = assignment.Value(routing.NextVar(index))
            if not timed:
                continue
            taken = _before_leaving(v, breaks.get(k, []), departure)
            departure = min([departure, *(t for t, _ in taken)])  # a break before leaving
            lasts = {b.id: b.duration for b in v.breaks}
            timed += [(t, 2 if lasts[bid] else 0, Visit("break", bid, t)) for t, bid in taken]
            timed.sort(key=lambda x: (x[0], x[1]))
            plans.append(RoutePlan(v.id, [visit for _, _, visit in timed], departure))
        left = [t.id for t in (*p.jobs, *p.shipments) if t.id not in served]
        return plans, left


def insertion_plan(problem: Problem, time_limit_s: float) -> tuple[str, int | None]:
    """The first-solution heuristic for a problem with shipments or times: "parallel" with the
    nearest neighbours it may consider per stop (None: every stop), or "local".

    Parallel cheapest insertion gives the best first plans (and, after the search, the best
    plans on the rich benchmark and Solomon/Li & Lim files of 100-200 tasks), but its time
    grows about with the cube of the size: 3-7 s for 500 shipments with narrow windows,
    21-49 s with wide ones, and a heuristic cut short by the limit leaves the rest of the
    tasks out (at 10 s, up to 430 of 500 shipments). So it considers every stop only where
    its estimated time (`_insertion_work`) fits `FIRST_PLAN_SHARE` of the limit (always up to
    `FULL_INSERTION_STOPS`), else as many nearest neighbours as fit (its time grows about
    linearly with them), down to `MIN_NEIGHBOURS`; below that local cheapest insertion, the
    fastest start, takes over. On
    those 500 shipments at 10 s, 40-80 neighbours made plans 23-26 % cheaper than local
    insertion's with wide windows, and from 3 % dearer to 17 % cheaper with narrow ones. The
    estimate is about the slowest measured, so most problems take a fraction of the share.
    """
    stops = len(problem.jobs) + 2 * len(problem.shipments)
    seconds = INSERTION_S_PER_WORK * _insertion_work(problem)
    budget = FIRST_PLAN_SHARE * time_limit_s
    if stops <= FULL_INSERTION_STOPS or seconds <= budget:
        return "parallel", None
    neighbours = math.floor(stops * budget / seconds)
    return ("parallel", neighbours) if neighbours >= MIN_NEIGHBOURS else ("local", None)


def _insertion_work(problem: Problem) -> float:
    """Parallel cheapest insertion's work, in units of `INSERTION_S_PER_WORK`: stops x (jobs
    + shipments x stops per route), as it weighs every task left against the places in the
    routes, a shipment's pickup and delivery the pairs of them. Stops per route: the stops
    over the fewest routes the loads need (one route where nothing has a size), so long
    routes are never underestimated."""
    stops = len(problem.jobs) + 2 * len(problem.shipments)
    routes = 1
    if problem.n_dims and problem.vehicles:
        load = np.zeros(problem.n_dims)
        for job in problem.jobs:
            load += np.add(problem.amount(job.delivery), problem.amount(job.pickup))
        for shipment in problem.shipments:
            load += problem.amount(shipment.amount)
        most = np.max([problem.capacity(v) for v in problem.vehicles], axis=0)
        with np.errstate(divide="ignore", invalid="ignore"):
            need = np.nan_to_num(load / most, nan=0.0, posinf=1.0)
        routes = min(len(problem.vehicles), max(1, math.ceil(float(need.max()))))
    per_route = stops / routes
    return stops * (len(problem.jobs) + len(problem.shipments) * per_route)


def _model_parameters() -> routing_parameters_pb2.RoutingModelParameters:
    """OR-Tools' routing model parameters with the search's trail kept uncompressed.

    The routing default zips the trail of changes the solver undoes on backtracking: that took
    a fifth of the search's time on 3,000 jobs (CPU time to the same 80th plan, 9.1 s zipped
    against 7.4 s, the same plans), and the process's peak memory was the same either way
    (781 MB on that day).
    """
    params = pywrapcp.DefaultRoutingModelParameters()
    solver = params.solver_parameters
    solver.compress_trail = type(solver).NO_COMPRESSION
    return params


def _before_leaving(
    vehicle: Vehicle, breaks: list[tuple[float, str]], departure: float
) -> list[tuple[float, str]]:
    """The (start, id) of the vehicle's breaks with those OR-Tools placed before the route
    leaves moved as late as they may go (`_late_as_possible`): the latest first, each ending
    by the start of the one after it, so that breaks taken one after another stay apart."""
    moved: list[tuple[float, str]] = []
    until = departure
    for start, bid in sorted(breaks, reverse=True):
        start = _late_as_possible(vehicle, bid, start, until)
        moved.append((start, bid))
        until = min(until, start)
    return moved


def _late_as_possible(vehicle: Vehicle, break_id: str, start: float, departure: float) -> float:
    """A break OR-Tools placed before the route leaves is taken just before leaving (at the
    latest start its windows allow), not hours earlier with a long wait after it."""
    brk = next(b for b in vehicle.breaks if b.id == break_id)
    if start + brk.duration > departure:
        return start
    latest = departure - brk.duration
    fits = [min(w.end, latest) for w in brk.windows if w.start <= latest] or [latest]
    return max(start, max(fits)) if brk.windows else max(start, latest)


def solve(
    problem: Problem,
    *,
    time_limit_s: float = 10.0,
    seed: int = 0,
    progress: ProgressCallback | None = None,
    first_solution: str | None = None,
    initial: Solution | None = None,
    should_stop: ShouldStop | None = None,
    late_plan: bool = True,
    stop: Criterion | None = None,
) -> Solution:
    """Solve with OR-Tools; the time limit covers model building, restoring and search.

    OR-Tools' routing search is deterministic, so `seed` does not change the plan.
    `first_solution` ("parallel", "local", "savings") overrides the first-solution heuristic
    (default: with time windows or shipments parallel cheapest insertion, near neighbours only
    or local insertion where it would take too long, see `insertion_plan`; else savings); the
    one used is the solution's meta `first_heuristic`.
    `initial`, a plan for this problem (e.g. another engine's on a simpler version of it),
    is the starting point of the local search as far as OR-Tools can restore it (see
    `_from_start`); otherwise the first-solution heuristic runs as usual. `should_stop` is
    asked at each new plan and between phases, and `stop` (`routing.stop`, watched afresh by
    each search) told each new plan's cost (see `_Halt`). `late_plan` False leaves a
    search with no plan by the deadline without one (every task out), rather than running
    the first-solution heuristic again for up to the limit (`_first_plan`): for a race whose
    other search always has a plan, which this one would otherwise keep waiting up to twice
    the limit (X-n1001 at 1 s: 2.6 s, for no plan).
    """
    if first_solution is not None and first_solution not in FIRST_SOLUTIONS:
        raise EngineError(
            f"first_solution: unknown heuristic '{first_solution}' "
            f"(choose from {', '.join(FIRST_SOLUTIONS)})"
        )
    began = time.monotonic()
    deadline = began + time_limit_s
    halt = _Halt(should_stop, stop)
    if halt():
        return _stopped(problem, time.monotonic() - began, seed, time_limit_s)
    builder = _Builder(problem)
    builder.build(finalizers=initial is None)
    routing = builder.routing

    best = [math.inf]  # the lowest cost among the plans accepted so far

    def at_solution() -> None:
        # guided local search accepts worse plans too: each is told as time searched with the
        # best cost so far (a job's progress and the CLI's lines move with it), and only a
        # better one as a new best plan
        cost = routing.CostVar().Value()
        if progress is not None:
            news = "new best plan" if cost < best[0] else "searching"
            best[0] = min(best[0], cost)
            progress(Progress(NAME, time.monotonic() - began, best[0] / builder.cs, news))
        if halt.at_plan(cost):
            routing.solver().FinishCurrentSearch()  # the plan just found is the answer

    if progress is not None or should_stop is not None or stop is not None:
        routing.AddAtSolutionCallback(at_solution)
    params = builder.parameters(_left(deadline), first_solution)
    start, restore_s, cold = None, 0.0, None
    if initial is None:
        assignment = _searched(builder, params, None, deadline, halt)
    else:
        restoring = time.monotonic()
        start = builder.restore(initial, params, RESTORE_SHARE * _left(deadline))
        restore_s = time.monotonic() - restoring
        assignment, cold = _from_start(builder, params, start, deadline, halt)
    late = late_plan and assignment is None and (problem.jobs or problem.shipments) and not halt()
    if late:
        assignment = _first_plan(builder, params, time_limit_s)
    if assignment is None:
        plans: list[RoutePlan] = []
        left = [t.id for t in (*problem.jobs, *problem.shipments)]
        why = STOPPED if halt.seen else NO_PLAN_IN_TIME
        reason = dict.fromkeys(left, why)
    else:
        plans, left = builder.read(assignment)
        used = {plan.vehicle for plan in plans}  # a task fitting an idle one: the search's
        # a stopped solve's caller wants no plan: explaining thousands of tasks takes seconds
        reason = {t: STOPPED if halt.seen else explain(problem, t, used=used) for t in left}
    return build_solution(
        problem,
        plans,
        reason,
        engine=NAME,
        runtime_s=time.monotonic() - began,
        meta={
            "seed": seed,
            "time_limit_s": time_limit_s,
            "first_solution": first_solution,
            "first_heuristic": builder.first_heuristic,
            "warm_start": None if initial is None else start is not None,
            "restore_s": round(restore_s, 3),
            "cold_search_kept": cold,
            "first_plan_after_limit": bool(late) and assignment is not None,
            "status": routing.status() if assignment is None else "solved",
            "stopped": halt.seen,
            "stopped_by": halt.stopped_by,
            "unusable_vehicles": {
                problem.vehicles[k].id: why for k, why in builder.unusable.items()
            },
        },
    )


class _Halt:
    """Whether the caller's `should_stop` said to stop, remembered once it has; and whether
    the caller's `stop` criterion fires, watched afresh by each search (`restart`).

    OR-Tools holds the interpreter while it searches (a Python thread ran 5 times in a 2 s
    search), so a cancel and the plateau are heard only at the at-solution callback, at each
    plan the search accepts: the search then ends (`FinishCurrentSearch`) and returns its
    best plan. Plans come often on small days (531-26,000 in 10 s on 85 days of 5-50 stops,
    the longest wait 0.34 s on nine of them), seconds apart on thousands of tasks. Nothing
    cheaper ends a search between plans (OR-Tools 9.15): a custom search limit is a Python
    call per move (R101: ~200,000 a second, 12-35 % fewer plans in 3 s); the improvement
    limit (`improvement_limit_parameters`) weighs gain per neighbour at each better plan and
    never fires once they stop; `RoutingModel.UpdateTimeLimit` takes an `absl::Duration`,
    which the Python wrapper cannot build; `solution_limit` counts plans, `lns_time_limit`
    bounds one neighbourhood. Without `should_stop` or `stop` no callback is added for them.
    `stopped_by` names what ended the last search (`routing.solve.solve`'s words): its own
    time limit, unless another did or the search ran out of moves first ("completed", a day
    of one job: no move is left to try, and the search ends in milliseconds; `ended`).
    """

    def __init__(self, should_stop: ShouldStop | None, stop: Criterion | None) -> None:
        self._should_stop = should_stop
        self._stop = stop
        self._watch: Watch | None = None
        self.seen = False
        self.stopped_by = "max_runtime"
        self._finished = False  # the last search was ended here (`FinishCurrentSearch`)

    def __call__(self) -> bool:
        if not self.seen and self._should_stop is not None:
            self.seen = bool(self._should_stop())
            if self.seen:
                self.stopped_by = "cancelled"
        return self.seen

    def restart(self) -> None:
        """A new search begins: the criterion's clocks start again."""
        self._watch = None if self._stop is None else self._stop.watch()
        self._finished = False
        if not self.seen:
            self.stopped_by = "max_runtime"

    def at_plan(self, cost: float) -> bool:
        """Whether the search that found a plan of this cost should end now."""
        if self():
            self._finished = True
            return True
        if self._watch is not None and self._watch(cost):
            self.stopped_by = self._watch.fired or self.stopped_by
            self._finished = True
            return True
        return False

    def ended(self, routing: pywrapcp.RoutingModel) -> None:
        """The search just returned: "completed" if neither this halt nor OR-Tools' time
        limit (`CheckLimit`, still crossed after a search it ended) made it."""
        if not self._finished and not self.seen and not routing.CheckLimit():
            self.stopped_by = "completed"


def _stopped(problem: Problem, runtime_s: float, seed: int, time_limit_s: float) -> Solution:
    """The empty plan of a solve stopped before its model was built."""
    tasks = (*problem.jobs, *problem.shipments)
    return build_solution(
        problem, [], {t.id: STOPPED for t in tasks}, engine=NAME, runtime_s=runtime_s,
        meta={"seed": seed, "time_limit_s": time_limit_s, "stopped": True,
              "stopped_by": "cancelled"},
    )  # fmt: skip


def _left(deadline: float) -> float:
    """Seconds to the deadline, at least `MIN_SEARCH_S` (a search needs a moment for a plan)."""
    return max(MIN_SEARCH_S, deadline - time.monotonic())


def _first_plan(
    builder: _Builder, params: pywrapcp.DefaultRoutingSearchParameters, seconds: float
) -> pywrapcp.Assignment | None:
    """The first-solution heuristic's plan, given up to ``seconds`` more: a search that had no
    plan by the deadline returned none, every task unassigned with "checker: OK". On 2,000
    jobs with breaks the warm start's restore overran its share and the cold search after it
    had no time left for a first plan (11.5 s there): the day came back empty. A plan past
    the limit (the solution's `runtime_s` says by how much) beats no plan."""
    timed = type(params)()
    timed.CopyFrom(params)
    timed.time_limit.FromMilliseconds(max(1, int(1000 * seconds)))
    timed.solution_limit = 1
    return builder.routing.SolveWithParameters(timed)


def _searched(
    builder: _Builder,
    params: pywrapcp.DefaultRoutingSearchParameters,
    start: pywrapcp.Assignment | None,
    until: float,
    halt: _Halt,
) -> pywrapcp.Assignment | None:
    """Search until `until` (or `halt` says so): from the restored plan `start` (kept if
    nothing better turns up), with the lighter penalty, or without one from the first-solution
    heuristic (a cold run)."""
    halt.restart()
    timed = type(params)()
    timed.CopyFrom(params)
    timed.time_limit.FromMilliseconds(int(1000 * _left(until)))
    if start is None:
        found = builder.routing.SolveWithParameters(timed)
        halt.ended(builder.routing)
        return found
    timed.guided_local_search_lambda_coefficient = WARM_GLS_LAMBDA
    found = builder.routing.SolveFromAssignmentWithParameters(start, timed) or start
    halt.ended(builder.routing)
    return builder.routing.solver().Assignment(found)  # a copy: the next search reuses its own


def _from_start(
    builder: _Builder,
    params: pywrapcp.DefaultRoutingSearchParameters,
    start: pywrapcp.Assignment | None,
    deadline: float,
    halt: _Halt,
) -> tuple[pywrapcp.Assignment | None, bool | None]:
    """The search from a restored plan, and whether a cold search's plan was kept instead
    (None: no cold search ran beside it).

    A restored plan that leaves out required tasks some vehicle could serve (the repair
    dropped them, or the plan never had them) gets half the time, a cold search the other
    half, and the better plan is kept: more required tasks served, then lower cost. So a
    warm start never serves fewer required tasks than a cold search of that half would.
    Without a restored plan the whole time is the cold search's. A solve stopped during the
    warm search runs no cold one."""
    if start is None:
        return _searched(builder, params, None, deadline, halt), None
    if not builder.missing(start):
        return _searched(builder, params, start, deadline, halt), None
    warm = _searched(builder, params, start, (time.monotonic() + deadline) / 2, halt)
    if halt():
        return warm, None
    cold = _searched(builder, params, None, deadline, halt)
    if cold is None or _rank(builder, warm) <= _rank(builder, cold):
        return warm, False
    return cold, True


def _rank(builder: _Builder, assignment: pywrapcp.Assignment) -> tuple[int, int]:
    """Servable required tasks left out, then cost (penalties included): lower is better."""
    return builder.missing(assignment), assignment.ObjectiveValue()
