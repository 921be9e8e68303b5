"""Demand points (where daily parcels go) and each firm's parcels of the day drawn from them."""

import csv
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import networkx as nx
import numpy as np

from api.scenario.errors import ScenarioError
from api.scenario.schema import SIZES, DemandSpec, ParcelsSpec
from network.errors import GongpeiError


@dataclass(frozen=True)
class DemandPoints:
    """Demand points as columns: id, coordinates, daily parcels, S/M/L shares, building type."""

    ids: list[str]
    lat: np.ndarray
    lon: np.ndarray
    parcels: np.ndarray
    size_mix: np.ndarray  # n x 3, rows sum to 1
    kind: list[str]

    def __len__(self) -> int:
        return len(self.ids)

    def points(self) -> list[tuple[float, float]]:
        """(lat, lon) pairs, the order ``network`` functions take."""
        return list(zip(self.lat.tolist(), self.lon.tolist(), strict=True))


@dataclass(frozen=True)
class DayParcel:
    """One parcel of one firm: where it goes, its size class and its delivery window."""

    id: str
    firm: str
    lat: float
    lon: float
    size: str
    demand_id: str
    window: tuple[int, int] | None
    service_s: int


def _mix_array(size_mix: dict[str, float], n: int) -> np.ndarray:
    """An n x 3 array of S/M/L shares from a scenario's ``size_mix``."""
    row = np.array([size_mix.get(s, 0.0) for s in SIZES], dtype=float)
    return np.tile(row / row.sum(), (n, 1))


def demand_from_buildings(buildings: Any, spec: DemandSpec) -> DemandPoints:
    """Parcels a day at each OSM building (``routing.siting.points.demand_from_buildings``): its
    type's rate per 100 m² of floor area; types the scenario does not list get its ``default``."""
    from routing.siting.points import demand_from_buildings as siting_demand

    default = spec.rates.get("default", 0.0)
    rates = {str(kind): default for kind in set(buildings["building"])}
    rates.update({kind: rate for kind, rate in spec.rates.items() if kind != "default"})
    mix = tuple(float(v) for v in _mix_array(spec.size_mix, 1)[0])
    points = [p for p in siting_demand(buildings, rates=rates, mix=mix) if p.parcels > 0]
    kind = dict(zip((f"b{i}" for i in buildings["osmid"]), buildings["building"], strict=True))
    return DemandPoints(
        ids=[p.id for p in points],
        lat=np.array([p.lat for p in points]),
        lon=np.array([p.lon for p in points]),
        parcels=np.array([p.parcels for p in points]),
        size_mix=_mix_array(spec.size_mix, len(points)),
        kind=[str(kind[p.id]) for p in points],
    )


def demand_at_road_nodes(graph: nx.MultiDiGraph, spec: DemandSpec) -> DemandPoints:
    """``spec.points`` road nodes drawn with ``spec.seed``, each with parcels drawn uniformly from
    ``spec.parcels_per_point``: demand for a map without buildings (a synthetic city)."""
    rng = np.random.default_rng(spec.seed)
    nodes = sorted(graph.nodes)
    picks = rng.choice(len(nodes), size=min(spec.points, len(nodes)), replace=False)
    low, high = spec.parcels_per_point
    chosen = [graph.nodes[nodes[i]] for i in picks]
    return DemandPoints(
        ids=[f"n{nodes[i]}" for i in picks],
        lat=np.array([d["y"] for d in chosen]),
        lon=np.array([d["x"] for d in chosen]),
        parcels=rng.uniform(low, high, size=len(picks)),
        size_mix=_mix_array(spec.size_mix, len(picks)),
        kind=["road node"] * len(picks),
    )


def read_demand_file(path: Path, size_mix: dict[str, float], where: str) -> DemandPoints:
    """Demand from CSV (``id,lat,lon,parcels``) or GeoJSON points (property ``parcels``).

    Read and checked by ``routing.siting.points.read_demand`` (the siting's own reader), so a
    scenario and ``gongpei site`` accept the same files; the scenario's size mix applies to all.
    """
    from routing.siting.points import read_demand

    try:
        points = read_demand(path)
    except GongpeiError as err:
        reason = str(err)
        if not reason.startswith("demand point"):
            reason = f"cannot read demand from {path}: {reason}"
        raise ScenarioError([f"{where}: {reason}"]) from None
    if not points:
        raise ScenarioError([f"{where}: {path} holds no demand points"])
    return DemandPoints(
        ids=[p.id for p in points],
        lat=np.array([p.lat for p in points]),
        lon=np.array([p.lon for p in points]),
        parcels=np.array([p.parcels for p in points]),
        size_mix=_mix_array(size_mix, len(points)),
        kind=["file"] * len(points),
    )


def draw_parcels(
    firm: str, spec: ParcelsSpec, demand: DemandPoints, size_mix: dict[str, float]
) -> list[DayParcel]:
    """``spec.count`` parcels for ``firm``, each at a demand point drawn in proportion to its
    daily parcels (seeded), with a size drawn from the mix and a window by the given shares."""
    weights = demand.parcels / demand.parcels.sum()
    rng = np.random.default_rng(spec.seed)
    picks = rng.choice(len(demand), size=spec.count, p=weights)
    mix = np.array([size_mix.get(s, 0.0) for s in SIZES], dtype=float)
    sizes = rng.choice(len(SIZES), size=spec.count, p=mix / mix.sum())
    windows = _windows(spec, spec.count, rng)
    return [
        DayParcel(
            id=f"{firm}-{k + 1}",
            firm=firm,
            lat=float(demand.lat[i]),
            lon=float(demand.lon[i]),
            size=SIZES[s],
            demand_id=demand.ids[i],
            window=windows[k],
            service_s=spec.service_s,
        )
        for k, (i, s) in enumerate(zip(picks, sizes, strict=True))
    ]


def read_parcels_file(firm: str, path: Path, spec: ParcelsSpec, where: str) -> list[DayParcel]:
    """A firm's parcels from CSV ``id,lat,lon[,size]``, checked here (so ``scenario validate``
    finds what the day would refuse) and named ``FIRM-ID`` like drawn parcels: firms number
    their parcels alike, and the day's parcel ids must differ across firms."""
    rows = _parcel_rows(path, where)
    if not rows:
        raise ScenarioError([f"{where}: firm '{firm}' has no parcels ({path} is empty)"])
    problem = _parcel_problem(rows)
    if problem:
        raise ScenarioError([f"{where}: {path.name}: {problem}"])
    windows = _windows(spec, len(rows), np.random.default_rng(spec.seed))
    return [
        DayParcel(
            id=f"{firm}-{pid}",
            firm=firm,
            lat=lat,
            lon=lon,
            size=size,
            demand_id=pid,
            window=windows[k],
            service_s=spec.service_s,
        )
        for k, (pid, lat, lon, size) in enumerate(rows)
    ]


def _parcel_rows(path: Path, where: str) -> list[tuple[str, float, float, str]]:
    """The file's rows as (id, lat, lon, size); a missing column or a value that is not a
    number names the file."""
    try:
        with path.open(newline="", encoding="utf-8") as handle:
            return [
                (row["id"], float(row["lat"]), float(row["lon"]), (row.get("size") or "S").strip())
                for row in csv.DictReader(handle)
            ]
    except (KeyError, TypeError, ValueError) as err:
        raise ScenarioError([f"{where}: cannot read parcels from {path}: {err!r}"]) from None


def _parcel_problem(rows: list[tuple[str, float, float, str]]) -> str | None:
    """The first parcel the day would refuse: not a coordinate (nan too), an unknown size, an id
    given twice."""
    seen: set[str] = set()
    for pid, lat, lon, size in rows:
        if not (-90 <= lat <= 90 and -180 <= lon <= 180):
            return f"parcel '{pid}': lat/lon ({lat}, {lon}) is not a coordinate"
        if size not in {*SIZES, "XL"}:
            return f"parcel '{pid}': size '{size}' is unknown (use S, M, L or XL)"
        if pid in seen:
            return f"parcel '{pid}': id repeats"
        seen.add(pid)
    return None


def _windows(spec: ParcelsSpec, n: int, rng: np.random.Generator) -> list[tuple[int, int] | None]:
    """Give each parcel one of the spec's windows by their shares (the rest have none)."""
    if not spec.time_windows:
        return [None] * n
    shares = [tw.share for tw in spec.time_windows]
    choices = rng.choice(
        len(shares) + 1,
        size=n,
        p=[*shares, max(0.0, 1 - sum(shares))]
        if sum(shares) <= 1
        else [s / sum(shares) for s in shares] + [0.0],
    )
    spans = [tw.window.seconds() for tw in spec.time_windows]
    return [spans[c] if c < len(spans) else None for c in choices]
