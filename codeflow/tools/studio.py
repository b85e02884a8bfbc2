"""`codeflow-db studio`: a browser-based data browser on the dev database, where the
story's `db:studio` (Prisma Studio) opened one: pgAdmin 4 from PyPI in desktop mode.

pgAdmin is never a dependency of this package: it is installed on first use into a venv
of its own, `.codeflow/studio-venv/` of the project folder (or `CODEFLOW_STUDIO_VENV`),
and its configuration and state live in `.codeflow/studio/`. Each start registers the
selected database as the only server (a password goes into a pgpass file there, 0600),
serves pgAdmin on 127.0.0.1 with a random key in the URL (desktop mode has no login; the
key keeps other local users out), prints that URL and opens it in a browser.
"""

from __future__ import annotations

import ctypes
import json
import os
import secrets
import signal
import socket
import subprocess
import sys
import time
import webbrowser
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from codeflow import dburl
from codeflow.errors import CodeflowError
from codeflow.tools.files import project_dir

PGADMIN_REQUIREMENT = "pgadmin4>=9,<10"
STARTUP_TIMEOUT_S = 120.0
_PR_SET_PDEATHSIG = 1  # prctl(2)


class StudioError(CodeflowError):
    """pgAdmin could not be installed or did not start."""


def venv_dir() -> Path:
    return Path(os.environ.get("CODEFLOW_STUDIO_VENV") or project_dir() / ".codeflow" / "studio-venv")


def state_dir() -> Path:
    return project_dir() / ".codeflow" / "studio"


def pgadmin_dir(venv: Path) -> Path | None:
    """pgAdmin's application folder in `venv` (where pgAdmin4.py is), if installed."""
    found = sorted(venv.glob("lib/python3*/site-packages/pgadmin4/pgAdmin4.py"))
    return found[-1].parent if found else None


def install(venv: Path, *, say: Callable[[str], None]) -> Path:
    """pgAdmin's application folder, installing it into `venv` first if needed."""
    found = pgadmin_dir(venv)
    if found is not None:
        return found
    say(f"installing pgAdmin 4 ({PGADMIN_REQUIREMENT}) into {venv}: first use only, a few minutes")
    python = venv / "bin" / "python"
    for command in (
        [sys.executable, "-m", "venv", str(venv)],
        [str(python), "-m", "pip", "install", "--quiet", "--disable-pip-version-check", PGADMIN_REQUIREMENT],
    ):
        result = subprocess.run(command, capture_output=True, text=True, check=False)
        if result.returncode != 0:
            raise StudioError(
                f"installing pgAdmin 4 failed: {(result.stdout + result.stderr).strip()[-2000:]}"
            )
    found = pgadmin_dir(venv)
    if found is None:
        raise StudioError(f"pgAdmin 4 installed into {venv}, but its pgAdmin4.py is not there")
    return found


@dataclass(frozen=True)
class Studio:
    """A configured pgAdmin: where it runs from, its state, and the URL to open."""

    python: Path
    app: Path
    state: Path
    port: int
    key: str

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/browser/?key={self.key}"

    def env(self) -> dict[str, str]:
        # config_local.py in `state` is pgAdmin's documented override file, found on sys.path.
        return {**os.environ, "PYTHONPATH": str(self.state), "PGADMIN_INT_KEY": self.key}


def configure(url: str, *, app: Path, python: Path, port: int | None = None) -> Studio:
    """Write pgAdmin's configuration and register `url`'s database as its one server."""
    parsed = dburl.parse(url)
    state = state_dir()
    (state / "data").mkdir(parents=True, exist_ok=True)
    port = port or _free_port()
    (state / "config_local.py").write_text(
        "# Written by codeflow-db studio on every start.\n"
        "SERVER_MODE = False\n"
        f"DATA_DIR = {str(state / 'data')!r}\n"
        "DEFAULT_SERVER = '127.0.0.1'\n"
        f"DEFAULT_SERVER_PORT = {port}\n"
        "MASTER_PASSWORD_REQUIRED = False\n"
        "UPGRADE_CHECK_ENABLED = False\n"
        "AUTO_DISCOVER_SERVERS = False\n"
        "LLM_ENABLED = False\n"
    )
    host = parsed.hosts[0] if parsed.hosts else dburl.Host("localhost")
    database = parsed.database or "postgres"
    server: dict[str, object] = {
        "Name": f"{database} ({host.name})",
        "Group": "CodeFlow",
        "Host": host.name,
        "Port": host.port or 5432,
        "MaintenanceDB": database,
        "Username": parsed.user or "postgres",
        "SSLMode": dict(parsed.parameters).get("sslmode", "prefer"),
    }
    passfile = state / "pgpass"
    passfile.touch(mode=0o600)
    passfile.chmod(0o600)
    if parsed.password:
        escaped = [
            part.replace("\\", "\\\\").replace(":", "\\:")
            for part in (host.name, database, parsed.user or "")
        ]
        passfile.write_text(f"{escaped[0]}:{host.port or 5432}:{escaped[1]}:{escaped[2]}:{parsed.password}\n")
        server["PassFile"] = str(passfile)
    else:
        passfile.write_text("")
    (state / "servers.json").write_text(json.dumps({"Servers": {"1": server}}, indent=2))
    studio = Studio(python=python, app=app, state=state, port=port, key=secrets.token_urlsafe(24))
    if not (state / "data" / "pgadmin4.db").exists():
        _setup(studio, "setup-db")
    _setup(studio, "load-servers", str(state / "servers.json"), "--replace")
    return studio


def start(studio: Studio) -> subprocess.Popen[bytes]:
    """Start pgAdmin and wait until it answers; its output goes to `.codeflow/studio/pgadmin.log`."""
    with open(studio.state / "pgadmin.log", "ab") as log:
        process = subprocess.Popen(
            [str(studio.python), str(studio.app / "pgAdmin4.py")],
            env=studio.env(),
            cwd=studio.state,
            stdout=log,
            stderr=subprocess.STDOUT,
            preexec_fn=_die_with_parent,  # noqa: PLW1509 - only sets a signal of the child's own
        )
    deadline = time.monotonic() + STARTUP_TIMEOUT_S
    while not _answers(studio.port):
        if process.poll() is not None or time.monotonic() > deadline:
            stop(process)
            raise StudioError(f"pgAdmin 4 did not start: see {studio.state / 'pgadmin.log'}")
        time.sleep(0.3)
    return process


def _die_with_parent() -> None:
    """In pgAdmin's process before it starts: a SIGTERM when `codeflow-db studio` dies,
    however it dies (a SIGKILL gives it no chance to stop pgAdmin itself)."""
    if sys.platform == "linux":
        ctypes.CDLL(None, use_errno=True).prctl(_PR_SET_PDEATHSIG, signal.SIGTERM)


def stop(process: subprocess.Popen[bytes]) -> None:
    if process.poll() is None:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def launch(
    url: str, *, port: int | None, open_browser: bool, say: Callable[[str], None]
) -> subprocess.Popen[bytes]:
    """Install if needed, configure and start pgAdmin on `url`'s database, print its URL and
    open it in a browser; the caller waits for the process and `stop`s it."""
    venv = venv_dir()
    app = install(venv, say=say)
    studio = configure(url, app=app, python=venv / "bin" / "python", port=port)
    process = start(studio)
    say(f"pgAdmin 4 on {dburl.redact(url)}: {studio.url}")
    say("(Servers > CodeFlow > the database > Schemas > public > Tables; Ctrl-C stops it)")
    if open_browser:
        webbrowser.open(studio.url)
    return process


def _setup(studio: Studio, *args: str) -> None:
    result = subprocess.run(
        [str(studio.python), str(studio.app / "setup.py"), *args],
        env=studio.env(),
        cwd=studio.state,
        capture_output=True,
        text=True,
        check=False,
    )
    # setup.py prints its errors and exits 0: a registered server is the proof.
    if result.returncode != 0 or ("load-servers" in args and "Added" not in result.stdout):
        raise StudioError(
            f"pgAdmin setup.py {args[0]} failed: {(result.stdout + result.stderr).strip()[-2000:]}"
        )


def _answers(port: int) -> bool:
    with socket.socket() as probe:
        probe.settimeout(0.5)
        return probe.connect_ex(("127.0.0.1", port)) == 0


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])
