"""What a coalition of firms costs at its best arrangement: the cover of the cost game.

A coalition is not bound to pool all its members' parcels: it can run any split of itself, some
firms pooled together, others in other groups or alone. So its true cost is that of its cheapest
partition, c*(S) = min over partitions {S1..Sk} of S of c(S1) + ... + c(Sk), the game's
subadditive cover (in cost games, the cost of the best coalition structure). Splitting c*
instead of c charges no firm for an arrangement its coalition would not choose, and c* is
subadditive, so every firm's marginal cost, hence its Shapley share, is at most what it costs
on its own.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass

import numpy as np

from routing.pooling.errors import PoolingError


@dataclass(frozen=True)
class Arrangement:
    """A coalition's cheapest partition: its ``groups`` (each valued at its own cost) and their
    ``cost`` added up. A group of one firm is that firm on its own."""

    groups: tuple[frozenset[str], ...]
    cost: float


#: A coalition's best arrangement, however it was found (`exact_cover`, `seen_cover`).
Cover = Callable[[frozenset[str]], Arrangement]


def exact_cover(players: Sequence[str], costs: Mapping[frozenset[str], float]) -> Cover:
    """The cover of a game whose every coalition's cost is known (exact Shapley's).

    A dynamic programme over subsets: a coalition's best arrangement is its own cost, or the
    group holding its first member plus the best arrangement of the rest, whichever is cheaper
    (3^n steps: 59,049 for 10 firms, far less than solving their 1,023 coalitions). A tie keeps
    the coalition whole: it is split only where that is strictly cheaper.
    """
    names = list(players)
    full = (1 << len(names)) - 1
    value = np.zeros(full + 1)
    for mask in range(1, full + 1):
        coalition = _members(names, mask)
        if coalition not in costs:
            raise PoolingError(f"cover: the cost of {'+'.join(sorted(coalition))} is missing")
        value[mask] = costs[coalition]
    best = value.copy()
    first_group = list(range(full + 1))  # the group holding the coalition's first member
    for mask in range(1, full + 1):
        low = mask & -mask
        rest = mask ^ low
        sub = rest
        while True:
            group = low | sub
            if group != mask:
                candidate = value[group] + best[mask ^ group]
                if candidate < best[mask]:
                    best[mask], first_group[mask] = candidate, group
            if sub == 0:
                break
            sub = (sub - 1) & rest
    index = {p: k for k, p in enumerate(names)}

    def arranged(coalition: frozenset[str]) -> Arrangement:
        mask = sum(1 << index[p] for p in coalition)
        total, groups = float(best[mask]), []
        while mask:
            groups.append(_members(names, first_group[mask]))
            mask ^= first_group[mask]
        return Arrangement(tuple(groups), total)

    return arranged


def seen_cover(players: Sequence[str], costs: Mapping[frozenset[str], float]) -> Cover:
    """A cover from some coalitions only (sampled Shapley's): each coalition's cheapest
    arrangement as one known group with the other members on their own.

    Sampling solves a few hundred of the 2^n coalitions, so the true cover is out of reach, and
    the best partition into known groups is a set-partition search over them. One group plus
    firms on their own is what the known costs give cheaply (the audit's case, every firm
    pooled but one, is of that form), never more than the coalition's own cost, and still
    never more than a firm's own cost per marginal: adding a firm to a coalition can always
    add it on its own. It may miss a cheaper arrangement of two or more groups.
    Every player's cost on its own must be known.
    """
    names = list(players)
    missing = [p for p in names if frozenset({p}) not in costs]
    if missing:
        raise PoolingError(f"cover: the cost of {', '.join(missing)} on its own is missing")
    alone = np.array([costs[frozenset({p})] for p in names])
    index = {p: k for k, p in enumerate(names)}
    groups = [s for s in costs if len(s) > 1 and s <= index.keys()]
    member = np.zeros((len(groups), len(names)), dtype=bool)
    for row, group in enumerate(groups):
        member[row, [index[p] for p in group]] = True
    gain = np.array([costs[g] for g in groups]) - member @ alone  # < 0: the group saves

    def arranged(coalition: frozenset[str]) -> Arrangement:
        inside = np.zeros(len(names), dtype=bool)
        inside[[index[p] for p in coalition]] = True
        own = float(alone[inside].sum())
        fits = ~(member & ~inside).any(axis=1)
        if not fits.any() or gain[fits].min() >= 0:
            return Arrangement(tuple(frozenset({p}) for p in sorted(coalition)), own)
        row = int(np.flatnonzero(fits)[np.argmin(gain[fits])])
        rest = tuple(frozenset({p}) for p in sorted(coalition - groups[row]))
        return Arrangement((groups[row], *rest), own + float(gain[row]))

    return arranged


def _members(names: Sequence[str], mask: int) -> frozenset[str]:
    return frozenset(p for k, p in enumerate(names) if mask >> k & 1)
