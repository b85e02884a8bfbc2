"""Where the tools read and write files: generated files go under the project folder
(the working directory, or `CODEFLOW_PROJECT_DIR`), never into the installed package;
files only a source checkout of codeflow-db has are looked up there, or refused."""

from __future__ import annotations

import os
from pathlib import Path

from codeflow.errors import CodeflowError

_PACKAGE = Path(__file__).resolve().parent.parent


def project_dir() -> Path:
    """The folder commands run from: where `.env`, `.pgdata/` and `db/schema.sql` live."""
    return Path(os.environ.get("CODEFLOW_PROJECT_DIR", os.getcwd())).resolve()


def schema_file() -> Path:
    """Where `migrate` and `schema` write the schema dump by default: dbmate's `./db/schema.sql`."""
    return project_dir() / "db" / "schema.sql"


def new_migrations_dir() -> Path:
    """Where `new-migration` writes by default: the project's `db/migrations`."""
    return project_dir() / "db" / "migrations"


def checkout_dir() -> Path | None:
    """The source checkout this package is imported from (an editable install), or None
    for an installed wheel."""
    root = _PACKAGE.parent
    if (root / "pyproject.toml").is_file() and (root / "queries").is_dir() and (root / "db").is_dir():
        return root
    return None


def require_checkout(command: str) -> Path:
    """The checkout, or a `CodeflowError` saying `command` needs one."""
    root = checkout_dir()
    if root is None:
        raise CodeflowError(
            f"`codeflow-db {command}` regenerates files of codeflow-db's own source checkout, and this is "
            f"an installed package ({_PACKAGE}), which it never writes into: run it from a checkout "
            "(`make install` there)"
        )
    return root
