"""A day's unknown key is named as such, with the field it likely misspells or else the fields
allowed there: pydantic's "Extra inputs are not permitted" gave neither (a parcel's `weight`
left the reader to guess `kg`)."""

import re

import pytest

from routing.pooling.day import parse_day
from routing.pooling.errors import PoolingError


def _refused(day_data: dict, **kw) -> str:
    with pytest.raises(PoolingError) as info:
        parse_day(day_data, **kw)
    return str(info.value)


def test_an_unknown_parcel_field_lists_the_fields_a_parcel_has(day_data):
    day_data["parcels"][0]["weight"] = 2.5
    assert _refused(day_data) == (
        "parcel 'sf-1': unknown field 'weight' (known: id, firm, at, size, kg, service_s, "
        "window, locker)"
    )


@pytest.mark.parametrize(
    ("path", "key", "expected"),
    [
        (("parcels", 1), "servce_s", "parcel 'sf-2': unknown field 'servce_s'; did you mean "
                                     "'service_s'?"),
        (("firms", 0, "fleet", 0), "fixed_cots", "firm 'sf': fleet.0: unknown field "
                                                 "'fixed_cots'; did you mean 'fixed_cost'?"),
        ((), "parcel", "unknown field 'parcel'; did you mean 'parcels'?"),
        (("travel",), "Speed_KMH", "travel: unknown field 'Speed_KMH'; did you mean 'speed_kmh'?"),
    ],
)  # fmt: skip
def test_a_misspelt_key_gets_the_field_it_likely_meant(day_data, path, key, expected):
    node = day_data
    for part in path:
        node = node[part]
    node[key] = 1
    assert _refused(day_data) == expected


def test_a_misspelt_lockers_from_key_is_named_under_lockers_from(tmp_path, day_data):
    day_data["lockers_from"] = {"siting": "plan.json", "free_shar": 0.8}
    message = "lockers_from: unknown field 'free_shar'; did you mean 'free_share'?"
    with pytest.raises(PoolingError, match=re.escape(message)):
        parse_day(day_data, base_dir=tmp_path)
