"""Running Alembic migrations from code (``sesame migrate``, embedded start-up, tests). Whether
any are due is service.db.schema_version's question, answered without loading Alembic."""

from __future__ import annotations

from alembic import command
from alembic.config import Config

from service.db.engine import ensure_sqlite_dir
from service.db.schema_version import MIGRATIONS_DIR


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
