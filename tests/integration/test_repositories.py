"""RepositoryStore (`Database.repositories`) operations on a real, migrated PostgreSQL."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Awaitable, Callable
from functools import partial
from typing import Any

import asyncpg
import pytest

from codeflow import AlreadyExists, Database, InvalidInput, NotFound, QueryFailed

MakeUser = Callable[..., Awaitable[str]]


def repo(
    github_id: int = 1296269,
    full_name: str = "octocat/Hello-World",
    *,
    private: bool = False,
    **extra: Any,
) -> dict[str, Any]:
    """`add_repository` arguments for GitHub's `owner/name`."""
    owner, name = full_name.split("/")
    return {
        "github_id": github_id,
        "name": name,
        "full_name": full_name,
        "owner": owner,
        "private": private,
        **extra,
    }


@pytest.fixture
async def user_id(codeflow_database: Database, make_user: MakeUser) -> str:
    user_id = await make_user()
    await codeflow_database.profiles.create_user_profile(
        user_id=user_id, github_id=583231, username="octocat"
    )
    return user_id


async def test_add_and_read_back_by_every_key(codeflow_database: Database, user_id: str) -> None:
    added = await codeflow_database.repositories.add_repository(user_id, **repo())
    assert added.user_id == user_id, "user_id is the Auth.js user, not the profile"
    assert added.is_active
    assert await codeflow_database.repositories.get_repository(user_id, repository_id=added.id) == added
    assert await codeflow_database.repositories.get_repository(user_id, repository_id=str(added.id)) == added
    assert (
        await codeflow_database.repositories.get_repository_by_github_id(user_id, github_id=1296269) == added
    )
    assert (
        await codeflow_database.repositories.get_repository_by_full_name(
            user_id, full_name="OCTOCAT/hello-world"
        )
        == added
    )
    assert await codeflow_database.repositories.get_user_repositories(user_id) == [added]


async def test_listing_is_ordered_and_filters_inactive(codeflow_database: Database, user_id: str) -> None:
    b = await codeflow_database.repositories.add_repository(user_id, **repo(2, "octocat/b"))
    a = await codeflow_database.repositories.add_repository(user_id, **repo(1, "octocat/a", is_active=False))
    assert await codeflow_database.repositories.get_user_repositories(user_id) == [a, b]
    assert await codeflow_database.repositories.get_user_repositories(user_id, active_only=True) == [b]
    counts = await codeflow_database.repositories.count_user_repositories(user_id)
    assert (counts.total, counts.active) == (2, 1)


async def test_user_without_profile(codeflow_database: Database, make_user: MakeUser) -> None:
    bare = await make_user()
    assert await codeflow_database.repositories.get_user_repositories(bare) == []
    with pytest.raises(NotFound):
        await codeflow_database.repositories.add_repository(bare, **repo())
    with pytest.raises(NotFound):
        await codeflow_database.repositories.count_user_repositories(bare)


@pytest.mark.parametrize(
    ("second", "constraint"),
    [
        (repo(1296269, "octocat/renamed"), "repositories_user_id_github_id_key"),
        (repo(99, "OctoCat/HELLO-WORLD"), "repositories_user_id_full_name_key"),
    ],
)
async def test_monitoring_one_repository_twice_is_refused(
    codeflow_database: Database, user_id: str, second: dict[str, Any], constraint: str
) -> None:
    await codeflow_database.repositories.add_repository(user_id, **repo())
    with pytest.raises(AlreadyExists) as caught:
        await codeflow_database.repositories.add_repository(user_id, **second)
    assert caught.value.constraint == constraint


async def test_two_users_may_monitor_the_same_repository(
    codeflow_database: Database, user_id: str, make_user: MakeUser
) -> None:
    other = await make_user()
    await codeflow_database.profiles.create_user_profile(user_id=other, github_id=2, username="hubot")
    mine = await codeflow_database.repositories.add_repository(user_id, **repo())
    theirs = await codeflow_database.repositories.add_repository(other, **repo())
    assert mine.id != theirs.id
    assert (
        await codeflow_database.repositories.get_repository_by_github_id(other, github_id=1296269)
    ).user_id == other


async def test_concurrent_adds_of_one_repository_have_one_winner(
    codeflow_database: Database, user_id: str
) -> None:
    results = await asyncio.gather(
        *(codeflow_database.repositories.add_repository(user_id, **repo()) for _ in range(10)),
        return_exceptions=True,
    )
    winners = [result for result in results if not isinstance(result, BaseException)]
    assert len(winners) == 1
    assert all(isinstance(result, AlreadyExists) for result in results if isinstance(result, BaseException))
    assert len(await codeflow_database.repositories.get_user_repositories(user_id)) == 1


async def test_github_ids_above_int4(codeflow_database: Database, user_id: str) -> None:
    added = await codeflow_database.repositories.add_repository(user_id, **repo(2**40, "github/linguist"))
    assert (
        await codeflow_database.repositories.get_repository_by_github_id(user_id, github_id=2**40)
    ).id == added.id


async def test_update_and_delete(codeflow_database: Database, user_id: str) -> None:
    added = await codeflow_database.repositories.add_repository(user_id, **repo())
    paused = await codeflow_database.repositories.update_repository(
        user_id, repository_id=added.id, is_active=False
    )
    assert not paused.is_active
    assert paused.updated_at > added.updated_at
    await codeflow_database.repositories.delete_repository(user_id, repository_id=added.id)
    with pytest.raises(NotFound):
        await codeflow_database.repositories.get_repository(user_id, repository_id=added.id)
    with pytest.raises(NotFound):
        await codeflow_database.repositories.delete_repository(user_id, repository_id=added.id)
    with pytest.raises(NotFound):
        await codeflow_database.repositories.update_repository(
            user_id, repository_id=uuid.uuid4(), is_active=True
        )


async def test_another_users_repository_is_not_found_and_left_alone(
    codeflow_database: Database,
    codeflow_connection: asyncpg.Connection,
    user_id: str,
    make_user: MakeUser,
) -> None:
    """Holding a repository's UUID is not enough to read, pause or delete it: to any
    other user it does not exist, even one who monitors the same GitHub repository."""
    mine = await codeflow_database.repositories.add_repository(user_id, **repo())
    other = await make_user()
    await codeflow_database.profiles.create_user_profile(user_id=other, github_id=2, username="hubot")
    theirs = await codeflow_database.repositories.add_repository(other, **repo())
    no_profile = await make_user()
    missing = uuid.uuid4()
    for stranger in (other, no_profile):
        attempts: dict[str, Callable[..., Awaitable[object]]] = {
            "get": partial(codeflow_database.repositories.get_repository, stranger),
            "update": partial(codeflow_database.repositories.update_repository, stranger, is_active=False),
            "delete": partial(codeflow_database.repositories.delete_repository, stranger),
        }
        for name, attempt in attempts.items():
            with pytest.raises(NotFound) as foreign:
                await attempt(repository_id=mine.id)
            with pytest.raises(NotFound) as absent:
                await attempt(repository_id=missing)
            assert str(foreign.value) == str(absent.value), f"{name}: indistinguishable from a missing one"
    assert await codeflow_database.repositories.get_repository(user_id, repository_id=mine.id) == mine, (
        "unchanged"
    )
    assert await codeflow_database.repositories.get_repository(other, repository_id=theirs.id) == theirs
    assert await codeflow_connection.fetchval("SELECT count(*) FROM repositories") == 2


async def test_add_repository_records_visibility_and_verification(
    codeflow_database: Database, user_id: str
) -> None:
    public = await codeflow_database.repositories.add_repository(user_id, **repo(1, "octocat/public"))
    private = await codeflow_database.repositories.add_repository(
        user_id, **repo(2, "octocat/secret", private=True)
    )
    assert (public.private, private.private) == (False, True)
    # The caller has just checked on GitHub: verified in the same transaction as the insert.
    assert private.access_verified_at == private.created_at
    assert public.access_verified_at == public.created_at


async def test_add_repository_needs_githubs_private_flag(
    codeflow_database: Database, codeflow_connection: asyncpg.Connection, user_id: str
) -> None:
    repositories = codeflow_database.repositories
    with pytest.raises(TypeError, match="private"):
        await repositories.add_repository(user_id, github_id=1, name="a", full_name="b/a", owner="b")  # type: ignore[call-arg]
    with pytest.raises(InvalidInput, match="private"):
        await repositories.add_repository(
            user_id,
            github_id=1,
            name="a",
            full_name="b/a",
            owner="b",
            private="false",  # type: ignore[arg-type]
        )
    assert await codeflow_connection.fetchval("SELECT count(*) FROM repositories") == 0


async def test_verify_repository_access_renews_the_users_rows_and_corrects_everyones_flag(
    codeflow_database: Database,
    codeflow_connection: asyncpg.Connection,
    user_id: str,
    make_user: MakeUser,
) -> None:
    listed = await codeflow_database.repositories.add_repository(
        user_id, **repo(1, "octocat/listed", private=True)
    )
    unlisted = await codeflow_database.repositories.add_repository(
        user_id, **repo(2, "octocat/unlisted", private=True)
    )
    other = await make_user()
    await codeflow_database.profiles.create_user_profile(user_id=other, github_id=2, username="hubot")
    theirs = await codeflow_database.repositories.add_repository(
        other, **repo(1, "octocat/listed", private=True)
    )
    await codeflow_connection.execute(
        "UPDATE repositories SET access_verified_at = now() - interval '3 days'"
    )

    # GitHub lists 1 (now public) and 3, which this user does not monitor.
    touched = await codeflow_database.repositories.verify_repository_access(
        user_id, private_by_github_id={1: False, 3: True}
    )
    assert touched == 1
    after = await codeflow_database.repositories.get_repository(user_id, repository_id=listed.id)
    assert after.private is False, "GitHub's flag replaces the stored one"
    assert after.access_verified_at is not None
    assert listed.access_verified_at is not None and after.access_verified_at > listed.access_verified_at
    old = await codeflow_database.repositories.get_repository(user_id, repository_id=unlisted.id)
    assert old.private and old.access_verified_at is not None
    assert old.access_verified_at < after.access_verified_at, "an unlisted repository is left alone"
    their_row = await codeflow_database.repositories.get_repository(other, repository_id=theirs.id)
    assert not their_row.private, "the private flag is the repository's: every user's row takes it"
    assert their_row.access_verified_at is not None
    assert their_row.access_verified_at < after.access_verified_at, "another user's row is not verified"
    assert (
        await codeflow_database.repositories.verify_repository_access(user_id, private_by_github_id={}) == 0
    )
    assert (
        await codeflow_database.repositories.verify_repository_access(
            await make_user(), private_by_github_id={1: True}
        )
        == 0
    )


@pytest.mark.parametrize("bad_id", ["not-a-uuid", "", 42])
async def test_malformed_repository_ids_are_invalid_input(
    codeflow_database: Database, bad_id: object
) -> None:
    with pytest.raises(InvalidInput):
        await codeflow_database.repositories.get_repository("u", repository_id=bad_id)  # type: ignore[arg-type]


async def test_add_repository_rejects_inconsistent_names(
    codeflow_database: Database, codeflow_connection: asyncpg.Connection, user_id: str
) -> None:
    add = partial(codeflow_database.repositories.add_repository, user_id, private=False)
    with pytest.raises(InvalidInput, match="owner/name"):
        await add(github_id=1, name="a", full_name="b/c", owner="b")
    with pytest.raises(InvalidInput, match="owner/name"):  # exactly, as the CHECK compares
        await add(github_id=1, name="Hello", full_name="octocat/hello", owner="Octocat")
    with pytest.raises(InvalidInput):
        await add(github_id=-1, name="a", full_name="b/a", owner="b")
    assert await codeflow_connection.fetchval("SELECT count(*) FROM repositories") == 0


async def test_check_constraints_back_the_models(
    codeflow_connection: asyncpg.Connection, user_id: str
) -> None:
    """Writers that bypass the store still cannot store a malformed repository."""
    profile_id = await codeflow_connection.fetchval(
        "SELECT id FROM user_profiles WHERE user_id = $1", user_id
    )
    with pytest.raises(asyncpg.CheckViolationError):
        await codeflow_connection.execute(
            "INSERT INTO repositories (user_id, github_id, name, full_name, owner)"
            " VALUES ($1, 1, 'a', 'x/b', 'x')",
            profile_id,
        )


async def test_transaction_commits_or_rolls_back_together(codeflow_database: Database, user_id: str) -> None:
    with pytest.raises(AlreadyExists):
        async with codeflow_database.transaction() as tx:
            await tx.repositories.add_repository(user_id, **repo(1, "octocat/one"))
            await tx.repositories.add_repository(user_id, **repo(1, "octocat/dup"))
    assert await codeflow_database.repositories.get_user_repositories(user_id) == []

    async with codeflow_database.transaction() as tx:
        first = await tx.repositories.add_repository(user_id, **repo(1, "octocat/one"))
        async with tx.transaction() as nested:
            await nested.repositories.update_repository(user_id, repository_id=first.id, is_active=False)
    assert not (
        await codeflow_database.repositories.get_repository(user_id, repository_id=first.id)
    ).is_active


async def test_a_transactions_stores_refuse_calls_after_its_block(
    codeflow_database: Database, user_id: str
) -> None:
    """A programming error, reported as one: not a `DatabaseUnavailable` a caller would
    retry (before: asyncpg's "released back to the pool", read as a lost connection)."""
    async with codeflow_database.transaction() as tx:
        async with tx.transaction() as savepoint:
            await savepoint.profiles.count_user_profiles()
        with pytest.raises(QueryFailed, match="transaction block has ended"):
            await savepoint.profiles.count_user_profiles()
        await tx.profiles.count_user_profiles()
    with pytest.raises(QueryFailed, match="transaction block has ended"):
        await tx.repositories.get_user_repositories(user_id)


async def test_a_failure_caught_inside_a_transaction_is_not_committed_silently(
    codeflow_database: Database, user_id: str
) -> None:
    """PostgreSQL answers COMMIT in a failed transaction with ROLLBACK, not an error."""
    with pytest.raises(QueryFailed, match="transaction rolled back") as caught:
        async with codeflow_database.transaction() as tx:
            await tx.repositories.add_repository(user_id, **repo(1, "octocat/kept"))
            with pytest.raises(AlreadyExists):
                await tx.repositories.add_repository(user_id, **repo(1, "octocat/dup"))
    assert caught.value.sqlstate == "25P02"
    assert await codeflow_database.repositories.get_user_repositories(user_id) == []


async def test_a_failed_savepoint_rolls_back_alone(codeflow_database: Database, user_id: str) -> None:
    async with codeflow_database.transaction() as tx:
        kept = await tx.repositories.add_repository(user_id, **repo(1, "octocat/kept"))
        with pytest.raises(AlreadyExists):
            async with tx.transaction() as nested:
                await nested.repositories.add_repository(user_id, **repo(2, "octocat/undone"))
                await nested.repositories.add_repository(user_id, **repo(1, "octocat/dup"))
    assert await codeflow_database.repositories.get_user_repositories(user_id) == [kept]
