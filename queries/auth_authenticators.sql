-- name: create_auth_authenticator(credential_id, user_id, provider_account_id, credential_public_key, counter, credential_device_type, credential_backed_up, transports)<!
-- Registers a WebAuthn authenticator for a user; returns the new row.
-- @returns codeflow.auth.Authenticator
-- @nullable transports
INSERT INTO authenticators (
    credential_id, user_id, provider_account_id, credential_public_key, counter,
    credential_device_type, credential_backed_up, transports
)
VALUES (
    :credential_id, :user_id, :provider_account_id, :credential_public_key, :counter,
    :credential_device_type, :credential_backed_up, :transports
)
RETURNING credential_id, user_id, provider_account_id, credential_public_key, counter,
          credential_device_type, credential_backed_up, transports;

-- name: get_auth_authenticator(credential_id)^
-- Returns the authenticator with this credential id, or no row.
-- @returns codeflow.auth.Authenticator
SELECT credential_id, user_id, provider_account_id, credential_public_key, counter,
       credential_device_type, credential_backed_up, transports
FROM authenticators
WHERE credential_id = :credential_id;

-- name: list_auth_authenticators(user_id)
-- Returns every authenticator of a user, by credential id; none for an unknown user.
-- @returns codeflow.auth.Authenticator
SELECT credential_id, user_id, provider_account_id, credential_public_key, counter,
       credential_device_type, credential_backed_up, transports
FROM authenticators
WHERE user_id = :user_id
ORDER BY credential_id;

-- name: update_auth_authenticator_counter(credential_id, counter)<!
-- Stores a new signature counter; returns the updated row, or no row if there is no
-- such authenticator.
-- @returns codeflow.auth.Authenticator
UPDATE authenticators
SET counter = :counter
WHERE credential_id = :credential_id
RETURNING credential_id, user_id, provider_account_id, credential_public_key, counter,
          credential_device_type, credential_backed_up, transports;
