"""Database health for the app's health endpoint."""

from __future__ import annotations

import asyncio
import time
from typing import TypedDict

import asyncpg

from codeflow.errors import CodeflowError, QueryFailed, translate
from codeflow.models import HealthReport
from codeflow.paths import MIGRATIONS_DIR
from codeflow.queries import run
from codeflow.store import all_queries, declare_results


class _ServerStatus(TypedDict):
    server_version: str
    in_recovery: bool


class _AppliedMigration(TypedDict):
    version: str


declare_results(get_server_status=_ServerStatus, list_applied_migrations=_AppliedMigration)


async def check_database_connection(pool: asyncpg.Pool, *, timeout: float = 5.0) -> bool:
    """True if the database answers `SELECT 1` within `timeout` seconds."""
    try:
        return bool(await asyncio.wait_for(pool.fetchval("SELECT 1"), timeout))
    except Exception:  # noqa: BLE001 - any failure means "not healthy"
        return False


def migration_versions() -> list[str]:
    """Versions of the migration files shipped with this package, oldest first."""
    return sorted(path.name.split("_", 1)[0] for path in MIGRATIONS_DIR.glob("*.sql"))


async def health_report(pool: asyncpg.Pool, *, timeout: float = 5.0) -> HealthReport:
    """Server version, round-trip latency, pool usage and pending migrations.

    Never raises: a failure is reported as `ok=False` with the reason.
    """
    queries = all_queries()
    pool_figures = {
        "pool_size": pool.get_size(),
        "pool_idle": pool.get_idle_size(),
        "pool_max": pool.get_max_size(),
    }
    try:
        async with asyncio.timeout(timeout):
            async with pool.acquire() as connection:
                start = time.perf_counter()
                status = await run(connection, queries["get_server_status"], (), slow_ms=float("inf"))
                latency_ms = (time.perf_counter() - start) * 1000.0
                try:
                    rows = await run(connection, queries["list_applied_migrations"], (), slow_ms=float("inf"))
                    applied = {row["version"] for row in rows}
                except QueryFailed as exc:
                    if exc.sqlstate != "42P01":  # undefined_table: not migrated yet
                        raise
                    applied = set()
    except Exception as exc:  # noqa: BLE001 - reported, not raised
        error = exc if isinstance(exc, CodeflowError) else translate(exc, query="health")
        return HealthReport(ok=False, error=str(error), **pool_figures)
    pending = [version for version in migration_versions() if version not in applied]
    return HealthReport(
        ok=True,
        server_version=status["server_version"],
        in_recovery=status["in_recovery"],
        latency_ms=round(latency_ms, 3),
        applied_migrations=len(applied),
        pending_migrations=pending,
        **pool_figures,
    )
