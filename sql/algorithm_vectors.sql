--
-- 'maglev' and 'rendezvous' placement against an independent reference of
-- the documented rules (test/vectors/algorithms_reference.py, python3-xxhash).
--
SELECT ring_create('mg_small', 'maglev', table_size => 1009);
SELECT ring_add_node('mg_small', n, w)
  FROM (VALUES ('a', 1), ('b', 2), ('c', 3), ('d', 1), ('e', 0.5), ('nœud', 1)) v(n, w) \g /dev/null
SELECT ring_create('mg_default', 'maglev');
SELECT count(ring_add_node('mg_default', 'db' || i)) FROM generate_series(1, 5) i;
SELECT ring_create('mg_many', 'maglev');
SELECT count(ring_add_node('mg_many', format('node%s', lpad(i::text, 3, '0')), 1 + i % 3))
  FROM generate_series(0, 99) i;
SELECT ring_create('hrw_small', 'rendezvous');
SELECT ring_add_node('hrw_small', n, w)
  FROM (VALUES ('a', 1), ('b', 2), ('c', 3), ('d', 1), ('e', 0.5), ('drained', 0), ('nœud', 1)) v(n, w) \g /dev/null
SELECT ring_create('hrw_many', 'rendezvous');
SELECT count(ring_add_node('hrw_many', format('node%s', lpad(i::text, 3, '0')), 1 + i % 3))
  FROM generate_series(0, 99) i;

CREATE TEMP TABLE vectors (ring text, key text, position bigint, owner text, replicas3 text[]);
\copy vectors FROM 'test/vectors/algorithms.csv' WITH (FORMAT csv, HEADER)

-- every key of every ring agrees with the reference (a NULL answer counts
-- as wrong)
SELECT ring, count(*) AS keys,
       count(*) FILTER (WHERE ring_hash(ring, key) IS DISTINCT FROM position) AS wrong_position,
       count(*) FILTER (WHERE ring_shard(ring, key) IS DISTINCT FROM owner) AS wrong_owner,
       count(*) FILTER (WHERE ring_shards(ring, key, 3) IS DISTINCT FROM replicas3) AS wrong_replicas
  FROM vectors GROUP BY ring ORDER BY ring;
