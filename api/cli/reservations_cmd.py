"""`gongpei reservations unlock|release ID`: the operator's actions on a locked-out parcel.

The same as `POST /v1/reservations/{id}/unlock|release` with an admin key, for staff at the
locker without one. They do not migrate the database first, so `release` also works while an
upgrade waits for a parcel deposited twice to be released (see migration 0007).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Annotated

import typer

from api.cli.serve_cmd import DbOption

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

    from api.db.models import Reservation

app = typer.Typer(help="Reservations: the operator's actions on parcels.", no_args_is_help=True)
IdArgument = Annotated[str, typer.Argument(help="The reservation id (32 hex digits).")]


def _act(
    action: Callable[[Session, str], Reservation], reservation_id: str, database_url: str | None
) -> None:
    from api.booking import BookingError
    from api.db.engine import Database
    from api.settings import Settings

    settings = Settings(database_url=database_url) if database_url else Settings()
    db = Database(settings.database_url)
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
