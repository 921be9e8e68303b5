"""Read and validate a scenario file; every error names the file, the line and the field."""

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml
from pydantic import ValidationError

from api.scenario.errors import ScenarioError
from api.scenario.schema import Scenario
from api.scenario.yaml_lines import LineMap, dotted, load_yaml


@dataclass(frozen=True)
class LoadedScenario:
    """A validated scenario, where it came from (relative paths resolve there) and its lines."""

    spec: Scenario
    file: Path
    lines: LineMap

    def path(self, relative: Path, *loc: str | int) -> Path:
        """A file the scenario names, resolved beside it; a missing one is an error at ``loc``."""
        path = relative if relative.is_absolute() else self.file.parent / relative
        if not path.is_file():
            raise ScenarioError([f"{self.lines.where(*loc)}: file not found: {path}"])
        return path

    def fail(self, message: str, *loc: str | int) -> ScenarioError:
        """An error at a place in the file (the caller raises it)."""
        return ScenarioError([f"{self.lines.where(*loc)}: {message}"])


def load_scenario(file: Path | str, *, overrides: Sequence[str] = ()) -> LoadedScenario:
    """Parse and validate ``file``; raises ScenarioError listing every problem with its line.

    ``overrides`` are ``dotted.key=value`` settings (``siting.budget=8``,
    ``firms.0.parcels.count=50``) applied before validation, as ``--set`` and sweeps give them.
    """
    file = Path(file)
    data, lines = load_yaml(file)
    if not isinstance(data, dict):
        raise ScenarioError([f"{file}:1: a scenario is a mapping of keys (name, map, firms, ...)"])
    for setting in overrides:
        _apply_override(data, setting)
    try:
        spec = Scenario.model_validate(data)
    except ValidationError as err:
        errors = sorted(err.errors(), key=lambda e: lines.line_of(tuple(e["loc"]))[0])
        raise ScenarioError([_describe(e, lines) for e in errors]) from None
    loaded = LoadedScenario(spec=spec, file=file, lines=lines)
    _check_files(loaded)
    return loaded


def _apply_override(data: dict, setting: str) -> None:
    """Set ``dotted.key=value`` (value parsed as YAML) in the raw scenario data."""
    key, sep, text = setting.partition("=")
    parts = [int(p) if p.isdigit() else p for p in key.strip().split(".") if p]
    if not sep or not parts:
        raise ScenarioError([f"--set {setting}: expected dotted.key=value"])
    node: Any = data
    for depth, part in enumerate(parts[:-1]):
        try:
            node = node[part]
        except (KeyError, IndexError, TypeError):
            if isinstance(node, dict) and isinstance(part, str):
                node = node.setdefault(part, {})
                continue
            at = ".".join(map(str, parts[: depth + 1]))
            raise ScenarioError([f"--set {setting}: '{at}' is not in the scenario"]) from None
    if isinstance(node, list) and not (isinstance(parts[-1], int) and parts[-1] < len(node)):
        raise ScenarioError([f"--set {setting}: '{key}' is not an item of the list"])
    if not isinstance(node, dict | list):
        raise ScenarioError([f"--set {setting}: '{key}' does not name a setting"])
    node[parts[-1]] = yaml.safe_load(text)


def _describe(error: dict, lines: LineMap) -> str:
    line, found = lines.line_of(tuple(error["loc"]))
    loc = tuple(error["loc"])
    kind = error["type"]
    if kind == "extra_forbidden":
        return f"{lines.file}:{line}: {dotted(loc[:-1])}: unknown key '{loc[-1]}'"
    field = dotted(found) if kind == "missing" else dotted(found or loc)
    message = error["msg"].removeprefix("Value error, ")
    if kind == "missing":
        missing = loc[len(found):]
        message = f"missing required key '{dotted(missing)}'"
    elif "input" in error and not isinstance(error["input"], dict | list) and "(got" not in message:
        message += f" (got {error['input']!r})"
    return f"{lines.file}:{line}: {field}: {message}"


def _check_files(loaded: LoadedScenario) -> None:
    """Every file the scenario names must exist (the map file may come from ``--map``)."""
    spec = loaded.spec
    named: list[tuple[Path, tuple]] = []
    polygon = spec.map.polygon
    if polygon is not None and not isinstance(polygon, list):
        named.append((polygon.file, ("map", "polygon", "file")))
    if spec.demand.file is not None:
        named.append((spec.demand.file, ("demand", "file")))
    if spec.lockers.candidates.file is not None:
        named.append((spec.lockers.candidates.file, ("lockers", "candidates", "file")))
    for i, firm in enumerate(spec.firms):
        if firm.parcels.file is not None:
            named.append((firm.parcels.file, ("firms", i, "parcels", "file")))
    problems = []
    for relative, loc in named:
        try:
            loaded.path(relative, *loc)
        except ScenarioError as err:
            problems += err.problems
    if problems:
        raise ScenarioError(problems)
