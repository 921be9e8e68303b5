"""The README's example commands, run as it gives them on the example inputs the repository
ships (routing/examples, routing/siting/examples, network/examples, api/examples): a new user
copying them got "no such file" for problem.json, day.json, batch.json, campus.json,
points.csv, lockers.geojson and day.vroom.json, none of which existed.

Each command string below must appear verbatim in README.md's bash blocks (continuation lines
joined, comments left out), so the README and these runs cannot drift apart. The commands run
in a folder laid out like a fresh clone (the example folders copied to the same relative
paths), so their outputs land there; `gongpei solve` gets a shorter `--time-limit` after the
README's own (the last one given wins).
"""

from __future__ import annotations

import itertools
import json
import re
import shlex
import shutil
from pathlib import Path
from urllib.parse import urlsplit

import numpy as np
import pytest
from typer.testing import CliRunner

ROOT = Path(__file__).resolve().parents[1]
README = ROOT / "README.md"
#: The folders of example inputs the README's commands name, by their path in the repository.
EXAMPLES = ("routing/examples", "routing/siting/examples", "network/examples", "api/examples")
#: Appended to each `gongpei solve`: the README's limits (10 s by default, 30 s) are a user's.
SHORT = ("--time-limit", "1")

SOLVE_NATIVE = "gongpei solve routing/examples/problem.json -o solution.json"
SOLVE_VROOM = (
    "gongpei solve routing/examples/day.vroom.json -o solution.json --format vroom "
    "--network demo --engine ortools --time-limit 30 --geojson routes.geojson"
)
SOLVE_ON_DEMO = "gongpei solve routing/examples/problem.json --network demo -o plan.json"
SOLVE_ON_FOLDER = "gongpei solve routing/examples/problem.json --network out/hel -o plan.json"
BUILD_HEL = (
    "gongpei network build demo --bbox 24.935,60.164,24.953,60.179 --speed residential=15 "
    "-o out/hel"
)
MATRIX = "gongpei network matrix out/hel network/examples/points.csv -o out/hel-matrix.npz"
SITE = (
    "gongpei site routing/siting/examples/campus.json --format native -o out/plan.json "
    "--geojson out/plan.geojson --curve out/curve.png"
)
SITE_CSV = "gongpei site routing/siting/examples/kluuvi.json --format native -o out/kluuvi.json"
IMPORT_LOCKERS = "gongpei lockers import api/examples/lockers.geojson"
CREATE_FIRM = 'gongpei admin create-firm "SF Express" --role firm'
SEARCH = (
    "curl 'http://127.0.0.1:8000/v1/lockers?lat=60.17&lon=24.94&radius_m=800&size=M"
    "&available_only=true'"
)
POST_BATCH = (
    "curl -X POST -H \"X-API-Key: $KEY\" -H 'Content-Type: application/json' "
    "-d @api/examples/batch.vroom.json http://127.0.0.1:8000/v1/batches"
)
GET_SOLUTION = 'curl -H "X-API-Key: $KEY" http://127.0.0.1:8000/v1/batches/$ID/solution'
COMMANDS = (
    SOLVE_NATIVE, SOLVE_VROOM, SOLVE_ON_DEMO, SOLVE_ON_FOLDER, BUILD_HEL, MATRIX, SITE, SITE_CSV,
    IMPORT_LOCKERS, CREATE_FIRM, SEARCH, POST_BATCH, GET_SOLUTION,
)  # fmt: skip


def readme_commands(text: str) -> set[str]:
    """Each command of the README's bash blocks on one line: lines continued with a backslash
    joined, comments and runs of blanks left out."""
    commands = set()
    for block in re.findall(r"```bash\n(.*?)```", text, flags=re.DOTALL):
        for line in re.sub(r"\\\n\s*", " ", block).splitlines():
            command = " ".join(re.sub(r"(^|\s)#.*", "", line).split())
            if command:
                commands.add(command)
    return commands


def test_the_commands_run_here_are_the_readmes():
    """Each command run here is one README.md gives, word for word, so neither can drift."""
    missing = set(COMMANDS) - readme_commands(README.read_text(encoding="utf-8"))
    assert not missing, f"not in README.md's bash blocks: {sorted(missing)}"


@pytest.fixture
def clone(tmp_path, monkeypatch) -> Path:
    """A folder laid out as a fresh clone's example inputs, made the current one, with its own
    data folder (graph cache, SQLite database) and the README's `GONGPEI_MAP_NETWORK=demo`."""
    for folder in EXAMPLES:
        shutil.copytree(ROOT / folder, tmp_path / folder)
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("GONGPEI_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("GONGPEI_MAP_NETWORK", "demo")
    for name in ("GONGPEI_DATABASE_URL", "GONGPEI_TILE_URL", "GONGPEI_REDIS_URL"):
        monkeypatch.delenv(name, raising=False)
    return tmp_path


def gongpei(command: str, *extra: str) -> str:
    """Run a README `gongpei` command in this process; its output, after checking it worked."""
    from api.cli.main import app

    args = shlex.split(command)
    assert args[0] == "gongpei"
    result = CliRunner().invoke(app, [*args[1:], *extra])
    assert result.exit_code == 0, f"{command}: {result.output}{result.exception!r}"
    return result.output


def checked_plan(path: Path, tasks: int) -> dict:
    """A solution file that the checker passed, with every one of `tasks` tasks served."""
    solution = json.loads(path.read_text(encoding="utf-8"))
    assert solution["summary"]["checker"] == {"ok": True, "violations": []}
    assert solution["unassigned"] == []
    kinds = ("job", "pickup", "delivery")
    served = {s["id"] for r in solution["routes"] for s in r["steps"] if s["type"] in kinds}
    assert len(served) == tasks, served
    return solution


def test_the_solve_and_network_examples_run(clone):
    gongpei(SOLVE_NATIVE, *SHORT)
    straight = checked_plan(clone / "solution.json", tasks=6)
    assert all("walked_m" not in r for r in straight["routes"])  # straight lines: no walk

    gongpei(SOLVE_VROOM, *SHORT)
    checked_plan(clone / "solution.json", tasks=8)  # 6 jobs, a shipment's pickup and delivery
    routes = json.loads((clone / "routes.geojson").read_text(encoding="utf-8"))
    assert "LineString" in {f["geometry"]["type"] for f in routes["features"]}

    gongpei(SOLVE_ON_DEMO, *SHORT)
    on_roads = checked_plan(clone / "plan.json", tasks=6)
    assert all(r["walked_m"] >= 0 for r in on_roads["routes"])  # timed on the roads

    gongpei(BUILD_HEL)
    assert {"graph.graphml", "graph.pickle", "info.json"} <= {
        p.name for p in (clone / "out/hel").iterdir()
    }
    gongpei(SOLVE_ON_FOLDER, *SHORT)
    checked_plan(clone / "plan.json", tasks=6)

    gongpei(MATRIX)
    ids = (clone / "network/examples/points.csv").read_text().splitlines()[1:]
    with np.load(clone / "out/hel-matrix.npz") as matrix:
        assert list(matrix["ids"]) == [line.split(",")[0] for line in ids]
        assert np.isfinite(matrix["duration_s"]).all() and np.isfinite(matrix["distance_m"]).all()
        assert matrix["snap_m"].max() < 500


def test_the_siting_example_runs(clone):
    gongpei(SITE)
    plan = json.loads((clone / "out/plan.json").read_text(encoding="utf-8"))
    assert len(plan["open_site_ids"]) == 4  # the file's maxcover p
    layers = json.loads((clone / "out/plan.geojson").read_text(encoding="utf-8"))
    assert layers["type"] == "FeatureCollection" and layers["features"]
    assert (clone / "out/curve.png").read_bytes().startswith(b"\x89PNG")

    gongpei(SITE_CSV)  # demand and candidates from CSV files, a standing locker among them
    plan = json.loads((clone / "out/kluuvi.json").read_text(encoding="utf-8"))
    assert len(plan["open_site_ids"]) == 3 and "station" in plan["open_site_ids"]
    assert all(site["load"] <= site["capacity"] for site in plan["sites"])


def _request(curl: str, **values: str) -> tuple[str, dict[str, str], str | None]:
    """A README curl command as (path with query, headers, the body file it sends), with its
    shell variables ($KEY, $ID) given."""
    args = shlex.split(re.sub(r"\$(\w+)", lambda m: values[m.group(1)], curl))
    headers, body = {}, None
    for flag, value in itertools.pairwise(args):
        if flag == "-H":
            name, _, text = value.partition(": ")
            headers[name] = text
        elif flag == "-d":
            body = value.removeprefix("@")
    url = urlsplit(next(a for a in args if a.startswith("http")))
    return f"{url.path}?{url.query}" if url.query else url.path, headers, body


def test_the_platform_examples_run(clone):
    """Lockers imported from the example file answer the README's search; the example batch,
    posted as the README's curl posts it, is planned on the server's demo map."""
    from fastapi.testclient import TestClient

    from api.app import create_app
    from api.jobs.worker import Worker
    from api.settings import Settings

    assert "imported 4 lockers" in gongpei(IMPORT_LOCKERS)
    key = gongpei(CREATE_FIRM).strip().splitlines()[-1]
    settings = Settings(public_rate_per_s=0.0, search_cache_s=0.0)
    with TestClient(create_app(settings)) as client:
        path, _, _ = _request(SEARCH)
        found = client.get(path)
        assert found.status_code == 200, found.text
        assert {item["name"] for item in found.json()["items"]} >= {"Oodi library", "Erottaja"}

        path, headers, body = _request(POST_BATCH, KEY=key)
        posted = client.post(path, content=Path(body).read_bytes(), headers=headers)
        assert posted.status_code == 202, posted.text
        assert Worker(settings).run(max_jobs=1) == 1
        path, headers, _ = _request(GET_SOLUTION, KEY=key, ID=posted.json()["id"])
        solution = client.get(path, headers=headers)
        assert solution.status_code == 200, solution.text
        assert solution.json()["summary"]["checker"]["ok"] is True
        assert solution.json()["unassigned"] == []


def test_the_batch_example_posts_the_vroom_day():
    """api/examples/batch.vroom.json wraps routing/examples/day.vroom.json: one day, not two
    copies that drift apart."""
    batch = json.loads((ROOT / "api/examples/batch.vroom.json").read_text(encoding="utf-8"))
    day = json.loads((ROOT / "routing/examples/day.vroom.json").read_text(encoding="utf-8"))
    assert batch["format"] == "vroom" and batch["problem"] == day
