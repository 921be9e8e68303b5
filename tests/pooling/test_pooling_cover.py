"""The split values every coalition at its best arrangement (the cover of the cost game), not
only at pooling all its firms: a hand-made game where one firm pools badly, worked by hand."""

from itertools import combinations
from types import SimpleNamespace

import numpy as np
import pytest

from routing.pooling.allocation import least_core
from routing.pooling.compare import (
    FirmFigures,
    SolveSettings,
    _split,
    _split_json,
    describe_arrangement,
)
from routing.pooling.cover import exact_cover, seen_cover
from routing.pooling.figures import Figures
from routing.pooling.shapley import exact_shapley

#: a and b save pooling together; c pools badly: with it every pool costs what its firms do
#: alone (a coalition's cost is already the cheaper of pooling and alone), and all three
#: pooled cost 30, more than a+b pooled (12) and c alone (10).
BAD_POOLER = {
    frozenset("a"): 10.0,
    frozenset("b"): 10.0,
    frozenset("c"): 10.0,
    frozenset("ab"): 12.0,
    frozenset("ac"): 20.0,
    frozenset("bc"): 20.0,
    frozenset("abc"): 30.0,
}


def test_the_cover_of_the_bad_pooler_game_by_hand():
    cover = exact_cover(list("abc"), BAD_POOLER)
    best = cover(frozenset("abc"))
    assert best.cost == 22.0  # a+b pooled (12), c alone (10): not the 30 of all pooled
    assert sorted(map(sorted, best.groups)) == [["a", "b"], ["c"]]
    assert cover(frozenset("ab")).groups == (frozenset("ab"),)
    assert cover(frozenset("ac")).cost == 20.0
    assert cover(frozenset()).cost == 0.0


def test_shapley_of_the_cover_charges_no_firm_more_than_alone():
    # By hand over the six orders: c's marginal is 10 in each (22 - 12, 20 - 10, 10), a and b
    # share the rest, 6 each. The game as it was (all three at 30) charged c 76/6 = 12.67.
    cover = exact_cover(list("abc"), BAD_POOLER)
    shares = exact_shapley(list("abc"), lambda s: cover(s).cost)
    assert shares == pytest.approx({"a": 6.0, "b": 6.0, "c": 10.0})
    old = exact_shapley(list("abc"), BAD_POOLER.__getitem__)
    assert old == pytest.approx({"a": 52 / 6, "b": 52 / 6, "c": 76 / 6})


def test_the_split_of_the_bad_pooler_game_is_of_its_best_arrangement():
    solver = SimpleNamespace(
        settings=SolveSettings(),
        coalition_cost=lambda kind, s: BAD_POOLER[s],
        coalition_figures=lambda kind, s: Figures(cost=BAD_POOLER[s], vehicle_km=len(s)),
        # a coalition with c costs what its firms do alone: it delivers alone, not pooled
        coalition_pools=lambda kind, s: "c" not in s,
        pooled_by_firm=lambda kind, s: FirmFigures(),
        solo=lambda firm: SimpleNamespace(figures=Figures(cost=10.0, vehicle_km=1.0)),
    )
    split = _split(solver, "pooled", dict.fromkeys("abc", 10.0), dict.fromkeys("abc", 1.0))
    assert split.cost == 22.0 and not split.all_pooled
    assert describe_arrangement(split.arrangement) == "a+b pooled, c on its own"
    assert split.shapley.shares == pytest.approx({"a": 6.0, "b": 6.0, "c": 10.0})
    assert split.shapley.coalitions[frozenset("abc")] == 22.0
    # each group's cost among its own firms: c, alone, pays its own plan, not 22 / 3 (which
    # had a+b pay 14.67 for a pool costing them 12)
    assert split.by_standalone == pytest.approx({"a": 6.0, "b": 6.0, "c": 10.0})
    assert split.by_parcels == pytest.approx({"a": 6.0, "b": 6.0, "c": 10.0})
    # stable: a+b pay 12, what they cost pooled; c pays what it costs alone
    assert not split.blocking and not split.least_core.core_is_empty
    assert split.least_core.shares["c"] == pytest.approx(10.0)
    # vehicle-km of the same arrangements: a+b's 2 km pooled, c's own 1 km
    assert sum(split.figure_shares["vehicle_km"].values()) == pytest.approx(3.0)
    assert _split_json(split)["cost"] == 22.0


def test_a_cover_may_split_a_coalition_into_two_pools():
    costs = {frozenset(s): 10.0 * len(s) for n in (1, 2, 3) for s in combinations("abcd", n)}
    costs |= {frozenset("ab"): 12.0, frozenset("cd"): 12.0, frozenset("abcd"): 40.0}
    best = exact_cover(list("abcd"), costs)(frozenset("abcd"))
    assert best.cost == 24.0 and set(best.groups) == {frozenset("ab"), frozenset("cd")}
    # sampled splits know some coalitions only: one known group, the others alone
    seen = seen_cover(list("abcd"), costs)(frozenset("abcd"))
    assert seen.cost == 32.0 and {frozenset("ab"), frozenset("cd")} & set(seen.groups)


def test_a_sampled_cover_uses_the_coalitions_seen_with_the_rest_alone():
    known = {k: v for k, v in BAD_POOLER.items() if k != frozenset("bc")}
    cover = seen_cover(list("abc"), known)
    assert cover(frozenset("abc")).cost == 22.0
    assert cover(frozenset("bc")).cost == 20.0  # not seen: each alone
    assert cover(frozenset("ab")).cost == 12.0
    with pytest.raises(Exception, match="on its own is missing"):
        seen_cover(list("abc"), {frozenset("ab"): 1.0})


def _partitions(items):
    if not items:
        yield []
        return
    first, rest = items[0], items[1:]
    for smaller in _partitions(rest):
        yield [[first], *smaller]
        for k in range(len(smaller)):
            yield [*smaller[:k], [first, *smaller[k]], *smaller[k + 1 :]]


def test_the_cover_is_the_cheapest_partition_and_shares_stay_within_alone():
    rng = np.random.default_rng(7)
    for _ in range(25):
        players = list("abcde"[: rng.integers(2, 6)])
        costs = {
            frozenset(s): float(rng.uniform(5, 15) * len(s) ** rng.uniform(0.5, 1.3))
            for n in range(1, len(players) + 1)
            for s in combinations(players, n)
        }
        cover = exact_cover(players, costs)
        for coalition in costs:
            brute = min(
                sum(costs[frozenset(part)] for part in partition)
                for partition in _partitions(sorted(coalition))
            )
            found = cover(coalition)
            assert found.cost == pytest.approx(brute)
            assert sum(costs[g] for g in found.groups) == pytest.approx(found.cost)
            assert frozenset().union(*found.groups) == coalition
        for covered in (cover, seen_cover(players, costs)):
            shares = exact_shapley(players, lambda s, covered=covered: covered(s).cost)
            for p in players:
                assert shares[p] <= costs[frozenset(p)] + 1e-9
        game = {s: cover(s).cost for s in costs}
        caps = {p: game[frozenset(p)] for p in players}
        found = least_core(players, game, caps=caps)
        for p in players:
            assert found.shares[p] <= caps[p] + 1e-6


def test_the_least_core_of_a_cover_charges_no_firm_more_than_alone():
    # An empty core (found by search): without caps, the LP spreads the overpayment so that d
    # pays 17.5 against its 15 alone; with each firm's own cost as its cap it never does.
    costs = {"a": 16, "b": 10, "c": 13, "d": 15, "ab": 23, "ac": 8, "ad": 26, "bc": 23,
             "bd": 13, "cd": 27, "abc": 8, "abd": 9, "acd": 23, "bcd": 19, "abcd": 21}  # fmt: skip
    game = {frozenset(k): float(v) for k, v in costs.items()}
    assert exact_cover(list("abcd"), game)(frozenset("abcd")).cost == 21.0  # a cover already
    uncapped = least_core(list("abcd"), game)
    assert uncapped.shares["d"] > 15.0 + 1e-6
    caps = {p: game[frozenset(p)] for p in "abcd"}
    capped = least_core(list("abcd"), game, caps=caps)
    assert capped.core_is_empty and sum(capped.shares.values()) == pytest.approx(21.0)
    assert all(capped.shares[p] <= caps[p] + 1e-6 for p in "abcd")
