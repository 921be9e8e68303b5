"""What OR-Tools' search reports: how it ended, and its progress.

A search that ends by itself (a day of one job: no move is left to try, the search returns in
milliseconds) said `meta["stopped_by"] == "max_runtime"`, as if its limit had cut it short.
And every plan guided local search accepts was reported as a "new best plan", although many
cost more than the best so far: progress went up and down (600, 800, 600 on three jobs).
"""

from __future__ import annotations

import itertools

from routing_helpers import line_model

from routing.engines import Progress
from routing.engines.ortools_engine import solve as ortools_solve
from routing.model import Problem
from routing.solve import solve
from routing.stop import MaxRuntime, NoImprovement

CAP_S = 20.0  # far above the milliseconds a search of one job takes


def _day(jobs: int) -> Problem:
    m = line_model(jobs + 1)
    m.add_vehicle("v1", start="hub", end="hub", capacity=(100,))
    for k in range(1, jobs + 1):
        m.add_job(f"j{k}", location=k, delivery=(1,))
    return m.build()


def test_a_search_that_ends_by_itself_says_it_completed() -> None:
    solution = ortools_solve(_day(1), time_limit_s=CAP_S)
    assert solution.meta["stopped_by"] == "completed"  # was "max_runtime"
    assert not solution.unassigned


def test_completed_with_callbacks_and_through_solve() -> None:
    """The at-solution callback (progress, a stop criterion) does not change the verdict."""
    seen: list[Progress] = []
    stop = MaxRuntime(CAP_S) | NoImprovement(CAP_S / 2)
    solution = solve(_day(1), engine="ortools", stop=stop, progress=seen.append)
    assert solution.meta["stopped_by"] == "completed" and seen
    assert "ended early" not in solution.engine_reason


def test_a_search_its_limit_ends_still_says_max_runtime() -> None:
    assert ortools_solve(_day(3), time_limit_s=0.3).meta["stopped_by"] == "max_runtime"


def test_progress_reports_only_better_plans_as_new_best() -> None:
    """Each accepted plan is still told (its time moves a job's progress: told only the better
    ones, a small day's batch sat at 0 % for its whole search), with the best cost so far."""
    seen: list[Progress] = []
    ortools_solve(_day(5), time_limit_s=0.5, progress=seen.append)
    costs = [p.cost for p in seen]
    assert costs and costs[-1] == 1000  # out and back along the line
    assert all(b <= a for a, b in itertools.pairwise(costs)), costs[:10]
    news = [p.cost for p in seen if p.message == "new best plan"]
    assert all(b < a for a, b in itertools.pairwise(news)), news[:10]
    assert {p.message for p in seen} == {"new best plan", "searching"}
    assert seen[-1].elapsed_s > 0.2  # told through the search, not only at its start
