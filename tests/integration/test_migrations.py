"""The Alembic migrations build the schema the models describe, on both databases."""

from __future__ import annotations

from service.db.migrate import is_current


async def test_schema_is_at_head(app, backend):
    assert await is_current(app.state.ctx.db.engine, backend.database_url)
