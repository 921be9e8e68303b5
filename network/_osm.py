"""Read highway ways and their node locations from an OSM XML (.osm/.bz2/.gz) or PBF file."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

import osmium

from network.errors import OsmFileError

SUFFIXES = (".osm", ".osm.bz2", ".osm.gz", ".osm.pbf", ".pbf", ".osm.xml", ".xml")


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


def read_osm(path: str | os.PathLike[str]) -> OsmExtract:
    """Read an OSM file with pyosmium, keeping every `highway=*` way and its node locations."""
    path = Path(path)
    if not path.is_file():
        raise OsmFileError(f"OSM file '{path}': no such file")
    if not path.name.lower().endswith(SUFFIXES):
        raise OsmFileError(
            f"OSM file '{path}': unknown file type; expected one of {', '.join(SUFFIXES)}"
        )
    coords: dict[int, tuple[float, float]] = {}
    ways: list[Way] = []
    way_nodes: set[int] = set()
    all_nodes: list[tuple[int, float, float]] = []
    missing = 0
    try:
        processor = osmium.FileProcessor(str(path), osmium.osm.NODE | osmium.osm.WAY)
        box = processor.header.box()
        for obj in processor.with_locations():
            if obj.is_node():
                all_nodes.append((obj.id, obj.location.lon, obj.location.lat))
                continue
            refs = [n.ref for n in obj.nodes]
            way_nodes.update(refs)
            if "highway" not in obj.tags:
                continue
            nodes: list[int | None] = []
            for node in obj.nodes:
                if node.location.valid():
                    coords[node.ref] = (node.location.lon, node.location.lat)
                    nodes.append(node.ref)
                else:
                    missing += 1
                    nodes.append(None)
            ways.append(Way(obj.id, {t.k: t.v for t in obj.tags}, nodes))
    except RuntimeError as err:
        raise OsmFileError(f"OSM file '{path}': cannot be read as OSM data ({err})") from None
    if not all_nodes:
        raise OsmFileError(f"OSM file '{path}': holds no OSM nodes (empty, truncated or not OSM)")
    bounds = (
        (box.bottom_left.lon, box.bottom_left.lat, box.top_right.lon, box.top_right.lat)
        if box.valid()
        else None
    )
    free = [(lon, lat) for nid, lon, lat in all_nodes if nid not in way_nodes]
    free_bounds = None
    if len(free) >= 10:
        lons, lats = zip(*free, strict=True)
        free_bounds = (min(lons), min(lats), max(lons), max(lats))
    return OsmExtract(coords, ways, bounds, free_bounds, missing)
