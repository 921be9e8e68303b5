"""Merge demand points that no model can tell apart, and map plans back to the points.

Points with the same reachable sites (and, where the model sees them, the same distances and
size mix) are interchangeable: one merged point carrying their summed parcels gives the same
optimum with fewer rows. On the 20,000-point city case this roughly halves the model.
"""

from __future__ import annotations

import dataclasses

import numpy as np

from routing.siting.model import SitingInstance, SitingModel


def _merge_key_parts(model: SitingModel) -> tuple[bool, bool]:
    """(distances matter, size mix matters) for this model."""
    by_dist = model.kind in ("pmedian", "facility")
    return by_dist, model.sizing is not None


def aggregate(inst: SitingInstance, model: SitingModel) -> tuple[SitingInstance, np.ndarray]:
    """The merged instance and, per original point, the index of its merged point."""
    by_dist, by_mix = _merge_key_parts(model)
    r = inst.reach
    mix = model.size_mix(inst) if by_mix else None
    index: dict[bytes, int] = {}
    group = np.empty(inst.n_demand, dtype=np.int64)
    for i in range(inst.n_demand):
        lo, hi = r.indptr[i], r.indptr[i + 1]
        order = np.argsort(r.indices[lo:hi], kind="stable")
        key = r.indices[lo:hi][order].tobytes()
        if by_dist:
            key += b"|" + r.data[lo:hi][order].tobytes()
        if by_mix:
            key += b"|" + mix[i].tobytes()
        group[i] = index.setdefault(key, len(index))
    count = len(index)
    if count == inst.n_demand:
        return inst, np.arange(inst.n_demand)
    first = np.full(count, inst.n_demand, dtype=np.int64)
    np.minimum.at(first, group, np.arange(inst.n_demand))
    weight = np.bincount(group, inst.weight, minlength=count)
    size_mix = None
    if inst.size_mix is not None:
        wsum = np.where(weight > 0, weight, 1.0)
        size_mix = np.stack(
            [
                np.bincount(group, inst.weight * inst.size_mix[:, s], minlength=count) / wsum
                for s in range(3)
            ],
            axis=1,
        )
        size_mix[weight == 0] = inst.size_mix[first[weight == 0]]
        size_mix /= size_mix.sum(axis=1, keepdims=True)
    merged = dataclasses.replace(
        inst,
        demand_ids=[inst.demand_ids[k] for k in first],
        weight=weight,
        reach=inst.reach[first],
        size_mix=size_mix,
        demand_lonlat=None if inst.demand_lonlat is None else inst.demand_lonlat[first],
    )
    return merged, group


def expand(rows: np.ndarray, cols: np.ndarray, frac: np.ndarray, group: np.ndarray):
    """An assignment of merged points back to the original points (same fractions)."""
    members = np.argsort(group, kind="stable")
    starts = np.searchsorted(group[members], np.arange(group.max() + 1 if group.size else 0))
    ends = np.r_[starts[1:], members.size]
    counts = (ends - starts)[rows]
    idx = np.repeat(starts[rows], counts) + (
        np.arange(counts.sum()) - np.repeat(np.cumsum(counts) - counts, counts)
    )
    return members[idx], np.repeat(cols, counts), np.repeat(frac, counts)
