"""`gongpei scenario run|sweep|validate`: thin commands over api.scenario."""

import logging
import sys
from pathlib import Path
from typing import TextIO

import typer

from api.cli.json_out import json_mode, json_option, print_json
from api.scenario.errors import ScenarioError
from api.scenario.load import load_scenario

app = typer.Typer(
    help="Run, sweep and validate scenario files (scenarios/*.yaml).", no_args_is_help=True
)

MAP_HELP = "OSM file (.osm, .osm.pbf, ...) to use instead of the scenario's own map."
SET_HELP = "Override a setting: dotted.key=value (repeatable)."


def setup_logging(quiet: bool) -> None:
    """Stage progress goes to stderr as log lines, so stdout stays free for the result path."""
    handler = CurrentStderrHandler()
    handler.setFormatter(logging.Formatter("%(levelname)s %(name)s: %(message)s"))
    logging.basicConfig(
        handlers=[handler], level=logging.WARNING if quiet else logging.INFO, force=True
    )


class CurrentStderrHandler(logging.StreamHandler):
    """Writes to ``sys.stderr`` as it is when a record comes, not as it was at start-up: the
    progress bars' live display swaps in a proxy that prints above the bars. A handler bound
    to the stderr of start-up wrote each warning straight after a bar, and the bars' next
    refresh erased its last lines (rich's RichHandler would print above them too, but wraps
    every line at 80 columns in a log file and drops the logger's name)."""

    @property
    def stream(self) -> TextIO:  # type: ignore[override]
        return sys.stderr

    @stream.setter
    def stream(self, _value: TextIO) -> None:
        """StreamHandler sets its stream once; this one looks it up at each record instead."""


def check_run_options(outdir: Path, time_limit: float | None) -> None:
    """The options of `run` and `sweep`, refused by name before the scenario is even read."""
    from api.cli.checks import check_positive, check_writable_folder

    if time_limit is not None:
        check_positive("--time-limit", time_limit)
    check_writable_folder("--output", outdir)


def refuse_violations(checkers: dict[str, dict | None]) -> None:
    """Exit with code 1, as `gongpei pool` and `gongpei solve` do, when the independent checker
    found a plan breaking the day's rules: the run ended with code 0 and said so only in
    summary.json, so a script (or `make demo`) took wrong plans for a success. ``checkers``:
    each run's ``summary["checker"]`` (None: no plans) by its name in a sweep, "" for one run."""
    failing = {run: checker for run, checker in checkers.items() if checker and not checker["ok"]}
    for run, checker in failing.items():
        found = checker.get("violations") or []
        shown = "; ".join(found[:3]) + (f"; and {len(found) - 3} more" if len(found) > 3 else "")
        where = f"{run}: " if run else ""
        typer.echo(f"error: {where}the checker found violations in the plans: {shown}", err=True)
    if failing:
        raise typer.Exit(1)


def warn_pooling(summary: dict) -> None:
    """The day's pooling warnings on stderr, as `gongpei pool` says them (every firm pooled
    not the cheapest arrangement, a saving partly parcels left undelivered): they were only in
    summary.json and the report, under a plain "report: ..." line."""
    for text in summary.get("warnings") or []:
        typer.echo(f"warning: {text}", err=True)


def warn_unfinished(summary: dict) -> list[str]:
    """A run that skipped a stage still writes its report: say on stderr which stage and why
    (and return those lines, for `--json`'s warnings)."""
    said = [
        f"stage {name} {stage['status']}: {stage.get('note', '')}"
        for name, stage in summary.get("stages", {}).items()
        if stage.get("status") != "done"
    ]
    for line in said:
        typer.echo(f"warning: {line}", err=True)
    return said


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
    as_json: bool = json_option(),
) -> None:
    """Run a scenario: graphs, locker siting, the day solo and pooled, the split, report.html.

    Writes summary.json, GeoJSON layers (layers/), PNG plots (plots/) and report.html.

    Exits with code 1 when the checker finds violations in the plans.
    """
    from api.cli.sigterm import terminable
    from api.scenario.runner import run_scenario
    from routing.pooling.figures import UNITS

    check_run_options(outdir, time_limit)
    setup_logging(quiet)
    # its staging folder is removed on SIGTERM too
    with json_mode(as_json) as logged, terminable():
        summary = run_scenario(
            file,
            outdir,
            map_file=map_file,
            overrides=settings,
            quiet=quiet,
            overwrite=overwrite,
            time_limit_s=time_limit,
        )
        warn_pooling(summary)
        unfinished = warn_unfinished(summary)
        typer.echo(f"report: {(outdir / 'report.html').resolve()}")
    if as_json:
        print_json(
            "scenario run",
            summary,
            units=UNITS if summary.get("plans") else {},
            outputs=written(outdir),
            warnings=[*summary.get("warnings", []), *logged, *unfinished],
            checker=summary.get("checker"),
        )
    refuse_violations({"": summary.get("checker")})


def written(outdir: Path) -> dict[str, Path]:
    """Every file a run wrote, by its path in ``outdir`` without the suffix ("report",
    "layers/lockers"): the run had a new or emptied folder of its own."""
    files = sorted(path for path in outdir.rglob("*") if path.is_file())
    return {path.relative_to(outdir).with_suffix("").as_posix(): path for path in files}


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
    """Run the scenario once per value of one setting and plot the trade-off curves.

    Exits with code 1 when the checker finds violations in any run's plans (each named).
    """
    from api.cli.checks import OptionError
    from api.cli.sigterm import terminable
    from api.scenario.sweep import SweepInterrupted, run_sweep

    if len(settings) > 1:  # typer would keep the last one without a word
        raise OptionError(
            f"--set: a sweep varies one setting, got {len(settings)} "
            f"({', '.join(settings)}); hold others with --fix dotted.key=value"
        )
    check_run_options(outdir, time_limit)
    setup_logging(quiet)
    with terminable():  # its staging folder is removed on SIGTERM too
        try:
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
        except SweepInterrupted as err:  # a Ctrl-C, whose line says which runs were kept
            raise KeyboardInterrupt(str(err)) from None
    typer.echo(
        f"sweep of {result['parameter']} over {len(result['points'])} values: "
        f"{(outdir / 'sweep.json').resolve()}"
    )
    refuse_violations({point["run"]: point["checker"] for point in result["points"]})
