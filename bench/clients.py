"""The same logical operations through each client library.

Every client runs the SQL of queries/*.sql (SQLAlchemy builds its own equivalent
through mapped classes, as an ORM user would). Each opens a pool of `POOL_SIZE`.
An operation returns nothing the harness uses; it must do the whole round trip and
build what that library's user would get (models, ORM objects, tuples).
"""

from __future__ import annotations

import re
from datetime import timedelta
from functools import cache
from typing import Any, ClassVar
from uuid import UUID

import asyncpg

from codeflow import Database, load_settings
from codeflow.store import all_queries

POOL_SIZE = 10
CLEANUP_DAYS = 30
CLEANUP_BATCH = 500


def auth_available() -> bool:
    """True when the Auth.js session lookup (another issue's work) has its query."""
    return "get_auth_session_and_user" in all_queries()


class Client:
    """One library's way of doing the benchmark's operations."""

    name: ClassVar[str]

    def __init__(self, url: str) -> None:
        self.url = url

    async def open(self) -> None:
        raise NotImplementedError

    async def close(self) -> None:
        raise NotImplementedError

    async def list_repositories(self, user_id: str) -> None:
        raise NotImplementedError

    async def session_and_user(self, token: str) -> None:
        raise NotImplementedError

    async def touch(self, user_id: str) -> None:
        raise NotImplementedError

    async def update_repository(self, user_id: str, repository_id: UUID, is_active: bool) -> None:
        raise NotImplementedError

    async def add_repository(self, user_id: str, github_id: int, owner: str, name: str) -> None:
        raise NotImplementedError

    async def create_profile(self, user_id: str, github_id: int, username: str) -> None:
        raise NotImplementedError

    async def cleanup(self) -> int:
        raise NotImplementedError


class CodeflowClient(Client):
    """CodeFlow's `Database`: its profile, repository and auth stores on its own pool."""

    name = "codeflow"

    async def open(self) -> None:
        # Resolution 0: every update_user_last_active call writes, as in every other client.
        settings = load_settings(
            database_url=self.url,
            db_pool_min_size=POOL_SIZE,
            db_pool_max_size=POOL_SIZE,
            db_activity_resolution_s=0,
        )
        self.database = await Database(settings).open()

    async def close(self) -> None:
        await self.database.close()

    async def list_repositories(self, user_id: str) -> None:
        await self.database.repositories.get_user_repositories(user_id)

    async def session_and_user(self, token: str) -> None:
        await self.database.auth.get_session_and_user(token)

    async def touch(self, user_id: str) -> None:
        await self.database.profiles.update_user_last_active(user_id)

    async def update_repository(self, user_id: str, repository_id: UUID, is_active: bool) -> None:
        await self.database.repositories.update_repository(
            user_id, repository_id=repository_id, is_active=is_active
        )

    async def add_repository(self, user_id: str, github_id: int, owner: str, name: str) -> None:
        await self.database.repositories.add_repository(
            user_id, github_id=github_id, name=name, full_name=f"{owner}/{name}", owner=owner, private=False
        )

    async def create_profile(self, user_id: str, github_id: int, username: str) -> None:
        await self.database.profiles.create_user_profile(
            user_id=user_id, github_id=github_id, username=username
        )

    async def cleanup(self) -> int:
        return await self.database.profiles.cleanup_inactive_users(CLEANUP_DAYS, batch_size=CLEANUP_BATCH)


def _statement(name: str, values: dict[str, Any]) -> tuple[str, list[Any]]:
    """The query's SQL and its positional arguments ($N order is aiosql's, not the declaration's)."""
    query = all_queries()[name]
    return query.sql, query.args(values)


class RawSqlClient(Client):
    """A client that sends the statements of queries/*.sql itself."""

    async def row(self, query: str, /, **values: Any) -> Any:
        raise NotImplementedError

    async def rows(self, query: str, /, **values: Any) -> list[Any]:
        raise NotImplementedError

    async def list_repositories(self, user_id: str) -> None:
        await self.rows("list_user_repositories", user_id=user_id, active_only=False)

    async def session_and_user(self, token: str) -> None:
        await self.row("get_auth_session_and_user", session_token=token)

    async def touch(self, user_id: str) -> None:
        await self.row("update_user_profile_last_active", user_id=user_id, resolution=timedelta(0))

    async def update_repository(self, user_id: str, repository_id: UUID, is_active: bool) -> None:
        await self.row("update_repository", user_id=user_id, repository_id=repository_id, is_active=is_active)

    async def add_repository(self, user_id: str, github_id: int, owner: str, name: str) -> None:
        await self.row(
            "create_repository",
            user_id=user_id,
            github_id=github_id,
            name=name,
            full_name=f"{owner}/{name}",
            owner=owner,
            is_active=True,
            private=False,
        )

    async def create_profile(self, user_id: str, github_id: int, username: str) -> None:
        await self.row("create_user_profile", user_id=user_id, github_id=github_id, username=username)

    async def cleanup(self) -> int:
        total = 0
        while True:
            found = await self.row(
                "delete_inactive_user_profiles", days=CLEANUP_DAYS, batch_size=CLEANUP_BATCH
            )
            deleted = int(found[0])
            total += deleted
            if deleted < CLEANUP_BATCH:
                return total


class AsyncpgClient(RawSqlClient):
    """asyncpg as its documentation shows it: a default pool, pool.fetch/fetchrow."""

    name = "asyncpg"

    async def open(self) -> None:
        self.pool = await asyncpg.create_pool(self.url, min_size=POOL_SIZE, max_size=POOL_SIZE)

    async def close(self) -> None:
        await self.pool.close()

    async def row(self, query: str, /, **values: Any) -> Any:
        sql, args = _statement(query, values)
        return await self.pool.fetchrow(sql, *args)

    async def rows(self, query: str, /, **values: Any) -> list[Any]:
        sql, args = _statement(query, values)
        return await self.pool.fetch(sql, *args)


class PsycopgClient(RawSqlClient):
    """psycopg 3 async on psycopg_pool, autocommit (one round trip per statement, like
    asyncpg's implicit transactions), server-side prepared after the default 5 uses."""

    name = "psycopg"

    async def open(self) -> None:
        from psycopg_pool import AsyncConnectionPool  # noqa: PLC0415

        self.pool = AsyncConnectionPool(
            self.url, min_size=POOL_SIZE, max_size=POOL_SIZE, kwargs={"autocommit": True}, open=False
        )
        await self.pool.open(wait=True)

    async def close(self) -> None:
        await self.pool.close()

    async def row(self, query: str, /, **values: Any) -> Any:
        sql, args = _psycopg_statement(query, values)
        async with self.pool.connection() as connection:
            cursor = await connection.execute(sql, args)
            return await cursor.fetchone()

    async def rows(self, query: str, /, **values: Any) -> list[Any]:
        sql, args = _psycopg_statement(query, values)
        async with self.pool.connection() as connection:
            cursor = await connection.execute(sql, args)
            return await cursor.fetchall()


@cache
def _psycopg_sql(name: str) -> str:
    """The statement with psycopg's %(pN)s placeholders instead of asyncpg's $N."""
    return re.sub(r"\$(\d+)", r"%(p\1)s", all_queries()[name].sql.replace("%", "%%"))


def _psycopg_statement(name: str, values: dict[str, Any]) -> tuple[str, dict[str, Any]]:
    args = all_queries()[name].args(values)
    return _psycopg_sql(name), {f"p{i}": value for i, value in enumerate(args, start=1)}


class SqlalchemyClient(Client):
    """SQLAlchemy 2 async ORM (asyncpg driver) with mapped classes, as its docs show it."""

    name = "sqlalchemy"

    async def open(self) -> None:
        from sqlalchemy.ext.asyncio import async_sessionmaker, create_async_engine  # noqa: PLC0415

        from bench import orm  # noqa: PLC0415

        self.orm = orm
        url = self.url.replace("postgresql://", "postgresql+asyncpg://").replace("?sslmode=disable", "")
        self.engine = create_async_engine(url, pool_size=POOL_SIZE, max_overflow=0)
        self.sessions = async_sessionmaker(self.engine, expire_on_commit=False)
        # Fill the pool as the other clients' pools start full.
        connections = [await self.engine.connect() for _ in range(POOL_SIZE)]
        for connection in connections:
            await connection.close()

    async def close(self) -> None:
        await self.engine.dispose()

    async def list_repositories(self, user_id: str) -> None:
        async with self.sessions() as session:
            (await session.execute(self.orm.list_repositories(user_id))).all()

    async def session_and_user(self, token: str) -> None:
        async with self.sessions() as session:
            (await session.execute(self.orm.session_and_user(token))).one_or_none()

    async def touch(self, user_id: str) -> None:
        async with self.sessions() as session:
            await self.orm.touch(session, user_id)
            await session.commit()

    async def update_repository(self, user_id: str, repository_id: UUID, is_active: bool) -> None:
        async with self.sessions() as session:
            await self.orm.update_repository(session, user_id, repository_id, is_active)
            await session.commit()

    async def add_repository(self, user_id: str, github_id: int, owner: str, name: str) -> None:
        async with self.sessions() as session:
            await self.orm.add_repository(session, user_id, github_id, owner, name)
            await session.commit()

    async def create_profile(self, user_id: str, github_id: int, username: str) -> None:
        async with self.sessions() as session:
            session.add(self.orm.UserProfile(user_id=user_id, github_id=github_id, username=username))
            await session.commit()

    async def cleanup(self) -> int:
        total = 0
        while True:
            async with self.sessions() as session:
                deleted = await self.orm.delete_inactive(session, CLEANUP_DAYS, CLEANUP_BATCH)
                await session.commit()
            total += deleted
            if deleted < CLEANUP_BATCH:
                return total


CLIENTS: tuple[type[Client], ...] = (CodeflowClient, AsyncpgClient, SqlalchemyClient, PsycopgClient)
