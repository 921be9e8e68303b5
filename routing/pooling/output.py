"""Write a compared day to a folder: JSON summary, per-firm CSV, GeoJSON routes, a bar chart."""

from __future__ import annotations

import csv
import json
from pathlib import Path
from typing import Any

from routing.pooling.compare import DayResult, SolvedPlan


def write_outputs(result: DayResult, outdir: str | Path) -> dict[str, Path]:
    """Write every output file into ``outdir`` (created if needed); returns them by kind."""
    out = Path(outdir)
    out.mkdir(parents=True, exist_ok=True)
    files = {
        "summary": out / "summary.json",
        "firms": out / "firms.csv",
        "chart": out / "cost_per_firm.png",
    }
    files["summary"].write_text(json.dumps(result.summary(), indent=2, ensure_ascii=False))
    rows = result.firm_rows()
    with files["firms"].open("w", newline="", encoding="utf-8") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
    plans = {
        "solo": list(result.solo.items()),
        "pooled": [("pooled", result.pooled)],
        "lockers": [("lockers", result.lockers)],
    }
    for kind, solved in plans.items():
        files[f"routes_{kind}"] = out / f"routes_{kind}.geojson"
        collection = {"type": "FeatureCollection", "features": _features(kind, solved)}
        files[f"routes_{kind}"].write_text(json.dumps(collection))
    _cost_chart(result, files["chart"])
    return files


def _features(kind: str, solved: list[tuple[str, SolvedPlan]]) -> list[dict[str, Any]]:
    features = []
    for owner, plan in solved:
        for feature in plan.solution.to_geojson()["features"]:
            feature["properties"]["plan"] = kind
            if kind == "solo":
                feature["properties"]["firm"] = owner
            features.append(feature)
    return features


def _cost_chart(result: DayResult, path: Path) -> None:
    """Bar chart of each firm's cost: alone versus its Shapley share of each pooled plan."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    import numpy as np

    firms = result.day.firm_ids()
    series = [("solo", [result.solo[f].figures.cost for f in firms], None)]
    for kind, split in result.splits.items():
        shares = [split.shapley.shares[f] for f in firms]
        errors = [split.shapley.ci_halfwidth.get(f, 0.0) for f in firms]
        series.append((f"{kind} (Shapley)", shares, errors if any(errors) else None))
    x = np.arange(len(firms))
    width = 0.8 / len(series)
    fig, ax = plt.subplots(figsize=(max(6.5, 0.9 * len(firms) + 2), 4.5))
    for k, (label, values, errors) in enumerate(series):
        ax.bar(x + (k - (len(series) - 1) / 2) * width, values, width, label=label, yerr=errors)
    ax.set_xticks(x, firms, rotation=30 if len(firms) > 6 else 0)
    ax.set_ylabel("cost per day")
    ax.set_title(f"{result.day.name}\ncost per firm: alone vs its Shapley share", fontsize=10)
    ax.legend(loc="upper center", bbox_to_anchor=(0.5, -0.12), ncol=len(series), frameon=False)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
