"""/v1/open-data: aggregate platform figures and the locker registry for the public (no
firm-private data), each answer naming the licence it is offered under."""

from __future__ import annotations

import bisect
import gzip
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from functools import cached_property
from typing import Any
from zoneinfo import ZoneInfo

from fastapi import APIRouter, Depends, Request, Response
from pydantic_core import to_json
from sqlalchemy import Select, bindparam, case, func, select
from sqlalchemy.orm import Session

from api.db.engine import Database
from api.db.models import SIZES, Centre, Compartment, Locker, Reservation, utcnow
from api.deps import (
    get_db,
    get_settings,
    parse_query,
    public_responses,
    query_parameters,
)
from api.headers import IfNoneMatch, cached, cached_responses, entity_tag
from api.licence import Licence
from api.limits import public_rate_limit
from api.opendata_cache import kept_on
from api.paging import after_id, encode_cursor
from api.routers.web import GeoJSONResponse
from api.schemas.opendata import (
    REGISTRY_FEATURES_EXAMPLE,
    REGISTRY_FEATURES_SCHEMA,
    REGISTRY_FIELDS,
    OpenDataSummary,
    RegistryPage,
    RegistryParams,
    registry_features,
)
from api.search import LOCKERS_VERSION, LockerIndex, Lockers, overdue_holds
from api.settings import Settings

router = APIRouter(prefix="/v1/open-data", tags=["open data"])
#: Days of `parcels_by_area_day`: today (so far) and the days before it, in the platform's
#: time zone.
DAYS = 30
#: Doors of holds past ``expires_at`` not yet swept, per size: free to the public, as search
#: and locker detail count them (the hold reads expired and the next booking takes the door).
_OVERDUE_PER_SIZE = overdue_holds(Compartment.size, func.count()).group_by(Compartment.size)


#: Seconds a browser or proxy may keep the summary or the registry: a dashboard polling them,
#: or many visitors of one, are answered by their caches, then by a 304 while they stand.
MAX_AGE_S = 60
_KEPT = f"{MAX_AGE_S} s"
#: Seconds a server process answers with the summary it counted before asking whether its
#: data changed, when the search's index is kept (GONGPEI_SEARCH_CACHE_S > 0): in a busy city
#: a door is taken every second, and each process counted again as often (0.5 s of CPU
#: at 50,000 lockers on SQLite). Its answers may be kept `MAX_AGE_S` by clients anyway.
RECOUNT_S = 10.0
#: The header of every open-data answer naming its licence, in the OpenAPI document.
_LICENCE_HEADER = {
    "Link": {
        "description": 'The licence the data is offered under: `<URL>; rel="license"` '
        "(GONGPEI_DATA_LICENCE; the document's `info.license`).",
        "required": True,
        "schema": {
            "type": "string",
            "examples": ['<https://creativecommons.org/licenses/by/4.0/>; rel="license"'],
        },
    }
}
_REUSE = (
    " The data may be reused under the licence the `Link` header names (`rel=\"license\"`), "
    "as the document's `info.license` does."
)


def _licensed(response: Response, licence: Licence) -> Response:
    """``response`` with the `Link` header naming the data's licence (RFC 8288, RFC 4946)."""
    response.headers["Link"] = licence.link()
    return response


@router.get(
    "/summary",
    response_model=OpenDataSummary,
    dependencies=[Depends(public_rate_limit)],
    responses=cached_responses(
        public_responses(ok={"headers": _LICENCE_HEADER}), max_age_s=MAX_AGE_S, kept=_KEPT
    ),
    summary="Lockers, capacity, utilisation and parcels per area and day (public)",
    description=f"The figures are counted again at most every {RECOUNT_S:.0f} s, once they "
    f"changed; they may be kept {MAX_AGE_S} s (`Cache-Control`), and then revalidated: the "
    "answer's `ETag` sent back in `If-None-Match` is a 304 without a body while they stand."
    + _REUSE,
)
def summary(
    request: Request,
    if_none_match: IfNoneMatch = "",
    db: Database = Depends(get_db),
    settings: Settings = Depends(get_settings),
) -> Response:
    """Written here, not by FastAPI, to give it its ETag: the same figures on the same day
    are the same bytes. Computed once per version of the data they count
    (`_summary_version`), and kept by this process meanwhile; that version is asked at most
    every `RECOUNT_S` (every request with a live index: GONGPEI_SEARCH_CACHE_S=0)."""
    cached_s = settings.search_cache_s
    body, tag = kept_on(request.app.state, "open_data_summary").get(
        lambda: _summary_version(db, settings.time_zone),
        lambda: _summary_body(db, settings),
        trust_s=max(cached_s, RECOUNT_S) if cached_s > 0 else 0.0,
    )
    answer = cached(
        body,
        media_type="application/json",
        max_age_s=MAX_AGE_S,
        if_none_match=if_none_match,
        tag=tag,
    )
    return _licensed(answer, settings.data_licence)


def _summary_body(db: Database, settings: Settings) -> tuple[bytes, str]:
    """The summary's JSON and its ETag."""
    body = OpenDataSummary.model_validate(_figures(db, settings)).model_dump_json().encode()
    return body, entity_tag(body)


_HELD = Reservation.state == "reserved"
#: What the summary's figures are as of, in one round trip of indexed or small reads: the
#: lockers and their doors as the search's index has them (count, changes committed); the
#: centres; the latest availability stamp (a door taken or freed); the holds (a deposit
#: ends one, and the door stays taken); and the holds due by ``:now`` (their doors count
#: free from then on, with nothing written).
_SUMMARY_VERSION = select(
    *LOCKERS_VERSION,
    func.max(Locker.availability_changed_at),
    select(func.count(Centre.id)).scalar_subquery(),
    select(func.count()).select_from(Reservation).where(_HELD).scalar_subquery(),
    select(func.count())
    .select_from(Reservation)
    .where(_HELD, Reservation.expires_at <= bindparam("now"))
    .scalar_subquery(),
)


def _summary_version(db: Database, zone: ZoneInfo) -> tuple[Any, ...]:
    """The version of the data the summary counts, and the day it is in the platform's time
    zone (its days move at midnight). The stamps are taken at flush, so a booking stamped
    before the latest stamp may commit after it unseen: as the search's index does, a stamp
    less than `LockerIndex.MARGIN` old is read as unsettled, and the figures are counted
    again once it has settled."""
    now = utcnow()
    with db.reading() as session:
        *counts, stamp, centres, held, due = session.execute(_SUMMARY_VERSION, {"now": now}).one()
    settled = stamp is None or now - stamp >= LockerIndex.MARGIN
    return (*counts, stamp, settled, centres, held, due, now.astimezone(zone).date())


@dataclass(frozen=True)
class _Registry:
    """The public locker registry as of one snapshot of the search's index
    (`LockerIndex.lockers`), which holds every locker's public fields and door totals and is
    reloaded when a change to the lockers commits: no database round trip per page, and the
    registry, its pages and the search agree. Built once per snapshot version and process
    (10,000 lockers: 15 ms), by one request while the others wait for it (`Kept`)."""

    items: list[dict[str, Any]]  # `REGISTRY_FIELDS` of each locker, by id
    licence: Licence

    @classmethod
    def of(cls, lockers: Lockers, licence: Licence) -> _Registry:
        info = lockers.info
        return cls([{f: info[i][f] for f in REGISTRY_FIELDS} for i in sorted(info)], licence)

    @cached_property
    def ids(self) -> list[int]:
        return [item["id"] for item in self.items]

    def page(self, cursor: str | None, limit: int) -> tuple[list[dict[str, Any]], str | None]:
        """Up to ``limit`` lockers after the id ``cursor`` names, and the next page's cursor
        (None on the last page); a cursor not issued by this API is a 422 on ``cursor``."""
        start = 0 if cursor is None else bisect.bisect_right(self.ids, after_id(cursor))
        items = self.items[start : start + limit]
        more = start + limit < len(self.items)
        return items, encode_cursor([items[-1]["id"]]) if more else None

    @cached_property
    def whole(self) -> tuple[bytes, bytes, str]:
        """The whole registry as one GeoJSON file, gzip-compressed too, and its ETag: written
        and compressed once until the lockers change (10,000 lockers are 3.4 MB of JSON, 0.4 MB
        compressed: compressing it per request cost 150 ms of CPU)."""
        body = to_json(registry_features(self.items, None, self.licence.as_json()))
        return body, gzip.compress(body, mtime=0), entity_tag(body)


def _registry(request: Request) -> _Registry:
    """The app's registry as of its locker index's snapshot now, rebuilt when it moved on."""
    state = request.app.state
    lockers = state.locker_index.lockers()
    return kept_on(state, "locker_registry").get(
        lambda: lockers.version, lambda: _Registry.of(lockers, state.settings.data_licence)
    )


#: The registry's answers, JSON or GeoJSON, with the licence they carry.
_REGISTRY_OK = {
    "description": "Lockers in `id` order: JSON, or GeoJSON with `format=geojson`.",
    "headers": _LICENCE_HEADER,
    "content": {
        "application/geo+json": {
            "schema": REGISTRY_FEATURES_SCHEMA,
            "example": REGISTRY_FEATURES_EXAMPLE,
        }
    },
}
_REGISTRY_KEPT = f"{_KEPT} (lockers are installed or changed by the platform's admins)"


@router.get(
    "/lockers",
    response_model=RegistryPage,
    dependencies=[Depends(public_rate_limit)],
    responses=cached_responses(
        public_responses(422, ok=_REGISTRY_OK), max_age_s=MAX_AGE_S, kept=_REGISTRY_KEPT
    ),
    summary="The locker registry: every locker, by id, with cursor paging (public open data)",
    description="Every locker of the platform, wherever it is (the search finds those near a "
    "point): name, operator, place, address, area, opening hours and doors per size, in `id` "
    "order; follow `next_cursor` for more. Not their free doors: live availability is the "
    "search's and each locker's detail's. `format=geojson` sends the page as a GeoJSON "
    "FeatureCollection of Points, for GIS tools; `/v1/open-data/lockers.geojson` is the whole "
    "registry in one file. A page may be kept "
    f"{MAX_AGE_S} s (`Cache-Control`) and revalidated by its `ETag`; a locker added meanwhile "
    "is on the last page." + _REUSE,
    openapi_extra={"parameters": query_parameters(RegistryParams)},
)
def locker_registry(request: Request, if_none_match: IfNoneMatch = "") -> Response:
    q = parse_query(RegistryParams, request)
    registry = _registry(request)
    items, next_cursor = registry.page(q.cursor, q.limit)
    licence = registry.licence.as_json()
    if q.format == "geojson":
        page, media = registry_features(items, next_cursor, licence), GeoJSONResponse.media_type
    else:
        page = {"items": items, "next_cursor": next_cursor, "licence": licence}
        media = "application/json"
    answer = cached(
        to_json(page), media_type=media, max_age_s=MAX_AGE_S, if_none_match=if_none_match
    )
    return _licensed(answer, registry.licence)


@router.get(
    "/lockers.geojson",
    dependencies=[Depends(public_rate_limit)],
    response_class=GeoJSONResponse,
    responses=cached_responses(
        public_responses(
            ok={
                **_REGISTRY_OK,
                "description": "Every locker, in `id` order (`next_cursor` always null).",
            }
        ),
        max_age_s=MAX_AGE_S,
        kept=_REGISTRY_KEPT,
    ),
    summary="The whole locker registry in one GeoJSON file (public open data)",
    description="What the pages of `/v1/open-data/lockers?format=geojson` hold, at once: a "
    "file a GIS tool opens by its address. Send its `ETag` back in `If-None-Match` to fetch "
    "it again only when a locker changed (a 304 without a body until then)." + _REUSE,
)
def locker_registry_file(request: Request, if_none_match: IfNoneMatch = "") -> Response:
    """Sent compressed as kept (`_Registry.whole`) to a client that accepts gzip: the app's
    `GZipMiddleware` passes an answer that has its `Content-Encoding` on as it is."""
    registry = _registry(request)
    body, packed, tag = registry.whole
    gzipped = "gzip" in request.headers.get("Accept-Encoding", "")  # as the middleware reads it
    answer = cached(
        packed if gzipped else body,
        media_type=GeoJSONResponse.media_type,
        max_age_s=MAX_AGE_S,
        if_none_match=if_none_match,
        tag=tag,
    )
    if gzipped and answer.status_code == 200:
        answer.headers["Content-Encoding"] = "gzip"
    answer.headers["Vary"] = "Accept-Encoding"
    return _licensed(answer, registry.licence)


def _figures(db: Database, settings: Settings) -> dict:
    days = local_days(settings.time_zone, utcnow())
    with db.reading() as session:
        total, free, out_of_service = _compartments(session)
        rows = session.execute(_parcels_by_area_day([start for _, start in days])).all()
        in_service = sum(total.values()) - out_of_service
        return {
            "lockers": session.scalar(select(func.count(Locker.id))),
            "centres": session.scalar(select(func.count(Centre.id))),
            "compartments": total,
            "free": free,
            "utilisation": round(1 - sum(free.values()) / in_service, 4) if in_service else 0.0,
            "parcels_by_area_day": [
                {"area": area, "day": str(days[i][0]), "parcels": n} for area, i, n in rows
            ],
        }


def local_days(zone: ZoneInfo, now: datetime) -> list[tuple[date, datetime]]:
    """The last `DAYS` dates of the platform's calendar, today last, each with the UTC instant
    it begins at: the first is counted whole (cut at its start, not at this time of day 30
    days ago), and a day is the platform's, not UTC's (a deposit at 07:30 in Qingdao is that
    day's, not the day before's). Midnight by `zone`'s rules on that date, so a day across a
    daylight-saving change lasts 23 or 25 hours."""
    today = now.astimezone(zone).date()
    dates = [today - timedelta(days=n) for n in range(DAYS - 1, -1, -1)]
    return [(d, datetime.combine(d, time(), zone).astimezone(UTC)) for d in dates]


def _parcels_by_area_day(starts: list[datetime]) -> Select:
    """(area, index of the day in ``starts``, parcels) deposited since ``starts[0]``. The day
    is found by comparing with each start in the database: no SQL time-zone arithmetic,
    which SQLite lacks."""
    day = case(
        *((Reservation.deposited_at >= start, i) for i, start in reversed(list(enumerate(starts))))
    )
    return (
        select(Locker.area, day, func.count())
        .join(Locker, Locker.id == Reservation.locker_id)
        .where(Reservation.deposited_at >= starts[0])
        .group_by(Locker.area, day)
        .order_by(day, Locker.area)
    )


def _compartments(session: Session) -> tuple[dict[str, int], dict[str, int], int]:
    """Compartments per size, those free to the public per size (overdue holds' doors
    included), and how many are out of service."""
    total = dict.fromkeys(SIZES, 0)
    free = dict.fromkeys(SIZES, 0)
    out_of_service = 0
    for size, status, n in session.execute(
        select(Compartment.size, Compartment.status, func.count()).group_by(
            Compartment.size, Compartment.status
        )
    ):
        total[size] += n
        free[size] += n if status == "free" else 0
        out_of_service += n if status == "out_of_service" else 0
    for size, n in session.execute(_OVERDUE_PER_SIZE, {"now": utcnow()}):
        free[size] += n
    return total, free, out_of_service
