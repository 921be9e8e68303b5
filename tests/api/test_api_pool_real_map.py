"""A pool run on a real downtown map (Nanjing Xinjiekou, ../shared): what the firms paying for
it check by hand. Skips where ../shared is absent."""

from __future__ import annotations

import pytest

from api.jobs.worker import Worker
from network.graph import build_graph

MAP = "data/osm/nanjing_xinjiekou_cbd.osm"
FAST = {"engine": "ortools", "time_limit_s": 0.5, "coalition_time_limit_s": 0.4}


@pytest.fixture(scope="module")
def nanjing(shared_dir):
    """The map file and its van graph's nodes (lat, lon), nearest the middle first."""
    path = shared_dir / MAP
    nodes = sorted((d["y"], d["x"]) for _, d in build_graph(path).nodes(data=True))
    lat = sum(n[0] for n in nodes) / len(nodes)
    lon = sum(n[1] for n in nodes) / len(nodes)
    return str(path), sorted(nodes, key=lambda n: (n[0] - lat) ** 2 + (n[1] - lon) ** 2)


def _day(nodes: list[tuple[float, float]]) -> dict:
    """Twin firms (one depot, the same doors) and a third; the hub in the middle."""
    edge = nodes[-1]
    doors = [nodes[5 + 9 * k] for k in range(6)]
    parcels = [
        {"id": f"{firm}-{k}", "firm": firm, "at": list(door)}
        for firm in ("sf", "zto")
        for k, door in enumerate(doors)
    ]
    parcels += [{"id": f"jd-{k}", "firm": "jd", "at": list(nodes[3 + 11 * k])} for k in range(5)]
    return {
        "name": "Xinjiekou",
        "travel": {"walk_radius_m": 300},
        "firms": [
            {"id": firm, "depot": list(edge), "fleet": [{"count": 1}]}
            for firm in ("sf", "zto", "jd")
        ],
        "centres": [{"id": "hub", "at": list(nodes[0]), "fleet": [{"count": 2}]}],
        "lockers": [{"id": "tower", "at": list(doors[0]), "free": {"S": 4}}],
        "parcels": parcels,
    }


def test_firms_check_a_real_map_run_by_hand(make_client, settings, auth, nanjing):
    path, nodes = nanjing
    day = _day(nodes)
    client = make_client(map_network=path)
    body = {"day": day, **FAST, "firms_on_platform": {"sf": "firm-a", "zto": "firm-b"}}
    r = client.post("/v1/pool-runs", json=body, headers=auth["planner"])
    assert r.status_code == 202, r.text
    assert Worker(settings).run(max_jobs=1) == 1
    run = f"/v1/pool-runs/{r.json()['id']}"
    result = client.get(f"{run}/result", headers=auth["planner"]).json()
    assert result["checker"]["ok"] and result["units"]["cost"]
    rows = {row["firm"]: row for row in result["firms_table"]}
    solo = sum(row["solo_cost"] for row in rows.values())
    assert solo == pytest.approx(result["plans"]["solo"]["cost"], abs=0.02)
    for plan, split in result["splits"].items():
        assert sum(split["shapley"].values()) == pytest.approx(split["cost"], abs=0.02)
        saved = result["savings_vs_solo"][plan]["cost"]["saved"]
        assert sum(row[f"{plan}_saving"] for row in rows.values()) == pytest.approx(saved, abs=0.03)
        # identical firms pay the same (within the solver's noise on their own coalitions)
        assert split["shapley"]["sf"] == pytest.approx(split["shapley"]["zto"], rel=0.02)
    sf, zto = (
        client.get(f"{run}/firm-result", headers=auth[key]).json() for key in ("a", "b")
    )
    for mine, firm in ((sf, "sf"), (zto, "zto")):
        own = sorted(p["id"] for p in day["parcels"] if p["firm"] == firm)
        for plan, stops in mine["deliveries"].items():
            assert sorted(s["parcel"] for s in stops) == own, (firm, plan)
    # twins at the same doors: their parcels come in the same vans
    assert {s["vehicle"] for s in sf["deliveries"]["pooled"]} == {
        s["vehicle"] for s in zto["deliveries"]["pooled"]
    }
    geo = client.get(f"{run}/result?format=geojson", headers=auth["planner"]).json()
    carried = {
        p: f["properties"]["vehicle"]
        for f in geo["features"]
        if f["properties"]["plan"] == "pooled" and f["properties"].get("type") == "job"
        for p in f["properties"]["parcel_ids"]
    }
    for stop in sf["deliveries"]["pooled"]:
        assert carried[stop["parcel"]] == stop["vehicle"]
