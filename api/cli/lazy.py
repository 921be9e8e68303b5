"""A typer command group that imports a command's module only when that command runs.

Importing every command module at start (siting, pooling, scipy, SQLAlchemy, alembic, OR-Tools,
PyVRP ...) made `gongpei --help` take 2+ s and 200+ MB and added seconds to every command; the
modules share those imports, so moving single imports into functions saved nothing. The group
lists its commands from a table of names, places and one-line helps instead, and imports and
converts only the command that is run (click's "lazy loading of subcommands").
"""

from __future__ import annotations

import importlib
from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, ClassVar, cast

import typer
from typer.core import TyperCommand, TyperGroup

if TYPE_CHECKING:  # typer >= 0.26 vendors click here; its classes have no public name
    from typer._click import Command, Context, HelpFormatter

_LISTING = "gongpei.cli.listing"  # ctx.meta key: set while a group's help is being written


@dataclass(frozen=True)
class LazyCommand:
    """A command not imported yet: where it is and what `gongpei --help` lists for it.

    ``target`` is ``"module:attribute"``, a typer app (a command group) or a command function;
    ``short_help`` must equal the first paragraph of the command's own help (a test checks).
    """

    target: str
    short_help: str

    def load(self, name: str) -> Command:
        """Import the target and make it the click command ``name``."""
        module, _, attribute = self.target.partition(":")
        return as_subcommand(name, getattr(importlib.import_module(module), attribute))


def as_subcommand(name: str, target: Any) -> Command:
    """The click command typer makes of ``target`` registered as ``name`` in a parent app (as
    `add_typer` and `command` did when every module was imported). A typer app goes through a
    parent: typer.main.get_command of an app with one command (`lockers`) returns that command,
    which would drop its level (`gongpei lockers import` would become `gongpei lockers`)."""
    parent = typer.Typer(add_completion=False)
    if isinstance(target, typer.Typer):
        parent.add_typer(target, name=name)
        return cast(TyperGroup, typer.main.get_command(parent)).commands[name]
    parent.command(name)(target)
    return typer.main.get_command(parent)


class LazyGroup(TyperGroup):
    """A typer group whose subcommands ``lazy_commands`` are imported on first use.

    ``commands`` holds light stand-ins carrying each name and one-line help, so the command
    list, the group's help and typer's "Did you mean" suggestions work without imports;
    ``get_command`` returns the real command except while the group's help is being written
    (typer's help asks every command for its help).
    """

    lazy_commands: ClassVar[Mapping[str, LazyCommand]] = {}

    def __init__(self, **attrs: Any) -> None:
        super().__init__(**attrs)
        stand_ins = {
            name: TyperCommand(name, help=lazy.short_help)
            for name, lazy in self.lazy_commands.items()
        }
        self.commands = {**stand_ins, **self.commands}
        self._loaded: dict[str, Command] = {}

    def get_command(
        self, ctx: Context, cmd_name: str
    ) -> Command | None:
        """The command ``cmd_name``, imported on first use; its stand-in while listing."""
        lazy = self.lazy_commands.get(cmd_name)
        if lazy is None or ctx.meta.get(_LISTING):
            return super().get_command(ctx, cmd_name)
        if cmd_name not in self._loaded:
            self._loaded[cmd_name] = lazy.load(cmd_name)
        return self._loaded[cmd_name]

    def format_help(
        self, ctx: Context, formatter: HelpFormatter
    ) -> None:
        """The group's help, listing the stand-ins rather than importing every command."""
        ctx.meta[_LISTING] = True
        try:
            super().format_help(ctx, formatter)
        finally:
            del ctx.meta[_LISTING]
