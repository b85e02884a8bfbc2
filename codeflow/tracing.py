"""Optional OpenTelemetry spans, one per named query (`DB_TRACING=true`, the `otel` extra).

A span is named after the query (`get_user_profile`), is a CLIENT span with
`db.system.name=postgresql`, `db.namespace` (the database), `db.operation.name` (the
query name again, as the semantic conventions ask for a low-cardinality name) and the
server's address, and never holds a parameter value or the statement text. A failed
statement sets the span's status to ERROR with the error's class and SQLSTATE only.
Spans go to whatever tracer provider the service configured; none is set up here.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from codeflow import dburl
from codeflow.errors import CodeflowError, ConfigurationError
from codeflow.settings import Settings

Statement = Callable[[], Awaitable[Any]]


class QueryTracer:
    """Wraps each statement of a `Runner` in a span."""

    __slots__ = ("_attributes", "_error", "_kind", "_tracer")

    def __init__(self, settings: Settings, *, server_url: str | None) -> None:
        """`server_url`: the server the statements go to, for the spans' server.address
        and db.namespace; None when that varies from call to call."""
        try:
            from opentelemetry import trace  # noqa: PLC0415 - optional: only with DB_TRACING
        except ImportError:
            raise ConfigurationError(
                "DB_TRACING=true needs OpenTelemetry: install codeflow-db[otel]"
            ) from None
        self._tracer = trace.get_tracer("codeflow")
        self._kind = trace.SpanKind.CLIENT
        self._error = trace.StatusCode.ERROR
        self._attributes: dict[str, str | int] = {"db.system.name": "postgresql"}
        target = None if server_url is None else dburl.parse(server_url)
        if target is not None and target.database:
            self._attributes["db.namespace"] = target.database
        if target is not None and len(target.hosts) == 1:  # with several, the driver picks
            self._attributes["server.address"] = target.hosts[0].name
            self._attributes["server.port"] = target.hosts[0].port or 5432

    async def run(self, name: str, statement: Statement) -> Any:
        with self._tracer.start_as_current_span(
            name,
            kind=self._kind,
            attributes={**self._attributes, "db.operation.name": name},
            record_exception=False,  # the exception's text is ours, but keep spans value-free by rule
            set_status_on_exception=False,
        ) as span:
            try:
                return await statement()
            except CodeflowError as exc:
                span.set_attribute("error.type", exc.__class__.__name__)
                if exc.sqlstate:
                    span.set_attribute("db.response.status_code", exc.sqlstate)
                span.set_status(self._error, exc.__class__.__name__)
                raise
