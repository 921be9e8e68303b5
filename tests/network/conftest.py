"""Fixtures for the road-network tests: demo graphs and the shared extracts."""

from __future__ import annotations

from pathlib import Path

import networkx as nx
import pytest

from network.graph import build_graph


@pytest.fixture(scope="session")
def demo_van() -> nx.MultiDiGraph:
    return build_graph("demo", profile="van")


@pytest.fixture(scope="session")
def demo_walk() -> nx.MultiDiGraph:
    return build_graph("demo", profile="walk")


@pytest.fixture(scope="session")
def osm_dir(shared_dir: Path) -> Path:
    return shared_dir / "data" / "osm"
