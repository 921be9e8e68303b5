"""The synthetic city: deterministic, realistic features, strongly connected."""

from __future__ import annotations

from collections import Counter

import networkx as nx
import pytest

from network.errors import ProfileError
from network.graph import build_graph
from network.synthetic import synthetic_city


def test_deterministic_and_seeded() -> None:
    a, b = synthetic_city(2000, seed=1), synthetic_city(2000, seed=1)
    assert list(a.edges(data="travel_time")) == list(b.edges(data="travel_time"))
    assert set(synthetic_city(2000, seed=2).edges()) != set(a.edges())


def test_realistic_features_and_profiles() -> None:
    van = synthetic_city(3000)
    assert 2500 < van.number_of_nodes() <= 3100 and nx.is_strongly_connected(van)
    classes = Counter(d["highway"] for *_, d in van.edges(data=True))
    assert {"trunk", "primary", "secondary", "tertiary", "residential", "service"} <= set(classes)
    assert sum(d["oneway"] for *_, d in van.edges(data=True)) > 100
    tricycle = synthetic_city(3000, profile="e-tricycle")
    assert "trunk" not in {d["highway"] for *_, d in tricycle.edges(data=True)}
    walk = synthetic_city(3000, profile="walk")
    assert all(walk.has_edge(v, u) for u, v in walk.edges())


def test_source_string_and_bad_size() -> None:
    graph = build_graph("synthetic:1000", profile="walk")
    assert graph.graph["source"] == "synthetic:1000" and graph.number_of_nodes() > 800
    with pytest.raises(ProfileError, match="n_nodes"):
        synthetic_city(2)
