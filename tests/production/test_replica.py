"""A real read replica: a hot standby made with `pg_basebackup -R` streaming from a primary
this module starts (tests/production/replication.py). The read pool serves from the
standby, refuses writes, reports its lag; read-your-writes holds with replay paused; the
write pool and migrate-deploy refuse a standby; a migration on the primary reaches the
standby under read load without a failed read."""

from __future__ import annotations

import asyncio
import contextvars
import shutil
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import pytest_asyncio

from codeflow import Database, DatabaseUnavailable, QueryFailed, Settings, load_settings
from codeflow.paths import MIGRATIONS_DIR
from codeflow.pool import pool_options
from codeflow.tools import localdb, migrate

from .replication import Pair, replicated_pair

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
def pair() -> Iterator[Pair]:
    with replicated_pair(synchronous=False) as running:
        yield running


def _settings(pair: Pair, **overrides: Any) -> Settings:
    return load_settings(
        database_url=pair.primary.url(),
        database_read_url=pair.standby.url(),
        db_connect_timeout_s=2,
        db_connect_attempts=2,
        db_connect_backoff_s=0.05,
        **overrides,
    )


@pytest_asyncio.fixture
async def database(pair: Pair) -> AsyncIterator[Database]:
    await pair.fetch(pair.primary, "TRUNCATE users CASCADE")
    async with Database(_settings(pair)) as opened:
        yield opened
    await pair.fetch(pair.standby, "SELECT pg_wal_replay_resume()")


async def _user_with_profile(database: Database, user_id: str, github_id: int) -> None:
    await database.auth.create_user(user_id=user_id, email=f"{user_id}@example.com")
    await database.profiles.create_user_profile(user_id, github_id=github_id, username=user_id)


async def _add(database: Database, user_id: str, github_id: int) -> None:
    await database.repositories.add_repository(
        user_id,
        github_id=github_id,
        name=f"r{github_id}",
        full_name=f"o/r{github_id}",
        owner="o",
        private=False,
    )


def _in_new_request(call: Callable[[], Awaitable[Any]]) -> asyncio.Task[Any]:
    """`call` as another request would run it: in a task with a context of its own."""
    return asyncio.create_task(call(), context=contextvars.Context())  # type: ignore[arg-type]


def test_settings_accept_a_multi_host_url_that_asyncpg_reads(pair: Pair) -> None:
    """DATABASE_URL and DATABASE_READ_URL may name both servers (libpq's failover list):
    the pool gets them with target_session_attrs, and the CLI's local guard judges
    every host, so one remote host makes the URL not local."""
    settings = load_settings(
        database_url=pair.url(),
        database_read_url=pair.url(pair.standby, pair.primary, attrs="prefer-standby"),
    )
    dsn = pool_options(settings)["dsn"]
    assert f"127.0.0.1:{pair.primary.port},127.0.0.1:{pair.standby.port}" in dsn
    assert "target_session_attrs=read-write" in dsn
    assert "target_session_attrs=prefer-standby" in pool_options(settings, read_only=True)["dsn"]
    assert localdb.is_local(pair.url())
    assert not localdb.is_local(f"postgresql://postgres@127.0.0.1:{pair.primary.port},db.example.com:5432/x")


async def test_the_standby_serves_read_stores_and_refuses_writes(pair: Pair, database: Database) -> None:
    await _user_with_profile(database, "reader", 1)
    await _add(database, "reader", 11)
    await pair.caught_up()

    async def on_the_replica() -> None:
        assert [
            repository.github_id
            for repository in await database.read.repositories.get_user_repositories("reader")
        ] == [11]
        assert (await database.read.pull_requests.get_dashboard("reader")).items == []
        with pytest.raises(QueryFailed) as caught:
            await database.read.profiles.update_user_last_active("reader")
        assert caught.value.sqlstate == "25006"  # read_only_sql_transaction, refused before it is sent

    await _in_new_request(on_the_replica)
    report = await database.health.report()
    assert report.ok and report.replica_in_recovery is True, "the read pool is on the standby"
    assert report.replica_lag_bytes == 0 and report.replica_lag_s == 0


async def test_lag_is_reported_and_reads_elsewhere_see_the_standby_state(
    pair: Pair, database: Database
) -> None:
    """Replay paused: another request's reads are as old as the standby (what `read`
    promises: lag-tolerant), and the health report shows the lag in bytes and seconds."""
    await _user_with_profile(database, "lagging", 2)
    await pair.caught_up()
    await pair.fetch(pair.standby, "SELECT pg_wal_replay_pause()")
    await _add(database, "lagging", 21)
    await asyncio.sleep(1.1)
    report = await database.health.report()
    assert report.replica_lag_bytes is not None and report.replica_lag_bytes > 0
    assert report.replica_lag_s is not None and report.replica_lag_s >= 1.0
    seen = await _in_new_request(lambda: database.read.repositories.get_user_repositories("lagging"))
    assert seen == [], "another request reads the standby, which has not replayed the write"
    await pair.fetch(pair.standby, "SELECT pg_wal_replay_resume()")
    await pair.caught_up()
    seen = await _in_new_request(lambda: database.read.repositories.get_user_repositories("lagging"))
    assert [repository.github_id for repository in seen] == [21]
    assert (await database.health.report()).replica_lag_bytes == 0


async def test_a_request_reads_its_own_writes_with_replay_paused(pair: Pair, database: Database) -> None:
    """The request that added a repository lists it, though the standby has not
    replayed the insert; the read still refuses writes (a read-only pool on the primary)."""
    await _user_with_profile(database, "writer", 3)
    await pair.caught_up()
    await pair.fetch(pair.standby, "SELECT pg_wal_replay_pause()")

    async def request() -> list[int]:
        await _add(database, "writer", 31)
        with pytest.raises(QueryFailed) as caught:
            await database.read.profiles.update_user_last_active("writer")
        assert caught.value.sqlstate == "25006"
        return [
            repository.github_id
            for repository in await database.read.repositories.get_user_repositories("writer")
        ]

    assert await _in_new_request(request) == [31]
    seen = await _in_new_request(lambda: database.read.repositories.get_user_repositories("writer"))
    assert seen == [], "a request that wrote nothing still reads the (paused) standby"


async def test_read_your_writes_scope_covers_tasks_the_request_starts(pair: Pair, database: Database) -> None:
    await _user_with_profile(database, "scoped", 4)
    await pair.caught_up()
    await pair.fetch(pair.standby, "SELECT pg_wal_replay_pause()")

    async def request() -> int:
        with database.read_your_writes():
            await asyncio.gather(_add(database, "scoped", 41), _add(database, "scoped", 42))
            return len(await database.read.repositories.get_user_repositories("scoped"))

    assert await _in_new_request(request) == 2


async def test_read_your_writes_off_reads_the_stale_standby(pair: Pair) -> None:
    """DB_READ_YOUR_WRITES_S=0 turns the rule off: the same request then misses its own
    write, which is what the rule prevents."""
    await pair.fetch(pair.primary, "TRUNCATE users CASCADE")
    async with Database(_settings(pair, db_read_your_writes_s=0)) as database:
        await _user_with_profile(database, "stale", 5)
        await pair.caught_up()
        await pair.fetch(pair.standby, "SELECT pg_wal_replay_pause()")
        try:

            async def request() -> int:
                await _add(database, "stale", 51)
                return len(await database.read.repositories.get_user_repositories("stale"))

            assert await _in_new_request(request) == 0
        finally:
            await pair.fetch(pair.standby, "SELECT pg_wal_replay_resume()")


async def test_the_write_pool_refuses_a_standby(pair: Pair) -> None:
    """DATABASE_URL naming only the standby (a stale DNS name, a URL without
    target_session_attrs): the write pool opens no connection there, so no write can
    reach it; the caller sees DatabaseUnavailable, retryable, not a driver error."""
    settings = _settings(pair).model_copy(update={"database_url": _settings(pair).database_read_url})
    with pytest.raises(DatabaseUnavailable, match="TargetServerAttributeNotMatched") as caught:
        await Database(settings).open()
    assert caught.value.__cause__ is None and caught.value.__context__ is None


def test_migrate_deploy_refuses_a_standby(
    pair: Pair, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    from codeflow.tools import cli  # noqa: PLC0415

    monkeypatch.setenv("DATABASE_URL", pair.standby.url())
    assert cli.main(["migrate-deploy"]) != 0
    message = capsys.readouterr().err
    assert "refusing to migrate" in message and "is a standby" in message, message


async def test_an_additive_migration_reaches_the_standby_under_read_load(
    pair: Pair, database: Database, tmp_path: Path
) -> None:
    """A migration applied through the multi-host URL (the lock and dbmate on the
    primary) replicates to the standby while 8 readers query it: no read fails."""
    await _user_with_profile(database, "load", 6)
    await _add(database, "load", 61)
    await pair.caught_up()
    folder = tmp_path / "migrations"
    shutil.copytree(MIGRATIONS_DIR, folder)
    (folder / "29990101000000_add_replica_probe.sql").write_text(
        "-- migrate:up\nALTER TABLE repositories ADD COLUMN replica_probe text;\n"
        "COMMENT ON COLUMN repositories.replica_probe IS 'test-only column (test_replica)';\n"
        "-- migrate:down\nALTER TABLE repositories DROP COLUMN replica_probe;\n"
    )
    stop = asyncio.Event()
    reads: list[int] = []
    errors: list[BaseException] = []

    async def reader() -> None:
        while not stop.is_set():
            try:
                reads.append(len(await database.read.repositories.get_user_repositories("load")))
                await database.read.pull_requests.get_dashboard("load")
            except Exception as exc:  # noqa: BLE001 - collected, asserted below
                errors.append(exc)

    readers = [_in_new_request(reader) for _ in range(8)]
    try:
        await asyncio.sleep(0.3)
        outcome = await migrate.migrate(pair.url(), migrations_dir=folder)
        assert any("add_replica_probe" in line for line in outcome.done)
        await pair.caught_up()
        assert await pair.fetch(pair.standby, _PROBE_COLUMNS) == 1, "the migration reached the standby"
        await asyncio.sleep(0.3)
    finally:
        stop.set()
        await asyncio.gather(*readers)
        await migrate.rollback(pair.url(), migrations_dir=folder)
    assert errors == []
    assert len(reads) > 8 and set(reads) == {1}


_PROBE_COLUMNS = "SELECT count(*) FROM information_schema.columns WHERE column_name = 'replica_probe'"
