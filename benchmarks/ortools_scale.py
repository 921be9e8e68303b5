"""`--engine ortools` at scale: the engine as it was (before) against as it is (after), side by
side on seeded city days of 1,000 to 3,000 jobs, and on the shared instances with --shared.

    .venv/bin/python benchmarks/ortools_scale.py [--sizes 1000 2000 3000] [--time-limit 10]
        [--seed 1] [--kinds plain windows] [--shared] [--shared-time-limit 5]
    .venv/bin/python benchmarks/ortools_scale.py --speed [--sizes 200 1000] [--shared]
    .venv/bin/python benchmarks/ortools_scale.py --explain [--sizes 3000] [--fleets 40 750]
        [--time-limit 3]
    .venv/bin/python benchmarks/ortools_scale.py --files [--limits 10 30] [--only NAME ...]
        [--repeat 1] [--lilim 1000]
    .venv/bin/python benchmarks/ortools_scale.py --insertion [--sizes 200 600 1000]

A city day (`city_day`): one depot in the middle of a 20 x 20 km square, jobs spread over it,
roads 1.3 times the straight line at 30 km/h, 1 to 3 parcels and 1 to 4 minutes of service a
job, vans of 200 parcels on a 08:00-18:00 shift paying 0.4 a km and 25 an hour, the fleet 30 %
above what the parcels need (40 vans for 3,000 jobs). "windows" gives half the jobs a 2-hour
window. Every plan goes through `routing.solve.solve(engine="ortools")`, as `gongpei solve
--engine ortools` does, independent checker included.

"Before" is the engine with OR-Tools' own matrix registration for its time and distance
dimensions (`RegisterTransitMatrix`, whose matrix OR-Tools 9.15 copies at every route its cumul
filter checks) and its default zipped trail, both swapped back in for that run; "after" is the
engine as it is. Columns: jobs served, cost, wall time over the limit; the ratio is after's cost
over before's where both serve every job, else after's jobs served over before's.

--speed compares search speed instead: OR-Tools' search is deterministic, so before, after, and
after with a `should_stop` that never says stop (asked at each new plan, as a job's is) find
the same plans in the same order, and the CPU time to the last plan all three reach within the
limit compares them (median of two rounds; city days with windows, and R101 and X-n157 with
--shared).

--explain times what a plan's left-out tasks cost (`routing.unassigned`) on plain city days with
the fleets given (the extra vans alike): before, every vehicle tried for every task (each
vehicle its own kind, and `Problem.carriers` per task), against after, each kind of vehicle
tried once. Columns: seconds to test every task for a carrier (`solve` sets aside those with
none), to give every task a reason as if the plan had left it out (half the fleet used), and
the wall time of a whole `--engine ortools` solve over its limit (median of three rounds for
the first two; one solve each).

--files compares the first-solution choice (stop 29): OR-Tools alone on benchmarks/vrp_scale.py's
files (200-1,000 tasks; with --lilim also Li & Lim-like ones of every layout and window kind
of those sizes) at each of --limits, and at 10 s on the small and medium sets (Solomon
and Li & Lim files from ../shared, benchmarks/vrp_rich.py's days) and on city days of 2,000
and 3,000 jobs with windows. "Before" is parallel cheapest insertion over every stop whatever
the size and limit, and a large fleet's dimensions as matrices however small their tables
(`as_before_29`); "after" is the engine as it is (`insertion_plan`, `TABLE_MAX_CELLS`).
Columns as above, plus the start the engine chose (after).

--insertion measures what `ortools_engine.INSERTION_S_PER_WORK` stands for: the seconds
(wall and CPU) parallel cheapest insertion over every stop takes to its first plan on
benchmarks/vrp_scale.py's Li & Lim-like and Gehring & Homberger-like files of each size (every
layout and both window kinds), over the work `_insertion_work` estimates; the constant is the
most of that ratio.
"""

from __future__ import annotations

import argparse
import functools
import itertools
import json
import math
import statistics
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager, nullcontext
from pathlib import Path

import numpy as np
from ortools.constraint_solver import pywrapcp

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import vrp_rich  # noqa: E402  (from benchmarks/, this script's folder)
import vrp_scale  # noqa: E402

from routing import solve as solving  # noqa: E402
from routing import unassigned  # noqa: E402
from routing.check import check  # noqa: E402
from routing.engines import ortools_engine  # noqa: E402
from routing.io import read_problem  # noqa: E402
from routing.io.vroom import read_vroom  # noqa: E402
from routing.model import Centre, Job, Problem, Vehicle  # noqa: E402
from routing.solution import Solution  # noqa: E402
from routing.solve import solve  # noqa: E402

SHARED = ROOT.parent / "shared" / "bench" / "vrp"
SHARED_FILES = (
    "cvrp/X-n101-k25.vrp", "cvrp/X-n157-k13.vrp", "cvrp/X-n200-k36.vrp", "solomon/C101.txt",
    "solomon/R101.txt", "solomon/RC101.txt", "solomon/RC201.txt", "pdptw/lr101.txt",
)  # fmt: skip
SPEED_FILES = ("solomon/R101.txt", "cvrp/X-n157-k13.vrp")
MEDIUM_FILES = (
    "solomon/C101.txt", "solomon/R101.txt", "solomon/RC101.txt", "solomon/RC201.txt",
    "pdptw/lc101.txt", "pdptw/lr101.txt", "pdptw/lrc101.txt",
)  # fmt: skip
MEDIUM_LIMIT = 10.0
SIDE_M = 20_000.0
DETOUR = 1.3
SPEED_MS = 30 / 3.6
CAPACITY = 200
DAY = (8 * 3600.0, 18 * 3600.0)


def city_day(n: int, seed: int, *, windows: bool, vans: int | None = None) -> Problem:
    """A seeded day of `n` delivery jobs for a city depot (see the module's docstring);
    `vans` replaces the fleet's size."""
    rng = np.random.default_rng(seed)
    points = np.vstack([[SIDE_M / 2, SIDE_M / 2], rng.uniform(0, SIDE_M, (n, 2))])
    metres = np.rint(DETOUR * np.linalg.norm(points[:, None, :] - points[None, :, :], axis=2))
    seconds = np.rint(metres / SPEED_MS)
    parcels = rng.integers(1, 4, n)
    service = rng.integers(60, 241, n)
    slots = [(h * 3600.0, (h + 2) * 3600.0) for h in range(8, 18, 2)]
    timed = rng.random(n) < 0.5 if windows else np.zeros(n, dtype=bool)
    slot = rng.integers(len(slots), size=n)
    jobs = tuple(
        Job(
            id=f"j{i + 1}",
            location=i + 1,
            delivery=(int(parcels[i]),),
            service=float(service[i]),
            time_windows=(slots[slot[i]],) if timed[i] else (),
        )
        for i in range(n)
    )
    vans = vans or math.ceil(1.3 * parcels.sum() / CAPACITY)
    van = {"start": "depot", "end": "depot", "capacity": (CAPACITY,), "shift": DAY}
    vehicles = tuple(
        Vehicle(id=f"van{k + 1}", cost_per_km=0.4, cost_per_hour=25.0, **van) for k in range(vans)
    )
    return Problem(
        name=f"city-{n}{'-tw' if windows else ''}",
        centres=(Centre(id="depot", location=0),),
        vehicles=vehicles,
        jobs=jobs,
        matrices={"van": {"durations": seconds, "distances": metres}},
    )


@contextmanager
def before() -> Iterator[None]:
    """The engine as it was for the length of the block: its dimensions' matrices registered
    with `RegisterTransitMatrix` and OR-Tools' default model parameters (zipped trail)."""
    builder = ortools_engine._Builder
    saved = builder._dimension_transits, ortools_engine._model_parameters

    def matrix(self: ortools_engine._Builder, transits: np.ndarray) -> int:
        return self.routing.RegisterTransitMatrix(self._free_empty(transits).tolist())

    builder._dimension_transits = matrix  # type: ignore[method-assign]
    ortools_engine._model_parameters = pywrapcp.DefaultRoutingModelParameters
    try:
        yield
    finally:
        builder._dimension_transits, ortools_engine._model_parameters = saved


@contextmanager
def as_before_29() -> Iterator[None]:
    """The engine as it was before stop 29 for the length of the block: parallel cheapest
    insertion over every stop whatever the size and limit, and the dimensions of a fleet
    larger than the places as matrices however small their tables."""
    saved = ortools_engine.insertion_plan, ortools_engine.TABLE_MAX_CELLS
    ortools_engine.insertion_plan = lambda problem, time_limit_s: ("parallel", None)
    ortools_engine.TABLE_MAX_CELLS = 0
    try:
        yield
    finally:
        ortools_engine.insertion_plan, ortools_engine.TABLE_MAX_CELLS = saved


def run(problem: Problem, limit: float, old: bool) -> tuple[int, float, float]:
    """Jobs served, cost and wall seconds of one checked `--engine ortools` solve."""
    served, cost, wall, _ = checked(problem, limit, before() if old else nullcontext())
    return served, cost, wall


def checked(problem: Problem, limit: float, engine: AbstractContextManager) -> tuple[
        int, float, float, Solution]:  # fmt: skip
    """Tasks served, cost, wall seconds and the solution of one checked `--engine ortools`
    solve with the engine as `engine` makes it."""
    began = time.monotonic()
    with engine:
        solution = solve(problem, engine="ortools", time_limit_s=limit)
    wall = time.monotonic() - began
    report = check(problem, solution)
    assert report.ok, f"{problem.name}: {report.summary()}"
    served = len(problem.jobs) + len(problem.shipments) - solution.summary.unassigned
    return served, solution.summary.cost, wall, solution


def cpu_to_plans(problem: Problem, limit: float, *, old: bool, asked: bool) -> list[float]:
    """CPU seconds to each plan OR-Tools finds within `limit`: the engine as it was (`old`) or
    is, with a `should_stop` that never says stop (`asked`) or none."""
    began, marks = time.process_time(), []
    with before() if old else nullcontext():
        ortools_engine.solve(
            problem, time_limit_s=limit,
            progress=lambda _: marks.append(time.process_time() - began),
            should_stop=(lambda: False) if asked else None,
        )  # fmt: skip
    return marks


def speed(cases: list[tuple[str, float, Callable[[], Problem]]]) -> None:
    """Print the CPU time to the last plan that before, after and after asked reach."""
    print(f"{'instance':20} {'plan':>5} {'cpu before':>10} {'cpu after':>9} {'ratio':>6} "
          f"{'cpu asked':>9} {'ratio':>6}")  # fmt: skip
    for name, limit, make in cases:
        problem = make()
        runs = [
            [cpu_to_plans(problem, limit, old=old, asked=asked) for old, asked in VARIANTS]
            for _ in range(2)
        ]
        plan = min(len(marks) for run in runs for marks in run)
        if plan == 0:
            print(f"{name:20} {'-':>5}  no plan before the limit in some run")
            continue
        old, new, asked = (statistics.median(run[k][plan - 1] for run in runs) for k in range(3))
        print(f"{name:20} {plan:5d} {old:10.2f} {new:9.2f} {new / old:6.3f} {asked:9.2f} "
              f"{asked / new:6.3f}", flush=True)  # fmt: skip


VARIANTS = ((True, False), (False, False), (False, True))  # (old, asked): before, after, asked


@contextmanager
def every_vehicle() -> Iterator[None]:
    """Reasons as they were for the length of the block: each vehicle a kind of its own (so
    every vehicle is tried for every task) and `Problem.carriers` asked of every task."""
    saved = unassigned.vehicle_kind, solving.has_carrier
    unassigned.vehicle_kind = lambda vehicle: (vehicle.id,)  # type: ignore[assignment]
    solving.has_carrier = lambda problem, task: bool(problem.carriers(task))  # type: ignore
    unassigned._CACHE.clear()
    try:
        yield
    finally:
        unassigned.vehicle_kind, solving.has_carrier = saved
        unassigned._CACHE.clear()


def reason_times(problem: Problem, limit: float, *, old: bool) -> tuple[float, float, float]:
    """Seconds to find every task's carriers, to explain every task (medians of three), and
    the wall time of one `--engine ortools` solve over its limit."""
    tasks = [*problem.jobs, *problem.shipments]
    used = {v.id for v in problem.vehicles[: len(problem.vehicles) // 2]}
    carriers, reasons = [], []
    with every_vehicle() if old else nullcontext():
        for _ in range(3):
            unassigned._CACHE.clear()  # the kinds are found again: part of the cost
            began = time.perf_counter()
            [solving.has_carrier(problem, t) for t in tasks]
            carriers.append(time.perf_counter() - began)
            unassigned._CACHE.clear()
            began = time.perf_counter()
            [unassigned.explain(problem, t.id, used=used) for t in tasks]
            reasons.append(time.perf_counter() - began)
        wall = run(problem, limit, old=False)[2]
    return statistics.median(carriers), statistics.median(reasons), wall / limit


def explain_times(sizes: list[int], fleets: list[int], seed: int, limit: float) -> None:
    """Print before against after of `reason_times` for each size and fleet."""
    print(f"{'instance':18} {'veh':>4} | {'carriers s':>10} {'reasons s':>9} {'wall/limit':>10} "
          f"| {'carriers s':>10} {'reasons s':>9} {'wall/limit':>10} | reasons ratio")
    for n in sizes:
        for vans in fleets:
            problem = city_day(n, seed, windows=False, vans=vans)
            old = reason_times(problem, limit, old=True)
            new = reason_times(problem, limit, old=False)
            print(f"city-{n:<13} {vans:4d} | {old[0]:10.3f} {old[1]:9.3f} {old[2]:10.2f} | "
                  f"{new[0]:10.3f} {new[1]:9.3f} {new[2]:10.2f} | {new[1] / old[1]:.4f}",
                  flush=True)  # fmt: skip


def file_cases(limits: list[float], only: list[str], folder: Path, lilim: list[int]) -> list[
        tuple[str, float, Callable[[], Problem]]]:  # fmt: skip
    """(name, limit, problem maker) for `--files`: benchmarks/vrp_scale.py's files and Li &
    Lim-like ones of every layout and window kind for each size in `lilim` at every limit,
    then the small and medium sets and two big city days at `MEDIUM_LIMIT`."""

    def scale_file(maker: Callable[[], vrp_scale.Generated], name: str) -> Problem:
        generated = maker()
        path = folder / f"{name}{generated.suffix}"
        path.write_text(generated.text)
        return read_problem(path)

    def rich_day(name: str) -> Problem:
        path = folder / f"{name}.json"
        path.write_text(json.dumps(vrp_rich.generate(*vrp_rich.INSTANCES[name])))
        return read_vroom(path)

    makers = dict(vrp_scale.files(0))
    for n, layout, kind in itertools.product(lilim, ("R", "C", "RC"), (1, 2)):
        maker = functools.partial(vrp_scale.li_lim, n, layout, kind, n + kind)
        makers.setdefault(f"LL-{layout}{kind}_{n}", maker)  # vrp_scale's own file first
    cases = [(name, limit, functools.partial(scale_file, maker, name))
             for name, maker in makers.items() for limit in limits]
    cases += [(name, MEDIUM_LIMIT, functools.partial(read_problem, SHARED / name))
              for name in MEDIUM_FILES if (SHARED / name).exists()]
    cases += [(name, MEDIUM_LIMIT, functools.partial(rich_day, name))
              for name in vrp_rich.INSTANCES]
    cases += [(f"city-{n}-tw", MEDIUM_LIMIT, functools.partial(city_day, n, 1, windows=True))
              for n in (2000, 3000)]
    return [case for case in cases if not only or any(o in case[0] for o in only)]


def compare_files(limits: list[float], only: list[str], repeat: int, lilim: list[int]) -> None:
    """Print before stop 29 against after on `file_cases` (see the docstring), each case
    `repeat` times."""
    with tempfile.TemporaryDirectory() as folder:
        cases = file_cases(limits, only, Path(folder), lilim)
        compare([case for case in cases for _ in range(repeat)], as_before_29, starts=True)


def compare(
    cases: list[tuple[str, float, Callable[[], Problem]]],
    old_engine: Callable[[], AbstractContextManager],
    *,
    starts: bool = False,
) -> None:
    """Print each case solved by the engine as `old_engine` makes it and as it is: tasks
    served, cost, wall time over the limit and their ratio (and with `starts` the first-solution
    heuristic the engine chose), then the medians."""
    print(f"{'instance':20} {'tasks':>5} {'veh':>4} {'limit':>5} | {'before: served':>14} "
          f"{'cost':>11} {'wall/limit':>10} | {'after: served':>13} {'cost':>11} "
          f"{'wall/limit':>10} | ratio" + ("  | start (after)" if starts else ""))  # fmt: skip
    ratios, overs = [], {False: [], True: []}
    for name, limit, make in cases:
        problem = make()
        tasks = len(problem.jobs) + len(problem.shipments)
        old = checked(problem, limit, old_engine())
        new = checked(problem, limit, nullcontext())
        for was, run_ in ((True, old), (False, new)):
            overs[was].append(run_[2] / limit)
        full = old[0] == new[0] == tasks
        ratio = new[1] / old[1] if full else new[0] / max(old[0], 1)
        if full:
            ratios.append(ratio)
        start = f" | {new[3].meta.get('first_heuristic')}" if starts else ""
        print(f"{name:20} {tasks:5d} {len(problem.vehicles):4d} {limit:5g} | "
              f"{old[0]:14d} {old[1]:11.1f} {old[2] / limit:10.2f} | "
              f"{new[0]:13d} {new[1]:11.1f} {new[2] / limit:10.2f} | "
              f"{ratio:.4f}{'' if full else ' (served)'}{start}", flush=True)  # fmt: skip
    print(f"median wall/limit: before {statistics.median(overs[True]):.3f}, "
          f"after {statistics.median(overs[False]):.3f}")
    if ratios:
        print(f"median cost ratio after/before where both serve every task: "
              f"{statistics.median(ratios):.4f} over {len(ratios)}")


def insertion_times(sizes: list[int]) -> None:
    """Print the seconds to parallel insertion's first plan over its estimated work."""
    print(f"{'file':14} {'stops':>5} {'wall s':>7} {'cpu s':>7} {'work':>9} {'wall/work':>9}")
    ratios = []
    with tempfile.TemporaryDirectory() as folder:
        for n in sizes:
            for maker, kind in itertools.product((vrp_scale.li_lim, vrp_scale.homberger), (1, 2)):
                for layout in ("R", "C", "RC"):
                    generated = maker(n, layout, kind, n + kind)
                    path = Path(folder) / f"{generated.inst.file}{generated.suffix}"
                    path.write_text(generated.text)
                    problem = read_problem(path)
                    builder = ortools_engine._Builder(problem)
                    builder.build()
                    params = builder.parameters(3600.0, "parallel")
                    params.solution_limit = 1
                    wall, cpu = time.monotonic(), time.process_time()
                    builder.routing.SolveWithParameters(params)
                    wall, cpu = time.monotonic() - wall, time.process_time() - cpu
                    work = ortools_engine._insertion_work(problem)
                    ratios.append(wall / work)
                    print(f"{generated.inst.file:14} {len(builder.nodes) - 1:5d} {wall:7.2f} "
                          f"{cpu:7.2f} {work:9.3g} {wall / work:9.2e}", flush=True)
    print(f"most wall/work {max(ratios):.2e} (INSERTION_S_PER_WORK = "
          f"{ortools_engine.INSERTION_S_PER_WORK:.0e})")


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", help="default 1000 2000 3000")
    parser.add_argument("--time-limit", type=float, default=10.0)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--kinds", nargs="+", choices=("plain", "windows"),
                        default=["plain", "windows"])  # fmt: skip
    parser.add_argument("--shared", action="store_true", help="also the shared instances")
    parser.add_argument("--shared-time-limit", type=float, default=5.0)
    parser.add_argument("--speed", action="store_true",
                        help="CPU time to the same plan instead (see the docstring)")  # fmt: skip
    parser.add_argument("--explain", action="store_true",
                        help="what reasons for left-out tasks cost (see the docstring)")
    parser.add_argument("--fleets", type=int, nargs="+", default=[40, 750],
                        help="fleet sizes for --explain")  # fmt: skip
    parser.add_argument("--files", action="store_true",
                        help="the first-solution choice on files (see the docstring)")
    parser.add_argument("--limits", type=float, nargs="+", default=[10.0, 30.0],
                        help="time limits for --files' vrp_scale files")  # fmt: skip
    parser.add_argument("--only", nargs="*", default=[], help="--files: name substrings")
    parser.add_argument("--repeat", type=int, default=1, help="--files: runs per case")
    parser.add_argument("--lilim", type=int, nargs="*", default=[],
                        help="--files: also Li & Lim-like files of these sizes")  # fmt: skip
    parser.add_argument("--insertion", action="store_true",
                        help="parallel insertion's time against its estimate")  # fmt: skip
    args = parser.parse_args(argv)
    if args.insertion:
        insertion_times(args.sizes or [200, 600, 1000])
        return
    args.sizes = args.sizes or [1000, 2000, 3000]
    if args.files:
        compare_files(args.limits, args.only, args.repeat, args.lilim)
        return
    if args.explain:
        explain_times(args.sizes, args.fleets, args.seed, args.time_limit)
        return
    if args.speed:
        speed(
            [(f"city-{n}-tw", args.time_limit, lambda n=n: city_day(n, args.seed, windows=True))
             for n in args.sizes]
            + [(name, args.shared_time_limit, lambda name=name: read_problem(SHARED / name))
               for name in SPEED_FILES if args.shared and (SHARED / name).exists()]
        )  # fmt: skip
        return
    cases = [
        (f"city-{n}" + ("-tw" if kind == "windows" else ""), args.time_limit,
         lambda n=n, kind=kind: city_day(n, args.seed, windows=kind == "windows"))
        for n in args.sizes for kind in args.kinds
    ]  # fmt: skip
    if args.shared:
        cases += [(name, args.shared_time_limit, lambda name=name: read_problem(SHARED / name))
                  for name in SHARED_FILES if (SHARED / name).exists()]  # fmt: skip
    compare(cases, before)

if __name__ == "__main__":
    main()
