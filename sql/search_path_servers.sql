--
-- The functions that run SQL against servers - ring_migrate (its own
-- statements and the queries it builds), ring_route and the PL/Proxy
-- cluster functions - under a search_path that puts, before pg_catalog, a
-- look-alike of every pg_catalog comparison, arithmetic and concatenation
-- operator on the types they use, and of the functions they call.  None
-- may run: each raises "hijacked".
--
\set SHOW_CONTEXT never
CREATE EXTENSION IF NOT EXISTS postgres_fdw;
CREATE EXTENSION IF NOT EXISTS plproxy;
CREATE EXTENSION IF NOT EXISTS consistent_ring_plproxy;
SELECT current_setting('port') AS port,
       split_part(current_setting('unix_socket_directories'), ',', 1) AS sock \gset
CREATE DATABASE ring_sp_a;
CREATE DATABASE ring_sp_b;
CREATE SERVER sp_a FOREIGN DATA WRAPPER postgres_fdw OPTIONS (host :'sock', port :'port', dbname 'ring_sp_a');
CREATE SERVER sp_b FOREIGN DATA WRAPPER postgres_fdw OPTIONS (host :'sock', port :'port', dbname 'ring_sp_b');
CREATE USER MAPPING FOR CURRENT_USER SERVER sp_a;
CREATE USER MAPPING FOR CURRENT_USER SERVER sp_b;
\c ring_sp_a
CREATE EXTENSION consistent_ring;
CREATE TABLE items (id text COLLATE "C" PRIMARY KEY, v integer);
CREATE TABLE events (user_id bigint, n integer);
CREATE FUNCTION whereami(k text) RETURNS text LANGUAGE sql AS $$SELECT current_database()::text$$;
\c ring_sp_b
CREATE EXTENSION consistent_ring;
CREATE TABLE items (id text COLLATE "C" PRIMARY KEY, v integer);
CREATE TABLE events (user_id bigint, n integer);
CREATE FUNCTION whereami(k text) RETURNS text LANGUAGE sql AS $$SELECT current_database()::text$$;
\c contrib_regression
\set SHOW_CONTEXT never
CREATE TABLE items (id text COLLATE "C" PRIMARY KEY, v integer);
CREATE TABLE events (user_id bigint, n integer);
CREATE FOREIGN TABLE items_a (id text, v integer) SERVER sp_a OPTIONS (table_name 'items');
CREATE FOREIGN TABLE items_b (id text, v integer) SERVER sp_b OPTIONS (table_name 'items');
CREATE FOREIGN TABLE events_a (user_id bigint, n integer) SERVER sp_a OPTIONS (table_name 'events');
CREATE FOREIGN TABLE events_b (user_id bigint, n integer) SERVER sp_b OPTIONS (table_name 'events');
SELECT ring_create('sp');
SELECT ring_add_node('sp', 'a', server => 'sp_a');
INSERT INTO items_a SELECT 'item-' || i, i FROM generate_series(1, 1000) i;
INSERT INTO events_a SELECT u, j FROM generate_series(1, 500) u, generate_series(1, 2) j;
SELECT ring_add_node('sp', 'b', server => 'sp_b');
CREATE FUNCTION whereami(k text) RETURNS text LANGUAGE plproxy AS $$
    CLUSTER 'sp';
    RUN ON ring_partition('sp', k);
$$;

-- the look-alikes
CREATE SCHEMA evil;
DO $$
DECLARE
    o record;
    n integer := 0;
BEGIN
    -- every pg_catalog binary operator of these names on these types
    FOR o IN
        SELECT op.oprname, op.oprleft::regtype AS l, op.oprright::regtype AS r, op.oprresult::regtype AS res
          FROM pg_operator op
         WHERE op.oprnamespace = 'pg_catalog'::regnamespace
           AND op.oprname IN ('=', '<>', '<', '<=', '>', '>=', '+', '-', '*', '/', '%', '||')
           AND op.oprleft = ANY ('{smallint,integer,bigint,numeric,double precision,text,name,oid,boolean,"\"char\"",jsonb,regclass,regtype,regrole,text[],timestamp with time zone}'::regtype[])
           AND op.oprright = ANY ('{smallint,integer,bigint,numeric,double precision,text,name,oid,boolean,"\"char\"",jsonb,regclass,regtype,regrole,text[],timestamp with time zone}'::regtype[])
    LOOP
        n := n + 1;
        EXECUTE format('CREATE FUNCTION evil.op_%s(%s, %s) RETURNS %s LANGUAGE plpgsql AS '
                       '$f$BEGIN RAISE EXCEPTION ''hijacked %s(%s, %s)''; END$f$',
                       n, o.l, o.r, o.res, replace(o.oprname, '%', '%%'), o.l, o.r);
        EXECUTE format('CREATE OPERATOR evil.%s (LEFTARG = %s, RIGHTARG = %s, FUNCTION = evil.op_%s)',
                       o.oprname, o.l, o.r, n);
    END LOOP;
    RAISE NOTICE 'look-alike operators: %', n > 150;
    -- and of the plain functions of these names, argument types alike
    n := 0;
    FOR o IN
        SELECT p.proname, pg_get_function_identity_arguments(p.oid) AS args, p.prorettype::regtype AS res, p.proretset
          FROM pg_proc p
         WHERE p.pronamespace = 'pg_catalog'::regnamespace AND p.prokind = 'f'
           AND p.proname IN ('format', 'format_type', 'md5', 'now', 'hashtext', 'hashtextextended', 'to_regclass',
                             'cardinality', 'jsonb_each', 'jsonb_array_elements_text', 'pg_backend_pid',
                             'pg_try_advisory_lock', 'pg_advisory_unlock', 'unnest', 'concat_ws',
                             'quote_ident', 'quote_literal', 'row_number', 'length', 'octet_length', 'lower')
           AND NOT EXISTS (SELECT FROM unnest(p.proargtypes) t
                            WHERE t IN (SELECT oid FROM pg_type WHERE typtype = 'p'))
    LOOP
        n := n + 1;
        EXECUTE format('CREATE FUNCTION evil.%I(%s) RETURNS %s%s LANGUAGE plpgsql AS '
                       '$f$BEGIN RAISE EXCEPTION ''hijacked %s()''; END$f$',
                       o.proname, o.args, CASE WHEN o.proretset THEN 'SETOF ' ELSE '' END, o.res, o.proname);
    END LOOP;
    RAISE NOTICE 'look-alike functions: %', n > 20;
END
$$;
-- they do run when the path leads to them
SET search_path = evil, pg_catalog, public;
SELECT 1 + 1;
SELECT md5('x');
SELECT 'a'::text < 'b'::text;

-- the preflight
SET search_path = evil, pg_catalog, public;
CREATE TEMP TABLE preflight AS SELECT * FROM ring_migrate_check('items', 'id', 'sp', 1, 2);
RESET search_path;
SELECT server, destination, item, ok, rows FROM preflight ORDER BY server, item, destination;
-- ring_migrate, interrupted: the source refuses one delete once the keys
-- are cut over, so a resumed run takes the path that only deletes
\c ring_sp_a
CREATE FUNCTION refuse() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'the server refuses to delete %', OLD.id;
END $$;
CREATE TRIGGER refuse_delete BEFORE DELETE ON items
    FOR EACH ROW WHEN (OLD.id = 'item-500') EXECUTE FUNCTION refuse();
\c contrib_regression
\set SHOW_CONTEXT never
SET search_path = evil, pg_catalog, public;
SET client_min_messages = warning;
\set VERBOSITY terse
CALL ring_migrate('items', 'id', 'sp', 1, 2, batch_size => 100);
\set VERBOSITY default
-- ring_route while it is unfinished (checked below, on a harmless path)
CREATE TEMP TABLE routes AS
    SELECT id, ring_route('sp', id, 'items') AS route FROM items_a
    UNION SELECT id, ring_route('sp', id, 'items') FROM items_b;
RESET search_path;
SELECT count(*) AS keys,
       count(*) FILTER (WHERE route = 'sp_a' AND id IN (SELECT id FROM items_a)
                           OR route = 'sp_b' AND id IN (SELECT id FROM items_b)) AS routed_to_a_copy,
       count(*) FILTER (WHERE route = 'sp_b') AS moved
  FROM routes;
\c ring_sp_a
DROP TRIGGER refuse_delete ON items;
\c contrib_regression
\set SHOW_CONTEXT never
SET search_path = evil, pg_catalog, public;
SET client_min_messages = warning;
CALL ring_migrate('items', 'id', 'sp', 1, 2, batch_size => 100);
-- a bigint key, verified, with the guards' catalog reads
CALL ring_migrate('events', 'user_id', 'sp', 1, 2, batch_size => 70);
RESET client_min_messages;
-- the PL/Proxy cluster functions and a proxy function
CREATE TEMP TABLE proxied AS
    SELECT k, whereami(k) AS db FROM (SELECT 'item-' OPERATOR(pg_catalog.||) i::text AS k
                                        FROM pg_catalog.generate_series(1, 200) i) s;
CREATE TEMP TABLE cluster AS
    SELECT (SELECT pg_catalog.count(*) FROM plproxy.get_cluster_partitions('sp')) AS partitions,
           plproxy.get_cluster_version('sp') AS version,
           (SELECT pg_catalog.count(*) FROM plproxy.get_cluster_config('sp')) AS settings;
RESET search_path;
SELECT m.table_name, m.verified, sum(ms.rows_copied) AS rows_copied, sum(ms.rows_deleted) AS rows_deleted
  FROM consistent_ring.migrations m JOIN consistent_ring.migration_servers ms USING (migration_id, ring)
 WHERE m.ring = 'sp' GROUP BY 1, 2 ORDER BY 1;
SELECT partitions, version = ring_plproxy_version('sp') AS same_version, settings FROM cluster;
SELECT count(*) AS calls,
       count(*) FILTER (WHERE db = CASE WHEN ring_server('sp', k) = 'sp_a' THEN 'ring_sp_a' ELSE 'ring_sp_b' END) AS on_owner
  FROM proxied;

-- every row once, on its server of version 2
SELECT count(*) AS rows, count(*) FILTER (WHERE ring_server('sp', id, 2) IS DISTINCT FROM s) AS misplaced
  FROM (SELECT id, 'sp_a' AS s FROM items_a UNION ALL SELECT id, 'sp_b' FROM items_b) x;
SELECT count(*) AS rows, count(*) FILTER (WHERE ring_server('sp', user_id, 2) IS DISTINCT FROM s) AS misplaced
  FROM (SELECT user_id, 'sp_a' AS s FROM events_a UNION ALL SELECT user_id, 'sp_b' FROM events_b) x;

SET client_min_messages = warning;
DROP SCHEMA evil CASCADE;
DROP FUNCTION whereami(text);
SELECT ring_drop('sp');
DROP TABLE items, events;
DROP SERVER sp_a, sp_b CASCADE;
DROP EXTENSION postgres_fdw CASCADE;
RESET client_min_messages;
DROP DATABASE ring_sp_a WITH (FORCE);
DROP DATABASE ring_sp_b WITH (FORCE);
