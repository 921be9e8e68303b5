"""Exact solving: a formulation handed to a MIP solver (SCIP or CP-SAT through OR-Tools, HiGHS).

OR-Tools' model builder takes the whole sparse matrix at once, so building the city-scale model
costs milliseconds. HiGHS runs through its own binding, highspy: the HiGHS inside OR-Tools
ignores MIP starts and returns nothing when it stops at its time limit, where highspy takes a
start and returns the incumbent. The solver reports its incumbent and best bound; the proven gap
compares the bound with the best plan known, the heuristic's warm start included.
"""

from __future__ import annotations

import dataclasses
import os
import threading
import time
from dataclasses import dataclass

import highspy
import numpy as np
from ortools.linear_solver.python import model_builder_helper as mbh

from routing.siting.errors import SitingInputError
from routing.siting.formulation import Mip

SOLVERS = ("scip", "highs", "sat")
# OR-Tools copies the model into SCIP (or CP-SAT) before the solver's clock starts and frees it
# after: about 0.4-0.7 s for the city case's 400,000-600,000 non-zeros, which the limit allows for
SETUP_S_PER_NONZERO = 1.5e-6
_OK = (mbh.SolveStatus.OPTIMAL, mbh.SolveStatus.FEASIBLE)


@dataclass
class MipResult:
    """What the solver proved: values (None if it found nothing), objective, bound, status."""

    values: np.ndarray | None
    objective: float | None
    bound: float
    optimal: bool
    status: str
    seconds: float


def solve_mip(
    mip: Mip,
    *,
    solver: str = "scip",
    time_limit_s: float = 60.0,
    rel_gap: float = 1e-6,
    hint: tuple[np.ndarray, np.ndarray] | None = None,
    log: bool = False,
) -> MipResult:
    """Solve ``mip`` to ``rel_gap`` or until ``time_limit_s``; ``hint`` is (columns, values)."""
    if solver not in SOLVERS:
        raise SitingInputError(f"solver must be one of {', '.join(SOLVERS)}, got '{solver}'")
    if not 0 <= rel_gap < np.inf:  # SCIP refuses a negative gap in C and solves on regardless
        raise SitingInputError(f"rel_gap must be a finite number >= 0, got {rel_gap}")
    if solver == "highs":
        return _solve_highs(mip, time_limit_s=time_limit_s, rel_gap=rel_gap, hint=hint, log=log)
    start = time.perf_counter()
    model = _model(mip)
    for k in mip.integer:
        model.set_var_integrality(int(k), True)
    if hint is not None:
        for k, v in zip(*hint, strict=True):
            model.add_hint(int(k), float(v))
    engine = mbh.ModelSolverHelper(solver)
    engine.enable_output(log)
    setup = SETUP_S_PER_NONZERO * mip.A.nnz
    engine.set_time_limit_in_seconds(
        max(0.01, time_limit_s - setup - (time.perf_counter() - start))
    )
    engine.set_solver_specific_parameters(_gap_parameter(solver, rel_gap))
    engine.solve(model)
    status = engine.status()
    found = status in _OK and engine.has_solution()
    bound = engine.best_objective_bound()
    return MipResult(
        values=engine.variable_values() if found else None,
        objective=engine.objective_value() if found else None,
        bound=bound if np.isfinite(bound) else (np.inf if mip.maximize else -np.inf),
        optimal=status == mbh.SolveStatus.OPTIMAL,
        status=status.name.lower(),
        seconds=time.perf_counter() - start,
    )


def _solve_highs(
    mip: Mip,
    *,
    time_limit_s: float,
    rel_gap: float,
    hint: tuple[np.ndarray, np.ndarray] | None,
    log: bool,
) -> MipResult:
    """``solve_mip`` on HiGHS through highspy (``hint`` may name only some columns)."""
    start = time.perf_counter()
    quiet_banner()
    h = highspy.Highs()
    h.setOptionValue("output_flag", log)
    h.setOptionValue("time_limit", max(0.01, float(time_limit_s)))
    h.setOptionValue("mip_rel_gap", float(rel_gap))
    h.setOptionValue("threads", 1)  # callers run their solves side by side, a core each
    h.passModel(_highs_lp(mip))
    if hint is not None:
        cols, values = hint
        h.setSolution(len(cols), np.asarray(cols, np.int32), np.asarray(values, np.float64))
    h.run()
    status = h.getModelStatus()
    info = h.getInfo()
    found = info.primal_solution_status == highspy.SolutionStatus.kSolutionStatusFeasible
    optimal = status == highspy.HighsModelStatus.kOptimal
    bound = info.mip_dual_bound
    if status == highspy.HighsModelStatus.kInfeasible:
        name = "infeasible"
    else:
        name = "optimal" if optimal else "feasible" if found else "not_solved"
    return MipResult(
        values=np.asarray(h.getSolution().col_value) if found else None,
        objective=info.objective_function_value if found else None,
        bound=bound if np.isfinite(bound) else (np.inf if mip.maximize else -np.inf),
        optimal=optimal,
        status=name,
        seconds=time.perf_counter() - start,
    )


def _highs_lp(mip: Mip) -> highspy.HighsLp:
    """The matrices as a HiGHS model (columns-wise matrix, integrality, sense, offset)."""
    lp = highspy.HighsLp()
    A = mip.A.tocsc()
    lp.num_row_, lp.num_col_ = A.shape
    lp.col_cost_, lp.offset_ = mip.obj, mip.offset
    lp.col_lower_, lp.col_upper_ = mip.var_lb, mip.var_ub
    lp.row_lower_ = np.maximum(mip.row_lb, -highspy.kHighsInf)
    lp.row_upper_ = np.minimum(mip.row_ub, highspy.kHighsInf)
    lp.a_matrix_.format_ = highspy.MatrixFormat.kColwise
    lp.a_matrix_.num_row_, lp.a_matrix_.num_col_ = A.shape
    lp.a_matrix_.start_, lp.a_matrix_.index_, lp.a_matrix_.value_ = A.indptr, A.indices, A.data
    kinds = np.full(A.shape[1], highspy.HighsVarType.kContinuous)
    kinds[mip.integer] = highspy.HighsVarType.kInteger
    lp.integrality_ = kinds.tolist()
    lp.sense_ = highspy.ObjSense.kMaximize if mip.maximize else highspy.ObjSense.kMinimize
    return lp


_banner_lock = threading.Lock()
_banner_done = False


def round_up_whole(values):
    """Lower bounds on an objective whose every value is whole, rounded up less a rounding
    margin, so that a bound a hair above a whole number by rounding is not taken to the next:
    a bound of 4,897.99 proves a plan of 4,898 optimal (scalars or arrays)."""
    return np.ceil(values - 1e-6 * np.maximum(1.0, np.abs(values)))


def quiet_banner() -> None:
    """HiGHS prints its banner on stdout when a process makes its first instance, whatever its
    options: that first instance is made here with stdout pointed at /dev/null, so that the
    CLI's output stays the CLI's."""
    global _banner_done
    with _banner_lock:
        if _banner_done:
            return
        saved = os.dup(1)
        try:
            with open(os.devnull, "w") as null:
                os.dup2(null.fileno(), 1)
                highspy.Highs()
        finally:
            os.dup2(saved, 1)
            os.close(saved)
        _banner_done = True


@dataclass
class LpResult:
    """An approximate LP optimum: its objective (not a proven bound), values and row duals."""

    objective: float
    values: np.ndarray
    duals: np.ndarray
    seconds: float


def lp_relaxation(mip: Mip, *, time_limit_s: float, tolerance: float = 1e-3) -> LpResult | None:
    """The LP relaxation of ``mip`` by PDLP, OR-Tools' first-order LP method.

    At city scale simplex and barrier need minutes for this LP; PDLP reaches a relative
    tolerance of 1e-3 in seconds. Its objective proves nothing by itself, but its row duals
    are near-optimal Lagrange multipliers, and any multipliers give a valid bound.
    """
    start = time.perf_counter()
    model = _model(mip)  # integrality left off: the relaxation
    engine = mbh.ModelSolverHelper("pdlp")
    engine.set_time_limit_in_seconds(max(0.01, time_limit_s))
    engine.set_solver_specific_parameters(
        "termination_criteria { simple_optimality_criteria { "
        f"eps_optimal_relative: {tolerance} eps_optimal_absolute: {tolerance} }} }}"
    )
    engine.solve(model)
    if not engine.has_solution():
        return None
    return LpResult(
        objective=engine.objective_value(),
        values=engine.variable_values(),
        duals=engine.dual_values(),
        seconds=time.perf_counter() - start,
    )


def lp_optimum(mip: Mip, *, time_limit_s: float) -> float | None:
    """The optimum of ``mip``'s LP relaxation by HiGHS's simplex, or None if not proven in
    ``time_limit_s``: a vertex, exact to rounding, where PDLP's (``lp_relaxation``) is only
    within its tolerance, for a value another model is then held to."""
    quiet_banner()
    h = highspy.Highs()
    h.setOptionValue("output_flag", False)
    h.setOptionValue("time_limit", max(0.01, float(time_limit_s)))
    h.setOptionValue("threads", 1)
    h.passModel(_highs_lp(dataclasses.replace(mip, integer=np.zeros(0, dtype=np.int64))))
    h.run()
    if h.getModelStatus() != highspy.HighsModelStatus.kOptimal:
        return None
    return float(h.getInfo().objective_function_value)


def _model(mip: Mip) -> mbh.ModelBuilderHelper:
    """The matrices in OR-Tools' model builder, all in one call, with sense and offset."""
    model = mbh.ModelBuilderHelper()
    model.fill_model_from_sparse_data(
        mip.var_lb, mip.var_ub, mip.obj, mip.row_lb, mip.row_ub, mip.A
    )
    model.set_maximize(mip.maximize)
    model.set_objective_offset(mip.offset)
    return model


def _gap_parameter(solver: str, rel_gap: float) -> str:
    if solver == "scip":
        return f"limits/gap = {rel_gap}"
    return f"relative_gap_limit:{rel_gap},num_workers:2"


def proven_gap(objective: float | None, bound: float, *, maximize: bool) -> float:
    """Relative gap |bound - objective| / |objective| (0 when equal, inf without a plan)."""
    if objective is None or not np.isfinite(bound):
        return float("inf")
    diff = (bound - objective) if maximize else (objective - bound)
    if diff <= 1e-9 * max(1.0, abs(objective)):
        # a bound past a known plan is no bound at all (a solver that stopped without one)
        return 0.0 if diff >= -1e-6 * max(1.0, abs(objective)) else float("inf")
    return diff / max(abs(objective), 1e-9)
