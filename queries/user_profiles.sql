-- name: create_user_profile(user_id, github_id, username)<!
-- Inserts a profile for an Auth.js user; returns the new profile row.
-- @returns codeflow.profiles.UserProfile
INSERT INTO user_profiles (user_id, github_id, username)
VALUES (:user_id, :github_id, :username)
RETURNING id, user_id, github_id, username, last_active_at, created_at, updated_at;

-- name: get_user_profile(user_id)^
-- Returns the profile of one Auth.js user, or no row.
-- @returns codeflow.profiles.UserProfile
SELECT id, user_id, github_id, username, last_active_at, created_at, updated_at
FROM user_profiles
WHERE user_id = :user_id;

-- name: get_user_profile_by_github_id(github_id)^
-- Returns the profile with this GitHub user id, or no row.
-- @returns codeflow.profiles.UserProfile
SELECT id, user_id, github_id, username, last_active_at, created_at, updated_at
FROM user_profiles
WHERE github_id = :github_id;

-- name: get_user_profile_by_username(username)^
-- Returns the profile with this GitHub login (case-insensitive), or no row.
-- @returns codeflow.profiles.UserProfile
SELECT id, user_id, github_id, username, last_active_at, created_at, updated_at
FROM user_profiles
WHERE username = :username;

-- name: update_user_profile_last_active(user_id, resolution)$
-- Returns true if the user has a profile, after moving its last_active_at to now
-- when it is older than resolution; false if there is no profile. Skipping fresh
-- rows keeps the per-request call from writing a row version on every request.
-- @returns bool
WITH touched AS (
    UPDATE user_profiles
    SET last_active_at = now()
    WHERE user_id = :user_id
      AND last_active_at < now() - :resolution::interval
    RETURNING id
)
SELECT EXISTS (SELECT FROM touched)
    OR EXISTS (SELECT FROM user_profiles WHERE user_id = :user_id);

-- name: delete_inactive_user_profiles(days, batch_size)$
-- @all-users retention job: inactive profiles of every user go
-- Deletes at most batch_size profiles not active for days days, by the database clock
-- that wrote last_active_at (their repositories cascade); returns how many it deleted.
-- Rows locked by a concurrent writer are skipped, not waited for.
-- @returns int
-- @runs batch
WITH doomed AS (
    SELECT id
    FROM user_profiles
    WHERE last_active_at < now() - make_interval(days => :days)
    ORDER BY last_active_at
    LIMIT :batch_size
    FOR UPDATE SKIP LOCKED
), deleted AS (
    -- = any(array(...)) keeps the generic plan on the primary key; IN (...) lets it
    -- hash-join against a full scan of user_profiles.
    DELETE FROM user_profiles
    WHERE id = any(array(SELECT id FROM doomed))
    RETURNING id
)
SELECT count(*) FROM deleted;

-- name: count_user_profiles()$
-- @all-users an operator statistic over every user
-- Returns the number of profiles.
-- @returns int
-- @full-scan an operator statistic, not run per request
-- @runs batch
SELECT count(*) FROM user_profiles;
