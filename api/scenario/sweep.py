"""Parameter sweeps: run a scenario once per value of one setting and plot the trade-offs."""

import contextlib
import json
import logging
import math
import re
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import yaml

from api.report import plots
from api.scenario.errors import ScenarioError
from api.scenario.load import load_scenario, setting_value
from api.scenario.mapdata import map_source
from api.scenario.outdir import staged_output
from api.scenario.runner import input_files, run_scenario
from network.errors import GongpeiError

log = logging.getLogger("gongpei.scenario")
#: Runs a sweep may make: each is a whole scenario run (minutes on a real map), and a range
#: such as 1:1e9:1 built a billion values before the first run.
MAX_RUNS = 100


class SweepInterrupted(ScenarioError):
    """A sweep stopped by Ctrl-C, its finished runs kept (the message says where): the command
    ends as on any Ctrl-C (130), not as on a scenario's error (2)."""


def sweep_values(setting: str) -> tuple[str, list[Any]]:
    """``key=START:STOP:STEP`` (STOP included; three numbers) or ``key=a,b,c`` into the key and
    its values. The values are a YAML flow sequence without its brackets, so that a value may
    be a list or a mapping (``shift=["08:00", "12:00"], ["08:00", "18:00"]``), and a value
    with ``:`` that is not three numbers (``"08:00"``) is a value, not a range. Each value is
    one run in its own folder, so a value given twice is refused."""
    key, sep, text = setting.partition("=")
    key = key.strip()
    if not sep or not key or not text.strip():
        raise ScenarioError([f"--set {setting}: expected key=START:STOP:STEP or key=a,b,c"])
    bounds = _range_bounds(text)
    values = _range(setting, *bounds) if bounds else setting_value(setting, f"[{text}]")
    if len(values) > MAX_RUNS:
        raise ScenarioError([f"--set {setting}: {len(values):,} runs; a sweep makes at most "
                             f"{MAX_RUNS} (a coarser STEP, or fewer values)"])  # fmt: skip
    repeated = [value for i, value in enumerate(values) if value in values[:i]]
    if repeated:
        raise ScenarioError(
            [
                f"--set {setting}: {key} is given the value {as_yaml(repeated[0])} more than "
                "once (each value is one run, in its own folder)"
            ]
        )
    return key, values


def _range_bounds(text: str) -> tuple[float, float, float] | None:
    """START, STOP and STEP when ``text`` is three finite numbers joined by ``:``, else None."""
    parts = text.split(":")
    if len(parts) != 3:
        return None
    try:
        start, stop, step = (float(part) for part in parts)
    except ValueError:
        return None
    finite = all(math.isfinite(n) for n in (start, stop, step))
    return (start, stop, step) if finite else None


def _range(setting: str, start: float, stop: float, step: float) -> list[int | float]:
    """START to STOP (included) by STEP; whole numbers when all three are."""
    if step <= 0 or stop < start:
        raise ScenarioError([f"--set {setting}: need STEP > 0 and STOP >= START"])
    count = math.floor((stop - start) / step + 0.5) + 1
    if count > MAX_RUNS:  # before numpy makes them all
        raise ScenarioError([f"--set {setting}: {count:,} runs; a sweep makes at most "
                             f"{MAX_RUNS} (a coarser STEP, or fewer values)"])  # fmt: skip
    values = np.arange(start, stop + step / 2, step)
    as_int = all(float(v).is_integer() for v in (start, stop, step))
    return [int(v) if as_int else float(v) for v in values]


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


def _sweep_inputs(
    file: Path | str, runs: Sequence[str], fixed: Sequence[str], map_file: Path | None
) -> list[Path]:
    """Every value must make a valid scenario before anything runs; the files all the runs
    read together (which ``--overwrite`` may not delete)."""
    inputs: list[Path] = []
    for run in runs:
        loaded = load_scenario(file, overrides=[*fixed, run])
        inputs += input_files(loaded, map_source(loaded, map_file))
    return inputs


def run_folder(key: str, value: Any, number: int) -> str:
    """The folder of a run: ``<key>=<value as YAML>`` where that text is a plain word
    (``siting.budget=4``), else ``<key>-run<number>``: a list or a clock time made folders
    such as ``firms.0.fleet.0.shift=['08:00', '12:00']``, with quotes, spaces and brackets to
    escape in a shell, and colons no Windows folder may hold. ``sweep.json`` gives each
    run's value and its ``--set``."""
    text = as_yaml(value)
    return f"{key}={text}" if _PLAIN.fullmatch(text) else f"{key}-run{number}"


_PLAIN = re.compile(r"[A-Za-z0-9._+-]+")


def _point(value: Any, run: str, override: str, summary: dict[str, Any]) -> dict[str, Any]:
    """What sweep.json and the curves keep of one run (its folder, and its ``--set``)."""
    siting = summary.get("siting") or {}
    return {
        "value": value,
        "lockers": len(siting.get("opened", [])),
        "coverage": siting.get("coverage"),
        "cost": {
            plan: figures.get("cost") for plan, figures in (summary.get("plans") or {}).items()
        },
        "locker_cost": _locker_cost(siting),
        "run": run,
        "set": override,
        "checker": summary.get("checker"),  # each run's verdict: `scenario sweep` exits 1 on one
    }


def _locker_cost(siting: dict[str, Any]) -> dict[str, float | None]:
    """What the opened lockers cost to build: their ``candidates.cost`` each and, when the
    siting sizes them, their compartments (None: not sized). A siting-only sweep had nothing
    but ``"cost": {}``, the day's plans' cost, and an empty cost panel."""
    sizing = siting.get("sizing") or {}
    return {"fixed": siting.get("fixed_cost"), "compartments": sizing.get("compartment_cost")}


def _failed(value: Any, run: str, err: Exception) -> dict[str, Any]:
    """A run that failed, with its error, so the sweep goes on and keeps the others (a failure
    that depends on the map, as a budget above the candidate sites, is found only when run;
    the finished runs may have taken hours). An error that is not the scenario's (a bug) is
    logged with its traceback."""
    if isinstance(err, GongpeiError):
        log.error("%s failed: %s", run, err)
        return {"value": value, "run": run, "error": str(err)}
    log.exception("%s failed", run)
    return {"value": value, "run": run, "error": f"{type(err).__name__}: {err}"}


def _failures(outdir: Path | str, result: dict[str, Any]) -> ScenarioError:
    """The error a sweep ends with when some runs failed (its finished runs are in place)."""
    failed = result["failed"]
    done = len(result["points"])
    return ScenarioError(
        [
            f"{Path(outdir).resolve()}: {len(failed)} of {len(failed) + done} sweep runs failed "
            f"({', '.join(f['run'] for f in failed)}; sweep.json gives each error); "
            f"the {done} finished are kept there"
        ]
    )


class _OncePerSweep(logging.Filter):
    """Passes a warning the first time a sweep's runs raise it, prefixed with that run: the
    runs of a sweep raised the same warnings (the map's buildings, demand out of reach), each
    printed once per run (5 times in the README's sweep) without saying which run's it was."""

    def __init__(self) -> None:
        super().__init__()
        self.run = ""
        self.started: list[str] = []
        self.raised: dict[str, list[str]] = {}  # each warning: the runs that raised it, in order

    def start(self, run: str) -> None:
        """The warnings from now on are ``run``'s."""
        self.run = run
        self.started.append(run)

    def filter(self, record: logging.LogRecord) -> bool:
        if record.levelno != logging.WARNING:
            return True
        shown = getattr(record, "sweep_shown", None)  # the same record reaches every handler
        if shown is None:
            message = record.getMessage()
            runs = self.raised.setdefault(message, [])
            shown = not runs
            if self.run not in runs:
                runs.append(self.run)
            if shown:
                record.msg, record.args = f"{self.run}: {message}", ()
            record.sweep_shown = shown
        return shown

    def repeated(self) -> list[str]:
        """One line per warning that more than one run raised: which runs (or that all did)."""
        lines = []
        for message, runs in self.raised.items():
            if len(runs) < 2:
                continue
            every = "both runs" if len(runs) == 2 else f"all {len(runs)} runs"
            who = every if runs == self.started else _and(runs)
            head = message if len(message) <= 80 else message[:79] + "…"
            lines.append(f"{who} raised this warning, shown above once: {head}")
        return lines


def _and(names: Sequence[str]) -> str:
    return ", ".join(names[:-1]) + f" and {names[-1]}"


@contextlib.contextmanager
def _warnings_once() -> Iterator[_OncePerSweep]:
    """Within the block, each warning reaching the handlers of the root logger (the command's
    stderr) is shown once (`_OncePerSweep`); the runs sharing one are named at the end, so a
    warning that only some runs raise is told from one that all do. The caller says when
    each run starts (``start``)."""
    once = _OncePerSweep()
    handlers = list(logging.getLogger().handlers)
    for handler in handlers:
        handler.addFilter(once)
    try:
        yield once
    finally:
        for handler in handlers:
            handler.removeFilter(once)
        for line in once.repeated():
            log.warning("%s", line)


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
    """One run per value into ``OUTDIR/<key>=<value>/`` (``run_folder``), then ``sweep.json`` and
    ``sweep.png``; ``fixed`` overrides (``key=value``, as `scenario run --set`) hold in every
    run, so that one setting can be varied with others changed from the file.

    A run that fails is recorded in ``sweep.json`` (``failed``: value, run, error) and the
    sweep goes on; the finished runs are kept and a ScenarioError then names the failed values.
    When every run fails, nothing is kept. Ctrl-C stops the sweep but keeps the finished runs
    (the one it stopped is discarded), and a SweepInterrupted says so. A warning is logged
    once, for the first run raising it, and the runs that raised it again are named at the end
    (`_warnings_once`)."""
    key, values = sweep_values(setting)
    _check_fixed(key, fixed)
    runs = [
        (value, f"{key}={as_yaml(value)}", run_folder(key, value, number))
        for number, value in enumerate(values, start=1)
    ]
    inputs = _sweep_inputs(file, [override for _, override, _ in runs], fixed, map_file)
    points, failed, stopped = [], [], None
    with (
        staged_output(Path(outdir), overwrite=overwrite, inputs=inputs) as folder,
        _warnings_once() as warnings,
    ):
        for value, override, run in runs:
            if stopped is not None:
                break
            warnings.start(run)
            try:
                summary = run_scenario(
                    file,
                    folder / run,
                    map_file=map_file,
                    overrides=[*fixed, override],
                    quiet=quiet,
                    time_limit_s=time_limit_s,
                    coverage_curve=False,
                )
            except Exception as err:  # recorded and the sweep goes on: see _failed
                failed.append(_failed(value, run, err))
                continue
            except KeyboardInterrupt:  # hours of finished runs are not thrown away
                stopped = run
                continue
            points.append(_point(value, run, override, summary))
        if not points:
            if stopped is not None:
                raise SweepInterrupted([f"interrupted at {stopped}, before any run finished"])
            raise ScenarioError([f"{f['run']}: {f['error']}" for f in failed])
        result = {"parameter": key, "fixed": list(fixed), "points": points, "failed": failed}
        if stopped is not None:
            result["interrupted"] = stopped
        (folder / "sweep.json").write_text(json.dumps(result, indent=2))
        plots.sweep_curves(_plottable(points), key, folder / "sweep.png")
    if stopped is not None:
        done = len(points)
        kept = f"the {done} finished run{'s are' if done > 1 else ' is'} kept"
        raise SweepInterrupted([f"interrupted at {stopped}; {kept} in {Path(outdir).resolve()}"])
    if failed:
        raise _failures(outdir, result)
    return result
