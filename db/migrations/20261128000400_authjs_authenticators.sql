-- migrate:up

-- The new foreign key locks users: give up rather than queue behind a long transaction.
SET LOCAL lock_timeout = '5s';

-- WebAuthn (passkey) credentials, shaped as the Auth.js Prisma schema's Authenticator
-- model maps them (snake_case like the other Auth.js tables), so passkey sign-in works
-- for the Next.js front end and the Python services on the same rows.

CREATE TABLE authenticators (
    credential_id          text    NOT NULL,
    user_id                text    NOT NULL,
    provider_account_id    text    NOT NULL,
    credential_public_key  text    NOT NULL,
    counter                integer NOT NULL,
    credential_device_type text    NOT NULL,
    credential_backed_up   boolean NOT NULL,
    transports             text,
    CONSTRAINT authenticators_pkey PRIMARY KEY (user_id, credential_id),
    CONSTRAINT authenticators_credential_id_key UNIQUE (credential_id),
    CONSTRAINT authenticators_counter_check CHECK (counter >= 0),
    CONSTRAINT authenticators_user_id_fkey FOREIGN KEY (user_id) REFERENCES users (id) ON DELETE CASCADE
);

-- The primary key leads with user_id: it serves the foreign key and the per-user
-- listing; credential lookups use authenticators_credential_id_key. No other index.

COMMENT ON TABLE authenticators IS 'Auth.js WebAuthn authenticators: one registered passkey of a user.';
COMMENT ON COLUMN authenticators.credential_id IS 'WebAuthn credential id (base64url), unique across users (Auth.js credentialID).';
COMMENT ON COLUMN authenticators.provider_account_id IS 'The webauthn account (accounts.provider_account_id) this credential signs in to.';
COMMENT ON COLUMN authenticators.credential_public_key IS 'The credential''s public key (base64url); public, not a secret.';
COMMENT ON COLUMN authenticators.counter IS 'WebAuthn signature counter; int4 because the Prisma model declares Int.';
COMMENT ON COLUMN authenticators.credential_device_type IS 'WebAuthn device type as the front end stores it (e.g. singleDevice, multiDevice).';
COMMENT ON COLUMN authenticators.transports IS 'Comma-separated WebAuthn transports (e.g. usb,ble,nfc,internal); NULL if unknown.';

-- migrate:down

DROP TABLE authenticators;
