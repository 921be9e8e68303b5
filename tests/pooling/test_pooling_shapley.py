"""Shapley value and splits on cost games whose answer is known by hand."""

import math

import pytest

from routing.pooling.allocation import LeastCore, core_violations, least_core, proportional_split
from routing.pooling.errors import PoolingError
from routing.pooling.shapley import exact_shapley, sampled_shapley, shapley


def airport(costs: dict[str, float]):
    """The airport game: a coalition pays for the longest runway any member needs."""
    return lambda s: max((costs[p] for p in s), default=0.0)


def airport_shapley(costs: dict[str, float]) -> dict[str, float]:
    """Littlechild and Owen's closed form: each runway segment is split among those using it."""
    order = sorted(costs, key=costs.get)
    n, out, paid, prev = len(order), {}, 0.0, 0.0
    for k, p in enumerate(order):
        paid += (costs[p] - prev) / (n - k)
        prev = costs[p]
        out[p] = paid
    return out


def test_exact_matches_the_airport_closed_form():
    costs = {"a": 10.0, "b": 25.0, "c": 25.0, "d": 70.0, "e": 100.0}
    got = exact_shapley(list(costs), airport(costs))
    for p, want in airport_shapley(costs).items():
        assert got[p] == pytest.approx(want)


def test_efficiency_symmetry_and_null_player():
    # b and c are interchangeable; z never changes any coalition's cost.
    def cost(s):
        base = {"a": 4.0, "b": 6.0, "c": 6.0}
        real = [p for p in s if p != "z"]
        return sum(base[p] for p in real) - (3.0 if {"b", "c"} <= s else 0.0) - len(real) ** 0.5

    result = shapley(["a", "b", "c", "z"], cost)
    assert result.method == "exact"
    assert sum(result.shares.values()) == pytest.approx(cost(frozenset("abcz")))
    assert result.shares["b"] == pytest.approx(result.shares["c"])
    assert result.shares["z"] == pytest.approx(0.0, abs=1e-12)
    assert len(result.coalitions) == 2**4 - 1


def test_additive_game_gives_each_its_own_cost():
    own = {f"f{i}": float(i + 1) for i in range(6)}
    got = exact_shapley(list(own), lambda s: sum(own[p] for p in s))
    assert got == pytest.approx(own)


def test_sampled_interval_covers_exact_and_sums_exactly():
    costs = {f"p{i:02d}": float(v) for i, v in enumerate([3, 5, 5, 8, 13, 21, 34, 40, 55, 60, 89])}
    exact = airport_shapley(costs)
    result = shapley(list(costs), airport(costs), exact_max_players=10, permutations=400, seed=3)
    assert result.method == "sampled" and result.permutations == 400
    assert sum(result.shares.values()) == pytest.approx(max(costs.values()))
    covered = sum(abs(result.shares[p] - exact[p]) <= result.ci_halfwidth[p] + 1e-9 for p in costs)
    assert covered >= len(costs) - 1  # a 95 % interval may miss once in a while
    assert all(result.ci_halfwidth[p] > 0 for p in ("p05", "p10"))


def test_sampling_stops_once_the_interval_is_as_tight_as_asked():
    costs = {f"p{i:02d}": float(v) for i, v in enumerate([3, 5, 5, 8, 13, 21, 34, 40, 55, 60, 89])}
    exact = airport_shapley(costs)
    loose = shapley(list(costs), airport(costs), exact_max_players=0, permutations=400,
                    precision=0.2)
    average = max(costs.values()) / len(costs)
    assert 20 <= loose.permutations < 400  # stopped early, after the minimum of 10 pairs
    assert max(loose.ci_halfwidth.values()) <= 0.2 * average
    assert sum(abs(loose.shares[p] - exact[p]) <= loose.ci_halfwidth[p] for p in costs) >= 9
    # a second game over the same coalitions (pooling's vehicle-km), sampled as many times,
    # asks for none the first did not (each one is a routing solve)
    asked = set()
    again = shapley(list(costs), lambda s: asked.add(s) or len(s), exact_max_players=0,
                    permutations=loose.permutations)
    assert again.permutations == loose.permutations and asked <= set(loose.coalitions)
    tight = shapley(list(costs), airport(costs), exact_max_players=0, permutations=400,
                    precision=0.001)
    assert tight.permutations == 400  # the cap holds when the target is out of reach
    # an additive game has no variance: the minimum of 10 pairs settles it, exactly
    own = {f"f{i}": float(i + 1) for i in range(12)}
    flat = shapley(list(own), lambda s: sum(own[p] for p in s), exact_max_players=0,
                   permutations=400, precision=0.01)
    assert flat.permutations == 20 and flat.shares == pytest.approx(own)
    with pytest.raises(PoolingError, match="precision"):
        sampled_shapley(["a", "b"], lambda s: 0.0, precision=-1)


def test_sampled_is_reproducible_with_a_seed():
    costs = {c: float(i) for i, c in enumerate("abcdefgh", start=1)}
    one = sampled_shapley(list(costs), airport(costs), permutations=20, seed=7)
    two = sampled_shapley(list(costs), airport(costs), permutations=20, seed=7)
    assert one == two


def test_single_player_pays_everything():
    result = shapley(["only"], lambda s: 42.0)
    assert result.shares == {"only": 42.0}
    assert core_violations(result.shares, result.coalitions) == []


def test_bad_players_are_named():
    with pytest.raises(PoolingError, match="no players"):
        shapley([], lambda s: 0.0)
    with pytest.raises(PoolingError, match="repeat: a"):
        shapley(["a", "b", "a"], lambda s: 0.0)
    with pytest.raises(PoolingError, match="permutations"):
        sampled_shapley(["a"], lambda s: 0.0, permutations=0)


def test_core_check_lists_the_coalition_that_overpays():
    coalitions = {
        frozenset("a"): 10.0,
        frozenset("b"): 10.0,
        frozenset("c"): 10.0,
        frozenset("ab"): 12.0,
        frozenset("abc"): 21.0,
    }
    fair = {"a": 6.0, "b": 6.0, "c": 9.0}
    assert core_violations(fair, coalitions) == []
    unfair = {"a": 8.0, "b": 6.0, "c": 7.0}
    blocking = core_violations(unfair, coalitions)
    assert [b.firms for b in blocking] == [("a", "b")]
    assert blocking[0].excess == pytest.approx(2.0)


def test_proportional_split():
    got = proportional_split(100.0, {"a": 1, "b": 3})
    assert got == {"a": 25.0, "b": 75.0}
    with pytest.raises(PoolingError, match="zero"):
        proportional_split(10.0, {"a": 0})
    with pytest.raises(PoolingError, match="firm 'b'"):
        proportional_split(10.0, {"a": 2, "b": -1})
    assert math.isclose(sum(proportional_split(7.0, {"x": 2, "y": 5}).values()), 7.0)


def test_least_core_of_a_game_with_an_empty_core():
    # Any two firms deliver for 1.0, all three need 1.6: pairs would pay at most 1.0 each,
    # so the three together at most 1.5 < 1.6. The least core shares the 0.1 evenly.
    costs = {frozenset(s): c for s, c in [("a", 1), ("b", 1), ("c", 1), ("ab", 1), ("ac", 1),
                                          ("bc", 1), ("abc", 1.6)]}  # fmt: skip
    found = least_core(["a", "b", "c"], costs)
    assert found.core_is_empty
    assert found.excess == pytest.approx(1.6 * 2 / 3 - 1)
    assert found.shares == pytest.approx({"a": 1.6 / 3, "b": 1.6 / 3, "c": 1.6 / 3})


def test_least_core_inside_a_non_empty_core():
    costs = {"a": 10.0, "b": 25.0, "c": 70.0}
    game = airport(costs)
    coalitions = {
        frozenset(s): game(frozenset(s)) for s in ["a", "b", "c", "ab", "ac", "bc", "abc"]
    }
    found = least_core(["a", "b", "c"], coalitions)
    assert not found.core_is_empty and found.excess < 0
    assert sum(found.shares.values()) == pytest.approx(70.0)
    assert core_violations(found.shares, coalitions) == []
    assert least_core(["solo"], {frozenset({"solo"}): 5.0}) == LeastCore({"solo": 5.0}, 0.0)


_THREE = {"a": 10, "b": 20, "c": 30, "ab": 25, "ac": 32, "bc": 40, "abc": 45}


def _three(coalition):
    return _THREE["".join(sorted(coalition))] if coalition else 0.0


def test_asking_for_every_order_of_few_players_gives_the_exact_value():
    result = shapley("abc", _three, exact_max_players=2, permutations=10)
    assert result.method == "exact" and result.permutations == 6
    assert result.shares == pytest.approx(exact_shapley("abc", _three))
    assert set(result.ci_halfwidth.values()) == {0.0}


def test_pairs_that_average_alike_do_not_make_a_zero_width_interval():
    # seed 0 draws two pairs in which c's averages coincide, but c's share is not yet exact
    shares, halfwidth, *_ = sampled_shapley("abc", _three, permutations=4, seed=0)
    exact = exact_shapley("abc", _three)
    assert shares["c"] != pytest.approx(exact["c"])
    assert abs(shares["c"] - exact["c"]) <= halfwidth["c"]
