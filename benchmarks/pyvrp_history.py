"""Which late-acceptance history suits PyVRP runs of seconds: a deterministic comparison.

PyVRP's iterated local search accepts a candidate when it beats the solution of `history_length`
iterations ago (default 300). The project's PyVRP engine uses a shorter history for short runs;
this script measures why. Each instance is solved with every history at a fixed iteration count
(6000 for CVRPLIB X, 8000 for Solomon: about what PyVRP does in 10 s on this machine, times
`--budget`), so the figures do not depend on how busy the machine is and repeat exactly.

    .venv/bin/python benchmarks/pyvrp_history.py [--budget 1.0] [--seeds 0 1] [--histories 300 100]
"""

from __future__ import annotations

import argparse
import statistics
import sys

import pyvrp
from pyvrp.IteratedLocalSearch import IteratedLocalSearchParams
from pyvrp.stop import MaxIterations
from vrp import load_instances, pyvrp_data, pyvrp_routes

INSTANCES = ["X-n101", "X-n157", "X-n200", "R101", "RC101", "RC201"]
ITERATIONS = {"CVRP": 6000, "VRPTW": 8000}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--budget", type=float, default=1.0, help="fraction of the iterations")
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1])
    parser.add_argument("--histories", type=int, nargs="+", default=[300, 100])
    args = parser.parse_args(argv)

    instances = load_instances(INSTANCES)
    print(f"| history | {' | '.join(i.file for i in instances)} | mean gap % |")
    print("|---" * (len(instances) + 2) + "|")
    for history in args.histories:
        params = pyvrp.SolveParams(ils=IteratedLocalSearchParams(history_length=history))
        cells, gaps = [], []
        for inst in instances:
            data = pyvrp_data(inst)
            stop = int(ITERATIONS[inst.kind] * args.budget)
            found = []
            for seed in args.seeds:
                result = pyvrp.solve(data, stop=MaxIterations(stop), seed=seed, params=params)
                cost = round(inst.cost(pyvrp_routes(data, result.best)), 2)
                found.append(100.0 * (cost - inst.bks) / inst.bks)
            gaps += found
            cells.append(" / ".join(f"{g:.2f}" for g in found))
        print(f"| {history} | {' | '.join(cells)} | {statistics.mean(gaps):.3f} |", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
