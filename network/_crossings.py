"""Straight walks across highway areas: a square or pedestrian street mapped as a closed way with
`area=yes` is open ground, crossed in a straight line, not walked round along its outline.

Only closed ways are read as areas: a multipolygon relation (`type=multipolygon` + `highway`,
a square with holes) is not read at all, as the reader keeps ways only.
"""

from __future__ import annotations

import itertools
from collections.abc import Mapping, Sequence

import numpy as np
import shapely

from network._index import local_projection

MAX_DOORS = 30
"""Doors per area that crossings join. Every pair of doors is checked, so the work grows with
the square of their number: 30 doors are at most 435 checks per area."""
INSIDE_TOLERANCE_M = 0.05
"""How far a crossing may stray outside its area and still count as inside it: a crossing
along a straight stretch of the outline, or through a corner, lies on the outline, which
floating point puts a hair inside or out. 5 cm is above OSM's coordinate precision (1e-7
degrees, about 1 cm) and far below any width a walker would notice."""


def area_ring(nodes: Sequence[int | None]) -> list[int] | None:
    """The outline's nodes in order (the first not repeated at the end) where the way is a closed
    ring the file holds whole, of three nodes or more and none twice; else None. An open way,
    or a ring a clipped extract cut open, bounds no area to cross; a ring through one node
    twice is no simple polygon (its outline is still walked)."""
    ring = [node for node in nodes[:-1] if node is not None]
    whole = len(ring) == len(nodes) - 1 == len(set(ring))
    return ring if len(nodes) >= 4 and nodes[0] == nodes[-1] and whole else None


def crossings(
    coords: Mapping[int, tuple[float, float]],
    rings: Sequence[list[int]],
    users: Mapping[int, int],
) -> list[list[tuple[int, int]]]:
    """For each area's ring, the pairs of its doors joined by a straight crossing.

    A door is a node of the outline that another usable way also passes through (`users`: how
    many usable ways pass through each node), so that a walker arriving there may set off across
    the area. A pair gets a crossing where the straight line between them stays inside the area
    (not across the notch of an L-shaped square) and is not already one segment of the outline.
    Worked out in one local metric projection for all the areas (`coords`: (lon, lat)): it is
    conformal, so each area keeps its shape wherever it lies on the map.
    """
    if not rings:
        return []
    nodes = list(dict.fromkeys(node for ring in rings for node in ring))
    lon, lat = np.array([coords[node] for node in nodes]).T
    middle = (lon.min() + lon.max()) / 2, (lat.min() + lat.max()) / 2
    px, py = local_projection(*map(float, middle)).transform(lon, lat)
    planar = dict(zip(nodes, np.column_stack([px, py]), strict=True))
    return [_inside_pairs(ring, np.array([planar[node] for node in ring]), users) for ring in rings]


def _inside_pairs(
    ring: list[int], xy: np.ndarray, users: Mapping[int, int]
) -> list[tuple[int, int]]:
    """The door pairs of one ring (`xy`: its nodes in metres) whose straight line lies inside
    the ring's polygon. A self-crossing ring gets none: what is inside it is not defined."""
    polygon = shapely.Polygon(xy)
    if not polygon.is_valid:
        return []
    # Past MAX_DOORS, the doors after the first 30 in ring order get no crossing of their own:
    # a walker from one of them goes along the outline to a door that has crossings.
    doors = [i for i, node in enumerate(ring) if users[node] > 1][:MAX_DOORS]
    pairs = [
        (i, j) for i, j in itertools.combinations(doors, 2) if j - i not in (1, len(ring) - 1)
    ]
    if not pairs:
        return []
    area = polygon.buffer(INSIDE_TOLERANCE_M)
    shapely.prepare(area)
    inside = shapely.covers(area, shapely.linestrings(xy[np.array(pairs)])).tolist()
    return [(ring[i], ring[j]) for (i, j), ok in zip(pairs, inside, strict=True) if ok]
