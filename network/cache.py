"""On-disk cache of built graphs, keyed by the input file's content hash and the settings."""

from __future__ import annotations

import contextlib
import hashlib
import json
import logging
import os
import pickle
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any, BinaryIO

import networkx as nx

# Bump when the graph format or the build rules change, so old entries are not reused.
FORMAT_VERSION = 8
_CHUNK = 1 << 20
log = logging.getLogger("gongpei.network")


def _file_sha256(path: Path) -> str:
    """Hex SHA-256 of a file's bytes (the cache key follows content, not name or mtime)."""
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        while chunk := handle.read(_CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


def atomic_write_bytes(path: Path, data: bytes) -> None:
    """Write a file so that readers see either nothing or the whole content, never a part."""
    with atomic_file(path) as handle:
        handle.write(data)


@contextlib.contextmanager
def atomic_file(path: Path) -> Iterator[BinaryIO]:
    """A binary file to write whose content appears at `path` only when the block ends without
    error, all at once: it is written beside `path` and renamed onto it, so readers see the
    previous file or the whole new one, never a part; an error or an interrupt (Ctrl-C) removes
    it. For output too big to build in memory first (`atomic_write_bytes`)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as handle:
            yield handle
        os.chmod(tmp, 0o644)  # mkstemp makes 0600; cache entries are ordinary files
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


class UnreadableGraph(Exception):
    """A pickle file that does not give back a road graph; the message says why."""


def read_graph_pickle(path: Path) -> nx.MultiDiGraph:
    """The road graph pickled at `path`, or UnreadableGraph.

    Unpickling can fail in more ways than its own errors: a partly written or damaged file, a
    class or module that no longer imports after a library upgrade (ImportError,
    AttributeError), a constructor refusing old state (TypeError, ValueError) - so any failure
    counts, and so does an object that is not a MultiDiGraph."""
    try:
        with open(path, "rb") as handle:
            graph = pickle.load(handle)
    except Exception as err:  # any failure means unreadable (see the docstring)
        raise UnreadableGraph(f"{type(err).__name__}: {err}") from None
    if not isinstance(graph, nx.MultiDiGraph):
        raise UnreadableGraph(f"holds a {type(graph).__name__}, not a road graph")
    return graph


class GraphCache:
    """A folder of pickled graphs named by a hash of (input content, settings, format)."""

    def __init__(self, folder: str | os.PathLike[str]) -> None:
        self.folder = Path(folder)

    def key(self, path: Path | None, settings: dict[str, Any]) -> str:
        """Cache key; reading `path` here also surfaces a missing input file early."""
        from network.errors import OsmFileError

        content = ""
        if path is not None:
            if not path.is_file():
                raise OsmFileError(f"OSM file '{path}': no such file")
            content = _file_sha256(path)
        blob = json.dumps([FORMAT_VERSION, content, settings], sort_keys=True)
        return hashlib.sha256(blob.encode()).hexdigest()[:32]

    def load(self, key: str) -> nx.MultiDiGraph | None:
        """The cached graph, or None if absent or unreadable (then it is rebuilt: a cache entry
        is never worth failing a build for)."""
        entry = self.folder / f"graph-{key}.pickle"
        if not entry.is_file():
            return None
        try:
            graph = read_graph_pickle(entry)
        except UnreadableGraph:
            return None
        graph.graph["cache"] = "hit"
        return graph

    def store(self, key: str, graph: nx.MultiDiGraph) -> bool:
        """Save atomically and say whether it was saved: a folder that cannot be written
        (read-only, full, not a folder) is a warning, not an error, as a cache entry is never
        worth failing a build for. The graph in memory is marked as a cache miss."""
        entry = self.folder / f"graph-{key}.pickle"
        try:
            atomic_write_bytes(entry, pickle.dumps(graph, protocol=pickle.HIGHEST_PROTOCOL))
            saved = True
        except OSError as err:
            log.warning("graph cache: not saved to %s (%s); built without caching", entry, err)
            saved = False
        graph.graph["cache"] = "miss"
        return saved
