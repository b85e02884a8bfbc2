"""Named queries: loaded once from `queries/*.sql` by aiosql, run over asyncpg.

aiosql parses the files (names, operators, declared parameters, `:name` to `$n`).
Statements then run straight through asyncpg rather than through aiosql's generated
methods, whose per-call path costs about 25% on a point read (see docs/benchmarks.md).
`run` is the one place a statement executes: it times it, logs its name, duration
and row count (never its parameter values) and turns driver errors into the
package's own.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from enum import Enum
from pathlib import Path
from typing import Any

import aiosql  # noqa: F401 - imported for its adapters' registration
from aiosql.adapters.asyncpg import AsyncPGAdapter
from aiosql.query_loader import QueryLoader
from aiosql.types import SQLOperationType
from aiosql.utils import SQLLoadException, SQLParseException

from codeflow.errors import (
    AlreadyExists,
    CodeflowError,
    InvalidInput,
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
    STATUS = "!"  # a write's command tag, e.g. 'UPDATE 1'


_RETURNS = {
    SQLOperationType.SELECT: Returns.ROWS,
    SQLOperationType.SELECT_ONE: Returns.ROW,
    SQLOperationType.SELECT_VALUE: Returns.VALUE,
    SQLOperationType.INSERT_RETURNING: Returns.WRITTEN_ROW,
    SQLOperationType.INSERT_UPDATE_DELETE: Returns.STATUS,
}


class QueryLoadError(CodeflowError):
    """A query file is malformed, or two queries share a name."""


@dataclass(frozen=True, slots=True)
class Query:
    """One named statement, ready for asyncpg."""

    name: str
    returns: Returns
    sql: str  # with $1..$n placeholders
    params: tuple[str, ...]  # the value for $i is params[i-1]
    doc: str
    source: str  # file:line, for messages

    def args(self, values: Mapping[str, Any]) -> list[Any]:
        return [values[name] for name in self.params]


def load_queries(directory: Path = QUERIES_DIR) -> dict[str, Query]:
    """Every query in `directory`'s .sql files, by name. Fails loudly on duplicates,
    undeclared or unused parameters, a missing description or an unsupported operator."""
    adapter = AsyncPGAdapter()  # type: ignore[no-untyped-call]
    loader = QueryLoader(adapter, None, attribute=None, mandatory_parameters=True)
    queries: dict[str, Query] = {}
    for path in sorted(directory.rglob("*.sql")):
        try:
            data = loader.load_query_data_from_file(path)
        except (SQLParseException, SQLLoadException) as exc:
            raise QueryLoadError(f"{path}: {exc}") from None
        for datum in data:
            source = f"{datum.floc[0]}:{datum.floc[1]}"
            if datum.query_name in queries:
                raise QueryLoadError(
                    f"query {datum.query_name!r} is defined twice: "
                    f"{queries[datum.query_name].source} and {source}"
                )
            queries[datum.query_name] = _make_query(datum, adapter, source)
    return queries


def _make_query(datum: Any, adapter: AsyncPGAdapter, source: str) -> Query:
    name = datum.query_name
    returns = _RETURNS.get(datum.operation_type)
    if returns is None:
        raise QueryLoadError(f"{source}: {name}: operator {datum.operation_type.name} is not supported")
    used = tuple(adapter.var_sorted[name])
    declared = tuple(datum.parameters or ())
    if set(used) != set(declared):
        raise QueryLoadError(f"{source}: {name}: declares parameters {list(declared)} but uses {list(used)}")
    doc = datum.doc_comments.strip()
    if not doc:
        raise QueryLoadError(f"{source}: {name}: needs a comment saying what it returns")
    return Query(name=name, returns=returns, sql=datum.sql, params=used, doc=doc, source=source)


async def run(conn: Any, query: Query, args: Iterable[Any], *, slow_ms: float) -> Any:
    """Run `query` on `conn` (an asyncpg connection or pool) with positional `args`.

    Returns what `query.returns` promises, as asyncpg gives it (Records, a value or
    a command tag). Any driver error leaves as a `CodeflowError`.
    """
    start = time.perf_counter()
    try:
        if query.returns is Returns.ROWS:
            result: Any = await conn.fetch(query.sql, *args)
            rows = len(result)
        elif query.returns is Returns.VALUE:
            result = await conn.fetchval(query.sql, *args)
            rows = 1
        elif query.returns is Returns.STATUS:
            result = await conn.execute(query.sql, *args)
            rows = _affected(result)
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
        return result
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
