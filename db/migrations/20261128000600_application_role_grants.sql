-- migrate:up
-- The application role (infra/roles.sql) reads and writes rows; it owns nothing and
-- cannot change the schema. Roles are cluster objects, created once per server outside
-- migrations: infra/roles.sql on a real server, `codeflow-db` itself for the local and
-- test databases it creates. A server without codeflow_app fails this migration with
-- "role does not exist": a DO block that skipped the grants there left the migration
-- recorded as applied and the application later denied every table. Default
-- privileges cover the tables and sequences that later migrations create, as long as
-- the same role runs them.

-- Give up rather than queue, and block every later query, behind a long transaction
-- holding a lock these grants need.
SET LOCAL lock_timeout = '5s';

GRANT USAGE ON SCHEMA public TO codeflow_app;
GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA public TO codeflow_app;
GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA public TO codeflow_app;
-- dbmate's bookkeeping: readable (status checks), never writable by the app.
REVOKE INSERT, UPDATE, DELETE ON public.schema_migrations FROM codeflow_app;
ALTER DEFAULT PRIVILEGES IN SCHEMA public
    GRANT SELECT, INSERT, UPDATE, DELETE ON TABLES TO codeflow_app;
ALTER DEFAULT PRIVILEGES IN SCHEMA public
    GRANT USAGE, SELECT ON SEQUENCES TO codeflow_app;

-- migrate:down
ALTER DEFAULT PRIVILEGES IN SCHEMA public
    REVOKE USAGE, SELECT ON SEQUENCES FROM codeflow_app;
ALTER DEFAULT PRIVILEGES IN SCHEMA public
    REVOKE SELECT, INSERT, UPDATE, DELETE ON TABLES FROM codeflow_app;
REVOKE ALL ON ALL SEQUENCES IN SCHEMA public FROM codeflow_app;
REVOKE ALL ON ALL TABLES IN SCHEMA public FROM codeflow_app;
REVOKE USAGE ON SCHEMA public FROM codeflow_app;
