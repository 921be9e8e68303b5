"""Audit of graph building (notes/netaudit #3-#8, #10, #11): clipping, empty graphs, osmnx
one-ways, points files in GBK, racing folder writers, small input checks, unwritable caches."""

from __future__ import annotations

import logging
import threading
import time
from pathlib import Path

import networkx as nx
import numpy as np
import pytest
import shapely
from network_oracle import random_points
from test_network_cli import _gongpei

from network import store
from network.errors import BuiltGraphError, NoRoadsError, OsmFileError, ProfileError
from network.graph import build_graph, graph_from_osmnx
from network.matrix import travel_matrix
from network.points import read_points_csv
from network.profiles import OSM_HIGHWAYS, PROFILES, get_profile

HEADER = """<?xml version="1.0" encoding="UTF-8"?>
<osm version="0.6">
 <bounds minlat="30.99" minlon="120.99" maxlat="31.01" maxlon="121.02"/>
"""
# One one-way residential street, 1 - 2 - 3, west to east along latitude 31.
ONE_WAY = """
 <node id="1" lat="31.0000" lon="121.0000"/>
 <node id="2" lat="31.0000" lon="121.0050"/>
 <node id="3" lat="31.0000" lon="121.0100"/>
 <way id="10"><nd ref="1"/><nd ref="2"/><nd ref="3"/>
  <tag k="highway" v="residential"/><tag k="oneway" v="yes"/></way>
"""
# A 2-node road 1 km long, west to east: no node of it inside a bbox around its middle.
LONG_SEGMENT = """
 <node id="1" lat="31.0000" lon="121.0000"/>
 <node id="2" lat="31.0000" lon="121.0105"/>
 <way id="10"><nd ref="1"/><nd ref="2"/><tag k="highway" v="primary"/></way>
"""
# Road 1 - 2 - 3 (a V whose tip, node 2, touches latitude 31.001), plus a loop 1 - 4 - 3.
V_ROAD = """
 <node id="1" lat="31.0000" lon="121.0000"/>
 <node id="2" lat="31.0010" lon="121.0010"/>
 <node id="3" lat="31.0000" lon="121.0020"/>
 <node id="4" lat="30.9970" lon="121.0010"/>
 <way id="10"><nd ref="1"/><nd ref="2"/><nd ref="3"/><tag k="highway" v="residential"/></way>
 <way id="11"><nd ref="1"/><nd ref="4"/><nd ref="3"/><tag k="highway" v="residential"/></way>
"""
BEIJING_ONE_WAY_BBOX = "116.3098563,40.0045979,116.3100563,40.0047979"


def _osm(folder: Path, body: str, name: str = "map.osm") -> Path:
    path = folder / name
    path.write_text(f"{HEADER}{body}</osm>\n", encoding="utf-8")
    return path


def _arcs(graph: nx.MultiDiGraph) -> set[tuple[int, int]]:
    return {(u, v) for u, v in graph.edges()}


# --- #3: a largest strongly connected part without an edge --------------------------------


def test_an_area_whose_only_road_is_one_way_is_refused(tmp_path: Path) -> None:
    path = _osm(tmp_path, ONE_WAY)
    with pytest.raises(NoRoadsError) as refused:
        build_graph(path, profile="van", bbox=(121.004, 30.999, 121.006, 31.001))
    assert f"OSM file '{path}'" in str(refused.value) and "profile 'van'" in str(refused.value)
    assert "(121.004, 30.999, 121.006, 31.001)" in str(refused.value)
    with pytest.raises(NoRoadsError, match="no two points are joined both ways"):
        build_graph(path, profile="van")  # the whole file: its only road is one-way
    assert build_graph(path, profile="walk").number_of_edges() == 4  # walkers ignore one-ways


def test_a_clipped_synthetic_city_or_osmnx_graph_without_a_two_way_road_is_refused(
    tmp_path: Path,
) -> None:
    import osmnx as ox

    city = build_graph("synthetic:400")
    u, v = next((u, v) for u, v in city.edges() if not city.has_edge(v, u))  # a one-way arc
    x, y = ((city.nodes[u][c] + city.nodes[v][c]) / 2 for c in ("x", "y"))
    with pytest.raises(NoRoadsError, match=r"source 'synthetic:400': .*profile 'van'"):
        build_graph("synthetic:400", bbox=(x - 1e-5, y - 1e-5, x + 1e-5, y + 1e-5))
    raw = ox.graph_from_xml(_osm(tmp_path, ONE_WAY), simplify=False, retain_all=True)
    with pytest.raises(NoRoadsError, match="osmnx graph: no two points"):
        graph_from_osmnx(raw, profile="van")


def test_cli_refuses_a_one_way_only_area_in_one_line(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture
) -> None:
    path, out = _osm(tmp_path, ONE_WAY), tmp_path / "out"
    code, err = _gongpei(
        monkeypatch, capsys, "network", "build", str(path), "-o", str(out),
        "--cache-dir", str(tmp_path / "cache"),
    )  # fmt: skip
    assert code == 2 and len(err.splitlines()) == 1 and err.startswith("error: OSM file")
    assert not out.exists()


@pytest.mark.shared
def test_cli_refuses_a_real_one_way_only_bbox(
    osm_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture
) -> None:
    out = tmp_path / "out"
    code, err = _gongpei(
        monkeypatch, capsys, "network", "build", str(osm_dir / "beijing_tsinghua_pku_campus.osm"),
        "--bbox", BEIJING_ONE_WAY_BBOX, "-o", str(out), "--cache-dir", str(tmp_path / "cache"),
    )  # fmt: skip
    assert code == 2 and len(err.splitlines()) == 1 and "no two points" in err
    assert not out.exists()


# --- #4, #10: clipping keeps every piece inside and every node on the boundary -------------


def test_a_segment_through_the_area_with_both_ends_outside_is_cut_at_both_crossings(
    tmp_path: Path,
) -> None:
    path = _osm(tmp_path, LONG_SEGMENT)
    whole = build_graph(path, profile="walk")
    cut = build_graph(path, profile="walk", bbox=(121.004, 30.999, 121.006, 31.001))
    assert sorted((d["x"], d["y"]) for _, d in cut.nodes(data=True)) == [
        (121.004, 31.0), (121.006, 31.0)
    ]  # fmt: skip
    assert cut.number_of_edges() == 2 and nx.is_strongly_connected(cut)
    middle = whole.edges[1, 2, 0]["length"] * 0.002 / 0.0105  # the bbox's share of its degrees
    assert all(d["length"] == pytest.approx(middle, abs=2e-3) for *_, d in cut.edges(data=True))
    assert cut.graph["report"]["edges_cut_at_boundary"] == 2


def test_a_segment_leaving_and_reentering_a_concave_polygon_keeps_both_pieces(
    tmp_path: Path,
) -> None:
    """A U-shaped area: road 1 - 2 runs from one arm to the other across the notch between
    them; road 1 - 3 - 4 - 2 joins its ends around the U's bottom, inside."""
    path = _osm(tmp_path, """
 <node id="1" lat="31.0000" lon="121.0020"/>
 <node id="2" lat="31.0000" lon="121.0080"/>
 <node id="3" lat="30.99925" lon="121.0020"/>
 <node id="4" lat="30.99925" lon="121.0080"/>
 <way id="10"><nd ref="1"/><nd ref="2"/><tag k="highway" v="primary"/></way>
 <way id="11"><nd ref="1"/><nd ref="3"/><nd ref="4"/><nd ref="2"/>
  <tag k="highway" v="residential"/></way>
""")  # fmt: skip
    u_shape = shapely.Polygon(
        [(121.001, 30.999), (121.009, 30.999), (121.009, 31.001), (121.007, 31.001),
         (121.007, 30.9995), (121.003, 30.9995), (121.003, 31.001), (121.001, 31.001)]
    )  # fmt: skip
    whole = build_graph(path, profile="walk")
    clipped = build_graph(path, profile="walk", polygon=u_shape)
    boundary = {(d["x"], d["y"]): n for n, d in clipped.nodes(data=True) if n < 0}
    assert sorted(boundary) == [(121.003, 31.0), (121.007, 31.0)]
    assert not clipped.has_edge(1, 2) and nx.is_strongly_connected(clipped)
    sixth = whole.edges[1, 2, 0]["length"] / 6
    west, east = boundary[121.003, 31.0], boundary[121.007, 31.0]
    for u, v in ((1, west), (west, 1), (east, 2), (2, east)):
        assert clipped.edges[u, v, 0]["length"] == pytest.approx(sixth, abs=2e-3)
    assert clipped.has_edge(3, 4) and clipped.has_edge(4, 3)


def test_a_node_on_the_boundary_keeps_its_road_whole(tmp_path: Path) -> None:
    path = _osm(tmp_path, V_ROAD)
    whole = build_graph(path, profile="walk")
    clipped = build_graph(path, profile="walk", bbox=(120.99, 30.99, 121.02, 31.0010))
    assert set(clipped.nodes) == {1, 2, 3, 4}  # node 2 lies on the north edge: kept, not cut
    assert _arcs(clipped) == _arcs(whole)
    via_tip = nx.shortest_path_length(clipped, 1, 3, weight="length")  # not round by node 4
    assert via_tip == pytest.approx(292.9, abs=0.1)
    assert via_tip == nx.shortest_path_length(whole, 1, 3, weight="length")


# --- #5: a points file saved in GBK ---------------------------------------------------------

POINTS = "id,lat,lon\n清华学堂,31.0000,121.0010\n图书馆,31.0000,121.0030\n"


@pytest.mark.parametrize("encoding", ["gbk", "gb18030", "utf-8", "utf-8-sig"])
def test_points_files_in_utf8_or_gbk_read_the_same(tmp_path: Path, encoding: str) -> None:
    path = tmp_path / "points.csv"
    path.write_bytes(POINTS.encode(encoding))
    assert read_points_csv(path) == (["清华学堂", "图书馆"], [(31.0, 121.001), (31.0, 121.003)])


def test_a_points_file_in_neither_encoding_is_one_line_naming_it(tmp_path: Path) -> None:
    path = tmp_path / "points.csv"
    path.write_bytes(b"id,lat,lon\n" + "a,31.0,121.0\n".encode("utf-16"))
    with pytest.raises(BuiltGraphError, match=rf"^points file '{path}' line 2: byte 0xff .*UTF-8"):
        read_points_csv(path)


def test_cli_matrix_reads_a_gbk_points_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture
) -> None:
    graph = build_graph(_osm(tmp_path, V_ROAD), profile="walk")
    folder = store.save_graph_dir(graph, tmp_path / "g")
    points = tmp_path / "points.csv"
    points.write_bytes(POINTS.encode("gbk"))  # Excel's plain "CSV" on a Chinese Windows
    code, err = _gongpei(
        monkeypatch, capsys, "network", "matrix", str(folder), str(points),
        "-o", str(tmp_path / "m.npz"),
    )  # fmt: skip
    assert code == 0, err
    assert list(np.load(tmp_path / "m.npz")["ids"]) == ["清华学堂", "图书馆"]


# --- #7: writers racing for one graph folder -----------------------------------------------


def test_concurrent_writers_of_one_folder_all_succeed_and_leave_nothing_behind(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    graph = build_graph("synthetic:60")
    out = tmp_path / "out"
    store.save_graph_dir(graph.copy(), out)  # the copy, not `graph`, is pointed at out's order
    rename = Path.rename

    def slow_rename(self: Path, target: Path) -> Path:  # widens each writer's swap window
        time.sleep(0.05)
        return rename(self, target)

    monkeypatch.setattr(Path, "rename", slow_rename)
    writers, barrier, failed = 4, threading.Barrier(4), []

    def write(copy: nx.MultiDiGraph) -> None:
        barrier.wait()
        try:
            store.save_graph_dir(copy, out)
        except Exception as err:  # the test reports any failure, whatever its type
            failed.append(err)

    threads = [threading.Thread(target=write, args=(graph.copy(),)) for _ in range(writers)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert failed == []
    assert [p.name for p in tmp_path.iterdir()] == ["out"]  # no .old-, .tmp- or .lock left
    assert store.load_graph_dir(out).number_of_edges() == graph.number_of_edges()


# --- #8: small input checks ----------------------------------------------------------------


@pytest.mark.parametrize("count", ["²", "①", "1²", " 60", "-60"])
def test_a_synthetic_count_not_in_ascii_digits_is_refused(count: str) -> None:
    with pytest.raises(OsmFileError, match="expected synthetic:N"):
        build_graph(f"synthetic:{count}")


@pytest.mark.parametrize("name", ["", "  "])
def test_a_speed_for_a_blank_class_name_is_refused(name: str) -> None:
    with pytest.raises(ProfileError, match="must be a highway class name"):
        get_profile("van", {name: 30})


@pytest.mark.parametrize(
    ("name", "near"), [("residental", "residential"), ("Residential", "residential")]
)
def test_a_speed_for_a_misspelt_class_is_refused_with_the_class_meant(
    name: str, near: str
) -> None:
    """It made a new class no way has: the build exited 0 with every speed unchanged."""
    with pytest.raises(ProfileError, match=f"'{name}' is not an OSM highway class"
                                           rf"; did you mean '{near}'\?"):  # fmt: skip
        get_profile("van", {name: 5})


def test_every_profile_class_is_an_osm_highway_class_and_new_ones_may_be_added() -> None:
    assert all(set(p.speeds_kmh) <= OSM_HIGHWAYS for p in PROFILES.values())
    assert get_profile("van", {"track": 10}).speeds_kmh["track"] == 10  # not a van class


@pytest.mark.parametrize(
    ("option", "value", "message"),
    [
        ("--speed", "=30", "must be a highway class name"),
        ("--speed", "residental=5", "did you mean 'residential'?"),
        ("--profile", "van", "synthetic:N"),
    ],
)
def test_cli_refuses_blank_class_names_and_odd_counts_in_one_line(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture,
    option: str, value: str, message: str,
) -> None:  # fmt: skip
    source = "synthetic:60" if option == "--speed" else "synthetic:²"
    code, err = _gongpei(
        monkeypatch, capsys, "network", "build", source, option, value, "-o", str(tmp_path / "o"),
        "--cache-dir", str(tmp_path / "cache"),
    )  # fmt: skip
    assert code == 2 and len(err.splitlines()) == 1 and message in err


# --- #11: caches and order files that cannot be written ------------------------------------


def test_an_unwritable_cache_folder_builds_without_caching(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    (tmp_path / "file").write_text("a file, not a folder")  # unwritable even for root
    with caplog.at_level(logging.WARNING, logger="gongpei.network"):
        graph = build_graph("synthetic:60", cache_dir=tmp_path / "file" / "cache")
        travel_matrix(graph, random_points(graph, 3))  # no order is saved beside no entry
    assert graph.graph["cache"] == "miss" and "index_file" not in graph.graph
    [warning] = caplog.records  # the cache's, and none about an order file
    assert warning.name == "gongpei.network" and "graph cache: not saved" in warning.getMessage()


def test_cli_build_with_a_read_only_cache_folder_succeeds(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture,
    caplog: pytest.LogCaptureFixture,
) -> None:  # fmt: skip
    def read_only(path: Path, data: bytes) -> None:  # what a read-only mount does, even to root
        raise PermissionError(13, "Permission denied", str(path))

    monkeypatch.setattr("network.cache.atomic_write_bytes", read_only)
    code, err = _gongpei(
        monkeypatch, capsys, "network", "build", "synthetic:60", "-o", str(tmp_path / "o"),
        "--cache-dir", str(tmp_path / "cache"),
    )  # fmt: skip
    assert code == 0, err
    [warning] = caplog.records  # through logging (stderr), not the command's stdout
    assert warning.name == "gongpei.network" and "Permission denied" in warning.getMessage()


def test_cli_matrix_on_a_read_only_folder_without_an_order_succeeds(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture,
    caplog: pytest.LogCaptureFixture,
) -> None:  # fmt: skip
    graph = build_graph("synthetic:60")
    folder = store.save_graph_dir(graph, tmp_path / "city")
    (folder / store.ORDER).unlink()  # accepted: "the first matrix computes and saves it"
    points = tmp_path / "points.csv"
    lines = [f"p{i},{lat},{lon}" for i, (lat, lon) in enumerate(random_points(graph, 3))]
    points.write_text("id,lat,lon\n" + "\n".join(lines) + "\n")

    def read_only(path: Path, data: bytes) -> None:
        raise PermissionError(30, "Read-only file system", str(path))

    monkeypatch.setattr("network._engines.atomic_write_bytes", read_only)  # the order's write
    code, err = _gongpei(
        monkeypatch, capsys, "network", "matrix", str(folder), str(points),
        "-o", str(tmp_path / "m.npz"),
    )  # fmt: skip
    assert code == 0, err
    assert not (folder / store.ORDER).exists() and "CCH order: not saved" in caplog.text
    assert np.isfinite(np.load(tmp_path / "m.npz")["duration_s"]).all()


# --- #6: osmnx's one-way verdicts agree with build_graph's ---------------------------------

# Way 10 (1 -> 2) carries the tags under test; residential 2 - 3 - 1 brings traffic back, so a
# one-way way 10 still lies on the largest strongly connected part.
LOOP_BACK = """
 <node id="1" lat="31.0000" lon="121.0000"/>
 <node id="2" lat="31.0000" lon="121.0050"/>
 <node id="3" lat="31.0030" lon="121.0025"/>
 <way id="10"><nd ref="1"/><nd ref="2"/>{tags}</way>
 <way id="11"><nd ref="2"/><nd ref="3"/><nd ref="1"/><tag k="highway" v="residential"/></way>
"""


def _tagged(pairs: dict[str, str]) -> str:
    return "".join(f'<tag k="{k}" v="{v}"/>' for k, v in pairs.items())


@pytest.mark.parametrize("profile", ["van", "walk"])
@pytest.mark.parametrize(
    "tags",
    [
        {"highway": "motorway"},
        {"highway": "motorway", "oneway": "yes"},
        {"highway": "residential", "oneway": "yes"},
        {"highway": "residential", "oneway": "-1"},
        {"highway": "residential", "junction": "roundabout"},
        {"highway": "residential", "junction": "circular"},
        {"highway": "residential"},
        {"highway": "residential", "oneway": "no"},
    ],
    ids=repr,
)
@pytest.mark.parametrize("all_oneway", [False, True], ids=["verdicts", "tags"])
def test_osmnx_and_the_file_reader_give_the_same_directions(
    tmp_path: Path, tags: dict[str, str], profile: str, all_oneway: bool,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """In both forms osmnx gives: its one-way verdicts (the default) and the tags as mapped
    (`all_oneway`, as `build_graph_online` downloads)."""
    import osmnx as ox

    monkeypatch.setattr(ox.settings, "all_oneway", all_oneway)
    path = _osm(tmp_path, LOOP_BACK.format(tags=_tagged(tags)))
    raw = ox.graph_from_xml(path, simplify=False, retain_all=True)  # local: no download
    via_osmnx = graph_from_osmnx(raw, profile=profile)
    assert _arcs(via_osmnx) == _arcs(build_graph(path, profile=profile))


@pytest.mark.parametrize(
    "way_class", [{"highway": "motorway"}, {"junction": "circular"}, {"junction": "roundabout"}]
)
def test_osmnx_reads_an_explicit_two_way_where_one_way_is_implied_as_one_way(
    tmp_path: Path, way_class: dict[str, str]
) -> None:
    """osmnx keeps only its verdict, not the tag: `oneway=no` reads like no tag (False), which
    the profile takes as one-way on a motorway or circular junction, and osmnx makes every
    roundabout one-way (True, no reverse twin). In doubt, one-way; build_graph keeps both."""
    import osmnx as ox

    tags = {"highway": "residential", **way_class, "oneway": "no"}
    path = _osm(tmp_path, LOOP_BACK.format(tags=_tagged(tags)))
    raw = ox.graph_from_xml(path, simplify=False, retain_all=True)
    arcs = _arcs(graph_from_osmnx(raw))
    assert (1, 2) in arcs and (2, 1) not in arcs
    assert {(1, 2), (2, 1)} <= _arcs(build_graph(path))


@pytest.mark.parametrize(
    "way_class", [{"highway": "motorway"}, {"junction": "circular"}, {"junction": "roundabout"}]
)
@pytest.mark.parametrize("oneway", ["no", "-1", "reverse", "T", "F"])
def test_osmnx_with_the_tags_as_mapped_reads_them_as_the_file_reader_does(
    tmp_path: Path, way_class: dict[str, str], oneway: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Under `all_oneway` osmnx keeps the tag: an explicit two-way stays two-way, and values
    osmnx reads its own way (`T` reversed, `F` forward; not OSM values) come out as the file
    reader's (two-way)."""
    import osmnx as ox

    monkeypatch.setattr(ox.settings, "all_oneway", True)
    tags = {"highway": "residential", **way_class, "oneway": oneway}
    path = _osm(tmp_path, LOOP_BACK.format(tags=_tagged(tags)))
    raw = ox.graph_from_xml(path, simplify=False, retain_all=True)
    assert _arcs(graph_from_osmnx(raw)) == _arcs(build_graph(path)) != set()
