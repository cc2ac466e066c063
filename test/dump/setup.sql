\set ON_ERROR_STOP 1
SET client_min_messages = warning;
CREATE EXTENSION consistent_ring;
SELECT ring_create('songs');
BEGIN;
SELECT ring_add_node('songs', 'db' || i) FROM generate_series(1, 4) i;
COMMIT;
SELECT ring_add_node('songs', 'db5', 2);
SELECT ring_set_weight('songs', 'db2', 0);
SELECT ring_remove_node('songs', 'db3');
SELECT ring_create('cache', 'vnode', 40);
SELECT ring_add_node('cache', '10.0.0.' || i || ':11211', i * 0.5) FROM generate_series(1, 6) i;
SELECT ring_create('gone');
SELECT ring_add_node('gone', 'x');
SELECT ring_drop('gone');
SELECT ring_create('empty');
-- stored tokens: slot assignments and balanced tokens come back from the dump
SELECT ring_create('slotted', 'slots', slots => 64);
SELECT ring_add_node('slotted', 's' || i, i) FROM generate_series(1, 5) i;
SELECT ring_remove_node('slotted', 's2');
SELECT ring_split_slots('slotted');
SELECT ring_create('balanced', 'vnode', 8, token_allocation => 'balanced');
SELECT ring_add_node('balanced', 'b' || i) FROM generate_series(1, 5) i;
SELECT ring_set_weight('balanced', 'b1', 2);
SELECT ring_create('maglev', 'maglev', table_size => 251);
SELECT ring_add_node('maglev', 'm' || i) FROM generate_series(1, 5) i;
SELECT ring_pin('songs', 'key-7', 'db1');
SELECT ring_pin('slotted', 42, 's3');
-- nodes on foreign servers, and a migration's progress
CREATE EXTENSION postgres_fdw;
CREATE SERVER dump_s1 FOREIGN DATA WRAPPER postgres_fdw OPTIONS (host '127.0.0.1', dbname 'd1');
CREATE SERVER dump_s2 FOREIGN DATA WRAPPER postgres_fdw OPTIONS (host '127.0.0.1', dbname 'd2');
SELECT ring_create('served');
SELECT ring_add_node('served', 'n1', server => 'dump_s1');
SELECT ring_add_node('served', 'n2', server => 'dump_s2');
SELECT ring_set_server('served', 'n1', 'dump_s2');
INSERT INTO consistent_ring.migrations (ring, table_schema, table_name, key_column, old_version, new_version)
     VALUES ('served', 'public', 'songs', 'id', 1, 2);
INSERT INTO consistent_ring.migration_servers (migration_id, ring, server, source, phase, rows_copied)
     SELECT migration_id, 'served', 'dump_s1', true, 'cut over', 500 FROM consistent_ring.migrations;
