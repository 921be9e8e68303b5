"""`gongpei solve FILE -o SOLUTION.json`: plan routes for a problem file and check the plan."""

from __future__ import annotations

import json
import os
import time
from pathlib import Path

import typer
from rich.console import Console

from routing.check import check
from routing.engines import Progress
from routing.io import FORMATS, read_problem
from routing.solve import solve as solve_problem


def solve(
    file: Path = typer.Argument(..., help="The problem file."),
    output: Path = typer.Option(..., "-o", "--output", help="Where to write the solution JSON."),
    format: str | None = typer.Option(None, "--format",
                                      help=f"One of {', '.join(FORMATS)} (default: guessed)."),
    engine: str = typer.Option("auto", help="auto, ortools or pyvrp."),
    time_limit: float = typer.Option(10.0, "--time-limit", help="Seconds of search."),
    seed: int = typer.Option(0, help="Seed for engines that use one."),
    network: str | None = typer.Option(
        None, "--network",
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
    console = Console(stderr=True, markup=False, highlight=False)
    cache = Path(os.environ.get("GONGPEI_DATA_DIR", "data")) / "cache"
    problem = read_problem(file, format=format, network=network,
                           cache_dir=str(cache) if network else None)
    console.print(f"{file.name}: {len(problem.jobs)} jobs, {len(problem.shipments)} shipments, "
                  f"{len(problem.vehicles)} vehicles")
    last = [0.0]

    def progress(update: Progress) -> None:
        if not quiet and update.elapsed_s - last[0] >= 1.0 and update.cost is not None:
            last[0] = update.elapsed_s
            console.print(f"  {update.engine} {update.elapsed_s:5.1f}s  best cost "
                          f"{update.cost:.2f}")

    began = time.monotonic()
    solution = solve_problem(problem, engine=engine, time_limit_s=time_limit, seed=seed,
                             progress=progress)
    report = check(problem, solution)
    out = solution.to_vroom(problem)
    out["summary"]["checker"] = {"ok": report.ok,
                                 "violations": [str(v) for v in report.violations]}
    output.write_text(json.dumps(out, indent=1), encoding="utf-8")
    if geojson is not None:
        geojson.write_text(json.dumps(solution.to_geojson()), encoding="utf-8")
    s = solution.summary
    console.print(f"{solution.engine}: cost {s.cost:.2f}, {s.routes} routes, distance "
                  f"{s.distance:.2f}, {s.unassigned} unassigned "
                  f"({time.monotonic() - began:.1f}s) - {solution.engine_reason}")
    for u in solution.unassigned[:10]:
        console.print(f"  unassigned {u.type} '{u.id}': {u.reason}")
    console.print(report.summary())
    if not report.ok:
        raise typer.Exit(1)
