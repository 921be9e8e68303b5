"""Runtime settings of the platform, read from `GONGPEI_*` environment variables."""

from __future__ import annotations

import math
import os
import re
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from sqlalchemy import URL, make_url
from sqlalchemy.exc import ArgumentError

from api.db.engine import normalise_url
from api.licence import DEFAULT_LICENCE, Licence, licence_named
from network.errors import GongpeiError

#: The databases the platform runs on (its migrations and locks are written for these two).
DATABASES = ("sqlite", "postgresql")
_DATABASE_FORMS = "sqlite:///PATH or postgresql://USER@HOST/DB"
#: OpenStreetMap's own tile servers, and the credit their tiles (and OSM data) require.
OSM_TILE_HOST = "tile.openstreetmap.org"
OSM_CREDIT = "© OpenStreetMap contributors"
#: The Redis URL schemes redis-py reads (`GONGPEI_REDIS_URL`).
REDIS_SCHEMES = ("redis", "rediss", "unix")


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
        raise SettingsError(f"{name}: {raw} must be a finite number, at least {_shown(least)}")
    if value > most:
        raise SettingsError(f"{name}: {raw} must be at most {_shown(most)}")
    return value


def _whole(name: str, default: int, *, least: int = 0, most: float = math.inf) -> int:
    """The variable as a whole number from ``least`` to ``most`` (a count of bytes or jobs),
    or ``default`` when unset: `1.5` jobs was read as 1 without a word."""
    value = _float(name, default, least=least, most=most)
    if not float(value).is_integer():
        raise SettingsError(f"{name}: {os.environ[name]} must be a whole number")
    return int(value)


def _shown(bound: float) -> str:
    """A bound as people write it: 2592000, not `:g`'s 2.592e+06 (the README says 30 days)."""
    return str(int(bound)) if float(bound).is_integer() else f"{bound:g}"


def _writable_folder(name: str, folder: Path) -> None:
    """``folder`` made if missing; `SettingsError` naming the variable ``name`` where it cannot
    be made or written (the SQLite file, its journal and its WAL are written there): a
    FileExistsError or PermissionError traceback never named the variable."""
    if folder.exists() and not folder.is_dir():
        raise SettingsError(f"{name}: '{folder}' is not a folder")
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as err:
        why = err.strerror or str(err)
        raise SettingsError(f"{name}: cannot create the folder '{folder}': {why}") from None
    if not os.access(folder, os.W_OK | os.X_OK):
        raise SettingsError(f"{name}: the folder '{folder}' is not writable")


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
    _writable_folder("GONGPEI_DATA_DIR", data_dir())
    return f"sqlite:///{(data_dir() / 'gongpei.db').resolve()}"


def check_database_url(url: str) -> None:
    """`SettingsError` naming `GONGPEI_DATABASE_URL` unless ``url`` is an SQLite or PostgreSQL
    URL whose driver is installed; an SQLite file's folder is made (as the data folder is).
    A typo, another database or a folder not yet made were 60-140-line tracebacks at the
    first connection."""
    parsed = _parsed_database_url(url)
    shown = make_url(url).render_as_string(hide_password=True)  # as written, no password
    backend = parsed.get_backend_name()
    if backend not in DATABASES:
        raise SettingsError(
            f"GONGPEI_DATABASE_URL: '{shown}': {backend} is not supported ({_DATABASE_FORMS})"
        )
    try:
        parsed.get_dialect().import_dbapi()
    except (ImportError, ArgumentError):
        raise SettingsError(
            f"GONGPEI_DATABASE_URL: '{shown}': the driver {parsed.drivername} is not installed "
            "(a plain postgresql:// URL uses psycopg 3)"
        ) from None
    if backend == "sqlite" and parsed.database not in (None, "", ":memory:"):
        _check_sqlite_file(Path(parsed.database))


def _parsed_database_url(url: str) -> URL:
    """``url`` as SQLAlchemy reads it, with `postgresql://` meaning psycopg 3 as the engine's."""
    try:
        return make_url(normalise_url(url))
    except ArgumentError:
        masked = re.sub(r":[^:/@]*@", ":***@", url)  # a password, unparsed
        raise SettingsError(
            f"GONGPEI_DATABASE_URL: '{masked}' is not a database URL ({_DATABASE_FORMS})"
        ) from None


def _check_sqlite_file(path: Path) -> None:
    if path.is_dir():
        raise SettingsError(f"GONGPEI_DATABASE_URL: '{path}' is a folder, not a database file")
    _writable_folder("GONGPEI_DATABASE_URL", path.parent)


def _redis_url() -> str:
    """`GONGPEI_REDIS_URL` ("" for none), refused in one line unless redis-py can read it: a
    URL without its scheme stopped the server's child process with a traceback about an
    `async+` prefix the operator never wrote."""
    url = os.environ.get("GONGPEI_REDIS_URL", "")
    if not url:
        return url
    forms = "redis://HOST:PORT/DB, rediss://HOST:PORT/DB or unix:///PATH.sock"
    try:
        parts = urlsplit(url)
        parts.port  # noqa: B018 - raises ValueError for a port that is not a number
    except ValueError:
        raise SettingsError(f"GONGPEI_REDIS_URL: '{url}' is not a Redis URL ({forms})") from None
    if parts.scheme not in REDIS_SCHEMES:
        raise SettingsError(f"GONGPEI_REDIS_URL: '{url}' is not a Redis URL ({forms})")
    return url


def _map_network() -> str:
    """`GONGPEI_MAP_NETWORK` ("" for none): "demo", "synthetic:N", or an OSM file or built-graph
    folder that exists. A missing file was accepted: the server started, and every batch timed
    on the map failed later in the worker."""
    source = os.environ.get("GONGPEI_MAP_NETWORK", "")
    if source in ("", "demo") or re.fullmatch(r"synthetic:[0-9]+", source):
        return source
    if source.startswith("synthetic:"):
        raise SettingsError(
            f"GONGPEI_MAP_NETWORK: '{source}' is not synthetic:N with N a whole number"
        )
    if not Path(source).exists():
        raise SettingsError(
            f"GONGPEI_MAP_NETWORK: '{source}': no such file or folder (an OSM file, a "
            "`gongpei network build` folder, demo or synthetic:N)"
        )
    return source


def _tile_url() -> str:
    """`GONGPEI_TILE_URL` ("" for none): a tile URL template Leaflet can fetch, http(s) (or a
    path on this server) with {z}, {x} and {y} (or TMS's {-y}). Anything was taken: `ftp://x`
    started the server and left the map page with a base layer of broken images."""
    url = os.environ.get("GONGPEI_TILE_URL", "")
    if not url:
        return url
    example = "such as https://tile.openstreetmap.org/{z}/{x}/{y}.png"
    parts = urlsplit(url)
    on_the_web = parts.scheme in ("http", "https") and bool(parts.netloc)
    on_this_server = not parts.scheme and not parts.netloc and url.startswith("/")
    if not (on_the_web or on_this_server):
        raise SettingsError(
            f"GONGPEI_TILE_URL: '{url}' is not an http or https tile URL template ({example}), "
            "nor a path on this server"
        )
    missing = [p for p in ("{z}", "{x}", "{y}") if p not in url.replace("{-y}", "{y}")]
    if missing:
        raise SettingsError(
            f"GONGPEI_TILE_URL: '{url}' lacks {', '.join(missing)}: a tile URL template names "
            f"the tile's zoom and place ({example})"
        )
    return url


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


def _data_licence() -> Licence:
    """`GONGPEI_DATA_LICENCE` (default CC-BY-4.0, see `api.licence`): the terms every open-data
    answer and the OpenAPI document name, so a typo stops the server at start."""
    try:
        return licence_named(os.environ.get("GONGPEI_DATA_LICENCE", DEFAULT_LICENCE))
    except ValueError as err:
        raise SettingsError(f"GONGPEI_DATA_LICENCE: {err}") from None


@dataclass(frozen=True)
class Settings:
    """Everything the app and workers need; tests build one directly instead of using env vars."""

    database_url: str = field(default_factory=default_database_url)
    #: Public endpoints: sustained requests per second per client IP (0 disables the limit),
    #: at most 10,000.
    public_rate_per_s: float = field(
        default_factory=lambda: _float("GONGPEI_PUBLIC_RATE_PER_S", 20.0, most=10_000.0)
    )
    #: Public endpoints: requests a client may make at once (in ~burst/rate seconds), at most
    #: 100,000 and a day's worth: the limiter logs each request of its window, so a window of
    #: years kept every request a client ever made, in memory or in Redis.
    public_burst: float = field(
        default_factory=lambda: _float("GONGPEI_PUBLIC_BURST", 60.0, least=1.0, most=100_000.0)
    )
    #: Redis (redis://HOST:PORT/DB) where every server process shares the public rate limit's
    #: counts; "" counts per process, in memory.
    redis_url: str = field(default_factory=_redis_url)
    #: Largest accepted request body in bytes (a day's batch of a few thousand jobs fits).
    max_body_bytes: int = field(
        default_factory=lambda: _whole("GONGPEI_MAX_BODY_BYTES", 5_000_000, least=1)
    )
    #: How long a reservation holds a compartment before the sweeper releases it: at most 30
    #: days (1e12 s made every reservation a 422 that blamed the request).
    reservation_ttl_s: float = field(
        default_factory=lambda: _float(
            "GONGPEI_RESERVATION_TTL_S", 1800.0, least=1.0, most=30 * 86400.0
        )
    )
    #: How often the locker-location cache of a server process checks the database for
    #: changes: at most an hour (the public would see availability that old; 1e12 s stopped
    #: the refresher thread at its first wait).
    search_cache_s: float = field(
        default_factory=lambda: _float("GONGPEI_SEARCH_CACHE_S", 1.0, most=3600.0)
    )
    #: Jobs a firm may have queued or running at once; one more is a 429 (a firm posting
    #: hundreds of long batches would otherwise fill the queue for everyone).
    max_active_jobs: int = field(
        default_factory=lambda: _whole("GONGPEI_MAX_ACTIVE_JOBS", 20, least=1, most=10_000)
    )
    #: A running job whose worker has not renewed its lease for this long is taken over: at
    #: most a day (a crashed worker's job waits that long elsewhere; 1e12 s overflowed the
    #: lease's date and crashed the worker at every claim).
    job_lease_s: float = field(
        default_factory=lambda: _float("GONGPEI_JOB_LEASE_S", 30.0, least=1.0, most=86400.0)
    )
    #: Road network drawn under the map page (an OSM file, a built-graph folder, "demo" or
    #: "synthetic:N"); "" = none. From the environment it must exist (checked at start).
    map_network: str = field(default_factory=_map_network)
    #: Optional tile URL template for the map page (checked at start from the environment);
    #: empty keeps the page fully offline.
    tile_url: str = field(default_factory=_tile_url)
    #: The credit the map shows for its tiles (`GONGPEI_TILE_ATTRIBUTION`, HTML escaped by
    #: the page); None credits OpenStreetMap for its own tile servers and no one else.
    tile_attribution: str | None = field(
        default_factory=lambda: os.environ.get("GONGPEI_TILE_ATTRIBUTION")
    )
    #: The platform's time zone (`GONGPEI_TIME_ZONE`): open data counts parcels per day of
    #: its calendar.
    time_zone: ZoneInfo = field(default_factory=platform_time_zone)
    #: The licence the open data is offered under (`GONGPEI_DATA_LICENCE`).
    data_licence: Licence = field(default_factory=_data_licence)

    @property
    def tile_credit(self) -> str:
        """What the map credits its tiles to: `tile_attribution`, else OpenStreetMap's
        contributors for tile.openstreetmap.org's tiles (their usage policy asks for it), else
        no one: a Tianditu or commercial layer was credited to OpenStreetMap."""
        if not self.tile_url:
            return ""
        if self.tile_attribution is not None:
            return self.tile_attribution
        host = urlsplit(self.tile_url).hostname or ""
        osm = host == OSM_TILE_HOST or host.endswith("." + OSM_TILE_HOST)
        return OSM_CREDIT if osm else ""

    def __post_init__(self) -> None:
        # the URL comes from --database-url as often as from the environment, so it is
        # checked whichever way it was given
        check_database_url(self.database_url)
        rate, burst = self.public_rate_per_s, self.public_burst
        if rate > 0 and burst / rate > 86400.0:
            raise SettingsError(
                f"GONGPEI_PUBLIC_BURST: {burst:g} requests at GONGPEI_PUBLIC_RATE_PER_S "
                f"{rate:g} take {burst / rate:g} s; at most a day's worth ({86400 * rate:g})"
            )
