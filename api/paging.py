"""Opaque keyset cursors: the sort key of the last item of a page, as URL-safe base64 JSON."""

from __future__ import annotations

import base64
import binascii
import json
from typing import Any

from pydantic_core import to_json


class BadCursorError(ValueError):
    """A paging cursor this API did not issue (or issued for another query)."""


def encode_cursor(values: list[Any]) -> str:
    raw = to_json(values)  # pydantic-core: compact, floats in shortest round-trip form
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_cursor(cursor: str, length: int) -> list[Any]:
    """The values encoded in `cursor`; BadCursorError unless it is a list of `length`."""
    try:
        values = json.loads(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)))
    except (binascii.Error, ValueError, UnicodeDecodeError) as err:
        raise BadCursorError(f"not a cursor issued by this API ({err})") from err
    if not isinstance(values, list) or len(values) != length:
        raise BadCursorError("not a cursor issued by this API")
    return values
