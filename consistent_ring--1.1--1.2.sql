/* consistent_ring--1.1--1.2.sql */

-- complain if script is sourced in psql, rather than via ALTER EXTENSION
\echo Use "ALTER EXTENSION consistent_ring UPDATE TO '1.2'" to load this file. \quit

--
-- 1.2: ring_migrate moves rows online (src/ring_mover.c, ring_shard.c):
-- change capture and fences on the servers, COPY between them.  The
-- progress of a source is now a phase; a migration begun by 1.1's
-- procedure must be finished by it first.
--
DO $$
BEGIN
    IF EXISTS (SELECT FROM consistent_ring.migrations m WHERE m.finished_at IS NULL) THEN
        RAISE EXCEPTION 'a migration begun by consistent_ring 1.1 is unfinished'
            USING ERRCODE = 'object_not_in_prerequisite_state',
                  HINT = 'Finish it with the same CALL ring_migrate(...) before updating.';
    END IF;
END
$$;

DROP PROCEDURE ring_migrate(regclass, name, text, integer, integer, integer, boolean, boolean);
DROP FUNCTION consistent_ring.migration_table(text);
DROP FUNCTION consistent_ring.migration_table(text, text);

ALTER TABLE consistent_ring.migration_servers RENAME TO migration_servers_1_1;
ALTER INDEX consistent_ring.migration_servers_pkey RENAME TO migration_servers_1_1_pkey;
CREATE TABLE consistent_ring.migration_servers (
    migration_id integer NOT NULL,
    ring        text COLLATE "C" NOT NULL,
    server      text COLLATE "C" NOT NULL,
    source      boolean NOT NULL,
    phase       text NOT NULL DEFAULT 'waiting',
    rows_estimate bigint,
    rows_copied bigint NOT NULL DEFAULT 0,
    changes_replayed bigint NOT NULL DEFAULT 0,
    pending_changes bigint NOT NULL DEFAULT 0,
    rows_verified bigint,
    rows_deleted bigint NOT NULL DEFAULT 0,
    verified    boolean,
    fence_ms    double precision,
    phase_started_at timestamptz,
    updated_at  timestamptz,
    CONSTRAINT migration_servers_pkey PRIMARY KEY (migration_id, server),
    CONSTRAINT migration_servers_phase_check
        CHECK (phase OPERATOR(pg_catalog.=) ANY ('{waiting,copying,catching up,cut over,done}'::text[])),
    -- a row belongs to the ring its migration moves: row security checks
    -- the row's ring, and this ties it to the migration's (the check runs
    -- as the tables' owner, whatever the writer may see)
    CONSTRAINT migration_servers_migration_fkey FOREIGN KEY (migration_id, ring)
        REFERENCES consistent_ring.migrations (migration_id, ring) ON DELETE CASCADE
);
COMMENT ON TABLE consistent_ring.migration_servers IS
    'each server of a migration; a source''s phase: waiting, copying, catching up, cut over (its moving keys are on their new servers from this commit on), done (deleted at the source)';

INSERT INTO consistent_ring.migration_servers
       (migration_id, ring, server, source, phase, rows_copied, rows_deleted, verified, updated_at)
SELECT o.migration_id, o.ring, o.server, o.source,
       CASE WHEN o.source THEN 'done' ELSE 'waiting' END,
       CASE WHEN o.source THEN o.rows_moved ELSE 0 END,
       CASE WHEN o.source THEN o.rows_moved ELSE 0 END,
       m.verified, m.finished_at
  FROM consistent_ring.migration_servers_1_1 o
  JOIN consistent_ring.migrations m ON m.migration_id OPERATOR(pg_catalog.=) o.migration_id;
ALTER EXTENSION consistent_ring DROP TABLE consistent_ring.migration_servers_1_1;
DROP TABLE consistent_ring.migration_servers_1_1;

SELECT pg_catalog.pg_extension_config_dump('consistent_ring.migration_servers', '');
ALTER TABLE consistent_ring.migration_servers ENABLE ROW LEVEL SECURITY;
CREATE POLICY migration_servers_read ON consistent_ring.migration_servers FOR SELECT
    USING (consistent_ring.may_read(ring));
CREATE POLICY migration_servers_change ON consistent_ring.migration_servers
    USING (consistent_ring.may_change(ring)) WITH CHECK (consistent_ring.may_change(ring));
GRANT SELECT, INSERT, UPDATE, DELETE ON consistent_ring.migration_servers TO PUBLIC;
CREATE TRIGGER migration_servers_changing
    BEFORE INSERT OR UPDATE OR DELETE OR TRUNCATE ON consistent_ring.migration_servers
    FOR EACH STATEMENT EXECUTE FUNCTION consistent_ring.invalidate_cache();
CREATE TRIGGER migration_servers_invalidate_cache
    AFTER INSERT OR UPDATE OR DELETE ON consistent_ring.migration_servers
    FOR EACH ROW EXECUTE FUNCTION consistent_ring.invalidate_cache();
CREATE TRIGGER migration_servers_truncate_invalidate_cache
    AFTER TRUNCATE ON consistent_ring.migration_servers
    FOR EACH STATEMENT EXECUTE FUNCTION consistent_ring.invalidate_cache();
ALTER TABLE consistent_ring.migration_servers ENABLE ALWAYS TRIGGER migration_servers_invalidate_cache;

-- What a DBA watches from another session: each source of each unfinished
-- (and the last finished) migration, its phase and figures.
CREATE VIEW ring_migration_progress WITH (security_barrier) AS
    SELECT m.migration_id, m.ring,
           pg_catalog.format('%I.%I', m.table_schema, m.table_name) AS tbl,
           s.server AS source, s.phase, s.rows_estimate, s.rows_copied, s.changes_replayed,
           s.pending_changes AS lag_changes, s.rows_deleted, s.verified, s.fence_ms,
           pg_catalog.now() OPERATOR(pg_catalog.-) s.phase_started_at AS in_phase,
           CASE WHEN s.phase OPERATOR(pg_catalog.=) 'copying'
                     AND s.rows_copied OPERATOR(pg_catalog.>) 0
                     AND s.rows_estimate OPERATOR(pg_catalog.>) s.rows_copied
                THEN (s.updated_at OPERATOR(pg_catalog.-) s.phase_started_at)
                     OPERATOR(pg_catalog.*) ((s.rows_estimate OPERATOR(pg_catalog.-) s.rows_copied)::double precision
                                             OPERATOR(pg_catalog./) s.rows_copied::double precision) END AS copy_time_left,
           s.updated_at
      FROM consistent_ring.migrations m
      JOIN consistent_ring.migration_servers s ON s.migration_id OPERATOR(pg_catalog.=) m.migration_id
     WHERE s.source;
COMMENT ON VIEW ring_migration_progress IS
    'each source of each migration: its phase, rows copied, changes replayed, changes still to replay, fence time, estimated copy time left';
GRANT SELECT ON ring_migration_progress TO PUBLIC;

-- The coordinator's side of a move: a ring's versions as rows, for the
-- servers (those who may look the ring up may read it).
CREATE FUNCTION consistent_ring.ring_export(ring text, version integer)
    RETURNS jsonb
    AS 'MODULE_PATHNAME', 'ring_export'
    LANGUAGE C STABLE STRICT;
COMMENT ON FUNCTION consistent_ring.ring_export(text, integer) IS
    'the catalog rows of a ring up to a version, as ring_migrate sends them to the servers';

--
-- The servers' side of a move (CREATE EXTENSION consistent_ring on every
-- server of a ring ring_migrate moves rows between).  A source table gets
-- the trigger zz_consistent_ring_move: while its rows are copied it
-- records the keys of every write to a key that moves away
-- (shard_changes), and once they are cut over it refuses writes to them
-- (40001, the message names the new server).  Only the functions below
-- read and write these tables.
--
CREATE TABLE consistent_ring.shard_moves (
    relid       oid NOT NULL,
    key_column  name NOT NULL,
    migration   text NOT NULL,
    ring        text COLLATE "C" NOT NULL,
    server      text COLLATE "C" NOT NULL,
    old_version integer NOT NULL,
    new_version integer NOT NULL,
    state       text NOT NULL,
    rows_deleted bigint NOT NULL DEFAULT 0,
    changed_at  timestamptz NOT NULL DEFAULT pg_catalog.now(),
    CONSTRAINT shard_moves_pkey PRIMARY KEY (relid),
    CONSTRAINT shard_moves_state_check
        CHECK (state OPERATOR(pg_catalog.=) ANY ('{copying,cut over,done}'::text[]))
);
COMMENT ON TABLE consistent_ring.shard_moves IS
    'on a server: each table a migration moves rows away from, the ring (imported) and this server''s name in it, and whether its moving keys are being copied, cut over or gone';
CREATE TABLE consistent_ring.shard_changes (
    relid       oid NOT NULL,
    key         text NOT NULL
);
COMMENT ON TABLE consistent_ring.shard_changes IS
    'on a server: the keys written since a move''s copy began, in text form, until ring_migrate replays them';
REVOKE ALL ON consistent_ring.shard_moves, consistent_ring.shard_changes FROM PUBLIC;

CREATE FUNCTION consistent_ring.shard_capture()
    RETURNS trigger
    AS 'MODULE_PATHNAME', 'ring_shard_capture'
    LANGUAGE C;
COMMENT ON FUNCTION consistent_ring.shard_capture() IS
    'trigger of a table rows move away from: records writes to moving keys while they are copied, refuses them once they are cut over';

CREATE FUNCTION consistent_ring.shard_import(migration text, definition jsonb)
    RETURNS text
    AS 'MODULE_PATHNAME', 'ring_shard_import'
    LANGUAGE C VOLATILE STRICT;
COMMENT ON FUNCTION consistent_ring.shard_import(text, jsonb) IS
    'on a server: create (or replace) the ring a migration moves rows by, owned by the caller; returns its name here';

CREATE FUNCTION consistent_ring.shard_begin(tbl regclass, key_column name, migration text,
                                            server text, old_version integer, new_version integer,
                                            definition jsonb)
    RETURNS text
    AS 'MODULE_PATHNAME', 'ring_shard_begin'
    LANGUAGE C VOLATILE STRICT;
COMMENT ON FUNCTION consistent_ring.shard_begin(regclass, name, text, text, integer, integer, jsonb) IS
    'on a source server: start recording the writes to the table''s moving keys (waits for the writers already running); returns the state, which a migration already begun keeps';

CREATE FUNCTION consistent_ring.shard_take_changes(tbl regclass, migration text, max_keys integer)
    RETURNS SETOF text
    AS 'MODULE_PATHNAME', 'ring_shard_take_changes'
    LANGUAGE C VOLATILE STRICT ROWS 1000;
COMMENT ON FUNCTION consistent_ring.shard_take_changes(regclass, text, integer) IS
    'on a source server: remove and return (each once) up to max_keys keys written since they were last taken';

CREATE FUNCTION consistent_ring.shard_pending(tbl regclass)
    RETURNS bigint
    AS 'MODULE_PATHNAME', 'ring_shard_pending'
    LANGUAGE C STABLE STRICT;
COMMENT ON FUNCTION consistent_ring.shard_pending(regclass) IS
    'on a source server: how many recorded writes wait to be replayed';

CREATE FUNCTION consistent_ring.shard_cut(tbl regclass, migration text)
    RETURNS void
    AS 'MODULE_PATHNAME', 'ring_shard_cut'
    LANGUAGE C VOLATILE STRICT;
COMMENT ON FUNCTION consistent_ring.shard_cut(regclass, text) IS
    'on a source server: wait for the writers of moving keys to end and refuse further writes to them (until the transaction ends, nothing writes them)';

CREATE FUNCTION consistent_ring.shard_delete_moved(tbl regclass, migration text)
    RETURNS bigint
    AS 'MODULE_PATHNAME', 'ring_shard_delete_moved'
    LANGUAGE C VOLATILE STRICT;
COMMENT ON FUNCTION consistent_ring.shard_delete_moved(regclass, text) IS
    'on a source server, once cut over: delete the rows whose keys moved away; returns how many this migration deleted there so far';

CREATE FUNCTION consistent_ring.shard_forget(tbl regclass, migration text)
    RETURNS void
    AS 'MODULE_PATHNAME', 'ring_shard_forget'
    LANGUAGE C VOLATILE STRICT;
COMMENT ON FUNCTION consistent_ring.shard_forget(regclass, text) IS
    'on a server that is no source of this migration: forget what an earlier migration of the table left (its refusals)';

CREATE FUNCTION consistent_ring.shard_finish(tbl regclass, migration text)
    RETURNS void
    AS 'MODULE_PATHNAME', 'ring_shard_finish'
    LANGUAGE C VOLATILE STRICT;
COMMENT ON FUNCTION consistent_ring.shard_finish(regclass, text) IS
    'on a source server, once the migration is done: keep refusing writes to the keys that moved away';

--
-- ring_migrate: move the rows of a table whose key's server differs
-- between two versions of a ring, online (src/ring_mover.c).
--
CREATE PROCEDURE ring_migrate(tbl regclass, key_column name, ring text,
                              old_version integer, new_version integer,
                              batch_size integer DEFAULT 10000,
                              verify boolean DEFAULT true,
                              cascade_deletes boolean DEFAULT false,
                              parallel integer DEFAULT 1)
    AS 'MODULE_PATHNAME', 'ring_migrate'
    LANGUAGE C;
COMMENT ON PROCEDURE ring_migrate(regclass, name, text, integer, integer, integer, boolean, boolean, integer) IS
    'move the rows of a table from their servers in one version of a ring to their servers in another, online, with COPY; resumable';

CREATE FUNCTION ring_migrate_check(tbl regclass, key_column name, ring text,
                                   old_version integer, new_version integer,
                                   cascade_deletes boolean DEFAULT false,
                                   OUT server text, OUT destination text, OUT item text,
                                   OUT ok boolean, OUT rows bigint, OUT bytes bigint, OUT detail text)
    RETURNS SETOF record
    AS 'MODULE_PATHNAME', 'ring_migrate_check'
    LANGUAGE C VOLATILE STRICT;
COMMENT ON FUNCTION ring_migrate_check(regclass, name, text, integer, integer, boolean) IS
    'what ring_migrate would move (rows and bytes per source and destination) and whatever would stop it, changing nothing';


-- ring_partition(ring, key, table): for PL/Proxy's RUN ON, the partition of
-- the server ring_route names (ring_plproxy_partitions lists, after the
-- nodes, the servers unfinished migrations may still read from).
CREATE FUNCTION ring_partition(ring text, key anyelement, tbl regclass)
    RETURNS integer
    AS 'MODULE_PATHNAME', 'ring_partition_routed'
    LANGUAGE C STABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION ring_partition(text, anyelement, regclass) IS
    'PL/Proxy partition (RUN ON) of the server where a key of a table is now, during and after its migrations';
CREATE FUNCTION ring_partition(ring text, key text, tbl regclass)
    RETURNS integer
    AS 'MODULE_PATHNAME', 'ring_partition_routed'
    LANGUAGE C STABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION ring_partition(text, text, regclass) IS
    'PL/Proxy partition (RUN ON) of the server where a key of a table is now, during and after its migrations';

-- ring_cache_info: whether each ring is the copy in shared memory
-- (shared_preload_libraries = 'consistent_ring')
DROP FUNCTION ring_cache_info();
CREATE FUNCTION ring_cache_info(OUT ring text, OUT version integer, OUT nodes integer,
                                OUT tokens bigint, OUT bytes bigint, OUT built_from integer,
                                OUT shared boolean)
    RETURNS SETOF record
    AS 'MODULE_PATHNAME', 'ring_cache_info'
    LANGUAGE C VOLATILE STRICT PARALLEL RESTRICTED ROWS 10;
COMMENT ON FUNCTION ring_cache_info() IS
    'rings this backend uses, with their size, the version each was built from (NULL: from the catalog alone) and whether it is the copy in shared memory';
REVOKE EXECUTE ON FUNCTION ring_cache_info() FROM PUBLIC;

-- compiled rings in shared memory (shared_preload_libraries = 'consistent_ring')
CREATE FUNCTION ring_shared_cache(OUT ring text, OUT version integer, OUT backends integer,
                                  OUT bytes bigint, OUT built_from integer)
    RETURNS SETOF record
    AS 'MODULE_PATHNAME', 'ring_shared_cache'
    LANGUAGE C VOLATILE STRICT PARALLEL RESTRICTED ROWS 10;
COMMENT ON FUNCTION ring_shared_cache() IS
    'rings of this database compiled in shared memory, with the backends using each (none unless the library is preloaded)';
-- it names every shared ring of the database, whoever may look it up
REVOKE EXECUTE ON FUNCTION ring_shared_cache() FROM PUBLIC;
