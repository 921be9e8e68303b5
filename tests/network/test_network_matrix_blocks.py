"""Memory at scale: travel matrices a block of rows at a time, `gongpei network matrix` written
to its file block by block, and the built-graph folder's GraphML export streamed."""

from __future__ import annotations

import io
import json
import tracemalloc
import zipfile
from pathlib import Path

import networkx as nx
import numpy as np
import osmnx as ox
import pytest
from network_oracle import networkx_fastest, random_points
from typer.testing import CliRunner

import network._engines
import network.matrix
from api.cli.network_cmd import app
from network import store
from network.errors import NetworkError
from network.graph import build_graph
from network.matrix import prepare, save_travel_matrix, travel_matrix

M = 1 / 111_320  # degrees of latitude per metre


def _rows_per_block(monkeypatch: pytest.MonkeyPatch, rows: int, points: int) -> None:
    monkeypatch.setattr(network.matrix, "_BLOCK_CELLS", rows * points)


def _one_ways() -> tuple[nx.MultiDiGraph, list[tuple[float, float]]]:
    """A street 1 -> 2 -> 3 one-way, 3 <-> 4 both ways, 4 -> 5 one-way (100 m segments, due
    north), and eight points on it: two on one segment, one on node 3, so some pairs are
    unreachable, some meet along their own segment and one has no partial edge."""
    graph = nx.MultiDiGraph(crs="epsg:4326")
    for node in range(1, 6):
        graph.add_node(node, x=121.0, y=31.0 + (node - 1) * 100 * M)
    for u, v in [(1, 2), (2, 3), (3, 4), (4, 3), (4, 5)]:
        graph.add_edge(u, v, length=100.0, travel_time=10.0 + u, highway="residential")
    metres = [20, 60, 150, 200, 230, 280, 330, 390]
    return graph, [(31.0 + m * M, 121.0 + 5 * M) for m in metres]


@pytest.mark.parametrize("engine", ["cch", "dijkstra"])
@pytest.mark.parametrize("rows", [1, 3])
def test_blocks_equal_the_one_shot_matrix_with_unreachable_pairs(
    monkeypatch: pytest.MonkeyPatch, engine: str, rows: int
) -> None:
    graph, points = _one_ways()
    _rows_per_block(monkeypatch, len(points), len(points))
    whole = travel_matrix(graph, points, engine=engine)
    _rows_per_block(monkeypatch, rows, len(points))
    blocks = travel_matrix(graph, points, engine=engine)
    assert np.array_equal(blocks.duration_s, whole.duration_s)
    assert np.array_equal(blocks.distance_m, whole.distance_m)
    assert blocks.unreachable == whole.unreachable
    assert (7, 0) in whole.unreachable and (0, 7) not in whole.unreachable  # one-ways
    duration, distance = networkx_fastest(graph, points)
    assert np.array_equal(blocks.duration_s, duration)
    assert np.array_equal(blocks.distance_m, distance)


@pytest.mark.parametrize("wide", [False, True])
def test_blocks_equal_the_one_shot_matrix_on_the_demo(
    demo_van: nx.MultiDiGraph, monkeypatch: pytest.MonkeyPatch, wide: bool
) -> None:
    """Helsinki's one-way streets, both distance methods (`wide`: the fastest-path tree used
    for very wide spans, where equal-time ties go to the path scipy settles first)."""
    if wide:
        monkeypatch.setattr(network._engines, "_EXACT_FLOAT", 0.0)
    points = random_points(demo_van, 30, seed=8)
    _rows_per_block(monkeypatch, 30, 30)
    whole = travel_matrix(demo_van, points)
    _rows_per_block(monkeypatch, 7, 30)  # 7, 7, 7, 7, 2
    blocks = travel_matrix(demo_van, points)
    assert np.array_equal(blocks.duration_s, whole.duration_s)
    assert np.array_equal(blocks.distance_m, whole.distance_m)
    assert np.abs(whole.duration_s - whole.duration_s.T).max() > 30  # one-way detours


def _points_csv(path: Path, ids: list[str], points: list[tuple[float, float]]) -> Path:
    path.write_text("id,lat,lon\n" + "".join(
        f"{i},{lat!r},{lon!r}\n" for i, (lat, lon) in zip(ids, points, strict=True)
    ), encoding="utf-8")  # fmt: skip
    return path


def _npz_members(data: bytes) -> list[tuple[str, bytes]]:
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        return [(name, archive.read(name)) for name in archive.namelist()]


def test_cli_file_holds_what_np_savez_wrote(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, demo_van: nx.MultiDiGraph
) -> None:
    """The command's .npz, written block by block, has the members np.savez wrote from the
    whole result before, in the same order, byte for byte (headers, dtypes, inf included)."""
    folder = store.save_graph_dir(demo_van.copy(), tmp_path / "graph")
    points = random_points(demo_van, 25, seed=9)
    ids = [f"店{i}" for i in range(25)]
    _rows_per_block(monkeypatch, 4, 25)
    out = tmp_path / "m.npz"
    result = CliRunner().invoke(app, ["matrix", str(folder), str(
        _points_csv(tmp_path / "p.csv", ids, [(float(a), float(b)) for a, b in points])
    ), "-o", str(out)])  # fmt: skip
    assert result.exit_code == 0, result.output
    expected = travel_matrix(store.load_graph_dir(folder), points)
    before = io.BytesIO()
    np.savez(before, ids=np.array(ids), duration_s=expected.duration_s,
             distance_m=expected.distance_m, snap_m=expected.snap_m)  # fmt: skip
    assert _npz_members(out.read_bytes()) == _npz_members(before.getvalue())
    assert "25 points" in result.output and "0 unreachable pairs;" in result.output


def test_cli_names_the_first_unreachable_pairs(tmp_path: Path) -> None:
    """A count and the first few pairs by id, not a list that could be 400 million long."""
    graph, points = _one_ways()
    graph.graph["report"] = {}
    folder = store.save_graph_dir(graph, tmp_path / "graph")
    ids = list("abcdefgh")
    result = CliRunner().invoke(app, ["matrix", str(folder), str(
        _points_csv(tmp_path / "p.csv", ids, points)
    ), "-o", str(tmp_path / "m.npz")])  # fmt: skip
    assert result.exit_code == 0, result.output
    unreachable = travel_matrix(graph, points).unreachable
    first = ", ".join(f"'{ids[i]}' -> '{ids[j]}'" for i, j in unreachable[:5])
    assert f"{len(unreachable)} unreachable pairs (e.g. {first} ...);" in result.output
    assert np.isinf(np.load(tmp_path / "m.npz")["duration_s"][7, 0])


def test_cli_memory_stays_at_a_block(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, demo_van: nx.MultiDiGraph
) -> None:
    """The command never holds its matrices: its allocations peak far below the output
    (it used to hold both matrices, then the whole file's bytes)."""
    count = 600
    points = random_points(demo_van, count, seed=10)
    csv = _points_csv(tmp_path / "p.csv", [f"p{i}" for i in range(count)],
                      [(float(a), float(b)) for a, b in points])  # fmt: skip
    prepare(demo_van)
    monkeypatch.setattr(store, "load_graph_dir", lambda folder: demo_van)
    _rows_per_block(monkeypatch, 20, count)
    monkeypatch.setattr(network._engines, "_CHUNK_CELLS", 20 * demo_van.number_of_nodes())
    tracemalloc.start()
    try:
        result = CliRunner().invoke(app, ["matrix", str(tmp_path), str(csv), "-o",
                                          str(tmp_path / "m.npz")])  # fmt: skip
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert result.exit_code == 0, result.output
    output = 2 * count * count * 8
    assert peak < output / 2, f"peak {peak / 2**20:.1f} MB for {output / 2**20:.1f} MB of output"


@pytest.mark.parametrize("previous", [None, b"the previous matrix"])
def test_an_interrupted_write_leaves_no_partial_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, previous: bytes | None
) -> None:
    """Ctrl-C after the durations were written: the previous file, or none; no leftovers."""
    graph, points = _one_ways()
    out = tmp_path / "m.npz"
    if previous is not None:
        out.write_bytes(previous)

    def interrupt(*args: object) -> np.ndarray:
        raise KeyboardInterrupt

    monkeypatch.setattr(network.matrix, "fastest_path_lengths", interrupt)
    _rows_per_block(monkeypatch, 2, len(points))
    with pytest.raises(KeyboardInterrupt):
        save_travel_matrix(graph, points, out, ids=list("abcdefgh"))
    assert [p.name for p in tmp_path.iterdir()] == ([] if previous is None else ["m.npz"])
    assert previous is None or out.read_bytes() == previous


def test_a_sigterm_mid_write_leaves_no_temp_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """`network matrix` stopped by SIGTERM (a scheduler's stop, `kill`) exits 143 and cleans up
    as Ctrl-C does: before, its temp file beside --out (6.4 GB at 20,000 points) stayed."""
    import os
    import signal

    from typer.testing import CliRunner

    import network.store
    from api.cli.network_cmd import app

    graph, points = _one_ways()
    (tmp_path / "graph").mkdir()
    csv = tmp_path / "points.csv"
    csv.write_text("id,lat,lon\n" + "".join(f"p{k},{lat},{lon}\n"
                                              for k, (lat, lon) in enumerate(points)))  # fmt: skip
    monkeypatch.setattr(network.store, "load_graph_dir", lambda folder: graph)

    def terminated(*args: object) -> np.ndarray:
        os.kill(os.getpid(), signal.SIGTERM)
        raise AssertionError("SIGTERM was not turned into an exit")

    def guard(*args: object) -> None:  # without the command's own, fail rather than die
        raise RuntimeError("SIGTERM reached the test's guard, not the command's handler")

    monkeypatch.setattr(network.matrix, "fastest_path_lengths", terminated)
    before = signal.signal(signal.SIGTERM, guard)
    try:
        out = tmp_path / "m.npz"
        args = ["matrix", str(tmp_path / "graph"), str(csv), "-o", str(out)]
        result = CliRunner().invoke(app, args)
        assert signal.getsignal(signal.SIGTERM) is guard  # the handler is the command's alone
    finally:
        signal.signal(signal.SIGTERM, before)
    assert result.exit_code == 128 + signal.SIGTERM, result.exception
    assert sorted(p.name for p in tmp_path.iterdir()) == ["graph", "points.csv"]


def test_ids_must_name_every_point() -> None:
    graph, points = _one_ways()
    with pytest.raises(NetworkError, match="ids: 2 given for 8 points"):
        save_travel_matrix(graph, points, "unused.npz", ids=["a", "b"])


# The built-graph folder's GraphML: streamed, the same bytes as osmnx wrote.


def _osmnx_graphml(graph: nx.MultiDiGraph, attributes: dict, path: Path,
                   monkeypatch: pytest.MonkeyPatch) -> bytes:  # fmt: skip
    """What the build wrote before: osmnx's export of a copy, through networkx's xml writer
    (its default while lxml is not installed, which writes another layout)."""
    monkeypatch.setattr(nx, "write_graphml", nx.write_graphml_xml)
    export = graph.copy()
    export.graph.clear()
    export.graph.update(attributes)
    ox.save_graphml(export, path)
    return path.read_bytes()


def _awkward() -> nx.MultiDiGraph:
    """Values needing escapes or another script, lists, None, parallel edges, attributes on
    only some elements, a node with none."""
    graph = nx.MultiDiGraph(crs="epsg:4326", source='a "quoted" & <odd> name')
    graph.add_node(1, x=121.0, y=31.0, ref="中山路 1号")
    graph.add_node(2, x=121.001, y=31.0)
    graph.add_node(3)
    graph.add_edge(1, 2, osmid=[5, 6], name="Tom & Jerry's <lane>\n\tback", length=95.5)
    graph.add_edge(1, 2, osmid=7, length=99.0, lanes=None)
    graph.add_edge(2, 3, width=np.float64(3.25))
    return graph


@pytest.mark.parametrize("which", ["demo", "awkward"])
def test_graphml_is_what_osmnx_wrote_byte_for_byte(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, demo_van: nx.MultiDiGraph, which: str
) -> None:
    graph = demo_van if which == "demo" else _awkward()
    attributes = {**graph.graph, "report": json.dumps({"nodes": 3, "名": "青岛"})}
    attributes.pop("dropped_roads", None)
    streamed = tmp_path / "streamed.graphml"
    store._write_graphml(graph, attributes, streamed)
    assert streamed.read_bytes() == _osmnx_graphml(
        graph, attributes, tmp_path / "osmnx.graphml", monkeypatch
    )


def test_graph_folder_is_written_without_a_document_in_memory(tmp_path: Path) -> None:
    """osmnx copied the graph and built the whole XML tree (about 20x the file, 1.2 GB at
    82,000 nodes); the folder is now written at about the pickle's memory. Its GraphML still
    loads back in osmnx as the graph."""
    graph = build_graph("synthetic:2000")
    prepare(graph)
    tracemalloc.start()
    try:
        folder = store.save_graph_dir(graph, tmp_path / "graph")
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    size = (folder / store.GRAPHML).stat().st_size
    assert peak < 3 * size, f"peak {peak / 2**20:.1f} MB for a {size / 2**20:.1f} MB file"
    loaded = ox.load_graphml(folder / store.GRAPHML)
    assert loaded.number_of_edges() == graph.number_of_edges()
    u, v, k, data = next(iter(graph.edges(keys=True, data=True)))
    assert loaded.edges[u, v, k]["travel_time"] == data["travel_time"]
