"""Strict YAML: the one loader for the files people write by hand (pooling days, scenarios).

YAML lets a mapping repeat a key, and PyYAML keeps the last value without a word: a day with
two ``parcels:`` sections, or a parcel with ``kg: 2`` and ``kg: 20``, silently lost the first.
This loader refuses a repeated key as a `yaml.MarkedYAMLError` at the repeat, so each
reader's existing handling of YAML errors reports it with its line, as it does a syntax error.

It lives in ``routing`` so that both ``routing.pooling`` and ``api`` can use it (``api`` may
import ``routing``, never the other way round).
"""

from __future__ import annotations

from typing import Any

import yaml
from yaml.constructor import ConstructorError

_MERGE_TAG = "tag:yaml.org,2002:merge"


class StrictLoader(yaml.SafeLoader):
    """`yaml.SafeLoader` that refuses a key given twice in one mapping.

    Keys brought in by a merge (``<<: *base``) may be overridden, as YAML intends; only keys
    written twice in the same mapping are refused.
    """

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
    """Parse one YAML document like `yaml.safe_load`, refusing repeated keys (see module)."""
    return yaml.load(text, Loader=StrictLoader)
