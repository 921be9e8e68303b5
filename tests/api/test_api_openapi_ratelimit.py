"""The OpenAPI document declares the rate limit's headers where a public answer carries them:
only the 429's Retry-After was there, while every allowed answer of a public endpoint carried
`RateLimit-Limit` and `-Policy` (and, counted in memory, `-Remaining` and `-Reset`), so a client
generated from the document could not read its allowance."""

from __future__ import annotations

import pytest

from api.app import create_app
from api.limits import RATE_LIMIT_HEADERS
from api.settings import Settings

ALLOWANCE = set(RATE_LIMIT_HEADERS) - {"Retry-After"}


@pytest.fixture(scope="module")
def paths(tmp_path_factory) -> dict:
    url = f"sqlite:///{tmp_path_factory.mktemp('openapi') / 'unused.db'}"
    return create_app(Settings(database_url=url)).openapi()["paths"]


def _public(paths: dict) -> list[tuple[str, str, dict]]:
    """The operations without a key that the public rate limit may refuse."""
    return [
        (method, path, op["responses"])
        for path, ops in paths.items()
        for method, op in ops.items()
        if "security" not in op and "429" in op["responses"]
    ]


def test_every_public_answer_declares_the_rate_limit_headers(paths) -> None:
    public = _public(paths)
    assert {path for _method, path, _r in public} >= {
        "/v1/lockers", "/v1/lockers/{locker_id}", "/v1/open-data/summary", "/v1/centres",
        "/map", "/map/network.geojson",
    }  # fmt: skip
    for method, path, responses in public:
        allowed = responses["200"].get("headers", {})
        assert set(allowed) >= ALLOWANCE, (method, path, sorted(allowed))
        assert not any(allowed[name]["required"] for name in ALLOWANCE), (method, path)
        refused = responses["429"]["headers"]
        assert set(refused) == set(RATE_LIMIT_HEADERS), (method, path, sorted(refused))
        assert all(header["required"] for header in refused.values()), (method, path)
    # an answer's own headers stay beside them
    assert "ETag" in paths["/map/network.geojson"]["get"]["responses"]["200"]["headers"]
    # the search's answer is still the page it documents
    search = paths["/v1/lockers"]["get"]["responses"]["200"]["content"]["application/json"]
    assert search["schema"]["$ref"].endswith("/LockerPage")


def test_a_keyed_429_does_not_claim_the_public_allowance(paths) -> None:
    """A firm's job limit answers 429 with only Retry-After: the public limit never counts it."""
    refused = paths["/v1/batches"]["post"]["responses"]["429"]["headers"]
    assert set(refused) == {"Retry-After"}
    accepted = paths["/v1/batches"]["post"]["responses"]["202"].get("headers", {})
    assert not [name for name in accepted if name.startswith("RateLimit")]
