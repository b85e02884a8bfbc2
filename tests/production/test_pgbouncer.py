"""The stores through a real PgBouncer (Debian's 1.18: no prepared-statement
tracking) in transaction mode, with more clients than server connections."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import asyncpg
import pytest

from codeflow import AlreadyExists, Database, Settings, load_settings
from codeflow.pool import create_pool

from .servers import Bouncer

pytestmark = pytest.mark.integration

USERS = 24
CLIENT_CONNECTIONS = 12


@pytest.fixture
def bouncer_settings(bouncer: Bouncer) -> Settings:
    return load_settings(
        database_url=bouncer.url(),
        db_transaction_pooler=True,
        db_pool_min_size=0,
        db_pool_max_size=CLIENT_CONNECTIONS,
    )


@pytest.fixture
async def bouncer_pool(
    codeflow_pool: asyncpg.Pool, bouncer_settings: Settings
) -> AsyncIterator[asyncpg.Pool]:
    """A package pool through PgBouncer; `codeflow_pool` (direct) has emptied the tables."""
    pool = await create_pool(bouncer_settings)
    try:
        yield pool
    finally:
        await pool.close()


def _repository(github_id: int, name: str) -> dict[str, Any]:
    """`add_repository` arguments."""
    return {
        "github_id": github_id,
        "owner": "octo",
        "name": name,
        "full_name": f"octo/{name}",
        "is_active": True,
        "private": False,
    }


async def _journey(db: Database, make_user: Callable[..., Awaitable[str]], n: int) -> None:
    """What one signed-in user does, as the API would: profile, repositories, a
    transaction that commits, one that rolls back, reads, an update and a delete."""
    user_id = await make_user(f"user-{n}")
    await db.profiles.create_user_profile(user_id=user_id, github_id=1000 + n, username=f"dev{n}")
    first = await db.repositories.add_repository(user_id, **_repository(10_000 + n, "first"))
    async with db.transaction() as tx:
        await tx.repositories.add_repository(user_id, **_repository(20_000 + n, "second"))
        await tx.profiles.update_user_last_active(user_id)
    with pytest.raises(AlreadyExists):
        async with db.transaction() as tx:
            third = _repository(30_000 + n, "third")
            await tx.repositories.add_repository(user_id, **third)
            await tx.repositories.add_repository(user_id, **third)  # rolls both back
    await db.repositories.update_repository(user_id, repository_id=first.id, is_active=False)
    counts = await db.repositories.count_user_repositories(user_id)
    assert (counts.total, counts.active) == (2, 1)
    assert [r.name for r in await db.repositories.get_user_repositories(user_id)] == ["first", "second"]
    assert (await db.profiles.get_user_profile_by_username(f"DEV{n}")).github_id == 1000 + n
    await db.repositories.delete_repository(user_id, repository_id=first.id)


async def test_stores_run_through_pgbouncer_in_transaction_mode(
    bouncer_settings: Settings,
    codeflow_pool: asyncpg.Pool,
    make_user: Callable[..., Awaitable[str]],
) -> None:
    """`codeflow_pool` (direct) has emptied the tables."""
    async with Database(bouncer_settings) as db:
        await asyncio.gather(*(_journey(db, make_user, n) for n in range(USERS)))

        assert await codeflow_pool.fetchval("SELECT count(*) FROM user_profiles") == USERS
        assert await codeflow_pool.fetchval("SELECT count(*) FROM repositories") == USERS
        assert await db.profiles.count_user_profiles() == USERS


async def test_clients_share_fewer_server_connections(bouncer_pool: asyncpg.Pool, bouncer: Bouncer) -> None:
    async def backend_pid() -> int:
        async with bouncer_pool.acquire() as connection, connection.transaction():
            await connection.execute("SELECT pg_sleep(0.02)")
            return int(await connection.fetchval("SELECT pg_backend_pid()"))

    pids = await asyncio.gather(*(backend_pid() for _ in range(3 * CLIENT_CONNECTIONS)))
    assert bouncer_pool.get_size() == CLIENT_CONNECTIONS
    assert len(set(pids)) <= bouncer.pool_size  # PgBouncer really multiplexes


async def test_release_sends_nothing_session_level(bouncer_pool: asyncpg.Pool) -> None:
    """A session-level reset (RESET ALL ...) would run on whichever server connection
    PgBouncer picked; the pooler setting keeps release to the rollback."""
    connection = await bouncer_pool.acquire()
    try:
        await connection.execute("BEGIN")
        await connection.execute("INSERT INTO users (id) VALUES ('abandoned')")
    finally:
        await bouncer_pool.release(connection)
    assert await bouncer_pool.fetchval("SELECT count(*) FROM users WHERE id = 'abandoned'") == 0
    assert await bouncer_pool.fetchval("SELECT current_setting('TimeZone')") == "UTC"


async def test_without_the_setting_named_statements_break(
    bouncer: Bouncer, codeflow_pool: asyncpg.Pool
) -> None:
    """The control: asyncpg's defaults (a statement cache) fail behind PgBouncer 1.18,
    so the passing tests above are owed to DB_TRANSACTION_POOLER."""
    pool = await asyncpg.create_pool(bouncer.url(), min_size=CLIENT_CONNECTIONS, max_size=CLIENT_CONNECTIONS)
    try:
        results = await asyncio.gather(
            *(pool.fetchval(f"SELECT $1::int + {n % 4}", n) for n in range(10 * CLIENT_CONNECTIONS)),
            return_exceptions=True,
        )
    finally:
        await pool.close()
    failures = [r for r in results if isinstance(r, Exception)]
    assert failures, "expected prepared-statement errors without the pooler setting"
    assert all("prepared statement" in str(f) for f in failures), failures[:3]
