-- migrate:up

-- Give up rather than queue, and block every later query, behind a long transaction
-- holding a lock on the cache.
SET LOCAL lock_timeout = '5s';

-- A cached PR is now keyed by (repository_github_id, number), and its GitHub id is
-- unique but checked at the end of each statement (docs/pull_requests.md, "Writes").
--
-- Why: an upsert's ON CONFLICT arbitrates one unique index with the speculative-insertion
-- protocol; every other unique index is checked as a plain insert, which waits for a
-- concurrent inserter of the same key and then fails. With the primary key on id and a
-- unique (repository_github_id, number), two first deliveries of one PR raced: one got
-- a unique violation on (repository_github_id, number), or the two deadlocked. Now the
-- upserts arbitrate (repository_github_id, number), the one immediate unique index;
-- the id index, deferrable, is rechecked only where an insert saw a possible duplicate
-- and after the conflict was settled, so it never refuses a concurrent copy of the row.
--
-- The number is the key, not the id, because GitHub can give a repository's number to
-- a new PR id (deleted and re-created, transferred): the newer state replaces the row
-- in place, id included, in the same statement, and the cache holds one PR per number.
--
-- The new indexes are built first, under a SHARE lock: the dashboard keeps reading while
-- writes wait (the whole migration took 0.2 to 0.4 s on 200,000 PRs on the 2-core
-- development machine). CONCURRENTLY would take this migration out of its transaction.
-- Deploy it only once no code upserting with ON CONFLICT (id) runs any more: a deferrable
-- constraint cannot arbitrate (docs/production.md, section 4). Then the swap, under the table's
-- exclusive lock, only renames and drops.
-- squawk-ignore require-concurrent-index-creation
CREATE UNIQUE INDEX pull_requests_number_new ON pull_requests (repository_github_id, number);
-- squawk-ignore require-concurrent-index-creation
CREATE UNIQUE INDEX pull_requests_id_new ON pull_requests (id);
-- Both guarantees stay: the statements after the drops put them back on the new indexes.
-- squawk-ignore ban-drop-constraint
ALTER TABLE pull_requests DROP CONSTRAINT pull_requests_pkey;
-- squawk-ignore ban-drop-constraint
ALTER TABLE pull_requests DROP CONSTRAINT pull_requests_repository_github_id_number_key;
ALTER TABLE pull_requests ADD CONSTRAINT pull_requests_pkey PRIMARY KEY USING INDEX pull_requests_number_new;
ALTER TABLE pull_requests
    ADD CONSTRAINT pull_requests_id_key UNIQUE USING INDEX pull_requests_id_new DEFERRABLE INITIALLY IMMEDIATE;

COMMENT ON COLUMN pull_requests.id IS
    'GitHub''s pull-request id (not the number); 64-bit; unique, checked at the end of each statement.';
COMMENT ON COLUMN pull_requests.number IS
    'The PR number shown on GitHub; with repository_github_id the key: one cached PR per number, the newest GitHub reported.';
COMMENT ON CONSTRAINT pull_requests_id_key ON pull_requests IS
    'Deferrable so that upserts arbitrate (repository_github_id, number) alone and concurrent first deliveries of a PR never fail.';

-- migrate:down

ALTER TABLE pull_requests
    DROP CONSTRAINT pull_requests_id_key,
    DROP CONSTRAINT pull_requests_pkey,
    ADD CONSTRAINT pull_requests_pkey PRIMARY KEY (id),
    ADD CONSTRAINT pull_requests_repository_github_id_number_key UNIQUE (repository_github_id, number);

COMMENT ON COLUMN pull_requests.id IS 'GitHub''s pull-request id (not the number); 64-bit.';
COMMENT ON COLUMN pull_requests.number IS 'The PR number shown on GitHub, unique within its repository.';
