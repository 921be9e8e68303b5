"""Entry point of the `gongpei` command: a table of its commands, each imported when it runs.

Only the command that runs is imported (see api/cli/lazy.py): `gongpei --help` and
`gongpei X --help` no longer load every solver and the database stack.
"""

import sys

import typer

from api.cli.lazy import LazyCommand, LazyGroup
from network.errors import GongpeiError

#: Each command: where it lives and the one-line help `gongpei --help` lists, which must equal
#: the first paragraph of the command's own help (tests/api/test_api_cli_lazy.py checks).
COMMANDS = {
    "pool": LazyCommand(
        "api.cli.pool_cmd:pool",
        "Solve the day solo, pooled and pooled with locker drops; write what pooling saves.",
    ),
    "demo": LazyCommand(
        "api.cli.demo_cmd:demo",
        "Run scenarios/campus.yaml on the demo map (central Helsinki) and print the report's "
        "path.",
    ),
    "serve": LazyCommand(
        "api.cli.serve_cmd:serve",
        "Migrate the database, start job workers and serve the API and the map page.",
    ),
    "worker": LazyCommand(
        "api.cli.serve_cmd:worker",
        "Run one job worker in the foreground (add more on any machine sharing the database).",
    ),
    "solve": LazyCommand(
        "api.cli.solve_cmd:solve",
        "Plan routes for a problem file and check the plan; writes VROOM-shaped JSON.",
    ),
    "site": LazyCommand(
        "api.cli.site_cmd:site",
        "Choose locker sites (and sizes): prints a summary, writes the plan as JSON.",
    ),
    "scenario": LazyCommand(
        "api.cli.scenario_cmd:app",
        "Run, sweep and validate scenario files (scenarios/*.yaml).",
    ),
    "network": LazyCommand(
        "api.cli.network_cmd:app", "Road graphs from OSM files and travel-time matrices."
    ),
    "reservations": LazyCommand(
        "api.cli.reservations_cmd:app", "Reservations: the operator's actions on parcels."
    ),
    "admin": LazyCommand(
        "api.cli.admin_cmd:app",
        "Administration: firms and their API keys, jobs, pruning, backups.",
    ),
    "lockers": LazyCommand("api.cli.serve_cmd:lockers_app", "Locker network: import lockers."),
}


class GongpeiGroup(LazyGroup):
    """The `gongpei` group: the commands of ``COMMANDS``, in its order."""

    lazy_commands = COMMANDS


app = typer.Typer(
    name="gongpei",
    cls=GongpeiGroup,
    help="Gongpei (共配): common-distribution optimizer and public logistics platform.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)


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
