"""The token endpoint's client rows, cached in process (``service.db.clients.ClientCache``).

A cached row saves the token endpoint a read; it is never trusted further than the statement
the grant writes with, which is conditional on the row's ``version``. Here every change is made
the way another replica or an operator makes it: straight in the database, behind the app's
back, so only the version (moved on by a trigger) can tell the app its copy is out of date.
"""

from __future__ import annotations

import base64

import pytest
from sqlalchemy import text, update

from service.db import clients as client_rows
from service.db.clients import ClientCache
from service.db.models import OAuthClient
from tests.integration.helpers import counted_reads, grants_of_client
from tests.rp import RelyingParty


def assert_error(response, status: int, error: str) -> None:
    assert response.status_code == status, response.text
    assert response.json()["error"] == error


async def change_client(app, client_id: str, **values) -> None:
    """An UPDATE of the client's row on a connection of its own, as another process makes it."""
    async with app.state.ctx.db.session() as db:
        await db.exec(
            update(OAuthClient).where(OAuthClient.client_id == client_id).values(**values)
        )
        await db.commit()


async def new_secret(app, client_id: str, secret: str) -> None:
    await change_client(
        app, client_id, secret_hash=app.state.oidc.keys.hash("client-secret", secret)
    )


async def version_of(app, client_id: str) -> int:
    async with app.state.ctx.db.session() as db:
        row = await client_rows.by_client_id(db, client_id)
    assert row is not None
    return row.version


@pytest.fixture
def reads(monkeypatch) -> list[str]:
    """The client rows the token endpoint reads from the database (the real read, counted)."""
    return counted_reads(monkeypatch, client_rows, "find")


async def test_every_update_moves_the_version_on_whoever_writes_it(app, rp):
    """The trigger (migration 0018) at head, on both databases: an ORM update, a plain SQL
    UPDATE, even one that sets the version itself."""
    first = await version_of(app, rp.client_id)
    await change_client(app, rp.client_id, name="Renamed")
    assert await version_of(app, rp.client_id) == first + 1
    async with app.state.ctx.db.session() as db:
        await db.exec(
            text("UPDATE oauth_clients SET scopes = 'openid' WHERE client_id = :c"),
            params={"c": rp.client_id},
        )
        await db.exec(
            text("UPDATE oauth_clients SET version = 0 WHERE client_id = :c"),
            params={"c": rp.client_id},
        )
        await db.commit()
    assert await version_of(app, rp.client_id) == first + 3


async def test_the_token_endpoint_reads_a_client_once(app, rp, browser, reads):
    flow = await rp.authorize(browser)
    body = (await rp.exchange(flow)).json()
    assert (await rp.refresh(body["refresh_token"])).status_code == 200
    flow = await rp.authorize(browser)
    assert (await rp.exchange(flow)).status_code == 200
    assert reads == [rp.client_id]
    # Other endpoints that authenticate clients read the row each time.
    async with rp.back_channel() as c:
        raw = base64.b64encode(f"{rp.client_id}:{rp.secret}".encode()).decode()
        response = await c.post(
            "/revoke",
            data={"token": body["access_token"]},
            headers={"Authorization": f"Basic {raw}"},
        )
    assert response.status_code == 200
    assert reads == [rp.client_id, rp.client_id]


async def test_a_secret_rotated_elsewhere_refuses_the_old_one_at_once(app, browser):
    """The code grant claims its code before it writes: the old secret, accepted by the cached
    row, is refused once the write finds the row changed, and the code is given back."""
    rp = await RelyingParty.register(app, grant_types=["authorization_code", "refresh_token"])
    tokens = (await rp.exchange(await rp.authorize(browser))).json()
    service = await RelyingParty.register(
        app, redirect_uris=[], grant_types=["client_credentials"], scopes=["openid", "email"]
    )
    cc = {"grant_type": "client_credentials", "scope": "email"}
    assert (await service.token(cc)).status_code == 200
    flow = await rp.authorize(browser)
    grants_before = len(await grants_of_client(app, rp.client_id))
    issued_before = len(await grants_of_client(app, service.client_id))

    await new_secret(app, rp.client_id, "rotated-secret-for-the-app")
    await new_secret(app, service.client_id, "rotated-secret-for-the-service")

    assert_error(await rp.exchange(flow), 401, "invalid_client")
    assert_error(await rp.refresh(tokens["refresh_token"]), 401, "invalid_client")
    assert_error(await service.token(cc), 401, "invalid_client")
    assert len(await grants_of_client(app, rp.client_id)) == grants_before
    assert len(await grants_of_client(app, service.client_id)) == issued_before

    rp.secret, service.secret = "rotated-secret-for-the-app", "rotated-secret-for-the-service"
    # The same code and the same refresh token: neither was used by the refused requests.
    assert (await rp.exchange(flow)).status_code == 200
    assert (await rp.refresh(tokens["refresh_token"])).status_code == 200
    assert (await service.token(cc)).status_code == 200


async def test_the_new_secret_works_before_the_cache_hears_of_it(app, rp, browser, reads):
    assert (await rp.exchange(await rp.authorize(browser))).status_code == 200
    await new_secret(app, rp.client_id, "the-new-one")
    rp.secret = "the-new-one"
    assert (await rp.exchange(await rp.authorize(browser))).status_code == 200
    assert reads == [rp.client_id, rp.client_id]


async def test_a_grant_type_withdrawn_elsewhere_is_refused_and_writes_nothing(app, browser):
    service = await RelyingParty.register(
        app, redirect_uris=[], grant_types=["client_credentials"], scopes=["openid", "email"]
    )
    cc = {"grant_type": "client_credentials", "scope": "email"}
    assert (await service.token(cc)).status_code == 200
    await change_client(app, service.client_id, grant_types="authorization_code")
    assert_error(await service.token(cc), 400, "unauthorized_client")
    assert len(await grants_of_client(app, service.client_id)) == 1

    rp = await RelyingParty.register(app, grant_types=["authorization_code", "refresh_token"])
    tokens = (await rp.exchange(await rp.authorize(browser))).json()
    flow = await rp.authorize(browser)
    await change_client(app, rp.client_id, grant_types="refresh_token")
    assert_error(await rp.exchange(flow), 400, "unauthorized_client")
    await change_client(app, rp.client_id, grant_types="authorization_code refresh_token")
    # Refused before it was used: the code still works.
    assert (await rp.exchange(flow)).status_code == 200
    assert (await rp.refresh(tokens["refresh_token"])).status_code == 200


async def test_a_client_deleted_elsewhere_is_unknown(app, rp, browser):
    tokens = (await rp.exchange(await rp.authorize(browser))).json()
    flow = await rp.authorize(browser)
    async with app.state.ctx.db.session() as db:
        assert await client_rows.delete_by_client_id(db, rp.client_id)
        await db.commit()
    assert_error(await rp.exchange(flow), 401, "invalid_client")
    assert_error(await rp.refresh(tokens["refresh_token"]), 401, "invalid_client")


async def test_a_change_that_refuses_nothing_costs_one_more_read(app, rp, browser, reads):
    """A renamed app: the request is decided again on the current row and succeeds, the code
    used once, the refresh token rotated once."""
    tokens = (await rp.exchange(await rp.authorize(browser))).json()
    flow = await rp.authorize(browser)
    await change_client(app, rp.client_id, name="Renamed app")
    assert (await rp.exchange(flow)).status_code == 200
    assert_error(await rp.exchange(flow), 400, "invalid_grant")
    await change_client(app, rp.client_id, name="Renamed again")
    refreshed = await rp.refresh(tokens["refresh_token"])
    assert refreshed.status_code == 200
    assert_error(await rp.refresh(tokens["refresh_token"]), 400, "invalid_grant")
    assert reads == [rp.client_id] * 3


def test_the_cache_keeps_a_bounded_number_of_rows():
    cache = ClientCache(size=2)
    rows = [OAuthClient(client_id=f"c{i}") for i in range(3)]  # type: ignore[call-arg]
    for row in rows:
        cache.put(row)
    assert cache.get("c0") is None
    assert cache.get("c1") is rows[1] and cache.get("c2") is rows[2]
    cache.put(rows[1])  # put again: now the newest
    cache.put(rows[0])
    assert cache.get("c2") is None and cache.get("c1") is rows[1]
