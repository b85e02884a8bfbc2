"""pytest plugin: a migrated, isolated PostgreSQL database per test session.

Enable it in a service's `conftest.py` (install `codeflow-db[testing]`)::

    pytest_plugins = ["codeflow.testing"]

The server is chosen as `make test` chooses it: `TEST_DATABASE_URL` if set, else
the Docker `postgres-test` service, else an embedded PostgreSQL in `.pgdata/` of the
project folder, on a port derived from that folder's path. An embedded server this
session started is stopped when the session ends; one that was running already (say,
`codeflow-db db-up`'s) is left running.

The database is `codeflow_test`, or the one TEST_DATABASE_URL names, or the one the
`CODEFLOW_TEST_DATABASE` variable or the `codeflow_test_database` ini option names
(variable first). It is dropped, created and migrated once per session, so its name
must have a `test` word; every test that uses `codeflow_pool` or `codeflow_database`
starts from empty tables (TRUNCATE), so tests may use several connections and commit
freely.

Fixtures: `codeflow_database_url` (session), `codeflow_settings`, `codeflow_pool`,
`codeflow_database` (a `codeflow.Database` open on it), `codeflow_connection` (a raw
asyncpg connection for setup and assertions). The async ones are pytest-asyncio
fixtures, so they work in its strict mode as in auto mode; their event loop is the
test's (function scope).
"""

from __future__ import annotations

import asyncio
import os
import re
from collections.abc import AsyncIterator, Iterator

import asyncpg
import pytest
import pytest_asyncio

from codeflow import dburl
from codeflow.database import Database
from codeflow.pool import create_pool
from codeflow.settings import Settings, load_settings
from codeflow.store import Connection
from codeflow.tools import localdb, migrate

INI_TEST_DATABASE = "codeflow_test_database"


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addini(
        INI_TEST_DATABASE,
        f"the test database codeflow.testing drops, creates and migrates ({localdb.TEST_DATABASE_VARIABLE} "
        "overrides it); its name must have a `test` word",
        default="",
    )


@pytest.fixture(scope="session")
def codeflow_database_url(request: pytest.FixtureRequest) -> Iterator[str]:
    """URL of the test database, created afresh and migrated for this session.

    Recreated rather than migrated in place: a migration edited after it was applied
    (normal on a branch) would otherwise leave a schema that no file describes.
    """
    name = os.environ.get(localdb.TEST_DATABASE_VARIABLE) or str(request.config.getini(INI_TEST_DATABASE))
    target = localdb.select("test", test_database=name or None)
    database = dburl.parse(target.url).database or ""
    if not re.search(r"(^|_)test(_|$)", database):
        raise pytest.UsageError(
            f"codeflow.testing drops and recreates the test database, and {database!r} does not "
            "look like one: TEST_DATABASE_URL, CODEFLOW_TEST_DATABASE or the codeflow_test_database "
            "ini option must name a database with a `test` word in its name (codeflow_test, "
            "test_myservice, ...)"
        )
    target, started = localdb.start("test", test_database=name or None)
    try:

        async def prepare() -> None:
            await migrate.drop_database(target.url)
            await migrate.ensure_database(target.url)
            await migrate.migrate(target.url)

        asyncio.run(prepare())
        yield target.url
    finally:
        if started is not None:
            started.stop()


@pytest.fixture(scope="session")
def _codeflow_tables(codeflow_database_url: str) -> str:
    """The TRUNCATE statement that empties every application table."""

    async def tables() -> list[str]:
        connection = await asyncpg.connect(codeflow_database_url)
        try:
            rows = await connection.fetch(
                "SELECT format('%I.%I', schemaname, tablename) AS name FROM pg_tables "
                "WHERE schemaname = 'public' AND tablename <> 'schema_migrations' ORDER BY 1"
            )
        finally:
            await connection.close()
        return [row["name"] for row in rows]

    return f"TRUNCATE {', '.join(asyncio.run(tables()))} RESTART IDENTITY CASCADE"


@pytest.fixture
def codeflow_settings(codeflow_database_url: str) -> Settings:
    """Settings on the test database. What would reach another server or change how the
    test database is reached (a replica, a pooler, IAM, tracing) is pinned off, whatever
    the service's environment or `.env` says."""
    return load_settings(
        database_url=codeflow_database_url,
        database_read_url=None,
        db_transaction_pooler=False,
        db_iam_auth=False,
        db_tracing=False,
        db_pool_min_size=1,
        db_pool_max_size=10,
    )


@pytest_asyncio.fixture
async def codeflow_pool(codeflow_settings: Settings, _codeflow_tables: str) -> AsyncIterator[asyncpg.Pool]:
    """A pool on the test database, whose tables are empty when the test starts."""
    pool = await create_pool(codeflow_settings)
    await pool.execute(_codeflow_tables)
    try:
        yield pool
    finally:
        await pool.close()


@pytest_asyncio.fixture
async def codeflow_database(
    codeflow_pool: asyncpg.Pool, codeflow_settings: Settings
) -> AsyncIterator[Database]:
    """A `Database` open on the test database, whose tables are empty when the test starts."""
    async with Database(codeflow_settings) as database:
        yield database


@pytest_asyncio.fixture
async def codeflow_connection(codeflow_pool: asyncpg.Pool) -> AsyncIterator[Connection]:
    async with codeflow_pool.acquire() as connection:
        yield connection
