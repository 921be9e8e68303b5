"""Siting I/O audit fixes: OR-Library headers, strict JSON points, small time limits, the curve."""

import importlib
import json
import time

import numpy as np
import pytest

from routing.siting import SitingModel
from routing.siting import orlib as orlib_mod
from routing.siting.curve import plot_curve
from routing.siting.errors import OrlibFormatError, SitingInputError
from routing.siting.exact import MipResult
from routing.siting.orlib import read_cap, read_pmed
from routing.siting.points import read_candidates, read_demand

# m = 3 facilities (capacity, fixed cost), n = 2 customers (demand alone, then its 3 costs)
CAP3 = """ 3 2
 10 100.
 10 50.
 10 70.
 4
 8 40 12
 6
 12 6 18
"""


def _write(tmp_path, text, name="f.txt"):
    path = tmp_path / name
    path.write_text(text)
    return path


# --- 1. pmed: a huge or wrong n is one line, before the dense all-pairs distances -------------


def test_pmed_huge_n_is_refused_on_its_header(tmp_path):
    # n = 100000 for 100: the dense distances had taken 74.5 GiB (a numpy MemoryError)
    path = _write(tmp_path, " 100000 2 1\n 1 2 1\n 2 3 1\n")
    with pytest.raises(OrlibFormatError, match=r"line 1: n=100000 vertices need 74\.5 GiB") as err:
        read_pmed(path)
    assert f"at most n={orlib_mod.PMED_MAX_N} (1 GiB)" in str(err.value)


@pytest.mark.parametrize(
    ("text", "needle"),
    [
        (" 4 2 1\n 1 2 1\n 2 3 1\n", "disconnected: vertex 4 is in no edge"),
        (" 4 2 1\n 1 2 1\n 3 4 1\n", "disconnected: vertex 3 cannot reach vertex 1"),
    ],
)
def test_pmed_connectivity_is_checked_before_the_dense_distances(
    tmp_path, monkeypatch, text, needle
):
    def dense(*args, **kwargs):
        raise AssertionError("the dense all-pairs distances were worked out first")

    monkeypatch.setattr(orlib_mod, "shortest_path", dense)
    with pytest.raises(OrlibFormatError, match=needle):
        read_pmed(_write(tmp_path, text))


@pytest.mark.parametrize("header", [" 100 -1 5", " 3 0 1"])
def test_pmed_edge_count_must_be_positive(tmp_path, header):
    # a negative m read as "the header says -1 edges, but more lines follow"
    with pytest.raises(OrlibFormatError, match=r"line 1: need n >= 1, m >= 1 and 1 <= p <= n"):
        read_pmed(_write(tmp_path, header + "\n 1 2 1\n 2 3 1\n"))


# --- 2. cap: a wrong header count is named where the file departs from it ---------------------


def test_cap_three_facilities_read_as_before(tmp_path):
    inst = read_cap(_write(tmp_path, CAP3))
    assert inst.capacity.tolist() == [10, 10, 10]
    assert inst.fixed_cost.tolist() == [100, 50, 70]
    assert inst.reach.toarray().tolist() == [[2, 10, 3], [2, 1, 3]]
    # a customer's demand and all its costs on one line read alike
    same = read_cap(_write(tmp_path, CAP3.replace(" 4\n 8 40 12\n", " 4 8 40 12\n"), "b.txt"))
    assert (same.reach != inst.reach).nnz == 0


@pytest.mark.parametrize(
    ("header", "needle"),
    [
        # one facility too few: facility 3's line had been read as customer 1 (line 7: '6')
        (" 2 2", r"line 4: customer 1 demand must stand alone on its line or with all 2 costs, "
         "got 2 values: the header says m=2"),
        # one too many: "file ends where customer 2 cost from facility 4 was expected"
        (" 4 2", r"line 5: facility 4 needs 2 values \(capacity, fixed cost\), got 1: the header "
         "says m=4"),
        # one customer too few: "unexpected extra value" did not say it was past the header's n
        (" 3 1", r"line 7: unexpected extra value '6': the header says n=1 customers"),
        # a third header value had been read as facility 1's capacity
        (" 3 2 5", r"line 1: expected 2 numbers, got 3"),
    ],
)
def test_cap_wrong_header_count_names_the_line(tmp_path, header, needle):
    with pytest.raises(OrlibFormatError, match=needle):
        read_cap(_write(tmp_path, CAP3.replace(" 3 2", header, 1)))


def test_cap_extra_cost_is_named_where_it_stands(tmp_path):
    text = CAP3.replace(" 8 40 12\n", " 8 40 12 5\n")
    with pytest.raises(OrlibFormatError, match=r"line 6: unexpected extra value '5' after "
                       "customer 1's 3 costs"):
        read_cap(_write(tmp_path, text))


def test_cap_huge_n_takes_no_memory_before_the_file_ends(tmp_path):
    text = CAP3.replace(" 3 2", " 3 2000000000", 1)
    with pytest.raises(OrlibFormatError, match="file ends where customer 3 demand was expected"):
        read_cap(_write(tmp_path, text))


# --- 3. JSON points are strict, CSV cells text --------------------------------------------------


def _native(tmp_path, demand=None, candidate=None):
    from routing.siting.native import read_native

    spec = {
        "straight_line": True,
        "radius_m": 400,
        "demand": [{"id": "d1", "lat": 32.0402, "lon": 118.7815, "parcels": 3} | (demand or {})],
        "candidates": [{"id": "c1", "lat": 32.0402, "lon": 118.7809} | (candidate or {})],
        "model": {"kind": "setcover"},
    }
    return read_native(_write(tmp_path, json.dumps(spec), "in.json"))


@pytest.mark.parametrize(
    ("demand", "candidate", "needle"),
    [
        ({"parcels": "3"}, None, r"demand\[0\]: field 'parcels' must be a number, got '3'"),
        ({"lat": "32.04"}, None, r"demand\[0\]: field 'lat' must be a number, got '32.04'"),
        ({"mix": {"S": "1"}}, None, r"demand\[0\]: field 'mix.S' must be a number, got '1'"),
        ({"S": "1"}, None, r"demand\[0\]: field 'S' must be a number, got '1'"),
        (None, {"existing": "false"}, r"candidates\[0\]: field 'existing' must be true or "
         "false, got 'false'"),
        (None, {"existing": "yes"}, r"field 'existing' must be true or false, got 'yes'"),
        (None, {"existing": 1}, r"field 'existing' must be true or false, got 1"),
        (None, {"capacity": "5"}, r"candidates\[0\]: field 'capacity' must be a number, got '5'"),
        # "inf" as text had been refused later as "site 'c1': fixed cost must be >= 0, got inf"
        (None, {"fixed_cost": "inf"}, r"field 'fixed_cost' must be a number, got 'inf'"),
    ],
)
def test_native_json_text_values_are_refused(tmp_path, demand, candidate, needle):
    with pytest.raises(SitingInputError, match=needle):
        _native(tmp_path, demand, candidate)


def test_native_json_numbers_and_booleans_are_read(tmp_path):
    inst, _ = _native(tmp_path, {"mix": [1, 0, 0]}, {"existing": True, "capacity": 5})
    assert inst.must_open.tolist() == [True] and inst.capacity.tolist() == [5.0]
    assert inst.size_mix.tolist() == [[1.0, 0.0, 0.0]]


def test_geojson_properties_are_strict(tmp_path):
    feature = {
        "type": "Feature",
        "geometry": {"type": "Point", "coordinates": [118.78, 32.04]},
        "properties": {"parcels": "3"},
    }
    path = _write(tmp_path, json.dumps(feature), "d.geojson")
    with pytest.raises(SitingInputError, match=r"d.geojson feature 0: field 'parcels' must be a "
                       "number, got '3'"):
        read_demand(path)
    feature["properties"] = {"parcels": 3}
    assert read_demand(_write(tmp_path, json.dumps(feature), "d.geojson"))[0].parcels == 3.0


def test_csv_cells_are_still_read_as_text(tmp_path):
    path = _write(
        tmp_path, "id,lat,lon,fixed_cost,capacity,existing\nc1,32.04,118.78,12.5,inf,yes\n",
        "c.csv",
    )
    (site,) = read_candidates(path)
    assert (site.fixed_cost, site.capacity, site.existing) == (12.5, np.inf, True)
    (point,) = read_demand(_write(tmp_path, "id,lat,lon,parcels,S\nd1,32.04,118.78,3,1\n",
                                  "d.csv"))
    assert (point.parcels, point.mix) == (3.0, (1.0, 0.0, 0.0))


def test_csv_infinite_fixed_cost_is_named_with_its_candidate(tmp_path):
    # refused later, by the instance, as "site 'c1': fixed cost must be >= 0, got inf"
    path = _write(tmp_path, "id,lat,lon,fixed_cost\nc1,32.04,118.78,inf\n", "c.csv")
    with pytest.raises(SitingInputError, match=r"candidate 'c1': fixed_cost must be a finite "
                       "number >= 0, got inf"):
        read_candidates(path)


def test_api_records_are_still_read():
    """The platform builds its records from validated JSON (floats, true/false), stored as
    JSON for the worker."""
    from api.schemas.jobs import CandidateSite, DemandPoint
    from routing.siting.points import candidate_from_record, demand_from_record

    demand = DemandPoint(id="d", lat=36, lon=120, parcels=12, mix={"S": 1, "M": 0, "L": 0})
    site = CandidateSite(id="c", lat=36, lon=120, existing=True, compartments={"S": 2})
    rec_d, rec_c = (json.loads(m.model_dump_json(exclude_none=True)) for m in (demand, site))
    assert demand_from_record(rec_d).mix == (1.0, 0.0, 0.0)
    got = candidate_from_record(rec_c)
    assert (got.existing, got.compartments, got.fixed_cost) == (True, (2, 0, 0), 0.0)


def test_scenario_reads_csv_points_as_text(tmp_path):
    from api.scenario.demand import read_demand_file
    from api.scenario.schema import LockersSpec
    from api.scenario.sites import sites_from_file

    demand = _write(tmp_path, "id,lat,lon,parcels\nd1,32.04,118.78,3\n", "d.csv")
    points = read_demand_file(demand, {"S": 0.6, "M": 0.3, "L": 0.1}, "demand.file")
    assert points.parcels.tolist() == [3.0]
    assert points.size_mix.tolist() == [pytest.approx([0.6, 0.3, 0.1])]
    sites = _write(
        tmp_path,
        "id,lat,lon,existing,compartments_S,compartments_M,compartments_L\n"
        "c1,32.04,118.78,yes,4,2,1\n",
        "c.csv",
    )
    (site,) = sites_from_file(sites, LockersSpec(), "lockers.candidates.file")
    assert site.existing and site.id == "c1"


# --- 4. the whole solve keeps a small time limit ------------------------------------------------

LIMIT_S = 0.3
SLACK_S = 0.2


def _slow_mip(mip, *, time_limit_s, **_):
    """A MIP that finds nothing before its limit (at least 0.01 s, as ``solve_mip`` gives)."""
    time.sleep(max(0.01, time_limit_s))
    return MipResult(None, None, np.inf if mip.maximize else -np.inf, False, "timelimit", 0.0)


def _slow_swaps(inst, model, is_open, *, time_limit_s, **_):
    time.sleep(max(0.0, time_limit_s))
    return is_open


def _slow_bound(*args, time_limit_s, **_):
    time.sleep(max(0.0, time_limit_s))


@pytest.mark.parametrize(
    ("shape", "model"),
    [
        # the MIP had at least 0.5 s
        ({"n": 9, "m": 6}, SitingModel("pmedian", p=2)),
        # the uncapacitated start had 0.5 s (its own MIP too), then the MIP 0.5 s
        (
            {"n": 12, "m": 6, "capacity": np.full(6, 12.0)},
            SitingModel("setcover", capacitated=True),
        ),
        # the swap search had 1 s, the bound beside the windows 0.5 s
        (
            {"n": 300, "m": 40, "density": 0.8, "capacity": np.full(40, 20.0)},
            SitingModel("maxcover", p=4, capacitated=True),
        ),
    ],
)
def test_small_time_limit_is_kept(monkeypatch, tiny_instance, shape, model):
    solve_mod = importlib.import_module("routing.siting.solve")
    monkeypatch.setattr(solve_mod, "solve_mip", _slow_mip)
    monkeypatch.setattr(solve_mod, "swap_search", _slow_swaps)
    monkeypatch.setattr(solve_mod, "capacitated_cover_bound", _slow_bound)
    inst = tiny_instance(3, **shape)
    start = time.perf_counter()
    plan = solve_mod.solve(inst, model, time_limit_s=LIMIT_S)
    assert time.perf_counter() - start < LIMIT_S + SLACK_S
    assert plan.is_open.any()


# --- 5. the coverage curve: its distance kind, and a legend clear of the data -------------------


def _drawn(monkeypatch, tmp_path, curve, **kw):
    """The figure ``plot_curve`` draws (kept from ``plt.close``) and its PNG's first bytes."""
    import matplotlib.pyplot as plt

    figures = []
    monkeypatch.setattr(plt, "close", figures.append)
    png = plot_curve(curve, tmp_path / "c.png", **kw)
    assert png.read_bytes()[:4] == b"\x89PNG"
    return figures[0]


LOW = [
    {"lockers": k, "share": 0.02 * k, "bound": 2.5 * k, "total_parcels": 100.0}
    for k in range(1, 11)
]


@pytest.mark.parametrize(
    ("kw", "label"),
    [
        ({"radius_m": 500, "distance": "straight_line"}, "within 500 m in a straight line (%)"),
        ({"radius_m": 500, "distance": "walk"}, "within 500 m walk (%)"),
        ({"radius_m": 500}, "within 500 m (%)"),  # not said: no kind (it had said walk)
        ({}, "within reach (%)"),
    ],
)
def test_curve_label_names_the_distance_used(monkeypatch, tmp_path, kw, label):
    fig = _drawn(monkeypatch, tmp_path, LOW, **kw)
    assert fig.axes[0].get_ylabel() == f"daily parcels {label}"


def test_curve_legend_covers_no_data(monkeypatch, tmp_path):
    # a low curve with the chosen plan far right: a legend at lower right covered both
    fig = _drawn(monkeypatch, tmp_path, LOW, chosen=(10, 0.2), capacitated=True, radius_m=500)
    ax = fig.axes[0]
    legends = [*fig.legends, *([ax.get_legend()] if ax.get_legend() else [])]
    assert legends
    renderer = fig.canvas.get_renderer()
    for line in ax.get_lines():
        x, y = line.get_xdata(), line.get_ydata()
        along = np.linspace(0, len(x) - 1, 20 * len(x))
        points = np.column_stack([np.interp(along, range(len(x)), x),
                                  np.interp(along, range(len(y)), y)])
        shown = ax.transData.transform(points)
        for legend in legends:
            (x0, y0), (x1, y1) = legend.get_window_extent(renderer).get_points()
            inside = (shown[:, 0] >= x0) & (shown[:, 0] <= x1) & (shown[:, 1] >= y0)
            assert not (inside & (shown[:, 1] <= y1)).any(), line.get_label()
