"""The keys a pydantic model allows at a place in its input, for "unknown key" hints."""

from __future__ import annotations

import typing
from collections.abc import Iterator, Sequence
from typing import Any

from pydantic import BaseModel


def keys_at(model: type[BaseModel], loc: Sequence[str | int]) -> list[str]:
    """The field names the mapping at ``loc`` (a pydantic error's path, the unknown key left
    off) may hold under ``model``, in the order the models declare them: what a "did you
    mean" hint (`network.hints.close_name`) picks from, or a message lists. A list's index, or
    the name pydantic gives a union's member, picks no key; a path the model does not know
    gives none."""
    models: list[type[BaseModel]] = [model]
    for part in loc:
        if isinstance(part, int):
            continue  # an item of a list: its models are those of the list's field
        named = [m for m in models if m.__name__ == part]
        models = named or [
            inner
            for outer in models
            if part in outer.model_fields
            for inner in _models_in(outer.model_fields[part].annotation)
        ]
    return list(dict.fromkeys(key for m in models for key in m.model_fields))


def _models_in(annotation: Any) -> Iterator[type[BaseModel]]:
    """The models a field's type holds: itself, or inside Optional, a union, a list, Annotated."""
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        yield annotation
    for arg in typing.get_args(annotation):
        yield from _models_in(arg)
