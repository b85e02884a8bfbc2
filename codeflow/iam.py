"""RDS IAM database authentication: the password is a short-lived signed token.

asyncpg calls a password provider for every new connection. A token is valid for
15 minutes; signing one is local (no AWS call), but resolving credentials the first
time may not be, so a token is reused until `refresh_margin_s` before it expires.
boto3 is imported only here and only when IAM authentication is switched on
(the `aws` extra).
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from typing import TYPE_CHECKING

from codeflow.errors import ConfigurationError

if TYPE_CHECKING:
    import boto3
    from mypy_boto3_rds import RDSClient

TOKEN_LIFETIME_S = 900.0


class RdsIamTokenProvider:
    """An asyncpg password callable producing RDS IAM auth tokens for one user."""

    def __init__(
        self,
        *,
        host: str,
        port: int,
        user: str,
        region: str | None = None,
        session: boto3.Session | None = None,
        client: RDSClient | None = None,
        refresh_margin_s: float = 120.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.host, self.port, self.user = host, port, user
        self._client = client or _rds_client(region, session)
        self._margin = refresh_margin_s
        self._clock = clock
        self._token: str | None = None
        self._expires_at = 0.0
        self._lock = asyncio.Lock()

    async def __call__(self) -> str:
        async with self._lock:  # a burst of new connections signs once
            if self._token is None or self._clock() >= self._expires_at - self._margin:
                issued_at = self._clock()
                self._token = await asyncio.to_thread(
                    self._client.generate_db_auth_token,
                    DBHostname=self.host,
                    Port=self.port,
                    DBUsername=self.user,
                )
                self._expires_at = issued_at + TOKEN_LIFETIME_S
            return self._token

    def __repr__(self) -> str:  # never the token
        return f"RdsIamTokenProvider(user={self.user!r}, host={self.host!r}, port={self.port})"


def _rds_client(region: str | None, session: boto3.Session | None) -> RDSClient:
    try:
        import boto3  # noqa: PLC0415 - optional dependency
        from botocore.exceptions import NoRegionError  # noqa: PLC0415
    except ImportError:
        raise ConfigurationError("DB_IAM_AUTH=true needs boto3: install codeflow-db[aws]") from None
    try:
        return (session or boto3.Session()).client("rds", region_name=region)
    except NoRegionError:
        raise ConfigurationError("DB_IAM_AUTH=true needs a region: set DB_IAM_REGION or AWS_REGION") from None
