"""Rich problems (breaks, skills, several time windows, shipments) in VROOM's JSON: ours vs VROOM.

Generates a seeded set of last-mile days as VROOM problem files, solves each with the project
(`routing.solve`, engine auto, at --time-limit seconds) and with VROOM (pyvroom, exploration
level 5, its own stopping rule capped at the same limit) in the same run, checks BOTH plans with
the project's independent checker, and prints the costs side by side. Target: ours costs no
more than VROOM's on every instance, with no more tasks left out.

    .venv/bin/python benchmarks/vrp_rich.py [--time-limit 10] [--seeds 3] [--only rich-060-a ...]

Each instance runs once per seed (ours seeded, VROOM right after it, so both see the same
machine load); the closing table gives per instance the medians, the median and worst
cost ratio ours/VROOM and the runs where ours is no worse (fewer tasks left out, then cost).

Instances: depot in the middle of a 16 km square, van speed 30 km/h (integer seconds and
metres), a 08:00-18:00 shift with a 30-minute lunch break in 12:00-14:00, two capacity
dimensions (parcels, kg), fixed cost per used van; ~20 % of jobs need a skill only a third of
the vans have, ~30 % have one 2-hour window and ~20 % two windows (morning and afternoon), and
one task in eight is a shipment between two customers. Cost is VROOM's: fixed + travel seconds.
"""

from __future__ import annotations

import argparse
import json
import statistics
import tempfile
import time
from pathlib import Path

import numpy as np

from routing.check import check
from routing.io.vroom import read_vroom, solution_from_vroom
from routing.solution import Solution
from routing.solve import solve

HOUR = 3600
SIDE_M = 16_000
SPEED_MS = 30 / 3.6
DAY = (8 * HOUR, 18 * HOUR)
INSTANCES = {  # name: (jobs, vans, seed)
    "rich-060-a": (60, 5, 1),
    "rich-060-b": (60, 5, 2),
    "rich-120-a": (120, 9, 3),
    "rich-120-b": (120, 9, 4),
    "rich-200-a": (200, 14, 5),
    "rich-200-b": (200, 14, 6),
}


def generate(jobs: int, vans: int, seed: int) -> dict:
    """One VROOM problem: jobs and shipments around a central depot, vans with breaks."""
    rng = np.random.default_rng(seed)
    n_ship = jobs // 8
    n_points = 1 + jobs + 2 * n_ship
    points = rng.uniform(0, SIDE_M, size=(n_points, 2))
    points[0] = SIDE_M / 2
    metres = np.rint(np.hypot(*(points[:, None, :] - points[None, :, :]).transpose(2, 0, 1)))
    seconds = np.rint(metres / SPEED_MS)

    def windows() -> list[list[int]]:
        roll = rng.random()
        if roll < 0.3:
            start = int(rng.integers(8, 16)) * HOUR
            return [[start, start + 2 * HOUR]]
        if roll < 0.5:
            am, pm = int(rng.integers(8, 11)) * HOUR, int(rng.integers(14, 16)) * HOUR
            return [[am, am + 2 * HOUR], [pm, pm + 2 * HOUR]]
        return []

    vehicles = [
        {
            "id": k + 1, "start_index": 0, "end_index": 0, "capacity": [40, 400],
            "time_window": list(DAY), "costs": {"fixed": 1800},
            "skills": [1] if k % 3 == 0 else [],
            "breaks": [{"id": 100 + k, "time_windows": [[12 * HOUR, 14 * HOUR]],
                        "service": 1800}],
        }
        for k in range(vans)
    ]
    job_list = []
    for i in range(1, jobs + 1):
        job = {"id": i, "location_index": i, "service": int(rng.integers(120, 420)),
               "delivery": [int(rng.integers(1, 5)), int(rng.integers(2, 40))]}
        if rng.random() < 0.2:
            job["skills"] = [1]
        if tw := windows():
            job["time_windows"] = tw
        job_list.append(job)
    shipments = []
    for s in range(n_ship):
        p, d = jobs + 1 + 2 * s, jobs + 2 + 2 * s
        ship = {"amount": [int(rng.integers(1, 4)), int(rng.integers(5, 30))],
                "pickup": {"id": 1000 + s, "location_index": p, "service": 180},
                "delivery": {"id": 2000 + s, "location_index": d, "service": 180}}
        if tw := windows():
            ship["delivery"]["time_windows"] = tw
        shipments.append(ship)
    return {
        "vehicles": vehicles, "jobs": job_list, "shipments": shipments,
        "matrices": {"car": {"durations": seconds.astype(int).tolist(),
                             "distances": metres.astype(int).tolist()}},
    }


def solve_vroom(path: Path, time_limit: float) -> tuple[dict, float]:
    import datetime

    import vroom

    began = time.perf_counter()
    problem = vroom.Input.from_json(path)
    result = problem.solve(exploration_level=5, nb_threads=2,
                           timeout=datetime.timedelta(seconds=time_limit))
    return result.to_dict(), time.perf_counter() - began


def describe(solution: Solution, verdict: bool, seconds: float) -> dict:
    s = solution.summary
    return {"cost": s.cost, "unassigned": s.unassigned, "routes": s.routes, "ok": verdict,
            "seconds": seconds, "engine": solution.engine, "reason": solution.engine_reason}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--time-limit", type=float, default=10.0)
    parser.add_argument("--seeds", type=int, default=3, help="Runs per instance (seeds 0..N-1).")
    parser.add_argument("--only", nargs="*", default=None)
    parser.add_argument("--keep", type=Path, default=None, help="Folder to keep the JSON files.")
    args = parser.parse_args(argv)
    names = args.only or list(INSTANCES)
    folder = args.keep or Path(tempfile.mkdtemp(prefix="gongpei-rich-"))
    folder.mkdir(parents=True, exist_ok=True)
    rows = []
    for name in names:
        jobs, vans, seed = INSTANCES[name]
        path = folder / f"{name}.json"
        path.write_text(json.dumps(generate(jobs, vans, seed)))
        problem = read_vroom(path)
        for run in range(args.seeds):  # ours and VROOM back to back: the same machine load
            began = time.perf_counter()
            ours = solve(problem, time_limit_s=args.time_limit, seed=run)
            ours_s = time.perf_counter() - began
            output, theirs_s = solve_vroom(path, args.time_limit)
            theirs = solution_from_vroom(problem, output)
            row = {"name": name, "seed": run, "jobs": jobs, "shipments": len(problem.shipments),
                   "ours": describe(ours, check(problem, ours).ok, ours_s),
                   "vroom": describe(theirs, check(problem, theirs).ok, theirs_s)}
            rows.append(row)
            print(_line(row), flush=True)
            print(f"    ours: {ours.engine_reason}", flush=True)
    print("\n" + _table(rows, names))
    ratios = [_ratio(r) for r in rows]
    wins = sum(_not_worse(r) for r in rows)
    print(f"\nall runs: median cost ratio ours/VROOM {statistics.median(ratios):.4f}, worst "
          f"{max(ratios):.4f}; ours no worse on {wins}/{len(rows)} runs; all checked plans ok: "
          f"{all(r['ours']['ok'] and r['vroom']['ok'] for r in rows)}")
    return 0 if wins == len(rows) else 1


def _ratio(row: dict) -> float:
    return row["ours"]["cost"] / row["vroom"]["cost"]


def _table(rows: list[dict], names: list[str]) -> str:
    """Per instance over its runs: medians of both, the median and worst ratio, runs won."""
    lines = ["| instance | jobs | shipments | runs | ours median cost (unassigned) | "
             "VROOM median cost (unassigned) | ratio median | ratio worst | ours no worse |",
             "|---|---|---|---|---|---|---|---|---|"]
    for name in names:
        mine = [r for r in rows if r["name"] == name]
        ours = [r["ours"] for r in mine]
        theirs = [r["vroom"] for r in mine]
        ratios = [_ratio(r) for r in mine]

        def median(side: list[dict], key: str) -> float:
            return statistics.median(x[key] for x in side)

        lines.append(
            f"| {name} | {mine[0]['jobs']} | {mine[0]['shipments']} | {len(mine)} | "
            f"{median(ours, 'cost'):.0f} ({median(ours, 'unassigned'):g}) | "
            f"{median(theirs, 'cost'):.0f} ({median(theirs, 'unassigned'):g}) | "
            f"{statistics.median(ratios):.4f} | {max(ratios):.4f} | "
            f"{sum(_not_worse(r) for r in mine)}/{len(mine)} |")
    return "\n".join(lines)


def _not_worse(row: dict) -> bool:
    ours, theirs = row["ours"], row["vroom"]
    return ours["ok"] and (ours["unassigned"], ours["cost"]) <= (
        theirs["unassigned"], theirs["cost"] + 1e-6)


def _line(row: dict) -> str:
    o, v = row["ours"], row["vroom"]
    return (f"{row['name']:<11} seed {row['seed']} jobs {row['jobs']:>3} ship "
            f"{row['shipments']:>2} | ours "
            f"{o['cost']:>9.0f} unass {o['unassigned']} routes {o['routes']:>2} "
            f"{'ok' if o['ok'] else 'FAIL'} {o['seconds']:5.1f}s ({o['engine']}) | vroom "
            f"{v['cost']:>9.0f} unass {v['unassigned']} routes {v['routes']:>2} "
            f"{'ok' if v['ok'] else 'FAIL'} {v['seconds']:5.1f}s | ratio "
            f"{_ratio(row):.4f}")


if __name__ == "__main__":
    raise SystemExit(main())
