"""A primary and a hot standby made with `pg_basebackup -R` (streaming replication over a
replication slot), owned by one test: what RDS Multi-AZ and read replicas run underneath.

Both servers listen on free loopback ports, run as an unprivileged user when the tests run
as root (servers.py), keep their files in a temporary folder, and stop (immediately) when
the block ends, whatever happened inside it. `synchronous=True` makes the standby
synchronous (`synchronous_standby_names`, `synchronous_commit=on`): a commit returns only
once the standby has flushed its WAL.
"""

from __future__ import annotations

import asyncio
import shutil
import subprocess
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import asyncpg
import pytest

from codeflow.tools import migrate

from .servers import _run_as, _wait_for_port, _workdir, free_port, postgres_bin_dir

SLOT = "codeflow_standby"
DATABASE = "codeflow_replicated"


@dataclass
class Node:
    """One server of the pair; `role` changes when it is promoted or demoted."""

    name: str
    port: int
    data: Path
    log: Path
    role: str  # "primary" or "standby"
    running: bool = False

    def url(self, database: str = DATABASE) -> str:
        return f"postgresql://postgres@127.0.0.1:{self.port}/{database}?sslmode=disable"


@dataclass
class Pair:
    """The two servers, and how to stop, kill, promote and demote them."""

    folder: Path
    bin_dir: Path
    primary: Node
    standby: Node
    synchronous: bool
    nodes: list[Node] = field(default_factory=list)

    def url(self, *nodes: Node, attrs: str | None = "read-write", database: str = DATABASE) -> str:
        """A libpq multi-host URL naming `nodes` in order (default: primary, then standby)."""
        hosts = ",".join(f"127.0.0.1:{node.port}" for node in nodes or (self.primary, self.standby))
        query = "sslmode=disable" + (f"&target_session_attrs={attrs}" if attrs else "")
        return f"postgresql://postgres@{hosts}/{database}?{query}"

    def pg_ctl(self, node: Node, *args: str, check: bool = True) -> None:
        subprocess.run(
            [str(self.bin_dir / "pg_ctl"), "-D", str(node.data), "-l", str(node.log), *args],
            check=check,
            capture_output=True,
            user=_run_as(),
            timeout=60,
        )

    def start(self, node: Node) -> None:
        self.pg_ctl(node, "-w", "-t", "30", "start")
        node.running = True
        _wait_for_port(node.port, process=None, log=node.log, timeout_s=30)

    def kill(self, node: Node) -> None:
        """Stop at once, as a crash would: no shutdown checkpoint, clients cut off."""
        self.pg_ctl(node, "-m", "immediate", "-w", "stop", check=False)
        node.running = False

    def promote(self, node: Node) -> None:
        self.pg_ctl(node, "-w", "-t", "30", "promote")
        node.role = "primary"
        self.primary, self.standby = node, next(other for other in self.nodes if other is not node)

    def demote(self, node: Node, *, follow: Node) -> None:
        """Start a stopped old primary again as a standby of `follow` (what a failover
        manager does to the node that lost), hot standby: it accepts read connections."""
        (node.data / "standby.signal").touch()
        user = _run_as()
        if user is not None:
            shutil.chown(node.data / "standby.signal", user=user)
        with (node.data / "postgresql.auto.conf").open("a") as conf:
            conf.write(f"\nprimary_conninfo = 'host=127.0.0.1 port={follow.port} user=postgres'\n")
        node.role = "standby"
        self.start(node)

    def fence(self, node: Node) -> None:
        """Start a stopped old primary again as a primary that refuses writes
        (`default_transaction_read_only`), as a fenced node is left."""
        with (node.data / "postgresql.conf").open("a") as conf:
            conf.write("\ndefault_transaction_read_only = on\n")
        self.start(node)

    async def fetch(self, node: Node, statement: str, database: str = DATABASE) -> object:
        """One statement's first value, as superuser on `node`."""
        connection = await asyncpg.connect(node.url(database))
        try:
            return await connection.fetchval(statement)
        finally:
            await connection.close()

    def sql(self, node: Node, statement: str, database: str = DATABASE) -> object:
        """`fetch` from synchronous code."""
        return asyncio.run(self.fetch(node, statement, database))

    async def caught_up(self, timeout_s: float = 30.0) -> None:
        """Until the standby has replayed everything the primary has written."""
        target = await self.fetch(self.primary, "SELECT pg_current_wal_lsn()::text", "postgres")
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            behind = await self.fetch(
                self.standby, f"SELECT pg_wal_lsn_diff('{target}', pg_last_wal_replay_lsn())", "postgres"
            )
            if behind is not None and float(str(behind)) <= 0:
                return
            await asyncio.sleep(0.05)
        pytest.fail(f"the standby did not replay up to {target} within {timeout_s:g} s")


def _config(port: int, folder: Path, name: str) -> str:
    return (
        f"\nport = {port}\nlisten_addresses = '127.0.0.1'\nunix_socket_directories = '{folder}'\n"
        f"cluster_name = '{name}'\n"  # the walreceiver's application_name: synchronous_standby_names
        "fsync = off\nmax_connections = 120\nshared_buffers = 16MB\ntimezone = 'UTC'\n"
        "max_wal_senders = 4\nwal_receiver_status_interval = 1s\nwal_sender_timeout = 10s\n"
        "synchronous_commit = on\nsynchronous_standby_names = ''\n"
    )


@contextmanager
def replicated_pair(*, synchronous: bool, migrated: bool = True) -> Iterator[Pair]:
    """A primary with a streaming hot standby; both stopped and deleted at the end."""
    bin_dir = postgres_bin_dir()
    folder = _workdir("codeflow-replicated-")
    user = _run_as()
    primary = Node("node_a", free_port(), folder / "a", folder / "a.log", "primary")
    standby = Node("node_b", free_port(), folder / "b", folder / "b.log", "standby")
    pair = Pair(folder, bin_dir, primary, standby, synchronous, [primary, standby])
    try:
        subprocess.run(
            [str(bin_dir / "initdb"), "-D", str(primary.data), "-U", "postgres", "--auth=trust", "--no-sync"],
            check=True,
            capture_output=True,
            user=user,
        )
        with (primary.data / "postgresql.conf").open("a") as conf:
            conf.write(_config(primary.port, folder, primary.name))
        pair.start(primary)
        subprocess.run(
            [
                str(bin_dir / "pg_basebackup"),
                *("-h", "127.0.0.1", "-p", str(primary.port), "-U", "postgres"),
                *("-D", str(standby.data), "-R", "-C", "-S", SLOT, "-X", "stream", "--checkpoint=fast"),
            ],
            check=True,
            capture_output=True,
            user=user,
            timeout=120,
        )
        with (standby.data / "postgresql.conf").open("a") as conf:
            conf.write(_config(standby.port, folder, standby.name))
        pair.start(standby)
        if synchronous:
            with (primary.data / "postgresql.conf").open("a") as conf:
                conf.write(f"\nsynchronous_standby_names = '{standby.name}'\n")
            pair.pg_ctl(primary, "reload")
        _wait_for_streaming(pair)
        if migrated:
            asyncio.run(_create_and_migrate(primary.url()))
            asyncio.run(pair.caught_up())
        yield pair
    finally:
        for node in pair.nodes:
            pair.kill(node)
        shutil.rmtree(folder, ignore_errors=True)


def _wait_for_streaming(pair: Pair, timeout_s: float = 30.0) -> None:
    wanted = "sync" if pair.synchronous else "async"
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        state = pair.sql(
            pair.primary,
            f"SELECT sync_state FROM pg_stat_replication WHERE application_name = '{pair.standby.name}' "
            "AND state = 'streaming'",
            "postgres",
        )
        if state == wanted:
            return
        time.sleep(0.1)
    log = pair.standby.log.read_text()
    pytest.fail(f"the standby is not streaming ({wanted}) after {timeout_s:g} s:\n{log}")


async def _create_and_migrate(url: str) -> None:
    await migrate.ensure_database(url)
    await migrate.migrate(url)
