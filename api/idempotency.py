"""`Idempotency-Key` on the job submissions (`POST /v1/batches`, `/v1/siting-runs`,
`/v1/pool-runs`): a client that retries after a timeout or a 503 gets the job its first
request made, not a second job counted in its quota and solved twice.

As the IETF httpapi draft (draft-ietf-httpapi-idempotency-key-header) and Stripe do it: the
key is the client's (a UUID, say), kept per firm (another firm's same key is another key) for
`RETENTION`. A request whose key is new is processed and, once its job is queued, the key
names that job; a retry with the same key, path and body is answered as the first was (202,
the same job id; `Idempotent-Replayed: true`); the same key with another body or path is a
422; a retry while the first is still being checked is a 409 with `Retry-After`. A request
that made no job (a 422 for a bad field, the quota's 429, a 503) leaves no key behind: the
client corrects it and may send it again under the same key, as the draft asks.

Exactly one job per key, also with requests at once through several server processes: the
request holds the key (a row with its `token`) in a transaction of its own before checking
the body, so a retry finds it held; the job is made in a transaction that also writes its id
on the key, only while the key is still that request's. A hold whose request died (a killed
server) lapses after `HOLD`: a later retry takes it over, and the first request, if it was
only slow, then finds the key no longer its own and makes no job.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Callable
from contextlib import suppress
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Annotated, Any

from fastapi import Header, HTTPException, Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel
from sqlalchemy import ColumnElement, delete, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session

from api.db.engine import Database
from api.db.models import IdempotencyKey, new_id, utcnow
from api.deps import unprocessable
from api.schemas.common import ErrorBody
from api.schemas.jobs import JobAccepted

KEY_HEADER = "Idempotency-Key"
#: On an answer given again for a retry (as Stripe names it).
REPLAYED_HEADER = "Idempotent-Replayed"
#: How long a key names its job; a key sent again later makes a new job.
RETENTION = timedelta(hours=24)
#: How long a request holds a key before its job is made; a hold older than this is taken
#: to be a dead request's. Checking a 3,000-stop batch (the largest) took 3.2 s.
HOLD = timedelta(seconds=60)
#: Seconds a retry that found the key held is told to wait.
RETRY_AFTER_S = 2
MAX_KEY_LENGTH = 255
#: A key's characters: a UUID, ULID, hex, base64 or base64url string fits. No quote, no
#: backslash, so an RFC 8941 string (the draft's form, in double quotes) needs no escapes.
KEY_CHARS = "A-Za-z0-9._~:+/=-"
_KEY = re.compile(f"[{KEY_CHARS}]{{1,{MAX_KEY_LENGTH}}}")

KEY_DESCRIPTION = (
    "Makes the submission safe to retry: a random key of the client's (a UUID), at most "
    f"{MAX_KEY_LENGTH} letters, digits or `-_.:~+/=`, in double quotes as the IETF draft "
    'writes it (`"8e03978e-40d5-43e8-bc93-6894a57f9324"`) or bare. Within '
    f"{RETENTION.total_seconds() / 3600:g} h, a request with the same key, path and body is "
    "answered as the first was (202 with the same job id, and `Idempotent-Replayed: true`), "
    "and no second job is made; the same key with another body or path is a 422; a request "
    f"arriving while the first is still being checked is a 409 (retry after {RETRY_AFTER_S} "
    "s). A request that made no job (a 422, 429 or 503) keeps no key. Keys are the calling "
    "firm's own: another firm's same key is another key."
)
#: The draft's form of the header, and the bare one Stripe's clients send.
KEY_PATTERN = f'^(?:"[{KEY_CHARS}]{{1,{MAX_KEY_LENGTH}}}"|[{KEY_CHARS}]{{1,{MAX_KEY_LENGTH}}})$'

#: OpenAPI `responses` of an operation taking the key, beside its other errors.
RESPONSES: dict[int | str, dict[str, Any]] = {
    202: {
        "description": "Accepted: the job is queued; poll its status. A retry with the same "
        f"Idempotency-Key gets this answer again, with the same job id and `{REPLAYED_HEADER}: "
        "true` (no new job was made).",
        "headers": {
            REPLAYED_HEADER: {
                "description": "`true` on an answer given again for a retry with the same "
                "Idempotency-Key (no new job was made); absent on the first answer.",
                "required": False,
                "schema": {"type": "string", "enum": ["true"]},
            }
        },
    },
    409: {
        "model": ErrorBody,
        "description": "A request with the same Idempotency-Key is still being processed: "
        "retry after `Retry-After` seconds (no change needed).",
        "headers": {
            "Retry-After": {
                "description": "Seconds to wait before retrying.",
                "required": True,
                "schema": {"type": "integer", "minimum": 1, "examples": [RETRY_AFTER_S]},
            }
        },
    },
    422: {
        "model": ErrorBody,
        "description": "A field is wrong (`loc` names it), or the Idempotency-Key was used "
        'with another body or path (`loc` is `["header", "Idempotency-Key"]`).',
    },
}


@dataclass(frozen=True)
class RequestKey:
    """A request's idempotency key (unquoted) and the path it was sent to."""

    key: str
    path: str


def request_key(
    request: Request,
    idempotency_key: Annotated[
        str | None,
        Header(
            alias=KEY_HEADER,
            description=KEY_DESCRIPTION,
            examples=['"8e03978e-40d5-43e8-bc93-6894a57f9324"'],
            json_schema_extra={"pattern": KEY_PATTERN},
        ),
    ] = None,
) -> RequestKey | None:
    """The request's `Idempotency-Key` (a dependency), None where it sends none; a 422 for a
    key out of form or sent twice (the draft allows one)."""
    if idempotency_key is None:
        return None
    if len(request.headers.getlist(KEY_HEADER)) > 1:
        raise unprocessable(["header", KEY_HEADER], "given more than once; send one key")
    return RequestKey(parse_key(idempotency_key), request.url.path)


def parse_key(value: str) -> str:
    """The key in a header value: an RFC 8941 string (`"..."`) or the bare key."""
    quoted = len(value) >= 2 and value[0] == value[-1] == '"'
    key = value[1:-1] if quoted else value
    if _KEY.fullmatch(key):
        return key
    if not key:
        why = "it is empty"
    elif len(key) > MAX_KEY_LENGTH:
        why = f"it has {len(key):,}"
    else:
        why = f"{next(c for c in key if not _KEY.fullmatch(c))!r} is none of them"
    raise unprocessable(
        ["header", KEY_HEADER],
        f"1 to {MAX_KEY_LENGTH} letters, digits or -_.:~+/= (a UUID, say), optionally in "
        f"double quotes; {why}",
    )


def fingerprint(body: BaseModel) -> str:
    """SHA-256 of the body as read (its fields, defaults filled in, in key order): the same
    request sent again with its members in another order or spacing is the same request."""
    text = json.dumps(
        body.model_dump(mode="json"), sort_keys=True, separators=(",", ":"), ensure_ascii=False
    )
    return hashlib.sha256(text.encode()).hexdigest()


#: Writes the job's id on its key, in the job's own transaction (`queue.submit`'s `also`).
Attach = Callable[[Session, str], None]


class LostHold(Exception):
    """The key is no longer this request's: a retry took over its lapsed hold."""


def once(
    db: Database,
    key: RequestKey | None,
    *,
    firm_id: int,
    body: BaseModel,
    submit: Callable[[Attach], dict[str, Any]],
) -> dict[str, Any] | JSONResponse:
    """``submit``'s answer (it queues the job, passing the `Attach` it is given to
    `queue.submit`), made at most once per firm and key: a retry of a request that made a
    job gets that job's 202 again. Without a key, ``submit`` runs as it is."""
    if key is None:
        return submit(_no_key)
    token = new_id()
    made = _claim(db, key, firm_id, fingerprint(body), token)
    if made is not None:
        return replayed(made)
    try:
        return submit(lambda session, job_id: _attach(session, key, firm_id, token, job_id))
    except LostHold:
        return _taken_over(db, key, firm_id)
    except BaseException:
        _release(db, key, firm_id, token)
        raise


def replayed(job_id: str) -> JSONResponse:
    """The first request's answer, given again."""
    body = JobAccepted(id=job_id, status="queued").model_dump()
    return JSONResponse(body, status_code=202, headers={REPLAYED_HEADER: "true"})


def _no_key(_session: Session, _job_id: str) -> None:
    return None


def _row(key: RequestKey, firm_id: int) -> tuple[ColumnElement[bool], ...]:
    """The key's row: the firm's, by its key."""
    return (IdempotencyKey.firm_id == firm_id, IdempotencyKey.key == key.key)


def _held(key: RequestKey, firm_id: int, token: str) -> tuple[ColumnElement[bool], ...]:
    """The key's row while this request (``token``) holds it and no job is named on it."""
    return (*_row(key, firm_id), IdempotencyKey.token == token, IdempotencyKey.job_id.is_(None))


def _claim(db: Database, key: RequestKey, firm_id: int, print_: str, token: str) -> str | None:
    """Hold the key for this request (None), or the job a first request with it made; a 422
    where that request was another, a 409 while it is still being processed. The row is
    inserted unless there (PostgreSQL waits for a concurrent insert of it to commit), then
    read locked, so requests at once decide one after the other."""
    with db.writing() as session:
        now = utcnow()
        fresh = {"path": key.path, "fingerprint": print_, "token": token, "job_id": None,
                 "created_at": now, "claimed_at": now}  # fmt: skip
        dialect = {"postgresql": postgresql, "sqlite": sqlite}[session.get_bind().dialect.name]
        session.execute(
            dialect.insert(IdempotencyKey)
            .values(firm_id=firm_id, key=key.key, **fresh)
            .on_conflict_do_nothing(index_elements=["firm_id", "key"])
        )
        row = session.scalars(
            select(IdempotencyKey).where(*_row(key, firm_id)).with_for_update()
        ).one()
        if row.token == token:
            return None
        if row.created_at < now - RETENTION:  # an expired key not pruned yet: a new request
            _take(row, **fresh)
            return None
        if row.path != key.path or row.fingerprint != print_:
            raise unprocessable(["header", KEY_HEADER], _other_request(key, row))
        if row.job_id is not None:
            return row.job_id
        if row.claimed_at >= now - HOLD:
            raise _in_progress(key)
        _take(row, token=token, claimed_at=now)  # its request died: this one goes on
        return None


def _take(row: IdempotencyKey, **values: Any) -> None:
    for name, value in values.items():
        setattr(row, name, value)


def _other_request(key: RequestKey, row: IdempotencyKey) -> str:
    where = "another body" if row.path == key.path else f"POST {row.path}"
    return (
        f"key '{key.key}' was used within {RETENTION.total_seconds() / 3600:g} h for "
        f"{where}: a new request needs a new key"
    )


def _in_progress(key: RequestKey) -> HTTPException:
    return HTTPException(
        409,
        f"a request with Idempotency-Key '{key.key}' is still being processed; retry in "
        f"{RETRY_AFTER_S} s",
        {"Retry-After": str(RETRY_AFTER_S)},
    )


def _attach(session: Session, key: RequestKey, firm_id: int, token: str, job_id: str) -> None:
    """Name ``job_id`` on the key while this request still holds it; else `LostHold`, which
    rolls the job back with the transaction making it."""
    named = session.execute(
        update(IdempotencyKey).where(*_held(key, firm_id, token)).values(job_id=job_id)
    )
    if named.rowcount != 1:
        raise LostHold(key.key)


def _taken_over(db: Database, key: RequestKey, firm_id: int) -> JSONResponse:
    """The answer of a request whose lapsed hold a retry took over: that retry's job, or a
    409 while it is still being processed (this request made no job)."""
    with db.reading() as session:
        job_id = session.scalar(select(IdempotencyKey.job_id).where(*_row(key, firm_id)))
    if job_id is None:
        raise _in_progress(key)
    return replayed(job_id)


def _release(db: Database, key: RequestKey, firm_id: int, token: str) -> None:
    """Let go of a key whose request made no job, so that the corrected request may use it.
    Where the database cannot be reached the hold lapses after `HOLD` instead."""
    with suppress(SQLAlchemyError), db.writing() as session:
        session.execute(delete(IdempotencyKey).where(*_held(key, firm_id, token)))


def expired(now: datetime) -> ColumnElement[bool]:
    """The keys no longer honoured at ``now`` (for `api.housekeeping.prune`)."""
    return IdempotencyKey.created_at < now - RETENTION
