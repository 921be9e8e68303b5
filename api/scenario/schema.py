"""The scenario file's schema: the map, demand, lockers, siting, firms, centres and run settings."""

import math
from pathlib import Path
from typing import Annotated, Literal

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, field_validator, model_validator

from network.areas import checked_bbox
from network.datum import (
    DATUMS,
    DEFAULT_DATUM,
    bbox_to_wgs84,
    datum_value,
    lonlat_to_wgs84,
)
from network.errors import AreaError
from routing.model import MAX_AMOUNT, MAX_SECONDS, Float, Int, Money, clock_seconds, format_time
from routing.pooling.day import DEFAULT_VEHICLE_TYPES, MAX_DAY_VEHICLES, DayId, Transfer
from routing.solve import SEED_MAX  # every scenario seed keeps to it: one that works here works

#: Most parcels a firm's ``count`` draws. Each is a stop in every routing model of the day
#: (solo, pooled, each Shapley coalition); 1e20 overflowed numpy after the map and siting were
#: done. The day's 1,000 vehicles carry 100,000 parcels at a fleet's default capacity (100),
#: so more is a typo, not a city day.
MAX_PARCELS = 100_000
#: Shares of parcels may add up to 1 give or take float rounding (0.1 + 0.2 + 0.7).
SHARE_ROUNDING = 1e-9
#: Seconds in a day: a time past midnight is written with hours past 23 (02:00 as 26:00).
DAY_S = 24 * 3600

Fraction = Annotated[Float, Field(ge=0.0, le=1.0)]
Seed = Annotated[Int, Field(ge=0, le=SEED_MAX)]
Latitude = Annotated[Float, Field(ge=-90, le=90)]
Longitude = Annotated[Float, Field(ge=-180, le=180)]

#: How a scenario's clock times are written, as its errors say (the loader adds what was given).
CLOCK_FORMAT = (
    'a clock time like "08:30" is required (HH:MM or HH:MM:SS, minutes and seconds 00-59; '
    "after midnight 24:00, 26:00 for 2 a.m. the next day)"
)


def _clock(value: object) -> object:
    """A clock time as the routing model reads one ("HH:MM" or "HH:MM:SS", minutes and seconds
    00-59, hours past 23 for the next day: 26:00 is 2 a.m.), so that a scenario can plan the
    evening and night shifts a day or a routing problem can; 00:00-23:59 only left no way to
    end a shift at or after midnight."""
    try:
        seconds = clock_seconds(value) if isinstance(value, str) else None
    except ValueError:
        seconds = None
    if seconds is None:
        raise ValueError(CLOCK_FORMAT)
    if seconds > MAX_SECONDS:
        raise ValueError(f"later than the routing model's limit, {MAX_SECONDS:g} s from midnight")
    return value


Clock = Annotated[
    str,
    BeforeValidator(_clock),
    Field(description="HH:MM or HH:MM:SS; past midnight as 24:00, 26:00 (2 a.m.)..."),
]
SIZES = ("S", "M", "L")


class Strict(BaseModel):
    """Base of every scenario model: unknown keys are errors, so a typo ("budjet") is reported
    with its line instead of silently falling back to a default."""

    model_config = ConfigDict(extra="forbid", frozen=True)


class Place(Strict):
    """A point: real coordinates, or ``rel: [x, y]`` fractions of the map extent (west->east,
    south->north), so that one scenario runs on the demo map and on ``--map FILE``."""

    lat: Latitude | None = None
    lon: Longitude | None = None
    rel: tuple[Fraction, Fraction] | None = None

    @model_validator(mode="after")
    def _one_kind(self) -> "Place":
        has_coords = self.lat is not None or self.lon is not None
        if has_coords == (self.rel is not None):
            raise ValueError("give either lat and lon, or rel: [x, y]")
        if has_coords and (self.lat is None or self.lon is None):
            raise ValueError("give both lat and lon")
        return self


class Window(Strict):
    """A time of day window, e.g. ``["08:00", "18:00"]``, or ``["18:00", "26:00"]`` for an
    evening shift that ends at 2 a.m."""

    start: Clock
    end: Clock

    @model_validator(mode="before")
    @classmethod
    def _from_pair(cls, value: object) -> object:
        if isinstance(value, list | tuple) and len(value) == 2:
            return {"start": value[0], "end": value[1]}
        return value

    @model_validator(mode="after")
    def _ordered(self) -> "Window":
        """A window that ends before it starts says how to write one past midnight (18:00 to
        26:00); the times are compared as times, not as text ("9:00" after "10:00")."""
        start, end = self.seconds()
        if end == start:
            raise ValueError(f"window is empty: it starts and ends at {self.start}")
        if end < start:
            hint = ""
            if end < DAY_S and start < end + DAY_S:  # the next day's end would come after it
                hint = f"; for one that ends after midnight, write {format_time(end + DAY_S)}"
            raise ValueError(f"window ends ({self.end}) before it starts ({self.start}){hint}")
        return self

    def seconds(self) -> tuple[int, int]:
        """Seconds since midnight of start and end."""
        return clock_seconds(self.start), clock_seconds(self.end)


class PolygonFile(Strict):
    """A boundary from a GeoJSON file: the feature whose ``property`` equals ``name``."""

    file: Path
    name: str
    property: str = "name"


class MapSpec(Strict):
    """Where the roads come from: ``demo`` (bundled Helsinki), ``synthetic:N``, or an OSM file
    (relative to the scenario file). ``source`` may be left out for a real site whose extract the
    user supplies with ``--map FILE``; ``needs`` then says which file that is. The map is clipped
    to ``bbox`` or ``polygon`` (a ring of [lon, lat] points, or a boundary from a GeoJSON file)."""

    source: str | None = None
    needs: str | None = None
    bbox: tuple[Float, Float, Float, Float] | None = Field(None, description="W, S, E, N")
    polygon: list[tuple[Float, Float]] | PolygonFile | None = None

    @field_validator("polygon")
    @classmethod
    def _ring(cls, polygon: object) -> object:
        if isinstance(polygon, list) and len(polygon) < 3:
            raise ValueError("a polygon ring needs at least 3 [lon, lat] points")
        return polygon

    @model_validator(mode="after")
    def _one_area(self) -> "MapSpec":
        if self.bbox is not None and self.polygon is not None:
            raise ValueError("give bbox or polygon, not both")
        return self

    @field_validator("bbox")
    @classmethod
    def _bbox_order(cls, bbox: tuple[float, float, float, float] | None) -> object:
        """West before east and south before north, within the globe (`checked_bbox`, which
        the map stage applies too): the map stage refused a bbox out of range (or given as
        [S, W, N, E]) only after validate had passed it."""
        if bbox is not None:
            try:
                checked_bbox(bbox)
            except AreaError as err:
                raise ValueError(str(err)) from None
        return bbox


class DemandSpec(Strict):
    """Daily parcels: from OSM buildings by rates per building type, from a file of points
    (CSV ``id,lat,lon,parcels`` or GeoJSON points with a ``parcels`` property), or, on a map
    without buildings (a synthetic city), from ``points`` road nodes drawn with ``seed``, each
    with a uniform draw from ``parcels_per_point``."""

    source: Literal["buildings", "file", "road_nodes"] = "buildings"
    file: Path | None = None
    points: Annotated[Int, Field(ge=1)] = 500
    parcels_per_point: tuple[Annotated[Float, Field(ge=0)], Annotated[Float, Field(ge=0)]] = (
        1.0,
        20.0,
    )
    seed: Seed = 0
    rates: dict[str, Annotated[Float, Field(ge=0)]] = Field(
        default_factory=lambda: {"default": 0.5},
        description="parcels per day per 100 m² of floor area, by OSM building type "
        "('default' for the rest; without it the rest get none)",
    )
    size_mix: dict[Literal["S", "M", "L"], Annotated[Float, Field(ge=0)]] = Field(
        default_factory=lambda: {"S": 0.6, "M": 0.3, "L": 0.1}
    )

    @field_validator("parcels_per_point")
    @classmethod
    def _low_to_high(cls, span: tuple[float, float]) -> tuple[float, float]:
        """[low, high]: a reversed pair drew from a range the file does not say."""
        if span[0] > span[1]:
            raise ValueError(f"give [low, high] with low <= high (got {list(span)})")
        return span

    @model_validator(mode="after")
    def _file_when_needed(self) -> "DemandSpec":
        if self.source == "file" and self.file is None:
            raise ValueError("source 'file' needs a file")
        return self

    @field_validator("size_mix")
    @classmethod
    def _shares_of_one(cls, mix: dict[str, float]) -> dict[str, float]:
        """Shares as ``gongpei site`` reads a mix: a size left out is 0 and they sum to 1. The
        scenario divided by their sum, so percentages ran as shares and ``{S: 0.6, M: 0.3}``
        (L forgotten) became 0.667 / 0.333, without a word."""
        total = sum(mix.values())
        if not math.isclose(total, 1.0):
            given = ", ".join(f"{size}: {share:g}" for size, share in mix.items())
            raise ValueError(
                f"the S, M, L shares must sum to 1 (a size left out is 0); {{{given}}} sums "
                f"to {total:g}" + (" (percentages? give 0.6 for 60 %)" if total > 1.5 else "")
            )
        return mix


class Compartments(Strict):
    """Compartments by size (S, M, L), at most the day's bound on a locker's free ones."""

    S: Annotated[Int, Field(ge=0, le=MAX_AMOUNT)] = 0
    M: Annotated[Int, Field(ge=0, le=MAX_AMOUNT)] = 0
    L: Annotated[Int, Field(ge=0, le=MAX_AMOUNT)] = 0


class ExistingLocker(Strict):
    """A locker already standing: the siting keeps it open and places new ones around it."""

    id: DayId
    at: Place
    compartments: Compartments


class CandidatesSpec(Strict):
    """Candidate locker sites: OSM buildings of some types, a file of points (CSV ``id,lat,lon``),
    and/or ``road_nodes`` road nodes drawn with the demand seed (for maps without buildings)."""

    building_types: list[str] = Field(default_factory=list)
    file: Path | None = None
    road_nodes: Annotated[Int, Field(ge=0)] = 0
    max_sites: Annotated[Int, Field(ge=1)] = 150
    compartments: Compartments = Compartments(S=40, M=20, L=8)
    cost: Annotated[Float, Field(ge=0)] = 1.0


class LockersSpec(Strict):
    """The lockers already standing and where new ones may go."""

    existing: list[ExistingLocker] = Field(default_factory=list)
    candidates: CandidatesSpec = CandidatesSpec()


class CompartmentCosts(Strict):
    """What building one compartment of each size costs; a size left out keeps the siting's
    default (``routing.siting.model.DEFAULT_COMPARTMENTS``: 300 / 400 / 550)."""

    S: Annotated[Float, Field(ge=0)] | None = None
    M: Annotated[Float, Field(ge=0)] | None = None
    L: Annotated[Float, Field(ge=0)] | None = None


class SizingSpec(Strict):
    """Compartment sizing as a decision: each new locker gets the fewest S/M/L compartments that
    turn over its parcels (one parcel per compartment every ``siting.dwell_days``), at most
    ``max_compartments``. Implies a capacitated siting; existing lockers keep the compartments
    they have. The costs price what is built (they steer the plan only under ``set_cover``)."""

    max_compartments: Annotated[Int, Field(ge=1)] = 120
    costs: CompartmentCosts = CompartmentCosts()


class SitingSpec(Strict):
    """Which lockers to open: the siting model, walking radius and budget (number of lockers);
    ``sizing`` also decides how many compartments of each size the new lockers get."""

    model: Literal["max_coverage", "set_cover", "p_median"] = "max_coverage"
    radius_m: Annotated[Float, Field(gt=0)] = 300.0
    budget: Int = Field(5, description="lockers to open (max_coverage, p_median)")
    capacitated: bool = False
    dwell_days: Annotated[Float, Field(gt=0)] = 1.5
    time_limit_s: Annotated[Float, Field(gt=0)] = 10.0
    sizing: SizingSpec | None = None

    @field_validator("sizing", mode="before")
    @classmethod
    def _sizing_switch(cls, value: object) -> object:
        """``sizing: true`` sizes with the defaults, ``sizing: false`` does not size."""
        return {} if value is True else None if value is False else value

    @property
    def is_capacitated(self) -> bool:
        """Whether site capacities bind (sizing implies it)."""
        return self.capacitated or self.sizing is not None

    @field_validator("budget")
    @classmethod
    def _positive_budget(cls, budget: int) -> int:
        if budget < 1:
            raise ValueError(f"budget must be at least 1 locker (got {budget})")
        return budget


class Fleet(Strict):
    """``count`` vehicles of one travel profile, with their capacity, shift and costs (each
    within the day's own limits, so that `scenario validate` refuses what the run would; all
    the fleets together are held to the vehicle limit on loading, by the day's own check)."""

    profile: Literal["van", "e-tricycle"] = "van"
    count: Annotated[Int, Field(ge=1, le=MAX_DAY_VEHICLES)] = 1
    capacity: Annotated[Int, Field(ge=1, le=MAX_AMOUNT, description="parcels")] = 100
    shift: Window = Window(start="08:00", end="18:00")
    cost_per_km: Money = 1.0
    cost_per_hour: Money = 30.0
    fixed_cost: Money = 50.0


class TimeWindowShare(Strict):
    """A share of parcels that must arrive within a window (e.g. lunchtime pickups)."""

    window: Window
    share: Fraction


class ParcelsSpec(Strict):
    """A firm's parcels of the day: a file (CSV ``id,lat,lon[,size]``), or ``count`` parcels drawn
    from the demand with ``seed``."""

    file: Path | None = None
    count: Annotated[Int, Field(le=MAX_PARCELS)] | None = None
    seed: Seed = 0
    service_s: Annotated[Int, Field(ge=0, le=MAX_SECONDS)] = 60
    time_windows: list[TimeWindowShare] = Field(default_factory=list)

    @field_validator("time_windows")
    @classmethod
    def _shares_within_one(cls, windows: list[TimeWindowShare]) -> list[TimeWindowShare]:
        """Each share is a part of the firm's parcels (the rest have no window): shares adding
        up to more than all of them were silently scaled down instead."""
        total = sum(tw.share for tw in windows)
        if total > 1 + SHARE_ROUNDING:
            raise ValueError(
                f"the shares add up to {total:g}, more than 1 (each is a part of the firm's "
                "parcels; the rest have no window)"
            )
        return windows

    @model_validator(mode="after")
    def _one_source(self) -> "ParcelsSpec":
        if (self.file is None) == (self.count is None):
            raise ValueError("give either file or count")
        if self.count is not None and self.count < 1:
            raise ValueError(f"the firm has no parcels (count is {self.count})")
        return self


class Firm(Strict):
    """A logistics firm: its own depot and fleet (its solo plan) and its parcels of the day."""

    name: DayId
    depot: Place
    fleet: list[Fleet] = Field(min_length=1)
    parcels: ParcelsSpec


class Centre(Strict):
    """A shared distribution centre with the shared fleet based there."""

    id: DayId
    at: Place
    fleet: list[Fleet] = Field(min_length=1)


class RunSpec(Strict):
    """How the day's plans are solved: engine, time limit, seed, locker drops, Shapley mode."""

    engine: Literal["auto", "ortools", "pyvrp"] = "auto"
    time_limit_s: Annotated[Float, Field(gt=0)] = 10.0
    seed: Seed = 0
    locker_drops: bool = True
    shapley: Literal["auto", "exact", "sampled", "off"] = "auto"
    split_time_limit_s: Annotated[Float, Field(ge=0)] | None = Field(
        300.0,
        description="seconds for the Shapley splits in all (auto and sampled): exact only "
        "where its coalitions fit, else sampled until the time is up (0 or null: no limit, as "
        "`gongpei pool --split-time-limit 0` and the API read it)",
    )
    co2_g_per_km: dict[Literal["van", "e-tricycle"], Annotated[Float, Field(ge=0)]] = Field(
        default_factory=lambda: {"van": 240.0, "e-tricycle": 15.0},
        description="grams of CO2 per vehicle-km by vehicle profile",
    )
    unserved_parcel_cost: Money = 100.0
    transfer: Transfer | None = Field(
        default=Transfer(),
        description="each firm's line haul from its depot to the shared centres in pooled "
        "plans (null: parcels reach the centres from upstream sorting, not charged)",
    )

    @field_validator("shapley", mode="before")
    @classmethod
    def _yaml_off(cls, value: object) -> object:
        """YAML reads a bare ``off`` as false."""
        return "off" if value is False else value

    @field_validator("transfer")
    @classmethod
    def _known_truck(cls, transfer: Transfer | None) -> Transfer | None:
        """A scenario names no vehicle types of its own: the line haul uses a built-in one."""
        if transfer is not None and transfer.type not in DEFAULT_VEHICLE_TYPES:
            known = ", ".join(DEFAULT_VEHICLE_TYPES)
            raise ValueError(f"vehicle type '{transfer.type}' is unknown (use {known})")
        return transfer


class Scenario(Strict):
    """A whole scenario file."""

    name: Annotated[str, Field(min_length=1)]
    description: str = ""
    datum: Annotated[str, BeforeValidator(datum_value)] = Field(
        DEFAULT_DATUM,
        description=f"the datum of every coordinate of the file and of the files it names "
        f"({', '.join(DATUMS)}: GPS and OSM, Amap and Tencent, Baidu); read as WGS 84",
    )
    map: MapSpec
    demand: DemandSpec = DemandSpec()
    lockers: LockersSpec = LockersSpec()
    siting: SitingSpec = SitingSpec()
    firms: list[Firm] = Field(default_factory=list)
    centres: list[Centre] = Field(default_factory=list)
    run: RunSpec = RunSpec()

    def in_wgs84(self) -> "Scenario":
        """The scenario with its own coordinates (places, bbox, polygon ring) in WGS 84, as the
        loader hands it on (`datum` still says what its files are in: their readers convert
        theirs)."""
        if self.datum == DEFAULT_DATUM:
            return self

        def place(p: Place) -> Place:
            if p.lat is None:
                return p  # rel: a fraction of the map, which is WGS 84
            lon, lat = lonlat_to_wgs84(self.datum, [(p.lon, p.lat)])[0]
            return p.model_copy(update={"lat": float(lat), "lon": float(lon)})

        area: dict[str, object] = {}
        if self.map.bbox is not None:
            area["bbox"] = bbox_to_wgs84(self.datum, self.map.bbox)
        if isinstance(self.map.polygon, list):
            ring = lonlat_to_wgs84(self.datum, self.map.polygon)
            area["polygon"] = [(float(lon), float(lat)) for lon, lat in ring]
        existing = [
            lk.model_copy(update={"at": place(lk.at)}) for lk in self.lockers.existing
        ]
        return self.model_copy(
            update={
                "map": self.map.model_copy(update=area),
                "lockers": self.lockers.model_copy(update={"existing": existing}),
                "firms": [f.model_copy(update={"depot": place(f.depot)}) for f in self.firms],
                "centres": [c.model_copy(update={"at": place(c.at)}) for c in self.centres],
            }
        )

    @model_validator(mode="after")
    def _unique_names(self) -> "Scenario":
        names = [firm.name for firm in self.firms]
        dupes = sorted({n for n in names if names.count(n) > 1})
        if dupes:
            raise ValueError(f"firm names repeat: {', '.join(dupes)}")
        return self

    def profiles(self) -> list[str]:
        """Vehicle travel profiles the fleets and the line haul use (graphs besides ``walk``)."""
        fleets = [f for firm in self.firms for f in firm.fleet]
        fleets += [f for centre in self.centres for f in centre.fleet]
        profiles = {f.profile for f in fleets}
        if fleets and self.run.transfer is not None:
            profiles.add(DEFAULT_VEHICLE_TYPES[self.run.transfer.type][1])
        return sorted(profiles)
