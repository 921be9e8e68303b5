"""A pooling day's numbers are numbers: text such as `"kg": "3"` or `"at": ["60.17", 24.94]`
was read as a number (the day's `Int`/`Float` were lax), while a batch's problem and the API's
own fields refuse it."""

from __future__ import annotations

import pytest

from routing.pooling.day import parse_day
from routing.pooling.errors import PoolingError

DAY = {
    "name": "t",
    "travel": {"source": "straight_line"},
    "firms": [{"id": "A", "depot": [60.17, 24.94], "fleet": [{"count": 1}]}],
    "centres": [{"id": "hub", "at": [60.171, 24.941], "fleet": [{"count": 1}]}],
    "parcels": [{"id": "p1", "firm": "A", "at": [60.172, 24.942], "kg": 3}],
}


def test_the_day_as_written_is_read() -> None:
    assert parse_day(DAY).parcels[0].kg == 3


@pytest.mark.parametrize(("change", "field"), [
    ({"kg": "3"}, "kg"),
    ({"at": ["60.172", 24.942]}, "at"),
])
def test_numbers_written_as_text_are_refused(change: dict, field: str) -> None:
    day = {**DAY, "parcels": [{**DAY["parcels"][0], **change}]}
    with pytest.raises(PoolingError, match=rf"{field}.*expected a number, not the text"):
        parse_day(day)
