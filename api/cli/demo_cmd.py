"""`gongpei demo`: the README's main command, the campus scenario end to end on the demo map."""

import json
from pathlib import Path

import typer

from api.cli.scenario_cmd import refuse_violations, setup_logging, warn_pooling, warn_unfinished
from api.settings import data_dir

CAMPUS = Path(__file__).resolve().parents[2] / "scenarios" / "campus.yaml"
DEMO_OUTPUTS = frozenset({"summary.json", "report.html", "layers", "plots"})


def demo(
    outdir: Path = typer.Option(
        None, "-o", "--output", help="Output folder (default: $GONGPEI_DATA_DIR/demo-campus)."
    ),
    overwrite: bool = typer.Option(
        False, "--overwrite", help="Replace a non-empty folder that is not a demo's output."
    ),
    quiet: bool = typer.Option(False, "--quiet", "-q", help="No progress bars, warnings only."),
) -> None:
    """Run scenarios/campus.yaml on the demo map (central Helsinki) and print the report's path.

    Road graphs, locker siting, the day solo and pooled, and the fair split, end to end.
    """
    from api.cli.checks import check_writable_folder
    from api.cli.sigterm import terminable
    from api.scenario.runner import run_scenario

    setup_logging(quiet)
    outdir = outdir or data_dir() / "demo-campus"
    check_writable_folder("--output", outdir)
    replace = overwrite or is_demo_output(outdir)
    with terminable():  # its staging folder is removed on SIGTERM too
        summary = run_scenario(CAMPUS, outdir, quiet=quiet, overwrite=replace)
    from api.report.html import fmt_kg

    warn_pooling(summary)
    warn_unfinished(summary)
    plans = summary.get("plans") or {}
    for kind, figures in plans.items():
        typer.echo(
            f"{kind:>8}: cost {figures['cost']:9.1f}  "
            f"vehicle-km {figures['vehicle_km']:7.1f} "
            f"(line haul {figures['transfer_km']:5.1f})  "
            f"vehicles {figures['vehicles']:3d}  CO2 {fmt_kg(figures['co2_kg']):>6} kg"
        )
    typer.echo(f"report: {(outdir / 'report.html').resolve()}")
    refuse_violations({"": summary.get("checker")})


def is_demo_output(folder: Path) -> bool:
    """Whether ``folder`` holds only what an earlier `gongpei demo` wrote there, so that running
    the demo again (`make demo` twice) replaces it; any other content is the user's, kept
    unless --overwrite."""
    if not folder.is_dir() or not {p.name for p in folder.iterdir()} <= DEMO_OUTPUTS:
        return False
    try:
        summary = json.loads((folder / "summary.json").read_text(encoding="utf-8"))
        return summary["scenario"]["file"] == str(CAMPUS)
    except (OSError, ValueError, TypeError, KeyError):
        return False
