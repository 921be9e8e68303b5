"""The line haul of pooled plans: each firm's parcels brought from its depot to the centres."""

import math

import pytest

from routing.pooling.compare import SolveSettings, compare_day
from routing.pooling.day import parse_day
from routing.pooling.errors import PoolingError
from routing.pooling.travel import day_travel

FAST = SolveSettings(
    engine="ortools", time_limit_s=0.5, coalition_time_limit_s=0.4, min_time_limit_s=0.2
)
HUB = (36.0800, 120.3950)


def _haversine_m(a: tuple[float, float], b: tuple[float, float]) -> float:
    """Great-circle metres, written out here so the test does not lean on routing.travel."""
    lat1, lon1, lat2, lon2 = map(math.radians, (*a, *b))
    h = math.sin((lat2 - lat1) / 2) ** 2
    h += math.cos(lat1) * math.cos(lat2) * math.sin((lon2 - lon1) / 2) ** 2
    return 2 * 6_371_008.8 * math.asin(math.sqrt(h))


def _round_trip(depot: list[float]) -> tuple[float, float]:
    """(km, hours) from a depot to the hub and back: straight line x 1.3 at 25 km/h."""
    km = 2 * _haversine_m(tuple(depot), HUB) * 1.3 / 1000
    return km, km / 25


def _compare(data):
    day = parse_day(data)
    return compare_day(day, day_travel(day), FAST)


def test_each_firm_pays_one_truck_trip_to_the_hub(day_data):
    result = _compare(day_data)
    pooled = result.pooled.figures
    expected = {}
    for firm in day_data["firms"]:
        km, hours = _round_trip(firm["depot"])
        # The default line haul: a van at 1.0 per km and 30 per hour, no fixed cost.
        expected[firm["id"]] = (km, hours, 1.0 * km + 30.0 * hours)
    assert pooled.transfer_trips == 2
    assert pooled.transfer_km == pytest.approx(sum(e[0] for e in expected.values()), rel=1e-3)
    assert pooled.transfer_cost == pytest.approx(sum(e[2] for e in expected.values()), rel=1e-3)
    # The line haul is inside the plan's cost, km and CO2 (a van emits 240 g/km).
    assert pooled.co2_kg == pytest.approx(0.240 * pooled.vehicle_km)
    for row in result.firm_rows():
        assert row["pooled_transfer_cost"] == pytest.approx(expected[row["firm"]][2], abs=0.01)
    # Delivering alone drives no line haul.
    assert all(plan.figures.transfer_km == 0 for plan in result.solo.values())


def test_trips_follow_the_truck_capacity_in_parcels_and_in_weight(day_data):
    day_data["transfer"] = {"capacity_parcels": 2}
    assert _compare(day_data).pooled.figures.transfer_trips == 4  # 3 parcels each: 2 + 2
    day_data["transfer"] = {"capacity_kg": 1.5}
    # sf's parcels weigh 1 kg each (the default): 3 kg in trucks of 1.5 kg is 2 trips each.
    assert _compare(day_data).pooled.figures.transfer_trips == 4


def test_a_firm_may_bring_its_own_truck(day_data):
    day_data["firms"][0]["transfer"] = {
        "fixed_cost": 10.0,
        "cost_per_km": 0.0,
        "cost_per_hour": 0.0,
        "handling_per_parcel": 1.5,
    }
    rows = {row["firm"]: row for row in _compare(day_data).firm_rows()}
    assert rows["sf"]["pooled_transfer_cost"] == pytest.approx(10.0 + 3 * 1.5)
    km, hours = _round_trip(day_data["firms"][1]["depot"])
    assert rows["yto"]["pooled_transfer_cost"] == pytest.approx(km + 30 * hours, abs=0.01)


def test_no_line_haul_when_parcels_reach_the_centre_anyway(day_data):
    charged = _compare(day_data).pooled.figures
    day_data["transfer"] = None
    free = _compare(day_data).pooled.figures
    assert free.transfer_cost == free.transfer_km == free.transfer_trips == 0
    assert free.cost == pytest.approx(charged.cost - charged.transfer_cost, rel=0.05)


def test_a_long_line_haul_makes_pooling_dearer_than_delivering_alone(day_data):
    # Both depots next to the tower, the hub 30 km away: pooling must not look like a saving.
    day_data["firms"][0]["depot"] = [36.0665, 120.3805]
    day_data["firms"][1]["depot"] = [36.0655, 120.3795]
    day_data["centres"][0]["at"] = [36.3500, 120.3800]
    result = _compare(day_data)
    figures = result.plan_figures()
    assert figures["pooled"].transfer_km > 100
    assert figures["pooled"].cost > figures["solo"].cost
    # The split is of the day's best arrangement, the firms alone (it was of the plan reported,
    # and charged each firm more than alone): no firm pays more, and a warning says why.
    split = result.splits["pooled"]
    assert not split.all_pooled and split.cost <= figures["solo"].cost + 1e-9
    assert sum(split.shapley.shares.values()) == pytest.approx(split.cost)
    for firm, share in split.shapley.shares.items():
        assert share <= result.solo[firm].figures.cost + 1e-9
    assert not split.blocking
    assert any("not the cheapest arrangement" in w for w in result.warnings())


def _two_centres(day_data):
    """A second centre 11 km north of the hub, next to two more of sf's parcels."""
    north = [36.1800, 120.3950]
    day_data["centres"].append({"id": "north", "at": north, "fleet": [{"count": 1}]})
    for k in (1, 2):
        at = [north[0] + 0.0003 * k, north[1]]
        day_data["parcels"].append({"id": f"sf-n{k}", "firm": "sf", "at": at})
    return day_data


def _loads(plan):
    """(firm, centre) pairs of the parcels each centre's vehicles deliver."""
    loads = set()
    for route in plan.solution.routes:
        centre = plan.built.problem.vehicle(route.vehicle).start
        for step in route.task_steps():
            loads.add((step.id.split("-")[0], centre))
    return loads


def test_loads_are_hauled_to_the_centre_that_delivers_them(day_data):
    # A line haul that costs nothing: the north van takes the north parcels.
    day_data = _two_centres(day_data)
    day_data["transfer"] = {"cost_per_km": 0.0, "cost_per_hour": 0.0}
    plan = _compare(day_data).pooled
    loads = _loads(plan)
    assert ("sf", "centre:north") in loads and ("sf", "centre:hub") in loads
    assert plan.figures.transfer_trips == len(loads) and plan.built.centre_of is None


def test_a_firm_split_over_centres_is_tried_from_one(day_data):
    # Each line haul trip costs 500: sf's second trip (north) costs more than the hub's van
    # driving 11 km north, so the plan with sf at one centre wins.
    day_data = _two_centres(day_data)
    day_data["transfer"] = {"fixed_cost": 500.0}
    result = _compare(day_data)
    for plan in (result.pooled, result.lockers):
        assert plan.built.centre_of == {"sf": "hub", "yto": "hub"}
        assert _loads(plan) <= {
            ("sf", "centre:hub"),
            ("yto", "centre:hub"),
            ("locker:tower", "centre:hub"),
        }
        assert plan.figures.transfer_trips == 2 and plan.report.ok
    assert result.summary()["centre_of_firm"]["pooled"] == {"sf": "hub", "yto": "hub"}


def test_a_truck_carries_more_and_emits_more(day_data):
    day_data["transfer"] = {"type": "truck", "capacity_parcels": 1000, "cost_per_km": 2.0}
    pooled = _compare(day_data).pooled.figures
    delivery_km = pooled.vehicle_km - pooled.transfer_km
    assert pooled.co2_kg == pytest.approx(0.240 * delivery_km + 0.520 * pooled.transfer_km)
    km, hours = _round_trip(day_data["firms"][0]["depot"])
    km2, hours2 = _round_trip(day_data["firms"][1]["depot"])
    expected = 2.0 * (km + km2) + 30.0 * (hours + hours2)
    assert pooled.transfer_cost == pytest.approx(expected, rel=1e-3)


def test_a_transfer_truck_of_unknown_type_is_named(day_data):
    day_data["transfer"] = {"type": "barge"}
    with pytest.raises(PoolingError, match="transfer: vehicle type 'barge' is unknown"):
        parse_day(day_data)
    day_data["transfer"] = {"capacity_parcels": 0}
    with pytest.raises(PoolingError, match="transfer: capacity_parcels"):
        parse_day(day_data)
    del day_data["transfer"]
    day_data["firms"][1]["transfer"] = {"type": "barge"}
    with pytest.raises(PoolingError, match="firm 'yto': transfer: vehicle type 'barge'"):
        parse_day(day_data)
