"""What a job does, by kind: a firm's batch is solved by `routing.solve`, a siting run by
`routing.siting`, a pooling run by `routing.pooling`. The payload and the result are plain
JSON."""

from __future__ import annotations

import ctypes
import os
import signal
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any

from network.datum import check_datum, to_wgs84

if TYPE_CHECKING:
    from routing.check import CheckReport
    from routing.model import Problem
    from routing.pooling.compare import SolveSettings
    from routing.siting.progress import SitingProgress
    from routing.solution import Solution

Progress = Callable[[float], None]
#: Whether the job should stop (its owner cancelled it, another worker took it over, or its
#: worker, told to stop, handed it back to the queue).
Stop = Callable[[], bool]
Result = tuple[dict[str, Any], dict[str, Any] | None]


class JobStopped(Exception):
    """A runner stopped before the end because ``stop`` said so: the job has no outcome."""


class ServerMapError(Exception):
    """The server's own map (`GONGPEI_MAP_NETWORK`, the payload's ``network``) cannot be
    loaded: the server's fault, not the job's, and its reason names the server's files, so it
    goes to the server's log while the job's owner reads that the map cannot be loaded."""


def _never() -> bool:
    return False

#: How often a timed search reports its progress (elapsed over its time limit).
TICK_S = 1.0


def read_batch(payload: dict[str, Any], *, estimate: bool = False):
    """The `routing.model.Problem` of a batch payload (native or VROOM JSON), timed as its
    `travel` says in either format (VROOM has no such field: Gongpei reads it as a native
    file's, as the CLI does); travel the batch left to the server is timed on the server's map
    (`network`, set by the API). ``estimate`` times it by straight lines instead: every other
    field is checked as the worker will read it, without the map's matrices (the API's check
    at submission of a batch that gives none: matrices sent as null or {} are left out, as the
    map's will stand in for them)."""
    from routing.io.native import check_travel, problem_from_dict
    from routing.io.vroom import vroom_to_problem

    problem, network = payload["problem"], payload.get("network")
    if estimate:  # one speed for every profile: whether the map has a profile is checked apart
        problem = {k: v for k, v in problem.items() if k not in ("matrices", "matrix")}
        problem["travel"] = {"source": "straight_line", "speed_kmh": 25.0}
        network = None
    cache = _graph_cache()
    if payload["format"] == "vroom":
        travel = check_travel(problem.get("travel"))
        return vroom_to_problem(problem, network=network, travel=travel, cache_dir=cache)
    return problem_from_dict(problem, network=network, cache_dir=cache)


def _graph_cache() -> str:
    """The road-graph cache the CLI and the server share: a worker reads a map another process
    built (each worker used to build every map itself, once per process)."""
    from api.settings import graph_cache_dir

    return str(graph_cache_dir())


def solve_batch(payload: dict[str, Any], progress: Progress, stop: Stop = _never) -> Result:
    """Solve a firm's batch; the result is VROOM-shaped JSON plus the routes as GeoJSON, drawn
    along the roads where the server timed the travel on its map. The engines ask ``stop`` at
    each new plan (the moments OR-Tools lets the worker's heartbeat run at all) and end the
    search once it says so: a batch cancelled while it is solved stops within a plan or two
    of its worker hearing it (it ran to its time limit, up to 600 s), with no outcome."""
    from routing.solve import default_stop, solve
    from routing.travel import road_line

    problem = read_batch(payload)
    limit, engine = float(payload.get("time_limit_s", 10.0)), payload.get("engine", "auto")
    plateau = payload.get("no_improvement_s")
    with ticking(progress, limit) as tick:
        solution = solve(
            problem,
            engine=engine,
            stop=default_stop(problem, limit, engine=engine, no_improvement_s=plateau),
            progress=lambda _update: tick(),
            should_stop=stop,
        )
    if stop():
        raise JobStopped
    line = road_line(problem, network=payload.get("network"), cache_dir=_graph_cache())
    return checked_solution(problem, solution)[0], solution.to_geojson(line=line)


def checked_solution(problem: Problem, solution: Solution) -> tuple[dict[str, Any], CheckReport]:
    """The solution as VROOM-shaped JSON with the independent checker's verdict in its summary
    (`summary.checker`: ok and the violations), and the checker's report. Shared by a batch's
    result and `gongpei solve`, so that both say the same of the same plan."""
    from routing.check import check

    report = check(problem, solution)
    out = solution.to_vroom(problem)
    out["summary"]["checker"] = {"ok": report.ok, "violations": [str(v) for v in report.violations]}
    return out, report


@contextmanager
def ticking(
    progress: Progress, seconds: float, every_s: float = TICK_S
) -> Iterator[Callable[[], None]]:
    """Report the time spent in the block over ``seconds`` (below 1: the job is done only when
    its result is stored), every ``every_s`` and whenever the block calls the yielded tick.

    A search runs for its time limit, so its elapsed share is its progress. The engines' own
    callbacks come only when a plan is found (and not during a warm start's PyVRP phase), so a
    thread ticks too; but OR-Tools holds the GIL while it searches, so the thread (and the
    worker's heartbeat) run only when the search calls back into Python: pass it the tick."""
    began = time.monotonic()
    done = threading.Event()

    def tick() -> None:
        progress(min(0.99, (time.monotonic() - began) / seconds))

    def ticker() -> None:
        while not done.wait(every_s):
            tick()

    thread = threading.Thread(target=ticker, name="job-progress", daemon=True)
    thread.start()
    try:
        yield tick
    finally:
        done.set()
        thread.join()


def siting_records(payload: dict[str, Any], field: str) -> list[dict[str, Any]]:
    """A siting run's points (``field``: demand or candidates) without their unset fields,
    in WGS 84: the payload's ``datum`` (default WGS 84) says what they are given in, as a
    native siting file's does (`routing.siting.native`); GCJ-02 points read as WGS 84 stood
    300-700 m off the walk network in Chinese cities."""
    datum = check_datum(payload.get("datum"))
    records = []
    for record in payload[field]:
        record = {k: v for k, v in record.items() if v is not None}
        record["lat"], record["lon"] = to_wgs84(datum, record["lat"], record["lon"])
        records.append(record)
    return records


def run_siting(payload: dict[str, Any], progress: Progress, stop: Stop = _never) -> Result:
    """Site lockers with `routing.siting`; the result is the plan and its GeoJSON map. The
    search runs in a child process (`_stoppable`), killed when ``stop`` says so: its MIP
    solvers and threads ask nobody, so a cancelled run of 600 s held its worker to the end.

    ``time_limit_s`` covers the whole run: the search gets what the walking catchments (and
    the child's start) left of it, less the time its outcome will take to write out
    (`routing.siting.progress.search_time`); a run of 50,000 points and 10,000 candidates
    asked for 30 s had taken 1.8 times that. Its progress is the run's time over its limit,
    ticked meanwhile, and 0.99 once the search is done (an early proof): the search's stages
    come back from the child as it enters them. It had read 0 until the result was in.
    ``stop`` is asked between chunks of the walking catchments too (`_stopped_by`): a run
    cancelled there had gone on measuring them to their end."""
    began, limit = time.time(), float(payload["time_limit_s"])  # wall clock: the child's too
    rising = _rising(progress)
    with ticking(rising, limit):  # a worker's first run imports the solvers first (seconds)
        from routing.siting.native import model_from_dict
        from routing.siting.points import (
            candidate_from_record,
            demand_from_record,
            instance_from_points,
        )

        demand = [demand_from_record(d) for d in siting_records(payload, "demand")]
        candidates = [candidate_from_record(c) for c in siting_records(payload, "candidates")]
        graph = None
        if payload["distance"] == "walk":
            from routing.travel import road_graphs

            graphs = road_graphs(["walk"], network=payload["network"], cache_dir=_graph_cache())
            graph = graphs["walk"]
        instance = instance_from_points(
            demand,
            candidates,
            radius_m=payload["radius_m"],
            graph=graph,
            straight_line=payload["distance"] == "straight_line",
            name="siting-run",
            between=_stopped_by(stop),
        )
        model = model_from_dict({k: v for k, v in payload["model"].items() if v is not None})
        return _stoppable(
            _site,
            (instance, model, limit, began),
            stop,
            on_report=lambda update: rising(_siting_share(update, limit)),
        )


def _stopped_by(stop: Stop) -> Callable[[], None]:
    """A check that raises `JobStopped` once ``stop()`` says so (a search's ``between``)."""

    def check() -> None:
        if stop():
            raise JobStopped

    return check


def _rising(progress: Progress) -> Progress:
    """``progress`` told only what is more than it was told before: a siting run's is ticked
    by time and told by its search's stages, from two threads."""
    told = [0.0]
    lock = threading.Lock()

    def report(share: float) -> None:
        with lock:
            if share <= told[0]:
                return
            told[0] = share
            progress(share)

    return report


def _siting_share(update: SitingProgress, time_limit_s: float) -> float:
    """A siting run's progress at a stage of its search: the run's time over its limit, below
    1 (the job is done when its result is stored), 0.99 once the search is done."""
    if update.stage == "done":
        return 0.99
    return min(0.99, update.elapsed_s / time_limit_s)


def _site(
    instance: Any, model: Any, time_limit_s: float, began: float, report: Callable[[Any], None]
) -> Result:
    """A siting run's search and its outcome as JSON (run in `_stoppable`'s child), in what
    is left of the run's ``time_limit_s`` since it ``began`` (`time.time`, the parent's),
    less the time its outcome takes to write; its stages go to ``report``."""
    from routing.siting import solve
    from routing.siting.progress import output_seconds

    spent = max(0.0, time.time() - began)
    keep = output_seconds(instance.n_demand)
    plan = solve(
        instance, model, time_limit_s=time_limit_s, spent_s=spent, keep_s=keep, progress=report
    )
    return plan.to_dict(), plan.to_geojson()


#: How often a search in a child process is asked after (`_stoppable`).
STOP_POLL_S = 0.2


def _stoppable(
    work: Callable[..., Result],
    args: tuple,
    stop: Stop,
    on_report: Callable[[Any], None] | None = None,
) -> Result:
    """``work(*args)`` in a child process, killed when ``stop()`` says so (`JobStopped`).

    Spawned, not forked: the worker runs a heartbeat thread, and a fork copies whatever lock
    it holds (the reason `routing.solve` races only in a process without threads). Errors come
    back as raised in the child (a `GongpeiError` stays one, so its owner reads it). The child
    dies with this process (`_die_with`), as it is started from the thread that waits on it.
    With ``on_report``, ``work`` is handed one more argument, a callable whose every (picklable)
    value comes back to ``on_report`` here, in this thread, while the work goes on."""
    import multiprocessing as mp

    ctx = mp.get_context("spawn")
    receive, send = ctx.Pipe(duplex=False)
    reports = on_report is not None
    child = ctx.Process(target=_child, args=(send, work, args, os.getpid(), reports), daemon=True)
    with _group_signals_blocked():
        child.start()
    send.close()
    try:
        while True:  # reports, then an outcome, or the end of a child that died
            if receive.poll(STOP_POLL_S):
                status, outcome = _received(receive, child)
                if status != "report":
                    break
                on_report(outcome)
            if stop():
                raise JobStopped
    finally:
        receive.close()
        if child.is_alive():
            child.kill()
        child.join()
    if status == "error":
        raise outcome
    return outcome


def _received(receive: Any, child: Any) -> tuple[str, Any]:
    """The next message from `_child`: a report, the outcome or the error."""
    try:
        return receive.recv()
    except EOFError:
        child.join()
        raise RuntimeError(
            f"the search ended with no outcome (exit code {child.exitcode})"
        ) from None


#: What the worker's whole process group is sent (Ctrl-C, `kill -TERM -PGID`) that is the
#: worker's to act on, never a siting child's (`_child`).
_GROUP_SIGNALS = frozenset({signal.SIGINT, signal.SIGTERM})


@contextmanager
def _group_signals_blocked() -> Iterator[None]:
    """Block `_GROUP_SIGNALS` in this thread while a child is started: the child is born with
    them blocked (a signal mask survives fork and exec) until `_child` ignores them. Its
    start-up takes 0.4 s and more (its imports); a Ctrl-C in that time had killed it, and
    failed the job as a crash. The worker's other threads still take them meanwhile."""
    before = signal.pthread_sigmask(signal.SIG_BLOCK, _GROUP_SIGNALS)
    try:
        yield
    finally:
        signal.pthread_sigmask(signal.SIG_SETMASK, before)


def _child(
    send: Any, work: Callable[..., Result], args: tuple, parent: int, reports: bool = False
) -> None:
    """`_stoppable`'s child: the outcome, or the error (as text if it does not pickle), after
    what ``work`` reported where it ``reports``. Ctrl-C and SIGTERM sent to the worker's whole
    group are the worker's to act on (it hands the job back and kills this search): dying of
    them here would fail the job as a crash."""
    _die_with(parent)
    for number in _GROUP_SIGNALS:  # one sent before now is pending, and ignoring drops it
        signal.signal(number, signal.SIG_IGN)
    signal.pthread_sigmask(signal.SIG_UNBLOCK, _GROUP_SIGNALS)
    if reports:
        args = (*args, lambda value: send.send(("report", value)))
    try:
        send.send(("ok", work(*args)))
    except Exception as err:  # every error goes to the parent to raise
        try:
            send.send(("error", err))
        except Exception:  # an error that does not pickle: its text
            send.send(("error", RuntimeError(f"{type(err).__name__}: {err}")))
    finally:
        send.close()


#: Linux's prctl option that sends this process a signal when its parent (thread) ends.
PR_SET_PDEATHSIG = 1


def _die_with(parent: int) -> None:
    """Have the kernel kill this process (SIGKILL) when the worker ``parent`` that started it
    ends, however it ends: a worker killed outright (SIGKILL, the OOM killer) left its siting
    search running as an orphan to its time limit, while the worker that took the job over
    ran a second one. Linux only (elsewhere such a search still runs on); a parent already
    gone before the request was made is found by pid."""
    try:
        prctl = ctypes.CDLL(None, use_errno=True).prctl
    except (OSError, AttributeError):  # not Linux
        return
    prctl(PR_SET_PDEATHSIG, signal.SIGKILL)
    if os.getppid() != parent:
        os._exit(1)


def run_pool(payload: dict[str, Any], progress: Progress, stop: Stop = _never) -> Result:
    """Compare the day alone, pooled and with locker drops (`routing.pooling`); the result is
    the comparison's summary and every plan's routes and line haul as GeoJSON. It stops when
    ``stop`` says so, mid-solve: each of its routing solves (hundreds, for a split over many
    firms) asks ``stop`` at each new plan, so a cancelled run ends within a plan or two."""
    from routing.pooling.compare import PoolStopped, SolveSettings, compare_day
    from routing.pooling.day import parse_day
    from routing.pooling.output import road_lines, route_features
    from routing.pooling.travel import day_travel, road_profiles

    day = parse_day(payload["day"])
    graphs = None
    if payload.get("network"):
        from routing.travel import road_graphs

        profiles = road_profiles(day)
        graphs = road_graphs(profiles, network=payload["network"], cache_dir=_graph_cache())
    travel = day_travel(day, graphs=graphs)
    settings = SolveSettings(
        engine=payload["engine"],
        time_limit_s=payload["time_limit_s"],
        coalition_time_limit_s=payload["coalition_time_limit_s"],
        shapley_precision=payload["shapley_precision"],
        split_time_limit_s=payload.get("split_time_limit_s"),
        stop_on_plateau=payload.get("stop_on_plateau", True),  # runs queued before it: on
    )
    total = expected_solves(len(day.firms), settings)
    solved = iter(range(1, total + 1))
    began, seconds = time.monotonic(), expected_seconds(settings)

    def solve_done(_message: str) -> None:  # each plan and coalition solved
        # a split sampled until its time limit visits fewer coalitions than counted: the
        # time spent over the time allowed tells its progress
        done = max(next(solved, total) / total, (time.monotonic() - began) / seconds)
        progress(min(0.99, done))

    try:
        result = compare_day(day, travel, settings, on_solve=solve_done, should_stop=stop)
    except PoolStopped:
        raise JobStopped from None
    plans = route_features(result, along=road_lines(travel))
    features = [f for plan in plans.values() for f in plan]
    return result.summary(), {"type": "FeatureCollection", "features": features}


def expected_solves(firms: int, settings: SolveSettings) -> int:
    """How many routing solves `compare_day` makes for a day of ``firms``: each firm's solo
    plan, the two pooled plans, and for each split plan the coalitions Shapley needs that are
    not the whole day (2^n - 2 exactly; sampling visits at most n - 1 new ones per order, and
    may stop earlier). A pool run's progress is its solves done over this count."""
    coalitions = max(0, 2**firms - 2)
    if firms > settings.exact_max_firms:
        coalitions = min(coalitions, settings.permutations * (firms - 1))
    return firms + 2 + len(settings.shapley_plans) * coalitions


def expected_seconds(settings: SolveSettings) -> float:
    """About how long `compare_day` takes with a split time limit (infinite without one): the
    solo plans (the day's time limit shared among the firms), the two pooled plans, the
    splits."""
    if settings.split_time_limit_s is None:
        return float("inf")
    return 3 * settings.time_limit_s + settings.split_time_limit_s


RUNNERS: dict[str, Callable[[dict[str, Any], Progress, Stop], Result]] = {
    "batch": solve_batch,
    "siting": run_siting,
    "pool": run_pool,
}


def run_job(
    kind: str, payload: dict[str, Any], progress: Progress, *, stop: Stop = _never
) -> Result:
    """Run a job of this kind; `JobStopped` where ``stop`` stopped it before the end,
    `ServerMapError` where the server's map cannot be loaded."""
    with _server_map_errors(payload.get("network")):
        return RUNNERS[kind](payload, progress, stop)


@contextmanager
def _server_map_errors(network: str | None) -> Iterator[None]:
    """Errors that say a job's map cannot be read (a missing or unreadable OSM file or built
    graph folder, no road usable by a profile) as `ServerMapError` where the job is timed on
    the server's map: an API job names no map file of its own. Errors of the job's own data
    on that map (a stop too far from its roads) stay the job's to read."""
    from network.errors import BuiltGraphError, NoRoadsError, OsmFileError

    try:
        yield
    except (OsmFileError, BuiltGraphError, NoRoadsError) as err:
        if not network:
            raise
        raise ServerMapError(str(err)) from err
