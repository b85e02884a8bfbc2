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
    DatabaseService,
    DatabaseUnavailable,
    QueryTimeout,
    RepositoryData,
    create_pool,
    load_settings,
)

from .conftest import report

MakeUser = Callable[..., Awaitable[str]]


async def _pool(url: str, app: str, **settings: object) -> tuple[asyncpg.Pool, DatabaseService]:
    # Resolution 0: update_user_last_active always writes, so it waits on a locked row.
    values: dict[str, object] = {
        "db_pool_min_size": 10,
        "db_pool_max_size": 10,
        "db_activity_resolution_s": 0,
        **settings,
    }
    loaded = load_settings(database_url=url, db_application_name=app, **values)
    pool = await create_pool(loaded)
    return pool, DatabaseService(pool, settings=loaded)


@pytest.fixture
async def owner(codeflow_service: DatabaseService, make_user: MakeUser) -> AsyncIterator[str]:
    user_id = await make_user()
    await codeflow_service.create_user_profile(user_id=user_id, github_id=1, username="octocat")
    yield user_id


async def _ours(connection: asyncpg.pool.PoolConnectionProxy, app: str) -> int:
    return int(
        await connection.fetchval("SELECT count(*) FROM pg_stat_activity WHERE application_name = $1", app)
    )


async def test_killed_connections_mid_load(
    codeflow_database_url: str, codeflow_connection: asyncpg.pool.PoolConnectionProxy, owner: str
) -> None:
    app = "codeflow-rel-kill"
    pool, service = await _pool(codeflow_database_url, app)
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
                        await service.get_user_repositories(owner)
                    else:
                        data = RepositoryData(
                            github_id=task * 100_000 + n,
                            name=f"r{task}-{n}",
                            full_name=f"o/r{task}-{n}",
                            owner="o",
                            private=False,
                        )
                        await service.add_repository(owner, data)
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
        assert len(await asyncio.gather(*(service.get_user_repositories(owner) for _ in range(20)))) == 20
        assert pool.get_size() <= 10
        assert await _ours(codeflow_connection, app) <= 10
    finally:
        await pool.close()
    assert await _ours(codeflow_connection, app) == 0
    report("kill.backends_terminated", killed)
    report("kill.outcomes", dict(seen))
    report("kill.slowest_call_s", round(slowest, 3))


async def test_statement_timeout_is_a_typed_error(
    codeflow_database_url: str, codeflow_connection: asyncpg.pool.PoolConnectionProxy, owner: str
) -> None:
    pool, service = await _pool(codeflow_database_url, "codeflow-rel-timeout", db_statement_timeout_ms=200)
    try:
        async with codeflow_connection.transaction():
            # Hold the profile's row lock: the service's write waits until its statement times out.
            await codeflow_connection.execute(
                "SELECT 1 FROM user_profiles WHERE user_id = $1 FOR UPDATE", owner
            )
            started = time.monotonic()
            with pytest.raises(QueryTimeout, match="update_user_profile_last_active"):
                await service.update_user_last_active(owner)
            waited = time.monotonic() - started
        assert 0.15 < waited < 2.0
        await service.update_user_last_active(owner)  # the connection is usable again
        assert pool.get_size() <= 10
    finally:
        await pool.close()
    report("timeout.statement_timeout_200ms_raised_after_s", round(waited, 3))


async def test_client_command_timeout_is_a_typed_error(
    codeflow_database_url: str, codeflow_connection: asyncpg.pool.PoolConnectionProxy, owner: str
) -> None:
    pool, service = await _pool(
        codeflow_database_url, "codeflow-rel-cmd", db_statement_timeout_ms=0, db_command_timeout_s=0.3
    )
    try:
        async with codeflow_connection.transaction():
            await codeflow_connection.execute(
                "SELECT 1 FROM user_profiles WHERE user_id = $1 FOR UPDATE", owner
            )
            with pytest.raises(QueryTimeout):
                await service.update_user_last_active(owner)
        await service.update_user_last_active(owner)
    finally:
        await pool.close()


async def test_exhausted_pool_gives_a_typed_timeout_and_stays_whole(
    codeflow_database_url: str, codeflow_connection: asyncpg.pool.PoolConnectionProxy, owner: str
) -> None:
    """A caller that finds every pooled connection busy waits DB_POOL_ACQUIRE_TIMEOUT_S,
    then gets QueryTimeout (not a hang); the pool serves again once a connection frees."""
    pool, service = await _pool(
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
            stuck = asyncio.create_task(service.update_user_last_active(owner))
            await asyncio.sleep(0.05)
            started = time.monotonic()
            with pytest.raises(QueryTimeout, match="waiting for a pooled connection"):
                await service.count_user_profiles()
            waited = time.monotonic() - started
            with pytest.raises(QueryTimeout, match="waiting for a pooled connection"):
                async with service.transaction():
                    pass
        await stuck  # the lock is gone: the stuck write completes
        assert await service.count_user_profiles() == 1
        assert pool.get_size() == 1
    finally:
        await pool.close()
    assert 0.2 <= waited < 1.0
    report("acquire.timeout_after_s", round(waited, 3))


async def test_cancelling_thousands_of_calls_leaves_the_pool_full_and_healthy(
    codeflow_database_url: str, codeflow_connection: asyncpg.pool.PoolConnectionProxy, owner: str
) -> None:
    app = "codeflow-rel-cancel"
    pool, service = await _pool(codeflow_database_url, app)
    try:
        for _ in range(3):
            calls = [
                asyncio.create_task(
                    service.get_user_repositories(owner) if n % 2 else service.update_user_last_active(owner)
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
        assert len(await asyncio.gather(*(service.get_user_repositories(owner) for _ in range(100)))) == 100
        assert pool.get_size() == 10
        assert pool.get_idle_size() == 10
        busy = await codeflow_connection.fetchval(
            "SELECT count(*) FROM pg_stat_activity WHERE application_name = $1 AND state <> 'idle'", app
        )
        assert busy == 0
        assert await _ours(codeflow_connection, app) == 10
    finally:
        await pool.close()
    report("cancel.calls_cancelled_in_last_round", cancelled)
