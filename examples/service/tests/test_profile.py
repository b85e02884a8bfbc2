"""PUT /profile creates the profile and links the GitHub account in one transaction."""

import httpx
import pytest

from codeflow import Database
from examples.service.tests.conftest import SignIn

pytestmark = pytest.mark.integration

OCTOCAT = {"github_id": 583231, "username": "octocat"}


async def test_put_creates_the_profile_and_links_the_account(
    client: httpx.AsyncClient, sign_in: SignIn, codeflow_database: Database
) -> None:
    user = await sign_in()

    created = await client.put("/profile", headers=user.headers, json=OCTOCAT)

    assert created.status_code == 201, created.text
    assert created.json()["user_id"] == user.user_id
    assert (await client.get("/profile", headers=user.headers)).json() == created.json()
    owner = await codeflow_database.auth.get_user_by_account(provider="github", provider_account_id="583231")
    assert owner is not None
    assert owner.id == user.user_id


async def test_a_repeated_put_answers_200_and_a_different_one_409(
    client: httpx.AsyncClient, sign_in: SignIn
) -> None:
    user = await sign_in()
    created = await client.put("/profile", headers=user.headers, json=OCTOCAT)

    again = await client.put("/profile", headers=user.headers, json=OCTOCAT)
    other = await client.put("/profile", headers=user.headers, json={"github_id": 1, "username": "other"})

    assert (again.status_code, again.json()) == (200, created.json())
    assert other.status_code == 409
    assert other.json() == {"error": "AlreadyExists", "message": "this user already has a profile"}


async def test_the_profile_is_rolled_back_when_the_account_belongs_to_another_user(
    client: httpx.AsyncClient, sign_in: SignIn, codeflow_database: Database
) -> None:
    # Someone signed in with this GitHub account (Auth.js linked it) but has no profile.
    someone, user = await sign_in(), await sign_in()
    await codeflow_database.auth.link_account(
        user_id=someone.user_id, type="oauth", provider="github", provider_account_id="583231"
    )

    response = await client.put("/profile", headers=user.headers, json=OCTOCAT)

    assert response.status_code == 409
    assert response.json()["message"] == "this GitHub account is linked to another user"
    # The profile row was written before the account check; the transaction undid it.
    assert (await client.get("/profile", headers=user.headers)).status_code == 404
    assert await codeflow_database.profiles.count_user_profiles() == 0


async def test_an_account_the_user_linked_by_signing_in_is_kept(
    client: httpx.AsyncClient, sign_in: SignIn, codeflow_database: Database
) -> None:
    user = await sign_in()
    signed_in_with = await codeflow_database.auth.link_account(
        user_id=user.user_id, type="oauth", provider="github", provider_account_id="583231"
    )

    response = await client.put("/profile", headers=user.headers, json=OCTOCAT)

    assert response.status_code == 201, response.text
    account = await codeflow_database.auth.get_account(provider="github", provider_account_id="583231")
    assert account == signed_in_with


async def test_another_users_github_identity_is_409(client: httpx.AsyncClient, sign_in: SignIn) -> None:
    alice, bob = await sign_in(), await sign_in()
    await client.put("/profile", headers=alice.headers, json=OCTOCAT)

    same_id = await client.put("/profile", headers=bob.headers, json={**OCTOCAT, "username": "bob"})
    same_login = await client.put("/profile", headers=bob.headers, json={**OCTOCAT, "github_id": 2})

    assert (same_id.status_code, same_login.status_code) == (409, 409)
    assert same_id.json()["message"] == "a profile with this GitHub id already exists"
    assert same_login.json()["message"] == "a profile with this GitHub login already exists"


@pytest.mark.parametrize(
    "body",
    [
        {"github_id": 583231, "username": "not a login SECRET-VALUE"},
        {"github_id": -7, "username": "octocat"},
        {"github_id": "SECRET-VALUE", "username": "octocat"},
        {"username": "octocat"},
    ],
    ids=["bad-login", "negative-id", "not-an-int", "missing-id"],
)
async def test_an_invalid_identity_is_422_without_the_value(
    client: httpx.AsyncClient, sign_in: SignIn, body: dict[str, object]
) -> None:
    user = await sign_in()

    response = await client.put("/profile", headers=user.headers, json=body)

    assert response.status_code == 422
    assert response.json()["error"] == "InvalidInput"
    assert set(response.json()) == {"error", "message"}
    assert "SECRET-VALUE" not in response.text
    assert "-7" not in response.text


async def test_no_profile_is_404(client: httpx.AsyncClient, sign_in: SignIn) -> None:
    user = await sign_in()

    response = await client.get("/profile", headers=user.headers)

    assert response.status_code == 404
    assert response.json() == {"error": "NotFound", "message": "user profile not found"}
