"""Every `codeflow-db` command answers a bad database URL the same way: exit status 2
and one line naming the variable, no traceback, nothing of the URL that could be a
password; and the commands that destroy data or load fixtures judge every host a URL
names. No database is needed: each command stops before connecting."""

from __future__ import annotations

from pathlib import Path

import pytest

from codeflow.tools import cli

SECRET = "s3cretPW"
# Every command that picks a database; `new-migration` and `lint-migrations` touch none.
URL_COMMANDS = sorted(name for name in cli.COMMANDS if name not in {"new-migration", "lint-migrations"})


@pytest.fixture(autouse=True)
def _no_project(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("CODEFLOW_PROJECT_DIR", str(tmp_path))  # no .env, no .pgdata of the checkout
    monkeypatch.chdir(tmp_path)


@pytest.mark.parametrize(
    ("url", "reason"),
    [
        (f"postgresql://app:{SECRET}@db:notaport/codeflow_dev", "has a port that is not a number"),
        # libpq reads host `app`, port 123: the password's unencoded '/' makes it ambiguous
        (f"postgresql://app:123/{SECRET}@db/codeflow_dev", "has an ambiguous user name or password"),
    ],
)
@pytest.mark.parametrize("command", URL_COMMANDS)
def test_a_malformed_url_is_one_clean_line_with_exit_status_2(
    command: str, url: str, reason: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("DATABASE_URL", url)
    monkeypatch.setenv("TEST_DATABASE_URL", url)
    assert cli.main([command]) == 2
    out, err = capsys.readouterr()
    assert err.startswith(f"codeflow-db {command}: invalid settings: ")
    assert "DATABASE_URL: " + reason in err
    assert err.count("\n") == 1, "one line, no traceback"
    assert SECRET not in out + err


@pytest.mark.parametrize(
    "url",
    [
        f"postgresql://u:{SECRET}@/codeflow_dev?host=10.0.0.5&port=5432",  # the host in the query string
        f"postgresql://u:{SECRET}@localhost,10.0.0.5/codeflow_dev",  # one of several hosts
        f"postgresql://u:{SECRET}@/codeflow_dev?host=/tmp,db.example.com",  # a socket directory and a host
        f"postgresql://u:{SECRET}@[2001:db8::1]:5432/codeflow_dev",
    ],
)
@pytest.mark.parametrize("command", ["reset", "rollback", "seed", "dev"])
def test_local_only_commands_judge_every_host(
    command: str, url: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("DATABASE_URL", url)
    assert cli.main([command]) == 2
    err = capsys.readouterr().err
    assert f"codeflow-db {command}: refusing to " in err and "--force" in err
    assert "u:***@" in err and SECRET not in err
