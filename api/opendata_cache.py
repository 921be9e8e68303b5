"""Values kept per server process until the data they are made from changes (`Kept`): the
open-data summary and the locker registry, each computed once per version of that data.

Several server processes may share one database, so a value cannot be dropped by the process
that made the change: each process asks the database for the data's version (a cheap query
that every process can make) and recomputes only when it moved. At 50,000 lockers the summary
takes 0.4 s to compute; recomputed on every request, 20 requests a second kept a core busy.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Hashable
from dataclasses import dataclass
from typing import Generic, TypeVar

from starlette.datastructures import State

T = TypeVar("T")


@dataclass
class _Entry(Generic[T]):
    version: Hashable
    value: T
    checked: float  # time.monotonic() when `version` was last found current


class Kept(Generic[T]):
    """One value and the version of the data it was computed from, thread-safe."""

    def __init__(self) -> None:
        self._entry: _Entry[T] | None = None
        self._computing = threading.Lock()

    def get(
        self,
        version: Callable[[], Hashable],
        compute: Callable[[], T],
        *,
        trust_s: float = 0.0,
    ) -> T:
        """The value as of ``version()``: the kept one while that is the version it was
        computed at, else ``compute()``'s, kept in its place. Within ``trust_s`` seconds of
        the last time the version was found current, it is not even asked. One thread
        computes at a time, and the requests that waited for it take its value rather than
        compute it again (20 requests a second would otherwise start a 0.4 s computation
        each, all slowed by the others): theirs may miss a change committed while they
        waited, and the next request sees it."""
        entry = self._entry
        if entry is not None and time.monotonic() - entry.checked < trust_s:
            return entry.value
        current = version()
        if entry is not None and entry.version == current:
            entry.checked = time.monotonic()
            return entry.value
        with self._computing:
            if self._entry is entry:  # nobody computed it while this thread waited
                self._entry = _Entry(current, compute(), time.monotonic())
            return self._entry.value


_MAKING = threading.Lock()


def kept_on(state: State, name: str) -> Kept:
    """The app's `Kept` called ``name`` (in ``app.state``), made on first use."""
    with _MAKING:
        found = getattr(state, name, None)
        if found is None:
            found = Kept()
            setattr(state, name, found)
        return found
