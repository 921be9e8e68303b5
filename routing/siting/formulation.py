"""Sparse MIP formulations of the siting models, built as matrices (no per-term Python calls).

Only pairs within reach get variables or matrix entries. Uncapacitated p-median and facility
location use the radius formulation (Elloumi 2010): per demand point one variable per distinct
distance level, "no open site within this distance", chained level to level, so the matrix has
one entry per pair; its LP bound equals the classic formulation's. Covering models fix
dominated sites closed (``aggregate`` has already merged interchangeable points). Capacitated models
assign fractions of each point's parcels (split demand, as in OR-Library's published optima).
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass

import numpy as np
import scipy.sparse as sp

from routing.siting.model import SitingInstance, SitingModel, at_least


@dataclass
class Mip:
    """A MIP in matrix form plus where each decision sits among its columns."""

    A: sp.csr_matrix
    row_lb: np.ndarray
    row_ub: np.ndarray
    var_lb: np.ndarray
    var_ub: np.ndarray
    obj: np.ndarray
    integer: np.ndarray
    offset: float
    maximize: bool
    y: np.ndarray
    x: np.ndarray | None = None
    n: np.ndarray | None = None  # sizing: per site, compartments of size >= S, >= M, >= L
    s: np.ndarray | None = None
    assign: np.ndarray | None = None  # capacitated: row "point i served once" per point (-1: none)
    floor_row: int | None = None  # a shortfall's second stage: "parcels left unserved <= floor"

    @property
    def floor(self) -> float | None:
        """The most parcels in reach a plan may leave unserved (a shortfall's second stage)."""
        return None if self.floor_row is None else float(self.row_ub[self.floor_row])


class _Builder:
    """Collects columns and rows as COO triplets; row/column numbers are handed out in order."""

    def __init__(self) -> None:
        self.lb: list[np.ndarray] = []
        self.ub: list[np.ndarray] = []
        self.obj: list[np.ndarray] = []
        self.integer: list[np.ndarray] = []
        self.nvar = 0
        self.rows: list[np.ndarray] = []
        self.cols: list[np.ndarray] = []
        self.vals: list[np.ndarray] = []
        self.rlb: list[np.ndarray] = []
        self.rub: list[np.ndarray] = []
        self.nrow = 0

    def vars(self, count: int, *, lb=0.0, ub=1.0, obj=0.0, integer=False) -> np.ndarray:
        idx = np.arange(self.nvar, self.nvar + count)
        self.lb.append(np.broadcast_to(np.asarray(lb, float), (count,)))
        self.ub.append(np.broadcast_to(np.asarray(ub, float), (count,)))
        self.obj.append(np.broadcast_to(np.asarray(obj, float), (count,)))
        if integer:
            self.integer.append(idx)
        self.nvar += count
        return idx

    def rows_(self, count: int, lb, ub) -> np.ndarray:
        idx = np.arange(self.nrow, self.nrow + count)
        self.rlb.append(np.broadcast_to(np.asarray(lb, float), (count,)))
        self.rub.append(np.broadcast_to(np.asarray(ub, float), (count,)))
        self.nrow += count
        return idx

    def terms(self, rows, cols, vals) -> None:
        rows, cols = np.asarray(rows), np.asarray(cols)
        self.rows.append(rows)
        self.cols.append(cols)
        self.vals.append(np.broadcast_to(np.asarray(vals, float), rows.shape))

    def build(self, *, offset: float, maximize: bool, **where) -> Mip:
        def cat(parts: list[np.ndarray]) -> np.ndarray:
            # a model may have no rows at all (no point in reach of any site): numpy refuses
            # to concatenate nothing
            return np.concatenate(parts) if parts else np.zeros(0)

        A = sp.csr_matrix(
            (cat(self.vals), (cat(self.rows), cat(self.cols))), shape=(self.nrow, self.nvar)
        )
        integer = np.concatenate(self.integer) if self.integer else np.zeros(0, dtype=np.int64)
        return Mip(
            A,
            cat(self.rlb),
            cat(self.rub),
            cat(self.lb),
            cat(self.ub),
            cat(self.obj),
            integer,
            offset,
            maximize,
            **where,
        )


def pairs(inst: SitingInstance) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(demand index, site index, distance) for every pair within reach, row-major."""
    r = inst.reach
    return np.repeat(np.arange(r.shape[0]), np.diff(r.indptr)), r.indices, r.data


def sum_at(index: np.ndarray, values: np.ndarray, size: int) -> np.ndarray:
    """Per position 0..size-1, the sum of ``values`` at it: ``np.bincount`` with weights, but
    floats always (numpy gives ints for an empty ``index``, and float arithmetic on them in
    place then fails, as where no pair is in reach)."""
    return np.bincount(index, values, minlength=size).astype(float, copy=False)


def site_cost(inst: SitingInstance) -> np.ndarray:
    """What opening each site costs in set covering: its fixed cost, or 1 each if all are free."""
    return inst.fixed_cost if inst.fixed_cost.any() else np.ones(inst.n_sites)


STRONG_LINK_MAX_PAIRS = 50_000


def build(
    inst: SitingInstance,
    model: SitingModel,
    *,
    strong: bool | None = None,
    floor: float | None = None,
) -> Mip:
    """The MIP of ``model`` on ``inst``.

    ``strong`` adds x_ij <= y_j links to capacitated models: a tighter LP where capacity is
    slack, but one row per pair; by default only up to ``STRONG_LINK_MAX_PAIRS`` pairs (where
    capacity binds, as at city scale, the capacity rows alone already give a close bound).
    ``floor`` (capacitated set cover and facility location) is the fewest parcels in reach any
    plan leaves unserved (``_unserved_slack``): a shortfall's second stage, or 0 where every
    parcel in reach can be served (``flow.serves_everyone``), so that the MIP serves them all.
    None where it is not known: each unserved parcel is then priced instead (``big_penalty``).
    Uncapacitated set cover and facility location need not reach a point with no parcels
    (``without_empty_points``); capacitated, such a point's slack leaves it unserved for free.
    """
    model.check_against(inst)
    if strong is None:
        strong = inst.reach.nnz <= STRONG_LINK_MAX_PAIRS
    b = _Builder()
    m = inst.n_sites
    y = b.vars(m, lb=inst.must_open.astype(float), integer=True)
    if model.is_capacitated:
        return _capacitated(inst, model, b, y, strong, floor)
    inst = without_empty_points(inst, model)  # no column per pair here: the caller's stay valid
    if model.kind in ("maxcover", "setcover"):
        return _covering(inst, model, b, y)
    return _radius(inst, model, b, y)


def without_empty_points(inst: SitingInstance, model: SitingModel) -> SitingInstance:
    """``inst`` with its points that have no parcels out of every site's reach, for set cover
    and facility location: a point with no parcels need not be reached (what a planner
    expects). ``build`` applies it to the uncapacitated MIPs (their covering and distance-level
    rows), whose columns do not follow the pairs, so a caller's own pairs stay valid. ``solve``
    plans on the instance it returns, so that the heuristics and bounds keep the same rule: the
    greedy set cover counts points reached, and a capacitated MIP's assignment columns must be
    the flows' pairs. Left in, uncapacitated facility location's MIP had to reach such a point
    while its heuristic ignored it (the gap against the MIP's bound read inf), and capacitated
    set cover's bound from the uncapacitated optimum paid for reaching it (a dearer plan
    "proven" optimal)."""
    if model.kind not in ("setcover", "facility"):
        return inst
    empty = inst.weight <= 0
    if not (empty & inst.in_reach).any():
        return inst
    r = inst.reach
    keep = np.repeat(~empty, np.diff(r.indptr))
    indptr = np.r_[0, np.cumsum(np.where(empty, 0, np.diff(r.indptr)))]
    reach = sp.csr_matrix((r.data[keep], r.indices[keep], indptr), shape=r.shape)
    return dataclasses.replace(inst, reach=reach)


def _budget_rows(inst: SitingInstance, model: SitingModel, b: _Builder, y, n=None, costs=None):
    if model.p is not None:
        row = b.rows_(1, -np.inf if model.kind == "maxcover" else model.p, model.p)
        b.terms(np.full(len(y), row[0]), y, 1.0)
    if model.budget is not None:
        row = b.rows_(1, -np.inf, model.budget)
        b.terms(np.full(len(y), row[0]), y, inst.fixed_cost)
        if n is not None:
            b.terms(np.full(n.size, row[0]), n.ravel(), costs)


def dominated_sites(inst: SitingInstance, cost: np.ndarray) -> np.ndarray:
    """Sites a covering model never needs: another site reaches a superset for no more money.

    Among sites reaching the very same points at the same cost, the first one is kept.
    """
    reach = inst.reach.copy()
    reach.data = np.ones_like(reach.data)
    size = np.asarray(reach.sum(axis=0)).ravel()
    overlap = (reach.T @ reach).tocoo()
    j, k, both = overlap.row, overlap.col, overlap.data
    cheaper = (cost[k] < cost[j]) | ((cost[k] == cost[j]) & ((size[k] > size[j]) | (k < j)))
    hit = (j != k) & (both >= size[j]) & cheaper
    out = np.zeros(inst.n_sites, dtype=bool)
    out[j[hit]] = True
    out[size == 0] = True
    return out & ~inst.must_open


def _covering(inst: SitingInstance, model: SitingModel, b: _Builder, y) -> Mip:
    """Covering rows for points reaching some site; dominated sites are fixed closed."""
    rows, cols, _ = pairs(inst)
    reached = np.flatnonzero(np.diff(inst.reach.indptr) > 0)
    local = np.full(inst.n_demand, -1, dtype=np.int64)
    local[reached] = np.arange(reached.size)
    cost = inst.fixed_cost if model.budget is not None else np.zeros(inst.n_sites)
    if model.kind == "setcover":
        cost = site_cost(inst)
    b.ub[0] = np.where(dominated_sites(inst, cost), 0.0, 1.0)
    if model.kind == "maxcover":
        u = b.vars(reached.size, obj=inst.weight[reached])
        r = b.rows_(reached.size, -np.inf, 0.0)
        b.terms(r, u, 1.0)
        b.terms(r[local[rows]], y[cols], -1.0)
        _budget_rows(inst, model, b, y)
        return b.build(offset=0.0, maximize=True, y=y)
    b.obj[0] = cost
    r = b.rows_(reached.size, 1.0, np.inf)
    b.terms(r[local[rows]], y[cols], 1.0)
    return b.build(offset=0.0, maximize=False, y=y)


def _radius(inst: SitingInstance, model: SitingModel, b: _Builder, y) -> Mip:
    """p-median / uncapacitated facility location, one chained level per distinct distance."""
    m = inst.n_sites
    rr, jj, dd = pairs(inst)
    order = np.lexsort((dd, rr))
    rr, jj, dd = rr[order], jj[order], dd[order]
    penalty = model.penalty(inst) if model.kind == "pmedian" else None
    empty = np.diff(inst.reach.indptr) == 0
    offset = float(inst.weight[empty].sum() * penalty) if penalty is not None else 0.0
    if model.kind == "pmedian":
        _budget_rows(inst, model, b, y)
    else:
        b.obj[0] = inst.fixed_cost
    if rr.size == 0:
        return b.build(offset=offset, maximize=False, y=y)
    new = np.ones(rr.size, dtype=bool)
    new[1:] = (rr[1:] != rr[:-1]) | (dd[1:] != dd[:-1])
    lev = np.cumsum(new) - 1
    nlev = int(lev[-1]) + 1
    lrow, ld = rr[new], dd[new]
    first = np.ones(nlev, dtype=bool)
    first[1:] = lrow[1:] != lrow[:-1]
    last = np.ones(nlev, dtype=bool)
    last[:-1] = first[1:]
    # Sites reached up to each level; with exactly p open, one of any m-p+1 sites is open, so
    # levels past that count can never be the nearest open one (they are dropped).
    cum = np.cumsum(np.bincount(lev, minlength=nlev))
    starts = np.flatnonzero(first)
    before = np.repeat(np.r_[0, cum[starts[1:] - 1]], np.diff(np.r_[starts, nlev]))
    sure = (cum - before >= m - model.p + 1) if model.kind == "pmedian" else np.zeros(nlev, bool)
    prev_sure = np.zeros(nlev, dtype=bool)
    prev_sure[1:] = sure[:-1] & ~first[1:]
    keep = ~prev_sure
    zmask = keep & ~sure & ~(last & (penalty is None))
    dnext = np.r_[ld[1:], 0.0]
    step = np.where(last, (penalty or 0.0) - ld, dnext - ld)
    w = inst.weight[lrow]
    z = -np.ones(nlev, dtype=np.int64)
    z[zmask] = b.vars(int(zmask.sum()), obj=(w * step)[zmask])
    row = -np.ones(nlev, dtype=np.int64)
    row[keep] = b.rows_(int(keep.sum()), np.where(first[keep], 1.0, 0.0), np.inf)
    on = keep[lev]
    b.terms(row[lev[on]], y[jj[on]], 1.0)
    g = np.flatnonzero(zmask)
    b.terms(row[g], z[g], 1.0)
    g = np.flatnonzero(keep & ~first)
    b.terms(row[g], z[g - 1], -1.0)
    offset += float((inst.weight[lrow[first]] * ld[first]).sum())
    return b.build(offset=offset, maximize=False, y=y)


def _capacitated(
    inst: SitingInstance, model: SitingModel, b: _Builder, y, strong: bool, floor: float | None
) -> Mip:
    rr, jj, dd = pairs(inst)
    w = inst.weight
    sizing = model.sizing
    x = b.vars(rr.size)
    n = None
    costs = None
    if sizing is not None:
        # Columns count each site's compartments of size >= S, >= M, >= L (N_S >= N_M >= N_L),
        # not of each size: the same plans, but each count then sits in one capacity row alone
        # ("parcels of size >= t <= turnover x N_t"), which SCIP branches and cuts on at once;
        # on per-size counts it ended a 70-column MIP at 0.8 % after 60 s.
        # A standing locker's compartments are fixed as they are (and cost nothing).
        built, have = inst.built, at_least(inst.built_sizes())
        lb = np.where(built[:, None], have, 0).ravel()
        ub = np.where(built[:, None], have, sizing.max_compartments).ravel()
        n = b.vars(3 * inst.n_sites, lb=lb, ub=ub, integer=True).reshape(-1, 3)
        price = sizing.site_costs(inst)  # N_t's price: size t's less the next smaller size's
        costs = (price - np.c_[np.zeros(inst.n_sites), price[:, :2]]).ravel()
    served_rows = np.flatnonzero(np.diff(inst.reach.indptr) > 0)
    must_serve = model.kind in ("setcover", "facility")
    if must_serve:
        slack, floor_row = _unserved_slack(inst, model, b, served_rows, floor)
        r = b.rows_(served_rows.size, 1.0, 1.0)
        b.terms(r, slack, 1.0)
    else:
        slack = floor_row = None
        r = b.rows_(served_rows.size, -np.inf, 1.0)
    rowof = np.full(inst.n_demand, -1, dtype=np.int64)
    rowof[served_rows] = r
    assign = rowof
    b.terms(rowof[rr], x, 1.0)
    if strong:
        r = b.rows_(rr.size, -np.inf, 0.0)
        b.terms(r, x, 1.0)
        b.terms(r, y[jj], -1.0)
    cap = inst.capacity
    fin = np.flatnonzero(np.isfinite(cap))
    if fin.size:
        site_row = np.full(inst.n_sites, -1, dtype=np.int64)
        site_row[fin] = b.rows_(fin.size, -np.inf, 0.0)
        on = np.isfinite(cap[jj])
        b.terms(site_row[jj[on]], x[on], w[rr[on]])
        b.terms(site_row[fin], y[fin], -cap[fin])
    if sizing is not None:
        m = inst.n_sites
        new = np.flatnonzero(~built)
        r = b.rows_(new.size, -np.inf, 0.0)  # N_S <= max_compartments x y
        b.terms(r, n[new, 0], 1.0)
        b.terms(r, y[new], -float(sizing.max_compartments))
        for t in (1, 2):  # N_t <= N_(t-1)
            r = b.rows_(new.size, -np.inf, 0.0)
            b.terms(r, n[new, t], 1.0)
            b.terms(r, n[new, t - 1], -1.0)
        share = model.size_at_least(inst)  # share of parcels of size >= t
        for t in range(3):
            r = b.rows_(m, -np.inf, 0.0)
            b.terms(r[jj], x, w[rr] * share[rr, t])
            b.terms(r, n[:, t], -sizing.throughput)
    if model.kind == "maxcover":
        b.obj[1] = w[rr]
        _budget_rows(inst, model, b, y, n, costs)
        return b.build(offset=0.0, maximize=True, y=y, x=x, n=n, assign=assign)
    if model.kind == "pmedian":
        penalty = model.penalty(inst)
        b.obj[1] = w[rr] * (dd - penalty)
        _budget_rows(inst, model, b, y, n, costs)
        return b.build(offset=float(w.sum() * penalty), maximize=False, y=y, x=x, n=n)
    b.obj[0] = site_cost(inst) if model.kind == "setcover" else inst.fixed_cost
    if model.kind == "facility":
        b.obj[1] = w[rr] * dd
    if n is not None:
        b.obj[2] = costs
    return b.build(offset=0.0, maximize=False, y=y, x=x, n=n, s=slack, floor_row=floor_row)


def _unserved_slack(
    inst: SitingInstance, model: SitingModel, b: _Builder, served_rows, floor: float | None
) -> tuple[np.ndarray, int | None]:
    """Per point in reach, the share of its parcels left unserved: everyone reachable is served
    unless capacity runs out, and the slack keeps the model feasible and shows the shortfall.

    Each unserved parcel is priced above any plan's whole cost (``big_penalty``), so the MIP
    serves the most parcels first. Where capacity falls short that price swamps the cost:
    SCIP ran tiny sized set covers to their limit at gaps of 1e-5 to 7e-4 of the objective.
    So given the ``floor``, the fewest parcels any plan leaves unserved (found first,
    ``solve._least_unserved``), the slack is free and held to it by one row instead, and the
    objective is money alone. (Pricing only the parcels left unserved beyond the floor, so
    that a start serving fewer stayed feasible, still left SCIP at the limit on two of those
    cases where the row proves them in 0.1 s.) A floor of 0, where no plan need leave any
    parcel unserved, holds every one served the same way; the price, which no finite value
    makes exact (``big_penalty``), is for a floor not known. Returns the slack columns and
    that row (None without a floor).
    """
    w = inst.weight[served_rows]
    price = big_penalty(inst, model) * w if floor is None else 0.0
    slack = b.vars(served_rows.size, obj=price)
    if floor is None:
        return slack, None
    row = b.rows_(1, -np.inf, floor)
    b.terms(np.full(slack.size, row[0]), slack, w)
    return slack, int(row[0])


def big_penalty(inst: SitingInstance, model: SitingModel) -> float:
    """Per-parcel price of leaving a point unserved, for a MIP with no ``floor`` (the fewest
    parcels unserved not known) and for comparing plans in the MIP's units.

    A price large enough that every plan serves the most parcels would have to exceed what
    any plan spends for any gain in service. Service moves in whole steps of a point, a
    capacity or a turnover only where demand is not split and compartments not counted; split
    demand and whole compartment counts let it move by any fraction (a site of 9.9 parcels
    where 10 come: 0.1 parcel for a second site's fixed cost), so no finite price is exact,
    and one scaled to the finest fraction the data allow swamps the cost (SCIP, above).
    Hence the floor (0 where nothing need go unserved), which ``build`` holds by a row; this
    price, the whole cost over the smallest step, is a fallback that may trade fractions of
    parcels for money."""
    total = float(site_cost(inst).sum())
    if model.sizing is not None:
        # every site open, each with the fewest compartments for its load: ceil(load /
        # throughput) of them, at most one more than its share of all parcels. (Pricing every
        # site's max_compartments instead made SCIP's root LP stall on a 60-site campus.)
        most = float(inst.weight.sum()) / model.sizing.throughput + inst.n_sites
        total += most * float(model.sizing.costs.max())
    if model.kind == "facility" and inst.reach.nnz:
        total += float((inst.weight * inst.reach.max(axis=1).toarray().ravel()).sum())
    # Service grows in steps of a point's parcels, a site's capacity or a compartment's turnover.
    steps = [inst.weight[inst.weight > 0], inst.capacity[np.isfinite(inst.capacity)]]
    if model.sizing is not None:
        steps.append(np.array([model.sizing.throughput]))
    step = min((float(v[v > 0].min()) for v in steps if (v > 0).any()), default=1.0)
    return total / step + 1.0
