"""A plan says what it spends and what its objective counts, and warns of unit slips.

`gongpei site` gave no money at all (a money-budget plan could not be checked against its
budget), the facility objective added money to parcel-metres a day without a word, and a radius
typed in km, capacities of 0 or a dwell in hours ran silently to plans serving nothing."""

from __future__ import annotations

import json
import logging
import math
import subprocess
import sys
from pathlib import Path

import pytest

from routing.siting import SitingModel, solve
from routing.siting.model import Sizing
from routing.siting.points import Candidate, DemandPoint, instance_from_points

LAT, LON = 36.067, 120.383
M = 1 / 111_320  # about one metre of latitude, in degrees
ROOT = Path(__file__).resolve().parents[2]


def _instance(cost: float = 1000.0, capacity: float = math.inf, radius_m: float = 400):
    demand = [DemandPoint(f"d{k}", LAT + 150 * k * M, LON, 10 + 5 * k) for k in range(4)]
    sites = [
        Candidate(f"s{k}", LAT + (250 * k + 20) * M, LON, fixed_cost=cost, capacity=capacity)
        for k in range(3)
    ]
    return instance_from_points(demand, sites, radius_m=radius_m, straight_line=True)


def test_a_sized_budget_plan_says_what_it_spends_of_its_budget() -> None:
    inst = _instance()
    plan = solve(inst, SitingModel("maxcover", budget=30_000, sizing=Sizing()))
    s, sites = plan.summary(), plan.to_dict()["sites"]
    assert s["budget"] == 30_000 and s["spent"] <= 30_000
    assert s["fixed_cost"] == 1000.0 * s["open_sites"]
    prices = {"S": 300.0, "M": 400.0, "L": 550.0}  # DEFAULT_COMPARTMENTS
    built = sum(prices[k] * n for site in sites for k, n in site["compartments"].items())
    assert s["compartment_cost"] == pytest.approx(built) and built > 0
    assert s["spent"] == pytest.approx(s["fixed_cost"] + s["compartment_cost"])
    assert sum(site["fixed_cost"] + site["compartment_cost"] for site in sites) == pytest.approx(
        s["spent"]
    )
    assert "budget" not in solve(inst, SitingModel("maxcover", p=1)).summary()


def test_the_facility_objective_is_split_into_money_and_parcel_metres() -> None:
    inst = _instance(cost=500.0)
    plan = solve(inst, SitingModel("facility"))
    s = plan.summary()
    assert s["objective"] == pytest.approx(s["spent"] + s["assignment_cost"])
    assert s["assignment_cost"] == pytest.approx(s["mean_distance"] * s["served_parcels"])
    assert s["assignment_cost"] > 0 and s["spent"] == 500.0 * s["open_sites"]
    assert s["objective_unit"] == "money + parcel-m a day, one for one"
    assert plan.to_dict()["summary"]["objective_unit"] == s["objective_unit"]


def _native(folder: Path, model: dict, radius_m: float = 400, capacity: float | None = None):
    demand = [
        {"id": f"d{k}", "lat": LAT + 150 * k * M, "lon": LON, "parcels": 10 + 5 * k}
        for k in range(4)
    ]
    sites = [
        {"id": f"s{k}", "lat": LAT + 250 * k * M, "lon": LON, "fixed_cost": 1000}
        | ({} if capacity is None else {"capacity": capacity})
        for k in range(3)
    ]
    path = folder / "case.json"
    spec = {"name": "case", "radius_m": radius_m, "straight_line": True, "demand": demand,
            "candidates": sites, "model": model}  # fmt: skip
    path.write_text(json.dumps(spec))
    return path


def _site(*args: str):
    from typer.testing import CliRunner

    from api.cli.main import app

    return CliRunner().invoke(app, ["site", *args])


def _amount(value: float) -> str:
    return f"{value:,.2f}".rstrip("0").rstrip(".")


def test_the_cli_line_gives_the_money_spent_of_the_budget(tmp_path: Path) -> None:
    model = {"kind": "maxcover", "budget": 20000, "sizing": {"dwell_days": 1.5}}
    out = tmp_path / "plan.json"
    run = _site(str(_native(tmp_path, model)), "--format", "native", "-o", str(out))
    assert run.exit_code == 0, run.exception
    s = json.loads(out.read_text())["summary"]
    assert f", spent {_amount(s['spent'])} of 20,000, " in run.stdout
    assert "(parcels a day served; " in run.stdout


def test_the_cli_line_splits_the_facility_objective(tmp_path: Path) -> None:
    out = tmp_path / "plan.json"
    run = _site(str(_native(tmp_path, {"kind": "facility"})), "--format", "native", "-o", str(out))
    assert run.exit_code == 0, run.exception
    s = json.loads(out.read_text())["summary"]
    spent, walked = (_amount(s[key]) for key in ("spent", "assignment_cost"))
    assert f"(money + parcel-m a day, one for one: {spent} + {walked}; " in run.stdout


def _warnings(caplog: pytest.LogCaptureFixture) -> list[str]:
    return [r.getMessage() for r in caplog.records if r.name == "gongpei.siting"]


def test_a_radius_in_km_warns_that_no_point_is_in_reach(caplog) -> None:
    inst = _instance(radius_m=0.3)
    with caplog.at_level(logging.WARNING, logger="gongpei.siting"):
        plan = solve(inst, SitingModel("maxcover", p=2))
        again = solve(inst, SitingModel("maxcover", p=1))  # a curve's next point
    said = (
        "no demand point is in reach of any candidate site within 0.3 m: the plan serves "
        "nothing (radius_m is in metres)"
    )
    assert plan.warnings == [said] == again.warnings
    assert _warnings(caplog) == [said]  # logged once for the instance, not at every point


def test_capacities_of_zero_warn_that_the_plan_serves_nothing() -> None:
    plan = solve(_instance(capacity=0.0), SitingModel("maxcover", p=2, capacitated=True))
    assert plan.summary()["served_parcels"] == 0
    assert plan.warnings == [
        "every candidate site has capacity 0: a capacitated plan serves nothing",
        "the plan serves no parcel, though 70 parcels a day are in reach of the candidate sites",
    ]
    # the same sites uncapacitated serve everyone, and say nothing
    assert solve(_instance(capacity=0.0), SitingModel("maxcover", p=2)).warnings == []


def test_a_dwell_in_hours_warns() -> None:
    plan = solve(_instance(), SitingModel("maxcover", p=1, sizing=Sizing(dwell_days=36)))
    assert plan.warnings == [
        "sizing: dwell_days 36 is the days a parcel waits in its compartment (not hours): a "
        "compartment then takes 0.0278 parcels a day"
    ]
    assert solve(_instance(), SitingModel("maxcover", p=1, sizing=Sizing())).warnings == []


def test_the_cli_prints_the_warnings_once_and_keeps_them_in_the_plan(tmp_path: Path) -> None:
    """In a process of its own: the log's stderr is what a user sees (pytest's log capture
    would take it from an in-process run)."""
    path = _native(tmp_path, {"kind": "maxcover", "p": 2, "capacitated": True}, capacity=0)
    out, curve = tmp_path / "plan.json", tmp_path / "curve.png"
    args = [str(path), "--format", "native", "-o", str(out), "--curve", str(curve)]
    run = subprocess.run(
        [sys.executable, "-m", "api.cli.main", "site", *args, "--curve-max", "3"],
        cwd=ROOT, capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert run.returncode == 0, run.stderr
    warnings = json.loads(out.read_text())["warnings"]
    assert len(warnings) == 2 and all(run.stderr.count(text) == 1 for text in warnings)
