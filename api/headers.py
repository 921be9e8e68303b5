"""Security headers: `nosniff` everywhere, `no-store` for keyed answers, the map page's CSP."""

from __future__ import annotations

import base64
import hashlib
import json
import re
from urllib.parse import urlsplit

from starlette.datastructures import Headers, MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from api.deps import key_check

#: The inline <script> and <style> elements of an HTML page, by tag and text.
_INLINE = re.compile(r"<(script|style)>(.*?)</\1>", re.DOTALL)
#: The path of the map page, the one HTML page of the API's own (FastAPI serves /docs).
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
