"""A benchmark text file saved with a UTF-8 byte order mark (Windows Notepad's) reads as the
same file without one: the mark is no part of the first value."""

from __future__ import annotations

from pathlib import Path

import pytest

from routing.io import read_problem

LILIM = """2\t10\t1
0\t0\t0\t0\t0\t100\t0\t0\t0
1\t3\t4\t4\t0\t50\t5\t0\t2
2\t3\t-4\t-4\t0\t80\t5\t1\t0
"""
VRPLIB = """NAME : t
TYPE : CVRP
DIMENSION : 3
EDGE_WEIGHT_TYPE : EUC_2D
CAPACITY : 10
NODE_COORD_SECTION
1 0 0
2 3 4
3 -3 4
DEMAND_SECTION
1 0
2 4
3 4
DEPOT_SECTION
1
-1
EOF
"""
SOLOMON = """R1
VEHICLE
NUMBER     CAPACITY
  2         10
CUSTOMER
CUST NO.  XCOORD.   YCOORD.    DEMAND   READY TIME  DUE DATE   SERVICE   TIME
    0      0          0          0          0        100          0
    1      3          4          4          0         50          5
"""


@pytest.mark.parametrize(
    ("name", "fmt", "text"),
    [("lc.txt", "lilim", LILIM), ("t.vrp", "vrplib", VRPLIB), ("R1.txt", "solomon", SOLOMON)],
)
def test_a_benchmark_file_reads_the_same_after_a_byte_order_mark(
    tmp_path: Path, name: str, fmt: str, text: str
) -> None:
    plain, marked = tmp_path / "plain" / name, tmp_path / "bom" / name
    for path, head in ((plain, b""), (marked, b"\xef\xbb\xbf")):
        path.parent.mkdir()
        path.write_bytes(head + text.encode())
    assert read_problem(marked, format=fmt) == read_problem(plain, format=fmt)
