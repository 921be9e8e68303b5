"""A batch (the HTTP API's `problem`, native or VROOM) read with its top-level `datum`: the
worker and the submission check both read it through `read_batch`, so both see WGS 84."""

from __future__ import annotations

import numpy as np
import pytest

from api.jobs.runner import read_batch
from network.datum import from_wgs84

WGS84 = [(32.0438, 118.7789), (32.0470, 118.7850)]


def _vroom(points: list[tuple[float, float]], **extra: object) -> dict:
    at = [[lon, lat] for lat, lon in points]
    return {
        "vehicles": [{"id": 1, "start": at[0], "end": at[0]}],
        "jobs": [{"id": 10, "location": at[1]}],
        "travel": {"source": "straight_line"},
        **extra,
    }


@pytest.mark.parametrize("estimate", [False, True])
def test_a_vroom_batch_in_gcj02_reads_as_wgs84(estimate: bool) -> None:
    twin = [from_wgs84("gcj02", *p) for p in WGS84]
    payload = {"format": "vroom", "problem": _vroom(twin, datum="gcj02")}
    problem = read_batch(payload, estimate=estimate)
    got = [(loc.lat, loc.lon) for loc in problem.locations]
    assert np.array(got) == pytest.approx(np.array(WGS84), abs=1e-7)
