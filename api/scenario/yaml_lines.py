"""Load YAML keeping the line of every key, so errors can point at the place in the file."""

from pathlib import Path
from typing import Any

import yaml

from api.scenario.errors import ScenarioError
from routing.yamlfile import StrictLoader, load_strict

Loc = tuple[str | int, ...]


class LineMap:
    """Line numbers (1-based) of every mapping key and sequence item of a YAML document."""

    def __init__(self, file: Path, lines: dict[Loc, int]) -> None:
        self.file = file
        self.lines = lines

    def line_of(self, loc: Loc) -> tuple[int, Loc]:
        """The line of ``loc`` (or of its nearest ancestor present in the file) and that ancestor.

        Pydantic's error locations hold extra parts for union members ("function-after[...]",
        model names); parts that do not lead anywhere in the document are skipped.
        """
        found: Loc = ()
        for part in loc:
            if (*found, part) in self.lines:
                found = (*found, part)
        return self.lines.get(found, 1), found

    def where(self, *loc: str | int) -> str:
        """``file:line: dotted.field`` for a place in the document."""
        line, _ = self.line_of(tuple(loc))
        return f"{self.file}:{line}: {dotted(loc)}"


def dotted(loc: Loc) -> str:
    """``firms[0].fleet`` style name for a location tuple."""
    text = ""
    for part in loc:
        text += f"[{part}]" if isinstance(part, int) else (f".{part}" if text else str(part))
    return text or "(top level)"


def load_yaml(file: Path) -> tuple[Any, LineMap]:
    """Parse a YAML file into plain data plus the line of each key; syntax errors name the line,
    and so does a key given twice in one mapping (YAML would keep only its last value)."""
    try:
        text = file.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ScenarioError([f"{file}: scenario file not found"]) from None
    except (OSError, UnicodeDecodeError) as err:
        raise ScenarioError([f"{file}: cannot read the scenario file ({err})"]) from None
    try:
        node = yaml.compose(text, Loader=StrictLoader)
        data = load_strict(text)
    except yaml.MarkedYAMLError as err:
        mark = err.problem_mark or err.context_mark
        line = mark.line + 1 if mark else 1
        raise ScenarioError([f"{file}:{line}: invalid YAML: {err.problem}"]) from None
    except yaml.YAMLError as err:
        raise ScenarioError([f"{file}: invalid YAML: {err}"]) from None
    lines: dict[Loc, int] = {}
    if node is not None:
        _collect(node, (), lines)
    return data, LineMap(file, lines)


def _collect(node: yaml.Node, loc: Loc, lines: dict[Loc, int]) -> None:
    lines.setdefault(loc, node.start_mark.line + 1)
    if isinstance(node, yaml.MappingNode):
        for key, value in node.value:
            child = (*loc, key.value)
            lines[child] = key.start_mark.line + 1
            _collect(value, child, lines)
    elif isinstance(node, yaml.SequenceNode):
        for i, item in enumerate(node.value):
            lines[(*loc, i)] = item.start_mark.line + 1
            _collect(item, (*loc, i), lines)
