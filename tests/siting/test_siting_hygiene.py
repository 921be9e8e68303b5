"""Siting input and output hygiene: a standing locker's compartments as text in JSON, NaN and
Infinity in JSON points, utilisation shown where no capacity binds, and the window search's
re-siting blind to a standing locker's compartments of each size."""

import json
from pathlib import Path

import numpy as np
import pytest
from test_siting_existing import _one_of_two_new, _sizing

from routing.siting import SitingInstance, SitingModel, make_reach, solve
from routing.siting.by_size import split_by_size
from routing.siting.errors import SitingInputError
from routing.siting.flow import effective_capacity, max_service
from routing.siting.model import NOT_BUILT
from routing.siting.native import read_native
from routing.siting.points import candidate_from_record, read_candidates, read_demand
from routing.siting.window import _resite, window_search

STANDING = {"existing": True, "compartments_S": 4, "compartments_M": 2, "compartments_L": 1}
NOT_JSON = "must be a finite number (NaN and Infinity are not JSON)"


def _feature(props: dict, coordinates: str = "[120.38, 36.06]") -> str:
    """A GeoJSON FeatureCollection of one point, as text (JSON's own numbers, or NaN written
    into ``props``' text by the caller)."""
    body = props if isinstance(props, str) else json.dumps(props)
    return (
        '{"type": "FeatureCollection", "features": [{"type": "Feature", "id": "gate", '
        f'"geometry": {{"type": "Point", "coordinates": {coordinates}}}, "properties": {body}}}]}}'
    )


def _write(tmp_path: Path, text: str, name: str = "sites.geojson") -> Path:
    path = tmp_path / name
    path.write_text(text)
    return path


# --- 1a. a standing locker's compartments_S/M/L as text in JSON -------------------------------


@pytest.mark.parametrize(
    ("value", "shown"),
    [("4", "'4'"), ("four", "'four'"), (4.0, "4.0"), (True, "True"), (-1, "-1")],
)
def test_json_compartment_counts_must_be_whole_json_numbers(tmp_path, value, shown):
    # "4" was read as 4, as if it were a CSV cell; 4.0 and true were refused as '4.0', 'True'
    path = _write(tmp_path, _feature({**STANDING, "compartments_S": value}))
    with pytest.raises(SitingInputError) as err:
        read_candidates(path)
    assert str(err.value) == (
        "sites.geojson feature 0: field 'compartments_S' must be a whole count >= 0 "
        f"(0 if none), got {shown}"
    )


def test_a_json_record_names_the_site_as_a_csv_row_names_its_row(tmp_path):
    record = {"id": "gate", "lat": 36.06, "lon": 120.38, **STANDING, "compartments_M": "2"}
    with pytest.raises(SitingInputError, match=r"^candidate 'gate': field 'compartments_M' must"):
        candidate_from_record(record)
    csv = _write(
        tmp_path,
        "id,lat,lon,existing,compartments_S,compartments_M,compartments_L\n"
        "gate,36.06,120.38,yes,4,2.5,1\n",
        "sites.csv",
    )
    with pytest.raises(SitingInputError) as err:
        read_candidates(csv)
    assert str(err.value) == (
        "sites.csv row 2: field 'compartments_M' must be a whole count >= 0 (0 if none), "
        "got '2.5'"
    )


def test_whole_json_counts_and_csv_cells_are_read(tmp_path):
    (site,) = read_candidates(_write(tmp_path, _feature(STANDING)))
    assert site.compartments == (4, 2, 1)
    csv = _write(
        tmp_path,
        "id,lat,lon,existing,compartments_S,compartments_M,compartments_L\n"
        "gate,36.06,120.38,yes,4,2,1\nnew,36.07,120.38,,,,\n",
        "sites.csv",
    )
    assert [s.compartments for s in read_candidates(csv)] == [(4, 2, 1), None]


def test_a_partial_set_of_compartment_counts_is_refused(tmp_path):
    props = {"existing": True, "compartments_S": 4}
    with pytest.raises(SitingInputError, match=r"feature 0: field 'compartments_M' must be"):
        read_candidates(_write(tmp_path, _feature(props)))


# --- 1b. NaN, Infinity and numbers beyond a float in JSON points --------------------------------


@pytest.mark.parametrize(
    ("props", "coordinates", "field", "token"),
    [
        # Infinity was an unlimited capacity, 1e999 too; NaN was refused as "capacity must be
        # >= 0, got nan", a coordinate's as "lat/lon (nan, 120.38) is not a coordinate"
        ('{"capacity": Infinity}', "[120.38, 36.06]", "capacity", "Infinity"),
        ('{"capacity": 1e999}', "[120.38, 36.06]", "capacity", "1e999"),
        ('{"capacity": NaN}', "[120.38, 36.06]", "capacity", "NaN"),
        ('{"fixed_cost": -Infinity}', "[120.38, 36.06]", "fixed_cost", "-Infinity"),
        ("{}", "[120.38, NaN]", "lat", "NaN"),
    ],
)
def test_non_finite_json_numbers_in_sites_are_refused_by_field(
    tmp_path, props, coordinates, field, token
):
    with pytest.raises(SitingInputError) as err:
        read_candidates(_write(tmp_path, _feature(props, coordinates)))
    assert str(err.value) == f"sites.geojson feature 0: field '{field}' {NOT_JSON}, got {token}"


@pytest.mark.parametrize(
    ("props", "needle"),
    [
        ('{"parcels": Infinity}', f"field 'parcels' {NOT_JSON}, got Infinity"),
        ('{"parcels": 3, "mix": [NaN, 0.5, 0.5]}', f"field 'mix.S' {NOT_JSON}, got NaN"),
    ],
)
def test_non_finite_json_numbers_in_demand_are_refused_by_field(tmp_path, props, needle):
    with pytest.raises(SitingInputError) as err:
        read_demand(_write(tmp_path, _feature(props), "demand.geojson"))
    assert str(err.value) == f"demand.geojson feature 0: {needle}"


def test_non_finite_compartments_and_ids_are_refused(tmp_path):
    props = '{"existing": true, "compartments": {"S": NaN}}'
    with pytest.raises(SitingInputError, match=r"field 'compartments' must hold whole counts"):
        read_candidates(_write(tmp_path, _feature(props)))
    text = _feature({}).replace('"id": "gate"', '"id": NaN')
    with pytest.raises(SitingInputError, match=r"feature 0: field 'id' must be text, got NaN$"):
        read_candidates(_write(tmp_path, text))


@pytest.mark.parametrize(
    ("member", "needle"),
    [
        # the inline points and the from_buildings capacity (allow_inf_nan) of a native file
        (
            '"candidates": [{"id": "c", "lat": 36.06, "lon": 120.38, "capacity": Infinity}]',
            f"candidates[0]: field 'capacity' {NOT_JSON}, got Infinity",
        ),
        (
            '"candidates": {"from_buildings": true, "capacity": Infinity}',
            f"native file: candidates: field 'capacity' {NOT_JSON}, got Infinity",
        ),
        ('"radius_m": NaN', f"native file 'n.json': field 'radius_m' {NOT_JSON}, got NaN"),
    ],
)
def test_a_native_file_refuses_non_finite_numbers(tmp_path, member, needle):
    spec = {
        "straight_line": True,
        "radius_m": 400,
        "demand": [{"id": "d", "lat": 36.06, "lon": 120.38, "parcels": 3}],
        "candidates": [{"id": "c", "lat": 36.06, "lon": 120.38}],
    }
    key = member.split('"')[1]
    text = json.dumps({k: v for k, v in spec.items() if k != key})
    path = _write(tmp_path, text[:-1] + ", " + member + "}", "n.json")
    with pytest.raises(SitingInputError) as err:
        read_native(path)
    assert str(err.value) == needle


# --- 2. utilisation only where capacity is a constraint ---------------------------------------


def _capacities_not_enforced() -> SitingInstance:
    """Three points of 30 parcels a day, each in reach of site s1 (capacity 40); s2 reaches
    one of them. Only a capacitated model holds s1 to its 40."""
    return SitingInstance(
        demand_ids=["a", "b", "c"],
        weight=np.array([30.0, 30.0, 30.0]),
        site_ids=["s1", "s2"],
        reach=make_reach([0, 1, 2, 0], [0, 0, 0, 1], [10.0, 10.0, 10.0, 50.0], (3, 2)),
        fixed_cost=np.zeros(2),
        capacity=np.array([40.0, 40.0]),
        must_open=np.zeros(2, dtype=bool),
        site_lonlat=np.array([[120.38, 36.06], [120.38, 36.061]]),
        demand_lonlat=np.array([[120.38, 36.06]] * 3),
    )


@pytest.mark.parametrize("model", [SitingModel("maxcover", p=1), SitingModel("pmedian", p=1)])
def test_an_uncapacitated_plan_shows_load_and_no_capacity(model):
    # s1 took all 90 parcels and read as 225 % used of a capacity of 40 nothing enforced
    plan = solve(_capacities_not_enforced(), model, method="exact", solver="highs")
    result = plan.to_dict()
    assert result["summary"]["mean_utilisation"] is None
    money = {"fixed_cost": 0.0, "compartment_cost": 0.0}  # every open site says what it costs
    assert result["sites"] == [{"id": "s1", "load": 90.0, "lon": 120.38, "lat": 36.06} | money]
    (locker,) = [f for f in plan.to_geojson()["features"] if f["properties"]["kind"] == "locker"]
    assert locker["properties"] == {"kind": "locker", "id": "s1", "load": 90.0} | money
    assert plan.capacity.tolist() == [np.inf, 0.0]


def test_a_capacitated_plan_keeps_its_capacity_and_utilisation():
    model = SitingModel("maxcover", p=1, capacitated=True)
    plan = solve(_capacities_not_enforced(), model, method="exact", solver="highs")
    (site,) = plan.to_dict()["sites"]
    assert (site["load"], site["capacity"], site["utilisation"]) == (40.0, 40.0, 1.0)
    assert plan.summary()["mean_utilisation"] == pytest.approx(1.0)


# --- 5. the window search's re-siting sees a standing locker's compartments by size -----------

SIZED = SitingModel("maxcover", p=2, sizing=_sizing(9))


@pytest.mark.parametrize("window", [3, 2])
def test_a_window_sees_a_standing_lockers_compartments_by_size(window):
    # started at new2 (12), the window MIP, without the sizing, saw old's 9 compartments as 9
    # parcels of any size: new2 (18 to it) proven best, the window settled and the search
    # ended at 12 where 15 was there to take (window 3: the whole instance)
    split, _ = split_by_size(_one_of_two_new(), SIZED)
    start = np.array([True, False, True])
    found = window_search(split, SIZED, start, time_limit_s=2, window=window)
    assert found.tolist() == [True, True, False]
    assert max_service(split, SIZED, found)[0] == pytest.approx(15.0)


def test_a_window_sees_what_a_standing_locker_outside_it_holds_by_size():
    """Standing "far" (2 S + 4 L) outside the window {new2, new1} holds e's 4 L parcels: its L
    are full, its 2 S free. f (4 L) reaches far and new1, h (3 S) new1 and new2, k (3 S) new2.
    Seen as 2 parcels of any size to spare, far took 2 of f beside new2: 8 against new1's 7,
    and the window kept new2 (truly 10 in all) as proven best, where new1 serves 11."""
    inst = SitingInstance(
        demand_ids=["e", "f", "h", "k"],
        weight=np.array([4.0, 4.0, 3.0, 3.0]),
        site_ids=["far", "new1", "new2"],
        reach=make_reach([0, 1, 1, 2, 2, 3], [0, 0, 1, 1, 2, 2], [1.0] * 6, (4, 3)),
        fixed_cost=np.zeros(3),
        capacity=np.full(3, np.inf),
        must_open=np.array([True, False, False]),
        size_mix=np.array([(0, 0, 1), (0, 0, 1), (1, 0, 0), (1, 0, 0)], dtype=float),
        existing_compartments=np.array([[2, 0, 4], [NOT_BUILT] * 3, [NOT_BUILT] * 3]),
    )
    start = np.array([True, False, True])
    flow = (np.array([0, 2, 3]), np.array([0, 2, 2]), np.ones(3))  # f unserved: far's L full
    assert max_service(inst, SIZED, start)[0] == pytest.approx(10.0)
    cap = effective_capacity(inst, SIZED)
    trial, _ = _resite(inst, SIZED, cap, inst.reach.T.tocsr(), start, flow, np.array([2, 1]), 2.0)
    assert trial.tolist() == [True, True, False]
    assert max_service(inst, SIZED, trial)[0] == pytest.approx(11.0)


def test_a_sized_window_holds_its_lockers_to_their_compartments():
    # the sizing dropped, the window's MIP had no capacity at all (the sizing alone made the
    # model capacitated): a (8 S) reaches new1 and new2, b (3 S) new1 and new3, 4 compartments
    # a locker. Uncapacitated, new1 + new3 covered all 11, proven best; they serve 7, where
    # new1 + new2 serve 8
    inst = SitingInstance(
        demand_ids=["a", "b"],
        weight=np.array([8.0, 3.0]),
        site_ids=["new1", "new2", "new3"],
        reach=make_reach([0, 0, 1, 1], [0, 1, 0, 2], [1.0] * 4, (2, 3)),
        fixed_cost=np.zeros(3),
        capacity=np.full(3, np.inf),
        must_open=np.zeros(3, dtype=bool),
        size_mix=np.array([(1, 0, 0), (1, 0, 0)], dtype=float),
    )
    model = SitingModel("maxcover", p=2, sizing=_sizing(4))
    found = window_search(inst, model, np.array([True, False, True]), time_limit_s=2, window=3)
    assert found.tolist() == [True, True, False]
    assert max_service(inst, model, found)[0] == pytest.approx(8.0)
