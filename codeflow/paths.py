"""Where the SQL lives: the repository's folders in a checkout, the package's copy in a wheel."""

from __future__ import annotations

from pathlib import Path

_PACKAGE = Path(__file__).resolve().parent
_CHECKOUT = _PACKAGE.parent


def _first_existing(*candidates: Path) -> Path:
    for candidate in candidates:
        if candidate.is_dir():
            return candidate
    return candidates[-1]


QUERIES_DIR = _first_existing(_PACKAGE / "sql" / "queries", _CHECKOUT / "queries")
MIGRATIONS_DIR = _first_existing(_PACKAGE / "sql" / "migrations", _CHECKOUT / "db" / "migrations")
# The development fixtures `codeflow-db seed` loads (package data too, so the CLI works from a wheel).
SEED_FILE = _first_existing(_PACKAGE / "sql", _CHECKOUT / "db") / "seed.sql"
