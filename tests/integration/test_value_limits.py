"""Issue 11, items 2 and 6: a value that cannot be stored, or read back, as given is refused
with InvalidInput before any write; every public method takes strict types."""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable, Coroutine
from datetime import UTC, datetime, timedelta, timezone
from decimal import Decimal
from typing import Any

import asyncpg
import pytest

from codeflow import AuthStore, Database, InvalidInput, PullRequestData, PullRequestStore
from codeflow.models import MAX_LENGTH

MakeUser = Callable[..., Awaitable[str]]
TABLES = ("users", "accounts", "sessions", "verification_tokens", "authenticators", "pull_requests")
T0 = datetime(2026, 1, 1, tzinfo=UTC)
# The ends of Python's range, in UTC and at the largest offsets either way: asyncpg writes
# the first two as -infinity/infinity, and the others overflow on the way to UTC.
EXTREMES = [
    datetime.min.replace(tzinfo=UTC),
    datetime.max.replace(tzinfo=UTC),
    datetime.min.replace(tzinfo=timezone(timedelta(hours=14))),
    datetime.max.replace(tzinfo=timezone(timedelta(hours=-14))),
    datetime.max.replace(tzinfo=timezone(timedelta(hours=14))),
]


@pytest.fixture
def auth(codeflow_database: Database) -> AuthStore:
    return codeflow_database.auth


@pytest.fixture
def prs(codeflow_database: Database) -> PullRequestStore:
    return codeflow_database.pull_requests


async def _rows(connection: asyncpg.Connection) -> dict[str, int]:
    return {table: int(await connection.fetchval(f"SELECT count(*) FROM {table}")) for table in TABLES}


async def refused(connection: asyncpg.Connection, call: Coroutine[Any, Any, object]) -> InvalidInput:
    """The InvalidInput `call` raises; fails the test if it wrote anything first."""
    before = await _rows(connection)
    with pytest.raises(InvalidInput) as caught:
        await call
    assert await _rows(connection) == before, "a refused call wrote a row"
    return caught.value


def github_pr(**changes: object) -> dict[str, Any]:
    payload: dict[str, Any] = {
        "id": 1,
        "number": 1,
        "title": "Fix it",
        "user": {"login": "octocat"},
        "state": "open",
        "draft": False,
        "head": {"ref": "fix"},
        "base": {"ref": "main", "repo": {"id": 1296269}},
        "html_url": "https://github.com/octocat/Hello-World/pull/1",
        "created_at": "2026-01-01T00:00:00Z",
        "updated_at": "2026-01-02T00:00:00Z",
        "closed_at": None,
        "merged_at": None,
    }
    payload.update(changes)
    return payload


# --- the limits are one set of numbers, in Python and in the schema ------------------------


async def test_every_length_check_matches_the_python_limit(codeflow_connection: asyncpg.Connection) -> None:
    """The CHECK constraints and MAX_LENGTH name the same columns with the same bounds, so the
    model refuses exactly what the database would (and a new bound can't be set on one side)."""
    rows = await codeflow_connection.fetch(
        "SELECT conrelid::regclass::text AS table_name, pg_get_constraintdef(oid) AS definition"
        " FROM pg_constraint WHERE contype = 'c' AND conname LIKE '%\\_length\\_check'"
    )
    in_schema = {}
    for row in rows:
        match = re.fullmatch(r"CHECK \(\(char_length\((\w+)\) <= (\d+)\)\)", row["definition"])
        assert match, row["definition"]
        in_schema[f"{row['table_name']}.{match[1]}"] = int(match[2])
    assert in_schema == MAX_LENGTH


async def test_every_caller_written_timestamp_must_be_finite(codeflow_connection: asyncpg.Connection) -> None:
    """Another client (psql, a script) cannot store infinity where Python and JavaScript read a time."""
    user_id = await codeflow_connection.fetchval("INSERT INTO users (id) VALUES ('u') RETURNING id")
    for statement in (
        "UPDATE users SET email_verified = 'infinity'",
        f"INSERT INTO sessions (session_token, user_id, expires) VALUES ('t', '{user_id}', '-infinity')",
        "INSERT INTO verification_tokens (identifier, token, expires) VALUES ('i', 't', 'infinity')",
    ):
        with pytest.raises(asyncpg.CheckViolationError):
            await codeflow_connection.execute(statement)


# --- timestamps at the ends of Python's range ------------------------------------------------


@pytest.mark.parametrize("when", EXTREMES)
async def test_extreme_timestamps_are_refused_before_any_auth_write(
    auth: AuthStore, codeflow_connection: asyncpg.Connection, make_user: MakeUser, when: datetime
) -> None:
    user_id = await make_user()
    await auth.create_session(session_token="live", user_id=user_id, expires=T0)
    for call in (
        auth.create_user(email="a@example.com", email_verified=when),
        auth.update_user(user_id, email_verified=when),
        auth.create_session(session_token="s", user_id=user_id, expires=when),
        auth.update_session("live", expires=when),
        auth.create_verification_token(identifier="a@example.com", token="t", expires=when),
    ):
        error = await refused(codeflow_connection, call)
        assert "0001-01-02 and 9999-12-30" in str(error)
    session = await auth.get_session_and_user("live")
    assert session is None or session.session.expires == T0  # update_session changed nothing


@pytest.mark.parametrize("when", EXTREMES)
def test_extreme_timestamps_never_make_a_pull_request(when: datetime) -> None:
    fields = PullRequestData.from_github(github_pr()).model_dump()
    with pytest.raises(ValueError, match="9999-12-30"):
        PullRequestData(**{**fields, "updated_at": when})


@pytest.mark.parametrize("text", ["0001-01-01T00:00:00Z", "9999-12-31T23:59:59.999999Z"])
def test_github_payload_at_the_ends_of_the_range_is_invalid(text: str) -> None:
    """Before: from_github accepted year 1, and the batch upsert stored -infinity silently."""
    with pytest.raises(InvalidInput):
        PullRequestData.from_github(github_pr(created_at=text, updated_at=text))


async def test_timestamps_just_inside_the_range_round_trip(auth: AuthStore) -> None:
    for when in (datetime(1, 1, 2, tzinfo=UTC), datetime(9999, 12, 30, tzinfo=UTC)):
        user = await auth.create_user(email_verified=when)
        assert user.email_verified == when
        assert await auth.get_user(user.id) == user


# --- text lengths ------------------------------------------------------------------------------


def _too_long(column: str, character: str = "a") -> str:
    return character * (MAX_LENGTH[column] + 1)


def _at_limit(column: str, character: str = "\U0001f600") -> str:
    """A value at the bound in 4-byte characters: the worst case for an index entry."""
    return character * MAX_LENGTH[column]


async def test_oversized_auth_values_are_refused_before_any_write(
    auth: AuthStore, codeflow_connection: asyncpg.Connection, make_user: MakeUser
) -> None:
    """Before: indexed values failed with QueryFailed 54000, the others took 10 MB."""
    user_id = await make_user()
    account: dict[str, Any] = {
        "user_id": user_id,
        "type": "oauth",
        "provider": "github",
        "provider_account_id": "1",
    }
    authenticator: dict[str, Any] = {
        "credential_id": "Y3JlZA",
        "user_id": user_id,
        "provider_account_id": "1",
        "credential_public_key": "a2V5",
        "counter": 0,
        "credential_device_type": "singleDevice",
        "credential_backed_up": False,
    }
    calls = [
        auth.create_user(user_id=_too_long("users.id")),
        auth.create_user(name=_too_long("users.name")),
        auth.create_user(email=_too_long("users.email")),
        auth.create_user(image=_too_long("users.image")),
        auth.update_user(user_id, name=_too_long("users.name")),
        auth.create_session(session_token=_too_long("sessions.session_token"), user_id=user_id, expires=T0),
        auth.create_verification_token(
            identifier=_too_long("verification_tokens.identifier"), token="t", expires=T0
        ),
        auth.create_verification_token(
            identifier="a@example.com", token=_too_long("verification_tokens.token"), expires=T0
        ),
    ]
    for call in calls:
        await refused(codeflow_connection, call)
    for field in ("provider", "provider_account_id", "access_token", "id_token", "scope", "session_state"):
        error = await refused(
            codeflow_connection, auth.link_account(**{**account, field: _too_long(f"accounts.{field}")})
        )
        assert field in str(error)
    for field in ("credential_id", "credential_public_key", "transports"):
        error = await refused(
            codeflow_connection,
            auth.create_authenticator(**{**authenticator, field: _too_long(f"authenticators.{field}")}),
        )
        assert field in str(error)


async def test_values_at_the_limit_fit_their_indexes(auth: AuthStore, make_user: MakeUser) -> None:
    """The bounds leave every index entry under PostgreSQL's limit, in 4-byte characters."""
    user = await auth.create_user(user_id=_at_limit("users.id"), email=_at_limit("users.email"))
    assert await auth.get_user_by_email(_at_limit("users.email")) == user
    session = await auth.create_session(
        session_token=_at_limit("sessions.session_token"), user_id=user.id, expires=T0 + timedelta(days=9999)
    )
    assert session.session_token == _at_limit("sessions.session_token")
    await auth.create_verification_token(
        identifier=_at_limit("verification_tokens.identifier"),
        token=_at_limit("verification_tokens.token"),
        expires=T0,
    )
    await auth.link_account(
        user_id=user.id,
        type="oauth",
        provider=_at_limit("accounts.provider"),
        provider_account_id=_at_limit("accounts.provider_account_id"),
    )
    credential = "A" * MAX_LENGTH["authenticators.credential_id"]
    await auth.create_authenticator(
        credential_id=credential,
        user_id=user.id,
        provider_account_id="1",
        credential_public_key="a2V5",
        counter=0,
        credential_device_type="singleDevice",
        credential_backed_up=False,
    )
    assert (await auth.get_authenticator(credential)) is not None


def test_oversized_pull_request_text_is_refused() -> None:
    for field, github in (("title", {"title": ...}), ("head_ref", {"head": {"ref": ...}})):
        value = _too_long(f"pull_requests.{field}")
        payload = github_pr(**{key: value if part is ... else {"ref": value} for key, part in github.items()})
        with pytest.raises(InvalidInput, match=field):
            PullRequestData.from_github(payload)


# --- strict types --------------------------------------------------------------------------


async def test_strict_inputs_on_the_profile_and_repository_stores(
    codeflow_database: Database, codeflow_connection: asyncpg.Connection, make_user: MakeUser
) -> None:
    """Before: active_only="false" meant True, "42"/True/Decimal passed as ids, bytes as text."""
    profiles, repositories = codeflow_database.profiles, codeflow_database.repositories
    user_id = await make_user()
    await profiles.create_user_profile(user_id=user_id, github_id=1, username="octocat")
    repository = await repositories.add_repository(
        user_id, github_id=7, name="a", full_name="octocat/a", owner="octocat", private=False
    )
    await repositories.update_repository(user_id, repository_id=repository.id, is_active=False)
    calls: list[Coroutine[Any, Any, object]] = [
        repositories.get_user_repositories(user_id, active_only="false"),  # type: ignore[arg-type]
        repositories.get_user_repositories(user_id, active_only=1),  # type: ignore[arg-type]
        repositories.update_repository(user_id, repository_id=repository.id, is_active=0),  # type: ignore[arg-type]
        profiles.get_user_profile_by_github_id(True),
        profiles.get_user_profile_by_github_id("1"),  # type: ignore[arg-type]
        profiles.get_user_profile_by_github_id(Decimal(1)),  # type: ignore[arg-type]
        profiles.get_user_profile_by_github_id(1.0),  # type: ignore[arg-type]
        profiles.get_user_profile(user_id.encode()),  # type: ignore[arg-type]
        repositories.get_repository(user_id, repository_id=repository.id.bytes),  # type: ignore[arg-type]
        repositories.get_repository(user_id, repository_id=repository.id.int),  # type: ignore[arg-type]
        profiles.create_user_profile(user_id=user_id, github_id=True, username="other"),
        profiles.cleanup_inactive_users(True),
        profiles.cleanup_inactive_users("30"),  # type: ignore[arg-type]
    ]
    for call in calls:
        await refused(codeflow_connection, call)
    new = {"name": "b", "full_name": "octocat/b", "owner": "octocat"}
    error = await refused(
        codeflow_connection,
        repositories.add_repository(user_id, github_id="8", private=False, **new),  # type: ignore[arg-type]
    )
    assert "github_id" in str(error)
    error = await refused(
        codeflow_connection,
        repositories.add_repository(user_id, github_id=8, private="no", **new),  # type: ignore[arg-type]
    )
    assert "private" in str(error)


async def test_strict_inputs_on_the_auth_store(
    auth: AuthStore, codeflow_connection: asyncpg.Connection, make_user: MakeUser
) -> None:
    """Before: expires="42" became 1970-01-01T00:00:42Z, and 42 likewise."""
    user_id = await make_user()
    for expires in (42, "42", "2026-01-01T00:00:00Z", T0.date()):
        await refused(
            codeflow_connection,
            auth.create_session(session_token="s", user_id=user_id, expires=expires),  # type: ignore[arg-type]
        )
        await refused(codeflow_connection, auth.create_user(email_verified=expires))  # type: ignore[arg-type]
    await refused(codeflow_connection, auth.create_user(email=b"a@example.com"))  # type: ignore[arg-type]
    await refused(codeflow_connection, auth.get_user(b"id"))  # type: ignore[arg-type]
    error = await refused(
        codeflow_connection,
        auth.link_account(
            user_id=user_id,
            type="oauth",
            provider="p",
            provider_account_id="1",
            expires_at="1",  # type: ignore[arg-type]
        ),
    )
    assert "expires_at" in str(error)


@pytest.mark.parametrize("batch", [None, 42, T0, "not a batch", b"bytes", {"id": 1}])
async def test_upsert_pull_requests_refuses_what_is_not_a_batch(prs: PullRequestStore, batch: object) -> None:
    """Before: None, an int or a datetime raised a raw TypeError; a str iterated its letters."""
    with pytest.raises(InvalidInput, match="batch"):
        await prs.upsert_pull_requests(batch)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    "arguments", [{"limit": True}, {"limit": "10"}, {"repository_github_id": True}, {"draft": 1}]
)
async def test_strict_dashboard_arguments(prs: PullRequestStore, arguments: dict[str, Any]) -> None:
    with pytest.raises(InvalidInput):
        await prs.get_dashboard("user", **arguments)


async def test_credential_ids_in_either_base64_alphabet_are_stored(
    auth: AuthStore, codeflow_connection: asyncpg.Connection, make_user: MakeUser
) -> None:
    """@auth/core writes credentialID with Buffer.toString("base64"): `+`, `/` and `=`
    (before: refused by the model and by the CHECK, so passkey sign-up broke)."""
    user_id = await make_user()
    fields = {
        "user_id": user_id,
        "provider_account_id": "1",
        "credential_public_key": "a2V5",
        "counter": 0,
        "credential_device_type": "singleDevice",
        "credential_backed_up": False,
    }
    for credential_id in ("q+/Zx9ab0w==", "q-_Zx9ab0w"):
        await auth.create_authenticator(credential_id=credential_id, **fields)  # type: ignore[arg-type]
        assert (await auth.get_authenticator(credential_id)) is not None
    for credential_id in ("not base64", "é"):
        await refused(
            codeflow_connection,
            auth.create_authenticator(credential_id=credential_id, **fields),  # type: ignore[arg-type]
        )
    with pytest.raises(asyncpg.CheckViolationError):
        await codeflow_connection.execute(
            "INSERT INTO authenticators (credential_id, user_id, provider_account_id,"
            " credential_public_key, counter, credential_device_type, credential_backed_up)"
            " VALUES ('a b', $1, '1', 'k', 0, 's', false)",
            user_id,
        )


async def test_a_malformed_repository_id_is_refused_without_quoting_it(
    codeflow_database: Database, make_user: MakeUser
) -> None:
    """pydantic's UUID error quotes a character of the input ("found `x` at 0")."""
    user_id = await make_user()
    with pytest.raises(InvalidInput) as caught:
        await codeflow_database.repositories.get_repository(user_id, repository_id="xsecretx")
    assert str(caught.value) == "repository_id is not a UUID"
