"""Operating Sesame: readiness, metrics, proxy-aware client addresses, request ids and logs that
never carry a secret."""

from __future__ import annotations

import json
import logging
import re
import secrets
import signal

import pytest

from service.db.migrate import upgrade
from service.logs import JsonFormatter
from tests.conftest import asgi_client, run_sync
from tests.factories import Browser, signed_up
from tests.mail import deliver
from tests.rp import RelyingParty


async def test_health_and_readiness(client):
    assert (await client.get("/healthz")).json() == {"status": "ok"}
    ready = await client.get("/readyz")
    assert ready.status_code == 200
    assert ready.json()["checks"] == {"database": "ok", "migrations": "ok", "store": "ok"}


async def test_sigterm_turns_readiness_off_at_once(app, client):
    """The handler Sesame chains in front of the server's own: /readyz is 503 from the moment
    SIGTERM arrives, while requests in flight still finish (tests/e2e/test_replicas.py)."""
    caught: list[int] = []
    original = signal.signal(signal.SIGTERM, lambda signum, _frame: caught.append(signum))
    try:
        async with app.router.lifespan_context(app):
            assert (await client.get("/readyz")).status_code == 200
            signal.raise_signal(signal.SIGTERM)
            draining = await client.get("/readyz")
            assert draining.status_code == 503
            assert draining.json()["checks"] == {"process": "shutting down"}
            assert (await client.get("/healthz")).status_code == 200
        assert caught == [signal.SIGTERM]  # the server's handler still ran after ours
    finally:
        signal.signal(signal.SIGTERM, original)


async def test_not_ready_without_database_or_store(make_app):
    async with asgi_client(make_app(database_url="postgresql+asyncpg://x@127.0.0.1:1/x")) as c:
        down = await c.get("/readyz")
    assert down.status_code == 503
    assert down.json()["checks"]["database"].startswith("unreachable")
    async with asgi_client(make_app(redis_url="redis://127.0.0.1:1/0")) as c:
        down = await c.get("/readyz")
    assert down.status_code == 503
    assert down.json()["checks"]["store"].startswith("unreachable")


async def test_not_ready_while_migrations_are_pending(make_app, tmp_path):
    url = f"sqlite+aiosqlite:///{tmp_path / 'old.db'}"
    run_sync(_upgrade_to(url, "0002"))
    async with asgi_client(make_app(database_url=url)) as c:
        pending = await c.get("/readyz")
    assert pending.status_code == 503
    assert "sesame migrate" in pending.json()["checks"]["migrations"]


async def _upgrade_to(url: str, revision: str) -> None:
    import asyncio

    await asyncio.to_thread(upgrade, url, revision)


async def test_metrics_count_requests_signins_and_tokens(app, client):
    browser, _, _ = await signed_up(client)
    rp = await RelyingParty.register(app)
    await rp.tokens(browser)
    text = (await client.get("/metrics")).text
    assert re.search(
        r'sesame_http_requests_total\{method="GET",route="/authorize",status="303"\} \d', text
    )
    ok = r'sesame_http_request_duration_seconds_bucket\{[^}]*outcome="ok"[^}]*route="/token"'
    assert re.search(ok, text), text[:2000]
    assert re.search(r'sesame_tokens_issued_total\{grant="authorization_code"\} [1-9]', text)
    # Labels are route templates, never raw paths carrying ids or tokens.
    assert "/interaction/{uid}" in text or "/authorize" in text
    assert not re.search(r'route="/signin/email/[A-Za-z0-9_-]{20,}"', text)


async def test_latency_histograms_per_outcome(app, client):
    """The token endpoint's and the ceremonies' latency, apart for successes, refusals and
    failures: a refused exchange and a refused passkey finish land under outcome="refused"."""
    browser, _, _ = await signed_up(client)
    rp = await RelyingParty.register(app)
    flow = await rp.authorize(browser)
    assert (await rp.exchange(flow, code_verifier="x" * 43)).status_code == 400
    bad = await browser.post("/signin/finish", {"ceremony": "nope", "credential": {}})
    assert bad.status_code >= 400
    text = (await client.get("/metrics")).text
    for route in ("/token", "/signin/finish"):
        refused = (
            r'sesame_http_request_duration_seconds_count\{[^}]*outcome="refused"[^}]*'
            f'route="{route}"' + r"\} [1-9]"
        )
        assert re.search(refused, text), route


async def test_metrics_token(make_app):
    async with asgi_client(make_app(metrics_token="m" * 40)) as c:
        assert (await c.get("/metrics")).status_code == 401
        allowed = await c.get("/metrics", headers={"Authorization": "Bearer " + "m" * 40})
        assert allowed.status_code == 200


async def rate_limited_after(app, forwarded: list[str]) -> list[int]:
    statuses = []
    async with asgi_client(app) as c:
        browser = Browser(c)
        for i, address in enumerate(forwarded):
            response = await browser.client.post(
                "/signin/email",
                data={"email": f"p{i}@example.com", "csrf_token": await browser.csrf()},
                headers={"X-Forwarded-For": address},
            )
            statuses.append(response.status_code)
    return statuses


@pytest.fixture
def own_prefix(backend):
    return {"redis_prefix": f"{backend.redis_prefix}{secrets.token_hex(4)}:"}


async def test_forwarded_for_is_ignored_from_an_untrusted_peer(make_app, own_prefix):
    app = make_app(email_rate_per_ip=2, **own_prefix)
    # Spoofed addresses do not buy a fresh budget: the peer (127.0.0.1) is what counts.
    assert await rate_limited_after(app, ["1.1.1.1", "2.2.2.2", "3.3.3.3"]) == [200, 200, 429]


async def test_forwarded_for_from_a_trusted_proxy_names_the_client(make_app, own_prefix):
    app = make_app(email_rate_per_ip=2, trusted_proxies=["127.0.0.0/8"], **own_prefix)
    assert await rate_limited_after(app, ["1.1.1.1", "2.2.2.2", "3.3.3.3"]) == [200, 200, 200]
    # The right-most untrusted hop is the client; what the client prepends is not believed.
    app = make_app(email_rate_per_ip=2, trusted_proxies=["127.0.0.0/8"], **own_prefix)
    spoofed = ["9.9.9.9, 5.5.5.5", "8.8.8.8, 5.5.5.5", "7.7.7.7, 5.5.5.5"]
    assert await rate_limited_after(app, spoofed) == [200, 200, 429]


async def test_request_id_is_returned_and_logged(client, caplog):
    caplog.set_level(logging.INFO, logger="sesame.access")
    given = await client.get("/healthz", headers={"X-Request-ID": "abc-123"})
    assert given.headers["x-request-id"] == "abc-123"
    made = await client.get("/healthz", headers={"X-Request-ID": "bad id\n"})
    assert re.fullmatch(r"[0-9a-f]{32}", made.headers["x-request-id"])
    other = (await client.get("/healthz")).headers["x-request-id"]
    assert re.fullmatch(r"[0-9a-f]{32}", other) and other != made.headers["x-request-id"]
    records = [r for r in caplog.records if r.name == "sesame.access"]
    entry = json.loads(JsonFormatter().format(records[0]))
    assert entry["request_id"] == "abc-123"
    assert entry["route"] == "/healthz" and entry["status"] == 200
    assert "duration_ms" in entry


async def test_logs_never_contain_a_secret(mail_app, smtp, caplog):
    """Run every flow that hands out a secret, then search the whole log for each of them."""
    caplog.set_level(logging.INFO)
    seen: list[str] = []
    async with asgi_client(mail_app) as c:
        browser, _, username = await signed_up(c)
        seen.append(c.cookies.get("sesame_session") or "")
        rp = await RelyingParty.register(mail_app)
        body = await rp.tokens(browser)
        seen += [body["access_token"], body["refresh_token"], body["id_token"], rp.secret or ""]
        seen.append(body["_flow"].params["code"])
        await browser.form("/signout")
        await browser.form("/signin/email", {"email": f"{username}@example.com"})
        await deliver(mail_app)
        mail = smtp.mailbox.last(f"{username}@example.com", "sign-in link")
        seen += [mail.link.rsplit("/", 1)[1], mail.code, mail.code.replace("-", "")]
        await browser.client.get(mail.path)
        await browser.form(mail.path)
        seen.append(c.cookies.get("sesame_session") or "")
    formatter = JsonFormatter()
    # httpx is the test's own client (it logs the URLs the test requests), not Sesame.
    ours = [r for r in caplog.records if not r.name.startswith("httpx")]
    logged = "\n".join(formatter.format(record) for record in ours)
    assert "/signin/email/{token}" in logged  # the route was logged, as a template
    for secret in filter(None, seen):
        assert secret not in logged, secret[:12]


def metric(text: str, name: str, **labels: str) -> float:
    """The value of one sample (0 when absent)."""
    want = ",".join(f'{k}="{v}"' for k, v in sorted(labels.items()))
    for line in text.splitlines():
        if line.startswith(f"{name}{{") and line.split("{", 1)[1].split("}", 1)[0] == want:
            return float(line.rsplit(" ", 1)[1])
    return 0.0


async def test_metrics_for_emails_signins_and_rate_limits(make_app, smtp, backend):
    app = make_app(
        **smtp.settings(),
        email_rate_per_address=1,
        redis_prefix=f"{backend.redis_prefix}{secrets.token_hex(4)}:",
    )
    async with asgi_client(app) as c:
        before = (await c.get("/metrics")).text
        browser, _, username = await signed_up(c)
        email = f"{username}@example.com"
        await browser.form("/signout")
        await browser.form("/signin/email", {"email": email})
        assert (await browser.form("/signin/email", {"email": email})).status_code == 429
        await deliver(app)
        await browser.form(smtp.mailbox.last(email, "sign-in link").path)
        await browser.form("/signin/email/code", {"code": "2222-2222"})
        after = (await c.get("/metrics")).text

    def grew(name: str, **labels: str) -> float:
        return metric(after, name, **labels) - metric(before, name, **labels)

    assert grew("sesame_emails_total", outcome="queued") >= 2  # confirmation + sign-in link
    assert grew("sesame_emails_total", outcome="sent") >= 2
    assert grew("sesame_signins_total", method="email_link", outcome="success") == 1
    assert grew("sesame_signins_total", method="email_code", outcome="failure") == 1
    assert grew("sesame_rate_limit_hits_total", kind="email") == 1
