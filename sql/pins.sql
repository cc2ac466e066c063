--
-- Hot keys: ring_pin / ring_unpin, versioned, seen by every lookup and by
-- ring_moves / ring_move.
--
SELECT ring_create('hot', 'vnode', 64);
SELECT count(ring_add_node('hot', 'db' || i)) FROM generate_series(1, 4) i;
SELECT ring_shard('hot', 'celebrity') AS owner_before;

-- pin to a node that does not own it: a new version
SELECT ring_pin('hot', 'celebrity', 'db1');
SELECT ring_shard('hot', 'celebrity'), ring_shard('hot', 'celebrity', 1) AS at_1,
       ring_shard('hot', 'celebrity', 2) AS at_2;
SELECT (ring_shards('hot', 'celebrity', 3))[1] AS first_replica,
       cardinality(ring_shards('hot', 'celebrity', 3)) AS replicas;
SELECT * FROM ring_move('hot', 'celebrity', 1, 2);
-- the pin is a one-position range in ring_moves: the key's position
SELECT range_start = ring_hash('hot', 'celebrity') AS at_key, range_end = range_start AS one_position,
       from_node, to_node
  FROM ring_moves('hot', 1, 2);
-- no other key moved
SELECT count(*) FILTER (WHERE ring_shard('hot', k, 1) IS DISTINCT FROM ring_shard('hot', k, 2)) AS others_moved
  FROM (SELECT 'key-' || i AS k FROM generate_series(1, 20000) i) keys;
SELECT ring, key, position = ring_hash('hot', 'celebrity') AS position_ok, node, since_version FROM ring_pins;

-- pinning again to the same node changes nothing
SELECT ring_pin('hot', 'celebrity', 'db1');
-- to another node: a new version
SELECT ring_pin('hot', 'celebrity', 'db3');
SELECT ring_shard('hot', 'celebrity');
SELECT from_node, to_node FROM ring_moves('hot', 2, 3);

-- keys of every type: the pin holds the placement bytes, so 42 and '42' are one key
SELECT ring_pin('hot', 42, 'db2');
SELECT ring_shard('hot', 42), ring_shard('hot', '42'::text), ring_shard('hot', 42::bigint);
SELECT ring_pin('hot', '00000000-0000-0000-0000-000000000001'::uuid, 'db4');
SELECT ring_shard('hot', '00000000-0000-0000-0000-000000000001'::uuid);
SELECT ring, key, node FROM ring_pins ORDER BY key;

-- unpin: the ring places the key again
SELECT ring_unpin('hot', 'celebrity');
SELECT ring_shard('hot', 'celebrity') = ring_shard('hot', 'celebrity', 1) AS back_to_ring;
SELECT from_node, to_node FROM ring_moves('hot', 5, 6);

-- pin and unpin in one transaction: one version, nothing pinned
BEGIN;
SELECT ring_pin('hot', 'flash', 'db1');
SELECT ring_shard('hot', 'flash');
SELECT ring_unpin('hot', 'flash');
COMMIT;
SELECT count(*) FROM ring_moves('hot', 6, 7);

-- a rolled-back pin leaves nothing
BEGIN;
SELECT ring_pin('hot', 'rolled', 'db1');
ROLLBACK;
SELECT count(*) FROM ring_pins WHERE node = 'db1';

-- removing a node removes its pins, in the same version
SELECT ring_remove_node('hot', 'db2');
SELECT ring, node FROM ring_pins ORDER BY node;
SELECT ring_shard('hot', 42) = ring_shard('hot', 42, 1) OR ring_shard('hot', 42, 1) = 'db2' AS placed_by_ring;

-- pins work on every algorithm and leave ring_quality alone
SELECT ring_create('hot_slots', 'slots', slots => 64);
SELECT count(ring_add_node('hot_slots', 'n' || i)) FROM generate_series(1, 3) i;
SELECT * FROM ring_quality('hot_slots') \gset before_
SELECT ring_pin('hot_slots', 'k', CASE WHEN ring_shard('hot_slots', 'k') = 'n1' THEN 'n2' ELSE 'n1' END);
SELECT ring_shard('hot_slots', 'k') <> ring_shard('hot_slots', 'k', 1) AS pinned;
SELECT max_share_ratio = :before_max_share_ratio AS same_quality FROM ring_quality('hot_slots');
SELECT ring_create('hot_maglev', 'maglev', table_size => 101);
SELECT count(ring_add_node('hot_maglev', 'n' || i)) FROM generate_series(1, 3) i;
SELECT ring_pin('hot_maglev', 'k', 'n3');
SELECT ring_shard('hot_maglev', 'k');

-- a weight-0 node can hold a pinned key
SELECT ring_set_weight('hot', 'db4', 0);
SELECT ring_pin('hot', 'drained', 'db4');
SELECT ring_shard('hot', 'drained');

-- errors
SELECT ring_pin('hot', 'k', 'no_such_node');
SELECT ring_pin('no_such_ring', 'k', 'db1');
SELECT ring_unpin('hot', 'never_pinned');
SELECT ring_unpin('no_such_ring', 'k');
-- error: a key too long to pin (at most 2000 bytes)
SELECT ring_pin('hot', repeat('k', 2001), 'db1');
SELECT ring_pin('hot', repeat('k', 1048576)::bytea, 'db1');
SELECT ring_pin('hot', repeat('k', 2000), 'db1') AS version_pinned_2000_bytes;
SELECT ring_unpin('hot', repeat('k', 2000)) AS version_unpinned;
-- NULLs: nothing happens
SELECT ring_pin('hot', NULL::text, 'db1'), ring_pin('hot', 'k', NULL), ring_unpin('hot', NULL::text);
