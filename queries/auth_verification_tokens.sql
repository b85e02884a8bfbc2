-- name: create_auth_verification_token(identifier, token, expires)<!
-- Inserts a one-time verification token; returns the new row.
-- @returns codeflow.auth.VerificationToken
INSERT INTO verification_tokens (identifier, token, expires)
VALUES (:identifier, :token, :expires)
RETURNING identifier, token, expires;

-- name: delete_auth_verification_token(identifier, token)<!
-- Uses a verification token: deletes it and returns it in one statement, so of two
-- concurrent uses only one gets the row; no row if there was none for this identifier.
-- @returns codeflow.auth.VerificationToken
DELETE FROM verification_tokens
WHERE identifier = :identifier
  AND token = :token
RETURNING identifier, token, expires;

-- name: delete_expired_auth_verification_tokens(batch_size)$
-- Deletes at most batch_size expired verification tokens (expires <= now()), oldest first;
-- returns how many it deleted. Rows locked by a concurrent use are skipped.
-- @returns int
-- @runs batch
WITH doomed AS (
    SELECT identifier, token
    FROM verification_tokens
    WHERE expires <= now()
    ORDER BY expires
    LIMIT :batch_size
    FOR UPDATE SKIP LOCKED
), deleted AS (
    DELETE FROM verification_tokens v
    USING doomed d
    WHERE v.identifier = d.identifier
      AND v.token = d.token
    RETURNING 1
)
SELECT count(*) FROM deleted;
