"""Server restart under load, on a cluster the test owns: 32 tasks write while the
server stops (immediate: a crash) and comes back."""

from __future__ import annotations

import asyncio
import time
from collections import Counter
from dataclasses import dataclass, field

import asyncpg
import pytest

from codeflow import Database, DatabaseUnavailable, RepositoryStore, load_settings

from .cluster import ScratchCluster
from .conftest import report

TASKS = 32
APP = "codeflow-reliability"


@dataclass
class Load:
    acknowledged: set[int] = field(default_factory=set)
    errors: Counter[str] = field(default_factory=Counter)
    unexpected: list[BaseException] = field(default_factory=list)
    slowest_failure_s: float = 0.0
    successes_at: list[float] = field(default_factory=list)


async def _writer(
    repositories: RepositoryStore, user_id: str, task: int, load: Load, stop: asyncio.Event
) -> None:
    n = 0
    while not stop.is_set():
        n += 1
        github_id = (task + 1) * 1_000_000 + n
        started = time.monotonic()
        try:
            await repositories.add_repository(
                user_id,
                github_id=github_id,
                name=f"r{n}",
                full_name=f"user{task}/r{n}",
                owner=f"user{task}",
                private=False,
            )
        except DatabaseUnavailable as exc:
            load.errors[type(exc).__name__] += 1
            load.slowest_failure_s = max(load.slowest_failure_s, time.monotonic() - started)
            await asyncio.sleep(0.02)
            continue
        except BaseException as exc:
            load.unexpected.append(exc)
            raise
        load.acknowledged.add(github_id)
        load.successes_at.append(time.monotonic())


async def test_restart_under_load_loses_no_acknowledged_write(scratch_cluster: ScratchCluster) -> None:
    url = scratch_cluster.url("codeflow")
    setup = await asyncpg.connect(url)
    try:
        await setup.execute("TRUNCATE users CASCADE")
        for task in range(TASKS):
            await setup.execute("INSERT INTO users (id) VALUES ($1)", f"u{task}")
            await setup.execute(
                "INSERT INTO user_profiles (user_id, github_id, username) VALUES ($1, $2, $3)",
                f"u{task}",
                task + 1,
                f"user{task}",
            )
    finally:
        await setup.close()

    settings = load_settings(
        database_url=url, db_pool_min_size=10, db_pool_max_size=10, db_application_name=APP
    )
    database = await Database(settings).open()
    load, stop = Load(), asyncio.Event()
    writers = [
        asyncio.create_task(_writer(database.repositories, f"u{task}", task, load, stop))
        for task in range(TASKS)
    ]
    try:
        await asyncio.sleep(0.5)
        before = len(load.acknowledged)
        await asyncio.to_thread(scratch_cluster.stop, "immediate")
        down_at = time.monotonic()
        await asyncio.sleep(1.0)
        errors_while_down = sum(load.errors.values())
        await asyncio.to_thread(scratch_cluster.start)
        up_at = time.monotonic()
        deadline = up_at + 10
        while time.monotonic() < deadline and not [t for t in load.successes_at if t > up_at]:  # noqa: ASYNC110
            await asyncio.sleep(0.01)
        recovered = [t for t in load.successes_at if t > up_at]
        assert recovered, "the pool did not recover within 10 s of the server's return"
        recovery_s = min(recovered) - up_at
        await asyncio.sleep(1.0)  # steady load after recovery
        after_recovery = len([t for t in load.successes_at if t > up_at])
    finally:
        stop.set()
        await asyncio.wait_for(asyncio.gather(*writers, return_exceptions=True), timeout=30)
    try:
        assert not load.unexpected, f"callers saw non-DatabaseUnavailable errors: {load.unexpected[:3]}"
        assert before > 0, "no write succeeded before the restart"
        assert errors_while_down > 0, "no caller noticed the server was down"
        # Failing fast means the connect retry gives up, not the caller's wait for a pooled
        # connection running out. How long the retries take depends on how many callers
        # queue behind them (32 tasks, 10 connections) and on the machine's load, so the
        # bound is the acquire timeout, not a figure measured on an idle machine. (A caller
        # that waited it out would get PoolExhausted, an unexpected error above, or a
        # DatabaseUnavailable no sooner than the timeout, which the bound catches.)
        assert load.slowest_failure_s < settings.db_pool_acquire_timeout_s
        assert after_recovery > 0
        assert (await database.health.report()).pool_size <= 10
        # Every write the store acknowledged survived the crash.
        check = await asyncpg.connect(url)
        try:
            stored = {row["github_id"] for row in await check.fetch("SELECT github_id FROM repositories")}
        finally:
            await check.close()
        missing = load.acknowledged - stored
        assert not missing, f"{len(missing)} acknowledged writes are missing"
    finally:
        await database.close()
    # No connection leaked: once the Database is closed, none of ours is left on the server.
    check = await asyncpg.connect(url)
    try:
        ours = await check.fetchval("SELECT count(*) FROM pg_stat_activity WHERE application_name = $1", APP)
    finally:
        await check.close()
    assert ours == 0
    report("restart.acknowledged_writes", len(load.acknowledged))
    report("restart.down_s", round(up_at - down_at, 2))
    report("restart.errors_while_down", dict(load.errors))
    report("restart.slowest_failing_call_s", round(load.slowest_failure_s, 3))
    report("restart.recovery_s_after_server_up", round(recovery_s, 3))
    report("restart.writes_in_1s_after_recovery", after_recovery)


pytestmark = pytest.mark.integration
