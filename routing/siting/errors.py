"""Typed errors for locker siting: each names the item and the field at fault."""

from network.errors import GongpeiError


class SitingInputError(GongpeiError):
    """A siting instance, option or native input file is invalid (names the item and field)."""


class OrlibFormatError(SitingInputError):
    """An OR-Library file is malformed; the message names the file, line and what was expected."""


class CandidateOffGraphError(SitingInputError):
    """A candidate site cannot be snapped to the walk graph within the allowed distance."""
