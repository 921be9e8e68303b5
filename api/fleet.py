"""A batch's registered vehicles: a vehicle of a batch may name one of the firm's registered
vehicles (`/v1/vehicles`) instead of repeating it, as ``{"registered": "苏A12345"}``, with any
of the format's vehicle fields beside it for the day (a shift, costs, a start and end).

Each such item becomes the vehicle the register describes (its name, profile, capacity, usual
shift and costs, and centre), the fields given with it overriding the register's. It is
resolved when the batch is posted and the batch is stored so: a queued or finished batch keeps
the vehicle as it was, whatever becomes of the register afterwards.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from api.db.engine import Database
from api.db.models import Centre, Vehicle, vehicle_key
from network.datum import from_wgs84
from network.hints import close_name, did_you_mean
from routing.io.native import problem_datum
from routing.model import ProblemError

#: The key of a batch's vehicle that names a registered vehicle.
REGISTERED = "registered"
#: The capacity names whose one amount a registered vehicle's `capacity_parcels` is.
PARCELS = ([], ["parcels"])


#: The register's day fields by their names in a native batch, and in a VROOM one.
DAY_FIELDS = ("shift", "fixed_cost", "cost_per_km", "cost_per_hour")
VROOM_COSTS = {"fixed_cost": "fixed", "cost_per_km": "per_km", "cost_per_hour": "per_hour"}


@dataclass(frozen=True)
class _Registered:
    """A registered vehicle as a batch takes it: its values, its centre's, and its usual day
    (`DAY_FIELDS`, those it has)."""

    id: int
    name: str
    profile: str
    capacity_parcels: int
    centre: Centre | None
    day: dict[str, Any]


def with_registered_vehicles(
    db: Database, firm_id: int, fmt: str, problem: dict[str, Any]
) -> dict[str, Any]:
    """``problem`` (a batch's, native or VROOM) with each vehicle that names a registered
    vehicle replaced by that vehicle, or ``problem`` itself where none does. A name the firm
    has not registered, a capacity the register cannot tell, or a centre the batch's matrices
    leave out is a `ProblemError` at the item (its path in the posted problem)."""
    given = problem.get("vehicles")
    if not isinstance(given, list) or not any(_names_one(v) for v in given):
        return problem
    problem = dict(problem)
    with db.reading() as session:
        register = _register(session, firm_id)
    places = _Places(problem)
    resolve = _native if fmt == "native" else _vroom
    vehicles = []
    for i, item in enumerate(given):
        if _names_one(item):
            at = ("vehicles", i)
            item = resolve(item, _find(item, at, register), at, places)
        vehicles.append(item)
    problem["vehicles"] = vehicles
    return problem


def _names_one(item: Any) -> bool:
    return isinstance(item, dict) and REGISTERED in item


def _register(session: Session, firm_id: int) -> dict[str, _Registered]:
    """The firm's register by `vehicle_key`, each with its centre (None where it has none)."""
    rows = session.execute(
        select(Vehicle, Centre)
        .outerjoin(Centre, Vehicle.centre_id == Centre.id)
        .where(Vehicle.firm_id == firm_id)
    )
    return {
        vehicle.name_key: _Registered(
            vehicle.id, vehicle.name, vehicle.profile, vehicle.capacity_parcels, centre,
            day={f: getattr(vehicle, f) for f in DAY_FIELDS if getattr(vehicle, f) is not None},
        )
        for vehicle, centre in rows
    }


def _find(item: dict[str, Any], at: tuple, register: dict[str, _Registered]) -> _Registered:
    """The registered vehicle the item names, in any case (`vehicle_key`); else a
    `ProblemError` at its `registered` naming it, and the registered name it likely meant."""
    name = item[REGISTERED]
    if not isinstance(name, str) or not name.strip():
        raise ProblemError(
            f"vehicle #{at[1]}: registered: the name of one of the firm's registered vehicles "
            f"is required (got {name!r})",
            loc=(*at, REGISTERED),
        )
    found = register.get(vehicle_key(name.strip()))
    if found is None:
        hint = did_you_mean(close_name(name, [vehicle.name for vehicle in register.values()]))
        raise ProblemError(
            f"vehicle #{at[1]}: registered: the firm has no vehicle '{name}' (GET "
            f"/v1/vehicles lists them){hint}",
            loc=(*at, REGISTERED),
        )
    return found


class _Places:
    """Where a batch's registered vehicles start and end: each one's centre, added once to
    the batch (a native batch's locations and centres are changed in place), in the batch's
    datum, unless its matrices fix the locations."""

    def __init__(self, problem: dict[str, Any]) -> None:
        self.problem = problem
        self.fixed = bool(problem.get("matrices")) or problem.get("matrix") is not None
        self.datum = problem_datum(problem.get("datum"))

    def centre(self, found: _Registered, at: tuple, ends: str) -> Centre:
        """The vehicle's centre, which the batch can be given; else a `ProblemError` at the
        item asking for its ``ends``."""
        assert found.centre is not None
        if self.fixed:
            raise ProblemError(
                f"vehicle #{at[1]}: registered vehicle '{found.name}' works from centre "
                f"'{found.centre.name}', which this batch's matrices do not hold: give its "
                f"{ends} here",
                loc=at,
            )
        return found.centre

    def lonlat(self, centre: Centre) -> list[float]:
        """The centre's [lon, lat] in the batch's datum."""
        lat, lon = from_wgs84(self.datum, centre.lat, centre.lon)
        return [lon, lat]

    def native_id(self, centre: Centre) -> str:
        """A native batch's centre for the platform centre, by its name: the batch's own
        centre of that name (which may give opening hours), else one added at a location of
        its own (malformed centres or locations are left for the model to refuse)."""
        centres, locations = (self.problem.get(key) or [] for key in ("centres", "locations"))
        if not isinstance(centres, list) or not isinstance(locations, list):
            return centre.name
        if not any(isinstance(c, dict) and c.get("id") == centre.name for c in centres):
            lon, lat = self.lonlat(centre)
            self.problem["locations"] = [*locations, {"lat": lat, "lon": lon, "name": centre.name}]
            added = {"id": centre.name, "location": len(locations)}
            self.problem["centres"] = [*centres, added]
        return centre.name


def _native(item: dict[str, Any], found: _Registered, at: tuple, places: _Places) -> dict:
    """A native vehicle: id and name the registered name, its profile, its capacity in
    parcels (where the batch counts parcels only), its shift and costs, start and end its
    centre."""
    vehicle: dict[str, Any] = {
        "id": found.name, "name": found.name, "profile": found.profile, **found.day
    }
    if "capacity" not in item:
        vehicle["capacity"] = [found.capacity_parcels]
        counted = places.problem.get("capacity_names") or []
        if counted not in PARCELS:
            raise ProblemError(
                f"vehicle #{at[1]}: registered vehicle '{found.name}' holds "
                f"{found.capacity_parcels} parcels, but this batch counts its capacity as "
                f"{counted}: give its 'capacity' here, one amount each",
                loc=at,
            )
    open_ends = [end for end in ("start", "end") if end not in item]
    if found.centre is not None and open_ends:
        centre = places.centre(found, at, "'start' and 'end'")
        vehicle |= dict.fromkeys(open_ends, places.native_id(centre))
    return vehicle | _overrides(item)


def _vroom(item: dict[str, Any], found: _Registered, at: tuple, places: _Places) -> dict:
    """A VROOM vehicle: id the register's (VROOM's ids are integers), description the name,
    a van as VROOM's default profile (timed as a van), its capacity, its shift as its
    `time_window` and its costs (each cost the item's `costs` leaves out), start and end its
    centre as [lon, lat]."""
    vehicle: dict[str, Any] = {
        "id": found.id,
        "description": found.name,
        "capacity": [found.capacity_parcels],
    }
    if found.profile != "van":
        vehicle["profile"] = found.profile
    if "shift" in found.day:
        vehicle["time_window"] = found.day["shift"]
    costs = {VROOM_COSTS[f]: value for f, value in found.day.items() if f in VROOM_COSTS}
    open_ends = [end for end in ("start", "end") if end not in item and f"{end}_index" not in item]
    if found.centre is not None and open_ends:
        centre = places.centre(found, at, "'start_index' and 'end_index'")
        vehicle |= dict.fromkeys(open_ends, places.lonlat(centre))
    vehicle |= _overrides(item)
    given = item.get("costs", {})
    if costs and isinstance(given, dict):  # a malformed one is left for the reader to refuse
        vehicle["costs"] = costs | given
    return vehicle


def _overrides(item: dict[str, Any]) -> dict[str, Any]:
    """The item's own fields, which win over the register's."""
    return {key: value for key, value in item.items() if key != REGISTERED}
