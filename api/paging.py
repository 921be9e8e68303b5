"""Opaque keyset cursors: the sort key of the last item of a page, as URL-safe base64 JSON."""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

from pydantic_core import to_json
from sqlalchemy import Select, and_, or_
from sqlalchemy.orm import InstrumentedAttribute

from api.deps import unprocessable


class BadCursorError(ValueError):
    """A paging cursor this API did not issue (or issued for another query). The message says
    only that: what failed in reading it (a codec, a date parser) means nothing to a client."""

    def __init__(self, message: str = "not a cursor issued by this API") -> None:
        super().__init__(message)


def encode_cursor(values: list[Any]) -> str:
    raw = to_json(values)  # pydantic-core: compact, floats in shortest round-trip form
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_cursor(cursor: str, length: int) -> list[Any]:
    """The values encoded in `cursor`; BadCursorError unless it is a list of `length`."""
    try:
        values = json.loads(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)))
    except (binascii.Error, ValueError, UnicodeDecodeError) as err:
        raise BadCursorError from err
    if not isinstance(values, list) or len(values) != length:
        raise BadCursorError
    return values


def newest_first(
    query: Select,
    *,
    created: InstrumentedAttribute,
    ident: InstrumentedAttribute,
    cursor: str | None,
    limit: int,
) -> Select:
    """``query`` newest first (``created``, then ``ident``, descending) from after the item the
    cursor names, one row more than ``limit`` (to tell whether a next page exists). A cursor
    this API did not issue is a 422 on ``cursor``."""
    if cursor is not None:
        try:
            at, last_id = _newest_key(cursor)
        except BadCursorError as err:
            raise unprocessable(["query", "cursor"], str(err)) from err
        query = query.where(or_(created < at, and_(created == at, ident < last_id)))
    return query.order_by(created.desc(), ident.desc()).limit(limit + 1)


def _newest_key(cursor: str) -> tuple[datetime, str]:
    """The (created, id) a ``next_cursor`` names, the time in UTC. Checked here, not left to
    the query: the database layer stores UTC, and a time whose offset takes it past the years
    1-9999 (OverflowError) or an id holding a NUL (PostgreSQL text) would fail there as a 500
    or as a 422 on no field."""
    at, last_id = decode_cursor(cursor, 2)
    try:
        at = datetime.fromisoformat(at)
        utc = at.astimezone(UTC)
    except (TypeError, ValueError, OverflowError) as err:
        raise BadCursorError from err
    if at.tzinfo is None or not isinstance(last_id, str) or "\x00" in last_id:
        raise BadCursorError
    return utc, last_id


def next_cursor(rows: Sequence[Any], limit: int) -> str | None:
    """The cursor of the page after ``rows`` (fetched by ``newest_first``), None at the end;
    each row has ``created_at`` and ``id``."""
    if len(rows) <= limit:
        return None
    last = rows[limit - 1]
    return encode_cursor([last.created_at.isoformat(), last.id])


def in_id_order(
    query: Select, *, ident: InstrumentedAttribute, cursor: str | None, limit: int
) -> Select:
    """``query`` by ``ident`` ascending (a public list whose rows are only added, so a page
    once read never changes) from after the id the cursor names, one row more than ``limit``
    (`next_id_cursor`). A cursor this API did not issue is a 422 on ``cursor``."""
    if cursor is not None:
        last_id = after_id(cursor)
        # ids are the databases' 32-bit INTEGERs: a larger one would fail in the query
        if not 0 <= last_id < 2**31:
            raise unprocessable(["query", "cursor"], str(BadCursorError()))
        query = query.where(ident > last_id)
    return query.order_by(ident).limit(limit + 1)


def after_id(cursor: str) -> int:
    """The id a page by id's cursor (`next_id_cursor`) names: any whole number; a cursor this
    API did not issue is a 422 on ``cursor``."""
    try:
        (last_id,) = decode_cursor(cursor, 1)
    except BadCursorError as err:
        raise unprocessable(["query", "cursor"], str(err)) from err
    if type(last_id) is not int:
        raise unprocessable(["query", "cursor"], str(BadCursorError()))
    return last_id


def next_id_cursor(rows: Sequence[Any], limit: int) -> str | None:
    """The cursor of the page after ``rows`` (fetched by `in_id_order`), None at the end; each
    row has an integer ``id``."""
    return encode_cursor([rows[limit - 1].id]) if len(rows) > limit else None
