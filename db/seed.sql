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

INSERT INTO repositories (id, user_id, github_id, name, full_name, owner, is_active) VALUES
    ('00000000-0000-4000-9000-000000000001', '00000000-0000-4000-8000-000000000001',
     1296269, 'Hello-World', 'octocat/Hello-World', 'octocat', true),
    ('00000000-0000-4000-9000-000000000002', '00000000-0000-4000-8000-000000000001',
     1300192, 'Spoon-Knife', 'octocat/Spoon-Knife', 'octocat', true),
    ('00000000-0000-4000-9000-000000000003', '00000000-0000-4000-8000-000000000001',
     132935648, 'boysenberry-repo-1', 'octocat/boysenberry-repo-1', 'octocat', false),
    ('00000000-0000-4000-9000-000000000004', '00000000-0000-4000-8000-000000000002',
     3081286, 'hubot', 'hubotio/hubot', 'hubotio', true),
    -- Two users monitor the same GitHub repository: one row each.
    ('00000000-0000-4000-9000-000000000005', '00000000-0000-4000-8000-000000000002',
     1296269, 'Hello-World', 'octocat/Hello-World', 'octocat', true),
    -- GitHub ids above 2^31 must fit.
    ('00000000-0000-4000-9000-000000000006', '00000000-0000-4000-8000-000000000003',
     3000000001, 'linguist', 'github/linguist', 'github', true)
ON CONFLICT (id) DO UPDATE
SET user_id = excluded.user_id, github_id = excluded.github_id, name = excluded.name,
    full_name = excluded.full_name, owner = excluded.owner, is_active = excluded.is_active;
