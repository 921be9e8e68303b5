"""A SIGTERM (a job scheduler's stop, `kill`, a container stopping) ends a command as Ctrl-C
does: by unwinding through its clean-up, so the temporary files and folders its outputs are
staged in are removed. Python's default for SIGTERM ends the process on the spot."""

from __future__ import annotations

import contextlib
import signal
from collections.abc import Iterator


@contextlib.contextmanager
def terminable() -> Iterator[None]:
    """Within the block a SIGTERM exits with the shell's code for it (143) by unwinding. Left
    behind were a matrix's temp file beside --out (6.4 GB at 20,000 points), a graph's temp
    folder (36 MB at 100,000 nodes) and `pool`'s and `demo`'s hidden staging folders, which
    made an empty output folder read as "not empty" to the next run."""
    previous = signal.signal(signal.SIGTERM, _exit_on_signal)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)


def _exit_on_signal(signum: int, _frame: object) -> None:
    """Exit with the shell's code for the signal, unwinding (and so cleaning up) as it goes."""
    raise SystemExit(128 + signum)
