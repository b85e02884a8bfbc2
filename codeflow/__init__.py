"""CodeFlow's data layer: PostgreSQL through named SQL, asyncpg and pydantic models.

`Database` is the entry point: it owns the pools and exposes the stores (`profiles`,
`repositories`, `auth`, `pull_requests`, `health`); everything a caller passes or gets
back is a plain value or one of the models below, never a driver object.
"""

from codeflow.auth import (
    AdapterAccount,
    AdapterSession,
    AdapterUser,
    Authenticator,
    AuthStore,
    PurgeCounts,
    SessionAndUser,
    VerificationToken,
)
from codeflow.database import Database, Stores, Transaction
from codeflow.errors import (
    AlreadyExists,
    CodeflowError,
    ConfigurationError,
    DatabaseUnavailable,
    InvalidInput,
    NotFound,
    PoolClosed,
    PoolExhausted,
    QueryFailed,
    QueryTimeout,
    ReferencedRowMissing,
    TransactionConflict,
)
from codeflow.health import HealthReport, HealthStore
from codeflow.profiles import ProfileStore, UserProfile
from codeflow.pull_requests import (
    DashboardPage,
    DashboardPullRequest,
    PruneResult,
    PullRequest,
    PullRequestCounts,
    PullRequestData,
    PullRequestState,
    PullRequestStore,
)
from codeflow.repositories import Repository, RepositoryCounts, RepositoryStore
from codeflow.settings import Settings, load_settings

__all__ = [
    "AdapterAccount",
    "AdapterSession",
    "AdapterUser",
    "AlreadyExists",
    "AuthStore",
    "Authenticator",
    "CodeflowError",
    "ConfigurationError",
    "DashboardPage",
    "DashboardPullRequest",
    "Database",
    "DatabaseUnavailable",
    "HealthReport",
    "HealthStore",
    "InvalidInput",
    "NotFound",
    "PoolClosed",
    "PoolExhausted",
    "ProfileStore",
    "PruneResult",
    "PullRequest",
    "PullRequestCounts",
    "PullRequestData",
    "PullRequestState",
    "PullRequestStore",
    "PurgeCounts",
    "QueryFailed",
    "QueryTimeout",
    "ReferencedRowMissing",
    "Repository",
    "RepositoryCounts",
    "RepositoryStore",
    "SessionAndUser",
    "Settings",
    "Stores",
    "Transaction",
    "TransactionConflict",
    "UserProfile",
    "VerificationToken",
    "load_settings",
]
