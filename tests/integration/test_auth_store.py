"""AuthStore against the Auth.js adapter contract (the cases of @auth/adapter-test's
runBasicTests, plus the service-side rules of issue 4), on a real PostgreSQL."""

from __future__ import annotations

import asyncio
import logging
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import asyncpg
import pytest

from codeflow import (
    AlreadyExists,
    Authenticator,
    AuthStore,
    Database,
    InvalidInput,
    NotFound,
    ReferencedRowMissing,
)
from codeflow.auth import AccountData, NewSession, SessionAndUser

SECRET = "s3cr3t-credential-value"
IN_A_WEEK = datetime.now(UTC) + timedelta(days=7)


@pytest.fixture
def store(codeflow_database: Database) -> AuthStore:
    return codeflow_database.auth


def oauth_account(user_id: str, provider_account_id: str = "583231", **overrides: Any) -> dict[str, Any]:
    """`link_account` arguments: every field of an OAuth account, set."""
    return {
        "user_id": user_id,
        "type": "oauth",
        "provider": "github",
        "provider_account_id": provider_account_id,
        "refresh_token": "ghr_refresh",
        "access_token": "gho_access",
        "expires_at": 2**31 + 17,  # past 2038: bigint, not int4
        "token_type": "bearer",
        "scope": "read:user user:email",
        "id_token": "eyJ.id.token",
        "session_state": "state-1",
        **overrides,
    }


def passkey(user_id: str, credential_id: str, counter: int = 0) -> dict[str, Any]:
    """`create_authenticator` arguments: a synced passkey."""
    return {
        "credential_id": credential_id,
        "user_id": user_id,
        "provider_account_id": credential_id,
        "credential_public_key": "pQECAyYgASFYIG",
        "counter": counter,
        "credential_device_type": "multiDevice",
        "credential_backed_up": True,
        "transports": "internal,hybrid",
    }


# --- the adapter's method set --------------------------------------------------------

AUTHJS_METHODS = {
    "createUser": "create_user",
    "getUser": "get_user",
    "getUserByEmail": "get_user_by_email",
    "getUserByAccount": "get_user_by_account",
    "updateUser": "update_user",
    "deleteUser": "delete_user",
    "linkAccount": "link_account",
    "unlinkAccount": "unlink_account",
    "getAccount": "get_account",
    "createSession": "create_session",
    "getSessionAndUser": "get_session_and_user",
    "updateSession": "update_session",
    "deleteSession": "delete_session",
    "createVerificationToken": "create_verification_token",
    "useVerificationToken": "use_verification_token",
    "createAuthenticator": "create_authenticator",
    "getAuthenticator": "get_authenticator",
    "listAuthenticatorsByUserId": "list_authenticators_by_user_id",
    "updateAuthenticatorCounter": "update_authenticator_counter",
}


def test_every_adapter_method_has_a_python_counterpart() -> None:
    missing = [
        name for name, python in AUTHJS_METHODS.items() if not callable(getattr(AuthStore, python, None))
    ]
    assert missing == []


# --- users ---------------------------------------------------------------------------


async def test_create_user_round_trips_and_is_found_by_id_and_email(store: AuthStore) -> None:
    verified = datetime(2026, 11, 28, 10, 15, 30, 123456, tzinfo=timezone(timedelta(hours=5, minutes=30)))
    user = await store.create_user(
        email="fill@murray.com", name="Fill Murray", image="https://img/1.png", email_verified=verified
    )
    assert user.id
    assert (user.email, user.name, user.image) == ("fill@murray.com", "Fill Murray", "https://img/1.png")
    assert user.email_verified == datetime(2026, 11, 28, 4, 45, 30, 123000, tzinfo=UTC)
    assert user.email_verified is not None and user.email_verified.utcoffset() == timedelta(0)
    assert await store.get_user(user.id) == user
    assert await store.get_user_by_email("fill@murray.com") == user


async def test_create_user_keeps_a_given_id(store: AuthStore) -> None:
    user = await store.create_user(user_id="clx1abc2d0000qz8h4k7m9n2p")
    assert user.id == "clx1abc2d0000qz8h4k7m9n2p"
    assert (user.email, user.name, user.email_verified, user.image) == (None, None, None, None)


async def test_duplicate_email_is_refused_by_its_constraint(store: AuthStore) -> None:
    await store.create_user(email="a@example.com")
    with pytest.raises(AlreadyExists) as caught:
        await store.create_user(email="a@example.com")
    assert caught.value.constraint == "users_email_key"


async def test_unknown_lookups_return_none(store: AuthStore) -> None:
    key = {"provider": "github", "provider_account_id": "nobody"}
    assert await store.get_user("no-such-user") is None
    assert await store.get_user_by_email("non-existent-email") is None
    assert await store.get_user_by_account(**key) is None
    assert await store.get_account(**key) is None
    assert await store.get_session_and_user("invalid-token") is None
    assert await store.get_authenticator("invalid-credential-id") is None
    assert await store.list_authenticators_by_user_id("invalid-user-id") == []
    assert await store.update_session("invalid-token", expires=IN_A_WEEK) is None
    assert await store.delete_session("invalid-token") is None
    assert await store.delete_user("no-such-user") is None
    assert await store.unlink_account(**key) is None
    assert await store.use_verification_token(identifier="a@example.com", token="nope") is None


async def test_update_user_changes_only_the_given_fields(store: AuthStore) -> None:
    user = await store.create_user(email="old@example.com", name="Old", image="https://img/old.png")
    verified = datetime(2026, 1, 2, 3, 4, 5, 678901, tzinfo=UTC)
    updated = await store.update_user(user.id, name="Updated Name", image=None, email_verified=verified)
    assert updated.name == "Updated Name"
    assert updated.image is None
    assert updated.email == "old@example.com"
    assert updated.email_verified == verified.replace(microsecond=678000)
    assert await store.get_user(user.id) == updated
    assert await store.update_user(user.id) == updated


async def test_update_of_unknown_user_is_not_found(store: AuthStore) -> None:
    with pytest.raises(NotFound):
        await store.update_user("no-such-user", name="x")


async def test_delete_user_cascades_and_returns_the_row(
    store: AuthStore, codeflow_connection: asyncpg.Connection
) -> None:
    user = await store.create_user(email="gone@example.com")
    await store.link_account(**oauth_account(user.id))
    await store.create_session(session_token="t1", user_id=user.id, expires=IN_A_WEEK)
    await store.create_authenticator(**passkey(user.id, "cred-1"))

    assert await store.delete_user(user.id) == user

    for table in ("users", "accounts", "sessions", "authenticators"):
        count = await codeflow_connection.fetchval(f"SELECT count(*) FROM {table}")
        assert count == 0, table
    assert await store.delete_user(user.id) is None


# --- accounts ------------------------------------------------------------------------


async def test_link_account_round_trips_every_oauth_field(
    store: AuthStore, codeflow_connection: asyncpg.Connection
) -> None:
    user = await store.create_user(email="o@example.com")
    given = oauth_account(user.id)
    linked = await store.link_account(**given)

    assert linked.model_dump(exclude={"id"}) == given
    assert linked.expires_at == 2**31 + 17
    assert await store.get_account(provider="github", provider_account_id="583231") == linked
    assert await store.get_user_by_account(provider="github", provider_account_id="583231") == user
    stored = await codeflow_connection.fetchrow(
        "SELECT user_id, type, provider, provider_account_id, refresh_token, access_token, expires_at,"
        " token_type, scope, id_token, session_state FROM accounts WHERE id = $1",
        linked.id,
    )
    assert stored is not None and dict(stored) == given


async def test_link_account_keeps_nulls_as_nulls(store: AuthStore) -> None:
    user = await store.create_user()
    linked = await store.link_account(
        user_id=user.id, type="email", provider="resend", provider_account_id="x@example.com"
    )
    unset = dict.fromkeys(
        ("refresh_token", "access_token", "expires_at", "token_type", "scope", "id_token", "session_state")
    )
    assert linked.model_dump(exclude={"id"}) == {
        "user_id": user.id,
        "type": "email",
        "provider": "resend",
        "provider_account_id": "x@example.com",
        **unset,
    }
    assert linked.refresh_token is None and linked.expires_at is None and linked.scope is None


async def test_link_account_refuses_duplicates_and_unknown_users(store: AuthStore) -> None:
    user = await store.create_user()
    await store.link_account(**oauth_account(user.id))
    with pytest.raises(AlreadyExists) as duplicate:
        await store.link_account(**oauth_account(user.id))
    assert duplicate.value.constraint == "accounts_provider_provider_account_id_key"
    with pytest.raises(ReferencedRowMissing) as orphan:
        await store.link_account(**oauth_account("no-such-user", provider_account_id="2"))
    assert orphan.value.constraint == "accounts_user_id_fkey"


async def test_unlink_account_returns_the_row_once_and_keeps_the_user(store: AuthStore) -> None:
    user = await store.create_user()
    linked = await store.link_account(**oauth_account(user.id))
    assert await store.unlink_account(provider="github", provider_account_id="583231") == linked
    assert await store.unlink_account(provider="github", provider_account_id="583231") is None
    assert await store.get_user_by_account(provider="github", provider_account_id="583231") is None
    assert await store.get_user(user.id) == user


# --- sessions ------------------------------------------------------------------------


async def test_session_lifecycle(store: AuthStore) -> None:
    user = await store.create_user(email="s@example.com")
    session = await store.create_session(session_token="tok-1", user_id=user.id, expires=IN_A_WEEK)
    assert (session.session_token, session.user_id) == ("tok-1", user.id)

    assert await store.get_session_and_user("tok-1") == SessionAndUser(session=session, user=user)

    later = IN_A_WEEK + timedelta(days=23)
    updated = await store.update_session("tok-1", expires=later)
    assert updated is not None and updated.id == session.id
    assert updated.expires == later.replace(microsecond=later.microsecond // 1000 * 1000)
    found = await store.get_session_and_user("tok-1")
    assert found is not None and found.session == updated

    assert await store.delete_session("tok-1") == updated
    assert await store.get_session_and_user("tok-1") is None
    assert await store.delete_session("tok-1") is None


async def test_expired_session_is_absent_but_kept_until_purged(
    store: AuthStore, codeflow_connection: asyncpg.Connection
) -> None:
    user = await store.create_user()
    await store.create_session(
        session_token="old", user_id=user.id, expires=datetime.now(UTC) - timedelta(milliseconds=1)
    )
    await store.create_session(
        session_token="fresh", user_id=user.id, expires=datetime.now(UTC) + timedelta(seconds=30)
    )
    assert await store.get_session_and_user("old") is None
    assert await store.get_session_and_user("fresh") is not None
    assert await codeflow_connection.fetchval("SELECT count(*) FROM sessions") == 2


async def test_session_refuses_duplicate_tokens_and_unknown_users(store: AuthStore) -> None:
    user = await store.create_user()
    await store.create_session(session_token=SECRET, user_id=user.id, expires=IN_A_WEEK)
    with pytest.raises(AlreadyExists) as duplicate:
        await store.create_session(session_token=SECRET, user_id=user.id, expires=IN_A_WEEK)
    assert duplicate.value.constraint == "sessions_session_token_key"
    assert SECRET not in str(duplicate.value)
    with pytest.raises(ReferencedRowMissing):
        await store.create_session(session_token="other", user_id="no-such-user", expires=IN_A_WEEK)


@pytest.mark.parametrize(
    "given",
    [
        datetime(2030, 6, 1, 12, 0, 0, 999999, tzinfo=UTC),
        datetime(2030, 6, 1, 8, 0, 0, 1500, tzinfo=timezone(timedelta(hours=-4))),
        datetime(2030, 6, 1, 21, 30, 0, 250000, tzinfo=timezone(timedelta(hours=9, minutes=30))),
    ],
)
async def test_timestamps_round_trip_to_the_millisecond_as_aware_utc(
    store: AuthStore, codeflow_connection: asyncpg.Connection, given: datetime
) -> None:
    user = await store.create_user()
    session = await store.create_session(session_token="t", user_id=user.id, expires=given)
    token = await store.create_verification_token(identifier="i", token="t", expires=given)
    expected = given.astimezone(UTC).replace(microsecond=given.microsecond // 1000 * 1000)
    for value in (session.expires, token.expires):
        assert value == expected
        assert value.tzinfo is not None and value.utcoffset() == timedelta(0)
    found = await store.get_session_and_user("t")
    assert found is not None and found.session.expires == expected
    # What a JavaScript Date would hold: epoch milliseconds, exactly.
    epoch_ms = await codeflow_connection.fetchval(
        "SELECT (extract(epoch FROM expires) * 1000)::bigint FROM sessions"
    )
    assert epoch_ms == int(expected.timestamp() * 1000)


async def test_naive_datetimes_are_refused_without_echoing_credentials(store: AuthStore) -> None:
    user = await store.create_user()
    naive = datetime(2030, 1, 1, 12, 0)
    attempts = [
        store.create_session(session_token=SECRET, user_id=user.id, expires=naive),
        store.update_session(SECRET, expires=naive),
        store.create_verification_token(identifier="a@example.com", token=SECRET, expires=naive),
        store.create_user(email_verified=naive),
        store.update_user(user.id, email_verified=naive),
    ]
    for attempt in attempts:
        with pytest.raises(InvalidInput) as caught:
            await attempt
        assert "timezone" in str(caught.value)
        assert SECRET not in str(caught.value)


# --- verification tokens -------------------------------------------------------------


async def test_use_verification_token_returns_it_once(
    store: AuthStore, codeflow_connection: asyncpg.Connection
) -> None:
    created = await store.create_verification_token(
        identifier="info@example.com", token="hash-1", expires=IN_A_WEEK
    )
    assert await store.use_verification_token(identifier="other@example.com", token="hash-1") is None
    assert await codeflow_connection.fetchval("SELECT count(*) FROM verification_tokens") == 1

    assert await store.use_verification_token(identifier="info@example.com", token="hash-1") == created
    assert await store.use_verification_token(identifier="info@example.com", token="hash-1") is None
    assert await codeflow_connection.fetchval("SELECT count(*) FROM verification_tokens") == 0


async def test_expired_verification_token_is_still_returned_for_auth_js_to_judge(store: AuthStore) -> None:
    past = datetime.now(UTC) - timedelta(minutes=1)
    created = await store.create_verification_token(identifier="i", token="t", expires=past)
    assert await store.use_verification_token(identifier="i", token="t") == created


async def test_duplicate_verification_token_is_refused(store: AuthStore) -> None:
    await store.create_verification_token(identifier="i", token="t", expires=IN_A_WEEK)
    with pytest.raises(AlreadyExists) as caught:
        await store.create_verification_token(identifier="i", token="t", expires=IN_A_WEEK)
    assert caught.value.constraint == "verification_tokens_pkey"


async def test_concurrent_uses_of_one_token_exactly_one_wins(store: AuthStore) -> None:
    await store.create_verification_token(identifier="i", token="t", expires=IN_A_WEEK)
    results = await asyncio.gather(
        *(store.use_verification_token(identifier="i", token="t") for _ in range(8))
    )
    assert sum(result is not None for result in results) == 1


async def test_uses_blocked_behind_a_winner_get_none(
    codeflow_database: Database, store: AuthStore, codeflow_connection: asyncpg.Connection
) -> None:
    """Forces the race: the losers' DELETEs wait on the winner's row lock, then find the
    row gone. A check-then-delete would hand the token to them as well."""
    await store.create_verification_token(identifier="i", token="t", expires=IN_A_WEEK)
    async with codeflow_database.transaction() as winner:
        assert await winner.auth.use_verification_token(identifier="i", token="t") is not None
        losers = [
            asyncio.create_task(store.use_verification_token(identifier="i", token="t")) for _ in range(3)
        ]
        for _ in range(200):
            waiting = await codeflow_connection.fetchval(
                "SELECT count(*) FROM pg_stat_activity"
                " WHERE datname = current_database() AND wait_event_type = 'Lock'"
            )
            if waiting == 3:
                break
            await asyncio.sleep(0.01)
        assert waiting == 3
    assert await asyncio.gather(*losers) == [None, None, None]


# --- authenticators ------------------------------------------------------------------


async def test_authenticator_lifecycle(store: AuthStore) -> None:
    first, second = await store.create_user(), await store.create_user()
    a1 = await store.create_authenticator(**passkey(first.id, "cred-b", counter=5))
    a2 = await store.create_authenticator(**passkey(first.id, "cred-a"))
    a3 = await store.create_authenticator(**passkey(second.id, "cred-c"))
    assert a1 == Authenticator(**passkey(first.id, "cred-b", counter=5))

    assert await store.get_authenticator("cred-b") == a1
    assert await store.list_authenticators_by_user_id(first.id) == [a2, a1]
    assert await store.list_authenticators_by_user_id(second.id) == [a3]

    bumped = await store.update_authenticator_counter("cred-b", 6)
    assert bumped == a1.model_copy(update={"counter": 6})
    assert await store.get_authenticator("cred-b") == bumped


async def test_authenticator_errors(store: AuthStore) -> None:
    user = await store.create_user()
    await store.create_authenticator(**passkey(user.id, "cred-1"))
    with pytest.raises(NotFound):
        await store.update_authenticator_counter("invalid-credential-id", 1)
    with pytest.raises(AlreadyExists) as duplicate:
        await store.create_authenticator(**passkey(user.id, "cred-1"))
    assert duplicate.value.constraint == "authenticators_pkey"
    with pytest.raises(AlreadyExists) as taken:
        await store.create_authenticator(**passkey((await store.create_user()).id, "cred-1"))
    assert taken.value.constraint == "authenticators_credential_id_key"
    with pytest.raises(ReferencedRowMissing) as orphan:
        await store.create_authenticator(**passkey("no-such-user", "cred-2"))
    assert orphan.value.constraint == "authenticators_user_id_fkey"
    with pytest.raises(InvalidInput):
        await store.update_authenticator_counter("cred-1", -1)


# --- credentials stay out of reprs and logs ------------------------------------------


async def test_credentials_never_appear_in_reprs_or_logs(
    store: AuthStore, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    user = await store.create_user(email="c@example.com")
    account = AccountData(
        **oauth_account(
            user.id, refresh_token=SECRET + "-r", access_token=SECRET + "-a", id_token=SECRET + "-i"
        )
    )
    linked = await store.link_account(**account.model_dump())
    session = await store.create_session(session_token=SECRET + "-s", user_id=user.id, expires=IN_A_WEEK)
    both = await store.get_session_and_user(SECRET + "-s")
    token = await store.create_verification_token(
        identifier="c@example.com", token=SECRET + "-v", expires=IN_A_WEEK
    )
    used = await store.use_verification_token(identifier="c@example.com", token=SECRET + "-v")
    new_session = NewSession(session_token=SECRET + "-n", user_id=user.id, expires=IN_A_WEEK)

    shown = [account, linked, session, both, token, used, new_session]
    for model in shown:
        for rendering in (repr(model), str(model), f"{model}", f"{model!r}"):
            assert SECRET not in rendering, rendering
    assert "provider_account_id='583231'" in repr(linked)  # the rest is still shown
    assert linked.access_token == SECRET + "-a" and session.session_token == SECRET + "-s"
    assert any(record.name == "codeflow.sql" for record in caplog.records), "queries are logged"
    assert SECRET not in caplog.text


async def test_datetimes_that_overflow_in_utc_are_invalid_input(store: AuthStore) -> None:
    user = await store.create_user(email="edge@example.com")
    east_of_year_one = datetime(1, 1, 1, tzinfo=timezone(timedelta(hours=5)))
    with pytest.raises(InvalidInput, match="expires"):
        await store.create_session(session_token="t", user_id=user.id, expires=east_of_year_one)
