"""The generated query functions make mypy (strict, the project's configuration) catch
each misuse the string-keyed `Store._run` let through: a wrong parameter type, a missing
required parameter, None for a parameter the query does not declare `@nullable`, and a
result used as what it is not. A correct call is clean."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from mypy import api

ROOT = Path(__file__).resolve().parents[2]
PREAMBLE = """\
from __future__ import annotations

from codeflow import generated_queries as sql
from codeflow.auth import AdapterUser
from codeflow.profiles import UserProfile
from codeflow.store import Runner


"""
SNIPPETS = {
    "correct": """\
async def call(runner: Runner) -> tuple[UserProfile | None, AdapterUser | None, int]:
    profile = await sql.get_user_profile(runner, user_id="u")
    created = await sql.create_auth_user(
        runner, user_id=None, name=None, email=None, email_verified=None, image=None
    )
    deleted = await sql.delete_inactive_user_profiles(runner, days=30, batch_size=500)
    return profile, created, deleted or 0
""",
    "wrong_type": """\
async def call(runner: Runner) -> None:
    await sql.get_user_profile_by_github_id(runner, github_id="583231")
""",
    "missing_parameter": """\
async def call(runner: Runner) -> None:
    await sql.list_user_repositories(runner, user_id="u")
""",
    "none_for_non_null": """\
async def call(runner: Runner) -> None:
    await sql.get_user_profile(runner, user_id=None)
""",
    "result_misuse": """\
async def call(runner: Runner) -> str:
    profile = await sql.get_user_profile(runner, user_id="u")
    return profile.username
""",
    "result_shape": """\
async def call(runner: Runner) -> UserProfile:
    repositories = await sql.list_user_repositories(runner, user_id="u", active_only=False)
    return repositories
""",
}
EXPECTED = {
    "correct": set(),
    "wrong_type": {"arg-type"},
    "missing_parameter": {"call-arg"},
    "none_for_non_null": {"arg-type"},
    "result_misuse": {"union-attr"},
    "result_shape": {"return-value"},
}


@pytest.fixture(scope="module")
def reported(tmp_path_factory: pytest.TempPathFactory) -> dict[str, set[str]]:
    """The error codes mypy reports in each snippet, in one mypy run."""
    directory = tmp_path_factory.mktemp("snippets")
    for name, body in SNIPPETS.items():
        (directory / f"{name}.py").write_text(PREAMBLE + body)
    stdout, stderr, _ = api.run(
        [
            "--config-file",
            str(ROOT / "pyproject.toml"),
            "--cache-dir",
            str(directory / ".mypy_cache"),
            *(str(directory / f"{name}.py") for name in SNIPPETS),
        ]
    )
    assert not stderr, stderr
    codes: dict[str, set[str]] = {name: set() for name in SNIPPETS}
    for line in stdout.splitlines():
        match = re.match(r".*[/\\](\w+)\.py:\d+: error: .*\[([\w-]+)\]$", line)
        if match:
            codes[match[1]].add(match[2])
    return codes


@pytest.mark.parametrize("snippet", list(SNIPPETS))
def test_mypy_reports_each_misuse_and_nothing_else(reported: dict[str, set[str]], snippet: str) -> None:
    assert reported[snippet] == EXPECTED[snippet]
