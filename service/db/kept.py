"""Rows kept in process for the token endpoint, which then reads none (``service.db.clients``
for client rows, ``service.db.apis`` for APIs). A kept row is only ever a guess: whatever a
grant writes on the strength of one is conditional on that row being unchanged, in the same
statement, so a row changed or deleted elsewhere (another replica, the CLI, an operator's SQL)
writes nothing, and the request is decided again on the current row."""

from __future__ import annotations

from typing import Generic, TypeVar

T = TypeVar("T")


class RowCache(Generic[T]):
    """Rows by the value of their attribute ``key``; only rows found are kept, at most
    ``size`` of them (the oldest put in goes first)."""

    def __init__(self, key: str, size: int = 1024) -> None:
        self.key = key
        self.size = size
        self._rows: dict[str, T] = {}

    def get(self, value: str) -> T | None:
        return self._rows.get(value)

    def holds(self, row: T) -> bool:
        """Whether ``row`` is the row kept here, which may have changed since it was read."""
        return self._rows.get(getattr(row, self.key)) is row

    def put(self, row: T) -> None:
        rows = self._rows
        value = getattr(row, self.key)
        rows.pop(value, None)
        if len(rows) >= self.size:
            del rows[next(iter(rows))]
        rows[value] = row

    def drop(self, value: str) -> None:
        self._rows.pop(value, None)
