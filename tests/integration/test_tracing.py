"""DB_TRACING=true: one OpenTelemetry span per named query, and none without it (issue 12)."""

from __future__ import annotations

import sys
from collections.abc import AsyncIterator, Awaitable, Callable
from datetime import UTC, datetime, timedelta

import pytest
from opentelemetry import trace
from opentelemetry.sdk.trace import ReadableSpan, TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

from codeflow import AlreadyExists, ConfigurationError, Database, Settings, dburl

MakeUser = Callable[..., Awaitable[str]]
SECRET = "sentinel-token-7f3a"
_EXPORTER = InMemorySpanExporter()


@pytest.fixture(scope="session", autouse=True)
def _tracer_provider() -> None:
    # The global provider can be set once per process; the exporter is cleared per test.
    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(_EXPORTER))
    trace.set_tracer_provider(provider)


@pytest.fixture
def spans() -> list[ReadableSpan]:
    _EXPORTER.clear()
    return []


def finished() -> list[ReadableSpan]:
    return list(_EXPORTER.get_finished_spans())


@pytest.fixture
async def traced(codeflow_settings: Settings, codeflow_database: Database) -> AsyncIterator[Database]:
    async with Database(codeflow_settings.model_copy(update={"db_tracing": True})) as database:
        yield database


async def test_a_span_per_query_named_after_it_without_values(
    traced: Database, make_user: MakeUser, spans: list[ReadableSpan]
) -> None:
    user_id = await make_user()
    with trace.get_tracer("test").start_as_current_span("request") as request:
        await traced.auth.create_session(session_token=SECRET, user_id=user_id, expires=_in_a_day())
        await traced.auth.get_session_and_user(SECRET)
    database = dburl.parse(traced.settings.database_url.get_secret_value()).database
    names = [span.name for span in finished()]
    assert names == ["create_auth_session", "get_auth_session_and_user", "request"]
    for span in finished()[:2]:
        assert span.kind is trace.SpanKind.CLIENT
        assert span.parent is not None and span.parent.span_id == request.get_span_context().span_id
        assert span.attributes is not None
        assert span.attributes["db.system.name"] == "postgresql"
        assert span.attributes["db.operation.name"] == span.name
        assert span.attributes["db.namespace"] == database
        assert SECRET not in repr(dict(span.attributes)) + repr(span.events)


async def test_a_failed_query_marks_its_span_without_values(
    traced: Database, make_user: MakeUser, spans: list[ReadableSpan]
) -> None:
    user_id = await make_user()
    await traced.auth.create_session(session_token=SECRET, user_id=user_id, expires=_in_a_day())
    with pytest.raises(AlreadyExists):
        await traced.auth.create_session(session_token=SECRET, user_id=user_id, expires=_in_a_day())
    failed = finished()[-1]
    assert failed.status.status_code is trace.StatusCode.ERROR
    assert failed.status.description == "AlreadyExists"
    assert failed.attributes is not None and failed.attributes["db.response.status_code"] == "23505"
    assert not failed.events, "no exception event: its text is not the span's to carry"
    assert SECRET not in repr(dict(failed.attributes))


async def test_transactions_are_traced_too(traced: Database, spans: list[ReadableSpan]) -> None:
    async with traced.transaction() as tx:
        await tx.profiles.count_user_profiles()
    assert [span.name for span in finished()] == ["count_user_profiles"]


async def test_no_spans_without_the_setting(codeflow_database: Database, spans: list[ReadableSpan]) -> None:
    await codeflow_database.profiles.count_user_profiles()
    assert finished() == []


def test_tracing_without_opentelemetry_says_what_to_install(
    codeflow_settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setitem(sys.modules, "opentelemetry", None)
    with pytest.raises(ConfigurationError, match=r"codeflow-db\[otel\]"):
        Database(codeflow_settings.model_copy(update={"db_tracing": True}))


def _in_a_day() -> datetime:
    return datetime.now(UTC) + timedelta(days=1)
