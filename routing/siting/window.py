"""Capacitated maximal covering: re-site the lockers of one neighbourhood at a time, exactly.

Swaps move one locker at a time. Where capacity half binds, better plans move several
neighbouring lockers together: one shifts so that the next can take over part of its
catchment. A window here is a site drawn at random plus the sites whose catchments overlap
it, ring by ring, up to ``window`` sites (drawing sites near unserved parcels more often did
worse on the city benchmark, at 60 s and at 600 s). Demand reaching the window is re-assigned
while every other point keeps its flow, so lockers outside the window offer only their spare
capacity. The window's lockers are then re-sited by a small MIP over merged points. The current
plan is feasible in that MIP, so a window never makes the plan worse; a window proven optimal
is not solved again until the plan changes.
"""

from __future__ import annotations

import dataclasses
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor

import numpy as np
import scipy.sparse as sp

from routing.siting.aggregate import aggregate
from routing.siting.exact import solve_mip
from routing.siting.flow import effective_capacity, flow_assignment, largest_sizes, max_service
from routing.siting.formulation import build
from routing.siting.model import (
    SIZES,
    SitingInstance,
    SitingModel,
    at_least,
    make_reach,
    of_each_size,
)

WINDOW_SITES = 20  # candidate sites re-sited together
WINDOW_TIME_S = 3.0  # time limit of one window's MIP: its incumbent is used if it stops early


def window_search(
    inst: SitingInstance,
    model: SitingModel,
    is_open: np.ndarray,
    *,
    time_limit_s: float,
    window: int = WINDOW_SITES,
    seed: int = 0,
    stop: Callable[[float], bool] | None = None,
    workers: int = 1,
    candidates: np.ndarray | None = None,
) -> np.ndarray:
    """A plan serving at least as much as ``is_open`` (boolean mask), improved window by
    window until ``time_limit_s`` or ``stop(parcels served)``. Once every window of ``window``
    sites is proven optimal for the plan, windows grow by half and the search goes on, until
    they hold every site (then the plan is optimal and the search returns early). Needs a site
    count ``p``; must-open sites stay open. ``workers`` threads solve windows side by side (the
    MIPs release the GIL); with more than one the result depends on their timing.
    ``candidates`` (boolean mask) limits the sites windows may open, besides those open at the
    start, until windows over all of them are proven optimal (then windows start again over
    every site): with the LP relaxation's support, a window of the same size spans more of the
    neighbourhood that matters."""
    if time_limit_s <= 0.2:
        return is_open.copy()
    deadline = time.perf_counter() + time_limit_s
    cap = effective_capacity(inst, model)
    by_site = inst.reach.T.tocsr()
    overlap = (by_site @ inst.reach).tocsr()  # sites sharing a demand point
    allowed = np.ones(inst.n_sites, dtype=bool) if candidates is None else candidates | is_open
    plan = _SharedPlan(inst, model, is_open, window, allowed=allowed)

    def search(rng: np.random.Generator) -> None:
        while time.perf_counter() < deadline - 0.2:
            with plan.lock:
                if stop is not None and stop(plan.value):
                    return
                if plan.settled.all() and not plan.grow():
                    return
                current, flow, version = plan.is_open, plan.flow, plan.version
                size, allowed, scope = plan.window, plan.allowed, plan.scope
            centres = np.flatnonzero(allowed)
            centre = int(centres[rng.integers(centres.size)])
            if plan.settled[centre]:
                continue
            sites = neighbourhood(overlap, centre, size, allowed=allowed)
            left = deadline - time.perf_counter()
            trial, proved = _resite(
                inst, model, cap, by_site, current, flow, sites, min(WINDOW_TIME_S, left)
            )
            plan.offer(trial, proved, centre, sites, version, scope)

    rngs = [np.random.default_rng([seed, k]) for k in range(max(1, workers))]
    if len(rngs) == 1:
        search(rngs[0])
    else:
        with ThreadPoolExecutor(len(rngs)) as pool:
            list(pool.map(search, rngs))
    return plan.is_open


class _SharedPlan:
    """The plan the window threads improve: open sites, parcels served, its flow (kept until
    the plan changes), the window size and the sites windows may take (together their
    ``scope``, counted up at each change) and the centres whose window is proven optimal for
    it (sites windows may not take count as settled from the start)."""

    def __init__(
        self,
        inst: SitingInstance,
        model: SitingModel,
        is_open: np.ndarray,
        window: int,
        *,
        allowed: np.ndarray,
    ) -> None:
        self.inst, self.model, self.window = inst, model, window
        self.first, self.allowed = window, allowed
        self.scope = 0
        self.lock = threading.Lock()
        self.version = 0
        self._set(is_open.copy(), max_service(inst, model, is_open)[0])

    def _set(self, is_open: np.ndarray, value: float) -> None:
        self.is_open, self.value = is_open, value
        self.flow = flow_assignment(self.inst, self.model, is_open, unserved_cost=1.0)[:3]
        self.settled = ~self.allowed

    def grow(self) -> bool:
        """Every window is proven optimal: widen them by half (False once they hold every site,
        the plan then being optimal). Larger windows cost more each, so the plan search starts
        small and grows only where the small ones have nothing left (433 s into the 90/day
        city benchmark, with time left). Once they hold every candidate, windows start small
        again over every site."""
        sites = int(self.allowed.sum())
        if self.window < sites:
            self.window = min(sites, -(-3 * self.window // 2))
        elif sites < self.inst.n_sites:
            self.window, self.allowed = self.first, np.ones(self.inst.n_sites, dtype=bool)
        else:
            return False
        self.settled = ~self.allowed
        self.scope += 1
        return True

    def offer(
        self,
        trial: np.ndarray | None,
        proved: bool,
        centre: int,
        sites: np.ndarray,
        version: int,
        scope: int,
    ) -> None:
        """Keep a window's re-siting if it serves more. Re-sited on an older plan (another
        thread moved it meanwhile), it is applied to the current one and judged there; a proof
        for an earlier scope (a smaller window, or fewer sites to take) settles nothing."""
        if trial is None:
            return
        with self.lock:
            if version != self.version:
                rebased = self.is_open.copy()
                rebased[sites] = trial[sites]
                if rebased.sum() != self.is_open.sum():
                    return
                trial, proved = rebased, False
            # most windows hand the plan back unchanged: no max flow needed to judge those
            changed = bool((trial != self.is_open).any())
            value = max_service(self.inst, self.model, trial)[0] if changed else self.value
            if value > self.value + 1e-9:
                self._set(trial, value)
                self.version += 1
            elif proved and scope == self.scope:
                self.settled[centre] = True


def neighbourhood(
    overlap: sp.csr_matrix, start: int, size: int, *, allowed: np.ndarray | None = None
) -> np.ndarray:
    """``start`` and the sites whose catchments overlap it, ring by ring, at most ``size``;
    with ``allowed`` (boolean mask) the rings pass through every site but take allowed ones."""
    seen = np.zeros(overlap.shape[0], dtype=bool)
    seen[start] = True
    ring, found = np.array([start]), [np.array([start])]
    count = 1
    while count < size and ring.size:
        near = np.unique(overlap[ring].indices)
        ring = near[~seen[near]]
        seen[ring] = True
        taken = ring if allowed is None else ring[allowed[ring]]
        found.append(taken)
        count += taken.size
    return np.concatenate(found)[:size]


def _resite(
    inst: SitingInstance,
    model: SitingModel,
    cap: np.ndarray,
    by_site: sp.csr_matrix,
    is_open: np.ndarray,
    flow: tuple[np.ndarray, np.ndarray, np.ndarray],
    sites: np.ndarray,
    time_limit_s: float,
) -> tuple[np.ndarray | None, bool]:
    """The open set with ``sites`` re-sited by their window's MIP (None if it found nothing),
    and whether that MIP was solved to optimality. ``flow`` is the open set's assignment
    (rows, cols, fractions): outside the window it stays as it is."""
    if not (is_open[sites] & ~inst.must_open[sites]).any():
        return is_open.copy(), True  # no locker here to move: nothing to re-site
    local, site_of = _window_instance(inst, model, cap, by_site, is_open, flow, sites)
    # without the sizing, but capacitated as it makes the model: at a new locker the sizing is
    # only a capacity, which ``cap`` holds (``solve._sizing_is_capacity``), and a standing
    # one's sizes are sites of their own (dropped with the sizing, the capacities had been
    # too: the windows of a sized model covered parcels no locker had room for)
    local_model = dataclasses.replace(
        model, p=int(is_open[site_of].sum()), sizing=None, capacitated=model.is_capacitated
    )
    merged, _ = aggregate(local, local_model)
    mip = build(merged, local_model, strong=True)
    # the current plan starts the MIP: stopped at its time limit, it returns one at least as good
    res = solve_mip(
        mip,
        solver="highs",
        time_limit_s=time_limit_s,
        rel_gap=1e-6,
        hint=(mip.y, is_open[site_of].astype(float)),
    )
    if res.values is None:
        return None, False
    trial = is_open.copy()
    trial[sites] = False
    trial[site_of[res.values[mip.y] > 0.5]] = True
    return trial, res.optimal


def _window_instance(
    inst: SitingInstance,
    model: SitingModel,
    cap: np.ndarray,
    by_site: sp.csr_matrix,
    is_open: np.ndarray,
    flow: tuple[np.ndarray, np.ndarray, np.ndarray],
    sites: np.ndarray,
) -> tuple[SitingInstance, np.ndarray]:
    """The window's instance, and the site in ``inst`` of each of its sites: the points the
    window's sites reach, free to move; those sites; and the open sites outside it that these
    points reach, which stay open and offer what the load of the points outside the window
    leaves them.

    Under a sizing a standing locker among them becomes three sites, its room in compartments
    of each size, which a point enters at its largest size and up, as in the flows that judge
    the plans (``flow._add_standing_sizes``). Seen as one site of its total room, as the
    window had seen it, a standing locker took large parcels into its free small compartments,
    and a window proved best a plan that served fewer parcels than another."""
    in_window = np.zeros(inst.n_sites, dtype=bool)
    in_window[sites] = True
    points = np.unique(by_site[sites].indices)
    free = np.zeros(inst.n_demand, dtype=bool)
    free[points] = True
    rows, cols, frac = flow
    kept = ~free[rows]
    load = inst.weight[rows[kept]] * frac[kept]
    spare = cap - np.bincount(cols[kept], load, minlength=inst.n_sites)
    sub = inst.reach[points]
    near = np.unique(sub.indices)
    # the window's sites (one reaching no point included) and open outside ones with room
    near = np.union1d(sites, near[is_open[near] & (spare[near] > 1e-6)])
    standing = inst.built[near] if model.sizing is not None else np.zeros(near.size, bool)
    copies = np.where(standing, len(SIZES), 1)
    first = np.cumsum(copies) - copies  # the window's first site of each of ``near``
    capacity = np.repeat(np.where(in_window[near], cap[near], np.maximum(spare[near], 0.0)), copies)
    largest = largest_sizes(inst, model)
    if standing.any():
        held = np.zeros((inst.n_sites, len(SIZES)))
        np.add.at(held, (cols[kept], largest[rows[kept]]), load)
        room = _standing_room(inst, model, cap[near[standing]], held[near[standing]],
                              near[standing])
        capacity[(first[standing][:, None] + np.arange(len(SIZES))).ravel()] = room.ravel()
    at = sub[:, near].tocoo()
    # each pair once, a pair to a standing locker once per size from its point's largest up
    reps = np.where(standing[at.col], len(SIZES) - largest[points][at.row], 1)
    up = np.arange(reps.sum()) - np.repeat(np.cumsum(reps) - reps, reps)
    size = np.repeat(np.where(standing[at.col], largest[points][at.row], 0), reps) + up
    site_of = np.repeat(near, copies)
    return SitingInstance(
        demand_ids=[inst.demand_ids[i] for i in points],
        weight=inst.weight[points],
        site_ids=[inst.site_ids[j] for j in site_of],
        reach=make_reach(
            np.repeat(at.row, reps),
            np.repeat(first[at.col], reps) + size,
            np.repeat(at.data, reps),
            (points.size, site_of.size),
        ),
        fixed_cost=np.zeros(site_of.size),
        capacity=capacity,
        must_open=~in_window[site_of] | inst.must_open[site_of],
        name=f"{inst.name}-window",
    ), site_of


def _standing_room(
    inst: SitingInstance, model: SitingModel, cap: np.ndarray, held: np.ndarray, lockers: np.ndarray
) -> np.ndarray:
    """Parcels a day standing ``lockers`` have room for in their compartments of each size
    (lockers x 3), given the parcels of each size ``held`` there: for sizes >= t, what their
    compartments of those sizes turn over less the held parcels needing them, no more than
    sizes >= a smaller t have left, and for all sizes no more than ``cap``."""
    have = at_least(inst.built_sizes()[lockers]) * model.sizing.throughput
    have[:, 0] = cap
    left = np.minimum.accumulate(have - at_least(held), axis=1)
    return of_each_size(np.maximum(left, 0.0))
