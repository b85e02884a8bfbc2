"""Races: constraints decide, exactly one winner, no deadlock."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta

import asyncpg
import pytest

from codeflow import AlreadyExists, Database, NotFound

from .conftest import report

MakeUser = Callable[..., Awaitable[str]]
RACERS = 20


async def test_one_profile_per_user(codeflow_database: Database, make_user: MakeUser) -> None:
    user_id = await make_user()
    results = await asyncio.gather(
        *(
            codeflow_database.profiles.create_user_profile(
                user_id=user_id, github_id=100 + n, username=f"racer{n}"
            )
            for n in range(RACERS)
        ),
        return_exceptions=True,
    )
    winners = [r for r in results if not isinstance(r, BaseException)]
    assert len(winners) == 1
    assert all(isinstance(r, AlreadyExists) for r in results if isinstance(r, BaseException))
    assert await codeflow_database.profiles.get_user_profile(user_id) == winners[0]


async def test_one_owner_per_login_in_any_case(codeflow_database: Database, make_user: MakeUser) -> None:
    users = [await make_user() for _ in range(RACERS)]
    results = await asyncio.gather(
        *(
            codeflow_database.profiles.create_user_profile(
                user_id=user_id, github_id=1 + n, username="OctoCat" if n % 2 else "octocat"
            )
            for n, user_id in enumerate(users)
        ),
        return_exceptions=True,
    )
    assert sum(not isinstance(r, BaseException) for r in results) == 1
    assert all(isinstance(r, AlreadyExists) for r in results if isinstance(r, BaseException))
    assert await codeflow_database.profiles.count_user_profiles() == 1


async def test_one_repository_per_user_and_name(codeflow_database: Database, make_user: MakeUser) -> None:
    user_id = await make_user()
    await codeflow_database.profiles.create_user_profile(user_id=user_id, github_id=7, username="octocat")
    results = await asyncio.gather(
        *(
            codeflow_database.repositories.add_repository(
                user_id,
                github_id=1000 + n,
                name="Hello-World",
                full_name="octocat/Hello-World",
                owner="octocat",
                private=False,
            )
            for n in range(RACERS)
        ),
        return_exceptions=True,
    )
    assert sum(not isinstance(r, BaseException) for r in results) == 1
    assert all(isinstance(r, AlreadyExists) for r in results if isinstance(r, BaseException))
    assert (await codeflow_database.repositories.count_user_repositories(user_id)).total == 1


async def test_repository_added_while_its_profile_is_deleted_finds_no_profile(
    codeflow_database: Database,
    codeflow_pool: asyncpg.Pool,
    codeflow_connection: asyncpg.Connection,
    make_user: MakeUser,
) -> None:
    # The interleaving CI once hit: the profile's delete commits after add_repository
    # has read the profile but before the insert's foreign-key check. The caller must
    # see "no profile" (NotFound), not a foreign-key violation.
    user_id = await make_user()
    await codeflow_database.profiles.create_user_profile(user_id=user_id, github_id=7, username="octocat")
    deleting = codeflow_connection.transaction()
    await deleting.start()
    await codeflow_connection.execute("DELETE FROM user_profiles WHERE user_id = $1", user_id)
    adding = asyncio.create_task(
        codeflow_database.repositories.add_repository(
            user_id, github_id=99, name="late", full_name="octocat/late", owner="octocat", private=False
        )
    )
    async with asyncio.timeout(5):  # until add_repository waits on the deleted row's lock
        while not await codeflow_pool.fetchval(  # noqa: ASYNC110 - polling the server, not a local event
            "SELECT count(*) FROM pg_stat_activity"
            " WHERE wait_event_type = 'Lock' AND query LIKE '%INSERT INTO repositories%'"
        ):
            await asyncio.sleep(0.01)
    await deleting.commit()
    with pytest.raises(NotFound):
        await asyncio.wait_for(adding, 5)


async def test_concurrent_cleanups_with_writes_do_not_deadlock(
    codeflow_database: Database, codeflow_connection: asyncpg.pool.PoolConnectionProxy
) -> None:
    count = 600
    idle = datetime.now(UTC) - timedelta(days=90)
    await codeflow_connection.execute(
        "INSERT INTO users (id) SELECT 'idle' || n FROM generate_series(1, $1) AS n", count
    )
    await codeflow_connection.execute(
        "INSERT INTO user_profiles (user_id, github_id, username, last_active_at)"
        " SELECT 'idle' || n, n, 'idle' || n, $2 FROM generate_series(1, $1) AS n",
        count,
        idle,
    )
    await codeflow_connection.execute(
        "INSERT INTO repositories (user_id, github_id, name, full_name, owner)"
        " SELECT p.id, r, 'r' || r, p.username || '/r' || r, p.username"
        " FROM user_profiles AS p CROSS JOIN generate_series(1, 3) AS r"
    )

    async def writer(n: int) -> str:
        # Writes racing the deletes: they succeed, or find the profile already gone.
        user_id = f"idle{n}"
        try:
            if n % 2:
                await codeflow_database.profiles.update_user_last_active(user_id)
            else:
                await codeflow_database.repositories.add_repository(
                    user_id,
                    github_id=99,
                    name="late",
                    full_name=f"idle{n}/late",
                    owner=f"idle{n}",
                    private=False,
                )
        except NotFound:
            return "gone"
        return "written"

    async with asyncio.timeout(30):  # a deadlock would surface as a timeout (or 40P01)
        outcomes = await asyncio.gather(
            *(codeflow_database.profiles.cleanup_inactive_users(30, batch_size=50) for _ in range(4)),
            *(writer(n) for n in range(1, count + 1)),
        )
    deleted = sum(int(str(n)) for n in outcomes[:4])
    remaining = await codeflow_connection.fetchval("SELECT count(*) FROM user_profiles")
    assert deleted + remaining == count, "each profile is deleted once or kept"
    assert (
        await codeflow_connection.fetchval(
            "SELECT count(*) FROM repositories AS r"
            " LEFT JOIN user_profiles AS p ON p.id = r.user_id WHERE p.id IS NULL"
        )
        == 0
    )
    # Rows a writer held were skipped (SKIP LOCKED), not waited for: the next run takes
    # them, and only the profiles a touch made active again remain.
    await codeflow_database.profiles.cleanup_inactive_users(30)
    stale = await codeflow_connection.fetchval(
        "SELECT count(*) FROM user_profiles WHERE last_active_at < now() - interval '30 days'"
    )
    assert stale == 0
    report("race.cleanup_deleted_by_4_concurrent_calls", deleted)
    report("race.profiles_kept_by_concurrent_touch", remaining)


pytestmark = pytest.mark.integration
