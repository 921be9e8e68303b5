"""A batch's integer too large for a float (400 digits, which JSON allows and Python reads
exactly) is a 422 saying so at its field: in a matrix it was an OverflowError, a 500."""

from __future__ import annotations

import pytest

BIG = 10**400
TOO_LARGE = (
    "is too large for a number (at most about 1.8e308), got 1000000000000000... (401 digits)"
)


def _problem(service: int = 60, far: int = 5) -> dict:
    return {
        "vehicles": [{"id": 1, "start_index": 0, "capacity": [9]}],
        "jobs": [{"id": 10, "location_index": 1, "service": service, "delivery": [1]}],
        "matrices": {"car": {"durations": [[0, far], [far, 0]]}},
    }


@pytest.mark.parametrize(
    ("problem", "loc", "msg"),
    [
        (_problem(far=BIG), ["matrices", "car", "durations"],
         f"matrices 'car': durations: entry [0][1] {TOO_LARGE}"),
        (_problem(service=BIG), ["jobs", 0, "service"], f"job '10': service: {TOO_LARGE}"),
    ],
)  # fmt: skip
def test_a_batchs_integer_too_large_for_a_float_is_a_422_saying_so(
    client, auth, problem: dict, loc: list, msg: str
) -> None:
    body = {"format": "vroom", "problem": problem, "time_limit_s": 1}
    r = client.post("/v1/batches", json=body, headers=auth["a"])
    assert r.status_code == 422, r.text
    [detail] = r.json()["detail"]
    assert (detail["loc"], detail["msg"]) == (["body", "problem", *loc], msg)
