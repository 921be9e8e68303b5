"""A day-level saving's percent is None where the solo plans' figure is 0 and the pooled one's
is not (`routing.pooling.figures.savings`, as a firm's `saving_percent` already was); the
report prints "n/a" for it, where "%.0f" of None failed the whole report."""

import html
import json
import re
from pathlib import Path

from api.report.html import write_report
from routing.pooling.figures import Figures, savings


def test_a_day_saving_on_a_zero_base_has_no_percent() -> None:
    saved = savings(Figures(vehicle_km=0.0, cost=10.0), Figures(vehicle_km=3.5, cost=10.0))
    assert saved["vehicle_km"] == {"saved": -3.5, "percent": None}
    assert saved["cost"] == {"saved": 0.0, "percent": 0.0}  # nothing changed: 0 %, not n/a


def test_the_report_prints_n_a_for_a_saving_without_percent(generated_run: Path) -> None:
    path = generated_run / "summary.json"
    summary = json.loads(path.read_text())
    summary["savings_vs_solo"] = {
        "pooled": {"vehicle_km": {"saved": -3.5, "percent": None},
                   "cost": {"saved": 40.0, "percent": 25.0}},
    }  # fmt: skip
    path.write_text(json.dumps(summary))
    page = re.sub(r"<script>.*?</script>", "", write_report(generated_run).read_text(), flags=re.S)
    table = re.search(r'<table id="plans-table".*?</table>', page, re.S).group(0)
    rows = {
        cells[0]: cells[1:]
        for cells in (
            [html.unescape(re.sub(r"<[^>]+>", "", c)).strip()
             for c in re.findall(r"<t[dh][^>]*>(.*?)</t[dh]>", row, re.S)]
            for row in re.findall(r"<tr>(.*?)</tr>", table, re.S)
        )
    }  # fmt: skip
    assert rows["Vehicle-km saved vs solo"][1] == "-3.5 (n/a)"
    assert rows["Cost (cost units) saved vs solo"][1] == "40.0 (25 %)"
