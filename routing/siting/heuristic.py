"""Fast heuristics on the open set: lazy greedy, vertex substitution (best swap first), and
iterated perturbation (swaps among neighbouring sites) with the time left.

Every uncapacitated model is "minimise sum_i w_i * min(c_ij over open j in reach, P_i)" plus
site costs: p-median (c = distance, P = penalty), maximal covering (c = 0, P = 1: uncovered
parcels), facility location (fixed costs added). Swap values follow Whitaker's fast interchange
as vectorised by Resende and Werneck: gain of opening f, loss of closing r, and a sparse
correction for the points that f and r both matter to, so one sweep over all swaps costs one
pass over the pairs within reach.
"""

from __future__ import annotations

import heapq
import time
from dataclasses import dataclass

import numpy as np
import scipy.sparse as sp

from routing.siting.formulation import pairs, site_cost, sum_at
from routing.siting.model import SitingInstance, SitingModel

_EPS = 1e-9
ILS_PATIENCE = 20  # perturbations in a row without improvement before the search stops


@dataclass
class _Problem:
    """The open-set problem: per-pair cost, per-point fallback, site prices and the limits.
    The pairs (rr, jj, cc) are sorted by point, then cost, so that any subset keeps that order."""

    rr: np.ndarray
    jj: np.ndarray
    cc: np.ndarray
    csc: sp.csc_matrix
    w: np.ndarray
    fallback: np.ndarray
    price: np.ndarray
    p: int | None
    budget: float | None
    spend: np.ndarray
    fixed: np.ndarray
    free_count: bool
    exact_p: bool  # exactly p sites (p-median), not at most p


def open_set(
    inst: SitingInstance,
    model: SitingModel,
    *,
    time_limit_s: float = 10.0,
    seed: int = 0,
    patience: int | None = ILS_PATIENCE,
) -> np.ndarray:
    """A good set of sites to open (boolean mask) for the uncapacitated form of ``model``:
    greedy, swaps to a local optimum, then perturbations until ``time_limit_s`` (seeded) or
    ``patience`` fruitless ones in a row (None: until the time is up)."""
    start = time.perf_counter()
    if model.kind == "setcover":
        return _setcover(inst)
    prob = _problem(inst, model)
    is_open = _greedy(prob)
    deadline = start + time_limit_s
    _interchange(prob, is_open, deadline=deadline)
    return _perturb_and_descend(prob, is_open, deadline=deadline, seed=seed, patience=patience)


def _cost(prob: _Problem, is_open: np.ndarray) -> float:
    c1, _, _ = _nearest_two(prob, is_open)
    return float((prob.w * c1).sum() + prob.price[is_open].sum())


def _perturb_and_descend(
    prob: _Problem, is_open: np.ndarray, *, deadline: float, seed: int, patience: int | None
):
    """Iterated local search: swap a few sites near one another (``_perturb``), descend again,
    keep the result when it is cheaper (the swap neighbourhood alone stops at a local optimum);
    stops at the deadline or after ``patience`` fruitless tries."""
    if time.perf_counter() >= deadline:
        return is_open  # no time for it (OR-Library: the MIP proves those fast from greedy)
    rng = np.random.default_rng(seed)
    near = _overlap(prob)
    best, best_cost = is_open, _cost(prob, is_open)
    stall = 0
    limit = np.inf if patience is None else patience
    while time.perf_counter() < deadline and stall < limit:
        stall += 1
        if not (best & ~prob.fixed).any() or best.all():
            break
        trial = _perturb(prob, near, best, rng)
        if trial is None:
            continue
        if prob.budget is not None and prob.spend[trial].sum() > prob.budget + _EPS:
            continue
        _interchange(prob, trial, deadline=deadline)
        cost = _cost(prob, trial)
        if cost < best_cost - _EPS * max(1.0, abs(best_cost)):
            best, best_cost, stall = trial, cost, 0
    return best


def _overlap(prob: _Problem) -> sp.csr_matrix:
    """Which sites share a point in reach (site x site, the diagonal included)."""
    csc = prob.csc
    ones = np.ones(csc.nnz, dtype=np.float32)  # float: integer products may wrap to 0
    reach = sp.csc_matrix((ones, csc.indices, csc.indptr), shape=csc.shape)
    return (reach.T @ reach).tocsr()


def _perturb(
    prob: _Problem, near: sp.csr_matrix, is_open: np.ndarray, rng: np.random.Generator
) -> np.ndarray | None:
    """``is_open`` with up to 3 sites closed and as many opened, all within two rings of shared
    points around a random open site (None where that ring has no swap to offer). Swaps drawn
    across the whole city were mostly undone by the descent: on the city case 30 s of search
    reached a p-median of 9.04-9.05 million with them, 8.99 million with these."""
    centre = rng.choice(np.flatnonzero(is_open & ~prob.fixed))
    first = near.indices[near.indptr[centre] : near.indptr[centre + 1]]
    ring = np.unique(near[first].indices)
    out, into = ring[is_open[ring] & ~prob.fixed[ring]], ring[~is_open[ring]]
    k = min(3, out.size, into.size)
    if k == 0:
        return None
    trial = is_open.copy()
    trial[rng.choice(out, k, replace=False)] = False
    trial[rng.choice(into, k, replace=False)] = True
    return trial


def _problem(inst: SitingInstance, model: SitingModel) -> _Problem:
    rr, jj, dd = pairs(inst)
    m = inst.n_sites
    if model.kind == "maxcover":
        cc, fallback = np.zeros_like(dd), np.ones(inst.n_demand)
    elif model.kind == "pmedian":
        cc, fallback = dd, np.full(inst.n_demand, model.penalty(inst))
    else:  # facility: serving everyone reachable outweighs any fixed cost
        cc = dd
        fallback = np.full(inst.n_demand, float(dd.max(initial=0.0)) * 2 + 1.0)
        fallback += inst.fixed_cost.sum() / max(inst.weight[inst.weight > 0].min(initial=1.0), 1e-9)
    by_cost = np.lexsort((cc, rr))
    return _Problem(
        rr=rr[by_cost],
        jj=jj[by_cost],
        cc=cc[by_cost],
        csc=_with_rows(rr, jj, cc, inst.reach.shape),
        w=inst.weight,
        fallback=fallback,
        price=inst.fixed_cost if model.kind == "facility" else np.zeros(m),
        p=model.p,
        budget=model.budget,
        spend=inst.fixed_cost,
        fixed=inst.must_open.copy(),
        free_count=model.kind == "facility",
        exact_p=model.kind == "pmedian",
    )


def _with_rows(rr, jj, cc, shape) -> sp.csc_matrix:
    """CSC view of the pairs that keeps explicit zeros (a cost of 0 is a real pair)."""
    order = np.lexsort((rr, jj))
    indptr = np.zeros(shape[1] + 1, dtype=np.int64)
    np.add.at(indptr, jj + 1, 1)
    return sp.csc_matrix((cc[order], rr[order], np.cumsum(indptr)), shape=shape)


def _column(prob: _Problem, f: int) -> tuple[np.ndarray, np.ndarray]:
    lo, hi = prob.csc.indptr[f], prob.csc.indptr[f + 1]
    return prob.csc.indices[lo:hi], prob.csc.data[lo:hi]


def _gain(prob: _Problem, f: int, best: np.ndarray) -> float:
    rows, cost = _column(prob, f)
    return float((prob.w[rows] * np.maximum(best[rows] - cost, 0.0)).sum())


def _can_add(prob: _Problem, is_open: np.ndarray, f: int, cheapest: np.ndarray | None) -> bool:
    """Whether site ``f`` may open: within ``p`` and the money budget, and where exactly ``p``
    sites must open, with money left for the cheapest closed sites to make up the count
    (``cheapest``: the closed sites' spends sorted and summed, 0 first; ``_cheapest``).
    Without that reserve a p-median's greedy spent the budget on a few dear sites and stopped
    short of p, a plan its MIP does not allow."""
    count = int(is_open.sum())
    if prob.p is not None and count + 1 > prob.p:
        return False
    if prob.budget is None:
        return True
    need = prob.spend[f]
    if cheapest is not None:
        # f and the k - 1 cheapest other closed sites: the k cheapest if f is among them
        k = prob.p - count
        need = max(cheapest[k], prob.spend[f] + cheapest[k - 1])
    return prob.spend[is_open].sum() + need <= prob.budget + _EPS


def _cheapest(prob: _Problem, is_open: np.ndarray) -> np.ndarray | None:
    """For exactly ``p`` sites under a money budget, what the k cheapest closed sites cost
    together, for k = 0, 1, ... (None where the count or the money is free)."""
    if not prob.exact_p or prob.budget is None:
        return None
    return np.r_[0.0, np.cumsum(np.sort(prob.spend[~is_open]))]


def _greedy(prob: _Problem) -> np.ndarray:
    """Lazy greedy: gains only shrink as sites open, so stale heap keys are upper bounds.

    With exactly ``p`` sites and a budget, a site opens only if the cheapest closed ones can
    still make up ``p`` (``_can_add``): the model's check that the cheapest ``p`` fit makes that
    hold at the start, the cheapest closed site always keeps it, and a site refused once stays
    refused (the reserve only grows as sites open), so the count always reaches ``p``."""
    m = prob.csc.shape[1]
    is_open = prob.fixed.copy()
    best = prob.fallback.copy()
    for f in np.flatnonzero(is_open):
        rows, cost = _column(prob, f)
        best[rows] = np.minimum(best[rows], cost)
    ratio = prob.budget is not None and prob.p is None
    cheapest = _cheapest(prob, is_open)

    def key(f: int) -> float:
        value = _gain(prob, f, best) - prob.price[f]
        return value / max(prob.spend[f], _EPS) if ratio else value

    heap = [(-key(f), f) for f in range(m) if not is_open[f]]
    heapq.heapify(heap)
    while heap and (prob.p is None or is_open.sum() < prob.p):
        _, f = heapq.heappop(heap)
        fresh = key(f)
        if heap and fresh < -heap[0][0] - _EPS:
            heapq.heappush(heap, (-fresh, f))
            continue
        if fresh <= _EPS and (prob.free_count or prob.p is None):
            break
        if not _can_add(prob, is_open, f, cheapest):
            continue
        is_open[f] = True
        cheapest = _cheapest(prob, is_open)
        rows, cost = _column(prob, f)
        best[rows] = np.minimum(best[rows], cost)
    return is_open


def _nearest_two(prob: _Problem, is_open: np.ndarray):
    """Per point: cost of the nearest open site (or fallback), which site, and the second cost.
    The open pairs come out of the problem's already sorted by point and cost: sorting them
    here on every call took two thirds of the local search's time at city scale."""
    n = len(prob.w)
    on = is_open[prob.jj]
    rr, jj, cc = prob.rr[on], prob.jj[on], prob.cc[on]
    first = np.ones(rr.size, dtype=bool)
    first[1:] = rr[1:] != rr[:-1]
    second = np.zeros(rr.size, dtype=bool)
    second[1:] = first[:-1] & ~first[1:]
    c1, c2 = prob.fallback.copy(), prob.fallback.copy()
    a1 = np.full(n, -1, dtype=np.int64)
    c1[rr[first]] = np.minimum(cc[first], prob.fallback[rr[first]])
    a1[rr[first]] = np.where(cc[first] < prob.fallback[rr[first]], jj[first], -1)
    c2[rr[second]] = np.minimum(cc[second], prob.fallback[rr[second]])
    return c1, a1, c2


def _interchange(prob: _Problem, is_open: np.ndarray, *, deadline: float) -> None:
    """Best-improvement swaps (plus adds/drops when the count is free) until none improves."""
    m = prob.csc.shape[1]
    while time.perf_counter() < deadline:
        c1, a1, c2 = _nearest_two(prob, is_open)
        w = prob.w
        rows, cols = prob.csc.indices, np.repeat(np.arange(m), np.diff(prob.csc.indptr))
        d = prob.csc.data
        gain = np.bincount(cols, w[rows] * np.maximum(c1[rows] - d, 0.0), minlength=m)
        assigned = a1 >= 0
        loss = np.bincount(a1[assigned], (w * (c2 - c1))[assigned], minlength=m)
        closed = ~is_open
        movable = is_open & ~prob.fixed
        slack = None if prob.budget is None else prob.budget - prob.spend[is_open].sum()
        best_delta, best_move = -_EPS * max(1.0, float(w.sum())), None
        # swaps (f in, r out) with the sparse correction
        sel = assigned[rows] & closed[cols]
        i, f = rows[sel], cols[sel]
        r = a1[i]
        corr = w[i] * (np.minimum(c2[i], d[sel]) - np.minimum(c1[i], d[sel]) - (c2[i] - c1[i]))
        keys, inv = np.unique(f * m + r, return_inverse=True)
        corr_sum = np.bincount(inv, corr)
        kf, kr = keys // m, keys % m
        delta = -gain[kf] + loss[kr] + corr_sum + prob.price[kf] - prob.price[kr]
        ok = movable[kr]
        if slack is not None:
            ok &= prob.spend[kf] - prob.spend[kr] <= slack + _EPS
        if ok.any():
            k = int(np.argmin(np.where(ok, delta, np.inf)))
            if delta[k] < best_delta:
                best_delta, best_move = float(delta[k]), (int(kf[k]), int(kr[k]))
        # swaps without shared points: best gain in, cheapest loss out
        if closed.any() and movable.any():
            ins = np.flatnonzero(closed)
            ins = ins[np.argsort(-(gain[ins] - prob.price[ins]))[:50]]
            outs = np.flatnonzero(movable)
            out_val = loss[outs] - prob.price[outs]
            for fi in ins:
                fit = np.ones(outs.size, dtype=bool)
                if slack is not None:
                    fit = prob.spend[fi] - prob.spend[outs] <= slack + _EPS
                if not fit.any():
                    continue
                k = int(np.argmin(np.where(fit, out_val, np.inf)))
                value = -gain[fi] + prob.price[fi] + out_val[k]
                if value < best_delta:
                    best_delta, best_move = float(value), (int(fi), int(outs[k]))
                break
        if prob.free_count:
            add = -gain + prob.price
            add[~closed] = np.inf
            drop = np.where(movable, loss - prob.price, np.inf)
            if add.min() < best_delta:
                best_delta, best_move = float(add.min()), (int(np.argmin(add)), None)
            if drop.min() < best_delta:
                best_delta, best_move = float(drop.min()), (None, int(np.argmin(drop)))
        if best_move is None:
            return
        f_in, r_out = best_move
        if f_in is not None:
            is_open[f_in] = True
        if r_out is not None:
            is_open[r_out] = False


def _setcover(inst: SitingInstance) -> np.ndarray:
    """Greedy set cover by newly covered points per cost, then drop redundant sites."""
    price = site_cost(inst)
    rr, jj, _ = pairs(inst)
    csc = _with_rows(rr, jj, np.ones(rr.size), inst.reach.shape)
    is_open = inst.must_open.copy()
    covered = np.zeros(inst.n_demand, dtype=bool)
    coverable = np.diff(inst.reach.indptr) > 0
    for f in np.flatnonzero(is_open):
        covered[csc.indices[csc.indptr[f] : csc.indptr[f + 1]]] = True

    def new(f: int) -> float:
        rows = csc.indices[csc.indptr[f] : csc.indptr[f + 1]]
        return float((~covered[rows]).sum()) / max(price[f], _EPS)

    heap = [(-new(f), f) for f in range(inst.n_sites) if not is_open[f]]
    heapq.heapify(heap)
    while heap and not covered[coverable].all():
        _, f = heapq.heappop(heap)
        fresh = new(f)
        if heap and fresh < -heap[0][0] - _EPS:
            heapq.heappush(heap, (-fresh, f))
            continue
        if fresh <= 0:
            continue
        is_open[f] = True
        covered[csc.indices[csc.indptr[f] : csc.indptr[f + 1]]] = True
    times = np.bincount(rr[is_open[jj]], minlength=inst.n_demand)
    for f in sorted(np.flatnonzero(is_open & ~inst.must_open), key=lambda s: -price[s]):
        rows = csc.indices[csc.indptr[f] : csc.indptr[f + 1]]
        if (times[rows] >= 2).all():
            is_open[f] = False
            times[rows] -= 1
    return is_open


def relief_sites(
    inst: SitingInstance,
    cap: np.ndarray,
    is_open: np.ndarray,
    short: np.ndarray,
    *,
    price: np.ndarray | None = None,
    unit: np.ndarray | None = None,
) -> np.ndarray:
    """Closed sites to open for the parcels ``short`` per point that the open sites cannot
    hold: the one whose fixed ``price`` plus the cheapest assignment (``unit`` cost per
    parcel of each pair within reach, in ``pairs`` order) of what it can take of them, up to
    its ``cap``, costs least per parcel taken (of points at the same cost, a share of each),
    then the next for what is left, up to as many as the parcels short would fill at a
    typical site's capacity. Among sites at the same cost per parcel the one reaching most
    goes first (without prices or costs, every site).

    Opening one site per flow took 31 s on the city case at 30 parcels a locker (150 sites,
    0.2 s a flow) and ran the solve past its limit; in batches the flow settles in a few
    rounds. Ranked by parcels in reach alone, sites had opened in the order of their numbers
    where every site reaches every point (OR-Library's cap files), whatever they cost: 15 %
    dearer than the optimum on a 100 x 1000 case. Sites of no capacity are never opened."""
    rr, jj, _ = pairs(inst)
    unit = np.zeros(rr.size) if unit is None else unit
    price = np.zeros(inst.n_sites) if price is None else price
    order = np.lexsort((unit, jj))  # by site, cheapest pair first
    rr, jj, unit = rr[order], jj[order], unit[order]
    start = np.searchsorted(jj, jj)  # each pair's site's first pair
    # pairs of one site and cost form a group, which takes its share of what fits in part
    new = np.ones(jj.size, dtype=bool)
    new[1:] = (jj[1:] != jj[:-1]) | (unit[1:] != unit[:-1])
    group = np.cumsum(new) - 1
    first = np.flatnonzero(new)
    can = ~is_open & (cap > 0)
    short = short * (sum_at(rr, can[jj], inst.n_demand) > 0)  # what a closed site could take
    room = cap[can & np.isfinite(cap)]
    typical = float(np.median(room)) if room.size else float(short.sum())
    chosen = np.zeros(inst.n_sites, dtype=bool)
    for _ in range(max(1, int(np.ceil(short.sum() / max(typical, _EPS))))):
        left = short[rr]
        before = np.cumsum(left) - left
        earlier = (before[first] - before[start[first]])[group]  # in the site's cheaper groups
        size = sum_at(group, left, first.size)[group]
        share = np.divide(cap[jj] - earlier, size, out=np.zeros_like(size), where=size > 0)
        take = left * np.clip(share, 0.0, 1.0)
        taken = sum_at(jj, take, inst.n_sites)
        fits = can & ~chosen & (taken > _EPS)
        if not fits.any():
            break
        score = (price + sum_at(jj, take * unit, inst.n_sites)) / np.maximum(taken, _EPS)
        sites = np.flatnonzero(fits)
        least = score[sites].min()
        sites = sites[score[sites] <= least + _EPS * abs(least)]  # ties: the most in reach
        j = int(sites[np.argmax(sum_at(jj, left, inst.n_sites)[sites])])
        chosen[j] = True
        mine = jj == j
        short[rr[mine]] = np.maximum(short[rr[mine]] - take[mine], 0.0)
    return chosen
