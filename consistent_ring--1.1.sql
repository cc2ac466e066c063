/* consistent_ring--1.1.sql */

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
                                OUT tokens bigint, OUT bytes bigint, OUT built_from integer)
    RETURNS SETOF record
    AS 'MODULE_PATHNAME', 'ring_cache_info'
    LANGUAGE C VOLATILE STRICT PARALLEL RESTRICTED ROWS 10;
COMMENT ON FUNCTION ring_cache_info() IS
    'rings compiled in this backend''s cache, with their size and the version each was built from (NULL: from the catalog alone)';
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
    'one row per ring_migrate run of a table between two versions of a ring; finished_at is set once every batch is done, verified once the counts and checksums were checked (NULL: not checked)';

CREATE TABLE consistent_ring.migration_servers (
    migration_id integer NOT NULL,
    ring        text COLLATE "C" NOT NULL,
    server      text COLLATE "C" NOT NULL,
    source      boolean NOT NULL,
    last_key    text,
    done        boolean NOT NULL DEFAULT false,
    pending_delete boolean NOT NULL DEFAULT false,
    pending_after text,
    batches     bigint NOT NULL DEFAULT 0,
    keys_moved  bigint NOT NULL DEFAULT 0,
    rows_moved  bigint NOT NULL DEFAULT 0,
    rows_before bigint,
    checksum_before numeric,
    rows_after  bigint,
    checksum_after numeric,
    misplaced_after bigint,
    CONSTRAINT migration_servers_pkey PRIMARY KEY (migration_id, server),
    -- a row belongs to the ring its migration moves: row security checks
    -- the row's ring, and this ties it to the migration's (the check runs
    -- as the tables' owner, whatever the writer may see)
    CONSTRAINT migration_servers_migration_fkey FOREIGN KEY (migration_id, ring)
        REFERENCES consistent_ring.migrations (migration_id, ring) ON DELETE CASCADE
);
COMMENT ON TABLE consistent_ring.migration_servers IS
    'each server of a migration: as a source, the last key of its last committed batch (keys up to it are on their new servers) and done, and pending_delete while that batch''s rows (keys after pending_after) are still to be deleted at the source; row counts and checksums before and after';

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

-- The temporary foreign table a migration reads and writes a server's
-- part of the table through; with a second argument, the one it reads that
-- server's catalog through ('columns': information_schema.columns;
-- 'constraint', 'class', 'namespace': those pg_catalog tables).
CREATE FUNCTION consistent_ring.migration_table(server text)
    RETURNS text
    LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE
    AS $$SELECT pg_catalog.format('pg_temp.%I', 'ring_migrate_' OPERATOR(pg_catalog.||) pg_catalog.md5(server))$$;
CREATE FUNCTION consistent_ring.migration_table(server text, catalog text)
    RETURNS text
    LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE
    AS $$SELECT pg_catalog.format('pg_temp.%I', 'ring_migrate_' OPERATOR(pg_catalog.||) catalog
                                  OPERATOR(pg_catalog.||) '_' OPERATOR(pg_catalog.||) pg_catalog.md5(server))$$;

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
-- ring_migrate: move the rows of a table whose key's server differs
-- between two versions of a ring, over postgres_fdw.  The table is
-- schema.table on every server (the coordinator's table of that name gives
-- the columns).  Each source server is read in key order, batch_size keys
-- at a time (rows with a NULL key have no place on the ring: they stay
-- where they are); a batch's moving rows are copied to their new servers (any
-- copies an interrupted run left there replaced) and committed, then
-- deleted at the source together with the batch's progress.  Interrupted
-- at any point, calling it again finishes the job.  Must be called outside
-- a transaction block (it commits after each step).
--
-- Before anything moves, each server's table must have the coordinator's
-- columns (names, types, collations, NOT NULL, generated), or rows would
-- lose values in the copy; and no foreign key at a source may cascade the
-- source deletes into other tables (ON DELETE CASCADE, SET NULL, SET
-- DEFAULT) unless cascade_deletes says so.
--
-- It runs under the caller's search_path (a procedure that commits cannot
-- set its own): every function and operator it names is schema-qualified,
-- in its own statements and in the queries it builds.
--
CREATE PROCEDURE ring_migrate(tbl regclass, key_column name, ring text,
                              old_version integer, new_version integer,
                              batch_size integer DEFAULT 10000,
                              verify boolean DEFAULT true,
                              cascade_deletes boolean DEFAULT false)
    LANGUAGE plpgsql
    AS $proc$
DECLARE
    nsp name;
    rel name;
    keytype text;
    keytypeid regtype;
    key_default_collation boolean;
    here_collation text;
    there_collation text;
    key_eq text;
    key_le text;
    key_gt text;
    cols text;
    colnames text;
    ncols integer;
    mig consistent_ring.migrations;
    srv record;
    bad record;
    src text;
    last_key text;
    scanned bigint;
    chunk_last text;
    moves jsonb;
    dest record;
    keys text[];
    nrows bigint;
    batch_keys bigint;
    batch_rows bigint;
    batch_no bigint;
    q text;
    cols_query text;
    catalog_cols text;
    catalog_table text;
    nrows_there bigint;
    totals record;
    lock_key integer;
    resuming boolean;
BEGIN
    IF tbl IS NULL OR key_column IS NULL OR ring IS NULL OR old_version IS NULL
       OR new_version IS NULL OR batch_size IS NULL OR verify IS NULL OR cascade_deletes IS NULL THEN
        RAISE EXCEPTION 'arguments of ring_migrate must not be null'
            USING ERRCODE = 'null_value_not_allowed';
    END IF;
    IF batch_size OPERATOR(pg_catalog.<) 1 THEN
        RAISE EXCEPTION 'batch_size must be at least 1' USING ERRCODE = 'invalid_parameter_value';
    END IF;
    SELECT n.nspname, c.relname INTO nsp, rel
      FROM pg_catalog.pg_class c JOIN pg_catalog.pg_namespace n ON n.oid OPERATOR(pg_catalog.=) c.relnamespace
     WHERE c.oid OPERATOR(pg_catalog.=) tbl;
    IF rel IS NULL THEN
        RAISE EXCEPTION 'relation with OID % does not exist', tbl::oid USING ERRCODE = 'undefined_table';
    END IF;
    SELECT pg_catalog.format_type(a.atttypid, a.atttypmod), a.atttypid,
           a.attcollation OPERATOR(pg_catalog.=) 100::pg_catalog.oid    -- "default"
      INTO keytype, keytypeid, key_default_collation
      FROM pg_catalog.pg_attribute a
     WHERE a.attrelid OPERATOR(pg_catalog.=) tbl AND a.attname OPERATOR(pg_catalog.=) key_column
       AND a.attnum OPERATOR(pg_catalog.>) 0 AND NOT a.attisdropped;
    IF keytype IS NULL THEN
        RAISE EXCEPTION 'column "%" of relation "%" does not exist', key_column, tbl
            USING ERRCODE = 'undefined_column';
    END IF;
    SELECT pg_catalog.format('LC_COLLATE %s, LC_CTYPE %s', d.datcollate, d.datctype) INTO here_collation
      FROM pg_catalog.pg_database d WHERE d.datname OPERATOR(pg_catalog.=) pg_catalog.current_database();
    key_eq := consistent_ring.key_operator(keytypeid, '=');
    key_le := consistent_ring.key_operator(keytypeid, '<=');
    key_gt := consistent_ring.key_operator(keytypeid, '>');
    -- the columns as the coordinator's table has them, collations included
    -- (key order is the key column's collation's)
    SELECT pg_catalog.string_agg(pg_catalog.format('%I %s%s', a.attname, pg_catalog.format_type(a.atttypid, a.atttypmod),
                                                   CASE WHEN a.attcollation OPERATOR(pg_catalog.<>) t.typcollation
                                                        THEN pg_catalog.format(' COLLATE %I.%I', cn.nspname, co.collname)
                                                        ELSE '' END),
                                 ', ' ORDER BY a.attnum),
           pg_catalog.string_agg(pg_catalog.format('%I', a.attname), ', ' ORDER BY a.attnum),
           pg_catalog.count(*)
      INTO cols, colnames, ncols
      FROM pg_catalog.pg_attribute a
      JOIN pg_catalog.pg_type t ON t.oid OPERATOR(pg_catalog.=) a.atttypid
      LEFT JOIN pg_catalog.pg_collation co ON co.oid OPERATOR(pg_catalog.=) a.attcollation
      LEFT JOIN pg_catalog.pg_namespace cn ON cn.oid OPERATOR(pg_catalog.=) co.collnamespace
     WHERE a.attrelid OPERATOR(pg_catalog.=) tbl AND a.attnum OPERATOR(pg_catalog.>) 0
       AND NOT a.attisdropped AND a.attgenerated OPERATOR(pg_catalog.=) '';
    IF NOT consistent_ring.may_change(ring) THEN
        PERFORM @extschema@.ring_version(ring);     -- does not exist, or may not be looked up
        RAISE EXCEPTION 'must be owner of ring "%"', ring USING ERRCODE = 'insufficient_privilege';
    END IF;

    -- every node of both versions on a postgres_fdw server
    FOR bad IN
        SELECT v.version, n.node, n.server, w.fdwname
          FROM pg_catalog.unnest(ARRAY[old_version, new_version]) v(version)
          CROSS JOIN LATERAL @extschema@.ring_nodes_at(ring, v.version) n
          LEFT JOIN pg_catalog.pg_foreign_server s ON s.srvname OPERATOR(pg_catalog.=) n.server
          LEFT JOIN pg_catalog.pg_foreign_data_wrapper w ON w.oid OPERATOR(pg_catalog.=) s.srvfdw
         WHERE (w.fdwname OPERATOR(pg_catalog.=) 'postgres_fdw') IS NOT TRUE
    LOOP
        IF bad.server IS NULL THEN
            RAISE EXCEPTION 'node "%" of ring "%" has no server in version %', bad.node, ring, bad.version
                USING ERRCODE = 'object_not_in_prerequisite_state',
                      HINT = 'Name its foreign server with ring_set_server().';
        ELSIF bad.fdwname IS NULL THEN
            RAISE EXCEPTION 'server "%" does not exist', bad.server USING ERRCODE = 'undefined_object';
        ELSE
            RAISE EXCEPTION 'server "%" does not use postgres_fdw', bad.server
                USING ERRCODE = 'feature_not_supported',
                      DETAIL = pg_catalog.format('Its foreign-data wrapper is %s.', bad.fdwname);
        END IF;
    END LOOP;

    SELECT * INTO mig FROM consistent_ring.migrations m
     WHERE m.ring OPERATOR(pg_catalog.=) ring_migrate.ring AND m.table_schema OPERATOR(pg_catalog.=) nsp
       AND m.table_name OPERATOR(pg_catalog.=) rel AND m.finished_at IS NULL;
    resuming := FOUND;
    IF resuming AND (mig.old_version OPERATOR(pg_catalog.<>) ring_migrate.old_version
                  OR mig.new_version OPERATOR(pg_catalog.<>) ring_migrate.new_version
                  OR mig.key_column OPERATOR(pg_catalog.<>) ring_migrate.key_column) THEN
        RAISE EXCEPTION 'table % has an unfinished migration of ring "%" from version % to version %',
                        tbl, ring, mig.old_version, mig.new_version
            USING ERRCODE = 'object_not_in_prerequisite_state',
                  HINT = pg_catalog.format('Finish it first: CALL ring_migrate(%L, %L, %L, %s, %s).',
                                           tbl, mig.key_column, ring, mig.old_version, mig.new_version);
    END IF;

    -- One session at a time moves a table by a ring (the key 'ring' =
    -- 1919510119, then a hash of the ring and table): a session-level
    -- advisory lock, kept across the commits, released at the end (or when
    -- the session ends: a run that failed keeps it until then, and may be
    -- resumed in the same session).
    lock_key := pg_catalog.hashtext(pg_catalog.format('%s.%s', ring, tbl::oid));
    IF NOT EXISTS (SELECT FROM pg_catalog.pg_locks l
                    WHERE l.locktype OPERATOR(pg_catalog.=) 'advisory' AND l.pid OPERATOR(pg_catalog.=) pg_catalog.pg_backend_pid()
                      AND l.classid OPERATOR(pg_catalog.=) 1919510119::oid AND l.objid OPERATOR(pg_catalog.=) lock_key::oid
                      AND l.objsubid OPERATOR(pg_catalog.=) 2 AND l.granted)
       AND NOT pg_catalog.pg_try_advisory_lock(1919510119, lock_key) THEN
        RAISE EXCEPTION 'table % is being migrated by ring "%" in another session', tbl, ring
            USING ERRCODE = 'object_in_use',
                  DETAIL = pg_catalog.format('The session with PID %s holds the migration.',
                                             (SELECT l.pid FROM pg_catalog.pg_locks l
                                               WHERE l.locktype OPERATOR(pg_catalog.=) 'advisory'
                                                 AND l.classid OPERATOR(pg_catalog.=) 1919510119::oid
                                                 AND l.objid OPERATOR(pg_catalog.=) lock_key::oid
                                                 AND l.objsubid OPERATOR(pg_catalog.=) 2 AND l.granted LIMIT 1)),
                  HINT = 'A run that failed keeps the migration until its session ends; resume it there, or end that session.';
    END IF;

    IF resuming THEN
        RAISE NOTICE 'ring_migrate: resuming migration % of % from version % to version %',
                     mig.migration_id, tbl, old_version, new_version;
    ELSE
        INSERT INTO consistent_ring.migrations (ring, table_schema, table_name, key_column, old_version, new_version)
             VALUES (ring, nsp, rel, key_column, old_version, new_version)
          RETURNING * INTO mig;
        -- Sources: the servers of the nodes that give ranges away
        -- (ring_moves) or whose server changes; all servers of the old
        -- version where ring_moves does not apply.
        BEGIN
            INSERT INTO consistent_ring.migration_servers (migration_id, ring, server, source)
            SELECT mig.migration_id, ring, x.server, pg_catalog.bool_or(x.source)
              FROM (SELECT o.server,
                           o.node OPERATOR(pg_catalog.=) ANY (SELECT mv.from_node FROM @extschema@.ring_moves(ring, old_version, new_version) mv)
                           OR (o.server OPERATOR(pg_catalog.=) n.server) IS NOT TRUE AS source
                      FROM @extschema@.ring_nodes_at(ring, old_version) o
                      LEFT JOIN @extschema@.ring_nodes_at(ring, new_version) n ON n.node OPERATOR(pg_catalog.=) o.node
                    UNION ALL
                    SELECT n.server, false FROM @extschema@.ring_nodes_at(ring, new_version) n) x
             GROUP BY x.server;
        EXCEPTION WHEN feature_not_supported THEN
            INSERT INTO consistent_ring.migration_servers (migration_id, ring, server, source)
            SELECT mig.migration_id, ring, x.server, pg_catalog.bool_or(x.source)
              FROM (SELECT o.server, true AS source FROM @extschema@.ring_nodes_at(ring, old_version) o
                    UNION ALL
                    SELECT n.server, false FROM @extschema@.ring_nodes_at(ring, new_version) n) x
             GROUP BY x.server;
        END;
    END IF;

    -- a temporary foreign table for each server's part of the table
    FOR srv IN SELECT ms.server FROM consistent_ring.migration_servers ms
                WHERE ms.migration_id OPERATOR(pg_catalog.=) mig.migration_id
    LOOP
        IF pg_catalog.to_regclass(consistent_ring.migration_table(srv.server)) IS NOT NULL THEN
            EXECUTE pg_catalog.format('DROP FOREIGN TABLE %s', consistent_ring.migration_table(srv.server));
        END IF;
        -- use_remote_estimate: with the servers' row estimates the planner
        -- sends a batch's LIMIT to the server (no estimates, no LIMIT)
        EXECUTE pg_catalog.format('CREATE FOREIGN TABLE %s (%s) SERVER %I'
                                  ' OPTIONS (schema_name %L, table_name %L, fetch_size %L, batch_size %L,'
                                  ' use_remote_estimate %L)',
                                  consistent_ring.migration_table(srv.server), cols, srv.server, nsp, rel,
                                  '1000', GREATEST(1, LEAST(1000, 65535 OPERATOR(pg_catalog./) ncols))::text, 'true');
    END LOOP;

    -- Before anything moves, each server's table must have the
    -- coordinator's columns: the copy names the coordinator's, so a column
    -- only a server has would lose its values with the source rows (and
    -- the checksums, over the same columns, would not notice).  Columns are
    -- compared as information_schema.columns describes them, here and on
    -- each server (read through a foreign table).
    cols_query := 'SELECT c.column_name::text AS name, pg_catalog.concat_ws('' '','
        ' CASE WHEN c.domain_name IS NOT NULL THEN pg_catalog.format(''%%I.%%I'', c.domain_schema, c.domain_name)'
        '      WHEN c.data_type::text OPERATOR(pg_catalog.=) ANY (''{USER-DEFINED,ARRAY}''::text[])'
        '      THEN pg_catalog.format(''%%I.%%I'', c.udt_schema, c.udt_name)'
        '      ELSE c.data_type::text END,'
        ' CASE WHEN c.character_maximum_length IS NOT NULL'
        '      THEN pg_catalog.format(''(%%s)'', c.character_maximum_length) END,'
        ' CASE WHEN c.data_type::text OPERATOR(pg_catalog.=) ''numeric'' AND c.numeric_precision IS NOT NULL'
        '      THEN pg_catalog.format(''(%%s,%%s)'', c.numeric_precision, c.numeric_scale) END,'
        ' CASE WHEN c.datetime_precision IS NOT NULL'
        '      THEN pg_catalog.format(''precision %%s'', c.datetime_precision) END,'
        ' c.interval_type::text,'
        ' CASE WHEN c.collation_name IS NOT NULL'
        '      THEN pg_catalog.format(''COLLATE %%I.%%I'', c.collation_schema, c.collation_name) END,'
        ' CASE WHEN c.is_nullable::text OPERATOR(pg_catalog.=) ''NO'' THEN ''NOT NULL'' END,'
        ' CASE WHEN c.is_generated::text OPERATOR(pg_catalog.=) ''ALWAYS'''
        '      THEN pg_catalog.format(''GENERATED ALWAYS AS %%s'', c.generation_expression) END) AS descr'
        ' FROM %s c WHERE c.table_schema::text OPERATOR(pg_catalog.=) $1'
        ' AND c.table_name::text OPERATOR(pg_catalog.=) $2';
    FOR srv IN SELECT ms.server, ms.source FROM consistent_ring.migration_servers ms
                WHERE ms.migration_id OPERATOR(pg_catalog.=) mig.migration_id ORDER BY ms.server
    LOOP
        IF pg_catalog.to_regclass(consistent_ring.migration_table(srv.server, 'columns')) IS NOT NULL THEN
            EXECUTE pg_catalog.format('DROP FOREIGN TABLE %s', consistent_ring.migration_table(srv.server, 'columns'));
        END IF;
        EXECUTE pg_catalog.format('CREATE FOREIGN TABLE %s (table_schema text, table_name text, column_name text,'
                                  ' data_type text, udt_schema text, udt_name text, character_maximum_length integer,'
                                  ' numeric_precision integer, numeric_scale integer, datetime_precision integer,'
                                  ' interval_type text, collation_schema text, collation_name text, is_nullable text,'
                                  ' is_generated text, generation_expression text, domain_schema text, domain_name text)'
                                  ' SERVER %I OPTIONS (schema_name %L, table_name %L)',
                                  consistent_ring.migration_table(srv.server, 'columns'), srv.server,
                                  'information_schema', 'columns');
        EXECUTE pg_catalog.format('SELECT pg_catalog.count(*) FROM (%s) r',
                                  pg_catalog.format(cols_query, consistent_ring.migration_table(srv.server, 'columns')))
           INTO nrows_there USING nsp, rel;
        IF nrows_there OPERATOR(pg_catalog.=) 0 THEN
            RAISE EXCEPTION 'relation "%.%" does not exist on server "%"', nsp, rel, srv.server
                USING ERRCODE = 'undefined_table',
                      HINT = 'ring_migrate moves rows between tables of the same name on every server, and needs the privilege to read and write them.';
        END IF;
        EXECUTE pg_catalog.format('SELECT COALESCE(l.name, r.name) AS name, l.descr AS here, r.descr AS there'
                                  ' FROM (%s) l FULL JOIN (%s) r ON l.name OPERATOR(pg_catalog.=) r.name'
                                  ' WHERE (l.descr OPERATOR(pg_catalog.=) r.descr) IS NOT TRUE ORDER BY 1 LIMIT 1',
                                  pg_catalog.format(cols_query, 'information_schema.columns'),
                                  pg_catalog.format(cols_query, consistent_ring.migration_table(srv.server, 'columns')))
           INTO bad USING nsp, rel;
        EXECUTE pg_catalog.format('DROP FOREIGN TABLE %s', consistent_ring.migration_table(srv.server, 'columns'));
        IF bad.name IS NOT NULL AND bad.here IS NULL THEN
            RAISE EXCEPTION 'column "%" of relation "%.%" on server "%" is not a column of relation "%"', bad.name, nsp, rel, srv.server, tbl
                USING ERRCODE = 'undefined_column',
                      DETAIL = 'ring_migrate copies the columns of the coordinator''s table: the values of that column would be lost.',
                      HINT = 'Give the coordinator''s table the same columns as the servers''.';
        ELSIF bad.name IS NOT NULL AND bad.there IS NULL THEN
            RAISE EXCEPTION 'column "%" of relation "%" is not a column of relation "%.%" on server "%"', bad.name, tbl, nsp, rel, srv.server
                USING ERRCODE = 'undefined_column',
                      HINT = 'Give the coordinator''s table the same columns as the servers''.';
        ELSIF bad.name IS NOT NULL THEN
            RAISE EXCEPTION 'column "%" of relation "%.%" on server "%" differs from the column of relation "%"', bad.name, nsp, rel, srv.server, tbl
                USING ERRCODE = 'datatype_mismatch',
                      DETAIL = pg_catalog.format('It is %s on the coordinator, %s on the server.', bad.here, bad.there),
                      HINT = 'Give the coordinator''s table the same columns as the servers''.';
        END IF;

        -- A key column of the database's default collation is ordered by
        -- each server's default (postgres_fdw sends key comparisons there,
        -- ring_route compares here): the defaults must be the same
        IF key_default_collation THEN
            FOR q, catalog_cols, catalog_table IN VALUES
                ('database', '(datname name, datcollate name, datctype name)', 'pg_catalog.pg_database'),
                ('catalog', '(catalog_name name)', 'information_schema.information_schema_catalog_name')
            LOOP
                IF pg_catalog.to_regclass(consistent_ring.migration_table(srv.server, q)) IS NOT NULL THEN
                    EXECUTE pg_catalog.format('DROP FOREIGN TABLE %s', consistent_ring.migration_table(srv.server, q));
                END IF;
                EXECUTE pg_catalog.format('CREATE FOREIGN TABLE %s %s SERVER %I OPTIONS (schema_name %L, table_name %L)',
                                          consistent_ring.migration_table(srv.server, q), catalog_cols, srv.server,
                                          pg_catalog.split_part(catalog_table, '.', 1), pg_catalog.split_part(catalog_table, '.', 2));
            END LOOP;
            EXECUTE pg_catalog.format('SELECT pg_catalog.format(''LC_COLLATE %%s, LC_CTYPE %%s'', d.datcollate, d.datctype)'
                                      '  FROM %s d JOIN %s c ON d.datname OPERATOR(pg_catalog.=) c.catalog_name',
                                      consistent_ring.migration_table(srv.server, 'database'),
                                      consistent_ring.migration_table(srv.server, 'catalog'))
               INTO there_collation;
            EXECUTE pg_catalog.format('DROP FOREIGN TABLE %s, %s', consistent_ring.migration_table(srv.server, 'database'),
                                      consistent_ring.migration_table(srv.server, 'catalog'));
            IF (there_collation OPERATOR(pg_catalog.=) here_collation) IS NOT TRUE THEN
                RAISE EXCEPTION 'the default collation of server "%" differs from the coordinator''s', srv.server
                    USING ERRCODE = 'collation_mismatch',
                          DETAIL = pg_catalog.format('Key column "%s" has the default collation, which is %s on the coordinator and %s on the server.',
                                                     key_column, here_collation, COALESCE(there_collation, 'unknown')),
                          HINT = 'Give the key column an explicit collation, the same on every server.';
            END IF;
        END IF;

        -- Deleting rows must not reach other tables through a foreign key:
        -- the moved rows at a source, or at a destination the copies an
        -- interrupted run left there (its pg_catalog read through foreign
        -- tables)
        CONTINUE WHEN cascade_deletes;
        FOR q, catalog_cols IN VALUES
            ('constraint', '(conname name, contype "char", confdeltype "char", conrelid oid, confrelid oid)'),
            ('class', '(oid oid, relname name, relnamespace oid)'),
            ('namespace', '(oid oid, nspname name)')
        LOOP
            IF pg_catalog.to_regclass(consistent_ring.migration_table(srv.server, q)) IS NOT NULL THEN
                EXECUTE pg_catalog.format('DROP FOREIGN TABLE %s', consistent_ring.migration_table(srv.server, q));
            END IF;
            EXECUTE pg_catalog.format('CREATE FOREIGN TABLE %s %s SERVER %I OPTIONS (schema_name %L, table_name %L)',
                                      consistent_ring.migration_table(srv.server, q), catalog_cols, srv.server,
                                      'pg_catalog', 'pg_' OPERATOR(pg_catalog.||) q);
        END LOOP;
        EXECUTE pg_catalog.format(
            'SELECT con.conname, pg_catalog.format(''%%s.%%s'', rn.nspname, r.relname) AS referencing,'
            '       con.confdeltype OPERATOR(pg_catalog.=) ''c'' AS cascades'
            '  FROM %1$s con'
            '  JOIN %2$s t ON t.oid OPERATOR(pg_catalog.=) con.confrelid'
            '  JOIN %3$s tn ON tn.oid OPERATOR(pg_catalog.=) t.relnamespace'
            '  JOIN %2$s r ON r.oid OPERATOR(pg_catalog.=) con.conrelid'
            '  JOIN %3$s rn ON rn.oid OPERATOR(pg_catalog.=) r.relnamespace'
            ' WHERE con.contype OPERATOR(pg_catalog.=) ''f'''
            '   AND con.confdeltype OPERATOR(pg_catalog.=) ANY (''{c,n,d}''::"char"[])'
            '   AND tn.nspname OPERATOR(pg_catalog.=) $1 AND t.relname OPERATOR(pg_catalog.=) $2'
            ' ORDER BY 2, 1 LIMIT 1',
            consistent_ring.migration_table(srv.server, 'constraint'), consistent_ring.migration_table(srv.server, 'class'),
            consistent_ring.migration_table(srv.server, 'namespace'))
           INTO bad USING nsp, rel;
        EXECUTE pg_catalog.format('DROP FOREIGN TABLE %s, %s, %s', consistent_ring.migration_table(srv.server, 'constraint'),
                                  consistent_ring.migration_table(srv.server, 'class'),
                                  consistent_ring.migration_table(srv.server, 'namespace'));
        IF bad.conname IS NOT NULL THEN
            RAISE EXCEPTION 'deleting moved rows of "%.%" on server "%" would cascade to "%" through foreign key "%"',
                            nsp, rel, srv.server, bad.referencing, bad.conname
                USING ERRCODE = 'dependent_objects_still_exist',
                      DETAIL = pg_catalog.format('Deleting a moved row at the source would %s the rows of "%s" that refer to it.',
                                                 CASE WHEN bad.cascades THEN 'delete' ELSE 'change' END, bad.referencing),
                      HINT = 'Pass cascade_deletes => true if that is what should happen to them.';
        END IF;
    END LOOP;

    -- row counts and checksums before anything moves
    IF verify THEN
        FOR srv IN SELECT ms.server FROM consistent_ring.migration_servers ms
                    WHERE ms.migration_id OPERATOR(pg_catalog.=) mig.migration_id AND ms.rows_before IS NULL
        LOOP
            EXECUTE pg_catalog.format('SELECT pg_catalog.count(*) AS nrows, COALESCE(pg_catalog.sum(pg_catalog.hashtextextended(t::text, 0)), 0) AS checksum FROM %s t',
                                      consistent_ring.migration_table(srv.server))
               INTO totals;
            UPDATE consistent_ring.migration_servers ms
               SET rows_before = totals.nrows, checksum_before = totals.checksum
             WHERE ms.migration_id OPERATOR(pg_catalog.=) mig.migration_id AND ms.server OPERATOR(pg_catalog.=) srv.server;
        END LOOP;
    END IF;
    COMMIT;

    FOR srv IN SELECT ms.server, ms.last_key, ms.batches, ms.done, ms.pending_delete, ms.pending_after
                 FROM consistent_ring.migration_servers ms
                WHERE ms.migration_id OPERATOR(pg_catalog.=) mig.migration_id AND ms.source
                  AND (NOT ms.done OR ms.pending_delete)
                ORDER BY ms.server
    LOOP
        src := srv.server;
        last_key := srv.last_key;
        batch_no := srv.batches;
        -- an interrupted run committed a batch's progress but not its
        -- delete at the source: the keys after pending_after up to last_key
        -- that belong elsewhere are deleted first
        IF srv.pending_delete THEN
            EXECUTE pg_catalog.format(
                'SELECT pg_catalog.array_agg(s.k::text) FROM'
                ' (SELECT t.%1$I AS k FROM %2$s t WHERE %3$s AND t.%1$I %5$s $2::%4$s GROUP BY t.%1$I) s'
                ' WHERE @extschema@.ring_server($3, s.k, $4) OPERATOR(pg_catalog.<>) $5',
                key_column, consistent_ring.migration_table(src),
                CASE WHEN srv.pending_after IS NULL THEN pg_catalog.format('t.%I IS NOT NULL', key_column)
                     ELSE pg_catalog.format('t.%I %s $1::%s', key_column, key_gt, keytype) END,
                keytype, key_le)
              INTO keys USING srv.pending_after, last_key, ring, new_version, src;
            IF keys IS NOT NULL THEN
                EXECUTE pg_catalog.format('DELETE FROM %s WHERE %I %s ANY ($1::%s[])',
                                          consistent_ring.migration_table(src), key_column, key_eq, keytype)
                  USING keys;
            END IF;
            UPDATE consistent_ring.migration_servers ms SET pending_delete = false, pending_after = NULL
             WHERE ms.migration_id OPERATOR(pg_catalog.=) mig.migration_id AND ms.server OPERATOR(pg_catalog.=) src;
            COMMIT;
            RAISE NOTICE 'ring_migrate: server %, batch %: % keys deleted at the source (an interrupted run had copied them)',
                         src, batch_no, COALESCE(pg_catalog.cardinality(keys), 0);
            CONTINUE WHEN srv.done;
        END IF;
        LOOP
            -- the next keys of the source in key order, and those of them
            -- whose server in the new version is another, by server
            q := pg_catalog.format(
                'WITH chunk AS MATERIALIZED ('
                ' SELECT s.k, pg_catalog.row_number() OVER () AS n'
                '   FROM (SELECT t.%1$I AS k FROM %2$s t %3$s GROUP BY t.%1$I ORDER BY t.%1$I LIMIT %4$s) s)'
                ' SELECT (SELECT pg_catalog.count(*) FROM chunk),'
                '        (SELECT c.k::text FROM chunk c ORDER BY c.n DESC LIMIT 1),'
                '        (SELECT COALESCE(pg_catalog.jsonb_object_agg(g.dest, g.keys), ''{}'')'
                '           FROM (SELECT @extschema@.ring_server($1, c.k, $2) AS dest,'
                '                        pg_catalog.array_agg(c.k::text) AS keys'
                '                   FROM chunk c GROUP BY 1) g'
                '          WHERE g.dest OPERATOR(pg_catalog.<>) $3)',
                key_column, consistent_ring.migration_table(src),
                CASE WHEN last_key IS NULL THEN pg_catalog.format('WHERE t.%I IS NOT NULL', key_column)
                     ELSE pg_catalog.format('WHERE t.%I %s $4::%s', key_column, key_gt, keytype) END,
                batch_size);
            EXECUTE q INTO scanned, chunk_last, moves USING ring, new_version, src, last_key;
            EXIT WHEN scanned OPERATOR(pg_catalog.=) 0;

            -- 1. copy: replace whatever an interrupted run left at the
            -- destinations, commit there
            batch_keys := 0;
            batch_rows := 0;
            FOR dest IN SELECT e.key AS server, e.value AS keys FROM pg_catalog.jsonb_each(moves) e LOOP
                keys := ARRAY(SELECT pg_catalog.jsonb_array_elements_text(dest.keys));
                EXECUTE pg_catalog.format('DELETE FROM %s WHERE %I %s ANY ($1::%s[])',
                                          consistent_ring.migration_table(dest.server), key_column, key_eq, keytype)
                  USING keys;
                EXECUTE pg_catalog.format('INSERT INTO %s (%s) SELECT %s FROM %s WHERE %I %s ANY ($1::%s[])',
                                          consistent_ring.migration_table(dest.server), colnames, colnames,
                                          consistent_ring.migration_table(src), key_column, key_eq, keytype)
                  USING keys;
                GET DIAGNOSTICS nrows = ROW_COUNT;
                batch_keys := batch_keys OPERATOR(pg_catalog.+) pg_catalog.cardinality(keys);
                batch_rows := batch_rows OPERATOR(pg_catalog.+) nrows;
            END LOOP;
            COMMIT;

            -- 2. the batch's progress: from this commit on, ring_route
            -- sends readers of its keys to the new servers (which have
            -- them); their source rows are still to be deleted
            batch_no := batch_no OPERATOR(pg_catalog.+) 1;
            UPDATE consistent_ring.migration_servers ms
               SET last_key = chunk_last, batches = batch_no,
                   keys_moved = ms.keys_moved OPERATOR(pg_catalog.+) batch_keys,
                   rows_moved = ms.rows_moved OPERATOR(pg_catalog.+) batch_rows,
                   done = scanned OPERATOR(pg_catalog.<) batch_size,
                   pending_delete = batch_keys OPERATOR(pg_catalog.>) 0, pending_after = ms.last_key
             WHERE ms.migration_id OPERATOR(pg_catalog.=) mig.migration_id AND ms.server OPERATOR(pg_catalog.=) src;
            COMMIT;

            -- 3. delete them at the source
            IF batch_keys OPERATOR(pg_catalog.>) 0 THEN
                keys := ARRAY(SELECT pg_catalog.jsonb_array_elements_text(e.value) FROM pg_catalog.jsonb_each(moves) e);
                EXECUTE pg_catalog.format('DELETE FROM %s WHERE %I %s ANY ($1::%s[])',
                                          consistent_ring.migration_table(src), key_column, key_eq, keytype)
                  USING keys;
                UPDATE consistent_ring.migration_servers ms SET pending_delete = false, pending_after = NULL
                 WHERE ms.migration_id OPERATOR(pg_catalog.=) mig.migration_id AND ms.server OPERATOR(pg_catalog.=) src;
                COMMIT;
            END IF;
            RAISE NOTICE 'ring_migrate: server %, batch %: % keys read, % keys (% rows) moved',
                         src, batch_no, scanned, batch_keys, batch_rows;
            last_key := chunk_last;
            EXIT WHEN scanned OPERATOR(pg_catalog.<) batch_size;
        END LOOP;
        UPDATE consistent_ring.migration_servers ms SET done = true
         WHERE ms.migration_id OPERATOR(pg_catalog.=) mig.migration_id AND ms.server OPERATOR(pg_catalog.=) src;
        COMMIT;
    END LOOP;

    -- every row on its server of the new version, none lost, none twice
    IF verify THEN
        FOR srv IN SELECT ms.server FROM consistent_ring.migration_servers ms
                    WHERE ms.migration_id OPERATOR(pg_catalog.=) mig.migration_id
        LOOP
            EXECUTE pg_catalog.format('SELECT pg_catalog.count(*) AS nrows, COALESCE(pg_catalog.sum(pg_catalog.hashtextextended(t::text, 0)), 0) AS checksum,'
                                      ' pg_catalog.count(*) FILTER (WHERE t.%1$I IS NOT NULL'
                                      ' AND (@extschema@.ring_server($1, t.%1$I, $2) OPERATOR(pg_catalog.=) $3) IS NOT TRUE) AS misplaced'
                                      ' FROM %2$s t', key_column, consistent_ring.migration_table(srv.server))
               INTO totals USING ring, new_version, srv.server;
            UPDATE consistent_ring.migration_servers ms
               SET rows_after = totals.nrows, checksum_after = totals.checksum, misplaced_after = totals.misplaced
             WHERE ms.migration_id OPERATOR(pg_catalog.=) mig.migration_id AND ms.server OPERATOR(pg_catalog.=) srv.server;
        END LOOP;
        FOR srv IN SELECT ms.* FROM consistent_ring.migration_servers ms
                    WHERE ms.migration_id OPERATOR(pg_catalog.=) mig.migration_id ORDER BY ms.server
        LOOP
            RAISE NOTICE 'ring_migrate: server %: % rows before, % after (checksum % / %), % misplaced',
                         srv.server, srv.rows_before, srv.rows_after, srv.checksum_before, srv.checksum_after,
                         srv.misplaced_after;
        END LOOP;
        SELECT pg_catalog.sum(ms.rows_before) AS rows_before, pg_catalog.sum(ms.rows_after) AS rows_after,
               pg_catalog.sum(ms.checksum_before) AS checksum_before, pg_catalog.sum(ms.checksum_after) AS checksum_after,
               pg_catalog.sum(ms.misplaced_after) AS misplaced
          INTO totals
          FROM consistent_ring.migration_servers ms
         WHERE ms.migration_id OPERATOR(pg_catalog.=) mig.migration_id;
        UPDATE consistent_ring.migrations m
           SET finished_at = pg_catalog.now(),
               verified = totals.rows_before OPERATOR(pg_catalog.=) totals.rows_after
                          AND totals.checksum_before OPERATOR(pg_catalog.=) totals.checksum_after
                          AND totals.misplaced OPERATOR(pg_catalog.=) 0
         WHERE m.migration_id OPERATOR(pg_catalog.=) mig.migration_id
        RETURNING m.verified INTO mig.verified;
        COMMIT;
        IF NOT mig.verified THEN
            PERFORM pg_catalog.pg_advisory_unlock(1919510119, lock_key);
            RAISE EXCEPTION 'migration % of % did not verify', mig.migration_id, tbl
                USING ERRCODE = 'data_corrupted',
                      DETAIL = pg_catalog.format('Rows before: %s, after: %s; checksum before: %s, after: %s; rows not on their server: %s.',
                                                 totals.rows_before, totals.rows_after, totals.checksum_before,
                                                 totals.checksum_after, totals.misplaced),
                      HINT = 'Rows written to the table during the migration change the counts: pass verify => false if that is expected.';
        END IF;
    ELSE
        UPDATE consistent_ring.migrations m SET finished_at = pg_catalog.now()
         WHERE m.migration_id OPERATOR(pg_catalog.=) mig.migration_id;
        COMMIT;
    END IF;
    SELECT pg_catalog.sum(ms.keys_moved) AS keys, pg_catalog.sum(ms.rows_moved) AS rows INTO totals
      FROM consistent_ring.migration_servers ms WHERE ms.migration_id OPERATOR(pg_catalog.=) mig.migration_id;
    PERFORM pg_catalog.pg_advisory_unlock(1919510119, lock_key);
    RAISE NOTICE 'ring_migrate: migration % of % from version % to version % done: % keys (% rows) moved',
                 mig.migration_id, tbl, old_version, new_version, totals.keys, totals.rows;
END
$proc$;
COMMENT ON PROCEDURE ring_migrate(regclass, name, text, integer, integer, integer, boolean, boolean) IS
    'move the rows of a table from their servers in one version of a ring to their servers in another, over postgres_fdw; resumable';

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
