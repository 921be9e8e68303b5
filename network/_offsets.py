"""Where snapped points join the graph: their entry and exit nodes with partial-edge costs."""

from __future__ import annotations

import numpy as np

from network._engines import Entries
from network._index import RoadIndex
from network.snap import SnapArrays


def entries(index: RoadIndex, metric: str, snaps: SnapArrays, *, as_source: bool) -> Entries:
    """Entry (source) or exit (target) nodes of each point with integer partial-edge costs.

    A point at fraction t on segment a-b leaves along arc a->b to b at cost (1-t)·w(a,b), and
    along b->a to a at t·w(b,a); it is reached from a at t·w(a,b) and from b at (1-t)·w(b,a).
    A point whose spot is a node (t exactly 0 or 1: on it, or snapped onto it from beyond the
    segment's end) is that node, entered and left there at no cost by every arc of it: the
    segment the R-tree returned is only one of the node's, and if it is one-way the wrong way
    its arcs alone would send the point round the block.
    """
    point, node, arc, share = [], [], [], []
    ends = zip(snaps.a.tolist(), snaps.b.tolist(), snaps.fraction.tolist(), strict=True)
    for i, (a, b, t) in enumerate(ends):
        if t == 0.0 or t == 1.0:
            point.append(i)
            node.append(a if t == 0.0 else b)
            arc.append(-1)  # none: the point is the node
            share.append(0.0)
            continue
        for tail, head, part in ((a, b, t), (b, a, 1.0 - t)):
            found = index.arc_of.get((tail, head))
            if found is None:
                continue
            point.append(i)
            node.append(head if as_source else tail)
            arc.append(found)
            share.append(1.0 - part if as_source else part)
    arcs = np.array(arc, dtype=np.int64)
    weights = np.where(arcs >= 0, index.weights[metric][arcs], 0)
    return Entries(
        np.array(point, dtype=np.int64), np.array(node, dtype=np.int64),
        np.round(np.array(share) * weights).astype(np.int64),
    )  # fmt: skip


def direct(index: RoadIndex, metric: str, src: SnapArrays, tgt: SnapArrays) -> np.ndarray:
    """(source, target, cost) for pairs on the same segment, travelling along it (the cost is
    the difference of the two points' integer offsets from the arc's tail)."""
    weights = index.weights[metric]
    by_segment: dict[tuple[int, int], list[int]] = {}
    for j, key in enumerate(zip(tgt.a.tolist(), tgt.b.tolist(), strict=True)):
        by_segment.setdefault(key, []).append(j)
    out = []
    for i, key in enumerate(zip(src.a.tolist(), src.b.tolist(), strict=True)):
        for j in by_segment.get(key, ()):
            ti, tj = src.fraction[i], tgt.fraction[j]
            for tail, head, si, sj in ((key[0], key[1], ti, tj), (key[1], key[0], 1 - ti, 1 - tj)):
                arc = index.arc_of.get((tail, head))
                if arc is not None and sj >= si:
                    w = int(weights[arc])
                    out.append((i, j, round(sj * w) - round(si * w)))
    return np.array(out, dtype=np.int64).reshape(-1, 3)
