"""A siting run's progress and its time: the stages its search reports as it goes (a job's
progress, a command's display), and what the run's time limit leaves the search once the
instance is built. The limit covers the whole run: walking catchments of 50,000 demand points
and 10,000 candidates took seconds before a search that then took the whole limit, so a run
asked for 30 s ended well past it (1.8x on the audit's machine)."""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from dataclasses import dataclass

from routing.siting.errors import SitingInputError

#: A search's stages in their order: the start plan (with the model's formulation), the
#: bound, the exact search (where the bound did not settle it), the end. The walking
#: catchments come before them all, in the caller's time (``solve``'s ``spent_s``).
STAGES = ("heuristic", "bound", "exact", "done")
#: The least a search gets of a run's limit, however long the catchments took: this share of
#: it, and at least SEARCH_FLOOR_S (the whole limit where that is less): a search cut to
#: nothing would end with the greedy start plan and no bound at all.
SEARCH_FLOOR_SHARE = 0.1
SEARCH_FLOOR_S = 1.0
#: Catchments taking more than this share of the limit are warned of with the plan.
MOST_OF_THE_LIMIT = 0.5
#: Seconds a plan takes to write out, per demand point (`output_seconds`): its JSON and
#: GeoJSON took 0.06-0.1 ms a point at 5,000 points, 0.24-0.47 ms at 50,000 on two cores
#: under a load of 19-21 (there 12-23 s, which a run of 30 s had ended past its limit).
OUTPUT_S_PER_POINT = 1e-4


@dataclass(frozen=True)
class SitingProgress:
    """Where a run is: its stage (`STAGES`), the seconds since it began (the time spent before
    the search included, ``solve``'s ``spent_s``), and where known the best plan's objective,
    the bound on the optimum and their relative gap (on a stage's entry: what the stages
    before it found)."""

    stage: str
    elapsed_s: float
    value: float | None = None
    bound: float | None = None
    gap: float | None = None


SitingProgressCallback = Callable[[SitingProgress], None]


class Reporter:
    """Hands a run's stages to ``callback`` (None: to nobody), timed from the run's start,
    ``spent_s`` before this reporter was made; a gap that is not finite is told as None."""

    def __init__(self, callback: SitingProgressCallback | None, spent_s: float = 0.0) -> None:
        self.callback = callback
        self.began = time.perf_counter() - spent_s

    def __call__(
        self,
        stage: str,
        value: float | None = None,
        bound: float | None = None,
        gap: float | None = None,
    ) -> None:
        if self.callback is None:
            return
        gap = gap if gap is not None and math.isfinite(gap) else None
        elapsed = time.perf_counter() - self.began
        self.callback(SitingProgress(stage, elapsed, value, bound, gap))


def search_time(
    time_limit_s: float, spent_s: float, keep_s: float = 0.0
) -> tuple[float, str | None]:
    """The seconds a run's search gets of ``time_limit_s`` once ``spent_s`` went on building
    its instance (the walking catchments), less ``keep_s`` kept back for writing its plan out
    (`output_seconds`), at least its floor (``SEARCH_FLOOR_SHARE``), and the warning to keep
    with the plan where the instance took most of the limit. A limit that is not a number
    > 0 is left to ``solve``'s own check."""
    for name, seconds in (("spent_s", spent_s), ("keep_s", keep_s)):
        if not (math.isfinite(seconds) and seconds >= 0):
            raise SitingInputError(f"{name} must be a number of seconds >= 0, got {seconds}")
    if not time_limit_s > 0:
        return time_limit_s, None
    floor = min(time_limit_s, max(SEARCH_FLOOR_S, SEARCH_FLOOR_SHARE * time_limit_s))
    left = max(floor, time_limit_s - spent_s - keep_s)
    if spent_s <= MOST_OF_THE_LIMIT * time_limit_s:
        return left, None
    over = left > time_limit_s - spent_s - keep_s
    return left, (
        f"time limit: {spent_s:.1f} s of the run's {time_limit_s:g} s went before its search "
        "(the points read, their walking catchments, the search started), which the limit "
        f"covers too: the search had {left:.1f} s"
        + (" (its floor: the run ends past its limit)" if over else "")
        + "; give a longer time limit or a smaller radius"
    )


def output_seconds(demand_points: int) -> float:
    """About how long a plan of ``demand_points`` takes to write out (``to_dict`` and
    ``to_geojson`` or ``to_layers``, its assignment and catchment lines: `OUTPUT_S_PER_POINT`
    each), kept back from the search by a run whose limit covers it."""
    return OUTPUT_S_PER_POINT * demand_points
