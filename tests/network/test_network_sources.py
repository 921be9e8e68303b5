"""A built-in map's keyword ("demo", "synthetic:N") wins over a folder of that name in the
working folder: `gongpei demo -o demo` makes one, and `--network demo` or
`GONGPEI_MAP_NETWORK=demo` then read it as a (broken) built-graph folder."""

from __future__ import annotations

import json
import logging
from pathlib import Path

import pytest

from network.profiles import PROFILES
from network.sources import _warn_shadowed, built_folder, is_builtin
from network.store import source_profiles
from routing.travel import road_graphs


@pytest.fixture
def in_tmp(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.chdir(tmp_path)
    _warn_shadowed.cache_clear()
    return tmp_path


@pytest.mark.parametrize("keyword", ["demo", "synthetic:30"])
def test_keyword_wins_over_a_folder_of_that_name(in_tmp: Path, keyword: str) -> None:
    (in_tmp / keyword).mkdir()  # e.g. the output folder of `gongpei demo -o demo`
    assert source_profiles(keyword) == tuple(PROFILES)
    assert built_folder(keyword) is None


def test_road_graphs_take_the_builtin_map(in_tmp: Path) -> None:
    (in_tmp / "synthetic:30").mkdir()
    graphs = road_graphs(["van"], network="synthetic:30")
    assert graphs is not None and graphs["van"].graph["source"] == "synthetic:30"


def test_a_shadowed_built_folder_is_named_in_a_warning(
    in_tmp: Path, caplog: pytest.LogCaptureFixture
) -> None:
    folder = in_tmp / "demo"
    folder.mkdir()
    (folder / "info.json").write_text(json.dumps({"profile": "walk"}))
    with caplog.at_level(logging.WARNING, logger="gongpei.network"):
        assert source_profiles("demo") == tuple(PROFILES)
        source_profiles("demo")  # once per folder, not per request
    assert [r.getMessage() for r in caplog.records] == [
        f"'demo' is the built-in map; the built graph folder {folder} is not used "
        "(name it as ./demo to use it)"
    ]
    assert source_profiles("./demo") == ("walk",)  # the folder, named as a path


def test_only_the_exact_keywords_are_builtin() -> None:
    assert is_builtin("demo") and is_builtin("synthetic:5")
    assert not any(map(is_builtin, ["./demo", "demo.osm", "demos", "out/demo"]))
