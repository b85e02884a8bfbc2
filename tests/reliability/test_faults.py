"""Killed connections, timeouts and cancellation, on the shared test server (each
test's pool has an application_name of its own, so only its connections are hit)."""

from __future__ import annotations

import asyncio
import time
from collections import Counter
from collections.abc import AsyncIterator, Awaitable, Callable

import asyncpg
import pytest

from codeflow import (
    CodeflowError,
    Database,
    DatabaseUnavailable,
    PoolClosed,
    PoolExhausted,
    QueryTimeout,
    load_settings,
)

from .conftest import report

MakeUser = Callable[..., Awaitable[str]]


async def _database(url: str, app: str, **settings: object) -> Database:
    """An open Database on `url` whose connections carry the application_name `app`."""
    # Resolution 0: update_user_last_active always writes, so it waits on a locked row.
    values: dict[str, object] = {
        "db_pool_min_size": 10,
        "db_pool_max_size": 10,
        "db_activity_resolution_s": 0,
        **settings,
    }
    loaded = load_settings(database_url=url, db_application_name=app, **values)
    return await Database(loaded).open()


@pytest.fixture
async def owner(codeflow_database: Database, make_user: MakeUser) -> AsyncIterator[str]:
    user_id = await make_user()
    await codeflow_database.profiles.create_user_profile(user_id=user_id, github_id=1, username="octocat")
    yield user_id


async def _ours(connection: asyncpg.pool.PoolConnectionProxy, app: str) -> int:
    return int(
        await connection.fetchval("SELECT count(*) FROM pg_stat_activity WHERE application_name = $1", app)
    )


async def test_killed_connections_mid_load(
    codeflow_database_url: str, codeflow_connection: asyncpg.pool.PoolConnectionProxy, owner: str
) -> None:
    app = "codeflow-rel-kill"
    db = await _database(codeflow_database_url, app)
    seen: Counter[str] = Counter()
    unexpected: list[BaseException] = []
    stop = asyncio.Event()
    slowest = 0.0

    async def worker(task: int) -> None:
        nonlocal slowest
        n = 0
        while not stop.is_set():
            n += 1
            started = time.monotonic()
            try:
                async with asyncio.timeout(10):  # a hang fails the test, it does not stall it
                    if n % 2:
                        await db.repositories.get_user_repositories(owner)
                    else:
                        await db.repositories.add_repository(
                            owner,
                            github_id=task * 100_000 + n,
                            name=f"r{task}-{n}",
                            full_name=f"o/r{task}-{n}",
                            owner="o",
                            private=False,
                        )
                seen["ok"] += 1
            except DatabaseUnavailable as exc:
                seen[type(exc).__name__] += 1
            except Exception as exc:  # noqa: BLE001 - collected, the test fails on it
                unexpected.append(exc)
                return
            finally:
                slowest = max(slowest, time.monotonic() - started)

    workers = [asyncio.create_task(worker(task)) for task in range(32)]
    killed = 0
    try:
        for _ in range(5):
            await asyncio.sleep(0.2)
            killed += int(
                await codeflow_connection.fetchval(
                    "SELECT count(*) FROM (SELECT pg_terminate_backend(pid) FROM pg_stat_activity"
                    " WHERE application_name = $1) AS killed",
                    app,
                )
            )
        await asyncio.sleep(0.3)
    finally:
        stop.set()
        await asyncio.gather(*workers)
    try:
        assert not unexpected, f"raw or unexpected errors: {unexpected[:3]}"
        assert killed >= 10
        assert seen["ok"] > 100
        # Recovered: every connection of the pool serves a call again.
        assert (
            len(await asyncio.gather(*(db.repositories.get_user_repositories(owner) for _ in range(20))))
            == 20
        )
        assert (await db.health.report()).pool_size <= 10
        assert await _ours(codeflow_connection, app) <= 10
    finally:
        await db.close()
    assert await _ours(codeflow_connection, app) == 0
    report("kill.backends_terminated", killed)
    report("kill.outcomes", dict(seen))
    report("kill.slowest_call_s", round(slowest, 3))


async def test_statement_timeout_is_a_typed_error(
    codeflow_database_url: str, codeflow_connection: asyncpg.pool.PoolConnectionProxy, owner: str
) -> None:
    db = await _database(codeflow_database_url, "codeflow-rel-timeout", db_statement_timeout_ms=200)
    try:
        async with codeflow_connection.transaction():
            # Hold the profile's row lock: the store's write waits until its statement times out.
            await codeflow_connection.execute(
                "SELECT 1 FROM user_profiles WHERE user_id = $1 FOR UPDATE", owner
            )
            started = time.monotonic()
            with pytest.raises(QueryTimeout, match="update_user_profile_last_active"):
                await db.profiles.update_user_last_active(owner)
            waited = time.monotonic() - started
        assert 0.15 < waited < 2.0
        await db.profiles.update_user_last_active(owner)  # the connection is usable again
        assert (await db.health.report()).pool_size <= 10
    finally:
        await db.close()
    report("timeout.statement_timeout_200ms_raised_after_s", round(waited, 3))


async def test_client_command_timeout_is_a_typed_error(
    codeflow_database_url: str, codeflow_connection: asyncpg.pool.PoolConnectionProxy, owner: str
) -> None:
    db = await _database(
        codeflow_database_url, "codeflow-rel-cmd", db_statement_timeout_ms=0, db_command_timeout_s=0.3
    )
    try:
        async with codeflow_connection.transaction():
            await codeflow_connection.execute(
                "SELECT 1 FROM user_profiles WHERE user_id = $1 FOR UPDATE", owner
            )
            with pytest.raises(QueryTimeout):
                await db.profiles.update_user_last_active(owner)
        await db.profiles.update_user_last_active(owner)
    finally:
        await db.close()


async def test_exhausted_pool_gives_pool_exhausted_and_stays_whole(
    codeflow_database_url: str, codeflow_connection: asyncpg.pool.PoolConnectionProxy, owner: str
) -> None:
    """A caller that finds every pooled connection busy waits DB_POOL_ACQUIRE_TIMEOUT_S,
    then gets PoolExhausted (not a hang, and not a DatabaseUnavailable: the database is
    fine, this process saturated its pool); the pool serves again once a connection frees."""
    db = await _database(
        codeflow_database_url,
        "codeflow-rel-acquire",
        db_pool_min_size=1,
        db_pool_max_size=1,
        db_pool_acquire_timeout_s=0.2,
        db_statement_timeout_ms=5_000,
    )
    try:
        async with codeflow_connection.transaction():
            await codeflow_connection.execute(
                "SELECT 1 FROM user_profiles WHERE user_id = $1 FOR UPDATE", owner
            )
            stuck = asyncio.create_task(db.profiles.update_user_last_active(owner))
            await asyncio.sleep(0.05)
            started = time.monotonic()
            with pytest.raises(PoolExhausted, match="waiting for a pooled connection") as call:
                await db.profiles.count_user_profiles()
            waited = time.monotonic() - started
            with pytest.raises(PoolExhausted, match="all 1 connections in use") as transaction:
                async with db.transaction():
                    pass
        await stuck  # the lock is gone: the stuck write completes
        assert await db.profiles.count_user_profiles() == 1
        assert (await db.health.report()).pool_size == 1
    finally:
        await db.close()
    for caught in (call, transaction):
        assert not isinstance(caught.value, DatabaseUnavailable)
    assert 0.2 <= waited < 1.0
    report("acquire.timeout_after_s", round(waited, 3))


async def test_a_connection_that_cannot_open_in_time_is_unavailable_not_exhausted() -> None:
    """The acquire timeout also ends a wait for a new connection to a server that does not
    answer (here a socket that accepts and never replies): that is the database's fault."""
    silent = await asyncio.start_server(lambda reader, writer: None, "127.0.0.1", 0)
    port = silent.sockets[0].getsockname()[1]
    settings = load_settings(
        database_url=f"postgresql://postgres@127.0.0.1:{port}/codeflow?sslmode=disable",
        db_pool_min_size=0,
        db_pool_max_size=2,
        db_pool_acquire_timeout_s=0.3,
        db_connect_timeout_s=5,
    )
    try:
        async with Database(settings) as database:
            with pytest.raises(DatabaseUnavailable, match="opening a connection took too long") as caught:
                await database.profiles.count_user_profiles()
        assert not isinstance(caught.value, PoolExhausted)
    finally:
        silent.close()
        await silent.wait_closed()


async def _terminate(admin: asyncpg.pool.PoolConnectionProxy, app: str) -> None:
    """End the backend of `app`'s one connection and wait until it is gone; then give
    the client's event loop a moment to read the FATAL message and the closed socket."""
    terminated = await admin.fetchval(
        "SELECT bool_and(pg_terminate_backend(pid, 5000)) FROM pg_stat_activity WHERE application_name = $1",
        app,
    )
    assert terminated
    await asyncio.sleep(0.1)


@pytest.mark.parametrize("then", ["statement", "savepoint", "commit"])
async def test_a_backend_killed_inside_a_transaction_is_unavailable(
    codeflow_database_url: str, codeflow_connection: asyncpg.pool.PoolConnectionProxy, owner: str, then: str
) -> None:
    """Terminated (an operator, a failover) between two statements of a transaction: the
    next statement, or the commit, raises DatabaseUnavailable, which callers retry on.
    The next statement was QueryFailed(sqlstate=None), "released back to the pool"."""
    app = f"codeflow-rel-txkill-{then}"
    db = await _database(codeflow_database_url, app, db_pool_min_size=1, db_pool_max_size=1)
    try:
        with pytest.raises(DatabaseUnavailable) as caught:
            async with db.transaction() as tx:
                await tx.profiles.update_user_last_active(owner)
                await _terminate(codeflow_connection, app)
                if then == "statement":
                    await tx.profiles.get_user_profile(owner)
                elif then == "savepoint":
                    async with tx.transaction():
                        pass
        assert type(caught.value) is DatabaseUnavailable
        assert await db.profiles.count_user_profiles() == 1  # the pool replaced the connection
    finally:
        await db.close()


@pytest.mark.parametrize("then", ["statement", "commit"])
async def test_idle_in_transaction_timeout_is_unavailable(
    codeflow_database_url: str, owner: str, then: str
) -> None:
    """The server ends a session left idle in a transaction for longer than
    DB_IDLE_IN_TRANSACTION_TIMEOUT_MS: the connection is lost, DatabaseUnavailable."""
    db = await _database(
        codeflow_database_url,
        f"codeflow-rel-idle-{then}",
        db_pool_min_size=1,
        db_pool_max_size=1,
        db_idle_in_transaction_timeout_ms=100,
    )
    try:
        with pytest.raises(DatabaseUnavailable) as caught:
            async with db.transaction() as tx:
                await tx.profiles.update_user_last_active(owner)
                await asyncio.sleep(0.5)
                if then == "statement":
                    await tx.profiles.get_user_profile(owner)
        assert type(caught.value) is DatabaseUnavailable
        assert await db.profiles.count_user_profiles() == 1
    finally:
        await db.close()


async def test_closing_the_pool_fails_new_calls_with_pool_closed(
    codeflow_database_url: str, codeflow_connection: asyncpg.pool.PoolConnectionProxy, owner: str
) -> None:
    """`Database.close()` waits for the calls in flight, which complete; calls made while it
    closes, or after, raise PoolClosed (a DatabaseUnavailable), not QueryFailed. A call
    queued for a connection before close() may get one (asyncpg hands it the connection
    the call ahead released) and then see it closed under it: PoolClosed too."""
    db = await _database(codeflow_database_url, "codeflow-rel-close", db_pool_min_size=1, db_pool_max_size=1)
    async with codeflow_connection.transaction():
        await codeflow_connection.execute("SELECT 1 FROM user_profiles WHERE user_id = $1 FOR UPDATE", owner)
        in_flight = asyncio.create_task(db.profiles.update_user_last_active(owner))
        queued = asyncio.create_task(db.profiles.count_user_profiles())
        await asyncio.sleep(0.05)
        closing = asyncio.create_task(db.close())
        await asyncio.sleep(0.05)
        assert not closing.done(), "close() waits for the call in flight"
        with pytest.raises(PoolClosed, match="not open"):
            await db.profiles.count_user_profiles()
        with pytest.raises(PoolClosed):
            async with db.transaction():
                pass
    outcomes = await asyncio.wait_for(asyncio.gather(in_flight, queued, closing, return_exceptions=True), 10)
    assert outcomes[0] is None and outcomes[2] is None
    assert outcomes[1] == 1 or isinstance(outcomes[1], PoolClosed), outcomes[1]
    with pytest.raises(PoolClosed, match="not open"):
        await db.profiles.count_user_profiles()


async def test_cancelling_thousands_of_calls_leaves_the_pool_full_and_healthy(
    codeflow_database_url: str, codeflow_connection: asyncpg.pool.PoolConnectionProxy, owner: str
) -> None:
    app = "codeflow-rel-cancel"
    db = await _database(codeflow_database_url, app)
    try:
        for _ in range(3):
            calls = [
                asyncio.create_task(
                    db.repositories.get_user_repositories(owner)
                    if n % 2
                    else db.profiles.update_user_last_active(owner)
                )
                for n in range(2000)
            ]
            await asyncio.sleep(0.05)
            for call in calls:
                call.cancel()
            results = await asyncio.gather(*calls, return_exceptions=True)
            raw = [r for r in results if isinstance(r, Exception) and not isinstance(r, CodeflowError)]
            assert not raw, raw[:3]
        cancelled = sum(isinstance(r, asyncio.CancelledError) for r in results)
        assert cancelled > 1000
        await asyncio.sleep(0.2)  # connections whose query was cancelled are reset in the background
        assert (
            len(await asyncio.gather(*(db.repositories.get_user_repositories(owner) for _ in range(100))))
            == 100
        )
        usage = await db.health.report()
        assert (usage.pool_size, usage.pool_idle, usage.pool_in_use) == (10, 10, 0)
        busy = await codeflow_connection.fetchval(
            "SELECT count(*) FROM pg_stat_activity WHERE application_name = $1 AND state <> 'idle'", app
        )
        assert busy == 0
        assert await _ours(codeflow_connection, app) == 10
    finally:
        await db.close()
    report("cancel.calls_cancelled_in_last_round", cancelled)
