-- CodeFlow's database roles. Run once per server (RDS instance) as the master user,
-- before the first migration; safe to run again. Passwords are not set here: see
-- docs/production.md (Secrets Manager for the migrator, IAM or a secret for the API).
--
--   codeflow_migrator  LOGIN   owns the database and every object in it; migrations run as it.
--   codeflow_app       NOLOGIN the privileges of the running application (granted by the
--                              migration 20261128000600 on what the migrations create).
--   codeflow_api       LOGIN   what the Lambda functions log in as: a member of codeflow_app,
--                              with the server-side timeouts a transaction pooler cannot send.
DO $$
BEGIN
    IF NOT EXISTS (SELECT FROM pg_catalog.pg_roles WHERE rolname = 'codeflow_migrator') THEN
        CREATE ROLE codeflow_migrator LOGIN;
    END IF;
    IF NOT EXISTS (SELECT FROM pg_catalog.pg_roles WHERE rolname = 'codeflow_app') THEN
        CREATE ROLE codeflow_app NOLOGIN;
    END IF;
    IF NOT EXISTS (SELECT FROM pg_catalog.pg_roles WHERE rolname = 'codeflow_api') THEN
        CREATE ROLE codeflow_api LOGIN IN ROLE codeflow_app;
    END IF;
END
$$;

-- The package's defaults (DB_STATEMENT_TIMEOUT_MS, DB_IDLE_IN_TRANSACTION_TIMEOUT_MS);
-- behind PgBouncer or RDS Proxy only the role can carry them.
ALTER ROLE codeflow_api SET statement_timeout = '15s';
ALTER ROLE codeflow_api SET idle_in_transaction_session_timeout = '60s';
ALTER ROLE codeflow_api SET timezone = 'UTC';
-- A connection limit below max_connections keeps room for the migrator and operators.
ALTER ROLE codeflow_api CONNECTION LIMIT 80;
