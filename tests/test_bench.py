"""`make bench` runs outside the test suite, so nothing else would notice a query
change that breaks one of its clients. This runs every operation once or twice through
every client (and pgbench) on a tiny dataset; it measures nothing."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from urllib.parse import urlsplit, urlunsplit

import asyncpg
import pytest

from bench import dataset, pgbench
from bench.run import run_benchmark
from codeflow.tools import migrate

TINY = dataset.Size("tiny", users=50, repositories_per_user=(1, 3), spare_users=5_000, planted_profiles=20)


@pytest.fixture
async def bench_url(codeflow_database_url: str) -> AsyncIterator[str]:
    parts = urlsplit(codeflow_database_url)
    url = urlunsplit(parts._replace(path=f"{parts.path}_bench"))
    await dataset.seed(url, TINY, progress=False)
    try:
        yield url
    finally:
        await migrate.drop_database(url)


async def test_every_client_runs_every_operation(bench_url: str) -> None:
    results = await run_benchmark(bench_url, TINY, seconds=0.02, rounds=1, use_pgbench=False)
    assert results["auth_included"]
    failed = {
        f"{cell} {client}": summary["first_error"] or "no call completed"
        for cell, by_client in results["cells"].items()
        for client, summary in by_client.items()
        if summary["errors"] or not summary["ops"]
    }
    assert failed == {}
    assert len(results["cells"]) == 13  # 6 operations at 2 concurrencies, and the cleanup


@pytest.mark.skipif(pgbench.binary() is None, reason="no pgbench binary here")
async def test_every_pgbench_script_runs(bench_url: str) -> None:
    connection = await asyncpg.connect(bench_url)
    try:
        await dataset.plant_inactive(connection, TINY)
    finally:
        await connection.close()
    for name, script in pgbench.scripts(TINY).items():
        outcome = await asyncio.to_thread(pgbench.run, bench_url, script, clients=1, transactions=3)
        assert (outcome.failed, outcome.first_error, len(outcome.latencies_s)) == (0, "", 3), name
