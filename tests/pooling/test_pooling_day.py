"""The day model: valid days load, bad ones fail with the item and the field named."""

import json
import re

import numpy as np
import pytest
import yaml

from routing.pooling.day import DEFAULT_COMPARTMENTS, Locker, Parcel, parse_day, read_day
from routing.pooling.errors import PoolingError
from routing.pooling.lockers import assign_lockers, fitting_sizes


def test_valid_day_loads_from_yaml(tmp_path, day_data):
    path = tmp_path / "day.yaml"
    path.write_text(yaml.safe_dump(day_data))
    day = read_day(path)
    assert day.firm_ids() == ["sf", "yto"]
    assert [p.id for p in day.parcels_of({"yto"})] == ["yto-1", "yto-2", "yto-3"]
    assert day.known_vehicle_types()["e-tricycle"].profile == "e-tricycle"


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (lambda d: d["parcels"][0].update(firm="zto"), "parcel 'sf-1': firm 'zto' is unknown"),
        (lambda d: d["firms"][1].update(fleet=[]), "firm 'yto': fleet: no vehicles"),
        (lambda d: d["parcels"][1].update(kg=-2), "parcel 'sf-2': kg: "),
        (lambda d: d["parcels"][1].update(locker="nowhere"), "locker 'nowhere' is unknown"),
        (lambda d: d["parcels"][0].update(size="XXL"), "parcel 'sf-1': size 'XXL' is unknown"),
        (
            lambda d: d["parcels"][0].update(window=["12:00", "09:00"]),
            "parcel 'sf-1': window: time window ends (09:00) before it starts (12:00)",
        ),
        (
            lambda d: d["parcels"][0].update(window={"start": 50000, "end": 30000}),
            "parcel 'sf-1': window: time window ends (08:20) before it starts (13:53:20)",
        ),
        (
            lambda d: d["firms"][0]["fleet"][0].update(shift={"start": "18:00", "end": "08:00"}),
            "firm 'sf': fleet.0.shift: time window ends (08:00) before it starts (18:00)",
        ),
        (
            lambda d: d["parcels"][0].update(size=[-10, 20, 5]),
            "parcel 'sf-1': size: dimensions are [length, width, height] in cm, three positive",
        ),
        (lambda d: d["parcels"][0].update(size=[0, 0, 0]), "got [0, 0, 0]"),
        (lambda d: d["parcels"][0].update(size=[10, 20]), "parcel 'sf-1': size: dimensions are"),
        (lambda d: d["lockers"][0]["free"].update(S=-1), "locker 'tower-locker': free: "),
        (lambda d: d["lockers"][0]["free"].update(XL=3), "compartment size XL is unknown"),
        (lambda d: d["firms"].append(dict(d["firms"][0])), "firm 'sf': id repeats"),
        (lambda d: d["firms"][0]["fleet"][0].update(type="drone"), "vehicle type 'drone'"),
        (lambda d: d.update(centres=[]), "centres: a day needs at least one shared centre"),
        (lambda d: d["travel"].update(source="demo"), "travel: give either a graph 'source'"),
        (lambda d: d["travel"].update(speed_kmh=1e12), "travel: speed_kmh: Input should be less"),
        (lambda d: d["travel"].update(circuity=1e10), "travel: circuity: Input should be less"),
        (
            lambda d: d.update(vehicle_types={"hover": {"co2_g_per_km": 0, "profile": "hover"}}),
            "vehicle_types: hover.profile: 'hover' is not a road profile; choose one of van,",
        ),
        (lambda d: d.update(parcels="many"), "parcels: "),
        (
            lambda d: d["firms"][0]["fleet"][0].update(count=10**9),
            "firm 'sf': fleet.0.count: Input should be less than or equal to 1000",
        ),
        (
            lambda d: d["centres"][0]["fleet"].append({"count": 1000}),
            "fleet: count: the day's fleets add up to 1004 vehicles, more than 1000",
        ),
    ],
)
def test_bad_day_names_item_and_field(day_data, change, message):
    change(day_data)
    with pytest.raises(PoolingError, match=re.escape(message)):
        parse_day(day_data)


@pytest.mark.parametrize(
    ("change", "field"),
    [
        (lambda d: d["firms"][0]["fleet"][0].update(count=True), "firm 'sf': fleet.0.count"),
        (
            lambda d: d["firms"][0]["fleet"][0].update(capacity_parcels=True),
            "firm 'sf': fleet.0.capacity_parcels",
        ),
        (lambda d: d["centres"][0]["fleet"][0].update(cost_per_km=True), "centre 'hub': fleet.0"),
        (
            lambda d: d["firms"][0]["fleet"][0].update(shift=[True, 36000]),
            "firm 'sf': fleet.0.shift",
        ),
        (lambda d: d["firms"][1].update(depot=[36.09, False]), "firm 'yto': depot.lon"),
        (lambda d: d["lockers"][0]["free"].update(S=True), "locker 'tower-locker': free.S"),
        (lambda d: d["parcels"][0].update(kg=True), "parcel 'sf-1': kg"),
        (lambda d: d["parcels"][0].update(service_s=False), "parcel 'sf-1': service_s"),
        (lambda d: d["parcels"][0].update(window={"start": 0, "end": True}), "parcel 'sf-1'"),
        (lambda d: d["travel"].update(walk_radius_m=True), "travel: walk_radius_m"),
        (lambda d: d.update(transfer={"handling_per_parcel": True}), "transfer: handling_per"),
        (lambda d: d.update(locker_stop={"per_parcel_s": True}), "locker_stop: per_parcel_s"),
        (lambda d: d.update(unserved_parcel_cost=True), "unserved_parcel_cost"),
        (lambda d: d.update(compartments={"S": [45, True, 55]}), "compartments: S.1"),
        (lambda d: d.update(vehicle_types={"cargo-bike": {"co2_g_per_km": True}}), "co2_g_per"),
    ],
)
def test_day_numbers_refuse_true_and_false(day_data, change, field):
    """YAML's `true` (or `yes`) was read as 1: `count: true` one van, `kg: yes` one kilogram."""
    change(day_data)
    with pytest.raises(PoolingError, match=re.escape(field) + ".*: expected a number, not true"):
        parse_day(day_data)


def test_unreadable_files_are_errors(tmp_path):
    with pytest.raises(PoolingError, match="cannot be read"):
        read_day(tmp_path / "missing.yaml")
    bad = tmp_path / "bad.yaml"
    bad.write_text("firms: [unclosed")
    with pytest.raises(PoolingError, match="not valid YAML"):
        read_day(bad)
    bad.write_text("- just a list")
    with pytest.raises(PoolingError, match="must hold a mapping"):
        read_day(bad)


def test_single_firm_day_is_valid(day_data):
    day_data["firms"] = day_data["firms"][:1]
    day_data["parcels"] = [p for p in day_data["parcels"] if p["firm"] == "sf"]
    assert parse_day(day_data).firm_ids() == ["sf"]


def test_parcel_fits_same_or_larger_compartment():
    sizes = DEFAULT_COMPARTMENTS
    assert fitting_sizes("S", sizes) == ["S", "M", "L"]
    assert fitting_sizes("L", sizes) == ["L"]
    assert fitting_sizes("XL", sizes) == []
    assert fitting_sizes([20, 44, 25], sizes) == ["M", "L"]
    assert fitting_sizes([44, 30, 25], sizes) == ["L"]  # turned on its side it fits
    assert fitting_sizes([50, 50, 50], sizes) == []


def _parcels(sizes, locker=None):
    return [
        Parcel(id=f"p{i}", firm="a", at=[0, 0], size=s, locker=locker) for i, s in enumerate(sizes)
    ]


def test_lockers_take_most_parcels_smallest_compartment_first():
    parcels = _parcels(["S", "S", "M", "L", "XL"])
    lockers = [Locker(id="A", at=[0, 0], free={"S": 1, "M": 2, "L": 1})]
    walk = np.full((5, 1), 100.0)
    got = assign_lockers(parcels, lockers, DEFAULT_COMPARTMENTS, walk, radius_m=300)
    (drop,) = got.drops
    # All four that fit get in: S->S, S->M, M->M, L->L; the XL parcel goes to the door.
    assert sorted(drop.parcels) == ["p0", "p1", "p2", "p3"]
    assert drop.compartments == {"S": 1, "M": 2, "L": 1}
    assert got.to_door == {"p4": "too large for any locker compartment"}


def test_lockers_respect_radius_and_free_compartments():
    parcels = _parcels(["S", "S", "S"])
    lockers = [Locker(id="near", at=[0, 0], free={"S": 1}), Locker(id="far", at=[0, 0])]
    walk = np.array([[100.0, 50.0], [200.0, np.inf], [900.0, 10.0]])
    got = assign_lockers(parcels, lockers, DEFAULT_COMPARTMENTS, walk, radius_m=300)
    assert got.locker_of() == {"p0": "near"} or got.locker_of() == {"p1": "near"}
    assert "p2" in got.to_door and "no free compartment" in got.to_door["p2"]


def test_chosen_locker_without_free_compartment_sends_parcel_to_door():
    parcels = _parcels(["M"], locker="full")
    lockers = [Locker(id="full", at=[0, 0], free={"S": 0, "M": 0, "L": 0})]
    got = assign_lockers(parcels, lockers, DEFAULT_COMPARTMENTS, np.zeros((1, 1)), radius_m=300)
    assert got.drops == []
    assert "locker 'full' (the recipient's choice) has no free compartment" in got.to_door["p0"]


def test_walking_matrix_shape_is_checked():
    with pytest.raises(PoolingError, match="expected \\(2, 1\\)"):
        assign_lockers(
            _parcels(["S", "S"]),
            [Locker(id="A", at=[0, 0], free={"S": 1})],
            DEFAULT_COMPARTMENTS,
            np.zeros((1, 1)),
            radius_m=10,
        )


def test_lockers_come_from_a_siting_plan(tmp_path, day_data):
    # The shape `gongpei site ... -o PLAN.json` writes (SitingSolution.to_dict): open sites
    # with coordinates and the compartments built of each size.
    plan = {
        "sites": [
            {"id": "s7", "lat": 36.066, "lon": 120.38, "load": 40.0,
             "compartments": {"S": 10, "M": 5, "L": 3}},
        ]
    }  # fmt: skip
    (tmp_path / "plan.json").write_text(json.dumps(plan))
    day_data["lockers_from"] = {"siting": "plan.json", "free_share": 0.5}
    path = tmp_path / "day.yaml"
    path.write_text(yaml.safe_dump(day_data))
    day = read_day(path)
    sited = day.lockers[-1]
    assert sited.id == "s7" and sited.at.pair() == (36.066, 120.38)
    assert sited.free == {"S": 5, "M": 2, "L": 1}
    assert [lk.id for lk in day.lockers] == ["tower-locker", "s7"]


@pytest.mark.parametrize(
    ("plan", "message"),
    [
        (None, "cannot be read"),
        ("not json", "is not JSON"),
        ({"open_site_ids": [1]}, "has no 'sites' list"),
        ({"sites": [{"id": 3, "compartments": {"S": 1}}]}, "site '3' has no lat/lon"),
        ({"sites": [{"id": 3, "lat": 36.0, "lon": 120.0}]}, "site '3' has no compartments"),
    ],
)
def test_bad_siting_plan_is_named(tmp_path, day_data, plan, message):
    if plan is not None:
        text = plan if isinstance(plan, str) else json.dumps(plan)
        (tmp_path / "plan.json").write_text(text)
    day_data["lockers_from"] = {"siting": "plan.json"}
    with pytest.raises(PoolingError, match=f"lockers_from: .*{re.escape(message)}"):
        parse_day(day_data, base_dir=tmp_path)



@pytest.mark.parametrize("items", ["firms", "centres", "lockers", "parcels"])
def test_a_day_id_is_at_most_200_characters(new_day, items):
    """The platform keeps a pooling run's firm ids in a 200-character column (PostgreSQL refused
    a longer one there, naming no field); every id of a day has that bound, named with its
    item."""

    def day_with_id(new: str) -> dict:
        day = new_day()
        old = day[items][0]["id"]
        day[items][0]["id"] = new
        for parcel in day["parcels"]:  # a firm's parcels name it
            if items == "firms" and parcel["firm"] == old:
                parcel["firm"] = new
        return day

    assert parse_day(day_with_id("k" * 200))
    with pytest.raises(PoolingError) as err:
        parse_day(day_with_id("k" * 201))
    item = items.removesuffix("s")
    assert str(err.value) == f"{item} '{'k' * 201}': id: String should have at most 200 characters"
