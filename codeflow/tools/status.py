"""`codeflow-db status`: the database a command would use, and where it stands."""

from __future__ import annotations

import asyncpg

from codeflow.database import Database
from codeflow.dburl import redact as redact_url
from codeflow.errors import CodeflowError
from codeflow.settings import load_settings
from codeflow.tools import localdb


async def describe(target: localdb.Target) -> tuple[str, bool]:
    """A short report and whether the database is healthy and fully migrated."""
    lines = [f"database  {redact_url(target.url)}  ({target.backend})"]
    database = Database(load_settings(database_url=target.url, db_pool_min_size=1, db_pool_max_size=1))
    try:
        await database.open()
    except CodeflowError as exc:
        lines.append(f"health    DOWN: {exc}")
        return "\n".join(lines), False
    try:
        report = await database.health.report()
    finally:
        await database.close()
    lines.append(
        f"health    ok  server {report.server_version}  round trip {report.latency_ms} ms"
        if report.ok
        else f"health    DOWN: {report.error}"
    )
    lines.append(
        f"migrations  {report.applied_migrations} applied, "
        f"{len(report.pending_migrations)} pending {report.pending_migrations or ''}".rstrip()
    )
    connection = await asyncpg.connect(target.url)
    try:
        tables = await connection.fetch(
            "SELECT relname AS table FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace "
            "WHERE n.nspname = 'public' AND c.relkind = 'r' ORDER BY relname"
        )
        for row in tables:
            rows = await connection.fetchval(f'SELECT count(*) FROM "{row["table"]}"')
            lines.append(f"  {row['table']:<24}{rows:>8} rows")
    finally:
        await connection.close()
    return "\n".join(lines), report.ok and not report.pending_migrations
