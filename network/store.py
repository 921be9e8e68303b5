"""A built-graph folder: GraphML export, a fast pickle, the matrix index and a JSON summary."""

from __future__ import annotations

import contextlib
import fcntl
import itertools
import json
import os
import pickle
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from xml.etree.ElementTree import Element, tostring

import networkx as nx
from networkx.readwrite.graphml import GraphMLWriter

from network._engines import UnreadableOrder, cch_order, read_order, save_order
from network._index import road_index
from network.cache import UnreadableGraph, read_graph_pickle
from network.errors import BuiltGraphError
from network.sources import built_folder

GRAPHML = "graph.graphml"
PICKLE = "graph.pickle"
ORDER = "cch-order.npy"
INFO = "info.json"
GRAPH_FILES = frozenset({GRAPHML, PICKLE, ORDER, INFO})  # all that a built-graph folder holds
# Graph attributes left out of the GraphML: the folder's own path (set when loaded), and an
# array of the roads the build dropped (for snap errors), which GraphML has no type for.
_NOT_GRAPHML = frozenset({"index_file", "dropped_roads"})


def summary(graph: nx.MultiDiGraph) -> dict[str, Any]:
    """What `gongpei network info` shows: source, profile, size, extent and the build report."""
    xs = [d["x"] for _, d in graph.nodes(data=True)]
    ys = [d["y"] for _, d in graph.nodes(data=True)]
    return {
        "source": graph.graph.get("source"),
        "profile": graph.graph.get("profile"),
        "crs": graph.graph.get("crs"),
        "nodes": graph.number_of_nodes(),
        "edges": graph.number_of_edges(),
        "extent_wsen": [min(xs), min(ys), max(xs), max(ys)],
        "total_length_km": round(sum(d["length"] for *_, d in graph.edges(data=True)) / 1000, 3),
        "report": graph.graph.get("report", {}),
    }


def check_graph_target(folder: str | os.PathLike[str], *, overwrite: bool = False) -> None:
    """``folder`` may receive a built graph: it is missing, empty or a previous build (its files
    only), or any folder with ``overwrite``; never a file. Replacing anything else would delete
    what the user keeps there, such as the OSM file the graph is built from."""
    folder = Path(folder)
    if folder.exists() and not folder.is_dir():
        raise BuiltGraphError(
            f"graph folder '{folder}': is a file; a built graph is written as a folder of files "
            "(choose a new folder)"
        )
    if folder.is_dir() and not overwrite and not {p.name for p in folder.iterdir()} <= GRAPH_FILES:
        raise BuiltGraphError(
            f"graph folder '{folder}': holds files that are not a built graph, which replacing "
            "it would delete (choose a new folder, or --overwrite to replace it)"
        )


def save_graph_dir(
    graph: nx.MultiDiGraph, folder: str | os.PathLike[str], *, overwrite: bool = False
) -> Path:
    """Write the folder atomically: it is assembled beside the target and renamed into place,
    so an error leaves either the previous folder or none, never a half-written one. Only a
    previous build is replaced, unless ``overwrite`` (see `check_graph_target`)."""
    folder = Path(folder)
    check_graph_target(folder, overwrite=overwrite)
    folder.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(dir=folder.parent, prefix=f".{folder.name}.tmp-"))
    try:
        # The order of the graph's index, reused if a matrix already built it in memory.
        save_order(cch_order(road_index(graph)), tmp / ORDER)
        graph.graph["index_file"] = str(folder / ORDER)
        with open(tmp / PICKLE, "wb") as handle:
            pickle.dump(graph, handle, protocol=pickle.HIGHEST_PROTOCOL)
        attributes = {k: v for k, v in graph.graph.items() if k not in _NOT_GRAPHML}
        attributes["report"] = json.dumps(graph.graph.get("report", {}), ensure_ascii=False)
        _write_graphml(graph, attributes, tmp / GRAPHML)
        (tmp / INFO).write_text(json.dumps(summary(graph), ensure_ascii=False, indent=2) + "\n")
        os.chmod(tmp, 0o755)
        with _locked(folder):
            if folder.exists():
                old = folder.with_name(f".{folder.name}.old-{os.getpid()}")
                folder.rename(old)
                tmp.rename(folder)
                shutil.rmtree(old)
            else:
                tmp.rename(folder)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    return folder


def _write_graphml(graph: nx.MultiDiGraph, attributes: dict[str, Any], path: Path) -> None:
    """Write `graph` as GraphML with `attributes` as the graph's own, byte for byte what
    `osmnx.save_graphml` writes (every value as its str(), through networkx's GraphML writer),
    which `osmnx.load_graphml` reads back with its types; but one node or edge at a time.

    `osmnx.save_graphml` copies the graph with every value turned into a string, then networkx
    builds an element tree of the whole document before writing it: about 1.2 GB and 16 s at
    82,000 nodes, on top of the build. Here networkx's own writer still names the keys and makes
    each element (escaping, layout), but each is written as soon as it is made. The keys come
    first in the file, so a first pass over the attribute names assigns them, in networkx's
    order (graph, then nodes, then edges, as first met; it lists them newest first)."""
    writer = GraphMLWriter()
    scopes = (
        ("graph", [attributes]),
        ("node", (data for _, data in graph.nodes(data=True))),
        ("edge", (data for *_, data in graph.edges(keys=True, data=True))),
    )
    for scope, dicts in scopes:
        for data in dicts:
            for name in data:
                writer.get_key(str(name), "string", scope, None)
    with open(path, "w", encoding="utf-8", errors="xmlcharrefreplace", newline="\n") as out:
        out.write("<?xml version='1.0' encoding='utf-8'?>\n")
        out.write(f"{_start_tag(writer.xml)}\n  ")
        for key in writer.xml:
            writer.indent(key, 1)
            out.write(tostring(key, encoding="unicode"))
        out.write(f"{_start_tag(Element('graph', edgedefault='directed'))}\n    ")
        last = None
        for element in _graph_children(writer, graph, attributes):
            if last is not None:
                out.write(tostring(last, encoding="unicode"))
            last = element
        if last is not None:
            last.tail = "\n  "  # the last child's line ends where </graph> starts
            out.write(tostring(last, encoding="unicode"))
        out.write("</graph>\n</graphml>\n")


def _graph_children(
    writer: GraphMLWriter, graph: nx.MultiDiGraph, attributes: dict[str, Any]
) -> Iterator[Element]:
    """The children of <graph> one by one, laid out at their depth: nodes, edges, then the
    graph's own data (networkx writes it last)."""
    items = itertools.chain(
        ((Element("node", id=str(n)), "node", data) for n, data in graph.nodes(data=True)),
        (
            (Element("edge", source=str(u), target=str(v), id=str(k)), "edge", data)
            for u, v, k, data in graph.edges(keys=True, data=True)
        ),
    )
    for element, scope, data in items:
        for name, value in data.items():
            element.append(writer.add_data(str(name), str, str(value), scope, None))
        writer.indent(element, 2)
        yield element
    for name, value in attributes.items():
        element = writer.add_data(str(name), str, str(value), "graph", None)
        writer.indent(element, 2)
        yield element


def _start_tag(element: Element) -> str:
    """The start tag of an element, as ElementTree writes it (its childless form `<a x="1" />`
    less the ` />`): for the elements written around streamed children."""
    return tostring(Element(element.tag, element.attrib), encoding="unicode")[: -len(" />")] + ">"


@contextlib.contextmanager
def _locked(folder: Path) -> Iterator[None]:
    """Hold an exclusive lock on `folder`'s lock file (beside it) while swapping it: two builds
    writing one folder at once (two commands, two workers) would otherwise move it away under
    each other (a FileNotFoundError, "Directory not empty", a leftover `.old-` folder). The
    lock file is removed while held, so none is left behind; a writer that locked a file
    already removed locks the new one instead."""
    path = folder.with_name(f".{folder.name}.lock")
    while True:
        with open(path, "a") as handle:  # closing it releases the lock
            fcntl.flock(handle, fcntl.LOCK_EX)
            try:
                current = os.stat(path)
            except FileNotFoundError:
                continue
            if os.path.samestat(os.fstat(handle.fileno()), current):
                try:
                    yield
                finally:
                    path.unlink()
                return


def load_graph_dir(folder: str | os.PathLike[str]) -> nx.MultiDiGraph:
    """The graph saved by `save_graph_dir`, with its matrix index attached."""
    folder = Path(folder)
    if not (folder / PICKLE).is_file():
        raise BuiltGraphError(
            f"graph folder '{folder}': no {PICKLE} (build one with `gongpei network build`)"
        )
    try:
        graph = read_graph_pickle(folder / PICKLE)
    except UnreadableGraph as err:
        raise BuiltGraphError(
            f"graph folder '{folder}': {PICKLE} is unreadable ({err}); build it again with "
            "`gongpei network build`"
        ) from None
    _check_order(folder, graph.number_of_nodes())
    graph.graph["index_file"] = str(folder / ORDER)
    return graph


def _check_order(folder: Path, n: int) -> None:
    """Refuse a folder whose CCH order file is damaged or is not an order of its graph: the
    folder is the user's own build, so it is not silently rewritten (a cache entry would be).
    A folder without the file is accepted; the first matrix computes and saves it."""
    if not (folder / ORDER).is_file():
        return
    try:
        read_order(folder / ORDER, n)
    except UnreadableOrder as err:
        raise BuiltGraphError(
            f"graph folder '{folder}': {ORDER} is unreadable ({err}); build it again with "
            "`gongpei network build`"
        ) from None


def source_profiles(source: str | os.PathLike[str]) -> tuple[str, ...]:
    """The travel profiles a map source has roads for: a `gongpei network build` folder holds
    one profile's graph (the one it was built for), an OSM file, "demo" or "synthetic:N" any.
    Cheap (reads the folder's summary, not its graph), so a server can check requests with it."""
    from network.profiles import PROFILES

    folder = built_folder(source)
    if folder is not None:
        return (read_info(folder)["profile"],)
    return tuple(PROFILES)


def read_info(folder: str | os.PathLike[str]) -> dict[str, Any]:
    """The folder's JSON summary."""
    path = Path(folder) / INFO
    if not path.is_file():
        raise BuiltGraphError(f"graph folder '{folder}': no {INFO} (not a built graph folder)")
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except ValueError as err:  # not JSON, or not even UTF-8 text (a damaged or binary file)
        raise BuiltGraphError(
            f"graph folder '{folder}': {INFO} is not valid JSON ({err})"
        ) from None
