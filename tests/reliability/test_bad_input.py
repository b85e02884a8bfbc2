"""Bad input, property-based: every public DatabaseService method given hostile values
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

from codeflow import CodeflowError, DatabaseService, RepositoryData
from codeflow.models import MAX_LENGTH

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
    codeflow_service: DatabaseService,
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
        codeflow_service.create_user_profile(user_id=user_id, github_id=github_id, username=username)
    )
    if isinstance(outcome, CodeflowError):
        assert await _counts(codeflow_connection) == before, "a refused write changed something"
    else:
        assert (outcome.user_id, outcome.github_id) == (user_id, github_id)
        assert outcome.username == username
        assert await codeflow_service.get_user_profile(user_id) == outcome
        await codeflow_connection.execute("DELETE FROM user_profiles WHERE user_id = $1", user_id)


@pytest.mark.filterwarnings("ignore:Pydantic serializer warnings")
@HYPOTHESIS
@given(github_id=ANY, name=ANY, owner=ANY, full_name=ANY, is_active=ANY, private=ANY)
async def test_add_repository_with_unvalidated_data(  # noqa: PLR0917 - hypothesis passes them
    codeflow_service: DatabaseService,
    codeflow_connection: asyncpg.pool.PoolConnectionProxy,
    make_user: MakeUser,
    github_id: Any,
    name: Any,
    owner: Any,
    full_name: Any,
    is_active: Any,
    private: Any,
) -> None:
    """model_construct skips pydantic, so the database's own checks are what is tested."""
    user_id = await make_user()
    await codeflow_service.create_user_profile(
        user_id=user_id, github_id=abs(hash(user_id)) % 10**9 + 1, username=f"u{abs(hash(user_id)) % 10**9}"
    )
    data = RepositoryData.model_construct(
        github_id=github_id, name=name, owner=owner, full_name=full_name, is_active=is_active, private=private
    )
    before = await _counts(codeflow_connection)
    outcome = await _call_safely(codeflow_service.add_repository(user_id, data))
    if isinstance(outcome, CodeflowError):
        assert await _counts(codeflow_connection) == before
    else:
        assert (outcome.github_id, outcome.name, outcome.owner) == (github_id, name, owner)
        assert await codeflow_service.get_repository(user_id, repository_id=outcome.id) == outcome


@HYPOTHESIS
@given(value=ANY, number=ANY, flag=ANY)
async def test_every_lookup_and_update(
    codeflow_service: DatabaseService,
    codeflow_connection: asyncpg.pool.PoolConnectionProxy,
    value: Any,
    number: Any,
    flag: Any,
) -> None:
    before = await _counts(codeflow_connection)
    calls = [
        codeflow_service.get_user_profile(value),
        codeflow_service.get_user_profile_by_github_id(number),
        codeflow_service.get_user_profile_by_username(value),
        codeflow_service.update_user_last_active(value),
        codeflow_service.get_user_repositories(value, active_only=flag),
        codeflow_service.get_repository(value, repository_id=value),
        codeflow_service.get_repository_by_github_id(value, number),
        codeflow_service.get_repository_by_full_name(value, value),
        codeflow_service.count_user_repositories(value),
        codeflow_service.update_repository(value, repository_id=value, is_active=flag),
        codeflow_service.verify_repository_access(value, private_by_github_id={number: flag}),
        codeflow_service.verify_repository_access(value, private_by_github_id=value),
        codeflow_service.delete_repository(value, repository_id=value),
        codeflow_service.cleanup_inactive_users(number, batch_size=number),
        codeflow_service.add_repository(value, flag),
    ]
    for call in calls:
        await _call_safely(call)
    assert await _counts(codeflow_connection) == before


@pytest.mark.parametrize("when", [datetime(2026, 1, 1), datetime.now()])
async def test_naive_datetimes_are_refused(codeflow_service: DatabaseService, when: datetime) -> None:
    """No DatabaseService method takes a datetime: one passed anywhere is refused, typed."""
    for call in (
        codeflow_service.cleanup_inactive_users(when),  # type: ignore[arg-type]
        codeflow_service.get_repository("u", repository_id=when),  # type: ignore[arg-type]
        codeflow_service.update_user_last_active(when),  # type: ignore[arg-type]
    ):
        with pytest.raises(CodeflowError):
            await call


async def test_unknown_uuid_is_not_found(codeflow_service: DatabaseService) -> None:
    from codeflow import NotFound  # noqa: PLC0415

    with pytest.raises(NotFound):
        await codeflow_service.get_repository("u", repository_id=uuid.uuid4())


pytestmark = pytest.mark.integration
