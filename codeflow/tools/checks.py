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
RIGHT, both for FULL). Any other result (an expression, an aggregate, a subquery)
cannot be proved either way from the catalog: the model's declaration is trusted and
the catalog lists the column as `expression`.

The plan guard (`seq_scans`) reads the same generic plans on a realistic dataset
(`load_dataset`) and reports every sequential scan of a large table.
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
    nullable: bool | None  # None: an expression, not provable from the catalog


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
        return load_queries(directory) if directory else load_queries()
    except QueryLoadError as exc:
        raise CheckFailed(str(exc)) from None


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
            origins.nullable(outputs[index]) if index < len(outputs) else None,
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
            options = "VERBOSE, COSTS OFF, FORMAT JSON" if verbose else "COSTS OFF, FORMAT JSON"
            text = await conn.fetchval(f"EXPLAIN ({options}) EXECUTE {name}{arguments}")
        finally:
            await conn.execute(f"DEALLOCATE {name}")
    except asyncpg.PostgresError as exc:
        raise CheckFailed(f"{where}: cannot be planned: {first_line(exc)}") from None
    plan: dict[str, Any] = json.loads(text)[0]
    return plan


async def plan_text(conn: asyncpg.Connection, query: Query) -> str:
    """The generic plan as EXPLAIN (COSTS OFF) prints it, for the catalog."""
    name = f"codeflow_doc_{query.name}"
    await conn.execute(f"PREPARE {name} AS {query.sql}")
    try:
        nulls = ", ".join(["NULL"] * len(query.params))
        rows = await conn.fetch(f"EXPLAIN (COSTS OFF) EXECUTE {name}" + (f"({nulls})" if nulls else ""))
    finally:
        await conn.execute(f"DEALLOCATE {name}")
    return "\n".join(row[0] for row in rows)


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
# seconds: enough rows that the planner prefers an index wherever one fits. Tables not
# listed stay empty; a table another module adds gets its line here.
DATASET: dict[str, str] = {
    "users": "INSERT INTO users (id, email) SELECT 'u' || i, 'u' || i || '@example.com' "
    "FROM generate_series(1, 20000) AS i",
    "accounts": "INSERT INTO accounts (user_id, type, provider, provider_account_id) "
    "SELECT 'u' || i, 'oauth', 'github', i::text FROM generate_series(1, 20000) AS i",
    "sessions": "INSERT INTO sessions (session_token, user_id, expires) "
    "SELECT 's' || i, 'u' || (i % 20000 + 1), now() + i * interval '1 minute' "
    "FROM generate_series(1, 20000) AS i",
    "verification_tokens": "INSERT INTO verification_tokens (identifier, token, expires) "
    "SELECT 'u' || i || '@example.com', 't' || i, now() + i * interval '1 second' "
    "FROM generate_series(1, 20000) AS i",
    "authenticators": "INSERT INTO authenticators (credential_id, user_id, provider_account_id, "
    "credential_public_key, counter, credential_device_type, credential_backed_up) "
    "SELECT 'c' || i, 'u' || i, i::text, 'key', 0, 'singleDevice', false FROM generate_series(1, 20000) AS i",
    "user_profiles": "INSERT INTO user_profiles (user_id, github_id, username, last_active_at) "
    "SELECT 'u' || i, i, 'user' || i, now() - i * interval '1 minute' FROM generate_series(1, 20000) AS i",
    # Two of five private, one of those last verified long ago.
    "repositories": "INSERT INTO repositories (user_id, github_id, name, full_name, owner, is_active, "
    "private, access_verified_at) "
    "SELECT p.id, p.github_id * 10 + k, 'repo' || k, p.username || '/repo' || k, p.username, k <> 5, "
    "k IN (2, 3), now() - CASE WHEN k = 3 THEN interval '30 days' ELSE interval '1 hour' END "
    "FROM user_profiles AS p CROSS JOIN generate_series(1, 5) AS k",
    "pull_requests": "INSERT INTO pull_requests (id, repository_github_id, number, title, author_login, "
    "state, draft, head_ref, base_ref, html_url, created_at, updated_at, closed_at, merged_at) "
    "SELECT i, (i % 50000 + 1) * 10 + 1, i / 50000 + 1, 'PR ' || i, 'user' || i % 1000, "
    "(ARRAY['open', 'closed', 'merged'])[i % 3 + 1], i % 7 = 0, 'feature-' || i, 'main', "
    "'https://github.com/o/r/pull/' || i, timestamptz '2026-01-01' + i * interval '1 minute', "
    "timestamptz '2026-01-02' + i * interval '1 minute', "
    "CASE WHEN i % 3 > 0 THEN timestamptz '2026-01-03' + i * interval '1 minute' END, "
    "CASE WHEN i % 3 = 2 THEN timestamptz '2026-01-03' + i * interval '1 minute' END "
    "FROM generate_series(1, 100000) AS i",
}


async def load_dataset(conn: asyncpg.Connection) -> dict[str, int]:
    """Empty the application tables, fill those of `DATASET` and ANALYZE; returns the
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
        for table, statement in DATASET.items():
            if table in tables:
                try:
                    await conn.execute(statement)
                except asyncpg.PostgresError as exc:
                    raise CheckFailed(f"plan dataset for {table}: {first_line(exc)}") from None
    await conn.execute("ANALYZE")
    rows = await conn.fetch(
        "SELECT relname, reltuples::bigint AS estimate FROM pg_class "
        "WHERE relnamespace = 'public'::regnamespace AND relkind = 'r' ORDER BY relname"
    )
    return {row["relname"]: row["estimate"] for row in rows}


def seq_scans(
    described: Sequence[Described], sizes: Mapping[str, int], allowed: Mapping[str, str]
) -> list[str]:
    """Every sequential scan of a table of at least LARGE_TABLE_ROWS rows, by query."""
    problems = []
    for item in described:
        if item.query.name in allowed:
            continue
        for node in _nodes(item.plan["Plan"]):
            table = node.get("Relation Name", "")
            if node.get("Node Type") == "Seq Scan" and sizes.get(table, 0) >= LARGE_TABLE_ROWS:
                problems.append(
                    f"{item.where}: reads all of {table} ({sizes[table]} rows) with a Seq Scan; "
                    "add an index it can use, or declare `-- @full-scan <reason>`"
                )
    return problems


def plans_url(test_url: str) -> str:
    """The scratch database for the dataset: the test database's name + '_plans', on
    the same server, so the realistic volume never meets the tests' own rows."""
    parsed = dburl.parse(test_url)
    return parsed.with_database(f"{parsed.database}_plans").render()


# --- entry points (codeflow-db verify-sql / types / docs) ---------------------------------


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


async def on_dataset(url: str) -> tuple[list[Described], dict[str, int], dict[str, str]]:
    """Migrate `url` (the plans database), load the dataset and describe every query
    there; returns them, the table sizes and each query's plan as text."""
    await migrate.ensure_database(url)
    await migrate.migrate(url)
    queries = load_or_fail()
    conn = await asyncpg.connect(url)
    try:
        sizes = await load_dataset(conn)
        described = await describe(conn, queries)
        plans = {item.query.name: await plan_text(conn, item.query) for item in described}
    finally:
        await conn.close()
    return described, sizes, plans
