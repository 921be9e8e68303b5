"""Open data: the summary's aggregate figures and the locker registry, nothing firm-private."""

from __future__ import annotations

import copy
from datetime import date
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from api.schemas.common import SizeCounts
from api.schemas.lockers import LOCKER_EXAMPLE, LOCKER_FEATURES_SCHEMA, feature_collection


class AreaDay(BaseModel):
    area: str = Field(examples=["Laoshan"])
    day: date = Field(examples=["2026-11-25"])
    parcels: int = Field(description="Parcels deposited into lockers of this area on this day.")


class OpenDataSummary(BaseModel):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "lockers": 120,
                    "centres": 3,
                    "compartments": {"S": 1900, "M": 960, "L": 240},
                    "free": {"S": 1200, "M": 500, "L": 80},
                    "utilisation": 0.39,
                    "parcels_by_area_day": [
                        {"area": "Laoshan", "day": "2026-11-25", "parcels": 812}
                    ],
                }
            ]
        }
    )

    lockers: int
    centres: int
    compartments: SizeCounts
    free: SizeCounts
    utilisation: float = Field(description="Share of in-service compartments not free now.")
    parcels_by_area_day: list[AreaDay] = Field(
        description="The last 30 days of the platform's calendar (GONGPEI_TIME_ZONE), today "
        "included, by locker area."
    )


class LicenceOut(BaseModel):
    """The licence the data is offered under (`GONGPEI_DATA_LICENCE`)."""

    name: str = Field(examples=["Creative Commons Attribution 4.0 International"])
    identifier: str | None = Field(
        examples=["CC-BY-4.0"], description="Its SPDX identifier; null for the platform's own "
        "terms."
    )
    url: str = Field(examples=["https://creativecommons.org/licenses/by/4.0/"])


_LICENCE_EXAMPLE = {
    "name": "Creative Commons Attribution 4.0 International",
    "identifier": "CC-BY-4.0",
    "url": "https://creativecommons.org/licenses/by/4.0/",
}
_REGISTERED_EXAMPLE = {k: v for k, v in LOCKER_EXAMPLE.items() if k not in ("distance_m", "free")}
_NEXT = "Pass as `cursor` to get the next page; null on the last page."


class RegistryParams(BaseModel):
    """Query parameters of the registry's pages (validated in one pass, as the search's)."""

    limit: int = Field(100, ge=1, le=1000, description="Lockers per page.")
    cursor: str | None = Field(
        None, max_length=500, description="`next_cursor` of the previous page."
    )
    format: Literal["json", "geojson"] = Field(
        "json",
        examples=["geojson"],
        description="`geojson`: the page as an RFC 7946 FeatureCollection of Points "
        "(`application/geo+json`), each feature's `properties` an item of the JSON form, "
        "`next_cursor` and `licence` members of the collection; the cursors of both forms are "
        "the same.",
    )


class RegisteredLocker(BaseModel):
    """A locker as the registry publishes it: where it is, who runs it, when it opens and how
    many doors of each size it has. Not its free doors (live availability is the search's and
    the detail's, kept seconds, not a minute) nor its operator's own reference."""

    model_config = ConfigDict(json_schema_extra={"examples": [_REGISTERED_EXAMPLE]})

    id: int
    name: str
    operator: str
    lat: float = Field(description="Latitude, degrees (WGS 84).")
    lon: float = Field(description="Longitude, degrees (WGS 84).")
    address: str
    area: str
    opening_hours: str
    total: SizeCounts = Field(description="All compartments per size.")


#: What the registry publishes of each locker, in this order.
REGISTRY_FIELDS = tuple(RegisteredLocker.model_fields)


class RegistryPage(BaseModel):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {"items": [_REGISTERED_EXAMPLE], "next_cursor": None, "licence": _LICENCE_EXAMPLE}
            ]
        }
    )

    items: list[RegisteredLocker] = Field(description="Lockers in `id` order.")
    next_cursor: str | None = Field(description=_NEXT)
    licence: LicenceOut


def _registry_features_schema() -> dict[str, Any]:
    """The search's GeoJSON schema (`LOCKER_FEATURES_SCHEMA`) with `RegisteredLocker`
    properties and the `licence` member."""
    schema = copy.deepcopy(LOCKER_FEATURES_SCHEMA)
    schema["title"] = "RegistryFeatureCollection"
    feature = schema["properties"]["features"]["items"]
    feature["properties"]["properties"] = {"$ref": "#/components/schemas/RegisteredLocker"}
    schema["properties"]["licence"] = {"$ref": "#/components/schemas/LicenceOut"}
    schema["required"] = [*schema["required"], "licence"]
    return schema


def registry_features(
    items: list[dict[str, Any]], next_cursor: str | None, licence: dict[str, Any]
) -> dict[str, Any]:
    """Registry lockers as the search's GeoJSON FeatureCollection (`feature_collection`), with
    the licence they are offered under as a member: a file saved from it still says its
    terms. The whole registry at once is a last page (`next_cursor` null)."""
    return {**feature_collection(items, next_cursor), "licence": licence}


REGISTRY_FEATURES_SCHEMA = _registry_features_schema()
REGISTRY_FEATURES_EXAMPLE = registry_features([_REGISTERED_EXAMPLE], None, _LICENCE_EXAMPLE)
