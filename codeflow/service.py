"""`DatabaseService`: the typed async operations CodeFlow's services call.

Every `user_id` parameter is `users.id`, the Auth.js identity a session resolves to;
that `repositories.user_id` points at the profile stays inside the SQL.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import timedelta
from typing import TypedDict
from uuid import UUID

from pydantic import TypeAdapter

from codeflow.errors import InvalidInput, NotFound, register_constraint_messages
from codeflow.models import (
    NewUserProfile,
    Repository,
    RepositoryCounts,
    RepositoryData,
    UserProfile,
)
from codeflow.settings import Settings
from codeflow.store import (
    BATCH_SIZE,
    DAYS,
    GITHUB_ID,
    USER_ID,
    Executor,
    Store,
    build,
    declare_full_scans,
    declare_results,
    found,
    in_batches,
    setting,
    text,
    validated,
)

register_constraint_messages(
    {
        "user_profiles_user_id_key": "this user already has a profile",
        "user_profiles_github_id_key": "a profile with this GitHub id already exists",
        "user_profiles_username_key": "a profile with this GitHub login already exists",
        "user_profiles_user_id_fkey": "no such user",
        "repositories_user_id_github_id_key": "the user already monitors this repository",
        "repositories_user_id_full_name_key": "the user already monitors a repository with this name",
    }
)

_UUID: TypeAdapter[UUID] = TypeAdapter(UUID)


class _DeletedRepository(TypedDict):
    id: UUID


declare_results(
    create_user_profile=UserProfile,
    get_user_profile=UserProfile,
    get_user_profile_by_github_id=UserProfile,
    get_user_profile_by_username=UserProfile,
    update_user_profile_last_active=bool,
    count_user_profiles=int,
    delete_inactive_user_profiles=int,
    create_repository=Repository,
    get_repository=Repository,
    get_repository_by_github_id=Repository,
    get_repository_by_full_name=Repository,
    list_user_repositories=Repository,
    count_user_repositories=RepositoryCounts,
    update_repository=Repository,
    verify_repository_access=int,
    delete_repository=_DeletedRepository,
)
declare_full_scans(
    count_user_profiles="an operator statistic, not run per request",
)


class DatabaseService(Store):
    """CodeFlow's data operations over a pool (or, inside `transaction()`, one connection)."""

    def __init__(self, pool: Executor, *, settings: Settings | None = None) -> None:
        super().__init__(pool, settings=settings)
        self._activity_resolution = timedelta(seconds=setting(settings, "db_activity_resolution_s"))

    # --- user profiles -------------------------------------------------------------

    async def create_user_profile(self, *, user_id: str, github_id: int, username: str) -> UserProfile:
        """Create the profile of an Auth.js user.

        `AlreadyExists` if the user, GitHub id or login (any case) has one already;
        `ReferencedRowMissing` if there is no such user.
        """
        new = build(NewUserProfile, user_id=user_id, github_id=github_id, username=username)
        row = await self._run("create_user_profile", **new.model_dump())
        return UserProfile.from_row(row)

    async def get_user_profile(self, user_id: str) -> UserProfile:
        """The profile of an Auth.js user; `NotFound` if it has none."""
        row = await self._run("get_user_profile", user_id=validated(USER_ID, user_id, "user_id"))
        return UserProfile.from_row(found(row, "user profile"))

    async def get_user_profile_by_github_id(self, github_id: int) -> UserProfile:
        """The profile with this GitHub user id; `NotFound` if none."""
        row = await self._run("get_user_profile_by_github_id", github_id=_github_id(github_id))
        return UserProfile.from_row(found(row, "user profile"))

    async def get_user_profile_by_username(self, username: str) -> UserProfile:
        """The profile with this GitHub login, in any case; `NotFound` if none."""
        row = await self._run("get_user_profile_by_username", username=text(username, "username"))
        return UserProfile.from_row(found(row, "user profile"))

    async def update_user_last_active(self, user_id: str) -> None:
        """Record activity now. Writes at most once per `DB_ACTIVITY_RESOLUTION_S`;
        `NotFound` if the user has no profile."""
        has_profile = await self._run(
            "update_user_profile_last_active",
            user_id=validated(USER_ID, user_id, "user_id"),
            resolution=self._activity_resolution,
        )
        if not has_profile:
            raise NotFound("user profile not found")

    async def count_user_profiles(self) -> int:
        """How many profiles exist."""
        return int(await self._run("count_user_profiles"))

    async def cleanup_inactive_users(self, days_inactive: int = 30, *, batch_size: int = 500) -> int:
        """Delete profiles (and their repositories) inactive for `days_inactive` days.

        Works in batches of `batch_size` rows, each its own short statement, so no
        large table is locked for long; returns how many profiles were deleted.
        """
        days = validated(DAYS, days_inactive, "days_inactive")
        batch = validated(BATCH_SIZE, batch_size, "batch_size")
        return await in_batches(
            lambda: self._run("delete_inactive_user_profiles", days=days, batch_size=batch), batch
        )

    # --- repositories --------------------------------------------------------------

    async def get_user_repositories(self, user_id: str, active_only: bool = False) -> list[Repository]:
        """The user's repositories by full name; only active ones if `active_only`.
        Empty for a user with no profile."""
        rows = await self._run(
            "list_user_repositories",
            user_id=validated(USER_ID, user_id, "user_id"),
            active_only=_flag(active_only, "active_only"),
        )
        return [Repository.from_row(row) for row in rows]

    async def add_repository(self, user_id: str, data: RepositoryData) -> Repository:
        """Start monitoring a repository.

        The contract: call this only after GitHub has confirmed, with the user's own
        token, that the user can read the repository, and pass GitHub's `private` flag
        in `data`. The layer cannot ask GitHub; it records the check as
        `access_verified_at = now()`, and shows a private repository's PRs only while
        that is less than `DB_PRIVATE_ACCESS_WINDOW_S` old (renewed by
        `verify_repository_access`; docs/pull_requests.md).

        `AlreadyExists` if the user monitors it already (same GitHub id or name, any
        case); `NotFound` if the user has no profile.
        """
        if not isinstance(data, RepositoryData):
            raise InvalidInput("data must be a RepositoryData")
        row = await self._run(
            "create_repository", user_id=validated(USER_ID, user_id, "user_id"), **data.model_dump()
        )
        return Repository.from_row(found(row, "user profile"))

    async def get_repository(self, user_id: str, *, repository_id: UUID | str) -> Repository:
        """The user's repository with this id; `NotFound` if the user has none (another
        user's repository is not found either)."""
        row = await self._run(
            "get_repository",
            user_id=validated(USER_ID, user_id, "user_id"),
            repository_id=_uuid(repository_id),
        )
        return Repository.from_row(found(row, "repository"))

    async def get_repository_by_github_id(self, user_id: str, github_id: int) -> Repository:
        """The user's repository with this GitHub id; `NotFound` if none."""
        row = await self._run(
            "get_repository_by_github_id",
            user_id=validated(USER_ID, user_id, "user_id"),
            github_id=_github_id(github_id),
        )
        return Repository.from_row(found(row, "repository"))

    async def get_repository_by_full_name(self, user_id: str, full_name: str) -> Repository:
        """The user's repository called `owner/name` (any case); `NotFound` if none."""
        row = await self._run(
            "get_repository_by_full_name",
            user_id=validated(USER_ID, user_id, "user_id"),
            full_name=text(full_name, "full_name"),
        )
        return Repository.from_row(found(row, "repository"))

    async def count_user_repositories(self, user_id: str) -> RepositoryCounts:
        """How many repositories the user monitors, and how many are active;
        `NotFound` if the user has no profile."""
        row = await self._run("count_user_repositories", user_id=validated(USER_ID, user_id, "user_id"))
        return RepositoryCounts.from_row(found(row, "user profile"))

    async def update_repository(
        self, user_id: str, *, repository_id: UUID | str, is_active: bool
    ) -> Repository:
        """Pause or resume monitoring the user's repository; `NotFound` if the user has
        no repository with this id."""
        row = await self._run(
            "update_repository",
            user_id=validated(USER_ID, user_id, "user_id"),
            repository_id=_uuid(repository_id),
            is_active=_flag(is_active, "is_active"),
        )
        return Repository.from_row(found(row, "repository"))

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
            _github_id(github_id): _flag(private, "a private flag")
            for github_id, private in private_by_github_id.items()
        }
        checked_user = validated(USER_ID, user_id, "user_id")
        if not listed:
            return 0
        return await self._run(
            "verify_repository_access",
            user_id=checked_user,
            github_ids=list(listed),
            privates=list(listed.values()),
        )

    async def delete_repository(self, user_id: str, *, repository_id: UUID | str) -> None:
        """Stop monitoring and forget the user's repository; `NotFound` if the user has
        no repository with this id."""
        found(
            await self._run(
                "delete_repository",
                user_id=validated(USER_ID, user_id, "user_id"),
                repository_id=_uuid(repository_id),
            ),
            "repository",
        )


def _uuid(value: object) -> UUID:
    """A UUID, or its text form; anything else (bytes, an int) is refused rather than coerced."""
    if isinstance(value, UUID):
        return value
    if not isinstance(value, str):
        raise InvalidInput("repository_id must be a UUID or its text form")
    return validated(_UUID, value, "repository_id")


def _flag(value: object, what: str) -> bool:
    """`value` if it is a bool: bool("false") is True, so no truthiness is applied."""
    if not isinstance(value, bool):
        raise InvalidInput(f"{what} must be a bool")
    return value


def _github_id(value: object) -> int:
    return validated(GITHUB_ID, value, "github_id")
