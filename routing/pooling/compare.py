"""Solve a day's plans, compare them, and split the pooled cost fairly among the firms."""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np

from routing.check import CheckReport, check
from routing.engines import NO_PLAN_IN_TIME, ShouldStop
from routing.model import Problem
from routing.pooling.allocation import (
    Blocking,
    LeastCore,
    core_violations,
    least_core,
    proportional_split,
    proportional_split_or_none,
)
from routing.pooling.cover import exact_cover, seen_cover
from routing.pooling.day import Day
from routing.pooling.figures import (
    UNITS,
    Figures,
    delivered_to_lockers,
    plan_figures,
    saving_percent,
    savings,
    total,
    unserved_parcels,
)
from routing.pooling.plans import BuiltPlan, PlanKind, pooled_plan, solo_plan
from routing.pooling.shapley import (
    FEW_PLAYERS,
    ShapleyResult,
    exact_shapley,
    sampled_shapley,
    shapley,
)
from routing.pooling.transfer import TransferFigures, one_centre_each, transfer_figures
from routing.pooling.travel import DayTravel
from routing.solution import Solution
from routing.solve import SMALL_DAY_PLATEAU_S, default_stop, small_day, solve
from routing.stop import Criterion, MaxRuntime
from routing.unassigned import NOT_FOUND_IN_TIME

Progress = Callable[[str], None]


class PoolStopped(Exception):
    """A run stopped before its end because its ``should_stop`` said so: it has no result
    (a cancelled job's plans, cut short, must not be reported as the day's)."""

#: Figures besides cost that each firm gets a Shapley share of (its part of the pooled km/CO2).
SHARED_FIGURES = ("vehicle_km", "co2_kg")
#: Firms past which exact Shapley's cost is not estimated (2^n coalitions): taken as unbounded.
EXACT_ESTIMATE_MAX = 16
#: A pool run's solve of a small day (`routing.solve.small_day`: PyVRP's, or of at most
#: `ORTOOLS_SMALL_DAY_STOPS` stops on any engine) ends after this share of its time limit,
#: `SMALL_DAY_PLATEAU_S` at most, without a better plan (`plan_stop`). Coalitions get 0.2-1 s,
#: where `default_stop`'s 1 s plateau never fires. OR-Tools' last better plan on such days came
#: by 0.05 s: `gongpei pool --engine ortools` on the far-firm example and the tests' tower day
#: took 21.1 -> 7.9 s and 16.5 -> 4.9 s (medians of 3) with the same plans and splits. In the
#: solves of four generated pool runs (3-5 firms, 10-20 parcels each: 133 solves of <= 50 stops,
#: limits 0.2-5 s) PyVRP's best plan came by 0.4 s, never more than 0.25 s after the one before:
#: half the limit would have kept every plan, a quarter of it changed one (+1.4 %). On three
#: other days (RESULTS.md) half the limit changed one coalition of 100 (a better plan after
#: 0.56 s without one, its limit 0.67 s: +0.33 %), no day's plan, and runs took 2.2-2.7x less.
PLATEAU_SHARE = 0.5
#: How the engines' reasons begin for a task left out only because the search ran out of time:
#: it fits alone on a vehicle the plan leaves idle (`routing.unassigned.explain`), or the
#: search found no plan at all in its limit (OR-Tools): a longer limit is what it lacked.
TIMED_OUT = (NOT_FOUND_IN_TIME, NO_PLAN_IN_TIME)


def plan_stop(problem: Problem, time_limit_s: float, *, engine: str) -> Criterion:
    """A pool run's stop for one solve: its time limit, and on a small day (`small_day`: one
    PyVRP plans, or of at most `ORTOOLS_SMALL_DAY_STOPS` stops on any engine) a plateau
    of `PLATEAU_SHARE` of it, `SMALL_DAY_PLATEAU_S` at most (as `default_stop` gives `gongpei
    solve`): hundreds of coalitions found their plan in a fraction of their limit and then
    searched on to it."""
    if not small_day(problem, engine):
        return MaxRuntime(time_limit_s)
    plateau = min(SMALL_DAY_PLATEAU_S, PLATEAU_SHARE * time_limit_s)
    return default_stop(problem, time_limit_s, engine=engine, no_improvement_s=plateau)


@dataclass(frozen=True)
class SolveSettings:
    """How hard to solve each plan and how to compute the split.

    The day's plans get ``time_limit_s`` (a firm's solo plan in proportion to its share f of
    the day's parcels: ``max(min_time_limit_s, f * time_limit_s)``). The other coalitions, of
    which exact Shapley needs 2^n - 1, get ``max(min_time_limit_s, f * coalition_time_limit_s)``:
    small coalitions are small problems, and 10 firms must not take hours. Beyond
    ``exact_max_firms`` Shapley samples at most ``permutations`` orders, fewer once every
    firm's 95 % interval is within ``shapley_precision`` of the average share (0: all of them).
    ``centre_retry``: where the engines split a firm's parcels over several centres, also solve
    the plan with each firm at one centre (up to two more solves) and keep the cheapest.
    ``split_time_limit_s``: seconds the Shapley splits may take, every split plan together
    (None: no limit; 0: sampled as little as sampling can, two pairs of orders). Exact
    Shapley is used only where its coalitions' time limits add up to
    the split's share of it; otherwise the split is sampled until its share runs out, and its
    confidence interval says how close the estimate is (10 firms with the defaults need 1,022
    coalitions per plan: about 17 minutes exact). A sampled split first solves every firm
    pooled but one, while its share lasts, so that leaving any one firm alone is weighed.
    ``stop_on_plateau``: end a small day's solve early on a plateau (`plan_stop`), each time
    limit still its cap; False runs every solve to its limit, as before plateaus existed.
    ``race``: let ``routing.solve`` race two searches in a forked process. Off by default and
    passed explicitly, so the library, the CLI (whose spinner thread would otherwise turn the
    race off) and the job worker (whose heartbeat thread makes forking unsafe) make the same
    plans from the same day and seed.
    """

    engine: str = "auto"
    time_limit_s: float = 5.0
    min_time_limit_s: float = 0.2
    coalition_time_limit_s: float = 1.0
    seed: int = 0
    exact_max_firms: int = 10
    permutations: int = 100
    shapley_precision: float = 0.0
    shapley_plans: tuple[PlanKind, ...] = ("pooled", "lockers")
    split_time_limit_s: float | None = None
    centre_retry: bool = True
    stop_on_plateau: bool = True
    race: bool = False


@dataclass(frozen=True)
class SolvedPlan:
    """A plan's problem, its solution, the checker's verdict and its figures."""

    built: BuiltPlan
    solution: Solution
    report: CheckReport
    figures: Figures
    time_limit_s: float
    seconds: float

    def line_haul(self) -> TransferFigures:
        """Each firm's line haul to the centres this solution delivers its parcels from."""
        built = self.built
        return transfer_figures(built.transfer, built.problem, built.job_parcels, self.solution)


@dataclass(frozen=True)
class FirmFigures:
    """Each firm's own part of one plan: the cost of the line haul it drives to the centres
    (``transfer_cost``) and how many of its parcels the plan leaves undelivered (``unserved``);
    a firm that is in neither has none. Kept per solve so that a firm's row reads the plan of
    the group its split puts it in (`DayResult.firm_rows`), not always every firm pooled."""

    transfer_cost: dict[str, float] = field(default_factory=dict)
    unserved: dict[str, int] = field(default_factory=dict)


@dataclass(frozen=True)
class SolveRecord:
    """What is kept of every solve, coalitions included: its figures and the checker's verdict.

    (Exact Shapley solves 2^n - 1 coalitions; keeping each one's problem and matrices would
    take gigabytes, so only the day's own plans are kept whole.)
    """

    figures: Figures
    violations: tuple[str, ...]
    time_limit_s: float
    seconds: float
    timed_out: int = 0  # parcels left undelivered only for lack of time (`TIMED_OUT`)
    by_firm: FirmFigures = field(default_factory=FirmFigures)


class PlanSolver:
    """Builds, solves, checks and caches the plans of one day.

    Every coalition's cost comes from a real routing solve of that coalition's parcels (cached, so
    each coalition is solved once per plan), with a time limit that shrinks with the coalition's
    share of the day's parcels. A coalition's cost is the cheaper of pooling its parcels and each
    member delivering alone (it can always fall back on that), so the game is well defined even
    where a heuristic solve of a pooled plan comes out worse than the members' solo plans; all
    firms together pool in the day's pooled plan, the one reported. The split then values each
    coalition at its best arrangement over these costs (`routing.pooling.cover`: some members
    pooled, others in other groups or alone), so it may divide less than that plan costs.

    A coalition is valued by its parcels: its members without parcels today add nothing to its
    plan (the shared fleet delivers, and a firm with nothing to send drives no line haul), so it
    is valued as the coalition of its members with parcels. That makes a firm without parcels a
    null player, whom Shapley charges exactly nothing, and the coalition of every firm with
    parcels is the grand coalition, valued from the day's pooled plan as the grand one is.
    (Before this rule the firms with parcels were capped at their solo plans and, joined by an
    idle firm as the grand coalition, not: the idle firm was charged the difference.)

    The engines choose each parcel's centre without seeing the line haul; where their plan
    splits a firm over several centres, plans with each firm at one centre are solved too
    (``one_centre_each``: at most two, same limit) and the cheapest kept.
    """

    def __init__(
        self,
        day: Day,
        travel: DayTravel,
        settings: SolveSettings,
        *,
        on_solve: Progress | None = None,
        should_stop: ShouldStop | None = None,
    ) -> None:
        self.on_solve = on_solve
        self.should_stop = should_stop
        self.day = day
        self.travel = travel
        self.settings = settings
        self.types = day.known_vehicle_types()
        self.records: dict[tuple[PlanKind, frozenset[str]], SolveRecord] = {}
        self.plans: dict[tuple[PlanKind, frozenset[str]], SolvedPlan] = {}
        self.parcels = {f: len(day.parcels_of({f})) for f in day.firm_ids()}
        self.firm_of = {p.id: p.firm for p in day.parcels}
        self.everyone = frozenset(day.firm_ids())
        self.delivering = frozenset(f for f, n in self.parcels.items() if n)

    @property
    def solves(self) -> int:
        """How many plans were solved so far."""
        return len(self.records)

    def solo(self, firm: str) -> SolvedPlan:
        """The firm alone with its own depot and fleet."""
        return self._plan("solo", frozenset({firm}))

    def pooled(self, firms: Iterable[str], *, lockers: bool = False) -> SolvedPlan:
        """The day's pooled plan of these firms (with locker drops if asked), full time limit."""
        return self._plan("lockers" if lockers else "pooled", frozenset(firms))

    def coalition_figures(self, kind: PlanKind, firms: frozenset[str]) -> Figures:
        """Figures of what the coalition's members with parcels would do: pool, or each deliver
        alone if cheaper (see `coalition_pools`); nothing for a coalition without parcels."""
        pooled, alone = self._options(kind, firms)
        return pooled if pooled.cost <= alone.cost else alone

    def coalition_pools(self, kind: PlanKind, firms: frozenset[str]) -> bool:
        """Whether the coalition's figures are its pooled plan's (else its members' solo
        plans', cheaper); false for a coalition without parcels."""
        pooled, alone = self._options(kind, firms)
        return bool(firms & self.delivering) and pooled.cost <= alone.cost

    def pooled_by_firm(self, kind: PlanKind, firms: frozenset[str]) -> FirmFigures:
        """Each member's line haul and undelivered parcels in the coalition's pooled plan
        (solved by `coalition_figures` before; nothing for a coalition without parcels)."""
        members = firms & self.delivering
        if not members:
            return FirmFigures()
        key = (kind, self.everyone if members == self.delivering else members)
        return self.records[key].by_firm

    def _options(self, kind: PlanKind, firms: frozenset[str]) -> tuple[Figures, Figures]:
        """The coalition's members with parcels pooled, and each alone. Every firm with parcels
        pools in the day's own plan (full time limit), any other coalition in one solved at
        the coalition time limit."""
        members = firms & self.delivering
        if not members:
            return Figures(), Figures()
        if members == self.delivering:
            pooled = self._plan(kind, self.everyone).figures
        else:
            key = (kind, members)
            if key not in self.records:
                self._solve(kind, members, self.settings.coalition_time_limit_s)
            pooled = self.records[key].figures
        return pooled, total(self.solo(f).figures for f in members)

    def coalition_cost(self, kind: PlanKind, firms: frozenset[str]) -> float:
        """The coalition's cost: pooling, or each member alone if that is cheaper."""
        return self.coalition_figures(kind, firms).cost

    def violations(self) -> list[str]:
        """Every checker violation of every solve so far, naming the plan and coalition."""
        return [
            f"{kind} {'+'.join(sorted(firms))}: {v}"
            for (kind, firms), record in self.records.items()
            for v in record.violations
        ]

    def timed_out(self) -> list[str]:
        """Each solve so far that left parcels undelivered only for lack of time (`TIMED_OUT`),
        naming the plan, coalition, parcels and time limit."""
        return [
            f"{kind} {'+'.join(sorted(firms))} ({record.timed_out} parcels, "
            f"{record.time_limit_s:.3g} s)"
            for (kind, firms), record in self.records.items()
            if record.timed_out
        ]

    def limit(self, firms: Iterable[str], full_limit_s: float) -> float:
        """A plan's time limit: ``full_limit_s`` in proportion to its share of the day's
        parcels, at least ``min_time_limit_s``."""
        share = sum(self.parcels[f] for f in firms) / max(1, sum(self.parcels.values()))
        return max(self.settings.min_time_limit_s, share * full_limit_s)

    def exact_split_seconds(self, kind: PlanKind) -> float:
        """What exact Shapley's coalitions not solved yet would take for this plan: the sum of
        their time limits (each solve runs at most about its limit: with `stop_on_plateau`
        small ones end sooner, so this is an upper bound), three times that where a pooled
        plan may be solved again with each firm at one centre (`one_centre_each`: several
        centres and a line haul, `centre_retry` on); infinite past ``EXACT_ESTIMATE_MAX``
        firms, whose 2^n coalitions no budget holds. Only the firms with parcels count: the
        others add no coalition (see the class's note)."""
        firms = sorted(self.delivering)
        retried = (
            self.settings.centre_retry
            and len(self.day.centres) > 1
            and self.day.transfer is not None
        )
        if len(firms) > EXACT_ESTIMATE_MAX:
            return float("inf")
        parcels = np.array([self.parcels[f] for f in firms], dtype=float)
        masks = np.arange(1, 2 ** len(firms) - 1)  # neither nobody nor every firm
        bits = (masks[:, None] >> np.arange(len(firms))) & 1
        share = bits @ parcels / max(1.0, parcels.sum())
        limits = np.maximum(
            self.settings.min_time_limit_s, share * self.settings.coalition_time_limit_s
        )
        bit = {f: 1 << k for k, f in enumerate(firms)}
        solved = [
            sum(bit[f] for f in members & self.delivering)
            for k, members in self.records
            if k == kind
        ]
        return (3.0 if retried else 1.0) * float(limits[~np.isin(masks, solved)].sum())

    def _route(self, built: BuiltPlan, limit: float) -> tuple[Solution, Figures, TransferFigures]:
        """Solve one plan's routing problem and read its figures and line haul; `PoolStopped`
        once ``should_stop`` says so, which the engines ask at each new plan: a cancelled
        run stops within a plan or two, not when the solve in progress reaches its limit."""
        engine = self.settings.engine
        solution = solve(
            built.problem,
            engine=engine,
            stop=plan_stop(built.problem, limit, engine=engine)
            if self.settings.stop_on_plateau
            else MaxRuntime(limit),
            seed=self.settings.seed,
            progress=_let_other_threads_run,
            race=self.settings.race,
            should_stop=self.should_stop,
        )
        if self.should_stop is not None and (
            solution.meta.get("stopped") or self.should_stop()
        ):
            raise PoolStopped(f"stopped after {self.solves} solves")
        haul = transfer_figures(built.transfer, built.problem, built.job_parcels, solution)
        figures = plan_figures(
            built,
            solution,
            self.types,
            haul=haul,
            unserved_parcel_cost=self.day.unserved_parcel_cost,
        )
        return solution, figures, haul

    def _plan(self, kind: PlanKind, firms: frozenset[str]) -> SolvedPlan:
        key = (kind, firms)
        if key not in self.plans:
            self.plans[key] = self._solve(kind, firms, self.settings.time_limit_s)
        return self.plans[key]

    def _solve(self, kind: PlanKind, firms: frozenset[str], full_limit_s: float) -> SolvedPlan:
        if kind == "solo":
            (firm,) = firms
            built = solo_plan(self.day, self.travel, firm)
        else:
            built = pooled_plan(self.day, self.travel, firms, lockers=kind == "lockers")
        limit = self.limit(firms, full_limit_s)
        started = time.perf_counter()
        solution, figures, haul = self._route(built, limit)
        # a firm split over centres: try each firm from one centre, keep the cheapest
        choices = one_centre_each(built.transfer, haul, firms) if self.settings.centre_retry else []
        lockers = kind == "lockers"
        for centre_of in choices:
            single = pooled_plan(self.day, self.travel, firms, lockers=lockers, centre_of=centre_of)
            single_solution, single_figures, _ = self._route(single, limit)
            if single_figures.cost < figures.cost:
                built, solution, figures = single, single_solution, single_figures
        seconds = time.perf_counter() - started
        report = check(built.problem, solution)
        if self.on_solve is not None:
            group = "+".join(sorted(firms)) or "nobody"
            self.on_solve(f"solve {len(self.records) + 1}: {kind} {group} in {seconds:.1f} s")
        late = sum(
            1 for task in unserved_parcels(built, solution).values()
            if task.reason.startswith(TIMED_OUT)
        )  # fmt: skip
        by_firm = FirmFigures(
            transfer_figures(built.transfer, built.problem, built.job_parcels, solution).by_firm(),
            dict(Counter(self.firm_of[p] for p in unserved_parcels(built, solution))),
        )
        violations = tuple(str(v) for v in report.violations)
        self.records.setdefault(
            (kind, firms), SolveRecord(figures, violations, limit, seconds, late, by_firm)
        )
        return SolvedPlan(built, solution, report, figures, limit, seconds)


@dataclass(frozen=True)
class Group:
    """A group of the day's best arrangement: firms pooled together (``pooled``; one firm may
    pool on its own, through the shared centres), or one firm with its own solo plan."""

    firms: tuple[str, ...]
    pooled: bool
    figures: Figures
    by_firm: FirmFigures = field(default_factory=FirmFigures)


@dataclass(frozen=True)
class PlanSplit:
    """How the day's cost at its best arrangement (``arrangement``: the every-firm pooled
    plan, unless some firms pooling apart or alone cost less; see `_split`) is split among the
    firms, and whether the split is stable. ``cost`` is that arrangement's; ``shapley`` is
    the Shapley value of that game, its ``coalitions`` each coalition's cost at its best
    arrangement (the cover: `_split`).

    ``by_standalone`` is None where it is undefined: every firm's solo plan costs nothing.
    ``time_limit_s`` is the split's share of the split time limit (None: no limit), and
    ``exact_fits`` whether exact Shapley's coalitions fitted it (see `_split`).
    """

    kind: PlanKind
    cost: float
    shapley: ShapleyResult
    by_parcels: dict[str, float]
    by_standalone: dict[str, float] | None
    blocking: list[Blocking]
    blocking_simple: dict[str, list[Blocking]] = field(default_factory=dict)
    figure_shares: dict[str, dict[str, float]] = field(default_factory=dict)
    least_core: LeastCore | None = None
    time_limit_s: float | None = None
    exact_fits: bool = True
    arrangement: tuple[Group, ...] = ()

    @property
    def all_pooled(self) -> bool:
        """Whether the best arrangement is every firm with parcels pooled in the day's plan."""
        return len(self.arrangement) <= 1 and all(g.pooled for g in self.arrangement)


@dataclass
class DayResult:
    """Everything ``compare_day`` found: plans, figures, savings and the fair split
    (``lockers`` None when the day was compared without locker drops)."""

    day: Day
    travel_source: str
    solo: dict[str, SolvedPlan]
    pooled: SolvedPlan
    lockers: SolvedPlan | None
    splits: dict[str, PlanSplit]
    solves: int
    seconds: float
    checks_ok: bool
    violations: list[str] = field(default_factory=list)
    timed_out: list[str] = field(default_factory=list)

    def pooled_plans(self) -> dict[PlanKind, SolvedPlan]:
        """The day's pooled plans that were solved, by kind."""
        plans: dict[PlanKind, SolvedPlan] = {"pooled": self.pooled}
        if self.lockers is not None:
            plans["lockers"] = self.lockers
        return plans

    def plan_figures(self) -> dict[str, Figures]:
        """Each plan's figures for the whole day (solo: every firm's plan added up)."""
        return {
            "solo": total(p.figures for p in self.solo.values()),
            **{kind: plan.figures for kind, plan in self.pooled_plans().items()},
        }

    def unserved_by_firm(self, plan: SolvedPlan) -> dict[str, int]:
        """How many of each firm's parcels the plan leaves undelivered (every firm listed)."""
        firm_of = {p.id: p.firm for p in self.day.parcels}
        counts = dict.fromkeys(self.day.firm_ids(), 0)
        for parcel in unserved_parcels(plan.built, plan.solution):
            counts[firm_of[parcel]] += 1
        return counts

    def unserved_list(self) -> dict[str, list[dict[str, str]]]:
        """Each plan's undelivered parcels (``solo``: every firm's own plan), by firm and id:
        ``firm``, ``parcel``, ``job`` (the task the solver left out: the parcel, or the locker
        drop it was in) and the solver's ``reason``. The counts alone do not say which
        parcels a firm must still deliver, nor why."""
        firm_of = {p.id: p.firm for p in self.day.parcels}
        plans = {"solo": list(self.solo.values())}
        plans.update({kind: [plan] for kind, plan in self.pooled_plans().items()})
        out = {}
        for kind, solved in plans.items():
            rows = [
                {"firm": firm_of[parcel], "parcel": parcel, "job": task.id, "reason": task.reason}
                for plan in solved
                for parcel, task in unserved_parcels(plan.built, plan.solution).items()
            ]
            out[kind] = sorted(rows, key=lambda r: (r["firm"], r["parcel"]))
        return out

    def warnings(self) -> list[str]:
        """What a reader of the savings must know: a pooled plan that leaves parcels undelivered
        which the firms' own plans delivered saves partly by not delivering them, and one that
        delivers parcels they left out saves partly their penalty; a split by
        standalone cost that is undefined (every solo plan costs nothing); a Shapley split
        sampled, not exact, because of its time limit, or one that ran past its share of
        that limit (see `_late_split`); a split whose best arrangement is not every firm
        pooled (see `_arrangement_warning`), or was sampled, so not proven the cheapest
        (`_unproven_arrangement`); solves whose time limit was too short to serve every
        parcel that could be (`TIMED_OUT`: their costs, and the savings and splits read from
        them, are not the day's)."""
        solo = sum(p.figures.unserved for p in self.solo.values())
        solo_cost = sum(p.figures.cost for p in self.solo.values())
        out = []
        penalty = self.day.unserved_parcel_cost
        for kind, plan in self.pooled_plans().items():
            more = plan.figures.unserved - solo
            if more < 0 and penalty > 0:
                out.append(
                    f"{kind}: the solo plans leave {solo} parcels undelivered and this plan "
                    f"{plan.figures.unserved}; each undelivered parcel costs "
                    f"{penalty:g} (unserved_parcel_cost), so {-more * penalty:g} of its saving "
                    "is parcels delivered, not money the firms spent less"
                )
            if more > 0:
                # a plan dearer than the solo ones has no saving to speak of
                tail = (
                    f"its savings include not delivering {more} parcels"
                    if plan.figures.cost < solo_cost
                    else f"it costs more than the solo plans and delivers {more} parcels fewer"
                )
                out.append(
                    f"{kind}: {plan.figures.unserved} parcels undelivered against {solo} in the "
                    f"solo plans; {tail}"
                )
        for kind, split in self.splits.items():
            if split.by_standalone is None:
                out.append(
                    f"{kind}: no split by standalone cost: every firm's solo plan costs nothing"
                )
            result, late = split.shapley, _late_split(split)
            if result.stopped_by == "time_limit":
                widest = max(result.ci_halfwidth.values())
                out.append(
                    f"{kind}: the Shapley split was sampled ({result.permutations} orders of "
                    f"the firms) to keep within the split time limit, not computed exactly: "
                    f"each firm's share is within {widest:.2f} of its exact value with "
                    f"{result.confidence:.0%} confidence" + (f"; it {late}" if late else "")
                )
            elif late:
                out.append(f"{kind}: the Shapley split {late}")
            if not split.all_pooled:
                figures = self.plan_figures()
                out.append(_arrangement_warning(kind, split, figures[kind], figures["solo"]))
            if result.method == "sampled":
                delivering = [f for f in self.day.firm_ids() if self.day.parcels_of({f})]
                out.append(_unproven_arrangement(kind, split, delivering))
        if self.timed_out:
            more = len(self.timed_out) - 3
            out.append(
                f"{len(self.timed_out)} solve(s) ran out of time with parcels undelivered (no "
                "plan found in time, or each fits alone on a vehicle left idle): "
                f"{', '.join(self.timed_out[:3])}"
                + (f" and {more} more" if more > 0 else "")
                + "; their costs, and the savings and splits read from them, count those "
                "parcels as undelivered: give those solves a longer time limit (the day's "
                "plans' or the coalitions')"
            )
        return out

    def firm_rows(self) -> list[dict[str, Any]]:
        """One row per firm: parcels, solo figures, its share and saving under each plan, and
        the line haul it drives to the centres (``<plan>_transfer_cost``), its parcels left
        undelivered (``<plan>_unserved``) and those a van brings to a locker
        (``parcels_in_lockers``). ``<plan>_by_standalone`` is None where that split is
        undefined (see `PlanSplit`), ``<plan>_saving_pct`` where the firm's solo plan cost
        nothing and its share is not nothing (`figures.saving_percent`).

        A split plan's line haul and undelivered parcels are those of the arrangement its
        split divides, as its shares, km and CO2 are (`own_parts`): a firm the day's best
        arrangement leaves on its own (``<plan>_on_its_own``) drives no line haul, whatever
        the every-firm pooled plan (its routes, unserved.csv) would have it drive."""
        parts = self.own_parts()
        rows = []
        for firm in self.day.firm_ids():
            solo = self.solo[firm].figures
            row: dict[str, Any] = {
                "firm": firm,
                "parcels": len(self.day.parcels_of({firm})),
                "solo_cost": round(solo.cost, 2),
                "solo_vehicle_km": round(solo.vehicle_km, 2),
                "solo_co2_kg": round(solo.co2_kg, 2),
                "solo_unserved": solo.unserved,
            }
            for kind, split in self.splits.items():
                share = split.shapley.shares[firm]
                row[f"{kind}_shapley"] = round(share, 2)
                row[f"{kind}_shapley_ci"] = round(split.shapley.ci_halfwidth.get(firm, 0.0), 2)
                row[f"{kind}_by_parcels"] = round(split.by_parcels[firm], 2)
                by_standalone = split.by_standalone
                row[f"{kind}_by_standalone"] = (
                    None if by_standalone is None else round(by_standalone[firm], 2)
                )
                row[f"{kind}_saving"] = round(solo.cost - share, 2)
                row[f"{kind}_saving_pct"] = saving_percent(solo.cost, solo.cost - share)
                if split.least_core is not None:
                    row[f"{kind}_least_core"] = round(split.least_core.shares[firm], 2)
                for name, shares in split.figure_shares.items():
                    row[f"{kind}_{name}"] = round(shares[firm], 2)
            for kind, (own, alone) in parts.items():
                row[f"{kind}_transfer_cost"] = round(own.transfer_cost.get(firm, 0.0), 2)
                row[f"{kind}_unserved"] = own.unserved.get(firm, 0)
                row[f"{kind}_on_its_own"] = firm in alone
            if self.lockers is not None:
                in_locker = delivered_to_lockers(self.lockers.built, self.lockers.solution)
                row["parcels_in_lockers"] = sum(
                    1 for p in self.day.parcels_of({firm}) if p.id in in_locker
                )
            rows.append(row)
        return rows

    def own_parts(self) -> dict[PlanKind, tuple[FirmFigures, frozenset[str]]]:
        """Each pooled plan's firms' line haul and undelivered parcels, and the firms it leaves
        on their own: of the split's best arrangement where the plan is split (its groups'
        plans), else of the day's plan (every firm pooled, none on its own)."""
        out = {}
        for kind, plan in self.pooled_plans().items():
            split = self.splits.get(kind)
            if split is None:
                own = FirmFigures(plan.line_haul().by_firm(), self.unserved_by_firm(plan))
                out[kind] = (own, frozenset())
                continue
            groups = split.arrangement
            own = FirmFigures(
                {f: v for g in groups for f, v in g.by_firm.transfer_cost.items()},
                {f: n for g in groups for f, n in g.by_firm.unserved.items()},
            )
            out[kind] = (own, frozenset(g.firms[0] for g in groups if not g.pooled))
        return out

    def best_arrangement(self, split: PlanSplit, pooled: Figures) -> dict[str, Any]:
        """The day's cheapest arrangement the split found (`PlanSplit.arrangement`), next to
        every firm pooled: ``all_pooled`` whether it is that plan, ``groups`` (firms; ``plan``
        pooled, or solo: on its own; cost), its ``cost`` and figures, ``savings_vs_solo``
        (as the plans'), and ``all_pooled_cost``. ``exact``: false where the split was
        sampled and only the coalitions it solved were arranged (a warning says so). Firms
        without parcels are in no group. The pooled plan's own saving stays in
        ``savings_vs_solo``."""
        figures = total(g.figures for g in split.arrangement)
        return {
            "all_pooled": split.all_pooled,
            "exact": split.shapley.method == "exact",
            "groups": [
                {
                    "firms": list(g.firms),
                    "plan": "pooled" if g.pooled else "solo",
                    "cost": round(g.figures.cost, 2),
                }
                for g in split.arrangement
            ],
            "cost": round(split.cost, 2),
            "all_pooled_cost": round(pooled.cost, 2),
            "figures": figures.as_dict(),
            "savings_vs_solo": savings(self.plan_figures()["solo"], figures),
        }

    def summary(self) -> dict[str, Any]:
        """The JSON summary: figures and savings per plan, the splits and the best arrangement
        each found (see `best_arrangement`), the checker's verdict
        (the locker drops, when that plan was solved), each plan's undelivered parcels with the
        solver's reasons (``unserved``, see `unserved_list`), ``warnings`` (see `warnings`) and
        the figures' ``units`` (`figures.UNITS`: a cost is in the day's own money)."""
        figures = self.plan_figures()
        pooled = self.pooled_plans()
        return {
            "day": self.day.name,
            "firms": self.day.firm_ids(),
            "parcels": len(self.day.parcels),
            "travel": self.travel_source,
            "plans": {k: f.as_dict() for k, f in figures.items()},
            "savings_vs_solo": {k: savings(figures["solo"], figures[k]) for k in pooled},
            "splits": {k: _split_json(s) for k, s in self.splits.items()},
            "best_arrangement": {
                k: self.best_arrangement(s, figures[k]) for k, s in self.splits.items()
            },
            "firms_table": self.firm_rows(),
            **({"lockers": _locker_json(self.lockers)} if self.lockers else {}),
            "unserved": self.unserved_list(),
            "centre_of_firm": {kind: plan.built.centre_of for kind, plan in pooled.items()},
            "warnings": self.warnings(),
            "checker": {"ok": self.checks_ok, "violations": self.violations[:50]},
            "units": UNITS,
            "solves": self.solves,
            "seconds": round(self.seconds, 2),
        }


def compare_day(
    day: Day,
    travel: DayTravel,
    settings: SolveSettings | None = None,
    *,
    progress: Progress | None = None,
    on_solve: Progress | None = None,
    locker_drops: bool = True,
    should_stop: ShouldStop | None = None,
) -> DayResult:
    """Solve solo, pooled and pooled-with-lockers; split each pooled plan's cost among firms.

    ``locker_drops`` False leaves out the plan with locker drops (and its split): a caller that
    will not report it need not pay for its solves.
    ``progress`` hears of each stage (each solo plan, the pooled plans, each split);
    ``on_solve`` of every single solve, coalitions included (hundreds for exact Shapley).
    ``should_stop``, asked by the engines at each new plan and after each solve, ends the run
    with `PoolStopped` once it says so (a cancelled job).
    Typical use (the ``gongpei pool`` command does exactly this)::

        day = read_day("day.yaml")
        result = compare_day(day, day_travel(day), SolveSettings(time_limit_s=5))
        write_outputs(result, "out/")
    """
    settings = settings or SolveSettings()
    started = time.perf_counter()
    solver = PlanSolver(day, travel, settings, on_solve=on_solve, should_stop=should_stop)
    firms = day.firm_ids()
    say = progress or (lambda _msg: None)
    solo = {}
    for firm in firms:
        say(f"solo plan of {firm}")
        solo[firm] = solver.solo(firm)
    say("pooled plan")
    pooled = solver.pooled(firms)
    lockers = None
    if locker_drops:
        say("pooled plan with locker drops")
        lockers = solver.pooled(firms, lockers=True)
    standalone = {f: solo[f].figures.cost for f in firms}
    parcels = {f: float(solver.parcels[f]) for f in firms}
    kinds = [k for k in settings.shapley_plans if k != "lockers" or locker_drops]
    budget = settings.split_time_limit_s
    split_deadline = None if budget is None else time.perf_counter() + budget
    splits = {}
    for done, kind in enumerate(kinds):
        say(f"Shapley split of the {kind} plan")
        # each split gets an even share of what the ones before it left
        share = None
        if split_deadline is not None:
            share = max(0.0, split_deadline - time.perf_counter()) / (len(kinds) - done)
        splits[kind] = _split(solver, kind, standalone, parcels, time_limit_s=share)
    violations = solver.violations()
    return DayResult(
        day=day,
        travel_source=travel.source,
        solo=solo,
        pooled=pooled,
        lockers=lockers,
        splits=splits,
        solves=solver.solves,
        seconds=time.perf_counter() - started,
        checks_ok=not violations,
        violations=violations,
        timed_out=solver.timed_out(),
    )


def _split(
    solver: PlanSolver,
    kind: PlanKind,
    standalone: dict[str, float],
    parcels: dict[str, float],
    *,
    time_limit_s: float | None = None,
) -> PlanSplit:
    """Shapley and the simple splits of the day's cost at its best arrangement, each checked
    against the core. Within ``time_limit_s`` (None: no limit), exact Shapley only where it
    fits, sampling otherwise (see `SolveSettings`).

    Every coalition, the day's included, is valued at its cheapest partition into groups that
    pool (or deliver alone), not only at pooling all its members (`routing.pooling.cover`):
    a coalition would run that arrangement, so charging it more is charging for a plan it
    would not choose. Exactly where every coalition was solved; a sampled split knows a few,
    and its arrangements are one of them with the other firms alone (`seen_cover`), so it
    first solves every firm pooled but one (`_all_but_one`)."""
    settings = solver.settings
    started = time.perf_counter()
    firms = list(standalone)
    delivering = frozenset(f for f in firms if parcels[f])  # the others are null players
    fits = time_limit_s is None or solver.exact_split_seconds(kind) <= time_limit_s
    exact = fits and len(firms) <= settings.exact_max_firms
    left_out = {} if exact else _all_but_one(solver, kind, firms, delivering, time_limit_s)
    spent = time.perf_counter() - started
    result = shapley(
        firms,
        lambda s: solver.coalition_cost(kind, s),
        exact_max_players=settings.exact_max_firms if fits else 0,  # else sample till time's up
        permutations=settings.permutations,
        seed=settings.seed,
        precision=settings.shapley_precision,
        time_limit_s=None if time_limit_s is None else max(0.0, time_limit_s - spent),
    )
    # an exact split's coalitions are every one, those left out included
    seen = result.coalitions if result.method == "exact" else {**left_out, **result.coalitions}
    # Each firm's own solo plan is a coalition too: no firm should pay more than it.
    tested = dict(seen)
    for firm, alone in standalone.items():
        tested[frozenset({firm})] = min(tested.get(frozenset({firm}), alone), alone)
    known = {s & delivering: cost for s, cost in tested.items() if s & delivering}
    covered = exact_cover if result.method == "exact" else seen_cover
    cover = covered(sorted(delivering, key=firms.index), known)
    solved = {s & delivering for s in seen}
    groups: dict[frozenset[str], tuple[Group, ...]] = {}

    def arranged(s: frozenset[str]) -> tuple[Group, ...]:
        """The groups of the coalition's best arrangement, with their figures."""
        members = s & delivering
        if members not in groups:
            groups[members] = _groups(solver, kind, cover(members).groups, solved)
        return groups[members]

    def split_of(name: str) -> tuple[dict[str, float], dict[str, float]]:
        """Shapley shares of one figure of the best arrangements, and their half-widths:
        exactly, or from the same permutations as the costs' sampled split (no new solve)."""

        def value(s: frozenset[str]) -> float:
            return sum(getattr(group.figures, name) for group in arranged(s))

        if result.method == "exact":
            return exact_shapley(firms, value), dict.fromkeys(firms, 0.0)
        orders = result.permutations
        sampled = sampled_shapley(firms, value, permutations=orders, seed=settings.seed)
        return sampled.shares, sampled.halfwidth

    game = {s: cover(s & delivering).cost for s in tested}
    shares, halfwidth = split_of("cost")
    grand = cover(delivering).cost
    result = replace(
        result,
        shares=shares,
        ci_halfwidth=halfwidth,
        grand_cost=grand,
        coalitions={s: game[s] for s in seen},
        seconds=time.perf_counter() - started,
    )
    figure_shares = {name: split_of(name)[0] for name in SHARED_FIGURES}
    best = arranged(delivering)
    by_parcels = _split_by_groups(best, parcels, proportional_split)
    by_standalone = _split_by_groups(best, standalone, proportional_split_or_none)
    simple = {"by_parcels": by_parcels, "by_standalone": by_standalone}
    return PlanSplit(
        kind=kind,
        cost=grand,
        shapley=result,
        by_parcels=by_parcels,
        by_standalone=by_standalone,
        blocking=core_violations(shares, game),
        blocking_simple={
            name: core_violations(simple_shares, game)
            for name, simple_shares in simple.items()
            if simple_shares is not None
        },
        figure_shares=figure_shares,
        least_core=least_core(firms, game, caps={f: game[frozenset({f})] for f in firms}),
        time_limit_s=time_limit_s,
        exact_fits=fits,
        arrangement=best,
    )


def _split_by_groups(
    groups: tuple[Group, ...],
    weights: dict[str, float],
    split: Callable[[float, dict[str, float]], dict[str, float] | None],
) -> dict[str, float] | None:
    """A simple split of the best arrangement: each group's cost in proportion to its own
    firms' ``weights``, so a firm on its own pays its own plan (dividing the whole cost over
    every firm charged the far firm of far-firm.yaml 49.35 for its own 56.00, the near firms
    paying the difference). Firms in no group (no parcels) pay 0; None where ``split`` gives
    none for a group of several firms (`proportional_split_or_none`)."""
    shares = dict.fromkeys(weights, 0.0)
    for group in groups:
        if len(group.firms) == 1:
            shares[group.firms[0]] = group.figures.cost
            continue
        part = split(group.figures.cost, {firm: weights[firm] for firm in group.firms})
        if part is None:
            return None
        shares.update(part)
    return shares


def _all_but_one(
    solver: PlanSolver,
    kind: PlanKind,
    firms: list[str],
    delivering: frozenset[str],
    time_limit_s: float | None,
) -> dict[frozenset[str], float]:
    """Each coalition of every firm but one with parcels, solved before a sampled split while
    its share of the split time limit (None: no limit) lasts; the sampling gets the rest.

    A sampled split's arrangements are one solved group with the other firms alone
    (`seen_cover`), and the orders it samples may never meet the group without the one firm
    whose line haul makes pooling it dear: then the day came out every firm pooled, dearer
    than leaving that firm alone. With these n coalitions (and the solos, always known) that
    arrangement is always weighed; one of two or more pools still may not be (a warning says
    so: `_unproven_arrangement`). The sampled orders would meet some of them anyway (cached)."""
    started = time.perf_counter()
    out: dict[frozenset[str], float] = {}
    if len(delivering) < 3:  # every firm but one is a firm alone
        return out
    for firm in (f for f in firms if f in delivering):
        if time_limit_s is not None and time.perf_counter() - started >= time_limit_s:
            break
        coalition = frozenset(firms) - {firm}
        out[coalition] = solver.coalition_cost(kind, coalition)
    return out


def _groups(
    solver: PlanSolver,
    kind: PlanKind,
    parts: Iterable[frozenset[str]],
    solved: set[frozenset[str]],
) -> tuple[Group, ...]:
    """The groups of an arrangement with their figures and each firm's part of them: a part
    whose cost is its pooled plan's pools, any other (its members cheaper alone, or one firm
    whose coalition was not solved, valued at its own plan) is its firms each on their own."""
    out = []
    for part in parts:
        if part in solved and solver.coalition_pools(kind, part):
            figures = solver.coalition_figures(kind, part)
            out.append(
                Group(tuple(sorted(part)), True, figures, solver.pooled_by_firm(kind, part))
            )
        else:
            for firm in sorted(part):
                own = solver.solo(firm).figures  # no line haul: it delivers from its depot
                out.append(Group((firm,), False, own, FirmFigures({}, {firm: own.unserved})))
    return tuple(sorted(out, key=lambda g: (not g.pooled, g.firms)))  # pools first


def _arrangement_warning(kind: str, split: PlanSplit, pooled: Figures, solo: Figures) -> str:
    """Where some firms pooling without the others, or alone, beats every firm pooled: which,
    and both arrangements' costs and savings. The split is of the cheaper one; a firm reading
    its share against the pooled plan's saving would otherwise not know why they differ."""
    cost = split.cost
    among = "" if split.shapley.method == "exact" else " among the coalitions the split solved"
    return (
        f"{kind}: pooling every firm is not the cheapest arrangement{among}: "
        f"{describe_arrangement(split.arrangement)} costs {cost:.2f} (saving "
        f"{solo.cost - cost:.2f} against solo); every firm pooled costs {pooled.cost:.2f} "
        f"(saving {solo.cost - pooled.cost:.2f}); the splits divide the cheaper arrangement's "
        "cost"
    )


def _unproven_arrangement(kind: str, split: PlanSplit, delivering: list[str]) -> str:
    """A sampled split's best arrangement is the cheapest of the coalitions it solved, each
    with the other firms alone (`seen_cover`): not proven the day's cheapest (summary
    ``best_arrangement.exact`` false). Names the firms whose every-firm-but-one coalition
    the split time limit left unsolved (`_all_but_one`), whose arrangement was not weighed."""
    everyone = frozenset(delivering)
    solved = {s & everyone for s in split.shapley.coalitions}
    unsolved = [f for f in delivering if len(everyone) > 2 and everyone - {f} not in solved]
    text = (
        f"{kind}: the split was sampled, so its best arrangement "
        f"({describe_arrangement(split.arrangement)}) is the cheapest of the {len(solved)} "
        f"coalitions it solved (of {2 ** len(everyone) - 1}), each with the other firms on "
        "their own: not proven the cheapest, as one of two or more pools may cost less"
    )
    if unsolved:
        text += (
            f"; the split time limit left unsolved every firm pooled but one of "
            f"{', '.join(unsolved)}, so none of them was weighed on its own"
        )
    return text


def describe_arrangement(groups: Iterable[Group]) -> str:
    """An arrangement in words: "f1+f2 pooled, f3 on its own" (a firm pooled on its own:
    "alone through the shared centres")."""
    return ", ".join(f"{'+'.join(g.firms)} {_how(g)}" for g in groups)


def _how(group: Group) -> str:
    if not group.pooled:
        return "on its own"
    return "pooled" if len(group.firms) > 1 else "alone through the shared centres"


def _late_split(split: PlanSplit) -> str | None:
    """How long a split took past its share of the split time limit, and why; None where it
    kept within it. Sampling finishes the pair of orders under way when the time is up, two
    pairs at least; exact Shapley is kept where the least sampling would need about every
    coalition too (up to `routing.pooling.shapley.FEW_PLAYERS` firms)."""
    result, share = split.shapley, split.time_limit_s
    if share is None or result.seconds <= share:
        return None
    sampling = "sampling finishes the pair of orders under way, two pairs at least"
    if result.method == "sampled":
        why = sampling
    elif split.exact_fits:
        why = "its coalitions' solves took longer than their time limits"
    elif len(result.shares) > FEW_PLAYERS:  # the orders sampled met every coalition: exact
        why = f"{sampling}, and those orders met every coalition, so the split is exact"
    else:
        why = (
            "it is exact, as sampling so few firms' orders, two pairs at least, needs about "
            "every coalition anyway"
        )
    took = f"took {result.seconds:.2f} s, past its {share:.2f} s share of the split time limit"
    return f"{took}: {why}"


def _blocking_json(blocking: list[Blocking]) -> list[dict[str, Any]]:
    return [
        {"firms": list(b.firms), "pays": round(b.pays, 2), "alone": round(b.alone, 2)}
        for b in blocking
    ]


def _split_json(split: PlanSplit) -> dict[str, Any]:
    result = split.shapley
    return {
        "cost": round(split.cost, 2),
        "all_pooled": split.all_pooled,  # else the cost is a cheaper arrangement's
        "method": result.method,
        "coalitions_solved": len(result.coalitions),
        "permutations": result.permutations,
        "stopped_by": result.stopped_by,
        "confidence": result.confidence,
        "seconds": round(result.seconds, 2),
        "shapley": {f: round(v, 2) for f, v in result.shares.items()},
        "ci_halfwidth": {f: round(v, 2) for f, v in result.ci_halfwidth.items()},
        "by_parcels": {f: round(v, 2) for f, v in split.by_parcels.items()},
        "by_standalone": None
        if split.by_standalone is None
        else {f: round(v, 2) for f, v in split.by_standalone.items()},
        "in_core": not split.blocking,
        "blocking_coalitions": _blocking_json(split.blocking),
        "simple_splits_blocking": {k: _blocking_json(v) for k, v in split.blocking_simple.items()},
        "core_empty": bool(split.least_core and split.least_core.core_is_empty),
        "least_core": None
        if split.least_core is None
        else {
            "excess": round(split.least_core.excess, 2),
            "relative_excess": round(split.least_core.relative_excess, 5),
            "shares": {f: round(v, 2) for f, v in split.least_core.shares.items()},
        },
        "figure_shares": {
            name: {f: round(v, 3) for f, v in shares.items()}
            for name, shares in split.figure_shares.items()
        },
    }


def _locker_json(plan: SolvedPlan) -> dict[str, Any]:
    """The locker drops a van makes, with the parcels it brings (a drop the solver left out
    brings none and is not listed: its parcels are under ``undelivered`` and in ``unserved``),
    and the parcels sent to the door with the reason. A drop's ``compartments`` are those the
    assignment set aside for it before routing."""
    assignment = plan.built.lockers
    if assignment is None:
        return {"drops": [], "to_door": {}, "undelivered": []}
    delivered = delivered_to_lockers(plan.built, plan.solution)
    drops = []
    for drop in assignment.drops:
        parcels = [p for p in drop.parcels if p in delivered]
        if parcels:
            drops.append(
                {"locker": drop.locker, "parcels": parcels, "compartments": drop.compartments}
            )
    return {
        "drops": drops,
        "to_door": assignment.to_door,
        "undelivered": [p for p in assignment.locker_of() if p not in delivered],
    }


def _let_other_threads_run(*_: object) -> None:
    """The engines' progress callback in a pool run: OR-Tools holds the GIL for a whole search
    except to call back, so without one a job worker's heartbeat stalled for each solve, and a
    pool run whose plans took longer than the job lease was taken over by another worker."""
    time.sleep(0)
