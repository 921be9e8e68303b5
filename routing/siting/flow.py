"""Capacitated assignment for a fixed set of open sites, as a min-cost flow (OR-Tools).

source -> demand point (its parcels) -> open site in reach (per-parcel distance) -> sink
(the site's capacity), plus a direct point -> sink arc priced as leaving parcels unserved.
Under a sizing a standing locker's compartments of each size are capacities of their own (a
parcel may pass on to a larger size), here and in the max flow of what open sites can serve
(``max_service``). Parcels are scaled to integers (1/1000 parcel); the fractions are then
trimmed so that no site's load exceeds its capacity by rounding (nor, at a standing locker,
its compartments of each size). Compartments, if sized, are the fewest that
hold each site's load by size (a parcel may use a larger compartment); a standing locker keeps
its own.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
from ortools.graph.python import max_flow, min_cost_flow

from routing.siting.formulation import pairs, sum_at
from routing.siting.model import SitingInstance, SitingModel, at_least, of_each_size

SCALE = 1000.0
COST_SCALE = 10.0


def flow_assignment(
    inst: SitingInstance, model: SitingModel, is_open: np.ndarray, *, unserved_cost: float
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray | None]:
    """(rows, cols, fractions, sizes or None) of the best assignment to the open sites.

    One min-cost flow, exact also where lockers stand with their compartments (each size a
    capacity of its own, ``_min_cost_flow``): seeing only their total, the flow once sent them
    large parcels that did not fit, then cut the locker to what it held and re-ran, which could
    leave a standing locker's small compartments empty while small parcels went unserved. The
    flow counts parcels to 1/1000, so the fractions are then trimmed where that rounding put a
    site's load over its capacity or a standing locker's over its compartments of some size."""
    m = inst.n_sites
    rr, jj, dd = pairs(inst)
    on = is_open[jj]
    rr, jj, dd = rr[on], jj[on], dd[on]
    cap = effective_capacity(inst, model)
    unit = np.zeros_like(dd) if model.kind in ("maxcover", "setcover") else dd
    frac = _min_cost_flow(inst, model, is_open, rr, jj, unit, cap, unserved_cost)
    load = sum_at(jj, inst.weight[rr] * frac, m)
    shrink = np.where(np.isfinite(cap) & (load > cap), cap / np.maximum(load, 1e-300), 1.0)
    if model.sizing is not None:
        shrink = np.minimum(shrink, _built_room(inst, model, rr, jj, frac))
    frac *= shrink[jj]
    keep = frac > 0
    rr, jj, frac = rr[keep], jj[keep], frac[keep]
    sizes = fewest_compartments(inst, model, rr, jj, frac) if model.sizing is not None else None
    return rr, jj, frac, sizes


def _min_cost_flow(
    inst: SitingInstance,
    model: SitingModel,
    is_open: np.ndarray,
    rr: np.ndarray,
    jj: np.ndarray,
    unit: np.ndarray,
    cap: np.ndarray,
    unserved_cost: float,
) -> np.ndarray:
    """Fractions of each point's parcels sent along the pairs (rr, jj): the min-cost flow with
    site capacities ``cap`` (unserved parcels at ``unserved_cost`` each).

    Under a sizing an open standing locker's compartments of each size are capacities of their
    own (``_add_standing_sizes``, rounded down): exact for points of one size, as ``split_by_size``
    makes every point in reach of a standing locker; a point of several sizes enters at its
    largest, which holds its parcels for certain but may turn some away."""
    n, m = inst.n_demand, inst.n_sites
    supply = np.rint(inst.weight * SCALE).astype(np.int64)
    whole = int(supply.sum())
    site_cap = np.where(np.isfinite(cap), np.floor(cap * SCALE), whole).astype(np.int64)
    source, sink = n + m, n + m + 1
    heads = n + jj
    tails = [np.full(n, source), rr, np.arange(n, n + m), np.arange(n)]
    caps = [supply, supply[rr], np.where(is_open, site_cap, 0), supply]
    top = float(unserved_cost) * COST_SCALE
    costs = [np.zeros(n), np.rint(unit * COST_SCALE), np.zeros(m), np.full(n, top)]
    ends = [np.arange(n), heads, np.full(m, sink), np.full(n, sink)]
    arcs = (tails, ends, caps)
    added = _add_standing_sizes(
        inst, model, is_open, rr, jj, arcs, first=sink + 1, whole=whole, rounding=np.floor
    )
    costs.append(np.zeros(added))
    flow = min_cost_flow.SimpleMinCostFlow()
    flow.add_arcs_with_capacity_and_unit_cost(
        np.concatenate(tails).astype(np.int32),
        np.concatenate(ends).astype(np.int32),
        np.concatenate(caps).astype(np.int64),
        np.minimum(np.concatenate(costs), 2**40).astype(np.int64),
    )
    flow.set_node_supply(source, whole)
    flow.set_node_supply(sink, -whole)
    status = flow.solve()
    if status != flow.OPTIMAL:
        raise RuntimeError(f"min-cost flow failed with status {status}")
    sent = flow.flows(np.arange(n, n + rr.size)).astype(float)
    return np.divide(sent, supply[rr], out=np.zeros_like(sent), where=supply[rr] > 0)


def largest_sizes(inst: SitingInstance, model: SitingModel) -> np.ndarray:
    """Each point's largest parcel size (0 S, 1 M, 2 L): where its parcels enter a standing
    locker's compartments, a size or larger."""
    return 2 - np.argmax(model.size_mix(inst)[:, ::-1] > 0, axis=1)


def _add_standing_sizes(
    inst: SitingInstance,
    model: SitingModel,
    is_open: np.ndarray,
    rr: np.ndarray,
    jj: np.ndarray,
    arcs: tuple[list, list, list],
    *,
    first: int,
    whole: int,
    rounding: Callable[[np.ndarray], np.ndarray],
) -> int:
    """Under a sizing, adds the open standing lockers' compartments by size to a flow whose
    point nodes are 0..n-1 and site nodes n..n+m-1: ``arcs`` are its lists of tails, heads and
    capacities, whose second entries are the pairs' (rr, jj) arcs; returns the arcs added (none
    where no standing locker is open, the network then left as it was).

    The k-th open standing locker's node of size t is ``first + 3k + t``; its arc to the site
    carries what its compartments of that size turn over (to 1/1000 parcel, ``rounding``), and
    an arc of ``whole`` (every parcel) passes on to the next larger size (S -> M -> L), so a
    parcel takes a compartment of its size or larger, as the MIP's "size >= t" rows say. A pair
    to such a locker enters at its point's largest size: exact for points of one size
    (``split_by_size`` makes every point in reach of a standing locker so); for the others it
    holds their parcels for certain but may turn some away."""
    if model.sizing is None:
        return 0
    standing = np.flatnonzero(inst.built & is_open)
    if not standing.size:
        return 0
    tails, heads, caps = arcs
    n = inst.n_demand
    entry = np.full(inst.n_sites, -1, dtype=np.int64)
    entry[standing] = first + 3 * np.arange(standing.size)
    largest = largest_sizes(inst, model)
    heads[1] = np.where(entry[jj] >= 0, entry[jj] + largest[rr], n + jj)
    nodes = entry[standing][:, None] + np.arange(3)
    have = inst.built_sizes()[standing] * model.sizing.throughput
    onward = nodes[:, :2].ravel()  # each size's node to the next larger size's
    tails += [nodes.ravel(), onward]
    heads += [np.repeat(n + standing, 3), onward + 1]
    caps += [rounding(have * SCALE).astype(np.int64).ravel(), np.full(onward.size, whole)]
    return nodes.size + onward.size


def _size_loads(inst: SitingInstance, model: SitingModel, rr, jj, frac) -> np.ndarray:
    """Parcels a day each site takes that need a compartment of size >= S, M, L (sites x 3)."""
    share = model.size_at_least(inst)
    parcels = inst.weight[rr] * frac
    return np.stack(
        [sum_at(jj, parcels * share[rr, t], inst.n_sites) for t in range(3)],
        axis=1,
    )


def _built_room(inst: SitingInstance, model: SitingModel, rr, jj, frac) -> np.ndarray:
    """Per site, the share of its load its standing compartments hold by size (1 elsewhere):
    the flow holds each size, but on parcels rounded to 1/1000, which may pass it by a hair."""
    need = _size_loads(inst, model, rr, jj, frac)
    have = at_least(inst.built_sizes()) * model.sizing.throughput
    room = np.divide(have, need, out=np.ones_like(need), where=need > have)
    return np.where(inst.built, room.min(axis=1), 1.0)


def fewest_compartments(
    inst: SitingInstance, model: SitingModel, rr: np.ndarray, jj: np.ndarray, frac: np.ndarray
) -> np.ndarray:
    """Fewest S/M/L compartments per site (sites x 3) that hold the load assigned by the pairs
    (rr, jj) with fractions ``frac``: enough L for large parcels, M+L for medium-or-larger, ...
    A locker whose compartments already stand keeps them."""
    need = _size_loads(inst, model, rr, jj, frac)
    cum = np.ceil(need / model.sizing.throughput - 1e-9).astype(np.int64)  # of size >= t
    cum = np.maximum.accumulate(cum[:, ::-1], axis=1)[:, ::-1]
    return np.where(inst.built[:, None], inst.built_sizes(), of_each_size(cum))


def effective_capacity(inst: SitingInstance, model: SitingModel) -> np.ndarray:
    """Parcels a day each site can take: its capacity, capped by the largest sized locker, or
    by the compartments a standing locker has (all sizes together)."""
    cap = inst.capacity.copy()
    if model.sizing is not None:
        most = np.where(inst.built, inst.built_sizes().sum(axis=1), model.sizing.max_compartments)
        cap = np.minimum(cap, most * model.sizing.throughput)
    return cap


def max_service(
    inst: SitingInstance,
    model: SitingModel,
    is_open: np.ndarray,
    *,
    total: float | None = None,
    certain: bool = False,
) -> tuple[float, np.ndarray, np.ndarray]:
    """Most parcels the open sites can serve within capacity (and ``total`` overall), by max
    flow: (parcels served, served per point, load per site). Under a sizing a standing
    locker's compartments of each size are capacities of their own (``_add_standing_sizes``): seen
    as one total, 6 S + 3 L compartments took 9 medium parcels where only 3 fit, and the swap
    and window searches kept plans for service they could not give. Parcels and capacities are
    rounded up to 1/1000, so the value never falls below the exact one (it may serve as a
    bound) where every point in reach of an open standing locker is of one size, as ``solve``
    splits them. ``certain`` rounds capacities down instead: a point then served all its
    (rounded up) parcels has them all served in the exact numbers too (``serves_everyone``)."""
    n, m = inst.n_demand, inst.n_sites
    cap = effective_capacity(inst, model)
    rr, jj, _ = pairs(inst)
    on = is_open[jj]
    rr, jj = rr[on], jj[on]
    supply = np.ceil(inst.weight * SCALE).astype(np.int64)
    whole = int(supply.sum())
    rounding = np.floor if certain else np.ceil
    site_cap = np.where(np.isfinite(cap), rounding(cap * SCALE), whole).astype(np.int64)
    source, hub, sink = n + m, n + m + 1, n + m + 2
    limit = whole if total is None else min(whole, int(np.ceil(total * SCALE)))
    tails = [np.full(n, source), rr, np.arange(n, n + m), [hub]]
    heads = [np.arange(n), n + jj, np.full(m, hub), [sink]]
    caps = [supply, supply[rr], np.where(is_open, site_cap, 0), [limit]]
    arcs = (tails, heads, caps)
    _add_standing_sizes(
        inst, model, is_open, rr, jj, arcs, first=sink + 1, whole=whole, rounding=rounding
    )
    flow = max_flow.SimpleMaxFlow()
    flow.add_arcs_with_capacity(
        np.concatenate(tails).astype(np.int32),
        np.concatenate(heads).astype(np.int32),
        np.concatenate(caps).astype(np.int64),
    )
    if flow.solve(source, sink) != flow.OPTIMAL:
        raise RuntimeError("max flow failed")
    served = flow.flows(np.arange(n)) / SCALE
    load = flow.flows(np.arange(n + rr.size, n + rr.size + m)) / SCALE
    return flow.optimal_flow() / SCALE, served, load


def serves_everyone(inst: SitingInstance, model: SitingModel) -> bool:
    """Whether every site open, each as large as it may be, serves every parcel in reach of
    some site: then no plan need leave any unserved, and set cover and facility location hold
    them to that (``build``'s floor of 0) rather than trade parcels for money.

    Certain (``max_service`` with capacities rounded down, parcels up): a yes holds for the
    exact numbers, where a yes of the flow rounding capacities up could be 1/1000 parcel a site
    wrong, a floor no plan meets; a no may be rounding alone (an LP then decides). Where
    lockers stand under a sizing a yes is as certain: the flow holds their compartments of
    each size as the MIP's rows do, a new locker's load within its largest size fits in some
    compartments, and a point of several sizes enters a standing locker at its largest (a no
    may then also be such a point's smaller parcels, which the MIP would fit)."""
    every = np.ones(inst.n_sites, dtype=bool)
    _, served, _ = max_service(inst, model, every, certain=True)
    need = np.ceil(inst.weight * SCALE) / SCALE
    return bool((served >= need)[inst.in_reach].all())


def to_serve_most(inst: SitingInstance, model: SitingModel, is_open: np.ndarray) -> np.ndarray:
    """``is_open`` and the fewest other sites, roughly, that serve the most parcels with them:
    those a min-cost flow over every site loads, at a price of one per parcel through a site
    not yet open. Leaving a parcel unserved costs more than any path that serves it (a path
    through each site at most once), so the flow serves the most parcels first."""
    rr, jj, _ = pairs(inst)
    every = np.ones(inst.n_sites, dtype=bool)
    unit = (~is_open[jj]).astype(float)
    cap = effective_capacity(inst, model)
    frac = _min_cost_flow(inst, model, every, rr, jj, unit, cap, inst.n_sites + 1.0)
    return is_open | (sum_at(jj, inst.weight[rr] * frac, inst.n_sites) > 0)


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
    return max_service(inst, model, every, total=float(top))[0]
