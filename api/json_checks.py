"""Where a JSON body holds what JSON lacks (NaN, Infinity, numbers too large for a float,
integers too long to read): found in about two parses, with no tree walked."""

from __future__ import annotations

import json
import math
import re
import sys

import numpy as np


class _NotFinite(Exception):
    """The first NaN, Infinity, -Infinity or too large a number of a body: raised from the
    parser's hooks, so that the parse stops there."""

    def __init__(self, token: str, msg: str) -> None:
        super().__init__(msg)
        self.token = token
        self.msg = msg


def _refuse_constant(token: str) -> float:
    raise _NotFinite(token, f"JSON decode error: {token} is not JSON (a number must be finite)")


def _refuse_overflow(token: str) -> float:
    value = float(token)
    if math.isfinite(value):
        return value
    shown = token if len(token) <= 24 else f"{token[:20]}..."
    msg = f"JSON decode error: {shown} is too large for a number (a number must be finite)"
    raise _NotFinite(token, msg)


#: What a number too large for a float needs: an exponent of 3 digits, or with one of at most
#: 2 (below 100) at least 210 digits before its point, since it needs 309 in all (1 and 250
#: zeros then e99 got past a search for 309 in a row); searched for from the start of a run
#: only, so a long run costs one pass, not one a digit.
_MAYBE_OVERFLOW = re.compile(rb"[eE][+-]?[0-9]{3}|(?<![0-9])[0-9]{210}")
#: Neither the start nor the end of a JSON number or literal (what stands before and after one).
_EDGE = r"[\w.+-]"
#: Strings and every other character but brackets: what `_open_brackets` removes.
_NOT_A_BRACKET = re.compile(r'"[^"\\]*(?:\\.[^"\\]*)*"|[^\[\]{}"]+')
_CLOSING = str.maketrans("[{", "]}")


def may_be_non_finite(body: bytes) -> bool:
    """Whether a body might hold NaN, Infinity or a number too large for a float, by a byte
    search (a body in UTF-16 or UTF-32, which JSON allows, is not searched: it might)."""
    if not json.detect_encoding(body).startswith("utf-8"):
        return True
    return b"NaN" in body or b"Infinity" in body or _MAYBE_OVERFLOW.search(body) is not None


def _token_start(token: str) -> re.Pattern[str]:
    """The first character of each `token` standing alone (not part of a longer number or
    word): what `_place` marks."""
    rest = re.escape(token[1:])
    return re.compile(f"(?<!{_EDGE}){re.escape(token[0])}(?={rest}(?!{_EDGE}))")


def _long_integer_start() -> re.Pattern[str]:
    """The first character of each integer longer than Python converts, standing alone."""
    digits = sys.get_int_max_str_digits() + 1
    first = f"(?:-(?=[0-9]{{{digits}}})|[0-9](?=[0-9]{{{digits - 1}}}))"
    return re.compile(f"(?<!{_EDGE}){first}(?=[0-9]*+(?!{_EDGE}))")


def _open_brackets(prefix: str) -> str:
    """The brackets still open at the end of ``prefix`` (JSON cut off before a value),
    outermost first. Counted with NumPy: a body may hold millions of brackets."""
    brackets = _NOT_A_BRACKET.sub("", prefix).encode("ascii")
    codes = np.frombuffer(brackets, dtype=np.uint8)
    opening = (codes == ord("[")) | (codes == ord("{"))
    depth = np.cumsum(np.where(opening, 1, -1), dtype=np.int64)
    lowest_after = np.minimum.accumulate(depth[::-1])[::-1]
    return codes[opening & (lowest_after >= depth)].tobytes().decode("ascii")


def _place(text: str, start: re.Pattern[str]) -> list[str | int]:
    """The field path of the first value of the JSON ``text`` that begins where ``start``
    matches outside a string. No tree is walked, so finding it costs about two parses:

    * the parser stops at that value once each match's first character is made an "@"
      (inside a string, an "@" is just text), and says where;
    * the text up to there, closed by a stand-in value and the brackets still open, parses to
      a document whose last member at each level leads to the stand-in: the path."""
    try:
        json.loads(start.sub("@", text))
    except json.JSONDecodeError as err:
        at = err.pos
    else:  # nothing matched outside a string: the body as a whole is to blame
        return []
    opened = _open_brackets(text[:at])
    node = json.loads(text[:at] + "0" + opened[::-1].translate(_CLOSING), object_pairs_hook=list)
    path: list[str | int] = []
    for bracket in opened:
        if bracket == "[":
            path.append(len(node) - 1)
            node = node[-1]
        else:  # an object, as its (key, value) pairs: a repeated key is not merged away
            key, node = node[-1]
            path.append(key)
    return path


def _decoded(body: bytes) -> str:
    """The body as the JSON parser reads it (UTF-8, -16 or -32)."""
    return body.decode(json.detect_encoding(body), "surrogatepass")


def non_finite(body: bytes) -> dict | None:
    """The `json_invalid` problem of the first NaN, Infinity, -Infinity or number too large for
    a float in a JSON body, at its field path, or None. The parse stops at the first one."""
    text = _decoded(body)
    try:
        json.loads(text, parse_constant=_refuse_constant, parse_float=_refuse_overflow)
    except _NotFinite as found:
        loc = ("body", *_place(text, _token_start(found.token)))
        return {"type": "json_invalid", "loc": loc, "msg": found.msg}
    return None


def long_integer_place(body: bytes) -> list[str | int]:
    """The field path of a body's first integer longer than Python converts."""
    return _place(_decoded(body), _long_integer_start())
