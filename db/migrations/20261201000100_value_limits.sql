-- migrate:up

-- Give up rather than queue, and block every later query, behind a long transaction
-- holding a lock on one of these tables.
SET LOCAL lock_timeout = '5s';

-- Every value a caller writes must read back as written (docs/schema.md, "Value limits").
-- 1. Text: the longest value of each column, the same numbers as codeflow.models.MAX_LENGTH
--    (a test compares them). Unbounded text took 10 MB titles, and an indexed value over
--    the b-tree entry limit failed with 54000 instead of a constraint the layer can name.
--    The bounds keep each index entry under that limit even at 4 bytes a character;
--    credential ids are base64 (Auth.js uses the standard alphabet; base64url passes too), 1 byte a character.
-- 2. Timestamps: finite. asyncpg writes datetime.min/max as -infinity/infinity, which
--    neither Python nor JavaScript reads back as a time.
-- NOT VALID: adding the constraints takes a brief lock and reads no rows; the next
-- migration validates them without blocking writes.

ALTER TABLE users
    ADD CONSTRAINT users_id_length_check CHECK (char_length(id) <= 255) NOT VALID,
    ADD CONSTRAINT users_name_length_check CHECK (char_length(name) <= 1024) NOT VALID,
    ADD CONSTRAINT users_email_length_check CHECK (char_length(email) <= 320) NOT VALID,
    ADD CONSTRAINT users_image_length_check CHECK (char_length(image) <= 65536) NOT VALID,
    ADD CONSTRAINT users_email_verified_finite_check CHECK (isfinite(email_verified)) NOT VALID;

ALTER TABLE accounts
    ADD CONSTRAINT accounts_type_length_check CHECK (char_length(type) <= 32) NOT VALID,
    ADD CONSTRAINT accounts_provider_length_check CHECK (char_length(provider) <= 255) NOT VALID,
    ADD CONSTRAINT accounts_provider_account_id_length_check
        CHECK (char_length(provider_account_id) <= 255) NOT VALID,
    ADD CONSTRAINT accounts_refresh_token_length_check
        CHECK (char_length(refresh_token) <= 16384) NOT VALID,
    ADD CONSTRAINT accounts_access_token_length_check
        CHECK (char_length(access_token) <= 16384) NOT VALID,
    ADD CONSTRAINT accounts_token_type_length_check CHECK (char_length(token_type) <= 64) NOT VALID,
    ADD CONSTRAINT accounts_scope_length_check CHECK (char_length(scope) <= 4096) NOT VALID,
    ADD CONSTRAINT accounts_id_token_length_check CHECK (char_length(id_token) <= 16384) NOT VALID,
    ADD CONSTRAINT accounts_session_state_length_check
        CHECK (char_length(session_state) <= 4096) NOT VALID;

ALTER TABLE sessions
    ADD CONSTRAINT sessions_session_token_length_check
        CHECK (char_length(session_token) <= 255) NOT VALID,
    ADD CONSTRAINT sessions_expires_finite_check CHECK (isfinite(expires)) NOT VALID;

ALTER TABLE verification_tokens
    ADD CONSTRAINT verification_tokens_identifier_length_check
        CHECK (char_length(identifier) <= 320) NOT VALID,
    ADD CONSTRAINT verification_tokens_token_length_check CHECK (char_length(token) <= 255) NOT VALID,
    ADD CONSTRAINT verification_tokens_expires_finite_check CHECK (isfinite(expires)) NOT VALID;

ALTER TABLE authenticators
    ADD CONSTRAINT authenticators_credential_id_length_check
        CHECK (char_length(credential_id) <= 1400) NOT VALID,
    ADD CONSTRAINT authenticators_provider_account_id_length_check
        CHECK (char_length(provider_account_id) <= 255) NOT VALID,
    ADD CONSTRAINT authenticators_credential_public_key_length_check
        CHECK (char_length(credential_public_key) <= 4096) NOT VALID,
    ADD CONSTRAINT authenticators_credential_device_type_length_check
        CHECK (char_length(credential_device_type) <= 32) NOT VALID,
    ADD CONSTRAINT authenticators_transports_length_check
        CHECK (char_length(transports) <= 255) NOT VALID,
    ADD CONSTRAINT authenticators_credential_id_check
        CHECK (credential_id ~ '^[A-Za-z0-9+/_-]+=*$') NOT VALID;

ALTER TABLE pull_requests
    ADD CONSTRAINT pull_requests_title_length_check CHECK (char_length(title) <= 1024) NOT VALID,
    ADD CONSTRAINT pull_requests_head_ref_length_check CHECK (char_length(head_ref) <= 1024) NOT VALID,
    ADD CONSTRAINT pull_requests_base_ref_length_check CHECK (char_length(base_ref) <= 1024) NOT VALID,
    ADD CONSTRAINT pull_requests_html_url_length_check CHECK (char_length(html_url) <= 2048) NOT VALID,
    ADD CONSTRAINT pull_requests_timestamps_finite_check
        CHECK (isfinite(created_at) AND isfinite(updated_at) AND isfinite(closed_at) AND isfinite(merged_at)) NOT VALID;

-- migrate:down

ALTER TABLE users
    DROP CONSTRAINT users_id_length_check,
    DROP CONSTRAINT users_name_length_check,
    DROP CONSTRAINT users_email_length_check,
    DROP CONSTRAINT users_image_length_check,
    DROP CONSTRAINT users_email_verified_finite_check;

ALTER TABLE accounts
    DROP CONSTRAINT accounts_type_length_check,
    DROP CONSTRAINT accounts_provider_length_check,
    DROP CONSTRAINT accounts_provider_account_id_length_check,
    DROP CONSTRAINT accounts_refresh_token_length_check,
    DROP CONSTRAINT accounts_access_token_length_check,
    DROP CONSTRAINT accounts_token_type_length_check,
    DROP CONSTRAINT accounts_scope_length_check,
    DROP CONSTRAINT accounts_id_token_length_check,
    DROP CONSTRAINT accounts_session_state_length_check;

ALTER TABLE sessions
    DROP CONSTRAINT sessions_session_token_length_check,
    DROP CONSTRAINT sessions_expires_finite_check;

ALTER TABLE verification_tokens
    DROP CONSTRAINT verification_tokens_identifier_length_check,
    DROP CONSTRAINT verification_tokens_token_length_check,
    DROP CONSTRAINT verification_tokens_expires_finite_check;

ALTER TABLE authenticators
    DROP CONSTRAINT authenticators_credential_id_length_check,
    DROP CONSTRAINT authenticators_provider_account_id_length_check,
    DROP CONSTRAINT authenticators_credential_public_key_length_check,
    DROP CONSTRAINT authenticators_credential_device_type_length_check,
    DROP CONSTRAINT authenticators_transports_length_check,
    DROP CONSTRAINT authenticators_credential_id_check;

ALTER TABLE pull_requests
    DROP CONSTRAINT pull_requests_title_length_check,
    DROP CONSTRAINT pull_requests_head_ref_length_check,
    DROP CONSTRAINT pull_requests_base_ref_length_check,
    DROP CONSTRAINT pull_requests_html_url_length_check,
    DROP CONSTRAINT pull_requests_timestamps_finite_check;
