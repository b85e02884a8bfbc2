"""The errors callers of this package see: one hierarchy under `CodeflowError`.

Raw asyncpg errors never leave the package: `translate` turns each into the domain
error a caller can act on. Unique and foreign-key violations are told apart by the
constraint that fired, so the database (not a check-then-insert) decides.

No parameter value ever travels with an error. The driver's errors carry them (a
unique violation's DETAIL is `Key (email)=(...) already exists`, a bad uuid's message
quotes it), so a domain error keeps only what identifies the failure, as attributes
(`sqlstate`, `constraint`, `table`, `column`, as psycopg's errors do), and is raised
with no `__cause__` or `__context__`: `logger.exception()` prints the whole chain.
"""

from __future__ import annotations

import asyncio

import asyncpg


class CodeflowError(Exception):
    """Base of every error raised by the codeflow package.

    `sqlstate`, `constraint`, `table` and `column` are what the database reported about
    the failure (None when it reported nothing, or the error did not come from it).
    """

    def __init__(
        self,
        message: str,
        *,
        sqlstate: str | None = None,
        constraint: str | None = None,
        table: str | None = None,
        column: str | None = None,
    ) -> None:
        super().__init__(message)
        self.sqlstate = sqlstate
        self.constraint = constraint
        self.table = table
        self.column = column


class ConfigurationError(CodeflowError):
    """Settings are missing or malformed; raised at start-up."""


class InvalidInput(CodeflowError, ValueError):
    """An argument was rejected before (or by a CHECK constraint in) the database."""


class NotFound(CodeflowError, LookupError):
    """The row an operation needs does not exist."""


class AlreadyExists(CodeflowError):
    """A unique constraint refused the write; `constraint` names it."""


class ReferencedRowMissing(CodeflowError):
    """A foreign key refused the write: the row it points at does not exist."""


class DatabaseUnavailable(CodeflowError):
    """The database could not be reached, or the connection was lost (a backend killed,
    the server restarting or failing over) or timed out. Retrying later may succeed."""


class QueryTimeout(DatabaseUnavailable):
    """A statement ran out of time: the server's statement_timeout, or the client's
    DB_COMMAND_TIMEOUT_S."""


class PoolClosed(DatabaseUnavailable):
    """The `Database` is not open (never opened, or closed), or its pool closed while the
    call waited for a connection or ran."""


class PoolExhausted(CodeflowError):
    """Every pooled connection stayed busy for DB_POOL_ACQUIRE_TIMEOUT_S.

    Not a `DatabaseUnavailable`: the database answers, this process has more calls in
    flight than DB_POOL_MAX_SIZE connections serve (or calls that hold them too long).
    """


class TransactionConflict(CodeflowError):
    """A deadlock (SQLSTATE 40P01) or serialization failure (40001): the database rolled
    the transaction back, and running it again may succeed.

    A single statement a store runs on its pool (outside `transaction()`) is retried
    inside the package (a few attempts, with backoff) before this is raised; inside
    `transaction()` it is raised at once, since only the caller can run the whole
    transaction again.
    """


class QueryFailed(CodeflowError):
    """The database rejected a statement for a reason no other error describes."""


# What a violated constraint means to a caller, by constraint name: the one table of
# them, next to the errors it shapes. A name missing here still maps to the right class,
# with the constraint named in the message.
CONSTRAINT_MESSAGES: dict[str, str] = {
    "user_profiles_user_id_key": "this user already has a profile",
    "user_profiles_github_id_key": "a profile with this GitHub id already exists",
    "user_profiles_username_key": "a profile with this GitHub login already exists",
    "user_profiles_user_id_fkey": "no such user",
    "repositories_user_id_github_id_key": "the user already monitors this repository",
    "repositories_user_id_full_name_key": "the user already monitors a repository with this name",
    "users_email_key": "a user with this e-mail address already exists",
    "accounts_provider_provider_account_id_key": "this provider account is already linked",
    "accounts_user_id_fkey": "no such user",
    "sessions_session_token_key": "a session with this token already exists",
    "sessions_user_id_fkey": "no such user",
    "verification_tokens_pkey": "this verification token already exists",
    "authenticators_pkey": "this authenticator is already registered",
    "authenticators_credential_id_key": "an authenticator with this credential id already exists",
    "authenticators_user_id_fkey": "no such user",
    "pull_requests_id_key": (
        "this pull request id is cached under another repository or number, which GitHub never changes"
    ),
}

_UNAVAILABLE = (
    OSError,
    asyncpg.PostgresConnectionError,  # class 08, ConnectionDoesNotExistError among them
    asyncpg.CannotConnectNowError,
    asyncpg.TooManyConnectionsError,
    asyncpg.AdminShutdownError,  # 57P01: pg_terminate_backend, a fast shutdown
    asyncpg.CrashShutdownError,
    asyncpg.IdleInTransactionSessionTimeoutError,  # 25P03: the server ended the session
    asyncpg.InternalClientError,
)
_CONFLICTS = (asyncpg.DeadlockDetectedError, asyncpg.SerializationError)

# asyncpg reports a dead connection, and a closed pool, as a plain InterfaceError: the
# connection's holder is detached as soon as the socket closes, so the next statement
# on it finds it "released back to the pool" though the package never released it.
_LOST_CONNECTION = ("connection is closed", "released back to the pool")
_POOL_CLOSED = ("pool is closing", "pool is closed")

# SQLSTATE classes whose primary message names objects (tables, types, settings), never
# data: 08 connection, 0A unsupported, 25 transaction state, 28 authorization, 3D/3F catalog/schema,
# 40 rollback, 42 syntax/access, 53 resources, 54 limits, 55 state, 57 intervention,
# 58 system. Others (22 data, 23 integrity, P0 raise, XX) may quote a value.
_NAMES_NO_VALUES = frozenset({"08", "0A", "25", "28", "3D", "3F", "40", "42", "53", "54", "55", "57", "58"})


def _client_data_error(exc: BaseException) -> bool:
    """asyncpg's own DataError (an argument it could not encode), which it does not
    export: the public InterfaceError that is also a ValueError, bar a configuration error."""
    return (
        isinstance(exc, asyncpg.InterfaceError)
        and isinstance(exc, ValueError)
        and not isinstance(exc, asyncpg.ClientConfigurationError)
    )


def translate(exc: BaseException, *, query: str) -> CodeflowError:
    """The domain error for a driver error raised while running `query`.

    Messages carry the query name, the error's class and SQLSTATE, the constraint,
    never parameter values. Raise the result outside the `except` block that caught
    `exc` (or `from None` there and clear `__context__`), so that the chain does not
    carry the driver error either.
    """
    if isinstance(exc, CodeflowError):
        return exc
    fields = _fields(exc)
    constraint = fields["constraint"]
    if isinstance(exc, asyncpg.UniqueViolationError):
        meaning = CONSTRAINT_MESSAGES.get(constraint or "")
        return AlreadyExists(meaning or f"{query}: duplicate ({constraint})", **fields)
    if isinstance(exc, asyncpg.ForeignKeyViolationError):
        meaning = CONSTRAINT_MESSAGES.get(constraint or "")
        return ReferencedRowMissing(meaning or f"{query}: referenced row missing ({constraint})", **fields)
    if isinstance(exc, (asyncpg.CheckViolationError, asyncpg.NotNullViolationError)):
        return InvalidInput(f"{query}: {describe(exc)} ({constraint or fields['column']})", **fields)
    if isinstance(exc, asyncpg.DataError) or _client_data_error(exc):
        # Both the server's class 22 errors and asyncpg's encoding errors quote the
        # offending value, which may be a token or an e-mail address: describe() leaves it out.
        return InvalidInput(f"{query}: a value was rejected: {describe(exc)}", **fields)
    if isinstance(exc, _CONFLICTS):
        return TransactionConflict(f"{query}: {describe(exc)}", **fields)
    if isinstance(exc, (asyncio.TimeoutError, asyncpg.QueryCanceledError)):
        return QueryTimeout(f"{query}: timed out: {describe(exc)}", **fields)
    if isinstance(exc, asyncpg.InterfaceError) and str(exc).startswith(_POOL_CLOSED):
        return PoolClosed(f"{query}: the pool is closed: {describe(exc)}")
    if isinstance(exc, _UNAVAILABLE) or (
        isinstance(exc, asyncpg.InterfaceError) and any(text in str(exc) for text in _LOST_CONNECTION)
    ):
        return DatabaseUnavailable(f"{query}: database unavailable: {describe(exc)}", **fields)
    return QueryFailed(f"{query}: {describe(exc)}", **fields)


def describe(exc: BaseException) -> str:
    """`exc`'s class, SQLSTATE and, when it cannot hold a value, first line of its message."""
    sqlstate = _fields(exc)["sqlstate"]
    name = exc.__class__.__name__ + (f" (SQLSTATE {sqlstate})" if sqlstate else "")
    if isinstance(exc, asyncpg.PostgresError):
        safe = (sqlstate or "")[:2] in _NAMES_NO_VALUES
    else:
        # Client-side errors of the socket or the driver's state, never its encoders
        # (asyncpg's DataError quotes the argument it could not encode).
        safe = isinstance(exc, (OSError, asyncpg.InterfaceError)) and not _client_data_error(exc)
    line = first_line(exc) if safe else ""
    return f"{name}: {line}" if line else name


def _fields(exc: BaseException) -> dict[str, str | None]:
    """What a server error says about the failure, minus any value (no DETAIL, no HINT)."""
    server = isinstance(exc, asyncpg.PostgresError)
    return {
        "sqlstate": getattr(exc, "sqlstate", None) if server else None,
        "constraint": getattr(exc, "constraint_name", None) if server else None,
        "table": getattr(exc, "table_name", None) if server else None,
        "column": getattr(exc, "column_name", None) if server else None,
    }


def first_line(exc: BaseException) -> str:
    """The first line of an error's message (driver messages add DETAIL lines with row values)."""
    text = str(exc)
    return text.splitlines()[0] if text else ""
