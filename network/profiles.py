"""Travel profiles: which OSM ways a van, an e-tricycle or a walker may use, and how fast."""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from dataclasses import dataclass, field, replace

from network.errors import ProfileError, is_number
from network.hints import close_name, did_you_mean

# Values of an access-type tag that forbid passage; anything else (yes, destination, delivery,
# permissive, designated, customers ...) allows it.
_DENY = frozenset({"no", "private", "agricultural", "forestry", "military", "use_sidepath"})
_FORWARD = frozenset({"yes", "true", "1"})
#: `oneway` values for travel against the way's node order only.
ONEWAY_BACKWARD = frozenset({"-1", "reverse"})
# `oneway=reversible`: a road whose one direction changes a few times a day (tidal lanes,
# 潮汐车道, express lanes inbound mornings, outbound evenings). The file does not say when each
# holds, so a graph of fixed directions cannot route on it: two-way would send vehicles against
# the traffic for part of the day, and either one-way direction is wrong the rest of it.
# Vehicles that keep to one-way rules are kept off it (a detour costs time; a wrong-way trip is
# no route), as OSRM's car profile does (`WayHandlers.avoid_ways`: "do not route over these at
# all ... because of time dependence"). osmnx (`graph._add_paths`, 2.1) reads it as two-way,
# since its one-way values are only yes/true/1/-1/reverse/T/F. `oneway=alternating` (one lane
# taken in turns, at a light or by sight: a narrow bridge, a tunnel) is not here: both
# directions hold all day after a wait, so it is two-way, as in osmnx and OSRM (which only
# slows it); closed, it cut off whatever lay beyond such a bridge.
_TIMED = frozenset({"reversible"})
# `sidewalk=*` values that put a walkway along the carriageway itself (`sidewalk:both|left|right`
# say `yes`). Not `separate`: that walkway is its own footway, which the walk graph holds.
_SIDEWALK = frozenset({"yes", "both", "left", "right"})
_SIDEWALK_SIDES = ("sidewalk:both", "sidewalk:left", "sidewalk:right")
# `tunnel=*` values that are no road tunnel: a road passing through a building is walked.
_NOT_TUNNEL = frozenset({"no", "building_passage"})
# Roads one-way without an `oneway` tag: a two-way one is tagged `oneway=no` (OSM wiki).
_IMPLIED_ONEWAY_HIGHWAYS = frozenset({"motorway", "motorway_link"})
_IMPLIED_ONEWAY_JUNCTIONS = frozenset({"roundabout", "circular"})
_MPH = 1.609344
_KNOT = 1.852
_UNIT_KMH = {None: 1.0, "km/h": 1.0, "kmh": 1.0, "kph": 1.0, "mph": _MPH, "knots": _KNOT}
_MAXSPEED = re.compile(r"\s*(\d+(?:\.\d+)?)\s*(mph|km/h|kmh|kph|knots)?\s*", re.IGNORECASE)
WALKING_PACE_KMH = 5.0
"""What `maxspeed=walk` (a shared space: drive at walking pace) reads as."""
#: The `highway=*` values of roads and paths (OSM wiki, Key:highway), lower case as mapped:
#: the classes a speed may be given for.
OSM_HIGHWAYS = frozenset({
    "motorway", "trunk", "primary", "secondary", "tertiary", "unclassified", "residential",
    "motorway_link", "trunk_link", "primary_link", "secondary_link", "tertiary_link",
    "living_street", "service", "pedestrian", "track", "bus_guideway", "escape", "raceway",
    "road", "busway", "footway", "bridleway", "steps", "corridor", "path", "cycleway",
    "via_ferrata", "construction",
})  # fmt: skip
# Bounds on any speed a user gives (a class-speed override, a posted `maxspeed`); a value
# outside them is a typo or a unit slip (metres per hour, an exponent), not a road speed.
SPEED_CEILING_KMH = 200.0
"""Above China's highest legal road limit (120 km/h, expressways) with wide headroom, and above
what any delivery vehicle reaches in a city. Far beyond it (1e12 km/h, say), travel times round
to 0 ms and every matrix entry silently becomes 0."""
SPEED_FLOOR_KMH = 1.0
"""Below a walker carrying a load up steps (the walk profile uses 2 km/h there); slower, the
times in milliseconds outgrow the 32-bit integers the CCH sums (2**31 ms, ~600 km at 1 km/h),
and its matrix silently differs from Dijkstra's."""


@dataclass(frozen=True)
class Profile:
    """How one kind of traveller uses the road network.

    `speeds_kmh` maps each usable `highway` class to its default speed; a class that is absent is
    not usable. The defaults are typical Chinese urban speeds in traffic, below the legal limits
    of the road classes (快速路 / 主干路 / 次干路 / 支路). A `maxspeed` tag, when present and the
    profile honours it, replaces the default, capped by the vehicle's own `max_kmh` (its legal or
    physical top speed, e.g. 25 km/h for an e-tricycle). A class whose speed the user overrides
    is capped by that override instead (`overrides_kmh`): it runs at the speed asked for, or
    slower where a posted `maxspeed` is lower, while every other class keeps the vehicle's cap.
    `access_keys` are the access tags that concern this traveller, most general first (the most
    specific one present decides). `motorroads` False keeps the traveller off `motorroad=yes`
    roads (motor vehicles only) unless its most specific access key is tagged on the way.
    `areas` True lets the traveller use highway areas (`is_area`: a square or pedestrian
    street mapped as its outline), which a walker crosses on foot but a vehicle does not drive
    across (their outline is no carriageway).
    `tagged_only` are classes the traveller uses only where its most specific access key is
    tagged (then it decides, as for a motorroad) or a sidewalk is mapped along the carriageway;
    `tagged_only_in_tunnels` the same for classes inside a road tunnel (see `_WALK`).
    """

    name: str
    speeds_kmh: Mapping[str, float]
    access_keys: tuple[str, ...]
    oneway: bool
    honour_maxspeed: bool
    max_kmh: float
    motorroads: bool = True
    areas: bool = False
    oneway_exempt_keys: tuple[str, ...] = field(default=())
    tagged_only: frozenset[str] = frozenset()
    tagged_only_in_tunnels: frozenset[str] = frozenset()
    overrides_kmh: Mapping[str, float] = field(default_factory=dict)

    def with_speeds(self, overrides: Mapping[str, float] | None) -> Profile:
        """This profile with some class speeds replaced (a new class becomes usable); each
        overridden class is capped by its own speed, the others keep the vehicle's `max_kmh`
        (so a faster cycleway does not lift an e-tricycle's legal cap on every tagged road)."""
        if overrides is None:
            return self
        if not isinstance(overrides, Mapping):
            raise ProfileError(
                f"profile '{self.name}': speeds_kmh must map highway classes to km/h, "
                f"got {type(overrides).__name__}"
            )
        for highway, kmh in overrides.items():
            self._check_speed(highway, kmh)
        given = {highway: float(kmh) for highway, kmh in overrides.items()}
        return replace(
            self,
            speeds_kmh={**self.speeds_kmh, **given},
            overrides_kmh={**self.overrides_kmh, **given},
        )

    def _check_speed(self, highway: object, kmh: object) -> None:
        """One override: a highway class name (not blank: `--speed =30` would otherwise make a
        class no way has, silently doing nothing) and a positive finite number (a bool is
        refused, not read as 1 km/h) within SPEED_FLOOR_KMH..SPEED_CEILING_KMH."""
        if not isinstance(highway, str) or not highway.strip():
            raise ProfileError(
                f"profile '{self.name}': speeds_kmh key {highway!r} must be a highway class name"
            )
        if highway not in OSM_HIGHWAYS:  # a misspelt class made a new one no way has: no effect
            near = close_name(highway, sorted(OSM_HIGHWAYS), cutoff=0.6)
            raise ProfileError(
                f"profile '{self.name}': speeds_kmh key '{highway}' is not an OSM highway "
                f"class{did_you_mean(near)}"
            )
        where = f"profile '{self.name}': speed for highway '{highway}'"
        if not is_number(kmh) or not math.isfinite(kmh) or kmh <= 0:
            raise ProfileError(f"{where} must be a positive number of km/h, got {kmh!r}")
        if kmh > SPEED_CEILING_KMH:
            raise ProfileError(
                f"{where} is {kmh:g} km/h, above the {SPEED_CEILING_KMH:g} km/h ceiling: faster "
                "than any road vehicle may go (a typo or a unit slip?)"
            )
        if kmh < SPEED_FLOOR_KMH:
            raise ProfileError(
                f"{where} is {kmh:g} km/h, below the {SPEED_FLOOR_KMH:g} km/h floor: slower "
                "than anyone travels a road (a typo or a unit slip?)"
            )

    def allows(self, tags: Mapping[str, str]) -> bool:
        """Whether this traveller may use a way with these tags at all."""
        if tags.get("highway") not in self.speeds_kmh or (is_area(tags) and not self.areas):
            return False
        if self._keeps_oneway(tags) and _oneway(tags) in _TIMED:
            return False
        if self._barred_as_motorroad(tags) or self._barred_untagged(tags):
            return False
        decision = True
        for key in self.access_keys:
            value = tags.get(key)
            if value is not None:
                decision = value.split(";")[0].strip() not in _DENY
        return decision

    def _barred_as_motorroad(self, tags: Mapping[str, str]) -> bool:
        """`motorroad=yes` (快速路, motor vehicles only) reads as an implied "no" on this
        traveller's most specific access key (`foot`, `vehicle`), so a general `access=yes`
        does not open it to walkers or e-tricycles; that key tagged on the way decides."""
        return (
            not self.motorroads
            and tags.get("motorroad") == "yes"
            and tags.get(self.access_keys[-1]) is None
        )

    def _barred_untagged(self, tags: Mapping[str, str]) -> bool:
        """A `tagged_only` class (or a `tagged_only_in_tunnels` one in a road tunnel) with
        neither this traveller's most specific access key nor a sidewalk along it."""
        highway = tags.get("highway")
        guarded = highway in self.tagged_only or (
            highway in self.tagged_only_in_tunnels and tags.get("tunnel", "no") not in _NOT_TUNNEL
        )
        return guarded and tags.get(self.access_keys[-1]) is None and not _has_sidewalk(tags)

    def directions(self, tags: Mapping[str, str]) -> tuple[bool, bool]:
        """(forward, backward): along and against the way's node order. `oneway` values are
        read in any letter case (`Yes`, `TRUE`), as mappers write them."""
        if not self._keeps_oneway(tags):
            return True, True
        value = _oneway(tags)
        if value in _FORWARD:
            return True, False
        if value in ONEWAY_BACKWARD:
            return False, True
        if value is None and (
            tags.get("junction") in _IMPLIED_ONEWAY_JUNCTIONS
            or tags.get("highway") in _IMPLIED_ONEWAY_HIGHWAYS
        ):
            return True, False
        return True, True

    def _keeps_oneway(self, tags: Mapping[str, str]) -> bool:
        """Whether one-way rules bind this traveller on this way (not a walker, and no exempting
        tag such as `oneway:bicycle=no` for the e-tricycle)."""
        return self.oneway and not any(tags.get(k) == "no" for k in self.oneway_exempt_keys)

    def speed_kmh(self, tags: Mapping[str, str]) -> float:
        """Speed on a usable way: its `maxspeed` (if honoured and readable) or the class default."""
        highway = tags["highway"]
        cap = self.overrides_kmh.get(highway, self.max_kmh)
        if self.honour_maxspeed:
            posted = parse_maxspeed(tags.get("maxspeed"))
            if posted is not None:
                return min(posted, cap)
        return min(self.speeds_kmh[highway], cap)


def is_area(tags: Mapping[str, str]) -> bool:
    """Whether a highway way is mapped as an area (`area=yes`: a square, a pedestrian street
    drawn as its outline), not as a line along the path."""
    return tags.get("area") == "yes"


def _has_sidewalk(tags: Mapping[str, str]) -> bool:
    """Whether a walkway is mapped along the carriageway itself (`sidewalk=both`, ...)."""
    return tags.get("sidewalk") in _SIDEWALK or any(
        tags.get(key) == "yes" for key in _SIDEWALK_SIDES
    )


def _oneway(tags: Mapping[str, str]) -> str | None:
    """The `oneway` tag in lower case, without surrounding blanks (None where absent)."""
    value = tags.get("oneway")
    return None if value is None else value.strip().lower()


def parse_maxspeed(value: str | None) -> float | None:
    """km/h from a `maxspeed` tag ("40", "30 mph", "15 knots", "walk", "50;60" takes the
    lowest; units in any letter case), else None. A value below SPEED_FLOOR_KMH is a mapping
    slip and counts as unreadable (the class default applies); one above the ceiling needs no
    check, as the profile's cap (at most the ceiling) wins."""
    if not value:
        return None
    speeds = []
    for part in value.split(";"):
        if part.strip().lower() == "walk":
            speeds.append(WALKING_PACE_KMH)
            continue
        match = _MAXSPEED.fullmatch(part)
        if match:
            unit = match.group(2)
            kmh = float(match.group(1)) * _UNIT_KMH[unit.lower() if unit else None]
            if kmh >= SPEED_FLOOR_KMH:
                speeds.append(kmh)
    return min(speeds) if speeds else None


_VAN = {
    "motorway": 80, "motorway_link": 40, "trunk": 60, "trunk_link": 35,
    "primary": 40, "primary_link": 30, "secondary": 35, "secondary_link": 25,
    "tertiary": 30, "tertiary_link": 20, "unclassified": 25, "road": 20,
    "residential": 20, "living_street": 10, "service": 15,
}  # fmt: skip
_TRICYCLE = {
    "primary": 20, "primary_link": 18, "secondary": 20, "secondary_link": 18,
    "tertiary": 18, "tertiary_link": 15, "unclassified": 15, "road": 15,
    "residential": 15, "living_street": 8, "service": 12, "track": 10, "cycleway": 15,
}  # fmt: skip
# A walker keeps off `trunk` (and its links) unless `foot=*` or a sidewalk is tagged on it: in
# Chinese cities that class is the 城市快速路 (urban expressway: elevated roads, road tunnels,
# grade-separated, crossed on foot by bridges and underpasses), which the e-tricycle profile
# already keeps off. So does OSRM's foot profile (no speed for trunk: walked only where
# `foot`/`access` is yes, permissive or designated), and the OSM wiki's defaults for several
# countries (Germany: trunk foot=no); its worldwide table and osmnx's `walk` filter walk them.
# A general `access=yes` does not open one (as for `motorroad=yes`). Primary roads are walked,
# except in a road tunnel (城市地下道路, built for motor traffic, no walkway unless one is
# tagged); footways and steps in tunnels (underpasses, 地下通道) stay walkable, and so do
# primary bridges, whose sidewalks Chinese data rarely tags (neither extract tags one).
_WALK_TAGGED_ONLY = frozenset({"trunk", "trunk_link"})
_WALK_TAGGED_ONLY_IN_TUNNELS = frozenset({"primary", "primary_link"})
_WALK = {
    **dict.fromkeys(
        ["primary", "primary_link", "secondary", "secondary_link", "tertiary", "tertiary_link",
         "unclassified", "road", "residential", "living_street", "service", "track",
         "pedestrian", "footway", "path", "cycleway", "bridleway", "corridor", "trunk",
         "trunk_link"],
        4.8,
    ),
    "steps": 2.0,
}  # fmt: skip

PROFILES: dict[str, Profile] = {
    "van": Profile(
        name="van",
        speeds_kmh=_VAN,
        access_keys=("access", "vehicle", "motor_vehicle", "motorcar", "goods"),
        oneway=True,
        honour_maxspeed=True,
        max_kmh=90.0,
    ),
    # 电动三轮: capped at 25 km/h (GB 17761), kept off motorways and urban expressways (trunk),
    # allowed on campus service roads, tracks and cycleways; motor_vehicle=no does not bar it.
    "e-tricycle": Profile(
        name="e-tricycle",
        speeds_kmh=_TRICYCLE,
        access_keys=("access", "vehicle"),
        oneway=True,
        honour_maxspeed=True,
        max_kmh=25.0,
        motorroads=False,
        oneway_exempt_keys=("oneway:bicycle",),
    ),
    # Walkers also cross squares and pedestrian streets mapped as areas (`_crossings`).
    "walk": Profile(
        name="walk",
        speeds_kmh=_WALK,
        access_keys=("access", "foot"),
        oneway=False,
        honour_maxspeed=False,
        max_kmh=6.0,
        motorroads=False,
        areas=True,
        tagged_only=_WALK_TAGGED_ONLY,
        tagged_only_in_tunnels=_WALK_TAGGED_ONLY_IN_TUNNELS,
    ),
}


def get_profile(name: str, speeds_kmh: Mapping[str, float] | None = None) -> Profile:
    """The named profile, with optional class-speed overrides (km/h)."""
    try:
        profile = PROFILES[name]
    except KeyError:
        raise ProfileError(
            f"profile '{name}' is unknown; choose one of {', '.join(PROFILES)}"
        ) from None
    return profile.with_speeds(speeds_kmh)
