--
-- PostgreSQL database dump
--

--
-- Name: citext; Type: EXTENSION; Schema: -; Owner: -
--

CREATE EXTENSION IF NOT EXISTS citext WITH SCHEMA public;

--
-- Name: EXTENSION citext; Type: COMMENT; Schema: -; Owner: -
--

COMMENT ON EXTENSION citext IS 'data type for case-insensitive character strings';

--
-- Name: set_updated_at(); Type: FUNCTION; Schema: public; Owner: -
--

CREATE FUNCTION public.set_updated_at() RETURNS trigger
    LANGUAGE plpgsql
    AS $$
BEGIN
    NEW.updated_at := now();
    RETURN NEW;
END
$$;

--
-- Name: FUNCTION set_updated_at(); Type: COMMENT; Schema: public; Owner: -
--

COMMENT ON FUNCTION public.set_updated_at() IS 'BEFORE UPDATE trigger: keeps updated_at right for every writer, not only the Python service.';

--
-- Name: accounts; Type: TABLE; Schema: public; Owner: -
--

CREATE TABLE public.accounts (
    id text DEFAULT (gen_random_uuid())::text NOT NULL,
    user_id text NOT NULL,
    type text NOT NULL,
    provider text NOT NULL,
    provider_account_id text NOT NULL,
    refresh_token text,
    access_token text,
    expires_at bigint,
    token_type text,
    scope text,
    id_token text,
    session_state text,
    CONSTRAINT accounts_access_token_length_check CHECK ((char_length(access_token) <= 16384)),
    CONSTRAINT accounts_id_token_length_check CHECK ((char_length(id_token) <= 16384)),
    CONSTRAINT accounts_provider_account_id_length_check CHECK ((char_length(provider_account_id) <= 255)),
    CONSTRAINT accounts_provider_length_check CHECK ((char_length(provider) <= 255)),
    CONSTRAINT accounts_refresh_token_length_check CHECK ((char_length(refresh_token) <= 16384)),
    CONSTRAINT accounts_scope_length_check CHECK ((char_length(scope) <= 4096)),
    CONSTRAINT accounts_session_state_length_check CHECK ((char_length(session_state) <= 4096)),
    CONSTRAINT accounts_token_type_length_check CHECK ((char_length(token_type) <= 64)),
    CONSTRAINT accounts_type_length_check CHECK ((char_length(type) <= 32))
);

--
-- Name: TABLE accounts; Type: COMMENT; Schema: public; Owner: -
--

COMMENT ON TABLE public.accounts IS 'Auth.js accounts: a user''s sign-in with one provider (e.g. GitHub OAuth).';

--
-- Name: COLUMN accounts.type; Type: COMMENT; Schema: public; Owner: -
--

COMMENT ON COLUMN public.accounts.type IS 'Auth.js account type: oauth, oidc, email or webauthn.';

--
-- Name: COLUMN accounts.provider_account_id; Type: COMMENT; Schema: public; Owner: -
--

COMMENT ON COLUMN public.accounts.provider_account_id IS 'The user''s id at the provider (for GitHub, the numeric user id as text).';

--
-- Name: COLUMN accounts.refresh_token; Type: COMMENT; Schema: public; Owner: -
--

COMMENT ON COLUMN public.accounts.refresh_token IS 'OAuth credential: never log it.';

--
-- Name: COLUMN accounts.access_token; Type: COMMENT; Schema: public; Owner: -
--

COMMENT ON COLUMN public.accounts.access_token IS 'OAuth credential: never log it.';

--
-- Name: COLUMN accounts.expires_at; Type: COMMENT; Schema: public; Owner: -
--

COMMENT ON COLUMN public.accounts.expires_at IS 'Access token expiry in epoch seconds; bigint so it survives 2038.';

--
-- Name: authenticators; Type: TABLE; Schema: public; Owner: -
--

CREATE TABLE public.authenticators (
    credential_id text NOT NULL,
    user_id text NOT NULL,
    provider_account_id text NOT NULL,
    credential_public_key text NOT NULL,
    counter integer NOT NULL,
    credential_device_type text NOT NULL,
    credential_backed_up boolean NOT NULL,
    transports text,
    CONSTRAINT authenticators_counter_check CHECK ((counter >= 0)),
    CONSTRAINT authenticators_credential_device_type_length_check CHECK ((char_length(credential_device_type) <= 32)),
    CONSTRAINT authenticators_credential_id_check CHECK ((credential_id ~ '^[A-Za-z0-9+/_-]+=*$'::text)),
    CONSTRAINT authenticators_credential_id_length_check CHECK ((char_length(credential_id) <= 1400)),
    CONSTRAINT authenticators_credential_public_key_length_check CHECK ((char_length(credential_public_key) <= 4096)),
    CONSTRAINT authenticators_provider_account_id_length_check CHECK ((char_length(provider_account_id) <= 255)),
    CONSTRAINT authenticators_transports_length_check CHECK ((char_length(transports) <= 255))
);

--
-- Name: TABLE authenticators; Type: COMMENT; Schema: public; Owner: -
--

COMMENT ON TABLE public.authenticators IS 'Auth.js WebAuthn authenticators: one registered passkey of a user.';

--
-- Name: COLUMN authenticators.credential_id; Type: COMMENT; Schema: public; Owner: -
--

COMMENT ON COLUMN public.authenticators.credential_id IS 'WebAuthn credential id (base64url), unique across users (Auth.js credentialID).';

--
-- Name: COLUMN authenticators.provider_account_id; Type: COMMENT; Schema: public; Owner: -
--

COMMENT ON COLUMN public.authenticators.provider_account_id IS 'The webauthn account (accounts.provider_account_id) this credential signs in to.';

--
-- Name: COLUMN authenticators.credential_public_key; Type: COMMENT; Schema: public; Owner: -
--

COMMENT ON COLUMN public.authenticators.credential_public_key IS 'The credential''s public key (base64url); public, not a secret.';

--
-- Name: COLUMN authenticators.counter; Type: COMMENT; Schema: public; Owner: -
--

COMMENT ON COLUMN public.authenticators.counter IS 'WebAuthn signature counter; int4 because the Prisma model declares Int.';

--
-- Name: COLUMN authenticators.credential_device_type; Type: COMMENT; Schema: public; Owner: -
--

COMMENT ON COLUMN public.authenticators.credential_device_type IS 'WebAuthn device type as the front end stores it (e.g. singleDevice, multiDevice).';

--
-- Name: COLUMN authenticators.transports; Type: COMMENT; Schema: public; Owner: -
--

COMMENT ON COLUMN public.authenticators.transports IS 'Comma-separated WebAuthn transports (e.g. usb,ble,nfc,internal); NULL if unknown.';

--
-- Name: pull_requests; Type: TABLE; Schema: public; Owner: -
--

CREATE TABLE public.pull_requests (
    id bigint NOT NULL,
    repository_github_id bigint NOT NULL,
    number integer NOT NULL,
    title text NOT NULL,
    author_login public.citext NOT NULL,
    state text NOT NULL,
    draft boolean NOT NULL,
    head_ref text NOT NULL,
    base_ref text NOT NULL,
    html_url text NOT NULL,
    created_at timestamp with time zone NOT NULL,
    updated_at timestamp with time zone NOT NULL,
    closed_at timestamp with time zone,
    merged_at timestamp with time zone,
    synced_at timestamp with time zone DEFAULT now() NOT NULL,
    CONSTRAINT pull_requests_author_login_check CHECK (((author_login OPERATOR(public.~) '^[A-Za-z0-9_-]+(\[bot\])?$'::public.citext) AND (char_length((author_login)::text) <= 100))),
    CONSTRAINT pull_requests_base_ref_check CHECK ((base_ref <> ''::text)),
    CONSTRAINT pull_requests_base_ref_length_check CHECK ((char_length(base_ref) <= 1024)),
    CONSTRAINT pull_requests_closed_at_check CHECK (((state = 'open'::text) = (closed_at IS NULL))),
    CONSTRAINT pull_requests_head_ref_check CHECK ((head_ref <> ''::text)),
    CONSTRAINT pull_requests_head_ref_length_check CHECK ((char_length(head_ref) <= 1024)),
    CONSTRAINT pull_requests_html_url_check CHECK ((html_url ~ '^https://'::text)),
    CONSTRAINT pull_requests_html_url_length_check CHECK ((char_length(html_url) <= 2048)),
    CONSTRAINT pull_requests_id_check CHECK ((id > 0)),
    CONSTRAINT pull_requests_merged_at_check CHECK (((state = 'merged'::text) = (merged_at IS NOT NULL))),
    CONSTRAINT pull_requests_number_check CHECK ((number > 0)),
    CONSTRAINT pull_requests_repository_github_id_check CHECK ((repository_github_id > 0)),
    CONSTRAINT pull_requests_state_check CHECK ((state = ANY (ARRAY['open'::text, 'closed'::text, 'merged'::text]))),
    CONSTRAINT pull_requests_timeline_check CHECK (((updated_at >= created_at) AND (closed_at >= created_at) AND (merged_at >= created_at))),
    CONSTRAINT pull_requests_timestamps_finite_check CHECK ((isfinite(created_at) AND isfinite(updated_at) AND isfinite(closed_at) AND isfinite(merged_at))),
    CONSTRAINT pull_requests_title_check CHECK ((title <> ''::text)),
    CONSTRAINT pull_requests_title_length_check CHECK ((char_length(title) <= 1024))
);

--
-- Name: TABLE pull_requests; Type: COMMENT; Schema: public; Owner: -
--

COMMENT ON TABLE public.pull_requests IS 'Cache of GitHub pull-request state for monitored repositories, shared by every user who monitors one; GitHub can rebuild it.';

--
-- Name: COLUMN pull_requests.id; Type: COMMENT; Schema: public; Owner: -
--

COMMENT ON COLUMN public.pull_requests.id IS 'GitHub''s pull-request id (not the number); 64-bit; unique, checked at the end of each statement.';

--
-- Name: COLUMN pull_requests.repository_github_id; Type: COMMENT; Schema: public; Owner: -
--

COMMENT ON COLUMN public.pull_requests.repository_github_id IS 'GitHub id of the base repository; matches repositories.github_id of every user who monitors it (no foreign key: repositories are per user).';

--
-- Name: COLUMN pull_requests.number; Type: COMMENT; Schema: public; Owner: -
--

COMMENT ON COLUMN public.pull_requests.number IS 'The PR number shown on GitHub; with repository_github_id the key: one cached PR per number, the newest GitHub reported.';

--
-- Name: COLUMN pull_requests.author_login; Type: COMMENT; Schema: public; Owner: -
--

COMMENT ON COLUMN public.pull_requests.author_login IS 'GitHub login of the PR''s author; case-insensitive like GitHub.';

--
-- Name: COLUMN pull_requests.state; Type: COMMENT; Schema: public; Owner: -
--

COMMENT ON COLUMN public.pull_requests.state IS 'open, closed (without merging) or merged: GitHub''s state plus whether merged_at is set.';

--
-- Name: COLUMN pull_requests.created_at; Type: COMMENT; Schema: public; Owner: -
--

COMMENT ON COLUMN public.pull_requests.created_at IS 'When GitHub created the PR.';

--
-- Name: COLUMN pull_requests.updated_at; Type: COMMENT; Schema: public; Owner: -
--

COMMENT ON COLUMN public.pull_requests.updated_at IS 'GitHub''s updated_at, not ours: an upsert only applies a strictly newer value, so out-of-order and repeated events change nothing.';

--
-- Name: COLUMN pull_requests.closed_at; Type: COMMENT; Schema: public; Owner: -
--

COMMENT ON COLUMN public.pull_requests.closed_at IS 'When GitHub closed or merged the PR; NULL while open.';

--
-- Name: COLUMN pull_requests.merged_at; Type: COMMENT; Schema: public; Owner: -
--

COMMENT ON COLUMN public.pull_requests.merged_at IS 'When GitHub merged the PR; NULL unless merged.';

--
-- Name: COLUMN pull_requests.synced_at; Type: COMMENT; Schema: public; Owner: -
--

COMMENT ON COLUMN public.pull_requests.synced_at IS 'When this row last took a newer state from GitHub.';

--
-- Name: repositories; Type: TABLE; Schema: public; Owner: -
--

CREATE TABLE public.repositories (
    id uuid DEFAULT gen_random_uuid() NOT NULL,
    user_id uuid NOT NULL,
    github_id bigint NOT NULL,
    name public.citext NOT NULL,
    full_name public.citext NOT NULL,
    owner public.citext NOT NULL,
    is_active boolean DEFAULT true NOT NULL,
    created_at timestamp with time zone DEFAULT now() NOT NULL,
    updated_at timestamp with time zone DEFAULT now() NOT NULL,
    private boolean DEFAULT true NOT NULL,
    access_verified_at timestamp with time zone,
    CONSTRAINT repositories_full_name_check CHECK (((full_name)::text = (((owner)::text || '/'::text) || (name)::text))),
    CONSTRAINT repositories_github_id_check CHECK ((github_id > 0)),
    CONSTRAINT repositories_name_check CHECK ((((name)::text ~ '^[A-Za-z0-9._-]+$'::text) AND (length((name)::text) <= 100))),
    CONSTRAINT repositories_owner_check CHECK ((((owner)::text ~ '^[A-Za-z0-9-]+$'::text) AND (length((owner)::text) <= 39)))
);

--
-- Name: TABLE repositories; Type: COMMENT; Schema: public; Owner: -
--

COMMENT ON TABLE public.repositories IS 'One user''s monitoring preference for one GitHub repository; two users may monitor the same repository.';

--
-- Name: COLUMN repositories.user_id; Type: COMMENT; Schema: public; Owner: -
--

COMMENT ON COLUMN public.repositories.user_id IS 'The owning profile (user_profiles.id), not users.id; the Python service hides the difference.';

--
-- Name: COLUMN repositories.github_id; Type: COMMENT; Schema: public; Owner: -
--

COMMENT ON COLUMN public.repositories.github_id IS 'GitHub''s numeric repository id; unique per user, not globally.';

--
-- Name: COLUMN repositories.full_name; Type: COMMENT; Schema: public; Owner: -
--

COMMENT ON COLUMN public.repositories.full_name IS 'owner/name as GitHub spells it; case-insensitive, unique per user.';

--
-- Name: COLUMN repositories.is_active; Type: COMMENT; Schema: public; Owner: -
--

COMMENT ON COLUMN public.repositories.is_active IS 'false pauses monitoring without forgetting the repository.';

--
-- Name: COLUMN repositories.private; Type: COMMENT; Schema: public; Owner: -
--

COMMENT ON COLUMN public.repositories.private IS 'GitHub''s private flag as the caller last saw it; true (also the default, for rows of unknown visibility) hides the PRs from a user whose access is not verified recently.';

--
-- Name: COLUMN repositories.access_verified_at; Type: COMMENT; Schema: public; Owner: -
--

COMMENT ON COLUMN public.repositories.access_verified_at IS 'When the caller last confirmed on GitHub that this user can read the repository (add_repository, verify_repository_access); NULL: never. A private repository''s PRs are shown only within DB_PRIVATE_ACCESS_WINDOW_S of it.';

--
-- Name: schema_migrations; Type: TABLE; Schema: public; Owner: -
--

CREATE TABLE public.schema_migrations (
    version character varying NOT NULL
);

--
-- Name: sessions; Type: TABLE; Schema: public; Owner: -
--

CREATE TABLE public.sessions (
    id text DEFAULT (gen_random_uuid())::text NOT NULL,
    session_token text NOT NULL,
    user_id text NOT NULL,
    expires timestamp(3) with time zone NOT NULL,
    CONSTRAINT sessions_expires_finite_check CHECK (isfinite(expires)),
    CONSTRAINT sessions_session_token_length_check CHECK ((char_length(session_token) <= 255))
);

--
-- Name: TABLE sessions; Type: COMMENT; Schema: public; Owner: -
--

COMMENT ON TABLE public.sessions IS 'Auth.js database sessions: every signed-in request carries session_token.';

--
-- Name: COLUMN sessions.session_token; Type: COMMENT; Schema: public; Owner: -
--

COMMENT ON COLUMN public.sessions.session_token IS 'Credential: whoever holds it is signed in. Never log it.';

--
-- Name: user_profiles; Type: TABLE; Schema: public; Owner: -
--

CREATE TABLE public.user_profiles (
    id uuid DEFAULT gen_random_uuid() NOT NULL,
    user_id text NOT NULL,
    github_id bigint NOT NULL,
    username public.citext NOT NULL,
    last_active_at timestamp with time zone DEFAULT now() NOT NULL,
    created_at timestamp with time zone DEFAULT now() NOT NULL,
    updated_at timestamp with time zone DEFAULT now() NOT NULL,
    CONSTRAINT user_profiles_github_id_check CHECK ((github_id > 0)),
    CONSTRAINT user_profiles_username_check CHECK ((((username)::text ~ '^[A-Za-z0-9-]+$'::text) AND (length((username)::text) <= 39)))
);

--
-- Name: TABLE user_profiles; Type: COMMENT; Schema: public; Owner: -
--

COMMENT ON TABLE public.user_profiles IS 'A signed-in user''s GitHub identity in CodeFlow; at most one per Auth.js user.';

--
-- Name: COLUMN user_profiles.user_id; Type: COMMENT; Schema: public; Owner: -
--

COMMENT ON COLUMN public.user_profiles.user_id IS 'The Auth.js user (users.id) this profile belongs to.';

--
-- Name: COLUMN user_profiles.github_id; Type: COMMENT; Schema: public; Owner: -
--

COMMENT ON COLUMN public.user_profiles.github_id IS 'GitHub''s numeric user id; 64-bit because GitHub ids outgrow int4.';

--
-- Name: COLUMN user_profiles.username; Type: COMMENT; Schema: public; Owner: -
--

COMMENT ON COLUMN public.user_profiles.username IS 'GitHub login; case-insensitive like GitHub (Octocat = octocat).';

--
-- Name: COLUMN user_profiles.last_active_at; Type: COMMENT; Schema: public; Owner: -
--

COMMENT ON COLUMN public.user_profiles.last_active_at IS 'Last request seen, to a resolution of DB_ACTIVITY_RESOLUTION_S; drives inactive-user cleanup.';

--
-- Name: users; Type: TABLE; Schema: public; Owner: -
--

CREATE TABLE public.users (
    id text DEFAULT (gen_random_uuid())::text NOT NULL,
    name text,
    email text,
    email_verified timestamp(3) with time zone,
    image text,
    CONSTRAINT users_email_length_check CHECK ((char_length(email) <= 320)),
    CONSTRAINT users_email_verified_finite_check CHECK (isfinite(email_verified)),
    CONSTRAINT users_id_length_check CHECK ((char_length(id) <= 255)),
    CONSTRAINT users_image_length_check CHECK ((char_length(image) <= 65536)),
    CONSTRAINT users_name_length_check CHECK ((char_length(name) <= 1024))
);

--
-- Name: TABLE users; Type: COMMENT; Schema: public; Owner: -
--

COMMENT ON TABLE public.users IS 'Auth.js users: one row per signed-up person.';

--
-- Name: COLUMN users.email_verified; Type: COMMENT; Schema: public; Owner: -
--

COMMENT ON COLUMN public.users.email_verified IS 'When the e-mail address was verified (Auth.js emailVerified); NULL if never.';

--
-- Name: verification_tokens; Type: TABLE; Schema: public; Owner: -
--

CREATE TABLE public.verification_tokens (
    identifier text NOT NULL,
    token text NOT NULL,
    expires timestamp(3) with time zone NOT NULL,
    CONSTRAINT verification_tokens_expires_finite_check CHECK (isfinite(expires)),
    CONSTRAINT verification_tokens_identifier_length_check CHECK ((char_length(identifier) <= 320)),
    CONSTRAINT verification_tokens_token_length_check CHECK ((char_length(token) <= 255))
);

--
-- Name: TABLE verification_tokens; Type: COMMENT; Schema: public; Owner: -
--

COMMENT ON TABLE public.verification_tokens IS 'Auth.js one-time tokens (e-mail sign-in links); deleted when used.';

--
-- Name: COLUMN verification_tokens.identifier; Type: COMMENT; Schema: public; Owner: -
--

COMMENT ON COLUMN public.verification_tokens.identifier IS 'Whom the token was issued to, usually an e-mail address.';

--
-- Name: accounts accounts_pkey; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.accounts
    ADD CONSTRAINT accounts_pkey PRIMARY KEY (id);

--
-- Name: accounts accounts_provider_provider_account_id_key; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.accounts
    ADD CONSTRAINT accounts_provider_provider_account_id_key UNIQUE (provider, provider_account_id);

--
-- Name: authenticators authenticators_credential_id_key; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.authenticators
    ADD CONSTRAINT authenticators_credential_id_key UNIQUE (credential_id);

--
-- Name: authenticators authenticators_pkey; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.authenticators
    ADD CONSTRAINT authenticators_pkey PRIMARY KEY (user_id, credential_id);

--
-- Name: pull_requests pull_requests_id_key; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.pull_requests
    ADD CONSTRAINT pull_requests_id_key UNIQUE (id) DEFERRABLE;

--
-- Name: CONSTRAINT pull_requests_id_key ON pull_requests; Type: COMMENT; Schema: public; Owner: -
--

COMMENT ON CONSTRAINT pull_requests_id_key ON public.pull_requests IS 'Deferrable so that upserts arbitrate (repository_github_id, number) alone and concurrent first deliveries of a PR never fail.';

--
-- Name: pull_requests pull_requests_pkey; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.pull_requests
    ADD CONSTRAINT pull_requests_pkey PRIMARY KEY (repository_github_id, number);

--
-- Name: repositories repositories_pkey; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.repositories
    ADD CONSTRAINT repositories_pkey PRIMARY KEY (id);

--
-- Name: repositories repositories_user_id_full_name_key; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.repositories
    ADD CONSTRAINT repositories_user_id_full_name_key UNIQUE (user_id, full_name);

--
-- Name: repositories repositories_user_id_github_id_key; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.repositories
    ADD CONSTRAINT repositories_user_id_github_id_key UNIQUE (user_id, github_id);

--
-- Name: schema_migrations schema_migrations_pkey; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.schema_migrations
    ADD CONSTRAINT schema_migrations_pkey PRIMARY KEY (version);

--
-- Name: sessions sessions_pkey; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.sessions
    ADD CONSTRAINT sessions_pkey PRIMARY KEY (id);

--
-- Name: sessions sessions_session_token_key; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.sessions
    ADD CONSTRAINT sessions_session_token_key UNIQUE (session_token);

--
-- Name: user_profiles user_profiles_github_id_key; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.user_profiles
    ADD CONSTRAINT user_profiles_github_id_key UNIQUE (github_id);

--
-- Name: user_profiles user_profiles_pkey; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.user_profiles
    ADD CONSTRAINT user_profiles_pkey PRIMARY KEY (id);

--
-- Name: user_profiles user_profiles_user_id_key; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.user_profiles
    ADD CONSTRAINT user_profiles_user_id_key UNIQUE (user_id);

--
-- Name: user_profiles user_profiles_username_key; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.user_profiles
    ADD CONSTRAINT user_profiles_username_key UNIQUE (username);

--
-- Name: users users_email_key; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.users
    ADD CONSTRAINT users_email_key UNIQUE (email);

--
-- Name: users users_pkey; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.users
    ADD CONSTRAINT users_pkey PRIMARY KEY (id);

--
-- Name: verification_tokens verification_tokens_pkey; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.verification_tokens
    ADD CONSTRAINT verification_tokens_pkey PRIMARY KEY (identifier, token);

--
-- Name: accounts_user_id_idx; Type: INDEX; Schema: public; Owner: -
--

CREATE INDEX accounts_user_id_idx ON public.accounts USING btree (user_id);

--
-- Name: pull_requests_closed_at_idx; Type: INDEX; Schema: public; Owner: -
--

CREATE INDEX pull_requests_closed_at_idx ON public.pull_requests USING btree (closed_at) WHERE (closed_at IS NOT NULL);

--
-- Name: pull_requests_open_dashboard_idx; Type: INDEX; Schema: public; Owner: -
--

CREATE INDEX pull_requests_open_dashboard_idx ON public.pull_requests USING btree (repository_github_id, updated_at, id) WHERE (state = 'open'::text);

--
-- Name: repositories_github_id_idx; Type: INDEX; Schema: public; Owner: -
--

CREATE INDEX repositories_github_id_idx ON public.repositories USING btree (github_id);

--
-- Name: sessions_expires_idx; Type: INDEX; Schema: public; Owner: -
--

CREATE INDEX sessions_expires_idx ON public.sessions USING btree (expires);

--
-- Name: sessions_user_id_idx; Type: INDEX; Schema: public; Owner: -
--

CREATE INDEX sessions_user_id_idx ON public.sessions USING btree (user_id);

--
-- Name: user_profiles_last_active_at_idx; Type: INDEX; Schema: public; Owner: -
--

CREATE INDEX user_profiles_last_active_at_idx ON public.user_profiles USING btree (last_active_at);

--
-- Name: verification_tokens_expires_idx; Type: INDEX; Schema: public; Owner: -
--

CREATE INDEX verification_tokens_expires_idx ON public.verification_tokens USING btree (expires);

--
-- Name: repositories repositories_set_updated_at; Type: TRIGGER; Schema: public; Owner: -
--

CREATE TRIGGER repositories_set_updated_at BEFORE UPDATE ON public.repositories FOR EACH ROW WHEN ((old.* IS DISTINCT FROM new.*)) EXECUTE FUNCTION public.set_updated_at();

--
-- Name: user_profiles user_profiles_set_updated_at; Type: TRIGGER; Schema: public; Owner: -
--

CREATE TRIGGER user_profiles_set_updated_at BEFORE UPDATE ON public.user_profiles FOR EACH ROW WHEN ((old.* IS DISTINCT FROM new.*)) EXECUTE FUNCTION public.set_updated_at();

--
-- Name: accounts accounts_user_id_fkey; Type: FK CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.accounts
    ADD CONSTRAINT accounts_user_id_fkey FOREIGN KEY (user_id) REFERENCES public.users(id) ON DELETE CASCADE;

--
-- Name: authenticators authenticators_user_id_fkey; Type: FK CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.authenticators
    ADD CONSTRAINT authenticators_user_id_fkey FOREIGN KEY (user_id) REFERENCES public.users(id) ON DELETE CASCADE;

--
-- Name: repositories repositories_user_id_fkey; Type: FK CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.repositories
    ADD CONSTRAINT repositories_user_id_fkey FOREIGN KEY (user_id) REFERENCES public.user_profiles(id) ON DELETE CASCADE;

--
-- Name: sessions sessions_user_id_fkey; Type: FK CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.sessions
    ADD CONSTRAINT sessions_user_id_fkey FOREIGN KEY (user_id) REFERENCES public.users(id) ON DELETE CASCADE;

--
-- Name: user_profiles user_profiles_user_id_fkey; Type: FK CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.user_profiles
    ADD CONSTRAINT user_profiles_user_id_fkey FOREIGN KEY (user_id) REFERENCES public.users(id) ON DELETE CASCADE;

--
-- PostgreSQL database dump complete
--

-- Applied migrations (dbmate)
INSERT INTO public.schema_migrations (version) VALUES
    ('20261128000100'),
    ('20261128000200'),
    ('20261128000300'),
    ('20261128000400'),
    ('20261128000500'),
    ('20261128000600'),
    ('20261201000100'),
    ('20261201000110'),
    ('20261201000200'),
    ('20261201000300');
