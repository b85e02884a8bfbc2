-- The pull-request cache (docs/pull_requests.md). One row per repository and PR number,
-- holding the newest state GitHub reported for it: a write applies only when its state
-- is strictly newer than the cached one, so webhooks that arrive late, twice or
-- concurrently change nothing or converge. "Newer" is one total order, the same in every
-- write: GitHub's updated_at, then (for states of the same second) the PR id, merged_at,
-- closed_at (merged, then closed, then open) and the remaining columns, nulls lowest.
-- Upserts arbitrate the primary key (repository_github_id, number), the table's only
-- immediate unique index, so concurrent first deliveries of a PR take turns instead of
-- failing; a newer PR id for a cached number replaces the row, id included.
-- Every user_id is users.id, resolved through user_profiles.
-- Deletes pick a bounded batch, then delete by id = any(array(...)): unlike IN (...),
-- that keeps a generic plan on the id index whatever it guesses the batch size is.

-- name: upsert_pull_request(id, repository_github_id, number, title, author_login, state, draft, head_ref, base_ref, html_url, created_at, updated_at, closed_at, merged_at)<!
-- Inserts a PR or applies a newer state of its repository and number; returns the
-- written row, or no row when the cache already held this state or a newer one.
-- @returns codeflow.pull_requests.PullRequest
-- @nullable closed_at, merged_at
INSERT INTO pull_requests AS pr (id, repository_github_id, number, title, author_login, state, draft,
                                 head_ref, base_ref, html_url, created_at, updated_at, closed_at, merged_at)
VALUES (:id, :repository_github_id, :number, :title, :author_login, :state, :draft,
        :head_ref, :base_ref, :html_url, :created_at, :updated_at, :closed_at, :merged_at)
ON CONFLICT (repository_github_id, number) DO UPDATE
SET id = excluded.id, title = excluded.title, author_login = excluded.author_login, state = excluded.state,
    draft = excluded.draft, head_ref = excluded.head_ref, base_ref = excluded.base_ref,
    html_url = excluded.html_url, created_at = excluded.created_at, updated_at = excluded.updated_at,
    closed_at = excluded.closed_at, merged_at = excluded.merged_at, synced_at = now()
WHERE (excluded.updated_at, excluded.id, coalesce(excluded.merged_at, '-infinity'),
       coalesce(excluded.closed_at, '-infinity'), excluded.draft, excluded.title, excluded.base_ref,
       excluded.head_ref, excluded.html_url, excluded.author_login::text, excluded.created_at)
    > (pr.updated_at, pr.id, coalesce(pr.merged_at, '-infinity'),
       coalesce(pr.closed_at, '-infinity'), pr.draft, pr.title, pr.base_ref,
       pr.head_ref, pr.html_url, pr.author_login::text, pr.created_at)
RETURNING pr.id, pr.repository_github_id, pr.number, pr.title, pr.author_login, pr.state, pr.draft,
          pr.head_ref, pr.base_ref, pr.html_url, pr.created_at, pr.updated_at, pr.closed_at,
          pr.merged_at, pr.synced_at;

-- name: upsert_pull_requests(ids, repository_github_ids, numbers, titles, author_logins, states, drafts, head_refs, base_refs, html_urls, created_ats, updated_ats, closed_ats, merged_ats)$
-- Inserts or applies newer states of many PRs, given column by column as arrays in one
-- statement; returns how many rows it wrote. Of several states of one repository and
-- number in the batch only the newest counts (ON CONFLICT may touch a row only once),
-- and rows are written in key order, so concurrent batches lock rows alike: no deadlock.
-- @returns int
WITH incoming AS (
    SELECT DISTINCT ON (repository_github_id, number)
           id, repository_github_id, number, title, author_login, state, draft,
           head_ref, base_ref, html_url, created_at, updated_at, closed_at, merged_at
    FROM unnest(:ids::bigint[], :repository_github_ids::bigint[], :numbers::integer[], :titles::text[],
                :author_logins::text[], :states::text[], :drafts::boolean[], :head_refs::text[],
                :base_refs::text[], :html_urls::text[], :created_ats::timestamptz[],
                :updated_ats::timestamptz[], :closed_ats::timestamptz[], :merged_ats::timestamptz[])
         AS batch (id, repository_github_id, number, title, author_login, state, draft,
                   head_ref, base_ref, html_url, created_at, updated_at, closed_at, merged_at)
    ORDER BY repository_github_id ASC, number ASC, updated_at DESC, id DESC,
             coalesce(merged_at, '-infinity') DESC, coalesce(closed_at, '-infinity') DESC, draft DESC,
             title DESC, base_ref DESC, head_ref DESC, html_url DESC, author_login DESC, created_at DESC
), written AS (
    INSERT INTO pull_requests AS pr (id, repository_github_id, number, title, author_login, state, draft,
                                     head_ref, base_ref, html_url, created_at, updated_at, closed_at,
                                     merged_at)
    SELECT id, repository_github_id, number, title, author_login, state, draft,
           head_ref, base_ref, html_url, created_at, updated_at, closed_at, merged_at
    FROM incoming
    ORDER BY repository_github_id, number
    ON CONFLICT (repository_github_id, number) DO UPDATE
    SET id = excluded.id, title = excluded.title, author_login = excluded.author_login,
        state = excluded.state, draft = excluded.draft, head_ref = excluded.head_ref,
        base_ref = excluded.base_ref, html_url = excluded.html_url, created_at = excluded.created_at,
        updated_at = excluded.updated_at, closed_at = excluded.closed_at, merged_at = excluded.merged_at,
        synced_at = now()
    WHERE (excluded.updated_at, excluded.id, coalesce(excluded.merged_at, '-infinity'),
           coalesce(excluded.closed_at, '-infinity'), excluded.draft, excluded.title, excluded.base_ref,
           excluded.head_ref, excluded.html_url, excluded.author_login::text, excluded.created_at)
        > (pr.updated_at, pr.id, coalesce(pr.merged_at, '-infinity'),
           coalesce(pr.closed_at, '-infinity'), pr.draft, pr.title, pr.base_ref,
           pr.head_ref, pr.html_url, pr.author_login::text, pr.created_at)
    RETURNING pr.id
)
SELECT count(*) FROM written;

-- name: get_pull_request(user_id, pull_request_id, private_access_window)^
-- Returns one cached PR by GitHub's PR id if the user may see it, or no row: the user
-- monitors its repository (paused counts) and, if that repository is private, verified
-- access within private_access_window (the dashboard's rule).
-- @returns codeflow.pull_requests.PullRequest
SELECT pr.id, pr.repository_github_id, pr.number, pr.title, pr.author_login, pr.state, pr.draft,
       pr.head_ref, pr.base_ref, pr.html_url, pr.created_at, pr.updated_at, pr.closed_at,
       pr.merged_at, pr.synced_at
FROM pull_requests AS pr
WHERE pr.id = :pull_request_id
  AND EXISTS (
      SELECT
      FROM user_profiles AS p
      JOIN repositories AS r ON r.user_id = p.id
      WHERE p.user_id = :user_id
        AND r.github_id = pr.repository_github_id
        AND (NOT r.private OR r.access_verified_at >= now() - :private_access_window::interval)
  );

-- name: list_dashboard_pull_requests(user_id, private_access_window, before_updated_at, before_id, repository_github_id, author_login, draft, page_size)
-- Returns up to page_size open PRs of the user's active repositories (a private one only
-- if the user's access was verified within private_access_window) that come after the
-- cursor (before_updated_at, before_id) in newest-activity-first order; NULL cursor and
-- filters mean "from the start" and "any". Each repository contributes at most page_size
-- rows read backwards off the partial dashboard index, then the pieces are merged: the
-- cost grows with the repositories and the page, not with the table.
-- @returns codeflow.pull_requests.DashboardPullRequest
-- @nullable before_updated_at, before_id, repository_github_id, author_login, draft
WITH monitored AS (
    SELECT r.github_id, r.full_name
    FROM user_profiles AS p
    JOIN repositories AS r ON r.user_id = p.id
    WHERE p.user_id = :user_id
      AND r.is_active
      AND (NOT r.private OR r.access_verified_at >= now() - :private_access_window::interval)
      AND CASE WHEN :repository_github_id::bigint IS NULL THEN true
               ELSE r.github_id = :repository_github_id END
)
SELECT pr.id, pr.repository_github_id, pr.number, pr.title, pr.author_login, pr.state, pr.draft,
       pr.head_ref, pr.base_ref, pr.html_url, pr.created_at, pr.updated_at, pr.closed_at,
       pr.merged_at, pr.synced_at, monitored.full_name AS repository_full_name
FROM monitored
CROSS JOIN LATERAL (
    SELECT id, repository_github_id, number, title, author_login, state, draft, head_ref, base_ref,
           html_url, created_at, updated_at, closed_at, merged_at, synced_at
    FROM pull_requests
    WHERE repository_github_id = monitored.github_id
      AND state = 'open'
      -- Written for the generic plan a cached prepared statement gets: coalesce keeps the
      -- cursor an index condition, and CASE (not "x = :p OR :p IS NULL", which the planner
      -- takes for a selective filter and answers with a sort of every open PR of the
      -- repository) keeps the in-order index scan that stops after page_size rows.
      AND (updated_at, id) < (coalesce(:before_updated_at::timestamptz, 'infinity'),
                              coalesce(:before_id::bigint, 9223372036854775807))
      AND CASE WHEN :author_login::citext IS NULL THEN true ELSE author_login = :author_login END
      AND CASE WHEN :draft::boolean IS NULL THEN true ELSE draft = :draft END
    ORDER BY updated_at DESC, id DESC
    LIMIT :page_size
) AS pr
ORDER BY pr.updated_at DESC, pr.id DESC
LIMIT :page_size;

-- name: count_user_pull_requests(user_id, private_access_window)
-- Returns, for each of the user's active repositories by full_name, how many cached PRs
-- are open, closed and merged (zeros for a repository with none). A private repository
-- whose access was not verified within private_access_window is left out: zeros would
-- be a claim about PRs the user may not see.
-- @returns codeflow.pull_requests.PullRequestCounts
SELECT r.github_id AS repository_github_id, r.full_name,
       count(pr.id) FILTER (WHERE pr.state = 'open') AS open,
       count(pr.id) FILTER (WHERE pr.state = 'closed') AS closed,
       count(pr.id) FILTER (WHERE pr.state = 'merged') AS merged
FROM user_profiles AS p
JOIN repositories AS r ON r.user_id = p.id
LEFT JOIN pull_requests AS pr ON pr.repository_github_id = r.github_id
WHERE p.user_id = :user_id
  AND r.is_active
  AND (NOT r.private OR r.access_verified_at >= now() - :private_access_window::interval)
GROUP BY r.id
ORDER BY r.full_name;

-- name: delete_unmonitored_pull_requests(batch_size)$
-- @all-users pruning job: a PR stays while any user monitors its repository
-- Deletes at most batch_size PRs of repositories that no user monitors, active or paused;
-- returns how many it deleted. The cached repositories are found by skipping along the
-- (repository_github_id, number) index, one probe per repository instead of a table scan.
-- Rows locked by a concurrent writer are skipped, not waited for.
-- @returns int
-- @runs batch
WITH RECURSIVE cached (repository_github_id) AS (
    (SELECT repository_github_id FROM pull_requests ORDER BY repository_github_id LIMIT 1)
    UNION ALL
    SELECT (SELECT next.repository_github_id
            FROM pull_requests AS next
            WHERE next.repository_github_id > cached.repository_github_id
            ORDER BY next.repository_github_id
            LIMIT 1)
    FROM cached
    WHERE cached.repository_github_id IS NOT NULL
), doomed AS (
    SELECT unmonitored.id
    FROM cached
    -- Per repository through the index, even when the planner expects many to go: a
    -- locking subquery is never flattened into a join that could scan the whole table.
    CROSS JOIN LATERAL (
        SELECT pr.id
        FROM pull_requests AS pr
        WHERE pr.repository_github_id = cached.repository_github_id
        FOR UPDATE SKIP LOCKED
    ) AS unmonitored
    WHERE NOT EXISTS (SELECT FROM repositories AS r WHERE r.github_id = cached.repository_github_id)
    -- Any batch will do; an ORDER BY would find and sort every doomed row first.
    LIMIT :batch_size  -- noqa: AM09
), deleted AS (
    DELETE FROM pull_requests
    WHERE id = any(array(SELECT id FROM doomed))
    RETURNING id
)
SELECT count(*) FROM deleted;

-- name: delete_expired_pull_requests(days, batch_size)$
-- Deletes at most batch_size PRs closed or merged more than days days ago, oldest first; returns
-- how many it deleted. Rows locked by a concurrent writer are skipped, not waited for.
-- @returns int
-- @runs batch
WITH doomed AS (
    SELECT id
    FROM pull_requests
    WHERE closed_at < now() - make_interval(days => :days)
    ORDER BY closed_at
    LIMIT :batch_size
    FOR UPDATE SKIP LOCKED
), deleted AS (
    DELETE FROM pull_requests
    WHERE id = any(array(SELECT id FROM doomed))
    RETURNING id
)
SELECT count(*) FROM deleted;
