"""/v1/lockers: public search and details; admin create/update; firm reservations."""

from __future__ import annotations

import math

from fastapi import APIRouter, Depends, HTTPException, Request, Response
from pydantic_core import to_json
from sqlalchemy import select
from sqlalchemy.orm import Session

from api import booking
from api.db.engine import Database
from api.db.models import SIZES, Firm, Locker
from api.deps import (
    RowId,
    admin_key,
    errors,
    firm_key,
    get_db,
    get_settings,
    parse_query,
    public_responses,
    query_parameters,
    unprocessable,
)
from api.headers import IfNoneMatch, cache_control, cached, cached_responses
from api.limits import public_rate_limit
from api.lockers import add_compartments, create_locker
from api.paging import BadCursorError
from api.routers.reservations import reservation_out
from api.schemas.lockers import (
    LOCKER_FEATURES_EXAMPLE,
    LOCKER_FEATURES_SCHEMA,
    LockerCreate,
    LockerDetail,
    LockerPage,
    LockerUpdate,
    SearchParams,
    feature_collection,
)
from api.schemas.reservations import ReservationCreate, ReservationOut
from api.search import Query as SearchQuery
from api.search import overdue_doors
from api.settings import Settings

router = APIRouter(prefix="/v1/lockers", tags=["lockers"])

#: How long an answer with free counts may be kept (`_search_age`), in the OpenAPI document.
_SEARCH_AGE = "GONGPEI_SEARCH_CACHE_S seconds rounded up (default 1 s), as old as its counts may be"
#: The search's answer to `format=geojson`, beside its JSON form (`LockerPage`), and the age
#: of either.
_GEOJSON_PAGE = {
    "description": "A page of lockers, nearest first: JSON, or GeoJSON with `format=geojson`.",
    "headers": {"Cache-Control": cache_control(max_age_s=1, kept=_SEARCH_AGE)},
    "content": {
        "application/geo+json": {
            "schema": LOCKER_FEATURES_SCHEMA,
            "example": LOCKER_FEATURES_EXAMPLE,
        }
    },
}


@router.get(
    "",
    response_model=LockerPage,
    responses=public_responses(422, ok=_GEOJSON_PAGE),
    summary="Lockers nearest to a point, with free compartments per size (public)",
    description="Nearest first; `free` counts are at most GONGPEI_SEARCH_CACHE_S (default 1 s) "
    "old, and the answer may be cached that long (`Cache-Control`); a booking that waited over "
    "5 s on a lock may take up to 30 s to show. Follow `next_cursor` for more. "
    "`format=geojson` sends the page as a GeoJSON FeatureCollection of Points, for map "
    "libraries and GIS tools.",
    openapi_extra={"parameters": query_parameters(SearchParams)},
)
async def search_lockers(request: Request) -> Response:
    """The hot path, kept lean: runs on the event loop and answers from the in-memory index
    (see `api.search`); validates `SearchParams` in one pydantic call (`parse_query`) and writes
    the JSON (or GeoJSON) itself, since the index already holds exactly the `LockerPage` fields."""
    await public_rate_limit(request)  # called here, not as a dependency: cheaper per request
    q = parse_query(SearchParams, request)
    query = SearchQuery(q.lat, q.lon, q.radius_m, q.size, q.available_only)
    try:
        items, next_cursor = request.app.state.locker_index.search(
            query, limit=q.limit, cursor=q.cursor
        )
    except BadCursorError as err:
        raise unprocessable(["query", "cursor"], str(err)) from err
    if q.format == "geojson":
        page, media = feature_collection(items, next_cursor), "application/geo+json"
    else:
        page, media = {"items": items, "next_cursor": next_cursor}, "application/json"
    body = to_json(page)  # pydantic-core's encoder
    cache = f"public, max-age={_search_age(request)}"
    return Response(body, media_type=media, headers={"Cache-Control": cache})


def _search_age(request: Request) -> int:
    """Seconds a public answer with free counts may be kept: as old as the search's counts
    may be (GONGPEI_SEARCH_CACHE_S), rounded up."""
    return math.ceil(request.app.state.settings.search_cache_s)


def _detail(session: Session, locker: Locker) -> dict:
    """The locker as the public sees it: a door of an overdue hold is free (`api.search`)."""
    overdue = overdue_doors(session, locker.id)
    free = dict.fromkeys(SIZES, 0)
    total = dict.fromkeys(SIZES, 0)
    compartments = []
    for c in locker.compartments:
        available = c.status == "free" or c.id in overdue
        total[c.size] += 1
        free[c.size] += available
        compartments.append(
            {
                "label": c.label,
                "size": c.size,
                "width_mm": c.width_mm,
                "height_mm": c.height_mm,
                "depth_mm": c.depth_mm,
                "available": available,
            }
        )
    fields = ("id", "name", "operator", "lat", "lon", "address", "area", "opening_hours")
    return {
        **{f: getattr(locker, f) for f in fields},
        "free": free,
        "total": total,
        "compartments": compartments,
    }


@router.get(
    "/{locker_id}",
    response_model=LockerDetail,
    dependencies=[Depends(public_rate_limit)],
    responses=cached_responses(public_responses(404), max_age_s=1, kept=_SEARCH_AGE),
    summary="One locker with its compartments and availability (public)",
    description="Availability as it is now. The answer may be kept as long as the search's "
    "(`Cache-Control`), and then revalidated: its `ETag` sent back in `If-None-Match` is "
    "a 304 without a body while nothing in it changed.",
)
def get_locker(
    request: Request,
    locker_id: RowId,
    if_none_match: IfNoneMatch = "",
    db: Database = Depends(get_db),
) -> Response:
    """Written here, not by FastAPI, to give it its ETag: the same locker in the same state is
    the same bytes (`LockerDetail`'s fields in order, its doors as stored)."""
    with db.reading() as session:
        locker = session.get(Locker, locker_id)
        if locker is None:
            raise HTTPException(404, f"locker {locker_id} not found")
        body = LockerDetail.model_validate(_detail(session, locker)).model_dump_json()
    return cached(
        body.encode(),
        media_type="application/json",
        max_age_s=_search_age(request),
        if_none_match=if_none_match,
    )


@router.post(
    "",
    response_model=LockerDetail,
    status_code=201,
    responses=errors(401, 403, 409, 422),
    summary="Install a locker (admin)",
)
def add_locker(
    body: LockerCreate, _: Firm = Depends(admin_key), db: Database = Depends(get_db)
) -> dict:
    with db.writing() as session:
        if body.external_ref is not None and session.scalar(
            select(Locker.id).where(Locker.external_ref == body.external_ref)
        ):
            raise HTTPException(409, f"a locker with external_ref '{body.external_ref}' exists")
        locker = create_locker(session, **body.model_dump())
        return _detail(session, locker)


@router.patch(
    "/{locker_id}",
    response_model=LockerDetail,
    responses=errors(401, 403, 404, 422),
    summary="Change a locker or install more compartments (admin)",
)
def update_locker(
    locker_id: RowId,
    body: LockerUpdate,
    _: Firm = Depends(admin_key),
    db: Database = Depends(get_db),
) -> dict:
    with db.writing() as session:
        locker = session.get(Locker, locker_id, with_for_update=True)
        if locker is None:
            raise HTTPException(404, f"locker {locker_id} not found")
        changes = body.model_dump(exclude_unset=True, exclude={"add_compartments"})
        for field, value in changes.items():
            if value is not None:
                setattr(locker, field, value)
        if body.add_compartments:
            add_compartments(session, locker, body.add_compartments)
        session.flush()
        return _detail(session, locker)


@router.post(
    "/{locker_id}/reservations",
    response_model=ReservationOut,
    status_code=201,
    responses=errors(401, 403, 404, 409, 422),
    summary="Reserve a free compartment for a parcel (firm)",
)
def reserve(
    locker_id: RowId,
    body: ReservationCreate,
    firm: Firm = Depends(firm_key),
    db: Database = Depends(get_db),
    settings: Settings = Depends(get_settings),
) -> dict:
    def book(session: Session) -> dict:
        reservation = booking.reserve(
            session,
            firm,
            locker_id,
            size=body.size,
            parcel_ref=body.parcel_ref,
            allow_larger=body.allow_larger,
            ttl_s=settings.reservation_ttl_s,
        )
        return reservation_out(session, reservation)

    return db.write_retrying(book)
