"""The Alembic migrations build the schema the models describe, on both databases."""

from __future__ import annotations

from service.db.migrate import is_current


async def test_schema_is_at_head(app, backend):
    assert await is_current(app.state.ctx.db.engine)


async def test_migrations_match_the_models(app):
    """Autogenerate finds nothing to add: the migrations build exactly what the models say."""
    from alembic.autogenerate import compare_metadata
    from alembic.migration import MigrationContext
    from sqlmodel import SQLModel

    def diff(sync_conn):
        return compare_metadata(MigrationContext.configure(sync_conn), SQLModel.metadata)

    async with app.state.ctx.db.engine.connect() as conn:
        assert await conn.run_sync(diff) == []
