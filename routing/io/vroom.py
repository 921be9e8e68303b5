"""VROOM's problem JSON (jobs, shipments, vehicles, matrices) read into the model, and back.

Field names and semantics follow VROOM's API (docs/API.md of VROOM-Project/vroom): times in
seconds, `time_windows` as [start, end] pairs, `delivery`/`pickup` amounts (legacy `amount` on a
job is a delivery), `skills` as integers, `priority` 0-100, vehicle `costs` {fixed, per_hour
(default 3600), per_km (default 0)}, `time_window` as the shift, `breaks` with `service`,
matrices per `profile` (default "car") with `durations` and optional `distances`; the legacy
top-level `matrix` is the "car" durations. Ids are integers; the output keeps them so (see
`Solution.to_vroom`). A shipment's id in the model is "<pickup id>-<delivery id>".
Without matrices, locations are [lon, lat] and travel comes from a road network or, if asked
for by name, straight lines; VROOM's "car" profile (its default) is then timed as our "van".
VROOM features the model lacks (setup times, per-type setup and service times, max_tasks,
speed_factor, max_travel_time, break max_load, initial steps, custom cost matrices, the cost
per_task_hour) are refused by name rather than silently ignored (even `max_tasks: 0` or
`max_travel_time: 0`, which would bind). Any other field VROOM does not have (`service_time`,
a vehicle's `time_windows`) is refused as unknown, with the nearest field's name: it was
dropped, so a misspelt shift or window planned the day as if there were none. A vehicle's
`type` is read and changes nothing: it only picks per-type setup and service times. Input of
the wrong shape (a job that is not an object, a matrix that is not a square table of numbers)
is refused naming the member, before any field is read.
A file without matrices may say how to time it as a native file does, with `travel` (VROOM has
no such field); like a native file, it may give its [lon, lat] in GCJ-02 or BD-09, with a
top-level `"datum"` (Gongpei's, `network.datum`), converted to WGS 84 as they are read.
`vroom_to_problem`, which reads the API's batches, leaves travel to its caller (a batch may
not name a map file on the server).
"""

from __future__ import annotations

import difflib
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np
from pydantic import BaseModel, ConfigDict, ValidationError

from network.datum import to_wgs84
from network.errors import is_number
from network.hints import did_you_mean
from routing.io.native import check_travel, load_json, problem_datum, refuse_solution
from routing.model import Loc, Location, Matrix, Problem, ProblemError, posted_path
from routing.solution import RoutePlan, Solution, Visit, build_solution
from routing.travel import matrices_for

DEFAULT_PROFILE = "car"  # VROOM's routing profile when a vehicle names none
ON_ROADS_AS = {"car": "van"}  # VROOM profiles timed on our road graphs as one of our profiles

#: Each kind of VROOM object's fields that the reader reads (or, like a vehicle's `type`, that
#: change nothing here), and Gongpei's `travel` and `datum` at the top level.
_READ: dict[str, tuple[str, ...]] = {
    "problem": ("vehicles", "jobs", "shipments", "matrices", "matrix", "travel", "datum"),
    "vehicle": ("id", "description", "profile", "type", "start", "start_index", "end",
                "end_index", "capacity", "costs", "skills", "time_window", "breaks",
                "max_distance"),
    "costs": ("fixed", "per_hour", "per_km"),
    "break": ("id", "description", "time_windows", "service"),
    "job": ("id", "description", "location", "location_index", "service", "delivery",
            "pickup", "amount", "skills", "priority", "time_windows"),
    "shipment": ("pickup", "delivery", "amount", "skills", "priority"),
    "stop": ("id", "description", "location", "location_index", "service", "time_windows"),
    "matrices": ("durations", "distances"),
}  # fmt: skip

#: Each kind's VROOM fields the model lacks, refused by name (unless neutral, see `_NEUTRAL`).
_UNSUPPORTED: dict[str, tuple[str, ...]] = {
    "vehicle": ("max_tasks", "speed_factor", "max_travel_time", "steps"),
    "costs": ("per_task_hour",),
    "break": ("max_load",),
    "job": ("setup", "setup_per_type", "service_per_type"),
    "shipment": (),
    "stop": ("setup", "setup_per_type", "service_per_type"),
    "matrices": ("costs",),
    "problem": (),
}


def read_vroom(
    path: str | Path,
    *,
    network: str | None = None,
    travel: dict[str, Any] | None = None,
    cache_dir: str | None = None,
) -> Problem:
    """Read a VROOM problem file; without matrices it is timed as its own `travel` says
    (checked as a native file's), unless ``network`` or ``travel`` is given."""
    data = load_json(path)
    if travel is None and isinstance(data, dict):
        travel = check_travel(data.get("travel"))
    return vroom_to_problem(
        data, network=network, travel=travel, cache_dir=cache_dir, name=Path(path).stem
    )


class _Places:
    """Matrix indices for VROOM's `location_index` or [lon, lat] `location` fields (in
    ``datum``, kept in WGS 84); ``at`` is the item's path in the input, which errors carry."""

    def __init__(self, indexed: bool, datum: str) -> None:
        self.indexed = indexed
        self.datum = datum
        self.coords: dict[int, tuple[float, float]] = {}
        self.by_coord: dict[tuple[float, float], int] = {}
        self.given_at: dict[int, Loc] = {}  # where each index's [lon, lat] was read
        self.named: dict[int, str] = {}  # the first item standing at each index

    def index(self, item: dict[str, Any], what: str, at: Loc, key: str = "location") -> int:
        coord = item.get(key)
        if coord is not None and not (
            isinstance(coord, list | tuple) and len(coord) == 2 and all(map(is_number, coord))
        ):
            raise ProblemError(
                f"{what}: {key}: expected [lon, lat] (got {coord!r:.40})", loc=(*at, key)
            )
        if self.indexed:
            idx = item.get(f"{key}_index")
            if not isinstance(idx, int) or isinstance(idx, bool) or idx < 0:
                raise ProblemError(
                    f"{what}: {key}_index: a non-negative integer is required "
                    "when matrices are given",
                    loc=(*at, f"{key}_index"),
                )
            if coord is not None:
                self.coords[idx] = self._wgs84(coord)
                self.given_at[idx] = (*at, key)
            return idx
        if coord is None:
            raise ProblemError(
                f"{what}: {key}: [lon, lat] is required when no matrices are given",
                loc=(*at, key),
            )
        pair = self._wgs84(coord)
        idx = self.by_coord.setdefault(pair, len(self.by_coord))
        self.given_at.setdefault(idx, (*at, key))
        name = what.replace("'", "")  # the snap error quotes it: point 'job 777'
        self.named.setdefault(idx, name if key == "location" else f"{name} {key}")
        return idx

    def _wgs84(self, coord: list[float] | tuple[float, float]) -> tuple[float, float]:
        """A [lon, lat] as (lon, lat) in WGS 84."""
        lat, lon = to_wgs84(self.datum, float(coord[1]), float(coord[0]))
        return lon, lat

    def labels(self) -> list[str]:
        """What stands at each location, for an error about one the roads cannot reach."""
        return [self.named.get(i, f"location {i}") for i in range(len(self.by_coord))]

    def locations(self, n: int) -> tuple[Location, ...]:
        if not self.indexed:
            return tuple(self._location(i, pair) for i, pair in enumerate(self.by_coord))
        if not self.coords:
            return ()
        return tuple(self._location(i, self.coords.get(i)) for i in range(n))

    def _location(self, i: int, coord: tuple[float, float] | None) -> Location:
        """Location `i`, or an error at the [lon, lat] it was read from (a number too large for
        a coordinate, such as JSON's 1e400, passes the reader's check)."""
        try:
            return Location() if coord is None else Location(lon=coord[0], lat=coord[1])
        except ProblemError as err:
            err.loc = self.given_at[i]
            raise


def _id(item: dict[str, Any], what: str, at: Loc) -> str:
    """The item's integer id as the model's string id; ``at`` is the item's path."""
    value = item.get("id")
    if not isinstance(value, int) or isinstance(value, bool):
        raise ProblemError(f"{what}: id: an integer is required (got {value!r})", loc=(*at, "id"))
    return str(value)


#: The values of each VROOM field the model lacks that change nothing; any other is refused.
#: A limit of 0 is not neutral: `max_tasks: 0` lets the vehicle take no task at all.
_NEUTRAL: dict[str, tuple[Any, ...]] = {
    "setup": (None, 0),
    "setup_per_type": (None, {}),
    "service_per_type": (None, {}),
    "speed_factor": (None, 1),
    "steps": (None, []),
    "max_tasks": (None,),
    "max_travel_time": (None,),
    "per_task_hour": (None, 0),
    "max_load": (None,),
}


def _refuse(item: dict[str, Any], what: str, at: Loc, fields: tuple[str, ...]) -> None:
    """Refuse, by name, a VROOM field the model cannot honour (neutral values pass)."""
    for f in fields:
        if item.get(f) not in _NEUTRAL[f]:
            raise ProblemError(f"{what}: {f}: not supported by gongpei's model", loc=(*at, f))


#: The VROOM field for a field of Gongpei's native format, which a VROOM file may borrow.
_VROOM_NAME = {
    "shift": "time_window",
    "duration": "service",
    "name": "description",
    "fixed_cost": "costs.fixed",
    "cost_per_hour": "costs.per_hour",
    "cost_per_km": "costs.per_km",
}


def _fields(item: Mapping[str, Any], what: str, at: Loc, kind: str) -> None:
    """Refuse a field VROOM does not have on this kind of object, naming the VROOM field meant
    (for a native field name) or the nearest: the reader copies only the fields it knows, so a
    misspelt one was lost without a word (a job's `time_window` planned it with no window).
    The fields VROOM has but the model lacks pass here, to be refused with their own message."""
    known = _READ[kind] + _UNSUPPORTED[kind]
    for key in item:
        if key in known:
            continue
        meant = _VROOM_NAME.get(key, "")
        near = [meant] if meant.split(".")[0] in known else []
        near = near or difflib.get_close_matches(str(key), known, n=1)
        hint = did_you_mean(near[0] if near else None)
        raise ProblemError(f"{what}: {key}: is not a known field{hint}", loc=(*at, key))


def _description(item: dict[str, Any], what: str, at: Loc) -> str | None:
    """VROOM's `description`, which becomes the model's `name`: checked here so that an error
    names the field as the input does."""
    value = item.get("description")
    if value is not None and not isinstance(value, str):
        raise ProblemError(
            f"{what}: description: a string is required (got {value!r})",
            loc=(*at, "description"),
        )
    return value


def _skills(item: dict[str, Any]) -> list[str]:
    return [str(s) for s in item.get("skills", [])]


class _Object(BaseModel):
    """A VROOM object, of which only the shape the reader walks is declared: the reader checks
    the names of the other fields (`_fields`, naming the item by its id) and the model their
    values."""

    model_config = ConfigDict(extra="allow")


class _Task(_Object):
    skills: list[Any] = []


class _Shipment(_Task):
    pickup: _Object
    delivery: _Object


class _Vehicle(_Task):
    costs: dict[str, Any] = {}
    breaks: list[_Object] = []
    profile: str = DEFAULT_PROFILE


class _Tables(_Object):
    durations: Matrix
    distances: Matrix | None = None


class _Input(_Object):
    vehicles: list[_Vehicle]
    jobs: list[_Task] = []
    shipments: list[_Shipment] = []
    matrices: dict[str, _Tables] | None = None
    matrix: Matrix | None = None  # VROOM's legacy field: the "car" durations


#: How an error's place is named: list members as the reader names items ("job #3").
_MEMBERS = {"jobs": "job #{}", "shipments": "shipment #{}", "vehicles": "vehicle #{}",
            "matrices": "matrices '{}'"}  # fmt: skip


def _shape(data: dict[str, Any]) -> _Input:
    """The input checked for shape (lists of objects, matrices square tables of numbers), so
    that a malformed batch is a ProblemError naming the member rather than a TypeError deep in
    the reader; the matrices are read here, once."""
    try:
        return _Input.model_validate(data)
    except ValidationError as err:
        first = err.errors()[0]
        head, *rest = first["loc"]
        if rest and head in _MEMBERS:
            head, rest = _MEMBERS[str(head)].format(rest[0]), rest[1:]
        field = "".join(f"[{p}]" if isinstance(p, int) else f".{p}" for p in rest).lstrip(".")
        said = {"missing": "is required", "model_type": "an object is required"}.get(
            first["type"], first["msg"].removeprefix("Value error, ")
        )
        raise ProblemError(
            f"{head}: {field}: {said}" if field else f"{head}: {said}",
            loc=posted_path(data, first["loc"]),
        ) from None


def _given_matrices(given: _Input, vehicles: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    """The input's travel per profile (the legacy `matrix` as "car"), distances zero where a
    profile has none and none of its vehicles is costed or limited by distance."""
    tables = dict(given.matrices or {})
    if given.matrix is not None:
        tables.setdefault("car", _Tables(durations=given.matrix))
    matrices = {}
    for profile, m in tables.items():
        _fields(m.model_extra or {}, f"matrices '{profile}'", ("matrices", profile), "matrices")
        if (m.model_extra or {}).get("costs") is not None:  # null changes nothing
            raise ProblemError(
                f"matrices '{profile}': costs: custom cost matrices are not "
                "supported (costs come from per_hour/per_km)",
                loc=("matrices", profile, "costs"),
            )
        distances = m.distances
        if distances is None:
            if any(
                v.get("cost_per_km") or v.get("max_distance") is not None
                for v in vehicles
                if v["profile"] == profile
            ):
                raise ProblemError(
                    f"matrices '{profile}': distances: needed for per_km costs or max_distance",
                    loc=("matrices", profile, "distances")
                    if profile in (given.matrices or {})
                    else ("matrix",),
                )
            distances = np.zeros_like(m.durations)
        matrices[profile] = {"durations": m.durations, "distances": distances}
    return matrices


def vroom_to_problem(
    data: Any,
    *,
    network: str | None = None,
    travel: dict[str, Any] | None = None,
    cache_dir: str | None = None,
    name: str | None = None,
) -> Problem:
    """A VROOM problem dict as a `Problem`."""
    if not isinstance(data, dict):
        raise ProblemError("problem: expected a JSON object with jobs/shipments and vehicles")
    refuse_solution(data)
    _fields(data, "problem", (), "problem")
    vehicles_in = data.get("vehicles")
    if vehicles_in is None:
        raise ProblemError("vehicles: missing; at least one vehicle is required", loc=("vehicles",))
    if isinstance(vehicles_in, list) and not vehicles_in:
        raise ProblemError("vehicles: at least one vehicle is required", loc=("vehicles",))
    datum = problem_datum(data.get("datum"))
    given = _shape(data)
    indexed = given.matrix is not None or bool(given.matrices)
    places = _Places(indexed=indexed, datum=datum)

    centres: dict[int, dict[str, Any]] = {}  # location index -> the centre there
    vehicles = [_vehicle(v, k, places, centres) for k, v in enumerate(vehicles_in)]
    jobs = [_job(j, k, places) for k, j in enumerate(data.get("jobs", []))]
    shipments = [_shipment(s, k, places) for k, s in enumerate(data.get("shipments", []))]

    if indexed:
        matrices = _given_matrices(given, vehicles)
        locations = places.locations(len(next(iter(matrices.values()))["durations"]))
    else:
        locations = places.locations(0)
        for v in vehicles:  # VROOM's default car: timed here as a delivery van
            v["profile"] = ON_ROADS_AS.get(v["profile"], v["profile"])
        profiles = sorted({v["profile"] for v in vehicles})
        matrices = matrices_for(
            locations,
            profiles,
            travel=travel,
            network=network,
            cache_dir=cache_dir,
            labels=places.labels(),
            parked=centres,  # the vehicles' starts and ends: they park there
        )
    model = {
        "name": name,
        "locations": locations,
        "centres": list(centres.values()),
        "vehicles": vehicles,
        "jobs": jobs,
        "shipments": shipments,
        "matrices": matrices,
        "meta": {"format": "vroom", "int_ids": True},
    }
    try:
        return Problem.model_validate(model)
    except ProblemError as err:  # its path is the model's: point it at the VROOM input
        err.loc = _as_posted(data, err.loc)
        raise


def _present(item: dict[str, Any]) -> dict[str, Any]:
    """The model fields given (None: left to the model's default)."""
    return {k: x for k, x in item.items() if x is not None}


def _vehicle(
    v: Any, k: int, places: _Places, centres: dict[int, dict[str, Any]]
) -> dict[str, Any]:
    """The model's vehicle for VROOM's vehicle #k; its start and end become centres (added to
    ``centres`` by location) since the model starts and ends routes at centres."""
    at = ("vehicles", k)
    vid = _id(v, f"vehicle #{k}", at)
    what = f"vehicle '{vid}'"
    _fields(v, what, at, "vehicle")
    _refuse(v, what, at, _UNSUPPORTED["vehicle"])
    ends = {}
    for key in ("start", "end"):
        if v.get(key) is None and v.get(f"{key}_index") is None:
            ends[key] = None
            continue
        idx = places.index(v, what, at, key)
        centres.setdefault(idx, {"id": f"location {idx}", "location": idx})
        ends[key] = centres[idx]["id"]
    costs = v.get("costs", {})
    _fields(costs, f"{what}: costs", (*at, "costs"), "costs")
    _refuse(costs, f"{what}: costs", (*at, "costs"), _UNSUPPORTED["costs"])
    breaks = []
    for i, b in enumerate(v.get("breaks", [])):
        bid = _id(b, f"{what}: break", (*at, "breaks", i))
        _fields(b, f"{what}: break '{bid}'", (*at, "breaks", i), "break")
        _refuse(b, f"{what}: break '{bid}'", (*at, "breaks", i), _UNSUPPORTED["break"])
        breaks.append(
            {"id": bid, "windows": b.get("time_windows", []), "duration": b.get("service", 0)}
        )
    return _present(
        {
            "id": vid,
            **ends,
            "capacity": v.get("capacity"),
            "shift": v.get("time_window"),
            "breaks": breaks,
            "skills": _skills(v),
            "profile": v.get("profile", DEFAULT_PROFILE),
            "fixed_cost": costs.get("fixed", 0),
            "cost_per_hour": costs.get("per_hour", 3600),
            "cost_per_km": costs.get("per_km", 0),
            "max_distance": v.get("max_distance"),
            "name": _description(v, what, at),
        }
    )


def _job(j: Any, k: int, places: _Places) -> dict[str, Any]:
    """The model's job for VROOM's job #k (VROOM's older ``amount`` is its delivery)."""
    at = ("jobs", k)
    jid = _id(j, f"job #{k}", at)
    what = f"job '{jid}'"
    _fields(j, what, at, "job")
    _refuse(j, what, at, _UNSUPPORTED["job"])
    return _present(
        {
            "id": jid,
            "location": places.index(j, what, at),
            "service": j.get("service", 0),
            "delivery": j.get("delivery", j.get("amount")),
            "pickup": j.get("pickup"),
            "time_windows": j.get("time_windows", []),
            "skills": _skills(j),
            "priority": j.get("priority", 0),
            "name": _description(j, what, at),
        }
    )


def _shipment(s: Any, k: int, places: _Places) -> dict[str, Any]:
    """The model's shipment for VROOM's shipment #k, named by its two stops' ids."""
    _fields(s, f"shipment #{k}", ("shipments", k), "shipment")
    stops = {}
    for end in ("pickup", "delivery"):
        stop = s[end]
        what, at = f"shipment #{k}: {end}", ("shipments", k, end)
        sid = _id(stop, what, at)
        _fields(stop, what, at, "stop")
        _refuse(stop, what, at, _UNSUPPORTED["stop"])
        name = _description(stop, what, at)
        stops[end] = {
            "id": sid,
            "location": places.index(stop, what, at),
            "service": stop.get("service", 0),
            "time_windows": stop.get("time_windows", []),
            **({"name": name} if name else {}),
        }
    return _present(
        {
            "id": f"{stops['pickup']['id']}-{stops['delivery']['id']}",
            **stops,
            "amount": s.get("amount"),
            "skills": _skills(s),
            "priority": s.get("priority", 0),
        }
    )


#: Where the reader found each model field that VROOM names otherwise, per kind of item: the
#: first of the places listed that the posted item has, else the first.
_POSTED_AS: dict[str, dict[str, tuple[Loc, ...]]] = {
    "vehicle": {
        "shift": (("time_window",),),
        "fixed_cost": (("costs", "fixed"),),
        "cost_per_hour": (("costs", "per_hour"),),
        "cost_per_km": (("costs", "per_km"),),
        "name": (("description",),),
    },
    "break": {"windows": (("time_windows",),), "duration": (("service",),)},
    "shipment": {"id": ((),)},  # made up of its stops' ids: the shipment itself
    "stop": {  # a job, or a shipment's pickup or delivery
        "location": (("location_index",), ("location",)),
        "delivery": (("delivery",), ("amount",)),  # `amount`: VROOM's legacy delivery
        "name": (("description",),),
    },
}


def _as_posted(data: dict[str, Any], loc: Loc) -> Loc:
    """A model error's path as a path in the VROOM input ``data``. The reader keeps the order
    of the vehicles, their breaks, the jobs and the shipments but renames some fields; a path
    into what it made up (centres, locations, a shipment's joint id, matrices it computed or
    read from the legacy `matrix`) is cut where the posted data ends."""
    match loc:
        case ("vehicles", int(), "breaks", int(), str(field), *rest):
            kind, item = "break", loc[:4]
        case ("vehicles", int(), str(field), *rest):
            kind, item = "vehicle", loc[:2]
        case ("jobs", int(), str(field), *rest):
            kind, item = "stop", loc[:2]
        case ("shipments", int(), "pickup" | "delivery", str(field), *rest):
            kind, item = "stop", loc[:3]
        case ("shipments", int(), str(field), *rest):
            kind, item = "shipment", loc[:2]
        case _:
            return posted_path(data, loc)
    places = _POSTED_AS[kind].get(field, ((field,),))
    node: Any = data
    for key in item:  # the reader walked these items, so they are there
        node = node[key]
    place = next((p for p in places if p and p[0] in node), places[0])
    return posted_path(data, (*item, *place, *rest))


def solution_from_vroom(
    problem: Problem, output: dict[str, Any], *, engine: str = "vroom"
) -> Solution:
    """VROOM's solution JSON for `problem` (read by `read_vroom`) as a `Solution`, timed at
    VROOM's own service starts, so that `routing.check` can judge another solver's plan."""
    by_stop = {}
    for s in problem.shipments:
        by_stop[("pickup", s.pickup.id)] = s.id
        by_stop[("delivery", s.delivery.id)] = s.id
    plans = []
    for route in output.get("routes", []):
        visits, departure = [], None
        for step in route["steps"]:
            kind, start = step["type"], step["arrival"] + step.get("waiting_time", 0)
            if kind == "start":
                departure = step["arrival"]
            elif kind == "job":
                visits.append(Visit("job", str(step["id"]), start))
            elif kind in ("pickup", "delivery"):
                visits.append(Visit(kind, by_stop[(kind, str(step["id"]))], start))
            elif kind == "break":
                visits.append(Visit("break", str(step["id"]), start))
        plans.append(RoutePlan(str(route["vehicle"]), visits, departure))
    left = {}
    for u in output.get("unassigned", []):
        kind = u.get("type", "job")
        task = str(u["id"]) if kind == "job" else by_stop[(kind, str(u["id"]))]
        left[task] = f"left out by {engine}"
    return build_solution(
        problem,
        plans,
        left,
        engine=engine,
        runtime_s=output.get("summary", {}).get("computing_times", {}).get("solving", 0) / 1000,
    )
