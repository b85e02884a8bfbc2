"""Migrations, the schema file, the time-zone pin and the dbmate wrapper, on scratch databases."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import asyncpg
import pytest

from codeflow import Database, load_settings
from codeflow.paths import MIGRATIONS_DIR
from codeflow.tools import migrate
from codeflow.tools.seed import seed_database, seeded_tables

pytestmark = pytest.mark.integration

SCHEMA_FILE = Path(__file__).resolve().parents[2] / "db" / "schema.sql"


@pytest.fixture
async def scratch_url(codeflow_database_url: str) -> AsyncIterator[str]:
    """A new, empty database on the test server, dropped afterwards."""
    parts = urlsplit(codeflow_database_url)
    url = urlunsplit(parts._replace(path=f"/codeflow_scratch_{uuid.uuid4().hex[:12]}"))
    await migrate.ensure_database(url)
    yield url
    await migrate.drop_database(url)


async def test_schema_file_is_current(codeflow_database_url: str) -> None:
    fresh = await migrate.schema_text(codeflow_database_url)
    assert fresh == SCHEMA_FILE.read_text(), "db/schema.sql is stale: run `make schema` and commit it"


async def test_every_migration_goes_up_down_and_up_again(scratch_url: str) -> None:
    migration_count = len(list(MIGRATIONS_DIR.glob("*.sql")))
    await migrate.migrate(scratch_url)
    first = await migrate.schema_text(scratch_url)
    await migrate.rollback(scratch_url, steps=migration_count)
    connection = await asyncpg.connect(scratch_url)
    try:
        leftovers = await connection.fetch(
            "SELECT relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace "
            "WHERE n.nspname = 'public' AND relname <> 'schema_migrations' AND relkind IN ('r', 'v', 'S')"
        )
        functions = await connection.fetchval(
            "SELECT count(*) FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace "
            "WHERE n.nspname = 'public'"
        )
    finally:
        await connection.close()
    assert [row["relname"] for row in leftovers] == []
    assert functions == 0, "every down removes what its up created"
    await migrate.migrate(scratch_url)
    assert await migrate.schema_text(scratch_url) == first


async def test_repositories_from_before_the_access_columns_fail_closed(scratch_url: str) -> None:
    """Rows of unknown visibility become private and never verified: their PRs are hidden
    until the sync job verifies access, which also sets GitHub's flag."""
    access = "20261201000200_repository_access.sql"
    later = [path for path in MIGRATIONS_DIR.glob("*.sql") if path.name >= access]
    await migrate.migrate(scratch_url)
    await migrate.rollback(scratch_url, steps=len(later))
    connection = await asyncpg.connect(scratch_url)
    try:
        await connection.execute(
            """
            INSERT INTO users (id) VALUES ('old-user');
            INSERT INTO user_profiles (user_id, github_id, username) VALUES ('old-user', 1, 'old');
            INSERT INTO repositories (user_id, github_id, name, full_name, owner)
            SELECT id, 42, 'r', 'o/r', 'o' FROM user_profiles;
            INSERT INTO pull_requests (id, repository_github_id, number, title, author_login, state, draft,
                                       head_ref, base_ref, html_url, created_at, updated_at)
            VALUES (1, 42, 1, 't', 'o', 'open', false, 'h', 'main', 'https://github.com/o/r/pull/1',
                    now(), now());
            """
        )
        await migrate.migrate(scratch_url)
        backfilled = await connection.fetch("SELECT private, access_verified_at FROM repositories")
        assert [tuple(row) for row in backfilled] == [(True, None)]
        async with Database(load_settings(database_url=scratch_url, db_pool_min_size=1)) as database:
            prs = database.pull_requests
            assert (await prs.get_dashboard("old-user")).items == []
            verified = await database.repositories.verify_repository_access(
                "old-user", private_by_github_id={42: False}
            )
            assert verified == 1
            assert [item.id for item in (await prs.get_dashboard("old-user")).items] == [1]
    finally:
        await connection.close()


async def test_database_time_zone_is_utc_even_when_the_default_is_not(scratch_url: str) -> None:
    """The Prisma driver adapter writes UTC wall-clock text and ignores offsets it reads:
    only a UTC session time zone makes its instants and ours agree."""
    database = urlsplit(scratch_url).path.lstrip("/")
    admin = await asyncpg.connect(scratch_url)
    await admin.execute(f"ALTER DATABASE {database} SET timezone TO 'America/New_York'")
    await admin.close()
    before = await asyncpg.connect(scratch_url)
    assert await before.fetchval("SHOW timezone") == "America/New_York"
    await before.close()

    await migrate.migrate(scratch_url)

    connection = await asyncpg.connect(scratch_url)  # a new session, as Prisma would open
    try:
        assert await connection.fetchval("SHOW timezone") == "UTC"
        await connection.execute("INSERT INTO users (id) VALUES ('prisma-user')")
        # Exactly what @prisma/adapter-pg sends for 2026-03-01T12:00:00.000Z: wall-clock text.
        await connection.execute(
            "INSERT INTO sessions (session_token, user_id, expires) "
            "VALUES ('t', 'prisma-user', '2026-03-01 12:00:00.000'::text::timestamptz)"
        )
        stored = await connection.fetchval("SELECT expires FROM sessions")
        as_text = await connection.fetchval("SELECT expires::text FROM sessions")
    finally:
        await connection.close()
    assert stored == datetime(2026, 3, 1, 12, tzinfo=UTC)
    assert as_text.startswith("2026-03-01 12:00:00"), "what Prisma reads back, offset ignored"


async def test_concurrent_migrate_runs_are_serialized(scratch_url: str) -> None:
    outcomes = await asyncio.gather(*(migrate.migrate(scratch_url) for _ in range(4)))
    applied = sum(output.output.count("Applied:") for output in outcomes)
    assert applied == len(list(MIGRATIONS_DIR.glob("*.sql")))
    _, pending = migrate.status(scratch_url)
    assert pending == 0


async def test_status_counts_pending_migrations(scratch_url: str) -> None:
    output, pending = migrate.status(scratch_url)
    assert pending == len(list(MIGRATIONS_DIR.glob("*.sql")))
    assert "Pending" in output


async def test_dump_failure_is_an_error_not_silence(scratch_url: str) -> None:
    broken = urlunsplit(urlsplit(scratch_url)._replace(path="/no_such_database_here"))
    with pytest.raises(migrate.MigrationError, match="schema dump failed"):
        await migrate.schema_text(broken)


async def test_seed_is_idempotent(scratch_url: str) -> None:
    await migrate.migrate(scratch_url)
    first = await seed_database(scratch_url)
    snapshot = await _contents(scratch_url)
    second = await seed_database(scratch_url)
    assert first == second
    assert all(count > 0 for count in first.values())
    assert await _contents(scratch_url) == snapshot


async def _contents(url: str) -> dict[str, list[str]]:
    connection = await asyncpg.connect(url)
    try:
        return {
            table: sorted(
                row["r"] for row in await connection.fetch(f"SELECT {table}::text AS r FROM {table}")
            )
            for table in seeded_tables()
        }
    finally:
        await connection.close()
