"""Snap (lat, lon) points to the nearest usable road segment, not merely the nearest node."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import networkx as nx
import numpy as np
import shapely

from network._index import road_index
from network.errors import SnapError, is_number

DEFAULT_MAX_SNAP_M = 500.0


@dataclass(frozen=True)
class Snap:
    """Where a point meets the road: on segment u-v at `fraction` of the way from u to v.

    `snap_m` is the straight-line distance from the point to that spot (not part of any travel
    time or distance); `lat`, `lon` is the spot itself.
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
    """Vectorised snapping; raises SnapError naming the first bad point as `role` and its
    label or position ("target 3"), so a caller with two point lists says which one."""
    _check_max_snap(max_snap_m)
    index = road_index(graph)
    try:
        pts = np.asarray(points, dtype=float)
    except (TypeError, ValueError):
        raise SnapError(f"{role}s: expected a list of (lat, lon) number pairs") from None
    if pts.size == 0:
        pts = pts.reshape(0, 2)
    if pts.ndim != 2 or pts.shape[1] != 2:
        raise SnapError(f"{role}s: expected a list of (lat, lon) pairs, got shape {pts.shape}")
    lat, lon = pts[:, 0], pts[:, 1]
    bad = ~(np.isfinite(lat) & np.isfinite(lon) & (np.abs(lat) <= 90) & (np.abs(lon) <= 180))
    if bad.any():
        i = int(np.argmax(bad))
        raise SnapError(
            f"{_name(i, labels, role)}: (lat={lat[i]}, lon={lon[i]}) is not a valid coordinate "
            "(lat must be in -90..90, lon in -180..180, no NaN)"
        )
    px, py = index.project.transform(lon, lat)
    geoms = shapely.points(px, py)
    if len(geoms) == 0:
        return SnapArrays(*(np.empty(0, dtype=t) for t in (np.int64, np.int64, float, float)))
    which = index.tree.query_nearest(geoms, all_matches=False)
    # query_nearest returns (input index, tree index) pairs sorted by input index.
    seg = np.empty(len(geoms), dtype=np.int64)
    seg[which[0]] = which[1]
    lines = index.seg_lines[seg]
    dist = shapely.distance(geoms, lines)
    too_far = ~(dist <= max_snap_m)
    if too_far.any():
        i = int(np.argmax(too_far))
        raise SnapError(
            f"{_name(i, labels, role)}: (lat={lat[i]}, lon={lon[i]}) is {dist[i]:.0f} m from the "
            f"nearest usable road, more than max_snap_m={max_snap_m:g} (off the map or in the "
            "sea?)"
        )
    fraction = shapely.line_locate_point(lines, geoms, normalized=True)
    return SnapArrays(index.seg_a[seg], index.seg_b[seg], np.clip(fraction, 0.0, 1.0), dist)


def snap_points(
    graph: nx.MultiDiGraph,
    points: Sequence[tuple[float, float]],
    *,
    max_snap_m: float = DEFAULT_MAX_SNAP_M,
    labels: Sequence[str] | None = None,
) -> list[Snap]:
    """Each (lat, lon) placed on its nearest usable road segment.

    Raises SnapError naming the point (by `labels[i]` if given, else its position) when it is
    not a valid coordinate or lies farther than `max_snap_m` metres from every usable road.
    """
    index = road_index(graph)
    arrays = snap_arrays(graph, points, max_snap_m=max_snap_m, labels=labels)
    a, b, t = arrays.a, arrays.b, arrays.fraction
    lon = index.x[a] + t * (index.x[b] - index.x[a])
    lat = index.y[a] + t * (index.y[b] - index.y[a])
    return [
        Snap(index.nodes[i], index.nodes[j], float(f), float(d), float(la), float(lo))
        for i, j, f, d, la, lo in zip(a, b, t, arrays.snap_m, lat, lon, strict=True)
    ]
