"""Bad input, property-based: every public profile and repository store method given hostile values
either round-trips correctly or raises a CodeflowError — never a raw driver error,
never a partial write."""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable
from datetime import datetime
from typing import Any

import asyncpg
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from codeflow import CodeflowError, Database, Repository
from codeflow.models import MAX_LENGTH
from codeflow.queries import run
from codeflow.store import all_queries

MakeUser = Callable[..., Awaitable[str]]

SQLISH = st.sampled_from(
    ["'; DROP TABLE users; --", "' OR '1'='1", "$1", "%s", ":user_id", "\\", "NULL", "😀/😀", "a" * 300]
)
TEXT = st.one_of(
    st.text(max_size=50),
    st.text(alphabet=st.sampled_from("ab\x00\u202e\U0001f600/-._"), max_size=20),
    st.just(""),
    st.just("x" * 100_000),
    SQLISH,
)
INTS = st.one_of(st.integers(min_value=-(2**70), max_value=2**70), st.sampled_from([0, -1, 2**63 - 1, 2**63]))
ANY = st.one_of(TEXT, INTS, st.none(), st.booleans(), st.floats(allow_nan=True), st.datetimes(), st.uuids())
HYPOTHESIS = settings(
    max_examples=60,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)

TABLES = ("users", "user_profiles", "repositories")


async def _counts(connection: asyncpg.pool.PoolConnectionProxy) -> tuple[int, ...]:
    return tuple([int(await connection.fetchval(f"SELECT count(*) FROM {table}")) for table in TABLES])


async def _call_safely(call: Awaitable[Any]) -> Any:
    """The call's result, or the CodeflowError it raised; anything else fails the test."""
    try:
        return await call
    except CodeflowError as exc:
        return exc


@HYPOTHESIS
@given(user_id=TEXT, github_id=INTS, username=TEXT)
async def test_create_user_profile(
    codeflow_database: Database,
    codeflow_connection: asyncpg.pool.PoolConnectionProxy,
    user_id: str,
    github_id: int,
    username: str,
) -> None:
    # Only a users.id the front end could have written exists to point at.
    if "\x00" not in user_id and len(user_id) <= MAX_LENGTH["users.id"]:
        await codeflow_connection.execute(
            "INSERT INTO users (id) VALUES ($1) ON CONFLICT DO NOTHING", user_id
        )
    before = await _counts(codeflow_connection)
    outcome = await _call_safely(
        codeflow_database.profiles.create_user_profile(
            user_id=user_id, github_id=github_id, username=username
        )
    )
    if isinstance(outcome, CodeflowError):
        assert await _counts(codeflow_connection) == before, "a refused write changed something"
    else:
        assert (outcome.user_id, outcome.github_id) == (user_id, github_id)
        assert outcome.username == username
        assert await codeflow_database.profiles.get_user_profile(user_id) == outcome
        await codeflow_connection.execute("DELETE FROM user_profiles WHERE user_id = $1", user_id)


@pytest.mark.filterwarnings("ignore:Pydantic serializer warnings")
@HYPOTHESIS
@given(github_id=ANY, name=ANY, owner=ANY, full_name=ANY, is_active=ANY, private=ANY)
async def test_add_repository_with_unvalidated_data(  # noqa: PLR0917 - hypothesis passes them
    codeflow_database: Database,
    codeflow_connection: asyncpg.pool.PoolConnectionProxy,
    make_user: MakeUser,
    github_id: Any,
    name: Any,
    owner: Any,
    full_name: Any,
    is_active: Any,
    private: Any,
) -> None:
    """The store's own INSERT is run with the values as they come, skipping the input
    check, so the database's own checks are what is tested; then the store is given them."""
    user_id = await make_user()
    await codeflow_database.profiles.create_user_profile(
        user_id=user_id, github_id=abs(hash(user_id)) % 10**9 + 1, username=f"u{abs(hash(user_id)) % 10**9}"
    )
    values = {
        "github_id": github_id,
        "name": name,
        "owner": owner,
        "full_name": full_name,
        "is_active": is_active,
        "private": private,
    }
    create = all_queries()["create_repository"]

    async def unvalidated() -> Repository:
        row = await run(
            codeflow_connection, create, create.args({"user_id": user_id, **values}), slow_ms=float("inf")
        )
        return Repository.from_row(row)

    for call in (unvalidated, lambda: codeflow_database.repositories.add_repository(user_id, **values)):
        before = await _counts(codeflow_connection)
        outcome = await _call_safely(call())
        if isinstance(outcome, CodeflowError):
            assert await _counts(codeflow_connection) == before
        else:
            assert (outcome.github_id, outcome.name, outcome.owner) == (github_id, name, owner)
            stored = await codeflow_database.repositories.get_repository(user_id, repository_id=outcome.id)
            assert stored == outcome
            await codeflow_connection.execute("DELETE FROM repositories WHERE id = $1", outcome.id)


@HYPOTHESIS
@given(value=ANY, number=ANY, flag=ANY)
async def test_every_lookup_and_update(
    codeflow_database: Database,
    codeflow_connection: asyncpg.pool.PoolConnectionProxy,
    value: Any,
    number: Any,
    flag: Any,
) -> None:
    before = await _counts(codeflow_connection)
    calls = [
        codeflow_database.profiles.get_user_profile(value),
        codeflow_database.profiles.get_user_profile_by_github_id(number),
        codeflow_database.profiles.get_user_profile_by_username(value),
        codeflow_database.profiles.update_user_last_active(value),
        codeflow_database.repositories.get_user_repositories(value, active_only=flag),
        codeflow_database.repositories.get_repository(value, repository_id=value),
        codeflow_database.repositories.get_repository_by_github_id(value, github_id=number),
        codeflow_database.repositories.get_repository_by_full_name(value, full_name=value),
        codeflow_database.repositories.count_user_repositories(value),
        codeflow_database.repositories.update_repository(value, repository_id=value, is_active=flag),
        codeflow_database.repositories.verify_repository_access(value, private_by_github_id={number: flag}),
        codeflow_database.repositories.verify_repository_access(value, private_by_github_id=value),
        codeflow_database.repositories.delete_repository(value, repository_id=value),
        codeflow_database.profiles.cleanup_inactive_users(number, batch_size=number),
        codeflow_database.repositories.add_repository(
            value, github_id=number, name=value, full_name=value, owner=value, private=flag, is_active=flag
        ),
    ]
    for call in calls:
        await _call_safely(call)
    assert await _counts(codeflow_connection) == before


@pytest.mark.parametrize("when", [datetime(2026, 1, 1), datetime.now()])
async def test_naive_datetimes_are_refused(codeflow_database: Database, when: datetime) -> None:
    """No profile or repository method takes a datetime: one passed anywhere is refused, typed."""
    for call in (
        codeflow_database.profiles.cleanup_inactive_users(when),  # type: ignore[arg-type]
        codeflow_database.repositories.get_repository("u", repository_id=when),  # type: ignore[arg-type]
        codeflow_database.profiles.update_user_last_active(when),  # type: ignore[arg-type]
    ):
        with pytest.raises(CodeflowError):
            await call


async def test_unknown_uuid_is_not_found(codeflow_database: Database) -> None:
    from codeflow import NotFound  # noqa: PLC0415

    with pytest.raises(NotFound):
        await codeflow_database.repositories.get_repository("u", repository_id=uuid.uuid4())


pytestmark = pytest.mark.integration
