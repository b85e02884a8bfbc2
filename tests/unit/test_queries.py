"""Loading named queries: every mistake aiosql would let through fails loudly here."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from codeflow.queries import QueryLoadError, Returns, load_queries


def write(directory: Path, name: str, sql: str) -> None:
    (directory / name).write_text(sql)


def test_real_queries_load_with_their_operators() -> None:
    queries = load_queries()
    assert queries["get_user_profile"].returns is Returns.ROW
    assert queries["list_user_repositories"].returns is Returns.ROWS
    assert queries["create_user_profile"].params == ("user_id", "github_id", "username")
    assert "$1" in queries["create_user_profile"].sql and ":user_id" not in queries["create_user_profile"].sql


def test_duplicate_names_across_files_fail_naming_both(tmp_path: Path) -> None:
    write(tmp_path, "a.sql", "-- name: get_thing(id)^\n-- Returns a thing.\nSELECT :id AS id;\n")
    write(tmp_path, "b.sql", "-- name: get_thing(id)^\n-- Returns another.\nSELECT :id AS id;\n")
    with pytest.raises(QueryLoadError, match=r"'get_thing' is defined twice: .*a\.sql:\d+ and .*b\.sql:\d+"):
        load_queries(tmp_path)


def test_undeclared_parameter_fails(tmp_path: Path) -> None:
    write(tmp_path, "a.sql", "-- name: get_thing(id)^\n-- Returns a thing.\nSELECT :id AS id, :other AS o;\n")
    with pytest.raises(QueryLoadError, match="get_thing"):
        load_queries(tmp_path)


def test_declared_but_unused_parameter_fails(tmp_path: Path) -> None:
    write(tmp_path, "a.sql", "-- name: get_thing(id, unused)^\n-- Returns a thing.\nSELECT :id AS id;\n")
    with pytest.raises(QueryLoadError, match=r"a\.sql.*unused.*get_thing|get_thing.*unused"):
        load_queries(tmp_path)


def test_query_without_description_fails(tmp_path: Path) -> None:
    write(tmp_path, "a.sql", "-- name: get_thing(id)^\nSELECT :id AS id;\n")
    with pytest.raises(QueryLoadError, match="needs a comment"):
        load_queries(tmp_path)


def test_parameters_map_to_placeholders_in_first_use_order(tmp_path: Path) -> None:
    write(
        tmp_path,
        "a.sql",
        "-- name: get_pair(b, a)^\n-- Returns both.\nSELECT :a AS a, :b AS b, :a AS again;\n",
    )
    query = load_queries(tmp_path)["get_pair"]
    assert query.params == ("a", "b")
    assert query.args({"b": 2, "a": 1}) == [1, 2]
    assert query.sql.count("$1") == 2


def test_no_query_changes_session_state() -> None:
    """The pool's rollback-only reset is safe only while this holds (see codeflow/pool.py)."""
    session_state = re.compile(
        r"\b(SET\s+(SESSION|LOCAL\s+)?\w+\s*(=|TO)|RESET|LISTEN|UNLISTEN|PREPARE|DECLARE|set_config"
        r"|pg_advisory_lock|pg_advisory_xact_lock|CREATE\s+TEMP)\b",
        re.IGNORECASE,
    )
    offenders = [q.name for q in load_queries().values() if session_state.search(q.sql)]
    assert offenders == []
