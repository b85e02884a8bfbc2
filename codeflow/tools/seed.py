"""Development fixtures: `db/seed.sql`, run in one transaction."""

from __future__ import annotations

from pathlib import Path

import asyncpg

from codeflow.paths import SEED_FILE


async def seed_database(url: str, *, path: Path = SEED_FILE) -> dict[str, int]:
    """Load the fixtures into `url`'s database; returns rows per seeded table afterwards."""
    connection = await asyncpg.connect(url)
    try:
        async with connection.transaction():
            await connection.execute(path.read_text())
        return {
            table: await connection.fetchval(f"SELECT count(*) FROM {table}") for table in seeded_tables(path)
        }
    finally:
        await connection.close()


def seeded_tables(path: Path = SEED_FILE) -> list[str]:
    """The tables `path` inserts into, in file order."""
    tables: list[str] = []
    for line in path.read_text().splitlines():
        if line.startswith("INSERT INTO "):
            table = line.split()[2]
            if table not in tables:
                tables.append(table)
    return tables
