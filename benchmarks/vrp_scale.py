"""`gongpei solve` on seeded files in the published layouts at sizes beyond ../shared/bench/vrp,
against PyVRP alone at the same time limit, in the same run.

    .venv/bin/python benchmarks/vrp_scale.py [--limits 10 30] [--only SUBSTRING ...] [--seed 0]
        [--engine auto]

Files (written to a temporary folder, never kept; each from its own seed):
- X-*: CVRPLIB X layout (Uchoa et al. 2017 generator: 1000 x 1000 grid, depot central (C),
  eccentric (E, a corner) or random (R); customers random, clustered (3-8 seeds, exponential
  attraction) or half and half; demands unitary, small (1-10) or large (1-100) variance;
  capacity from an average route size of 3-25), nearest-integer arcs;
- GH-*: Gehring & Homberger VRPTW (Solomon text layout, types 1 and 2: short or long horizon,
  small or large capacity), 200-1,000 customers, a fleet of a quarter of them;
- CMT-*, Golden-*: CVRP with a route length limit (DISTANCE) and SERVICE_TIME in VRPLIB (the
  reader gives one vehicle per customer), unrounded arcs;
- LL-*: Li & Lim PDPTW task files (SINTEF layout) of 200-1,000 tasks.

Per file and limit: `gongpei solve FILE --time-limit S --engine E -o out.json -q` (E from
--engine: auto, the default, or ortools to see OR-Tools alone) under /usr/bin/time -v
(its wall time over the limit, its peak memory, forked race child included), our cost recomputed
from the plan's routes under the file's distance rule, tasks left out, the checker's verdict
(`summary.checker`); the same for PyVRP alone on `ProblemData` built by benchmarks/vrp.py
(`pyvrp_data`), run in its own process the same way. ratio = our cost / PyVRP's. "read" is the
time `routing.io.read_problem` takes on the file in this process.
"""

from __future__ import annotations

import argparse
import json
import math
import re
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))

from vrp import SCALE, Instance, pyvrp_data, pyvrp_routes  # noqa: E402

from routing.io import read_problem  # noqa: E402

GONGPEI = ROOT / ".venv" / "bin" / "gongpei"
PYTHON = ROOT / ".venv" / "bin" / "python"
HORIZON_CVRP = 10**6  # the peer's depot window where the file has none


@dataclass
class Generated:
    """A generated file's text, its suffix and the arrays the peer is built from."""

    text: str
    suffix: str
    inst: Instance
    max_length: float | None = None  # a CMT/Golden route length limit (travel + service)


# --- generators --------------------------------------------------------------------------------


def _clustered(rng: np.random.Generator, n: int, side: float) -> np.ndarray:
    """`n` points attracted to 3-8 uniform seeds, exponential spread (Uchoa et al.'s rule)."""
    seeds = rng.uniform(0, side, (rng.integers(3, 9), 2))
    which = rng.integers(0, len(seeds), n)
    angle = rng.uniform(0, 2 * math.pi, n)
    radius = rng.exponential(side / 25, n)
    points = seeds[which] + np.c_[np.cos(angle), np.sin(angle)] * radius[:, None]
    return np.clip(np.round(points), 0, side)


def _points(rng: np.random.Generator, n: int, side: float, layout: str) -> np.ndarray:
    if layout == "R":
        return np.round(rng.uniform(0, side, (n, 2)))
    if layout == "C":
        return _clustered(rng, n, side)
    half = n // 2
    return np.vstack([_clustered(rng, half, side), np.round(rng.uniform(0, side, (n - half, 2)))])


def uchoa_x(n: int, depot: str, layout: str, demand: str, seed: int) -> Generated:
    """An X-like CVRP instance of `n` customers (see the module docstring)."""
    rng = np.random.default_rng(seed)
    side = 1000.0
    spot = {"C": [500.0, 500.0], "E": [0.0, 0.0], "R": list(np.round(rng.uniform(0, side, 2)))}
    coords = np.vstack([spot[depot], _points(rng, n, side, layout)])
    low, high = {"U": (1, 1), "S": (1, 10), "L": (1, 100)}[demand]
    demands = np.r_[0, rng.integers(low, high + 1, n)]
    route_size = rng.uniform(3, 25)
    capacity = max(int(demands.max()), math.ceil(route_size * demands.sum() / n))
    k = math.ceil(demands.sum() / capacity)
    name = f"X-n{n + 1}-k{k}-{depot}{layout}{demand}"
    text = _vrplib(name, coords, demands, capacity)
    bound = k
    fleet = min(n, max(2 * bound, bound + 2))
    inst = Instance(file=name, kind="CVRP", bks=math.nan, bks_vehicles=0, coords=coords,
                    demand=demands, capacity=capacity, fleet=fleet)  # fmt: skip
    return Generated(text, ".vrp", inst)


def _vrplib(name: str, coords: np.ndarray, demands: np.ndarray, capacity: int,
            extra: str = "") -> str:  # fmt: skip
    lines = [f"NAME : {name}", "COMMENT : generated (benchmarks/vrp_scale.py)", "TYPE : CVRP",
             f"DIMENSION : {len(coords)}", "EDGE_WEIGHT_TYPE : EUC_2D", f"CAPACITY : {capacity}"]
    lines += [extra] if extra else []
    lines.append("NODE_COORD_SECTION")
    lines += [f"{i + 1} {x:g} {y:g}" for i, (x, y) in enumerate(coords)]
    lines.append("DEMAND_SECTION")
    lines += [f"{i + 1} {d}" for i, d in enumerate(demands)]
    lines += ["DEPOT_SECTION", "1", "-1", "EOF"]
    return "\n".join(lines) + "\n"


def length_limited(n: int, style: str, seed: int) -> Generated:
    """A CMT-like (uniform on 0-70, capacity 200, service 10, length 200) or Golden-like
    (rings around a central depot, capacity 550, service 10, length 1000) CVRP of `n`
    customers with DISTANCE and SERVICE_TIME."""
    rng = np.random.default_rng(seed)
    service = 10
    if style == "CMT":
        coords = np.vstack([[35.0, 35.0], np.round(rng.uniform(0, 70, (n, 2)))])
        demands, capacity, limit = np.r_[0, rng.integers(1, 42, n)], 200, 200.0
    else:
        ring = rng.integers(1, 9, n) * 35.0
        angle = rng.uniform(0, 2 * math.pi, n)
        coords = np.vstack([[0.0, 0.0], np.c_[ring * np.cos(angle), ring * np.sin(angle)]])
        coords = np.round(coords, 2)
        demands, capacity, limit = np.r_[0, rng.integers(5, 31, n)], 550, 1000.0
    name = f"{style}-n{n + 1}-L"
    extra = f"DISTANCE : {limit:g}\nSERVICE_TIME : {service}"
    text = _vrplib(name, coords, demands, capacity, extra)
    windows = np.tile([0, HORIZON_CVRP], (n + 1, 1))
    inst = Instance(file=name, kind="VRPTW", bks=math.nan, bks_vehicles=0, coords=coords,
                    demand=demands, capacity=capacity, fleet=n, time_window=windows,
                    service_time=np.r_[0, np.full(n, service)])  # fmt: skip
    return Generated(text, ".vrp", inst, max_length=limit)


def _window_plan(rng: np.random.Generator, coords: np.ndarray, kind: int, service: np.ndarray,
                 horizon: float) -> np.ndarray:  # fmt: skip
    """Solomon-style windows: centred at a time each customer can be reached and left in time,
    widths a few percent of the horizon (type 1) or a quarter of it (type 2)."""
    reach = np.hypot(*(coords - coords[0]).T)
    n = len(coords)
    latest = horizon - reach - service
    centre = rng.uniform(reach, np.maximum(reach, latest))
    share = (0.01, 0.06) if kind == 1 else (0.08, 0.3)
    half = rng.uniform(*share, n) * horizon / 2
    ready = np.maximum(np.ceil(reach), np.floor(centre - half))
    due = np.minimum(np.floor(latest), np.ceil(centre + half))
    windows = np.c_[ready, np.maximum(ready, due)]
    windows[0] = [0, horizon]
    return windows


def homberger(n: int, layout: str, kind: int, seed: int) -> Generated:
    """A Gehring & Homberger-like VRPTW of `n` customers in Solomon's text layout."""
    rng = np.random.default_rng(seed)
    side = 100.0 * math.sqrt(n / 100)
    coords = np.vstack([[side / 2, side / 2], _points(rng, n, side, layout)])
    service = np.r_[0, np.full(n, 90 if layout == "C" else 10)]
    per = {("C", 1): 12, ("C", 2): 36, ("R", 1): 3, ("R", 2): 12, ("RC", 1): 3, ("RC", 2): 12}
    horizon = float(round(per[layout, kind] * side))
    windows = _window_plan(rng, coords, kind, service, horizon)
    demands = np.r_[0, rng.integers(1, 5, n) * 10]
    capacity = 200 if kind == 1 else 700
    fleet = n // 4
    name = f"GH-{layout}{kind}_{n}"
    table = zip(coords, demands, windows, service, strict=True)
    rows = [f"{i:5d} {x:6g} {y:6g} {d:5d} {a:7g} {b:7g} {s:5g}"
            for i, ((x, y), d, (a, b), s) in enumerate(table)]  # fmt: skip
    text = "\n".join([name, "", "VEHICLE", "NUMBER     CAPACITY", f"  {fleet}         {capacity}",
                      "", "CUSTOMER",
                      "CUST NO.  XCOORD.   YCOORD.    DEMAND   READY TIME  DUE DATE   SERVICE TIME",
                      "", *rows]) + "\n"  # fmt: skip
    inst = Instance(file=name, kind="VRPTW", bks=math.nan, bks_vehicles=0, coords=coords,
                    demand=demands, capacity=capacity, fleet=fleet, time_window=windows,
                    service_time=service)  # fmt: skip
    return Generated(text, ".txt", inst)


def li_lim(n: int, layout: str, kind: int, seed: int) -> Generated:
    """A Li & Lim-like PDPTW of `n` tasks (n / 2 pairs): G&H-like points, a pickup's window
    then its delivery's no earlier than the pickup's opening plus service and the direct leg."""
    rng = np.random.default_rng(seed)
    side = 100.0 * math.sqrt(n / 100)
    coords = np.vstack([[side / 2, side / 2], _points(rng, n, side, layout)])
    s = 90.0 if layout == "C" else 10.0
    horizon = float(round({1: 4, 2: 16}[kind] * side * (3 if layout == "C" else 1)))
    width = (0.02, 0.08) if kind == 1 else (0.1, 0.3)
    reach = np.hypot(*(coords - coords[0]).T)
    windows = np.zeros((n + 1, 2))
    windows[0] = [0, horizon]
    demand = np.zeros(n + 1, dtype=np.int64)
    order = rng.permutation(np.arange(1, n + 1))
    pairs = [(int(p), int(d)) for p, d in zip(order[::2], order[1::2], strict=True)]
    for p, d in pairs:
        leg = math.hypot(*(coords[p] - coords[d]))
        slack = horizon - reach[p] - s - leg - s - reach[d]
        if slack < 0:  # too far for the horizon: bring the delivery next to the pickup
            coords[d] = coords[p]
            leg, slack = 0.0, horizon - 2 * reach[p] - 2 * s
        open_p = math.ceil(reach[p]) + rng.uniform(0, 0.5) * slack
        close_p = open_p + rng.uniform(*width) * horizon
        open_d = open_p + s + math.ceil(leg) + rng.uniform(0, 0.3) * slack
        open_d = min(open_d, horizon - s - math.ceil(reach[d]))
        close_d = min(open_d + rng.uniform(*width) * horizon, horizon - s - reach[d])
        windows[p] = [math.floor(open_p), math.floor(min(close_p, close_d))]
        windows[d] = [math.floor(open_d), math.floor(close_d)]
        demand[p] = rng.integers(1, 5) * 10
        demand[d] = -demand[p]
    capacity = 200 if kind == 1 else 700
    fleet = n // 4
    sibling = {p: (0, d) for p, d in pairs} | {d: (p, 0) for p, d in pairs} | {0: (0, 0)}
    rows = [f"{fleet}\t{capacity}\t1"]
    rows += [f"{i}\t{x:g}\t{y:g}\t{demand[i]}\t{windows[i, 0]:g}\t{windows[i, 1]:g}\t"
             f"{0 if i == 0 else s:g}\t{sibling[i][0]}\t{sibling[i][1]}"
             for i, (x, y) in enumerate(coords)]  # fmt: skip
    name = f"LL-{layout}{kind}_{n}"
    inst = Instance(file=name, kind="PDPTW", bks=math.nan, bks_vehicles=0, coords=coords,
                    demand=demand, capacity=capacity, fleet=fleet,
                    time_window=windows.astype(np.int64), service_time=np.r_[0, np.full(n, s)],
                    pairs=pairs)  # fmt: skip
    return Generated("\n".join(rows) + "\n", ".txt", inst)


def files(seed: int) -> dict[str, Callable[[], Generated]]:
    """Every file of the run, by a short name, each from its own seed."""
    makers: list[Callable[[], Generated]] = [
        lambda: uchoa_x(300, "R", "C", "L", seed + 1),
        lambda: uchoa_x(500, "C", "RC", "U", seed + 2),
        lambda: uchoa_x(1000, "E", "R", "S", seed + 3),
        lambda: homberger(200, "C", 1, seed + 4),
        lambda: homberger(400, "R", 2, seed + 5),
        lambda: homberger(1000, "RC", 1, seed + 6),
        lambda: length_limited(199, "CMT", seed + 7),
        lambda: length_limited(480, "Golden", seed + 8),
        lambda: li_lim(200, "R", 1, seed + 9),
        lambda: li_lim(400, "C", 2, seed + 10),
        lambda: li_lim(1000, "RC", 1, seed + 11),
    ]
    return {maker().inst.file: maker for maker in makers}


# --- runs --------------------------------------------------------------------------------------


@dataclass
class Run:
    """One solver's run on one file: cost (None: not every task served), tasks left out, wall
    seconds, peak memory (MB), checker verdict and the engine's own words."""

    cost: float | None
    left_out: int
    wall: float
    peak_mb: float
    verdict: str
    note: str = ""
    solve_s: float = math.nan  # ours: the solve's own time (`computing_times`), CLI start excluded


def timed(command: list[str], timeout: float) -> tuple[subprocess.CompletedProcess, float, float]:
    """Run under /usr/bin/time -v: the process, its wall seconds and peak memory in MB."""
    began = time.monotonic()
    done = subprocess.run(["/usr/bin/time", "-v", *command], capture_output=True, text=True,
                          timeout=timeout, check=False)  # fmt: skip
    wall = time.monotonic() - began
    peak = re.search(r"Maximum resident set size \(kbytes\): (\d+)", done.stderr)
    return done, wall, (int(peak.group(1)) / 1024 if peak else math.nan)


def run_ours(path: Path, gen: Generated, limit: float, out: Path, engine: str = "auto") -> Run:
    command = [str(GONGPEI), "solve", str(path), "--time-limit", str(limit), "--engine", engine,
               "-o", str(out), "-q"]  # fmt: skip
    done, wall, peak = timed(command, timeout=10 * limit + 120)
    if not out.exists():
        tail = done.stderr.strip().splitlines()[-3:]
        return Run(None, gen.inst.tasks, wall, peak, "crash", " / ".join(tail))
    plan = json.loads(out.read_text())
    routes = [[s["location_index"] for s in r["steps"] if s["type"] in ("job", "pickup",
               "delivery")] for r in plan["routes"]]  # fmt: skip
    left = _left_out(gen, routes)
    checker = plan["summary"]["checker"]
    verdict = "ok" if checker["ok"] else f"FAIL: {checker['violations'][:1]}"
    served = sorted(i for r in routes for i in r) == list(range(1, gen.inst.tasks + 1))
    cost = gen.inst.cost(routes) if served else None
    solving = plan["summary"]["computing_times"]["solving"] / 1000
    note = f"solve {solving:.1f}s; {plan['summary']['engine_reason']}"
    return Run(cost, left, wall, peak, verdict, note, solving)


def run_peer(name: str, limit: float, seed: int) -> Run:
    """PyVRP alone in its own process (`--peer`), timed and measured like ours."""
    command = [str(PYTHON), str(Path(__file__).resolve()), "--peer", name,
               "--limits", str(limit), "--seed", str(seed)]  # fmt: skip
    done, wall, peak = timed(command, timeout=10 * limit + 120)
    try:
        routes = json.loads(done.stdout.strip().splitlines()[-1])
    except (IndexError, json.JSONDecodeError):
        return Run(None, -1, wall, peak, "crash", done.stderr.strip()[-200:])
    return _peer_outcome(files(seed)[name](), routes, wall, peak)


def _left_out(gen: Generated, routes: list[list[int]]) -> int:
    """Tasks not served: customers, or pickup-and-delivery pairs."""
    missing = gen.inst.tasks - len({i for r in routes for i in r})
    return missing // 2 if gen.inst.pairs else missing


def _peer_outcome(gen: Generated, routes: list[list[int]], wall: float, peak: float) -> Run:
    left = _left_out(gen, routes)
    cost = gen.inst.cost(routes) if left == 0 and routes else None
    verdict = "feasible" if routes else "no feasible plan"
    return Run(cost, left, wall, peak, verdict)


def peer_routes(gen: Generated, limit: float, seed: int) -> list[list[int]]:
    """PyVRP alone on benchmarks/vrp.py's ProblemData (a CMT/Golden length limit as the
    vehicle type's shift duration: travel and service, scaled as its times are)."""
    import pyvrp
    from pyvrp.stop import MaxRuntime

    data = pyvrp_data(gen.inst)
    if gen.max_length is not None:
        vehicles = [v.replace(shift_duration=int(gen.max_length * SCALE))
                    for v in data.vehicle_types()]  # fmt: skip
        data = data.replace(vehicle_types=vehicles)
    result = pyvrp.solve(data, stop=MaxRuntime(limit), seed=seed, display=False)
    return pyvrp_routes(data, result.best)


def _fmt(value: float | None, digits: int = 1) -> str:
    return "n/a" if value is None or math.isnan(value) else f"{value:.{digits}f}"


def row(name: str, tasks: int, limit: float, read_s: float, ours: Run, peer: Run) -> str:
    ratio = (None if ours.cost is None or peer.cost is None else ours.cost / peer.cost)
    return (f"| {name} | {tasks} | {limit:g} | {_fmt(ours.cost)} | {_fmt(peer.cost)} | "
            f"{_fmt(ratio, 4)} | {ours.left_out} / {peer.left_out} | "
            f"{ours.wall / limit:.2f} ({ours.solve_s / limit:.2f}) / {peer.wall / limit:.2f} | "
            f"{ours.peak_mb:.0f} / {peer.peak_mb:.0f} | {read_s:.2f} | {ours.verdict} |"
            )  # fmt: skip


HEAD = ("| file | tasks | limit s | ours | PyVRP | ratio | left out (ours / PyVRP) | "
        "wall/limit (ours (solve) / PyVRP) | peak MB (ours / PyVRP) | read s | checker |\n"
        "|---|---|---|---|---|---|---|---|---|---|---|")  # fmt: skip


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--limits", nargs="*", type=float, default=[10.0, 30.0])
    parser.add_argument("--only", nargs="*", default=[], help="file name substrings")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--engine", default="auto", help="ours: gongpei solve's --engine")
    parser.add_argument("--peer", help=argparse.SUPPRESS)  # internal: PyVRP alone on one file
    args = parser.parse_args(argv)
    if args.peer:
        gen = files(args.seed)[args.peer]()
        print(json.dumps(peer_routes(gen, args.limits[0], args.seed)))
        return 0
    chosen = {n: m for n, m in files(args.seed).items()
              if not args.only or any(o in n for o in args.only)}  # fmt: skip
    lines, notes = [], []
    with tempfile.TemporaryDirectory() as folder:
        for name, maker in chosen.items():
            gen = maker()
            path = Path(folder) / f"{name}{gen.suffix}"
            path.write_text(gen.text)
            began = time.perf_counter()
            read_problem(path)
            read_s = time.perf_counter() - began
            for limit in args.limits:
                out = Path(folder) / f"{name}-{limit:g}.json"
                ours = run_ours(path, gen, limit, out, args.engine)
                peer = run_peer(name, limit, args.seed)
                lines.append(row(name, gen.inst.tasks, limit, read_s, ours, peer))
                notes.append(f"- {name} @ {limit:g}s: {ours.note}")
                print(lines[-1], flush=True)
    print()
    print(HEAD)
    print("\n".join(lines))
    print("\n".join(notes))
    return 0


if __name__ == "__main__":
    sys.exit(main())
