"""Read highway ways and their node locations from an OSM XML (.osm/.bz2/.gz) or PBF file."""

from __future__ import annotations

import math
import os
from dataclasses import dataclass
from pathlib import Path

import osmium

from network.errors import OsmFileError

# The file-name endings read (in any letter case) and the osmium format each names: osmium
# guesses the format from the name itself and knows lower-case endings only ("X.OSM" fails).
FORMATS = {
    ".osm": "osm", ".osm.bz2": "osm.bz2", ".osm.gz": "osm.gz", ".osm.pbf": "pbf", ".pbf": "pbf",
    ".osm.xml": "xml", ".xml": "xml",
}  # fmt: skip


@dataclass(frozen=True)
class Way:
    """A highway way: OSM id, tags, and node ids (None where the file lacks the node)."""

    osmid: int
    tags: dict[str, str]
    nodes: list[int | None]


@dataclass
class OsmExtract:
    """What a loader needs from a file: node locations, highway ways and the file's extent.

    `bounds` is the file's own `<bounds>` (W, S, E, N) if it has one. `free_node_bounds` is the
    extent of nodes that belong to no way: an Overpass bbox export has no `<bounds>`, but its
    free-standing nodes were selected by the bbox, while its ways run far past it.
    """

    coords: dict[int, tuple[float, float]]
    ways: list[Way]
    bounds: tuple[float, float, float, float] | None
    free_node_bounds: tuple[float, float, float, float] | None
    missing_refs: int


def read_osm(path: str | os.PathLike[str], *, need_free_bounds: bool = True) -> OsmExtract:
    """Read an OSM file with pyosmium, keeping every `highway=*` way and its node locations.

    Node locations are resolved in pyosmium's C++ cache and only highway ways reach Python, so
    large PBF extracts read quickly. The free-standing nodes' extent costs two more passes and
    is computed only when asked for and the file has no `<bounds>`.
    """
    path = Path(path)
    source = osm_input(path)
    coords: dict[int, tuple[float, float]] = {}
    ways: list[Way] = []
    missing = 0
    try:
        processor = osmium.FileProcessor(source)
        box = processor.header.box()
        highways = (
            processor.with_locations()
            .with_filter(osmium.filter.EntityFilter(osmium.osm.WAY))
            .with_filter(osmium.filter.KeyFilter("highway"))
        )
        for way in highways:
            nodes: list[int | None] = []
            for node in way.nodes:
                if node.location.valid():
                    coords[node.ref] = (node.location.lon, node.location.lat)
                    nodes.append(node.ref)
                else:
                    missing += 1
                    nodes.append(None)
            ways.append(Way(way.id, {t.k: t.v for t in way.tags}, nodes))
        if not ways and not any(True for _ in osmium.FileProcessor(source, osmium.osm.NODE)):
            raise OsmFileError(
                f"OSM file '{path}': holds no OSM nodes (empty, truncated or not OSM)"
            )
        bounds = (
            (box.bottom_left.lon, box.bottom_left.lat, box.top_right.lon, box.top_right.lat)
            if box.valid()
            else None
        )
        free = _free_node_bounds(source) if bounds is None and need_free_bounds else None
    except RuntimeError as err:
        raise OsmFileError(f"OSM file '{path}': cannot be read as OSM data ({err})") from None
    return OsmExtract(coords, ways, bounds, free, missing)


def osm_input(path: Path) -> osmium.io.File:
    """The file as osmium input with its format named from the file-name ending, so that the
    check here and osmium's reading agree whatever the letter case."""
    if not path.is_file():
        raise OsmFileError(f"OSM file '{path}': no such file")
    name = path.name.lower()
    kind = next((kind for suffix, kind in FORMATS.items() if name.endswith(suffix)), None)
    if kind is None:
        raise OsmFileError(
            f"OSM file '{path}': unknown file type; expected one of {', '.join(FORMATS)}"
        )
    return osmium.io.File(str(path), kind)


def _free_node_bounds(source: osmium.io.File) -> tuple[float, float, float, float] | None:
    """Extent (W, S, E, N) of the nodes that belong to no way, if there are at least 10."""
    in_ways: set[int] = set()
    for way in osmium.FileProcessor(source, osmium.osm.WAY):
        in_ways.update(n.ref for n in way.nodes)
    w = s = math.inf
    e = n = -math.inf
    count = 0
    for node in osmium.FileProcessor(source, osmium.osm.NODE):
        if node.id not in in_ways and node.location.valid():
            lon, lat = node.location.lon, node.location.lat
            w, s, e, n = min(w, lon), min(s, lat), max(e, lon), max(n, lat)
            count += 1
    return (w, s, e, n) if count >= 10 else None
