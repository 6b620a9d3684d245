"""Fill a benchmark database straight in SQL, in seconds: other people's passkeys (one account
each), or expired sessions and spent grants for housekeeping to sweep. The server's own
database, opened beside it (asyncpg, or the SQLite file)."""

from __future__ import annotations

import sqlite3
from contextlib import closing
from typing import Any

import asyncpg

# Dates as SQLAlchemy stores them on each backend (UTCDateTime: naive UTC text on SQLite).
_PG = """
INSERT INTO users (public_id, username, username_key, email, email_key, name, created_at)
SELECT gen_random_uuid(), 'seed' || g, 'seed' || g, 'seed' || g || '@bench.example',
       'seed' || g || '@bench.example', '', now()
FROM generate_series(1, $1) AS g;
"""
_PG_CREDENTIALS = """
INSERT INTO passkey_credentials (user_id, credential_id, public_key, sign_count, transports,
    aaguid, backup_eligible, backup_state, name, created_at)
SELECT id, decode(md5(id::text) || md5('x' || id::text), 'hex'), '\\x00'::bytea, 0, 'internal',
       '00000000-0000-0000-0000-000000000000', true, true, 'seeded', now()
FROM users WHERE username LIKE 'seed%';
"""
_SQLITE = [
    """WITH RECURSIVE g(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM g WHERE n < ?)
    INSERT INTO users (public_id, username, username_key, email, email_key, name, created_at)
    SELECT lower(hex(randomblob(16))), 'seed' || n, 'seed' || n, 'seed' || n || '@bench.example',
           'seed' || n || '@bench.example', '', '2026-01-01 00:00:00.000000' FROM g""",
    """INSERT INTO passkey_credentials (user_id, credential_id, public_key, sign_count,
        transports, aaguid, backup_eligible, backup_state, name, created_at)
    SELECT id, randomblob(32), x'00', 0, 'internal', '00000000-0000-0000-0000-000000000000',
           1, 1, 'seeded', '2026-01-01 00:00:00.000000'
    FROM users WHERE username LIKE 'seed%'""",
]


async def run_sql(database_url: str, sql: str, *args: Any) -> list[Any]:
    """One statement (``$n`` parameters), committed; the rows it returns."""
    if database_url.startswith("sqlite"):
        path = database_url.split(":///", 1)[1]
        with closing(sqlite3.connect(path, timeout=30)) as conn, conn:
            return list(conn.execute(sql.replace("$", "?"), args).fetchall())
    pg = await asyncpg.connect(database_url.replace("postgresql+asyncpg://", "postgresql://"))
    try:
        return list(await pg.fetch(sql, *args))
    finally:
        await pg.close()


async def seed_credentials(database_url: str, n: int) -> None:
    if database_url.startswith("sqlite"):
        await run_sql(database_url, _SQLITE[0], n)
        await run_sql(database_url, _SQLITE[1])
        await run_sql(database_url, "ANALYZE")
        return
    await run_sql(database_url, _PG, n)
    await run_sql(database_url, _PG_CREDENTIALS)
    await run_sql(database_url, "ANALYZE users")
    await run_sql(database_url, "ANALYZE passkey_credentials")


# Every row expired ten days ago: past any lifetime and past the longest token after it.
_PG_EXPIRED = {
    "sessions": """
        INSERT INTO sessions (token_hash, user_id, created_at, last_seen_at, auth_time, amr,
                              expires_at, user_agent, sid)
        SELECT sha256(int8send(g)), $1, now() - interval '40 days', now() - interval '40 days',
               now() - interval '40 days', 'passkey', now() - interval '10 days', '',
               'seed-' || g
        FROM generate_series(1, $2) AS g""",
    "oauth_grants": """
        INSERT INTO oauth_grants (gid, client_pk, user_id, sid, scope, created_at, expires_at,
                                  refresh_lookup, refresh_hash, refresh_expires_at, amr)
        SELECT 'seed-' || g, $3, $1, 'seed-' || g, 'openid', now() - interval '40 days',
               now() - interval '10 days', 's' || substr(md5(g::text), 1, 21),
               sha256(int8send(g)), now() - interval '11 days', 'passkey'
        FROM generate_series(1, $2) AS g""",
}
_SQLITE_EXPIRED = {
    "sessions": """
        WITH RECURSIVE g(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM g WHERE x < ?2)
        INSERT INTO sessions (token_hash, user_id, created_at, last_seen_at, auth_time, amr,
                              expires_at, user_agent, sid)
        SELECT randomblob(32), ?1, strftime('%Y-%m-%d %H:%M:%f', 'now', '-40 days'),
               strftime('%Y-%m-%d %H:%M:%f', 'now', '-40 days'),
               strftime('%Y-%m-%d %H:%M:%f', 'now', '-40 days'), 'passkey',
               strftime('%Y-%m-%d %H:%M:%f', 'now', '-10 days'), '', 'seed-' || x FROM g""",
    "oauth_grants": """
        WITH RECURSIVE g(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM g WHERE x < ?2)
        INSERT INTO oauth_grants (gid, client_pk, user_id, sid, scope, created_at, expires_at,
                                  refresh_lookup, refresh_hash, refresh_expires_at, amr)
        SELECT 'seed-' || x, ?3, ?1, 'seed-' || x, 'openid',
               strftime('%Y-%m-%d %H:%M:%f', 'now', '-40 days'),
               strftime('%Y-%m-%d %H:%M:%f', 'now', '-10 days'),
               's' || substr(hex(randomblob(11)), 1, 21), randomblob(32),
               strftime('%Y-%m-%d %H:%M:%f', 'now', '-11 days'), 'passkey' FROM g""",
}


async def seed_expired(database_url: str, n: int) -> None:
    """``n`` sessions and ``n`` grants of the first user and client, all expired."""
    (user,) = (await run_sql(database_url, "SELECT id FROM users LIMIT 1"))[0]
    (client,) = (await run_sql(database_url, "SELECT id FROM oauth_clients LIMIT 1"))[0]
    postgres = not database_url.startswith("sqlite")
    seeds = _PG_EXPIRED if postgres else _SQLITE_EXPIRED
    await run_sql(database_url, seeds["sessions"], user, n)
    await run_sql(database_url, seeds["oauth_grants"], user, n, client)
    if postgres:
        await run_sql(database_url, "ANALYZE")
