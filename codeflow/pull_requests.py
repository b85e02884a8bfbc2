"""`PullRequestStore`: the cache of GitHub pull-request state, and its models.

GitHub is the source of truth; the `pull_requests` table only caches it so the
dashboard reads fast, and can be dropped and fetched again at any time
(docs/pull_requests.md). One row per PR, shared by every user who monitors its
repository. Every `user_id` parameter is `users.id`, the Auth.js identity.
"""

from __future__ import annotations

import base64
import binascii
import re
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime, timedelta
from typing import Annotated, Any, Literal, Self

from pydantic import (
    AwareDatetime,
    BaseModel,
    ConfigDict,
    Field,
    TypeAdapter,
    ValidationError,
    model_validator,
)

from codeflow import generated_queries as sql
from codeflow.errors import InvalidInput
from codeflow.models import BIGINT_MAX, GithubId, Input, Row, Text, Timestamp, bounded
from codeflow.store import (
    BATCH_SIZE,
    DAYS,
    GITHUB_ID,
    USER_ID,
    Runner,
    Store,
    counted,
    flag,
    found,
    in_batches,
    invalid,
    validated,
)

PullRequestState = Literal["open", "closed", "merged"]
PullRequestNumber = Annotated[int, Field(strict=True, gt=0, le=2**31 - 1)]
# Users, "ghost" for deleted accounts, apps as "name[bot]", managed users as "name_short".
AuthorLogin = Annotated[str, Field(strict=True, pattern=r"^[A-Za-z0-9_-]+(\[bot\])?$", max_length=100)]

_AUTHOR: TypeAdapter[str] = TypeAdapter(AuthorLogin)
_PAGE_SIZE: TypeAdapter[int] = TypeAdapter(Annotated[int, Field(strict=True, ge=1, le=100)])
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_CURSOR = re.compile(r"(-?[0-9]{1,19})\.([0-9]{1,19})")


class PullRequestData(Input):
    """One PR as GitHub describes it, held to the rules the table enforces."""

    id: GithubId = Field(description="GitHub's pull-request id, not its number.")
    repository_github_id: GithubId = Field(description="GitHub id of the base repository.")
    number: PullRequestNumber
    title: Annotated[Text, bounded("pull_requests.title", min_length=1)]
    author_login: AuthorLogin
    state: PullRequestState
    draft: bool = False
    head_ref: Annotated[Text, bounded("pull_requests.head_ref", min_length=1)]
    base_ref: Annotated[Text, bounded("pull_requests.base_ref", min_length=1)]
    html_url: Annotated[Text, bounded("pull_requests.html_url"), Field(pattern=r"^https://")]
    created_at: Timestamp
    updated_at: Timestamp
    closed_at: Timestamp | None = None
    merged_at: Timestamp | None = None

    @model_validator(mode="after")
    def _as_github_keeps_it(self) -> Self:
        if (self.state == "open") != (self.closed_at is None):
            raise ValueError("closed_at must be set exactly when the pull request is closed or merged")
        if (self.state == "merged") != (self.merged_at is not None):
            raise ValueError("merged_at must be set exactly when the pull request is merged")
        later = (self.updated_at, self.closed_at, self.merged_at)
        if any(moment < self.created_at for moment in later if moment is not None):
            raise ValueError("updated_at, closed_at and merged_at cannot precede created_at")
        return self

    @classmethod
    def from_github(cls, pull_request: Mapping[str, Any]) -> Self:
        """From a pull-request object of GitHub's REST API, or the `pull_request` of a
        webhook payload. GitHub's state is open or closed; merged is a closed PR with
        `merged_at`. `InvalidInput` if a field is missing or breaks a rule."""
        # Each error is raised after its `except` block, so no driver of it (a KeyError,
        # a ValueError quoting a timestamp) stays on the InvalidInput as __context__.
        problem = None
        try:
            base = pull_request["base"]
            fields = {
                "id": pull_request["id"],
                "repository_github_id": base["repo"]["id"],
                "number": pull_request["number"],
                "title": pull_request["title"],
                "author_login": pull_request["user"]["login"],
                "state": "merged" if pull_request.get("merged_at") else pull_request["state"],
                "draft": pull_request.get("draft") or False,
                "head_ref": pull_request["head"]["ref"],
                "base_ref": base["ref"],
                "html_url": pull_request["html_url"],
                "created_at": _github_time(pull_request["created_at"]),
                "updated_at": _github_time(pull_request["updated_at"]),
                "closed_at": _github_time(pull_request.get("closed_at")),
                "merged_at": _github_time(pull_request.get("merged_at")),
            }
        except KeyError:
            problem = InvalidInput("not a GitHub pull request: a required field is missing")
        except (TypeError, ValueError) as exc:
            # The message may quote a value (a timestamp GitHub never sends): name only the kind.
            problem = InvalidInput(f"not a GitHub pull request: {exc.__class__.__name__}")
        if problem is not None:
            raise problem
        try:
            return cls.model_validate(fields)
        except ValidationError as exc:
            problem = invalid(exc, "pull_request")
        raise problem


class PullRequest(Row):
    """A cached PR."""

    id: int
    repository_github_id: int
    number: int
    title: str
    author_login: str
    state: PullRequestState
    draft: bool
    head_ref: str
    base_ref: str
    html_url: str
    created_at: AwareDatetime
    updated_at: AwareDatetime
    closed_at: AwareDatetime | None
    merged_at: AwareDatetime | None
    synced_at: AwareDatetime = Field(description="When the cache last took a newer state from GitHub.")


class DashboardPullRequest(PullRequest):
    """A PR on a user's dashboard, with the name of the repository as that user monitors it."""

    repository_full_name: str


class DashboardPage(BaseModel):
    """One page of the dashboard; pass `next_cursor` back for the next, None on the last."""

    model_config = ConfigDict(frozen=True)

    items: list[DashboardPullRequest]
    next_cursor: str | None


class PullRequestCounts(Row):
    """Cached PRs of one of a user's active repositories, by state."""

    repository_github_id: int
    full_name: str
    open: int
    closed: int
    merged: int


class PruneResult(BaseModel):
    """How many cached PRs a prune deleted, by reason."""

    model_config = ConfigDict(frozen=True)

    unmonitored: int
    expired: int


class PullRequestStore(Store):
    """The pull-request cache (`Database.pull_requests`, or a transaction's).

    Reads for a user show a private repository's PRs only while that user's access to it
    was verified on GitHub less than `DB_PRIVATE_ACCESS_WINDOW_S` ago, by the database's
    clock (`RepositoryStore.add_repository`, `verify_repository_access`).
    """

    def __init__(self, runner: Runner) -> None:
        super().__init__(runner)
        self._private_access_window = timedelta(seconds=runner.settings.db_private_access_window_s)

    async def upsert_pull_request(self, data: PullRequestData) -> PullRequest | None:
        """Cache one PR's state unless the cache holds it or a newer one for its
        repository and number (by GitHub's `updated_at`, ties broken as
        docs/pull_requests.md says). A newer state under another PR id replaces the
        cached PR of that number. Returns the row written, or None when nothing changed.
        Safe to call concurrently with any states of the same PR."""
        pr = _checked(data)
        return await sql.upsert_pull_request(
            self._runner,
            id=pr.id,
            repository_github_id=pr.repository_github_id,
            number=pr.number,
            title=pr.title,
            author_login=pr.author_login,
            state=pr.state,
            draft=pr.draft,
            head_ref=pr.head_ref,
            base_ref=pr.base_ref,
            html_url=pr.html_url,
            created_at=pr.created_at,
            updated_at=pr.updated_at,
            closed_at=pr.closed_at,
            merged_at=pr.merged_at,
        )

    async def upsert_pull_requests(self, batch: Sequence[PullRequestData]) -> int:
        """`upsert_pull_request` for many PRs (an API page, a webhook backlog) in one
        statement. Of several states of one repository and number only the newest
        counts. Returns how many rows were written. Rows are written in key order, so
        concurrent calls never deadlock each other (unless a `transaction()` holds
        rows written by earlier calls)."""
        if not isinstance(batch, Sequence) or isinstance(batch, (str, bytes)):
            raise InvalidInput("batch must be a list or tuple of PullRequestData")
        checked = [_checked(data) for data in batch]
        if not checked:
            return 0
        stored = await sql.upsert_pull_requests(
            self._runner,
            ids=[pr.id for pr in checked],
            repository_github_ids=[pr.repository_github_id for pr in checked],
            numbers=[pr.number for pr in checked],
            titles=[pr.title for pr in checked],
            author_logins=[pr.author_login for pr in checked],
            states=[pr.state for pr in checked],
            drafts=[pr.draft for pr in checked],
            head_refs=[pr.head_ref for pr in checked],
            base_refs=[pr.base_ref for pr in checked],
            html_urls=[pr.html_url for pr in checked],
            created_ats=[pr.created_at for pr in checked],
            updated_ats=[pr.updated_at for pr in checked],
            closed_ats=[pr.closed_at for pr in checked],
            merged_ats=[pr.merged_at for pr in checked],
        )
        return counted(stored)

    async def get_pull_request(self, user_id: str, *, pull_request_id: int) -> PullRequest:
        """One cached PR by GitHub's PR id, if the user may see it: the user monitors its
        repository (paused too) and, for a private one, is verified within the window.
        `NotFound` otherwise, as when it is not cached."""
        pull_request = await sql.get_pull_request(
            self._runner,
            user_id=validated(USER_ID, user_id, "user_id"),
            pull_request_id=validated(GITHUB_ID, pull_request_id, "pull_request_id"),
            private_access_window=self._private_access_window,
        )
        return found(pull_request, "pull request")

    async def get_dashboard(
        self,
        user_id: str,
        *,
        cursor: str | None = None,
        limit: int = 25,
        repository_github_id: int | None = None,
        author: str | None = None,
        draft: bool | None = None,
    ) -> DashboardPage:
        """Open PRs of the user's active repositories (private ones only within the
        access window), newest activity (GitHub's `updated_at`) first, `limit` per page
        (1 to 100; else `InvalidInput`) from `cursor`. Filters: one repository (by GitHub
        id), one author login (any case), drafts only or non-drafts only.

        Pages never repeat a PR nor skip one that existed when paging started, whatever
        is inserted meanwhile; a PR updated meanwhile moves to the top, so the pages
        already behind the cursor may miss it. Empty for a user with no profile.
        """
        draft = None if draft is None else flag(draft, "draft")
        before_updated_at, before_id = (None, None) if cursor is None else _position(cursor)
        page_size = validated(_PAGE_SIZE, limit, "limit")
        rows = await sql.list_dashboard_pull_requests(
            self._runner,
            user_id=validated(USER_ID, user_id, "user_id"),
            private_access_window=self._private_access_window,
            before_updated_at=before_updated_at,
            before_id=before_id,
            repository_github_id=(
                None
                if repository_github_id is None
                else validated(GITHUB_ID, repository_github_id, "repository_github_id")
            ),
            author_login=None if author is None else validated(_AUTHOR, author, "author"),
            draft=draft,
            page_size=page_size + 1,  # one more tells whether another page follows
        )
        items = rows[:page_size]
        next_cursor = _cursor(items[-1].updated_at, items[-1].id) if len(rows) > page_size else None
        return DashboardPage(items=items, next_cursor=next_cursor)

    async def count_user_pull_requests(self, user_id: str) -> list[PullRequestCounts]:
        """Cached PRs per state for each of the user's active repositories, by full
        name; a repository with none counts zeros; a private one outside the access
        window is left out. Empty for a user with no profile."""
        return await sql.count_user_pull_requests(
            self._runner,
            user_id=validated(USER_ID, user_id, "user_id"),
            private_access_window=self._private_access_window,
        )

    async def prune_pull_requests(
        self, *, closed_retention_days: int = 90, batch_size: int = 1000
    ) -> PruneResult:
        """Delete the PRs of repositories no user monitors any more (a paused repository
        is still monitored), then PRs closed or merged more than `closed_retention_days`
        ago. Each batch of `batch_size` rows is its own short statement, so no lock is
        held for long; rows a concurrent writer holds wait for the next prune."""
        days = validated(DAYS, closed_retention_days, "closed_retention_days")
        batch = validated(BATCH_SIZE, batch_size, "batch_size")
        unmonitored = await in_batches(
            lambda: sql.delete_unmonitored_pull_requests(self._runner, batch_size=batch), batch
        )
        expired = await in_batches(
            lambda: sql.delete_expired_pull_requests(self._runner, days=days, batch_size=batch), batch
        )
        return PruneResult(unmonitored=unmonitored, expired=expired)


def _github_time(value: object) -> datetime | None:
    """GitHub's ISO 8601 text ("2026-12-01T10:00:00Z") as a datetime; None stays None.
    The model is strict, so the one place a string becomes a datetime is here."""
    if value is None:
        return None
    if not isinstance(value, str):
        raise TypeError("a timestamp must be ISO 8601 text")
    return datetime.fromisoformat(value)


def _checked(data: object) -> PullRequestData:
    if not isinstance(data, PullRequestData):
        raise InvalidInput("data must be a PullRequestData")
    return data


def _cursor(updated_at: datetime, pull_request_id: int) -> str:
    """The opaque position after a PR: base64url of "<updated_at in epoch µs>.<id>"."""
    micros = (updated_at - _EPOCH) // timedelta(microseconds=1)
    return base64.urlsafe_b64encode(f"{micros}.{pull_request_id}".encode()).decode().rstrip("=")


def _position(cursor: object) -> tuple[datetime, int]:
    """The (updated_at, id) a cursor from `_cursor` encodes; `InvalidInput` otherwise."""
    if isinstance(cursor, str):
        try:
            raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode("ascii")
            match = _CURSOR.fullmatch(raw)
            if match and 0 < int(match[2]) <= BIGINT_MAX:
                return _EPOCH + timedelta(microseconds=int(match[1])), int(match[2])
        except (binascii.Error, UnicodeDecodeError, ValueError, OverflowError):
            pass
    raise InvalidInput("cursor is malformed: pass a next_cursor from a previous page")
