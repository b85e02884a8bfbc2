"""Failover on real streaming replication: the primary is killed under the writes of 32
tasks and the standby promoted; the pool finds the new primary by itself (libpq
multi-host URL, target_session_attrs=read-write). Callers see only DatabaseUnavailable,
nothing hangs, no connection is left behind, and with a synchronous standby no
acknowledged write is lost. An old primary that comes back demoted or fenced gets no
writes. The figures in docs/production.md come from `make failover-figures`."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from pathlib import Path

import pytest

from codeflow import Database

from .failover import WRITERS, failover_settings, run_failover
from .replication import Pair, replicated_pair

pytestmark = pytest.mark.integration

DOCS = Path(__file__).resolve().parents[2] / "docs" / "production.md"


@pytest.fixture
def pair(request: pytest.FixtureRequest) -> Iterator[Pair]:
    with replicated_pair(synchronous=request.param) as running:
        yield running


@pytest.mark.parametrize("pair", [True, False], ids=["synchronous", "asynchronous"], indirect=True)
async def test_failover_under_write_load(pair: Pair) -> None:
    """The replication link stalls for half a second before the crash (the standby gets
    no WAL then), the worst case for acknowledged writes."""
    outcome = await run_failover(pair, stall_s=0.5)
    assert outcome.first_write_after_kill_s is not None, "no write succeeded after the failover"
    assert outcome.first_write_after_kill_s < 30
    assert outcome.unexpected_errors == {}, "callers saw errors other than DatabaseUnavailable"
    assert outcome.hangs == 0, "a call outlasted the acquire and command timeouts"
    assert len(outcome.acknowledged) > WRITERS * 2
    assert outcome.connections_after == 0, "the closed pool left connections on the new primary"
    if pair.synchronous:
        assert outcome.lost == [], "a synchronous standby keeps every acknowledged write"
    else:
        # What docs/production.md warns of: an asynchronous primary acknowledged commits
        # the standby never received, and the promotion dropped them.
        assert outcome.lost, "the stalled asynchronous standby should have missed acknowledged writes"
        assert "asynchronous replication loses" in " ".join(DOCS.read_text().split()).lower()


async def _write_through(database: Database, prefix: str, count: int) -> None:
    for number in range(count):
        await database.auth.create_user(user_id=f"{prefix}{number}", email=f"{prefix}{number}@example.com")


@pytest.mark.parametrize("pair", [True], ids=["synchronous"], indirect=True)
async def test_a_demoted_or_fenced_old_primary_gets_no_writes(pair: Pair) -> None:
    """After a failover the old primary comes back, listed first in DATABASE_URL: as a
    standby of the new primary (demoted), then as a primary that refuses writes
    (fenced). New connections pass it over, so writes keep landing on the new primary
    and none on it."""
    old, new = pair.primary, pair.standby
    settings = failover_settings(pair)  # names old first, then new
    pair.kill(old)
    pair.promote(new)
    pair.demote(old, follow=new)
    assert await pair.fetch(old, "SELECT pg_is_in_recovery()") is True
    async with Database(settings) as database:
        await _write_through(database, "demoted-", 20)
    assert await pair.fetch(new, "SELECT count(*) FROM users WHERE id LIKE 'demoted-%'") == 20

    pair.kill(old)
    (old.data / "standby.signal").unlink()
    pair.fence(old)
    assert await pair.fetch(old, "SELECT pg_is_in_recovery()") is False
    before = await pair.fetch(old, "SELECT count(*) FROM users")
    async with Database(settings) as database:
        await asyncio.gather(*(_write_through(database, f"fenced-{task}-", 10) for task in range(8)))
    assert await pair.fetch(new, "SELECT count(*) FROM users WHERE id LIKE 'fenced-%'") == 80
    assert await pair.fetch(old, "SELECT count(*) FROM users") == before, "a write reached the old primary"
