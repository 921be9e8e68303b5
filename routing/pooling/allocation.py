"""Simple cost splits to compare with Shapley, and the core check of any split."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np
from scipy.optimize import linprog

from routing.pooling.errors import PoolingError

#: A coalition "would do better alone" only when it saves more than this fraction of its cost
#: (of at least one cost unit, see `_scale`): each coalition's cost comes from a time-limited
#: heuristic solve, so smaller gaps are noise. Both verdicts on stability use it, the core check
#: of a split (`core_violations`) and whether any stable split exists (`LeastCore.core_is_empty`),
#: so a summary can never say a split is stable and that no split is.
CORE_TOLERANCE = 0.005

#: How far HiGHS may leave a constraint violated (its primal feasibility tolerance), so the
#: least core's excess is only known this closely: not a verdict, the LP's precision.
_LP_PRECISION = 1e-7


@dataclass(frozen=True)
class Blocking:
    """A coalition that pays more under the split than it would cost on its own."""

    firms: tuple[str, ...]
    pays: float
    alone: float

    @property
    def excess(self) -> float:
        """How much the coalition overpays under the split."""
        return self.pays - self.alone


def proportional_split(total: float, weights: Mapping[str, float]) -> dict[str, float]:
    """Split ``total`` in proportion to ``weights`` (parcels, or standalone cost); weights that
    add up to zero define no split and raise (see `proportional_split_or_none`)."""
    weight_sum = float(sum(weights.values()))
    if weight_sum <= 0:
        raise PoolingError("split: weights add up to zero, nothing to split in proportion to")
    for firm, weight in weights.items():
        if weight < 0:
            raise PoolingError(f"firm '{firm}': split weight is negative ({weight})")
    return {firm: total * float(w) / weight_sum for firm, w in weights.items()}


def proportional_split_or_none(
    total: float, weights: Mapping[str, float]
) -> dict[str, float] | None:
    """`proportional_split`, or None where the weights add up to zero: on a day whose solo plans
    all cost nothing there is nothing to split the pooled cost in proportion to, and the
    report says so instead of giving up the other splits."""
    if all(w == 0 for w in weights.values()):
        return None
    return proportional_split(total, weights)


def _scale(cost: float) -> float:
    """What a coalition's tolerance and least-core excess are measured against: its cost, but
    at least one cost unit (so a coalition costing nothing may still differ by rounding)."""
    return max(1.0, abs(cost))


def core_violations(
    shares: Mapping[str, float],
    coalition_costs: Mapping[frozenset[str], float],
    *,
    tolerance: float = CORE_TOLERANCE,
) -> list[Blocking]:
    """Every tested coalition that would pay less on its own than its members' shares add up to.

    ``tolerance`` is relative to the coalition's cost (heuristic solves are not exact, so a
    fraction of a percent is noise, not a reason to leave); keep the default, `CORE_TOLERANCE`,
    which `least_core` judges by too. Largest excess first.

    A split is stable (in the core) when no coalition pays more under it than the coalition's own
    cost: otherwise those firms would do better pooling among themselves, or delivering alone.
    """
    found = []
    for coalition, alone in coalition_costs.items():
        if not coalition or not coalition <= shares.keys():
            continue
        pays = sum(shares[f] for f in coalition)
        if pays > alone + tolerance * _scale(alone):
            found.append(Blocking(tuple(sorted(coalition)), pays, alone))
    return sorted(found, key=lambda b: -b.excess)


@dataclass(frozen=True)
class LeastCore:
    """The split that keeps the worst-off coalition's overpayment smallest (the least core),
    each overpayment measured relative to that coalition's cost, as `core_violations` does.

    ``relative_excess`` is that smallest possible largest relative overpayment: at most zero
    when a stable split exists, positive when every split leaves some coalition better off
    alone, e.g. when the last firm's parcels force one more van than any smaller group needs.
    ``excess`` is the largest overpayment of any coalition under these shares, in cost units.
    The core counts as empty only beyond ``tolerance``, the core check's (`CORE_TOLERANCE`).
    """

    shares: dict[str, float]
    excess: float
    relative_excess: float = 0.0
    tolerance: float = CORE_TOLERANCE

    @property
    def core_is_empty(self) -> bool:
        """Whether every split leaves some tested coalition better off alone by more than the
        tolerance: exactly when `core_violations` would find a blocking coalition for any
        split, these shares included."""
        return self.relative_excess > self.tolerance + _LP_PRECISION


def least_core(
    players: list[str],
    coalition_costs: Mapping[frozenset[str], float],
    *,
    tolerance: float = CORE_TOLERANCE,
    caps: Mapping[str, float] | None = None,
) -> LeastCore:
    """Least-core split of the grand coalition's cost over the tested coalitions (an LP).

    min e  subject to  sum of x_i over S <= c(S) + e * max(1, |c(S)|) for every tested
    coalition S != N, sum of all x_i = c(N). Solved with HiGHS through scipy; 2^n rows for
    exact Shapley's n. Every firm alone must be among the tested coalitions (else the LP may be
    unbounded). The excess is relative to each coalition's cost, as the core check's tolerance
    is: with an absolute excess the LP spreads the overpayment evenly, and could call the core
    empty while some split, Shapley's say, is within the tolerance of every coalition.

    ``caps`` bounds each player's share (individual rationality: a firm's cost on its own), so
    where the core is empty the overpayment falls on groups, never on a firm past what it
    costs alone. Only for a game whose grand cost the caps cover (a subadditive one, such as a
    cover, `routing.pooling.cover`); its Shapley value keeps within them too, so the two core
    verdicts still agree.
    """
    grand = frozenset(players)
    if grand not in coalition_costs:
        raise PoolingError("least core: the grand coalition's cost is missing")
    index = {p: k for k, p in enumerate(players)}
    rows = [s for s in coalition_costs if s and s != grand and s <= grand]
    caps = caps or {}
    if not rows:  # a single firm: it pays everything, nobody to compare with
        return LeastCore(
            {p: coalition_costs[grand] / len(players) for p in players}, 0.0, tolerance=tolerance
        )
    n = len(players)
    a_ub = np.zeros((len(rows), n + 1))
    for r, coalition in enumerate(rows):
        a_ub[r, [index[p] for p in coalition]] = 1.0
        a_ub[r, n] = -_scale(coalition_costs[coalition])
    b_ub = np.array([coalition_costs[s] for s in rows])
    a_eq = np.append(np.ones(n), 0.0).reshape(1, -1)
    objective = np.append(np.zeros(n), 1.0)
    result = linprog(
        objective,
        A_ub=a_ub,
        b_ub=b_ub,
        A_eq=a_eq,
        b_eq=[coalition_costs[grand]],
        bounds=[(None, caps.get(p)) for p in players] + [(None, None)],
        method="highs",
    )
    if result.status != 0:
        raise PoolingError(f"least core: the LP did not solve ({result.message})")
    shares = {p: float(result.x[index[p]]) for p in players}
    worst = max(sum(shares[p] for p in s) - coalition_costs[s] for s in rows)
    return LeastCore(shares, float(worst), float(result.x[n]), tolerance)
