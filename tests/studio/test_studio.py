"""`codeflow-db studio` (pgAdmin 4, installed on first use into `.codeflow/studio-venv`)
shows a table's rows in the browser: headless Chromium, driven over the DevTools
protocol, opens pgAdmin's data view of a seeded table on a scratch database; the test
saves a screenshot and the grid's DOM and checks the seeded values are in it.
Runs where Chromium is installed (`apt-get install chromium`); skipped otherwise."""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import re
import select
import shutil
import signal
import sqlite3
import subprocess
import sys
import time
import urllib.request
import uuid
from base64 import b64decode
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import asyncpg
import pytest
import websocket

from codeflow import dburl
from codeflow.tools import migrate

CHECKOUT = Path(__file__).resolve().parents[2]
CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
# Skipped before any fixture runs: no pgAdmin is started for a test that cannot use it.
pytestmark = [
    pytest.mark.integration,
    pytest.mark.skipif(CHROMIUM is None, reason="Chromium is not installed (apt-get install chromium)"),
]
LABELS = [f"studio-row-{n}-{uuid.uuid4().hex[:6]}" for n in range(3)]
# First use installs pgAdmin 4 from PyPI (a few minutes); later runs start in seconds.
STUDIO_START_TIMEOUT_S = 900.0


@pytest.fixture
def seeded_url(codeflow_database_url: str) -> Iterator[str]:
    """A scratch database with one table of LABELS rows; dropped whatever happens."""
    url = dburl.parse(codeflow_database_url).with_database(f"codeflow_studio_{uuid.uuid4().hex[:8]}").render()

    async def create() -> None:
        await migrate.ensure_database(url)
        connection = await asyncpg.connect(url)
        try:
            await connection.execute("CREATE TABLE studio_rows (id int PRIMARY KEY, label text NOT NULL)")
            await connection.executemany(
                "INSERT INTO studio_rows (id, label) VALUES ($1, $2)", list(enumerate(LABELS, 1))
            )
        finally:
            await connection.close()

    try:
        asyncio.run(create())
        yield url
    finally:
        asyncio.run(migrate.drop_database(url))


async def object_ids(url: str) -> tuple[int, int]:
    """The database's and the table's oids, which pgAdmin's data view is addressed by."""
    connection = await asyncpg.connect(url)
    try:
        row = await connection.fetchrow(
            "SELECT d.oid AS did, 'public.studio_rows'::regclass::oid AS oid "
            "FROM pg_database d WHERE d.datname = current_database()"
        )
    finally:
        await connection.close()
    assert row is not None
    return int(row["did"]), int(row["oid"])


def wait_for_line(process: subprocess.Popen[str], pattern: str, timeout_s: float) -> re.Match[str]:
    assert process.stdout is not None
    deadline = time.monotonic() + timeout_s
    seen = []
    while time.monotonic() < deadline:
        ready, _, _ = select.select([process.stdout], [], [], 1.0)
        if ready:
            line = process.stdout.readline()
            if not line and process.poll() is not None:
                break
            seen.append(line)
            if match := re.search(pattern, line):
                return match
    pytest.fail(f"no line matching {pattern!r} in time; output:\n{''.join(seen)}")


@pytest.fixture
def studio(seeded_url: str, tmp_path: Path) -> Iterator[tuple[str, Path]]:
    """`codeflow-db studio --no-browser` on the seeded database, from a temporary project
    folder; its URL and state folder. Ctrl-C (SIGINT) at the end, as a developer stops it."""
    project = tmp_path / "project"
    project.mkdir()
    env = {
        **os.environ,
        "DATABASE_URL": seeded_url,
        "CODEFLOW_PROJECT_DIR": str(project),
        "CODEFLOW_STUDIO_VENV": str(CHECKOUT / ".codeflow" / "studio-venv"),
    }
    process = subprocess.Popen(
        [str(Path(sys.executable).with_name("codeflow-db")), "studio", "--no-browser"],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        start_new_session=True,
        preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL),  # noqa: PLW1509
    )
    try:
        match = wait_for_line(process, r"(http://127\.0\.0\.1:\d+/browser/\?key=\S+)", STUDIO_START_TIMEOUT_S)
        yield match.group(1), project / ".codeflow" / "studio"
        process.send_signal(signal.SIGINT)
        assert process.wait(timeout=30) == 130
    finally:
        # Whatever is left of its process group (pgAdmin included) goes too.
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGKILL)
        process.wait()


class Page:
    """One Chromium tab over the DevTools protocol."""

    def __init__(self, socket_url: str) -> None:
        self.socket = websocket.create_connection(socket_url, timeout=60)
        self.last_id = 0

    def call(self, method: str, **params: Any) -> dict[str, Any]:
        self.last_id += 1
        self.socket.send(json.dumps({"id": self.last_id, "method": method, "params": params}))
        while True:
            message = json.loads(self.socket.recv())
            if message.get("id") == self.last_id:
                if "error" in message:
                    raise AssertionError(f"{method}: {message['error']}")
                return dict(message["result"])

    def evaluate(self, expression: str) -> Any:
        return self.call("Runtime.evaluate", expression=expression, returnByValue=True)["result"].get("value")

    def wait_for(self, expression: str, timeout_s: float = 60.0) -> Any:
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            value = self.evaluate(expression)
            if value:
                return value
            time.sleep(0.5)
        pytest.fail(f"timed out waiting for {expression}")


@pytest.fixture
def page(tmp_path: Path) -> Iterator[Page]:
    """A headless Chromium with one tab; closed and stopped at the end."""
    assert CHROMIUM is not None  # the module is skipped otherwise
    sandbox = ["--no-sandbox"] if os.geteuid() == 0 else []  # Chromium's sandbox refuses root
    browser = subprocess.Popen(
        [
            CHROMIUM,
            "--headless=new",
            *sandbox,
            "--disable-gpu",
            "--window-size=1400,900",
            "--remote-debugging-port=0",
            f"--user-data-dir={tmp_path / 'chromium'}",
            "about:blank",
        ],
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert browser.stderr is not None
        for line in browser.stderr:
            if match := re.search(r"DevTools listening on ws://127\.0\.0\.1:(\d+)/", line):
                break
        else:
            pytest.fail("Chromium did not start its DevTools endpoint")
        with urllib.request.urlopen(f"http://127.0.0.1:{match.group(1)}/json/list") as answer:
            (target,) = [item for item in json.load(answer) if item["type"] == "page"]
        tab = Page(target["webSocketDebuggerUrl"])
        try:
            yield tab
        finally:
            tab.socket.close()
    finally:
        browser.terminate()
        browser.wait(timeout=30)


def test_studio_shows_a_tables_rows_in_the_browser(
    studio: tuple[str, Path], page: Page, seeded_url: str, tmp_path: Path
) -> None:
    url, state = studio
    did, oid = asyncio.run(object_ids(seeded_url))
    with sqlite3.connect(state / "data" / "pgadmin4.db") as config:
        ((sid, sgid),) = config.execute("SELECT id, servergroup_id FROM server").fetchall()

    page.call("Page.enable")
    page.call("Page.navigate", url=url)
    page.wait_for("!!(window.pgAdmin && pgAdmin.Browser && document.body.innerText.includes('CodeFlow'))")

    # What pgAdmin's "View/Edit Data > All Rows" on the table does (cmd_type 3), without
    # clicking through the tree: open its data-view panel for this server, database, table.
    database = dburl.parse(seeded_url).database
    transaction = 424242
    panel = (
        f"/sqleditor/panel/{transaction}?is_query_tool=false&cmd_type=3&obj_type=table&obj_id={oid}"
        f"&sgid={sgid}&sid={sid}&did={did}&server_type=pg&server_cursor=false"
    )
    node = {
        "server_group": {"_id": sgid},
        "server": {"_id": sid, "label": database, "server_type": "pg", "user": {"name": "postgres"}},
        "database": {"_id": did, "label": database, "_label": database},
        "schema": {"label": "public"},
        "table": {"_id": oid, "label": "studio_rows"},
    }
    form = {"title": "studio_rows", "selectedNodeInfo": json.dumps(node), "server_cursor": False}
    page.evaluate(
        f"pgAdmin.Browser.Events.trigger('pgadmin:tool:show', 'id-query-tool_{transaction}', "
        f"{json.dumps(panel)}, {json.dumps(form)}, {{title: 'studio_rows'}}, false)"
    )
    grid = (
        "Array.from(document.querySelectorAll('iframe'))"
        ".map(f => f.contentDocument && f.contentDocument.body ? f.contentDocument.body.innerText : '')"
        ".join('\\n')"
    )
    page.wait_for(f"({grid}).includes({json.dumps(LABELS[-1])}) && ({grid}).includes('Total rows: 3')")

    screenshot = tmp_path / "studio.png"
    screenshot.write_bytes(b64decode(page.call("Page.captureScreenshot", format="png")["data"]))
    dom = page.evaluate(
        "Array.from(document.querySelectorAll('iframe'))"
        ".map(f => f.contentDocument.documentElement.outerHTML).join('\\n')"
    )
    (tmp_path / "studio.html").write_text(dom)
    assert screenshot.read_bytes().startswith(b"\x89PNG\r\n\x1a\n")
    assert screenshot.stat().st_size > 20_000, "a rendered page, not a blank one"
    assert all(label in dom for label in LABELS), "every seeded row is in the grid"
