--
-- Placement against an independent reference of the documented rules
-- (test/vectors/vnode_reference.py, built on python3-xxhash).
--

SELECT ring_create('four');
BEGIN;
SELECT ring_add_node('four', n) FROM unnest(ARRAY['db1', 'db2', 'db3', 'db4']) n;
COMMIT;

SELECT ring_create('weighted', 'vnode', 16);
BEGIN;
SELECT ring_add_node('weighted', 'small', 0.5);
SELECT ring_add_node('weighted', 'big', 2.5);
SELECT ring_add_node('weighted', 'unit');
SELECT ring_add_node('weighted', 'drained', 0);
SELECT ring_add_node('weighted', 'tiny', 0.01);
SELECT ring_add_node('weighted', 'nœud-é', 1.25);
SELECT ring_add_node('weighted', 'half', 2.53125);
COMMIT;

SELECT ring_create('single', vnodes => 1);
SELECT ring_add_node('single', 'only');

SELECT ring_create('many', vnodes => 64);
SELECT count(ring_add_node('many', format('node%s', lpad(i::text, 3, '0')), 1 + i % 3))
  FROM generate_series(0, 99) i;

-- virtual node counts follow round(vnodes * weight), half away from zero
SELECT node, weight, vnodes FROM ring_nodes WHERE ring = 'weighted' ORDER BY node;

CREATE TEMP TABLE vectors (ring text, key_type text, key text, position bigint,
                           owner text, replicas3 text[]);
\copy vectors FROM 'test/vectors/vnode.csv' WITH (FORMAT csv, HEADER)

CREATE TEMP TABLE results AS
SELECT v.*,
       CASE key_type
           WHEN 'text' THEN ring_hash(ring, key)
           WHEN 'smallint' THEN ring_hash(ring, key::smallint)
           WHEN 'integer' THEN ring_hash(ring, key::integer)
           WHEN 'bigint' THEN ring_hash(ring, key::bigint)
           WHEN 'uuid' THEN ring_hash(ring, key::uuid)
           WHEN 'bytea' THEN ring_hash(ring, key::bytea)
       END AS got_position,
       CASE key_type
           WHEN 'text' THEN ring_shard(ring, key)
           WHEN 'smallint' THEN ring_shard(ring, key::smallint)
           WHEN 'integer' THEN ring_shard(ring, key::integer)
           WHEN 'bigint' THEN ring_shard(ring, key::bigint)
           WHEN 'uuid' THEN ring_shard(ring, key::uuid)
           WHEN 'bytea' THEN ring_shard(ring, key::bytea)
       END AS got_owner,
       CASE key_type
           WHEN 'text' THEN ring_shards(ring, key, 3)
           WHEN 'smallint' THEN ring_shards(ring, key::smallint, 3)
           WHEN 'integer' THEN ring_shards(ring, key::integer, 3)
           WHEN 'bigint' THEN ring_shards(ring, key::bigint, 3)
           WHEN 'uuid' THEN ring_shards(ring, key::uuid, 3)
           WHEN 'bytea' THEN ring_shards(ring, key::bytea, 3)
       END AS got_replicas
  FROM vectors v;

-- every key of every ring agrees with the reference
SELECT ring, key_type, count(*) AS keys,
       count(*) FILTER (WHERE got_position IS DISTINCT FROM position) AS bad_positions,
       count(*) FILTER (WHERE got_owner IS DISTINCT FROM owner) AS bad_owners,
       count(*) FILTER (WHERE got_replicas IS DISTINCT FROM replicas3) AS bad_replicas
  FROM results
 GROUP BY ring, key_type
 ORDER BY ring, key_type;

-- the vectors printed in doc/placement.md
SELECT key_type, key, position, owner FROM vectors
 WHERE ring = 'four' AND key IN ('song-0', 'song-1', 'song-2', '42', '', 'é')
 ORDER BY key_type, key;

SELECT ring_drop(r) FROM unnest(ARRAY['four', 'weighted', 'single', 'many']) r;
