"""Read point lists (CSV with columns id,lat,lon) for matrices and snapping."""

from __future__ import annotations

import csv
import math
import os
from pathlib import Path

from network.errors import BuiltGraphError

COLUMNS = ("id", "lat", "lon")


def read_points_csv(path: str | os.PathLike[str]) -> tuple[list[str], list[tuple[float, float]]]:
    """(ids, [(lat, lon), ...]) from a CSV with header id,lat,lon (other columns ignored).

    Every problem names the file, the row and the field: a missing column, a duplicate id, a
    number that is not one. Coordinate ranges are checked later, by snapping.
    """
    path = Path(path)
    if not path.is_file():
        raise BuiltGraphError(f"points file '{path}': no such file")
    ids: list[str] = []
    points: list[tuple[float, float]] = []
    with open(path, newline="", encoding="utf-8-sig") as handle:
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
