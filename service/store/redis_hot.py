"""Single Redis commands on kept connections, without redis-py's client layer.

The store's one-command calls (the code's claim, a ceremony's put and take, the rate budgets)
are on every hot path: one per code exchange, two per passkey sign-in. redis-py's client spends
per command, besides the round trip, a pool checkout under a lock with a check for unread data,
observability hooks and a release. A ``GET`` through the client costs 76-90 us of CPU, through
this module 63-70 us with its retry wrapper and span check (``bench/round_trips.py`` prints
both; a bare ``send``/``read`` on the same connection is 50-62 us).

What the client did is kept, with its own pieces:
* each connection is made by the client's pool, with its settings (address, AUTH, TLS, db,
  socket timeouts, the retry policy and the 5 s idle health check, which pings before use);
* a command that meets a connection error or a timeout is retried as the client retries it
  (``Retry``: once, on a fresh connection);
* a span for each command when tracing is on (redis-py's OpenTelemetry instrumentation sees
  only the client's own commands);
* a connection is kept only after a command got its whole reply (an error reply included), so
  the next command never reads what was meant for another. One that failed or whose task was
  cancelled mid-command is closed.
"""

from __future__ import annotations

from typing import Any

from redis.asyncio.connection import AbstractConnection, ConnectionPool
from redis.commands.core import AsyncScript
from redis.exceptions import NoScriptError, ResponseError

from service.spans import statement_span

# Kept at most at once; more are made under a burst and closed after their command.
KEEP = 32


class KeptConnections:
    def __init__(self, pool: ConnectionPool, keep: int = KEEP) -> None:
        self._pool = pool
        self._keep = keep
        self._idle: list[AbstractConnection] = []

    async def call(self, *args: Any) -> Any:
        """Send one command and return its reply as the parser gives it (bytes, int, None)."""
        conn = self._idle.pop() if self._idle else self._new()
        try:
            # A span when tracing is on, as redis-py's instrumentation gave the client's commands
            # (the command's name only: the values may be secrets).
            name = str(args[0])
            with statement_span("redis", name, name):
                reply = await conn.retry.call_with_retry(
                    lambda: _send(conn, args), lambda _error: conn.disconnect()
                )
        except ResponseError:
            await self._give_back(conn)  # an error reply was read whole: the connection is clean
            raise
        except BaseException:
            await conn.disconnect(nowait=True)
            raise
        await self._give_back(conn)
        return reply

    def _new(self) -> AbstractConnection:
        return self._pool.make_connection()  # type: ignore[no-untyped-call, no-any-return]

    async def script(self, script: AsyncScript, keys: list[str], args: list[Any]) -> Any:
        """EVALSHA, loading the script once if the server does not know it (a restart)."""
        try:
            return await self.call("EVALSHA", script.sha, len(keys), *keys, *args)
        except NoScriptError:
            await self.call("SCRIPT", "LOAD", script.script)
            return await self.call("EVALSHA", script.sha, len(keys), *keys, *args)

    async def _give_back(self, conn: AbstractConnection) -> None:
        if len(self._idle) < self._keep:
            self._idle.append(conn)
        else:
            await conn.disconnect()

    async def close(self) -> None:
        idle, self._idle = self._idle, []
        for conn in idle:
            await conn.disconnect()


async def _send(conn: AbstractConnection, args: tuple[Any, ...]) -> Any:
    await conn.send_packed_command(conn.pack_command(*args))
    return await conn.read_response()
