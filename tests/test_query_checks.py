"""Checked SQL (codeflow.tools.checks) on the migrated test database: the real queries pass,
deliberately broken ones fail naming query and file, the plan guard finds sequential
scans, and the generated types and catalog are current."""

from __future__ import annotations

import asyncio
import shutil
from pathlib import Path
from typing import TypedDict

import asyncpg
import pytest
from pydantic import AwareDatetime

from codeflow.models import Row
from codeflow.paths import QUERIES_DIR
from codeflow.queries import Query, Returns
from codeflow.tools import checks, codegen

Dataset = tuple[list[checks.Described], dict[str, int], dict[str, str]]


@pytest.fixture(scope="session")
def dataset(codeflow_database_url: str) -> Dataset:
    """Every query described on the realistic dataset (its own database)."""
    return asyncio.run(checks.on_dataset(checks.plans_url(codeflow_database_url)))


def copy_queries(tmp_path: Path, file: str, old: str, new: str) -> Path:
    """queries/ copied to tmp_path with `old` replaced by `new` in `file`."""
    target = tmp_path / "queries"
    shutil.copytree(QUERIES_DIR, target)
    text = (target / file).read_text()
    assert old in text, "the test's edit must apply"
    (target / file).write_text(text.replace(old, new, 1))
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


def test_no_per_request_query_reads_a_large_table_whole(dataset: Dataset) -> None:
    described, sizes, _ = dataset
    assert sizes["repositories"] >= checks.LARGE_TABLE_ROWS
    assert checks.seq_scans(described, sizes, checks.full_scans()) == []


async def test_the_plan_guard_finds_a_sequential_scan(dataset: Dataset, codeflow_database_url: str) -> None:
    _, sizes, _ = dataset
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
    problems = checks.seq_scans(described, sizes, {})
    assert problems == [
        f"scan.sql:1: get_repository_by_lower_name: reads all of repositories ({sizes['repositories']} rows) "
        "with a Seq Scan; add an index it can use, or declare `-- @full-scan <reason>`"
    ]


async def test_generated_types_are_current(codeflow_database_url: str) -> None:
    described, _ = await checks.verify_queries(codeflow_database_url)
    assert codegen.render_types(described) == codegen.TYPES_FILE.read_text(), (
        "codeflow/generated_queries.py is stale: run `make types`"
    )


def test_catalog_is_current(dataset: Dataset) -> None:
    described, _, plans = dataset
    fresh = codegen.render_catalog(described, plans)
    committed = codegen.DOCS_FILE.read_text() if codegen.DOCS_FILE.exists() else ""
    assert codegen.without_plans(fresh) == codegen.without_plans(committed), (
        "docs/queries.md is stale: run `make docs`"
    )
