"""The FastAPI application: routers, limits, error handling, static Leaflet and the map page."""

from __future__ import annotations

import asyncio
import logging
import sys
from collections.abc import Callable
from contextlib import asynccontextmanager
from importlib.resources import files
from typing import Any

from fastapi import Depends, FastAPI, HTTPException, Request
from fastapi.exception_handlers import http_exception_handler
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from fastapi.routing import APIRoute
from fastapi.staticfiles import StaticFiles
from sqlalchemy.exc import DataError, IntegrityError, InterfaceError, OperationalError
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import Headers
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.middleware.cors import CORSMiddleware
from starlette.middleware.gzip import GZipMiddleware
from starlette.routing import Match
from starlette.types import ASGIApp, Message, Receive, Scope, Send
from swagger_ui_bundle import swagger_ui_path

from api.booking import BookingError
from api.check_pool import CheckPool
from api.db.engine import UNREACHABLE, Database, first_line
from api.db.migrate import check_schema, upgrade
from api.deps import key_check, query_names, refuse_unknown_query, unprocessable
from api.headers import ERROR_HEADERS, MapPolicy, SecurityHeaders
from api.json_checks import long_integer_place, may_be_non_finite, non_finite
from api.limits import RATE_LIMIT_HEADERS, BodySizeLimit, PublicLimit, RateLimitHeaders
from api.openapi import complete_openapi
from api.routers import (
    admin,
    docs,
    health,
    jobs,
    lockers,
    opendata,
    pooling,
    reservations,
    vehicles,
    web,
)
from api.search import LockerIndex
from api.settings import Settings
from network.errors import GongpeiError

log = logging.getLogger("gongpei.api")
#: Seconds a client is asked to wait while the database is out of reach: about what a
#: PostgreSQL restart or failover takes.
RETRY_AFTER_S = 5

DESCRIPTION = """\
The Gongpei public logistics information platform.

* **Public** (no key, rate-limited per client): locker search and details, open data (the
  summary and the whole locker registry), distribution centres, the map page at `/map`.
* **Firms** (`X-API-Key` of role `firm`): delivery batches, compartment reservations, vehicles.
* **Planners** (role `planner`): locker-siting runs, and pooling runs (several firms' day alone
  against pooled at shared centres, with the fair split of the saving). **Admins**: firms,
  centres, lockers.

Errors are JSON `{"detail": ...}`; validation errors (422) list each problem with its field path
in `loc`, e.g. `["body", "size"]`. A query parameter an endpoint does not take, or one given
twice, is a 422 at `["query", name]`, not ignored. Job submissions take an `Idempotency-Key`
header: a retry with the same key and body gets the same job (see the header on each POST).

The open data (`/v1/open-data`: the summary and the locker registry, whole or in pages) may be
reused under the licence in `info.license` (GONGPEI_DATA_LICENCE), which each answer names
too (`Link: <...>; rel="license"`; the registry also in its `licence` member).

Any web page may read the public answers (CORS, `Access-Control-Allow-Origin: *`, without
credentials); keyed calls cannot be made from another site's page. Public answers carry
`RateLimit-Limit` and `RateLimit-Policy` (`60;w=3`: 60 requests in any 3 s), and, unless the
limit is counted in Redis, `RateLimit-Remaining` and `RateLimit-Reset` (seconds); a 429 carries
all four and `Retry-After`.
"""


def _field_errors(exc: RequestValidationError) -> list[dict]:
    """Validation problems with their field paths, without echoing whole inputs back."""
    return [
        {"loc": list(e.get("loc", ())), "msg": e.get("msg", ""), "type": e.get("type", "")}
        for e in exc.errors()
    ]


def _matched_route(routes: list[APIRoute], scope: Scope) -> APIRoute | None:
    """The route the router will hand the request to: the first whose path and method match."""
    return next((route for route in routes if route.matches(scope)[0] is Match.FULL), None)


def _may_have_body(scope: Scope) -> bool:
    headers = Headers(scope=scope)
    return headers.get("content-length", "0") != "0" or "transfer-encoding" in headers


class KeyFirst:
    """ASGI middleware: a keyed endpoint that takes a body checks the caller's key before the
    body is read. FastAPI reads and parses a body (on the event loop, about 0.2 s for the 5 MB
    the size limit allows) before any dependency runs, so a caller without a valid key could
    make the server do that for nothing; now its 401, or the 403 of a key of another role,
    costs a header lookup and the key's query, whatever the body, well-formed or not."""

    def __init__(self, app: ASGIApp, routes: list[APIRoute]) -> None:
        self.app = app
        self.routes = routes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and _may_have_body(scope):
            route = _matched_route(self.routes, scope)
            check = key_check(route)
            if check is not None and route.body_field is not None:
                request = Request(scope)
                try:
                    await run_in_threadpool(check, request, request.headers.get("X-API-Key"))
                except HTTPException as refused:
                    body = {"detail": refused.detail}
                    response = JSONResponse(body, refused.status_code, refused.headers)
                    await response(scope, receive, send)
                    return
                except UNREACHABLE as err:  # out here no exception handler answers for it
                    await database_away(request, err)(scope, receive, send)
                    return
        await self.app(scope, receive, send)


def database_away(request: Request, err: Exception) -> JSONResponse:
    """A 503 with Retry-After for a request the database could not answer (down, restarting,
    a failover), logged in one line: it was a 500 "internal server error", logged with two
    tracebacks, though nothing is wrong with the request or the server."""
    log.warning(
        "database out of reach on %s %s: %s", request.method, request.url.path, first_line(err)
    )
    return JSONResponse(
        {"detail": "the database is unavailable; retry later"},
        status_code=503,
        headers={"Retry-After": str(RETRY_AFTER_S)},
    )


class StartupCheck:
    """ASGI middleware: the server refuses to start, in one line, where ``check`` raises a
    GongpeiError (a schema behind or ahead of this release, a database that does not answer).
    Raised by the app's lifespan, Starlette reports it with the whole traceback (95 lines for
    a schema one migration behind); raised by the app factory, uvicorn does."""

    def __init__(self, app: ASGIApp, check: Callable[[], None]) -> None:
        self.app = app
        self.check = check

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "lifespan":
            await self.app(scope, receive, send)
            return
        startup = await receive()
        try:
            await asyncio.to_thread(self.check)
        except GongpeiError as err:
            await send({"type": "lifespan.startup.failed", "message": f"error: {err}"})
            raise  # the server has the message: it logs that line and exits
        pending = [startup]

        async def replayed() -> Message:
            return pending.pop() if pending else await receive()

        await self.app(scope, replayed, send)


async def _unreadable(request: Request, cause: BaseException | None) -> dict | None:
    """The `json_invalid` problem of a body FastAPI's parser refused with another error than a
    JSONDecodeError (its bare 400 "There was an error parsing the body"), or None for a 400 of
    another cause: bytes that are not UTF-8, arrays nested past Python's recursion limit, or an
    integer longer than Python converts (a ValueError, placed at its field; UnicodeDecodeError
    is a ValueError too, so it is asked first)."""
    place: list[str | int] = []
    if isinstance(cause, UnicodeDecodeError):
        why = f"not UTF-8 text (byte {cause.start})"
    elif isinstance(cause, RecursionError):
        why = "nested too deeply"
    elif isinstance(cause, ValueError):
        why = f"an integer of more than {sys.get_int_max_str_digits()} digits (too long to read)"
        place = await run_in_threadpool(long_integer_place, await request.body())
    else:
        return None
    return {"type": "json_invalid", "loc": ("body", *place), "msg": f"JSON decode error: {why}"}


def _not_json(exc: RequestValidationError) -> bool:
    """Whether the body was not read as JSON: FastAPI passes the raw bytes on when the request
    says another Content-Type (or none), and then reports only that they are not an object."""
    return isinstance(exc.body, bytes | bytearray) and bool(exc.body)


def _sent_as_json(request: Request) -> bool:
    """Whether FastAPI reads the request's body as JSON: its Content-Type is application/json
    or application/...+json (any other body is refused as not JSON, a 415)."""
    media = request.headers.get("content-type", "").split(";")[0].strip().lower()
    kind, _, subtype = media.partition("/")
    return kind == "application" and (subtype == "json" or subtype.endswith("+json"))


async def _finite_json(request: Request) -> None:
    """Refuse NaN, Infinity and -Infinity in a JSON body as the malformed JSON they are, with
    FastAPI's `json_invalid` error at their place. Its parser reads them; typed numbers refuse
    them, but in a part of a body kept as posted (say an unknown key of a batch's job) they
    reached the database, whose PostgreSQL JSON column cannot store them; so did a number too
    large for a float (1e400), which the parser reads as infinity.

    Only a route that takes a body is checked (FastAPI leaves any other's unread), after the
    caller's key (`KeyFirst`); a body that cannot hold one costs a byte search, and any other
    is parsed again in a worker thread, not on the event loop, stopping at the first."""
    route = request.scope.get("route")
    if getattr(route, "body_field", None) is None or not _sent_as_json(request):
        return
    body = await request.body()
    if not may_be_non_finite(body):
        return
    problem = await run_in_threadpool(non_finite, body)
    if problem is not None:
        raise RequestValidationError([problem])


async def _request_checks(request: Request) -> None:
    """Every route's checks of the request as a whole, in one dependency (each one costs the
    hot search a call): the names in its query (`refuse_unknown_query`), then a JSON body's
    numbers (`_finite_json`)."""
    route = request.scope.get("route")
    known = request.app.state.query_names.get(getattr(route, "unique_id", None))
    if known is not None:
        refuse_unknown_query(request, known)
    await _finite_json(request)


def _allowed_methods(routes: list[APIRoute], scope: Scope) -> list[str]:
    """The methods some route serves at the request's path (Starlette's 405 names only those of
    the first route whose path matched), with HEAD wherever GET is (`HeadAsGet`)."""
    matched = (route for route in routes if route.matches(scope)[0] is not Match.NONE)
    methods = {method for route in matched for method in route.methods}
    return sorted(methods | {"HEAD"} if "GET" in methods else methods)


class HeadAsGet:
    """ASGI middleware: HEAD on a GET resource is answered as the GET would be, headers only
    (RFC 9110 9.1: a general-purpose server supports HEAD; link checkers and monitors use it).
    FastAPI routes serve only the methods they name, so every HEAD was a 405. Outermost, so
    the length sent is the one a GET would get, compressed or not."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] != "HEAD":
            await self.app(scope, receive, send)
            return

        async def headers_only(message: Message) -> None:
            if message["type"] == "http.response.body":
                if message.get("more_body"):
                    return
                message = {"type": "http.response.body", "body": b""}
            await send(message)

        await self.app({**scope, "method": "GET"}, receive, headers_only)


#: Answers at least this long are sent gzip-compressed to a client that accepts it: the map's
#: road layer (178-257 kB, 15x smaller), its 100-locker search pages, routes and solutions.
#: A 20-locker page (about 6 kB) is not, since compressing it costs about 0.15 ms, half again
#: what the search itself costs.
GZIP_MIN_BYTES = 8192


def create_app(settings: Settings | None = None, *, migrate: bool = False) -> FastAPI:
    """Build the app; `migrate=True` brings the database schema up to date first. Either
    way it starts only on this release's newest schema (`StartupCheck`)."""
    settings = settings or Settings()
    db = Database(settings.database_url)
    if migrate:
        upgrade(db.engine)

    @asynccontextmanager
    async def lifespan(app: FastAPI):
        # Load the search index (~0.3 s for 10,000 lockers) and start its refresher in a
        # thread now, not on the event loop under the first search.
        if not app.state.locker_index.live:
            await asyncio.to_thread(app.state.locker_index.snapshot)
        yield
        app.state.locker_index.close()
        await asyncio.to_thread(app.state.check_pool.close)  # once the checks it holds end
        db.dispose()

    app = FastAPI(
        title="Gongpei platform API",
        version="1",
        description=DESCRIPTION,
        license_info={"name": settings.data_licence.name, "url": settings.data_licence.url},
        # Swagger UI from this server (`api.routers.docs`), not a CDN; no ReDoc, which needs one
        docs_url=None,
        redoc_url=None,
        lifespan=lifespan,
        dependencies=[Depends(_request_checks)],
    )
    app.state.settings = settings
    app.state.db = db
    app.state.public_limit = PublicLimit(
        settings.public_rate_per_s, settings.public_burst, redis_url=settings.redis_url
    )
    app.state.locker_index = LockerIndex(db.engine, settings.search_cache_s)
    app.state.check_pool = CheckPool(jobs.LARGE_CHECKS)  # large batches' checks (`api.check_pool`)

    modules = (lockers, reservations, jobs, pooling, vehicles, opendata, admin, web, docs, health)
    routers = [module.router for module in modules]
    for router in routers:
        app.include_router(router)
    # every route in the order they are matched (app.routes keeps each included router whole)
    app.state.api_routes = [route for router in routers for route in router.routes]
    app.state.query_names = {r.unique_id: query_names(r) for r in app.state.api_routes}
    leaflet = files("js_lib_leaflet") / "static" / "js_lib_leaflet"
    app.mount("/static/leaflet", StaticFiles(directory=str(leaflet)), name="leaflet")
    app.mount(docs.ASSETS, StaticFiles(directory=str(swagger_ui_path)), name="swagger-ui")
    # outermost last: the size limit's declared-length check, then the key (`KeyFirst`)
    app.add_middleware(KeyFirst, routes=app.state.api_routes)
    app.add_middleware(BodySizeLimit, max_bytes=settings.max_body_bytes)
    app.add_middleware(RateLimitHeaders)
    # Any web page may read the public answers (no cookies, the same for everyone). No header
    # is allowed: a keyed call's X-API-Key needs a preflight, refused, so a firm's key is
    # never put in a page another site's visitors can read. The preflight is answered here,
    # before the rate limit.
    app.add_middleware(
        CORSMiddleware,
        allow_origins=["*"],
        allow_methods=["GET", "HEAD"],
        expose_headers=[*RATE_LIMIT_HEADERS, "ETag", "Link"],
    )
    template = (files("api.web") / "map.html").read_text(encoding="utf-8")
    app.add_middleware(SecurityHeaders, policy=MapPolicy(template, settings.tile_url))
    app.add_middleware(StartupCheck, check=lambda: check_schema(db.engine))
    # outside the map page's policy, which hashes the page as written, not compressed
    app.add_middleware(GZipMiddleware, minimum_size=GZIP_MIN_BYTES)
    app.add_middleware(HeadAsGet)
    complete_openapi(app, app.state.api_routes)

    _handle_errors(app)
    return app


async def _invalid(request: Request, exc: RequestValidationError) -> JSONResponse:
    # the caller's key was checked before the body was read (`KeyFirst`)
    if _not_json(exc):
        given = request.headers.get("content-type") or "none"
        return JSONResponse(
            {
                "detail": f"body: must be JSON sent as Content-Type: application/json "
                f"(got Content-Type: {given})"
            },
            status_code=415,
        )
    return JSONResponse({"detail": _field_errors(exc)}, status_code=422)


async def _bad_request(request: Request, exc: StarletteHTTPException) -> JSONResponse:
    problem = await _unreadable(request, exc.__cause__)
    if problem is None:
        return await http_exception_handler(request, exc)
    return await _invalid(request, RequestValidationError([problem]))


async def _wrong_method(request: Request, exc: StarletteHTTPException) -> JSONResponse:
    allowed = _allowed_methods(request.app.state.api_routes, request.scope)
    headers = {"Allow": ", ".join(allowed)} if allowed else exc.headers
    return JSONResponse({"detail": exc.detail}, status_code=405, headers=headers)


async def _booking(_request: Request, exc: BookingError) -> JSONResponse:
    return JSONResponse({"detail": str(exc)}, status_code=exc.status)


async def _user_error(request: Request, exc: GongpeiError) -> JSONResponse:
    # input the endpoint did not place at a field: the body's, in the usual 422 shape
    return await http_exception_handler(request, unprocessable(["body"], str(exc)))


async def _unstorable(request: Request, exc: Exception) -> JSONResponse:
    # a value the checks let through and the database refused: the body's, as any other 422
    why = "a value cannot be stored (out of range, or text with a NUL character)"
    return await http_exception_handler(request, unprocessable(["body"], why))


async def _unreachable(request: Request, exc: Exception) -> JSONResponse:
    return database_away(request, exc)


async def _conflict(_request: Request, exc: IntegrityError) -> JSONResponse:
    return JSONResponse(
        {"detail": "conflicts with existing data (a name or reference already in use)"},
        status_code=409,
    )


async def _bug(request: Request, exc: Exception) -> JSONResponse:
    if isinstance(exc, HTTPException):  # pragma: no cover - handled by FastAPI first
        raise exc
    log.exception("unhandled error on %s %s", request.method, request.url.path)
    # Starlette answers this one outside every middleware: `SecurityHeaders` never sees it
    return JSONResponse({"detail": "internal server error"}, status_code=500, headers=ERROR_HEADERS)


#: Each error an endpoint may raise, and the answer it gets: a field's 422 (or 415 for a body
#: that is not JSON), a booking's own status, 409 for a clash, 503 while the database is away.
_ERROR_ANSWERS: tuple[tuple[int | type[Exception], Any], ...] = (
    (RequestValidationError, _invalid),
    (400, _bad_request),
    (405, _wrong_method),
    (BookingError, _booking),
    (GongpeiError, _user_error),
    (DataError, _unstorable),
    (OverflowError, _unstorable),
    (OperationalError, _unreachable),
    (InterfaceError, _unreachable),
    (IntegrityError, _conflict),
    (Exception, _bug),
)


def _handle_errors(app: FastAPI) -> None:
    """Answer each error as `_ERROR_ANSWERS` says, never with a traceback."""
    for error, answer in _ERROR_ANSWERS:
        app.add_exception_handler(error, answer)
