"""`codeflow-db`: the developer and deploy commands behind the Makefile targets.

Each subcommand works without make: `.venv/bin/codeflow-db migrate`, and so on.
Development commands pick their database as `codeflow.localdb` describes; deploy
commands (`migrate-deploy`) use only `DATABASE_URL`.

Exit status: 0 done; 1 a check found something (pending migrations, a stale generated
file, an unhealthy database); 2 an error, reported on one line without a traceback
(a malformed or refused database URL, a database that is down, a failed migration).
"""

from __future__ import annotations

import argparse
import asyncio
import os
import shutil
import subprocess
import sys
from collections.abc import AsyncIterator, Callable, Coroutine
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import asyncpg

from codeflow import localdb, migrate
from codeflow.database import Database
from codeflow.dburl import redact as redact_url
from codeflow.errors import CodeflowError, DatabaseUnavailable
from codeflow.paths import SCHEMA_FILE
from codeflow.settings import load_settings

Command = Callable[[argparse.Namespace], Coroutine[Any, Any, int]]
Argument = tuple[tuple[str, ...], dict[str, Any]]
_COMMANDS: dict[str, tuple[Command, str, tuple[Argument, ...]]] = {}
FORCE: Argument = (("--force",), {"action": "store_true", "help": "allow a non-local database"})


def arg(*flags: str, **options: Any) -> Argument:
    """An argparse argument of a command, as `add_argument(*flags, **options)` takes it."""
    return flags, options


TEST: Argument = (("--test",), {"action": "store_true", "help": "use the test database instead of dev"})
CHECK: Argument = (("--check",), {"action": "store_true", "help": "fail if the committed file is stale"})


def command(name: str, help_text: str, *arguments: Argument) -> Callable[[Command], Command]:
    """Register an async subcommand; it returns the process exit status. Commands that
    pick a database as the dev commands do take `--test` (see `_target`)."""

    def register(function: Command) -> Command:
        _COMMANDS[name] = (function, help_text, arguments)
        return function

    return register


def say(message: str) -> None:
    print(message, flush=True)


def _target(args: argparse.Namespace, *, start: bool = True) -> localdb.Target:
    role: localdb.Role = "test" if args.test else "dev"
    return localdb.bring_up(role) if start else localdb.select(role)


@asynccontextmanager
async def _database(args: argparse.Namespace) -> AsyncIterator[tuple[localdb.Target, Database]]:
    """The selected database and a `Database` open on it, closed afterwards. Starts
    nothing: a scheduled job without DATABASE_URL must fail, not bring up a dev server."""
    target = _target(args, start=False)
    async with Database(load_settings(database_url=target.url)) as database:
        yield target, database


def _refuse_unless_local(url: str, args: argparse.Namespace, action: str) -> None:
    if not localdb.is_local(url) and not args.force:
        raise CodeflowError(
            f"refusing to {action} {redact_url(url)}: it is not a local development database "
            "(a host it names is not this machine, or its name says prod). Development fixtures and "
            "destructive commands stay local; pass --force if you really mean it."
        )


@command("db-up", "start the local database (embedded or Docker) and create it", TEST)
async def db_up(args: argparse.Namespace) -> int:
    target = _target(args)
    created = await migrate.ensure_database(target.url)
    say(f"{target.backend} database {'created' if created else 'ready'}: {redact_url(target.url)}")
    return 0


@command("db-down", "stop the local database servers this project started (data is kept)")
async def db_down(args: argparse.Namespace) -> int:
    stopped = localdb.bring_down()
    say("stopped: " + ", ".join(stopped) if stopped else "nothing of this project's was running")
    return 0


@command("migrate", "apply pending migrations and refresh db/schema.sql", TEST)
async def migrate_dev(args: argparse.Namespace) -> int:
    target = _target(args)
    await migrate.ensure_database(target.url)
    outcome = await migrate.migrate(target.url, dump_to=None if args.test else SCHEMA_FILE)
    say(outcome.output or "no pending migrations")
    if outcome.schema_written:
        say(f"schema written to {outcome.schema_written}")
    return 0


@command(
    "migrate-deploy",
    "production: wait for DATABASE_URL's server, apply migrations, no dump",
    arg("--wait", type=float, default=60.0, help="seconds to wait for the server"),
)
async def migrate_deploy(args: argparse.Namespace) -> int:
    url = load_settings().database_url.get_secret_value()
    outcome = await migrate.migrate(url, wait_s=args.wait)
    say(outcome.output or "no pending migrations")
    return 0


@command(
    "rollback",
    "roll back the newest migration (or --steps N); local databases only",
    arg("--steps", type=int, default=1),
    FORCE,
    TEST,
)
async def rollback(args: argparse.Namespace) -> int:
    target = _target(args)
    _refuse_unless_local(target.url, args, "roll back")
    outcome = await migrate.rollback(target.url, steps=args.steps, dump_to=None if args.test else SCHEMA_FILE)
    say(outcome.output)
    if outcome.schema_written:
        say(f"schema written to {outcome.schema_written}")
    return 0


@command("migrate-status", "list applied and pending migrations; exit 1 if any is pending", TEST)
async def migrate_status(args: argparse.Namespace) -> int:
    target = _target(args)
    output, pending = migrate.status(target.url)
    say(output)
    return 1 if pending else 0


@command("new-migration", "create db/migrations/<timestamp>_<name>.sql", arg("name"))
async def new_migration(args: argparse.Namespace) -> int:
    say(migrate.new_migration(args.name))
    return 0


@command(
    "schema",
    "write db/schema.sql from the migrated dev database (--check: fail if stale)",
    CHECK,
    TEST,
)
async def schema(args: argparse.Namespace) -> int:
    fresh = await migrate.schema_text(_target(args).url)
    return _write_or_check(SCHEMA_FILE, fresh, args.check, "make schema")


@command("seed", "load the development fixtures (idempotent); local databases only", FORCE, TEST)
async def seed(args: argparse.Namespace) -> int:
    from codeflow.seed import seed_database  # noqa: PLC0415

    target = _target(args)
    _refuse_unless_local(target.url, args, "seed")
    counts = await seed_database(target.url)
    say("seeded: " + ", ".join(f"{table} {rows}" for table, rows in counts.items()))
    return 0


@command(
    "purge",
    "delete expired Auth.js sessions and verification tokens (for a scheduler; DATABASE_URL or dev)",
    arg("--batch-size", type=int, default=500, help="rows per DELETE statement"),
    TEST,
)
async def purge(args: argparse.Namespace) -> int:
    async with _database(args) as (target, database):
        counts = await database.auth.purge_expired(batch_size=args.batch_size)
    say(
        f"purged {counts.sessions} expired sessions and {counts.verification_tokens} "
        f"expired verification tokens from {redact_url(target.url)}"
    )
    return 0


@command(
    "prune-prs",
    "delete cached PRs nobody monitors and closed ones past retention (for a scheduler; DATABASE_URL or dev)",
    arg("--retention-days", type=int, default=90, help="keep closed and merged PRs this many days"),
    arg("--batch-size", type=int, default=1000, help="rows per DELETE statement"),
    TEST,
)
async def prune_prs(args: argparse.Namespace) -> int:
    async with _database(args) as (target, database):
        pruned = await database.pull_requests.prune_pull_requests(
            closed_retention_days=args.retention_days, batch_size=args.batch_size
        )
    say(
        f"pruned {pruned.unmonitored} PRs of unmonitored repositories and {pruned.expired} "
        f"closed more than {args.retention_days} days ago from {redact_url(target.url)}"
    )
    return 0


@command("reset", "drop and recreate the local database, migrate and seed", FORCE, TEST)
async def reset(args: argparse.Namespace) -> int:
    target = _target(args)
    _refuse_unless_local(target.url, args, "reset")
    await migrate.drop_database(target.url)
    say(f"dropped {redact_url(target.url)}")
    await migrate.ensure_database(target.url)
    await migrate.migrate(target.url, dump_to=None)
    return await seed(args)


@command("status", "where things stand: database, migrations, rows per table, health", TEST)
async def status(args: argparse.Namespace) -> int:
    from codeflow.status import describe  # noqa: PLC0415

    target = _target(args, start=False)
    report, healthy = await describe(target)
    say(report)
    return 0 if healthy else 1


@command("dev", "bring up, migrate and seed the dev database, then print its status", FORCE, TEST)
async def dev(args: argparse.Namespace) -> int:
    _refuse_unless_local(_target(args, start=False).url, args, "seed")
    await db_up(args)
    await migrate_dev(args)
    await seed(args)
    return await status(args)


@command(
    "url",
    "print the selected database URL (password hidden unless --reveal)",
    arg("--reveal", action="store_true"),
    TEST,
)
async def url(args: argparse.Namespace) -> int:
    target = _target(args)
    await migrate.ensure_database(target.url)
    say(target.url if args.reveal else redact_url(target.url))
    return 0


@command("psql", "open psql on the dev database", TEST)
async def psql(args: argparse.Namespace) -> int:
    bundled = localdb.embedded_bin_dir()
    client = shutil.which("psql") or str(bundled / "psql" if bundled else "psql")
    return _interactive([client, _target(args).url])


@command("studio", "browse and edit the dev database in pgcli", TEST)
async def studio(args: argparse.Namespace) -> int:
    return _interactive([os.path.join(os.path.dirname(sys.executable), "pgcli"), _target(args).url])


async def _checked_test_database() -> str:
    """The test database, migrated: what the SQL checks run on."""
    target = localdb.bring_up("test")
    await migrate.ensure_database(target.url)
    await migrate.migrate(target.url)
    return target.url


@command("verify-sql", "check every named query against the schema and its declarations; plan guard", TEST)
async def verify_sql(args: argparse.Namespace) -> int:
    from codeflow import checks  # noqa: PLC0415

    url = await _checked_test_database()
    described, problems = await checks.verify_queries(url)
    plans_described, sizes, _ = await checks.on_dataset(checks.plans_url(url))
    problems += checks.seq_scans(plans_described, sizes, checks.full_scans())
    for problem in problems:
        say(problem)
    large = ", ".join(f"{table} {rows}" for table, rows in sizes.items() if rows >= checks.LARGE_TABLE_ROWS)
    say(f"{len(described)} queries checked, plans read on {large}: {len(problems)} problems")
    return 1 if problems else 0


@command(
    "types",
    "write codeflow/query_types.py from the SQL (--check: fail if stale)",
    CHECK,
    TEST,
)
async def query_types(args: argparse.Namespace) -> int:
    from codeflow import checks, codegen  # noqa: PLC0415

    described, _ = await checks.verify_queries(await _checked_test_database())
    fresh = codegen.render_types(described, checks.declared_results())
    return _write_or_check(codegen.TYPES_FILE, fresh, args.check, "make types")


@command(
    "docs",
    "write docs/queries.md, the query catalog (--check: fail if stale, plans aside)",
    CHECK,
    TEST,
)
async def query_docs(args: argparse.Namespace) -> int:
    from codeflow import checks, codegen  # noqa: PLC0415

    described, _, plans = await checks.on_dataset(checks.plans_url(await _checked_test_database()))
    fresh = codegen.render_catalog(described, checks.declared_results(), plans)
    return _write_or_check(codegen.DOCS_FILE, fresh, args.check, "make docs", codegen.without_plans)


def _write_or_check(
    path: Path, fresh: str, check: bool, remedy: str, compared: Callable[[str], str] = str
) -> int:
    """Write a generated file, or with `check` fail when the committed one differs
    (as seen through `compared`, which drops what may legitimately vary)."""
    if check:
        committed = path.read_text() if path.exists() else ""
        if compared(committed) != compared(fresh):
            say(f"{path} is stale: run `{remedy}` and commit it")
            return 1
        say(f"{path} is current")
        return 0
    path.write_text(fresh)
    say(f"written {path}")
    return 0


def _interactive(argv: list[str]) -> int:
    return subprocess.call(argv)


def parser() -> argparse.ArgumentParser:
    root = argparse.ArgumentParser(prog="codeflow-db", description=__doc__)
    commands = root.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for name, (_, help_text, arguments) in _COMMANDS.items():
        sub = commands.add_parser(name, help=help_text, description=help_text)
        for flags, options in arguments:
            sub.add_argument(*flags, **options)
    return root


def main(argv: list[str] | None = None) -> int:
    args = parser().parse_args(argv)
    function = _COMMANDS[args.command][0]
    try:
        return asyncio.run(function(args))
    except (CodeflowError, asyncpg.PostgresError, OSError, subprocess.CalledProcessError) as exc:
        print(f"codeflow-db {args.command}: {exc}", file=sys.stderr)
        if isinstance(exc, DatabaseUnavailable):
            print("is the database up? `make db-up` (or `make dev`) starts the local one", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
