"""Read-your-writes between the primary and a replica (internal: `codeflow.Database`
builds these runners).

`Database.read` sends lag-tolerant reads to the replica. A standby replays the primary's
WAL some milliseconds (or, under load or paused, seconds) later, so code that has just
written and then reads through `db.read` could see the state before its own write: a user
adds a repository and the list shown next lacks it. The rule: after a write, the reads
`db.read` makes in the same asyncio context (the request's task, and tasks it starts
after the write) go to the primary, on a read-only pool there, for
`DB_READ_YOUR_WRITES_S` seconds. `Database.read_your_writes()` widens the context to a
block, so writes made in tasks it starts count for the block's later reads too.

The context is a `contextvars.ContextVar`, which every web framework's request task has
of its own: one request's writes never move another's reads.
"""

from __future__ import annotations

import re
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from contextlib import asynccontextmanager, contextmanager
from contextvars import ContextVar
from functools import cache
from typing import Any

import asyncpg

from codeflow.errors import QueryFailed
from codeflow.queries import Query, Returns
from codeflow.settings import Settings
from codeflow.store import Runner, all_queries


class _Writes:
    """When this context last wrote (time.monotonic()), shared by the tasks of a scope."""

    __slots__ = ("at",)

    def __init__(self) -> None:
        self.at: float | None = None


_WRITES: ContextVar[_Writes | None] = ContextVar("codeflow_writes", default=None)

# A statement that may change a row: a write operator (`<!`, `!`), or any data-changing
# keyword (a CTE that updates, a function call aside, is still caught by its keyword).
_CHANGES = re.compile(r"\b(insert|update|delete|merge)\b", re.IGNORECASE)


# Writes no read of the API shows back: the per-request activity stamp runs on every
# request, and counting it would send nearly every request's reads to the primary.
UNSEEN_WRITES = frozenset({"update_user_profile_last_active"})


@cache
def changes_rows(query_name: str) -> bool:
    """True if `query_name` may insert, update or delete rows."""
    query = all_queries()[query_name]
    return query.operation in (Returns.WRITTEN_ROW, Returns.STATUS) or bool(_CHANGES.search(query.sql))


def is_write(query_name: str) -> bool:
    """True if reads after `query_name` in the same context must see what it changed."""
    return changes_rows(query_name) and query_name not in UNSEEN_WRITES


def note_write() -> None:
    """Record that the current context wrote, now."""
    writes = _WRITES.get()
    if writes is None:
        writes = _Writes()
        _WRITES.set(writes)
    writes.at = time.monotonic()


def wrote_within(window_s: float) -> bool:
    """True if the current context wrote less than `window_s` seconds ago."""
    writes = _WRITES.get()
    return writes is not None and writes.at is not None and time.monotonic() - writes.at < window_s


@contextmanager
def scope() -> Iterator[None]:
    """A block whose writes, in any task started inside it, count for its later reads."""
    token = _WRITES.set(_Writes())
    try:
        yield
    finally:
        _WRITES.reset(token)


class PrimaryRunner(Runner):
    """The primary's runner: notes each write (a statement, or a transaction block), so
    that this context's reads through `Database.read` go to the primary for a while."""

    __slots__ = ()

    async def execute(self, query: Query, /, *args: Any) -> Any:
        try:
            return await super().execute(query, *args)
        finally:
            # Also when it failed: a write whose answer was lost may have committed.
            if is_write(query.name):
                note_write()

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[Runner]:
        try:
            async with super().transaction() as runner:
                yield runner
        finally:
            note_write()


class ReplicaRunner(Runner):
    """The read runner: its own pool (the replica), unless this context wrote within
    `window_s` seconds, in which case a read-only pool on the primary."""

    __slots__ = ("_open_primary", "_window_s")
    read_only = True

    def __init__(
        self,
        settings: Settings,
        *,
        open_pool: Callable[[], Awaitable[asyncpg.Pool]],
        open_primary: Callable[[], Awaitable[asyncpg.Pool]] | None,
        window_s: float,
    ) -> None:
        super().__init__(settings, open_pool=open_pool)
        self._open_primary = open_primary
        self._window_s = window_s

    async def execute(self, query: Query, /, *args: Any) -> Any:
        if changes_rows(query.name):
            # The server refuses it on a read-only pool, but a transaction pooler's pool
            # carries no start-up settings: refuse it here, with the server's SQLSTATE.
            raise QueryFailed(f"{query.name}: a write sent to Database.read", sqlstate="25006")
        return await super().execute(query, *args)

    def traced_server_url(self, settings: Settings) -> str | None:
        # With a replica, a read goes there or (read-your-writes) to the primary.
        return None if settings.database_read_url else settings.database_url.get_secret_value()

    async def ensure_pool(self) -> asyncpg.Pool:
        if self._open_primary is not None and wrote_within(self._window_s):
            return await self._open_primary()
        return await super().ensure_pool()

    async def replica_pool(self) -> asyncpg.Pool:
        """The replica's pool whatever this context wrote (the health report's)."""
        return await super().ensure_pool()
