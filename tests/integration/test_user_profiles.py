"""ProfileStore (`Database.profiles`) operations on a real, migrated PostgreSQL."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta

import asyncpg
import pytest

from codeflow import (
    AlreadyExists,
    Database,
    InvalidInput,
    NotFound,
    ReferencedRowMissing,
)

MakeUser = Callable[..., Awaitable[str]]


async def test_create_and_get_profile_round_trips(codeflow_database: Database, make_user: MakeUser) -> None:
    user_id = await make_user()
    created = await codeflow_database.profiles.create_user_profile(
        user_id=user_id, github_id=583231, username="Octocat"
    )
    assert created.user_id == user_id
    assert created.github_id == 583231
    assert created.username == "Octocat"
    assert created.created_at.tzinfo is not None and created.created_at.utcoffset() == timedelta(0)
    assert await codeflow_database.profiles.get_user_profile(user_id) == created
    assert await codeflow_database.profiles.get_user_profile_by_github_id(583231) == created
    assert await codeflow_database.profiles.get_user_profile_by_username("octocat") == created
    assert await codeflow_database.profiles.count_user_profiles() == 1


async def test_github_ids_above_int4_fit(codeflow_database: Database, make_user: MakeUser) -> None:
    user_id = await make_user()
    big = 2**31 + 7
    profile = await codeflow_database.profiles.create_user_profile(
        user_id=user_id, github_id=big, username="big"
    )
    assert profile.github_id == big
    assert (await codeflow_database.profiles.get_user_profile_by_github_id(big)).id == profile.id


@pytest.mark.parametrize(
    ("second", "constraint"),
    [
        ({"github_id": 2, "username": "OCTOCAT"}, "user_profiles_username_key"),
        ({"github_id": 1, "username": "other"}, "user_profiles_github_id_key"),
    ],
)
async def test_duplicate_profiles_are_refused_by_constraint(
    codeflow_database: Database, make_user: MakeUser, second: dict[str, object], constraint: str
) -> None:
    await codeflow_database.profiles.create_user_profile(
        user_id=await make_user(), github_id=1, username="octocat"
    )
    with pytest.raises(AlreadyExists) as caught:
        await codeflow_database.profiles.create_user_profile(user_id=await make_user(), **second)  # type: ignore[arg-type]
    assert caught.value.constraint == constraint


async def test_second_profile_for_one_user_is_refused(
    codeflow_database: Database, make_user: MakeUser
) -> None:
    user_id = await make_user()
    await codeflow_database.profiles.create_user_profile(user_id=user_id, github_id=1, username="a")
    with pytest.raises(AlreadyExists) as caught:
        await codeflow_database.profiles.create_user_profile(user_id=user_id, github_id=2, username="b")
    assert caught.value.constraint == "user_profiles_user_id_key"


async def test_profile_for_unknown_user_is_refused(codeflow_database: Database) -> None:
    with pytest.raises(ReferencedRowMissing) as caught:
        await codeflow_database.profiles.create_user_profile(user_id="nobody", github_id=1, username="a")
    assert caught.value.constraint == "user_profiles_user_id_fkey"


async def test_missing_profile_is_not_found(codeflow_database: Database) -> None:
    with pytest.raises(NotFound):
        await codeflow_database.profiles.get_user_profile("nobody")
    with pytest.raises(NotFound):
        await codeflow_database.profiles.get_user_profile_by_github_id(42)
    with pytest.raises(NotFound):
        await codeflow_database.profiles.get_user_profile_by_username("ghost")
    with pytest.raises(NotFound):
        await codeflow_database.profiles.update_user_last_active("nobody")


@pytest.mark.parametrize(
    "fields",
    [
        {"github_id": 0, "username": "ok"},
        {"github_id": 2**63, "username": "ok"},
        {"github_id": 1, "username": "not a login"},
        {"github_id": 1, "username": ""},
        {"github_id": 1, "username": "x" * 40},
    ],
)
async def test_invalid_profile_input_is_rejected_before_sql(
    codeflow_database: Database, make_user: MakeUser, fields: dict[str, object]
) -> None:
    with pytest.raises(InvalidInput):
        await codeflow_database.profiles.create_user_profile(user_id=await make_user(), **fields)  # type: ignore[arg-type]
    assert await codeflow_database.profiles.count_user_profiles() == 0


async def test_concurrent_creation_of_one_profile_has_one_winner(
    codeflow_database: Database, make_user: MakeUser
) -> None:
    user_id = await make_user()
    results = await asyncio.gather(
        *(
            codeflow_database.profiles.create_user_profile(user_id=user_id, github_id=7, username="racer")
            for _ in range(8)
        ),
        return_exceptions=True,
    )
    assert sum(not isinstance(result, BaseException) for result in results) == 1
    assert all(isinstance(result, AlreadyExists) for result in results if isinstance(result, BaseException))


async def test_last_active_moves_only_when_older_than_resolution(
    codeflow_database: Database, codeflow_connection: asyncpg.Connection, make_user: MakeUser
) -> None:
    user_id = await make_user()
    profile = await codeflow_database.profiles.create_user_profile(user_id=user_id, github_id=1, username="a")
    await codeflow_database.profiles.update_user_last_active(user_id)
    fresh = await codeflow_database.profiles.get_user_profile(user_id)
    assert fresh.last_active_at == profile.last_active_at  # within the resolution: no write

    long_ago = datetime(2020, 1, 1, tzinfo=UTC)
    await codeflow_connection.execute("UPDATE user_profiles SET last_active_at = $1", long_ago)
    await codeflow_database.profiles.update_user_last_active(user_id)
    touched = await codeflow_database.profiles.get_user_profile(user_id)
    assert touched.last_active_at > long_ago + timedelta(days=365)
    assert touched.updated_at > profile.updated_at


async def test_updated_at_is_maintained_by_the_database(
    codeflow_database: Database, codeflow_connection: asyncpg.Connection, make_user: MakeUser
) -> None:
    user_id = await make_user()
    await codeflow_database.profiles.create_user_profile(user_id=user_id, github_id=1, username="before")
    await codeflow_connection.execute(
        "UPDATE user_profiles SET updated_at = '2000-01-01Z' WHERE user_id = $1", user_id
    )
    stale = await codeflow_connection.fetchval(
        "SELECT updated_at FROM user_profiles WHERE user_id = $1", user_id
    )
    assert stale.year > 2000, "the trigger overrides whatever a writer sets"
    await codeflow_connection.execute(
        "UPDATE user_profiles SET username = 'after' WHERE user_id = $1", user_id
    )
    assert (await codeflow_database.profiles.get_user_profile(user_id)).updated_at > stale


async def test_cleanup_removes_inactive_profiles_and_their_repositories_in_batches(
    codeflow_database: Database, codeflow_connection: asyncpg.Connection, make_user: MakeUser
) -> None:
    stale_users = [await make_user() for _ in range(7)]
    active_user = await make_user()
    for number, user_id in enumerate([*stale_users, active_user], start=1):
        await codeflow_database.profiles.create_user_profile(
            user_id=user_id, github_id=number, username=f"u{number}"
        )
        await codeflow_database.repositories.add_repository(
            user_id, github_id=number, name="r", full_name=f"o{number}/r", owner=f"o{number}", private=False
        )
    await codeflow_connection.execute(
        "UPDATE user_profiles SET last_active_at = now() - interval '31 days' WHERE user_id = ANY($1)",
        stale_users,
    )
    assert await codeflow_database.profiles.cleanup_inactive_users(30, batch_size=3) == 7
    assert await codeflow_database.profiles.count_user_profiles() == 1
    assert await codeflow_connection.fetchval("SELECT count(*) FROM repositories") == 1
    assert await codeflow_connection.fetchval("SELECT count(*) FROM users") == 8, "Auth.js users stay"
    assert await codeflow_database.profiles.cleanup_inactive_users(30) == 0


async def test_cleanup_rejects_nonsense_arguments(codeflow_database: Database) -> None:
    for days in (-1, 0, 10**6):  # 0 would delete every profile; 10**6 overflows dates
        with pytest.raises(InvalidInput):
            await codeflow_database.profiles.cleanup_inactive_users(days)
    with pytest.raises(InvalidInput):
        await codeflow_database.profiles.cleanup_inactive_users(30, batch_size=0)


async def test_deleting_the_auth_user_cascades_to_profile_and_repositories(
    codeflow_database: Database, codeflow_connection: asyncpg.Connection, make_user: MakeUser
) -> None:
    user_id = await make_user()
    await codeflow_database.profiles.create_user_profile(user_id=user_id, github_id=1, username="a")
    await codeflow_database.repositories.add_repository(
        user_id, github_id=1, name="r", full_name="o/r", owner="o", private=False
    )
    await codeflow_connection.execute("DELETE FROM users WHERE id = $1", user_id)
    assert await codeflow_connection.fetchval("SELECT count(*) FROM user_profiles") == 0
    assert await codeflow_connection.fetchval("SELECT count(*) FROM repositories") == 0
