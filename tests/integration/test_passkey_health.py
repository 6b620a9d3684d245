"""Passkey health on the account page (issue 14): each passkey's provider and icon from the
community AAGUID list, a warning while the only passkey is bound to one device, a nudge
toward a second passkey after sign-up."""

from __future__ import annotations

import re
import uuid

from tests.factories import Browser, new_username
from tests.softauthn import SoftAuthenticator

ONE_PASSWORD = "bada5566-a7aa-401f-bd96-45619a55120d"


async def _signed_up(client, auth: SoftAuthenticator) -> Browser:
    browser = Browser(client)
    done = await browser.signup(auth, username=new_username())
    assert done.status_code == 200, done.text
    return browser


async def test_a_single_device_bound_passkey_is_warned_about(client):
    browser = await _signed_up(client, SoftAuthenticator())
    page = (await client.get("/account?done=welcome")).text
    assert 'id="single-device-passkey"' in page and "locked out" in page
    assert 'id="second-passkey-nudge"' not in page  # the warning says it already
    # A second passkey, and the warning is gone.
    added = await browser.add_passkey(SoftAuthenticator())
    assert added.status_code == 200, added.text
    assert 'id="single-device-passkey"' not in (await client.get("/account")).text


async def test_a_synced_passkey_shows_its_provider_and_a_nudge_after_sign_up(client):
    synced = SoftAuthenticator(
        backup_eligible=True, backed_up=True, aaguid=uuid.UUID(ONE_PASSWORD).bytes
    )
    await _signed_up(client, synced)
    page = (await client.get("/account?done=welcome")).text
    assert 'id="single-device-passkey"' not in page
    assert 'id="second-passkey-nudge"' in page
    item = re.search(r'<li class="passkey".*?</li>', page, re.S).group(0)
    assert '<strong class="passkey-name">1Password</strong>' in item  # named from the list
    icons = re.findall(r'(?:src|srcset)="(data:image/[^"]+)"', item)
    assert len(icons) == 2  # light and dark
    assert ">Synced<" in item
    assert 'id="second-passkey-nudge"' not in (await client.get("/account")).text


async def test_each_passkey_says_where_it_was_last_used(client):
    auth = SoftAuthenticator()
    browser = await _signed_up(client, auth)
    await client.post("/signout", data={"csrf_token": await browser.csrf()})
    browser._csrf = None
    chrome = "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 Chrome/156.0 Safari/537.36"
    begun = await browser.begin_signin()
    body = {"ceremony": begun["ceremony"], "credential": auth.get(begun["publicKey"])}
    done = await browser.post("/signin/finish", body, headers={"User-Agent": chrome})
    assert done.status_code == 200, done.text
    page = (await client.get("/account")).text
    where = re.search(r'<span class="passkey-where">\((.*?)\)</span>', page)
    assert where is not None and where.group(1).startswith("Chrome on Linux"), page
