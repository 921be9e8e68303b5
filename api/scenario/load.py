"""Read and validate a scenario file; every error names the file, the line and the field."""

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml
from pydantic import ValidationError

from api.scenario.errors import ScenarioError
from api.scenario.schema import Scenario
from api.scenario.yaml_lines import LineMap, Loc, dotted, load_yaml
from network.hints import close_name, did_you_mean
from network.model_keys import keys_at
from routing.pooling.day import MAX_ID_LENGTH, check_day_vehicles
from routing.yamlfile import load_strict


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
        lines = lines.with_override(_apply_override(data, setting), setting)
    try:
        spec = Scenario.model_validate(data).in_wgs84()
    except ValidationError as err:
        errors = sorted(err.errors(), key=lambda e: lines.line_of(tuple(e["loc"]))[0])
        raise ScenarioError([_describe(e, lines) for e in errors]) from None
    loaded = LoadedScenario(spec=spec, file=file, lines=lines)
    problems = _check_files(loaded) + _check_runnable(loaded)
    if problems:
        raise ScenarioError(problems)
    return loaded


def _apply_override(data: dict, setting: str) -> Loc:
    """Set ``dotted.key=value`` (value parsed as YAML) in the raw scenario data; returns the
    place set, so that errors there name the ``--set``, not a line of the file."""
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
    node[parts[-1]] = setting_value(setting, text)
    return tuple(parts)


def setting_value(setting: str, text: str) -> Any:
    """The value of a ``--set`` parsed as YAML; one that does not parse is the setting's error,
    not a traceback."""
    try:
        return load_strict(text)
    except yaml.YAMLError as err:
        reason = getattr(err, "problem", None) or str(err).splitlines()[0]
        raise ScenarioError([f"--set {setting}: the value is not valid YAML ({reason})"]) from None


def _describe(error: dict, lines: LineMap) -> str:
    loc = tuple(error["loc"])
    _, found = lines.line_of(loc)
    origin = lines.origin(loc)
    kind = error["type"]
    if kind == "extra_forbidden":
        known = keys_at(Scenario, loc[:-1])
        hint = did_you_mean(close_name(str(loc[-1]), known))
        if not hint and known:  # nothing close ('XL' among S, M, L): say what may go there
            hint = f" (known: {', '.join(known)})"
        return f"{origin}: {dotted(loc[:-1])}: unknown key '{loc[-1]}'{hint}"
    field = dotted(found) if kind == "missing" else dotted(found or loc)
    message = error["msg"].removeprefix("Value error, ")
    if kind == "missing":
        missing = loc[len(found) :]
        message = f"missing required key '{dotted(missing)}'"
    elif (
        "input" in error
        and not isinstance(error["input"], dict | list)
        and "(got" not in message
        # "not the text 'abc'" names it already; a number never does ("greater than 0")
        and not (isinstance(error["input"], str) and repr(error["input"]) in message)
    ):
        message += f" (got {error['input']!r})"
    return f"{origin}: {field}: {message}"


def _check_files(loaded: LoadedScenario) -> list[str]:
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
    return problems


def _check_runnable(loaded: LoadedScenario) -> list[str]:
    """What a run would refuse in the file itself, however well each key is formed: the parts
    that must go together (firms and centres), the day's vehicles, the budget against the
    lockers that stay open, somewhere to put lockers, demand that adds up to parcels, ids that
    repeat or grow too long."""
    spec, at = loaded.spec, loaded.lines.where
    problems = []
    vehicles = _day_vehicles(spec)
    if vehicles:
        problems.append(f"{at('firms')}: {vehicles}")
    if spec.firms and not spec.centres:
        problems.append(
            f"{at('centres')}: no shared centre: the firms' day is planned alone and "
            "pooled at a shared centre, so give at least one (or leave firms out to "
            "site lockers only)"
        )
    if not spec.firms and spec.centres:
        problems.append(
            f"{at('centres')}: shared centres but no firms: nothing to pool (add "
            "firms, or leave centres out to site lockers only)"
        )
    existing = len(spec.lockers.existing)
    if spec.siting.model != "set_cover" and spec.siting.budget < existing:
        problems.append(
            f"{at('siting', 'budget')}: budget {spec.siting.budget} is below the "
            f"{existing} existing lockers, which stay open and count in the budget "
            f"(give at least {existing})"
        )
    candidates = spec.lockers.candidates
    if not (existing or candidates.building_types or candidates.file or candidates.road_nodes):
        problems.append(
            f"{at('lockers', 'candidates')}: no candidate locker sites: give "
            "building_types, a file or road_nodes (or existing lockers)"
        )
    demand = spec.demand
    if demand.source == "buildings" and not any(demand.rates.values()):
        problems.append(f"{at('demand', 'rates')}: every rate is 0: no building gets parcels")
    if demand.source == "road_nodes" and max(demand.parcels_per_point) <= 0:
        problems.append(
            f"{at('demand', 'parcels_per_point')}: no point gets parcels (both ends are 0)"
        )
    for loc, ids in (
        (("lockers", "existing"), [lk.id for lk in spec.lockers.existing]),
        (("centres",), [c.id for c in spec.centres]),
    ):
        dupes = sorted({i for i in ids if ids.count(i) > 1})
        if dupes:
            problems.append(f"{at(*loc)}: ids repeat: {', '.join(dupes)}")
    return problems + _long_parcel_ids(loaded)


def _long_parcel_ids(loaded: LoadedScenario) -> list[str]:
    """Drawn parcels are named ``FIRM-N`` (``demand.draw_parcels``), and the day refuses a
    parcel id above ``MAX_ID_LENGTH``: a firm name within that bound could still make its
    parcels' ids too long, which the run found only after the map, the demand and the siting."""
    problems = []
    for i, firm in enumerate(loaded.spec.firms):
        if firm.parcels.count is None:
            continue
        suffix = f"-{firm.parcels.count}"  # the longest drawn parcel's part after the name
        if len(firm.name) + len(suffix) > MAX_ID_LENGTH:
            problems.append(
                f"{loaded.lines.where('firms', i, 'name')}: the name has {len(firm.name)} "
                f"characters, so its parcels' ids (NAME{suffix}) would be longer than the "
                f"day's {MAX_ID_LENGTH}; give at most {MAX_ID_LENGTH - len(suffix)}"
            )
    return problems


def _day_vehicles(spec: Scenario) -> str | None:
    """Why the run's day would refuse the fleets' vehicles all together (None: it would not).

    Each fleet entry's ``count`` is bounded by the schema, but the total only by the day the
    run builds (after the map, demand and siting have taken their time). The day's check is
    called here on the scenario's firms and centres, which hold their fleets' ``count`` under
    the same names, so validation refuses exactly what the run would, in the run's own words,
    at the line the run blames (``firms``).
    """
    try:
        check_day_vehicles([*spec.firms, *spec.centres])
    except ValueError as err:
        return str(err)
    return None
