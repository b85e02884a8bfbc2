"""Shared fixtures. The database fixtures come from codeflow.testing, the plugin
that downstream services use too; tests that take them are integration tests."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

import asyncpg
import pytest

pytest_plugins = ["codeflow.testing"]

_DATABASE_FIXTURES = {"codeflow_database_url", "codeflow_pool", "codeflow_service", "codeflow_connection"}


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if _DATABASE_FIXTURES & set(getattr(item, "fixturenames", ())):
            item.add_marker(pytest.mark.integration)


@pytest.fixture
def make_user(codeflow_pool: asyncpg.Pool) -> Callable[..., Awaitable[str]]:
    """Insert an Auth.js user (as the front end would) and return its id."""

    async def make(user_id: str | None = None, *, email: str | None = None) -> str:
        return str(
            await codeflow_pool.fetchval(
                "INSERT INTO users (id, email)"
                " VALUES (coalesce($1, gen_random_uuid()::text), $2) RETURNING id",
                user_id,
                email,
            )
        )

    return make
