"""`gongpei solve FILE -o SOLUTION.json`: plan routes for a problem file and check the plan."""

from __future__ import annotations

import json
import os
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import typer
from rich.console import Console

from api.jobs.runner import road_line
from network.errors import GongpeiError
from routing.check import check
from routing.engines import ENGINES, EngineError, Progress
from routing.io import FORMATS, guess_format, read_problem
from routing.io.native import load_json
from routing.solve import solve as solve_problem

ENGINE_CHOICES = ("auto", *ENGINES)


class OptionError(GongpeiError):
    """A command-line option the command cannot use: one line naming it, exit code 2."""


def check_engine(engine: str) -> None:
    """The engine is known, checked before any work, naming every choice (`auto` too)."""
    if engine not in ENGINE_CHOICES:
        raise EngineError(
            f"engine: unknown engine '{engine}' (choose from {', '.join(ENGINE_CHOICES)})"
        )


def check_positive(option: str, value: float) -> None:
    """A time limit or count that must be above zero, refused by its option's name."""
    if not value > 0:
        raise OptionError(f"{option}: must be positive, got {value}")


def check_writable_file(option: str, path: Path) -> None:
    """The file an option names can be written, checked before the solve so that a finished
    plan is never lost to a bad path (a missing folder, a folder in its place)."""
    if path.is_dir():
        raise OptionError(f"{option}: {path} is a folder, not a file")
    folder = path.absolute().parent
    if not path.exists() and not folder.is_dir():
        raise OptionError(f"{option}: cannot write {path}: there is no folder {folder}")
    try:  # a file made and dropped there: permissions say yes for root, and in /proc too
        with tempfile.TemporaryFile(dir=folder):
            pass
    except OSError as err:
        raise OptionError(f"{option}: cannot write {path}: {err.strerror}") from None
    if path.exists() and not os.access(path, os.W_OK):
        raise OptionError(f"{option}: cannot write {path}: the file is read-only")


def check_writable_folder(option: str, path: Path) -> None:
    """The folder an option names for outputs is one we can write into, or can create (with
    the folders above it, as the command does)."""
    existing = path.absolute()
    while not existing.exists():
        existing = existing.parent
    if not existing.is_dir():
        raise OptionError(f"{option}: cannot make folder {path}: {existing} is a file")
    if not os.access(existing, os.W_OK | os.X_OK):
        raise OptionError(f"{option}: cannot make or write folder {path}: permission denied")


def solve(
    file: Path = typer.Argument(..., help="The problem file."),
    output: Path = typer.Option(..., "-o", "--output", help="Where to write the solution JSON."),
    format: str | None = typer.Option(
        None, "--format", help=f"One of {', '.join(FORMATS)} (default: guessed)."
    ),
    engine: str = typer.Option("auto", help=", ".join(ENGINE_CHOICES) + "."),
    time_limit: float = typer.Option(10.0, "--time-limit", help="Seconds of search."),
    seed: int = typer.Option(0, help="Seed for engines that use one."),
    network: str | None = typer.Option(
        None,
        "--network",
        help="Road network for travel between coordinates: a folder from `gongpei network "
        "build`, an OSM file, 'demo' or 'synthetic:N' (graphs built from files are "
        "cached under $GONGPEI_DATA_DIR/cache).",
    ),
    geojson: Path | None = typer.Option(None, "--geojson", help="Also write routes as GeoJSON."),
    quiet: bool = typer.Option(False, "--quiet", "-q", help="No progress lines."),
) -> None:
    """Plan routes for a problem file and check the plan; writes VROOM-shaped JSON.

    The checker's verdict is printed and a plan that fails it exits with code 1 (invalid input
    exits with code 2)."""
    check_engine(engine)
    check_positive("--time-limit", time_limit)
    check_writable_file("--output", output)
    if geojson is not None:
        check_writable_file("--geojson", geojson)
    console = Console(stderr=True, markup=False, highlight=False)
    cache = Path(os.environ.get("GONGPEI_DATA_DIR", "data")) / "cache"
    cache_dir = str(cache) if network else None
    problem = read_problem(file, format=format, network=network, cache_dir=cache_dir)
    console.print(
        f"{file.name}: {len(problem.jobs)} jobs, {len(problem.shipments)} shipments, "
        f"{len(problem.vehicles)} vehicles"
    )
    progress = None if quiet else progress_printer(console)

    began = time.monotonic()
    solution = solve_problem(
        problem, engine=engine, time_limit_s=time_limit, seed=seed, progress=progress
    )
    report = check(problem, solution)
    out = solution.to_vroom(problem)
    out["summary"]["checker"] = {"ok": report.ok, "violations": [str(v) for v in report.violations]}
    output.write_text(json.dumps(out, indent=1), encoding="utf-8")
    if geojson is not None:
        travel = None if network else own_road_travel(file, format)
        line = road_line(problem, network=network, travel=travel, cache_dir=cache_dir)
        geojson.write_text(json.dumps(solution.to_geojson(line=line)), encoding="utf-8")
    s = solution.summary
    console.print(
        f"{solution.engine}: cost {s.cost:.2f}, {s.routes} routes, distance "
        f"{s.distance:.2f}, {s.unassigned} unassigned "
        f"({time.monotonic() - began:.1f}s) - {solution.engine_reason}"
    )
    for u in solution.unassigned[:10]:
        console.print(f"  unassigned {u.type} '{u.id}': {u.reason}")
    console.print(report.summary())
    if not report.ok:
        raise typer.Exit(1)


def own_road_travel(file: Path, format: str | None) -> dict[str, Any] | None:
    """A native file's own `travel` when its matrices were computed from it (the file has none
    and no --network stood in), so its routes are drawn on the roads that `"source": "network"`
    names; None for every other file (the file was read once already: it is valid)."""
    if (format or guess_format(file)) != "native":
        return None
    data = load_json(file)
    travel = data.get("travel")
    return travel if "matrices" not in data and isinstance(travel, dict) else None


def progress_printer(console: Console, every_s: float = 1.0) -> Callable[[Progress], None]:
    """A progress callback printing, at most every ``every_s``, each engine's best search
    objective so far. Engines report the objective of each plan their search accepts (OR-Tools'
    guided local search accepts worse ones, and counts penalties for tasks left out), so the
    lowest is kept and labelled as what it is: not the plan's cost, which is printed at the end."""
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
