"""Demand points (where daily parcels go) and each firm's parcels of the day drawn from them."""

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any

import networkx as nx
import numpy as np
from pydantic import BaseModel, BeforeValidator, ConfigDict, Field

from api.scenario.errors import ScenarioError
from api.scenario.schema import SIZES, DemandSpec, ParcelsSpec
from network.datum import DEFAULT_DATUM, points_to_wgs84, to_wgs84
from network.errors import GongpeiError
from routing.model import not_bool


@dataclass(frozen=True)
class DemandPoints:
    """Demand points as columns: id, coordinates, daily parcels, S/M/L shares, building type."""

    ids: list[str]
    lat: np.ndarray
    lon: np.ndarray
    parcels: np.ndarray
    size_mix: np.ndarray  # n x 3, rows sum to 1
    kind: list[str]
    mix_given: np.ndarray | None = None  # per point, whether its file gave its shares

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
    """An n x 3 array of S/M/L shares from a scenario's ``size_mix`` (a size left out is 0; the
    schema holds the shares to a sum of 1, as ``gongpei site`` does)."""
    row = np.array([size_mix.get(s, 0.0) for s in SIZES], dtype=float)
    return np.tile(row, (n, 1))


def demand_from_buildings(buildings: Any, spec: DemandSpec) -> DemandPoints:
    """Parcels a day at each OSM building (``routing.siting.points.demand_from_buildings``): its
    type's rate per 100 m² of floor area. The scenario's rates are the whole table (no
    ``DEFAULT_RATES`` under them): types it does not list get its ``default``, read there as
    ``gongpei site`` reads it, and no demand without one (which that function warns of)."""
    from routing.siting.points import demand_from_buildings as siting_demand

    mix = tuple(float(v) for v in _mix_array(spec.size_mix, 1)[0])
    points = siting_demand(buildings, rates=spec.rates, base={}, mix=mix)
    points = [p for p in points if p.parcels > 0]
    kind = dict(zip((f"b{i}" for i in buildings["osm_ref"]), buildings["building"], strict=True))
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


def read_demand_file(
    path: Path, size_mix: dict[str, float], where: str, *, datum: str = DEFAULT_DATUM
) -> DemandPoints:
    """Demand from CSV (``id,lat,lon,parcels[,S,M,L]``) or GeoJSON points (``parcels``, ``mix``),
    their coordinates given in the scenario's ``datum`` (`network.datum`), kept in WGS 84.

    Read and checked by the siting's own reader (``routing.siting.points``), so a scenario and
    ``gongpei site`` read a file alike: a point's own S/M/L shares where it gives them (a
    warehouse of large parcels), the scenario's ``size_mix`` where it gives none.
    """
    from routing.siting.points import DEMAND_FIELDS, demand_from_record, read_records

    default = [float(v) for v in _mix_array(size_mix, 1)[0]]
    try:
        records = read_records(path, DEMAND_FIELDS)
        points = [demand_from_record(_with_mix(rec, default)) for rec in records]
    except GongpeiError as err:
        reason = str(err)
        if not reason.startswith("demand point"):
            reason = f"cannot read demand from {path}: {reason}"
        raise ScenarioError([f"{where}: {reason}"]) from None
    if not points:
        raise ScenarioError([f"{where}: {path} holds no demand points"])
    lat, lon = points_to_wgs84(datum, [p.lat for p in points], [p.lon for p in points])
    return DemandPoints(
        ids=[p.id for p in points],
        lat=lat,
        lon=lon,
        parcels=np.array([p.parcels for p in points]),
        size_mix=np.array([p.mix for p in points], dtype=float),
        kind=["file"] * len(points),
        mix_given=np.array([_gives_mix(rec) for rec in records], dtype=bool),
    )


def _gives_mix(record: Mapping[str, Any]) -> bool:
    """Whether a demand file's row or feature gives its own size mix (``mix`` or S, M, L; a
    GeoJSON null gives none)."""
    return any(record.get(key) is not None for key in ("mix", *SIZES))


def _with_mix(record: dict[str, Any], default: list[float]) -> dict[str, Any]:
    """The record with the scenario's mix where it gives none of its own: the siting reader's
    default is its own mix, not the scenario's."""
    return record if _gives_mix(record) else record | {"mix": default}


def day_parcel_id(firm: str, own: str) -> str:
    """A firm's parcel's id in the day, ``FIRM-ID``: firms number their parcels alike (a
    drawn parcel is numbered from 1), and the day's parcel ids must differ across firms
    (``checks`` refuses firm names and ids that still meet, "a" + "b-1" and "a-b" + "1")."""
    return f"{firm}-{own}"


def draw_parcels(
    firm: str, spec: ParcelsSpec, demand: DemandPoints, size_mix: dict[str, float]
) -> list[DayParcel]:
    """``spec.count`` parcels for ``firm``, each at a demand point drawn in proportion to its
    daily parcels (seeded), with a size drawn from the point's own mix where its demand file
    gave one (else from ``size_mix``) and a window by the given shares."""
    weights = demand.parcels / demand.parcels.sum()
    rng = np.random.default_rng(spec.seed)
    picks = rng.choice(len(demand), size=spec.count, p=weights)
    sizes = _draw_sizes(_size_shares(demand, picks, size_mix), rng)
    windows = _windows(spec, spec.count, rng)
    return [
        DayParcel(
            id=day_parcel_id(firm, str(k + 1)),
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


def _size_shares(
    demand: DemandPoints, picks: np.ndarray, size_mix: dict[str, float]
) -> np.ndarray:
    """S/M/L shares of each drawn parcel (one row each): its point's own where the demand file
    gave them, else ``size_mix``."""
    shares = _mix_array(size_mix, len(picks))
    if demand.mix_given is None:
        return shares
    return np.where(demand.mix_given[picks, None], demand.size_mix[picks], shares)


def _draw_sizes(shares: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """One size index per row of shares, from one uniform draw each against the row's
    cumulative shares: what ``Generator.choice`` does with one mix, so a day whose points have
    no mix of their own is drawn exactly as when every parcel shared one mix."""
    cumulative = np.cumsum(shares, axis=1)
    cumulative /= cumulative[:, -1:]
    return (cumulative <= rng.random(len(shares))[:, None]).sum(axis=1)


def read_parcels_file(
    firm: str, path: Path, spec: ParcelsSpec, where: str, *, datum: str = DEFAULT_DATUM
) -> list[DayParcel]:
    """A firm's parcels from CSV ``id,lat,lon[,size]``, checked here (so ``scenario validate``
    finds what the day would refuse) and named ``FIRM-ID`` like drawn parcels: firms number
    their parcels alike, and the day's parcel ids must differ across firms. The coordinates
    are in the scenario's ``datum``, kept in WGS 84."""
    rows = _parcel_rows(path, where)
    if not rows:
        raise ScenarioError([f"{where}: firm '{firm}' has no parcels ({path} is empty)"])
    problem = _parcel_problem(rows)
    if problem:
        raise ScenarioError([f"{where}: {path.name}: {problem}"])
    windows = _windows(spec, len(rows), np.random.default_rng(spec.seed))
    rows = [(pid, *to_wgs84(datum, lat, lon), size) for pid, lat, lon, size in rows]
    return [
        DayParcel(
            id=day_parcel_id(firm, pid),
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


# nan too passes as a number: the coordinate check (``_parcel_problem``) says it is none
_Coordinate = Annotated[float, BeforeValidator(not_bool)]


class _ParcelRow(BaseModel):
    """One row of a firm's parcels file. An unknown column is refused, not skipped: a size
    column spelt ``sise`` would leave every parcel size S without a word."""

    model_config = ConfigDict(extra="forbid", coerce_numbers_to_str=True)

    id: Annotated[str, Field(min_length=1)]
    lat: _Coordinate
    lon: _Coordinate
    size: str = "S"  # a blank cell too: S, as when the file has no size column


def _parcel_rows(path: Path, where: str) -> list[tuple[str, float, float, str]]:
    """The file's rows as (id, lat, lon, size), read by the siting's reader (a BOM, GB18030,
    header cells in any case or with spaces); a row that is not one names the file, the row and
    the column."""
    from routing.siting.points import read_records, validated

    try:
        records = read_records(path, tuple(_ParcelRow.model_fields))
        rows = [validated(_ParcelRow, _cells(rec), rec["_where"]) for rec in records]
    except GongpeiError as err:
        raise ScenarioError([f"{where}: {err}"]) from None
    return [(r.id, r.lat, r.lon, r.size) for r in rows]


def _cells(record: Mapping[str, Any]) -> dict[str, Any]:
    """A record's fields without the reader's ``_where``."""
    return {key: value for key, value in record.items() if key != "_where"}


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
