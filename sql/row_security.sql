--
-- Row security: every table of the extension, found in the catalog (so a
-- table added later is covered), written to by a role that owns nothing
-- and by one that owns another ring.  The ring catalog is closed to both;
-- the migration tables let a ring's owner change only its own rows, and a
-- progress row belongs to the ring of its migration.
--
CREATE ROLE regress_rls_nobody;
CREATE ROLE regress_rls_alice;
CREATE ROLE regress_rls_mallory;

-- alice: a ring with a pin, a 'slots' ring (stored tokens), a migration
SET ROLE regress_rls_alice;
SELECT ring_create('rls_alice');
SELECT ring_add_node('rls_alice', 'a1'), ring_add_node('rls_alice', 'a2');
SELECT ring_pin('rls_alice', 'pinned', 'a1');
SELECT ring_create('rls_alice_slots', 'slots', slots => 16);
SELECT ring_add_node('rls_alice_slots', 's1');
INSERT INTO consistent_ring.migrations (ring, table_schema, table_name, key_column, old_version, new_version)
     VALUES ('rls_alice', 'public', 'alice_table', 'k', 1, 2);
INSERT INTO consistent_ring.migration_servers (migration_id, ring, server, source)
     SELECT migration_id, ring, 'alice_server', true FROM consistent_ring.migrations WHERE ring = 'rls_alice';
-- mallory: a ring and a migration of her own
SET ROLE regress_rls_mallory;
SELECT ring_create('rls_mallory');
SELECT ring_add_node('rls_mallory', 'm1');
INSERT INTO consistent_ring.migrations (ring, table_schema, table_name, key_column, old_version, new_version)
     VALUES ('rls_mallory', 'public', 'mallory_table', 'k', 0, 1);
INSERT INTO consistent_ring.migration_servers (migration_id, ring, server, source)
     SELECT migration_id, ring, 'mallory_server', true FROM consistent_ring.migrations WHERE ring = 'rls_mallory';
RESET ROLE;
SELECT migration_id AS alice_migration FROM consistent_ring.migrations WHERE ring = 'rls_alice' \gset
SELECT migration_id AS mallory_migration FROM consistent_ring.migrations WHERE ring = 'rls_mallory' \gset

-- the extension's tables and sequences, from the catalog
CREATE TABLE rls_objects AS
SELECT c.oid::regclass AS obj, c.relkind
  FROM pg_depend d JOIN pg_class c ON c.oid = d.objid
 WHERE d.classid = 'pg_class'::regclass AND d.refclassid = 'pg_extension'::regclass
   AND d.refobjid = (SELECT oid FROM pg_extension WHERE extname = 'consistent_ring')
   AND d.deptype = 'e' AND c.relkind IN ('r', 'S');
SELECT obj, relkind FROM rls_objects ORDER BY obj::text;

-- every row of every table, as it is before the attempts
CREATE FUNCTION rls_rows(obj regclass) RETURNS SETOF jsonb LANGUAGE plpgsql AS $$
BEGIN
    RETURN QUERY EXECUTE format('SELECT to_jsonb(t) FROM %s t', obj);
END
$$;
CREATE TABLE rls_before AS
SELECT o.obj, r.j FROM rls_objects o, rls_rows(o.obj) r(j) WHERE o.relkind = 'r';

-- Each attempt runs in a subtransaction that is always rolled back: its
-- outcome is the error it raised, or the rows it touched (and their rings).
CREATE FUNCTION rls_attempt(stmt text) RETURNS text LANGUAGE plpgsql AS $$
DECLARE
    n bigint;
    rings text;
BEGIN
    BEGIN
        EXECUTE stmt INTO n, rings;
        RAISE EXCEPTION USING ERRCODE = 'QA001', MESSAGE = coalesce(n::text, '0') || ' rows' ||
              coalesce(' of ' || rings, '');
    EXCEPTION
        WHEN SQLSTATE 'QA001' THEN RETURN SQLERRM;
        WHEN OTHERS THEN RETURN 'error ' || SQLSTATE;
    END;
END
$$;
GRANT EXECUTE ON FUNCTION rls_attempt(text) TO PUBLIC;
GRANT SELECT ON rls_objects, rls_before TO PUBLIC;

-- INSERT copies of the existing rows (rows that claim others' rings),
-- UPDATE and DELETE every row, TRUNCATE; for sequences, setval and nextval
CREATE FUNCTION rls_attempts() RETURNS TABLE (obj regclass, action text, outcome text) LANGUAGE sql AS $$
SELECT o.obj, a.action, rls_attempt(a.stmt)
  FROM rls_objects o,
       LATERAL (VALUES
           ('insert', format('WITH x AS (INSERT INTO %1$s AS t SELECT * FROM jsonb_populate_recordset(NULL::%1$s, %2$L) RETURNING to_jsonb(t) AS j)'
                             ' SELECT count(*), string_agg(DISTINCT coalesce(j->>''ring'', j->>''name''), '','') FROM x',
                             o.obj, (SELECT jsonb_agg(j) FROM rls_before b WHERE b.obj = o.obj))),
           ('update', format('WITH x AS (UPDATE %1$s t SET %2$I = t.%2$I RETURNING to_jsonb(t) AS j)'
                             ' SELECT count(*), string_agg(DISTINCT coalesce(j->>''ring'', j->>''name''), '','') FROM x',
                             o.obj, (SELECT attname FROM pg_attribute WHERE attrelid = o.obj AND attnum = 1))),
           ('delete', format('WITH x AS (DELETE FROM %1$s t RETURNING to_jsonb(t) AS j)'
                             ' SELECT count(*), string_agg(DISTINCT coalesce(j->>''ring'', j->>''name''), '','') FROM x',
                             o.obj)),
           ('truncate', format('TRUNCATE %s CASCADE', o.obj))) a(action, stmt)
 WHERE o.relkind = 'r'
UNION ALL
SELECT o.obj, a.action, rls_attempt(a.stmt)
  FROM rls_objects o,
       LATERAL (VALUES ('setval', format('SELECT setval(%L, 1), NULL::text', o.obj)),
                       ('nextval', format('SELECT 1, NULL::text FROM (SELECT nextval(%L)) s', o.obj))) a(action, stmt)
 WHERE o.relkind = 'S'
$$;
GRANT EXECUTE ON FUNCTION rls_attempts() TO PUBLIC;

SET ROLE regress_rls_nobody;
SELECT * FROM rls_attempts() ORDER BY obj::text, action;
SET ROLE regress_rls_mallory;
SELECT * FROM rls_attempts() ORDER BY obj::text, action;
RESET ROLE;

-- Rows that point at another owner's migration.
SET ROLE regress_rls_mallory;
-- error: a progress row for alice's migration, claiming mallory's ring
INSERT INTO consistent_ring.migration_servers (migration_id, ring, server, source)
     VALUES (:alice_migration, 'rls_mallory', 'mallory_server', true);
-- error: claiming alice's ring
INSERT INTO consistent_ring.migration_servers (migration_id, ring, server, source)
     VALUES (:alice_migration, 'rls_alice', 'mallory_server', true);
-- error: mallory's own progress row moved to alice's migration
UPDATE consistent_ring.migration_servers SET migration_id = :alice_migration
 WHERE migration_id = :mallory_migration;
-- error: or to alice's ring
UPDATE consistent_ring.migration_servers SET ring = 'rls_alice'
 WHERE migration_id = :mallory_migration;
-- error: mallory's migration handed to alice's ring
UPDATE consistent_ring.migrations SET ring = 'rls_alice' WHERE migration_id = :mallory_migration;
-- error: a migration of alice's ring
INSERT INTO consistent_ring.migrations (ring, table_schema, table_name, key_column, old_version, new_version)
     VALUES ('rls_alice', 'public', 'alice_table', 'k', 1, 2);
-- alice's rows are visible (her ring is public) and out of reach
SELECT ring, server FROM consistent_ring.migration_servers ORDER BY ring;
UPDATE consistent_ring.migration_servers SET phase = 'done' WHERE ring = 'rls_alice';
DELETE FROM consistent_ring.migrations WHERE ring = 'rls_alice';
RESET ROLE;

-- every table as it was (the attempts were rolled back, the statements
-- above refused)
SELECT o.obj,
       (SELECT count(*) FROM rls_before b WHERE b.obj = o.obj) AS rows_before,
       (SELECT count(*) FROM ((SELECT j FROM rls_before b WHERE b.obj = o.obj)
                              EXCEPT ALL SELECT rls_rows(o.obj)) d) AS rows_gone
  FROM rls_objects o WHERE o.relkind = 'r' ORDER BY obj::text;


-- a private ring's progress is hidden from those who may not look it up
SET ROLE regress_rls_alice;
SELECT ring_revoke('rls_alice', 'public');
SET ROLE regress_rls_mallory;
SELECT ring, server FROM consistent_ring.migration_servers ORDER BY ring;
SELECT ring, table_name FROM consistent_ring.migrations ORDER BY ring;
RESET ROLE;

SELECT ring_drop(r) FROM unnest('{rls_alice,rls_alice_slots,rls_mallory}'::text[]) r;
DROP FUNCTION rls_attempts(), rls_attempt(text), rls_rows(regclass);
DROP TABLE rls_objects, rls_before;
DROP ROLE regress_rls_nobody, regress_rls_alice, regress_rls_mallory;
