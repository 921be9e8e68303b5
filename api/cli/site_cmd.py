"""`gongpei site`: locker siting on OR-Library files or a native JSON input, plan to JSON."""

from __future__ import annotations

import dataclasses
import json
import math
import time
from enum import StrEnum
from pathlib import Path

import typer

from api.cli.checks import OptionError, check_output_files
from api.cli.json_out import json_mode, json_option, print_json
from api.cli.sigterm import terminable
from network.jsonfile import load_json
from routing.siting import SitingModel, solve
from routing.siting.errors import SitingInputError
from routing.siting.model import MODELS
from routing.siting.progress import output_seconds

#: The time limit of each coverage-curve point (each carries its bound), after the run's own
#: ``--time-limit``: a curve of 40 points sharing half of a 10 s limit had them cut to 0.1 s,
#: gaps of 15-65 % from 16 lockers on (under 1 % at 2 s), and the run still took 19 s.
CURVE_POINT_S = 2.0
NAMED_FILES = ("map", "demand", "candidates", "existing")  # a native file's fields naming files


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
    budget: float | None = typer.Option(None, "--budget", help="Money budget (maxcover, pmedian)."),
    capacitated: bool | None = typer.Option(
        None, "--capacitated/--uncapacitated", help="Enforce site capacities."
    ),
    radius: float | None = typer.Option(
        None,
        "--radius",
        help="Keep only pairs within this distance (walking metres; at most the file's radius_m).",
    ),
    method: str = typer.Option("auto", "--method", help="auto, exact or heuristic."),
    solver: str = typer.Option("auto", "--solver", help="auto, scip, highs or sat."),
    time_limit: float = typer.Option(
        60.0,
        "--time-limit",
        help="Seconds for the plan's whole run: reading the input, its walking catchments, the "
        "search (--curve's points come after it).",
    ),
    gap: float = typer.Option(1e-6, "--gap", help="Stop at this proven relative gap (>= 0)."),
    geojson: Path | None = typer.Option(
        None,
        "--geojson",
        help="Also write the open sites (Points, a file gongpei lockers import reads) there and "
        "their catchments (LineStrings) beside it, as NAME-catchments.geojson (native input only).",
    ),
    curve: Path | None = typer.Option(
        None,
        "--curve",
        help="Also write the coverage curve (parcels served by locker count, within the "
        "model's capacities and sizing) as PNG, after the plan: each of its points takes up to "
        f"{CURVE_POINT_S:g} s (--time-limit where less) on top of --time-limit, so "
        f"--curve-max 10 adds up to {10 * CURVE_POINT_S:g} s.",
    ),
    curve_max: int = typer.Option(10, "--curve-max", help="Largest locker count on the curve."),
    capacity: float | None = typer.Option(
        None,
        "--capacity",
        help="orlib-cap files that hold the word 'capacity' (capa, capb, capc): every "
        "facility's capacity (Beasley's: capa 8000-14000, capb 5000-8000, capc 5000-7250).",
    ),
    as_json: bool = json_option(),
) -> None:
    """Choose locker sites (and sizes): prints a summary, writes the plan as JSON."""
    began = time.perf_counter()  # the time limit covers the catchments and the output too
    _check_numbers(time_limit=time_limit, gap=gap, radius=radius, curve_max=curve_max)
    if geojson is not None and fmt is not Format.native:
        raise SitingInputError("--geojson: OR-Library input has no coordinates to draw")
    if capacity is not None and fmt is not Format.orlib_cap:
        raise SitingInputError("--capacity is for orlib-cap files (capa, capb, capc)")
    lines = None if geojson is None else catchments_path(geojson)
    outputs = {"-o": out, "--geojson": geojson, "--geojson (catchments)": lines, "--curve": curve}
    _check_outputs(_inputs(file, fmt), outputs)
    with json_mode(as_json) as logged:
        inst, file_model = _read(file, fmt, capacity)
        if radius is not None:
            if inst.radius_m is not None and radius > inst.radius_m:
                raise SitingInputError(
                    f"--radius {radius:g}: wider than the input's radius_m {inst.radius_m:g}, "
                    "within which alone distances were computed (raise radius_m in the file "
                    "instead)"
                )
            inst = inst.within(radius)
        chosen = _model(fmt, file_model, model, p, budget, capacitated)
        with terminable():  # Ctrl-C while solving: one line and code 130, as in every command
            plan = solve(
                inst,
                chosen,
                method=method,
                solver=solver,
                time_limit_s=time_limit,
                rel_gap=gap,
                spent_s=time.perf_counter() - began,
                keep_s=output_seconds(inst.n_demand),
            )
            result = plan.to_dict()
            if fmt is not Format.native:
                result = _as_orlib(plan, result)
            if curve is not None:
                result["coverage_curve"] = _curve(inst, plan, curve, curve_max, time_limit)
        s = plan.summary()
        out.write_text(json.dumps(result, indent=1))
        if geojson is not None:
            layers = plan.to_layers()
            geojson.write_text(json.dumps(layers["lockers"]))
            lines.write_text(json.dumps(layers["catchments"]))
        typer.echo(_headline(s, inst.name, out))
        if result["summary"].get("capacity_shortfall"):
            shortfall = (
                f"infeasible capacity: total capacity {inst.capacity.sum():.6g} < demand "
                f"{inst.weight.sum():.6g}; the best plan leaves {s['unserved_parcels']:.6g} "
                "unserved (objective without them)"
            )
            typer.echo(shortfall, err=True)
            logged.append(shortfall)
    if as_json:
        print_json(
            "site",
            result["summary"],
            units=_units(result["summary"], inst.distance),
            outputs={"plan": out, "geojson": geojson, "catchments": lines, "curve": curve},
            warnings=[*result["warnings"], *logged],
            checker=None,  # siting has no independent checker
        )


def _units(s: dict, distance: str | None) -> dict[str, str]:
    """The units of the plan summary's figures for `--json`: the objective's is the plan's own
    (`objective_unit`), distances are metres on a map and OR-Library's cost on its files."""
    per_parcel = "m" if distance else "the input's assignment cost a parcel"
    money = "money, as the input's fixed_cost"
    return {
        "objective": s["objective_unit"], "bound": s["objective_unit"],
        "gap": "share of the objective", "seconds": "s",
        "parcels": "parcels a day", "served_parcels": "parcels a day",
        "unserved_parcels": "parcels a day", "coverage": "share of the parcels",
        "mean_distance": per_parcel, "mean_utilisation": "share of capacity",
        "fixed_cost": money, "compartment_cost": money, "spent": money, "budget": money,
        "assignment_cost": "parcel-m a day" if distance else "assignment cost",
    }  # fmt: skip


def catchments_path(geojson: Path) -> Path:
    """Where ``--geojson PATH`` writes the catchments: beside PATH, its name and
    ``-catchments`` (lockers.geojson: lockers-catchments.geojson). A layer holds one geometry
    type in a Shapefile or GeoPackage: the lockers' Points and the catchments' LineStrings in
    one collection could not be converted (ogr2ogr -f "ESRI Shapefile")."""
    return geojson.with_name(f"{geojson.stem}-catchments{geojson.suffix}")


def _headline(s: dict, name: str, out: Path) -> str:
    """The plan on one line: objective with its unit (and, for facility location, the money
    and the parcel-metres it adds up), proof, sites, coverage, and what the plan spends (of
    the budget where one is set), so a money-budget plan can be checked against its budget."""
    proof = "no bound" if s["gap"] is None else "optimal" if s["optimal"] else f"gap {s['gap']:.3%}"
    terms = ""
    if s["model"] == "facility":
        terms = f": {_amount(s['spent'])} + {_amount(s['assignment_cost'])}"
    spent = f"spent {_amount(s['spent'])}"
    if "budget" in s:
        spent += f" of {_amount(s['budget'])}"
    return (
        f"{name}: {s['model']} objective {_amount(s['objective'])} ({s['objective_unit']}{terms}; "
        f"{proof}), {s['open_sites']} sites, coverage {s['coverage']:.1%}, {spent}, "
        f"{s['seconds']:.2f} s -> {out}"
    )


def _amount(value: float) -> str:
    """An objective, money or parcel-metres in full, thousands separated, to the cent: 187,800
    or 0.5 (``g`` wrote 2,060,000 as 2.06e+06, and cap41's optimum 1,040,444.38 as 1.04044e+06
    beside its terms in full)."""
    return f"{value:,.2f}".rstrip("0").rstrip(".")


def _as_orlib(plan, result: dict) -> dict:
    """The plan as OR-Library's own numbers: facility and customer ids as 1-based integers,
    a facility plan's objective split into fixed and allocation cost, and a shortfall of
    capacity (total capacity below demand) named as such."""
    summary = result["summary"]
    if plan.model.kind == "facility":  # fixed_cost is in every summary
        summary["allocation_cost"] = summary["assignment_cost"]
    total_capacity = float(plan.instance.capacity.sum())
    summary["capacity_shortfall"] = bool(
        plan.model.is_capacitated and total_capacity < float(plan.instance.weight.sum())
    )
    result["open_site_ids"] = [int(i) for i in result["open_site_ids"]]
    for site in result["sites"]:
        site["id"] = int(site["id"])
    for row in result["assignment"]:
        row["demand"], row["site"] = int(row["demand"]), int(row["site"])
    for row in result["unserved"]:
        row["demand"] = int(row["demand"])
    result["uncoverable"] = [int(i) for i in result["uncoverable"]]
    return result


def _check_numbers(*, time_limit: float, gap: float, radius: float | None, curve_max: int):
    if not (math.isfinite(gap) and gap >= 0):
        raise SitingInputError(f"--gap must be a relative gap >= 0 (e.g. 0.01), got {gap}")
    if not (math.isfinite(time_limit) and time_limit > 0):
        raise SitingInputError(f"--time-limit must be a number of seconds > 0, got {time_limit}")
    if radius is not None and not (math.isfinite(radius) and radius > 0):
        raise SitingInputError(f"--radius must be a distance > 0, got {radius}")
    if curve_max < 1:
        raise SitingInputError(f"--curve-max must be >= 1, got {curve_max}")


def _inputs(file: Path, fmt: Format) -> dict[str, Path]:
    """The input file and the files a native one names (map, demand, candidates, existing;
    relative to it, as `read_native` reads them), by what each is: only the JSON was checked,
    so an output named like a file it names replaced that with the plan. Only files that exist
    can be lost, so a built-in map ("demo", "synthetic:N") names none, nor does a native file
    that cannot be read as JSON (`read_native` then says why)."""
    inputs = {"the input file": file}
    if fmt is not Format.native:
        return inputs
    try:
        spec = load_json(file.read_text(encoding="utf-8-sig"))
    except (OSError, ValueError):  # a decoding or JSON error is a ValueError
        return inputs
    if not isinstance(spec, dict):
        return inputs
    for field in NAMED_FILES:
        name = spec.get(field)
        if isinstance(name, str) and (file.parent / name).exists():
            inputs[f"the {field} file"] = file.parent / name
    return inputs


def _check_outputs(inputs: dict[str, Path], outputs: dict[str, Path | None]) -> None:
    """Every output can be written (its folder made) before any solving, and none is an input
    or another output, so a long solve never ends in a write error or overwrites an input."""
    for option, path in outputs.items():
        if path is None or path.is_dir():
            continue
        try:  # the folders are made as the outputs will be written
            path.parent.mkdir(parents=True, exist_ok=True)
        except (FileExistsError, NotADirectoryError):
            raise SitingInputError(f"{option} {path}: a folder on its path is a file") from None
        except OSError as err:
            raise SitingInputError(
                f"{option} {path}: cannot make its folder ({err.strerror})"
            ) from None
    try:
        check_output_files(inputs, outputs)
    except OptionError as err:  # the siting command's errors are all SitingInputError
        raise SitingInputError(str(err)) from None


def _curve(inst, plan, path: Path, curve_max: int, time_limit: float) -> list[dict]:
    """Maximal covering for 1..curve_max lockers under the run's capacities and sizing (so a
    capacitated plan sits on its own curve, not below parcels merely within reach), each point
    solved for a short time so that it carries its bound (as a scenario's curve does), plotted
    with a maxcover plan marked. Its time comes on top of the run's limit (`CURVE_POINT_S`):
    the plan is the same with or without it."""
    from routing.siting.curve import coverage_curve, plot_curve

    points = coverage_curve(
        inst,
        range(1, curve_max + 1),
        like=plan.model,
        time_limit_s=min(CURVE_POINT_S, time_limit),
    )
    s = plan.summary()
    plot_curve(
        points,
        path,
        title=f"Coverage: {inst.name}",
        chosen=(s["open_sites"], s["coverage"]) if plan.model.kind == "maxcover" else None,
        capacitated=plan.model.is_capacitated,
        curve_capacitated=plan.model.is_capacitated,
        radius_m=inst.radius_m,
        distance=inst.distance,
    )
    return points


def _read(file: Path, fmt: Format, capacity: float | None):
    if fmt is Format.orlib_pmed:
        from routing.siting.orlib import read_pmed

        pm = read_pmed(file)
        return pm.instance, SitingModel("pmedian", p=pm.p)
    if fmt is Format.orlib_cap:
        from routing.siting.orlib import read_cap

        return read_cap(file, capacity=capacity), SitingModel("facility", capacitated=True)
    from routing.siting.native import read_native

    return read_native(file)


def _model(fmt, file_model, kind, p, budget, capacitated) -> SitingModel:
    """The file's model (or one of ``--model``'s kind made from it) with the options given; an
    option the model would ignore is an error."""
    from routing.siting.native import MODEL_OPTIONS, model_takes

    kind = kind or (file_model.kind if file_model else None)
    if kind is None:
        raise SitingInputError(f"{fmt.value} input has no model: give --model")
    if kind not in MODELS:
        raise SitingInputError(f"--model must be one of {', '.join(MODELS)}, got '{kind}'")
    for option, value in (("p", p), ("budget", budget)):
        if value is not None and option not in MODEL_OPTIONS[kind]:
            raise SitingInputError(f"--{option} does not apply: {model_takes(kind)}")
    given = {"p": p, "budget": budget, "capacitated": capacitated}
    chosen = _of_kind(fmt, file_model, kind, {k: v for k, v in given.items() if v is not None})
    if capacitated is False and chosen.sizing is not None:
        raise SitingInputError(
            "--uncapacitated: the file's model has a sizing, which makes locker capacities part "
            "of the plan; remove 'sizing' from the file to ignore capacities"
        )
    return chosen


def _of_kind(fmt, file_model: SitingModel | None, kind: str, given: dict) -> SitingModel:
    """The file's model as one of ``kind`` with the ``given`` options: another kind keeps the
    file's capacities, sizing and every option it takes (a fresh model had silently dropped
    them: a sized plan came back unsized), and refuses one it cannot take rather than drop it."""
    from routing.siting.native import MODEL_OPTIONS, model_takes

    if file_model is None:
        return SitingModel(kind, **given)
    if file_model.kind == kind:
        return dataclasses.replace(file_model, **given)
    kept = {}
    for option in ("p", "budget", "unserved_penalty"):
        value = getattr(file_model, option)
        if value is None or option in given:
            continue
        if option not in MODEL_OPTIONS[kind]:
            raise SitingInputError(
                f"--model {kind}: the {fmt.value} input's {file_model.kind} model sets {option} "
                f"{value:g}, which does not apply ({model_takes(kind)})"
            )
        kept[option] = value
    rules = {"capacitated": file_model.capacitated, "sizing": file_model.sizing}
    return SitingModel(kind, **(rules | kept | given))
