"""A scenario walks each candidate's distances once: the candidate spread measures every site's
reach (standing lockers, a file's rows, road nodes, every candidate building), and the siting
takes its sites' columns of that instance instead of walking them again."""

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import routing.siting.points as points_mod
from api.scenario import sites
from api.scenario.demand import DemandPoints
from api.scenario.runner import run_scenario
from api.scenario.schema import LockersSpec, SitingSpec


def _counting(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """Counts the walking-distance instances built (``instance_from_points`` calls)."""
    calls: list[int] = []
    real = points_mod.instance_from_points

    def counted(demand, candidates, **kwargs):
        calls.append(len(candidates))
        return real(demand, candidates, **kwargs)

    monkeypatch.setattr(points_mod, "instance_from_points", counted)
    return calls


def _case():
    """A synthetic walk graph, demand at 12 of its nodes, a standing locker and 8 buildings
    at others (one of them on a demand point: a pair at distance 0)."""
    from network.graph import build_graph

    walk = build_graph("synthetic:100", profile="walk")
    nodes = [(d["y"], d["x"]) for _, d in walk.nodes(data=True)]
    at = np.random.default_rng(3).choice(len(nodes), 21, replace=False)
    lat, lon = (np.array([nodes[k][i] for k in at]) for i in (0, 1))
    demand = DemandPoints(ids=[f"d{i}" for i in range(12)], lat=lat[:12], lon=lon[:12],
                          parcels=np.arange(1.0, 13.0), size_mix=np.ones((12, 3)) / 3,
                          kind=["x"] * 12)
    refs = [f"w{k}" for k in range(8)]
    buildings = pd.DataFrame({
        "osm_ref": refs, "building": ["office"] * 8, "name": [None] * 8,
        "site_lat": [lat[0], *lat[13:20]], "site_lon": [lon[0], *lon[13:20]],
    })  # fmt: skip
    spec = LockersSpec.model_validate(
        {"candidates": {"building_types": ["office"], "max_sites": 4}})
    locker = sites.Site("lk1", float(lat[20]), float(lon[20]), spec.candidates.compartments,
                        0.0, existing=True, kind="existing")
    siting = SitingSpec.model_validate({"radius_m": 600, "capacitated": True})
    return walk, demand, buildings, spec, locker, siting


def test_the_siting_takes_the_spreads_distances(monkeypatch: pytest.MonkeyPatch) -> None:
    walk, demand, buildings, spec, locker, siting = _case()
    calls = _counting(monkeypatch)
    near = sites.walk_reach(demand, walk, siting, "t")
    chosen = [locker, *sites.sites_at_buildings(buildings, spec, demand, near, [locker])]
    assert calls == [9] and len(chosen) == 5  # the locker and every building, once
    taken = sites.siting_instance(demand, chosen, walk, siting, "t", measured=near.measured)
    assert calls == [9]  # no second walk
    walked = sites.siting_instance(demand, chosen, walk, siting, "t")
    assert calls == [9, 5]
    assert taken.site_ids == walked.site_ids == [s.id for s in chosen]
    assert taken.reach.nnz == walked.reach.nnz and (taken.reach != walked.reach).nnz == 0
    assert (taken.reach.indices == walked.reach.indices).all()  # pairs in the same order
    assert 0.0 in taken.reach.data  # the building on a demand point: its pair kept
    for field in ("fixed_cost", "capacity", "must_open", "site_lonlat", "existing_compartments"):
        np.testing.assert_array_equal(getattr(taken, field), getattr(walked, field), field)


def test_sites_the_spread_did_not_measure_are_walked(monkeypatch: pytest.MonkeyPatch) -> None:
    walk, demand, buildings, spec, locker, siting = _case()
    near = sites.walk_reach(demand, walk, siting, "t")
    chosen = sites.sites_at_buildings(buildings, spec, demand, near)  # without the locker
    calls = _counting(monkeypatch)
    inst = sites.siting_instance(demand, [locker, *chosen], walk, siting, "t",
                                 measured=near.measured)
    assert calls == [1 + len(chosen)] and inst.site_ids[0] == "lk1"


@pytest.mark.slow  # a lockers-only scenario on the demo map
def test_a_run_with_candidate_buildings_walks_once(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "s.yaml").write_text(DEMO_LOCKERS)
    calls = _counting(monkeypatch)
    run_scenario(tmp_path / "s.yaml", tmp_path / "out", quiet=True)
    assert len(calls) == 1  # was 2: the spread's, and the siting's again


DEMO_LOCKERS = """\
name: demo lockers
map: {source: demo}
demand: {source: buildings, rates: {apartments: 0.4, office: 0.2}}
lockers:
  candidates: {building_types: [apartments, office], max_sites: 20}
siting: {radius_m: 300, budget: 3, time_limit_s: 2}
"""
