--
-- Creating, changing and dropping rings; versions.
--

-- a new ring is empty, at version 0, with the defaults
SELECT ring_create('songs');
SELECT name, algorithm, vnodes, version FROM consistent_ring.rings;
SELECT ring_version('songs');

-- one transaction is one version
BEGIN;
SELECT ring_add_node('songs', 'db1');
SELECT ring_add_node('songs', 'db2');
SELECT ring_add_node('songs', 'db3', 2);
SELECT ring_version('songs');     -- the transaction sees its own version
COMMIT;
SELECT ring_version('songs');
SELECT * FROM ring_nodes ORDER BY node;

-- each autocommitted change is a version of its own
SELECT ring_add_node('songs', 'db4');
SELECT ring_set_weight('songs', 'db3', 1);
SELECT ring_remove_node('songs', 'db1');
SELECT ring_version('songs');
SELECT ring, version, created_by, nodes, total_weight, is_current
  FROM ring_versions ORDER BY version;

-- a rolled-back change never existed; its number is given to the next one
BEGIN;
SELECT ring_add_node('songs', 'ghost');
ROLLBACK;
SELECT ring_version('songs');
SELECT count(*) FROM ring_nodes WHERE node = 'ghost';
SELECT ring_add_node('songs', 'db5');

-- a rolled-back subtransaction keeps the rest of the transaction's version
BEGIN;
SELECT ring_add_node('songs', 'db6');
SAVEPOINT s;
SELECT ring_add_node('songs', 'db7');
ROLLBACK TO SAVEPOINT s;
SELECT ring_set_weight('songs', 'db6', 3);
COMMIT;
SELECT node, weight, since_version FROM ring_nodes ORDER BY node;

-- a savepoint rolled back before anything else was changed: no version lost
BEGIN;
SAVEPOINT s;
SELECT ring_add_node('songs', 'db7');
ROLLBACK TO SAVEPOINT s;
SELECT ring_add_node('songs', 'db8');
COMMIT;
SELECT ring_version('songs');
SELECT ring_remove_node('songs', 'db8');

-- weight 0 keeps a node but gives it no virtual nodes (draining)
SELECT ring_set_weight('songs', 'db2', 0);
SELECT node, weight, vnodes FROM ring_nodes WHERE node = 'db2';

-- setting the weight a node already has is no change
SELECT ring_version('songs');
SELECT ring_set_weight('songs', 'db2', 0);
SELECT ring_version('songs');

-- -0 is stored as 0
SELECT ring_set_weight('songs', 'db2', '-0');
SELECT ring_version('songs');

-- add, change and remove in one version leaves only the net change
BEGIN;
SELECT ring_add_node('songs', 'tmp');
SELECT ring_set_weight('songs', 'tmp', 5);
SELECT ring_remove_node('songs', 'tmp');
SELECT ring_remove_node('songs', 'db5');
SELECT ring_add_node('songs', 'db5', 2);
COMMIT;
SELECT node, weight, since_version FROM ring_nodes ORDER BY node;

-- a removed node can come back later
SELECT ring_remove_node('songs', 'db4');
SELECT ring_add_node('songs', 'db4');

-- history: each version's node set is kept
SELECT version, nodes, total_weight FROM ring_versions WHERE ring = 'songs' ORDER BY version;
SELECT ring_id, node, weight, added_in, removed_in
  FROM consistent_ring.nodes ORDER BY node, added_in;

-- create and change in one transaction: version 0 stays empty
BEGIN;
SELECT ring_create('quick', 'vnode', 8);
SELECT ring_add_node('quick', 'a');
SELECT ring_add_node('quick', 'b');
COMMIT;
SELECT version, nodes FROM ring_versions WHERE ring = 'quick' ORDER BY version;

-- names are any bytes, up to 200 of them
SELECT ring_create(repeat('r', 200));
SELECT ring_add_node(repeat('r', 200), repeat('é', 100));
SELECT octet_length(node) FROM ring_nodes WHERE ring = repeat('r', 200);

-- drop removes the ring and its history
SELECT ring_drop(repeat('r', 200));
SELECT ring_drop('quick');
SELECT name FROM consistent_ring.rings ORDER BY name;
SELECT count(*) FROM consistent_ring.versions v
 WHERE NOT EXISTS (SELECT 1 FROM consistent_ring.rings r WHERE r.ring_id = v.ring_id);

-- strict functions: NULL in, NULL out, nothing changed
SELECT ring_create(NULL);
SELECT ring_add_node('songs', NULL);
SELECT ring_version(NULL);

SELECT ring_drop('songs');
