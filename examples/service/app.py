"""A small CodeFlow service on the `codeflow` package: one `Database` per process, opened
in the lifespan; the Auth.js session token resolved to a user as a dependency; that
user's id scoping every call; the package's errors answered from one table.

    DATABASE_URL=postgresql://... uvicorn examples.service.app:create_app --factory
"""

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import Annotated
from uuid import UUID

from fastapi import APIRouter, Depends, FastAPI, Request, Response, status
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from fastapi.security import APIKeyCookie, HTTPAuthorizationCredentials, HTTPBearer
from pydantic import BaseModel

from codeflow import (
    AlreadyExists,
    CodeflowError,
    DashboardPage,
    Database,
    DatabaseUnavailable,
    HealthReport,
    InvalidInput,
    NotFound,
    PoolExhausted,
    PullRequest,
    PullRequestCounts,
    ReferencedRowMissing,
    Repository,
    RepositoryCounts,
    Settings,
    TransactionConflict,
    UserProfile,
)

logger = logging.getLogger(__name__)

GITHUB = "github"


class NotSignedIn(Exception):
    """No session token in the request, or one that names no live session."""


# --- errors: one table ---------------------------------------------------------------


@dataclass(frozen=True)
class Reply:
    """How the service answers an error. A 5xx says `public` instead of the error's own
    message: that holds no parameter value, but it may name a host or a query, which is
    the operator's business (it is logged), not the client's."""

    status: int
    public: str | None = None
    headers: dict[str, str] = field(default_factory=dict)


# Looked up along the raised error's class hierarchy, so QueryTimeout and PoolClosed
# answer as DatabaseUnavailable, and a CodeflowError with no row of its own as a 500.
ERROR_REPLIES: dict[type[Exception], Reply] = {
    NotSignedIn: Reply(status.HTTP_401_UNAUTHORIZED, headers={"WWW-Authenticate": "Bearer"}),
    NotFound: Reply(status.HTTP_404_NOT_FOUND),
    AlreadyExists: Reply(status.HTTP_409_CONFLICT),
    # Here a foreign key fails only when the signed-in user's row was deleted while the
    # request ran: the request was well formed, the server's state changed under it.
    ReferencedRowMissing: Reply(status.HTTP_409_CONFLICT),
    InvalidInput: Reply(status.HTTP_422_UNPROCESSABLE_CONTENT),
    DatabaseUnavailable: Reply(
        status.HTTP_503_SERVICE_UNAVAILABLE,
        public="the database is unavailable; retry later",
        headers={"Retry-After": "5"},
    ),
    # This process is saturated, not the database: a shorter wait, and a different word
    # for whoever reads the dashboards.
    PoolExhausted: Reply(
        status.HTTP_503_SERVICE_UNAVAILABLE,
        public="the service is busy; retry shortly",
        headers={"Retry-After": "1"},
    ),
    # Single statements are retried inside the package; a transaction's conflict is
    # the client's to retry, and every write here is safe to send again.
    TransactionConflict: Reply(
        status.HTTP_503_SERVICE_UNAVAILABLE,
        public="a concurrent change conflicted; retry the request",
        headers={"Retry-After": "1"},
    ),
    CodeflowError: Reply(status.HTTP_500_INTERNAL_SERVER_ERROR, public="internal error"),
}


class ErrorBody(BaseModel):
    """Every error response: the error's class and a message, never a submitted value."""

    error: str
    message: str


def error_response(exc: Exception) -> JSONResponse:
    """The response `ERROR_REPLIES` gives `exc` (whose class, or a base of it, has a row)."""
    reply = next(ERROR_REPLIES[cls] for cls in type(exc).__mro__ if cls in ERROR_REPLIES)
    if reply.public is None:
        message = str(exc)
    else:
        # The package's errors carry no driver error in their chain: nothing else to log.
        logger.warning("%s %s: %s", reply.status, type(exc).__name__, exc)
        message = reply.public
    body = ErrorBody(error=type(exc).__name__, message=message)
    return JSONResponse(body.model_dump(), status_code=reply.status, headers=reply.headers)


async def _reply_to_error(_request: Request, exc: Exception) -> JSONResponse:
    return error_response(exc)


async def _reply_to_invalid_request(_request: Request, exc: Exception) -> JSONResponse:
    # FastAPI's own 422 body quotes the submitted input; this one names fields only.
    errors = exc.errors() if isinstance(exc, RequestValidationError) else []
    message = "; ".join(".".join(map(str, error["loc"])) + f": {error['msg']}" for error in errors)
    body = ErrorBody(error="InvalidInput", message=message)
    return JSONResponse(body.model_dump(), status_code=status.HTTP_422_UNPROCESSABLE_CONTENT)


ERROR_RESPONSES: dict[int | str, dict[str, object]] = {
    code: {"model": ErrorBody} for code in sorted({reply.status for reply in ERROR_REPLIES.values()})
}


# --- dependencies --------------------------------------------------------------------


def get_database(request: Request) -> Database:
    database: Database = request.app.state.database
    return database


DB = Annotated[Database, Depends(get_database)]

_bearer = HTTPBearer(auto_error=False, description="The Auth.js database session token.")
# Auth.js names its cookie with the __Secure- prefix on HTTPS, without it on plain HTTP.
# Named, or both would be one "APIKeyCookie" scheme in the OpenAPI document.
_secure_cookie = APIKeyCookie(
    name="__Secure-authjs.session-token", scheme_name="AuthjsSecureCookie", auto_error=False
)
_cookie = APIKeyCookie(name="authjs.session-token", scheme_name="AuthjsCookie", auto_error=False)


async def current_user_id(
    db: DB,
    header: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
    secure_cookie: Annotated[str | None, Depends(_secure_cookie)],
    cookie: Annotated[str | None, Depends(_cookie)],
) -> str:
    """The Auth.js user (`users.id`) the request's session token belongs to.

    On the primary, not `db.read`: a session the front end has just written may not
    have reached a replica yet.
    """
    token = (header.credentials if header else None) or secure_cookie or cookie
    if not token:
        raise NotSignedIn("no session token: send Authorization: Bearer <token> or the Auth.js cookie")
    resolved = await db.auth.get_session_and_user(token)
    if resolved is None:
        raise NotSignedIn("the session is unknown or has expired")
    return resolved.user.id


UserId = Annotated[str, Depends(current_user_id)]


# --- request bodies ------------------------------------------------------------------


class GithubIdentity(BaseModel):
    """PUT /profile: the GitHub account the user connects."""

    github_id: int
    username: str


class NewRepository(BaseModel):
    """POST /repositories: a repository as GitHub describes it."""

    github_id: int
    name: str
    full_name: str
    owner: str
    private: bool


class RepositoryChange(BaseModel):
    """PATCH /repositories/{id}: pause (false) or resume (true) monitoring."""

    is_active: bool


# --- routes --------------------------------------------------------------------------

router = APIRouter(responses=ERROR_RESPONSES)


@router.get("/health", responses={503: {"model": HealthReport}})
async def health(db: DB, response: Response) -> HealthReport:
    """The database's health and this process's pool usage; 503 when not ok."""
    report = await db.health.report(timeout=2.0)
    if not report.ok:
        response.status_code = status.HTTP_503_SERVICE_UNAVAILABLE
        response.headers["Retry-After"] = "5"
    return report


@router.get("/profile")
async def get_profile(db: DB, user_id: UserId) -> UserProfile:
    return await db.profiles.get_user_profile(user_id)


@router.put("/profile", status_code=status.HTTP_201_CREATED)
async def put_profile(identity: GithubIdentity, db: DB, user_id: UserId, response: Response) -> UserProfile:
    """Create the user's profile and link their GitHub account: both or neither.

    201 when created; 200 when the user already has this very profile (a retried PUT);
    409 when the user has another one, or the GitHub id, login or account belongs to
    someone else.
    """
    account_id = str(identity.github_id)
    try:
        async with db.transaction() as tx:
            profile = await tx.profiles.create_user_profile(
                user_id=user_id, github_id=identity.github_id, username=identity.username
            )
            # Signing in with GitHub has linked the account already; any other user's
            # link must undo the profile too.
            owner = await tx.auth.get_user_by_account(provider=GITHUB, provider_account_id=account_id)
            if owner is None:
                await tx.auth.link_account(
                    user_id=user_id, type="oauth", provider=GITHUB, provider_account_id=account_id
                )
            elif owner.id != user_id:
                raise AlreadyExists("this GitHub account is linked to another user")
    except AlreadyExists as exc:
        if exc.constraint != "user_profiles_user_id_key":
            raise
        existing = await db.profiles.get_user_profile(user_id)
        if (existing.github_id, existing.username) != (identity.github_id, identity.username):
            raise
        response.status_code = status.HTTP_200_OK
        return existing
    return profile


@router.get("/repositories")
async def list_repositories(db: DB, user_id: UserId, active_only: bool = False) -> list[Repository]:
    # The primary, not db.read: a user expects the repository just added in the list.
    return await db.repositories.get_user_repositories(user_id, active_only=active_only)


@router.get("/repositories/counts")
async def count_repositories(db: DB, user_id: UserId) -> RepositoryCounts:
    return await db.repositories.count_user_repositories(user_id)


@router.post("/repositories", status_code=status.HTTP_201_CREATED)
async def add_repository(repository: NewRepository, db: DB, user_id: UserId) -> Repository:
    """Start monitoring a repository. A real service first asks GitHub, with the user's
    token, whether the user can read it, and takes `private` from GitHub's answer: the
    package records that check (`add_repository`'s contract)."""
    return await db.repositories.add_repository(user_id, **repository.model_dump())


@router.get("/repositories/{repository_id}")
async def get_repository(repository_id: UUID, db: DB, user_id: UserId) -> Repository:
    return await db.repositories.get_repository(user_id, repository_id=repository_id)


@router.patch("/repositories/{repository_id}")
async def change_repository(
    repository_id: UUID, change: RepositoryChange, db: DB, user_id: UserId
) -> Repository:
    return await db.repositories.update_repository(
        user_id, repository_id=repository_id, is_active=change.is_active
    )


@router.delete("/repositories/{repository_id}", status_code=status.HTTP_204_NO_CONTENT)
async def delete_repository(repository_id: UUID, db: DB, user_id: UserId) -> None:
    await db.repositories.delete_repository(user_id, repository_id=repository_id)


@router.get("/pull-requests")
async def dashboard(
    *,
    db: DB,
    user_id: UserId,
    cursor: str | None = None,
    limit: int = 25,
    repository_github_id: int | None = None,
    author: str | None = None,
    draft: bool | None = None,
) -> DashboardPage:
    """Open PRs of the user's active repositories, newest activity first; pass
    `next_cursor` back as `cursor` for the next page (null on the last). The read pool:
    the cache is the sync job's, and a replica's lag is fine for it."""
    return await db.read.pull_requests.get_dashboard(
        user_id,
        cursor=cursor,
        limit=limit,
        repository_github_id=repository_github_id,
        author=author,
        draft=draft,
    )


@router.get("/pull-requests/counts")
async def count_pull_requests(db: DB, user_id: UserId) -> list[PullRequestCounts]:
    return await db.read.pull_requests.count_user_pull_requests(user_id)


@router.get("/pull-requests/{pull_request_id}")
async def get_pull_request(pull_request_id: int, db: DB, user_id: UserId) -> PullRequest:
    return await db.read.pull_requests.get_pull_request(user_id, pull_request_id=pull_request_id)


# --- the app -------------------------------------------------------------------------


def create_app(settings: Settings | None = None) -> FastAPI:
    """The service on `settings` (None: from the environment, DATABASE_URL and the rest).

    The lifespan opens the pool, failing start-up with `DatabaseUnavailable` when the
    database cannot be reached, and closes it on shutdown, after the requests in flight.
    """
    database = Database(settings)

    @asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        async with database:
            yield

    app = FastAPI(title="CodeFlow example service", lifespan=lifespan)
    app.state.database = database
    app.include_router(router)
    for error in ERROR_REPLIES:
        app.add_exception_handler(error, _reply_to_error)
    app.add_exception_handler(RequestValidationError, _reply_to_invalid_request)
    return app
