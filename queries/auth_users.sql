-- name: create_auth_user(user_id, name, email, email_verified, image)<!
-- Inserts an Auth.js user (a generated id when user_id is null); returns the new row.
-- @returns codeflow.auth.AdapterUser
-- @nullable user_id, name, email, email_verified, image
INSERT INTO users (id, name, email, email_verified, image)
VALUES (coalesce(:user_id, gen_random_uuid()::text), :name, :email, :email_verified, :image)
RETURNING id, name, email, email_verified, image;

-- name: get_auth_user(user_id)^
-- Returns one Auth.js user by id, or no row.
-- @returns codeflow.auth.AdapterUser
SELECT id, name, email, email_verified, image
FROM users
WHERE id = :user_id;

-- name: get_auth_user_by_email(email)^
-- Returns the Auth.js user with exactly this e-mail address, or no row.
-- @returns codeflow.auth.AdapterUser
SELECT id, name, email, email_verified, image
FROM users
WHERE email = :email;

-- name: get_auth_user_by_account(provider, provider_account_id)^
-- Returns the Auth.js user linked to this provider account, or no row.
-- @returns codeflow.auth.AdapterUser
SELECT u.id, u.name, u.email, u.email_verified, u.image
FROM accounts AS a
JOIN users AS u ON u.id = a.user_id
WHERE a.provider = :provider
  AND a.provider_account_id = :provider_account_id;

-- name: update_auth_user(user_id, set_name, name, set_email, email, set_email_verified, email_verified, set_image, image)<!
-- Returns the user after changing the fields whose set_ flag is true (others are kept),
-- or no row if there is no such user. A field set to null is cleared.
-- @returns codeflow.auth.AdapterUser
-- @nullable name, email, email_verified, image
UPDATE users
SET name = CASE WHEN :set_name THEN :name ELSE name END,
    email = CASE WHEN :set_email THEN :email ELSE email END,
    email_verified = CASE WHEN :set_email_verified THEN :email_verified ELSE email_verified END,
    image = CASE WHEN :set_image THEN :image ELSE image END
WHERE id = :user_id
RETURNING id, name, email, email_verified, image;

-- name: delete_auth_user(user_id)<!
-- Deletes a user (its accounts, sessions, authenticators and profile cascade); returns
-- the deleted row, or no row if there was none.
-- @returns codeflow.auth.AdapterUser
DELETE FROM users
WHERE id = :user_id
RETURNING id, name, email, email_verified, image;
