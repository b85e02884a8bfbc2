"""`make failover-figures` (python -m tests.production.failover_figures): the replication
figures of docs/production.md, on servers this command starts and stops.

- Failover: `--runs` failovers per mode (synchronous, asynchronous standby), each on a
  fresh pair: time from the kill to the first acknowledged write, errors callers saw,
  acknowledged writes the new primary lacks.
- Replica lag under the benchmark's write load (bench/: update_repository and
  add_repository, 32 tasks, small dataset), sampled from `db.health.report()`.
- Read throughput of the benchmark's get_user_repositories (32 tasks): the primary
  alone, the standby alone (`db.read`), and half the tasks on each.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import os
import platform
import statistics
import time
from collections.abc import Awaitable, Callable
from typing import Any

from bench import dataset
from bench.clients import CodeflowClient
from bench.run import OPERATIONS, Operation, Samples, _drive
from codeflow import Database, load_settings

from .failover import WRITERS, run_failover
from .replication import Pair, replicated_pair

BENCH_DATABASE = "codeflow_bench"
SIZE = dataset.SIZES["small"]
READ_ROUNDS = 3


def _operation(name: str) -> Operation:
    return next(operation for operation in OPERATIONS if operation.name == name)


class _ReadClient(CodeflowClient):
    """The benchmark's CodeFlow client, its reads on `db.read` (DATABASE_READ_URL)."""

    def __init__(self, url: str, read_url: str) -> None:
        super().__init__(url)
        self.read_url = read_url

    async def open(self) -> None:
        settings = load_settings(
            database_url=self.url, database_read_url=self.read_url, db_pool_min_size=10, db_pool_max_size=10
        )
        self.database = await Database(settings).open()

    async def list_repositories(self, user_id: str) -> None:
        await self.database.read.repositories.get_user_repositories(user_id)


# (mode, seconds the replication link stalls before the crash)
CASES = (("synchronous", 0.0), ("asynchronous", 0.0), ("synchronous", 0.5), ("asynchronous", 0.5))


def _failovers(runs: int) -> dict[str, list[dict[str, Any]]]:
    results: dict[str, list[dict[str, Any]]] = {}
    for run in range(runs):
        for mode, stall_s in CASES:
            with replicated_pair(synchronous=mode == "synchronous") as pair:
                outcome = asyncio.run(run_failover(pair, stall_s=stall_s))
            figures = {
                "first_write_s": outcome.first_write_after_kill_s,
                "promoted_s": outcome.promoted_after_s,
                "acknowledged": len(outcome.acknowledged),
                "lost": len(outcome.lost),
                "errors": dict(outcome.errors),
                "hangs": outcome.hangs,
                "connections_after": outcome.connections_after,
            }
            case = f"{mode}, link stalled {stall_s:g} s" if stall_s else mode
            results.setdefault(case, []).append(figures)
            print(f"failover {case} run {run + 1}: {figures}", flush=True)
    return results


async def _lag_and_reads(pair: Pair, seconds: float) -> dict[str, Any]:
    url, read_url = pair.primary.url(BENCH_DATABASE), pair.standby.url(BENCH_DATABASE)
    await dataset.seed(url, SIZE, progress=False)
    await pair.caught_up()
    figures: dict[str, Any] = {}

    async with Database(load_settings(database_url=url, database_read_url=read_url)) as observer:
        writer = CodeflowClient(url)
        await writer.open()
        samples: list[tuple[int, float]] = []
        stop = asyncio.Event()

        async def sample() -> None:
            while not stop.is_set():
                report = await observer.health.report()
                if report.replica_lag_bytes is not None and report.replica_lag_s is not None:
                    samples.append((report.replica_lag_bytes, report.replica_lag_s))
                await asyncio.sleep(0.1)

        sampler = asyncio.create_task(sample())
        try:
            writes: dict[str, Samples] = {}
            for name in ("update_repository", "add_repository"):
                writes[name] = await _drive(
                    writer, _operation(name), SIZE, tasks=WRITERS, seconds=seconds / 2
                )
        finally:
            stop.set()
            await sampler
            await writer.close()
    figures["write_ops_per_s"] = {name: round(s.summary()["ops_per_s"]) for name, s in writes.items()}
    figures["lag"] = _lag_summary(samples)
    await pair.caught_up()

    read = _operation("get_user_repositories")
    configurations: dict[str, tuple[Callable[[], CodeflowClient], bool]] = {
        "primary alone": (lambda: CodeflowClient(url), False),
        "standby (db.read)": (lambda: _ReadClient(url, read_url), False),
        "half on each": (lambda: _ReadClient(url, read_url), True),
    }
    rounds: dict[str, list[int]] = {name: [] for name in configurations}
    for _ in range(READ_ROUNDS):  # interleaved, so that drift on a shared machine hits each alike
        for name, (make, split) in configurations.items():
            rounds[name].append(await _throughput(make, read, seconds / READ_ROUNDS, split=split))
    figures["reads_per_s"] = {name: (round(statistics.median(per)), per) for name, per in rounds.items()}
    return figures


def _lag_summary(samples: list[tuple[int, float]]) -> dict[str, Any]:
    if not samples:
        return {"samples": 0}
    size = sorted(bytes_ for bytes_, _ in samples)
    age = sorted(seconds for _, seconds in samples)

    def p95(values: list[Any]) -> Any:
        return values[min(len(values) - 1, int(len(values) * 0.95))]

    return {
        "samples": len(samples),
        "bytes_median": statistics.median(size),
        "bytes_p95": p95(size),
        "bytes_max": size[-1],
        "seconds_median": round(statistics.median(age), 3),
        "seconds_p95": round(p95(age), 3),
        "seconds_max": round(age[-1], 3),
    }


async def _throughput(
    make: Callable[[], CodeflowClient], read: Operation, seconds: float, *, split: bool
) -> int:
    client = make()
    await client.open()
    try:
        if not split:
            alone = await _drive(client, read, SIZE, tasks=WRITERS, seconds=seconds)
            return round(float(alone.summary()["ops_per_s"]))
        primary = CodeflowClient(client.url)
        await primary.open()
        try:
            halves: list[Awaitable[Samples]] = [
                _drive(client, read, SIZE, tasks=WRITERS // 2, seconds=seconds),
                _drive(primary, read, SIZE, tasks=WRITERS // 2, seconds=seconds),
            ]
            both = await asyncio.gather(*halves)
        finally:
            await primary.close()
        return round(sum(float(s.summary()["ops_per_s"]) for s in both))
    finally:
        await client.close()


def _summary(results: dict[str, list[dict[str, Any]]]) -> None:
    print(
        "\n| case | runs | standby promoted (median / worst) | first write after the kill (median / worst) "
        "| acknowledged | lost | caller errors |"
    )
    print("|---|---|---|---|---|---|---|")
    for mode, runs in results.items():
        times = [run["first_write_s"] for run in runs if run["first_write_s"] is not None]
        promoted = [run["promoted_s"] for run in runs]
        errors: dict[str, int] = {}
        for run in runs:
            for name, count in run["errors"].items():
                errors[name] = errors.get(name, 0) + count
        print(
            f"| {mode} | {len(runs)} | {statistics.median(promoted):.2f} s / {max(promoted):.2f} s "
            f"| {statistics.median(times):.2f} s / {max(times):.2f} s | "
            f"{sum(run['acknowledged'] for run in runs)} | {sum(run['lost'] for run in runs)} "
            f"(per run: {', '.join(str(run['lost']) for run in runs)}) | {errors} |"
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5, help="failovers per mode")
    parser.add_argument("--seconds", type=float, default=10.0, help="length of the lag and read measurements")
    args = parser.parse_args()
    logging.getLogger("codeflow").setLevel(logging.ERROR)  # the failed writes are counted, not logged
    print(f"machine: {platform.platform()}, {os.cpu_count()} cores; both servers on it", flush=True)
    started = time.monotonic()
    results = _failovers(args.runs)
    with replicated_pair(synchronous=False, migrated=False) as pair:
        figures = asyncio.run(_lag_and_reads(pair, args.seconds))
    print(f"\nasynchronous standby under the benchmark's write load: {figures}")
    _summary(results)
    print(f"\n(took {time.monotonic() - started:.0f} s)")


if __name__ == "__main__":
    main()
