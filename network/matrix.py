"""Travel-time and distance matrices between points, and distances within a limit (catchments)."""

from __future__ import annotations

import math
import os
import zipfile
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Literal

import networkx as nx
import numpy as np
import numpy.lib.format as npy_format
import scipy.sparse as sp

from network._engines import (
    Between,
    CchRows,
    augmented_csr,
    cch_metric,
    dijkstra_nearby,
    dijkstra_rows,
    fastest_path_lengths,
)
from network._index import SCALE, RoadIndex, road_index
from network._offsets import direct, entries
from network.cache import atomic_file
from network.errors import NetworkError, is_number
from network.snap import DEFAULT_MAX_SNAP_M, SnapArrays, snap_arrays

Engine = Literal["cch", "dijkstra"]
Weight = Literal["travel_time", "length"]

# A travel matrix is computed this many cells (origin rows x points) at a time, ~80 MB as
# float64: its memory stays at a block, however many points (20,000 make 3.2 GB per matrix).
_BLOCK_CELLS = 10_000_000
# How many unreachable pairs `save_travel_matrix` keeps as examples.
_EXAMPLES = 5


@dataclass(frozen=True)
class TravelMatrix:
    """N x N matrices between snapped points; np.inf where no path exists (never 0 or a sentinel).

    `duration_s[i, j]` is the fastest travel time and `distance_m[i, j]` the length of that
    same fastest path (what the vehicle drives, for vehicle-km and emissions), each including
    the partial edges from point i's snap spot and to point j's. Where several paths take the
    same fastest time (in whole milliseconds), the shortest of them counts. `snap_m[i]` is
    point i's straight-line snap distance, not included in either. `unreachable` lists the
    (i, j) pairs with no path. The shortest distance regardless of time is
    `cost_matrix(..., weight="length")`.
    """

    duration_s: np.ndarray
    distance_m: np.ndarray
    snap_m: np.ndarray
    unreachable: list[tuple[int, int]]


def travel_matrix(
    graph: nx.MultiDiGraph,
    points: Sequence[tuple[float, float]],
    *,
    max_snap_m: float = DEFAULT_MAX_SNAP_M,
    engine: Engine = "cch",
    labels: Sequence[str] | None = None,
) -> TravelMatrix:
    """Duration (s) and distance (m) matrices between (lat, lon) points, one-ways respected.

    Points are snapped to their nearest usable segment (SnapError names a point beyond
    `max_snap_m`, using `labels[i]` if given). See `cost_matrix` for the duration engines; the
    distances along the fastest paths come from one exact Dijkstra per point ordered by time,
    then length (see `network._engines.fastest_path_lengths`). Both are filled a block of rows
    at a time, so the result is all the memory it takes; for a matrix too big to hold, see
    `save_travel_matrix`.
    """
    snaps = snap_arrays(graph, points, max_snap_m=max_snap_m, labels=labels)
    rows = _TravelRows(road_index(graph), snaps, engine)
    duration, distance = (np.empty((rows.size, rows.size)) for _ in range(2))
    for lo, block in rows.durations():
        duration[lo : lo + len(block)] = block
    for lo, block in rows.distances():
        distance[lo : lo + len(block)] = block
    missing = np.argwhere(np.isinf(duration))
    return TravelMatrix(
        duration_s=duration,
        distance_m=distance,
        snap_m=snaps.snap_m,
        unreachable=[(int(i), int(j)) for i, j in missing],
    )


@dataclass(frozen=True)
class SavedMatrix:
    """What `save_travel_matrix` wrote, to report: the number of points, their largest snap
    distance, and how many (origin, destination) pairs have no path, with the first few of them
    in row order as `examples` (the full list could run to hundreds of millions of pairs)."""

    points: int
    largest_snap_m: float
    unreachable: int
    examples: list[tuple[int, int]]


def save_travel_matrix(
    graph: nx.MultiDiGraph,
    points: Sequence[tuple[float, float]],
    path: str | os.PathLike[str],
    *,
    ids: Sequence[str],
    max_snap_m: float = DEFAULT_MAX_SNAP_M,
    engine: Engine = "cch",
) -> SavedMatrix:
    """Write `travel_matrix` between the points to an .npz file, the arrays `np.savez` would
    write (ids, duration_s, distance_m, snap_m; np.inf where there is no path), without holding
    the matrices: each block of rows goes to the file as it is computed, so memory stays at a
    block however many points (20,000 points make a 6.4 GB file). `ids` name the points, in
    snap errors too.

    The file is written beside `path` and renamed onto it once complete: an error or an
    interrupt leaves the previous file, or none, never a part of one.
    """
    if len(ids) != len(points):
        raise NetworkError(f"ids: {len(ids)} given for {len(points)} points; expected one each")
    snaps = snap_arrays(graph, points, max_snap_m=max_snap_m, labels=ids)
    rows = _TravelRows(road_index(graph), snaps, engine)
    shape = (rows.size, rows.size)
    unreachable = 0
    examples: list[tuple[int, int]] = []
    with atomic_file(Path(path)) as handle, zipfile.ZipFile(handle, "w") as archive:
        _write_member(archive, "ids", np.array(ids))
        with _member(archive, "duration_s", shape) as member:
            for lo, block in rows.durations():
                member.write(np.ascontiguousarray(block).data)
                flat = np.flatnonzero(np.isinf(block))
                unreachable += len(flat)
                for i in flat[: _EXAMPLES - len(examples)].tolist():
                    examples.append((lo + i // rows.size, i % rows.size))
        with _member(archive, "distance_m", shape) as member:
            for _, block in rows.distances():
                member.write(np.ascontiguousarray(block).data)
        _write_member(archive, "snap_m", snaps.snap_m)
    return SavedMatrix(
        points=rows.size,
        largest_snap_m=float(snaps.snap_m.max(initial=0.0)),
        unreachable=unreachable,
        examples=examples,
    )


def _member(archive: zipfile.ZipFile, name: str, shape: tuple[int, int]) -> IO[bytes]:
    """An open .npy member for a float64 array of `shape` whose bytes the caller then writes
    in C order: the header `np.savez` writes for such an array (format 1.0), and like it zip64
    from the start (the size is unknown to zipfile until the member is closed)."""
    member = archive.open(f"{name}.npy", "w", force_zip64=True)
    header = {"descr": npy_format.dtype_to_descr(np.dtype(float)), "fortran_order": False,
              "shape": shape}  # fmt: skip
    npy_format.write_array_header_1_0(member, header)
    return member


def _write_member(archive: zipfile.ZipFile, name: str, array: np.ndarray) -> None:
    """One small array as an .npy member, exactly as `np.savez` writes it."""
    with archive.open(f"{name}.npy", "w", force_zip64=True) as member:
        npy_format.write_array(member, array, allow_pickle=False)


class _TravelRows:
    """The duration (s) and fastest-path distance (m) matrices between snapped points, a block
    of origin rows at a time: exactly the values computed all at once, in one block's memory.

    Every duration block comes first (`durations`), then the distance blocks (`distances`): the
    distances' search is bounded by the slowest finite duration of the whole matrix, which also
    decides between its exact and its wide-span method (see `fastest_path_lengths`), so each
    block gets what the whole matrix would. The graphs and the CCH query are built once.
    """

    def __init__(self, index: RoadIndex, snaps: SnapArrays, engine: Engine) -> None:
        if engine not in ("cch", "dijkstra"):
            raise NetworkError(f"engine '{engine}': expected 'cch' or 'dijkstra'")
        self.size = len(snaps.a)
        self._times, self._origins, self._ends, _ = _augmented(index, "travel_time", snaps, snaps)
        self._lengths, *_ = _augmented(index, "fastest_length", snaps, snaps)
        self._cch: CchRows | None = None  # routingkit refuses a query without targets
        if engine == "cch" and self.size:
            self._cch = _cch_rows(index, "travel_time", snaps, snaps)
        self._slowest: float | None = None
        step = max(1, _BLOCK_CELLS // max(1, self.size))
        self._blocks = [(lo, min(lo + step, self.size)) for lo in range(0, self.size, step)]

    def durations(self) -> Iterator[tuple[int, np.ndarray]]:
        """(first row, block) of the duration matrix, top to bottom."""
        slowest = 0.0
        for lo, hi in self._blocks:
            if self._cch is not None:
                block = self._cch.rows(lo, hi)
            else:
                block = dijkstra_rows(self._times, self._origins[lo:hi], self._ends)
            slowest = max(slowest, float(block.max(where=np.isfinite(block), initial=0.0)))
            block /= SCALE["travel_time"]
            yield lo, block
        self._slowest = slowest

    def distances(self) -> Iterator[tuple[int, np.ndarray]]:
        """(first row, block) of the distance matrix, top to bottom; after `durations`."""
        if self._slowest is None:
            raise RuntimeError("distances need every duration row first (the slowest)")
        for lo, hi in self._blocks:
            block = fastest_path_lengths(
                self._times, self._lengths, self._origins[lo:hi], self._ends, self._slowest
            )
            block /= SCALE["length"]
            yield lo, block


def cost_matrix(
    graph: nx.MultiDiGraph,
    points: Sequence[tuple[float, float]],
    targets: Sequence[tuple[float, float]] | None = None,
    *,
    weight: Weight = "travel_time",
    max_snap_m: float = DEFAULT_MAX_SNAP_M,
    engine: Engine = "cch",
) -> np.ndarray:
    """One matrix from `points` to `targets` (default: the points themselves): fastest times (s)
    for weight="travel_time", shortest lengths (m) for "length"; np.inf where there is no path.

    `engine="cch"` runs one customisable-contraction-hierarchy one-to-many sweep per point
    (routingkit-cch; the index is built once per graph, see `prepare`); "dijkstra" runs scipy's
    Dijkstra from every point. Both sum the same integer milliseconds / millimetres and so give
    identical results.
    """
    _check_weight(weight)
    if targets is None:
        src = tgt = snap_arrays(graph, points, max_snap_m=max_snap_m)
    else:
        src = snap_arrays(graph, points, max_snap_m=max_snap_m, role="source")
        tgt = snap_arrays(graph, targets, max_snap_m=max_snap_m, role="target")
    return _matrix(road_index(graph), weight, src, tgt, engine) / SCALE[weight]


def prepare(graph: nx.MultiDiGraph, *, weight: Weight = "travel_time") -> None:
    """Build the graph's matrix index now (CCH order, topology and metric) instead of on the
    first matrix call; the order is read from / saved to `graph.graph["index_file"]` if set."""
    _check_weight(weight)
    cch_metric(road_index(graph), weight)


def distances_within(
    graph: nx.MultiDiGraph,
    sources: Sequence[tuple[float, float]],
    targets: Sequence[tuple[float, float]],
    *,
    limit_m: float,
    weight: Weight = "length",
    max_snap_m: float = DEFAULT_MAX_SNAP_M,
    access: bool = False,
    between: Between | None = None,
) -> sp.csr_matrix:
    """Sparse len(sources) x len(targets) matrix of shortest network costs, for pairs within
    `limit_m` only (metres for weight="length", seconds for "travel_time"); `limit_m=inf` keeps
    every reachable pair.

    Stored entries are exactly the pairs within the limit; an entry may be an explicit 0.0 when
    two points share a snap spot, so test membership with the sparsity structure (e.g.
    `m[i].indices`), not with `!= 0`. Runs a limit-pruned Dijkstra from the smaller side, each
    group of nearby points on the part of the graph a path within the limit can reach (the
    whole graph when that reach spans it).

    ``access=True`` (metres only) adds each point's straight walk to its snap spot at both
    ends, door to door: without it two buildings set back from one street are as close as
    their snap spots, closer than the crow flies.

    ``between`` is called before each chunk of the search; it may raise to end it there (a
    siting job cancelled while its catchments are measured: it had run to their end).
    """
    _check_weight(weight)
    if not is_number(limit_m) or not limit_m >= 0:
        raise NetworkError(f"limit_m={limit_m!r}: expected a number >= 0 (inf: no limit)")
    if access and weight != "length":
        raise NetworkError(f"access=True needs weight='length' (metres), got '{weight}'")
    src = snap_arrays(graph, sources, max_snap_m=max_snap_m, role="source")
    tgt = snap_arrays(graph, targets, max_snap_m=max_snap_m, role="target")
    shape = (len(src.a), len(tgt.a))
    if 0 in shape:
        return sp.csr_matrix(shape)
    index = road_index(graph)
    limit = _units_within(limit_m, SCALE[weight])
    rows, cols, values = _within(index, weight, src, tgt, limit, between)
    values = values / SCALE[weight]
    if access:
        values = values + src.snap_m[rows] + tgt.snap_m[cols]
        near = values <= limit_m
        rows, cols, values = rows[near], cols[near], values[near]
    return sp.csr_matrix((values, (rows, cols)), shape=shape)


def _within(
    index: RoadIndex,
    metric: str,
    src: SnapArrays,
    tgt: SnapArrays,
    limit: float,
    between: Between | None = None,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(source, target, integer cost) of the pairs within `limit` (a whole number of units, inf
    for none).

    Each group of nearby points searches only the subgraph a path within the limit can reach;
    when that reach spans the whole graph (a huge or infinite limit) there is nothing to prune,
    so one chunked Dijkstra per point of the smaller side searches it all (grid cells of
    infinite size would not be cells)."""
    graph, origins, ends, backwards = _augmented(index, metric, src, tgt)
    xy = np.vstack([np.column_stack([index.px, index.py]), _spots(index, src), _spots(index, tgt)])
    radius = _reach_m(index, metric, limit)
    if radius < np.ptp(xy, axis=0).max():
        rows, cols, costs = dijkstra_nearby(graph, xy, origins, ends, limit, radius, between)
    else:
        dense = dijkstra_rows(graph, origins, ends, limit, between)
        rows, cols = np.nonzero(np.isfinite(dense))
        costs = dense[rows, cols]
    return (cols, rows, costs) if backwards else (rows, cols, costs)


def _units_within(limit: float, scale: int) -> float:
    """The largest whole number of units (mm, ms) whose value in metres or seconds is still
    <= `limit`, as costs are reported (units / scale), or inf: the exact limit on whole costs.
    `floor(limit * scale)` is not it: 128.027 * 1000 is 128026.99999999999, which dropped a
    pair at exactly 128.027 m."""
    units = float(limit) * scale
    if not math.isfinite(units):
        return math.inf
    nearest = round(units)
    return float(nearest if nearest / scale <= limit else nearest - 1)


def _check_weight(weight: str) -> None:
    if weight not in SCALE:
        raise NetworkError(f"weight '{weight}': expected 'travel_time' or 'length'")


def _matrix(
    index: RoadIndex, metric: str, src: SnapArrays, tgt: SnapArrays, engine: Engine
) -> np.ndarray:
    """Integer-valued cost matrix (as float, inf = no path) between snapped points."""
    n_src, n_tgt = len(src.a), len(tgt.a)
    if n_src == 0 or n_tgt == 0:
        return np.empty((n_src, n_tgt))
    if engine == "cch":
        return _cch_rows(index, metric, src, tgt).rows(0, n_src)
    if engine != "dijkstra":
        raise NetworkError(f"engine '{engine}': expected 'cch' or 'dijkstra'")
    graph, origins, ends, backwards = _augmented(index, metric, src, tgt)
    out = dijkstra_rows(graph, origins, ends)
    return out.T if backwards else out


def _cch_rows(index: RoadIndex, metric: str, src: SnapArrays, tgt: SnapArrays) -> CchRows:
    """The CCH engine's rows between snapped points (their entries, exits and shortcuts)."""
    return CchRows(
        index, metric, entries(index, metric, src, as_source=True),
        entries(index, metric, tgt, as_source=False), direct(index, metric, src, tgt),
        len(src.a), len(tgt.a),
    )  # fmt: skip


def _augmented(
    index: RoadIndex, metric: str, src: SnapArrays, tgt: SnapArrays
) -> tuple[sp.csr_matrix, np.ndarray, np.ndarray, bool]:
    """The graph with the points as virtual nodes, the search origins and ends, and whether
    the search runs backwards (from the targets, on the reversed graph: the smaller side)."""
    n_src, n_tgt = len(src.a), len(tgt.a)
    graph = augmented_csr(
        index, index.weights[metric], entries(index, metric, src, as_source=True),
        entries(index, metric, tgt, as_source=False), direct(index, metric, src, tgt),
        n_src, n_tgt,
    )  # fmt: skip
    src_nodes = index.n + np.arange(n_src)
    tgt_nodes = index.n + n_src + np.arange(n_tgt)
    if n_tgt < n_src:
        return graph.T.tocsr(), tgt_nodes, src_nodes, True
    return graph, src_nodes, tgt_nodes, False


def _spots(index: RoadIndex, snaps: SnapArrays) -> np.ndarray:
    """Snapped positions in the index's projected metres."""
    t = snaps.fraction
    x = index.px[snaps.a] + t * (index.px[snaps.b] - index.px[snaps.a])
    y = index.py[snaps.a] + t * (index.py[snaps.b] - index.py[snaps.a])
    return np.column_stack([x, y])


def _reach_m(index: RoadIndex, metric: str, limit: float) -> float:
    """Straight-line distance a path of cost `limit` can cover, with a margin for rounding and
    for the sphere (edge lengths) vs ellipsoid (projection) difference."""
    if metric == "length":
        return limit / SCALE["length"] * 1.01 + 5.0
    times, lengths = index.weights["travel_time"], index.weights["length"]
    moving = times > 0
    speed = float((lengths[moving] / times[moving]).max()) if moving.any() else 0.0  # mm/ms = m/s
    return limit / SCALE["travel_time"] * speed * 1.01 + 5.0
