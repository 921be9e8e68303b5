"""A scenario's top-level `datum`: every coordinate of the file (places, bbox, polygon) and of
the files it names (demand, candidates, parcels, polygon GeoJSON) is read as WGS 84."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from api.scenario import demand as demand_mod
from api.scenario import sites
from api.scenario.errors import ScenarioError
from api.scenario.load import LoadedScenario, load_scenario
from api.scenario.mapdata import map_polygon
from network.datum import from_wgs84

#: Around Xinjiekou, Nanjing, in WGS 84 (lat, lon): depot, centre, standing locker, then the
#: points of the files (demand, candidate sites, parcels).
DEPOT, CENTRE, LOCKER = (32.0438, 118.7789), (32.0470, 118.7850), (32.0400, 118.7720)
FILE_POINTS = [(32.0452, 118.7801), (32.0419, 118.7833), (32.0466, 118.7762)]
BBOX = (118.770, 32.030, 118.795, 32.055)  # W, S, E, N
RING = [(118.770, 32.030), (118.795, 32.032), (118.790, 32.055)]  # [lon, lat]


def _in(datum: str, lat: float, lon: float) -> tuple[float, float]:
    return from_wgs84(datum, lat, lon)


def write_scenario(folder: Path, given: str, area: str = "bbox", *, named: bool = True) -> Path:
    """The scenario and its files, each coordinate given in the datum ``given``, which the
    file names unless not ``named`` (then it is read as WGS 84)."""
    folder.mkdir(parents=True, exist_ok=True)
    points = [_in(given, *p) for p in FILE_POINTS]
    (folder / "demand.csv").write_text(
        "id,lat,lon,parcels\n" + "".join(f"d{k},{a!r},{o!r},5\n" for k, (a, o) in enumerate(points))
    )
    (folder / "sites.csv").write_text(
        "id,lat,lon\n" + "".join(f"s{k},{a!r},{o!r}\n" for k, (a, o) in enumerate(points))
    )
    (folder / "parcels.csv").write_text(
        "id,lat,lon\n" + "".join(f"p{k},{a!r},{o!r}\n" for k, (a, o) in enumerate(points))
    )
    ring = [_in(given, lat, lon)[::-1] for lon, lat in RING]
    (folder / "area.geojson").write_text(json.dumps({
        "type": "FeatureCollection",
        "features": [{"type": "Feature", "properties": {"name": "cbd"}, "geometry": {
            "type": "Polygon", "coordinates": [[*map(list, ring), list(ring[0])]]}}],
    }))
    s, w = _in(given, BBOX[1], BBOX[0])
    n, e = _in(given, BBOX[3], BBOX[2])
    areas = {
        "bbox": f"bbox: [{w!r}, {s!r}, {e!r}, {n!r}]",
        "ring": "polygon: [" + ", ".join(f"[{o!r}, {a!r}]" for o, a in ring) + "]",
        "file": "polygon: {file: area.geojson, name: cbd}",
    }

    def at(point: tuple[float, float]) -> str:
        lat, lon = _in(given, *point)
        return f"{{lat: {lat!r}, lon: {lon!r}}}"

    head = f"datum: {given}\n" if named else ""
    path = folder / "s.yaml"
    path.write_text(
        f"name: twin\n{head}map:\n  source: demo\n  {areas[area]}\n"
        "demand: {source: file, file: demand.csv}\n"
        f"lockers:\n  existing: [{{id: L1, at: {at(LOCKER)}, compartments: {{S: 10}}}}]\n"
        "  candidates: {file: sites.csv}\n"
        f"firms:\n  - name: f1\n    depot: {at(DEPOT)}\n    fleet: [{{count: 1}}]\n"
        "    parcels: {file: parcels.csv}\n"
        f"centres:\n  - id: c1\n    at: {at(CENTRE)}\n    fleet: [{{count: 1}}]\n"
    )
    return path


def coordinates(loaded: LoadedScenario) -> np.ndarray:
    """Every coordinate the scenario's readers hand on, (lat, lon) rows."""
    spec, folder = loaded.spec, loaded.file.parent
    rows = [(p.lat, p.lon) for p in (spec.firms[0].depot, spec.centres[0].at)]
    rows += [(lk.at.lat, lk.at.lon) for lk in spec.lockers.existing]
    found = demand_mod.read_demand_file(folder / "demand.csv", {"S": 1}, "d", datum=spec.datum)
    rows += list(zip(found.lat, found.lon, strict=True))
    rows += [
        (s.lat, s.lon)
        for s in sites.sites_from_file(folder / "sites.csv", spec.lockers, "s", datum=spec.datum)
    ]
    parcels = demand_mod.read_parcels_file(
        "f1", folder / "parcels.csv", spec.firms[0].parcels, "p", datum=spec.datum
    )
    rows += [(p.lat, p.lon) for p in parcels]
    polygon = map_polygon(loaded)
    if polygon is not None:
        rows += [(lat, lon) for lon, lat in polygon.exterior.coords]
    return np.array(rows, dtype=float)


@pytest.mark.parametrize("datum", ["gcj02", "bd09"])
@pytest.mark.parametrize("area", ["bbox", "ring", "file"])
def test_a_scenario_in_a_chinese_datum_reads_as_its_wgs84_twin(
    tmp_path: Path, datum: str, area: str
) -> None:
    """Every coordinate comes out as in the WGS 84 twin (within a centimetre); read as WGS 84
    they are hundreds of metres off. Before, `datum` was refused as an unknown key."""
    plain = coordinates(load_scenario(write_scenario(tmp_path / "wgs84", "wgs84", area)))
    loaded = load_scenario(write_scenario(tmp_path / datum, datum, area))
    assert loaded.spec.datum == datum
    assert coordinates(loaded) == pytest.approx(plain, abs=1e-7)
    unconverted = load_scenario(write_scenario(tmp_path / "raw", datum, area, named=False))
    assert np.abs(coordinates(unconverted) - plain).max() > 2e-3


@pytest.mark.parametrize("datum", ["gcj02", "bd09"])
def test_the_bbox_is_the_box_around_its_converted_corners(tmp_path: Path, datum: str) -> None:
    """BD-09 turns the box a little: the box around its corners holds the WGS 84 one, within
    ~30 m of it; GCJ-02 barely turns it."""
    w, s, e, n = load_scenario(write_scenario(tmp_path, datum)).spec.map.bbox
    cm = 1e-7  # the inverse's precision
    assert w <= BBOX[0] + cm and s <= BBOX[1] + cm and e >= BBOX[2] - cm and n >= BBOX[3] - cm
    assert (w, s, e, n) == pytest.approx(BBOX, abs=3e-4 if datum == "bd09" else 1e-5)


def test_a_bad_datum_names_its_line_and_the_one_meant(tmp_path: Path) -> None:
    path = write_scenario(tmp_path, "gcj02")
    path.write_text(path.read_text().replace("datum: gcj02", "datum: gcj-2"))
    with pytest.raises(ScenarioError) as err:
        load_scenario(path)
    (problem,) = err.value.problems
    assert problem.startswith(f"{path}:2: datum: 'gcj-2' is not a datum")
    assert "did you mean 'gcj02'?" in problem


def test_wgs84_is_the_default(tmp_path: Path) -> None:
    named = coordinates(load_scenario(write_scenario(tmp_path / "a", "wgs84")))
    plain = coordinates(load_scenario(write_scenario(tmp_path / "b", "wgs84", named=False)))
    assert named.tolist() == plain.tolist()


@pytest.mark.shared
def test_gcj02_points_snap_to_the_wgs84_roads_on_the_nanjing_extract(
    shared_dir: Path, tmp_path: Path
) -> None:
    """On the real Xinjiekou extract (OSM, WGS 84), the GCJ-02 twin's points meet the same road
    segments at the same spots as the WGS 84 scenario's; read as WGS 84 they meet others."""
    from network.graph import build_graph
    from network.snap import snap_points

    graph = build_graph(
        str(shared_dir / "data" / "osm" / "nanjing_xinjiekou_cbd.osm"),
        profile="walk",
        bbox=BBOX,
        cache_dir=str(tmp_path / "cache"),
    )

    def snapped(given: str, name: str, named: bool = True) -> list[tuple]:
        path = write_scenario(tmp_path / name, given, named=named)
        found = snap_points(graph, coordinates(load_scenario(path)).tolist())
        return [(s.u, s.v, s.lat, s.lon) for s in found]

    plain = snapped("wgs84", "wgs84")
    for got, want in zip(snapped("gcj02", "gcj02"), plain, strict=True):
        assert got[:2] == want[:2] and got[2:] == pytest.approx(want[2:], abs=1e-6)
    raw = snapped("gcj02", "raw", named=False)
    assert sum(a[:2] != b[:2] for a, b in zip(raw, plain, strict=True)) >= len(plain) // 2
