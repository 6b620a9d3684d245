"""The first command's path: ``sesame serve`` on the embedded default with an empty data
directory creates the schema itself, and a later start finds it current without loading
Alembic (service.db.schema_version answers that; Alembic, httpx and redis-py are imported only
by the processes that use them, about 21 MB a worker saves)."""

from __future__ import annotations

import os
import subprocess
import sys

import httpx

from tests.processes import ROOT, free_port, serve


async def test_a_fresh_data_directory_is_migrated_once(tmp_path):
    port = free_port()
    url = f"http://localhost:{port}"
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith("SESAME_")},
        "SESAME_DATA_DIR": str(tmp_path / "data"), "SESAME_ISSUER": url,
        "SESAME_PORT": str(port),
    }  # fmt: skip
    for start in ("first", "second"):
        log = tmp_path / f"{start}.log"
        async with (
            serve(env, url, log, cwd=tmp_path, log_level="info"),
            httpx.AsyncClient(base_url=url) as client,
        ):
            ready = await client.get("/readyz")
        assert ready.status_code == 200, ready.text
        assert ready.json()["checks"]["migrations"] == "ok"
        text = log.read_text()
        # One line of Sesame's own on the first start, none on the second; Alembic's INFO lines
        # never (they cluttered a first run).
        assert ("database schema migrated to revision" in text) == (start == "first"), text
        assert "alembic" not in text.lower() and "Running upgrade" not in text, text
        # Nobody administers this Sesame yet: each start logs a one-time setup link.
        assert f"no administrator yet: open {url}/console/setup/" in text, text
    assert (tmp_path / "data").is_dir()


def test_a_serving_process_does_not_load_what_it_does_not_use():
    """Importing the app and the serve command leaves Alembic, httpx and redis-py unloaded."""
    probe = (
        "import sys, service.app, service.cli.serve; "
        "print(sorted(m for m in ('alembic', 'httpx', 'redis') if m in sys.modules))"
    )
    loaded = subprocess.run(
        [sys.executable, "-c", probe], cwd=ROOT, capture_output=True, text=True, check=True
    ).stdout.strip()
    assert loaded == "[]"


def test_the_demo_app_starts_without_library_notices():
    """The first run prints Sesame's lines only: no deprecation notice from a library the demo
    app uses (Python's default filters, as ``scripts/run`` has them)."""
    done = subprocess.run(
        [sys.executable, "-W", "default", "-c", "import examples.demo_rp.app"],
        cwd=ROOT, capture_output=True, text=True, check=True,
    )  # fmt: skip
    assert done.stderr == ""
