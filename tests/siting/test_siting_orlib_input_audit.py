"""OR-Library files as the other families write them (the format audit's findings): capa, capb
and capc's word `capacity`, a byte-order mark, re-wrapped customers, and what the output says."""

import json

import numpy as np
import pytest
from test_siting_cli import CAP, PMED, site

from routing.siting.errors import OrlibFormatError, SitingInputError
from routing.siting.orlib import read_cap, read_pmed

CAP_WORD = CAP.replace(" 10 100.\n 10 50.\n", " capacity 100.\n capacity 50.\n")


def test_the_word_capacity_asks_for_one_naming_beasleys_values(tmp_path):
    """It was "facility 1 capacity must be a number, got 'capacity'", with no way to give one
    but editing the 1,000-customer file."""
    path = tmp_path / "capa.txt"
    path.write_text(CAP_WORD)
    with pytest.raises(OrlibFormatError) as refused:
        read_cap(path)
    assert str(refused.value).startswith(
        "capa.txt line 2: the facilities' capacity is the word 'capacity', as in capa, capb and "
        "capc: give it with --capacity (Beasley's values: capa: 8000, 10000, 12000, 14000;"
    )
    given = read_cap(path, capacity=10)
    plain = read_cap(_written(tmp_path / "cap.txt", CAP))
    np.testing.assert_array_equal(given.capacity, plain.capacity)
    np.testing.assert_array_equal(given.reach.toarray(), plain.reach.toarray())
    with pytest.raises(OrlibFormatError, match=r"--capacity 10: cap.txt gives every facility"):
        read_cap(tmp_path / "cap.txt", capacity=10)
    with pytest.raises(OrlibFormatError, match=r"--capacity must be a number > 0, got 0"):
        read_cap(path, capacity=0)


def test_cli_capacity_option(tmp_path):
    path, out = _written(tmp_path / "capb.txt", CAP_WORD), tmp_path / "out.json"
    run = site(str(path), "--format", "orlib-cap", "-o", str(out), "--capacity", "10")
    assert run.returncode == 0, run.exception
    assert json.loads(out.read_text())["summary"]["objective"] == pytest.approx(174.0)
    pmed = _written(tmp_path / "p.txt", PMED)
    run = site(str(pmed), "--format", "orlib-pmed", "-o", str(out), "--capacity", "10")
    assert isinstance(run.exception, SitingInputError)
    assert str(run.exception) == "--capacity is for orlib-cap files (capa, capb, capc)"


def test_a_byte_order_mark_is_not_a_value(tmp_path):
    """It was "expected 3 numbers, got ' 4 4 2'", the mark invisible in the message."""
    path = tmp_path / "p.txt"
    path.write_bytes(b"\xef\xbb\xbf" + PMED.encode())
    assert read_pmed(path).p == 2


def test_customers_rewrapped_as_one_stream(tmp_path):
    """A demand sharing its line with costs was refused, though the values may wrap."""
    stream = " 2 3\n 10 100.\n 10 50.\n 4 8\n 40 6 12\n 6 5 10 20.\n"
    got = read_cap(_written(tmp_path / "s.txt", stream))
    plain = read_cap(_written(tmp_path / "c.txt", CAP))
    np.testing.assert_array_equal(got.weight, plain.weight)
    np.testing.assert_array_equal(got.reach.toarray(), plain.reach.toarray())
    with pytest.raises(OrlibFormatError, match=r"customer 1 demand must stand alone"):
        read_cap(_written(tmp_path / "short.txt", stream.replace(" 20.\n", "\n")))


def test_a_capacity_shortfall_is_named_and_the_cost_split(tmp_path):
    """Total capacity below demand printed "(optimal)" and nothing else."""
    short = CAP.replace(" 10 100.\n 10 50.\n", " 4 100.\n 5 50.\n")
    out = tmp_path / "out.json"
    run = site(str(_written(tmp_path / "s.txt", short)), "--format", "orlib-cap", "-o", str(out))
    assert run.returncode == 0, run.exception
    summary = json.loads(out.read_text())["summary"]
    assert summary["capacity_shortfall"] is True and summary["unserved_parcels"] == 6.0
    assert summary["fixed_cost"] + summary["allocation_cost"] == pytest.approx(
        summary["objective"]
    )
    assert "infeasible capacity: total capacity 9 < demand 15; the best plan leaves 6 unserved" in (
        run.stderr
    )


def _written(path, text):
    path.write_text(text)
    return path
