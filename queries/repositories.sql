-- Every query returns users.id (the profile's user_id) as user_id: callers speak of
-- Auth.js users, while repositories.user_id points at user_profiles.id.

-- name: create_repository(user_id, github_id, name, full_name, owner, is_active)<!
-- Inserts a monitored repository for the user's profile; returns the new row, or
-- no row when the user has no profile. FOR KEY SHARE holds the profile against a
-- concurrent delete, which otherwise could commit between this read and the
-- foreign-key check and turn "no profile" into a foreign-key violation.
WITH profile AS (
    SELECT id, user_id FROM user_profiles WHERE user_id = :user_id FOR KEY SHARE
), inserted AS (
    INSERT INTO repositories (user_id, github_id, name, full_name, owner, is_active)
    SELECT profile.id, :github_id, :name, :full_name, :owner, :is_active
    FROM profile
    RETURNING id, github_id, name, full_name, owner, is_active, created_at, updated_at
)
SELECT inserted.id, profile.user_id, inserted.github_id, inserted.name, inserted.full_name,
       inserted.owner, inserted.is_active, inserted.created_at, inserted.updated_at
FROM inserted CROSS JOIN profile;

-- name: get_repository(repository_id)^
-- Returns one repository by its id, or no row.
SELECT r.id, p.user_id, r.github_id, r.name, r.full_name, r.owner, r.is_active,
       r.created_at, r.updated_at
FROM repositories AS r
JOIN user_profiles AS p ON p.id = r.user_id
WHERE r.id = :repository_id;

-- name: get_repository_by_github_id(user_id, github_id)^
-- Returns the user's repository with this GitHub id, or no row.
SELECT r.id, p.user_id, r.github_id, r.name, r.full_name, r.owner, r.is_active,
       r.created_at, r.updated_at
FROM user_profiles AS p
JOIN repositories AS r ON r.user_id = p.id
WHERE p.user_id = :user_id AND r.github_id = :github_id;

-- name: get_repository_by_full_name(user_id, full_name)^
-- Returns the user's repository named owner/name (case-insensitive), or no row.
SELECT r.id, p.user_id, r.github_id, r.name, r.full_name, r.owner, r.is_active,
       r.created_at, r.updated_at
FROM user_profiles AS p
JOIN repositories AS r ON r.user_id = p.id
WHERE p.user_id = :user_id AND r.full_name = :full_name;

-- name: list_user_repositories(user_id, active_only)
-- Returns the user's repositories ordered by full_name; only active ones when
-- active_only is true.
SELECT r.id, p.user_id, r.github_id, r.name, r.full_name, r.owner, r.is_active,
       r.created_at, r.updated_at
FROM user_profiles AS p
JOIN repositories AS r ON r.user_id = p.id
WHERE p.user_id = :user_id AND (r.is_active OR NOT :active_only)
ORDER BY r.full_name;

-- name: count_user_repositories(user_id)^
-- Returns how many repositories the user monitors in all, and how many are active;
-- no row when the user has no profile.
SELECT count(r.id) AS total,
       count(r.id) FILTER (WHERE r.is_active) AS active
FROM user_profiles AS p
LEFT JOIN repositories AS r ON r.user_id = p.id
WHERE p.user_id = :user_id
GROUP BY p.id;

-- name: update_repository(repository_id, is_active)<!
-- Sets whether a repository is monitored; returns the updated row, or no row.
UPDATE repositories AS r
SET is_active = :is_active
FROM user_profiles AS p
WHERE r.id = :repository_id AND p.id = r.user_id
RETURNING r.id, p.user_id, r.github_id, r.name, r.full_name, r.owner, r.is_active,
          r.created_at, r.updated_at;

-- name: delete_repository(repository_id)<!
-- Deletes a repository; returns its id, or no row when there was none.
DELETE FROM repositories
WHERE id = :repository_id
RETURNING id;
