"""Entry point of the `gongpei` command: registers each command group's typer app."""

import sys

import typer

from api.cli import serve_cmd
from api.cli.admin_cmd import app as admin_app
from api.cli.demo_cmd import demo as demo_command
from api.cli.network_cmd import app as network_app
from api.cli.pool_cmd import pool
from api.cli.reservations_cmd import app as reservations_app
from api.cli.scenario_cmd import app as scenario_app
from api.cli.site_cmd import site as site_command
from api.cli.solve_cmd import solve as solve_command
from network.errors import GongpeiError

app = typer.Typer(
    name="gongpei",
    help="Gongpei (共配): common-distribution optimizer and public logistics platform.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)


app.add_typer(scenario_app, name="scenario")
app.add_typer(network_app, name="network")
app.add_typer(reservations_app, name="reservations")
app.add_typer(admin_app, name="admin")
app.command("pool")(pool)
app.command(name="demo")(demo_command)
serve_cmd.register(app)
app.command(name="solve")(solve_command)
app.command(name="site")(site_command)


@app.callback()
def _root() -> None:
    """Gongpei (共配): common-distribution optimizer and public logistics platform."""


def run() -> None:
    """Run the CLI; a user-fixable error becomes one line on stderr and exit code 2."""
    try:
        app(standalone_mode=True)
    except GongpeiError as err:
        print(f"error: {err}", file=sys.stderr)
        sys.exit(2)


if __name__ == "__main__":
    run()
