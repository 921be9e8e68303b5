"""`gongpei pool DAY.yaml -o OUTDIR`: compare delivering alone with pooling, split the savings."""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING, Any

import typer
from rich.console import Console
from rich.table import Table

from api.cli.json_out import json_mode, json_option, print_json
from network.sources import is_builtin

if TYPE_CHECKING:
    import httpx

    from routing.pooling.compare import DayResult
    from routing.pooling.day import Day
    from routing.pooling.travel import DayTravel


def pool(
    day_file: Path = typer.Argument(..., help="The day as YAML: firms, centres, lockers, parcels."),
    outdir: Path = typer.Option(
        ..., "-o", "--outdir", help="Folder for the outputs (new or empty, unless --overwrite)."
    ),
    engine: str = typer.Option("auto", help="Routing engine: auto, ortools or pyvrp."),
    time_limit: float = typer.Option(
        5.0,
        "--time-limit",
        help="Seconds for each of the day's plans (a firm alone: its share of the parcels).",
    ),
    coalition_time_limit: float = typer.Option(
        1.0,
        "--coalition-time-limit",
        help="Seconds for a Shapley coalition of all firms (a smaller one: its share of the "
        "parcels).",
    ),
    min_time_limit: float = typer.Option(
        0.2, "--min-time-limit", help="Seconds at least for any one solve, however small."
    ),
    plateau: bool = typer.Option(
        True,
        "--plateau/--no-plateau",
        help="End a small solve (<= 50 stops, PyVRP) after half its time limit, 1 s at most, "
        "without a better plan; --no-plateau runs every solve to its time limit.",
    ),
    seed: int = typer.Option(0, help="Seed of the solver and of sampled Shapley."),
    exact_max_firms: int = typer.Option(10, help="Exact Shapley up to this many firms."),
    permutations: int = typer.Option(
        100,
        help="Sampled permutations beyond that, at most (in antithetic pairs: rounded up to an "
        "even number, at least 4).",
    ),
    split_time_limit: float = typer.Option(
        300.0,
        "--split-time-limit",
        help="Seconds for the Shapley splits in all: exact only where its coalitions fit, "
        "else sampled until the time is up (with its 95 % interval); 0: no limit.",
    ),
    shapley_precision: float = typer.Option(
        0.0,
        "--shapley-precision",
        help="Stop sampling once every firm's 95 % interval is within this share of the "
        "average share (below 1; 0.01: 1 %); 0 samples all permutations.",
    ),
    cache_dir: Path | None = typer.Option(
        None, help="Road-graph cache (default: $GONGPEI_DATA_DIR/graphs, as scenario runs')."
    ),
    platform: str | None = typer.Option(
        None, help="Platform URL: add its lockers with their live free compartments."
    ),
    overwrite: bool = typer.Option(
        False, "--overwrite", help="Replace a non-empty output folder (not one holding an input)."
    ),
    as_json: bool = json_option(),
) -> None:
    """Solve the day solo, pooled and pooled with locker drops; write what pooling saves."""
    # The library is imported here, not at module level, so `gongpei --help` starts fast.
    import httpx

    from api.cli.checks import (
        check_engine,
        check_non_negative,
        check_positive,
        check_seed,
        check_share,
        check_writable_folder,
    )
    from api.cli.sigterm import terminable
    from api.scenario.outdir import staged_output
    from api.settings import graph_cache_dir
    from routing.pooling.compare import SolveSettings, compare_day
    from routing.pooling.day import read_day, with_lockers
    from routing.pooling.output import road_lines, write_outputs
    from routing.pooling.travel import day_travel

    check_engine(engine)
    for option, value in (
        ("--time-limit", time_limit),
        ("--coalition-time-limit", coalition_time_limit),
        ("--min-time-limit", min_time_limit),
        ("--permutations", permutations),
    ):
        check_positive(option, value)
    check_non_negative("--exact-max-firms", exact_max_firms)
    check_share("--shapley-precision", shapley_precision)
    check_non_negative("--split-time-limit", split_time_limit)
    check_seed("--seed", seed)
    check_writable_folder("--outdir", outdir)
    settings = SolveSettings(
        engine=engine,
        time_limit_s=time_limit,
        min_time_limit_s=min_time_limit,
        coalition_time_limit_s=coalition_time_limit,
        seed=seed,
        exact_max_firms=exact_max_firms,
        permutations=permutations,
        shapley_precision=shapley_precision,
        split_time_limit_s=split_time_limit or None,
        stop_on_plateau=plateau,
    )
    console = Console(stderr=True)
    day = read_day(day_file)
    # Entered before any solving, as `scenario run` does: a folder that is not empty is refused
    # (with --overwrite, one holding an input), and the outputs appear once all are written.
    staged = staged_output(outdir, overwrite=overwrite, inputs=day_inputs(day_file, day))
    with json_mode(as_json) as logged:
        with terminable(), staged as folder:
            found: list[dict[str, Any]] = []
            if platform:
                with httpx.Client(base_url=platform, timeout=30.0) as client:
                    found = platform_lockers(client, day)
                day = with_lockers(day, found)
            parcels = len(day.parcels)
            console.print(f"[bold]{day.name}[/]: {len(day.firms)} firms, {parcels} parcels")
            travel = day_travel(day, cache_dir=cache_dir or graph_cache_dir())
            reached = platform_reach(day, travel, found) if platform else None
            if reached is not None:
                line = reach_line(reached, found, day.travel.walk_radius_m)
                typer.echo(f"platform {platform}: {line}", err=True)  # whole, never wrapped
            with console.status("solving") as status:
                result = compare_day(
                    day, travel, settings, progress=status.update, on_solve=status.update
                )
            extra = None if reached is None else {"platform": {"url": platform, "lockers": reached}}
            files = write_outputs(result, folder, extra=extra, along=road_lines(travel))
        _report(result, [path.name for path in files.values()], outdir, console)
    if as_json:
        summary = json.loads((outdir / files["summary"].name).read_text(encoding="utf-8"))
        print_json(
            "pool",
            summary,
            units=summary["units"],
            outputs={name: outdir / path.name for name, path in files.items()},
            warnings=[*summary["warnings"], *logged],
            checker=summary["checker"],
        )
    if not result.checks_ok:
        raise typer.Exit(1)


def day_inputs(day_file: Path, day: Day) -> list[Path]:
    """Every file the day's run reads: the day, its map file and the siting plan its lockers
    come from, so that an output folder holding one is never emptied by --overwrite."""
    files = [day_file]
    if day.travel.source and not is_builtin(day.travel.source):
        files.append(Path(day.travel.source))  # read_day made it relative to the day file
    if day.lockers_from is not None:
        files.append(day_file.parent / day.lockers_from.siting)  # an absolute one stays so
    return files


def platform_reach(day: Day, travel: DayTravel, found: list[dict[str, Any]]) -> list[dict]:
    """The platform's lockers that some parcel's recipient can walk to (within the day's walk
    radius), with their free compartments and the shortest such walk: the platform may well
    return lockers near the parcels' centre that no parcel reaches, and the plans then match a
    run without the platform, which was not said."""
    import numpy as np

    ids = {locker["id"] for locker in found}
    walks = travel.walk_m.min(axis=0, initial=np.inf)
    return [
        {"id": locker.id, "at": list(locker.at.pair()), "free": dict(locker.free),
         "walk_m": round(float(walk), 1)}
        for locker, walk in zip(day.lockers, walks, strict=True)
        if locker.id in ids and np.isfinite(walk)
    ]  # fmt: skip


def reach_line(reached: list[dict], found: list[dict[str, Any]], radius_m: float) -> str:
    """One line on what the platform added: lockers found, those in reach, their free doors."""
    free: dict[str, int] = {}
    for locker in reached:
        for size, count in locker["free"].items():
            free[size] = free.get(size, 0) + count
    doors = ", ".join(f"{size} {count}" for size, count in free.items())
    return (
        f"{len(found)} locker{'s' * (len(found) != 1)} near the parcels, {len(reached)} within "
        f"a {radius_m:g} m walk of one" + (f" (free compartments: {doors})" if doors else "")
    )


def _report(result: DayResult, files: list[str], outdir: Path, console: Console) -> None:
    """The cost table per firm on stdout; warnings, the split's stability, the checker's
    verdict and the files written on stderr."""
    table = Table(
        title="cost per firm (solo vs Shapley share)",
        caption="costs in the day's money (the unit of its prices), CO2 in kg",
    )
    columns = (
        "firm", "parcels", "solo", "pooled", "saving %", "lockers", "saving %", "line haul",
        "CO2 kg solo -> pooled", "unserved solo -> pooled",
    )  # fmt: skip
    for column in columns:
        table.add_column(column, justify="left" if column == "firm" else "right")
    for row in result.firm_rows():
        table.add_row(
            row["firm"],
            str(row["parcels"]),
            f"{row['solo_cost']:.1f}",
            f"{row.get('pooled_shapley', float('nan')):.1f}",
            _percent(row.get("pooled_saving_pct")),
            f"{row.get('lockers_shapley', float('nan')):.1f}",
            _percent(row.get("lockers_saving_pct")),
            f"{row['pooled_transfer_cost']:.1f}",
            f"{row['solo_co2_kg']:.1f} -> {row.get('pooled_co2_kg', float('nan')):.1f}",
            f"{row['solo_unserved']} -> {row['pooled_unserved']}",
        )
    out = Console()
    if not out.is_terminal:  # piped: rich's 80 columns cut the headers and wrapped cells
        out = Console(width=max(80, Console(width=1000).measure(table).maximum))
    out.print(table)
    for warning in result.warnings():
        console.print(f"[bold red]warning[/]: {warning}")
    for kind, split in result.splits.items():
        if split.least_core is not None and split.least_core.core_is_empty:
            console.print(
                f"{kind}: no split is stable (the core is empty): the least-core split leaves "
                f"some group {split.least_core.excess:.1f} better off alone"
            )
        elif split.blocking:
            worst = split.blocking[0]
            console.print(
                f"{kind}: {'+'.join(worst.firms)} would pay {worst.excess:.1f} less alone under "
                "the Shapley split; the least-core split in summary.json is stable"
            )
    verdict = "all plans pass the checker" if result.checks_ok else "CHECKER FOUND VIOLATIONS"
    console.print(f"{verdict}; {result.solves} solves in {result.seconds:.1f} s; wrote {outdir}/")
    for name in files:
        console.print(f"  {name}")


def _percent(value: float | None) -> str:
    """A saving's percentage for the table: "n/a" where it is undefined (a firm whose solo
    plan cost nothing: its saving is then the share it pays, as a negative amount)."""
    return "n/a" if value is None else f"{value:.1f}"


def platform_lockers(client: httpx.Client, day: Day) -> list[dict[str, Any]]:
    """Lockers near the day's parcels from the platform's open API, with live free counts.

    Asks ``GET /v1/lockers`` around the parcels' centre, far enough to reach every parcel's
    walking radius, and follows the pages. Ids become ``platform-<id>``.
    """
    import httpx

    from api.lockers import day_locker
    from routing.pooling.errors import PoolingError

    lat, lon, reach = day.parcels_reach()
    params: dict[str, Any] = {"lat": lat, "lon": lon, "radius_m": min(reach, 50_000), "limit": 100}
    lockers: list[dict[str, Any]] = []
    while True:
        try:
            response = client.get("/v1/lockers", params=params)
            response.raise_for_status()
            page = response.json()
        except (httpx.HTTPError, ValueError) as err:
            raise PoolingError(
                f"platform {client.base_url}: lockers not available ({err})"
            ) from None
        lockers += [day_locker(item) for item in page["items"]]
        if not page.get("next_cursor"):
            return lockers
        params["cursor"] = page["next_cursor"]
