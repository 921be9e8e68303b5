"""What a run would refuse in the files a scenario names and in its map source, found before any
road graph is built: ``scenario validate`` and ``scenario run`` both check it first.

Only what depends on the map's contents (its roads and buildings) is left to the run.
"""

from collections.abc import Callable
from pathlib import Path
from typing import Any

from api.scenario import demand as demand_mod
from api.scenario import sites
from api.scenario.errors import ScenarioError
from api.scenario.load import LoadedScenario
from api.scenario.mapdata import map_polygon, map_source
from api.scenario.schema import Firm, LockersSpec
from routing.pooling.day import MAX_ID_LENGTH


def check_inputs(loaded: LoadedScenario, source: str | None) -> None:
    """Read every file the scenario names and check the map ``source`` the run will build
    (None: not known yet, as when ``--map FILE`` is still to come); raise every problem found."""
    spec, where = loaded.spec, loaded.lines.where
    problems: list[str] = []

    def attempt(read: Callable[..., Any], *args: Any) -> Any:
        try:
            return read(*args)
        except ScenarioError as err:
            problems.extend(err.problems)
            return None

    attempt(map_polygon, loaded)
    if spec.demand.source == "file":
        attempt(_demand_file, loaded)
    from_file: list[sites.Site] | None = []
    if spec.lockers.candidates.file is not None:
        path = loaded.path(spec.lockers.candidates.file, "lockers", "candidates", "file")
        from_file = attempt(_candidates_file, path, spec.lockers,
                            where("lockers", "candidates", "file"))
    if from_file is not None:
        problems += _budget_problems(loaded, from_file)
    day_ids: dict[int, list[tuple[str, str]]] = {}
    for i, firm in enumerate(spec.firms):
        if firm.parcels.file is not None:
            path = loaded.path(firm.parcels.file, "firms", i, "parcels", "file")
            found = attempt(_parcels_file, firm, path, where("firms", i, "parcels"))
            if found is not None:
                day_ids[i] = [(p.id, f"parcel '{p.demand_id}'") for p in found]
        else:
            count = firm.parcels.count or 0
            day_ids[i] = [(demand_mod.day_parcel_id(firm.name, str(k)), f"parcel {k} (drawn)")
                          for k in range(1, count + 1)]
    problems += _parcel_ids_apart(loaded, day_ids)
    if source is not None:
        problems += _map_problems(loaded, source)
    if problems:
        raise ScenarioError(problems)


def run_source(loaded: LoadedScenario, map_file: Path | None) -> str | None:
    """The map source a run would build, or None when the scenario waits for ``--map FILE``."""
    if map_file is None and loaded.spec.map.source is None:
        return None
    return map_source(loaded, map_file)


def _demand_file(loaded: LoadedScenario) -> None:
    spec = loaded.spec.demand
    path = loaded.path(spec.file, "demand", "file")
    points = demand_mod.read_demand_file(path, spec.size_mix, loaded.lines.where("demand", "file"))
    if float(points.parcels.sum()) <= 0:
        raise loaded.fail(f"the demand in {path.name} adds up to zero parcels a day",
                          "demand", "file")


def _candidates_file(path: Path, lockers: LockersSpec, where: str) -> list[sites.Site]:
    """The candidate sites, whose ids become the day's locker ids once opened: the day refuses
    one above ``MAX_ID_LENGTH``, which the run found only after the map and the siting."""
    found = sites.sites_from_file(path, lockers, where)
    long = next((site.id for site in found if len(site.id) > MAX_ID_LENGTH), None)
    if long is not None:
        raise ScenarioError([f"{where}: {path.name}: site '{_clip(long)}': the id has "
                             f"{len(long)} characters, more than the day's {MAX_ID_LENGTH}"])
    return found


def _budget_problems(loaded: LoadedScenario, from_file: list[sites.Site]) -> list[str]:
    """A ``siting.budget`` above the most candidate sites the scenario can give (its standing
    lockers, its file's rows, its road nodes, at most ``max_sites`` buildings) or below its
    standing lockers, which the run refused only after the map (a money amount typed into the
    count of lockers read "model 'maxcover': p=100000 is larger than the 60 candidate sites")."""
    lockers, siting = loaded.spec.lockers, loaded.spec.siting
    candidates = lockers.candidates
    guessed = candidates.road_nodes + (candidates.max_sites if candidates.building_types else 0)
    existing = len(lockers.existing) + sum(site.existing for site in from_file)
    problem = sites.budget_problem(siting, len(lockers.existing) + len(from_file) + guessed,
                                   existing, at_most="at most " if guessed else "")
    return [] if problem is None else [f"{loaded.lines.where('siting', 'budget')}: {problem}"]


def _parcels_file(firm: Firm, path: Path, where: str) -> list[demand_mod.DayParcel]:
    """The firm's parcels, whose day ids are ``FIRM-ID``: the day refuses one above
    ``MAX_ID_LENGTH``, which the run found only after the map, the demand and the siting."""
    parcels = demand_mod.read_parcels_file(firm.name, path, firm.parcels, where)
    long = next((p for p in parcels if len(p.id) > MAX_ID_LENGTH), None)
    if long is not None:
        raise ScenarioError([f"{where}: {path.name}: parcel '{_clip(long.demand_id)}': its id "
                             f"in the day (FIRM-ID) has {len(long.id)} characters, more than "
                             f"the day's {MAX_ID_LENGTH}"])
    return parcels


def _parcel_ids_apart(loaded: LoadedScenario,
                      day_ids: dict[int, list[tuple[str, str]]]) -> list[str]:
    """Two firms' parcels that would be one in the day (``FIRM-ID``: firm "a"'s "b-1" and firm
    "a-b"'s "1"), which the day refuses (it names a parcel by its id alone), found before any
    map is built: ``day_ids`` holds, per firm (by index), each parcel's day id and name."""
    seen: dict[str, tuple[int, str]] = {}
    firms = loaded.spec.firms
    for i, parcels in day_ids.items():
        for day_id, name in parcels:
            j, other = seen.setdefault(day_id, (i, name))
            if j != i:
                return [f"{loaded.lines.where('firms', i, 'parcels')}: {name} of firm "
                        f"'{firms[i].name}' and {other} of firm '{firms[j].name}' are both "
                        f"'{day_id}' in the day, which names each parcel FIRM-ID: rename the "
                        "parcel or the firm"]
    return []


def _clip(text: str) -> str:
    """A long id's start, enough to find its row."""
    return text if len(text) <= 40 else f"{text[:40]}..."


def _map_problems(loaded: LoadedScenario, source: str) -> list[str]:
    """A synthetic city must be ``synthetic:N``, and it has no buildings to take demand or
    candidate sites from."""
    if not source.startswith("synthetic:"):
        return []
    spec, where = loaded.spec, loaded.lines.where
    if not source.removeprefix("synthetic:").isdigit():
        return [f"{where('map', 'source')}: expected synthetic:N with N a whole number "
                f"(got '{source}')"]
    problems = []
    if spec.demand.source == "buildings":
        problems.append(f"{where('demand', 'source')}: a synthetic city has no buildings: use "
                        "demand source road_nodes or a file")
    if spec.lockers.candidates.building_types:
        problems.append(f"{where('lockers', 'candidates', 'building_types')}: a synthetic city "
                        "has no buildings: use candidates road_nodes or a file")
    return problems
