"""Driver errors become the package's own, chosen by constraint name."""

from __future__ import annotations

import asyncpg
import pytest

from codeflow.errors import (
    AlreadyExists,
    DatabaseUnavailable,
    InvalidInput,
    QueryFailed,
    QueryTimeout,
    ReferencedRowMissing,
    translate,
)


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
    ],
)
def test_error_classes(raised: BaseException, expected: type[Exception]) -> None:
    assert type(translate(raised, query="q")) is expected


def test_timeouts_are_a_kind_of_unavailability() -> None:
    assert issubclass(QueryTimeout, DatabaseUnavailable)


def test_rejected_values_never_appear_in_the_message() -> None:
    server = asyncpg.InvalidTextRepresentationError('invalid input syntax for type uuid: "gho_secret"')
    client = asyncpg.exceptions._base.DataError("invalid input for query argument $1: 'gho_secret'")
    for raised in (server, client):
        error = translate(raised, query="get_repository")
        assert isinstance(error, InvalidInput)
        assert "gho_secret" not in str(error) and "get_repository" in str(error)
