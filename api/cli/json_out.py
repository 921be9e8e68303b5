"""`--json` on `solve`, `pool`, `site` and `scenario run`: the run's summary as one JSON object
on stdout, for a firm's or planner's script, which had to parse English lines.

Each command passes the summary it already builds (the solution's, summary.json's, the plan's)
and the object adds the same keys in every command: ``command``, ``units``, ``outputs`` (what
each file is: its absolute path), ``warnings`` (a list) and ``checker`` (the independent
checker's verdict, null where the command has none). While the command runs, whatever it
would print on stdout (tables, headlines) goes to stderr, as its progress and warnings do.
"""

from __future__ import annotations

import contextlib
import json
import logging
import sys
from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any

import typer

JSON_HELP = (
    "Print one JSON object on stdout at the end (the summary with its units, the files "
    "written, warnings, the checker's verdict); everything else goes to stderr."
)


def json_option() -> Any:
    """The `--json` flag, worded alike in every command that has it."""
    return typer.Option(False, "--json", help=JSON_HELP)


class WarningList(logging.Handler):
    """Keeps the messages of Gongpei's logged warnings (``gongpei.*``: a siting note, a stage
    skipped, a graph not cached) for the JSON's ``warnings``. Where no other handler would
    print them (`site` and `solve` set up no logging), it prints them on stderr as Python's
    last-resort handler did, which a handler of its own switches off."""

    def __init__(self, echo: bool) -> None:
        super().__init__(level=logging.WARNING)
        self.echo = echo
        self.messages: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.messages.append(record.getMessage())
        if self.echo:
            logging.lastResort.handle(record)


@contextlib.contextmanager
def json_mode(enabled: bool) -> Iterator[list[str]]:
    """Within the block, with ``enabled``: stdout goes to stderr, and Gongpei's logged warnings
    are kept in the yielded list (empty without ``enabled``, where nothing changes)."""
    if not enabled:
        yield []
        return
    logger = logging.getLogger("gongpei")
    kept = WarningList(echo=not logger.hasHandlers())
    logger.addHandler(kept)
    try:
        with contextlib.redirect_stdout(sys.stderr):
            yield kept.messages
    finally:
        logger.removeHandler(kept)


def print_json(
    command: str,
    summary: Mapping[str, Any],
    *,
    units: Mapping[str, str],
    outputs: Mapping[str, Path | None],
    warnings: Sequence[str],
    checker: Mapping[str, Any] | None,
) -> None:
    """The one JSON object on stdout: ``summary``'s keys and the shared ones (see the module's
    docstring). Outputs not written (None) are left out; a warning said twice (logged, then
    kept in the summary) is listed once."""
    document = {
        "command": command,
        **summary,
        "units": dict(units),
        "outputs": {name: str(path.resolve()) for name, path in outputs.items() if path},
        "warnings": list(dict.fromkeys(warnings)),
        "checker": None if checker is None else dict(checker),
    }
    typer.echo(json.dumps(document, ensure_ascii=False, default=_plain))


def _plain(value: Any) -> Any:
    """numpy numbers and arrays as JSON numbers and lists (a scenario's summary holds some)."""
    if hasattr(value, "tolist"):
        return value.tolist()
    raise TypeError(f"cannot write {type(value).__name__} to JSON")
