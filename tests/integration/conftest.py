"""Fixtures shared by the integration tests: a registered first-party client, a signed-in
browser, a real SMTP server and an app that sends to it."""

from __future__ import annotations

import secrets

import pytest

from tests.factories import Browser, signed_up
from tests.holder import JwksServer, KeyHolder
from tests.mail import SmtpServer
from tests.processes import free_port
from tests.rp import RelyingParty


@pytest.fixture
async def rp(app) -> RelyingParty:
    return await RelyingParty.register(app)


@pytest.fixture
async def browser(client) -> Browser:
    signed_in, _, _ = await signed_up(client)
    return signed_in


@pytest.fixture
def smtp():
    """A real SMTP server (aiosmtpd) for this test."""
    server = SmtpServer(free_port())
    server.start()
    yield server
    server.stop()


@pytest.fixture
def mail_app(make_app, smtp, backend):
    """Sesame sending to ``smtp``, with its own Redis key prefix so that rate-limit budgets
    do not carry over between tests."""
    return make_app(
        **smtp.settings(), redis_prefix=f"{backend.redis_prefix}{secrets.token_hex(4)}:"
    )


@pytest.fixture
def jwks_server():
    """A client's jwks_uri on a real HTTP server, publishing one ES256 key (``.holder``)."""
    holder = KeyHolder("ES256")
    server = JwksServer(holder.jwks)
    server.holder = holder  # type: ignore[attr-defined]
    yield server
    server.close()
