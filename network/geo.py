"""Great-circle distance on the sphere, the one formula every layer uses for straight lines."""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike

# Mean Earth radius as osmnx uses it, so edge lengths match osmnx-built graphs.
EARTH_RADIUS_M = 6_371_009.0


def haversine_m(lat1: ArrayLike, lon1: ArrayLike, lat2: ArrayLike, lon2: ArrayLike) -> np.ndarray:
    """Great-circle distance in metres between points in degrees (numpy broadcasting applies,
    so one point against arrays, pairs of arrays, or an outer product via [:, None] all work)."""
    lat1, lon1, lat2, lon2 = map(np.radians, (lat1, lon1, lat2, lon2))
    h = (
        np.sin((lat2 - lat1) / 2) ** 2
        + np.cos(lat1) * np.cos(lat2) * np.sin((lon2 - lon1) / 2) ** 2
    )
    return 2 * EARTH_RADIUS_M * np.arcsin(np.sqrt(np.clip(h, 0.0, 1.0)))
