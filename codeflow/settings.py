"""Configuration from the environment (and a `.env` file), validated at start-up.

Every variable is documented in `.env.example`. A missing or malformed value fails
with `ConfigurationError` naming the variable; the database password never appears
in an error, a log line or a `repr`.
"""

from __future__ import annotations

from typing import Literal
from urllib.parse import urlsplit, urlunsplit

from pydantic import Field, SecretStr, ValidationError, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

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
        description="postgresql://user:password@host:port/dbname[?sslmode=...]",
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

    @field_validator("database_url")
    @classmethod
    def _postgres_url(cls, value: SecretStr) -> SecretStr:
        problem = url_problem(value.get_secret_value())
        if problem:
            raise ValueError(problem)
        return value

    @property
    def redacted_database_url(self) -> str:
        return redact_url(self.database_url.get_secret_value())


def load_settings(**overrides: object) -> Settings:
    """Read settings from the environment, or fail naming the variables at fault."""
    try:
        return Settings(**overrides)  # type: ignore[arg-type]
    except ValidationError as exc:
        problems = "; ".join(
            f"{'.'.join(str(part) for part in error['loc']).upper()}: {_describe(error)}"
            for error in exc.errors(include_input=False, include_url=False)
        )
        raise ConfigurationError(f"invalid settings: {problems}") from None


def _describe(error: object) -> str:
    details = dict(error)  # type: ignore[call-overload]
    if details.get("type") == "missing":
        return "is required (see .env.example)"
    return str(details.get("msg", "is invalid"))


def url_problem(url: str) -> str | None:
    """Why `url` is not a usable PostgreSQL URL, or None. Never echoes the URL."""
    try:
        parts = urlsplit(url)
        parts.port  # noqa: B018 - raises ValueError on a malformed port
    except ValueError:
        return "is not a valid URL"
    if parts.scheme not in ("postgresql", "postgres"):
        return "must start with postgresql:// (or postgres://)"
    if not parts.hostname and "host=" not in parts.query:
        return "must name a host (postgresql://user:password@host:port/dbname)"
    if not parts.path.strip("/"):
        return "must name a database (postgresql://user:password@host:port/dbname)"
    return None


def redact_url(url: str) -> str:
    """`url` with its password replaced by `***`, for messages and logs."""
    parts = urlsplit(url)
    if parts.password is None:
        return url
    user = parts.username or ""
    host = parts.hostname or ""
    host = f"[{host}]" if ":" in host else host
    port = f":{parts.port}" if parts.port else ""
    return urlunsplit(parts._replace(netloc=f"{user}:***@{host}{port}"))
