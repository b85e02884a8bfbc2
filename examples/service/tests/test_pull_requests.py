"""The PR dashboard: the cursor walk, filters, counts, one PR; always the user's own."""

from datetime import UTC, datetime, timedelta

import httpx
import pytest

from codeflow import Database, PullRequestData
from examples.service.tests.conftest import SignedIn, SignIn
from examples.service.tests.test_repositories import HELLO, with_profile

pytestmark = pytest.mark.integration

START = datetime(2026, 11, 1, tzinfo=UTC)
HELLO_ID = 1296269


def pull_request(
    number: int,
    *,
    repository_github_id: int = HELLO_ID,
    author: str = "octocat",
    draft: bool = False,
) -> PullRequestData:
    """An open PR whose activity is newer the higher its number."""
    return PullRequestData(
        id=repository_github_id * 1000 + number,
        repository_github_id=repository_github_id,
        number=number,
        title=f"Change {number}",
        author_login=author,
        state="open",
        draft=draft,
        head_ref=f"change-{number}",
        base_ref="main",
        html_url=f"https://github.com/octocat/Hello-World/pull/{number}",
        created_at=START,
        updated_at=START + timedelta(minutes=number),
    )


async def monitoring_hello(client: httpx.AsyncClient, sign_in: SignIn, github_id: int = 1) -> SignedIn:
    user = await with_profile(client, await sign_in(), github_id)
    assert (await client.post("/repositories", headers=user.headers, json=HELLO)).status_code == 201
    return user


async def test_the_cursor_walks_every_open_pr_once_newest_first(
    client: httpx.AsyncClient, sign_in: SignIn, codeflow_database: Database
) -> None:
    user = await monitoring_hello(client, sign_in)
    await codeflow_database.pull_requests.upsert_pull_requests([pull_request(n) for n in range(1, 8)])

    numbers, pages, cursor = [], [], None
    while True:
        params: dict[str, str | int] = {"limit": 3}
        if cursor:
            params["cursor"] = cursor
        response = await client.get("/pull-requests", headers=user.headers, params=params)
        assert response.status_code == 200, response.text
        page = response.json()
        pages.append(len(page["items"]))
        numbers += [item["number"] for item in page["items"]]
        cursor = page["next_cursor"]
        if cursor is None:
            break

    assert pages == [3, 3, 1]
    assert numbers == [7, 6, 5, 4, 3, 2, 1]
    assert {item["repository_full_name"] for item in page["items"]} == {"octocat/Hello-World"}


async def test_filters_narrow_the_dashboard(
    client: httpx.AsyncClient, sign_in: SignIn, codeflow_database: Database
) -> None:
    user = await monitoring_hello(client, sign_in)
    other = {**HELLO, "github_id": 42, "name": "Spoon-Knife", "full_name": "octocat/Spoon-Knife"}
    assert (await client.post("/repositories", headers=user.headers, json=other)).status_code == 201
    await codeflow_database.pull_requests.upsert_pull_requests(
        [
            pull_request(1),
            pull_request(2, author="hubot", draft=True),
            pull_request(3, repository_github_id=42),
        ]
    )

    async def numbers(**params: str | int | bool) -> list[int]:
        response = await client.get("/pull-requests", headers=user.headers, params=params)
        assert response.status_code == 200, response.text
        return [item["number"] for item in response.json()["items"]]

    assert await numbers() == [3, 2, 1]
    assert await numbers(author="HUBOT") == [2]
    assert await numbers(draft="true") == [2]
    assert await numbers(draft="false") == [3, 1]
    assert await numbers(repository_github_id=42) == [3]


@pytest.mark.parametrize(
    "params",
    [{"cursor": "bm90IGEgY3Vyc29y"}, {"limit": 0}, {"limit": 101}, {"author": "not a login"}],
    ids=["bad-cursor", "limit-0", "limit-101", "bad-author"],
)
async def test_bad_paging_is_422(
    client: httpx.AsyncClient, sign_in: SignIn, params: dict[str, str | int]
) -> None:
    user = await monitoring_hello(client, sign_in)

    response = await client.get("/pull-requests", headers=user.headers, params=params)

    assert response.status_code == 422
    assert response.json()["error"] == "InvalidInput"


async def test_counts_and_one_pr_are_the_users_own(
    client: httpx.AsyncClient, sign_in: SignIn, codeflow_database: Database
) -> None:
    user = await monitoring_hello(client, sign_in)
    stranger = await with_profile(client, await sign_in(), 2)
    await codeflow_database.pull_requests.upsert_pull_requests([pull_request(1), pull_request(2)])
    pr_id = pull_request(1).id

    counts = await client.get("/pull-requests/counts", headers=user.headers)
    mine = await client.get(f"/pull-requests/{pr_id}", headers=user.headers)
    theirs = await client.get(f"/pull-requests/{pr_id}", headers=stranger.headers)

    assert counts.json() == [
        {
            "repository_github_id": HELLO_ID,
            "full_name": "octocat/Hello-World",
            "open": 2,
            "closed": 0,
            "merged": 0,
        }
    ]
    assert (mine.status_code, mine.json()["number"]) == (200, 1)
    assert theirs.status_code == 404
    assert (await client.get("/pull-requests/counts", headers=stranger.headers)).json() == []
    assert (await client.get("/pull-requests", headers=stranger.headers)).json() == {
        "items": [],
        "next_cursor": None,
    }
