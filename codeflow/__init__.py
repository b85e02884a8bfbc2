"""CodeFlow's data layer: PostgreSQL through named SQL, asyncpg and pydantic models."""

from codeflow.auth import AccountData, Authenticator, AuthStore
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
from codeflow.health import check_database_connection, health_report
from codeflow.models import HealthReport, Repository, RepositoryCounts, RepositoryData, UserProfile
from codeflow.pool import close_pool, create_pool, get_pool
from codeflow.pull_requests import (
    DashboardPage,
    DashboardPullRequest,
    PruneResult,
    PullRequest,
    PullRequestCounts,
    PullRequestData,
    PullRequestStore,
)
from codeflow.service import DatabaseService
from codeflow.settings import Settings, load_settings

__all__ = [
    "AccountData",
    "AlreadyExists",
    "AuthStore",
    "Authenticator",
    "CodeflowError",
    "ConfigurationError",
    "DashboardPage",
    "DashboardPullRequest",
    "DatabaseService",
    "DatabaseUnavailable",
    "HealthReport",
    "InvalidInput",
    "NotFound",
    "PoolClosed",
    "PoolExhausted",
    "PruneResult",
    "PullRequest",
    "PullRequestCounts",
    "PullRequestData",
    "PullRequestStore",
    "QueryFailed",
    "QueryTimeout",
    "ReferencedRowMissing",
    "Repository",
    "RepositoryCounts",
    "RepositoryData",
    "Settings",
    "TransactionConflict",
    "UserProfile",
    "check_database_connection",
    "close_pool",
    "create_pool",
    "get_pool",
    "health_report",
    "load_settings",
]
