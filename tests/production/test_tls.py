"""TLS as production uses it (sslmode=verify-full with a CA file), against a
PostgreSQL with TLS switched on and a certificate for `localhost` only; the pool
and dbmate read the same URL."""

from __future__ import annotations

import asyncio

import asyncpg
import pytest

from codeflow import DatabaseUnavailable, load_settings
from codeflow.paths import MIGRATIONS_DIR
from codeflow.pool import create_pool
from codeflow.tools import migrate

from .servers import ScratchServer, superuser_execute

pytestmark = pytest.mark.integration

_ENCRYPTED = "SELECT ssl FROM pg_stat_ssl WHERE pid = pg_backend_pid()"


async def _encrypted(url: str) -> bool:
    pool = await create_pool(load_settings(database_url=url, db_pool_min_size=0, db_connect_attempts=3))
    try:
        return bool(await pool.fetchval(_ENCRYPTED))
    finally:
        await pool.close()


async def test_verify_full_connects_to_the_name_on_the_certificate(tls_server: ScratchServer) -> None:
    assert await _encrypted(tls_server.url(host="localhost", sslmode="verify-full"))


async def test_verify_full_refuses_a_host_name_the_certificate_does_not_name(
    tls_server: ScratchServer,
) -> None:
    url = tls_server.url(host="127.0.0.1", sslmode="verify-full")
    with pytest.raises(DatabaseUnavailable) as caught:
        await _encrypted(url)
    message = str(caught.value)
    assert "SSLCertVerificationError" in message
    assert "1 attempt" in message  # a certificate problem is not retried
    assert "not retried" in message
    assert "scratch-superuser-pw" not in message


async def test_verify_ca_refuses_a_server_signed_by_another_ca(tls_server: ScratchServer) -> None:
    url = tls_server.url(sslmode="verify-ca", sslrootcert=tls_server.certs.other_ca_file)
    with pytest.raises(DatabaseUnavailable, match="certificate verify failed"):
        await _encrypted(url)


async def test_verify_ca_checks_the_chain_but_not_the_name(tls_server: ScratchServer) -> None:
    assert await _encrypted(tls_server.url(host="127.0.0.1", sslmode="verify-ca"))


@pytest.mark.parametrize(("sslmode", "encrypted"), [("disable", False), ("require", True)])
async def test_disable_and_require_do_what_they_say(
    tls_server: ScratchServer, sslmode: str, encrypted: bool
) -> None:
    # 127.0.0.1 does not match the certificate: require encrypts without checking it.
    assert await _encrypted(tls_server.url(host="127.0.0.1", sslmode=sslmode)) is encrypted


def test_dbmate_migrates_over_verify_full_and_refuses_the_wrong_host(tls_server: ScratchServer) -> None:
    superuser_execute(tls_server, "CREATE DATABASE codeflow_tls")
    good = tls_server.url(database="codeflow_tls", sslmode="verify-full")
    asyncio.run(migrate.migrate(good))
    assert migrate.status(good)[1] == 0

    wrong_host = tls_server.url(host="127.0.0.1", database="codeflow_tls", sslmode="verify-full")
    with pytest.raises(migrate.MigrationError) as caught:
        migrate.status(wrong_host)  # dbmate alone, no asyncpg in front of it
    assert "certificate" in str(caught.value)
    assert "scratch-superuser-pw" not in str(caught.value)

    async def applied() -> int:
        connection = await asyncpg.connect(good)
        try:
            return int(await connection.fetchval("SELECT count(*) FROM schema_migrations"))
        finally:
            await connection.close()

    assert asyncio.run(applied()) == len(list(MIGRATIONS_DIR.glob("*.sql")))
