"""The typed values that cross the package boundary (pydantic v2).

Rows become models through `from_row`; inputs are validated before any SQL runs.
Datetimes out are timezone-aware UTC; naive datetimes in are rejected.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Any, Self

from pydantic import (
    AfterValidator,
    AwareDatetime,
    BaseModel,
    ConfigDict,
    Field,
    ValidationError,
)

from codeflow.errors import QueryFailed

# PostgreSQL bigint: GitHub ids outgrow int4 but not int8.
BIGINT_MAX = 2**63 - 1

# The longest value, in characters, of every text column a caller writes. The input
# models enforce it, and a CHECK (char_length(column) <= n) in the migrations enforces
# the same number for every other client (tests/integration/test_value_limits.py compares
# the two). The bounds are what GitHub and Auth.js produce, with headroom; an indexed
# column stays under PostgreSQL's b-tree entry limit (2,704 bytes) even at 4 bytes a
# character, so an oversized value is refused as InvalidInput, never a 54000 error.
MAX_LENGTH: dict[str, int] = {
    "users.id": 255,
    "users.name": 1_024,
    "users.email": 320,  # RFC 5321: 64 for the local part, @, 255 for the domain
    "users.image": 65_536,  # a URL, or the data: URL some providers (Entra ID) send
    "accounts.type": 32,
    "accounts.provider": 255,
    "accounts.provider_account_id": 255,
    "accounts.refresh_token": 16_384,
    "accounts.access_token": 16_384,
    "accounts.token_type": 64,
    "accounts.scope": 4_096,
    "accounts.id_token": 16_384,
    "accounts.session_state": 4_096,
    "sessions.session_token": 255,
    "verification_tokens.identifier": 320,
    "verification_tokens.token": 255,
    "authenticators.credential_id": 1_400,  # base64 of WebAuthn's 1,023-byte maximum
    "authenticators.provider_account_id": 255,
    "authenticators.credential_public_key": 4_096,
    "authenticators.credential_device_type": 32,
    "authenticators.transports": 255,
    "pull_requests.title": 1_024,  # GitHub stops at 256
    "pull_requests.head_ref": 1_024,  # git and GitHub stop at 255 bytes
    "pull_requests.base_ref": 1_024,
    "pull_requests.html_url": 2_048,
}

# asyncpg writes datetime.min and datetime.max as -infinity and infinity and reads those
# back naive, and an offset near either end overflows UTC: a timestamp must lie inside
# Python's range by a day on each side. No real GitHub or Auth.js time comes near.
EARLIEST = datetime(1, 1, 2, tzinfo=UTC)
LATEST = datetime(9999, 12, 30, tzinfo=UTC)


def _no_nul(value: str) -> str:
    if "\x00" in value:
        raise ValueError("must not contain NUL characters")
    return value


def _storable(value: datetime) -> datetime:
    try:
        utc = value.astimezone(UTC)
    except OverflowError:
        raise ValueError("must lie between 0001-01-02 and 9999-12-30 UTC") from None
    if not EARLIEST <= utc <= LATEST:
        raise ValueError("must lie between 0001-01-02 and 9999-12-30 UTC")
    return value


# Inputs are strict: an int is not a bool, "42" or a Decimal; a str is not bytes; a
# datetime is an aware datetime, not a number or a string (which pydantic would parse).
Text = Annotated[str, Field(strict=True), AfterValidator(_no_nul)]
Timestamp = Annotated[AwareDatetime, Field(strict=True), AfterValidator(_storable)]
GithubId = Annotated[int, Field(strict=True, gt=0, le=BIGINT_MAX)]
GithubLogin = Annotated[str, Field(strict=True, pattern=r"^[A-Za-z0-9-]{1,39}$")]
RepositoryName = Annotated[str, Field(strict=True, pattern=r"^[A-Za-z0-9._-]{1,100}$")]
UserId = Annotated[Text, Field(min_length=1, max_length=MAX_LENGTH["users.id"])]
# A retention or inactivity period; 0 would mean "everything", which no caller means.
Days = Annotated[int, Field(strict=True, ge=1, le=36_500)]


def bounded(column: str, *, min_length: int = 0) -> Any:
    """`Field` metadata: the length bound of a text column (`MAX_LENGTH`)."""
    return Field(min_length=min_length, max_length=MAX_LENGTH[column])


class Input(BaseModel):
    """Base of the models a caller builds: strict types, no unknown fields, and errors
    that name a field but never quote the value (a token, an e-mail address)."""

    model_config = ConfigDict(frozen=True, extra="forbid", strict=True, hide_input_in_errors=True)


class Row(BaseModel):
    """Base of models read from the database."""

    model_config = ConfigDict(frozen=True, from_attributes=False)

    @classmethod
    def from_row(cls, row: Any) -> Self:
        """Build from an asyncpg Record (pydantic cannot validate a Record directly).

        A stored row that does not fit the model (written by another client, say) is a
        `QueryFailed` naming the fields, never a raw pydantic error or the values.
        """
        try:
            return cls.model_validate(dict(row))
        except ValidationError as exc:
            error = QueryFailed(
                f"a stored row does not fit {cls.__name__} (fields: {', '.join(_fields(exc))})"
            )
        # Raised outside the except block: the ValidationError, which quotes the stored
        # values, stays out of the chain (__context__ included).
        raise error


def _fields(exc: ValidationError) -> list[str]:
    """The fields a validation error is about, without their values."""
    return sorted({".".join(str(part) for part in error["loc"]) for error in exc.errors(include_input=False)})
