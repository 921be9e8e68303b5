"""Capacitated assignment for a fixed set of open sites, as a min-cost flow (OR-Tools).

source -> demand point (its parcels) -> open site in reach (per-parcel distance) -> sink
(the site's capacity), plus a direct point -> sink arc priced as leaving parcels unserved.
Parcels are scaled to integers (1/1000 parcel); the fractions are then trimmed so that no
site's load exceeds its capacity by rounding. Compartments, if sized, are the fewest that hold
each site's load by size (a parcel may use a larger compartment).
"""

from __future__ import annotations

import numpy as np
from ortools.graph.python import max_flow, min_cost_flow

from routing.siting.formulation import pairs
from routing.siting.model import SitingInstance, SitingModel

SCALE = 1000.0
COST_SCALE = 10.0


def flow_assignment(
    inst: SitingInstance, model: SitingModel, is_open: np.ndarray, *, unserved_cost: float
):
    """(rows, cols, fractions, sizes or None) of the best assignment to the open sites."""
    n, m = inst.n_demand, inst.n_sites
    rr, jj, dd = pairs(inst)
    on = is_open[jj]
    rr, jj, dd = rr[on], jj[on], dd[on]
    cap = effective_capacity(inst, model)
    supply = np.rint(inst.weight * SCALE).astype(np.int64)
    site_cap = np.where(np.isfinite(cap), np.floor(cap * SCALE), supply.sum()).astype(np.int64)
    unit = np.zeros_like(dd) if model.kind in ("maxcover", "setcover") else dd
    source, sink = n + m, n + m + 1
    tails = np.r_[np.full(n, source), rr, np.arange(n, n + m), np.arange(n)]
    heads = np.r_[np.arange(n), n + jj, np.full(m, sink), np.full(n, sink)]
    caps = np.r_[supply, supply[rr], np.where(is_open, site_cap, 0), supply]
    top = float(unserved_cost) * COST_SCALE
    costs = np.r_[np.zeros(n), np.rint(unit * COST_SCALE), np.zeros(m), np.full(n, top)]
    flow = min_cost_flow.SimpleMinCostFlow()
    flow.add_arcs_with_capacity_and_unit_cost(
        tails.astype(np.int32),
        heads.astype(np.int32),
        caps.astype(np.int64),
        np.minimum(costs, 2**40).astype(np.int64),
    )
    flow.set_node_supply(source, int(supply.sum()))
    flow.set_node_supply(sink, -int(supply.sum()))
    status = flow.solve()
    if status != flow.OPTIMAL:
        raise RuntimeError(f"min-cost flow failed with status {status}")
    arcs = np.arange(n, n + rr.size)
    sent = flow.flows(arcs).astype(float)
    frac = np.divide(sent, supply[rr], out=np.zeros_like(sent), where=supply[rr] > 0)
    load = np.bincount(jj, inst.weight[rr] * frac, minlength=m)
    over = np.isfinite(cap) & (load > cap)
    if over.any():
        shrink = np.ones(m)
        shrink[over] = cap[over] / load[over]
        frac *= shrink[jj]
    keep = frac > 0
    rr, jj, frac = rr[keep], jj[keep], frac[keep]
    sizes = fewest_compartments(inst, model, rr, jj, frac) if model.sizing is not None else None
    return rr, jj, frac, sizes


def fewest_compartments(
    inst: SitingInstance, model: SitingModel, rr: np.ndarray, jj: np.ndarray, frac: np.ndarray
) -> np.ndarray:
    """Fewest S/M/L compartments per site (sites x 3) that hold the load assigned by the pairs
    (rr, jj) with fractions ``frac``: enough L for large parcels, M+L for medium-or-larger, ..."""
    m = inst.n_sites
    mix = model.size_mix(inst)
    at_least = np.cumsum(mix[:, ::-1], axis=1)[:, ::-1]
    thr = model.sizing.throughput
    need = np.stack(
        [np.bincount(jj, inst.weight[rr] * frac * at_least[rr, t], minlength=m) for t in range(3)],
        axis=1,
    )
    cum = np.ceil(need / thr - 1e-9).astype(np.int64)  # compartments of size >= t
    cum = np.maximum.accumulate(cum[:, ::-1], axis=1)[:, ::-1]
    sizes = cum - np.c_[cum[:, 1:], np.zeros(m, dtype=np.int64)]
    return sizes


def effective_capacity(inst: SitingInstance, model: SitingModel) -> np.ndarray:
    """Parcels a day each site can take: its capacity, capped by the largest sized locker."""
    cap = inst.capacity.copy()
    if model.sizing is not None:
        cap = np.minimum(cap, model.sizing.max_compartments * model.sizing.throughput)
    return cap


def max_service(
    inst: SitingInstance, cap: np.ndarray, is_open: np.ndarray, *, total: float | None = None
) -> tuple[float, np.ndarray, np.ndarray]:
    """Most parcels the open sites can serve within capacity (and ``total`` overall), by max
    flow: (parcels served, served per point, load per site). Parcels and capacities are rounded
    up to 1/1000, so the value never falls below the exact one (it may serve as a bound)."""
    n, m = inst.n_demand, inst.n_sites
    rr, jj, _ = pairs(inst)
    on = is_open[jj]
    rr, jj = rr[on], jj[on]
    supply = np.ceil(inst.weight * SCALE).astype(np.int64)
    whole = int(supply.sum())
    site_cap = np.where(np.isfinite(cap), np.ceil(cap * SCALE), whole).astype(np.int64)
    source, hub, sink = n + m, n + m + 1, n + m + 2
    tails = np.r_[np.full(n, source), rr, np.arange(n, n + m), hub]
    heads = np.r_[np.arange(n), n + jj, np.full(m, hub), sink]
    limit = whole if total is None else min(whole, int(np.ceil(total * SCALE)))
    caps = np.r_[supply, supply[rr], np.where(is_open, site_cap, 0), limit]
    flow = max_flow.SimpleMaxFlow()
    flow.add_arcs_with_capacity(tails.astype(np.int32), heads.astype(np.int32), caps)
    if flow.solve(source, sink) != flow.OPTIMAL:
        raise RuntimeError("max flow failed")
    served = flow.flows(np.arange(n)) / SCALE
    load = flow.flows(np.arange(n + rr.size, n + rr.size + m)) / SCALE
    return flow.optimal_flow() / SCALE, served, load


def capacity_bound(inst: SitingInstance, model: SitingModel) -> float | None:
    """An upper bound on parcels any plan of ``p`` capacitated lockers can serve (max flow).

    Every site may take up to its own capacity, but all of them together at most the sum of
    the ``p`` largest capacities: a relaxation of "open p sites", so its max flow bounds the
    capacitated maximal covering optimum from above. Tight when capacity, not reach, binds.
    """
    if model.kind != "maxcover" or model.p is None or not model.is_capacitated:
        return None
    cap = effective_capacity(inst, model)
    top = np.sort(np.where(np.isfinite(cap), cap, inst.weight.sum()))[::-1][: model.p].sum()
    every = np.ones(inst.n_sites, dtype=bool)
    return max_service(inst, cap, every, total=float(top))[0]
