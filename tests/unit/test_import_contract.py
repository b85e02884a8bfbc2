"""The import contract of `make lint` (pyproject [tool.importlinter]) holds for the package
as it is, and breaks as soon as a runtime module imports a tool: run on a copy of the
package with one such import added."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

CHECKOUT = Path(__file__).resolve().parents[2]
LINT_IMPORTS = Path(sys.executable).with_name("lint-imports")


def lint_imports(root: Path) -> subprocess.CompletedProcess[str]:
    """`lint-imports` with the checkout's contract on the `codeflow` package under `root`."""
    return subprocess.run(
        [str(LINT_IMPORTS), "--config", str(CHECKOUT / "pyproject.toml"), "--no-cache"],
        cwd=root,
        env={**os.environ, "PYTHONPATH": str(root)},
        capture_output=True,
        text=True,
        check=False,
    )


@pytest.fixture
def package_copy(tmp_path: Path) -> Path:
    shutil.copytree(
        CHECKOUT / "codeflow", tmp_path / "codeflow", ignore=shutil.ignore_patterns("__pycache__")
    )
    return tmp_path


def test_the_package_keeps_the_contract(package_copy: Path) -> None:
    result = lint_imports(package_copy)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "1 kept, 0 broken" in result.stdout


@pytest.mark.parametrize(
    ("module", "statement"),
    [
        ("health.py", "from codeflow.tools import migrate"),
        ("settings.py", "import codeflow.testing"),
    ],
)
def test_a_runtime_module_importing_a_tool_breaks_it(package_copy: Path, module: str, statement: str) -> None:
    path = package_copy / "codeflow" / module
    path.write_text(path.read_text() + f"\n\ndef _violation() -> None:\n    {statement}  # noqa\n")
    result = lint_imports(package_copy)
    assert result.returncode != 0
    assert "0 kept, 1 broken" in result.stdout
    assert f"codeflow.{module.removesuffix('.py')} -> codeflow.t" in result.stdout
