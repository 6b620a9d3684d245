"""PostgreSQL ends sessions under a running Sesame (a restart, an operator terminating
backends). Fault-run finding: asyncpg then often reports ``InternalClientError: cannot switch
to state 15; another operation (2) is in progress``: not two operations sharing a connection in
Sesame, but the protocol stuck half-way through the operation the server interrupted. That
error was neither an outage (it answered 500) nor a disconnect (the broken connection went back
to the pool). Reproduced here by terminating the backend of a session in use, many times: every
error must be an invalidated connection that the one outage mapping answers with 503 (before,
``InternalError`` reached the client as a 500), and the next session must always work.

Nothing in Sesame shares a session between tasks: each request, the outbox sender and each
background task open their own (``Database.session``)."""

from __future__ import annotations

import asyncio
import subprocess
from collections import Counter

import asyncpg
from sqlalchemy import text

from service.db.engine import Database, is_database_outage
from tests.conftest import PG_ADMIN_URL, fresh_backend


def test_a_session_ended_by_the_server_never_poisons_the_pool(tmp_path):
    with fresh_backend("postgres", tmp_path) as backend:
        kinds = asyncio.run(_terminate_sessions_in_use(backend.database_url, 120))
    # Every round met an error (which one depends on the timing: a clean disconnect or the
    # stuck protocol; the latter's mapping is pinned by the test below whatever the timing).
    assert sum(kinds.values()) == 120, kinds


async def _terminate_sessions_in_use(url: str, rounds: int) -> Counter[str]:
    db = Database(url)
    admin = await asyncpg.connect(PG_ADMIN_URL.rsplit("/", 1)[0] + "/" + url.rsplit("/", 1)[1])
    kinds: Counter[str] = Counter()
    try:
        for attempt in range(rounds):
            try:
                async with db.session() as session:
                    pid = (await session.exec(text("SELECT pg_backend_pid()"))).one()[0]
                    await admin.execute("SELECT pg_terminate_backend($1)", pid)
                    # Several delays: the earlier ones tend to meet the stuck protocol, the
                    # later ones a closed socket.
                    await asyncio.sleep(0.001 * (1 + attempt % 3))
                    await session.exec(text("SELECT 1"))
                raise AssertionError("the terminated session kept working")
            except AssertionError:
                raise
            except Exception as exc:
                root = exc.__cause__.__cause__ if exc.__cause__ else exc
                kinds[type(root).__name__] += 1
                assert getattr(exc, "connection_invalidated", False), repr(exc)
                assert is_database_outage(exc), repr(exc)
            async with db.session() as session:
                assert (await session.exec(text("SELECT 1"))).one()[0] == 1
    finally:
        await admin.close()
        await db.dispose()
    return kinds


def test_a_stuck_protocol_counts_as_a_disconnect_even_if_the_socket_looks_open():
    """SQLAlchemy invalidates a connection only when the driver says it is closed; asyncpg can
    report the stuck protocol on a connection that still looks open (sqlalchemy#13241). The
    engine's error hook makes that a disconnect whatever the socket says."""
    from types import SimpleNamespace

    from service.db.engine import _protocol_broken_is_disconnect

    stuck = asyncpg.exceptions.InternalClientError(
        "cannot switch to state 15; another operation (2) is in progress"
    )
    context = SimpleNamespace(original_exception=stuck, is_disconnect=False)
    _protocol_broken_is_disconnect(context)  # type: ignore[arg-type]
    assert context.is_disconnect is True
    other = SimpleNamespace(original_exception=ValueError("a bug"), is_disconnect=False)
    _protocol_broken_is_disconnect(other)  # type: ignore[arg-type]
    assert other.is_disconnect is False


def test_a_read_whose_connection_dies_under_it_is_retried_once(tmp_path):
    """The server ends the connection after the pool's ping and before the query (the window
    pre-ping cannot cover): the read is run once more on a new connection, and the person
    sees their page, not a 503. A write at the same moment is not repeated: it answers 503
    and changes nothing."""
    with fresh_backend("postgres", tmp_path) as backend:
        read, write = asyncio.run(_account_page_with_a_dying_connection(backend))
    assert read == 200
    assert write == 503


async def _account_page_with_a_dying_connection(backend) -> tuple[int, int]:
    from sqlalchemy import event

    from service.app import create_app
    from tests.conftest import asgi_client
    from tests.factories import signed_up
    from tests.integration.helpers import credentials_of

    app = create_app(backend.settings())
    armed = {"kill": 0}
    database = backend.database_url.rsplit("/", 1)[1]

    def kill_on_checkout(dbapi_connection, _record, _proxy) -> None:
        if armed["kill"]:
            armed["kill"] -= 1
            pid = dbapi_connection._connection.get_server_pid()
            subprocess.run(
                ["psql", "-h", "127.0.0.1", "-U", "postgres", "-d", database, "-qAt", "-c",
                 f"SELECT pg_terminate_backend({pid}, 5000)"],
                check=True, capture_output=True, timeout=30,
            )  # fmt: skip

    event.listen(app.state.ctx.db.engine.sync_engine.pool, "checkout", kill_on_checkout)
    try:
        async with asgi_client(app) as client:
            browser, _, username = await signed_up(client)
            armed["kill"] = 1
            read = (await client.get("/account")).status_code
            assert armed["kill"] == 0
            passkey = (await credentials_of(app, username))[0]
            await browser.csrf()
            armed["kill"] = 1
            renamed = await browser.form(f"/account/passkeys/{passkey.id}/rename", {"name": "X"})
            write = renamed.status_code
            assert (await credentials_of(app, username))[0].name == passkey.name
    finally:
        await app.state.ctx.store.close()
        await app.state.ctx.db.dispose()
    return read, write


def test_the_token_endpoint_answers_503_when_its_connection_dies(tmp_path):
    """The token endpoint's hot path (service.db.hot) on a connection the server ends between
    the checkout and the statement: RFC 6749 JSON with 503, never a 500 (the hot path's
    DatabaseUnavailable reaches the one outage mapping)."""
    with fresh_backend("postgres", tmp_path) as backend:
        status, body = asyncio.run(_token_with_a_dying_connection(backend))
    assert status == 503, body
    assert body["error"] == "temporarily_unavailable", body


async def _token_with_a_dying_connection(backend) -> tuple[int, dict]:
    from sqlalchemy import event

    from service.app import create_app
    from tests.conftest import asgi_client

    app = create_app(backend.settings())
    armed = {"kill": 0}
    database = backend.database_url.rsplit("/", 1)[1]

    def kill_on_checkout(dbapi_connection, _record, _proxy) -> None:
        if armed["kill"]:
            armed["kill"] -= 1
            pid = dbapi_connection._connection.get_server_pid()
            subprocess.run(
                ["psql", "-h", "127.0.0.1", "-U", "postgres", "-d", database, "-qAt", "-c",
                 f"SELECT pg_terminate_backend({pid}, 5000)"],
                check=True, capture_output=True, timeout=30,
            )  # fmt: skip

    event.listen(app.state.ctx.db.engine.sync_engine.pool, "checkout", kill_on_checkout)
    try:
        async with asgi_client(app) as client:
            armed["kill"] = 1
            answer = await client.post(
                "/token",
                data={"grant_type": "client_credentials"},
                auth=("some-client", "some-secret"),
            )
            assert armed["kill"] == 0
            return answer.status_code, answer.json()
    finally:
        await app.state.ctx.store.close()
        await app.state.ctx.db.dispose()
