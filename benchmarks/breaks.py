"""Days with lunch breaks and travel in fractions of a second: OR-Tools alone against auto.

Such days once left OR-Tools alone without any plan within a short limit (the routing audit's
finding 401): its finalizer fixed a route's end before the breaks, then raised it one
millisecond per failure over a break's length. Each seeded day has 2-4 vans with a lunch break
in a window and 8-15 jobs with one time window each, on straight-line travel at a random speed
(so times are fractional); each is solved by ``routing.solve`` with ``engine="ortools"`` and,
as the peer in the same run, ``engine="auto"`` (PyVRP's plan of the day without breaks
warm-starting OR-Tools), both checked by ``routing.check``.

    .venv/bin/python benchmarks/breaks.py --days 100 --time-limit 1
"""

from __future__ import annotations

import argparse
import math
import random
import statistics

from routing.check import check
from routing.model import Model, Problem
from routing.solve import solve


def break_day(seed: int) -> Problem:
    """One seeded day: a hub, 2-4 vans with a lunch break, 8-15 jobs with a window each."""
    rng = random.Random(seed)
    jobs = rng.randint(8, 15)
    places = [(0.0, 0.0)] + [(rng.uniform(-6, 6), rng.uniform(-6, 6)) for _ in range(jobs)]
    speed = rng.uniform(6.0, 11.0)  # metres per second
    travel = [[math.dist(a, b) * 1000 / speed for b in places] for a in places]
    m = Model()
    for _ in places:
        m.add_location()
    m.add_centre("hub", location=0)
    m.set_matrices("van", travel, travel)
    for k in range(rng.randint(2, 4)):
        length = 1800 * rng.randint(1, 2)
        lunch = {"id": "lunch", "windows": [["12:00", "13:30"]], "duration": length}
        m.add_vehicle(f"v{k}", start="hub", end="hub", shift=["08:00", "18:00"], breaks=[lunch])
    for j in range(1, jobs + 1):
        opens = rng.randint(8 * 60, 16 * 60)
        window = [_clock(opens), _clock(opens + rng.randint(30, 180))]
        m.add_job(f"j{j}", location=j, service=rng.choice([120, 300, 600]), time_windows=[window])
    return m.build()


def _clock(minutes: int) -> str:
    return f"{minutes // 60:02d}:{minutes % 60:02d}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--days", type=int, default=100)
    parser.add_argument("--time-limit", type=float, default=1.0)
    args = parser.parse_args()
    engines = ("ortools", "auto")
    empty = dict.fromkeys(engines, 0)
    left = dict.fromkeys(engines, 0)
    costs: dict[str, list[float]] = {e: [] for e in engines}
    ratios = []
    broken = 0
    for seed in range(args.days):
        problem = break_day(seed)
        plans = {e: solve(problem, engine=e, time_limit_s=args.time_limit, seed=0) for e in engines}
        for e, plan in plans.items():
            broken += not check(problem, plan).ok
            empty[e] += not plan.routes
            left[e] += len(plan.unassigned)
            costs[e].append(plan.cost)
        if all(plans[e].routes and not plans[e].unassigned for e in engines):
            ratios.append(plans["ortools"].cost / plans["auto"].cost)
    print(f"{args.days} days, {args.time_limit:g} s each, plans failing the checker: {broken}")
    print(f"{'engine':<8}{'days without a plan':>21}{'tasks left out':>16}")
    for e in engines:
        print(f"{e:<8}{empty[e]:>21}{left[e]:>16}")
    if ratios:
        print(
            f"cost ortools / auto on the {len(ratios)} days both serve in full: median "
            f"{statistics.median(ratios):.4f}, worst {max(ratios):.4f}"
        )


if __name__ == "__main__":
    main()
