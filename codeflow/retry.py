"""Connecting with bounded exponential backoff and full jitter.

A server that is starting, failing over or out of connection slots usually answers
a moment later; many Lambda instances retrying in lockstep would keep it busy, so
each wait is drawn uniformly from [0, ceiling] and the ceiling doubles up to a cap.
Anything else (a refused password, a certificate that does not match, a missing
database) fails at once: waiting would not change the answer.
"""

from __future__ import annotations

import asyncio
import random
import ssl
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import TypeVar

import asyncpg

from codeflow.errors import DatabaseUnavailable, describe

T = TypeVar("T")

_TRANSIENT = (
    OSError,  # refused, reset, unreachable, DNS not yet pointing at the new primary
    asyncio.TimeoutError,
    asyncpg.CannotConnectNowError,  # 57P03: starting up, shutting down, in recovery
    asyncpg.TooManyConnectionsError,  # 53300
    asyncpg.ConnectionDoesNotExistError,
    asyncpg.ConnectionFailureError,
    asyncpg.AdminShutdownError,
    asyncpg.CrashShutdownError,
    asyncpg.TargetServerAttributeNotMatched,  # no host is the primary yet: a failover in progress
)


@dataclass(frozen=True)
class Backoff:
    """At most `attempts` tries; the wait before try n+1 is uniform in
    [0, min(max_delay_s, first_delay_s * 2**(n-1))]."""

    attempts: int = 4
    first_delay_s: float = 0.25
    max_delay_s: float = 4.0

    def ceiling(self, failures: int) -> float:
        """The longest wait after `failures` failed attempts (1-based)."""
        return min(self.max_delay_s, self.first_delay_s * 2.0 ** (failures - 1))

    def delay(self, failures: int, jitter: Callable[[float, float], float] = random.uniform) -> float:
        """The wait after `failures` failed attempts: drawn from [0, ceiling] by `jitter`."""
        return jitter(0.0, self.ceiling(failures))


def is_transient(exc: BaseException) -> bool:
    """True for failures a later attempt can outlive. TLS errors are OSErrors too,
    but a certificate that does not verify now will not verify in a second."""
    if isinstance(exc, ssl.SSLError | ssl.CertificateError):
        return False
    return isinstance(exc, _TRANSIENT)


async def connect_with_retry(
    connect: Callable[[], Awaitable[T]],
    *,
    backoff: Backoff,
    target: str,
    sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
    jitter: Callable[[float, float], float] = random.uniform,
) -> T:
    """`await connect()`, retried on transient failures as `backoff` allows.

    Gives up with `DatabaseUnavailable` saying what was tried: `target` (which must
    not hold a password), the attempts, the time spent and the last error.
    """
    started = time.monotonic()
    attempt = 0
    while True:
        attempt += 1
        try:
            return await connect()
        except Exception as exc:  # noqa: BLE001 - retried, or raised as DatabaseUnavailable below
            transient = is_transient(exc)
            if not transient or attempt >= backoff.attempts:
                error = _unavailable(exc, target, attempt, time.monotonic() - started, transient)
                break
        await sleep(backoff.delay(attempt, jitter))
    # Raised outside the except block: the driver's error stays out of the chain.
    raise error


def _unavailable(
    exc: BaseException, target: str, attempts: int, elapsed_s: float, transient: bool
) -> DatabaseUnavailable:
    tried = f"{attempts} attempt{'s' * (attempts != 1)} in {elapsed_s:.1f} s"
    why = "" if transient else " (not retried: this error is not transient)"
    return DatabaseUnavailable(f"cannot connect to {target}: {tried}{why}; last error: {describe(exc)}")
