"""Issue 15 in real Chromium: an administrator runs the console with a passkey, invites a
person by email, who accepts with a passkey; the administrator puts them in a group and
restricts an app (Authlib, the demo app) to it; the person signs in to the app with the group
in the validated ID token; taken out of the group, they are refused with a page and the app
hears access_denied."""

from __future__ import annotations

import os
import re
import secrets
import subprocess
import sys

import pytest
from playwright.async_api import expect

from tests.e2e.conftest import Authenticator, register_client, running, wait_for_mail
from tests.e2e.test_passkeys_in_browser import signed_up_page
from tests.e2e.test_relying_apps import json_in
from tests.processes import free_port

pytestmark = pytest.mark.browser


def sesame_cli(server, *args: str) -> str:
    env = {**os.environ, **server.backend.env(), "SESAME_ISSUER": server.url}
    done = subprocess.run(
        [sys.executable, "-m", "service.cli", *args],
        env=env, capture_output=True, text=True, timeout=60, check=True,
    )  # fmt: skip
    return done.stdout


async def test_admin_restricts_an_app_to_a_group_from_the_console(
    live_server, context, other_context, tmp_path
):
    # The app: Authlib asking for the groups scope, not first-party (the person consents).
    url = f"http://localhost:{free_port()}"
    app_name = f"Acme {secrets.token_hex(2)}"
    client = register_client(
        live_server, "--name", app_name, "--type", "public",
        "--scope", "openid profile groups",
        "--redirect-uri", f"{url}/callback", "--post-logout-redirect-uri", f"{url}/",
    )  # fmt: skip
    env = {
        **os.environ,
        "SESAME_ISSUER": live_server.url,
        "DEMO_URL": url,
        "DEMO_CLIENT_ID": client["client_id"],
        "DEMO_SCOPE": "openid profile groups",
    }
    with running([sys.executable, "-m", "examples.demo_rp.app"], env, url, tmp_path / "demo.log"):
        # The administrator: a person with a passkey, made one from the command line.
        admin, _, admin_name = await signed_up_page(context, live_server, "root")
        assert "is now an administrator" in sesame_cli(
            live_server, "users", "grant-admin", admin_name
        )
        await admin.goto(f"{live_server.url}/admin")
        await admin.wait_for_url(re.compile(r"/console$"))
        await expect(admin.get_by_role("heading", level=1)).to_have_text("Console")

        # The invitation, by email; the person accepts it with a passkey.
        username = f"pat{secrets.token_hex(3)}"
        email = f"{username}@example.com"
        await admin.get_by_role("link", name="Invitations").click()
        await admin.get_by_label("Email").fill(email)
        await admin.get_by_role("button", name="Send invitation").click()
        await expect(admin.get_by_role("heading", level=1)).to_have_text("Invitation sent")
        mail = await wait_for_mail(live_server, email, "You are invited")
        link = re.search(r"https?://\S+/signup\?invitation=\S+", mail.text)
        assert link, mail.text
        person = await other_context.new_page()
        await Authenticator.attach(person)
        await person.goto(link.group(0))
        await expect(person.get_by_label("Email", exact=True)).to_have_value(email)
        await person.get_by_label("Username", exact=True).fill(username)
        await person.get_by_role("button", name="Create account with a passkey").click()
        await person.wait_for_url(re.compile(r"/account"))

        await admin.get_by_role("link", name="Groups").click()
        group = f"acme-{secrets.token_hex(3)}"
        await admin.get_by_label("Name", exact=True).fill(group)
        await admin.get_by_role("button", name="Create group").click()
        await expect(admin.locator("#notice")).to_have_text("Group created.")
        await admin.get_by_label("Add a person (username or email)").fill(username)
        await admin.get_by_role("button", name="Add", exact=True).click()
        await expect(admin.locator(f'#members [data-username="{username}"]')).to_be_visible()
        await admin.get_by_role("link", name="Apps").click()
        section = admin.locator(f'[data-client-id="{client["client_id"]}"]')
        await section.get_by_label(group).check()
        await section.get_by_role("button", name="Save allowed groups").click()
        await expect(admin.locator("#notice")).to_have_text("The app's allowed groups are saved.")

        # The person, a member: consents, and the app shows the group in the ID token.
        await person.goto(url)
        await person.get_by_role("link", name="Sign in with Sesame").click()
        await person.get_by_role("button", name="Allow").click()
        await expect(person.locator("#greeting")).to_have_text(f"Signed in as {username}")
        claims = await json_in(person, "#claims pre")
        assert claims["groups"] == [group] and claims["aud"] == client["client_id"]
        assert (await json_in(person, "#userinfo pre"))["groups"] == [group]

        # Taken out of the group from their page in the console.
        await admin.goto(f"{live_server.url}/console/users?q={username}")
        await admin.get_by_role("link", name=username).click()
        await expect(admin.locator("#member-of")).to_contain_text(group)
        await admin.locator("#member-of").get_by_role("button", name="Remove").click()
        await expect(admin.locator("#notice")).to_have_text("Removed from the group.")

        # The app's refresh is refused; signing in again shows why, and the app hears it.
        await person.get_by_role("button", name="Refresh tokens").click()
        await expect(person.locator("#error")).to_contain_text("(invalid_grant)")
        await person.get_by_role("link", name="Sign in with Sesame").click()
        await expect(person.get_by_role("heading", level=1)).to_have_text(
            f"Your account does not have access to {app_name}"
        )
        await person.get_by_role("button", name=f"Back to {app_name}").click()
        await expect(person.locator("#error")).to_have_text(
            "Your account does not have access to the demo app. (access_denied)"
        )
