"""The API's pages for people: `/docs` (Swagger UI, served from this server), `/` (to the map)
and `/robots.txt`.

FastAPI's own `/docs` loads Swagger UI from cdn.jsdelivr.net, often slow or blocked in mainland
China, so the one page of documentation may not render for the platform's own public. Its
files come from the installed `swagger-ui-bundle-v2` package instead (mounted at `ASSETS` by
`api.app`), as Leaflet's do for `/map`.
"""

from __future__ import annotations

import base64
import hashlib
import re

from fastapi import APIRouter, Request
from fastapi.openapi.docs import get_swagger_ui_html
from fastapi.responses import HTMLResponse, PlainTextResponse, RedirectResponse

router = APIRouter(include_in_schema=False)

#: Where `api.app` mounts Swagger UI's files (`swagger_ui_bundle.swagger_ui_path`).
ASSETS = "/static/swagger-ui"
#: The page's inline scripts (Swagger UI's start, with the document's address).
_INLINE_SCRIPT = re.compile(r"<script>(.*?)</script>", re.DOTALL)
#: Crawlers may read the pages and the open data; the rest of /v1 is an API (a search per
#: point, keyed calls) whose crawling would only spend the rate limit.
ROBOTS = """\
User-agent: *
Allow: /v1/open-data/
Disallow: /v1/
"""


def docs_policy(page: str) -> str:
    """The docs page's Content-Security-Policy: Swagger UI's script and stylesheet from this
    server, its inline start allowed by SHA-256, the icons its stylesheet holds as `data:`
    images, and calls (the document, "Try it out") to this server only. No frame: the page
    has an API-key field, so no other site may frame it."""
    hashes = "".join(
        f" 'sha256-{base64.b64encode(hashlib.sha256(text.encode()).digest()).decode()}'"
        for text in _INLINE_SCRIPT.findall(page)
    )
    return (
        f"default-src 'none'; script-src 'self'{hashes}; style-src 'self'; "
        "img-src 'self' data:; connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; "
        "form-action 'none'"
    )


@router.get("/docs", response_class=HTMLResponse)
def swagger_ui(request: Request) -> HTMLResponse:
    """FastAPI's Swagger UI page with its files from this server (`ASSETS`), no validator
    badge (it fetched an image from swagger.io) and its own `docs_policy`."""
    root = request.scope.get("root_path", "")
    page = get_swagger_ui_html(
        openapi_url=f"{root}{request.app.openapi_url}",
        title=f"{request.app.title} - Swagger UI",
        swagger_js_url=f"{root}{ASSETS}/swagger-ui-bundle.js",
        swagger_css_url=f"{root}{ASSETS}/swagger-ui.css",
        swagger_favicon_url=f"{root}{ASSETS}/favicon-32x32.png",
        swagger_ui_parameters={"validatorUrl": None},
    )
    page.headers["Content-Security-Policy"] = docs_policy(page.body.decode())
    page.headers["X-Frame-Options"] = "DENY"
    return page


# An HTML page's route as far as `api.deps.query_names` goes: a link to the server's root
# shared on the web gains parameters (`utm_source`, WeChat's `from=singlemessage`) and must
# still open.
@router.get("/", response_class=HTMLResponse)
def root(request: Request) -> RedirectResponse:
    """The server's root, a 404 before: a person opening it wants the map; a program is
    told where the API's description and its documentation are (RFC 8631)."""
    base = request.scope.get("root_path", "")
    links = (
        f'<{base}{request.app.openapi_url}>; rel="service-desc", <{base}/docs>; rel="service-doc"'
    )
    return RedirectResponse(f"{base}/map", status_code=307, headers={"Link": links})


@router.get("/robots.txt", response_class=PlainTextResponse)
def robots() -> PlainTextResponse:
    return PlainTextResponse(ROBOTS, headers={"Cache-Control": "public, max-age=86400"})
