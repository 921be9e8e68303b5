"""A scenario's input files are read as `gongpei site` reads them, never silently misread: a
firm's parcels CSV (any header case, spaces, a BOM or GBK; an unknown column or a bad row refused
naming the file, row and column), and the per-row values of candidates and demand files
(fixed_cost, capacity, existing, compartments, S/M/L mixes) honoured, not replaced by the
scenario's defaults (audit findings 3 and 9)."""

import math
from pathlib import Path

import numpy as np
import pytest

from api.scenario.demand import DemandPoints, draw_parcels, read_demand_file, read_parcels_file
from api.scenario.errors import ScenarioError
from api.scenario.runner import run_scenario
from api.scenario.schema import LockersSpec, ParcelsSpec, SitingSpec
from api.scenario.sites import sites_from_file, siting_instance
from network.synthetic import synthetic_city
from routing.siting.points import read_candidates

WHERE = "s.yaml:9: firms[0].parcels"
MIX = {"S": 0.6, "M": 0.3, "L": 0.1}


def _parcels(tmp_path: Path, text: str, encoding: str = "utf-8") -> list:
    path = tmp_path / "day.csv"
    path.write_bytes(text.encode(encoding))
    return read_parcels_file("SF", path, ParcelsSpec(file=path), WHERE)


def _refusal(tmp_path: Path, text: str) -> str:
    with pytest.raises(ScenarioError) as info:
        _parcels(tmp_path, text)
    return str(info.value).removeprefix(f"{WHERE}: ")


# --- finding 3: a firm's parcels CSV -------------------------------------------------------


@pytest.mark.parametrize(
    "text",
    [
        "id,lat,lon,Size\n1,60.17,24.94,L\n",
        "ID,Lat,LON,SIZE\n1,60.17,24.94,L\n",
        "id, lat, lon, size\n1, 60.17, 24.94, L\n",
        "\ufeffid,lat,lon,size\n1,60.17,24.94,L\n",  # Excel's "CSV UTF-8"
    ],
)
def test_parcel_headers_in_any_case_with_spaces_or_a_bom_are_read(
    tmp_path: Path, text: str
) -> None:
    (parcel,) = _parcels(tmp_path, text)
    assert (parcel.id, parcel.lat, parcel.lon, parcel.size) == ("SF-1", 60.17, 24.94, "L")


def test_a_parcels_file_saved_as_gbk_is_read(tmp_path: Path) -> None:
    """Excel's plain "CSV" on a Chinese Windows machine, as `gongpei matrix` reads it."""
    parcels = _parcels(tmp_path, "id,lat,lon,size\n北门-1,60.17,24.94,M\n", encoding="gbk")
    assert [(p.id, p.size) for p in parcels] == [("SF-北门-1", "M")]


@pytest.mark.parametrize("column", ["sise", "kg", "window"])
def test_an_unknown_parcel_column_is_refused_by_name(tmp_path: Path, column: str) -> None:
    text = f"id,lat,lon,{column}\n1,60.17,24.94,L\n"
    assert _refusal(tmp_path, text) == (
        f"day.csv row 2: unknown field '{column}' (it takes id, lat, lon, size)"
    )


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("id,lat,lon,size\n1,60.17,24.94,L\n2,60.17\n", "day.csv row 3: field 'lon' is required"),
        ("id,lat,lon\n1,north,24.94\n", "day.csv row 2: field 'lat' must be a number, got 'north'"),
        ("id,lat,lon\n1,60.17,24.94,L\n", "day.csv row 2: more cells than the header has columns"),
        ("id,lat,lon\n,60.17,24.94\n", "day.csv row 2: field 'id' is required"),
        ("id,lat,lon,size,Size\n1,60.17,24.94,L,S\n",
         "day.csv row 1: column 'Size' repeats column 'size'"),
        ("id,lat,lon,size,size\n1,60.17,24.94,L,S\n",
         "day.csv row 1: column 'size' repeats column 'size'"),
    ],
)
def test_a_bad_parcel_row_names_the_file_row_and_column(
    tmp_path: Path, text: str, expected: str
) -> None:
    assert _refusal(tmp_path, text) == expected


def test_parcels_without_a_size_are_small_as_documented(tmp_path: Path) -> None:
    parcels = _parcels(tmp_path, "id,lat,lon,size\n1,60.17,24.94,\n2,60.17,24.94,XL\n")
    assert [p.size for p in parcels] == ["S", "XL"]


# --- finding 9: candidates files ---------------------------------------------------------------

CANDIDATES = (
    "id,lat,lon,fixed_cost,capacity,existing,compartments_S,compartments_M,compartments_L\n"
    "tower-A,60.170,24.940,5000,40,true,20,10,4\n"
    "tower-B,60.172,24.945,0,60,false,,,\n"
    "lobby-C,60.171,24.941,,,,,,\n"
)
PLACES = ("60.170,24.940", "60.172,24.945", "60.171,24.941")
LOCKERS = LockersSpec(candidates={"cost": 2.5, "compartments": {"S": 4, "M": 2, "L": 1}})


def _sites(tmp_path: Path, text: str) -> list:
    path = tmp_path / "cands.csv"
    path.write_text(text)
    return sites_from_file(path, LOCKERS, "s.yaml:7: lockers.candidates.file")


def test_candidate_rows_keep_their_own_values_and_default_to_the_scenario(
    tmp_path: Path,
) -> None:
    a, b, c = _sites(tmp_path, CANDIDATES)
    assert (a.existing, a.cost, a.capacity, a.compartments.model_dump(), a.kind) == (
        True, 5000.0, 40.0, {"S": 20, "M": 10, "L": 4}, "existing")
    assert (b.existing, b.cost, b.capacity, b.compartments.model_dump()) == (
        False, 0.0, 60.0, {"S": 4, "M": 2, "L": 1})  # a cost of 0 given is no cost missing
    assert (c.existing, c.cost, c.capacity, c.compartments.model_dump()) == (
        False, 2.5, None, {"S": 4, "M": 2, "L": 1})


def test_candidates_read_as_gongpei_site_reads_them(tmp_path: Path) -> None:
    path = tmp_path / "cands.csv"
    path.write_text(CANDIDATES.replace("lobby-C,60.171,24.941,,", "lobby-C,60.171,24.941,2.5,"))
    site = [(c.id, c.fixed_cost, c.capacity, c.existing) for c in read_candidates(path)]
    scenario = [(s.id, s.cost, math.inf if s.capacity is None else s.capacity, s.existing)
                for s in sites_from_file(path, LOCKERS, "where")]
    assert scenario == site


def test_a_standing_locker_without_compartments_is_refused(tmp_path: Path) -> None:
    with pytest.raises(ScenarioError) as info:
        _sites(tmp_path, "id,lat,lon,existing\ngate,60.17,24.94,yes\n")
    assert str(info.value).endswith(
        "cands.csv row 2: standing locker 'gate' needs its compartments_S, compartments_M and "
        "compartments_L (as lockers.existing gives them)")


def test_compartments_of_a_new_locker_are_refused_not_ignored(tmp_path: Path) -> None:
    with pytest.raises(ScenarioError) as info:
        _sites(tmp_path, "id,lat,lon,compartments_S,compartments_M,compartments_L\n"
                         "new,60.17,24.94,9,9,9\n")
    assert str(info.value).endswith(
        "cands.csv row 2: compartments_S/M/L are for a standing locker (existing true); new "
        "locker 'new' gets lockers.candidates.compartments (or the sizing's)")


@pytest.fixture(scope="module")
def walk_nodes() -> tuple:
    """The synthetic city's walk graph and its nodes' (lat, lon), for points on the map."""
    graph = synthetic_city(400, profile="walk")
    return graph, [(float(d["y"]), float(d["x"])) for _, d in sorted(graph.nodes(data=True))]


@pytest.mark.parametrize(
    ("siting", "capacity"),
    [
        ({"capacitated": True}, [40.0, 60.0, 7 / 1.5]),  # row's, else compartments' turnover
        ({"sizing": True}, [40.0, 60.0, math.inf]),  # row's hold beside the sizing's
        ({}, [math.inf] * 3),  # not capacitated: none binds, as under `gongpei site`
    ],
)
def test_the_siting_gets_each_rows_cost_capacity_and_standing_locker(
    tmp_path: Path, walk_nodes: tuple, siting: dict, capacity: list[float]
) -> None:
    graph, nodes = walk_nodes
    text = CANDIDATES  # its three sites moved onto the map
    for old, (lat, lon) in zip(PLACES, nodes[100:103], strict=True):
        text = text.replace(old, f"{lat},{lon}")
    lat, lon = np.array([p[0] for p in nodes[:50]]), np.array([p[1] for p in nodes[:50]])
    demand = DemandPoints([f"d{k}" for k in range(50)], lat, lon, np.ones(50),
                          np.tile([0.6, 0.3, 0.1], (50, 1)), ["file"] * 50)
    inst = siting_instance(demand, _sites(tmp_path, text), graph, SitingSpec(**siting), "t")
    assert inst.must_open.tolist() == [True, False, False]
    assert inst.fixed_cost.tolist() == [5000.0, 0.0, 2.5]
    assert inst.capacity.tolist() == pytest.approx(capacity)
    assert inst.existing_compartments[0].tolist() == [20, 10, 4]


def test_a_standing_locker_in_the_candidates_file_stays_open(
    tmp_path: Path, walk_nodes: tuple
) -> None:
    """`existing=true` in the file was read as a closable candidate: the run left it closed."""
    _, nodes = walk_nodes
    corner = min(nodes)  # the south-west corner: few parcels walk there
    rows = [f"kiosk-{k},{lat},{lon},,,," for k, (lat, lon) in enumerate(nodes[150:330:30])]
    (tmp_path / "cands.csv").write_text(
        "id,lat,lon,existing,compartments_S,compartments_M,compartments_L\n"
        f"old-gate,{corner[0]},{corner[1]},true,10,5,2\n" + "\n".join(rows) + "\n")
    (tmp_path / "s.yaml").write_text(
        'name: file lockers\nmap: {source: "synthetic:400"}\n'
        "demand: {source: road_nodes, points: 60, seed: 3}\n"
        "lockers: {candidates: {file: cands.csv}}\n"
        "siting: {radius_m: 300, budget: 2, time_limit_s: 2}\n")
    summary = run_scenario(tmp_path / "s.yaml", tmp_path / "out", quiet=True,
                           coverage_curve=False)
    assert "old-gate" in summary["siting"]["opened"]
    (row,) = [r for r in summary["siting"]["lockers"] if r["id"] == "old-gate"]
    assert row["kind"] == "existing" and row["compartments"] == {"S": 10, "M": 5, "L": 2}


# --- finding 9: demand files -------------------------------------------------------------------


def test_a_demand_points_own_size_mix_is_kept(tmp_path: Path) -> None:
    path = tmp_path / "demand.csv"
    path.write_text("id,lat,lon,parcels,S,M,L\nwarehouse,60.17,24.94,50,0,0,1\n"
                    "flats,60.18,24.95,50,,,\n")
    points = read_demand_file(path, MIX, "s.yaml:3: demand.file")
    assert points.size_mix.tolist() == [[0, 0, 1], pytest.approx([0.6, 0.3, 0.1])]
    assert points.mix_given.tolist() == [True, False]


def test_drawn_parcels_take_their_points_own_mix(tmp_path: Path) -> None:
    path = tmp_path / "demand.csv"
    path.write_text("id,lat,lon,parcels,S,M,L\nwarehouse,60.17,24.94,50,0,0,1\n"
                    "flats,60.18,24.95,50,,,\n")
    demand = read_demand_file(path, MIX, "s.yaml:3: demand.file")
    parcels = draw_parcels("JD", ParcelsSpec(count=400, seed=2), demand, MIX)
    assert {p.size for p in parcels if p.demand_id == "warehouse"} == {"L"}
    assert {p.size for p in parcels if p.demand_id == "flats"} == {"S", "M", "L"}


def test_a_day_without_own_mixes_is_drawn_as_before() -> None:
    """Sizes are drawn per parcel now; a seeded day whose points share one mix is unchanged."""
    rng = np.random.default_rng(0)
    demand = DemandPoints([f"d{k}" for k in range(30)], rng.uniform(36, 36.1, 30),
                          rng.uniform(120, 120.1, 30), rng.uniform(1, 20, 30),
                          np.tile([0.6, 0.3, 0.1], (30, 1)), ["road node"] * 30)
    spec = ParcelsSpec(count=500, seed=11, time_windows=[
        {"window": ["12:00", "13:30"], "share": 0.3}])
    before = np.random.default_rng(spec.seed)
    picks = before.choice(30, size=500, p=demand.parcels / demand.parcels.sum())
    sizes = before.choice(3, size=500, p=np.array([0.6, 0.3, 0.1]) / 1.0)
    parcels = draw_parcels("JD", spec, demand, MIX)
    assert [p.demand_id for p in parcels] == [f"d{i}" for i in picks]
    assert [p.size for p in parcels] == ["SML"[s] for s in sizes]
