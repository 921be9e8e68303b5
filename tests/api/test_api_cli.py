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
from api.lockers import LockerInputError
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
    assert blank.exit_code == 2 and "name: must not be empty or only spaces" in blank.output
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


def test_create_firm_prints_the_name_it_stored(tmp_path):
    url = f"sqlite:///{tmp_path / 'cli.db'}"
    result = runner.invoke(app, ["admin", "create-firm", "  Spacey Co  ", "--database-url", url])
    assert result.exit_code == 0, result.output
    assert "firm 1 'Spacey Co' (firm)" in result.output  # was '  Spacey Co  ', not what is stored


def test_lockers_import_stores_names_without_surrounding_spaces(tmp_path):
    """As `POST /v1/lockers` does: the file's "  Esplanadi  " was stored with its spaces."""
    url = f"sqlite:///{tmp_path / 'cli.db'}"
    path = tmp_path / "lockers.geojson"
    feature = _feature("a", 24.95, 60.17, name="  Esplanadi  ")
    path.write_text(json.dumps({"type": "FeatureCollection", "features": [feature]}))
    result = runner.invoke(app, ["lockers", "import", str(path), "--database-url", url])
    assert result.exit_code == 0, result.output
    with Database(url).reading() as session:
        assert list(session.scalars(select(Locker.name))) == ["Esplanadi"]


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (lambda f: f["properties"].update(name=" \t "), "property 'name' must not be empty or"),
        (lambda f: f["properties"].pop("name"), "property 'name' is missing"),
        (lambda f: f["properties"].update(name=7), "property 'name' must be text, got 7"),
        (
            lambda f: f["geometry"].update(coordinates=[True, False]),
            "coordinates: must be a number, got true",
        ),
        (lambda f: f.update(properties=["Esplanadi"]), "properties must be an object"),
    ],
)
def test_lockers_import_says_what_is_wrong_with_a_feature(tmp_path, change, message):
    """A blank name was said to be missing; `[true, false]` was a locker at (1, 0); properties
    that are no object crashed the import."""
    url = f"sqlite:///{tmp_path / 'cli.db'}"
    path = tmp_path / "lockers.geojson"
    feature = _feature("a", 24.95, 60.17)
    change(feature)
    path.write_text(json.dumps({"type": "FeatureCollection", "features": [feature]}))
    result = runner.invoke(app, ["lockers", "import", str(path), "--database-url", url])
    assert result.exit_code != 0
    assert isinstance(result.exception, LockerInputError), result.exception
    assert message in str(result.exception)
    with Database(url).reading() as session:
        assert list(session.scalars(select(Locker.id))) == []


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
