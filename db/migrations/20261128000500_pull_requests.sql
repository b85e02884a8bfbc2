-- migrate:up

-- Give up rather than queue, and block every later query, behind a long transaction
-- holding a lock this migration needs (the index on repositories).
SET LOCAL lock_timeout = '5s';

-- A cache of GitHub's pull-request state for monitored repositories (docs/pull_requests.md).
-- GitHub stays the source of truth: every row can be dropped and fetched again. Rows are
-- keyed by GitHub's ids and shared by every user who monitors the repository, so there is
-- no foreign key to repositories (one row per user); pruning removes what nobody monitors.

CREATE TABLE pull_requests (
    id                   bigint      NOT NULL,
    repository_github_id bigint      NOT NULL,
    number               integer     NOT NULL,
    title                text        NOT NULL,
    author_login         citext      NOT NULL,
    state                text        NOT NULL,
    draft                boolean     NOT NULL,
    head_ref             text        NOT NULL,
    base_ref             text        NOT NULL,
    html_url             text        NOT NULL,
    created_at           timestamptz NOT NULL,
    updated_at           timestamptz NOT NULL,
    closed_at            timestamptz,
    merged_at            timestamptz,
    synced_at            timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT pull_requests_pkey PRIMARY KEY (id),
    CONSTRAINT pull_requests_repository_github_id_number_key UNIQUE (repository_github_id, number),
    CONSTRAINT pull_requests_id_check CHECK (id > 0),
    CONSTRAINT pull_requests_repository_github_id_check CHECK (repository_github_id > 0),
    CONSTRAINT pull_requests_number_check CHECK (number > 0),
    CONSTRAINT pull_requests_title_check CHECK (title <> ''),
    -- Users, "ghost" for deleted accounts, apps as "name[bot]", managed users as "name_short".
    CONSTRAINT pull_requests_author_login_check
        CHECK (author_login ~ '^[A-Za-z0-9_-]+(\[bot\])?$' AND char_length(author_login) <= 100),
    CONSTRAINT pull_requests_state_check CHECK (state IN ('open', 'closed', 'merged')),
    CONSTRAINT pull_requests_head_ref_check CHECK (head_ref <> ''),
    CONSTRAINT pull_requests_base_ref_check CHECK (base_ref <> ''),
    CONSTRAINT pull_requests_html_url_check CHECK (html_url ~ '^https://'),
    -- GitHub sets closed_at when a PR is closed or merged and clears it on reopen.
    CONSTRAINT pull_requests_closed_at_check CHECK ((state = 'open') = (closed_at IS NULL)),
    CONSTRAINT pull_requests_merged_at_check CHECK ((state = 'merged') = (merged_at IS NOT NULL)),
    CONSTRAINT pull_requests_timeline_check CHECK (
        updated_at >= created_at AND closed_at >= created_at AND merged_at >= created_at
    )
);

-- The dashboard reads, per monitored repository, its open PRs newest activity first from
-- a keyset cursor (updated_at, id): one backward range scan each, merged by the query.
CREATE INDEX pull_requests_open_dashboard_idx ON pull_requests (repository_github_id, updated_at, id)
    WHERE state = 'open';

-- Retention pruning walks closed and merged PRs oldest first.
CREATE INDEX pull_requests_closed_at_idx ON pull_requests (closed_at)
    WHERE closed_at IS NOT NULL;

-- The unique (repository_github_id, number) index serves the per-repository counts and
-- the walk over cached repositories that pruning does; nothing else needs an index.

-- Pruning asks, per cached repository, whether anyone still monitors it. repositories
-- holds a few rows per user: the build blocks its writes for milliseconds, while
-- CONCURRENTLY would take this whole migration out of its transaction.
-- squawk-ignore require-concurrent-index-creation
CREATE INDEX repositories_github_id_idx ON repositories (github_id);

COMMENT ON TABLE pull_requests IS
    'Cache of GitHub pull-request state for monitored repositories, shared by every user who monitors one; GitHub can rebuild it.';
COMMENT ON COLUMN pull_requests.id IS 'GitHub''s pull-request id (not the number); 64-bit.';
COMMENT ON COLUMN pull_requests.repository_github_id IS
    'GitHub id of the base repository; matches repositories.github_id of every user who monitors it (no foreign key: repositories are per user).';
COMMENT ON COLUMN pull_requests.number IS 'The PR number shown on GitHub, unique within its repository.';
COMMENT ON COLUMN pull_requests.author_login IS 'GitHub login of the PR''s author; case-insensitive like GitHub.';
COMMENT ON COLUMN pull_requests.state IS 'open, closed (without merging) or merged: GitHub''s state plus whether merged_at is set.';
COMMENT ON COLUMN pull_requests.created_at IS 'When GitHub created the PR.';
COMMENT ON COLUMN pull_requests.updated_at IS
    'GitHub''s updated_at, not ours: an upsert only applies a strictly newer value, so out-of-order and repeated events change nothing.';
COMMENT ON COLUMN pull_requests.closed_at IS 'When GitHub closed or merged the PR; NULL while open.';
COMMENT ON COLUMN pull_requests.merged_at IS 'When GitHub merged the PR; NULL unless merged.';
COMMENT ON COLUMN pull_requests.synced_at IS 'When this row last took a newer state from GitHub.';

-- migrate:down

DROP INDEX repositories_github_id_idx;
DROP TABLE pull_requests;
