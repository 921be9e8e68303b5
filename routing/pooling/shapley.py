"""Shapley value of a cost game among firms: exact over all coalitions, or sampled permutations."""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from itertools import combinations
from typing import Literal, NamedTuple

import numpy as np
from scipy import stats

from routing.pooling.errors import PoolingError

CostFn = Callable[[frozenset[str]], float]
MIN_PAIRS = 10  # antithetic pairs sampled before a precision target may stop the sampling
#: Players up to which a time limit leaves Shapley exact where the orders asked for cover
#: every order: the least sampling, two antithetic pairs, visits up to 4(n - 1) of the 2^n - 2
#: coalitions short of all (12 of 14 for 4 players, 16 of 30 for 5). On a 4-firm day two
#: pairs took 11 coalitions and 5.1 s against exact's 15 and 7.1 s, for intervals of +-200 %
#: of a share.
FEW_PLAYERS = 4
#: Why sampling stopped: its permutation cap, the precision asked, or its time limit.
StopReason = Literal["permutations", "precision", "time_limit"]


@dataclass(frozen=True)
class ShapleyResult:
    """Each player's share of the grand coalition's cost and how it was obtained.

    ``ci_halfwidth`` is the half-width of the two-sided confidence interval at ``confidence``
    for a sampled value (zero for an exact one); ``coalitions`` holds every coalition cost the
    computation looked at, so the allocation can be checked against them. ``stopped_by`` says
    why sampling stopped (None for an exact value).
    """

    shares: dict[str, float]
    method: Literal["exact", "sampled"]
    grand_cost: float
    coalitions: dict[frozenset[str], float]
    seconds: float
    ci_halfwidth: dict[str, float] = field(default_factory=dict)
    confidence: float = 0.95
    permutations: int = 0
    stopped_by: StopReason | None = None


class SampledShares(NamedTuple):
    """A sampled Shapley value: shares, their half-widths, permutations used, why it stopped."""

    shares: dict[str, float]
    halfwidth: dict[str, float]
    permutations: int
    stopped_by: StopReason


def shapley(
    players: Sequence[str],
    cost: CostFn,
    *,
    exact_max_players: int = 10,
    permutations: int = 200,
    seed: int = 0,
    confidence: float = 0.95,
    precision: float = 0.0,
    time_limit_s: float | None = None,
) -> ShapleyResult:
    """Shapley shares of ``cost(frozenset(players))``: exact up to ``exact_max_players``.

    The cost of a coalition comes from a callable (in the product: a cached routing solve), so this
    module knows nothing about routing. Exact Shapley needs every coalition once (2^n - 1 calls);
    beyond ``exact_max_players`` the value is estimated from random permutations, each paired with
    its reverse (antithetic sampling lowers the variance), and a confidence interval is reported;
    ``precision`` > 0 stops sampling early once it is that tight, and ``time_limit_s`` once
    that many seconds have passed (see ``sampled_shapley``; an exact value takes what it takes,
    so a caller with a time budget decides beforehand whether it fits, as `compare_day` does).
    Asking for as many orders as there are (n!/2 pairs) gives the exact value, which costs no
    more; under ``time_limit_s``, which may stop sampling after two pairs, only up to
    `FEW_PLAYERS`, about every one of whose coalitions those two pairs need anyway. Sampling
    that has visited every coalition returns the exact value too (``method`` exact, no
    interval).
    """
    names = _check_players(players)
    started = time.perf_counter()
    seen: dict[frozenset[str], float] = {}

    def recorded(coalition: frozenset[str]) -> float:
        """The coalition's cost, asked of ``cost`` once and kept for the result."""
        if coalition not in seen:
            seen[coalition] = float(cost(coalition))
        return seen[coalition]

    orders = math.factorial(len(names))
    # Sampling as many antithetic pairs as there are (n!/2) costs what the exact value does;
    # a time limit may stop it after two pairs, which need about every coalition of only a
    # few players (`FEW_PLAYERS`).
    few = orders // 2 <= _pairs(permutations) if permutations >= 1 else False
    if time_limit_s is not None:
        few = few and len(names) <= FEW_PLAYERS
    exact = len(names) <= exact_max_players or few
    method: Literal["exact", "sampled"] = "exact" if exact else "sampled"
    stopped_by: StopReason | None = None
    if method == "exact":
        shares, halfwidth = exact_shapley(names, recorded), dict.fromkeys(names, 0.0)
        used = orders if few else 0  # a second game sampled with this count is exact too
    else:
        shares, halfwidth, used, stopped_by = sampled_shapley(
            names,
            recorded,
            permutations=permutations,
            seed=seed,
            confidence=confidence,
            precision=precision,
            time_limit_s=time_limit_s,
        )
        if len(seen) == 2 ** len(names) - 1:
            # The orders sampled visited every coalition: the exact value costs nothing more.
            shares, halfwidth = exact_shapley(names, recorded), dict.fromkeys(names, 0.0)
            method, stopped_by = "exact", None
    return ShapleyResult(
        shares=shares,
        method=method,
        grand_cost=recorded(frozenset(names)),
        coalitions=seen,
        seconds=time.perf_counter() - started,
        ci_halfwidth=halfwidth,
        confidence=confidence,
        permutations=used,
        stopped_by=stopped_by,
    )


def exact_shapley(players: Sequence[str], cost: CostFn) -> dict[str, float]:
    """Exact Shapley value: each player's marginal cost averaged over all orders of arrival.

    Evaluates every non-empty coalition once, smallest first (so a caller that caches can give
    small coalitions short solver limits before the big ones), with ``cost(empty) = 0``.
    """
    names = _check_players(players)
    n = len(names)
    values: dict[frozenset[str], float] = {frozenset(): 0.0}
    for size in range(1, n + 1):
        for combo in combinations(names, size):
            coalition = frozenset(combo)
            values[coalition] = float(cost(coalition))
    weight = [math.factorial(s) * math.factorial(n - s - 1) / math.factorial(n) for s in range(n)]
    shares = dict.fromkeys(names, 0.0)
    for coalition, value in values.items():
        if len(coalition) == n:
            continue
        for player in names:
            if player not in coalition:
                shares[player] += weight[len(coalition)] * (values[coalition | {player}] - value)
    return shares


def sampled_shapley(
    players: Sequence[str],
    cost: CostFn,
    *,
    permutations: int = 200,
    seed: int = 0,
    confidence: float = 0.95,
    precision: float = 0.0,
    time_limit_s: float | None = None,
) -> SampledShares:
    """Monte Carlo Shapley value (Castro et al. 2009) with antithetic permutation pairs.

    Returns the estimate, the confidence-interval half-width per player, the number of
    permutations used (rounded up to an even number, at least 4) and why it stopped. Every
    permutation's marginal costs add up to the grand coalition's cost, so the estimate does
    too, exactly. ``permutations`` is the most it samples: with ``precision`` > 0 it stops as
    soon as every player's half-width is at most ``precision`` times the average share (grand
    cost / players), after at least ``MIN_PAIRS`` pairs, since each permutation can cost a
    solve per player; with ``time_limit_s`` it stops after the pair during which that many
    seconds passed (two pairs at least: an interval needs two). The interval says how far the
    estimate can be trusted either way. The same seed always draws the same permutations, so a
    second game over the same coalitions, sampled with the count the first one used, asks for
    no new coalition.
    """
    names = _check_players(players)
    if permutations < 1:
        raise PoolingError(f"shapley: permutations must be at least 1 (got {permutations})")
    if not precision >= 0:
        raise PoolingError(f"shapley: precision must be >= 0 (got {precision})")
    if time_limit_s is not None and not time_limit_s >= 0:
        raise PoolingError(f"shapley: time_limit_s must be >= 0 (got {time_limit_s})")
    started = time.perf_counter()
    pairs = _pairs(permutations)
    rng = np.random.default_rng(seed)
    index = {p: k for k, p in enumerate(names)}
    target = precision * abs(float(cost(frozenset(names)))) / len(names) if precision else 0.0
    # each order's marginals and its reverse's: samples[row, 0] and samples[row, 1]
    samples = np.zeros((pairs, 2, len(names)))
    done, stopped_by = pairs, "permutations"
    for row in range(pairs):
        order = [names[k] for k in rng.permutation(len(names))]
        samples[row] = (_marginals(order, cost, index), _marginals(order[::-1], cost, index))
        may_stop = precision > 0 and row + 1 >= MIN_PAIRS
        if may_stop and _pair_halfwidth(samples[: row + 1], confidence).max() <= target:
            done, stopped_by = row + 1, "precision"
            break
        late = time_limit_s is not None and time.perf_counter() - started >= time_limit_s
        if late and 2 <= row + 1 < pairs:
            done, stopped_by = row + 1, "time_limit"
            break
    samples = samples[:done]
    mean, half = samples.mean(axis=(0, 1)), _pair_halfwidth(samples, confidence)
    shares = {p: float(mean[index[p]]) for p in names}
    halfwidth = {p: float(half[index[p]]) for p in names}
    return SampledShares(shares, halfwidth, 2 * done, stopped_by)


def _pairs(permutations: int) -> int:
    """Antithetic pairs sampled for a requested number of permutations."""
    return max(2, math.ceil(permutations / 2))


def _pair_halfwidth(samples: np.ndarray, confidence: float) -> np.ndarray:
    """Each player's half-width from the pairs' averages (``samples``: pair, order and its
    reverse, player). With few players the averages of different pairs can coincide although
    the value is not reached (3 players: each pair's average is one of three numbers), so a
    player whose pair averages do not vary gets the interval of the single orders instead:
    no zero width unless the sampled marginals themselves never vary."""
    half = _halfwidth(samples.mean(axis=1), confidence)
    singles = _halfwidth(samples.reshape(-1, samples.shape[2]), confidence)
    return np.where(half > 0, half, singles)


def _halfwidth(samples: np.ndarray, confidence: float) -> np.ndarray:
    """Half-width of the t confidence interval of each column's mean (a row per pair)."""
    count = samples.shape[0]
    quantile = float(stats.t.ppf(0.5 + confidence / 2, df=count - 1))
    return quantile * samples.std(axis=0, ddof=1) / math.sqrt(count)


def _marginals(order: Iterable[str], cost: CostFn, index: dict[str, int]) -> np.ndarray:
    """Each player's marginal cost when the players join in ``order``."""
    out = np.zeros(len(index))
    coalition: frozenset[str] = frozenset()
    before = 0.0
    for player in order:
        coalition = coalition | {player}
        after = float(cost(coalition))
        out[index[player]] = after - before
        before = after
    return out


def _check_players(players: Sequence[str]) -> list[str]:
    names = list(players)
    if not names:
        raise PoolingError("shapley: no players (firms) to share the cost among")
    if len(set(names)) != len(names):
        dup = sorted({p for p in names if names.count(p) > 1})
        raise PoolingError(f"shapley: player ids repeat: {', '.join(dup)}")
    return names
