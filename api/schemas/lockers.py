"""Locker bodies: public search results and details, admin create/update."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field

from api.schemas.common import Float, Name, Size, SizeCounts, Text
from routing.model import not_bool

#: Doors of one size: a JSON whole number, strictly, as a locker file's import reads it (`api.
#: lockers`): lax mode stored "3" and 2.0 as 3 and 2 doors. The bounds come before the
#: true/false check (not `Annotated[Int, ...]`) so that the OpenAPI schema shows them as
#: minimum/maximum, as `common.IntOrNone` explains; that check keeps its own message for true.
Count = Annotated[int, Field(ge=0, le=500, strict=True), BeforeValidator(not_bool)]

#: A search item's example; the open-data registry's item is the same locker without its
#: distance and free doors (`api.schemas.opendata`).
LOCKER_EXAMPLE = {
    "id": 12,
    "name": "Teaching Building 3, east door",
    "operator": "Campus Post",
    "lat": 36.0671,
    "lon": 120.3826,
    "address": "Songling Rd 238",
    "area": "Laoshan",
    "opening_hours": "06:00-23:00",
    "distance_m": 184.2,
    "free": {"S": 10, "M": 3, "L": 0},
    "total": {"S": 16, "M": 8, "L": 2},
}
_NEXT_CURSOR = "Pass as `cursor` to get the next page; null on the last page."


class SearchParams(BaseModel):
    """Query parameters of the nearby search (one model: validated in one pass). Its numbers
    refuse nan and inf by name ("Input should be a finite number"): a query string can spell
    them, and the range checks alone blamed the bounds for them."""

    lat: float = Field(ge=-90, le=90, allow_inf_nan=False, examples=[36.0671])
    lon: float = Field(ge=-180, le=180, allow_inf_nan=False, examples=[120.3826])
    radius_m: float = Field(
        1000, gt=0, le=50_000, allow_inf_nan=False, description="Search radius, metres."
    )
    size: Size | None = Field(None, description="Only lockers with this door size.")
    available_only: bool = Field(
        False, description="Only lockers with a free door (of `size`, if given)."
    )
    limit: int = Field(
        20,
        ge=1,
        le=1000,
        description="Lockers per page. Up to 1,000, as the open-data registry's: the map asks "
        "for the 2,000 nearest in two requests, not twenty, each counted once by the rate limit.",
    )
    cursor: str | None = Field(
        None, max_length=500, description="`next_cursor` of the previous page."
    )
    format: Literal["json", "geojson"] = Field(
        "json",
        examples=["geojson"],
        description="`geojson`: the page as an RFC 7946 FeatureCollection of Points "
        "(`application/geo+json`), each feature's `properties` an item of the JSON form and "
        "`next_cursor` a member of the collection; the cursors of both forms are the same.",
    )


class LockerSummary(BaseModel):
    model_config = ConfigDict(json_schema_extra={"examples": [LOCKER_EXAMPLE]})

    id: int
    name: str
    operator: str
    lat: float
    lon: float
    address: str
    area: str
    opening_hours: str
    distance_m: float = Field(description="Great-circle distance from the query point, metres.")
    free: SizeCounts = Field(
        description="Free compartments per size, cached: at most GONGPEI_SEARCH_CACHE_S old."
    )
    total: SizeCounts = Field(description="All compartments per size.")


class LockerPage(BaseModel):
    model_config = ConfigDict(
        json_schema_extra={"examples": [{"items": [LOCKER_EXAMPLE], "next_cursor": None}]}
    )

    items: list[LockerSummary]
    next_cursor: str | None = Field(description=_NEXT_CURSOR)


def feature_collection(items: list[dict[str, Any]], next_cursor: str | None) -> dict[str, Any]:
    """A search page as GeoJSON (RFC 7946): each item a Point feature at [lon, lat] with the
    item as its properties, so that a map library draws the page as sent; the cursor is a
    foreign member of the collection, which GeoJSON readers keep or ignore."""
    features = [
        {
            "type": "Feature",
            "id": item["id"],
            "geometry": {"type": "Point", "coordinates": [item["lon"], item["lat"]]},
            "properties": item,
        }
        for item in items
    ]
    return {"type": "FeatureCollection", "features": features, "next_cursor": next_cursor}


#: The OpenAPI schema of `feature_collection`'s answer, written out: FastAPI lists in the
#: document's components only the models of a response's JSON form.
LOCKER_FEATURES_SCHEMA: dict[str, Any] = {
    "title": "LockerFeatureCollection",
    "type": "object",
    "required": ["type", "features", "next_cursor"],
    "properties": {
        "type": {"const": "FeatureCollection"},
        "features": {
            "type": "array",
            "items": {
                "type": "object",
                "required": ["type", "id", "geometry", "properties"],
                "properties": {
                    "type": {"const": "Feature"},
                    "id": {"type": "integer", "description": "The locker's `id`."},
                    "geometry": {
                        "type": "object",
                        "required": ["type", "coordinates"],
                        "properties": {
                            "type": {"const": "Point"},
                            "coordinates": {
                                "type": "array",
                                "items": {"type": "number"},
                                "minItems": 2,
                                "maxItems": 2,
                                "description": "[lon, lat], degrees (WGS 84).",
                            },
                        },
                    },
                    "properties": {"$ref": "#/components/schemas/LockerSummary"},
                },
            },
        },
        "next_cursor": {"anyOf": [{"type": "string"}, {"type": "null"}],
                        "description": _NEXT_CURSOR},
    },
}
LOCKER_FEATURES_EXAMPLE = feature_collection([LOCKER_EXAMPLE], None)


class CompartmentOut(BaseModel):
    label: str = Field(examples=["M03"])
    size: Size
    width_mm: int = Field(examples=[380])
    height_mm: int = Field(examples=[190])
    depth_mm: int = Field(examples=[640])
    available: bool = Field(description="Free to reserve now (no reservation details are public).")


class LockerDetail(BaseModel):
    model_config = ConfigDict(
        from_attributes=True,
        json_schema_extra={
            "examples": [
                {
                    **{k: v for k, v in LOCKER_EXAMPLE.items() if k != "distance_m"},
                    "compartments": [
                        {"label": "S01", "size": "S", "width_mm": 380, "height_mm": 80,
                         "depth_mm": 640, "available": True},
                        {"label": "M01", "size": "M", "width_mm": 380, "height_mm": 190,
                         "depth_mm": 640, "available": False},
                    ],
                }
            ]
        },
    )

    id: int = Field(examples=[12])
    name: Text = Field(examples=["Teaching Building 3, east door"])
    operator: Text = Field(examples=["Campus Post"])
    lat: float = Field(examples=[36.0671])
    lon: float = Field(examples=[120.3826])
    address: Text = Field(examples=["Songling Rd 238"])
    area: Text = Field(examples=["Laoshan"])
    opening_hours: Text = Field(examples=["06:00-23:00"])
    free: SizeCounts
    total: SizeCounts
    compartments: list[CompartmentOut]


class LockerCreate(BaseModel):
    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {
                    "name": "Teaching Building 3, east door",
                    "operator": "Campus Post",
                    "lat": 36.0671,
                    "lon": 120.3826,
                    "address": "Songling Rd 238",
                    "area": "Laoshan",
                    "opening_hours": "06:00-23:00",
                    "compartments": {"S": 16, "M": 8, "L": 2},
                }
            ]
        },
    )

    name: Name = Field(min_length=1, max_length=200)
    operator: Text = Field("", max_length=200)
    lat: Float = Field(ge=-90, le=90)
    lon: Float = Field(ge=-180, le=180)
    address: Text = Field("", max_length=300)
    area: Text = Field("", max_length=100)
    opening_hours: Text = Field("24/7", max_length=200)
    external_ref: Text | None = Field(None, min_length=1, max_length=100)
    compartments: dict[Size, Count] = Field(
        description="How many compartments of each size (0..500).",
        examples=[{"S": 16, "M": 8, "L": 2}],
    )


class LockerUpdate(BaseModel):
    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [{"opening_hours": "00:00-24:00", "add_compartments": {"L": 2}}]
        },
    )

    name: Name | None = Field(None, min_length=1, max_length=200)
    operator: Text | None = Field(None, max_length=200)
    address: Text | None = Field(None, max_length=300)
    area: Text | None = Field(None, max_length=100)
    opening_hours: Text | None = Field(None, max_length=200)
    add_compartments: dict[Size, Count] | None = Field(
        None, description="Extra compartments to install, per size."
    )

