"""RDS IAM authentication offline: tokens signed with static fake credentials, and a
PostgreSQL (TLS, scram) whose role password is set to the token, as RDS would accept it."""

from __future__ import annotations

import asyncio
from unittest import mock

import boto3
import pytest

from codeflow import ConfigurationError, DatabaseUnavailable, load_settings
from codeflow.iam import TOKEN_LIFETIME_S, RdsIamTokenProvider
from codeflow.pool import create_pool, pool_options

from .servers import ScratchServer, sql_literal, superuser_run

pytestmark = pytest.mark.integration

ACCESS_KEY = "AKIAIOSFODNN7EXAMPLE"
SECRET_KEY = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"


def fake_session() -> boto3.Session:
    return boto3.Session(
        aws_access_key_id=ACCESS_KEY, aws_secret_access_key=SECRET_KEY, region_name="eu-west-1"
    )


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def counted(provider: RdsIamTokenProvider) -> mock.MagicMock:
    """Spy on the provider's boto3 client: how many tokens it signs."""
    client = provider._client
    spy = mock.MagicMock(wraps=client.generate_db_auth_token)
    provider._client = mock.MagicMock(wraps=client, generate_db_auth_token=spy)
    return spy


async def test_token_is_a_signed_rds_connect_url_for_the_user() -> None:
    provider = RdsIamTokenProvider(
        host="db.example.internal", port=5432, user="codeflow_api", session=fake_session()
    )
    token = await provider()
    assert token.startswith("db.example.internal:5432/?Action=connect&DBUser=codeflow_api")
    assert "X-Amz-Expires=900" in token
    assert ACCESS_KEY in token
    assert SECRET_KEY not in token
    assert token not in repr(provider)


async def test_token_is_reused_until_shortly_before_it_expires() -> None:
    clock = Clock()
    provider = RdsIamTokenProvider(
        host="db", port=5432, user="u", session=fake_session(), refresh_margin_s=120, clock=clock
    )
    signed = counted(provider)
    await asyncio.gather(*(provider() for _ in range(5)))
    assert signed.call_count == 1  # a burst of new connections signs once
    clock.now += TOKEN_LIFETIME_S - 121
    await provider()
    assert signed.call_count == 1
    clock.now += 2  # now inside the refresh margin
    await provider()
    assert signed.call_count == 2


async def test_pool_logs_in_with_tokens_and_picks_up_a_new_one(tls_server: ScratchServer) -> None:
    await superuser_run(tls_server, "DROP ROLE IF EXISTS codeflow_iam", "CREATE ROLE codeflow_iam LOGIN")
    clock = Clock()
    provider = RdsIamTokenProvider(
        host="localhost", port=tls_server.port, user="codeflow_iam", session=fake_session(), clock=clock
    )
    signed = counted(provider)
    first = await provider()
    await superuser_run(tls_server, f"ALTER ROLE codeflow_iam PASSWORD {sql_literal(first)}")

    settings = load_settings(
        database_url=tls_server.url(user="codeflow_iam", password=None),  # verify-full
        db_iam_auth=True,
        db_pool_min_size=3,
        db_pool_max_size=3,
    )
    pool = await create_pool(settings, password=provider)
    try:
        assert await pool.fetchval("SELECT current_user") == "codeflow_iam"
        assert pool.get_size() == 3
        assert signed.call_count == 1

        # Fifteen minutes later RDS wants a fresh token; botocore signs to the second.
        await asyncio.sleep(1.1)
        clock.now += TOKEN_LIFETIME_S
        second = await provider()
        assert second != first
        await superuser_run(tls_server, f"ALTER ROLE codeflow_iam PASSWORD {sql_literal(second)}")
        await pool.expire_connections()  # the pool opens new connections
        assert await pool.fetchval("SELECT current_user") == "codeflow_iam"
        assert signed.call_count == 2
    finally:
        await pool.close()

    stale = load_settings(database_url=tls_server.url(user="codeflow_iam", password=first))
    with pytest.raises(DatabaseUnavailable) as caught:
        await create_pool(stale)
    assert "InvalidPasswordError" in str(caught.value)
    assert "1 attempt" in str(caught.value)  # a wrong password is not retried
    assert first not in str(caught.value)


def test_settings_build_a_provider_from_the_url(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", ACCESS_KEY)
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", SECRET_KEY)
    settings = load_settings(
        database_url="postgresql://codeflow_api@proxy.example.internal:6432/codeflow?sslmode=verify-full",
        db_iam_auth=True,
        db_iam_region="eu-west-1",
    )
    provider = pool_options(settings)["password"]
    assert isinstance(provider, RdsIamTokenProvider)
    assert (provider.host, provider.port, provider.user) == ("proxy.example.internal", 6432, "codeflow_api")


def test_iam_refuses_a_password_in_the_url() -> None:
    with pytest.raises(ConfigurationError, match="must not contain a password") as caught:
        load_settings(database_url="postgresql://u:hunter2@db/codeflow", db_iam_auth=True)
    assert "hunter2" not in str(caught.value)


def test_iam_without_a_region_says_how_to_set_one(monkeypatch: pytest.MonkeyPatch) -> None:
    for variable in ("AWS_REGION", "AWS_DEFAULT_REGION", "AWS_CONFIG_FILE"):
        monkeypatch.delenv(variable, raising=False)
    monkeypatch.setenv("AWS_CONFIG_FILE", "/nonexistent")
    settings = load_settings(database_url="postgresql://u@db/codeflow", db_iam_auth=True)
    with pytest.raises(ConfigurationError, match="DB_IAM_REGION"):
        pool_options(settings)
