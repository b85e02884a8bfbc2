"""The error table, the health endpoint, and the 503s of a database that is gone."""

from unittest.mock import ANY

import httpx
import pytest
from fastapi import FastAPI

from codeflow import (
    AlreadyExists,
    CodeflowError,
    DatabaseUnavailable,
    InvalidInput,
    NotFound,
    PoolClosed,
    PoolExhausted,
    QueryFailed,
    QueryTimeout,
    ReferencedRowMissing,
    TransactionConflict,
    load_settings,
)
from examples.service.app import NotSignedIn, create_app, error_response
from examples.service.tests.conftest import SignIn, database_of, running


@pytest.mark.parametrize(
    ("error", "status", "retry_after", "message"),
    [
        (NotSignedIn("no token"), 401, None, "no token"),
        (NotFound("repository not found"), 404, None, "repository not found"),
        (AlreadyExists("taken", constraint="x_key"), 409, None, "taken"),
        (ReferencedRowMissing("no such user"), 409, None, "no such user"),
        (InvalidInput("limit: too large"), 422, None, "limit: too large"),
        (
            DatabaseUnavailable("cannot connect to db.internal"),
            503,
            "5",
            "the database is unavailable; retry later",
        ),
        (QueryTimeout("get_dashboard: timed out"), 503, "5", "the database is unavailable; retry later"),
        (PoolClosed("the pool is closed"), 503, "5", "the database is unavailable; retry later"),
        (PoolExhausted("all 10 connections in use"), 503, "1", "the service is busy; retry shortly"),
        (TransactionConflict("deadlock"), 503, "1", "a concurrent change conflicted; retry the request"),
        (QueryFailed("create_repository: UndefinedTableError"), 500, None, "internal error"),
        (CodeflowError("anything else"), 500, None, "internal error"),
    ],
)
def test_each_error_has_its_status_and_says_only_its_class_and_message(
    error: Exception, status: int, retry_after: str | None, message: str
) -> None:
    response = error_response(error)

    assert response.status_code == status
    assert response.headers.get("Retry-After") == retry_after
    assert bytes(response.body).decode() == (
        '{"error":"%s","message":"%s"}' % (type(error).__name__, message)  # noqa: UP031 - exact bytes
    )


def test_the_openapi_document_offers_every_way_to_send_the_token() -> None:
    app = create_app(load_settings(database_url="postgresql://nobody@127.0.0.1:1/unopened"))

    document = app.openapi()

    assert document["components"]["securitySchemes"] == {
        "HTTPBearer": {"type": "http", "scheme": "bearer", "description": ANY},
        "AuthjsSecureCookie": {"type": "apiKey", "in": "cookie", "name": "__Secure-authjs.session-token"},
        "AuthjsCookie": {"type": "apiKey", "in": "cookie", "name": "authjs.session-token"},
    }
    assert set(document["paths"]["/profile"]["put"]["responses"]) == {
        "201",
        "401",
        "404",
        "409",
        "422",
        "500",
        "503",
    }


@pytest.mark.integration
async def test_health_reports_the_pool_in_use(app: FastAPI, client: httpx.AsyncClient) -> None:
    idle = await client.get("/health")
    async with database_of(app).transaction():  # a request holding a connection
        busy = await client.get("/health")

    assert (idle.status_code, busy.status_code) == (200, 200)
    assert idle.json()["ok"] is True
    assert idle.json()["pending_migrations"] == []
    assert (idle.json()["pool_max"], idle.json()["pool_in_use"], busy.json()["pool_in_use"]) == (10, 0, 1)


@pytest.mark.integration
async def test_a_closed_database_is_503_with_retry_after(
    app: FastAPI, client: httpx.AsyncClient, sign_in: SignIn
) -> None:
    user = await sign_in()
    await database_of(app).close()

    response = await client.get("/profile", headers=user.headers)
    health = await client.get("/health")

    assert (response.status_code, response.headers["Retry-After"]) == (503, "5")
    assert response.json() == {"error": "PoolClosed", "message": "the database is unavailable; retry later"}
    assert (health.status_code, health.headers["Retry-After"]) == (503, "5")
    assert health.json()["ok"] is False


@pytest.mark.integration
async def test_a_saturated_pool_is_503_busy(codeflow_database_url: str, sign_in: SignIn) -> None:
    settings = load_settings(
        database_url=codeflow_database_url,
        db_pool_min_size=1,
        db_pool_max_size=1,
        db_pool_acquire_timeout_s=0.2,
    )
    app = create_app(settings)
    user = await sign_in()
    async with running(app) as client, database_of(app).transaction():  # holds the one connection
        response = await client.get("/profile", headers=user.headers)

    assert (response.status_code, response.headers["Retry-After"]) == (503, "1")
    assert response.json() == {"error": "PoolExhausted", "message": "the service is busy; retry shortly"}


@pytest.mark.integration
async def test_an_unreachable_database_fails_start_up_and_unopened_requests_are_503(
    unused_tcp_port: int,
) -> None:
    settings = load_settings(
        database_url=f"postgresql://postgres@127.0.0.1:{unused_tcp_port}/codeflow_test_gone?sslmode=disable",
        db_connect_attempts=1,
        db_connect_timeout_s=1,
    )
    app = create_app(settings)

    with pytest.raises(DatabaseUnavailable):
        async with running(app):
            pass
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app), base_url="http://service.test"
    ) as client:
        response = await client.get("/repositories", headers={"Authorization": "Bearer whatever"})
        health = await client.get("/health")

    assert (response.status_code, response.json()["error"]) == (503, "PoolClosed")
    assert (health.status_code, health.json()["ok"]) == (503, False)
