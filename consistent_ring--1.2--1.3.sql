/* consistent_ring--1.2--1.3.sql */

-- complain if script is sourced in psql, rather than via ALTER EXTENSION
\echo Use "ALTER EXTENSION consistent_ring UPDATE TO '1.3'" to load this file. \quit

--
-- 1.3: balancing by data.  Nothing of 1.2 changes.
--

--
-- Balancing by data (ring_rebalance.c): a node's capacity is the share of
-- the data it should hold, relative to the others' (none: its weight).
--
CREATE TABLE consistent_ring.capacities (
    ring_id     integer NOT NULL REFERENCES consistent_ring.rings (ring_id) ON DELETE CASCADE,
    node        text COLLATE "C" NOT NULL,
    capacity    double precision NOT NULL,
    CONSTRAINT capacities_pkey PRIMARY KEY (ring_id, node),
    CONSTRAINT capacities_capacity_check
        CHECK (capacity OPERATOR(pg_catalog.>=) 0
               AND capacity OPERATOR(pg_catalog.<) 'Infinity'::double precision)
);
COMMENT ON TABLE consistent_ring.capacities IS
    'share of the data a node should hold for ring_rebalance, relative to the other nodes'' (default: its weight)';
SELECT pg_catalog.pg_extension_config_dump('consistent_ring.capacities', '');

-- not STRICT: a NULL capacity means the node's weight; a NULL ring or node does nothing
CREATE FUNCTION ring_set_capacity(ring text, node text, capacity double precision)
    RETURNS void
    AS 'MODULE_PATHNAME', 'ring_set_capacity'
    LANGUAGE C VOLATILE PARALLEL UNSAFE;
COMMENT ON FUNCTION ring_set_capacity(text, text, double precision) IS
    'set the share of the data a node should hold for ring_rebalance (NULL: its weight; 0: drain it)';

-- VOLATILE: they scan a table, TABLESAMPLE picks pages at random
CREATE FUNCTION ring_load(ring text, tbl regclass, key_column name,
                          sample_percent double precision DEFAULT 100,
                          OUT node text, OUT slot integer, OUT first_position bigint,
                          OUT last_position bigint, OUT rows bigint, OUT bytes bigint,
                          OUT bytes_error bigint)
    RETURNS SETOF record
    AS 'MODULE_PATHNAME', 'ring_load'
    LANGUAGE C VOLATILE STRICT;
COMMENT ON FUNCTION ring_load(text, regclass, name, double precision) IS
    'rows and bytes of a table in each slot or token range of a ring, and of the keys pinned to each node';

CREATE FUNCTION ring_rebalance_plan(ring text, tbl regclass, key_column name,
                                    threshold double precision DEFAULT 0.05,
                                    improvement_threshold double precision DEFAULT 0.5,
                                    sample_percent double precision DEFAULT 100,
                                    max_pins integer DEFAULT 64,
                                    OUT move integer, OUT from_node text, OUT to_node text,
                                    OUT slot integer, OUT first_position bigint,
                                    OUT last_position bigint, OUT rows bigint, OUT bytes bigint,
                                    OUT key bytea)
    RETURNS SETOF record
    AS 'MODULE_PATHNAME', 'ring_rebalance_plan'
    LANGUAGE C VOLATILE STRICT;
COMMENT ON FUNCTION ring_rebalance_plan(text, regclass, name, double precision, double precision, double precision, integer) IS
    'the moves that bring every node''s bytes of a table within threshold of its share, moving the least data';

CREATE FUNCTION ring_rebalance_report(ring text, tbl regclass, key_column name,
                                      threshold double precision DEFAULT 0.05,
                                      improvement_threshold double precision DEFAULT 0.5,
                                      sample_percent double precision DEFAULT 100,
                                      max_pins integer DEFAULT 64,
                                      OUT node text, OUT capacity double precision,
                                      OUT weight double precision, OUT new_weight double precision,
                                      OUT target_bytes bigint, OUT rows bigint, OUT bytes bigint,
                                      OUT bytes_error bigint, OUT bytes_after bigint,
                                      OUT bytes_out bigint, OUT bytes_in bigint,
                                      OUT must_move bigint, OUT ratio double precision,
                                      OUT ratio_after double precision, OUT ratio_floor double precision)
    RETURNS SETOF record
    AS 'MODULE_PATHNAME', 'ring_rebalance_report'
    LANGUAGE C VOLATILE STRICT;
COMMENT ON FUNCTION ring_rebalance_report(text, regclass, name, double precision, double precision, double precision, integer) IS
    'each node''s bytes of a table before and after ring_rebalance_plan, and a last row (node NULL) for the ring';

CREATE FUNCTION ring_rebalance(ring text, tbl regclass, key_column name,
                               threshold double precision DEFAULT 0.05,
                               improvement_threshold double precision DEFAULT 0.5,
                               sample_percent double precision DEFAULT 100,
                               max_pins integer DEFAULT 64)
    RETURNS integer
    AS 'MODULE_PATHNAME', 'ring_rebalance'
    LANGUAGE C VOLATILE STRICT PARALLEL UNSAFE;
COMMENT ON FUNCTION ring_rebalance(text, regclass, name, double precision, double precision, double precision, integer) IS
    'make ring_rebalance_plan one new version of the ring; returns it (the current version when nothing is worth moving)';
