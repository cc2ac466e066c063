--
-- 'ketama' and 'libketama' rings against where real memcached clients put
-- keys: libmemcached (weighted ketama), twemproxy and uhashring placements
-- of 3,937 keys on 30 server lists (test/vectors/ketama/, with the
-- programs that recorded them).
--
CREATE TEMP TABLE lists (list text, pos int, host text, port int, weight int);
CREATE TEMP TABLE keys (key_id int, key text, hash bigint);
CREATE TEMP TABLE placements (list text, key_id int, lmc_weighted int, lmc_ketama int,
                              twemproxy int, uhashring int);
\copy lists FROM 'test/vectors/ketama/lists.csv' WITH (FORMAT csv, HEADER)
\copy keys FROM 'test/vectors/ketama/keys.csv' WITH (FORMAT csv, HEADER)
\copy placements FROM 'test/vectors/ketama/placements.csv' WITH (FORMAT csv, HEADER)

-- one ring per list and mode, servers added in list order (one transaction:
-- the order of joining is the order of the client's list).  libmemcached
-- counts a weight of 0 as 1; here 0 means "not a server", so give 1.
DO $$
DECLARE
    l text;
BEGIN
    FOR l IN SELECT DISTINCT list FROM lists ORDER BY 1 LOOP
        PERFORM ring_create('ketama_' || l, 'ketama');
        PERFORM ring_create('libketama_' || l, 'libketama');
        PERFORM ring_create('twemproxy_' || l, 'twemproxy');
        PERFORM ring_add_node('ketama_' || l, host || ':' || port, greatest(weight, 1)),
                ring_add_node('libketama_' || l, host || ':' || port, greatest(weight, 1)),
                ring_add_node('twemproxy_' || l, host || ':' || port, greatest(weight, 1))
           FROM lists WHERE list = l ORDER BY pos;
    END LOOP;
END $$;
CREATE TEMP TABLE expected AS
SELECT p.list, k.key, k.hash,
       (SELECT host || ':' || port FROM lists s WHERE s.list = p.list AND s.pos = p.lmc_weighted) AS lmc_weighted,
       (SELECT host || ':' || port FROM lists s WHERE s.list = p.list AND s.pos = p.twemproxy) AS twemproxy,
       (SELECT host || ':' || port FROM lists s WHERE s.list = p.list AND s.pos = p.uhashring) AS uhashring
  FROM placements p JOIN keys k USING (key_id) ORDER BY p.list, p.key_id;

-- the key hash (word 0 of MD5) of every key
SELECT count(*) AS keys, count(*) FILTER (WHERE ring_hash('ketama_L01', key) IS DISTINCT FROM hash) AS wrong_hash,
       count(*) FILTER (WHERE ring_hash('libketama_L01', key) IS DISTINCT FROM hash) AS wrong_hash_libketama
  FROM keys;

-- 'ketama' = libmemcached everywhere it takes the list (at most 100 servers);
-- = twemproxy except on shared points, which twemproxy gives by server name
SELECT count(*) FILTER (WHERE lmc_weighted IS NOT NULL) AS lmc_placements,
       count(*) FILTER (WHERE lmc_weighted IS NOT NULL
                          AND ring_shard('ketama_' || list, key) IS DISTINCT FROM lmc_weighted) AS lmc_differ,
       count(*) FILTER (WHERE twemproxy IS NOT NULL) AS twemproxy_placements,
       count(*) FILTER (WHERE twemproxy IS NOT NULL
                          AND ring_shard('ketama_' || list, key) IS DISTINCT FROM twemproxy) AS twemproxy_differ,
       string_agg(DISTINCT list, ',') FILTER (WHERE twemproxy IS NOT NULL
                                                AND ring_shard('ketama_' || list, key) IS DISTINCT FROM twemproxy) AS twemproxy_differ_in
  FROM expected;
-- 'twemproxy' = twemproxy everywhere: shared points go to the server whose
-- name sorts first (shorter first, then by bytes), whatever the list order
SELECT count(*) FILTER (WHERE twemproxy IS NOT NULL) AS twemproxy_placements,
       count(*) FILTER (WHERE twemproxy IS NOT NULL
                          AND ring_shard('twemproxy_' || list, key) IS DISTINCT FROM twemproxy) AS twemproxy_differ,
       count(*) FILTER (WHERE lmc_weighted IS NOT NULL
                          AND ring_shard('twemproxy_' || list, key) IS DISTINCT FROM lmc_weighted) AS lmc_differ,
       string_agg(DISTINCT list, ',') FILTER (WHERE lmc_weighted IS NOT NULL
                                                AND ring_shard('twemproxy_' || list, key) IS DISTINCT FROM lmc_weighted) AS lmc_differ_in
  FROM expected;
-- the lists libmemcached refuses (more than 100 servers) still place keys
SELECT list, count(*) AS keys, count(DISTINCT ring_shard('ketama_' || list, key)) AS servers_used
  FROM expected WHERE lmc_weighted IS NULL AND list IN ('L15', 'L16') GROUP BY list ORDER BY list;

-- 'libketama': its rules give lmc_weighted's answers on L06, L21, L22 and L30
-- (the same point strings and counts), and uhashring's on the lists where
-- point counts agree, no key hashes onto a point and no point is shared
SELECT count(*) AS placements,
       count(*) FILTER (WHERE ring_shard('libketama_' || list, key) IS DISTINCT FROM lmc_weighted) AS differ
  FROM expected WHERE list IN ('L06', 'L21', 'L22', 'L30');
SELECT count(*) AS placements,
       count(*) FILTER (WHERE ring_shard('libketama_' || list, key) IS DISTINCT FROM uhashring) AS differ
  FROM expected
 WHERE list NOT IN ('L12', 'L13', 'L14', 'L15', 'L16', 'L17', 'L27', 'L28', 'L30');

-- points per server (libmemcached's single-precision arithmetic: 39 digests,
-- 156 points, for each of 25, 61 or 100 equal servers; none for a tiny one)
CREATE TEMP TABLE points (list text, pos int, lmc_weighted int, uhashring int);
\copy points FROM 'test/vectors/ketama/points.csv' WITH (FORMAT csv, HEADER)
SELECT count(*) AS servers,
       count(*) FILTER (WHERE o.vnodes IS DISTINCT FROM p.lmc_weighted) AS differ
  FROM points p JOIN lists s USING (list, pos)
  JOIN LATERAL ring_ownership('ketama_' || p.list) o ON o.node = s.host || ':' || s.port
 WHERE p.list NOT IN ('L23', 'L24', 'L25', 'L26', 'L27', 'L28', 'L15', 'L16');
SELECT p.list, min(o.vnodes), max(o.vnodes)
  FROM points p JOIN lists s USING (list, pos)
  JOIN LATERAL ring_ownership('ketama_' || p.list) o ON o.node = s.host || ':' || s.port
 WHERE p.list IN ('L09', 'L12', 'L13', 'L18') GROUP BY 1 ORDER BY 1;

-- positions are 32-bit values; ring_moves ranges too
SELECT ring_hash('ketama_L05', 'key-0') AS key_hash, ring_hash('ketama_L05', 42) = ring_hash('ketama_L05', '42') AS int_as_text;
SELECT ring_create('grow', 'ketama');
SELECT ring_add_node('grow', '10.0.0.' || i || ':11211') FROM generate_series(1, 4) i \g /dev/null
SELECT ring_add_node('grow', '10.0.0.5:11211');
SELECT count(*) AS ranges, min(range_start) >= 0 AS from_0, max(range_end) <= 4294967295 AS to_2_32,
       bool_and(range_start <= range_end) AS ordered,
       round(sum(range_end - range_start + 1) / 4294967296.0, 2) AS moved_fraction
  FROM ring_moves('grow', 1, 2);
-- each moving range holds the keys that move
SELECT count(*) AS moved_keys,
       count(*) FILTER (WHERE NOT EXISTS (SELECT 1 FROM ring_moves('grow', 1, 2) m
                                           WHERE ring_hash('grow', 'k' || i) BETWEEN m.range_start AND m.range_end)) AS outside
  FROM generate_series(1, 20000) i WHERE ring_move('grow', 'k' || i, 1, 2) IS NOT NULL;
-- a drained server (weight 0) is not in the list
SELECT ring_set_weight('grow', '10.0.0.5:11211', 0);
SELECT count(*) AS keys, count(*) FILTER (WHERE ring_shard('grow', 'k' || i) IS DISTINCT FROM ring_shard('grow', 'k' || i, 1)) AS differ
  FROM generate_series(1, 20000) i;

-- errors
SELECT ring_add_node('grow', 'cache-a');
SELECT ring_add_node('grow', 'cache-a:0');
SELECT ring_add_node('grow', 'cache-a:011211');
SELECT ring_add_node('grow', 'cache-a:65536');
SELECT ring_add_node('grow', ':11211');
SELECT ring_add_node('grow', 'cache-a:11211', 1.5);
SELECT ring_add_node('grow', 'cache-a:11211', 4294967296);
SELECT ring_add_node('grow', 'cache-a:11211', 4294967295) AS version_with_largest_weight;
SELECT ring_pin('grow', 'hot', '10.0.0.1:11211');
SELECT ring_add_node('ketama_L01', 'no port here');
SELECT ring_add_node('twemproxy_L01', 'no port here');
-- 'libketama' takes any address as it is
SELECT ring_add_node('libketama_L01', 'no port here') AS version_with_any_name;
