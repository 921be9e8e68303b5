"""Lockers with live free compartments from the platform's open API (the real app, on SQLite)."""

import re

import httpx
import pytest
from fastapi.testclient import TestClient

from api.app import create_app
from api.cli.pool_cmd import platform_lockers
from api.db.engine import Database
from api.db.migrate import upgrade
from api.lockers import create_locker
from api.settings import Settings
from routing.pooling.day import parse_day, with_lockers
from routing.pooling.errors import PoolingError
from routing.pooling.plans import pooled_plan
from routing.pooling.travel import day_travel


@pytest.fixture
def platform(tmp_path):
    url = f"sqlite:///{tmp_path / 'gongpei.db'}"
    database = Database(url)
    upgrade(database.engine)
    with database.writing() as session:
        # At the tower of the test day, and one 30 km away (beyond every parcel's reach).
        create_locker(
            session, name="tower", lat=36.0661, lon=120.3801, compartments={"S": 3, "M": 1}
        )
        create_locker(session, name="far", lat=36.33, lon=120.38, compartments={"S": 9})
    database.dispose()
    settings = Settings(database_url=url, search_cache_s=0.0, public_rate_per_s=0.0)
    with TestClient(create_app(settings)) as client:
        yield client


def test_live_lockers_join_the_day(platform, day_data):
    day_data["lockers"] = []
    day = parse_day(day_data)
    lockers = platform_lockers(platform, day)
    assert [(lk["free"]["S"], lk["free"]["M"]) for lk in lockers] == [(3, 1)]
    day = with_lockers(day, lockers)
    plan = pooled_plan(day, day_travel(day), day.firm_ids(), lockers=True)
    (drop,) = plan.lockers.drops
    assert drop.locker == lockers[0]["id"] and len(drop.parcels) == 4  # 3 S + 1 M compartments


def test_an_unreachable_platform_is_one_clear_error(day_data):
    day = parse_day(day_data)
    with (
        httpx.Client(base_url="http://127.0.0.1:9") as client,
        pytest.raises(
            PoolingError, match=re.escape("platform http://127.0.0.1:9: lockers not available")
        ),
    ):
        platform_lockers(client, day)
