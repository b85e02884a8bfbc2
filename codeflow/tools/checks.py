"""Checked SQL: every named query verified against the migrated schema, typed and catalogued.

`describe` prepares each query on a migrated database (asyncpg `Connection.prepare`,
which parses it and resolves every table, column and parameter type) and reads its
generic plan with `EXPLAIN (VERBOSE)`. `check` then compares what PostgreSQL says with
what the query's header declares (`-- @returns`, `-- @nullable`, ... on `Query`):

- declared parameters are exactly the ones used (the loader enforces it, by name) and
  each parameter's PostgreSQL type has a Python type; the generated query functions
  (codeflow.tools.codegen, codeflow/generated_queries.py) give mypy those types, so a
  caller passing the wrong type or keyword fails `make lint`;
- the result columns have the declared model's field names, compatible types, and no
  nullable column is mapped to a field that does not accept None;
- the operator suits the statement: row operators return columns, `$` one column,
  `<!` and `!` write, and `!` returns none.

Nullability: a result column that is a plain column of a table (followed through
CTEs) is nullable when `pg_attribute.attnotnull` says so or when its table is on the
nullable side of an outer join in the plan (the join's inner side for LEFT, outer for
RIGHT, both for FULL). Any other result is an expression, nullable unless it provably
is not (count(), EXISTS, a literal, coalesce(..., <not null>), a few functions that
never return NULL): a scalar subquery, CASE without ELSE, NULLIF, max() or any
aggregate over no rows can all be NULL.

On the plan dataset (`on_dataset`: a database built from scratch, `DATASET` loaded, a
few heavy users beside the uniform many) `OnDataset.problems` adds, per query:
- `plan_problems`, the plan guard, on the generic plan and on the plans `measure` runs
  (EXPLAIN ANALYZE, generic and custom, for REPRESENTATIVE parameters): a Seq Scan of a
  large table, an index scan with no index condition, a filter that rejects most of
  the rows an index hands it, a Sort of a whole range under a LIMIT (`-- @full-scan
  <reason>` exempts);
- `dataset_problems`: a table the query reads that the dataset leaves empty;
- `cardinality_problems`: `^`, `$` or `<!` on a plan not proved to give at most one row;
- `isolation_problems`: a query that takes user_id and does not constrain by it, or
  reads per-user tables beyond one user's rows (`-- @all-users <reason>` exempts).
"""

from __future__ import annotations

import json
import re
import types
import typing
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from enum import Enum
from pathlib import Path
from typing import Any
from uuid import UUID

import asyncpg
from pydantic import AwareDatetime, BaseModel, NaiveDatetime

from codeflow import dburl
from codeflow.errors import CodeflowError, first_line
from codeflow.paths import MIGRATIONS_DIR
from codeflow.queries import Query, QueryLoadError, Returns, load_queries
from codeflow.tools import migrate

# How asyncpg's default codecs hand PostgreSQL types to Python (and take them back).
PYTHON_TYPES: dict[str, type] = {
    "bool": bool,
    "int2": int,
    "int4": int,
    "int8": int,
    "oid": int,
    "float4": float,
    "float8": float,
    "numeric": Decimal,
    "text": str,
    "varchar": str,
    "bpchar": str,
    "name": str,
    "citext": str,
    "json": str,
    "jsonb": str,
    "bytea": bytes,
    "uuid": UUID,
    "date": date,
    "time": time,
    "timestamp": datetime,
    "timestamptz": datetime,
    "interval": timedelta,
}
# pydantic's datetime markers are not datetime subclasses; they accept what datetime does.
_PYDANTIC_ALIASES: dict[object, type] = {AwareDatetime: datetime, NaiveDatetime: datetime}
OPERATORS = {
    Returns.ROWS: "",
    Returns.ROW: "^",
    Returns.VALUE: "$",
    Returns.WRITTEN_ROW: "<!",
    Returns.STATUS: "!",
}
_COLUMN_REF = re.compile(r"(\w+)\.(\w+)")
_NAME = re.compile(r"\w+")
LARGE_TABLE_ROWS = 10_000


@dataclass(frozen=True, slots=True)
class Param:
    name: str
    pg_type: str  # e.g. 'int8', 'text[]'


@dataclass(frozen=True, slots=True)
class Column:
    name: str
    pg_type: str
    nullable: bool  # False only when proved: a NOT NULL column, or an expression that cannot be NULL


@dataclass(frozen=True, slots=True)
class Described:
    """What PostgreSQL says about one query."""

    query: Query
    params: tuple[Param, ...]
    columns: tuple[Column, ...]
    writes: bool
    plan: Mapping[str, Any]  # the generic plan, EXPLAIN (VERBOSE, FORMAT JSON)

    @property
    def where(self) -> str:
        return f"{self.query.source}: {self.query.name}"


class CheckFailed(CodeflowError):
    """A query could not be prepared or planned; the message names the query and file."""


def declared_results(directory: Path | None = None) -> dict[str, object]:
    """What each query's `-- @returns` names, imported: a model, TypedDict or scalar type."""
    results: dict[str, object] = {}
    for query in load_or_fail(directory).values():
        if query.returns is not None:
            try:
                results[query.name] = query.result.resolve()
            except QueryLoadError as exc:
                raise CheckFailed(f"{query.source}: {query.name}: {exc}") from None
    return results


def full_scans(directory: Path | None = None) -> dict[str, str]:
    """The queries that declare `-- @full-scan`, with the reason."""
    return {query.name: query.full_scan for query in load_or_fail(directory).values() if query.full_scan}


def load_or_fail(directory: Path | None = None) -> dict[str, Query]:
    """The named queries; a malformed file (e.g. a parameter declared but not used)
    fails with the file, line and query the loader names."""
    try:
        loaded = load_queries(directory) if directory else load_queries()
    except QueryLoadError as exc:
        raise CheckFailed(str(exc)) from None
    return loaded


# --- describing ----------------------------------------------------------------------


async def describe(conn: asyncpg.Connection, queries: Mapping[str, Query]) -> list[Described]:
    """Prepare and plan every query on `conn`'s migrated database, in file order."""
    await conn.execute("SET plan_cache_mode = force_generic_plan")
    not_null = await _not_null_columns(conn)
    return [await _describe_one(conn, query, not_null) for query in _in_file_order(queries)]


def _in_file_order(queries: Mapping[str, Query]) -> list[Query]:
    def key(query: Query) -> tuple[str, int]:
        path, _, line = query.source.rpartition(":")
        return Path(path).name, int(line)

    return sorted(queries.values(), key=key)


async def _describe_one(
    conn: asyncpg.Connection, query: Query, not_null: Mapping[tuple[str, str], bool]
) -> Described:
    where = f"{query.source}: {query.name}"
    try:
        statement = await conn.prepare(query.sql)
    except asyncpg.PostgresError as exc:
        raise CheckFailed(f"{where}: does not prepare: {first_line(exc)}") from None
    params = tuple(
        Param(name, _type_name(pg_type))
        for name, pg_type in zip(query.params, statement.get_parameters(), strict=True)
    )
    plan = await explain(conn, query, verbose=True)
    top = plan["Plan"]
    writes = any(node.get("Node Type") == "ModifyTable" for node in _nodes(top))
    origins = _Origins(top, not_null)
    outputs = list(top.get("Output", []))
    columns = tuple(
        Column(
            attribute.name,
            _type_name(attribute.type),
            _nullable(outputs[index], origins, top) if index < len(outputs) else True,
        )
        for index, attribute in enumerate(statement.get_attributes())
    )
    return Described(query, params, columns, writes, plan)


async def explain(conn: asyncpg.Connection, query: Query, *, verbose: bool = False) -> dict[str, Any]:
    """The generic plan of `query` (the one a long-lived pool ends up reusing), which
    needs no sample parameter values; `conn` must have plan_cache_mode set to
    force_generic_plan. Statements are planned, never executed."""
    where = f"{query.source}: {query.name}"
    name = f"codeflow_check_{query.name}"
    try:
        await conn.execute(f"PREPARE {name} AS {query.sql}")
        try:
            nulls = ", ".join(["NULL"] * len(query.params))
            arguments = f"({nulls})" if query.params else ""
            options = "VERBOSE, FORMAT JSON" if verbose else "FORMAT JSON"
            text = await conn.fetchval(f"EXPLAIN ({options}) EXECUTE {name}{arguments}")
        finally:
            await conn.execute(f"DEALLOCATE {name}")
    except asyncpg.PostgresError as exc:
        raise CheckFailed(f"{where}: cannot be planned: {first_line(exc)}") from None
    plan: dict[str, Any] = json.loads(text)[0]
    return plan


def _type_name(pg_type: Any) -> str:
    if pg_type.kind == "array" and pg_type.name.startswith("_"):
        return f"{pg_type.name[1:]}[]"
    return str(pg_type.name)


async def _not_null_columns(conn: asyncpg.Connection) -> dict[tuple[str, str], bool]:
    rows = await conn.fetch(
        """SELECT c.relname, a.attname, a.attnotnull
           FROM pg_attribute AS a
           JOIN pg_class AS c ON c.oid = a.attrelid
           JOIN pg_namespace AS n ON n.oid = c.relnamespace
           WHERE n.nspname = 'public' AND a.attnum > 0 AND NOT a.attisdropped"""
    )
    return {(row["relname"], row["attname"]): row["attnotnull"] for row in rows}


def _nodes(node: Mapping[str, Any]) -> Iterator[Mapping[str, Any]]:
    yield node
    for child in node.get("Plans", []):
        yield from _nodes(child)


class _Origins:
    """Where each output of a plan comes from: table aliases, CTEs and outer joins."""

    def __init__(self, top: Mapping[str, Any], not_null: Mapping[tuple[str, str], bool]) -> None:
        self._not_null = not_null
        self._relations: dict[str, str] = {}
        self._ctes: dict[str, Mapping[str, Any]] = {}
        self._cte_scans: dict[str, str] = {}
        self._outer: set[str] = set()
        for node in _nodes(top):
            alias = node.get("Alias")
            if alias and "Relation Name" in node:
                self._relations[alias] = node["Relation Name"]
            if alias and "CTE Name" in node:
                self._cte_scans[alias] = node["CTE Name"]
            subplan = node.get("Subplan Name", "")
            if subplan.startswith("CTE "):
                self._ctes[subplan[4:]] = node
            nullable_sides = {"Left": {"Inner"}, "Right": {"Outer"}, "Full": {"Inner", "Outer"}}
            for child in node.get("Plans", []):
                if child.get("Parent Relationship") in nullable_sides.get(node.get("Join Type", ""), set()):
                    self._outer.update(inner["Alias"] for inner in _nodes(child) if "Alias" in inner)

    def nullable(self, output: str, depth: int = 0) -> bool | None:
        match = _COLUMN_REF.fullmatch(output)
        if match is None and _NAME.fullmatch(output) and len(self._relations) == 1:
            # EXPLAIN leaves a column unqualified when the plan reads a single table.
            match = _COLUMN_REF.fullmatch(f"{next(iter(self._relations))}.{output}")
        if match is None or depth > 8:
            return None
        alias, column = match.groups()
        if alias in self._outer:
            return True
        if alias in self._relations:
            not_null = self._not_null.get((self._relations[alias], column))
            return None if not_null is None else not not_null
        cte = self._ctes.get(self._cte_scans.get(alias, ""))
        if cte is None:
            return None
        sources = [ref for ref in cte.get("Output", []) if ref.rpartition(".")[2] == column]
        return self.nullable(sources[0], depth + 1) if len(sources) == 1 else None


def _nullable(output: str, origins: _Origins, top: Mapping[str, Any]) -> bool:
    """A result column is NULL-free only when proved: a NOT NULL column of a table on the
    inner side of every join (`_Origins`), or an expression that never yields NULL. Any
    other expression (a scalar subquery, CASE without ELSE, max(), NULLIF, an aggregate
    over no rows) counts as nullable."""
    column = origins.nullable(output)
    if column is not None:
        return column
    return not _never_null(output.strip(), _exists_params(top))


_LITERAL = re.compile(r"'(?:[^']|'')*'(?:::[\w ]+)?|-?\d+(?:\.\d+)?|true|false")
_NOT_NULL_FUNCTIONS = ("count", "pg_is_in_recovery", "pg_current_wal_lsn", "now", "current_setting", "EXISTS")


def _never_null(expression: str, exists: frozenset[str]) -> bool:
    if _LITERAL.fullmatch(expression) or expression in exists:
        return True
    while expression.startswith("(") and _closing(expression, 0) == len(expression) - 1:
        expression = expression[1:-1].strip()
    cast = re.fullmatch(r"(.*)::[\w ]+(?:\[\])?", expression, re.S)
    if cast and expression.startswith("(") and _closing(expression, 0) == len(cast.group(1)) - 1:
        return _never_null(cast.group(1), exists)  # a cast keeps NULL NULL, and only NULL
    if expression.startswith("NOT "):
        return _never_null(expression[4:].strip(), exists)
    operands = _split_top(expression, (" AND ", " OR "))
    if len(operands) > 1:
        return all(_never_null(operand, exists) for operand in operands)
    name, _, rest = expression.partition("(")
    if not rest or not re.fullmatch(r"\w+", name):
        return _LITERAL.fullmatch(expression) is not None or expression in exists
    end = _closing(expression, len(name))
    tail = expression[end + 1 :]
    if tail.startswith(" FILTER (") and _closing(tail, len(" FILTER ")) == len(tail) - 1:
        tail = ""
    if tail:
        return False
    if name in _NOT_NULL_FUNCTIONS and (name != "current_setting" or "," not in expression):
        return True
    if name == "COALESCE":
        arguments = _split_top(expression[len(name) + 1 : end], (", ",))
        return _never_null(arguments[-1].strip(), exists)
    return False


def _closing(text: str, start: int) -> int:
    """The index of the parenthesis closing the one at `start` (-1 if none)."""
    depth = 0
    quoted = False
    for index in range(start, len(text)):
        char = text[index]
        if char == "'":
            quoted = not quoted
        elif not quoted and char == "(":
            depth += 1
        elif not quoted and char == ")":
            depth -= 1
            if depth == 0:
                return index
    return -1


def _split_top(text: str, separators: tuple[str, ...]) -> list[str]:
    """`text` split at `separators` outside parentheses and quotes."""
    parts, depth, quoted, start, index = [], 0, False, 0, 0
    while index < len(text):
        char = text[index]
        if char == "'":
            quoted = not quoted
        elif not quoted and char == "(":
            depth += 1
        elif not quoted and char == ")":
            depth -= 1
        elif not quoted and depth == 0:
            separator = next((sep for sep in separators if text.startswith(sep, index)), None)
            if separator:
                parts.append(text[start:index])
                index += len(separator)
                start = index
                continue
        index += 1
    return [*parts, text[start:]]


def _exists_params(top: Mapping[str, Any]) -> frozenset[str]:
    """The $n of InitPlans that compute an EXISTS: the planner drops an EXISTS
    subquery's select list, so its plan outputs nothing (a scalar subquery outputs its
    one column), and EXISTS is true or false, never NULL."""
    params = set()
    for node in _nodes(top):
        match = re.fullmatch(r"InitPlan (\d+)(?: \(returns (\$\d+)\))?", node.get("Subplan Name", ""))
        if match and not node.get("Output"):
            # PostgreSQL 15 names its value $n; 18 names it (InitPlan n).col1
            params.add(match.group(2) or f"(InitPlan {match.group(1)}).col1")
    return frozenset(params)


# --- checking --------------------------------------------------------------------------


def check(described: Sequence[Described], results: Mapping[str, object]) -> list[str]:
    """Every mismatch between the SQL and its declarations, each naming file and query."""
    problems: list[str] = []
    for item in described:
        problems.extend(f"{item.where}: {problem}" for problem in _problems(item, results))
    return problems


def _problems(item: Described, results: Mapping[str, object]) -> Iterator[str]:
    returns = item.query.operation
    for param in item.params:
        if python_type(param.pg_type) is None:
            yield f"parameter {param.name} has PostgreSQL type {param.pg_type}, which has no Python type"
    yield from _operator_problems(item)
    if returns is Returns.STATUS:
        if item.query.name in results:
            yield "is declared a result, but `!` returns only the command status"
        return
    if item.query.name not in results:
        yield (
            "has no result declaration: add `-- @returns <model>` to its header "
            "(a pydantic model or TypedDict for rows, a Python type for `$`)"
        )
        return
    yield from _result_problems(item, results[item.query.name])


def _result_problems(item: Described, declared: object) -> Iterator[str]:
    if item.query.operation is Returns.VALUE:
        if item.columns:
            yield from _field_problems("value", declared, item.columns[0])
        return
    fields = _fields_of(declared)
    if fields is None:
        yield f"result {declared!r} is neither a pydantic model nor a TypedDict"
        return
    names = [column.name for column in item.columns]
    model = getattr(declared, "__name__", repr(declared))
    for name in sorted({name for name in names if names.count(name) > 1}):
        yield f"returns column {name} twice"
    for name in sorted(set(fields) - set(names)):
        yield f"{model}.{name} has no column in the result (columns: {', '.join(names)})"
    for column in item.columns:
        if column.name not in fields:
            yield f"column {column.name} has no field in {model}"
        else:
            yield from _field_problems(f"{model}.{column.name}", fields[column.name], column)


def _operator_problems(item: Described) -> Iterator[str]:
    returns, columns = item.query.operation, item.columns
    operator = OPERATORS[returns]
    if returns is Returns.STATUS and columns:
        yield "uses `!` but returns columns: use `<!` for a write's RETURNING row"
    elif returns is not Returns.STATUS and not columns:
        yield f"uses `{operator}` but returns no columns: a write without RETURNING uses `!`"
    if returns is Returns.VALUE and len(columns) > 1:
        yield f"uses `$` but returns {len(columns)} columns; `$` hands back only the first"
    if returns in (Returns.WRITTEN_ROW, Returns.STATUS) and not item.writes:
        yield f"uses `{operator}` but does not write: a read uses `^`, `$` or no operator"


def _field_problems(field: str, annotation: object, column: Column) -> Iterator[str]:
    accepted, optional = _accepted_types(annotation)
    produced = python_type(column.pg_type)
    if produced is None:
        yield f"column {column.name} has PostgreSQL type {column.pg_type}, which has no Python type"
    elif not any(_fits(produced, kind) for kind in accepted):
        yield (
            f"{field} is {_show(annotation)} but column {column.name} is {column.pg_type} "
            f"({_show(produced)} in Python)"
        )
    if column.nullable and not optional:
        yield f"{field} is {_show(annotation)} but column {column.name} can be NULL"


def python_type(pg_type: str) -> Any:
    """The Python type asyncpg uses for `pg_type` (an array is a list), or None."""
    if pg_type.endswith("[]"):
        element = python_type(pg_type[:-2])
        return None if element is None else list[element]  # type: ignore[valid-type]
    return PYTHON_TYPES.get(pg_type)


def _fits(produced: Any, accepted: Any) -> bool:
    if accepted is object or accepted is Any:
        return True
    if typing.get_origin(produced) is list:
        return typing.get_origin(accepted) in (list, Sequence) or accepted in (list, Sequence)
    return isinstance(accepted, type) and issubclass(produced, accepted)


def _accepted_types(annotation: object) -> tuple[list[Any], bool]:
    """The base types a field accepts, and whether it accepts None."""
    if typing.get_origin(annotation) is typing.Annotated:
        return _accepted_types(typing.get_args(annotation)[0])
    if typing.get_origin(annotation) in (typing.Union, types.UnionType):
        accepted: list[Any] = []
        optional = False
        for member in typing.get_args(annotation):
            member_types, member_optional = _accepted_types(member)
            accepted += member_types
            optional = optional or member_optional
        return accepted, optional
    if annotation is None or annotation is type(None):
        return [], True
    if typing.get_origin(annotation) is typing.Literal:
        return [type(typing.get_args(annotation)[0])], False
    if isinstance(annotation, type) and issubclass(annotation, Enum):
        return [base for base in (str, int) if issubclass(annotation, base)] or [object], False
    return [_PYDANTIC_ALIASES.get(annotation, annotation)], annotation is Any or annotation is object


def _fields_of(declared: object) -> dict[str, object] | None:
    if isinstance(declared, type) and issubclass(declared, BaseModel):
        return {name: field.annotation for name, field in declared.model_fields.items()}
    if typing.is_typeddict(declared):
        return dict(typing.get_type_hints(declared, include_extras=True))
    return None


def _show(annotation: object) -> str:
    if isinstance(annotation, type) and typing.get_origin(annotation) is None:
        return annotation.__name__
    return re.sub(r"\b(?:typing|datetime|uuid|decimal|pydantic\.[\w.]+)\.", "", str(annotation))


# --- the plan guard --------------------------------------------------------------------

# A realistic volume per table, generated in the database (generate_series) in a few
# seconds: enough rows that the planner prefers an index wherever one fits. Every table
# a query reads needs its statements here (`dataset_problems` fails on an empty one: a
# plan on an empty table proves nothing).
#
# Skew: beside the uniform PRs (two per repository), HEAVY_USERS each own one repository
# of HEAVY_PRS PRs (a third of them open). Production has repositories of 150,000 PRs; a
# fifth of that keeps the shapes that matter (reading one repository's whole range is
# 200 dashboard pages, 15,000 times the average repository) while the load stays a few
# seconds on the 2-core CI machine. The representative parameters below run every query
# for one of these users and for a typical one.
HEAVY_USERS = ("u1", "u2")  # their first repositories have GitHub ids 11 and 21
HEAVY_PRS = 30_000
DATASET: dict[str, tuple[str, ...]] = {
    "users": (
        "INSERT INTO users (id, email) SELECT 'u' || i, 'u' || i || '@example.com' "
        "FROM generate_series(1, 20000) AS i",
    ),
    "accounts": (
        "INSERT INTO accounts (user_id, type, provider, provider_account_id) "
        "SELECT 'u' || i, 'oauth', 'github', i::text FROM generate_series(1, 20000) AS i",
    ),
    "sessions": (
        "INSERT INTO sessions (session_token, user_id, expires) "
        "SELECT 's' || i, 'u' || (i % 20000 + 1), now() + i * interval '1 minute' "
        "FROM generate_series(1, 20000) AS i",
    ),
    "verification_tokens": (
        "INSERT INTO verification_tokens (identifier, token, expires) "
        "SELECT 'u' || i || '@example.com', 't' || i, now() + i * interval '1 second' "
        "FROM generate_series(1, 20000) AS i",
    ),
    "authenticators": (
        "INSERT INTO authenticators (credential_id, user_id, provider_account_id, "
        "credential_public_key, counter, credential_device_type, credential_backed_up) "
        "SELECT 'c' || i, 'u' || i, i::text, 'key', 0, 'singleDevice', false "
        "FROM generate_series(1, 20000) AS i",
    ),
    "user_profiles": (
        "INSERT INTO user_profiles (user_id, github_id, username, last_active_at) "
        "SELECT 'u' || i, i, 'user' || i, now() - i * interval '1 minute' "
        "FROM generate_series(1, 20000) AS i",
    ),
    # Two of five private, one of those last verified long ago.
    "repositories": (
        "INSERT INTO repositories (user_id, github_id, name, full_name, owner, is_active, "
        "private, access_verified_at) "
        "SELECT p.id, p.github_id * 10 + k, 'repo' || k, p.username || '/repo' || k, p.username, k <> 5, "
        "k IN (2, 3), now() - CASE WHEN k = 3 THEN interval '30 days' ELSE interval '1 hour' END "
        "FROM user_profiles AS p CROSS JOIN generate_series(1, 5) AS k",
    ),
    "pull_requests": (
        "INSERT INTO pull_requests (id, repository_github_id, number, title, author_login, "
        "state, draft, head_ref, base_ref, html_url, created_at, updated_at, closed_at, merged_at) "
        "SELECT i, (i % 50000 + 1) * 10 + 1, i / 50000 + 1, 'PR ' || i, 'user' || i % 1000, "
        "(ARRAY['open', 'closed', 'merged'])[i % 3 + 1], i % 7 = 0, 'feature-' || i, 'main', "
        "'https://github.com/o/r/pull/' || i, timestamptz '2026-01-01' + i * interval '1 minute', "
        "timestamptz '2026-01-02' + i * interval '1 minute', "
        "CASE WHEN i % 3 > 0 THEN timestamptz '2026-01-03' + i * interval '1 minute' END, "
        "CASE WHEN i % 3 = 2 THEN timestamptz '2026-01-03' + i * interval '1 minute' END "
        "FROM generate_series(1, 100000) AS i",
        # The heavy repositories (11 and 21, the first of u1 and u2; numbers above the
        # uniform ones, ids above 1,000,000).
        "INSERT INTO pull_requests (id, repository_github_id, number, title, author_login, "
        "state, draft, head_ref, base_ref, html_url, created_at, updated_at, closed_at, merged_at) "
        "SELECT 1000000 * h + j, h * 10 + 1, 1000 + j, 'PR ' || j, 'user' || j % 1000, "
        "(ARRAY['open', 'closed', 'merged'])[j % 3 + 1], j % 7 = 0, 'feature-' || j, 'main', "
        "'https://github.com/o/r/pull/' || j, timestamptz '2026-01-01' + j * interval '1 second', "
        "timestamptz '2026-01-02' + j * interval '1 second', "
        "CASE WHEN j % 3 > 0 THEN timestamptz '2026-01-03' + j * interval '1 second' END, "
        "CASE WHEN j % 3 = 2 THEN timestamptz '2026-01-03' + j * interval '1 second' END "
        f"FROM generate_series(1, {len(HEAVY_USERS)}) AS h CROSS JOIN generate_series(1, {HEAVY_PRS}) AS j",
    ),
}

# Parameter values each query also runs with (SQL literals, by parameter name; any other
# parameter is NULL): for a heavy user and for a typical one. Behind a transaction pooler
# (DB_TRANSACTION_POOLER=true) every execution is planned for its actual values, so the
# guard reads the custom plan for these values as well as the generic one, both executed
# (EXPLAIN ANALYZE, in a transaction rolled back) to count the rows each node really reads.
_COMMON_VALUES = {
    "private_access_window": "'30 days'",
    "page_size": "50",
    "batch_size": "500",
    "days": "90",
    "resolution": "'1 minute'",
    "provider": "'github'",
    "active_only": "false",
}
REPRESENTATIVE: dict[str, dict[str, str]] = {
    "a heavy user": _COMMON_VALUES
    | {
        "user_id": f"'{HEAVY_USERS[0]}'",
        "github_id": "11",
        "pull_request_id": "1000001",
        "provider_account_id": "'1'",
        "session_token": "'s1'",
        "credential_id": "'c1'",
        "email": "'u1@example.com'",
        "username": "'user1'",
    },
    "a typical user": _COMMON_VALUES
    | {
        "user_id": "'u777'",
        "github_id": "7771",
        "pull_request_id": "7770",
        "provider_account_id": "'777'",
        "session_token": "'s777'",
        "credential_id": "'c777'",
        "email": "'u777@example.com'",
        "username": "'user777'",
    },
}
# A Sort feeding a LIMIT may order this many rows (a few pages); more means the query
# reads a whole range to return its first rows.
SORTED_ROWS_LIMIT = 1_000
# An index scan's filter may reject this many rows, and ten times the rows it keeps.
FILTERED_ROWS_LIMIT = 1_000
# Nodes between a LIMIT and what it stops early: they hand rows on one by one.
_PASS_THROUGH = {"LockRows", "Subquery Scan", "Result", "Gather Merge", "Materialize", "Memoize"}
_INDEX_SCANS = {"Index Scan", "Index Only Scan"}
_CONDITIONS = (
    "Index Cond",
    "Recheck Cond",
    "Filter",
    "Join Filter",
    "Hash Cond",
    "Merge Cond",
    "One-Time Filter",
)


async def load_dataset(
    conn: asyncpg.Connection, dataset: Mapping[str, Sequence[str]] = DATASET
) -> dict[str, int]:
    """Empty the application tables, fill those of `dataset` and ANALYZE; returns the
    row estimate of every table."""
    tables = [
        row["relname"]
        for row in await conn.fetch(
            "SELECT relname FROM pg_class WHERE relnamespace = 'public'::regnamespace "
            "AND relkind = 'r' AND relname <> 'schema_migrations' ORDER BY relname"
        )
    ]
    async with conn.transaction():
        await conn.execute(f"TRUNCATE {', '.join(tables)} CASCADE")
        await conn.execute("SET LOCAL synchronous_commit = off")
        for table, statements in dataset.items():
            if table in tables:
                for statement in statements:
                    try:
                        await conn.execute(statement)
                    except asyncpg.PostgresError as exc:
                        raise CheckFailed(f"plan dataset for {table}: {first_line(exc)}") from None
    await conn.execute("ANALYZE")
    return await _sizes(conn)


@dataclass(frozen=True, slots=True)
class Schema:
    """What the plan checks need from the catalog."""

    unique_keys: Mapping[str, Sequence[tuple[str, ...]]]  # table -> the columns of each unique index
    indexes: Mapping[str, str]  # every index of the public schema -> its table
    user_tables: frozenset[str]  # users, and every table with a user_id column
    index_duties: Mapping[str, str]  # index -> the constraint it serves


async def read_schema(conn: asyncpg.Connection) -> Schema:
    rows = await conn.fetch(
        """SELECT i.relname AS index, t.relname AS table, x.indisunique AS is_unique,
                  array(SELECT a.attname FROM unnest(x.indkey) WITH ORDINALITY AS k (attnum, n)
                        JOIN pg_attribute AS a ON a.attrelid = t.oid AND a.attnum = k.attnum
                        ORDER BY k.n)::text[] AS columns,
                  x.indexprs IS NULL AND x.indpred IS NULL AS plain,
                  (SELECT c.conname FROM pg_constraint AS c WHERE c.conindid = x.indexrelid
                   AND c.contype IN ('p', 'u', 'x') ORDER BY c.conname LIMIT 1) AS backs
           FROM pg_index AS x
           JOIN pg_class AS i ON i.oid = x.indexrelid
           JOIN pg_class AS t ON t.oid = x.indrelid
           WHERE t.relnamespace = 'public'::regnamespace"""
    )
    foreign_keys = await conn.fetch(
        """SELECT c.conname, t.relname AS table,
                  array(SELECT a.attname FROM unnest(c.conkey) AS k (attnum)
                        JOIN pg_attribute AS a ON a.attrelid = c.conrelid AND a.attnum = k.attnum)::text[]
                      AS columns
           FROM pg_constraint AS c JOIN pg_class AS t ON t.oid = c.conrelid
           WHERE c.contype = 'f' AND c.connamespace = 'public'::regnamespace"""
    )
    duties = {row["index"]: f"backs constraint {row['backs']}" for row in rows if row["backs"]}
    for row in rows:
        for key in foreign_keys:
            width = len(key["columns"])
            if key["table"] == row["table"] and set(row["columns"][:width]) == set(key["columns"]):
                duties.setdefault(row["index"], f"indexes foreign key {key['conname']}")
    users = await conn.fetch(
        "SELECT c.relname FROM pg_attribute AS a JOIN pg_class AS c ON c.oid = a.attrelid "
        "WHERE c.relnamespace = 'public'::regnamespace AND c.relkind = 'r' AND a.attname = 'user_id' "
        "AND NOT a.attisdropped"
    )
    return Schema(
        unique_keys={
            table: [
                tuple(row["columns"])
                for row in rows
                if row["table"] == table and row["is_unique"] and row["plain"]
            ]
            for table in {row["table"] for row in rows}
        },
        indexes={row["index"]: row["table"] for row in rows},
        user_tables=frozenset({"users"} | {row["relname"] for row in users}),
        index_duties=duties,
    )


def _walk(
    node: Mapping[str, Any], parents: tuple[Mapping[str, Any], ...] = ()
) -> Iterator[tuple[Mapping[str, Any], tuple[Mapping[str, Any], ...]]]:
    yield node, parents
    for child in node.get("Plans", []):
        yield from _walk(child, (*parents, node))


def _under_limit(parents: Sequence[Mapping[str, Any]]) -> bool:
    for parent in reversed(parents):
        if parent.get("Node Type") not in _PASS_THROUGH:
            return bool(parent.get("Node Type") == "Limit")
    return False


def _conditions(node: Mapping[str, Any]) -> str:
    return " ".join(str(node[key]) for key in _CONDITIONS if key in node)


def _equates(condition: str, alias: str, column: str) -> bool:
    """Whether `condition` holds `alias.column = <something>` (not `= ANY (...)`)."""
    name = rf"(?:{re.escape(alias)}\.)?{re.escape(column)}"
    pattern = rf"(?<![\w.]){name} = (?!ANY\b)|(?<![<>!]) = {name}\)"
    return re.search(pattern, condition) is not None


def _unique_lookup(node: Mapping[str, Any], schema: Schema) -> bool:
    """A scan that reads at most one row: its conditions equate every column of one of
    its table's unique keys."""
    condition = " ".join(_conditions(n) for n in _nodes(node))
    keys = schema.unique_keys.get(node.get("Relation Name", ""), ())
    alias = str(node.get("Alias", ""))
    return any(all(_equates(condition, alias, column) for column in key) for key in keys)


def _scan_problems(
    node: Mapping[str, Any], parents: Sequence[Mapping[str, Any]], sizes: Mapping[str, int]
) -> Iterator[str]:
    kind = node.get("Node Type", "")
    table = node.get("Relation Name", "")
    index = node.get("Index Name", "")
    if sizes.get(table, 0) < LARGE_TABLE_ROWS:
        return
    if kind == "Seq Scan":
        yield f"reads all of {table} ({sizes[table]} rows) with a Seq Scan"
    elif kind in _INDEX_SCANS and "Index Cond" not in node:
        if not _under_limit(parents):
            yield (
                f"reads all of {table} ({sizes[table]} rows) through index {index}, "
                "which it scans with no index condition"
            )
        elif "Filter" in node:
            yield (
                f"walks index {index} of {table} with no index condition, "
                "filtering rows until its LIMIT is filled"
            )
    loops = float(node.get("Actual Loops", 1))  # EXPLAIN ANALYZE gives rows per loop
    removed = float(node.get("Rows Removed by Filter", 0)) * loops
    kept = float(node.get("Actual Rows", 0)) * loops
    if kind != "Seq Scan" and removed >= FILTERED_ROWS_LIMIT and removed > 10 * kept:
        yield (
            f"reads {table} through {index or kind} and its filter rejects {removed:.0f} rows "
            f"for the {kept:.0f} it keeps: the index does not hold the condition"
        )


def _plan_problems(top: Mapping[str, Any], sizes: Mapping[str, int]) -> Iterator[str]:
    for node, parents in _walk(top):
        yield from _scan_problems(node, parents, sizes)
        sorted_rows = sum(  # the rows a Sort takes in; it hands on only what the LIMIT asks
            float(child.get("Actual Rows", 0)) * float(child.get("Actual Loops", 1))
            for child in node.get("Plans", [])
        )
        if node.get("Node Type") == "Sort" and _under_limit(parents) and sorted_rows >= SORTED_ROWS_LIMIT:
            tables = sorted({str(n["Relation Name"]) for n in _nodes(node) if "Relation Name" in n})
            yield (
                f"sorts {sorted_rows:.0f} rows of {', '.join(tables) or 'its input'} to return the first "
                "rows of a LIMIT: no index gives the ORDER BY (its columns, directions and NULLS "
                "placement), so it reads the whole range"
            )


def plan_problems(
    described: Sequence[Described],
    sizes: Mapping[str, int],
    measured: Mapping[str, Sequence[tuple[str, Mapping[str, Any]]]] = {},
) -> list[str]:
    """The plan guard: per query (but those declaring `@full-scan`), in its generic plan
    and in the plans `measure` executed: a Seq Scan of a large table, an index scan with
    no index condition (a whole table through an index, or an index walk that filters),
    a filter that rejects most of the rows an index hands it, a Sort of many rows under
    a LIMIT (the index does not give the order)."""
    problems: list[str] = []
    for item in described:
        if item.query.full_scan:
            continue
        plans = [("generic plan", item.plan), *measured.get(item.query.name, ())]
        seen: set[str] = set()
        for label, plan in plans:
            for problem in _plan_problems(plan["Plan"], sizes):
                kind = re.sub(r"\d+", "N", problem)  # the same problem in several plans: once
                if kind not in seen:
                    seen.add(kind)
                    problems.append(
                        f"{item.where}: {problem} ({label}); add an index it can use, "
                        "or declare `-- @full-scan <reason>`"
                    )
    return problems


def dataset_problems(described: Sequence[Described], sizes: Mapping[str, int]) -> list[str]:
    """Every table a query reads must have rows in the plan dataset."""
    problems = []
    for item in described:
        tables = sorted({n["Relation Name"] for n in _nodes(item.plan["Plan"]) if "Relation Name" in n})
        problems += [
            f"{item.where}: reads {table}, which the plan dataset leaves empty: give it rows in "
            "checks.DATASET (a plan on an empty table proves nothing)"
            for table in tables
            if sizes.get(table, 0) <= 0
        ]
    return problems


# Nodes that give at most one row when every input does.
_ROW_PRESERVING = {
    "Nested Loop",
    "Hash Join",
    "Merge Join",
    "Hash",
    "Sort",
    "Incremental Sort",
    "Unique",
    "ModifyTable",
    "Aggregate",
    "Limit",
}


def _one_row(
    node: Mapping[str, Any], item: Described, schema: Schema, ctes: Mapping[str, Mapping[str, Any]]
) -> bool:
    """Whether the plan under `node` is proved to give at most one row."""
    kind = node.get("Node Type", "")
    children = [
        c for c in node.get("Plans", []) if c.get("Parent Relationship") not in ("InitPlan", "SubPlan")
    ]
    if kind == "Result" and not children:
        return True
    if kind == "Aggregate":
        if node.get("Strategy") == "Plain":
            return True
        unique = {n.get("Alias") for n, _ in _walk(node) if _unique_lookup(n, schema)}
        keys = node.get("Group Key", [])
        if keys and all(key.partition(".")[0] in unique for key in keys):
            return True
    if kind == "Limit" and re.search(r"\bLIMIT\s+1\s*;?\s*$", item.query.sql, re.I):
        return True
    if kind in _INDEX_SCANS or kind == "Bitmap Heap Scan":
        return _unique_lookup(node, schema)
    if kind == "CTE Scan":
        cte = ctes.get(node.get("CTE Name", ""))
        return cte is not None and _one_row(cte, item, schema, ctes)
    if node.get("Join Type") in ("Semi", "Anti") or node.get("Inner Unique"):
        # The planner proved each outer row meets at most one inner row.
        return _one_row(children[0], item, schema, ctes)
    if kind in _ROW_PRESERVING | _PASS_THROUGH:
        return bool(children) and all(_one_row(child, item, schema, ctes) for child in children)
    return False


def cardinality_problems(described: Sequence[Described], schema: Schema) -> list[str]:
    """`^`, `$` and `<!` hand back the first row and drop the rest: the plan must prove
    at most one (a unique key fully equated, an aggregate without GROUP BY, LIMIT 1)."""
    problems = []
    for item in described:
        if item.query.operation not in (Returns.ROW, Returns.VALUE, Returns.WRITTEN_ROW):
            continue
        top = item.plan["Plan"]
        ctes = {n["Subplan Name"][4:]: n for n in _nodes(top) if n.get("Subplan Name", "").startswith("CTE ")}
        if _one_row(top, item, schema, ctes):
            continue
        operator = OPERATORS[item.query.operation]
        if item.query.operation is Returns.WRITTEN_ROW:
            problems.append(
                f"{item.where}: uses `{operator}` but can write many rows: only the first RETURNING "
                "row is handed back, the others are written all the same; constrain it by a unique "
                "key, or use `!` or a `$` count"
            )
        else:
            problems.append(
                f"{item.where}: uses `{operator}` but can return many rows: no unique key, "
                "aggregate or LIMIT 1 proves at most one (the rest would be dropped silently); "
                "return a list, or constrain it by a unique key"
            )
    return problems


def isolation_problems(described: Sequence[Described], schema: Schema) -> list[str]:
    """Per-user isolation. A query that takes user_id must constrain by it (a condition
    `user_id = $n`, or users.id, or the row an INSERT writes); one that does not, but
    reads a per-user table, must read one user's rows only (unique lookups, and rows
    joined to them by user_id), or declare `-- @all-users <reason>`."""
    problems = []
    for item in described:
        if item.query.all_users:
            continue
        nodes = list(_nodes(item.plan["Plan"]))
        if "user_id" in item.query.params:
            if not _constrains_by_user(nodes, f"${item.query.params.index('user_id') + 1}"):
                problems.append(
                    f"{item.where}: takes user_id but no condition constrains its rows by it "
                    "(per-user isolation)"
                )
            continue
        scans = [
            node
            for node in nodes
            if node.get("Relation Name") in schema.user_tables
            and "Alias" in node
            and node.get("Node Type") != "ModifyTable"
        ]
        one_user = {node["Alias"] for node in scans if _unique_lookup(node, schema)}
        for _ in scans:  # each round adds the scans joined by user to one already known
            one_user |= {node["Alias"] for node in scans if _joined_by_user(node, one_user)}
        spanning = sorted({node["Relation Name"] for node in scans if node["Alias"] not in one_user})
        if spanning:
            problems.append(
                f"{item.where}: reads {', '.join(spanning)} for every user: it takes no user_id and "
                "no unique key limits it to one user's rows (per-user isolation); constrain it by "
                "user_id, or declare `-- @all-users <reason>` if it spans users on purpose"
            )
    return problems


def _constrains_by_user(nodes: Sequence[Mapping[str, Any]], param: str) -> bool:
    by_user = re.compile(rf"user_id = {re.escape(param)}(?!\d)|{re.escape(param)} = \S*user_id\b")
    by_id = re.compile(rf"\bid = {re.escape(param)}(?!\d)")
    return any(
        by_user.search(_conditions(node))
        or (node.get("Relation Name") == "users" and by_id.search(_conditions(node)))
        or node.get("Operation") == "Insert"
        for node in nodes
    )


def _joined_by_user(node: Mapping[str, Any], one_user: set[str]) -> bool:
    condition = _conditions(node)
    for alias in one_user:
        other = rf"{re.escape(alias)}\.(?:id|user_id)\b"
        if re.search(rf"user_id = {other}|{other} = (?:\w+\.)?user_id\b", condition):
            return True
    return False


async def measure(
    conn: asyncpg.Connection, described: Sequence[Described]
) -> dict[str, list[tuple[str, dict[str, Any]]]]:
    """Each query executed with REPRESENTATIVE parameters under its generic and its
    custom plan, EXPLAIN (ANALYZE) in a transaction that is rolled back; a statement
    that cannot run with these values (e.g. an insert of NULLs) is only planned."""
    measured: dict[str, list[tuple[str, dict[str, Any]]]] = {}
    await conn.execute("SET statement_timeout = '60s'")
    try:
        for item in described:
            query = item.query
            runs = REPRESENTATIVE.items() if query.params else [("no parameters", {})]
            name = f"codeflow_measure_{query.name}"
            await conn.execute(f"PREPARE {name} AS {query.sql}")
            try:
                for mode in ("generic", "custom"):
                    await conn.execute(f"SET plan_cache_mode = force_{mode}_plan")
                    for label, values in runs:
                        arguments = ", ".join(values.get(param, "NULL") for param in query.params)
                        execute = f"EXECUTE {name}({arguments})" if query.params else f"EXECUTE {name}"
                        plan = await _executed_plan(conn, execute, item.where)
                        measured.setdefault(query.name, []).append((f"{mode} plan for {label}", plan))
                    if not query.params:
                        break
            finally:
                await conn.execute(f"DEALLOCATE {name}")
    finally:
        await conn.execute("SET plan_cache_mode = force_generic_plan")
        await conn.execute("RESET statement_timeout")
    return measured


async def _executed_plan(conn: asyncpg.Connection, execute: str, where: str) -> dict[str, Any]:
    transaction = conn.transaction()
    await transaction.start()
    try:
        text = await conn.fetchval(f"EXPLAIN (ANALYZE, VERBOSE, FORMAT JSON) {execute}")
    except asyncpg.PostgresError:
        await transaction.rollback()
        try:
            text = await conn.fetchval(f"EXPLAIN (VERBOSE, FORMAT JSON) {execute}")
        except asyncpg.PostgresError as exc:
            raise CheckFailed(
                f"{where}: cannot be planned for its representative parameters: {first_line(exc)}"
            ) from None
    else:
        await transaction.rollback()
    plan: dict[str, Any] = json.loads(text)[0]
    return plan


def plans_url(test_url: str) -> str:
    """The scratch database for the dataset: the test database's name + '_plans', on
    the same server, so the realistic volume never meets the tests' own rows."""
    return scratch_url(test_url, "plans")


def scratch_url(test_url: str, purpose: str) -> str:
    """A scratch database beside the test database: its name + '_' + purpose."""
    parsed = dburl.parse(test_url)
    return parsed.with_database(f"{parsed.database}_{purpose}").render()


# --- entry points (codeflow-db verify-sql / types / docs) ---------------------------------


async def fresh_database(url: str, *, migrations_dir: Path = MIGRATIONS_DIR) -> str:
    """Drop `url`'s database, create it and apply every migration: checks never run on a
    database migrated earlier, where an edited migration would not show."""
    await migrate.drop_database(url)
    await migrate.ensure_database(url)
    await migrate.migrate(url, migrations_dir=migrations_dir)
    return url


async def verify_queries(
    url: str, *, directory: Path | None = None, results: Mapping[str, object] | None = None
) -> tuple[list[Described], list[str]]:
    """Describe every query on `url`'s migrated database; returns them with the problems."""
    queries = load_or_fail(directory)
    declared = declared_results(directory) if results is None else results
    conn = await asyncpg.connect(url)
    try:
        described = await describe(conn, queries)
    finally:
        await conn.close()
    return described, check(described, declared)


@dataclass(frozen=True, slots=True)
class OnDataset:
    """Every query on the plan dataset: generic plans, executed plans, table sizes."""

    described: list[Described]
    sizes: dict[str, int]
    measured: dict[str, list[tuple[str, dict[str, Any]]]]
    schema: Schema

    def problems(self) -> list[str]:
        return (
            dataset_problems(self.described, self.sizes)
            + plan_problems(self.described, self.sizes, self.measured)
            + cardinality_problems(self.described, self.schema)
            + isolation_problems(self.described, self.schema)
        )


async def on_dataset(url: str, *, executed: bool = True) -> OnDataset:
    """Build `url` (the plans database) from scratch, load DATASET and examine every
    query there; `executed` also runs each with the representative parameters."""
    await fresh_database(url)
    conn = await asyncpg.connect(url)
    try:
        sizes = await load_dataset(conn)
        return await examine(conn, load_or_fail(), sizes, executed=executed)
    finally:
        await conn.close()


async def examine(
    conn: asyncpg.Connection,
    queries: Mapping[str, Query],
    sizes: Mapping[str, int] | None = None,
    *,
    executed: bool = True,
) -> OnDataset:
    """Describe (and with `executed`, measure) `queries` on `conn`'s loaded dataset."""
    described = await describe(conn, queries)
    measured = await measure(conn, described) if executed else {}
    schema = await read_schema(conn)
    return OnDataset(described, dict(sizes) if sizes is not None else await _sizes(conn), measured, schema)


async def _sizes(conn: asyncpg.Connection) -> dict[str, int]:
    rows = await conn.fetch(
        "SELECT relname, greatest(reltuples, 0)::bigint AS estimate FROM pg_class "
        "WHERE relnamespace = 'public'::regnamespace AND relkind = 'r' ORDER BY relname"
    )
    return {row["relname"]: row["estimate"] for row in rows}
