"""Start-up of the `gongpei` command: an older tree against this one, run as subprocesses.

`gongpei --help` imported every command module (siting, pooling, scipy, SQLAlchemy, alembic,
OR-Tools, PyVRP) until the commands were loaded on demand. Each case below runs ``--runs``
times for the old tree (``git archive`` of ``--old-ref`` into a temporary folder, first on
PYTHONPATH) and for this one, interleaved (the order swapped each round), after one untimed
round that compiles both trees' bytecode. Printed: median wall time and median peak RSS (of the
largest process in the command's tree, from wait4) side by side, with the ratio new / old, and
the load average before and after.

    .venv/bin/python benchmarks/cli_startup.py [--runs 7] [--old-ref HEAD] [--new-tree .]

Once the lazy loading is committed, HEAD holds it too: pass the commit before it as --old-ref.
"""

from __future__ import annotations

import argparse
import io
import os
import statistics
import subprocess
import sys
import tarfile
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
GONGPEI = Path(sys.executable).with_name("gongpei")  # the console script of this venv
DAY = REPO / "tests" / "routing" / "data" / "breaks_day.json"  # 8 jobs, 3 shipments, 3 vans

CASES = {
    "gongpei --help": ["--help"],
    "gongpei solve --help": ["solve", "--help"],
    "gongpei site --help": ["site", "--help"],
    "gongpei solve breaks_day.json (1 s)": [
        "solve", str(DAY), "-o", "{out}/solution.json", "--time-limit", "1", "-q",
    ],
}  # fmt: skip


def extract(ref: str, into: Path) -> Path:
    """The tree of commit ``ref`` written under ``into``."""
    archive = subprocess.run(
        ["git", "-C", str(REPO), "archive", ref], capture_output=True, check=True
    ).stdout
    with tarfile.open(fileobj=io.BytesIO(archive)) as tar:
        tar.extractall(into, filter="data")
    return into


def run_once(tree: Path, args: list[str], out: Path) -> tuple[float, float]:
    """Wall seconds and peak RSS (MB) of one `gongpei ARGS` importing its code from ``tree``."""
    argv = [str(GONGPEI), *(a.format(out=out) for a in args)]
    env = {**os.environ, "PYTHONPATH": str(tree)}
    with tempfile.TemporaryFile() as stderr:
        start = time.perf_counter()
        proc = subprocess.Popen(argv, env=env, cwd=out, stdout=subprocess.DEVNULL, stderr=stderr)
        _, status, usage = os.wait4(proc.pid, 0)  # per-child rusage, unlike RUSAGE_CHILDREN
        wall = time.perf_counter() - start
        proc.returncode = os.waitstatus_to_exitcode(status)
        if proc.returncode:
            stderr.seek(0)
            sys.exit(f"{' '.join(argv)} ({tree}) exited {proc.returncode}:\n{stderr.read()!r}")
    return wall, usage.ru_maxrss / 1024  # Linux gives KB


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=7, help="Timed runs of each case and tree.")
    parser.add_argument("--old-ref", default="HEAD", help="Commit of the old tree.")
    parser.add_argument(
        "--new-tree", type=Path, default=REPO, help="Code to measure as new (this checkout)."
    )
    args = parser.parse_args()
    if not GONGPEI.exists():
        sys.exit(f"no console script {GONGPEI}: install the project (pip install -e .)")
    with tempfile.TemporaryDirectory(prefix="cli-startup-") as tmp:
        trees = {"old": extract(args.old_ref, Path(tmp) / "old"), "new": args.new_tree.resolve()}
        out = Path(tmp) / "out"
        out.mkdir()
        for case in CASES.values():  # compile both trees' bytecode, untimed
            for tree in trees.values():
                run_once(tree, case, out)
        load_before = os.getloadavg()
        samples = {(c, t): [] for c in CASES for t in trees}
        for i in range(args.runs):
            order = list(trees) if i % 2 == 0 else list(reversed(trees))
            for case, case_args in CASES.items():
                for name in order:
                    samples[case, name].append(run_once(trees[name], case_args, out))
        load_after = os.getloadavg()
    print(f"old: {args.old_ref}, new: {trees['new']}; {args.runs} runs, medians")
    print(f"load average (1/5/15 min) before {_load(load_before)}, after {_load(load_after)}\n")
    print("| command | old s | new s | new/old | old MB | new MB | new/old |")
    print("| --- | ---: | ---: | ---: | ---: | ---: | ---: |")
    for case in CASES:
        old = [statistics.median(x) for x in zip(*samples[case, "old"], strict=True)]
        new = [statistics.median(x) for x in zip(*samples[case, "new"], strict=True)]
        print(
            f"| `{case}` | {old[0]:.2f} | {new[0]:.2f} | {new[0] / old[0]:.2f} "
            f"| {old[1]:.0f} | {new[1]:.0f} | {new[1] / old[1]:.2f} |"
        )


def _load(avg: tuple[float, float, float]) -> str:
    return " ".join(f"{x:.2f}" for x in avg)


if __name__ == "__main__":
    main()
