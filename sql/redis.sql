--
-- 'redis' rings: Redis Cluster's hash slots, checked against answers of a
-- real redis-server and redis-cli (test/vectors/redis/, with the script
-- that produced them).
--
SELECT ring_create('rc', 'redis');
BEGIN;
SELECT ring_add_node('rc', '10.0.0.' || i || ':6379') FROM generate_series(1, 3) i;
COMMIT;

-- CLUSTER KEYSLOT of 36,425 keys: hash tags, binary keys, long keys
CREATE TEMP TABLE keyslots (category text, key_hex text, slot int);
\copy keyslots FROM 'test/vectors/redis/keyslots.csv' WITH (FORMAT csv, HEADER)
SELECT category, count(*) AS keys,
       count(*) FILTER (WHERE ring_hash('rc', decode(key_hex, 'hex')) IS DISTINCT FROM slot) AS wrong_slot
  FROM keyslots GROUP BY category ORDER BY category;

-- text keys are their UTF-8 bytes; integers and uuids their text form
SELECT count(*) AS text_keys,
       count(*) FILTER (WHERE ring_hash('rc', convert_from(decode(key_hex, 'hex'), 'UTF8')) IS DISTINCT FROM slot) AS wrong_slot
  FROM keyslots
 WHERE category IN ('plain', 'utf8');
SELECT ring_hash('rc', 42) = ring_hash('rc', '42'::text) AS int_as_text,
       ring_hash('rc', 'a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11'::uuid)
         = ring_hash('rc', 'a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11'::text) AS uuid_as_text;
SELECT ring_hash('rc', '123456789') AS crc_check_value, ring_hash('rc', '{user1000}.following') AS tag,
       ring_hash('rc', 'user1000') AS same_tag, ring_hash('rc', 'foo{}{bar}') AS empty_tag,
       ring_hash('rc', '') AS empty_key;

-- the owner of a key is the node whose slot range holds its slot
SELECT count(*) AS keys,
       count(*) FILTER (WHERE ring_shard('rc', decode(key_hex, 'hex')) IS DISTINCT FROM
                        (SELECT to_node FROM ring_moves('rc', 0, 1) m
                          WHERE k.slot BETWEEN m.range_start AND m.range_end)) AS wrong_owner
  FROM keyslots k WHERE category = 'plain';

-- redis-cli --cluster create: nodes added in one transaction, in order
CREATE TEMP TABLE layouts (masters int, node int, slot_start int, slot_end int, slot_count int);
\copy layouts FROM 'test/vectors/redis/create_layouts.csv' WITH (FORMAT csv, HEADER)
DO $$
DECLARE
    n int;
BEGIN
    FOR n IN SELECT DISTINCT masters FROM layouts ORDER BY 1 LOOP
        PERFORM ring_create('create_' || n, 'redis');
        PERFORM ring_add_node('create_' || n, format('127.0.0.1:%s', 21100 + i))
           FROM generate_series(0, n - 1) i;
    END LOOP;
END $$;
SELECT count(DISTINCT masters) AS cluster_sizes, min(masters), max(masters), count(*) AS ranges,
       count(*) FILTER (WHERE m.to_node IS NULL) AS wrong
  FROM layouts l
  LEFT JOIN ring_moves('create_' || l.masters, 0, 1) m
    ON m.range_start = l.slot_start AND m.range_end = l.slot_end
   AND m.to_node = format('127.0.0.1:%s', 21100 + l.node);
SELECT (SELECT count(*) FROM layouts) =
       (SELECT count(*) FROM (SELECT DISTINCT masters FROM layouts) s, ring_moves('create_' || s.masters, 0, 1))
       AS no_other_ranges;
-- nodes added later in that transaction take part; a removed one does not
SELECT ring_create('create_order', 'redis');
BEGIN;
SELECT ring_add_node('create_order', n) FROM unnest('{c:1,a:1,b:1,d:1}'::text[]) n;
SELECT ring_remove_node('create_order', 'd:1');
COMMIT;
SELECT * FROM ring_moves('create_order', 0, 1);

-- add-node then rebalance, and rebalance with weights (rebalance.csv)
CREATE TEMP TABLE rebalance (step text, node int, slot_start int, slot_end int, slot_count int);
\copy rebalance FROM 'test/vectors/redis/rebalance.csv' WITH (FORMAT csv, HEADER)
SELECT ring_create('rb', 'redis');
BEGIN;
SELECT ring_add_node('rb', 'node' || i) FROM generate_series(0, 2) i;
COMMIT;
SELECT ring_add_node('rb', 'node3');
BEGIN;
SELECT ring_set_weight('rb', 'node1', 2);
SELECT ring_set_weight('rb', 'node2', 4);
COMMIT;
CREATE TEMP TABLE rb_steps (step text, version int);
INSERT INTO rb_steps VALUES ('create_3', 1), ('rebalance_equal', 2), ('rebalance_weight_1_2_4_1', 3);
SELECT s.step,
       (SELECT count(*) FROM rebalance r WHERE r.step = s.step) AS ranges,
       (SELECT count(*) FROM ring_moves('rb', 0, s.version)) AS ring_ranges,
       (SELECT count(*) FROM rebalance r
          JOIN ring_moves('rb', 0, s.version) m
            ON m.range_start = r.slot_start AND m.range_end = r.slot_end AND m.to_node = 'node' || r.node
         WHERE r.step = s.step) AS same
  FROM rb_steps s ORDER BY s.version;
-- what moved on add-node: only slots to the new node, the lowest of each
SELECT * FROM ring_moves('rb', 1, 2);
SELECT node, vnodes AS slots FROM ring_nodes WHERE ring = 'rb' ORDER BY node;
SELECT node, vnodes AS slots, share, ideal_share FROM ring_ownership('rb', 3) ORDER BY node;

-- removing a node: its slots, and only its, go to the under-loaded nodes
SELECT ring_remove_node('rb', 'node2');
SELECT from_node, to_node, sum(range_end - range_start + 1) AS slots
  FROM ring_moves('rb', 3, 4) GROUP BY 1, 2 ORDER BY 1, 2;
SELECT node, vnodes AS slots FROM ring_ownership('rb') ORDER BY node;

-- per key: ring_move, replicas, quality
SELECT count(*) FILTER (WHERE ring_move('rb', 'key:' || i, 3, 4) IS NOT NULL) AS moves,
       bool_and((ring_move('rb', 'key:' || i, 3, 4)).from_node IS NOT DISTINCT FROM
                CASE WHEN ring_move('rb', 'key:' || i, 3, 4) IS NOT NULL THEN 'node2' END) AS only_from_node2
  FROM generate_series(1, 10000) i;
SELECT ring_shards('rb', 'key:1', 3) AS replicas, ring_shard('rb', 'key:1') AS owner;
SELECT nodes, round(max_share_ratio::numeric, 4) AS max_share_ratio, round(add_moved::numeric, 4) AS add_moved,
       round(add_ideal::numeric, 4) AS add_ideal FROM ring_quality('rb');

-- importing a live cluster's layout (CLUSTER SLOTS) with ring_assign_slots
SELECT ring_create('live', 'redis');
BEGIN;
SELECT ring_add_node('live', n) FROM unnest('{10.1.0.1:7000,10.1.0.2:7000,10.1.0.3:7000}'::text[]) n;
SELECT ring_assign_slots('live', '10.1.0.1:7000', 0, 4999);
SELECT ring_assign_slots('live', '10.1.0.2:7000', 5000, 5999);
SELECT ring_assign_slots('live', '10.1.0.3:7000', 6000, 16383);
SELECT ring_assign_slots('live', '10.1.0.2:7000', 100, 100);
COMMIT;
SELECT * FROM ring_moves('live', 0, 1);
SELECT slot, ring_shard('live', decode(key_hex, 'hex')) AS owner
  FROM keyslots WHERE slot IN (99, 100, 101, 4999, 5000, 16383) GROUP BY 1, 2 ORDER BY 1;
-- assigning slots to the node that holds them changes nothing
SELECT ring_assign_slots('live', '10.1.0.1:7000', 0, 99) AS version, ring_version('live');
-- moving one range later moves exactly that range
SELECT ring_assign_slots('live', '10.1.0.1:7000', 5000, 5499);
SELECT * FROM ring_moves('live', 1, 2);

-- errors
SELECT ring_assign_slots('live', '10.1.0.1:7000', -1, 10);
SELECT ring_assign_slots('live', '10.1.0.1:7000', 16000, 16384);
SELECT ring_assign_slots('live', '10.1.0.1:7000', 20, 10);
SELECT ring_assign_slots('live', 'nosuch:1', 0, 10);
SELECT ring_add_node('live', 'drained:1', 0);
SELECT ring_assign_slots('live', 'drained:1', 0, 10);
SELECT ring_create('not_redis', 'slots');
SELECT ring_assign_slots('not_redis', 'x', 0, 10);
SELECT ring_pin('live', 'hot', '10.1.0.1:7000');
SELECT ring_split_slots('live');
SELECT ring_create('bad', 'redis', slots => 1024);
