--
-- 'cassandra' rings against the DataStax driver for Apache Cassandra:
-- partition key bytes and Murmur3Partitioner tokens of 23,486 keys, and
-- SimpleStrategy / NetworkTopologyStrategy replicas on 70 rings
-- (test/vectors/cassandra/, with the program that computed them).
--
CREATE TEMP TABLE tokens (type text, value text, key_hex text, token bigint);
CREATE TEMP TABLE ring_tokens (ring text, node text, dc text, rack text, token bigint);
CREATE TEMP TABLE replicas (ring text, key text, token bigint, simple1 text[], simple2 text[],
                            simple3 text[], nts3 text[]);
\copy tokens FROM 'test/vectors/cassandra/tokens.csv' WITH (FORMAT csv, HEADER)
\copy ring_tokens FROM 'test/vectors/cassandra/nodes.csv' WITH (FORMAT csv, HEADER)
\copy replicas FROM 'test/vectors/cassandra/replicas.csv' WITH (FORMAT csv, HEADER)

SELECT ring_create('c', 'cassandra');
SELECT ring_add_node('c', 'n1', tokens => ARRAY[0]);

-- the token of every key's bytes; the empty key has Long.MIN_VALUE, as the
-- server gives it (the driver hashes it to 0)
SELECT count(*) AS keys,
       count(*) FILTER (WHERE ring_hash('c', decode(key_hex, 'hex')) IS DISTINCT FROM token AND key_hex <> '') AS wrong_token,
       min(ring_hash('c', decode(key_hex, 'hex'))) FILTER (WHERE key_hex = '') AS empty_key_token
  FROM tokens;

-- keys of every type serialized as CQL does
SELECT type, count(*) AS keys,
       count(*) FILTER (WHERE ring_hash('c', CASE type
                WHEN 'text' THEN ring_hash('c', value)
                WHEN 'int' THEN ring_hash('c', value::int)
                WHEN 'bigint' THEN ring_hash('c', value::bigint)
                WHEN 'smallint' THEN ring_hash('c', value::smallint)
                WHEN 'uuid' THEN ring_hash('c', value::uuid)
                WHEN 'blob' THEN ring_hash('c', value::bytea) END) IS NULL) AS not_hashed,
       count(*) FILTER (WHERE CASE type
                WHEN 'text' THEN ring_hash('c', value)
                WHEN 'int' THEN ring_hash('c', value::int)
                WHEN 'bigint' THEN ring_hash('c', value::bigint)
                WHEN 'smallint' THEN ring_hash('c', value::smallint)
                WHEN 'uuid' THEN ring_hash('c', value::uuid)
                WHEN 'blob' THEN ring_hash('c', value::bytea) END IS DISTINCT FROM token AND key_hex <> '') AS wrong_token,
       count(*) FILTER (WHERE CASE type
                WHEN 'text' THEN cassandra_partition_key(value)
                WHEN 'int' THEN cassandra_partition_key(value::int)
                WHEN 'bigint' THEN cassandra_partition_key(value::bigint)
                WHEN 'smallint' THEN cassandra_partition_key(value::smallint)
                WHEN 'uuid' THEN cassandra_partition_key(value::uuid)
                WHEN 'blob' THEN cassandra_partition_key(value::bytea) END IS DISTINCT FROM decode(key_hex, 'hex')) AS wrong_bytes
  FROM tokens WHERE type NOT LIKE '%,%' GROUP BY type ORDER BY type;

-- composite partition keys
SELECT type, count(*) AS keys,
       count(*) FILTER (WHERE key IS DISTINCT FROM decode(key_hex, 'hex')) AS wrong_bytes,
       count(*) FILTER (WHERE ring_hash('c', key) IS DISTINCT FROM token) AS wrong_token
  FROM (SELECT type, key_hex, token, v, CASE type
               WHEN 'text,int' THEN cassandra_partition_key(v[1], v[2]::int)
               WHEN 'int,text' THEN cassandra_partition_key(v[1]::int, v[2])
               WHEN 'text,text' THEN cassandra_partition_key(v[1], v[2])
               WHEN 'uuid,bigint' THEN cassandra_partition_key(v[1]::uuid, v[2]::bigint)
               WHEN 'bigint,smallint,text' THEN cassandra_partition_key(v[1]::bigint, v[2]::smallint, v[3])
               WHEN 'blob,int' THEN cassandra_partition_key(v[1]::bytea, v[2]::int)
               WHEN 'int,int,int,int' THEN cassandra_partition_key(v[1]::int, v[2]::int, v[3]::int, v[4]::int)
               WHEN 'text,uuid,smallint,blob' THEN cassandra_partition_key(v[1], v[2]::uuid, v[3]::smallint, v[4]::bytea)
               END AS key
          FROM (SELECT type, key_hex, token, value::text[] AS v FROM tokens WHERE type LIKE '%,%') s) k
 GROUP BY type ORDER BY type;

-- the 70 rings: each node with its tokens, once with racks (zones:
-- NetworkTopologyStrategy) and once without (SimpleStrategy)
DO $$
DECLARE
    r record;
BEGIN
    FOR r IN SELECT ring, node, rack, array_agg(token ORDER BY token) AS tokens
               FROM ring_tokens GROUP BY ring, node, rack ORDER BY ring, node LOOP
        IF NOT EXISTS (SELECT 1 FROM ring_list WHERE ring = 'nts_' || r.ring) THEN
            PERFORM ring_create('nts_' || r.ring, 'cassandra');
            PERFORM ring_create('simple_' || r.ring, 'cassandra');
        END IF;
        PERFORM ring_add_node('nts_' || r.ring, r.node, zone => r.rack, tokens => r.tokens);
        PERFORM ring_add_node('simple_' || r.ring, r.node, tokens => r.tokens);
    END LOOP;
END $$;
SELECT count(DISTINCT ring) AS rings, count(*) AS nodes, sum(vnodes) AS tokens FROM ring_nodes WHERE ring LIKE 'simple_%';

-- SimpleStrategy, replication factor 1, 2 and 3: the driver's replicas
SELECT count(*) AS keys,
       count(*) FILTER (WHERE ring_hash('simple_' || ring, key) IS DISTINCT FROM token) AS wrong_token,
       count(*) FILTER (WHERE ring_shards('simple_' || ring, key, 1) IS DISTINCT FROM simple1) AS wrong_rf1,
       count(*) FILTER (WHERE ring_shards('simple_' || ring, key, 2) IS DISTINCT FROM simple2) AS wrong_rf2,
       count(*) FILTER (WHERE ring_shards('simple_' || ring, key, 3) IS DISTINCT FROM simple3) AS wrong_rf3,
       count(*) FILTER (WHERE ring_shard('simple_' || ring, key) IS DISTINCT FROM simple1[1]) AS wrong_owner
  FROM replicas WHERE key IS NOT NULL;

-- NetworkTopologyStrategy {'dc1': 3}: the same replicas as the driver, and
-- in the same order wherever the DC has 3 racks or more, or just one; with
-- 2 racks the server (whose rule is applied) and the driver order them
-- differently (test/vectors/cassandra/README.md)
SELECT racks, count(*) AS keys,
       count(*) FILTER (WHERE (SELECT array_agg(x ORDER BY x) FROM unnest(ring_shards('nts_' || ring, key, 3)) x)
                              IS DISTINCT FROM (SELECT array_agg(x ORDER BY x) FROM unnest(nts3) x)) AS other_set,
       count(*) FILTER (WHERE ring_shards('nts_' || ring, key, 3) IS DISTINCT FROM nts3) AS other_order,
       count(*) FILTER (WHERE (ring_shards('nts_' || ring, key, 3))[1] IS DISTINCT FROM nts3[1]) AS other_primary
  FROM replicas r
  JOIN (SELECT ring, count(DISTINCT rack) AS racks FROM ring_tokens GROUP BY ring) k USING (ring)
 WHERE key IS NOT NULL
 GROUP BY racks >= 3 OR racks = 1, racks ORDER BY racks;

-- adding a node without tokens: vnodes tokens that split the most loaded
-- ranges; only the new node gains keys
SELECT ring_create('c_grow', 'cassandra', vnodes => 16);
SELECT ring_add_node('c_grow', 'n' || i) FROM generate_series(1, 4) i \g /dev/null
SELECT ring_add_node('c_grow', 'n5');
SELECT node, vnodes, round(share::numeric, 3) AS share FROM ring_ownership('c_grow') ORDER BY node;
SELECT DISTINCT to_node FROM ring_moves('c_grow', 1, 2);
SELECT round(max_share_ratio::numeric, 3) AS max_share_ratio FROM ring_quality('c_grow');
-- explicit tokens; a node keeps them until its weight changes
SELECT ring_add_node('c_grow', 'n6', tokens => ARRAY[-9223372036854775808, 0, 42]);
SELECT vnodes FROM ring_nodes WHERE ring = 'c_grow' AND node = 'n6';
SELECT ring_shard('c_grow', decode('653cbefb85ec3111b4e38fa9bc7cbcae', 'hex')) AS max_token_owner,
       ring_hash('c_grow', decode('653cbefb85ec3111b4e38fa9bc7cbcae', 'hex')) AS normalized_token;
SELECT ring_set_weight('c_grow', 'n6', 0);
SELECT count(*) AS n6_tokens FROM ring_nodes WHERE ring = 'c_grow' AND node = 'n6' AND vnodes > 0;

-- errors
SELECT ring_add_node('c_grow', 'dup', tokens => ARRAY[5, 5]);
SELECT ring_add_node('c_grow', 'dup', tokens => ARRAY[(SELECT range_end FROM ring_moves('c_grow', 0, 1) LIMIT 1)]);
SELECT ring_add_node('c_grow', 'empty', tokens => '{}');
SELECT ring_add_node('c_grow', 'nulls', tokens => ARRAY[1, NULL]);
SELECT ring_add_node('c_grow', 'huge', 100000);
SELECT ring_add_node('c_grow', 'flat', tokens => ARRAY[[1, 2], [3, 4]]);
SELECT ring_add_node('simple_n1_even_rr3', 'x', tokens => NULL) AS version_without_tokens;
SELECT ring_create('not_cassandra');
SELECT ring_add_node('not_cassandra', 'x', tokens => ARRAY[1]);
SELECT cassandra_partition_key(now());
SELECT cassandra_partition_key(VARIADIC ARRAY[1, 2]);
SELECT cassandra_partition_key(repeat('x', 70000), 1);
SELECT cassandra_partition_key('a', NULL::int) IS NULL AS null_component;
SELECT ring_pin('c_grow', 'k', 'n1');
