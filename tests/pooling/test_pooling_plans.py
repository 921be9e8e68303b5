"""Plan builders: each plan's routing problem holds the right parcels, vehicles and stops."""

import numpy as np
import pytest

from routing.pooling.day import parse_day
from routing.pooling.plans import pooled_plan, solo_plan
from routing.pooling.travel import day_places, day_travel


@pytest.fixture
def day(day_data):
    return parse_day(day_data)


def test_straight_line_travel_is_geodesic_times_circuity(day):
    travel = day_travel(day)
    places = day_places(day)
    assert set(travel.durations) == {"van"}
    d = travel.distances["van"]
    assert d.shape == (len(places.points),) * 2
    assert np.allclose(d, d.T) and np.all(np.diag(d) == 0)
    # sf-3 is 0.0002 deg north and west of sf-1: 22.2 m north, 17.9 m west, times 1.3.
    a, b = places.parcel["sf-1"], places.parcel["sf-3"]
    assert d[a, b] == pytest.approx(
        np.hypot(22.2, 22.2 * np.cos(np.radians(36.07))) * 1.3, rel=0.01
    )
    assert travel.durations["van"][a, b] == pytest.approx(d[a, b] / (25 / 3.6), abs=0.1)
    assert "asked for" in travel.source


def test_solo_plan_has_only_the_firms_parcels_and_vehicles(day):
    plan = solo_plan(day, day_travel(day), "yto")
    problem = plan.problem
    assert [j.id for j in problem.jobs] == ["yto-1", "yto-2", "yto-3"]
    assert {v.firm for v in problem.vehicles} == {"yto"}
    assert [c.id for c in problem.centres] == ["depot:yto"]
    assert problem.pooled is False and plan.lockers is None
    assert problem.matrices["van"].size == 4  # the depot and three parcels


def test_pooled_plan_uses_the_shared_fleet(day):
    plan = pooled_plan(day, day_travel(day), ["sf", "yto"])
    assert len(plan.problem.jobs) == 6
    assert {v.start for v in plan.problem.vehicles} == {"centre:hub"}
    assert len(plan.problem.vehicles) == 2 and all(v.firm is None for v in plan.problem.vehicles)


def test_locker_plan_drops_what_fits_in_one_stop(day):
    plan = pooled_plan(day, day_travel(day), ["sf", "yto"], lockers=True)
    jobs = {j.id: j for j in plan.problem.jobs}
    assert set(jobs) == {"locker:tower-locker", "yto-3"}  # the XL parcel goes to the door
    drop = jobs["locker:tower-locker"]
    assert drop.delivery[0] == 5
    assert drop.service == pytest.approx(120 + 15 * 5)
    assert plan.job_parcels["locker:tower-locker"] == ("sf-1", "sf-2", "sf-3", "yto-1", "yto-2")
    assert plan.lockers.to_door == {"yto-3": "too large for any locker compartment"}


def test_locker_capacity_limits_the_drop(day_data):
    day_data["lockers"][0]["free"] = {"S": 1, "M": 0, "L": 0}
    day = parse_day(day_data)
    plan = pooled_plan(day, day_travel(day), ["sf", "yto"], lockers=True)
    (drop,) = plan.lockers.drops
    assert len(drop.parcels) == 1 and drop.compartments == {"S": 1}
    assert len(plan.problem.jobs) == 6 - 1 + 1


def test_a_firm_out_of_walking_reach_gets_no_locker_drop(day_data):
    for parcel in day_data["parcels"]:
        if parcel["firm"] == "yto":
            parcel["at"] = [parcel["at"][0] + 0.02, parcel["at"][1]]  # about 2 km north
    day = parse_day(day_data)
    plan = pooled_plan(day, day_travel(day), ["yto"], lockers=True)
    assert plan.lockers.drops == []
    assert all(
        "no locker within walking radius" in r or "too large" in r
        for r in plan.lockers.to_door.values()
    )


def test_a_locker_drop_larger_than_a_van_is_cut_into_vanloads(day_data):
    day_data["centres"][0]["fleet"] = [{"count": 3, "capacity_parcels": 2}]
    day = parse_day(day_data)
    plan = pooled_plan(day, day_travel(day), ["sf", "yto"], lockers=True)
    drops = {j: p for j, p in plan.job_parcels.items() if j.startswith("locker:")}
    assert list(drops) == [
        "locker:tower-locker#1",
        "locker:tower-locker#2",
        "locker:tower-locker#3",
    ]
    assert [len(p) for p in drops.values()] == [2, 2, 1]
    assert all(j.delivery[0] <= 2 for j in plan.problem.jobs)
