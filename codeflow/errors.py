"""The errors callers of this package see: one hierarchy under `CodeflowError`.

Raw asyncpg errors never leave the package: `translate` turns each into the domain
error a caller can act on. Unique and foreign-key violations are told apart by the
constraint that fired, so the database (not a check-then-insert) decides.
"""

from __future__ import annotations

import asyncio

import asyncpg


class CodeflowError(Exception):
    """Base of every error raised by the codeflow package."""


class ConfigurationError(CodeflowError):
    """Settings are missing or malformed; raised at start-up."""


class InvalidInput(CodeflowError, ValueError):
    """An argument was rejected before (or by a CHECK constraint in) the database."""

    def __init__(self, message: str, *, constraint: str | None = None) -> None:
        super().__init__(message)
        self.constraint = constraint


class NotFound(CodeflowError, LookupError):
    """The row an operation needs does not exist."""


class AlreadyExists(CodeflowError):
    """A unique constraint refused the write; `constraint` names it."""

    def __init__(self, message: str, *, constraint: str | None) -> None:
        super().__init__(message)
        self.constraint = constraint


class ReferencedRowMissing(CodeflowError):
    """A foreign key refused the write: the row it points at does not exist."""

    def __init__(self, message: str, *, constraint: str | None) -> None:
        super().__init__(message)
        self.constraint = constraint


class DatabaseUnavailable(CodeflowError):
    """The database could not be reached, or the connection was lost or timed out."""


class QueryTimeout(DatabaseUnavailable):
    """A statement or a wait for a pooled connection ran out of time."""


class QueryFailed(CodeflowError):
    """The database rejected a statement for a reason no other error describes."""

    def __init__(self, message: str, *, sqlstate: str | None) -> None:
        super().__init__(message)
        self.sqlstate = sqlstate


# What a violated constraint means to a caller, by constraint name; each store module
# registers its tables' constraints. A name missing here still maps to the right class,
# with the constraint named in the message.
_CONSTRAINT_MESSAGES: dict[str, str] = {}

_UNAVAILABLE = (
    OSError,
    asyncpg.exceptions.ConnectionDoesNotExistError,
    asyncpg.exceptions.ConnectionFailureError,
    asyncpg.exceptions.CannotConnectNowError,
    asyncpg.exceptions.TooManyConnectionsError,
    asyncpg.exceptions.AdminShutdownError,
    asyncpg.exceptions.CrashShutdownError,
    asyncpg.exceptions.InternalClientError,
)


def register_constraint_messages(messages: dict[str, str]) -> None:
    """Add the domain messages for the constraints of a store module's tables."""
    _CONSTRAINT_MESSAGES.update(messages)


def translate(exc: BaseException, *, query: str) -> CodeflowError:
    """The domain error for a driver error raised while running `query`.

    Messages carry the query name and constraint, never parameter values.
    """
    if isinstance(exc, CodeflowError):
        return exc
    if isinstance(exc, asyncpg.PostgresError):
        constraint = getattr(exc, "constraint_name", None)
        meaning = _CONSTRAINT_MESSAGES.get(constraint or "")
        if isinstance(exc, asyncpg.UniqueViolationError):
            return AlreadyExists(meaning or f"{query}: duplicate ({constraint})", constraint=constraint)
        if isinstance(exc, asyncpg.ForeignKeyViolationError):
            return ReferencedRowMissing(
                meaning or f"{query}: referenced row missing ({constraint})", constraint=constraint
            )
        if isinstance(exc, (asyncpg.CheckViolationError, asyncpg.NotNullViolationError)):
            return InvalidInput(
                f"{query}: {exc.__class__.__name__}: {first_line(exc)}", constraint=constraint
            )
    if isinstance(exc, (asyncpg.DataError, asyncpg.exceptions._base.DataError)):
        # Both the server's class 22 errors and asyncpg's encoding errors quote the
        # offending value, which may be a token or an e-mail address: leave it out.
        sqlstate = getattr(exc, "sqlstate", None) or "client-side"
        return InvalidInput(f"{query}: a value was rejected ({exc.__class__.__name__}, SQLSTATE {sqlstate})")
    if isinstance(exc, (asyncio.TimeoutError, asyncpg.QueryCanceledError)):
        return QueryTimeout(f"{query}: timed out: {exc.__class__.__name__}: {first_line(exc)}")
    if isinstance(exc, _UNAVAILABLE) or (isinstance(exc, asyncpg.InterfaceError) and "closed" in str(exc)):
        return DatabaseUnavailable(
            f"{query}: database unavailable: {exc.__class__.__name__}: {first_line(exc)}"
        )
    sqlstate = getattr(exc, "sqlstate", None)
    return QueryFailed(f"{query}: {exc.__class__.__name__}: {first_line(exc)}", sqlstate=sqlstate)


def first_line(exc: BaseException) -> str:
    """The first line of an error's message (driver messages add DETAIL lines with row values)."""
    text = str(exc)
    return text.splitlines()[0] if text else ""
