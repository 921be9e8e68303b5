"""Common distribution: pool several firms' parcels, drop them at lockers, split the savings."""

from routing.pooling.compare import DayResult, SolveSettings, compare_day
from routing.pooling.day import Day, parse_day, read_day
from routing.pooling.errors import PoolingError
from routing.pooling.output import write_outputs
from routing.pooling.shapley import shapley
from routing.pooling.travel import day_travel

__all__ = [
    "Day",
    "DayResult",
    "PoolingError",
    "SolveSettings",
    "compare_day",
    "day_travel",
    "parse_day",
    "read_day",
    "shapley",
    "write_outputs",
]
