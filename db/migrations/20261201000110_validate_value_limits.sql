-- migrate:up

-- Validating a constraint reads the whole table but blocks no reads or writes (SHARE
-- UPDATE EXCLUSIVE): in its own migration, so the lock that added the constraints was
-- held only briefly. A row that breaks a limit fails this migration, naming the constraint.
SET LOCAL lock_timeout = '5s';

ALTER TABLE users VALIDATE CONSTRAINT users_id_length_check;
ALTER TABLE users VALIDATE CONSTRAINT users_name_length_check;
ALTER TABLE users VALIDATE CONSTRAINT users_email_length_check;
ALTER TABLE users VALIDATE CONSTRAINT users_image_length_check;
ALTER TABLE users VALIDATE CONSTRAINT users_email_verified_finite_check;
ALTER TABLE accounts VALIDATE CONSTRAINT accounts_type_length_check;
ALTER TABLE accounts VALIDATE CONSTRAINT accounts_provider_length_check;
ALTER TABLE accounts VALIDATE CONSTRAINT accounts_provider_account_id_length_check;
ALTER TABLE accounts VALIDATE CONSTRAINT accounts_refresh_token_length_check;
ALTER TABLE accounts VALIDATE CONSTRAINT accounts_access_token_length_check;
ALTER TABLE accounts VALIDATE CONSTRAINT accounts_token_type_length_check;
ALTER TABLE accounts VALIDATE CONSTRAINT accounts_scope_length_check;
ALTER TABLE accounts VALIDATE CONSTRAINT accounts_id_token_length_check;
ALTER TABLE accounts VALIDATE CONSTRAINT accounts_session_state_length_check;
ALTER TABLE sessions VALIDATE CONSTRAINT sessions_session_token_length_check;
ALTER TABLE sessions VALIDATE CONSTRAINT sessions_expires_finite_check;
ALTER TABLE verification_tokens VALIDATE CONSTRAINT verification_tokens_identifier_length_check;
ALTER TABLE verification_tokens VALIDATE CONSTRAINT verification_tokens_token_length_check;
ALTER TABLE verification_tokens VALIDATE CONSTRAINT verification_tokens_expires_finite_check;
ALTER TABLE authenticators VALIDATE CONSTRAINT authenticators_credential_id_length_check;
ALTER TABLE authenticators VALIDATE CONSTRAINT authenticators_provider_account_id_length_check;
ALTER TABLE authenticators VALIDATE CONSTRAINT authenticators_credential_public_key_length_check;
ALTER TABLE authenticators VALIDATE CONSTRAINT authenticators_credential_device_type_length_check;
ALTER TABLE authenticators VALIDATE CONSTRAINT authenticators_transports_length_check;
ALTER TABLE authenticators VALIDATE CONSTRAINT authenticators_credential_id_check;
ALTER TABLE pull_requests VALIDATE CONSTRAINT pull_requests_title_length_check;
ALTER TABLE pull_requests VALIDATE CONSTRAINT pull_requests_head_ref_length_check;
ALTER TABLE pull_requests VALIDATE CONSTRAINT pull_requests_base_ref_length_check;
ALTER TABLE pull_requests VALIDATE CONSTRAINT pull_requests_html_url_length_check;
ALTER TABLE pull_requests VALIDATE CONSTRAINT pull_requests_timestamps_finite_check;

-- migrate:down

SET LOCAL lock_timeout = '5s';

-- A validated constraint cannot be marked unvalidated again: each is dropped and added
-- back NOT VALID, exactly as the previous migration left it (the up-then-down check of
-- codeflow-db verify-migrations compares the schema).
ALTER TABLE users
    DROP CONSTRAINT users_id_length_check,
    ADD CONSTRAINT users_id_length_check CHECK (char_length(id) <= 255) NOT VALID,
    DROP CONSTRAINT users_name_length_check,
    ADD CONSTRAINT users_name_length_check CHECK (char_length(name) <= 1024) NOT VALID,
    DROP CONSTRAINT users_email_length_check,
    ADD CONSTRAINT users_email_length_check CHECK (char_length(email) <= 320) NOT VALID,
    DROP CONSTRAINT users_image_length_check,
    ADD CONSTRAINT users_image_length_check CHECK (char_length(image) <= 65536) NOT VALID,
    DROP CONSTRAINT users_email_verified_finite_check,
    ADD CONSTRAINT users_email_verified_finite_check CHECK (isfinite(email_verified)) NOT VALID;

ALTER TABLE accounts
    DROP CONSTRAINT accounts_type_length_check,
    ADD CONSTRAINT accounts_type_length_check CHECK (char_length(type) <= 32) NOT VALID,
    DROP CONSTRAINT accounts_provider_length_check,
    ADD CONSTRAINT accounts_provider_length_check CHECK (char_length(provider) <= 255) NOT VALID,
    DROP CONSTRAINT accounts_provider_account_id_length_check,
    ADD CONSTRAINT accounts_provider_account_id_length_check
        CHECK (char_length(provider_account_id) <= 255) NOT VALID,
    DROP CONSTRAINT accounts_refresh_token_length_check,
    ADD CONSTRAINT accounts_refresh_token_length_check CHECK (char_length(refresh_token) <= 16384) NOT VALID,
    DROP CONSTRAINT accounts_access_token_length_check,
    ADD CONSTRAINT accounts_access_token_length_check CHECK (char_length(access_token) <= 16384) NOT VALID,
    DROP CONSTRAINT accounts_token_type_length_check,
    ADD CONSTRAINT accounts_token_type_length_check CHECK (char_length(token_type) <= 64) NOT VALID,
    DROP CONSTRAINT accounts_scope_length_check,
    ADD CONSTRAINT accounts_scope_length_check CHECK (char_length(scope) <= 4096) NOT VALID,
    DROP CONSTRAINT accounts_id_token_length_check,
    ADD CONSTRAINT accounts_id_token_length_check CHECK (char_length(id_token) <= 16384) NOT VALID,
    DROP CONSTRAINT accounts_session_state_length_check,
    ADD CONSTRAINT accounts_session_state_length_check CHECK (char_length(session_state) <= 4096) NOT VALID;

ALTER TABLE sessions
    DROP CONSTRAINT sessions_session_token_length_check,
    ADD CONSTRAINT sessions_session_token_length_check CHECK (char_length(session_token) <= 255) NOT VALID,
    DROP CONSTRAINT sessions_expires_finite_check,
    ADD CONSTRAINT sessions_expires_finite_check CHECK (isfinite(expires)) NOT VALID;

ALTER TABLE verification_tokens
    DROP CONSTRAINT verification_tokens_identifier_length_check,
    ADD CONSTRAINT verification_tokens_identifier_length_check
        CHECK (char_length(identifier) <= 320) NOT VALID,
    DROP CONSTRAINT verification_tokens_token_length_check,
    ADD CONSTRAINT verification_tokens_token_length_check CHECK (char_length(token) <= 255) NOT VALID,
    DROP CONSTRAINT verification_tokens_expires_finite_check,
    ADD CONSTRAINT verification_tokens_expires_finite_check CHECK (isfinite(expires)) NOT VALID;

ALTER TABLE authenticators
    DROP CONSTRAINT authenticators_credential_id_length_check,
    ADD CONSTRAINT authenticators_credential_id_length_check
        CHECK (char_length(credential_id) <= 1400) NOT VALID,
    DROP CONSTRAINT authenticators_provider_account_id_length_check,
    ADD CONSTRAINT authenticators_provider_account_id_length_check
        CHECK (char_length(provider_account_id) <= 255) NOT VALID,
    DROP CONSTRAINT authenticators_credential_public_key_length_check,
    ADD CONSTRAINT authenticators_credential_public_key_length_check
        CHECK (char_length(credential_public_key) <= 4096) NOT VALID,
    DROP CONSTRAINT authenticators_credential_device_type_length_check,
    ADD CONSTRAINT authenticators_credential_device_type_length_check
        CHECK (char_length(credential_device_type) <= 32) NOT VALID,
    DROP CONSTRAINT authenticators_transports_length_check,
    ADD CONSTRAINT authenticators_transports_length_check CHECK (char_length(transports) <= 255) NOT VALID,
    DROP CONSTRAINT authenticators_credential_id_check,
    ADD CONSTRAINT authenticators_credential_id_check CHECK (credential_id ~ '^[A-Za-z0-9+/_-]+=*$') NOT VALID;

ALTER TABLE pull_requests
    DROP CONSTRAINT pull_requests_title_length_check,
    ADD CONSTRAINT pull_requests_title_length_check CHECK (char_length(title) <= 1024) NOT VALID,
    DROP CONSTRAINT pull_requests_head_ref_length_check,
    ADD CONSTRAINT pull_requests_head_ref_length_check CHECK (char_length(head_ref) <= 1024) NOT VALID,
    DROP CONSTRAINT pull_requests_base_ref_length_check,
    ADD CONSTRAINT pull_requests_base_ref_length_check CHECK (char_length(base_ref) <= 1024) NOT VALID,
    DROP CONSTRAINT pull_requests_html_url_length_check,
    ADD CONSTRAINT pull_requests_html_url_length_check CHECK (char_length(html_url) <= 2048) NOT VALID,
    DROP CONSTRAINT pull_requests_timestamps_finite_check,
    ADD CONSTRAINT pull_requests_timestamps_finite_check
        CHECK (isfinite(created_at) AND isfinite(updated_at) AND isfinite(closed_at) AND isfinite(merged_at)) NOT VALID;
