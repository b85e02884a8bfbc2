"""DatabaseService repository operations on a real, migrated PostgreSQL."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Awaitable, Callable
from typing import Any

import asyncpg
import pytest

from codeflow import AlreadyExists, DatabaseService, InvalidInput, NotFound, QueryFailed, RepositoryData

MakeUser = Callable[..., Awaitable[str]]


def repo(github_id: int = 1296269, full_name: str = "octocat/Hello-World", **extra: Any) -> RepositoryData:
    owner, name = full_name.split("/")
    return RepositoryData(github_id=github_id, name=name, full_name=full_name, owner=owner, **extra)


@pytest.fixture
async def user_id(codeflow_service: DatabaseService, make_user: MakeUser) -> str:
    user_id = await make_user()
    await codeflow_service.create_user_profile(user_id=user_id, github_id=583231, username="octocat")
    return user_id


async def test_add_and_read_back_by_every_key(codeflow_service: DatabaseService, user_id: str) -> None:
    added = await codeflow_service.add_repository(user_id, repo())
    assert added.user_id == user_id, "user_id is the Auth.js user, not the profile"
    assert added.is_active
    assert await codeflow_service.get_repository(added.id) == added
    assert await codeflow_service.get_repository(str(added.id)) == added
    assert await codeflow_service.get_repository_by_github_id(user_id, 1296269) == added
    assert await codeflow_service.get_repository_by_full_name(user_id, "OCTOCAT/hello-world") == added
    assert await codeflow_service.get_user_repositories(user_id) == [added]


async def test_listing_is_ordered_and_filters_inactive(
    codeflow_service: DatabaseService, user_id: str
) -> None:
    b = await codeflow_service.add_repository(user_id, repo(2, "octocat/b"))
    a = await codeflow_service.add_repository(user_id, repo(1, "octocat/a", is_active=False))
    assert await codeflow_service.get_user_repositories(user_id) == [a, b]
    assert await codeflow_service.get_user_repositories(user_id, active_only=True) == [b]
    counts = await codeflow_service.count_user_repositories(user_id)
    assert (counts.total, counts.active) == (2, 1)


async def test_user_without_profile(codeflow_service: DatabaseService, make_user: MakeUser) -> None:
    bare = await make_user()
    assert await codeflow_service.get_user_repositories(bare) == []
    with pytest.raises(NotFound):
        await codeflow_service.add_repository(bare, repo())
    with pytest.raises(NotFound):
        await codeflow_service.count_user_repositories(bare)


@pytest.mark.parametrize(
    ("second", "constraint"),
    [
        (repo(1296269, "octocat/renamed"), "repositories_user_id_github_id_key"),
        (repo(99, "OctoCat/HELLO-WORLD"), "repositories_user_id_full_name_key"),
    ],
)
async def test_monitoring_one_repository_twice_is_refused(
    codeflow_service: DatabaseService, user_id: str, second: RepositoryData, constraint: str
) -> None:
    await codeflow_service.add_repository(user_id, repo())
    with pytest.raises(AlreadyExists) as caught:
        await codeflow_service.add_repository(user_id, second)
    assert caught.value.constraint == constraint


async def test_two_users_may_monitor_the_same_repository(
    codeflow_service: DatabaseService, user_id: str, make_user: MakeUser
) -> None:
    other = await make_user()
    await codeflow_service.create_user_profile(user_id=other, github_id=2, username="hubot")
    mine = await codeflow_service.add_repository(user_id, repo())
    theirs = await codeflow_service.add_repository(other, repo())
    assert mine.id != theirs.id
    assert (await codeflow_service.get_repository_by_github_id(other, 1296269)).user_id == other


async def test_concurrent_adds_of_one_repository_have_one_winner(
    codeflow_service: DatabaseService, user_id: str
) -> None:
    results = await asyncio.gather(
        *(codeflow_service.add_repository(user_id, repo()) for _ in range(10)), return_exceptions=True
    )
    winners = [result for result in results if not isinstance(result, BaseException)]
    assert len(winners) == 1
    assert all(isinstance(result, AlreadyExists) for result in results if isinstance(result, BaseException))
    assert len(await codeflow_service.get_user_repositories(user_id)) == 1


async def test_github_ids_above_int4(codeflow_service: DatabaseService, user_id: str) -> None:
    added = await codeflow_service.add_repository(user_id, repo(2**40, "github/linguist"))
    assert (await codeflow_service.get_repository_by_github_id(user_id, 2**40)).id == added.id


async def test_update_and_delete(codeflow_service: DatabaseService, user_id: str) -> None:
    added = await codeflow_service.add_repository(user_id, repo())
    paused = await codeflow_service.update_repository(added.id, is_active=False)
    assert not paused.is_active
    assert paused.updated_at > added.updated_at
    await codeflow_service.delete_repository(added.id)
    with pytest.raises(NotFound):
        await codeflow_service.get_repository(added.id)
    with pytest.raises(NotFound):
        await codeflow_service.delete_repository(added.id)
    with pytest.raises(NotFound):
        await codeflow_service.update_repository(uuid.uuid4(), is_active=True)


@pytest.mark.parametrize("bad_id", ["not-a-uuid", "", 42])
async def test_malformed_repository_ids_are_invalid_input(
    codeflow_service: DatabaseService, bad_id: object
) -> None:
    with pytest.raises(InvalidInput):
        await codeflow_service.get_repository(bad_id)  # type: ignore[arg-type]


def test_repository_data_rejects_inconsistent_names() -> None:
    with pytest.raises(ValueError, match="owner/name"):
        RepositoryData(github_id=1, name="a", full_name="b/c", owner="b")
    with pytest.raises(ValueError, match="owner/name"):  # exactly, as the CHECK compares
        RepositoryData(github_id=1, name="Hello", full_name="octocat/hello", owner="Octocat")
    with pytest.raises(ValueError):
        RepositoryData(github_id=-1, name="a", full_name="b/a", owner="b")


async def test_check_constraints_back_the_models(
    codeflow_connection: asyncpg.Connection, user_id: str
) -> None:
    """Writers that bypass the service still cannot store a malformed repository."""
    profile_id = await codeflow_connection.fetchval(
        "SELECT id FROM user_profiles WHERE user_id = $1", user_id
    )
    with pytest.raises(asyncpg.CheckViolationError):
        await codeflow_connection.execute(
            "INSERT INTO repositories (user_id, github_id, name, full_name, owner)"
            " VALUES ($1, 1, 'a', 'x/b', 'x')",
            profile_id,
        )


async def test_transaction_commits_or_rolls_back_together(
    codeflow_service: DatabaseService, user_id: str
) -> None:
    with pytest.raises(AlreadyExists):
        async with codeflow_service.transaction() as tx:
            await tx.add_repository(user_id, repo(1, "octocat/one"))
            await tx.add_repository(user_id, repo(1, "octocat/dup"))
    assert await codeflow_service.get_user_repositories(user_id) == []

    async with codeflow_service.transaction() as tx:
        first = await tx.add_repository(user_id, repo(1, "octocat/one"))
        async with tx.transaction() as nested:
            await nested.update_repository(first.id, is_active=False)
    assert not (await codeflow_service.get_repository(first.id)).is_active


async def test_a_failure_caught_inside_a_transaction_is_not_committed_silently(
    codeflow_service: DatabaseService, user_id: str
) -> None:
    """PostgreSQL answers COMMIT in a failed transaction with ROLLBACK, not an error."""
    with pytest.raises(QueryFailed, match="transaction rolled back") as caught:
        async with codeflow_service.transaction() as tx:
            await tx.add_repository(user_id, repo(1, "octocat/kept"))
            with pytest.raises(AlreadyExists):
                await tx.add_repository(user_id, repo(1, "octocat/dup"))
    assert caught.value.sqlstate == "25P02"
    assert await codeflow_service.get_user_repositories(user_id) == []


async def test_a_failed_savepoint_rolls_back_alone(codeflow_service: DatabaseService, user_id: str) -> None:
    async with codeflow_service.transaction() as tx:
        kept = await tx.add_repository(user_id, repo(1, "octocat/kept"))
        with pytest.raises(AlreadyExists):
            async with tx.transaction() as nested:
                await nested.add_repository(user_id, repo(2, "octocat/undone"))
                await nested.add_repository(user_id, repo(1, "octocat/dup"))
    assert await codeflow_service.get_user_repositories(user_id) == [kept]
