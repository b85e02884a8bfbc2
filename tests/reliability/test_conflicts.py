"""Deadlocks and serialization failures (issue 11, item 5): a single statement outside
`transaction()` is run again inside the package, a bounded number of times; inside
`transaction()` the caller gets `TransactionConflict`, since only it can rerun the block.

The deadlock is real: a transaction of the test's own (`rival`) takes a new e-mail
address and then the row of the user whose address `AuthStore.update_user` changes to
it; the store's statement, which holds that row and waits for the address, is the one
the server picks as the victim (its deadlock_timeout of 1 s runs out first, the
rival's is 60 s), as when two users swap e-mail addresses concurrently.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import asyncpg
import pytest

from codeflow import AlreadyExists, AuthStore, Database, TransactionConflict, load_settings
from codeflow.auth import AdapterUser
from codeflow.queries import run
from codeflow.store import CONFLICT_RETRY

from .conftest import report

APP = "codeflow-rel-conflict"
FIRST = "first-zq81x@example.com"
SECOND = "second-zq81x@example.com"
WANTED = "wanted-zq81x@example.com"


@pytest.fixture
async def database(codeflow_database_url: str, codeflow_pool: asyncpg.Pool) -> AsyncIterator[Database]:
    """A Database with a pool of its own (its application_name finds its backend);
    `codeflow_pool` is taken for its emptied tables."""
    settings = load_settings(database_url=codeflow_database_url, db_application_name=APP, db_pool_max_size=2)
    async with Database(settings) as database:
        yield database


@pytest.fixture
def store(database: Database) -> AuthStore:
    return database.auth


@pytest.fixture
async def rival(codeflow_database_url: str) -> AsyncIterator[asyncpg.Connection]:
    connection = await asyncpg.connect(codeflow_database_url)
    await connection.execute("SET deadlock_timeout = '60s'")
    try:
        yield connection
    finally:
        await connection.close()


async def _store_waits_for_a_lock(admin: asyncpg.Pool) -> None:
    async with asyncio.timeout(10):
        while not await admin.fetchval(  # noqa: ASYNC110 - polling the server, not a local event
            "SELECT count(*) FROM pg_stat_activity WHERE application_name = $1 AND wait_event_type = 'Lock'",
            APP,
        ):
            await asyncio.sleep(0.01)


async def _deadlock(
    rival: asyncpg.Connection,
    admin: asyncpg.Pool,
    call: Awaitable[Any],
    first: AdapterUser,
    second: AdapterUser,
) -> Any:
    """Run `call` (second's address changed to WANTED) into a deadlock with `rival`; the
    rival rolls back once its statement gets through. `call`'s outcome, or its error."""
    await rival.execute("BEGIN")
    await rival.execute("UPDATE users SET email = $1 WHERE id = $2", WANTED, first.id)
    victim = asyncio.ensure_future(call)
    await _store_waits_for_a_lock(admin)
    # Closes the cycle: the rival waits for the row the store's statement has updated.
    await rival.execute("UPDATE users SET name = 'rival' WHERE id = $1", second.id)
    await rival.execute("ROLLBACK")
    outcome = await asyncio.gather(victim, return_exceptions=True)
    return outcome[0]


async def test_a_deadlocked_statement_is_retried_and_succeeds(
    store: AuthStore,
    rival: asyncpg.Connection,
    codeflow_pool: asyncpg.Pool,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """It was QueryFailed 40P01 after ~1 s."""
    first = await store.create_user(email=FIRST)
    second = await store.create_user(email=SECOND)
    started = time.monotonic()
    with caplog.at_level(logging.WARNING, logger="codeflow.sql"):
        outcome = await _deadlock(
            rival, codeflow_pool, store.update_user(second.id, email=WANTED), first, second
        )
    took = time.monotonic() - started
    assert isinstance(outcome, AdapterUser), outcome
    assert outcome.email == WANTED
    retries = [record for record in caplog.records if "retrying" in record.getMessage()]
    assert len(retries) == 1
    assert retries[0].levelno == logging.WARNING
    assert "update_auth_user" in retries[0].getMessage() and "40P01" in retries[0].getMessage()
    assert "zq81x" not in caplog.text
    report("conflict.deadlocked_update_user_succeeded_after_s", round(took, 3))


async def test_a_deadlock_inside_a_transaction_is_raised_for_the_caller_to_rerun(
    database: Database,
    rival: asyncpg.Connection,
    codeflow_pool: asyncpg.Pool,
    caplog: pytest.LogCaptureFixture,
    no_value_in_chain: Callable[..., None],
) -> None:
    first = await database.auth.create_user(email=FIRST)
    second = await database.auth.create_user(email=SECOND)

    async def in_a_transaction() -> AdapterUser:
        async with database.transaction() as tx:
            return await tx.auth.update_user(second.id, email=WANTED)

    with caplog.at_level(logging.WARNING, logger="codeflow.sql"):
        outcome = await _deadlock(rival, codeflow_pool, in_a_transaction(), first, second)
    assert isinstance(outcome, TransactionConflict), outcome
    assert outcome.sqlstate == "40P01"
    no_value_in_chain(outcome, WANTED, SECOND, second.id)
    assert not [record for record in caplog.records if "retrying" in record.getMessage()]
    assert (await database.auth.get_user(second.id) or second).email == SECOND  # rolled back


async def test_a_non_retryable_error_is_not_retried(
    store: AuthStore, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    await store.create_user(email=FIRST)
    second = await store.create_user(email=SECOND)
    calls = _count_runs(monkeypatch)
    with caplog.at_level(logging.WARNING, logger="codeflow.sql"), pytest.raises(AlreadyExists):
        await store.update_user(second.id, email=FIRST)
    assert calls == ["update_auth_user"]
    assert "retrying" not in caplog.text


async def test_retries_are_bounded(
    store: AuthStore, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    """A statement that conflicts every time runs CONFLICT_RETRY.attempts times, then
    TransactionConflict reaches the caller."""
    calls = _count_runs(monkeypatch, conflict=True)
    with caplog.at_level(logging.WARNING, logger="codeflow.sql"), pytest.raises(TransactionConflict):
        await store.get_user("u1")
    assert calls == ["get_auth_user"] * CONFLICT_RETRY.attempts
    assert caplog.text.count("retrying") == CONFLICT_RETRY.attempts - 1


def _count_runs(monkeypatch: pytest.MonkeyPatch, *, conflict: bool = False) -> list[str]:
    """Record the name of every statement the store runs; with `conflict`, each fails
    as a serialization failure would."""
    calls: list[str] = []

    async def counting(connection: Any, query: Any, args: Any, *, slow_ms: float) -> Any:
        calls.append(query.name)
        if conflict:
            raise TransactionConflict(f"{query.name}: SerializationError", sqlstate="40001")
        return await run(connection, query, args, slow_ms=slow_ms)

    monkeypatch.setattr("codeflow.store.run", counting)
    return calls
