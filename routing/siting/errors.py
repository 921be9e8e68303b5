"""Typed errors for locker siting: each names the item and the field at fault."""

from network.errors import GongpeiError


class SitingInputError(GongpeiError):
    """A siting instance, option or native input file is invalid (names the item and field).

    `loc`, where known, is the item's path in the points as handed in (("candidates", 1)), so
    that the API can point its 422 at it; () where the message alone says where."""

    def __init__(self, message: str, *, loc: tuple[str | int, ...] = ()) -> None:
        super().__init__(message)
        self.loc = loc


class OrlibFormatError(SitingInputError):
    """An OR-Library file is malformed; the message names the file, line and what was expected."""


class CandidateOffGraphError(SitingInputError):
    """A candidate site cannot be snapped to the walk graph within the allowed distance."""
