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

-- A validated constraint has no unvalidated form to return to; the previous migration's
-- down drops it.
SELECT 1;
