"""No parameter value travels with an error (issue 11, item 4).

Each error class is triggered with a recognisable value (a token, an e-mail address,
an identifier, a user id), and the whole chain of the raised error (message, args,
attributes, notes, __cause__, __context__, the formatted traceback and what
logger.exception writes) is searched for it: `no_value_in_chain` (tests/conftest.py).
The attributes that do travel (sqlstate, constraint, table, column) are checked too.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import asyncpg
import pytest

from codeflow import (
    AlreadyExists,
    AuthStore,
    Database,
    InvalidInput,
    PullRequestData,
    QueryFailed,
    ReferencedRowMissing,
)
from codeflow.queries import Query, Returns, run
from codeflow.settings import Settings
from codeflow.store import Runner, all_queries

NoValue = Callable[..., None]

# Values that must never show in an error. Tests pass them through variables, never as
# literals in the calls, so a traceback's source lines cannot show them either.
TOKEN = "session-tok-zq81x-4c1d"
EMAIL = "leak-zq81x@example.com"
IDENTIFIER = "verify-zq81x@example.com"
VERIFICATION = "vt-zq81x-hash-77"
ACCOUNT = "acct-zq81x-583231"
USER = "user-zq81x-9f2e"
BAD_UUID = "uuid-zq81x-not-one"
MARKER = "zq81x"  # in every value above: a fragment of any of them leaking is caught too
IN_A_WEEK = datetime.now(UTC) + timedelta(days=7)


@pytest.fixture
def auth(codeflow_database: Database) -> AuthStore:
    return codeflow_database.auth


def account(user_id: str) -> dict[str, Any]:
    """`link_account` arguments of a GitHub account."""
    return {"user_id": user_id, "type": "oauth", "provider": "github", "provider_account_id": ACCOUNT}


async def test_duplicate_session_token(auth: AuthStore, no_value_in_chain: NoValue) -> None:
    user = await auth.create_user(email=EMAIL)
    await auth.create_session(session_token=TOKEN, user_id=user.id, expires=IN_A_WEEK)
    with pytest.raises(AlreadyExists) as caught:
        await auth.create_session(session_token=TOKEN, user_id=user.id, expires=IN_A_WEEK)
    no_value_in_chain(caught.value, TOKEN, MARKER)
    error = caught.value
    assert (error.sqlstate, error.constraint, error.table) == (
        "23505",
        "sessions_session_token_key",
        "sessions",
    )


async def test_duplicate_email(auth: AuthStore, no_value_in_chain: NoValue) -> None:
    await auth.create_user(email=EMAIL)
    with pytest.raises(AlreadyExists) as caught:
        await auth.create_user(email=EMAIL)
    no_value_in_chain(caught.value, EMAIL, MARKER)
    assert (caught.value.constraint, caught.value.table) == ("users_email_key", "users")


async def test_duplicate_email_on_update(auth: AuthStore, no_value_in_chain: NoValue) -> None:
    await auth.create_user(email=EMAIL)
    other = await auth.create_user(user_id=USER)
    with pytest.raises(AlreadyExists) as caught:
        await auth.update_user(other.id, email=EMAIL)
    no_value_in_chain(caught.value, EMAIL, USER, MARKER)


async def test_duplicate_verification_token(auth: AuthStore, no_value_in_chain: NoValue) -> None:
    await auth.create_verification_token(identifier=IDENTIFIER, token=VERIFICATION, expires=IN_A_WEEK)
    with pytest.raises(AlreadyExists) as caught:
        await auth.create_verification_token(identifier=IDENTIFIER, token=VERIFICATION, expires=IN_A_WEEK)
    no_value_in_chain(caught.value, IDENTIFIER, VERIFICATION, MARKER)
    assert caught.value.constraint == "verification_tokens_pkey"


async def test_duplicate_provider_account(auth: AuthStore, no_value_in_chain: NoValue) -> None:
    user = await auth.create_user(user_id=USER)
    await auth.link_account(**account(user.id))
    with pytest.raises(AlreadyExists) as caught:
        await auth.link_account(**account(user.id))
    no_value_in_chain(caught.value, ACCOUNT, USER, MARKER)
    assert caught.value.constraint == "accounts_provider_provider_account_id_key"


async def test_foreign_key_violations(
    auth: AuthStore, codeflow_database: Database, no_value_in_chain: NoValue
) -> None:
    with pytest.raises(ReferencedRowMissing) as session:
        await auth.create_session(session_token=TOKEN, user_id=USER, expires=IN_A_WEEK)
    no_value_in_chain(session.value, TOKEN, USER, MARKER)
    assert (session.value.sqlstate, session.value.constraint) == ("23503", "sessions_user_id_fkey")
    with pytest.raises(ReferencedRowMissing) as profile:
        await codeflow_database.profiles.create_user_profile(user_id=USER, github_id=7, username="octocat")
    no_value_in_chain(profile.value, USER, MARKER)


async def test_check_violation(
    codeflow_database: Database,
    codeflow_connection: asyncpg.pool.PoolConnectionProxy,
    make_user: Callable[..., Any],
    no_value_in_chain: NoValue,
) -> None:
    """The server's DETAIL for a CHECK is "Failing row contains (...)": every value of the row.
    The store's own statement runs with a value its input check would have refused, so the
    server's CHECK is the one that fails."""
    user_id = await make_user(USER)
    await codeflow_database.profiles.create_user_profile(user_id=user_id, github_id=7, username="octocat")
    create = all_queries()["create_repository"]
    unchecked = {
        "user_id": user_id,
        "github_id": 1,
        "name": "repo",
        "owner": "octocat",
        "full_name": f"{MARKER}/other",
        "private": False,
        "is_active": True,
    }
    with pytest.raises(InvalidInput) as caught:
        await run(codeflow_connection, create, create.args(unchecked), slow_ms=float("inf"))
    no_value_in_chain(caught.value, USER, MARKER)
    assert (caught.value.sqlstate, caught.value.table) == ("23514", "repositories")
    assert caught.value.constraint and caught.value.constraint in str(caught.value)


def _probe(sql: str) -> Query:
    return Query(
        name="probe",
        operation=Returns.VALUE,
        sql=sql,
        params=("value",),
        doc="probe",
        source="test",
        returns="str",
    )


@pytest.mark.parametrize(
    ("sql", "value"),
    [
        ("SELECT $1::text::uuid", BAD_UUID),  # the server quotes it: invalid input syntax for type uuid
        ("SELECT $1::uuid", BAD_UUID),  # asyncpg's encoder quotes it: invalid input for query argument
        ("SELECT $1::text", f"{MARKER}\x00nul"),  # the server refuses the NUL byte
    ],
)
async def test_values_the_server_or_driver_rejects(
    codeflow_connection: asyncpg.pool.PoolConnectionProxy, no_value_in_chain: NoValue, sql: str, value: str
) -> None:
    with pytest.raises(InvalidInput) as caught:
        await run(codeflow_connection, _probe(sql), [value], slow_ms=float("inf"))
    no_value_in_chain(caught.value, value, MARKER)
    assert "probe" in str(caught.value)


async def test_stored_rows_that_do_not_fit_the_models(
    codeflow_connection: asyncpg.pool.PoolConnectionProxy,
    codeflow_settings: Settings,
    no_value_in_chain: NoValue,
) -> None:
    """A row another client wrote that a model refuses: `QueryFailed` naming the field.
    The column's type is changed inside a transaction that is rolled back, so the
    stored value can be anything (here, a token where a timestamp belongs); the store
    runs inside that transaction, on its connection, as `Database.transaction()` runs it."""
    auth = AuthStore(Runner(codeflow_settings, connection=codeflow_connection))
    transaction = codeflow_connection.transaction()
    await transaction.start()
    try:
        await codeflow_connection.execute(
            "ALTER TABLE users DROP CONSTRAINT users_email_verified_finite_check,"
            " ALTER COLUMN email_verified TYPE text"
        )
        await codeflow_connection.execute(
            "INSERT INTO users (id, email, email_verified) VALUES ($1, $2, $3)", USER, EMAIL, TOKEN
        )
        await codeflow_connection.execute(
            "INSERT INTO sessions (id, session_token, user_id, expires) VALUES ('s1', $1, $2, $3)",
            VERIFICATION,
            USER,
            IN_A_WEEK,
        )
        with pytest.raises(QueryFailed) as user:
            await auth.get_user(USER)
        with pytest.raises(QueryFailed) as session_and_user:
            await auth.get_session_and_user(VERIFICATION)
    finally:
        await transaction.rollback()
    for caught in (user, session_and_user):
        no_value_in_chain(caught.value, TOKEN, EMAIL, USER, VERIFICATION, MARKER)
        assert "email_verified" in str(caught.value)
    assert "AdapterUser" in str(user.value)


async def test_invalid_arguments_leave_no_validation_error_in_the_chain(
    codeflow_database: Database, auth: AuthStore, no_value_in_chain: NoValue
) -> None:
    """The package's own checks (UserProfileData, the argument adapters, Auth.js inputs,
    PullRequestData.from_github) raise InvalidInput with no ValidationError behind it."""
    bad_login = f"{MARKER} not a login"
    with pytest.raises(InvalidInput) as profile:
        await codeflow_database.profiles.create_user_profile(user_id=USER, github_id=7, username=bad_login)
    with pytest.raises(InvalidInput) as days:
        await codeflow_database.profiles.cleanup_inactive_users(days_inactive=MARKER)  # type: ignore[arg-type]
    with pytest.raises(InvalidInput) as expires:
        await auth.create_session(session_token=TOKEN, user_id=USER, expires=MARKER)  # type: ignore[arg-type]
    payload = {
        "id": 1,
        "base": {"repo": {"id": 2}, "ref": "main"},
        "number": 3,
        "title": "t",
        "user": {"login": "octocat"},
        "state": MARKER,
        "head": {"ref": "topic"},
        "html_url": "https://github.com/o/r/pull/3",
        "created_at": "2026-01-01T00:00:00Z",
        "updated_at": "2026-01-01T00:00:00Z",
    }
    with pytest.raises(InvalidInput) as pull_request:
        PullRequestData.from_github(payload)
    for caught in (profile, days, expires, pull_request):
        no_value_in_chain(caught.value, bad_login, TOKEN, USER, MARKER)
