"""Loading named queries: every mistake aiosql would let through fails loudly here."""

from __future__ import annotations

import inspect
import re
import uuid
from datetime import UTC, datetime
from pathlib import Path

import pytest

from codeflow.errors import QueryFailed
from codeflow.paths import QUERIES_DIR
from codeflow.queries import QueryLoadError, Returns, load_queries
from codeflow.store import all_queries


def write(directory: Path, name: str, sql: str) -> None:
    (directory / name).write_text(sql)


def test_real_queries_load_with_their_operators() -> None:
    queries = load_queries()
    assert queries["get_user_profile"].operation is Returns.ROW
    assert queries["list_user_repositories"].operation is Returns.ROWS
    assert queries["create_user_profile"].params == ("user_id", "github_id", "username")
    assert "$1" in queries["create_user_profile"].sql and ":user_id" not in queries["create_user_profile"].sql


def test_duplicate_names_across_files_fail_naming_both(tmp_path: Path) -> None:
    write(
        tmp_path,
        "a.sql",
        "-- name: get_thing(id)^\n-- Returns a thing.\n-- @returns int\nSELECT :id AS id;\n",
    )
    write(
        tmp_path,
        "b.sql",
        "-- name: get_thing(id)^\n-- Returns another.\n-- @returns int\nSELECT :id AS id;\n",
    )
    with pytest.raises(QueryLoadError, match=r"'get_thing' is defined twice: .*a\.sql:\d+ and .*b\.sql:\d+"):
        load_queries(tmp_path)


def test_undeclared_parameter_fails(tmp_path: Path) -> None:
    write(
        tmp_path,
        "a.sql",
        "-- name: get_thing(id)^\n-- Returns a thing.\n-- @returns int\nSELECT :id AS id, :other AS o;\n",
    )
    with pytest.raises(QueryLoadError, match="get_thing"):
        load_queries(tmp_path)


def test_declared_but_unused_parameter_fails(tmp_path: Path) -> None:
    write(
        tmp_path,
        "a.sql",
        "-- name: get_thing(id, unused)^\n-- Returns a thing.\n-- @returns int\nSELECT :id AS id;\n",
    )
    with pytest.raises(QueryLoadError, match=r"a\.sql.*unused.*get_thing|get_thing.*unused"):
        load_queries(tmp_path)


def test_query_without_description_fails(tmp_path: Path) -> None:
    write(tmp_path, "a.sql", "-- name: get_thing(id)^\n-- @returns int\nSELECT :id AS id;\n")
    with pytest.raises(QueryLoadError, match="needs a comment"):
        load_queries(tmp_path)


def test_parameters_map_to_placeholders_in_first_use_order(tmp_path: Path) -> None:
    write(
        tmp_path,
        "a.sql",
        "-- name: get_pair(b, a)^\n-- Returns both.\n-- @returns int\n"
        "SELECT :a AS a, :b AS b, :a AS again;\n",
    )
    query = load_queries(tmp_path)["get_pair"]
    assert query.params == ("a", "b")
    assert query.args({"b": 2, "a": 1}) == [1, 2]
    assert query.sql.count("$1") == 2
    assert query.sql.startswith("/* codeflow:get_pair */ SELECT $1 AS a, $2 AS b")


def test_no_query_changes_session_state() -> None:
    """The pool's rollback-only reset is safe only while this holds (see codeflow/pool.py)."""
    session_state = re.compile(
        r"\b(SET\s+(SESSION|LOCAL\s+)?\w+\s*(=|TO)|RESET|LISTEN|UNLISTEN|PREPARE|DECLARE|set_config"
        r"|pg_advisory_lock|pg_advisory_xact_lock|CREATE\s+TEMP)\b",
        re.IGNORECASE,
    )
    offenders = [q.name for q in load_queries().values() if session_state.search(q.sql)]
    assert offenders == []


HEADER = "-- name: get_thing(id, other)^\n-- Returns a thing.\n"
BODY = "SELECT :id AS id, :other AS other;\n"


def test_declarations_are_read_from_the_header_and_kept_out_of_the_docstring(tmp_path: Path) -> None:
    declarations = (
        "-- @returns codeflow.profiles.UserProfile\n-- @nullable other\n"
        "-- @full-scan reads them all, nightly\n-- @all-users a statistic\n-- @runs batch\n"
    )
    write(tmp_path, "a.sql", HEADER + declarations + BODY)
    query = load_queries(tmp_path)["get_thing"]
    assert query.doc == "Returns a thing."
    assert query.returns == "codeflow.profiles.UserProfile"
    assert query.nullable == frozenset({"other"})
    assert (query.full_scan, query.all_users, query.runs) == (
        "reads them all, nightly",
        "a statistic",
        "batch",
    )


def test_defaults_when_nothing_but_the_result_is_declared(tmp_path: Path) -> None:
    write(tmp_path, "a.sql", HEADER + "-- @returns codeflow.profiles.UserProfile\n" + BODY)
    query = load_queries(tmp_path)["get_thing"]
    assert (query.nullable, query.full_scan, query.all_users, query.runs) == (
        frozenset(),
        None,
        None,
        "request",
    )


@pytest.mark.parametrize(
    ("declarations", "message"),
    [
        ("-- @returns int\n-- @cached forever\n", "unknown declaration 'cached'"),
        ("-- @returns int\n-- @returns str\n", "@returns is declared twice"),
        ("-- @returns int\n-- @nullable other, missing\n", "@nullable names missing, not a parameter"),
        ("-- @nullable other\n", "needs `-- @returns"),
        ("-- @returns int\n-- @runs sometimes\n", "@runs sometimes"),
        ("-- @returns int\n-- @full-scan\n", "@full-scan needs its reason"),
    ],
)
def test_a_malformed_declaration_fails_naming_file_and_line(
    tmp_path: Path, declarations: str, message: str
) -> None:
    write(tmp_path, "a.sql", "\n" + HEADER + declarations + BODY)
    with pytest.raises(QueryLoadError, match=rf"a\.sql:2: get_thing: .*{re.escape(message)}"):
        load_queries(tmp_path)


def test_a_status_query_needs_no_result_and_may_not_declare_one(tmp_path: Path) -> None:
    write(tmp_path, "a.sql", "-- name: touch_things(id)!\n-- Touches.\nUPDATE t SET x = 1 WHERE id = :id;\n")
    assert load_queries(tmp_path)["touch_things"].returns is None
    write(
        tmp_path,
        "a.sql",
        "-- name: touch_things(id)!\n-- Touches.\n-- @returns int\nUPDATE t SET x = 1 WHERE id = :id;\n",
    )
    with pytest.raises(QueryLoadError, match="`!` returns only the affected row count"):
        load_queries(tmp_path)


def test_placeholders_skip_casts_and_strings(tmp_path: Path) -> None:
    write(
        tmp_path,
        "a.sql",
        "-- name: get_thing(id)$\n-- Returns a thing.\n-- @returns str\n"
        "SELECT :id::text || ':not_a_param' AS id;\n",
    )
    query = load_queries(tmp_path)["get_thing"]
    assert query.params == ("id",)
    assert "$1::text || ':not_a_param' AS id" in query.sql


def test_every_real_query_carries_its_name_as_a_leading_comment() -> None:
    queries = load_queries()
    assert all(query.sql.startswith(f"/* codeflow:{name} */ ") for name, query in queries.items())


def test_each_generated_function_names_the_line_of_its_query() -> None:
    """Go-to-definition lands on the generated function; its docstring leads to the SQL."""
    from codeflow import generated_queries  # noqa: PLC0415 - the module under test

    queries = load_queries()
    for name in queries:
        function = getattr(generated_queries, name)
        doc = inspect.getdoc(function) or ""
        file, _, line = doc.splitlines()[-1].rpartition(":")
        assert file.startswith("queries/"), name
        header = (QUERIES_DIR / file.removeprefix("queries/")).read_text().splitlines()[int(line) - 1]
        assert header.startswith(f"-- name: {name}("), (name, header)
        assert doc.startswith(queries[name].doc.splitlines()[0])


def test_rows_that_do_not_fit_fail_naming_fields_not_values_nor_positions() -> None:
    result = load_queries()["list_user_repositories"].result
    good = {
        "id": uuid.uuid4(),
        "user_id": "u",
        "github_id": 1,
        "name": "hello",
        "full_name": "octocat/hello",
        "owner": "octocat",
        "is_active": True,
        "private": False,
        "access_verified_at": None,
        "created_at": datetime.now(UTC),
        "updated_at": datetime.now(UTC),
    }
    assert [repository.name for repository in result.many([good, good])] == ["hello", "hello"]
    with pytest.raises(QueryFailed) as caught:
        result.many([good, {**good, "owner": None, "github_id": "secret-value"}])
    assert str(caught.value) == "a stored row does not fit Repository (fields: github_id, owner)"
    assert caught.value.__context__ is None and caught.value.__cause__ is None


def test_both_upserts_and_the_batch_order_rank_pr_states_alike() -> None:
    """Which of two states of one PR is newer is written three times in
    queries/pull_requests.sql (each upsert's WHERE, the batch's DISTINCT ON order): if
    they ranked differently, concurrent single and batched deliveries could settle on
    different states."""
    single = all_queries()["upsert_pull_request"].sql
    batch = all_queries()["upsert_pull_requests"].sql
    ranks = []
    for text in (single, batch):
        where = text[text.index("WHERE (excluded.") : text.index("RETURNING", text.index("WHERE (excluded."))]
        incoming, cached = where.split(">", 1)
        ranks.append(re.findall(r"excluded\.(\w+)", incoming))
        ranks.append(re.findall(r"pr\.(\w+)", cached))
    start = batch.index("ORDER BY repository_github_id ASC, number ASC,")
    order = batch[start : batch.index("), written AS", start)]
    ranks.append(re.findall(r"(?:coalesce\()?(\w+)(?:, '-infinity'\))? DESC", order))
    assert all(rank == ranks[0] for rank in ranks), ranks
    assert ranks[0][:2] == ["updated_at", "id"]
