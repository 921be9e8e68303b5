"""Input hygiene of the network layer: JSON that is not JSON in a polygon file, a swapped
bounding box, and ways whose one-way direction changes during the day."""

from __future__ import annotations

from pathlib import Path

import pytest

from network.areas import read_polygon
from network.errors import AreaError

SQUARE = "[[120.3, 36.0], [120.4, 36.0], [120.4, 36.1], [120.3, 36.1], [120.3, 36.0]]"


@pytest.mark.parametrize(
    ("corner", "token"),
    [("NaN", "NaN"), ("Infinity", "Infinity"), ("-Infinity", "-Infinity"), ("1e999", "1e999")],
)
def test_a_polygon_file_refuses_a_coordinate_that_is_not_json_naming_it(
    tmp_path: Path, corner: str, token: str
) -> None:
    """Python's json read these as nan/inf, and shapely then failed with a raw GEOSException
    (or made an empty polygon) instead of naming the coordinate."""
    ring = SQUARE.replace("[120.4, 36.1]", f"[120.4, {corner}]")
    path = tmp_path / "area.geojson"
    geometry = f'{{"type": "Polygon", "coordinates": [{ring}]}}'
    feature = f'{{"type": "Feature", "properties": {{}}, "geometry": {geometry}}}'
    path.write_text(f'{{"type": "FeatureCollection", "features": [{feature}]}}')
    where = "features[0].geometry.coordinates[0][2][1]"
    with pytest.raises(AreaError) as info:
        read_polygon(path)
    assert str(info.value) == (
        f"polygon file '{path}': {where}: must be a finite number (NaN and Infinity are not "
        f"JSON), got {token}"
    )


def test_a_polygon_file_with_nan_only_in_its_properties_still_reads(tmp_path: Path) -> None:
    """Properties are not the area: a NaN there (pandas writes them) does not refuse it."""
    path = tmp_path / "area.geojson"
    geometry = f'{{"type": "Polygon", "coordinates": [{SQUARE}]}}'
    path.write_text(
        f'{{"type": "Feature", "properties": {{"name": "a", "pop": NaN}}, "geometry": {geometry}}}'
    )
    assert read_polygon(path, "a").bounds == pytest.approx((120.3, 36.0, 120.4, 36.1))


def test_a_polygon_file_refuses_an_integer_too_large_for_a_float(tmp_path: Path) -> None:
    """An integer of 400 digits is JSON, but no coordinate: it was a raw OverflowError."""
    path = tmp_path / "area.geojson"
    ring = SQUARE.replace("[120.4, 36.1]", f"[120.4, 1{'0' * 400}]")
    path.write_text(f'{{"type": "Polygon", "coordinates": [{ring}]}}')
    with pytest.raises(AreaError, match=r"geometry: not a valid GeoJSON geometry \(Overflow"):
        read_polygon(path)


# ---------------------------------------------------------------- a swapped bounding box

#: Helsinki's demo area as (W, S, E, N), then mistaken orders of it. A box given as (S, W,
#: N, E) is told only where a longitude is beyond +-90 (Qingdao's, 120.38, is): Helsinki's
#: (60.165, 24.940, ...) is a valid box of the Arabian Sea, with no building of the file.
DEMO_BOX = (24.940, 60.165, 24.948, 60.172)
LAT_LON_SWAPPED = (36.06, 120.38, 36.07, 120.39)
NORTH_SOUTH_SWAPPED = (24.940, 60.172, 24.948, 60.165)
EAST_WEST_SWAPPED = (24.948, 60.165, 24.940, 60.172)
LATITUDES = r"south .* and north .* must be latitudes with S<N, within -90..90 \(latitude"
LONGITUDES = r"west 24.948 and east 24.94 must be longitudes with W<E"


@pytest.mark.parametrize(
    ("bbox", "message"),
    [(LAT_LON_SWAPPED, LATITUDES), (NORTH_SOUTH_SWAPPED, LATITUDES),
     (EAST_WEST_SWAPPED, LONGITUDES)],
)  # fmt: skip
def test_buildings_refuse_a_swapped_bbox_naming_it(bbox: tuple, message: str) -> None:
    """A box given as (S, W, N, E) read no building at all: an empty frame, which the siting
    reported as "the map holds no building footprints in the bbox"."""
    from network.buildings import read_buildings

    assert len(read_buildings("demo", bbox=DEMO_BOX)) > 0
    with pytest.raises(AreaError, match=rf"^bbox \({', '.join(map(str, bbox))}\) is W,S,E,N: "):
        read_buildings("demo", bbox=bbox)
    with pytest.raises(AreaError, match=message):
        read_buildings("demo", bbox=bbox)


def test_a_box_across_longitude_180_is_refused_saying_so() -> None:
    from network.areas import checked_bbox

    with pytest.raises(AreaError, match=r"W<E, within -180..180 \(a box across longitude 180"):
        checked_bbox((177.0, -19.0, -178.0, -16.0))  # Fiji
    with pytest.raises(AreaError, match=r"W<E, within -180..180$"):
        checked_bbox(EAST_WEST_SWAPPED)


def test_a_download_refuses_a_swapped_bbox_before_asking_overpass(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """`build_graph_online` handed the box to osmnx as given: a query for the wrong place."""
    import osmnx as ox

    from network.graph import build_graph_online

    def asked(*args: object, **kwargs: object) -> None:
        raise AssertionError(f"Overpass was asked for {args}")

    monkeypatch.setattr(ox, "graph_from_bbox", asked)
    with pytest.raises(AreaError, match=LATITUDES):
        build_graph_online(bbox=LAT_LON_SWAPPED)


# ------------------------------------------------- one-way roads whose direction changes

def _spur_map(folder: Path, oneway: str) -> Path:
    """A two-way residential loop (nodes 1-4, 100 m a side) and node 5 beyond a one-lane
    bridge from node 2 tagged `oneway=<oneway>`: the only road to node 5."""
    corners = {1: (31.000, 121.000), 2: (31.000, 121.001), 3: (31.001, 121.001),
               4: (31.001, 121.000), 5: (31.000, 121.002)}  # fmt: skip
    nodes = "".join(f'<node id="{i}" lat="{y}" lon="{x}"/>' for i, (y, x) in corners.items())
    loop = '<way id="10"><nd ref="1"/><nd ref="2"/><nd ref="3"/><nd ref="4"/><nd ref="1"/>'
    loop += '<tag k="highway" v="residential"/></way>'
    bridge = '<way id="11"><nd ref="2"/><nd ref="5"/><tag k="highway" v="residential"/>'
    bridge += f'<tag k="bridge" v="yes"/><tag k="oneway" v="{oneway}"/></way>'
    path = folder / "map.osm"
    path.write_text(f'<?xml version="1.0"?>\n<osm version="0.6">{nodes}{loop}{bridge}</osm>\n')
    return path


@pytest.mark.parametrize("profile", ["van", "e-tricycle"])
@pytest.mark.parametrize("value", ["alternating", "Alternating"])
def test_an_alternating_one_lane_bridge_is_driven_both_ways(
    tmp_path: Path, profile: str, value: str
) -> None:
    """`oneway=alternating` (one lane taken in turns) was closed to vehicles, which cut node
    5 off the van's graph; both directions hold all day, so it is two-way (as in osmnx)."""
    from network.graph import build_graph

    graph = build_graph(_spur_map(tmp_path, value), profile=profile)
    assert graph.has_edge(2, 5) and graph.has_edge(5, 2)


def test_a_reversible_road_stays_closed_to_vehicles_and_open_to_walkers(tmp_path: Path) -> None:
    """`oneway=reversible` changes direction by the hour, which the file does not time: kept
    off the vehicles' graphs (as OSRM's car profile does), walked both ways."""
    from network.graph import build_graph

    path = _spur_map(tmp_path, "reversible")
    assert 5 not in build_graph(path, profile="van")
    walk = build_graph(path, profile="walk")
    assert walk.has_edge(2, 5) and walk.has_edge(5, 2)
