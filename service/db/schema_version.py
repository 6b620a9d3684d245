"""Is the database's schema the code's? Answered without Alembic (``/readyz``, ``sesame
doctor``, the embedded start-up's "anything to migrate?"): Alembic and Mako cost a serving
process about 11 MB it would otherwise never use. The answer is Alembic's: the heads are the
revisions no other revision names as its ``down_revision``, and the database's are the rows
of ``alembic_version`` (tests/integration/test_migrations.py holds both to Alembic's own)."""

from __future__ import annotations

import ast
import functools
from pathlib import Path

from sqlalchemy import text
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncEngine


def _migrations_dir() -> Path:
    """``migrations/`` beside the package in a checkout, else in the working directory (the
    container runs from /app, where the Dockerfile copies it)."""
    beside = Path(__file__).resolve().parents[2] / "migrations"
    return beside if (beside / "env.py").exists() else Path.cwd() / "migrations"


MIGRATIONS_DIR = _migrations_dir()


def _assigned(tree: ast.Module, name: str) -> object:
    for node in tree.body:
        if isinstance(node, ast.Assign):
            targets, value = node.targets, node.value
        elif isinstance(node, ast.AnnAssign) and node.value is not None:
            targets, value = [node.target], node.value
        else:
            continue
        if any(isinstance(t, ast.Name) and t.id == name for t in targets):
            return ast.literal_eval(value)
    raise ValueError(f"no {name} in a migration")


@functools.cache
def heads() -> frozenset[str]:
    """The code's migration heads, read from disk once per process (readiness probes ask
    every few seconds, and the files do not change under a running process)."""
    revisions: set[str] = set()
    parents: set[str] = set()
    for path in (MIGRATIONS_DIR / "versions").glob("*.py"):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        revisions.add(str(_assigned(tree, "revision")))
        down = _assigned(tree, "down_revision")
        if isinstance(down, str):
            parents.add(down)
        elif isinstance(down, tuple | list):  # a merge revision
            parents.update(str(parent) for parent in down)
    return frozenset(revisions - parents)


async def current(engine: AsyncEngine) -> frozenset[str]:
    """The revisions the database is at; none before the first migration."""
    async with engine.connect() as conn:
        try:
            rows = (await conn.execute(text("SELECT version_num FROM alembic_version"))).all()
        except DBAPIError as exc:
            if _no_such_table(exc):
                return frozenset()
            raise
    return frozenset(row[0] for row in rows)


def _no_such_table(exc: DBAPIError) -> bool:
    message = str(exc.orig).lower()
    return "no such table" in message or "does not exist" in message


async def is_current(engine: AsyncEngine) -> bool:
    return await current(engine) == heads()
