"""Candidate locker sites of a scenario: existing lockers, sites from a file, road nodes."""

import dataclasses
import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import networkx as nx
import numpy as np
from scipy.spatial import cKDTree

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

MAX_SNAP_M = 500.0  # a building centroid this far from any footpath is not on the map


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


def sites_at_buildings(buildings: Any, spec: LockersSpec, demand: DemandPoints) -> list[Site]:
    """Buildings of the candidate types, the ``max_sites`` with the most parcels within
    ``~radius`` first (a locker by a busy dorm or tower), at each building's main entrance where
    one is mapped, else its centroid (``network.buildings``' ``site_lat``/``site_lon``)."""
    kinds = set(spec.candidates.building_types)
    chosen = buildings[buildings["building"].isin(kinds)]
    if chosen.empty:
        return []
    lat, lon = chosen["site_lat"].to_numpy(dtype=float), chosen["site_lon"].to_numpy(dtype=float)
    # parcels within 200 m as the crow flies: a cheap ranking (siting uses walking distances)
    scale = 111_320.0 * np.array([np.cos(np.radians(np.mean(demand.lat))), 1.0])
    tree = cKDTree(np.column_stack([demand.lon, demand.lat]) * scale)
    near = tree.query_ball_point(np.column_stack([lon, lat]) * scale, r=200.0)
    nearby = np.array([demand.parcels[idx].sum() for idx in near])
    order = np.argsort(-nearby, kind="stable")[: spec.candidates.max_sites]
    ids = chosen["osm_ref"].to_numpy()
    names = chosen["building"].to_numpy()
    return [Site(f"b{ids[k]}", float(lat[k]), float(lon[k]), spec.candidates.compartments,
                 spec.candidates.cost, kind=f"building ({names[k]})") for k in order]


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
                    spec: SitingSpec, name: str) -> Any:
    """The routing.siting instance: parcels a day at each demand point, walking distances on the
    walk graph for the pairs within the radius, each site's cost and daily capacity, and the
    compartments of the lockers already standing (which a sizing keeps as they are)."""
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
    compartments = site_compartments(plan, sites)
    prices = None if plan.model.sizing is None else dict(
        zip(SIZES, (float(c.cost) for c in plan.model.sizing.compartments), strict=True))
    cost = plan.compartment_cost  # nothing at an existing locker: its compartments stand
    chosen = [_locker_row(sites[j], compartments[j], float(plan.load[j]), spec,
                          None if prices is None else float(cost[j]))
              for j in np.flatnonzero(plan.is_open)]
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
        "curve": curve,
    }


def _locker_row(site: Site, compartments: dict[str, int], load: float, spec: SitingSpec,
                cost: float | None) -> dict[str, Any]:
    """One opened locker: its load, and capacity as its compartments turned over every
    ``dwell_days`` (the siting's own rule, so the figures can be checked by hand); when sized
    (``cost`` given), the compartments to build (none at an existing locker) and their cost."""
    capacity = _daily_capacity(site, compartments, spec)
    row = {
        "id": site.id, "kind": site.kind, "parcels_per_day": round(load, 1),
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


def siting_layers(plan: Any, sites: list[Site]) -> dict[str, list[dict]]:
    """Lockers (candidates, existing, chosen with their load and compartments) and catchment
    lines."""
    load = plan.load
    compartments = site_compartments(plan, sites)
    lockers = [
        {"type": "Feature",
         "geometry": {"type": "Point", "coordinates": [round(s.lon, 6), round(s.lat, 6)]},
         "properties": {"id": s.id, "chosen": bool(plan.is_open[j]), "status": s.kind,
                        "parcels": round(float(load[j]), 1) if plan.is_open[j] else None,
                        "compartments": "S {S} / M {M} / L {L}".format(**compartments[j])
                        if plan.is_open[j] or s.existing or plan.sizes is None
                        else "sized when chosen"}}
        for j, s in enumerate(sites)
    ]
    catchments = [f for f in plan.to_geojson()["features"]
                  if f["properties"].get("kind") == "catchment"]
    return {"lockers": lockers, "catchments": catchments}


def _weighted_quantile(values: np.ndarray, weights: np.ndarray, q: float | None) -> float | None:
    """Weighted mean (q None) or weighted quantile q of values."""
    if values.size == 0 or weights.sum() <= 0:
        return None
    if q is None:
        return float(np.average(values, weights=weights))
    order = np.argsort(values)
    cumulative = np.cumsum(weights[order]) / weights.sum()
    return float(values[order][np.searchsorted(cumulative, q)])
