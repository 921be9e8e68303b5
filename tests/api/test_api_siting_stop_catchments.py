"""A siting run cancelled while its walking catchments are measured stops there: ``stop`` was
asked only once the search's child ran, so a run of 50,000 points went on measuring them for
its worker to the end. The walk's search asks a ``between`` check before each of its chunks."""

from __future__ import annotations

import numpy as np
import pytest

from api.jobs import runner
from network.graph import build_graph
from network.matrix import distances_within


@pytest.fixture(scope="module")
def walk():
    return build_graph("synthetic:100", profile="walk")


def _points(walk, count: int, seed: int) -> list[tuple[float, float]]:
    nodes = [(d["y"], d["x"]) for _, d in walk.nodes(data=True)]
    return [nodes[k] for k in np.random.default_rng(seed).choice(len(nodes), count)]


class Cancelled(Exception):
    pass


@pytest.mark.parametrize("limit_m", [300.0, np.inf], ids=["nearby", "whole-graph"])
def test_the_walks_search_asks_between_its_chunks(walk, limit_m) -> None:
    sources, targets = _points(walk, 40, 0), _points(walk, 10, 1)
    asked = []
    found = distances_within(walk, sources, targets, limit_m=limit_m,
                             between=lambda: asked.append(1))  # fmt: skip
    assert asked and (found != distances_within(walk, sources, targets, limit_m=limit_m)).nnz == 0

    def cancel() -> None:
        raise Cancelled

    with pytest.raises(Cancelled):
        distances_within(walk, sources, targets, limit_m=limit_m, between=cancel)


def test_a_run_stopped_during_its_catchments_starts_no_search(walk, monkeypatch) -> None:
    def started(*args, **kwargs):
        raise AssertionError("the search started: the catchments were measured to their end")

    monkeypatch.setattr(runner, "_stoppable", started)
    monkeypatch.setattr("routing.travel.road_graphs", lambda *a, **k: {"walk": walk})
    payload = {
        "model": {"kind": "maxcover", "p": 2},
        "radius_m": 300,
        "distance": "walk",
        "network": "synthetic:100",
        "demand": [{"id": f"d{i}", "lat": lat, "lon": lon, "parcels": 3}
                   for i, (lat, lon) in enumerate(_points(walk, 30, 2))],
        "candidates": [{"id": f"s{j}", "lat": lat, "lon": lon}
                       for j, (lat, lon) in enumerate(_points(walk, 5, 3))],
        "time_limit_s": 5,
    }  # fmt: skip
    with pytest.raises(runner.JobStopped):
        runner.run_siting(payload, lambda share: None, stop=lambda: True)
