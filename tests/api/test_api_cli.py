"""`gongpei admin create-firm`, `gongpei lockers import` and `gongpei reservations` against a
real database file, or none."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest
from sqlalchemy import select
from typer.testing import CliRunner

from api.cli.main import app, run
from api.db.engine import Database
from api.db.models import Locker
from api.security import authenticate

runner = CliRunner()


def _feature(ref, lon, lat, **props):
    return {
        "type": "Feature",
        "geometry": {"type": "Point", "coordinates": [lon, lat]},
        "properties": {
            "ref": ref,
            "name": f"Locker {ref}",
            "compartments": {"S": 4, "M": 2},
            **props,
        },
    }


def test_create_firm_prints_a_working_key_once(tmp_path):
    url = f"sqlite:///{tmp_path / 'cli.db'}"
    result = runner.invoke(
        app, ["admin", "create-firm", "SF Express", "--role", "firm", "--database-url", url]
    )
    assert result.exit_code == 0, result.output
    key = result.stdout.strip().splitlines()[-1]
    db = Database(url)
    with db.reading() as session:
        assert authenticate(session, key).name == "SF Express"
    again = runner.invoke(app, ["admin", "create-firm", "SF Express", "--database-url", url])
    assert again.exit_code == 2 and "already exists" in again.output
    bad = runner.invoke(app, ["admin", "create-firm", "X", "--role", "boss", "--database-url", url])
    assert bad.exit_code == 2 and "role must be one of" in bad.output
    blank = runner.invoke(app, ["admin", "create-firm", "  ", "--database-url", url])
    assert blank.exit_code == 2 and "name: a firm needs a name" in blank.output
    spaced = runner.invoke(app, ["admin", "create-firm", " YTO ", "--database-url", url])
    assert spaced.exit_code == 0
    with db.reading() as session:
        assert authenticate(session, spaced.stdout.strip().splitlines()[-1]).name == "YTO"


def test_lockers_import_is_idempotent_and_validates_all_first(tmp_path):
    url = f"sqlite:///{tmp_path / 'cli.db'}"
    path = tmp_path / "lockers.geojson"
    features = [_feature("a", 120.38, 36.06, area="Shinan"), _feature("b", 120.39, 36.07)]
    path.write_text(json.dumps({"type": "FeatureCollection", "features": features}))
    result = runner.invoke(app, ["lockers", "import", str(path), "--database-url", url])
    assert result.exit_code == 0, result.output
    assert "imported 2 lockers" in result.output
    result = runner.invoke(app, ["lockers", "import", str(path), "--database-url", url])
    assert "imported 0 lockers (2 already present)" in result.output

    features.append(_feature("c", 120.40, 36.08))
    features.append(_feature("d", 120.41, 36.09, compartments={"XL": 1}))
    path.write_text(json.dumps({"type": "FeatureCollection", "features": features}))
    result = runner.invoke(app, ["lockers", "import", str(path), "--database-url", url])
    assert result.exit_code != 0
    assert "feature 3 (ref 'd')" in str(result.exception)
    assert "'XL'" in str(result.exception)
    with Database(url).reading() as session:
        assert sorted(session.scalars(select(Locker.external_ref))) == ["a", "b"]


def _reservations_refused(monkeypatch, capsys, data_dir: Path, action: str) -> str:
    """What `gongpei reservations ACTION` prints on stderr, with no database URL given and
    the data folder at ``data_dir``; it must exit 2."""
    monkeypatch.setenv("GONGPEI_DATA_DIR", str(data_dir))
    monkeypatch.delenv("GONGPEI_DATABASE_URL", raising=False)
    monkeypatch.setattr(sys, "argv", ["gongpei", "reservations", action, "0" * 32])
    with pytest.raises(SystemExit) as done:
        run()
    assert done.value.code == 2
    return capsys.readouterr().err.strip()


NO_DATABASE_HINT = (
    "(`gongpei serve` creates it; or give the platform's URL with --database-url or "
    "GONGPEI_DATABASE_URL)"
)


@pytest.mark.parametrize("action", ["unlock", "release"])
def test_reservations_without_a_database_say_so_and_make_none(
    tmp_path, monkeypatch, capsys, action
):
    """Staff at a locker on a machine without the platform's database get one line saying where
    none was found, not SQLAlchemy's traceback, and no empty database file is left behind."""
    err = _reservations_refused(monkeypatch, capsys, tmp_path, action)
    assert err == (
        f"error: --database-url: no platform database at sqlite:///{tmp_path}/gongpei.db "
        + NO_DATABASE_HINT
    )
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize("action", ["unlock", "release"])
@pytest.mark.parametrize("kind", ["missing", "a file"])
def test_reservations_without_a_data_folder_make_none(tmp_path, monkeypatch, capsys, action, kind):
    """Without a database URL and without the data folder the default one lives in, there is no
    database to change: one line says so, and the folder is not made along the way (it was, by
    the default URL, left behind empty); a file in its place is no traceback either."""
    folder = tmp_path / "nested" / "data"
    if kind == "a file":
        folder.parent.mkdir()
        folder.write_text("")
    err = _reservations_refused(monkeypatch, capsys, folder, action)
    assert err == f"error: --database-url: no platform database in {folder}: no such folder " + (
        NO_DATABASE_HINT
    )
    assert folder.is_file() if kind == "a file" else not folder.parent.exists()
