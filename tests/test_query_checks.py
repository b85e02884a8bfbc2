"""Checked SQL (codeflow.tools.checks) on the migrated test database and on the plan
dataset: the real queries pass, and each class of break (a wrong column or parameter,
cardinality, nullability, plans, an empty table, per-user isolation) applied to a copy of
queries/ (or inside a rolled-back transaction on the plans database) fails with a message
naming the query and the reason; the generated types and catalog are current."""

from __future__ import annotations

import asyncio
import shutil
from collections.abc import Iterator
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TypedDict

import asyncpg
import pytest
from pydantic import AwareDatetime

from codeflow.models import Row
from codeflow.paths import MIGRATIONS_DIR, QUERIES_DIR
from codeflow.queries import Query, Returns
from codeflow.tools import checks, codegen, migrate


@pytest.fixture(scope="session")
def dataset(codeflow_database_url: str) -> Iterator[checks.OnDataset]:
    """Every query examined on the plan dataset, in its own database (dropped afterwards)."""
    url = checks.plans_url(codeflow_database_url)
    try:
        yield asyncio.run(checks.on_dataset(url))
    finally:
        asyncio.run(migrate.drop_database(url))


def copy_queries(tmp_path: Path, file: str, old: str, new: str, *more: tuple[str, str]) -> Path:
    """queries/ copied to tmp_path with `old` replaced by `new` in `file` (and each
    further (old, new) pair of `more`)."""
    target = tmp_path / "queries"
    shutil.copytree(QUERIES_DIR, target)
    text = (target / file).read_text()
    for before, after in ((old, new), *more):
        assert before in text, "the test's edit must apply"
        text = text.replace(before, after, 1)
    (target / file).write_text(text)
    return target


async def check_failure(url: str, directory: Path) -> str:
    """The message verification fails with on the queries in `directory`."""
    with pytest.raises(checks.CheckFailed) as failed:
        await checks.verify_queries(url, directory=directory)
    return str(failed.value)


async def problems_of(url: str, directory: Path, query: str, **results: object) -> list[str]:
    declared = checks.declared_results() | results
    _, problems = await checks.verify_queries(url, directory=directory, results=declared)
    return [problem for problem in problems if f": {query}: " in problem]


async def test_the_real_queries_pass(codeflow_database_url: str) -> None:
    described, problems = await checks.verify_queries(codeflow_database_url)
    assert problems == []
    assert {item.query.name for item in described} == set(checks.load_or_fail())


async def test_renamed_column_fails_naming_query_and_file(codeflow_database_url: str, tmp_path: Path) -> None:
    message = await check_failure(
        codeflow_database_url,
        copy_queries(tmp_path, "user_profiles.sql", "username, last_active_at", "usernme, last_active_at"),
    )
    assert "user_profiles.sql:" in message
    assert ": create_user_profile: does not prepare:" in message
    assert 'column "usernme"' in message


async def test_wrong_parameter_fails_naming_query_and_file(
    codeflow_database_url: str, tmp_path: Path
) -> None:
    message = await check_failure(
        codeflow_database_url,
        copy_queries(
            tmp_path, "user_profiles.sql", "WHERE github_id = :github_id", "WHERE github_id = :gh_id"
        ),
    )
    assert "user_profiles.sql:" in message
    assert "get_user_profile_by_github_id" in message
    assert "gh_id" in message


class ProfileWithLogin(Row):
    """UserProfile with `username` misnamed `login`."""

    id: str
    user_id: str
    github_id: int
    login: str
    last_active_at: AwareDatetime
    created_at: AwareDatetime
    updated_at: AwareDatetime


async def test_wrong_model_field_fails_naming_query_and_file(codeflow_database_url: str) -> None:
    problems = await problems_of(
        codeflow_database_url, QUERIES_DIR, "get_user_profile", get_user_profile=ProfileWithLogin
    )
    assert len(problems) == 3, problems
    assert all("user_profiles.sql:" in problem for problem in problems)
    assert any("ProfileWithLogin.login has no column in the result" in problem for problem in problems)
    assert any("column username has no field in ProfileWithLogin" in problem for problem in problems)
    assert any("ProfileWithLogin.id is str but column id is uuid" in problem for problem in problems)


class NamedRepository(TypedDict):
    username: str
    name: str


OUTER_JOIN = """
-- name: list_profile_repository_names()
-- Returns every login with the names of its repositories (NULL for none).
-- @returns tests.test_query_checks.NamedRepository
SELECT p.username, r.name
FROM user_profiles AS p
LEFT JOIN repositories AS r ON r.user_id = p.id;
"""


async def test_outer_join_side_is_nullable(codeflow_database_url: str, tmp_path: Path) -> None:
    directory = copy_queries(tmp_path, "health.sql", "ORDER BY version;", "ORDER BY version;\n" + OUTER_JOIN)
    problems = await problems_of(
        codeflow_database_url,
        directory,
        "list_profile_repository_names",
        list_profile_repository_names=NamedRepository,
    )
    assert len(problems) == 1, problems
    assert problems[0].endswith("NamedRepository.name is str but column name can be NULL")


@pytest.mark.parametrize(
    ("sql", "expected"),
    [
        (
            "-- name: get_profile_count()<!\n-- Returns a count.\n-- @returns int\n"
            "SELECT count(*) FROM user_profiles;",
            "does not write",
        ),
        (
            "-- name: update_profiles_now()!\n-- Returns the status.\n"
            "UPDATE user_profiles SET last_active_at = now() RETURNING id;",
            "returns columns",
        ),
        (
            "-- name: get_profile_id()^\n-- Returns nothing.\n-- @returns int\nDELETE FROM user_profiles;",
            "returns no columns",
        ),
    ],
)
async def test_operator_must_suit_the_statement(
    codeflow_database_url: str, tmp_path: Path, sql: str, expected: str
) -> None:
    directory = copy_queries(tmp_path, "health.sql", "ORDER BY version;", "ORDER BY version;\n\n" + sql)
    name = sql.split("name: ")[1].split("(", maxsplit=1)[0]
    problems = await problems_of(codeflow_database_url, directory, name, **{name: NamedRepository})
    assert any(expected in problem for problem in problems), problems


async def test_missing_declaration_names_the_query(codeflow_database_url: str) -> None:
    missing = ": get_repository: has no result declaration"
    declared = checks.declared_results()
    _, problems = await checks.verify_queries(codeflow_database_url, results=declared)
    assert not [problem for problem in problems if missing in problem]
    del declared["get_repository"]
    _, problems = await checks.verify_queries(codeflow_database_url, results=declared)
    source = QUERIES_DIR / "repositories.sql"
    line = source.read_text().splitlines().index("-- name: get_repository(user_id, repository_id)^") + 1
    assert [problem for problem in problems if missing in problem] == [
        f"{source}:{line}{missing}: add `-- @returns <model>` to its header "
        "(a pydantic model or TypedDict for rows, a Python type for `$`)"
    ]


def test_the_real_queries_pass_on_the_plan_dataset(dataset: checks.OnDataset) -> None:
    assert dataset.sizes["pull_requests"] >= checks.LARGE_TABLE_ROWS
    assert dataset.problems() == []
    assert {name for name, plans in dataset.measured.items() if len(plans) > 1}, "custom plans were read"


async def test_the_plan_guard_finds_a_sequential_scan(
    dataset: checks.OnDataset, codeflow_database_url: str
) -> None:
    sizes = dataset.sizes
    scan = Query(
        name="get_repository_by_lower_name",
        operation=Returns.ROW,
        sql="SELECT id FROM repositories WHERE lower(name::text) = $1",
        params=("name",),
        doc="Returns one repository by its name in lower case.",
        source="scan.sql:1",
    )
    conn = await asyncpg.connect(checks.plans_url(codeflow_database_url))
    try:
        described = await checks.describe(conn, {scan.name: scan})
    finally:
        await conn.close()
    problems = checks.plan_problems(described, sizes)
    assert problems == [
        f"scan.sql:1: get_repository_by_lower_name: reads all of repositories ({sizes['repositories']} rows) "
        "with a Seq Scan (generic plan); add an index it can use, or declare `-- @full-scan <reason>`"
    ]


@dataclass(frozen=True)
class Break:
    """One deliberate break: `old` -> `new` in queries/`file` (a copy), and/or statements
    run first on the plans database inside a transaction that is rolled back."""

    file: str = ""
    old: str = ""
    new: str = ""
    ddl: tuple[str, ...] = ()
    dataset: tuple[str, ...] = ()  # tables the dataset leaves empty
    more: tuple[tuple[str, str], ...] = ()  # further replacements in the same file

    def with_sql(self, old: str, new: str) -> Break:
        return replace(self, more=(*self.more, (old, new)))


DASHBOARD_ORDER = "    ORDER BY updated_at DESC, id DESC\n    LIMIT :page_size"
LIST_REPOSITORIES = "-- name: list_user_repositories(user_id, active_only)\n"
COUNT_PROFILES = "SELECT count(*) FROM user_profiles;"

# (break, query named in the message, the reason it gives): every class of issue 13.
BREAKS = {
    "cardinality: ^ on a list": (
        Break("repositories.sql", LIST_REPOSITORIES, LIST_REPOSITORIES.replace(")\n", ")^\n")),
        "list_user_repositories",
        "uses `^` but can return many rows",
    ),
    "cardinality: $ on a grouped count": (
        Break("user_profiles.sql", COUNT_PROFILES, "SELECT count(*) FROM user_profiles GROUP BY username;"),
        "count_user_profiles",
        "uses `$` but can return many rows",
    ),
    "cardinality: <! on a write of many rows": (
        Break(
            "auth_sessions.sql",
            "WHERE session_token = :session_token\nRETURNING",
            "WHERE session_token > :session_token\nRETURNING",
        ),
        "update_auth_session",
        "uses `<!` but can write many rows",
    ),
    "nullability: scalar subquery": (
        Break("user_profiles.sql", COUNT_PROFILES, "SELECT (SELECT count(*) FROM user_profiles);"),
        "count_user_profiles",
        "value is int but column count can be NULL",
    ),
    "nullability: CASE without ELSE": (
        Break(
            "user_profiles.sql",
            COUNT_PROFILES,
            "SELECT CASE WHEN count(*) > 0 THEN count(*) END AS count FROM user_profiles;",
        ),
        "count_user_profiles",
        "value is int but column count can be NULL",
    ),
    "nullability: aggregate over no rows": (
        Break("user_profiles.sql", COUNT_PROFILES, "SELECT sum(1) AS count FROM user_profiles;"),
        "count_user_profiles",
        "value is int but column count can be NULL",
    ),
    "nullability: NULLIF": (
        Break("user_profiles.sql", COUNT_PROFILES, "SELECT nullif(count(*), 0) AS count FROM user_profiles;"),
        "count_user_profiles",
        "value is int but column count can be NULL",
    ),
    "nullability: max()": (
        Break("user_profiles.sql", COUNT_PROFILES, "SELECT max(github_id) AS count FROM user_profiles;"),
        "count_user_profiles",
        "value is int but column count can be NULL",
    ),
    "nullability: a cast of a nullable expression": (
        Break(
            "user_profiles.sql", COUNT_PROFILES, "SELECT max(github_id)::int8 AS count FROM user_profiles;"
        ),
        "count_user_profiles",
        "value is int but column count can be NULL",
    ),
    "plan: a per-user query without its user filter reads the whole table": (
        Break(
            "auth_authenticators.sql",
            "-- name: list_auth_authenticators(user_id)\n",
            "-- name: list_auth_authenticators()\n",
        ).with_sql("WHERE user_id = :user_id\nORDER BY credential_id;", "ORDER BY credential_id;"),
        "list_auth_authenticators",
        "through index authenticators_credential_id_key, which it scans with no index condition",
    ),
    "plan: NULLS LAST sorts a heavy repository": (
        Break("pull_requests.sql", DASHBOARD_ORDER, DASHBOARD_ORDER.replace("DESC,", "DESC NULLS LAST,")),
        "list_dashboard_pull_requests",
        "rows of pull_requests to return the first rows of a LIMIT",
    ),
    "plan: the dashboard index dropped": (
        Break(ddl=("DROP INDEX pull_requests_open_dashboard_idx",)),
        "list_dashboard_pull_requests",
        "rows of pull_requests to return the first rows of a LIMIT",
    ),
    "plan: an index walk whose filter rejects most rows": (
        Break(
            "pull_requests.sql", "      AND state = 'open'\n", "      AND state = 'open' AND title = 'PR 7'\n"
        ),
        "list_dashboard_pull_requests",
        "through pull_requests_open_dashboard_idx and its filter rejects",
    ),
    "plan: an index walk with no index condition": (
        Break("auth_sessions.sql", "    WHERE expires <= now()\n", "    WHERE user_id <> 'u1'\n"),
        "delete_expired_auth_sessions",
        "walks index sessions_expires_idx of sessions with no index condition, filtering rows",
    ),
    "dataset: a table left empty": (
        Break(dataset=("authenticators",)),
        "get_auth_authenticator",
        "reads authenticators, which the plan dataset leaves empty",
    ),
    "isolation: the user filter removed": (
        Break(
            "repositories.sql", LIST_REPOSITORIES, "-- name: list_user_repositories(active_only)\n"
        ).with_sql(
            "WHERE p.user_id = :user_id AND (r.is_active OR NOT :active_only)",
            "WHERE (r.is_active OR NOT :active_only)",
        ),
        "list_user_repositories",
        "reads repositories, user_profiles for every user",
    ),
    "isolation: user_id taken but not constrained by": (
        Break("auth_authenticators.sql", "WHERE user_id = :user_id\n", "WHERE :user_id::text IS NOT NULL\n"),
        "list_auth_authenticators",
        "takes user_id but no condition constrains its rows by it",
    ),
    "isolation: a global query without its exemption": (
        Break("user_profiles.sql", "-- @all-users an operator statistic over every user\n", ""),
        "count_user_profiles",
        "reads user_profiles for every user",
    ),
}


async def problems_after(break_: Break, test_url: str, tmp_path: Path) -> list[str]:
    """Everything verify-sql reports once `break_` is applied: the checks on the test
    database, and those on the plan dataset (in a transaction rolled back afterwards,
    so the shared plans database is left as it was)."""
    directory = QUERIES_DIR
    if break_.file:
        directory = copy_queries(tmp_path, break_.file, break_.old, break_.new, *break_.more)
    _, problems = await checks.verify_queries(test_url, directory=directory)
    conn = await asyncpg.connect(checks.plans_url(test_url))
    transaction = conn.transaction()
    await transaction.start()
    try:
        for statement in break_.ddl:
            await conn.execute(statement)
        sizes = None
        if break_.dataset:
            kept = {table: rows for table, rows in checks.DATASET.items() if table not in break_.dataset}
            sizes = await checks.load_dataset(conn, kept)
        examined = await checks.examine(conn, checks.load_or_fail(directory), sizes)
        return problems + examined.problems()
    finally:
        await transaction.rollback()
        await conn.close()


@pytest.mark.parametrize("case", list(BREAKS.values()), ids=list(BREAKS))
async def test_each_break_fails_naming_the_query_and_the_reason(
    dataset: checks.OnDataset, codeflow_database_url: str, tmp_path: Path, case: tuple[Break, str, str]
) -> None:
    break_, query, reason = case
    problems = await problems_after(break_, codeflow_database_url, tmp_path)
    assert any(f": {query}: " in problem and reason in problem for problem in problems), problems


async def test_the_dataset_is_skewed(
    dataset: checks.OnDataset, codeflow_database_url: str, tmp_path: Path
) -> None:
    """A few heavy repositories beside the uniform many: the NULLS LAST dashboard is
    caught by its run for a heavy user, where it sorts a whole repository's open PRs;
    the generic plan alone (estimates of an average repository) does not show it."""
    conn = await asyncpg.connect(checks.plans_url(codeflow_database_url))
    try:
        per_repository = await conn.fetchval(
            "SELECT max(n) FROM (SELECT count(*) AS n FROM pull_requests GROUP BY repository_github_id) AS c"
        )
    finally:
        await conn.close()
    assert per_repository >= checks.HEAVY_PRS
    break_ = BREAKS["plan: NULLS LAST sorts a heavy repository"][0]
    sorts = [p for p in await problems_after(break_, codeflow_database_url, tmp_path) if " sorts " in p]
    assert sorts and all("for a heavy user" in problem for problem in sorts), sorts


async def test_an_edited_migration_shows_on_a_fresh_database(
    codeflow_database_url: str, tmp_path: Path
) -> None:
    """verify-sql, types and docs rebuild their databases: an edit to a migration that
    the database had already applied reaches the checks."""
    migrations = tmp_path / "migrations"
    shutil.copytree(MIGRATIONS_DIR, migrations)
    url = checks.scratch_url(codeflow_database_url, "fresh")
    try:
        await checks.fresh_database(url, migrations_dir=migrations)
        domain = migrations / "20261128000300_domain_tables.sql"
        text = domain.read_text()
        domain.write_text(
            text.replace(
                "    username       citext      NOT NULL,\n", "    username citext NOT NULL, login text,\n", 1
            )
        )
        await migrate.migrate(url, migrations_dir=migrations)
        assert "login" not in await columns_of(url, "user_profiles"), "migrating again skips the edit"
        await checks.fresh_database(url, migrations_dir=migrations)
        assert "login" in await columns_of(url, "user_profiles")
    finally:
        await migrate.drop_database(url)


async def columns_of(url: str, table: str) -> set[str]:
    conn = await asyncpg.connect(url)
    try:
        rows = await conn.fetch(
            "SELECT attname FROM pg_attribute WHERE attrelid = $1::regclass AND attnum > 0", table
        )
    finally:
        await conn.close()
    return {row["attname"] for row in rows}


async def test_generated_types_are_current(codeflow_database_url: str) -> None:
    described, _ = await checks.verify_queries(codeflow_database_url)
    assert codegen.render_types(described) == codegen.TYPES_FILE.read_text(), (
        "codeflow/generated_queries.py is stale: run `make types`"
    )


def test_catalog_is_current(dataset: checks.OnDataset) -> None:
    fresh = codegen.render_catalog(dataset.described, dataset.schema)
    committed = codegen.DOCS_FILE.read_text() if codegen.DOCS_FILE.exists() else ""
    assert codegen.catalog_differences(committed, fresh) == [], "docs/queries.md is stale: run `make docs`"


async def test_a_dropped_index_makes_the_catalog_stale(
    dataset: checks.OnDataset, codeflow_database_url: str
) -> None:
    conn = await asyncpg.connect(checks.plans_url(codeflow_database_url))
    transaction = conn.transaction()
    await transaction.start()
    try:
        await conn.execute("DROP INDEX pull_requests_open_dashboard_idx")
        examined = await checks.examine(conn, checks.load_or_fail(), executed=False)
    finally:
        await transaction.rollback()
        await conn.close()
    fresh = codegen.render_catalog(examined.described, examined.schema)
    differences = codegen.catalog_differences(codegen.DOCS_FILE.read_text(), fresh)
    assert "list_dashboard_pull_requests: its plan changed" in differences
    assert "the header or the index list: changed" in differences
