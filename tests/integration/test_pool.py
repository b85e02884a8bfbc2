"""The pool: settings reach the server, the per-process pool, and failures to connect."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable

import asyncpg
import pytest

from codeflow import Database, DatabaseUnavailable, PoolClosed, QueryFailed, Settings
from codeflow import database as database_module
from codeflow.pool import create_pool

MakeUser = Callable[..., Awaitable[str]]


async def test_server_settings_are_sent_at_connect(codeflow_pool: asyncpg.Pool) -> None:
    row = await codeflow_pool.fetchrow(
        "SELECT current_setting('application_name') AS app, current_setting('statement_timeout') AS st, "
        "current_setting('TimeZone') AS tz"
    )
    assert row is not None
    assert dict(row) == {"app": "codeflow", "st": "15s", "tz": "UTC"}


async def test_release_rolls_back_an_abandoned_transaction(codeflow_settings: Settings) -> None:
    pool = await create_pool(codeflow_settings.model_copy(update={"db_pool_max_size": 1}))
    try:
        connection = await pool.acquire()
        await connection.execute("BEGIN")
        await connection.execute("INSERT INTO users (id) VALUES ('abandoned')")
        await pool.release(connection)  # without COMMIT
        assert await pool.fetchval("SELECT count(*) FROM users WHERE id = 'abandoned'") == 0
        assert await pool.fetchval("SELECT pg_current_xact_id_if_assigned() IS NULL")
    finally:
        await pool.close()


async def test_database_opens_one_pool_and_closes_it(
    codeflow_settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Concurrent and repeated open() calls share one pool; after close() a call raises
    PoolClosed, and open() opens a new pool."""
    opened: list[asyncpg.Pool] = []

    async def counting_create_pool(settings: Settings, *, read_only: bool = False) -> asyncpg.Pool:
        pool = await create_pool(settings, read_only=read_only)
        opened.append(pool)
        return pool

    monkeypatch.setattr(database_module, "create_pool", counting_create_pool)
    database = Database(codeflow_settings)
    with pytest.raises(PoolClosed):
        await database.profiles.count_user_profiles()
    try:
        await asyncio.gather(database.open(), database.open(), database.open())
        await database.open()
        assert len(opened) == 1
        assert await database.profiles.count_user_profiles() == 0
    finally:
        await database.close()
    assert opened[0].is_closing()
    with pytest.raises(PoolClosed):
        await database.profiles.count_user_profiles()
    with pytest.raises(PoolClosed):
        async with database.transaction():
            pass
    await database.close()  # closing twice is harmless

    async with database:
        assert await database.profiles.count_user_profiles() == 0
    assert len(opened) == 2 and opened[1].is_closing()


async def test_unreachable_server_is_unavailable_and_hides_the_password() -> None:
    settings = Settings(
        database_url="postgresql://app:s3cret@127.0.0.1:1/codeflow",
        db_connect_timeout_s=1,
        db_connect_attempts=1,
    )
    with pytest.raises(DatabaseUnavailable) as caught:
        await create_pool(settings)
    assert "127.0.0.1:1" in str(caught.value)
    assert "s3cret" not in str(caught.value)


def test_a_database_used_per_event_loop_leaves_no_connections_and_says_how(
    codeflow_settings: Settings, codeflow_database_url: str, caplog: pytest.LogCaptureFixture
) -> None:
    """A serverless runtime that starts an event loop per invocation: `async with
    database:` per invocation leaves no connection behind; `open()` alone on a new loop
    drops the old loop's pools (they cannot be closed without it) and says what to do
    (before: dropped silently, connections piling up until garbage collection)."""
    settings = codeflow_settings.model_copy(update={"db_application_name": "loop-per-invocation"})
    database = Database(settings)

    async def connections() -> int:
        connection = await asyncpg.connect(codeflow_database_url)
        try:
            return int(
                await connection.fetchval(
                    "SELECT count(*) FROM pg_stat_activity WHERE application_name = 'loop-per-invocation'"
                )
            )
        finally:
            await connection.close()

    async def invocation() -> int:
        async with database:
            await database.profiles.count_user_profiles()
        return await connections()

    assert [asyncio.run(invocation()) for _ in range(3)] == [0, 0, 0]
    assert "new event loop" not in caplog.text

    async def open_only() -> None:
        await database.open()
        await database.profiles.count_user_profiles()

    asyncio.run(open_only())
    with caplog.at_level("WARNING", logger="codeflow"):
        asyncio.run(open_only())
    assert "use `async with database:` per event loop" in caplog.text
    asyncio.run(database.close())


async def test_read_stores_refuse_writes_behind_a_transaction_pooler(
    codeflow_settings: Settings, codeflow_connection: asyncpg.Connection, make_user: MakeUser
) -> None:
    """A transaction pooler takes no start-up settings, so the read pool's
    default_transaction_read_only is not there: a write through `Database.read` is
    refused by the layer, and a `read.transaction()` is READ ONLY on the server (before:
    both wrote to the primary)."""
    user_id = await make_user()
    async with Database(codeflow_settings.model_copy(update={"db_transaction_pooler": True})) as database:
        with pytest.raises(QueryFailed) as single:
            await database.read.profiles.create_user_profile(user_id, github_id=1, username="reader")
        assert single.value.sqlstate == "25006"
        with pytest.raises(QueryFailed) as in_transaction:
            async with database.read.transaction() as tx:
                await tx.profiles.create_user_profile(user_id, github_id=1, username="reader")
        assert in_transaction.value.sqlstate == "25006"
    assert await codeflow_connection.fetchval("SELECT count(*) FROM user_profiles") == 0
