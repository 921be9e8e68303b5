"""Exact uncapacitated p-median by Benders decomposition of the radius formulation.

The radius formulation (Elloumi 2010, ``formulation._radius``) has a row per point and
distinct distance and an entry per pair: 810,000 on a 900-vertex OR-Library-sized file, where
SCIP did not finish the root LP in a minute. Projected onto the sites (Duran-Mateluna, Ales
and Elloumi, "An efficient Benders decomposition for the p-median problem", EJOR 2023), each
point's cost theta_i is held by cuts theta_i >= D - sum_{j: d_ij < D} (D - d_ij) y_j, one for
each of its distance levels D (the unserved penalty the last); at a point y the tightest is at
the first level where the sites' y within it sum to 1, found by a walk along the point's
sorted distances (``separate``). Their LP is the radius formulation's.

Here the LP is solved by cutting planes on HiGHS, the separation point stabilised towards a
core point (in-out, Ben-Ameur and Neto 2007); sites whose reduced cost lifts the bound past
the best plan known are then closed, and the rest searched by branch and bound, the LP at each
node warm-started with every cut found so far (all valid for every node), its sites' reduced
costs closing more, and the LP's largest sites tried as a plan (``_branch``). On 500-900-vertex
files with p = 5 the root LP lies 0.7-1.2 % under the optimum and 70-130 sites are left to
search; with p = 10 on 900 vertices up to 2 % and 800 sites, which a minute does not settle.
"""

from __future__ import annotations

import heapq
import itertools
import time
from collections.abc import Callable
from dataclasses import dataclass

import highspy
import numpy as np

from routing.siting.exact import quiet_banner, round_up_whole
from routing.siting.formulation import pairs
from routing.siting.model import SitingInstance, SitingModel

CUT_TOLERANCE = 1e-6  # a cut counts as violated past this share of its level (at least 1e-6)
INTEGRAL = 1e-6  # a site's LP value this near 0 or 1 counts as whole
CORE_WEIGHT = 0.5  # in-out: the separation point's share of the core point
MAX_ROUNDS = 500  # cut rounds at one node before its LP is taken as it stands (never proven)


@dataclass
class _Points:
    """Each point with parcels and a site in reach, its pairs sorted by distance: entries
    ``start[k]:start[k+1]`` are point k's sites (``site``) and distances (``dist``)."""

    weight: np.ndarray
    start: np.ndarray
    owner: np.ndarray  # point of each entry
    site: np.ndarray
    dist: np.ndarray
    penalty: float
    offset: float  # what the points with parcels but no site in reach cost every plan


@dataclass
class Cuts:
    """Per point the tightest cut at a separation point: its level and, per entry, its
    coefficient (D - d_ij where d_ij < D, else 0)."""

    level: np.ndarray
    coef: np.ndarray

    def value(self, points: _Points, y: np.ndarray) -> np.ndarray:
        """Each cut's right-hand side at sites' values ``y``: D - sum (D - d_ij) y_j."""
        spent = np.add.reduceat(self.coef * y[points.site], points.start[:-1])
        return self.level - spent


@dataclass
class BendersResult:
    """The best plan found (sites open), its objective, the bound proven and the search's size."""

    is_open: np.ndarray
    objective: float
    bound: float
    nodes: int
    sites_left: int
    seconds: float


def applies(inst: SitingInstance, model: SitingModel) -> bool:
    """Whether the decomposition holds: an uncapacitated p-median without a money budget whose
    unserved penalty is at least every distance in reach (a point's cost is then its nearest
    open site's distance, capped at the penalty, as the cuts assume)."""
    if model.kind != "pmedian" or model.is_capacitated or model.budget is not None:
        return False
    top = float(inst.reach.data.max()) if inst.reach.nnz else 0.0
    return model.penalty(inst) >= top


def points_of(inst: SitingInstance, model: SitingModel) -> _Points:
    """The points with parcels, their pairs sorted by distance (a point with none in reach
    costs the penalty in every plan: ``offset``)."""
    rr, jj, dd = pairs(inst)
    penalty = model.penalty(inst)
    w = inst.weight
    keep = w[rr] > 0
    rr, jj, dd = rr[keep], jj[keep], dd[keep]
    order = np.lexsort((jj, dd, rr))
    rr, jj, dd = rr[order], jj[order], dd[order]
    served = np.flatnonzero(np.bincount(rr, minlength=inst.n_demand) > 0)
    local = np.full(inst.n_demand, -1, dtype=np.int64)
    local[served] = np.arange(served.size)
    owner = local[rr]
    start = np.r_[0, np.cumsum(np.bincount(owner, minlength=served.size))]
    unreached = (w > 0) & (local < 0)
    return _Points(
        weight=w[served].astype(float),
        start=start,
        owner=owner,
        site=jj,
        dist=dd.astype(float),
        penalty=penalty,
        offset=float(penalty * w[unreached].sum()),
    )


def _ranges(first: np.ndarray, size: np.ndarray) -> np.ndarray:
    """The indices first[k], ..., first[k] + size[k] - 1 for every k, one after the other."""
    shift = np.repeat(first - np.r_[0, np.cumsum(size)[:-1]], size)
    return shift + np.arange(int(size.sum()))


def _first_level(points: _Points, hit: np.ndarray) -> np.ndarray:
    """Per point, the distance of its first entry (nearest first) where ``hit`` holds, or the
    penalty where none does."""
    size = hit.size
    where = np.where(hit, np.arange(size), size)
    first = np.minimum.reduceat(where, points.start[:-1]) if size else where
    inside = first < points.start[1:]
    return np.where(inside, points.dist[np.minimum(first, max(size - 1, 0))], points.penalty)


def _on_sites(points: _Points, sites: np.ndarray) -> tuple[_Points, np.ndarray]:
    """``points`` with only the pairs of ``sites``: those left with none cost the penalty in
    every plan opening only those sites (``offset``). Also each point's new number (-1: gone)."""
    on = np.isin(points.site, sites)
    count = np.bincount(points.owner[on], minlength=points.weight.size)
    local = np.where(count > 0, np.cumsum(count > 0) - 1, -1)
    gone = points.weight[count == 0].sum() * points.penalty
    narrow = _Points(
        weight=points.weight[count > 0],
        start=np.r_[0, np.cumsum(count[count > 0])],
        owner=local[points.owner[on]],
        site=points.site[on],
        dist=points.dist[on],
        penalty=points.penalty,
        offset=points.offset + float(gone),
    )
    return narrow, local


def separate(points: _Points, y: np.ndarray) -> Cuts:
    """Each point's tightest cut at sites' values ``y`` (every site, 0 where closed): the level
    is the first distance at which the sites within it reach a total of 1 (the penalty if they
    never do), and the cut's coefficients are D - d_ij for the sites nearer than that."""
    ys = y[points.site]
    total = np.cumsum(ys)
    first = points.start[:-1]
    before = (total[first] - ys[first])[points.owner]
    level = _first_level(points, total - before >= 1.0 - 1e-9)
    gap = level[points.owner] - points.dist
    return Cuts(level, np.where(gap > 0, gap, 0.0))


def plan_cost(points: _Points, is_open: np.ndarray) -> float:
    """The objective of opening ``is_open``: each point's nearest open site, or the penalty."""
    return float(points.weight @ _first_level(points, is_open[points.site])) + points.offset


class Unsolved(RuntimeError):
    """HiGHS ended an LP neither optimal nor infeasible."""


class _Master:
    """The LP over the candidate sites' y and each point's theta, with the cuts found so far
    (a HiGHS model kept across solves, so each starts from the last basis)."""

    def __init__(
        self, points: _Points, model: SitingModel, sites: np.ndarray, must_open: np.ndarray
    ):
        quiet_banner()
        n_sites = must_open.size
        self.points, self.sites, self.n_sites = points, sites, n_sites
        self.column = np.full(n_sites, -1, dtype=np.int64)
        self.column[sites] = np.arange(sites.size)
        k, n = sites.size, points.weight.size
        h = highspy.Highs()
        h.setOptionValue("output_flag", False)
        h.setOptionValue("threads", 1)
        nearest = points.dist[points.start[:-1]]
        low = np.r_[must_open[sites].astype(float), nearest]
        h.addVars(k + n, low, np.r_[np.ones(k), np.full(n, np.inf)])
        cols = np.arange(k + n, dtype=np.int32)
        h.changeColsCost(k + n, cols, np.r_[np.zeros(k), points.weight])
        h.addRow(model.p, model.p, k, np.arange(k, dtype=np.int32), np.ones(k))
        self.h = h
        self.cuts: list[tuple[np.ndarray, np.ndarray]] = []

    def full(self, y: np.ndarray) -> np.ndarray:
        """The candidate sites' values as a value per site (0 for the others)."""
        out = np.zeros(self.n_sites)
        out[self.sites] = y
        return out

    def add(self, rows: np.ndarray, levels: np.ndarray) -> None:
        """Add the cuts at ``levels`` of the points ``rows``: theta_i + sum over the candidate
        sites nearer than the level of (D - d_ij) y_j >= D. A cut is known by its point and
        level alone (``cuts``), so that the LP can be rebuilt on fewer sites."""
        if rows.size == 0:
            return
        self.cuts.append((rows, levels))
        pts, k = self.points, self.sites.size
        first, size = pts.start[rows], pts.start[rows + 1] - pts.start[rows]
        entry = _ranges(first, size)
        cut = np.repeat(np.arange(rows.size), size)
        nearer = pts.dist[entry] < levels[cut]
        entry, cut = entry[nearer], cut[nearer]
        col = self.column[pts.site[entry]]
        on = col >= 0
        cut = cut[on]
        size = np.bincount(cut, minlength=rows.size) + 1
        starts = np.r_[0, np.cumsum(size)[:-1]]
        index = np.empty(int(size.sum()), dtype=np.int32)
        value = np.empty(index.size)
        index[starts], value[starts] = k + rows, 1.0
        rest = np.ones(index.size, dtype=bool)
        rest[starts] = False
        index[rest] = col[on]
        value[rest] = levels[cut] - pts.dist[entry[on]]
        self.h.addRows(
            rows.size, levels, np.full(rows.size, np.inf), index.size, starts, index, value
        )

    @property
    def found(self) -> tuple[np.ndarray, np.ndarray]:
        """Every cut added so far: (points, levels)."""
        if not self.cuts:
            return np.zeros(0, dtype=np.int64), np.zeros(0)
        rows, levels = zip(*self.cuts, strict=True)
        return np.concatenate(rows), np.concatenate(levels)

    def violated(self, cuts: Cuts, y: np.ndarray, theta: np.ndarray) -> np.ndarray:
        """The points whose cut at ``cuts`` the LP's point (``y`` per site, ``theta``) breaks."""
        need = cuts.value(self.points, y)
        return np.flatnonzero(need - theta > CUT_TOLERANCE * np.maximum(1.0, np.abs(need)))

    def solve(self) -> tuple[float, np.ndarray, np.ndarray, np.ndarray] | None:
        """The LP's optimum with the cuts so far: (value, y per site, theta, reduced costs of
        the candidate sites), or None where the node's bounds leave no plan; ``Unsolved``
        where HiGHS ends otherwise (its LP then bounds nothing)."""
        self.h.run()
        status = self.h.getModelStatus()
        if status == highspy.HighsModelStatus.kInfeasible:
            return None
        if status != highspy.HighsModelStatus.kOptimal:
            raise Unsolved(f"HiGHS ended the LP with status {status}")
        sol = self.h.getSolution()
        x = np.asarray(sol.col_value)
        k = self.sites.size
        value = self.h.getInfo().objective_function_value + self.points.offset
        return value, self.full(x[:k]), x[k:], np.asarray(sol.col_dual)[:k]

    def bound_sites(self, lower: np.ndarray, upper: np.ndarray) -> None:
        """Set the candidate sites' bounds (one value per candidate)."""
        k = self.sites.size
        self.h.changeColsBounds(k, np.arange(k, dtype=np.int32), lower, upper)


@dataclass
class _Search:
    """The best plan known and what the search has cut off, on the objective's footing."""

    points: _Points
    p: int
    must_open: np.ndarray
    best: np.ndarray
    upper: float
    whole: bool
    rel_gap: float
    floor: float = np.inf  # the least value of any plan cut off (pruned nodes, closed sites)
    allowed: np.ndarray | None = None  # the sites a plan may open (``points`` has their pairs)

    def beaten(self, value: float) -> bool:
        """Whether no plan worth ``value`` or more can beat the best known by the gap (whole
        objectives: by 1, the bound rounded up)."""
        return bool(self.beaten_all(np.array([value]))[0])

    def beaten_all(self, values: np.ndarray) -> np.ndarray:
        """``beaten`` of each of ``values``."""
        if self.whole:
            return round_up_whole(values) >= self.upper
        return values >= self.upper - self.rel_gap * abs(self.upper)

    def cut_off(self, value: float) -> None:
        self.floor = min(self.floor, value)

    def offer(self, y: np.ndarray) -> None:
        """Try the plan opening the must-open sites and the largest others of ``y``."""
        score = np.where(self.must_open, np.inf, y)
        if self.allowed is not None:
            score = np.where(self.allowed, score, -np.inf)
        is_open = np.zeros(y.size, dtype=bool)
        is_open[np.argsort(-score, kind="stable")[: self.p]] = True
        cost = plan_cost(self.points, is_open)
        if cost < self.upper:
            self.best, self.upper = is_open, cost


def _whole_costs(points: _Points) -> bool:
    """Whether every plan's objective is a whole number (weights, distances, penalty)."""
    costs = np.r_[points.weight[points.owner] * points.dist, points.weight * points.penalty]
    return bool(np.all(costs == np.rint(costs)) and points.offset == np.rint(points.offset))


def pmedian_benders(
    inst: SitingInstance,
    model: SitingModel,
    start: np.ndarray,
    *,
    time_limit_s: float,
    rel_gap: float = 1e-6,
    stop: Callable[[], bool] | None = None,
) -> BendersResult:
    """The p-median's optimum on ``inst`` to ``rel_gap``, or the best plan and bound found in
    ``time_limit_s`` (or until ``stop()``), starting from the plan ``start`` (sites open,
    exactly ``p`` with the must-open ones). Only where ``applies``."""
    begin = time.perf_counter()
    deadline = begin + time_limit_s
    points = points_of(inst, model)
    start = _with_p_sites(start, inst.must_open, model.p)
    search = _Search(
        points,
        model.p,
        inst.must_open,
        start.copy(),
        plan_cost(points, start),
        _whole_costs(points),
        rel_gap,
    )

    def ended() -> bool:
        return time.perf_counter() > deadline or (stop is not None and stop())

    every = np.arange(inst.n_sites)
    master = _Master(points, model, every, inst.must_open)
    try:
        root = _root(master, search, start.astype(float), ended)
    except Unsolved:
        root = None
    if root is None:  # no LP in the time: the plan alone
        return _result(search, [], None, 0, inst.n_sites, begin)
    value, y, rc = root
    sites = _kept_sites(search, value, y, rc, inst.must_open)
    master = _narrowed(master, model, sites, inst.must_open)
    search.points, search.allowed = master.points, np.isin(every, sites)
    lifted = np.where(y < INTEGRAL, value + rc, -np.inf)[sites]  # see ``_kept_sites``
    nodes, left = _branch(master, search, value, lifted, ended)
    return _result(search, left, value, nodes, sites.size, begin)


def _with_p_sites(start: np.ndarray, must_open: np.ndarray, p: int) -> np.ndarray:
    """``start`` made a plan of exactly ``p`` sites with the must-open ones: those first, then
    its others, then the lowest-numbered, as needed (a start breaking the rules would set a
    best value no plan may have)."""
    rank = np.argsort(-(2 * must_open.astype(int) + start.astype(int)), kind="stable")
    out = np.zeros(start.size, dtype=bool)
    out[rank[:p]] = True
    return out


def _root(master: _Master, search: _Search, y0: np.ndarray, ended: Callable[[], bool]):
    """The LP relaxation at the root by cutting planes: (value, y, reduced costs), None if the
    time ends first. Cuts are separated at a point between the LP's and a core point moving
    towards it (in-out), and at the LP's own once none is found there."""
    points = master.points
    cuts = separate(points, y0)
    master.add(np.arange(points.weight.size), cuts.level)
    core = 0.5 * y0 + 0.5 * search.p / y0.size
    while not ended():
        out = master.solve()
        if out is None:
            raise Unsolved("no plan of p sites")  # not with the sites' bounds at 0 and 1
        value, y, theta, rc = out
        found = 0
        for at in (CORE_WEIGHT * core + (1.0 - CORE_WEIGHT) * y, y):
            cuts = separate(points, at)
            rows = master.violated(cuts, y, theta)
            master.add(rows, cuts.level[rows])
            found = rows.size
            if found:
                break
        core = 0.5 * (core + y)
        if not found:
            search.offer(y)
            return value, y, rc
    return None


def _kept_sites(search: _Search, value: float, y, rc, must_open) -> np.ndarray:
    """The sites a better plan may open: closed are those at 0 in the LP whose reduced cost
    lifts its bound past the best plan (any plan opening one costs at least that)."""
    lifted = value + rc
    close = (y < INTEGRAL) & search.beaten_all(lifted) & ~must_open
    if close.any():
        search.cut_off(float(lifted[close].min()))
    return np.flatnonzero(~close)


def _narrowed(master: _Master, model: SitingModel, sites: np.ndarray, must_open: np.ndarray):
    """A fresh LP on ``sites`` alone, over their pairs alone (``_on_sites``: a faster
    separation), with every cut found (each restricted to them)."""
    points, local = _on_sites(master.points, sites)
    rows, levels = master.found
    kept = local[rows] >= 0
    narrow = _Master(points, model, sites, must_open)
    narrow.add(local[rows[kept]], levels[kept])
    return narrow


def _branch(
    master: _Master, search: _Search, root: float, lifted: np.ndarray, ended: Callable[[], bool]
):
    """Branch and bound on the candidate sites: at each node the LP with every cut so far (more
    added until none is violated), sites closed by reduced cost (the root's ``lifted`` bounds
    again as better plans are found, and the node's own), the LP's largest sites tried as a
    plan, and the site nearest 1/2 branched on (on a 900-vertex file with p = 90, 16 nodes in
    3.6 s, where the site the LP opens most took 337 nodes, 20.8 s; with p = 5 it was up to a
    third faster); the child opening it comes next (its LP starts near its parent's basis: on
    that file 59 nodes, 6.8 s, without), the other goes to the heap, whose best bound comes
    next once a dive ends.
    Returns the nodes solved and the bounds of those left when the time ended."""
    k = master.sites.size
    lower = search.must_open[master.sites].astype(float)
    tie = itertools.count()
    heap = [(root, next(tie), lower, np.ones(k))]
    nodes, dive = 0, None
    while (heap or dive) and not ended():
        bound, _, lo, hi = dive or heapq.heappop(heap)
        dive = None
        if search.beaten(bound):
            search.cut_off(bound)
            continue
        closed = search.beaten_all(lifted) & (lo == 0)
        if (closed & (hi > 0)).any():
            search.cut_off(float(lifted[closed & (hi > 0)].min()))
            hi = np.where(closed, 0.0, hi)
        if lo.sum() > search.p + INTEGRAL or hi.sum() < search.p - INTEGRAL:
            continue  # no plan of p sites within these bounds
        master.bound_sites(lo, hi)
        try:
            out = _node_lp(master, ended)
        except Unsolved:  # the node stays open at its parent's bound, and the search ends
            heapq.heappush(heap, (bound, next(tie), lo, hi))
            break
        nodes += 1
        if out is None:
            continue
        value, y, rc, settled = out
        if not settled:  # its LP still a bound, but not the node's last word
            heapq.heappush(heap, (value, next(tie), lo, hi))
            break
        if search.beaten(value):
            search.cut_off(value)
            continue
        local = y[master.sites]
        frac = np.abs(local - np.rint(local)) > INTEGRAL
        if not frac.any():
            search.offer(y)  # its LP value is its cost: every cut at it is in
            continue
        search.offer(y)
        hi = hi.copy()
        drop = (local < INTEGRAL) & search.beaten_all(value + rc)
        if drop.any():
            search.cut_off(float((value + rc)[drop].min()))
            hi[drop] = 0.0
        j = int(np.argmin(np.where(frac, np.abs(local - 0.5), np.inf)))
        up, down = lo.copy(), hi.copy()
        up[j], down[j] = 1.0, 0.0
        dive = (value, next(tie), up, hi)  # next: the LP's basis is near
        heapq.heappush(heap, (value, next(tie), lo, down))
    return nodes, [b for b, *_ in heap] + ([dive[0]] if dive else [])


def _node_lp(master: _Master, ended: Callable[[], bool]):
    """A node's LP, cuts added at its optimum until none is violated: (value, y per site,
    reduced costs, whether no cut was left), None where no plan fits its bounds."""
    points = master.points
    out = None
    for _ in range(MAX_ROUNDS):
        out = master.solve()
        if out is None:
            return None
        value, y, theta, rc = out
        cuts = separate(points, y)
        rows = master.violated(cuts, y, theta)
        if rows.size == 0:
            return value, y, rc, True
        master.add(rows, cuts.level[rows])
        if ended():
            break
    value, y, _, rc = out
    return value, y, rc, False


def _result(search: _Search, left: list[float], root: float | None, nodes, sites, begin):
    """The search's outcome: the bound is the least of the best plan, what was cut off and the
    nodes left (the root's LP where the search never ran; none without it)."""
    bounds = [search.upper, search.floor, *left]
    if root is None:
        bounds = [-np.inf]
    bound = min(bounds)
    if search.whole and np.isfinite(bound):
        bound = min(search.upper, float(round_up_whole(bound)))
    return BendersResult(
        is_open=search.best,
        objective=search.upper,
        bound=float(bound),
        nodes=nodes,
        sites_left=int(sites),
        seconds=time.perf_counter() - begin,
    )
