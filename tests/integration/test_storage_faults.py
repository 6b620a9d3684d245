"""Storage that is down or rows that go away: clean answers, nothing half-written."""

from __future__ import annotations

from sqlalchemy import delete

from service.db.models import User
from tests.conftest import asgi_client
from tests.factories import Browser, new_username
from tests.integration.helpers import credentials_of, sessions_of
from tests.softauthn import SoftAuthenticator


async def test_deleting_a_user_removes_passkeys_and_sessions(app, client):
    username = new_username()
    assert (await Browser(client).signup(SoftAuthenticator(), username=username)).status_code == 200
    assert len(await sessions_of(app, username)) == 1
    async with app.state.ctx.db.session() as db:
        await db.exec(delete(User).where(User.username_key == username))
        await db.commit()
    assert await credentials_of(app, username) == []
    assert await sessions_of(app, username) == []
    assert (await client.get("/account")).status_code == 303


async def test_unreachable_redis_answers_503_not_500(make_app):
    app = make_app(redis_url="redis://127.0.0.1:1/0")
    async with asgi_client(app) as client:
        response = await Browser(client).post("/signin/begin")
        assert response.status_code == 503
        assert response.json()["error"] == "temporarily_unavailable"
        assert response.headers["retry-after"] == "5"


async def test_unreachable_database_answers_503_page(make_app):
    app = make_app(database_url="postgresql+asyncpg://postgres@127.0.0.1:1/none")
    async with asgi_client(app) as client:
        client.cookies.set("sesame_session", "x" * 43)
        response = await client.get("/account")
        assert response.status_code == 503
        assert "cannot reach its storage" in response.text
