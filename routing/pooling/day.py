"""The day model: firms with their depots and fleets, shared centres, lockers and parcels."""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Iterable
from pathlib import Path
from typing import Annotated, Any

import numpy as np
import yaml
from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    ValidationError,
    ValidatorFunctionWrapHandler,
    WrapValidator,
    field_validator,
    model_validator,
)

from network.datum import DEFAULT_DATUM, DatumError, check_datum, to_wgs84
from network.geo import haversine_m
from network.hints import close_name, did_you_mean
from network.jsonfile import load_json, number_problem
from network.model_keys import keys_at
from network.profiles import PROFILES, SPEED_CEILING_KMH, SPEED_FLOOR_KMH
from network.sources import is_builtin
from routing.model import MAX_AMOUNT, Float, Int, Money, ProblemError, Seconds, TimeWindow
from routing.pooling.errors import PoolingError
from routing.siting.model import DEFAULT_COMPARTMENTS as SITING_COMPARTMENTS
from routing.travel import DEFAULT_CIRCUITY, MAX_CIRCUITY
from routing.yamlfile import load_strict

#: Compartment inner sizes in cm, the same cells locker siting sizes lockers with.
DEFAULT_COMPARTMENTS: dict[str, tuple[float, float, float]] = {
    c.name: (c.width_cm, c.height_cm, c.depth_cm) for c in SITING_COMPARTMENTS
}

#: The size class of a parcel too large for any locker compartment: it always goes to the door.
#: Reserved, so no compartment may take the name: a parcel sized "XL" would then both fit no
#: locker and fit the compartment. A day with bigger compartments names them otherwise (e.g.
#: "XXL") and sizes the parcels for them by that name or by [l, w, h] in cm.
DOOR_ONLY_SIZE = "XL"

#: How the id of every locker-drop job a plan builds starts (``locker:<locker id>...``), and
#: so how no parcel id may start: a parcel's job and a drop's share one id space in the routing
#: problem, and figures tell a drop from a parcel by this prefix.
DROP_JOB_PREFIX = "locker:"

#: Vehicle type -> (grams of CO2 per km, road profile it drives on). Diesel light van and truck
#: tank-to-wheel; an e-tricycle charged from a coal-heavy grid. Override per day.
DEFAULT_VEHICLE_TYPES: dict[str, tuple[float, str]] = {
    "van": (240.0, "van"),
    "truck": (520.0, "van"),
    "e-tricycle": (15.0, "e-tricycle"),
}


#: Most vehicles one day may list, all its fleets (firms' and centres') together, and so also
#: one fleet entry's ``count``. Every vehicle enters every routing model the day builds (each
#: firm alone, pooled, each Shapley coalition) before any search starts: 500,000 of them took
#: 43 s and 2 GB for a single parcel. A thousand vans carry 150,000 parcels at the default
#: capacity, far beyond a city day this comparison is for (its scenarios list a few vans per
#: firm), and a vehicle with no parcel to carry is never used, so more only cost time.
MAX_DAY_VEHICLES = 1000

#: Most characters of a firm's, centre's, locker's or parcel's id. The platform stores a pooling
#: run's firm ids in a 200-character column (as it does firm names), where PostgreSQL refuses a
#: longer one; so a day refuses it first, naming the item, and its other ids keep the same bound.
MAX_ID_LENGTH = 200

#: An id of the day's firms, centres, lockers and parcels.
DayId = Annotated[str, Field(min_length=1, max_length=MAX_ID_LENGTH)]

#: Most kilograms a vehicle carries: the routing model counts capacities in grams, at most
#: ``MAX_AMOUNT``. (A day's numbers are finite `Float`s, its money and seconds the routing
#: model's bounded ``Money`` and ``Seconds``: the day refuses what a solve would, naming the
#: day's field, not an internal vehicle.)
MAX_VEHICLE_KG = MAX_AMOUNT / 1000

#: A compartment's inner length in cm: a size with a zero or negative side fits no parcel.
Length = Annotated[Float, Field(gt=0)]


def _day_window(value: Any, handler: ValidatorFunctionWrapHandler) -> TimeWindow:
    """The routing model's window, whose errors are `ProblemError`s naming only "timewindow":
    turned back into pydantic errors so that `parse_day` names the parcel or fleet and field."""
    try:
        return handler(value)
    except ProblemError as err:
        raise ValueError(str(err).removeprefix("timewindow: ")) from None


Window = Annotated[TimeWindow, WrapValidator(_day_window)]


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class Point(_Frozen):
    """A place as latitude and longitude in degrees (WGS 84)."""

    lat: Float = Field(ge=-90, le=90)
    lon: Float = Field(ge=-180, le=180)

    @model_validator(mode="before")
    @classmethod
    def _from_pair(cls, data: Any) -> Any:
        if isinstance(data, list | tuple):
            if len(data) != 2:
                raise ValueError("a point is [lat, lon]")
            return {"lat": data[0], "lon": data[1]}
        return data

    def pair(self) -> tuple[float, float]:
        """The point as (lat, lon)."""
        return (self.lat, self.lon)


class VehicleType(_Frozen):
    """What a kind of vehicle emits and which road profile it drives on."""

    co2_g_per_km: Float = Field(ge=0)
    profile: str = "van"

    @field_validator("profile")
    @classmethod
    def _known_profile(cls, value: str) -> str:
        """A road profile `network` knows: an unknown one was found only when the day's travel
        was built, in a message naming no field of the day."""
        if value not in PROFILES:
            known = ", ".join(PROFILES)
            raise ValueError(f"'{value}' is not a road profile; choose one of {known}")
        return value


class VehicleSpec(_Frozen):
    """A kind of vehicle as a day uses it: its type, what it carries and what it costs."""

    type: str = "van"
    capacity_parcels: Int = Field(default=150, ge=1, le=MAX_AMOUNT)
    capacity_kg: Float = Field(default=800.0, gt=0, le=MAX_VEHICLE_KG)
    cost_per_km: Money = 1.0
    cost_per_hour: Money = 30.0
    fixed_cost: Money = 50.0


class FleetEntry(VehicleSpec):
    """``count`` identical vehicles of one type at a depot or centre."""

    count: Int = Field(
        default=1,
        ge=1,
        le=MAX_DAY_VEHICLES,
        description=f"Vehicles of this kind; at most {MAX_DAY_VEHICLES} in the whole day.",
    )
    shift: Window = TimeWindow(start=8 * 3600, end=18 * 3600)


class Transfer(VehicleSpec):
    """The line haul of a pooled plan: a firm brings its parcels from its depot to the centres.

    Delivering alone, a firm's vans leave from its own depot; pooled, the parcels must first
    reach the shared centre the shared fleet delivers them from. Each (firm, centre) pair with
    parcels takes ``ceil(max(parcels / capacity_parcels, kg / capacity_kg))`` round trips on
    the vehicle ``type``'s road profile, each costing ``fixed_cost`` plus ``cost_per_km`` and
    ``cost_per_hour`` of driving, and the centre charges ``handling_per_parcel`` to cross-dock
    each parcel. Without it, pooling's savings would leave out a leg only pooling drives.
    The default is the fleets' default van with no fixed cost, as the firm's own van already
    exists; a day moving hundreds of parcels per firm should name a truck (``type: truck``,
    520 g CO2/km) with its capacity and costs.
    """

    fixed_cost: Money = 0.0
    handling_per_parcel: Money = 0.0


class Firm(_Frozen):
    """A logistics firm: its own depot, the fleet it would deliver with alone, and (optionally)
    its own line haul to the shared centres instead of the day's ``transfer``."""

    id: DayId
    depot: Point
    fleet: list[FleetEntry]
    transfer: Transfer | None = None


class Centre(_Frozen):
    """A shared distribution centre and the shared fleet based there."""

    id: DayId
    at: Point
    fleet: list[FleetEntry]


class Locker(_Frozen):
    """A self-pickup locker and how many compartments of each size are free today."""

    id: DayId
    at: Point
    free: dict[str, Int] = Field(default_factory=dict)

    @field_validator("free")
    @classmethod
    def _non_negative(cls, free: dict[str, int]) -> dict[str, int]:
        for size, count in free.items():
            if count < 0:
                raise ValueError(f"free compartments of size {size} is negative ({count})")
            if count > MAX_AMOUNT:
                raise ValueError(f"free compartments of size {size} is above {MAX_AMOUNT:,}")
        return free


class SitedLockers(_Frozen):
    """Lockers taken from a locker-siting plan (``gongpei site ... -o PLAN.json``).

    Each open site becomes a locker whose free compartments are ``free_share`` of the
    compartments the plan built (rounded down): the share still free when the vans arrive.
    """

    siting: str = Field(min_length=1)
    free_share: Float = Field(default=1.0, gt=0, le=1)


class Parcel(_Frozen):
    """One parcel for one recipient: owning firm, place, size class or dimensions, weight.

    ``locker`` names the drop point the recipient chose; without it, any locker within the
    walking radius with a free compartment that fits may take the parcel.
    """

    id: DayId
    firm: str
    at: Point
    size: str | tuple[float, float, float] = "S"
    kg: Float = Field(default=1.0, ge=0)
    service_s: Seconds = 180.0
    window: Window | None = None
    locker: str | None = None

    @field_validator("size", mode="before")
    @classmethod
    def _dimensions(cls, value: Any) -> Any:
        """Dimensions must be three positive lengths; said here in one line, since pydantic's
        own report for a union (size class or cm) names the string branch first."""
        if isinstance(value, list | tuple):
            numbers = all(isinstance(v, int | float) and not isinstance(v, bool) for v in value)
            if len(value) != 3 or not numbers or not all(0 < v < math.inf for v in value):
                raise ValueError(
                    f"dimensions are [length, width, height] in cm, three positive numbers; "
                    f"got {list(value)}"
                )
        return value

    @field_validator("id")
    @classmethod
    def _not_a_drop_id(cls, ident: str) -> str:
        if ident.startswith(DROP_JOB_PREFIX):
            raise ValueError(
                f"ids starting with '{DROP_JOB_PREFIX}' are kept for locker drops; "
                "rename the parcel"
            )
        return ident

    def grams(self) -> int:
        """Weight in whole grams, at least 1: capacities count grams so that they stay integer."""
        return max(1, math.ceil(self.kg * 1000))


class LockerStop(_Frozen):
    """Time a driver spends at a locker: a fixed part plus a part per parcel loaded in."""

    base_s: Seconds = 120.0
    per_parcel_s: Seconds = 15.0


class Travel(_Frozen):
    """Where travel times come from: a road graph source, or straight lines when asked for.

    ``source`` is what ``network.graph.build_graph`` takes ("demo", "synthetic:N" or an OSM
    file path, relative to the day file). ``straight_line`` uses haversine distance times
    ``circuity`` at ``speed_kmh`` and must be asked for explicitly.
    """

    source: str | None = None
    straight_line: bool = False
    speed_kmh: Float = Field(default=25.0, ge=SPEED_FLOOR_KMH, le=SPEED_CEILING_KMH)
    circuity: Float = Field(default=DEFAULT_CIRCUITY, ge=1.0, le=MAX_CIRCUITY)
    walk_radius_m: Float = Field(default=500.0, gt=0)

    @model_validator(mode="after")
    def _one_source(self) -> Travel:
        if (self.source is None) == (not self.straight_line):
            raise ValueError("give either a graph 'source' or 'straight_line: true' (not both)")
        return self


class Day(_Frozen):
    """One day of common distribution: who delivers what, from where, with which vehicles."""

    name: str = "day"
    travel: Travel
    firms: list[Firm]
    centres: list[Centre]
    lockers: list[Locker] = Field(default_factory=list)
    lockers_from: SitedLockers | None = None
    parcels: list[Parcel]
    compartments: dict[str, tuple[Length, Length, Length]] = Field(
        default_factory=lambda: dict(DEFAULT_COMPARTMENTS)
    )
    vehicle_types: dict[str, VehicleType] = Field(default_factory=dict)
    locker_stop: LockerStop = LockerStop()
    #: How firms' parcels reach the shared centres in pooled plans; ``null`` when they arrive
    #: there from upstream sorting anyway (then pooling is not charged for the leg).
    transfer: Transfer | None = Transfer()
    #: What a parcel a plan cannot deliver costs (redelivery tomorrow), so that leaving parcels
    #: behind never makes a plan look cheaper.
    unserved_parcel_cost: Money = 100.0

    @field_validator("compartments")
    @classmethod
    def _door_only_size_reserved(
        cls, compartments: dict[str, tuple[float, float, float]]
    ) -> dict[str, tuple[float, float, float]]:
        if DOOR_ONLY_SIZE in compartments:
            raise ValueError(
                f"size {DOOR_ONLY_SIZE} is kept for parcels too large for any compartment "
                f"(they go to the door); name the compartment otherwise, e.g. XXL"
            )
        return compartments

    @model_validator(mode="after")
    def _references(self) -> Day:
        _unique("firm", [f.id for f in self.firms])
        _unique("centre", [c.id for c in self.centres])
        _unique("locker", [lk.id for lk in self.lockers])
        _unique_parcels(self.parcels)
        if not self.firms:
            raise ValueError("firms: a day needs at least one firm")
        if not self.centres:
            raise ValueError("centres: a day needs at least one shared centre to pool at")
        if not self.parcels:
            raise ValueError("parcels: a day needs at least one parcel")
        types = self.known_vehicle_types()
        for firm in self.firms:
            _check_fleet(f"firm '{firm.id}'", firm.fleet, types)
            haul = self.transfer_of(firm.id)
            if haul is not None:
                where = f"firm '{firm.id}': transfer" if firm.transfer else "transfer"
                _check_type(where, haul.type, types)
        for centre in self.centres:
            _check_fleet(f"centre '{centre.id}'", centre.fleet, types)
        for locker in self.lockers:
            unknown = sorted(set(locker.free) - set(self.compartments))
            if unknown:
                raise ValueError(
                    f"locker '{locker.id}': free: compartment size {unknown[0]} is unknown "
                    f"(sizes: {', '.join(self.compartments)})"
                )
        firms = {f.id for f in self.firms}
        lockers = {lk.id for lk in self.lockers}
        for parcel in self.parcels:
            if parcel.firm not in firms:
                raise ValueError(f"parcel '{parcel.id}': firm '{parcel.firm}' is unknown")
            if parcel.locker is not None and parcel.locker not in lockers:
                raise ValueError(f"parcel '{parcel.id}': locker '{parcel.locker}' is unknown")
            sizes = {*self.compartments, DOOR_ONLY_SIZE}
            if isinstance(parcel.size, str) and parcel.size not in sizes:
                raise ValueError(
                    f"parcel '{parcel.id}': size '{parcel.size}' is unknown "
                    f"(use {', '.join(self.compartments)}, {DOOR_ONLY_SIZE} or [l, w, h] in cm)"
                )
        _check_weights(self)
        return self

    @model_validator(mode="after")
    def _vehicles_bounded(self) -> Day:
        """At most ``MAX_DAY_VEHICLES`` over all fleets (each entry alone is bounded too)."""
        check_day_vehicles([*self.firms, *self.centres])
        return self

    def known_vehicle_types(self) -> dict[str, VehicleType]:
        """Vehicle types with their CO2 factor and profile: the defaults and the day's own."""
        types = {
            name: VehicleType(co2_g_per_km=co2, profile=profile)
            for name, (co2, profile) in DEFAULT_VEHICLE_TYPES.items()
        }
        types.update(self.vehicle_types)
        return types

    def transfer_of(self, firm: str) -> Transfer | None:
        """The firm's line haul to the centres: its own, else the day's (None: not charged)."""
        owner = next(f for f in self.firms if f.id == firm)
        return owner.transfer or self.transfer

    def parcels_reach(self) -> tuple[float, float, float]:
        """Where lockers could serve the day: the parcels' mean (lat, lon) and the metres from
        it that reach every parcel's walking radius (for asking the platform for lockers)."""
        lats = np.array([p.at.lat for p in self.parcels])
        lons = np.array([p.at.lon for p in self.parcels])
        lat, lon = float(lats.mean()), float(lons.mean())
        reach = float(haversine_m(lat, lon, lats, lons).max()) + self.travel.walk_radius_m
        return lat, lon, reach

    def firm_ids(self) -> list[str]:
        """Firm ids in the order the day lists them."""
        return [f.id for f in self.firms]

    def parcels_of(self, firms: frozenset[str] | set[str]) -> list[Parcel]:
        """The parcels owned by any of ``firms``, in day order."""
        return [p for p in self.parcels if p.firm in firms]


def check_day_vehicles(owners: Iterable[Any]) -> None:
    """ValueError unless the fleets of ``owners`` (firms and centres: anything with a ``fleet``
    of entries with a ``count``) add up to at most ``MAX_DAY_VEHICLES``; shared with scenario
    validation, so that it refuses what a run's day would, in the same words."""
    total = sum(entry.count for owner in owners for entry in owner.fleet)
    if total > MAX_DAY_VEHICLES:
        raise ValueError(
            f"fleet: count: the day's fleets add up to {total} vehicles, more than "
            f"{MAX_DAY_VEHICLES} (firms' and centres' together)"
        )


def _unique(kind: str, ids: list[str]) -> None:
    repeated = [ident for ident, n in Counter(ids).items() if n > 1]
    if repeated:
        raise ValueError(f"{kind} '{repeated[0]}': id repeats")


def _unique_parcels(parcels: list[Parcel]) -> None:
    """A day's parcel ids are the day's, not each firm's: its plans, locker drops, splits and
    figures name a parcel by its id alone, so an id at two firms is refused, naming both (a
    scenario names its firms' parcels ``FIRM-ID``, and refuses names that would meet)."""
    firm_of: dict[str, str] = {}
    for parcel in parcels:
        first = firm_of.get(parcel.id)
        if first is None:
            firm_of[parcel.id] = parcel.firm
        elif first == parcel.firm:
            raise ValueError(f"parcel '{parcel.id}': id repeats (firm '{first}' has it twice)")
        else:
            raise ValueError(
                f"parcel '{parcel.id}': id repeats: firms '{first}' and '{parcel.firm}' each "
                f"have a parcel '{parcel.id}', and parcel ids must differ across the day's "
                f"firms (give them the firm's prefix, e.g. '{first}-{parcel.id}' and "
                f"'{parcel.firm}-{parcel.id}')"
            )


def _check_weights(day: Day) -> None:
    """Every parcel fits a vehicle of its own firm (to deliver alone) and of the shared centres
    (pooled), said in the day's kg: the routing model would refuse it later, in grams, and call
    it a job."""
    centre_kg = max(entry.capacity_kg for centre in day.centres for entry in centre.fleet)
    firm_kg = {firm.id: max(entry.capacity_kg for entry in firm.fleet) for firm in day.firms}
    for parcel in day.parcels:
        for largest, whose in ((firm_kg[parcel.firm], f"firm '{parcel.firm}'"),
                               (centre_kg, "the shared centres")):  # fmt: skip
            if parcel.grams() > round(largest * 1000):
                raise ValueError(
                    f"parcel '{parcel.id}': kg: {parcel.kg:g} kg is more than any vehicle of "
                    f"{whose} carries (largest {largest:g} kg)"
                )


def _check_fleet(owner: str, fleet: list[FleetEntry], types: dict[str, VehicleType]) -> None:
    if not fleet:
        raise ValueError(f"{owner}: fleet: no vehicles")
    for entry in fleet:
        _check_type(f"{owner}: fleet", entry.type, types)


def _check_type(where: str, name: str, types: dict[str, VehicleType]) -> None:
    if name not in types:
        raise ValueError(
            f"{where}: vehicle type '{name}' is unknown "
            f"(add it under vehicle_types with its co2_g_per_km)"
        )


def parse_day(data: Any, *, base_dir: Path | None = None) -> Day:
    """Validate a day from plain data (a parsed YAML/JSON document).

    A day is read from YAML (``read_day``) into immutable pydantic models. Every cross-reference is
    checked here (a parcel's firm, a parcel's chosen locker, vehicle types), so that the plan
    builders can trust the day; errors name the item and the field.

    A top-level ``datum`` (`network.datum`: "gcj02" for Amap/Tencent, "bd09" for Baidu) says
    what the day's own points (depots, centres, lockers, parcels) are given in; they are read
    into WGS 84, so the `Day` has no datum of its own. A siting plan's lockers
    (``lockers_from``) are WGS 84 already, as every output is.
    """
    if not isinstance(data, dict):
        raise PoolingError("day: the file must hold a mapping (firms, centres, parcels, ...)")
    data = _in_wgs84(data)
    if data.get("lockers_from") is not None:
        lockers = data.get("lockers") or []
        if not isinstance(lockers, list):
            raise PoolingError(
                f"lockers: a list of lockers (id, at, free), got {type(lockers).__name__} "
                f"{lockers!r}"
            )
        data = {**data, "lockers": [*lockers, *_sited(data, base_dir)]}
    try:
        day = Day.model_validate(data)
    except ValidationError as err:
        raise PoolingError(_explain(err, data, Day)) from None
    source = day.travel.source
    if base_dir is not None and source and not is_builtin(source):
        path = Path(source)
        if not path.is_absolute():
            travel = day.travel.model_copy(update={"source": str(base_dir / path)})
            day = day.model_copy(update={"travel": travel})
    return day


#: Where a day's points stand: each list's items and the key of their point.
_POINTS = {"firms": "depot", "centres": "at", "lockers": "at", "parcels": "at"}


def _in_wgs84(data: dict[str, Any]) -> dict[str, Any]:
    """The day's data without its ``datum``, its points converted from it to WGS 84 as they
    are given ([lat, lon] or lat/lon); anything malformed is left for the model to name."""
    try:
        datum = check_datum(data.get("datum"))
    except DatumError as err:
        raise PoolingError(str(err)) from None
    data = {key: value for key, value in data.items() if key != "datum"}
    if datum == DEFAULT_DATUM:
        return data

    def point(value: Any) -> Any:
        if isinstance(value, list | tuple) and len(value) == 2:
            return list(to_wgs84(datum, value[0], value[1]))
        if isinstance(value, dict) and "lat" in value and "lon" in value:
            lat, lon = to_wgs84(datum, value["lat"], value["lon"])
            return {**value, "lat": lat, "lon": lon}
        return value

    for key, at in _POINTS.items():
        items = data.get(key)
        if isinstance(items, list):
            data[key] = [
                {**x, at: point(x[at])} if isinstance(x, dict) and at in x else x for x in items
            ]
    return data


def with_lockers(day: Day, lockers: list[dict[str, Any]]) -> Day:
    """The day with more lockers (e.g. live ones from the platform, in WGS 84 as the day now
    is), validated again."""
    data = day.model_dump()
    data["lockers"] = [*data["lockers"], *lockers]
    data["lockers_from"] = None
    return parse_day(data)


def read_day(path: str | Path) -> Day:
    """Read and validate a day from a YAML (or JSON) file.

    A syntax error or a key given twice is one line, ``FILE:LINE:COLUMN: not valid YAML:``
    and the reason, not YAML's multi-line report with the text quoted: a repeated key would
    otherwise keep only its last value (a second ``parcels:`` section replacing the first).
    """
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as err:
        why = getattr(err, "strerror", None) or err
        raise PoolingError(f"day file '{path}': cannot be read ({why})") from None
    try:
        data = load_strict(text)
    except yaml.MarkedYAMLError as err:
        mark = err.problem_mark or err.context_mark
        where = f"{path}:{mark.line + 1}:{mark.column + 1}" if mark else str(path)
        reason = f"{err.problem}" + (f" ({err.context})" if err.context else "")
        raise PoolingError(f"{where}: not valid YAML: {reason}") from None
    except yaml.YAMLError as err:
        raise PoolingError(f"{path}: not valid YAML: {' '.join(str(err).split())}") from None
    return parse_day(data, base_dir=path.parent)


def _sited(data: dict[str, Any], base_dir: Path | None) -> list[dict[str, Any]]:
    """Lockers (as plain data) from the siting plan that ``lockers_from`` names."""
    try:
        spec = SitedLockers.model_validate(data["lockers_from"])
    except ValidationError as err:
        where = {"lockers_from": data["lockers_from"]}
        raise PoolingError(_explain(err, where, SitedLockers, under="lockers_from")) from None
    path = Path(spec.siting)
    if base_dir is not None and not path.is_absolute():
        path = base_dir / path
    try:
        plan = load_json(path.read_text(encoding="utf-8"))
    except OSError as err:
        why = err.strerror
        raise PoolingError(f"lockers_from: siting plan '{path}' cannot be read ({why})") from None
    except ValueError as err:
        raise PoolingError(f"lockers_from: siting plan '{path}' is not JSON ({err})") from None
    sites = plan.get("sites") if isinstance(plan, dict) else None
    if not isinstance(sites, list):
        raise PoolingError(f"lockers_from: siting plan '{path}' has no 'sites' list")
    lockers = []
    for n, site in enumerate(sites):
        if not isinstance(site, dict):
            raise PoolingError(
                f"lockers_from: site {n + 1} in '{path}' is not a mapping (id, lat, lon, "
                f"compartments), got {site!r}"
            )
        name = site.get("id", "?")
        if isinstance(name, bool) or not isinstance(name, str | int):  # NaN was locker "nan"
            raise PoolingError(
                f"lockers_from: site {n + 1}: id: must be text or a whole number, got {name!r} "
                f"(in '{path}')"
            )
        if site.get("lat") is None or site.get("lon") is None:
            raise PoolingError(f"lockers_from: site '{name}' has no lat/lon in '{path}'")
        for field in ("lat", "lon"):  # text was read as a number, NaN said to be "above 90"
            problem = number_problem(site[field])
            if problem is not None:
                raise PoolingError(f"lockers_from: site '{name}': {field}: {problem} (in '{path}')")
        if not isinstance(site.get("compartments"), dict):
            raise PoolingError(
                f"lockers_from: site '{name}' has no compartments in '{path}' "
                "(site with a sizing model so the plan says how many of each size)"
            )
        free = {}
        for size, count in site["compartments"].items():
            if not _whole(count):
                raise PoolingError(
                    f"lockers_from: site '{name}': compartments: {size}: {count!r} is not a "
                    f"whole number of compartments (in '{path}')"
                )
            if count > MAX_AMOUNT:
                raise PoolingError(
                    f"lockers_from: site '{name}': compartments: {size}: more than "
                    f"{MAX_AMOUNT:,} compartments (in '{path}')"
                )
            free[size] = math.floor(int(count) * spec.free_share)
        lockers.append({"id": str(name), "at": [site["lat"], site["lon"]], "free": free})
    return lockers


def _whole(value: Any) -> bool:
    """A count of compartments: a non-negative whole number (2.0 is one, 2.9 and inf are not,
    so a plan's count is never silently cut down, nor crashes ``int``)."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        return False
    return value >= 0 and (isinstance(value, int) or value.is_integer())


def _explain(
    err: ValidationError, data: dict[str, Any], model: type[BaseModel], *, under: str = ""
) -> str:
    """First validation problem as one line: the item (by id where it has one) and the field.
    ``model`` is what ``err`` validated, found in ``data`` at key ``under`` (if given).

    An unknown key is named with the field it likely misspells ("did you mean"), or else with
    the fields allowed there: pydantic's "Extra inputs are not permitted" named neither, and a
    parcel's ``weight`` left the reader to guess ``kg``. A day's ``datum``, which `parse_day`
    reads before the model, is one of the day's fields."""
    first = err.errors()[0]
    loc = list(first["loc"])
    message = str(first["msg"]).removeprefix("Value error, ")
    if first["type"] == "extra_forbidden":
        key, loc = str(loc[-1]), loc[:-1]
        known = keys_at(model, loc) + (["datum"] if model is Day and not loc else [])
        meant = close_name(key, known)
        hint = did_you_mean(meant) if meant else f" (known: {', '.join(known)})"
        message = f"unknown field '{key}'{hint}"
    loc = [under, *loc] if under else loc
    if not loc:
        return message
    where, rest = _item_name(loc, data)
    field = ".".join(str(part) for part in rest)
    return f"{where}: {field}: {message}" if field else f"{where}: {message}"


def _item_name(loc: list[Any], data: dict[str, Any]) -> tuple[str, list[Any]]:
    singular = {"firms": "firm", "centres": "centre", "lockers": "locker", "parcels": "parcel"}
    head = loc[0]
    if head in singular and len(loc) > 1 and isinstance(loc[1], int):
        items = data.get(head)
        item = items[loc[1]] if isinstance(items, list) and loc[1] < len(items) else None
        if isinstance(item, dict) and item.get("id") is not None:
            return f"{singular[head]} '{item['id']}'", loc[2:]
        return f"{head}[{loc[1]}]", loc[2:]
    return str(head), loc[1:]
