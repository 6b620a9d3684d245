"""Running Alembic migrations from code (``sesame migrate``, embedded start-up, tests). Whether
any are due is service.db.schema_version's question, answered without loading Alembic."""

from __future__ import annotations

import logging

# Alembic's INFO lines (plugins set up on import, one per step, two even with nothing to do)
# stay out of Sesame's log; ``upgrade`` says in one line where the schema is. Set before Alembic
# is imported: it logs as it loads.
logging.getLogger("alembic").setLevel(logging.WARNING)

from alembic import command  # noqa: E402
from alembic.config import Config  # noqa: E402

from service.db.engine import ensure_sqlite_dir  # noqa: E402
from service.db.schema_version import MIGRATIONS_DIR, heads  # noqa: E402

log = logging.getLogger("sesame.db")


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
    target = ", ".join(sorted(heads())) if revision == "head" else revision
    log.info("database schema migrated to revision %s", target)
