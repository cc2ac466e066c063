--
-- Migration planning: ring_moves (token ranges) and ring_move (per key).
--

SELECT ring_create('songs');
BEGIN;
SELECT ring_add_node('songs', 'db' || i) FROM generate_series(1, 4) i;
COMMIT;
SELECT ring_add_node('songs', 'db5');

CREATE TABLE songs AS SELECT 'song-' || i AS id FROM generate_series(1, 20000) i;

-- adding db5: every moving range goes to db5, from every other node
SELECT from_node, to_node, count(*) AS ranges
  FROM ring_moves('songs', 1, 2) GROUP BY 1, 2 ORDER BY 1, 2;

-- ranges are inclusive, ascending, not overlapping, and maximal
SELECT count(*) FILTER (WHERE range_start > range_end) AS inverted,
       count(*) FILTER (WHERE range_start <= prev_end) AS overlapping,
       count(*) FILTER (WHERE range_start = prev_end + 1 AND from_node = prev_from
                          AND to_node = prev_to) AS not_maximal
  FROM (SELECT *, lag(range_end) OVER w AS prev_end, lag(from_node) OVER w AS prev_from,
               lag(to_node) OVER w AS prev_to
          FROM ring_moves('songs', 1, 2) WINDOW w AS (ORDER BY range_start)) m;

-- the fraction of the token space that moves is exactly db5's share
SELECT abs(sum(range_end::numeric - range_start + 1) / 2^64
           - (SELECT share FROM ring_ownership('songs') WHERE node = 'db5')) < 1e-12 AS exact,
       sum(range_end::numeric - range_start + 1) / 2^64 BETWEEN 0.15 AND 0.25 AS about_a_fifth
  FROM ring_moves('songs', 1, 2);

-- ring_move agrees with ring_moves and with ring_shard for every key
CREATE TEMP TABLE moves AS SELECT * FROM ring_moves('songs', 1, 2);
SELECT count(*) AS keys,
       count(m) AS moving,
       count(*) FILTER (WHERE (m IS NULL) <> (ring_shard('songs', id, 1) IS NOT DISTINCT FROM ring_shard('songs', id, 2))) AS wrong_null,
       count(*) FILTER (WHERE m IS NOT NULL AND ((m).from_node IS DISTINCT FROM ring_shard('songs', id, 1)
                                            OR (m).to_node IS DISTINCT FROM ring_shard('songs', id, 2))) AS wrong_nodes,
       count(*) FILTER (WHERE (m IS NOT NULL) <> EXISTS (
           SELECT 1 FROM moves r WHERE ring_hash('songs', id) BETWEEN r.range_start AND r.range_end
              AND r.from_node = (m).from_node AND r.to_node = (m).to_node)) AS disagree_with_ranges
  FROM (SELECT id, ring_move('songs', id, 1, 2) AS m FROM songs) s;

-- the migration list in one pass over the table
SELECT (m).from_node, (m).to_node, count(*) AS keys
  FROM (SELECT id, ring_move('songs', id, 1, 2) AS m FROM songs) s
 WHERE m IS NOT NULL GROUP BY 1, 2 ORDER BY 1, 2;

-- moving back is the mirror image
SELECT count(*) AS ranges,
       count(*) FILTER (WHERE NOT EXISTS (
           SELECT 1 FROM moves f WHERE f.range_start = b.range_start AND f.range_end = b.range_end
              AND f.from_node = b.to_node AND f.to_node = b.from_node)) AS not_mirrored
  FROM ring_moves('songs', 2, 1) b;

-- the same version: nothing moves
SELECT count(*) FROM ring_moves('songs', 2, 2);
SELECT count(*) FROM (SELECT ring_move('songs', id, 2, 2) m FROM songs) s WHERE m IS NOT NULL;

-- from the empty version 0 everything "moves" from NULL; the ranges cover
-- the whole token space, from the smallest to the largest 64-bit integer
SELECT count(*) FILTER (WHERE from_node IS NOT NULL) AS with_from,
       min(range_start) = -9223372036854775808 AS from_min,
       max(range_end) = 9223372036854775807 AS to_max,
       sum(range_end::numeric - range_start + 1) = 2^64 AS whole_space
  FROM ring_moves('songs', 0, 1);
SELECT ring_move('songs', 'song-1', 0, 1) = ROW(NULL, ring_shard('songs', 'song-1', 1))::ring_move_result AS from_null;

-- to an empty ring, to_node is NULL
SELECT ring_create('empty');
SELECT count(*), count(*) FILTER (WHERE to_node IS NULL) AS to_null,
       sum(range_end::numeric - range_start + 1) = 2^64 AS whole_space
  FROM ring_moves('songs', 'empty');
SELECT ring_move('empty', 'song-1', 0, 0);

-- the wrap-around arc is reported as two rows: one ending at the largest
-- integer, one starting at the smallest
SELECT ring_create('one', 'vnode', 1);
SELECT ring_add_node('one', 'b');
SELECT ring_add_node('one', 'a');
-- a's token is the smallest: a owns up to it, and everything after b's
SELECT ring_hash('one', 'a-0') AS a_token, ring_hash('one', 'b-0') AS b_token;
SELECT * FROM ring_moves('one', 1, 2) ORDER BY range_start;
SELECT ring_move('one', k, 1, 2) AS move
  FROM (VALUES ('song-1'), ('song-2'), ('song-3'), ('song-4')) v(k) ORDER BY k;
SELECT k, ring_hash('one', k) FROM (VALUES ('song-1'), ('song-2'), ('song-3'), ('song-4')) v(k) ORDER BY k;

-- two rings: what moves when switching from one layout to another
SELECT ring_create('four');
SELECT ring_add_node('four', 'db' || i) FROM generate_series(1, 4) i;
SELECT (SELECT count(*) FROM ring_moves('four', 'songs')) AS ranges,
       (SELECT count(*) FROM (SELECT * FROM ring_moves('four', 'songs')
                              EXCEPT SELECT * FROM moves) d) AS not_in_version_moves,
       (SELECT count(*) FROM (SELECT * FROM moves
                              EXCEPT SELECT * FROM ring_moves('four', 'songs')) d) AS missing;
-- same nodes and weights in another ring: nothing moves
SELECT ring_add_node('four', 'db5');
SELECT count(*) FROM ring_moves('songs', 'four');

-- hash % N, for comparison: adding a fifth server moves about 80%
SELECT round(avg((abs(hashtext(id)) % 4 <> abs(hashtext(id)) % 5)::int), 1) AS modulo_moves,
       round(avg((ring_move('songs', id, 1, 2) IS NOT NULL)::int), 1) AS ring_moves
  FROM songs;

-- ring_move over 40 rings in one statement, ring names varying from row to
-- row: compiled rings are evicted and freed (at most 32 are kept) and new
-- ones compiled, maybe at a freed one's address; the node map between the
-- two versions is rebuilt for each new pair of rings.  Even rings lose their
-- first node in version 2, odd ones gain one that sorts first: each pair has
-- its own map.
SELECT count(ring_create('ev' || i, vnodes => 8)) AS rings FROM generate_series(1, 40) i;
SELECT count(ring_add_node('ev' || i, n || i)) FROM generate_series(1, 40) i, unnest('{m,n,o}'::text[]) n;
SELECT count(CASE WHEN i % 2 = 0 THEN ring_remove_node('ev' || i, 'm' || i)
                  ELSE ring_add_node('ev' || i, 'a' || i) END)
  FROM generate_series(1, 40) i;
SELECT count(*) AS calls,
       count(*) FILTER (WHERE (m).from_node IS DISTINCT FROM CASE WHEN s1 IS DISTINCT FROM s2 THEN s1 END
                           OR (m).to_node IS DISTINCT FROM CASE WHEN s1 IS DISTINCT FROM s2 THEN s2 END) AS wrong,
       count(*) FILTER (WHERE m IS NOT NULL) AS moved
  FROM (SELECT ring_move(r, k, 1, 2) AS m, ring_shard(r, k, 1) AS s1, ring_shard(r, k, 2) AS s2
          FROM (SELECT 'ev' || (1 + (j * 7) % 40) AS r, 'key' || j AS k
                  FROM generate_series(1, 4000) j) x) y;
SELECT count(ring_drop('ev' || i)) FROM generate_series(1, 40) i;

DROP TABLE songs;
SELECT ring_drop(r) FROM unnest(ARRAY['songs', 'four', 'empty', 'one']) r;
