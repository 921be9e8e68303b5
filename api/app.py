"""The FastAPI application: routers, limits, error handling, static Leaflet and the map page."""

from __future__ import annotations

import asyncio
import json
import logging
import math
import re
from contextlib import asynccontextmanager
from importlib.resources import files
from typing import Any

from fastapi import Depends, FastAPI, HTTPException, Request
from fastapi.exception_handlers import http_exception_handler
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from fastapi.routing import APIRoute
from fastapi.staticfiles import StaticFiles
from sqlalchemy.exc import DataError, IntegrityError
from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.routing import Match
from starlette.types import Scope

from api.booking import BookingError
from api.db.engine import Database
from api.db.migrate import upgrade
from api.deps import key_check, unprocessable
from api.limits import BodySizeLimit, PublicLimit
from api.openapi import complete_openapi
from api.routers import admin, jobs, lockers, opendata, pooling, reservations, vehicles, web
from api.search import LockerIndex
from api.settings import Settings
from network.errors import GongpeiError

log = logging.getLogger("gongpei.api")

DESCRIPTION = """\
The Gongpei public logistics information platform.

* **Public** (no key, rate-limited per client): locker search and details, open-data summary,
  distribution centres, the map page at `/map`.
* **Firms** (`X-API-Key` of role `firm`): delivery batches, compartment reservations, vehicles.
* **Planners** (role `planner`): locker-siting runs, and pooling runs (several firms' day alone
  against pooled at shared centres, with the fair split of the saving). **Admins**: firms,
  centres, lockers.

Errors are JSON `{"detail": ...}`; validation errors (422) list each problem with its field path
in `loc`, e.g. `["body", "size"]`.
"""


def _field_errors(exc: RequestValidationError) -> list[dict]:
    """Validation problems with their field paths, without echoing whole inputs back."""
    return [
        {"loc": list(e.get("loc", ())), "msg": e.get("msg", ""), "type": e.get("type", "")}
        for e in exc.errors()
    ]


async def _refusal(request: Request) -> HTTPException | None:
    """The 401 or 403 the matched route's key check gives the request's caller, or None when it
    passes or the route is public."""
    check = key_check(request.scope.get("route"))
    if check is None:
        return None
    try:
        await run_in_threadpool(check, request, request.headers.get("X-API-Key"))
    except HTTPException as refused:
        return refused
    return None


def _unreadable(exc: StarletteHTTPException) -> RequestValidationError | None:
    """A 400 of FastAPI's that refused the body as unparsable, as the `json_invalid` error its
    malformed JSON gets: bytes that are not UTF-8, or arrays nested past Python's recursion
    limit, fail in the parser with other errors than a JSONDecodeError (the 400's cause)."""
    cause = exc.__cause__
    if isinstance(cause, UnicodeDecodeError):
        why = f"not UTF-8 text (byte {cause.start})"
    elif isinstance(cause, RecursionError):
        why = "nested too deeply"
    else:
        return None
    problem = {"type": "json_invalid", "loc": ("body",), "msg": f"JSON decode error: {why}"}
    return RequestValidationError([problem])


def _unparsed(exc: RequestValidationError) -> bool:
    """Whether the body was refused as malformed JSON (before any dependency ran)."""
    return any(error.get("type") == "json_invalid" for error in exc.errors())


def _not_json(exc: RequestValidationError) -> bool:
    """Whether the body was not read as JSON: FastAPI passes the raw bytes on when the request
    says another Content-Type (or none), and then reports only that they are not an object."""
    return isinstance(exc.body, bytes | bytearray) and bool(exc.body)


class _Constant(str):
    """Where a JSON body says NaN, Infinity or -Infinity: not JSON, but Python's parser (so
    FastAPI's) reads them as numbers."""


class _Overflow(_Constant):
    """Where a JSON body holds a number too large for a float (1e400): JSON, but Python's
    parser reads it as infinity, which the database then cannot store."""


#: What a number too large for a float needs: an exponent of 3 digits or 309 digits in a row.
_MAYBE_OVERFLOW = re.compile(rb"[eE][+-]?[0-9]{3}|[0-9]{309}")


def _float_or_overflow(text: str) -> float:
    value = float(text)
    return value if math.isfinite(value) else _Overflow(text)


def _constant_at(data: Any) -> tuple[list[str | int], str] | None:
    """The path to the first `_Constant` in parsed JSON, in document order, and the constant;
    walked without recursion, as the body may nest as deep as the parser allows."""
    pending: list[tuple[tuple[str | int, ...], Any]] = [((), data)]
    while pending:
        path, value = pending.pop()
        if isinstance(value, _Constant):
            return list(path), value
        if isinstance(value, dict | list):
            items = value.items() if isinstance(value, dict) else enumerate(value)
            pending.extend(((*path, key), item) for key, item in reversed(list(items)))
    return None


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
    large for a float (1e400), which the parser reads as infinity. Only a body that spells one
    of them, or might, is parsed again (with them marked), so others cost a byte search."""
    if not _sent_as_json(request):
        return
    body = await request.body()
    named = b"NaN" in body or b"Infinity" in body  # "-Infinity" holds "Infinity"
    if not named and _MAYBE_OVERFLOW.search(body) is None:
        return
    try:
        data = json.loads(body, parse_constant=_Constant, parse_float=_float_or_overflow)
    except (ValueError, RecursionError):  # FastAPI has refused it already
        return
    found = _constant_at(data)
    if found is not None:
        path, constant = found
        if isinstance(constant, _Overflow):
            shown = constant if len(constant) <= 24 else f"{constant[:20]}..."
            msg = f"JSON decode error: {shown} is too large for a number (a number must be finite)"
        else:
            msg = f"JSON decode error: {constant} is not JSON (a number must be finite)"
        raise RequestValidationError([{"type": "json_invalid", "loc": ("body", *path), "msg": msg}])


def _allowed_methods(routes: list[APIRoute], scope: Scope) -> list[str]:
    """The methods some route serves at the request's path (Starlette's 405 names only those of
    the first route whose path matched)."""
    matched = (route for route in routes if route.matches(scope)[0] is not Match.NONE)
    return sorted({method for route in matched for method in route.methods})


def create_app(settings: Settings | None = None, *, migrate: bool = False) -> FastAPI:
    """Build the app; `migrate=True` brings the database schema up to date first."""
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
        db.dispose()

    app = FastAPI(
        title="Gongpei platform API",
        version="1",
        description=DESCRIPTION,
        lifespan=lifespan,
        dependencies=[Depends(_finite_json)],
    )
    app.state.settings = settings
    app.state.db = db
    app.state.public_limit = PublicLimit(
        settings.public_rate_per_s, settings.public_burst, redis_url=settings.redis_url
    )
    app.state.locker_index = LockerIndex(db.engine, settings.search_cache_s)

    modules = (lockers, reservations, jobs, pooling, vehicles, opendata, admin, web)
    routers = [module.router for module in modules]
    for router in routers:
        app.include_router(router)
    # every route in the order they are matched (app.routes keeps each included router whole)
    app.state.api_routes = [route for router in routers for route in router.routes]
    leaflet = files("js_lib_leaflet") / "static" / "js_lib_leaflet"
    app.mount("/static/leaflet", StaticFiles(directory=str(leaflet)), name="leaflet")
    app.add_middleware(BodySizeLimit, max_bytes=settings.max_body_bytes)
    complete_openapi(app, app.state.api_routes)

    @app.exception_handler(RequestValidationError)
    async def _invalid(request: Request, exc: RequestValidationError) -> JSONResponse:
        # FastAPI refuses a body that does not parse as JSON before it checks the endpoint's
        # key (any other bad input after it): a caller without a valid key, or with one of
        # another role, hears that first.
        if _unparsed(exc) and (refused := await _refusal(request)) is not None:
            return await http_exception_handler(request, refused)
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

    @app.exception_handler(400)
    async def _bad_request(request: Request, exc: StarletteHTTPException) -> JSONResponse:
        unreadable = _unreadable(exc)
        if unreadable is None:
            return await http_exception_handler(request, exc)
        return await _invalid(request, unreadable)

    @app.exception_handler(405)
    async def _wrong_method(request: Request, exc: StarletteHTTPException) -> JSONResponse:
        allowed = _allowed_methods(request.app.state.api_routes, request.scope)
        headers = {"Allow": ", ".join(allowed)} if allowed else exc.headers
        return JSONResponse({"detail": exc.detail}, status_code=405, headers=headers)

    @app.exception_handler(BookingError)
    async def _booking(_request: Request, exc: BookingError) -> JSONResponse:
        return JSONResponse({"detail": str(exc)}, status_code=exc.status)

    @app.exception_handler(GongpeiError)
    async def _user_error(request: Request, exc: GongpeiError) -> JSONResponse:
        # input the endpoint did not place at a field: the body's, in the usual 422 shape
        return await http_exception_handler(request, unprocessable(["body"], str(exc)))

    @app.exception_handler(DataError)
    @app.exception_handler(OverflowError)
    async def _unstorable(request: Request, exc: Exception) -> JSONResponse:
        # a value the checks let through and the database refused: the body's, as any other 422
        why = "a value cannot be stored (out of range, or text with a NUL character)"
        return await http_exception_handler(request, unprocessable(["body"], why))

    @app.exception_handler(IntegrityError)
    async def _conflict(_request: Request, exc: IntegrityError) -> JSONResponse:
        return JSONResponse(
            {"detail": "conflicts with existing data (a name or reference already in use)"},
            status_code=409,
        )

    @app.exception_handler(Exception)
    async def _bug(request: Request, exc: Exception) -> JSONResponse:
        if isinstance(exc, HTTPException):  # pragma: no cover - handled by FastAPI first
            raise exc
        log.exception("unhandled error on %s %s", request.method, request.url.path)
        return JSONResponse({"detail": "internal server error"}, status_code=500)

    return app
