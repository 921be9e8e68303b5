"""Travel times and distances between every place of a day, computed once for all plans."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

import networkx as nx
import numpy as np

from network.graph import build_graph
from network.matrix import distances_within, travel_matrix
from routing.model import Location, TravelMatrices
from routing.pooling.day import Day
from routing.travel import access_metres, straight_line_matrices, with_access_walk


@dataclass(frozen=True)
class DayPlaces:
    """Every place of a day, one matrix index each: depots, centres, lockers, then parcels.

    ``parcel_row`` is a parcel's row in the walking-distance matrix (parcels x lockers).
    """

    points: list[tuple[float, float]]
    names: list[str]
    depot: dict[str, int]
    centre: dict[str, int]
    locker: dict[str, int]
    parcel: dict[str, int]
    parcel_row: dict[str, int]


def day_places(day: Day) -> DayPlaces:
    """Index the day's places in a fixed order."""
    points: list[tuple[float, float]] = []
    names: list[str] = []

    def add(kind: str, ident: str, at: tuple[float, float]) -> int:
        points.append(at)
        names.append(f"{kind} {ident}")
        return len(points) - 1

    depot = {f.id: add("depot", f.id, f.depot.pair()) for f in day.firms}
    centre = {c.id: add("centre", c.id, c.at.pair()) for c in day.centres}
    locker = {lk.id: add("locker", lk.id, lk.at.pair()) for lk in day.lockers}
    parcel = {p.id: add("parcel", p.id, p.at.pair()) for p in day.parcels}
    rows = {p.id: row for row, p in enumerate(day.parcels)}
    return DayPlaces(points, names, depot, centre, locker, parcel, rows)


@dataclass(frozen=True)
class DayTravel:
    """Matrices of one day: per vehicle profile, seconds and metres between all places; and
    metres on foot from each parcel's recipient to each locker (np.inf beyond the radius).

    On road graphs ``access_m`` holds, per vehicle profile, each place's distance from that
    profile's roads, which the courier walks from the parked vehicle and back (0 at depots
    and centres, where vehicles park); the durations include those walks (see
    `routing.travel.with_access_walk`). Empty for straight-line travel.

    ``graphs`` are the road graphs the matrices come from, per profile (vehicle profiles, and
    ``walk`` where lockers stand), so routes can be drawn on the very roads they were timed
    on; empty for straight-line travel."""

    places: DayPlaces
    durations: dict[str, np.ndarray]
    distances: dict[str, np.ndarray]
    walk_m: np.ndarray
    source: str
    unreachable: dict[str, int] = field(default_factory=dict)
    access_m: dict[str, np.ndarray] = field(default_factory=dict)
    graphs: dict[str, nx.MultiDiGraph] = field(default_factory=dict)

    def cut(self, profile: str, index: np.ndarray) -> TravelMatrices:
        """The matrices of ``profile`` between the given places only."""
        grid = np.ix_(index, index)
        access = self.access_m.get(profile)
        return TravelMatrices(
            durations=self.durations[profile][grid],
            distances=self.distances[profile][grid],
            access_m=None if access is None else tuple(access[index].tolist()),
        )


def _vehicle_profiles(day: Day) -> list[str]:
    """The road profiles the day's fleets and line hauls drive on."""
    types = day.known_vehicle_types()
    entries = [e for f in day.firms for e in f.fleet] + [e for c in day.centres for e in c.fleet]
    hauls = [day.transfer_of(f) for f in day.firm_ids()]
    names = [e.type for e in entries] + [h.type for h in hauls if h is not None]
    return sorted({types[name].profile for name in names})


def road_profiles(day: Day) -> list[str]:
    """The road graphs the day's matrices need: its vehicles' profiles, and ``walk`` where
    lockers stand (recipients walk to them)."""
    walk = ["walk"] if day.lockers and day.parcels else []
    return sorted({*_vehicle_profiles(day), *walk})


def day_travel(
    day: Day,
    *,
    graphs: Mapping[str, nx.MultiDiGraph] | None = None,
    cache_dir: str | Path | None = None,
) -> DayTravel:
    """Compute the day's matrices once: from road graphs, or straight lines when asked for.

    ``graphs`` maps a profile ("van", "e-tricycle", "walk") to a graph already built; the
    missing ones are built from ``day.travel.source`` (cached under ``cache_dir``).

    From road graphs (``network.graph.build_graph`` per vehicle profile, ``network.matrix``) or,
    only when the day asks for it, straight lines (``routing.travel``: haversine distance times a
    circuity factor at a fixed speed). On road graphs a leg's time includes the courier's walk
    between the road and each parcel's door or locker (not at depots and centres, where the
    vehicles park). Walking distances from recipients to lockers come from the walk graph, or
    from straight lines in the straight-line mode.
    """
    places = day_places(day)
    parcels = [p.at.pair() for p in day.parcels]
    lockers = [lk.at.pair() for lk in day.lockers]
    radius = day.travel.walk_radius_m
    if day.travel.straight_line:
        road = _straight(places.points, day)
        seconds, metres = np.asarray(road.durations), np.asarray(road.distances)
        walk = np.array(_straight(parcels + lockers, day).distances[: len(parcels), len(parcels) :])
        walk[walk > radius] = np.inf
        source = (
            f"straight lines x {day.travel.circuity} at {day.travel.speed_kmh} km/h "
            "(asked for by the day)"
        )
        profiles = _vehicle_profiles(day)
        return DayTravel(
            places,
            dict.fromkeys(profiles, seconds),
            dict.fromkeys(profiles, metres),
            walk,
            source,
        )

    built = dict(graphs or {})

    def graph(profile: str) -> nx.MultiDiGraph:
        if profile not in built:
            built[profile] = build_graph(day.travel.source, profile=profile, cache_dir=cache_dir)
        return built[profile]

    durations, distances, unreachable, access = {}, {}, {}, {}
    parked = [*places.depot.values(), *places.centre.values()]  # vehicles start and end there
    for profile in _vehicle_profiles(day):
        matrix = travel_matrix(graph(profile), places.points, labels=places.names)
        access[profile] = access_metres(matrix.snap_m, parked)
        durations[profile] = with_access_walk(
            matrix.duration_s, access[profile], places.points
        )
        distances[profile] = np.asarray(matrix.distance_m, dtype=np.float64)
        unreachable[profile] = len(matrix.unreachable)
    walk = np.full((len(parcels), len(lockers)), np.inf)
    if parcels and lockers:
        within = distances_within(
            graph("walk"), parcels, lockers, limit_m=radius, access=True
        ).tocoo()
        walk[within.row, within.col] = within.data
    return DayTravel(
        places,
        durations,
        distances,
        walk,
        f"road graph {day.travel.source}",
        unreachable,
        access,
        built,
    )


def _straight(points: list[tuple[float, float]], day: Day) -> TravelMatrices:
    """Straight-line matrices between (lat, lon) points at the day's speed and circuity."""
    locations = [Location(lat=lat, lon=lon) for lat, lon in points]
    return straight_line_matrices(
        locations, speed_kmh=day.travel.speed_kmh, circuity=day.travel.circuity
    )
