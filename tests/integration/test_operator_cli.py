"""Operators' commands: ``sesame users``, ``sesame sessions revoke``, ``sesame doctor``."""

from __future__ import annotations

import json

from tests.factories import signed_up
from tests.integration.test_oidc_admin import sesame
from tests.rp import RelyingParty


async def test_users_list_show_disable_enable_delete(backend, app, client):
    browser, auth, username = await signed_up(client)
    rp = await RelyingParty.register(app)
    tokens = await rp.tokens(browser)
    listed = [
        json.loads(line)
        for line in sesame(backend, "users", "list", "--limit", "1000").stdout.splitlines()
    ]
    mine = next(u for u in listed if u["username"] == username)
    assert mine["passkeys"] == 1 and mine["sessions"] == 1
    for identifier in (username, f"{username.upper()}@example.com", mine["id"]):
        shown = sesame(backend, "users", "show", identifier)
        assert json.loads(shown.stdout)["username"] == username, identifier
    assert sesame(backend, "users", "show", "nobody-at-all").returncode == 1

    assert sesame(backend, "users", "disable", username).returncode == 0
    assert (await client.get("/account")).status_code == 303  # the session ended
    assert (await rp.refresh(tokens["refresh_token"])).json()["error"] == "invalid_grant"
    refused = await browser.signin(auth)
    assert refused.status_code == 403
    assert sesame(backend, "users", "enable", username).returncode == 0
    assert (await browser.signin(auth)).status_code == 200

    assert sesame(backend, "sessions", "revoke", username).returncode == 0
    assert (await client.get("/account")).status_code == 303

    assert sesame(backend, "users", "delete", username).returncode == 2
    assert sesame(backend, "users", "delete", username, "--yes").returncode == 0
    assert sesame(backend, "users", "show", username).returncode == 1


def test_doctor_reports_a_healthy_setup(backend, smtp):
    smtp_env = {
        "SESAME_SMTP_HOST": "127.0.0.1",
        "SESAME_SMTP_PORT": str(smtp.port),
        "SESAME_SMTP_SECURITY": "none",
    }
    healthy = sesame(backend, "doctor", env=smtp_env)
    assert healthy.returncode == 0, healthy.stdout + healthy.stderr
    for line in (
        "ok    database connection: reachable",
        "ok    migrations: current",
        "ok    signing keys: ",
        "ok    smtp connection: accepted the connection",
        "sesame doctor: all good",
    ):
        assert line in healthy.stdout, line
    without_smtp = sesame(backend, "doctor")
    assert without_smtp.returncode == 0
    assert "WARN  smtp: no SESAME_SMTP_HOST: mail is only logged" in without_smtp.stdout


def test_doctor_says_what_is_wrong(backend):
    broken = sesame(
        backend,
        "doctor",
        env={
            "SESAME_DATABASE_URL": "postgresql+asyncpg://x@127.0.0.1:1/x",
            "SESAME_SMTP_HOST": "127.0.0.1",
            "SESAME_SMTP_PORT": "1",
            "SESAME_SMTP_SECURITY": "none",
        },
    )
    assert broken.returncode == 1
    assert "FAIL  database connection" in broken.stdout
    assert "FAIL  smtp connection" in broken.stdout
    assert "problem(s)" in broken.stdout
    production = sesame(
        backend,
        "doctor",
        env={"SESAME_ENV": "production", "SESAME_ISSUER": "https://id.example.com"},
    )
    assert production.returncode == 1
    assert "FAIL  smtp: no SESAME_SMTP_HOST" in production.stdout
