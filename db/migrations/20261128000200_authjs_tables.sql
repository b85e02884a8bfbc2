-- migrate:up

-- Give up rather than queue, and block every later query, behind a long transaction
-- holding a lock this migration needs (e.g. on users, which new foreign keys reference).
SET LOCAL lock_timeout = '5s';

-- Auth.js tables, shaped as the Auth.js Prisma adapter maps them (story 0.4), so the
-- Next.js front end and the Python services read and write the same rows.
-- Ids are text: the adapter writes cuids; rows inserted elsewhere get a uuid.

CREATE TABLE users (
    id             text         NOT NULL DEFAULT gen_random_uuid()::text,
    name           text,
    email          text,
    email_verified timestamptz(3),
    image          text,
    CONSTRAINT users_pkey PRIMARY KEY (id),
    CONSTRAINT users_email_key UNIQUE (email)
);

COMMENT ON TABLE users IS 'Auth.js users: one row per signed-up person.';
COMMENT ON COLUMN users.email_verified IS 'When the e-mail address was verified (Auth.js emailVerified); NULL if never.';

CREATE TABLE accounts (
    id                  text    NOT NULL DEFAULT gen_random_uuid()::text,
    user_id             text    NOT NULL,
    type                text    NOT NULL,
    provider            text    NOT NULL,
    provider_account_id text    NOT NULL,
    refresh_token       text,
    access_token        text,
    expires_at          bigint,
    token_type          text,
    scope               text,
    id_token            text,
    session_state       text,
    CONSTRAINT accounts_pkey PRIMARY KEY (id),
    CONSTRAINT accounts_provider_provider_account_id_key UNIQUE (provider, provider_account_id),
    CONSTRAINT accounts_user_id_fkey FOREIGN KEY (user_id) REFERENCES users (id) ON DELETE CASCADE
);

CREATE INDEX accounts_user_id_idx ON accounts (user_id);

COMMENT ON TABLE accounts IS 'Auth.js accounts: a user''s sign-in with one provider (e.g. GitHub OAuth).';
COMMENT ON COLUMN accounts.type IS 'Auth.js account type: oauth, oidc, email or webauthn.';
COMMENT ON COLUMN accounts.provider_account_id IS 'The user''s id at the provider (for GitHub, the numeric user id as text).';
COMMENT ON COLUMN accounts.expires_at IS 'Access token expiry in epoch seconds; bigint so it survives 2038.';
COMMENT ON COLUMN accounts.refresh_token IS 'OAuth credential: never log it.';
COMMENT ON COLUMN accounts.access_token IS 'OAuth credential: never log it.';

CREATE TABLE sessions (
    id            text           NOT NULL DEFAULT gen_random_uuid()::text,
    session_token text           NOT NULL,
    user_id       text           NOT NULL,
    expires       timestamptz(3) NOT NULL,
    CONSTRAINT sessions_pkey PRIMARY KEY (id),
    CONSTRAINT sessions_session_token_key UNIQUE (session_token),
    CONSTRAINT sessions_user_id_fkey FOREIGN KEY (user_id) REFERENCES users (id) ON DELETE CASCADE
);

CREATE INDEX sessions_user_id_idx ON sessions (user_id);

-- Purge of expired sessions works in batches, oldest first: without this index each
-- batch would scan the whole table.
CREATE INDEX sessions_expires_idx ON sessions (expires);

COMMENT ON TABLE sessions IS 'Auth.js database sessions: every signed-in request carries session_token.';
COMMENT ON COLUMN sessions.session_token IS 'Credential: whoever holds it is signed in. Never log it.';

CREATE TABLE verification_tokens (
    identifier text           NOT NULL,
    token      text           NOT NULL,
    expires    timestamptz(3) NOT NULL,
    CONSTRAINT verification_tokens_pkey PRIMARY KEY (identifier, token)
);

-- Purge of expired tokens, as for sessions.
CREATE INDEX verification_tokens_expires_idx ON verification_tokens (expires);

COMMENT ON TABLE verification_tokens IS 'Auth.js one-time tokens (e-mail sign-in links); deleted when used.';
COMMENT ON COLUMN verification_tokens.identifier IS 'Whom the token was issued to, usually an e-mail address.';

-- migrate:down

DROP TABLE verification_tokens;
DROP TABLE sessions;
DROP TABLE accounts;
DROP TABLE users;
