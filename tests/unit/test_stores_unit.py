"""ProfileStore and RepositoryStore logic with the database replaced by a recording fake.

What runs against PostgreSQL is covered by tests/integration; here: which query a
method picks, with which arguments, and what it makes of the answer.
"""

from __future__ import annotations

import logging
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from codeflow import InvalidInput, NotFound, QueryFailed, Settings, Stores
from codeflow.store import Runner, all_queries

NOW = datetime(2026, 1, 1, tzinfo=UTC)


class FakeConnection:
    """Answers fetch/fetchrow/fetchval/execute with queued results; records the SQL and args."""

    def __init__(self, *answers: Any) -> None:
        self.answers = list(answers)
        self.calls: list[tuple[str, tuple[Any, ...]]] = []

    async def _answer(self, sql: str, *args: Any) -> Any:
        self.calls.append((sql, args))
        return self.answers.pop(0)

    fetch = fetchrow = fetchval = execute = _answer

    def query_names(self) -> list[str]:
        by_sql = {query.sql: name for name, query in all_queries().items()}
        return [by_sql[sql] for sql, _ in self.calls]


def stores(*answers: Any, **changes: Any) -> tuple[Stores, FakeConnection]:
    """The stores on a runner whose one connection is the fake (as inside a transaction),
    with the default settings but for `changes`."""
    fake = FakeConnection(*answers)
    settings = Settings(database_url="postgresql://app@db.invalid/codeflow", **changes)
    runner = Runner(settings, connection=fake)  # type: ignore[arg-type]
    return Stores(runner), fake


def profile_row(**overrides: Any) -> dict[str, Any]:
    row = {
        "id": uuid.uuid4(),
        "user_id": "u1",
        "github_id": 1,
        "username": "octocat",
        "last_active_at": NOW,
        "created_at": NOW,
        "updated_at": NOW,
    }
    return row | overrides


async def test_get_user_profile_maps_no_row_to_not_found() -> None:
    db, fake = stores(None)
    with pytest.raises(NotFound, match="user profile"):
        await db.profiles.get_user_profile("u1")
    assert fake.query_names() == ["get_user_profile"]
    assert fake.calls[0][1] == ("u1",)


async def test_rows_become_models_with_aware_datetimes() -> None:
    db, _ = stores(profile_row())
    profile = await db.profiles.get_user_profile("u1")
    assert profile.username == "octocat" and profile.created_at.tzinfo is not None


async def test_naive_datetimes_from_a_row_are_refused() -> None:
    db, _ = stores(profile_row(created_at=NOW.replace(tzinfo=None)))
    with pytest.raises(QueryFailed, match=r"does not fit UserProfile \(fields: created_at\)"):
        await db.profiles.get_user_profile("u1")


async def test_update_last_active_passes_resolution_and_maps_false_to_not_found() -> None:
    db, fake = stores(True, False)
    await db.profiles.update_user_last_active("u1")
    assert fake.calls[0][1] == ("u1", timedelta(seconds=60))
    with pytest.raises(NotFound):
        await db.profiles.update_user_last_active("u1")


async def test_cleanup_loops_until_a_short_batch() -> None:
    db, fake = stores(10, 10, 3)
    assert await db.profiles.cleanup_inactive_users(30, batch_size=10) == 23
    assert fake.query_names() == ["delete_inactive_user_profiles"] * 3
    # Days and batch size only: the database computes the cutoff from its own clock.
    assert all(args == (30, 10) for _, args in fake.calls)


@pytest.mark.parametrize(
    "call",
    [
        lambda s: s.profiles.create_user_profile(user_id="", github_id=1, username="a"),
        lambda s: s.profiles.create_user_profile(user_id="u\x00", github_id=1, username="a"),
        lambda s: s.profiles.get_user_profile_by_github_id(-5),
        lambda s: s.profiles.get_user_profile_by_username("nul\x00"),
        lambda s: s.repositories.get_repository("u1", repository_id="not-a-uuid"),
        lambda s: s.repositories.update_repository("u1", repository_id=uuid.uuid4(), is_active="yes"),
        lambda s: s.repositories.verify_repository_access("u1", private_by_github_id={1: "yes"}),
        lambda s: s.repositories.verify_repository_access("u1", private_by_github_id={-1: True}),
        lambda s: s.repositories.verify_repository_access("u1", private_by_github_id=[1]),
        lambda s: s.repositories.verify_repository_access("", private_by_github_id={}),
        lambda s: s.repositories.add_repository(
            "u1", github_id=1, name="r", full_name="o/other", owner="o", private=True
        ),
        lambda s: s.repositories.add_repository(
            "u1", github_id=1, name="r", full_name="o/r", owner="o", private=1
        ),
        lambda s: s.repositories.add_repository(
            "", github_id=1, name="r", full_name="o/r", owner="o", private=True
        ),
        lambda s: s.profiles.cleanup_inactive_users(True),
    ],
)
async def test_invalid_input_never_reaches_sql(call: Any) -> None:
    db, fake = stores()
    with pytest.raises(InvalidInput):
        await call(db)
    assert fake.calls == []


async def test_add_repository_sends_the_fields() -> None:
    db, fake = stores(None)
    with pytest.raises(NotFound, match="user profile"):
        await db.repositories.add_repository(
            "u1", github_id=5, name="r", full_name="o/r", owner="o", private=True
        )
    assert fake.query_names() == ["create_repository"]
    assert fake.calls[0][1] == ("u1", 5, "r", "o/r", "o", True, True)


async def test_verify_repository_access_sends_one_row_per_github_id() -> None:
    db, fake = stores(2)
    assert await db.repositories.verify_repository_access("u1", private_by_github_id={7: False, 8: True}) == 2
    assert fake.query_names() == ["verify_repository_access"]
    assert fake.calls[0][1] == ([7, 8], [False, True], "u1")
    for listed in ({"7": True}, {True: True}, {7: "yes"}):
        with pytest.raises(InvalidInput):
            await db.repositories.verify_repository_access("u1", private_by_github_id=listed)  # type: ignore[arg-type]
    db, fake = stores()
    assert await db.repositories.verify_repository_access("u1", private_by_github_id={}) == 0
    assert fake.calls == [], "nothing listed: no statement"


async def test_statements_are_logged_by_name_without_values(caplog: pytest.LogCaptureFixture) -> None:
    db, _ = stores(profile_row())
    with caplog.at_level(logging.DEBUG, logger="codeflow.sql"):
        await db.profiles.get_user_profile("secret-user-id")
    assert "get_user_profile" in caplog.text
    assert "secret-user-id" not in caplog.text


async def test_slow_statements_are_logged_at_warning(caplog: pytest.LogCaptureFixture) -> None:
    db, _ = stores(profile_row(), db_slow_query_ms=0.0)
    with caplog.at_level(logging.WARNING, logger="codeflow.sql"):
        await db.profiles.get_user_profile("u1")
    assert [record.levelno for record in caplog.records] == [logging.WARNING]
    assert "slow query get_user_profile" in caplog.text
