"""network.datum: GCJ-02 and BD-09 coordinates to WGS 84 and back, against published pairs."""

import math
import warnings

import numpy as np
import pytest

from network.datum import (
    DATUMS,
    DatumError,
    bbox_to_wgs84,
    check_datum,
    from_wgs84,
    in_china,
    points_to_wgs84,
    to_wgs84,
)
from network.errors import GongpeiError
from network.geo import haversine_m

#: (WGS 84 lat, lon, GCJ-02 lat, lon): eviltransform's own test vectors
#: (googollee/eviltransform, python/test.py): Shanghai, Shenzhen, Beijing.
EVILTRANSFORM_WGS_GCJ = [
    (31.1774276, 121.5272106, 31.17530398364597, 121.531541859215),
    (22.543847, 113.912316, 22.540796131694766, 113.9171764808363),
    (39.911954, 116.377817, 39.91334545536069, 116.38404722455657),
]
#: gcoord's (hujiulong/gcoord, test/unit/crs/*.spec.ts) for the point 45 N 123 E, as
#: (lat, lon): WGS 84, and that point in GCJ-02 and BD-09; a GCJ-02 and a BD-09 point 45 N
#: 123 E, and each in WGS 84.
GCOORD_WGS = (45.0, 123.0)
GCOORD_WGS_AS = {"gcj02": (45.00197815, 123.00607541), "bd09": (45.0083293, 123.0124491)}
GCOORD_TO_WGS = {"gcj02": (44.99804071, 122.99395597), "bd09": (44.99171540, 122.98762210)}

NANJING = (32.0438, 118.7789)  # Xinjiekou roundabout in OSM (WGS 84)
HELSINKI = (60.1699, 24.9384)  # the demo map: outside China


def metres(a: tuple[float, float], b: tuple[float, float]) -> float:
    return float(haversine_m(a[0], a[1], b[0], b[1]))


@pytest.mark.parametrize(("wlat", "wlon", "glat", "glon"), EVILTRANSFORM_WGS_GCJ)
def test_gcj02_matches_eviltransform(wlat: float, wlon: float, glat: float, glon: float) -> None:
    """The forward offset to 1e-6 degrees (eviltransform's own test), the inverse within 1 m."""
    got = from_wgs84("gcj02", wlat, wlon)
    assert got == pytest.approx((glat, glon), abs=1e-6)
    assert metres(to_wgs84("gcj02", glat, glon), (wlat, wlon)) < 1.0


@pytest.mark.parametrize("datum", ["gcj02", "bd09"])
def test_matches_gcoord(datum: str) -> None:
    """gcoord's pairs: its forward to 5 decimals as it tests them, the inverse within 1 m
    (gcoord's own inverse is the rough one)."""
    assert from_wgs84(datum, *GCOORD_WGS) == pytest.approx(GCOORD_WGS_AS[datum], abs=1e-5)
    assert metres(to_wgs84(datum, 45.0, 123.0), GCOORD_TO_WGS[datum]) < 1.0


@pytest.mark.parametrize("datum", ["gcj02", "bd09"])
@pytest.mark.parametrize(
    "point", [NANJING, (36.0671, 120.3826), (39.9990, 116.3100), (22.5431, 114.0579)]
)
def test_round_trip_within_a_centimetre(datum: str, point: tuple[float, float]) -> None:
    """WGS 84 -> datum -> WGS 84 comes back (the inverse is iterated, not the rough one,
    which is metres off), after moving hundreds of metres."""
    shifted = from_wgs84(datum, *point)
    assert 200 < metres(shifted, point) < 1500
    assert metres(to_wgs84(datum, *shifted), point) < 0.01


def test_amap_xinjiekou_lands_on_osm() -> None:
    """The measured case of the brief: the roundabout picked on Amap (GCJ-02) is ~550 m from
    OSM's; converted it is within the few metres two people pick a roundabout's centre."""
    amap = (32.0415, 118.7845)
    assert metres(amap, NANJING) > 500
    assert metres(to_wgs84("gcj02", *amap), NANJING) < 60


@pytest.mark.parametrize("datum", DATUMS)
def test_outside_china_gcj02_is_wgs84(datum: str) -> None:
    """Outside China GCJ-02 is WGS 84 (prcoords' precise inverse alone would move Helsinki by
    ~430 m); BD-09 keeps only Baidu's own shift there, and comes back. No warning either
    (prcoords warns where its forward function is handed a point outside China)."""
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert not in_china(*HELSINKI)
        there = from_wgs84(datum, *HELSINKI)
        back = to_wgs84(datum, *there)
    if datum == "bd09":
        assert 500 < metres(there, HELSINKI) < 1500
    else:
        assert there == HELSINKI
    assert metres(back, HELSINKI) < 0.01


def test_wgs84_and_unusable_coordinates_pass_unchanged() -> None:
    """WGS 84 is the identity; a coordinate that is no number, or out of range, is left for
    its reader's own check to refuse by name."""
    assert to_wgs84("wgs84", *NANJING) == NANJING
    for lat, lon in [(math.nan, 118.0), (32.0, math.inf), (95.0, 118.0), (True, 118.0)]:
        assert to_wgs84("gcj02", lat, lon) == (lat, lon)


def test_arrays() -> None:
    lat, lon = points_to_wgs84("bd09", np.array([32.05, 45.0]), [118.79, 123.0])
    assert isinstance(lat, np.ndarray) and lat.dtype == float
    assert (lat[1], lon[1]) == pytest.approx(to_wgs84("bd09", 45.0, 123.0))
    assert len(points_to_wgs84("gcj02", [], [])[0]) == 0


@pytest.mark.parametrize(
    ("given", "meant"),
    [(None, "wgs84"), ("GCJ-02", "gcj02"), ("BD_09", "bd09"), ("WGS84", "wgs84")],
)
def test_datum_names(given: str | None, meant: str) -> None:
    assert check_datum(given) == meant


@pytest.mark.parametrize(
    ("given", "hint"), [("gcj2", "did you mean 'gcj02'?"), ("baidu", "choose from"), (84, "")]
)
def test_bad_datum_names_the_field(given: object, hint: str) -> None:
    with pytest.raises(DatumError, match=r"^lockers\.datum: .*is not a datum") as err:
        check_datum(given, "lockers.datum")
    assert isinstance(err.value, GongpeiError) and hint in str(err.value)
    assert err.value.field == "lockers.datum"


@pytest.mark.parametrize("datum", ["gcj02", "bd09"])
def test_a_bbox_holds_its_converted_corners_and_keeps_its_sides(datum: str) -> None:
    """Each side goes out to its converted corners; a box given east before west stays so
    (and so does any box in WGS 84), for `network.areas.checked_bbox` to name the swap."""
    box = (118.77, 32.03, 118.795, 32.055)
    w, s, e, n = bbox_to_wgs84(datum, box)
    for lat, lon in [(box[1], box[0]), (box[3], box[0]), (box[1], box[2]), (box[3], box[2])]:
        clat, clon = to_wgs84(datum, lat, lon)
        assert w <= clon <= e and s <= clat <= n
    assert bbox_to_wgs84("wgs84", box[::-1]) == box[::-1]
    swapped = bbox_to_wgs84(datum, (box[2], box[1], box[0], box[3]))
    assert swapped[0] > swapped[2]
