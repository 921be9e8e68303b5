"""A firm's own part of a pool run, as it checks it by hand: when and in which van each of its
parcels arrives, what units the figures are in, and no percentage of a saving on nothing."""

from __future__ import annotations

import copy

from api.jobs.worker import Worker
from api.routers.pooling import own_savings
from tests.api.test_api_pooling import DAY, FAST, GATE


def test_a_firm_reads_when_and_in_which_van_its_parcels_arrive(client, settings, auth):
    day = copy.deepcopy(DAY)
    day["lockers"] = [{"id": "gate", "at": list(GATE), "free": {"S": 2}}]
    body = {"day": day, **FAST, "firms_on_platform": {"sf": "firm-a"}}
    job_id = client.post("/v1/pool-runs", json=body, headers=auth["planner"]).json()["id"]
    assert Worker(settings).run(max_jobs=1) == 1
    mine = client.get(f"/v1/pool-runs/{job_id}/firm-result", headers=auth["a"]).json()
    own = {p["id"] for p in day["parcels"] if p["firm"] == "sf"}
    in_locker = {p for drop in mine["locker_drops"] for p in drop["parcels"]}
    assert set(mine["deliveries"]) == {"solo", "pooled", "lockers"}
    for plan, stops in mine["deliveries"].items():
        assert sorted(s["parcel"] for s in stops) == sorted(own), plan  # each once, only its own
        assert [s["arrival_s"] for s in stops] == sorted(s["arrival_s"] for s in stops)
        assert all(s["vehicle"] and s["arrival_s"] >= 8 * 3600 for s in stops), stops
        lockers = {s["parcel"]: s["locker"] for s in stops}
        assert {p for p, locker in lockers.items() if locker} == (
            in_locker if plan == "lockers" else set()
        )
        assert all(lockers[p] == "gate" for p in in_locker if plan == "lockers")
    pooled_vans = {s["vehicle"] for s in mine["deliveries"]["pooled"]}
    assert all(van.startswith("centre:hub:") for van in pooled_vans)  # the shared fleet's
    assert mine["units"]["cost"].startswith("the day's money")
    assert mine["units"]["arrival_s"].startswith("s from the day's midnight")
    assert "yto" not in str(mine)
    day_result = client.get(f"/v1/pool-runs/{job_id}/result", headers=auth["planner"]).json()
    assert day_result["units"] == mine["units"]


def test_no_percentage_of_a_saving_on_nothing():
    """A firm whose solo plan cost nothing (its parcels at its depot, a free tricycle) and
    whose share of the pooled plan is 12.29 was told it saved 0.0 %."""
    row = {
        "solo_cost": 0.0, "pooled_shapley": 12.29, "pooled_saving": -12.29,
        "pooled_saving_pct": None, "solo_vehicle_km": 0.0, "pooled_vehicle_km": 3.1,
    }  # fmt: skip
    own = own_savings(row, "pooled")
    assert own["cost"]["saved"] == -12.29 and own["cost"]["percent"] is None
    assert own["vehicle_km"] == {"solo": 0.0, "pooled": 3.1, "saved": -3.1, "percent": None}


def test_a_firm_reads_which_of_its_parcels_go_undelivered_and_why(client, settings, auth):
    """A parcel whose window closes before any van leaves: the firm's share counts its
    penalty, and firm-result said neither how many of its parcels nor which."""
    day = copy.deepcopy(DAY)
    day["parcels"][0]["window"] = [3 * 3600, 3 * 3600 + 600]  # sf-1, before every shift
    body = {"day": day, **FAST, "firms_on_platform": {"sf": "firm-a"}}
    job_id = client.post("/v1/pool-runs", json=body, headers=auth["planner"]).json()["id"]
    assert Worker(settings).run(max_jobs=1) == 1
    mine = client.get(f"/v1/pool-runs/{job_id}/firm-result", headers=auth["a"]).json()
    figures = mine["figures"]
    assert figures["solo_unserved"] == figures["pooled_unserved"] == 1
    assert figures["lockers_unserved"] == 1
    assert set(mine["undelivered"]) == {"solo", "pooled", "lockers"}
    for rows in mine["undelivered"].values():
        (row,) = rows
        assert row["parcel"] == "sf-1" and "time window" in row["reason"], row
    assert all("sf-1" not in [s["parcel"] for s in stops] for stops in mine["deliveries"].values())
