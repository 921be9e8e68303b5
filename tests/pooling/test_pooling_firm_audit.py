"""What a firm checks by hand in a pooling run: its stops, its saving, who carries its parcels."""

import pytest

from routing.pooling.compare import SolveSettings, compare_day
from routing.pooling.day import parse_day
from routing.pooling.travel import day_travel

FAST = SolveSettings(
    engine="ortools", time_limit_s=0.5, coalition_time_limit_s=0.4, min_time_limit_s=0.2
)


def compared(data, settings=FAST):
    day = parse_day(data)
    return compare_day(day, day_travel(day), settings)


@pytest.fixture(scope="module")
def one_door(new_day):
    """The two-firms day with every one of sf's parcels for the same door of the tower."""
    data = new_day()
    door = data["parcels"][0]["at"]
    for parcel in data["parcels"]:
        if parcel["firm"] == "sf":
            parcel["at"] = list(door)
    return compared(data)


def test_parcels_for_one_door_are_one_stop(one_door):
    # sf's three parcels share one door: its van parks there once, not three times (each
    # parcel's own location index in the routing problem counted a stop each)
    assert one_door.solo["sf"].figures.stops == 1
    assert one_door.solo["yto"].figures.stops == 3


@pytest.fixture(scope="module")
def no_gain(new_day):
    """sf's parcels are at its own depot, which its free e-tricycle serves for nothing: pooled,
    the hub's van must drive out to them and sf's line haul to the hub costs too."""
    data = new_day()
    depot = data["firms"][0]["depot"]
    data["firms"][0]["fleet"] = [
        {"type": "e-tricycle", "count": 1, "fixed_cost": 0, "cost_per_km": 0, "cost_per_hour": 0}
    ]
    for parcel in data["parcels"]:
        if parcel["firm"] == "sf":
            parcel["at"] = list(depot)
    return compared(data)


def test_a_firm_that_gains_nothing_pays_no_more_than_alone_and_is_told_so(no_gain):
    # sf's own plan costs nothing; the split used to be of both firms pooled, and charged sf a
    # share of a plan dearer than sf on its own (the warning said it "gains nothing by pooling").
    # The split is now of the day's best arrangement, sf on its own, and sf pays at most 0.
    row = {r["firm"]: r for r in no_gain.firm_rows()}["sf"]
    assert row["solo_cost"] == 0 and row["pooled_shapley"] <= 0
    assert row["pooled_saving"] == -row["pooled_shapley"]
    split = no_gain.splits["pooled"]
    assert not split.all_pooled and ("sf",) in [g.firms for g in split.arrangement]
    assert split.cost < no_gain.pooled.figures.cost
    warned = [w for w in no_gain.warnings() if w.startswith("pooled: pooling every firm is not")]
    assert len(warned) == 1 and "sf on its own" in warned[0], no_gain.warnings()
    assert f"every firm pooled costs {no_gain.pooled.figures.cost:.2f}" in warned[0]


def test_routes_say_whose_parcels_each_vehicle_carries(one_door):
    from routing.pooling.output import route_features

    for kind, features in route_features(one_door).items():
        carried: dict[str, str] = {}  # parcel -> the vehicle that brings it
        for feature in features:
            props = feature["properties"]
            if feature["geometry"]["type"] == "LineString" and "trips" not in props:  # a route
                assert props["parcels"] == len(props["parcel_ids"]), (kind, props)
                carried.update(dict.fromkeys(props["parcel_ids"], props["vehicle"]))
            elif props.get("type") == "job":
                assert props["firms"] == sorted({p.split("-")[0] for p in props["parcel_ids"]})
                for parcel in props["parcel_ids"]:  # its stop's vehicle is its route's
                    assert carried[parcel] == props["vehicle"], (kind, parcel)
        delivered = {p.id for p in one_door.day.parcels} - {
            row["parcel"] for row in one_door.unserved_list()[kind]
        }
        assert set(carried) == delivered, kind
