--
-- Privileges: anyone may look rings up; changing them needs write access to
-- the catalog tables.
--
SELECT ring_create('priv');
SELECT ring_add_node('priv', 'a');

CREATE ROLE regress_ring_reader;
SET ROLE regress_ring_reader;

-- lookups work for everyone
SELECT ring_shard('priv', 'k'), ring_version('priv'), ring_hash('priv', 'k') IS NOT NULL AS hashed;
SELECT count(*) FROM ring_moves('priv', 0, 1);
SELECT node FROM ring_ownership('priv');
SELECT ring, node FROM ring_nodes WHERE ring = 'priv';

-- error: changes need write access to the catalog
SELECT ring_create('mine');
SELECT ring_add_node('priv', 'b');
SELECT ring_remove_node('priv', 'a');
SELECT ring_set_weight('priv', 'a', 2);
SELECT ring_drop('priv');
-- error: and so does writing the catalog tables directly
UPDATE consistent_ring.nodes SET weight = 5;
DELETE FROM consistent_ring.rings;

-- error: lookups need SELECT on the catalog, like a query would
RESET ROLE;
REVOKE SELECT ON consistent_ring.nodes FROM PUBLIC;
SET ROLE regress_ring_reader;
SELECT ring_shard('priv', 'k');
SELECT * FROM ring_ownership('priv');
RESET ROLE;
GRANT SELECT ON consistent_ring.nodes TO PUBLIC;
REVOKE USAGE ON SCHEMA consistent_ring FROM PUBLIC;
SET ROLE regress_ring_reader;
SELECT ring_version('priv');
RESET ROLE;
GRANT USAGE ON SCHEMA consistent_ring TO PUBLIC;
SET ROLE regress_ring_reader;
SELECT ring_shard('priv', 'k');

RESET ROLE;
SELECT ring_version('priv');
DROP ROLE regress_ring_reader;
SELECT ring_drop('priv');
