"""The asyncpg pool: built from `Settings`, plus one lazily created per process.

Serverless handlers reuse a warm process across invocations; `get_pool()` gives them
one pool per process (the story's Prisma singleton) and `close_pool()` ends it.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import TypedDict

import asyncpg

from codeflow.errors import DatabaseUnavailable, translate
from codeflow.settings import Settings, load_settings


async def _rollback_only(_connection: asyncpg.Connection) -> None:
    """Pool reset that adds nothing to the rollback asyncpg always does on release.

    The package's statements change no session state (a test checks every query
    file), settings are fixed at connect time, so the default reset query
    (RESET ALL; UNLISTEN *; advisory unlock) is a wasted round trip per checkout.
    """


class PoolOptions(TypedDict, total=False):
    """The `asyncpg.create_pool` arguments this package sets."""

    dsn: str
    min_size: int
    max_size: int
    max_inactive_connection_lifetime: float
    timeout: float
    command_timeout: float
    server_settings: dict[str, str]
    reset: Callable[[asyncpg.Connection], Awaitable[None]] | None


def pool_options(settings: Settings) -> PoolOptions:
    """Keyword arguments for `asyncpg.create_pool` derived from `settings`."""
    return PoolOptions(
        dsn=settings.database_url.get_secret_value(),
        min_size=min(settings.db_pool_min_size, settings.db_pool_max_size),
        max_size=settings.db_pool_max_size,
        max_inactive_connection_lifetime=settings.db_pool_max_idle_s,
        timeout=settings.db_connect_timeout_s,
        command_timeout=settings.db_command_timeout_s,
        server_settings={
            "application_name": settings.db_application_name,
            "statement_timeout": str(settings.db_statement_timeout_ms),
            "idle_in_transaction_session_timeout": str(settings.db_idle_in_transaction_timeout_ms),
            "timezone": "UTC",
        },
        # None keeps asyncpg's default reset query.
        reset=_rollback_only if settings.db_pool_reset == "transaction" else None,
    )


async def create_pool(settings: Settings | None = None) -> asyncpg.Pool:
    """Open a pool; `DatabaseUnavailable` (naming the server, not the password) if it can't."""
    settings = settings or load_settings()
    try:
        return await asyncpg.create_pool(**pool_options(settings))
    except Exception as exc:
        error = translate(exc, query="connect")
        if isinstance(error, DatabaseUnavailable):
            raise DatabaseUnavailable(f"cannot connect to {settings.redacted_database_url}: {error}") from exc
        raise error from exc


# The process-wide pool, as the task that creates it: concurrent first callers await
# the same task, and a failed creation is forgotten so that the next call retries.
_shared: tuple[asyncio.AbstractEventLoop, asyncio.Task[asyncpg.Pool]] | None = None


async def get_pool(settings: Settings | None = None) -> asyncpg.Pool:
    """The process-wide pool, created on first use (and again if its event loop has ended)."""
    global _shared
    loop = asyncio.get_running_loop()
    if _shared is None or _shared[0] is not loop:
        _shared = (loop, loop.create_task(create_pool(settings)))
    task = _shared[1]
    try:
        return await asyncio.shield(task)
    except BaseException:
        if task.done() and _shared is not None and _shared[1] is task:
            _shared = None
        raise


async def close_pool() -> None:
    """Close the process-wide pool, if one is open."""
    global _shared
    if _shared is None:
        return
    _, task = _shared
    _shared = None
    if not task.done() or (not task.cancelled() and task.exception() is None):
        await (await task).close()
