"""SQLAlchemy 2 mapped classes for the benchmarked tables, and the ORM way of doing
each operation (load, change attributes, commit; server defaults fetched back)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from uuid import UUID

from sqlalchemy import BigInteger, DateTime, Select, delete, func, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column
from sqlalchemy.schema import FetchedValue

# As the other clients run update_user_last_active: every call writes.
ACTIVITY_RESOLUTION = timedelta(0)


class Base(DeclarativeBase):
    type_annotation_map = {datetime: DateTime(timezone=True), int: BigInteger}  # noqa: RUF012 - SQLAlchemy's declaration


class User(Base):
    __tablename__ = "users"

    id: Mapped[str] = mapped_column(primary_key=True)
    name: Mapped[str | None]
    email: Mapped[str | None]
    email_verified: Mapped[datetime | None]
    image: Mapped[str | None]


class Session(Base):
    __tablename__ = "sessions"

    id: Mapped[str] = mapped_column(primary_key=True, server_default=FetchedValue())
    session_token: Mapped[str]
    user_id: Mapped[str]
    expires: Mapped[datetime]


class Timestamps:
    """created_at and updated_at, which the database maintains (default, trigger)."""

    created_at: Mapped[datetime] = mapped_column(server_default=FetchedValue())
    updated_at: Mapped[datetime] = mapped_column(
        server_default=FetchedValue(), server_onupdate=FetchedValue()
    )


class UserProfile(Timestamps, Base):
    __tablename__ = "user_profiles"
    __mapper_args__ = {"eager_defaults": True}  # noqa: RUF012 - SQLAlchemy's declaration

    id: Mapped[UUID] = mapped_column(primary_key=True, server_default=FetchedValue())
    user_id: Mapped[str]
    github_id: Mapped[int]
    username: Mapped[str]
    last_active_at: Mapped[datetime] = mapped_column(server_default=FetchedValue())


class Repository(Timestamps, Base):
    __tablename__ = "repositories"
    __mapper_args__ = {"eager_defaults": True}  # noqa: RUF012 - SQLAlchemy's declaration

    id: Mapped[UUID] = mapped_column(primary_key=True, server_default=FetchedValue())
    user_id: Mapped[UUID]
    github_id: Mapped[int]
    name: Mapped[str]
    full_name: Mapped[str]
    owner: Mapped[str]
    is_active: Mapped[bool] = mapped_column(server_default=FetchedValue())
    private: Mapped[bool] = mapped_column(server_default=FetchedValue())
    access_verified_at: Mapped[datetime | None]


def list_repositories(user_id: str) -> Select[Repository, str]:
    return (
        select(Repository, UserProfile.user_id)
        .join(UserProfile, UserProfile.id == Repository.user_id)
        .where(UserProfile.user_id == user_id)
        .order_by(Repository.full_name)
    )


def session_and_user(token: str) -> Select[Session, User]:
    return (
        select(Session, User)
        .join(User, User.id == Session.user_id)
        .where(Session.session_token == token, Session.expires > func.now())
    )


async def touch(session: AsyncSession, user_id: str) -> None:
    profile = await session.scalar(select(UserProfile).where(UserProfile.user_id == user_id))
    if profile is None:
        raise LookupError("user profile not found")
    if datetime.now(UTC) - profile.last_active_at >= ACTIVITY_RESOLUTION:
        profile.last_active_at = func.now()


async def update_repository(
    session: AsyncSession, user_id: str, repository_id: UUID, is_active: bool
) -> None:
    row = (
        await session.execute(
            select(Repository, UserProfile.user_id)
            .join(UserProfile, UserProfile.id == Repository.user_id)
            .where(UserProfile.user_id == user_id, Repository.id == repository_id)
        )
    ).one_or_none()
    if row is None:
        raise LookupError("repository not found")
    row[0].is_active = is_active


async def add_repository(session: AsyncSession, user_id: str, github_id: int, owner: str, name: str) -> None:
    profile_id = await session.scalar(select(UserProfile.id).where(UserProfile.user_id == user_id))
    if profile_id is None:
        raise LookupError("user profile not found")
    session.add(
        Repository(
            user_id=profile_id,
            github_id=github_id,
            name=name,
            full_name=f"{owner}/{name}",
            owner=owner,
            is_active=True,
            private=False,
            access_verified_at=func.now(),
        )
    )


async def delete_inactive(session: AsyncSession, days: int, batch_size: int) -> int:
    # The cutoff by the database clock that wrote last_active_at, as the profile store computes it.
    doomed = (
        select(UserProfile.id)
        .where(UserProfile.last_active_at < func.now() - timedelta(days=days))
        .order_by(UserProfile.last_active_at)
        .limit(batch_size)
        .with_for_update(skip_locked=True)
        .cte("doomed")
    )
    result = await session.execute(
        delete(UserProfile)
        .where(UserProfile.id.in_(select(doomed.c.id)))
        .execution_options(synchronize_session=False)
    )
    return int(result.rowcount)  # type: ignore[attr-defined]
