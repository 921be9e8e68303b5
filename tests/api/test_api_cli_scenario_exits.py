"""How `scenario run|sweep`, `site`, `demo` and `pool` end and what they say on stderr: a
warning logged under the live progress bars was written after a bar and then erased, a run or
sweep whose plans broke the day's rules exited 0, SIGTERM left a scenario's staging folder,
Ctrl-C exited 130 without a word (2 for a sweep), a sweep repeated every warning once per
run, and `site` printed a facility objective as 1.013e+06. Each test failed before its fix."""

from __future__ import annotations

import io
import logging
import re
import signal
import sys
from pathlib import Path
from typing import Any

import pytest
from cli_killed import DAY, killed_run
from rich.console import Console

from api.cli.scenario_cmd import setup_logging
from api.scenario import sweep
from api.scenario.progress import StageProgress
from tests.scenario.test_scenario_audit_runner import SMALL

ROOT = Path(__file__).resolve().parents[2]
ANSI = re.compile(r"\x1b\[[0-9;?]*[A-Za-z]")
ERASE_LINE = "\r\x1b[2K"  # what the live display sends before it draws over a line


def _seen(terminal: str) -> list[str]:
    """The lines a terminal shows for ``terminal``'s text (each from its last erase on)."""
    return [ANSI.sub("", line.rpartition(ERASE_LINE)[2]) for line in terminal.split("\n")]


def test_a_warning_under_the_live_bars_is_printed_on_its_own_line(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """On a terminal the handler wrote to the stderr of start-up, straight after the live
    bar ("... 0/1 0:00:00WARNING gongpei.siting: ..."), and the bars' next refresh erased the
    warning's last lines; it writes to the stderr the live display puts in place now."""
    terminal = io.StringIO()
    monkeypatch.setattr(sys, "stderr", terminal)
    setup_logging(quiet=False)
    console = Console(file=terminal, force_terminal=True, width=100)
    with StageProgress(console=console) as progress, progress.step("Reading OSM buildings"):
        logging.getLogger("gongpei.siting").warning("demand: 284 of 446 buildings")
    lines = _seen(terminal.getvalue())
    said = [line for line in lines if "demand: 284" in line]
    assert said == ["WARNING gongpei.siting: demand: 284 of 446 buildings"], lines


def _scenario(tmp_path: Path) -> Path:
    path = tmp_path / "s.yaml"
    path.write_text(SMALL)
    return path


def _checked(ok_runs: set[str]):
    """A scenario run that writes nothing and whose checker passes only the runs named."""

    def run_scenario(_file: Path, outdir: Path, **_kwargs: Any) -> dict:
        ok = outdir.name in ok_runs
        violations = [] if ok else [f"pooled: r{i} late" for i in range(4)]
        return {"siting": {"opened": [0], "coverage": 0.5},
                "checker": {"ok": ok, "violations": violations}}  # fmt: skip

    return run_scenario


def test_a_scenario_run_whose_plans_break_the_rules_exits_1(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, invoke_cli
) -> None:
    """`scenario run` said "checker: VIOLATIONS" only in summary.json and exited 0."""
    monkeypatch.setattr("api.scenario.runner.run_scenario", _checked(set()))
    out = tmp_path / "out"
    code, err = invoke_cli("scenario", "run", str(_scenario(tmp_path)), "-o", str(out), "-q")
    assert code == 1
    assert err == (
        "error: the checker found violations in the plans: pooled: r0 late; pooled: r1 late; "
        "pooled: r2 late; and 1 more"
    )


def test_a_sweep_exits_1_naming_each_run_whose_plans_break_the_rules(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, invoke_cli
) -> None:
    monkeypatch.setattr(sweep, "run_scenario", _checked({"siting.budget=2"}))
    out = tmp_path / "out"
    args = ["--set", "siting.budget=1,2,3", "-o", str(out), "-q"]
    code, err = invoke_cli("scenario", "sweep", str(_scenario(tmp_path)), *args)
    assert code == 1
    assert [line.split(":")[:2] for line in err.splitlines()] == [
        ["error", " siting.budget=1"], ["error", " siting.budget=3"]
    ]  # fmt: skip
    assert (out / "sweep.json").is_file()  # the sweep itself is kept


def test_a_sweep_whose_plans_pass_the_checker_exits_0(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, invoke_cli
) -> None:
    monkeypatch.setattr(sweep, "run_scenario", _checked({"siting.budget=1", "siting.budget=2"}))
    args = ["--set", "siting.budget=1,2", "-o", str(tmp_path / "out"), "-q"]
    code, err = invoke_cli("scenario", "sweep", str(_scenario(tmp_path)), *args)
    assert (code or 0) == 0 and "error" not in err


def test_a_sweep_says_each_warning_once_with_the_runs_raising_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, invoke_cli
) -> None:
    """Every run of the README's sweep printed the same two warnings again, without saying
    whose: each is said once, for its first run, and a closing line says which runs raised it,
    so a warning of some runs only is told from one of all."""

    def run_scenario(_file: Path, outdir: Path, **_kwargs: Any) -> dict:
        logging.getLogger("gongpei.siting").warning("demand: 284 buildings have no height")
        if outdir.name != "siting.budget=1":
            logging.getLogger("gongpei.scenario").warning("siting: 2 points out of reach")
        return {"siting": {"opened": [0], "coverage": 0.5}}

    monkeypatch.setattr(sweep, "run_scenario", run_scenario)
    args = ["--set", "siting.budget=1,2,3", "-o", str(tmp_path / "out"), "-q"]
    code, err = invoke_cli("scenario", "sweep", str(_scenario(tmp_path)), *args)
    assert (code or 0) == 0, err
    assert err.splitlines() == [
        "WARNING gongpei.siting: siting.budget=1: demand: 284 buildings have no height",
        "WARNING gongpei.scenario: siting.budget=2: siting: 2 points out of reach",
        "WARNING gongpei.scenario: all 3 runs raised this warning, shown above once: "
        "demand: 284 buildings have no height",
        "WARNING gongpei.scenario: siting.budget=2 and siting.budget=3 raised this warning, "
        "shown above once: siting: 2 points out of reach",
    ]
    assert logging.getLogger().handlers[0].filters == []  # the sweep's filter is gone


def _stopped(*_args: Any, **_kwargs: Any) -> None:
    raise KeyboardInterrupt


def _ctrl_c(command: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The arguments of ``command`` with a Ctrl-C arriving while it works."""
    out = str(tmp_path / "out")
    if command == "site":
        monkeypatch.setattr("api.cli.site_cmd.solve", _stopped)
        (tmp_path / "cap.txt").write_text(CAP)
        return ["site", str(tmp_path / "cap.txt"), "--format", "orlib-cap", "-o", out]
    if command == "pool":
        monkeypatch.setattr("routing.pooling.compare.compare_day", _stopped)
        (tmp_path / "day.yaml").write_text(DAY)
        return ["pool", str(tmp_path / "day.yaml"), "-o", out]
    monkeypatch.setattr("api.scenario.runner.run_scenario", _stopped)
    if command == "demo":
        return ["demo", "-q", "-o", out]
    return ["scenario", "run", str(_scenario(tmp_path)), "-o", out, "-q"]


@pytest.mark.parametrize("command", ["scenario run", "demo", "site", "pool"])
def test_ctrl_c_exits_130_with_one_line(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, invoke_cli, command: str
) -> None:
    """Ctrl-C ended these commands with code 130 and not a word (typer's own way), a sweep
    with 2 and an error line, `solve` with "Aborted." and 1: one rule now, one line."""
    monkeypatch.setenv("GONGPEI_DATA_DIR", str(tmp_path / "data"))
    code, err = invoke_cli(*_ctrl_c(command, tmp_path, monkeypatch))
    assert code == 130
    assert err.splitlines()[-1] == "interrupted: nothing written"
    assert not (tmp_path / "out").exists()


def test_ctrl_c_in_a_sweep_exits_130_saying_which_runs_are_kept(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, invoke_cli
) -> None:
    finished = _checked({"siting.budget=1"})

    def run_scenario(file: Path, outdir: Path, **kwargs: Any) -> dict:
        if outdir.name == "siting.budget=2":
            raise KeyboardInterrupt
        return finished(file, outdir, **kwargs)

    monkeypatch.setattr(sweep, "run_scenario", run_scenario)
    out = tmp_path / "out"
    args = ["--set", "siting.budget=1,2,3", "-o", str(out), "-q"]
    code, err = invoke_cli("scenario", "sweep", str(_scenario(tmp_path)), *args)
    assert code == 130
    assert err == f"interrupted at siting.budget=2; the 1 finished run is kept in {out}"
    assert (out / "sweep.json").is_file()




@pytest.mark.parametrize("command", ["run", "sweep"])
def test_a_scenario_stopped_by_sigterm_leaves_no_staging_folder(
    tmp_path: Path, command: str
) -> None:
    """`kill` during `scenario run` or `sweep` ended the process on the spot (-15) and left
    the hidden `.OUT.partial-*` staging folder, which made the next run refuse the (empty
    looking) folder as "not empty": they exit 143 through the clean-up now, as `demo` does."""
    _scenario(tmp_path)
    out = tmp_path / "out"
    out.mkdir()
    args = {"run": ["scenario", "run", "s.yaml", "-o", "out", "-q"],
            "sweep": ["scenario", "sweep", "s.yaml", "--set", "siting.budget=1,2", "-o", "out",
                      "-q"]}  # fmt: skip
    done = killed_run(tmp_path, args[command])
    assert done.returncode == 128 + signal.SIGTERM, done.stderr
    assert list(out.iterdir()) == []


CAP = """2 2
100 1000000.5
100 2000000
10
5000 7000
10
8000 3000
"""


def test_site_prints_a_facility_objective_in_full(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture
) -> None:
    """cap41's objective was printed 1.04044e+06 beside its two terms in full (90,000 +
    950,444.38): digits lost, and read as another kind of number."""
    from api.cli.main import run

    (tmp_path / "cap.txt").write_text(CAP)
    args = ["site", str(tmp_path / "cap.txt"), "--format", "orlib-cap", "-o", "plan.json"]
    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr(sys, "argv", ["gongpei", *args])
    with pytest.raises(SystemExit) as done:
        run()
    line = capsys.readouterr().out
    assert (done.value.code or 0) == 0, line
    assert "cap: facility objective 1,013,000.5 (" in line, line
    assert ": 1,000,000.5 + 13,000; optimal)" in line, line
