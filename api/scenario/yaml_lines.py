"""Load YAML keeping the line of every key, so errors can point at the place in the file."""

from pathlib import Path
from typing import Any

import yaml

from api.scenario.errors import ScenarioError
from routing.yamlfile import StrictLoader, load_strict

Loc = tuple[str | int, ...]

#: Most nodes (scalars, lists, mappings) that aliases may add to a scenario by repeating what
#: an anchor holds. Every reader walks the expanded document (the line map, then the schema),
#: so ten nested aliases of ten ("billion laughs") in 700 bytes took 30 s and gigabytes; an
#: anchor reused for a few fleets or firms adds dozens.
MAX_ALIAS_NODES = 10_000


class LineMap:
    """Line numbers (1-based) of every mapping key and sequence item of a YAML document, and the
    ``--set`` overrides applied over it (what they set has no line in the file)."""

    def __init__(
        self, file: Path, lines: dict[Loc, int], overrides: tuple[tuple[Loc, str], ...] = ()
    ) -> None:
        self.file = file
        self.lines = lines
        self.overrides = overrides
        self._known = set(lines) | {p[:n] for p, _ in overrides for n in range(1, len(p) + 1)}

    def with_override(self, path: Loc, setting: str) -> "LineMap":
        """This map with ``--set setting`` applied at ``path`` (a later one wins where both
        apply)."""
        return LineMap(self.file, self.lines, (*self.overrides, (path, setting)))

    def line_of(self, loc: Loc) -> tuple[int, Loc]:
        """The line of ``loc`` (or of its nearest ancestor present in the file) and that ancestor.

        Pydantic's error locations hold extra parts for union members ("function-after[...]",
        model names); parts that do not lead anywhere in the document are skipped. A place only
        an override made is kept (so that `origin` finds it) and has the line of its ancestor.
        """
        found: Loc = ()
        for part in loc:
            if (*found, part) in self._known:
                found = (*found, part)
        above = next((found[:n] for n in range(len(found), 0, -1) if found[:n] in self.lines), ())
        return self.lines.get(above, 1), found

    def origin(self, loc: Loc) -> str:
        """Where the value at ``loc`` was given: ``--set KEY=VALUE`` when an override set it (or
        a mapping or list holding it), else ``file:line``; a line of the file would point at a
        value the file may not even hold."""
        line, found = self.line_of(loc)
        for path, setting in reversed(self.overrides):
            if found[: len(path)] == path:
                return f"--set {setting}"
        return f"{self.file}:{line}"

    def where(self, *loc: str | int) -> str:
        """``file:line: dotted.field`` (or ``--set KEY=VALUE: dotted.field``) for a place in the
        document."""
        return f"{self.origin(tuple(loc))}: {dotted(loc)}"


def dotted(loc: Loc) -> str:
    """``firms[0].fleet`` style name for a location tuple."""
    text = ""
    for part in loc:
        text += f"[{part}]" if isinstance(part, int) else (f".{part}" if text else str(part))
    return text or "(top level)"


def load_yaml(file: Path) -> tuple[Any, LineMap]:
    """Parse a YAML file into plain data plus the line of each key; syntax errors name the line,
    and so does a key given twice in one mapping (YAML would keep only its last value), an alias
    inside its own anchor and aliases that expand the file beyond ``MAX_ALIAS_NODES``. PyYAML
    and the walks here recurse once per level of nesting: a file nested hundreds of levels deep
    is refused in one line too, not with a traceback."""
    try:
        text = file.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ScenarioError([f"{file}: scenario file not found"]) from None
    except (OSError, UnicodeDecodeError) as err:
        raise ScenarioError([f"{file}: cannot read the scenario file ({err})"]) from None
    try:
        node = yaml.compose(text, Loader=StrictLoader)
        lines = _lines(file, node)
        data = load_strict(text)
    except yaml.MarkedYAMLError as err:
        mark = err.problem_mark or err.context_mark
        line = mark.line + 1 if mark else 1
        raise ScenarioError([f"{file}:{line}: invalid YAML: {err.problem}"]) from None
    except yaml.YAMLError as err:
        raise ScenarioError([f"{file}: invalid YAML: {err}"]) from None
    except RecursionError:
        raise ScenarioError([f"{file}: invalid YAML: nested too deeply"]) from None
    return data, LineMap(file, lines)


def _lines(file: Path, node: yaml.Node | None) -> dict[Loc, int]:
    """The line of each key and item, once the aliases are known to expand to a small,
    finite document (checked first: the walk follows every alias)."""
    lines: dict[Loc, int] = {}
    if node is not None:
        _AliasExpansion(file).size(node)
        _collect(node, (), lines)
    return lines


class _AliasExpansion:
    """Sizes a composed document, each node once: a node met again is an alias, which adds its
    expanded size. Refuses an alias inside the node it names (the document would never end)
    and aliases adding more than ``MAX_ALIAS_NODES`` nodes."""

    def __init__(self, file: Path) -> None:
        self.file = file
        self.sizes: dict[int, int] = {}
        self.open: set[int] = set()
        self.added = 0

    def size(self, node: yaml.Node) -> int:
        """Nodes in ``node`` with every alias in it written out."""
        self.open.add(id(node))
        total = 1
        for child in _children(node):
            total += self._child(node, child)
        self.open.discard(id(node))
        self.sizes[id(node)] = total
        return total

    def _child(self, parent: yaml.Node, child: yaml.Node) -> int:
        if id(child) in self.open:
            raise self._error(child, "an alias refers to the anchor that holds it, so the "
                              "document would never end")
        if id(child) not in self.sizes:
            return self.size(child)
        self.added += self.sizes[id(child)]
        if self.added > MAX_ALIAS_NODES:
            raise self._error(parent, f"aliases repeat more than {MAX_ALIAS_NODES:,} items; "
                              "write the repeated part out, or use fewer aliases")
        return self.sizes[id(child)]

    def _error(self, node: yaml.Node, reason: str) -> ScenarioError:
        return ScenarioError([f"{self.file}:{node.start_mark.line + 1}: invalid YAML: {reason}"])


def _children(node: yaml.Node) -> list[yaml.Node]:
    """A node's keys and values (mapping) or items (sequence); a scalar has none."""
    if isinstance(node, yaml.MappingNode):
        return [part for pair in node.value for part in pair]
    if isinstance(node, yaml.SequenceNode):
        return list(node.value)
    return []


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
