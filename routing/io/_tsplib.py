"""TSPLIB/VRPLIB text: its ``KEY : VALUE`` fields and ``*_SECTION`` rows, and its edge weights.

Parsed here, not by the `vrplib` package (2.2), which reads each section's rows in file order
and drops the node ids they carry (a section listed out of order put demands on the wrong
nodes), takes any line holding ``_SECTION`` or ``EOF`` for a marker (a ``COMMENT`` naming a
section made a valid file unreadable), knows two of TSPLIB's nine explicit matrix layouts
(a full matrix only one row a line) and none of ``ATT``, ``GEO`` or ``MAN_2D``. Every error
names the file's line.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from routing.io._benchmark import InstanceFormatError

_SECTION = re.compile(r"([A-Z][A-Z0-9_]*_SECTION)\s*:?\s*")
_NUMBER = re.compile(r"[-+]?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?")

#: Edge weight types and how each turns coordinates into a weight (TSPLIB95, section 2).
WEIGHT_TYPES = ("EUC_2D", "CEIL_2D", "ATT", "GEO", "MAN_2D", "MAX_2D", "EXPLICIT")
#: The explicit layouts, each as the (row, column) order its values fill one triangle in
#: (the ``*_COL`` layouts of a symmetric matrix are the other triangle's ``*_ROW``).
MATRIX_FORMATS = (
    "FULL_MATRIX",
    "UPPER_ROW",
    "LOWER_ROW",
    "UPPER_DIAG_ROW",
    "LOWER_DIAG_ROW",
    "UPPER_COL",
    "LOWER_COL",
    "UPPER_DIAG_COL",
    "LOWER_DIAG_COL",
)


@dataclass
class Section:
    """A ``NAME_SECTION`` and its rows of numbers, each with the file line it is on."""

    line: int
    rows: list[tuple[int, list[float]]] = field(default_factory=list)


@dataclass
class TsplibText:
    """The fields (upper-case keys, each value with its line) and sections of one file."""

    path: Path
    fields: dict[str, tuple[int, str]]
    sections: dict[str, Section]

    def where(self, line: int) -> str:
        return f"{self.path.name} line {line}"

    def error(self, line: int, message: str) -> InstanceFormatError:
        return InstanceFormatError(f"{self.where(line)}: {message}")

    def text(self, key: str) -> str | None:
        got = self.fields.get(key)
        return None if got is None else got[1]

    def number(self, key: str, *, whole: bool = False, least: float = 0.0) -> float | None:
        """The field as a number (a whole one if ``whole``) >= ``least``, None when absent."""
        if key not in self.fields:
            return None
        line, raw = self.fields[key]
        try:
            value = float(raw)
        except ValueError:
            raise self.error(line, f"{key}: '{raw}' is not a number") from None
        if not math.isfinite(value) or value < least or (whole and value != int(value)):
            kind = "a whole number" if whole else "a number"
            raise self.error(line, f"{key}: {raw} must be {kind} >= {least:g}")
        return value

    def node_rows(self, name: str, n: int, width: int) -> np.ndarray | None:
        """A node section as an (n, width) array indexed by node (row i: node i + 1), None
        when absent. Each row is a node id and ``width`` values; each node 1..n once, in any
        order."""
        section = self.sections.get(name)
        if section is None:
            return None
        out = np.full((n, width), np.nan)
        seen: dict[int, int] = {}
        for line, row in section.rows:
            if len(row) != width + 1:
                raise self.error(
                    line, f"{name}: a row holds a node id and {width} value(s), got {len(row)}"
                )
            node = row[0]
            if node != int(node) or not 1 <= node <= n:
                raise self.error(line, f"{name}: node {row[0]:g} is not one of 1..{n}")
            if int(node) in seen:
                raise self.error(
                    line, f"{name}: node {int(node)} is listed twice (also line {seen[int(node)]})"
                )
            seen[int(node)] = line
            out[int(node) - 1] = row[1:]
        if len(seen) < n:
            missing = min(set(range(1, n + 1)) - set(seen))
            raise self.error(
                section.line,
                f"{name}: {len(seen)} rows for DIMENSION {n} nodes; node {missing} has none",
            )
        return out


def parse_tsplib(path: Path) -> TsplibText:
    """The fields and sections of a TSPLIB/VRPLIB file; a section runs from its name to the
    next field, section or ``EOF`` line."""
    try:
        lines = path.read_text(encoding="utf-8-sig", errors="strict").splitlines()
    except (OSError, UnicodeDecodeError) as err:
        raise InstanceFormatError(f"{path.name}: cannot read ({err})") from None
    text = TsplibText(path, {}, {})
    current: Section | None = None
    for number, raw in enumerate(lines, start=1):
        line = raw.strip()
        if not line:
            continue
        if line == "EOF":
            break
        header = _SECTION.fullmatch(line)
        if header:
            name = header.group(1)
            if name in text.sections:
                raise text.error(number, f"{name} appears twice")
            current = text.sections[name] = Section(number)
        elif current is not None and _NUMBER.match(line):
            current.rows.append((number, _numbers(text, number, line)))
        elif ":" in line:
            key, value = (part.strip() for part in line.split(":", 1))
            key = key.upper()
            if key in text.fields:
                raise text.error(number, f"{key} is given twice")
            text.fields[key] = (number, value)
            current = None
        else:
            raise text.error(
                number, f"'{line[:40]}' is neither 'KEY : VALUE', a section name nor a data row"
            )
    return text


def _numbers(text: TsplibText, line: int, content: str) -> list[float]:
    try:
        return [float(token) for token in content.split()]
    except ValueError:
        bad = next(t for t in content.split() if not _NUMBER.fullmatch(t))
        raise text.error(line, f"'{bad}' is not a number") from None


def explicit_weights(text: TsplibText, n: int, layout: str) -> np.ndarray:
    """The n x n matrix of an ``EDGE_WEIGHT_SECTION`` read as one stream of values, whatever
    its line breaks, in the given ``EDGE_WEIGHT_FORMAT``."""
    section = text.sections.get("EDGE_WEIGHT_SECTION")
    if section is None:
        raise InstanceFormatError(f"{text.path.name}: EXPLICIT weights need EDGE_WEIGHT_SECTION")
    values = np.array([v for _, row in section.rows for v in row], dtype=np.float64)
    if layout == "FULL_MATRIX":
        rows, cols = np.divmod(np.arange(n * n), n)
    else:
        row_wise = layout.replace("_COL", "_ROW")
        if layout.endswith("_COL"):  # a column of one triangle is a row of the other
            flip = {"UPPER": "LOWER", "LOWER": "UPPER"}
            side, rest = row_wise.split("_", 1)
            row_wise = f"{flip[side]}_{rest}"
        rows, cols = _triangle(n, row_wise)
    if len(values) != len(rows):
        raise text.error(
            section.line,
            f"EDGE_WEIGHT_SECTION: {len(values)} values; {layout} of DIMENSION {n} needs "
            f"{len(rows)}",
        )
    matrix = np.zeros((n, n))
    matrix[rows, cols] = values
    if layout != "FULL_MATRIX":
        matrix[cols, rows] = values
    return matrix


def _triangle(n: int, layout: str) -> tuple[np.ndarray, np.ndarray]:
    """(row, column) of each value of a row-wise triangle layout, in file order."""
    diagonal = "_DIAG_" in layout
    if layout.startswith("UPPER"):
        rows, cols = np.triu_indices(n, k=0 if diagonal else 1)
    else:
        rows, cols = np.tril_indices(n, k=0 if diagonal else -1)
    return rows, cols


def coordinate_weights(coords: np.ndarray, kind: str, *, exact: bool = False) -> np.ndarray:
    """Weights from 2-D coordinates by TSPLIB's rule for ``kind``; ``exact`` leaves EUC_2D
    unrounded (the convention of sets whose best-known costs are real numbers)."""
    x, y = coords[:, 0], coords[:, 1]
    dx, dy = x[:, None] - x[None, :], y[:, None] - y[None, :]
    if kind == "GEO":
        return _geo(x, y)
    if kind == "ATT":
        r = np.sqrt((dx**2 + dy**2) / 10.0)
        t = np.floor(r + 0.5)
        return np.where(t < r, t + 1.0, t)
    if kind == "MAN_2D":
        return np.floor(np.abs(dx) + np.abs(dy) + 0.5)
    if kind == "MAX_2D":
        return np.maximum(np.floor(np.abs(dx) + 0.5), np.floor(np.abs(dy) + 0.5))
    length = np.sqrt(dx**2 + dy**2)
    if kind == "CEIL_2D":
        return np.ceil(length)
    return length if exact else np.floor(length + 0.5)  # TSPLIB's nint


def _geo(x: np.ndarray, y: np.ndarray) -> np.ndarray:
    """TSPLIB's GEO distance in whole km: coordinates are DDD.MM (degrees and minutes),
    degrees truncated as in Concorde and the published optima."""

    def radians(v: np.ndarray) -> np.ndarray:
        degrees = np.trunc(v)
        return 3.141592 * (degrees + 5.0 * (v - degrees) / 3.0) / 180.0

    lat, lon = radians(x), radians(y)
    q1 = np.cos(lon[:, None] - lon[None, :])
    q2 = np.cos(lat[:, None] - lat[None, :])
    q3 = np.cos(lat[:, None] + lat[None, :])
    arc = np.arccos(np.clip(0.5 * ((1.0 + q1) * q2 - (1.0 - q1) * q3), -1.0, 1.0))
    weights = np.floor(6378.388 * arc + 1.0)
    np.fill_diagonal(weights, 0.0)
    return weights
