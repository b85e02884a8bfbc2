"""The built wheel, installed into clean venvs in a temporary folder, run from a temporary
working directory (no checkout on sys.path or in the cwd): with the `cli` extra every
command works against a scratch database and says what it did, writing nothing into
site-packages; without it, `import codeflow` works, the only dependencies are the four
runtime libraries and `codeflow-db` says in one line to install the extra."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import asyncpg
import pytest

from codeflow import dburl
from codeflow.paths import MIGRATIONS_DIR
from codeflow.tools import migrate

pytestmark = [pytest.mark.integration, pytest.mark.wheel]

CHECKOUT = Path(__file__).resolve().parents[2]
RUNTIME_DEPENDENCIES = ["aiosql", "asyncpg", "pydantic", "pydantic-settings"]
MIGRATIONS = sorted(path.name for path in MIGRATIONS_DIR.glob("*.sql"))


@dataclass(frozen=True)
class Venv:
    root: Path

    @property
    def python(self) -> Path:
        return self.root / "bin" / "python"

    @property
    def site_packages(self) -> Path:
        (found,) = self.root.glob("lib/python3*/site-packages")
        return found

    def run(self, *argv: str, cwd: Path, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [str(self.root / "bin" / argv[0]), *argv[1:]],
            cwd=cwd,
            env=env,
            capture_output=True,
            text=True,
            timeout=300,
            check=False,
        )


@pytest.fixture(scope="module")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("dist")
    subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "wheel",
            "--quiet",
            "--no-deps",
            "--wheel-dir",
            str(out),
            str(CHECKOUT),
        ],
        check=True,
        capture_output=True,
    )
    (built,) = out.glob("codeflow_db-*.whl")
    return built


def make_venv(root: Path, requirement: str) -> Venv:
    """A venv without pip of its own; this interpreter's pip (and its cache) installs into it."""
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(root)], check=True)
    venv = Venv(root)
    subprocess.run(
        [sys.executable, "-m", "pip", "--python", str(venv.python), "install", "--quiet", requirement],
        check=True,
        capture_output=True,
    )
    return venv


def clean_env(**variables: str) -> dict[str, str]:
    """The environment less anything pointing at the checkout or its databases."""
    env = {
        name: value
        for name, value in os.environ.items()
        if name
        not in {"PYTHONPATH", "VIRTUAL_ENV", "CODEFLOW_PROJECT_DIR", "DATABASE_URL", "TEST_DATABASE_URL"}
        and not name.startswith("PYTEST")
    }
    return {**env, **variables}


def site_files(venv: Venv) -> set[Path]:
    return {path for path in venv.site_packages.rglob("*") if "__pycache__" not in path.parts}


async def database_exists(url: str) -> bool:
    parsed = dburl.parse(url)
    connection = await asyncpg.connect(parsed.with_database("postgres").render())
    try:
        return bool(
            await connection.fetchval("SELECT 1 FROM pg_database WHERE datname = $1", parsed.database)
        )
    finally:
        await connection.close()


@pytest.fixture
def scratch_url(codeflow_database_url: str) -> Iterator[str]:
    """A database name on the test server, not created; dropped afterwards whatever happens."""
    url = dburl.parse(codeflow_database_url).with_database(f"codeflow_wheel_{uuid.uuid4().hex[:10]}").render()
    try:
        yield url
    finally:
        asyncio.run(migrate.drop_database(url))


def test_every_command_works_from_the_wheel_with_the_cli_extra(
    wheel: Path, tmp_path: Path, scratch_url: str
) -> None:
    venv = make_venv(tmp_path / "venv", f"{wheel}[cli]")
    work = tmp_path / "service"
    work.mkdir()
    env = clean_env(DATABASE_URL=scratch_url)
    installed = site_files(venv)
    assert venv.site_packages / "codeflow" / "sql" / "seed.sql" in installed

    def cli(*argv: str, status: int = 0) -> str:
        result = venv.run("codeflow-db", *argv, cwd=work, env=env)
        assert result.returncode == status, f"codeflow-db {' '.join(argv)}:\n{result.stdout}{result.stderr}"
        return result.stdout + result.stderr

    # url reads only: it prints the URL and leaves the database uncreated.
    assert f"/{dburl.parse(scratch_url).database}?" in cli("url")
    assert not asyncio.run(database_exists(scratch_url))
    bare_env = clean_env()
    result = venv.run("codeflow-db", "url", cwd=work, env=bare_env)
    assert result.returncode == 1 and "no database to print" in result.stderr
    assert not (work / ".pgdata").exists(), "url starts no server"

    out = cli("migrate")
    assert [line.split()[1] for line in out.splitlines() if line.startswith("Applied: ")] == MIGRATIONS
    assert f"schema written to {work / 'db' / 'schema.sql'}" in out
    assert "nothing to apply" in cli("migrate")
    assert f"Applied: {len(MIGRATIONS)}" in cli("migrate-status")
    assert "written" in cli("schema", "--schema-file", "dump/schema.sql")
    assert (work / "dump" / "schema.sql").read_text() == (work / "db" / "schema.sql").read_text()
    assert "is current" in cli("schema", "--check")

    seeded = cli("seed")
    assert seeded.startswith("seeded: ") and "user_profiles " in seeded and " rows" in seeded
    assert "0 pending" in cli("status")
    assert "purged 0 expired sessions" in cli("purge")
    assert "pruned 0 PRs" in cli("prune-prs")

    assert f"Rolled back: {MIGRATIONS[-1]}" in cli("rollback")
    assert "Pending: 1" in cli("migrate-status", status=1)
    assert f"Applied: {MIGRATIONS[-1]}" in cli("migrate-deploy", "--wait", "5")

    refused = cli("new-migration", "add_things", status=2)
    assert "no folder" in refused and "--migrations-dir" in refused
    (work / "db" / "migrations").mkdir()
    assert "_add_things.sql" in cli("new-migration", "add_things")
    assert len(list((work / "db" / "migrations").glob("*_add_things.sql"))) == 1

    out = cli("reset")
    assert "dropped" in out and "created" in out and f"Applied: {MIGRATIONS[0]}" in out and "seeded: " in out

    refused = cli("types", status=2)
    assert "installed package" in refused

    assert site_files(venv) == installed, "nothing was written into the installed package"


def test_the_bare_wheel_is_the_runtime_alone(wheel: Path, tmp_path: Path) -> None:
    venv = make_venv(tmp_path / "venv", str(wheel))
    work = tmp_path / "service"
    work.mkdir()
    env = clean_env()

    imported = venv.run(
        "python", "-c", "import codeflow; print(codeflow.Database.__name__)", cwd=work, env=env
    )
    assert imported.returncode == 0, imported.stderr

    show = subprocess.run(
        [sys.executable, "-m", "pip", "--python", str(venv.python), "show", "codeflow-db"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    (requires,) = [line for line in show.splitlines() if line.startswith("Requires:")]
    assert (
        sorted(name.strip() for name in requires.removeprefix("Requires:").split(",")) == RUNTIME_DEPENDENCIES
    )

    result = venv.run("codeflow-db", "migrate", cwd=work, env=env)
    assert result.returncode == 2
    assert result.stdout == ""
    assert result.stderr.count("\n") == 1 and "pip install 'codeflow-db[cli]'" in result.stderr
