"""Hot-path writes on the embedded default, on the event loop's thread when they cannot wait.

A single statement outside a transaction (the code exchange's grant, a refresh's rotation) used
to go to aiosqlite's thread twice, to execute and to commit; on one core those hand-offs and the
two threads passing the GIL cost more than the write (about 60 us in sqlite3). Run here
instead: code exchange 580-594 -> 657/s, refresh 572-595 -> 712/s on the embedded default
(bench/compare.py, one core).

A write goes back to aiosqlite's thread, as before, whenever it would make the loop wait:
* another process (a CLI command, a second worker) holds the write lock: the statement is tried
  with a busy timeout of 0, SQLite answers SQLITE_BUSY at once, nothing was written, and the
  caller sends it to the thread, which waits up to the usual 5 s;
* a WAL checkpoint (copying pages and an fsync) is never run by a commit made here: automatic
  checkpoints are off while it commits, and after every ``CHECKPOINT_EVERY`` such commits the
  caller runs a passive checkpoint on the thread. Commits made on the thread keep SQLite's
  automatic checkpoint.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Sequence
from typing import Any

from service.db.engine import SQLITE_AUTOCHECKPOINT_PAGES, SQLITE_BUSY_TIMEOUT_MS
from service.db.sqlite_reads import would_wait

CHECKPOINT_EVERY = 200
_since_checkpoint = 0


def try_write(
    conn: sqlite3.Connection, sql: str, params: Sequence[Any]
) -> tuple[list[Any], int] | None:
    """Run and commit one statement on this thread: its rows and row count, or None (nothing
    written) when another connection holds the write lock."""
    global _since_checkpoint
    conn.execute("PRAGMA busy_timeout=0")
    conn.execute("PRAGMA wal_autocheckpoint=0")
    try:
        cursor = conn.execute(sql, params)
        rows = cursor.fetchall()
        conn.commit()
    except sqlite3.OperationalError as exc:
        if conn.in_transaction:
            conn.rollback()
        if would_wait(exc):
            return None
        raise
    finally:
        conn.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
        conn.execute(f"PRAGMA wal_autocheckpoint={SQLITE_AUTOCHECKPOINT_PAGES}")
    _since_checkpoint += 1
    return rows, cursor.rowcount


def checkpoint_due() -> bool:
    """True once every CHECKPOINT_EVERY commits made here (the caller then checkpoints)."""
    global _since_checkpoint
    if _since_checkpoint < CHECKPOINT_EVERY:
        return False
    _since_checkpoint = 0
    return True
