"""Rows to models, four ways, no database: `python -m bench.models`.

The issue-13 measurement behind `codeflow.queries.Result`: a row (a dict, as `dict(record)`
gives it) validated by `Model.model_validate` (what `Row.from_row` did per row), by a
`TypeAdapter`, by the adapter's core validator (what `Result.one` calls), and a page of
rows validated per row or by one `list[Model]` validator call (what `Result.many` does).
Best of 25 interleaved rounds, so a busy machine slows every way alike.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from pydantic import TypeAdapter

from codeflow.profiles import UserProfile
from codeflow.repositories import Repository
from codeflow.store import all_queries

NOW = datetime.now(UTC)
PROFILE = {
    "id": uuid.uuid4(),
    "user_id": "u",
    "github_id": 1,
    "username": "octocat",
    "last_active_at": NOW,
    "created_at": NOW,
    "updated_at": NOW,
}
REPOSITORY = {
    "id": uuid.uuid4(),
    "user_id": "u",
    "github_id": 1,
    "name": "hello",
    "full_name": "octocat/hello",
    "owner": "octocat",
    "is_active": True,
    "private": False,
    "access_verified_at": NOW,
    "created_at": NOW,
    "updated_at": NOW,
}


def microseconds(call: Callable[[], object], calls: int) -> float:
    started = time.perf_counter()
    for _ in range(calls):
        call()
    return (time.perf_counter() - started) / calls * 1e6


def main() -> None:
    profile_adapter = TypeAdapter(UserProfile)
    one = all_queries()["get_user_profile"].result
    many = all_queries()["list_user_repositories"].result
    cases: dict[str, tuple[Callable[[], Any], int]] = {
        "1 row: Model.model_validate (old from_row)": (
            lambda: UserProfile.model_validate(dict(PROFILE)),
            20_000,
        ),
        "1 row: TypeAdapter(Model).validate_python": (
            lambda: profile_adapter.validate_python(dict(PROFILE)),
            20_000,
        ),
        "1 row: Result.one (the core validator)": (lambda: one.one(PROFILE), 20_000),
    }
    for rows in (25, 100):
        page = [dict(REPOSITORY) for _ in range(rows)]
        cases[f"{rows} rows: per-row model_validate (old from_row)"] = (
            lambda page=page: [Repository.model_validate(dict(row)) for row in page],  # type: ignore[misc]
            300,
        )
        cases[f"{rows} rows: Result.many (one list validator)"] = (
            lambda page=page: many.many(page),  # type: ignore[misc]
            300,
        )
    best = dict.fromkeys(cases, float("inf"))
    for _ in range(25):
        for name, (call, calls) in cases.items():
            best[name] = min(best[name], microseconds(call, calls))
    for name, micros in best.items():
        print(f"{name:52} {micros:8.2f} µs")


if __name__ == "__main__":
    main()
