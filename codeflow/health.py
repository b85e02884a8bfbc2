"""`HealthStore` (`Database.health`): what a service's health endpoint reports about the
database, pool usage included."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from typing import TypedDict

import asyncpg
from pydantic import BaseModel, ConfigDict, Field

from codeflow import generated_queries as sql
from codeflow.errors import CodeflowError, QueryFailed
from codeflow.paths import MIGRATIONS_DIR
from codeflow.store import Runner, Store, release


class HealthReport(BaseModel):
    """What the app's health endpoint reports about the database."""

    model_config = ConfigDict(frozen=True)

    ok: bool
    server_version: str | None = None
    in_recovery: bool | None = None
    latency_ms: float | None = None
    pool_size: int = Field(default=0, description="Connections the pool holds open now.")
    pool_idle: int = Field(default=0, description="Of those, how many are free.")
    pool_in_use: int = Field(default=0, description="Of those, how many calls hold now.")
    pool_max: int = Field(default=0, description="DB_POOL_MAX_SIZE.")
    applied_migrations: int = 0
    pending_migrations: list[str] = Field(default_factory=list)
    error: str | None = None
    replica_in_recovery: bool | None = Field(
        default=None, description="DATABASE_READ_URL is a standby (None: no replica configured)."
    )
    replica_lag_bytes: int | None = Field(
        default=None, description="WAL the replica has still to replay to reach the primary's position."
    )
    replica_lag_s: float | None = Field(
        default=None,
        description=(
            "0 when the replica has replayed everything; else the seconds since the commit of the "
            "last transaction it replayed (an upper bound of how stale its reads are)."
        ),
    )
    replica_error: str | None = Field(default=None, description="Why the replica could not be measured.")


class ServerStatus(TypedDict):
    """The row of `get_server_status`."""

    server_version: str
    in_recovery: bool


class AppliedMigration(TypedDict):
    """A row of `list_applied_migrations`."""

    version: str


class ReplicaLag(TypedDict):
    """The row of `get_replica_lag`."""

    in_recovery: bool
    bytes_behind: int
    seconds_behind: float


def migration_versions() -> list[str]:
    """Versions of the migration files shipped with this package, oldest first."""
    return sorted(path.name.split("_", 1)[0] for path in MIGRATIONS_DIR.glob("*.sql"))


class HealthStore(Store):
    """Liveness and a health report (`Database.health`); with `replica` (the read pool's
    opener, when DATABASE_READ_URL is set) the report adds the replica's lag."""

    def __init__(
        self, runner: Runner, *, replica: Callable[[], Awaitable[asyncpg.Pool]] | None = None
    ) -> None:
        super().__init__(runner)
        self._replica = replica

    async def check(self, *, timeout: float = 5.0) -> bool:
        """True if the database answers within `timeout` seconds; never raises."""
        return (await self.report(timeout=timeout)).ok

    async def report(self, *, timeout: float = 5.0) -> HealthReport:
        """Server version, round-trip latency, pool usage, pending migrations and, with a
        replica, how far behind the primary it is (bytes and seconds).

        Never raises: a failure is reported as `ok=False` with the reason (the error's
        message, which never holds a parameter value).
        """
        try:
            pool = await self._runner.ensure_pool()
        except CodeflowError as exc:
            return HealthReport(ok=False, error=str(exc))
        size, idle = pool.get_size(), pool.get_idle_size()
        figures = {
            "pool_size": size,
            "pool_idle": idle,
            "pool_in_use": size - idle,
            "pool_max": pool.get_max_size(),
        }
        deadline = time.monotonic() + timeout
        try:
            async with asyncio.timeout(timeout):
                connection = await self._runner.acquire(pool, "health")
                try:
                    # The connection the wait was for, so the latency is the statement's alone.
                    runner = self._runner.on(connection)
                    start = time.perf_counter()
                    status = await sql.get_server_status(runner)
                    latency_ms = (time.perf_counter() - start) * 1000.0
                    try:
                        applied = {row["version"] for row in await sql.list_applied_migrations(runner)}
                    except QueryFailed as exc:
                        if exc.sqlstate != "42P01":  # undefined_table: not migrated yet
                            raise
                        applied = set()
                    position = None
                    if self._replica is not None and status is not None and not status["in_recovery"]:
                        position = await sql.get_wal_position(runner)
                finally:
                    await release(pool, connection)
        except CodeflowError as exc:
            return HealthReport(ok=False, error=str(exc), **figures)
        except TimeoutError:
            return HealthReport(ok=False, error=f"health: no answer within {timeout:g} s", **figures)
        # After the primary's block and on the time it left: a slow replica must not make
        # a healthy primary report unhealthy.
        replica = {} if position is None else await self._replica_lag(position, deadline - time.monotonic())
        pending = [version for version in migration_versions() if version not in applied]
        if status is None:
            return HealthReport(ok=False, error="health: get_server_status returned no row", **figures)
        return HealthReport(
            ok=True,
            server_version=status["server_version"],
            in_recovery=status["in_recovery"],
            latency_ms=round(latency_ms, 3),
            applied_migrations=len(applied),
            pending_migrations=pending,
            **figures,
            **replica,
        )

    async def _replica_lag(self, primary_position: str, budget_s: float) -> dict[str, object]:
        """The replica's lag behind `primary_position`, measured within `budget_s`; a
        failure is reported, not raised (the primary's health does not depend on the
        replica's)."""
        assert self._replica is not None
        try:
            async with asyncio.timeout(max(budget_s, 0.0)):
                pool = await self._replica()
                connection = await self._runner.acquire(pool, "health: replica")
                try:
                    lag = await sql.get_replica_lag(
                        self._runner.on(connection), primary_position=primary_position
                    )
                finally:
                    await release(pool, connection)
        except CodeflowError as exc:
            return {"replica_error": str(exc)}
        except TimeoutError:
            return {"replica_error": f"health: the replica gave no answer within {budget_s:.3g} s"}
        if lag is None:
            return {"replica_error": "health: get_replica_lag returned no row"}
        return {
            "replica_in_recovery": lag["in_recovery"],
            "replica_lag_bytes": lag["bytes_behind"],
            "replica_lag_s": round(lag["seconds_behind"], 3),
        }
