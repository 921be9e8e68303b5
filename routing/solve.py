"""`solve(problem)`: pick an engine (or race two) and report which one made the plan and why.

`engine="auto"` uses PyVRP where the problem fits its model (it is the stronger search on
capacitated and time-windowed problems) and OR-Tools, which supports every part of the model,
elsewhere. With more than one core available it races, for the same time limit, OR-Tools here
against a forked child process: PyVRP where it fits, else OR-Tools started from another
first-solution heuristic (parallel cheapest insertion gives the better plans but can take most
of the time on big timed problems; local cheapest insertion starts fast). It keeps the better
plan that passes the independent checker: fewer unassigned tasks first, then lower cost.
"""

from __future__ import annotations

import multiprocessing as mp
import os
import time
from typing import Any

from routing.check import check
from routing.engines import ENGINES, EngineError, ProgressCallback, get_engine
from routing.model import Problem
from routing.solution import Solution

__all__ = ["available_cores", "solve"]


def available_cores() -> int:
    """Cores this process may run on (respects CPU affinity, unlike os.cpu_count)."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # pragma: no cover - not Linux
        return os.cpu_count() or 1


def solve(
    problem: Problem,
    *,
    engine: str = "auto",
    time_limit_s: float = 10.0,
    seed: int = 0,
    progress: ProgressCallback | None = None,
    race: bool | None = None,
) -> Solution:
    """Solve the problem; the solution's `engine` and `engine_reason` say who and why.

    `race` None races both engines when auto, both fit and more than one core is free;
    True/False forces it on or off.
    """
    if time_limit_s <= 0:
        raise EngineError(f"time_limit_s: must be positive, got {time_limit_s}")
    if engine != "auto":
        module = get_engine(engine)
        ok, why = module.supports(problem)
        if not ok:
            raise EngineError(f"engine: {engine} cannot solve this problem: {why}")
        solution = module.solve(problem, time_limit_s=time_limit_s, seed=seed, progress=progress)
        return _tagged(solution, f"asked for {engine}")

    fits, why = _pyvrp_fits(problem)
    if race is None:
        race = available_cores() > 1
    if not fits:
        reason = f"auto: OR-Tools, because PyVRP does not fit ({why})"
        if race:  # two first-solution heuristics: robust start, diverse searches
            return _race(problem, ("ortools", {"first_solution": "local"}), reason,
                         time_limit_s=time_limit_s, seed=seed, progress=progress)
        solution = get_engine("ortools").solve(
            problem, time_limit_s=time_limit_s, seed=seed, progress=progress
        )
        return _tagged(solution, reason)
    if not race:
        solution = get_engine("pyvrp").solve(
            problem, time_limit_s=time_limit_s, seed=seed, progress=progress
        )
        return _tagged(solution, f"auto: PyVRP ({why}); one core, so no race")
    return _race(problem, ("pyvrp", {}), f"auto: PyVRP fits ({why})",
                 time_limit_s=time_limit_s, seed=seed, progress=progress)


def _pyvrp_fits(problem: Problem) -> tuple[bool, str]:
    if "pyvrp" not in ENGINES:
        return False, "not installed"
    try:
        module = get_engine("pyvrp")
    except EngineError as err:
        return False, str(err)
    return module.supports(problem)


def _tagged(solution: Solution, reason: str) -> Solution:
    return solution.model_copy(update={"engine_reason": reason})


def _child(conn: Any, problem: Problem, engine: str, options: dict[str, Any],
           time_limit_s: float, seed: int) -> None:
    """Runs in the forked process: solve, send the solution (or the error) back."""
    try:
        solution = get_engine(engine).solve(problem, time_limit_s=time_limit_s, seed=seed,
                                            **options)
        conn.send(("ok", solution))
    except Exception as err:  # reported to the parent, which keeps its own plan
        conn.send(("error", f"{type(err).__name__}: {err}"))
    finally:
        conn.close()


def _label(solution: Solution) -> str:
    variant = solution.meta.get("first_solution")
    return solution.engine + (f" ({variant} start)" if variant else "")


def _race(problem: Problem, child: tuple[str, dict[str, Any]], reason: str, *,
          time_limit_s: float, seed: int, progress: ProgressCallback | None) -> Solution:
    """OR-Tools here and `child` (engine, options) in a forked process, same time limit;
    the better checked plan wins."""
    began = time.monotonic()
    ctx = mp.get_context("fork")
    parent, end = ctx.Pipe(duplex=False)
    proc = ctx.Process(target=_child, args=(end, problem, *child, time_limit_s, seed),
                       daemon=True)
    proc.start()
    end.close()
    try:
        ours = get_engine("ortools").solve(problem, time_limit_s=time_limit_s, seed=seed,
                                           progress=progress)
        # the child got the same limit; allow it start-up slack before giving up on it
        wait = max(1.0, time_limit_s + 5.0 - (time.monotonic() - began))
        theirs: Solution | None = None
        note = ""
        if parent.poll(wait):
            status, payload = parent.recv()
            if status == "ok":
                theirs = payload
            else:
                note = f"{child[0]} failed ({payload})"
        else:
            note = f"{child[0]} gave no plan in time"
    finally:
        parent.close()
        proc.join(timeout=2.0)
        if proc.is_alive():
            proc.kill()
            proc.join()

    candidates = [s for s in (ours, theirs) if s is not None]
    best = min(candidates, key=lambda s: _rank(problem, s))
    costs = ", ".join(
        f"{_label(s)} {s.summary.cost:.2f} ({s.summary.unassigned} unassigned"
        f"{'' if check(problem, s).ok else ', fails the checker'})"
        for s in candidates
    )
    reason += f"; raced on {available_cores()} cores, kept {_label(best)} [{costs}]"
    return _tagged(best, reason + (f"; {note}" if note else ""))


def _rank(problem: Problem, solution: Solution) -> tuple[int, int, float]:
    """Checked plans first, then fewer unassigned tasks, then lower cost plus penalties."""
    passed = check(problem, solution).ok
    s = solution.summary
    return (0 if passed else 1, s.unassigned, s.cost + s.penalty)
