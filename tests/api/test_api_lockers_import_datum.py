"""`gongpei lockers import FILE --datum gcj02`: lockers exported from Amap or Tencent (GCJ-02)
or Baidu (BD-09) are stored in WGS 84, where the OSM roads and the API's searches are."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from sqlalchemy import select
from typer.testing import CliRunner

from api.cli.main import app
from api.db.models import Locker
from network.datum import DatumError, from_wgs84

runner = CliRunner()
GATE = (32.0438, 118.7789)  # Xinjiekou, Nanjing, in WGS 84 (lat, lon)


def _file(tmp_path: Path, lat: float, lon: float) -> Path:
    path = tmp_path / "lockers.geojson"
    feature = {
        "type": "Feature",
        "geometry": {"type": "Point", "coordinates": [lon, lat]},
        "properties": {"name": "Gate", "compartments": {"S": 2}},
    }
    path.write_text(json.dumps({"type": "FeatureCollection", "features": [feature]}))
    return path


@pytest.mark.parametrize("datum", ["gcj02", "bd09"])
def test_lockers_in_a_chinese_datum_are_stored_in_wgs84(
    db, database_url: str, tmp_path: Path, datum: str
) -> None:
    """Before, --datum was no option (exit code 2, the locker not stored)."""
    path = _file(tmp_path, *from_wgs84(datum, *GATE))
    args = ["lockers", "import", str(path), "--database-url", database_url, "--datum", datum]
    result = runner.invoke(app, args)
    assert result.exit_code == 0, result.output
    with db.reading() as session:
        (locker,) = session.scalars(select(Locker))
        assert (locker.lat, locker.lon) == pytest.approx(GATE, abs=1e-7)


def test_a_bad_datum_is_named_before_the_database_is_opened(tmp_path: Path) -> None:
    path = _file(tmp_path, *GATE)
    args = ["lockers", "import", str(path), "--database-url", "postgresql://nowhere:1/x"]
    result = runner.invoke(app, [*args, "--datum", "gcj"])
    assert isinstance(result.exception, DatumError), result.output
    assert str(result.exception) == (
        "--datum: 'gcj' is not a datum (choose from wgs84, gcj02, bd09); did you mean 'gcj02'?"
    )
