"""Configuration from the environment (and a `.env` file), validated at start-up.

Every variable is documented in `.env.example`. A missing or malformed value fails
with `ConfigurationError` naming the variable; the database password never appears
in an error, a log line or a `repr`.
"""

from __future__ import annotations

from typing import Literal, Self

from pydantic import Field, SecretStr, ValidationError, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from codeflow import dburl
from codeflow.errors import ConfigurationError


class Settings(BaseSettings):
    """Database settings. Field names are the environment variables, upper-cased."""

    model_config = SettingsConfigDict(
        env_file=".env",
        env_file_encoding="utf-8",
        extra="ignore",
        hide_input_in_errors=True,
        frozen=True,
    )

    database_url: SecretStr = Field(
        description=(
            "postgresql://user:password@host:port/dbname[?sslmode=...]; several hosts "
            "(host1:port1,host2:port2, with target_session_attrs) are a failover list."
        ),
    )
    db_pool_min_size: int = Field(default=1, ge=0, description="Connections kept open when idle.")
    db_pool_max_size: int = Field(default=10, ge=1, description="Most connections the pool opens.")
    db_pool_max_idle_s: float = Field(
        default=300.0, ge=0, description="Close a pooled connection idle this long (0: never)."
    )
    db_pool_reset: Literal["transaction", "full"] = Field(
        default="transaction",
        description=(
            "What a connection's release undoes. 'transaction' rolls back an open transaction "
            "(the package sets no other session state); 'full' also runs asyncpg's RESET ALL / "
            "UNLISTEN / advisory-unlock query, for pools shared with code that changes session state."
        ),
    )
    db_connect_timeout_s: float = Field(default=5.0, gt=0, description="Per connection attempt.")
    db_pool_acquire_timeout_s: float = Field(
        default=10.0, gt=0, description="Longest wait for a free pooled connection (then PoolExhausted)."
    )
    db_command_timeout_s: float = Field(
        default=30.0, gt=0, description="Client-side limit for one statement, network included."
    )
    db_statement_timeout_ms: int = Field(
        default=15_000, ge=0, description="Server-side statement_timeout (0: none)."
    )
    db_idle_in_transaction_timeout_ms: int = Field(
        default=60_000, ge=0, description="Server-side idle_in_transaction_session_timeout (0: none)."
    )
    db_application_name: str = Field(default="codeflow", description="Shown in pg_stat_activity.")
    db_slow_query_ms: float = Field(
        default=250.0, ge=0, description="Statements slower than this are logged at WARNING."
    )
    db_activity_resolution_s: float = Field(
        default=60.0,
        ge=0,
        description="update_user_last_active writes at most once per this many seconds per user.",
    )
    db_private_access_window_s: float = Field(
        default=86_400.0,
        gt=0,
        le=31_536_000,
        description=(
            "A private repository's PRs are shown to a user whose access to it was verified on "
            "GitHub (add_repository, verify_repository_access) at most this many seconds ago "
            "(at most a year: an older check proves nothing)."
        ),
    )
    database_read_url: SecretStr | None = Field(
        default=None,
        description=(
            "Optional read replica (same form as DATABASE_URL) for reads that tolerate "
            "replication lag: `Database.read`. Writes always use DATABASE_URL."
        ),
    )
    db_read_your_writes_s: float = Field(
        default=5.0,
        ge=0,
        description=(
            "After a write, the reads `Database.read` makes in the same request (asyncio context) "
            "go to the primary for this many seconds, so they see the write (0: never; reads "
            "always go to DATABASE_READ_URL). Without DATABASE_READ_URL every read is on the primary."
        ),
    )
    db_transaction_pooler: bool = Field(
        default=False,
        description=(
            "DATABASE_URL points at a transaction-pooling proxy (PgBouncer pool_mode=transaction, "
            "RDS Proxy): no named prepared statements, no session-level reset, and only "
            "application_name in the start-up packet (set timeouts on the role instead)."
        ),
    )
    db_connect_attempts: int = Field(
        default=4, ge=1, description="Tries per new connection when the failure is transient."
    )
    db_connect_backoff_s: float = Field(
        default=0.25, ge=0, description="Ceiling of the first random wait between tries; doubles per try."
    )
    db_connect_backoff_max_s: float = Field(
        default=4.0, ge=0, description="Largest ceiling of one wait between connection tries."
    )
    db_tracing: bool = Field(
        default=False,
        description=(
            "An OpenTelemetry span per named query (its name, db.system.name=postgresql, never a "
            "parameter value), sent to the service's tracer provider; needs codeflow-db[otel]."
        ),
    )
    db_iam_auth: bool = Field(
        default=False,
        description=(
            "Authenticate with RDS IAM tokens (boto3, the 'aws' extra) instead of a password; "
            "the user, host and port come from DATABASE_URL, which must carry no password."
        ),
    )
    db_iam_region: str | None = Field(
        default=None, description="AWS region of the database for IAM tokens (unset: AWS_REGION)."
    )

    @model_validator(mode="after")
    def _consistent(self) -> Self:
        if self.db_transaction_pooler and self.db_pool_reset == "full":
            raise ValueError(
                "DB_POOL_RESET=full runs RESET ALL on every release, which a transaction pooler "
                "applies to whichever server connection it picks (and RDS Proxy pins on): "
                "use DB_POOL_RESET=transaction with DB_TRANSACTION_POOLER=true"
            )
        urls = (self.database_url, self.database_read_url)
        if self.db_iam_auth and any(url and dburl.parse(url.get_secret_value()).has_password for url in urls):
            raise ValueError("DB_IAM_AUTH=true: the database URLs must not contain a password")
        return self

    @field_validator("database_url", "database_read_url")
    @classmethod
    def _postgres_url(cls, value: SecretStr | None) -> SecretStr | None:
        problem = value and dburl.problem(value.get_secret_value())
        if problem:
            raise ValueError(problem)
        return value

    @property
    def redacted_database_url(self) -> str:
        return dburl.redact(self.database_url.get_secret_value())


def load_settings(**overrides: object) -> Settings:
    """Read settings from the environment, or fail naming the variables at fault."""
    try:
        return Settings(**overrides)  # type: ignore[arg-type]
    except ValidationError as exc:
        problems = "; ".join(
            ": ".join(filter(None, (".".join(map(str, error["loc"])).upper(), _describe(error))))
            for error in exc.errors(include_input=False, include_url=False)
        )
        raise ConfigurationError(f"invalid settings: {problems}") from None


def _describe(error: object) -> str:
    details = dict(error)  # type: ignore[call-overload]
    if details.get("type") == "missing":
        return "is required (see .env.example)"
    if details.get("type") == "value_error":  # our validators' words, without pydantic's "Value error, "
        return str(details.get("ctx", {}).get("error", "is invalid"))
    return str(details.get("msg", "is invalid"))
