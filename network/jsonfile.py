"""JSON files as every layer reads them: NaN, Infinity, -Infinity and numbers too large for a
float (1e999) are not JSON, yet Python's ``json`` reads them as nan and inf, which a capacity
took as unlimited and a coordinate as "not a coordinate". Here each becomes a ``NotJson``
that no field takes, so the field holding one refuses it by name. Kept in the lowest layer so
that network/, routing/ and api/ readers share it without importing a higher layer."""

from __future__ import annotations

import json
import math
from collections.abc import Iterator
from typing import Any

from network.errors import is_number

#: Why a field refuses a ``NotJson``.
NOT_FINITE = "must be a finite number (NaN and Infinity are not JSON)"


class NotJson:
    """What ``load_json`` reads NaN, Infinity, -Infinity or a number too large for a float as.
    Shown as written (its ``repr`` is the token), so a message quotes the file."""

    __slots__ = ("token",)

    def __init__(self, token: str) -> None:
        self.token = token

    def __repr__(self) -> str:
        return self.token


def _finite_float(token: str) -> float | NotJson:
    value = float(token)
    return value if math.isfinite(value) else NotJson(token)


def load_json(text: str) -> Any:
    """JSON text parsed, each NaN, Infinity, -Infinity or number too large for a float as a
    ``NotJson``. (The API refuses them in a request body before any field is read, with
    ``api.json_checks``, which stops at the first and finds its path; a file's records are
    checked field by field, which names them anyway.) Raises ``ValueError`` where the text is
    not JSON."""
    return json.loads(text, parse_constant=NotJson, parse_float=_finite_float)


def number_problem(value: Any) -> str | None:
    """Why a JSON value is no number (text, true, null, NaN ...), or None if it is one (its
    range is the field's to check). A number given as text ("36.07") is refused: JSON says
    numbers as numbers, and reading text as one hid a column written as text by mistake."""
    if isinstance(value, NotJson):
        return f"{NOT_FINITE}, got {value.token}"
    if not is_number(value):
        return f"must be a number, got {json.dumps(value, ensure_ascii=False, default=repr)}"
    return None


def not_json_in(value: Any, where: str = "") -> tuple[str, NotJson] | None:
    """The first ``NotJson`` inside a parsed value and its path ("coordinates[0][2][1]"), or
    None: for members whose fields are not checked one by one (a geometry's coordinates)."""
    return next(_not_json(value, where), None)


def _not_json(value: Any, where: str) -> Iterator[tuple[str, NotJson]]:
    if isinstance(value, NotJson):
        yield where, value
    elif isinstance(value, dict):
        for key, item in value.items():
            yield from _not_json(item, f"{where}.{key}" if where else str(key))
    elif isinstance(value, list):
        for index, item in enumerate(value):
            yield from _not_json(item, f"{where}[{index}]")
