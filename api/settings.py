"""Runtime settings of the platform, read from `GONGPEI_*` environment variables."""

from __future__ import annotations

import math
import os
from dataclasses import dataclass, field
from pathlib import Path
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from network.errors import GongpeiError


class SettingsError(GongpeiError):
    """A `GONGPEI_*` variable the platform cannot run with, named with its value: every
    command stops with that one line (exit 2), not a traceback."""


def _float(name: str, default: float, *, least: float = 0.0, most: float = math.inf) -> float:
    """The variable as a finite number from ``least`` to ``most``, or ``default`` when unset."""
    raw = os.environ.get(name)
    if raw is None:
        return default
    try:
        value = float(raw)
    except ValueError:
        raise SettingsError(f"{name}: '{raw}' is not a number") from None
    if not (math.isfinite(value) and value >= least):
        raise SettingsError(f"{name}: {raw} must be a finite number, at least {least:g}")
    if value > most:
        raise SettingsError(f"{name}: {raw} must be at most {most:g}")
    return value


def data_dir() -> Path:
    """`$GONGPEI_DATA_DIR` (default ./data): the SQLite file and the road-graph cache."""
    return Path(os.environ.get("GONGPEI_DATA_DIR", "data"))


def graph_cache_dir() -> Path:
    """`$GONGPEI_DATA_DIR/graphs`: the one road-graph cache of every command, the server and
    its job workers, so a map built by any of them is read by all (three folders held three
    copies of each map, each built once more)."""
    return data_dir() / "graphs"


def default_database_url() -> str:
    """`GONGPEI_DATABASE_URL`, else an SQLite file in the data folder."""
    url = os.environ.get("GONGPEI_DATABASE_URL")
    if url:
        return url
    data_dir().mkdir(parents=True, exist_ok=True)
    return f"sqlite:///{(data_dir() / 'gongpei.db').resolve()}"


def platform_time_zone() -> ZoneInfo:
    """`GONGPEI_TIME_ZONE` (an IANA name; default Asia/Shanghai, the platform serving Qingdao):
    the calendar whose days open data counts parcels by (UTC's split Qingdao's days at 08:00).
    An unknown name stops the server at start, not at its first request."""
    name = os.environ.get("GONGPEI_TIME_ZONE", "Asia/Shanghai")
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError) as err:
        raise SettingsError(
            f"GONGPEI_TIME_ZONE: '{name}' is not a time zone (an IANA name such as Asia/Shanghai)"
        ) from err


@dataclass(frozen=True)
class Settings:
    """Everything the app and workers need; tests build one directly instead of using env vars."""

    database_url: str = field(default_factory=default_database_url)
    #: Public endpoints: sustained requests per second per client IP (0 disables the limit).
    public_rate_per_s: float = field(
        default_factory=lambda: _float("GONGPEI_PUBLIC_RATE_PER_S", 20.0)
    )
    #: Public endpoints: requests a client may make at once (in ~burst/rate seconds).
    public_burst: float = field(
        default_factory=lambda: _float("GONGPEI_PUBLIC_BURST", 60.0, least=1.0)
    )
    #: Redis (redis://HOST:PORT/DB) where every server process shares the public rate limit's
    #: counts; "" counts per process, in memory.
    redis_url: str = field(default_factory=lambda: os.environ.get("GONGPEI_REDIS_URL", ""))
    #: Largest accepted request body in bytes (a day's batch of a few thousand jobs fits).
    max_body_bytes: int = field(
        default_factory=lambda: int(_float("GONGPEI_MAX_BODY_BYTES", 5_000_000, least=1))
    )
    #: How long a reservation holds a compartment before the sweeper releases it: at most 30
    #: days (1e12 s made every reservation a 422 that blamed the request).
    reservation_ttl_s: float = field(
        default_factory=lambda: _float(
            "GONGPEI_RESERVATION_TTL_S", 1800.0, least=1.0, most=30 * 86400.0
        )
    )
    #: How often the locker-location cache of a server process checks the database for changes.
    search_cache_s: float = field(default_factory=lambda: _float("GONGPEI_SEARCH_CACHE_S", 1.0))
    #: Jobs a firm may have queued or running at once; one more is a 429 (a firm posting
    #: hundreds of long batches would otherwise fill the queue for everyone).
    max_active_jobs: int = field(
        default_factory=lambda: int(_float("GONGPEI_MAX_ACTIVE_JOBS", 20, least=1, most=10_000))
    )
    #: A running job whose worker has not renewed its lease for this long is taken over.
    job_lease_s: float = field(
        default_factory=lambda: _float("GONGPEI_JOB_LEASE_S", 30.0, least=1.0)
    )
    #: Road network drawn under the map page (an OSM file, "demo" or "synthetic:N"); "" = none.
    map_network: str = field(default_factory=lambda: os.environ.get("GONGPEI_MAP_NETWORK", ""))
    #: Optional tile URL template for the map page; empty keeps the page fully offline.
    tile_url: str = field(default_factory=lambda: os.environ.get("GONGPEI_TILE_URL", ""))
    #: The platform's time zone (`GONGPEI_TIME_ZONE`): open data counts parcels per day of
    #: its calendar.
    time_zone: ZoneInfo = field(default_factory=platform_time_zone)
