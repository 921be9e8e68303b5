"""Split each demand point by parcel size for a sizing, and fold plans back onto the points.

Under a sizing a point's parcels need not all go to one locker in the point's own S/M/L mix:
its small parcels may fill a standing locker's small compartments while its large ones go to a
locker with large compartments. Giving each size its own point (pure mix, same reach) lets the
models assign parcels size by size with no change to them; the plan is then folded back so a
planner reads one row per point and site, with the parcels of each size beside it (plans whose
points went whole get theirs in the point's own mix).
"""

from __future__ import annotations

import dataclasses

import numpy as np

from routing.siting.model import SitingInstance, SitingModel
from routing.siting.solution import SitingSolution


def split_by_size(
    inst: SitingInstance, model: SitingModel
) -> tuple[SitingInstance, np.ndarray, np.ndarray]:
    """(the instance with one point per point and size it has parcels of, the original point
    of each, its size index). A point with no parcels keeps one row, of its largest share."""
    mix = model.size_mix(inst)
    has = mix > 0
    has[inst.weight == 0] = False
    has[inst.weight == 0, np.argmax(mix[inst.weight == 0], axis=1)] = True
    owner, size = np.nonzero(has)
    split = dataclasses.replace(
        inst,
        demand_ids=[inst.demand_ids[i] for i in owner],
        weight=inst.weight[owner] * mix[owner, size],
        reach=inst.reach[owner],
        size_mix=np.eye(3)[size],
        demand_lonlat=None if inst.demand_lonlat is None else inst.demand_lonlat[owner],
    )
    return split, owner, size


def fold_sizes(
    plan: SitingSolution, inst: SitingInstance, owner: np.ndarray, size: np.ndarray
) -> SitingSolution:
    """``plan`` (on ``split_by_size``'s instance) on the original points: one pair per point and
    site, its fraction the share of the point's parcels served there, ``size_parcels`` the
    parcels of each size behind it."""
    parcels = plan.instance.weight[plan.rows] * plan.frac
    key = owner[plan.rows] * inst.n_sites + plan.cols
    pairs, which = np.unique(key, return_inverse=True)
    by_size = np.zeros((pairs.size, 3))
    np.add.at(by_size, (which, size[plan.rows]), parcels)
    rows, cols = pairs // inst.n_sites, pairs % inst.n_sites
    # a point with no parcels keeps the fraction it was given (it has only one size row)
    kept = np.zeros(pairs.size)
    np.maximum.at(kept, which, plan.frac)
    w = inst.weight[rows]
    frac = np.where(w > 0, by_size.sum(axis=1) / np.where(w > 0, w, 1.0), kept)
    return dataclasses.replace(
        plan, instance=inst, rows=rows, cols=cols, frac=frac, size_parcels=by_size
    )


def in_own_mix(plan: SitingSolution) -> SitingSolution:
    """``plan`` with each pair's parcels by size where every point went whole, in its own mix."""
    mix = plan.model.size_mix(plan.instance)[plan.rows]
    parcels = plan.instance.weight[plan.rows] * plan.frac
    return dataclasses.replace(plan, size_parcels=parcels[:, None] * mix)
