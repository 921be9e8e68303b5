"""`--json` on `solve`, `pool`, `site` and `scenario run`: one JSON object on stdout with the
run's summary and the same shared keys in each (a script had to parse English lines, some on
stdout, some on stderr), everything else on stderr, and bad input still one line, exit 2.
Each test failed before `--json` existed (click's "No such option: --json", exit 2)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from cli_killed import DAY

from tests.scenario.test_scenario_audit_runner import SMALL

ROOT = Path(__file__).resolve().parents[2]
SHARED = {"command", "units", "outputs", "warnings", "checker"}


@pytest.fixture
def gongpei(monkeypatch, capsys):
    """Run the real entry point; its exit code, stdout and stderr."""
    from api.cli.main import run

    def invoke(*args: str) -> tuple[int, str, str]:
        monkeypatch.setattr(sys, "argv", ["gongpei", *args])
        with pytest.raises(SystemExit) as stop:
            run()
        captured = capsys.readouterr()
        return stop.value.code, captured.out, captured.err

    return invoke


def one_object(out: str) -> dict:
    """stdout is one JSON object and nothing else, on one line."""
    assert out.endswith("\n") and out.count("\n") == 1, out
    document = json.loads(out)
    assert set(document) >= SHARED, sorted(document)
    assert isinstance(document["warnings"], list)
    for path in document["outputs"].values():
        assert Path(path).is_absolute() and Path(path).is_file(), path
    return document


def test_solve_json_holds_the_summary_and_the_outputs(tmp_path, gongpei):
    plan, lines = tmp_path / "plan.json", tmp_path / "routes.geojson"
    code, out, err = gongpei(
        "solve", str(ROOT / "routing/examples/problem.json"), "-o", str(plan),
        "--geojson", str(lines), "--time-limit", "1", "--json",
    )  # fmt: skip
    assert code == 0, err
    document = one_object(out)
    written = json.loads(plan.read_text())
    assert document["command"] == "solve"
    assert document["cost"] == written["summary"]["cost"]
    assert (document["jobs"], document["unassigned"], document["unassigned_tasks"]) == (6, 0, [])
    assert document["units"]["distance"].startswith("m")
    assert document["outputs"] == {"solution": str(plan.resolve()), "geojson": str(lines.resolve())}
    assert document["checker"] == {"ok": True, "violations": []}
    assert "problem.json: 6 jobs" in err and "checker" in err.lower()  # the human lines


def test_an_interrupted_solve_still_prints_its_json_and_exits_130(tmp_path, gongpei, monkeypatch):
    """The plan so far is written on Ctrl-C: the object names it, and says it was stopped."""
    import signal

    from api.cli import solve_cmd

    solve = solve_cmd.solve_problem

    def interrupted_at_its_end(*args, should_stop, **kwargs):
        solution = solve(*args, should_stop=should_stop, **kwargs)
        should_stop.signum = signal.SIGINT  # as if Ctrl-C came once the plan was found
        return solution

    monkeypatch.setattr(solve_cmd, "solve_problem", interrupted_at_its_end)
    plan = tmp_path / "plan.json"
    code, out, err = gongpei(
        "solve", str(ROOT / "routing/examples/problem.json"), "-o", str(plan), "--json",
        "--time-limit", "1",
    )  # fmt: skip
    assert code == 130, err
    document = one_object(out)
    assert document["outputs"] == {"solution": str(plan.resolve())}
    assert document["warnings"] == [
        "interrupted: the plan is the best found before the search stopped"
    ]
    assert err.splitlines()[-1].startswith(f"interrupted: wrote the best plan so far to {plan}")


def test_pool_json_is_summary_json_with_the_files(tmp_path, gongpei):
    day, outdir = tmp_path / "day.yaml", tmp_path / "out"
    day.write_text(DAY)
    code, out, err = gongpei(
        "pool", str(day), "-o", str(outdir), "--engine", "ortools", "--time-limit", "0.3",
        "--coalition-time-limit", "0.2", "--min-time-limit", "0.1", "--json",
    )  # fmt: skip
    assert code == 0, err
    document = one_object(out)
    summary = json.loads((outdir / "summary.json").read_text())
    assert {k: v for k, v in document.items() if k in summary} == summary
    assert document["command"] == "pool" and document["units"] == summary["units"]
    assert document["outputs"]["summary"] == str((outdir / "summary.json").resolve())
    assert "cost per firm" in err and "all plans pass the checker" in err  # the table too


def test_site_json_has_the_plans_summary_and_no_checker(tmp_path, gongpei):
    plan = tmp_path / "plan.json"
    code, out, err = gongpei(
        "site", str(ROOT / "routing/siting/examples/campus.json"), "--format", "native",
        "-o", str(plan), "--time-limit", "5", "--json",
    )  # fmt: skip
    assert code == 0, err
    document = one_object(out)
    assert {k: document[k] for k in json.loads(plan.read_text())["summary"]} == (
        json.loads(plan.read_text())["summary"]
    )
    assert document["units"]["objective"] == document["objective_unit"]
    assert document["outputs"] == {"plan": str(plan.resolve())}
    assert document["checker"] is None  # siting has no independent checker
    assert f"-> {plan}" in err  # the headline, on stderr in this mode
    assert any(w.startswith("demand: ") for w in document["warnings"])  # logged by siting


def test_scenario_run_json_lists_every_file_written(tmp_path, gongpei):
    scenario, outdir = tmp_path / "s.yaml", tmp_path / "out"
    scenario.write_text(SMALL)
    code, out, err = gongpei("scenario", "run", str(scenario), "-o", str(outdir), "--json")
    assert code == 0, err
    document = one_object(out)
    assert document["command"] == "scenario run"
    assert document["checker"]["ok"] is True and document["units"]["cost"]
    assert document["siting"] == json.loads((outdir / "summary.json").read_text())["siting"]
    files = {str(p.resolve()) for p in outdir.rglob("*") if p.is_file()}
    assert set(document["outputs"].values()) == files
    assert document["outputs"]["report"] == str((outdir / "report.html").resolve())
    assert "report: " in err
    assert any(w.startswith("siting: ") and w in err for w in document["warnings"])  # logged


@pytest.mark.parametrize(
    "args",
    [
        ["solve", "{missing}", "-o", "{tmp}/plan.json"],
        ["pool", "{missing}", "-o", "{tmp}/out"],
        ["site", "{missing}", "--format", "native", "-o", "{tmp}/plan.json"],
        ["scenario", "run", "{missing}", "-o", "{tmp}/out"],
    ],
    ids=lambda args: args[0] if args[0] != "scenario" else "scenario run",
)
def test_bad_input_is_still_one_line_on_stderr_and_exit_2(tmp_path, gongpei, args):
    missing = tmp_path / "nope.json"
    filled = [a.format(missing=missing, tmp=tmp_path) for a in args]
    code, out, err = gongpei(*filled, "--json")
    assert (code, out) == (2, "")
    assert len(err.strip().splitlines()) == 1 and "nope.json" in err, err


def test_a_logged_warning_is_kept_and_still_printed_on_stderr(tmp_path):
    """Without logging set up (`site`, `solve`), the collecting handler had stopped Python's
    last-resort handler printing Gongpei's warnings: they are printed as before and kept."""
    script = (
        "import logging, sys\n"
        "from api.cli.json_out import json_mode\n"
        "with json_mode(True) as kept:\n"
        "    print('to stderr')\n"
        "    logging.getLogger('gongpei.siting').warning('demand: 3 points off the map')\n"
        "print(kept)\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", script], cwd=ROOT, capture_output=True, text=True, check=True
    )
    assert done.stdout == "['demand: 3 points off the map']\n"
    assert done.stderr == "to stderr\ndemand: 3 points off the map\n"

