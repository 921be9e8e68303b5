"""p-median on OR-Library-sized files (pmed21-40's sizes): Benders decomposition against the
radius MIP, in one run.

Each instance is generated as Beasley made pmed1-40 (a random spanning tree, then random
edges up to n^2 / 50 in all, costs 1-100, the last copy of an edge winning), written as a pmed
file and read back by ``read_pmed``; then solved twice with the same time limit: by the current
path (``solver="auto"``: Benders decomposition) and by the old one (``solver="scip"``: the
radius MIP on SCIP, with the Lagrangian bound beside it past 15,000 rows, the default before).
Prints objective, bound, proven gap and seconds of each.

    .venv/bin/python benchmarks/pmedian_orlib.py [--sizes 500,700,900] [--only 5,10,n/10]
        [--time-limit 60] [--seed 1] [--skip-old]
    .venv/bin/python benchmarks/pmedian_orlib.py --files ../shared/bench/siting/pmed/pmed*.txt
"""

from __future__ import annotations

import argparse
import os
import random
import tempfile
import time
from pathlib import Path

from routing.siting import SitingModel, solve
from routing.siting.orlib import read_pmed

MEDIANS = ("5", "10", "n/10", "n/5", "n/3")


def pmed_text(n: int, p: int, seed: int) -> str:
    """A Beasley-style pmed file: n vertices, n^2 / 50 edges (a random tree first, so it is
    connected), costs 1-100 (the logic of the generator the files were first made with)."""
    rng = random.Random(seed)
    edges = []
    order = list(range(1, n + 1))
    rng.shuffle(order)
    for k in range(1, n):
        edges.append((order[k], order[rng.randrange(k)]))
    while len(edges) < n * n // 50:
        i, j = rng.randint(1, n), rng.randint(1, n)
        if i != j:
            edges.append((i, j))
    rng.shuffle(edges)
    lines = [f"{n} {len(edges)} {p}"] + [f"{i} {j} {rng.randint(1, 100)}" for i, j in edges]
    return "\n".join(lines) + "\n"


def medians(n: int, which: str) -> int:
    """p for one of ``MEDIANS``: a number, or n divided by one."""
    return n // int(which[2:]) if which.startswith("n/") else int(which)


def run(inst, p: int, *, time_limit: float, old: bool) -> dict:
    """One solve of the default p-median, with its wall time: ``solver="auto"`` (Benders), or
    where ``old`` SCIP named, which keeps the radius MIP (the default before)."""
    t0 = time.perf_counter()
    model = SitingModel("pmedian", p=p)
    plan = solve(inst, model, solver="scip" if old else "auto", time_limit_s=time_limit)
    seconds = time.perf_counter() - t0
    return {"obj": plan.objective, "bound": plan.bound, "gap": plan.gap, "s": seconds}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--sizes", default="500,700,900", help="vertex counts")
    ap.add_argument("--only", default=",".join(MEDIANS), help="p values: numbers or n/k")
    ap.add_argument("--time-limit", type=float, default=60.0)
    ap.add_argument("--seed", type=int, default=1, help="instance seed (each adds n + p)")
    ap.add_argument("--skip-old", action="store_true", help="the Benders path only")
    ap.add_argument("--files", nargs="*", help="pmed files to run instead (e.g. OR-Library's)")
    args = ap.parse_args()
    print(f"load average {os.getloadavg()[0]:.2f}; time limit {args.time_limit:g} s")
    print(
        "  n    p | benders obj     bound    gap %      s | radius MIP obj  bound    gap %      s"
    )
    with tempfile.TemporaryDirectory() as tmp:
        for path in args.files or _generated(Path(tmp), args):
            pm = read_pmed(path)
            inst, p, limit = pm.instance, pm.p, args.time_limit
            new = run(inst, p, time_limit=limit, old=False)
            row = f"{inst.n_demand:>4} {p:>4} | " + _cells(new)
            if not args.skip_old:
                row += " | " + _cells(run(inst, p, time_limit=limit, old=True))
            print(row, flush=True)


def _generated(tmp: Path, args):
    """The generated instances' files, one at a time (``--sizes`` x ``--only``)."""
    for n in map(int, args.sizes.split(",")):
        for which in args.only.split(","):
            p = medians(n, which)
            path = tmp / f"n{n}p{p}.txt"
            path.write_text(pmed_text(n, p, args.seed + n + p))
            yield path


def _cells(r: dict) -> str:
    return f"{r['obj']:>11.0f} {r['bound']:>9.0f} {100 * r['gap']:>7.3f} {r['s']:>6.1f}"


if __name__ == "__main__":
    main()
