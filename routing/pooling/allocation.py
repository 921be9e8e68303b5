"""Simple cost splits to compare with Shapley, and the core check of any split."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np
from scipy.optimize import linprog

from routing.pooling.errors import PoolingError


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
    """Split ``total`` in proportion to ``weights`` (parcels, or standalone cost)."""
    weight_sum = float(sum(weights.values()))
    if weight_sum <= 0:
        raise PoolingError("split: weights add up to zero, nothing to split in proportion to")
    for firm, weight in weights.items():
        if weight < 0:
            raise PoolingError(f"firm '{firm}': split weight is negative ({weight})")
    return {firm: total * float(w) / weight_sum for firm, w in weights.items()}


def core_violations(
    shares: Mapping[str, float],
    coalition_costs: Mapping[frozenset[str], float],
    *,
    tolerance: float = 1e-6,
) -> list[Blocking]:
    """Every tested coalition that would pay less on its own than its members' shares add up to.

    ``tolerance`` is relative to the coalition's cost (heuristic solves are not exact, so a
    fraction of a percent is noise, not a reason to leave). Largest excess first.

    A split is stable (in the core) when no coalition pays more under it than the coalition's own
    cost: otherwise those firms would do better pooling among themselves, or delivering alone.
    """
    found = []
    for coalition, alone in coalition_costs.items():
        if not coalition or not coalition <= shares.keys():
            continue
        pays = sum(shares[f] for f in coalition)
        if pays > alone + tolerance * max(1.0, abs(alone)):
            found.append(Blocking(tuple(sorted(coalition)), pays, alone))
    return sorted(found, key=lambda b: -b.excess)


@dataclass(frozen=True)
class LeastCore:
    """The split that keeps the worst-off coalition's overpayment smallest (the least core).

    ``excess`` is that smallest possible largest overpayment: at most zero when a stable split
    exists (the core is not empty), positive when every split leaves some coalition better off
    alone, e.g. when the last firm's parcels force one more van than any smaller group needs.
    """

    shares: dict[str, float]
    excess: float

    @property
    def core_is_empty(self) -> bool:
        """Whether no split at all keeps every tested coalition from doing better alone."""
        return self.excess > 1e-9 * max(1.0, abs(sum(self.shares.values())))


def least_core(players: list[str], coalition_costs: Mapping[frozenset[str], float]) -> LeastCore:
    """Least-core split of the grand coalition's cost over the tested coalitions (an LP).

    min e  subject to  sum of x_i over S <= c(S) + e for every tested coalition S != N,
    sum of all x_i = c(N). Solved with HiGHS through scipy; 2^n rows for exact Shapley's n.
    Every firm alone must be among the tested coalitions (else the LP may be unbounded).
    """
    grand = frozenset(players)
    if grand not in coalition_costs:
        raise PoolingError("least core: the grand coalition's cost is missing")
    index = {p: k for k, p in enumerate(players)}
    rows = [s for s in coalition_costs if s and s != grand and s <= grand]
    if not rows:  # a single firm: it pays everything, nobody to compare with
        return LeastCore({p: coalition_costs[grand] / len(players) for p in players}, 0.0)
    n = len(players)
    a_ub = np.zeros((len(rows), n + 1))
    for r, coalition in enumerate(rows):
        a_ub[r, [index[p] for p in coalition]] = 1.0
        a_ub[r, n] = -1.0
    b_ub = np.array([coalition_costs[s] for s in rows])
    a_eq = np.append(np.ones(n), 0.0).reshape(1, -1)
    objective = np.append(np.zeros(n), 1.0)
    result = linprog(
        objective,
        A_ub=a_ub,
        b_ub=b_ub,
        A_eq=a_eq,
        b_eq=[coalition_costs[grand]],
        bounds=[(None, None)] * (n + 1),
        method="highs",
    )
    if result.status != 0:
        raise PoolingError(f"least core: the LP did not solve ({result.message})")
    return LeastCore({p: float(result.x[index[p]]) for p in players}, float(result.x[n]))
