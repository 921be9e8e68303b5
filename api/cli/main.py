"""Entry point of the `gongpei` command: registers each command group's typer app."""

import typer

app = typer.Typer(
    name="gongpei",
    help="Gongpei (共配): common-distribution optimizer and public logistics platform.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
)


@app.callback()
def _root() -> None:
    """Gongpei (共配): common-distribution optimizer and public logistics platform."""


if __name__ == "__main__":
    app()
