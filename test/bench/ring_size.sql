-- ns/row of ring_shard by ring size: 1001-node rings with 16, 64, 256 and
-- 1024 virtual nodes against 5 nodes and hashtextextended, 1M keys, the
-- expressions interleaved round by round (7 rounds, median) so that a
-- noisy machine slows them alike.  Run by test/bench/ring_size.sh.
\set ON_ERROR_STOP 1
\pset footer off
SET client_min_messages = warning;
CREATE EXTENSION IF NOT EXISTS consistent_ring;
CREATE TABLE size_keys AS SELECT 'song-' || i AS k FROM generate_series(1, 1000000) i;
VACUUM ANALYZE size_keys;
SELECT ring_create('size5');
SELECT count(ring_add_node('size5', 'db' || i)) FROM generate_series(1, 5) i;
SELECT ring_create('size' || v, 'vnode', v) FROM unnest('{16,64,256,1024}'::int[]) v;
SELECT count(ring_add_node('size' || v, 'node' || i)) FROM unnest('{16,64,256,1024}'::int[]) v, generate_series(1, 1001) i;
SET max_parallel_workers_per_gather = 0;
SET jit = off;
CREATE TEMP TABLE size_times (what text, ns float8);
CREATE FUNCTION size_time(q text, what text) RETURNS void LANGUAGE plpgsql AS $$
DECLARE t0 timestamptz;
BEGIN
    t0 := clock_timestamp();
    EXECUTE q;
    INSERT INTO size_times VALUES (what, extract(epoch FROM clock_timestamp() - t0) * 1e9 / 1000000);
END $$;
-- warm-up: compile every ring
SELECT size_time(format('SELECT count(ring_shard(%L, k)) FROM size_keys', r), r)
  FROM unnest('{size5,size16,size64,size256,size1024}'::text[]) r;
DELETE FROM size_times;
DO $$
BEGIN
    FOR i IN 1..7 LOOP
        PERFORM size_time('SELECT count(hashtextextended(k, 0)) FROM size_keys', 'hashtextextended');
        PERFORM size_time(format('SELECT count(ring_shard(%L, k)) FROM size_keys', r), r)
           FROM unnest('{size5,size16,size64,size256,size1024}'::text[]) r;
    END LOOP;
END $$;
SELECT t.what, c.tokens, c.bytes, round(percentile_cont(0.5) WITHIN GROUP (ORDER BY t.ns)::numeric, 1) AS "ns/row"
  FROM size_times t LEFT JOIN ring_cache_info() c ON c.ring = t.what
 GROUP BY 1, 2, 3 ORDER BY 4;
