"""`Database`: the package's one entry point. It owns the connection pools, applies every
setting, and exposes the stores; `transaction()` gives the same stores bound to one
connection, so any mix of store calls commits or rolls back together.

    from codeflow import Database

    async with Database() as db:  # Settings from the environment (or Database(settings))
        profile = await db.profiles.create_user_profile(user_id=uid, github_id=583231, username="octocat")
        async with db.transaction() as tx:
            await tx.auth.link_account(user_id=uid, type="oauth", provider="github", provider_account_id="1")
            await tx.repositories.add_repository(uid, github_id=1296269, ...)

In a web app, open it in the lifespan and close it on shutdown (examples/service).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager, contextmanager
from types import TracebackType
from typing import Self

import asyncpg

from codeflow.auth import AuthStore
from codeflow.health import HealthStore
from codeflow.pool import create_pool
from codeflow.profiles import ProfileStore
from codeflow.pull_requests import PullRequestStore
from codeflow.repositories import RepositoryStore
from codeflow.routing import PrimaryRunner, ReplicaRunner, scope
from codeflow.settings import Settings, load_settings
from codeflow.store import Runner

logger = logging.getLogger("codeflow")


class Stores:
    """The stores, all running on one `Runner`: the pool's, or one transaction's."""

    __slots__ = ("_runner", "auth", "profiles", "pull_requests", "repositories")

    def __init__(self, runner: Runner) -> None:
        self._runner = runner
        self.profiles = ProfileStore(runner)
        self.repositories = RepositoryStore(runner)
        self.auth = AuthStore(runner)
        self.pull_requests = PullRequestStore(runner)

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[Transaction]:
        """The same stores on one connection: every call inside the block commits, or
        rolls back, together. Inside a transaction it opens a savepoint. An exception
        leaving the block rolls back and propagates unchanged; a store call that failed
        inside the block (its error caught there) fails the commit with `QueryFailed`
        (SQLSTATE 25P02) rather than losing the block's writes silently.

        A deadlock or serialization failure inside raises `TransactionConflict`: run the
        whole block again.
        """
        async with self._runner.transaction() as runner:
            yield Transaction(runner)


class Transaction(Stores):
    """The stores inside `Database.transaction()`, bound to its connection."""

    __slots__ = ()


class Database(Stores):
    """The pools and the stores of one process (or one test).

    `Database(settings)` opens nothing; `async with database:` (or `await database.open()`
    and `await database.close()`) opens the pool on `DATABASE_URL`, failing fast with
    `DatabaseUnavailable` when the server cannot be reached. Every setting applies: pool
    sizes and timeouts, `DB_SLOW_QUERY_MS`, `DB_POOL_ACQUIRE_TIMEOUT_S`,
    `DB_ACTIVITY_RESOLUTION_S`, `DB_PRIVATE_ACCESS_WINDOW_S`.

    Stores: `profiles`, `repositories`, `auth`, `pull_requests`, `health`; `read` holds
    the same stores on the read pool (`DATABASE_READ_URL`, or `DATABASE_URL` when no
    replica is set), for reads that tolerate replication lag; every transaction there is
    read-only. The read pool opens on first use.

    Read-your-writes: after a write (a store call that writes, or a `transaction()`
    block), the reads `read` makes in the same asyncio context (the request's task) go to
    the primary, on a read-only pool there, for DB_READ_YOUR_WRITES_S seconds; wrap a
    request in `read_your_writes()` when tasks it starts write.
    """

    __slots__ = (
        "_lock",
        "_loop",
        "_primary_read_pool",
        "_read_pool",
        "_read_runner",
        "health",
        "read",
        "settings",
    )

    def __init__(self, settings: Settings | None = None) -> None:
        self.settings = settings or load_settings()
        super().__init__(PrimaryRunner(self.settings))
        self._read_pool: asyncpg.Pool | None = None
        self._primary_read_pool: asyncpg.Pool | None = None
        self._read_runner = ReplicaRunner(
            self.settings,
            open_pool=self._open_read_pool,
            # Without a replica the read pool is on the primary already.
            open_primary=self._open_primary_read_pool if self.settings.database_read_url else None,
            window_s=self.settings.db_read_your_writes_s,
        )
        self.read = Stores(self._read_runner)
        replica = self._read_runner.replica_pool if self.settings.database_read_url else None
        self.health = HealthStore(self._runner, replica=replica)
        self._loop: asyncio.AbstractEventLoop | None = None
        self._lock = asyncio.Lock()

    async def open(self) -> Self:
        """Open the pool on `DATABASE_URL`; a second call does nothing. Called on another
        event loop, it opens new pools: the old loop's cannot serve this one (a runtime
        that starts a loop per invocation should use `async with database:` per
        invocation, which closes them on their own loop)."""
        self._adopt_running_loop()
        async with self._lock:
            if self._runner.is_open():
                return self
            self._runner.attach(await create_pool(self.settings))
        return self

    async def close(self) -> None:
        """Close the pools, waiting for the calls in flight; calls after it raise
        `PoolClosed`. `open()` may open them again."""
        self._adopt_running_loop()
        async with self._lock:
            detached = (self._runner.detach(), self._read_runner.detach(), self._primary_read_pool)
            pools = [pool for pool in detached if pool]
            self._read_pool = self._primary_read_pool = None
        await asyncio.gather(*(pool.close() for pool in pools))

    def _adopt_running_loop(self) -> None:
        """Bind to the running event loop. Pools of an earlier loop are dropped: their
        sockets belong to that loop, which must be running to close them, so their
        connections linger until garbage collection. Hence the warning: a runtime that
        starts a loop per invocation should use `async with database:` per invocation."""
        loop = asyncio.get_running_loop()
        if self._loop is loop:
            return
        self._loop, self._lock = loop, asyncio.Lock()
        dropped = [
            pool
            for pool in (self._runner.detach(), self._read_runner.detach(), self._primary_read_pool)
            if pool is not None
        ]
        self._read_pool = self._primary_read_pool = None
        if dropped:
            logger.warning(
                "Database used on a new event loop while its pools were open on another: %d pool(s) "
                "dropped without closing; use `async with database:` per event loop",
                len(dropped),
            )

    @contextmanager
    def read_your_writes(self) -> Iterator[None]:
        """A block (a request) in which, once anything wrote, `read` serves the later
        reads from the primary for DB_READ_YOUR_WRITES_S seconds, also when the write
        happened in a task started inside the block (asyncio.gather, a TaskGroup).
        Without it the rule holds per task: a task's own writes move its own reads."""
        with scope():
            yield

    async def _open_read_pool(self) -> asyncpg.Pool:
        async with self._lock:
            if self._read_pool is None:
                if not self._runner.is_open():
                    # The read pool lives and dies with the Database, not on its own.
                    self._runner.pool  # noqa: B018 - raises PoolClosed
                self._read_pool = await create_pool(self.settings, read_only=True)
            return self._read_pool

    async def _open_primary_read_pool(self) -> asyncpg.Pool:
        """A read-only pool on DATABASE_URL, for the reads read-your-writes moves there:
        `read` refuses writes wherever its reads go."""
        async with self._lock:
            if self._primary_read_pool is None:
                if not self._runner.is_open():
                    self._runner.pool  # noqa: B018 - raises PoolClosed
                primary = self.settings.model_copy(update={"database_read_url": None})
                self._primary_read_pool = await create_pool(primary, read_only=True)
            return self._primary_read_pool

    async def __aenter__(self) -> Self:
        return await self.open()

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, traceback: TracebackType | None
    ) -> None:
        await self.close()
