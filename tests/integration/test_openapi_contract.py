"""The OpenAPI description is what the API answers: schemathesis (every check it has: status
codes documented, responses and headers conforming, schema-valid requests accepted and invalid
ones refused, 405 with Allow, no 5xx, stateful links) against a real ``sesame serve`` on each
backend, for the admin API and the passkey API. Red-team finding: 400 and 401 were answered
but undocumented, a schema-valid client registration was refused, 405 came without Allow.

The two exceptions the schema cannot express are in ``schemathesis.toml``, each with its reason.
"""

from __future__ import annotations

import os
import subprocess
import sys
from importlib import metadata
from pathlib import Path

import httpx
import pytest

from tests.conftest import fresh_backend
from tests.processes import free_port, serve

ADMIN = "admin-token-" + "c" * 32
CONFIG = Path(__file__).with_name("schemathesis.toml")


def schemathesis(url: str, token: str, paths: str) -> subprocess.CompletedProcess[str]:
    st = Path(sys.executable).with_name("st")
    return subprocess.run(
        [
            str(st), "--config-file", str(CONFIG), "run", f"{url}/openapi.json",
            "-H", f"Authorization: Bearer {token}",
            "--include-path-regex", paths,
            "--max-examples", "25", "--seed", "1", "--generation-database", "none",
            "--workers", "1", "--no-color",
        ],
        capture_output=True, text=True, timeout=600, check=False,
    )  # fmt: skip


@pytest.fixture
async def live(backend, tmp_path):
    """A server on a database of its own: what other tests leave behind (a tenant named like a
    broken URL, say) is theirs to test, not the contract's."""
    with fresh_backend(backend.name, tmp_path) as own:
        async for url in _serve(own, tmp_path):
            yield url


async def _serve(backend, tmp_path):
    port = free_port()
    url = f"http://localhost:{port}"
    env = {
        **os.environ,
        **backend.env(),
        "SESAME_ISSUER": url,
        "SESAME_PORT": str(port),
        "SESAME_ADMIN_TOKEN": ADMIN,
        # Its own key prefix: the rate limits of the passkey API start from zero.
        "SESAME_REDIS_PREFIX": f"{backend.redis_prefix}contract-{port}:",
        # The passkey API's rate limits would answer 429 (documented) to most of the run.
        "SESAME_API_RATE_PER_KEY": "100000",
        "SESAME_API_RATE_PER_TENANT": "100000",
    }
    async with serve(env, url, tmp_path / "sesame.log"):
        yield url


async def test_admin_and_passkey_api_answer_what_their_schema_says(live):
    async with httpx.AsyncClient(base_url=live) as http:
        created = await http.post(
            "/admin/tenants",
            json={"name": "Contract", "rp_id": "localhost", "origins": [live]},
            headers={"Authorization": f"Bearer {ADMIN}"},
        )
    assert created.status_code == 201, created.text
    for token, paths in ((ADMIN, "^/admin/"), (created.json()["api_key"], "^/api/")):
        done = schemathesis(live, token, paths)
        # Long generated bodies are cut: each failure's heading and status say enough.
        report = "\n".join(line[:300] for line in done.stdout.splitlines())
        assert done.returncode == 0, report[-8000:] + done.stderr[-2000:]
        assert "generated" in done.stdout and " passed" in done.stdout


async def test_method_not_allowed_lists_every_method_of_the_path(client):
    response = await client.request("TRACE", "/admin/clients/some-id")
    assert response.status_code in (404, 405)  # 404 while the admin API is off
    response = await client.request("PUT", "/api/passkeys/v1/credentials/AAAA")
    assert response.status_code == 405
    assert response.headers["allow"] == "DELETE, PATCH"
    response = await client.put("/token")
    assert response.status_code == 405 and response.headers["allow"] == "POST"


async def test_openapi_documents_every_error_and_no_422(client):
    schema = (await client.get("/openapi.json")).json()
    assert schema["info"]["version"] == metadata.version("sesame")  # one version source
    for path, operations in schema["paths"].items():
        if not path.startswith(("/admin/", "/api/")):
            continue
        for method, operation in operations.items():
            statuses = set(operation["responses"])
            assert {"400", "401", "404", "503"} <= statuses, (method, path, statuses)
            assert "422" not in statuses, (method, path)
            error = operation["responses"]["400"]["content"]["application/json"]["schema"]
            assert error == {"$ref": "#/components/schemas/ErrorOut"}
