"""Split each demand point by parcel size for a sizing, and fold plans back onto the points.

Under a sizing a point's parcels need not all go to one locker in the point's own S/M/L mix:
its small parcels may fill a standing locker's small compartments while its large ones go to a
locker with large compartments. Giving each size of a point in reach of a standing locker its
own row (pure mix, same reach) lets the models assign parcels size by size with no change to
them; the plan is then folded back so a planner reads one row per point and site, with the
parcels of each size beside it (rows that went whole count theirs in the point's own mix).
"""

from __future__ import annotations

import dataclasses

import numpy as np

from routing.siting.model import SitingInstance, SitingModel
from routing.siting.solution import SitingSolution


def split_by_size(inst: SitingInstance, model: SitingModel) -> tuple[SitingInstance, np.ndarray]:
    """(the instance with each point that reaches a standing locker split into one row per
    size it has parcels of, the original point of each row). Other points stay whole, in their
    own mix: without a standing locker in reach, placing their parcels size by size would
    change only how compartment counts round, and each split point is up to three rows."""
    mix = model.size_mix(inst)
    standing = inst.reach[:, np.flatnonzero(inst.built)].tocsr()
    split = (np.diff(standing.indptr) > 0) & (inst.weight > 0)
    whole = np.flatnonzero(~split)
    point, size = np.nonzero((mix > 0) & split[:, None])
    owner = np.r_[whole, point]
    part = dataclasses.replace(
        inst,
        demand_ids=[inst.demand_ids[i] for i in owner],
        weight=np.r_[inst.weight[whole], inst.weight[point] * mix[point, size]],
        reach=inst.reach[owner],
        size_mix=np.vstack([mix[whole], np.eye(3)[size]]),
        demand_lonlat=None if inst.demand_lonlat is None else inst.demand_lonlat[owner],
    )
    return part, owner


def fold_sizes(plan: SitingSolution, inst: SitingInstance, owner: np.ndarray) -> SitingSolution:
    """``plan`` (on ``split_by_size``'s instance) on the original points: one pair per point and
    site, its fraction the share of the point's parcels served there, ``size_parcels`` the
    parcels of each size behind it (each row's parcels in that row's mix)."""
    rows_mix = plan.instance.size_mix[plan.rows]
    parcels = plan.instance.weight[plan.rows] * plan.frac
    key = owner[plan.rows] * inst.n_sites + plan.cols
    pairs, which = np.unique(key, return_inverse=True)
    by_size = np.zeros((pairs.size, 3))
    np.add.at(by_size, which, parcels[:, None] * rows_mix)
    rows, cols = pairs // inst.n_sites, pairs % inst.n_sites
    # a point with no parcels stays one row: it keeps the fraction it was given
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
