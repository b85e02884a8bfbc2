"""The service's tests: the codeflow plugin (declared in examples/conftest.py) gives a
migrated test database with empty tables per test; the app runs on it, lifespan
included, behind httpx."""

import secrets
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import httpx
import pytest
from fastapi import FastAPI

from codeflow import Database, Settings
from examples.service.app import create_app


@dataclass(frozen=True)
class SignedIn:
    """An Auth.js user with a live database session."""

    user_id: str
    token: str

    @property
    def headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token}"}


SignIn = Callable[..., Awaitable[SignedIn]]


@asynccontextmanager
async def running(app: FastAPI) -> AsyncIterator[httpx.AsyncClient]:
    """`app` started as a server starts it (the lifespan), with a client on it."""
    async with (
        app.router.lifespan_context(app),
        httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://service.test") as client,
    ):
        yield client


def database_of(app: FastAPI) -> Database:
    database: Database = app.state.database
    return database


@pytest.fixture
async def app(codeflow_database: Database, codeflow_settings: Settings) -> FastAPI:
    """The service on the test database (whose tables `codeflow_database` has emptied)."""
    return create_app(codeflow_settings)


@pytest.fixture
async def client(app: FastAPI) -> AsyncIterator[httpx.AsyncClient]:
    async with running(app) as client:
        yield client


@pytest.fixture
def sign_in(codeflow_database: Database) -> SignIn:
    """Create a user and a session as the Auth.js front end does."""

    async def sign_in(*, expires_in: timedelta = timedelta(hours=1)) -> SignedIn:
        user = await codeflow_database.auth.create_user()
        token = secrets.token_urlsafe(32)
        await codeflow_database.auth.create_session(
            session_token=token, user_id=user.id, expires=datetime.now(UTC) + expires_in
        )
        return SignedIn(user_id=user.id, token=token)

    return sign_in
