"""Candidate locker sites of a scenario: existing lockers, sites from a file, road nodes."""

import dataclasses
import heapq
import logging
import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import networkx as nx
import numpy as np

from api.scenario.demand import DemandPoints
from api.scenario.errors import ScenarioError
from api.scenario.schema import (
    SIZES,
    CandidatesSpec,
    Compartments,
    LockersSpec,
    Place,
    SitingSpec,
)
from network.datum import DEFAULT_DATUM, to_wgs84
from network.errors import GongpeiError

log = logging.getLogger("gongpei.scenario")
MAX_SNAP_M = 500.0  # a building centroid this far from any footpath is not on the map
#: The scenario's siting models by routing.siting's names for them.
SITING_KINDS = {"max_coverage": "maxcover", "set_cover": "setcover", "p_median": "pmedian"}


@dataclass(frozen=True)
class Site:
    """A place a locker stands or may stand, with its compartments and building cost, and the
    parcels a day it takes where its file row says (None: its compartments decide)."""

    id: str
    lat: float
    lon: float
    compartments: Compartments
    cost: float
    existing: bool = False
    kind: str = "candidate"
    capacity: float | None = None
    name: str | None = None


@dataclass(frozen=True)
class OpenLocker:
    """A locker the day may drop parcels at (existing or sited) and its free compartments."""

    id: str
    lat: float
    lon: float
    free: dict[str, int]


def sites_from_file(
    path: Path, spec: LockersSpec, where: str, *, datum: str = DEFAULT_DATUM
) -> list[Site]:
    """Candidate sites from CSV ``id,lat,lon[,fixed_cost,capacity,existing,compartments_S,
    compartments_M,compartments_L]`` or GeoJSON points, read and checked by the siting's own
    reader (``routing.siting.points``), so a scenario and ``gongpei site`` read a file alike:
    each row's own values, and ``candidates.cost`` and ``.compartments`` where it gives none.
    The coordinates are in the scenario's ``datum``, kept in WGS 84."""
    from routing.siting.points import CANDIDATE_FIELDS, read_records

    try:
        found = [_file_site(rec, spec.candidates) for rec in read_records(path, CANDIDATE_FIELDS)]
    except GongpeiError as err:
        raise ScenarioError([f"{where}: cannot read sites from {path}: {err}"]) from None
    return [_in_wgs84(site, datum) for site in found]


def _in_wgs84(site: Site, datum: str) -> Site:
    lat, lon = to_wgs84(datum, site.lat, site.lon)
    return dataclasses.replace(site, lat=lat, lon=lon)


def _file_site(record: Mapping[str, Any], spec: CandidatesSpec) -> Site:
    """One row of a candidates file: a standing locker (``existing``) with its compartments
    costs nothing more unless its row says, like ``lockers.existing``; a new one costs
    ``candidates.cost`` and gets ``candidates.compartments`` unless its row says otherwise."""
    from routing.siting.points import candidate_from_record

    site = candidate_from_record(record)
    _check_compartments(site, record["_where"])
    capacity = _given(record, "capacity", site.capacity)
    if site.existing:
        compartments = Compartments(**dict(zip(SIZES, site.compartments, strict=True)))
        return Site(site.id, site.lat, site.lon, compartments, site.fixed_cost, existing=True,
                    kind="existing", capacity=capacity)
    cost = _given(record, "fixed_cost", site.fixed_cost)
    return Site(site.id, site.lat, site.lon, spec.compartments,
                spec.cost if cost is None else cost, kind="file", capacity=capacity)


def _check_compartments(site: Any, where: str) -> None:
    """A standing locker must give its compartments, as ``lockers.existing`` must: the scenario
    has no standing locker of unknown size. A new locker's are the scenario's (or the sizing's),
    so a row giving them is refused rather than ignored."""
    if site.existing and site.compartments is None:
        raise GongpeiError(
            f"{where}: standing locker '{site.id}' needs its compartments_S, compartments_M "
            "and compartments_L (as lockers.existing gives them)"
        )
    if not site.existing and site.compartments is not None:
        raise GongpeiError(
            f"{where}: compartments_S/M/L are for a standing locker (existing true); new "
            f"locker '{site.id}' gets lockers.candidates.compartments (or the sizing's)"
        )


def _given(record: Mapping[str, Any], field: str, value: float) -> float | None:
    """``value`` read for ``field`` if the row gave it, else None (the siting reader fills in
    its own default, which is not the scenario's)."""
    return value if field in record else None


#: The demand points each site reaches, or None for a site that cannot be placed on the walk
#: graph (`walk_reach`).
Near = Callable[[list["Site"]], list[np.ndarray | None]]


def sites_at_buildings(
    buildings: Any, spec: LockersSpec, demand: DemandPoints, near: Near,
    others: Sequence[Site] = (),
) -> list[Site]:
    """Buildings of the candidate types, at each building's main entrance where one is mapped,
    else its centroid (``network.buildings``' ``site_lat``/``site_lon``): at most ``max_sites``
    of them, spread over the demand (``spread_order`` on ``near``, the demand points each site
    reaches: the run's walking reach within ``siting.radius_m``), starting with the demand the
    ``others`` (the scenario's sites found before: standing lockers, a file's, road nodes)
    reach as already covered, so buildings go first where no site stands (the spread once
    ignored them, and spent candidates around demand a standing locker serves). The ``max_sites``
    with the most parcels within 200 m as the crow flies stood in one block of Xinjiekou, and
    1,153 of its 1,277 demand points had no candidate in reach. Ids are ``gongpei site``'s
    (``site-`` and the OSM reference), so a building is one id in both. An underground footprint
    (a metro station) is a candidate only where a door is mapped on it
    (``network.buildings.at_street_level``: its centroid lies under a street). A building
    ``near`` cannot place on the walk graph is left out, with a warning: every building's reach
    is asked, and one far out in a park or by a footway dropped as unconnected stopped the
    run where only the chosen ones had been placed before."""
    from network.buildings import at_street_level

    kinds = set(spec.candidates.building_types)
    chosen = buildings[buildings["building"].isin(kinds) & at_street_level(buildings)]
    if chosen.empty:
        return []
    every = [Site(f"site-b{ref}", float(lat), float(lon), spec.candidates.compartments,
                  spec.candidates.cost, kind=f"building ({kind})", name=_text(name))
             for ref, lat, lon, kind, name in zip(
                 chosen["osm_ref"], chosen["site_lat"], chosen["site_lon"], chosen["building"],
                 chosen["name"], strict=True)]
    reach = near([*others, *every])  # one call: the walk graph snaps and measures once
    covered = np.zeros(len(demand.parcels), dtype=bool)
    for found in reach[: len(others)]:
        if found is not None:
            covered[found] = True
    reach = reach[len(others):]
    placed = [k for k, found in enumerate(reach) if found is not None]
    if len(placed) < len(every):
        log.warning(
            "lockers.candidates: %d of %d candidate buildings cannot be placed on the walk "
            "graph (more than %g m from a footway, or by one dropped as unconnected): left out",
            len(every) - len(placed), len(every), MAX_SNAP_M,
        )  # fmt: skip
    reached = [found for found in reach if found is not None]
    order = spread_order(reached, demand.parcels, spec.candidates.max_sites, covered)
    return [every[placed[k]] for k in order]


class WalkReach:
    """``sites_at_buildings``' ``near``: the demand points each site reaches on foot within the
    radius, door to door, as the siting will measure them (``siting_instance``); None for a
    site the walk graph cannot place (``network.snap.PointsOffMap``). ``measured`` keeps the
    siting instance of its last call (the sites it placed): the siting's sites are among them
    (standing lockers, a file's rows, road nodes and the buildings chosen), and
    ``siting_instance`` takes their columns from it rather than walk each distance again."""

    def __init__(
        self, demand: DemandPoints, walk: nx.MultiDiGraph, spec: SitingSpec, name: str
    ) -> None:
        self.demand, self.walk, self.spec, self.name = demand, walk, spec, name
        self.measured: Any = None

    def __call__(self, found: list[Site]) -> list[np.ndarray | None]:
        from network.snap import PointsOffMap, snap_points

        try:
            snap_points(self.walk, [(s.lat, s.lon) for s in found], max_snap_m=MAX_SNAP_M)
            off: dict[int, str] = {}
        except PointsOffMap as err:
            off = err.reasons
        on = [s for k, s in enumerate(found) if k not in off]
        if not on:
            return [None] * len(found)
        self.measured = siting_instance(self.demand, on, self.walk, self.spec, self.name)
        reach = self.measured.reach.tocsc()
        columns = iter(np.split(reach.indices, reach.indptr[1:-1]))
        return [None if k in off else next(columns) for k in range(len(found))]


def walk_reach(
    demand: DemandPoints, walk: nx.MultiDiGraph, spec: SitingSpec, name: str
) -> WalkReach:
    """``sites_at_buildings``' ``near`` on the run's walk graph (``WalkReach``)."""
    return WalkReach(demand, walk, spec, name)


def spread_order(near: list[np.ndarray], parcels: np.ndarray, count: int,
                 covered: np.ndarray | None = None) -> list[int]:
    """Up to ``count`` places, each the one with the most parcels near it (``near``: demand point
    indices per place) that no place taken before it has near it (greedy maximal covering, lazy:
    a place's gain only falls as others are taken); the first pass counts the demand points
    ``covered`` (a mask: near sites that stand anyway) as near one taken. Once every parcel near
    any place is near a taken one, the count starts again among the rest, from nothing covered,
    so a larger ``count`` adds second choices for the busiest blocks; places with no parcels
    near them come last, in their order."""
    left = np.ones(len(near), dtype=bool)
    order: list[int] = []
    uncovered = np.ones(len(parcels), dtype=bool) if covered is None else ~covered
    while len(order) < count:
        taken = _one_round(near, parcels, left, count - len(order), uncovered)
        if not taken and uncovered.all():
            break
        order += taken
        left[taken] = False
        uncovered = np.ones(len(parcels), dtype=bool)
    return order + [int(k) for k in np.flatnonzero(left)[: count - len(order)]]


def _one_round(near: list[np.ndarray], parcels: np.ndarray, left: np.ndarray,
               count: int, uncovered: np.ndarray) -> list[int]:
    """One pass of ``spread_order`` among the places still ``left``: up to ``count`` places
    while one adds parcels ``uncovered`` (a mask, left as given) and not yet near a place of
    this pass."""
    uncovered = uncovered.copy()
    heap = [(-float(parcels[near[k]].sum()), int(k)) for k in np.flatnonzero(left)]
    heapq.heapify(heap)
    taken: list[int] = []
    while heap and len(taken) < count:
        _, k = heapq.heappop(heap)
        gain = float(parcels[near[k]][uncovered[near[k]]].sum())
        if heap and gain < -heap[0][0]:  # stale: another place may now gain more
            heapq.heappush(heap, (-gain, k))
            continue
        if gain <= 0:  # the most any place still adds
            break
        taken.append(k)
        uncovered[near[k]] = False
    return taken


def _text(value: Any) -> str | None:
    """An OSM tag's text, None where the building has none (pandas gives NaN or None)."""
    return value if isinstance(value, str) and value else None


def budget_problem(spec: SitingSpec, candidates: int, existing: int,
                   at_most: str = "") -> str | None:
    """What is wrong with ``siting.budget`` against ``candidates`` sites, ``existing`` of them
    standing (which stay open and count in it), or None; set cover opens what it needs.
    ``at_most`` says why the count is only an upper bound (``scenario validate``, before the
    map's buildings are read)."""
    if spec.model == "set_cover":
        return None
    if spec.budget > candidates:
        return (f"budget {spec.budget} lockers is more than the {at_most}{candidates} candidate "
                "sites (siting.budget counts lockers, not money)")
    if spec.budget < existing:
        return (f"budget {spec.budget} lockers is below the {existing} standing lockers "
                "(lockers.existing, and existing rows of the candidates file), which stay open "
                "and count in it")
    return None


#: routing.siting's words for what the scenario names otherwise, in its messages.
_LIBRARY_WORDS = [
    *((f"model '{lib}'", f"siting.model '{own}'") for own, lib in SITING_KINDS.items()),
    ("p=", "siting.budget="),
]


def in_scenario_words(message: str) -> str:
    """A siting library message with its model names and ``p`` as the scenario writes them
    (``siting.model 'max_coverage'``, ``siting.budget=``)."""
    for theirs, ours in _LIBRARY_WORDS:
        message = message.replace(theirs, ours)
    return message


def share_words(share: float) -> str:
    """A share of the parcels (0-1) as a per cent to one decimal, one under 0.05 % as "under
    0.1 %": printed as "0.0 %" it read as none at all (the CLI, the stage note and the report
    say it alike)."""
    percent = 100 * share
    return f"{percent:.1f} %" if percent >= 0.05 or percent == 0 else "under 0.1 %"


def out_of_reach_text(far: dict[str, float], radius_m: float) -> str:
    """``demand_out_of_reach`` in words, for the CLI and the stage note."""
    shown = share_words(far["share"])
    return (f"{far['points']:,} of {far['of_points']:,} demand points ({shown} of the parcels) "
            f"have no candidate site within {radius_m:g} m walk: no locker can serve them "
            "(more candidates: lockers.candidates.max_sites, or a file)")


def demand_out_of_reach(inst: Any) -> dict[str, float]:
    """Demand points no candidate site reaches within the radius, and their share of the
    parcels: no siting can serve them, whatever its budget (more or other candidates can)."""
    alone = np.diff(inst.reach.indptr) == 0
    total = float(inst.weight.sum())
    return {"points": int(alone.sum()), "of_points": int(alone.size),
            "parcels": float(inst.weight[alone].sum()),
            "share": float(inst.weight[alone].sum()) / total if total else 0.0}


def sites_at_road_nodes(graph: nx.MultiDiGraph, spec: LockersSpec, seed: int) -> list[Site]:
    """``spec.candidates.road_nodes`` road nodes drawn with ``seed`` (maps without buildings)."""
    nodes = sorted(graph.nodes)
    count = min(spec.candidates.road_nodes, len(nodes))
    picks = np.random.default_rng(seed + 1).choice(len(nodes), size=count, replace=False)
    return [Site(f"site-{nodes[i]}", graph.nodes[nodes[i]]["y"], graph.nodes[nodes[i]]["x"],
                 spec.candidates.compartments, spec.candidates.cost, kind="road node")
            for i in picks]


def existing_sites(spec: LockersSpec, place: Callable[[Place], tuple[float, float]]) -> list[Site]:
    """The lockers already standing: they stay open and cost nothing more."""
    return [Site(lk.id, *place(lk.at), lk.compartments, 0.0, existing=True, kind="existing")
            for lk in spec.existing]


def siting_instance(demand: DemandPoints, sites: list[Site], walk: nx.MultiDiGraph,
                    spec: SitingSpec, name: str, *, measured: Any = None) -> Any:
    """The routing.siting instance: parcels a day at each demand point, walking distances on the
    walk graph for the pairs within the radius, each site's cost and daily capacity, and the
    compartments of the lockers already standing (which a sizing keeps as they are). Where
    ``measured`` (``WalkReach.measured``, the same run's) holds every one of ``sites``, their
    columns of it: the candidate spread walked their distances already (on Xinjiekou, a
    40-row file and 80 of 1,240 buildings: the second walk was 0.03 s of a 0.75 s stage)."""
    if measured is not None:
        at = {site_id: j for j, site_id in enumerate(measured.site_ids)}
        if all(s.id in at for s in sites):
            return measured.with_sites(np.array([at[s.id] for s in sites], dtype=np.int64))
    from routing.siting.points import Candidate, DemandPoint, instance_from_points

    points = [DemandPoint(i, float(lat), float(lon), float(p), tuple(float(v) for v in mix))
              for i, lat, lon, p, mix in zip(demand.ids, demand.lat, demand.lon, demand.parcels,
                                             demand.size_mix, strict=True)]
    candidates = [
        Candidate(s.id, s.lat, s.lon, fixed_cost=s.cost, existing=s.existing,
                  capacity=_capacity(s, spec),
                  compartments=tuple(s.compartments.model_dump().values()) if s.existing
                  else None)
        for s in sites
    ]
    return instance_from_points(points, candidates, radius_m=spec.radius_m, graph=walk,
                                max_snap_m=MAX_SNAP_M, name=name)


def _capacity(site: Site, spec: SitingSpec) -> float:
    """Parcels a day a site takes: its file row's capacity, else its compartments turned over
    every ``dwell_days``. Unlimited when not capacitated, and when the siting sizes lockers (it
    then decides a new locker's compartments and holds an existing one's as they stand, size by
    size) unless the row gives a capacity, which then holds as well, as under ``gongpei site``."""
    if not spec.is_capacitated:
        return math.inf
    if site.capacity is not None:
        return site.capacity
    if spec.sizing is not None:
        return math.inf
    return sum(site.compartments.model_dump().values()) / spec.dwell_days


def sizing_model(spec: SitingSpec) -> Any:
    """The ``routing.siting`` Sizing of the spec (None without ``sizing``): the library's default
    compartments with the costs the scenario gives, turned over every ``dwell_days``."""
    if spec.sizing is None:
        return None
    from routing.siting.model import DEFAULT_COMPARTMENTS, Sizing

    costs = spec.sizing.costs.model_dump()
    sizes = tuple(c if costs[c.name] is None else dataclasses.replace(c, cost=costs[c.name])
                  for c in DEFAULT_COMPARTMENTS)
    return Sizing(compartments=sizes, dwell_days=spec.dwell_days,
                  max_compartments=spec.sizing.max_compartments)


def site_compartments(plan: Any, sites: list[Site]) -> list[dict[str, int]]:
    """The compartments each site has in this plan: the siting's sizes (an existing locker's own
    among them), or without sizing the site's own (unsized candidates the spec's)."""
    if plan.sizes is None:
        return [s.compartments.model_dump() for s in sites]
    return [dict(zip(SIZES, (int(v) for v in row), strict=True)) for row in plan.sizes]


def siting_summary(plan: Any, sites: list[Site], spec: SitingSpec,
                   curve: list[dict[str, float]]) -> dict[str, Any]:
    """Key figures of the chosen lockers: coverage, walking distances, proof, the curve, and each
    locker's load against its compartments (with ``sizing``, those to build and their cost)."""
    head = plan.summary()
    inst = plan.instance
    keep = plan.frac > 1e-9
    rows, cols = plan.rows[keep], plan.cols[keep]
    walk = np.asarray(inst.reach[rows, cols]).ravel()
    parcels = inst.weight[rows] * plan.frac[keep]
    prices = _prices(plan)
    chosen = opened_rows(plan, sites, spec)
    used = [row["utilisation"] for row in chosen if row["utilisation"] is not None]
    return {
        "status": "done", "model": spec.model, "method": head["method"],
        "radius_m": spec.radius_m, "budget": spec.budget, "capacitated": spec.is_capacitated,
        "candidates": len(sites),
        "opened": [sites[j].id for j in np.flatnonzero(plan.is_open)],
        "parcels_per_day": head["parcels"], "served_parcels": head["served_parcels"],
        "coverage": head["coverage"], "objective": head["objective"], "gap": head["gap"],
        "optimal": head["optimal"], "seconds": head["seconds"],
        "walk_m_mean": _weighted_quantile(walk, parcels, None),
        "walk_m_p90": _weighted_quantile(walk, parcels, 0.9),
        "mean_utilisation": round(sum(used) / len(used), 3)
        if chosen and len(used) == len(chosen) else None,
        "lockers": chosen,
        "sizing": None if prices is None else _sizing_totals(chosen, spec, prices),
        "uncoverable_points": head["uncoverable_points"],
        "out_of_reach": demand_out_of_reach(inst),
        "fixed_cost": float(inst.fixed_cost[plan.is_open].sum()),
        "curve": curve,
    }


def _prices(plan: Any) -> dict[str, float] | None:
    """What one compartment of each size costs when the plan sizes lockers (else None)."""
    if plan.model.sizing is None:
        return None
    return dict(zip(SIZES, (float(c.cost) for c in plan.model.sizing.compartments), strict=True))


def opened_rows(plan: Any, sites: list[Site], spec: SitingSpec) -> list[dict[str, Any]]:
    """One row per opened locker (``_locker_row``), as the summary and the lockers layer give."""
    compartments = site_compartments(plan, sites)
    sized = _prices(plan) is not None
    cost = plan.compartment_cost  # nothing at an existing locker: its compartments stand
    return [_locker_row(sites[j], compartments[j], float(plan.load[j]), spec,
                        float(cost[j]) if sized else None)
            for j in np.flatnonzero(plan.is_open)]


def _locker_row(site: Site, compartments: dict[str, int], load: float, spec: SitingSpec,
                cost: float | None) -> dict[str, Any]:
    """One opened locker: its load, and capacity as its compartments turned over every
    ``dwell_days`` (the siting's own rule, so the figures can be checked by hand); when sized
    (``cost`` given), the compartments to build (none at an existing locker) and their cost."""
    capacity = _daily_capacity(site, compartments, spec)
    row = {
        "id": site.id, "name": site.name, "lat": round(site.lat, 6), "lon": round(site.lon, 6),
        "kind": site.kind, "parcels_per_day": round(load, 1),
        "capacity_per_day": None if capacity is None else round(capacity, 1),
        "utilisation": round(load / capacity, 3) if capacity else None,
        "compartments": compartments,
    }
    if cost is not None:
        row["build"] = dict.fromkeys(SIZES, 0) if site.existing else compartments
        row["compartment_cost"] = cost
    return row


def _daily_capacity(site: Site, compartments: dict[str, int], spec: SitingSpec) -> float | None:
    """An opened locker's parcels a day as the siting held it (``_capacity``): its row's
    capacity, with a sizing also no more than its compartments turn over (None: uncapacitated)."""
    if not spec.is_capacitated:
        return None
    turnover = sum(compartments.values()) / spec.dwell_days
    if site.capacity is None:
        return turnover
    return site.capacity if spec.sizing is None else min(site.capacity, turnover)


def _sizing_totals(chosen: list[dict[str, Any]], spec: SitingSpec,
                   prices: dict[str, float]) -> dict[str, Any]:
    """The sizing settings and what all opened lockers build, by size and in money."""
    return {
        "max_compartments": spec.sizing.max_compartments, "dwell_days": spec.dwell_days,
        "costs": prices,
        "build": {k: sum(row["build"][k] for row in chosen) for k in SIZES},
        "compartment_cost": sum(row["compartment_cost"] for row in chosen),
    }


def siting_layers(plan: Any, sites: list[Site], spec: SitingSpec) -> dict[str, list[dict]]:
    """Lockers (candidates, existing, chosen) and catchment lines (`SitingSolution.to_layers`:
    one geometry type a layer, as Shapefiles need). A locker's figures are flat
    numbers, as GIS tools read them (compartments as ``"S 72 / M 36 / L 12"`` text could be
    neither summed nor styled): compartments S, M, L (null at a candidate whose sizing is decided
    only when it is chosen), and when chosen its parcels a day, capacity, utilisation and costs,
    as in the summary's ``lockers``."""
    compartments = site_compartments(plan, sites)
    rows = dict(zip(np.flatnonzero(plan.is_open).tolist(), opened_rows(plan, sites, spec),
                    strict=True))
    lockers = []
    for j, site in enumerate(sites):
        row = rows.get(j, {})
        known = plan.is_open[j] or site.existing or plan.sizes is None
        props = {"id": site.id, "name": site.name, "chosen": bool(plan.is_open[j]),
                 "status": site.kind,
                 **{size: compartments[j][size] if known else None for size in SIZES},
                 "parcels": row.get("parcels_per_day"), "capacity": row.get("capacity_per_day"),
                 "utilisation": row.get("utilisation"), "fixed_cost": site.cost,
                 "compartment_cost": row.get("compartment_cost")}
        lockers.append({"type": "Feature", "properties": props, "geometry": {
            "type": "Point", "coordinates": [round(site.lon, 6), round(site.lat, 6)]}})
    return {"lockers": lockers, "catchments": plan.to_layers()["catchments"]["features"]}


def _weighted_quantile(values: np.ndarray, weights: np.ndarray, q: float | None) -> float | None:
    """Weighted mean (q None) or weighted quantile q of values."""
    if values.size == 0 or weights.sum() <= 0:
        return None
    if q is None:
        return float(np.average(values, weights=weights))
    order = np.argsort(values)
    cumulative = np.cumsum(weights[order]) / weights.sum()
    return float(values[order][np.searchsorted(cumulative, q)])
