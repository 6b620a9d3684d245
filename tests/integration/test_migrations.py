"""The Alembic migrations build the schema the models describe, on both databases."""

from __future__ import annotations

from service.db.schema_version import is_current


async def test_schema_is_at_head(app, backend):
    assert await is_current(app.state.ctx.db.engine)


def test_schema_version_reads_what_alembic_reads(backend, tmp_path):
    """The Alembic-free answer (readiness, doctor, the embedded start-up) is Alembic's: the same
    heads from the files, the same revisions from the database, none before the first
    migration and behind after a downgrade."""
    from alembic import command
    from alembic.script import ScriptDirectory

    from service.db import schema_version
    from service.db.engine import Database
    from service.db.migrate import alembic_config
    from tests.conftest import fresh_backend, run_in_thread, run_sync

    heads = ScriptDirectory.from_config(alembic_config("sqlite://")).get_heads()
    assert schema_version.heads() == frozenset(heads)

    async def read(url: str) -> tuple[frozenset[str], bool]:
        db = Database(url)
        try:
            return await schema_version.current(db.engine), await schema_version.is_current(
                db.engine
            )
        finally:
            await db.dispose()

    with fresh_backend(backend.name, tmp_path, migrate=False) as own:
        assert run_sync(read(own.database_url)) == (frozenset(), False)
        run_in_thread(lambda: command.upgrade(alembic_config(own.database_url), "0005"))
        assert run_sync(read(own.database_url)) == (frozenset({"0005"}), False)
        run_in_thread(lambda: command.upgrade(alembic_config(own.database_url), "head"))
        assert run_sync(read(own.database_url)) == (frozenset(heads), True)


async def test_migrations_match_the_models(app):
    """Autogenerate finds nothing to add: the migrations build exactly what the models say."""
    from alembic.autogenerate import compare_metadata
    from alembic.migration import MigrationContext
    from sqlmodel import SQLModel

    def diff(sync_conn):
        return compare_metadata(MigrationContext.configure(sync_conn), SQLModel.metadata)

    async with app.state.ctx.db.engine.connect() as conn:
        assert await conn.run_sync(diff) == []


def test_public_clients_registered_before_0006_get_their_web_origins(backend, tmp_path):
    """0006 (CORS) gives each existing public client the origins a new one gets by default."""
    from alembic import command
    from sqlalchemy import text
    from sqlalchemy.ext.asyncio import create_async_engine

    from service.db.migrate import alembic_config
    from tests.conftest import fresh_backend, run_in_thread, run_sync, run_sync_upgrade

    async def sql(url: str, statement: str, **params: object) -> list:
        engine = create_async_engine(url)
        async with engine.begin() as conn:
            result = await conn.execute(text(statement), params)
            rows = list(result.all()) if result.returns_rows else []
        await engine.dispose()
        return rows

    with fresh_backend(backend.name, tmp_path) as own:
        run_in_thread(lambda: command.downgrade(alembic_config(own.database_url), "0005"))
        for client_id, kind, uris in (
            (
                "spa",
                "public",
                "https://spa.example/cb https://spa.example/other http://localhost:3000/cb",
            ),
            ("cli", "public", "http://127.0.0.1/cb com.example.app:/cb"),
            ("web", "confidential", "https://web.example/cb"),
        ):
            run_sync(
                sql(
                    own.database_url,
                    "INSERT INTO oauth_clients (client_id, name, type, redirect_uris, "
                    "post_logout_redirect_uris, scopes, grant_types, id_token_alg, first_party, "
                    "created_at) VALUES (:client_id, 'x', :kind, :uris, '', 'openid', "
                    "'authorization_code', 'RS256', false, '2026-12-01 00:00:00+00')",
                    client_id=client_id,
                    kind=kind,
                    uris=uris,
                )
            )
        run_sync_upgrade(own.database_url)
        rows = run_sync(
            sql(own.database_url, "SELECT client_id, allowed_origins FROM oauth_clients")
        )
    assert dict(rows) == {
        "spa": "https://spa.example http://localhost:3000",
        "cli": "",
        "web": "",
    }
