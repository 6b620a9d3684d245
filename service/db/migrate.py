"""Running Alembic migrations from code (``sesame migrate``, embedded start-up, tests)."""

from __future__ import annotations

import functools
from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy.ext.asyncio import AsyncEngine

from service.db.engine import ensure_sqlite_dir


def _migrations_dir() -> Path:
    """``migrations/`` beside the package in a checkout, else in the working directory (the
    container runs from /app, where the Dockerfile copies it)."""
    beside = Path(__file__).resolve().parents[2] / "migrations"
    return beside if (beside / "env.py").exists() else Path.cwd() / "migrations"


MIGRATIONS_DIR = _migrations_dir()


def alembic_config(database_url: str) -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    config.set_main_option("sqlalchemy.url", database_url.replace("%", "%%"))
    return config


def upgrade(database_url: str, revision: str = "head") -> None:
    """Blocking: run from a thread or before the event loop starts (Alembic's env runs its own)."""
    if database_url.startswith("sqlite"):
        ensure_sqlite_dir(database_url)
    command.upgrade(alembic_config(database_url), revision)


@functools.cache
def _heads() -> frozenset[str]:
    """The code's migration heads: read from disk once per process (readiness probes ask
    every few seconds, and the files do not change under a running process)."""
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    return frozenset(ScriptDirectory.from_config(config).get_heads())


async def is_current(engine: AsyncEngine) -> bool:
    heads = _heads()
    async with engine.connect() as conn:
        current = await conn.run_sync(
            lambda sync_conn: set(MigrationContext.configure(sync_conn).get_current_heads())
        )
    return current == heads
