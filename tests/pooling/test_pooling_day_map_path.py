"""A day's map file is read relative to the day file, whatever its name: only the keywords
`demo` and `synthetic:N` name built-in maps (`network.sources.is_builtin`)."""

from __future__ import annotations

from pathlib import Path

import pytest

from routing.pooling.day import read_day

EXAMPLE = Path(__file__).parents[2] / "routing" / "pooling" / "examples" / "shinan-towers.yaml"


@pytest.mark.parametrize("name", ["demo_city.osm", "demos/x.osm", "synthetic.osm"])
def test_a_map_file_named_like_a_keyword_is_read_beside_the_day(tmp_path: Path, name) -> None:
    """`demo_city.osm` and `demos/x.osm` were taken for the keyword `demo` and left relative
    to the working folder, so a day run from elsewhere did not find its map."""
    text = EXAMPLE.read_text().replace("source: 'synthetic:2500'", f"source: '{name}'")
    day_file = tmp_path / "days" / "day.yaml"
    day_file.parent.mkdir()
    day_file.write_text(text)
    assert read_day(day_file).travel.source == str(day_file.parent / name)


def test_the_keywords_stay_keywords(tmp_path: Path) -> None:
    day_file = tmp_path / "day.yaml"
    day_file.write_text(EXAMPLE.read_text())
    assert read_day(day_file).travel.source == "synthetic:2500"
