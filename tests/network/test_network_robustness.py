"""Damaged CCH order files and absurd speeds: recomputed or refused, never a crash or bad times."""

from __future__ import annotations

import io
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest
from network_oracle import random_points

from network import store
from network.errors import BuiltGraphError, ProfileError
from network.graph import build_graph
from network.matrix import cost_matrix
from network.profiles import SPEED_CEILING_KMH, SPEED_FLOOR_KMH, get_profile, parse_maxspeed


def _npy(array: np.ndarray) -> bytes:
    buffer = io.BytesIO()
    np.save(buffer, array)
    return buffer.getvalue()


# Ways an order file goes bad, each given the good file's bytes and the graph's node count.
DAMAGE: dict[str, Callable[[bytes, int], bytes]] = {
    "cut short": lambda good, n: good[: len(good) // 2],
    "cut in its header": lambda good, n: good[:20],
    "empty": lambda good, n: b"",
    "not a .npy file": lambda good, n: b"not an order",
    "repeated node": lambda good, n: _npy(np.zeros(n, dtype=np.int64)),
    "node out of range": lambda good, n: _npy(np.arange(1, n + 1)),
    "wrong length": lambda good, n: _npy(np.arange(n - 1)),
    "floats": lambda good, n: _npy(np.arange(n, dtype=float)),
    "2-D": lambda good, n: _npy(np.arange(n).reshape(-1, 1)),
}


@pytest.mark.parametrize("damage", DAMAGE)
def test_damaged_cache_order_is_recomputed_and_rewritten(tmp_path: Path, damage: str) -> None:
    first = build_graph("synthetic:100", cache_dir=tmp_path)
    points = random_points(first, 5)
    expected = cost_matrix(first, points, engine="dijkstra")
    cost_matrix(first, points)  # computes and saves the order beside the cache entry
    (order,) = tmp_path.glob("cch-order-*.npy")
    good = order.read_bytes()
    order.write_bytes(DAMAGE[damage](good, first.number_of_nodes()))
    again = build_graph("synthetic:100", cache_dir=tmp_path)
    assert again.graph["cache"] == "hit"
    assert np.array_equal(cost_matrix(again, points), expected)
    assert order.read_bytes() == good  # stored afresh


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, bytes]:
    """A built-graph folder and its order file's good bytes (restored by each test)."""
    folder = store.save_graph_dir(build_graph("synthetic:60"), tmp_path_factory.mktemp("g") / "g")
    return folder, (folder / store.ORDER).read_bytes()


@pytest.mark.parametrize("damage", DAMAGE)
def test_damaged_folder_order_is_a_typed_error_naming_it(
    built: tuple[Path, bytes], damage: str
) -> None:
    folder, good = built
    n = store.read_info(folder)["nodes"]
    (folder / store.ORDER).write_bytes(DAMAGE[damage](good, n))
    try:
        with pytest.raises(
            BuiltGraphError,
            match=rf"graph folder '{folder}': cch-order\.npy is unreadable \(.+\); build it "
            r"again with `gongpei network build`",
        ):
            store.load_graph_dir(folder)
    finally:
        (folder / store.ORDER).write_bytes(good)


def test_folder_without_an_order_gets_one_at_its_first_matrix(built: tuple[Path, bytes]) -> None:
    folder, good = built
    (folder / store.ORDER).unlink()
    graph = store.load_graph_dir(folder)
    points = random_points(graph, 4)
    assert np.array_equal(cost_matrix(graph, points), cost_matrix(graph, points, engine="dijkstra"))
    assert (folder / store.ORDER).read_bytes() == good


@pytest.mark.parametrize(
    ("profile", "highway", "kmh", "why"),
    [
        ("van", "primary", 1e12, "is 1e\\+12 km/h, above the 200 km/h ceiling"),
        ("e-tricycle", "cycleway", 201, "is 201 km/h, above the 200 km/h ceiling"),
        ("walk", "footway", 500.0, "is 500 km/h, above the 200 km/h ceiling"),
        ("van", "residential", 0.001, "is 0.001 km/h, below the 1 km/h floor"),
    ],
)
def test_absurd_speeds_are_refused_naming_profile_class_and_reason(
    profile: str, highway: str, kmh: float, why: str
) -> None:
    with pytest.raises(ProfileError, match=rf"profile '{profile}': .*'{highway}' {why}"):
        get_profile(profile, {highway: kmh})
    with pytest.raises(ProfileError, match=why):  # before any work on the graph
        build_graph("synthetic:50", profile=profile, speeds_kmh={highway: kmh})


def test_speed_bounds_are_inclusive() -> None:
    bounds = {"primary": SPEED_CEILING_KMH, "residential": SPEED_FLOOR_KMH}
    assert get_profile("van", bounds).overrides_kmh == bounds


def test_posted_maxspeed_below_the_floor_is_unreadable() -> None:
    assert parse_maxspeed("0.5") is None and parse_maxspeed("0.5;30") == 30
    assert get_profile("van").speed_kmh({"highway": "residential", "maxspeed": "0.01"}) == 20


def test_an_info_file_that_is_not_text_is_a_typed_error(built: tuple[Path, bytes]) -> None:
    """A binary info.json (a damaged disk, a file copied over it) raised UnicodeDecodeError, a
    traceback from `gongpei network info`, where text that is not JSON was a one-line error."""
    folder, _ = built
    info = folder / store.INFO
    good = info.read_bytes()
    info.write_bytes(b"\xff\xfe\x00garbage")
    try:
        with pytest.raises(BuiltGraphError, match=r"info\.json is not valid JSON"):
            store.read_info(folder)
    finally:
        info.write_bytes(good)
