"""The siting instance: demand points, candidate sites and the sparse reach between them.

Arrays rather than one object per point, because a city case has ~20,000 demand points and the
solvers work on whole columns; only pairs within reach are stored (a CSR matrix whose stored
entries are the pairs, explicit zeros included: a demand point on a site is at distance 0).
"""

from __future__ import annotations

import dataclasses
import numbers
from dataclasses import dataclass
from typing import Literal

import numpy as np
import scipy.sparse as sp

from routing.siting.errors import SitingInputError

SIZES = ("S", "M", "L")
NOT_BUILT = -1  # existing_compartments row value of a site whose compartments are to be sized


def at_least(by_size: np.ndarray) -> np.ndarray:
    """Per row of S/M/L amounts, the amounts of size >= S, >= M, >= L (a parcel may use a larger
    compartment, so capacity and need are compared size class by size class this way)."""
    return np.cumsum(by_size[:, ::-1], axis=1)[:, ::-1]


def of_each_size(cumulative: np.ndarray) -> np.ndarray:
    """``at_least`` undone: per row of amounts of size >= S, >= M, >= L, those of each size."""
    return cumulative - np.c_[cumulative[:, 1:], np.zeros(len(cumulative), cumulative.dtype)]


@dataclass(frozen=True)
class CompartmentSize:
    """One locker compartment size (inner dimensions in cm) and what building one costs."""

    name: str
    width_cm: float
    height_cm: float
    depth_cm: float
    cost: float


# Common Chinese parcel-locker compartments (45 x 55 cm cells, 10 / 20 / 35 cm high).
DEFAULT_COMPARTMENTS = (
    CompartmentSize("S", 45.0, 10.0, 55.0, cost=300.0),
    CompartmentSize("M", 45.0, 20.0, 55.0, cost=400.0),
    CompartmentSize("L", 45.0, 35.0, 55.0, cost=550.0),
)


@dataclass(frozen=True)
class Sizing:
    """Compartment sizing as a decision: how many S/M/L compartments each open locker gets.

    A compartment turns over ``1 / dwell_days`` parcels a day; a parcel may use a compartment of
    its own size or larger; a locker holds at most ``max_compartments`` compartments.
    """

    compartments: tuple[CompartmentSize, ...] = DEFAULT_COMPARTMENTS
    dwell_days: float = 1.5
    max_compartments: int = 120

    def __post_init__(self) -> None:
        if [c.name for c in self.compartments] != list(SIZES):
            raise SitingInputError("sizing: compartments must be the sizes S, M, L in that order")
        # finite: a dwell of inf turns over nothing (the capacity rows divide by the turnover)
        if not (_is_number(self.dwell_days) and 0 < self.dwell_days < np.inf):
            raise SitingInputError(
                f"sizing: dwell_days must be a finite number > 0, got {self.dwell_days}"
            )
        if not (_is_whole(self.max_compartments) and self.max_compartments >= 1):
            raise SitingInputError(
                f"sizing: max_compartments must be a whole number >= 1, got {self.max_compartments}"
            )
        for c in self.compartments:  # a NaN or inf price would make every objective NaN or inf
            if not (_is_number(c.cost) and 0 <= c.cost < np.inf):
                raise SitingInputError(
                    f"compartment '{c.name}': cost must be a finite number >= 0, got {c.cost}"
                )

    @property
    def throughput(self) -> float:
        """Parcels one compartment serves per day."""
        return 1.0 / self.dwell_days

    @property
    def costs(self) -> np.ndarray:
        return np.array([c.cost for c in self.compartments])

    def site_costs(self, inst: SitingInstance) -> np.ndarray:
        """Price of one S/M/L compartment at each site (sites x 3): nothing where the locker's
        compartments already stand, so objectives and budgets count only what gets built."""
        return np.where(inst.built[:, None], 0.0, self.costs)


@dataclass(frozen=True, eq=False)
class SitingInstance:
    """Demand points, candidate sites and walking distance (or unit cost) for pairs within reach.

    ``reach[i, j]`` is stored only where site j can serve demand point i (within the walking
    radius, or every pair for OR-Library); its value is the distance per parcel. ``capacity`` is
    parcels per day (``inf``: unlimited); ``size_mix`` rows are the S/M/L shares of each point.
    ``existing_compartments`` rows are the S/M/L compartments a must-open locker already has
    (``NOT_BUILT``, -1s, for a site the sizing decides): with a ``Sizing`` such a locker keeps
    exactly those, at no cost and whatever ``max_compartments`` says. ``distance`` says how
    ``reach`` was measured (``walk`` or ``straight_line``; None for unit costs), for labels.
    """

    demand_ids: list[str]
    weight: np.ndarray
    site_ids: list[str]
    reach: sp.csr_matrix
    fixed_cost: np.ndarray
    capacity: np.ndarray
    must_open: np.ndarray
    size_mix: np.ndarray | None = None
    radius_m: float | None = None
    demand_lonlat: np.ndarray | None = None
    site_lonlat: np.ndarray | None = None
    existing_compartments: np.ndarray | None = None
    name: str = "siting"
    distance: Literal["walk", "straight_line"] | None = None

    def __post_init__(self) -> None:
        n, m = len(self.demand_ids), len(self.site_ids)
        if self.reach.shape != (n, m):
            raise SitingInputError(
                f"instance '{self.name}': reach is {self.reach.shape}, expected ({n}, {m})"
            )
        for arr, what, size in (
            (self.weight, "weight", n),
            (self.fixed_cost, "fixed_cost", m),
            (self.capacity, "capacity", m),
            (self.must_open, "must_open", m),
        ):
            if arr.shape != (size,):
                raise SitingInputError(f"instance '{self.name}': {what} must have length {size}")
        _check_values(self.weight, self.demand_ids, "demand point", "daily parcels")
        _check_values(self.fixed_cost, self.site_ids, "site", "fixed cost")
        _check_values(self.capacity, self.site_ids, "site", "capacity", allow_inf=True)
        if self.reach.nnz and (
            not np.all(np.isfinite(self.reach.data)) or self.reach.data.min() < 0
        ):
            raise SitingInputError(f"instance '{self.name}': reach distances must be finite >= 0")
        if self.size_mix is not None:
            if self.size_mix.shape != (n, len(SIZES)):
                raise SitingInputError(f"instance '{self.name}': size_mix must be {n} x 3")
            bad = np.flatnonzero(
                (self.size_mix < 0).any(axis=1) | ~np.isclose(self.size_mix.sum(axis=1), 1.0)
            )
            if bad.size:
                raise SitingInputError(
                    f"demand point '{self.demand_ids[bad[0]]}': size mix S/M/L must be "
                    "non-negative shares summing to 1"
                )
        if self.existing_compartments is not None:
            self._check_existing_compartments()

    def _check_existing_compartments(self) -> None:
        got = np.asarray(self.existing_compartments, dtype=float)
        m = self.n_sites
        if got.shape != (m, len(SIZES)):
            raise SitingInputError(
                f"instance '{self.name}': existing_compartments must be {m} x 3 (S/M/L per "
                f"site), got {'x'.join(map(str, got.shape))}"
            )
        whole = np.isfinite(got) & (got == np.round(got))
        unset = (got == NOT_BUILT).all(axis=1)
        bad = np.flatnonzero(~(whole.all(axis=1) & (unset | (got >= 0).all(axis=1))))
        if bad.size:
            raise SitingInputError(
                f"site '{self.site_ids[bad[0]]}': existing compartments must be 3 whole counts "
                f">= 0 (S, M, L), or {NOT_BUILT} for all three if the sizing decides them; got "
                f"{got[bad[0]].tolist()}"
            )
        loose = np.flatnonzero(~unset & ~self.must_open)
        if loose.size:
            raise SitingInputError(
                f"site '{self.site_ids[loose[0]]}': existing compartments are only for lockers "
                "already standing, which must stay open (must_open)"
            )

    @property
    def n_demand(self) -> int:
        return len(self.demand_ids)

    @property
    def n_sites(self) -> int:
        return len(self.site_ids)

    @property
    def in_reach(self) -> np.ndarray:
        """Per demand point, whether some site can serve it (the others no plan can cover)."""
        return np.diff(self.reach.indptr) > 0

    @property
    def built(self) -> np.ndarray:
        """Per site, whether its compartments already exist (a sizing keeps them as they are)."""
        if self.existing_compartments is None:
            return np.zeros(self.n_sites, dtype=bool)
        return (self.existing_compartments != NOT_BUILT).all(axis=1)

    def built_sizes(self) -> np.ndarray:
        """Existing S/M/L compartments per site (sites x 3 ints; zeros where none are built)."""
        if self.existing_compartments is None:
            return np.zeros((self.n_sites, len(SIZES)), dtype=np.int64)
        return np.where(self.built[:, None], self.existing_compartments, 0).astype(np.int64)

    def with_sites(self, keep: np.ndarray) -> SitingInstance:
        """The same instance with only the sites ``keep`` (indices, in that order): a scenario
        walks every candidate building's reach to choose among them, and then sites among the
        ones chosen, whose distances it already has."""
        keep = np.asarray(keep, dtype=np.int64)
        reach = self.reach[:, keep].tocsr()
        reach.sort_indices()  # pairs row-major, sites in order (explicit zeros are kept)
        existing = self.existing_compartments
        return dataclasses.replace(
            self,
            site_ids=[self.site_ids[j] for j in keep],
            reach=reach,
            fixed_cost=self.fixed_cost[keep],
            capacity=self.capacity[keep],
            must_open=self.must_open[keep],
            site_lonlat=None if self.site_lonlat is None else self.site_lonlat[keep],
            existing_compartments=None if existing is None else np.asarray(existing)[keep],
        )

    def within(self, radius: float) -> SitingInstance:
        """The same instance with only the pairs at distance <= ``radius`` kept."""
        if not radius > 0:
            raise SitingInputError(f"instance '{self.name}': radius must be > 0, got {radius}")
        coo = self.reach.tocoo()
        keep = coo.data <= radius
        reach = sp.csr_matrix(
            (coo.data[keep], (coo.row[keep], coo.col[keep])), shape=self.reach.shape
        )
        return dataclasses.replace(self, reach=reach, radius_m=radius)


def _is_number(value) -> bool:
    """Whether ``value`` is a real number (not a bool, nor text: ``"2" > 0`` raises TypeError)."""
    return isinstance(value, numbers.Real) and not isinstance(value, bool)


def _is_whole(value) -> bool:
    """Whether ``value`` is a whole number (an int or numpy integer, not a bool nor 2.0)."""
    return isinstance(value, numbers.Integral) and not isinstance(value, bool)


def make_reach(rows, cols, dist, shape: tuple[int, int]) -> sp.csr_matrix:
    """A CSR reach matrix from pair lists, keeping explicit zeros (distance 0 is a real pair)."""
    rows, cols = np.asarray(rows, dtype=np.int64), np.asarray(cols, dtype=np.int64)
    dist = np.asarray(dist, dtype=np.float64)
    order = np.lexsort((cols, rows))
    rows, cols, dist = rows[order], cols[order], dist[order]
    indptr = np.zeros(shape[0] + 1, dtype=np.int64)
    np.add.at(indptr, rows + 1, 1)
    return sp.csr_matrix((dist, cols, np.cumsum(indptr)), shape=shape)


def _check_values(arr: np.ndarray, ids: list[str], kind: str, what: str, *, allow_inf=False):
    ok = (arr >= 0) & (np.isfinite(arr) | (allow_inf & np.isposinf(arr)))
    bad = np.flatnonzero(~ok)
    if bad.size:
        raise SitingInputError(f"{kind} '{ids[bad[0]]}': {what} must be >= 0, got {arr[bad[0]]}")


MODELS = ("maxcover", "setcover", "pmedian", "facility")
DEFAULT_SIZE_MIX = (0.6, 0.3, 0.1)


@dataclass(frozen=True)
class SitingModel:
    """Which objective to optimise and under which budget and capacity rules.

    - ``maxcover``: most parcels within reach for at most ``p`` lockers and/or a money ``budget``;
    - ``setcover``: cheapest set reaching every coverable point (uncoverable ones are listed);
    - ``pmedian``: least parcel-weighted distance with exactly ``p`` lockers; a parcel with no
      open locker in reach is charged ``unserved_penalty`` (default: twice the largest distance);
    - ``facility``: fixed costs plus assignment costs (OR-Library ``cap``), everything served.

    ``capacitated`` enforces site capacities; ``sizing`` makes compartment counts a decision
    (and implies capacitated). Capacity shortfalls show up as unserved parcels, never as errors.
    """

    kind: str
    p: int | None = None
    budget: float | None = None
    capacitated: bool = False
    sizing: Sizing | None = None
    unserved_penalty: float | None = None

    def __post_init__(self) -> None:
        if self.kind not in MODELS:
            raise SitingInputError(
                f"model: kind must be one of {', '.join(MODELS)}, got '{self.kind}'"
            )
        if self.kind in ("setcover", "facility") and (self.p, self.budget) != (None, None):
            # neither MIP has a place for them: they open as many sites as pay
            what = "p" if self.p is not None else "budget"
            raise SitingInputError(
                f"model '{self.kind}': {what} applies to maxcover and pmedian only ({self.kind} "
                "opens as many sites as it needs to serve every reachable point)"
            )
        if self.p is not None and not (_is_whole(self.p) and self.p >= 1):
            # a count of lockers: 1.5 would open "between one and two" in the MIP's p row
            raise SitingInputError(
                f"model '{self.kind}': p must be a whole number >= 1, got {self.p}"
            )
        if self.kind == "pmedian" and self.p is None:
            raise SitingInputError("model 'pmedian': p (number of lockers) is required")
        if self.kind == "maxcover" and self.p is None and self.budget is None:
            raise SitingInputError("model 'maxcover': give p (lockers) or budget (money)")
        if self.budget is not None and not (_is_number(self.budget) and self.budget >= 0):
            raise SitingInputError(f"model '{self.kind}': budget must be >= 0, got {self.budget}")
        penalty = self.unserved_penalty
        if penalty is not None and not (_is_number(penalty) and 0 < penalty < np.inf):
            # an infinite price makes a p-median with any parcel out of reach cost inf
            raise SitingInputError(
                f"model '{self.kind}': unserved_penalty must be a finite number > 0, got {penalty}"
            )

    @property
    def is_capacitated(self) -> bool:
        return self.capacitated or self.sizing is not None

    def check_against(self, inst: SitingInstance) -> None:
        """Reject options this instance cannot meet (p too large, budget below fixed lockers)."""
        self.check_sites(
            fixed_cost=inst.fixed_cost, capacity=inst.capacity, must_open=inst.must_open
        )

    def check_sites(
        self, *, fixed_cost: np.ndarray, capacity: np.ndarray, must_open: np.ndarray
    ) -> None:
        """``check_against`` on the candidate sites alone (arrays, one entry a site), so that a
        caller without distances yet, such as the platform taking a siting run, can refuse
        options no plan could meet before any walking distance is computed."""
        fixed, n_sites = int(must_open.sum()), len(fixed_cost)
        if self.p is not None and self.p > n_sites:
            raise SitingInputError(
                f"model '{self.kind}': p={self.p} is larger than the {n_sites} candidate sites"
            )
        if self.p is not None and self.p < fixed:
            raise SitingInputError(
                f"model '{self.kind}': p={self.p} is below the {fixed} lockers that must stay open"
            )
        if self.budget is not None:
            must = float(fixed_cost[must_open].sum())
            if self.budget < must:
                raise SitingInputError(
                    f"model '{self.kind}': budget {self.budget:g} is below the {must:g} that the "
                    "lockers which must stay open already cost"
                )
            if self.kind == "pmedian":  # exactly p lockers: the cheapest p must fit
                others = np.sort(fixed_cost[~must_open])[: max(0, self.p - fixed)]
                least = must + float(others.sum())
                if self.budget < least:
                    raise SitingInputError(
                        f"model 'pmedian': budget {self.budget:g} is below the {least:g} that "
                        f"the cheapest {self.p} lockers cost"
                    )
        if self.is_capacitated and self.sizing is None and np.isinf(capacity).all():
            raise SitingInputError(
                f"model '{self.kind}': capacitated needs finite site capacities or a sizing"
            )

    def most_spent(self, inst: SitingInstance) -> float:
        """The most any plan can spend on ``inst``: every site's fixed cost and, under a sizing,
        its ``max_compartments`` at its dearest compartment (none where they stand). A money
        ``budget`` at least this large cannot bind (nothing costs anything, for one)."""
        fixed = float(inst.fixed_cost.sum())
        if self.sizing is None:
            return fixed
        dearest = self.sizing.site_costs(inst).max(axis=1)
        return fixed + float(self.sizing.max_compartments * dearest.sum())

    def penalty(self, inst: SitingInstance) -> float:
        """Distance charged per unserved parcel in the p-median objective."""
        if self.unserved_penalty is not None:
            return self.unserved_penalty
        top = float(inst.reach.data.max()) if inst.reach.nnz else 1.0
        return 2.0 * max(top, inst.radius_m or 0.0, 1.0)

    def size_mix(self, inst: SitingInstance) -> np.ndarray:
        """Per-point S/M/L shares (the default mix where the instance gives none)."""
        if inst.size_mix is not None:
            return inst.size_mix
        return np.tile(np.array(DEFAULT_SIZE_MIX), (inst.n_demand, 1))

    def size_at_least(self, inst: SitingInstance) -> np.ndarray:
        """Per point, the shares of its parcels needing a compartment of size >= S, M, L."""
        return at_least(self.size_mix(inst))
