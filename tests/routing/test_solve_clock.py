"""A solve's time limit is search time: the engines are imported before its clock starts."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

PROBE = """
import json, sys, time
sys.path.insert(0, sys.argv[2])
import routing.solve as rs
from routing_helpers import line_matrix, line_model
m = line_model(2)
m.set_matrices("van", line_matrix(range(2)), line_matrix(range(2)))
m.add_vehicle("v1", start="hub", end="hub")
m.add_job("j1", location=1)
seen = []
clock = time.monotonic
def first_tick():
    seen.append(sorted(n for n in sys.modules if n.startswith("routing.engines.")))
    return clock()
rs.time = type("T", (), {"monotonic": staticmethod(first_tick)})
rs.solve(m.build(), engine=sys.argv[1], time_limit_s=0.2, race=False)
print(json.dumps(seen[0]))
"""


def test_the_engines_are_loaded_before_the_limit_is_counted() -> None:
    """A first solve in a process (every `gongpei solve`, whose CLI imports no engine up
    front) spent about 0.2 s of its limit importing OR-Tools and PyVRP."""
    for engine, loaded in (("auto", ["ortools", "pyvrp"]), ("ortools", ["ortools"])):
        done = subprocess.run(
            [sys.executable, "-c", PROBE, engine, str(Path(__file__).parent)],
            capture_output=True,
            text=True,
            check=True,
        )
        modules = set(json.loads(done.stdout.splitlines()[-1]))
        assert {f"routing.engines.{name}_engine" for name in loaded} <= modules, engine
