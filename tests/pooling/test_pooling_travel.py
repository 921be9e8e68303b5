"""A generated day on a synthetic city: road matrices and walking distances from the graphs."""

import numpy as np
import pytest

from network.errors import GongpeiError
from network.synthetic import synthetic_city
from routing.pooling.day import parse_day
from routing.pooling.generate import generate_day
from routing.pooling.plans import pooled_plan
from routing.pooling.travel import day_travel


@pytest.fixture(scope="module")
def city():
    return {"van": synthetic_city(150, seed=0), "walk": synthetic_city(150, profile="walk")}


def test_generated_day_on_a_road_graph(city):
    data = generate_day(city["van"], source="synthetic:150", firms=3, parcels_per_firm=8, seed=2)
    day = parse_day(data)
    assert day.firm_ids() == ["f1", "f2", "f3"] and len(day.parcels) == 24
    travel = day_travel(day, graphs=city)
    n = len(travel.places.points)
    assert travel.durations["van"].shape == (n, n)
    assert np.isfinite(travel.durations["van"]).all()  # the city is strongly connected
    assert travel.source == "road graph synthetic:150"
    walk = travel.walk_m
    assert walk.shape == (24, len(day.lockers))
    reached = np.isfinite(walk)
    assert reached.any() and (walk[reached] <= day.travel.walk_radius_m).all()


def test_a_parcel_off_the_map_is_named(city):
    data = generate_day(city["van"], source="synthetic:150", firms=2, parcels_per_firm=3)
    data["parcels"][1]["at"] = [36.2, 120.5]  # in the Yellow Sea, 17 km off
    with pytest.raises(GongpeiError, match=r"parcel f1-2.*from the nearest usable road"):
        day_travel(parse_day(data), graphs=city)


def test_e_tricycles_drive_on_their_own_graph(city):
    data = generate_day(city["van"], source="synthetic:150", firms=2, parcels_per_firm=4)
    data["centres"][0]["fleet"].append({"type": "e-tricycle", "count": 2, "capacity_parcels": 30})
    day = parse_day(data)
    travel = day_travel(day, graphs=city)  # the e-tricycle graph is built from the source
    assert set(travel.durations) == {"van", "e-tricycle"}
    plan = pooled_plan(day, travel, day.firm_ids())
    assert set(plan.problem.matrices) == {"van", "e-tricycle"}
    assert {plan.vehicle_type[v.id] for v in plan.problem.vehicles} == {"van", "e-tricycle"}
    assert day.known_vehicle_types()["e-tricycle"].co2_g_per_km < 20
