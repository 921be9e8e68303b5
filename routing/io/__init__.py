"""Problem readers: native JSON, VROOM JSON and the VRPLIB, Solomon and Li & Lim benchmark files.

`read_problem(path, format=None)` picks the reader by name or guesses it from the file.
"""

from __future__ import annotations

from pathlib import Path

from routing.io.lilim import read_lilim
from routing.io.native import load_json, read_native, write_native
from routing.io.solomon import read_solomon
from routing.io.vroom import read_vroom
from routing.io.vrplib import read_vrplib
from routing.model import Problem, ProblemError

FORMATS = ("native", "vroom", "vrplib", "solomon", "lilim")
BENCHMARK_FORMATS = ("vrplib", "solomon", "lilim")  # Euclidean travel of their own

__all__ = [
    "FORMATS",
    "guess_format",
    "read_lilim",
    "read_native",
    "read_problem",
    "read_solomon",
    "read_vroom",
    "read_vrplib",
    "write_native",
]


def guess_format(path: str | Path) -> str:
    """The format of a problem file from its name and content.

    JSON whose vehicles, or else jobs and shipments, have integer ids is VROOM's (its ids are
    integers; native ids are strings), other JSON is native. Looking past the vehicles lets a
    VROOM file that lacks them be read as VROOM, and told so, not checked against the native
    schema. A UTF-8 byte order mark (Windows Notepad's) is no part of the text: it hid the
    "{" of a JSON file, which only `--format` then read.
    """
    path = Path(path)
    if path.suffix == ".vrp":
        return "vrplib"
    try:
        with path.open(encoding="utf-8-sig", errors="replace") as file:
            head = file.read(4000)
    except OSError as err:
        raise ProblemError(f"{path}: cannot read ({err.strerror or err})") from None
    stripped = head.lstrip()
    if stripped.startswith("{"):
        data = load_json(path)
        return "vroom" if isinstance(data, dict) and _vroom_ids(data) else "native"
    if "VEHICLE" in head and "CUSTOMER" in head:
        return "solomon"
    if "NODE_COORD_SECTION" in head or "EDGE_WEIGHT" in head:
        return "vrplib"
    first = stripped.splitlines()[0].split() if stripped else []
    if len(first) == 3 and all(x.replace(".", "").isdigit() for x in first):
        return "lilim"
    raise ProblemError(f"{path}: cannot tell its format; pass --format ({', '.join(FORMATS)})")


def _vroom_ids(data: dict) -> bool:
    """Whether the items' ids are all integers, as VROOM's are: the vehicles' if there are any,
    else the jobs' and the shipments' stops'."""

    def items(key: str) -> list:
        value = data.get(key)
        return [x for x in value if isinstance(x, dict)] if isinstance(value, list) else []

    stops = [s.get(end) for s in items("shipments") for end in ("pickup", "delivery")]
    tasks = [*items("jobs"), *(s for s in stops if isinstance(s, dict))]
    ids = [x.get("id") for x in items("vehicles") or tasks]
    return bool(ids) and all(isinstance(i, int) and not isinstance(i, bool) for i in ids)


def read_problem(
    path: str | Path,
    *,
    format: str | None = None,
    network: str | None = None,
    cache_dir: str | None = None,
    distance_rule: str = "auto",
) -> Problem:
    """Read a problem file in any supported format (guessed when `format` is None);
    `distance_rule` is a VRPLIB file's (`read_vrplib`)."""
    fmt = format or guess_format(path)
    if distance_rule != "auto" and fmt != "vrplib":
        raise ProblemError(
            f"--distance-rule: only VRPLIB files have a choice of rule; a {fmt} file's "
            "distances are as its format defines them"
        )
    if network is not None and fmt in BENCHMARK_FORMATS:
        raise ProblemError(
            f"--network: a {fmt} file carries its own distances (Euclidean), so a road network "
            "would be ignored; it times only native and VROOM files with coordinates"
        )
    if fmt == "native":
        return read_native(path, network=network, cache_dir=cache_dir)
    if fmt == "vroom":
        return read_vroom(path, network=network, cache_dir=cache_dir)
    if fmt == "vrplib":
        return read_vrplib(path, distance_rule=distance_rule)
    if fmt == "solomon":
        return read_solomon(path)
    if fmt == "lilim":
        return read_lilim(path)
    raise ProblemError(f"format: unknown format '{fmt}' (choose from {', '.join(FORMATS)})")
