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

Such a write does not check the pool's one connection out either while it lies idle in the pool
(``write_on_idle``): the write runs to its end without awaiting, so nothing else on the loop can
take the connection meanwhile, and the checkout and checkin (greenlet switches, the pool's
queue, the connection's wrapper) are spared. While the connection is out (an ORM session,
another request's transaction, the thread's checkpoint) the write waits for it to lie idle
again instead of queueing in the pool: queued waiters hand the connection on to each other and
it never lies idle again, which made a first version of this change gain nothing. A checkpoint
due, another process's lock or any error: the write takes the usual path, which checks the
connection out and meets and handles the same error. Measured A/B, embedded default, one core
(bench/compare.py, every response 200): code exchange 678-696 -> 837-854/s (1.23x),
client_credentials 992-1011 -> 1332-1357/s (1.34x), refresh 717-742 -> 874-903/s (1.22x).
"""

from __future__ import annotations

import sqlite3
from collections.abc import Sequence
from typing import Any

from service.db.engine import (
    SQLITE_AUTOCHECKPOINT_PAGES,
    SQLITE_BUSY_TIMEOUT_MS,
    Database,
    sqlite3_of,
)
from service.db.pool import FairAsyncQueuePool
from service.db.sqlite_reads import would_wait
from service.spans import statement_span

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
    except sqlite3.Error as exc:
        if conn.in_transaction:
            conn.rollback()
        if isinstance(exc, sqlite3.OperationalError) and would_wait(exc):
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


async def write_on_idle(db: Database, sql: str, params: Sequence[Any]) -> int | None:
    """``try_write`` on the pool's connection where it lies idle, waiting for it to lie idle
    again while it is out (see above): the row count, or None when nothing was written (a
    checkpoint due, another process's lock, an error, or the connection out for the pool's whole
    timeout), and the caller writes on a checkout as before. Only for a file database."""
    pool = db.engine.sync_engine.pool
    if not isinstance(pool, FairAsyncQueuePool):
        return None
    while (raw := pool.idle_dbapi_connection()) is None:
        if not pool.all_out() or not await pool.until_idle():
            return None  # the idle one is to be reconnected at its checkout; or a timeout
    if _since_checkpoint >= CHECKPOINT_EVERY:
        return None  # the checkpoint runs on aiosqlite's thread, on a checked-out connection
    with statement_span("sqlite", sql):
        try:
            done = try_write(sqlite3_of(raw), sql, params)
        except sqlite3.Error:
            return None  # rolled back: the usual path meets the error again and handles it
    return None if done is None else done[1]
