--
-- ring_migrate: moving rows between servers by two versions of a ring,
-- resumed after an interruption; ring_route meanwhile.  The loopback
-- databases and servers of the servers test stand in for real servers
-- (test/tap/ has the same with five real servers).
--
-- line numbers of the procedure are not part of its messages
\set SHOW_CONTEXT never
SELECT current_setting('port') AS port,
       split_part(current_setting('unix_socket_directories'), ',', 1) AS sock \gset
\c ring_srv_a
CREATE TABLE songs (id text COLLATE "C" PRIMARY KEY, n integer, payload text);
CREATE TABLE plays (user_id bigint, song text, at integer);
\c ring_srv_b
CREATE TABLE songs (id text COLLATE "C" PRIMARY KEY, n integer, payload text);
CREATE TABLE plays (user_id bigint, song text, at integer);
\c ring_srv_c
CREATE TABLE songs (id text COLLATE "C" PRIMARY KEY, n integer, payload text);
CREATE TABLE plays (user_id bigint, song text, at integer);
\c contrib_regression
-- the coordinator's table gives the columns (and the key's collation, "C"
-- here as on the servers); its own rows are not moved
CREATE TABLE songs (id text COLLATE "C" PRIMARY KEY, n integer, payload text);
CREATE TABLE plays (user_id bigint, song text, at integer);
CREATE FOREIGN TABLE songs_a (id text, n integer, payload text) SERVER srv_a OPTIONS (table_name 'songs');
CREATE FOREIGN TABLE songs_b (id text, n integer, payload text) SERVER srv_b OPTIONS (table_name 'songs');
CREATE FOREIGN TABLE songs_c (id text, n integer, payload text) SERVER srv_c OPTIONS (table_name 'songs');
CREATE FOREIGN TABLE plays_a (user_id bigint, song text, at integer) SERVER srv_a OPTIONS (table_name 'plays');
CREATE FOREIGN TABLE plays_b (user_id bigint, song text, at integer) SERVER srv_b OPTIONS (table_name 'plays');
CREATE FOREIGN TABLE plays_c (user_id bigint, song text, at integer) SERVER srv_c OPTIONS (table_name 'plays');
CREATE VIEW all_songs AS
    SELECT 'srv_a' AS server, * FROM songs_a UNION ALL
    SELECT 'srv_b', * FROM songs_b UNION ALL
    SELECT 'srv_c', * FROM songs_c;
CREATE VIEW all_plays AS
    SELECT 'srv_a' AS server, * FROM plays_a UNION ALL
    SELECT 'srv_b', * FROM plays_b UNION ALL
    SELECT 'srv_c', * FROM plays_c;

SELECT ring_create('mv');
BEGIN;
SELECT ring_add_node('mv', 'a', server => 'srv_a');
SELECT ring_add_node('mv', 'b', server => 'srv_b');
COMMIT;
-- 3,000 songs and 6,000 plays (3 per user) placed by version 1
INSERT INTO songs_a SELECT 'song-' || i, i, md5(i::text) FROM generate_series(1, 3000) i
 WHERE ring_server('mv', 'song-' || i) = 'srv_a';
INSERT INTO songs_b SELECT 'song-' || i, i, md5(i::text) FROM generate_series(1, 3000) i
 WHERE ring_server('mv', 'song-' || i) = 'srv_b';
INSERT INTO plays_a SELECT u, 'song-' || j, j FROM generate_series(1, 2000) u, generate_series(1, 3) j
 WHERE ring_server('mv', u) = 'srv_a';
INSERT INTO plays_b SELECT u, 'song-' || j, j FROM generate_series(1, 2000) u, generate_series(1, 3) j
 WHERE ring_server('mv', u) = 'srv_b';
CREATE TABLE songs_before AS SELECT id, n, payload FROM all_songs;
SELECT sum(hashtextextended(s::text, 0)) AS checksum FROM (SELECT id, n, payload FROM all_songs) s \gset
SELECT ring_add_node('mv', 'c', server => 'srv_c');

-- what ring_move lists is what must move
SELECT count(*) FILTER (WHERE ring_move('mv', id, 1, 2) IS NOT NULL) AS to_move,
       count(*) FILTER (WHERE (ring_move('mv', id, 1, 2)).to_node = 'c') AS to_c
  FROM songs_before;

-- an interruption: srv_c refuses one of the rows (as a server that stops
-- mid-batch would), in the middle of srv_b's keys
SELECT id AS refused FROM songs_before
 WHERE ring_server('mv', id, 1) = 'srv_b' AND ring_server('mv', id, 2) = 'srv_c'
 ORDER BY id OFFSET 150 LIMIT 1 \gset
\c ring_srv_c
ALTER TABLE songs ADD CONSTRAINT not_this_one CHECK (id <> :'refused');
\c contrib_regression
SET client_min_messages = warning;
\set VERBOSITY terse
CALL ring_migrate('songs', 'id', 'mv', 1, 2, batch_size => 200);
\set VERBOSITY default
RESET client_min_messages;
-- some batches committed: no row lost or twice, and ring_route finds every
-- key where it is
SELECT count(*) AS rows, count(DISTINCT id) AS keys,
       sum(hashtextextended(s::text, 0)) = :'checksum' AS same_checksum
  FROM (SELECT id, n, payload FROM all_songs) s;
SELECT count(*) AS keys,
       count(*) FILTER (WHERE ring_route('mv', id, 'songs') = server) AS routed_right,
       count(*) FILTER (WHERE server = 'srv_c') > 0 AS some_moved,
       count(*) FILTER (WHERE server <> ring_server('mv', id, 2)) > 0 AS some_not_yet
  FROM all_songs;
SELECT server, source, done, batches > 0 AS started, last_key IS NOT NULL AS has_last_key
  FROM consistent_ring.migration_servers ORDER BY server;
SELECT ring_route('mv', :'refused'::text, 'songs') AS refused_key_is_on;
-- another migration of the table must wait for this one
SELECT ring_remove_node('mv', 'a');
CALL ring_migrate('songs', 'id', 'mv', 2, 3);
-- and a migration cannot run inside a transaction block (it commits)
BEGIN;
CALL ring_migrate('songs', 'id', 'mv', 1, 2);
ROLLBACK;
-- resumed: it finishes with the same guarantees
\c ring_srv_c
ALTER TABLE songs DROP CONSTRAINT not_this_one;
\c contrib_regression
SET client_min_messages = warning;
CALL ring_migrate('songs', 'id', 'mv', 1, 2, batch_size => 200);
RESET client_min_messages;
SELECT count(*) AS rows, count(DISTINCT id) AS keys,
       sum(hashtextextended((id, n, payload)::text, 0)) = :'checksum' AS same_checksum,
       count(*) FILTER (WHERE server IS DISTINCT FROM ring_server('mv', id, 2)) AS misplaced,
       count(*) FILTER (WHERE ring_route('mv', id, 'songs') <> server) AS routed_wrong
  FROM all_songs;
SELECT count(*) AS moved FROM all_songs a JOIN songs_before b USING (id)
 WHERE a.server <> ring_server('mv', b.id, 1);
SELECT server, source, done, keys_moved, rows_moved, rows_before, rows_after, misplaced_after,
       checksum_before IS NOT NULL AND checksum_after IS NOT NULL AS checksums
  FROM consistent_ring.migration_servers ms JOIN consistent_ring.migrations m USING (migration_id, ring)
 WHERE m.table_name = 'songs' ORDER BY server;
SELECT sum(checksum_before) = sum(checksum_after) AS checksums_agree
  FROM consistent_ring.migration_servers;
SELECT table_name, key_column, old_version, new_version, finished_at IS NOT NULL AS finished, verified
  FROM consistent_ring.migrations;

-- a removal, with the notices of each batch, on a bigint key with several
-- rows per key (a key's rows move together); a row with a NULL key has no
-- place on the ring and stays where it is
INSERT INTO plays_b VALUES (NULL, 'song-0', 0);
-- interrupted after a batch's progress committed, before its delete at the
-- source did: the source refuses the delete (as a server stopped or a
-- backend killed right then would leave it)
SELECT user_id AS refused FROM all_plays
 WHERE server = 'srv_a' GROUP BY user_id ORDER BY user_id OFFSET 500 LIMIT 1 \gset
\c ring_srv_a
CREATE FUNCTION refuse() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'the server refuses to delete user %', OLD.user_id;
END $$;
CREATE TRIGGER refuse_delete BEFORE DELETE ON plays
    FOR EACH ROW WHEN (OLD.user_id = :refused) EXECUTE FUNCTION refuse();
\c contrib_regression
\set VERBOSITY terse
CALL ring_migrate('plays', 'user_id', 'mv', 1, 3, batch_size => 400);
\set VERBOSITY default
-- the batch's keys are on their new servers and still, as leftovers, on
-- the source; ring_route names the new servers for them since the
-- progress committed, so a reader that follows it sees every key once
SELECT count(*) AS rows, count(DISTINCT user_id) AS keys,
       count(*) FILTER (WHERE server = ring_route('mv', user_id, 'plays')) AS routed_rows,
       count(DISTINCT user_id) FILTER (WHERE server = ring_route('mv', user_id, 'plays')) AS routed_keys
  FROM all_plays;
SELECT count(*) AS leftovers, count(DISTINCT user_id) AS leftover_keys,
       bool_and(server = 'srv_a') AS at_source,
       bool_and(ring_route('mv', user_id, 'plays') = ring_server('mv', user_id, 3)) AS routed_to_new,
       bool_and(user_id IN (SELECT DISTINCT user_id FROM plays_a ORDER BY 1 LIMIT 400)) AS batch_in_flight
  FROM all_plays WHERE server <> ring_route('mv', user_id, 'plays');
SELECT server, batches, pending_delete, pending_after IS NOT NULL AS has_pending_after
  FROM consistent_ring.migration_servers ms JOIN consistent_ring.migrations m USING (migration_id, ring)
 WHERE m.table_name = 'plays' ORDER BY server;
\c ring_srv_a
DROP TRIGGER refuse_delete ON plays;
\c contrib_regression
-- resumed: the pending delete first, then the next batches
CALL ring_migrate('plays', 'user_id', 'mv', 1, 3, batch_size => 400);
SELECT server, count(*) FROM all_plays WHERE user_id IS NULL GROUP BY 1;
DELETE FROM plays_b WHERE user_id IS NULL;
SELECT count(*) AS rows, count(DISTINCT user_id) AS keys,
       count(*) FILTER (WHERE server IS DISTINCT FROM ring_server('mv', user_id, 3)) AS misplaced,
       count(*) FILTER (WHERE server = 'srv_a') AS on_removed
  FROM all_plays;
-- the songs: from 2 to 3, only a's rows move
SET client_min_messages = warning;
CALL ring_migrate('songs', 'id', 'mv', 2, 3);
RESET client_min_messages;
SELECT server, source, keys_moved > 0 AS moved FROM consistent_ring.migration_servers ms
  JOIN consistent_ring.migrations m USING (migration_id, ring)
 WHERE m.old_version = 2 ORDER BY server;
SELECT count(*) AS rows, count(*) FILTER (WHERE server IS DISTINCT FROM ring_server('mv', id, 3)) AS misplaced
  FROM all_songs;
-- ring_route follows the last migration, not the newest version
SELECT ring_add_node('mv', 'a2', server => 'srv_a');
SELECT count(*) FILTER (WHERE ring_route('mv', id, 'songs') = server) AS routed_right,
       count(*) FILTER (WHERE ring_server('mv', id) <> server) > 0 AS newest_differs
  FROM all_songs;
-- run again between the same versions: nothing to move, verified
SET client_min_messages = warning;
CALL ring_migrate('songs', 'id', 'mv', 2, 3);
RESET client_min_messages;
SELECT sum(keys_moved) FROM consistent_ring.migration_servers ms
  JOIN consistent_ring.migrations m USING (migration_id) WHERE m.migration_id = (SELECT max(migration_id) FROM consistent_ring.migrations);

-- verification catches a row on the wrong server
INSERT INTO songs_b VALUES ('stray', 0, 'x');
SELECT ring_server('mv', 'stray', 3) AS stray_belongs_on;
SET client_min_messages = warning;
CALL ring_migrate('songs', 'id', 'mv', 3, 3);
RESET client_min_messages;
SELECT verified FROM consistent_ring.migrations ORDER BY migration_id DESC LIMIT 1;
DELETE FROM songs_b WHERE id = 'stray';
-- the stray row gone, a new run verifies
SET client_min_messages = warning;
CALL ring_migrate('songs', 'id', 'mv', 3, 3);
RESET client_min_messages;
SELECT verified FROM consistent_ring.migrations ORDER BY migration_id DESC LIMIT 1;
-- without verification
CALL ring_migrate('songs', 'id', 'mv', 3, 3, verify => false);
SELECT verified, finished_at IS NOT NULL AS finished FROM consistent_ring.migrations ORDER BY migration_id DESC LIMIT 1;

-- errors
CALL ring_migrate('songs', 'nope', 'mv', 1, 2);
CALL ring_migrate('songs', 'id', 'mv', 1, 2, batch_size => 0);
CALL ring_migrate('songs', 'id', 'mv', NULL, 2);
CALL ring_migrate(0, 'id', 'mv', 1, 2);
CALL ring_migrate('songs', 'id', 'nope', 1, 2);
CALL ring_migrate('songs', 'id', 'mv', 1, 99);
SELECT ring_create('mv_bare');
SELECT ring_add_node('mv_bare', 'x');
CALL ring_migrate('songs', 'id', 'mv_bare', 0, 1);
CREATE FOREIGN DATA WRAPPER ring_dummy_fdw;
CREATE SERVER srv_dummy FOREIGN DATA WRAPPER ring_dummy_fdw;
SELECT ring_set_server('mv_bare', 'x', 'srv_dummy');
CALL ring_migrate('songs', 'id', 'mv_bare', 0, 2);
CREATE SERVER srv_gone FOREIGN DATA WRAPPER postgres_fdw;
SELECT ring_set_server('mv_bare', 'x', 'srv_gone');
DROP SERVER srv_gone;
CALL ring_migrate('songs', 'id', 'mv_bare', 0, 3);
-- ring_route of a table whose key column went away during its migration
CREATE TABLE scratch (k text, v integer);
INSERT INTO consistent_ring.migrations (ring, table_schema, table_name, key_column, old_version, new_version)
     VALUES ('mv', 'public', 'scratch', 'k', 1, 2);
SELECT ring_route('mv', 'song-1'::text, 'scratch') IS NOT NULL AS routed;
ALTER TABLE scratch RENAME COLUMN k TO k2;
SELECT ring_route('mv', 'song-1'::text, 'scratch');
DELETE FROM consistent_ring.migrations WHERE table_name = 'scratch';
DROP TABLE scratch;
-- Guards, checked on every server before anything moves: each server's
-- table has the coordinator's columns (or a column's values would be lost
-- in the copy), and no foreign key at a source cascades the source deletes.
-- Version 4 (a2 on srv_a) takes keys from srv_b and srv_c.
CREATE TABLE rows_per_server AS SELECT server, count(*) FROM all_songs GROUP BY 1;
-- error: a column only a server has
\c ring_srv_b
ALTER TABLE songs ADD COLUMN rating integer;
\c contrib_regression
CALL ring_migrate('songs', 'id', 'mv', 3, 4);
\c ring_srv_b
ALTER TABLE songs DROP COLUMN rating;
\c contrib_regression
-- error: a column only the coordinator has
ALTER TABLE songs ADD COLUMN rating integer;
CALL ring_migrate('songs', 'id', 'mv', 3, 4);
ALTER TABLE songs DROP COLUMN rating;
-- error: another type, another collation, NOT NULL, generated
\c ring_srv_c
ALTER TABLE songs ALTER COLUMN n TYPE bigint;
\c contrib_regression
CALL ring_migrate('songs', 'id', 'mv', 3, 4);
\c ring_srv_c
ALTER TABLE songs ALTER COLUMN n TYPE integer, ALTER COLUMN payload TYPE text COLLATE "POSIX";
\c contrib_regression
CALL ring_migrate('songs', 'id', 'mv', 3, 4);
\c ring_srv_c
ALTER TABLE songs ALTER COLUMN payload TYPE text COLLATE "default", ALTER COLUMN n SET NOT NULL;
\c contrib_regression
CALL ring_migrate('songs', 'id', 'mv', 3, 4);
\c ring_srv_c
ALTER TABLE songs ALTER COLUMN n DROP NOT NULL;
ALTER TABLE songs ADD COLUMN n2 integer GENERATED ALWAYS AS (n * 2) STORED;
\c ring_srv_a
ALTER TABLE songs ADD COLUMN n2 integer;
\c ring_srv_b
ALTER TABLE songs ADD COLUMN n2 integer;
\c contrib_regression
ALTER TABLE songs ADD COLUMN n2 integer;
CALL ring_migrate('songs', 'id', 'mv', 3, 4);
ALTER TABLE songs DROP COLUMN n2;
\c ring_srv_a
ALTER TABLE songs DROP COLUMN n2;
\c ring_srv_b
ALTER TABLE songs DROP COLUMN n2;
\c ring_srv_c
ALTER TABLE songs DROP COLUMN n2;
\c contrib_regression
-- error: the table missing on a server
\c ring_srv_c
ALTER TABLE songs RENAME TO songs_elsewhere;
\c contrib_regression
CALL ring_migrate('songs', 'id', 'mv', 3, 4);
\c ring_srv_c
ALTER TABLE songs_elsewhere RENAME TO songs;
\c contrib_regression
-- error: a foreign key at a source that would delete other rows with the
-- moved ones
\c ring_srv_b
CREATE TABLE likes (song text COLLATE "C" REFERENCES songs (id) ON DELETE CASCADE, who text);
INSERT INTO likes SELECT id, 'someone' FROM songs;
\c contrib_regression
CALL ring_migrate('songs', 'id', 'mv', 3, 4);
-- or set their keys to NULL
\c ring_srv_b
ALTER TABLE likes DROP CONSTRAINT likes_song_fkey,
    ADD FOREIGN KEY (song) REFERENCES songs (id) ON DELETE SET NULL;
\c contrib_regression
CALL ring_migrate('songs', 'id', 'mv', 3, 4);
-- nothing moved, no migration recorded as finished
SELECT count(*) AS servers_changed FROM (
    SELECT server, count(*) FROM all_songs GROUP BY 1 EXCEPT SELECT * FROM rows_per_server) d;
SELECT count(*) AS finished FROM consistent_ring.migrations WHERE new_version = 4 AND finished_at IS NOT NULL;
DROP TABLE rows_per_server;
-- with cascade_deletes => true the user accepts it: the songs move, their
-- likes at srv_b are deleted with them
\c ring_srv_b
ALTER TABLE likes DROP CONSTRAINT likes_song_fkey,
    ADD FOREIGN KEY (song) REFERENCES songs (id) ON DELETE CASCADE;
\c contrib_regression
SET client_min_messages = warning;
CALL ring_migrate('songs', 'id', 'mv', 3, 4, cascade_deletes => true);
RESET client_min_messages;
SELECT count(*) AS rows, count(*) FILTER (WHERE server IS DISTINCT FROM ring_server('mv', id, 4)) AS misplaced
  FROM all_songs;
SELECT verified FROM consistent_ring.migrations ORDER BY migration_id DESC LIMIT 1;
\c ring_srv_b
SELECT count(*) AS likes_left, count(*) = (SELECT count(*) FROM songs) AS likes_of_songs_still_here FROM likes;
DROP TABLE likes;
\c contrib_regression

-- error: a key column of the default collation, on a server whose default
-- collation is another (keys would be ordered differently there)
SELECT CASE WHEN datcollate = 'C' THEN 'C.UTF-8' ELSE 'C' END AS other_collation
  FROM pg_database WHERE datname = current_database() \gset
CREATE DATABASE ring_srv_x TEMPLATE template0 ENCODING 'UTF8' LC_COLLATE :'other_collation' LC_CTYPE :'other_collation';
CREATE SERVER srv_x FOREIGN DATA WRAPPER postgres_fdw OPTIONS (host :'sock', port :'port', dbname 'ring_srv_x');
CREATE USER MAPPING FOR CURRENT_USER SERVER srv_x;
\c ring_srv_x
CREATE TABLE tags (tag text PRIMARY KEY, n integer);
CREATE TABLE tags_c (tag text COLLATE "C" PRIMARY KEY, n integer);
\c ring_srv_a
CREATE TABLE tags (tag text PRIMARY KEY, n integer);
CREATE TABLE tags_c (tag text COLLATE "C" PRIMARY KEY, n integer);
INSERT INTO tags SELECT 'tag-' || i, i FROM generate_series(1, 100) i;
INSERT INTO tags_c SELECT 'tag-' || i, i FROM generate_series(1, 100) i;
\c contrib_regression
CREATE TABLE tags (tag text PRIMARY KEY, n integer);
CREATE TABLE tags_c (tag text COLLATE "C" PRIMARY KEY, n integer);
SELECT ring_create('mvx');
SELECT ring_add_node('mvx', 'a', server => 'srv_a');
SELECT ring_add_node('mvx', 'x', server => 'srv_x');
\set VERBOSITY terse
CALL ring_migrate('tags', 'tag', 'mvx', 1, 2);
\set VERBOSITY default
-- an explicit collation, the same everywhere: the rows move
SET client_min_messages = warning;
CALL ring_migrate('tags_c', 'tag', 'mvx', 1, 2);
RESET client_min_messages;
SELECT verified FROM consistent_ring.migrations WHERE table_name = 'tags_c';
SELECT ring_drop('mvx');
DROP TABLE tags, tags_c;
DROP SERVER srv_x CASCADE;
DROP DATABASE ring_srv_x WITH (FORCE);

-- only the ring's owner migrates; others read the progress of rings they
-- may look up, and change none
CREATE ROLE ring_mv_other;
GRANT SELECT ON songs TO ring_mv_other;
SET ROLE ring_mv_other;
CALL ring_migrate('songs', 'id', 'mv', 2, 3);
SELECT count(*) > 0 AS sees_progress FROM consistent_ring.migrations;
UPDATE consistent_ring.migration_servers SET done = false;
INSERT INTO consistent_ring.migrations (ring, table_schema, table_name, key_column, old_version, new_version)
     VALUES ('mv', 'public', 'songs', 'id', 1, 2);
RESET ROLE;
SELECT ring_revoke('mv', 'public');
SET ROLE ring_mv_other;
SELECT count(*) AS sees_progress FROM consistent_ring.migrations;
RESET ROLE;
SELECT ring_grant('mv', 'public');
REVOKE SELECT ON songs FROM ring_mv_other;
DROP ROLE ring_mv_other;

-- the ring and its migrations go; the databases too
SELECT ring_drop('mv');
SELECT ring_drop('mv_bare');
DELETE FROM consistent_ring.migrations WHERE ring IN ('mv', 'mv_bare');
DROP VIEW all_songs, all_plays;
DROP TABLE songs, plays, songs_before;
DROP SERVER srv_dummy;
DROP FOREIGN DATA WRAPPER ring_dummy_fdw;
DROP SERVER srv_a, srv_b, srv_c CASCADE;
DROP DATABASE ring_srv_a WITH (FORCE);
DROP DATABASE ring_srv_b WITH (FORCE);
DROP DATABASE ring_srv_c WITH (FORCE);
DROP EXTENSION postgres_fdw;
