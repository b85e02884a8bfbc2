"""Named queries: loaded once from `queries/*.sql` by aiosql, run over asyncpg.

aiosql parses the files (names, operators, declared parameters, comments) through its
public API (`aiosql.from_path` with an adapter of ours that leaves the SQL alone);
`:name` becomes `$n` here. Statements then run straight through asyncpg rather than
through aiosql's generated methods, whose per-call path costs about 25% on a point
read (see docs/benchmarks.md). `run` is the one place a statement executes: it times
it, logs its name, duration and row count (never its parameter values), turns driver
errors into the package's own and rows into the declared result.

A query's header is its whole contract. Comment lines starting with `-- @` declare:

    -- @returns <dotted.path.Model>   the model (or TypedDict) of each row; for `$` a
                                      scalar type: int, bool, str, datetime, UUID...
    -- @nullable <param>, <param>     the parameters that may be NULL (the rest may not)
    -- @full-scan <reason>            may read a whole large table (plan guard exemption)
    -- @all-users <reason>            deliberately spans users (isolation check exemption)
    -- @runs request|batch            per request (the default) or in a batch job

The other comment lines are the query's description. Every statement sent carries its
name as a leading comment (`/* codeflow:<name> */`), so pg_stat_activity,
pg_stat_statements and the server's slow-query log say which query it was.
"""

from __future__ import annotations

import importlib
import logging
import re
import time
import typing
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from decimal import Decimal
from enum import Enum
from pathlib import Path
from typing import Any, cast
from uuid import UUID

import aiosql
from aiosql.types import SQLOperationType
from pydantic import TypeAdapter, ValidationError

from codeflow.errors import (
    AlreadyExists,
    CodeflowError,
    InvalidInput,
    QueryFailed,
    ReferencedRowMissing,
    translate,
)
from codeflow.paths import QUERIES_DIR

logger = logging.getLogger("codeflow.sql")


class Returns(Enum):
    """What a query hands back, by its aiosql operator."""

    ROWS = ""  # every row
    ROW = "^"  # one row or None
    VALUE = "$"  # the first column of the first row, or None
    WRITTEN_ROW = "<!"  # a write's RETURNING row, or None
    STATUS = "!"  # a write's affected row count


_RETURNS = {
    SQLOperationType.SELECT: Returns.ROWS,
    SQLOperationType.SELECT_ONE: Returns.ROW,
    SQLOperationType.SELECT_VALUE: Returns.VALUE,
    SQLOperationType.INSERT_RETURNING: Returns.WRITTEN_ROW,
    SQLOperationType.INSERT_UPDATE_DELETE: Returns.STATUS,
}

# The types a `$` query's `@returns` may name, as asyncpg hands them back.
SCALARS: dict[str, type] = {
    cls.__name__: cls for cls in (int, bool, str, float, bytes, Decimal, UUID, date, datetime, timedelta)
}
TAGS = frozenset({"returns", "nullable", "full-scan", "all-users", "runs"})
RUNS = frozenset({"request", "batch"})


class QueryLoadError(CodeflowError):
    """A query file is malformed, or two queries share a name."""


class _AsIs:
    """The validator of a TypedDict result: an internal row's shape, for mypy and the
    checker; the code that reads the row builds (and validates) what leaves the package."""

    @staticmethod
    def validate_python(value: Any) -> Any:
        return value


_AS_IS = _AsIs()


class Result:
    """Turns asyncpg Records into the declared result: one validator call per row or
    per list (a TypedDict result stays the row as a dict). The model's module imports
    the generated query functions, which load the queries, so the model is imported on
    first use, not at load time."""

    __slots__ = ("_many", "_one", "path")

    def __init__(self, path: str | None) -> None:
        self.path = path
        # The adapters' core validators: calling them skips TypeAdapter's Python wrapper,
        # which costs a third of a one-row validation (bench/models.py).
        self._one: Any = None
        self._many: Any = None

    def resolve(self) -> Any:
        """The declared model, TypedDict or scalar type."""
        if self.path is None:
            raise QueryLoadError("the query declares no result")
        if self.path in SCALARS:
            return SCALARS[self.path]
        module, _, name = self.path.rpartition(".")
        try:
            return getattr(importlib.import_module(module), name)
        except (ImportError, AttributeError, ValueError):
            raise QueryLoadError(f"@returns {self.path}: no such importable name") from None

    def one(self, record: Any) -> Any:
        if self._one is None:
            kind = self.resolve()
            self._one = _AS_IS if typing.is_typeddict(kind) else TypeAdapter(kind).validator
        return self._validated(self._one, dict(record))

    def many(self, records: Sequence[Any]) -> list[Any]:
        """One validator call for the whole list: faster than one per row from a few
        rows on (bench/models.py)."""
        if not records:
            return []
        if self._many is None:
            kind = self.resolve()
            self._many = _AS_IS if typing.is_typeddict(kind) else TypeAdapter(cast(Any, list)[kind]).validator
        result: list[Any] = self._validated(self._many, [dict(record) for record in records])
        return result

    def _validated(self, validator: Any, value: Any) -> Any:
        try:
            return validator.validate_python(value)
        except ValidationError as exc:
            fields = sorted(
                {
                    ".".join(str(part) for part in error["loc"] if not isinstance(part, int))
                    for error in exc.errors(include_input=False, include_url=False)
                }
            )
            model = (self.path or "").rpartition(".")[2]
            error = QueryFailed(f"a stored row does not fit {model} (fields: {', '.join(fields)})")
        # Raised outside the except block: the ValidationError, which quotes the stored
        # values, stays out of the chain (__context__ included).
        raise error


@dataclass(frozen=True, slots=True)
class Query:
    """One named statement, ready for asyncpg, with its declarations."""

    name: str
    operation: Returns
    sql: str  # led by /* codeflow:<name> */, with $1..$n placeholders
    params: tuple[str, ...]  # the value for $i is params[i-1]
    doc: str
    source: str  # file:line, for messages
    returns: str | None = None  # @returns: dotted path of the model, or a scalar type's name
    nullable: frozenset[str] = frozenset()  # @nullable
    full_scan: str | None = None  # @full-scan: the reason
    all_users: str | None = None  # @all-users: the reason
    runs: str = "request"  # @runs
    declared_params: tuple[str, ...] = ()  # as the header lists them
    result: Result = field(default=None, compare=False, repr=False)  # type: ignore[assignment]

    def __post_init__(self) -> None:
        if self.result is None:
            object.__setattr__(self, "result", Result(self.returns))

    def args(self, values: Mapping[str, Any]) -> list[Any]:
        return [values[name] for name in self.params]


class _Unchanged:
    """An aiosql adapter that leaves the SQL alone: `_placeholders` numbers it. aiosql's
    own asyncpg adapter does that too, but keeps the order only in private attributes."""

    is_aio_driver = True

    def process_sql(self, query_name: str, op_type: SQLOperationType, sql: str) -> str:
        return sql


def load_queries(directory: Path = QUERIES_DIR) -> dict[str, Query]:
    """Every query in `directory`'s .sql files, by name. Fails loudly on duplicates,
    undeclared or unused parameters, a missing description, an unsupported operator or
    a malformed declaration."""
    queries: dict[str, Query] = {}
    for path in sorted(directory.rglob("*.sql")):
        try:
            loaded = aiosql.from_path(path, cast(Any, _Unchanged), attribute=None, mandatory_parameters=True)
        except Exception as exc:  # noqa: BLE001 - aiosql's parse and load errors, with file:line
            raise QueryLoadError(f"{path}: {exc}") from None
        names = set(loaded.available_queries)
        for name in sorted(names):
            function = getattr(loaded, name)
            if name.endswith("_cursor") and name.removesuffix("_cursor") in names:
                continue  # aiosql's cursor variant of a select
            source = f"{function.__code__.co_filename}:{function.__code__.co_firstlineno}"
            if name in queries:
                raise QueryLoadError(f"query {name!r} is defined twice: {queries[name].source} and {source}")
            queries[name] = _make_query(function, source)
    return queries


def _make_query(function: Any, source: str) -> Query:
    name: str = function.__name__
    where = f"{source}: {name}"
    returns = _RETURNS.get(function.operation)
    if returns is None:
        raise QueryLoadError(f"{where}: operator {function.operation.name} is not supported")
    declared = tuple(function.parameters or ())
    sql, used = _placeholders(function.sql)
    if set(used) != set(declared):
        raise QueryLoadError(f"{where}: declares parameters {list(declared)} but uses {list(used)}")
    doc, tags = _declarations(function.__doc__ or "", where)
    if not doc:
        raise QueryLoadError(f"{where}: needs a comment saying what it returns")
    nullable = frozenset(_names(tags.get("nullable", "")))
    if "nullable" in tags and not nullable:
        raise QueryLoadError(f"{where}: @nullable names no parameter")
    if unknown := sorted(nullable - set(declared)):
        raise QueryLoadError(f"{where}: @nullable names {', '.join(unknown)}, not a parameter of the query")
    result = tags.get("returns")
    if result is None and returns is not Returns.STATUS:
        raise QueryLoadError(f"{where}: needs `-- @returns <model or scalar type>`")
    if result is not None and returns is Returns.STATUS:
        raise QueryLoadError(f"{where}: declares @returns, but `!` returns only the affected row count")
    if returns is Returns.VALUE and result is not None and result not in SCALARS:
        raise QueryLoadError(f"{where}: @returns {result}: a `$` query returns one of {', '.join(SCALARS)}")
    runs = tags.get("runs", "request")
    if runs not in RUNS:
        raise QueryLoadError(f"{where}: @runs {runs}: say request or batch")
    for tag in ("full-scan", "all-users"):
        if tag in tags and not tags[tag]:
            raise QueryLoadError(f"{where}: @{tag} needs its reason")
    return Query(
        name=name,
        operation=returns,
        sql=f"/* codeflow:{name} */ {sql}",
        params=used,
        doc=doc,
        source=source,
        returns=result,
        nullable=nullable,
        full_scan=tags.get("full-scan"),
        all_users=tags.get("all-users"),
        runs=runs,
        declared_params=declared,
    )


_TAG = re.compile(r"@([\w-]+)\s*(.*)")


def _declarations(comment: str, where: str) -> tuple[str, dict[str, str]]:
    """The description and the `@tag value` declarations of a query's comment."""
    prose: list[str] = []
    tags: dict[str, str] = {}
    for line in comment.splitlines():
        if not line.startswith("@"):
            prose.append(line)
            continue
        match = _TAG.fullmatch(line.strip())
        tag = match[1] if match else line
        if match is None or tag not in TAGS:
            raise QueryLoadError(f"{where}: unknown declaration {tag!r}; known: @{', @'.join(sorted(TAGS))}")
        if tag in tags:
            raise QueryLoadError(f"{where}: @{tag} is declared twice")
        tags[tag] = match[2].strip()
    return "\n".join(prose).strip(), tags


def _names(text: str) -> list[str]:
    return [name.strip() for name in text.split(",") if name.strip()]


# A string, a quoted identifier, a comment or a cast is skipped; `:name` is a parameter.
_TOKENS = re.compile(
    r"'(?:[^']|'')*'|\"(?:[^\"]|\"\")*\"|--[^\n]*|/\*.*?\*/|::|(?<![\w:]):([A-Za-z_]\w*)", re.S
)


def _placeholders(sql: str) -> tuple[str, tuple[str, ...]]:
    """`sql` with each `:name` replaced by `$n`, n by first use, and the names in that order."""
    order: dict[str, int] = {}

    def number(match: re.Match[str]) -> str:
        name = match[1]
        if name is None:
            return match[0]
        return f"${order.setdefault(name, len(order) + 1)}"

    return _TOKENS.sub(number, sql), tuple(order)


async def run(conn: Any, query: Query, args: Iterable[Any], *, slow_ms: float) -> Any:
    """Run `query` on `conn` (an asyncpg connection or pool) with positional `args`.

    Returns what the operator and `@returns` promise: a list of the declared result,
    one of it or None, a scalar (or None), or for `!` the affected row count. Any
    driver error leaves as a `CodeflowError`.
    """
    start = time.perf_counter()
    try:
        operation = query.operation
        if operation is Returns.ROWS:
            result: Any = await conn.fetch(query.sql, *args)
            rows = len(result)
        elif operation is Returns.VALUE:
            result = await conn.fetchval(query.sql, *args)
            rows = 1
        elif operation is Returns.STATUS:
            result = _affected(await conn.execute(query.sql, *args))
            rows = result
        else:
            result = await conn.fetchrow(query.sql, *args)
            rows = 0 if result is None else 1
    except Exception as exc:  # noqa: BLE001 - every driver error is translated and re-raised
        error = translate(exc, query=query.name)
    else:
        elapsed_ms = (time.perf_counter() - start) * 1000.0
        if elapsed_ms >= slow_ms:
            logger.warning("slow query %s: %.1f ms, %d rows", query.name, elapsed_ms, rows)
        elif logger.isEnabledFor(logging.DEBUG):
            logger.debug("query %s: %.2f ms, %d rows", query.name, elapsed_ms, rows)
        if operation is Returns.ROWS:
            return query.result.many(result)
        if operation is Returns.VALUE or operation is Returns.STATUS or result is None:
            return result
        return query.result.one(result)
    _log_failure(query.name, (time.perf_counter() - start) * 1000.0, error)
    # Raised outside the except block: the driver's error, whose DETAIL quotes row
    # values, is neither the __cause__ nor the __context__ of the error callers log.
    raise error


def _log_failure(name: str, elapsed_ms: float, error: CodeflowError) -> None:
    """Failures the caller is expected to handle (a duplicate, a bad value) at DEBUG;
    timeouts, lost connections and broken queries at WARNING."""
    expected = isinstance(error, (AlreadyExists, ReferencedRowMissing, InvalidInput))
    logger.log(
        logging.DEBUG if expected else logging.WARNING,
        "query %s failed after %.1f ms: %s",
        name,
        elapsed_ms,
        error.__class__.__name__,
    )


def _affected(status: str) -> int:
    """Rows affected, from a command tag such as 'UPDATE 3' or 'INSERT 0 1'."""
    tail = status.rsplit(" ", 1)[-1]
    return int(tail) if tail.isdigit() else 0
