"""`gongpei solve FILE -o SOLUTION.json`: plan routes for a problem file and check the plan."""

from __future__ import annotations

import contextlib
import json
import signal
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import typer
from rich.console import Console

from api.cli.checks import (
    ENGINE_CHOICES,
    check_engine,
    check_output_files,
    check_positive,
    check_seed,
)
from api.cli.json_out import json_mode, json_option, print_json
from api.cli.sigterm import terminable
from api.jobs.runner import checked_solution
from api.settings import graph_cache_dir
from routing.engines import Progress
from routing.io import FORMATS, guess_format, read_problem
from routing.io.native import load_json
from routing.solve import (
    ORTOOLS_SMALL_DAY_STOPS,
    SMALL_DAY_PLATEAU_S,
    SMALL_DAY_STOPS,
    default_stop,
)
from routing.solve import solve as solve_problem
from routing.travel import road_line

#: The signals that end a search at its next plan (`signals_stop`), and what each is called.
STOP_SIGNALS = {signal.SIGINT: "interrupted", signal.SIGTERM: "terminated"}
#: The units of the summary's figures, for `--json` (VROOM's summary names none).
UNITS = {
    "cost": "the vehicles' cost units (fixed + per hour + per km, as the problem gives them)",
    "distance": "m (a VRPLIB, Solomon or Li & Lim file: its own distance unit)",
    "duration": "s (a VRPLIB, Solomon or Li & Lim file: its own time unit)",
    "service": "s, as duration",
    "waiting_time": "s, as duration",
    "penalty": "cost units, as cost",
    "computing_times": "ms",
    "seconds": "s",
}


def solve(
    file: Path = typer.Argument(..., help="The problem file."),
    output: Path = typer.Option(..., "-o", "--output", help="Where to write the solution JSON."),
    format: str | None = typer.Option(
        None, "--format", help=f"One of {', '.join(FORMATS)} (default: guessed)."
    ),
    engine: str = typer.Option("auto", help=", ".join(ENGINE_CHOICES) + "."),
    time_limit: float = typer.Option(10.0, "--time-limit", help="Seconds of search, at most."),
    no_improvement: float | None = typer.Option(
        None,
        "--no-improvement",
        help="End the search once no better plan has turned up for this many seconds (the "
        "--time-limit or more: never). Default: "
        f"{SMALL_DAY_PLATEAU_S:g} on a day of up to {ORTOOLS_SMALL_DAY_STOPS} stops, or of up "
        f"to {SMALL_DAY_STOPS} that PyVRP plans (--engine pyvrp or auto), else never.",
    ),
    seed: int = typer.Option(0, help="Seed for engines that use one."),
    network: str | None = typer.Option(
        None,
        "--network",
        help="Road network for travel between coordinates: a folder from `gongpei network "
        "build`, an OSM file, 'demo' or 'synthetic:N' (graphs built from files are "
        "cached under $GONGPEI_DATA_DIR/graphs).",
    ),
    geojson: Path | None = typer.Option(None, "--geojson", help="Also write routes as GeoJSON."),
    distance_rule: str = typer.Option(
        "auto",
        "--distance-rule",
        help="VRPLIB EUC_2D arcs: nint (rounded, as sets A-X state their best-known costs), "
        "exact (unrounded, as CMT, Golden and Li do), or auto (exact for those sets and for "
        "files with service times, a route length or time windows; else nint).",
    ),
    quiet: bool = typer.Option(False, "--quiet", "-q", help="No progress lines."),
    as_json: bool = json_option(),
) -> None:
    """Plan routes for a problem file and check the plan; writes VROOM-shaped JSON.

    The checker's verdict is printed; a plan that fails it exits with code 1, bad input with 2.

    Ctrl-C stops at the next plan, writes it if the checker passes it, exits 130 (twice: at once).
    """
    check_engine(engine)
    check_positive("--time-limit", time_limit)
    if no_improvement is not None:
        check_positive("--no-improvement", no_improvement)
    check_seed("--seed", seed)
    map_file = Path(network) if network and Path(network).exists() else None
    check_output_files(
        {"the problem file": file, "the --network map": map_file},
        {"--output": output, "--geojson": geojson},
    )
    # soft_wrap: a line piped to a log or grep is whole, not cut at rich's 80 columns
    console = Console(stderr=True, markup=False, highlight=False, soft_wrap=True)
    cache_dir = str(graph_cache_dir()) if network else None
    # Ctrl-C before a plan: one line, exit 130, nothing written
    with json_mode(as_json) as logged, terminable():
        problem = read_problem(
            file, format=format, network=network, cache_dir=cache_dir, distance_rule=distance_rule
        )
        rule = problem.meta.get("distance_rule")
        console.print(
            f"{file.name}: {len(problem.jobs)} jobs, {len(problem.shipments)} shipments, "
            f"{len(problem.vehicles)} vehicles" + (f"; distances: {rule}" if rule else "")
        )
        progress = None if quiet else progress_printer(console)
        began = time.monotonic()
        stop = default_stop(problem, time_limit, engine=engine, no_improvement_s=no_improvement)
        with signals_stop() as stopped:
            solution = solve_problem(
                problem, engine=engine, stop=stop, seed=seed, progress=progress,
                should_stop=stopped,
            )  # fmt: skip
        out, report = checked_solution(problem, solution)
        if stopped() and not (report.ok and solution.routes):
            console.print(f"{stopped.word}: no plan that passes the checker yet, nothing written")
            raise typer.Exit(128 + stopped.signum)
        output.write_text(json.dumps(out, indent=1), encoding="utf-8")
        if geojson is not None:
            travel = None if network else own_road_travel(file, format)
            line = road_line(problem, network=network, travel=travel, cache_dir=cache_dir)
            geojson.write_text(json.dumps(solution.to_geojson(line=line)), encoding="utf-8")
    seconds = time.monotonic() - began
    s = solution.summary
    if stopped():
        console.print(
            f"{stopped.word}: wrote the best plan so far to {output} ({solution.engine}, cost "
            f"{s.cost:.2f}, {s.unassigned} unassigned, checker: OK)"
        )
        logged.append(f"{stopped.word}: the plan is the best found before the search stopped")
    else:
        console.print(
            f"{solution.engine}: cost {s.cost:.2f}, {s.routes} routes, distance "
            f"{s.distance:.2f}, {s.unassigned} unassigned "
            f"({seconds:.1f}s) - {solution.engine_reason}"
        )
        for u in solution.unassigned[:10]:
            console.print(f"  unassigned {u.type} '{u.id}': {u.reason}")
        console.print(report.summary())
    if as_json:
        counts = {"jobs": len(problem.jobs), "shipments": len(problem.shipments),
                  "vehicles": len(problem.vehicles), "distance_rule": rule}  # fmt: skip
        print_json(
            "solve",
            {**counts, **out["summary"], "unassigned_tasks": out["unassigned"],
             "seconds": round(seconds, 2)},
            units=UNITS,
            outputs={"solution": output, "geojson": geojson},
            warnings=logged,
            checker=out["summary"]["checker"],
        )  # fmt: skip
    if stopped():
        raise typer.Exit(128 + stopped.signum)
    if not report.ok:
        raise typer.Exit(1)


class StopSignal:
    """A solve's `should_stop`: true once one of `STOP_SIGNALS` has arrived (`signum`)."""

    def __init__(self) -> None:
        self.signum = 0

    def __call__(self) -> bool:
        return self.signum != 0

    @property
    def word(self) -> str:
        """What the first signal did, for the command's last line ("interrupted")."""
        return STOP_SIGNALS[signal.Signals(self.signum)]


@contextlib.contextmanager
def signals_stop() -> Iterator[StopSignal]:
    """Within the block a first Ctrl-C (SIGINT) or SIGTERM asks the search to stop, as a
    cancelled API job's owner does (the yielded `should_stop`): the engines end at their next
    plan, so the plan found so far can be checked and written. An exception raised by a
    handler could not do that: OR-Tools held it until its time limit (14 s more on C101), then
    the command ended with "Aborted." and no plan. The same signal again acts as it would
    outside the block (a KeyboardInterrupt, `terminable`'s exit). An ignored signal (`nohup`,
    a job started with `&`) stays ignored."""
    stop = StopSignal()
    previous = {signum: signal.getsignal(signum) for signum in STOP_SIGNALS}

    def arrived(signum: int, _frame: object) -> None:
        stop.signum = stop.signum or signum
        signal.signal(signum, previous[signal.Signals(signum)])

    for signum, handler in previous.items():
        if handler is not signal.SIG_IGN:
            signal.signal(signum, arrived)
    try:
        yield stop
    finally:
        for signum, handler in previous.items():
            signal.signal(signum, handler)


def own_road_travel(file: Path, format: str | None) -> dict[str, Any] | None:
    """A native or VROOM file's own `travel` when its matrices were computed from it (the file
    has none and no --network stood in), so its routes are drawn on the roads that `"source":
    "network"` names; None for every other file (the file was read once already: it is valid)."""
    if (format or guess_format(file)) not in ("native", "vroom"):
        return None
    data = load_json(file)
    travel = data.get("travel")
    given = "matrices" in data or "matrix" in data  # VROOM's legacy one-profile matrix
    return travel if not given and isinstance(travel, dict) else None


def progress_printer(console: Console, every_s: float = 1.0) -> Callable[[Progress], None]:
    """A progress callback printing, at most every ``every_s``, each engine's best search
    objective so far. Engines report the best objective so far (OR-Tools' counts
    penalties for tasks left out; PyVRP's search with every task optional starts afresh), so
    the lowest is kept and labelled as what it is: not the plan's cost, printed at the end."""
    best: dict[str, float] = {}
    printed = [0.0]

    def progress(update: Progress) -> None:
        if update.cost is None:
            return
        best[update.engine] = min(update.cost, best.get(update.engine, update.cost))
        if update.elapsed_s - printed[0] >= every_s:
            printed[0] = update.elapsed_s
            console.print(
                f"  {update.engine} {update.elapsed_s:5.1f}s  best search objective "
                f"so far {best[update.engine]:.2f}"
            )

    return progress
