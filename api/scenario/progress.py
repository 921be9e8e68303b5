"""Progress bars for a scenario run's long steps (rich, on stderr), or nothing with --quiet."""

import contextlib
import logging
import time
from collections.abc import Callable, Iterator

from rich.console import Console
from rich.progress import BarColumn, Progress, SpinnerColumn, TextColumn, TimeElapsedColumn

log = logging.getLogger("gongpei.scenario")

Advance = Callable[..., None]


class StageProgress:
    """Shows one bar per stage; ``quiet`` keeps stderr to warnings and errors only."""

    def __init__(self, *, quiet: bool = False, console: Console | None = None) -> None:
        self.quiet = quiet
        self._progress = None
        if not quiet:
            self._progress = Progress(
                SpinnerColumn(),
                TextColumn("{task.description}"),
                BarColumn(),
                TextColumn("{task.completed:.0f}/{task.total:.0f}"),
                TimeElapsedColumn(),
                console=console or Console(stderr=True),
                transient=False,
            )

    def __enter__(self) -> "StageProgress":
        if self._progress is not None:
            self._progress.start()
        return self

    def __exit__(self, *exc: object) -> None:
        if self._progress is not None:
            self._progress.stop()

    @contextlib.contextmanager
    def step(self, description: str, total: float = 1) -> Iterator[Advance]:
        """A bar for one step; the body calls ``advance(n, doing)`` as work gets done, where
        ``doing`` (optional) says what comes next, shown beside the step's description."""
        started = time.perf_counter()
        log.debug("%s ...", description)
        if self._progress is None:
            yield lambda _n=1, _doing=None: None
            return
        task = self._progress.add_task(description, total=total)

        def advance(n: float = 1, doing: str | None = None) -> None:
            self._progress.advance(task, n)
            if doing:
                self._progress.update(task, description=f"{description}: {doing}")

        try:
            yield advance
        finally:
            self._progress.update(task, completed=total, description=description)
            log.debug("%s took %.1f s", description, time.perf_counter() - started)
