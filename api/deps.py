"""FastAPI dependencies shared by the routers: database, settings, role-checked callers."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from typing import Annotated, Any, TypeVar

from fastapi import HTTPException, Path, Request
from fastapi.dependencies.models import Dependant
from fastapi.exceptions import RequestValidationError
from fastapi.responses import HTMLResponse
from fastapi.routing import APIRoute
from pydantic import BaseModel, ValidationError

from api.db.engine import Database
from api.schemas.common import ErrorBody
from api.security import RoleCheck
from api.settings import Settings
from network.hints import close_name, did_you_mean

M = TypeVar("M", bound=BaseModel)

firm_key = RoleCheck("firm")
planner_key = RoleCheck("planner", "admin")
admin_key = RoleCheck("admin")
#: Any valid key: an endpoint whose answer depends on the caller's role (`GET /v1/pool-runs`).
any_key = RoleCheck("firm", "planner", "admin")


async def get_db(request: Request) -> Database:
    return request.app.state.db


async def get_settings(request: Request) -> Settings:
    return request.app.state.settings


def unprocessable(loc: list[Any], msg: str) -> HTTPException:
    """A 422 shaped like FastAPI's own validation errors, for a rule checked in the endpoint:
    ``loc`` is the field's path from ``body`` or ``query`` on."""
    return HTTPException(422, [{"loc": loc, "type": "value_error", "msg": msg}])


def key_check(route: object) -> RoleCheck | None:
    """The role check of a matched route (``request.scope["route"]``), None for a public one:
    found in its dependency tree, so no list of endpoints can fall out of date as routes are
    added."""
    return next((call for call in dependencies(route) if isinstance(call, RoleCheck)), None)


def uses_database(route: object) -> bool:
    """Whether the route reads the database (a session, or a key to check), so it can answer
    503 while the database is away."""
    return any(call is get_db or isinstance(call, RoleCheck) for call in dependencies(route))


def dependencies(route: object) -> Iterator[Any]:
    """Every callable in the route's dependency tree, the endpoint's own first."""
    return (dependant.call for dependant in _dependants(route))


def _dependants(route: object) -> Iterator[Dependant]:
    dependant = getattr(route, "dependant", None)
    pending = [dependant] if dependant is not None else []
    while pending:
        current = pending.pop()
        yield current
        pending.extend(current.dependencies)


def query_names(route: APIRoute) -> frozenset[str] | None:
    """The query parameters ``route`` takes: its dependency tree's, and those it documents and
    validates itself (`query_parameters`, `parse_query`); None for an HTML page, whose links
    gain parameters on the web (`utm_source`, `fbclid`) and must still open for a person."""
    if route.response_class is HTMLResponse:
        return None
    documented = (route.openapi_extra or {}).get("parameters", ())
    names = {param["name"] for param in documented if param.get("in") == "query"}
    names.update(param.alias for node in _dependants(route) for param in node.query_params)
    return frozenset(names)


def refuse_unknown_query(request: Request, known: frozenset[str]) -> None:
    """A 422 at ``["query", name]`` for each parameter the endpoint does not take (with the
    name it likely misspells) or given more than once. Both were ignored, the last value of a
    repeated one winning: `radius=100` searched the default 1,000 m, `sizes=L` every size."""
    if not request.scope["query_string"]:
        return
    given = Counter(name for name, _ in request.query_params.multi_items())
    problems = []
    for name, times in given.items():
        if name not in known:
            why = f"unknown parameter{did_you_mean(close_name(name, known))}"
            problems.append({"loc": ("query", name), "type": "extra_forbidden", "msg": why})
        elif times > 1:
            problems.append({"loc": ("query", name), "type": "value_error",
                             "msg": "given more than once"})
    if problems:
        raise RequestValidationError(problems)


#: The headers some errors always carry, in their OpenAPI response objects.
ERROR_RESPONSE_HEADERS: dict[int, dict] = {
    401: {
        "headers": {
            "WWW-Authenticate": {
                "description": "How to authenticate: an API key in the `X-API-Key` header.",
                "required": True,
                "schema": {"type": "string", "examples": ["APIKey"]},
            }
        }
    },
    429: {
        "headers": {
            "Retry-After": {
                "description": "Seconds until this client may send the next request.",
                "required": True,
                "schema": {"type": "integer", "minimum": 1, "examples": [1]},
            }
        }
    },
    503: {
        "headers": {
            "Retry-After": {
                "description": "Seconds to wait before retrying.",
                "required": False,
                "schema": {"type": "integer", "minimum": 1, "examples": [5]},
            }
        }
    },
}


def errors(*codes: int) -> dict[int | str, dict]:
    """OpenAPI `responses` entries for the error codes an endpoint can return, with the headers
    those errors carry (`api.openapi` adds the 413 and 415 of every endpoint taking a body)."""
    return {code: {"model": ErrorBody, **ERROR_RESPONSE_HEADERS.get(code, {})} for code in codes}


#: The headers of a public answer the rate limit let through (`api.limits.PublicLimit`):
#: none while the limit is off or its store cannot be reached, so none is required.
RATE_LIMIT_RESPONSE_HEADERS: dict[str, dict] = {
    "RateLimit-Limit": {
        "description": "Requests this client may make in the window of `RateLimit-Policy`.",
        "required": False,
        "schema": {"type": "integer", "minimum": 1, "examples": [60]},
    },
    "RateLimit-Policy": {
        "description": "The quota and its window in seconds, `<requests>;w=<seconds>` "
        "(IETF httpapi RateLimit header fields draft): that many in any such window.",
        "required": False,
        "schema": {"type": "string", "examples": ["60;w=3"]},
    },
    "RateLimit-Remaining": {
        "description": "Requests this client has left in the window (on an allowed answer "
        "only where the server counts in memory, not in Redis: `GONGPEI_REDIS_URL`).",
        "required": False,
        "schema": {"type": "integer", "minimum": 0, "examples": [59]},
    },
    "RateLimit-Reset": {
        "description": "Seconds, rounded up, until the oldest request counted leaves the "
        "window; sent with `RateLimit-Remaining`.",
        "required": False,
        "schema": {"type": "integer", "minimum": 1, "examples": [3]},
    },
}


def public_responses(*codes: int, ok: dict | None = None) -> dict[int | str, dict]:
    """OpenAPI `responses` of a public, rate-limited endpoint: `errors(*codes)` and the 429,
    which carries the allowance with its Retry-After, and the 200 (``ok``, if the endpoint
    describes it) with the allowance headers every let-through answer carries."""
    ok = ok or {}
    limited = ERROR_RESPONSE_HEADERS[429]["headers"] | {
        name: {**header, "required": True} for name, header in RATE_LIMIT_RESPONSE_HEADERS.items()
    }
    return {
        **errors(*codes),
        200: {**ok, "headers": {**ok.get("headers", {}), **RATE_LIMIT_RESPONSE_HEADERS}},
        429: {"model": ErrorBody, "headers": limited},
    }


def query_parameters(model: type[BaseModel]) -> list[dict]:
    """OpenAPI `parameters` of a query model that its endpoint validates itself.

    FastAPI resolves a `Query()` model field by field in Python (about 40% of a nearby search's
    CPU); the hot endpoint validates the same model in one pydantic call (`parse_query`) and
    documents it with these entries, passed as `openapi_extra={"parameters": ...}`.
    """
    schema = model.model_json_schema()
    required = set(schema.get("required", ()))
    params = []
    for name, prop in schema["properties"].items():
        param = {"name": name, "in": "query", "required": name in required, "schema": prop}
        if "description" in prop:
            param["description"] = prop["description"]
        params.append(param)
    return params


def parse_query(model: type[M], request: Request) -> M:
    """`model` from the query string; a 422 with `["query", field]` paths like FastAPI's own."""
    try:
        return model.model_validate(dict(request.query_params))
    except ValidationError as err:
        problems = err.errors(include_url=False, include_context=False, include_input=False)
        raise RequestValidationError(
            [{**e, "loc": ("query", *e["loc"])} for e in problems]
        ) from None


#: Integer ids in paths: positive and within the databases' 32-bit INTEGER range.
RowId = Annotated[int, Path(ge=1, le=2_147_483_647)]
#: Reservation and job ids: 32 hex digits (uuid4), checked before they reach the database.
HexId = Annotated[
    str, Path(pattern="^[0-9a-f]{32}$", examples=["3f2c9a7e0b6d4e0f9a1c2b3d4e5f6a7b"])
]
