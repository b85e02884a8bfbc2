"""The pool: settings reach the server, the per-process pool, and failures to connect."""

from __future__ import annotations

import asyncio

import asyncpg
import pytest

from codeflow import DatabaseService, DatabaseUnavailable, Settings, close_pool, create_pool, get_pool
from codeflow import pool as pool_module


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


async def test_process_pool_is_created_once_and_closed(
    codeflow_settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("DATABASE_URL", codeflow_settings.database_url.get_secret_value())
    try:
        first, second = await asyncio.gather(get_pool(), get_pool())
        assert first is second
        assert await DatabaseService(first).count_user_profiles() == 0
    finally:
        await close_pool()
    assert pool_module._process_pools == {}
    assert first.is_closing()
    await close_pool()  # closing twice is harmless


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
