--
-- A hostile search_path: look-alike functions and operators in a schema
-- searched before pg_catalog must never run, neither when the extension is
-- installed nor when its functions run.
--
CREATE SCHEMA evil;
CREATE FUNCTION evil.hijacked() RETURNS boolean LANGUAGE plpgsql AS
    $$BEGIN RAISE EXCEPTION 'hijacked'; END$$;
CREATE FUNCTION evil.now() RETURNS timestamptz LANGUAGE plpgsql AS
    $$BEGIN RAISE EXCEPTION 'hijacked now()'; END$$;
CREATE FUNCTION evil.array_append(regrole[], regrole) RETURNS regrole[] LANGUAGE plpgsql AS
    $$BEGIN RAISE EXCEPTION 'hijacked array_append()'; END$$;
CREATE FUNCTION evil.count(anyelement) RETURNS bigint LANGUAGE plpgsql AS
    $$BEGIN RAISE EXCEPTION 'hijacked count()'; END$$;
CREATE FUNCTION evil.eq(integer, integer) RETURNS boolean LANGUAGE plpgsql AS
    $$BEGIN RAISE EXCEPTION 'hijacked ='; END$$;
CREATE OPERATOR evil.= (LEFTARG = integer, RIGHTARG = integer, FUNCTION = evil.eq);
CREATE FUNCTION evil.texteq(text, text) RETURNS boolean LANGUAGE plpgsql AS
    $$BEGIN RAISE EXCEPTION 'hijacked text ='; END$$;
CREATE OPERATOR evil.= (LEFTARG = text, RIGHTARG = text, FUNCTION = evil.texteq);

SET search_path = evil, pg_catalog, public;

-- reinstall under that search_path
DROP EXTENSION consistent_ring;
CREATE EXTENSION consistent_ring SCHEMA public;

-- every function works without reaching evil.*
SELECT ring_create('sp');
SELECT ring_add_node('sp', 'a'), ring_add_node('sp', 'b', 2);
SELECT ring_set_weight('sp', 'a', 3);
SELECT ring_remove_node('sp', 'b');
SELECT ring_grant('sp', 'public'), ring_revoke('sp', 'public'), ring_grant('sp', 'public');
SELECT ring_shard('sp', 'k'), ring_version('sp'), ring_shards('sp', 'k', 2);
SELECT ring_move('sp', 'k', 0, 1);
SELECT count(*) AS moves FROM ring_moves('sp', 0, 3);
SELECT node, vnodes FROM ring_ownership('sp');
SELECT ring, node, weight FROM ring_nodes;
SELECT ring, version, nodes FROM ring_versions ORDER BY version;
SELECT ring, lookup FROM ring_list;
SELECT ring_drop('sp');

RESET search_path;

-- an unprivileged role with its own look-alikes first on its search_path:
-- the ring functions work on the catalog as its owner, and must not run
-- the role's code while they do
CREATE ROLE regress_ring_evil;
CREATE SCHEMA evil_own AUTHORIZATION regress_ring_evil;
SET ROLE regress_ring_evil;
CREATE FUNCTION evil_own.eq(integer, integer) RETURNS boolean LANGUAGE plpgsql AS
    $$BEGIN RAISE EXCEPTION 'hijacked = as %', current_user; END$$;
CREATE OPERATOR evil_own.= (LEFTARG = integer, RIGHTARG = integer, FUNCTION = evil_own.eq);
CREATE FUNCTION evil_own.texteq(text, text) RETURNS boolean LANGUAGE plpgsql AS
    $$BEGIN RAISE EXCEPTION 'hijacked text = as %', current_user; END$$;
CREATE OPERATOR evil_own.= (LEFTARG = text, RIGHTARG = text, FUNCTION = evil_own.texteq);
CREATE FUNCTION evil_own.array_remove(regrole[], regrole) RETURNS regrole[] LANGUAGE plpgsql AS
    $$BEGIN RAISE EXCEPTION 'hijacked array_remove() as %', current_user; END$$;
SET search_path = evil_own, pg_catalog, public;
SELECT ring_create('evil_ring');
SELECT ring_add_node('evil_ring', 'a'), ring_set_weight('evil_ring', 'a', 2);
SELECT ring_grant('evil_ring', 'regress_ring_evil'), ring_revoke('evil_ring', 'regress_ring_evil');
SELECT ring_shard('evil_ring', 'k'), ring_version('evil_ring');
SELECT ring, node FROM ring_nodes;
SELECT ring_remove_node('evil_ring', 'a');
SELECT ring_drop('evil_ring');
RESET search_path;
RESET ROLE;
DROP SCHEMA evil CASCADE;
DROP SCHEMA evil_own CASCADE;
DROP ROLE regress_ring_evil;
