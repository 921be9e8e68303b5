"""Capacitated facility location's strong MIP on the sites the Lagrangian leaves free.

On 100 x 1,000 OR-Library-sized cases the MIP without x_ij <= y_j links (what ``build`` makes
past ``STRONG_LINK_MAX_PAIRS``) has a weak bound, and the one with them does not get through
its root LP in a minute (HiGHS: no bound at all in 60 s). Its LP with the links is still
2.9 % under the optimum on a capb-like case (capacity 5,000): the LP opens 10.1 sites' worth
of capacity where 11 whole sites are needed. So here

- the sites the Lagrangian fixes (``site_fixing``) are fixed in the MIP: 80 of 100 there;
- two rows no plan breaks are added: the open sites hold every parcel to be served
  (sum cap_j y_j >= need) and so number at least the fewest that can (sum y_j >= k, counted
  on the largest capacities of the sites not fixed closed); the second closes that 2.9 %;
- the MIP is HiGHS's (highspy), warm-started from the plan: it proved that case optimal in
  30 s where SCIP on the MIP without links ended at 0.07 %.

Fixing keeps only plans cheaper than the plan's value ``upper``, so the MIP's bound holds for
them alone: what it proves is min(its bound, upper), the plan itself being one of value upper.
"""

from __future__ import annotations

import dataclasses
import time

import numpy as np
import scipy.sparse as sp

from routing.siting.exact import MipResult, solve_mip
from routing.siting.flow import effective_capacity
from routing.siting.formulation import Mip, build, pairs
from routing.siting.lagrange import SiteRelaxation
from routing.siting.model import SitingInstance, SitingModel
from routing.siting.site_fixing import fixed_sites

# the most pairs of sites not fixed closed for which the strong MIP is built: on capb- and
# capc-like cases HiGHS's root LP took about 9 s at 40,000 pairs and 6-8 s at 22,000-29,000
# (2 cores shared with other work), of a minute in all
FIXED_MIP_PAIRS = 60_000


def fixed_strong_mip(
    inst: SitingInstance,
    model: SitingModel,
    mip: Mip,
    relax: SiteRelaxation,
    *,
    upper: float,
    solver: str,
    time_limit_s: float,
    rel_gap: float,
    hint: tuple[np.ndarray, np.ndarray] | None,
    log: bool = False,
) -> MipResult | None:
    """The strong MIP of ``inst`` with the sites ``relax`` fixes at ``upper`` (the value of a
    known plan in ``mip``'s units) fixed, solved from ``hint``. Its columns are ``mip``'s
    (the links add rows only), so its values decode as ``mip``'s. None where more than
    ``FIXED_MIP_PAIRS`` pairs are left to it."""
    start = time.perf_counter()
    closed, opened = fixed_sites(relax, upper=upper)
    _, jj, _ = pairs(inst)
    if np.count_nonzero(~closed[jj]) > FIXED_MIP_PAIRS:
        return None
    strong = build(inst, model, strong=True, floor=mip.floor)
    strong.var_ub[strong.y[closed]] = 0.0
    strong.var_lb[strong.y[opened]] = 1.0
    strong = _with_capacity_rows(strong, inst, model, closed)
    left = time_limit_s - (time.perf_counter() - start)  # less the fixing and the rows
    res = solve_mip(strong, solver=solver, time_limit_s=left, rel_gap=rel_gap, hint=hint, log=log)
    res.bound = min(res.bound, upper)
    return res


def _with_capacity_rows(mip: Mip, inst: SitingInstance, model: SitingModel, closed) -> Mip:
    """``mip`` with "the open sites hold every parcel to be served" and "they are at least the
    fewest that can" (both for a shortfall's floor: all but the floor's parcels; none where
    the floor is not known, and unserved parcels are priced instead)."""
    if mip.floor is None:
        return mip
    cap = effective_capacity(inst, model)
    need = float(inst.weight[inst.in_reach].sum()) - mip.floor
    if need <= 0:
        return mip
    largest = np.cumsum(np.sort(np.where(closed, 0.0, cap))[::-1])
    fewest = min(int(np.searchsorted(largest, need * (1.0 - 1e-9))) + 1, inst.n_sites)
    rows = sp.csr_matrix(
        (np.r_[cap, np.ones(inst.n_sites)], np.r_[mip.y, mip.y], [0, mip.y.size, 2 * mip.y.size]),
        shape=(2, mip.A.shape[1]),
    )
    return dataclasses.replace(
        mip,
        A=sp.vstack([mip.A, rows]).tocsr(),
        row_lb=np.r_[mip.row_lb, need * (1.0 - 1e-9), fewest],  # less rounding, as the flows'
        row_ub=np.r_[mip.row_ub, np.inf, np.inf],
    )
