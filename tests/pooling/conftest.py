"""Small days for the pooling tests: plain data, so each test can bend one field."""

import copy

import pytest

# Around a tower at (36.0660, 120.3800) in Qingdao; 0.001 deg of latitude is about 111 m.
TOWER = (36.0660, 120.3800)


def _parcel(pid: str, firm: str, dlat: float, dlon: float, **extra) -> dict:
    return {"id": pid, "firm": firm, "at": [TOWER[0] + dlat, TOWER[1] + dlon], **extra}


BASE_DAY = {
    "name": "two firms, one tower",
    "travel": {"straight_line": True, "speed_kmh": 25, "circuity": 1.3, "walk_radius_m": 300},
    "firms": [
        {"id": "sf", "depot": [36.0900, 120.4100], "fleet": [{"count": 1, "fixed_cost": 50}]},
        {"id": "yto", "depot": [36.0950, 120.4050], "fleet": [{"count": 1, "fixed_cost": 50}]},
    ],
    "centres": [{"id": "hub", "at": [36.0800, 120.3950], "fleet": [{"count": 2}]}],
    "lockers": [{"id": "tower-locker", "at": list(TOWER), "free": {"S": 4, "M": 2, "L": 1}}],
    "parcels": [
        _parcel("sf-1", "sf", 0.0002, 0.0),
        _parcel("sf-2", "sf", -0.0003, 0.0004, size="M"),
        _parcel("sf-3", "sf", 0.0004, -0.0002),
        _parcel("yto-1", "yto", 0.0001, 0.0003),
        _parcel("yto-2", "yto", -0.0002, -0.0003, size="L"),
        _parcel("yto-3", "yto", 0.0003, 0.0001, size="XL"),
    ],
}


@pytest.fixture(scope="session")
def new_day():
    """A maker of fresh, editable copies of the two-firms-one-tower day."""
    return lambda: copy.deepcopy(BASE_DAY)


@pytest.fixture
def day_data(new_day) -> dict:
    """A fresh, editable copy of the two-firms-one-tower day."""
    return new_day()
