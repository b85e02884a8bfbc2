-- Development fixtures (story 0.4): users signed in with GitHub, their CodeFlow
-- profiles and the repositories they monitor. Idempotent: fixed ids and
-- ON CONFLICT ... DO UPDATE put every fixture row back to the state below, so
-- running it twice leaves the same rows. Rows you added yourself are kept.

INSERT INTO users (id, name, email, email_verified, image) VALUES
    ('seed-user-octocat', 'The Octocat', 'octocat@example.com', '2026-01-01 00:00:00+00',
     'https://avatars.githubusercontent.com/u/583231'),
    ('seed-user-hubot', 'Hubot', 'hubot@example.com', NULL,
     'https://avatars.githubusercontent.com/u/480938'),
    ('seed-user-monalisa', 'Mona Lisa Octocat', 'monalisa@example.com', '2026-02-01 00:00:00+00', NULL)
ON CONFLICT (id) DO UPDATE
SET name = excluded.name, email = excluded.email,
    email_verified = excluded.email_verified, image = excluded.image;

INSERT INTO accounts (id, user_id, type, provider, provider_account_id, access_token,
                      token_type, scope) VALUES
    ('seed-account-octocat', 'seed-user-octocat', 'oauth', 'github', '583231',
     'gho_seed_octocat_not_a_real_token', 'bearer', 'read:user,repo'),
    ('seed-account-hubot', 'seed-user-hubot', 'oauth', 'github', '480938',
     'gho_seed_hubot_not_a_real_token', 'bearer', 'read:user,repo'),
    ('seed-account-monalisa', 'seed-user-monalisa', 'oauth', 'github', '2154',
     'gho_seed_monalisa_not_a_real_token', 'bearer', 'read:user')
ON CONFLICT (id) DO UPDATE
SET user_id = excluded.user_id, type = excluded.type, provider = excluded.provider,
    provider_account_id = excluded.provider_account_id, access_token = excluded.access_token,
    token_type = excluded.token_type, scope = excluded.scope;

INSERT INTO user_profiles (id, user_id, github_id, username) VALUES
    ('00000000-0000-4000-8000-000000000001', 'seed-user-octocat', 583231, 'octocat'),
    ('00000000-0000-4000-8000-000000000002', 'seed-user-hubot', 480938, 'hubot'),
    ('00000000-0000-4000-8000-000000000003', 'seed-user-monalisa', 2154, 'monalisa')
ON CONFLICT (id) DO UPDATE
SET user_id = excluded.user_id, github_id = excluded.github_id, username = excluded.username;

-- Visibility as GitHub reports it; access_verified_at is when the caller last checked
-- the user's access on GitHub (fixed, so a second run changes nothing). A private
-- repository's PRs show only within DB_PRIVATE_ACCESS_WINDOW_S of that check: the
-- private one below was never verified, so its PR stays hidden until
-- verify_repository_access runs for monalisa.
INSERT INTO repositories (id, user_id, github_id, name, full_name, owner, is_active, private,
                          access_verified_at) VALUES
    ('00000000-0000-4000-9000-000000000001', '00000000-0000-4000-8000-000000000001',
     1296269, 'Hello-World', 'octocat/Hello-World', 'octocat', true, false, '2026-03-01 00:00:00+00'),
    ('00000000-0000-4000-9000-000000000002', '00000000-0000-4000-8000-000000000001',
     1300192, 'Spoon-Knife', 'octocat/Spoon-Knife', 'octocat', true, false, '2026-03-01 00:00:00+00'),
    ('00000000-0000-4000-9000-000000000003', '00000000-0000-4000-8000-000000000001',
     132935648, 'boysenberry-repo-1', 'octocat/boysenberry-repo-1', 'octocat', false, false,
     '2026-03-01 00:00:00+00'),
    ('00000000-0000-4000-9000-000000000004', '00000000-0000-4000-8000-000000000002',
     3081286, 'hubot', 'hubotio/hubot', 'hubotio', true, false, '2026-03-01 00:00:00+00'),
    -- Two users monitor the same GitHub repository: one row each.
    ('00000000-0000-4000-9000-000000000005', '00000000-0000-4000-8000-000000000002',
     1296269, 'Hello-World', 'octocat/Hello-World', 'octocat', true, false, '2026-03-01 00:00:00+00'),
    -- GitHub ids above 2^31 must fit.
    ('00000000-0000-4000-9000-000000000006', '00000000-0000-4000-8000-000000000003',
     3000000001, 'linguist', 'github/linguist', 'github', true, false, '2026-03-01 00:00:00+00'),
    ('00000000-0000-4000-9000-000000000007', '00000000-0000-4000-8000-000000000003',
     3000000002, 'roadmap', 'github/roadmap', 'github', true, true, NULL)
ON CONFLICT (id) DO UPDATE
SET user_id = excluded.user_id, github_id = excluded.github_id, name = excluded.name,
    full_name = excluded.full_name, owner = excluded.owner, is_active = excluded.is_active,
    private = excluded.private, access_verified_at = excluded.access_verified_at;

-- The pull-request cache (docs/pull_requests.md): a few PRs per seeded repository, in
-- every state, shared by both users who monitor octocat/Hello-World. PR ids above 2^31
-- must fit like repository ids.
INSERT INTO pull_requests (id, repository_github_id, number, title, author_login, state, draft,
                           head_ref, base_ref, html_url, created_at, updated_at, closed_at, merged_at) VALUES
    (2000000001, 1296269, 1, 'Add a friendly greeting', 'octocat', 'open', false, 'greeting', 'master',
     'https://github.com/octocat/Hello-World/pull/1', '2026-03-01 09:00:00+00', '2026-03-05 10:00:00+00', NULL, NULL),
    (2000000002, 1296269, 2, 'WIP: translate the README', 'hubot', 'open', true, 'readme-i18n', 'master',
     'https://github.com/octocat/Hello-World/pull/2', '2026-03-02 09:00:00+00', '2026-03-06 11:00:00+00', NULL, NULL),
    (2000000003, 1296269, 3, 'Fix typo in README', 'monalisa', 'merged', false, 'typo', 'master',
     'https://github.com/octocat/Hello-World/pull/3', '2026-02-01 09:00:00+00', '2026-02-02 09:30:00+00',
     '2026-02-02 09:30:00+00', '2026-02-02 09:30:00+00'),
    (2000000004, 1300192, 1, 'Sharpen the spoon', 'octocat', 'open', false, 'sharper', 'main',
     'https://github.com/octocat/Spoon-Knife/pull/1', '2026-03-03 09:00:00+00', '2026-03-04 12:00:00+00', NULL, NULL),
    (2000000005, 1300192, 2, 'Replace the knife', 'dependabot[bot]', 'closed', false, 'dependabot/knife-2', 'main',
     'https://github.com/octocat/Spoon-Knife/pull/2', '2026-02-10 09:00:00+00', '2026-02-12 09:00:00+00',
     '2026-02-12 09:00:00+00', NULL),
    -- A paused repository: cached, but hidden from its user's dashboard.
    (2000000006, 132935648, 1, 'Add boysenberries', 'octocat', 'open', false, 'berries', 'main',
     'https://github.com/octocat/boysenberry-repo-1/pull/1', '2026-03-01 08:00:00+00', '2026-03-01 08:00:00+00', NULL, NULL),
    (2000000007, 3081286, 1, 'Upgrade the adapter', 'hubot', 'open', false, 'adapter-upgrade', 'main',
     'https://github.com/hubotio/hubot/pull/1', '2026-03-02 08:00:00+00', '2026-03-07 08:00:00+00', NULL, NULL),
    (2000000008, 3081286, 2, 'Drop Node 16', 'hubot', 'merged', false, 'drop-node-16', 'main',
     'https://github.com/hubotio/hubot/pull/2', '2026-01-15 08:00:00+00', '2026-01-20 08:00:00+00',
     '2026-01-20 08:00:00+00', '2026-01-20 08:00:00+00'),
    (3000000001, 3000000001, 1, 'Add a language', 'monalisa', 'open', true, 'new-language', 'main',
     'https://github.com/github/linguist/pull/1', '2026-03-03 07:00:00+00', '2026-03-08 07:00:00+00', NULL, NULL),
    (3000000002, 3000000001, 2, 'Fix a heuristic', 'octocat', 'open', false, 'heuristic', 'main',
     'https://github.com/github/linguist/pull/2', '2026-03-04 07:00:00+00', '2026-03-04 07:30:00+00', NULL, NULL),
    -- Of the private repository: hidden from monalisa's dashboard until her access is verified.
    (3000000003, 3000000002, 1, 'Plan the next quarter', 'monalisa', 'open', false, 'q3', 'main',
     'https://github.com/github/roadmap/pull/1', '2026-03-05 07:00:00+00', '2026-03-05 08:00:00+00', NULL, NULL)
ON CONFLICT (repository_github_id, number) DO UPDATE
SET id = excluded.id, title = excluded.title,
    author_login = excluded.author_login, state = excluded.state, draft = excluded.draft,
    head_ref = excluded.head_ref, base_ref = excluded.base_ref, html_url = excluded.html_url,
    created_at = excluded.created_at, updated_at = excluded.updated_at, closed_at = excluded.closed_at,
    merged_at = excluded.merged_at;
