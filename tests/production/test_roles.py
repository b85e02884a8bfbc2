"""Least privilege: infra/roles.sql on a fresh server, migrations run as the owner
role over TLS, the stores run as the application's login role, which reads and
writes rows but cannot change the schema."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path

import asyncpg
import pytest

from codeflow import Database, Settings, load_settings
from codeflow.pool import create_pool
from codeflow.tools import migrate

from .servers import ScratchServer, sql_literal, superuser_execute, superuser_run

pytestmark = pytest.mark.integration

ROLES_SQL = Path(__file__).resolve().parents[2] / "infra" / "roles.sql"
DATABASE = "codeflow_roles"


@pytest.fixture(scope="module")
def migrated(tls_server: ScratchServer) -> ScratchServer:
    superuser_execute(
        tls_server,
        ROLES_SQL.read_text(),
        ROLES_SQL.read_text(),  # running it again changes nothing
        f"ALTER ROLE codeflow_migrator PASSWORD {sql_literal('migrator-pw')}",
        f"ALTER ROLE codeflow_api PASSWORD {sql_literal('api-pw')}",
        f"CREATE DATABASE {DATABASE} OWNER codeflow_migrator",
    )
    owner_url = tls_server.url(user="codeflow_migrator", password="migrator-pw", database=DATABASE)
    asyncio.run(migrate.migrate(owner_url))
    return tls_server


@pytest.fixture
def api_settings(migrated: ScratchServer) -> Settings:
    """Logged in as codeflow_api, in transaction-pooler mode (so the timeouts must come
    from the role)."""
    return load_settings(
        database_url=migrated.url(user="codeflow_api", password="api-pw", database=DATABASE),
        db_transaction_pooler=True,
        db_pool_min_size=1,
    )


@pytest.fixture
async def api(api_settings: Settings) -> AsyncIterator[asyncpg.Pool]:
    """A package pool as codeflow_api, for statements of the test's own."""
    pool = await create_pool(api_settings)
    try:
        yield pool
    finally:
        await pool.close()


async def test_application_role_reads_and_writes_rows(api: asyncpg.Pool, api_settings: Settings) -> None:
    user_id = await api.fetchval("INSERT INTO users (id) VALUES ('role-user') RETURNING id")
    async with Database(api_settings) as db:
        await db.profiles.create_user_profile(user_id=user_id, github_id=7, username="roles")
        repository = await db.repositories.add_repository(
            user_id, github_id=8, owner="octo", name="r", full_name="octo/r", private=True
        )
        await db.repositories.update_repository(user_id, repository_id=repository.id, is_active=False)
        assert (await db.repositories.count_user_repositories(user_id)).total == 1
        await db.repositories.delete_repository(user_id, repository_id=repository.id)
    assert await api.fetchval("DELETE FROM users WHERE id = 'role-user' RETURNING id") == "role-user"


async def test_role_carries_the_timeouts_a_pooler_cannot_send(api: asyncpg.Pool) -> None:
    row = await api.fetchrow(
        "SELECT current_user AS who, current_setting('statement_timeout') AS st, "
        "current_setting('idle_in_transaction_session_timeout') AS idle, current_setting('TimeZone') AS tz"
    )
    assert row is not None
    assert dict(row) == {"who": "codeflow_api", "st": "15s", "idle": "1min", "tz": "UTC"}


@pytest.mark.parametrize(
    "statement",
    [
        "CREATE TABLE intruder (id int)",
        "CREATE SCHEMA intruder",
        "CREATE INDEX intruder ON users (email)",
        "DROP TABLE repositories",
        "ALTER TABLE users ADD COLUMN intruder int",
        "ALTER TABLE users DROP CONSTRAINT users_email_key",
        "TRUNCATE users",
        "INSERT INTO schema_migrations (version) VALUES ('99999999999999')",
        "DELETE FROM schema_migrations",
        "COMMENT ON TABLE users IS 'intruder'",
    ],
)
async def test_application_role_cannot_change_the_schema(api: asyncpg.Pool, statement: str) -> None:
    with pytest.raises(asyncpg.InsufficientPrivilegeError):
        await api.execute(statement)


async def test_tables_of_later_migrations_are_granted_too(migrated: ScratchServer, api: asyncpg.Pool) -> None:
    owner = migrated.url(user="codeflow_migrator", password="migrator-pw", database=DATABASE)
    connection = await asyncpg.connect(owner)
    try:
        await connection.execute("CREATE TABLE later_table (id int PRIMARY KEY)")
    finally:
        await connection.close()
    try:
        assert await api.fetchval("INSERT INTO later_table VALUES (1) RETURNING id") == 1
        with pytest.raises(asyncpg.InsufficientPrivilegeError):
            await api.execute("DROP TABLE later_table")
    finally:
        await superuser_run(migrated, "DROP TABLE later_table", database=DATABASE)
