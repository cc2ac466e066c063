--
-- ring_migrate: moving rows online between servers by two versions of a
-- ring.  The loopback databases and servers of the servers test stand in
-- for real servers (test/tap/ has real ones, with writers running
-- throughout); each runs consistent_ring too.
--
\set SHOW_CONTEXT never
SELECT current_setting('port') AS port,
       split_part(current_setting('unix_socket_directories'), ',', 1) AS sock \gset
\c ring_srv_a
CREATE EXTENSION consistent_ring;
CREATE TABLE songs (id text COLLATE "C" PRIMARY KEY, n integer, payload text);
CREATE TABLE plays (user_id bigint, song text, at integer);
\c ring_srv_b
CREATE EXTENSION consistent_ring;
CREATE TABLE songs (id text COLLATE "C" PRIMARY KEY, n integer, payload text);
CREATE TABLE plays (user_id bigint, song text, at integer);
\c ring_srv_c
CREATE TABLE songs (id text COLLATE "C" PRIMARY KEY, n integer, payload text);
CREATE TABLE plays (user_id bigint, song text, at integer);
\c contrib_regression
-- the coordinator's table gives the columns; its own rows are not moved
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

-- every server must run consistent_ring: srv_c does not yet
CALL ring_migrate('songs', 'id', 'mv', 1, 2);
SELECT server, destination, item, ok, rows, bytes, detail
  FROM ring_migrate_check('songs', 'id', 'mv', 1, 2) ORDER BY server, item, destination;
\c ring_srv_c
CREATE EXTENSION consistent_ring;
\c contrib_regression
-- the preflight: what moves from each source to each destination, and the
-- checks (nothing changes: no migration, nothing on the servers)
SELECT server, destination, item, ok, rows, bytes > 0 AS bytes, detail
  FROM ring_migrate_check('songs', 'id', 'mv', 1, 2) ORDER BY server, item, destination;
SELECT count(*) AS what_ring_move_lists,
       count(*) FILTER (WHERE (ring_move('mv', id, 1, 2)).to_node = 'c') AS to_c
  FROM songs_before WHERE ring_move('mv', id, 1, 2) IS NOT NULL;
SELECT count(*) AS migrations FROM consistent_ring.migrations;

-- an interruption: srv_c refuses one of the rows (as a server that stops
-- mid-copy would), among srv_b's moving rows
SELECT id AS refused FROM songs_before
 WHERE ring_server('mv', id, 1) = 'srv_b' AND ring_server('mv', id, 2) = 'srv_c'
 ORDER BY id OFFSET 150 LIMIT 1 \gset
\c ring_srv_c
ALTER TABLE songs ADD CONSTRAINT not_this_one CHECK (id <> :'refused');
\c contrib_regression
\set VERBOSITY terse
CALL ring_migrate('songs', 'id', 'mv', 1, 2, batch_size => 200);
\set VERBOSITY default
-- the first source cut over (its rows may still be there too: it deletes
-- them while the next source moves), the second did not: every key once
-- where ring_route finds it, none lost
SELECT count(*) AS rows, count(DISTINCT id) AS keys,
       sum(hashtextextended((id, n, payload)::text, 0)) = :'checksum' AS same_checksum
  FROM all_songs WHERE server = ring_route('mv', id, 'songs');
SELECT count(DISTINCT id) AS keys,
       count(*) FILTER (WHERE ring_route('mv', id, 'songs') = server) AS routed_right,
       count(*) FILTER (WHERE server = 'srv_c') AS on_srv_c,
       count(*) FILTER (WHERE server IS DISTINCT FROM ring_server('mv', id, 2)) > 0 AS some_not_yet
  FROM all_songs;
SELECT source, phase, rows_copied, rows_deleted, verified FROM ring_migration_progress ORDER BY source;
SELECT ring_route('mv', :'refused'::text, 'songs') AS refused_key_is_on;
-- the server records writes to the moving keys it still holds, and the
-- resumed run replays them: an update, a delete and an insert there
UPDATE songs_b SET n = -1 WHERE id = (SELECT min(id) FROM songs_before
                                       WHERE ring_server('mv', id, 1) = 'srv_b' AND ring_server('mv', id, 2) = 'srv_c');
DELETE FROM songs_b WHERE id = (SELECT max(id) FROM songs_before
                                 WHERE ring_server('mv', id, 1) = 'srv_b' AND ring_server('mv', id, 2) = 'srv_c');
INSERT INTO songs_b SELECT 'new-' || i, i, 'new' FROM generate_series(1, 50) i
 WHERE ring_server('mv', 'new-' || i, 1) = 'srv_b';
\c ring_srv_b
SELECT consistent_ring.shard_pending('songs') AS pending_changes;
\c contrib_regression
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
CALL ring_migrate('songs', 'id', 'mv', 1, 2, batch_size => 200);
SELECT count(*) AS rows, count(DISTINCT id) AS keys,
       count(*) FILTER (WHERE server IS DISTINCT FROM ring_server('mv', id, 2)) AS misplaced,
       count(*) FILTER (WHERE ring_route('mv', id, 'songs') IS DISTINCT FROM server) AS routed_wrong,
       count(*) FILTER (WHERE n = -1) AS updated, count(*) FILTER (WHERE id LIKE 'new-%') AS inserted
  FROM all_songs;
SELECT (SELECT count(*) FROM songs_before) - 1 + (SELECT count(*) FROM all_songs WHERE id LIKE 'new-%') AS expected_rows;
SELECT source, phase, rows_copied, changes_replayed > 0 AS replayed, rows_deleted, verified, lag_changes,
       fence_ms > 0 AS fenced
  FROM ring_migration_progress ORDER BY source;
SELECT table_name, key_column, old_version, new_version, finished_at IS NOT NULL AS finished, verified
  FROM consistent_ring.migrations;
-- the sources keep refusing writes to the keys that moved away (a writer
-- with a stale route), with 40001 and the key's server
INSERT INTO songs_b SELECT 'late-' || i, i, 'late' FROM generate_series(1, 50) i
 WHERE ring_server('mv', 'late-' || i, 1) = 'srv_b' AND ring_server('mv', 'late-' || i, 2) = 'srv_c' LIMIT 1;
-- keys that stay are written as always
INSERT INTO songs_b SELECT 'late-' || i, i, 'late' FROM generate_series(1, 50) i
 WHERE ring_server('mv', 'late-' || i, 2) = 'srv_b' LIMIT 1;
DELETE FROM songs_b WHERE id LIKE 'late-%';

-- a removal on a bigint key with several rows per key (a key's rows move
-- together); a row with a NULL key has no place on the ring and stays
INSERT INTO plays_b VALUES (NULL, 'song-0', 0);
-- interrupted after the cutover, before the source deleted the moved
-- rows: the source refuses the delete (as a server stopped or a backend
-- killed right then would leave it)
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
-- the keys are on their new servers, and still on the source, which
-- refuses writes to them; ring_route names the new servers, so a reader
-- that follows it sees every key once
SELECT count(DISTINCT user_id) AS keys,
       count(*) FILTER (WHERE server = ring_route('mv', user_id, 'plays')) AS routed_rows,
       count(*) FILTER (WHERE server = 'srv_a' AND server IS DISTINCT FROM ring_route('mv', user_id, 'plays')) AS left_at_srv_a,
       bool_and(server IN ('srv_a', 'srv_b')) FILTER (WHERE server IS DISTINCT FROM ring_route('mv', user_id, 'plays')) AS at_sources
  FROM all_plays;
SELECT m.table_name, p.source, p.phase FROM ring_migration_progress p
  JOIN consistent_ring.migrations m USING (migration_id) WHERE m.table_name = 'plays' ORDER BY source;
UPDATE plays_a SET at = 0 WHERE user_id = :refused;
\c ring_srv_a
DROP TRIGGER refuse_delete ON plays;
\c contrib_regression
-- resumed: the delete
CALL ring_migrate('plays', 'user_id', 'mv', 1, 3, batch_size => 400);
SELECT server, count(*) FROM all_plays WHERE user_id IS NULL GROUP BY 1;
DELETE FROM plays_b WHERE user_id IS NULL;
SELECT count(*) AS rows, count(DISTINCT user_id) AS keys,
       count(*) FILTER (WHERE server IS DISTINCT FROM ring_server('mv', user_id, 3)) AS misplaced,
       count(*) FILTER (WHERE server = 'srv_a') AS on_removed
  FROM all_plays;
-- the songs: from 2 to 3, only a's rows move
CALL ring_migrate('songs', 'id', 'mv', 2, 3);
SELECT source, rows_copied FROM ring_migration_progress p
  JOIN consistent_ring.migrations m USING (migration_id)
 WHERE m.old_version = 2 ORDER BY source;
SELECT count(*) AS rows, count(*) FILTER (WHERE server IS DISTINCT FROM ring_server('mv', id, 3)) AS misplaced
  FROM all_songs;
-- ring_route follows the last migration, not the newest version
SELECT ring_add_node('mv', 'a2', server => 'srv_a');
SELECT count(*) FILTER (WHERE ring_route('mv', id, 'songs') = server) AS routed_right,
       count(*) FILTER (WHERE ring_server('mv', id) IS DISTINCT FROM server) AS newest_differs
  FROM all_songs;
-- run again between the same versions: nothing to move, verified
CALL ring_migrate('songs', 'id', 'mv', 3, 3);
SELECT verified FROM consistent_ring.migrations ORDER BY migration_id DESC LIMIT 1;

-- verification: a destination that alters what it receives (here a
-- trigger at srv_a) is caught before anything is cut over
\c ring_srv_a
CREATE FUNCTION tamper() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    NEW.payload := 'tampered';
    RETURN NEW;
END $$;
CREATE TRIGGER tamper BEFORE INSERT ON songs FOR EACH ROW EXECUTE FUNCTION tamper();
\c contrib_regression
CREATE TABLE rows_per_server AS SELECT server, count(*) FROM all_songs WHERE payload <> 'tampered' GROUP BY 1;
CALL ring_migrate('songs', 'id', 'mv', 3, 4);
SELECT source, phase, p.verified FROM ring_migration_progress p
  JOIN consistent_ring.migrations m USING (migration_id) WHERE m.new_version = 4 ORDER BY source;
SELECT count(*) FILTER (WHERE server = ring_route('mv', id, 'songs')) AS routed_to_untampered,
       count(*) FILTER (WHERE server = ring_route('mv', id, 'songs') AND payload = 'tampered') AS routed_to_tampered
  FROM all_songs;
\c ring_srv_a
DROP TRIGGER tamper ON songs;
\c contrib_regression
-- resumed without the tampering: the copies are replaced and verify;
-- both sources copy at once
CALL ring_migrate('songs', 'id', 'mv', 3, 4, parallel => 2);
SELECT count(*) AS rows, count(*) FILTER (WHERE payload = 'tampered') AS tampered,
       count(*) FILTER (WHERE server IS DISTINCT FROM ring_server('mv', id, 4)) AS misplaced
  FROM all_songs;
SELECT verified FROM consistent_ring.migrations ORDER BY migration_id DESC LIMIT 1;
DROP TABLE rows_per_server;
-- without verification
CALL ring_migrate('songs', 'id', 'mv', 4, 4, verify => false);
SELECT verified, finished_at IS NOT NULL AS finished FROM consistent_ring.migrations ORDER BY migration_id DESC LIMIT 1;

-- errors
CALL ring_migrate('songs', 'nope', 'mv', 1, 2);
CALL ring_migrate('songs', 'id', 'mv', 1, 2, batch_size => 0);
CALL ring_migrate('songs', 'id', 'mv', 1, 2, parallel => 0);
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
SELECT ring_route('mv', 'song-1'::text, 'scratch') AS routed;
ALTER TABLE scratch RENAME COLUMN k TO k2;
SELECT ring_route('mv', 'song-1'::text, 'scratch');
DELETE FROM consistent_ring.migrations WHERE table_name = 'scratch';
DROP TABLE scratch;
-- Guards, checked on every server before anything moves: each server's
-- table has the coordinator's columns (or a column's values would be lost
-- in the copy), and no foreign key at a source cascades the source deletes.
-- Version 5 (a3 on srv_a) takes keys from srv_b and srv_c.
SELECT ring_add_node('mv', 'a3', server => 'srv_a');
CREATE TABLE rows_per_server AS SELECT server, count(*) FROM all_songs GROUP BY 1;
-- error: a column only a server has
\c ring_srv_b
ALTER TABLE songs ADD COLUMN rating integer;
\c contrib_regression
CALL ring_migrate('songs', 'id', 'mv', 4, 5);
\c ring_srv_b
ALTER TABLE songs DROP COLUMN rating;
\c contrib_regression
-- error: a column only the coordinator has
ALTER TABLE songs ADD COLUMN rating integer;
CALL ring_migrate('songs', 'id', 'mv', 4, 5);
ALTER TABLE songs DROP COLUMN rating;
-- error: another type, another collation, NOT NULL, generated
\c ring_srv_c
ALTER TABLE songs ALTER COLUMN n TYPE bigint;
\c contrib_regression
CALL ring_migrate('songs', 'id', 'mv', 4, 5);
\c ring_srv_c
ALTER TABLE songs ALTER COLUMN n TYPE integer, ALTER COLUMN payload TYPE text COLLATE "POSIX";
\c contrib_regression
CALL ring_migrate('songs', 'id', 'mv', 4, 5);
\c ring_srv_c
ALTER TABLE songs ALTER COLUMN payload TYPE text COLLATE "default", ALTER COLUMN n SET NOT NULL;
\c contrib_regression
CALL ring_migrate('songs', 'id', 'mv', 4, 5);
\c ring_srv_c
ALTER TABLE songs ALTER COLUMN n DROP NOT NULL;
ALTER TABLE songs ADD COLUMN n2 integer GENERATED ALWAYS AS (n * 2) STORED;
\c ring_srv_a
ALTER TABLE songs ADD COLUMN n2 integer;
\c ring_srv_b
ALTER TABLE songs ADD COLUMN n2 integer;
\c contrib_regression
ALTER TABLE songs ADD COLUMN n2 integer;
CALL ring_migrate('songs', 'id', 'mv', 4, 5);
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
CALL ring_migrate('songs', 'id', 'mv', 4, 5);
\c ring_srv_c
ALTER TABLE songs_elsewhere RENAME TO songs;
\c contrib_regression
-- error: a foreign key at a source that would delete other rows with the
-- moved ones
\c ring_srv_b
CREATE TABLE likes (song text COLLATE "C" REFERENCES songs (id) ON DELETE CASCADE, who text);
INSERT INTO likes SELECT id, 'someone' FROM songs;
\c contrib_regression
CALL ring_migrate('songs', 'id', 'mv', 4, 5);
-- or set their keys to NULL
\c ring_srv_b
ALTER TABLE likes DROP CONSTRAINT likes_song_fkey,
    ADD FOREIGN KEY (song) REFERENCES songs (id) ON DELETE SET NULL;
\c contrib_regression
CALL ring_migrate('songs', 'id', 'mv', 4, 5);
-- nothing moved, no migration recorded as finished
SELECT count(*) AS servers_changed FROM (
    SELECT server, count(*) FROM all_songs GROUP BY 1 EXCEPT SELECT * FROM rows_per_server) d;
SELECT count(*) AS finished FROM consistent_ring.migrations WHERE new_version = 5 AND finished_at IS NOT NULL;
DROP TABLE rows_per_server;
-- with cascade_deletes => true the user accepts it: the songs move, their
-- likes at srv_b are deleted with them
\c ring_srv_b
ALTER TABLE likes DROP CONSTRAINT likes_song_fkey,
    ADD FOREIGN KEY (song) REFERENCES songs (id) ON DELETE CASCADE;
\c contrib_regression
CALL ring_migrate('songs', 'id', 'mv', 4, 5, cascade_deletes => true);
SELECT count(*) AS rows, count(*) FILTER (WHERE server IS DISTINCT FROM ring_server('mv', id, 5)) AS misplaced
  FROM all_songs;
SELECT verified FROM consistent_ring.migrations ORDER BY migration_id DESC LIMIT 1;
\c ring_srv_b
SELECT count(*) AS likes_left, count(*) = (SELECT count(*) FROM songs) AS likes_of_songs_still_here FROM likes;
DROP TABLE likes;
\c contrib_regression

-- Keys whose text form depends on settings (here timestamptz): the
-- preflight says so, and the servers place and record them by their text
-- in ISO and UTC, whatever a writer there has set.
\c ring_srv_a
CREATE TABLE ticks (at timestamptz PRIMARY KEY, v integer);
INSERT INTO ticks SELECT timestamptz '2026-01-01 00:00:00+00' + i * interval '1 hour', i FROM generate_series(1, 200) i;
\c ring_srv_b
CREATE TABLE ticks (at timestamptz PRIMARY KEY, v integer);
-- refuses every copy: the migration stops once the source records writes
ALTER TABLE ticks ADD CONSTRAINT not_yet CHECK (v < 0);
\c contrib_regression
CREATE TABLE ticks (at timestamptz PRIMARY KEY, v integer);
CREATE FOREIGN TABLE ticks_a (at timestamptz, v integer) SERVER srv_a OPTIONS (table_name 'ticks');
CREATE FOREIGN TABLE ticks_b (at timestamptz, v integer) SERVER srv_b OPTIONS (table_name 'ticks');
SELECT ring_create('mvz');
SELECT ring_add_node('mvz', 'a', server => 'srv_a');
CALL ring_migrate('ticks', 'at', 'mvz', 1, 1);
SELECT ring_add_node('mvz', 'b', server => 'srv_b');
SELECT server, item, ok FROM ring_migrate_check('ticks', 'at', 'mvz', 1, 2) WHERE item = 'key type';
\set VERBOSITY terse
CALL ring_migrate('ticks', 'at', 'mvz', 1, 2);
\set VERBOSITY default
SET timezone = 'UTC';
SET datestyle = 'ISO';
SELECT min(at) FILTER (WHERE ring_server('mvz', at, 2) = 'srv_b') AS moving_at,
       min(at) FILTER (WHERE ring_server('mvz', at, 2) = 'srv_a') AS staying_at
  FROM ticks_a \gset
\c ring_srv_a
SET timezone = 'Asia/Tokyo';
SET datestyle = 'SQL, DMY';
UPDATE ticks SET v = -1 WHERE at = :'moving_at';
UPDATE ticks SET v = -2 WHERE at = :'staying_at';
SELECT key = :'moving_at' AS the_moving_key_in_iso_utc FROM consistent_ring.shard_changes
 WHERE relid = 'ticks'::regclass;
\c ring_srv_b
ALTER TABLE ticks DROP CONSTRAINT not_yet;
\c contrib_regression
SET client_min_messages = warning;
CALL ring_migrate('ticks', 'at', 'mvz', 1, 2);
RESET client_min_messages;
SET timezone = 'UTC';
SET datestyle = 'ISO';
SELECT count(*) AS rows, count(*) FILTER (WHERE s IS DISTINCT FROM ring_server('mvz', at, 2)) AS misplaced,
       count(*) FILTER (WHERE v < 0) AS written
  FROM (SELECT 'srv_a' AS s, * FROM ticks_a UNION ALL SELECT 'srv_b', * FROM ticks_b) x;
RESET timezone;
RESET datestyle;
SELECT ring_drop('mvz');
DELETE FROM consistent_ring.migrations WHERE ring = 'mvz';
DROP TABLE ticks;

-- A table never migrated is routed by the ring's newest version, so after
-- a ring change a writer may put a moving key on its new server before the
-- rows move: the first copy refuses to replace such rows.
\c ring_srv_b
CREATE TABLE tags (tag text COLLATE "C" PRIMARY KEY, n integer);
\c ring_srv_a
CREATE TABLE tags (tag text COLLATE "C" PRIMARY KEY, n integer);
INSERT INTO tags SELECT 'tag-' || i, i FROM generate_series(1, 100) i;
\c contrib_regression
CREATE TABLE tags (tag text COLLATE "C" PRIMARY KEY, n integer);
CREATE FOREIGN TABLE tags_a (tag text, n integer) SERVER srv_a OPTIONS (table_name 'tags');
CREATE FOREIGN TABLE tags_b (tag text, n integer) SERVER srv_b OPTIONS (table_name 'tags');
SELECT ring_create('mvt');
SELECT ring_add_node('mvt', 'a', server => 'srv_a');
SELECT ring_add_node('mvt', 'b', server => 'srv_b');
SELECT tag AS moving_tag FROM tags_a WHERE ring_server('mvt', tag, 2) = 'srv_b' ORDER BY tag LIMIT 1 \gset
SELECT ring_route('mvt', :'moving_tag'::text, 'tags') AS routed_to;
INSERT INTO tags_b VALUES (:'moving_tag', -1);
CALL ring_migrate('tags', 'tag', 'mvt', 1, 2);
-- merged by hand (the newer value kept at the source), then moved
UPDATE tags_a SET n = -1 WHERE tag = :'moving_tag';
DELETE FROM tags_b WHERE tag = :'moving_tag';
CALL ring_migrate('tags', 'tag', 'mvt', 1, 2);
SELECT count(*) AS rows, count(*) FILTER (WHERE n = -1) AS merged,
       count(*) FILTER (WHERE s IS DISTINCT FROM ring_server('mvt', tag, 2)) AS misplaced
  FROM (SELECT 'srv_a' AS s, * FROM tags_a UNION ALL SELECT 'srv_b', * FROM tags_b) x;
-- recording a table's placement first (a migration to the same version,
-- which moves nothing) makes ring_route follow it through later changes
CALL ring_migrate('plays', 'user_id', 'mvt', 2, 2);
SELECT ring_drop('mvt');
DELETE FROM consistent_ring.migrations WHERE ring = 'mvt';
DROP TABLE tags;

-- only the ring's owner migrates; others read the progress of rings they
-- may look up, and change none
CREATE ROLE ring_mv_other;
GRANT SELECT ON songs TO ring_mv_other;
SET ROLE ring_mv_other;
CALL ring_migrate('songs', 'id', 'mv', 2, 3);
SELECT count(*) AS migrations_seen FROM consistent_ring.migrations;
UPDATE consistent_ring.migration_servers SET phase = 'waiting';
INSERT INTO consistent_ring.migrations (ring, table_schema, table_name, key_column, old_version, new_version)
     VALUES ('mv', 'public', 'songs', 'id', 1, 2);
RESET ROLE;
SELECT ring_revoke('mv', 'public');
SET ROLE ring_mv_other;
SELECT count(*) AS migrations_seen FROM consistent_ring.migrations;
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
