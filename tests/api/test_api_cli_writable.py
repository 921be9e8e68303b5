"""An output folder that cannot be made is refused before any work, root or not: permission
bits say yes to root on a read-only mount (here /proc, which takes no new files even from
root), and the commands then solved for seconds and ended in a traceback."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from api.cli.checks import OptionError, check_writable_folder

pytestmark = pytest.mark.skipif(not Path("/proc/self").is_dir(), reason="needs Linux's /proc")

DAY = {
    "travel": {"straight_line": True},
    "firms": [{"id": "sf", "depot": [36.09, 120.41], "fleet": [{"count": 1}]}],
    "centres": [{"id": "hub", "at": [36.08, 120.395], "fleet": [{"count": 1}]}],
    "parcels": [{"id": "sf-1", "firm": "sf", "at": [36.067, 120.383]}],
}
SCENARIO = Path(__file__).resolve().parents[2] / "scenarios" / "campus.yaml"


@pytest.mark.parametrize("folder", ["/proc/nope", "/proc/nope/deeper", "/proc/self/out"])
def test_a_folder_in_a_read_only_place_is_refused(folder: str) -> None:
    with pytest.raises(OptionError, match=f"^--out: cannot make or write folder {folder}: /proc"):
        check_writable_folder("--out", Path(folder))


def test_a_writable_folder_passes_and_leaves_nothing_behind(tmp_path: Path) -> None:
    check_writable_folder("--out", tmp_path / "new" / "deeper")
    check_writable_folder("--out", tmp_path)
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize(
    "command",
    [
        ["pool", "{day}", "-o", "/proc/nope", "--time-limit", "1"],
        ["scenario", "run", str(SCENARIO), "-o", "/proc/nope"],
        ["network", "build", "synthetic:30", "-o", "/proc/nope"],
        ["demo", "-q", "-o", "/proc/nope"],
    ],
)
def test_commands_refuse_it_in_one_line_before_any_work(
    invoke_cli, monkeypatch, tmp_path, command
) -> None:
    def no_work(*_args, **_kwargs):
        raise AssertionError("worked although the output folder cannot be made")

    monkeypatch.setattr("routing.pooling.compare.compare_day", no_work)
    monkeypatch.setattr("api.scenario.runner.load_scenario", no_work)
    monkeypatch.setattr("network.graph.build_graph", no_work)
    day = tmp_path / "day.yaml"
    day.write_text(yaml.safe_dump(DAY))
    code, err = invoke_cli(*[part.replace("{day}", str(day)) for part in command])
    assert code == 2 and len(err.splitlines()) == 1, err
    assert err.startswith("error: --o") and err.endswith(
        ": cannot make or write folder /proc/nope: /proc does not take new files "
        "(No such file or directory)"
    )
