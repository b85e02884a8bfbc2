-- migrate:up

-- Give up rather than queue, and block every later query, behind a long transaction
-- holding a lock this migration needs (e.g. on users, which new foreign keys reference).
SET LOCAL lock_timeout = '5s';

-- CodeFlow's own data: a GitHub profile per signed-in user and the repositories each
-- user monitors. Deviations from story 0.4's Prisma schema are listed in docs/schema.md.

-- The shape CHECKs spell a length limit with length(), not a regex {m,n} bound, which
-- made bulk loads four times slower. ::text uses the plain (case-sensitive) operator.

CREATE TABLE user_profiles (
    id             uuid        NOT NULL DEFAULT gen_random_uuid(),
    user_id        text        NOT NULL,
    github_id      bigint      NOT NULL,
    username       citext      NOT NULL,
    last_active_at timestamptz NOT NULL DEFAULT now(),
    created_at     timestamptz NOT NULL DEFAULT now(),
    updated_at     timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT user_profiles_pkey PRIMARY KEY (id),
    CONSTRAINT user_profiles_user_id_key UNIQUE (user_id),
    CONSTRAINT user_profiles_github_id_key UNIQUE (github_id),
    CONSTRAINT user_profiles_username_key UNIQUE (username),
    CONSTRAINT user_profiles_github_id_check CHECK (github_id > 0),
    CONSTRAINT user_profiles_username_check CHECK (username::text ~ '^[A-Za-z0-9-]+$' AND length(username) <= 39),
    CONSTRAINT user_profiles_user_id_fkey FOREIGN KEY (user_id) REFERENCES users (id) ON DELETE CASCADE
);

-- Inactive-user cleanup scans by activity.
CREATE INDEX user_profiles_last_active_at_idx ON user_profiles (last_active_at);

CREATE TRIGGER user_profiles_set_updated_at
    BEFORE UPDATE ON user_profiles
    FOR EACH ROW
    WHEN (OLD.* IS DISTINCT FROM NEW.*)
    EXECUTE FUNCTION set_updated_at();

COMMENT ON TABLE user_profiles IS 'A signed-in user''s GitHub identity in CodeFlow; at most one per Auth.js user.';
COMMENT ON COLUMN user_profiles.user_id IS 'The Auth.js user (users.id) this profile belongs to.';
COMMENT ON COLUMN user_profiles.github_id IS 'GitHub''s numeric user id; 64-bit because GitHub ids outgrow int4.';
COMMENT ON COLUMN user_profiles.username IS 'GitHub login; case-insensitive like GitHub (Octocat = octocat).';
COMMENT ON COLUMN user_profiles.last_active_at IS 'Last request seen, to a resolution of DB_ACTIVITY_RESOLUTION_S; drives inactive-user cleanup.';

CREATE TABLE repositories (
    id         uuid        NOT NULL DEFAULT gen_random_uuid(),
    user_id    uuid        NOT NULL,
    github_id  bigint      NOT NULL,
    name       citext      NOT NULL,
    full_name  citext      NOT NULL,
    owner      citext      NOT NULL,
    is_active  boolean     NOT NULL DEFAULT true,
    created_at timestamptz NOT NULL DEFAULT now(),
    updated_at timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT repositories_pkey PRIMARY KEY (id),
    CONSTRAINT repositories_user_id_github_id_key UNIQUE (user_id, github_id),
    CONSTRAINT repositories_user_id_full_name_key UNIQUE (user_id, full_name),
    CONSTRAINT repositories_github_id_check CHECK (github_id > 0),
    CONSTRAINT repositories_owner_check CHECK (owner::text ~ '^[A-Za-z0-9-]+$' AND length(owner) <= 39),
    CONSTRAINT repositories_name_check CHECK (name::text ~ '^[A-Za-z0-9._-]+$' AND length(name) <= 100),
    CONSTRAINT repositories_full_name_check CHECK (full_name = owner || '/' || name),
    CONSTRAINT repositories_user_id_fkey FOREIGN KEY (user_id) REFERENCES user_profiles (id) ON DELETE CASCADE
);

-- The two unique constraints lead with user_id: they serve the foreign key, the
-- per-user listing (ordered by full_name) and the per-user lookups; no other index.

CREATE TRIGGER repositories_set_updated_at
    BEFORE UPDATE ON repositories
    FOR EACH ROW
    WHEN (OLD.* IS DISTINCT FROM NEW.*)
    EXECUTE FUNCTION set_updated_at();

COMMENT ON TABLE repositories IS 'One user''s monitoring preference for one GitHub repository; two users may monitor the same repository.';
COMMENT ON COLUMN repositories.user_id IS 'The owning profile (user_profiles.id), not users.id; the Python service hides the difference.';
COMMENT ON COLUMN repositories.github_id IS 'GitHub''s numeric repository id; unique per user, not globally.';
COMMENT ON COLUMN repositories.full_name IS 'owner/name as GitHub spells it; case-insensitive, unique per user.';
COMMENT ON COLUMN repositories.is_active IS 'false pauses monitoring without forgetting the repository.';

-- migrate:down

DROP TABLE repositories;
DROP TABLE user_profiles;
