"""Read highway ways and their node locations from an OSM XML (.osm/.bz2/.gz) or PBF file."""

from __future__ import annotations

import bz2
import contextlib
import gzip
import math
import os
from dataclasses import dataclass
from pathlib import Path
from xml.etree import ElementTree

import osmium

from network.errors import OsmFileError

# The file-name endings read (in any letter case) and the osmium format each names: osmium
# guesses the format from the name itself and knows lower-case endings only ("X.OSM" fails).
FORMATS = {
    ".osm": "osm", ".osm.bz2": "osm.bz2", ".osm.gz": "osm.gz", ".osm.pbf": "pbf", ".pbf": "pbf",
    ".osm.xml": "xml", ".xml": "xml",
}  # fmt: skip
# What each osmium format holds, as its first bytes show (`_content`), the name shown for it,
# and the ending a file holding it should have.
_CONTENT_OF = {"osm": "xml", "xml": "xml", "osm.bz2": "bzip2", "osm.gz": "gzip", "pbf": "pbf"}
_CONTENT_NAMES = {
    "xml": "OSM XML", "gzip": "gzip-compressed", "bzip2": "bzip2-compressed", "pbf": "PBF",
}  # fmt: skip
_SUFFIX_FOR = {"xml": ".osm", "gzip": ".osm.gz", "bzip2": ".osm.bz2", "pbf": ".osm.pbf"}


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
    large PBF extracts read quickly. That cache places a way's nodes only if they come before
    it, and holds positive ids only: refs left without a location are looked up once the file
    is read (nodes after their ways: Overpass's `out; >; out skel;`), and nodes with negative
    ids (new in JOSM) in one more pass (`_locations`). Deleted ways (`visible="false"`, or JOSM's
    `action="delete"`: see `deleted_in_editor`) are left out. The free-standing nodes' extent
    costs two more passes and is computed only when asked for and the file has no `<bounds>`.
    """
    path = Path(path)
    source = osm_input(path)
    coords: dict[int, tuple[float, float]] = {}
    read: list[tuple[int, dict[str, str], list[int]]] = []
    try:
        processor = osmium.FileProcessor(source)
        header = processor.header
        box = header.box()
        deleted = deleted_in_editor(path, header)
        highways = (
            processor.with_locations()
            .with_filter(osmium.filter.EntityFilter(osmium.osm.WAY))
            .with_filter(osmium.filter.KeyFilter("highway"))
        )
        for way in highways:
            if way.deleted or ("w", way.id) in deleted:
                continue
            refs = []
            for node in way.nodes:
                refs.append(node.ref)
                if node.location.valid():
                    coords[node.ref] = (node.location.lon, node.location.lat)
            read.append((way.id, {t.k: t.v for t in way.tags}, refs))
        unplaced = {ref for *_, refs in read for ref in refs if ref not in coords}
        if unplaced:
            coords |= _locations(processor.node_location_storage, source, unplaced)
        if not read and not any(True for _ in osmium.FileProcessor(source, osmium.osm.NODE)):
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
    ways = [
        Way(osmid, tags, [ref if ref in coords else None for ref in refs])
        for osmid, tags, refs in read
    ]
    missing = sum(node is None for way in ways for node in way.nodes)
    return OsmExtract(coords, ways, bounds, free, missing)


def _locations(
    table: osmium.index.LocationTable, source: osmium.io.File, wanted: set[int]
) -> dict[int, tuple[float, float]]:
    """(lon, lat) of the wanted nodes the file holds. A node read after its ways is in the
    location `table` all the same (it keeps every node read); a node with a negative id is
    not (the table takes none), so a file holding such refs (new objects in JOSM; small
    files) has its nodes read once more, through Python."""
    found: dict[int, tuple[float, float]] = {}
    for ref in wanted:
        if ref >= 0:
            with contextlib.suppress(KeyError):  # not in the file: a clipped extract
                location = table.get(ref)
                found[ref] = (location.lon, location.lat)
    negative = {ref for ref in wanted if ref < 0}
    if negative:
        found |= {
            node.id: (node.location.lon, node.location.lat)
            for node in osmium.FileProcessor(source, osmium.osm.NODE)
            if node.id in negative and node.location.valid()
        }
    return found


def deleted_in_editor(path: Path, header: osmium.io.Header) -> frozenset[tuple[str, int]]:
    """The objects a JOSM file marks `action="delete"` (deleted in the editor and not yet
    uploaded), as ("n" | "w" | "r", id). osmium reads no `action` attribute (it gives only
    `visible="false"`, as `deleted`), so the XML is parsed once more for it, only where JOSM
    wrote the file (its header's generator; JOSM writes no PBF): a file other tools wrote holds
    no such marks. Other editors' marks (none known to use `action`) are not looked for."""
    opener = {".gz": gzip.open, ".bz2": bz2.open, ".pbf": None}.get(path.suffix.lower(), open)
    if opener is None or not (header.get("generator") or "").startswith("JOSM"):
        return frozenset()
    kinds = {"node": "n", "way": "w", "relation": "r"}
    found: set[tuple[str, int]] = set()
    try:
        with opener(path, "rb") as handle:
            for event, elem in ElementTree.iterparse(handle, events=("start", "end")):
                if event == "end" and elem.tag in kinds:
                    elem.clear()  # keep memory flat: only the marks are wanted
                elif elem.tag in kinds and elem.get("action") == "delete":
                    found.add((kinds[elem.tag], int(elem.get("id", "0"))))
    except (OSError, ElementTree.ParseError, ValueError) as err:
        raise OsmFileError(f"OSM file '{path}': cannot be read as OSM XML ({err})") from None
    return frozenset(found)


def osm_input(path: Path) -> osmium.io.File:
    """The file as osmium input with its format named from the file-name ending, so that the
    check here and osmium's reading agree whatever the letter case. A file whose first bytes
    show another format than its name says (PBF named .osm, XML named .osm.pbf, gzip named
    .osm) is refused in one line that names both, where osmium would give a parser error."""
    if not path.is_file():
        raise OsmFileError(f"OSM file '{path}': no such file")
    name = path.name.lower()
    suffix = next((suffix for suffix in FORMATS if name.endswith(suffix)), None)
    if suffix is None:
        raise OsmFileError(
            f"OSM file '{path}': unknown file type; expected one of {', '.join(FORMATS)}"
        )
    kind = FORMATS[suffix]
    found = _content(path)
    if found is not None and found != _CONTENT_OF[kind]:
        raise OsmFileError(
            f"OSM file '{path}': its content is {_CONTENT_NAMES[found]} data, but its name's "
            f"ending {suffix} says {_CONTENT_NAMES[_CONTENT_OF[kind]]}; rename it to end in "
            f"{_SUFFIX_FOR[found]}"
        )
    return osmium.io.File(str(path), kind)


def _content(path: Path) -> str | None:
    """What a file's first bytes show it holds ("xml", "gzip", "bzip2", "pbf"), or None where
    they show none of these (left to osmium, which then names what it could not read)."""
    try:
        with open(path, "rb") as handle:
            head = handle.read(64)
    except OSError as err:
        raise OsmFileError(f"OSM file '{path}': cannot be read ({err.strerror})") from None
    if head.startswith(b"\x1f\x8b"):
        return "gzip"
    if head.startswith(b"BZh"):
        return "bzip2"
    if b"OSMHeader" in head[:24]:  # a PBF's first blob: its length, then its type
        return "pbf"
    if head.removeprefix(b"\xef\xbb\xbf").lstrip().startswith((b"<?xml", b"<osm")):
        return "xml"
    return None


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
