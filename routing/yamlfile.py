"""Strict YAML: the one loader for the files people write by hand (pooling days, scenarios).

YAML lets a mapping repeat a key, and PyYAML keeps the last value without a word: a day with
two ``parcels:`` sections, or a parcel with ``kg: 2`` and ``kg: 20``, silently lost the first.
This loader refuses a repeated key as a `yaml.MarkedYAMLError` at the repeat, so each
reader's existing handling of YAML errors reports it with its line, as it does a syntax error.

YAML 1.1, which PyYAML follows, also reads a plain ``10:00`` as the base-60 integer 600, and
``08:00`` (not a valid base-60 number) as text: a day's ``shift: [10:00, 18:00]`` became 00:10 to
00:18 without a word. This loader reads such scalars as YAML 1.2 does, as text (``"10:00"``),
so that a clock time reaches the readers' clock parsing as the user wrote it, quoted or not.

It lives in ``routing`` so that both ``routing.pooling`` and ``api`` can use it (``api`` may
import ``routing``, never the other way round).
"""

from __future__ import annotations

import re
from typing import Any

import yaml
from yaml.constructor import ConstructorError

_MERGE_TAG = "tag:yaml.org,2002:merge"
_NUMBER_TAGS = ("tag:yaml.org,2002:int", "tag:yaml.org,2002:float")


class _NotBase60:
    """A YAML 1.1 int or float pattern that no longer matches base-60 numbers (``10:00``,
    ``1:30:00``, ``-1:30``, ``10:00.5``): they are the only numbers written with a ``:``."""

    def __init__(self, pattern: re.Pattern[str]) -> None:
        self.pattern = pattern

    def match(self, value: str) -> re.Match[str] | None:
        return None if ":" in value else self.pattern.match(value)


def _without_base_60(
    resolvers: dict[str, list[tuple[str, Any]]],
) -> dict[str, list[tuple[str, Any]]]:
    """A copy of a loader's implicit resolvers in which no plain scalar with a ``:`` is a
    number, so that it stays text (see module)."""
    return {
        first: [(tag, _NotBase60(rx) if tag in _NUMBER_TAGS else rx) for tag, rx in listed]
        for first, listed in resolvers.items()
    }


class StrictLoader(yaml.SafeLoader):
    """`yaml.SafeLoader` that refuses a key given twice in one mapping, and reads a plain
    ``10:00`` as the text "10:00", not as YAML 1.1's base-60 integer 600.

    Keys brought in by a merge (``<<: *base``) may be overridden, as YAML intends; only keys
    written twice in the same mapping are refused.
    """

    yaml_implicit_resolvers = _without_base_60(yaml.SafeLoader.yaml_implicit_resolvers)

    def construct_mapping(self, node: yaml.Node, deep: bool = False) -> dict[Any, Any]:
        if isinstance(node, yaml.MappingNode):
            first_line: dict[Any, int] = {}
            for key_node, _ in node.value:
                if key_node.tag == _MERGE_TAG:
                    continue
                key = self.construct_object(key_node, deep=True)
                try:
                    seen = key in first_line
                except TypeError:  # an unhashable key: SafeLoader's own error says so
                    break
                if seen:
                    raise ConstructorError(
                        None,
                        None,
                        f"duplicate key '{key}' (first given on line {first_line[key]})",
                        key_node.start_mark,
                    )
                first_line[key] = key_node.start_mark.line + 1
        return super().construct_mapping(node, deep=deep)


def load_strict(text: str) -> Any:
    """Parse one YAML document like `yaml.safe_load`, refusing repeated keys and keeping a
    plain ``10:00`` as text (see module)."""
    return yaml.load(text, Loader=StrictLoader)
