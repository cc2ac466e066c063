--
-- The objects the hostile calls use as their valid defaults: two roles (one
-- owning the rings, one owning nothing), foreign servers with user mappings,
-- a table with a key column, and rings of several algorithms with nodes.
-- Read by psql (test/hostile/run.sh) and by a single-user backend with -j
-- (test/valgrind/run.sh): every statement ends with a semicolon and a blank
-- line, and no blank line follows a semicolon inside one.  The servers get
-- their connection options from the caller.
--
CREATE EXTENSION consistent_ring;

CREATE EXTENSION postgres_fdw;

-- the companion extension needs PL/Proxy (postgresql-15-plproxy)
DO $$
BEGIN
    CREATE EXTENSION IF NOT EXISTS plproxy;
    CREATE EXTENSION consistent_ring_plproxy;
EXCEPTION WHEN OTHERS THEN
    RAISE WARNING 'consistent_ring_plproxy not created: %', SQLERRM;
END $$;

CREATE ROLE regress_hostile_owner LOGIN PASSWORD 'hostile';

CREATE ROLE regress_hostile_nobody LOGIN PASSWORD 'hostile';

CREATE SERVER hostile_srv1 FOREIGN DATA WRAPPER postgres_fdw;

CREATE SERVER hostile_srv2 FOREIGN DATA WRAPPER postgres_fdw;

-- a server nobody but the superuser may use
CREATE SERVER hostile_srv_private FOREIGN DATA WRAPPER postgres_fdw;

GRANT USAGE ON FOREIGN SERVER hostile_srv1, hostile_srv2 TO regress_hostile_owner, regress_hostile_nobody;

CREATE USER MAPPING FOR regress_hostile_owner SERVER hostile_srv1 OPTIONS (user 'regress_hostile_owner', password 'hostile');

CREATE USER MAPPING FOR regress_hostile_owner SERVER hostile_srv2 OPTIONS (user 'regress_hostile_owner', password 'hostile');

CREATE USER MAPPING FOR regress_hostile_nobody SERVER hostile_srv1 OPTIONS (user 'regress_hostile_nobody', password 'hostile');

CREATE USER MAPPING FOR regress_hostile_nobody SERVER hostile_srv2 OPTIONS (user 'regress_hostile_nobody', password 'hostile');

-- the table ring_migrate and ring_route get: the owner's, key column k
CREATE TABLE public.hostile_keys (k text PRIMARY KEY, v text);

ALTER TABLE public.hostile_keys OWNER TO regress_hostile_owner;

-- a table of the owner's that the servers do not have
CREATE TABLE public.hostile_local (k text PRIMARY KEY, v text);

ALTER TABLE public.hostile_local OWNER TO regress_hostile_owner;

-- a table neither role may read (the superuser's, no grants; the servers
-- have one too) and a sequence
CREATE TABLE public.hostile_secret (k text PRIMARY KEY, v text);

CREATE SEQUENCE public.hostile_seq;

-- the rings, all the owner's:
--   hr  'vnode', nodes n1 (hostile_srv1), n2 (hostile_srv2), n3 (hostile_srv1)
--       at version 1; version 2 reweights n3 and pins the default keys of
--       each key type to n2 ('k', 1, a uuid, 1.5)
--   hs  'slots' (64 slots), hd 'redis', hc 'cassandra' (tokens): n1, n2
SET ROLE regress_hostile_owner;

SELECT ring_create('hr', 'vnode', 16);

BEGIN;

SELECT ring_add_node('hr', 'n1', server => 'hostile_srv1'), ring_add_node('hr', 'n2', server => 'hostile_srv2'),
       ring_add_node('hr', 'n3', server => 'hostile_srv1');

COMMIT;

BEGIN;

SELECT ring_set_weight('hr', 'n3', 2), ring_pin('hr', 'k'::text, 'n2'), ring_pin('hr', 1, 'n2'),
       ring_pin('hr', '00000000-0000-0000-0000-000000000001'::uuid, 'n2'), ring_pin('hr', 1.5, 'n2');

COMMIT;

SELECT ring_create('hs', 'slots', slots => 64);

SELECT ring_add_node('hs', 'n1'), ring_add_node('hs', 'n2');

SELECT ring_create('hd', 'redis');

SELECT ring_add_node('hd', 'n1'), ring_add_node('hd', 'n2');

SELECT ring_create('hc', 'cassandra');

SELECT ring_add_node('hc', 'n1', tokens => ARRAY[0]::bigint[]), ring_add_node('hc', 'n2', tokens => ARRAY[100]::bigint[]);

RESET ROLE;

-- a ring of the superuser's that nobody else may look up
SELECT ring_create('hp', 'vnode', 16);

SELECT ring_add_node('hp', 'n1');

SELECT ring_revoke('hp', 'public');
