"""The repository endpoints: every call is the signed-in user's."""

import uuid

import httpx
import pytest

from examples.service.tests.conftest import SignedIn, SignIn

pytestmark = pytest.mark.integration

HELLO = {
    "github_id": 1296269,
    "name": "Hello-World",
    "full_name": "octocat/Hello-World",
    "owner": "octocat",
    "private": False,
}


async def with_profile(client: httpx.AsyncClient, user: SignedIn, github_id: int) -> SignedIn:
    body = {"github_id": github_id, "username": f"user{github_id}"}
    assert (await client.put("/profile", headers=user.headers, json=body)).status_code == 201
    return user


async def test_add_list_pause_count_delete(client: httpx.AsyncClient, sign_in: SignIn) -> None:
    user = await with_profile(client, await sign_in(), 1)
    h = user.headers

    added = await client.post("/repositories", headers=h, json=HELLO)
    assert added.status_code == 201, added.text
    repository = added.json()
    assert (repository["user_id"], repository["full_name"], repository["is_active"]) == (
        user.user_id,
        "octocat/Hello-World",
        True,
    )
    assert (await client.get(f"/repositories/{repository['id']}", headers=h)).json() == repository
    assert (await client.get("/repositories", headers=h)).json() == [repository]

    paused = await client.patch(f"/repositories/{repository['id']}", headers=h, json={"is_active": False})
    assert paused.json()["is_active"] is False
    assert (await client.get("/repositories?active_only=true", headers=h)).json() == []
    assert (await client.get("/repositories/counts", headers=h)).json() == {"total": 1, "active": 0}

    deleted = await client.delete(f"/repositories/{repository['id']}", headers=h)
    assert (deleted.status_code, deleted.content) == (204, b"")
    assert (await client.get(f"/repositories/{repository['id']}", headers=h)).status_code == 404
    assert (await client.get("/repositories", headers=h)).json() == []


async def test_another_users_repository_is_404(client: httpx.AsyncClient, sign_in: SignIn) -> None:
    alice = await with_profile(client, await sign_in(), 1)
    bob = await with_profile(client, await sign_in(), 2)
    repository_id = (await client.post("/repositories", headers=alice.headers, json=HELLO)).json()["id"]

    responses = [
        await client.get(f"/repositories/{repository_id}", headers=bob.headers),
        await client.patch(f"/repositories/{repository_id}", headers=bob.headers, json={"is_active": False}),
        await client.delete(f"/repositories/{repository_id}", headers=bob.headers),
    ]

    assert [response.status_code for response in responses] == [404, 404, 404]
    assert {response.json()["message"] for response in responses} == {"repository not found"}
    assert (await client.get(f"/repositories/{repository_id}", headers=alice.headers)).json()["is_active"]


async def test_a_repository_monitored_already_is_409(client: httpx.AsyncClient, sign_in: SignIn) -> None:
    user = await with_profile(client, await sign_in(), 1)
    await client.post("/repositories", headers=user.headers, json=HELLO)

    again = await client.post("/repositories", headers=user.headers, json=HELLO)

    assert again.status_code == 409
    assert again.json() == {"error": "AlreadyExists", "message": "the user already monitors this repository"}


async def test_without_a_profile_adding_is_404_and_counting_too(
    client: httpx.AsyncClient, sign_in: SignIn
) -> None:
    user = await sign_in()

    added = await client.post("/repositories", headers=user.headers, json=HELLO)
    counts = await client.get("/repositories/counts", headers=user.headers)

    assert (added.status_code, counts.status_code) == (404, 404)
    assert (await client.get("/repositories", headers=user.headers)).json() == []


@pytest.mark.parametrize(
    ("method", "path", "body"),
    [
        ("POST", "/repositories", {**HELLO, "full_name": "someone/Hello-World"}),
        ("POST", "/repositories", {**HELLO, "name": "no spaces allowed"}),
        ("POST", "/repositories", {**HELLO, "private": "maybe"}),
        ("GET", "/repositories/not-a-uuid", None),
        ("PATCH", f"/repositories/{uuid.uuid4()}", {"is_active": "sometimes"}),
    ],
    ids=["full-name-mismatch", "bad-name", "bad-private", "bad-id", "bad-flag"],
)
async def test_invalid_requests_are_422(
    client: httpx.AsyncClient, sign_in: SignIn, method: str, path: str, body: object
) -> None:
    user = await with_profile(client, await sign_in(), 1)

    response = await client.request(method, path, headers=user.headers, json=body)

    assert response.status_code == 422, response.text
    assert response.json()["error"] == "InvalidInput"
    assert (await client.get("/repositories", headers=user.headers)).json() == []
