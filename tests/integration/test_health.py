"""Health checks for the app's health endpoint."""

from __future__ import annotations

from urllib.parse import urlsplit, urlunsplit

import asyncpg

from codeflow import check_database_connection, create_pool, health_report, load_settings
from codeflow.health import migration_versions
from codeflow.tools import migrate


async def test_healthy_database_reports_version_latency_and_no_pending(codeflow_pool: asyncpg.Pool) -> None:
    assert await check_database_connection(codeflow_pool)
    report = await health_report(codeflow_pool)
    assert report.ok and report.error is None
    assert report.server_version and report.server_version[:2] in {"15", "16", "17", "18"}
    assert report.latency_ms is not None and report.latency_ms >= 0
    assert report.pending_migrations == []
    assert report.applied_migrations == len(migration_versions())
    assert report.pool_max == 10 and report.pool_size >= 1


async def test_unreachable_database_is_reported_not_raised() -> None:
    settings = load_settings(
        database_url="postgresql://nobody@127.0.0.1:1/nowhere",
        db_pool_min_size=0,
        db_connect_timeout_s=1,
        db_connect_attempts=1,
    )
    pool = await create_pool(settings)  # min_size 0: nothing connects yet
    try:
        assert not await check_database_connection(pool, timeout=2)
        report = await health_report(pool, timeout=2)
        assert not report.ok
        assert report.error
    finally:
        await pool.close()


async def test_unmigrated_database_is_healthy_with_every_migration_pending(
    codeflow_database_url: str,
) -> None:
    parts = urlsplit(codeflow_database_url)
    url = urlunsplit(parts._replace(path=parts.path + "_unmigrated"))
    await migrate.ensure_database(url)
    try:
        pool = await create_pool(load_settings(database_url=url, db_pool_min_size=1))
        try:
            report = await health_report(pool)
        finally:
            await pool.close()
    finally:
        await migrate.drop_database(url)
    assert report.ok
    assert report.applied_migrations == 0
    assert report.pending_migrations == migration_versions()
