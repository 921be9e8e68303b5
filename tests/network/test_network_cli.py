"""Built-graph folders and the `gongpei network` commands."""

from __future__ import annotations

import json
import pickle
import subprocess
import sys
from pathlib import Path

import networkx as nx
import numpy as np
import osmnx as ox
import pytest
import shapely
from network_oracle import random_points
from typer.testing import CliRunner

from api.cli.main import run
from api.cli.network_cmd import app
from network import store
from network.areas import read_polygon
from network.errors import AreaError, BuiltGraphError
from network.graph import build_graph
from network.matrix import travel_matrix

ROOT = Path(__file__).resolve().parents[2]


def test_build_info_matrix_on_demo(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("GONGPEI_DATA_DIR", str(tmp_path / "data"))
    runner = CliRunner()
    out = tmp_path / "demo-van"
    result = runner.invoke(app, ["build", "demo", "--profile", "van", "-o", str(out)])
    assert result.exit_code == 0, result.output
    assert "nodes" in result.output and "cache miss" in result.output
    assert {p.name for p in out.iterdir()} == {"graph.graphml", "graph.pickle", "cch-order.npy",
                                               "info.json"}  # fmt: skip
    assert (tmp_path / "data" / "graphs").is_dir()  # the cache every command shares
    info = runner.invoke(app, ["info", str(out)])
    assert info.exit_code == 0 and '"profile": "van"' in info.output
    exported = ox.load_graphml(out / "graph.graphml")
    loaded = store.load_graph_dir(out)
    assert exported.number_of_edges() == loaded.number_of_edges() > 2000
    points = tmp_path / "points.csv"
    points.write_text(
        "id,lat,lon\nstation,60.1712,24.9414\nmarket,60.1675,24.9527\nx,60.17,24.945\n"
    )
    npz = tmp_path / "m.npz"
    result = runner.invoke(app, ["matrix", str(out), str(points), "-o", str(npz)])
    assert result.exit_code == 0, result.output
    data = np.load(npz)
    assert list(data["ids"]) == ["station", "market", "x"]
    coords = [(60.1712, 24.9414), (60.1675, 24.9527), (60.17, 24.945)]
    expected = travel_matrix(loaded, coords)
    assert np.array_equal(data["duration_s"], expected.duration_s)
    assert np.array_equal(data["distance_m"], expected.distance_m)
    again = runner.invoke(app, ["build", "demo", "--profile", "van", "-o", str(out)])
    assert "cache hit" in again.output


def test_failed_save_leaves_nothing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, demo_van
) -> None:
    def boom(graph: nx.MultiDiGraph) -> None:
        raise OSError("disk full")

    monkeypatch.setattr(store, "_write_graphml", lambda *a, **k: boom(a[0]))
    with pytest.raises(OSError, match="disk full"):
        store.save_graph_dir(demo_van.copy(), tmp_path / "out")
    assert list(tmp_path.iterdir()) == []


def test_bad_folders_and_points(tmp_path: Path) -> None:
    with pytest.raises(BuiltGraphError, match=r"no graph\.pickle"):
        store.load_graph_dir(tmp_path)
    from network.points import read_points_csv

    bad = tmp_path / "p.csv"
    bad.write_text("id,lat\n1,2\n")
    with pytest.raises(BuiltGraphError, match="missing column"):
        read_points_csv(bad)
    bad.write_text("id,lat,lon\na,31.0,121.0\na,31.0,121.0\n")
    with pytest.raises(BuiltGraphError, match=r"line 3.*repeated"):
        read_points_csv(bad)
    bad.write_text("id,lat,lon\na,north,121.0\n")
    with pytest.raises(BuiltGraphError, match="line 2 \\(id 'a'\\): lat 'north'"):
        read_points_csv(bad)


def test_saved_folder_has_the_order_of_an_index_built_before(tmp_path: Path) -> None:
    graph = build_graph("synthetic:60")
    before = travel_matrix(graph, random_points(graph, 3))  # builds the index in memory
    out = store.save_graph_dir(graph, tmp_path / "out")
    assert len(np.load(out / "cch-order.npy")) == graph.number_of_nodes()
    loaded = store.load_graph_dir(out)
    assert np.array_equal(travel_matrix(loaded, random_points(graph, 3)).duration_s,
                          before.duration_s)  # fmt: skip


@pytest.mark.parametrize(
    ("content", "why"),
    [
        (b"cnonexistent_module_xyz\nGraph\n)R.", "ModuleNotFoundError"),
        (pickle.dumps({"not": "a graph"}), "holds a dict"),
    ],
)
def test_broken_folder_is_a_typed_error_naming_it(tmp_path: Path, content: bytes, why: str) -> None:
    (tmp_path / "graph.pickle").write_bytes(content)
    with pytest.raises(BuiltGraphError, match=rf"graph folder '{tmp_path}': graph\.pickle .*{why}"):
        store.load_graph_dir(tmp_path)


def test_cli_error_is_one_line_and_exit_2(tmp_path: Path) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "api.cli.main", "network", "build", str(tmp_path / "nope.osm"),
         "-o", str(tmp_path / "out")],
        capture_output=True, text=True, cwd=ROOT, timeout=120,
    )  # fmt: skip
    assert result.returncode == 2
    assert result.stderr.strip().splitlines() == [
        f"error: OSM file '{tmp_path / 'nope.osm'}': no such file"
    ]
    assert not (tmp_path / "out").exists()


def test_polygon_option_clips_to_a_geojson_feature(tmp_path: Path) -> None:
    geojson = tmp_path / "areas.geojson"
    ring = [[24.940, 60.165], [24.948, 60.165], [24.944, 60.172], [24.940, 60.165]]
    geojson.write_text(
        '{"type": "FeatureCollection", "features": ['
        '{"type": "Feature", "properties": {"name": "三角"}, '
        f'"geometry": {{"type": "Polygon", "coordinates": [{ring}]}}}},'
        '{"type": "Feature", "properties": {"name": "other"}, "geometry": null}]}',
        encoding="utf-8",
    )
    out = tmp_path / "tri"
    runner = CliRunner()
    args = ["build", "demo", "--polygon", str(geojson), "--polygon-name", "三角", "-o", str(out)]
    result = runner.invoke(app, [*args, "--cache-dir", str(tmp_path / "cache")])
    assert result.exit_code == 0, result.output
    area = read_polygon(geojson, "三角").buffer(1e-7)
    graph = store.load_graph_dir(out)
    assert all(area.contains(shapely.Point(d["x"], d["y"])) for _, d in graph.nodes(data=True))
    with pytest.raises(AreaError, match="no feature named 'nowhere'"):
        read_polygon(geojson, "nowhere")
    with pytest.raises(AreaError, match="no Polygon"):
        read_polygon(geojson, "other")
    (tmp_path / "bad.geojson").write_text("{not json")
    with pytest.raises(AreaError, match="not valid GeoJSON"):
        read_polygon(tmp_path / "bad.geojson")


@pytest.mark.shared
def test_qingdao_subdistrict_polygon(shared_dir: Path) -> None:
    path = shared_dir / "data" / "qingdao" / "qingdao_subdistrict_boundaries.geojson"
    shinan_cbd = read_polygon(path, "香港中路街道")
    assert shinan_cbd.geom_type == "Polygon" and shinan_cbd.is_valid
    w, s, e, n = shinan_cbd.bounds
    assert 120.3 < w < e < 120.45 and 36.0 < s < n < 36.1
    said = r"no feature named '香港中路'; did you mean '香港中路街道'\?$"
    with pytest.raises(AreaError, match=said):
        read_polygon(path, "香港中路")


def test_a_name_not_in_the_polygon_file_suggests_the_names_like_it(tmp_path: Path) -> None:
    """A name off by its suffix, case, width or a letter was only "no feature named": the
    planner had to open the file to find the exact form."""
    ring = [[120.3, 36.0], [120.4, 36.0], [120.35, 36.1], [120.3, 36.0]]
    features = [
        {"type": "Feature", "properties": {"name": name, "name:en": en},
         "geometry": {"type": "Polygon", "coordinates": [ring]}}
        for name, en in (("香港中路街道", "Xianggang Middle Road"), ("八大关街道", "Badaguan"))
    ]  # fmt: skip
    path = tmp_path / "areas.geojson"
    path.write_text(json.dumps({"type": "FeatureCollection", "features": features}))
    for given, said in [
        ("香港中路", "did you mean '香港中路街道'?"),
        ("ＢＡＤＡＧＵＡＮ", "did you mean 'Badaguan'?"),
        ("Badaguam", "did you mean 'Badaguan'?"),
    ]:
        with pytest.raises(AreaError) as raised:
            read_polygon(path, given)
        assert str(raised.value).endswith(f"no feature named {given!r}; {said}")
    with pytest.raises(AreaError) as raised:
        read_polygon(path, "Laoshan")
    assert str(raised.value).endswith("no feature named 'Laoshan'")


@pytest.mark.parametrize(
    ("geojson", "what"),
    [
        ({"type": "FeatureCollection"}, "features: Field required"),
        ({"type": "FeatureCollection", "features": [1]}, r"features\[0\]: .*dictionary"),
        ({"type": "FeatureCollection", "features": [{"properties": {}}]},
         r"features\[0\]\.geometry: Field required"),
        ({"type": "Feature", "properties": ["x"], "geometry": None},
         r"properties: .*dictionary"),
        ({"type": "Polygon", "coordinates": "abc"}, "geometry: not a valid GeoJSON geometry"),
        ({"type": "Topology"}, "type 'Topology': expected a FeatureCollection"),
    ],
)  # fmt: skip
def test_malformed_geojson_names_the_file_and_member(
    tmp_path: Path, geojson: dict, what: str
) -> None:
    path = tmp_path / "area.geojson"
    path.write_text(json.dumps(geojson))
    with pytest.raises(AreaError, match=rf"^polygon file '{path}': {what}"):
        read_polygon(path)
    if geojson["type"] != "Polygon":  # the file's shape is checked before any name is looked up
        with pytest.raises(AreaError, match=rf"^polygon file '{path}': {what}"):
            read_polygon(path, "x")


def _gongpei(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture, *args: str):
    """The real entry point in this process: exit code and stderr."""
    monkeypatch.setattr(sys, "argv", ["gongpei", *args])
    with pytest.raises(SystemExit) as done:
        run()
    return done.value.code, capsys.readouterr().err.strip()


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (["build", "{tmp}/map.osm", "-o", "{tmp}/map.osm"],
         "error: --out: cannot make folder {tmp}/map.osm: {tmp}/map.osm is a file"),
        (["build", "{tmp}/map.osm", "-o", "{tmp}/precious"],
         "error: graph folder '{tmp}/precious': holds files that are not a built graph, which "
         "replacing it would delete (choose a new folder, or --overwrite to replace it)"),
        (["build", "{tmp}/map.osm", "-o", "{tmp}/out", "--polygon-name", "X"],
         "error: --polygon-name: names a feature of the --polygon file; give --polygon"),
        (["matrix", "{tmp}/graph", "{tmp}/points.csv", "-o", "{tmp}/points.csv"],
         "error: --out: {tmp}/points.csv is also the points file; write it elsewhere"),
        (["matrix", "{tmp}/graph", "{tmp}/points.csv", "-o", "{tmp}/precious"],
         "error: --out: {tmp}/precious is a folder, not a file"),
    ],
)  # fmt: skip
def test_outputs_never_replace_inputs_or_the_users_files(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture, args, expected
) -> None:
    """Refused before any graph is built or read (`{tmp}/graph` does not even exist), and
    nothing is touched: the OSM file is not renamed away, the folder keeps its files."""
    (tmp_path / "map.osm").write_text("<osm/>")
    (tmp_path / "points.csv").write_text("id,lat,lon\na,60.17,24.94\n")
    (tmp_path / "precious").mkdir()
    (tmp_path / "precious" / "thesis.txt").write_text("years of work")
    before = sorted(str(p) for p in tmp_path.rglob("*"))
    code, err = _gongpei(
        monkeypatch, capsys, "network", *(a.replace("{tmp}", str(tmp_path)) for a in args)
    )
    assert code == 2 and err == expected.replace("{tmp}", str(tmp_path))
    assert sorted(str(p) for p in tmp_path.rglob("*")) == before
    assert (tmp_path / "map.osm").read_text() == "<osm/>"
    assert (tmp_path / "points.csv").read_text() == "id,lat,lon\na,60.17,24.94\n"


def test_save_replaces_only_a_built_graph_unless_told(tmp_path: Path) -> None:
    graph = build_graph("synthetic:60")
    folder = tmp_path / "precious"
    folder.mkdir()
    (folder / "thesis.txt").write_text("years of work")
    with pytest.raises(BuiltGraphError, match="holds files that are not a built graph"):
        store.save_graph_dir(graph, folder)
    (tmp_path / "map.osm").write_text("<osm/>")
    with pytest.raises(BuiltGraphError, match="is a file"):
        store.save_graph_dir(graph, tmp_path / "map.osm")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["map.osm", "precious"]
    store.save_graph_dir(graph, folder, overwrite=True)  # asked for by name
    store.save_graph_dir(graph, folder)  # a previous build is replaced
    assert {p.name for p in folder.iterdir()} == store.GRAPH_FILES
