"""One point read four ways, in one process: `python -m bench.pointread [URL]`.

The issue-2 measurement: `Database.profiles.get_user_profile` (a pydantic model out)
against the same SQL through `fetchrow` on a default asyncpg pool, on codeflow's pool
(no reset query), and through aiosql's generated method. One task, pool of one,
best of three runs of 20,000 calls. Needs a migrated, seeded database (`make dev`).
"""

from __future__ import annotations

import asyncio
import sys
import time
from collections.abc import Awaitable, Callable

import aiosql
import asyncpg

from codeflow import Database, load_settings
from codeflow.paths import QUERIES_DIR
from codeflow.pool import create_pool
from codeflow.store import all_queries
from codeflow.tools.localdb import select

CALLS = 20_000
USER_ID = "seed-user-octocat"  # db/seed.sql


async def microseconds_per_call(call: Callable[[], Awaitable[object]]) -> float:
    for _ in range(500):
        await call()
    best = float("inf")
    for _ in range(3):
        started = time.perf_counter()
        for _ in range(CALLS):
            await call()
        best = min(best, (time.perf_counter() - started) / CALLS * 1e6)
    return best


async def main(url: str) -> None:
    settings = load_settings(database_url=url, db_pool_min_size=1, db_pool_max_size=1)
    database = await Database(settings).open()
    codeflow_pool = await create_pool(settings)
    default_pool = await asyncpg.create_pool(url, min_size=1, max_size=1)
    sql = all_queries()["get_user_profile"].sql
    generated = aiosql.from_path(QUERIES_DIR, "asyncpg")
    paths: dict[str, Callable[[], Awaitable[object]]] = {
        "Database.profiles.get_user_profile (model out)": lambda: database.profiles.get_user_profile(USER_ID),
        "fetchrow, default asyncpg pool": lambda: default_pool.fetchrow(sql, USER_ID),
        "fetchrow, codeflow pool (no reset query)": lambda: codeflow_pool.fetchrow(sql, USER_ID),
        "aiosql generated method, default pool": lambda: generated.get_user_profile(
            default_pool, user_id=USER_ID
        ),
    }
    try:
        timings = {name: await microseconds_per_call(call) for name, call in paths.items()}
    finally:
        await database.close()
        await codeflow_pool.close()
        await default_pool.close()
    baseline = timings["fetchrow, default asyncpg pool"]
    for name, micros in timings.items():
        print(f"{name:48} {micros:7.1f} µs/call  {baseline / micros:4.2f}x the default pool")


if __name__ == "__main__":
    asyncio.run(main(sys.argv[1] if len(sys.argv) > 1 else select("dev").url))
