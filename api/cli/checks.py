"""Command-line options checked before any work, so a long solve never ends in an error an
option could have shown: one line naming the option, exit code 2."""

from __future__ import annotations

import math
import os
import tempfile
from collections.abc import Mapping
from pathlib import Path

from network.errors import GongpeiError
from routing.engines import ENGINES, EngineError
from routing.solve import SEED_MAX

ENGINE_CHOICES = ("auto", *ENGINES)


class OptionError(GongpeiError):
    """A command-line option the command cannot use: one line naming it, exit code 2."""


def check_engine(engine: str) -> None:
    """The engine is known, checked before any work, naming every choice (`auto` too)."""
    if engine not in ENGINE_CHOICES:
        raise EngineError(
            f"engine: unknown engine '{engine}' (choose from {', '.join(ENGINE_CHOICES)})"
        )


def check_positive(option: str, value: float) -> None:
    """A time limit or count that must be above zero, refused by its option's name. Infinity
    too: click reads "inf" as a float, and no limit may be endless (the engines refused it
    only after the graphs were built and other plans solved)."""
    if not value > 0:
        raise OptionError(f"{option}: must be positive, got {value}")
    _check_finite(option, value)


def check_non_negative(option: str, value: float) -> None:
    """A count or share where 0 means something (always sample, sample everything) but a
    negative value nothing, refused by its option's name instead of silently read as 0."""
    if not value >= 0:
        raise OptionError(f"{option}: must be 0 or more, got {value}")
    _check_finite(option, value)


def check_share(option: str, value: float) -> None:
    """A share from 0 up to (not including) 1, as POST /v1/pool-runs takes it: a share of the
    average Shapley share of 1 or more stops sampling at its fewest permutations, so
    `--shapley-precision 2` (2 % meant) ran as good as unsampled."""
    check_non_negative(option, value)
    if value >= 1:
        raise OptionError(f"{option}: must be a share below 1 (0.02 for 2 %), got {value:g}")


def _check_finite(option: str, value: float) -> None:
    if not math.isfinite(value):
        raise OptionError(f"{option}: must be finite, got {value}")


def check_seed(option: str, seed: int) -> None:
    """A seed the engines accept, refused here rather than as PyVRP's TypeError mid-solve."""
    if not 0 <= seed <= SEED_MAX:
        raise OptionError(f"{option}: must be a whole number from 0 to {SEED_MAX}, got {seed}")


def check_output_files(
    inputs: Mapping[str, Path | None], outputs: Mapping[str, Path | None]
) -> None:
    """Each output file (by option) can be written and is neither an input (by what it is, e.g.
    "the problem file") nor another output, nor inside an input that is a built graph's folder
    (`network matrix -o GRAPH/info.json` replaced the graph's summary, and the folder was no
    graph any more): checked before any work, so a finished result is never lost to a bad
    path, never replaces what it was computed from, nor another result. A folder given where
    a file is expected is left to the command's reader to refuse."""
    seen = [(path, what) for what, path in inputs.items() if path is not None]
    for option, path in outputs.items():
        if path is None:
            continue
        for other, what in seen:
            if _same_file(path, other):
                raise OptionError(f"{option}: {path} is also {what}; write it elsewhere")
            if _inside_folder(path, other) and _is_built_graph(other):
                raise OptionError(f"{option}: {path} is inside {what}; write it elsewhere")
        check_writable_file(option, path)
        seen.append((path, f"the {option} file"))


def _inside_folder(path: Path, folder: Path) -> bool:
    """Whether ``path`` lies in (or under) the folder ``folder``."""
    return folder.is_dir() and path.resolve().is_relative_to(folder.resolve())


def _is_built_graph(folder: Path) -> bool:
    """Whether ``folder`` holds a `gongpei network build` graph (its info.json)."""
    from network.store import INFO  # here: the store loads networkx

    return (folder / INFO).is_file()


def _same_file(a: Path, b: Path) -> bool:
    """Whether two paths name one file: the same path once resolved (a symlink, `..`), or,
    where both exist, the same file on disk (a hard link, which only resolves to itself and
    so had an output replace the input it links to)."""
    if a.resolve() == b.resolve():
        return True
    try:
        return a.samefile(b)
    except OSError:  # one does not exist (yet), so is no hard link: the paths have said
        return False


def check_inputs_outside(option: str, folder: Path, inputs: Mapping[str, Path | None]) -> None:
    """No input (by what it is) lies in the output ``folder`` that ``--overwrite`` replaces
    whole: `network build city.osm -o . --overwrite` deleted the OSM file it had just read
    (`pool` and `scenario run` refuse such a folder through their staged output)."""
    for what, path in inputs.items():
        if path is not None and path.exists() and _inside_folder(path, folder):
            raise OptionError(
                f"{option}: {folder} holds {what} {path}, which --overwrite would delete; "
                "write it elsewhere"
            )


def check_writable_file(option: str, path: Path) -> None:
    """The file an option names can be written, checked before the solve so that a finished
    plan is never lost to a bad path (a missing folder, a folder in its place)."""
    if path.is_dir():
        raise OptionError(f"{option}: {path} is a folder, not a file")
    folder = path.absolute().parent
    if not path.exists() and not folder.is_dir():
        raise OptionError(f"{option}: cannot write {path}: there is no folder {folder}")
    refused = _refuses_new_entries(folder)
    if refused:
        raise OptionError(f"{option}: cannot write {path}: {refused}")
    if path.exists() and not os.access(path, os.W_OK):
        raise OptionError(f"{option}: cannot write {path}: the file is read-only")


def check_writable_folder(option: str, path: Path) -> None:
    """The folder an option names for outputs is one we can write into, or can create (with
    the folders above it, as the command does): probed in the nearest folder that exists, as
    `check_writable_file` probes, so that a read-only mount fails here and not after the solve."""
    existing = path.absolute()
    while not existing.exists():
        existing = existing.parent
    if not existing.is_dir():
        raise OptionError(f"{option}: cannot make folder {path}: {existing} is a file")
    refused = _refuses_new_entries(existing)
    if refused:
        raise OptionError(f"{option}: cannot make or write folder {path}: {refused}")


def _refuses_new_entries(folder: Path) -> str | None:
    """Why nothing can be made in ``folder`` (None: it can), found by making and dropping a
    temporary folder there: permission bits (`os.access`) say yes to root, on a read-only
    mount and in /proc too, and the command then failed with a traceback after its work."""
    try:
        with tempfile.TemporaryDirectory(dir=folder):
            return None
    except OSError as err:
        return f"{folder} does not take new files ({err.strerror})"
