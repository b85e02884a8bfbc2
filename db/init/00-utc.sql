-- Runs once when a Docker volume is first initialised (docker-entrypoint-initdb.d).
-- The migrations pin each database's time zone to UTC; this sets the server default
-- too, so databases created later by hand start out right.
ALTER SYSTEM SET timezone = 'UTC';
SELECT pg_reload_conf();
