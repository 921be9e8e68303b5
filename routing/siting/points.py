"""Demand points and candidate sites: from files, from OSM buildings, and into an instance.

Walking distances come from the walk graph (``network.matrix.distances_within``), door to door
(the walk from each building to its street counts), only for pairs within the radius;
straight-line (haversine) distances are used only when the caller asks.
"""

from __future__ import annotations

import csv
import io
import logging
import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any, get_args

import networkx as nx
import numpy as np
import pandas as pd
from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, ValidationError, model_validator

from network.errors import SnapError
from network.geo import haversine_m
from network.hints import close_name, did_you_mean
from network.jsonfile import NOT_FINITE, TOO_LARGE, NotJson, load_json, shown, too_large
from network.points import ENCODINGS
from routing.siting.errors import CandidateOffGraphError, SitingInputError
from routing.siting.model import (
    DEFAULT_SIZE_MIX,
    NOT_BUILT,
    SIZES,
    SitingInstance,
    SitingModel,
    make_reach,
)

log = logging.getLogger("gongpei.siting")

# Parcels per day per 100 m² of floor area (footprint x levels), by OSM building type.
DEFAULT_RATES: dict[str, float] = {
    "dormitory": 1.2,
    "university": 0.25,
    "college": 0.25,
    "school": 0.1,
    "office": 0.4,
    "commercial": 0.3,
    "retail": 0.2,
    "apartments": 0.6,
    "residential": 0.5,
    "house": 0.5,
}
DEMAND_TYPES = tuple(DEFAULT_RATES)


@dataclass(frozen=True)
class DemandPoint:
    """Where parcels are collected from: daily parcels and their S/M/L mix."""

    id: str
    lat: float
    lon: float
    parcels: float
    mix: tuple[float, float, float] = DEFAULT_SIZE_MIX

    def __post_init__(self) -> None:
        _check_coords("demand point", self.id, self.lat, self.lon)
        if not (math.isfinite(self.parcels) and self.parcels >= 0):
            raise SitingInputError(
                f"demand point '{self.id}': parcels must be a number >= 0, got {self.parcels}"
            )
        if len(self.mix) != 3 or min(self.mix) < 0 or not math.isclose(sum(self.mix), 1.0):
            raise SitingInputError(
                f"demand point '{self.id}': size mix S/M/L must be 3 shares >= 0 summing to 1, "
                f"got {self.mix}"
            )


@dataclass(frozen=True)
class Candidate:
    """A place a locker may stand (or already stands: ``existing`` keeps it open, with its S/M/L
    ``compartments`` if known, which a sizing then keeps as they are)."""

    id: str
    lat: float
    lon: float
    fixed_cost: float = 0.0
    capacity: float = math.inf
    existing: bool = False
    compartments: tuple[int, int, int] | None = None

    def __post_init__(self) -> None:
        _check_coords("candidate", self.id, self.lat, self.lon)
        # an infinite fixed cost was refused later, by the instance, as "must be >= 0, got inf"
        if not (math.isfinite(self.fixed_cost) and self.fixed_cost >= 0):
            raise SitingInputError(
                f"candidate '{self.id}': fixed_cost must be a finite number >= 0, "
                f"got {self.fixed_cost}"
            )
        if not (self.capacity >= 0):
            raise SitingInputError(
                f"candidate '{self.id}': capacity must be >= 0, got {self.capacity}"
            )


def _check_coords(kind: str, ident: str, lat: float, lon: float) -> None:
    if not (-90 <= lat <= 90 and -180 <= lon <= 180):
        raise SitingInputError(f"{kind} '{ident}': lat/lon ({lat}, {lon}) is not a coordinate")


def demand_from_buildings(
    buildings: pd.DataFrame,
    *,
    rates: Mapping[str, float] | None = None,
    base: Mapping[str, float] = DEFAULT_RATES,
    mix: tuple[float, float, float] = DEFAULT_SIZE_MIX,
) -> list[DemandPoint]:
    """Daily parcels per building: rate of its type x footprint area x levels / 100 m².

    ``rates`` override or extend ``base`` (``DEFAULT_RATES``; a scenario, whose rates are its
    whole table, passes ``{}``). Their ``default`` is the rate of every type without one of its
    own, the untyped ``building=yes`` included; without it such buildings get no demand. The
    one reading of ``default`` for ``gongpei site`` and a scenario: the native file had read it
    as a type called "default". As demand then follows how well the map is tagged, not the
    people, it warns (logger ``gongpei.siting``) about buildings left without a rate, about
    demand resting on assumed storeys (``levels_from``, ``network.buildings``) and about a rate
    for a type no building on the map has (a typo: ``dormitry``).

    An underground footprint (``underground``: ``layer`` < 0, ``location=underground``) gets
    its type's own rate, never ``default``: typed, it is an underground mall (``retail``)
    whose shops take parcels like any mall's; untyped (``building=yes``), it is a metro
    station, a car park, a shelter or a shooting range, which no parcel is addressed to, and
    the default rate, which stands in for the homes and workplaces mapped without a type, gave
    Nanjing's metro station outlines under 新街口 the parcels of offices.
    """
    table = {**base, **(rates or {})}
    for kind, rate in table.items():
        if not (math.isfinite(rate) and rate >= 0):
            raise SitingInputError(f"demand rate '{kind}': must be a number >= 0, got {rate}")
    default = table.pop("default", None)
    kinds = buildings["building"].astype(str)
    rate = kinds.map(table).astype(float)
    if default is not None:
        # a caller's own table, not read_buildings', may have no such column: all above ground
        below = buildings["underground"].astype(bool) if "underground" in buildings else False
        rate = rate.fillna(default).mask(rate.isna() & below, 0.0)
    parcels = rate * buildings["area_m2"] * buildings["levels"] / 100.0
    _warn_unknown_rates(rates or {}, set(kinds))
    _warn_unrated(buildings, kinds, rate.isna())
    _warn_assumed_levels(buildings, parcels.where(rate > 0, 0.0))
    rows = zip(buildings.itertuples(index=False), parcels, rate, strict=True)
    return [
        DemandPoint(f"b{row.osm_ref}", row.lat, row.lon, round(float(amount), 3), mix)
        for row, amount, r in rows
        if r > 0
    ]


def _warn_unknown_rates(rates: Mapping[str, float], present: set[str]) -> None:
    """Name the rate keys no building on the map has that look like a misspelt type: building
    types are open-ended, so such a key cannot be refused, but a misspelt one (``dormitry``)
    changed nothing without a word. A type this map just lacks (a campus scenario's
    ``dormitory`` on a city-centre map) is no mistake and is not said."""
    known = sorted(present | set(DEFAULT_RATES))
    said = []
    for key in sorted(set(rates) - present - {"default"}):
        likely = close_name(key, [kind for kind in known if kind != key])
        if likely is not None:
            said.append(f"'{key}' (did you mean '{likely}'?)")
    if said:
        log.warning(
            "demand rates: no building on the map is of type %s; these rates change nothing",
            ", ".join(said),
        )


def _warn_unrated(buildings: pd.DataFrame, kinds: pd.Series, unrated: pd.Series) -> None:
    """Count, floor area and commonest types of the buildings that got no rate (no demand)."""
    if not unrated.any():
        return
    floor = float((buildings["area_m2"] * buildings["levels"])[unrated].sum())
    counts = kinds[unrated].value_counts()
    types = ", ".join(f"{n:,} '{kind}'" for kind, n in counts.head(5).items())
    more = f" and {len(counts) - 5} more types" if len(counts) > 5 else ""
    log.warning(
        "demand: %s of %s buildings (%s m² floor area) have no rate and get no demand: %s%s; "
        "give rates for their types or a 'default' rate",
        f"{int(unrated.sum()):,}", f"{len(buildings):,}", f"{floor:,.0f}", types, more,
    )  # fmt: skip


def _warn_assumed_levels(buildings: pd.DataFrame, parcels: pd.Series) -> None:
    """Count, footprint and share of the demand of the buildings with demand whose storeys are
    assumed (no ``building:levels`` nor ``height``): how much of the estimate is a guess."""
    if "levels_from" not in buildings or not (parcels > 0).any():
        return
    assumed = (buildings["levels_from"] == "assumed") & (parcels > 0)
    if not assumed.any():
        return
    largest = buildings.loc[parcels[assumed].nlargest(3).index]
    named = ", ".join(
        f"{r.name if isinstance(r.name, str) else ''} {r.osm_ref} ({r.building}, "
        f"{r.area_m2:,.0f} m² x {r.levels:g})".lstrip()
        for r in largest.itertuples(index=False)
    )
    log.warning(
        "demand: %s of %s buildings with demand (%s m² footprint, %.0f %% of the parcels) have "
        "neither building:levels nor height: storeys assumed by type "
        "(network.buildings.TYPICAL_LEVELS, else 1); the largest: %s",
        f"{int(assumed.sum()):,}", f"{int((parcels > 0).sum()):,}",
        f"{float(buildings['area_m2'][assumed].sum()):,.0f}",
        100 * float(parcels[assumed].sum() / parcels.sum()), named,
    )  # fmt: skip


def candidates_from_buildings(
    buildings: pd.DataFrame,
    *,
    min_area_m2: float = 300.0,
    fixed_cost: float = 0.0,
    capacity: float = math.inf,
) -> list[Candidate]:
    """A candidate at every building of at least ``min_area_m2``: at its main (or other public)
    entrance where one is mapped, where people come and go, else at its centroid; snapped later.
    An underground footprint only where such a door is mapped on it (``at_street_level``: its
    centroid is under a street). Each costs ``fixed_cost`` and holds ``capacity`` parcels a day
    (a capacitated model's)."""
    from network.buildings import at_street_level

    big = buildings[(buildings["area_m2"] >= min_area_m2) & at_street_level(buildings)]
    return [
        Candidate(
            f"site-b{r.osm_ref}", r.site_lat, r.site_lon, fixed_cost=fixed_cost, capacity=capacity
        )
        for r in big.itertuples(index=False)
    ]


def read_demand(path: str | Path) -> list[DemandPoint]:
    """Demand points from CSV (``id,lat,lon,parcels[,S,M,L]``) or GeoJSON Point features."""
    return [demand_from_record(rec) for rec in read_records(path, DEMAND_FIELDS)]


def read_candidates(path: str | Path) -> list[Candidate]:
    """Candidates from CSV (``id,lat,lon[,fixed_cost,capacity,existing]``, and for a standing
    locker ``compartments_S,compartments_M,compartments_L``) or GeoJSON points."""
    return [candidate_from_record(rec) for rec in read_records(path, CANDIDATE_FIELDS)]


def read_records(path: str | Path, fields: Sequence[str] = ()) -> list[dict]:
    """One dict per CSV row or GeoJSON feature, each with ``_where`` (file and row) for its
    errors; public so that a caller can fill defaults of its own (a scenario's settings) before
    ``demand_from_record`` or ``candidate_from_record``. A CSV header or GeoJSON property that
    is one of ``fields`` but for case (Excel's ``Lat``) takes that field's name.

    A CSV column that is no field is left in, for the record's model to refuse by name: a CSV
    is a table made for this reader, where an unknown column is a typo (``lng`` for ``lon``)
    or a file split on ``;``. A GeoJSON feature's other properties are ignored and named in
    one warning (``_properties``), unless one is likely a misspelling of a field."""
    path = Path(path)
    if not path.is_file():
        raise SitingInputError(f"points file '{path}': no such file")
    suffix = path.suffix.lower()
    if suffix not in (".csv", ".geojson", ".json"):
        raise SitingInputError(f"points file '{path.name}': expected .csv or .geojson")
    text = _text(path)
    if suffix == ".csv":
        return _csv_records(path.name, text, fields)
    return _geojson_records(path.name, text, fields)


def _text(path: Path) -> str:
    """The file's text in the first of ``network.points.ENCODINGS`` that decodes it whole, BOM
    removed: UTF-8 (Excel's "CSV UTF-8" starts with a BOM), else GB18030, which is what Excel's
    plain "CSV" is on a Chinese Windows machine (as ``gongpei matrix`` reads points files)."""
    try:
        data = path.read_bytes()
    except OSError as err:
        raise SitingInputError(f"points file '{path.name}': cannot read it ({err})") from None
    for encoding in ENCODINGS:
        try:
            return data.decode(encoding).removeprefix("\ufeff")
        except UnicodeDecodeError:
            continue
    raise SitingInputError(
        f"points file '{path.name}': cannot read it as text (neither UTF-8 nor GB18030); "
        "save it as CSV UTF-8"
    )


def _csv_records(name: str, text: str, fields: Sequence[str]) -> list[dict]:
    """Rows as dicts of ``Cell``s; a blank cell is a field not given (its default, or an error
    if needed)."""
    reader = csv.DictReader(io.StringIO(text))
    columns = reader.fieldnames or []  # read first: line_num is then the header's
    header = _header(f"{name} row {reader.line_num}", columns, fields)
    records = []
    for row in reader:
        where = f"{name} row {reader.line_num}"
        if None in row:
            raise SitingInputError(f"{where}: more cells than the header has columns")
        cells = {header[key]: Cell((cell or "").strip()) for key, cell in row.items()}
        records.append({key: cell for key, cell in cells.items() if cell} | {"_where": where})
    return records


def _header(where: str, columns: Sequence[str], fields: Sequence[str]) -> dict[str, str]:
    """Each header cell's field name: stripped of spaces, and one of ``fields`` but for case
    takes that name. Two columns of one name are refused: ``csv.DictReader`` would keep the
    last one's cells without a word; unnamed ones, which Excel leaves after the last column,
    may repeat."""
    known = {field.casefold(): field for field in fields}
    header: dict[str, str] = {}
    for column in columns:
        field = known.get(column.strip().casefold(), column.strip())
        same = next((c for c, f in header.items() if f.casefold() == field.casefold()), None)
        if field and same is not None:
            raise SitingInputError(f"{where}: column {column!r} repeats column {same!r}")
        header[column] = field
    return header


def _geojson_records(name: str, text: str, fields: Sequence[str]) -> list[dict]:
    try:
        data = load_json(text)
    except ValueError as err:  # a syntax error, or an integer of more digits than Python reads
        raise SitingInputError(f"points file '{name}': not JSON ({err})") from None
    kind = data.get("type") if isinstance(data, dict) else None
    if kind == "Feature":
        features = [data]
    elif kind == "FeatureCollection" and isinstance(data.get("features"), list):
        features = data["features"]
    else:
        raise SitingInputError(
            f"points file '{name}': expected a GeoJSON FeatureCollection (or one Feature)"
        )
    takes = [field for field in fields if field not in ("lat", "lon")]  # the geometry's
    ignored: set[str] = set()
    records = []
    for k, feat in enumerate(features):
        where = f"{name} feature {k}"
        geom = feat.get("geometry") if isinstance(feat, dict) else None
        if not isinstance(geom, dict) or geom.get("type") != "Point":
            raise SitingInputError(f"{where}: geometry must be a Point")
        coords = geom.get("coordinates")
        if not (isinstance(coords, list) and len(coords) in (2, 3)):
            raise SitingInputError(f"{where}: Point coordinates must be [lon, lat], got {coords!r}")
        props = feat.get("properties") or {}
        if not isinstance(props, dict):
            raise SitingInputError(f"{where}: properties must be an object")
        if takes:
            props = _properties(where, props, takes, ignored)
        lon, lat = coords[:2]
        records.append({"id": feat.get("id", k), **props, "lat": lat, "lon": lon, "_where": where})
    if ignored:
        names = sorted(ignored)
        more = f" and {len(names) - 10} more" if len(names) > 10 else ""
        log.warning(
            "%s: ignored the properties %s%s (the fields read here are %s)",
            name, ", ".join(names[:10]), more, ", ".join(takes),
        )  # fmt: skip
    return records


def _properties(
    where: str, props: Mapping[str, Any], fields: Sequence[str], ignored: set[str]
) -> dict[str, Any]:
    """A feature's properties that are ``fields`` (any case, as a CSV header), the names of the
    others added to ``ignored``: GeoJSON's properties are free-form, and a GIS export carries
    its own (fid, name, osm_id ...), which made a QGIS layer "unknown field 'fid'". A name
    that is likely a misspelling of a field (``network.hints.close_name``; "fid" is no typo
    of id) is still refused naming both, since a typo of an optional field (``fixed_cots``)
    would be dropped without a word."""
    known = {field.casefold(): field for field in fields}
    given = {known.get(key.strip().casefold()) for key in props}
    kept: dict[str, Any] = {}
    given_as: dict[str, str] = {}  # each field's property, as the file spells it
    for key, value in props.items():
        field = known.get(key.strip().casefold())
        if field is None:
            likely = close_name(key, fields)
            # beside the field it resembles it is the GIS tool's own (capacity_kg, parcels_1)
            if likely is not None and likely not in given:
                raise SitingInputError(f"{where}: unknown field '{key}'{did_you_mean(likely)}")
            ignored.add(key)
        elif field in kept:
            first = given_as[field]
            raise SitingInputError(f"{where}: property {key!r} repeats property {first!r}")
        else:
            kept[field], given_as[field] = value, key
    return kept


class Cell(str):
    """A CSV cell: text, which a point's number and true/false fields read as what it spells
    ("12.5", "inf", yes/no, 1/0). JSON says numbers and true/false as such, so text in such a
    field of a JSON point or GeoJSON feature (``"parcels": "3"``, ``"existing": "false"``) is
    refused, where it had been read as if it were a CSV cell."""


def _number(value: Any) -> Any:
    """A JSON number or a CSV cell: a JSON true is no number, nor is a JSON string."""
    if isinstance(value, NotJson):
        raise ValueError(NOT_FINITE)
    if isinstance(value, bool) or (isinstance(value, str) and not isinstance(value, Cell)):
        raise ValueError("must be a number")
    return value


def _count(value: Any) -> Any:
    """A standing locker's compartments of one size: a JSON whole number or a CSV cell of
    digits. A JSON string ("4") is refused, as text in a number field is, and so are 4.0 and
    true, which pydantic would read as 4 and 1."""
    if isinstance(value, Cell) and value.isdecimal():
        value = int(value)
    if isinstance(value, int) and not isinstance(value, bool) and value >= 0:
        if value > MAX_COUNT:
            raise ValueError(TOO_LARGE_COUNT)
        return value
    raise ValueError(NOT_FINITE if isinstance(value, NotJson) else COUNT)


def _flag(value: Any) -> Any:
    """JSON true or false, or a CSV cell saying yes/no: a JSON "false" or 0 is neither."""
    if not isinstance(value, bool | Cell):
        raise ValueError("must be true or false")
    return value


def _id_text(value: Any) -> Any:
    return str(value) if isinstance(value, int) and not isinstance(value, bool) else value


# A point's fields come from CSV cells as text as well as from JSON: a cell may write a number as
# text ("12.5", "inf") and true/false as yes/no/1/0, JSON only as a number and as true/false.
Number = Annotated[float, BeforeValidator(_number)]
Flag = Annotated[bool, BeforeValidator(_flag)]
Count = Annotated[int, BeforeValidator(_count)]
COUNT = "must be a whole count >= 0 (0 if none)"
# Compartments of one size at one locker, far above any real one: a count of 400 digits failed
# the instance's 64-bit array with an OverflowError traceback. The API's siting runs take the
# same most (`api.schemas.jobs`), so a file and a posted run accept the same lockers.
MAX_COUNT = 10_000
TOO_LARGE_COUNT = f"is too large for a count of compartments (at most {MAX_COUNT:,})"


class SizeMix(BaseModel):
    """S/M/L shares of a point's parcels: {"S": .., "M": .., "L": ..} (a size left out: 0) or
    a list [S, M, L]. Whether they sum to 1 is checked by the point (``DemandPoint``)."""

    model_config = ConfigDict(extra="forbid")

    S: Number = 0.0
    M: Number = 0.0
    L: Number = 0.0

    @model_validator(mode="before")
    @classmethod
    def _from_list(cls, value: Any) -> Any:
        if isinstance(value, list | tuple):
            if len(value) != len(SIZES):
                raise ValueError("must be [S, M, L] shares or an object of S, M, L shares")
            return dict(zip(SIZES, value, strict=True))
        return value

    def shares(self) -> tuple[float, float, float]:
        return (self.S, self.M, self.L)


class _Record(BaseModel):
    model_config = ConfigDict(extra="forbid")

    id: Annotated[str, BeforeValidator(_id_text), Field(min_length=1)]
    lat: Number
    lon: Number


class _DemandRecord(_Record):
    parcels: Number
    mix: SizeMix | None = None
    S: Number | None = None  # CSV columns for the mix
    M: Number | None = None
    L: Number | None = None


class _CandidateRecord(_Record):
    fixed_cost: Number = 0.0
    capacity: Number = math.inf
    existing: Flag = False
    compartments: Any = None  # checked by _compartments (whole counts, S/M/L only)
    compartments_S: Count | None = None  # CSV columns (or JSON fields) for the compartments
    compartments_M: Count | None = None
    compartments_L: Count | None = None


DEMAND_FIELDS = tuple(_DemandRecord.model_fields)  # a demand CSV's columns, as spelt
CANDIDATE_FIELDS = tuple(_CandidateRecord.model_fields)  # a candidates CSV's columns


def validated(model: type[BaseModel], data: Any, where: str, **kw: Any) -> Any:
    """``model`` read from ``data``, or a ``SitingInputError`` naming ``where``, the field and
    the reason (an unknown field with the ones allowed there)."""
    try:
        return model.model_validate(data, **kw)
    except ValidationError as err:
        raise _input_error(err, where, model) from None


_REASONS = {
    "missing": "is required",
    "float_type": "must be a number",
    "float_parsing": "must be a number",
    "finite_number": "must be a finite number",
    "int_type": "must be a whole number",
    "int_parsing": "must be a whole number",
    "int_from_float": "must be a whole number",
    "bool_type": "must be true or false",
    "bool_parsing": "must be true or false",
    "string_type": "must be text",
    "string_too_short": "must not be empty",
    "dict_type": "must be an object",
    "model_type": "must be an object",
    "list_type": "must be a list",
}
_NUMBER_KINDS = {"float_type", "float_parsing", "int_type", "int_parsing"}
_BOUNDS = {
    "greater_than": ">",
    "greater_than_equal": ">=",
    "less_than": "<",
    "less_than_equal": "<=",
}


def _input_error(err: ValidationError, where: str, model: type[BaseModel]) -> SitingInputError:
    errors = err.errors(include_url=False)
    # an unknown field first: it is most often a misspelling of the field reported missing
    first = next((e for e in errors if e["type"] == "extra_forbidden"), errors[0])
    kind, loc, ctx = first["type"], first["loc"], first.get("ctx", {})
    field = "".join(f"[{p}]" if isinstance(p, int) else f".{p}" for p in loc).lstrip(".")
    if kind == "extra_forbidden":
        takes = ", ".join(_fields_at(model, loc[:-1]))
        return SitingInputError(f"{where}: unknown field '{field}' (it takes {takes})")
    if isinstance(first["input"], NotJson) and kind in _NUMBER_KINDS:
        reason = NOT_FINITE  # a strict float field's "must be a number", said as why
    elif too_large(first["input"]) and kind in _NUMBER_KINDS:
        reason = TOO_LARGE  # a number all the same, of 400 digits: no float holds it
    elif kind in _BOUNDS:
        reason = f"must be {_BOUNDS[kind]} {next(iter(ctx.values())):g}"
    elif kind == "literal_error":
        reason = f"must be {ctx['expected']}"
    elif kind == "value_error":
        reason = str(ctx["error"])
    else:
        reason = _REASONS.get(kind) or first["msg"][:1].lower() + first["msg"][1:]
    if kind != "missing":
        given = first["input"]
        reason += f", got {shown(given) if too_large(given) else repr(given)}"
    return SitingInputError(f"{where}: field '{field}' {reason}")


def _fields_at(model: type[BaseModel], loc: tuple) -> list[str]:
    """The fields of the (nested) model at ``loc``."""
    for part in loc:
        info = model.model_fields.get(part) if isinstance(part, str) else None
        if info is not None:
            kinds = (info.annotation, *get_args(info.annotation))
            inner = [k for k in kinds if isinstance(k, type) and issubclass(k, BaseModel)]
            model = inner[0] if inner else model
    return list(model.model_fields)


def _where(rec: Mapping, kind: str) -> str:
    """How errors name a record: its file and row or feature, else its kind and id."""
    return rec.get("_where") or f"{kind} '{rec.get('id')}'"


def _record(model: type[BaseModel], rec: Mapping, kind: str) -> Any:
    return validated(model, {k: v for k, v in rec.items() if k != "_where"}, _where(rec, kind))


def demand_from_record(rec: Mapping) -> DemandPoint:
    """A demand point from one record (JSON object, CSV row or GeoJSON properties); its mix is
    ``mix`` or the CSV columns ``S``, ``M``, ``L`` (a blank one: 0), else the default mix."""
    r = _record(_DemandRecord, rec, "demand point")
    columns = (r.S, r.M, r.L)
    mix = DEFAULT_SIZE_MIX if r.mix is None else r.mix.shares()
    if any(v is not None for v in columns):
        if r.mix is not None:
            where = _where(rec, "demand point")
            raise SitingInputError(f"{where}: give the size mix as 'mix' or as S, M, L, not both")
        mix = tuple(v or 0.0 for v in columns)
    return DemandPoint(r.id, r.lat, r.lon, r.parcels, mix)


def candidate_from_record(rec: Mapping) -> Candidate:
    """A candidate from one record; a standing locker (``existing``) may give its
    ``compartments`` as {"S": .., "M": .., "L": ..} (JSON or GeoJSON properties)."""
    r = _record(_CandidateRecord, rec, "candidate")
    return Candidate(
        r.id,
        r.lat,
        r.lon,
        fixed_cost=r.fixed_cost,
        capacity=r.capacity,
        existing=r.existing,
        compartments=_compartments(r, _where(rec, "candidate")),
    )


def _compartments(r: _CandidateRecord, where: str) -> tuple[int, int, int] | None:
    """A standing locker's S/M/L counts: a ``compartments`` object (JSON, GeoJSON), or the
    fields ``compartments_S``, ``compartments_M``, ``compartments_L`` (CSV columns, a blank
    row: none; in JSON whole numbers, as ``_count`` reads them)."""
    got = r.compartments
    if got is None:
        return _compartment_columns(r, where)
    if not isinstance(got, Mapping) or set(got) - set(SIZES):
        raise SitingInputError(
            f"{where}: field 'compartments' must be an object of S, M, L counts, got {got!r}"
        )
    counts = tuple(got.get(s, 0) for s in SIZES)
    if not all(isinstance(v, int) and not isinstance(v, bool) and v >= 0 for v in counts):
        raise SitingInputError(
            f"{where}: field 'compartments' must hold whole counts >= 0, got {dict(got)!r}"
        )
    for size, count in zip(SIZES, counts, strict=True):
        if count > MAX_COUNT:
            raise SitingInputError(
                f"{where}: field 'compartments.{size}' {TOO_LARGE_COUNT}, got {shown(count)}"
            )
    return counts


def _compartment_columns(r: _CandidateRecord, where: str) -> tuple[int, int, int] | None:
    counts = [getattr(r, f"compartments_{size}") for size in SIZES]
    if all(count is None for count in counts):
        return None
    for size, count in zip(SIZES, counts, strict=True):
        if count is None:
            raise SitingInputError(f"{where}: field 'compartments_{size}' {COUNT}, got nothing")
    return tuple(counts)


def instance_from_points(
    demand: Sequence[DemandPoint],
    candidates: Sequence[Candidate],
    *,
    radius_m: float,
    graph: nx.MultiDiGraph | None = None,
    straight_line: bool = False,
    max_snap_m: float = 250.0,
    name: str = "siting",
    between: Callable[[], None] | None = None,
) -> SitingInstance:
    """Instance with walking distances on ``graph`` for the pairs within ``radius_m``.

    ``straight_line=True`` uses great-circle distances instead (and needs no graph). A candidate
    farther than ``max_snap_m`` from every walkable way is an error naming it. ``between`` is
    called between chunks of the walk's search (``network.matrix.distances_within``) and may
    raise to end it (a siting job cancelled meanwhile).
    """
    if not (radius_m > 0 and math.isfinite(radius_m)):
        raise SitingInputError(f"radius_m must be a number > 0, got {radius_m}")
    check_points(demand, candidates)
    dem = [(d.lat, d.lon) for d in demand]
    cand = [(c.lat, c.lon) for c in candidates]
    if straight_line:
        reach = _haversine_within(np.array(dem), np.array(cand), radius_m)
    else:
        if graph is None:
            raise SitingInputError("walking distances need a walk graph (or straight_line=True)")
        from network.matrix import distances_within
        from network.snap import snap_points

        try:
            snap_points(graph, cand, max_snap_m=max_snap_m, labels=[c.id for c in candidates])
        except SnapError as err:
            raise CandidateOffGraphError(f"candidate off the walk graph: {err}") from None
        try:
            snap_points(graph, dem, max_snap_m=max_snap_m, labels=[d.id for d in demand])
        except SnapError as err:
            raise SitingInputError(f"demand point off the walk graph: {err}") from None
        coo = distances_within(
            graph, dem, cand, limit_m=radius_m, max_snap_m=max_snap_m, access=True,
            between=between,
        ).tocoo()
        reach = make_reach(coo.row, coo.col, coo.data, (len(dem), len(cand)))
    return SitingInstance(
        demand_ids=[d.id for d in demand],
        weight=np.array([d.parcels for d in demand], dtype=float),
        site_ids=[c.id for c in candidates],
        reach=reach,
        **_site_arrays(candidates),
        existing_compartments=_existing_compartments(candidates),
        size_mix=np.array([d.mix for d in demand], dtype=float),
        radius_m=float(radius_m),
        demand_lonlat=np.array([(d.lon, d.lat) for d in demand], dtype=float),
        site_lonlat=np.array([(c.lon, c.lat) for c in candidates], dtype=float),
        name=name,
        distance="straight_line" if straight_line else "walk",
    )


def check_points(demand: Sequence[DemandPoint], candidates: Sequence[Candidate]) -> None:
    """What is wrong with the points before any distance: none of either, an id given twice,
    compartments on a site not yet standing (the instance refuses them too, as arrays). The
    platform calls this (and ``check_model``) as a siting run is posted, so bad input is
    refused then, at the item (``loc``), instead of failing the job later."""
    if not demand:
        raise SitingInputError("demand: at least one demand point is needed")
    if not candidates:
        raise SitingInputError("candidates: at least one candidate site is needed")
    _unique("demand point", "demand", [d.id for d in demand])
    _unique("candidate", "candidates", [c.id for c in candidates])
    for i, c in enumerate(candidates):
        if c.compartments is not None and not c.existing:
            raise SitingInputError(
                f"site '{c.id}': existing compartments are only for lockers already standing, "
                "which stay open (existing: true)",
                loc=("candidates", i),
            )


def check_model(model: SitingModel, candidates: Sequence[Candidate]) -> None:
    """A p or budget the candidates cannot meet, or capacities the model needs and none has."""
    model.check_sites(**_site_arrays(candidates))


def _site_arrays(candidates: Sequence[Candidate]) -> dict[str, np.ndarray]:
    return {
        "fixed_cost": np.array([c.fixed_cost for c in candidates], dtype=float),
        "capacity": np.array([c.capacity for c in candidates], dtype=float),
        "must_open": np.array([c.existing for c in candidates], dtype=bool),
    }


def _existing_compartments(candidates: Sequence[Candidate]) -> np.ndarray | None:
    """Sites x 3 standing compartments (``NOT_BUILT`` rows where none), None if none is given."""
    if all(c.compartments is None for c in candidates):
        return None
    unset = (NOT_BUILT,) * len(SIZES)
    return np.array([c.compartments or unset for c in candidates], dtype=np.int64)


def _unique(kind: str, field: str, ids: list[str]) -> None:
    seen: set[str] = set()
    for i, ident in enumerate(ids):
        if ident in seen:
            raise SitingInputError(
                f"{kind} '{ident}': id appears more than once", loc=(field, i, "id")
            )
        seen.add(ident)


def _haversine_within(a: np.ndarray, b: np.ndarray, radius_m: float):
    """Great-circle distances for pairs within ``radius_m`` (a k-d tree keeps it sparse)."""
    from scipy.spatial import cKDTree

    lat0 = math.radians(float(np.mean(a[:, 0])))
    scale = np.array([111_320.0, 111_320.0 * math.cos(lat0)])
    ta, tb = cKDTree(a * scale), cKDTree(b * scale)
    coo = ta.sparse_distance_matrix(tb, radius_m * 1.01, output_type="coo_matrix")
    la, lb = a[coo.row], b[coo.col]
    dist = haversine_m(la[:, 0], la[:, 1], lb[:, 0], lb[:, 1])
    keep = dist <= radius_m
    # sparse_distance_matrix drops exact-zero pairs; add coincident points back.
    rows, cols, vals = coo.row[keep], coo.col[keep], dist[keep]
    same = ta.query_ball_tree(tb, 1e-9)
    extra = [(i, j) for i, js in enumerate(same) for j in js]
    if extra:
        er, ec = np.array(extra).T
        have = set(zip(rows.tolist(), cols.tolist(), strict=True))
        new = [(i, j) for i, j in zip(er, ec, strict=True) if (i, j) not in have]
        if new:
            nr, nc = np.array(new).T
            rows, cols = np.r_[rows, nr], np.r_[cols, nc]
            vals = np.r_[vals, np.zeros(len(nr))]
    return make_reach(rows, cols, vals, (len(a), len(b)))
