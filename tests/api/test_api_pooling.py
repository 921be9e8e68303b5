"""Pooling runs: a planner posts several firms' day, a worker compares alone against pooled."""

from __future__ import annotations

import copy

from api.jobs.worker import Worker
from api.security import create_firm

GATE = (36.0670, 120.3830)  # the `lockers` fixture's row starts here, 100 m apart eastwards
DAY = {
    "name": "campus gate",
    "travel": {"straight_line": True, "walk_radius_m": 300},
    "firms": [
        {"id": "sf", "depot": [36.0900, 120.4100], "fleet": [{"count": 1}]},
        {"id": "yto", "depot": [36.0950, 120.4050], "fleet": [{"count": 1}]},
    ],
    "centres": [{"id": "hub", "at": [36.0800, 120.3950], "fleet": [{"count": 2}]}],
    "parcels": [
        {"id": f"{firm}-{k}", "firm": firm, "at": [GATE[0] + 0.0002 * k, GATE[1] + 0.0003 * k]}
        for firm in ("sf", "yto")
        for k in range(1, 4)
    ],
}
FAST = {"engine": "ortools", "time_limit_s": 0.5, "coalition_time_limit_s": 0.4}


def _body(**changes):
    return {"day": copy.deepcopy(DAY), **FAST, **changes}


def test_pool_run_by_planner_with_the_platforms_lockers(client, settings, auth, db, lockers):
    r = client.post("/v1/pool-runs", json=_body(live_lockers=True), headers=auth["planner"])
    assert r.status_code == 202, r.text
    job_id = r.json()["id"]
    assert client.post("/v1/pool-runs", json=_body(), headers=auth["a"]).status_code == 403
    assert Worker(settings).run(max_jobs=1) == 1
    status = client.get(f"/v1/pool-runs/{job_id}", headers=auth["planner"]).json()
    assert status["status"] == "done", status.get("error")
    result = client.get(f"/v1/pool-runs/{job_id}/result", headers=auth["planner"]).json()
    assert result["checker"]["ok"] and set(result["plans"]) == {"solo", "pooled", "lockers"}
    assert result["plans"]["pooled"]["cost"] < result["plans"]["solo"]["cost"]
    assert result["plans"]["pooled"]["transfer_trips"] == 2  # each firm's van to the hub
    rows = {row["firm"]: row for row in result["firms_table"]}
    assert set(rows) == {"sf", "yto"} and all(r["pooled_transfer_cost"] > 0 for r in rows.values())
    # The six parcels go into the platform's lockers by the gate, as the free doors allow.
    dropped = {drop["locker"] for drop in result["lockers"]["drops"]}
    assert dropped and dropped <= {f"platform-{i}" for i in lockers}
    assert result["plans"]["lockers"]["parcels_in_lockers"] == 6
    geo = client.get(f"/v1/pool-runs/{job_id}/result?format=geojson", headers=auth["planner"])
    features = geo.json()["features"]
    hauls = [f for f in features if f["properties"].get("vehicle") == "line haul to hub"]
    assert {f["properties"]["plan"] for f in hauls} == {"pooled", "lockers"}
    assert {f["properties"]["firm"] for f in hauls} == {"sf", "yto"}
    with db.writing() as session:
        _, other = create_firm(session, "other-planner", "planner")
    assert client.get(f"/v1/pool-runs/{job_id}", headers={"X-API-Key": other}).status_code == 404


def test_a_firm_taking_part_reads_its_own_result_only(client, settings, auth):
    body = _body(firms_on_platform={"sf": "firm-a"})
    job_id = client.post("/v1/pool-runs", json=body, headers=auth["planner"]).json()["id"]
    path = f"/v1/pool-runs/{job_id}/firm-result"
    assert client.get(path, headers=auth["a"]).status_code == 409  # not solved yet
    assert Worker(settings).run(max_jobs=1) == 1
    mine = client.get(path, headers=auth["a"]).json()
    assert mine["firm"] == "sf" and mine["figures"]["firm"] == "sf"
    assert mine["figures"]["pooled_saving"] > 0 and mine["figures"]["pooled_transfer_cost"] > 0
    assert mine["splits"]["pooled"]["method"] == "exact"
    assert "yto" not in str(mine)  # nothing of the other firm
    # ... nor the day's totals, from which (with sf's own solo cost) yto's figures follow
    day = client.get(f"/v1/pool-runs/{job_id}/result", headers=auth["planner"]).json()
    (theirs,) = [row for row in day["firms_table"] if row["firm"] == "yto"]
    mine_values = set(_numbers(mine))
    day_totals = [day["plans"][plan]["cost"] for plan in day["plans"]]
    day_totals += [s["cost"][k] for s in day["savings_vs_solo"].values() for k in s["cost"]]
    secrets = {x for x in (*day_totals, theirs["solo_cost"], theirs["pooled_shapley"]) if x}
    assert not mine_values & secrets, mine
    assert not [key for key in mine["figures"] if "by_" in key or "least_core" in key]
    own = mine["savings_vs_solo"]["pooled"]["cost"]
    figures = mine["figures"]
    assert own == {
        "solo": figures["solo_cost"],
        "pooled": figures["pooled_shapley"],
        "saved": figures["pooled_saving"],
        "percent": figures["pooled_saving_pct"],
    }
    assert set(mine["savings_vs_solo"]["pooled"]) == {"cost", "vehicle_km", "co2_kg"}
    # the OpenAPI example is shaped like the real answer
    op = client.get("/openapi.json").json()["paths"]["/v1/pool-runs/{job_id}/firm-result"]
    example = op["get"]["responses"]["200"]["content"]["application/json"]["example"]
    assert set(example) == set(mine) and set(example["figures"]) <= set(figures)
    assert example["savings_vs_solo"]["pooled"]["cost"].keys() == own.keys()
    assert client.get(path, headers=auth["b"]).status_code == 404  # not in this day
    assert client.get(path, headers=auth["planner"]).status_code == 403
    # the planner's full result is not the firm's to read (its status is: the run is listed)
    assert client.get(f"/v1/pool-runs/{job_id}/result", headers=auth["a"]).status_code == 403
    assert client.get(f"/v1/pool-runs/{job_id}", headers=auth["a"]).json()["status"] == "done"


def test_a_firm_lists_the_runs_it_takes_part_in(client, auth):
    ids = []
    for names in ({"sf": "firm-a"}, {}, {"yto": "firm-a"}, {"sf": "firm-a", "yto": "firm-b"}):
        body = _body(firms_on_platform=names)
        ids.append(client.post("/v1/pool-runs", json=body, headers=auth["planner"]).json()["id"])
    page = client.get("/v1/pool-runs?limit=2", headers=auth["a"]).json()
    assert [(r["id"], r["firm"]) for r in page["items"]] == [(ids[3], "sf"), (ids[2], "yto")]
    assert page["items"][0]["status"] == "queued" and page["items"][0]["day"] == "campus gate"
    rest = client.get(f"/v1/pool-runs?limit=2&cursor={page['next_cursor']}", headers=auth["a"])
    assert [r["id"] for r in rest.json()["items"]] == [ids[0]]
    assert rest.json()["next_cursor"] is None
    mine = client.get("/v1/pool-runs", headers=auth["b"]).json()["items"]
    assert [(r["id"], r["firm"]) for r in mine] == [(ids[3], "yto")]
    r = client.get("/v1/pool-runs?cursor=bogus", headers=auth["a"])
    assert r.status_code == 422 and r.json()["detail"][0]["loc"] == ["query", "cursor"]
    posted = client.get("/v1/pool-runs", headers=auth["planner"]).json()["items"]
    assert [(r["id"], r["firm"]) for r in posted] == [(i, None) for i in reversed(ids)]


def test_firms_on_platform_must_name_real_firms(client, auth):
    body = _body(firms_on_platform={"sf": "firm-a", "yto": "firm-a"})
    r = client.post("/v1/pool-runs", json=body, headers=auth["planner"])
    assert r.status_code == 422
    assert r.json()["detail"][0]["msg"] == "platform firm 'firm-a' is already day firm 'sf'"
    for names, loc in (({"ems": "firm-a"}, "ems"), ({"sf": "nobody"}, "sf")):
        body = _body(firms_on_platform=names)
        r = client.post("/v1/pool-runs", json=body, headers=auth["planner"])
        assert r.status_code == 422
        assert r.json()["detail"][0]["loc"] == ["body", "firms_on_platform", loc]


def test_bad_day_is_a_422_naming_the_item(client, make_client, auth):
    body = _body()
    body["day"]["parcels"][2]["firm"] = "ems"
    r = client.post("/v1/pool-runs", json=body, headers=auth["planner"])
    assert r.status_code == 422
    assert r.json()["detail"][0] == {
        "loc": ["body", "day"], "type": "value_error", "msg": "parcel 'sf-3': firm 'ems' is unknown"
    }  # fmt: skip
    body = _body()
    body["day"]["parcels"][0]["kg"] = 5000  # was 202, then a failed job speaking of grams
    r = client.post("/v1/pool-runs", json=body, headers=auth["planner"])
    assert r.status_code == 422
    assert "parcel 'sf-1': kg: 5000 kg is more than any vehicle" in r.json()["detail"][0]["msg"]
    body = _body()
    body["day"]["transfer"] = {"capacity_parcels": 0}
    r = client.post("/v1/pool-runs", json=body, headers=auth["planner"])
    assert r.status_code == 422 and "transfer: capacity_parcels" in r.json()["detail"][0]["msg"]
    # a request never names a map for the server to read; without straight lines it needs one
    body = _body()
    body["day"]["travel"] = {"source": "/etc/passwd"}
    r = client.post("/v1/pool-runs", json=body, headers=auth["planner"])
    assert r.status_code == 422
    assert r.json()["detail"][0]["loc"] == ["body", "day", "travel", "source"]
    # a batch's spelling of straight lines names no map: the answer gives the day's spelling
    body["day"]["travel"] = {"source": "straight_line"}
    (detail,) = client.post("/v1/pool-runs", json=body, headers=auth["planner"]).json()["detail"]
    assert detail["loc"] == ["body", "day", "travel", "source"]
    assert "cannot name a map" not in detail["msg"] and "straight_line: true" in detail["msg"]
    body["day"]["travel"] = {"source": "/etc/passwd"}
    body["day"]["lockers_from"] = {"siting": "/etc/passwd"}
    r = client.post("/v1/pool-runs", json=body, headers=auth["planner"])
    assert r.status_code == 422
    assert r.json()["detail"][0]["loc"] == ["body", "day", "lockers_from"]
    del body["day"]["lockers_from"]
    body["day"]["travel"] = {"walk_radius_m": 300}
    r = make_client(map_network="").post("/v1/pool-runs", json=body, headers=auth["planner"])
    assert r.status_code == 422
    assert r.json()["detail"][0]["loc"] == ["body", "day", "travel"]


def test_a_day_of_too_many_vehicles_is_a_documented_422(client, auth):
    """A fleet's count was unbounded: 10**9 vans queued with a 202, 500,000 took 2 GB."""
    body = _body()
    body["day"]["firms"][0]["fleet"] = [{"count": 10**9}]
    r = client.post("/v1/pool-runs", json=body, headers=auth["planner"])
    assert r.status_code == 422
    assert r.json()["detail"][0]["loc"] == ["body", "day", "firms", 0, "fleet", 0, "count"]
    assert r.json()["detail"][0]["msg"].startswith("firm 'sf': fleet.0.count: ")
    body = _body()
    body["day"]["centres"][0]["fleet"] = [{"count": 600}, {"count": 600}]
    r = client.post("/v1/pool-runs", json=body, headers=auth["planner"])
    assert r.status_code == 422
    assert r.json()["detail"][0]["msg"].startswith("fleet: count: the day's fleets add up to")
    day = client.get("/openapi.json").json()["components"]["schemas"]["PoolSubmit"]
    assert "At most 1000 vehicles in the day" in day["properties"]["day"]["description"]


def test_pool_run_numbers_refuse_true_and_false(client, auth):
    """A fleet's `count: true` was a 202 and a day solved with one van: the day's numbers and
    the run's own are a 422 naming the field, as a locker's or a centre's are."""
    day, no_bool = ["body", "day"], "expected a number, not true or false"
    for change, loc, message in (
        (
            lambda b: b["day"]["firms"][0]["fleet"][0].update(count=True),
            [*day, "firms", 0, "fleet", 0, "count"],
            f"firm 'sf': fleet.0.count: {no_bool}",
        ),
        (
            lambda b: b["day"]["parcels"][1].update(kg=False),
            [*day, "parcels", 1, "kg"],
            f"parcel 'sf-2': kg: {no_bool}",
        ),
        (
            lambda b: b["day"]["centres"][0].update(at=[True, 120.395]),
            [*day, "centres", 0, "at", "lat"],
            f"centre 'hub': at.lat: {no_bool}",
        ),
        (
            lambda b: b.update(coalition_time_limit_s=True),
            ["body", "coalition_time_limit_s"],
            f"Value error, {no_bool}",
        ),
    ):
        body = _body()
        change(body)
        r = client.post("/v1/pool-runs", json=body, headers=auth["planner"])
        assert r.status_code == 422, r.text
        detail = r.json()["detail"][0]
        assert (detail["loc"], detail["msg"]) == (loc, message)


def test_pool_run_on_the_server_map(make_client, settings, auth, tmp_path):
    """Travel timed on the server's roads; a map built for vans alone cannot walk to lockers."""
    from network.graph import build_graph
    from network.store import save_graph_dir

    roads = build_graph("synthetic:60", profile="van")
    nodes = [(d["y"], d["x"]) for _, d in roads.nodes(data=True)]
    day = copy.deepcopy(DAY)
    day["travel"] = {"walk_radius_m": 400}
    day["firms"][0]["depot"], day["firms"][1]["depot"] = nodes[0], nodes[-1]
    day["centres"][0]["at"] = nodes[len(nodes) // 2]
    for k, parcel in enumerate(day["parcels"]):
        parcel["at"] = nodes[5 + 7 * k]
    day["lockers"] = [{"id": "gate", "at": nodes[5], "free": {"S": 2}}]
    client = make_client(map_network="synthetic:60")
    r = client.post("/v1/pool-runs", json={"day": day, **FAST}, headers=auth["planner"])
    assert r.status_code == 202, r.text
    assert Worker(settings).run(max_jobs=1) == 1
    path = f"/v1/pool-runs/{r.json()['id']}"
    assert client.get(path, headers=auth["planner"]).json()["status"] == "done"
    result = client.get(f"{path}/result", headers=auth["planner"]).json()
    assert result["travel"] == "road graph synthetic:60" and result["checker"]["ok"]
    assert result["plans"]["lockers"]["parcels_in_lockers"] >= 1

    van = save_graph_dir(roads, tmp_path / "van")
    r = make_client(map_network=str(van)).post(
        "/v1/pool-runs", json={"day": day, **FAST}, headers=auth["planner"]
    )
    assert r.status_code == 422
    detail = r.json()["detail"][0]
    assert detail["loc"] == ["body", "day", "travel"] and "profile 'walk'" in detail["msg"]


def _numbers(data) -> list[float]:
    """Every number in a JSON document, however deep."""
    if isinstance(data, dict):
        return [n for value in data.values() for n in _numbers(value)]
    if isinstance(data, list):
        return [n for value in data for n in _numbers(value)]
    return [data] if isinstance(data, int | float) and not isinstance(data, bool) else []


def test_a_pool_run_reports_each_solve_as_progress():
    """A pool run's progress is its routing solves done over all it makes: every firm's
    plan, the pooled plans and the coalitions of each split (2 firms: 2 + 2 + 2 x 2)."""
    from api.jobs.runner import run_pool

    seen: list[float] = []
    payload = {"day": copy.deepcopy(DAY), **FAST, "shapley_precision": 0.0}
    run_pool(payload, seen.append)
    assert seen == [min(0.99, k / 8) for k in range(1, 9)]
