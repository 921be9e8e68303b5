"""Snap (lat, lon) points to the nearest usable road segment, not merely the nearest node."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import networkx as nx
import numpy as np
import shapely
from numpy.typing import ArrayLike

from network._index import RoadIndex, road_index
from network.errors import SnapError, is_number
from network.geo import haversine_m

DEFAULT_MAX_SNAP_M = 500.0
#: How many points a `PointsOffMap` message names before "and N more".
NAMED_POINTS = 5


class PointsOffMap(SnapError):
    """Points that cannot be placed on the roads, all of them: a day with several addresses
    off the map was told of the first only, and its sender had to resend it once per address.

    `reasons` says why for each, by its index in the points given, as one line naming it
    ("point 'job 7': (lat=..., lon=...) is 812 m from the nearest usable road, ..."); the
    message is the first `NAMED_POINTS` of them and how many more. A caller that can do
    without some points (a problem's spare locations, `routing.travel`) reads `reasons`."""

    def __init__(self, reasons: dict[int, str]) -> None:
        self.reasons = dict(sorted(reasons.items()))
        lines = list(self.reasons.values())
        more = len(lines) - NAMED_POINTS
        super().__init__(
            "; ".join(lines[:NAMED_POINTS]) + (f"; and {more} more" if more > 0 else "")
        )


@dataclass(frozen=True)
class Snap:
    """Where a point meets the road: on segment u-v at `fraction` of the way from u to v.

    `snap_m` is the great-circle distance in metres from the point to that spot (not part of
    any travel time or distance), which `max_snap_m` bounds; `lat`, `lon` is the spot itself.
    """

    u: int
    v: int
    fraction: float
    snap_m: float
    lat: float
    lon: float


@dataclass(frozen=True)
class SnapArrays:
    """Snaps as arrays over the graph's index numbering (what the matrix engines consume)."""

    a: np.ndarray
    b: np.ndarray
    fraction: np.ndarray
    snap_m: np.ndarray


def _name(i: int, labels: Sequence[str] | None, role: str) -> str:
    return f"{role} '{labels[i]}'" if labels is not None else f"{role} {i}"


def _check_max_snap(max_snap_m: object) -> None:
    """Refuse a snap limit no point could meet (negative, NaN) or that is not a number, before
    any point is blamed for it."""
    if not is_number(max_snap_m) or not max_snap_m >= 0:
        raise SnapError(f"max_snap_m={max_snap_m!r}: expected a number of metres >= 0")


def snap_arrays(
    graph: nx.MultiDiGraph,
    points: Sequence[tuple[float, float]],
    *,
    max_snap_m: float = DEFAULT_MAX_SNAP_M,
    labels: Sequence[str] | None = None,
    role: str = "point",
) -> SnapArrays:
    """Vectorised snapping; raises `PointsOffMap` naming every bad point as `role` and its
    label or position ("target 3"), so a caller with two point lists says which one (labels,
    if given, one per point: checked first, as the names come from them)."""
    _check_max_snap(max_snap_m)
    if labels is not None and len(labels) != len(points):
        raise SnapError(
            f"labels: {len(labels)} given for {len(points)} {role}s; expected one per {role}"
        )
    pts = _pairs(points, labels, role)
    index = road_index(graph)
    lat, lon = pts[:, 0], pts[:, 1]
    bad = ~(np.isfinite(lat) & np.isfinite(lon) & (np.abs(lat) <= 90) & (np.abs(lon) <= 180))
    if bad.any():  # the checks below need coordinates: these are told first, on their own
        raise PointsOffMap({
            i: f"{_name(i, labels, role)}: (lat={lat[i]}, lon={lon[i]}) is not a valid "
            "coordinate (lat must be in -90..90, lon in -180..180, no NaN)"
            for i in np.flatnonzero(bad).tolist()
        })  # fmt: skip
    if len(pts) == 0:
        return SnapArrays(*(np.empty(0, dtype=t) for t in (np.int64, np.int64, float, float)))
    px, py = index.project.transform(lon, lat)
    geoms = shapely.points(px, py)
    # query_nearest gives (input index, tree index) pairs, and none for a point whose
    # projection is not finite (about 90 degrees of longitude from the map) or when the graph
    # has no segment: those keep -1, never an arbitrary segment.
    seg = np.full(len(geoms), -1, dtype=np.int64)
    which = index.tree.query_nearest(geoms, all_matches=False)
    seg[which[0]] = which[1]
    lost = seg < 0
    reasons = {
        i: f"{_name(i, labels, role)}: {_unplaceable(index, lat[i], lon[i])}"
        for i in np.flatnonzero(lost).tolist()
    }
    if len(reasons) == len(pts):
        raise PointsOffMap(reasons)
    # placed nowhere: measured from a finite spot of some segment, so that the others can be,
    # and told by the reason above
    seg[lost] = seg.max()
    geoms[lost] = shapely.get_point(index.seg_lines[seg[lost]], 0)
    lines = index.seg_lines[seg]
    fraction = np.clip(shapely.line_locate_point(lines, geoms, normalized=True), 0.0, 1.0)
    # the projection finds the spot; its distance, which decides and is snap_m, is told on the
    # sphere, as every length of the project (`network.geo`): the projection's, on the WGS 84
    # ellipsoid and stretched away from the map's centre, read up to 0.37 % long or short on
    # the maps served (0.56 % north-south on the equator), so a point it kept within
    # max_snap_m could be more than max_snap_m away by the message, and the other way round
    spot_lon, spot_lat = spot(index, index.seg_a[seg], index.seg_b[seg], fraction)
    dist = haversine_m(lat, lon, spot_lat, spot_lon)
    too_far = np.flatnonzero(~(dist <= max_snap_m)).tolist()
    dropped = _near_dropped_roads(graph, index, geoms[too_far], max_snap_m)
    for i, on_dropped in zip(too_far, dropped, strict=True):
        if i in reasons:
            continue
        why = (
            "; it lies on a part of the road network not connected to the rest (only the "
            "largest connected part is kept)"
            if on_dropped
            else " (off the map or in the sea?)"
        )
        reasons[i] = (
            f"{_name(i, labels, role)}: (lat={lat[i]}, lon={lon[i]}) is "
            f"{_above(float(dist[i]), max_snap_m)} m from the nearest usable road, more than "
            f"max_snap_m={max_snap_m:g}{why}"
        )
    if reasons:
        raise PointsOffMap(reasons)
    return SnapArrays(index.seg_a[seg], index.seg_b[seg], fraction, dist)


def _above(metres: float, limit: float) -> str:
    """``metres`` (more than ``limit``) in whole metres, or with the decimals it takes to read
    as more: 250.4 m "is 250 m ..., more than max_snap_m=250" said the opposite."""
    for digits in range(4):
        text = f"{metres:.{digits}f}"
        if float(text) > limit:
            return text
    return repr(metres)


def _pairs(
    points: Sequence[tuple[float, float]], labels: Sequence[str] | None, role: str
) -> np.ndarray:
    """The points as an (n, 2) float array, or SnapError naming the first one that is not a
    (lat, lon) pair. Only a list of no points is empty: numpy also reads [(), ()] as no
    numbers, which must not become a 0 x 0 matrix for two points."""
    pts = _floats(points)
    if pts is not None and pts.shape == (0,):
        return pts.reshape(0, 2)
    if pts is not None and pts.ndim == 2 and pts.shape[1] == 2:
        return pts
    if isinstance(points, Iterable):
        for i, point in enumerate(points):
            pair = _floats(point)
            if pair is None or pair.shape != (2,):
                raise SnapError(
                    f"{_name(i, labels, role)}: {point!r} is not a (lat, lon) pair of numbers"
                )
    raise SnapError(f"{role}s: expected a list of (lat, lon) pairs of numbers")


def _floats(value: object) -> np.ndarray | None:
    """`value` as a float array, or None where numpy cannot read it as numbers."""
    try:
        return np.asarray(value, dtype=float)
    except (TypeError, ValueError):
        return None


def _near_dropped_roads(
    graph: nx.MultiDiGraph, index: RoadIndex, points: np.ndarray, max_snap_m: float
) -> np.ndarray:
    """Whether each point (projected, too far from the graph's roads) lies within `max_snap_m`
    of a road the build dropped as not connected to the rest (`graph.graph["dropped_roads"]`,
    lon/lat; a graph saved before they were kept has none). One tree query for all points: a
    day's stops can all be off the map."""
    near = np.zeros(len(points), dtype=bool)
    roads = graph.graph.get("dropped_roads")
    if roads is None or len(roads) == 0 or len(points) == 0:
        return near
    x, y = index.project.transform(roads[..., 0], roads[..., 1])
    lines = shapely.linestrings(np.stack([x, y], axis=-1))
    found, _ = shapely.STRtree(lines).query(points, predicate="dwithin", distance=max_snap_m)
    near[found] = True
    return near


def _unplaceable(index: RoadIndex, lat: float, lon: float) -> str:
    """Why a point the R-tree matched to no segment cannot be snapped: the graph has none, or
    the point is so far from the map that the map's local projection cannot hold it (its
    distance then told on the sphere, to the nearest road node)."""
    if len(index.seg_lines) == 0:
        return f"(lat={lat}, lon={lon}) has no road to snap to: the graph has no road segment"
    far_m = float(haversine_m(lat, lon, index.y, index.x).min())
    return (
        f"(lat={lat}, lon={lon}) is about {far_m:.0f} m from the map's roads, too far to snap "
        "(off the map?)"
    )


def spot(
    index: RoadIndex, a: ArrayLike, b: ArrayLike, t: ArrayLike
) -> tuple[ArrayLike, ArrayLike]:
    """(lon, lat) of the spot at fraction `t` of the way from index node `a` to node `b`."""
    lon = index.x[a] + t * (index.x[b] - index.x[a])
    lat = index.y[a] + t * (index.y[b] - index.y[a])
    return lon, lat


def snap_points(
    graph: nx.MultiDiGraph,
    points: Sequence[tuple[float, float]],
    *,
    max_snap_m: float = DEFAULT_MAX_SNAP_M,
    labels: Sequence[str] | None = None,
) -> list[Snap]:
    """Each (lat, lon) placed on its nearest usable road segment.

    Raises `PointsOffMap` (a SnapError) naming every point (by `labels[i]` if given, else
    its position) that is not a valid coordinate, that is too far from the map for its local
    projection (or the graph has no road), or that lies farther than `max_snap_m` metres from
    every usable road; a SnapError when a point is not a (lat, lon) pair.
    """
    index = road_index(graph)
    arrays = snap_arrays(graph, points, max_snap_m=max_snap_m, labels=labels)
    a, b, t = arrays.a, arrays.b, arrays.fraction
    lon, lat = spot(index, a, b, t)
    return [
        Snap(index.nodes[i], index.nodes[j], float(f), float(d), float(la), float(lo))
        for i, j, f, d, la, lo in zip(a, b, t, arrays.snap_m, lat, lon, strict=True)
    ]
