"""Invitations and SESAME_SIGNUP (issue 15): an administrator invites by email; the mailed
link creates the account with a passkey at that address (confirmed), in the invitation's
groups, once; ``invite`` makes an invitation the only way in, ``closed`` lets nobody in."""

from __future__ import annotations

import re
import secrets

from service.auth import operators
from service.db.models import User
from service.oidc import groups
from tests.conftest import asgi_client
from tests.factories import Browser, new_username, signed_up
from tests.integration.test_oidc_admin import ADMIN, sesame
from tests.mail import deliver
from tests.softauthn import SoftAuthenticator

AUTH = {"Authorization": f"Bearer {ADMIN}"}
LINK = re.compile(r"(https?://\S+/signup\?invitation=([A-Za-z0-9_-]+))")


def inviting_app(make_app, smtp, backend, **settings):
    return make_app(
        admin_token=ADMIN,
        redis_prefix=f"{backend.redis_prefix}{secrets.token_hex(4)}:",
        **smtp.settings(),
        **settings,
    )


async def invite(app, email: str, *groups_: str) -> str:
    """Through the admin API; returns the mailed link's token (checked equal to the answer's)."""
    async with asgi_client(app) as admin:
        made = await admin.post(
            "/admin/invitations", json={"email": email, "groups": list(groups_)}, headers=AUTH
        )
    assert made.status_code == 201, made.text
    assert made.headers["cache-control"] == "no-store"
    return made.json()["link"].rsplit("=", 1)[1]


async def mailed_token(app, smtp, email: str) -> str:
    await deliver(app)
    mail = smtp.mailbox.last(email, "You are invited")
    found = LINK.search(mail.text)
    assert found, mail.text
    return found.group(2)


async def sign_up_invited(app, token: str, email: str) -> tuple[Browser, str, object]:
    async with asgi_client(app) as c:
        browser = Browser(c)
        page = await c.get(f"/signup?invitation={token}")
        assert page.status_code == 200
        assert f'value="{email}" readonly' in page.text
        username = new_username()
        begun = await browser.post(
            "/signup/begin", {"username": username, "email": email, "invitation": token}
        )
        if begun.status_code != 200:
            return browser, username, begun
        data = begun.json()
        finished = await browser.post(
            "/signup/finish",
            {
                "ceremony": data["ceremony"],
                "credential": SoftAuthenticator().create(data["publicKey"]),
            },
        )
        return browser, username, finished


async def user_named(app, username: str) -> User | None:
    found = await operators.find_user(app.state.ctx, username)
    return found.user if found else None


async def test_an_invitation_creates_a_confirmed_account_in_its_groups_once(
    make_app, smtp, backend
):
    app = inviting_app(make_app, smtp, backend)
    group = f"new-{secrets.token_hex(3)}"
    await groups.create_group(app.state.oidc, group)
    email = f"inv{secrets.token_hex(3)}@example.com"
    answered = await invite(app, email, group)
    token = await mailed_token(app, smtp, email)
    assert token == answered
    _, username, finished = await sign_up_invited(app, token, email)
    assert finished.status_code == 200, finished.text
    user = await user_named(app, username)
    assert user is not None and user.email_verified_at is not None
    assert await groups.groups_of(app.state.oidc, user) == [group]
    await deliver(app)
    assert not [m for m in smtp.mailbox.to(email) if "Confirm" in m.subject]  # nothing to confirm
    # Once: the link's page says it no longer works, and so does the JSON call.
    async with asgi_client(app) as c:
        again = await c.get(f"/signup?invitation={token}")
        assert again.status_code == 400 and "does not work any more" in again.text
    _, second, used = await sign_up_invited_unchecked(app, token, email)
    assert used.status_code == 400 and used.json()["error"] == "invitation_invalid"
    assert await user_named(app, second) is None


async def sign_up_invited_unchecked(app, token: str, email: str):
    async with asgi_client(app) as c:
        browser = Browser(c)
        username = new_username()
        begun = await browser.post(
            "/signup/begin", {"username": username, "email": email, "invitation": token}
        )
        return browser, username, begun


async def test_two_sign_ups_racing_on_one_invitation_make_one_account(make_app, smtp, backend):
    """Both begin while the link is unused; only the first finish creates an account (the
    second finds the address taken, before the invitation's own compare-and-set)."""
    app = inviting_app(make_app, smtp, backend)
    email = f"race{secrets.token_hex(3)}@example.com"
    token = await invite(app, email)
    async with asgi_client(app) as one, asgi_client(app) as two:
        started = []
        for c in (one, two):
            browser, username = Browser(c), new_username()
            begun = await browser.post(
                "/signup/begin", {"username": username, "email": email, "invitation": token}
            )
            assert begun.status_code == 200, begun.text
            started.append((browser, username, begun.json()))
        results = []
        for browser, _, data in started:
            credential = SoftAuthenticator().create(data["publicKey"])
            results.append(
                await browser.post(
                    "/signup/finish", {"ceremony": data["ceremony"], "credential": credential}
                )
            )
    assert [r.status_code for r in results] == [200, 409]
    assert "email" in results[1].json()["fields"]
    assert await user_named(app, started[1][1]) is None


async def test_invite_only_sign_up(make_app, smtp, backend):
    app = inviting_app(make_app, smtp, backend, signup="invite")
    async with asgi_client(app) as c:
        closed = await c.get("/signup")
        assert closed.status_code == 403 and "by invitation only" in closed.text
        assert 'href="/signup' not in (await c.get("/signin")).text
        begun = await Browser(c).begin_signup()
        assert (begun.status_code, begun.json()["error"]) == (403, "invitation_required")
    email = f"only{secrets.token_hex(3)}@example.com"
    token = await invite(app, email)
    _, _, wrong = await sign_up_invited_unchecked(app, token, f"other-{email}")
    assert wrong.status_code == 400 and "email" in wrong.json()["fields"]
    _, username, finished = await sign_up_invited(app, token, email)
    assert finished.status_code == 200, finished.text
    assert await user_named(app, username) is not None


async def test_an_expired_invitation_does_not_work(make_app, smtp, backend, clock):
    app = inviting_app(make_app, smtp, backend, signup="invite")
    email = f"late{secrets.token_hex(3)}@example.com"
    token = await invite(app, email)
    clock.advance(app.state.ctx.settings.invitation_days * 86400 + 1)
    async with asgi_client(app) as c:
        assert (await c.get(f"/signup?invitation={token}")).status_code == 400
    _, _, late = await sign_up_invited_unchecked(app, token, email)
    assert late.json()["error"] == "invitation_invalid"


async def test_closed_sign_up(make_app, smtp, backend):
    app = inviting_app(make_app, smtp, backend, signup="closed")
    async with asgi_client(app) as c:
        closed = await c.get("/signup")
        assert closed.status_code == 403 and "cannot be created here" in closed.text
        begun = await Browser(c).begin_signup()
        assert (begun.status_code, begun.json()["error"]) == (403, "signup_closed")
        refused = await c.post("/admin/invitations", json={"email": "x@example.com"}, headers=AUTH)
        assert (refused.status_code, refused.json()["error"]) == (403, "signup_closed")


async def test_invitation_refusals(make_app, smtp, backend):
    app = inviting_app(make_app, smtp, backend)
    async with asgi_client(app) as c:
        _, _, username = await signed_up(c)
        for body, error in (
            ({"email": f"{username}@example.com"}, "invalid_invitation"),  # has an account
            ({"email": "not-an-address"}, "invalid_invitation"),
            ({"email": "a@example.com", "groups": ["no-such-group"]}, "invalid_invitation"),
        ):
            refused = await c.post("/admin/invitations", json=body, headers=AUTH)
            assert (refused.status_code, refused.json()["error"]) == (400, error), body
        assert (await c.get("/signup?invitation=made-up")).status_code == 400


async def test_console_and_cli_invitations(backend, make_app, smtp):
    from tests.integration.test_console import make_admin

    app = inviting_app(make_app, smtp, backend)
    async with asgi_client(app) as c:
        browser, _, admin_name = await signed_up(c)
        await make_admin(app, admin_name)
        email = f"con{secrets.token_hex(3)}@example.com"
        sent = await browser.form("/console/invitations", {"email": email})
        assert sent.status_code == 200 and 'id="invitation-link"' in sent.text
        link = re.search(r'id="invitation-link">([^<]+)<', sent.text)
        assert (
            link
            and link.group(1)
            == f"http://localhost:8000/signup?invitation={await mailed_token(app, smtp, email)}"
        )
        listed = await browser.client.get("/console/invitations")
        assert f'data-email="{email}"' in listed.text and "pending until" in listed.text
    cli_email = f"cli{secrets.token_hex(3)}@example.com"
    made = sesame(backend, "users", "invite", cli_email)
    assert made.returncode == 0, made.stderr
    assert "/signup?invitation=" in made.stdout and "works once" in made.stderr
    assert sesame(backend, "users", "invite", "not-an-address").returncode == 2


async def test_invitations_to_one_address_share_its_mail_budget(make_app, smtp, backend):
    app = inviting_app(make_app, smtp, backend, email_rate_per_address=2)
    email = f"flood{secrets.token_hex(3)}@example.com"
    async with asgi_client(app) as admin:
        answers = [
            await admin.post("/admin/invitations", json={"email": email}, headers=AUTH)
            for _ in range(3)
        ]
    assert [a.status_code for a in answers] == [201, 201, 429]
    assert int(answers[2].headers["retry-after"]) >= 1
