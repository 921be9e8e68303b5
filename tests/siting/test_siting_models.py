"""Every model, exact and heuristic, against brute force on tiny instances."""

import dataclasses
import importlib

import numpy as np
import pytest

from routing.siting import SitingModel, Sizing, make_reach, solve
from routing.siting.errors import SitingInputError
from routing.siting.exact import solve_mip
from routing.siting.formulation import build
from routing.siting.heuristic import relief_sites
from routing.siting.lagrange import must_serve_bound
from routing.siting.model import SitingInstance
from routing.siting.synthetic import synthetic_case

SEEDS = [1, 2, 3]
solve_module = importlib.import_module("routing.siting.solve")


def _check_plan(plan):
    """The plan itself obeys the rules: served shares <= 1, only open sites, within capacity."""
    assert (plan.served <= 1 + 1e-7).all()
    assert plan.is_open[plan.cols].all()
    assert (plan.load <= plan.capacity + 1e-6).all()
    if plan.model.p is not None:
        assert plan.is_open.sum() <= plan.model.p
    if plan.model.budget is not None:
        assert plan.instance.fixed_cost[plan.is_open].sum() <= plan.model.budget + 1e-9


@pytest.mark.parametrize("seed", SEEDS)
@pytest.mark.parametrize(
    ("kind", "opts"),
    [
        ("maxcover", {"p": 2}),
        ("maxcover", {"budget": 6.0}),
        ("setcover", {}),
        ("pmedian", {"p": 2, "unserved_penalty": 25.0}),
        ("facility", {}),
    ],
)
@pytest.mark.parametrize("capacitated", [False, True])
def test_exact_matches_brute_force(tiny_instance, brute_force, seed, kind, opts, capacitated):
    cap = np.full(6, 12.0) if capacitated else None
    inst = tiny_instance(seed, capacity=cap)
    model = SitingModel(kind, capacitated=capacitated, **opts)
    plan = solve(inst, model, method="exact", time_limit_s=20)
    penalty = opts.get("unserved_penalty")
    want = brute_force(
        inst,
        kind,
        p=opts.get("p"),
        budget=opts.get("budget"),
        capacitated=capacitated,
        penalty=penalty,
    )
    _check_plan(plan)
    assert plan.optimal and plan.gap <= 1e-6  # (a relaxation bound may prove it to 1e-6)
    assert plan.objective == pytest.approx(want, rel=1e-6, abs=1e-6)
    assert plan.bound == pytest.approx(want, rel=1e-5, abs=1e-5)
    heur = solve(inst, model, method="heuristic")
    _check_plan(heur)
    if kind == "maxcover":
        assert heur.objective <= want + 1e-6
    else:
        assert heur.objective >= want - 1e-6 or heur.unserved_parcels > plan.unserved_parcels


def test_pmedian_heuristic_finds_the_optimum_on_an_easy_line():
    # Points on a line at 0..9, sites at every point; p=2 optimum is medians 2 and 7: cost 12.
    n = 10
    rows, cols = np.meshgrid(np.arange(n), np.arange(n), indexing="ij")
    dist = np.abs(rows - cols).astype(float)
    inst = SitingInstance(
        demand_ids=[str(i) for i in range(n)],
        weight=np.ones(n),
        site_ids=[str(i) for i in range(n)],
        reach=make_reach(rows.ravel(), cols.ravel(), dist.ravel(), (n, n)),
        fixed_cost=np.zeros(n),
        capacity=np.full(n, np.inf),
        must_open=np.zeros(n, dtype=bool),
    )
    plan = solve(inst, SitingModel("pmedian", p=2), method="heuristic")
    assert plan.objective == 12.0
    assert set(np.flatnonzero(plan.is_open)) in ({2, 7}, {2, 6}, {3, 7})


def test_local_search_perturbs_neighbouring_sites_only():
    # 30 points on a line and a site at each, reaching its point and the two beside it: sites
    # share a point up to 2 apart, so two rings around a site span 4 either side. Random swaps
    # across the whole city were mostly undone by the descent.
    heuristic = importlib.import_module("routing.siting.heuristic")
    n = 30
    rows = np.array([i for j in range(n) for i in (j - 1, j, j + 1) if 0 <= i < n])
    cols = np.array([j for j in range(n) for i in (j - 1, j, j + 1) if 0 <= i < n])
    inst = SitingInstance(
        demand_ids=[str(i) for i in range(n)],
        weight=np.ones(n),
        site_ids=[str(j) for j in range(n)],
        reach=make_reach(rows, cols, np.abs(rows - cols).astype(float), (n, n)),
        fixed_cost=np.zeros(n),
        capacity=np.full(n, np.inf),
        must_open=np.arange(n) == 10,
    )
    prob = heuristic._problem(inst, SitingModel("pmedian", p=6))
    near = heuristic._overlap(prob)
    is_open = np.arange(n) % 5 == 0
    rng = np.random.default_rng(0)
    spans = []
    for _ in range(200):
        trial = heuristic._perturb(prob, near, is_open, rng)
        changed = np.flatnonzero(trial != is_open)
        assert trial.sum() == is_open.sum() and trial[10]  # as many open; the fixed one stays
        spans.append(changed.max() - changed.min())
    assert max(spans) <= 8 and min(spans) >= 1


def _one_site(parcels, mix, costs=(300.0, 400.0, 550.0), *, fixed=1000.0):
    return SitingInstance(
        demand_ids=["a"],
        weight=np.array([parcels]),
        site_ids=["x"],
        reach=make_reach([0], [0], [50.0], (1, 1)),
        fixed_cost=np.array([fixed]),
        capacity=np.array([np.inf]),
        must_open=np.zeros(1, dtype=bool),
        size_mix=np.array([mix]),
        radius_m=400.0,
    )


def test_sizing_by_hand():
    # 10 parcels/day, half small, 30% medium, 20% large, one-day dwell: L >= 2, M+L >= 5,
    # S+M+L >= 10, so the cheapest locker is 5 S + 3 M + 2 L = 1500 + 1200 + 1100 = 3800.
    from routing.siting.model import DEFAULT_COMPARTMENTS

    inst = _one_site(10.0, (0.5, 0.3, 0.2))
    sizing = Sizing(DEFAULT_COMPARTMENTS, dwell_days=1.0, max_compartments=50)
    plan = solve(inst, SitingModel("setcover", sizing=sizing), method="exact")
    assert plan.optimal
    assert plan.sizes[0].tolist() == [5, 3, 2]
    assert plan.objective == pytest.approx(1000 + 3800)
    assert plan.unserved_parcels == pytest.approx(0.0)


def test_small_parcels_use_larger_compartments_when_cheaper():
    import dataclasses

    from routing.siting.model import DEFAULT_COMPARTMENTS

    cheap_large = (
        *DEFAULT_COMPARTMENTS[:2],
        dataclasses.replace(DEFAULT_COMPARTMENTS[2], cost=100.0),
    )
    sizing = Sizing(cheap_large, dwell_days=2.0, max_compartments=50)
    plan = solve(_one_site(10.0, (0.5, 0.3, 0.2)), SitingModel("setcover", sizing=sizing))
    assert plan.sizes[0].tolist() == [0, 0, 20]  # 20 compartments at 0.5 parcels/day each
    assert plan.objective == pytest.approx(1000 + 2000)


def test_infeasible_capacity_reports_unserved_demand():
    # 100 parcels/day but the one locker holds at most 10 compartments at 1 parcel/day.
    from routing.siting.model import DEFAULT_COMPARTMENTS

    sizing = Sizing(DEFAULT_COMPARTMENTS, dwell_days=1.0, max_compartments=10)
    inst = _one_site(100.0, (1.0, 0.0, 0.0))
    for kind in ("setcover", "facility"):
        plan = solve(inst, SitingModel(kind, sizing=sizing))
        assert plan.unserved_parcels == pytest.approx(90.0)
        assert plan.optimal
        assert plan.to_dict()["unserved"] == [{"demand": "a", "parcels": pytest.approx(90.0)}]
        # the bound is on the objective's footing (the MIP's price of the 90 unserved parcels
        # left out), not above the objective it proves
        assert plan.bound == pytest.approx(plan.objective) and plan.gap == pytest.approx(0.0)


@pytest.mark.parametrize("kind", ["setcover", "facility"])
@pytest.mark.parametrize("option", [{"p": 2}, {"budget": 1000.0}])
def test_lockers_or_money_limits_are_refused_where_every_point_must_be_served(kind, option):
    # a facility location held to p sites left reachable parcels unserved and kept that plan
    with pytest.raises(SitingInputError, match=f"'{kind}': {next(iter(option))} applies to"):
        SitingModel(kind, **option)


@pytest.mark.parametrize("seed", [11, 12, 13, 14])
@pytest.mark.parametrize("kind", ["setcover", "facility"])
def test_sized_mips_are_proven_by_both_solvers(tiny_mixed_instance, seed, kind):
    # compartments counted by "size >= t" columns: SCIP proves these in a second or two (with
    # a column per size it ended seed 11's set cover at 0.8 % after 60 s); HiGHS agrees
    from routing.siting.model import DEFAULT_COMPARTMENTS, at_least

    inst = tiny_mixed_instance(seed)
    sizing = Sizing(DEFAULT_COMPARTMENTS, dwell_days=1.0, max_compartments=12)
    model = SitingModel(kind, sizing=sizing)
    scip, highs = (
        solve(inst, model, method="exact", solver=s, time_limit_s=30) for s in ("scip", "highs")
    )
    assert scip.optimal and highs.optimal
    assert scip.objective == pytest.approx(highs.objective, rel=1e-6)
    for plan in (scip, highs):
        _check_plan(plan)
        parcels = inst.weight[plan.rows] * plan.frac
        # each site's compartments of size >= t hold its parcels of size >= t
        by_size = np.zeros((inst.n_sites, 3))
        np.add.at(by_size, plan.cols, parcels[:, None] * inst.size_mix[plan.rows])
        assert (at_least(by_size) <= sizing.throughput * at_least(plan.sizes) + 1e-6).all()
        paid = inst.fixed_cost[plan.is_open].sum() + (plan.sizes @ sizing.costs).sum()
        walked = (parcels * np.asarray(inst.reach[plan.rows, plan.cols]).ravel()).sum()
        assert plan.objective == pytest.approx(paid + (walked if kind == "facility" else 0.0))


def test_capacitated_maxcover_with_money_budget_and_sizing(tiny_instance):
    from routing.siting.model import DEFAULT_COMPARTMENTS

    inst = tiny_instance(4)
    sizing = Sizing(DEFAULT_COMPARTMENTS, dwell_days=1.0, max_compartments=4)
    model = SitingModel("maxcover", budget=5000.0, sizing=sizing)
    plan = solve(inst, model, method="exact", solver="highs")
    spent = inst.fixed_cost[plan.is_open].sum() + (plan.sizes @ sizing.costs).sum()
    assert spent <= 5000.0 + 1e-6
    assert plan.optimal
    _check_plan(plan)
    # each compartment serves one parcel a day: coverage never exceeds the compartments bought
    assert plan.objective <= plan.sizes.sum() + 1e-6


def test_must_open_sites_stay_open(tiny_instance):
    inst = tiny_instance(5)
    forced = inst.must_open.copy()
    forced[5] = True
    inst = dataclasses.replace(inst, must_open=forced)
    for method in ("heuristic", "exact"):
        plan = solve(inst, SitingModel("maxcover", p=2), method=method)
        assert plan.is_open[5]


@pytest.mark.parametrize("solver", ["scip", "highs", "sat"])
def test_every_backend_proves_the_same_optimum(tiny_instance, brute_force, solver):
    inst = tiny_instance(8)
    for model, want in (
        (SitingModel("maxcover", p=2), brute_force(inst, "maxcover", p=2)),
        (
            SitingModel("pmedian", p=3, unserved_penalty=30.0),
            brute_force(inst, "pmedian", p=3, penalty=30.0),
        ),
    ):
        plan = solve(inst, model, method="exact", solver=solver, time_limit_s=20)
        assert plan.optimal and plan.objective == pytest.approx(want)
        assert plan.method == f"exact:{solver}"


def test_highs_keeps_its_start_when_stopped_at_the_time_limit():
    # windows rely on it: a MIP cut short returns a plan at least as good as the one it started
    # from (the HiGHS inside OR-Tools ignored starts and returned nothing). Here HiGHS needs
    # seconds to prove the optimum; cut short at 0.3 s without a start it had 20.6 parcels.
    inst = synthetic_case(
        1500, 2500, 250, radius_m=400.0, seed=3, capacity=40.0, parcels_median=2.0
    )
    model = SitingModel("maxcover", p=40, capacitated=True)
    mip = build(inst, model, strong=True)
    is_open = np.zeros(inst.n_sites, dtype=bool)
    is_open[np.random.default_rng(0).choice(inst.n_sites, 40, replace=False)] = True
    start = solve_module._assign(inst, model, is_open)
    for hint in (solve_module._full_hint(start, mip), (mip.y, is_open.astype(float))):
        res = solve_mip(mip, solver="highs", time_limit_s=0.3, hint=hint)
        assert res.status in ("feasible", "optimal")
        assert res.objective >= start.objective - 1e-6
        assert res.values[mip.y].sum() <= 40 + 1e-9


def test_scip_time_limit_leaves_room_to_copy_the_model(tiny_instance, monkeypatch):
    # SCIP's clock starts after OR-Tools has copied the model in, and the copy is freed after
    # it stops: at city scale a 60 s solve ran to 61-62 s. The copy's allowance, made 4 s
    # here, comes off the limit SCIP is given.
    exact = importlib.import_module("routing.siting.exact")
    real, limits = exact.mbh.ModelSolverHelper, []

    class Recording:
        def __init__(self, name):
            self._engine = real(name)

        def set_time_limit_in_seconds(self, seconds):
            limits.append(seconds)
            self._engine.set_time_limit_in_seconds(seconds)

        def __getattr__(self, name):
            return getattr(self._engine, name)

    monkeypatch.setattr(exact.mbh, "ModelSolverHelper", Recording)
    mip = build(tiny_instance(8), SitingModel("maxcover", p=2), strong=True)
    monkeypatch.setattr(exact, "SETUP_S_PER_NONZERO", 4.0 / mip.A.nnz)
    res = solve_mip(mip, solver="scip", time_limit_s=10.0)
    assert 5.5 < limits[0] <= 6.0
    assert res.optimal


def test_cp_sat_refuses_split_demand(tiny_instance):
    from routing.siting.errors import SitingInputError

    inst = tiny_instance(8, capacity=np.full(6, 10.0))
    with pytest.raises(SitingInputError, match="cannot split demand"):
        solve(inst, SitingModel("maxcover", p=2, capacitated=True), solver="sat")


def test_unpriced_compartments_come_back_as_the_fewest_that_hold_the_load():
    # maxcover with p lockers does not price compartments: any count that fits is optimal to
    # the MIP, so the plan must not come back with (say) 50 L where 5 S + 3 M + 2 L hold it.
    from routing.siting.model import DEFAULT_COMPARTMENTS

    sizing = Sizing(DEFAULT_COMPARTMENTS, dwell_days=1.0, max_compartments=50)
    for kind in ("maxcover", "pmedian"):
        model = SitingModel(kind, p=1, sizing=sizing, unserved_penalty=1000.0)
        plan = solve(_one_site(10.0, (0.5, 0.3, 0.2)), model, method="exact")
        assert plan.served[0] == pytest.approx(1.0)
        assert plan.sizes[0].tolist() == [5, 3, 2]


@pytest.mark.parametrize("seed", SEEDS)
@pytest.mark.parametrize(
    ("kind", "opts"), [("maxcover", {"p": 2}), ("pmedian", {"p": 2, "unserved_penalty": 25.0})]
)
def test_unpriced_sizing_is_a_capacity_of_its_compartments(
    tiny_instance, brute_force, seed, kind, opts
):
    # covering or p-median with no money budget does not price compartments, so sizing up to 12
    # (one parcel a day each) has the optimum of a plain capacity of 12 parcels a day
    from routing.siting.flow import _size_loads
    from routing.siting.model import DEFAULT_COMPARTMENTS

    inst = tiny_instance(seed)
    sizing = Sizing(DEFAULT_COMPARTMENTS, dwell_days=1.0, max_compartments=12)
    want = brute_force(
        dataclasses.replace(inst, capacity=np.full(6, 12.0)),
        kind,
        p=2,
        capacitated=True,
        penalty=opts.get("unserved_penalty"),
    )
    for method in ("exact", "heuristic"):
        plan = solve(inst, SitingModel(kind, sizing=sizing, **opts), method=method)
        _check_plan(plan)
        assert plan.sizes.sum(axis=1).max() <= 12
        mix = plan.model.size_mix(inst)[plan.rows]
        by_size = inst.weight[plan.rows, None] * plan.frac[:, None] * mix
        np.testing.assert_allclose(plan.size_parcels, by_size)  # points went whole, own mix
        need = _size_loads(inst, plan.model, plan.rows, plan.cols, plan.frac)
        for t in range(3):  # compartments of size >= t hold the parcels needing size >= t
            assert (need[:, t] <= plan.sizes[:, t:].sum(axis=1) + 1e-6).all()
        if method == "exact":
            assert plan.optimal and plan.objective == pytest.approx(want, abs=1e-6)
        elif kind == "maxcover":
            assert plan.objective <= want + 1e-6
        else:
            assert plan.objective >= want - 1e-6


def test_a_mip_stopped_without_a_bound_reports_the_trivial_one(tiny_instance, monkeypatch):
    # SCIP stopped before its root LP (city-scale priced sizing) reports 1e20 for a maximum and
    # a huge negative for a minimum: the gap read billions of per cent. Now it is bounded by
    # every reachable parcel served (maximum) or a cost of 0 (minimum).
    from routing.siting.exact import MipResult

    def stopped(mip, **_):
        sentinel = 1e20 if mip.maximize else -1e20
        return MipResult(None, None, sentinel, False, "time limit (no bound)", 0.0)

    monkeypatch.setattr(solve_module, "solve_mip", stopped)
    monkeypatch.setattr(solve_module, "_quick_bound", lambda *a, **k: None)
    inst = tiny_instance(3)
    reachable = inst.weight[np.diff(inst.reach.indptr) > 0].sum()
    for model, bound in (
        (SitingModel("maxcover", p=2), reachable),
        (SitingModel("setcover"), 0.0),
    ):
        plan = solve(inst, model, method="exact")
        assert plan.stats["solver_status"] == "time limit (no bound)"
        assert plan.bound == pytest.approx(bound)
        want = abs(plan.objective - bound) / plan.objective
        assert plan.gap == pytest.approx(want) and plan.gap <= 1.0


@pytest.mark.parametrize("capacitated", [False, True])
@pytest.mark.parametrize("method", ["exact", "heuristic"])
def test_no_point_in_reach_gives_an_empty_plan_not_a_crash(method, capacitated):
    # a radius too small for any pair: the plan serves no one and says so (the empty
    # assignment's loads once came out as integers and the summary failed)
    inst = SitingInstance(
        demand_ids=["a", "b"],
        weight=np.array([5.0, 3.0]),
        site_ids=["x", "y"],
        reach=make_reach([], [], [], (2, 2)),
        fixed_cost=np.zeros(2),
        capacity=np.full(2, 10.0),
        must_open=np.zeros(2, dtype=bool),
    )
    for model in (
        SitingModel("maxcover", p=1, capacitated=capacitated),
        SitingModel("setcover", capacitated=capacitated),
    ):
        plan = solve(inst, model, method=method)
        summary = plan.to_dict()["summary"]
        assert summary["served_parcels"] == 0.0 and summary["coverage"] == 0.0
        assert summary["uncoverable_points"] == 2
        assert plan.to_dict()["uncoverable"] == ["a", "b"]


def test_pmedian_budget_below_the_cheapest_p_lockers_is_refused(tiny_instance):
    # it opened no locker at all and reported a 100 % gap
    inst = tiny_instance(1)
    cheapest = float(np.sort(inst.fixed_cost)[:2].sum())
    with pytest.raises(SitingInputError, match=r"below the .* the cheapest 2 lockers cost"):
        solve(inst, SitingModel("pmedian", p=2, budget=cheapest - 1.0))
    assert solve(inst, SitingModel("pmedian", p=2, budget=cheapest)).is_open.sum() == 2


@pytest.mark.parametrize("seed", [1, 2])
def test_sized_pmedian_pays_its_compartments_from_the_budget(
    tiny_mixed_instance, sized_brute_force, seed
):
    # the p-median's budget row left the compartments out: a plan spending 15,300 of 12,000
    # came back "optimal"; and the heuristic met the budget by closing lockers, below p
    from routing.siting.model import DEFAULT_COMPARTMENTS

    inst = tiny_mixed_instance(seed)
    sizing = Sizing(DEFAULT_COMPARTMENTS, dwell_days=1.0, max_compartments=8)
    model = SitingModel("pmedian", p=2, budget=6000.0, sizing=sizing, unserved_penalty=25.0)
    want, _ = sized_brute_force(inst, model)
    plans = {m: solve(inst, model, method=m, time_limit_s=10.0) for m in ("exact", "heuristic")}
    for plan in plans.values():
        _check_plan(plan)
        spent = inst.fixed_cost[plan.is_open].sum() + plan.compartment_cost.sum()
        assert plan.is_open.sum() == 2 and spent <= 6000.0 + 1e-6
        assert plan.objective >= want - 1e-6
    assert plans["exact"].optimal and plans["exact"].objective == pytest.approx(want, rel=1e-9)


def _short_of_lockers(seed: int, tiny_instance) -> SitingInstance:
    """A tiny case with more parcels than its five lockers can hold: 8 points at 15 to 120
    parcels a day, sites free to open (so 1 a site to set cover) and each sized up to 120
    compartments, 80 parcels a day, and the points' own size mixes."""
    inst = tiny_instance(seed, n=8, m=5, density=0.6, fixed=np.zeros(5))
    mix = np.random.default_rng(seed).dirichlet([3.0, 2.0, 1.0], inst.n_demand)
    return dataclasses.replace(inst, weight=15 * inst.weight, size_mix=mix)


@pytest.mark.parametrize(
    ("seed", "kind"),
    [(6, "setcover"), (6, "facility"), (5, "facility"), (5, "setcover"), (7, "setcover")],
)
def test_a_capacity_shortfall_is_proven_on_the_objective(
    tiny_instance, sized_brute_force, seed, kind
):
    # more parcels than the lockers can hold: the MIP priced each one left unserved above any
    # plan, and judged on that value its 1e-6 gap was some 100 on an objective of 2e5, so
    # plans 50-140 above the optimum were called optimal. Judged on the objective, set cover
    # seeds 5 and 7 then ran their 10 s at gaps of 1.2e-4 and 3.3e-4: the parcels no plan can
    # serve are now found first, and the MIP serves the rest at the least cost (0.1-0.3 s)
    inst = _short_of_lockers(seed, tiny_instance)
    model = SitingModel(kind, sizing=Sizing())
    want, served = sized_brute_force(inst, model)
    plan = solve(inst, model, method="exact", solver="scip", time_limit_s=10.0)
    _check_plan(plan)
    assert plan.unserved_parcels > inst.weight[0]  # some beyond the uncoverable point 0
    assert inst.weight.sum() - plan.unserved_parcels == pytest.approx(served)
    assert plan.stats["least_unserved"] == pytest.approx(inst.weight[1:].sum() - served)
    assert plan.optimal and plan.gap <= 1e-6 and plan.bound <= plan.objective + 1e-6
    assert plan.objective == pytest.approx(want, rel=1e-9)


def test_a_shortfall_mip_is_held_to_the_fewest_unserved_and_prices_money_alone(
    tiny_instance, monkeypatch
):
    # the second stage: no price on the unserved parcels, one row holding them to the fewest
    # any plan leaves, and the gap asked for handed to the MIP as it is
    asked = []

    def record(mip, **options):
        asked.append((mip, options["rel_gap"]))
        return solve_mip(mip, **options)

    monkeypatch.setattr(solve_module, "solve_mip", record)
    inst = _short_of_lockers(5, tiny_instance)
    model = SitingModel("setcover", sizing=Sizing())
    plan = solve(inst, model, method="exact", rel_gap=0.01)
    mip, rel_gap = asked[-1]  # (the first: set cover's uncapacitated start)
    least = plan.stats["least_unserved"]
    assert rel_gap == 0.01 and mip.floor == least and (mip.obj[mip.s] == 0).all()
    reached = np.diff(inst.reach.indptr) > 0
    [r] = np.flatnonzero(mip.row_ub == least)
    row = mip.A[r].toarray().ravel()
    np.testing.assert_allclose(row[mip.s], inst.weight[reached])
    assert np.count_nonzero(row) == mip.s.size and mip.row_lb[r] == -np.inf
    assert plan.unserved_parcels - inst.weight[0] == pytest.approx(least)


@pytest.mark.parametrize("seed", [5, 6, 7, 10])
@pytest.mark.parametrize("kind", ["setcover", "facility"])
def test_the_lagrangian_bounds_a_shortfall_with_its_floor_row_relaxed(
    tiny_instance, sized_brute_force, seed, kind
):
    # the floor row "parcels unserved <= the fewest" relaxed with the points' rows, its
    # multiplier set at its best each round: a bound on the cost alone, valid and close
    inst = _short_of_lockers(seed, tiny_instance)
    model = SitingModel(kind, sizing=Sizing())
    want, _ = sized_brute_force(inst, model)
    floor = solve_module._least_unserved(inst, model, time_limit_s=5)
    bound = must_serve_bound(
        inst, model, upper=1.2 * want, stop_at=np.inf, time_limit_s=2, floor=floor
    )
    assert 0.98 * want <= bound <= want + 1e-6
    # a floor above the fewest only loosens it; none at all is the penalised problem's bound
    looser = must_serve_bound(
        inst, model, upper=1.2 * want, stop_at=np.inf, time_limit_s=2, floor=floor + 30.0
    )
    assert looser <= want + 1e-6


def _clusters(count: int, parcels: float, sites: int, capacity: float) -> SitingInstance:
    """``count`` far-apart points of ``parcels`` a day, each in reach of its own ``sites``
    free sites of ``capacity`` parcels a day at no walk."""
    rows = np.repeat(np.arange(count), sites)
    cols = np.arange(count * sites)
    return SitingInstance(
        demand_ids=[f"d{i}" for i in range(count)],
        weight=np.full(count, parcels),
        site_ids=[f"s{j}" for j in range(count * sites)],
        reach=make_reach(rows, cols, np.zeros(cols.size), (count, count * sites)),
        fixed_cost=np.ones(count * sites),
        capacity=np.full(count * sites, capacity),
        must_open=np.zeros(count * sites, dtype=bool),
    )


def test_sites_for_parcels_short_are_opened_in_batches(monkeypatch):
    # ten points of 50 parcels, each reaching five sites of 10: the uncapacitated start opens
    # one a point, and opening one more site per flow took 40 flows (31 s on the city case at
    # 30 parcels a locker, past the solve's limit); in a batch, one flow serves everyone
    inst = _clusters(10, 50.0, 5, 10.0)
    short = np.full(10, 40.0)
    first = np.arange(50) % 5 == 0
    more = relief_sites(inst, inst.capacity, first, short)
    assert more.sum() == 40 and (more.reshape(10, 5)[:, 1:]).all()
    flows, assign = [], solve_module._assign
    monkeypatch.setattr(solve_module, "_assign", lambda *a, **k: flows.append(1) or assign(*a, **k))
    plan = solve(inst, SitingModel("setcover", capacitated=True), method="heuristic")
    assert plan.unserved_parcels == 0 and plan.is_open.all()
    assert len(flows) <= 3


def test_a_site_for_parcels_short_counts_what_the_ones_before_it_take():
    # one point of 15 parcels reaching three sites of 10: two are enough
    inst = _clusters(1, 15.0, 3, 10.0)
    more = relief_sites(inst, inst.capacity, np.zeros(3, dtype=bool), np.array([15.0]))
    assert more.sum() == 2


def test_fewest_unserved_parcels_come_from_the_lp_with_every_site_open(
    tiny_instance, sized_brute_force
):
    # exact to rounding, where the max flow's 1/1000 parcel would set a floor no plan meets;
    # none where every parcel in reach can be served, or where nothing need be
    least = solve_module._least_unserved
    inst = _short_of_lockers(7, tiny_instance)
    model = SitingModel("setcover", sizing=Sizing())
    _, served = sized_brute_force(inst, model)
    assert least(inst, model, time_limit_s=5) == pytest.approx(inst.weight[1:].sum() - served)
    # none need go unserved: a floor of 0 (the MIP then serves them all, a fraction too)
    roomy = SitingModel("setcover", sizing=Sizing(max_compartments=1000))
    assert least(inst, roomy, time_limit_s=5) == 0.0
    for model in (SitingModel("maxcover", p=2, sizing=Sizing()), SitingModel("setcover")):
        assert least(inst, model, time_limit_s=5) is None


def test_a_standing_lockers_sizes_set_the_floor_where_the_flow_sees_room():
    # 30 large parcels a day in reach of one standing locker of 40 small and 10 large
    # compartments: room for 50 parcels in all, which is all the max flow sees, but only 10
    # large ones fit; nothing else in reach
    from routing.siting.model import DEFAULT_COMPARTMENTS

    inst = dataclasses.replace(
        _one_site(30.0, (0.0, 0.0, 1.0)),
        must_open=np.array([True]),
        existing_compartments=np.array([[40, 0, 10]]),
    )
    sizing = Sizing(DEFAULT_COMPARTMENTS, dwell_days=1.0, max_compartments=50)
    for kind in ("setcover", "facility"):
        plan = solve(inst, SitingModel(kind, sizing=sizing), method="exact")
        assert plan.stats["least_unserved"] == pytest.approx(20.0)
        assert plan.unserved_parcels == pytest.approx(20.0) and plan.optimal


def test_the_start_serves_up_to_the_floor_where_opening_sites_by_reach_stops_short(
    monkeypatch,
):
    # x and y hold 10 parcels a day, z 5; a reaches only x, b x and y, c (20 parcels) only z:
    # 15 go unserved at the least. The start opens x and z (y costs much more); the flow puts
    # b at x, the nearer, and leaves a unserved, which no closed site reaches, so sites were
    # opened no further: 10 parcels short of the most, a start the MIP held to the floor
    # cannot take
    def stopped(mip, **_):
        return solve_module.MipResult(None, None, 0.0, False, "stopped", 0.0)

    monkeypatch.setattr(solve_module, "solve_mip", stopped)
    inst = SitingInstance(
        demand_ids=["a", "b", "c"],
        weight=np.array([10.0, 10.0, 20.0]),
        site_ids=["x", "y", "z"],
        reach=make_reach([0, 1, 1, 2], [0, 0, 1, 2], [5.0, 0.0, 1.0, 0.0], (3, 3)),
        fixed_cost=np.array([1.0, 100.0, 1.0]),
        capacity=np.array([10.0, 10.0, 5.0]),
        must_open=np.zeros(3, dtype=bool),
    )
    plan = solve(inst, SitingModel("facility", capacitated=True), method="exact")
    assert plan.stats["least_unserved"] == pytest.approx(15.0)
    assert plan.unserved_parcels == pytest.approx(15.0) and plan.is_open.all()


def test_the_start_serves_the_most_where_the_flow_would_rather_leave_parcels(monkeypatch):
    # a reaches x at 10, b x at 0 and y at 10, c y at 0 and z at 10, d only u (5 parcels a
    # day there): serving a, b and c walks 300 parcel-m where leaving a unserved walks none,
    # and facility location's flow priced an unserved parcel at 21 (twice the farthest pair,
    # plus 1), so it left a unserved with every site open: 15 parcels short where 5 must be
    monkeypatch.setattr(
        solve_module,
        "solve_mip",
        lambda *a, **k: solve_module.MipResult(None, None, 0.0, False, "stopped", 0.0),
    )
    inst = SitingInstance(
        demand_ids=["a", "b", "c", "d"],
        weight=np.full(4, 10.0),
        site_ids=["x", "y", "z", "u"],
        reach=make_reach(
            [0, 1, 1, 2, 2, 3], [0, 0, 1, 1, 2, 3], [10.0, 0.0, 10.0, 0.0, 10.0, 0.0], (4, 4)
        ),
        fixed_cost=np.zeros(4),
        capacity=np.array([10.0, 10.0, 10.0, 5.0]),
        must_open=np.zeros(4, dtype=bool),
    )
    plan = solve(inst, SitingModel("facility", capacitated=True), method="exact")
    assert plan.stats["least_unserved"] == pytest.approx(5.0)
    assert plan.unserved_parcels == pytest.approx(5.0) and plan.is_open.all()


@pytest.mark.parametrize("lagrangian", [True, False])
def test_a_large_shortfall_left_no_time_for_its_mip_reports_its_lagrangian_bound(
    tiny_instance, sized_brute_force, monkeypatch, lagrangian
):
    # large sized facility location is searched first, and the MIP skipped if too little time
    # is left. Its bound is the Lagrangian's with the floor row relaxed too: before, a
    # shortfall got none (gap 100 % on the city case at 30 parcels a locker), and the report
    # had failed on a bound of None; without one it is still the trivial bound
    for name in ("MUST_SERVE_LAGRANGE_PAIRS", "STRONG_LINK_MAX_PAIRS"):
        monkeypatch.setattr(solve_module, name, 0)
    monkeypatch.setattr(solve_module, "SEARCH_FIRST_MIP_MIN_S", 1e9)
    if not lagrangian:
        monkeypatch.setattr(solve_module, "must_serve_bound", lambda *a, **k: None)
    inst = _short_of_lockers(5, tiny_instance)
    model = SitingModel("facility", sizing=Sizing())
    plan = solve(inst, model, time_limit_s=2)
    want, _ = sized_brute_force(inst, model)
    assert plan.stats["solver_status"] == "time limit (relaxation bound)"
    assert plan.stats["least_unserved"] is not None
    if lagrangian:
        assert 0.99 * want <= plan.bound <= want + 1e-6
        assert plan.gap == pytest.approx((plan.objective - plan.bound) / plan.objective)
    else:
        assert plan.bound == 0.0 and plan.gap == pytest.approx(1.0)


def test_a_start_a_hair_short_of_the_floor_is_one_the_mip_takes(monkeypatch):
    # two points of 500 parcels a day, each in reach of its own locker of at most 40
    # compartments (26.67 parcels a day): the flows count parcels to 1/1000 and so serve
    # 26.666 at each, 0.0013 short of the most, and SCIP refused that start (on the demo map
    # it then ended 0.2 % dearer): the floor is raised to it, within the tolerance
    asked = []

    def record(mip, **options):
        asked.append((mip, options["hint"]))
        return solve_mip(mip, **options)

    monkeypatch.setattr(solve_module, "solve_mip", record)
    inst = SitingInstance(
        demand_ids=["a", "b"],
        weight=np.array([500.0, 500.0]),
        site_ids=["x", "y"],
        reach=make_reach([0, 1], [0, 1], [0.0, 0.0], (2, 2)),
        fixed_cost=np.zeros(2),
        capacity=np.full(2, np.inf),
        must_open=np.zeros(2, dtype=bool),
    )
    plan = solve(inst, SitingModel("setcover", sizing=Sizing(max_compartments=40)))
    mip, (cols, values) = asked[-1]
    start = np.zeros(mip.A.shape[1])
    start[cols] = values
    rows = mip.A @ start
    assert (rows <= mip.row_ub + 1e-9).all() and (rows >= mip.row_lb - 1e-9).all()
    least = 1000.0 - 2 * 40 / 1.5
    assert plan.stats["least_unserved"] == pytest.approx(least)
    assert least + 1e-3 < mip.floor < least + 1e-5 * 1000.0
    assert plan.optimal and plan.unserved_parcels == pytest.approx(least, abs=1e-2)


def test_a_shortfall_gap_is_handed_to_the_mip_on_the_objective(tiny_instance, monkeypatch):
    # where the first stage finds no floor in time, the MIP prices every unserved parcel: the
    # gap asked for means that gap on the objective, so the MIP, whose value adds that price,
    # gets it scaled down by the objective's share of that value
    from routing.siting.formulation import big_penalty

    asked = []

    def record(mip, **options):
        asked.append(options["rel_gap"])
        return solve_module.MipResult(None, None, 0.0, False, "stopped", 0.0)

    monkeypatch.setattr(solve_module, "solve_mip", record)
    monkeypatch.setattr(solve_module, "_quick_bound", lambda *a, **k: None)
    monkeypatch.setattr(solve_module, "lp_optimum", lambda *a, **k: None)
    inst = tiny_instance(2, capacity=np.full(6, 3.0))
    model = SitingModel("facility", capacitated=True)
    plan = solve(inst, model, method="exact", rel_gap=0.01)
    reachable = np.diff(inst.reach.indptr) > 0  # a point reaching no site is not priced
    unserved = float((inst.weight * (1.0 - plan.served))[reachable].sum())
    value = plan.objective + big_penalty(inst, model) * unserved
    assert plan.stats["least_unserved"] is None
    assert unserved > 0 and asked == [pytest.approx(0.01 * plan.objective / value)]
    assert not plan.optimal and plan.bound == 0.0 and plan.gap == pytest.approx(1.0)
