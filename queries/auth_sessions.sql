-- name: create_auth_session(session_token, user_id, expires)<!
-- Inserts a database session; returns the new row.
-- @returns codeflow.auth.AdapterSession
INSERT INTO sessions (session_token, user_id, expires)
VALUES (:session_token, :user_id, :expires)
RETURNING id, session_token, user_id, expires;

-- name: get_auth_session_and_user(session_token)^
-- Returns the session with this token and its user, or no row if there is none or it
-- has expired (by the database clock, the one purge uses too).
-- @returns codeflow.auth.SessionAndUserRow
SELECT s.id, s.session_token, s.user_id, s.expires,
       u.name AS user_name, u.email AS user_email,
       u.email_verified AS user_email_verified, u.image AS user_image
FROM sessions AS s
JOIN users AS u ON u.id = s.user_id
WHERE s.session_token = :session_token
  AND s.expires > now();

-- name: update_auth_session(session_token, expires)<!
-- Moves a session's expiry; returns the updated row, or no row if there is no such session.
-- @returns codeflow.auth.AdapterSession
UPDATE sessions
SET expires = :expires
WHERE session_token = :session_token
RETURNING id, session_token, user_id, expires;

-- name: delete_auth_session(session_token)<!
-- Deletes a session (sign-out); returns the deleted row, or no row if there was none.
-- @returns codeflow.auth.AdapterSession
DELETE FROM sessions
WHERE session_token = :session_token
RETURNING id, session_token, user_id, expires;

-- name: delete_expired_auth_sessions(batch_size)$
-- @all-users purge job: expired sessions of every user go, oldest first
-- Deletes at most batch_size expired sessions (expires <= now()), oldest first; returns how
-- many it deleted. Rows locked by a concurrent writer are skipped, not waited for.
-- @returns int
-- @runs batch
WITH doomed AS (
    SELECT id
    FROM sessions
    WHERE expires <= now()
    ORDER BY expires
    LIMIT :batch_size
    FOR UPDATE SKIP LOCKED
), deleted AS (
    DELETE FROM sessions
    WHERE id = any(array(SELECT id FROM doomed))
    RETURNING id
)
SELECT count(*) FROM deleted;
