"""The OpenAPI document: FastAPI's, completed with what it cannot tell from the routes alone."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from fastapi import FastAPI
from fastapi.encoders import jsonable_encoder
from fastapi.routing import APIRoute

from api.deps import ERROR_RESPONSE_HEADERS, RATE_LIMIT_RESPONSE_HEADERS, uses_database

#: What every endpoint taking a body can answer, whatever its router says: the body size limit
#: (`api.limits.BodySizeLimit`) and the refusal of a body not sent as JSON (`api.app`).
_BODY_ERRORS = {
    "413": "The request body is larger than this server accepts.",
    "415": "The body is not sent as `Content-Type: application/json`.",
}

#: The answer of an operation whose database is away (down, restarting, failing over).
_DATABASE_AWAY = {
    "description": "The database is unavailable; retry after `Retry-After` seconds.",
    **ERROR_RESPONSE_HEADERS[503],
}


def complete_openapi(app: FastAPI, routes: list[APIRoute]) -> None:
    """Make `app.openapi()` (served at /openapi.json) FastAPI's document completed by
    `complete` for the app's ``routes``, built once like FastAPI's own."""
    generate = app.openapi

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            complete(generate(), routes)
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]


def complete(doc: dict[str, Any], routes: list[APIRoute]) -> None:
    """Add to ``doc`` (in place) the errors FastAPI does not know of, file every error under
    the JSON it is sent as, and put back the nulls FastAPI drops from examples."""
    _database_away(doc, routes)
    for operation in _operations(doc):
        responses = operation["responses"]
        _public_allowance(responses)
        if "requestBody" in operation:
            for code, description in _BODY_ERRORS.items():
                responses.setdefault(code, {"description": description, "content": _error_body()})
        for code, response in responses.items():
            content = response.get("content")
            if code[0] in "45" and content and "application/json" not in content:
                # FastAPI files an extra response under the route's own media type (text/html
                # for /map), but errors are sent as JSON from every route
                response["content"] = {"application/json": content.popitem()[1]}
        operation["responses"] = dict(sorted(responses.items()))
    _route_examples(doc, routes)
    for schema in _schemas(doc):
        for example in schema.get("examples", ()):
            _put_back_nulls(example, schema, doc["components"]["schemas"])


def _database_away(doc: dict[str, Any], routes: list[APIRoute]) -> None:
    """The 503 with `Retry-After` of every operation reading the database (`api.app`'s
    `database_away`), which its router need not list."""
    for route in routes:
        if route.include_in_schema and uses_database(route):
            for method in route.methods:
                responses = doc["paths"][route.path_format][method.lower()]["responses"]
                responses.setdefault("503", {**_DATABASE_AWAY, "content": _error_body()})


def _public_allowance(responses: dict[str, Any]) -> None:
    """The allowance headers on every answer of a public operation (one whose 429 carries
    them: `api.deps.public_responses`), not only on its 200: `RateLimitHeaders` puts them on
    whatever answer follows the count, a 304, a 404, a 422 or a 503 alike."""
    refused = responses.get("429", {}).get("headers", {})
    if not set(RATE_LIMIT_RESPONSE_HEADERS) <= set(refused):
        return
    for response in responses.values():
        response["headers"] = RATE_LIMIT_RESPONSE_HEADERS | response.get("headers", {})


def _error_body() -> dict[str, Any]:
    return {"application/json": {"schema": {"$ref": "#/components/schemas/ErrorBody"}}}


def _operations(doc: dict[str, Any]) -> Iterator[dict[str, Any]]:
    for operations in doc["paths"].values():
        yield from operations.values()


def _route_examples(doc: dict[str, Any], routes: list[APIRoute]) -> None:
    """The examples the routes give their responses, as written: FastAPI writes the document
    without None values, which drops an example's null fields (a siting plan's
    `mean_utilisation` where no site has a capacity)."""
    for route in routes:
        if not route.include_in_schema:
            continue
        for method in route.methods:
            documented = doc["paths"][route.path_format][method.lower()]["responses"]
            for code, response in route.responses.items():
                for media, content in response.get("content", {}).items():
                    if "example" in content:
                        target = documented[str(code)]["content"][media]
                        target["example"] = jsonable_encoder(content["example"])


def _schemas(node: Any) -> Iterator[dict[str, Any]]:
    """Every schema in ``node`` that has examples (a list; a media type's `examples` is a map)."""
    if isinstance(node, dict):
        if isinstance(node.get("examples"), list):
            yield node
        for value in node.values():
            yield from _schemas(value)
    elif isinstance(node, list):
        for value in node:
            yield from _schemas(value)


def _put_back_nulls(example: Any, schema: dict[str, Any], schemas: dict[str, Any]) -> None:
    """Set to null each required property an example of ``schema`` lacks where the property
    may be null: FastAPI drops None values from the examples it publishes (a page's last
    `next_cursor`), and a required property can only have been left out that way."""
    schema = _resolved(schema, schemas)
    if isinstance(example, list) and "items" in schema:
        for item in example:
            _put_back_nulls(item, schema["items"], schemas)
    if not isinstance(example, dict):
        return
    properties = schema.get("properties", {})
    for name in schema.get("required", ()):
        if name not in example and _nullable(properties.get(name, {})):
            example[name] = None
    for name, value in example.items():
        if name in properties:
            _put_back_nulls(value, properties[name], schemas)


def _resolved(schema: dict[str, Any], schemas: dict[str, Any]) -> dict[str, Any]:
    """``schema`` itself, the component it refers to, or its one non-null alternative."""
    if "$ref" in schema:
        return _resolved(schemas[schema["$ref"].rsplit("/", 1)[-1]], schemas)
    others = [s for s in schema.get("anyOf", ()) if s.get("type") != "null"]
    return _resolved(others[0], schemas) if len(others) == 1 else schema


def _nullable(schema: dict[str, Any]) -> bool:
    return schema.get("type") == "null" or {"type": "null"} in schema.get("anyOf", ())
