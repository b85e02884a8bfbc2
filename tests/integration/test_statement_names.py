"""Every statement reaches the server named: pg_stat_activity (and so pg_stat_statements
and the slow-query log, which record the same text) shows which query it was."""

from __future__ import annotations

import asyncpg

from codeflow import Database, Settings


async def test_pg_stat_activity_names_the_query(
    codeflow_settings: Settings, codeflow_connection: asyncpg.pool.PoolConnectionProxy
) -> None:
    settings = codeflow_settings.model_copy(update={"db_pool_min_size": 1, "db_pool_max_size": 1})
    async with Database(settings) as database:
        assert await database.auth.get_user("nobody") is None
        # An idle backend's `query` is the last statement it ran.
        shown = await codeflow_connection.fetchval(
            "SELECT query FROM pg_stat_activity "
            "WHERE datname = current_database() AND pid <> pg_backend_pid() AND state = 'idle' "
            "AND query LIKE '%FROM users%WHERE id = $1%'"
        )
    assert shown is not None
    assert shown.startswith("/* codeflow:get_auth_user */ SELECT id, name, email")
