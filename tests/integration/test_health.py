"""Health checks for the app's health endpoint."""

from __future__ import annotations

import asyncio
import time
from urllib.parse import urlsplit, urlunsplit

from pydantic import SecretStr

from codeflow import Database, Settings, load_settings
from codeflow.health import migration_versions
from codeflow.tools import migrate


async def test_healthy_database_reports_version_latency_and_no_pending(codeflow_database: Database) -> None:
    assert await codeflow_database.health.check()
    report = await codeflow_database.health.report()
    assert report.ok and report.error is None
    assert report.server_version and report.server_version[:2] in {"15", "16", "17", "18"}
    assert report.latency_ms is not None and report.latency_ms >= 0
    assert report.pending_migrations == []
    assert report.applied_migrations == len(migration_versions())
    assert report.pool_max == 10 and report.pool_size >= 1
    assert report.pool_in_use == 0 and report.pool_idle == report.pool_size


async def test_pool_in_use_counts_the_connections_calls_hold(codeflow_database: Database) -> None:
    async with codeflow_database.transaction():
        report = await codeflow_database.health.report()
    assert report.ok
    assert report.pool_in_use == 1, "the transaction's connection; the report's own is not counted"
    assert report.pool_idle == report.pool_size - 1


async def test_a_database_not_open_is_reported_not_raised() -> None:
    database = Database(load_settings(database_url="postgresql://nobody@127.0.0.1:1/nowhere"))
    assert not await database.health.check()
    report = await database.health.report()
    assert not report.ok
    assert report.error and "not open" in report.error


async def test_unreachable_database_is_reported_not_raised() -> None:
    settings = load_settings(
        database_url="postgresql://nobody@127.0.0.1:1/nowhere",
        db_pool_min_size=0,
        db_connect_timeout_s=1,
        db_connect_attempts=1,
    )
    async with Database(settings) as database:  # min_size 0: nothing connects yet
        assert not await database.health.check(timeout=2)
        report = await database.health.report(timeout=2)
    assert not report.ok
    assert report.error


async def test_unmigrated_database_is_healthy_with_every_migration_pending(
    codeflow_database_url: str,
) -> None:
    parts = urlsplit(codeflow_database_url)
    url = urlunsplit(parts._replace(path=parts.path + "_unmigrated"))
    await migrate.ensure_database(url)
    try:
        async with Database(load_settings(database_url=url, db_pool_min_size=1)) as database:
            report = await database.health.report()
    finally:
        await migrate.drop_database(url)
    assert report.ok
    assert report.applied_migrations == 0
    assert report.pending_migrations == migration_versions()


async def test_a_silent_replica_does_not_make_the_primary_unhealthy(codeflow_settings: Settings) -> None:
    """A replica that accepts connections and never answers: the report still comes in
    time, healthy, with the replica's problem beside it (before: ok=False, "no answer")."""
    silent = await asyncio.start_server(lambda reader, writer: None, "127.0.0.1", 0)
    port = silent.sockets[0].getsockname()[1]
    settings = codeflow_settings.model_copy(
        update={"database_read_url": SecretStr(f"postgresql://postgres@127.0.0.1:{port}/x?sslmode=disable")}
    )
    try:
        async with Database(settings) as database:
            started = time.monotonic()
            report = await database.health.report(timeout=2)
            elapsed = time.monotonic() - started
    finally:
        silent.close()
        await silent.wait_closed()
    assert report.ok and report.error is None
    assert report.server_version is not None
    assert report.replica_error is not None and "replica" in report.replica_error
    assert elapsed < 3
