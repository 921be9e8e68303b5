"""Read point lists (CSV with columns id,lat,lon) for matrices and snapping."""

from __future__ import annotations

import csv
import io
import math
import os
from pathlib import Path

from network.errors import BuiltGraphError

COLUMNS = ("id", "lat", "lon")
# Tried in order. UTF-8 first (with or without a BOM: Excel's "CSV UTF-8"): it is strict, so
# GBK text with Chinese in it almost never passes for it. Then GB18030, the national standard
# and a superset of GBK and GB2312: what Excel's plain "CSV" is on a Chinese Windows machine.
ENCODINGS = ("utf-8", "gb18030")


def read_points_csv(path: str | os.PathLike[str]) -> tuple[list[str], list[tuple[float, float]]]:
    """(ids, [(lat, lon), ...]) from a CSV with header id,lat,lon (other columns ignored).

    The text is UTF-8 or else GB18030 (GBK), see `ENCODINGS`. Every problem names the file, the
    row and the field: bytes of neither encoding, a missing column, a duplicate id, a number
    that is not one. Coordinate ranges are checked later, by snapping.
    """
    path = Path(path)
    if not path.is_file():
        raise BuiltGraphError(f"points file '{path}': no such file")
    ids: list[str] = []
    points: list[tuple[float, float]] = []
    with io.StringIO(_text(path), newline="") as handle:
        reader = csv.DictReader(handle)
        missing = [c for c in COLUMNS if c not in (reader.fieldnames or [])]
        if missing:
            raise BuiltGraphError(
                f"points file '{path}': missing column(s) {', '.join(missing)} "
                f"(expected header id,lat,lon)"
            )
        seen: set[str] = set()
        for row_no, row in enumerate(reader, start=2):
            pid = (row["id"] or "").strip()
            if not pid or pid in seen:
                raise BuiltGraphError(
                    f"points file '{path}' line {row_no}: id {pid!r} is empty or repeated"
                )
            seen.add(pid)
            coords = []
            for field in ("lat", "lon"):
                try:
                    value = float(row[field])
                except (TypeError, ValueError):
                    value = math.nan
                if not math.isfinite(value):
                    raise BuiltGraphError(
                        f"points file '{path}' line {row_no} (id '{pid}'): {field} "
                        f"{row[field]!r} is not a finite number"
                    )
                coords.append(value)
            ids.append(pid)
            points.append((coords[0], coords[1]))
    if not ids:
        raise BuiltGraphError(f"points file '{path}': no points")
    return ids, points


def _text(path: Path) -> str:
    """The file's text in the first of `ENCODINGS` that decodes it whole, without a BOM; else a
    BuiltGraphError naming the line and byte where it stops being UTF-8."""
    data = path.read_bytes()
    errors: list[UnicodeDecodeError] = []
    for encoding in ENCODINGS:
        try:
            return data.decode(encoding).removeprefix("\ufeff")
        except UnicodeDecodeError as err:
            errors.append(err)
    at = errors[0].start
    line = data.count(b"\n", 0, at) + 1
    raise BuiltGraphError(
        f"points file '{path}' line {line}: byte 0x{data[at]:02x} is neither UTF-8 nor GB18030 "
        "(GBK) text; save the file as CSV UTF-8"
    )
