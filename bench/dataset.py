"""The benchmark's data: generated rows loaded with COPY, and the per-cell resets.

Keys are derived from integers so that every client, pgbench included, can name the
same rows: dataset user i is `u{i}` with session token `st{i}`, GitHub id i and login
`user{i}`; user i's repository n (1 <= n <= `Size.repository_count(i)`) has GitHub id
j = `repository_key(size, i, n)` and id md5('r' || j)::uuid (random-looking, like real
uuids), so an update, scoped by the owning user, can name both. Spare users `s{k}`
have no profile, for create_user_profile. Profiles are active within the last 20
days, so cleanup_inactive_users (30 days) deletes only the planted `i{k}` profiles.
"""

from __future__ import annotations

import asyncio
import hashlib
import random
import time
import uuid
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import asyncpg
from tqdm import tqdm

from codeflow import dburl
from codeflow.tools import localdb, migrate


def default_url() -> str:
    """codeflow_bench on the server the dev commands use (started if this project runs it)."""
    return dburl.parse(localdb.bring_up("dev").url).with_database("codeflow_bench").render()


# Keys at or above this belong to rows the benchmark writes; resets delete them.
WRITTEN_KEY_BASE = 5_000_000_000
PLANTED_REPOSITORIES = 5
_CHUNK = 10_000


@dataclass(frozen=True)
class Size:
    name: str
    users: int
    repositories_per_user: tuple[int, int]  # uniform range; the mean times users is the total
    spare_users: int
    planted_profiles: int

    @property
    def repositories(self) -> int:
        return sum(self.repository_count(i) for i in range(1, self.users + 1))

    def repository_count(self, i: int) -> int:
        """How many repositories user i has."""
        low, high = self.repositories_per_user
        return _repository_count(i, low, high)


SIZES = {
    "small": Size("small", 1_000, (5, 15), 60_000, 1_000),
    "large": Size("large", 100_000, (5, 15), 60_000, 2_000),
}


def repository_key(size: Size, i: int, n: int) -> int:
    """The GitHub id of user i's repository n: a stride of the most a user has, so
    pgbench computes it too."""
    return (i - 1) * size.repositories_per_user[1] + n


def repository_id(j: int) -> uuid.UUID:
    return uuid.UUID(_repository_hex(j))


def _repository_hex(j: int) -> str:
    # COPY sends this text as is: asyncpg parses it in C, where building a uuid.UUID
    # per row would take a third of the generator's time.
    return hashlib.md5(f"r{j}".encode()).hexdigest()  # noqa: S324 - an id, not a secret


def _repository_count(i: int, low: int, high: int) -> int:
    return low + (i * 7919) % (high - low + 1)


def database_name(url: str) -> str:
    return dburl.parse(url).database or ""


async def prepare_database(url: str, *, fresh: bool = False) -> None:
    """Create and migrate the benchmark database (dropped first if `fresh`); refuse
    the dev and test databases."""
    if database_name(url) in {"codeflow_dev", "codeflow_test"}:
        raise SystemExit(f"refusing to use {database_name(url)} for benchmarks: pick a database of its own")
    if fresh:
        await migrate.drop_database(url)
    await migrate.ensure_database(url)
    await migrate.migrate(url)
    connection = await asyncpg.connect(url)
    try:
        # pgbench's writes take their unique keys from this sequence (it has no counter of its own).
        await connection.execute("CREATE SEQUENCE IF NOT EXISTS bench_key START 1")
    finally:
        await connection.close()


async def seeded(connection: asyncpg.Connection, size: Size) -> bool:
    """Whether `size` is loaded, in the current layout (the last user's last repository
    where `repository_key` puts it)."""
    users = int(await connection.fetchval("SELECT count(*) FROM users WHERE id LIKE 'u%'"))
    last = repository_id(repository_key(size, size.users, size.repository_count(size.users)))
    owner = await connection.fetchval(
        "SELECT p.user_id FROM repositories AS r JOIN user_profiles AS p ON p.id = r.user_id WHERE r.id = $1",
        last,
    )
    return users == size.users and owner == f"u{size.users}"


@dataclass(frozen=True)
class SeedReport:
    rows: int
    seconds: float

    @property
    def rows_per_s(self) -> float:
        return self.rows / self.seconds


async def seed(url: str, size: Size, *, progress: bool = True) -> SeedReport:
    """Recreate the database and load `size` with COPY; rows per second over the whole
    load, index builds included. Two connections stream at once, one per core."""
    await prepare_database(url, fresh=True)
    first, second = await asyncpg.connect(url), await asyncpg.connect(url)
    try:
        total = size.users * 3 + size.repositories + size.spare_users
        bar = tqdm(total=total, unit="rows", unit_scale=True, desc=f"seed {size.name}", disable=not progress)
        started = time.perf_counter()
        for connection in (first, second):
            # The rows are consistent by construction: skip the per-row foreign-key
            # triggers (superuser, benchmark database only), as pg_restore does.
            await connection.execute("SET session_replication_role = replica")
            await binary_citext(connection)
        profile_ids = [uuid.uuid4() for _ in range(size.users)]
        columns = ("id", "user_id", "github_id", "name", "full_name", "owner", "is_active", "private")
        async with _without_indexes(first, "repositories"):

            async def first_half() -> None:
                await _load_users(first, bar, size, profile_ids)
                await _copy(first, bar, "repositories", columns, _repositories(size, profile_ids, part=0))

            await asyncio.gather(
                first_half(),
                _copy(second, bar, "repositories", columns, _repositories(size, profile_ids, part=1)),
            )
        elapsed = time.perf_counter() - started
        bar.close()
        await first.execute("ANALYZE")
        return SeedReport(total, elapsed)
    finally:
        await first.close()
        await second.close()


async def _load_users(
    connection: asyncpg.Connection, bar: tqdm[Any], size: Size, profile_ids: list[uuid.UUID]
) -> None:
    now = datetime.now(UTC)
    rng = random.Random(1)  # noqa: S311 - reproducible data, not secrets
    await _copy(connection, bar, "users", ("id", "email"), _users(size))
    await _copy(
        connection,
        bar,
        "user_profiles",
        ("id", "user_id", "github_id", "username", "last_active_at"),
        (
            (profile_ids[i - 1], f"u{i}", i, f"user{i}", now - timedelta(days=20 * rng.random()))
            for i in range(1, size.users + 1)
        ),
    )
    await _copy(
        connection,
        bar,
        "sessions",
        ("session_token", "user_id", "expires"),
        ((f"st{i}", f"u{i}", now + timedelta(days=30)) for i in range(1, size.users + 1)),
    )


@asynccontextmanager
async def _without_indexes(connection: asyncpg.Connection, table: str) -> AsyncIterator[None]:
    """Drop `table`'s keys for the block and add them back after it, as bulk loads do:
    one sorted index build is several times faster than a million index insertions."""
    keys = await connection.fetch(
        "SELECT conname, pg_get_constraintdef(oid) AS definition FROM pg_constraint"
        " WHERE conrelid = $1::regclass AND contype IN ('p', 'u', 'f')"
        " ORDER BY contype = 'f' DESC",
        table,
    )
    for key in keys:
        await connection.execute(f"ALTER TABLE {table} DROP CONSTRAINT {key['conname']}")
    yield
    await connection.execute("SET maintenance_work_mem = '256MB'")
    for key in reversed(keys):
        await connection.execute(f"ALTER TABLE {table} ADD CONSTRAINT {key['conname']} {key['definition']}")


def _users(size: Size) -> Iterator[tuple[object, ...]]:
    for i in range(1, size.users + 1):
        yield (f"u{i}", f"u{i}@bench.invalid")
    for k in range(1, size.spare_users + 1):
        yield (f"s{k}", None)


def _repositories(size: Size, profile_ids: list[uuid.UUID], *, part: int) -> Iterator[tuple[object, ...]]:
    """The repositories of the users in half `part` (0 or 1) of the dataset, all public."""
    for i in range(1 + part, size.users + 1, 2):
        owner = f"user{i}"
        profile = profile_ids[i - 1]
        for n in range(1, size.repository_count(i) + 1):
            j = repository_key(size, i, n)
            name = f"repo{j}"
            yield (_repository_hex(j), profile, j, name, f"{owner}/{name}", owner, j % 5 != 0, False)


async def _copy(
    connection: asyncpg.Connection,
    bar: tqdm[Any],
    table: str,
    columns: tuple[str, ...],
    rows: Iterator[tuple[object, ...]],
) -> None:
    async def chunks() -> AsyncIterator[tuple[object, ...]]:
        count = 0
        for row in rows:
            yield row
            count += 1
            if count == _CHUNK:
                bar.update(count)
                count = 0
        bar.update(count)

    await connection.copy_records_to_table(table, columns=columns, records=chunks())


async def binary_citext(connection: asyncpg.Connection) -> None:
    """citext is sent like text; binary COPY needs asyncpg to know that."""
    await connection.set_type_codec(
        "citext", schema="public", encoder=str.encode, decoder=bytes.decode, format="binary"
    )


async def plant_inactive(connection: asyncpg.Connection, size: Size) -> int:
    """Add the profiles cleanup_inactive_users will delete (90 days idle, with repositories)."""
    await connection.execute("DELETE FROM users WHERE id LIKE 'i%'")
    await binary_citext(connection)
    count = size.planted_profiles
    ids = [uuid.uuid4() for _ in range(count)]
    idle = datetime.now(UTC) - timedelta(days=90)
    await connection.copy_records_to_table(
        "users", columns=("id",), records=[(f"i{k}",) for k in range(1, count + 1)]
    )
    await connection.copy_records_to_table(
        "user_profiles",
        columns=("id", "user_id", "github_id", "username", "last_active_at"),
        records=[
            (ids[k - 1], f"i{k}", WRITTEN_KEY_BASE * 2 + k, f"idle{k}", idle) for k in range(1, count + 1)
        ],
    )
    await connection.copy_records_to_table(
        "repositories",
        columns=("user_id", "github_id", "name", "full_name", "owner"),
        records=[
            (ids[k - 1], n, f"r{n}", f"idle{k}/r{n}", f"idle{k}")
            for k in range(1, count + 1)
            for n in range(1, PLANTED_REPOSITORIES + 1)
        ],
    )
    return count


async def reset_writes(connection: asyncpg.Connection) -> None:
    """Undo what a write cell added, so every client starts from the same state."""
    await connection.execute("DELETE FROM repositories WHERE github_id >= $1", WRITTEN_KEY_BASE)
    await connection.execute("DELETE FROM user_profiles WHERE user_id LIKE 's%'")
    await connection.execute("SELECT setval('bench_key', 1, false)")
