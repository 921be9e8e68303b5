"""The first line of a Li & Lim file: `vehicles capacity speed` as published, or `vehicles
capacity` as some copies have it (speed 1); anything else is one line naming the field."""

from __future__ import annotations

from pathlib import Path

import pytest

from routing.io._benchmark import InstanceFormatError
from routing.io.lilim import read_lilim

TASKS = """0\t0\t0\t0\t0\t100\t0\t0\t0
1\t3\t4\t4\t0\t50\t5\t0\t2
2\t3\t-4\t-4\t0\t80\t5\t1\t0
"""


def _file(tmp_path: Path, first: str) -> Path:
    path = tmp_path / "lc.txt"
    path.write_text(f"{first}\n{TASKS}")
    return path


def test_a_first_line_without_the_speed_reads_as_speed_one(tmp_path: Path) -> None:
    """Not a defect (the reader took it before this test): kept so it stays read."""
    full = read_lilim(_file(tmp_path, "2\t10\t1"))
    short = read_lilim(_file(tmp_path, "2\t10"))
    assert short == full and len(short.vehicles) == 2 and short.vehicles[0].capacity == (10,)


@pytest.mark.parametrize(
    ("first", "message"),
    [
        ("2\t10\t1\t7", "first line must be 'vehicles capacity speed' (or 'vehicles capacity'), "
                        "got 4 values"),
        ("0\t0\t0\t0\t0\t100\t0\t0\t0", "first line must be 'vehicles capacity speed' (or "
                                        "'vehicles capacity'), got 9 values"),
        ("0\t10\t1", "first line: vehicles '0' is not a whole number above 0 (the line is "
                     "'vehicles capacity speed')"),
        ("2\t-10", "first line: capacity '-10' is not a whole number above 0 (the line is "
                   "'vehicles capacity speed')"),
    ],
)  # fmt: skip
def test_a_first_line_of_another_shape_is_refused_naming_the_field(
    tmp_path: Path, first: str, message: str
) -> None:
    """A value too many was ignored; a file without this line (its depot's task line first)
    and a fleet of 0 failed as the model's "vehicles: at least 1 item", naming neither."""
    with pytest.raises(InstanceFormatError) as err:
        read_lilim(_file(tmp_path, first))
    assert str(err.value) == f"lc.txt: {message}"
