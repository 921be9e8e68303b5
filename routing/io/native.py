"""The native problem format: the model itself as JSON, with travel computed when asked.

A native file is `routing.model.Problem` as JSON (`Problem.model_dump_json()` writes one). It may
leave out `matrices` and say instead how travel is to be found, from the locations' coordinates:
`"travel": {"source": "network", "osm": FILE}` or `{"source": "straight_line", ...}`
(see `routing.travel.matrices_for`); a `network` argument (the CLI's --network) does the same.
Its `locations` may be given in another datum than WGS 84, named by a top-level `"datum"`
(`network.datum`: "gcj02" for Amap/Tencent, "bd09" for Baidu); they are converted as they are
read, so the `Problem` and everything made from it are WGS 84.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from numbers import Real
from pathlib import Path
from typing import Any

from network import jsonfile
from network.datum import DEFAULT_DATUM, DatumError, check_datum, to_wgs84
from network.profiles import SPEED_CEILING_KMH, SPEED_FLOOR_KMH
from routing.model import Location, Problem, ProblemError, posted_path
from routing.travel import MAX_CIRCUITY, matrices_for

#: Where a native problem's travel may come from, and the fields each source reads.
TRAVEL_SOURCES = {"network": ("osm",), "straight_line": ("speed_kmh", "circuity")}


class TravelError(ProblemError):
    """A bad `travel` field; `field` is its dotted path ("travel", "travel.source"), which the
    message starts with and `loc` holds split."""

    def __init__(self, field: str, reason: str) -> None:
        self.field = field
        super().__init__(f"{field}: {reason}", loc=tuple(field.split(".")))


def load_json(path: str | Path) -> Any:
    """Parsed JSON (by ``network.jsonfile``, as every reader's), or a ProblemError naming the
    file and why: not JSON (the line and column), or a NaN, Infinity or 1e999 by its path,
    which Python's own parser read as nan and inf for the model to call "less than or equal
    to 180" or take as an unlimited amount."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8-sig")
    except OSError as err:
        raise ProblemError(f"{path}: cannot read ({err.strerror or err})") from None
    except UnicodeDecodeError as err:
        raise ProblemError(f"{path}: not UTF-8 text ({err})") from None
    try:
        return jsonfile.load_json(text, finite=True, unbounded="matrices")
    except jsonfile.NotFinite as err:
        raise ProblemError(f"{path}: {err}") from None
    except ValueError as err:  # a syntax error, or an integer of more digits than Python reads
        raise ProblemError(f"{path}: not JSON ({err})") from None


def refuse_solution(data: Any) -> None:
    """A ProblemError where ``data`` is a plan (VROOM-shaped output, as `gongpei solve` and the
    API write it: `summary` and `routes`, no vehicles or tasks) rather than a problem: read as
    a problem it failed on "matrices: missing", which sent its reader after travel data."""
    if not isinstance(data, dict) or not {"summary", "routes"} <= data.keys():
        return
    if any(key in data for key in ("vehicles", "jobs", "shipments")):
        return
    raise ProblemError(
        "this is a solution, not a problem: it has the 'summary' and 'routes' of a plan (as "
        "`gongpei solve` writes) and no vehicles or tasks; give the problem file it was "
        "planned from"
    )


def check_travel(travel: Any) -> dict[str, Any] | None:
    """A native problem's `travel`, checked before anything is timed with it: a typo such as
    `"travel": "straight_line"` or an unknown source would otherwise fail deep in the travel
    code, or be ignored in favour of a road network. Raises `TravelError` naming the field."""
    if travel is None:
        return None
    sources = ", ".join(TRAVEL_SOURCES)
    if not isinstance(travel, Mapping):
        raise TravelError(
            "travel",
            f'expected an object such as {{"source": "straight_line"}} '
            f"(got {travel!r}); source is one of {sources}",
        )
    source = travel.get("source")
    if not isinstance(source, str) or source not in TRAVEL_SOURCES:
        got = "missing" if source is None else f"{source!r} is not a travel source"
        raise TravelError("travel.source", f"{got}; choose from {sources}")
    for key in travel:
        if key != "source" and key not in TRAVEL_SOURCES[source]:
            known = ", ".join(("source", *TRAVEL_SOURCES[source]))
            raise TravelError(f"travel.{key}", f"not a field of the {source} source ({known})")
    if "osm" in travel and (not isinstance(travel["osm"], str) or not travel["osm"]):
        raise TravelError("travel.osm", "an OSM file, 'demo' or 'synthetic:N' is required")
    speeds = travel.get("speed_kmh", 1)
    for value in speeds.values() if isinstance(speeds, Mapping) else (speeds,):
        if not _number(value) or not SPEED_FLOOR_KMH <= value <= SPEED_CEILING_KMH:
            raise TravelError(
                "travel.speed_kmh",
                f"a positive number (or one per profile) of {SPEED_FLOOR_KMH:g}-"
                f"{SPEED_CEILING_KMH:g} km/h is required, as a road speed (got {value!r})",
            )
    circuity = travel.get("circuity", 1)
    if not _number(circuity) or not 1 <= circuity <= MAX_CIRCUITY:
        raise TravelError(
            "travel.circuity",
            f"a number of 1-{MAX_CIRCUITY:g} is required, the road distance over the straight "
            f"line (got {circuity!r})",
        )
    return dict(travel)


def _number(value: Any) -> bool:
    return isinstance(value, Real) and not isinstance(value, bool) and math.isfinite(value)


def _labels(data: dict[str, Any], n: int) -> list[str]:
    """What stands at each location (the first centre, job or shipment stop there), for an
    error about one the roads cannot reach; the model checks the fields themselves later."""
    named: dict[Any, str] = {}
    items = [("centre", c) for c in data.get("centres", []) or []]
    items += [("job", j) for j in data.get("jobs", []) or []]
    for shipment in data.get("shipments", []) or []:
        if isinstance(shipment, dict):
            items += [(end, shipment.get(end)) for end in ("pickup", "delivery")]
    for kind, item in items:
        if isinstance(item, dict) and isinstance(item.get("location"), int):
            named.setdefault(item["location"], f"{kind} {item.get('id')}")  # point 'job a
    return [named.get(i, f"location {i}") for i in range(n)]


def _parked(data: dict[str, Any], n: int) -> set[int]:
    """The locations of the centres vehicles start or end at: vehicles park there, so travel
    from and to them has no walk to the door (see `routing.travel.with_access_walk`). Read
    before the model checks the fields, so anything malformed is skipped here, refused there."""

    def items(key: str) -> list[dict[str, Any]]:
        found = data.get(key)
        return [x for x in found if isinstance(x, dict)] if isinstance(found, list) else []

    at = {c["id"]: c.get("location") for c in items("centres") if isinstance(c.get("id"), str)}
    ends = {v.get(end) for v in items("vehicles") for end in ("start", "end")}
    places = {at.get(ref) for ref in ends if isinstance(ref, str)}
    return {i for i in places if type(i) is int and 0 <= i < n}


def problem_from_dict(
    data: Any, *, network: str | None = None, cache_dir: str | None = None
) -> Problem:
    """Validate a native problem dict, computing its matrices first when it has none.

    An error's `loc` is a path in ``data`` as given: one into matrices computed here is cut."""
    if not isinstance(data, dict):
        raise ProblemError("problem: expected a JSON object")
    refuse_solution(data)
    posted, data = data, dict(data)
    travel = check_travel(data.pop("travel", None))
    datum = problem_datum(data.pop("datum", None))
    if datum != DEFAULT_DATUM and isinstance(data.get("locations"), list):
        data["locations"] = [_in_wgs84(x, datum) for x in data["locations"]]
    if network is not None or data.get("matrices") in (None, {}):  # null or {}: none given
        for key in ("locations", "vehicles"):
            if not isinstance(data.get(key, []), list):
                raise ProblemError(f"{key}: a list is required", loc=(key,))
        locations = [_location(x, i) for i, x in enumerate(data.get("locations", []))]
        profiles = sorted(
            {v.get("profile", "van") for v in data.get("vehicles", []) if isinstance(v, dict)}
        ) or ["van"]
        data["matrices"] = matrices_for(
            locations,
            profiles,
            travel=travel,
            network=network,
            cache_dir=cache_dir,
            labels=_labels(data, len(locations)),
            parked=_parked(data, len(locations)),
        )
    try:
        return Problem.model_validate(data)
    except ProblemError as err:
        err.loc = posted_path(posted, err.loc)
        raise


def problem_datum(value: Any) -> str:
    """A problem's top-level `datum` (`network.datum.DATUMS`; none: WGS 84), or a
    ProblemError at it, which the API points its 422 at."""
    try:
        return check_datum(value)
    except DatumError as err:
        raise ProblemError(str(err), loc=("datum",)) from None


def _in_wgs84(location: Any, datum: str) -> Any:
    """A location as given, its lat and lon converted from ``datum`` to WGS 84 (anything else,
    malformed ones included, is left for the model to check)."""
    if not isinstance(location, dict) or location.get("lat") is None:
        return location
    lat, lon = to_wgs84(datum, location["lat"], location.get("lon"))
    return {**location, "lat": lat, "lon": lon}


def _location(data: Any, index: int) -> Location:
    """Location ``index`` of a problem read before the problem itself, to time its travel: an
    error's path is made the problem's."""
    try:
        return Location.model_validate(data)
    except ProblemError as err:
        err.loc = ("locations", index, *err.loc)
        raise


def read_native(
    path: str | Path, *, network: str | None = None, cache_dir: str | None = None
) -> Problem:
    """Read a native problem JSON file."""
    return problem_from_dict(load_json(path), network=network, cache_dir=cache_dir)


def write_native(problem: Problem, path: str | Path) -> None:
    """Write the problem as native JSON (matrices included; unreachable pairs as null)."""
    Path(path).write_text(problem.model_dump_json(indent=1), encoding="utf-8")
