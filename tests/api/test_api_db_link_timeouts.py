"""A PostgreSQL connection whose peer goes silent is given up within a minute, not ~15.

A failover, a host gone without a reset, or a NAT or load balancer that drops idle
connections silently leaves a pooled connection that answers nothing: with the kernel's
defaults (keepalives after 2 h, retransmissions for about 15 min) the pool's pre-ping, so
every request and every job worker's lease renewal, hung for minutes instead of a 503. The
connections' own TCP options are read back from their sockets.
"""

from __future__ import annotations

import os
import socket
from collections.abc import Iterator

import pytest

from api.db.engine import make_engine


def _tcp_options(url: str) -> Iterator[tuple[int, int, int]]:
    """SO_KEEPALIVE, TCP_KEEPIDLE (s) and TCP_USER_TIMEOUT (ms) of a pooled connection."""
    engine = make_engine(url)
    try:
        with engine.connect() as connection:
            fd = connection.connection.driver_connection.pgconn.socket
            with socket.socket(fileno=os.dup(fd)) as sock:
                yield (
                    sock.getsockopt(socket.SOL_SOCKET, socket.SO_KEEPALIVE),
                    sock.getsockopt(socket.IPPROTO_TCP, socket.TCP_KEEPIDLE),
                    sock.getsockopt(socket.IPPROTO_TCP, socket.TCP_USER_TIMEOUT),
                )
    finally:
        engine.dispose()


@pytest.fixture
def postgres_url(database_url) -> str:
    if not database_url.startswith("postgresql"):
        pytest.skip("TCP options of PostgreSQL connections")
    if not hasattr(socket, "TCP_USER_TIMEOUT"):
        pytest.skip("TCP_USER_TIMEOUT is Linux's")
    return database_url


def test_a_silent_peer_is_detected_within_a_minute(postgres_url):
    """Keepalives start after 30 s idle and sent data must be acknowledged within 30 s; they
    were at the kernel's 7200 s and unbounded (0)."""
    (keepalive, idle_s, unacked_ms), = _tcp_options(postgres_url)
    assert keepalive == 1
    assert 0 < idle_s <= 60, idle_s
    assert 0 < unacked_ms <= 60_000, unacked_ms


def test_the_urls_own_link_settings_are_kept(postgres_url):
    sep = "&" if "?" in postgres_url else "?"
    url = f"{postgres_url}{sep}keepalives_idle=7&tcp_user_timeout=4000"
    (keepalive, idle_s, unacked_ms), = _tcp_options(url)
    assert (keepalive, idle_s, unacked_ms) == (1, 7, 4000)
