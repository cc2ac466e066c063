/* consistent_ring--1.0.sql */

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
               AND pg_catalog.octet_length(zone) OPERATOR(pg_catalog.<=) 200)
);
COMMENT ON TABLE consistent_ring.nodes IS
    'node history: a row belongs to versions added_in <= v < removed_in';
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

-- not STRICT: zone may be NULL (no zone); a NULL ring, node or weight gives NULL
CREATE FUNCTION ring_add_node(ring text, node text, weight double precision DEFAULT 1,
                              zone text DEFAULT NULL, tokens bigint[] DEFAULT NULL)
    RETURNS integer
    AS 'MODULE_PATHNAME', 'ring_add_node'
    LANGUAGE C VOLATILE PARALLEL UNSAFE;
COMMENT ON FUNCTION ring_add_node(text, text, double precision, text, bigint[]) IS
    'add a node (optionally in a zone, with tokens on a ''cassandra'' ring) to a ring; returns the version of the change';

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
                                OUT tokens bigint, OUT bytes bigint)
    RETURNS SETOF record
    AS 'MODULE_PATHNAME', 'ring_cache_info'
    LANGUAGE C VOLATILE STRICT PARALLEL RESTRICTED ROWS 10;
COMMENT ON FUNCTION ring_cache_info() IS
    'rings compiled in this backend''s cache, with their size';
-- it names every ring compiled in the backend, whoever may look it up
REVOKE EXECUTE ON FUNCTION ring_cache_info() FROM PUBLIC;

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
           n.added_in AS since_version
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

-- the views filter by lookup rights, so everyone may query them
GRANT SELECT ON ring_nodes, ring_versions, ring_list, ring_pins TO PUBLIC;
