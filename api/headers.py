"""Response headers: `nosniff` everywhere, `no-store` for keyed answers, the map page's CSP, and
the validators and ages of the public answers a browser or proxy may keep (`cached`)."""

from __future__ import annotations

import base64
import hashlib
import json
import re
from typing import Annotated, Any
from urllib.parse import urlsplit

from fastapi import Header, Response
from starlette.datastructures import Headers, MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from api.deps import key_check

#: The inline <script> and <style> elements of an HTML page, by tag and text.
_INLINE = re.compile(r"<(script|style)>(.*?)</\1>", re.DOTALL)
#: The path of the map page, the API's own HTML page beside /docs (`api.routers.docs`).
MAP_PAGE = "/map"


class MapPolicy:
    """The map page's Content-Security-Policy: exactly what `api/web/map.html` loads. Leaflet
    and its stylesheet and images from this server, the search and the roads fetched from it,
    the tiles of `GONGPEI_TILE_URL`, and the page's own inline script and style, allowed by
    their SHA-256. The script holds the page's config (`__CONFIG__` in the template), so its
    hash is taken from each page as sent, but only for an element that is the template's with
    one JSON value in the config's place: a script injected into the page is not allowed. No
    plugin, no frame (the page has a key field: it must not be framed by another site), no
    form sent anywhere but by the page's script."""

    def __init__(self, template: str, tile_url: str) -> None:
        self.templates = [
            (tag, re.compile(re.escape(text).replace("__CONFIG__", "(?P<config>.*)"), re.DOTALL))
            for tag, text in _INLINE.findall(template)
        ]
        self.fixed = (
            f"default-src 'none'; img-src 'self' {_tile_source(tile_url)}".rstrip()
            + "; connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'"
        )

    def __call__(self, page: str) -> str:
        allowed: dict[str, list[str]] = {"script": [], "style": []}
        for tag, text in _INLINE.findall(page):
            if any(tag == kind and _fills(template, text) for kind, template in self.templates):
                digest = base64.b64encode(hashlib.sha256(text.encode()).digest()).decode()
                allowed[tag].append(f"'sha256-{digest}'")
        script, style = (" ".join(["'self'", *allowed[tag]]) for tag in ("script", "style"))
        return f"{self.fixed}; script-src {script}; style-src {style}"


def _fills(template: re.Pattern[str], text: str) -> bool:
    """Whether an inline element's text is its template's, with JSON for the config in it."""
    match = template.fullmatch(text)
    if match is None or "config" not in template.groupindex:
        return match is not None
    try:
        json.loads(match["config"])
    except ValueError:
        return False
    return True


def _tile_source(tile_url: str) -> str:
    """The CSP source of the map's tiles: the tile URL's scheme, host and port, its "{s}"
    subdomain a wildcard; '' for tiles of this server or none; the scheme alone for a host
    a source cannot spell (another placeholder, user info)."""
    parts = urlsplit(tile_url.replace("{s}.", "*."))
    if not parts.netloc:
        return ""
    if re.fullmatch(r"(\*\.)?[A-Za-z0-9.-]+(:[0-9]+)?|\[[0-9A-Fa-f:.]+\](:[0-9]+)?", parts.netloc):
        return f"{parts.scheme}://{parts.netloc}"
    return f"{parts.scheme}:"


#: What an answer made outside the middlewares (the 500 of an unhandled error) carries itself.
ERROR_HEADERS = {"X-Content-Type-Options": "nosniff", "Cache-Control": "no-store"}


class SecurityHeaders:
    """ASGI middleware: `X-Content-Type-Options: nosniff` on every response; `Cache-Control:
    no-store` on every answer to a keyed caller or from a keyed route (a new firm's API key,
    pickup codes, a firm's results: no browser or proxy cache may keep them); and on the map
    page its `MapPolicy`, with `X-Frame-Options: DENY` for browsers that do not read the
    policy's frame-ancestors."""

    def __init__(self, app: ASGIApp, policy: MapPolicy) -> None:
        self.app = app
        self.policy = policy

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        keyed = "x-api-key" in Headers(scope=scope)
        held: list[Message] = []

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = MutableHeaders(scope=message)
                headers["X-Content-Type-Options"] = "nosniff"
                if keyed or key_check(scope.get("route")) is not None:
                    headers["Cache-Control"] = "no-store"
            if scope["path"] != MAP_PAGE:
                await send(message)
                return
            held.append(message)  # the page's policy needs the page: sent once it is whole
            if message["type"] == "http.response.body" and not message.get("more_body"):
                await self._send_page(held, send)

        await self.app(scope, receive, send_with_headers)

    async def _send_page(self, held: list[Message], send: Send) -> None:
        start, *parts = held
        page = b"".join(part.get("body", b"") for part in parts)
        headers = MutableHeaders(scope=start)
        headers["Content-Security-Policy"] = self.policy(page.decode("utf-8", "replace"))
        headers["X-Frame-Options"] = "DENY"
        await send(start)
        await send({"type": "http.response.body", "body": page})


#: The request header of a client revalidating an answer it keeps (RFC 9110 13.1.2).
IfNoneMatch = Annotated[
    str,
    Header(
        description="An `ETag` of an earlier answer: a 304 without a body while it is current.",
        examples=['W/"4f7a3c9e0b1d2a6f8e5c7b9d1a3f5e7c"'],
    ),
]


def entity_tag(body: bytes) -> str:
    """A weak ETag of ``body``: weak, since the same tag is sent for its gzip-compressed form."""
    return f'W/"{hashlib.sha256(body).hexdigest()[:32]}"'


def tag_matches(if_none_match: str, tag: str) -> bool:
    """Whether an If-None-Match header names ``tag`` (weak comparison, RFC 9110 13.1.2)."""
    own = tag.removeprefix("W/")
    given = (part.strip() for part in if_none_match.split(","))
    return any(part == "*" or part.removeprefix("W/") == own for part in given)


def cached(
    body: bytes, *, media_type: str, max_age_s: int, if_none_match: str, tag: str = ""
) -> Response:
    """A public answer a browser or proxy may keep ``max_age_s`` seconds and then revalidate:
    ``body`` with its weak ETag (``tag``, when the caller keeps it, else taken from the body),
    or a 304 without a body when ``if_none_match`` names that tag. The answer depends on the
    data only, so the same data gives the same tag, and a client asking again sends nothing
    back but headers. A keyed caller's copy is `no-store` all the same (`SecurityHeaders`)."""
    tag = tag or entity_tag(body)
    headers = {"ETag": tag, "Cache-Control": f"public, max-age={max_age_s}"}
    if tag_matches(if_none_match, tag):
        return Response(status_code=304, headers=headers)
    return Response(body, media_type=media_type, headers=headers)


def cache_control(*, max_age_s: int, kept: str) -> dict[str, Any]:
    """The OpenAPI header object of a public answer's `Cache-Control`: ``max_age_s`` its usual
    age, for the example, ``kept`` how long and why, in words."""
    return {
        "description": f"`public, max-age=N`: a browser or proxy may keep the answer {kept}.",
        "required": True,
        "schema": {"type": "string", "examples": [f"public, max-age={max_age_s}"]},
    }


def cached_responses(
    responses: dict[int | str, dict[str, Any]], *, max_age_s: int, kept: str
) -> dict[int | str, dict[str, Any]]:
    """OpenAPI ``responses`` (`api.deps.public_responses`) of an endpoint answering by `cached`:
    its 200 with the `ETag` and `Cache-Control` (`cache_control`) it carries, and the 304 of
    a current `If-None-Match`."""
    validators = {
        "ETag": {
            "description": "The answer's version: send it back in `If-None-Match`.",
            "required": True,
            "schema": {"type": "string", "examples": ['W/"4f7a3c9e0b1d2a6f8e5c7b9d1a3f5e7c"']},
        },
        "Cache-Control": cache_control(max_age_s=max_age_s, kept=kept),
    }
    ok = responses.get(200, {})
    return {
        **responses,
        200: {**ok, "headers": {**ok.get("headers", {}), **validators}},
        304: {
            "description": "Not modified: the `ETag` given in `If-None-Match` is current.",
            "headers": validators,
        },
    }
