"""SQLAlchemy 2 models of the platform: firms and keys, centres, lockers, reservations, jobs
and the idempotency keys of their submissions."""

from __future__ import annotations

import unicodedata
import uuid
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import (
    JSON,
    CheckConstraint,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    event,
    text,
)
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import (
    DeclarativeBase,
    Mapped,
    Session,
    mapped_column,
    relationship,
    validates,
)
from sqlalchemy.types import TypeDecorator

ROLES = ("firm", "planner", "admin")
SIZES = ("S", "M", "L")
COMPARTMENT_STATUSES = ("free", "reserved", "occupied", "out_of_service")
RESERVATION_STATES = ("reserved", "deposited", "picked_up", "expired", "cancelled")
#: Reservation states that hold their compartment; at most one per compartment and one per
#: firm's parcel_ref (DB-enforced).
ACTIVE_STATES = ("reserved", "deposited")
VEHICLE_PROFILES = ("van", "e-tricycle")
JOB_KINDS = ("batch", "siting", "pool")
JOB_STATUSES = ("queued", "running", "done", "failed", "cancelled")


def utcnow() -> datetime:
    return datetime.now(UTC)


def new_id() -> str:
    """Unguessable ids for reservations and jobs (they appear in URLs)."""
    return uuid.uuid4().hex


class UTCDateTime(TypeDecorator):
    """Stores naive UTC (SQLite has no time zones) and always returns aware UTC datetimes."""

    impl = DateTime
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to a UTC column")
        return value.astimezone(UTC).replace(tzinfo=None)

    def process_result_value(self, value: datetime | None, dialect: Any) -> datetime | None:
        return None if value is None else value.replace(tzinfo=UTC)


def _in(column: str, values: tuple[str, ...]) -> str:
    return f"{column} IN ({', '.join(repr(v) for v in values)})"


class Base(DeclarativeBase):
    pass


class Firm(Base):
    """A logistics firm, a planning body or an administrator; the unit of data isolation."""

    __tablename__ = "firms"
    __table_args__ = (CheckConstraint(_in("role", ROLES), name="ck_firms_role"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(200), unique=True)
    role: Mapped[str] = mapped_column(String(16))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    keys: Mapped[list[ApiKey]] = relationship(back_populates="firm")


class ApiKey(Base):
    """An API key, stored only as its SHA-256 hash (keys are 256-bit random, so no salt needed)."""

    __tablename__ = "api_keys"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    firm_id: Mapped[int] = mapped_column(ForeignKey("firms.id", ondelete="CASCADE"), index=True)
    key_hash: Mapped[str] = mapped_column(String(64), unique=True)
    prefix: Mapped[str] = mapped_column(String(12))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)

    firm: Mapped[Firm] = relationship(back_populates="keys")


class Centre(Base):
    """A shared distribution centre where pooled parcels are consolidated."""

    __tablename__ = "centres"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(200), unique=True)
    lat: Mapped[float] = mapped_column(Float)
    lon: Mapped[float] = mapped_column(Float)
    address: Mapped[str] = mapped_column(String(300), default="")
    capacity_parcels: Mapped[int | None] = mapped_column(Integer, nullable=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)


def vehicle_key(name: str) -> str:
    """What a vehicle's name is compared by: its letters' case and width (full-width `Ａ１`, as
    Chinese input methods type them) folded, so `苏A12345`, `苏a12345` and `苏Ａ12345` are one
    plate. The name itself is kept as the firm wrote it."""
    return unicodedata.normalize("NFKC", name).casefold()


class Vehicle(Base):
    """A firm's delivery vehicle (fleet register), optionally based at a shared centre; its
    name (the plate) is unique within the firm, whatever its case (`name_key`)."""

    __tablename__ = "vehicles"
    __table_args__ = (
        CheckConstraint(_in("profile", VEHICLE_PROFILES), name="ck_vehicles_profile"),
        # A firm registers a plate once, in any case; the 409 says which vehicle holds it
        # (revision 0012; 0011 compared names as written). It serves the firm's listing too.
        Index("uq_vehicles_firm_name_key", "firm_id", "name_key", unique=True),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    firm_id: Mapped[int] = mapped_column(ForeignKey("firms.id", ondelete="CASCADE"))
    name: Mapped[str] = mapped_column(String(100))
    #: `vehicle_key(name)`, set with the name: what the unique index and a batch's
    #: `registered` reference compare.
    name_key: Mapped[str] = mapped_column(Text)
    profile: Mapped[str] = mapped_column(String(16), default="van")
    capacity_parcels: Mapped[int] = mapped_column(Integer)
    centre_id: Mapped[int | None] = mapped_column(
        ForeignKey("centres.id", ondelete="SET NULL"), nullable=True
    )
    #: Its usual working day and costs (0012), which a batch naming it takes unless it gives
    #: its own: [start, end] in seconds from midnight, and money per use, km and hour of
    #: travel (none: the batch's format's default).
    shift: Mapped[list[float] | None] = mapped_column(JSON, nullable=True)
    fixed_cost: Mapped[float | None] = mapped_column(Float, nullable=True)
    cost_per_km: Mapped[float | None] = mapped_column(Float, nullable=True)
    cost_per_hour: Mapped[float | None] = mapped_column(Float, nullable=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    @validates("name")
    def _keyed(self, _field: str, name: str) -> str:
        self.name_key = vehicle_key(name)
        return name


class Locker(Base):
    """A self-pickup locker bank; its compartments carry the live availability."""

    __tablename__ = "lockers"
    __table_args__ = (Index("ix_lockers_lat_lon", "lat", "lon"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    external_ref: Mapped[str | None] = mapped_column(String(100), unique=True, nullable=True)
    name: Mapped[str] = mapped_column(String(200))
    operator: Mapped[str] = mapped_column(String(200), default="")
    lat: Mapped[float] = mapped_column(Float)
    lon: Mapped[float] = mapped_column(Float)
    address: Mapped[str] = mapped_column(String(300), default="")
    area: Mapped[str] = mapped_column(String(100), default="")
    opening_hours: Mapped[str] = mapped_column(String(200), default="24/7")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)
    #: When a door last became free or taken: lets search caches reload only what changed.
    availability_changed_at: Mapped[datetime | None] = mapped_column(
        UTCDateTime, nullable=True, index=True
    )

    compartments: Mapped[list[Compartment]] = relationship(
        back_populates="locker", order_by="Compartment.id"
    )


class Compartment(Base):
    """One door of a locker; `status` is kept in step with the reservation holding it."""

    __tablename__ = "compartments"
    __table_args__ = (
        CheckConstraint(_in("size", SIZES), name="ck_compartments_size"),
        CheckConstraint(_in("status", COMPARTMENT_STATUSES), name="ck_compartments_status"),
        Index("ix_compartments_locker_status_size", "locker_id", "status", "size"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    locker_id: Mapped[int] = mapped_column(ForeignKey("lockers.id", ondelete="CASCADE"))
    label: Mapped[str] = mapped_column(String(20))
    size: Mapped[str] = mapped_column(String(1))
    width_mm: Mapped[int] = mapped_column(Integer)
    height_mm: Mapped[int] = mapped_column(Integer)
    depth_mm: Mapped[int] = mapped_column(Integer)
    status: Mapped[str] = mapped_column(String(16), default="free")

    locker: Mapped[Locker] = relationship(back_populates="compartments")


class LockersVersion(Base):
    """One row counting the changes to lockers and their doors (not their availability): the
    search caches of server processes reload the lockers when it moved. A counter, not a
    timestamp: it moves when the change commits, in commit order, whatever any host's clock
    says (a change stamped earlier but committed later left `max(updated_at)` where it was).
    Bumped by `_count_locker_changes` as each transaction that changed lockers commits."""

    __tablename__ = "lockers_version"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    changes: Mapped[int] = mapped_column(Integer)


#: `Session.info` key: this transaction has changed lockers (see `_count_locker_changes`).
_LOCKERS_CHANGED = "gongpei.lockers_changed"


@event.listens_for(Session, "after_begin")
def _forget_locker_changes(session: Session, _transaction: Any, _connection: Any) -> None:
    session.info.pop(_LOCKERS_CHANGED, None)


@event.listens_for(Session, "after_flush")
def _note_locker_changes(session: Session, _context: Any) -> None:
    """Note a flush that adds or removes a locker or a door or changes a locker (a door's
    status is availability, stamped apart by `api.booking.availability_changed`)."""
    added_or_removed = (*session.new, *session.deleted)
    if any(isinstance(obj, Locker | Compartment) for obj in added_or_removed) or any(
        isinstance(obj, Locker) and session.is_modified(obj) for obj in session.dirty
    ):
        session.info[_LOCKERS_CHANGED] = True


@event.listens_for(Session, "before_commit")
def _count_locker_changes(session: Session) -> None:
    """Bump `LockersVersion` as a transaction that changed lockers commits. Wherever lockers
    are written through the ORM (the admin API, `gongpei lockers import`) the count follows
    without each having to say so. Bumped last, so that on PostgreSQL its row lock, which
    orders such commits, is held only while committing (a long import does not hold up an
    admin's edit); an upsert, so a missing row is made."""
    if session.in_nested_transaction():
        return
    session.flush()
    if not session.info.pop(_LOCKERS_CHANGED, False):
        return
    connection = session.connection()
    dialect = {"postgresql": postgresql, "sqlite": sqlite}[connection.dialect.name]
    table = LockersVersion.__table__
    connection.execute(
        dialect.insert(table)
        .values(id=1, changes=1)
        .on_conflict_do_update(index_elements=[table.c.id], set_={"changes": table.c.changes + 1})
    )


class Reservation(Base):
    """A firm's hold on a compartment: reserved -> deposited -> picked_up (or expired/cancelled)."""

    __tablename__ = "reservations"
    __table_args__ = (
        CheckConstraint(_in("state", RESERVATION_STATES), name="ck_reservations_state"),
        # The database itself refuses a second active reservation of one compartment.
        Index(
            "uq_reservations_active_compartment",
            "compartment_id",
            unique=True,
            sqlite_where=text(_in("state", ACTIVE_STATES)),
            postgresql_where=text(_in("state", ACTIVE_STATES)),
        ),
        # ... and a second active reservation of one parcel by its firm (one parcel, one door).
        Index(
            "uq_reservations_active_parcel",
            "firm_id",
            "parcel_ref",
            unique=True,
            sqlite_where=text(_in("state", ACTIVE_STATES)),
            postgresql_where=text(_in("state", ACTIVE_STATES)),
        ),
        Index("ix_reservations_state_expires", "state", "expires_at"),
        Index("ix_reservations_firm_created", "firm_id", "created_at", "id"),
    )

    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id)
    firm_id: Mapped[int] = mapped_column(ForeignKey("firms.id", ondelete="CASCADE"), index=True)
    locker_id: Mapped[int] = mapped_column(ForeignKey("lockers.id", ondelete="CASCADE"))
    compartment_id: Mapped[int] = mapped_column(ForeignKey("compartments.id", ondelete="CASCADE"))
    size: Mapped[str] = mapped_column(String(1))
    parcel_ref: Mapped[str] = mapped_column(String(100))
    pickup_code: Mapped[str] = mapped_column(String(12))
    state: Mapped[str] = mapped_column(String(16), default="reserved")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)
    deposited_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    #: Wrong pickup codes tried; at MAX_PICKUP_FAILURES the code stops being accepted.
    failed_pickups: Mapped[int] = mapped_column(Integer, default=0, server_default="0")

    compartment: Mapped[Compartment] = relationship()
    locker: Mapped[Locker] = relationship()


class Job(Base):
    """A solve job (a firm's delivery batch, a planner's siting or pooling run) run by a worker.

    Workers hold a lease (`lease_expires_at`) that they renew while running; a job whose lease
    ran out belongs to a dead worker and is claimed again, so no submitted job is lost.
    """

    __tablename__ = "jobs"
    __table_args__ = (
        CheckConstraint(_in("kind", JOB_KINDS), name="ck_jobs_kind"),
        CheckConstraint(_in("status", JOB_STATUSES), name="ck_jobs_status"),
        Index("ix_jobs_status_created", "status", "created_at"),
        # each claim orders the firms by when each was last served (`queue.claim`)
        Index("ix_jobs_firm_started", "firm_id", "started_at"),
    )

    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id)
    kind: Mapped[str] = mapped_column(String(16))
    firm_id: Mapped[int] = mapped_column(ForeignKey("firms.id", ondelete="CASCADE"), index=True)
    status: Mapped[str] = mapped_column(String(16), default="queued")
    payload: Mapped[dict[str, Any]] = mapped_column(JSON)
    progress: Mapped[float] = mapped_column(Float, default=0.0)
    error: Mapped[str | None] = mapped_column(Text, nullable=True)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    worker_id: Mapped[str | None] = mapped_column(String(64), nullable=True)
    lease_expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    started_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)


class IdempotencyKey(Base):
    """A job-submitting request's `Idempotency-Key`, per firm: a retry of the request (same
    path and body) is answered with the job it made, never a second job (`api.idempotency`).
    Held by one request (`token`, since `claimed_at`) until its job is made (`job_id`), in the
    job's own transaction; a key is honoured for `api.idempotency.RETENTION` after
    `created_at`, and `gongpei admin prune` deletes it after that."""

    __tablename__ = "idempotency_keys"
    __table_args__ = (Index("ix_idempotency_keys_created_at", "created_at"),)

    firm_id: Mapped[int] = mapped_column(
        ForeignKey("firms.id", ondelete="CASCADE"), primary_key=True
    )
    key: Mapped[str] = mapped_column(String(255), primary_key=True)
    #: The request's path (`/v1/batches`): a key names one request, on one endpoint.
    path: Mapped[str] = mapped_column(String(100))
    #: SHA-256 (hex) of the request's path and body as read (`api.idempotency.fingerprint`).
    fingerprint: Mapped[str] = mapped_column(String(64))
    #: The request that holds the key until its job is made (a new one takes over a stale hold).
    token: Mapped[str] = mapped_column(String(32), default=new_id)
    job_id: Mapped[str | None] = mapped_column(
        ForeignKey("jobs.id", ondelete="CASCADE"), nullable=True, index=True
    )
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    claimed_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class PoolParticipant(Base):
    """A platform firm taking part in a pooling run, as the day names it (`day_firm`): it may
    list the run and read its own result."""

    __tablename__ = "pool_participants"

    job_id: Mapped[str] = mapped_column(ForeignKey("jobs.id", ondelete="CASCADE"), primary_key=True)
    firm_id: Mapped[int] = mapped_column(
        ForeignKey("firms.id", ondelete="CASCADE"), primary_key=True, index=True
    )
    day_firm: Mapped[str] = mapped_column(String(200))


class Solution(Base):
    """The result of a finished job: the solver's JSON answer and its GeoJSON rendering."""

    __tablename__ = "solutions"

    job_id: Mapped[str] = mapped_column(ForeignKey("jobs.id", ondelete="CASCADE"), primary_key=True)
    result: Mapped[dict[str, Any]] = mapped_column(JSON)
    geojson: Mapped[dict[str, Any] | None] = mapped_column(JSON, nullable=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
