"""The public locker search's latency while firms submit 3,000-stop batches.

A `POST /v1/batches` is checked at submission, building the batch's N x N travel estimate;
checked in the API process, it held the GIL that every search needs. On a fresh SQLite database
of 10,000 lockers, `gongpei serve --workers 2` (rate limit off, no job workers) answers searches
sent at a fixed rate (open loop, latency from the scheduled send time, as in `api_load.py`)
while ``--batches`` clients each post 3,000-stop batches one after another: search p50/p99 and
the batches' 202 time. With ``--before DIR`` (a source tree of another version, e.g. one with
this one's `api/routers/jobs.py` and `api/app.py` taken from `git show HEAD:...`) a server of
that version runs beside this one's, one at a time, runs interleaved; the medians are reported.

    .venv/bin/python benchmarks/batch_check_load.py --before /tmp/gongpei-before
        [--batches 4] [--rate 200] [--seconds 10] [--runs 3]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import tempfile
import time
from pathlib import Path

import numpy as np
import uvloop
from api_load import Connection, Server, pct, populate, search_paths

STOPS = 3_000


def batch_body(stops: int, seed: int) -> bytes:
    """A VROOM batch of ``stops`` deliveries around the city centre, timed by straight lines
    (the estimate the check builds whatever the travel: no map is needed)."""
    rng = np.random.default_rng(seed)
    lons, lats = 120.38 + rng.uniform(-0.1, 0.1, stops), 36.07 + rng.uniform(-0.08, 0.08, stops)
    jobs = [{"id": j + 1, "location": [float(x), float(y)], "delivery": [1]}
            for j, (x, y) in enumerate(zip(lons, lats, strict=True))]
    vehicles = [{"id": v + 1, "start": [120.38, 36.07], "capacity": [200]} for v in range(20)]
    problem = {"vehicles": vehicles, "jobs": jobs, "travel": {"source": "straight_line"}}
    return json.dumps({"format": "vroom", "problem": problem, "time_limit_s": 5}).encode()


async def _loaded(port: int, key: str, paths: list[str], rate: float, batches: int,
                  body: bytes) -> tuple[list[float], list[float], int]:
    """Search latencies at ``rate`` per second while ``batches`` clients post ``body`` one
    after another (from before the searches start to after they end); each batch's 202 time;
    answers that were not 200 or 202. The searches start once each poster's first batch is
    in: a server process's first large check starts its pool's processes (seconds)."""
    per_client, clients = [paths[i::50] for i in range(50)], 50
    interval, latencies, checks, errors = clients / rate, [], [], 0
    done, warm = asyncio.Event(), []

    async def poster() -> None:
        nonlocal errors
        conn, first = await Connection(port).open(), True
        while not done.is_set():
            t0 = time.perf_counter()
            status, _ = await conn.request("POST", "/v1/batches", body, {"X-API-Key": key})
            (warm if first else checks).append(time.perf_counter() - t0)
            first = False
            errors += status != 202
        conn.close()

    async def searcher(k: int, mine: list[str], start: float) -> None:
        nonlocal errors
        conn = await Connection(port).open()
        for j, path in enumerate(mine):
            due = start + (j + k / clients) * interval
            if (delay := due - time.perf_counter()) > 0:
                await asyncio.sleep(delay)
            status, _ = await conn.request("GET", path)
            latencies.append(time.perf_counter() - due)
            errors += status != 200
        conn.close()

    posters = [asyncio.create_task(poster()) for _ in range(batches)]
    while len(warm) < batches:  # every poster's first batch in (and its next one under way)
        await asyncio.sleep(0.05)
    start = time.perf_counter() + 0.2
    await asyncio.gather(*(searcher(k, mine, start) for k, mine in enumerate(per_client)))
    done.set()
    await asyncio.gather(*posters)
    return latencies, checks, errors


def one_run(server: Server, key: str, args: argparse.Namespace, seed: int) -> dict:
    paths = search_paths(int(args.rate * args.seconds), seed)
    body = batch_body(STOPS, seed)
    lat, checks, errors = uvloop.run(
        _loaded(server.port, key, paths, args.rate, args.batches, body)
    )
    return {"p50": pct(lat, 50), "p99": pct(lat, 99),
            "check_s": float(np.median(checks)) if checks else float("nan"),
            "checks": len(checks), "errors": errors}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--before", help="a source tree of the version to compare with")
    parser.add_argument("--batches", type=int, default=4, help="clients posting batches")
    parser.add_argument("--rate", type=float, default=200.0, help="searches per second")
    parser.add_argument("--seconds", type=float, default=10.0, help="of searches per run")
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--workers", type=int, default=2, help="server processes")
    args = parser.parse_args()
    sources = {"after": None, **({"before": args.before} if args.before else {})}
    results: dict[tuple[str, int], list[dict]] = {}
    with tempfile.TemporaryDirectory() as tmp:
        versions = []
        for name, source in sources.items():
            url = f"sqlite:///{Path(tmp) / f'{name}.db'}"
            versions.append((name, url, populate(url, 10_000)[0], source))
        extra = {"GONGPEI_MAX_ACTIVE_JOBS": "10000"}
        for run in range(args.runs):
            for name, url, key, source in versions[:: 1 if run % 2 else -1]:
                with Server(url, workers=args.workers, cache_s=300.0, extra=extra,
                            source=source) as server:
                    for batches in sorted({0, args.batches}):
                        args_now = argparse.Namespace(**{**vars(args), "batches": batches})
                        row = one_run(server, key, args_now, seed=run)
                        results.setdefault((name, batches), []).append(row)
                        print(name, batches, run, row, flush=True)
    print(f"\n{args.rate:.0f} searches/s for {args.seconds:.0f} s, {args.workers} server "
          f"processes, median of {args.runs} runs\n")
    print("| version | batch clients | search p50 ms | search p99 ms | p99 of each run | "
          "batch 202 s (median) | batches | errors |")
    print("|---|---|---|---|---|---|---|---|")
    for (name, batches), rows in sorted(results.items()):
        med = {k: float(np.median([r[k] for r in rows])) for k in ("p50", "p99", "check_s")}
        each = ", ".join(f"{r['p99']:.0f}" for r in rows)
        print(f"| {name} | {batches} | {med['p50']:.1f} | {med['p99']:.1f} | {each} | "
              f"{med['check_s']:.2f} | {sum(r['checks'] for r in rows)} | "
              f"{sum(r['errors'] for r in rows)} |")


if __name__ == "__main__":
    main()
