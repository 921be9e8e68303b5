"""The scenario's map: which source to build, the graphs per profile, places on it, road layer."""

import json
from dataclasses import dataclass
from pathlib import Path

import networkx as nx
import numpy as np
import shapely
import shapely.geometry
from shapely.geometry.base import BaseGeometry

from api.scenario.errors import ScenarioError
from api.scenario.load import LoadedScenario
from api.scenario.schema import Place
from network.datum import DEFAULT_DATUM, lonlat_to_wgs84
from network.errors import OsmFileError
from network.sources import is_builtin


def map_source(loaded: LoadedScenario, map_file: Path | None) -> str:
    """What ``build_graph`` gets: ``--map FILE`` when given, else the scenario's own source.

    A real-site scenario leaves ``map.source`` out; without ``--map`` it fails here, before any
    work, with the scenario's ``needs`` text saying which extract to supply.
    """
    if map_file is not None:
        if not Path(map_file).is_file():
            raise ScenarioError([f"--map {map_file}: file not found"])
        return _osm_file(Path(map_file).resolve(), f"--map {map_file}")
    source = loaded.spec.map.source
    if source is None:
        needs = loaded.spec.map.needs or "an OSM extract of the scenario's area"
        raise ScenarioError(
            [f"{loaded.lines.where('map')}: this scenario needs --map FILE: {needs}"]
        )
    if is_builtin(source):
        return source
    return _osm_file(
        loaded.path(Path(source), "map", "source"), loaded.lines.where("map", "source")
    )


def _osm_file(path: Path, where: str) -> str:
    """A map file the graph builder can read by its name (.osm, .osm.pbf, ...): otherwise the
    run would only find out after the scenario's checks, at its first stage."""
    from network.graph import check_osm_file

    try:
        check_osm_file(path)
    except OsmFileError as err:
        raise ScenarioError([f"{where}: {err}"]) from None
    return str(path)


def map_polygon(loaded: LoadedScenario) -> BaseGeometry | None:
    """The scenario's clip polygon (lon/lat, WGS 84), from a ring (converted by the loader) or
    a named GeoJSON feature (in the scenario's datum, converted here)."""
    polygon = loaded.spec.map.polygon
    if polygon is None:
        return None
    if isinstance(polygon, list):
        shape = shapely.Polygon(polygon)
    else:
        path = loaded.path(polygon.file, "map", "polygon", "file")
        try:
            features = json.loads(path.read_text(encoding="utf-8"))["features"]
        except (ValueError, KeyError, TypeError) as err:
            raise loaded.fail(
                f"{path} is not a GeoJSON FeatureCollection ({err})", "map", "polygon", "file"
            ) from None
        found = [
            f for f in features if (f.get("properties") or {}).get(polygon.property) == polygon.name
        ]
        if not found:
            raise loaded.fail(
                f"no feature of {path.name} has {polygon.property} = '{polygon.name}'",
                "map",
                "polygon",
                "name",
            )
        shape = shapely.geometry.shape(found[0]["geometry"])
        if loaded.spec.datum != DEFAULT_DATUM:
            shape = shapely.transform(shape, lambda xy: lonlat_to_wgs84(loaded.spec.datum, xy))
    if not shape.is_valid or shape.area == 0:
        raise loaded.fail(
            "the polygon is not a valid area (self-crossing or empty)", "map", "polygon"
        )
    return shape


@dataclass(frozen=True)
class MapGraphs:
    """The road graph of each travel profile (vehicle profiles and ``walk``) and their extent."""

    graphs: dict[str, nx.MultiDiGraph]
    vehicle_profile: str

    @property
    def drive(self) -> nx.MultiDiGraph:
        return self.graphs[self.vehicle_profile]

    def extent(self) -> tuple[float, float, float, float]:
        """West, south, east, north of the vehicle graph's nodes."""
        xs = np.array([d["x"] for _, d in self.drive.nodes(data=True)])
        ys = np.array([d["y"] for _, d in self.drive.nodes(data=True)])
        return float(xs.min()), float(ys.min()), float(xs.max()), float(ys.max())

    def place(self, place: Place) -> tuple[float, float]:
        """(lat, lon) of a place; ``rel`` places go to the road node nearest that fraction of the
        extent, so they always sit on the network whatever map the scenario runs on."""
        if place.rel is None:
            return float(place.lat), float(place.lon)
        west, south, east, north = self.extent()
        lon = west + place.rel[0] * (east - west)
        lat = south + place.rel[1] * (north - south)
        nodes = list(self.drive.nodes(data=True))
        xs = np.array([d["x"] for _, d in nodes])
        ys = np.array([d["y"] for _, d in nodes])
        k = int(np.argmin((xs - lon) ** 2 * np.cos(np.radians(lat)) ** 2 + (ys - lat) ** 2))
        return float(ys[k]), float(xs[k])


def road_features(graph: nx.MultiDiGraph) -> list[dict]:
    """The graph's streets as GeoJSON lines (each street once, whatever its directions).

    A segment of no length is left out: OSM files hold two nodes of a way at one spot (the
    campus extract's way 138684426), whose 0 m edge would be a line of two equal points, which
    GIS readers refuse as invalid (shapely: "Too few points"); so is one shorter than the
    ~0.1 m the positions are rounded to."""
    seen: set[tuple[int, int]] = set()
    features = []
    for u, v, data in graph.edges(data=True):
        key = (min(u, v), max(u, v))
        if key in seen:
            continue
        seen.add(key)
        geometry = data.get("geometry")
        if geometry is not None:
            points = list(geometry.coords)
        else:
            points = [(graph.nodes[n]["x"], graph.nodes[n]["y"]) for n in (u, v)]
        rounded = [[round(x, 6), round(y, 6)] for x, y in points]
        coords = [c for k, c in enumerate(rounded) if k == 0 or c != rounded[k - 1]]
        if len(coords) < 2:
            continue
        features.append(
            {
                "type": "Feature",
                "properties": {"highway": str(data.get("highway"))},
                "geometry": {"type": "LineString", "coordinates": coords},
            }
        )
    return features
