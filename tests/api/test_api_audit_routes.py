"""The API audit's route defects, each pinned: a failed pooling run tells a taking-part firm
nothing of the others; JSON's missing NaN/Infinity, over-long day ids and values the database
refuses are 422s naming their place; the map draws a built network folder (and a map it cannot
load is a 503); a day's travel that is not an object is refused as `gongpei pool` refuses it;
`"matrices": null` is no matrices; a batch's solution carries the checker's verdict. (The map
page saying why a search failed is in test_api_map.py, with the other browser tests.)"""

from __future__ import annotations

import copy
import json

import pytest
from sqlalchemy import func, select
from sqlalchemy.exc import DataError

from api.db.models import Job
from api.jobs.worker import Worker
from api.security import create_firm
from network.graph import build_graph
from routing.pooling.day import parse_day
from routing.pooling.errors import PoolingError

#: Road nodes of the map the tests' servers time travel on, as (lat, lon).
MAP = "synthetic:60"
FAST = {"engine": "ortools", "time_limit_s": 0.5, "coalition_time_limit_s": 0.4}
DAY = {
    "name": "two firms",
    "travel": {"straight_line": True},
    "firms": [
        {"id": "sf", "depot": [36.09, 120.41], "fleet": [{"count": 1}]},
        {"id": "yto", "depot": [36.095, 120.405], "fleet": [{"count": 1}]},
    ],
    "centres": [{"id": "hub", "at": [36.08, 120.395], "fleet": [{"count": 2}]}],
    "parcels": [
        {"id": "sf-1", "firm": "sf", "at": [36.067, 120.383]},
        {"id": "yto-1", "firm": "yto", "at": [36.0672, 120.3833]},
    ],
}


def _map_nodes() -> list[tuple[float, float]]:
    return [(d["y"], d["x"]) for _, d in build_graph(MAP, profile="van").nodes(data=True)]


def _jobs(db) -> int:
    with db.reading() as session:
        return session.scalar(select(func.count()).select_from(Job))


# -- 1: a failed pooling run's reason stays with the planner ----------------------------------


def test_a_failed_pool_run_tells_a_taking_part_firm_nothing_of_the_others(
    make_client, settings, auth, db
):
    nodes = _map_nodes()
    with db.writing() as session:
        _, sf_key = create_firm(session, "SF Express", "firm")
    far = [nodes[7][0] + 0.2, nodes[7][1]]  # yto's customer, 20 km off the map's roads
    day = {
        "name": "off the map",
        "travel": {"walk_radius_m": 300},
        "firms": [
            {"id": "sf", "depot": list(nodes[0]), "fleet": [{"count": 1}]},
            {"id": "yto", "depot": list(nodes[-1]), "fleet": [{"count": 1}]},
        ],
        "centres": [{"id": "hub", "at": list(nodes[len(nodes) // 2]), "fleet": [{"count": 2}]}],
        "parcels": [
            {"id": "sf-1", "firm": "sf", "at": list(nodes[5])},
            {"id": "yto-customer-42", "firm": "yto", "at": far},
        ],
    }
    client = make_client(map_network=MAP)
    body = {"day": day, "firms_on_platform": {"sf": "SF Express"}, **FAST}
    r = client.post("/v1/pool-runs", json=body, headers=auth["planner"])
    assert r.status_code == 202, r.text
    job_id = r.json()["id"]
    Worker(settings).run(max_jobs=1)
    status = client.get(f"/v1/pool-runs/{job_id}", headers=auth["planner"]).json()
    assert status["status"] == "failed" and "yto-customer-42" in status["error"]  # the planner's

    r = client.get(f"/v1/pool-runs/{job_id}/firm-result", headers={"X-API-Key": sf_key})
    assert r.status_code == 409
    assert r.json()["detail"] == (
        f"pool {job_id} failed; the planner who posted it can read why in its status"
    )
    # nor does its list of runs say more than that the run failed
    (run,) = client.get("/v1/pool-runs", headers={"X-API-Key": sf_key}).json()["items"]
    assert run["status"] == "failed" and "yto" not in json.dumps(run)


# -- 5: what the database cannot store is a 422 naming where it is -----------------------------


BATCH_TEXT = (
    '{"format": "vroom", "problem": {"vehicles": [{"id": 1, "start_index": 0, "end_index": 0, '
    '"capacity": [5]}], "jobs": [{"id": 1, "location_index": 1, "delivery": [1], '
    '"description": %s}], '
    '"matrices": {"car": {"durations": [[0, 300], [300, 0]]}}}}'
)
JSON = {"Content-Type": "application/json"}


@pytest.mark.parametrize("constant", ["NaN", "Infinity", "-Infinity"])
def test_non_finite_json_constants_are_refused_where_they_stand(client, auth, db, constant):
    """Python's parser reads them, and a part of a batch kept as posted (then an unknown key
    of a job; unknown keys are refused now, a job's description is still kept) took them to
    the database: PostgreSQL's JSON column refused them with a 422 naming
    nothing, and SQLite stored what no JSON reader reads back."""
    r = client.post("/v1/batches", content=BATCH_TEXT % constant, headers={**auth["a"], **JSON})
    assert r.status_code == 422, r.text
    assert r.json()["detail"] == [
        {
            "loc": ["body", "problem", "jobs", 0, "description"],
            "msg": f"JSON decode error: {constant} is not JSON (a number must be finite)",
            "type": "json_invalid",
        }
    ]
    # refused as malformed JSON is: after the caller's key
    r = client.post("/v1/batches", content=BATCH_TEXT % constant, headers=JSON)
    assert r.status_code == 401
    assert _jobs(db) == 0
    # the words in a string are text, and any other Content-Type is still a 415
    words = BATCH_TEXT % '"NaN, -Infinity"'
    ok = client.post("/v1/batches", content=words, headers={**auth["a"], **JSON})
    assert ok.status_code == 202, ok.text
    text = {**auth["a"], "Content-Type": "text/plain"}
    r = client.post("/v1/batches", content=BATCH_TEXT % constant, headers=text)
    assert r.status_code == 415


@pytest.mark.parametrize(
    ("number", "shown"),
    [
        ("1e400", "1e400"),
        ("-2.5E+308", "-2.5E+308"),
        ("9" * 309 + ".0", "9" * 20 + "..."),
        ("1" + "0" * 250 + "e99", "1" + "0" * 19 + "..."),  # past a search for 309 in a row
    ],
)
def test_a_number_too_large_for_a_float_is_refused_where_it_stands(
    client, auth, db, number, shown
):
    """The parser read it as infinity, which went the way of NaN: to the database."""
    r = client.post("/v1/batches", content=BATCH_TEXT % number, headers={**auth["a"], **JSON})
    assert r.status_code == 422, r.text
    assert r.json()["detail"] == [
        {
            "loc": ["body", "problem", "jobs", 0, "description"],
            "msg": f"JSON decode error: {shown} is too large for a number (a number must be "
            "finite)",
            "type": "json_invalid",
        }
    ]
    assert _jobs(db) == 0
    # digits in strings are text, and large but finite numbers reach the reader as numbers
    # (which a description is not), not as malformed JSON
    ok = client.post("/v1/batches", content=BATCH_TEXT % '"1e400"', headers={**auth["a"], **JSON})
    assert ok.status_code == 202, ok.text
    for fine in ("1e300", "1" + "0" * 400):
        r = client.post("/v1/batches", content=BATCH_TEXT % fine, headers={**auth["a"], **JSON})
        assert r.status_code == 422, r.text
        (detail,) = r.json()["detail"]
        assert detail["type"] != "json_invalid" and "description" in detail["msg"], detail


def test_a_day_id_over_200_characters_is_a_422_naming_it(client, auth, db):
    """pool_participants.day_firm is VARCHAR(200): a longer firm id reached PostgreSQL."""
    long_id = "sf-" + "x" * 198
    day = copy.deepcopy(DAY)
    day["firms"][0]["id"] = day["parcels"][0]["firm"] = long_id
    body = {"day": day, "firms_on_platform": {long_id: "firm-a"}, **FAST}
    r = client.post("/v1/pool-runs", json=body, headers=auth["planner"])
    assert r.status_code == 422, r.text
    (problem,) = r.json()["detail"]
    assert problem["loc"] == ["body", "day", "firms", 0, "id"]
    assert problem["msg"].endswith(": id: String should have at most 200 characters")
    assert _jobs(db) == 0
    day["firms"][0]["id"] = day["parcels"][0]["firm"] = long_id[:200]
    body["firms_on_platform"] = {long_id[:200]: "firm-a"}
    assert client.post("/v1/pool-runs", json=body, headers=auth["planner"]).status_code == 202


@pytest.mark.parametrize(
    "refusal",
    [OverflowError("Python int too large to convert to C long"), DataError("INSERT", {}, None)],
)
def test_a_value_the_database_refuses_is_a_422_list_at_the_body(client, refusal):
    """The last resort for a value no check caught: a 422 shaped as every other, not a bare
    string."""

    def store() -> None:
        raise refusal

    client.app.add_api_route("/v1/test-store", store, methods=["POST"])
    r = client.post("/v1/test-store", json={})
    assert r.status_code == 422
    assert r.json()["detail"] == [
        {
            "loc": ["body"],
            "type": "value_error",
            "msg": "a value cannot be stored (out of range, or text with a NUL character)",
        }
    ]


# -- 6: the map's roads from a `gongpei network build` folder ----------------------------------


def test_the_map_draws_a_network_build_folder(make_client, tmp_path, monkeypatch):
    from api.scenario.mapdata import road_features
    from network.store import save_graph_dir

    monkeypatch.setenv("GONGPEI_DATA_DIR", str(tmp_path / "data"))
    for profile in ("van", "walk"):  # a folder holds its one profile's roads
        roads = build_graph(MAP, profile=profile)
        folder = save_graph_dir(roads, tmp_path / profile)
        r = make_client(map_network=str(folder)).get("/map/network.geojson")
        assert r.status_code == 200, r.text
        assert r.json() == {"type": "FeatureCollection", "features": road_features(roads)}


@pytest.mark.parametrize("where", ["a missing file", "an empty folder"])
def test_a_map_the_server_cannot_load_is_a_503(make_client, tmp_path, monkeypatch, where):
    """The server's configuration, not the GET's body: a 503, naming none of its files."""
    monkeypatch.setenv("GONGPEI_DATA_DIR", str(tmp_path / "data"))
    source = tmp_path / "gone.osm.pbf"
    if where == "an empty folder":
        source = tmp_path / "empty"
        source.mkdir()
    r = make_client(map_network=str(source)).get("/map/network.geojson")
    assert r.status_code == 503, r.text
    detail = r.json()["detail"]
    assert "cannot be loaded" in detail and str(tmp_path) not in detail


# -- 7: a pooling day's travel that is not an object -------------------------------------------


@pytest.mark.parametrize("travel", ["straight_line", 5, [{"straight_line": True}]])
def test_a_pool_day_whose_travel_is_not_an_object_is_refused_as_the_cli_does(
    make_client, auth, db, travel
):
    day = {**copy.deepcopy(DAY), "travel": travel}
    with pytest.raises(PoolingError) as cli:  # what `gongpei pool` says of the same day
        parse_day(day)
    for map_network in ("", MAP):
        client = make_client(map_network=map_network)
        r = client.post("/v1/pool-runs", json={"day": day, **FAST}, headers=auth["planner"])
        assert r.status_code == 422, (map_network, r.text)
        assert r.json()["detail"] == [
            {"loc": ["body", "day", "travel"], "type": "value_error", "msg": str(cli.value)}
        ]
    assert _jobs(db) == 0


# -- 11: "matrices": null is no matrices -------------------------------------------------------


def _on_the_map(fmt: str) -> dict:
    nodes = _map_nodes()
    home, stop = nodes[0], nodes[len(nodes) // 2]
    if fmt == "vroom":
        depot = [home[1], home[0]]
        return {
            "vehicles": [{"id": 1, "start": depot, "end": depot, "capacity": [5]}],
            "jobs": [{"id": 1, "location": [stop[1], stop[0]], "delivery": [1]}],
        }
    return {
        "locations": [{"lat": home[0], "lon": home[1]}, {"lat": stop[0], "lon": stop[1]}],
        "centres": [{"id": "hub", "location": 0}],
        "vehicles": [{"id": "v1", "start": "hub", "end": "hub"}],
        "jobs": [{"id": "a", "location": 1}],
    }


@pytest.mark.parametrize(
    ("fmt", "unset"),
    [
        ("vroom", {"matrices": None}),
        ("vroom", {"matrices": None, "matrix": None}),
        ("vroom", {"matrices": {}}),
        ("native", {"matrices": None}),
    ],
)
def test_matrices_sent_as_null_are_none(make_client, settings, auth, fmt, unset):
    """Many clients send an unset optional field as null: the batch is timed on the server's
    map, as one leaving the key out is; without a map the 422 names `matrices` in an HTTP
    caller's terms (no CLI flag)."""
    problem = {**_on_the_map(fmt), **unset}
    body = {"format": fmt, "problem": problem, "engine": "ortools", "time_limit_s": 0.5}
    client = make_client(map_network=MAP)
    r = client.post("/v1/batches", json=body, headers=auth["a"])
    assert r.status_code == 202, r.text
    assert Worker(settings).run(max_jobs=1) == 1
    status = client.get(f"/v1/batches/{r.json()['id']}", headers=auth["a"]).json()
    assert status["status"] == "done", status["error"]

    r = make_client(map_network="").post("/v1/batches", json=body, headers=auth["a"])
    assert r.status_code == 422
    (problem,) = r.json()["detail"]
    assert problem["loc"] == ["body", "problem", "matrices"] and "--" not in problem["msg"]


# -- 12: the checker's verdict in a batch's solution --------------------------------------------


def test_a_batch_solution_carries_the_checkers_verdict(client, settings, auth, vroom_problem):
    body = {"format": "vroom", "problem": vroom_problem(6), "engine": "ortools", "time_limit_s": 1}
    job_id = client.post("/v1/batches", json=body, headers=auth["a"]).json()["id"]
    assert Worker(settings).run(max_jobs=1) == 1
    solution = client.get(f"/v1/batches/{job_id}/solution", headers=auth["a"]).json()
    assert solution["summary"]["checker"] == {"ok": True, "violations": []}
    op = client.get("/openapi.json").json()["paths"]["/v1/batches/{job_id}/solution"]["get"]
    example = op["responses"]["200"]["content"]["application/json"]["example"]
    assert example["summary"]["checker"] == {"ok": True, "violations": []}
