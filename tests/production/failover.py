"""A failover under write load, measured: 32 tasks write through the service against a
DATABASE_URL naming both servers (target_session_attrs=read-write) while the primary is
killed (immediate stop) and the standby promoted. Shared by tests/production/test_failover.py
and the figures command (`make failover-figures`, tests/production/failover_figures.py).
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import os
import signal
import time
from dataclasses import dataclass, field

import asyncpg

from codeflow import Database, DatabaseUnavailable, Settings, load_settings

from .replication import Pair

WRITERS = 32
ACQUIRE_TIMEOUT_S = 3.0
COMMAND_TIMEOUT_S = 3.0
# A call may wait for a connection (acquire timeout, opening one included) and then run
# its statement (command timeout): anything longer is a hang.
HANG_S = ACQUIRE_TIMEOUT_S + COMMAND_TIMEOUT_S + 1.0


def failover_settings(pair: Pair) -> Settings:
    return load_settings(
        database_url=pair.url(),
        database_read_url=pair.url(pair.standby, pair.primary, attrs="prefer-standby"),
        db_pool_min_size=4,
        db_pool_max_size=16,
        db_pool_acquire_timeout_s=ACQUIRE_TIMEOUT_S,
        db_command_timeout_s=COMMAND_TIMEOUT_S,
        db_connect_timeout_s=1.0,
        db_connect_attempts=3,
        db_connect_backoff_s=0.1,
        db_connect_backoff_max_s=0.5,
        db_application_name="codeflow-failover",
    )


@dataclass
class Outcome:
    """What the callers saw, and what the new primary kept."""

    acknowledged: list[str] = field(default_factory=list)
    errors: dict[str, int] = field(default_factory=dict)  # error class name -> count
    hangs: int = 0
    first_write_after_kill_s: float | None = None
    promoted_after_s: float | None = None  # `pg_ctl promote -w` returned, counted from the kill
    lost: list[str] = field(default_factory=list)
    connections_after: int = 0  # the new primary's connections from the pool, once it closed

    @property
    def unexpected_errors(self) -> dict[str, int]:
        return {name: count for name, count in self.errors.items() if name != "DatabaseUnavailable"}


async def _writer(
    database: Database,
    number: int,
    *,
    stop: asyncio.Event,
    outcome: Outcome,
    clock: dict[str, float],
    recovered: asyncio.Event,
) -> None:
    for sequence in itertools.count():
        if stop.is_set():
            return
        user_id = f"w{number}-{sequence}"
        begun = time.monotonic()
        try:
            async with asyncio.timeout(HANG_S):
                await database.auth.create_user(user_id=user_id, email=f"{user_id}@example.com")
        except TimeoutError:
            outcome.hangs += 1
        except DatabaseUnavailable:  # QueryTimeout and PoolClosed among them
            outcome.errors["DatabaseUnavailable"] = outcome.errors.get("DatabaseUnavailable", 0) + 1
            await asyncio.sleep(0.05)  # what a caller does with a retryable error: back off
        except Exception as exc:  # noqa: BLE001 - counted by class; the test fails on any
            outcome.errors[exc.__class__.__name__] = outcome.errors.get(exc.__class__.__name__, 0) + 1
        else:
            outcome.acknowledged.append(user_id)
            # A call begun once the old primary was down can only have been served by the
            # new one; the time counts from the start of the kill.
            if "down" in clock and begun >= clock["down"] and outcome.first_write_after_kill_s is None:
                outcome.first_write_after_kill_s = time.monotonic() - clock["killed"]
                recovered.set()


async def run_failover(
    pair: Pair, *, stall_s: float = 0.0, before_s: float = 1.0, after_s: float = 1.0, limit_s: float = 60.0
) -> Outcome:
    """Write with WRITERS tasks; kill the primary and promote the standby; write on
    until `after_s` past the first write that succeeds after the kill; then compare the
    acknowledged writes with what the new primary has.

    `stall_s` freezes the primary's WAL sender (SIGSTOP) that long before the kill, as a
    congested link or a slow standby would: an asynchronous primary goes on
    acknowledging commits the standby never gets, a synchronous one holds them."""
    outcome = Outcome()
    clock: dict[str, float] = {}
    stop, recovered = asyncio.Event(), asyncio.Event()
    old, new = pair.primary, pair.standby
    database = Database(failover_settings(pair))
    await database.open()
    try:
        writers = [
            asyncio.create_task(
                _writer(database, n, stop=stop, outcome=outcome, clock=clock, recovered=recovered)
            )
            for n in range(WRITERS)
        ]
        await asyncio.sleep(before_s)
        sender = None
        if stall_s:
            sender = int(str(await pair.fetch(old, "SELECT pid FROM pg_stat_replication", "postgres")))
            os.kill(sender, signal.SIGSTOP)
            await asyncio.sleep(stall_s)
        started = time.monotonic()
        if sender is not None:
            os.kill(sender, signal.SIGKILL)  # a stopped process would hold up the immediate stop
        await asyncio.to_thread(pair.kill, old)
        clock["killed"], clock["down"] = started, time.monotonic()
        await asyncio.to_thread(pair.promote, new)
        outcome.promoted_after_s = time.monotonic() - started
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(recovered.wait(), limit_s)
        await asyncio.sleep(after_s)
        stop.set()
        await asyncio.gather(*writers)
    finally:
        await database.close()
    outcome.lost = await _missing(new.url(), outcome.acknowledged)
    outcome.connections_after = int(
        str(
            await pair.fetch(
                new, "SELECT count(*) FROM pg_stat_activity WHERE application_name = 'codeflow-failover'"
            )
        )
    )
    return outcome


async def _missing(url: str, user_ids: list[str]) -> list[str]:
    connection = await asyncpg.connect(url)
    try:
        present = {
            row["id"] for row in await connection.fetch("SELECT id FROM users WHERE id = ANY($1)", user_ids)
        }
    finally:
        await connection.close()
    return [user_id for user_id in user_ids if user_id not in present]
