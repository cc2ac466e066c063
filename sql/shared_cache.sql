--
-- Compiled rings in shared memory.  With shared_preload_libraries =
-- 'consistent_ring' (expected/shared_cache_1.out) a committed version is
-- compiled once into shared memory and every backend uses that copy;
-- without it (expected/shared_cache.out) each backend compiles its own.
-- Versions a transaction is still building stay private either way.
--
SELECT current_setting('consistent_ring.shared_cache_size', true) AS shared_cache_size;

SELECT ring_create('sc', 'vnode', 16);
SELECT count(ring_add_node('sc', 'n' || i)) FROM generate_series(1, 20) i;
SELECT ring_shard('sc', 'k1');
SELECT version, nodes, tokens, shared FROM ring_cache_info() WHERE ring = 'sc';
SELECT s.version, s.backends, s.bytes >= i.tokens * 10 AS holds_tokens
  FROM ring_shared_cache() s JOIN ring_cache_info() i USING (ring, version) WHERE ring = 'sc';

-- this transaction's new version is compiled privately, the committed one
-- stays shared; after the rollback the committed answers are back
CREATE TABLE sc_before AS SELECT i, ring_shard('sc', 'k' || i) AS owner FROM generate_series(1, 2000) i;
BEGIN;
SELECT ring_add_node('sc', 'extra', 3);
SELECT count(*) FILTER (WHERE ring_shard('sc', 'k' || i) = 'extra') AS extra_used
  FROM generate_series(1, 2000) i;
SELECT version, shared FROM ring_cache_info() WHERE ring = 'sc' ORDER BY version;
SELECT version FROM ring_shared_cache() WHERE ring = 'sc' ORDER BY version;
ROLLBACK;
SELECT count(*) FILTER (WHERE ring_shard('sc', 'k' || i) IS DISTINCT FROM owner) AS changed
  FROM sc_before;

-- the same in a subtransaction
BEGIN;
SAVEPOINT a;
SELECT ring_remove_node('sc', 'n3');
SELECT count(*) FILTER (WHERE ring_shard('sc', 'k' || i) = 'n3') AS on_n3 FROM generate_series(1, 2000) i;
ROLLBACK TO a;
SELECT count(*) FILTER (WHERE ring_shard('sc', 'k' || i) IS DISTINCT FROM owner) AS changed
  FROM sc_before;
COMMIT;

-- once committed, the new version is shared, built from the one before
SELECT ring_set_weight('sc', 'n5', 4);
SELECT count(*) FILTER (WHERE ring_shard('sc', 'k' || i) IS DISTINCT FROM owner) AS moved
  FROM sc_before;
SELECT version, shared FROM ring_cache_info() WHERE ring = 'sc' ORDER BY version;
SELECT version, backends, built_from FROM ring_shared_cache() WHERE ring = 'sc' ORDER BY version;

-- every algorithm's layout from shared memory answers as a private
-- compile: these digests of 2000 owners are the same in both expected files
SELECT count(ring_create('sc_' || a, a)) FROM unnest(ARRAY['maglev', 'rendezvous', 'jump', 'redis', 'slots', 'ketama']) a;
SELECT count(ring_add_node('sc_' || a, '10.0.0.' || i || ':11211'))
  FROM unnest(ARRAY['maglev', 'rendezvous', 'jump', 'redis', 'slots', 'ketama']) a, generate_series(1, 5) i;
SELECT ring_remove_node('sc_jump', '10.0.0.2:11211');
SELECT ring_pin('sc', 'k7', 'n9');
SELECT r.ring, md5(string_agg(ring_shard(r.ring, 'k' || k), ',' ORDER BY k)) AS owners
  FROM (VALUES ('sc'), ('sc_maglev'), ('sc_rendezvous'), ('sc_jump'), ('sc_redis'), ('sc_slots'), ('sc_ketama')) r(ring)
  CROSS JOIN generate_series(1, 2000) k
 GROUP BY 1 ORDER BY 1;
SELECT ring, shared FROM ring_cache_info() WHERE ring LIKE 'sc%' AND version = ring_version(ring) ORDER BY 1;
SELECT ring_shard('sc', 'k7') AS pinned;

-- ring_shared_cache is not for PUBLIC: it names every shared ring
CREATE ROLE sc_reader;
SET ROLE sc_reader;
SELECT count(*) FROM ring_shared_cache();
RESET ROLE;
DROP ROLE sc_reader;

SELECT ring_drop(name) FROM consistent_ring.rings WHERE name LIKE 'sc%' ORDER BY name;
DROP TABLE sc_before;
