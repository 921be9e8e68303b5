"""A pooling day's top-level `datum`: its depots, centres, lockers and parcels, given in GCJ-02
or BD-09 ([lat, lon] or lat/lon), are the WGS 84 of the same day; a siting plan's lockers
(WGS 84, as every output) are left as they are."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import yaml

from network.datum import from_wgs84
from routing.pooling.day import Day, parse_day, with_lockers
from routing.pooling.errors import PoolingError

EXAMPLE = Path(__file__).resolve().parents[2] / "routing/pooling/examples/shinan-towers.yaml"


def example() -> dict[str, Any]:
    return yaml.safe_load(EXAMPLE.read_text())


def points(day: Day) -> np.ndarray:
    at = [f.depot for f in day.firms] + [c.at for c in day.centres]
    at += [lk.at for lk in day.lockers] + [p.at for p in day.parcels]
    return np.array([p.pair() for p in at])


def in_datum(data: dict[str, Any], datum: str, *, named: bool = True) -> dict[str, Any]:
    """The day with every point given in ``datum``: lockers as lat/lon mappings, the rest as
    [lat, lon] pairs, as a day may mix them."""
    twin = copy.deepcopy(data)
    for key, at in (("firms", "depot"), ("centres", "at"), ("lockers", "at"), ("parcels", "at")):
        for item in twin[key]:
            lat, lon = from_wgs84(datum, *item[at])
            item[at] = {"lat": lat, "lon": lon} if key == "lockers" else [lat, lon]
    if named:
        twin["datum"] = datum
    return twin


@pytest.mark.parametrize("datum", ["gcj02", "bd09"])
def test_a_day_in_a_chinese_datum_reads_as_its_wgs84_twin(datum: str) -> None:
    """Before, `datum` was refused as an unknown key."""
    plain = points(parse_day(example()))
    assert points(parse_day(in_datum(example(), datum))) == pytest.approx(plain, abs=1e-7)
    unconverted = points(parse_day(in_datum(example(), datum, named=False)))
    assert np.abs(unconverted - plain).max() > 2e-3


def test_lockers_added_later_are_not_converted_again() -> None:
    """`with_lockers` (the platform's live lockers, WGS 84) re-reads the day it is given,
    which is WGS 84 by then: nothing moves twice."""
    day = parse_day(in_datum(example(), "gcj02"))
    more = with_lockers(day, [{"id": "live", "at": [36.07, 120.37], "free": {"S": 1}}])
    assert more.lockers[-1].at.pair() == (36.07, 120.37)
    without = more.model_copy(update={"lockers": more.lockers[:-1]})
    assert points(without) == pytest.approx(points(day), abs=1e-12)


def test_a_siting_plans_lockers_stay_wgs84(tmp_path: Path) -> None:
    plan = {"sites": [{"id": "s1", "lat": 36.06, "lon": 120.38, "compartments": {"S": 4}}]}
    (tmp_path / "plan.json").write_text(json.dumps(plan))
    data = {**in_datum(example(), "bd09"), "lockers_from": {"siting": "plan.json"}}
    day = parse_day(data, base_dir=tmp_path)
    assert day.lockers[-1].id == "s1" and day.lockers[-1].at.pair() == (36.06, 120.38)


def test_a_bad_datum_is_named() -> None:
    with pytest.raises(PoolingError, match=r"^datum: 'bd-9' is not a datum .*'bd09'\?"):
        parse_day({**example(), "datum": "bd-9"})


def test_a_misspelt_datum_is_named() -> None:
    with pytest.raises(PoolingError, match=r"^unknown field 'datun'; did you mean 'datum'\?"):
        parse_day({**example(), "datun": "gcj02"})
