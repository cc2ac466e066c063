-- Everything a restored database must answer the same: every version of
-- every ring, looked up for 2,000 keys, plus the moves and the history.
\pset footer off
SELECT r.name, v.version, md5(string_agg(k || '=' || coalesce(ring_shard(r.name, k, v.version), ''), ',' ORDER BY k)) AS owners
  FROM consistent_ring.rings r
  JOIN consistent_ring.versions v USING (ring_id)
  CROSS JOIN (SELECT 'key-' || i AS k FROM generate_series(1, 2000) i) keys
 WHERE EXISTS (SELECT 1 FROM ring_ownership(r.name, v.version) o WHERE o.weight > 0)
 GROUP BY 1, 2 ORDER BY 1, 2;
SELECT name, md5(string_agg(m::text, ',' ORDER BY m::text)) AS moves
  FROM consistent_ring.rings r, LATERAL ring_moves(r.name, 0, r.version) m GROUP BY 1 ORDER BY 1;
SELECT ring, version, created_by, nodes, total_weight, is_current FROM ring_versions ORDER BY 1, 2;
SELECT * FROM ring_nodes ORDER BY 1, 2;
SELECT * FROM ring_pins ORDER BY 1, 2;
SELECT name, algorithm, vnodes, version, slots, table_size, token_allocation FROM consistent_ring.rings ORDER BY 1;
SELECT v, md5(string_agg(k || '=' || coalesce(ring_server('served', k, v), ''), ',' ORDER BY k)) AS servers
  FROM generate_series(1, 3) v, (SELECT 'key-' || i AS k FROM generate_series(1, 2000) i) keys GROUP BY 1 ORDER BY 1;
SELECT * FROM ring_nodes_at('served', 3);
SELECT ring, table_schema, table_name, key_column, old_version, new_version, finished_at FROM consistent_ring.migrations;
SELECT ring, server, source, phase, rows_copied FROM consistent_ring.migration_servers;
