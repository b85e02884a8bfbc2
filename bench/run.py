"""`python -m bench`: CodeFlow's `Database` against raw asyncpg, SQLAlchemy's async ORM,
psycopg 3 and pgbench, on the same data in the same run.

Every cell (operation x concurrency) runs each client in turn, `--rounds` times
interleaved so that drift on a shared machine spreads over all of them; every write
cell starts from the same state (rows written by the previous client deleted,
unique keys per call). Results go to bench/results/<size>.json and are rendered,
with every result file present, into docs/benchmarks.md.
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import json
import os
import platform
import statistics
import sys
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from importlib import metadata
from pathlib import Path
from typing import Any

import asyncpg

from bench import dataset, pgbench
from bench.clients import CLIENTS, Client, auth_available
from bench.report import render_report

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "bench" / "results"
CONCURRENCIES = (1, 32)
_SPREAD = 2654435761  # Knuth's multiplicative hash: keys visit rows in a scattered order


@dataclass(frozen=True)
class Operation:
    name: str  # the store method
    key: str  # pgbench script and Client method
    writes: bool
    call: Callable[[Client, int, dataset.Size], Awaitable[None]]


def _user(key: int, size: dataset.Size) -> int:
    return 1 + (key * _SPREAD) % size.users


async def _list(client: Client, key: int, size: dataset.Size) -> None:
    await client.list_repositories(f"u{_user(key, size)}")


async def _session(client: Client, key: int, size: dataset.Size) -> None:
    await client.session_and_user(f"st{_user(key, size)}")


async def _touch(client: Client, key: int, size: dataset.Size) -> None:
    await client.touch(f"u{_user(key, size)}")


async def _update(client: Client, key: int, size: dataset.Size) -> None:
    i = _user(key, size)
    n = 1 + key % size.repository_count(i)
    await client.update_repository(
        f"u{i}", dataset.repository_id(dataset.repository_key(size, i, n)), key % 2 == 0
    )


async def _add(client: Client, key: int, size: dataset.Size) -> None:
    i = _user(key, size)
    await client.add_repository(f"u{i}", dataset.WRITTEN_KEY_BASE + key, f"user{i}", f"b{key}")


async def _create(client: Client, key: int, _size: dataset.Size) -> None:
    await client.create_profile(f"s{key}", dataset.WRITTEN_KEY_BASE + key, f"s{key}")


OPERATIONS = (
    Operation("get_user_repositories", "list_repositories", False, _list),
    Operation("get_session_and_user", "session_and_user", False, _session),
    Operation("update_user_last_active", "touch", True, _touch),
    Operation("update_repository", "update_repository", True, _update),
    Operation("add_repository", "add_repository", True, _add),
    Operation("create_user_profile", "create_profile", True, _create),
)


@dataclass
class Samples:
    latencies: list[float]
    seconds: float
    errors: int = 0
    first_error: str = ""

    def merge(self, other: Samples) -> None:
        self.latencies += other.latencies
        self.seconds += other.seconds
        self.errors += other.errors
        self.first_error = self.first_error or other.first_error

    def summary(self) -> dict[str, Any]:
        ordered = sorted(self.latencies)
        return {
            "ops_per_s": len(ordered) / self.seconds if self.seconds else 0.0,
            "p50_ms": 1000 * ordered[len(ordered) // 2] if ordered else None,
            "p99_ms": 1000 * ordered[min(len(ordered) - 1, int(len(ordered) * 0.99))] if ordered else None,
            "ops": len(ordered),
            "errors": self.errors,
            "first_error": self.first_error,
        }


async def _drive(
    client: Client, operation: Operation, size: dataset.Size, *, tasks: int, seconds: float
) -> Samples:
    """`tasks` tasks calling the operation back to back for `seconds` (after a warm-up)."""
    keys = itertools.count(1)
    samples = Samples([], 0.0)

    async def worker(deadline: float, record: bool) -> None:
        while time.perf_counter() < deadline:
            key = next(keys)
            started = time.perf_counter()
            try:
                await operation.call(client, key, size)
            except Exception as exc:  # noqa: BLE001 - counted and reported, not hidden
                samples.errors += 1
                samples.first_error = samples.first_error or f"{type(exc).__name__}: {exc}"[:200]
                continue
            if record:
                samples.latencies.append(time.perf_counter() - started)

    warm_until = time.perf_counter() + min(0.3, seconds / 3)
    await asyncio.gather(*(worker(warm_until, False) for _ in range(tasks)))
    started = time.perf_counter()
    await asyncio.gather(*(worker(started + seconds, True) for _ in range(tasks)))
    samples.seconds = time.perf_counter() - started
    return samples


async def _pgbench_cell(url: str, script: pgbench.Script, tasks: int, seconds: float) -> Samples:
    outcome = await asyncio.to_thread(pgbench.run, url, script, clients=tasks, seconds=seconds)
    ops = len(outcome.latencies_s)
    return Samples(
        outcome.latencies_s, ops / outcome.tps if outcome.tps else 0.0, outcome.failed, outcome.first_error
    )


async def run_benchmark(
    url: str, size: dataset.Size, *, seconds: float, rounds: int, use_pgbench: bool
) -> dict[str, Any]:
    control = await asyncpg.connect(url)
    repos = int(
        await control.fetchval(
            "SELECT count(*) FROM repositories WHERE github_id < $1", dataset.WRITTEN_KEY_BASE
        )
    )
    operations = [op for op in OPERATIONS if op.name != "get_session_and_user" or auth_available()]
    scripts = pgbench.scripts(size)
    clients = [cls(url) for cls in CLIENTS]
    names = [client.name for client in clients] + (["pgbench"] if use_pgbench else [])
    cells: dict[str, dict[str, dict[str, Any]]] = {}
    try:
        for operation in operations:
            for tasks in CONCURRENCIES:
                merged = {name: Samples([], 0.0) for name in names}
                for _ in range(rounds):
                    for client in clients:
                        await client.open()
                        try:
                            merged[client.name].merge(
                                await _drive(client, operation, size, tasks=tasks, seconds=seconds)
                            )
                        finally:
                            await client.close()
                        if operation.writes:
                            await dataset.reset_writes(control)
                    if use_pgbench:
                        merged["pgbench"].merge(
                            await _pgbench_cell(url, scripts[operation.key], tasks, seconds)
                        )
                        if operation.writes:
                            await dataset.reset_writes(control)
                cell = {name: merged[name].summary() for name in names}
                cells[f"{operation.name}@{tasks}"] = cell
                _say(operation.name, tasks, cell)
        cells["cleanup_inactive_users@1"] = await _cleanup(
            url, control, size, clients=clients, scripts=scripts, rounds=rounds, use_pgbench=use_pgbench
        )
        _say("cleanup_inactive_users", 1, cells["cleanup_inactive_users@1"])
    finally:
        await control.close()
    return {
        "size": size.name,
        "users": size.users,
        "repositories": repos,
        "seconds_per_cell": seconds,
        "rounds": rounds,
        "clients": names,
        "auth_included": auth_available(),
        "cells": cells,
        "machine": await _machine(url),
    }


async def _cleanup(
    url: str,
    control: asyncpg.Connection,
    size: dataset.Size,
    *,
    clients: list[Client],
    scripts: dict[str, pgbench.Script],
    rounds: int,
    use_pgbench: bool,
) -> dict[str, Any]:
    """One cleanup_inactive_users call per client and round, each deleting the same
    freshly planted profiles (and their repositories)."""
    results: dict[str, Samples] = {}
    for _ in range(rounds):
        for client in clients:
            planted = await dataset.plant_inactive(control, size)
            await client.open()
            try:
                started = time.perf_counter()
                deleted = await client.cleanup()
                elapsed = time.perf_counter() - started
            finally:
                await client.close()
            samples = Samples(
                [elapsed],
                elapsed,
                int(deleted != planted),
                "" if deleted == planted else f"deleted {deleted} of {planted}",
            )
            results.setdefault(client.name, Samples([], 0.0)).merge(samples)
        if use_pgbench:
            planted = await dataset.plant_inactive(control, size)
            batches = planted // 500 + 1
            outcome = await asyncio.to_thread(
                pgbench.run, url, scripts["cleanup"], clients=1, transactions=batches
            )
            elapsed = sum(outcome.latencies_s)
            left = await control.fetchval("SELECT count(*) FROM user_profiles WHERE user_id LIKE 'i%'")
            samples = Samples([elapsed], elapsed, int(left != 0), "" if left == 0 else f"{left} left")
            results.setdefault("pgbench", Samples([], 0.0)).merge(samples)
    summary = {}
    for name, samples in results.items():
        cell = samples.summary()
        # For the batch, ops/s is profiles deleted per second.
        cell["ops_per_s"] = size.planted_profiles * len(samples.latencies) / samples.seconds
        cell["p50_ms"] = 1000 * statistics.median(samples.latencies)
        summary[name] = cell
    return summary


def _say(operation: str, tasks: int, cell: dict[str, Any]) -> None:
    base = cell["asyncpg"]["ops_per_s"] or 1.0
    parts = [
        f"{name} {data['ops_per_s']:8.0f}/s ({data['ops_per_s'] / base:4.2f}x)" for name, data in cell.items()
    ]
    print(f"{operation:26} @{tasks:<2} " + "  ".join(parts), flush=True)


async def _machine(url: str) -> dict[str, Any]:
    connection = await asyncpg.connect(url)
    try:
        server = await connection.fetchval("SELECT version()")
    finally:
        await connection.close()
    versions = {}
    for package in ("asyncpg", "aiosql", "pydantic", "sqlalchemy", "psycopg", "psycopg-pool", "greenlet"):
        try:
            versions[package] = metadata.version(package)
        except metadata.PackageNotFoundError:
            versions[package] = "not installed"
    pgbench_binary = pgbench.binary()
    if pgbench_binary:
        versions["pgbench"] = await asyncio.to_thread(pgbench.version, pgbench_binary)
    cpu = (
        next(
            (
                line.split(":", 1)[1].strip()
                for line in Path("/proc/cpuinfo").read_text().splitlines()
                if line.startswith("model name")
            ),
            platform.processor(),
        )
        if Path("/proc/cpuinfo").exists()
        else platform.processor()
    )
    return {
        "date": datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"),
        "cpu": cpu,
        "cores": os.cpu_count(),
        "os": platform.platform(),
        "python": sys.version.split()[0],
        "server": server,
        "versions": versions,
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m bench", description=__doc__.splitlines()[0] if __doc__ else None
    )
    parser.add_argument("--size", choices=sorted(dataset.SIZES), default="small")
    parser.add_argument(
        "--url",
        default=os.environ.get("BENCH_DATABASE_URL"),
        help="default: BENCH_DATABASE_URL, else codeflow_bench on the dev database's server",
    )
    parser.add_argument("--seconds", type=float, default=None, help="measured seconds per client and cell")
    parser.add_argument("--rounds", type=int, default=2, help="interleaved repetitions of every cell")
    parser.add_argument("--seed-only", action="store_true", help="(re)load the dataset and stop")
    parser.add_argument("--reseed", action="store_true", help="reload the dataset even if it is there")
    parser.add_argument("--no-pgbench", action="store_true")
    parser.add_argument("--no-report", action="store_true", help="do not rewrite docs/benchmarks.md")
    args = parser.parse_args(argv)
    size = dataset.SIZES[args.size]
    seconds = args.seconds or (1.0 if size.name == "small" else 2.0)
    return asyncio.run(_main(args, size, seconds))


async def _main(args: argparse.Namespace, size: dataset.Size, seconds: float) -> int:
    args.url = args.url or dataset.default_url()
    await dataset.prepare_database(args.url)
    connection = await asyncpg.connect(args.url)
    try:
        present = await dataset.seeded(connection, size)
    finally:
        await connection.close()
    seed_report = None
    if args.reseed or args.seed_only or not present:
        seed_report = await dataset.seed(args.url, size)
        print(
            f"seeded {seed_report.rows:,} rows in {seed_report.seconds:.2f} s:"
            f" {seed_report.rows_per_s:,.0f} rows/s",
            flush=True,
        )
        RESULTS.mkdir(parents=True, exist_ok=True)
        seed_file = RESULTS / f"seed-{size.name}.json"
        seed_file.write_text(
            json.dumps(
                {
                    "rows": seed_report.rows,
                    "seconds": seed_report.seconds,
                    "rows_per_s": seed_report.rows_per_s,
                },
                indent=1,
            )
            + "\n"
        )
    if args.seed_only:
        return 0
    use_pgbench = not args.no_pgbench and pgbench.binary() is not None
    results = await run_benchmark(
        args.url, size, seconds=seconds, rounds=args.rounds, use_pgbench=use_pgbench
    )
    RESULTS.mkdir(parents=True, exist_ok=True)
    (RESULTS / f"{size.name}.json").write_text(json.dumps(results, indent=1) + "\n")
    if not args.no_report:
        path = ROOT / "docs" / "benchmarks.md"
        path.write_text(render_report(RESULTS))
        print(f"wrote {path.relative_to(ROOT)}")
    return 0
