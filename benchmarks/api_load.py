"""Load test of `gongpei serve` on loopback: nearby-locker search and a reservation storm.

For SQLite and PostgreSQL in turn: a fresh database with 10,000 lockers spread over a 20 x 20 km
city, `gongpei serve --workers 2` (public rate limit off, as for a trusted load balancer), then
1. nearby search from 50 concurrent keep-alive clients, closed loop (as fast as the server
   answers): throughput and p50/p99 latency, with the per-process locker index (shipped) and,
   as the baseline, revalidated against the database on every request (GONGPEI_SEARCH_CACHE_S=0);
2. the same at a fixed offered rate (default 1,000 searches/s: 50 clients x 20/s, open loop,
   latency counted from the scheduled send time): offered vs achieved rate and latency;
3. a reservation storm: 500 attempts at one locker's 100 free compartments from 50 clients:
   counts of 201 and 409, and double bookings found in the database afterwards.
Closed and fixed-rate runs are repeated (`--runs`, default 3) and the median run reported.

The load generator shares the two cores with the server, so every phase also reports the CPU
it used (ms per request and % of one core) beside the server processes' CPU per request. It is
a minimal keep-alive HTTP/1.1 client on asyncio + uvloop, because a heavier client would
mostly measure itself.

    .venv/bin/python benchmarks/api_load.py [--requests 12000] [--runs 3] [--workers 2]
                                            [--backends sqlite,postgres]

``--limit-overhead`` instead measures what the public rate limit costs a search: closed-loop
search on SQLite with the limit off, counted in each process's memory and counted in Redis,
three servers side by side, runs interleaved.

``--open-data`` instead measures `GET /v1/open-data/summary` and the registry's first page
from 50 closed-loop clients for ``--open-seconds`` a run (the audit's city: ``--lockers
50000``, 700,000 doors), on each backend; with ``--before DIR`` (a source tree of another
version, e.g. ``git archive HEAD | tar -x -C DIR``) a server of that version beside this
one's, runs interleaved.

``--paging`` instead walks a search's pages, each asked with the cursor of the one before (as
/map does: 2 pages of 1,000; and 20 of 100), radius ``--paging-radius``, from 50 closed-loop
clients for ``--open-seconds`` a run: walks per second and server CPU per walk; ``--churn``
asks for the open-data summary 20 times a second while a booking commits every second (a busy
city), and reports the server's CPU per second, beside the same bookings alone. Both take
``--before`` as ``--open-data`` does.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import random
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

import numpy as np
import uvloop
from sqlalchemy import create_engine, func, insert, select, text

from api.db.engine import Database, normalise_url
from api.db.migrate import upgrade
from api.db.models import Compartment, Locker, Reservation
from api.lockers import DEFAULT_DIMENSIONS_MM
from api.security import create_firm

CENTRE = (36.07, 120.38)
HALF_SPAN_M = 10_000
CLIENTS = 50
POSTGRES_URL = os.environ.get(
    "GONGPEI_TEST_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/test"
)


# --------------------------------------------------------------------------- data


def populate(url: str, n_lockers: int, seed: int = 0) -> tuple[str, int]:
    """Migrate, insert `n_lockers` lockers (8 S, 4 M, 2 L doors each) plus the storm locker
    with 100 M doors; return a firm API key and the storm locker's id."""
    db = Database(url)
    upgrade(db.engine)
    rng = np.random.default_rng(seed)
    dlat = HALF_SPAN_M / 111_195
    dlon = dlat / np.cos(np.radians(CENTRE[0]))
    lats = CENTRE[0] + rng.uniform(-dlat, dlat, n_lockers)
    lons = CENTRE[1] + rng.uniform(-dlon, dlon, n_lockers)
    lockers = [
        {"id": i + 1, "name": f"Locker {i + 1}", "operator": "Bench", "lat": float(lat),
         "lon": float(lon), "address": "", "area": f"cell-{i % 12}", "opening_hours": "24/7"}
        for i, (lat, lon) in enumerate(zip(lats, lons, strict=True))
    ]
    storm_id = n_lockers + 1
    lockers.append({**lockers[0], "id": storm_id, "name": "Storm locker"})
    doors = {"S": 8, "M": 4, "L": 2}
    compartments = []
    for locker in lockers:
        counts = {"M": 100} if locker["id"] == storm_id else doors
        for size, count in counts.items():
            w, h, d = DEFAULT_DIMENSIONS_MM[size]
            compartments += [
                {"locker_id": locker["id"], "label": f"{size}{k + 1:02d}", "size": size,
                 "width_mm": w, "height_mm": h, "depth_mm": d, "status": "free"}
                for k in range(count)
            ]
    from api.db.models import utcnow

    now = utcnow()
    with db.writing() as session:
        session.execute(insert(Locker), [{**x, "created_at": now, "updated_at": now}
                                         for x in lockers])
        session.execute(insert(Compartment), compartments)
        _, key = create_firm(session, "bench-firm", "firm")
    if not db.is_sqlite:  # keep the sequences ahead of the explicit ids
        with db.engine.begin() as conn:
            conn.execute(text("SELECT setval('lockers_id_seq', (SELECT max(id) FROM lockers))"))
    db.dispose()
    return key, storm_id


def double_bookings(url: str, storm_id: int) -> tuple[int, int]:
    """(active reservations, compartments holding more than one) at the storm locker."""
    db = Database(url)
    with db.reading() as session:
        per_door = session.execute(
            select(Reservation.compartment_id, func.count())
            .where(Reservation.locker_id == storm_id,
                   Reservation.state.in_(("reserved", "deposited")))
            .group_by(Reservation.compartment_id)
        ).all()
    db.dispose()
    return sum(n for _, n in per_door), sum(1 for _, n in per_door if n > 1)


# --------------------------------------------------------------------------- server


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Server:
    """`gongpei serve` in a child process, stopped on exit."""

    def __init__(self, url: str, *, workers: int, cache_s: float,
                 extra: dict[str, str] | None = None, source: str | None = None) -> None:
        """``source``: the source tree to run (`python -m` imports from the directory it
        starts in); this one's by default."""
        self.port = free_port()
        env = {**os.environ, "GONGPEI_DATABASE_URL": url, "GONGPEI_PUBLIC_RATE_PER_S": "0",
               "GONGPEI_SEARCH_CACHE_S": str(cache_s), **(extra or {})}
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "api.cli.main", "serve", "--port", str(self.port),
             "--workers", str(workers), "--job-workers", "0"],
            env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, cwd=source,
        )

    def __enter__(self) -> Server:
        deadline = time.monotonic() + 180
        while time.monotonic() < deadline:
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=0.5):
                    time.sleep(2.0)  # let every worker process finish starting
                    return self
            except OSError:
                time.sleep(0.2)
        self.__exit__()
        raise RuntimeError("server did not start")

    def __exit__(self, *exc) -> None:
        self.proc.terminate()
        self.proc.wait(timeout=30)

    def usage(self) -> tuple[float, float]:
        """(CPU seconds used, seconds spent runnable but waiting for a core) so far by the
        server's process tree (`gongpei serve`, uvicorn and its workers), from /proc. The
        wait is of each process's main thread, the one running the event loop."""
        parent, used, waited = {}, {}, {}
        for proc in Path("/proc").glob("[0-9]*"):
            try:
                fields = (proc / "stat").read_text().rpartition(")")[2].split()
                wait_ns = int((proc / "schedstat").read_text().split()[1])
            except (OSError, IndexError):  # the process ended meanwhile
                continue
            pid = int(proc.name)
            parent[pid] = int(fields[1])
            used[pid] = (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
            waited[pid] = wait_ns / 1e9
        tree, grew = {self.proc.pid}, True
        while grew:
            more = {pid for pid, ppid in parent.items() if ppid in tree} - tree
            tree |= more
            grew = bool(more)
        return sum(used.get(p, 0.0) for p in tree), sum(waited.get(p, 0.0) for p in tree)


# --------------------------------------------------------------------------- client


class Connection:
    """One keep-alive HTTP/1.1 connection; just enough protocol for this API's JSON answers."""

    def __init__(self, port: int) -> None:
        self.port = port

    async def open(self) -> Connection:
        self.reader, self.writer = await asyncio.open_connection("127.0.0.1", self.port)
        return self

    async def request(self, method: str, path: str, body: bytes = b"",
                      headers: dict[str, str] | None = None) -> tuple[int, bytes]:
        lines = [f"{method} {path} HTTP/1.1", "Host: 127.0.0.1",
                 f"Content-Length: {len(body)}"]
        if body:
            lines.append("Content-Type: application/json")
        lines += [f"{k}: {v}" for k, v in (headers or {}).items()]
        self.writer.write(("\r\n".join(lines) + "\r\n\r\n").encode() + body)
        head = await self.reader.readuntil(b"\r\n\r\n")
        status = int(head[9:12])
        length = 0
        for line in head.split(b"\r\n")[1:]:
            name, _, value = line.partition(b":")
            if name.strip().lower() == b"content-length":
                length = int(value)
        return status, await self.reader.readexactly(length)

    def close(self) -> None:
        self.writer.close()


def search_paths(n: int, seed: int) -> list[str]:
    rng = random.Random(seed)
    dlat = 0.8 * HALF_SPAN_M / 111_195
    dlon = dlat / np.cos(np.radians(CENTRE[0]))
    return [
        f"/v1/lockers?lat={CENTRE[0] + rng.uniform(-dlat, dlat):.6f}"
        f"&lon={CENTRE[1] + rng.uniform(-dlon, dlon):.6f}&radius_m=1000&limit=20"
        for _ in range(n)
    ]


async def _search_closed(
    port: int, paths: list[str], *, addresses: int = 0
) -> tuple[list[float], float, int]:
    """As fast as the server answers; ``addresses`` > 0 spreads the searches over that many
    client addresses (X-Forwarded-For, which uvicorn takes from loopback)."""
    queue = list(reversed(list(enumerate(paths))))
    latencies: list[float] = []
    errors = 0

    async def client() -> None:
        nonlocal errors
        conn = await Connection(port).open()
        while queue:
            k, path = queue.pop()
            who = k % addresses if addresses else 0
            headers = {"X-Forwarded-For": f"10.0.{who // 250}.{who % 250}"} if addresses else None
            t0 = time.perf_counter()
            status, _ = await conn.request("GET", path, headers=headers)
            latencies.append(time.perf_counter() - t0)
            errors += status != 200
        conn.close()

    began = time.perf_counter()
    await asyncio.gather(*(client() for _ in range(CLIENTS)))
    return latencies, time.perf_counter() - began, errors


async def _search_open(port: int, paths: list[str], rate: float) -> tuple[list[float], float, int]:
    """Each client sends on its own fixed schedule (rate / CLIENTS per second); latency counts
    from the scheduled send time, so queueing delay is not hidden (no coordinated omission)."""
    per_client = [paths[i::CLIENTS] for i in range(CLIENTS)]
    interval = CLIENTS / rate
    latencies: list[float] = []
    errors = 0
    start = time.perf_counter() + 0.2

    async def client(k: int, mine: list[str]) -> None:
        nonlocal errors
        conn = await Connection(port).open()
        for j, path in enumerate(mine):
            due = start + (j + k / CLIENTS) * interval
            delay = due - time.perf_counter()
            if delay > 0:
                await asyncio.sleep(delay)
            status, _ = await conn.request("GET", path)
            latencies.append(time.perf_counter() - due)
            errors += status != 200
        conn.close()

    await asyncio.gather(*(client(k, mine) for k, mine in enumerate(per_client)))
    return latencies, time.perf_counter() - start, errors


async def _storm(port: int, key: str, locker_id: int, attempts: int) -> dict[int, int]:
    todo = list(range(attempts))
    codes: dict[int, int] = {}

    async def client() -> None:
        conn = await Connection(port).open()
        while todo:
            i = todo.pop()
            body = json.dumps({"size": "M", "parcel_ref": f"STORM-{i}"}).encode()
            status, _ = await conn.request(
                "POST", f"/v1/lockers/{locker_id}/reservations", body, {"X-API-Key": key}
            )
            codes[status] = codes.get(status, 0) + 1
        conn.close()

    await asyncio.gather(*(client() for _ in range(CLIENTS)))
    return codes


def pct(values: list[float], q: float) -> float:
    return float(np.percentile(np.asarray(values), q)) * 1000


def phase(server: Server, load) -> dict:
    """Run one load phase (a coroutine giving latencies, elapsed s, errors): its figures plus
    the CPU the server processes and this load generator used meanwhile, and how long per
    second the server processes were ready to run but had no core (other work on the machine)."""
    (server_cpu, server_wait), client_cpu = server.usage(), time.process_time()
    lat, elapsed, errors = uvloop.run(load)
    (cpu_end, wait_end), client_end = server.usage(), time.process_time()
    n = len(lat)
    return {"rps": n / elapsed, "p50": pct(lat, 50), "p99": pct(lat, 99), "errors": errors,
            "server_ms": (cpu_end - server_cpu) / n * 1000,
            "client_ms": (client_end - client_cpu) / n * 1000,
            "client_pct": (client_end - client_cpu) / elapsed * 100,
            "wait_ms_s": (wait_end - server_wait) / elapsed * 1000}


def median_of(runs: list[dict]) -> dict:
    """Each figure's median over the runs; errors summed; the p99 of every run kept."""
    out = {key: float(np.median([r[key] for r in runs])) for key in runs[0] if key != "errors"}
    return {**out, "errors": sum(r["errors"] for r in runs),
            "p99_runs": sorted(r["p99"] for r in runs)}


# --------------------------------------------------------------------------- main


# The public rate limit at its defaults (20/s, bursts of 60 per client), counted nowhere, in
# each server process's memory, or in Redis (shared by the processes). The searches come from
# ADDRESSES clients, a few each per run, so none is refused: this measures what counting costs.
ADDRESSES = 2000
LIMITS = {
    "off": {},
    "memory": {"GONGPEI_PUBLIC_RATE_PER_S": "20", "GONGPEI_PUBLIC_BURST": "60"},
    "redis": {"GONGPEI_PUBLIC_RATE_PER_S": "20", "GONGPEI_PUBLIC_BURST": "60",
              "GONGPEI_REDIS_URL": "redis://127.0.0.1:6379/0"},
}


def limit_overhead(url: str, args: argparse.Namespace) -> None:
    """Closed-loop search with the public rate limit off, in memory and in Redis: one server
    each, side by side, their runs interleaved, the searches spread over ``ADDRESSES`` clients."""
    populate(url, args.lockers)
    paths = search_paths(args.requests, seed=1)
    with contextlib.ExitStack() as stack:
        servers = {
            mode: stack.enter_context(Server(url, workers=args.workers, cache_s=1.0, extra=env))
            for mode, env in LIMITS.items()
        }
        for server in servers.values():
            uvloop.run(_search_closed(server.port, search_paths(500, seed=2)))  # warm-up
        runs: dict[str, list[dict]] = {mode: [] for mode in servers}
        for _ in range(args.runs):
            for mode, server in servers.items():
                load = _search_closed(server.port, paths, addresses=ADDRESSES)
                runs[mode].append(phase(server, load))
    print(f"\nPublic rate limit's cost, SQLite, closed loop, {args.requests} searches a run "
          f"from {ADDRESSES} client addresses, median of {args.runs} runs, {args.workers} server "
          "processes")
    print(f"{'limit':<8} {'achieved/s':>10} {'vs off':>7} {'p50 ms':>7} {'p99 ms':>7} "
          f"{'srv CPU':>8} {'errors':>6}")
    off = median_of(runs["off"])
    for mode, found in runs.items():
        m = median_of(found)
        print(f"{mode:<8} {m['rps']:>10.0f} {m['rps'] / off['rps']:>7.2f} {m['p50']:>7.1f} "
              f"{m['p99']:>7.1f} {m['server_ms']:>6.2f}ms {m['errors']:>6}")


async def _get_for(port: int, path: str, seconds: float) -> tuple[list[float], float, int]:
    """``path`` again and again from each client, as fast as the server answers, for
    ``seconds`` (a slow answer takes a whole run otherwise); a connection the server closed
    is an error, and opened again."""
    latencies: list[float] = []
    errors = 0
    began = time.perf_counter()

    async def client() -> None:
        nonlocal errors
        conn = await Connection(port).open()
        while time.perf_counter() - began < seconds:
            t0 = time.perf_counter()
            try:
                status, _ = await conn.request("GET", path)
            except (asyncio.IncompleteReadError, ConnectionError):
                conn.close()
                conn, status = await Connection(port).open(), 0
            latencies.append(time.perf_counter() - t0)
            errors += status != 200
        conn.close()

    await asyncio.gather(*(client() for _ in range(CLIENTS)))
    return latencies, time.perf_counter() - began, errors


def _idle(server: Server) -> None:
    """Wait until the server has answered what it was still working on (requests of clients
    gone at the end of a run), which would run on into the next server's run."""
    used = server.usage()[0]
    while True:
        time.sleep(0.5)
        now = server.usage()[0]
        if now - used < 0.05:
            return
        used = now


OPEN_DATA = {"summary": "/v1/open-data/summary", "registry": "/v1/open-data/lockers?limit=100"}


def open_data(name: str, url: str, args: argparse.Namespace) -> None:
    """The open-data summary and the registry's first page, closed loop, from this source
    tree's server and (``--before``) another's, side by side, runs interleaved."""
    print(f"\n== {name}: populating {args.lockers} lockers ...", flush=True)
    populate(url, args.lockers)
    with contextlib.ExitStack() as stack:
        servers = _servers(stack, url, args)
        runs = {(version, what): [] for version in servers for what in OPEN_DATA}
        for version, what in runs:  # warm-up: each server process's first answers
            uvloop.run(_get_for(servers[version].port, OPEN_DATA[what], 2.0))
            _idle(servers[version])
        for _ in range(args.runs):
            for (version, what), found in runs.items():
                load = _get_for(servers[version].port, OPEN_DATA[what], args.open_seconds)
                found.append(phase(servers[version], load))
                _idle(servers[version])
    print(f"\nOpen data, {name}, {args.lockers} lockers, {CLIENTS} closed-loop clients, "
          f"{args.open_seconds:.0f} s a run, median of {args.runs} runs, {args.workers} server "
          "processes")
    print(f"{'answer':<9} {'version':<7} {'achieved/s':>10} {'p50 ms':>8} {'p99 ms':>8} "
          f"{'srv CPU':>9} {'errors':>6}")
    for (version, what), found in sorted(runs.items(), key=lambda kv: kv[0][1]):
        m = median_of(found)
        print(f"{what:<9} {version:<7} {m['rps']:>10.1f} {m['p50']:>8.1f} {m['p99']:>8.1f} "
              f"{m['server_ms']:>7.2f}ms {m['errors']:>6}")


#: The walks of `--paging`: (page size, pages), as /map asks (2 x 1,000) and as it did (20 x 100).
WALKS = ((1000, 2), (100, 20))


async def _walk_for(
    port: int, paths: list[str], pages: int, seconds: float
) -> tuple[list[float], float, int]:
    """Each client walks up to ``pages`` pages of one search after another (each page asked
    with the cursor of the one before, as /map does), for ``seconds``: a latency per walk."""
    latencies: list[float] = []
    errors = 0
    queue = list(reversed(paths))
    began = time.perf_counter()

    async def client() -> None:
        nonlocal errors
        conn = await Connection(port).open()
        while time.perf_counter() - began < seconds and queue:
            path, cursor = queue.pop(), None
            t0 = time.perf_counter()
            for _ in range(pages):
                status, body = await conn.request("GET", path + (f"&cursor={cursor}" if cursor
                                                                 else ""))
                errors += status != 200
                cursor = json.loads(body[body.rfind(b'"next_cursor":') + 14 : -1])
                if cursor is None:
                    break
            latencies.append(time.perf_counter() - t0)
        conn.close()

    await asyncio.gather(*(client() for _ in range(CLIENTS)))
    return latencies, time.perf_counter() - began, errors


def _servers(stack: contextlib.ExitStack, url: str, args: argparse.Namespace) -> dict[str, Server]:
    """This source tree's server and (``--before``) another version's, side by side."""
    sources = {"this": None} | ({"before": args.before} if args.before else {})
    return {
        version: stack.enter_context(Server(url, workers=args.workers, cache_s=1.0, source=src))
        for version, src in sources.items()
    }


def paging(name: str, url: str, args: argparse.Namespace) -> None:
    """Walks of a search's pages (`WALKS`), this tree's server and ``--before``'s, runs
    interleaved."""
    print(f"\n== {name}: populating {args.lockers} lockers ...", flush=True)
    populate(url, args.lockers)
    paths = {
        (limit, pages): [p.replace("radius_m=1000&limit=20",
                                   f"radius_m={args.paging_radius:.0f}&limit={limit}")
                         for p in search_paths(20_000, seed=4)]
        for limit, pages in WALKS
    }  # fmt: skip
    with contextlib.ExitStack() as stack:
        servers = _servers(stack, url, args)
        runs = {(version, walk): [] for walk in WALKS for version in servers}
        for version, walk in runs:  # warm-up
            uvloop.run(_walk_for(servers[version].port, paths[walk], walk[1], 2.0))
            _idle(servers[version])
        for _ in range(args.runs):
            for (version, walk), found in runs.items():
                load = _walk_for(servers[version].port, paths[walk], walk[1], args.open_seconds)
                found.append(phase(servers[version], load))
                _idle(servers[version])
    print(f"\nSearch paging, {name}, {args.lockers} lockers, radius {args.paging_radius:.0f} m, "
          f"{CLIENTS} closed-loop clients each walking a search's pages, {args.open_seconds:.0f} "
          f"s a run, median of {args.runs} runs, {args.workers} server processes")
    print(f"{'walk':<9} {'version':<7} {'walks/s':>8} {'p50 ms':>8} {'p99 ms':>8} "
          f"{'srv CPU/walk':>13} {'errors':>6}")
    for (version, (limit, pages)), found in runs.items():
        m = median_of(found)
        print(f"{pages:>2} x {limit:<4} {version:<7} {m['rps']:>8.1f} {m['p50']:>8.1f} "
              f"{m['p99']:>8.1f} {m['server_ms']:>11.2f}ms {m['errors']:>6}")


async def _churn_for(
    port: int, key: str, lockers: int, seconds: float, summary_rate: float
) -> tuple[list[float], float, int]:
    """A booking every second (a door taken at a random locker, through the server), and the
    open-data summary asked for ``summary_rate`` times a second (10 clients, open loop), for
    ``seconds``: latencies of the summaries."""
    latencies: list[float] = []
    errors = 0
    start = time.perf_counter() + 0.2
    rng = random.Random()  # other lockers each run: a locker's 8 S doors would run out

    async def book() -> None:
        nonlocal errors
        conn = await Connection(port).open()
        for j in range(int(seconds)):
            await asyncio.sleep(max(0.0, start + j - time.perf_counter()))
            body = json.dumps({"size": "S", "parcel_ref": f"CHURN-{uuid.uuid4().hex}"}).encode()
            status, _ = await conn.request("POST", f"/v1/lockers/{rng.randint(1, lockers)}"
                                           "/reservations", body, {"X-API-Key": key})
            errors += status != 201
        conn.close()

    async def poll(k: int, clients: int) -> None:
        nonlocal errors
        conn = await Connection(port).open()
        interval = clients / summary_rate
        for j in range(int(seconds / interval)):
            due = start + (j + k / clients) * interval
            await asyncio.sleep(max(0.0, due - time.perf_counter()))
            status, _ = await conn.request("GET", OPEN_DATA["summary"])
            latencies.append(time.perf_counter() - due)
            errors += status != 200
        conn.close()

    pollers = [poll(k, 10) for k in range(10)] if summary_rate else []
    await asyncio.gather(book(), *pollers)
    return latencies or [0.0], time.perf_counter() - start, errors


def churn(name: str, url: str, args: argparse.Namespace) -> None:
    """The summary under a booking a second, and the bookings alone, this tree's server and
    ``--before``'s, runs interleaved: the server processes' CPU per second of each."""
    print(f"\n== {name}: populating {args.lockers} lockers ...", flush=True)
    key, _ = populate(url, args.lockers)
    modes = {"bookings": 0.0, "bookings+summary": 20.0}
    with contextlib.ExitStack() as stack:
        servers = _servers(stack, url, args)
        runs = {(version, mode): [] for mode in modes for version in servers}
        for server in servers.values():  # warm-up: the index, the first summary
            uvloop.run(_get_for(server.port, OPEN_DATA["summary"], 2.0))
            _idle(server)
        for _ in range(args.runs):
            for (version, mode), found in runs.items():
                server = servers[version]
                used = server.usage()[0]
                load = _churn_for(server.port, key, args.lockers, args.open_seconds, modes[mode])
                m = phase(server, load)
                found.append({**m, "cpu_s": (server.usage()[0] - used) / args.open_seconds})
                _idle(server)
    print(f"\nOpen-data summary under churn, {name}, {args.lockers} lockers, a booking a second, "
          f"summary asked 20 times a second (or not), {args.open_seconds:.0f} s a run, median of "
          f"{args.runs} runs, {args.workers} server processes")
    print(f"{'load':<17} {'version':<7} {'srv CPU s/s':>11} {'summary p50':>11} {'p99 ms':>8} "
          f"{'errors':>6}")
    for (version, mode), found in runs.items():
        m = median_of(found)
        p50 = f"{m['p50']:.1f}" if modes[mode] else "-"
        p99 = f"{m['p99']:.1f}" if modes[mode] else "-"
        print(f"{mode:<17} {version:<7} {m['cpu_s']:>11.3f} {p50:>11} {p99:>8} {m['errors']:>6}")


def run_backend(name: str, url: str, args: argparse.Namespace) -> dict:
    print(f"\n== {name}: populating {args.lockers} lockers ...", flush=True)
    t0 = time.perf_counter()
    key, storm_id = populate(url, args.lockers)
    print(f"   populated in {time.perf_counter() - t0:.1f} s", flush=True)
    out: dict = {"backend": name}
    paths = search_paths(args.requests, seed=1)
    n_open = int(args.rate * args.open_seconds)
    with Server(url, workers=args.workers, cache_s=0.0) as server:
        uvloop.run(_search_closed(server.port, search_paths(500, seed=2)))  # warm-up
        out["baseline"] = median_of(
            [phase(server, _search_closed(server.port, paths[: args.baseline_requests]))]
        )
    print(f"   baseline (no cache), closed loop: {out['baseline']}", flush=True)
    with Server(url, workers=args.workers, cache_s=1.0) as server:
        uvloop.run(_search_closed(server.port, search_paths(500, seed=2)))  # warm-up
        closed, fixed = [], []
        for run in range(args.runs):  # interleaved, so a noisy spell hits both kinds alike
            closed.append(phase(server, _search_closed(server.port, paths)))
            fixed.append(phase(server, _search_open(
                server.port, search_paths(n_open, seed=3 + run), args.rate)))
            print(f"   run {run + 1}: closed {closed[-1]}\n          fixed {fixed[-1]}",
                  flush=True)
        out["closed"], out["fixed"] = median_of(closed), median_of(fixed)
        codes = uvloop.run(_storm(server.port, key, storm_id, 500))
        active, doubled = double_bookings(url, storm_id)
        out["storm"] = {"codes": codes, "active": active, "double": doubled}
    print(f"   storm: {out['storm']}", flush=True)
    return out


def postgres_schema_url() -> tuple[str, callable] | None:
    base = normalise_url(POSTGRES_URL)
    try:
        admin = create_engine(base, connect_args={"connect_timeout": 3})
        schema = f"gp_bench_{uuid.uuid4().hex[:8]}"
        with admin.begin() as conn:
            conn.execute(text(f"CREATE SCHEMA {schema}"))
    except Exception as err:  # unreachable server: report and skip that backend
        print(f"PostgreSQL at {POSTGRES_URL} unreachable ({type(err).__name__}); skipped")
        return None

    def drop() -> None:
        with admin.begin() as conn:
            conn.execute(text(f"DROP SCHEMA IF EXISTS {schema} CASCADE"))
        admin.dispose()

    sep = "&" if "?" in base else "?"
    return f"{base}{sep}options=-csearch_path%3D{schema}", drop


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--lockers", type=int, default=10_000)
    parser.add_argument("--requests", type=int, default=12_000,
                        help="searches per closed-loop run")
    parser.add_argument("--baseline-requests", type=int, default=1_000,
                        help="closed-loop searches of the no-cache baseline (one run)")
    parser.add_argument("--rate", type=float, default=1000.0, help="fixed offered searches/s")
    parser.add_argument("--open-seconds", type=float, default=8.0,
                        help="length of each fixed-rate run (and of each --open-data, --paging "
                        "or --churn run)")
    parser.add_argument("--runs", type=int, default=3, help="runs of each search mode")
    parser.add_argument("--workers", type=int, default=2, help="server processes")
    parser.add_argument("--backends", default="sqlite,postgres")
    parser.add_argument("--limit-overhead", action="store_true",
                        help="only compare search with the public rate limit off, in memory "
                        "and in Redis (needs Redis at 127.0.0.1:6379)")
    parser.add_argument("--open-data", action="store_true",
                        help="only measure the open-data summary and the registry's first page")
    parser.add_argument("--paging", action="store_true",
                        help="only measure walks of a search's pages (2 x 1,000 and 20 x 100)")
    parser.add_argument("--paging-radius", type=float, default=5000.0,
                        help="with --paging: the searches' radius in metres")
    parser.add_argument("--churn", action="store_true",
                        help="only measure the open-data summary under a booking a second")
    parser.add_argument("--before", help="with --open-data, --paging or --churn: a source tree "
                        "of another version to serve beside this one")
    args = parser.parse_args()
    if args.limit_overhead:
        with tempfile.TemporaryDirectory() as tmp:
            limit_overhead(f"sqlite:///{Path(tmp) / 'bench.db'}", args)
        return
    load_before = os.getloadavg()[0]
    measure = (open_data if args.open_data else paging if args.paging
               else churn if args.churn else run_backend)
    results = []
    for backend in args.backends.split(","):
        if backend == "sqlite":
            with tempfile.TemporaryDirectory() as tmp:
                url = f"sqlite:///{Path(tmp) / 'bench.db'}"
                results.append(measure("SQLite", url, args))
        else:
            found = postgres_schema_url()
            if found is None:
                continue
            url, drop = found
            try:
                results.append(measure("PostgreSQL", url, args))
            finally:
                drop()
    if measure is run_backend:
        report(results, args, (load_before, os.getloadavg()[0]))


def report(results: list[dict], args: argparse.Namespace, load: tuple) -> None:
    print(f"\nNearby search, {args.lockers} lockers, radius 1 km, 20 per page, {CLIENTS} "
          f"keep-alive clients, {args.workers} server processes + 1 load-generator process, "
          f"{os.cpu_count()} cores; load average before/after: {load[0]:.1f} / {load[1]:.1f}")
    print(f"median of {args.runs} runs (closed loop: {args.requests} searches each; fixed rate: "
          f"{args.open_seconds:.0f} s each); baseline: one run of {args.baseline_requests}")
    print(f"{'backend':<11} {'mode':<24} {'offered/s':>9} {'achieved/s':>10} {'p50 ms':>7} "
          f"{'p99 ms':>7} {'p99 of each run':>20} {'err':>4} {'srv CPU':>8} {'gen CPU':>8} "
          f"{'gen %core':>9} {'srv wait':>8}")
    modes = (("closed", "closed loop, index"), ("baseline", "closed loop, baseline"),
             ("fixed", "fixed rate, index"))
    for r in results:
        for key, label in modes:
            m = r[key]
            offered = f"{args.rate:.0f}" if key == "fixed" else "max"
            runs = ", ".join(f"{p:.0f}" for p in m["p99_runs"])
            print(f"{r['backend']:<11} {label:<24} {offered:>9} {m['rps']:>10.0f} "
                  f"{m['p50']:>7.1f} {m['p99']:>7.1f} {runs:>20} {m['errors']:>4} "
                  f"{m['server_ms']:>6.2f}ms {m['client_ms']:>6.2f}ms {m['client_pct']:>8.0f}% "
                  f"{m['wait_ms_s']:>6.0f}ms")
    print("srv/gen CPU: CPU ms per search of the server processes / of the load generator;\n"
          "srv wait: ms per second the server's event loops were runnable but had no core")
    print("target: >= 1000 searches/s with p99 <= 50 ms")
    print("\nReservation storm: 500 attempts, 100 free compartments, 50 clients")
    print(f"{'backend':<11} {'201':>5} {'409':>5} {'other':>6} {'active':>7} {'double':>7}")
    for r in results:
        c = r["storm"]["codes"]
        other = sum(v for k, v in c.items() if k not in (201, 409))
        print(f"{r['backend']:<11} {c.get(201, 0):>5} {c.get(409, 0):>5} {other:>6} "
              f"{r['storm']['active']:>7} {r['storm']['double']:>7}")
    print("expected: 100 x 201, 400 x 409, 100 active, 0 double")


if __name__ == "__main__":
    main()
