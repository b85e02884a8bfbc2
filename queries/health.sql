-- name: get_server_status()^
-- Returns one row: the server's version string and whether it is a read-only standby.
-- @returns codeflow.health.ServerStatus
SELECT current_setting('server_version') AS server_version,
       pg_is_in_recovery() AS in_recovery;

-- name: list_applied_migrations()
-- Returns the versions dbmate has applied, oldest first (no rows before the first migrate).
-- @returns codeflow.health.AppliedMigration
SELECT version
FROM schema_migrations
ORDER BY version;
