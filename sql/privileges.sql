--
-- Privileges: a ring belongs to its creator; only the owner (a member of
-- the owning role, or a superuser) may change, drop or share it; anyone may
-- look it up unless the owner revokes public lookups; nobody but the
-- extension's owner reads or writes the catalog tables directly.
--
CREATE ROLE regress_ring_alice;
CREATE ROLE regress_ring_bob;
CREATE ROLE regress_ring_carol;
CREATE ROLE regress_ring_team;
GRANT regress_ring_team TO regress_ring_bob;

SET ROLE regress_ring_alice;
SELECT ring_create('alice_ring');
SELECT ring_add_node('alice_ring', 'a');
SELECT ring, version, created_by FROM ring_versions WHERE ring = 'alice_ring' ORDER BY version;
SELECT ring, owner, lookup FROM ring_list;

-- anyone may look it up
SET ROLE regress_ring_bob;
SELECT ring_shard('alice_ring', 'k'), ring_version('alice_ring');
SELECT node FROM ring_nodes WHERE ring = 'alice_ring';

-- error: only the owner may change it
SELECT ring_add_node('alice_ring', 'b');
SELECT ring_remove_node('alice_ring', 'a');
SELECT ring_set_weight('alice_ring', 'a', 2);
SELECT ring_grant('alice_ring', 'regress_ring_bob');
SELECT ring_revoke('alice_ring', 'public');
SELECT ring_drop('alice_ring');

-- error: nor list what other sessions' rings are compiled
SELECT count(*) FROM ring_cache_info();

-- error: nor may anyone but the extension's owner touch the catalog
SELECT count(*) FROM consistent_ring.rings;
UPDATE consistent_ring.nodes SET weight = 5;
DELETE FROM consistent_ring.rings;
INSERT INTO consistent_ring.versions VALUES (1, 99);

-- the owner makes the ring private and shares it with carol
SET ROLE regress_ring_alice;
SELECT ring_revoke('alice_ring', 'public');
SELECT ring_grant('alice_ring', 'regress_ring_carol');
SELECT ring_grant('alice_ring', 'regress_ring_carol');   -- once is enough
SELECT ring, lookup FROM ring_list;
SELECT ring_shard('alice_ring', 'k');

-- error: bob may no longer look it up, nor see it in the views
SET ROLE regress_ring_bob;
SELECT ring_shard('alice_ring', 'k');
SELECT ring_version('alice_ring');
SELECT * FROM ring_moves('alice_ring', 0, 1);
SELECT count(*) FROM ring_nodes WHERE ring = 'alice_ring';
SELECT count(*) FROM ring_versions WHERE ring = 'alice_ring';
SELECT count(*) FROM ring_list WHERE ring = 'alice_ring';

SET ROLE regress_ring_carol;
SELECT ring_shard('alice_ring', 'k');
SELECT count(*) FROM ring_nodes WHERE ring = 'alice_ring';

-- error: unknown role
SET ROLE regress_ring_alice;
SELECT ring_grant('alice_ring', 'regress_ring_nobody');

-- a ring owned by a group role may be changed by its members
SET ROLE regress_ring_team;
SELECT ring_create('team_ring');
SET ROLE regress_ring_bob;
SELECT ring_add_node('team_ring', 'x');
SELECT created_by FROM ring_versions WHERE ring = 'team_ring' AND version = 1;
RESET ROLE;

-- a superuser may change any ring
SELECT ring_add_node('alice_ring', 'su');
SELECT ring_shard('alice_ring', 'k') AS looked_up;
-- error: 'PUBLIC' is a role name like any other (only 'public' is everyone)
SELECT ring_grant('alice_ring', 'PUBLIC');
SELECT ring_grant('alice_ring', 'public');
SET ROLE regress_ring_bob;
SELECT ring_shard('alice_ring', 'k') AS looked_up_again;
RESET ROLE;

-- A private ring looked up through a SECURITY DEFINER function, then by
-- its caller at the same call site under the same snapshot: a cursor that
-- the definer function opens and fetches from, and whose rest the caller
-- fetches.  The caller is refused at its first row.
CREATE SCHEMA regress_alice AUTHORIZATION regress_ring_alice;
GRANT USAGE ON SCHEMA regress_alice TO regress_ring_bob;
SET ROLE regress_ring_alice;
SELECT ring_revoke('alice_ring', 'public');
CREATE TABLE regress_alice.alice_table (k text);
CREATE FUNCTION regress_alice.alice_cursor(kind text) RETURNS refcursor
    LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, public
    AS $$
DECLARE
    c refcursor := 'alice_' || kind;
    first text;
BEGIN
    IF kind = 'shard' THEN
        OPEN c FOR SELECT ring_shard('alice_ring', 'k' || i) AS answer FROM generate_series(1, 5) i;
    ELSE
        OPEN c FOR SELECT coalesce(ring_route('alice_ring', 'k' || i, 'regress_alice.alice_table'), '(no server)') AS answer
                     FROM generate_series(1, 5) i;
    END IF;
    FETCH c INTO first;
    RAISE NOTICE 'first row, fetched by the definer: %', first;
    RETURN c;
END$$;
CREATE FUNCTION regress_alice.alice_lookup(k text) RETURNS text LANGUAGE plpgsql
    AS $$BEGIN RETURN ring_shard('alice_ring', k); END$$;
CREATE FUNCTION regress_alice.alice_definer(k text) RETURNS text LANGUAGE plpgsql SECURITY DEFINER
    SET search_path = regress_alice, public
    AS $$BEGIN RETURN alice_lookup(k); END$$;
SET ROLE regress_ring_bob;
BEGIN;
SELECT regress_alice.alice_cursor('shard');
-- error: bob may not fetch lookups he may not make
FETCH ALL FROM alice_shard;
ROLLBACK;
BEGIN ISOLATION LEVEL REPEATABLE READ;
SELECT regress_alice.alice_cursor('route');
-- error: nor routes
FETCH ALL FROM alice_route;
ROLLBACK;
-- a definer function's lookup and the caller's in one statement: the
-- definer's succeeds, the caller's is refused
SELECT regress_alice.alice_definer('k') AS through_definer;
-- error: the caller's own
SELECT regress_alice.alice_definer('k') AS through_definer, regress_alice.alice_lookup('k') AS direct;
RESET ROLE;
DROP SCHEMA regress_alice CASCADE;

SELECT ring_drop('alice_ring');
SELECT ring_drop('team_ring');
DROP ROLE regress_ring_alice, regress_ring_bob, regress_ring_carol, regress_ring_team;
