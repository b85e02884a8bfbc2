"""The asyncpg pool, built from `Settings` (internal: `codeflow.Database` owns the pools)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any, TypedDict, cast

import asyncpg

from codeflow import dburl
from codeflow.dburl import redact as redact_url
from codeflow.errors import CodeflowError, ConfigurationError, DatabaseUnavailable, translate
from codeflow.iam import RdsIamTokenProvider
from codeflow.queries import run
from codeflow.retry import Backoff, connect_with_retry
from codeflow.settings import Settings, load_settings
from codeflow.store import all_queries


async def _rollback_only(_connection: asyncpg.Connection) -> None:
    """Pool reset that adds nothing to the rollback asyncpg always does on release.

    The package's statements change no session state (a test checks every query
    file), settings are fixed at connect time, so the default reset query
    (RESET ALL; UNLISTEN *; advisory unlock) is a wasted round trip per checkout.
    """


PasswordProvider = Callable[[], str] | Callable[[], Awaitable[str]]


class PoolOptions(TypedDict, total=False):
    """The `asyncpg.create_pool` arguments this package sets."""

    dsn: str
    min_size: int
    max_size: int
    max_inactive_connection_lifetime: float
    timeout: float
    command_timeout: float
    server_settings: dict[str, str]
    reset: Callable[[asyncpg.Connection], Awaitable[None]] | None
    statement_cache_size: int
    connect: Callable[..., Awaitable[asyncpg.Connection]]
    password: PasswordProvider


def pool_options(
    settings: Settings, *, read_only: bool = False, password: PasswordProvider | None = None
) -> PoolOptions:
    """Keyword arguments for `asyncpg.create_pool` derived from `settings`.

    `read_only` builds the replica pool (DATABASE_READ_URL, falling back to
    DATABASE_URL); `password` overrides how passwords are obtained (by default an
    RDS IAM token provider when DB_IAM_AUTH is on, else the URL's password).
    """
    url = _url(settings, read_only=read_only)
    options = PoolOptions(
        dsn=url,
        min_size=min(settings.db_pool_min_size, settings.db_pool_max_size),
        max_size=settings.db_pool_max_size,
        max_inactive_connection_lifetime=settings.db_pool_max_idle_s,
        timeout=settings.db_connect_timeout_s,
        command_timeout=settings.db_command_timeout_s,
        server_settings=_server_settings(settings, read_only=read_only),
        # None keeps asyncpg's default reset query.
        reset=_rollback_only if settings.db_pool_reset == "transaction" else None,
        connect=_retrying_connect(settings, redact_url(url), primary_only=not read_only),
    )
    if settings.db_transaction_pooler:
        # Named statements live on one server connection, which the pooler hands to
        # other clients between transactions. With no cache asyncpg uses the unnamed
        # statement and re-parses it in the same Sync as its Bind/Execute.
        options["statement_cache_size"] = 0
    if password is None and settings.db_iam_auth:
        password = _iam_provider(settings, url)
    if password is not None:
        options["password"] = password
    return options


def _url(settings: Settings, *, read_only: bool) -> str:
    chosen = (read_only and settings.database_read_url) or settings.database_url
    return chosen.get_secret_value()


def _server_settings(settings: Settings, *, read_only: bool) -> dict[str, str]:
    if settings.db_transaction_pooler:
        # PgBouncer refuses start-up parameters it does not track and RDS Proxy pins
        # sessions that set them; the timeouts belong on the role (infra/roles.sql),
        # UTC on the database (first migration).
        return {"application_name": settings.db_application_name}
    server_settings = {
        "application_name": settings.db_application_name,
        "statement_timeout": str(settings.db_statement_timeout_ms),
        "idle_in_transaction_session_timeout": str(settings.db_idle_in_transaction_timeout_ms),
        "timezone": "UTC",
    }
    if read_only:
        # A write sent to the read pool fails even when it points at the primary.
        server_settings["default_transaction_read_only"] = "on"
    return server_settings


def _retrying_connect(
    settings: Settings, target: str, *, primary_only: bool
) -> Callable[..., Awaitable[asyncpg.Connection]]:
    """The pool's connect function: every new connection (start-up, after a failover,
    replacing an idle one) retries transient failures. `primary_only` (the write pool)
    refuses a server that is a standby or read-only, which a URL without
    target_session_attrs=read-write (or a DNS name not yet moved) can lead to: writes
    never go to a server that is not the current primary, and the refusal is retried
    like any failover in progress."""
    backoff = Backoff(
        attempts=settings.db_connect_attempts,
        first_delay_s=settings.db_connect_backoff_s,
        max_delay_s=settings.db_connect_backoff_max_s,
    )

    async def connect(*args: Any, **kwargs: Any) -> asyncpg.Connection:
        async def attempt() -> asyncpg.Connection:
            connection: asyncpg.Connection = await asyncpg.connect(*args, **kwargs)
            if primary_only and await _not_writable(connection):
                connection.terminate()
                raise asyncpg.TargetServerAttributeNotMatched(
                    "the server is a standby or read-only (not the current primary): not used for writes"
                )
            return connection

        return await connect_with_retry(attempt, backoff=backoff, target=target)

    return connect


async def _not_writable(connection: asyncpg.Connection) -> bool:
    """A hot standby, or a server (or role) with default_transaction_read_only on: a
    demoted or fenced old primary. PostgreSQL 14+ reports both at start-up, so the check
    costs no round trip there; poolers that do not pass them on get one query."""
    reported = connection.get_settings()
    if getattr(reported, "default_transaction_read_only", "off") == "on":
        return True
    in_hot_standby = getattr(reported, "in_hot_standby", None)
    if in_hot_standby is not None:
        return bool(in_hot_standby == "on")
    status = await run(connection, all_queries()["get_server_status"], (), slow_ms=float("inf"))
    return bool(status["in_recovery"])


def _iam_provider(settings: Settings, url: str) -> RdsIamTokenProvider:
    parsed = dburl.parse(url)
    if len(parsed.hosts) != 1 or parsed.hosts[0].is_socket or not parsed.user:
        raise ConfigurationError(
            "DB_IAM_AUTH=true: the database URL must name one host (a token is signed for it) and the user"
        )
    (host,) = parsed.hosts
    return RdsIamTokenProvider(
        host=host.name, port=host.port or 5432, user=parsed.user, region=settings.db_iam_region
    )


async def create_pool(
    settings: Settings | None = None, *, read_only: bool = False, password: PasswordProvider | None = None
) -> asyncpg.Pool:
    """Open a pool; `DatabaseUnavailable` (naming the server, not the password) if it can't.

    `read_only=True` opens the pool for lag-tolerant reads: on DATABASE_READ_URL when
    set (else DATABASE_URL), with every transaction read-only.
    """
    settings = settings or load_settings()
    try:
        options = pool_options(settings, read_only=read_only, password=password)
        # The stubs spell `connect` as a Protocol listing every connect() keyword.
        pool: asyncpg.Pool = await asyncpg.create_pool(**cast("dict[str, Any]", options))
        return pool
    except CodeflowError:
        raise
    except Exception as exc:  # noqa: BLE001 - translated, raised below
        error = translate(exc, query="connect")
    if isinstance(error, DatabaseUnavailable):
        target = redact_url(_url(settings, read_only=read_only))
        error = DatabaseUnavailable(f"cannot connect to {target}: {error}", sqlstate=error.sqlstate)
    raise error  # outside the except block: no driver error in the chain
