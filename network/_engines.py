"""Many-to-many shortest paths between snapped points: a CCH index and a plain Dijkstra."""

from __future__ import annotations

import io
import math
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import numpy.lib.format as npy_format
import routingkit_cch as rk
import scipy.sparse as sp
from scipy.sparse.csgraph import dijkstra

from network._index import RoadIndex
from network.cache import atomic_write_bytes, log

# Dense Dijkstra output rows are computed in chunks of at most this many cells (~200 MB).
_CHUNK_CELLS = 25_000_000
# Integers up to 2**53 are exact in float64 (scipy's Dijkstra sums costs as doubles).
_EXACT_FLOAT = 2.0**53


@dataclass(frozen=True)
class Entries:
    """Ways into the graph for a set of points: (point, node, offset) rows sorted by point.

    For a source, `offset` is the cost from the point to `node` along its own segment; for a
    target, the cost from `node` to the point. `direct` holds (source, target, cost) for pairs
    on the same segment that reach each other without leaving it.
    """

    point: np.ndarray
    node: np.ndarray
    offset: np.ndarray


def cch_metric(index: RoadIndex, metric: str) -> rk.CCHMetric:
    """The customised CCH for one metric, built once per index (the order and topology are
    shared between metrics)."""
    key = ("cch", metric)
    if key not in index.engines:
        if "cch-topology" not in index.engines:
            index.engines["cch-topology"] = rk.CCH(
                cch_order(index).tolist(), index.tail.tolist(), index.head.tolist(), False
            )
        index.engines[key] = rk.CCHMetric(
            index.engines["cch-topology"], index.weights[metric].tolist()
        )
    return index.engines[key]


def cch_order(index: RoadIndex) -> np.ndarray:
    """The CCH node order (inertial-flow nested dissection), once per index: the costly part
    of the index, so it is read from `index.order_file` when the graph has one that fits, else
    computed and saved there. Kept on the index so a built-graph folder can be given the order
    of an index built before the folder existed (`save_order`)."""
    if "cch-order" not in index.engines:
        path = Path(index.order_file) if index.order_file else None
        order = _saved_order(path, index.n)
        if order is None:
            order = np.asarray(
                rk.compute_order_inertial(
                    index.n, index.tail.tolist(), index.head.tolist(), index.y.tolist(),
                    index.x.tolist(),
                ),
                dtype=np.int64,
            )  # fmt: skip
            if path is not None:
                _try_save_order(order, path)
        index.engines["cch-order"] = order
    return index.engines["cch-order"]


def _try_save_order(order: np.ndarray, path: Path) -> None:
    """Save the order for later runs if the place can be written; else warn and go on with it
    in memory (a built folder on a read-only mount, a full disk): like a cache entry, it only
    makes later queries start sooner, never worth failing a matrix for."""
    try:
        save_order(order, path)
    except OSError as err:
        log.warning("CCH order: not saved to %s (%s); it is computed again next time", path, err)


def _saved_order(path: Path | None, n: int) -> np.ndarray | None:
    """The order saved at `path` if it is one for this graph, else None: a missing, damaged or
    mismatched file is then recomputed and rewritten, like a stale cache entry. That is safe
    because the order only makes queries fast; any permutation gives the same costs."""
    if path is None or not path.is_file():
        return None
    try:
        return read_order(path, n)
    except UnreadableOrder:
        return None


class UnreadableOrder(Exception):
    """A file that does not hold a CCH order for the graph; the message says why."""


def read_order(path: Path, n: int) -> np.ndarray:
    """The CCH order saved at `path` for a graph of `n` nodes, or UnreadableOrder.

    A damaged or cut-short .npy fails to load in several ways (ValueError, EOFError, OSError),
    and an array that loads but is not a permutation of 0..n-1 (repeated or out-of-range nodes,
    floats, 2-D) makes routingkit panic, an exception no caller expects - so both are refused
    here, before the order reaches it."""
    order = _load_npy(path)
    if order.ndim != 1 or order.dtype.kind not in "iu":
        raise UnreadableOrder("holds no 1-D integer array")
    if len(order) != n:
        raise UnreadableOrder(f"holds an order of {len(order)} nodes for a graph of {n}")
    if not np.array_equal(np.sort(order), np.arange(n)):
        raise UnreadableOrder(f"is not a permutation of the graph's nodes 0..{n - 1}")
    return order.astype(np.int64)


def _load_npy(path: Path) -> np.ndarray:
    """The array in a .npy file, or UnreadableOrder. Checks the magic bytes first: for any other
    file numpy's own error advises loading it with pickle, no advice to give for a damaged file."""
    try:
        with open(path, "rb") as handle:
            if handle.read(len(npy_format.MAGIC_PREFIX)) != npy_format.MAGIC_PREFIX:
                raise UnreadableOrder("not a .npy file")
            handle.seek(0)
            return npy_format.read_array(handle, allow_pickle=False)
    except UnreadableOrder:
        raise
    except Exception as err:  # a cut-short or damaged file fails in several ways
        raise UnreadableOrder(f"{type(err).__name__}: {err}") from None


def save_order(order: np.ndarray, path: str | Path) -> None:
    """Write a CCH order as .npy atomically (readers never see a partial file)."""
    buffer = io.BytesIO()
    np.save(buffer, np.asarray(order, dtype=np.int64))
    atomic_write_bytes(Path(path), buffer.getvalue())


class CchRows:
    """Cost rows (float, inf = no path) from source points to fixed target points, one CCH
    one-to-many sweep per source. The targets are pinned once, so the rows can be asked for a
    block at a time (bounded memory for a huge matrix) at no extra cost, with the same values.

    It takes the same integer inputs as the plain Dijkstra (``dijkstra_rows``: arc weights, and
    per point the entry/exit nodes with the partial-edge offsets) and so returns exactly the same
    integers; `direct` holds the (source, target, cost) pairs that meet along one segment. The
    lengths of the fastest paths (what a vehicle drives) come from a Dijkstra ordered by time,
    then length (``fastest_path_lengths``).
    """

    def __init__(
        self, index: RoadIndex, metric: str, sources: Entries, targets: Entries,
        direct: np.ndarray, n_src: int, n_tgt: int,
    ) -> None:  # fmt: skip
        pinned, self._pin_pos = np.unique(targets.node, return_inverse=True)
        self._starts = np.searchsorted(targets.point, np.arange(n_tgt))
        self._query = rk.CCHOneToMany(cch_metric(index, metric), pinned.tolist())
        self._src_start = np.searchsorted(sources.point, np.arange(n_src + 1))
        self._nodes, self._offsets = sources.node.tolist(), sources.offset.tolist()
        self._tgt_off = targets.offset.astype(float)
        self._direct = direct
        self._n_tgt = n_tgt

    def rows(self, lo: int, hi: int) -> np.ndarray:
        """The rows of sources lo..hi-1."""
        out = np.full((hi - lo, self._n_tgt), np.inf)
        for i in range(lo, hi):
            first, last = self._src_start[i], self._src_start[i + 1]
            row = self._query.distances_from_multi(
                list(zip(self._nodes[first:last], self._offsets[first:last], strict=True))
            )
            dist = np.array(row, dtype=float)  # None (no path) becomes nan
            dist[np.isnan(dist)] = np.inf
            out[i - lo] = np.minimum.reduceat(dist[self._pin_pos] + self._tgt_off, self._starts)
        near = self._direct[(self._direct[:, 0] >= lo) & (self._direct[:, 0] < hi)]
        np.minimum.at(out, (near[:, 0] - lo, near[:, 1]), near[:, 2].astype(float))
        return out


def augmented_csr(
    index: RoadIndex, arc_weights: np.ndarray, sources: Entries, targets: Entries,
    direct: np.ndarray, n_src: int, n_tgt: int,
) -> sp.csr_matrix:  # fmt: skip
    """The road graph (arcs weighted by `arc_weights`) plus one virtual node per source (arcs
    out to its entry nodes) and per target (arcs in from its exit nodes), and the same-segment
    shortcuts between them. The arcs come in the same order for every weighting, so graphs of
    two metrics for the same points share their sparsity structure entry for entry."""
    n = index.n
    rows = np.concatenate([index.tail, n + sources.point, targets.node, n + direct[:, 0]])
    cols = np.concatenate(
        [index.head, sources.node, n + n_src + targets.point, n + n_src + direct[:, 1]]
    )
    data = np.concatenate([arc_weights, sources.offset, targets.offset, direct[:, 2]]).astype(float)
    size = n + n_src + n_tgt
    # Explicit zero-cost arcs (a point exactly on a node) are kept: csgraph treats them as arcs.
    return sp.csr_matrix((data, (rows, cols)), shape=(size, size))


#: Called before each chunk of a search (`dijkstra_rows`, `dijkstra_nearby`); it may raise to
#: end the search there (a job cancelled while its catchments are measured).
Between = Callable[[], None]


def dijkstra_rows(
    graph: sp.csr_matrix,
    sources: np.ndarray,
    columns: np.ndarray,
    limit: float = np.inf,
    between: Between | None = None,
) -> np.ndarray:
    """Dijkstra (scipy) from each source node, keeping only `columns`; chunked to bound memory,
    `between` called before each chunk. Costs above `limit` are not searched and come back as
    inf."""
    chunk = max(1, _CHUNK_CELLS // graph.shape[0])
    out = np.empty((len(sources), len(columns)))
    for lo in range(0, len(sources), chunk):
        if between is not None:
            between()
        part = dijkstra(graph, directed=True, indices=sources[lo : lo + chunk], limit=limit)
        out[lo : lo + chunk] = part[:, columns]
    return out


def fastest_path_lengths(
    times: sp.csr_matrix, lengths: sp.csr_matrix, sources: np.ndarray, columns: np.ndarray,
    slowest: float,
) -> np.ndarray:  # fmt: skip
    """Length of the fastest path from each source to each column (inf where there is none);
    among paths of equal (integer) time, the shortest. `times` and `lengths` weight the same
    arcs (integer ms and mm, same structure); `slowest` is the largest finite fastest time
    between the sources and columns (from the duration matrix).

    One exact Dijkstra per source on a single float weight, time·M + length, with M a power of
    two above the length of any path no slower than `slowest`: its order is time first, then
    length, and a settled cost splits back into both. Integers stay exact in float64 while
    (slowest + 1)·M <= 2**53, which holds for spans of hours at road speeds. Past that, a
    Dijkstra on time alone with its predecessor tree, lengths summed along the tree; equal-time
    ties then go to the path scipy settles first.
    """
    moving = times.data > 0
    speed = float((lengths.data[moving] / times.data[moving]).max()) if moving.any() else 0.0
    creep = float(lengths.data[~moving].max()) if (~moving).any() else 0.0
    # A path's length is at most speed x its time, plus its zero-time arcs (at most one per node).
    bound = speed * slowest * (1 + 1e-9) + creep * times.shape[0] + 1.0
    scale = 2.0 ** math.ceil(math.log2(bound + 1.0))
    if (slowest + 1.0) * scale > _EXACT_FLOAT:
        return _tree_lengths(times, lengths, sources, columns)
    key = times.copy()
    key.data = times.data * scale + lengths.data
    out = dijkstra_rows(key, sources, columns, limit=(slowest + 1.0) * scale)
    found = np.isfinite(out)
    out[found] = np.mod(out[found], scale)
    return out


def _tree_lengths(
    times: sp.csr_matrix, lengths: sp.csr_matrix, sources: np.ndarray, columns: np.ndarray
) -> np.ndarray:
    """Lengths along scipy's fastest-path trees: each node's parent-arc length, then summed
    to the root by pointer jumping (a node adds its ancestor's sum and jumps to the ancestor's
    ancestor: log2(depth) vectorised steps)."""
    size = times.shape[0]
    arc_keys = np.repeat(np.arange(size), np.diff(times.indptr)) * size + times.indices
    by_key = np.argsort(arc_keys, kind="stable")
    sorted_keys = arc_keys[by_key]
    node = np.arange(size)
    chunk = max(1, _CHUNK_CELLS // (4 * size))
    out = np.empty((len(sources), len(columns)))
    for lo in range(0, len(sources), chunk):
        cost, pred = dijkstra(
            times, directed=True, indices=sources[lo : lo + chunk], return_predecessors=True
        )
        root = pred < 0  # the source itself, and nodes it cannot reach
        ancestor = np.where(root, node, pred)
        where = np.searchsorted(sorted_keys, ancestor * size + node).clip(max=len(by_key) - 1)
        total = np.where(root, 0.0, lengths.data[by_key[where]])
        while True:
            up = np.take_along_axis(ancestor, ancestor, axis=1)
            if np.array_equal(up, ancestor):
                break
            total += np.take_along_axis(total, ancestor, axis=1)
            ancestor = up
        out[lo : lo + chunk] = np.where(np.isfinite(cost[:, columns]), total[:, columns], np.inf)
    return out


def dijkstra_nearby(
    graph: sp.csr_matrix, xy: np.ndarray, sources: np.ndarray, columns: np.ndarray,
    limit: float, radius_m: float, between: Between | None = None,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:  # fmt: skip
    """(row, column, cost) of every source/column pair within `limit`: a limit-pruned Dijkstra
    on small subgraphs instead of the whole graph, `between` called before each chunk.

    Sources are grouped by a coarse grid; each group searches only the nodes within `radius_m`
    (straight line, `xy` in metres) of its cell, which holds every path of cost <= `limit` when
    `radius_m` bounds the distance such a path can cover. This avoids scipy's dense output over
    all nodes for every source, which dominates at 20k x 2k points.
    """
    column_of = np.full(graph.shape[0], -1)
    column_of[columns] = np.arange(len(columns))
    by_x = np.argsort(xy[:, 0], kind="stable")
    sorted_x = xy[by_x, 0]
    cell = 4 * radius_m
    groups: dict[tuple[int, int], list[int]] = {}
    for row, key in enumerate(map(tuple, np.floor(xy[sources] / cell).astype(np.int64).tolist())):
        groups.setdefault(key, []).append(row)
    found: list[tuple[np.ndarray, np.ndarray, np.ndarray]] = []
    for (kx, ky), members in groups.items():
        x0, y0 = kx * cell - radius_m, ky * cell - radius_m
        strip = by_x[
            np.searchsorted(sorted_x, x0) : np.searchsorted(
                sorted_x, x0 + cell + 2 * radius_m, "right"
            )
        ]
        inside = np.sort(strip[(xy[strip, 1] >= y0) & (xy[strip, 1] <= y0 + cell + 2 * radius_m)])
        subgraph = graph[inside][:, inside]
        hit = np.flatnonzero(column_of[inside] >= 0)
        rows = np.asarray(members)
        starts = np.searchsorted(inside, sources[rows])
        # The dense output is sources x subgraph nodes: chunked as `dijkstra_rows` is, or a
        # crowded cell (50,000 doors x 10,000 sites in 2 km2) held 4 GB at once.
        chunk = max(1, _CHUNK_CELLS // len(inside))
        for lo in range(0, len(rows), chunk):
            if between is not None:
                between()
            dist = dijkstra(subgraph, directed=True, indices=starts[lo : lo + chunk], limit=limit)
            r, c = np.nonzero(dist[:, hit] <= limit)
            found.append((rows[lo + r], column_of[inside[hit[c]]], dist[r, hit[c]]))
    if not found:
        return np.empty(0, np.int64), np.empty(0, np.int64), np.empty(0)
    rows, cols, costs = (np.concatenate(parts) for parts in zip(*found, strict=True))
    return rows, cols, costs
