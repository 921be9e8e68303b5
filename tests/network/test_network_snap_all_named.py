"""Every point that cannot be snapped is named in one error (the firm audit's finding 4: a day
with several stops off the map named only the first, so its sender resent it once per stop)."""

from __future__ import annotations

import networkx as nx
import pytest

from network.errors import SnapError
from network.snap import NAMED_POINTS, PointsOffMap, snap_points

ON = (60.1699, 24.9384)  # central Helsinki, on the demo map


def _far(k: int) -> tuple[float, float]:
    return (61.5 + k / 100, 24.94)  # 150 km and more north of it


def test_every_point_too_far_from_the_roads_is_named(demo_van: nx.MultiDiGraph) -> None:
    points = [ON, _far(0), ON, _far(1)]
    with pytest.raises(PointsOffMap) as err:
        snap_points(demo_van, points, labels=["a", "b", "c", "d"])
    assert isinstance(err.value, SnapError)
    assert list(err.value.reasons) == [1, 3]
    said = str(err.value)
    assert said.startswith("point 'b': (lat=61.5, lon=24.94) is ")
    assert "; point 'd': (lat=61.51, lon=24.94) is " in said and "; and " not in said
    assert said.count("from the nearest usable road") == 2


def test_past_a_few_points_the_rest_are_counted(demo_van: nx.MultiDiGraph) -> None:
    points = [ON] + [_far(k) for k in range(NAMED_POINTS + 3)]
    with pytest.raises(PointsOffMap) as err:
        snap_points(demo_van, points)
    assert len(err.value.reasons) == NAMED_POINTS + 3
    assert str(err.value).endswith("; and 3 more")
    assert str(err.value).count("point ") == NAMED_POINTS


def test_points_too_far_for_the_maps_projection_are_named_with_the_others(
    demo_van: nx.MultiDiGraph,
) -> None:
    """A point 90 degrees of longitude from the map is placed nowhere by the map's projection;
    it is named with the points merely too far from a road."""
    points = [ON, (0.0, 115.0), _far(0)]  # on the equator, far east; north of Helsinki
    with pytest.raises(PointsOffMap) as err:
        snap_points(demo_van, points)
    assert list(err.value.reasons) == [1, 2]
    assert "point 1: (lat=0.0, lon=115.0) is about" in str(err.value)
    assert "point 2: (lat=61.5, lon=24.94) is " in str(err.value)


def test_every_invalid_coordinate_is_named(demo_van: nx.MultiDiGraph) -> None:
    with pytest.raises(PointsOffMap) as err:
        snap_points(demo_van, [(95.0, 24.9), ON, (60.1, float("nan"))])
    assert list(err.value.reasons) == [0, 2]
    assert str(err.value).count("is not a valid coordinate") == 2
