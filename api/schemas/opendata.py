"""Open-data summary: aggregate figures only, nothing firm-private."""

from __future__ import annotations

from datetime import date

from pydantic import BaseModel, ConfigDict, Field

from api.schemas.common import SizeCounts


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
