"""Bad input gets a typed error naming the item; points files; merging; curves; GeoJSON."""

import dataclasses
import json

import numpy as np
import pytest

from routing.siting import SitingModel, solve
from routing.siting.aggregate import aggregate
from routing.siting.curve import coverage_curve, plot_curve
from routing.siting.errors import SitingInputError
from routing.siting.points import (
    Candidate,
    DemandPoint,
    instance_from_points,
    read_candidates,
    read_demand,
)

LAT, LON = 36.067, 120.383
M = 1 / 111_320  # about one metre of latitude, in degrees


def _line_case(**kw):
    """Three demand points 0, 300 and 900 m north of two candidates' line, straight-line."""
    demand = [
        DemandPoint("a", LAT, LON, 10),
        DemandPoint("b", LAT + 300 * M, LON, 5),
        DemandPoint("c", LAT + 900 * M, LON, 7),
    ]
    sites = [
        Candidate("s0", LAT, LON, fixed_cost=3),
        Candidate("s1", LAT + 800 * M, LON, fixed_cost=2),
    ]
    return instance_from_points(
        demand, sites, radius_m=kw.pop("radius_m", 400), straight_line=True, **kw
    )


def test_straight_line_reach_keeps_zero_distance_pairs():
    inst = _line_case()
    dense = inst.reach.toarray()
    assert inst.reach.nnz == 3  # a-s0 (0 m), b-s0 (300 m), c-s1 (100 m); b-s1 is 500 m
    assert dense[0, 0] == 0.0 and dense[1, 0] == pytest.approx(300, abs=0.5)
    assert dense[2, 1] == pytest.approx(100, abs=0.5)
    plan = solve(inst, SitingModel("setcover"))
    assert plan.objective == 5.0 and plan.is_open.all()
    far = _line_case(radius_m=150)  # b (300 m from s0, 500 m from s1) reaches no site
    out = solve(far, SitingModel("setcover")).to_dict()
    assert out["uncoverable"] == ["b"]
    assert out["unserved"] == [{"demand": "b", "parcels": 5.0}]


def test_negative_demand_names_the_point():
    with pytest.raises(SitingInputError, match="demand point 'x': parcels must be a number >= 0"):
        DemandPoint("x", LAT, LON, -3)


def test_zero_radius():
    with pytest.raises(SitingInputError, match="radius_m must be a number > 0"):
        _line_case(radius_m=0)
    with pytest.raises(SitingInputError, match="radius must be > 0"):
        _line_case().within(0)


def test_budget_below_fixed_lockers_cost():
    inst = _line_case()
    must = inst.must_open.copy()
    must[:] = True
    inst = dataclasses.replace(inst, must_open=must)
    with pytest.raises(SitingInputError, match="budget 4 is below the 5"):
        solve(inst, SitingModel("maxcover", budget=4))


def test_p_larger_than_candidates():
    with pytest.raises(SitingInputError, match="p=3 is larger than the 2 candidate sites"):
        solve(_line_case(), SitingModel("pmedian", p=3))


def test_model_options():
    with pytest.raises(SitingInputError, match="kind must be one of"):
        SitingModel("center")
    with pytest.raises(SitingInputError, match=r"'pmedian': p .* is required"):
        SitingModel("pmedian")
    with pytest.raises(SitingInputError, match="capacitated needs finite site capacities"):
        solve(_line_case(), SitingModel("maxcover", p=1, capacitated=True))


def test_duplicate_ids_and_bad_coordinates():
    with pytest.raises(SitingInputError, match="candidate 's': id appears more than once"):
        instance_from_points(
            [DemandPoint("a", LAT, LON, 1)],
            [Candidate("s", LAT, LON), Candidate("s", LAT, LON)],
            radius_m=100,
            straight_line=True,
        )
    with pytest.raises(SitingInputError, match="candidate 'z': lat/lon"):
        Candidate("z", 95.0, LON)


def test_points_files(tmp_path):
    (tmp_path / "d.csv").write_text("id,lat,lon,parcels,S,M,L\nd1,36.0,120.0,4,0.5,0.3,0.2\n")
    pts = read_demand(tmp_path / "d.csv")
    assert pts[0].mix == (0.5, 0.3, 0.2) and pts[0].parcels == 4
    (tmp_path / "bad.csv").write_text("id,lat,lon,parcels\nd1,36.0,120.0,many\n")
    with pytest.raises(SitingInputError, match=r"bad.csv row 2: field 'parcels' must be a number"):
        read_demand(tmp_path / "bad.csv")
    gj = {
        "type": "FeatureCollection",
        "features": [
            {
                "type": "Feature",
                "id": "gate",
                "geometry": {"type": "Point", "coordinates": [120.0, 36.0]},
                "properties": {"fixed_cost": 5, "existing": True},
            }
        ],
    }
    (tmp_path / "c.geojson").write_text(json.dumps(gj))
    (cand,) = read_candidates(tmp_path / "c.geojson")
    assert (cand.id, cand.lat, cand.lon, cand.fixed_cost, cand.existing) == (
        "gate",
        36.0,
        120.0,
        5,
        True,
    )


def test_merged_points_give_the_same_optimum(tiny_instance):
    inst = tiny_instance(7, n=8)
    # duplicate every point: merging must halve the rows and keep the optimum (doubled)
    from routing.siting import make_reach

    coo = inst.reach.tocoo()
    n = inst.n_demand
    reach = make_reach(
        np.r_[coo.row, coo.row + n],
        np.r_[coo.col, coo.col],
        np.r_[coo.data, coo.data],
        (2 * n, inst.n_sites),
    )
    twice = dataclasses.replace(
        inst,
        demand_ids=[*inst.demand_ids, *[f"{d}'" for d in inst.demand_ids]],
        weight=np.r_[inst.weight, inst.weight],
        reach=reach,
    )
    for model in (SitingModel("maxcover", p=2), SitingModel("pmedian", p=2, unserved_penalty=30.0)):
        merged, group = aggregate(twice, model)
        assert merged.n_demand <= n and (group[:n] == group[n:]).all()
        one, two = solve(inst, model), solve(twice, model)
        assert two.objective == pytest.approx(2 * one.objective)
        assert two.served.shape == (2 * n,)


def test_curve_and_geojson(tmp_path):
    inst = _line_case()
    curve = coverage_curve(inst, [1, 2])
    assert [c["covered_parcels"] for c in curve] == [15.0, 22.0]
    assert all(c["gap"] == 0.0 for c in curve)
    png = plot_curve(curve, tmp_path / "curve.png")
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    plan = solve(inst, SitingModel("maxcover", p=2))
    gj = plan.to_geojson()
    kinds = sorted(f["properties"]["kind"] for f in gj["features"])
    assert kinds == ["catchment"] * 3 + ["locker"] * 2
    line = next(f for f in gj["features"] if f["properties"].get("demand") == "c")
    assert line["geometry"]["coordinates"][1] == [LON, pytest.approx(LAT + 800 * M)]


@pytest.mark.parametrize(
    ("spec", "needle"),
    [
        ({"radius_m": 300, "demand": [], "candidates": [], "colour": 1}, "unknown field 'colour'"),
        ({"map": "demo", "demand": []}, "field 'radius_m' is required"),
        ({"radius_m": 300, "demand": [], "candidates": []}, "field 'map' is required"),
        (
            {
                "map": "synthetic:200",
                "radius_m": 300,
                "demand": {"from_buildings": True},
                "candidates": [],
            },
            "from_buildings needs an OSM 'map' file",
        ),
        (
            {
                "straight_line": True,
                "radius_m": 300,
                "candidates": [],
                "demand": [{"id": "a", "lat": 36, "lon": 120, "parcels": -1}],
            },
            "demand point 'a': parcels must be a number >= 0",
        ),
        (
            {
                "straight_line": True,
                "radius_m": 300,
                "demand": [],
                "candidates": [],
                "model": {"kind": "maxcover", "q": 1},
            },
            "demand: at least one demand point",
        ),
        (
            {
                "map": "demo",
                "radius_m": 300,
                "demand": {"from_buildings": True},
                "candidates": {"from_buildings": True, "capacty": 60},
            },
            r"candidates: unknown field 'capacty' beside from_buildings \(it takes capacity, "
            r"fixed_cost, min_area_m2\)",
        ),
        (
            {
                "map": "demo",
                "radius_m": 300,
                "demand": {"from_buildings": True, "rate": {"office": 1}},
                "candidates": {"from_buildings": True},
            },
            r"demand: unknown field 'rate' beside from_buildings \(it takes mix, rates\)",
        ),
    ],
)
def test_native_file_errors(tmp_path, spec, needle):
    from routing.siting.native import read_native

    path = tmp_path / "n.json"
    path.write_text(json.dumps(spec))
    with pytest.raises(SitingInputError, match=needle):
        read_native(path)


def test_native_model_errors():
    from routing.siting.native import model_from_dict

    with pytest.raises(SitingInputError, match="unknown field 'q'"):
        model_from_dict({"kind": "maxcover", "q": 1})
    model = model_from_dict({"kind": "setcover", "sizing": {"costs": {"L": 1.0}, "dwell_days": 2}})
    assert model.sizing.costs.tolist() == [300.0, 400.0, 1.0] and model.sizing.throughput == 0.5


def _native(**changes):
    """A straight-line native file (no map needed) with ``changes`` applied on top."""
    spec = {
        "straight_line": True,
        "radius_m": 500,
        "demand": [{"id": "a", "lat": LAT, "lon": LON, "parcels": 4}],
        "candidates": [{"id": "c", "lat": LAT + 10 * M, "lon": LON, "fixed_cost": 5}],
        "model": {"kind": "maxcover", "p": 1},
    }
    for key, value in changes.items():
        if key.startswith("model."):
            spec["model"][key[6:]] = value
        elif key in ("demand0", "candidate0"):
            spec["demand" if key == "demand0" else "candidates"][0].update(value)
        else:
            spec[key] = value
    return spec


@pytest.mark.parametrize(
    ("changes", "needle"),
    [
        # wrongly typed values were read as something else (a string "false" as true, ...)
        ({"model.capacitated": "false"}, "model: field 'capacitated' must be true or false"),
        ({"straight_line": "false"}, "field 'straight_line' must be true or false, got 'false'"),
        ({"candidate0": {"existing": "maybe"}}, r"candidates\[0\]: field 'existing' must be true"),
        ({"model.p": 1.5}, "model: field 'p' must be a whole number, got 1.5"),
        ({"model.p": "1"}, "model: field 'p' must be a whole number, got '1'"),
        (
            {"model.sizing": {"max_compartments": 10.7}},
            "field 'sizing.max_compartments' must be a whole number, got 10.7",
        ),
        # unknown fields were ignored: each named with the fields allowed there
        (
            {"demand0": {"weight": 3}},
            r"demand\[0\]: unknown field 'weight' \(it takes id, lat, lon, parcels, mix, S, M, L\)",
        ),
        (
            {"demand0": {"mix": {"S": 0.5, "XL": 0.5}}},
            r"unknown field 'mix.XL' \(it takes S, M, L\)",
        ),
        (
            {"model.sizing": {"dwell": 2}},
            r"model: unknown field 'sizing.dwell' \(it takes dwell_days, max_compartments, costs\)",
        ),
        ({"model.sizing": {"costs": {"XL": 2}}}, r"'sizing.costs.XL' \(it takes S, M, L\)"),
        # tracebacks before
        ({"model.p": None, "model.budget": "lots"}, "field 'budget' must be a number, got 'lots'"),
        ({"model.sizing": {"costs": {"S": "cheap"}}}, "field 'sizing.costs.S' must be a number"),
        ({"model.sizing": {"dwell_days": "two"}}, "field 'sizing.dwell_days' must be a number"),
        ({"model.sizing": [1, 2]}, "model: field 'sizing' must be an object, got \\[1, 2\\]"),
        ({"straight_line": False, "map": 5}, "field 'map' must be text, got 5"),
        # misleading messages before
        ({"bbox": "1,2,3,4"}, "field 'bbox' must be four numbers \\[west, south, east, north\\]"),
        ({"max_snap_m": -1}, "field 'max_snap_m' must be >= 0, got -1"),
        ({"demand0": {"id": None}}, r"demand\[0\]: field 'id' must be text"),
        ({"model": {"kind": "setcover", "unserved_penalty": 3}}, "'unserved_penalty' does not"),
    ],
)
def test_native_values_are_read_exactly_or_refused(tmp_path, changes, needle):
    from routing.siting.native import read_native

    path = tmp_path / "n.json"
    path.write_text(json.dumps(_native(**changes)))
    with pytest.raises(SitingInputError, match=needle):
        read_native(path)


def test_points_without_an_id_are_named_by_row(tmp_path):
    from routing.siting.native import read_native

    spec = _native()
    del spec["demand"][0]["id"]
    spec["demand"].append({"lat": LAT, "lon": LON, "parcels": 1})
    (tmp_path / "n.json").write_text(json.dumps(spec))
    with pytest.raises(SitingInputError, match=r"^demand\[0\]: field 'id' is required$"):
        read_native(tmp_path / "n.json")


def test_native_mix_sizing_switch_and_numeric_ids(tmp_path):
    from routing.siting.native import read_native

    spec = _native(demand0={"id": 7, "mix": [0.2, 0.3, 0.5]}, **{"model.sizing": True})
    spec["demand"].append({"id": "b", "lat": LAT, "lon": LON, "parcels": 1, "mix": {"L": 1}})
    (tmp_path / "n.json").write_text(json.dumps(spec))
    inst, model = read_native(tmp_path / "n.json")
    assert inst.demand_ids == ["7", "b"]
    assert inst.size_mix.tolist() == [[0.2, 0.3, 0.5], [0.0, 0.0, 1.0]]
    assert model.sizing.max_compartments == 120 and model.is_capacitated


@pytest.mark.parametrize(
    ("text", "needle"),
    [
        # a column typo made every site free: now the column is named with those allowed
        (
            "id,lat,lon,fixed_cots\nc1,36.0,120.0,100\n",
            r"c.csv row 2: unknown field 'fixed_cots' \(it takes id, lat, lon, fixed_cost,",
        ),
        ("id,lat,lon,existing\nc1,36.0,120.0,maybe\n", "row 2: field 'existing' must be true"),
        ("id,lat,lon\nc1,36.0\n", "c.csv row 2: field 'lon' is required"),
        ("id,lat,lon\nc1,36.0,120.0,9\n", "c.csv row 2: more cells than the header has columns"),
        ("id;lat;lon\nc1;36.0;120.0\n", "unknown field 'id;lat;lon'"),
        ("id,lat,lon\n\nc1,36.0,120.0\n,36.0,120.0\n", "c.csv row 4: field 'id' is required"),
    ],
)
def test_candidate_csv_errors(tmp_path, text, needle):
    (tmp_path / "c.csv").write_text(text)
    with pytest.raises(SitingInputError, match=needle):
        read_candidates(tmp_path / "c.csv")


def test_csv_with_a_byte_order_mark_and_yes_no_cells(tmp_path):
    # Excel's "CSV UTF-8" starts with a BOM, which made the first column "\ufeffid": every id
    # was None, reported as "demand point 'None': id appears more than once"
    (tmp_path / "d.csv").write_bytes(b"\xef\xbb\xbfid,lat,lon,parcels\nd1,36,120,3\nd2,36,120,4\n")
    assert [d.id for d in read_demand(tmp_path / "d.csv")] == ["d1", "d2"]
    (tmp_path / "c.csv").write_text(
        "id,lat,lon,existing\nc1,36,120,no\nc2,36,120,Yes\nc3,36,120,\n"
    )
    assert [c.existing for c in read_candidates(tmp_path / "c.csv")] == [False, True, False]


def _feature(coords, **props):
    return {"type": "Feature", "geometry": {"type": "Point", "coordinates": coords},
            "properties": props}  # fmt: skip


def test_geojson_points(tmp_path):
    path = tmp_path / "d.geojson"
    path.write_text(json.dumps(_feature([120.0, 36.0], id="x", parcels=3)))  # a lone Feature
    (point,) = read_demand(path)
    assert (point.id, point.lat, point.parcels) == ("x", 36.0, 3.0)
    for data, needle in (
        ([1, 2], "expected a GeoJSON FeatureCollection"),
        ({"type": "Point", "coordinates": [120, 36]}, "expected a GeoJSON FeatureCollection"),
        (
            {"type": "FeatureCollection", "features": [_feature([120.0], parcels=3)]},
            r"feature 0: Point coordinates must be \[lon, lat\], got \[120.0\]",
        ),
        (  # another property is ignored (a GIS tool's own), a likely misspelling is not
            {"type": "FeatureCollection", "features": [_feature([120, 36], parcel=3, w=1)]},
            "d.geojson feature 0: unknown field 'parcel'; did you mean 'parcels'",
        ),
    ):
        path.write_text(json.dumps(data))
        with pytest.raises(SitingInputError, match=needle):
            read_demand(path)


def test_from_buildings_options_are_typed(tmp_path):
    from routing.siting.native import read_native

    spec = _native(map="demo", demand={"from_buildings": True, "mix": {"S": 0.5, "M": 0.5}})
    (tmp_path / "n.json").write_text(json.dumps(spec))
    inst, _ = read_native(tmp_path / "n.json")  # a mix object raised a TypeError before
    assert inst.n_demand > 10 and (inst.size_mix == [0.5, 0.5, 0.0]).all()
    for demand, candidates, needle in (
        ({"from_buildings": True, "rates": [1, 2]}, None, "demand: field 'rates' must be an obj"),
        ({"from_buildings": True, "rates": {"office": "x"}}, None, "'rates.office' must be a"),
        ({"from_buildings": True, "mix": [1, 1, 1]}, None, "field 'mix' must be 3 shares"),
        (None, {"from_buildings": True, "min_area_m2": "big"}, "'min_area_m2' must be a number"),
    ):
        spec = _native(map="demo", **{"demand": demand} if demand else {})
        if candidates:
            spec["candidates"] = candidates
        (tmp_path / "n.json").write_text(json.dumps(spec))
        with pytest.raises(SitingInputError, match=needle):
            read_native(tmp_path / "n.json")
