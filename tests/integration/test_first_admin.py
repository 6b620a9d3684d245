"""The first administrator from the setup link in the log (``service.auth.first_admin``), on
a database of its own: no administrator exists there until the link is used."""

from __future__ import annotations

import logging
import re

import pytest

from service.app import create_app
from service.auth import first_admin
from tests.conftest import asgi_client, fresh_backend
from tests.factories import signed_up


@pytest.fixture
async def lonely_app(backend, clock, tmp_path):
    """A Sesame whose database has nobody in it."""
    with fresh_backend(backend.name, tmp_path) as own:
        app = create_app(own.settings(), clock=clock)
        yield app
        await app.state.ctx.store.close()
        await app.state.ctx.db.dispose()


async def test_the_setup_link_makes_the_first_administrator_once(lonely_app, clock, caplog):
    ctx = lonely_app.state.ctx
    with caplog.at_level(logging.WARNING, logger="sesame.setup"):
        path = await first_admin.announce(ctx)
    assert path and f"open {ctx.settings.issuer}{path}" in caplog.text
    async with asgi_client(lonely_app) as anonymous:
        to_signin = await anonymous.get(path)
        assert to_signin.headers["location"] == f"/signin?next={path}"
    async with asgi_client(lonely_app) as c, asgi_client(lonely_app) as other:
        browser, _, _ = await signed_up(c)
        late, _, _ = await signed_up(other)
        page = await browser.client.get(path)
        assert page.status_code == 200 and "Become the first administrator" in page.text
        assert (await browser.client.post(path)).status_code == 403  # no CSRF token
        clock.advance(ctx.settings.step_up_seconds + 1)
        assert (await browser.form(path)).status_code == 403  # the passkey sign-in is stale
        clock.advance(-(ctx.settings.step_up_seconds + 1))
        made = await browser.form(path)
        assert (made.status_code, made.headers["location"]) == (303, "/console?done=admin")
        assert (await browser.client.get("/console")).status_code == 200
        # Used up, for everyone: the link, and any other, once an administrator exists.
        assert (await late.form(path)).status_code == 410
        assert (await late.client.get(path)).status_code == 410
        assert (await late.client.get("/console")).status_code == 403
    assert await first_admin.announce(ctx) is None
    found = re.search(r"/console/setup/(\S+)", path)
    assert found and not await first_admin.usable(ctx, found.group(1))


async def test_a_made_up_setup_link_does_nothing(lonely_app):
    await first_admin.announce(lonely_app.state.ctx)
    async with asgi_client(lonely_app) as c:
        browser, _, _ = await signed_up(c)
        assert (await browser.client.get("/console/setup/made-up")).status_code == 410
        assert (await browser.form("/console/setup/made-up")).status_code == 410
        assert (await browser.client.get("/console")).status_code == 403
