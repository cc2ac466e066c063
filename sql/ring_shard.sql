--
-- Lookups: ring_shard, ring_shards, versions, the default ring, and which
-- ring version a statement sees.
--

SELECT ring_create('songs');
BEGIN;
SELECT ring_add_node('songs', 'db' || i) FROM generate_series(1, 4) i;
COMMIT;

CREATE TABLE songs AS SELECT i AS id, 'song-' || i AS title FROM generate_series(1, 20000) i;

-- every key lands on one of the nodes, about a quarter each
SELECT ring_shard('songs', id) AS server, count(*) BETWEEN 4000 AND 6000 AS about_a_quarter
  FROM songs GROUP BY 1 ORDER BY 1;

-- the owner is the node of the first token at or after the key's position,
-- wrapping round: check against the tokens computed in SQL
CREATE TEMP TABLE tokens AS
SELECT ring_hash('songs', n || '-' || i) AS token, n AS node
  FROM unnest(ARRAY['db1', 'db2', 'db3', 'db4']) n, generate_series(0, 255) i;
SELECT count(*) AS tokens, count(DISTINCT token) AS distinct_tokens FROM tokens;
SELECT count(*) AS keys,
       count(*) FILTER (WHERE ring_shard('songs', id) IS DISTINCT FROM
           coalesce((SELECT node FROM tokens WHERE token >= ring_hash('songs', id)
                      ORDER BY token LIMIT 1),
                    (SELECT node FROM tokens ORDER BY token LIMIT 1))) AS wrong
  FROM songs WHERE id <= 2000;

-- keys beyond the last token wrap round to the first token
SELECT ring_shard('songs', k) = (SELECT node FROM tokens ORDER BY token LIMIT 1) AS wraps
  FROM (SELECT title AS k FROM songs
         WHERE ring_hash('songs', title) > (SELECT max(token) FROM tokens) LIMIT 1) s;

-- replicas: distinct nodes clockwise, the owner first, at most all nodes
SELECT count(*) FILTER (WHERE r[1] IS DISTINCT FROM ring_shard('songs', id)) AS first_not_owner,
       count(*) FILTER (WHERE cardinality(r) IS DISTINCT FROM 3) AS wrong_length,
       count(*) FILTER (WHERE (SELECT count(DISTINCT x) FROM unnest(r) x) IS DISTINCT FROM 3) AS not_distinct
  FROM (SELECT id, ring_shards('songs', id, 3) AS r FROM songs WHERE id <= 2000) s;
SELECT ring_shards('songs', 'song-1', 1), ring_shards('songs', 'song-1', 4),
       ring_shards('songs', 'song-1', 100);

-- lookups at a version
SELECT ring_add_node('songs', 'db5');
SELECT count(*) FILTER (WHERE ring_shard('songs', id, 1) IS DISTINCT FROM ring_shard('songs', id)) AS moved,
       count(*) FILTER (WHERE ring_shard('songs', id, 2) IS DISTINCT FROM ring_shard('songs', id)) AS differ_from_current,
       count(*) FILTER (WHERE ring_shard('songs', id, 1) = 'db5') AS db5_in_version_1
  FROM songs;
-- only keys now on db5 moved, about a fifth of them
SELECT count(*) FILTER (WHERE ring_shard('songs', id) IS DISTINCT FROM 'db5') AS moved_elsewhere,
       count(*) BETWEEN 3000 AND 5000 AS about_a_fifth
  FROM songs WHERE ring_shard('songs', id, 1) IS DISTINCT FROM ring_shard('songs', id);

-- draining a node moves only its keys, and only to the other nodes
SELECT ring_set_weight('songs', 'db2', 0);
SELECT count(*) FILTER (WHERE ring_shard('songs', id, 2) IS DISTINCT FROM 'db2') AS moved_not_from_db2,
       count(*) FILTER (WHERE ring_shard('songs', id) = 'db2') AS still_on_db2
  FROM songs WHERE ring_shard('songs', id, 2) IS DISTINCT FROM ring_shard('songs', id);

-- reweighting moves only the reweighted node's share
SELECT ring_set_weight('songs', 'db3', 2);
SELECT count(*) FILTER (WHERE ring_shard('songs', id) IS DISTINCT FROM 'db3') AS moved_not_to_db3
  FROM songs WHERE ring_shard('songs', id, 3) IS DISTINCT FROM ring_shard('songs', id);
SELECT ring_set_weight('songs', 'db3', 1);
SELECT count(*) AS differ_from_version_3
  FROM songs WHERE ring_shard('songs', id, 3) IS DISTINCT FROM ring_shard('songs', id);

-- the one-argument form uses consistent_ring.default_ring
SET consistent_ring.default_ring = 'songs';
SELECT count(*) FILTER (WHERE ring_shard(id) IS DISTINCT FROM ring_shard('songs', id)) AS differ FROM songs;
SELECT ring_shard('song-1'::text) = ring_shard('songs', 'song-1') AS same;
RESET consistent_ring.default_ring;

-- a transaction sees its own changes; others' only once committed
BEGIN;
SELECT ring_add_node('songs', 'db6');
SELECT count(*) AS db6_keys FROM songs WHERE ring_shard('songs', id) = 'db6';
ROLLBACK;
SELECT count(*) AS db6_keys FROM songs WHERE ring_shard('songs', id) = 'db6';

-- a cursor keeps the ring its snapshot saw, across later changes
BEGIN;
DECLARE c CURSOR FOR
    SELECT count(*) FILTER (WHERE ring_shard('songs', id) = 'db6') AS db6_keys FROM songs;
SELECT ring_add_node('songs', 'db6', 100);
SELECT count(*) FILTER (WHERE ring_shard('songs', id) = 'db6') AS db6_keys FROM songs;
FETCH ALL FROM c;
ROLLBACK;

-- a PL/pgSQL loop that changes the ring between lookups sees each change
CREATE FUNCTION owners_while_changing() RETURNS TABLE (step int, owner text)
LANGUAGE plpgsql AS $$
BEGIN
    FOR i IN 1..3 LOOP
        PERFORM ring_add_node('songs', 'x' || i, 1000);
        IF i > 1 THEN
            PERFORM ring_remove_node('songs', 'x' || (i - 1));
        END IF;
        step := i;
        owner := ring_shard('songs', 'song-1');
        RETURN NEXT;
    END LOOP;
END $$;
BEGIN;
SELECT * FROM owners_while_changing();
ROLLBACK;
DROP FUNCTION owners_while_changing();

-- the same statement may look up many rings and versions
SELECT ring_create('other', 'vnode', 4);
SELECT ring_add_node('other', 'o1');
SELECT r, count(*) FROM (SELECT CASE WHEN id % 2 = 0 THEN 'songs' ELSE 'other' END AS r, id
                           FROM songs) s
 GROUP BY r, ring_shard(r, id) IS NOT NULL ORDER BY r;
SELECT ring_shard(r, 'k') FROM (VALUES ('other'), ('songs'), ('other')) v(r);

-- a ring dropped and created again under the same name is a new ring
SELECT ring_shard('other', 'k');
SELECT ring_drop('other');
SELECT ring_create('other', 'vnode', 4);
SELECT ring_add_node('other', 'o2');
SELECT ring_shard('other', 'k');
SELECT ring_drop('other');


-- the cache holds compiled versions: tokens = sum of virtual nodes
SELECT count(ring_shard('songs', id, 1)) + count(ring_shard('songs', id)) FROM songs;
SELECT ring, version, nodes, tokens, bytes <= tokens * 16 + 65536 AS compact
  FROM ring_cache_info() WHERE ring = 'songs' AND version IN (1, ring_version('songs')) ORDER BY version;

-- statements after a change in the same transaction share one compiled ring
CREATE TABLE acct AS SELECT i AS id, NULL::text AS shard FROM generate_series(1, 50) i;
BEGIN;
SELECT ring_add_node('songs', 'db7');
DO $$ BEGIN FOR i IN 1..50 LOOP UPDATE acct SET shard = ring_shard('songs', id) WHERE id = i; END LOOP; END $$;
SELECT count(*) AS compiled_copies FROM ring_cache_info()
 WHERE ring = 'songs' AND version = ring_version('songs');
SELECT count(*) FILTER (WHERE shard IS DISTINCT FROM ring_shard('songs', id)) AS wrong,
       count(*) FILTER (WHERE shard = 'db7') AS db7_used FROM acct;
ROLLBACK;
DROP TABLE acct;

-- a ring's older versions go when its newest is compiled, unless a query
-- still uses them; another ring's change frees nothing
SELECT ring_create('sup', 'vnode', 4);
SELECT ring_add_node('sup', 'a');
SELECT ring_shard('sup', 'k');
SELECT ring_set_weight('sup', 'a', 2);
SELECT ring_shard('sup', 'k');
SELECT ring_set_weight('sup', 'a', 3);
SELECT ring_shard('sup', 'k');
SELECT version FROM ring_cache_info() WHERE ring = 'sup' ORDER BY version;
SELECT count(ring_move('sup', 'k' || i, 1, 3)) FROM generate_series(1, 10) i;
SELECT version FROM ring_cache_info() WHERE ring = 'sup' ORDER BY version;
SELECT ring_add_node('songs', 'db8');
SELECT ring_shard('sup', 'k');
SELECT version FROM ring_cache_info() WHERE ring = 'sup' ORDER BY version;
SELECT ring_remove_node('songs', 'db8');
SELECT ring_drop('sup');

-- the cache keeps at most 32 compiled rings
SELECT ring_create('cap', 'vnode', 4);
SELECT ring_add_node('cap', 'a');
SELECT format('SELECT ring_set_weight(%L, %L, %s)', 'cap', 'a', i) FROM generate_series(2, 41) i \gexec
SELECT count(ring_shard('cap', 'k', v)) FROM generate_series(1, ring_version('cap')) v;
SELECT count(*) <= 32 AS capped FROM ring_cache_info();
SELECT ring_drop('cap');

-- NULL key, ring or version: NULL
SELECT ring_shard('songs', NULL::text), ring_shard(NULL, 'k'), ring_shard('songs', 'k', NULL),
       ring_shards('songs', 'k', NULL), ring_hash(NULL, 'k');

-- lookups can run in parallel workers
SET parallel_setup_cost = 0;
SET parallel_tuple_cost = 0;
SET min_parallel_table_scan_size = 0;
SET max_parallel_workers_per_gather = 2;
EXPLAIN (COSTS OFF) SELECT ring_shard('songs', id), count(*) FROM songs GROUP BY 1;
SELECT ring_shard('songs', id), count(*) FROM songs GROUP BY 1 ORDER BY 1;
RESET parallel_setup_cost;
RESET parallel_tuple_cost;
RESET min_parallel_table_scan_size;
RESET max_parallel_workers_per_gather;
SELECT ring_shard('songs', id), count(*) FROM songs GROUP BY 1 ORDER BY 1;

DROP TABLE songs;
SELECT ring_drop('songs');

-- A large ring (256,256 tokens, 1001 nodes): every answer must equal the
-- owner of the ring_moves range (from version 0: the whole ring) holding
-- the key's position.
SELECT ring_create('big', 'vnode', 256);
SELECT count(ring_add_node('big', 'node' || i)) FROM generate_series(1, 1001) i;
CREATE TABLE big_ranges AS SELECT * FROM ring_moves('big', 0, 1);
CREATE INDEX ON big_ranges (range_start);
SELECT count(*) AS keys,
       count(*) FILTER (WHERE ring_shard('big', k) IS DISTINCT FROM r.to_node) AS wrong,
       count(*) FILTER (WHERE (ring_move('big', k, 0, 1)).to_node IS DISTINCT FROM ring_shard('big', k)) AS move_wrong
  FROM (SELECT 'key-' || i AS k FROM generate_series(1, 20000) i) s
  CROSS JOIN LATERAL (SELECT r.to_node, r.range_end FROM big_ranges r WHERE r.range_start <= ring_hash('big', s.k)
                       ORDER BY r.range_start DESC LIMIT 1) r;
DROP TABLE big_ranges;
SELECT ring_drop('big');
