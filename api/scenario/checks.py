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


def check_inputs(loaded: LoadedScenario, source: str | None) -> None:
    """Read every file the scenario names and check the map ``source`` the run will build
    (None: not known yet, as when ``--map FILE`` is still to come); raise every problem found."""
    spec, where = loaded.spec, loaded.lines.where
    problems: list[str] = []

    def attempt(read: Callable[..., Any], *args: Any) -> None:
        try:
            read(*args)
        except ScenarioError as err:
            problems.extend(err.problems)

    attempt(map_polygon, loaded)
    if spec.demand.source == "file":
        attempt(_demand_file, loaded)
    if spec.lockers.candidates.file is not None:
        path = loaded.path(spec.lockers.candidates.file, "lockers", "candidates", "file")
        attempt(sites.sites_from_file, path, spec.lockers, where("lockers", "candidates", "file"))
    for i, firm in enumerate(spec.firms):
        if firm.parcels.file is not None:
            path = loaded.path(firm.parcels.file, "firms", i, "parcels", "file")
            attempt(demand_mod.read_parcels_file, firm.name, path, firm.parcels,
                    where("firms", i, "parcels"))
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
