"""The report says a tiny share of the parcels out of reach as the CLI and the stage note do
("under 0.1 %"): its siting table printed "2 of 446 (0.0 % of the parcels)" for the campus
demo's 0.01 %, read as none at all, beside a note saying "under 0.1 %"."""

import html
import json
import re
from pathlib import Path

from api.report.html import write_report


def _out_of_reach_row(run: Path, share: float) -> str:
    path = run / "summary.json"
    summary = json.loads(path.read_text())
    summary["siting"]["out_of_reach"] = {"points": 2, "of_points": 446, "parcels": 0.12,
                                         "share": share}
    path.write_text(json.dumps(summary))
    page = write_report(run).read_text()
    row = re.search(r'<tr id="out-of-reach">(.*?)</tr>', page, re.S).group(1)
    return html.unescape(re.sub(r"<[^>]+>", "", row))


def test_a_tiny_share_out_of_reach_reads_under_a_tenth_of_a_percent(generated_run: Path) -> None:
    row = _out_of_reach_row(generated_run, 0.0001)
    assert "2 of 446 (under 0.1 % of the parcels)" in row
    assert "0.0 %" not in row


def test_a_share_out_of_reach_reads_as_a_percent(generated_run: Path) -> None:
    assert "2 of 446 (2.5 % of the parcels)" in _out_of_reach_row(generated_run, 0.025)
