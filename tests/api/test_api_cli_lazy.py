"""`gongpei` imports only the command it runs: its help lists every command from a table whose
one-line helps must match the commands' own, and each command still works through that group."""

from __future__ import annotations

import inspect
import json
import re
import subprocess
import sys

import pytest
from typer.core import TyperGroup
from typer.testing import CliRunner

from api.cli.main import COMMANDS, app

runner = CliRunner()

#: What `gongpei --help` imported before commands were loaded on demand (2+ s, 200+ MB).
HEAVY = ("ortools", "pyvrp", "sqlalchemy", "scipy", "alembic", "routing.siting")

#: Runs `gongpei ARGS...` in a fresh interpreter and prints the modules it imported.
PROBE = """
import contextlib, io, json, sys
from api.cli.main import run
sys.argv = ["gongpei", *sys.argv[1:]]
with contextlib.redirect_stdout(io.StringIO()) as out, contextlib.suppress(SystemExit):
    run()
print(json.dumps({"help": out.getvalue(), "modules": sorted(sys.modules)}))
"""


def _flat(text: str) -> str:
    """Help text without rich's box lines and line wrapping, to search for whole phrases."""
    return " ".join(re.sub(r"[│╭╮╰╯─]", " ", text).split())


def _listed(help_text: str | None) -> str:
    """What a group's help lists for a command: the first paragraph of its help."""
    return inspect.cleandoc(help_text or "").split("\n\n")[0].strip()


@pytest.mark.parametrize("name", list(COMMANDS))
def test_listed_help_is_the_commands_own(name):
    command = COMMANDS[name].load(name)
    assert COMMANDS[name].short_help == _listed(command.short_help or command.help)


@pytest.mark.parametrize("name", list(COMMANDS))
def test_each_commands_help_works_through_the_lazy_group(name):
    command = COMMANDS[name].load(name)
    paths = [[name]]
    if isinstance(command, TyperGroup):
        assert command.commands, f"{name} is a group with no commands"
        paths += [[name, sub] for sub in command.commands]
    for path in paths:
        result = runner.invoke(app, [*path, "--help"])
        assert result.exit_code == 0, (path, result.output)
        assert f"Usage: gongpei {' '.join(path)} " in result.output


def test_a_one_command_group_keeps_its_level():
    """`lockers` has one command: typer alone would make `gongpei lockers` that command."""
    lockers = COMMANDS["lockers"].load("lockers")
    assert isinstance(lockers, TyperGroup) and list(lockers.commands) == ["import"]


@pytest.mark.parametrize("args", [["--help"], []], ids=["--help", "no arguments"])
def test_root_help_lists_every_command_with_its_help(args):
    result = runner.invoke(app, args)
    assert result.exit_code == (0 if args else 2)  # no_args_is_help: click exits 2
    flat = _flat(result.output)
    assert "Usage: gongpei [OPTIONS] COMMAND [ARGS]..." in flat
    for name, lazy in COMMANDS.items():
        assert f" {name} {lazy.short_help}" in flat, name


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["slove"], "No such command 'slove'. Did you mean 'solve', 'serve'?"),
        (["lockers", "imprt"], "No such command 'imprt'. Did you mean 'import'?"),
    ],
)
def test_an_unknown_command_errors_like_click(args, message):
    result = runner.invoke(app, args)
    assert result.exit_code == 2
    assert message in _flat(result.output)


@pytest.mark.parametrize(
    ("args", "own"),
    [(["--help"], None), (["site", "--help"], "site_cmd"), (["solve", "--help"], "solve_cmd")],
)
def test_only_the_command_run_is_imported(args, own):
    done = subprocess.run(
        [sys.executable, "-c", PROBE, *args], capture_output=True, text=True, check=True
    )
    probe = json.loads(done.stdout)
    assert "Usage: gongpei" in probe["help"]
    loaded = [m.rpartition(".")[2] for m in probe["modules"] if m.startswith("api.cli.")]
    commands = {m for m in loaded if m.endswith("_cmd")}
    assert commands == ({own} if own else set())
    if own is None:
        assert [m for m in HEAVY if m in probe["modules"]] == []


def test_a_command_reading_settings_does_not_load_the_migrations():
    """`api.db`'s package re-exported `upgrade`, so `api.settings` (through `api.db.engine`)
    loaded alembic into `gongpei solve`, which never migrates: 0.2 s of its start-up."""
    done = subprocess.run(
        [sys.executable, "-c", PROBE, "solve", "--help"], capture_output=True, text=True, check=True
    )
    assert "alembic" not in json.loads(done.stdout)["modules"]
