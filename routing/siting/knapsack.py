"""An upper bound on capacitated maximal covering under a money budget that opens sites whole.

The LP relaxation of the MIP, and the Lagrangian bound (``lagrange.capacitated_cover_bound``),
which reaches it at best, may open a fraction of a site, buying that share of its fixed cost and
of its capacity: a budget worth 3.2 sites of fixed cost and compartments reads as 3.2 sites'
parcels. On the demo map (sites of 20,000, compartments of 300-550, a budget of 200,000) three
full sites (240 parcels a day) were optimal, the LP said 255.6 (6.5 %), and SCIP's bound had not
moved off it after 120 s. This relaxation forgets which point goes where and keeps sites whole:

    max sum_j L_j  s.t.  L_j <= u_j y_j,  sum_j L_j <= D,  sum_j y_j <= p,
                         sum_j s_jt L_j <= turnover x N_t  (t = S, M, L; N_L <= N_M <= N_S),
                         sum_j f_j y_j + sum_t (price_t - price_t-1) N_t <= budget,
                         y_j in {0, 1} (1 where the site must stay open), N_t whole

with u_j the parcels site j can take (its capacity, a sized locker's ``max_compartments``
turned over, and the parcels it reaches), D the parcels in reach of any site, s_jt the least
share of parcels of size t or larger among the points j reaches (0 at a standing locker, whose
compartments cost nothing), N_t the new lockers' compartments of size t or larger, all sites
together, and f_j a site's fixed cost. Any plan is a solution (L_j its sites' loads, N_t their
compartments summed), so the optimum, or a solver's bound on it, bounds the model's from above.
Sites alike in u, f, s and must-open are one class with a whole count of open sites (its loads
summed): the same bound, without the symmetry of many alike binary columns (113 of them left
SCIP at the LP bound after 10 s; as classes HiGHS proves it in milliseconds). The whole
compartments bound the rounding too: with free sites and 50,000 to spend on compartments of
300/400/550 for a 6:3:1 mix, 14 sets of ten serve 93.33 parcels a day, where divisible
compartments would serve 93.90.
"""

from __future__ import annotations

import numpy as np
import scipy.sparse as sp

from routing.siting.exact import solve_mip
from routing.siting.flow import effective_capacity
from routing.siting.formulation import Mip, pairs, sum_at
from routing.siting.model import SitingInstance, SitingModel


def budget_knapsack(inst: SitingInstance, model: SitingModel) -> Mip:
    """The relaxation above as a MIP over classes of alike sites (``y``: each class's count of
    open sites; then the classes' loads and, under a sizing, the new lockers' compartments)."""
    rr, jj, _ = pairs(inst)
    w = inst.weight
    with_parcels = w[rr] > 0
    rr, jj = rr[with_parcels], jj[with_parcels]
    m, sizing = inst.n_sites, model.sizing
    most = np.minimum(effective_capacity(inst, model), sum_at(jj, w[rr], m))
    least = np.zeros((m, 3))  # per site, the least share of size >= t among its points
    if sizing is not None:
        least[:] = 1.0
        np.minimum.at(least, jj, model.size_at_least(inst)[rr])
        least[inst.built] = 0.0  # a standing locker's compartments cost nothing
    site = np.c_[most, inst.fixed_cost, least, inst.must_open]
    kind, size = np.unique(site, axis=0, return_counts=True)
    most, fixed, least, must = kind[:, 0], kind[:, 1], kind[:, 2:5], kind[:, 5]
    c, extra = size.size, 0 if sizing is None else 3
    most_compartments = 0 if sizing is None else sizing.max_compartments * (~inst.built).sum()
    # rows of [open sites, loads, compartments] blocks, each with its upper bound
    rows = [
        ([sp.diags(-most), sp.identity(c), None], np.zeros(c)),  # load <= u x open sites
        ([None, np.ones((1, c)), None], [float(w[np.unique(rr)].sum())]),  # <= all in reach
    ]
    if model.p is not None:
        rows.append(([np.ones((1, c)), None, None], [model.p]))
    money = [fixed[None, :], None, None]
    if sizing is not None:  # the new lockers' compartments of size >= S, >= M, >= L, whole
        turnover = sizing.throughput * sp.identity(3)
        nested = sp.csr_matrix(([1.0, -1.0, 1.0, -1.0], ([0, 0, 1, 1], [1, 0, 2, 1])), (2, 3))
        rows.append(([None, sp.csr_matrix(least.T), -turnover], np.zeros(3)))  # hold loads
        rows.append(([None, None, nested], np.zeros(2)))  # N_M <= N_S, N_L <= N_M
        money[2] = (sizing.costs - np.r_[0.0, sizing.costs[:2]])[None, :]  # t's less t-1's
    rows.append((money, [model.budget]))  # fixed costs and compartments <= budget
    blocks = [row if extra else row[:2] for row, _ in rows]
    row_ub = np.concatenate([ub for _, ub in rows]).astype(float)
    return Mip(
        A=sp.bmat(blocks, format="csr"),
        row_lb=np.full(row_ub.size, -np.inf),
        row_ub=row_ub,
        var_lb=np.r_[np.where(must > 0, size, 0), np.zeros(c + extra)].astype(float),
        var_ub=np.r_[size, most * size, np.full(extra, most_compartments)].astype(float),
        obj=np.r_[np.zeros(c), np.ones(c), np.zeros(extra)],
        integer=np.r_[np.arange(c), 2 * c + np.arange(extra)],
        offset=0.0,
        maximize=True,
        y=np.arange(c),
    )


def knapsack_bound(
    inst: SitingInstance, model: SitingModel, *, time_limit_s: float, rel_gap: float
) -> float:
    """HiGHS's bound on ``budget_knapsack`` after at most ``time_limit_s`` (its optimum where
    it ends, as it does in milliseconds on the demo map and Xinjiekou)."""
    mip = budget_knapsack(inst, model)
    return solve_mip(mip, solver="highs", time_limit_s=time_limit_s, rel_gap=rel_gap).bound
