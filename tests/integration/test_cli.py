"""The developer commands, run in-process as `codeflow-db ...` would run them."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import pytest

from codeflow.tools import cli, migrate

pytestmark = pytest.mark.integration


@pytest.fixture
def scratch_test_db(
    codeflow_database_url: str, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> Iterator[str]:
    """TEST_DATABASE_URL pointing at a new database (created by the first command)."""
    parts = urlsplit(codeflow_database_url)
    url = urlunsplit(parts._replace(path=f"/codeflow_cli_{uuid.uuid4().hex[:12]}"))
    monkeypatch.setenv("TEST_DATABASE_URL", url)
    monkeypatch.setenv("CODEFLOW_PROJECT_DIR", str(tmp_path))  # no .env, no .pgdata of the checkout
    yield url
    assert cli.main(["reset", "--test"]) == 0  # proves reset on a local database, then drop it
    asyncio.run(migrate.drop_database(url))


def test_migrate_status_seed_and_rollback(scratch_test_db: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert cli.main(["db-up", "--test"]) == 0
    assert cli.main(["migrate-status", "--test"]) == 1, "pending migrations exit non-zero"
    assert cli.main(["migrate", "--test"]) == 0
    assert cli.main(["migrate-status", "--test"]) == 0
    assert cli.main(["seed", "--test"]) == 0
    assert cli.main(["status", "--test"]) == 0
    out = capsys.readouterr().out
    assert "user_profiles" in out and "0 pending" in out
    assert cli.main(["rollback", "--test", "--steps", "1"]) == 0
    assert cli.main(["migrate-status", "--test"]) == 1


@pytest.mark.parametrize(
    "url",
    [
        "postgresql://app:pw@db.example.com:5432/codeflow",
        "postgresql://postgres@127.0.0.1:5432/codeflow_prod",
    ],
)
@pytest.mark.parametrize("command", [["reset"], ["rollback"]])
def test_destructive_commands_refuse_non_local_databases(
    url: str,
    command: list[str],
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.setenv("DATABASE_URL", url)
    monkeypatch.setenv("CODEFLOW_PROJECT_DIR", str(tmp_path))
    assert cli.main(command) == 2
    err = capsys.readouterr().err
    assert "refusing to" in err and "--force" in err
    assert "pw@" not in err


def test_new_migration_creates_an_up_down_file(tmp_path: Path) -> None:
    migrate.new_migration("add_things", migrations_dir=tmp_path)
    (created,) = tmp_path.glob("*_add_things.sql")
    assert "-- migrate:up" in created.read_text() and "-- migrate:down" in created.read_text()
    with pytest.raises(migrate.MigrationError, match="lower_snake_case"):
        migrate.new_migration("Add Things", migrations_dir=tmp_path)


def test_migrate_deploy_needs_database_url(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.delenv("DATABASE_URL", raising=False)
    monkeypatch.chdir(tmp_path)
    assert cli.main(["migrate-deploy"]) == 2
