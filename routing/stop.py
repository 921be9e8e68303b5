"""Stopping criteria for a routing solve, composed as PyVRP's `pyvrp.stop` ones are:
`solve(problem, stop=MaxRuntime(10) | NoImprovement(seconds=2))` ends at whichever comes first.

Why not PyVRP's objects themselves: one solve runs several searches (a warm start's PyVRP and
OR-Tools parts, PyVRP's second search with every task optional, a race's search in a forked
process) and a PyVRP criterion is a running clock, started by its first call. Here a criterion
is a frozen description that each search watches afresh (`Criterion.watch`), so one object
serves every search of a solve, a race's child included.

Both engines can observe time and the best plan's cost: PyVRP at each iteration, OR-Tools at
each plan its search accepts (hundreds a second on a small day, seconds apart on thousands of
tasks): nothing cheaper reaches into its search (`ortools_engine._Halt` says what was tried).
OR-Tools has no iterations of PyVRP's kind, so the plateau is counted in seconds.
The solve's `MaxRuntime` is also the budget the engines share out (a warm start gives PyVRP
most of it), so every criterion given to `routing.solve.solve` must include one.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from dataclasses import dataclass

from network.errors import GongpeiError

__all__ = [
    "Criterion",
    "MaxRuntime",
    "MultipleCriteria",
    "NoImprovement",
    "StopError",
    "Watch",
]


class StopError(GongpeiError):
    """A stopping criterion with a bad value, or one a solve cannot use (no runtime cap)."""


def _positive(field: str, value: float) -> None:
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise StopError(f"{field}: must be a number of seconds, got {value!r}")
    if not math.isfinite(value) or value <= 0:
        raise StopError(f"{field}: must be positive and finite, got {value}")


class Criterion:
    """A stopping criterion; `a | b` stops at whichever of the two fires first."""

    def __or__(self, other: Criterion) -> MultipleCriteria:
        if not isinstance(other, Criterion):
            return NotImplemented
        return MultipleCriteria((*self.parts(), *other.parts()))

    def parts(self) -> tuple[Criterion, ...]:
        """The single criteria this one is made of (itself, unless it combines several)."""
        return (self,)

    @property
    def max_runtime_s(self) -> float | None:
        """The earliest `MaxRuntime` among its parts: the solve's time limit (None: none)."""
        caps = [c.seconds for c in self.parts() if isinstance(c, MaxRuntime)]
        return min(caps) if caps else None

    def watch(self, *, clock: Callable[[], float] = time.monotonic) -> Watch:
        """A fresh watch of this criterion for one search, its clocks starting now."""
        return Watch(self.parts(), clock)


@dataclass(frozen=True)
class MaxRuntime(Criterion):
    """Stop once the search has run `seconds`."""

    seconds: float

    def __post_init__(self) -> None:
        _positive("MaxRuntime.seconds", self.seconds)


@dataclass(frozen=True)
class NoImprovement(Criterion):
    """Stop once no better plan has turned up for `seconds` since the last one: a plateau. It
    counts from the search's first plan (a PyVRP search still without one that serves every
    task is left to its own rules), and is checked whenever the engine reports, so it fires
    late, never early, where an engine reports seldom (OR-Tools between plans: at most 0.34 s
    late on days of 10-50 stops, seconds on thousands of tasks)."""

    seconds: float

    def __post_init__(self) -> None:
        _positive("NoImprovement.seconds", self.seconds)


@dataclass(frozen=True)
class MultipleCriteria(Criterion):
    """Stop once any of `criteria` fires (what `a | b` builds)."""

    criteria: tuple[Criterion, ...]

    def __post_init__(self) -> None:
        if not self.criteria:
            raise StopError("MultipleCriteria.criteria: needs one criterion or more, got none")
        for c in self.criteria:
            if not isinstance(c, Criterion):
                raise StopError(f"MultipleCriteria.criteria: {c!r} is not a stopping criterion")

    def parts(self) -> tuple[Criterion, ...]:
        return tuple(p for c in self.criteria for p in c.parts())


#: The name `Watch.fired` and a solution's `meta["stopped_by"]` give each criterion.
NAMES: dict[type[Criterion], str] = {MaxRuntime: "max_runtime", NoImprovement: "no_improvement"}


class Watch:
    """One search's view of a criterion, called with the best cost so far (in the engine's
    own unit; `math.inf` while the search has no plan) at each iteration or plan: True once
    it should stop, `fired` then naming the criterion (`NAMES`)."""

    def __init__(self, parts: tuple[Criterion, ...], clock: Callable[[], float]) -> None:
        for part in parts:  # refused before a search starts, not inside an engine's callback
            if type(part) not in NAMES:
                raise StopError(
                    f"stop: {type(part).__name__} is not a criterion the engines can watch "
                    f"(they watch {', '.join(c.__name__ for c in NAMES)})"
                )
        self._parts = parts
        self._clock = clock
        self._began = clock()
        self._best = math.inf
        self._improved: float | None = None  # when the best cost last went down
        self.fired: str | None = None

    def __call__(self, best_cost: float) -> bool:
        now = self._clock()
        if best_cost < self._best:
            self._best, self._improved = best_cost, now
        for part in self._parts:
            if self._fires(part, now):
                self.fired = NAMES[type(part)]
                return True
        return False

    def _fires(self, part: Criterion, now: float) -> bool:
        if isinstance(part, MaxRuntime):
            return now - self._began >= part.seconds
        assert isinstance(part, NoImprovement)  # the only other kind `__init__` lets in
        return self._improved is not None and now - self._improved >= part.seconds
