--
-- Zones: ring_shards prefers nodes in distinct zones (Cassandra
-- NetworkTopologyStrategy's rack rule), falling back to skipped nodes in
-- clockwise order when there are too few zones.
--
SELECT ring_create('z', 'vnode', 32);
BEGIN;
SELECT ring_add_node('z', 'a1', zone => 'eu-1a');
SELECT ring_add_node('z', 'a2', zone => 'eu-1a');
SELECT ring_add_node('z', 'a3', 2, 'eu-1a');
SELECT ring_add_node('z', 'b1', zone => 'eu-1b');
SELECT ring_add_node('z', 'b2', zone => 'eu-1b');
SELECT ring_add_node('z', 'c1', zone => 'eu-1c');
SELECT ring_add_node('z', 'loose');            -- no zone: a zone of its own
COMMIT;
SELECT node, weight, zone FROM ring_nodes WHERE ring = 'z' ORDER BY node;

-- the reference: walk the tokens clockwise from the key's position
CREATE FUNCTION ref_shards(rname text, key text, n int) RETURNS text[] LANGUAGE plpgsql AS $$
DECLARE
    pos bigint := ring_hash(rname, key);
    result text[] := '{}';
    skipped text[] := '{}';
    seen text[] := '{}';
    zones text[] := '{}';
    r record;
BEGIN
    FOR r IN
        WITH t AS (
            SELECT ring_hash(rname, rn.node || '-' || i) AS token, rn.node, rn.zone
              FROM ring_nodes rn, generate_series(0, rn.vnodes - 1) i WHERE rn.ring = rname)
        SELECT * FROM (SELECT *, 0 AS lap FROM t WHERE token >= pos
                       UNION ALL SELECT *, 1 FROM t WHERE token < pos) x
         ORDER BY lap, token, node COLLATE "C"
    LOOP
        CONTINUE WHEN r.node = ANY (seen);
        seen := seen || r.node;
        IF r.zone IS NULL OR NOT r.zone = ANY (zones) THEN
            result := result || r.node;
            IF r.zone IS NOT NULL THEN zones := zones || r.zone; END IF;
        ELSE
            skipped := skipped || r.node;
        END IF;
        EXIT WHEN cardinality(result) >= n;
    END LOOP;
    RETURN (result || skipped)[1:n];
END $$;

-- every key, for 1 to 7 replicas, agrees with the reference
SELECT n, count(*) AS keys,
       count(*) FILTER (WHERE ring_shards('z', 'key' || k, n) IS DISTINCT FROM ref_shards('z', 'key' || k, n)) AS disagree
  FROM generate_series(1, 300) k, generate_series(1, 7) n GROUP BY n ORDER BY n;

-- with 3 replicas, the zones are distinct (4 zones counting the zoneless node)
SELECT count(*) FILTER (WHERE (SELECT count(DISTINCT coalesce(zone, node)) FROM ring_nodes
                                WHERE ring = 'z' AND node = ANY (ring_shards('z', 'key' || k, 3))) IS DISTINCT FROM 3) AS zones_repeated
  FROM generate_series(1, 1000) k;

-- the first replica is always the owner
SELECT count(*) FILTER (WHERE (ring_shards('z', 'key' || k, 4))[1] IS DISTINCT FROM ring_shard('z', 'key' || k)) AS first_not_owner
  FROM generate_series(1, 1000) k;

-- reweighting keeps a node's zone
SELECT ring_set_weight('z', 'b1', 3);
SELECT node, weight, zone FROM ring_nodes WHERE ring = 'z' AND node = 'b1';

-- error: bad zone names
SELECT ring_add_node('z', 'd1', zone => '');
SELECT ring_add_node('z', 'd1', zone => repeat('z', 201));
-- NULL ring, node or weight: NULL, nothing added
SELECT ring_add_node(NULL, 'd1'), ring_add_node('z', NULL), ring_add_node('z', 'd1', NULL);

DROP FUNCTION ref_shards(text, text, int);
SELECT ring_drop('z');
