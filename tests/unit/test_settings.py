"""Settings fail at start-up naming the variable, and never show the password."""

from __future__ import annotations

from pathlib import Path

import pytest

from codeflow import ConfigurationError, load_settings
from codeflow.dburl import redact as redact_url


@pytest.fixture(autouse=True)
def _no_ambient_settings(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.delenv("DATABASE_URL", raising=False)
    monkeypatch.chdir(tmp_path)  # no .env from the checkout


def test_missing_url_names_the_variable() -> None:
    with pytest.raises(ConfigurationError, match=r"DATABASE_URL: is required"):
        load_settings()


@pytest.mark.parametrize(
    ("url", "reason"),
    [
        ("mysql://app:s3cret-pw@db:3306/codeflow", "must start with postgresql://"),
        ("postgresql://app:s3cret-pw@db:notaport/codeflow", "has a port that is not a number"),
        ("postgresql://app:s3cret-pw@db:5432", "must name a database"),
        ("postgresql://app:s3cret-pw@/codeflow", "must name a host"),
    ],
)
def test_malformed_url_is_rejected_without_echoing_it(
    monkeypatch: pytest.MonkeyPatch, url: str, reason: str
) -> None:
    monkeypatch.setenv("DATABASE_URL", url)
    with pytest.raises(ConfigurationError) as caught:
        load_settings()
    assert "DATABASE_URL" in str(caught.value)
    assert reason in str(caught.value)
    assert "s3cret-pw" not in str(caught.value)


def test_password_is_hidden_in_repr_and_redacted_url(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DATABASE_URL", "postgresql://app:s3cret-pw@db.internal:5432/codeflow?sslmode=require")
    settings = load_settings()
    assert "s3cret-pw" not in repr(settings)
    assert settings.redacted_database_url == "postgresql://app:***@db.internal:5432/codeflow?sslmode=require"


def test_defaults_are_documented_values(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DATABASE_URL", "postgresql://localhost/codeflow")
    settings = load_settings()
    assert (settings.db_pool_min_size, settings.db_pool_max_size) == (1, 10)
    assert settings.db_pool_reset == "transaction"


def test_out_of_range_numbers_name_their_variable(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DATABASE_URL", "postgresql://localhost/codeflow")
    monkeypatch.setenv("DB_POOL_MAX_SIZE", "0")
    with pytest.raises(ConfigurationError, match="DB_POOL_MAX_SIZE"):
        load_settings()


def test_private_access_window_is_read_and_bounded(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DATABASE_URL", "postgresql://localhost/codeflow")
    assert load_settings().db_private_access_window_s == 86_400, "24 h, as .env.example says"
    monkeypatch.setenv("DB_PRIVATE_ACCESS_WINDOW_S", "600")
    assert load_settings().db_private_access_window_s == 600
    for out_of_range in ("0", "1e15"):  # 1e15 s would overflow a timedelta
        monkeypatch.setenv("DB_PRIVATE_ACCESS_WINDOW_S", out_of_range)
        with pytest.raises(ConfigurationError, match="DB_PRIVATE_ACCESS_WINDOW_S"):
            load_settings()


def test_redact_url_keeps_urls_without_password() -> None:
    assert redact_url("postgresql://app@db/x") == "postgresql://app@db/x"
    assert redact_url("postgresql://app:pw@[::1]:5432/x") == "postgresql://app:***@[::1]:5432/x"


def test_query_string_passwords_are_redacted_too(monkeypatch: pytest.MonkeyPatch) -> None:
    url = "postgresql://app@db.internal/codeflow?password=s3cret-pw&sslpassword=k3y&sslmode=require"
    # The redacted form is the canonical one: password= moves to the user-info.
    assert redact_url(url) == "postgresql://app:***@db.internal/codeflow?sslpassword=***&sslmode=require"
    monkeypatch.setenv("DATABASE_URL", url)
    monkeypatch.setenv("DB_IAM_AUTH", "true")
    with pytest.raises(ConfigurationError, match="must not contain a password") as caught:
        load_settings()
    assert "s3cret-pw" not in str(caught.value)
