"""Locker siting: where to put self-pickup lockers and how big, solved exactly where possible."""

from routing.siting.model import (
    CompartmentSize,
    SitingInstance,
    SitingModel,
    Sizing,
    make_reach,
)
from routing.siting.solution import SitingSolution
from routing.siting.solve import solve

__all__ = [
    "CompartmentSize",
    "SitingInstance",
    "SitingModel",
    "SitingSolution",
    "Sizing",
    "make_reach",
    "solve",
]
