"""`codeflow-db`: the developer and deploy commands behind the Makefile targets.

Each subcommand works without make: `.venv/bin/codeflow-db migrate`, and so on, and
from an installed wheel with the `cli` extra, where what it writes goes under the
working directory (`codeflow.tools.files`), never into the package.
Development commands pick their database as `codeflow.tools.localdb` describes; deploy
commands (`migrate-deploy`) use only `DATABASE_URL`.

Exit status: 0 done; 1 a check found something (pending migrations, a stale generated
file, an unhealthy database); 2 an error, reported on one line without a traceback
(a malformed or refused database URL, a database that is down, a failed migration).
"""

from __future__ import annotations

import argparse
import asyncio
import shutil
import subprocess
import sys
from collections.abc import AsyncIterator, Callable, Coroutine
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import asyncpg

from codeflow.database import Database
from codeflow.dburl import redact as redact_url
from codeflow.errors import CodeflowError, DatabaseUnavailable
from codeflow.paths import MIGRATIONS_DIR
from codeflow.settings import load_settings
from codeflow.tools import files, localdb, migrate

Argument = tuple[tuple[str, ...], dict[str, Any]]


def arg(*flags: str, **options: Any) -> Argument:
    """An argparse argument of a command, as `add_argument(*flags, **options)` takes it."""
    return flags, options


FORCE = arg("--force", action="store_true", help="allow a non-local database")
TEST = arg("--test", action="store_true", help="use the test database instead of dev")
CHECK = arg("--check", action="store_true", help="fail if the committed file is stale")
SCHEMA = arg("--schema-file", type=Path, help="where to write the schema dump (default: ./db/schema.sql)")
MIGRATIONS = arg(
    "--migrations-dir", type=Path, help="the migrations to apply (default: the ones this package ships)"
)


@dataclass(frozen=True)
class Command:
    """An async subcommand (it returns the process exit status), its help and arguments.
    Commands that pick a database as the dev commands do take `--test` (see `_target`)."""

    run: Callable[[argparse.Namespace], Coroutine[Any, Any, int]]
    help: str
    arguments: tuple[Argument, ...] = ()


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


def _migrations_dir(args: argparse.Namespace) -> Path:
    return args.migrations_dir or MIGRATIONS_DIR


def _schema_file(args: argparse.Namespace) -> Path | None:
    """Where a dev command dumps the schema; the test database's is never dumped."""
    return None if args.test else (args.schema_file or files.schema_file())


def _report(outcome: migrate.Outcome, *, nothing: str) -> None:
    for line in outcome.done:
        say(line)
    if not outcome.done:
        say(nothing)
    if outcome.schema_written:
        say(f"schema written to {outcome.schema_written}")


async def db_up(args: argparse.Namespace) -> int:
    target = _target(args)
    created = await migrate.ensure_database(target.url)
    say(f"{target.backend} database {'created' if created else 'ready'}: {redact_url(target.url)}")
    return 0


async def db_down(args: argparse.Namespace) -> int:
    stopped = localdb.bring_down()
    say("stopped: " + ", ".join(stopped) if stopped else "nothing of this project's was running")
    return 0


async def migrate_dev(args: argparse.Namespace) -> int:
    target = _target(args)
    await migrate.ensure_database(target.url)
    outcome = await migrate.migrate(
        target.url, dump_to=_schema_file(args), migrations_dir=_migrations_dir(args)
    )
    _report(outcome, nothing=f"nothing to apply: {redact_url(target.url)} has every migration")
    return 0


async def migrate_deploy(args: argparse.Namespace) -> int:
    url = load_settings().database_url.get_secret_value()
    outcome = await migrate.migrate(url, wait_s=args.wait, migrations_dir=_migrations_dir(args))
    _report(outcome, nothing=f"nothing to apply: {redact_url(url)} has every migration")
    return 0


async def rollback(args: argparse.Namespace) -> int:
    target = _target(args)
    _refuse_unless_local(target.url, args, "roll back")
    outcome = await migrate.rollback(
        target.url, steps=args.steps, dump_to=_schema_file(args), migrations_dir=_migrations_dir(args)
    )
    _report(outcome, nothing="nothing to roll back")
    return 0


async def migrate_status(args: argparse.Namespace) -> int:
    target = _target(args)
    output, pending = migrate.status(target.url, migrations_dir=_migrations_dir(args))
    say(output)
    return 1 if pending else 0


async def new_migration(args: argparse.Namespace) -> int:
    folder: Path = args.migrations_dir or files.new_migrations_dir()
    if files.checkout_dir() is None and folder.resolve().is_relative_to(MIGRATIONS_DIR.parent.parent):
        raise CodeflowError(f"refusing to write a migration into the installed package ({folder})")
    if not folder.is_dir():
        raise CodeflowError(
            f"no folder {folder}: a new migration goes into your project's db/migrations "
            "(run this from the project folder) or the folder --migrations-dir names"
        )
    say(migrate.new_migration(args.name, migrations_dir=folder))
    return 0


async def schema(args: argparse.Namespace) -> int:
    fresh = await migrate.schema_text(_target(args).url)
    path = args.schema_file or files.schema_file()
    return _write_or_check(path, fresh, args.check, "codeflow-db schema")


async def seed(args: argparse.Namespace) -> int:
    from codeflow.tools.seed import seed_database  # noqa: PLC0415

    target = _target(args)
    _refuse_unless_local(target.url, args, "seed")
    counts = await seed_database(target.url)
    say("seeded: " + ", ".join(f"{table} {rows} rows" for table, rows in counts.items()))
    return 0


async def purge(args: argparse.Namespace) -> int:
    async with _database(args) as (target, database):
        counts = await database.auth.purge_expired(batch_size=args.batch_size)
    say(
        f"purged {counts.sessions} expired sessions and {counts.verification_tokens} "
        f"expired verification tokens from {redact_url(target.url)}"
    )
    return 0


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


async def reset(args: argparse.Namespace) -> int:
    target = _target(args)
    _refuse_unless_local(target.url, args, "reset")
    await migrate.drop_database(target.url)
    say(f"dropped {redact_url(target.url)}")
    await migrate.ensure_database(target.url)
    say(f"created {redact_url(target.url)}")
    outcome = await migrate.migrate(target.url, migrations_dir=_migrations_dir(args))
    _report(outcome, nothing="no migrations to apply")
    return await seed(args)


async def status(args: argparse.Namespace) -> int:
    from codeflow.tools.status import describe  # noqa: PLC0415

    target = _target(args, start=False)
    report, healthy = await describe(target)
    say(report)
    return 0 if healthy else 1


async def dev(args: argparse.Namespace) -> int:
    _refuse_unless_local(_target(args, start=False).url, args, "seed")
    await db_up(args)
    await migrate_dev(args)
    await seed(args)
    return await status(args)


async def url(args: argparse.Namespace) -> int:
    """Print the URL a command would use. Reads only: it creates no database and starts no server."""
    target = _target(args, start=False)
    if target.backend == "embedded" and not localdb.EmbeddedPostgres().running():
        variable = "TEST_DATABASE_URL" if args.test else "DATABASE_URL"
        raise NothingToDo(
            f"no database to print: {variable} is not set (environment or ./.env), Docker is not "
            "running, and this project's embedded PostgreSQL is stopped (`codeflow-db db-up` starts it)"
        )
    say(target.url if args.reveal else redact_url(target.url))
    return 0


async def psql(args: argparse.Namespace) -> int:
    bundled = localdb.embedded_bin_dir()
    client = shutil.which("psql") or str(bundled / "psql" if bundled else "psql")
    return _interactive([client, _target(args).url])


async def studio(args: argparse.Namespace) -> int:
    from codeflow.tools import studio  # noqa: PLC0415

    url = _target(args).url
    process = await asyncio.to_thread(
        studio.launch, url, port=args.port, open_browser=not args.no_browser, say=say
    )
    try:
        return await asyncio.to_thread(process.wait)
    finally:  # Ctrl-C cancels the wait: pgAdmin goes with it
        studio.stop(process)


async def _checked_test_database() -> str:
    """The test database, dropped and migrated from scratch: what the SQL checks run on.
    On a database migrated earlier, an edit to an applied migration would not show."""
    from codeflow.tools import checks  # noqa: PLC0415

    return await checks.fresh_database(localdb.bring_up("test").url)


async def verify_sql(args: argparse.Namespace) -> int:
    from codeflow.tools import checks  # noqa: PLC0415

    url = await _checked_test_database()
    described, problems = await checks.verify_queries(url)
    on_dataset = await checks.on_dataset(checks.plans_url(url))
    problems += on_dataset.problems()
    for problem in problems:
        say(problem)
    sizes = on_dataset.sizes
    large = ", ".join(f"{table} {rows}" for table, rows in sizes.items() if rows >= checks.LARGE_TABLE_ROWS)
    say(f"{len(described)} queries checked, plans read on {large}: {len(problems)} problems")
    return 1 if problems else 0


async def query_types(args: argparse.Namespace) -> int:
    from codeflow.tools import checks, codegen  # noqa: PLC0415

    files.require_checkout("types")
    described, _ = await checks.verify_queries(await _checked_test_database())
    fresh = codegen.render_types(described)
    return _write_or_check(codegen.TYPES_FILE, fresh, args.check, "make types")


async def query_docs(args: argparse.Namespace) -> int:
    from codeflow.tools import checks, codegen  # noqa: PLC0415

    files.require_checkout("docs")
    # on_dataset builds the plans database from scratch
    on_dataset = await checks.on_dataset(checks.plans_url(localdb.bring_up("test").url), executed=False)
    fresh = codegen.render_catalog(on_dataset.described, on_dataset.schema)
    if args.check and codegen.DOCS_FILE.exists():
        differences = codegen.catalog_differences(codegen.DOCS_FILE.read_text(), fresh)
        for difference in differences:
            say(f"{codegen.DOCS_FILE}: {difference}")
        say(f"{codegen.DOCS_FILE} is {'stale: run `make docs` and commit it' if differences else 'current'}")
        return 1 if differences else 0
    return _write_or_check(codegen.DOCS_FILE, fresh, args.check, "make docs")


async def lint_migrations(args: argparse.Namespace) -> int:
    from codeflow.tools import migration_checks  # noqa: PLC0415

    config = files.project_dir() / ".squawk.toml"
    problems = migration_checks.lint(_migrations_dir(args), config=config if config.exists() else None)
    for problem in problems:
        say(problem)
    say(f"migrations linted: {len(problems)} problems")
    return 1 if problems else 0


async def verify_migrations(args: argparse.Namespace) -> int:
    from codeflow.tools import checks, migration_checks  # noqa: PLC0415

    url = checks.scratch_url(localdb.bring_up("test").url, "migrations")
    problems = await migration_checks.verify(url, _migrations_dir(args))
    for problem in problems:
        say(problem)
    say(
        "migrations verified (up then down each, foreign-key indexes, duplicate indexes): "
        f"{len(problems)} problems"
    )
    return 1 if problems else 0


def _write_or_check(path: Path, fresh: str, check: bool, remedy: str) -> int:
    """Write a generated file, or with `check` fail when the committed one differs."""
    if check:
        if not path.exists():
            say(f"{path} does not exist: run `{remedy}` to write it")
            return 1
        if path.read_text() != fresh:
            say(f"{path} is stale: run `{remedy}` and commit it")
            return 1
        say(f"{path} is current")
        return 0
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(fresh)
    say(f"written {path}")
    return 0


def _interactive(argv: list[str]) -> int:
    return subprocess.call(argv)


class NothingToDo(CodeflowError):
    """The command has nothing to act on; exit status 1, not an error."""


COMMANDS: dict[str, Command] = {
    "db-up": Command(db_up, "start the local database (embedded or Docker) and create it", (TEST,)),
    "db-down": Command(db_down, "stop the local database servers this project started (data is kept)"),
    "migrate": Command(
        migrate_dev,
        "apply pending migrations, printing each, and dump the schema (./db/schema.sql)",
        (TEST, SCHEMA, MIGRATIONS),
    ),
    "migrate-deploy": Command(
        migrate_deploy,
        "production: wait for DATABASE_URL's server, apply migrations, no dump",
        (arg("--wait", type=float, default=60.0, help="seconds to wait for the server"), MIGRATIONS),
    ),
    "rollback": Command(
        rollback,
        "roll back the newest migration (or --steps N); local databases only",
        (arg("--steps", type=int, default=1), FORCE, TEST, SCHEMA, MIGRATIONS),
    ),
    "migrate-status": Command(
        migrate_status, "list applied and pending migrations; exit 1 if any is pending", (TEST, MIGRATIONS)
    ),
    "new-migration": Command(
        new_migration,
        "create <timestamp>_<name>.sql in ./db/migrations (or --migrations-dir)",
        (arg("name"), arg("--migrations-dir", type=Path, help="the folder to write it in")),
    ),
    "schema": Command(
        schema,
        "write the migrated database's schema to ./db/schema.sql (--check: fail if stale)",
        (CHECK, TEST, SCHEMA),
    ),
    "seed": Command(seed, "load the development fixtures (idempotent); local databases only", (FORCE, TEST)),
    "purge": Command(
        purge,
        "delete expired Auth.js sessions and verification tokens (for a scheduler; DATABASE_URL or dev)",
        (arg("--batch-size", type=int, default=500, help="rows per DELETE statement"), TEST),
    ),
    "prune-prs": Command(
        prune_prs,
        "delete cached PRs nobody monitors and closed ones past retention "
        "(for a scheduler; DATABASE_URL or dev)",
        (
            arg("--retention-days", type=int, default=90, help="keep closed and merged PRs this many days"),
            arg("--batch-size", type=int, default=1000, help="rows per DELETE statement"),
            TEST,
        ),
    ),
    "reset": Command(
        reset, "drop and recreate the local database, migrate and seed", (FORCE, TEST, MIGRATIONS)
    ),
    "status": Command(status, "where things stand: database, migrations, rows per table, health", (TEST,)),
    "dev": Command(
        dev,
        "bring up, migrate and seed the dev database, then print its status",
        (FORCE, TEST, SCHEMA, MIGRATIONS),
    ),
    "url": Command(
        url,
        "print the selected database URL (password hidden unless --reveal); starts and creates nothing",
        (arg("--reveal", action="store_true"), TEST),
    ),
    "psql": Command(psql, "open psql on the dev database", (TEST,)),
    "studio": Command(
        studio,
        "browse and edit the dev database in pgAdmin 4, in the browser (installed on first use)",
        (
            arg("--port", type=int, help="pgAdmin's port on 127.0.0.1 (default: a free one)"),
            arg("--no-browser", action="store_true", help="print the URL, open no browser"),
            TEST,
        ),
    ),
    "verify-sql": Command(
        verify_sql, "check every named query against the schema and its declarations; plan guard", (TEST,)
    ),
    "lint-migrations": Command(
        lint_migrations,
        "no DDL in DO blocks; squawk on each migration's up and down parts (--migrations-dir)",
        (MIGRATIONS,),
    ),
    "verify-migrations": Command(
        verify_migrations,
        "on a scratch database: each migration's down undoes its up exactly; foreign keys "
        "indexed, no duplicate indexes",
        (MIGRATIONS,),
    ),
    "types": Command(
        query_types,
        "write codeflow/generated_queries.py from the SQL (checkout only; --check: fail if stale)",
        (CHECK, TEST),
    ),
    "docs": Command(
        query_docs,
        "write docs/queries.md, the query catalog (checkout only; --check: fail if stale, plans by shape)",
        (CHECK, TEST),
    ),
}


def parser() -> argparse.ArgumentParser:
    root = argparse.ArgumentParser(prog="codeflow-db", description=__doc__)
    commands = root.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for name, command in COMMANDS.items():
        sub = commands.add_parser(name, help=command.help, description=command.help)
        for flags, options in command.arguments:
            sub.add_argument(*flags, **options)
    return root


def main(argv: list[str] | None = None) -> int:
    args = parser().parse_args(argv)
    try:
        return asyncio.run(COMMANDS[args.command].run(args))
    except KeyboardInterrupt:
        return 130
    except NothingToDo as exc:
        print(f"codeflow-db {args.command}: {exc}", file=sys.stderr)
        return 1
    except (CodeflowError, asyncpg.PostgresError, OSError, subprocess.CalledProcessError) as exc:
        print(f"codeflow-db {args.command}: {exc}", file=sys.stderr)
        if isinstance(exc, DatabaseUnavailable):
            print(
                "is the database up? `codeflow-db db-up` (or `codeflow-db dev`) starts the local one",
                file=sys.stderr,
            )
        return 2


if __name__ == "__main__":
    sys.exit(main())
