"""AuthStore and the Auth.js Prisma adapter on the same rows: what the adapter writes,
the store reads; what the store writes has every column the adapter reads; and both
agree on instants even where the server's default time zone is not UTC."""

from __future__ import annotations

import re
import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from urllib.parse import urlsplit, urlunsplit

import asyncpg
import pytest
from pydantic import BaseModel

from codeflow import AccountData, Authenticator, AuthStore, migrate
from codeflow.auth import AdapterAccount, AdapterSession, AdapterUser, VerificationToken
from codeflow.pool import create_pool
from codeflow.settings import Settings, load_settings

# The Auth.js Prisma models (story 0.4 and the Auth.js Prisma schema) as the adapter
# reads them: Prisma field -> column, per table.
PRISMA_MODELS: dict[str, dict[str, str]] = {
    "users": {
        "id": "id",
        "name": "name",
        "email": "email",
        "emailVerified": "email_verified",
        "image": "image",
    },
    "accounts": {
        "id": "id",
        "userId": "user_id",
        "type": "type",
        "provider": "provider",
        "providerAccountId": "provider_account_id",
        "refresh_token": "refresh_token",
        "access_token": "access_token",
        "expires_at": "expires_at",
        "token_type": "token_type",
        "scope": "scope",
        "id_token": "id_token",
        "session_state": "session_state",
    },
    "sessions": {"id": "id", "sessionToken": "session_token", "userId": "user_id", "expires": "expires"},
    "verification_tokens": {"identifier": "identifier", "token": "token", "expires": "expires"},
    "authenticators": {
        "credentialID": "credential_id",
        "userId": "user_id",
        "providerAccountId": "provider_account_id",
        "credentialPublicKey": "credential_public_key",
        "counter": "counter",
        "credentialDeviceType": "credential_device_type",
        "credentialBackedUp": "credential_backed_up",
        "transports": "transports",
    },
}
MODELS: dict[str, type[BaseModel]] = {
    "users": AdapterUser,
    "accounts": AdapterAccount,
    "sessions": AdapterSession,
    "verification_tokens": VerificationToken,
    "authenticators": Authenticator,
}
# Prisma-shaped values: cuid ids, and DateTimes as @prisma/adapter-pg sends them, UTC
# wall-clock text with milliseconds and no offset.
USER_ID = "clx1abc2d0000qz8h4k7m9n2p"
ACCOUNT_ID = "clx1abc2d0001qz8hx9w3v5tb"
SESSION_ID = "clx1abc2d0002qz8hc6r1y8ue"
WALL_CLOCK = "2031-03-01 12:00:00.123"
INSTANT = datetime(2031, 3, 1, 12, 0, 0, 123000, tzinfo=UTC)


@pytest.fixture
def store(codeflow_pool: asyncpg.Pool, codeflow_settings: Settings) -> AuthStore:
    return AuthStore(codeflow_pool, settings=codeflow_settings)


def read_like_prisma_pg(rendered: str) -> datetime:
    """A timestamptz as @prisma/adapter-pg turns it into a Date: it takes PostgreSQL's text
    rendering (in the session time zone), drops the offset and reads the wall clock as UTC
    (normalize_timestamptz; prisma/prisma#26786)."""
    wall_clock = re.sub(r"[+-]\d{2}(:\d{2})?$", "", rendered)
    return datetime.fromisoformat(wall_clock).replace(tzinfo=UTC)


async def write_like_prisma(connection: asyncpg.Connection) -> None:
    """Rows exactly as the Prisma adapter writes them: client-side cuids, DateTimes as
    untyped wall-clock text (PostgreSQL reads it in the session time zone), nulls for
    absent optional fields."""
    await connection.execute(
        "INSERT INTO users (id, name, email, email_verified, image)"
        " VALUES ($1, 'Fill Murray', 'fill@murray.com', $2::text::timestamptz, NULL)",
        USER_ID,
        WALL_CLOCK,
    )
    await connection.execute(
        "INSERT INTO accounts (id, user_id, type, provider, provider_account_id, refresh_token,"
        " access_token, expires_at, token_type, scope, id_token, session_state)"
        " VALUES ($1, $2, 'oauth', 'github', '583231', NULL, 'gho_abc', 1924991999, 'bearer',"
        " 'read:user', NULL, NULL)",
        ACCOUNT_ID,
        USER_ID,
    )
    await connection.execute(
        "INSERT INTO sessions (id, session_token, user_id, expires)"
        " VALUES ($1, 'tok', $2, $3::text::timestamptz)",
        SESSION_ID,
        USER_ID,
        WALL_CLOCK,
    )
    await connection.execute(
        "INSERT INTO verification_tokens (identifier, token, expires)"
        " VALUES ('fill@murray.com', 'sha256-hex', $1::text::timestamptz)",
        WALL_CLOCK,
    )
    await connection.execute(
        "INSERT INTO authenticators (credential_id, user_id, provider_account_id, credential_public_key,"
        " counter, credential_device_type, credential_backed_up, transports)"
        " VALUES ('cred-1', $1, 'cred-1', 'pQECAyYg', 0, 'singleDevice', false, NULL)",
        USER_ID,
    )


async def test_rows_the_prisma_adapter_writes_are_read_correctly(
    store: AuthStore, codeflow_connection: asyncpg.Connection
) -> None:
    await write_like_prisma(codeflow_connection)

    user = await store.get_user(USER_ID)
    assert user == AdapterUser(
        id=USER_ID, name="Fill Murray", email="fill@murray.com", email_verified=INSTANT, image=None
    )
    assert await store.get_user_by_account(provider="github", provider_account_id="583231") == user
    account = await store.get_account(provider="github", provider_account_id="583231")
    assert account is not None and account.id == ACCOUNT_ID
    assert (account.access_token, account.refresh_token, account.expires_at) == ("gho_abc", None, 1924991999)
    both = await store.get_session_and_user("tok")
    assert both is not None
    assert both.session == AdapterSession(
        id=SESSION_ID, session_token="tok", user_id=USER_ID, expires=INSTANT
    )
    assert both.user == user
    authenticator = await store.get_authenticator("cred-1")
    assert authenticator is not None and authenticator.transports is None
    token = await store.use_verification_token(identifier="fill@murray.com", token="sha256-hex")
    assert token == VerificationToken(identifier="fill@murray.com", token="sha256-hex", expires=INSTANT)


async def test_tables_hold_exactly_the_columns_the_adapter_reads(
    codeflow_connection: asyncpg.Connection,
) -> None:
    for table, fields in PRISMA_MODELS.items():
        columns = {
            row["column_name"]
            for row in await codeflow_connection.fetch(
                "SELECT column_name FROM information_schema.columns"
                " WHERE table_schema = 'public' AND table_name = $1",
                table,
            )
        }
        assert columns == set(fields.values()), table
        assert set(MODELS[table].model_fields) == columns, table


async def test_rows_the_store_writes_have_every_column_the_adapter_reads(
    store: AuthStore, codeflow_connection: asyncpg.Connection
) -> None:
    """The adapter reads every field of its model and requires the non-optional ones; it
    reads DateTimes as UTC wall-clock text. Check each written row that way."""
    user = await store.create_user(email="w@example.com", name="W", email_verified=INSTANT)
    account = await store.link_account(
        AccountData(
            user_id=user.id, type="oauth", provider="github", provider_account_id="9", access_token="a"
        )
    )
    session = await store.create_session(session_token="tok", user_id=user.id, expires=INSTANT)
    token = await store.create_verification_token(identifier="w@example.com", token="h", expires=INSTANT)
    passkey = await store.create_authenticator(
        Authenticator(
            credential_id="c",
            user_id=user.id,
            provider_account_id="c",
            credential_public_key="k",
            counter=1,
            credential_device_type="multiDevice",
            credential_backed_up=True,
        )
    )
    written = {
        "users": user,
        "accounts": account,
        "sessions": session,
        "verification_tokens": token,
        "authenticators": passkey,
    }
    for table, model in written.items():
        fields = PRISMA_MODELS[table]
        columns = ", ".join(f"{column}::text AS {column}" for column in fields.values())
        rows = await codeflow_connection.fetch(f"SELECT {columns} FROM {table}")
        assert len(rows) == 1, table
        expected = model.model_dump()
        for column in fields.values():
            value = expected[column]
            if isinstance(value, datetime):
                assert read_like_prisma_pg(rows[0][column]) == value, (table, column)
            elif isinstance(value, bool):
                assert rows[0][column] == str(value).lower(), (table, column)
            else:
                assert rows[0][column] == (None if value is None else str(value)), (table, column)


# --- the time-zone trap --------------------------------------------------------------


@pytest.fixture
async def new_york_url(codeflow_database_url: str) -> AsyncIterator[str]:
    """A scratch database whose default TimeZone was America/New_York before migrating."""
    parts = urlsplit(codeflow_database_url)
    name = f"codeflow_scratch_auth_tz_{uuid.uuid4().hex[:12]}"
    url = urlunsplit(parts._replace(path=f"/{name}"))
    await migrate.ensure_database(url)
    try:
        admin = await asyncpg.connect(url)
        try:
            await admin.execute(f"ALTER DATABASE {name} SET timezone TO 'America/New_York'")
        finally:
            await admin.close()
        before = await asyncpg.connect(url)
        try:
            assert await before.fetchval("SHOW timezone") == "America/New_York"
        finally:
            await before.close()
        await migrate.migrate(url)
        yield url
    finally:
        await migrate.drop_database(url)


async def test_a_session_python_creates_expires_at_the_same_instant_for_prisma(new_york_url: str) -> None:
    settings = load_settings(database_url=new_york_url, db_pool_min_size=1, db_pool_max_size=2)
    pool = await create_pool(settings)
    prisma = await asyncpg.connect(new_york_url)  # a plain session, as the front end opens one
    try:
        store = AuthStore(pool, settings=settings)
        user = await store.create_user(user_id=USER_ID)
        await store.create_session(session_token="py", user_id=user.id, expires=INSTANT)

        rendered = await prisma.fetchval("SELECT expires::text FROM sessions WHERE session_token = 'py'")
        assert read_like_prisma_pg(rendered) == INSTANT

        # And the other way: a session the adapter writes expires when Python thinks it does.
        await prisma.execute(
            "INSERT INTO sessions (id, session_token, user_id, expires)"
            " VALUES ($1, 'js', $2, $3::text::timestamptz)",
            SESSION_ID,
            USER_ID,
            WALL_CLOCK,
        )
        assert (await store.delete_session("js")) == AdapterSession(
            id=SESSION_ID, session_token="js", user_id=USER_ID, expires=INSTANT
        )

        # The control: in the zone the server defaulted to, the same read is five hours off.
        # This is what the migration's UTC pin prevents, so the check above can fail.
        await prisma.execute("SET timezone TO 'America/New_York'")
        rendered = await prisma.fetchval("SELECT expires::text FROM sessions WHERE session_token = 'py'")
        assert read_like_prisma_pg(rendered) == INSTANT - timedelta(hours=5)
    finally:
        await prisma.close()
        await pool.close()
