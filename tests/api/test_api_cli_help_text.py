"""Help texts read as written at any width: typer's rich help keeps the single line breaks of
a docstring's later paragraphs (and of the first one where a group lists its commands), so a
docstring wrapped at 100 columns broke mid-sentence at 80 (`COLUMNS=80 gongpei solve --help`:
"exits with code 1 (invalid input" / "exits with code 2)."). Each paragraph is one line."""

from __future__ import annotations

import inspect
from collections.abc import Iterator
from typing import Any

import pytest
import typer

from api.cli.main import app


def _commands(
    command: Any, path: tuple[str, ...], ctx: typer.Context | None
) -> Iterator[tuple[tuple[str, ...], Any]]:
    """Every command under ``command`` by its path (typer vendors click: no isinstance)."""
    if not hasattr(command, "list_commands"):
        yield path, command
        return
    sub = typer.Context(command, parent=ctx, info_name=path[-1] if path else "gongpei")
    for name in command.list_commands(sub):
        yield from _commands(command.get_command(sub, name), (*path, name), sub)


COMMANDS = dict(_commands(typer.main.get_command(app), (), None))


@pytest.mark.parametrize("path", sorted(COMMANDS), ids=" ".join)
def test_each_paragraph_of_a_help_text_is_one_line(path: tuple[str, ...]) -> None:
    paragraphs = inspect.cleandoc(COMMANDS[path].help or "").split("\n\n")
    # The top-level list shows a table's one-line help, and a command's own help joins the
    # lines of its first paragraph; only subcommands are listed with their first paragraph.
    shown = paragraphs[1:] if len(path) == 1 else paragraphs
    assert [p for p in shown if "\n" in p] == []
