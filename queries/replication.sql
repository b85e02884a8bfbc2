-- name: get_wal_position()$
-- Returns the primary's current WAL write position (pg_lsn as text), what a standby must replay to be
-- current; the type allows NULL, which the health report treats as "not measured".
-- @returns str
SELECT pg_current_wal_lsn()::text AS wal_position;

-- name: get_replica_lag(primary_position)^
-- Returns one row about this server as a standby of a primary at primary_position: whether it is in
-- recovery, the WAL bytes it has still to replay, and the seconds since the commit of the last
-- transaction it replayed when it is behind (0 when it has replayed everything).
-- @returns codeflow.health.ReplicaLag
SELECT
    pg_is_in_recovery() AS in_recovery,
    -- coalesce: a server that is no standby has no replay position (NULL), nothing behind.
    coalesce(
        greatest(pg_wal_lsn_diff(cast(cast(:primary_position AS text) AS pg_lsn), pg_last_wal_replay_lsn()), 0)::bigint,
        0
    ) AS bytes_behind,
    -- coalesce: before replaying any transaction there is no replay timestamp.
    coalesce(
        CASE
            WHEN pg_wal_lsn_diff(cast(cast(:primary_position AS text) AS pg_lsn), pg_last_wal_replay_lsn()) > 0
                THEN greatest(extract(EPOCH FROM clock_timestamp() - pg_last_xact_replay_timestamp()), 0)
        END::float8, 0
    ) AS seconds_behind;
