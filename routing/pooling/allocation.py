"""Simple cost splits to compare with Shapley, and the core check of any split.

A split is stable (in the core) when no coalition pays more under it than the coalition's own
cost: otherwise those firms would do better pooling among themselves, or delivering alone.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

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
    """
    found = []
    for coalition, alone in coalition_costs.items():
        if not coalition or not coalition <= shares.keys():
            continue
        pays = sum(shares[f] for f in coalition)
        if pays > alone + tolerance * max(1.0, abs(alone)):
            found.append(Blocking(tuple(sorted(coalition)), pays, alone))
    return sorted(found, key=lambda b: -b.excess)
