"""One entry point: heuristic plan first, then the exact MIP warm-started from it.

The heuristic's plan is kept as the incumbent when the solver finds nothing better in its time,
so the reported gap is always "best plan known" against "best bound proven". Where capacity
falls short in set cover or facility location, the fewest parcels any plan leaves unserved are
found first (``_least_unserved``), and the MIP then pays the least for serving all the others.
A point with no parcels need not be reached (``without_empty_points``), and a plan breaking a
rule of the model (``_meets_model``) never stands as the incumbent nor counts as proven.
"""

from __future__ import annotations

import dataclasses
import logging
import threading
import time
import weakref
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor

import numpy as np
import scipy.sparse as sp

from routing.siting import benders
from routing.siting.aggregate import aggregate, expand
from routing.siting.by_size import fold_sizes, in_own_mix, split_by_size
from routing.siting.errors import SitingInputError
from routing.siting.exact import (
    SETUP_S_PER_NONZERO,
    SOLVERS,
    LpResult,
    MipResult,
    lp_optimum,
    lp_relaxation,
    proven_gap,
    round_up_whole,
    solve_mip,
)
from routing.siting.fixed_mip import fixed_strong_mip
from routing.siting.flow import (
    capacity_bound,
    effective_capacity,
    fewest_compartments,
    flow_assignment,
    max_service,
    serves_everyone,
    to_serve_most,
)
from routing.siting.flow_search import flow_search
from routing.siting.formulation import (
    STRONG_LINK_MAX_PAIRS,
    Mip,
    big_penalty,
    build,
    pairs,
    site_cost,
    without_empty_points,
)
from routing.siting.heuristic import ILS_PATIENCE, open_set, relief_sites
from routing.siting.knapsack import knapsack_bound
from routing.siting.lagrange import (
    SiteRelaxation,
    capacitated_cover_bound,
    least_compartment_cost,
    must_serve_bound,
    pmedian_bound,
)
from routing.siting.model import SitingInstance, SitingModel, at_least, of_each_size
from routing.siting.progress import Reporter, SitingProgressCallback, search_time
from routing.siting.solution import SitingSolution, nearest_assignment
from routing.siting.swap import swap_search
from routing.siting.window import window_search

logger = logging.getLogger("gongpei.siting")  # `log` is the solvers' output switch

METHODS = ("auto", "exact", "heuristic")
LAGRANGE_ROWS = 50_000  # p-median MIPs larger than this get the Lagrangian bound, no MIP
# p-median MIPs larger than this get the Lagrangian bound beside the MIP: OR-Library-sized
# files of 900 vertices (22,000-34,000 rows) had none when SCIP did not finish the root LP;
# pmed1-20 have up to 14,921 rows
PMEDIAN_BOUND_ROWS = 15_000
# of the MIP's time, the most its Lagrangian bound runs beside it: on 900-vertex files 7 s of it
# came within 0.07 % of what 49 s gave (p = 5: 0.35 % against 0.28 %) and slowed SCIP's proof
# of p = 90 by 6 % (49 s: by 16 %), the two threads sharing the machine
PMEDIAN_BESIDE_SHARE = 0.15
# models searched first (``_bound_first``): the share of the time their local search gets
SEARCH_FIRST_SHARE = {"pmedian": 0.85, "facility": 0.5}
# the MIP gets what the search and the bound leave, if this much: on the city p-median their
# 3 s of SCIP did nothing but take peak memory from 456 MB to 1,185 MB
SEARCH_FIRST_MIP_MIN_S = 5.0
MUST_SERVE_LAGRANGE_PAIRS = 10_000  # capacitated set cover and facility location past this
FLOW_SEARCH_PAIRS = 10_000  # facility location with fixed capacities past this: flow search
FLOW_SEARCH_SHARE = 0.5  # of the time, at most, for its plan (start and flow search)
SMALL_MIP_ROWS = 30_000  # radius-formulation MIPs up to this size skip the local search
PLAN_MARGIN_S = 1.0  # kept back from the plan search for the final assignment and output
WINDOW_WORKERS = 2  # window threads beside the bound's: this machine kind has two cores
# capacitated covering with p lockers past this many pairs (after merging points) plans and
# bounds side by side (windows, `_plan_and_bound`), not in SCIP: on district cases of 10,000-
# 22,000 merged pairs SCIP ended its minute at the start plan (2.5-3.3 % against windows'
# 1.2-1.6 %); at 6,000 SCIP did better (1.03 % against 1.27 %)
WINDOW_PAIRS = 8_000
KERNEL_Y = 0.01  # sites the LP relaxation opens at least this much are the windows' candidates
MUST_SERVE_SHARE = 0.5  # of the time after the heuristic: the subgradient's, the MIP's the rest
# the same where its sites are then fixed for the strong MIP (``_flow_searched``): on a capb-like
# 100 x 1,000 case 20 s of it fixed 80 sites and the MIP proved the plan in 30 s; 8 s fixed 60
FIXING_BOUND_SHARE = 0.3
# of the time, at most, for the money budget's knapsack bound (``knapsack.py``): HiGHS proves
# it in milliseconds on the demo map and Xinjiekou
KNAPSACK_SHARE = 0.1
LEAST_UNSERVED_SHARE = 0.2  # of the time, at most, for a shortfall's first stage (its LP)
ROW_TOLERANCE = 1e-6  # what SCIP holds a row to, relative to its bound (its feasibility tolerance)
# a plan leaving at most this share of the parcels in reach unserved beyond a shortfall's floor
# serves the most: the MIP's plan may read a little over it (ROW_TOLERANCE, on every row)
SHORT_TOLERANCE = 1e-5


def solve(
    inst: SitingInstance,
    model: SitingModel,
    *,
    method: str = "auto",
    solver: str = "auto",
    time_limit_s: float = 60.0,
    rel_gap: float = 1e-6,
    strong: bool | None = None,
    log: bool = False,
    spent_s: float = 0.0,
    keep_s: float = 0.0,
    progress: SitingProgressCallback | None = None,
) -> SitingSolution:
    """Plan ``model`` on ``inst``: ``heuristic`` only, or ``exact``/``auto`` (warm-started MIP).

    ``time_limit_s`` covers the whole run, of which ``spent_s`` went before this search
    (building ``inst``'s walking catchments) and ``keep_s`` is kept for after it (writing the
    plan out, ``progress.output_seconds``): the search gets the rest, at least a floor, and
    the plan warns where the catchments took most of it (``progress.search_time``).
    ``progress`` is told each stage as the search enters it, and the end (``SitingProgress``),
    in this thread.

    Where lockers already stand with their compartments, a sizing first splits each point in
    their reach by parcel size (``by_size``), so its small parcels may fill a standing locker's
    small compartments while its large ones go elsewhere. Elsewhere placing parcels size by
    size would change only how compartment counts round (a site's compartments of each size
    follow its parcels of that size or larger), so those points stay whole, a third of the
    rows. Either way each pair of a sized plan carries its parcels by size.
    """
    say = Reporter(progress, spent_s)
    search_s, late = search_time(time_limit_s, spent_s, keep_s)
    options = {
        "method": method,
        "solver": solver,
        "time_limit_s": search_s,
        "rel_gap": rel_gap,
        "strong": strong,
        "log": log,
        "say": say,
    }
    model, warnings = _without_idle_budget(inst, model)
    plan = _solve_sized(inst, model, options)
    plan.warnings.extend(warnings + ([late] if late else []) + _implausible(inst, model, plan))
    _log_once(inst, plan.warnings)
    say("done", plan.objective, plan.bound, plan.gap)
    return plan


# dwell_days past this reads as hours: a locker sends a parcel back after a few days (a week
# at most), and 36 "days" turned a 120-compartment locker into 3.3 parcels a day
MAX_DWELL_DAYS = 7.0
# what `_log_once` has said of each instance
_SAID: weakref.WeakKeyDictionary[SitingInstance, set[str]] = weakref.WeakKeyDictionary()


def _implausible(inst: SitingInstance, model: SitingModel, plan: SitingSolution) -> list[str]:
    """Warnings for inputs that look like a unit slip, which ran silently to nonsense: a
    radius in km (0.3) left every point out of reach and "opened" lockers serving nothing;
    dwell_days in hours, or capacities of 0, let a capacitated plan serve (next to) nothing.
    Said when no point with parcels is in reach of any candidate, when the capacities or
    the dwell look wrong, and when the plan serves no parcel though some are in reach."""
    parcels = inst.weight > 0
    if not parcels.any():
        return []
    if not (inst.in_reach & parcels).any():
        radius = "" if inst.radius_m is None else f" within {inst.radius_m:g} m"
        hint = " (radius_m is in metres)" if inst.radius_m is not None else ""
        return [
            f"no demand point is in reach of any candidate site{radius}: the plan serves "
            f"nothing{hint}"
        ]
    said = []
    sizing = model.sizing
    if sizing is not None and sizing.dwell_days > MAX_DWELL_DAYS:
        said.append(
            f"sizing: dwell_days {sizing.dwell_days:g} is the days a parcel waits in its "
            f"compartment (not hours): a compartment then takes {sizing.throughput:.3g} "
            "parcels a day"
        )
    if model.is_capacitated and sizing is None and not (inst.capacity > 0).any():
        said.append("every candidate site has capacity 0: a capacitated plan serves nothing")
    if plan.unserved_parcels >= float(inst.weight.sum()):
        reach = float(inst.weight[inst.in_reach].sum())
        said.append(
            f"the plan serves no parcel, though {reach:,.6g} parcels a day are in reach of "
            "the candidate sites"
        )
    return said


def _log_once(inst: SitingInstance, warnings: list[str]) -> None:
    """Log each warning once per instance: a coverage curve solves one instance for every
    locker count, and each of its plans keeps the warnings all the same."""
    said = _SAID.setdefault(inst, set())
    for text in warnings:
        if text not in said:
            logger.warning("%s", text)
            said.add(text)


def _solve_sized(inst: SitingInstance, model: SitingModel, options: dict) -> SitingSolution:
    """The plan, a sizing's compartments solved by the route that fits it."""
    if model.sizing is None:
        return _solve(inst, model, **options)
    if inst.built.any():
        split, owner = split_by_size(inst, model)
        return fold_sizes(_solve(split, model, **options), inst, owner)
    if _sizing_is_capacity(model):
        capped = dataclasses.replace(inst, capacity=effective_capacity(inst, model))
        plain = dataclasses.replace(model, sizing=None, capacitated=True)
        plan = _solve(capped, plain, **options)
        sizes = fewest_compartments(inst, model, plan.rows, plan.cols, plan.frac)
        return in_own_mix(dataclasses.replace(plan, instance=inst, model=model, sizes=sizes))
    return in_own_mix(_solve(inst, model, **options))


def _without_idle_budget(
    inst: SitingInstance, model: SitingModel
) -> tuple[SitingModel, list[str]]:
    """``model`` without a money budget that cannot bind (`SitingModel.most_spent`), and the
    warning saying so (``solve`` logs it, and keeps it with the plan for an API caller, who
    sees no log):
    such a budget changes no plan, yet it turned off the fast search and bound paths
    (OR-Library pmed1 with a budget of 3: 1.4 s instead of 0.07), and a user who meant a
    number of lockers (``p``) learnt nothing. A maxcover limited by the budget alone may open
    every site (``p``: all of them)."""
    if model.budget is None:
        return model, []
    most = model.most_spent(inst)
    if model.budget < most:
        return model, []
    why = (
        "every candidate site is free (no fixed cost"
        + (", no compartment price)" if model.sizing is not None else ")")
        if most == 0
        else f"opening every candidate site costs at most {most:g}"
    )
    hint = " (p sets a number of lockers)" if model.p is None else ""
    warning = f"model '{model.kind}': budget {model.budget:g} is ignored: it cannot bind, as "
    warning += why + hint
    every = inst.n_sites if model.p is None and model.kind == "maxcover" else model.p
    return dataclasses.replace(model, budget=None, p=every), [warning]


def _trivial_bound(inst: SitingInstance, mip: Mip) -> float:
    """What no plan can beat: every parcel within reach of some site served, or a cost of 0
    (every cost is >= 0). A MIP stopped before its root LP reports a sentinel instead (SCIP:
    1e20), which this replaces, so the gap reads 100 % rather than billions of per cent."""
    if mip.maximize:
        return float(inst.weight[inst.in_reach].sum())
    return 0.0


def _sizing_is_capacity(model: SitingModel) -> bool:
    """Whether a sizing (with no standing compartments: ``solve`` splits those first) asks no
    more than a capacity of ``max_compartments`` turned over: so when the objective does not
    price compartments (covering or p-median, no money budget). Any load within that capacity
    is then held by ``fewest_compartments`` (their count is the load's, rounded up), so both
    models have the same plans and optima, and the plain capacitated one gets the city-scale
    search and bound."""
    return model.kind in ("maxcover", "pmedian") and model.budget is None


def _solve(
    inst: SitingInstance,
    model: SitingModel,
    *,
    method: str,
    solver: str,
    time_limit_s: float,
    rel_gap: float,
    strong: bool | None,
    log: bool,
    say: Reporter,
) -> SitingSolution:
    auto = solver == "auto"
    solver = _checked_options(inst, model, method, solver, time_limit_s, rel_gap)
    say("heuristic")
    start = time.perf_counter()
    end = start + time_limit_s
    work, group = aggregate(inst, model)
    # ``build`` keeps this rule by itself; the greedy set cover and the capacitated MIP's
    # columns (the flows' pairs) need it here
    work = without_empty_points(work, model)
    floor = _least_unserved(
        work,
        model,
        time_limit_s=LEAST_UNSERVED_SHARE * time_limit_s,
        exact=method != "heuristic",
    )
    mip = build(work, model, strong=strong, floor=floor)
    rest = time_limit_s - (time.perf_counter() - start)  # what the first stage leaves
    share = time_limit_s if method == "heuristic" else 0.2 * rest
    radius = model.kind in ("pmedian", "facility") and not model.is_capacitated
    if method != "heuristic" and radius and mip.A.shape[0] <= SMALL_MIP_ROWS:
        share = 0.0  # the MIP proves these fast (OR-Library): greedy start only, no local search
    patience = ILS_PATIENCE
    bound_first = method != "heuristic" and _bound_first(work, model, mip)
    if method != "heuristic" and _flow_searched(work, model):
        share = FLOW_SEARCH_SHARE * rest  # the flow search mostly stops well before it
    elif bound_first:
        # local search keeps finding better plans: on the city case p-median 9,093,354 when it
        # stopped after 20 fruitless tries (3 s), 9,054,522 when it ran 40 s
        share, patience = SEARCH_FIRST_SHARE[model.kind] * rest, None
    relaxed = None
    if method != "heuristic" and model.kind == "setcover" and model.is_capacitated:
        relaxed = _uncapacitated(work, model, time_limit_s=_stage(max(0.5, share), end))
    plan, hint = _heuristic(
        work,
        model,
        mip,
        time_limit_s=share,
        end=end,
        start=None if relaxed is None else relaxed.is_open,
        patience=patience,
    )
    _floor_at_start(mip, plan)
    heur_s = time.perf_counter() - start
    if method == "heuristic":
        plan = _unmerge(plan, inst, group)
        plan.seconds = heur_s
        return plan
    feasible = _meets_model(plan)
    best, best_value = plan, mip_value(plan, mip)
    say("bound", plan.objective)
    # capacitated covering's max-flow bound settles it outright where capacity binds, and set
    # cover's uncapacitated optimum (plus the cheapest compartments) often where it does not;
    # not past a shortfall's floor, where the plans serving the most leave parcels unpaid for
    quick = capacity_bound(work, model)
    if relaxed is not None and np.isfinite(relaxed.bound) and not floor:
        quick = relaxed.bound + least_compartment_cost(work, model)
    left = time_limit_s - (time.perf_counter() - start)
    large_cover = _swaps(model) and work.reach.nnz > WINDOW_PAIRS
    shift = best_value - best.objective
    settled = feasible and _proved(best_value, [quick], rel_gap, maximize=mip.maximize, shift=shift)
    relaxed_sites: list[SiteRelaxation] = []  # the Lagrangian's, for fixing sites
    if large_cover and not settled:
        # the capacitated MIP does not get through its root LP at this size: the bound is
        # worked out in a second thread while this one spends the whole time on the plan
        best, bound = _plan_and_bound(work, model, mip, plan, time_limit_s=left, rel_gap=rel_gap)
        best_value, quick = mip_value(best, mip), _tightest([quick, bound], maximize=True)
        feasible = _meets_model(best)
    elif not settled:
        if bound_first:  # the bound may take what is left, less a margin for the output
            left -= min(PLAN_MARGIN_S, 0.05 * time_limit_s)
        bound = _quick_bound(
            work,
            model,
            mip,
            plan,
            time_limit_s=left,
            rel_gap=rel_gap,
            alone=bound_first,
            keep=relaxed_sites.append if feasible and _flow_searched(work, model) else None,
        )
        quick = _tightest([quick, bound], maximize=mip.maximize)
    left = time_limit_s - (time.perf_counter() - start)
    shift = best_value - best.objective  # the window search may have found another plan
    if feasible and _proved(best_value, [quick], rel_gap, maximize=mip.maximize, shift=shift):
        res = MipResult(None, None, quick, True, "proved by relaxation bound", 0.0)
        solver = "relaxation"
    elif (
        large_cover
        or (bound_first and left < SEARCH_FIRST_MIP_MIN_S)
        or left <= SETUP_S_PER_NONZERO * mip.A.nnz  # no time left to hand the MIP to the solver
    ):
        # (past a shortfall's floor there may be no relaxation bound: then the trivial one)
        bound = _tightest([quick, _trivial_bound(work, mip)], maximize=mip.maximize)
        res = MipResult(None, None, bound, False, "time limit (relaxation bound)", 0.0)
        solver = "relaxation"
    else:  # warm-started from the plan (after a search first, the search's)
        _say_searching(say, best, quick, shift, maximize=mip.maximize, feasible=feasible)
        options = {
            "solver": solver,
            "time_limit_s": left,
            "rel_gap": rel_gap * _objective_share(best_value, shift, mip),
            "hint": hint if feasible else None,  # a solver drops a start breaking a row anyway
            "log": log,
        }
        res, beside = None, None
        if relaxed_sites:  # the sites it fixes fixed, in the strong MIP (HiGHS unless asked)
            # less a margin for the output: HiGHS ends up to 0.3 s past its limit, and the
            # plan's decoding and assignment follow (1.6 s over in all on a capa-like case)
            margin = min(PLAN_MARGIN_S, 0.05 * time_limit_s)
            fixing = {**options, "solver": "highs" if auto else solver}
            fixing["time_limit_s"] = max(0.5, left - margin)
            res = fixed_strong_mip(work, model, mip, relaxed_sites[0], upper=best_value, **fixing)
            if res is None:  # too many sites left free: the Lagrangian again, not a weak MIP
                res, solver = _bound_again(work, model, mip, best, quick, end - margin, rel_gap)
            else:
                solver = fixing["solver"]
        if res is None and auto and _by_benders(work, model, mip):
            res, solver = _benders_mip(work, model, mip, best, options), "benders"
        if res is None:
            held = _held_to(mip, quick) if _budget_cover(model) else mip
            res, beside = _mip_beside_bound(work, model, held, best, options)
        for known in (quick, beside, _trivial_bound(work, mip)):
            if known is not None:
                res.bound = min(res.bound, known) if mip.maximize else max(res.bound, known)
    if res.values is not None:
        found = _decode(work, model, mip, res.values)
        value = mip_value(found, mip)
        better = value > best_value if mip.maximize else value < best_value
        # an incumbent breaking the model may look better than any plan that keeps it
        if better or not feasible:
            best, best_value = found, value
            feasible = _meets_model(found)
    shift = best_value - best.objective
    best = _unmerge(best, inst, group)
    best.bound = float(_objective_bound(res.bound, shift))
    # a plan breaking the model (no feasible one found in time) has no gap to any bound
    gap = proven_gap(best_value - shift, best.bound, maximize=mip.maximize) if feasible else np.inf
    best.gap = float(gap)
    best.optimal = bool(best.gap <= 1e-6)
    best.method = f"exact:{solver}"
    best.seconds = time.perf_counter() - start
    best.stats = {
        "merged_points": int(work.n_demand),
        "solver_status": res.status,
        "solver_seconds": round(res.seconds, 3),
        "heuristic_seconds": round(heur_s, 3),
        "heuristic_objective": plan.objective,
        "mip_rows": int(mip.A.shape[0]),
        "mip_columns": int(mip.A.shape[1]),
        "mip_nonzeros": int(mip.A.nnz),
        "least_unserved": floor,
    }
    return best


def _say_searching(
    say: Reporter,
    best: SitingSolution,
    bound: float | None,
    shift: float,
    *,
    maximize: bool,
    feasible: bool,
) -> None:
    """Tell the exact search's start: the plan it starts from, and the bound and gap known so
    far on the objective's footing (``_objective_bound``; no gap for a plan breaking the model)."""
    if bound is not None:
        bound = float(_objective_bound(bound, shift))
    known = feasible and bound is not None
    gap = proven_gap(best.objective, bound, maximize=maximize) if known else None
    say("exact", best.objective, bound, gap)


def _checked_options(
    inst: SitingInstance,
    model: SitingModel,
    method: str,
    solver: str,
    time_limit_s: float,
    rel_gap: float,
) -> str:
    """The solver to use (``auto`` resolved), once every option and the model's fit to the
    instance are checked, so that bad input fails before any work with the field named."""
    if method not in METHODS:
        raise SitingInputError(f"method must be one of {', '.join(METHODS)}, got '{method}'")
    if not 0 <= rel_gap < np.inf:
        raise SitingInputError(f"rel_gap must be a finite number >= 0, got {rel_gap}")
    if not time_limit_s > 0:
        raise SitingInputError(f"time limit must be > 0 seconds, got {time_limit_s}")
    model.check_against(inst)
    solver = default_solver(model) if solver == "auto" else solver
    if solver not in SOLVERS:
        raise SitingInputError(
            f"solver must be auto or one of {', '.join(SOLVERS)}, got '{solver}'"
        )
    if solver == "sat" and model.is_capacitated:
        # CP-SAT makes every column integer: split demand would silently become single-source
        raise SitingInputError("solver 'sat' (CP-SAT) cannot split demand: use scip or highs")
    return solver


def _plan_and_bound(
    inst: SitingInstance,
    model: SitingModel,
    mip: Mip,
    plan: SitingSolution,
    *,
    time_limit_s: float,
    rel_gap: float,
) -> tuple[SitingSolution, float | None]:
    """City-scale capacitated covering: the best plan and bound found in ``time_limit_s``.

    The bound (LP, Lagrangian) needs about half a minute and the plan search improves for
    minutes, so on two cores they run side by side: the bound in a second thread (PDLP, the
    solvers and numpy's sorts release the GIL) and the window search in this one, then in two
    once the bound is in, until the bound proves ``rel_gap`` or time is up (windows beat
    iterated swaps from the first seconds on). Once the LP relaxation is in, windows re-site
    only among the sites it opens at all (and the plan's): a window of the same size then spans
    more of the sites that matter. On the 90/day city case, 50 s of such windows served 68
    parcels more than windows over every site (median of 5 seeds; ``benchmarks/siting.py
    --window-ab``).
    """
    end = time.perf_counter() + time_limit_s
    deadline = end - PLAN_MARGIN_S
    lp_open: list[np.ndarray] = []  # the LP relaxation's y, once the bound thread has it
    with ThreadPoolExecutor(1) as pool:
        bounding = pool.submit(
            _quick_bound,
            inst,
            model,
            mip,
            plan,
            time_limit_s=_stage(max(0.5, deadline - time.perf_counter()), end),
            rel_gap=rel_gap,
            on_lp=lp_open.append,
        )

        def enough(value: float) -> bool:
            return bounding.done() and _proved(value, [bounding.result()], rel_gap)

        def search(is_open, **options) -> np.ndarray:
            left = deadline - time.perf_counter()
            return window_search(inst, model, is_open, time_limit_s=left, **options)

        # one window thread while the bound has the other core, then two; windows keep to the
        # LP relaxation's support once it is in
        is_open = search(plan.is_open, stop=lambda _: bool(lp_open) or bounding.done())
        kernel = lp_open[0] > KERNEL_Y if lp_open else None
        is_open = search(is_open, stop=lambda _: bounding.done(), candidates=kernel, seed=1)
        is_open = search(is_open, stop=enough, candidates=kernel, workers=WINDOW_WORKERS, seed=2)
        bound = bounding.result()
    found = _assign(inst, model, is_open)
    best = found if mip_value(found, mip) > mip_value(plan, mip) else plan
    return best, bound


def _quick_bound(
    inst: SitingInstance,
    model: SitingModel,
    mip: Mip,
    plan: SitingSolution,
    *,
    time_limit_s: float,
    rel_gap: float,
    alone: bool = False,
    on_lp: Callable[[np.ndarray], None] | None = None,
    keep: Callable[[SiteRelaxation], None] | None = None,
) -> float | None:
    """A bound found without the capacitated or large MIP, used to stop early or to tighten what
    the solver proves in its time: for capacitated covering (where the max-flow bound did not
    settle it) under a money budget first the knapsack bound (sites opened whole,
    ``knapsack.py``), then the Lagrangian bound (the LP with x <= y links, in seconds) and the
    uncapacitated covering optimum's bound (tight where capacity is slack), the smaller;
    for large capacitated set cover or facility location (fixed capacities or sizing) the
    Lagrangian bound, which the solver's own, without x <= y links, falls far short of; for a
    large p-median the Lagrangian bound (all the time: no MIP after it). Set cover's and
    facility location's share the time with the MIP, or take all of it ``alone``. ``on_lp``
    is handed the sites' values in the LP relaxation as soon as it is solved (city-scale
    covering only). Past a shortfall's floor (``_least_unserved``) set cover's and facility
    location's Lagrangian relaxes the floor row too (``must_serve_bound``). ``keep``, for
    facility location whose sites the Lagrangian then fixes (``fixed_strong_mip``), is handed
    its relaxation, and the Lagrangian takes ``FIXING_BOUND_SHARE`` of the time."""
    upper = mip_value(plan, mip)
    if model.kind == "maxcover" and model.is_capacitated:
        deadline = time.perf_counter() + time_limit_s
        bounds: list[float | None] = []
        rr, jj, _ = pairs(inst)
        reached = np.bincount(rr, plan.is_open[jj], minlength=inst.n_demand) > 0
        # the uncapacitated bound is at least what the plan's sites reach: skip it if too much
        helps = float(inst.weight[reached].sum()) <= upper * (1.0 + rel_gap)
        share_end = time.perf_counter() + (0.3 if helps else 0.5) * time_limit_s
        if model.budget is not None:
            # sites open whole: the LP and the Lagrangian open fractions of dear ones
            limit = _stage(max(0.1, KNAPSACK_SHARE * time_limit_s), deadline)
            bounds.append(knapsack_bound(inst, model, time_limit_s=limit, rel_gap=rel_gap))
            if _proved(upper, bounds, rel_gap):
                return _tightest(bounds, maximize=True)
        start = None
        if inst.reach.nnz > WINDOW_PAIRS and model.budget is None:
            # the subgradient alone creeps towards the LP bound: PDLP's duals start it close
            # (with a money budget PDLP's LP does not come in time: the subgradient starts cold)
            strong = build(inst, model, strong=True)
            left = share_end - time.perf_counter()
            lp = lp_relaxation(strong, time_limit_s=0.6 * left)
            if lp is not None and on_lp is not None:
                on_lp(lp.values[strong.y])
            start = _point_duals(strong, lp)
        bounds.append(
            capacitated_cover_bound(
                inst,
                model,
                lower=upper,
                stop_at=upper * (1.0 + rel_gap),
                time_limit_s=_stage(max(0.5, share_end - time.perf_counter()), deadline),
                start=start,
            )
        )
        # the capacitated MIP rarely gets past its root at city scale: most time goes here
        left = _stage(max(0.5, 0.85 * (deadline - time.perf_counter())), deadline)
        plain = _uncapacitated_cover(inst, model)
        if helps and left > 0 and plain is not None and not _proved(upper, bounds, rel_gap):
            bounds.append(solve(inst, plain, time_limit_s=left, rel_gap=rel_gap).bound)
        return _tightest(bounds, maximize=True)
    if _lagrange_must_serve(inst, model):
        share = FIXING_BOUND_SHARE if keep else 1.0 if alone else MUST_SERVE_SHARE
        return must_serve_bound(
            inst,
            model,
            upper=upper,
            stop_at=upper - rel_gap * plan.objective,  # the gap on the objective's footing
            time_limit_s=share * time_limit_s,
            floor=mip.floor,
            keep=keep,
        )
    if _large_pmedian(model, mip):
        bound = pmedian_bound(inst, model, upper=upper, time_limit_s=time_limit_s, rel_gap=rel_gap)
        return _whole(bound, mip)
    return None


def _uncapacitated_cover(inst: SitingInstance, model: SitingModel) -> SitingModel | None:
    """Capacitated covering ``model`` without capacities or sizing, for its bound: without its
    money budget where that cannot bind on fixed costs alone, and None where nothing then
    limits it (no ``p``: every parcel in reach, no bound worth a solve). Solved with such a
    budget, the inner solve warned that the budget was ignored, to a user whose budget bound
    (free sites, its compartments what it paid for)."""
    plain = dataclasses.replace(model, capacitated=False, sizing=None)
    if plain.budget is None or plain.budget < plain.most_spent(inst):
        return plain
    return None if plain.p is None else dataclasses.replace(plain, budget=None)


def _budget_cover(model: SitingModel) -> bool:
    """Whether ``model`` is capacitated maximal covering under a money budget, whose MIP is
    held to the knapsack bound (``_held_to``)."""
    return model.kind == "maxcover" and model.is_capacitated and model.budget is not None


def _held_to(mip: Mip, bound: float | None) -> Mip:
    """``mip`` (a maximum) with one more row holding its objective to ``bound``, a bound known
    on it (none: as it is). The solver's own bound then starts there, not at its LP's, so it
    stops as soon as it finds a plan that good: on a map of 30 alike sites and a money budget
    (the knapsack bound, ``knapsack.py``, proving the optimum of 3 sites) SCIP found that plan
    at once but ran its 5 s at its LP's bound, 6.5 % above."""
    if bound is None or not np.isfinite(bound):
        return mip
    row = sp.csr_matrix(mip.obj[None, :])
    return dataclasses.replace(
        mip,
        A=sp.vstack([mip.A, row], format="csr"),
        row_lb=np.r_[mip.row_lb, -np.inf],
        row_ub=np.r_[mip.row_ub, bound - mip.offset],
    )


def _mip_beside_bound(
    inst: SitingInstance, model: SitingModel, mip: Mip, plan: SitingSolution, options: dict
) -> tuple[MipResult, float | None]:
    """``solve_mip(mip, **options)``, and for a mid-sized p-median (``_bound_beside``) the
    Lagrangian bound worked out in a second thread until the MIP ends (None for others).

    On a 900-vertex file with p = 5 (33,565 rows) SCIP ended its 60 s before the root LP,
    with no bound at all, where the Lagrangian proves 0.4 % in 6 s. SCIP releases the GIL,
    so on two cores the bound costs the MIP little (``PMEDIAN_BESIDE_SHARE`` of its time at
    most): run before it instead, 9 s of it had put off every proof by as much (p = 90:
    21.6 s to 30.4 s)."""
    if not _bound_beside(model, mip):
        return solve_mip(mip, **options), None
    ended = threading.Event()
    with ThreadPoolExecutor(1) as pool:
        bounding = pool.submit(
            pmedian_bound,
            inst,
            model,
            upper=mip_value(plan, mip),
            time_limit_s=PMEDIAN_BESIDE_SHARE * options["time_limit_s"],
            rel_gap=options["rel_gap"],
            stop=ended.is_set,
        )
        try:
            res = solve_mip(mip, **options)
        finally:
            ended.set()
        bound = bounding.result()
    return res, _whole(bound, mip)


def _bound_again(
    inst: SitingInstance,
    model: SitingModel,
    mip: Mip,
    plan: SitingSolution,
    quick: float | None,
    until: float,
    rel_gap: float,
) -> tuple[MipResult, str]:
    """The Lagrangian bound run again, to ``until``, where its first run (a share of the time,
    for fixing sites) left too many sites free for the strong MIP: at 15-20 s on a capb-like
    100 x 1,000 case the MIP without links that took its place ended at 2-2.7 %, where the
    Lagrangian given that time had proved 0.1-0.4 %."""
    left = max(0.1, until - time.perf_counter())
    again = _quick_bound(inst, model, mip, plan, time_limit_s=left, rel_gap=rel_gap, alone=True)
    bound = _tightest([quick, again, _trivial_bound(inst, mip)], maximize=mip.maximize)
    return MipResult(None, None, bound, False, "time limit (relaxation bound)", 0.0), "relaxation"


def _by_benders(inst: SitingInstance, model: SitingModel, mip: Mip) -> bool:
    """Whether a p-median is solved by Benders decomposition (``benders.py``) instead of its
    MIP, where no solver is asked for: uncapacitated, without a money budget, not past
    ``LAGRANGE_ROWS`` (the city case: the Lagrangian bound and a longer search instead). On
    OR-Library-sized files of 500-900 vertices with p = 5 or 10, SCIP did not finish the root
    LP of the MIP in a minute (gaps of 0.7-1.4 %), where the decomposition proves most in
    seconds; pmed1-20 in under a second."""
    return benders.applies(inst, model) and not _large_pmedian(model, mip)


def _benders_mip(
    inst: SitingInstance, model: SitingModel, mip: Mip, plan: SitingSolution, options: dict
) -> MipResult:
    """The decomposition's plan and bound as the MIP's result (its sites' columns set). It
    stops between node LPs (up to 0.3 s each on 900 vertices), so it ends a margin early."""
    left = options["time_limit_s"]
    found = benders.pmedian_benders(
        inst,
        model,
        plan.is_open,
        time_limit_s=left - min(PLAN_MARGIN_S, 0.05 * left),
        rel_gap=options["rel_gap"],
    )
    values = np.zeros(mip.A.shape[1])
    values[mip.y] = found.is_open
    proved = found.bound >= found.objective
    status = f"{'optimal' if proved else 'feasible'} ({found.nodes} nodes, "
    status += f"{found.sites_left} sites left)"
    return MipResult(values, found.objective, found.bound, proved, status, found.seconds)


def _bound_beside(model: SitingModel, mip: Mip) -> bool:
    """Whether an uncapacitated p-median's MIP gets the Lagrangian bound beside it: past
    ``PMEDIAN_BOUND_ROWS`` rows, where SCIP may not finish the root LP in the time, up to
    ``LAGRANGE_ROWS``, past which the bound comes first and takes the MIP's place."""
    return (
        model.kind == "pmedian"
        and not model.is_capacitated
        and mip.A.shape[0] > PMEDIAN_BOUND_ROWS
        and not _large_pmedian(model, mip)
    )


def _whole_values(mip: Mip) -> bool:
    """Whether every plan's value in the radius formulation is a whole number: its
    coefficients and offset are (an integer plan sets each distance level's column to 0 or
    1), as in OR-Library's p-median files."""
    return bool(np.all(mip.obj == np.rint(mip.obj)) and mip.offset == np.rint(mip.offset))


def _whole(bound: float, mip: Mip) -> float:
    """A lower bound rounded up (``exact.round_up_whole``) where every plan's value is a
    whole number (``_whole_values``)."""
    if not _whole_values(mip):
        return bound
    return max(bound, float(round_up_whole(bound)))


def _large_pmedian(model: SitingModel, mip: Mip) -> bool:
    """Whether a p-median is too large for its MIP (past ``LAGRANGE_ROWS`` rows): the
    Lagrangian bound and a longer local search take the MIP's place."""
    return model.kind == "pmedian" and not model.is_capacitated and mip.A.shape[0] > LAGRANGE_ROWS


def _bound_first(inst: SitingInstance, model: SitingModel, mip: Mip) -> bool:
    """Whether the plan search (to its share of the time) and the Lagrangian bound come before
    the MIP, which gets only what they leave: a large p-median, and facility location whose
    MIP goes without x <= y links, or is sized, past ``MUST_SERVE_LAGRANGE_PAIRS`` pairs. The
    plan search is the uncapacitated local search run to its share, or the flow search
    (``_flow_searched``).

    On the city case SCIP spent its 28 s short of the p-median's root LP, and on sized
    facility location ended with the heuristic's plan and a bound of 26.2 million, where the
    Lagrangian's was 30.8 million. On a 6,000 x 600 case (41,430 pairs, links kept) sized
    facility location had no bound from SCIP in 60 s: searched first, 0.74 % in 20 s. There
    the capacitated one (fixed capacities) is left to SCIP, with the Lagrangian beside it:
    searched first it had 0.64 % at 20 s and at 60 s, where SCIP alone proves 0.05 %."""
    if _large_pmedian(model, mip):
        return True
    return (
        model.kind == "facility"
        and _lagrange_must_serve(inst, model)
        and (model.sizing is not None or inst.reach.nnz > STRONG_LINK_MAX_PAIRS)
    )


def _flow_searched(inst: SitingInstance, model: SitingModel) -> bool:
    """Whether the plan comes from the flow search (``flow_search``: sites opened, closed and
    swapped on the capacitated cost): facility location with fixed capacities past
    ``FLOW_SEARCH_PAIRS`` pairs. Its uncapacitated search then only gives the start: on a
    100 x 1000 OR-Library-sized case (capc, capacity 5,000) 30 s of it and the relief of its
    sites ended 15 % dearer than the optimum, which the flow search reached in 6 s. Below
    that size the MIP proves plans in seconds; sized plans (compartments) are left to the
    uncapacitated search, a flow taking 0.2 s on the city case."""
    return (
        model.kind == "facility"
        and model.is_capacitated
        and model.sizing is None
        and inst.reach.nnz > FLOW_SEARCH_PAIRS
    )


def _lagrange_must_serve(inst: SitingInstance, model: SitingModel) -> bool:
    """Whether a capacitated set cover or facility location is large enough to need the
    Lagrangian bound: past ``STRONG_LINK_MAX_PAIRS`` its MIP goes without x <= y links
    (``build``), whose LP bound the Lagrangian then supplies (on the city case, sized
    facility location's MIP proved 17.6 % in 60 s, and with the Lagrangian beside it 2.1 %);
    past ``MUST_SERVE_LAGRANGE_PAIRS`` SCIP may not finish the root LP of the MIP with the
    links in the time (no bound at all)."""
    return (
        model.kind in ("setcover", "facility")
        and model.is_capacitated
        and inst.reach.nnz > MUST_SERVE_LAGRANGE_PAIRS
    )


def _point_duals(mip: Mip, lp: LpResult | None) -> np.ndarray | None:
    """Per demand point, the LP dual of "served at most once" (parcels), or None without an LP."""
    if lp is None or mip.assign is None:
        return None
    rows = mip.assign
    return np.where(rows >= 0, lp.duals[np.maximum(rows, 0)], 0.0)


def _tightest(bounds: list[float | None], *, maximize: bool) -> float | None:
    """The tightest of bounds on an optimum: the least above a maximum, the greatest below a
    minimum (None where none is known)."""
    known = [b for b in bounds if b is not None]
    if not known:
        return None
    return min(known) if maximize else max(known)


def _proved(
    value: float, bounds: list[float | None], rel_gap: float, *, maximize=True, shift=0.0
) -> bool:
    """Whether the tightest of ``bounds`` on the MIP proves ``rel_gap`` for a plan of MIP value
    ``value``, judged on its objective (``value`` less ``shift``, see ``_objective_bound``)."""
    tight = _tightest(bounds, maximize=maximize)
    if tight is None:
        return False
    gap = proven_gap(value - shift, _objective_bound(tight, shift), maximize=maximize)
    return gap <= rel_gap


def _objective_bound(bound: float, shift: float) -> float:
    """A bound on the MIP put on the objective's footing for a plan whose MIP value is its
    objective plus ``shift``: the MIP prices each parcel a capacity shortfall leaves unserved
    above any plan's whole cost, the objective does not. Less the shift, it is the least any
    plan serving as many parcels could cost. Gaps are judged there: on the MIP's footing the
    price swamps them (1e-6 of a value of 1e8 is 100, 5e-4 of an objective of 2e5)."""
    return bound if shift == 0 else max(0.0, bound - shift)


def _objective_share(value: float, shift: float, mip: Mip) -> float:
    """What share of a plan's MIP value ``value`` is its objective: the MIP's relative gap
    scaled by it means the requested gap on the objective (``_objective_bound``). A plan the
    MIP finds serving more parcels has a larger share, and one serving as many but cheaper a
    slightly smaller one, which the gap judged on its objective then shows. A MIP held to a
    shortfall's floor prices no parcel: its value is the objective of every plan it finds."""
    return 1.0 if shift == 0 or mip.floor is not None else (value - shift) / value


def default_solver(model: SitingModel) -> str:
    """The OR-Tools backend that proved optimality fastest for this kind (benchmarks/siting.py)."""
    return "scip"


def mip_value(plan: SitingSolution, mip: Mip) -> float:
    """The plan's value in the MIP's units (unserved parcels priced as the MIP prices them: each
    one, or in a shortfall's second stage those beyond its floor, ``_unserved_slack``)."""
    value = plan.objective
    if plan.model.is_capacitated and plan.model.kind in ("setcover", "facility"):
        inst = plan.instance
        short = _short(plan)
        if mip.floor is not None:
            short = max(0.0, short - mip.floor - _short_tolerance(inst))
        value += big_penalty(inst, plan.model) * short
    return value


def _meets_model(plan: SitingSolution) -> bool:
    """Whether ``plan`` keeps the model's hard rules, as its MIP holds every plan to them:
    must-open sites open, at most ``p`` lockers (exactly ``p`` for a p-median), fixed costs and
    compartments within the money budget (to the solver's ``ROW_TOLERANCE``), and, without
    capacities, set cover and facility location reaching every point with parcels in reach.
    A heuristic plan breaking one may look better than every plan that keeps them: kept as
    the incumbent, it was returned over the MIP's plan and "proven" optimal (gap 0), or
    reported against a bound it beats (gap inf)."""
    inst, model = plan.instance, plan.model
    count = int(plan.is_open.sum())
    if (inst.must_open & ~plan.is_open).any():
        return False
    if model.p is not None and (count > model.p or (model.kind == "pmedian" and count < model.p)):
        return False
    slack = None if model.budget is None else ROW_TOLERANCE * max(1.0, model.budget)
    if slack is not None and _spent(plan) > model.budget + slack:
        return False
    if model.kind in ("setcover", "facility") and not model.is_capacitated:
        rr, jj, _ = pairs(inst)
        reached = np.bincount(rr, plan.is_open[jj], minlength=inst.n_demand) > 0
        return bool(reached[inst.in_reach & (inst.weight > 0)].all())
    return True


def _short(plan: SitingSolution) -> float:
    """Parcels in reach of some site that the plan leaves unserved."""
    inst = plan.instance
    return float((inst.weight * (1.0 - np.minimum(plan.served, 1.0)))[inst.in_reach].sum())


def _short_tolerance(inst: SitingInstance) -> float:
    """Parcels a plan may leave unserved beyond a shortfall's floor and still serve the most:
    ``SHORT_TOLERANCE`` of those in reach of some site."""
    return SHORT_TOLERANCE * max(1.0, float(inst.weight[inst.in_reach].sum()))


def _floor_at_start(mip: Mip, plan: SitingSolution) -> None:
    """Raise a shortfall's floor to what the start ``plan`` leaves unserved, where that is the
    fewest to ``SHORT_TOLERANCE`` but past ``ROW_TOLERANCE``: the flows count parcels to 1/1000,
    so a start serving the most may read a hair short of the floor, and SCIP refuses a start
    that breaks a row (on the demo map's sized facility location the MIP then ended 0.2 %
    dearer than with the start). Nearer than that it is taken as it is, and the floor is left
    alone: raised from 20 to 20.00000000000001, a tiny sized set cover SCIP had proven in 0.24 s
    ran its 10 s to a gap of 2.8e-4."""
    if mip.floor is None or mip_value(plan, mip) > plan.objective:
        return
    short = _short(plan)
    if short > mip.floor + ROW_TOLERANCE * max(1.0, mip.floor):
        mip.row_ub[mip.floor_row] = short


def _least_unserved(
    inst: SitingInstance, model: SitingModel, *, time_limit_s: float, exact: bool = True
) -> float | None:
    """The first stage of a capacity shortfall in set cover or facility location: the fewest
    parcels in reach that any plan leaves unserved (every site open, each as large as it may
    be): 0 where none need be (``flow.serves_everyone``), None where nothing must be served or
    no LP came in time.

    Not ``exact`` (the heuristic alone, no MIP to hold to it), the max flow's figure stands:
    the heuristic's target (``_up_to_floor``), at most 1/1000 parcel a point below the exact
    one (a standing locker's compartments each a capacity of their own, on points ``solve``
    split by size).

    The MIP then serves all the others at the least cost (``build``'s ``floor``), its objective
    money alone. The max flow (milliseconds) settles that no parcel need go unserved; else
    the fewest come from the LP relaxation of the MIP with every site open, whose optimum is
    the integer one (a new locker's compartments round up within its largest size, a standing
    one's are fixed) and exact, where the flow's 1/1000 parcel rounding could set a floor that
    no plan meets."""
    if model.kind not in ("setcover", "facility") or not model.is_capacitated:
        return None
    if serves_everyone(inst, model):
        return 0.0
    parcels = inst.weight[inst.in_reach]
    if not exact:
        every = np.ones(inst.n_sites, dtype=bool)
        served = max_service(inst, model, every)[0]
        least = float(parcels.sum()) - served
        return least if least > _short_tolerance(inst) else 0.0
    lp = build(inst, model, strong=False)
    lp.var_lb[lp.y] = 1.0
    lp.obj = np.zeros_like(lp.obj)
    lp.obj[lp.s] = parcels
    least = lp_optimum(lp, time_limit_s=time_limit_s)
    return None if least is None else max(least, 0.0)


def _heuristic(
    inst: SitingInstance,
    model: SitingModel,
    mip: Mip,
    *,
    time_limit_s: float,
    end: float,
    start: np.ndarray | None = None,
    patience: int | None = ILS_PATIENCE,
):
    """Open set from the uncapacitated heuristic (or ``start``); capacitated plans get an
    LP/MIP assignment. The swap search and the relief of short sites get at least a second
    each, but never past ``end``, the solve's deadline; the flow search (``_flow_searched``)
    what the uncapacitated search left of ``time_limit_s``, or a second."""
    begin = time.perf_counter()
    plain = dataclasses.replace(model, capacitated=False, sizing=None)
    # capacitated covering with p lockers: half the time on reach, the rest on capacity swaps
    swaps = _swaps(model)
    if start is None:
        limit = time_limit_s * (0.5 if swaps else 1.0)
        is_open = open_set(inst, plain, time_limit_s=limit, patience=patience)
    else:
        is_open = start.copy()
    if swaps:
        limit = _stage(max(1.0, 0.5 * time_limit_s), end)
        is_open = swap_search(inst, model, is_open, time_limit_s=limit)
    hint = (mip.y, is_open.astype(float))
    if not model.is_capacitated:
        rows, cols, frac = nearest_assignment(inst, is_open)
        return SitingSolution(inst, model, is_open, rows, cols, frac), hint
    deadline = time.perf_counter() + _stage(max(1.0, time_limit_s), end)
    cap = effective_capacity(inst, model)
    if model.kind in ("setcover", "facility"):
        is_open &= (cap > 0) | inst.must_open  # the uncapacitated start's sites that take nothing
    plan = _assign(inst, model, is_open)
    # Must-serve models: open more sites while reachable parcels are left without capacity.
    price, unit = site_cost(inst), np.zeros(inst.reach.nnz)
    if model.kind == "facility":
        price, unit = inst.fixed_cost, pairs(inst)[2]
    while model.kind in ("setcover", "facility") and time.perf_counter() < deadline:
        short = inst.weight * (1.0 - np.minimum(plan.served, 1.0))
        more = relief_sites(inst, cap, plan.is_open, short, price=price, unit=unit)
        if not more.any():
            break
        plan = _assign(inst, model, plan.is_open | more)
    plan = _up_to_floor(inst, model, mip, plan)
    if _flow_searched(inst, model):  # in what the start's search left of the share
        plan = flow_search(
            plan,
            capacity=cap,
            assess=lambda trial: _assign(inst, model, trial),
            value=lambda found: mip_value(found, mip),
            deadline=min(deadline, max(begin + time_limit_s, time.perf_counter() + 1.0)),
        )
    if model.budget is not None:
        plan = _within_budget(inst, model, plan)
    return plan, _full_hint(plan, mip)


def _up_to_floor(
    inst: SitingInstance, model: SitingModel, mip: Mip, plan: SitingSolution
) -> SitingSolution:
    """``plan``, or where it leaves more parcels unserved than any plan must (a shortfall's
    floor, or none), its sites assigned to serve the most, and failing that with the sites
    opened too that serve the most (``to_serve_most``): set cover and facility location serve
    everyone they can, and the MIP held to a floor takes no start short of it
    (``_floor_at_start``). Opening sites where short parcels are in reach (``_heuristic``)
    can stop short, since a closed site may be needed to relieve an open one that they reach
    (on a 800 x 150 sized set cover, 95 parcels short; where one point reaches only a full
    site, every parcel of it). Covering and p-median plans may leave parcels unserved."""
    if model.kind not in ("setcover", "facility") or _serves_most(plan, mip):
        return plan
    more = _assign(inst, model, plan.is_open, most=True)
    if not _serves_most(more, mip):
        more = _assign(inst, model, to_serve_most(inst, model, plan.is_open), most=True)
    return more if mip_value(more, mip) < mip_value(plan, mip) else plan


def _serves_most(plan: SitingSolution, mip: Mip) -> bool:
    """Whether ``plan`` leaves at most the parcels unserved that any plan must (a shortfall's
    floor, none without one), to ``SHORT_TOLERANCE``."""
    return _short(plan) <= (mip.floor or 0.0) + _short_tolerance(plan.instance)


def _within_budget(
    inst: SitingInstance, model: SitingModel, plan: SitingSolution
) -> SitingSolution:
    """The plan cut down until its fixed costs and compartments fit the money budget (its
    sites were chosen on fixed costs alone). Covering closes the least used sites, while far
    over the budget half as many at a time as the overspend would buy (on the city case one at
    a time took 38 s, 460 flows). A p-median must keep its p lockers, and covering down to its
    must-open sites has none left to close, so they build fewer compartments instead: each
    priced site's capacity is cut by the overspend's share of what compartments cost (a
    compartment's turnover at least), and the flow leaves unserved the parcels whose walk
    saves least on the unserved penalty (covering: any). That ends within the budget: loads
    fall to nothing at worst, and the sites' fixed costs fit it (``open_set``, ``check_sites``)."""
    budget = model.budget
    cap = inst.capacity
    while (spent := _spent(plan)) > budget + 1e-9:
        movable = np.flatnonzero(plan.is_open & ~inst.must_open)
        if model.kind == "pmedian" or movable.size == 0:
            priced = plan.compartment_cost > 0
            if not priced.any():
                break
            share = (spent - budget) / plan.compartment_cost.sum()
            load = plan.load
            cut = np.maximum(share * load, model.sizing.throughput)
            cap = np.where(priced, np.maximum(load - cut, 0.0), cap)
            plan = _assign(inst, model, plan.is_open, capacity=cap)
            continue
        is_open = plan.is_open.copy()
        use = plan.load[movable] / np.maximum(inst.fixed_cost[movable] + 1.0, 1e-9)
        count = max(1, int(0.5 * (spent - budget) / (spent / is_open.sum())))
        is_open[movable[np.argsort(use, kind="stable")[:count]]] = False
        plan = _assign(inst, model, is_open)
    return plan


def _uncapacitated(inst: SitingInstance, model: SitingModel, *, time_limit_s: float):
    """Capacitated set cover's optimum without capacities (exact: under a second on the city
    case). The capacitated plan starts from its sites (there 473 lockers where the greedy's
    gave 520), and its bound plus ``least_compartment_cost`` bounds the capacitated optimum:
    a plan whose sites reach every reachable point pays at least that optimum's sites, and
    each parcel at least the cheapest compartment for it or the unserved price; a plan whose
    sites miss a point pays the unserved price for it, more than any plan serving everyone.
    (Facility location's uncapacitated optimum, tried the same way, gave a worse plan and a
    weaker bound than its heuristic and Lagrangian bound in the same minute.) None where the
    solve's limit leaves it no time."""
    if time_limit_s <= 0:
        return None
    plain = dataclasses.replace(model, capacitated=False, sizing=None)
    return solve(inst, plain, time_limit_s=time_limit_s)


def _stage(seconds: float, end: float) -> float:
    """``seconds`` for a stage, cut to what is left before ``end``, the solve's deadline (0 if
    nothing is): a stage's floor, there to give it time to do some good at a small limit, had
    taken a solve given 0.3 s to 1.5 s."""
    return max(0.0, min(seconds, end - time.perf_counter()))


def _swaps(model: SitingModel) -> bool:
    """Whether the capacity swap search applies: capacitated covering with p lockers."""
    return (
        model.kind == "maxcover"
        and model.is_capacitated
        and model.budget is None
        and (model.p is not None)
    )


def _spent(plan: SitingSolution) -> float:
    """Money a plan spends: fixed costs of open sites plus the compartments it builds."""
    return float(plan.instance.fixed_cost[plan.is_open].sum() + plan.compartment_cost.sum())


def _assign(
    inst: SitingInstance,
    model: SitingModel,
    is_open: np.ndarray,
    *,
    capacity: np.ndarray | None = None,
    most: bool = False,
) -> SitingSolution:
    """The capacitated plan for a fixed open set: min-cost flow, then the fewest compartments
    (``capacity``: the sites' capacities for the flow, where less than the instance's). Facility
    location leaves a parcel unserved where serving it walks parcels more than twice the
    farthest pair, unless ``most``: then an unserved parcel costs more than any path serving it
    (through each site once), so the flow serves the most parcels first."""
    flow_inst = inst if capacity is None else dataclasses.replace(inst, capacity=capacity)
    far = float(inst.reach.data.max(initial=0.0))
    if model.kind == "pmedian":
        unserved = model.penalty(inst)
    elif model.kind == "facility":
        unserved = (inst.n_sites if most else 2.0) * far + 1.0
    else:
        unserved = 1.0
    rows, cols, frac, sizes = flow_assignment(flow_inst, model, is_open, unserved_cost=unserved)
    return SitingSolution(inst, model, is_open, rows, cols, frac, sizes=sizes)


def _full_hint(plan: SitingSolution, mip: Mip):
    """Every column's value for a capacitated plan (a complete MIP start)."""
    inst = plan.instance
    values = np.zeros(mip.A.shape[1])
    values[mip.y] = plan.is_open
    rr, jj, _ = pairs(inst)
    key = rr * inst.n_sites + jj  # pairs() is row-major, so keys are sorted
    values[mip.x[np.searchsorted(key, plan.rows * inst.n_sites + plan.cols)]] = plan.frac
    if mip.n is not None:
        values[mip.n.ravel()] = at_least(plan.sizes).ravel()
    if mip.s is not None:
        reached = np.flatnonzero(np.diff(inst.reach.indptr) > 0)
        values[mip.s] = 1.0 - np.minimum(plan.served[reached], 1.0)
    return np.arange(values.size), values


def _decode(inst: SitingInstance, model: SitingModel, mip: Mip, values: np.ndarray):
    is_open = values[mip.y] > 0.5
    if mip.x is None:
        rows, cols, frac = nearest_assignment(inst, is_open)
        return SitingSolution(inst, model, is_open, rows, cols, frac)
    rr, jj, _ = pairs(inst)
    frac = np.clip(values[mip.x], 0.0, 1.0)
    keep = frac > 1e-9
    rr, jj, frac = rr[keep], jj[keep], frac[keep]
    sizes = None
    if mip.n is not None:
        # covering and p-median MIPs leave compartments unpriced: any count that fits is optimal
        # to them (20 L where 12 S, 6 M and 2 L do), so each site keeps the cheaper of the
        # solver's and the fewest that hold its load
        # (a standing locker's columns are fixed, and the fewest keep them too)
        solver = of_each_size(np.rint(values[mip.n]).astype(np.int64))  # columns: >= S, M, L
        fewest = fewest_compartments(inst, model, rr, jj, frac)
        costs = model.sizing.costs
        sizes = np.where((fewest @ costs <= solver @ costs)[:, None], fewest, solver)
    return SitingSolution(inst, model, is_open, rr, jj, frac, sizes=sizes)


def _unmerge(plan: SitingSolution, inst: SitingInstance, group: np.ndarray) -> SitingSolution:
    """The plan on the original points (merged points' fractions go to each member). Without
    capacities set cover and facility location send each point to its nearest open site,
    those with no parcels too: ``without_empty_points`` took them out of reach to plan."""
    if plan.instance is inst:
        return plan
    if plan.model.kind in ("setcover", "facility") and not plan.model.is_capacitated:
        rows, cols, frac = nearest_assignment(inst, plan.is_open)
    else:
        rows, cols, frac = expand(plan.rows, plan.cols, plan.frac, group)
    return dataclasses.replace(plan, instance=inst, rows=rows, cols=cols, frac=frac)
