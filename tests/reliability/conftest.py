"""Fixtures of the reliability suite: a cluster of its own (for restarts), and the
figures the tests measure, printed for docs/reliability.md (run with `-s`)."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator

import pytest

from codeflow.tools import migrate

from .cluster import ScratchCluster


@pytest.fixture(scope="module")
def scratch_cluster() -> Iterator[ScratchCluster]:
    """A running, test-owned PostgreSQL whose `codeflow` database is migrated."""
    cluster = ScratchCluster()
    try:
        cluster.start()

        async def prepare() -> None:
            await migrate.ensure_database(cluster.url("codeflow"))
            await migrate.migrate(cluster.url("codeflow"))

        asyncio.run(prepare())
        yield cluster
    finally:
        cluster.destroy()


def report(name: str, value: object) -> None:
    """A measured figure, for docs/reliability.md."""
    print(f"\nRELIABILITY {name} = {value}", flush=True)
