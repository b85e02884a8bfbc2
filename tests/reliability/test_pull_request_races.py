"""Races on the pull-request cache: concurrent deliveries of one PR's states, single or
batched, in any order, end with its newest state and raise nothing
(docs/pull_requests.md, "Writes").

Each round writes PRs nobody has cached yet, so the writers race to insert the same
rows. A gate lines them up: a connection holds a SHARE lock on the table, which every
INSERT waits for, until all of them wait, then lets them go at once. Run with `-s` to
see how many rounds failed.
"""

from __future__ import annotations

import asyncio
import random
from collections import Counter
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from datetime import UTC, datetime, timedelta
from typing import Literal

import asyncpg
import pytest

from codeflow import Database
from codeflow.pull_requests import PullRequestData, PullRequestStore

from .conftest import report

T0 = datetime(2026, 1, 1, tzinfo=UTC)
REPO = 1296269
POOL = 10  # codeflow_settings' db_pool_max_size: writers at once
CONTENT = ("id", "repository_github_id", "number", "title", "state", "updated_at", "closed_at", "merged_at")
Kind = Literal["open", "closed", "merged"]


def state(pr_id: int, second: int, *, kind: Kind | None = None, number: int | None = None) -> PullRequestData:
    """A state of a PR whose GitHub updated_at is T0 + `second`: a higher second is a
    newer state. Open or closed by the second's parity unless `kind` says."""
    updated = T0 + timedelta(seconds=second)
    kind = kind or ("closed" if second % 2 else "open")
    return PullRequestData(
        id=pr_id,
        repository_github_id=REPO,
        number=number or pr_id,
        title=f"PR {pr_id} {kind} at {second}",
        author_login="octocat",
        state=kind,
        head_ref=f"topic-{pr_id}",
        base_ref="main",
        html_url=f"https://github.com/octocat/Hello-World/pull/{number or pr_id}",
        created_at=T0 - timedelta(days=1),
        updated_at=updated,
        closed_at=None if kind == "open" else updated,
        merged_at=updated if kind == "merged" else None,
    )


def orders(seed: int) -> random.Random:
    """Delivery orders that differ from round to round, the same from run to run."""
    return random.Random(seed)  # noqa: S311 - reproducible orders, not secrets


@pytest.fixture
def prs(codeflow_database: Database) -> PullRequestStore:
    return codeflow_database.pull_requests


@pytest.fixture
async def gate(codeflow_database_url: str) -> AsyncIterator[asyncpg.Connection]:
    """A connection outside the pool (the writers take every pooled one), which also
    reads the outcome."""
    connection = await asyncpg.connect(codeflow_database_url)
    try:
        yield connection
    finally:
        await connection.close()


async def cached(gate: asyncpg.Connection, number: int) -> list[dict[str, object]]:
    """The rows cached for `number` of REPO, as CONTENT."""
    rows = await gate.fetch(
        f"SELECT {', '.join(CONTENT)} FROM pull_requests WHERE repository_github_id = $1 AND number = $2",
        REPO,
        number,
    )
    return [dict(row) for row in rows]


def expected(data: PullRequestData) -> list[dict[str, object]]:
    return [data.model_dump(include=set(CONTENT))]


async def at_once(gate: asyncpg.Connection, deliveries: Sequence[Awaitable[object]]) -> list[object]:
    """Run `deliveries` so that they reach the table at the same moment; their results
    or exceptions."""
    tasks: list[asyncio.Future[object]] = []
    try:
        async with gate.transaction():
            await gate.execute("LOCK TABLE pull_requests IN SHARE MODE")
            tasks = [asyncio.ensure_future(delivery) for delivery in deliveries]
            async with asyncio.timeout(10):
                while await gate.fetchval(  # noqa: ASYNC110 - polling the server, not a local event
                    "SELECT count(*) FROM pg_locks WHERE NOT granted AND relation = 'pull_requests'::regclass"
                    " AND database = (SELECT oid FROM pg_database WHERE datname = current_database())"
                ) < len(tasks):
                    await asyncio.sleep(0.001)
    finally:
        results = await asyncio.gather(*tasks, return_exceptions=True)
    return results


def error_name(error: BaseException) -> str:
    """The error's class, and its SQLSTATE when it has one (40P01: a deadlock)."""
    sqlstate = getattr(error, "sqlstate", None)
    return f"{type(error).__name__} {sqlstate}" if sqlstate else type(error).__name__


async def race(
    gate: asyncpg.Connection,
    rounds: int,
    deliveries: Callable[[int], Sequence[Awaitable[object]]],
    check: Callable[[int], Awaitable[bool]],
    name: str,
) -> None:
    """Run `rounds` rounds of `deliveries(round)` let go at once; fail if any raised or
    left, by `check(round)`, another state than the newest. Reports the failed rounds."""
    failures: Counter[str] = Counter()
    failed_rounds = 0
    for n in range(rounds):
        results = await at_once(gate, deliveries(n))
        errors = {error_name(r) for r in results if isinstance(r, BaseException)}
        failures.update(errors)
        stale = not await check(n)
        if stale:
            failures["older state left" + ("" if errors else " without an error")] += 1
        failed_rounds += bool(errors or stale)
    report(f"race.{name}", f"{failed_rounds} of {rounds} rounds failed {dict(failures)}")
    assert not failed_rounds, f"{failed_rounds} of {rounds} rounds failed: {dict(failures)}"


@pytest.mark.parametrize(("writers", "rounds"), [(2, 300), (10, 100)])
async def test_writers_racing_to_cache_a_pr_leave_its_newest_state(
    prs: PullRequestStore, gate: asyncpg.Connection, writers: int, rounds: int
) -> None:
    # Each writer delivers one state of the PR; POOL // writers PRs race side by side.
    side_by_side = POOL // writers
    shuffler = orders(writers)

    def deliveries(n: int) -> list[Awaitable[object]]:
        numbers = range(n * side_by_side + 1, (n + 1) * side_by_side + 1)
        states = [state(i, second) for i in numbers for second in range(writers)]
        shuffler.shuffle(states)
        return [prs.upsert_pull_request(data) for data in states]

    async def check(n: int) -> bool:
        numbers = range(n * side_by_side + 1, (n + 1) * side_by_side + 1)
        return all([await cached(gate, i) == expected(state(i, writers - 1)) for i in numbers])

    await race(gate, rounds, deliveries, check, f"pr_upsert_{writers}_writers_per_pr")


async def test_batches_racing_to_cache_many_prs_leave_each_ones_newest_state(
    prs: PullRequestStore, gate: asyncpg.Connection
) -> None:
    # Each writer sends every PR of the round, in its own order, some of them twice
    # (an older and a newer state in one batch); which writer has a PR's newest state varies.
    writers, size, rounds = POOL, 20, 100
    shuffler = orders(11)

    def deliveries(n: int) -> list[Awaitable[object]]:
        batches: list[list[PullRequestData]] = [[] for _ in range(writers)]
        for pr_id in range(n * size + 1, (n + 1) * size + 1):
            seconds = list(range(writers + 2))
            shuffler.shuffle(seconds)
            for writer, batch in enumerate(batches):
                batch.append(state(pr_id, seconds[writer]))
            for extra in seconds[writers:]:
                batches[shuffler.randrange(writers)].append(state(pr_id, extra))
        for batch in batches:
            shuffler.shuffle(batch)
        return [prs.upsert_pull_requests(batch) for batch in batches]

    async def check(n: int) -> bool:
        numbers = range(n * size + 1, (n + 1) * size + 1)
        return all([await cached(gate, i) == expected(state(i, writers + 1)) for i in numbers])

    await race(gate, rounds, deliveries, check, f"pr_batch_upsert_{writers}_writers_of_{size}_prs")


async def test_states_of_the_same_second_racing_end_with_the_same_winner(
    prs: PullRequestStore, gate: asyncpg.Connection
) -> None:
    # GitHub's updated_at has one-second resolution: at equal updated_at the tie-break
    # decides (merged, then closed, then open), whoever arrives first.
    kinds: tuple[Kind, ...] = ("open", "closed", "merged")
    side_by_side = POOL // len(kinds)
    shuffler = orders(3)

    def deliveries(n: int) -> list[Awaitable[object]]:
        numbers = range(n * side_by_side + 1, (n + 1) * side_by_side + 1)
        states = [state(i, 0, kind=kind) for i in numbers for kind in kinds]
        shuffler.shuffle(states)
        return [prs.upsert_pull_request(data) for data in states]

    async def check(n: int) -> bool:
        numbers = range(n * side_by_side + 1, (n + 1) * side_by_side + 1)
        return all([await cached(gate, i) == expected(state(i, 0, kind="merged")) for i in numbers])

    await race(gate, 50, deliveries, check, "pr_upsert_same_second")


async def test_a_number_moving_to_a_new_id_while_both_are_delivered_keeps_the_new_one(
    prs: PullRequestStore, gate: asyncpg.Connection
) -> None:
    # Number n of the repository belonged to PR id 2n and now to 2n + 1 (GitHub deleted
    # and re-created it): late states of the old id race the new id's, single and in a
    # batch holding both; in odd rounds the old id is cached before the race.
    shuffler = orders(5)

    def old(n: int, second: int) -> PullRequestData:
        return state(2 * (n + 1), second, number=n + 1)

    def new(n: int, second: int) -> PullRequestData:
        return state(2 * (n + 1) + 1, 10 + second, number=n + 1)

    def deliveries(n: int) -> list[Awaitable[object]]:
        single = [old(n, 0), old(n, 1), old(n, 2), new(n, 0), new(n, 1), new(n, 2)]
        shuffler.shuffle(single)
        batch = [old(n, 3), new(n, 2), old(n, 4), new(n, 1)]
        shuffler.shuffle(batch)
        return [*(prs.upsert_pull_request(data) for data in single), prs.upsert_pull_requests(batch)]

    async def check(n: int) -> bool:
        old_id_gone = not await gate.fetchval("SELECT count(*) FROM pull_requests WHERE id = $1", 2 * (n + 1))
        return old_id_gone and await cached(gate, n + 1) == expected(new(n, 2))

    rounds = 50
    for n in range(1, rounds, 2):
        await prs.upsert_pull_request(old(n, 0))
    await race(gate, rounds, deliveries, check, "pr_number_moving_to_a_new_id")


pytestmark = pytest.mark.integration
