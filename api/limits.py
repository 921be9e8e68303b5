"""Request limits: a per-client rate limit for public endpoints and a request body size cap."""

from __future__ import annotations

import json
import logging
import math
import time
from dataclasses import dataclass

from fastapi import HTTPException, Request
from limits import RateLimitItemPerSecond
from limits.aio.strategies import MovingWindowRateLimiter
from limits.errors import StorageError
from limits.storage import storage_from_string
from starlette.types import ASGIApp, Message, Receive, Scope, Send

log = logging.getLogger(__name__)


#: How long a public request waits on the rate limit's Redis before it is counted in memory.
REDIS_TIMEOUT_S = 0.25
#: Once Redis has failed, how long each process counts in memory before it asks Redis again.
REDIS_RETRY_S = 5.0


class PublicLimit:
    """Per-client-IP rate limit of the public endpoints, by the `limits` library.

    A client may make ``rate_per_s`` x W requests in any window of W = ``burst / rate_per_s``
    seconds (W rounded to whole seconds, at least one): bursts of about ``burst``,
    ``rate_per_s`` sustained. The window moves with each request (a log of them), so the limit
    is exact; the sliding window counter, a third cheaper in Redis, weighs the previous fixed
    window by its overlap and lets an extra request through just after each boundary. The
    counts live in Redis when the server has one (``redis_url``), so every server process and
    host behind it share them; otherwise each process counts alone in memory. If Redis cannot
    be reached, or does not answer within `REDIS_TIMEOUT_S`, the error is logged and each
    process counts in memory for `REDIS_RETRY_S` before it tries Redis again (as slowapi's
    in-memory fallback): the API stays open and limited, its answers keep their RateLimit
    headers, and a frozen Redis costs one wait per process every few seconds, not one per
    request (with no limit at all, one client could take a server down while Redis was).
    """

    def __init__(self, rate_per_s: float, burst: float, *, redis_url: str = "") -> None:
        self.enabled = rate_per_s > 0
        window = max(1, round(max(burst, 1.0) / rate_per_s)) if self.enabled else 1
        self.item = RateLimitItemPerSecond(max(1, round(rate_per_s * window)), window)
        url = _storage_url(redis_url)
        options = {"implementation": "redispy", "wrap_exceptions": True} if redis_url else {}
        if redis_url:  # a Redis that hangs, not down, added 5 s to every public request
            wait = REDIS_TIMEOUT_S
            options |= {"socket_timeout": wait, "socket_connect_timeout": wait}
        self.limiter = MovingWindowRateLimiter(storage_from_string(url, **options))
        self.fallback = MovingWindowRateLimiter(storage_from_string(_storage_url("")))
        self._redis_failed_at = -math.inf
        self._warned = -math.inf
        #: Whether an allowed answer says how many requests are left: counted in memory that
        #: costs about 2 us; in Redis a second round trip (0.1 ms of CPU), which made a search
        #: 12-32 % dearer in CPU (benchmarks/RESULTS.md), so there only a 429 says it.
        self.shows_remaining = not redis_url
        amount = self.item.amount
        #: The quota and its window, the same on every answer (IETF httpapi draft 06 fields).
        self.policy = (
            (b"ratelimit-limit", str(amount).encode()),
            (b"ratelimit-policy", f"{amount};w={window}".encode()),
        )

    async def take(self, client: str) -> Allowance | None:
        """The client's allowance once this request is counted (or refused), None when the
        limit is off."""
        if not self.enabled:
            return None
        if time.monotonic() - self._redis_failed_at < REDIS_RETRY_S:
            return await self._counted(self.fallback, client, shows_remaining=True)
        try:
            return await self._counted(self.limiter, client, shows_remaining=self.shows_remaining)
        except StorageError as err:
            self._redis_failed_at = time.monotonic()
            if self._redis_failed_at - self._warned > 60.0:  # once a minute, not once a request
                self._warned = self._redis_failed_at
                log.warning("rate limit store unreachable, counting in this process: %s", err)
            return await self._counted(self.fallback, client, shows_remaining=True)

    async def _counted(
        self, limiter: MovingWindowRateLimiter, client: str, *, shows_remaining: bool
    ) -> Allowance:
        """This request counted by ``limiter``; the answer's headers, with the requests left
        where ``shows_remaining`` (a second round trip in Redis)."""
        allowed = await limiter.hit(self.item, "gongpei-public", client)
        if allowed and not shows_remaining:
            return Allowance(True, self.policy)
        stats = await limiter.get_window_stats(self.item, "gongpei-public", client)
        reset_s = max(stats.reset_time - time.time(), 0.001)
        left = (
            (b"ratelimit-remaining", str(max(stats.remaining, 0)).encode()),
            (b"ratelimit-reset", str(max(1, math.ceil(reset_s))).encode()),
        )
        return Allowance(allowed, (*self.policy, *left), reset_s)


@dataclass(frozen=True)
class Allowance:
    """Where a client stands: whether this request went ahead; the headers that say so
    (`RateLimit-Limit` and `-Policy`, and where known `-Remaining` and `-Reset`, in seconds
    rounded up like Retry-After: the draft's unprefixed fields (RFC 6648), relative, so a
    client's clock does not matter, where `X-RateLimit-Reset` is an instant by convention);
    and the seconds until the oldest request counted leaves the window, where known."""

    allowed: bool
    headers: tuple[tuple[bytes, bytes], ...]
    reset_s: float = 0.0


def _storage_url(redis_url: str) -> str:
    """The `limits` storage of a Redis URL as redis-py writes it (`GONGPEI_REDIS_URL`), where
    `limits` spells a socket `redis+unix://` (its own `unix://` is unknown), or in memory."""
    if not redis_url:
        return "async+memory://"
    if redis_url.startswith("unix://"):
        return f"async+redis+{redis_url}"
    return f"async+{redis_url}"


#: The headers a public answer's client reads: its allowance, and when to retry a 429.
RATE_LIMIT_HEADERS = (
    "RateLimit-Limit", "RateLimit-Policy", "RateLimit-Remaining", "RateLimit-Reset", "Retry-After"
)


async def public_rate_limit(request: Request) -> None:
    """Dependency of every public endpoint: its answer carries the client's allowance
    (`RateLimitHeaders`), and is a 429 with Retry-After once the client's limit is hit."""
    client = request.client.host if request.client else "unknown"
    allowance = await request.app.state.public_limit.take(client)
    if allowance is None:
        return
    request.state.rate_limit_headers = allowance.headers
    if not allowance.allowed:
        raise HTTPException(
            429,
            "too many requests from this client; retry later",
            {"Retry-After": str(max(1, math.ceil(allowance.reset_s)))},
        )


class RateLimitHeaders:
    """ASGI middleware: the allowance `public_rate_limit` found goes on the answer, whatever
    made it (an endpoint's own Response, a 429, a validation error): FastAPI adds a
    dependency's headers only to an answer it builds from the endpoint's return value."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        state = scope.setdefault("state", {})  # shared with the endpoint's `request.state`

        async def send_with_allowance(message: Message) -> None:
            found = state.get("rate_limit_headers")
            if message["type"] == "http.response.start" and found:
                message["headers"] = [*message.get("headers", ()), *found]
            await send(message)

        await self.app(scope, receive, send_with_allowance)


class BodySizeLimit:
    """ASGI middleware: 413 for a request body over `max_bytes`, declared or streamed."""

    def __init__(self, app: ASGIApp, max_bytes: int) -> None:
        self.app = app
        self.max_bytes = max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        declared = dict(scope["headers"]).get(b"content-length")
        if declared is not None and declared.isdigit() and int(declared) > self.max_bytes:
            await self._reject(send)
            return
        seen = 0

        async def counting_receive() -> Message:
            nonlocal seen
            message = await receive()
            if message["type"] == "http.request":
                seen += len(message.get("body", b""))
                if seen > self.max_bytes:
                    raise HTTPException(413, self._detail())
            return message

        await self.app(scope, counting_receive, send)

    def _detail(self) -> str:
        return f"request body larger than {self.max_bytes} bytes"

    async def _reject(self, send: Send) -> None:
        body = json.dumps({"detail": self._detail()}).encode()
        await send(
            {
                "type": "http.response.start",
                "status": 413,
                "headers": [
                    (b"content-type", b"application/json"),
                    (b"content-length", str(len(body)).encode()),
                ],
            }
        )
        await send({"type": "http.response.body", "body": body})
