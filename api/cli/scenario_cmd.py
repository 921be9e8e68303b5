"""`gongpei scenario run|sweep|validate`: thin commands over api.scenario."""

import logging
import sys
from pathlib import Path

import typer

from api.scenario.errors import ScenarioError
from api.scenario.load import load_scenario

app = typer.Typer(
    help="Run, sweep and validate scenario files (scenarios/*.yaml).", no_args_is_help=True
)

MAP_HELP = "OSM file (.osm, .osm.pbf, ...) to use instead of the scenario's own map."
SET_HELP = "Override a setting: dotted.key=value (repeatable)."


def setup_logging(quiet: bool) -> None:
    """Stage progress goes to stderr as log lines, so stdout stays free for the result path."""
    logging.basicConfig(
        stream=sys.stderr,
        level=logging.WARNING if quiet else logging.INFO,
        format="%(levelname)s %(name)s: %(message)s",
        force=True,
    )


def check_run_options(outdir: Path, time_limit: float | None) -> None:
    """The options of `run` and `sweep`, refused by name before the scenario is even read."""
    from api.cli.checks import check_positive, check_writable_folder

    if time_limit is not None:
        check_positive("--time-limit", time_limit)
    check_writable_folder("--output", outdir)


def warn_unfinished(summary: dict) -> None:
    """A run that skipped a stage still writes its report: say on stderr which stage and why."""
    for name, stage in summary.get("stages", {}).items():
        if stage.get("status") != "done":
            typer.echo(
                f"warning: stage {name} {stage['status']}: {stage.get('note', '')}", err=True
            )


@app.command("validate")
def validate(
    file: Path = typer.Argument(..., help="Scenario YAML file."),
    map_file: Path = typer.Option(None, "--map", help=MAP_HELP),
    settings: list[str] = typer.Option([], "--set", help=SET_HELP),
    fixed: list[str] = typer.Option(
        [], "--fix", help="A sweep's --fix: dotted.key=value (repeatable), applied before --set."
    ),
) -> None:
    """Check a scenario file and the files it names as `run` would, before reading the map.

    Every problem is listed with its line and field, or with the --set that caused it.

    A run's overrides (--set) or a sweep's (--fix, with one value of its --set) are checked too.
    """
    from api.scenario.checks import check_inputs, run_source

    try:
        loaded = load_scenario(file, overrides=[*fixed, *settings])  # in a sweep's order
        check_inputs(loaded, run_source(loaded, map_file))
    except ScenarioError as err:
        for problem in err.problems:
            typer.echo(f"error: {problem}", err=True)
        raise typer.Exit(2) from None
    spec = loaded.spec
    firms, centres = len(spec.firms), len(spec.centres)
    what = (
        f"{firms} firm{'s' * (firms != 1)}, {centres} shared centre{'s' * (centres != 1)}, "
        f"siting {spec.siting.model}"
        if firms
        else f"siting only, {spec.siting.model}: no firms, so no routes are planned"
    )
    typer.echo(f"{file}: valid scenario '{spec.name}' ({what})")
    if spec.map.source is None and map_file is None:
        typer.echo(f"note: run it with --map FILE: {spec.map.needs or 'an OSM extract'}")


@app.command("run")
def run(
    file: Path = typer.Argument(..., help="Scenario YAML file."),
    outdir: Path = typer.Option(..., "-o", "--output", help="Output folder."),
    map_file: Path = typer.Option(None, "--map", help=MAP_HELP),
    settings: list[str] = typer.Option([], "--set", help=SET_HELP),
    time_limit: float = typer.Option(None, "--time-limit", help="Cap every solver time limit (s)."),
    overwrite: bool = typer.Option(False, "--overwrite", help="Replace a non-empty output folder."),
    quiet: bool = typer.Option(False, "--quiet", "-q", help="No progress bars, warnings only."),
) -> None:
    """Run a scenario: graphs, locker siting, the day solo and pooled, the split, report.html.

    Writes summary.json, GeoJSON layers (layers/), PNG plots (plots/) and report.html.
    """
    from api.scenario.runner import run_scenario

    check_run_options(outdir, time_limit)
    setup_logging(quiet)
    summary = run_scenario(
        file,
        outdir,
        map_file=map_file,
        overrides=settings,
        quiet=quiet,
        overwrite=overwrite,
        time_limit_s=time_limit,
    )
    warn_unfinished(summary)
    typer.echo(f"report: {(outdir / 'report.html').resolve()}")


@app.command("sweep")
def sweep(
    file: Path = typer.Argument(..., help="Scenario YAML file."),
    settings: list[str] = typer.Option(
        ..., "--set", help="The setting to vary, once: dotted.key=START:STOP:STEP or =a,b,c."
    ),
    fixed: list[str] = typer.Option(
        [], "--fix", help="Override a setting in every run: dotted.key=value (repeatable)."
    ),
    outdir: Path = typer.Option(..., "-o", "--output", help="Output folder."),
    map_file: Path = typer.Option(None, "--map", help=MAP_HELP),
    time_limit: float = typer.Option(None, "--time-limit", help="Cap every solver time limit (s)."),
    overwrite: bool = typer.Option(False, "--overwrite", help="Replace a non-empty output folder."),
    quiet: bool = typer.Option(False, "--quiet", "-q", help="No progress bars, warnings only."),
) -> None:
    """Run the scenario once per value of one setting and plot the trade-off curves."""
    from api.cli.checks import OptionError
    from api.scenario.sweep import run_sweep

    if len(settings) > 1:  # typer would keep the last one without a word
        raise OptionError(
            f"--set: a sweep varies one setting, got {len(settings)} "
            f"({', '.join(settings)}); hold others with --fix dotted.key=value"
        )
    check_run_options(outdir, time_limit)
    setup_logging(quiet)
    result = run_sweep(
        file,
        settings[0],
        outdir,
        fixed=fixed,
        map_file=map_file,
        quiet=quiet,
        overwrite=overwrite,
        time_limit_s=time_limit,
    )
    typer.echo(
        f"sweep of {result['parameter']} over {len(result['points'])} values: "
        f"{(outdir / 'sweep.json').resolve()}"
    )
