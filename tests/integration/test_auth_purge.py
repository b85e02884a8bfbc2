"""Purging expired sessions and verification tokens: the store method and `codeflow-db purge`."""

from __future__ import annotations

import asyncio
import logging
from datetime import UTC, datetime, timedelta

import asyncpg
import pytest

from codeflow import AuthStore, Database, InvalidInput
from codeflow.tools import cli


@pytest.fixture
def store(codeflow_database: Database) -> AuthStore:
    return codeflow_database.auth


async def make_rows(store: AuthStore, *, expired: int, live: int) -> None:
    """`expired` sessions and tokens that expired in the past, `live` ones that have not."""
    user = await store.create_user()
    now = datetime.now(UTC)
    for number in range(expired + live):
        expires = now - timedelta(hours=number + 1) if number < expired else now + timedelta(hours=number)
        await store.create_session(session_token=f"s{number}", user_id=user.id, expires=expires)
        await store.create_verification_token(identifier="i", token=f"t{number}", expires=expires)


async def remaining(connection: asyncpg.Connection) -> tuple[int, int]:
    sessions = await connection.fetchval("SELECT count(*) FROM sessions")
    tokens = await connection.fetchval("SELECT count(*) FROM verification_tokens")
    return sessions, tokens


async def test_purge_deletes_only_expired_rows_in_bounded_batches(
    store: AuthStore, codeflow_connection: asyncpg.Connection, caplog: pytest.LogCaptureFixture
) -> None:
    await make_rows(store, expired=5, live=2)
    caplog.set_level(logging.DEBUG, logger="codeflow.sql")

    counts = await store.purge_expired(batch_size=2)

    assert (counts.sessions, counts.verification_tokens) == (5, 5)
    assert await remaining(codeflow_connection) == (2, 2)
    assert await store.get_session_and_user("s5") is not None
    statements = [record.args[0] for record in caplog.records if isinstance(record.args, tuple)]
    assert statements.count("delete_expired_auth_sessions") == 3  # 2 + 2 + 1
    assert statements.count("delete_expired_auth_verification_tokens") == 3
    assert (await store.purge_expired()).sessions == 0


@pytest.mark.parametrize("batch_size", [0, -1, 100_001, True])
async def test_purge_refuses_unbounded_batches(store: AuthStore, batch_size: int) -> None:
    with pytest.raises(InvalidInput):
        await store.purge_expired(batch_size=batch_size)


async def test_purge_command_purges_the_database_url(
    store: AuthStore,
    codeflow_connection: asyncpg.Connection,
    codeflow_database_url: str,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    await make_rows(store, expired=3, live=1)
    monkeypatch.setenv("DATABASE_URL", codeflow_database_url)

    # The command runs its own event loop, as it does under a scheduler.
    status = await asyncio.to_thread(cli.main, ["purge", "--batch-size", "2"])

    assert status == 0
    assert "purged 3 expired sessions and 3 expired verification tokens" in capsys.readouterr().out
    assert await remaining(codeflow_connection) == (1, 1)
