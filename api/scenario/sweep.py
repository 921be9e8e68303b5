"""Parameter sweeps: run a scenario once per value of one setting and plot the trade-offs."""

import json
from pathlib import Path
from typing import Any

import numpy as np
import yaml

from api.report import plots
from api.scenario.errors import ScenarioError
from api.scenario.load import load_scenario
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
    return key.strip(), [yaml.safe_load(part) for part in text.split(",")]


def run_sweep(file: Path | str, setting: str, outdir: Path | str, *, map_file: Path | None = None,
              quiet: bool = False, overwrite: bool = False,
              time_limit_s: float | None = None) -> dict[str, Any]:
    """One run per value into ``OUTDIR/<key>=<value>/``, then ``sweep.json`` and ``sweep.png``."""
    key, values = sweep_values(setting)
    for value in values:  # every value must make a valid scenario before anything runs
        load_scenario(file, overrides=[f"{key}={value}"])
    points = []
    with staged_output(Path(outdir), overwrite=overwrite) as folder:
        for value in values:
            summary = run_scenario(file, folder / f"{key}={value}", map_file=map_file,
                                   overrides=[f"{key}={value}"], quiet=quiet,
                                   time_limit_s=time_limit_s, coverage_curve=False)
            siting = summary.get("siting") or {}
            points.append({
                "value": value,
                "lockers": len(siting.get("opened", [])),
                "coverage": siting.get("coverage"),
                "cost": {plan: figures.get("cost")
                         for plan, figures in (summary.get("plans") or {}).items()},
                "run": f"{key}={value}",
            })
        result = {"parameter": key, "points": points}
        (folder / "sweep.json").write_text(json.dumps(result, indent=2))
        plots.sweep_curves(points, key, folder / "sweep.png")
    return result
