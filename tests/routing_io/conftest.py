"""Small hand-made benchmark files (so reader tests run without ../shared) and the shared ones."""

from pathlib import Path

import pytest

# Depot at the origin; customers at (3, 4), (3, -4), (-6, 0), (1, 1): arcs to the depot are
# 5, 5, 6 and sqrt(2); between 1 and 2 it is 8, between 3 and 4 sqrt(50).
TINY_VRPLIB = """NAME : tiny-n5
TYPE : CVRP
DIMENSION : 5
EDGE_WEIGHT_TYPE : EUC_2D
CAPACITY : 10
NODE_COORD_SECTION
1 0 0
2 3 4
3 3 -4
4 -6 0
5 1 1
DEMAND_SECTION
1 0
2 4
3 5
4 6
5 3
DEPOT_SECTION
1
-1
EOF
"""

# Rounded arcs: 0-1-2-0 = 5 + 8 + 5 = 18; 0-3-4-0 = 6 + round(7.07) + round(1.41) = 6 + 7 + 1.
TINY_SOL = """Route #1: 1 2
Route #2: 3 4
Cost 32
"""

TINY_SOLOMON = """TINY

VEHICLE
NUMBER     CAPACITY
  2         10

CUSTOMER
CUST NO.  XCOORD.   YCOORD.    DEMAND   READY TIME  DUE DATE   SERVICE   TIME

    0      0         0          0          0        100          0
    1      3         4          4          0         20          5
    2      3        -4          5         10         50          5
    3     -6          0          6          0         90          5
"""

TINY_LILIM = """2\t10\t1
0\t0\t0\t0\t0\t100\t0\t0\t0
1\t3\t4\t4\t0\t50\t5\t0\t2
2\t3\t-4\t-4\t0\t80\t5\t1\t0
3\t-6\t0\t3\t0\t90\t5\t0\t4
4\t1\t1\t-3\t0\t95\t5\t3\t0
"""


@pytest.fixture
def tiny_files(tmp_path: Path) -> dict[str, Path]:
    """Write the tiny instances to tmp_path and return their paths by format."""
    files = {
        "vrplib": ("tiny.vrp", TINY_VRPLIB),
        "sol": ("tiny.sol", TINY_SOL),
        "solomon": ("tiny.txt", TINY_SOLOMON),
        "lilim": ("tiny_pd.txt", TINY_LILIM),
    }
    out = {}
    for kind, (name, text) in files.items():
        out[kind] = tmp_path / name
        out[kind].write_text(text)
    return out


@pytest.fixture(scope="session")
def vrp_bench(shared_dir: Path) -> Path:
    """../shared/bench/vrp (the test skips where ../shared is absent)."""
    return shared_dir / "bench" / "vrp"
