-- name: create_auth_account(user_id, type, provider, provider_account_id, refresh_token, access_token, expires_at, token_type, scope, id_token, session_state)<!
-- Links a provider account to a user; returns the new row with every OAuth field.
-- @returns codeflow.auth.AdapterAccount
-- @nullable refresh_token, access_token, expires_at, token_type, scope, id_token, session_state
INSERT INTO accounts (
    user_id, type, provider, provider_account_id, refresh_token, access_token,
    expires_at, token_type, scope, id_token, session_state
)
VALUES (
    :user_id, :type, :provider, :provider_account_id, :refresh_token, :access_token,
    :expires_at, :token_type, :scope, :id_token, :session_state
)
RETURNING id, user_id, type, provider, provider_account_id, refresh_token, access_token,
          expires_at, token_type, scope, id_token, session_state;

-- name: get_auth_account(provider, provider_account_id)^
-- Returns the account of this provider and provider account id, or no row.
-- @returns codeflow.auth.AdapterAccount
SELECT id, user_id, type, provider, provider_account_id, refresh_token, access_token,
       expires_at, token_type, scope, id_token, session_state
FROM accounts
WHERE provider = :provider
  AND provider_account_id = :provider_account_id;

-- name: delete_auth_account(provider, provider_account_id)<!
-- Unlinks a provider account; returns the deleted row, or no row if there was none.
-- @returns codeflow.auth.AdapterAccount
DELETE FROM accounts
WHERE provider = :provider
  AND provider_account_id = :provider_account_id
RETURNING id, user_id, type, provider, provider_account_id, refresh_token, access_token,
          expires_at, token_type, scope, id_token, session_state;
