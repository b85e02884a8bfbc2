"""Connecting retries transient failures with bounded, jittered backoff and then
says what it tried; other failures are not retried."""

from __future__ import annotations

import asyncio
import ssl
import time

import asyncpg
import pytest

from codeflow import DatabaseUnavailable, load_settings
from codeflow.pool import create_pool
from codeflow.retry import Backoff, connect_with_retry, is_transient

from .servers import ScratchServer, free_port, sql_literal, superuser_run

pytestmark = pytest.mark.integration


def test_the_wait_ceiling_doubles_up_to_the_cap() -> None:
    backoff = Backoff(attempts=7, first_delay_s=0.25, max_delay_s=4.0)
    assert [backoff.ceiling(n) for n in range(1, 7)] == [0.25, 0.5, 1.0, 2.0, 4.0, 4.0]


async def test_transient_failures_are_retried_with_jittered_waits() -> None:
    outcomes: list[BaseException | str] = [
        ConnectionRefusedError(111, "refused"),
        asyncpg.CannotConnectNowError("the database system is starting up"),
        asyncpg.TooManyConnectionsError("sorry, too many clients already"),
        "connected",
    ]
    slept: list[float] = []
    ceilings: list[float] = []

    async def connect() -> str:
        outcome = outcomes.pop(0)
        if isinstance(outcome, BaseException):
            raise outcome
        return outcome

    async def sleep(seconds: float) -> None:
        slept.append(seconds)

    def jitter(low: float, high: float) -> float:
        ceilings.append(high)
        return high / 2

    result = await connect_with_retry(
        connect, backoff=Backoff(attempts=4, first_delay_s=0.1), target="db", sleep=sleep, jitter=jitter
    )
    assert result == "connected"
    assert ceilings == [0.1, 0.2, 0.4]
    assert slept == [0.05, 0.1, 0.2]


async def test_giving_up_says_what_was_tried_and_hides_the_password() -> None:
    port = free_port()  # nothing listens there
    settings = load_settings(
        database_url=f"postgresql://app:s3cret-pw@127.0.0.1:{port}/codeflow",
        db_connect_attempts=3,
        db_connect_backoff_s=0.05,
    )
    started = time.monotonic()
    with pytest.raises(DatabaseUnavailable) as caught:
        await create_pool(settings)
    elapsed = time.monotonic() - started
    message = str(caught.value)
    assert f"cannot connect to postgresql://app:***@127.0.0.1:{port}/codeflow: 3 attempts in" in message
    assert "last error: ConnectionRefusedError" in message
    assert "s3cret-pw" not in message
    assert elapsed < 0.05 + 0.1 + 1.0  # the two waits are bounded by their ceilings


def test_configuration_and_certificate_errors_are_not_transient() -> None:
    assert not is_transient(asyncpg.InvalidPasswordError("password authentication failed"))
    assert not is_transient(asyncpg.InvalidCatalogNameError('database "x" does not exist'))
    assert not is_transient(ssl.SSLCertVerificationError("hostname mismatch"))
    assert is_transient(TimeoutError())


async def test_a_full_server_is_waited_for(tls_server: ScratchServer) -> None:
    """A real 'too many connections' (the role's limit), freed while the pool retries."""
    await superuser_run(
        tls_server,
        "DROP ROLE IF EXISTS codeflow_busy",
        f"CREATE ROLE codeflow_busy LOGIN CONNECTION LIMIT 1 PASSWORD {sql_literal('busy-pw')}",
    )
    url = tls_server.url(user="codeflow_busy", password="busy-pw")
    hog = await asyncpg.connect(url)
    settings = load_settings(
        database_url=url, db_pool_min_size=1, db_connect_attempts=8, db_connect_backoff_s=0.1
    )

    async def free_the_slot() -> None:
        await asyncio.sleep(0.3)
        await hog.close()

    freeing = asyncio.create_task(free_the_slot())
    pool = await create_pool(settings)
    try:
        assert await pool.fetchval("SELECT current_user") == "codeflow_busy"
    finally:
        await pool.close()
        await freeing
