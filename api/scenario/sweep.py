"""Parameter sweeps: run a scenario once per value of one setting and plot the trade-offs."""

import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import yaml

from api.report import plots
from api.scenario.errors import ScenarioError
from api.scenario.load import load_scenario, setting_value
from api.scenario.outdir import staged_output
from api.scenario.runner import run_scenario


def sweep_values(setting: str) -> tuple[str, list[Any]]:
    """``key=START:STOP:STEP`` (STOP included) or ``key=a,b,c`` into the key and its values."""
    key, sep, text = setting.partition("=")
    if not sep or not key.strip() or not text.strip():
        raise ScenarioError([f"--set {setting}: expected key=START:STOP:STEP or key=a,b,c"])
    if ":" in text:
        try:
            start, stop, step = (float(part) for part in text.split(":"))
        except ValueError:
            raise ScenarioError([f"--set {setting}: START:STOP:STEP must be numbers"]) from None
        if step <= 0 or stop < start:
            raise ScenarioError([f"--set {setting}: need STEP > 0 and STOP >= START"])
        values = list(np.arange(start, stop + step / 2, step))
        as_int = all(float(v).is_integer() for v in (start, stop, step))
        return key.strip(), [int(v) if as_int else float(v) for v in values]
    return key.strip(), [setting_value(setting, part) for part in text.split(",")]


def as_yaml(value: Any) -> str:
    """A swept value written back as YAML, as ``--set`` parses it (None as ``null``, not
    ``None``, which would read back as text); it also names the value's run folder."""
    return (
        yaml.safe_dump(value, default_flow_style=True, width=float("inf"))
        .removesuffix("...\n")
        .strip()
    )


def _plottable(points: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Numbers are plotted on a number axis; any other values (null, a mapping), which matplotlib
    cannot place, by their YAML text, each a category."""
    if all(
        isinstance(p["value"], int | float) and not isinstance(p["value"], bool) for p in points
    ):
        return points
    return [{**p, "value": as_yaml(p["value"])} for p in points]


def _check_fixed(key: str, fixed: Sequence[str]) -> None:
    """A fixed override of the swept setting itself would be overridden in every run."""
    for override in fixed:
        if override.partition("=")[0].strip() == key:
            raise ScenarioError(
                [f"--fix {override}: {key} is the setting the sweep varies (--set); fix another"]
            )


def run_sweep(
    file: Path | str,
    setting: str,
    outdir: Path | str,
    *,
    map_file: Path | None = None,
    quiet: bool = False,
    overwrite: bool = False,
    time_limit_s: float | None = None,
    fixed: Sequence[str] = (),
) -> dict[str, Any]:
    """One run per value into ``OUTDIR/<key>=<value as YAML>/``, then ``sweep.json`` and
    ``sweep.png``; ``fixed`` overrides (``key=value``, as `scenario run --set`) hold in every
    run, so that one setting can be varied with others changed from the file."""
    key, values = sweep_values(setting)
    _check_fixed(key, fixed)
    runs = [(value, f"{key}={as_yaml(value)}") for value in values]
    for _, run in runs:  # every value must make a valid scenario before anything runs
        load_scenario(file, overrides=[*fixed, run])
    points = []
    with staged_output(Path(outdir), overwrite=overwrite, inputs=[Path(file)]) as folder:
        for value, run in runs:
            summary = run_scenario(
                file,
                folder / run,
                map_file=map_file,
                overrides=[*fixed, run],
                quiet=quiet,
                time_limit_s=time_limit_s,
                coverage_curve=False,
            )
            siting = summary.get("siting") or {}
            points.append(
                {
                    "value": value,
                    "lockers": len(siting.get("opened", [])),
                    "coverage": siting.get("coverage"),
                    "cost": {
                        plan: figures.get("cost")
                        for plan, figures in (summary.get("plans") or {}).items()
                    },
                    "run": run,
                }
            )
        result = {"parameter": key, "fixed": list(fixed), "points": points}
        (folder / "sweep.json").write_text(json.dumps(result, indent=2))
        plots.sweep_curves(_plottable(points), key, folder / "sweep.png")
    return result
