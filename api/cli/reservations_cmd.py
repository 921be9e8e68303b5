"""`gongpei reservations unlock|release ID`: the operator's actions on a locked-out parcel.

The same as `POST /v1/reservations/{id}/unlock|release` with an admin key, for staff at the
locker without one. They do not migrate the database first, so `release` also works while an
upgrade waits for a parcel deposited twice to be released (see migration 0007).
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from api.cli.checks import OptionError
from api.cli.serve_cmd import DbOption

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

    from api.db.engine import Database
    from api.db.models import Reservation

app = typer.Typer(help="Reservations: the operator's actions on parcels.", no_args_is_help=True)
IdArgument = Annotated[str, typer.Argument(help="The reservation id (32 hex digits).")]


def _act(
    action: Callable[[Session, str], Reservation], reservation_id: str, database_url: str | None
) -> None:
    from api.booking import BookingError

    db = _platform_database(database_url)
    try:
        with db.writing() as session:
            reservation = action(session, reservation_id)
            state, failed = reservation.state, reservation.failed_pickups
    except BookingError as err:
        typer.echo(f"error: {err}", err=True)
        raise typer.Exit(2) from err
    finally:
        db.dispose()
    typer.echo(f"reservation {reservation_id}: {state}, {failed} wrong pickup codes")


@app.command()
def unlock(reservation_id: IdArgument, database_url: DbOption = None) -> None:
    """Forget the wrong pickup codes of a deposited parcel so its right code works again."""
    from api.booking import unlock as unlock_reservation

    _act(unlock_reservation, reservation_id, database_url)


@app.command()
def release(reservation_id: IdArgument, database_url: DbOption = None) -> None:
    """Record that staff handed a deposited parcel over: picked up, compartment free."""
    from api.booking import release as release_reservation

    _act(release_reservation, reservation_id, database_url)


def _platform_database(database_url: str | None) -> Database:
    """The platform's database, refused in one line where there is none: these commands change
    a reservation, they never make a database (opening an SQLite URL whose file is missing
    would leave an empty one behind; `gongpei serve` creates and migrates it)."""
    from sqlalchemy import inspect, make_url
    from sqlalchemy.exc import SQLAlchemyError

    from api.db.engine import Database
    from api.db.models import Reservation
    from api.settings import check_database_url

    text = _database_url(database_url)
    try:
        url = make_url(text)
    except SQLAlchemyError:
        raise OptionError(f"--database-url: {text!r} is not a database URL") from None
    shown = url.render_as_string(hide_password=True)
    if url.get_backend_name() == "sqlite" and not Path(url.database or "").is_file():
        raise _no_database(f"at {shown}")
    check_database_url(text)  # another database, or a missing driver: one line, not a traceback
    db = Database(text)
    try:
        ready = inspect(db.engine).has_table(Reservation.__tablename__)
    except SQLAlchemyError as err:
        db.dispose()
        why = " ".join(str(getattr(err, "orig", None) or err).split())
        raise OptionError(f"--database-url: cannot open {shown}: {why}") from None
    if not ready:
        db.dispose()
        raise _no_database(f"at {shown}")
    return db


def _database_url(database_url: str | None) -> str:
    """The URL given, else the default one, whose data folder must already exist: the default
    makes that folder (for `gongpei serve`, which creates the database in it), and these
    commands, which only change a database that exists, must leave no empty folder behind."""
    from api.settings import data_dir, default_database_url

    if not database_url and not data_dir().is_dir():
        raise _no_database(f"in {data_dir().resolve()}: no such folder")
    return database_url or default_database_url()


def _no_database(where: str) -> OptionError:
    return OptionError(
        f"--database-url: no platform database {where} (`gongpei serve` creates it; or give "
        "the platform's URL with --database-url or GONGPEI_DATABASE_URL)"
    )
