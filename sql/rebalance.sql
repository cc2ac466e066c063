--
-- Balancing by data: ring_load, ring_rebalance_plan, ring_rebalance_report,
-- ring_rebalance, ring_set_capacity.  The table: 300 tenants whose row
-- counts follow Zipf's law (tenant k has ceil(3000 * k^-1.1) rows of ~80
-- bytes); every figure is checked against ring_shard over the table itself.
--
CREATE TABLE tenants (tenant integer, id integer, payload text);
INSERT INTO tenants
SELECT k, g, repeat('x', 40)
  FROM generate_series(1, 300) k, generate_series(1, ceil(3000 * k ^ -1.1)::int) g;
SELECT count(*) AS rows, count(DISTINCT tenant) AS tenants FROM tenants t;

SELECT ring_create('by_data', 'slots', slots => 64);
SELECT count(ring_add_node('by_data', 'n' || i)) FROM generate_series(1, 4) i;

-- ring_load: per slot, each slot's owner as ring_shard places its keys
SELECT count(*) AS slots, sum(rows) AS rows, sum(bytes) AS bytes, max(bytes_error) AS error
  FROM ring_load('by_data', 'tenants', 'tenant');
SELECT l.node, l.rows, l.bytes, (l.rows, l.bytes) = (p.rows, p.bytes) AS as_placed
  FROM (SELECT node, sum(rows) AS rows, sum(bytes) AS bytes
          FROM ring_load('by_data', 'tenants', 'tenant') GROUP BY 1) l
  LEFT JOIN (SELECT ring_shard('by_data', tenant) AS node, count(*) AS rows, sum(pg_column_size(t.*)) AS bytes
               FROM tenants t GROUP BY 1) p USING (node)
 ORDER BY 1;
-- a slot holds the keys whose position is in it
SELECT count(*) AS misplaced
  FROM tenants t JOIN ring_load('by_data', 'tenants', 'tenant') l
    ON ring_hash('by_data', t.tenant) BETWEEN l.first_position AND l.last_position
 WHERE (ring_hash('by_data', t.tenant) >> 58) + 32 IS DISTINCT FROM l.slot
    OR ring_shard('by_data', t.tenant) IS DISTINCT FROM l.node;

-- the report: each node before and after the plan, then the ring
SELECT node, capacity, weight, new_weight, target_bytes, rows, bytes, bytes_after,
       bytes_out, bytes_in, must_move, round(ratio::numeric, 3) AS ratio,
       round(ratio_after::numeric, 3) AS ratio_after, round(ratio_floor::numeric, 3) AS ratio_floor
  FROM ring_rebalance_report('by_data', 'tenants', 'tenant');
-- the heaviest tenant is 0.8 of a node's share: the floor is 1
SELECT round((SELECT sum(pg_column_size(t.*)) FROM tenants t WHERE tenant = 1)
             / ((SELECT sum(pg_column_size(t.*)) FROM tenants t) / 4.0), 3) AS heaviest_over_mean;

-- the plan: one row per slot, the bytes it holds, from its owner
SELECT count(*) AS moves, sum(bytes) AS bytes, count(DISTINCT slot) = count(*) AS slots_once,
       bool_and(from_node <> to_node) AS real_moves
  FROM ring_rebalance_plan('by_data', 'tenants', 'tenant');
SELECT count(*) AS wrong
  FROM ring_rebalance_plan('by_data', 'tenants', 'tenant') p
  JOIN ring_load('by_data', 'tenants', 'tenant') l USING (slot)
 WHERE p.from_node IS DISTINCT FROM l.node OR p.bytes IS DISTINCT FROM l.bytes
    OR p.rows IS DISTINCT FROM l.rows OR p.first_position IS DISTINCT FROM l.first_position;

-- apply: one new version; every key in a planned slot moved to its to_node, no other key moved
CREATE TABLE planned AS SELECT * FROM ring_rebalance_plan('by_data', 'tenants', 'tenant');
SELECT ring_rebalance('by_data', 'tenants', 'tenant');
SELECT count(*) FILTER (WHERE p.slot IS NULL AND ring_shard('by_data', t.tenant, 1) <> ring_shard('by_data', t.tenant, 2)) AS unplanned_moves,
       count(*) FILTER (WHERE p.slot IS NOT NULL AND ring_shard('by_data', t.tenant, 2) IS DISTINCT FROM p.to_node) AS misplaced,
       count(*) FILTER (WHERE p.slot IS NOT NULL) AS rows_moved
  FROM tenants t LEFT JOIN planned p ON (ring_hash('by_data', t.tenant) >> 58) + 32 = p.slot;
-- ring_moves (what ring_migrate moves) lists exactly the planned slots
SELECT count(*) AS ranges, sum(((range_end >> 58) + 32) - ((range_start >> 58) + 32) + 1) AS slots
  FROM ring_moves('by_data', 1, 2);
SELECT count(*) AS planned_slots FROM planned;
-- bytes per node as placed now: the report's bytes_after
SELECT ring_shard('by_data', tenant) AS node, sum(pg_column_size(t.*)) AS bytes
  FROM tenants t GROUP BY 1 ORDER BY 1;
-- nothing left worth moving: the same version
SELECT ring_rebalance('by_data', 'tenants', 'tenant');
SELECT count(*) AS moves FROM ring_rebalance_plan('by_data', 'tenants', 'tenant');

-- capacities: n2 should hold twice the others' share, n4 nothing (drained)
SELECT ring_set_capacity('by_data', 'n2', 2), ring_set_capacity('by_data', 'n4', 0);
SELECT node, capacity, target_bytes, bytes_after, round(ratio_after::numeric, 3) AS ratio_after
  FROM ring_rebalance_report('by_data', 'tenants', 'tenant');
SELECT ring_rebalance('by_data', 'tenants', 'tenant');
SELECT count(*) AS rows_on_n4 FROM tenants WHERE ring_shard('by_data', tenant) = 'n4';
-- back to its weight
SELECT ring_set_capacity('by_data', 'n4', NULL);
SELECT node, capacity FROM ring_rebalance_report('by_data', 'tenants', 'tenant') WHERE node = 'n4';
-- a larger threshold: fewer moves, never more
SELECT (SELECT count(*) FROM ring_rebalance_plan('by_data', 'tenants', 'tenant', 0.5))
       <= (SELECT count(*) FROM ring_rebalance_plan('by_data', 'tenants', 'tenant', 0.05)) AS fewer;

-- pinned keys count for their node and never move
SELECT ring_pin('by_data', '7', 'n3');
SELECT node, slot, rows, bytes FROM ring_load('by_data', 'tenants', 'tenant') WHERE slot IS NULL;
SELECT sum(rows) FILTER (WHERE slot IS NOT NULL) AS rows_in_slots, sum(rows) AS rows
  FROM ring_load('by_data', 'tenants', 'tenant');
SELECT ring_set_capacity('by_data', 'n3', 0);
SELECT ring_rebalance('by_data', 'tenants', 'tenant');
SELECT ring_shard('by_data', tenant) AS node, count(*) AS rows FROM tenants
 WHERE ring_shard('by_data', tenant) = 'n3' GROUP BY 1;
SELECT ring_set_capacity('by_data', 'n3', NULL);

-- any relation the caller may read: a view over two tables, a partitioned table
CREATE TABLE tenants_a AS SELECT * FROM tenants WHERE tenant % 2 = 0;
CREATE TABLE tenants_b AS SELECT * FROM tenants WHERE tenant % 2 = 1;
CREATE VIEW tenants_all AS SELECT * FROM tenants_a UNION ALL SELECT * FROM tenants_b;
CREATE TABLE tenants_p (tenant integer, id integer, payload text) PARTITION BY HASH (tenant);
CREATE TABLE tenants_p0 PARTITION OF tenants_p FOR VALUES WITH (MODULUS 2, REMAINDER 0);
CREATE TABLE tenants_p1 PARTITION OF tenants_p FOR VALUES WITH (MODULUS 2, REMAINDER 1);
INSERT INTO tenants_p SELECT * FROM tenants;
SELECT (SELECT array_agg(row(slot, rows, bytes) ORDER BY slot, node) FROM ring_load('by_data', 'tenants_all', 'tenant'))
     = (SELECT array_agg(row(slot, rows, bytes) ORDER BY slot, node) FROM ring_load('by_data', 'tenants', 'tenant')) AS view_same,
       (SELECT array_agg(row(slot, rows, bytes) ORDER BY slot, node) FROM ring_load('by_data', 'tenants_p', 'tenant'))
     = (SELECT array_agg(row(slot, rows, bytes) ORDER BY slot, node) FROM ring_load('by_data', 'tenants', 'tenant')) AS partitioned_same;

-- keys as ring_shard places them: char(n) through its text cast (trailing blanks dropped)
CREATE TABLE tenants_c AS SELECT tenant::text::char(6) AS tenant, payload FROM tenants;
SELECT l.node, (l.rows, l.bytes) = (p.rows, p.bytes) AS as_placed
  FROM (SELECT node, sum(rows) AS rows, sum(bytes) AS bytes
          FROM ring_load('by_data', 'tenants_c', 'tenant') GROUP BY 1) l
  LEFT JOIN (SELECT ring_shard('by_data', tenant) AS node, count(*) AS rows, sum(pg_column_size(t.*)) AS bytes
               FROM tenants_c t GROUP BY 1) p USING (node)
 ORDER BY 1;
-- a ring of one slot: one unit, the whole token space
SELECT ring_create('by_data_1', 'slots', slots => 1);
SELECT ring_add_node('by_data_1', 'only');
SELECT node, slot, first_position, last_position, rows FROM ring_load('by_data_1', 'tenants', 'tenant');
SELECT count(*) AS moves FROM ring_rebalance_plan('by_data_1', 'tenants', 'tenant');

-- a sample: estimates within a few standard errors, the error stated
CREATE TABLE big AS SELECT (i % 5000) AS tenant, repeat('y', 100) AS payload FROM generate_series(1, 200000) i;
SELECT abs(r.bytes - (SELECT sum(s.bytes) FROM (SELECT tenant, sum(pg_column_size(b.*)) AS bytes FROM big b GROUP BY 1) s))
       <= 6 * r.bytes_error AS total_within,
       r.bytes_error > 0 AS error_stated
  FROM ring_rebalance_report('by_data', 'big', 'tenant', sample_percent => 20) r WHERE r.node IS NULL;
SELECT bool_and(abs(r.bytes - p.bytes) <= 6 * r.bytes_error + 1) AS nodes_within
  FROM ring_rebalance_report('by_data', 'big', 'tenant', sample_percent => 20) r
  JOIN (SELECT ring_shard('by_data', tenant) AS node, sum(pg_column_size(b.*)) AS bytes FROM big b GROUP BY 1) p USING (node);

-- a 'vnode' ring: weights change; each node's capacity is recorded first
SELECT ring_create('by_data_v', 'vnode', 16);
SELECT count(ring_add_node('by_data_v', 'v' || i)) FROM generate_series(1, 4) i;
SELECT l.node, (l.rows, l.bytes) = (p.rows, p.bytes) AS as_placed
  FROM (SELECT node, sum(rows) AS rows, sum(bytes) AS bytes
          FROM ring_load('by_data_v', 'tenants', 'tenant') GROUP BY 1) l
  LEFT JOIN (SELECT ring_shard('by_data_v', tenant) AS node, count(*) AS rows, sum(pg_column_size(t.*)) AS bytes
               FROM tenants t GROUP BY 1) p USING (node)
 ORDER BY 1;
SELECT count(*) AS misplaced
  FROM tenants t JOIN ring_load('by_data_v', 'tenants', 'tenant') l
    ON ring_hash('by_data_v', t.tenant) BETWEEN l.first_position AND l.last_position
 WHERE ring_shard('by_data_v', t.tenant) IS DISTINCT FROM l.node;
CREATE TABLE planned_v AS
SELECT node, new_weight, bytes_after FROM ring_rebalance_report('by_data_v', 'tenants', 'tenant') WHERE node IS NOT NULL;
SELECT node, new_weight, new_weight * 16 = round(new_weight * 16) AS whole_vnodes FROM planned_v ORDER BY 1;
-- heavy keys pinned: each pin row is one tenant, at its position, with all its rows and bytes
CREATE TABLE plan_v AS SELECT * FROM ring_rebalance_plan('by_data_v', 'tenants', 'tenant');
SELECT count(*) FILTER (WHERE key IS NULL) > 0 AS ranges_move, count(key) AS pins,
       count(key) FILTER (WHERE from_node = to_node) AS kept_where_they_are
  FROM plan_v;
SELECT count(*) AS pins,
       count(*) FILTER (WHERE p.first_position = ring_hash('by_data_v', t.tenant)
                          AND p.last_position = p.first_position AND p.slot IS NULL
                          AND (p.rows, p.bytes) = (t.rows, t.bytes)
                          AND p.from_node = ring_shard('by_data_v', t.tenant)) AS exact
  FROM plan_v p
  JOIN (SELECT tenant, count(*) AS rows, sum(pg_column_size(x.*)) AS bytes FROM tenants x GROUP BY 1) t
    ON p.key = convert_to(t.tenant::text, 'UTF8');
-- the report's totals are the plan's
SELECT r.bytes_out = (SELECT sum(bytes) FROM plan_v WHERE from_node <> to_node) AS moved_as_planned
  FROM ring_rebalance_report('by_data_v', 'tenants', 'tenant') r WHERE r.node IS NULL;
-- weights only: no key pinned, a plan no better
SELECT count(key) AS pins FROM ring_rebalance_plan('by_data_v', 'tenants', 'tenant', max_pins => 0);
SELECT (SELECT ratio_after FROM ring_rebalance_report('by_data_v', 'tenants', 'tenant', max_pins => 0) WHERE node IS NULL)
       >= (SELECT ratio_after FROM ring_rebalance_report('by_data_v', 'tenants', 'tenant') WHERE node IS NULL) AS pins_help;
SELECT count(key) <= 3 AS at_most_3 FROM ring_rebalance_plan('by_data_v', 'tenants', 'tenant', max_pins => 3);
SELECT count(*) FROM ring_rebalance_plan('by_data_v', 'tenants', 'tenant', max_pins => 257);
SELECT count(*) FROM ring_rebalance_plan('by_data_v', 'tenants', 'tenant', max_pins => -1);
SELECT (SELECT round(ratio_after::numeric, 3) FROM ring_rebalance_report('by_data_v', 'tenants', 'tenant') WHERE node IS NULL)
       < (SELECT round(ratio::numeric, 3) FROM ring_rebalance_report('by_data_v', 'tenants', 'tenant') WHERE node IS NULL) AS improves;
SELECT ring_rebalance('by_data_v', 'tenants', 'tenant');
SELECT n.node, n.weight = p.new_weight AS weight_as_planned FROM ring_nodes n JOIN planned_v p USING (node)
 WHERE n.ring = 'by_data_v' ORDER BY 1;
SELECT p.node, s.bytes = p.bytes_after AS bytes_as_planned
  FROM planned_v p
  JOIN (SELECT ring_shard('by_data_v', tenant) AS node, sum(pg_column_size(t.*)) AS bytes FROM tenants t GROUP BY 1) s USING (node)
 ORDER BY 1;
-- the planned pins are the ring's, from the new version on
SELECT count(*) AS pins_differ
  FROM (SELECT key, to_node FROM plan_v WHERE key IS NOT NULL) p
  FULL JOIN (SELECT key, node FROM ring_pins WHERE ring = 'by_data_v' AND since_version = 2) r
    ON p.key = r.key AND p.to_node = r.node
 WHERE p.key IS NULL OR r.key IS NULL;
-- every tenant is where the plan takes it: its pin, else its range's row, else where it was
SELECT count(*) AS misplaced
  FROM tenants t
 WHERE ring_shard('by_data_v', t.tenant) IS DISTINCT FROM
       coalesce((SELECT p.to_node FROM plan_v p WHERE p.key = convert_to(t.tenant::text, 'UTF8')),
                (SELECT p.to_node FROM plan_v p
                  WHERE p.key IS NULL
                    AND CASE WHEN p.first_position <= p.last_position
                             THEN ring_hash('by_data_v', t.tenant) BETWEEN p.first_position AND p.last_position
                             ELSE ring_hash('by_data_v', t.tenant) >= p.first_position
                                  OR ring_hash('by_data_v', t.tenant) <= p.last_position END),
                ring_shard('by_data_v', t.tenant, 1));
-- capacities are the weights the nodes had: the next plan aims at the same shares
SELECT node, capacity, weight <> capacity AS reweighted
  FROM ring_rebalance_report('by_data_v', 'tenants', 'tenant') WHERE node IS NOT NULL ORDER BY 1;
SELECT pg_catalog.count(*) AS moves_left FROM ring_rebalance_plan('by_data_v', 'tenants', 'tenant');
-- draining a node: every key leaves it, those the plan pinned to it too
SELECT ring_set_capacity('by_data_v', 'v3', 0);
SELECT node, bytes_after, new_weight FROM ring_rebalance_report('by_data_v', 'tenants', 'tenant') WHERE node = 'v3';
SELECT count(*) AS pinned_to_v3 FROM ring_pins WHERE ring = 'by_data_v' AND node = 'v3';
SELECT count(*) FILTER (WHERE to_node = 'v3') AS moves_to_v3, count(key) FILTER (WHERE from_node = 'v3') AS pins_from_v3
  FROM ring_rebalance_plan('by_data_v', 'tenants', 'tenant');
SELECT ring_rebalance('by_data_v', 'tenants', 'tenant');
SELECT count(*) AS rows_on_v3 FROM tenants WHERE ring_shard('by_data_v', tenant) = 'v3';
SELECT count(*) AS pinned_to_v3 FROM ring_pins WHERE ring = 'by_data_v' AND node = 'v3';
SELECT ring_set_capacity('by_data_v', 'v3', NULL);
-- heavy keys met after the summary is full are counted exactly too: 1,000
-- one-row tenants first, then two of 500 rows on the same node; the plan
-- pins one of them elsewhere
SELECT ring_create('late', 'vnode', 16);
SELECT count(ring_add_node('late', 'l' || i)) FROM generate_series(1, 4) i;
CREATE TABLE late_heavy AS
SELECT k FROM generate_series(1000, 100000) k
 WHERE ring_shard('late', k) = ring_shard('late', 1000) ORDER BY k LIMIT 2;
CREATE TABLE late (tenant integer, payload text);
INSERT INTO late SELECT k, 'x' FROM generate_series(1, 999) k;
INSERT INTO late SELECT h.k, 'x' FROM late_heavy h, generate_series(1, 500);
SELECT count(*) AS pins, bool_and(p.key = convert_to(h.k::text, 'UTF8') AND p.rows = 500) AS heavy_tenant
  FROM ring_rebalance_plan('late', 'late', 'tenant') p
  JOIN late_heavy h ON p.key = convert_to(h.k::text, 'UTF8');
SELECT ring_drop('late');
DROP TABLE late, late_heavy;

-- a 'redis' ring: hash slots, no positions
SELECT ring_create('by_data_r', 'redis');
SELECT count(ring_add_node('by_data_r', '10.0.0.' || i || ':6379')) FROM generate_series(1, 3) i;
SELECT count(*) AS slots, sum(rows) AS rows, count(first_position) AS positions
  FROM ring_load('by_data_r', 'tenants', 'tenant');
SELECT ring_rebalance('by_data_r', 'tenants', 'tenant');
SELECT count(*) FILTER (WHERE ring_shard('by_data_r', tenant, 1) <> ring_shard('by_data_r', tenant, 2)) > 0 AS moved,
       count(*) FILTER (WHERE ring_hash('by_data_r', tenant) IS DISTINCT FROM ring_hash('by_data_r', tenant::text)) AS hash_differs
  FROM tenants;

-- a 'cassandra' ring: each token's range changes owner with its token
SELECT ring_create('by_data_c', 'cassandra', 8);
SELECT count(ring_add_node('by_data_c', 'c' || i)) FROM generate_series(1, 4) i;
SELECT count(*) AS ranges, count(slot) AS slots, sum(rows) AS rows FROM ring_load('by_data_c', 'tenants', 'tenant');
-- each row in the range of its token (the first range wraps round)
SELECT count(*) AS misplaced
  FROM tenants t JOIN ring_load('by_data_c', 'tenants', 'tenant') l
    ON CASE WHEN l.first_position <= l.last_position
            THEN ring_hash('by_data_c', t.tenant) BETWEEN l.first_position AND l.last_position
            ELSE ring_hash('by_data_c', t.tenant) >= l.first_position OR ring_hash('by_data_c', t.tenant) <= l.last_position END
 WHERE ring_shard('by_data_c', t.tenant) IS DISTINCT FROM l.node;
CREATE TABLE planned_c AS
SELECT node, bytes_after FROM ring_rebalance_report('by_data_c', 'tenants', 'tenant') WHERE node IS NOT NULL;
SELECT count(*) AS moves, bool_and(slot IS NULL) AS no_slots
  FROM ring_rebalance_plan('by_data_c', 'tenants', 'tenant');
SELECT ring_rebalance('by_data_c', 'tenants', 'tenant');
SELECT p.node, s.bytes = p.bytes_after AS bytes_as_planned
  FROM planned_c p
  JOIN (SELECT ring_shard('by_data_c', tenant) AS node, sum(pg_column_size(t.*)) AS bytes FROM tenants t GROUP BY 1) s USING (node)
 ORDER BY 1;
-- the tokens stay; only owners change: 32 tokens at both versions
SELECT (SELECT count(*) FROM ring_moves('by_data_c', 1, 2)) AS ranges_moved,
       (SELECT sum(vnodes) FROM ring_nodes WHERE ring = 'by_data_c') AS tokens;
-- a 'vnode' ring with balanced tokens: the same
SELECT ring_create('by_data_b', 'vnode', 8, token_allocation => 'balanced');
SELECT count(ring_add_node('by_data_b', 'b' || i)) FROM generate_series(1, 4) i;
CREATE TABLE planned_b AS
SELECT node, bytes_after FROM ring_rebalance_report('by_data_b', 'tenants', 'tenant') WHERE node IS NOT NULL;
SELECT ring_rebalance('by_data_b', 'tenants', 'tenant');
SELECT p.node, s.bytes = p.bytes_after AS bytes_as_planned
  FROM planned_b p
  JOIN (SELECT ring_shard('by_data_b', tenant) AS node, sum(pg_column_size(t.*)) AS bytes FROM tenants t GROUP BY 1) s USING (node)
 ORDER BY 1;

-- errors
SELECT * FROM ring_rebalance_plan('by_data', 'tenants', 'tenant', -0.1);
SELECT * FROM ring_rebalance_plan('by_data', 'tenants', 'tenant', 'NaN');
SELECT * FROM ring_rebalance_plan('by_data', 'tenants', 'tenant', improvement_threshold => 3);
SELECT * FROM ring_load('by_data', 'tenants', 'tenant', 0);
SELECT * FROM ring_load('by_data', 'tenants', 'tenant', 1e-300);
SELECT * FROM ring_load('by_data', 'tenants', 'tenant', 101);
SELECT * FROM ring_load('by_data', 'tenants', 'no_such_column');
SELECT * FROM ring_load('no_such_ring', 'tenants', 'tenant');
SELECT * FROM ring_load('by_data', 'tenants_all', 'tenant', 50);
SELECT ring_create('by_data_j', 'jump');
SELECT ring_add_node('by_data_j', 'j1');
SELECT * FROM ring_load('by_data_j', 'tenants', 'tenant');
SELECT ring_create('by_data_e', 'slots');
SELECT * FROM ring_load('by_data_e', 'tenants', 'tenant');
SELECT ring_set_capacity('by_data', 'n9', 1);
SELECT ring_set_capacity('by_data', 'n1', -1);
SELECT ring_set_capacity('by_data', 'n1', 'Infinity');
SELECT ring_set_capacity('by_data', 'n1', 0), ring_set_capacity('by_data', 'n2', 0),
       ring_set_capacity('by_data', 'n3', 0), ring_set_capacity('by_data', 'n4', 0);
SELECT * FROM ring_rebalance_plan('by_data', 'tenants', 'tenant');
SELECT count(ring_set_capacity('by_data', 'n' || i, NULL)) FROM generate_series(1, 4) i;
-- another role: the ring's lookup rights and the table's SELECT right apply; changes need the owner
CREATE ROLE regress_rebalance_other;
GRANT SELECT ON tenants TO regress_rebalance_other;
SET ROLE regress_rebalance_other;
SELECT count(*) FROM ring_rebalance_plan('by_data', 'tenants', 'tenant');
SELECT ring_rebalance('by_data', 'tenants', 'tenant');
SELECT ring_set_capacity('by_data', 'n1', 1);
SELECT count(*) FROM ring_load('by_data', 'big', 'tenant');
RESET ROLE;
REVOKE SELECT ON tenants FROM regress_rebalance_other;
DROP ROLE regress_rebalance_other;
