"""Locker-siting benchmark: OR-Library optima against PySAL spopt, and a city-scale case.

In one run:
1. every shared OR-Library p-median and capacitated warehouse instance, solved by the project
   (each OR-Tools backend named in --solvers) and its p-median by spopt's ``PMedian`` on
   PuLP/CBC, side by side: objective, known optimum, proof of optimality, seconds, speed ratio;
2. a city-scale case on a synthetic city's walk graph (20,000 demand points x 2,000 candidate
   sites, 500 m walking radius): maximal covering, capacitated maximal covering (fixed
   capacity where it binds, half-binds and does not, and the same capacities as S/M/L
   compartments to size), p-median; objective, proven gap, seconds, peak memory.

    .venv/bin/python benchmarks/siting.py [--skip-spopt] [--skip-city] [--solvers scip,highs]
    .venv/bin/python benchmarks/siting.py --skip-orlib --only-capacitated --capacities 90 \
        --city-time-limit 600
    .venv/bin/python benchmarks/siting.py --skip-orlib --capacities 90 \
        --lp-gap-blocks 60,60,60,200 --block-time-limit 1200
    .venv/bin/python benchmarks/siting.py --skip-orlib --capacities 90 --window-ab 50
    .venv/bin/python benchmarks/siting.py --skip-orlib --priced
    .venv/bin/python benchmarks/siting.py --skip-orlib --shortfall
    .venv/bin/python benchmarks/siting.py --skip-orlib --only-capacitated --capacities 90 \
        --city-nodes 3000 --city-points 6000 --city-sites 600 --p 90 --path-ab

``--priced`` runs instead the city case's models that price what they build (20,000 a site;
compartments to size, or 90 parcels a day): set cover, facility location, and covering within
a money budget. None is a target of the issue; their bounds come from ``lagrange.py``.
``--shortfall`` runs set cover and facility location sized with at most 45 compartments a
locker (30 parcels a day): where points crowd, no plan can serve them all.

``--lp-gap-blocks`` measures instead how far the capacitated covering LP (the best bound the
city case has) lies above the integer optimum: it cuts blocks of neighbouring sites out of the
city case (each with the points in their reach, p in proportion to the block's parcels) and
prints each block's LP, SCIP's best plan and bound, and the LP's excess over both.

``--path-ab`` runs each capacitated case twice, by the window path and by its MIP (SCIP, what
cases below ``WINDOW_PAIRS`` merged pairs get): the last command above is a district of the
city's density, 6,000 x 600 with 90 lockers, past that threshold.

``--window-ab S`` compares, at the first capacity, S seconds of window search over every site
with windows kept to the LP relaxation's support (what the city-scale solve does once the LP
is in): same start plan (the heuristic's), one thread, the same seeds, one after the other.
"""

from __future__ import annotations

import argparse
import dataclasses
import importlib
import resource
import statistics
import time
from pathlib import Path

import numpy as np

from routing.siting import SitingModel, Sizing, solve
from routing.siting.aggregate import aggregate
from routing.siting.exact import lp_relaxation, solve_mip
from routing.siting.flow import max_service
from routing.siting.formulation import build
from routing.siting.model import DEFAULT_COMPARTMENTS, SitingInstance
from routing.siting.orlib import read_cap, read_pmed
from routing.siting.solve import KERNEL_Y, WINDOW_PAIRS
from routing.siting.window import neighbourhood, window_search

solve_module = importlib.import_module("routing.siting.solve")  # the module, not its function

SHARED = Path(__file__).resolve().parents[1].parent / "shared" / "bench" / "siting"
PMED = {"pmed1": 5819, "pmed5": 1355, "pmed10": 1255, "pmed15": 1729, "pmed20": 1789}
CAP = {"cap41": 1040444.375, "cap61": 932615.750}


def peak_mb() -> float:
    """Peak resident memory of this process so far (MB)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def spopt_pmedian(inst, p: int) -> tuple[float, float, bool]:
    """spopt's PMedian on PuLP/CBC over the full distance matrix: (objective, seconds, optimal)."""
    import pulp
    from spopt.locate import PMedian

    dist = inst.reach.toarray()
    start = time.perf_counter()
    model = PMedian.from_cost_matrix(dist, inst.weight, p_facilities=p, name="bench")
    model = model.solve(pulp.PULP_CBC_CMD(msg=False))
    seconds = time.perf_counter() - start
    return float(pulp.value(model.problem.objective)), seconds, model.problem.status == 1


def orlib(args: argparse.Namespace) -> None:
    solvers = args.solvers.split(",")
    print("## OR-Library (objective / proven optimal / seconds)")
    head = f"{'instance':9} {'optimum':>13}"
    for s in solvers:
        head += f" | {s + ' obj':>13} {'opt':>3} {'s':>6}"
    head += f" | spopt obj        s  | spopt / {solvers[0]}" if not args.skip_spopt else ""
    print(head)
    for name, best in [*PMED.items(), *CAP.items()]:
        if name.startswith("pmed"):
            pm = read_pmed(SHARED / "pmed" / f"{name}.txt")
            inst, model = pm.instance, SitingModel("pmedian", p=pm.p)
        else:
            inst, model = (
                read_cap(SHARED / "cap" / f"{name}.txt"),
                SitingModel("facility", capacitated=True),
            )
        line = f"{name:9} {best:13.3f}"
        ours = {}
        for s in solvers:
            start = time.perf_counter()
            plan = solve(inst, model, solver=s, time_limit_s=args.time_limit)
            ours[s] = time.perf_counter() - start
            hit = abs(plan.objective - best) <= 1e-6 * best
            proved = "yes" if plan.optimal and hit else "NO"
            line += f" | {plan.objective:13.3f} {proved:>3} {ours[s]:6.2f}"
        if not args.skip_spopt and name.startswith("pmed"):
            obj, sec, opt = spopt_pmedian(inst, model.p)
            ratio = sec / ours[solvers[0]]
            line += f" | {obj:9.0f} {'y' if opt else 'n'} {sec:7.2f} | {ratio:6.1f}x"
        print(line, flush=True)


def city(args: argparse.Namespace) -> None:
    from routing.siting.synthetic import synthetic_case

    print(
        f"\n## City case: synthetic city of {args.city_nodes} nodes, {args.city_points:,} x "
        f"{args.city_sites:,}, 500 m walk"
    )
    start = time.perf_counter()
    inst = synthetic_case(
        args.city_nodes,
        args.city_points,
        args.city_sites,
        radius_m=500.0,
        seed=args.seed,
        parcels_median=1.0,
    )
    build_s = time.perf_counter() - start
    per = np.diff(inst.reach.indptr)
    print(
        f"instance: {inst.reach.nnz} pairs within 500 m (median {statistics.median(per)} sites per "
        f"point, {int((per == 0).sum())} points reach none), {inst.weight.sum():.0f} parcels/day, "
        f"built in {build_s:.1f} s (walk graph + snapping + distances_within), "
        f"peak {peak_mb():.0f} MB"
    )
    if args.lp_gap_blocks:
        lp_gap_blocks(args, inst)
        return
    if args.window_ab:
        window_ab(args, inst)
        return
    if args.shortfall:
        cases = shortfall_cases(inst)
    else:
        cases = priced_cases(inst) if args.priced else plain_cases(args, inst)
    print(
        f"p = {args.p} lockers; limit {args.city_time_limit:g} s; sized lockers: compartments "
        f"turned over every 1.5 days"
    )
    print(
        f"{'model':22} {'objective':>14} {'bound':>14} {'gap':>8} {'coverage':>8} {'s':>6} "
        f"{'peak MB':>8}  how"
    )
    if args.path_ab:
        # each capacitated case again by its MIP (SCIP), as below WINDOW_PAIRS, in the same run
        cases = [
            row
            for label, data, model, gap in cases
            for row in [(label, data, model, gap)]
            + ([(f"{label} MIP", data, model, gap)] if model.is_capacitated else [])
        ]
    for label, data, model, gap in cases:
        t0 = time.perf_counter()
        solve_module.WINDOW_PAIRS = 10**12 if label.endswith(" MIP") else WINDOW_PAIRS
        plan = solve(data, model, time_limit_s=args.city_time_limit, rel_gap=gap)
        sec = time.perf_counter() - t0
        s = plan.summary()
        gap_s = f"{s['gap']:.3%}" if s["gap"] is not None and np.isfinite(s["gap"]) else "none"
        bound = f"{s['bound']:14.1f}" if s["bound"] is not None else f"{'-':>14}"
        print(
            f"{label:22} {s['objective']:14.1f} {bound} {gap_s:>8} {s['coverage']:8.1%} {sec:6.1f} "
            f"{peak_mb():8.0f}  {s['method']} ({s['solver_status']}; "
            f"heuristic {s['heuristic_seconds']:.1f} s, "
            f"MIP {s['mip_rows']}x{s['mip_columns']}, {s['merged_points']} merged points)",
            flush=True,
        )


def plain_cases(args: argparse.Namespace, inst: SitingInstance) -> list[tuple]:
    """Covering, its capacitated and sized versions at each capacity, and p-median."""
    capacities = [float(c) for c in args.capacities.split(",")]
    cases = (
        []
        if args.only_capacitated
        else [("maxcover", inst, SitingModel("maxcover", p=args.p), 0.01)]
    )
    for cap in capacities:
        capped = dataclasses.replace(inst, capacity=np.full(inst.n_sites, cap))
        model = SitingModel("maxcover", p=args.p, capacitated=True)
        cases.append((f"maxcover cap {cap:g}/day", capped, model, 0.01))
        # the same capacity as compartments to size (S/M/L, turned over every 1.5 days)
        sizing = Sizing(DEFAULT_COMPARTMENTS, dwell_days=1.5, max_compartments=round(cap * 1.5))
        model = SitingModel("maxcover", p=args.p, sizing=sizing)
        cases.append((f"maxcover sized {sizing.max_compartments} cells", inst, model, 0.01))
    if not args.only_capacitated:
        cases.append(("pmedian", inst, SitingModel("pmedian", p=args.p), 1e-4))
    return cases


def priced_cases(inst: SitingInstance) -> list[tuple]:
    """The models that price what they build: 20,000 a site, S/M/L compartments at 300/400/550
    (up to 135 a locker, turned over every 1.5 days: 90 parcels a day), or a fixed 90/day."""
    priced = dataclasses.replace(inst, fixed_cost=np.full(inst.n_sites, 20_000.0))
    sizing = Sizing(DEFAULT_COMPARTMENTS, dwell_days=1.5, max_compartments=135)
    capped = dataclasses.replace(priced, capacity=np.full(inst.n_sites, 90.0))
    budget = 13.2e6
    return [
        ("setcover sized", priced, SitingModel("setcover", sizing=sizing), 0.01),
        ("setcover cap 90/day", capped, SitingModel("setcover", capacitated=True), 0.01),
        ("facility sized", priced, SitingModel("facility", sizing=sizing), 0.01),
        (
            f"maxcover sized {budget / 1e6:g}M",
            priced,
            SitingModel("maxcover", budget=budget, sizing=sizing),
            0.01,
        ),
    ]


def shortfall_cases(inst: SitingInstance) -> list[tuple]:
    """Set cover and facility location priced as in ``priced_cases`` but with lockers of at
    most 45 compartments (30 parcels a day): a capacity shortfall where points crowd, so the
    solve first finds the fewest parcels any plan leaves unserved."""
    priced = dataclasses.replace(inst, fixed_cost=np.full(inst.n_sites, 20_000.0))
    sizing = Sizing(DEFAULT_COMPARTMENTS, dwell_days=1.5, max_compartments=45)
    return [
        ("setcover sized 45 short", priced, SitingModel("setcover", sizing=sizing), 0.01),
        ("facility sized 45 short", priced, SitingModel("facility", sizing=sizing), 0.01),
    ]


def lp_gap_blocks(args: argparse.Namespace, inst: SitingInstance) -> None:
    """Per block of neighbouring sites at the first capacity: LP against SCIP's plan and bound."""
    cap = float(args.capacities.split(",")[0])
    by_site = inst.reach.T.tocsr()
    overlap = (by_site @ inst.reach).tocsr()
    share = args.p / float(inst.weight.sum())
    print(
        f"LP against the integer optimum, capacitated covering at {cap:g}/day, SCIP for "
        f"{args.block_time_limit:g} s a block"
    )
    print(
        f"{'sites':>5} {'points':>6} {'p':>3} {'LP':>9} {'plan':>9} {'bound':>9} "
        f"{'LP/plan':>8} {'LP/bound':>8} {'s':>6}"
    )
    for seed, size in enumerate(int(b) for b in args.lp_gap_blocks.split(",")):
        centre = int(np.random.default_rng(seed + 1).integers(inst.n_sites))
        sites = np.sort(neighbourhood(overlap, centre, size))
        points = np.unique(by_site[sites].indices)
        block = SitingInstance(
            demand_ids=[inst.demand_ids[i] for i in points],
            weight=inst.weight[points],
            site_ids=[inst.site_ids[j] for j in sites],
            reach=inst.reach[points][:, sites].tocsr(),
            fixed_cost=np.zeros(sites.size),
            capacity=np.full(sites.size, cap),
            must_open=np.zeros(sites.size, dtype=bool),
            name=f"block-{seed + 1}",
        )
        model = SitingModel(
            "maxcover", p=max(1, round(share * block.weight.sum())), capacitated=True
        )
        mip = build(aggregate(block, model)[0], model, strong=True)
        lp = solve_mip(
            dataclasses.replace(mip, integer=np.zeros(0, dtype=np.int64)),
            solver="highs",
            time_limit_s=args.block_time_limit,
        ).objective
        res = solve_mip(mip, solver="scip", time_limit_s=args.block_time_limit, rel_gap=1e-6)
        print(
            f"{size:5d} {points.size:6d} {model.p:3d} {lp:9.1f} {res.objective:9.1f} "
            f"{res.bound:9.1f} {lp / res.objective - 1:8.2%} {lp / res.bound - 1:8.2%} "
            f"{res.seconds:6.0f}" + ("" if res.optimal else "  (not proven optimal)"),
            flush=True,
        )


def window_ab(args: argparse.Namespace, inst: SitingInstance) -> None:
    """Windows over every site against windows kept to the LP's support, from the same plan."""
    cap = float(args.capacities.split(",")[0])
    model = SitingModel("maxcover", p=args.p, capacitated=True)
    work, _ = aggregate(dataclasses.replace(inst, capacity=np.full(inst.n_sites, cap)), model)
    start = solve(work, model, method="heuristic", time_limit_s=12.0).is_open
    strong = build(work, model, strong=True)
    support = lp_relaxation(strong, time_limit_s=60.0).values[strong.y] > KERNEL_Y
    print(
        f"window search at {cap:g}/day, {args.window_ab:g} s a run, one thread; start "
        f"{max_service(work, model, start)[0]:.1f} parcels; LP support {int(support.sum())} of "
        f"{work.n_sites} sites (y > {KERNEL_Y:g})"
    )
    print(f"{'seed':>4} {'every site':>11} {'LP support':>11} {'gain':>7}")
    rows = []
    for seed in range(args.ab_seeds):
        found = [
            max_service(
                work,
                model,
                window_search(
                    work, model, start, time_limit_s=args.window_ab, seed=seed, candidates=c
                ),
            )[0]
            for c in (None, support)
        ]
        rows.append(found)
        print(
            f"{seed:4d} {found[0]:11.1f} {found[1]:11.1f} {found[1] - found[0]:+7.1f}", flush=True
        )
    every, kept = (statistics.median(col) for col in zip(*rows, strict=True))
    print(f"{'median':>4} {every:11.1f} {kept:11.1f} {kept - every:+7.1f}")


def main() -> None:
    ap = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    ap.add_argument("--solvers", default="scip,highs", help="OR-Tools backends for OR-Library")
    ap.add_argument("--time-limit", type=float, default=120.0, help="seconds per OR-Library solve")
    ap.add_argument("--skip-spopt", action="store_true")
    ap.add_argument("--skip-city", action="store_true")
    ap.add_argument("--skip-orlib", action="store_true")
    ap.add_argument("--city-nodes", type=int, default=10_000)
    # a district at the city's density: --city-nodes 3000 --city-points 6000 --city-sites 600 --p 90
    ap.add_argument("--city-points", type=int, default=20_000, help="demand points")
    ap.add_argument("--city-sites", type=int, default=2_000, help="candidate sites")
    ap.add_argument("--city-time-limit", type=float, default=60.0)
    ap.add_argument("--p", type=int, default=300)
    ap.add_argument(
        "--capacities", default="60,90,150", help="parcels/day per locker, capacitated cases"
    )
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument(
        "--lp-gap-blocks",
        default="",
        help="city case: block sizes (sites) whose LP to compare with SCIP's plan and bound",
    )
    ap.add_argument("--block-time-limit", type=float, default=120.0, help="SCIP seconds a block")
    ap.add_argument(
        "--window-ab",
        type=float,
        default=0.0,
        help="city case: seconds of window search over every site vs the LP's support",
    )
    ap.add_argument("--ab-seeds", type=int, default=5, help="runs of each, for --window-ab")
    ap.add_argument(
        "--priced",
        action="store_true",
        help="city case: the models that price sites and compartments (set cover, facility "
        "location, covering with a money budget) instead",
    )
    ap.add_argument(
        "--shortfall",
        action="store_true",
        help="city case: set cover and facility location with lockers too small where points "
        "crowd (45 compartments) instead",
    )
    ap.add_argument(
        "--path-ab",
        action="store_true",
        help="city case: each capacitated case also by its MIP (SCIP), the path below "
        "WINDOW_PAIRS, to compare with the window path in the same run",
    )
    ap.add_argument(
        "--only-capacitated",
        action="store_true",
        help="city case: the fixed-capacity and sized cases alone (to rerun with a longer limit)",
    )
    args = ap.parse_args()
    if not args.skip_orlib:
        if not SHARED.is_dir():
            raise SystemExit(f"OR-Library instances not found under {SHARED}")
        orlib(args)
    if not args.skip_city:
        city(args)


if __name__ == "__main__":
    main()
