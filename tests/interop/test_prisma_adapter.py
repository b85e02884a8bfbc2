"""The real Auth.js Prisma adapter (`@auth/prisma-adapter` on a Prisma 7 client with
`@prisma/adapter-pg`, the project in tests/interop/prisma/) against a database our
migrations built, whose default time zone was America/New_York before migrating:

- the adapter's own contract, every method (prisma/adapter.test.mjs, `node --test`);
- rows `AuthStore` writes, read and updated through the adapter, and rows the adapter
  writes, read and updated by `AuthStore`, instants compared to the millisecond;
- the control: the same adapter on a New York session is hours off, so the comparisons
  above would catch a database that lost the migration's UTC pin.

Without Node.js/npm or the npm registry these tests skip, saying how to enable them;
with CI set they fail instead: CI must keep proving interop.
"""

from __future__ import annotations

import asyncio
import json
import os
import re
import shutil
import subprocess
import uuid
from collections.abc import AsyncIterator, Iterator, Mapping
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path
from typing import Any, NamedTuple, NoReturn
from urllib.parse import quote, urlsplit, urlunsplit

import asyncpg
import pytest
from pydantic import BaseModel

from codeflow import Authenticator, AuthStore, Database
from codeflow.auth import AdapterAccount, AdapterSession, AdapterUser, VerificationToken
from codeflow.settings import load_settings
from codeflow.tools import migrate

PROJECT = Path(__file__).parent / "prisma"
ENABLE = (
    "install Node.js (^20.19, ^22.12 or >= 24) with npm, reach the npm registry once, "
    "then run `make test-interop` (CI fails here instead of skipping)"
)
NEW_YORK = "America/New_York"


class PrismaField(NamedTuple):
    column: str
    type: str  # Prisma's scalar type: String, DateTime, Int, Boolean
    optional: bool
    native: str | None  # the @db. attribute, e.g. Timestamptz(3)


def read_prisma_schema(text: str) -> dict[str, dict[str, PrismaField]]:
    """The scalar fields of each model in a Prisma schema, by table then field name,
    following @@map/@map. Relation fields (typed with a model) have no column."""
    blocks = re.findall(r"^model (\w+) \{\n(.*?)^\}", text, re.MULTILINE | re.DOTALL)
    models = {name for name, _ in blocks}
    tables: dict[str, dict[str, PrismaField]] = {}
    for name, body in blocks:
        table = re.search(r'^\s*@@map\("(\w+)"\)', body, re.MULTILINE)
        fields: dict[str, PrismaField] = {}
        for line in body.splitlines():
            field = re.match(r"\s*(\w+)\s+(\w+)(\?|\[\])?(.*)", line)
            if field is None or field[2] in models:
                continue
            column = re.search(r'@map\("(\w+)"\)', field[4])
            native = re.search(r"@db\.(\w+(?:\(\d+\))?)", field[4])
            fields[field[1]] = PrismaField(
                column[1] if column else field[1], field[2], field[3] == "?", native[1] if native else None
            )
        tables[table[1] if table else name] = fields
    return tables


PRISMA_MODELS = read_prisma_schema((PROJECT / "schema.prisma").read_text())
# Prisma field -> column, per table.
PRISMA_FIELDS = {
    table: {name: f.column for name, f in fields.items()} for table, fields in PRISMA_MODELS.items()
}
INSTANTS = {
    (table, name)
    for table, fields in PRISMA_MODELS.items()
    for name, f in fields.items()
    if f.type == "DateTime"
}

# New York is UTC-5 in January and UTC-4 in July: the control sees both offsets.
WINTER = datetime(2031, 1, 15, 12, 0, 0, 123000, tzinfo=UTC)
SUMMER = datetime(2031, 7, 15, 23, 59, 59, 999000, tzinfo=UTC)


def _not_available(reason: str) -> NoReturn:
    if os.environ.get("CI"):
        pytest.fail(f"Prisma interop cannot run in CI: {reason}")
    pytest.skip(f"Prisma interop not run: {reason}; to enable it, {ENABLE}")


def install_prisma_project(project: Path = PROJECT) -> Path:
    """The Node project, installed (npm ci only when node_modules is stale) and its client
    generated; a skip (a failure under CI) when Node.js, npm or the registry is missing."""
    try:
        done = subprocess.run(
            ["bash", str(project / "install.sh")],
            capture_output=True,
            text=True,
            timeout=900,
            check=False,
        )
    except subprocess.TimeoutExpired:
        _not_available("`npm ci` did not finish in 15 minutes (is the npm registry reachable?)")
    output = (done.stdout + done.stderr).strip()
    if done.returncode == 3:
        _not_available(output)
    if done.returncode == 4:
        _not_available(f"`npm ci` failed (is the npm registry reachable?): {output[-2000:]}")
    assert done.returncode == 0, f"prisma generate failed:\n{output}"
    return project


@pytest.fixture(scope="module")
def prisma_project() -> Path:
    return install_prisma_project()


@pytest.fixture(scope="module")
def database_url(codeflow_database_url: str) -> Iterator[str]:
    """A scratch database whose default TimeZone was America/New_York before migrating,
    as a server whose default is not UTC gives it; dropped whatever happens."""
    parts = urlsplit(codeflow_database_url)
    name = f"codeflow_scratch_prisma_{uuid.uuid4().hex[:12]}"
    url = urlunsplit(parts._replace(path=f"/{name}"))

    async def create() -> None:
        await migrate.ensure_database(url)
        connection = await asyncpg.connect(url)
        try:
            await connection.execute(f"ALTER DATABASE {name} SET timezone TO '{NEW_YORK}'")
        finally:
            await connection.close()
        before = await asyncpg.connect(url)
        try:
            assert await before.fetchval("SHOW timezone") == NEW_YORK
        finally:
            await before.close()
        await migrate.migrate(url)

    try:
        asyncio.run(create())
        yield url
    finally:
        asyncio.run(migrate.drop_database(url))


@pytest.fixture
async def store(database_url: str) -> AsyncIterator[AuthStore]:
    settings = load_settings(database_url=database_url, db_pool_min_size=1, db_pool_max_size=2)
    async with Database(settings) as database:
        yield database.auth


def with_session_time_zone(url: str, zone: str) -> str:
    """`url` with a libpq `options` that sets the session time zone (pg reads it too)."""
    parts = urlsplit(url)
    option = "options=" + quote(f"-c timezone={zone}", safe="")
    return urlunsplit(parts._replace(query=f"{parts.query}&{option}" if parts.query else option))


def adapter(project: Path, url: str, *calls: tuple[Any, ...]) -> list[Any]:
    """Run adapter calls in one Node process (prisma/calls.mjs); their results, as JSON."""

    def encode(value: object) -> object:
        if isinstance(value, datetime):
            return {"$date": value.isoformat()}
        raise TypeError(type(value).__name__)

    done = subprocess.run(
        ["node", "calls.mjs"],
        cwd=project,
        input=json.dumps([list(call) for call in calls], default=encode),
        env={**os.environ, "DATABASE_URL": url},
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    results: list[Any] = json.loads(done.stdout)
    return results


def from_prisma(table: str, value: Mapping[str, Any]) -> dict[str, Any]:
    """An adapter object as the row it reads: columns for fields, datetimes for instants.
    Every field of the model must be there, and no other."""
    fields = PRISMA_FIELDS[table]
    assert set(value) == set(fields), (table, sorted(value))
    return {
        column: datetime.fromisoformat(value[field])
        if (table, field) in INSTANTS and value[field] is not None
        else value[field]
        for field, column in fields.items()
    }


def unique(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex}"


async def python_writes(store: AuthStore) -> dict[str, BaseModel]:
    """One of everything, written by AuthStore; instants given off UTC and below the
    millisecond, which the store cuts."""
    kolkata = timezone(timedelta(hours=5, minutes=30))
    email = f"{unique('py')}@example.com"
    user = await store.create_user(
        email=email,
        name="Python Writer",
        image="https://example.com/py.png",
        email_verified=(WINTER + timedelta(microseconds=456)).astimezone(kolkata),
    )
    account = await store.link_account(
        user_id=user.id,
        type="oauth",
        provider="github",
        provider_account_id=unique("gh"),
        refresh_token="ghr_refresh",
        access_token="gho_access",
        expires_at=2**31 + 17,
        token_type="bearer",
        scope="read:user",
        id_token="eyJ.id",
        session_state=None,
    )
    session = await store.create_session(
        session_token=unique("py-session"), user_id=user.id, expires=SUMMER + timedelta(microseconds=999)
    )
    token = await store.create_verification_token(identifier=email, token=unique("py-token"), expires=WINTER)
    passkey = await store.create_authenticator(
        credential_id=unique("py-cred"),
        user_id=user.id,
        provider_account_id=account.provider_account_id,
        credential_public_key="pQECAyYg",
        counter=7,
        credential_device_type="multiDevice",
        credential_backed_up=True,
        transports="internal,hybrid",
    )
    assert user.email_verified == WINTER and session.expires == SUMMER  # cut, not rounded
    return {
        "users": user,
        "accounts": account,
        "sessions": session,
        "verification_tokens": token,
        "authenticators": passkey,
    }


def reads(rows: Mapping[str, Any]) -> list[tuple[Any, ...]]:
    """Every adapter read of the rows written (Python models or adapter objects)."""

    def get(table: str, column: str) -> Any:
        row = rows[table]
        return row.model_dump()[column] if isinstance(row, BaseModel) else row[_field(table, column)]

    account_key = {
        "provider": get("accounts", "provider"),
        "providerAccountId": get("accounts", "provider_account_id"),
    }
    return [
        ("getUser", get("users", "id")),
        ("getUserByEmail", get("users", "email")),
        ("getUserByAccount", account_key),
        ("getAccount", account_key["providerAccountId"], account_key["provider"]),
        ("getSessionAndUser", get("sessions", "session_token")),
        ("getAuthenticator", get("authenticators", "credential_id")),
        ("listAuthenticatorsByUserId", get("users", "id")),
        (
            "useVerificationToken",
            {
                "identifier": get("verification_tokens", "identifier"),
                "token": get("verification_tokens", "token"),
            },
        ),
    ]


def _field(table: str, column: str) -> str:
    return next(field for field, name in PRISMA_FIELDS[table].items() if name == column)


def check_adapter_reads(results: list[Any], rows: Mapping[str, Any]) -> None:
    """What the adapter read (in `reads` order) is exactly the rows, as columns."""
    expected = {
        table: row.model_dump() if isinstance(row, BaseModel) else from_prisma(table, row)
        for table, row in rows.items()
    }
    user, by_email, by_account, account, session_and_user, passkey, passkeys, token = results
    assert from_prisma("users", user) == expected["users"]
    assert from_prisma("users", by_email) == expected["users"]
    assert from_prisma("users", by_account) == expected["users"]
    assert from_prisma("accounts", account) == expected["accounts"]
    assert set(session_and_user) == {"session", "user"}
    assert from_prisma("sessions", session_and_user["session"]) == expected["sessions"]
    assert from_prisma("users", session_and_user["user"]) == expected["users"]
    assert from_prisma("authenticators", passkey) == expected["authenticators"]
    assert [from_prisma("authenticators", each) for each in passkeys] == [expected["authenticators"]]
    assert from_prisma("verification_tokens", token) == expected["verification_tokens"]


# --- the schema ---------------------------------------------------------------------

# Prisma's scalar type and @db. attribute -> the column type it stands for in PostgreSQL.
PRISMA_TYPES = {
    ("String", None): "text",
    ("DateTime", "Timestamptz(3)"): "timestamp(3) with time zone",
    ("Int", None): "integer",
    ("Boolean", None): "boolean",
}
# Wider in the database than in the Auth.js model: epoch seconds past 2038. Prisma 7 reads
# and writes them as a number (prisma/adapter.test.mjs stores 2^31 + 17).
WIDER_COLUMNS = {("accounts", "expires_at"): "bigint"}
PYTHON_MODELS: dict[str, type[BaseModel]] = {
    "users": AdapterUser,
    "accounts": AdapterAccount,
    "sessions": AdapterSession,
    "verification_tokens": VerificationToken,
    "authenticators": Authenticator,
}


async def test_schema_prisma_maps_every_column_of_the_authjs_tables_with_its_type(
    codeflow_connection: asyncpg.Connection,
) -> None:
    """prisma/schema.prisma against the migrated tables, without Node: every column is a
    field, of the matching type and nullability; and AuthStore's models have the same."""
    assert set(PRISMA_MODELS) == set(PYTHON_MODELS)
    for table, fields in PRISMA_MODELS.items():
        rows = await codeflow_connection.fetch(
            "SELECT attname, format_type(atttypid, atttypmod) AS type, NOT attnotnull AS nullable"
            " FROM pg_attribute WHERE attrelid = $1::regclass AND attnum > 0 AND NOT attisdropped",
            table,
        )
        columns = {row["attname"]: (row["type"], row["nullable"]) for row in rows}
        declared = {
            field.column: (
                WIDER_COLUMNS.get((table, field.column), PRISMA_TYPES[field.type, field.native]),
                field.optional,
            )
            for field in fields.values()
        }
        assert columns == declared, table
        assert set(PYTHON_MODELS[table].model_fields) == set(columns), table


# --- without Node ---------------------------------------------------------------------


def test_without_node_the_tests_skip_saying_how_to_enable_them_but_fail_in_ci(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    tools = tmp_path / "bin"
    tools.mkdir()
    for tool in ("bash", "cat", "cut", "dirname", "sha256sum"):
        (tools / tool).symlink_to(shutil.which(tool) or tool)
    monkeypatch.setenv("PATH", str(tools))
    monkeypatch.delenv("CI", raising=False)
    with pytest.raises(pytest.skip.Exception, match=r"node and npm are not on PATH.*make test-interop"):
        install_prisma_project()
    monkeypatch.setenv("CI", "true")
    with pytest.raises(pytest.fail.Exception, match="cannot run in CI: node and npm are not on PATH"):
        install_prisma_project()


def test_without_the_npm_registry_the_tests_skip_but_fail_in_ci(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """npm ci failing (here a stand-in npm that cannot reach a registry) on a checkout with
    no node_modules yet."""
    if shutil.which("node") is None:
        _not_available("node and npm are not on PATH")
    project = tmp_path / "prisma"
    project.mkdir()
    for name in ("install.sh", "package.json", "package-lock.json"):
        shutil.copy(PROJECT / name, project / name)
    tools = tmp_path / "bin"
    tools.mkdir()
    (tools / "npm").write_text("#!/bin/sh\necho 'npm error network request failed (offline)' >&2\nexit 1\n")
    (tools / "npm").chmod(0o755)
    monkeypatch.setenv("PATH", f"{tools}{os.pathsep}{os.environ['PATH']}")
    monkeypatch.delenv("CI", raising=False)
    with pytest.raises(pytest.skip.Exception, match=r"registry reachable.*offline.*make test-interop"):
        install_prisma_project(project)
    monkeypatch.setenv("CI", "1")
    with pytest.raises(pytest.fail.Exception, match="cannot run in CI: `npm ci` failed"):
        install_prisma_project(project)
    assert not (project / "node_modules").exists()


# --- the adapter's own contract --------------------------------------------------------


def test_every_adapter_method_behaves_on_our_migrated_schema(prisma_project: Path, database_url: str) -> None:
    done = subprocess.run(
        ["node", "--test", "--test-reporter=tap", "adapter.test.mjs"],
        cwd=prisma_project,
        env={**os.environ, "DATABASE_URL": database_url},
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    report = done.stdout + done.stderr
    assert done.returncode == 0, report
    passed = re.search(r"^# pass (\d+)$", report, re.MULTILINE)
    assert passed is not None and int(passed.group(1)) > 0, report  # cases ran, not none
    assert re.search(r"^# fail 0$", report, re.MULTILINE), report


# --- Python writes, the adapter reads --------------------------------------------------


async def test_rows_python_writes_are_read_and_updated_through_the_adapter(
    prisma_project: Path, database_url: str, store: AuthStore
) -> None:
    rows = await python_writes(store)
    check_adapter_reads(adapter(prisma_project, database_url, *reads(rows)), rows)

    user, session, passkey = rows["users"], rows["sessions"], rows["authenticators"]
    later = SUMMER + timedelta(days=1)
    updated_user, updated_session, updated_passkey = adapter(
        prisma_project,
        database_url,
        ("updateUser", {"id": user.model_dump()["id"], "emailVerified": later, "name": None}),
        ("updateSession", {"sessionToken": session.model_dump()["session_token"], "expires": later}),
        ("updateAuthenticatorCounter", passkey.model_dump()["credential_id"], 8),
    )
    assert from_prisma("users", updated_user) == {**user.model_dump(), "email_verified": later, "name": None}
    assert await store.get_user(user.model_dump()["id"]) == user.model_copy(
        update={"email_verified": later, "name": None}
    )
    assert from_prisma("sessions", updated_session) == {**session.model_dump(), "expires": later}
    found = await store.get_session_and_user(session.model_dump()["session_token"])
    assert found is not None and found.session.expires == later
    assert from_prisma("authenticators", updated_passkey)["counter"] == 8
    fetched = await store.get_authenticator(passkey.model_dump()["credential_id"])
    assert fetched is not None and fetched.counter == 8
    # The adapter's read used Python's verification token up.
    token = rows["verification_tokens"].model_dump()
    assert await store.use_verification_token(identifier=token["identifier"], token=token["token"]) is None


# --- the adapter writes, Python reads ---------------------------------------------------


async def test_rows_the_adapter_writes_are_read_and_updated_by_python(
    prisma_project: Path, database_url: str, store: AuthStore
) -> None:
    email = f"{unique('js')}@example.com"
    [user] = adapter(
        prisma_project,
        database_url,
        (
            "createUser",
            {"id": "", "name": "Node Writer", "email": email, "emailVerified": WINTER, "image": None},
        ),
    )
    assert re.fullmatch(r"c[a-z0-9]{24}", user["id"])  # a cuid made by the client
    account_in = {
        "userId": user["id"],
        "type": "oauth",
        "provider": "github",
        "providerAccountId": unique("gh"),
        "refresh_token": None,
        "access_token": "gho_js",
        "expires_at": 2**31 + 17,
        "token_type": "bearer",
        "scope": "read:user",
        "id_token": None,
        "session_state": None,
    }
    account, session, token, passkey = adapter(
        prisma_project,
        database_url,
        ("linkAccount", account_in),
        ("createSession", {"sessionToken": unique("js-session"), "userId": user["id"], "expires": SUMMER}),
        ("createVerificationToken", {"identifier": email, "token": unique("js-token"), "expires": WINTER}),
        (
            "createAuthenticator",
            {
                "credentialID": unique("js-cred"),
                "userId": user["id"],
                "providerAccountId": account_in["providerAccountId"],
                "credentialPublicKey": "pQECAyYg",
                "counter": 0,
                "credentialDeviceType": "singleDevice",
                "credentialBackedUp": False,
            },
        ),
    )
    assert from_prisma("users", user)["email_verified"] == WINTER
    assert from_prisma("sessions", session)["expires"] == SUMMER
    assert from_prisma("verification_tokens", token)["expires"] == WINTER
    assert passkey["transports"] is None

    # Python reads exactly what the adapter wrote and returned.
    found_user = await store.get_user(user["id"])
    assert found_user is not None and found_user.model_dump() == from_prisma("users", user)
    assert (await store.get_user_by_email(email)) == found_user
    assert (
        await store.get_user_by_account(provider="github", provider_account_id=account["providerAccountId"])
    ) == found_user
    found_account = await store.get_account(
        provider="github", provider_account_id=account["providerAccountId"]
    )
    assert found_account is not None and found_account.model_dump() == from_prisma("accounts", account)
    both = await store.get_session_and_user(session["sessionToken"])
    assert both is not None
    assert both.session.model_dump() == from_prisma("sessions", session)
    assert both.user == found_user
    found_passkey = await store.get_authenticator(passkey["credentialID"])
    assert found_passkey is not None and found_passkey.model_dump() == from_prisma("authenticators", passkey)
    assert await store.list_authenticators_by_user_id(user["id"]) == [found_passkey]

    # Python uses the adapter's token: the one use there is, and exactly what was written.
    used = await store.use_verification_token(identifier=email, token=token["token"])
    assert used is not None and used.model_dump() == from_prisma("verification_tokens", token)
    assert adapter(
        prisma_project, database_url, ("useVerificationToken", {"identifier": email, "token": token["token"]})
    ) == [None]

    # Python updates (and issues a new token); the adapter reads the new values.
    later = WINTER + timedelta(days=200)
    await store.update_user(user["id"], email_verified=later, image="https://example.com/js.png")
    await store.update_session(session["sessionToken"], expires=later)
    await store.update_authenticator_counter(passkey["credentialID"], 3)
    rows = {
        "users": {**user, "emailVerified": later.isoformat(), "image": "https://example.com/js.png"},
        "accounts": account,
        "sessions": {**session, "expires": later.isoformat()},
        "verification_tokens": await store.create_verification_token(
            identifier=email, token=unique("py-token"), expires=later
        ),
        "authenticators": {**passkey, "counter": 3},
    }
    check_adapter_reads(adapter(prisma_project, database_url, *reads(rows)), rows)


# --- the control ----------------------------------------------------------------------


async def test_control_a_new_york_session_shifts_the_adapters_instants(
    prisma_project: Path, database_url: str, store: AuthStore
) -> None:
    """What the migration's UTC pin prevents, shown with the real adapter: on a session in
    New York's zone (the database's default without the pin) adapter-pg reads every
    instant off by New York's offset, so the exact comparisons above can fail."""
    rows = await python_writes(store)
    user, session_and_user = adapter(
        prisma_project,
        with_session_time_zone(database_url, NEW_YORK),
        ("getUser", rows["users"].model_dump()["id"]),
        ("getSessionAndUser", rows["sessions"].model_dump()["session_token"]),
    )
    assert datetime.fromisoformat(user["emailVerified"]) == WINTER - timedelta(hours=5)
    assert datetime.fromisoformat(session_and_user["session"]["expires"]) == SUMMER - timedelta(hours=4)
