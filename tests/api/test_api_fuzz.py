"""The schemathesis CLI fuzzes every operation of a running `gongpei serve`: no 5xx, ever, and
no answer the OpenAPI document does not give.

A real server on a free loopback port (SQLite, and PostgreSQL where reachable) with seeded
firms and lockers; `schemathesis run URL/openapi.json` as CI would run it, every phase
(examples, coverage, fuzzing, stateful), checking each answer's status code, media type,
headers and body against the document, and a 405's Allow. Each operation gets the key of the
role it needs (a config file), and a run where an operation saw nothing but 401/403 fails, so
the keys really reach the code behind the checks.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
from sqlalchemy import select

from api.db.models import Firm

#: Bounded for CI (about 15 s per database); set GONGPEI_FUZZ_EXAMPLES higher for a deeper run.
EXAMPLES_PER_OPERATION = int(os.environ.get("GONGPEI_FUZZ_EXAMPLES", "10"))
SCHEMATHESIS = Path(sys.executable).with_name("schemathesis")
CHECKS = ",".join((
    "not_a_server_error", "status_code_conformance", "content_type_conformance",
    "response_headers_conformance", "response_schema_conformance", "unsupported_method",
    "allow_header_conformance",
))  # fmt: skip
pytestmark = pytest.mark.slow


def _config(path: Path, auth: dict[str, dict[str, str]], spare_firm: int) -> Path:
    """A schemathesis.toml giving each operation the key of its role (firm by default).

    Changes to a firm (its role, its keys) go to `spare_firm` only: a fuzzed PATCH must not
    demote, nor a fuzzed DELETE revoke the key of, a firm whose key the rest of the run uses."""

    def key(name: str) -> str:
        return "{ " + f'"X-API-Key" = {json.dumps(auth[name]["X-API-Key"])}' + " }"

    path.write_text(
        f"headers = {key('a')}\n"
        '[warnings]\nfail-on = ["missing_auth", "rate_limited"]\n'
        f'[[operations]]\ninclude-path-regex = "^/v1/(firms|centres)"\nheaders = {key("admin")}\n'
        '[[operations]]\ninclude-name = ["POST /v1/lockers", "PATCH /v1/lockers/{locker_id}"]\n'
        f"headers = {key('admin')}\n"
        f'[[operations]]\ninclude-path-regex = "^/v1/siting-runs"\nheaders = {key("planner")}\n'
        # pool runs are posted and read whole by planners; firms list theirs and read their row
        '[[operations]]\ninclude-name = ["POST /v1/pool-runs", "GET /v1/pool-runs/{job_id}",'
        ' "GET /v1/pool-runs/{job_id}/result", "POST /v1/pool-runs/{job_id}/cancel"]\n'
        f"headers = {key('planner')}\n"
        '[[operations]]\n'
        'include-path-regex = "^/v1/reservations/([^/]+/(unlock|release)|locked)$"\n'
        f"headers = {key('admin')}\n"
        '[[operations]]\ninclude-path-regex = "^/v1/firms/[^/]+"\n'
        f"parameters = {{ firm_id = {spare_firm} }}\n"
    )
    return path


def test_schemathesis_finds_no_server_error(start_servers, db, auth, lockers, tmp_path):
    with db.reading() as session:
        spare = session.scalar(select(Firm.id).where(Firm.name == "firm-b"))
    config = _config(tmp_path / "schemathesis.toml", auth, spare)
    (url,) = start_servers(1, env={"GONGPEI_PUBLIC_RATE_PER_S": "0"})
    command = [
        str(SCHEMATHESIS), "--config-file", str(config),
        "run", f"{url}/openapi.json",
        "--checks", CHECKS,
        "--max-examples", str(EXAMPLES_PER_OPERATION),
        "--seed", "1", "--generation-database", "none", "--workers", "1",
        "--request-timeout", "20", "--no-color",
    ]  # fmt: skip
    run = subprocess.run(command, cwd=tmp_path, capture_output=True, text=True, timeout=240)
    assert run.returncode == 0, run.stdout[-6000:] + run.stderr[-2000:]
    tested = re.search(r"Tested: (\d+)", run.stdout)
    assert tested and int(tested.group(1)) >= 25, run.stdout[-3000:]
