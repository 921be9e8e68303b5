"""Standing lockers under a sizing: their compartments are kept as they are, cost nothing, are not
capped by max_compartments, and hold only what they can by size. Optima worked out by hand."""

import dataclasses
import json

import numpy as np
import pytest

from routing.siting import SitingModel, Sizing, make_reach, solve
from routing.siting.by_size import split_by_size
from routing.siting.curve import coverage_curve
from routing.siting.errors import SitingInputError
from routing.siting.flow import flow_assignment, max_service
from routing.siting.model import DEFAULT_COMPARTMENTS, NOT_BUILT, SitingInstance
from routing.siting.swap import swap_search
from routing.siting.window import window_search

OLD = [2, 1, 0]  # the standing locker "old": 2 S + 1 M, one parcel a day each (dwell 1 day)


def _two_sites(a_parcels: float, *, existing=(OLD, [NOT_BUILT] * 3)) -> SitingInstance:
    """Point a (3/4 S, 1/4 M when 4 parcels; 2/3 S, 1/3 M when 3) reaches both sites; point b
    (1 S + 1 L) reaches only "new" (fixed cost 1000). "old" stands already (must open, free)."""
    a_mix = (0.75, 0.25, 0.0) if a_parcels == 4.0 else (2 / 3, 1 / 3, 0.0)
    return SitingInstance(
        demand_ids=["a", "b"],
        weight=np.array([a_parcels, 2.0]),
        site_ids=["old", "new"],
        reach=make_reach([0, 0, 1], [0, 1, 1], [10.0, 20.0, 30.0], (2, 2)),
        fixed_cost=np.array([0.0, 1000.0]),
        capacity=np.full(2, np.inf),
        must_open=np.array([True, False]),
        size_mix=np.array([a_mix, (0.5, 0.0, 0.5)]),
        existing_compartments=np.array(existing),
    )


def _sizing(most: int = 50) -> Sizing:
    return Sizing(DEFAULT_COMPARTMENTS, dwell_days=1.0, max_compartments=most)


def _holds_by_size(plan) -> None:
    """Every site's compartments of size >= t turn over the parcels it takes of size t or
    larger, and the parcels by size add up: to each pair's parcels, and per point to no more
    of a size than the point has (its sizes may go to different sites)."""
    inst = plan.instance
    parcels = inst.weight[plan.rows] * plan.frac
    np.testing.assert_allclose(plan.size_parcels.sum(axis=1), parcels, atol=1e-9)
    for t in range(3):
        need = np.bincount(plan.cols, plan.size_parcels[:, t:].sum(axis=1), minlength=inst.n_sites)
        assert (need <= plan.sizes[:, t:].sum(axis=1) + 1e-6).all(), (t, need, plan.sizes)
    taken = np.zeros((inst.n_demand, 3))
    np.add.at(taken, plan.rows, plan.size_parcels)
    assert (taken <= inst.weight[:, None] * inst.size_mix + 1e-6).all(), taken


@pytest.mark.parametrize("method", ["exact", "heuristic"])
def test_setcover_keeps_and_does_not_charge_standing_compartments(method):
    # a is 3 S + 1 M, b is 1 S + 1 L. "old" (2 S + 1 M) takes a's M and 2 of its S; a's last S
    # and b go to "new": L >= 1, M+L >= 1, all >= 3, so 2 S + 1 L = 1150 (had old taken 3 S,
    # new would need 1 S + 1 M + 1 L = 1250). Objective 1000 + 1150; old's 1000 not counted.
    plan = solve(_two_sites(4.0), SitingModel("setcover", sizing=_sizing()), method=method)
    assert plan.sizes[0].tolist() == OLD
    assert plan.unserved_parcels == pytest.approx(0.0)
    assert plan.load[0] <= 3.0 + 1e-9 and plan.capacity[0] == pytest.approx(3.0)
    assert plan.compartment_cost[0] == 0.0
    _holds_by_size(plan)
    if method == "exact":
        assert plan.optimal
        assert plan.sizes[1].tolist() == [2, 0, 1]
        assert plan.objective == pytest.approx(1000.0 + 1150.0)
    else:
        assert plan.objective >= 2150.0 - 1e-6


def test_standing_locker_larger_than_max_compartments_stays_whole():
    # old has 3 compartments, the cap is 2: it keeps all 3 and takes all of a (3 parcels, 1 M);
    # new holds b with 1 S + 1 L = 850 (within the cap).
    model = SitingModel("setcover", sizing=_sizing(most=2))
    plan = solve(_two_sites(3.0), model, method="exact")
    assert plan.optimal
    assert plan.sizes.tolist() == [OLD, [1, 0, 1]]
    assert plan.served.tolist() == pytest.approx([1.0, 1.0])
    assert plan.load[0] == pytest.approx(3.0)
    assert plan.objective == pytest.approx(1000.0 + 850.0)


@pytest.mark.parametrize("method", ["exact", "heuristic"])
def test_money_budget_pays_only_for_what_is_built(method):
    # 1850 buys new (1000) and its 1 S + 1 L (850); counting old's 2 S + 1 M (1000) would not fit
    model = SitingModel("maxcover", budget=1850.0, sizing=_sizing(most=2))
    plan = solve(_two_sites(3.0), model, method=method)
    assert plan.objective == pytest.approx(5.0)
    assert plan.sizes[0].tolist() == OLD
    assert plan.instance.fixed_cost[plan.is_open].sum() + plan.compartment_cost.sum() <= 1850.0


def test_unpriced_models_return_standing_compartments():
    for kind in ("maxcover", "pmedian"):
        model = SitingModel(kind, p=2, sizing=_sizing(), unserved_penalty=1000.0)
        plan = solve(_two_sites(4.0), model, method="exact")
        assert plan.sizes[0].tolist() == OLD
        assert plan.unserved_parcels == pytest.approx(0.0)
        _holds_by_size(plan)


def test_standing_l_compartments_are_needed_for_large_parcels():
    # a standing locker of 5 S only cannot take any L parcel: all of b's large parcels go elsewhere
    inst = _two_sites(4.0)
    inst = dataclasses.replace(
        inst,
        reach=make_reach([0, 0, 1, 1], [0, 1, 0, 1], [10.0, 20.0, 5.0, 30.0], (2, 2)),
        existing_compartments=np.array([[5, 0, 0], [NOT_BUILT] * 3]),
    )
    for method in ("exact", "heuristic"):
        plan = solve(inst, SitingModel("setcover", sizing=_sizing()), method=method)
        assert plan.sizes[0].tolist() == [5, 0, 0]
        assert plan.unserved_parcels == pytest.approx(0.0)
        _holds_by_size(plan)


@pytest.mark.parametrize("method", ["exact", "heuristic"])
def test_a_points_sizes_go_to_different_lockers(method):
    # one point of 10 parcels, 6 S + 3 M + 1 L; "old" stands with 4 S compartments and takes 4
    # of the S parcels (sent in the point's own mix, no share would fit: old has no M or L).
    # "new" holds the other 2 S + 3 M + 1 L: L >= 1, M+L >= 4, all >= 6, so 2 S + 3 M + 1 L
    # = 600 + 1200 + 550 = 2350, plus its 1000; all 10 at new would cost 1000 + 3550.
    inst = SitingInstance(
        demand_ids=["a"],
        weight=np.array([10.0]),
        site_ids=["old", "new"],
        reach=make_reach([0, 0], [0, 1], [10.0, 20.0], (1, 2)),
        fixed_cost=np.array([0.0, 1000.0]),
        capacity=np.full(2, np.inf),
        must_open=np.array([True, False]),
        size_mix=np.array([(0.6, 0.3, 0.1)]),
        existing_compartments=np.array([[4, 0, 0], [NOT_BUILT] * 3]),
    )
    plan = solve(inst, SitingModel("setcover", sizing=_sizing()), method=method)
    _holds_by_size(plan)
    assert plan.unserved_parcels == pytest.approx(0.0)
    at_old = plan.size_parcels[(plan.rows == 0) & (plan.cols == 0)]
    if method == "exact":
        assert plan.optimal and plan.objective == pytest.approx(1000.0 + 2350.0)
        assert plan.sizes[1].tolist() == [2, 3, 1]
        assert at_old.tolist() == [[4.0, 0.0, 0.0]]
        rows = plan.to_dict()["assignment"]
        assert {r["site"]: r["by_size"] for r in rows} == {
            "old": {"S": 4.0, "M": 0.0, "L": 0.0},
            "new": {"S": 2.0, "M": 3.0, "L": 1.0},
        }
        assert [r["fraction"] for r in rows] == pytest.approx([0.4, 0.6])
    else:
        assert plan.objective >= 3350.0 - 1e-6
    # maximal covering with old alone: its 4 S compartments serve 4 of the point's S parcels
    plan = solve(inst, SitingModel("maxcover", p=1, sizing=_sizing()), method=method)
    assert plan.objective == pytest.approx(4.0)
    assert plan.size_parcels.tolist() == [[4.0, 0.0, 0.0]]


@pytest.mark.parametrize(
    ("existing", "needle"),
    [
        ([[2, 1, 0]], r"existing_compartments must be 2 x 3 \(S/M/L per site\), got 1x3"),
        ([[2, -1, 0], [NOT_BUILT] * 3], r"site 'old': existing compartments must be 3 whole"),
        ([[2, 1.5, 0], [NOT_BUILT] * 3], r"site 'old': .* got \[2.0, 1.5, 0.0\]"),
        ([[-1, -1, 0], [NOT_BUILT] * 3], r"site 'old': existing compartments must be"),
        ([OLD, [1, 0, 0]], r"site 'new': existing compartments are only for lockers already"),
    ],
)
def test_bad_existing_compartments_name_the_site(existing, needle):
    with pytest.raises(SitingInputError, match=needle):
        _two_sites(4.0, existing=existing)


def test_native_existing_lockers_carry_their_compartments(tmp_path):
    from routing.siting.native import read_native

    spec = {
        "straight_line": True,
        "radius_m": 500,
        "demand": [{"id": "a", "lat": 36.0, "lon": 120.0, "parcels": 4}],
        "candidates": [{"id": "c", "lat": 36.001, "lon": 120.0}],
        "existing": [{"id": "old", "lat": 36.0, "lon": 120.001, "compartments": {"S": 2, "M": 1}}],
    }
    path = tmp_path / "n.json"
    path.write_text(json.dumps(spec))
    inst, _ = read_native(path)
    assert inst.site_ids == ["old", "c"]
    assert inst.existing_compartments.tolist() == [[2, 1, 0], [NOT_BUILT] * 3]
    for bad, needle in (
        ({"S": 2, "XL": 1}, "existing\\[0\\]: field 'compartments' must be an object of S, M, L"),
        ({"S": -2}, "existing\\[0\\]: field 'compartments' must hold whole counts >= 0"),
        ({"S": 2.5}, "existing\\[0\\]: field 'compartments' must hold whole counts >= 0"),
    ):
        spec["existing"][0]["compartments"] = bad
        path.write_text(json.dumps(spec))
        with pytest.raises(SitingInputError, match=needle):
            read_native(path)


def test_csv_standing_lockers_carry_their_compartments(tmp_path):
    from routing.siting.native import read_native

    (tmp_path / "lockers.csv").write_text(
        "id,lat,lon,compartments_S,compartments_M,compartments_L\n"
        "old,36.0,120.001,2,1,0\n"
        "older,36.001,120.001,,,\n"
    )
    spec = {
        "straight_line": True,
        "radius_m": 500,
        "demand": [{"id": "a", "lat": 36.0, "lon": 120.0, "parcels": 4}],
        "candidates": [{"id": "c", "lat": 36.001, "lon": 120.0}],
        "existing": "lockers.csv",
    }
    path = tmp_path / "n.json"
    path.write_text(json.dumps(spec))
    inst, _ = read_native(path)
    assert inst.site_ids == ["old", "older", "c"]
    assert inst.existing_compartments.tolist() == [[2, 1, 0], *[[NOT_BUILT] * 3] * 2]
    # the 3 standing compartments take 3 of the 4 parcels; the sizing builds room for the last
    plan = solve(inst, SitingModel("setcover", sizing=_sizing()), method="exact")
    assert plan.sizes[0].tolist() == [2, 1, 0] and plan.served.min() == pytest.approx(1.0)
    for row, needle in (
        ("old,36.0,120.001,2,one,0", "lockers.csv row 2: field 'compartments_M' must be a whole"),
        ("old,36.0,120.001,2,-1,0", "lockers.csv row 2: field 'compartments_M' must be a whole"),
        ("old,36.0,120.001,2,,0", "lockers.csv row 2: field 'compartments_M' must be a whole"),
    ):
        (tmp_path / "lockers.csv").write_text(
            "id,lat,lon,compartments_S,compartments_M,compartments_L\n" + row + "\n"
        )
        with pytest.raises(SitingInputError, match=needle):
            read_native(path)


def test_only_points_in_reach_of_a_standing_locker_are_split_by_size():
    # a (3 S + 1 M) reaches "old", which stands: two rows, one a size; b (1 S + 1 L) reaches
    # only "new": one row in its own mix. The folded plan has one row per point and site.
    inst = _two_sites(4.0)
    model = SitingModel("setcover", sizing=_sizing())
    split, owner = split_by_size(inst, model)
    assert owner.tolist() == [1, 0, 0]
    assert split.weight.tolist() == pytest.approx([2.0, 3.0, 1.0])
    assert split.size_mix.tolist() == [[0.5, 0.0, 0.5], [1, 0, 0], [0, 1, 0]]
    plan = solve(inst, model, method="exact")
    pairs = list(zip(plan.rows.tolist(), plan.cols.tolist(), strict=True))
    assert len(pairs) == len(set(pairs))
    b_at_new = plan.size_parcels[pairs.index((1, 1))]
    assert b_at_new.tolist() == pytest.approx([1.0, 0.0, 1.0])


def test_coverage_curve_starts_at_the_standing_lockers():
    # both sites stand: a curve asked from 1 locker stopped with "p=1 is below the 2 lockers
    # that must stay open", and with it every scenario that had standing lockers
    inst = dataclasses.replace(_two_sites(4.0), must_open=np.array([True, True]))
    curve = coverage_curve(inst, range(1, 3))
    assert [c["lockers"] for c in curve] == [2]
    assert curve[0]["covered_parcels"] == pytest.approx(6.0)


def _by_size_against_total() -> SitingInstance:
    """Standing "old" has 6 S + 3 L (9 parcels a day in all): a (6 M) and b (3 L) near it share
    its 3 L, c (6 S) farther fits its S; "new" (fixed cost 1000) reaches c and d (5 S + 5 M).
    Every point is of one size but d, which reaches no standing locker."""
    return SitingInstance(
        demand_ids=["a", "b", "c", "d"],
        weight=np.array([6.0, 3.0, 6.0, 10.0]),
        site_ids=["old", "new"],
        reach=make_reach([0, 1, 2, 2, 3], [0, 0, 0, 1, 1], [1.0, 2.0, 8.0, 3.0, 1.0], (4, 2)),
        fixed_cost=np.array([0.0, 1000.0]),
        capacity=np.full(2, np.inf),
        must_open=np.array([True, False]),
        size_mix=np.array([(0, 1, 0), (0, 0, 1), (1, 0, 0), (0.5, 0.5, 0)], dtype=float),
        existing_compartments=np.array([[6, 0, 3], [NOT_BUILT] * 3]),
    )


@pytest.mark.parametrize(
    ("model", "most"),
    [
        (SitingModel("maxcover", p=1, sizing=_sizing(10)), 9.0),
        (SitingModel("pmedian", p=1, sizing=_sizing(10), unserved_penalty=100.0), 9.0),
        (SitingModel("maxcover", p=2, sizing=_sizing(10)), 19.0),
        (SitingModel("setcover", sizing=_sizing(10)), 19.0),
    ],
    ids=["maxcover-1", "pmedian-1", "maxcover-2", "setcover"],
)
def test_the_heuristic_fills_a_standing_lockers_compartments_size_by_size(model, most):
    # old holds 3 of a's and b's 9 M/L parcels and c's 6 S: 9 served; new holds 10 of d and c.
    # The flow saw old's compartments as one total of 9: it sent a and b (nearer) in, cut old
    # to the 3 L it held and re-ran, leaving old's 6 S empty and c unserved (p-median: 3 of 9
    # served; maximal covering with both sites 13 of 19). Now each size is a capacity of its own
    inst = _by_size_against_total()
    plan = solve(inst, model, method="heuristic")
    exact = solve(inst, model, method="exact", solver="highs")
    assert exact.optimal
    for found in (plan, exact):
        assert found.sizes[0].tolist() == [6, 0, 3]
        assert inst.weight @ np.minimum(found.served, 1.0) == pytest.approx(most, abs=1e-6)
        _holds_by_size(found)
    assert plan.objective == pytest.approx(exact.objective, abs=1e-6)


def _standing_alone(seed: int) -> SitingInstance:
    """Six points of random S/M/L mixes, each in reach of "new" and most of "old" too, which
    stands with a random few compartments of each size; with one locker, old alone opens."""
    rng = np.random.default_rng(seed)
    n = 6
    near = rng.random(n) < 0.8
    rows = np.r_[np.flatnonzero(near), np.arange(n)]
    cols = np.r_[np.zeros(near.sum(), dtype=int), np.ones(n, dtype=int)]
    return SitingInstance(
        demand_ids=[f"d{i}" for i in range(n)],
        weight=rng.integers(2, 12, n).astype(float),
        site_ids=["old", "new"],
        reach=make_reach(rows, cols, rng.integers(0, 10, rows.size).astype(float), (n, 2)),
        fixed_cost=np.array([0.0, 1000.0]),
        capacity=np.full(2, np.inf),
        must_open=np.array([True, False]),
        size_mix=rng.dirichlet([1.0, 1.0, 1.0], n),
        existing_compartments=np.array([rng.integers(0, 8, 3), [NOT_BUILT] * 3]),
    )


@pytest.mark.parametrize("seed", range(6))
@pytest.mark.parametrize("kind", ["maxcover", "pmedian"])
def test_the_flow_at_a_standing_locker_is_the_mips_optimum(seed, kind):
    # one locker, so both plans have old alone open: the heuristic's is its flow, which must
    # reach the MIP's optimum, to its 1/1000 parcel (maximal covering served 7 of 12.5 parcels
    # on seed 0: some of old's compartments were left empty while parcels went unserved)
    inst = _standing_alone(seed)
    model = SitingModel(kind, p=1, sizing=_sizing(6), unserved_penalty=100.0)
    plan = solve(inst, model, method="heuristic")
    exact = solve(inst, model, method="exact", solver="highs")
    assert exact.optimal and plan.is_open.tolist() == [True, False]
    assert plan.objective == pytest.approx(exact.objective, rel=1e-4)
    _holds_by_size(plan)


def _medium_and_large() -> SitingInstance:
    """Standing "old" has 6 S + 3 L (9 parcels a day in all): a (6 M) and b (3 L) near it fit
    only its 3 L; "new" (fixed cost 1000) reaches both. With one locker, old alone opens."""
    return SitingInstance(
        demand_ids=["a", "b"],
        weight=np.array([6.0, 3.0]),
        site_ids=["old", "new"],
        reach=make_reach([0, 1, 0, 1], [0, 0, 1, 1], [1.0, 2.0, 5.0, 5.0], (2, 2)),
        fixed_cost=np.array([0.0, 1000.0]),
        capacity=np.full(2, np.inf),
        must_open=np.array([True, False]),
        size_mix=np.array([(0, 1, 0), (0, 0, 1)], dtype=float),
        existing_compartments=np.array([[6, 0, 3], [NOT_BUILT] * 3]),
    )


@pytest.mark.parametrize("certain", [False, True])
def test_the_max_flow_at_a_standing_locker_holds_its_compartments_by_size(certain):
    # the max flow saw old's 9 compartments as one total and served 9 of a's and b's medium
    # and large parcels; its 3 L hold 3 of them, the MIP's optimum with old alone
    inst = _medium_and_large()
    model = SitingModel("maxcover", p=1, sizing=_sizing(10))
    exact = solve(inst, model, method="exact", solver="highs")
    assert exact.optimal and exact.is_open.tolist() == [True, False]
    assert exact.objective == pytest.approx(3.0)
    served, per_point, load = max_service(inst, model, exact.is_open, certain=certain)
    assert served == pytest.approx(3.0)
    assert per_point.sum() == pytest.approx(3.0) and load.tolist() == pytest.approx([3.0, 0.0])


@pytest.mark.parametrize("seed", range(6))
def test_the_max_flow_at_a_standing_locker_is_the_mips_optimum(seed):
    # random mixes split by size (as ``solve`` splits them) with old alone open: the max flow
    # serves what maximal covering's MIP does, to its 1/1000 parcel a row
    inst = _standing_alone(seed)
    model = SitingModel("maxcover", p=1, sizing=_sizing(6))
    exact = solve(inst, model, method="exact", solver="highs")
    assert exact.optimal and exact.is_open.tolist() == [True, False]
    split, _ = split_by_size(inst, model)
    assert max_service(split, model, exact.is_open)[0] == pytest.approx(exact.objective, abs=0.02)


def _one_of_two_new() -> SitingInstance:
    """Standing "old" (6 S + 3 L, must open) and two new sites of up to 9 compartments: a (9 M)
    reaches old and new1, b (6 S) old and new2, d (3 S) new2 alone. With new1, old takes b in
    its S and new1 a: 15. With new2, new2 takes b and d, and old only 3 of a's M (its L): 12.
    Seen as old's total of 9, new2 looked best: old taking all of a, 18."""
    return SitingInstance(
        demand_ids=["a", "b", "d"],
        weight=np.array([9.0, 6.0, 3.0]),
        site_ids=["old", "new1", "new2"],
        reach=make_reach([0, 0, 1, 1, 2], [0, 1, 0, 2, 2], [1.0, 1.0, 1.0, 1.0, 1.0], (3, 3)),
        fixed_cost=np.zeros(3),
        capacity=np.full(3, np.inf),
        must_open=np.array([True, False, False]),
        size_mix=np.array([(0, 1, 0), (1, 0, 0), (1, 0, 0)], dtype=float),
        existing_compartments=np.array([[6, 0, 3], [NOT_BUILT] * 3, [NOT_BUILT] * 3]),
    )


def test_the_swap_and_window_searches_serve_what_the_flow_and_the_mip_do():
    # the searches judged plans by the max flow: seeing old's total, the swap search kept new2
    # (18 claimed, 12 served) and the window search left new1 for it; the heuristic's plan
    # served 12 where the MIP serves 15
    inst = _one_of_two_new()
    model = SitingModel("maxcover", p=2, sizing=_sizing(9))
    exact = solve(inst, model, method="exact", solver="highs")
    assert exact.optimal and exact.is_open.tolist() == [True, True, False]
    assert exact.objective == pytest.approx(15.0)
    split, _ = split_by_size(inst, model)
    with_new1, with_new2 = np.array([True, True, False]), np.array([True, False, True])
    for found in (
        swap_search(split, model, with_new2, time_limit_s=5),
        window_search(split, model, with_new1, time_limit_s=5),
    ):
        claimed = max_service(split, model, found)[0]
        rows, _, frac, _ = flow_assignment(split, model, found, unserved_cost=1.0)
        assert claimed == pytest.approx(split.weight[rows] @ frac, abs=1e-3)
        assert claimed == pytest.approx(exact.objective, abs=1e-3)
        assert found.tolist() == [True, True, False]
    plan = solve(inst, model, method="heuristic")
    assert plan.objective == pytest.approx(exact.objective, abs=1e-6)
    _holds_by_size(plan)
