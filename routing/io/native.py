"""The native problem format: the model itself as JSON, with travel computed when asked.

A native file is `routing.model.Problem` as JSON (`Problem.model_dump_json()` writes one). It may
leave out `matrices` and say instead how travel is to be found, from the locations' coordinates:
`"travel": {"source": "network", "osm": FILE}` or `{"source": "straight_line", ...}`
(see `routing.travel.matrices_for`); a `network` argument (the CLI's --network) does the same.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from routing.model import Location, Problem, ProblemError
from routing.travel import matrices_for


def load_json(path: str | Path) -> Any:
    """Parsed JSON, or a ProblemError naming the file and the line of the syntax error."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as err:
        raise ProblemError(f"{path}: cannot read ({err.strerror or err})") from None
    try:
        return json.loads(text)
    except json.JSONDecodeError as err:
        raise ProblemError(f"{path}: not valid JSON at line {err.lineno}: {err.msg}") from None


def problem_from_dict(data: Any, *, network: str | None = None,
                      cache_dir: str | None = None) -> Problem:
    """Validate a native problem dict, computing its matrices first when it has none."""
    if not isinstance(data, dict):
        raise ProblemError("problem: expected a JSON object")
    data = dict(data)
    travel = data.pop("travel", None)
    if network is not None or "matrices" not in data:
        locations = [Location.model_validate(x) for x in data.get("locations", [])]
        profiles = sorted({v.get("profile", "van") for v in data.get("vehicles", [])
                           if isinstance(v, dict)}) or ["van"]
        data["matrices"] = matrices_for(locations, profiles, travel=travel, network=network,
                                        cache_dir=cache_dir)
    return Problem.model_validate(data)


def read_native(path: str | Path, *, network: str | None = None,
                cache_dir: str | None = None) -> Problem:
    """Read a native problem JSON file."""
    return problem_from_dict(load_json(path), network=network, cache_dir=cache_dir)


def write_native(problem: Problem, path: str | Path) -> None:
    """Write the problem as native JSON (matrices included; unreachable pairs as null)."""
    Path(path).write_text(problem.model_dump_json(indent=1), encoding="utf-8")
