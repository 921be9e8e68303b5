"""JSON files as every layer reads them: NaN, Infinity, -Infinity and numbers too large for a
float (1e999) are not JSON, yet Python's ``json`` reads them as nan and inf, which a capacity
took as unlimited and a coordinate as "not a coordinate". Here each becomes a ``NotJson``
that no field takes, so the field holding one refuses it by name. Kept in the lowest layer so
that network/, routing/ and api/ readers share it without importing a higher layer."""

from __future__ import annotations

import json
import math
import sys
from collections.abc import Iterator
from typing import Any

from network.errors import is_number

#: Why a field refuses a ``NotJson``.
NOT_FINITE = "must be a finite number (NaN and Infinity are not JSON)"
#: Why a field refuses an integer beyond the range of a float (``too_large``).
TOO_LARGE = "is too large for a number (at most about 1.8e308)"
_LARGEST = int(sys.float_info.max)


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


class NotFinite(ValueError):
    """What ``load_json(..., finite=True)`` raises for the first ``NotJson`` of a text:
    ``where`` is its path ("jobs[3].amount[0]") and ``reason`` why, as a field says it."""

    def __init__(self, where: str, reason: str) -> None:
        super().__init__(f"{where}: {reason}" if where else reason)
        self.where = where
        self.reason = reason


def load_json(text: str, *, finite: bool = False, unbounded: str | None = None) -> Any:
    """JSON text parsed, each NaN, Infinity, -Infinity or number too large for a float as a
    ``NotJson``. (The API refuses them in a request body before any field is read, with
    ``api.json_checks``, which stops at the first and finds its path; a file's records are
    checked field by field, which names them anyway.) Raises ``ValueError`` where the text is
    not JSON.

    ``finite=True`` is for a reader that hands the whole tree to a model whose fields would
    call a ``NotJson`` "not a valid number" (a routing problem): the first one is then a
    ``NotFinite`` naming its path. Only a text that held one is walked, so a problem's large
    matrices cost nothing more. Under the top-level key ``unbounded`` (a problem's
    ``matrices``) Infinity is kept as ``math.inf``: there it means "unreachable", as null
    does, and Python's own ``json.dump`` writes numpy's inf so."""
    if not finite:
        return json.loads(text, parse_constant=NotJson, parse_float=_finite_float)
    met: list[str] = []  # the tokens read as a NotJson

    def constant(token: str) -> NotJson:
        met.append(token)
        return NotJson(token)

    def number(token: str) -> float | NotJson:
        value = float(token)
        return value if math.isfinite(value) else constant(token)

    data = json.loads(text, parse_constant=constant, parse_float=number)
    if met and unbounded is not None and isinstance(data, dict) and unbounded in data:
        data[unbounded] = _infinity_kept(data[unbounded])
    found = not_json_in(data) if met else None
    if found is not None:
        where, value = found
        raise NotFinite(where, f"{NOT_FINITE}, got {value.token}")
    return data


def _infinity_kept(value: Any) -> Any:
    """``value`` with each positive infinity (Infinity, 1e999) read back as ``math.inf``; NaN
    and -Infinity stay ``NotJson``, to be refused."""
    if isinstance(value, NotJson):
        return math.inf if value.token != "NaN" and float(value.token) == math.inf else value
    if isinstance(value, dict):
        return {key: _infinity_kept(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_infinity_kept(item) for item in value]
    return value


def too_large(value: Any) -> bool:
    """Whether a JSON value is an integer beyond the range of a float: JSON sets no limit on
    digits and Python reads 400 of them exactly, but no float field can hold it, and it was
    refused as "must be a number", which it is."""
    return isinstance(value, int) and not isinstance(value, bool) and abs(value) > _LARGEST


def shown(value: Any) -> str:
    """A JSON value as a message quotes it, as written: an integer of hundreds of digits cut to
    its first ones and its length."""
    if too_large(value):
        digits = str(value)
        return f"{digits[:16]}... ({len(digits.lstrip('-'))} digits)"
    if isinstance(value, NotJson):
        return value.token
    return json.dumps(value, ensure_ascii=False, default=repr)


def number_problem(value: Any) -> str | None:
    """Why a JSON value is no number (text, true, null, NaN ...), or None if it is one (its
    range is the field's to check). A number given as text ("36.07") is refused: JSON says
    numbers as numbers, and reading text as one hid a column written as text by mistake. An
    integer too large for a float is said to be so (``too_large``)."""
    if isinstance(value, NotJson):
        return f"{NOT_FINITE}, got {value.token}"
    if too_large(value):
        return f"{TOO_LARGE}, got {shown(value)}"
    if not is_number(value):
        return f"must be a number, got {shown(value)}"
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
