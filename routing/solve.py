"""`solve(problem)`: pick an engine (or race two) and report which one made the plan and why.

`engine="auto"` uses PyVRP where the problem fits its model (it is the stronger search on
capacitated and time-windowed problems) and OR-Tools, which supports every part of the model,
elsewhere. Where PyVRP does not fit only because of breaks or several time windows, PyVRP's
plan of the simplified problem (see `simplified`) is a warm start for OR-Tools on the real one:
PyVRP's search is much stronger and OR-Tools restores its plan when it keeps the real rules.
With more than one core available it races two searches for the same time limit, one here and
one in a forked child: OR-Tools against PyVRP where PyVRP fits, two warm starts from
differently seeded PyVRP runs, or else OR-Tools from two first-solution heuristics. It keeps
the better plan that passes the independent checker: fewer unassigned tasks, then lower cost.
"""

from __future__ import annotations

import functools
import math
import multiprocessing as mp
import os
import signal
import threading
import time
from collections.abc import Callable
from typing import Any

from routing.check import check
from routing.engines import ENGINES, EngineError, ProgressCallback, ShouldStop, get_engine
from routing.model import Job, Problem, Shipment, ShipmentStop, TimeWindow
from routing.solution import Solution, build_solution, with_unassigned
from routing.stop import Criterion, MaxRuntime, NoImprovement, StopError
from routing.unassigned import explain, has_carrier

__all__ = ["SEED_MAX", "available_cores", "default_stop", "small_day", "solve"]

#: The time limit of a solve given neither `time_limit_s` nor `stop`.
DEFAULT_TIME_LIMIT_S = 10.0
#: The largest seed `solve` takes: PyVRP's random generator takes an unsigned 32-bit seed, and
#: a race seeds its second PyVRP search with seed + 1 (numpy's draws take no negative seed).
SEED_MAX = 2**32 - 2


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
    time_limit_s: float | None = None,
    stop: Criterion | None = None,
    seed: int = 0,
    progress: ProgressCallback | None = None,
    race: bool | None = None,
    should_stop: ShouldStop | None = None,
) -> Solution:
    """Solve the problem; the solution's `engine` and `engine_reason` say who and why, its
    `runtime_s` the whole time taken (a warm start's two engines, a race's wait included).
    Every plan goes through the independent checker, and one that fails it says so in its
    `engine_reason` (the API's and the CLI's readers see it there): a plan is never handed on
    as sound on an engine's word alone.

    `race` None races two searches when auto, more than one core is free and this process
    runs no other thread (the race forks); True/False forces it on or off. `should_stop`, asked
    by the engines at each new plan, ends the solve early once it says so (a cancelled job):
    no later phase starts and a race's other search is asked to stop too and waited for
    `RACE_STOP_WAIT_S` at most; the plan then has `meta["stopped"]` and is the better of
    what the searches had by then.

    `stop` says when the searches end (`routing.stop`: `MaxRuntime(10) | NoImprovement(2)`):
    its `MaxRuntime` is the time limit, shared out among the searches as `time_limit_s` is,
    and each search (a race's two, a warm start's two parts) watches the rest afresh.
    `time_limit_s` alone is `MaxRuntime(time_limit_s)` (neither: `DEFAULT_TIME_LIMIT_S`), a
    solve exactly as before stops existed; both at once are refused, as two limits would be
    ambiguous. The plan's `meta["stopped_by"]` names what ended its (last) search:
    "max_runtime", "no_improvement" (its `engine_reason` then says so), "cancelled", or
    "completed" (OR-Tools' search ended by itself, no move left to try: a day of one job).
    """
    time_limit_s, stop = _stop_and_limit(time_limit_s, stop)
    for name in ENGINES if engine == "auto" else (engine,):
        # imported before the clock starts: a first solve in a process (every `gongpei solve`,
        # whose CLI imports no engine up front) spent 0.2 s of its limit loading them
        get_engine(name)
    began = time.monotonic()
    aside = [t for t in (*problem.jobs, *problem.shipments) if not has_carrier(problem, t)]
    work = _without(problem, aside)
    if work.jobs or work.shipments:
        solution = _solved(
            work, engine=engine, time_limit_s=time_limit_s, seed=seed, progress=progress,
            race=race, should_stop=should_stop, stop=stop,
        )  # fmt: skip
    else:  # nothing any vehicle can take: no engine to run
        solution = build_solution(problem, [], {}, engine="none", engine_reason="no servable task")
    solution = with_unassigned(problem, solution, {t.id: explain(problem, t.id) for t in aside})
    if aside:
        solution = _tagged(
            solution,
            f"{solution.engine_reason}; {len(aside)} task(s) no vehicle can take left out first",
        )
    if stop is not None and solution.meta.get("stopped_by") == "no_improvement":
        solution = _tagged(solution, f"{solution.engine_reason}; ended early: {_plateau(stop)}")
    update: dict[str, object] = {"runtime_s": time.monotonic() - began}
    report = check(problem, solution)
    if not report.ok:
        more = len(report.violations) - 1
        update["engine_reason"] = f"{solution.engine_reason}; fails the checker: " + (
            f"{report.violations[0]}" + (f" (and {more} more)" if more else "")
        )
    return solution.model_copy(update=update)


#: A day of at most this many stops (a job is one, a shipment two) that PyVRP plans ends after
#: `SMALL_DAY_PLATEAU_S` without a better plan by default (`default_stop`). On 10, 25 and 50 jobs
#: cut from five benchmark instances (X-n101, X-n200, R101, RC101, RC201; 30 days) PyVRP's last
#: better plan came by 0.7 s, and the auto solve kept the same plan in 1-3.4 s as in 10 s (with
#: a break per van, PyVRP's plan seeding OR-Tools: 23 of 24 days the same, one 0.07 % dearer,
#: in 2-4 s). On the 100-200-task instances better plans still came after 1-7 s without one.
SMALL_DAY_STOPS = 50
SMALL_DAY_PLATEAU_S = 1.0


#: A day of at most this many stops gets that plateau on any engine, OR-Tools alone included.
#: Traced over 10 s on days cut from six benchmark files (those five and C101; two slices each),
#: three Li & Lim ones and four generated rich days: on 28 days of 5-10 stops OR-Tools' last
#: better plan came by 0.05 s, so a 1 s plateau keeps its 10 s plan; on 57 days of 11-50 its
#: guided local search still found better plans after more than 1 s without one (up to 9 s in),
#: and a 1 s plateau would cost up to 6.7 % (14 days; 2 of the 28 of 11-20 stops, 0.5-0.6 %).
ORTOOLS_SMALL_DAY_STOPS = 10


def default_stop(
    problem: Problem,
    time_limit_s: float,
    *,
    engine: str = "auto",
    no_improvement_s: float | None = None,
) -> Criterion:
    """The stop of the CLI's solves and the API's batches: `time_limit_s` as the cap and a
    plateau, `no_improvement_s` where given (the limit or more: none), else
    `SMALL_DAY_PLATEAU_S` on a small day: one of at most `SMALL_DAY_STOPS` stops that PyVRP
    plans (`engine` "pyvrp", or "auto" where PyVRP fits the day or its `simplified` version),
    or of at most `ORTOOLS_SMALL_DAY_STOPS` on any engine. A batch of a few parcels is so
    planned in a second or two rather than in its whole limit. OR-Tools alone gets none on
    days between the two sizes: its guided local search went seconds without a better plan
    there and then found one; larger days keep the limit on any engine.
    """
    cap = MaxRuntime(time_limit_s)
    if no_improvement_s is None and small_day(problem, engine):
        no_improvement_s = SMALL_DAY_PLATEAU_S
    if no_improvement_s is None or no_improvement_s >= time_limit_s:
        return cap
    return cap | NoImprovement(no_improvement_s)


def small_day(problem: Problem, engine: str) -> bool:
    """Whether the day gets the small days' plateau (see `default_stop`): at most
    `ORTOOLS_SMALL_DAY_STOPS` stops on any engine, or at most `SMALL_DAY_STOPS` that PyVRP
    plans. Pool runs ask it too (`routing.pooling.compare.plan_stop`), so which days are small
    is said in one place."""
    stops = len(problem.jobs) + 2 * len(problem.shipments)
    if stops <= ORTOOLS_SMALL_DAY_STOPS:
        return True
    if stops > SMALL_DAY_STOPS:
        return False
    return engine == "pyvrp" or (
        engine == "auto" and (_pyvrp_fits(problem)[0] or simplified(problem) is not None)
    )


def _stop_and_limit(
    time_limit_s: float | None, stop: Criterion | None
) -> tuple[float, Criterion | None]:
    """The solve's time limit and what else the engines watch (None: nothing but their time
    limits, which then need no callback), from either argument (see `solve`)."""
    if stop is not None and time_limit_s is not None:
        raise StopError(
            "stop: give either time_limit_s or stop, not both (add MaxRuntime(time_limit_s) "
            "to the stop)"
        )
    if stop is None:
        limit = DEFAULT_TIME_LIMIT_S if time_limit_s is None else time_limit_s
        if not math.isfinite(limit) or limit <= 0:
            raise EngineError(f"time_limit_s: must be positive and finite, got {limit}")
        return float(limit), None
    if not isinstance(stop, Criterion):
        raise StopError(f"stop: {stop!r} is not a stopping criterion of routing.stop")
    stop.watch()  # a criterion the engines cannot watch is refused now, before any search
    limit = stop.max_runtime_s
    if limit is None:
        raise StopError(
            f"stop: {stop} has no MaxRuntime; the engines share the time out, so add one "
            "(e.g. MaxRuntime(10) | NoImprovement(seconds=2))"
        )
    return limit, None if all(isinstance(c, MaxRuntime) for c in stop.parts()) else stop


def _plateau(stop: Criterion) -> str:
    """The plateau that ended a search, in words."""
    seconds = min(c.seconds for c in stop.parts() if isinstance(c, NoImprovement))
    return f"no better plan for {seconds:g} s"


def _without(problem: Problem, tasks: list[Job | Shipment]) -> Problem:
    """The problem without ``tasks`` (those no vehicle may serve or carry, set aside before
    the engines: OR-Tools and PyVRP each handle a task without a vehicle their own way)."""
    if not tasks:
        return problem
    gone = {t.id for t in tasks}
    return problem.replace(
        jobs=tuple(j for j in problem.jobs if j.id not in gone),
        shipments=tuple(s for s in problem.shipments if s.id not in gone),
    )


def _solved(
    problem: Problem,
    *,
    engine: str,
    time_limit_s: float,
    seed: int,
    progress: ProgressCallback | None,
    race: bool | None,
    should_stop: ShouldStop | None,
    stop: Criterion | None,
) -> Solution:
    """`solve` without its checks and its clock: the engine (or race) and the reason."""
    timing: dict[str, Any] = {"time_limit_s": time_limit_s, "seed": seed, "progress": progress,
                              "should_stop": should_stop, "stop": stop}  # fmt: skip
    if engine != "auto":
        module = get_engine(engine)
        ok, why = module.supports(problem)
        if not ok:
            raise EngineError(f"engine: {engine} cannot solve this problem: {why}")
        return _tagged(module.solve(problem, **timing), f"asked for {engine}")

    fits, why = _pyvrp_fits(problem)
    if race is None:  # forking a process that runs other threads can deadlock the child
        race = available_cores() > 1 and threading.active_count() == 1
    if fits:
        if not race:
            return _pyvrp_then_ortools(
                problem, f"auto: PyVRP ({why}); no race (one core or threads)", **timing
            )
        # PyVRP has a plan: OR-Tools' late first plan would only hold the race up
        ortools = functools.partial(get_engine("ortools").solve, late_plan=False)
        raced = _race(problem, ortools, get_engine("pyvrp").solve, f"auto: PyVRP fits ({why})",
                      **timing)  # fmt: skip
        if not _planless(raced):
            return raced
        # unless its search failed or never answered: OR-Tools' first plan, late, beats none
        late = get_engine("ortools").solve(problem, **timing)
        return _tagged(late, f"{raced.engine_reason}; OR-Tools' first plan, after the limit")

    reason = f"auto: OR-Tools, because PyVRP does not fit ({why})"
    simple = simplified(problem)
    if simple is not None:
        reason += "; PyVRP's plan of a simplified version can seed OR-Tools"
    if not race:
        if simple is not None:
            solution = _warm_start(problem, simple=simple, **timing)
        else:
            solution = get_engine("ortools").solve(problem, **timing)
        return _tagged(solution, reason)
    ortools = get_engine("ortools").solve
    if simple is not None:  # two warm starts from differently seeded PyVRP searches
        here = functools.partial(_warm_start, simple=simple)
        there = functools.partial(_warm_start, simple=simple, pyvrp_seed=seed + 1)
    else:  # another first-solution heuristic: robust start, diverse search
        second = second_start(problem, time_limit_s)
        here, there = ortools, functools.partial(ortools, first_solution=second)
    return _race(problem, here, there, reason, **timing)


def second_start(problem: Problem, time_limit_s: float) -> str:
    """The first-solution heuristic of a race's second OR-Tools search: local insertion, a
    fast start that leaves more time to search, unless the first search starts so itself
    (`ortools_engine.insertion_plan`, on a big day at a short limit), when parallel insertion
    over every stop: OR-Tools' search is deterministic, and two from one start find one plan."""
    first, _ = get_engine("ortools").insertion_plan(problem, time_limit_s)
    return "parallel" if first == "local" else "local"


# Share of the limit OR-Tools gets at least when PyVRP, unraced, left required tasks out.
FALLBACK_SHARE = 0.5


def _pyvrp_then_ortools(
    problem: Problem,
    reason: str,
    *,
    time_limit_s: float,
    seed: int,
    progress: ProgressCallback | None,
    should_stop: ShouldStop | None = None,
    stop: Criterion | None = None,
) -> Solution:
    """PyVRP alone, but never a plan worse than OR-Tools': where PyVRP's plan leaves required
    tasks out or fails the checker (PyVRP searches only plans that serve everything at first,
    and one fleet too small for the day can leave it with little), OR-Tools, whose search drops
    tasks one by one, gets what is left of the limit (at least `FALLBACK_SHARE` of it, so the
    run may overshoot the limit then) and the better plan is kept, as a race would. A stopped
    PyVRP search (`should_stop`) is the answer as it is."""
    began = time.monotonic()
    engines: dict[str, Any] = {"seed": seed, "progress": progress, "should_stop": should_stop,
                               "stop": stop}  # fmt: skip
    ours = get_engine("pyvrp").solve(problem, time_limit_s=time_limit_s, **engines)
    optional = {t.id for t in (*problem.jobs, *problem.shipments) if t.optional}
    required = sum(1 for u in ours.unassigned if u.id not in optional)
    if ours.meta.get("stopped") or (required == 0 and check(problem, ours).ok):
        return _tagged(ours, reason)
    rest = max(FALLBACK_SHARE * time_limit_s, time_limit_s - (time.monotonic() - began))
    theirs = get_engine("ortools").solve(problem, time_limit_s=rest, **engines)
    best = min((ours, theirs), key=lambda s: _rank(s, passed=check(problem, s).ok))
    return _tagged(
        best,
        f"{reason}; PyVRP left {required} required tasks out or failed the checker, "
        f"OR-Tools tried too, kept {_label(best)} ({best.summary.unassigned} unassigned)",
    )


def simplified(problem: Problem) -> Problem | None:
    """The problem without what PyVRP lacks: breaks dropped and one time window per shipment
    stop (the longest); if that is not enough, one window per job and no priorities too. Its
    plan may break the real problem's rules, so it serves only as a start that OR-Tools
    restores when feasible. None if even this does not fit PyVRP."""

    def one(windows: tuple[TimeWindow, ...]) -> tuple[TimeWindow, ...]:
        return (max(windows, key=lambda w: (w.end - w.start, -w.start)),) if windows else ()

    def stop(s: ShipmentStop) -> ShipmentStop:
        return s.model_copy(update={"time_windows": one(s.time_windows)})

    lighter = problem.replace(
        vehicles=tuple(v.model_copy(update={"breaks": ()}) for v in problem.vehicles),
        shipments=tuple(
            s.model_copy(update={"pickup": stop(s.pickup), "delivery": stop(s.delivery)})
            for s in problem.shipments
        ),
    )
    if _pyvrp_fits(lighter)[0]:
        return lighter
    plainer = lighter.replace(
        jobs=tuple(
            j.model_copy(update={"time_windows": one(j.time_windows), "priority": 0})
            for j in problem.jobs
        ),
        shipments=tuple(s.model_copy(update={"priority": 0}) for s in lighter.shipments),
    )
    return plainer if _pyvrp_fits(plainer)[0] else None


# OR-Tools' part of a warm start: its descent from PyVRP's plan takes ~10 ms per task here and
# guided local search gains little after it, while PyVRP's plan improves with every second
# (measured on the rich benchmark, see RESULTS.md); PyVRP gets the rest of the limit.
DESCENT_S_PER_TASK = 0.01
DESCENT_SHARE = (0.1, 0.3)  # least and most of the limit for OR-Tools


def _pyvrp_seconds(problem: Problem, time_limit_s: float) -> float:
    """PyVRP's part of a warm start's time limit."""
    tasks = len(problem.jobs) + len(problem.shipments)
    least, most = (share * time_limit_s for share in DESCENT_SHARE)
    return time_limit_s - min(most, max(least, DESCENT_S_PER_TASK * tasks))


def _warm_start(
    problem: Problem,
    *,
    time_limit_s: float,
    seed: int,
    simple: Problem,
    progress: ProgressCallback | None = None,
    pyvrp_seed: int | None = None,
    should_stop: ShouldStop | None = None,
    stop: Criterion | None = None,
) -> Solution:
    """PyVRP on the simplified problem, then OR-Tools on the real one from that plan (its
    restore and search within what is left of the limit; `solve` times the two together).
    Stopped during PyVRP's part (`should_stop`), OR-Tools builds nothing and leaves every task
    out as stopped."""
    began = time.monotonic()
    used = seed if pyvrp_seed is None else pyvrp_seed
    start = get_engine("pyvrp").solve(
        simple, time_limit_s=_pyvrp_seconds(problem, time_limit_s), seed=used,
        should_stop=should_stop, stop=stop,
    )  # fmt: skip
    rest = max(0.1, time_limit_s - (time.monotonic() - began))
    solution = get_engine("ortools").solve(
        problem, time_limit_s=rest, seed=seed, initial=start, progress=progress,
        should_stop=should_stop, stop=stop,
    )  # fmt: skip
    return solution.model_copy(update={"meta": {**solution.meta, "pyvrp_seed": used}})


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


#: How long a stopped race (`should_stop`) waits for the other search's plan once its own is
#: in: the child, asked as soon as this search hears the stop, ends at its next plan (PyVRP:
#: its next iteration) and sends what it has. A child that cannot (OR-Tools still building
#: its first plan on thousands of tasks) is ended without its plan, as every stopped race was.
RACE_STOP_WAIT_S = 1.0


def _child(
    conn: Any,
    problem: Problem,
    solver: Callable[..., Solution],
    time_limit_s: float,
    seed: int,
    stop: Criterion | None,
    asked: Any,
) -> None:
    """Runs in the forked process: solve, send the solution (or the error) back; the search
    ends early, its plan so far sent as a stopped one, once the parent sets `asked` (a shared
    byte, read at each plan or iteration). Ctrl-C at a terminal reaches the whole process
    group: the child ignores it and waits to be asked, as the parent (`_race`) decides whether
    to wait for it or end it; a KeyboardInterrupt here printed its traceback under the
    command's own output."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.pthread_sigmask(signal.SIG_UNBLOCK, {signal.SIGINT})  # blocked by `_race` to fork
    try:
        solution = solver(
            problem, time_limit_s=time_limit_s, seed=seed, stop=stop,
            should_stop=lambda: bool(asked.value),
        )  # fmt: skip
        conn.send(("ok", solution))
    except Exception as err:  # reported to the parent, which keeps its own plan
        conn.send(("error", f"{type(err).__name__}: {err}"))
    finally:
        conn.close()


def _label(solution: Solution) -> str:
    pyvrp_seed = solution.meta.get("pyvrp_seed")
    if solution.meta.get("cold_search_kept"):
        return f"{solution.engine} (cold search; PyVRP's plan, seed {pyvrp_seed}, served fewer)"
    if solution.meta.get("warm_start"):
        return f"{solution.engine} (from PyVRP's plan, seed {pyvrp_seed})"
    variant = solution.meta.get("first_solution")
    return solution.engine + (f" ({variant} start)" if variant else "")


def _race(
    problem: Problem,
    here: Callable[..., Solution],
    other: Callable[..., Solution],
    reason: str,
    *,
    time_limit_s: float,
    seed: int,
    progress: ProgressCallback | None,
    should_stop: ShouldStop | None = None,
    stop: Criterion | None = None,
) -> Solution:
    """`here` in this process and `other` in a forked one (fork: nothing needs pickling),
    same time limit and `stop`, which each watches on its own; the better checked plan wins.
    The child cannot see `should_stop`: once it says stop, the child is asked to stop too
    (a shared flag, set as `here` hears it) and its plan waited for `RACE_STOP_WAIT_S` at
    most, so a Ctrl-C keeps the child's plan where it was the better one."""
    began = time.monotonic()
    ctx = mp.get_context("fork")
    parent, end = ctx.Pipe(duplex=False)
    asked = ctx.RawValue("b", 0)  # shared memory: read at every PyVRP iteration, no lock
    args = (end, problem, other, time_limit_s, seed, stop, asked)
    proc = ctx.Process(target=_child, args=args, daemon=True)
    # a SIGINT between the fork and the child's ignoring it waits, not raising in the child
    blocked = signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGINT})
    try:
        proc.start()
    finally:
        signal.pthread_sigmask(signal.SIG_SETMASK, blocked)
    end.close()

    def stopping() -> bool:  # `should_stop`, passing a stop on to the child as it is heard
        if should_stop is not None and should_stop():
            asked.value = 1
        return bool(asked.value)

    ours: Solution | None = None
    try:
        ours = here(
            problem, time_limit_s=time_limit_s, seed=seed, progress=progress,
            should_stop=None if should_stop is None else stopping, stop=stop,
        )  # fmt: skip
        # the child got the same limit; allow it start-up slack before giving up on it
        wait = max(1.0, time_limit_s + 5.0 - (time.monotonic() - began))
        theirs: Solution | None = None
        note = ""
        answer = _answer(parent, wait, stopping)
        if answer is None:
            note = "the other search gave no plan in time"
        elif answer[0] == "ok":
            theirs = answer[1]
        else:
            note = f"the other search failed ({answer[1]})"
    finally:
        parent.close()
        # a stopped race's child has sent its plan or had its time: end it now
        proc.join(timeout=0.0 if asked.value else 2.0)
        if proc.is_alive():
            proc.kill()
            proc.join()

    # each plan checked once (a check of 1,000 tasks takes a tenth of a second)
    checked = [(s, check(problem, s).ok) for s in (ours, theirs) if s is not None]
    best = min(checked, key=lambda c: _rank(c[0], passed=c[1]))[0]
    costs = ", ".join(
        f"{_label(s)} {s.summary.cost:.2f} ({s.summary.unassigned} unassigned"
        f"{'' if passed else ', fails the checker'})"
        for s, passed in checked
    )
    reason += f"; raced on {available_cores()} cores, kept {_label(best)} [{costs}]"
    return _tagged(best, reason + (f"; {note}" if note else ""))


#: How often a race waiting for its child's plan asks `should_stop` meanwhile.
STOP_POLL_S = 0.1


def _answer(parent: Any, wait: float, stopping: ShouldStop) -> tuple[str, Any] | None:
    """The child's message within ``wait`` seconds (None: none came). A stop heard before
    or during the wait (`stopping`, which passes it on to the child) cuts what is left of
    it to `RACE_STOP_WAIT_S`: Ctrl-C while this search's plan waited for the child's waited
    out the child's whole time limit."""
    end = time.monotonic() + wait
    heard = False
    while (left := end - time.monotonic()) > 0:
        if not heard and stopping():
            heard, end = True, min(end, time.monotonic() + RACE_STOP_WAIT_S)
            continue
        if parent.poll(min(left, STOP_POLL_S)):
            return parent.recv()
    return parent.recv() if parent.poll(0) else None


def _planless(solution: Solution) -> bool:
    """An OR-Tools search that had no plan by its deadline and was not stopped."""
    meta = solution.meta
    return solution.engine == "ortools" and meta.get("status", "solved") != "solved" and not (
        meta.get("stopped")
    )


def _rank(solution: Solution, *, passed: bool) -> tuple[int, int, float]:
    """Plans that pass the checker first, then fewer unassigned tasks, then lower cost plus
    penalties."""
    s = solution.summary
    return (0 if passed else 1, s.unassigned, s.cost + s.penalty)
