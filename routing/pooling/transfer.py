"""The line haul of a pooled plan: each firm brings its parcels from its depot to the centres."""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from routing.model import Problem
from routing.pooling.day import Day
from routing.pooling.errors import PoolingError
from routing.pooling.travel import DayTravel
from routing.solution import Solution


@dataclass(frozen=True)
class Haul:
    """One firm's round trip between its depot and one centre, and what one trip carries.

    ``km`` and ``hours`` are infinite where the road graph does not connect the two.
    """

    centre: str  # the day's centre id
    profile: str
    km: float
    hours: float
    trip_cost: float
    co2_kg: float
    capacity: tuple[int, int]  # parcels, grams
    handling_per_parcel: float


@dataclass(frozen=True)
class TransferPrices:
    """What each member firm's line haul to each centre costs, priced when the plan is built.

    ``hauls`` maps (firm, centre id as the shared vehicles start there) to its ``Haul``;
    ``parcels`` maps each parcel to its firm and grams, so the loads can be read off whichever
    solution the engines return: which centre delivers a parcel is the engine's choice.
    """

    hauls: dict[tuple[str, str], Haul]
    parcels: dict[str, tuple[str, int]]


@dataclass(frozen=True)
class Leg:
    """One firm's line haul to one centre in a solved plan: what it carries and what it costs."""

    firm: str
    centre: str  # the day's centre id
    profile: str
    parcels: int
    trips: int
    km: float
    hours: float
    co2_kg: float
    cost: float


@dataclass(frozen=True)
class TransferFigures:
    """The line haul a solved pooled plan needs, leg by leg and in total."""

    legs: tuple[Leg, ...] = ()

    def total(self, name: str) -> float:
        """A figure (cost, km, hours, co2_kg, trips, parcels) added up over the legs."""
        return sum(getattr(leg, name) for leg in self.legs)

    def by_firm(self) -> dict[str, float]:
        """What each firm's own line haul costs."""
        costs: dict[str, float] = defaultdict(float)
        for leg in self.legs:
            costs[leg.firm] += leg.cost
        return dict(costs)


def transfer_prices(
    day: Day, travel: DayTravel, firms: Iterable[str], centres: Mapping[str, str]
) -> TransferPrices | None:
    """Price each firm's round trip to each centre (``centres``: centre id -> the day's id).

    None when nobody is charged (the day says parcels reach the centres from upstream sorting).
    """
    types = day.known_vehicle_types()
    hauls: dict[tuple[str, str], Haul] = {}
    members = frozenset(firms)
    for firm in members:
        spec = day.transfer_of(firm)
        if spec is None:
            continue
        kind = types[spec.type]
        depot = travel.places.depot[firm]
        metres, seconds = travel.distances[kind.profile], travel.durations[kind.profile]
        for stop, centre in centres.items():
            at = travel.places.centre[centre]
            km = float(metres[depot, at] + metres[at, depot]) / 1000.0
            hours = float(seconds[depot, at] + seconds[at, depot]) / 3600.0
            hauls[(firm, stop)] = Haul(
                centre=centre,
                profile=kind.profile,
                km=km,
                hours=hours,
                trip_cost=spec.fixed_cost + spec.cost_per_km * km + spec.cost_per_hour * hours,
                co2_kg=kind.co2_g_per_km * km / 1000.0,
                capacity=(spec.capacity_parcels, math.ceil(spec.capacity_kg * 1000)),
                handling_per_parcel=spec.handling_per_parcel,
            )
    if not hauls:
        return None
    parcels = {p.id: (p.firm, p.grams()) for p in day.parcels_of(members)}
    return TransferPrices(hauls, parcels)


def transfer_figures(
    prices: TransferPrices | None,
    problem: Problem,
    job_parcels: Mapping[str, tuple[str, ...]],
    solution: Solution,
) -> TransferFigures:
    """The trips each firm drives to the centres its parcels leave from in ``solution``.

    A parcel left unserved is not hauled: the day's ``unserved_parcel_cost`` already stands
    for it. Each (firm, centre) load takes as many trips as its parcels or its weight need.
    """
    if prices is None:
        return TransferFigures()
    loads: dict[tuple[str, str], list[int]] = defaultdict(lambda: [0, 0])
    for route in solution.routes:
        centre = problem.vehicle(route.vehicle).start
        for step in route.task_steps():
            for parcel in job_parcels[step.id]:
                firm, grams = prices.parcels[parcel]
                load = loads[(firm, centre)]
                load[0] += 1
                load[1] += grams
    legs = []
    for (firm, centre), (parcels, grams) in sorted(loads.items()):
        haul = prices.hauls.get((firm, centre))
        if haul is None:
            continue
        if not math.isfinite(haul.km):
            raise PoolingError(
                f"firm '{firm}': transfer: no road from its depot to centre '{haul.centre}' "
                "(the line haul cannot be priced)"
            )
        trips = max(math.ceil(parcels / haul.capacity[0]), math.ceil(grams / haul.capacity[1]))
        legs.append(
            Leg(
                firm=firm,
                centre=haul.centre,
                profile=haul.profile,
                parcels=parcels,
                trips=trips,
                km=trips * haul.km,
                hours=trips * haul.hours,
                co2_kg=trips * haul.co2_kg,
                cost=trips * haul.trip_cost + parcels * haul.handling_per_parcel,
            )
        )
    return TransferFigures(tuple(legs))


def one_centre_each(
    prices: TransferPrices | None, figures: TransferFigures, firms: Iterable[str]
) -> list[dict[str, str]]:
    """Where a solution splits a firm's parcels over several centres, the ways of sending each
    firm from one centre to try instead: each firm from the centre that delivered most of its
    parcels, and every firm from the centre that delivered most parcels of all. A firm not
    charged for a line haul stays free. Nothing to try when every firm drives one line haul."""
    if prices is None or len(figures.legs) == len({leg.firm for leg in figures.legs}):
        return []
    members = [f for f in firms if any(key[0] == f for key in prices.hauls)]
    busiest: dict[str, int] = defaultdict(int)
    for leg in figures.legs:
        busiest[leg.centre] += leg.parcels
    everyone = dict.fromkeys(members, max(busiest, key=lambda c: busiest[c]))
    majority = dict(everyone)
    for firm in members:
        legs = [leg for leg in figures.legs if leg.firm == firm]
        if legs:
            majority[firm] = max(legs, key=lambda leg: (leg.parcels, -leg.cost)).centre
    return [majority] if majority == everyone else [majority, everyone]


#: Draws a line through (lon, lat) stops on one profile's roads: GeoJSON coordinates.
Along = Callable[[str, list[tuple[float, float]]], list[list[float]]]


def haul_features(
    day: Day, kind: str, figures: TransferFigures, *, along: Along | None = None
) -> list[dict[str, Any]]:
    """GeoJSON features of each firm's line haul: depot to centre and back.

    ``along`` draws the line on the roads (`routing.pooling.output.road_lines`); without it the
    line is straight, like ``Solution.to_geojson``'s legs.
    """
    depots = {f.id: f.depot for f in day.firms}
    centres = {c.id: c.at for c in day.centres}
    features = []
    for leg in figures.legs:
        depot, centre = depots[leg.firm], centres[leg.centre]
        ends = [(depot.lon, depot.lat), (centre.lon, centre.lat), (depot.lon, depot.lat)]
        coordinates = along(leg.profile, ends) if along else [list(end) for end in ends]
        props = {
            "plan": kind,
            "firm": leg.firm,
            "firms": [leg.firm],  # as a route's: a firm filtering its features finds its hauls
            "vehicle": f"line haul to {leg.centre}",
            "stops": 1,
            "parcels": leg.parcels,
            "trips": leg.trips,
            "distance_m": round(leg.km * 1000),
            "duration_s": round(leg.hours * 3600),
            "cost": round(leg.cost, 2),
        }
        features.append(
            {
                "type": "Feature",
                "properties": props,
                "geometry": {"type": "LineString", "coordinates": coordinates},
            }
        )
    return features
