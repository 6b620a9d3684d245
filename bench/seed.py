"""Fill a benchmark database with other people's passkeys (one account each), straight in SQL:
the table sizes a long-running deployment has, made in seconds."""

from __future__ import annotations

import sqlite3

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


async def seed_credentials(database_url: str, n: int) -> None:
    if database_url.startswith("sqlite"):
        conn = sqlite3.connect(database_url.split(":///", 1)[1])
        try:
            conn.execute(_SQLITE[0], (n,))
            conn.execute(_SQLITE[1])
            conn.commit()
            conn.execute("ANALYZE")
        finally:
            conn.close()
        return
    pg = await asyncpg.connect(database_url.replace("postgresql+asyncpg://", "postgresql://"))
    try:
        await pg.execute(_PG.replace("$1", str(int(n))))
        await pg.execute(_PG_CREDENTIALS)
        await pg.execute("ANALYZE users; ANALYZE passkey_credentials")
    finally:
        await pg.close()
