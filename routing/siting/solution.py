"""A siting plan: open sites and sizes, who is served where, and figures recomputed from them.

The objective is always recomputed from the plan itself (never copied from a solver), so the
numbers a planner reads can be checked against the instance by anyone.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from routing.siting.formulation import pairs, site_cost
from routing.siting.model import SIZES, SitingInstance, SitingModel


@dataclass
class SitingSolution:
    """Open sites, compartments, the assignment (fractions of each point's parcels) and proof."""

    instance: SitingInstance
    model: SitingModel
    is_open: np.ndarray
    rows: np.ndarray
    cols: np.ndarray
    frac: np.ndarray
    sizes: np.ndarray | None = None
    size_parcels: np.ndarray | None = None  # per pair, parcels of each size (under a sizing)
    bound: float | None = None
    gap: float | None = None
    optimal: bool = False
    method: str = "heuristic"
    seconds: float = 0.0
    stats: dict = field(default_factory=dict)
    # what the run changed of what was asked, said to whoever reads the plan (an API caller
    # sees no log): a budget that cannot bind, dropped
    warnings: list[str] = field(default_factory=list)

    @property
    def served(self) -> np.ndarray:
        """Share of each demand point's parcels served (0..1)."""
        # numpy's bincount of no pairs is integer even with weights: a plan serving no one
        served = np.bincount(self.rows, self.frac, minlength=self.instance.n_demand)
        return served.astype(float)

    @property
    def load(self) -> np.ndarray:
        """Parcels per day assigned to each site."""
        w = self.instance.weight
        load = np.bincount(self.cols, w[self.rows] * self.frac, minlength=self.instance.n_sites)
        return load.astype(float)  # float also when there is no pair (see served)

    @property
    def unserved_parcels(self) -> float:
        return float((self.instance.weight * (1.0 - np.minimum(self.served, 1.0))).sum())

    @property
    def capacity(self) -> np.ndarray:
        """Daily capacity of each open site in this plan (built compartments or the site's
        own; 0 where closed). Unlimited where the model holds no site to a capacity: a site's
        own then binds nothing, and its load read against it (225 % "used") suggested a limit
        the plan never kept. The summary, JSON and GeoJSON show capacity and utilisation only
        where it is finite, and each site's load always."""
        if not self.model.is_capacitated:
            return np.where(self.is_open, np.inf, 0.0)
        cap = self.instance.capacity.copy()
        if self.sizes is not None and self.model.sizing is not None:
            cap = np.minimum(cap, self.sizes.sum(axis=1) * self.model.sizing.throughput)
        return np.where(self.is_open, cap, 0.0)

    @property
    def compartment_cost(self) -> np.ndarray:
        """What each site's compartments cost to build (nothing where they already stand)."""
        if self.sizes is None or self.model.sizing is None:
            return np.zeros(self.instance.n_sites)
        return (self.sizes * self.model.sizing.site_costs(self.instance)).sum(axis=1)

    @property
    def objective(self) -> float:
        """The model's objective recomputed from the plan."""
        inst, w = self.instance, self.instance.weight
        served = float((w[self.rows] * self.frac).sum())
        compartments = float(self.compartment_cost.sum())
        kind = self.model.kind
        if kind == "maxcover":
            return served
        if kind == "setcover":
            return float(site_cost(inst)[self.is_open].sum()) + compartments
        assigned = self.assignment_cost
        if kind == "pmedian":
            return assigned + self.model.penalty(inst) * self.unserved_parcels
        return float(inst.fixed_cost[self.is_open].sum()) + assigned + compartments

    @property
    def assignment_cost(self) -> float:
        """Parcel-weighted distance of the plan's assignment: parcel-metres a day on a map
        (parcels x walking or straight-line metres), OR-Library's allocation cost on its files."""
        dist = np.asarray(self.instance.reach[self.rows, self.cols]).ravel()
        return float((self.instance.weight[self.rows] * dist * self.frac).sum())

    @property
    def objective_unit(self) -> str:
        """What the objective counts, for a reader of the plan: the facility objective adds
        money to parcel-metres a day one for one (a cost unit buys one parcel-metre every day,
        set against a one-off build cost), which nothing said."""
        walked = "parcel-m a day" if self.instance.distance else "assignment cost"
        opened = "money"  # set cover counts sites where every one is free (`site_cost`)
        if not self.instance.fixed_cost.any():
            opened = "sites opened" + (" + compartment cost" if self.model.sizing else "")
        return {
            "maxcover": "parcels a day served",
            "setcover": opened,
            "pmedian": f"{walked}, unserved parcels at the penalty distance",
            "facility": f"money + {walked}, one for one",
        }[self.model.kind]

    def summary(self) -> dict:
        """Headline figures: objective (its unit, and the terms it adds up for p-median and
        facility location), proof, coverage, utilisation, and the money the plan spends (fixed
        costs of its open sites and compartments to build: what a budget holds)."""
        inst, w = self.instance, self.instance.weight
        total = float(w.sum())
        served = total - self.unserved_parcels
        cap, load = self.capacity, self.load
        util = np.divide(load, cap, out=np.zeros_like(load), where=np.isfinite(cap) & (cap > 0))
        opened = self.is_open.sum()
        fixed = float(inst.fixed_cost[self.is_open].sum())
        compartments = float(self.compartment_cost.sum())
        money = {"fixed_cost": fixed, "compartment_cost": compartments}
        money["spent"] = fixed + compartments
        if self.model.budget is not None:
            money["budget"] = float(self.model.budget)
        if self.model.kind in ("pmedian", "facility"):
            money["assignment_cost"] = self.assignment_cost
        return {
            "model": self.model.kind,
            "capacitated": self.model.is_capacitated,
            "method": self.method,
            "objective": self.objective,
            "objective_unit": self.objective_unit,
            "bound": self.bound,
            "gap": self.gap,
            "optimal": self.optimal,
            "seconds": round(self.seconds, 3),
            "open_sites": int(opened),
            "parcels": total,
            "served_parcels": served,
            "unserved_parcels": total - served,
            "coverage": served / total if total else 1.0,
            "mean_distance": self.assignment_cost / served if served else None,
            "mean_utilisation": float(util[self.is_open].mean())
            if opened and np.isfinite(cap[self.is_open]).all()
            else None,
            "uncoverable_points": int((np.diff(inst.reach.indptr) == 0).sum()),
            **money,
            **self.stats,
        }

    def to_dict(self) -> dict:
        """JSON-ready plan: summary, sites (1-based OR-Library ids stay as given), assignment."""
        inst = self.instance
        cap, load, built = self.capacity, self.load, self.compartment_cost
        sites = []
        for j in np.flatnonzero(self.is_open):
            site = {"id": inst.site_ids[j], "load": float(load[j])}
            site["fixed_cost"] = float(inst.fixed_cost[j])
            site["compartment_cost"] = float(built[j])
            if np.isfinite(cap[j]):
                site["capacity"] = float(cap[j])
                site["utilisation"] = float(load[j] / cap[j]) if cap[j] > 0 else None
            if self.sizes is not None:
                counts = (int(v) for v in self.sizes[j])
                site["compartments"] = dict(zip(SIZES, counts, strict=True))
            if inst.site_lonlat is not None:
                site["lon"], site["lat"] = (float(v) for v in inst.site_lonlat[j])
            sites.append(site)
        keep = self.frac > 1e-9
        assignment = [
            {
                "demand": inst.demand_ids[i],
                "site": inst.site_ids[j],
                "fraction": round(float(f), 9),
                "parcels": float(inst.weight[i] * f),
            }
            for i, j, f in zip(self.rows[keep], self.cols[keep], self.frac[keep], strict=True)
        ]
        if self.size_parcels is not None:
            for row, parcels in zip(assignment, self.size_parcels[keep], strict=True):
                row["by_size"] = {s: float(v) for s, v in zip(SIZES, parcels, strict=True)}
        w, served = inst.weight, self.served  # a property: a bincount of every pair each time
        # a point with no parcels need not be reached (``solve``): none of it goes unserved
        short = np.flatnonzero((served < 1.0 - 1e-9) & (w > 0))
        return {
            "instance": inst.name,
            "summary": self.summary(),
            "open_site_ids": [s["id"] for s in sites],
            "sites": sites,
            "assignment": assignment,
            "uncoverable": [
                inst.demand_ids[i] for i in np.flatnonzero(np.diff(inst.reach.indptr) == 0)
            ],
            "unserved": [
                {"demand": inst.demand_ids[i], "parcels": float(w[i] * (1 - served[i]))}
                for i in short
            ],
            "warnings": list(self.warnings),
        }

    def to_geojson(self) -> dict:
        """One GeoJSON FeatureCollection of both ``to_layers`` (lockers, then catchments), for
        a web map, which takes Points and LineStrings together (the API's ``format=geojson``);
        files for GIS tools are written a layer each."""
        layers = self.to_layers().values()
        return {"type": "FeatureCollection", "features": [f for c in layers for f in c["features"]]}

    def to_layers(self) -> dict[str, dict]:
        """GeoJSON FeatureCollections of one geometry type each, as GIS formats hold them (a
        Shapefile or a GeoPackage layer has one; ogr2ogr refused one collection of both):
        ``lockers``, the open sites as Points, and ``catchments``, a LineString from each
        demand point to its site (both empty without coordinates).

        A demand point at its own site (the same position) has a catchment with no geometry
        (null, as GeoJSON and Shapefiles allow): a line from a place to itself is invalid
        (shapely, QGIS's validity check), and a Point made the layer one of two types again.
        Every assignment row stays a ``catchment`` feature, so counts and parcels add up
        whatever the geometry; where it is, the locker layer shows."""
        inst = self.instance
        layers = {"lockers": [], "catchments": []}
        if inst.site_lonlat is not None and inst.demand_lonlat is not None:
            plan = self.to_dict()
            built = dict(zip(inst.site_ids, inst.built_sizes().tolist(), strict=True))
            layers["lockers"] = [
                {
                    "type": "Feature",
                    "geometry": {"type": "Point", "coordinates": [site["lon"], site["lat"]]},
                    "properties": {"kind": "locker"}
                    | {k: v for k, v in site.items() if k not in ("lon", "lat")}
                    | self._standing(built[site["id"]]),
                }
                for site in plan["sites"]
            ]
            keep = self.frac > 1e-9
            pairs_kept = zip(self.rows[keep], self.cols[keep], plan["assignment"], strict=True)
            for i, j, row in pairs_kept:  # to_dict's assignment rows are the same pairs
                demand = [float(v) for v in inst.demand_lonlat[i]]
                there = [float(v) for v in inst.site_lonlat[j]]
                line = {"type": "LineString", "coordinates": [demand, there]}
                layers["catchments"].append(
                    {
                        "type": "Feature",
                        "geometry": line if demand != there else None,
                        "properties": {"kind": "catchment"}
                        | row
                        | {"distance": float(inst.reach[i, j])},
                    }
                )
        return {
            name: {"type": "FeatureCollection", "features": features}
            for name, features in layers.items()
        }

    def _standing(self, sizes: list[int]) -> dict:
        """A standing locker's own compartments, in an unsized plan (a sized one counts them
        with the rest): its locker layer is a file `gongpei lockers import` reads, which
        otherwise had no doors for a locker whose doors the input gave."""
        standing = self.sizes is None and any(sizes)
        return {"compartments": dict(zip(SIZES, sizes, strict=True))} if standing else {}


def nearest_assignment(inst: SitingInstance, is_open: np.ndarray):
    """Each point wholly to its nearest open site within reach (rows, cols, fractions)."""
    rr, jj, dd = pairs(inst)
    on = is_open[jj]
    rr, jj, dd = rr[on], jj[on], dd[on]
    order = np.lexsort((jj, dd, rr))
    rr, jj = rr[order], jj[order]
    first = np.ones(rr.size, dtype=bool)
    first[1:] = rr[1:] != rr[:-1]
    return rr[first], jj[first], np.ones(int(first.sum()))
