"""A machine without PgBouncer or the PostgreSQL server packages skips the tests that
need them, saying how to get them; CI (which installs both) fails instead."""

from __future__ import annotations

import shutil

import pytest

from . import servers


@pytest.mark.parametrize("ci", [None, ""])
def test_missing_binary_skips_outside_ci(monkeypatch: pytest.MonkeyPatch, ci: str | None) -> None:
    if ci is None:
        monkeypatch.delenv("CI", raising=False)
    else:
        monkeypatch.setenv("CI", ci)
    with pytest.raises(pytest.skip.Exception) as skipped:
        servers.missing_binary("pgbouncer", "pgbouncer")
    assert str(skipped.value) == (
        "pgbouncer not installed: apt-get install pgbouncer to run these (CI fails instead)"
    )


def test_missing_binary_fails_under_ci(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CI", "true")
    with pytest.raises(pytest.fail.Exception, match=r"CI must install it \(apt-get install pgbouncer\)"):
        servers.missing_binary("pgbouncer", "pgbouncer")


def test_pgbouncer_fixture_skips_when_the_binary_is_missing(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("CI", raising=False)
    monkeypatch.setattr(shutil, "which", lambda *_, **__: None)
    with (
        pytest.raises(pytest.skip.Exception, match="apt-get install pgbouncer"),
        servers.pgbouncer("postgresql://postgres@127.0.0.1:5432/codeflow_test"),
    ):
        pytest.fail("pgbouncer started without a binary")
