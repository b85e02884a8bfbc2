"""Shared fixtures. The database fixtures come from codeflow.testing, the plugin
that downstream services use too; tests that take them are integration tests."""

from __future__ import annotations

import io
import logging
import traceback
from collections.abc import Awaitable, Callable, Iterator

import asyncpg
import pytest

pytest_plugins = ["codeflow.testing", "pytester"]

_DATABASE_FIXTURES = {"codeflow_database_url", "codeflow_pool", "codeflow_database", "codeflow_connection"}


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if _DATABASE_FIXTURES & set(getattr(item, "fixturenames", ())):
            item.add_marker(pytest.mark.integration)


@pytest.fixture
def make_user(codeflow_pool: asyncpg.Pool) -> Callable[..., Awaitable[str]]:
    """Insert an Auth.js user (as the front end would) and return its id."""

    async def make(user_id: str | None = None, *, email: str | None = None) -> str:
        return str(
            await codeflow_pool.fetchval(
                "INSERT INTO users (id, email)"
                " VALUES (coalesce($1, gen_random_uuid()::text), $2) RETURNING id",
                user_id,
                email,
            )
        )

    return make


def _chain(error: BaseException) -> Iterator[BaseException]:
    """`error` and every exception reachable from it: causes, contexts, groups."""
    seen: set[int] = set()
    pending = [error]
    while pending:
        exc = pending.pop()
        if id(exc) in seen:
            continue
        seen.add(id(exc))
        yield exc
        pending += [linked for linked in (exc.__cause__, exc.__context__) if linked is not None]
        if isinstance(exc, BaseExceptionGroup):
            pending += exc.exceptions


def _texts(error: BaseException) -> Iterator[str]:
    """Every text a log or a traceback could show of `error`."""
    for exc in _chain(error):
        yield str(exc)
        yield repr(exc)
        yield from (repr(arg) for arg in exc.args)
        yield from (str(note) for note in getattr(exc, "__notes__", ()))
        yield from (repr(value) for value in vars(exc).values())
    yield "".join(traceback.format_exception(error))
    # What logger.exception() writes, through a handler of its own.
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    log = logging.getLogger("tests.error_chain")
    log.propagate = False  # the record is for this check, not for pytest's captured log
    log.addHandler(handler)
    try:
        log.error("call failed", exc_info=error)
    finally:
        log.removeHandler(handler)
    yield stream.getvalue()


def assert_no_value_in_chain(error: BaseException, *values: str) -> None:
    """Fail if any of `values` shows anywhere in `error`'s chain (message, args, notes,
    attributes, __cause__, __context__, the formatted traceback, logger.exception's
    output), or if the chain holds a driver or pydantic error, which may quote values."""
    leaking = [
        f"{value!r} in {text!r}" for text in _texts(error) for value in values if value and value in text
    ]
    assert not leaking, leaking[:3]
    foreign = [
        exc
        for exc in _chain(error)
        if type(exc).__module__.split(".")[0] in {"asyncpg", "pydantic", "pydantic_core"}
    ]
    assert not foreign, f"driver/pydantic errors in the chain: {[type(exc).__name__ for exc in foreign]}"


@pytest.fixture
def no_value_in_chain() -> Callable[..., None]:
    """`assert_no_value_in_chain(error, *values)` (test modules cannot import conftest)."""
    return assert_no_value_in_chain
