"""Small OSM XML files of rectangles, one closed way per tag set, for the buildings tests."""

from __future__ import annotations

import math
from collections.abc import Collection
from pathlib import Path

LAT, LON = 32.04, 118.78  # Xinjiekou
#: West, south, east, north in metres east and north of (LAT, LON).
Box = tuple[float, float, float, float]


def rectangles_osm(
    folder: Path, shapes: list[tuple[Box, dict[str, str]]], *, doors: Collection[int] = ()
) -> Path:
    """`folder`/map.osm holding one rectangle way (ids 1, 2, ...) per (box, tags); the first
    corner of each rectangle whose index is in `doors` is an `entrance=main` node."""
    per_lon = 111_320 * math.cos(math.radians(LAT))
    nodes, ways = [], []
    for k, ((w, s, e, n), tags) in enumerate(shapes):
        ids = [10 * k + i + 1 for i in range(4)]
        for i, (x, y) in zip(ids, [(w, s), (e, s), (e, n), (w, n)], strict=True):
            door = '<tag k="entrance" v="main"/>' if k in doors and i == ids[0] else ""
            lat, lon = LAT + y / 111_320, LON + x / per_lon
            nodes.append(f'<node id="{i}" lat="{lat:.9f}" lon="{lon:.9f}">{door}</node>')
        refs = "".join(f'<nd ref="{i}"/>' for i in [*ids, ids[0]])
        text = "".join(f'<tag k="{key}" v="{value}"/>' for key, value in tags.items())
        ways.append(f'<way id="{k + 1}">{refs}{text}</way>')
    path = folder / "map.osm"
    body = "\n".join(nodes + ways)
    path.write_text(f'<?xml version="1.0"?>\n<osm version="0.6">\n{body}\n</osm>\n', "utf-8")
    return path
