"""Coordinates from Chinese maps (GCJ-02, BD-09) converted to WGS 84, the datum of OSM roads.

Amap, Tencent and most Chinese geocoders give GCJ-02 ("Mars") coordinates, Baidu gives BD-09:
in Chinese cities they are 300-700 m off the WGS 84 of OSM, so a point fed as it is snaps to
the wrong street. A reader that takes a ``datum`` converts its coordinates here, once, where
it reads them: everything downstream (snapping, matrices, maps, GeoJSON) is WGS 84.

The offsets are prcoords' (public domain; the forward formulas every converter shares, the
inverse iterated to ~1e-8 degrees, a millimetre). GCJ-02 shifts only points inside the rough
box around China that prcoords and eviltransform use (`in_china`, lat 0.8293-55.8271, lon
72.004-137.8347): elsewhere it is WGS 84. prcoords guards only its forward and rough functions
with that box: its precise inverse shifts any point on Earth (Helsinki by ~430 m), so the box
is checked here before it is called. BD-09's own small turn and shift (~1 km) are applied
everywhere, as prcoords and gcoord do (eviltransform leaves points outside China as they are).
A coordinate that is no number or out of range is passed on as it is, for its reader's own
check to refuse by name.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable
from numbers import Real

import numpy as np
import prcoords
from numpy.typing import ArrayLike

from network.errors import GongpeiError
from network.hints import close_name, did_you_mean

#: The datums a user may give coordinates in; WGS 84 (GPS, OSM) is the default.
DATUMS = ("wgs84", "gcj02", "bd09")
DEFAULT_DATUM = "wgs84"

LatLon = tuple[float, float]


class DatumError(GongpeiError):
    """A datum name that is not one of `DATUMS`; `field` is where it was given."""

    def __init__(self, field: str, reason: str) -> None:
        self.field, self.reason = field, reason
        super().__init__(f"{field}: {reason}")


def check_datum(value: object, field: str = "datum") -> str:
    """The datum ``value`` names (None: the default, WGS 84), or a `DatumError` naming
    ``field`` and the datum likely meant ("GCJ-02" is read as gcj02: case, dashes and
    underscores are ignored, as users write it both ways)."""
    if value is None:
        return DEFAULT_DATUM
    if isinstance(value, str):
        folded = value.strip().casefold().replace("-", "").replace("_", "").replace(" ", "")
        if folded in DATUMS:
            return folded
        hint = did_you_mean(close_name(folded, DATUMS, cutoff=0.6))
    else:
        hint = ""
    choices = ", ".join(DATUMS)
    raise DatumError(field, f"{value!r} is not a datum (choose from {choices}){hint}")


def datum_value(value: object) -> str:
    """`check_datum` for a schema's validator: its reason as a ValueError, which pydantic
    reports at the field it validates (a scenario's `datum`, an API siting run's)."""
    try:
        return check_datum(value)
    except DatumError as err:
        raise ValueError(err.reason) from None


def in_china(lat: float, lon: float) -> bool:
    """Whether GCJ-02 shifts a point: prcoords' box around China (it takes in some of its
    neighbours' land and sea; the Chinese maps' own boundary is not public)."""
    return bool(prcoords.sanity_in_china_p(prcoords.Coords(lat, lon)))


def _usable(lat: object, lon: object) -> bool:
    """A coordinate the offsets may be applied to: two finite numbers within range."""
    return (
        all(isinstance(v, Real) and not isinstance(v, bool) for v in (lat, lon))
        and math.isfinite(lat)  # type: ignore[arg-type]
        and math.isfinite(lon)  # type: ignore[arg-type]
        and -90 <= lat <= 90  # type: ignore[operator]
        and -180 <= lon <= 180  # type: ignore[operator]
    )


def _gcj_to_wgs(c: prcoords.Coords) -> prcoords.Coords:
    return prcoords.gcj_wgs_bored(c) if in_china(*c) else c


def _wgs_to_gcj(c: prcoords.Coords) -> prcoords.Coords:
    return prcoords.wgs_gcj(c, False) if in_china(*c) else c


_TO_WGS84: dict[str, Callable[[prcoords.Coords], prcoords.Coords]] = {
    "gcj02": _gcj_to_wgs,
    "bd09": lambda c: _gcj_to_wgs(prcoords.bd_gcj_bored(c)),
}
_FROM_WGS84: dict[str, Callable[[prcoords.Coords], prcoords.Coords]] = {
    "gcj02": _wgs_to_gcj,
    "bd09": lambda c: prcoords.gcj_bd(_wgs_to_gcj(c)),
}


def _convert(table: dict[str, Callable], datum: str, lat: float, lon: float) -> LatLon:
    datum = check_datum(datum)
    if datum == DEFAULT_DATUM or not _usable(lat, lon):
        return lat, lon
    out = table[datum](prcoords.Coords(float(lat), float(lon)))
    return float(out.lat), float(out.lon)


def to_wgs84(datum: str, lat: float, lon: float) -> LatLon:
    """(lat, lon) in WGS 84 of a point given in ``datum`` (a name of `DATUMS`)."""
    return _convert(_TO_WGS84, datum, lat, lon)


def from_wgs84(datum: str, lat: float, lon: float) -> LatLon:
    """(lat, lon) in ``datum`` of a WGS 84 point: for whoever shows a point on a Chinese map."""
    return _convert(_FROM_WGS84, datum, lat, lon)


def points_to_wgs84(
    datum: str, lats: Iterable[float], lons: Iterable[float]
) -> tuple[np.ndarray, np.ndarray]:
    """Latitudes and longitudes (lists or arrays of numbers, one per point) in WGS 84, as float
    arrays (the same values where ``datum`` is WGS 84)."""
    datum = check_datum(datum)
    pairs = [to_wgs84(datum, lat, lon) for lat, lon in zip(lats, lons, strict=True)]
    lat, lon = (np.array([p[k] for p in pairs], dtype=float) for k in (0, 1))
    return lat, lon


def lonlat_to_wgs84(datum: str, lonlat: ArrayLike) -> np.ndarray:
    """[lon, lat] rows (GeoJSON's order: a ring, a bbox's corners, shapely's coordinates) in
    WGS 84, as an (n, 2) float array."""
    rows = np.asarray(lonlat, dtype=float).reshape(-1, 2)
    lat, lon = points_to_wgs84(datum, rows[:, 1], rows[:, 0])
    return np.column_stack([lon, lat])


def bbox_to_wgs84(datum: str, bbox: tuple[float, float, float, float]) -> tuple[float, ...]:
    """A (west, south, east, north) box in WGS 84: each side out to its corners' converted
    (BD-09 turns a box a little, so its converted corners are no box of their own). Each side
    stays a side: a box given east before west is still so, for the bbox check to name."""
    if check_datum(datum) == DEFAULT_DATUM:
        return tuple(bbox)
    w, s, e, n = bbox
    (ws, wn, es, en) = lonlat_to_wgs84(datum, [(w, s), (w, n), (e, s), (e, n)])
    return (
        float(min(ws[0], wn[0])),
        float(min(ws[1], es[1])),
        float(max(es[0], en[0])),
        float(max(wn[1], en[1])),
    )
