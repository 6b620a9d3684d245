"""Webhooks (issue 16, item 5) against a real HTTP receiver in this process: events signed the
Standard Webhooks way, one delivery per event id, retried while the receiver is down, and
afterwards every event, each person's in order."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from tests.conftest import asgi_client
from tests.factories import signed_up
from tests.integration.test_oidc_admin import ADMIN, sesame, sesame_json
from tests.processes import free_port

AUTH = {"Authorization": f"Bearer {ADMIN}"}


class Receiver:
    """An app's webhook endpoint: keeps what it was sent; can be down (nothing listening)."""

    def __init__(self) -> None:
        self.port = free_port()
        self.got: list[tuple[dict[str, str], str]] = []
        self.server: ThreadingHTTPServer | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/hooks"

    def up(self) -> None:
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers["Content-Length"])).decode()
                receiver.got.append(({k.lower(): v for k, v in self.headers.items()}, body))
                self.send_response(204)
                self.end_headers()

            def log_message(self, *args: object) -> None:
                pass

        ThreadingHTTPServer.allow_reuse_address = True
        self.server = ThreadingHTTPServer(("127.0.0.1", self.port), Handler)
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def down(self) -> None:
        if self.server is not None:
            self.server.shutdown()
            self.server.server_close()
            self.server = None


def verified(secret: str, headers: dict[str, str], body: str) -> bool:
    """What a Standard Webhooks library checks."""
    key = base64.b64decode(secret.removeprefix("whsec_"))
    signed = f"{headers['webhook-id']}.{headers['webhook-timestamp']}.{body}".encode()
    expected = base64.b64encode(hmac.new(key, signed, hashlib.sha256).digest()).decode()
    return any(sig == f"v1,{expected}" for sig in headers["webhook-signature"].split())


@pytest.fixture
def receiver():
    found = Receiver()
    found.up()
    yield found
    found.down()


async def drain(app) -> None:
    sender = app.state.webhooks
    while await sender.work():
        pass


async def test_events_reach_a_receiver_signed_once_each_and_in_order(make_app, clock, receiver):
    app = make_app(admin_token=ADMIN)
    async with asgi_client(app) as admin, asgi_client(app) as c:
        made = await admin.post(
            "/admin/webhooks",
            json={"url": receiver.url, "events": ["signup", "signin.passkey"]},
            headers=AUTH,
        )
        assert made.status_code == 201, made.text
        hook, secret = made.json()["webhook_id"], made.json()["secret"]
        browser, auth, _ = await signed_up(c)
        await browser.form("/signout")
        assert (await browser.signin(auth)).status_code == 200
        clock.advance(3)
        await drain(app)
        kinds = [json.loads(body)["type"] for _, body in receiver.got]
        assert kinds == ["signup", "signin.passkey"]
        assert all(verified(secret, h, b) for h, b in receiver.got)
        person = json.loads(receiver.got[0][1])["data"]["user"]

        # Down: deliveries are retried, only the oldest of each person is tried, and the
        # operator sees what is owed.
        receiver.down()
        for _ in range(3):
            await browser.form("/signout")
            assert (await browser.signin(auth)).status_code == 200
        clock.advance(3)
        await drain(app)
        owed = (await admin.get(f"/admin/webhooks/{hook}/deliveries", headers=AUTH)).json()
        assert [d["attempts"] for d in owed] == [1, 0, 0]
        assert "ConnectError" in owed[0]["last_error"]
        rotated = await admin.post(f"/admin/webhooks/{hook}/rotate-secret", headers=AUTH)
        new_secret = rotated.json()["secret"]
        assert new_secret != secret

        # Back up: every event arrives, once, the person's in the order they happened.
        receiver.up()
        clock.advance(600)
        await drain(app)
        await drain(app)
        assert (await admin.get(f"/admin/webhooks/{hook}/deliveries", headers=AUTH)).json() == []
    later = receiver.got[2:]
    assert len(later) == 3 and all(verified(new_secret, h, b) for h, b in later)
    ids = [int(h["webhook-id"].removeprefix("evt_")) for h, _ in receiver.got]
    assert ids == sorted(ids) and len(set(ids)) == len(ids) == 5
    assert {json.loads(b)["data"]["user"] for _, b in later} == {person}


async def test_refusals_and_the_cli(backend, app, receiver):
    assert (
        sesame(backend, "webhooks", "create", "--url", "ftp://x", "--event", "signup").returncode
        == 2
    )
    assert (
        sesame(backend, "webhooks", "create", "--url", receiver.url, "--event", "nope").returncode
        == 2
    )
    made = sesame_json(backend, "webhooks", "create", "--url", receiver.url, "--event", "*")
    assert made["secret"].startswith("whsec_") and made["events"] == ["*"]
    listed = sesame_json(backend, "webhooks", "list")
    assert made["webhook_id"] in {w["webhook_id"] for w in listed}
    assert sesame_json(backend, "webhooks", "deliveries", made["webhook_id"]) == []
    rotated = sesame_json(backend, "webhooks", "rotate-secret", made["webhook_id"])
    assert rotated["secret"] != made["secret"]
    assert sesame(backend, "webhooks", "delete", made["webhook_id"]).returncode == 0
    assert sesame(backend, "webhooks", "deliveries", made["webhook_id"]).returncode == 1
