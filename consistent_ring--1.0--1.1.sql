/* consistent_ring--1.0--1.1.sql */

-- complain if script is sourced in psql, rather than via ALTER EXTENSION
\echo Use "ALTER EXTENSION consistent_ring UPDATE TO '1.1'" to load this file. \quit

--
-- 1.1: security fixes to the migration tables and ring_migrate.
--

-- A progress row belongs to the ring its migration moves.  Rows that claim
-- another ring than their migration's were written around row security by
-- another ring's owner: they are removed (the count is reported).
DO $$
DECLARE
    n bigint;
BEGIN
    DELETE FROM consistent_ring.migration_servers ms
     USING consistent_ring.migrations m
     WHERE m.migration_id OPERATOR(pg_catalog.=) ms.migration_id
       AND m.ring OPERATOR(pg_catalog.<>) ms.ring;
    GET DIAGNOSTICS n = ROW_COUNT;
    IF n OPERATOR(pg_catalog.>) 0 THEN
        RAISE WARNING 'removed % rows of consistent_ring.migration_servers whose ring was not their migration''s', n;
    END IF;
END
$$;
ALTER TABLE consistent_ring.migrations
    ADD CONSTRAINT migrations_ring_key UNIQUE (migration_id, ring);
ALTER TABLE consistent_ring.migration_servers
    DROP CONSTRAINT migration_servers_migration_id_fkey,
    ADD CONSTRAINT migration_servers_migration_fkey FOREIGN KEY (migration_id, ring)
        REFERENCES consistent_ring.migrations (migration_id, ring) ON DELETE CASCADE;

-- ring_route keeps what it read of these tables across statements until a
-- change to them commits: each changed row sends the catalog's invalidation
-- (a statement that changes no row sends nothing), TRUNCATE too, also on a
-- logical replication subscriber (ALWAYS); before a statement changes them
-- the transaction notes that it does, so that it keeps nothing it reads.
CREATE TRIGGER migrations_changing
    BEFORE INSERT OR UPDATE OR DELETE OR TRUNCATE ON consistent_ring.migrations
    FOR EACH STATEMENT EXECUTE FUNCTION consistent_ring.invalidate_cache();
CREATE TRIGGER migrations_invalidate_cache
    AFTER INSERT OR UPDATE OR DELETE ON consistent_ring.migrations
    FOR EACH ROW EXECUTE FUNCTION consistent_ring.invalidate_cache();
CREATE TRIGGER migrations_truncate_invalidate_cache
    AFTER TRUNCATE ON consistent_ring.migrations
    FOR EACH STATEMENT EXECUTE FUNCTION consistent_ring.invalidate_cache();
CREATE TRIGGER migration_servers_changing
    BEFORE INSERT OR UPDATE OR DELETE OR TRUNCATE ON consistent_ring.migration_servers
    FOR EACH STATEMENT EXECUTE FUNCTION consistent_ring.invalidate_cache();
CREATE TRIGGER migration_servers_invalidate_cache
    AFTER INSERT OR UPDATE OR DELETE ON consistent_ring.migration_servers
    FOR EACH ROW EXECUTE FUNCTION consistent_ring.invalidate_cache();
CREATE TRIGGER migration_servers_truncate_invalidate_cache
    AFTER TRUNCATE ON consistent_ring.migration_servers
    FOR EACH STATEMENT EXECUTE FUNCTION consistent_ring.invalidate_cache();
ALTER TABLE consistent_ring.migrations ENABLE ALWAYS TRIGGER migrations_invalidate_cache;
ALTER TABLE consistent_ring.migration_servers ENABLE ALWAYS TRIGGER migration_servers_invalidate_cache;

CREATE FUNCTION consistent_ring.migration_table(server text, catalog text)
    RETURNS text
    LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE
    AS $$SELECT pg_catalog.format('pg_temp.%I', 'ring_migrate_' OPERATOR(pg_catalog.||) catalog
                                  OPERATOR(pg_catalog.||) '_' OPERATOR(pg_catalog.||) pg_catalog.md5(server))$$;

-- ring_migrate's queries are built at run time under its caller's
-- search_path: it names every operator with its schema, those of the key
-- column's type too (its default btree operator class's).
CREATE FUNCTION consistent_ring.key_operator(keytype regtype, op text)
    RETURNS text
    AS 'MODULE_PATHNAME', 'ring_key_operator'
    LANGUAGE C STABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION consistent_ring.key_operator(regtype, text) IS
    'the key type''s comparison operator <, <=, =, >= or >, as OPERATOR(schema.name)';

-- ring_cache_info: which version a compiled ring was built from
DROP FUNCTION ring_cache_info();
CREATE FUNCTION ring_cache_info(OUT ring text, OUT version integer, OUT nodes integer,
                                OUT tokens bigint, OUT bytes bigint, OUT built_from integer)
    RETURNS SETOF record
    AS 'MODULE_PATHNAME', 'ring_cache_info'
    LANGUAGE C VOLATILE STRICT PARALLEL RESTRICTED ROWS 10;
COMMENT ON FUNCTION ring_cache_info() IS
    'rings compiled in this backend''s cache, with their size and the version each was built from (NULL: from the catalog alone)';
-- it names every ring compiled in the backend, whoever may look it up
REVOKE EXECUTE ON FUNCTION ring_cache_info() FROM PUBLIC;

-- ring_migrate: every operator schema-qualified, the servers' tables
-- checked against the coordinator's, cascading foreign keys refused
DROP PROCEDURE ring_migrate(regclass, name, text, integer, integer, integer, boolean);
CREATE PROCEDURE ring_migrate(tbl regclass, key_column name, ring text,
                              old_version integer, new_version integer,
                              batch_size integer DEFAULT 10000,
                              verify boolean DEFAULT true,
                              cascade_deletes boolean DEFAULT false)
    LANGUAGE plpgsql
    AS $proc$
DECLARE
    nsp name;
    rel name;
    keytype text;
    keytypeid regtype;
    key_default_collation boolean;
    here_collation text;
    there_collation text;
    key_eq text;
    key_le text;
    key_gt text;
    cols text;
    colnames text;
    ncols integer;
    mig consistent_ring.migrations;
    srv record;
    bad record;
    src text;
    last_key text;
    scanned bigint;
    chunk_last text;
    moves jsonb;
    dest record;
    keys text[];
    nrows bigint;
    batch_keys bigint;
    batch_rows bigint;
    batch_no bigint;
    q text;
    cols_query text;
    catalog_cols text;
    catalog_table text;
    nrows_there bigint;
    totals record;
    lock_key integer;
    resuming boolean;
BEGIN
    IF tbl IS NULL OR key_column IS NULL OR ring IS NULL OR old_version IS NULL
       OR new_version IS NULL OR batch_size IS NULL OR verify IS NULL OR cascade_deletes IS NULL THEN
        RAISE EXCEPTION 'arguments of ring_migrate must not be null'
            USING ERRCODE = 'null_value_not_allowed';
    END IF;
    IF batch_size OPERATOR(pg_catalog.<) 1 THEN
        RAISE EXCEPTION 'batch_size must be at least 1' USING ERRCODE = 'invalid_parameter_value';
    END IF;
    SELECT n.nspname, c.relname INTO nsp, rel
      FROM pg_catalog.pg_class c JOIN pg_catalog.pg_namespace n ON n.oid OPERATOR(pg_catalog.=) c.relnamespace
     WHERE c.oid OPERATOR(pg_catalog.=) tbl;
    IF rel IS NULL THEN
        RAISE EXCEPTION 'relation with OID % does not exist', tbl::oid USING ERRCODE = 'undefined_table';
    END IF;
    SELECT pg_catalog.format_type(a.atttypid, a.atttypmod), a.atttypid,
           a.attcollation OPERATOR(pg_catalog.=) 100::pg_catalog.oid    -- "default"
      INTO keytype, keytypeid, key_default_collation
      FROM pg_catalog.pg_attribute a
     WHERE a.attrelid OPERATOR(pg_catalog.=) tbl AND a.attname OPERATOR(pg_catalog.=) key_column
       AND a.attnum OPERATOR(pg_catalog.>) 0 AND NOT a.attisdropped;
    IF keytype IS NULL THEN
        RAISE EXCEPTION 'column "%" of relation "%" does not exist', key_column, tbl
            USING ERRCODE = 'undefined_column';
    END IF;
    SELECT pg_catalog.format('LC_COLLATE %s, LC_CTYPE %s', d.datcollate, d.datctype) INTO here_collation
      FROM pg_catalog.pg_database d WHERE d.datname OPERATOR(pg_catalog.=) pg_catalog.current_database();
    key_eq := consistent_ring.key_operator(keytypeid, '=');
    key_le := consistent_ring.key_operator(keytypeid, '<=');
    key_gt := consistent_ring.key_operator(keytypeid, '>');
    -- the columns as the coordinator's table has them, collations included
    -- (key order is the key column's collation's)
    SELECT pg_catalog.string_agg(pg_catalog.format('%I %s%s', a.attname, pg_catalog.format_type(a.atttypid, a.atttypmod),
                                                   CASE WHEN a.attcollation OPERATOR(pg_catalog.<>) t.typcollation
                                                        THEN pg_catalog.format(' COLLATE %I.%I', cn.nspname, co.collname)
                                                        ELSE '' END),
                                 ', ' ORDER BY a.attnum),
           pg_catalog.string_agg(pg_catalog.format('%I', a.attname), ', ' ORDER BY a.attnum),
           pg_catalog.count(*)
      INTO cols, colnames, ncols
      FROM pg_catalog.pg_attribute a
      JOIN pg_catalog.pg_type t ON t.oid OPERATOR(pg_catalog.=) a.atttypid
      LEFT JOIN pg_catalog.pg_collation co ON co.oid OPERATOR(pg_catalog.=) a.attcollation
      LEFT JOIN pg_catalog.pg_namespace cn ON cn.oid OPERATOR(pg_catalog.=) co.collnamespace
     WHERE a.attrelid OPERATOR(pg_catalog.=) tbl AND a.attnum OPERATOR(pg_catalog.>) 0
       AND NOT a.attisdropped AND a.attgenerated OPERATOR(pg_catalog.=) '';
    IF NOT consistent_ring.may_change(ring) THEN
        PERFORM @extschema@.ring_version(ring);     -- does not exist, or may not be looked up
        RAISE EXCEPTION 'must be owner of ring "%"', ring USING ERRCODE = 'insufficient_privilege';
    END IF;

    -- every node of both versions on a postgres_fdw server
    FOR bad IN
        SELECT v.version, n.node, n.server, w.fdwname
          FROM pg_catalog.unnest(ARRAY[old_version, new_version]) v(version)
          CROSS JOIN LATERAL @extschema@.ring_nodes_at(ring, v.version) n
          LEFT JOIN pg_catalog.pg_foreign_server s ON s.srvname OPERATOR(pg_catalog.=) n.server
          LEFT JOIN pg_catalog.pg_foreign_data_wrapper w ON w.oid OPERATOR(pg_catalog.=) s.srvfdw
         WHERE (w.fdwname OPERATOR(pg_catalog.=) 'postgres_fdw') IS NOT TRUE
    LOOP
        IF bad.server IS NULL THEN
            RAISE EXCEPTION 'node "%" of ring "%" has no server in version %', bad.node, ring, bad.version
                USING ERRCODE = 'object_not_in_prerequisite_state',
                      HINT = 'Name its foreign server with ring_set_server().';
        ELSIF bad.fdwname IS NULL THEN
            RAISE EXCEPTION 'server "%" does not exist', bad.server USING ERRCODE = 'undefined_object';
        ELSE
            RAISE EXCEPTION 'server "%" does not use postgres_fdw', bad.server
                USING ERRCODE = 'feature_not_supported',
                      DETAIL = pg_catalog.format('Its foreign-data wrapper is %s.', bad.fdwname);
        END IF;
    END LOOP;

    SELECT * INTO mig FROM consistent_ring.migrations m
     WHERE m.ring OPERATOR(pg_catalog.=) ring_migrate.ring AND m.table_schema OPERATOR(pg_catalog.=) nsp
       AND m.table_name OPERATOR(pg_catalog.=) rel AND m.finished_at IS NULL;
    resuming := FOUND;
    IF resuming AND (mig.old_version OPERATOR(pg_catalog.<>) ring_migrate.old_version
                  OR mig.new_version OPERATOR(pg_catalog.<>) ring_migrate.new_version
                  OR mig.key_column OPERATOR(pg_catalog.<>) ring_migrate.key_column) THEN
        RAISE EXCEPTION 'table % has an unfinished migration of ring "%" from version % to version %',
                        tbl, ring, mig.old_version, mig.new_version
            USING ERRCODE = 'object_not_in_prerequisite_state',
                  HINT = pg_catalog.format('Finish it first: CALL ring_migrate(%L, %L, %L, %s, %s).',
                                           tbl, mig.key_column, ring, mig.old_version, mig.new_version);
    END IF;

    -- One session at a time moves a table by a ring (the key 'ring' =
    -- 1919510119, then a hash of the ring and table): a session-level
    -- advisory lock, kept across the commits, released at the end (or when
    -- the session ends: a run that failed keeps it until then, and may be
    -- resumed in the same session).
    lock_key := pg_catalog.hashtext(pg_catalog.format('%s.%s', ring, tbl::oid));
    IF NOT EXISTS (SELECT FROM pg_catalog.pg_locks l
                    WHERE l.locktype OPERATOR(pg_catalog.=) 'advisory' AND l.pid OPERATOR(pg_catalog.=) pg_catalog.pg_backend_pid()
                      AND l.classid OPERATOR(pg_catalog.=) 1919510119::oid AND l.objid OPERATOR(pg_catalog.=) lock_key::oid
                      AND l.objsubid OPERATOR(pg_catalog.=) 2 AND l.granted)
       AND NOT pg_catalog.pg_try_advisory_lock(1919510119, lock_key) THEN
        RAISE EXCEPTION 'table % is being migrated by ring "%" in another session', tbl, ring
            USING ERRCODE = 'object_in_use',
                  DETAIL = pg_catalog.format('The session with PID %s holds the migration.',
                                             (SELECT l.pid FROM pg_catalog.pg_locks l
                                               WHERE l.locktype OPERATOR(pg_catalog.=) 'advisory'
                                                 AND l.classid OPERATOR(pg_catalog.=) 1919510119::oid
                                                 AND l.objid OPERATOR(pg_catalog.=) lock_key::oid
                                                 AND l.objsubid OPERATOR(pg_catalog.=) 2 AND l.granted LIMIT 1)),
                  HINT = 'A run that failed keeps the migration until its session ends; resume it there, or end that session.';
    END IF;

    IF resuming THEN
        RAISE NOTICE 'ring_migrate: resuming migration % of % from version % to version %',
                     mig.migration_id, tbl, old_version, new_version;
    ELSE
        INSERT INTO consistent_ring.migrations (ring, table_schema, table_name, key_column, old_version, new_version)
             VALUES (ring, nsp, rel, key_column, old_version, new_version)
          RETURNING * INTO mig;
        -- Sources: the servers of the nodes that give ranges away
        -- (ring_moves) or whose server changes; all servers of the old
        -- version where ring_moves does not apply.
        BEGIN
            INSERT INTO consistent_ring.migration_servers (migration_id, ring, server, source)
            SELECT mig.migration_id, ring, x.server, pg_catalog.bool_or(x.source)
              FROM (SELECT o.server,
                           o.node OPERATOR(pg_catalog.=) ANY (SELECT mv.from_node FROM @extschema@.ring_moves(ring, old_version, new_version) mv)
                           OR (o.server OPERATOR(pg_catalog.=) n.server) IS NOT TRUE AS source
                      FROM @extschema@.ring_nodes_at(ring, old_version) o
                      LEFT JOIN @extschema@.ring_nodes_at(ring, new_version) n ON n.node OPERATOR(pg_catalog.=) o.node
                    UNION ALL
                    SELECT n.server, false FROM @extschema@.ring_nodes_at(ring, new_version) n) x
             GROUP BY x.server;
        EXCEPTION WHEN feature_not_supported THEN
            INSERT INTO consistent_ring.migration_servers (migration_id, ring, server, source)
            SELECT mig.migration_id, ring, x.server, pg_catalog.bool_or(x.source)
              FROM (SELECT o.server, true AS source FROM @extschema@.ring_nodes_at(ring, old_version) o
                    UNION ALL
                    SELECT n.server, false FROM @extschema@.ring_nodes_at(ring, new_version) n) x
             GROUP BY x.server;
        END;
    END IF;

    -- a temporary foreign table for each server's part of the table
    FOR srv IN SELECT ms.server FROM consistent_ring.migration_servers ms
                WHERE ms.migration_id OPERATOR(pg_catalog.=) mig.migration_id
    LOOP
        IF pg_catalog.to_regclass(consistent_ring.migration_table(srv.server)) IS NOT NULL THEN
            EXECUTE pg_catalog.format('DROP FOREIGN TABLE %s', consistent_ring.migration_table(srv.server));
        END IF;
        -- use_remote_estimate: with the servers' row estimates the planner
        -- sends a batch's LIMIT to the server (no estimates, no LIMIT)
        EXECUTE pg_catalog.format('CREATE FOREIGN TABLE %s (%s) SERVER %I'
                                  ' OPTIONS (schema_name %L, table_name %L, fetch_size %L, batch_size %L,'
                                  ' use_remote_estimate %L)',
                                  consistent_ring.migration_table(srv.server), cols, srv.server, nsp, rel,
                                  '1000', GREATEST(1, LEAST(1000, 65535 OPERATOR(pg_catalog./) ncols))::text, 'true');
    END LOOP;

    -- Before anything moves, each server's table must have the
    -- coordinator's columns: the copy names the coordinator's, so a column
    -- only a server has would lose its values with the source rows (and
    -- the checksums, over the same columns, would not notice).  Columns are
    -- compared as information_schema.columns describes them, here and on
    -- each server (read through a foreign table).
    cols_query := 'SELECT c.column_name::text AS name, pg_catalog.concat_ws('' '','
        ' CASE WHEN c.domain_name IS NOT NULL THEN pg_catalog.format(''%%I.%%I'', c.domain_schema, c.domain_name)'
        '      WHEN c.data_type::text OPERATOR(pg_catalog.=) ANY (''{USER-DEFINED,ARRAY}''::text[])'
        '      THEN pg_catalog.format(''%%I.%%I'', c.udt_schema, c.udt_name)'
        '      ELSE c.data_type::text END,'
        ' CASE WHEN c.character_maximum_length IS NOT NULL'
        '      THEN pg_catalog.format(''(%%s)'', c.character_maximum_length) END,'
        ' CASE WHEN c.data_type::text OPERATOR(pg_catalog.=) ''numeric'' AND c.numeric_precision IS NOT NULL'
        '      THEN pg_catalog.format(''(%%s,%%s)'', c.numeric_precision, c.numeric_scale) END,'
        ' CASE WHEN c.datetime_precision IS NOT NULL'
        '      THEN pg_catalog.format(''precision %%s'', c.datetime_precision) END,'
        ' c.interval_type::text,'
        ' CASE WHEN c.collation_name IS NOT NULL'
        '      THEN pg_catalog.format(''COLLATE %%I.%%I'', c.collation_schema, c.collation_name) END,'
        ' CASE WHEN c.is_nullable::text OPERATOR(pg_catalog.=) ''NO'' THEN ''NOT NULL'' END,'
        ' CASE WHEN c.is_generated::text OPERATOR(pg_catalog.=) ''ALWAYS'''
        '      THEN pg_catalog.format(''GENERATED ALWAYS AS %%s'', c.generation_expression) END) AS descr'
        ' FROM %s c WHERE c.table_schema::text OPERATOR(pg_catalog.=) $1'
        ' AND c.table_name::text OPERATOR(pg_catalog.=) $2';
    FOR srv IN SELECT ms.server, ms.source FROM consistent_ring.migration_servers ms
                WHERE ms.migration_id OPERATOR(pg_catalog.=) mig.migration_id ORDER BY ms.server
    LOOP
        IF pg_catalog.to_regclass(consistent_ring.migration_table(srv.server, 'columns')) IS NOT NULL THEN
            EXECUTE pg_catalog.format('DROP FOREIGN TABLE %s', consistent_ring.migration_table(srv.server, 'columns'));
        END IF;
        EXECUTE pg_catalog.format('CREATE FOREIGN TABLE %s (table_schema text, table_name text, column_name text,'
                                  ' data_type text, udt_schema text, udt_name text, character_maximum_length integer,'
                                  ' numeric_precision integer, numeric_scale integer, datetime_precision integer,'
                                  ' interval_type text, collation_schema text, collation_name text, is_nullable text,'
                                  ' is_generated text, generation_expression text, domain_schema text, domain_name text)'
                                  ' SERVER %I OPTIONS (schema_name %L, table_name %L)',
                                  consistent_ring.migration_table(srv.server, 'columns'), srv.server,
                                  'information_schema', 'columns');
        EXECUTE pg_catalog.format('SELECT pg_catalog.count(*) FROM (%s) r',
                                  pg_catalog.format(cols_query, consistent_ring.migration_table(srv.server, 'columns')))
           INTO nrows_there USING nsp, rel;
        IF nrows_there OPERATOR(pg_catalog.=) 0 THEN
            RAISE EXCEPTION 'relation "%.%" does not exist on server "%"', nsp, rel, srv.server
                USING ERRCODE = 'undefined_table',
                      HINT = 'ring_migrate moves rows between tables of the same name on every server, and needs the privilege to read and write them.';
        END IF;
        EXECUTE pg_catalog.format('SELECT COALESCE(l.name, r.name) AS name, l.descr AS here, r.descr AS there'
                                  ' FROM (%s) l FULL JOIN (%s) r ON l.name OPERATOR(pg_catalog.=) r.name'
                                  ' WHERE (l.descr OPERATOR(pg_catalog.=) r.descr) IS NOT TRUE ORDER BY 1 LIMIT 1',
                                  pg_catalog.format(cols_query, 'information_schema.columns'),
                                  pg_catalog.format(cols_query, consistent_ring.migration_table(srv.server, 'columns')))
           INTO bad USING nsp, rel;
        EXECUTE pg_catalog.format('DROP FOREIGN TABLE %s', consistent_ring.migration_table(srv.server, 'columns'));
        IF bad.name IS NOT NULL AND bad.here IS NULL THEN
            RAISE EXCEPTION 'column "%" of relation "%.%" on server "%" is not a column of relation "%"', bad.name, nsp, rel, srv.server, tbl
                USING ERRCODE = 'undefined_column',
                      DETAIL = 'ring_migrate copies the columns of the coordinator''s table: the values of that column would be lost.',
                      HINT = 'Give the coordinator''s table the same columns as the servers''.';
        ELSIF bad.name IS NOT NULL AND bad.there IS NULL THEN
            RAISE EXCEPTION 'column "%" of relation "%" is not a column of relation "%.%" on server "%"', bad.name, tbl, nsp, rel, srv.server
                USING ERRCODE = 'undefined_column',
                      HINT = 'Give the coordinator''s table the same columns as the servers''.';
        ELSIF bad.name IS NOT NULL THEN
            RAISE EXCEPTION 'column "%" of relation "%.%" on server "%" differs from the column of relation "%"', bad.name, nsp, rel, srv.server, tbl
                USING ERRCODE = 'datatype_mismatch',
                      DETAIL = pg_catalog.format('It is %s on the coordinator, %s on the server.', bad.here, bad.there),
                      HINT = 'Give the coordinator''s table the same columns as the servers''.';
        END IF;

        -- A key column of the database's default collation is ordered by
        -- each server's default (postgres_fdw sends key comparisons there,
        -- ring_route compares here): the defaults must be the same
        IF key_default_collation THEN
            FOR q, catalog_cols, catalog_table IN VALUES
                ('database', '(datname name, datcollate name, datctype name)', 'pg_catalog.pg_database'),
                ('catalog', '(catalog_name name)', 'information_schema.information_schema_catalog_name')
            LOOP
                IF pg_catalog.to_regclass(consistent_ring.migration_table(srv.server, q)) IS NOT NULL THEN
                    EXECUTE pg_catalog.format('DROP FOREIGN TABLE %s', consistent_ring.migration_table(srv.server, q));
                END IF;
                EXECUTE pg_catalog.format('CREATE FOREIGN TABLE %s %s SERVER %I OPTIONS (schema_name %L, table_name %L)',
                                          consistent_ring.migration_table(srv.server, q), catalog_cols, srv.server,
                                          pg_catalog.split_part(catalog_table, '.', 1), pg_catalog.split_part(catalog_table, '.', 2));
            END LOOP;
            EXECUTE pg_catalog.format('SELECT pg_catalog.format(''LC_COLLATE %%s, LC_CTYPE %%s'', d.datcollate, d.datctype)'
                                      '  FROM %s d JOIN %s c ON d.datname OPERATOR(pg_catalog.=) c.catalog_name',
                                      consistent_ring.migration_table(srv.server, 'database'),
                                      consistent_ring.migration_table(srv.server, 'catalog'))
               INTO there_collation;
            EXECUTE pg_catalog.format('DROP FOREIGN TABLE %s, %s', consistent_ring.migration_table(srv.server, 'database'),
                                      consistent_ring.migration_table(srv.server, 'catalog'));
            IF (there_collation OPERATOR(pg_catalog.=) here_collation) IS NOT TRUE THEN
                RAISE EXCEPTION 'the default collation of server "%" differs from the coordinator''s', srv.server
                    USING ERRCODE = 'collation_mismatch',
                          DETAIL = pg_catalog.format('Key column "%s" has the default collation, which is %s on the coordinator and %s on the server.',
                                                     key_column, here_collation, COALESCE(there_collation, 'unknown')),
                          HINT = 'Give the key column an explicit collation, the same on every server.';
            END IF;
        END IF;

        -- Deleting rows must not reach other tables through a foreign key:
        -- the moved rows at a source, or at a destination the copies an
        -- interrupted run left there (its pg_catalog read through foreign
        -- tables)
        CONTINUE WHEN cascade_deletes;
        FOR q, catalog_cols IN VALUES
            ('constraint', '(conname name, contype "char", confdeltype "char", conrelid oid, confrelid oid)'),
            ('class', '(oid oid, relname name, relnamespace oid)'),
            ('namespace', '(oid oid, nspname name)')
        LOOP
            IF pg_catalog.to_regclass(consistent_ring.migration_table(srv.server, q)) IS NOT NULL THEN
                EXECUTE pg_catalog.format('DROP FOREIGN TABLE %s', consistent_ring.migration_table(srv.server, q));
            END IF;
            EXECUTE pg_catalog.format('CREATE FOREIGN TABLE %s %s SERVER %I OPTIONS (schema_name %L, table_name %L)',
                                      consistent_ring.migration_table(srv.server, q), catalog_cols, srv.server,
                                      'pg_catalog', 'pg_' OPERATOR(pg_catalog.||) q);
        END LOOP;
        EXECUTE pg_catalog.format(
            'SELECT con.conname, pg_catalog.format(''%%s.%%s'', rn.nspname, r.relname) AS referencing,'
            '       con.confdeltype OPERATOR(pg_catalog.=) ''c'' AS cascades'
            '  FROM %1$s con'
            '  JOIN %2$s t ON t.oid OPERATOR(pg_catalog.=) con.confrelid'
            '  JOIN %3$s tn ON tn.oid OPERATOR(pg_catalog.=) t.relnamespace'
            '  JOIN %2$s r ON r.oid OPERATOR(pg_catalog.=) con.conrelid'
            '  JOIN %3$s rn ON rn.oid OPERATOR(pg_catalog.=) r.relnamespace'
            ' WHERE con.contype OPERATOR(pg_catalog.=) ''f'''
            '   AND con.confdeltype OPERATOR(pg_catalog.=) ANY (''{c,n,d}''::"char"[])'
            '   AND tn.nspname OPERATOR(pg_catalog.=) $1 AND t.relname OPERATOR(pg_catalog.=) $2'
            ' ORDER BY 2, 1 LIMIT 1',
            consistent_ring.migration_table(srv.server, 'constraint'), consistent_ring.migration_table(srv.server, 'class'),
            consistent_ring.migration_table(srv.server, 'namespace'))
           INTO bad USING nsp, rel;
        EXECUTE pg_catalog.format('DROP FOREIGN TABLE %s, %s, %s', consistent_ring.migration_table(srv.server, 'constraint'),
                                  consistent_ring.migration_table(srv.server, 'class'),
                                  consistent_ring.migration_table(srv.server, 'namespace'));
        IF bad.conname IS NOT NULL THEN
            RAISE EXCEPTION 'deleting moved rows of "%.%" on server "%" would cascade to "%" through foreign key "%"',
                            nsp, rel, srv.server, bad.referencing, bad.conname
                USING ERRCODE = 'dependent_objects_still_exist',
                      DETAIL = pg_catalog.format('Deleting a moved row at the source would %s the rows of "%s" that refer to it.',
                                                 CASE WHEN bad.cascades THEN 'delete' ELSE 'change' END, bad.referencing),
                      HINT = 'Pass cascade_deletes => true if that is what should happen to them.';
        END IF;
    END LOOP;

    -- row counts and checksums before anything moves
    IF verify THEN
        FOR srv IN SELECT ms.server FROM consistent_ring.migration_servers ms
                    WHERE ms.migration_id OPERATOR(pg_catalog.=) mig.migration_id AND ms.rows_before IS NULL
        LOOP
            EXECUTE pg_catalog.format('SELECT pg_catalog.count(*) AS nrows, COALESCE(pg_catalog.sum(pg_catalog.hashtextextended(t::text, 0)), 0) AS checksum FROM %s t',
                                      consistent_ring.migration_table(srv.server))
               INTO totals;
            UPDATE consistent_ring.migration_servers ms
               SET rows_before = totals.nrows, checksum_before = totals.checksum
             WHERE ms.migration_id OPERATOR(pg_catalog.=) mig.migration_id AND ms.server OPERATOR(pg_catalog.=) srv.server;
        END LOOP;
    END IF;
    COMMIT;

    FOR srv IN SELECT ms.server, ms.last_key, ms.batches, ms.done, ms.pending_delete, ms.pending_after
                 FROM consistent_ring.migration_servers ms
                WHERE ms.migration_id OPERATOR(pg_catalog.=) mig.migration_id AND ms.source
                  AND (NOT ms.done OR ms.pending_delete)
                ORDER BY ms.server
    LOOP
        src := srv.server;
        last_key := srv.last_key;
        batch_no := srv.batches;
        -- an interrupted run committed a batch's progress but not its
        -- delete at the source: the keys after pending_after up to last_key
        -- that belong elsewhere are deleted first
        IF srv.pending_delete THEN
            EXECUTE pg_catalog.format(
                'SELECT pg_catalog.array_agg(s.k::text) FROM'
                ' (SELECT t.%1$I AS k FROM %2$s t WHERE %3$s AND t.%1$I %5$s $2::%4$s GROUP BY t.%1$I) s'
                ' WHERE @extschema@.ring_server($3, s.k, $4) OPERATOR(pg_catalog.<>) $5',
                key_column, consistent_ring.migration_table(src),
                CASE WHEN srv.pending_after IS NULL THEN pg_catalog.format('t.%I IS NOT NULL', key_column)
                     ELSE pg_catalog.format('t.%I %s $1::%s', key_column, key_gt, keytype) END,
                keytype, key_le)
              INTO keys USING srv.pending_after, last_key, ring, new_version, src;
            IF keys IS NOT NULL THEN
                EXECUTE pg_catalog.format('DELETE FROM %s WHERE %I %s ANY ($1::%s[])',
                                          consistent_ring.migration_table(src), key_column, key_eq, keytype)
                  USING keys;
            END IF;
            UPDATE consistent_ring.migration_servers ms SET pending_delete = false, pending_after = NULL
             WHERE ms.migration_id OPERATOR(pg_catalog.=) mig.migration_id AND ms.server OPERATOR(pg_catalog.=) src;
            COMMIT;
            RAISE NOTICE 'ring_migrate: server %, batch %: % keys deleted at the source (an interrupted run had copied them)',
                         src, batch_no, COALESCE(pg_catalog.cardinality(keys), 0);
            CONTINUE WHEN srv.done;
        END IF;
        LOOP
            -- the next keys of the source in key order, and those of them
            -- whose server in the new version is another, by server
            q := pg_catalog.format(
                'WITH chunk AS MATERIALIZED ('
                ' SELECT s.k, pg_catalog.row_number() OVER () AS n'
                '   FROM (SELECT t.%1$I AS k FROM %2$s t %3$s GROUP BY t.%1$I ORDER BY t.%1$I LIMIT %4$s) s)'
                ' SELECT (SELECT pg_catalog.count(*) FROM chunk),'
                '        (SELECT c.k::text FROM chunk c ORDER BY c.n DESC LIMIT 1),'
                '        (SELECT COALESCE(pg_catalog.jsonb_object_agg(g.dest, g.keys), ''{}'')'
                '           FROM (SELECT @extschema@.ring_server($1, c.k, $2) AS dest,'
                '                        pg_catalog.array_agg(c.k::text) AS keys'
                '                   FROM chunk c GROUP BY 1) g'
                '          WHERE g.dest OPERATOR(pg_catalog.<>) $3)',
                key_column, consistent_ring.migration_table(src),
                CASE WHEN last_key IS NULL THEN pg_catalog.format('WHERE t.%I IS NOT NULL', key_column)
                     ELSE pg_catalog.format('WHERE t.%I %s $4::%s', key_column, key_gt, keytype) END,
                batch_size);
            EXECUTE q INTO scanned, chunk_last, moves USING ring, new_version, src, last_key;
            EXIT WHEN scanned OPERATOR(pg_catalog.=) 0;

            -- 1. copy: replace whatever an interrupted run left at the
            -- destinations, commit there
            batch_keys := 0;
            batch_rows := 0;
            FOR dest IN SELECT e.key AS server, e.value AS keys FROM pg_catalog.jsonb_each(moves) e LOOP
                keys := ARRAY(SELECT pg_catalog.jsonb_array_elements_text(dest.keys));
                EXECUTE pg_catalog.format('DELETE FROM %s WHERE %I %s ANY ($1::%s[])',
                                          consistent_ring.migration_table(dest.server), key_column, key_eq, keytype)
                  USING keys;
                EXECUTE pg_catalog.format('INSERT INTO %s (%s) SELECT %s FROM %s WHERE %I %s ANY ($1::%s[])',
                                          consistent_ring.migration_table(dest.server), colnames, colnames,
                                          consistent_ring.migration_table(src), key_column, key_eq, keytype)
                  USING keys;
                GET DIAGNOSTICS nrows = ROW_COUNT;
                batch_keys := batch_keys OPERATOR(pg_catalog.+) pg_catalog.cardinality(keys);
                batch_rows := batch_rows OPERATOR(pg_catalog.+) nrows;
            END LOOP;
            COMMIT;

            -- 2. the batch's progress: from this commit on, ring_route
            -- sends readers of its keys to the new servers (which have
            -- them); their source rows are still to be deleted
            batch_no := batch_no OPERATOR(pg_catalog.+) 1;
            UPDATE consistent_ring.migration_servers ms
               SET last_key = chunk_last, batches = batch_no,
                   keys_moved = ms.keys_moved OPERATOR(pg_catalog.+) batch_keys,
                   rows_moved = ms.rows_moved OPERATOR(pg_catalog.+) batch_rows,
                   done = scanned OPERATOR(pg_catalog.<) batch_size,
                   pending_delete = batch_keys OPERATOR(pg_catalog.>) 0, pending_after = ms.last_key
             WHERE ms.migration_id OPERATOR(pg_catalog.=) mig.migration_id AND ms.server OPERATOR(pg_catalog.=) src;
            COMMIT;

            -- 3. delete them at the source
            IF batch_keys OPERATOR(pg_catalog.>) 0 THEN
                keys := ARRAY(SELECT pg_catalog.jsonb_array_elements_text(e.value) FROM pg_catalog.jsonb_each(moves) e);
                EXECUTE pg_catalog.format('DELETE FROM %s WHERE %I %s ANY ($1::%s[])',
                                          consistent_ring.migration_table(src), key_column, key_eq, keytype)
                  USING keys;
                UPDATE consistent_ring.migration_servers ms SET pending_delete = false, pending_after = NULL
                 WHERE ms.migration_id OPERATOR(pg_catalog.=) mig.migration_id AND ms.server OPERATOR(pg_catalog.=) src;
                COMMIT;
            END IF;
            RAISE NOTICE 'ring_migrate: server %, batch %: % keys read, % keys (% rows) moved',
                         src, batch_no, scanned, batch_keys, batch_rows;
            last_key := chunk_last;
            EXIT WHEN scanned OPERATOR(pg_catalog.<) batch_size;
        END LOOP;
        UPDATE consistent_ring.migration_servers ms SET done = true
         WHERE ms.migration_id OPERATOR(pg_catalog.=) mig.migration_id AND ms.server OPERATOR(pg_catalog.=) src;
        COMMIT;
    END LOOP;

    -- every row on its server of the new version, none lost, none twice
    IF verify THEN
        FOR srv IN SELECT ms.server FROM consistent_ring.migration_servers ms
                    WHERE ms.migration_id OPERATOR(pg_catalog.=) mig.migration_id
        LOOP
            EXECUTE pg_catalog.format('SELECT pg_catalog.count(*) AS nrows, COALESCE(pg_catalog.sum(pg_catalog.hashtextextended(t::text, 0)), 0) AS checksum,'
                                      ' pg_catalog.count(*) FILTER (WHERE t.%1$I IS NOT NULL'
                                      ' AND (@extschema@.ring_server($1, t.%1$I, $2) OPERATOR(pg_catalog.=) $3) IS NOT TRUE) AS misplaced'
                                      ' FROM %2$s t', key_column, consistent_ring.migration_table(srv.server))
               INTO totals USING ring, new_version, srv.server;
            UPDATE consistent_ring.migration_servers ms
               SET rows_after = totals.nrows, checksum_after = totals.checksum, misplaced_after = totals.misplaced
             WHERE ms.migration_id OPERATOR(pg_catalog.=) mig.migration_id AND ms.server OPERATOR(pg_catalog.=) srv.server;
        END LOOP;
        FOR srv IN SELECT ms.* FROM consistent_ring.migration_servers ms
                    WHERE ms.migration_id OPERATOR(pg_catalog.=) mig.migration_id ORDER BY ms.server
        LOOP
            RAISE NOTICE 'ring_migrate: server %: % rows before, % after (checksum % / %), % misplaced',
                         srv.server, srv.rows_before, srv.rows_after, srv.checksum_before, srv.checksum_after,
                         srv.misplaced_after;
        END LOOP;
        SELECT pg_catalog.sum(ms.rows_before) AS rows_before, pg_catalog.sum(ms.rows_after) AS rows_after,
               pg_catalog.sum(ms.checksum_before) AS checksum_before, pg_catalog.sum(ms.checksum_after) AS checksum_after,
               pg_catalog.sum(ms.misplaced_after) AS misplaced
          INTO totals
          FROM consistent_ring.migration_servers ms
         WHERE ms.migration_id OPERATOR(pg_catalog.=) mig.migration_id;
        UPDATE consistent_ring.migrations m
           SET finished_at = pg_catalog.now(),
               verified = totals.rows_before OPERATOR(pg_catalog.=) totals.rows_after
                          AND totals.checksum_before OPERATOR(pg_catalog.=) totals.checksum_after
                          AND totals.misplaced OPERATOR(pg_catalog.=) 0
         WHERE m.migration_id OPERATOR(pg_catalog.=) mig.migration_id
        RETURNING m.verified INTO mig.verified;
        COMMIT;
        IF NOT mig.verified THEN
            PERFORM pg_catalog.pg_advisory_unlock(1919510119, lock_key);
            RAISE EXCEPTION 'migration % of % did not verify', mig.migration_id, tbl
                USING ERRCODE = 'data_corrupted',
                      DETAIL = pg_catalog.format('Rows before: %s, after: %s; checksum before: %s, after: %s; rows not on their server: %s.',
                                                 totals.rows_before, totals.rows_after, totals.checksum_before,
                                                 totals.checksum_after, totals.misplaced),
                      HINT = 'Rows written to the table during the migration change the counts: pass verify => false if that is expected.';
        END IF;
    ELSE
        UPDATE consistent_ring.migrations m SET finished_at = pg_catalog.now()
         WHERE m.migration_id OPERATOR(pg_catalog.=) mig.migration_id;
        COMMIT;
    END IF;
    SELECT pg_catalog.sum(ms.keys_moved) AS keys, pg_catalog.sum(ms.rows_moved) AS rows INTO totals
      FROM consistent_ring.migration_servers ms WHERE ms.migration_id OPERATOR(pg_catalog.=) mig.migration_id;
    PERFORM pg_catalog.pg_advisory_unlock(1919510119, lock_key);
    RAISE NOTICE 'ring_migrate: migration % of % from version % to version % done: % keys (% rows) moved',
                 mig.migration_id, tbl, old_version, new_version, totals.keys, totals.rows;
END
$proc$;
COMMENT ON PROCEDURE ring_migrate(regclass, name, text, integer, integer, integer, boolean, boolean) IS
    'move the rows of a table from their servers in one version of a ring to their servers in another, over postgres_fdw; resumable';
