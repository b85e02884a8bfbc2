-- Every query returns users.id (the profile's user_id) as user_id: callers speak of
-- Auth.js users, while repositories.user_id points at user_profiles.id.

-- name: create_repository(user_id, github_id, name, full_name, owner, is_active, private)<!
-- Inserts a monitored repository for the user's profile, its access verified now (the
-- caller has just checked it on GitHub); returns the new row, or no row when the user
-- has no profile. FOR KEY SHARE holds the profile against a concurrent delete, which
-- otherwise could commit between this read and the foreign-key check and turn
-- "no profile" into a foreign-key violation.
-- @returns codeflow.repositories.Repository
WITH profile AS (
    SELECT id, user_id FROM user_profiles WHERE user_id = :user_id FOR KEY SHARE
), inserted AS (
    INSERT INTO repositories (user_id, github_id, name, full_name, owner, is_active, private,
                              access_verified_at)
    SELECT profile.id, :github_id, :name, :full_name, :owner, :is_active, :private, now() AS verified_at
    FROM profile
    RETURNING id, github_id, name, full_name, owner, is_active, private, access_verified_at,
              created_at, updated_at
)
SELECT inserted.id, profile.user_id, inserted.github_id, inserted.name, inserted.full_name,
       inserted.owner, inserted.is_active, inserted.private, inserted.access_verified_at,
       inserted.created_at, inserted.updated_at
FROM inserted CROSS JOIN profile;

-- name: get_repository(user_id, repository_id)^
-- Returns the user's repository with this id, or no row (also when another user's).
-- @returns codeflow.repositories.Repository
SELECT r.id, p.user_id, r.github_id, r.name, r.full_name, r.owner, r.is_active, r.private,
       r.access_verified_at, r.created_at, r.updated_at
FROM user_profiles AS p
JOIN repositories AS r ON r.user_id = p.id
WHERE p.user_id = :user_id AND r.id = :repository_id;

-- name: get_repository_by_github_id(user_id, github_id)^
-- Returns the user's repository with this GitHub id, or no row.
-- @returns codeflow.repositories.Repository
SELECT r.id, p.user_id, r.github_id, r.name, r.full_name, r.owner, r.is_active, r.private,
       r.access_verified_at, r.created_at, r.updated_at
FROM user_profiles AS p
JOIN repositories AS r ON r.user_id = p.id
WHERE p.user_id = :user_id AND r.github_id = :github_id;

-- name: get_repository_by_full_name(user_id, full_name)^
-- Returns the user's repository named owner/name (case-insensitive), or no row.
-- @returns codeflow.repositories.Repository
SELECT r.id, p.user_id, r.github_id, r.name, r.full_name, r.owner, r.is_active, r.private,
       r.access_verified_at, r.created_at, r.updated_at
FROM user_profiles AS p
JOIN repositories AS r ON r.user_id = p.id
WHERE p.user_id = :user_id AND r.full_name = :full_name;

-- name: list_user_repositories(user_id, active_only)
-- Returns the user's repositories ordered by full_name; only active ones when
-- active_only is true.
-- @returns codeflow.repositories.Repository
SELECT r.id, p.user_id, r.github_id, r.name, r.full_name, r.owner, r.is_active, r.private,
       r.access_verified_at, r.created_at, r.updated_at
FROM user_profiles AS p
JOIN repositories AS r ON r.user_id = p.id
WHERE p.user_id = :user_id AND (r.is_active OR NOT :active_only)
ORDER BY r.full_name;

-- name: count_user_repositories(user_id)^
-- Returns how many repositories the user monitors in all, and how many are active;
-- no row when the user has no profile.
-- @returns codeflow.repositories.RepositoryCounts
SELECT count(r.id) AS total,
       count(r.id) FILTER (WHERE r.is_active) AS active
FROM user_profiles AS p
LEFT JOIN repositories AS r ON r.user_id = p.id
WHERE p.user_id = :user_id
GROUP BY p.id;

-- name: update_repository(user_id, repository_id, is_active)<!
-- Sets whether the user's repository is monitored; returns the updated row, or no row
-- when the user has no repository with this id.
-- @returns codeflow.repositories.Repository
UPDATE repositories AS r
SET is_active = :is_active
FROM user_profiles AS p
WHERE p.user_id = :user_id AND r.user_id = p.id AND r.id = :repository_id
RETURNING r.id, p.user_id, r.github_id, r.name, r.full_name, r.owner, r.is_active, r.private,
          r.access_verified_at, r.created_at, r.updated_at;

-- name: verify_repository_access(user_id, github_ids, privates)$
-- Records that GitHub lists these repositories (github_ids[i], with its private flag
-- privates[i]) for the user now: sets access_verified_at to now() and private to
-- GitHub's value on the user's repositories among them; returns how many of the user's
-- it touched. GitHub ids the user does not monitor are ignored. The private flag is the
-- repository's, not the user's: every other user's row of a listed repository takes it
-- too (their access_verified_at is left alone), so a repository that turned private is
-- hidden from the users nobody verified within the window, whoever monitors it.
-- @returns int
WITH listed AS (
    SELECT github_id, private
    FROM unnest(:github_ids::bigint[], :privates::boolean[]) AS listed (github_id, private)
), profile AS (
    SELECT id FROM user_profiles WHERE user_id = :user_id
), verified AS (
    UPDATE repositories AS r
    SET access_verified_at = now(), private = listed.private
    FROM profile, listed
    WHERE r.user_id = profile.id AND r.github_id = listed.github_id
    RETURNING r.id
), others AS (
    -- A row is updated by one CTE only: the user's rows are verified's.
    UPDATE repositories AS r
    SET private = listed.private
    FROM listed
    WHERE r.github_id = listed.github_id
      AND r.private IS DISTINCT FROM listed.private
      AND r.user_id IS DISTINCT FROM (SELECT id FROM profile)
    RETURNING r.id
)
SELECT count(*) FROM verified;

-- name: delete_repository(user_id, repository_id)<!
-- Deletes the user's repository; returns its id, or no row when the user has none with
-- this id.
-- @returns codeflow.repositories.DeletedRepository
DELETE FROM repositories AS r
USING user_profiles AS p
WHERE p.user_id = :user_id AND r.user_id = p.id AND r.id = :repository_id
RETURNING r.id;
