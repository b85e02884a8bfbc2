"""PullRequestStore, the GitHub pull-request cache, on a real, migrated PostgreSQL."""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import time
from collections.abc import Awaitable, Callable, Iterator
from datetime import UTC, datetime, timedelta
from typing import Any
from unittest.mock import ANY

import asyncpg
import pytest

from codeflow import AlreadyExists, Database, InvalidInput, NotFound
from codeflow.pull_requests import PruneResult, PullRequestData, PullRequestStore
from codeflow.settings import Settings
from codeflow.store import all_queries
from codeflow.tools import cli

MakeUser = Callable[..., Awaitable[str]]
T0 = datetime(2026, 1, 1, tzinfo=UTC)
HELLO = 1296269
SPOON = 1300192
PAUSED = 132935648


def pr(
    pr_id: int,
    *,
    repo: int = HELLO,
    number: int | None = None,
    minutes: int = 0,
    state: str = "open",
    author: str = "octocat",
    draft: bool = False,
    title: str | None = None,
) -> PullRequestData:
    """A PR whose GitHub updated_at is T0 + minutes; closed and merged at that moment."""
    updated = T0 + timedelta(minutes=minutes)
    return PullRequestData.model_validate(
        {
            "id": pr_id,
            "repository_github_id": repo,
            "number": number or pr_id,
            "title": title or f"PR {pr_id}",
            "author_login": author,
            "state": state,
            "draft": draft,
            "head_ref": f"feature-{pr_id}",
            "base_ref": "main",
            "html_url": f"https://github.com/octocat/r/pull/{pr_id}",
            "created_at": T0 - timedelta(days=30),
            "updated_at": updated,
            "closed_at": None if state == "open" else updated,
            "merged_at": updated if state == "merged" else None,
        }
    )


@pytest.fixture
def prs(codeflow_database: Database) -> PullRequestStore:
    return codeflow_database.pull_requests


async def make_monitor(
    db: Database,
    make_user: MakeUser,
    username: str,
    github_id: int,
    *repos: tuple[int, str, bool],
    private: bool = False,
) -> str:
    """A user with a profile who monitors `repos` given as (github id, owner/name, active),
    all public or all `private`."""
    user_id = await make_user()
    await db.profiles.create_user_profile(user_id=user_id, github_id=github_id, username=username)
    for repo_id, full_name, active in repos:
        owner, name = full_name.split("/")
        await db.repositories.add_repository(
            user_id,
            github_id=repo_id,
            name=name,
            full_name=full_name,
            owner=owner,
            is_active=active,
            private=private,
        )
    return user_id


@pytest.fixture
async def user_id(codeflow_database: Database, make_user: MakeUser) -> str:
    return await make_monitor(
        codeflow_database,
        make_user,
        "octocat",
        583231,
        (HELLO, "octocat/Hello-World", True),
        (SPOON, "octocat/Spoon-Knife", True),
        (PAUSED, "octocat/paused", False),
    )


async def row_version(connection: asyncpg.Connection, pr_id: int) -> Any:
    """xmin changes with every row version written, even one identical to the last."""
    return await connection.fetchval("SELECT xmin::text FROM pull_requests WHERE id = $1", pr_id)


# --- upserts ---------------------------------------------------------------------------


async def test_upsert_inserts_and_reads_back(prs: PullRequestStore, user_id: str) -> None:
    written = await prs.upsert_pull_request(
        pr(2**40, number=1, state="merged", author="Dependabot[bot]", draft=True)
    )
    assert written is not None
    assert (written.id, written.state, written.author_login, written.draft) == (
        2**40,
        "merged",
        "Dependabot[bot]",
        True,
    )
    assert written.merged_at == written.closed_at == T0
    assert written.synced_at.utcoffset() == timedelta(0)
    assert await prs.get_pull_request(user_id, pull_request_id=2**40) == written
    with pytest.raises(NotFound):
        await prs.get_pull_request(user_id, pull_request_id=1)


async def test_older_event_after_newer_changes_nothing(
    prs: PullRequestStore, codeflow_connection: asyncpg.Connection, user_id: str
) -> None:
    newer = await prs.upsert_pull_request(pr(1, minutes=10, state="closed", title="new title"))
    version = await row_version(codeflow_connection, 1)
    assert await prs.upsert_pull_request(pr(1, minutes=5, title="old title")) is None
    assert await prs.get_pull_request(user_id, pull_request_id=1) == newer
    assert await row_version(codeflow_connection, 1) == version


async def test_repeated_event_changes_nothing(
    prs: PullRequestStore, codeflow_connection: asyncpg.Connection, user_id: str
) -> None:
    first = await prs.upsert_pull_request(pr(1, minutes=5))
    version = await row_version(codeflow_connection, 1)
    assert await prs.upsert_pull_request(pr(1, minutes=5)) is None
    assert await prs.upsert_pull_requests([pr(1, minutes=5)]) == 0
    assert await prs.get_pull_request(user_id, pull_request_id=1) == first
    assert await row_version(codeflow_connection, 1) == version, "not even an identical row version"


async def test_newer_event_applies_and_reopen_clears_closed_at(prs: PullRequestStore) -> None:
    opened = await prs.upsert_pull_request(pr(1, minutes=1))
    closed = await prs.upsert_pull_request(pr(1, minutes=2, state="closed"))
    reopened = await prs.upsert_pull_request(pr(1, minutes=3, title="reopened"))
    assert opened is not None and closed is not None and reopened is not None
    assert closed.state == "closed" and closed.closed_at == T0 + timedelta(minutes=2)
    assert (reopened.state, reopened.closed_at, reopened.title) == ("open", None, "reopened")
    assert reopened.synced_at >= closed.synced_at >= opened.synced_at


async def test_batch_with_mixed_ages(
    prs: PullRequestStore, codeflow_connection: asyncpg.Connection, user_id: str
) -> None:
    assert await prs.upsert_pull_requests([pr(1, minutes=5), pr(2, minutes=5)]) == 2
    version_1 = await row_version(codeflow_connection, 1)
    batch = [
        pr(1, minutes=3, state="closed"),  # older than the cache: ignored
        pr(2, minutes=7, title="newer"),  # newer: applied
        pr(3, minutes=1, title="stale copy"),  # new PR, twice in the batch: the newest wins
        pr(3, minutes=9, state="merged"),
        pr(4, minutes=2),  # new
    ]
    assert await prs.upsert_pull_requests(batch) == 3
    assert (await prs.get_pull_request(user_id, pull_request_id=1)).state == "open"
    assert await row_version(codeflow_connection, 1) == version_1
    assert (await prs.get_pull_request(user_id, pull_request_id=2)).title == "newer"
    third = await prs.get_pull_request(user_id, pull_request_id=3)
    assert (third.state, third.updated_at) == ("merged", T0 + timedelta(minutes=9))
    assert (await prs.get_pull_request(user_id, pull_request_id=4)).updated_at == T0 + timedelta(minutes=2)
    assert await prs.upsert_pull_requests(batch) == 0, "the same batch again changes nothing"
    assert await prs.upsert_pull_requests([]) == 0


async def cached_at(connection: asyncpg.Connection, number: int, repo: int = HELLO) -> list[int]:
    """The ids cached for one repository and number."""
    return [
        row["id"]
        for row in await connection.fetch(
            "SELECT id FROM pull_requests WHERE repository_github_id = $1 AND number = $2", repo, number
        )
    ]


async def test_a_number_moving_to_a_new_id_replaces_the_old_pr(
    prs: PullRequestStore, codeflow_connection: asyncpg.Connection, user_id: str
) -> None:
    # GitHub deleted PR 1 (number 7) and gave the number to PR 2: the newer state wins
    # the number, whichever id it carries; the old id is gone from the cache.
    await prs.upsert_pull_request(pr(1, number=7, minutes=1))
    moved = await prs.upsert_pull_request(pr(2, number=7, minutes=5, title="re-created"))
    assert moved is not None and (moved.id, moved.number, moved.title) == (2, 7, "re-created")
    assert await cached_at(codeflow_connection, 7) == [2]
    with pytest.raises(NotFound):
        await prs.get_pull_request(user_id, pull_request_id=1)
    version = await row_version(codeflow_connection, 2)
    assert await prs.upsert_pull_request(pr(1, number=7, minutes=3)) is None, "a late state of the old id"
    assert await prs.upsert_pull_requests([pr(1, number=7, minutes=4)]) == 0
    assert await prs.upsert_pull_request(pr(2, number=7, minutes=5, title="re-created")) is None
    assert await row_version(codeflow_connection, 2) == version
    assert await prs.upsert_pull_request(pr(2, number=7, minutes=6, state="closed")) is not None


async def test_a_number_moving_to_a_new_id_in_batches(
    prs: PullRequestStore, codeflow_connection: asyncpg.Connection, user_id: str
) -> None:
    await prs.upsert_pull_requests([pr(1, number=7, minutes=1), pr(3, number=8, minutes=1)])
    assert await prs.upsert_pull_requests([pr(2, number=7, minutes=5), pr(3, number=8, minutes=2)]) == 2
    assert await cached_at(codeflow_connection, 7) == [2]
    # Both ids of one number in one batch, uncached, in either order: the newer state only.
    for number, batch in (
        (9, [pr(4, number=9, minutes=1), pr(5, number=9, minutes=2), pr(4, number=9, minutes=3)]),
        (10, [pr(7, number=10, minutes=2), pr(6, number=10, minutes=1)]),
    ):
        assert await prs.upsert_pull_requests(batch) == 1
        newest = max(batch, key=lambda data: data.updated_at)
        assert await cached_at(codeflow_connection, number) == [newest.id]
        assert (
            await prs.get_pull_request(user_id, pull_request_id=newest.id)
        ).updated_at == newest.updated_at
    # The rule is the newest state, whichever id: a newer state of the old id (which
    # GitHub would not send) takes the number back.
    assert await prs.upsert_pull_requests([pr(2, number=7, minutes=6), pr(1, number=7, minutes=9)]) == 1
    assert await cached_at(codeflow_connection, 7) == [1], "the newest state wins, whichever id"


async def test_states_of_the_same_second_are_ordered_the_same_in_any_order(
    prs: PullRequestStore, codeflow_connection: asyncpg.Connection, user_id: str
) -> None:
    # GitHub's updated_at has one-second resolution. At equal updated_at: the higher id,
    # then merged over closed over open, then the other columns; in any delivery order.
    same_second = [
        pr(1, number=1, state="open", title="b"),
        pr(1, number=1, state="closed", title="a"),
        pr(1, number=1, state="merged", title="a"),
        pr(1, number=1, state="merged", title="b"),
    ]
    for order in (same_second, same_second[::-1]):
        await codeflow_connection.execute("TRUNCATE pull_requests")
        for data in order:
            await prs.upsert_pull_request(data)
        winner = await prs.get_pull_request(user_id, pull_request_id=1)
        assert (winner.state, winner.title) == ("merged", "b")
        await codeflow_connection.execute("TRUNCATE pull_requests")
        assert await prs.upsert_pull_requests(order) == 1
        assert await prs.get_pull_request(user_id, pull_request_id=1) == winner.model_copy(
            update={"synced_at": ANY}
        )
    version = await row_version(codeflow_connection, 1)
    assert await prs.upsert_pull_requests(same_second) == 0
    assert await row_version(codeflow_connection, 1) == version
    for order in ([pr(2, number=5), pr(3, number=5)], [pr(3, number=5), pr(2, number=5)]):
        await codeflow_connection.execute("TRUNCATE pull_requests")
        for data in order:
            await prs.upsert_pull_request(data)
        assert await cached_at(codeflow_connection, 5) == [3], "the higher (newer) id"


async def test_an_id_under_another_number_is_refused_and_nothing_is_written(
    prs: PullRequestStore, codeflow_connection: asyncpg.Connection
) -> None:
    # A PR's repository and number never change on GitHub: a state that says otherwise
    # is refused, with the rest of its batch.
    await prs.upsert_pull_request(pr(1, number=1))
    with pytest.raises(AlreadyExists) as caught:
        await prs.upsert_pull_request(pr(1, number=2, minutes=1))
    assert caught.value.constraint == "pull_requests_id_key"
    with pytest.raises(AlreadyExists):
        await prs.upsert_pull_requests([pr(5, number=5), pr(1, number=2, minutes=1)])
    assert await codeflow_connection.fetchval("SELECT count(*) FROM pull_requests") == 1


def github_payload(**changes: Any) -> dict[str, Any]:
    """A pull request as GitHub's REST API and pull_request webhooks send it (trimmed)."""
    payload: dict[str, Any] = {
        "id": 1,
        "number": 1347,
        "state": "closed",
        "title": "Amazing new feature",
        "user": {"login": "octocat", "id": 1},
        "draft": False,
        "head": {"ref": "new-topic", "repo": {"id": 99}},
        "base": {"ref": "master", "repo": {"id": HELLO}},
        "html_url": "https://github.com/octocat/Hello-World/pull/1347",
        "created_at": "2011-01-26T19:01:12Z",
        "updated_at": "2011-01-26T19:01:12Z",
        "closed_at": "2011-01-26T19:01:12Z",
        "merged_at": "2011-01-26T19:01:12Z",
    }
    payload.update(changes)
    return payload


def test_from_github_maps_the_rest_shape() -> None:
    merged = PullRequestData.from_github(github_payload())
    assert (merged.state, merged.repository_github_id, merged.head_ref, merged.base_ref) == (
        "merged",
        HELLO,
        "new-topic",
        "master",
    )
    assert merged.created_at == datetime(2011, 1, 26, 19, 1, 12, tzinfo=UTC)
    assert PullRequestData.from_github(github_payload(merged_at=None)).state == "closed"
    reopened = github_payload(state="open", closed_at=None, merged_at=None, draft=None)
    assert PullRequestData.from_github(reopened).draft is False


@pytest.mark.parametrize(
    "payload",
    [
        {"id": 1},
        github_payload(user=None),
        github_payload(state="open", merged_at=None),  # open but closed_at set
        github_payload(merged_at="2011-01-26T19:01:12"),  # naive timestamp
        github_payload(updated_at="2010-01-01T00:00:00Z"),  # before created_at
        github_payload(html_url="javascript:alert(1)"),
        github_payload(title=""),
        github_payload(id=0),
    ],
)
def test_from_github_rejects_what_github_never_sends(payload: dict[str, Any]) -> None:
    with pytest.raises(InvalidInput):
        PullRequestData.from_github(payload)


async def test_check_constraints_back_the_model(codeflow_connection: asyncpg.Connection) -> None:
    """Writers that bypass the store still cannot cache an impossible PR."""
    insert = (
        "INSERT INTO pull_requests (id, repository_github_id, number, title, author_login, state, draft,"
        " head_ref, base_ref, html_url, created_at, updated_at, closed_at, merged_at)"
        " VALUES (1, 1, 1, 't', 'a', $1, false, 'h', 'b', 'https://x', $2, $2, $3, $4)"
    )
    with pytest.raises(asyncpg.CheckViolationError, match="pull_requests_merged_at_check"):
        await codeflow_connection.execute(insert, "merged", T0, T0, None)
    with pytest.raises(asyncpg.CheckViolationError, match="pull_requests_closed_at_check"):
        await codeflow_connection.execute(insert, "open", T0, T0, None)
    with pytest.raises(asyncpg.CheckViolationError, match="pull_requests_state_check"):
        await codeflow_connection.execute(insert, "draft", T0, T0, None)
    await codeflow_connection.execute(insert, "merged", T0, T0, T0)


# --- the dashboard ---------------------------------------------------------------------


async def all_pages(prs: PullRequestStore, user_id: str, **filters: Any) -> list[int]:
    ids: list[int] = []
    cursor = None
    while True:
        page = await prs.get_dashboard(user_id, cursor=cursor, limit=3, **filters)
        ids += [item.id for item in page.items]
        if page.next_cursor is None:
            return ids
        cursor = page.next_cursor


async def test_dashboard_lists_open_prs_of_active_repositories_newest_first(
    prs: PullRequestStore, user_id: str
) -> None:
    await prs.upsert_pull_requests(
        [
            pr(1, repo=HELLO, minutes=1),
            pr(2, repo=SPOON, minutes=3),
            pr(3, repo=HELLO, minutes=2),
            pr(4, repo=HELLO, minutes=9, state="closed"),
            pr(5, repo=SPOON, minutes=9, state="merged"),
            pr(6, repo=PAUSED, minutes=9),  # paused repository
            pr(7, repo=42, minutes=9),  # a repository this user does not monitor
        ]
    )
    page = await prs.get_dashboard(user_id)
    assert [item.id for item in page.items] == [2, 3, 1]
    assert page.next_cursor is None
    assert [item.repository_full_name for item in page.items] == [
        "octocat/Spoon-Knife",
        "octocat/Hello-World",
        "octocat/Hello-World",
    ]


async def test_dashboard_pages_neither_skip_nor_repeat_while_rows_arrive(
    prs: PullRequestStore, user_id: str
) -> None:
    # Ties on updated_at across repositories: the id decides, so no row falls between pages.
    existing = [pr(n, repo=HELLO if n % 2 else SPOON, minutes=n // 4) for n in range(1000, 1040)]
    await prs.upsert_pull_requests(existing)
    seen: list[int] = []
    shown_later: set[int] = set()
    hidden: set[int] = set()
    cursor = None
    arrivals = iter(range(1, 1000))
    while True:
        page = await prs.get_dashboard(user_id, cursor=cursor, limit=7)
        seen += [item.id for item in page.items]
        keys = [(item.updated_at, item.id) for item in page.items]
        assert keys == sorted(keys, reverse=True)
        if page.next_cursor is None:
            break
        cursor = page.next_cursor
        last = page.items[-1]
        at_cursor = int((last.updated_at - T0) / timedelta(minutes=1))
        arriving = [
            pr(next(arrivals), repo=HELLO, minutes=10_000),  # newer than every row
            pr(next(arrivals), repo=SPOON, minutes=-10_000 - len(seen)),  # older than every row
            pr(next(arrivals), repo=HELLO, minutes=at_cursor),  # the cursor's instant: id decides
        ]
        await prs.upsert_pull_requests(arriving)
        for data in arriving:
            # Rows after the cursor are still to come; rows before it are not shown.
            after = (data.updated_at, data.id) < (last.updated_at, last.id)
            (shown_later if after else hidden).add(data.id)
    assert len(seen) == len(set(seen)), "no row repeated"
    assert {data.id for data in existing} <= set(seen), "no existing row skipped"
    assert shown_later <= set(seen)
    assert not hidden & set(seen)
    assert len(hidden) >= 5 and len(shown_later) >= 5


async def test_dashboard_filters(prs: PullRequestStore, user_id: str) -> None:
    await prs.upsert_pull_requests(
        [
            pr(1, repo=HELLO, minutes=1, author="octocat"),
            pr(2, repo=HELLO, minutes=2, author="hubot", draft=True),
            pr(3, repo=SPOON, minutes=3, author="hubot"),
            pr(4, repo=SPOON, minutes=4, author="octocat", draft=True),
            pr(5, repo=PAUSED, minutes=5, author="hubot"),
        ]
    )
    assert await all_pages(prs, user_id) == [4, 3, 2, 1]
    assert await all_pages(prs, user_id, repository_github_id=SPOON) == [4, 3]
    assert await all_pages(prs, user_id, repository_github_id=PAUSED) == [], "paused stays hidden"
    assert await all_pages(prs, user_id, author="HUBOT") == [3, 2], "logins match in any case"
    assert await all_pages(prs, user_id, draft=True) == [4, 2]
    assert await all_pages(prs, user_id, draft=False) == [3, 1]
    assert await all_pages(prs, user_id, repository_github_id=HELLO, author="hubot", draft=True) == [2]
    assert await all_pages(prs, user_id, author="nobody") == []


async def test_two_users_monitoring_one_repository_see_the_same_prs(
    prs: PullRequestStore, codeflow_database: Database, make_user: MakeUser, user_id: str
) -> None:
    other = await make_monitor(
        codeflow_database, make_user, "hubot", 480938, (HELLO, "OctoCat/hello-world", True)
    )
    await prs.upsert_pull_requests([pr(1, repo=HELLO, minutes=1), pr(2, repo=SPOON, minutes=2)])
    mine = (await prs.get_dashboard(user_id)).items
    theirs = (await prs.get_dashboard(other)).items
    assert [item.id for item in mine] == [2, 1]
    assert [item.id for item in theirs] == [1]
    assert theirs[0].repository_full_name == "OctoCat/hello-world", "each sees their own name for it"
    assert theirs[0].model_dump(exclude={"repository_full_name"}) == mine[1].model_dump(
        exclude={"repository_full_name"}
    )
    assert await codeflow_database.profiles.count_user_profiles() == 2
    assert len(await codeflow_database.repositories.get_user_repositories(other)) == 1


async def test_dashboard_of_a_user_without_profile_is_empty(
    prs: PullRequestStore, make_user: MakeUser
) -> None:
    await prs.upsert_pull_request(pr(1))
    page = await prs.get_dashboard(await make_user())
    assert (page.items, page.next_cursor) == ([], None)


@pytest.mark.parametrize(
    "arguments",
    [
        {"cursor": "not a cursor"},
        {"cursor": "MTIzNDU"},  # base64 of "12345": no id
        {"cursor": ""},
        {"cursor": 42},
        {"limit": 0},
        {"limit": 101},
        {"draft": "yes"},
        {"author": "not a login"},
        {"repository_github_id": -1},
    ],
)
async def test_dashboard_rejects_malformed_arguments(
    prs: PullRequestStore, user_id: str, arguments: dict[str, Any]
) -> None:
    with pytest.raises(InvalidInput):
        await prs.get_dashboard(user_id, **arguments)


# --- counts and pruning ----------------------------------------------------------------


async def test_counts_per_repository_and_state(
    prs: PullRequestStore, user_id: str, codeflow_database: Database
) -> None:
    await prs.upsert_pull_requests(
        [
            pr(1, repo=HELLO),
            pr(2, repo=HELLO, state="closed"),
            pr(3, repo=HELLO, state="merged"),
            pr(4, repo=HELLO, state="merged"),
            pr(5, repo=PAUSED),
            pr(6, repo=42),
        ]
    )
    counts = await prs.count_user_pull_requests(user_id)
    assert [(c.full_name, c.open, c.closed, c.merged) for c in counts] == [
        ("octocat/Hello-World", 1, 1, 2),
        ("octocat/Spoon-Knife", 0, 0, 0),
    ]
    assert counts[0].repository_github_id == HELLO
    assert await prs.count_user_pull_requests("nobody") == []
    assert len(await codeflow_database.repositories.get_user_repositories(user_id)) == 3


# --- who sees what -----------------------------------------------------------------------

SECRET = 7_000_000_001


async def age_verification(connection: asyncpg.Connection, user_id: str, age: timedelta | None) -> None:
    """Make the user's last access check `age` old (None: never verified)."""
    await connection.execute(
        "UPDATE repositories AS r SET access_verified_at = now() - $2::interval"
        " FROM user_profiles AS p WHERE p.id = r.user_id AND p.user_id = $1",
        user_id,
        age,
    )


async def visible(prs: PullRequestStore, user_id: str) -> tuple[list[int], list[str], list[int]]:
    """What the user is shown of PRs 1-3: the dashboard's ids, the counted repositories,
    and the ids get_pull_request returns."""
    dashboard = [item.id for item in (await prs.get_dashboard(user_id)).items]
    counted = [counts.full_name for counts in await prs.count_user_pull_requests(user_id)]
    found = []
    for pr_id in (1, 2, 3):
        with contextlib.suppress(NotFound):
            found.append((await prs.get_pull_request(user_id, pull_request_id=pr_id)).id)
    return dashboard, counted, found


async def test_get_pull_request_only_for_a_user_who_monitors_its_repository(
    prs: PullRequestStore, codeflow_database: Database, make_user: MakeUser, user_id: str
) -> None:
    await prs.upsert_pull_requests([pr(1, repo=HELLO), pr(2, repo=42), pr(3, repo=PAUSED)])
    assert (await prs.get_pull_request(user_id, pull_request_id=1)).repository_github_id == HELLO
    assert (await prs.get_pull_request(user_id, pull_request_id=3)).id == 3, (
        "a paused repository is monitored"
    )
    other = await make_monitor(
        codeflow_database, make_user, "hubot", 480938, (SPOON, "octocat/Spoon-Knife", True)
    )
    without_profile = await make_user()
    refusals = [(user_id, 2), (other, 1), (without_profile, 1), (user_id, 99)]  # 99: not cached
    messages = set()
    for who, pr_id in refusals:
        with pytest.raises(NotFound) as caught:
            await prs.get_pull_request(who, pull_request_id=pr_id)
        messages.add(str(caught.value))
    assert len(messages) == 1, "another user's PR is indistinguishable from a missing one"


async def test_private_repository_prs_are_shown_only_within_the_verification_window(
    prs: PullRequestStore,
    codeflow_database: Database,
    codeflow_connection: asyncpg.Connection,
    make_user: MakeUser,
) -> None:
    mona = await make_monitor(
        codeflow_database, make_user, "monalisa", 2154, (SECRET, "github/secret", True), private=True
    )
    await codeflow_database.repositories.add_repository(
        mona,
        github_id=HELLO,
        name="Hello-World",
        full_name="octocat/Hello-World",
        owner="octocat",
        private=False,
    )
    # Someone who added the same private repository under any name, never verified.
    snoop = await make_monitor(
        codeflow_database, make_user, "snoop", 666, (SECRET, "snoop/anything", True), private=True
    )
    await prs.upsert_pull_requests(
        [
            pr(1, repo=SECRET, minutes=1),
            pr(2, repo=SECRET, minutes=2, state="merged"),
            pr(3, repo=HELLO, minutes=3),
        ]
    )
    everything = ([3, 1], ["github/secret", "octocat/Hello-World"], [1, 2, 3])
    public_only = ([3], ["octocat/Hello-World"], [3])

    # add_repository verified it: visible at once.
    assert await visible(prs, mona) == everything
    await age_verification(codeflow_connection, snoop, None)
    assert await visible(prs, snoop) == ([], [], []), "never verified: nothing of a private repository"

    # The check lapsed (the default window is 24 h): private PRs hidden, public ones not,
    # even a public repository that was never verified.
    await age_verification(codeflow_connection, mona, timedelta(hours=25))
    assert await visible(prs, mona) == public_only
    await age_verification(codeflow_connection, mona, None)
    assert await visible(prs, mona) == public_only

    # The sync job saw both in GitHub's list for mona: visible again, for mona only.
    assert (
        await codeflow_database.repositories.verify_repository_access(
            mona, private_by_github_id={SECRET: True, HELLO: False}
        )
        == 2
    )
    assert await visible(prs, mona) == everything
    assert await visible(prs, snoop) == ([], [], [])


async def test_a_repository_that_turns_private_is_hidden_from_users_nobody_verified(
    prs: PullRequestStore,
    codeflow_database: Database,
    codeflow_connection: asyncpg.Connection,
    make_user: MakeUser,
) -> None:
    """Visibility is the repository's: one user's sync learning that it turned private
    hides it from every other user whose access was not verified within the window
    (before: their rows kept private=false, and the window never applied to them)."""
    owner = await make_monitor(codeflow_database, make_user, "owner", 1, (HELLO, "octocat/Hello-World", True))
    watcher = await make_monitor(
        codeflow_database, make_user, "watcher", 2, (HELLO, "octocat/Hello-World", True)
    )
    await prs.upsert_pull_requests([pr(1, repo=HELLO, minutes=1)])
    await age_verification(codeflow_connection, watcher, timedelta(days=2))
    assert await visible(prs, watcher) == ([1], ["octocat/Hello-World"], [1]), (
        "public: the window does not apply"
    )

    assert (
        await codeflow_database.repositories.verify_repository_access(
            owner, private_by_github_id={HELLO: True}
        )
        == 1
    )
    assert await visible(prs, owner) == ([1], ["octocat/Hello-World"], [1]), "verified just now"
    assert await visible(prs, watcher) == ([], [], []), "private now, and the watcher's check lapsed"
    watcher_row = await codeflow_database.repositories.get_repository_by_github_id(watcher, github_id=HELLO)
    assert watcher_row.private
    assert watcher_row.access_verified_at is not None
    assert datetime.now(UTC) - watcher_row.access_verified_at > timedelta(days=1), "not verified for them"


async def test_private_access_window_setting_is_honoured(
    codeflow_settings: Settings,
    codeflow_database: Database,
    codeflow_connection: asyncpg.Connection,
    make_user: MakeUser,
) -> None:
    mona = await make_monitor(
        codeflow_database, make_user, "monalisa", 2154, (SECRET, "github/secret", True), private=True
    )
    await codeflow_database.pull_requests.upsert_pull_request(pr(1, repo=SECRET))
    await age_verification(codeflow_connection, mona, timedelta(hours=2))

    async def visible_within(window_s: float) -> tuple[list[int], list[str], list[int]]:
        settings = codeflow_settings.model_copy(update={"db_private_access_window_s": window_s})
        async with Database(settings) as db:
            return await visible(db.pull_requests, mona)

    assert codeflow_settings.db_private_access_window_s == 24 * 3600
    assert await visible_within(3600) == ([], [], [])
    assert await visible_within(3 * 3600) == ([1], ["github/secret"], [1])
    assert await visible(codeflow_database.pull_requests, mona) == ([1], ["github/secret"], [1]), (
        "default: 24 h"
    )


async def test_prune_in_batches(
    prs: PullRequestStore,
    user_id: str,
    codeflow_connection: asyncpg.Connection,
    caplog: pytest.LogCaptureFixture,
) -> None:
    now = datetime.now(UTC)

    def aged(data: PullRequestData, days: int) -> PullRequestData:
        moment = now - timedelta(days=days)
        closed = None if data.state == "open" else moment
        merged = moment if data.state == "merged" else None
        return data.model_copy(
            update={"created_at": moment, "updated_at": moment, "closed_at": closed, "merged_at": merged}
        )

    unmonitored = [pr(n, repo=repo) for n, repo in zip(range(100, 107), [7, 7, 7, 8, 8, 9, 9], strict=True)]
    expired = [aged(pr(n, state="merged" if n % 2 else "closed"), 91) for n in range(200, 205)]
    kept = [
        aged(pr(300, state="closed"), 89),  # within retention
        aged(pr(301), 400),  # open, however old
        aged(pr(302, repo=PAUSED, state="closed"), 1),  # a paused repository is still monitored
        pr(303, repo=SPOON),
    ]
    await prs.upsert_pull_requests([*unmonitored, *expired, *kept])

    # The package logs every statement it runs (at DEBUG), by query name: count the batches.
    caplog.set_level(logging.DEBUG, logger="codeflow.sql")
    caplog.clear()
    assert await prs.prune_pull_requests(closed_retention_days=90, batch_size=3) == PruneResult(
        unmonitored=7, expired=5
    )
    ran = [
        record.args[0]
        for record in caplog.records
        if record.name == "codeflow.sql" and isinstance(record.args, tuple)
    ]
    batches = (ran.count("delete_unmonitored_pull_requests"), ran.count("delete_expired_pull_requests"))
    assert batches == (3, 2), "7 rows in batches of 3, then 5 in batches of 3"
    remaining = await codeflow_connection.fetch("SELECT id FROM pull_requests ORDER BY id")
    assert [row["id"] for row in remaining] == [data.id for data in kept]
    assert await prs.prune_pull_requests() == PruneResult(unmonitored=0, expired=0)


async def test_prune_keeps_a_repository_someone_else_still_monitors(
    prs: PullRequestStore, codeflow_database: Database, make_user: MakeUser, user_id: str
) -> None:
    other = await make_monitor(
        codeflow_database, make_user, "hubot", 480938, (SPOON, "octocat/Spoon-Knife", True)
    )
    await prs.upsert_pull_requests([pr(1, repo=HELLO), pr(2, repo=SPOON)])
    mine = await codeflow_database.repositories.get_repository_by_github_id(user_id, github_id=SPOON)
    await codeflow_database.repositories.delete_repository(user_id, repository_id=mine.id)
    assert await prs.prune_pull_requests() == PruneResult(unmonitored=0, expired=0)
    await codeflow_database.repositories.delete_repository(
        other,
        repository_id=(
            await codeflow_database.repositories.get_repository_by_github_id(other, github_id=SPOON)
        ).id,
    )
    assert await prs.prune_pull_requests() == PruneResult(unmonitored=1, expired=0)
    assert [item.id for item in (await prs.get_dashboard(user_id)).items] == [1]


@pytest.mark.usefixtures("user_id")
async def test_prune_prs_command_prunes_the_database_url(
    prs: PullRequestStore,
    codeflow_connection: asyncpg.Connection,
    codeflow_database_url: str,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    await prs.upsert_pull_requests([pr(1, repo=HELLO), pr(2, repo=42), pr(3, repo=42), pr(4, state="closed")])
    monkeypatch.setenv("DATABASE_URL", codeflow_database_url)

    # The command runs its own event loop, as it does under a scheduler.
    status = await asyncio.to_thread(cli.main, ["prune-prs", "--retention-days", "1", "--batch-size", "1"])

    assert status == 0
    assert "pruned 2 PRs of unmonitored repositories and 1 closed" in capsys.readouterr().out
    assert await codeflow_connection.fetchval("SELECT array_agg(id) FROM pull_requests") == [1]


@pytest.mark.parametrize(
    "arguments",
    [{"closed_retention_days": -1}, {"closed_retention_days": 0}, {"batch_size": 0}, {"batch_size": 1.5}],
)
async def test_prune_rejects_nonsense_arguments(prs: PullRequestStore, arguments: dict[str, Any]) -> None:
    with pytest.raises(InvalidInput):
        await prs.prune_pull_requests(**arguments)


# --- the plan on a large dataset --------------------------------------------------------


def plan_nodes(plan: dict[str, Any]) -> Iterator[dict[str, Any]]:
    yield plan
    for child in plan.get("Plans", []):
        yield from plan_nodes(child)


async def dashboard_plan(
    connection: asyncpg.Connection, values: dict[str, Any], *, generic: bool
) -> list[dict[str, Any]]:
    """The plan nodes of the dashboard query: the custom plan for `values`, or the generic
    plan a cached prepared statement falls back to (parameters unknown when planned)."""
    query = all_queries()["list_dashboard_pull_requests"]
    if generic:
        literals = [
            await connection.fetchval(
                "SELECT quote_nullable($1::text)", None if value is None else str(value)
            )
            for value in query.args(values)
        ]
        await connection.execute(f"PREPARE dashboard AS {query.sql}")
        await connection.execute("SET plan_cache_mode = force_generic_plan")
        try:
            explained = await connection.fetchval(
                f"EXPLAIN (FORMAT JSON) EXECUTE dashboard({', '.join(literals)})"
            )
        finally:
            await connection.execute("DEALLOCATE dashboard; RESET plan_cache_mode")
    else:
        explained = await connection.fetchval(f"EXPLAIN (FORMAT JSON) {query.sql}", *query.args(values))
    return list(plan_nodes(json.loads(explained)[0]["Plan"]))


async def test_dashboard_query_uses_the_dashboard_index_on_a_large_dataset(
    codeflow_connection: asyncpg.Connection, user_id: str
) -> None:
    started = time.monotonic()
    # 200 repositories x 400 PRs, half of them open; the user monitors two of them.
    await codeflow_connection.execute(
        """
        INSERT INTO pull_requests (id, repository_github_id, number, title, author_login, state, draft,
                                   head_ref, base_ref, html_url, created_at, updated_at, closed_at, merged_at)
        SELECT n, repo, number, 'PR ' || n, 'user' || (number % 50), state, n % 7 = 0,
               'feature-' || n, 'main', 'https://github.com/o/r/pull/' || number,
               created, created + interval '1 hour', closed, CASE WHEN state = 'merged' THEN closed END
        FROM (
            SELECT n, CASE n % 200 WHEN 0 THEN $1 WHEN 1 THEN $2 ELSE 1000 + n % 200 END AS repo,
                   n / 200 AS number,
                   CASE WHEN n / 200 % 4 < 2 THEN 'open' WHEN n / 200 % 4 = 2 THEN 'closed' ELSE 'merged' END
                       AS state,
                   timestamptz '2025-01-01' + n * interval '1 minute' AS created
            FROM generate_series(200, 80199) AS n
        ) AS generated
        CROSS JOIN LATERAL (
            SELECT CASE WHEN state = 'open' THEN NULL ELSE created + interval '2 hours' END AS closed
        ) AS closing
        """,
        HELLO,
        SPOON,
    )
    await codeflow_connection.execute("ANALYZE pull_requests, repositories, user_profiles")
    first_page = {
        "user_id": user_id,
        "private_access_window": timedelta(hours=1),
        "before_updated_at": None,
        "before_id": None,
        "repository_github_id": None,
        "author_login": None,
        "draft": None,
        "page_size": 26,
    }
    later_filtered_page = {
        **first_page,
        "before_updated_at": datetime(2025, 2, 1, tzinfo=UTC),
        "before_id": 50_000,
        "author_login": "user4",
        "draft": False,
    }
    for generic in (False, True):
        for values in (first_page, later_filtered_page):
            nodes = await dashboard_plan(codeflow_connection, values, generic=generic)
            assert not [
                node
                for node in nodes
                if node.get("Relation Name") == "pull_requests" and node["Node Type"] == "Seq Scan"
            ], nodes
            indexes = {node["Index Name"] for node in nodes if node.get("Index Name", "").startswith("pull_")}
            assert indexes == {"pull_requests_open_dashboard_idx"}, nodes
        # Unfiltered, the common case: read in index order, stop after a page per repository.
        assert any(
            node["Node Type"] == "Index Scan"
            and node["Index Name"] == "pull_requests_open_dashboard_idx"
            and node["Scan Direction"] == "Backward"
            for node in await dashboard_plan(codeflow_connection, first_page, generic=generic)
        )
    assert time.monotonic() - started < 10
