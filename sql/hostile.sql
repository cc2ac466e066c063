--
-- Hostile input: thousands of random calls of every public function with
-- random rings, nodes, weights, vnodes, versions and keys of every type.
-- Each call either succeeds with a correct answer (checked against a
-- reference written here in SQL from the catalog and the positions of
-- test/vectors/hostile.csv) or fails with one of the documented SQLSTATEs;
-- never an internal error.
--
SELECT setseed(0.4242);
-- rings other tests left: not this test's to count or drop
CREATE TEMP TABLE rings_before AS SELECT ring_id FROM consistent_ring.rings;

SELECT ring_create('h1', 'vnode', 8);
SELECT ring_create('h2', 'vnode', 1);
SELECT ring_create('h3', 'vnode', 32);
SELECT ring_add_node('h1', n) FROM unnest(ARRAY['a', 'b', 'c']) n;
SELECT ring_add_node('h2', n, 2) FROM unnest(ARRAY['a', 'd']) n;
SELECT ring_add_node('h3', n, 0.5) FROM unnest(ARRAY['b', 'c', 'nœud']) n;

-- pools of hostile values
CREATE TEMP TABLE ring_pool (v text);
INSERT INTO ring_pool VALUES ('h1'), ('h2'), ('h3'), ('h1'), ('h2'), ('h3'), ('nope'), (''),
    (repeat('r', 200)), (repeat('r', 201)), (repeat('x', 10000)), ('é日本'), (E'bin\x01\x7f'), (NULL);
CREATE TEMP TABLE node_pool (v text);
INSERT INTO node_pool VALUES ('a'), ('b'), ('c'), ('d'), ('a-1'), ('a-1-0'), ('nœud'), (''), (' '),
    (repeat('n', 200)), (repeat('n', 201)), (repeat('é', 100)), (repeat('é', 101)), (E'\x01\x02'), (NULL);
CREATE TEMP TABLE role_pool (v text);
INSERT INTO role_pool VALUES ('public'), ('PUBLIC'), ('regress_nobody'), (''), (current_user), (NULL);
CREATE TEMP TABLE weight_pool (v float8);
INSERT INTO weight_pool VALUES (1), (2), (0.5), (0), ('-0'), (1e-300), (3.7), (-1), ('NaN'), ('Infinity'),
    ('-Infinity'), (1e308), (5000), (NULL);
CREATE TEMP TABLE int_pool (v int);
INSERT INTO int_pool VALUES (-2147483648), (-1), (0), (1), (2), (3), (5), (10), (1000), (65536), (65537),
    (2147483647), (NULL);

-- a random value of a pool, as an SQL literal (numbers unquoted)
CREATE FUNCTION pick(tab regclass) RETURNS text LANGUAGE plpgsql AS $$
DECLARE r text;
BEGIN
    EXECUTE format('SELECT CASE WHEN pg_typeof(v) = ''integer''::regtype THEN coalesce(v::text, ''NULL'')
                                ELSE quote_nullable(v) END
                      FROM %s ORDER BY random() LIMIT 1', tab) INTO r;
    RETURN r;
END $$;

-- The keys and the tokens of the reference: test/vectors/hostile.csv, from
-- test/vectors/hostile_reference.py (python3-xxhash, outside the
-- extension), so that the reference does not take the keys' positions, nor
-- the tokens of nodes of weights up to 3.7, from ring_hash: pools of keys
-- of every type (text: 'k<n>', 'z' x 0..3000, 'é<n>'; smallint, integer and
-- bigint with their extremes, uuid, bytea, the empty bytea, numeric, date,
-- NULL) with their positions, and the tokens of the virtual nodes 0..127 of
-- every valid name of the node pool.
CREATE TEMP TABLE hostile_vectors (kind text, key_type text, key text, i int, position bigint);
\copy hostile_vectors FROM 'test/vectors/hostile.csv' WITH (FORMAT csv, HEADER)
CREATE TEMP TABLE key_pool AS
SELECT kind, CASE WHEN key IS NULL THEN 'NULL::' || key_type ELSE quote_literal(key) || '::' || key_type END AS lit,
       position
  FROM hostile_vectors WHERE kind <> 'token';
CREATE UNIQUE INDEX ON key_pool (lit);
CREATE TEMP TABLE ref_tokens AS SELECT key AS node, i, position AS token FROM hostile_vectors WHERE kind = 'token';
CREATE UNIQUE INDEX ON ref_tokens (node, i);
SELECT kind, count(*) AS keys, count(position) AS positions FROM key_pool GROUP BY kind ORDER BY kind;
SELECT count(DISTINCT node) AS token_nodes, count(*) AS tokens FROM ref_tokens;
-- date keys are placed by their text form: the reference's is ISO
SET datestyle = 'ISO, MDY';

-- a key literal of a random type, from the pool
CREATE FUNCTION pick_key() RETURNS text LANGUAGE plpgsql AS $$
DECLARE k text;
BEGIN
    k := (ARRAY['k', 'z', 'é', 'smallint', 'integer', 'bigint', 'bigint_min', 'uuid', 'bytea', 'bytea_empty',
                'numeric', 'date', 'null_text', 'null_integer'])[1 + floor(random() * 14)::int];
    RETURN (SELECT lit FROM key_pool WHERE kind = k ORDER BY random() LIMIT 1);
END $$;

-- the virtual nodes of version ver of ring, from the catalog, with their
-- tokens from the reference; past its 128 per node name (a weight of 5000
-- gives 160,000), the token is ring_hash's and from_vectors false
CREATE FUNCTION ref_ring(ring text, ver int) RETURNS TABLE (token bigint, node text, from_vectors bool)
LANGUAGE sql STABLE AS $$
    SELECT coalesce(k.token, ring_hash(ring, n.node || '-' || v.i)), n.node, k.token IS NOT NULL
      FROM consistent_ring.rings r
      JOIN consistent_ring.nodes n ON n.ring_id = r.ring_id AND n.added_in <= ver
                                  AND (n.removed_in IS NULL OR n.removed_in > ver)
      CROSS JOIN LATERAL generate_series(0,
            CASE WHEN n.weight > 0 THEN greatest(1, floor(r.vnodes * n.weight + 0.5))::int ELSE 0 END - 1) v(i)
      LEFT JOIN ref_tokens k ON k.node = n.node AND k.i = v.i
     WHERE r.name = ring
$$;

-- the owner of position pos in version ver of ring
CREATE FUNCTION ref_owner(ring text, ver int, pos bigint) RETURNS text LANGUAGE sql STABLE AS $$
    WITH t AS (SELECT token, node FROM ref_ring(ring, ver))
    SELECT coalesce((SELECT node FROM t WHERE token >= pos ORDER BY token, node COLLATE "C" LIMIT 1),
                    (SELECT node FROM t ORDER BY token, node COLLATE "C" LIMIT 1))
$$;

-- whether the reference has every token of version ver of ring (its
-- tokens of a name are 0, 1, 2, ...)
CREATE FUNCTION ref_complete(ring text, ver int) RETURNS bool LANGUAGE sql STABLE AS $$
    SELECT coalesce(bool_and(CASE WHEN n.weight > 0 THEN greatest(1, floor(r.vnodes * n.weight + 0.5)) ELSE 0 END
                             <= (SELECT count(*) FROM ref_tokens k WHERE k.node = n.node)), true)
      FROM consistent_ring.rings r
      JOIN consistent_ring.nodes n ON n.ring_id = r.ring_id AND n.added_in <= ver
                                  AND (n.removed_in IS NULL OR n.removed_in > ver)
     WHERE r.name = ring
$$;

CREATE TEMP TABLE outcomes (fn text, state text, checked bool, wrong bool, complete bool);

CREATE FUNCTION hostile(n int) RETURNS void LANGUAGE plpgsql AS $$
DECLARE
    fn text; sql text; ring text; key text; ver text; result text; res_arr text[];
    st text; wrong bool; checked bool; complete bool; rname text; v int; v2 int; pos bigint; expect text;
BEGIN
    FOR i IN 1..n LOOP
        fn := (ARRAY['ring_create', 'ring_add_node', 'ring_remove_node', 'ring_set_weight',
                     'ring_drop', 'ring_version', 'ring_hash', 'ring_shard', 'ring_shard_at',
                     'ring_shards', 'ring_move', 'ring_moves', 'ring_ownership',
                     'ring_shard', 'ring_shard', 'ring_move', 'ring_shards',
                     'ring_spread', 'ring_add_zoned', 'ring_grant', 'ring_revoke',
                     'ring_quality', 'ring_svg', 'ring_svg_moves'])[1 + floor(random() * 24)::int];
        ring := pick('ring_pool'); key := pick_key(); ver := pick('int_pool');
        IF random() < 0.5 THEN ver := floor(random() * 12)::text; END IF;
        v2 := floor(random() * 12)::int;
        sql := CASE fn
            WHEN 'ring_create' THEN format('SELECT ring_create(%s, %s, %s)::text',
                  quote_nullable('j' || pick('node_pool')), (ARRAY['''vnode''', '''modulo''', 'NULL', ''''''])[1 + floor(random() * 4)::int],
                  pick('int_pool'))
            WHEN 'ring_add_node' THEN format('SELECT ring_add_node(%s, %s, %s)::text', ring, pick('node_pool'), pick('weight_pool'))
            WHEN 'ring_remove_node' THEN format('SELECT ring_remove_node(%s, %s)::text', ring, pick('node_pool'))
            WHEN 'ring_set_weight' THEN format('SELECT ring_set_weight(%s, %s, %s)::text', ring, pick('node_pool'), pick('weight_pool'))
            WHEN 'ring_drop' THEN format('SELECT ring_drop(%s)::text', quote_nullable('j' || pick('node_pool')))
            WHEN 'ring_version' THEN format('SELECT ring_version(%s)::text', ring)
            WHEN 'ring_hash' THEN format('SELECT ring_hash(%s, %s)::text', ring, key)
            WHEN 'ring_shard' THEN format('SELECT ring_shard(%s, %s)', ring, key)
            WHEN 'ring_shard_at' THEN format('SELECT ring_shard(%s, %s, %s)', ring, key, ver)
            WHEN 'ring_shards' THEN format('SELECT ring_shards(%s, %s, %s)::text', ring, key, pick('int_pool'))
            WHEN 'ring_move' THEN format('SELECT ring_move(%s, %s, %s, %s)::text', ring, key, ver, v2)
            WHEN 'ring_moves' THEN format('SELECT count(*)::text FROM ring_moves(%s, %s, %s)', ring, ver, floor(random() * 12))
            WHEN 'ring_ownership' THEN format('SELECT count(*)::text FROM ring_ownership(%s, %s)', ring, ver)
            WHEN 'ring_quality' THEN format('SELECT count(*)::text FROM ring_quality(%s, %s)', ring, ver)
            WHEN 'ring_svg' THEN format('SELECT length(ring_svg(%s, %s))::text', ring, ver)
            WHEN 'ring_svg_moves' THEN format('SELECT (ring_svg(%s, %s, %s)::xml IS DOCUMENT)::text', ring, ver, v2)
            WHEN 'ring_spread' THEN format('SELECT ring_spread(%s, %s, %s)::text', ring, key, pick('int_pool'))
            WHEN 'ring_add_zoned' THEN format('SELECT ring_add_node(%s, %s, %s, %s)::text', ring,
                                              pick('node_pool'), pick('weight_pool'), pick('node_pool'))
            WHEN 'ring_grant' THEN format('SELECT ring_grant(%s, %s)::text', ring,
                                          pick('role_pool'))
            WHEN 'ring_revoke' THEN format('SELECT ring_revoke(%s, %s)::text', ring,
                                           pick('role_pool'))
        END;
        st := 'ok'; checked := false; wrong := false; complete := NULL;
        BEGIN
            EXECUTE sql INTO result;
            -- check lookups and positions that answered against the reference
            IF fn IN ('ring_hash', 'ring_shard', 'ring_shard_at', 'ring_shards', 'ring_move')
               AND ring <> 'NULL' AND key NOT LIKE 'NULL%'
               AND NOT (fn IN ('ring_shard_at', 'ring_move') AND ver = 'NULL')
               AND NOT (fn = 'ring_shards' AND result IS NULL) THEN
                EXECUTE format('SELECT %s', ring) INTO rname;
                SELECT position INTO STRICT pos FROM key_pool WHERE lit = key;
                v := CASE WHEN fn IN ('ring_shard_at', 'ring_move') THEN ver::int ELSE ring_version(rname) END;
                checked := true;
                expect := CASE fn
                    WHEN 'ring_hash' THEN pos::text
                    WHEN 'ring_shards' THEN NULL
                    WHEN 'ring_move' THEN
                        CASE WHEN ref_owner(rname, v, pos) IS NOT DISTINCT FROM ref_owner(rname, v2, pos) THEN NULL
                             ELSE ROW(ref_owner(rname, v, pos), ref_owner(rname, v2, pos))::ring_move_result::text END
                    ELSE ref_owner(rname, v, pos) END;
                IF fn = 'ring_shards' THEN
                    EXECUTE format('SELECT (%L::text[])[1]', result) INTO result;
                    expect := ref_owner(rname, v, pos);
                END IF;
                wrong := result IS DISTINCT FROM expect;
                complete := fn = 'ring_hash' OR ref_complete(rname, v) AND (fn <> 'ring_move' OR ref_complete(rname, v2));
            END IF;
        EXCEPTION WHEN OTHERS THEN
            st := SQLSTATE;
        END;
        INSERT INTO outcomes VALUES (fn, st, checked, wrong, complete);
    END LOOP;
END $$;

SET client_min_messages = warning;
SELECT hostile(5000);
RESET client_min_messages;

-- no internal error, no undocumented SQLSTATE, no wrong answer (the
-- answers checked on versions with a node of weight 5000 took its tokens
-- past 127 from ring_hash; all_from_vectors counts the others, and the
-- positions ring_hash gave)
SELECT count(*) AS calls,
       count(*) FILTER (WHERE state = 'ok') AS succeeded,
       count(*) FILTER (WHERE checked) AS answers_checked,
       count(*) FILTER (WHERE checked AND complete) AS all_from_vectors,
       count(*) FILTER (WHERE wrong) AS wrong_answers,
       count(*) FILTER (WHERE state NOT IN ('ok', '42704', '42710', '22023', '55000', '54000', '42501')) AS undocumented
  FROM outcomes;
SELECT state, count(*) FROM outcomes GROUP BY 1 ORDER BY 1;
SELECT fn, state FROM outcomes WHERE state NOT IN ('ok', '42704', '42710', '22023', '55000', '54000', '42501')
 GROUP BY 1, 2 ORDER BY 1, 2;

-- the rings are still consistent: every version's node set is readable
SELECT count(*) AS ownership_rows FROM consistent_ring.rings r,
       LATERAL generate_series(0, r.version) v, LATERAL ring_ownership(r.name, v) o
 WHERE r.ring_id NOT IN (SELECT ring_id FROM rings_before);

-- the algorithms of other systems and 'jump': random changes and lookups,
-- only documented SQLSTATEs and never an internal error (their answers are
-- checked against the real systems in redis, ketama, cassandra, jump_ring)
SELECT ring_create('hm_' || a, a) FROM unnest('{redis,ketama,twemproxy,libketama,cassandra,jump,rendezvous}'::text[]) a;
CREATE TEMP TABLE mode_node_pool (v text);
INSERT INTO mode_node_pool VALUES ('10.0.0.1:11211'), ('10.0.0.2:11212'), ('h:1'), ('h:65535'), ('h:65536'),
    ('h:0'), ('h:011211'), (':11211'), ('h:'), ('a'), ('b'), ('é:11211'), (repeat('n', 200)), (NULL);
CREATE TEMP TABLE token_pool (v text);
INSERT INTO token_pool VALUES ('ARRAY[1,2,3]'), ('ARRAY[-9223372036854775808]'), ('ARRAY[9223372036854775807, 0]'),
    ('ARRAY[5,5]'), ('''{}''::bigint[]'), ('ARRAY[1,NULL]'), ('ARRAY[[1,2],[3,4]]'), ('NULL');
CREATE FOREIGN DATA WRAPPER hostile_fdw;
CREATE SERVER hostile_s1 FOREIGN DATA WRAPPER hostile_fdw OPTIONS (host 'h1', port '5432');
CREATE SERVER hostile_s2 FOREIGN DATA WRAPPER hostile_fdw;
CREATE TEMP TABLE server_pool (v text);
INSERT INTO server_pool VALUES ('hostile_s1'), ('hostile_s2'), ('hostile_s1'), ('nope'), (''), (repeat('s', 201)), (NULL);
CREATE TEMP TABLE mode_outcomes (fn text, state text);
CREATE FUNCTION hostile_modes(n int) RETURNS void LANGUAGE plpgsql AS $$
DECLARE
    fn text; sql text; ring text; key text; result text; st text;
BEGIN
    FOR i IN 1..n LOOP
        fn := (ARRAY['add', 'add', 'add', 'add_tokens', 'remove', 'weight', 'assign', 'hash', 'shard', 'shards',
                     'move', 'moves', 'ownership', 'quality', 'spread', 'pin', 'split', 'partition_key',
                     'shard', 'move', 'add_server', 'set_server', 'server', 'server_at', 'partition',
                     'nodes_at', 'plproxy', 'route'])[1 + floor(random() * 28)::int];
        ring := quote_literal('hm_' || (ARRAY['redis', 'ketama', 'twemproxy', 'libketama', 'cassandra', 'jump',
                                              'rendezvous'])[1 + floor(random() * 7)::int]);
        key := pick_key();
        sql := CASE fn
            WHEN 'add' THEN format('SELECT ring_add_node(%s, %s, %s, %s)::text', ring, pick('mode_node_pool'),
                                   pick('weight_pool'), (ARRAY['NULL', '''r1''', '''r2'''])[1 + floor(random() * 3)::int])
            WHEN 'add_tokens' THEN format('SELECT ring_add_node(%s, %s, tokens => %s)::text', ring,
                                          pick('mode_node_pool'), (SELECT v FROM token_pool ORDER BY random() LIMIT 1))
            WHEN 'remove' THEN format('SELECT ring_remove_node(%s, %s)::text', ring, pick('mode_node_pool'))
            WHEN 'weight' THEN format('SELECT ring_set_weight(%s, %s, %s)::text', ring, pick('mode_node_pool'), pick('weight_pool'))
            WHEN 'assign' THEN format('SELECT ring_assign_slots(%s, %s, %s, %s)::text', ring, pick('mode_node_pool'),
                                      pick('int_pool'), (ARRAY['0', '16383', '100', '-1', '16384', 'NULL'])[1 + floor(random() * 6)::int])
            WHEN 'hash' THEN format('SELECT ring_hash(%s, %s)::text', ring, key)
            WHEN 'shard' THEN format('SELECT ring_shard(%s, %s)', ring, key)
            WHEN 'shards' THEN format('SELECT ring_shards(%s, %s, %s)::text', ring, key, pick('int_pool'))
            WHEN 'move' THEN format('SELECT ring_move(%s, %s, %s, %s)::text', ring, key, floor(random() * 8), floor(random() * 8))
            WHEN 'moves' THEN format('SELECT count(*)::text FROM ring_moves(%s, %s, %s)', ring, floor(random() * 8), floor(random() * 8))
            WHEN 'ownership' THEN format('SELECT count(*)::text FROM ring_ownership(%s)', ring)
            WHEN 'quality' THEN format('SELECT count(*)::text FROM ring_quality(%s)', ring)
            WHEN 'spread' THEN format('SELECT ring_spread(%s, %s, %s)::text', ring, key, floor(random() * 5))
            WHEN 'pin' THEN format('SELECT ring_pin(%s, %s, %s)::text', ring, key, pick('mode_node_pool'))
            WHEN 'split' THEN format('SELECT ring_split_slots(%s)::text', ring)
            WHEN 'partition_key' THEN format('SELECT ring_hash(%s, cassandra_partition_key(%s, %s))::text', ring, key, pick_key())
            WHEN 'add_server' THEN format('SELECT ring_add_node(%s, %s, server => %s)::text', ring, pick('mode_node_pool'),
                                          pick('server_pool'))
            WHEN 'set_server' THEN format('SELECT ring_set_server(%s, %s, %s)::text', ring, pick('mode_node_pool'),
                                          pick('server_pool'))
            WHEN 'server' THEN format('SELECT ring_server(%s, %s)', ring, key)
            WHEN 'server_at' THEN format('SELECT ring_server(%s, %s, %s)', ring, key, floor(random() * 8))
            WHEN 'partition' THEN format('SELECT ring_partition(%s, %s)::text', ring, key)
            WHEN 'nodes_at' THEN format('SELECT count(*)::text FROM ring_nodes_at(%s, %s)', ring, floor(random() * 8))
            WHEN 'route' THEN format('SELECT ring_route(%s, %s, %L::regclass)', ring, key, 'mode_outcomes')
            WHEN 'plproxy' THEN format('SELECT ring_plproxy_version(%s)::text || (SELECT count(*) FROM ring_plproxy_partitions(%s))',
                                       ring, ring)
        END;
        st := 'ok';
        BEGIN
            EXECUTE sql INTO result;
        EXCEPTION WHEN OTHERS THEN
            st := SQLSTATE;
        END;
        INSERT INTO mode_outcomes VALUES (fn, st);
    END LOOP;
END $$;
SET client_min_messages = warning;
SELECT hostile_modes(3000);
RESET client_min_messages;
SELECT count(*) AS calls, count(*) FILTER (WHERE state = 'ok') AS succeeded,
       count(*) FILTER (WHERE state NOT IN ('ok', '42704', '42710', '22023', '55000', '54000', '0A000',
                                             '42809', '22004', '2202E', '42804')) AS undocumented
  FROM mode_outcomes;
SELECT fn, state FROM mode_outcomes
 WHERE state NOT IN ('ok', '42704', '42710', '22023', '55000', '54000', '0A000', '42809', '22004', '2202E', '42804')
 GROUP BY 1, 2 ORDER BY 1, 2;
SELECT count(*) AS ownership_rows FROM consistent_ring.rings r,
       LATERAL generate_series(0, r.version) v, LATERAL ring_ownership(r.name, v) o WHERE r.name LIKE 'hm\_%';
DROP FUNCTION hostile_modes(int);
-- the server functions were exercised too
SELECT count(*) FILTER (WHERE fn IN ('add_server', 'set_server', 'server', 'server_at', 'partition', 'nodes_at', 'plproxy', 'route')
                          AND state = 'ok') AS server_calls_succeeded
  FROM mode_outcomes;

SELECT count(*) AS dropped FROM (SELECT ring_drop(name) FROM consistent_ring.rings
                                  WHERE ring_id NOT IN (SELECT ring_id FROM rings_before)) s;
SELECT count(*) AS rings_left FROM consistent_ring.rings
 WHERE ring_id NOT IN (SELECT ring_id FROM rings_before);
DROP FUNCTION hostile(int), ref_owner(text, int, bigint), ref_ring(text, int), ref_complete(text, int), pick(regclass), pick_key();
DROP SERVER hostile_s1, hostile_s2;
DROP FOREIGN DATA WRAPPER hostile_fdw;
