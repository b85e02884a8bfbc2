"""Servers the production tests start: what production puts between the package and PostgreSQL:
a PgBouncer in transaction mode, and a PostgreSQL of our own with TLS switched on
(certificates made here) and password authentication (the shared test server
trusts everyone, which would prove nothing about passwords or tokens).

Both run as an unprivileged OS user when the tests run as root, on free ports, with
their files in a temporary folder. A missing binary skips the tests that need it,
naming the package to install, except under CI (`CI` set), which installs both:
there a missing binary fails, so CI keeps proving what these tests prove.
"""

from __future__ import annotations

import asyncio
import datetime
import os
import shutil
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import NoReturn
from urllib.parse import quote, urlencode

import asyncpg
import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from codeflow import dburl

SUPERUSER_PASSWORD = "scratch-superuser-pw"  # a throwaway local server's


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def missing_binary(what: str, package: str) -> NoReturn:
    """Skip the test: this machine lacks `what` (a developer's machine need not have it).
    Under CI the same absence is a failure, so a CI that stops installing it is noticed."""
    if os.environ.get("CI"):
        pytest.fail(f"{what} not installed, and CI is set: CI must install it (apt-get install {package})")
    pytest.skip(f"{what} not installed: apt-get install {package} to run these (CI fails instead)")


def _run_as() -> str | None:
    """The OS user servers run as: PostgreSQL and PgBouncer refuse to run as root."""
    return "nobody" if os.geteuid() == 0 else None


def _workdir(prefix: str) -> Path:
    """A temporary folder the server user owns (pytest's tmp_path is root-only)."""
    path = Path(tempfile.mkdtemp(prefix=prefix))
    user = _run_as()
    if user is not None:
        shutil.chown(path, user=user)
    return path


def _give(path: Path, text: str | bytes, *, mode: int = 0o600) -> Path:
    """Write `path` for the server user (keys must not be readable by others)."""
    if isinstance(text, str):
        path.write_text(text)
    else:
        path.write_bytes(text)
    path.chmod(mode)
    user = _run_as()
    if user is not None:
        shutil.chown(path, user=user)
    return path


def _wait_for_port(
    port: int, *, process: subprocess.Popen[bytes] | None, log: Path, timeout_s: float
) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        with socket.socket() as probe:
            if probe.connect_ex(("127.0.0.1", port)) == 0:
                return
        if process is not None and process.poll() is not None:
            break
        time.sleep(0.05)
    details = log.read_text() if log.exists() else "(no log)"
    pytest.fail(f"server did not listen on 127.0.0.1:{port}:\n{details}")


# --- certificates ---------------------------------------------------------------


@dataclass(frozen=True)
class Certificates:
    ca_file: Path  # what clients trust (sslrootcert)
    other_ca_file: Path  # a CA that did not sign the server's certificate
    server_cert: Path
    server_key: Path
    server_names: tuple[str, ...]  # what the server certificate is valid for


def _key() -> ec.EllipticCurvePrivateKey:
    return ec.generate_private_key(ec.SECP256R1())


def _ca(name: str) -> tuple[ec.EllipticCurvePrivateKey, x509.Certificate]:
    key = _key()
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, name)])
    now = datetime.datetime.now(datetime.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(days=1))
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .add_extension(
            x509.KeyUsage(
                digital_signature=True,
                key_cert_sign=True,
                crl_sign=True,
                content_commitment=False,
                key_encipherment=False,
                data_encipherment=False,
                key_agreement=False,
                encipher_only=False,
                decipher_only=False,
            ),
            critical=True,
        )
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
        .sign(key, hashes.SHA256())
    )
    return key, cert


def make_certificates(folder: Path) -> Certificates:
    """A CA, and a server certificate it signs for the name `localhost` only, so that
    connecting by `127.0.0.1` is a host-name mismatch."""
    ca_key, ca_cert = _ca("codeflow test CA")
    _, other_ca = _ca("some other CA")
    key = _key()
    now = datetime.datetime.now(datetime.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "localhost")]))
        .issuer_name(ca_cert.subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(days=1))
        .add_extension(x509.SubjectAlternativeName([x509.DNSName("localhost")]), critical=False)
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key()), critical=False
        )
        .sign(ca_key, hashes.SHA256())
    )
    pem = serialization.Encoding.PEM
    return Certificates(
        ca_file=_give(folder / "ca.pem", ca_cert.public_bytes(pem), mode=0o644),
        other_ca_file=_give(folder / "other-ca.pem", other_ca.public_bytes(pem), mode=0o644),
        server_cert=_give(folder / "server.crt", cert.public_bytes(pem), mode=0o644),
        server_key=_give(
            folder / "server.key",
            key.private_bytes(pem, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()),
        ),
        server_names=("localhost",),
    )


# --- a PostgreSQL with TLS and passwords ----------------------------------------------


def postgres_bin_dir() -> Path:
    """The newest PostgreSQL server binaries from the Debian packages CI installs."""
    found = sorted(Path("/usr/lib/postgresql").glob("*/bin/initdb"), key=lambda p: int(p.parent.parent.name))
    if not found:
        missing_binary("PostgreSQL server binaries (/usr/lib/postgresql/*/bin)", "postgresql")
    return found[-1].parent


@dataclass(frozen=True)
class ScratchServer:
    """A PostgreSQL owned by this test session: TLS on, scram-sha-256 for TCP."""

    port: int
    certs: Certificates

    def url(
        self,
        *,
        host: str = "localhost",
        user: str = "postgres",
        password: str | None = SUPERUSER_PASSWORD,
        database: str = "postgres",
        sslmode: str = "verify-full",
        sslrootcert: Path | None = None,
    ) -> str:
        auth = quote(user, safe="") + (f":{quote(password, safe='')}" if password is not None else "")
        query = {"sslmode": sslmode}
        if sslmode != "disable":
            query["sslrootcert"] = str(sslrootcert or self.certs.ca_file)
        return f"postgresql://{auth}@{host}:{self.port}/{database}?{urlencode(query)}"


@contextmanager
def scratch_server() -> Iterator[ScratchServer]:
    """Start a ScratchServer; stop it and delete its files at the end of the block."""
    bin_dir = postgres_bin_dir()
    folder = _workdir("codeflow-scratch-pg-")
    data = folder / "data"
    certs = make_certificates(folder)
    pwfile = _give(folder / "pwfile", SUPERUSER_PASSWORD + "\n")
    user = _run_as()
    subprocess.run(
        [
            str(bin_dir / "initdb"),
            "-D",
            str(data),
            "-U",
            "postgres",
            f"--pwfile={pwfile}",
            "--auth-local=trust",
            "--auth-host=scram-sha-256",
            "--encoding=UTF8",
            "--no-sync",
        ],
        check=True,
        capture_output=True,
        user=user,
    )
    port = free_port()
    with (data / "postgresql.conf").open("a") as conf:
        conf.write(
            f"\nport = {port}\nlisten_addresses = '127.0.0.1'\nunix_socket_directories = '{folder}'\n"
            f"ssl = on\nssl_cert_file = '{certs.server_cert}'\nssl_key_file = '{certs.server_key}'\n"
            "fsync = off\nsynchronous_commit = off\nfull_page_writes = off\nmax_connections = 60\n"
            "shared_buffers = 16MB\ntimezone = 'UTC'\n"
        )
    log = folder / "server.log"
    subprocess.run(
        [str(bin_dir / "pg_ctl"), "-D", str(data), "-l", str(log), "-w", "-t", "30", "start"],
        check=True,
        capture_output=True,
        user=user,
    )
    try:
        _wait_for_port(port, process=None, log=log, timeout_s=30)
        yield ScratchServer(port=port, certs=certs)
    finally:
        subprocess.run(
            [str(bin_dir / "pg_ctl"), "-D", str(data), "-m", "immediate", "-w", "stop"],
            check=False,
            capture_output=True,
            user=user,
        )
        shutil.rmtree(folder, ignore_errors=True)


async def superuser_run(server: ScratchServer, *statements: str, database: str = "postgres") -> None:
    """Run each of `statements` (no parameters) in turn as the scratch superuser."""
    connection = await asyncpg.connect(server.url(database=database))
    try:
        for sql in statements:
            await connection.execute(sql)
    finally:
        await connection.close()


def superuser_execute(server: ScratchServer, *statements: str, database: str = "postgres") -> None:
    """`superuser_run` from synchronous code."""
    asyncio.run(superuser_run(server, *statements, database=database))


def sql_literal(text: str) -> str:
    """`text` as an SQL string literal, for statements that take no parameters (ALTER ROLE)."""
    return "'" + text.replace("'", "''") + "'"


# --- PgBouncer -----------------------------------------------------------------------


@dataclass(frozen=True)
class Bouncer:
    port: int
    database: str
    pool_size: int  # server connections per user/database: fewer than the clients

    def url(self) -> str:
        return f"postgresql://postgres@127.0.0.1:{self.port}/{self.database}?sslmode=disable"


BOUNCER_POOL_SIZE = 3


@contextmanager
def pgbouncer(database_url: str) -> Iterator[Bouncer]:
    """PgBouncer in transaction mode in front of `database_url`, for the block."""
    binary = shutil.which("pgbouncer", path=f"{os.environ.get('PATH', '')}:/usr/sbin")
    if binary is None:
        missing_binary("pgbouncer", "pgbouncer")
    target = dburl.parse(database_url)
    database = target.database or ""
    user = target.user or "postgres"
    (host,) = target.hosts  # PgBouncer fronts one server
    server = f"host={host.name} port={host.port or 5432} dbname={database}"
    password = f" password={target.password}" if target.password else ""
    folder = _workdir("codeflow-pgbouncer-")
    port = free_port()
    _give(folder / "users.txt", f'"{user}" ""\n')
    config = _give(
        folder / "pgbouncer.ini",
        f"""[databases]
{database} = {server} user={user}{password}

[pgbouncer]
listen_addr = 127.0.0.1
listen_port = {port}
unix_socket_dir =
auth_type = trust
auth_file = {folder}/users.txt
pool_mode = transaction
default_pool_size = {BOUNCER_POOL_SIZE}
max_client_conn = 200
server_reset_query =
logfile = {folder}/pgbouncer.log
pidfile = {folder}/pgbouncer.pid
""",
    )
    log = folder / "pgbouncer.log"
    process = subprocess.Popen([binary, str(config)], user=_run_as(), stdout=subprocess.DEVNULL)
    try:
        _wait_for_port(port, process=process, log=log, timeout_s=10)
        yield Bouncer(port=port, database=database, pool_size=BOUNCER_POOL_SIZE)
    finally:
        process.terminate()
        process.wait(timeout=10)
        shutil.rmtree(folder, ignore_errors=True)
