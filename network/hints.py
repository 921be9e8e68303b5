"""The name a misspelt one likely meant, for "did you mean" hints in input errors."""

from __future__ import annotations

import difflib
from collections.abc import Iterable


def close_name(name: str, names: Iterable[str], *, cutoff: float = 0.8) -> str | None:
    """The one of ``names`` that ``name`` most likely misspells (difflib's ratio of at least
    ``cutoff``, ignoring case), or None: an unknown key is most often a typo of a known one,
    and saying which saves the user a trip to the docs. Names of one or two letters are
    matched only but for case, since any short word is "close" to them."""
    folded = {str(known).casefold(): str(known) for known in names}
    word = str(name).strip().casefold()
    if word in folded:
        return folded[word]
    longer = [known for known in folded if len(known) > 2]
    close = difflib.get_close_matches(word, longer, n=1, cutoff=cutoff)
    return folded[close[0]] if close else None


def did_you_mean(meant: str | None) -> str:
    """The end of an input error naming the name likely meant (``"; did you mean 'x'?"``), or
    nothing: one wording for every reader's "unknown field" and "unknown key"."""
    return f"; did you mean '{meant}'?" if meant else ""
