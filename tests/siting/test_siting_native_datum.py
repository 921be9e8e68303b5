"""A native siting file's `datum`: the points it lists or names (demand, candidates, existing)
are read into WGS 84, so the instance is its WGS 84 twin's."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from network.datum import from_wgs84
from routing.siting.errors import SitingInputError
from routing.siting.native import read_native

#: Around Xinjiekou, Nanjing, in WGS 84 (lat, lon).
DEMAND = [(32.0438, 118.7789), (32.0452, 118.7801), (32.0419, 118.7833)]
SITES = [(32.0440, 118.7795), (32.0425, 118.7820)]
GATE = (32.0466, 118.7762)


def write(folder: Path, datum: str, *, named: bool = True) -> Path:
    """A straight-line native file whose every point is given in ``datum``; its demand is a
    CSV file it names, its candidates and existing locker are listed in it."""
    folder.mkdir(parents=True, exist_ok=True)
    rows = "".join(
        f"d{k},{lat!r},{lon!r},5\n"
        for k, (lat, lon) in enumerate(from_wgs84(datum, *p) for p in DEMAND)
    )
    (folder / "demand.csv").write_text("id,lat,lon,parcels\n" + rows)
    sites = [dict(zip(("lat", "lon"), from_wgs84(datum, *p), strict=True)) for p in SITES]
    gate = dict(zip(("lat", "lon"), from_wgs84(datum, *GATE), strict=True))
    spec = {
        "straight_line": True,
        "radius_m": 400,
        "demand": "demand.csv",
        "candidates": [{"id": f"s{k}", **site} for k, site in enumerate(sites)],
        "existing": [{"id": "gate", **gate}],
        "model": {"kind": "maxcover", "p": 1},
        **({"datum": datum} if named else {}),
    }
    path = folder / "site.json"
    path.write_text(json.dumps(spec))
    return path


def lonlat(path: Path) -> np.ndarray:
    inst, _ = read_native(path)
    return np.vstack([inst.demand_lonlat, inst.site_lonlat])


@pytest.mark.parametrize("datum", ["gcj02", "bd09"])
def test_a_native_file_in_a_chinese_datum_reads_as_its_wgs84_twin(
    tmp_path: Path, datum: str
) -> None:
    """Before, `datum` was refused as an unknown field."""
    plain = lonlat(write(tmp_path / "wgs84", "wgs84"))
    assert lonlat(write(tmp_path / datum, datum)) == pytest.approx(plain, abs=1e-7)
    raw = lonlat(write(tmp_path / "raw", datum, named=False))
    assert np.abs(raw - plain).max() > 2e-3


def test_a_bad_datum_is_named(tmp_path: Path) -> None:
    path = write(tmp_path, "wgs84")
    path.write_text(path.read_text().replace('"wgs84"', '"wsg84"'))
    with pytest.raises(SitingInputError, match=r"datum: 'wsg84' is not a datum .*'wgs84'\?"):
        read_native(path)
