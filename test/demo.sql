-- The music-service walkthrough: 1,000,000 songs on 4 servers, growing to 5.
\set ON_ERROR_STOP 1
\pset footer off
\timing off
SET client_min_messages = warning;

CREATE EXTENSION consistent_ring;

\echo
\echo '== 1. A ring for the songs on four servers: one transaction, one version'
SELECT ring_create('songs');
BEGIN;
SELECT ring_add_node('songs', 'db1') AS db1, ring_add_node('songs', 'db2') AS db2,
       ring_add_node('songs', 'db3') AS db3, ring_add_node('songs', 'db4') AS db4;
COMMIT;

\echo '== 2. 1,000,000 songs'
CREATE TABLE songs AS
    SELECT id, 'Song #' || id AS title FROM generate_series(1, 1000000) AS id;

\echo '== 3. Which server holds each song: placement per row'
SELECT ring_shard('songs', id) AS server, count(*) AS songs
  FROM songs GROUP BY 1 ORDER BY 1;

\echo '== 4. Grow to five servers: version 2'
SELECT ring_add_node('songs', 'db5') AS version;
SELECT * FROM ring_versions WHERE ring = 'songs' ORDER BY version;

\echo '== 5. Hash ranges that change owner between versions 1 and 2 (first 5)'
SELECT count(*) AS moving_ranges FROM ring_moves('songs', 1, 2);
SELECT * FROM ring_moves('songs', 1, 2) ORDER BY range_start LIMIT 5;

\echo '== 6. The migration list, in one pass over the table'
CREATE TABLE migration AS
SELECT id, (m).from_node, (m).to_node
  FROM (SELECT id, ring_move('songs', id, 1, 2) AS m FROM songs) s
 WHERE m IS NOT NULL;
SELECT from_node, to_node, count(*) AS songs FROM migration GROUP BY 1, 2 ORDER BY 1, 2;

\echo '== 7. How much data moves: consistent ring against hash % N'
SELECT (SELECT count(*) FROM migration) AS ring_moves,
       round(100.0 * (SELECT count(*) FROM migration) / count(*), 1) AS ring_moves_pct,
       count(*) FILTER (WHERE (hashint4(id)::bigint + 2147483648) % 4
                           <> (hashint4(id)::bigint + 2147483648) % 5) AS modulo_moves,
       round(100.0 * count(*) FILTER (WHERE (hashint4(id)::bigint + 2147483648) % 4
                                         <> (hashint4(id)::bigint + 2147483648) % 5)
             / count(*), 1) AS modulo_moves_pct
  FROM songs;

\echo '== 8. Share of the token space each server owns now'
SELECT node, weight, vnodes, round(share::numeric, 4) AS share, round(ideal_share::numeric, 4) AS ideal_share
  FROM ring_ownership('songs') ORDER BY node;
SELECT ring_shard('songs', id) AS server, count(*) AS songs
  FROM songs GROUP BY 1 ORDER BY 1;
