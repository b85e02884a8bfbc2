"""The session token, from the header or either Auth.js cookie, resolves to its user."""

from collections.abc import Callable
from datetime import timedelta

import httpx
import pytest

from examples.service.tests.conftest import SignIn

pytestmark = pytest.mark.integration


@pytest.mark.parametrize(
    "send",
    [
        lambda token: {"Authorization": f"Bearer {token}"},
        lambda token: {"Authorization": f"bearer {token}"},
        lambda token: {"Cookie": f"authjs.session-token={token}"},
        lambda token: {"Cookie": f"__Secure-authjs.session-token={token}"},
    ],
    ids=["header", "header-lowercase-scheme", "cookie", "secure-cookie"],
)
async def test_each_way_of_sending_the_token_acts_as_its_own_user(
    client: httpx.AsyncClient, sign_in: SignIn, send: Callable[[str], dict[str, str]]
) -> None:
    alice, bob = await sign_in(), await sign_in()
    for number, user in enumerate((alice, bob), start=1):
        created = await client.put(
            "/profile", headers=user.headers, json={"github_id": number, "username": f"user{number}"}
        )
        assert created.status_code == 201, created.text

    for number, user in enumerate((alice, bob), start=1):
        response = await client.get("/profile", headers=send(user.token))
        assert response.status_code == 200, response.text
        assert (response.json()["user_id"], response.json()["github_id"]) == (user.user_id, number)


async def test_the_header_wins_over_a_cookie(client: httpx.AsyncClient, sign_in: SignIn) -> None:
    alice, bob = await sign_in(), await sign_in()
    await client.put("/profile", headers=alice.headers, json={"github_id": 1, "username": "alice"})

    response = await client.get(
        "/profile", headers={**alice.headers, "Cookie": f"authjs.session-token={bob.token}"}
    )

    assert response.json()["user_id"] == alice.user_id


@pytest.mark.parametrize(
    "headers",
    [
        {},
        {"Authorization": "Bearer not-a-session"},
        {"Authorization": "Basic dXNlcjpwYXNz"},
        {"Cookie": "next-auth.session-token=whatever"},
    ],
    ids=["none", "unknown-token", "other-scheme", "other-cookie"],
)
async def test_no_live_session_is_401(client: httpx.AsyncClient, headers: dict[str, str]) -> None:
    response = await client.get("/repositories", headers=headers)

    assert response.status_code == 401
    assert response.headers["WWW-Authenticate"] == "Bearer"
    assert response.json()["error"] == "NotSignedIn"


async def test_an_expired_session_is_401(client: httpx.AsyncClient, sign_in: SignIn) -> None:
    expired = await sign_in(expires_in=-timedelta(seconds=1))

    response = await client.get("/repositories", headers=expired.headers)

    assert response.status_code == 401
    assert set(response.json()) == {"error", "message"}
