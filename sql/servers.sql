--
-- Nodes that are real servers: ring_add_node(server =>), ring_set_server,
-- ring_server, ring_nodes_at, the ring_servers view, and PL/Proxy routing
-- by the ring (loopback databases of this cluster stand in for servers).
--
CREATE EXTENSION postgres_fdw;
SELECT current_setting('port') AS port,
       split_part(current_setting('unix_socket_directories'), ',', 1) AS sock \gset
CREATE DATABASE ring_srv_a;
CREATE DATABASE ring_srv_b;
CREATE DATABASE ring_srv_c;
CREATE SERVER srv_a FOREIGN DATA WRAPPER postgres_fdw
    OPTIONS (host :'sock', port :'port', dbname 'ring_srv_a', fetch_size '500');
CREATE SERVER srv_b FOREIGN DATA WRAPPER postgres_fdw
    OPTIONS (host :'sock', port :'port', dbname 'ring_srv_b');
CREATE SERVER srv_c FOREIGN DATA WRAPPER postgres_fdw
    OPTIONS (host :'sock', port :'port', dbname 'ring_srv_c');
CREATE USER MAPPING FOR CURRENT_USER SERVER srv_a;
CREATE USER MAPPING FOR CURRENT_USER SERVER srv_b;
CREATE USER MAPPING FOR CURRENT_USER SERVER srv_c;
-- a server that does not answer: port 1 of 127.0.0.1
CREATE SERVER srv_down FOREIGN DATA WRAPPER postgres_fdw
    OPTIONS (host '127.0.0.1', port '1', dbname 'x', connect_timeout '1');

SELECT ring_create('srv');
BEGIN;
SELECT ring_add_node('srv', 'a', server => 'srv_a');
SELECT ring_add_node('srv', 'b', server => 'srv_b');
SELECT ring_add_node('srv', 'd', 2, server => 'srv_down');
SELECT ring_add_node('srv', 'e');
COMMIT;
SELECT ring, node, server, since_version FROM ring_nodes WHERE ring = 'srv' ORDER BY node;
SELECT node, server, wrapper, connection ~ ',ring_srv_' OR connection = '127.0.0.1,1,x' AS connection,
       status, reachable
  FROM ring_servers WHERE ring = 'srv' ORDER BY node;
SELECT * FROM ring_nodes_at('srv', 1);

-- ring_server is the owner's server, for every key type; NULL for a node
-- without one
SELECT count(*) AS keys,
       count(*) FILTER (WHERE ring_server('srv', k) IS DISTINCT FROM
                        (SELECT server FROM ring_nodes_at('srv', 1) WHERE node = ring_shard('srv', k))) AS wrong,
       count(*) FILTER (WHERE ring_server('srv', k) IS NULL) AS on_e
  FROM (SELECT 'song-' || i AS k FROM generate_series(1, 2000) i) s;
SELECT ring_server('srv', 42) IS NOT DISTINCT FROM ring_server('srv', '42'::text) AS int_as_text,
       ring_server('srv', 4242::bigint) IS NOT DISTINCT FROM ring_server('srv', '4242') AS bigint_as_text,
       ring_server('srv', '\x01'::bytea) IS NOT DISTINCT FROM
           (SELECT server FROM ring_nodes_at('srv', 1) WHERE node = ring_shard('srv', '\x01'::bytea)) AS bytea,
       ring_server('srv', 'a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11'::uuid) IS NOT DISTINCT FROM
           (SELECT server FROM ring_nodes_at('srv', 1) WHERE node = ring_shard('srv', 'a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11'::uuid)) AS uuid;

-- ring_set_server: a new version with the same placement
SELECT ring_set_server('srv', 'e', 'srv_c');
SELECT ring_set_server('srv', 'e', 'srv_c') AS unchanged_version;
SELECT count(*) FILTER (WHERE ring_shard('srv', k, 1) IS DISTINCT FROM ring_shard('srv', k, 2)) AS moved,
       count(*) FILTER (WHERE ring_server('srv', k, 1) IS DISTINCT FROM ring_server('srv', k, 2)) AS changed_server,
       count(*) FILTER (WHERE ring_shard('srv', k, 1) = 'e') AS on_e
  FROM (SELECT 'song-' || i AS k FROM generate_series(1, 2000) i) s;
SELECT count(*) FROM ring_moves('srv', 1, 2);
SELECT ring_set_server('srv', 'd', NULL);
SELECT node, server FROM ring_nodes_at('srv', 3);
SELECT node, server FROM ring_nodes_at('srv', 1);
-- a reweighted node keeps its server
SELECT ring_set_weight('srv', 'a', 3);
SELECT node, weight, server FROM ring_nodes_at('srv', 4) WHERE node = 'a';

-- a 'jump' ring keeps every node's bucket across ring_set_server
SELECT ring_create('srvjump', 'jump');
BEGIN;
SELECT count(ring_add_node('srvjump', 'n' || i)) FROM generate_series(1, 10) i;
COMMIT;
SELECT ring_remove_node('srvjump', 'n3');
BEGIN;
SELECT ring_set_server('srvjump', 'n5', 'srv_a');
SELECT ring_set_server('srvjump', 'n7', 'srv_b');
SELECT ring_set_server('srvjump', 'n2', 'srv_c');
COMMIT;
SELECT count(*) FILTER (WHERE ring_shard('srvjump', i, 2) IS DISTINCT FROM ring_shard('srvjump', i, 3)) AS moved
  FROM generate_series(1, 5000) i;

-- errors
SELECT ring_add_node('srv', 'x', server => 'no_such_server');
SELECT ring_add_node('srv', 'x', server => '');
SELECT ring_add_node('srv', 'x', server => repeat('s', 201));
SELECT ring_set_server('srv', 'x', 'srv_a');
SELECT ring_set_server('srv', 'a', 'no_such_server');
SELECT ring_set_server('nope', 'a', 'srv_a');
SELECT ring_server('nope', 'k');
SELECT ring_server('srv', 'k', 99);
SELECT * FROM ring_nodes_at('srv', 99);
SELECT ring_set_server(NULL, 'a', 'srv_a') IS NULL AS null_ring;

--
-- PL/Proxy: every ring is a cluster (extension consistent_ring_plproxy)
--
CREATE EXTENSION plproxy;
CREATE EXTENSION consistent_ring_plproxy;
SELECT ring_create('px');
BEGIN;
SELECT ring_add_node('px', 'a', server => 'srv_a');
SELECT ring_add_node('px', 'b', server => 'srv_b');
SELECT ring_add_node('px', 'c', server => 'srv_c');
COMMIT;
-- three nodes, padded to four partitions by repeating the first
SELECT replace(replace(p, :'sock', 'SOCK'), :'port', 'PORT') AS partition
  FROM plproxy.get_cluster_partitions('px') p;
SELECT * FROM plproxy.get_cluster_config('px');
SELECT plproxy.get_cluster_version('px') = ring_plproxy_version('px') AS same_version;
SELECT count(*) FILTER (WHERE ring_partition('px', 'song-' || i) =
                        (SELECT n - 1 FROM (SELECT node, row_number() OVER (ORDER BY node) AS n
                                              FROM ring_nodes_at('px', 1)) o
                          WHERE node = ring_shard('px', 'song-' || i))) AS agree
  FROM generate_series(1, 1000) i;

-- a proxy function: each call must run on the key's owner
\c ring_srv_a
CREATE FUNCTION whereami(k text) RETURNS text LANGUAGE sql AS $$SELECT current_database()::text$$;
\c ring_srv_b
CREATE FUNCTION whereami(k text) RETURNS text LANGUAGE sql AS $$SELECT current_database()::text$$;
\c ring_srv_c
CREATE FUNCTION whereami(k text) RETURNS text LANGUAGE sql AS $$SELECT current_database()::text$$;
\c contrib_regression
CREATE FUNCTION whereami(k text) RETURNS text LANGUAGE plproxy AS $$
    CLUSTER 'px';
    RUN ON ring_partition('px', k);
$$;
CREATE TABLE srv_db AS
    SELECT srvname AS server, (SELECT option_value FROM pg_options_to_table(srvoptions) WHERE option_name = 'dbname') AS db
      FROM pg_foreign_server;
SELECT count(*) AS calls,
       count(*) FILTER (WHERE whereami(k) = (SELECT db FROM srv_db WHERE server = ring_server('px', k))) AS on_owner
  FROM (SELECT 'song-' || i AS k FROM generate_series(1, 1000) i) s;
-- the ring changes: the next calls follow it, no reconfiguration
SELECT plproxy.get_cluster_version('px') AS v1 \gset
SELECT ring_remove_node('px', 'b');
SELECT plproxy.get_cluster_version('px') <> :v1 AS version_changed;
SELECT replace(replace(p, :'sock', 'SOCK'), :'port', 'PORT') AS partition FROM plproxy.get_cluster_partitions('px') p;
SELECT count(*) AS calls,
       count(*) FILTER (WHERE whereami(k) = (SELECT db FROM srv_db WHERE server = ring_server('px', k))) AS on_owner,
       count(*) FILTER (WHERE whereami(k) = 'ring_srv_b') AS on_removed
  FROM (SELECT 'song-' || i AS k FROM generate_series(1, 1000) i) s;
-- a server's options change: so does the version
SELECT plproxy.get_cluster_version('px') AS v2 \gset
ALTER SERVER srv_c OPTIONS (ADD application_name 'ring');
SELECT plproxy.get_cluster_version('px') <> :v2 AS version_changed;
-- user mapping options (user, password) are in the current user's partitions
ALTER USER MAPPING FOR CURRENT_USER SERVER srv_a OPTIONS (ADD user 'ring_px_user');
SELECT count(*) FILTER (WHERE p LIKE '%user=''ring_px_user''') AS with_user
  FROM plproxy.get_cluster_partitions('px') p;
ALTER USER MAPPING FOR CURRENT_USER SERVER srv_a OPTIONS (DROP user);
-- credentials only as pg_user_mappings shows them: one's own mapping with
-- USAGE on the server; a PUBLIC mapping only to the server's owner
CREATE ROLE ring_px_reader;
CREATE USER MAPPING FOR PUBLIC SERVER srv_c OPTIONS (password 'public-secret');
CREATE USER MAPPING FOR ring_px_reader SERVER srv_a OPTIONS (user 'reader', password 'reader-secret');
SET ROLE ring_px_reader;
SELECT count(*) FILTER (WHERE p LIKE '%secret%') AS secrets_seen FROM plproxy.get_cluster_partitions('px') p;
RESET ROLE;
GRANT USAGE ON FOREIGN SERVER srv_a, srv_c TO ring_px_reader;
SET ROLE ring_px_reader;
SELECT count(*) FILTER (WHERE p LIKE '%reader-secret%') AS own_secret,
       count(*) FILTER (WHERE p LIKE '%public-secret%') AS public_secret
  FROM plproxy.get_cluster_partitions('px') p;
RESET ROLE;
-- the server's owner sees the PUBLIC mapping's
GRANT USAGE ON FOREIGN DATA WRAPPER postgres_fdw TO ring_px_reader;
ALTER SERVER srv_c OWNER TO ring_px_reader;
SET ROLE ring_px_reader;
SELECT count(*) FILTER (WHERE p LIKE '%public-secret%') AS public_secret
  FROM plproxy.get_cluster_partitions('px') p;
RESET ROLE;
ALTER SERVER srv_c OWNER TO CURRENT_USER;
REVOKE USAGE ON FOREIGN DATA WRAPPER postgres_fdw FROM ring_px_reader;
DROP USER MAPPING FOR PUBLIC SERVER srv_c;
DROP USER MAPPING FOR ring_px_reader SERVER srv_a;
REVOKE USAGE ON FOREIGN SERVER srv_a, srv_c FROM ring_px_reader;
-- error: a ring's owner may only name servers it may use (USAGE), as for a
-- foreign table
SET ROLE ring_px_reader;
SELECT ring_create('px_reader_ring');
SELECT ring_add_node('px_reader_ring', 'a', server => 'srv_a');
SELECT ring_add_node('px_reader_ring', 'a');
SELECT ring_set_server('px_reader_ring', 'a', 'srv_a');
RESET ROLE;
GRANT USAGE ON FOREIGN SERVER srv_a TO ring_px_reader;
SET ROLE ring_px_reader;
SELECT ring_set_server('px_reader_ring', 'a', 'srv_a');
SELECT ring_drop('px_reader_ring');
RESET ROLE;
REVOKE USAGE ON FOREIGN SERVER srv_a FROM ring_px_reader;
DROP ROLE ring_px_reader;
-- errors
SELECT * FROM plproxy.get_cluster_partitions('srv');
SELECT * FROM plproxy.get_cluster_partitions('nope');
-- a node's server dropped after it was named
CREATE SERVER srv_gone FOREIGN DATA WRAPPER postgres_fdw;
SELECT ring_create('px_gone');
SELECT ring_add_node('px_gone', 'g', server => 'srv_gone');
DROP SERVER srv_gone;
SELECT * FROM plproxy.get_cluster_partitions('px_gone');
SELECT ring_drop('px_gone');
SELECT ring_create('px_empty');
SELECT * FROM plproxy.get_cluster_partitions('px_empty');
SELECT plproxy.get_cluster_version('px_empty');

-- without the extension, PL/Proxy finds no cluster of that name
DROP FUNCTION whereami(text);
DROP EXTENSION consistent_ring_plproxy;
SELECT to_regprocedure('plproxy.get_cluster_partitions(text)') AS gone;
DROP EXTENSION plproxy;
DROP TABLE srv_db;
SELECT ring_drop('px');
SELECT ring_drop('px_empty');
SELECT ring_drop('srvjump');
SELECT ring_drop('srv');
DROP SERVER srv_down;
