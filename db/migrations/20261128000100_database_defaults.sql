-- migrate:up

-- Give up rather than queue, and block every later query, behind a long transaction
-- holding a lock this migration needs (e.g. on users, which new foreign keys reference).
SET LOCAL lock_timeout = '5s';

-- The Prisma 7 driver adapter writes timestamps as UTC wall-clock text and ignores
-- the offset it reads back: any other session time zone shifts every instant it
-- stores or reads by the UTC offset. Pin this database's default to UTC so both
-- sides agree whatever the server's own default is (RDS: set it in the parameter
-- group too). It takes effect for sessions opened after this migration.
-- ALTER DATABASE needs the database's name, which a migration knows only as
-- current_database(): hence EXECUTE in a DO block, with no condition that could skip it.
-- lint: allow-do ALTER DATABASE ... SET needs the name only current_database() gives
DO $$
BEGIN
    EXECUTE format('ALTER DATABASE %I SET timezone TO %L', current_database(), 'UTC');
END
$$;

-- citext gives case-insensitive uniqueness for GitHub logins and repository names.
CREATE EXTENSION IF NOT EXISTS citext WITH SCHEMA public;

CREATE FUNCTION set_updated_at() RETURNS trigger
    LANGUAGE plpgsql
AS $$
BEGIN
    NEW.updated_at := now();
    RETURN NEW;
END
$$;

COMMENT ON FUNCTION set_updated_at() IS
    'BEFORE UPDATE trigger: keeps updated_at right for every writer, not only the Python service.';

-- migrate:down

DROP FUNCTION set_updated_at();

DROP EXTENSION citext;

-- lint: allow-do ALTER DATABASE ... RESET needs the name only current_database() gives
DO $$
BEGIN
    EXECUTE format('ALTER DATABASE %I RESET timezone', current_database());
END
$$;
