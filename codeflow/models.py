"""The typed values that cross the package boundary (pydantic v2).

Rows become models through `from_row`; inputs are validated before any SQL runs.
Datetimes out are timezone-aware UTC; naive datetimes in are rejected.
"""

from __future__ import annotations

from typing import Annotated, Any, Self
from uuid import UUID

from pydantic import (
    AfterValidator,
    AwareDatetime,
    BaseModel,
    ConfigDict,
    Field,
    ValidationError,
    model_validator,
)

from codeflow.errors import QueryFailed

# PostgreSQL bigint: GitHub ids outgrow int4 but not int8.
BIGINT_MAX = 2**63 - 1


def _no_nul(value: str) -> str:
    if "\x00" in value:
        raise ValueError("must not contain NUL characters")
    return value


Text = Annotated[str, AfterValidator(_no_nul)]
GithubId = Annotated[int, Field(gt=0, le=BIGINT_MAX)]
GithubLogin = Annotated[str, Field(pattern=r"^[A-Za-z0-9-]{1,39}$")]
RepositoryName = Annotated[str, Field(pattern=r"^[A-Za-z0-9._-]{1,100}$")]
UserId = Annotated[str, Field(min_length=1, max_length=255), AfterValidator(_no_nul)]
# A retention or inactivity period; 0 would mean "everything", which no caller means.
Days = Annotated[int, Field(strict=True, ge=1, le=36_500)]


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
            fields = sorted({".".join(str(part) for part in error["loc"]) for error in exc.errors()})
            raise QueryFailed(
                f"a stored row does not fit {cls.__name__} (fields: {', '.join(fields)})", sqlstate=None
            ) from None


class UserProfile(Row):
    id: UUID
    user_id: str
    github_id: int
    username: str
    last_active_at: AwareDatetime
    created_at: AwareDatetime
    updated_at: AwareDatetime


class Repository(Row):
    id: UUID
    user_id: str = Field(description="The Auth.js user (users.id) who monitors it.")
    github_id: int
    name: str
    full_name: str
    owner: str
    is_active: bool
    private: bool = Field(description="GitHub's private flag, as the caller last saw it.")
    access_verified_at: AwareDatetime | None = Field(
        description="When the caller last confirmed on GitHub that this user can read it; None: never."
    )
    created_at: AwareDatetime
    updated_at: AwareDatetime


class RepositoryCounts(Row):
    total: int
    active: int


class NewUserProfile(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    user_id: UserId
    github_id: GithubId
    username: GithubLogin


class RepositoryData(BaseModel):
    """A repository to monitor, as GitHub describes it."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    github_id: GithubId
    name: RepositoryName
    full_name: str
    owner: GithubLogin
    # No default, as neither is safe to assume: false would keep a private repository's
    # PRs visible after the user loses access, true would hide a public one's once the
    # access window lapses. Every caller has GitHub's answer at hand.
    private: bool = Field(strict=True)
    is_active: bool = True

    @model_validator(mode="after")
    def _full_name_is_owner_slash_name(self) -> Self:
        # Exactly, as GitHub spells it and as repositories_full_name_check compares.
        if self.full_name != f"{self.owner}/{self.name}":
            raise ValueError("full_name must be owner/name")
        return self


class HealthReport(BaseModel):
    """What the app's health endpoint reports about the database."""

    model_config = ConfigDict(frozen=True)

    ok: bool
    server_version: str | None = None
    in_recovery: bool | None = None
    latency_ms: float | None = None
    pool_size: int = 0
    pool_idle: int = 0
    pool_max: int = 0
    applied_migrations: int = 0
    pending_migrations: list[str] = Field(default_factory=list)
    error: str | None = None
