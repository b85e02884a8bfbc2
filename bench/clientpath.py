"""The client side of one point read, no server: `python -m bench.clientpath`.

`Database.profiles.get_user_profile` on a `Runner` whose pool hands out a connection
that answers `fetchrow` with a canned row at once, so what is timed is the package's own
per-call path (argument check, generated function, runner, `run`, model building) without
the server's time or the network's noise that dominate `bench.pointread` on a busy machine.
Best of 15 runs of 20,000 calls.
"""

from __future__ import annotations

import asyncio
import time
from datetime import UTC, datetime
from typing import Any

from bench.models import PROFILE
from codeflow import load_settings
from codeflow.profiles import ProfileStore
from codeflow.store import Runner

CALLS = 20_000
NOW = datetime.now(UTC)


class _Connection:
    async def fetchrow(self, sql: str, *args: Any) -> dict[str, Any]:
        return PROFILE


class _Pool:
    def __init__(self) -> None:
        self._connection = _Connection()

    async def acquire(self) -> _Connection:
        return self._connection

    async def release(self, connection: _Connection) -> None:
        pass


async def main() -> None:
    settings = load_settings(database_url="postgresql://bench@127.0.0.1/bench")
    store = ProfileStore(Runner(settings, pool=_Pool()))  # type: ignore[arg-type]
    best = float("inf")
    for _ in range(15):
        started = time.perf_counter()
        for _ in range(CALLS):
            await store.get_user_profile("u")
        best = min(best, (time.perf_counter() - started) / CALLS * 1e6)
    print(f"ProfileStore.get_user_profile, client side only: {best:.2f} µs/call")


if __name__ == "__main__":
    asyncio.run(main())
