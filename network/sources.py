"""What a map source names: a built-in map ("demo", "synthetic:N") or a path on disk.

Every command and the server resolve a source here, keywords first: a folder that happens to be
called `demo` in the working folder (`gongpei demo -o demo` makes one) hijacked `--network demo`
and `GONGPEI_MAP_NETWORK=demo` in some places and not in others.
"""

from __future__ import annotations

import functools
import logging
import os
from pathlib import Path

log = logging.getLogger("gongpei.network")

DEMO = "demo"
SYNTHETIC = "synthetic:"


def is_builtin(source: str | os.PathLike[str]) -> bool:
    """Whether ``source`` is a built-in map's keyword: "demo" or "synthetic:..." (whose N
    `network.graph.build_graph` checks), never a file or folder of that name."""
    text = os.fspath(source)
    return text == DEMO or text.startswith(SYNTHETIC)


def built_folder(source: str | os.PathLike[str]) -> Path | None:
    """The `gongpei network build` folder ``source`` names, or None for a keyword or a file.

    A keyword wins over a folder of the same name; when that folder is a built graph, which
    the user may have meant, a warning (once per folder) says how to name it instead."""
    path = Path(source)
    if not is_builtin(source):
        return path if path.is_dir() else None
    from network.store import INFO  # here: the store loads networkx, keywords need none

    if (path / INFO).is_file():
        _warn_shadowed(os.fspath(source), str(path.absolute()))
    return None


@functools.lru_cache(maxsize=8)  # once per folder: a server resolves its map on every request
def _warn_shadowed(keyword: str, folder: str) -> None:
    log.warning(
        "'%s' is the built-in map; the built graph folder %s is not used (name it as "
        "./%s to use it)", keyword, folder, keyword
    )
