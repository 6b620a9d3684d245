"""The client credentials grant's API rows, kept in process (``service.db.apis.ApiCache``).

A kept API row saves the grant a read; the grant's insert is conditional on the API still
having the audience and scopes the request was granted from. Every change here is made the way
another replica or an operator makes it: straight in the database, behind the app's back."""

from __future__ import annotations

import secrets

import pytest
from sqlalchemy import delete, update

from service.db import apis as api_rows
from service.db.apis import ApiCache
from service.db.models import Api
from service.oidc import apis
from tests.holder import KeyHolder
from tests.integration.helpers import counted_reads, grants_of_client
from tests.integration.test_client_assertions import issuer, keyed_client, token_with
from tests.rp import RelyingParty

SCOPES = ["orders:read", "orders:write"]


@pytest.fixture
def reads(monkeypatch) -> list[str]:
    """The API rows the token endpoint reads from the database (the real read, counted)."""
    return counted_reads(monkeypatch, api_rows, "find")


@pytest.fixture
async def orders(app) -> tuple[Api, RelyingParty]:
    """An API with two scopes and a service allowed both."""
    audience = f"https://orders-{secrets.token_hex(4)}.example.com"
    api, _ = await apis.create_api(app.state.oidc, "Orders", audience, SCOPES)
    service = await RelyingParty.register(
        app,
        redirect_uris=[],
        api_access={audience: SCOPES},
        grant_types=["client_credentials"],
    )
    return api, service


def asked(api: Api) -> dict[str, str]:
    return {"grant_type": "client_credentials", "resource": api.audience, "scope": " ".join(SCOPES)}


async def change_api(app, current: str, **values) -> None:
    async with app.state.ctx.db.session() as db:
        await db.exec(update(Api).where(Api.audience == current).values(**values))
        await db.commit()


async def test_the_grant_reads_an_api_once(app, orders, reads):
    api, service = orders
    for _ in range(3):
        answer = await service.token(asked(api))
        assert answer.status_code == 200, answer.text
        assert answer.json()["scope"] == "orders:read orders:write"
    assert reads == [api.audience]
    assert len(await grants_of_client(app, service.client_id)) == 3


async def test_scopes_changed_elsewhere_are_what_the_next_token_gets(app, orders, reads):
    api, service = orders
    assert (await service.token(asked(api))).status_code == 200
    await change_api(app, api.audience, scopes="orders:read")
    answer = await service.token(asked(api))
    assert answer.status_code == 200, answer.text
    assert answer.json()["scope"] == "orders:read"
    # One grant for each token: the request decided on the old row wrote nothing.
    assert [g.scope for g in await grants_of_client(app, service.client_id)] == [
        "orders:read orders:write",
        "orders:read",
    ]
    assert reads == [api.audience, api.audience]


async def test_an_api_deleted_or_renamed_elsewhere_is_an_invalid_target(app, orders):
    api, service = orders
    assert (await service.token(asked(api))).status_code == 200
    await change_api(app, api.audience, audience=api.audience + "/v2")
    answer = await service.token(asked(api))
    assert answer.status_code == 400 and answer.json()["error"] == "invalid_target"
    renamed = {**asked(api), "resource": api.audience + "/v2"}
    # Not allowed to the client under its new audience either.
    assert (await service.token(renamed)).json()["error"] == "invalid_target"

    await change_api(app, api.audience + "/v2", audience=api.audience)
    assert (await service.token(asked(api))).status_code == 200
    async with app.state.ctx.db.session() as db:
        await db.exec(delete(Api).where(Api.audience == api.audience))
        await db.commit()
    answer = await service.token(asked(api))
    assert answer.status_code == 400 and answer.json()["error"] == "invalid_target"
    assert len(await grants_of_client(app, service.client_id)) == 2


async def test_a_client_with_a_key_is_not_asked_again_when_only_the_api_changed(app, orders):
    """A ``private_key_jwt`` client's assertion is single use: an API row found changed is read
    again inside the grant, not by authenticating the client a second time."""
    api, _ = orders
    holder = KeyHolder("ES256")
    keyed = await keyed_client(
        app,
        holder,
        redirect_uris=[],
        api_access={api.audience: SCOPES},
        grant_types=["client_credentials"],
    )
    form = {**asked(api), **holder.assertion_form(keyed.client_id, issuer(app))}
    assert (await token_with(keyed, form)).status_code == 200
    await change_api(app, api.audience, scopes="orders:write")
    form = {**asked(api), **holder.assertion_form(keyed.client_id, issuer(app))}
    answer = await token_with(keyed, form)
    assert answer.status_code == 200, answer.text
    assert answer.json()["scope"] == "orders:write"


def test_apis_are_kept_by_audience_within_the_bound():
    cache = ApiCache(size=1)
    first, second = (Api(audience=f"https://a{i}.example") for i in range(2))  # type: ignore[call-arg]
    cache.put(first)
    cache.put(second)
    assert cache.get("https://a0.example") is None and cache.holds(second)
