"""The migration checks (codeflow.tools.migration_checks, `make lint-sql` and
`make verify-migrations`): the real migrations pass, a CREATE INDEX CONCURRENTLY in a
`transaction:false` migration is lint-clean and applies, and each class of break, applied
to a copy of db/migrations, fails with a message naming the migration and the reason."""

from __future__ import annotations

import shutil
from dataclasses import dataclass
from pathlib import Path

import pytest

from codeflow.paths import MIGRATIONS_DIR
from codeflow.tools import checks, migrate, migration_checks
from codeflow.tools.files import checkout_dir

CONFIG = Path(__file__).resolve().parents[1] / ".squawk.toml"
CONCURRENT = Path(__file__).resolve().parent / "fixtures" / "concurrent_index"
PULL_REQUESTS = "20261128000500_pull_requests.sql"
GRANTS = "20261128000600_application_role_grants.sql"
VALIDATE = "20261201000110_validate_value_limits.sql"
NEW = "20261202000900_break.sql"


@dataclass(frozen=True)
class Break:
    """`old` -> `new` in `file` of a copy of db/migrations (a new file when `old` is
    empty); `database`: the break shows only on a migrated database."""

    file: str
    old: str
    new: str
    database: bool = False
    to_end: bool = False  # `new` replaces everything from `old` to the end of the file


def copy_migrations(tmp_path: Path, *extra: Path) -> Path:
    target = tmp_path / "migrations"
    shutil.copytree(MIGRATIONS_DIR, target)
    for directory in extra:
        for file in directory.glob("*.sql"):
            shutil.copy(file, target / file.name)
    return target


async def problems_after(break_: Break | None, tmp_path: Path, test_url: str, *, database: bool) -> list[str]:
    """What `lint-migrations` (and with `database`, `verify-migrations`) report once
    `break_` is applied to a copy of the migrations (with the CONCURRENTLY fixture)."""
    directory = copy_migrations(tmp_path, CONCURRENT)
    if break_ is not None:
        path = directory / break_.file
        if break_.old:
            text = path.read_text()
            assert break_.old in text, "the test's edit must apply"
            if break_.to_end:
                path.write_text(text[: text.index(break_.old)] + break_.new)
            else:
                path.write_text(text.replace(break_.old, break_.new, 1))
        else:
            path.write_text(break_.new)
    problems = migration_checks.lint(directory, config=CONFIG)
    if database:
        problems += await migration_checks.verify(checks.scratch_url(test_url, "migration_checks"), directory)
    return problems


async def test_the_real_migrations_and_the_concurrent_index_pass(
    codeflow_database_url: str, tmp_path: Path
) -> None:
    assert checkout_dir() is not None
    assert await problems_after(None, tmp_path, codeflow_database_url, database=True) == []


DO_GRANT = """DO $$
BEGIN
    IF EXISTS (SELECT FROM pg_catalog.pg_roles WHERE rolname = 'codeflow_app') THEN
        GRANT USAGE ON SCHEMA public TO codeflow_app;
    END IF;
END
$$;
"""

BREAKS = {
    "a down that leaves an index behind": (
        Break(PULL_REQUESTS, "DROP INDEX repositories_github_id_idx;\n", "", database=True),
        f"{PULL_REQUESTS}: up then down does not give back the schema before it",
        "repositories_github_id_idx",
    ),
    "a down that cannot un-validate": (
        Break(VALIDATE, "-- migrate:down\n", "-- migrate:down\nSELECT 1;\n", database=True, to_end=True),
        f"{VALIDATE}: up then down does not give back the schema before it",
        "CONSTRAINT accounts_access_token_length_check CHECK",
    ),
    "DDL inside a DO block": (
        Break(GRANTS, "GRANT USAGE ON SCHEMA public TO codeflow_app;\n", DO_GRANT),
        f"{GRANTS}: up line",
        "GRANT inside a DO block",
    ),
    "a DO block without its reasoned exemption": (
        Break(
            "20261128000100_database_defaults.sql",
            "-- lint: allow-do ALTER DATABASE ... SET needs the name only current_database() gives\n",
            "",
        ),
        "20261128000100_database_defaults.sql: up line",
        "EXECUTE inside a DO block",
    ),
    "squawk lints down parts too": (
        Break(
            PULL_REQUESTS,
            "DROP INDEX repositories_github_id_idx;\n",
            "DROP INDEX repositories_github_id_idx;\nALTER TABLE repositories ADD COLUMN note varchar(10);\n",
        ),
        f"squawk: {PULL_REQUESTS} (down)",
        "prefer-text-field",
    ),
    "CONCURRENTLY inside a transaction": (
        Break(
            "20261202000100_pull_requests_title_index.sql", "-- migrate:up transaction:false", "-- migrate:up"
        ),
        "20261202000100_pull_requests_title_index.sql: up: ",
        "CONCURRENTLY cannot run inside the transaction",
    ),
    "CONCURRENTLY beside another statement": (
        Break(
            "20261202000100_pull_requests_title_index.sql",
            "CREATE INDEX CONCURRENTLY",
            "SET lock_timeout = '5s';\nCREATE INDEX CONCURRENTLY",
        ),
        "20261202000100_pull_requests_title_index.sql: up: ",
        "must be the only statement",
    ),
    "a foreign key without an index": (
        Break(
            NEW,
            "",
            "-- migrate:up\nSET LOCAL lock_timeout = '5s';\n"
            "CREATE TABLE repository_notes (\n    id bigint NOT NULL,\n    repository_id uuid NOT NULL,\n"
            "    CONSTRAINT repository_notes_pkey PRIMARY KEY (id),\n"
            "    CONSTRAINT repository_notes_repository_id_fkey FOREIGN KEY (repository_id)"
            " REFERENCES repositories (id)\n);\n"
            "-- migrate:down\nDROP TABLE repository_notes;\n",
            database=True,
        ),
        "foreign key repository_notes_repository_id_fkey on repository_notes (repository_id) has no index",
        "deleting or updating a referenced row scans repository_notes",
    ),
    "a duplicate index": (
        Break(
            NEW,
            "",
            "-- migrate:up transaction:false\n"
            "CREATE INDEX CONCURRENTLY accounts_user_id_again_idx ON accounts (user_id);\n"
            "-- migrate:down transaction:false\nDROP INDEX CONCURRENTLY accounts_user_id_again_idx;\n",
            database=True,
        ),
        "index accounts_user_id_again_idx duplicates accounts_user_id_idx on accounts",
        "every write maintains both",
    ),
}


@pytest.mark.parametrize("case", list(BREAKS.values()), ids=list(BREAKS))
async def test_each_break_fails_naming_the_migration_and_the_reason(
    codeflow_database_url: str, tmp_path: Path, case: tuple[Break, str, str]
) -> None:
    break_, where, reason = case
    problems = await problems_after(break_, tmp_path, codeflow_database_url, database=break_.database)
    assert any(where in problem and reason in problem for problem in problems), problems


async def test_the_grant_migration_fails_loudly_without_its_role(
    codeflow_database_url: str, tmp_path: Path
) -> None:
    """A server without the role stops at the grant migration and does not record it
    (it used to record it applied, with nothing granted)."""
    directory = copy_migrations(tmp_path)
    grants = directory / GRANTS
    grants.write_text(grants.read_text().replace("codeflow_app", "codeflow_app_never_created"))
    url = checks.scratch_url(codeflow_database_url, "grants")
    await migrate.drop_database(url)
    await migrate.ensure_database(url)
    try:
        with pytest.raises(migrate.MigrationError, match='role "codeflow_app_never_created" does not exist'):
            await migrate.migrate(url, migrations_dir=directory)
        _, pending = migrate.status(url, migrations_dir=directory)
        assert pending == len(list(directory.glob("*.sql"))) - 5
    finally:
        await migrate.drop_database(url)
