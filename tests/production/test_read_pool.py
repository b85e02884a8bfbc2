"""Reads that tolerate lag go to DATABASE_READ_URL; writes never do (the read pool's
transactions are read-only even when it points at the primary, as it does here)."""

from __future__ import annotations

import asyncio

import asyncpg
import pytest

from codeflow import (
    ConfigurationError,
    Database,
    DatabaseUnavailable,
    PoolClosed,
    QueryFailed,
    Settings,
    load_settings,
)
from codeflow import database as database_module
from codeflow.pool import create_pool, pool_options

pytestmark = pytest.mark.integration


@pytest.fixture
def replica_settings(codeflow_settings: Settings) -> Settings:
    return codeflow_settings.model_copy(update={"database_read_url": codeflow_settings.database_url})


@pytest.fixture
def opened(monkeypatch: pytest.MonkeyPatch) -> list[tuple[asyncpg.Pool, bool]]:
    """Every pool a Database opens, with whether it was opened read-only."""
    pools: list[tuple[asyncpg.Pool, bool]] = []

    async def recording_create_pool(settings: Settings, *, read_only: bool = False) -> asyncpg.Pool:
        pool = await create_pool(settings, read_only=read_only)
        pools.append((pool, read_only))
        return pool

    monkeypatch.setattr(database_module, "create_pool", recording_create_pool)
    return pools


async def test_read_stores_serve_reads_and_refuse_writes(
    replica_settings: Settings, codeflow_pool: asyncpg.Pool
) -> None:
    await codeflow_pool.execute("INSERT INTO users (id) VALUES ('reader')")
    async with Database(replica_settings) as database:
        await database.profiles.create_user_profile(user_id="reader", github_id=1, username="reader")
        assert (await database.read.profiles.get_user_profile("reader")).username == "reader"
        with pytest.raises(QueryFailed) as caught:
            await database.read.profiles.update_user_last_active("reader")
        assert caught.value.sqlstate == "25006"  # read_only_sql_transaction
        await database.profiles.update_user_last_active("reader")  # the primary pool writes


@pytest.mark.parametrize("replica", [False, True])
async def test_read_pool_is_separate_read_only_and_lives_with_the_database(
    codeflow_settings: Settings,
    replica_settings: Settings,
    codeflow_pool: asyncpg.Pool,
    opened: list[tuple[asyncpg.Pool, bool]],
    replica: bool,
) -> None:
    """With or without DATABASE_READ_URL, `read` runs on a second pool, opened on first
    use, whose transactions are read-only; close() closes both, and open() again works."""
    await codeflow_pool.execute("INSERT INTO users (id) VALUES ('reader')")
    database = Database(replica_settings if replica else codeflow_settings)
    with pytest.raises(PoolClosed):
        await database.read.profiles.count_user_profiles()
    async with database:
        await database.profiles.create_user_profile(user_id="reader", github_id=1, username="reader")
        assert [read_only for _, read_only in opened] == [False], "the read pool opens on first use"
        counts = await asyncio.gather(*(database.read.profiles.count_user_profiles() for _ in range(5)))
        assert counts == [1] * 5
        assert [read_only for _, read_only in opened] == [False, True], "one read pool, however many calls"
        read_pool = opened[1][0]
        assert await read_pool.fetchval("SELECT current_setting('default_transaction_read_only')") == "on"
        with pytest.raises(QueryFailed) as caught:
            await database.read.profiles.update_user_last_active("reader")
        assert caught.value.sqlstate == "25006"
        await database.profiles.update_user_last_active("reader")
    assert all(pool.is_closing() for pool, _ in opened)
    with pytest.raises(PoolClosed):
        await database.read.profiles.count_user_profiles()
    async with database:
        assert await database.read.profiles.count_user_profiles() == 1
    assert [read_only for _, read_only in opened] == [False, True, False, True]


async def test_read_stores_go_to_the_read_url(codeflow_settings: Settings) -> None:
    """DATABASE_READ_URL names a server that is not there: reads fail on it, naming it,
    while the primary pool answers."""
    settings = load_settings(
        database_url=codeflow_settings.database_url.get_secret_value(),
        database_read_url="postgresql://postgres@127.0.0.1:1/replica?sslmode=disable",
        db_connect_timeout_s=1,
        db_connect_attempts=1,
    )
    async with Database(settings) as database:
        assert await database.profiles.count_user_profiles() >= 0
        with pytest.raises(DatabaseUnavailable) as caught:
            await database.read.profiles.count_user_profiles()
    assert "127.0.0.1:1" in str(caught.value)


def test_read_pool_uses_the_read_url() -> None:
    settings = load_settings(
        database_url="postgresql://app@primary.internal/codeflow",
        database_read_url="postgresql://app@replica.internal/codeflow",
    )
    assert "replica.internal" in pool_options(settings, read_only=True)["dsn"]
    assert "primary.internal" in pool_options(settings)["dsn"]


def test_pooler_mode_sends_no_session_state() -> None:
    settings = load_settings(database_url="postgresql://app@proxy/codeflow", db_transaction_pooler=True)
    options = pool_options(settings)
    assert options["statement_cache_size"] == 0
    assert options["server_settings"] == {"application_name": "codeflow"}
    assert options["reset"] is not None  # rollback only, not asyncpg's RESET ALL
    assert "statement_cache_size" not in pool_options(
        settings.model_copy(update={"db_transaction_pooler": False})
    )


def test_pooler_mode_refuses_the_full_reset() -> None:
    with pytest.raises(ConfigurationError, match="DB_POOL_RESET=full"):
        load_settings(
            database_url="postgresql://app@proxy/codeflow", db_transaction_pooler=True, db_pool_reset="full"
        )
