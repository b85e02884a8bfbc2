"""Fixtures for the production tests: the servers of production.servers, started
once per session (PostgreSQL with TLS) or module (PgBouncer)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from .servers import Bouncer, ScratchServer, pgbouncer, scratch_server


@pytest.fixture(scope="session")
def tls_server() -> Iterator[ScratchServer]:
    with scratch_server() as server:
        yield server


@pytest.fixture(scope="module")
def bouncer(codeflow_database_url: str) -> Iterator[Bouncer]:
    with pgbouncer(codeflow_database_url) as running:
        yield running
