"""Where no split of a pooled plan can be stable (the core is empty), the report says so and
gives the least-core split, as `gongpei pool` does: it listed the groups that would pay less
on their own (Xinjiekou's office towers: four) and left the reader to wonder whether any split
could keep them, while summary.json had `core_empty` and the least-core shares."""

import html
import json
import re
from pathlib import Path

from api.report.html import write_report

SPLIT = {"method": "exact", "coalitions_solved": 15, "in_core": False,
         "blocking_coalitions": [{"firms": ["F0", "F1"], "pays": 162.89, "alone": 162.03}]}
LEAST = {"excess": 6.25, "relative_excess": 0.0236,
         "shares": {"F0": 91.39, "F1": 94.66, "F2": 80.64, "F3": 85.21}}


def _split_text(run: Path, split: dict) -> str:
    path = run / "summary.json"
    summary = json.loads(path.read_text())
    summary["splits"] = {"pooled": split}
    path.write_text(json.dumps(summary))
    page = write_report(run).read_text()
    found = re.search(r'<p class="split">(.*?)</p>', page, re.S).group(1)
    return " ".join(html.unescape(re.sub(r"<[^>]+>", "", found)).split())


def test_an_empty_core_is_said_with_the_least_core_split(generated_run: Path) -> None:
    text = _split_text(generated_run, {**SPLIT, "core_empty": True, "least_core": LEAST})
    assert "1 group(s) of firms would pay less on their own" in text
    assert "No split can be stable (the core is empty)" in text
    assert ("the least-core split, where no group pays more than 6.2 over its cost on its own: "
            "F0 91.4, F1 94.7, F2 80.6, F3 85.2.") in text


def test_a_core_that_is_not_empty_names_no_least_core(generated_run: Path) -> None:
    text = _split_text(generated_run, {**SPLIT, "core_empty": False, "least_core": LEAST})
    assert "would pay less on their own" in text and "core is empty" not in text
