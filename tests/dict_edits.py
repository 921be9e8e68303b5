"""`changed`: a deep copy of a JSON-like body with one value replaced, for bad-input tests.

Shared by the strict-input tests of the problem readers, API batches and siting bodies (each
had its own copy); importable as `dict_edits` because the root conftest puts tests/ on the path.
"""

from __future__ import annotations

import copy
from typing import Any


def changed(data: Any, path: tuple, value: object) -> Any:
    """A deep copy of ``data`` with the value at ``path`` (keys and list indices) replaced."""
    data = copy.deepcopy(data)
    if not path:
        return value
    node = data
    for key in path[:-1]:
        node = node[key]
    node[path[-1]] = value
    return data
