"""A SIGTERM (a job scheduler's stop, `kill`, a container stopping) ends a command as Ctrl-C
does: by unwinding through its clean-up, so the temporary files and folders its outputs are
staged in are removed. Python's default for SIGTERM ends the process on the spot.

Ctrl-C ends every command that runs in ``terminable()`` alike: one line on stderr and the
shell's code for SIGINT (130). It had been 130 without a word (typer's own) or, for a sweep,
2 with an error line, which a script took for a failed run."""

from __future__ import annotations

import contextlib
import signal
import sys
from collections.abc import Iterator


@contextlib.contextmanager
def terminable() -> Iterator[None]:
    """Within the block a SIGTERM exits with the shell's code for it (143) by unwinding. Left
    behind were a matrix's temp file beside --out (6.4 GB at 20,000 points), a graph's temp
    folder (36 MB at 100,000 nodes) and `pool`'s and `demo`'s hidden staging folders, which
    made an empty output folder read as "not empty" to the next run.

    A Ctrl-C (KeyboardInterrupt) in the block, once unwound, says so in one line on stderr,
    its own message where it has one (a sweep's says which runs it kept), and exits 130. The
    block's outputs are staged (or written after it), so by default nothing was written."""
    previous = signal.signal(signal.SIGTERM, _exit_on_signal)
    try:
        yield
    except KeyboardInterrupt as err:
        print(str(err) or "interrupted: nothing written", file=sys.stderr)
        raise SystemExit(128 + signal.SIGINT) from None
    finally:
        signal.signal(signal.SIGTERM, previous)


def _exit_on_signal(signum: int, _frame: object) -> None:
    """Exit with the shell's code for the signal, unwinding (and so cleaning up) as it goes."""
    raise SystemExit(128 + signum)
