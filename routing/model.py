"""The solver-neutral delivery problem: an immutable, validated pydantic model and its builder.

Units: times and durations in seconds from the day's origin (midnight), distances in metres
(benchmark readers use the instance's own unit), amounts as non-negative integers in each
capacity dimension (parcels, kg, litres...). Every item refers to a place by its index into the
travel matrices (`location`), like VROOM's `location_index`; `Problem.locations` optionally gives
each index a coordinate for maps and GeoJSON.

Construction never returns an invalid problem: a bad field or a cross-item inconsistency raises
`ProblemError` whose one-line message names the item and the field.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Annotated, Any

import numpy as np
from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    PlainSerializer,
    PlainValidator,
    PrivateAttr,
    ValidationError,
    WithJsonSchema,
    field_validator,
    model_serializer,
    model_validator,
)

from network.errors import GongpeiError, is_number
from network.jsonfile import TOO_LARGE, shown, too_large

__all__ = [
    "Break",
    "Centre",
    "Job",
    "Location",
    "Model",
    "Problem",
    "ProblemError",
    "Shipment",
    "ShipmentStop",
    "TimeWindow",
    "TravelMatrices",
    "Vehicle",
    "clock_seconds",
    "format_time",
    "posted_path",
]


#: A path into the problem data, as pydantic's error locations are: keys and list positions.
Loc = tuple[str | int, ...]


class ProblemError(GongpeiError):
    """The problem data is invalid; the message names the item and the field.

    `loc` is where, as a path into the problem data as its caller handed it in (("jobs", 3,
    "time_windows", 1)), so that the API can point its 422 at the field; () where no such path
    is known (the message alone then says where).
    """

    def __init__(self, message: str, *, loc: Loc = ()) -> None:
        super().__init__(message)
        self.loc = loc


class _Invalid(ValueError):
    """A cross-field check's failure, with the path of the field it is about: pydantic gives a
    model validator's error only the path of the model it validates."""

    def __init__(self, message: str, *loc: str | int) -> None:
        super().__init__(message)
        self.loc = loc


# --------------------------------------------------------------------------- helpers


def format_time(seconds: float) -> str:
    """Seconds from midnight as a clock time (08:00, 08:00:30; beyond a day as 26:00)."""
    if not math.isfinite(seconds):
        return str(seconds)
    whole = round(seconds)
    h, rest = divmod(whole, 3600)
    m, s = divmod(rest, 60)
    return f"{h:02d}:{m:02d}" if s == 0 else f"{h:02d}:{m:02d}:{s:02d}"


def clock_seconds(text: str) -> int:
    """Seconds from midnight of a clock time, "HH:MM" or "HH:MM:SS".

    Hours may pass 23, as `format_time` writes them: 26:00 is 2 a.m. the next day, the end of
    a shift past midnight. Minutes and seconds must be 00-59: "10:75" was carried into the hour
    (11:15), so a typo silently moved a time window. Raises ValueError naming the text.
    """
    parts = text.strip().split(":")
    if len(parts) not in (2, 3) or not all(p.isascii() and p.isdigit() for p in parts):
        raise ValueError(f"'{text}' is not a clock time like 08:30 or 08:30:00")
    hours, minutes, seconds = (int(p) for p in [*parts, "0"][:3])
    if minutes > 59 or seconds > 59:
        raise ValueError(
            f"'{text}' is not a clock time like 08:30 or 08:30:00 (minutes and seconds run "
            "from 00 to 59)"
        )
    return hours * 3600 + minutes * 60 + seconds


_ITEM_KINDS = {
    "jobs": "job",
    "shipments": "shipment",
    "vehicles": "vehicle",
    "centres": "centre",
    "breaks": "break",
    "locations": "location",
}


def _describe(err: ValidationError, data: Any, what: str) -> ProblemError:
    """The `ProblemError` of pydantic's errors: one line naming the item (by id where it has
    one) and the field of each, located at the first one's field (see `posted_path`)."""
    parts = []
    errors = err.errors()
    if any(e["type"] != "too_short" for e in errors):
        errors = [e for e in errors if e["type"] != "too_short"]
    first = errors[0]
    cause = first.get("ctx", {}).get("error")  # an `_Invalid` knows the field below its model
    loc = posted_path(data, (*first["loc"], *getattr(cause, "loc", ())))
    for e in errors[:_NAMED]:
        item, field = what, []
        node = data
        for i, key in enumerate(e["loc"]):
            parent = e["loc"][i - 1] if i else None
            if parent == "matrices" and i == 1:
                item, field, node = f"matrices '{key}'", [], _get(node, key)
                continue
            if isinstance(key, int) and parent in _ITEM_KINDS:
                try:
                    node = node[key]
                except (IndexError, KeyError, TypeError):
                    node = None
                ident = _get(node, "id")
                label = f"'{ident}'" if ident is not None else f"#{key}"
                named = f"{_ITEM_KINDS[parent]} {label}"
                item = named if item == what == "problem" else f"{item}: {named}"
                field = []
                continue
            if isinstance(key, int) and field:
                field[-1] = f"{field[-1]}[{key}]"
            else:
                field.append(str(key))
            node = _get(node, key)
        msg = e["msg"].removeprefix("Value error, ").removeprefix("Assertion failed, ")
        if e["type"] in ("missing", "extra_forbidden"):
            msg = "is required" if e["type"] == "missing" else "is not a known field"
        elif e["type"] not in ("value_error", "assertion_error") and "input" in e:
            msg = _with_input(e["type"], msg, e["input"])
        where = ".".join(field)
        if not e["loc"] and what == "problem":
            parts.append(msg)
            continue
        parts.append(f"{item}: {where}: {msg}" if where else f"{item}: {msg}")
    return ProblemError(_listed(parts, len(errors)), loc=loc)


#: How many problems one error message names before "and N more".
_NAMED = 5


def _listed(parts: Sequence[str], total: int) -> str:
    """One line of the first `_NAMED` of ``total`` problems, and how many more."""
    more = total - _NAMED
    return "; ".join(parts[:_NAMED]) + (f"; and {more} more" if more > 0 else "")


def _with_input(kind: str, msg: str, value: Any) -> str:
    """A pydantic message with the value it refused. An integer too large for a float was "not
    a valid number" and shown cut to 40 digits, as if it were one of 40: it is said to be too
    large, with its length. Checked here, once a field has failed, not while parsing, which
    would slow the reading of every integer of a large matrix."""
    if not too_large(value):
        return f"{msg} (got {repr(value)[:40]})"
    if kind == "float_type":
        return f"{TOO_LARGE}, got {shown(value)}"
    return f"{msg} (got {shown(value)})"


def posted_path(data: Any, loc: Sequence[str | int]) -> Loc:
    """The part of an error's path that names something in ``data``: pydantic's paths follow
    the model, which a reader or a before-validator may have reshaped (a time window posted as
    [start, end] is validated as {"start", "end"}), and an error must point at the data as the
    caller wrote it. The last key may be absent from its object: it then names the field that
    is missing there."""
    node, path = data, []
    for i, key in enumerate(loc):
        if isinstance(node, Mapping):
            found = key in node
        elif isinstance(node, Sequence) and not isinstance(node, str | bytes):
            found = isinstance(key, int) and 0 <= key < len(node)
        else:
            found = False
        if found or (isinstance(node, Mapping) and i == len(loc) - 1):
            path.append(key)
        if not found:
            break
        node = node[key]
    return tuple(path)


def _get(node: Any, key: Any) -> Any:
    if isinstance(node, Mapping):
        return node.get(key)
    if isinstance(node, Sequence) and isinstance(key, int) and not isinstance(node, str):
        return node[key] if -len(node) <= key < len(node) else None
    return getattr(node, key, None) if isinstance(node, BaseModel) else None


_depth = ContextVar("_depth", default=0)


@contextmanager
def _outermost(data: Any, what: str) -> Iterator[None]:
    """Turn pydantic errors into one `ProblemError`, but only at the outermost model so that
    nested items (pydantic calls their __init__ too) keep the full path for the message."""
    depth = _depth.get()
    token = _depth.set(depth + 1)
    try:
        yield
    except ValidationError as err:
        if depth:
            raise
        raise _describe(err, data, what) from None
    finally:
        _depth.reset(token)


def _named(kind: str, data: Any) -> str:
    """The item an error is about: its kind and, where it has one, its id (a job built on its
    own by `Model.add_job` has no list position to name it by)."""
    ident = _get(data, "id")
    return f"{kind} '{ident}'" if isinstance(ident, str) and ident else kind


class _Frozen(BaseModel):
    """Immutable model whose construction errors are one-line `ProblemError`s."""

    model_config = ConfigDict(frozen=True, extra="forbid", ser_json_inf_nan="null")

    def __init__(self, **data: Any) -> None:
        with _outermost(data, _named(type(self).__name__.lower(), data)):
            super().__init__(**data)

    @classmethod
    def model_validate(cls, obj: Any, **kwargs: Any) -> Any:  # type: ignore[override]
        with _outermost(obj, _named(cls.__name__.lower(), obj)):
            return super().model_validate(obj, **kwargs)

    @classmethod
    def model_validate_json(cls, json_data: str | bytes, **kwargs: Any) -> Any:  # type: ignore[override]
        import json

        try:
            data = json.loads(json_data)
        except ValueError as err:
            raise ProblemError(f"{cls.__name__.lower()}: not valid JSON: {err}") from None
        return cls.model_validate(data, **kwargs)


def not_bool(value: Any) -> Any:
    """Refuse true/false where a number is expected: pydantic's lax mode reads them as 1 and
    0, so a vehicle's ``capacity: [true]`` was quietly a capacity of one."""
    if isinstance(value, bool):
        raise ValueError("expected a number, not true or false")
    return value


def a_number(value: Any) -> Any:
    """Refuse text as `not_bool` refuses true/false: lax mode read a batch's ``"service":
    "60"`` or ``"lat": "60.17"`` as numbers, while the API's own fields and VROOM's reader
    refuse them. A problem's numbers are JSON numbers; its times also take clock text
    (`a_time`)."""
    if isinstance(value, str | bytes):
        raise ValueError(f"expected a number, not the text {value!r:.40}")
    return not_bool(value)


#: The largest magnitudes the model takes. The engines work in 64-bit integers (times and costs
#: scaled by up to 1,000, PyVRP's values below 2**44), so 1e30 s of service or a capacity of
#: 1e30 crashed a solve that had been accepted. The bounds leave room for any real day: times
#: up to 1e10 s (a Unix timestamp fits, as VROOM files may use), travel up to 1e10 m, amounts
#: up to 1e12 units (grams of a million tonnes) and money up to 1e9 a vehicle, km or hour.
MAX_SECONDS = 1e10
MAX_METRES = 1e10
MAX_AMOUNT = 10**12
MAX_MONEY = 1e9

Seconds = Annotated[
    float, BeforeValidator(a_number), Field(ge=0, le=MAX_SECONDS, allow_inf_nan=False)
]
Metres = Annotated[
    float, BeforeValidator(a_number), Field(ge=0, le=MAX_METRES, allow_inf_nan=False)
]
Money = Annotated[float, BeforeValidator(a_number), Field(ge=0, le=MAX_MONEY, allow_inf_nan=False)]


def a_time(value: Any) -> Any:
    """A time: seconds, or clock text "HH:MM" or "HH:MM:SS" (`clock_seconds`). Other text is
    refused with both forms named (it was read as seconds, "36000" as 10 a.m.)."""
    if not isinstance(value, str):
        return a_number(value)
    if ":" in value:
        return clock_seconds(value)
    raise ValueError(
        f"expected a number of seconds or a clock time like 08:30, not the text {value!r:.40}"
    )


Time = Annotated[float, BeforeValidator(a_time), Field(ge=0, le=MAX_SECONDS, allow_inf_nan=False)]


#: Numbers read from JSON or YAML: ints and floats (an int is a whole float), never booleans
#: nor text (`"kg": "3"` in a pooling day posted to the API was read as 3), and floats finite
#: (YAML's ``.inf`` passed a pooling day's or a scenario's checks and crashed later: capacities
#: in whole grams, a least-core LP of 0 x inf); shared by the pooling day and the scenario files.
Int = Annotated[int, BeforeValidator(a_number)]
Float = Annotated[float, BeforeValidator(a_number), Field(allow_inf_nan=False)]
Amount = tuple[Annotated[int, BeforeValidator(a_number), Field(ge=0, le=MAX_AMOUNT)], ...]
Skills = frozenset[str]


# --------------------------------------------------------------------------- items


class TimeWindow(_Frozen):
    """A closed interval [start, end] of seconds; JSON as [start, end] or {"start", "end"}.

    Clock strings ("08:00") are accepted on input and stored as seconds.
    """

    start: Time
    end: Time

    @model_validator(mode="before")
    @classmethod
    def _from_pair(cls, value: Any) -> Any:
        if isinstance(value, Sequence) and not isinstance(value, str | bytes):
            if len(value) != 2:
                raise ValueError(f"a time window is [start, end], got {len(value)} values")
            value = {"start": value[0], "end": value[1]}
        return value

    @model_validator(mode="after")
    def _ordered(self) -> TimeWindow:
        if self.end < self.start:
            raise ValueError(
                f"time window ends ({format_time(self.end)}) before it starts "
                f"({format_time(self.start)})"
            )
        return self

    @model_serializer
    def _as_pair(self) -> list[float]:
        return [self.start, self.end]

    def contains(self, t: float, *, tol: float = 1e-6) -> bool:
        return self.start - tol <= t <= self.end + tol


Windows = tuple[TimeWindow, ...]


def _check_windows(windows: Windows) -> Windows:
    """Several windows must be sorted and disjoint, so engines can read them as one domain."""
    ordered = tuple(sorted(windows, key=lambda w: w.start))
    for a, b in itertools.pairwise(ordered):
        if b.start <= a.end:
            raise ValueError(
                f"time windows [{format_time(a.start)}, {format_time(a.end)}] and "
                f"[{format_time(b.start)}, {format_time(b.end)}] overlap"
            )
    return ordered


class Location(_Frozen):
    """Coordinates (WGS84) of one matrix index, when known; used for maps and GeoJSON."""

    lat: float | None = Field(default=None, ge=-90, le=90)
    lon: float | None = Field(default=None, ge=-180, le=180)
    name: str | None = None

    @field_validator("lat", "lon", mode="before")
    @classmethod
    def _numbers(cls, value: Any) -> Any:
        return a_number(value)

    @model_validator(mode="before")
    @classmethod
    def _not_swapped(cls, value: Any) -> Any:
        """A latitude beyond 90 whose longitude would be a latitude is most likely a [lat, lon]
        pair given where [lon, lat] is read (VROOM's and GeoJSON's order): say so, rather than
        only that the latitude is too large."""
        lat, lon = _get(value, "lat"), _get(value, "lon")
        if is_number(lat) and is_number(lon) and 90 < abs(lat) <= 180 and abs(lon) <= 90:
            raise _Invalid(
                f"lat: {lat!r:.20} is beyond 90 while lon {lon!r:.20} would be a latitude: are "
                "they swapped? (a [lon, lat] pair, as VROOM and GeoJSON write one, gives the "
                "longitude first)",
                "lat",
            )
        return value

    @model_validator(mode="after")
    def _both_or_none(self) -> Location:
        if (self.lat is None) != (self.lon is None):
            raise ValueError("give both lat and lon, or neither")
        return self

    @property
    def known(self) -> bool:
        return self.lat is not None


class Centre(_Frozen):
    """A shared distribution centre or a firm's depot where vehicles start and end."""

    id: str = Field(min_length=1)
    location: int = Field(ge=0)
    opening: TimeWindow | None = None
    firm: str | None = None
    name: str | None = None


class Break(_Frozen):
    """A driver's break of `duration` seconds starting inside one of `windows` (any time if none).

    Semantics (shared by engines and the checker): a break is taken between two stops of a used
    vehicle's route, at the roadside or on arrival, so the gap between leaving one stop and
    arriving at the next must hold the travel time plus the breaks taken in it.
    """

    id: str = Field(min_length=1)
    windows: Windows = ()
    duration: Seconds = 0.0

    @field_validator("windows")
    @classmethod
    def _disjoint(cls, windows: Windows) -> Windows:
        return _check_windows(windows)


class Vehicle(_Frozen):
    """One vehicle of a firm: where it starts and ends, what it carries, when and at what cost.

    `start`/`end` name centres; None gives an open route (starting at its first stop or ending
    at its last). Cost of a used vehicle's route: fixed_cost + cost_per_km * km driven +
    cost_per_hour * hours of travel (not waiting or service, like VROOM's default).
    `capacity` None means unlimited; otherwise one integer per capacity dimension.
    """

    id: str = Field(min_length=1)
    start: str | None = None
    end: str | None = None
    capacity: Amount | None = None
    shift: TimeWindow | None = None
    breaks: tuple[Break, ...] = ()
    max_duration: Seconds | None = None
    max_distance: Metres | None = None
    fixed_cost: Money = 0.0
    cost_per_km: Money = 0.0
    cost_per_hour: Money = 3600.0
    skills: Skills = frozenset()
    profile: str = "van"
    firm: str | None = None
    name: str | None = None

    @model_validator(mode="after")
    def _unique_breaks(self) -> Vehicle:
        ids = [b.id for b in self.breaks]
        for i, bid in enumerate(ids):
            if ids.count(bid) > 1:
                raise _Invalid(f"breaks: break id '{bid}' repeats", "breaks", i, "id")
        return self


class _Task(_Frozen):
    """What jobs and shipments share: size, skills, priority, penalty when optional, firm."""

    id: str = Field(min_length=1)
    skills: Skills = frozenset()
    priority: int = Field(default=0, ge=0, le=100)
    penalty: Money | None = None
    firm: str | None = None
    name: str | None = None

    @property
    def optional(self) -> bool:
        """Optional: may be left out at the cost of its penalty; others only when impossible."""
        return self.penalty is not None


class Job(_Task):
    """A single stop: a delivery (`delivery` amounts loaded at the start centre), a pickup
    (`pickup` amounts brought back to the end centre), or both, as in VROOM."""

    location: int = Field(ge=0)
    delivery: Amount = ()
    pickup: Amount = ()
    service: Seconds = 0.0
    time_windows: Windows = ()

    @field_validator("time_windows")
    @classmethod
    def _disjoint(cls, windows: Windows) -> Windows:
        return _check_windows(windows)

    @property
    def kind(self) -> str:
        if any(self.pickup) and not any(self.delivery):
            return "pickup"
        return "delivery"


class ShipmentStop(_Frozen):
    """One end of a shipment; `id` (optional) is the step id shown in VROOM-shaped output."""

    location: int = Field(ge=0)
    service: Seconds = 0.0
    time_windows: Windows = ()
    id: str | None = None
    name: str | None = None

    @field_validator("time_windows")
    @classmethod
    def _disjoint(cls, windows: Windows) -> Windows:
        return _check_windows(windows)


class Shipment(_Task):
    """A paired pickup and delivery: picked up before delivered, on the same vehicle."""

    pickup: ShipmentStop
    delivery: ShipmentStop
    amount: Amount = ()


def _as_matrix(value: Any) -> np.ndarray:
    """Nested lists or an array -> read-only float64 square array; None/null means unreachable.

    Entries are numbers: NumPy read the text "5" as 5 and true as 1, which the model's other
    numbers refuse (`a_number`). A row of the wrong length is said to be one (NumPy's own text
    spoke of inhomogeneous shapes)."""
    if isinstance(value, np.ndarray):
        arr = np.array(value, dtype=np.float64)
    else:
        try:
            rows = [[np.inf if x is None else x for x in row] for row in value]
        except TypeError as err:
            raise ValueError(f"must be a square table of numbers ({err})") from None
        _check_entries(rows)
        try:
            arr = np.array(rows, dtype=np.float64)
        except (TypeError, ValueError) as err:
            raise ValueError(f"must be a square table of numbers ({err})") from None
        except OverflowError:  # an integer too large for a float: found only now, at no cost
            raise ValueError(_too_large_entry(rows)) from None
    if arr.ndim != 2 or arr.shape[0] != arr.shape[1]:
        raise ValueError(f"must be square, got shape {arr.shape}")
    if np.isnan(arr).any():
        i, j = np.argwhere(np.isnan(arr))[0]
        raise ValueError(f"entry [{i}][{j}] is not a number")
    if (arr < 0).any():
        i, j = np.argwhere(arr < 0)[0]
        raise ValueError(f"entry [{i}][{j}] is negative ({arr[i, j]})")
    huge = np.isfinite(arr) & (arr > max(MAX_SECONDS, MAX_METRES))
    if huge.any():
        i, j = np.argwhere(huge)[0]
        raise ValueError(
            f"entry [{i}][{j}] is {arr[i, j]:g}, above {max(MAX_SECONDS, MAX_METRES):g} "
            "(null means unreachable)"
        )
    arr.setflags(write=False)
    return arr


def _check_entries(rows: list[list[Any]]) -> None:
    """Every row as long as there are rows, and no entry text or true/false. Types are looked
    at once per kind (`map(type)` runs in C): a 3,000-stop matrix is nine million entries."""
    for i, row in enumerate(rows):
        if len(row) != len(rows):
            raise ValueError(
                f"must be a square table of numbers: row {i} has {len(row)} entries, "
                f"{len(rows)} expected (one per row)"
            )
    kinds = set(map(type, itertools.chain.from_iterable(rows)))
    if any(issubclass(kind, str | bytes | bool | np.bool_) for kind in kinds):
        i, j, x = next((i, j, x) for i, row in enumerate(rows) for j, x in enumerate(row)
                       if isinstance(x, str | bytes | bool | np.bool_))  # fmt: skip
        try:
            a_number(bool(x) if isinstance(x, np.bool_) else x)
        except ValueError as err:
            raise ValueError(f"entry [{i}][{j}]: {err}") from None


def _too_large_entry(rows: list[list[Any]]) -> str:
    """Where the first integer too large for a float stands in a matrix, and what it is: NumPy's
    OverflowError was a traceback for the CLI and, in the API, a 422 blaming the whole body."""
    i, j, x = next((i, j, x) for i, row in enumerate(rows) for j, x in enumerate(row)
                   if too_large(x))  # fmt: skip
    return f"entry [{i}][{j}] {TOO_LARGE}, got {shown(x)}"


def _matrix_to_lists(arr: np.ndarray) -> list[list[float | None]]:
    return [[None if math.isinf(x) else float(x) for x in row] for row in arr.tolist()]


Matrix = Annotated[
    np.ndarray,
    PlainValidator(_as_matrix),
    PlainSerializer(_matrix_to_lists),
    WithJsonSchema(
        {"type": "array", "items": {"type": "array", "items": {"type": ["number", "null"]}}}
    ),
]


class TravelMatrices(_Frozen):
    """Travel time (s) and distance (m) between every pair of locations for one travel profile.

    Unreachable pairs are infinite (null in JSON), never 0 or a large sentinel.

    `access_m` (road-network travel only, else None) is how far each location lies from the
    spot on the profile's roads where the vehicle stops for it: the way walked from the parked
    vehicle to the door, and back, at `routing.travel.ACCESS_WALK_KMH`. The durations include
    those walks (a leg i -> j is the walk back from i, the drive, the walk to j); the distances
    do not (they are what the vehicle drives). It is 0 where vehicles start or end: they park
    there.
    """

    model_config = ConfigDict(arbitrary_types_allowed=True)

    durations: Matrix
    distances: Matrix
    access_m: tuple[Metres, ...] | None = None

    _off_map: dict[int, str] = PrivateAttr(default_factory=dict)

    @classmethod
    def on_roads(cls, off_map: Mapping[int, str], **fields: Any) -> TravelMatrices:
        """Matrices timed on a road network that could not place the locations ``off_map``
        (index: why, one line naming it): they are unreachable here, and a problem refuses
        those where a centre or a task stands (`off_map`). Not a field: a file cannot say it."""
        matrices = cls(**fields)
        matrices._off_map = dict(off_map)
        return matrices

    @property
    def off_map(self) -> Mapping[int, str]:
        """The locations the road network could not place (see `on_roads`); none if given."""
        return self._off_map

    @model_validator(mode="after")
    def _same_shape(self) -> TravelMatrices:
        if self.durations.shape != self.distances.shape:
            raise ValueError(
                f"durations {self.durations.shape} and distances {self.distances.shape} "
                "differ in shape"
            )
        if self.access_m is not None and len(self.access_m) != self.size:
            raise _Invalid(
                f"access_m: {len(self.access_m)} values for {self.size} locations; "
                "expected one per location",
                "access_m",
            )
        return self

    @property
    def size(self) -> int:
        return int(self.durations.shape[0])

    def __eq__(self, other: object) -> bool:
        return (
            isinstance(other, TravelMatrices)
            and np.array_equal(self.durations, other.durations)
            and np.array_equal(self.distances, other.distances)
            and self.access_m == other.access_m
        )

    def __hash__(self) -> int:
        return hash((self.size, self.durations.tobytes()[:64]))


# --------------------------------------------------------------------------- the problem


class Problem(_Frozen):
    """A day's delivery problem: centres, vehicles, jobs, shipments and travel per profile.

    `pooled` False restricts each job/shipment with a firm to vehicles of the same firm (the
    "each firm alone" baseline); True lets any vehicle serve it (common distribution).
    `meta` carries reader hints (source format, integer ids, benchmark objective).
    """

    model_config = ConfigDict(arbitrary_types_allowed=True)

    name: str | None = None
    locations: tuple[Location, ...] = ()
    centres: tuple[Centre, ...] = ()
    vehicles: tuple[Vehicle, ...] = Field(min_length=1)
    jobs: tuple[Job, ...] = ()
    shipments: tuple[Shipment, ...] = ()
    matrices: dict[str, TravelMatrices]
    capacity_names: tuple[str, ...] = ()
    pooled: bool = True
    meta: dict[str, Any] = Field(default_factory=dict)

    _index: dict[str, Any] = PrivateAttr(default_factory=dict)

    @model_validator(mode="after")
    def _consistent(self) -> Problem:
        _validate_problem(self)
        return self

    def model_post_init(self, context: Any, /) -> None:
        self._index.update(
            centre={c.id: c for c in self.centres},
            vehicle={v.id: v for v in self.vehicles},
            job={j.id: j for j in self.jobs},
            shipment={s.id: s for s in self.shipments},
        )

    # ---- lookups
    @property
    def n_locations(self) -> int:
        return next(iter(self.matrices.values())).size

    @property
    def n_dims(self) -> int:
        """Number of capacity dimensions (0 when nothing has a size or capacity)."""
        return _dims_of(self)

    def centre(self, centre_id: str) -> Centre:
        return self._index["centre"][centre_id]

    def vehicle(self, vehicle_id: str) -> Vehicle:
        return self._index["vehicle"][vehicle_id]

    def job(self, job_id: str) -> Job:
        return self._index["job"][job_id]

    def shipment(self, shipment_id: str) -> Shipment:
        return self._index["shipment"][shipment_id]

    def has_job(self, task_id: str) -> bool:
        return task_id in self._index["job"]

    def has_shipment(self, task_id: str) -> bool:
        return task_id in self._index["shipment"]

    def start_location(self, vehicle: Vehicle) -> int | None:
        return None if vehicle.start is None else self.centre(vehicle.start).location

    def end_location(self, vehicle: Vehicle) -> int | None:
        return None if vehicle.end is None else self.centre(vehicle.end).location

    def travel(self, profile: str) -> TravelMatrices:
        return self.matrices[profile]

    def amount(self, values: Sequence[int]) -> tuple[int, ...]:
        """An amount padded to every capacity dimension (empty means zero)."""
        return tuple(values) if values else (0,) * self.n_dims

    def capacity(self, vehicle: Vehicle) -> tuple[float, ...]:
        """Capacity per dimension (inf where unlimited)."""
        if vehicle.capacity is None:
            return (math.inf,) * self.n_dims
        return tuple(float(c) for c in vehicle.capacity)

    def allowed_vehicles(self, task: Job | Shipment) -> list[Vehicle]:
        """Vehicles that may serve the task: every required skill, and the firm when not pooled."""
        return [v for v in self.vehicles if self.vehicle_may_serve(v, task)]

    def carriers(self, task: Job | Shipment) -> list[Vehicle]:
        """Vehicles that may serve the task and have room for it alone. A task with none is
        left unassigned (as VROOM does), not a reason to refuse the rest of the day."""
        loads = (task.delivery, task.pickup) if isinstance(task, Job) else (task.amount,)
        amounts = [self.amount(load) for load in loads]
        return [
            v for v in self.allowed_vehicles(task)
            if all(a <= c for amount in amounts
                   for a, c in zip(amount, self.capacity(v), strict=True))
        ]  # fmt: skip

    def vehicle_may_serve(self, vehicle: Vehicle, task: Job | Shipment) -> bool:
        if not task.skills <= vehicle.skills:
            return False
        return self.pooled or task.firm is None or vehicle.firm in (None, task.firm)

    def coordinates(self, index: int) -> tuple[float, float] | None:
        """(lon, lat) of a location index when known (GeoJSON order)."""
        if index < len(self.locations) and self.locations[index].known:
            loc = self.locations[index]
            return (float(loc.lon), float(loc.lat))  # type: ignore[arg-type]
        return None

    def replace(self, **changes: Any) -> Problem:
        """A validated copy with some fields changed (the model itself is immutable)."""
        data = {name: getattr(self, name) for name in type(self).model_fields}
        data.update(changes)
        return Problem(**data)


def _dims_of(problem: Problem) -> int:
    for _label, _at, amount in _amounts(problem):
        if amount:
            return len(amount)
    return 0


def _amounts(problem: Problem) -> Iterable[tuple[str, Loc, tuple[int, ...]]]:
    """Every capacity and task size: how a message names it, its path, and its value."""
    for i, v in enumerate(problem.vehicles):
        if v.capacity is not None:
            yield f"vehicle '{v.id}': capacity", ("vehicles", i, "capacity"), v.capacity
    for i, j in enumerate(problem.jobs):
        yield f"job '{j.id}': delivery", ("jobs", i, "delivery"), j.delivery
        yield f"job '{j.id}': pickup", ("jobs", i, "pickup"), j.pickup
    for i, s in enumerate(problem.shipments):
        yield f"shipment '{s.id}': amount", ("shipments", i, "amount"), s.amount


def _unique(kind: str, *lists: tuple[str, Sequence[Centre | Vehicle | Job | Shipment]]) -> None:
    """Ids are unique across ``lists`` (each its field and items: jobs and shipments share
    one id space); a repeat is located at its second occurrence."""
    seen: set[str] = set()
    for field, items in lists:
        for i, item in enumerate(items):
            if item.id in seen:
                raise _Invalid(f"{kind} '{item.id}': id repeats", field, i, "id")
            seen.add(item.id)


def _validate_problem(p: Problem) -> None:
    """Cross-item checks; each message names the item and the field, and each error carries
    the field's path (pydantic knows only that the problem as a whole failed)."""
    if not p.matrices:
        raise _Invalid("matrices: no travel matrices given (one per travel profile)", "matrices")
    sizes = {name: m.size for name, m in p.matrices.items()}
    n = next(iter(sizes.values()))
    for name, size in sizes.items():
        if size != n:
            raise _Invalid(
                f"matrices '{name}': {size}x{size} but other profiles have {n}x{n} locations",
                "matrices",
                name,
            )
    if p.locations and len(p.locations) != n:
        raise _Invalid(
            f"locations: {len(p.locations)} locations but the travel matrices are {n}x{n}",
            "locations",
        )
    _unique("centre", ("centres", p.centres))
    _unique("vehicle", ("vehicles", p.vehicles))
    _unique("task", ("jobs", p.jobs), ("shipments", p.shipments))

    def where(item: str, index: int, *at: str | int) -> None:
        if index >= n:
            raise _Invalid(
                f"{item}: location {shown(index)} is outside the travel matrices ({n}x{n})",
                *at,
                "location",
            )

    centres = {c.id: c for c in p.centres}
    for label, index, at in _places(p):
        where(label, index, *at)
    _check_on_map(p)
    for i, v in enumerate(p.vehicles):
        for end in ("start", "end"):
            ref = getattr(v, end)
            if ref is not None and ref not in centres:
                raise _Invalid(f"vehicle '{v.id}': {end}: no centre '{ref}'", "vehicles", i, end)
        if v.profile not in p.matrices:
            raise _Invalid(
                f"vehicle '{v.id}': profile: no travel matrices for profile '{v.profile}' "
                f"(have {sorted(p.matrices)})",
                "vehicles",
                i,
                "profile",
            )
        _check_shift_meets_centres(v, centres, ("vehicles", i, "shift"))
        _check_breaks_fit(v, centres, ("vehicles", i, "breaks"))

    dims = None
    for label, at, amount in _amounts(p):
        if not amount and at[0] != "vehicles":
            continue  # a task's empty amount is zero in every dimension; a capacity has none
        if dims is None:
            dims = len(amount)
        elif len(amount) != dims:
            raise _Invalid(
                f"{label}: {len(amount)} capacity dimensions but others have {dims}", *at
            )
    if p.capacity_names and dims is not None and len(p.capacity_names) != dims:
        raise _Invalid(
            f"capacity_names: {len(p.capacity_names)} names for {dims} capacity dimensions",
            "capacity_names",
        )


def _places(p: Problem) -> Iterator[tuple[str, int, Loc]]:
    """Every location a centre or a task stands at: how a message names it, its index, and
    the path of the item (the field `location` below it)."""
    for i, c in enumerate(p.centres):
        yield f"centre '{c.id}'", c.location, ("centres", i)
    for i, j in enumerate(p.jobs):
        yield f"job '{j.id}'", j.location, ("jobs", i)
    for i, s in enumerate(p.shipments):
        yield f"shipment '{s.id}': pickup", s.pickup.location, ("shipments", i, "pickup")
        yield f"shipment '{s.id}': delivery", s.delivery.location, ("shipments", i, "delivery")


def _check_on_map(p: Problem) -> None:
    """A location the road network could not place fails the day where a centre or a task
    stands, every such one named at once; a spare one, in a firm's address list but used by
    nothing, is left unreachable (it failed the whole day, and its sender resent the day once
    per bad address)."""
    off = {i: why for m in p.matrices.values() for i, why in m.off_map.items()}
    if not off:
        return
    used = [(index, at) for _label, index, at in _places(p) if index in off]
    if used:
        stops = sorted({index for index, _at in used})
        raise _Invalid(_listed([off[i] for i in stops], len(stops)), *used[0][1], "location")


def _check_shift_meets_centres(v: Vehicle, centres: dict[str, Centre], at: Loc) -> None:
    """A vehicle must leave its start centre and be back at its end centre while each is open
    and within its shift; where a centre's hours and the shift do not meet, no route exists,
    and the engines would each fail their own way (one bends the shift, one crashes). ``at``
    is the shift's path."""
    if v.shift is None:
        return
    for end, verb in (("start", "leave"), ("end", "be back at")):
        ref = getattr(v, end)
        opening = None if ref is None else centres[ref].opening
        if opening is not None and max(v.shift.start, opening.start) > min(
            v.shift.end, opening.end
        ):
            raise _Invalid(
                f"vehicle '{v.id}': shift: {_clock_span(v.shift)} never meets the opening hours "
                f"of its {end} centre '{ref}' ({_clock_span(opening)}): it could never {verb} it",
                *at,
            )


def _check_breaks_fit(v: Vehicle, centres: dict[str, Centre], at: Loc) -> None:
    """Each break must fit the hours the vehicle's route may run, as the engines place it:
    start in one of its windows, no earlier than the route may start (its shift's start, its
    start centre's opening) and end by the latest the route may end (its shift's end, its end
    centre's closing), and no longer than its max duration; and a used route takes all its
    breaks, so together they must fit those bounds too. Breaks that never can made the vehicle
    unusable: the engines left it idle and its tasks unassigned "for want of room", never
    naming a break. ``at`` is the breaks' path."""
    lo, hi = (v.shift.start, v.shift.end) if v.shift is not None else (0.0, math.inf)
    if v.start is not None and (opening := centres[v.start].opening) is not None:
        lo = max(lo, opening.start)
    if v.end is not None and (opening := centres[v.end].opening) is not None:
        hi = min(hi, opening.end)
    if hi < lo:  # hours that never meet: the shift's check, or the engines, tell of them
        return
    span = f"{format_time(lo)}-{format_time(hi)}" if hi < math.inf else f"from {format_time(lo)}"
    shift = v.shift
    hours = (
        f"the shift {span}"
        if shift is not None and (lo, hi) == (shift.start, shift.end)
        else f"the hours its route may run, {span} (its shift and its centres' opening hours)"
    )
    bounds = [(hi - lo, f"{hours} ({hi - lo:g} s)")]
    if v.max_duration is not None:
        said = f"its max_duration ({v.max_duration:g} s), which a route's breaks count in"
        bounds.insert(0, (v.max_duration, said))
    for k, b in enumerate(v.breaks):
        for bound, said in bounds:
            if b.duration > bound:
                raise _Invalid(
                    f"vehicle '{v.id}': break '{b.id}': duration: {b.duration:g} s is longer "
                    f"than {said}: the vehicle could never be used",
                    *at, k, "duration",
                )  # fmt: skip
        latest = hi - b.duration  # the last moment the break can start and still fit
        if b.windows and not any(max(w.start, lo) <= min(w.end, latest) for w in b.windows):
            spans = ", ".join(_clock_span(w) for w in b.windows)
            raise _Invalid(
                f"vehicle '{v.id}': break '{b.id}': windows: {spans} never start a "
                f"{b.duration:g} s break within {hours}: the vehicle could never be used",
                *at, k, "windows",
            )  # fmt: skip
    total = sum(b.duration for b in v.breaks)
    for bound, said in bounds:
        if total > bound:
            names = ", ".join(f"'{b.id}'" for b in v.breaks)
            raise _Invalid(
                f"vehicle '{v.id}': breaks: {names} last {total:g} s together, longer than "
                f"{said}: the vehicle could never be used",
                *at,
            )


def _clock_span(window: TimeWindow) -> str:
    return f"{format_time(window.start)}-{format_time(window.end)}"


# --------------------------------------------------------------------------- the builder


class Model:
    """A mutable builder that yields an immutable `Problem` (like PyVRP's `Model`).

    >>> m = Model()
    >>> depot = m.add_location(lat=36.07, lon=120.38)
    >>> m.add_centre("hub", location=depot, opening=("07:00", "20:00"))
    >>> m.add_vehicle("v1", start="hub", end="hub", capacity=(100,))
    >>> ... add jobs, then m.set_matrices("van", durations, distances) or use routing.travel
    >>> problem = m.build()
    """

    def __init__(
        self, *, name: str | None = None, capacity_names: Sequence[str] = (), pooled: bool = True
    ) -> None:
        self.name = name
        self.capacity_names = tuple(capacity_names)
        self.pooled = pooled
        self.locations: list[Location] = []
        self.centres: list[Centre] = []
        self.vehicles: list[Vehicle] = []
        self.jobs: list[Job] = []
        self.shipments: list[Shipment] = []
        self.matrices: dict[str, TravelMatrices] = {}
        self.meta: dict[str, Any] = {}

    def add_location(
        self, *, lat: float | None = None, lon: float | None = None, name: str | None = None
    ) -> int:
        """Add a place; returns its matrix index."""
        self.locations.append(Location(lat=lat, lon=lon, name=name))
        return len(self.locations) - 1

    def add_centre(self, id: str, **fields: Any) -> Centre:
        return self._add(self.centres, Centre(id=id, **fields))

    def add_vehicle(self, id: str, **fields: Any) -> Vehicle:
        return self._add(self.vehicles, Vehicle(id=id, **fields))

    def add_job(self, id: str, **fields: Any) -> Job:
        return self._add(self.jobs, Job(id=id, **fields))

    def add_shipment(self, id: str, **fields: Any) -> Shipment:
        return self._add(self.shipments, Shipment(id=id, **fields))

    def set_matrices(self, profile: str, durations: Any, distances: Any) -> None:
        self.matrices[profile] = TravelMatrices(durations=durations, distances=distances)

    @staticmethod
    def _add(items: list, item: Any) -> Any:
        items.append(item)
        return item

    def build(self) -> Problem:
        return Problem(
            name=self.name,
            locations=tuple(self.locations),
            centres=tuple(self.centres),
            vehicles=tuple(self.vehicles),
            jobs=tuple(self.jobs),
            shipments=tuple(self.shipments),
            matrices=dict(self.matrices),
            capacity_names=self.capacity_names,
            pooled=self.pooled,
            meta=dict(self.meta),
        )
