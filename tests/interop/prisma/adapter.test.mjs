// Every method of the real @auth/prisma-adapter on the schema db/migrations builds: our
// own cases for the contract Auth.js's shared adapter suite checks, plus what the tables
// must hold afterwards (read with SQL, so the @@map/@map mapping is checked too).
// Run by tests/interop/test_prisma_adapter.py: `node --test` with DATABASE_URL set to a
// freshly migrated scratch database whose default time zone was not UTC.
import assert from "node:assert/strict";
import { randomUUID } from "node:crypto";
import { after, before, describe, test } from "node:test";

import { connect } from "./client.mjs";

let prisma;
let adapter;

before(() => {
  ({ prisma, adapter } = connect());
});

after(async () => {
  await prisma.$disconnect();
});

// Each case makes its own rows, so cases never see each other's.
const unique = (prefix) => `${prefix}-${randomUUID()}`;
const at = (iso) => new Date(iso);

// The stored instant in UTC, whatever the session's time zone: what the row really says.
async function utc(table, column, where, value) {
  const rows = await prisma.$queryRawUnsafe(
    `SELECT to_char(${column} AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"') AS v` +
      ` FROM ${table} WHERE ${where} = $1`,
    value,
  );
  assert.equal(rows.length, 1, `${table}.${where}`);
  return rows[0].v;
}

async function newUser(fields = {}) {
  return adapter.createUser({ id: "", email: `${unique("u")}@example.com`, emailVerified: null, ...fields });
}

function accountFor(userId, fields = {}) {
  return {
    userId,
    type: "oauth",
    provider: "github",
    providerAccountId: unique("gh"),
    refresh_token: "ghr_refresh",
    access_token: "gho_access",
    expires_at: 1924991999,
    token_type: "bearer",
    scope: "read:user user:email",
    id_token: "eyJ.id.token",
    session_state: "state-1",
    ...fields,
  };
}

describe("the session's time zone", () => {
  test("is UTC for the front end's connections, pinned by the first migration", async () => {
    const [{ TimeZone }] = await prisma.$queryRawUnsafe("SHOW timezone");
    assert.equal(TimeZone, "UTC");
  });
});

describe("unknown rows", () => {
  test("every lookup answers null (an empty list for authenticators)", async () => {
    const missing = unique("missing");
    assert.equal(await adapter.getUser(missing), null);
    assert.equal(await adapter.getUserByEmail(`${missing}@example.com`), null);
    assert.equal(await adapter.getUserByAccount({ provider: "github", providerAccountId: missing }), null);
    assert.equal(await adapter.getAccount(missing, "github"), null);
    assert.equal(await adapter.getSessionAndUser(missing), null);
    assert.equal(await adapter.useVerificationToken({ identifier: missing, token: missing }), null);
    assert.equal(await adapter.getAuthenticator(missing), null);
    assert.deepEqual(await adapter.listAuthenticatorsByUserId(missing), []);
  });

  test("writes that need a row reject with Prisma's P2025", async () => {
    const missing = unique("missing");
    const notFound = { code: "P2025" };
    await assert.rejects(adapter.updateUser({ id: missing, name: "x" }), notFound);
    await assert.rejects(adapter.deleteUser(missing), notFound);
    await assert.rejects(adapter.unlinkAccount({ provider: "github", providerAccountId: missing }), notFound);
    await assert.rejects(adapter.updateSession({ sessionToken: missing, expires: new Date() }), notFound);
    await assert.rejects(adapter.deleteSession(missing), notFound);
    await assert.rejects(adapter.updateAuthenticatorCounter(missing, 1), notFound);
  });
});

describe("users", () => {
  test("createUser stores every field under its column, with a client-side cuid", async () => {
    const email = `${unique("fill")}@murray.com`;
    const user = await adapter.createUser({
      id: "ignored-by-the-adapter",
      name: "Fill Murray",
      email,
      emailVerified: at("2031-01-15T12:00:00.123Z"),
      image: "https://example.com/fill.png",
    });
    assert.match(user.id, /^c[a-z0-9]{24}$/);
    assert.deepEqual(user, {
      id: user.id,
      name: "Fill Murray",
      email,
      emailVerified: at("2031-01-15T12:00:00.123Z"),
      image: "https://example.com/fill.png",
    });
    const [row] = await prisma.$queryRawUnsafe(
      "SELECT id, name, email, image FROM users WHERE id = $1",
      user.id,
    );
    assert.deepEqual(row, { id: user.id, name: "Fill Murray", email, image: "https://example.com/fill.png" });
    assert.equal(await utc("users", "email_verified", "id", user.id), "2031-01-15T12:00:00.123Z");
  });

  test("getUser and getUserByEmail return the user; e-mail matches exactly", async () => {
    const user = await newUser({ name: "Ann", emailVerified: at("2031-07-15T23:59:59.999Z") });
    assert.deepEqual(await adapter.getUser(user.id), user);
    assert.deepEqual(await adapter.getUserByEmail(user.email), user);
    assert.equal(await adapter.getUserByEmail(user.email.toUpperCase()), null);
  });

  test("a second user with the same e-mail is refused by users_email_key", async () => {
    const user = await newUser();
    await assert.rejects(adapter.createUser({ id: "", email: user.email, emailVerified: null }), (error) => {
      assert.equal(error.code, "P2002");
      return true;
    });
  });

  test("updateUser changes the given fields, leaves undefined ones alone and clears nulls", async () => {
    const user = await newUser({ name: "Before", image: "a.png", emailVerified: at("2031-01-01T00:00:00.000Z") });
    const updated = await adapter.updateUser({
      id: user.id,
      name: "After",
      image: null,
      emailVerified: undefined,
    });
    assert.deepEqual(updated, { ...user, name: "After", image: null });
    assert.deepEqual(await adapter.getUser(user.id), updated);
  });

  test("deleteUser returns the user and cascades to accounts, sessions and authenticators", async () => {
    const user = await newUser();
    const account = await adapter.linkAccount(accountFor(user.id));
    const session = await adapter.createSession({
      sessionToken: unique("s"),
      userId: user.id,
      expires: at("2031-01-01T00:00:00.000Z"),
    });
    await adapter.createAuthenticator({
      credentialID: unique("cred"),
      userId: user.id,
      providerAccountId: account.providerAccountId,
      credentialPublicKey: "pQECAyYg",
      counter: 0,
      credentialDeviceType: "singleDevice",
      credentialBackedUp: false,
    });
    assert.deepEqual(await adapter.deleteUser(user.id), user);
    assert.equal(await adapter.getUser(user.id), null);
    assert.equal(await adapter.getSessionAndUser(session.sessionToken), null);
    assert.equal(await adapter.getAccount(account.providerAccountId, "github"), null);
    assert.deepEqual(await adapter.listAuthenticatorsByUserId(user.id), []);
  });
});

describe("accounts", () => {
  test("linkAccount stores every OAuth field unchanged; an expiry past 2038 survives", async () => {
    const user = await newUser();
    const input = accountFor(user.id, { expires_at: 2 ** 31 + 17 });
    const account = await adapter.linkAccount(input);
    assert.match(account.id, /^c[a-z0-9]{24}$/);
    assert.deepEqual(account, { id: account.id, ...input });
    const [row] = await prisma.$queryRawUnsafe(
      "SELECT user_id, type, provider, provider_account_id, refresh_token, access_token," +
        " expires_at::text AS expires_at, token_type, scope, id_token, session_state" +
        " FROM accounts WHERE id = $1",
      account.id,
    );
    assert.deepEqual(row, {
      user_id: user.id,
      type: "oauth",
      provider: "github",
      provider_account_id: input.providerAccountId,
      refresh_token: "ghr_refresh",
      access_token: "gho_access",
      expires_at: "2147483665",
      token_type: "bearer",
      scope: "read:user user:email",
      id_token: "eyJ.id.token",
      session_state: "state-1",
    });
  });

  test("absent optional fields are stored as NULL and read back as null", async () => {
    const user = await newUser();
    const account = await adapter.linkAccount({
      userId: user.id,
      type: "oidc",
      provider: "google",
      providerAccountId: unique("g"),
    });
    for (const field of ["refresh_token", "access_token", "expires_at", "token_type", "scope", "id_token", "session_state"]) {
      assert.equal(account[field], null, field);
    }
  });

  test("getUserByAccount and getAccount find by provider and provider account id", async () => {
    const user = await newUser();
    const account = await adapter.linkAccount(accountFor(user.id));
    const key = { provider: "github", providerAccountId: account.providerAccountId };
    assert.deepEqual(await adapter.getUserByAccount(key), user);
    assert.deepEqual(await adapter.getAccount(account.providerAccountId, "github"), account);
    assert.equal(await adapter.getAccount(account.providerAccountId, "gitlab"), null);
  });

  test("the same provider account cannot be linked twice", async () => {
    const user = await newUser();
    const account = await adapter.linkAccount(accountFor(user.id));
    await assert.rejects(
      adapter.linkAccount(accountFor(user.id, { providerAccountId: account.providerAccountId })),
      { code: "P2002" },
    );
  });

  test("unlinkAccount deletes the link and returns it; the user stays", async () => {
    const user = await newUser();
    const account = await adapter.linkAccount(accountFor(user.id));
    const key = { provider: "github", providerAccountId: account.providerAccountId };
    assert.deepEqual(await adapter.unlinkAccount(key), account);
    assert.equal(await adapter.getUserByAccount(key), null);
    assert.deepEqual(await adapter.getUser(user.id), user);
  });
});

describe("sessions", () => {
  test("create, get with its user, update, delete", async () => {
    const user = await newUser();
    const sessionToken = unique("s");
    const session = await adapter.createSession({
      sessionToken,
      userId: user.id,
      expires: at("2031-01-15T12:00:00.123Z"),
    });
    assert.match(session.id, /^c[a-z0-9]{24}$/);
    assert.deepEqual(session, {
      id: session.id,
      sessionToken,
      userId: user.id,
      expires: at("2031-01-15T12:00:00.123Z"),
    });
    assert.equal(await utc("sessions", "expires", "session_token", sessionToken), "2031-01-15T12:00:00.123Z");
    assert.deepEqual(await adapter.getSessionAndUser(sessionToken), { session, user });

    const updated = await adapter.updateSession({ sessionToken, expires: at("2031-07-15T23:59:59.999Z") });
    assert.deepEqual(updated, { ...session, expires: at("2031-07-15T23:59:59.999Z") });
    assert.equal(await utc("sessions", "expires", "session_token", sessionToken), "2031-07-15T23:59:59.999Z");

    assert.deepEqual(await adapter.deleteSession(sessionToken), updated);
    assert.equal(await adapter.getSessionAndUser(sessionToken), null);
  });

  test("a session for a user that does not exist is refused by sessions_user_id_fkey", async () => {
    await assert.rejects(
      adapter.createSession({ sessionToken: unique("s"), userId: unique("nobody"), expires: new Date() }),
      { code: "P2003" },
    );
  });
});

describe("verification tokens", () => {
  test("created, then used exactly once", async () => {
    const identifier = `${unique("v")}@example.com`;
    const token = unique("sha256");
    const created = await adapter.createVerificationToken({
      identifier,
      token,
      expires: at("2031-01-15T12:00:00.123Z"),
    });
    assert.deepEqual(created, { identifier, token, expires: at("2031-01-15T12:00:00.123Z") });
    assert.equal(await utc("verification_tokens", "expires", "token", token), "2031-01-15T12:00:00.123Z");
    assert.deepEqual(await adapter.useVerificationToken({ identifier, token }), created);
    assert.equal(await adapter.useVerificationToken({ identifier, token }), null);
  });

  test("an expired token is still returned (and deleted): Auth.js checks expires itself", async () => {
    const identifier = `${unique("v")}@example.com`;
    const token = unique("sha256");
    const expires = at("2001-01-01T00:00:00.000Z");
    await adapter.createVerificationToken({ identifier, token, expires });
    assert.deepEqual(await adapter.useVerificationToken({ identifier, token }), { identifier, token, expires });
  });
});

describe("authenticators", () => {
  async function passkey(userId, fields = {}) {
    return adapter.createAuthenticator({
      credentialID: unique("cred"),
      userId,
      providerAccountId: unique("webauthn"),
      credentialPublicKey: "pQECAyYgASFYIA",
      counter: 0,
      credentialDeviceType: "singleDevice",
      credentialBackedUp: false,
      ...fields,
    });
  }

  test("createAuthenticator stores every field; getAuthenticator returns it", async () => {
    const user = await newUser();
    const created = await passkey(user.id, { transports: "usb,nfc", credentialBackedUp: true });
    assert.equal(created.transports, "usb,nfc");
    assert.equal(created.credentialBackedUp, true);
    assert.deepEqual(await adapter.getAuthenticator(created.credentialID), created);
    const [row] = await prisma.$queryRawUnsafe(
      "SELECT user_id, provider_account_id, credential_public_key, counter, credential_device_type," +
        " credential_backed_up, transports FROM authenticators WHERE credential_id = $1",
      created.credentialID,
    );
    assert.deepEqual(row, {
      user_id: user.id,
      provider_account_id: created.providerAccountId,
      credential_public_key: "pQECAyYgASFYIA",
      counter: 0,
      credential_device_type: "singleDevice",
      credential_backed_up: true,
      transports: "usb,nfc",
    });
  });

  test("listAuthenticatorsByUserId lists the user's passkeys only", async () => {
    const user = await newUser();
    const other = await newUser();
    const first = await passkey(user.id);
    const second = await passkey(user.id, { credentialDeviceType: "multiDevice", transports: null });
    await passkey(other.id);
    const listed = await adapter.listAuthenticatorsByUserId(user.id);
    const byId = (a, b) => a.credentialID.localeCompare(b.credentialID);
    assert.deepEqual(listed.sort(byId), [first, second].sort(byId));
  });

  test("updateAuthenticatorCounter sets the counter; a negative one breaks authenticators_counter_check", async () => {
    const user = await newUser();
    const created = await passkey(user.id);
    assert.deepEqual(await adapter.updateAuthenticatorCounter(created.credentialID, 42), { ...created, counter: 42 });
    await assert.rejects(adapter.updateAuthenticatorCounter(created.credentialID, -1));
    assert.equal((await adapter.getAuthenticator(created.credentialID)).counter, 42);
  });

  test("a credential id is unique across users", async () => {
    const user = await newUser();
    const other = await newUser();
    const created = await passkey(user.id);
    await assert.rejects(passkey(other.id, { credentialID: created.credentialID }), { code: "P2002" });
  });
});
