"""Regressions from the pooling audit: bad day input is one line naming the field (D7, D8),
ids and sizes the plans reserve are refused (D6, D9), one impossible deadline fails alone (D3)."""

import json
import sys

import numpy as np
import pytest

from api.cli.main import run
from routing.pooling.day import parse_day, read_day
from routing.pooling.errors import PoolingError
from routing.pooling.lockers import assign_lockers
from routing.pooling.plans import pooled_plan
from routing.pooling.travel import day_travel
from routing.solve import solve

# ------------------------------------------------------------------ D3: deadlines of a drop


def _locker_jobs(day_data: dict) -> tuple[dict, dict]:
    day = parse_day(day_data)
    plan = pooled_plan(day, day_travel(day), ["sf", "yto"], lockers=True)
    jobs = {j.id: j for j in plan.problem.jobs if j.id.startswith("locker:")}
    return plan, jobs


def test_an_impossible_deadline_leaves_only_its_own_parcel_undelivered(day_data):
    day_data["parcels"][0]["window"] = ["08:00:00", "08:00:10"]  # sf-1: no van is there by then
    plan, jobs = _locker_jobs(day_data)
    assert {j: plan.job_parcels[j] for j in jobs} == {
        "locker:tower-locker by 08:00:10": ("sf-1",),
        "locker:tower-locker": ("sf-2", "sf-3", "yto-1", "yto-2"),
    }
    assert [w.end for w in jobs["locker:tower-locker by 08:00:10"].time_windows] == [28810]
    assert jobs["locker:tower-locker"].time_windows == ()
    solution = solve(plan.problem, engine="ortools", time_limit_s=0.2)
    unserved = [parcel for u in solution.unassigned for parcel in plan.job_parcels[u.id]]
    assert unserved == ["sf-1"]


def test_parcels_due_at_the_same_time_share_one_drop(day_data):
    for parcel in day_data["parcels"]:
        parcel["window"] = ["09:00", "12:00"]
    _, jobs = _locker_jobs(day_data)
    assert list(jobs) == ["locker:tower-locker"]  # one deadline: one stop, named as before
    assert [w.end for w in jobs["locker:tower-locker"].time_windows] == [12 * 3600]


# ------------------------------------------------------------------ D6: reserved job ids


def test_a_parcel_id_that_spells_a_locker_drop_is_refused(day_data):
    day_data["parcels"][5]["id"] = "locker:tower-locker"
    with pytest.raises(PoolingError) as info:
        parse_day(day_data)
    assert str(info.value) == (
        "parcel 'locker:tower-locker': id: ids starting with 'locker:' are kept for locker "
        "drops; rename the parcel"
    )


def test_drop_ids_stay_unique_whatever_the_locker_ids(day_data):
    """Locker "tower-locker by 12:00" spells the id of tower-locker's 12:00 drop."""
    twin = {**day_data["lockers"][0], "id": "tower-locker by 12:00", "free": {"S": 1}}
    day_data["lockers"].append(twin)
    day_data["parcels"][0]["locker"] = twin["id"]
    day_data["parcels"][1]["window"] = ["09:00", "12:00"]
    plan, jobs = _locker_jobs(day_data)  # the routing model refused a repeated id
    assert {j: plan.job_parcels[j] for j in jobs} == {
        "locker:tower-locker by 12:00": ("sf-2",),
        "locker:tower-locker": ("sf-3", "yto-1", "yto-2"),
        "locker:tower-locker by 12:00~2": ("sf-1",),
    }


# ------------------------------------------------------------------ D7: one line, the field named


def _siting(tmp_path, compartments) -> dict:
    sites = (
        compartments
        if isinstance(compartments, list)
        else [{"id": "s1", "lat": 36.066, "lon": 120.38, "compartments": compartments}]
    )
    (tmp_path / "plan.json").write_text(json.dumps({"sites": sites}))
    return {"siting": "plan.json"}


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (
            lambda d, tmp: d.update(lockers=3, lockers_from=_siting(tmp, {"S": 2})),
            "lockers: a list of lockers (id, at, free), got int 3",
        ),
        (
            lambda d, tmp: d.update(lockers_from=_siting(tmp, {"S": "many"})),
            "lockers_from: site 's1': compartments: S: 'many' is not a whole number of "
            "compartments (in '{tmp}/plan.json')",
        ),
        (
            lambda d, tmp: d.update(lockers_from=_siting(tmp, {"S": 2.9})),
            "lockers_from: site 's1': compartments: S: 2.9 is not a whole number of "
            "compartments (in '{tmp}/plan.json')",
        ),
        (
            lambda d, tmp: d.update(lockers_from=_siting(tmp, {"S": 10**400})),
            "lockers_from: site 's1': compartments: S: more than 1,000,000,000,000 "
            "compartments (in '{tmp}/plan.json')",
        ),
        (
            lambda d, tmp: d.update(lockers=[{"id": "L", "at": [36, 120], "free": {"S": 10**13}}]),
            "locker 'L': free: free compartments of size S is above 1,000,000,000,000",
        ),
        (
            lambda d, tmp: d.update(lockers_from=_siting(tmp, ["s1"])),
            "lockers_from: site 1 in '{tmp}/plan.json' is not a mapping (id, lat, lon, "
            "compartments), got 's1'",
        ),
        (
            lambda d, tmp: d["firms"][0]["fleet"][0].update(capacity_kg=float("inf")),
            "firm 'sf': fleet.0.capacity_kg: Input should be less than or equal to 1000000000",
        ),
        (
            lambda d, tmp: d.update(unserved_parcel_cost=float("inf")),
            "unserved_parcel_cost: Input should be less than or equal to 1000000000",
        ),
        (
            lambda d, tmp: d["firms"][1]["fleet"][0].update(cost_per_km=float("inf")),
            "firm 'yto': fleet.0.cost_per_km: Input should be less than or equal to 1000000000",
        ),
        (
            lambda d, tmp: d["parcels"][2].update(kg=float("inf")),
            "parcel 'sf-3': kg: Input should be a finite number",
        ),
        (
            lambda d, tmp: d.update(travel={**d["travel"], "walk_radius_m": float("inf")}),
            "travel: walk_radius_m: Input should be a finite number",
        ),
        (
            lambda d, tmp: d.update(compartments={"S": [40, 30, 0]}),
            "compartments: S.2: Input should be greater than 0",
        ),
    ],
)
def test_bad_numbers_and_shapes_are_one_line_naming_the_field(day_data, tmp_path, change, message):
    change(day_data, tmp_path)
    with pytest.raises(PoolingError) as info:
        parse_day(day_data, base_dir=tmp_path)
    assert str(info.value) == message.format(tmp=tmp_path)


def test_whole_compartment_counts_from_a_plan_still_load(day_data, tmp_path):
    day_data.update(lockers=[], lockers_from=_siting(tmp_path, {"S": 3.0, "M": 2}))
    day = parse_day(day_data, base_dir=tmp_path)
    assert day.lockers[0].free == {"S": 3, "M": 2}


# ------------------------------------------------------------------ D8: repeated YAML keys

DUPLICATE_PARCELS = """\
name: two parcels sections
travel: {straight_line: true}
firms:
- {id: a, depot: [36.09, 120.41], fleet: [{count: 1}]}
centres:
- {id: hub, at: [36.08, 120.395], fleet: [{count: 1}]}
parcels:
- {id: p1, firm: a, at: [36.066, 120.38]}
lockers: []
parcels:
- {id: p3, firm: a, at: [36.068, 120.38]}
"""


def test_a_day_file_refuses_a_repeated_key_with_its_line(tmp_path):
    path = tmp_path / "day.yaml"
    path.write_text(DUPLICATE_PARCELS)
    with pytest.raises(PoolingError) as info:
        read_day(path)
    assert str(info.value) == (
        f"{path}:10:1: not valid YAML: duplicate key 'parcels' (first given on line 7)"
    )
    last = "lockers: []\nparcels:\n- {id: p3, firm: a, at: [36.068, 120.38]}\n"
    path.write_text(DUPLICATE_PARCELS.replace(last, "- {id: p3, firm: a, kg: 2, kg: 20}\n"))
    with pytest.raises(PoolingError, match=r"day\.yaml:9:28: not valid YAML: duplicate key 'kg' "):
        read_day(path)


def test_merged_keys_may_still_be_overridden(tmp_path):
    """A key brought in by ``<<`` is not a repeat: YAML means the mapping's own to win."""
    text = DUPLICATE_PARCELS.replace("lockers: []\nparcels:\n", "").replace(
        "firms:\n- {id: a, depot: [36.09, 120.41], fleet: [{count: 1}]}\n",
        "firms:\n- {id: a, depot: [36.09, 120.41], fleet: [&van {count: 2, fixed_cost: 50}]}\n"
        "- {id: b, depot: [36.09, 120.41], fleet: [{<<: *van, fixed_cost: 70}]}\n",
    )
    path = tmp_path / "day.yaml"
    path.write_text(text)
    fleet = read_day(path).firms[1].fleet[0]
    assert (fleet.count, fleet.fixed_cost) == (2, 70)


def test_pool_command_reports_the_repeated_key_and_exits_2(tmp_path, monkeypatch, capsys):
    path = tmp_path / "day.yaml"
    path.write_text(DUPLICATE_PARCELS)
    monkeypatch.setattr(sys, "argv", ["gongpei", "pool", str(path), "-o", str(tmp_path / "o")])
    with pytest.raises(SystemExit) as stop:
        run()
    assert stop.value.code == 2
    err = " ".join(capsys.readouterr().err.split())
    assert f"error: {path}:10:1: not valid YAML: duplicate key 'parcels'" in err
    assert not (tmp_path / "o").exists()


# ------------------------------------------------------------------ D9: the XL size


def test_xl_cannot_name_a_compartment(day_data):
    day_data["compartments"] = {"S": [40, 30, 10], "XL": [80, 60, 60]}
    day_data["lockers"][0]["free"] = {"XL": 3}
    with pytest.raises(PoolingError) as info:
        parse_day(day_data)
    assert str(info.value) == (
        "compartments: size XL is kept for parcels too large for any compartment (they go to "
        "the door); name the compartment otherwise, e.g. XXL"
    )


def test_a_bigger_compartment_under_another_name_takes_parcels_sized_for_it(day_data):
    day_data["compartments"] = {"S": [40, 30, 10], "XXL": [80, 60, 60]}
    day_data["lockers"][0]["free"] = {"XXL": 3}
    day_data["parcels"] = [
        {**day_data["parcels"][0], "id": "named", "size": "XXL"},
        {**day_data["parcels"][0], "id": "dims", "size": [70, 50, 50]},
        {**day_data["parcels"][0], "id": "door", "size": "XL"},
    ]
    day = parse_day(day_data)
    got = assign_lockers(day.parcels, day.lockers, day.compartments, np.zeros((3, 1)), radius_m=1)
    assert [d.parcels for d in got.drops] == [("named", "dims")]
    assert got.to_door == {"door": "too large for any locker compartment"}
