"""Travel times and distances for a problem's locations: from road graphs, or straight lines.

A problem always carries explicit matrices. For real coordinates they come from `network/`
(`network.matrix.travel_matrix` on a road graph per travel profile). The straight-line estimate
(haversine distance times a circuity factor, at a constant speed) is only ever used when the
caller asks for it by name: it is a rough fallback, not a silent default. Road-network legs are
timed door to door: the courier walks between the road, where the vehicle parks, and each stop
off it (`with_access_walk`); the distances stay what the vehicle drives.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Collection, Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from network.geo import haversine_m
from network.sources import built_folder, is_builtin
from routing.model import Location, Problem, ProblemError, TravelMatrices

if TYPE_CHECKING:
    from routing.solution import Route

#: Draws a route's legs given its stops' [lon, lat] (see `routing.solution.Solution.to_geojson`).
LineDrawer = Callable[[list[list[float]], "Route"], list[list[float]]]

DEFAULT_SPEED_KMH = {"van": 25.0, "e-tricycle": 15.0, "walk": 4.5}
#: The courier's pace (km/h) between the parked vehicle and a door off its roads; see
#: `with_access_walk`.
ACCESS_WALK_KMH = DEFAULT_SPEED_KMH["walk"]
DEFAULT_CIRCUITY = 1.3
# roads seldom run more than twice the straight line; past 5 it is a typo (1e10 made entries
# beyond what the engines hold, refused as "durations", a field the caller never sent)
MAX_CIRCUITY = 5.0


def _unplaced(locations: Sequence[Location], labels: Sequence[str] | None) -> dict[int, str]:
    """Why each location without coordinates has no travel (by index, one line naming it as
    `network.snap` names a point off the map). Like a point off the map it is unreachable, and
    a problem refuses it only where a centre or a task stands (`routing.model`): a spare one,
    in a firm's list of addresses but visited by nothing, failed the whole day."""
    return {
        i: f"point {_named(i, labels)}: no coordinates (lat/lon), so no travel can be timed "
        "to it; give them, or explicit matrices"
        for i, loc in enumerate(locations)
        if not loc.known
    }


def _named(i: int, labels: Sequence[str] | None) -> str:
    return f"'{labels[i]}'" if labels is not None else str(i)


def _point(location: Location) -> tuple[float, float]:
    return float(location.lat), float(location.lon)  # type: ignore[arg-type]


def straight_line_matrices(
    locations: Sequence[Location],
    *,
    speed_kmh: float,
    circuity: float = DEFAULT_CIRCUITY,
    labels: Sequence[str] | None = None,
) -> TravelMatrices:
    """Haversine distance x circuity (m) and that distance at `speed_kmh` (s), between all pairs
    of located locations; one without coordinates is unreachable (`_unplaced`; ``labels``
    name what stands there, as for `network_matrices`)."""
    if speed_kmh <= 0:
        raise ProblemError(f"travel: speed_kmh must be positive, got {speed_kmh}")
    if not 1 <= circuity <= MAX_CIRCUITY:
        raise ProblemError(f"travel: circuity must be 1-{MAX_CIRCUITY:g}, got {circuity}")
    unplaced = _unplaced(locations, labels)
    kept = [i for i in range(len(locations)) if i not in unplaced]
    pts = np.array([_point(locations[i]) for i in kept], dtype=np.float64).reshape(-1, 2)
    lat, lon = pts[:, 0], pts[:, 1]
    metres = haversine_m(lat[:, None], lon[:, None], lat[None, :], lon[None, :]) * circuity
    seconds = metres / (speed_kmh / 3.6)
    return TravelMatrices.on_roads(
        unplaced,
        durations=_spread(np.round(seconds, 1), kept, len(locations)),
        distances=_spread(np.round(metres, 1), kept, len(locations)),
    )


def network_matrices(
    graph: Any,
    locations: Sequence[Location],
    labels: Sequence[str] | None = None,
    *,
    parked: Collection[int] = (),
    **options: Any,
) -> TravelMatrices:
    """Road-network travel between the locations on one profile's graph (see network.matrix),
    each leg timed door to door (`with_access_walk`; `parked` are the location indices where
    vehicles start or end). `labels` name what stands at each location (`job '777'`, `centre
    'hub'`), so that a location off the map is refused by that name, not by its place in the
    internal list.

    Locations the roads cannot take (off the map, too far from a road, or without coordinates)
    are not refused here: they are unreachable, with why in the result's `off_map`, and the
    problem refuses those a centre or a task stands at, all at once (`routing.model`). A spare
    address in a firm's list of locations, which nothing visits, failed the whole day."""
    from network.matrix import travel_matrix
    from network.snap import PointsOffMap

    n = len(locations)
    off_map = _unplaced(locations, labels)
    kept = [i for i in range(n) if i not in off_map]

    def timed(kept: list[int]) -> Any:
        points = [_point(locations[i]) for i in kept]
        named = None if labels is None else [labels[i] for i in kept]
        return travel_matrix(graph, points, labels=named, **options)

    try:
        result = timed(kept)
    except PointsOffMap as err:
        off_map |= {kept[i]: why for i, why in err.reasons.items()}
        kept = [i for i in kept if i not in off_map]
        result = timed(kept)
    snap_m = np.zeros(n)
    snap_m[kept] = result.snap_m
    access = access_metres(snap_m, parked)
    door_to_door = with_access_walk(
        result.duration_s, access[kept], [_point(locations[i]) for i in kept]
    )
    return TravelMatrices.on_roads(
        off_map,
        durations=_spread(door_to_door, kept, n),
        distances=_spread(result.distance_m, kept, n),
        access_m=tuple(access.tolist()),
    )


def _spread(part: np.ndarray, kept: Sequence[int], n: int) -> np.ndarray:
    """An n x n matrix holding ``part``, the matrix between the locations ``kept``: the others
    are unreachable (inf), but from themselves. ``part`` itself where all are kept (a copy of
    3,000 x 3,000 is 72 MB)."""
    if len(kept) == n:
        return part
    full = np.full((n, n), np.inf)
    np.fill_diagonal(full, 0.0)
    full[np.ix_(kept, kept)] = part
    return full


def access_metres(snap_m: np.ndarray, parked: Collection[int]) -> np.ndarray:
    """How far the courier walks from the parked vehicle to each location, each way: its
    distance from the road (``snap_m``), except where vehicles start or end (``parked``
    indices), which they park at."""
    access = np.array(snap_m, dtype=np.float64)
    access[list(parked)] = 0.0
    return access


def with_access_walk(
    durations: np.ndarray, access_m: np.ndarray, points: Sequence[tuple[float, float]]
) -> np.ndarray:
    """Road durations (snap spot to snap spot) made door to door: a leg i -> j also takes the
    walk back from door i to the vehicle and the walk from it to door j, at `ACCESS_WALK_KMH`.
    A stop off the road is parked beside, not driven to, so the walk is the courier's time,
    in every ETA, shift and hourly cost; a route's distance stays what the vehicle drives.
    Locations at one (lat, lon) ``points`` position are one door: between them no walk (two
    parcels for one door, each its own location in a pooling day, were timed as two walks).
    Unreachable stays inf."""
    road = np.asarray(durations, dtype=np.float64)
    walk_s = np.asarray(access_m, dtype=np.float64) / (ACCESS_WALK_KMH / 3.6)
    out = road + walk_s[:, None] + walk_s[None, :]
    door = same_place(points)
    out[door] = road[door]
    return out


def same_place(points: Sequence[tuple[float, float]]) -> np.ndarray:
    """n x n: whether locations i and j stand at one (lat, lon) position (the diagonal too)."""
    _, place = np.unique(np.asarray(points, dtype=np.float64).reshape(-1, 2), axis=0,
                         return_inverse=True)  # fmt: skip
    place = place.ravel()
    return place[:, None] == place[None, :]


def road_graphs(
    profiles: Sequence[str],
    *,
    travel: Mapping[str, Any] | None = None,
    network: str | None = None,
    cache_dir: str | None = None,
) -> dict[str, Any] | None:
    """The road graph of each profile that `matrices_for` times travel on (the same arguments),
    or None when travel does not come from a road network. Graphs are kept per process, so a job
    worker builds a map's graph once and draws its routes on the very roads they were timed on."""
    travel = travel or {}
    if network is None and travel.get("source") != "network":
        return None
    osm = network if network is not None else travel.get("osm")
    if not osm:
        raise ProblemError("travel: 'network' source needs 'osm' (an OSM file or 'demo')")
    stamp = _stamp(osm)
    if built_folder(osm) is not None:  # a folder of `gongpei network build`: its graph for all
        from network.store import source_profiles

        (built_for,) = source_profiles(osm)
        other = sorted(set(profiles) - {built_for})
        if other:  # a van timed on a tricycle graph would be silently wrong
            raise ProblemError(
                f"travel: network folder '{osm}' was built for profile '{built_for}', but "
                f"vehicles use {other}: pass the OSM file instead, or a folder per profile"
            )
        return {built_for: _graph(osm, None, None, stamp)}
    return {profile: _graph(osm, profile, cache_dir, stamp) for profile in profiles}


def road_line(
    problem: Problem,
    *,
    network: str | None = None,
    travel: Mapping[str, Any] | None = None,
    cache_dir: str | None = None,
) -> LineDrawer | None:
    """How to draw a route's legs along the roads its travel was timed on, or None (straight
    legs) when travel did not come from a road network. The arguments are those the problem's
    matrices were computed with (`matrices_for`), so the graphs are the ones it
    keeps per process: the API's batches and `gongpei solve --network` draw the same roads."""
    profiles = sorted({v.profile for v in problem.vehicles})
    graphs = road_graphs(profiles, travel=travel, network=network, cache_dir=cache_dir)
    if graphs is None:
        return None
    from network.paths import RoadLines

    drawers = {profile: RoadLines(graph) for profile, graph in graphs.items()}

    def line(stops: list[list[float]], route: Route) -> list[list[float]]:
        return drawers[problem.vehicle(route.vehicle).profile].along(stops)

    return line


@functools.lru_cache(maxsize=4)  # a map and its profiles: van, e-tricycle, walk
def _graph(osm: str, profile: str | None, cache_dir: str | None, stamp: int) -> Any:
    """One road graph: a `gongpei network build` folder (``profile`` None) or built from OSM."""
    if profile is None:
        from network.store import load_graph_dir

        return load_graph_dir(osm)
    from network.graph import build_graph

    return build_graph(osm, profile=profile, cache_dir=cache_dir)


def _stamp(osm: str) -> int:
    """The source's modification time (0 for 'demo' and 'synthetic:N'): a changed file is
    read again rather than served from the process's graphs."""
    path = Path(osm)
    return path.stat().st_mtime_ns if not is_builtin(osm) and path.exists() else 0


def matrices_for(
    locations: Sequence[Location],
    profiles: Sequence[str],
    *,
    travel: Mapping[str, Any] | None = None,
    network: str | None = None,
    cache_dir: str | None = None,
    labels: Sequence[str] | None = None,
    parked: Collection[int] = (),
) -> dict[str, TravelMatrices]:
    """Matrices for each profile from a road network source, or straight lines when asked.

    `network` (an OSM file, "demo", "synthetic:N", or a folder written by `gongpei network
    build`, usable only when every vehicle has that folder's profile) wins; otherwise `travel`
    must say {"source": "straight_line", "speed_kmh": 25 or {profile: kmh}, "circuity": 1.3}
    or {"source": "network", "osm": SOURCE}. `labels` (one per location, see
    `network_matrices`) name a location too far from the roads. Road-network legs are timed
    door to door, with the courier's walk between the road and each location except the
    ``parked`` ones, where vehicles start or end (`with_access_walk`); straight lines are not.
    """
    travel = dict(travel or {})
    graphs = road_graphs(profiles, travel=travel, network=network, cache_dir=cache_dir)
    if graphs is not None:
        return {
            profile: network_matrices(graph, locations, labels, parked=parked)
            for profile, graph in graphs.items()
        }
    source = travel.get("source")
    if source == "straight_line":
        speeds = travel.get("speed_kmh", DEFAULT_SPEED_KMH)
        circuity = float(travel.get("circuity", DEFAULT_CIRCUITY))
        out = {}
        for profile in profiles:
            speed = speeds.get(profile) if isinstance(speeds, Mapping) else speeds
            if speed is None:
                raise ProblemError(
                    f"travel: speed_kmh: no speed for profile '{profile}'",
                    loc=("travel", "speed_kmh"),
                )
            out[profile] = straight_line_matrices(
                locations, speed_kmh=float(speed), circuity=circuity, labels=labels
            )
        return out
    raise ProblemError(
        "matrices: missing; give travel matrices, a road network (--network OSM_FILE), or ask "
        'for the straight-line estimate explicitly with "travel": {"source": "straight_line"}'
    )
