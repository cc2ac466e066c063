/* consistent_ring--1.2.sql */

-- complain if script is sourced in psql, rather than via CREATE EXTENSION
\echo Use "CREATE EXTENSION consistent_ring" to load this file. \quit

--
-- Catalog tables, in the fixed schema consistent_ring (the C code finds
-- them there by name).  Names are compared and sorted by bytes (COLLATE "C").
--
CREATE SCHEMA consistent_ring;
COMMENT ON SCHEMA consistent_ring IS 'catalog of consistent_ring rings';

CREATE TABLE consistent_ring.rings (
    ring_id     integer NOT NULL,
    name        text COLLATE "C" NOT NULL,
    algorithm   text NOT NULL,
    vnodes      integer NOT NULL,
    version     integer NOT NULL DEFAULT 0,
    created_at  timestamptz NOT NULL DEFAULT pg_catalog.now(),
    owner       regrole NOT NULL,
    public_lookup boolean NOT NULL DEFAULT true,
    readers     regrole[] NOT NULL DEFAULT '{}',
    slots       integer,
    table_size  integer,
    token_allocation text NOT NULL DEFAULT 'hashed',
    CONSTRAINT rings_pkey PRIMARY KEY (ring_id),
    CONSTRAINT rings_name_key UNIQUE (name),
    CONSTRAINT rings_name_check
        CHECK (pg_catalog.octet_length(name) OPERATOR(pg_catalog.>=) 1
               AND pg_catalog.octet_length(name) OPERATOR(pg_catalog.<=) 200),
    CONSTRAINT rings_vnodes_check
        CHECK (vnodes OPERATOR(pg_catalog.>=) 1 AND vnodes OPERATOR(pg_catalog.<=) 65536),
    CONSTRAINT rings_version_check CHECK (version OPERATOR(pg_catalog.>=) 0),
    CONSTRAINT rings_slots_check
        CHECK ((algorithm OPERATOR(pg_catalog.=) ANY ('{slots,redis}'::text[]))
               OPERATOR(pg_catalog.=) (slots IS NOT NULL)),
    CONSTRAINT rings_table_size_check
        CHECK ((algorithm OPERATOR(pg_catalog.=) 'maglev') OPERATOR(pg_catalog.=) (table_size IS NOT NULL)),
    CONSTRAINT rings_token_allocation_check
        CHECK (token_allocation OPERATOR(pg_catalog.=) 'hashed'
               OR (token_allocation OPERATOR(pg_catalog.=) 'balanced'
                   AND algorithm OPERATOR(pg_catalog.=) 'vnode'))
);
CREATE SEQUENCE consistent_ring.rings_ring_id_seq AS integer OWNED BY consistent_ring.rings.ring_id;
ALTER TABLE consistent_ring.rings
    ALTER COLUMN ring_id SET DEFAULT pg_catalog.nextval('consistent_ring.rings_ring_id_seq'::pg_catalog.regclass);
COMMENT ON TABLE consistent_ring.rings IS
    'one row per ring: its algorithm, newest version, owner and who may look it up';

CREATE TABLE consistent_ring.versions (
    ring_id     integer NOT NULL REFERENCES consistent_ring.rings (ring_id) ON DELETE CASCADE,
    version     integer NOT NULL,
    created_at  timestamptz NOT NULL DEFAULT pg_catalog.now(),
    created_by  name NOT NULL DEFAULT CURRENT_USER,
    CONSTRAINT versions_pkey PRIMARY KEY (ring_id, version)
);
COMMENT ON TABLE consistent_ring.versions IS 'one row per committed ring version';

CREATE TABLE consistent_ring.nodes (
    ring_id     integer NOT NULL,
    node        text COLLATE "C" NOT NULL,
    weight      double precision NOT NULL,
    added_in    integer NOT NULL,
    removed_in  integer,
    zone        text COLLATE "C",
    joined      bigint NOT NULL,
    server      text COLLATE "C",
    CONSTRAINT nodes_pkey PRIMARY KEY (ring_id, node, added_in),
    CONSTRAINT nodes_version_fkey FOREIGN KEY (ring_id, added_in)
        REFERENCES consistent_ring.versions (ring_id, version) ON DELETE CASCADE,
    CONSTRAINT nodes_node_check
        CHECK (pg_catalog.octet_length(node) OPERATOR(pg_catalog.>=) 1
               AND pg_catalog.octet_length(node) OPERATOR(pg_catalog.<=) 200),
    CONSTRAINT nodes_weight_check
        CHECK (weight OPERATOR(pg_catalog.>=) 0
               AND weight OPERATOR(pg_catalog.<) 'Infinity'::double precision),
    CONSTRAINT nodes_span_check
        CHECK (removed_in IS NULL OR removed_in OPERATOR(pg_catalog.>) added_in),
    CONSTRAINT nodes_zone_check
        CHECK (pg_catalog.octet_length(zone) OPERATOR(pg_catalog.>=) 1
               AND pg_catalog.octet_length(zone) OPERATOR(pg_catalog.<=) 200),
    CONSTRAINT nodes_server_check
        CHECK (pg_catalog.octet_length(server) OPERATOR(pg_catalog.>=) 1
               AND pg_catalog.octet_length(server) OPERATOR(pg_catalog.<=) 200)
);
COMMENT ON TABLE consistent_ring.nodes IS
    'node history: a row belongs to versions added_in <= v < removed_in';
COMMENT ON COLUMN consistent_ring.nodes.server IS
    'name of the foreign server (postgres_fdw) holding the node''s data in these versions';
-- joined orders the nodes by when they joined (a reweighted node keeps its
-- place): the order of a client's server list, where an algorithm needs it
CREATE SEQUENCE consistent_ring.nodes_joined_seq AS bigint OWNED BY consistent_ring.nodes.joined;
ALTER TABLE consistent_ring.nodes
    ALTER COLUMN joined SET DEFAULT pg_catalog.nextval('consistent_ring.nodes_joined_seq'::pg_catalog.regclass);

-- Tokens kept in the catalog rather than computed from node names: the
-- slot boundaries of 'slots' rings and the tokens of 'vnode' rings with
-- token_allocation 'balanced'.
CREATE TABLE consistent_ring.tokens (
    ring_id     integer NOT NULL,
    token       bigint NOT NULL,
    node        text COLLATE "C" NOT NULL,
    added_in    integer NOT NULL,
    removed_in  integer,
    CONSTRAINT tokens_pkey PRIMARY KEY (ring_id, token, added_in),
    CONSTRAINT tokens_version_fkey FOREIGN KEY (ring_id, added_in)
        REFERENCES consistent_ring.versions (ring_id, version) ON DELETE CASCADE,
    CONSTRAINT tokens_span_check
        CHECK (removed_in IS NULL OR removed_in OPERATOR(pg_catalog.>) added_in)
);
-- Keys pinned to a node (ring_pin): the key's placement bytes and position.
CREATE TABLE consistent_ring.pins (
    ring_id     integer NOT NULL,
    key         bytea NOT NULL,
    position    bigint NOT NULL,
    node        text COLLATE "C" NOT NULL,
    added_in    integer NOT NULL,
    removed_in  integer,
    CONSTRAINT pins_pkey PRIMARY KEY (ring_id, key, added_in),
    CONSTRAINT pins_version_fkey FOREIGN KEY (ring_id, added_in)
        REFERENCES consistent_ring.versions (ring_id, version) ON DELETE CASCADE,
    CONSTRAINT pins_span_check
        CHECK (removed_in IS NULL OR removed_in OPERATOR(pg_catalog.>) added_in)
);
COMMENT ON TABLE consistent_ring.pins IS
    'pin history: a key pinned to a node in versions added_in <= v < removed_in';

COMMENT ON TABLE consistent_ring.tokens IS
    'token history of rings whose tokens are stored: a row belongs to versions added_in <= v < removed_in';

-- pg_dump saves the rings with the database
SELECT pg_catalog.pg_extension_config_dump('consistent_ring.rings', '');
SELECT pg_catalog.pg_extension_config_dump('consistent_ring.rings_ring_id_seq', '');
SELECT pg_catalog.pg_extension_config_dump('consistent_ring.versions', '');
SELECT pg_catalog.pg_extension_config_dump('consistent_ring.nodes', '');
SELECT pg_catalog.pg_extension_config_dump('consistent_ring.nodes_joined_seq', '');
SELECT pg_catalog.pg_extension_config_dump('consistent_ring.tokens', '');
SELECT pg_catalog.pg_extension_config_dump('consistent_ring.pins', '');

-- Nobody but the extension's owner reads or writes these tables directly.
-- The ring_* functions check the ring's owner (changes) or its lookup
-- rights (lookups) for the calling user, then read and write the tables as
-- the tables' owner.  The views show each user the rings they may look up.
-- USAGE on the schema lets the views call consistent_ring.* functions.
GRANT USAGE ON SCHEMA consistent_ring TO PUBLIC;

--
-- Cache invalidation: a change to the catalog makes every backend drop the
-- rings it has compiled.  Change rings only through the ring_* functions:
-- they never alter a committed version, which lets backends keep compiled
-- versions across snapshots.
--
CREATE FUNCTION consistent_ring.invalidate_cache() RETURNS trigger
    AS 'MODULE_PATHNAME', 'ring_invalidate_cache'
    LANGUAGE C;
COMMENT ON FUNCTION consistent_ring.invalidate_cache() IS
    'trigger: tell every backend that the ring catalog changed';

CREATE TRIGGER rings_invalidate_cache
    AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON consistent_ring.rings
    FOR EACH STATEMENT EXECUTE FUNCTION consistent_ring.invalidate_cache();
CREATE TRIGGER versions_invalidate_cache
    AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON consistent_ring.versions
    FOR EACH STATEMENT EXECUTE FUNCTION consistent_ring.invalidate_cache();
CREATE TRIGGER nodes_invalidate_cache
    AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON consistent_ring.nodes
    FOR EACH STATEMENT EXECUTE FUNCTION consistent_ring.invalidate_cache();
CREATE TRIGGER tokens_invalidate_cache
    AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON consistent_ring.tokens
    FOR EACH STATEMENT EXECUTE FUNCTION consistent_ring.invalidate_cache();
CREATE TRIGGER pins_invalidate_cache
    AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON consistent_ring.pins
    FOR EACH STATEMENT EXECUTE FUNCTION consistent_ring.invalidate_cache();

-- A logical replication subscriber's apply worker fires row triggers that
-- are enabled for replicas, and no statement triggers: these tell the
-- subscriber's backends about applied changes.
CREATE TRIGGER rings_invalidate_cache_replica
    AFTER INSERT OR UPDATE OR DELETE ON consistent_ring.rings
    FOR EACH ROW EXECUTE FUNCTION consistent_ring.invalidate_cache();
CREATE TRIGGER versions_invalidate_cache_replica
    AFTER INSERT OR UPDATE OR DELETE ON consistent_ring.versions
    FOR EACH ROW EXECUTE FUNCTION consistent_ring.invalidate_cache();
CREATE TRIGGER nodes_invalidate_cache_replica
    AFTER INSERT OR UPDATE OR DELETE ON consistent_ring.nodes
    FOR EACH ROW EXECUTE FUNCTION consistent_ring.invalidate_cache();
CREATE TRIGGER tokens_invalidate_cache_replica
    AFTER INSERT OR UPDATE OR DELETE ON consistent_ring.tokens
    FOR EACH ROW EXECUTE FUNCTION consistent_ring.invalidate_cache();
CREATE TRIGGER pins_invalidate_cache_replica
    AFTER INSERT OR UPDATE OR DELETE ON consistent_ring.pins
    FOR EACH ROW EXECUTE FUNCTION consistent_ring.invalidate_cache();
ALTER TABLE consistent_ring.rings ENABLE REPLICA TRIGGER rings_invalidate_cache_replica;
ALTER TABLE consistent_ring.versions ENABLE REPLICA TRIGGER versions_invalidate_cache_replica;
ALTER TABLE consistent_ring.nodes ENABLE REPLICA TRIGGER nodes_invalidate_cache_replica;
ALTER TABLE consistent_ring.tokens ENABLE REPLICA TRIGGER tokens_invalidate_cache_replica;
ALTER TABLE consistent_ring.pins ENABLE REPLICA TRIGGER pins_invalidate_cache_replica;

-- STABLE: it depends on the current user's role memberships
CREATE FUNCTION consistent_ring.may_look_up(owner regrole, public_lookup boolean, readers regrole[])
    RETURNS boolean
    AS 'MODULE_PATHNAME', 'ring_may_look_up'
    LANGUAGE C STABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION consistent_ring.may_look_up(regrole, boolean, regrole[]) IS
    'whether the current user may look up a ring with this owner and these lookup rights';

CREATE FUNCTION consistent_ring.virtual_nodes(vnodes integer, weight double precision)
    RETURNS integer
    AS 'MODULE_PATHNAME', 'ring_virtual_node_count'
    LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION consistent_ring.virtual_nodes(integer, double precision) IS
    'virtual nodes of a node: round(vnodes * weight), at least 1 if weight > 0';

--
-- Changing rings.  VOLATILE PARALLEL UNSAFE: they write.
--
-- not STRICT: the options slots, table_size and token_allocation are NULL
-- unless given; a NULL ring, algorithm or vnodes does nothing
CREATE FUNCTION ring_create(ring text, algorithm text DEFAULT 'vnode', vnodes integer DEFAULT 256,
                            slots integer DEFAULT NULL, table_size integer DEFAULT NULL,
                            token_allocation text DEFAULT NULL)
    RETURNS void
    AS 'MODULE_PATHNAME', 'ring_create'
    LANGUAGE C VOLATILE PARALLEL UNSAFE;
COMMENT ON FUNCTION ring_create(text, text, integer, integer, integer, text) IS 'create an empty ring (version 0)';

CREATE FUNCTION ring_split_slots(ring text)
    RETURNS integer
    AS 'MODULE_PATHNAME', 'ring_split_slots'
    LANGUAGE C VOLATILE STRICT PARALLEL UNSAFE;
COMMENT ON FUNCTION ring_split_slots(text) IS
    'double the slots of a ''slots'' ring: each slot splits in two with the same owner; returns the version';

CREATE FUNCTION ring_assign_slots(ring text, node text, first_slot integer, last_slot integer)
    RETURNS integer
    AS 'MODULE_PATHNAME', 'ring_assign_slots'
    LANGUAGE C VOLATILE STRICT PARALLEL UNSAFE;
COMMENT ON FUNCTION ring_assign_slots(text, text, integer, integer) IS
    'give hash slots first_slot .. last_slot of a ''redis'' ring to a node (CLUSTER SETSLOT ... NODE); returns the version';

-- not STRICT: zone, tokens and server may be NULL (none); a NULL ring, node
-- or weight gives NULL
CREATE FUNCTION ring_add_node(ring text, node text, weight double precision DEFAULT 1,
                              zone text DEFAULT NULL, tokens bigint[] DEFAULT NULL,
                              server text DEFAULT NULL)
    RETURNS integer
    AS 'MODULE_PATHNAME', 'ring_add_node'
    LANGUAGE C VOLATILE PARALLEL UNSAFE;
COMMENT ON FUNCTION ring_add_node(text, text, double precision, text, bigint[], text) IS
    'add a node (optionally in a zone, with tokens on a ''cassandra'' ring, on a foreign server) to a ring; returns the version of the change';

-- not STRICT: a NULL server means none; a NULL ring or node gives NULL
CREATE FUNCTION ring_set_server(ring text, node text, server text)
    RETURNS integer
    AS 'MODULE_PATHNAME', 'ring_set_server'
    LANGUAGE C VOLATILE PARALLEL UNSAFE;
COMMENT ON FUNCTION ring_set_server(text, text, text) IS
    'name the foreign server holding a node''s data (NULL: none); returns the version of the change';

CREATE FUNCTION cassandra_partition_key(VARIADIC "any")
    RETURNS bytea
    AS 'MODULE_PATHNAME', 'cassandra_partition_key'
    LANGUAGE C IMMUTABLE PARALLEL SAFE;
COMMENT ON FUNCTION cassandra_partition_key("any") IS
    'the partition key bytes Cassandra builds from the values (CQL serialization; several values make a composite key)';

CREATE FUNCTION ring_remove_node(ring text, node text)
    RETURNS integer
    AS 'MODULE_PATHNAME', 'ring_remove_node'
    LANGUAGE C VOLATILE STRICT PARALLEL UNSAFE;
COMMENT ON FUNCTION ring_remove_node(text, text) IS
    'remove a node from a ring; returns the version of the change';

CREATE FUNCTION ring_set_weight(ring text, node text, weight double precision)
    RETURNS integer
    AS 'MODULE_PATHNAME', 'ring_set_weight'
    LANGUAGE C VOLATILE STRICT PARALLEL UNSAFE;
COMMENT ON FUNCTION ring_set_weight(text, text, double precision) IS
    'change the weight of a node (0 drains it); returns the version of the change';

CREATE FUNCTION ring_grant(ring text, role text)
    RETURNS void
    AS 'MODULE_PATHNAME', 'ring_grant'
    LANGUAGE C VOLATILE STRICT PARALLEL UNSAFE;
COMMENT ON FUNCTION ring_grant(text, text) IS
    'let a role (or public) look a ring up';

CREATE FUNCTION ring_revoke(ring text, role text)
    RETURNS void
    AS 'MODULE_PATHNAME', 'ring_revoke'
    LANGUAGE C VOLATILE STRICT PARALLEL UNSAFE;
COMMENT ON FUNCTION ring_revoke(text, text) IS
    'take back a role''s (or public''s) right to look a ring up';

-- Hot keys: a key pinned to a node, whatever the ring says; one overload
-- per key type, as for the lookups.
CREATE FUNCTION ring_pin(ring text, key text, node text)
    RETURNS integer
    AS 'MODULE_PATHNAME', 'ring_pin'
    LANGUAGE C VOLATILE STRICT PARALLEL UNSAFE;

CREATE FUNCTION ring_pin(ring text, key bytea, node text)
    RETURNS integer
    AS 'MODULE_PATHNAME', 'ring_pin'
    LANGUAGE C VOLATILE STRICT PARALLEL UNSAFE;

CREATE FUNCTION ring_pin(ring text, key smallint, node text)
    RETURNS integer
    AS 'MODULE_PATHNAME', 'ring_pin'
    LANGUAGE C VOLATILE STRICT PARALLEL UNSAFE;

CREATE FUNCTION ring_pin(ring text, key integer, node text)
    RETURNS integer
    AS 'MODULE_PATHNAME', 'ring_pin'
    LANGUAGE C VOLATILE STRICT PARALLEL UNSAFE;

CREATE FUNCTION ring_pin(ring text, key bigint, node text)
    RETURNS integer
    AS 'MODULE_PATHNAME', 'ring_pin'
    LANGUAGE C VOLATILE STRICT PARALLEL UNSAFE;

CREATE FUNCTION ring_pin(ring text, key uuid, node text)
    RETURNS integer
    AS 'MODULE_PATHNAME', 'ring_pin'
    LANGUAGE C VOLATILE STRICT PARALLEL UNSAFE;

CREATE FUNCTION ring_pin(ring text, key anyelement, node text)
    RETURNS integer
    AS 'MODULE_PATHNAME', 'ring_pin'
    LANGUAGE C VOLATILE STRICT PARALLEL UNSAFE;

CREATE FUNCTION ring_unpin(ring text, key text)
    RETURNS integer
    AS 'MODULE_PATHNAME', 'ring_unpin'
    LANGUAGE C VOLATILE STRICT PARALLEL UNSAFE;

CREATE FUNCTION ring_unpin(ring text, key bytea)
    RETURNS integer
    AS 'MODULE_PATHNAME', 'ring_unpin'
    LANGUAGE C VOLATILE STRICT PARALLEL UNSAFE;

CREATE FUNCTION ring_unpin(ring text, key smallint)
    RETURNS integer
    AS 'MODULE_PATHNAME', 'ring_unpin'
    LANGUAGE C VOLATILE STRICT PARALLEL UNSAFE;

CREATE FUNCTION ring_unpin(ring text, key integer)
    RETURNS integer
    AS 'MODULE_PATHNAME', 'ring_unpin'
    LANGUAGE C VOLATILE STRICT PARALLEL UNSAFE;

CREATE FUNCTION ring_unpin(ring text, key bigint)
    RETURNS integer
    AS 'MODULE_PATHNAME', 'ring_unpin'
    LANGUAGE C VOLATILE STRICT PARALLEL UNSAFE;

CREATE FUNCTION ring_unpin(ring text, key uuid)
    RETURNS integer
    AS 'MODULE_PATHNAME', 'ring_unpin'
    LANGUAGE C VOLATILE STRICT PARALLEL UNSAFE;

CREATE FUNCTION ring_unpin(ring text, key anyelement)
    RETURNS integer
    AS 'MODULE_PATHNAME', 'ring_unpin'
    LANGUAGE C VOLATILE STRICT PARALLEL UNSAFE;

CREATE FUNCTION ring_drop(ring text)
    RETURNS void
    AS 'MODULE_PATHNAME', 'ring_drop'
    LANGUAGE C VOLATILE STRICT PARALLEL UNSAFE;
COMMENT ON FUNCTION ring_drop(text) IS 'drop a ring and its history';

--
-- Looking up.  STABLE, not IMMUTABLE: they read the catalog, and the answer
-- changes when the ring does.  PARALLEL SAFE: read-only, and workers resolve
-- the ring under the leader's snapshot.
--
CREATE FUNCTION ring_version(ring text)
    RETURNS integer
    AS 'MODULE_PATHNAME', 'ring_version'
    LANGUAGE C STABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION ring_version(text) IS 'newest version of a ring';

CREATE TYPE ring_move_result AS (from_node text, to_node text);
COMMENT ON TYPE ring_move_result IS 'old and new owner of a key that moves';
--
-- Per-key functions, one overload per key type sharing one C function:
-- bytea hashes its bytes; every other type its text form.
--

CREATE FUNCTION ring_hash(ring text, key text)
    RETURNS bigint
    AS 'MODULE_PATHNAME', 'ring_hash'
    LANGUAGE C STABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION ring_hash(text, text) IS 'position of a key in the token space of a ring';

CREATE FUNCTION ring_hash(ring text, key bytea)
    RETURNS bigint
    AS 'MODULE_PATHNAME', 'ring_hash'
    LANGUAGE C STABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION ring_hash(text, bytea) IS 'position of a key in the token space of a ring';

CREATE FUNCTION ring_hash(ring text, key smallint)
    RETURNS bigint
    AS 'MODULE_PATHNAME', 'ring_hash'
    LANGUAGE C STABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION ring_hash(text, smallint) IS 'position of a key in the token space of a ring';

CREATE FUNCTION ring_hash(ring text, key integer)
    RETURNS bigint
    AS 'MODULE_PATHNAME', 'ring_hash'
    LANGUAGE C STABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION ring_hash(text, integer) IS 'position of a key in the token space of a ring';

CREATE FUNCTION ring_hash(ring text, key bigint)
    RETURNS bigint
    AS 'MODULE_PATHNAME', 'ring_hash'
    LANGUAGE C STABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION ring_hash(text, bigint) IS 'position of a key in the token space of a ring';

CREATE FUNCTION ring_hash(ring text, key uuid)
    RETURNS bigint
    AS 'MODULE_PATHNAME', 'ring_hash'
    LANGUAGE C STABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION ring_hash(text, uuid) IS 'position of a key in the token space of a ring';

CREATE FUNCTION ring_hash(ring text, key anyelement)
    RETURNS bigint
    AS 'MODULE_PATHNAME', 'ring_hash'
    LANGUAGE C STABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION ring_hash(text, anyelement) IS 'position of a key in the token space of a ring';

CREATE FUNCTION ring_shard(ring text, key text)
    RETURNS text
    AS 'MODULE_PATHNAME', 'ring_shard'
    LANGUAGE C STABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION ring_shard(text, text) IS 'node that owns a key';

CREATE FUNCTION ring_shard(ring text, key bytea)
    RETURNS text
    AS 'MODULE_PATHNAME', 'ring_shard'
    LANGUAGE C STABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION ring_shard(text, bytea) IS 'node that owns a key';

CREATE FUNCTION ring_shard(ring text, key smallint)
    RETURNS text
    AS 'MODULE_PATHNAME', 'ring_shard'
    LANGUAGE C STABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION ring_shard(text, smallint) IS 'node that owns a key';

CREATE FUNCTION ring_shard(ring text, key integer)
    RETURNS text
    AS 'MODULE_PATHNAME', 'ring_shard'
    LANGUAGE C STABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION ring_shard(text, integer) IS 'node that owns a key';

CREATE FUNCTION ring_shard(ring text, key bigint)
    RETURNS text
    AS 'MODULE_PATHNAME', 'ring_shard'
    LANGUAGE C STABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION ring_shard(text, bigint) IS 'node that owns a key';

CREATE FUNCTION ring_shard(ring text, key uuid)
    RETURNS text
    AS 'MODULE_PATHNAME', 'ring_shard'
    LANGUAGE C STABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION ring_shard(text, uuid) IS 'node that owns a key';

CREATE FUNCTION ring_shard(ring text, key anyelement)
    RETURNS text
    AS 'MODULE_PATHNAME', 'ring_shard'
    LANGUAGE C STABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION ring_shard(text, anyelement) IS 'node that owns a key';

CREATE FUNCTION ring_shard(ring text, key text, version integer)
    RETURNS text
    AS 'MODULE_PATHNAME', 'ring_shard_at'
    LANGUAGE C STABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION ring_shard(text, text, integer) IS 'node that owned a key at a version of a ring';

CREATE FUNCTION ring_shard(ring text, key bytea, version integer)
    RETURNS text
    AS 'MODULE_PATHNAME', 'ring_shard_at'
    LANGUAGE C STABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION ring_shard(text, bytea, integer) IS 'node that owned a key at a version of a ring';

CREATE FUNCTION ring_shard(ring text, key smallint, version integer)
    RETURNS text
    AS 'MODULE_PATHNAME', 'ring_shard_at'
    LANGUAGE C STABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION ring_shard(text, smallint, integer) IS 'node that owned a key at a version of a ring';

CREATE FUNCTION ring_shard(ring text, key integer, version integer)
    RETURNS text
    AS 'MODULE_PATHNAME', 'ring_shard_at'
    LANGUAGE C STABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION ring_shard(text, integer, integer) IS 'node that owned a key at a version of a ring';

CREATE FUNCTION ring_shard(ring text, key bigint, version integer)
    RETURNS text
    AS 'MODULE_PATHNAME', 'ring_shard_at'
    LANGUAGE C STABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION ring_shard(text, bigint, integer) IS 'node that owned a key at a version of a ring';

CREATE FUNCTION ring_shard(ring text, key uuid, version integer)
    RETURNS text
    AS 'MODULE_PATHNAME', 'ring_shard_at'
    LANGUAGE C STABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION ring_shard(text, uuid, integer) IS 'node that owned a key at a version of a ring';

CREATE FUNCTION ring_shard(ring text, key anyelement, version integer)
    RETURNS text
    AS 'MODULE_PATHNAME', 'ring_shard_at'
    LANGUAGE C STABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION ring_shard(text, anyelement, integer) IS 'node that owned a key at a version of a ring';

CREATE FUNCTION ring_shard(key text)
    RETURNS text
    AS 'MODULE_PATHNAME', 'ring_shard_default'
    LANGUAGE C STABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION ring_shard(text) IS 'node that owns a key in the ring named by consistent_ring.default_ring';

CREATE FUNCTION ring_shard(key bytea)
    RETURNS text
    AS 'MODULE_PATHNAME', 'ring_shard_default'
    LANGUAGE C STABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION ring_shard(bytea) IS 'node that owns a key in the ring named by consistent_ring.default_ring';

CREATE FUNCTION ring_shard(key smallint)
    RETURNS text
    AS 'MODULE_PATHNAME', 'ring_shard_default'
    LANGUAGE C STABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION ring_shard(smallint) IS 'node that owns a key in the ring named by consistent_ring.default_ring';

CREATE FUNCTION ring_shard(key integer)
    RETURNS text
    AS 'MODULE_PATHNAME', 'ring_shard_default'
    LANGUAGE C STABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION ring_shard(integer) IS 'node that owns a key in the ring named by consistent_ring.default_ring';

CREATE FUNCTION ring_shard(key bigint)
    RETURNS text
    AS 'MODULE_PATHNAME', 'ring_shard_default'
    LANGUAGE C STABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION ring_shard(bigint) IS 'node that owns a key in the ring named by consistent_ring.default_ring';

CREATE FUNCTION ring_shard(key uuid)
    RETURNS text
    AS 'MODULE_PATHNAME', 'ring_shard_default'
    LANGUAGE C STABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION ring_shard(uuid) IS 'node that owns a key in the ring named by consistent_ring.default_ring';

CREATE FUNCTION ring_shard(key anyelement)
    RETURNS text
    AS 'MODULE_PATHNAME', 'ring_shard_default'
    LANGUAGE C STABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION ring_shard(anyelement) IS 'node that owns a key in the ring named by consistent_ring.default_ring';

CREATE FUNCTION ring_shards(ring text, key text, n integer)
    RETURNS text[]
    AS 'MODULE_PATHNAME', 'ring_shards'
    LANGUAGE C STABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION ring_shards(text, text, integer) IS 'first n distinct nodes clockwise from a key (replicas)';

CREATE FUNCTION ring_shards(ring text, key bytea, n integer)
    RETURNS text[]
    AS 'MODULE_PATHNAME', 'ring_shards'
    LANGUAGE C STABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION ring_shards(text, bytea, integer) IS 'first n distinct nodes clockwise from a key (replicas)';

CREATE FUNCTION ring_shards(ring text, key smallint, n integer)
    RETURNS text[]
    AS 'MODULE_PATHNAME', 'ring_shards'
    LANGUAGE C STABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION ring_shards(text, smallint, integer) IS 'first n distinct nodes clockwise from a key (replicas)';

CREATE FUNCTION ring_shards(ring text, key integer, n integer)
    RETURNS text[]
    AS 'MODULE_PATHNAME', 'ring_shards'
    LANGUAGE C STABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION ring_shards(text, integer, integer) IS 'first n distinct nodes clockwise from a key (replicas)';

CREATE FUNCTION ring_shards(ring text, key bigint, n integer)
    RETURNS text[]
    AS 'MODULE_PATHNAME', 'ring_shards'
    LANGUAGE C STABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION ring_shards(text, bigint, integer) IS 'first n distinct nodes clockwise from a key (replicas)';

CREATE FUNCTION ring_shards(ring text, key uuid, n integer)
    RETURNS text[]
    AS 'MODULE_PATHNAME', 'ring_shards'
    LANGUAGE C STABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION ring_shards(text, uuid, integer) IS 'first n distinct nodes clockwise from a key (replicas)';

CREATE FUNCTION ring_shards(ring text, key anyelement, n integer)
    RETURNS text[]
    AS 'MODULE_PATHNAME', 'ring_shards'
    LANGUAGE C STABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION ring_shards(text, anyelement, integer) IS 'first n distinct nodes clockwise from a key (replicas)';

CREATE FUNCTION ring_move(ring text, key text, old_version integer, new_version integer)
    RETURNS ring_move_result
    AS 'MODULE_PATHNAME', 'ring_move'
    LANGUAGE C STABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION ring_move(text, text, integer, integer) IS 'old and new owner of a key if it moves between two versions, else null';

CREATE FUNCTION ring_move(ring text, key bytea, old_version integer, new_version integer)
    RETURNS ring_move_result
    AS 'MODULE_PATHNAME', 'ring_move'
    LANGUAGE C STABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION ring_move(text, bytea, integer, integer) IS 'old and new owner of a key if it moves between two versions, else null';

CREATE FUNCTION ring_move(ring text, key smallint, old_version integer, new_version integer)
    RETURNS ring_move_result
    AS 'MODULE_PATHNAME', 'ring_move'
    LANGUAGE C STABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION ring_move(text, smallint, integer, integer) IS 'old and new owner of a key if it moves between two versions, else null';

CREATE FUNCTION ring_move(ring text, key integer, old_version integer, new_version integer)
    RETURNS ring_move_result
    AS 'MODULE_PATHNAME', 'ring_move'
    LANGUAGE C STABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION ring_move(text, integer, integer, integer) IS 'old and new owner of a key if it moves between two versions, else null';

CREATE FUNCTION ring_move(ring text, key bigint, old_version integer, new_version integer)
    RETURNS ring_move_result
    AS 'MODULE_PATHNAME', 'ring_move'
    LANGUAGE C STABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION ring_move(text, bigint, integer, integer) IS 'old and new owner of a key if it moves between two versions, else null';

CREATE FUNCTION ring_move(ring text, key uuid, old_version integer, new_version integer)
    RETURNS ring_move_result
    AS 'MODULE_PATHNAME', 'ring_move'
    LANGUAGE C STABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION ring_move(text, uuid, integer, integer) IS 'old and new owner of a key if it moves between two versions, else null';

CREATE FUNCTION ring_move(ring text, key anyelement, old_version integer, new_version integer)
    RETURNS ring_move_result
    AS 'MODULE_PATHNAME', 'ring_move'
    LANGUAGE C STABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION ring_move(text, anyelement, integer, integer) IS 'old and new owner of a key if it moves between two versions, else null';

CREATE FUNCTION ring_spread(ring text, key text, fanout integer)
    RETURNS text[]
    AS 'MODULE_PATHNAME', 'ring_spread'
    LANGUAGE C STABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION ring_spread(text, text, integer) IS 'distinct owners of a hot key salted with suffixes #0 .. #fanout-1';

CREATE FUNCTION ring_spread(ring text, key bytea, fanout integer)
    RETURNS text[]
    AS 'MODULE_PATHNAME', 'ring_spread'
    LANGUAGE C STABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION ring_spread(text, bytea, integer) IS 'distinct owners of a hot key salted with suffixes #0 .. #fanout-1';

CREATE FUNCTION ring_spread(ring text, key smallint, fanout integer)
    RETURNS text[]
    AS 'MODULE_PATHNAME', 'ring_spread'
    LANGUAGE C STABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION ring_spread(text, smallint, integer) IS 'distinct owners of a hot key salted with suffixes #0 .. #fanout-1';

CREATE FUNCTION ring_spread(ring text, key integer, fanout integer)
    RETURNS text[]
    AS 'MODULE_PATHNAME', 'ring_spread'
    LANGUAGE C STABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION ring_spread(text, integer, integer) IS 'distinct owners of a hot key salted with suffixes #0 .. #fanout-1';

CREATE FUNCTION ring_spread(ring text, key bigint, fanout integer)
    RETURNS text[]
    AS 'MODULE_PATHNAME', 'ring_spread'
    LANGUAGE C STABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION ring_spread(text, bigint, integer) IS 'distinct owners of a hot key salted with suffixes #0 .. #fanout-1';

CREATE FUNCTION ring_spread(ring text, key uuid, fanout integer)
    RETURNS text[]
    AS 'MODULE_PATHNAME', 'ring_spread'
    LANGUAGE C STABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION ring_spread(text, uuid, integer) IS 'distinct owners of a hot key salted with suffixes #0 .. #fanout-1';

CREATE FUNCTION ring_spread(ring text, key anyelement, fanout integer)
    RETURNS text[]
    AS 'MODULE_PATHNAME', 'ring_spread'
    LANGUAGE C STABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION ring_spread(text, anyelement, integer) IS 'distinct owners of a hot key salted with suffixes #0 .. #fanout-1';

--
-- Nodes that are servers: the foreign server of a key's owner, PL/Proxy.
--
CREATE FUNCTION ring_server(ring text, key text)
    RETURNS text
    AS 'MODULE_PATHNAME', 'ring_server'
    LANGUAGE C STABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION ring_server(text, text) IS 'foreign server of the node that owns a key (NULL: the node has none)';
CREATE FUNCTION ring_server(ring text, key bytea)
    RETURNS text
    AS 'MODULE_PATHNAME', 'ring_server'
    LANGUAGE C STABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION ring_server(text, bytea) IS 'foreign server of the node that owns a key (NULL: the node has none)';
CREATE FUNCTION ring_server(ring text, key smallint)
    RETURNS text
    AS 'MODULE_PATHNAME', 'ring_server'
    LANGUAGE C STABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION ring_server(text, smallint) IS 'foreign server of the node that owns a key (NULL: the node has none)';
CREATE FUNCTION ring_server(ring text, key integer)
    RETURNS text
    AS 'MODULE_PATHNAME', 'ring_server'
    LANGUAGE C STABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION ring_server(text, integer) IS 'foreign server of the node that owns a key (NULL: the node has none)';
CREATE FUNCTION ring_server(ring text, key bigint)
    RETURNS text
    AS 'MODULE_PATHNAME', 'ring_server'
    LANGUAGE C STABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION ring_server(text, bigint) IS 'foreign server of the node that owns a key (NULL: the node has none)';
CREATE FUNCTION ring_server(ring text, key uuid)
    RETURNS text
    AS 'MODULE_PATHNAME', 'ring_server'
    LANGUAGE C STABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION ring_server(text, uuid) IS 'foreign server of the node that owns a key (NULL: the node has none)';
CREATE FUNCTION ring_server(ring text, key anyelement)
    RETURNS text
    AS 'MODULE_PATHNAME', 'ring_server'
    LANGUAGE C STABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION ring_server(text, anyelement) IS 'foreign server of the node that owns a key (NULL: the node has none)';
CREATE FUNCTION ring_server(ring text, key text, version integer)
    RETURNS text
    AS 'MODULE_PATHNAME', 'ring_server_at'
    LANGUAGE C STABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION ring_server(text, text, integer) IS 'foreign server of the node that owned a key at a version of a ring';
CREATE FUNCTION ring_server(ring text, key bytea, version integer)
    RETURNS text
    AS 'MODULE_PATHNAME', 'ring_server_at'
    LANGUAGE C STABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION ring_server(text, bytea, integer) IS 'foreign server of the node that owned a key at a version of a ring';
CREATE FUNCTION ring_server(ring text, key smallint, version integer)
    RETURNS text
    AS 'MODULE_PATHNAME', 'ring_server_at'
    LANGUAGE C STABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION ring_server(text, smallint, integer) IS 'foreign server of the node that owned a key at a version of a ring';
CREATE FUNCTION ring_server(ring text, key integer, version integer)
    RETURNS text
    AS 'MODULE_PATHNAME', 'ring_server_at'
    LANGUAGE C STABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION ring_server(text, integer, integer) IS 'foreign server of the node that owned a key at a version of a ring';
CREATE FUNCTION ring_server(ring text, key bigint, version integer)
    RETURNS text
    AS 'MODULE_PATHNAME', 'ring_server_at'
    LANGUAGE C STABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION ring_server(text, bigint, integer) IS 'foreign server of the node that owned a key at a version of a ring';
CREATE FUNCTION ring_server(ring text, key uuid, version integer)
    RETURNS text
    AS 'MODULE_PATHNAME', 'ring_server_at'
    LANGUAGE C STABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION ring_server(text, uuid, integer) IS 'foreign server of the node that owned a key at a version of a ring';
CREATE FUNCTION ring_server(ring text, key anyelement, version integer)
    RETURNS text
    AS 'MODULE_PATHNAME', 'ring_server_at'
    LANGUAGE C STABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION ring_server(text, anyelement, integer) IS 'foreign server of the node that owned a key at a version of a ring';
CREATE FUNCTION ring_partition(ring text, key text)
    RETURNS integer
    AS 'MODULE_PATHNAME', 'ring_partition'
    LANGUAGE C STABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION ring_partition(text, text) IS 'PL/Proxy partition (RUN ON) of the node that owns a key';
CREATE FUNCTION ring_partition(ring text, key bytea)
    RETURNS integer
    AS 'MODULE_PATHNAME', 'ring_partition'
    LANGUAGE C STABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION ring_partition(text, bytea) IS 'PL/Proxy partition (RUN ON) of the node that owns a key';
CREATE FUNCTION ring_partition(ring text, key smallint)
    RETURNS integer
    AS 'MODULE_PATHNAME', 'ring_partition'
    LANGUAGE C STABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION ring_partition(text, smallint) IS 'PL/Proxy partition (RUN ON) of the node that owns a key';
CREATE FUNCTION ring_partition(ring text, key integer)
    RETURNS integer
    AS 'MODULE_PATHNAME', 'ring_partition'
    LANGUAGE C STABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION ring_partition(text, integer) IS 'PL/Proxy partition (RUN ON) of the node that owns a key';
CREATE FUNCTION ring_partition(ring text, key bigint)
    RETURNS integer
    AS 'MODULE_PATHNAME', 'ring_partition'
    LANGUAGE C STABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION ring_partition(text, bigint) IS 'PL/Proxy partition (RUN ON) of the node that owns a key';
CREATE FUNCTION ring_partition(ring text, key uuid)
    RETURNS integer
    AS 'MODULE_PATHNAME', 'ring_partition'
    LANGUAGE C STABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION ring_partition(text, uuid) IS 'PL/Proxy partition (RUN ON) of the node that owns a key';
CREATE FUNCTION ring_partition(ring text, key anyelement)
    RETURNS integer
    AS 'MODULE_PATHNAME', 'ring_partition'
    LANGUAGE C STABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION ring_partition(text, anyelement) IS 'PL/Proxy partition (RUN ON) of the node that owns a key';
-- PL/Proxy's cluster configuration for a ring (the extension
-- consistent_ring_plproxy installs them as plproxy.get_cluster_*).  STABLE:
-- they read the ring and the foreign servers' options.
CREATE FUNCTION ring_plproxy_partitions(cluster_name text)
    RETURNS SETOF text
    AS 'MODULE_PATHNAME', 'ring_plproxy_partitions'
    LANGUAGE C STABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION ring_plproxy_partitions(text) IS
    'connection strings of the ring''s nodes in name order, padded to a power of two (PL/Proxy partitions)';

CREATE FUNCTION ring_plproxy_version(cluster_name text)
    RETURNS integer
    AS 'MODULE_PATHNAME', 'ring_plproxy_version'
    LANGUAGE C STABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION ring_plproxy_version(text) IS
    'a number that changes with the ring''s version and its nodes'' connection strings (PL/Proxy cluster version)';

CREATE FUNCTION ring_plproxy_config(cluster_name text, OUT key text, OUT val text)
    RETURNS SETOF record
    AS 'MODULE_PATHNAME', 'ring_plproxy_config'
    LANGUAGE C STABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION ring_plproxy_config(text) IS
    'PL/Proxy cluster settings of a ring: none (PL/Proxy''s defaults)';

-- VOLATILE: it asks the server, whose answer changes
CREATE FUNCTION consistent_ring.server_status(server text)
    RETURNS text
    AS 'MODULE_PATHNAME', 'ring_server_status'
    LANGUAGE C VOLATILE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION consistent_ring.server_status(text) IS
    'whether a foreign server accepts connections: ok, rejecting connections, no response, bad connection options; NULL without USAGE on it';

--
-- Whole-ring functions.
--
CREATE FUNCTION ring_moves(ring text, old_version integer, new_version integer,
                           OUT range_start bigint, OUT range_end bigint,
                           OUT from_node text, OUT to_node text)
    RETURNS SETOF record
    AS 'MODULE_PATHNAME', 'ring_moves'
    LANGUAGE C STABLE STRICT PARALLEL SAFE ROWS 1000;
COMMENT ON FUNCTION ring_moves(text, integer, integer) IS
    'token ranges that change owner between two versions of a ring';

CREATE FUNCTION ring_moves(old_ring text, new_ring text,
                           OUT range_start bigint, OUT range_end bigint,
                           OUT from_node text, OUT to_node text)
    RETURNS SETOF record
    AS 'MODULE_PATHNAME', 'ring_moves_rings'
    LANGUAGE C STABLE STRICT PARALLEL SAFE ROWS 1000;
COMMENT ON FUNCTION ring_moves(text, text) IS
    'token ranges owned by different nodes in two rings';

-- not STRICT: a NULL version means the newest one
CREATE FUNCTION ring_ownership(ring text, version integer DEFAULT NULL,
                               OUT node text, OUT weight double precision,
                               OUT vnodes integer, OUT share double precision,
                               OUT ideal_share double precision)
    RETURNS SETOF record
    AS 'MODULE_PATHNAME', 'ring_ownership'
    LANGUAGE C STABLE PARALLEL SAFE ROWS 100;
COMMENT ON FUNCTION ring_ownership(text, integer) IS
    'exact share of the token space each node owns, against its weight share';

-- not STRICT: a NULL version means the newest one
CREATE FUNCTION ring_quality(ring text, version integer DEFAULT NULL,
                             OUT nodes integer, OUT max_share_ratio double precision,
                             OUT min_share_ratio double precision,
                             OUT add_moved double precision, OUT add_ideal double precision,
                             OUT remove_moved double precision, OUT remove_ideal double precision)
    RETURNS SETOF record
    AS 'MODULE_PATHNAME', 'ring_quality'
    LANGUAGE C STABLE PARALLEL SAFE ROWS 1;
COMMENT ON FUNCTION ring_quality(text, integer) IS
    'balance (share / ideal share) and what would move on adding or removing a node';

-- not STRICT: a NULL version means the newest one
CREATE FUNCTION ring_svg(ring text, version integer DEFAULT NULL)
    RETURNS text
    AS 'MODULE_PATHNAME', 'ring_svg'
    LANGUAGE C STABLE PARALLEL SAFE;
COMMENT ON FUNCTION ring_svg(text, integer) IS 'an SVG picture of a ring version';

CREATE FUNCTION ring_svg(ring text, old_version integer, new_version integer)
    RETURNS text
    AS 'MODULE_PATHNAME', 'ring_svg_moves'
    LANGUAGE C STABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION ring_svg(text, integer, integer) IS
    'an SVG picture of what moves between two versions of a ring';

-- IMMUTABLE: a pure function of its arguments
CREATE FUNCTION jump_consistent_hash(key bigint, buckets integer)
    RETURNS integer
    AS 'MODULE_PATHNAME', 'jump_consistent_hash'
    LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION jump_consistent_hash(bigint, integer) IS
    'Lamping and Veach''s jump consistent hash of a 64-bit key into buckets';

-- VOLATILE: it reports this backend's cache, which changes under it
CREATE FUNCTION ring_cache_info(OUT ring text, OUT version integer, OUT nodes integer,
                                OUT tokens bigint, OUT bytes bigint, OUT built_from integer,
                                OUT shared boolean)
    RETURNS SETOF record
    AS 'MODULE_PATHNAME', 'ring_cache_info'
    LANGUAGE C VOLATILE STRICT PARALLEL RESTRICTED ROWS 10;
COMMENT ON FUNCTION ring_cache_info() IS
    'rings this backend uses, with their size, the version each was built from (NULL: from the catalog alone) and whether it is the copy in shared memory';
-- it names every ring compiled in the backend, whoever may look it up
REVOKE EXECUTE ON FUNCTION ring_cache_info() FROM PUBLIC;


--
-- Moving rows between the servers of two versions (ring_migrate), and
-- finding a key while they move (ring_route).  Progress is kept in two
-- tables that each user reads and writes through row security: the owner
-- of a ring changes its migrations, those who may look it up read them.
--
CREATE FUNCTION consistent_ring.may_change(ring text)
    RETURNS boolean
    AS 'MODULE_PATHNAME', 'ring_may_change'
    LANGUAGE C STABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION consistent_ring.may_change(text) IS
    'whether the current user owns the ring (false if there is none)';

CREATE FUNCTION consistent_ring.may_read(ring text)
    RETURNS boolean
    AS 'MODULE_PATHNAME', 'ring_may_read'
    LANGUAGE C STABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION consistent_ring.may_read(text) IS
    'whether the current user may look the ring up (false if there is none)';

CREATE FUNCTION ring_nodes_at(ring text, version integer,
                              OUT node text, OUT weight double precision, OUT server text)
    RETURNS SETOF record
    AS 'MODULE_PATHNAME', 'ring_nodes_at'
    LANGUAGE C STABLE STRICT PARALLEL SAFE ROWS 100;
COMMENT ON FUNCTION ring_nodes_at(text, integer) IS
    'the nodes of a version of a ring, in name order, with their weights and servers';

CREATE TABLE consistent_ring.migrations (
    migration_id integer NOT NULL,
    ring        text COLLATE "C" NOT NULL,
    table_schema name NOT NULL,
    table_name  name NOT NULL,
    key_column  name NOT NULL,
    old_version integer NOT NULL,
    new_version integer NOT NULL,
    started_at  timestamptz NOT NULL DEFAULT pg_catalog.now(),
    started_by  name NOT NULL DEFAULT CURRENT_USER,
    finished_at timestamptz,
    verified    boolean,
    CONSTRAINT migrations_pkey PRIMARY KEY (migration_id),
    -- what the progress rows of a migration refer to: its id and its ring
    CONSTRAINT migrations_ring_key UNIQUE (migration_id, ring)
);
CREATE SEQUENCE consistent_ring.migrations_migration_id_seq AS integer
    OWNED BY consistent_ring.migrations.migration_id;
ALTER TABLE consistent_ring.migrations
    ALTER COLUMN migration_id SET DEFAULT pg_catalog.nextval('consistent_ring.migrations_migration_id_seq'::pg_catalog.regclass);
-- one unfinished migration per ring and table
CREATE UNIQUE INDEX migrations_unfinished ON consistent_ring.migrations (ring, table_schema, table_name)
    WHERE finished_at IS NULL;
COMMENT ON TABLE consistent_ring.migrations IS
    'one row per ring_migrate run of a table between two versions of a ring; finished_at is set once every source is done, verified once every source''s copies were compared with it (NULL: not compared)';

CREATE TABLE consistent_ring.migration_servers (
    migration_id integer NOT NULL,
    ring        text COLLATE "C" NOT NULL,
    server      text COLLATE "C" NOT NULL,
    source      boolean NOT NULL,
    phase       text NOT NULL DEFAULT 'waiting',
    rows_estimate bigint,
    rows_copied bigint NOT NULL DEFAULT 0,
    changes_replayed bigint NOT NULL DEFAULT 0,
    pending_changes bigint NOT NULL DEFAULT 0,
    rows_verified bigint,
    rows_deleted bigint NOT NULL DEFAULT 0,
    verified    boolean,
    fence_ms    double precision,
    phase_started_at timestamptz,
    updated_at  timestamptz,
    CONSTRAINT migration_servers_pkey PRIMARY KEY (migration_id, server),
    CONSTRAINT migration_servers_phase_check
        CHECK (phase OPERATOR(pg_catalog.=) ANY ('{waiting,copying,catching up,cut over,done}'::text[])),
    -- a row belongs to the ring its migration moves: row security checks
    -- the row's ring, and this ties it to the migration's (the check runs
    -- as the tables' owner, whatever the writer may see)
    CONSTRAINT migration_servers_migration_fkey FOREIGN KEY (migration_id, ring)
        REFERENCES consistent_ring.migrations (migration_id, ring) ON DELETE CASCADE
);
COMMENT ON TABLE consistent_ring.migration_servers IS
    'each server of a migration; a source''s phase: waiting, copying, catching up, cut over (its moving keys are on their new servers from this commit on), done (deleted at the source)';

SELECT pg_catalog.pg_extension_config_dump('consistent_ring.migrations', '');
SELECT pg_catalog.pg_extension_config_dump('consistent_ring.migrations_migration_id_seq', '');
SELECT pg_catalog.pg_extension_config_dump('consistent_ring.migration_servers', '');

ALTER TABLE consistent_ring.migrations ENABLE ROW LEVEL SECURITY;
ALTER TABLE consistent_ring.migration_servers ENABLE ROW LEVEL SECURITY;
CREATE POLICY migrations_read ON consistent_ring.migrations FOR SELECT
    USING (consistent_ring.may_read(ring));
CREATE POLICY migrations_change ON consistent_ring.migrations
    USING (consistent_ring.may_change(ring)) WITH CHECK (consistent_ring.may_change(ring));
CREATE POLICY migration_servers_read ON consistent_ring.migration_servers FOR SELECT
    USING (consistent_ring.may_read(ring));
CREATE POLICY migration_servers_change ON consistent_ring.migration_servers
    USING (consistent_ring.may_change(ring)) WITH CHECK (consistent_ring.may_change(ring));
GRANT SELECT, INSERT, UPDATE, DELETE ON consistent_ring.migrations, consistent_ring.migration_servers TO PUBLIC;
GRANT USAGE ON SEQUENCE consistent_ring.migrations_migration_id_seq TO PUBLIC;

-- ring_route keeps what it read of these tables across statements until a
-- change to them commits: each changed row sends the catalog's invalidation
-- (a statement that changes no row sends nothing), TRUNCATE too, also on a
-- logical replication subscriber (ALWAYS); before a statement changes them
-- the transaction notes that it does, so that it keeps nothing it reads.
CREATE TRIGGER migrations_changing
    BEFORE INSERT OR UPDATE OR DELETE OR TRUNCATE ON consistent_ring.migrations
    FOR EACH STATEMENT EXECUTE FUNCTION consistent_ring.invalidate_cache();
CREATE TRIGGER migrations_invalidate_cache
    AFTER INSERT OR UPDATE OR DELETE ON consistent_ring.migrations
    FOR EACH ROW EXECUTE FUNCTION consistent_ring.invalidate_cache();
CREATE TRIGGER migrations_truncate_invalidate_cache
    AFTER TRUNCATE ON consistent_ring.migrations
    FOR EACH STATEMENT EXECUTE FUNCTION consistent_ring.invalidate_cache();
CREATE TRIGGER migration_servers_changing
    BEFORE INSERT OR UPDATE OR DELETE OR TRUNCATE ON consistent_ring.migration_servers
    FOR EACH STATEMENT EXECUTE FUNCTION consistent_ring.invalidate_cache();
CREATE TRIGGER migration_servers_invalidate_cache
    AFTER INSERT OR UPDATE OR DELETE ON consistent_ring.migration_servers
    FOR EACH ROW EXECUTE FUNCTION consistent_ring.invalidate_cache();
CREATE TRIGGER migration_servers_truncate_invalidate_cache
    AFTER TRUNCATE ON consistent_ring.migration_servers
    FOR EACH STATEMENT EXECUTE FUNCTION consistent_ring.invalidate_cache();
ALTER TABLE consistent_ring.migrations ENABLE ALWAYS TRIGGER migrations_invalidate_cache;
ALTER TABLE consistent_ring.migration_servers ENABLE ALWAYS TRIGGER migration_servers_invalidate_cache;

-- What a DBA watches from another session: each source of each unfinished
-- (and the last finished) migration, its phase and figures.
CREATE VIEW ring_migration_progress WITH (security_barrier) AS
    SELECT m.migration_id, m.ring,
           pg_catalog.format('%I.%I', m.table_schema, m.table_name) AS tbl,
           s.server AS source, s.phase, s.rows_estimate, s.rows_copied, s.changes_replayed,
           s.pending_changes AS lag_changes, s.rows_deleted, s.verified, s.fence_ms,
           pg_catalog.now() OPERATOR(pg_catalog.-) s.phase_started_at AS in_phase,
           CASE WHEN s.phase OPERATOR(pg_catalog.=) 'copying'
                     AND s.rows_copied OPERATOR(pg_catalog.>) 0
                     AND s.rows_estimate OPERATOR(pg_catalog.>) s.rows_copied
                THEN (s.updated_at OPERATOR(pg_catalog.-) s.phase_started_at)
                     OPERATOR(pg_catalog.*) ((s.rows_estimate OPERATOR(pg_catalog.-) s.rows_copied)::double precision
                                             OPERATOR(pg_catalog./) s.rows_copied::double precision) END AS copy_time_left,
           s.updated_at
      FROM consistent_ring.migrations m
      JOIN consistent_ring.migration_servers s ON s.migration_id OPERATOR(pg_catalog.=) m.migration_id
     WHERE s.source;
COMMENT ON VIEW ring_migration_progress IS
    'each source of each migration: its phase, rows copied, changes replayed, changes still to replay, fence time, estimated copy time left';
GRANT SELECT ON ring_migration_progress TO PUBLIC;

-- The coordinator's side of a move: a ring's versions as rows, for the
-- servers (those who may look the ring up may read it).
CREATE FUNCTION consistent_ring.ring_export(ring text, version integer)
    RETURNS jsonb
    AS 'MODULE_PATHNAME', 'ring_export'
    LANGUAGE C STABLE STRICT;
COMMENT ON FUNCTION consistent_ring.ring_export(text, integer) IS
    'the catalog rows of a ring up to a version, as ring_migrate sends them to the servers';

--
-- The servers' side of a move (CREATE EXTENSION consistent_ring on every
-- server of a ring ring_migrate moves rows between).  A source table gets
-- the trigger zz_consistent_ring_move: while its rows are copied it
-- records the keys of every write to a key that moves away
-- (shard_changes), and once they are cut over it refuses writes to them
-- (40001, the message names the new server).  Only the functions below
-- read and write these tables.
--
CREATE TABLE consistent_ring.shard_moves (
    relid       oid NOT NULL,
    key_column  name NOT NULL,
    migration   text NOT NULL,
    ring        text COLLATE "C" NOT NULL,
    server      text COLLATE "C" NOT NULL,
    old_version integer NOT NULL,
    new_version integer NOT NULL,
    state       text NOT NULL,
    rows_deleted bigint NOT NULL DEFAULT 0,
    changed_at  timestamptz NOT NULL DEFAULT pg_catalog.now(),
    CONSTRAINT shard_moves_pkey PRIMARY KEY (relid),
    CONSTRAINT shard_moves_state_check
        CHECK (state OPERATOR(pg_catalog.=) ANY ('{copying,cut over,done}'::text[]))
);
COMMENT ON TABLE consistent_ring.shard_moves IS
    'on a server: each table a migration moves rows away from, the ring (imported) and this server''s name in it, and whether its moving keys are being copied, cut over or gone';
CREATE TABLE consistent_ring.shard_changes (
    relid       oid NOT NULL,
    key         text NOT NULL
);
COMMENT ON TABLE consistent_ring.shard_changes IS
    'on a server: the keys written since a move''s copy began, in text form, until ring_migrate replays them';
REVOKE ALL ON consistent_ring.shard_moves, consistent_ring.shard_changes FROM PUBLIC;

CREATE FUNCTION consistent_ring.shard_capture()
    RETURNS trigger
    AS 'MODULE_PATHNAME', 'ring_shard_capture'
    LANGUAGE C;
COMMENT ON FUNCTION consistent_ring.shard_capture() IS
    'trigger of a table rows move away from: records writes to moving keys while they are copied, refuses them once they are cut over';

CREATE FUNCTION consistent_ring.shard_import(migration text, definition jsonb)
    RETURNS text
    AS 'MODULE_PATHNAME', 'ring_shard_import'
    LANGUAGE C VOLATILE STRICT;
COMMENT ON FUNCTION consistent_ring.shard_import(text, jsonb) IS
    'on a server: create (or replace) the ring a migration moves rows by, owned by the caller; returns its name here';

CREATE FUNCTION consistent_ring.shard_begin(tbl regclass, key_column name, migration text,
                                            server text, old_version integer, new_version integer,
                                            definition jsonb)
    RETURNS text
    AS 'MODULE_PATHNAME', 'ring_shard_begin'
    LANGUAGE C VOLATILE STRICT;
COMMENT ON FUNCTION consistent_ring.shard_begin(regclass, name, text, text, integer, integer, jsonb) IS
    'on a source server: start recording the writes to the table''s moving keys (waits for the writers already running); returns the state, which a migration already begun keeps';

CREATE FUNCTION consistent_ring.shard_take_changes(tbl regclass, migration text, max_keys integer)
    RETURNS SETOF text
    AS 'MODULE_PATHNAME', 'ring_shard_take_changes'
    LANGUAGE C VOLATILE STRICT ROWS 1000;
COMMENT ON FUNCTION consistent_ring.shard_take_changes(regclass, text, integer) IS
    'on a source server: remove and return (each once) up to max_keys keys written since they were last taken';

CREATE FUNCTION consistent_ring.shard_pending(tbl regclass)
    RETURNS bigint
    AS 'MODULE_PATHNAME', 'ring_shard_pending'
    LANGUAGE C STABLE STRICT;
COMMENT ON FUNCTION consistent_ring.shard_pending(regclass) IS
    'on a source server: how many recorded writes wait to be replayed';

CREATE FUNCTION consistent_ring.shard_cut(tbl regclass, migration text)
    RETURNS void
    AS 'MODULE_PATHNAME', 'ring_shard_cut'
    LANGUAGE C VOLATILE STRICT;
COMMENT ON FUNCTION consistent_ring.shard_cut(regclass, text) IS
    'on a source server: wait for the writers of moving keys to end and refuse further writes to them (until the transaction ends, nothing writes them)';

CREATE FUNCTION consistent_ring.shard_delete_moved(tbl regclass, migration text)
    RETURNS bigint
    AS 'MODULE_PATHNAME', 'ring_shard_delete_moved'
    LANGUAGE C VOLATILE STRICT;
COMMENT ON FUNCTION consistent_ring.shard_delete_moved(regclass, text) IS
    'on a source server, once cut over: delete the rows whose keys moved away; returns how many this migration deleted there so far';

CREATE FUNCTION consistent_ring.shard_forget(tbl regclass, migration text)
    RETURNS void
    AS 'MODULE_PATHNAME', 'ring_shard_forget'
    LANGUAGE C VOLATILE STRICT;
COMMENT ON FUNCTION consistent_ring.shard_forget(regclass, text) IS
    'on a server that is no source of this migration: forget what an earlier migration of the table left (its refusals)';

CREATE FUNCTION consistent_ring.shard_finish(tbl regclass, migration text)
    RETURNS void
    AS 'MODULE_PATHNAME', 'ring_shard_finish'
    LANGUAGE C VOLATILE STRICT;
COMMENT ON FUNCTION consistent_ring.shard_finish(regclass, text) IS
    'on a source server, once the migration is done: keep refusing writes to the keys that moved away';

--
-- ring_migrate: move the rows of a table whose key's server differs
-- between two versions of a ring, online (src/ring_mover.c).
--
CREATE PROCEDURE ring_migrate(tbl regclass, key_column name, ring text,
                              old_version integer, new_version integer,
                              batch_size integer DEFAULT 10000,
                              verify boolean DEFAULT true,
                              cascade_deletes boolean DEFAULT false,
                              parallel integer DEFAULT 1)
    AS 'MODULE_PATHNAME', 'ring_migrate'
    LANGUAGE C;
COMMENT ON PROCEDURE ring_migrate(regclass, name, text, integer, integer, integer, boolean, boolean, integer) IS
    'move the rows of a table from their servers in one version of a ring to their servers in another, online, with COPY; resumable';

CREATE FUNCTION ring_migrate_check(tbl regclass, key_column name, ring text,
                                   old_version integer, new_version integer,
                                   cascade_deletes boolean DEFAULT false,
                                   OUT server text, OUT destination text, OUT item text,
                                   OUT ok boolean, OUT rows bigint, OUT bytes bigint, OUT detail text)
    RETURNS SETOF record
    AS 'MODULE_PATHNAME', 'ring_migrate_check'
    LANGUAGE C VOLATILE STRICT;
COMMENT ON FUNCTION ring_migrate_check(regclass, name, text, integer, integer, boolean) IS
    'what ring_migrate would move (rows and bytes per source and destination) and whatever would stop it, changing nothing';

-- ring_migrate's queries are built at run time under its caller's
-- search_path: it names every operator with its schema, those of the key
-- column's type too (its default btree operator class's).
CREATE FUNCTION consistent_ring.key_operator(keytype regtype, op text)
    RETURNS text
    AS 'MODULE_PATHNAME', 'ring_key_operator'
    LANGUAGE C STABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION consistent_ring.key_operator(regtype, text) IS
    'the key type''s comparison operator <, <=, =, >= or >, as OPERATOR(schema.name)';

--

-- ring_route(ring, key, table): where a reader finds a key of the table
-- now: during a migration, its old server until its batch's progress has committed,
-- then its new one; after the last migration, the server of that
-- migration's new version; with no migration, of the newest version.
-- STABLE: it reads the progress tables as the caller, under the statement's snapshot.
CREATE FUNCTION ring_route(ring text, key anyelement, tbl regclass)
    RETURNS text
    AS 'MODULE_PATHNAME', 'ring_route'
    LANGUAGE C STABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION ring_route(text, anyelement, regclass) IS
    'server where a reader finds a key of a table now, during and after its migrations';

CREATE FUNCTION ring_route(ring text, key text, tbl regclass)
    RETURNS text
    AS 'MODULE_PATHNAME', 'ring_route'
    LANGUAGE C STABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION ring_route(text, text, regclass) IS
    'server where a reader finds a key of a table now, during and after its migrations';

-- ring_partition(ring, key, table): for PL/Proxy's RUN ON, the partition of
-- the server ring_route names (ring_plproxy_partitions lists, after the
-- nodes, the servers unfinished migrations may still read from).
CREATE FUNCTION ring_partition(ring text, key anyelement, tbl regclass)
    RETURNS integer
    AS 'MODULE_PATHNAME', 'ring_partition_routed'
    LANGUAGE C STABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION ring_partition(text, anyelement, regclass) IS
    'PL/Proxy partition (RUN ON) of the server where a key of a table is now, during and after its migrations';
CREATE FUNCTION ring_partition(ring text, key text, tbl regclass)
    RETURNS integer
    AS 'MODULE_PATHNAME', 'ring_partition_routed'
    LANGUAGE C STABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION ring_partition(text, text, regclass) IS
    'PL/Proxy partition (RUN ON) of the server where a key of a table is now, during and after its migrations';

--
-- Views for browsing.
--
CREATE VIEW ring_nodes WITH (security_barrier) AS
    SELECT r.name AS ring,
           n.node,
           n.weight,
           CASE r.algorithm
               WHEN 'vnode' THEN consistent_ring.virtual_nodes(r.vnodes, n.weight)
               WHEN 'slots' THEN (SELECT pg_catalog.count(*)::integer
                                    FROM consistent_ring.tokens t
                                   WHERE t.ring_id OPERATOR(pg_catalog.=) r.ring_id
                                     AND t.node OPERATOR(pg_catalog.=) n.node
                                     AND t.removed_in IS NULL)
               -- a 'redis' ring's tokens end runs of slots: last slot = (token >> 50) + 8192
               WHEN 'cassandra' THEN (SELECT pg_catalog.count(*)::integer
                                    FROM consistent_ring.tokens t
                                   WHERE t.ring_id OPERATOR(pg_catalog.=) r.ring_id
                                     AND t.node OPERATOR(pg_catalog.=) n.node
                                     AND t.removed_in IS NULL)
               WHEN 'redis' THEN (SELECT pg_catalog.sum(run.last OPERATOR(pg_catalog.-) run.before)::integer
                                    FROM (SELECT t.node,
                                                 (t.token OPERATOR(pg_catalog.>>) 50) OPERATOR(pg_catalog.+) 8192 AS last,
                                                 pg_catalog.lag((t.token OPERATOR(pg_catalog.>>) 50) OPERATOR(pg_catalog.+) 8192, 1, -1::bigint)
                                                     OVER (ORDER BY t.token) AS before
                                            FROM consistent_ring.tokens t
                                           WHERE t.ring_id OPERATOR(pg_catalog.=) r.ring_id
                                             AND t.removed_in IS NULL) run
                                   WHERE run.node OPERATOR(pg_catalog.=) n.node)
           END AS vnodes,
           n.zone,
           n.added_in AS since_version,
           n.server
      FROM consistent_ring.rings r
      JOIN consistent_ring.nodes n ON n.ring_id OPERATOR(pg_catalog.=) r.ring_id
     WHERE n.removed_in IS NULL
       AND consistent_ring.may_look_up(r.owner, r.public_lookup, r.readers);
COMMENT ON VIEW ring_nodes IS
    'nodes of the newest version of every ring; vnodes is the virtual nodes of a ''vnode'' ring, the slots owned in a ''slots'' or ''redis'' ring';

CREATE VIEW ring_versions WITH (security_barrier) AS
    SELECT r.name AS ring,
           v.version,
           v.created_at,
           v.created_by,
           (SELECT pg_catalog.count(*)
              FROM consistent_ring.nodes n
             WHERE n.ring_id OPERATOR(pg_catalog.=) v.ring_id
               AND n.added_in OPERATOR(pg_catalog.<=) v.version
               AND (n.removed_in IS NULL OR n.removed_in OPERATOR(pg_catalog.>) v.version)) AS nodes,
           (SELECT COALESCE(pg_catalog.sum(n.weight), 0)
              FROM consistent_ring.nodes n
             WHERE n.ring_id OPERATOR(pg_catalog.=) v.ring_id
               AND n.added_in OPERATOR(pg_catalog.<=) v.version
               AND (n.removed_in IS NULL OR n.removed_in OPERATOR(pg_catalog.>) v.version)) AS total_weight,
           v.version OPERATOR(pg_catalog.=) r.version AS is_current
      FROM consistent_ring.rings r
      JOIN consistent_ring.versions v ON v.ring_id OPERATOR(pg_catalog.=) r.ring_id
     WHERE consistent_ring.may_look_up(r.owner, r.public_lookup, r.readers);

CREATE VIEW ring_pins WITH (security_barrier) AS
    SELECT r.name AS ring, p.key, p.position, p.node, p.added_in AS since_version
      FROM consistent_ring.rings r
      JOIN consistent_ring.pins p ON p.ring_id OPERATOR(pg_catalog.=) r.ring_id
     WHERE p.removed_in IS NULL
       AND consistent_ring.may_look_up(r.owner, r.public_lookup, r.readers);
COMMENT ON VIEW ring_pins IS 'keys pinned in the newest version of every ring: placement bytes, position, node';

CREATE VIEW ring_list WITH (security_barrier) AS
    SELECT r.name AS ring, r.algorithm, r.vnodes, r.version, r.owner, r.created_at,
           CASE WHEN r.public_lookup THEN '{public}'::text[] ELSE '{}'::text[] END
               OPERATOR(pg_catalog.||) r.readers::text[] AS lookup,
           r.slots, r.table_size, r.token_allocation
      FROM consistent_ring.rings r
     WHERE consistent_ring.may_look_up(r.owner, r.public_lookup, r.readers);
COMMENT ON VIEW ring_list IS 'every ring the current user may look up, with its owner and lookup rights';
COMMENT ON VIEW ring_versions IS 'every version of every ring, with its node count';

-- Each node of the newest versions with its foreign server, the server's
-- wrapper and host, and whether it accepts connections now (status asks
-- each server: a query of this view waits up to connect_timeout, 2 s by
-- default, per server that does not answer).
CREATE VIEW ring_servers WITH (security_barrier) AS
    SELECT n.ring,
           n.node,
           n.server,
           w.fdwname AS wrapper,
           (SELECT pg_catalog.string_agg(o.option_value, ',')
              FROM pg_catalog.pg_options_to_table(s.srvoptions) o
             WHERE o.option_name OPERATOR(pg_catalog.=) ANY ('{host,hostaddr,port,dbname}'::text[])) AS connection,
           st.status,
           st.status OPERATOR(pg_catalog.=) 'ok' AS reachable
      FROM ring_nodes n
      LEFT JOIN pg_catalog.pg_foreign_server s ON s.srvname OPERATOR(pg_catalog.=) n.server
      LEFT JOIN pg_catalog.pg_foreign_data_wrapper w ON w.oid OPERATOR(pg_catalog.=) s.srvfdw
      LEFT JOIN LATERAL (SELECT CASE WHEN s.oid IS NULL THEN NULL
                                     ELSE consistent_ring.server_status(n.server) END AS status) st ON true;
COMMENT ON VIEW ring_servers IS
    'nodes of the newest version of every ring with their foreign servers and whether those accept connections now';

-- the views filter by lookup rights, so everyone may query them
GRANT SELECT ON ring_nodes, ring_versions, ring_list, ring_pins, ring_servers TO PUBLIC;

-- compiled rings in shared memory (shared_preload_libraries = 'consistent_ring')
CREATE FUNCTION ring_shared_cache(OUT ring text, OUT version integer, OUT backends integer,
                                  OUT bytes bigint, OUT built_from integer)
    RETURNS SETOF record
    AS 'MODULE_PATHNAME', 'ring_shared_cache'
    LANGUAGE C VOLATILE STRICT PARALLEL RESTRICTED ROWS 10;
COMMENT ON FUNCTION ring_shared_cache() IS
    'rings of this database compiled in shared memory, with the backends using each (none unless the library is preloaded)';
-- it names every shared ring of the database, whoever may look it up
REVOKE EXECUTE ON FUNCTION ring_shared_cache() FROM PUBLIC;
