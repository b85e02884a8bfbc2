"""Driver errors become the package's own, chosen by constraint name."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime

import asyncpg
import pytest

from codeflow.auth import AdapterUser, SessionAndUser
from codeflow.errors import (
    AlreadyExists,
    CodeflowError,
    DatabaseUnavailable,
    InvalidInput,
    PoolClosed,
    PoolExhausted,
    QueryFailed,
    QueryTimeout,
    ReferencedRowMissing,
    TransactionConflict,
    translate,
)

NoValue = Callable[..., None]


def postgres_error(cls: type[asyncpg.PostgresError], constraint: str | None = None) -> asyncpg.PostgresError:
    error = cls("server message with 'secret' value")
    error.constraint_name = constraint
    return error


def test_unique_violation_becomes_already_exists_with_domain_message() -> None:
    error = translate(
        postgres_error(asyncpg.UniqueViolationError, "repositories_user_id_github_id_key"), query="q"
    )
    assert isinstance(error, AlreadyExists)
    assert error.constraint == "repositories_user_id_github_id_key"
    assert str(error) == "the user already monitors this repository"


def test_unknown_constraint_still_maps_by_class() -> None:
    error = translate(postgres_error(asyncpg.ForeignKeyViolationError, "x_fkey"), query="create_x")
    assert isinstance(error, ReferencedRowMissing)
    assert "create_x" in str(error) and "x_fkey" in str(error)


@pytest.mark.parametrize(
    ("raised", "expected"),
    [
        (postgres_error(asyncpg.CheckViolationError, "c"), InvalidInput),
        (postgres_error(asyncpg.CharacterNotInRepertoireError), InvalidInput),
        (ConnectionResetError("reset by peer"), DatabaseUnavailable),
        (asyncpg.ConnectionDoesNotExistError("gone"), DatabaseUnavailable),
        (asyncpg.TooManyConnectionsError("too many"), DatabaseUnavailable),
        (asyncpg.QueryCanceledError("statement timeout"), QueryTimeout),
        (TimeoutError(), QueryTimeout),
        (asyncpg.InterfaceError("connection is closed"), DatabaseUnavailable),
        (postgres_error(asyncpg.UndefinedColumnError), QueryFailed),
        (postgres_error(asyncpg.DeadlockDetectedError), TransactionConflict),
        (postgres_error(asyncpg.SerializationError), TransactionConflict),
        (postgres_error(asyncpg.IdleInTransactionSessionTimeoutError), DatabaseUnavailable),
        (postgres_error(asyncpg.AdminShutdownError), DatabaseUnavailable),
        # A pooled connection whose backend died is detached from its proxy at once.
        (
            asyncpg.InterfaceError(
                "cannot call Connection.fetchrow(): connection has been released back to the pool"
            ),
            DatabaseUnavailable,
        ),
        (
            asyncpg.InterfaceError("cannot call Transaction.commit(): the underlying connection is closed"),
            DatabaseUnavailable,
        ),
        (asyncpg.InterfaceError("pool is closing"), PoolClosed),
        (asyncpg.InterfaceError("pool is closed"), PoolClosed),
        (asyncpg.InterfaceError("the server expects 1 argument for this query, 2 were passed"), QueryFailed),
    ],
)
def test_error_classes(raised: BaseException, expected: type[Exception]) -> None:
    assert type(translate(raised, query="q")) is expected


def test_timeouts_are_a_kind_of_unavailability() -> None:
    assert issubclass(QueryTimeout, DatabaseUnavailable)
    assert issubclass(PoolClosed, DatabaseUnavailable)


def test_an_exhausted_pool_and_a_conflict_are_not_unavailability() -> None:
    """Alerting on DatabaseUnavailable must not fire for the application's own saturation,
    and callers that retry on it must not rerun a statement the layer has already retried."""
    for cls in (PoolExhausted, TransactionConflict):
        assert issubclass(cls, CodeflowError) and not issubclass(cls, DatabaseUnavailable)


def test_the_server_fields_travel_as_attributes() -> None:
    raised = asyncpg.UniqueViolationError("duplicate key value violates unique constraint")
    raised.constraint_name, raised.table_name, raised.column_name = "users_email_key", "users", None
    raised.detail = "Key (email)=(a@b.c) already exists."
    error = translate(raised, query="create_auth_user")
    assert (error.sqlstate, error.constraint, error.table, error.column) == (
        "23505",
        "users_email_key",
        "users",
        None,
    )
    assert "a@b.c" not in str(error) and "a@b.c" not in repr(vars(error))


@pytest.mark.parametrize(
    "raised",
    [
        asyncpg.RaiseError("token gho_secret is revoked"),  # P0001, a trigger's own message
        asyncpg.ExclusionViolationError("conflicting key value gho_secret"),
        asyncpg.InternalServerError("gho_secret"),
        ValueError("gho_secret"),
    ],
)
def test_messages_that_may_quote_a_value_are_left_out(raised: BaseException) -> None:
    error = translate(raised, query="q")
    assert "gho_secret" not in str(error)
    assert raised.__class__.__name__ in str(error)


def test_messages_that_name_objects_only_are_kept() -> None:
    error = translate(asyncpg.UndefinedColumnError('column "x" does not exist'), query="q")
    assert str(error) == 'q: UndefinedColumnError (SQLSTATE 42703): column "x" does not exist'


def test_rejected_values_never_appear_in_the_message() -> None:
    server = asyncpg.InvalidTextRepresentationError('invalid input syntax for type uuid: "gho_secret"')
    # asyncpg's own DataError is not exported; it is the InterfaceError that is also a
    # ValueError (tests/integration/test_error_chains.py raises the real one).
    client = type("ClientDataError", (asyncpg.InterfaceError, ValueError), {})(
        "invalid input for query argument $1: 'gho_secret'"
    )
    for raised in (server, client):
        error = translate(raised, query="get_repository")
        assert isinstance(error, InvalidInput)
        assert "gho_secret" not in str(error) and "get_repository" in str(error)


def test_a_stored_row_that_does_not_fit_names_the_field_only(no_value_in_chain: NoValue) -> None:
    row = {"id": "u1", "name": None, "email": "e@x.y", "email_verified": "gho_secret", "image": None}
    with pytest.raises(QueryFailed) as caught:
        AdapterUser.from_row(row)
    assert "email_verified" in str(caught.value)
    no_value_in_chain(caught.value, "gho_secret")


def test_a_joined_session_row_that_does_not_fit_is_a_query_failed(no_value_in_chain: NoValue) -> None:
    """It let pydantic's ValidationError, which quotes the input, out."""
    row = {
        "id": "s1",
        "session_token": "gho_secret",
        "user_id": "u1",
        "expires": "not a time gho_secret",
        "user_name": None,
        "user_email": None,
        "user_email_verified": datetime(2026, 1, 1, tzinfo=UTC),
        "user_image": None,
    }
    with pytest.raises(QueryFailed) as caught:
        SessionAndUser.from_row(row)
    assert "AdapterSession" in str(caught.value) and "expires" in str(caught.value)
    no_value_in_chain(caught.value, "gho_secret")
