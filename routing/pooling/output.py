"""Write a compared day to a folder: JSON summary, per-firm CSV, GeoJSON routes, a bar chart."""

from __future__ import annotations

import csv
import json
from pathlib import Path
from typing import Any

from routing.pooling.chart import cost_chart
from routing.pooling.compare import DayResult
from routing.pooling.transfer import haul_features


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
    for kind, features in route_features(result).items():
        files[f"routes_{kind}"] = out / f"routes_{kind}.geojson"
        collection = {"type": "FeatureCollection", "features": features}
        files[f"routes_{kind}"].write_text(json.dumps(collection))
    title = f"{result.day.name}\ncost per firm: alone vs its Shapley share"
    cost_chart(rows, files["chart"], plans=list(result.splits), title=title)
    return files


def route_features(result: DayResult) -> dict[str, list[dict[str, Any]]]:
    """GeoJSON features of each plan's routes (legs straight), pooled plans with their line
    haul; each feature's ``plan`` (and a solo route's ``firm``) says whose it is."""
    plans = {
        "solo": list(result.solo.items()),
        **{kind: [(kind, plan)] for kind, plan in result.pooled_plans().items()},
    }
    out = {}
    for kind, solved in plans.items():
        features = []
        for owner, plan in solved:
            features += haul_features(result.day, kind, plan.line_haul())
            for feature in plan.solution.to_geojson()["features"]:
                feature["properties"]["plan"] = kind
                if kind == "solo":
                    feature["properties"]["firm"] = owner
                features.append(feature)
        out[kind] = features
    return out
