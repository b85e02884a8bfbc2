"""Checks of the migrations themselves, beyond what dbmate and squawk do alone.

`lint` (`codeflow-db lint-migrations`, part of `make lint-sql`) reads the files:
- no DDL inside a `DO $$ ... $$` block, where squawk cannot see it and a condition can
  skip it silently (the grant migration once did nothing on a server without its role,
  and was recorded as applied); an exemption needs `-- lint: allow-do <reason>` on the
  line before the block;
- squawk on every migration's up part AND its down part, in a transaction or not as the
  migration's `transaction:false` says, each with the rules that add signal there
  (`DOWN_EXCLUDED`, `NO_TRANSACTION_EXCLUDED`).

`verify` (`codeflow-db verify-migrations`, part of `make check`) runs them on a scratch
database built from scratch:
- each migration's up then down gives back exactly the schema before it (a catalog
  snapshot: pg_dump --schema-only with privileges, and the database's settings);
- the migrated schema has no foreign key without an index whose leading columns are
  its columns (a delete of the referenced row scans the referencing table), and no two
  indexes on the same keys.
"""

from __future__ import annotations

import dataclasses
import difflib
import re
import shutil
import subprocess
import sysconfig
import tempfile
import tomllib
from collections.abc import Iterator
from pathlib import Path

import asyncpg

from codeflow.errors import CodeflowError
from codeflow.paths import MIGRATIONS_DIR
from codeflow.tools import migrate

# Rules squawk applies to up parts but not to down parts. A down runs only on local
# databases (rollback refuses others): rules about locks and table scans guard traffic
# it never meets, and dropping is what it does to what its up added. The rest (types,
# NOT NULL columns without a default, ...) still applies, and the round trip checks
# that it restores the schema exactly.
DOWN_EXCLUDED = {
    "ban-drop-table": "a down drops the tables its up created",
    "ban-drop-column": "the columns its up added",
    "ban-drop-constraint": "the constraints its up added",
    "ban-drop-function": "the functions its up created",
    "ban-drop-extension": "the extensions its up created",
    "require-lock-timeout": "local databases only: no traffic queues behind its locks",
    "require-concurrent-index-deletion": "local databases only: nothing to block",
    "require-concurrent-index-creation": "local databases only: nothing to block",
    "constraint-missing-not-valid": "local databases only: restoring a key or check scans a dev table",
    "adding-serial-primary-key-field": "local databases only: a down restores the key its up replaced",
    "disallowed-unique-constraint": "local databases only: likewise for a unique constraint",
}
# Rules that cannot hold in a `transaction:false` migration. dbmate sends its file as one
# query string, which PostgreSQL runs as one implicit transaction when it holds several
# statements: CREATE INDEX CONCURRENTLY must then be the only statement, so no
# `SET lock_timeout` can precede it (its SHARE UPDATE EXCLUSIVE lock blocks no reads or
# writes, so waiting for it stalls no traffic). And IF NOT EXISTS would make a rerun
# keep the INVALID index a failed build leaves behind; without it the rerun fails loudly.
NO_TRANSACTION_EXCLUDED = {
    "require-lock-timeout": "a SET before the build would put it in a transaction block",
    "prefer-robust-stmts": "IF NOT EXISTS would keep the invalid index of a failed build",
}
_DO_BLOCK = re.compile(r"\bDO\s+(\$\w*\$)(.*?)\1", re.S | re.I)
_DDL = re.compile(r"\b(CREATE|ALTER|DROP|GRANT|REVOKE|COMMENT|TRUNCATE|EXECUTE|REINDEX)\b", re.I)
_ALLOW_DO = "-- lint: allow-do "


@dataclasses.dataclass(frozen=True)
class Migration:
    path: Path
    up: str
    down: str
    up_transaction: bool  # False: `-- migrate:up transaction:false`
    down_transaction: bool  # False: `-- migrate:down transaction:false`

    @property
    def name(self) -> str:
        return self.path.name


def read(path: Path) -> Migration:
    text = path.read_text()
    up, _, down = text.partition("-- migrate:down")
    down = "-- migrate:down" + down if down else ""
    return Migration(path, up, down, _in_transaction(up), _in_transaction(down))


def _in_transaction(part: str) -> bool:
    header = part.strip().partition("\n")[0]
    return "transaction:false" not in header


def migrations(directory: Path = MIGRATIONS_DIR) -> list[Migration]:
    return [read(path) for path in sorted(directory.glob("*.sql"))]


# --- lint ---------------------------------------------------------------------------------


def lint(directory: Path = MIGRATIONS_DIR, *, config: Path | None = None) -> list[str]:
    """Every problem of the migrations in `directory`, each naming file, part and reason."""
    problems: list[str] = []
    for migration in migrations(directory):
        problems += do_block_problems(migration)
        problems += concurrently_problems(migration)
        problems += squawk_problems(migration, config=config)
    return problems


def do_block_problems(migration: Migration) -> list[str]:
    problems = []
    for part, text in (("up", migration.up), ("down", migration.down)):
        for block in _DO_BLOCK.finditer(text):
            statement = _DDL.search(block.group(2))
            if statement is None:
                continue
            preceding = text[: block.start()].rstrip().rpartition("\n")[2].strip()
            if preceding.startswith(_ALLOW_DO) and preceding[len(_ALLOW_DO) :].strip():
                continue
            line = text[: block.start()].count("\n") + 1
            problems.append(
                f"{migration.name}: {part} line {line}: {statement.group(1).upper()} inside a DO block: "
                "squawk cannot lint it, and a condition there can skip it silently while the "
                "migration is recorded as applied; write the statement plainly (or, if it cannot "
                f"be, put `{_ALLOW_DO}<reason>` on the line before the block)"
            )
    return problems


def concurrently_problems(migration: Migration) -> list[str]:
    """CONCURRENTLY cannot run in a transaction block: its part must say
    `transaction:false` and hold that one statement (dbmate sends the part as one query
    string, which PostgreSQL runs as one implicit transaction if it holds several)."""
    problems = []
    for part, text, transaction in (
        ("up", migration.up, migration.up_transaction),
        ("down", migration.down, migration.down_transaction),
    ):
        code = "\n".join(line for line in text.splitlines() if not line.lstrip().startswith("--"))
        if not re.search(r"\bCONCURRENTLY\b", code, re.I):
            continue
        statements = [statement for statement in code.split(";") if statement.strip()]
        if transaction:
            problems.append(
                f"{migration.name}: {part}: CONCURRENTLY cannot run inside the transaction dbmate "
                f"wraps the migration in: start the part with `-- migrate:{part} transaction:false`"
            )
        elif len(statements) > 1:
            problems.append(
                f"{migration.name}: {part}: a CONCURRENTLY statement must be the only statement of its "
                "transaction:false part (dbmate sends the part as one query string, which PostgreSQL "
                "runs as one implicit transaction): move the others to their own migration"
            )
    return problems


def squawk_binary() -> str:
    candidate = Path(sysconfig.get_path("scripts")) / "squawk"
    found = str(candidate) if candidate.exists() else shutil.which("squawk")
    if found is None:
        raise CodeflowError("squawk not found: install the dev extras (`make install`)")
    return found


def _configured_exclusions(config: Path | None) -> set[str]:
    if config is None or not config.exists():
        return set()
    return set(tomllib.loads(config.read_text()).get("excluded_rules", []))


def squawk_problems(migration: Migration, *, config: Path | None = None) -> list[str]:
    problems = []
    parts = (
        ("up", migration.up, migration.up_transaction, set[str]()),
        ("down", migration.down, migration.down_transaction, set(DOWN_EXCLUDED)),
    )
    for part, text, transaction, part_excluded in parts:
        if not text.strip():
            continue
        excluded = part_excluded | _configured_exclusions(config)  # --exclude replaces the file's list
        if not transaction:
            excluded |= set(NO_TRANSACTION_EXCLUDED)
        argv = [squawk_binary(), "--reporter", "gcc", "--stdin-filepath", f"{migration.name} ({part})"]
        if config is not None:
            argv += ["--config", str(config)]
        argv.append("--assume-in-transaction" if transaction else "--no-assume-in-transaction")
        argv.append(f"--exclude={','.join(sorted(excluded))}")
        result = subprocess.run(argv, input=text, capture_output=True, text=True, check=False)
        if result.returncode != 0:
            findings = [
                line for line in result.stdout.splitlines() if ": warning: " in line or ": error: " in line
            ]
            problems += [f"squawk: {line}" for line in findings] or [
                f"{migration.name} ({part}): squawk failed: {(result.stdout + result.stderr).strip()}"
            ]
    return problems


# --- verify (on a database) ------------------------------------------------------------------


async def verify(url: str, directory: Path = MIGRATIONS_DIR, *, only: set[str] | None = None) -> list[str]:
    """Round-trip every migration (or those named in `only`) on `url`'s database, built
    from scratch and dropped afterwards, then check the migrated schema."""
    await migrate.drop_database(url)
    await migrate.ensure_database(url)
    try:
        problems = await round_trip_problems(url, directory, only=only)
        return problems + await schema_problems(url)
    finally:
        await migrate.drop_database(url)


async def round_trip_problems(url: str, directory: Path, *, only: set[str] | None = None) -> list[str]:
    """Apply the migrations one by one; for each, up then down must give back the
    snapshot taken before its up (then it is applied again, for the next)."""
    problems = []
    with tempfile.TemporaryDirectory() as scratch:
        applied = Path(scratch)
        for migration in migrations(directory):
            shutil.copy(migration.path, applied / migration.name)
            check = only is None or migration.name in only
            before = await snapshot(url) if check else ""
            await migrate.migrate(url, migrations_dir=applied)
            if not check:
                continue
            await migrate.rollback(url, migrations_dir=applied)
            after = await snapshot(url)
            if after != before:
                diff = list(difflib.unified_diff(before.splitlines(), after.splitlines(), lineterm="", n=0))
                shown = [line for line in diff[2:] if not line.startswith("@@")][:12]
                problems.append(
                    f"{migration.name}: up then down does not give back the schema before it "
                    "(- before, + after the down; later migrations not checked):\n    " + "\n    ".join(shown)
                )
                break  # its up may not apply again over what the down left
            await migrate.migrate(url, migrations_dir=applied)
    return problems


async def snapshot(url: str) -> str:
    """The schema as pg_dump --schema-only prints it, privileges included, without
    dbmate's own table, and the database's settings (ALTER DATABASE ... SET)."""
    dumped = await migrate.pg_dump_schema(url, privileges=True)
    lines = [line for line in dumped.splitlines() if line and not line.startswith("--")]
    statements = [
        statement for statement in "\n".join(lines).split(";\n") if "schema_migrations" not in statement
    ]
    conn = await asyncpg.connect(url)
    try:
        settings = await conn.fetchval(
            "SELECT coalesce(array_agg(setting ORDER BY setting), '{}') FROM pg_db_role_setting, "
            "unnest(setconfig) AS setting WHERE setrole = 0 AND setdatabase = "
            "(SELECT oid FROM pg_database WHERE datname = current_database())"
        )
    finally:
        await conn.close()
    return ";\n".join(statement.strip() for statement in statements) + f"\n-- database settings: {settings}\n"


async def schema_problems(url: str) -> list[str]:
    conn = await asyncpg.connect(url)
    try:
        foreign_keys = await conn.fetch(
            """SELECT c.conname, c.conrelid::regclass::text AS table_name,
                      array(SELECT a.attname FROM unnest(c.conkey) AS k (attnum)
                            JOIN pg_attribute AS a ON a.attrelid = c.conrelid AND a.attnum = k.attnum)::text[]
                          AS columns
               FROM pg_constraint AS c
               WHERE c.contype = 'f' AND c.connamespace = 'public'::regnamespace
               ORDER BY c.conname"""
        )
        indexes = await conn.fetch(
            """SELECT i.indexrelid::regclass::text AS name, i.indrelid::regclass::text AS table_name,
                      array(SELECT a.attname FROM unnest(i.indkey::int2[]) WITH ORDINALITY AS k (attnum, n)
                            JOIN pg_attribute AS a ON a.attrelid = i.indrelid AND a.attnum = k.attnum
                            ORDER BY k.n)::text[] AS columns,
                      i.indpred IS NULL AS whole,
                      regexp_replace(pg_get_indexdef(i.indexrelid), '^CREATE (UNIQUE )?INDEX \\S+ ', '')
                          AS definition
               FROM pg_index AS i JOIN pg_class AS c ON c.oid = i.indrelid
               WHERE c.relnamespace = 'public'::regnamespace
               ORDER BY i.indexrelid"""
        )
    finally:
        await conn.close()
    return list(_unindexed(foreign_keys, indexes)) + list(_duplicates(indexes))


def _unindexed(foreign_keys: list[asyncpg.Record], indexes: list[asyncpg.Record]) -> Iterator[str]:
    for key in foreign_keys:
        columns = set(key["columns"])
        covered = any(
            index["table_name"] == key["table_name"]
            and index["whole"]
            and set(index["columns"][: len(columns)]) == columns
            for index in indexes
        )
        if not covered:
            yield (
                f"foreign key {key['conname']} on {key['table_name']} ({', '.join(key['columns'])}) has no "
                "index that starts with its columns: deleting or updating a referenced row scans "
                f"{key['table_name']} (add an index on ({', '.join(key['columns'])}))"
            )


def _duplicates(indexes: list[asyncpg.Record]) -> Iterator[str]:
    seen: dict[str, str] = {}
    for index in indexes:
        first = seen.setdefault(index["definition"], index["name"])
        if first != index["name"]:
            yield (
                f"index {index['name']} duplicates {first} on {index['table_name']} "
                f"({index['definition']}): every write maintains both; drop one"
            )
