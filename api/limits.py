"""Request limits: a per-client token bucket for public endpoints and a request body size cap."""

from __future__ import annotations

import json
import math
import threading
import time

from fastapi import HTTPException, Request
from starlette.types import ASGIApp, Message, Receive, Scope, Send


class TokenBuckets:
    """One token bucket per client IP, in process memory (each server process limits alone).

    A request takes a token; tokens refill at `rate_per_s` up to `burst`. When none is left the
    caller learns how many whole seconds until one is back (the `Retry-After` value).
    """

    def __init__(self, rate_per_s: float, burst: float, *, max_clients: int = 100_000) -> None:
        self.rate = rate_per_s
        self.burst = max(burst, 1.0)
        self.max_clients = max_clients
        self._buckets: dict[str, tuple[float, float]] = {}
        self._lock = threading.Lock()

    def take(self, client: str) -> float:
        """0.0 when the request may go ahead, else the seconds to wait."""
        if self.rate <= 0:
            return 0.0
        now = time.monotonic()
        with self._lock:
            tokens, last = self._buckets.get(client, (self.burst, now))
            tokens = min(self.burst, tokens + (now - last) * self.rate)
            if tokens >= 1.0:
                if len(self._buckets) >= self.max_clients and client not in self._buckets:
                    self._buckets.clear()  # crude but bounded: forget everyone, start afresh
                self._buckets[client] = (tokens - 1.0, now)
                return 0.0
            self._buckets[client] = (tokens, now)
            return (1.0 - tokens) / self.rate


async def public_rate_limit(request: Request) -> None:
    """Dependency of every public endpoint: 429 with Retry-After once a client's bucket is empty."""
    client = request.client.host if request.client else "unknown"
    wait = request.app.state.buckets.take(client)
    if wait > 0:
        raise HTTPException(
            429,
            "too many requests from this client; retry later",
            {"Retry-After": str(max(1, math.ceil(wait)))},
        )


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
