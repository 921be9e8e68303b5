"""Routing engines behind one interface, so `routing.solve` can pick or race them.

Each engine is a module `routing.engines.<name>_engine` with two functions:

- `supports(problem) -> tuple[bool, str]`: whether the engine handles every part of the problem,
  and why not (or why it fits) in one line;
- `solve(problem, *, time_limit_s, seed, progress, should_stop) -> Solution`: a plan built with
  `routing.solution.build_solution`, never exceeding the time limit by more than start-up time.

`progress`, when given, is called with a `Progress` now and then during the search (new best
plans), so a long solve can show how it goes. `should_stop`, when given, is asked at the same
moments (and between phases) whether to end the search now: a job whose owner cancelled it
stops within a plan or two instead of at its time limit; the tasks its plan had not served by
then are left out with the reason `STOPPED`.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from dataclasses import dataclass
from types import ModuleType

from network.errors import GongpeiError

ENGINES = ("ortools", "pyvrp")


@dataclass(frozen=True)
class Progress:
    """A search update: which engine, seconds since it started, best cost so far."""

    engine: str
    elapsed_s: float
    cost: float | None
    message: str = ""


ProgressCallback = Callable[[Progress], None]
#: Whether the caller wants the search to end now (e.g. its job was cancelled).
ShouldStop = Callable[[], bool]
STOPPED = "the solve was stopped before its plan served this task"
#: Every task's reason where OR-Tools found no plan at all within its limit.
NO_PLAN_IN_TIME = "no plan found within the time limit"


class EngineError(GongpeiError):
    """An unknown engine, or one that cannot handle the problem it was asked to solve."""


def get_engine(name: str) -> ModuleType:
    """The engine module by name ("ortools", "pyvrp"), imported on first use."""
    if name not in ENGINES:
        raise EngineError(f"engine: unknown engine '{name}' (choose from {', '.join(ENGINES)})")
    try:
        return importlib.import_module(f"routing.engines.{name}_engine")
    except ModuleNotFoundError as err:
        if err.name == f"routing.engines.{name}_engine":
            raise EngineError(f"engine: the {name} engine is not available yet") from None
        raise
