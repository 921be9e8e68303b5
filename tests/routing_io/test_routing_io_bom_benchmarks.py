"""A benchmark text file saved with a UTF-8 byte order mark (Windows Notepad's) reads as the
same file without one: the mark is no part of the first value."""

from __future__ import annotations

from pathlib import Path

import pytest

from routing.io import read_problem


@pytest.mark.parametrize("fmt", ["lilim", "vrplib", "solomon"])
def test_a_benchmark_file_reads_the_same_after_a_byte_order_mark(
    tiny_files: dict[str, Path], tmp_path: Path, fmt: str
) -> None:
    plain = tiny_files[fmt]
    marked = tmp_path / "bom" / plain.name
    marked.parent.mkdir()
    marked.write_bytes(b"\xef\xbb\xbf" + plain.read_bytes())
    assert read_problem(marked, format=fmt) == read_problem(plain, format=fmt)
