"""`Store`, the base of the package's typed stores; `Runner`, where their statements
run; and the input checks the stores share.

A store runs named queries (codeflow.queries, through the typed functions generated from
them in codeflow.generated_queries) on a pool, or inside a transaction on one
connection, so several calls commit or roll back together (`codeflow.Database`).
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from functools import cache
from typing import Annotated, Any, TypeVar

import asyncpg
from asyncpg.pool import PoolConnectionProxy
from asyncpg.transaction import Transaction
from pydantic import BaseModel, Field, TypeAdapter, ValidationError

from codeflow.errors import (
    CodeflowError,
    DatabaseUnavailable,
    InvalidInput,
    NotFound,
    PoolClosed,
    PoolExhausted,
    QueryFailed,
    TransactionConflict,
    translate,
)
from codeflow.models import Days, GithubId, UserId
from codeflow.queries import Query, load_queries, logger, run
from codeflow.retry import Backoff
from codeflow.settings import Settings
from codeflow.tracing import QueryTracer

Connection = asyncpg.Connection | PoolConnectionProxy
T = TypeVar("T")
M = TypeVar("M", bound=BaseModel)

# Argument checks shared by the stores (see `validated`).
USER_ID: TypeAdapter[str] = TypeAdapter(UserId)
GITHUB_ID: TypeAdapter[int] = TypeAdapter(GithubId)
DAYS: TypeAdapter[int] = TypeAdapter(Days)
BATCH_SIZE: TypeAdapter[int] = TypeAdapter(Annotated[int, Field(strict=True, ge=1, le=100_000)])


# A single statement outside transaction() that hits a deadlock or serialization failure
# runs again at most twice more. The deadlock detector has already spent deadlock_timeout
# (1 s by default) before it picks a victim, so the waits between attempts stay short.
CONFLICT_RETRY = Backoff(attempts=3, first_delay_s=0.02, max_delay_s=0.2)


@cache
def all_queries() -> dict[str, Query]:
    """The named queries, loaded once per process."""
    return load_queries()


class Runner:
    """Where a store's statements run: on the pool, each statement on a connection of
    its own (and retried on a conflict), or inside a transaction on one connection.

    Internal: `codeflow.Database` builds the runners, so every store runs with the
    settings it was opened with, and no driver object crosses the package's boundary.
    """

    __slots__ = (
        "_acquire_timeout_s",
        "_connection",
        "_level",
        "_open_pool",
        "_pool",
        "_tracer",
        "settings",
        "slow_ms",
    )

    # Whether the transactions it opens are READ ONLY (the read runner's): a write is
    # refused even where the pool sets no default_transaction_read_only (behind a
    # transaction pooler, which takes no start-up settings).
    read_only = False

    def __init__(
        self,
        settings: Settings,
        *,
        open_pool: Callable[[], Awaitable[asyncpg.Pool]] | None = None,
        pool: asyncpg.Pool | None = None,
        connection: Connection | None = None,
        level: _Level | None = None,
        tracer: QueryTracer | None = None,
    ) -> None:
        self.settings = settings
        self.slow_ms = settings.db_slow_query_ms
        self._acquire_timeout_s = settings.db_pool_acquire_timeout_s
        self._open_pool = open_pool
        self._pool = pool
        self._connection = connection
        # Inside a transaction: the level (transaction or savepoint) the statements
        # belong to, so a failure caught inside the block is not committed.
        self._level = level
        if tracer is None and settings.db_tracing:
            tracer = QueryTracer(settings, server_url=self.traced_server_url(settings))
        self._tracer = tracer

    def traced_server_url(self, settings: Settings) -> str | None:
        """The server this runner's statements go to, as its spans name it."""
        return settings.database_url.get_secret_value()

    @property
    def pool(self) -> asyncpg.Pool:
        """The pool, or `PoolClosed` when the Database is not open."""
        if self._pool is None:
            raise PoolClosed("the Database is not open: `async with database:` or `await database.open()`")
        return self._pool

    def is_open(self) -> bool:
        return self._pool is not None

    def attach(self, pool: asyncpg.Pool) -> None:
        """Run on `pool` from now on."""
        self._pool = pool

    def detach(self) -> asyncpg.Pool | None:
        """Stop running on the pool (calls raise `PoolClosed` from now on); the pool, to close."""
        pool, self._pool = self._pool, None
        return pool

    async def ensure_pool(self) -> asyncpg.Pool:
        """The pool, opened on first use when this runner opens its own lazily."""
        if self._pool is None and self._open_pool is not None:
            self._pool = await self._open_pool()
        return self.pool

    async def execute(self, query: Query, /, *args: Any) -> Any:
        """Run `query` with its parameters in `query.params` order; what `run` returns.
        Called by the generated, typed functions (codeflow.generated_queries)."""
        if self._tracer is None:
            return await self._execute(query, args)
        return await self._tracer.run(query.name, lambda: self._execute(query, args))

    def on(self, connection: Connection) -> Runner:
        """A runner for statements on `connection` (checked out by the caller), with
        this one's settings and tracer; a conflict there is the caller's to handle."""
        return Runner(self.settings, pool=self._pool, connection=connection, tracer=self._tracer)

    async def _execute(self, query: Query, args: tuple[Any, ...]) -> Any:
        if self._connection is not None:
            if self._level is not None and self._level.ended:
                # The connection is back in the pool (maybe serving another request):
                # a programming error, not a lost connection to retry on.
                raise QueryFailed(f"{query.name}: its transaction block has ended")
            # Inside a transaction: a conflict is the caller's to handle, by running its
            # whole transaction again.
            try:
                return await run(self._connection, query, args, slow_ms=self.slow_ms)
            except CodeflowError:
                if self._level is not None:
                    self._level.failed = True
                raise
        pool = await self.ensure_pool()
        failures = 0
        while True:
            try:
                return await self._run_pooled(pool, query, args)
            except TransactionConflict as conflict:
                # A statement on its own is its own transaction: the server rolled all of
                # it back, so running it again cannot apply anything twice.
                failures += 1
                if failures >= CONFLICT_RETRY.attempts:
                    raise
                delay = CONFLICT_RETRY.delay(failures)
                logger.warning(
                    "query %s: %s (SQLSTATE %s) on attempt %d of %d, retrying in %.0f ms",
                    query.name,
                    conflict.__class__.__name__,
                    conflict.sqlstate,
                    failures,
                    CONFLICT_RETRY.attempts,
                    delay * 1000.0,
                )
            await asyncio.sleep(delay)

    async def _run_pooled(self, pool: asyncpg.Pool, query: Query, args: tuple[Any, ...]) -> Any:
        connection = await self.acquire(pool, query.name)
        try:
            return await run(connection, query, args, slow_ms=self.slow_ms)
        except DatabaseUnavailable:
            if not pool.is_closing():
                raise
            # pool.close() waits only for the connections checked out when it starts; one
            # handed to a queued call after that is closed under it (asyncpg then reports
            # an InternalClientError).
            error = PoolClosed(f"{query.name}: the pool was closed while the statement ran")
        finally:
            await release(pool, connection)
        raise error

    async def acquire(self, pool: asyncpg.Pool, purpose: str) -> PoolConnectionProxy:
        """A connection from `pool`, waiting at most DB_POOL_ACQUIRE_TIMEOUT_S for one.

        asyncio.timeout rather than acquire(timeout=...): asyncpg would start a task
        per acquire for it, which costs more than the rest of a point read's client side.
        """
        try:
            async with asyncio.timeout(self._acquire_timeout_s):
                connection: PoolConnectionProxy = await pool.acquire()
        except TimeoutError:
            error = self._acquire_timed_out(pool, purpose)
        except Exception as exc:  # noqa: BLE001 - translated, raised below
            error = translate(exc, query=f"{purpose}: waiting for a pooled connection")
        else:
            return connection
        if pool.is_closing() and not isinstance(error, PoolClosed):
            error = PoolClosed(f"{purpose}: waiting for a pooled connection: the pool was closed")
        raise error  # outside the except block: no driver error in the chain

    def _acquire_timed_out(self, pool: asyncpg.Pool, purpose: str) -> CodeflowError:
        waited = f"{purpose}: waiting for a pooled connection: none free within {self._acquire_timeout_s:g} s"
        if pool.get_size() >= pool.get_max_size() and pool.get_idle_size() == 0:
            # Every connection is open and checked out: the calls of this process hold
            # them, the database is not the one to blame.
            return PoolExhausted(f"{waited}: all {pool.get_max_size()} connections in use")
        # A connection slot was free, so the wait was for a new connection to open.
        return DatabaseUnavailable(f"{waited}: opening a connection took too long")

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[Runner]:
        """A runner whose statements share one connection and commit or roll back
        together; inside a transaction, a savepoint. An exception inside the block rolls
        back and propagates unchanged."""
        if self._connection is not None:  # a savepoint: read-only if its transaction is
            async with self._transaction_on(self._connection, read_only=False) as runner:
                yield runner
            return
        pool = await self.ensure_pool()
        connection = await self.acquire(pool, "transaction")
        try:
            async with self._transaction_on(connection, read_only=self.read_only) as runner:
                yield runner
        finally:
            await release(pool, connection)

    @asynccontextmanager
    async def _transaction_on(self, connection: Connection, *, read_only: bool) -> AsyncIterator[Runner]:
        transaction = await _translated(lambda: _begin(connection, read_only=read_only), "begin")
        level = _Level()
        runner = Runner(self.settings, connection=connection, level=level, tracer=self._tracer)
        try:
            yield runner
        except BaseException:
            with contextlib.suppress(Exception):  # the original error matters more
                await transaction.rollback()
            raise
        finally:
            level.ended = True
        if level.failed:
            # PostgreSQL answers COMMIT in a failed transaction with ROLLBACK, not an
            # error; a caller that caught a statement's error would lose its writes silently.
            with contextlib.suppress(Exception):
                await transaction.rollback()
            raise QueryFailed(
                "transaction rolled back: a statement in it failed (its error was caught inside the block)",
                sqlstate="25P02",
            )
        await _translated(transaction.commit, "commit")


class Store:
    """Base of the typed stores: each method checks its arguments and calls the typed
    function generated for its query (codeflow.generated_queries) on `_runner`."""

    def __init__(self, runner: Runner) -> None:
        self._runner = runner


async def _begin(connection: Connection, *, read_only: bool) -> Transaction:
    transaction = connection.transaction(readonly=read_only)
    await transaction.start()
    return transaction


async def _translated(step: Callable[[], Awaitable[T]], what: str) -> T:
    """`await step()`, its driver error (if any) raised as the package's own, chain-free.
    The call is inside the try: on a lost connection asyncpg raises before the await."""
    try:
        return await step()
    except Exception as exc:  # noqa: BLE001 - translated, raised below
        error = translate(exc, query=what)
    raise error


class _Level:
    """One transaction or savepoint opened by `Runner.transaction()`."""

    __slots__ = ("ended", "failed")

    def __init__(self) -> None:
        self.failed = False
        self.ended = False


async def release(pool: asyncpg.Pool, connection: PoolConnectionProxy) -> None:
    """Give `connection` back. A failure here (asyncpg's rollback-on-release on a dead
    connection) is the pool's to handle: asyncpg has already discarded the connection,
    and the caller's statement completed, or failed with its own error."""
    try:
        await pool.release(connection)
    except Exception as exc:  # noqa: BLE001 - logged; the pool has dropped the connection
        logger.warning("releasing a connection failed: %s", exc.__class__.__name__)


async def in_batches(delete_batch: Callable[[], Awaitable[int | None]], batch_size: int) -> int:
    """Run `delete_batch` (one bounded DELETE, a `$` count) until it deletes fewer than
    `batch_size` rows; the total. Each batch is its own statement, so no lock is held for long."""
    total = 0
    while True:
        deleted = counted(await delete_batch())
        total += deleted
        if deleted < batch_size:
            return total


def validated(adapter: TypeAdapter[T], value: object, what: str) -> T:
    """`value` checked by `adapter`, or `InvalidInput` naming `what`."""
    try:
        return adapter.validate_python(value)
    except ValidationError as exc:
        error = invalid(exc, what)
    raise error  # outside the except block: no ValidationError in the chain


def build(model: type[M], **values: Any) -> M:
    """`model(**values)`, or `InvalidInput` that names the fields but never echoes values."""
    try:
        return model(**values)
    except ValidationError as exc:
        error = invalid(exc)
    raise error  # outside the except block: no ValidationError in the chain


def invalid(exc: ValidationError, what: str = "") -> InvalidInput:
    """`InvalidInput` summarising a pydantic error, without echoing the input."""
    reasons = "; ".join(
        ".".join([what] * bool(what) + [str(part) for part in error["loc"]]) + f": {error['msg']}"
        for error in exc.errors(include_url=False, include_input=False)
    )
    return InvalidInput(reasons)


def counted(value: int | None) -> int:
    """A `$` query's count: `SELECT count(*)` always answers, but a `$` query's value is
    None when no row comes back, so its generated function says `int | None`."""
    return 0 if value is None else value


def written(row: T | None, query: str) -> T:
    """The RETURNING row of a write that always returns one (a plain INSERT)."""
    if row is None:
        raise QueryFailed(f"{query}: the write returned no row")
    return row


def found(row: T | None, what: str) -> T:
    """`row`, or `NotFound` naming `what` when the query returned none."""
    if row is None:
        raise NotFound(f"{what} not found")
    return row


def text(value: object, what: str) -> str:
    """A str PostgreSQL can store (no NUL), or `InvalidInput`."""
    if not isinstance(value, str) or "\x00" in value:
        raise InvalidInput(f"{what} must be a string without NUL characters")
    return value


def flag(value: object, what: str) -> bool:
    """`value` if it is a bool: bool("false") is True, so no truthiness is applied."""
    if not isinstance(value, bool):
        raise InvalidInput(f"{what} must be a bool")
    return value
