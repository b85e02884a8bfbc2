"""pgbench running the same statements: the server's ceiling for each operation.

Each statement of queries/*.sql is sent as it is, its $N parameters replaced by
pgbench expressions naming the same rows the Python clients use (see
bench/dataset.py); unique keys for inserts come from the `bench_key` sequence, since
pgbench has no counter. pgbench opens one connection per client (no pool) and uses
prepared statements (-M prepared).
"""

from __future__ import annotations

import re
import shutil
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path

from bench.dataset import WRITTEN_KEY_BASE, Size
from codeflow import dburl
from codeflow.store import all_queries

_CANDIDATES = ("/usr/lib/postgresql/15/bin/pgbench",)


def binary() -> str | None:
    for candidate in _CANDIDATES:
        if Path(candidate).exists():
            return candidate
    from codeflow.tools.localdb import embedded_bin_dir  # noqa: PLC0415

    embedded = embedded_bin_dir()
    if embedded and (embedded / "pgbench").exists():
        return str(embedded / "pgbench")
    return shutil.which("pgbench")


def version(executable: str) -> str:
    return subprocess.run(
        [executable, "--version"], capture_output=True, text=True, check=False
    ).stdout.strip()


@dataclass(frozen=True)
class Script:
    query: str
    variables: tuple[str, ...]  # pgbench \set lines
    arguments: dict[str, str]  # an SQL expression per query parameter


def render(script: Script) -> str:
    query = all_queries()[script.query]
    expressions = query.args(script.arguments)
    # Without the leading /* codeflow:<name> */: pgbench would read `:<name>` as a variable.
    text = query.sql.removeprefix(f"/* codeflow:{query.name} */ ")
    sql = re.sub(r"\$(\d+)", lambda match: f"({expressions[int(match.group(1)) - 1]})", text)
    # pgbench ends a statement at the line's end unless it ends with ';'.
    body = " ".join(line.strip() for line in sql.splitlines() if line.strip())
    return "\n".join((*script.variables, body.rstrip(";") + ";")) + "\n"


def scripts(size: Size) -> dict[str, Script]:
    user = (f"\\set i random(1, {size.users})",)
    low, high = size.repositories_per_user
    return {
        "list_repositories": Script(
            "list_user_repositories", user, {"user_id": "'u' || :i", "active_only": "false"}
        ),
        "session_and_user": Script("get_auth_session_and_user", user, {"session_token": "'st' || :i"}),
        "touch": Script(
            "update_user_profile_last_active", user, {"user_id": "'u' || :i", "resolution": "'0'"}
        ),
        # One of user i's repositories, named as dataset.repository_key and
        # Size.repository_count do.
        "update_repository": Script(
            "update_repository",
            (
                *user,
                f"\\set n random(1, {low} + (:i * 7919) % {high - low + 1})",
                "\\set a random(0, 1)",
            ),
            {
                "user_id": "'u' || :i",
                "repository_id": f"md5('r' || ((:i - 1) * {high} + :n))::uuid",
                "is_active": ":a = 1",
            },
        ),
        # The select list is evaluated left to right: nextval, then currval for the name.
        "add_repository": Script(
            "create_repository",
            user,
            {
                "user_id": "'u' || :i",
                "github_id": f"{WRITTEN_KEY_BASE} + nextval('bench_key')",
                "name": "'b' || currval('bench_key')",
                "full_name": "'user' || :i || '/b' || currval('bench_key')",
                "owner": "'user' || :i",
                "is_active": "true",
                "private": "false",
            },
        ),
        "create_profile": Script(
            "create_user_profile",
            (),
            {
                "user_id": "'s' || nextval('bench_key')",
                "github_id": f"{WRITTEN_KEY_BASE} + currval('bench_key')",
                "username": "'s' || currval('bench_key')",
            },
        ),
        "cleanup": Script("delete_inactive_user_profiles", (), {"days": "30", "batch_size": "500"}),
    }


@dataclass(frozen=True)
class Outcome:
    latencies_s: list[float]
    tps: float
    failed: int  # failed transactions, and clients aborted by an error
    first_error: str = ""


def run(
    url: str, script: Script, *, clients: int, seconds: float | None = None, transactions: int = 0
) -> Outcome:
    """Run `script` with pgbench; per-transaction latencies from its log."""
    executable = binary()
    if executable is None:
        raise RuntimeError("pgbench not found")
    parsed = dburl.parse(url)
    host = parsed.hosts[0] if parsed.hosts else dburl.Host("127.0.0.1")
    with tempfile.TemporaryDirectory(prefix="codeflow-pgbench-") as folder:
        script_file = Path(folder) / "script.sql"
        script_file.write_text(render(script))
        limit = ["-T", str(max(1, round(seconds)))] if seconds else ["-t", str(transactions)]
        command = [
            executable,
            "-n",
            "-M",
            "prepared",
            "-f",
            str(script_file),
            "-c",
            str(clients),
            "-j",
            str(min(clients, 2)),
            *limit,
            "-l",
            f"--log-prefix={folder}/log",
            "-h",
            host.name,
            "-p",
            str(host.port or 5432),
            "-U",
            parsed.user or "postgres",
            parsed.database or "",
        ]
        result = subprocess.run(command, capture_output=True, text=True, check=False)
        if result.returncode not in (0, 2):
            raise RuntimeError(f"pgbench failed: {result.stderr.strip()[-500:]}")
        tps_match = re.search(r"tps = ([\d.]+)", result.stdout)
        failed = re.search(r"number of failed transactions: (\d+)", result.stdout)
        # Exit code 2: a client hit an error and stopped. pgbench 15 counts only
        # serialization and deadlock failures as "failed", so count the aborted clients.
        aborted = re.findall(r"client \d+ script \d+ aborted.*", result.stderr)
        latencies = [
            int(line.split()[2]) / 1e6
            for log in Path(folder).glob("log.*")
            for line in log.read_text().splitlines()
            if line.strip()
        ]
        if not latencies and not aborted:
            raise RuntimeError(f"pgbench ran no transaction: {result.stderr.strip()[-500:]}")
        return Outcome(
            latencies,
            float(tps_match.group(1)) if tps_match else 0.0,
            (int(failed.group(1)) if failed else 0) + len(aborted),
            aborted[0][:200] if aborted else "",
        )
