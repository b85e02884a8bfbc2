"""`ProfileStore` (`Database.profiles`): a signed-in user's GitHub identity in CodeFlow,
at most one per Auth.js user, and the activity that drives inactive-user cleanup.

Every `user_id` is `users.id`, the Auth.js identity a session resolves to.
"""

from __future__ import annotations

from datetime import timedelta
from uuid import UUID

from pydantic import AwareDatetime

from codeflow import generated_queries as sql
from codeflow.errors import NotFound
from codeflow.models import GithubId, GithubLogin, Input, Row, UserId
from codeflow.store import (
    BATCH_SIZE,
    DAYS,
    GITHUB_ID,
    USER_ID,
    Runner,
    Store,
    build,
    counted,
    found,
    in_batches,
    text,
    validated,
    written,
)


class UserProfile(Row):
    id: UUID
    user_id: str
    github_id: int
    username: str
    last_active_at: AwareDatetime
    created_at: AwareDatetime
    updated_at: AwareDatetime


class UserProfileData(Input):
    """A profile as `create_user_profile` checks its arguments."""

    user_id: UserId
    github_id: GithubId
    username: GithubLogin


class ProfileStore(Store):
    """User profiles (`Database.profiles`, or a transaction's)."""

    def __init__(self, runner: Runner) -> None:
        super().__init__(runner)
        self._activity_resolution = timedelta(seconds=runner.settings.db_activity_resolution_s)

    async def create_user_profile(self, user_id: str, *, github_id: int, username: str) -> UserProfile:
        """Create the profile of an Auth.js user.

        `AlreadyExists` if the user, GitHub id or login (any case) has one already;
        `ReferencedRowMissing` if there is no such user.
        """
        new = build(UserProfileData, user_id=user_id, github_id=github_id, username=username)
        created = await sql.create_user_profile(
            self._runner, user_id=new.user_id, github_id=new.github_id, username=new.username
        )
        return written(created, "create_user_profile")

    async def get_user_profile(self, user_id: str) -> UserProfile:
        """The profile of an Auth.js user; `NotFound` if it has none."""
        profile = await sql.get_user_profile(self._runner, user_id=validated(USER_ID, user_id, "user_id"))
        return found(profile, "user profile")

    async def get_user_profile_by_github_id(self, github_id: int) -> UserProfile:
        """The profile with this GitHub user id; `NotFound` if none."""
        profile = await sql.get_user_profile_by_github_id(
            self._runner, github_id=validated(GITHUB_ID, github_id, "github_id")
        )
        return found(profile, "user profile")

    async def get_user_profile_by_username(self, username: str) -> UserProfile:
        """The profile with this GitHub login, in any case; `NotFound` if none."""
        profile = await sql.get_user_profile_by_username(self._runner, username=text(username, "username"))
        return found(profile, "user profile")

    async def update_user_last_active(self, user_id: str) -> None:
        """Record activity now. Writes at most once per `DB_ACTIVITY_RESOLUTION_S`;
        `NotFound` if the user has no profile."""
        has_profile = await sql.update_user_profile_last_active(
            self._runner,
            user_id=validated(USER_ID, user_id, "user_id"),
            resolution=self._activity_resolution,
        )
        if not has_profile:
            raise NotFound("user profile not found")

    async def count_user_profiles(self) -> int:
        """How many profiles exist."""
        return counted(await sql.count_user_profiles(self._runner))

    async def cleanup_inactive_users(self, days_inactive: int = 30, *, batch_size: int = 500) -> int:
        """Delete profiles (and their repositories) inactive for `days_inactive` days.

        Works in batches of `batch_size` rows, each its own short statement, so no
        large table is locked for long; returns how many profiles were deleted.
        """
        days = validated(DAYS, days_inactive, "days_inactive")
        batch = validated(BATCH_SIZE, batch_size, "batch_size")
        return await in_batches(
            lambda: sql.delete_inactive_user_profiles(self._runner, days=days, batch_size=batch), batch
        )
