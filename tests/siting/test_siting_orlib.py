"""OR-Library readers: hand-made files, Beasley's duplicate-edge rule, malformed input, optima."""

import numpy as np
import pytest

from routing.siting import SitingModel, solve
from routing.siting.errors import OrlibFormatError
from routing.siting.orlib import read_cap, read_pmed

# A path 1-2-3-4 with a duplicate edge (1,2): the last occurrence (cost 1) wins.
PMED = """ 4 4 2
 1 2 9
 2 3 1
 3 4 5
 2 1 1
"""

CAP = """ 2 3
 10 100.
 10 50.
 4
 8 40
 6
 12 6
 5
 10 20.
"""


def test_pmed_shortest_paths_and_last_duplicate_wins(tmp_path):
    f = tmp_path / "pmed_tiny.txt"
    f.write_text(PMED)
    pm = read_pmed(f)
    dist = pm.instance.reach.toarray()
    assert pm.p == 2
    assert dist[0].tolist() == [0, 1, 2, 7]
    assert dist[3].tolist() == [7, 6, 5, 0]
    assert pm.instance.reach.nnz == 16  # every pair, zeros on the diagonal kept
    plan = solve(pm.instance, SitingModel("pmedian", p=pm.p))
    # distances 1-2: 1, 2-3: 1, 3-4: 5; medians {2, 4} cost 1 + 0 + 1 + 0 = 2, every other pair more
    assert plan.objective == 2.0
    assert plan.optimal
    assert plan.to_dict()["open_site_ids"] == ["2", "4"]


def test_cap_reader_and_split_demand_optimum(tmp_path):
    f = tmp_path / "cap_tiny.txt"
    f.write_text(CAP)
    inst = read_cap(f)
    assert inst.capacity.tolist() == [10, 10]
    assert inst.fixed_cost.tolist() == [100, 50]
    assert inst.weight.tolist() == [4, 6, 5]
    # per-unit cost = cost of all demand / demand
    assert inst.reach.toarray()[0].tolist() == [2.0, 10.0]
    plan = solve(inst, SitingModel("facility", capacitated=True))
    # total demand 15 > one warehouse's 10: both open (150); customer 2 to warehouse 2 (6),
    # customers 1 and 3 to warehouse 1 (8 + 10, 9 of its 10 units): 174. Recomputed from the plan:
    d = plan.to_dict()
    served = np.zeros(3)
    cost = 0.0
    unit = inst.reach.toarray()
    for a in d["assignment"]:
        i, j = int(a["demand"]) - 1, int(a["site"]) - 1
        served[i] += a["parcels"]
        cost += a["parcels"] * unit[i, j]
    cost += sum(inst.fixed_cost[int(s) - 1] for s in d["open_site_ids"])
    assert served.tolist() == pytest.approx([4, 6, 5])
    assert cost == pytest.approx(plan.objective)
    assert plan.objective == pytest.approx(174.0)
    assert plan.optimal


@pytest.mark.parametrize(
    ("text", "needle"),
    [
        ("", "empty"),
        (" 4 4\n", "expected 3 numbers"),
        (" 4 3 2\n 1 2 3\n", "only 1 lines follow"),
        (" 4 1 2\n 1 9 3\n", "outside vertices 1..4"),
        (" 3 1 1\n 1 2 3\n", "disconnected"),
        # a cost of nan or inf was read as a disconnected graph
        (" 3 2 1\n 1 2 nan\n 2 3 1\n", r"line 2: edge \(1, 2\) cost must be a finite number"),
        (" 3 2 1\n 1 2 3\n 2 3 inf\n", r"line 3: edge \(2, 3\) cost must be .* got inf"),
        (" 3 2 1\n 1 2 -3\n 2 3 1\n", r"line 2: edge \(1, 2\) cost must be .* got -3"),
        (" 3 2 1\n 1 4 3\n 2 3 1\n", r"line 2: edge \(1, 4\) is outside vertices 1..3"),
        (" 3 2 5\n 1 2 3\n 2 3 1\n", "1 <= p <= n"),
        (" 3 2 1\n 1 2 x\n 2 3 1\n", "line 2"),
        # lines past the header's edge count were ignored, out-of-range ones included
        (PMED + " 1 9 3\n", "line 6: the header says 4 edges, but more lines follow"),
        (" 3 2 1\n\n 1 2 3\n 2 3 1\n 1 3 1\n", "line 5: the header says 2 edges"),
        # a fractional p was cut to a whole one
        (" 4 3 2.5\n 1 2 1\n 2 3 1\n 3 4 5\n", "line 1: n, m and p must be whole numbers"),
        (" 3 2 1\n 1 2.5 3\n 2 3 1\n", "line 2: vertices must be whole numbers, got 1 2.5"),
    ],
)
def test_malformed_pmed(tmp_path, text, needle):
    f = tmp_path / "bad.txt"
    f.write_text(text)
    with pytest.raises(OrlibFormatError, match=needle):
        read_pmed(f)


@pytest.mark.parametrize(
    ("text", "needle"),
    [
        (" 2 3\n 10 100.\n", "file ends where facility 2 capacity"),
        (CAP + " 7\n", "unexpected extra value '7'"),
        (CAP.replace(" 10 50.", " 10 abc"), "fixed cost must be a number"),
        (CAP.replace(" 6\n", " 0\n", 1), "line 6: customer 2 demand must be a finite number > 0"),
        # nan and inf were refused without a line, as "reach distances must be finite" or an
        # instance's "capacity must be >= 0, got nan"
        (CAP.replace(" 8 40", " 8 inf"), "line 5: customer 1 cost from facility 2 must be a"),
        (CAP.replace(" 10 50.", " nan 50."), "line 3: facility 2 capacity must be a finite"),
        (CAP.replace(" 6\n", " -6\n", 1), r"line 6: customer 2 demand must be .* got '-6'"),
        (CAP.replace(" 2 3\n", " 2 3.5\n", 1), "line 1: m and n must be whole numbers"),
    ],
)
def test_malformed_cap(tmp_path, text, needle):
    f = tmp_path / "bad.txt"
    f.write_text(text)
    with pytest.raises(OrlibFormatError, match=needle):
        read_cap(f)


def test_missing_file(tmp_path):
    with pytest.raises(OrlibFormatError, match="file not found"):
        read_pmed(tmp_path / "nope.txt")
    with pytest.raises(OrlibFormatError, match="cannot read it"):
        read_cap(tmp_path)  # a folder: IsADirectoryError before


@pytest.mark.shared
def test_shared_pmed1_and_cap41_optima(shared_dir):
    pm = read_pmed(shared_dir / "bench/siting/pmed/pmed1.txt")
    plan = solve(pm.instance, SitingModel("pmedian", p=pm.p), time_limit_s=60)
    assert plan.optimal and plan.objective == 5819
    inst = read_cap(shared_dir / "bench/siting/cap/cap41.txt")
    plan = solve(inst, SitingModel("facility", capacitated=True), time_limit_s=60)
    assert plan.optimal and plan.objective == pytest.approx(1040444.375, rel=1e-9)
