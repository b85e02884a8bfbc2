"""Reads that tolerate lag go to DATABASE_READ_URL; writes never do (the read pool's
transactions are read-only even when it points at the primary, as it does here)."""

from __future__ import annotations

import asyncpg
import pytest

from codeflow import (
    ConfigurationError,
    DatabaseService,
    QueryFailed,
    Settings,
    close_pool,
    get_pool,
    load_settings,
)
from codeflow.pool import create_pool, get_read_pool, pool_options

pytestmark = pytest.mark.integration


@pytest.fixture
def replica_settings(codeflow_settings: Settings) -> Settings:
    return codeflow_settings.model_copy(update={"database_read_url": codeflow_settings.database_url})


async def test_read_pool_serves_reads_and_refuses_writes(
    replica_settings: Settings, codeflow_pool: asyncpg.Pool
) -> None:
    await codeflow_pool.execute("INSERT INTO users (id) VALUES ('reader')")
    await DatabaseService(codeflow_pool).create_user_profile(user_id="reader", github_id=1, username="reader")
    read_pool = await create_pool(replica_settings, read_only=True)
    try:
        reads = DatabaseService(read_pool, settings=replica_settings)
        assert (await reads.get_user_profile("reader")).username == "reader"
        with pytest.raises(QueryFailed) as caught:
            await reads.update_user_last_active("reader")
        assert caught.value.sqlstate == "25006"  # read_only_sql_transaction
    finally:
        await read_pool.close()


async def test_process_read_pool_is_read_only_with_or_without_a_replica(
    codeflow_settings: Settings, replica_settings: Settings
) -> None:
    try:
        primary_reads = await get_read_pool(codeflow_settings)
        assert primary_reads is not await get_pool(codeflow_settings)
        assert await primary_reads.fetchval("SELECT current_setting('default_transaction_read_only')") == "on"
    finally:
        await close_pool()
    try:
        replica = await get_read_pool(replica_settings)
        assert replica is not await get_pool(replica_settings)
        assert await replica.fetchval("SELECT current_setting('default_transaction_read_only')") == "on"
    finally:
        await close_pool()
    assert replica.is_closing()


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
