"""`AuthStore`: the Auth.js adapter contract, in Python, on the tables the front end's
Prisma adapter reads and writes (users, accounts, sessions, verification_tokens,
authenticators).

Method names are the adapter's in snake_case (`getSessionAndUser` is
`get_session_and_user`); lookups of unknown rows return None, as the adapter's shared
test suite requires. Two arguments that could be swapped are keyword-only.

Timestamps are cut to the millisecond on the way in: the columns are timestamptz(3) and
a JavaScript Date holds milliseconds, so what Python writes is exactly what both sides
read back. Tokens are credentials: their fields are left out of every `repr`/`str`, and
the package's query log never records parameter values. See docs/auth.md.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Annotated, Any, Self, TypedDict, Unpack

from pydantic import AfterValidator, Field, TypeAdapter

from codeflow import generated_queries as sql
from codeflow.models import BIGINT_MAX, Input, Row, Text, Timestamp, UserId, bounded
from codeflow.store import BATCH_SIZE, Store, build, found, in_batches, text, validated, written

INT4_MAX = 2**31 - 1


def _utc_milliseconds(value: datetime) -> datetime:
    # Truncate rather than let PostgreSQL round: rounding can carry into the next second,
    # and a JavaScript Date built from the same ISO text truncates too. (Timestamp has
    # already refused an offset that would overflow UTC.)
    value = value.astimezone(UTC)
    return value.replace(microsecond=value.microsecond - value.microsecond % 1000)


Instant = Annotated[Timestamp, AfterValidator(_utc_milliseconds)]
# Text columns by their bound (codeflow.models.MAX_LENGTH); credentials stay out of repr.
ExpiresAt = Annotated[int, Field(strict=True, ge=-BIGINT_MAX - 1, le=BIGINT_MAX)]
Counter = Annotated[int, Field(strict=True, ge=0, le=INT4_MAX)]


# --- users -------------------------------------------------------------------------


class UserFields(Input):
    """The profile fields of an Auth.js user, all optional."""

    name: Annotated[Text, bounded("users.name")] | None = None
    email: Annotated[Text, bounded("users.email")] | None = None
    email_verified: Instant | None = None
    image: Annotated[Text, bounded("users.image")] | None = None


class UserChanges(TypedDict, total=False):
    """`update_user` arguments: a field left out is kept, a field set to None is cleared."""

    name: str | None
    email: str | None
    email_verified: datetime | None
    image: str | None


class NewUser(UserFields):
    id: UserId | None = Field(default=None, description="None: the database generates one.")


class AdapterUser(UserFields, Row):
    """An Auth.js `AdapterUser`."""

    id: str


# --- accounts ----------------------------------------------------------------------


class AccountData(Input):
    """An Auth.js `AdapterAccount` as `link_account` takes it. Tokens stay out of `repr`."""

    user_id: UserId
    type: Annotated[Text, bounded("accounts.type", min_length=1)] = Field(
        description="oauth, oidc, email or webauthn."
    )
    provider: Annotated[Text, bounded("accounts.provider", min_length=1)]
    provider_account_id: Annotated[Text, bounded("accounts.provider_account_id", min_length=1)]
    refresh_token: Annotated[Text, bounded("accounts.refresh_token")] | None = Field(default=None, repr=False)
    access_token: Annotated[Text, bounded("accounts.access_token")] | None = Field(default=None, repr=False)
    expires_at: ExpiresAt | None = Field(default=None, description="Access token expiry, epoch seconds.")
    token_type: Annotated[Text, bounded("accounts.token_type")] | None = None
    scope: Annotated[Text, bounded("accounts.scope")] | None = None
    id_token: Annotated[Text, bounded("accounts.id_token")] | None = Field(default=None, repr=False)
    session_state: Annotated[Text, bounded("accounts.session_state")] | None = None


class AdapterAccount(AccountData, Row):
    """A linked account as stored."""

    id: str


# --- sessions ----------------------------------------------------------------------


SessionToken = Annotated[Text, bounded("sessions.session_token", min_length=1), Field(repr=False)]


class AdapterSession(Row):
    """An Auth.js `AdapterSession`. `session_token` stays out of `repr`."""

    id: str
    session_token: SessionToken
    user_id: str
    expires: Instant


class NewSession(Input):
    session_token: SessionToken
    user_id: UserId
    expires: Instant


class SessionAndUser(Input):
    """What `get_session_and_user` resolves a session token to."""

    session: AdapterSession
    user: AdapterUser

    @classmethod
    def from_row(cls, row: Mapping[str, object]) -> Self:
        """Build from the joined row of `get_auth_session_and_user` (user columns prefixed)."""
        values: dict[str, Any] = dict(row)
        user = {name: values.pop(f"user_{name}") for name in UserFields.model_fields}
        # Row.from_row: a stored row that does not fit is a QueryFailed naming the fields.
        return cls(
            session=AdapterSession.from_row(values),
            user=AdapterUser.from_row({"id": values["user_id"], **user}),
        )


# --- verification tokens and authenticators -----------------------------------------


class VerificationToken(Input, Row):
    """An Auth.js `VerificationToken` (e-mail sign-in). `token` stays out of `repr`."""

    identifier: Annotated[Text, bounded("verification_tokens.identifier", min_length=1)]
    token: Annotated[Text, bounded("verification_tokens.token", min_length=1), Field(repr=False)]
    expires: Instant


class Authenticator(Input, Row):
    """An Auth.js `AdapterAuthenticator` (a WebAuthn credential). The public key is public."""

    credential_id: Annotated[
        Text, bounded("authenticators.credential_id", min_length=1), Field(pattern=r"^[A-Za-z0-9+/_-]+=*$")
    ] = Field(description="base64 (Auth.js writes the standard alphabet) or base64url.")
    user_id: UserId
    provider_account_id: Annotated[Text, bounded("authenticators.provider_account_id", min_length=1)]
    credential_public_key: Annotated[Text, bounded("authenticators.credential_public_key", min_length=1)]
    counter: Counter
    credential_device_type: Annotated[Text, bounded("authenticators.credential_device_type", min_length=1)]
    credential_backed_up: bool
    transports: Annotated[Text, bounded("authenticators.transports")] | None = None


class PurgeCounts(Input):
    """How many expired rows `purge_expired` deleted."""

    sessions: int
    verification_tokens: int


_INSTANT: TypeAdapter[datetime] = TypeAdapter(Instant)
_COUNTER: TypeAdapter[int] = TypeAdapter(Counter)


class SessionAndUserRow(TypedDict):
    """The joined row of `get_auth_session_and_user`; `SessionAndUser.from_row` reshapes it."""

    id: str
    session_token: str
    user_id: str
    expires: datetime
    user_name: str | None
    user_email: str | None
    user_email_verified: datetime | None
    user_image: str | None


class AuthStore(Store):
    """The Auth.js adapter operations (`Database.auth`, or a transaction's)."""

    # --- users -----------------------------------------------------------------------

    async def create_user(
        self,
        *,
        email: str | None = None,
        name: str | None = None,
        image: str | None = None,
        email_verified: datetime | None = None,
        user_id: str | None = None,
    ) -> AdapterUser:
        """Create a user; the database picks the id unless `user_id` is given.

        `AlreadyExists` if the e-mail address (or id) is taken.
        """
        new = build(NewUser, id=user_id, name=name, email=email, email_verified=email_verified, image=image)
        created = await sql.create_auth_user(
            self._runner,
            user_id=new.id,
            name=new.name,
            email=new.email,
            email_verified=new.email_verified,
            image=new.image,
        )
        return written(created, "create_auth_user")

    async def get_user(self, user_id: str) -> AdapterUser | None:
        """The user with this id, or None."""
        return await sql.get_auth_user(self._runner, user_id=text(user_id, "user_id"))

    async def get_user_by_email(self, email: str) -> AdapterUser | None:
        """The user with exactly this e-mail address, or None."""
        return await sql.get_auth_user_by_email(self._runner, email=text(email, "email"))

    async def get_user_by_account(self, *, provider: str, provider_account_id: str) -> AdapterUser | None:
        """The user this provider account is linked to, or None."""
        return await sql.get_auth_user_by_account(
            self._runner,
            provider=text(provider, "provider"),
            provider_account_id=text(provider_account_id, "provider_account_id"),
        )

    async def update_user(self, user_id: str, **changes: Unpack[UserChanges]) -> AdapterUser:
        """Change the given fields, keep the others; `NotFound` if there is no such user,
        `AlreadyExists` if the new e-mail address is taken."""
        given = build(UserFields, **changes)
        changed = given.model_fields_set
        user = await sql.update_auth_user(
            self._runner,
            user_id=text(user_id, "user_id"),
            set_name="name" in changed,
            name=given.name,
            set_email="email" in changed,
            email=given.email,
            set_email_verified="email_verified" in changed,
            email_verified=given.email_verified,
            set_image="image" in changed,
            image=given.image,
        )
        return found(user, "user")

    async def delete_user(self, user_id: str) -> AdapterUser | None:
        """Delete a user with its accounts, sessions and authenticators; the deleted user,
        or None if there was none."""
        return await sql.delete_auth_user(self._runner, user_id=text(user_id, "user_id"))

    # --- accounts --------------------------------------------------------------------

    async def link_account(
        self,
        *,
        user_id: str,
        type: str,
        provider: str,
        provider_account_id: str,
        refresh_token: str | None = None,
        access_token: str | None = None,
        expires_at: int | None = None,
        token_type: str | None = None,
        scope: str | None = None,
        id_token: str | None = None,
        session_state: str | None = None,
    ) -> AdapterAccount:
        """Link a provider account to a user (the adapter's `AdapterAccount` fields);
        every field is stored and returned as given. `expires_at` is the access token's
        expiry in epoch seconds.

        `AlreadyExists` if the provider account is linked already; `ReferencedRowMissing`
        if there is no such user.
        """
        account = build(
            AccountData,
            user_id=user_id,
            type=type,
            provider=provider,
            provider_account_id=provider_account_id,
            refresh_token=refresh_token,
            access_token=access_token,
            expires_at=expires_at,
            token_type=token_type,
            scope=scope,
            id_token=id_token,
            session_state=session_state,
        )
        created = await sql.create_auth_account(
            self._runner,
            user_id=account.user_id,
            type=account.type,
            provider=account.provider,
            provider_account_id=account.provider_account_id,
            refresh_token=account.refresh_token,
            access_token=account.access_token,
            expires_at=account.expires_at,
            token_type=account.token_type,
            scope=account.scope,
            id_token=account.id_token,
            session_state=account.session_state,
        )
        return written(created, "create_auth_account")

    async def get_account(self, *, provider: str, provider_account_id: str) -> AdapterAccount | None:
        """The linked account of this provider and provider account id, or None."""
        return await sql.get_auth_account(
            self._runner,
            provider=text(provider, "provider"),
            provider_account_id=text(provider_account_id, "provider_account_id"),
        )

    async def unlink_account(self, *, provider: str, provider_account_id: str) -> AdapterAccount | None:
        """Unlink a provider account; the deleted account, or None if there was none."""
        return await sql.delete_auth_account(
            self._runner,
            provider=text(provider, "provider"),
            provider_account_id=text(provider_account_id, "provider_account_id"),
        )

    # --- sessions --------------------------------------------------------------------

    async def create_session(self, *, session_token: str, user_id: str, expires: datetime) -> AdapterSession:
        """Start a database session.

        `AlreadyExists` if the token is taken; `ReferencedRowMissing` if there is no such user.
        """
        new = build(NewSession, session_token=session_token, user_id=user_id, expires=expires)
        created = await sql.create_auth_session(
            self._runner, session_token=new.session_token, user_id=new.user_id, expires=new.expires
        )
        return written(created, "create_auth_session")

    async def get_session_and_user(self, session_token: str) -> SessionAndUser | None:
        """The session with this token and its user; None if there is none or it has
        expired (by the database clock)."""
        row = await sql.get_auth_session_and_user(
            self._runner, session_token=text(session_token, "session_token")
        )
        return None if row is None else SessionAndUser.from_row(row)

    async def update_session(self, session_token: str, *, expires: datetime) -> AdapterSession | None:
        """Move a session's expiry; the updated session, or None if there is none."""
        return await sql.update_auth_session(
            self._runner,
            session_token=text(session_token, "session_token"),
            expires=validated(_INSTANT, expires, "expires"),
        )

    async def delete_session(self, session_token: str) -> AdapterSession | None:
        """End a session (sign-out); the deleted session, or None if there was none."""
        return await sql.delete_auth_session(self._runner, session_token=text(session_token, "session_token"))

    # --- verification tokens ---------------------------------------------------------

    async def create_verification_token(
        self, *, identifier: str, token: str, expires: datetime
    ) -> VerificationToken:
        """Store a one-time token (Auth.js passes it hashed); `AlreadyExists` if it exists."""
        new = build(VerificationToken, identifier=identifier, token=token, expires=expires)
        created = await sql.create_auth_verification_token(
            self._runner, identifier=new.identifier, token=new.token, expires=new.expires
        )
        return written(created, "create_auth_verification_token")

    async def use_verification_token(self, *, identifier: str, token: str) -> VerificationToken | None:
        """Delete and return the token in one statement: of concurrent uses exactly one
        gets it. None if there is no such token for this identifier. An expired token is
        still returned (and deleted), as by the Prisma adapter: Auth.js checks `expires`."""
        return await sql.delete_auth_verification_token(
            self._runner, identifier=text(identifier, "identifier"), token=text(token, "token")
        )

    # --- authenticators (WebAuthn) ---------------------------------------------------

    async def create_authenticator(
        self,
        *,
        credential_id: str,
        user_id: str,
        provider_account_id: str,
        credential_public_key: str,
        counter: int,
        credential_device_type: str,
        credential_backed_up: bool,
        transports: str | None = None,
    ) -> Authenticator:
        """Register a WebAuthn credential (the adapter's `AdapterAuthenticator` fields;
        `credential_id` and `credential_public_key` are base64, as Auth.js writes them).

        `AlreadyExists` if the credential id is registered; `ReferencedRowMissing` if
        there is no such user.
        """
        authenticator = build(
            Authenticator,
            credential_id=credential_id,
            user_id=user_id,
            provider_account_id=provider_account_id,
            credential_public_key=credential_public_key,
            counter=counter,
            credential_device_type=credential_device_type,
            credential_backed_up=credential_backed_up,
            transports=transports,
        )
        created = await sql.create_auth_authenticator(
            self._runner,
            credential_id=authenticator.credential_id,
            user_id=authenticator.user_id,
            provider_account_id=authenticator.provider_account_id,
            credential_public_key=authenticator.credential_public_key,
            counter=authenticator.counter,
            credential_device_type=authenticator.credential_device_type,
            credential_backed_up=authenticator.credential_backed_up,
            transports=authenticator.transports,
        )
        return written(created, "create_auth_authenticator")

    async def get_authenticator(self, credential_id: str) -> Authenticator | None:
        """The authenticator with this credential id, or None."""
        return await sql.get_auth_authenticator(
            self._runner, credential_id=text(credential_id, "credential_id")
        )

    async def list_authenticators_by_user_id(self, user_id: str) -> list[Authenticator]:
        """The user's authenticators by credential id; empty for an unknown user."""
        return await sql.list_auth_authenticators(self._runner, user_id=text(user_id, "user_id"))

    async def update_authenticator_counter(self, credential_id: str, counter: int) -> Authenticator:
        """Store a new signature counter; `NotFound` if there is no such authenticator
        (the adapter contract requires an error here, not None)."""
        authenticator = await sql.update_auth_authenticator_counter(
            self._runner,
            credential_id=text(credential_id, "credential_id"),
            counter=validated(_COUNTER, counter, "counter"),
        )
        return found(authenticator, "authenticator")

    # --- housekeeping ----------------------------------------------------------------

    async def purge_expired(self, *, batch_size: int = 500) -> PurgeCounts:
        """Delete expired sessions and verification tokens.

        Works in batches of `batch_size` rows, each its own short statement, so no lock
        is held for long; rows a concurrent request holds are left for the next run.
        """
        batch = validated(BATCH_SIZE, batch_size, "batch_size")
        return PurgeCounts(
            sessions=await in_batches(
                lambda: sql.delete_expired_auth_sessions(self._runner, batch_size=batch), batch
            ),
            verification_tokens=await in_batches(
                lambda: sql.delete_expired_auth_verification_tokens(self._runner, batch_size=batch), batch
            ),
        )
