"""`gongpei site`: locker siting on OR-Library files or a native JSON input, plan to JSON."""

from __future__ import annotations

import dataclasses
import json
from enum import StrEnum
from pathlib import Path

import typer

from routing.siting import SitingModel, solve
from routing.siting.errors import SitingInputError
from routing.siting.model import MODELS


class Format(StrEnum):
    orlib_pmed = "orlib-pmed"
    orlib_cap = "orlib-cap"
    native = "native"


def site(
    file: Path = typer.Argument(..., help="Input: pmedN.txt, capNN.txt or a native JSON file."),
    fmt: Format = typer.Option(..., "--format", help="Input format."),
    out: Path = typer.Option(..., "-o", "--out", help="Where to write the plan (JSON)."),
    model: str | None = typer.Option(
        None, "--model", help=f"One of {', '.join(MODELS)} (default: the format's or file's)."
    ),
    p: int | None = typer.Option(None, "--p", help="Number of lockers (maxcover, pmedian)."),
    budget: float | None = typer.Option(None, "--budget", help="Money budget (maxcover)."),
    capacitated: bool | None = typer.Option(
        None, "--capacitated/--uncapacitated", help="Enforce site capacities."
    ),
    radius: float | None = typer.Option(
        None, "--radius", help="Keep only pairs within this distance (walking metres)."
    ),
    method: str = typer.Option("auto", "--method", help="auto, exact or heuristic."),
    solver: str = typer.Option("auto", "--solver", help="auto, scip, highs or sat."),
    time_limit: float = typer.Option(60.0, "--time-limit", help="Seconds for the whole solve."),
    gap: float = typer.Option(1e-6, "--gap", help="Stop at this proven relative gap."),
    geojson: Path | None = typer.Option(None, "--geojson", help="Also write sites + catchments."),
    curve: Path | None = typer.Option(
        None,
        "--curve",
        help="Also write the coverage curve (covered parcels by locker count) as PNG.",
    ),
    curve_max: int = typer.Option(10, "--curve-max", help="Largest locker count on the curve."),
) -> None:
    """Choose locker sites (and sizes): prints a summary, writes the plan as JSON."""
    inst, file_model = _read(file, fmt)
    if radius is not None:
        inst = inst.within(radius)
    chosen = _model(fmt, file_model, model, p, budget, capacitated)
    plan = solve(inst, chosen, method=method, solver=solver, time_limit_s=time_limit, rel_gap=gap)
    result = plan.to_dict()
    if curve is not None:
        from routing.siting.curve import coverage_curve, plot_curve

        points = coverage_curve(inst, range(1, curve_max + 1), method="heuristic")
        result["coverage_curve"] = points
        plot_curve(points, curve, title=f"Coverage: {inst.name}", radius_m=inst.radius_m)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(result, indent=1))
    if geojson is not None:
        geojson.write_text(json.dumps(plan.to_geojson()))
    s = plan.summary()
    proof = "no bound" if s["gap"] is None else "optimal" if s["optimal"] else f"gap {s['gap']:.3%}"
    typer.echo(
        f"{inst.name}: {s['model']} objective {s['objective']:.6g} ({proof}), "
        f"{s['open_sites']} sites, coverage {s['coverage']:.1%}, {s['seconds']:.2f} s -> {out}"
    )


def _read(file: Path, fmt: Format):
    if fmt is Format.orlib_pmed:
        from routing.siting.orlib import read_pmed

        pm = read_pmed(file)
        return pm.instance, SitingModel("pmedian", p=pm.p)
    if fmt is Format.orlib_cap:
        from routing.siting.orlib import read_cap

        return read_cap(file), SitingModel("facility", capacitated=True)
    from routing.siting.native import read_native

    return read_native(file)


def _model(fmt, file_model, kind, p, budget, capacitated) -> SitingModel:
    base = file_model
    if kind is not None and (base is None or kind != base.kind):
        base = None
    if base is None:
        if kind is None:
            raise SitingInputError(f"{fmt.value} input has no model: give --model")
        base = SitingModel(
            kind,
            p=p if p is not None else (file_model.p if file_model else None),
            budget=budget,
            capacitated=bool(capacitated),
        )
    changes = {}
    if p is not None:
        changes["p"] = p
    if budget is not None:
        changes["budget"] = budget
    if capacitated is not None:
        changes["capacitated"] = capacitated
    return dataclasses.replace(base, **changes)
