/* consistent_ring_plproxy--1.0.sql */

-- complain if script is sourced in psql, rather than via CREATE EXTENSION
\echo Use "CREATE EXTENSION consistent_ring_plproxy" to load this file. \quit

--
-- The three functions PL/Proxy calls to learn a cluster named in CLUSTER
-- (when no plproxy foreign server has that name): every ring is a cluster,
-- its nodes' foreign servers the partitions.  They live in schema plproxy,
-- where PL/Proxy looks for them; a database that defines clusters with its
-- own plproxy.get_cluster_* functions calls ring_plproxy_partitions,
-- ring_plproxy_version and ring_plproxy_config from those instead.
--
CREATE FUNCTION plproxy.get_cluster_partitions(cluster_name text)
    RETURNS SETOF text
    AS 'MODULE_PATHNAME', 'ring_plproxy_partitions'
    LANGUAGE C STABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION plproxy.get_cluster_partitions(text) IS
    'PL/Proxy partitions of the ring named cluster_name: its nodes'' connection strings in name order, padded to a power of two';

CREATE FUNCTION plproxy.get_cluster_version(cluster_name text)
    RETURNS integer
    AS 'MODULE_PATHNAME', 'ring_plproxy_version'
    LANGUAGE C STABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION plproxy.get_cluster_version(text) IS
    'changes whenever the ring''s version or a partition''s connection string does';

CREATE FUNCTION plproxy.get_cluster_config(cluster_name text, OUT key text, OUT val text)
    RETURNS SETOF record
    AS 'MODULE_PATHNAME', 'ring_plproxy_config'
    LANGUAGE C STABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION plproxy.get_cluster_config(text) IS 'no settings: PL/Proxy''s defaults';

-- PL/Proxy calls them as the user calling a proxy function
GRANT USAGE ON SCHEMA plproxy TO PUBLIC;
