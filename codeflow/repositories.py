"""`RepositoryStore` (`Database.repositories`): the GitHub repositories each user
monitors, and who may see a private one's pull requests.

Every `user_id` is `users.id`, the Auth.js identity a session resolves to; that
`repositories.user_id` points at the profile stays inside the SQL.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Self, TypedDict
from uuid import UUID

from pydantic import AwareDatetime, Field, model_validator

from codeflow import generated_queries as sql
from codeflow.errors import InvalidInput
from codeflow.models import GithubId, GithubLogin, Input, RepositoryName, Row
from codeflow.store import (
    GITHUB_ID,
    USER_ID,
    Store,
    build,
    counted,
    flag,
    found,
    text,
    validated,
)


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


class RepositoryData(Input):
    """A repository to monitor, as `add_repository` checks its arguments."""

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


class DeletedRepository(TypedDict):
    """The row `delete_repository` returns."""

    id: UUID


class RepositoryStore(Store):
    """Monitored repositories (`Database.repositories`, or a transaction's)."""

    async def get_user_repositories(self, user_id: str, *, active_only: bool = False) -> list[Repository]:
        """The user's repositories by full name; only active ones if `active_only`.
        Empty for a user with no profile."""
        return await sql.list_user_repositories(
            self._runner,
            user_id=validated(USER_ID, user_id, "user_id"),
            active_only=flag(active_only, "active_only"),
        )

    async def add_repository(
        self,
        user_id: str,
        *,
        github_id: int,
        name: str,
        full_name: str,
        owner: str,
        private: bool,
        is_active: bool = True,
    ) -> Repository:
        """Start monitoring a repository.

        The contract: call this only after GitHub has confirmed, with the user's own
        token, that the user can read the repository, and pass GitHub's `private` flag.
        The layer cannot ask GitHub; it records the check as
        `access_verified_at = now()`, and shows a private repository's PRs only while
        that is less than `DB_PRIVATE_ACCESS_WINDOW_S` old (renewed by
        `verify_repository_access`; docs/pull_requests.md).

        `full_name` is `owner/name` exactly as GitHub spells it. `AlreadyExists` if the
        user monitors it already (same GitHub id or name, any case); `NotFound` if the
        user has no profile.
        """
        data = build(
            RepositoryData,
            github_id=github_id,
            name=name,
            full_name=full_name,
            owner=owner,
            private=private,
            is_active=is_active,
        )
        created = await sql.create_repository(
            self._runner,
            user_id=validated(USER_ID, user_id, "user_id"),
            github_id=data.github_id,
            name=data.name,
            full_name=data.full_name,
            owner=data.owner,
            is_active=data.is_active,
            private=data.private,
        )
        return found(created, "user profile")

    async def get_repository(self, user_id: str, *, repository_id: UUID | str) -> Repository:
        """The user's repository with this id; `NotFound` if the user has none (another
        user's repository is not found either)."""
        repository = await sql.get_repository(
            self._runner, user_id=validated(USER_ID, user_id, "user_id"), repository_id=_uuid(repository_id)
        )
        return found(repository, "repository")

    async def get_repository_by_github_id(self, user_id: str, *, github_id: int) -> Repository:
        """The user's repository with this GitHub id; `NotFound` if none."""
        repository = await sql.get_repository_by_github_id(
            self._runner, user_id=validated(USER_ID, user_id, "user_id"), github_id=_github_id(github_id)
        )
        return found(repository, "repository")

    async def get_repository_by_full_name(self, user_id: str, *, full_name: str) -> Repository:
        """The user's repository called `owner/name` (any case); `NotFound` if none."""
        repository = await sql.get_repository_by_full_name(
            self._runner,
            user_id=validated(USER_ID, user_id, "user_id"),
            full_name=text(full_name, "full_name"),
        )
        return found(repository, "repository")

    async def count_user_repositories(self, user_id: str) -> RepositoryCounts:
        """How many repositories the user monitors, and how many are active;
        `NotFound` if the user has no profile."""
        counts = await sql.count_user_repositories(
            self._runner, user_id=validated(USER_ID, user_id, "user_id")
        )
        return found(counts, "user profile")

    async def update_repository(
        self, user_id: str, *, repository_id: UUID | str, is_active: bool
    ) -> Repository:
        """Pause or resume monitoring the user's repository; `NotFound` if the user has
        no repository with this id."""
        repository = await sql.update_repository(
            self._runner,
            user_id=validated(USER_ID, user_id, "user_id"),
            repository_id=_uuid(repository_id),
            is_active=flag(is_active, "is_active"),
        )
        return found(repository, "repository")

    async def verify_repository_access(
        self, user_id: str, *, private_by_github_id: Mapping[int, bool]
    ) -> int:
        """Record that GitHub, asked with the user's token, lists these repositories for
        the user now: GitHub repository id -> its `private` flag, as in GitHub's list of
        the user's repositories (for the sync job). Sets `access_verified_at` to now and
        `private` to GitHub's value on the user's repositories among them, so a private
        repository's PRs stay visible for another `DB_PRIVATE_ACCESS_WINDOW_S`, and a
        repository of unknown visibility (from before the column) gets GitHub's.
        Repositories the user does not monitor are ignored; one missing from the list is
        left alone and drops out of sight when its window lapses. Pass a partial list
        (one page of GitHub's) as often as needed. Returns how many repositories of the
        user it updated; one statement.
        """
        if not isinstance(private_by_github_id, Mapping):
            raise InvalidInput("private_by_github_id must be a mapping of GitHub id to bool")
        listed = {
            _github_id(github_id): flag(private, "a private flag")
            for github_id, private in private_by_github_id.items()
        }
        checked_user = validated(USER_ID, user_id, "user_id")
        if not listed:
            return 0
        verified = await sql.verify_repository_access(
            self._runner, user_id=checked_user, github_ids=list(listed), privates=list(listed.values())
        )
        return counted(verified)

    async def delete_repository(self, user_id: str, *, repository_id: UUID | str) -> None:
        """Stop monitoring and forget the user's repository; `NotFound` if the user has
        no repository with this id."""
        deleted = await sql.delete_repository(
            self._runner, user_id=validated(USER_ID, user_id, "user_id"), repository_id=_uuid(repository_id)
        )
        found(deleted, "repository")


def _uuid(value: object) -> UUID:
    """A UUID, or its text form; anything else (bytes, an int) is refused rather than coerced."""
    if isinstance(value, UUID):
        return value
    if not isinstance(value, str):
        raise InvalidInput("repository_id must be a UUID or its text form")
    try:
        return UUID(value)
    except ValueError:
        # Not pydantic's message: it quotes a character of the input ("found `s` at 0").
        error = InvalidInput("repository_id is not a UUID")
    raise error


def _github_id(value: object) -> int:
    return validated(GITHUB_ID, value, "github_id")
