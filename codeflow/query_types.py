"""Types of the named queries, generated from the SQL by `make types` (codeflow.codegen).

Do not edit: `make types-check` fails when this file is not what the SQL and the result
declarations produce. `Store._run` is typed as `RunQuery`, so mypy checks each call's
query name, keywords, parameter types and result type.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Literal, Protocol, overload
from uuid import UUID

from asyncpg import Record


class RunQuery(Protocol):
    @overload
    async def __call__(
        self,
        query_name: Literal["count_user_profiles"],
        /,
    ) -> int: ...

    @overload
    async def __call__(
        self,
        query_name: Literal["count_user_pull_requests"],
        /,
        *,
        user_id: str | None,
        private_access_window: timedelta | None,
    ) -> list[Record]: ...

    @overload
    async def __call__(
        self,
        query_name: Literal["count_user_repositories"],
        /,
        *,
        user_id: str | None,
    ) -> Record | None: ...

    @overload
    async def __call__(
        self,
        query_name: Literal["create_auth_account"],
        /,
        *,
        user_id: str | None,
        type: str | None,
        provider: str | None,
        provider_account_id: str | None,
        refresh_token: str | None,
        access_token: str | None,
        expires_at: int | None,
        token_type: str | None,
        scope: str | None,
        id_token: str | None,
        session_state: str | None,
    ) -> Record | None: ...

    @overload
    async def __call__(
        self,
        query_name: Literal["create_auth_authenticator"],
        /,
        *,
        credential_id: str | None,
        user_id: str | None,
        provider_account_id: str | None,
        credential_public_key: str | None,
        counter: int | None,
        credential_device_type: str | None,
        credential_backed_up: bool | None,
        transports: str | None,
    ) -> Record | None: ...

    @overload
    async def __call__(
        self,
        query_name: Literal["create_auth_session"],
        /,
        *,
        session_token: str | None,
        user_id: str | None,
        expires: datetime | None,
    ) -> Record | None: ...

    @overload
    async def __call__(
        self,
        query_name: Literal["create_auth_user"],
        /,
        *,
        user_id: str | None,
        name: str | None,
        email: str | None,
        email_verified: datetime | None,
        image: str | None,
    ) -> Record | None: ...

    @overload
    async def __call__(
        self,
        query_name: Literal["create_auth_verification_token"],
        /,
        *,
        identifier: str | None,
        token: str | None,
        expires: datetime | None,
    ) -> Record | None: ...

    @overload
    async def __call__(
        self,
        query_name: Literal["create_repository"],
        /,
        *,
        user_id: str | None,
        github_id: int | None,
        name: str | None,
        full_name: str | None,
        owner: str | None,
        is_active: bool | None,
        private: bool | None,
    ) -> Record | None: ...

    @overload
    async def __call__(
        self,
        query_name: Literal["create_user_profile"],
        /,
        *,
        user_id: str | None,
        github_id: int | None,
        username: str | None,
    ) -> Record | None: ...

    @overload
    async def __call__(
        self,
        query_name: Literal["delete_auth_account"],
        /,
        *,
        provider: str | None,
        provider_account_id: str | None,
    ) -> Record | None: ...

    @overload
    async def __call__(
        self,
        query_name: Literal["delete_auth_session"],
        /,
        *,
        session_token: str | None,
    ) -> Record | None: ...

    @overload
    async def __call__(
        self,
        query_name: Literal["delete_auth_user"],
        /,
        *,
        user_id: str | None,
    ) -> Record | None: ...

    @overload
    async def __call__(
        self,
        query_name: Literal["delete_auth_verification_token"],
        /,
        *,
        identifier: str | None,
        token: str | None,
    ) -> Record | None: ...

    @overload
    async def __call__(
        self,
        query_name: Literal["delete_expired_auth_sessions"],
        /,
        *,
        batch_size: int | None,
    ) -> int: ...

    @overload
    async def __call__(
        self,
        query_name: Literal["delete_expired_auth_verification_tokens"],
        /,
        *,
        batch_size: int | None,
    ) -> int: ...

    @overload
    async def __call__(
        self,
        query_name: Literal["delete_expired_pull_requests"],
        /,
        *,
        days: int | None,
        batch_size: int | None,
    ) -> int: ...

    @overload
    async def __call__(
        self,
        query_name: Literal["delete_inactive_user_profiles"],
        /,
        *,
        days: int | None,
        batch_size: int | None,
    ) -> int: ...

    @overload
    async def __call__(
        self,
        query_name: Literal["delete_repository"],
        /,
        *,
        user_id: str | None,
        repository_id: UUID | None,
    ) -> Record | None: ...

    @overload
    async def __call__(
        self,
        query_name: Literal["delete_unmonitored_pull_requests"],
        /,
        *,
        batch_size: int | None,
    ) -> int: ...

    @overload
    async def __call__(
        self,
        query_name: Literal["get_auth_account"],
        /,
        *,
        provider: str | None,
        provider_account_id: str | None,
    ) -> Record | None: ...

    @overload
    async def __call__(
        self,
        query_name: Literal["get_auth_authenticator"],
        /,
        *,
        credential_id: str | None,
    ) -> Record | None: ...

    @overload
    async def __call__(
        self,
        query_name: Literal["get_auth_session_and_user"],
        /,
        *,
        session_token: str | None,
    ) -> Record | None: ...

    @overload
    async def __call__(
        self,
        query_name: Literal["get_auth_user"],
        /,
        *,
        user_id: str | None,
    ) -> Record | None: ...

    @overload
    async def __call__(
        self,
        query_name: Literal["get_auth_user_by_account"],
        /,
        *,
        provider: str | None,
        provider_account_id: str | None,
    ) -> Record | None: ...

    @overload
    async def __call__(
        self,
        query_name: Literal["get_auth_user_by_email"],
        /,
        *,
        email: str | None,
    ) -> Record | None: ...

    @overload
    async def __call__(
        self,
        query_name: Literal["get_pull_request"],
        /,
        *,
        pull_request_id: int | None,
        user_id: str | None,
        private_access_window: timedelta | None,
    ) -> Record | None: ...

    @overload
    async def __call__(
        self,
        query_name: Literal["get_repository"],
        /,
        *,
        user_id: str | None,
        repository_id: UUID | None,
    ) -> Record | None: ...

    @overload
    async def __call__(
        self,
        query_name: Literal["get_repository_by_full_name"],
        /,
        *,
        user_id: str | None,
        full_name: str | None,
    ) -> Record | None: ...

    @overload
    async def __call__(
        self,
        query_name: Literal["get_repository_by_github_id"],
        /,
        *,
        user_id: str | None,
        github_id: int | None,
    ) -> Record | None: ...

    @overload
    async def __call__(
        self,
        query_name: Literal["get_server_status"],
        /,
    ) -> Record | None: ...

    @overload
    async def __call__(
        self,
        query_name: Literal["get_user_profile"],
        /,
        *,
        user_id: str | None,
    ) -> Record | None: ...

    @overload
    async def __call__(
        self,
        query_name: Literal["get_user_profile_by_github_id"],
        /,
        *,
        github_id: int | None,
    ) -> Record | None: ...

    @overload
    async def __call__(
        self,
        query_name: Literal["get_user_profile_by_username"],
        /,
        *,
        username: str | None,
    ) -> Record | None: ...

    @overload
    async def __call__(
        self,
        query_name: Literal["list_applied_migrations"],
        /,
    ) -> list[Record]: ...

    @overload
    async def __call__(
        self,
        query_name: Literal["list_auth_authenticators"],
        /,
        *,
        user_id: str | None,
    ) -> list[Record]: ...

    @overload
    async def __call__(
        self,
        query_name: Literal["list_dashboard_pull_requests"],
        /,
        *,
        user_id: str | None,
        private_access_window: timedelta | None,
        repository_github_id: int | None,
        before_updated_at: datetime | None,
        before_id: int | None,
        author_login: str | None,
        draft: bool | None,
        page_size: int | None,
    ) -> list[Record]: ...

    @overload
    async def __call__(
        self,
        query_name: Literal["list_user_repositories"],
        /,
        *,
        user_id: str | None,
        active_only: bool | None,
    ) -> list[Record]: ...

    @overload
    async def __call__(
        self,
        query_name: Literal["update_auth_authenticator_counter"],
        /,
        *,
        counter: int | None,
        credential_id: str | None,
    ) -> Record | None: ...

    @overload
    async def __call__(
        self,
        query_name: Literal["update_auth_session"],
        /,
        *,
        expires: datetime | None,
        session_token: str | None,
    ) -> Record | None: ...

    @overload
    async def __call__(
        self,
        query_name: Literal["update_auth_user"],
        /,
        *,
        set_name: bool | None,
        name: str | None,
        set_email: bool | None,
        email: str | None,
        set_email_verified: bool | None,
        email_verified: datetime | None,
        set_image: bool | None,
        image: str | None,
        user_id: str | None,
    ) -> Record | None: ...

    @overload
    async def __call__(
        self,
        query_name: Literal["update_repository"],
        /,
        *,
        is_active: bool | None,
        user_id: str | None,
        repository_id: UUID | None,
    ) -> Record | None: ...

    @overload
    async def __call__(
        self,
        query_name: Literal["update_user_profile_last_active"],
        /,
        *,
        user_id: str | None,
        resolution: timedelta | None,
    ) -> bool: ...

    @overload
    async def __call__(
        self,
        query_name: Literal["upsert_pull_request"],
        /,
        *,
        id: int | None,
        repository_github_id: int | None,
        number: int | None,
        title: str | None,
        author_login: str | None,
        state: str | None,
        draft: bool | None,
        head_ref: str | None,
        base_ref: str | None,
        html_url: str | None,
        created_at: datetime | None,
        updated_at: datetime | None,
        closed_at: datetime | None,
        merged_at: datetime | None,
    ) -> Record | None: ...

    @overload
    async def __call__(
        self,
        query_name: Literal["upsert_pull_requests"],
        /,
        *,
        ids: Sequence[int | None] | None,
        repository_github_ids: Sequence[int | None] | None,
        numbers: Sequence[int | None] | None,
        titles: Sequence[str | None] | None,
        author_logins: Sequence[str | None] | None,
        states: Sequence[str | None] | None,
        drafts: Sequence[bool | None] | None,
        head_refs: Sequence[str | None] | None,
        base_refs: Sequence[str | None] | None,
        html_urls: Sequence[str | None] | None,
        created_ats: Sequence[datetime | None] | None,
        updated_ats: Sequence[datetime | None] | None,
        closed_ats: Sequence[datetime | None] | None,
        merged_ats: Sequence[datetime | None] | None,
    ) -> int: ...

    @overload
    async def __call__(
        self,
        query_name: Literal["verify_repository_access"],
        /,
        *,
        github_ids: Sequence[int | None] | None,
        privates: Sequence[bool | None] | None,
        user_id: str | None,
    ) -> int: ...
