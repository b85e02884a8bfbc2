-- migrate:up

-- Give up rather than queue, and block every later query, behind a long transaction
-- holding a lock on repositories (ADD COLUMN takes ACCESS EXCLUSIVE, for milliseconds:
-- a constant default is stored in the catalog, no row is rewritten).
SET LOCAL lock_timeout = '5s';

-- Who may read a private repository's cached PRs (docs/pull_requests.md, "Who sees
-- what"). The layer cannot ask GitHub, so the caller records what GitHub told it: the
-- repository's visibility, and when it last checked that this user can still read it.
-- The dashboard, the counts and get_pull_request show a private repository's PRs only
-- to a user verified within DB_PRIVATE_ACCESS_WINDOW_S.
--
-- The backfill fails closed: the privacy of the rows already here is unknown, so they
-- become private (DEFAULT true) and never verified (NULL), which hides their PRs until
-- the sync job's verify_repository_access states both from GitHub's list. The default
-- stays for writers that do not name the column (bulk loads, other tools): a row
-- inserted without it is hidden, never exposed. The package's own inserts always state it.
ALTER TABLE repositories ADD COLUMN private boolean NOT NULL DEFAULT true;
ALTER TABLE repositories ADD COLUMN access_verified_at timestamptz;

COMMENT ON COLUMN repositories.private IS
    'GitHub''s private flag as the caller last saw it; true (also the default, for rows of unknown visibility) hides the PRs from a user whose access is not verified recently.';
COMMENT ON COLUMN repositories.access_verified_at IS
    'When the caller last confirmed on GitHub that this user can read the repository (add_repository, verify_repository_access); NULL: never. A private repository''s PRs are shown only within DB_PRIVATE_ACCESS_WINDOW_S of it.';

-- migrate:down

ALTER TABLE repositories DROP COLUMN access_verified_at;
ALTER TABLE repositories DROP COLUMN private;
