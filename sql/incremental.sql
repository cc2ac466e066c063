--
-- Incremental compile: a version built from an earlier compiled one of the
-- same ring (hashed 'vnode' rings; consistent_ring.incremental_compile)
-- gives exactly the answers of one compiled from its catalog rows alone.
-- Every algorithm goes through the same changes; each version's answers
-- for 20,000 keys and its ownership are fingerprinted with incremental
-- compiles on, in version order (so each is built from the one before),
-- then in a new backend with them off, and compared.
--
CREATE TABLE inc_keys AS SELECT 'key-' || i AS k FROM generate_series(1, 20000) i;
CREATE TABLE inc_rings (ring text, algorithm text);
INSERT INTO inc_rings VALUES ('inc_vnode', 'vnode'), ('inc_vnode16', 'vnode'), ('inc_balanced', 'vnode'),
    ('inc_slots', 'slots'), ('inc_maglev', 'maglev'), ('inc_rendezvous', 'rendezvous'),
    ('inc_redis', 'redis'), ('inc_ketama', 'ketama'), ('inc_twemproxy', 'twemproxy'),
    ('inc_libketama', 'libketama'), ('inc_cassandra', 'cassandra'), ('inc_jump', 'jump');
SELECT count(CASE WHEN ring = 'inc_balanced' THEN ring_create(ring, algorithm, 16, token_allocation => 'balanced')
                  WHEN ring = 'inc_vnode16' THEN ring_create(ring, algorithm, 16)
                  ELSE ring_create(ring, algorithm) END) FROM inc_rings;
-- version 1: five nodes (names valid for every algorithm)
SELECT count(ring_add_node(ring, '10.0.0.' || i || ':11211')) FROM inc_rings, generate_series(1, 5) i;
-- 2: one node added; 3: one reweighted up; 4: down; 5: one removed;
-- 6: a node of weight 0 added; 7: two added at once; 8: a key pinned
-- (where pins exist); 9: a node added after the pin
SELECT count(ring_add_node(ring, '10.0.0.6:11211')) FROM inc_rings;
SELECT count(ring_set_weight(ring, '10.0.0.2:11211', 3)) FROM inc_rings WHERE algorithm <> 'jump';
SELECT count(ring_add_node(ring, '10.0.0.20:11211')) FROM inc_rings WHERE algorithm = 'jump';
SELECT count(ring_set_weight(ring, '10.0.0.2:11211', 2)) FROM inc_rings WHERE algorithm <> 'jump';
SELECT count(ring_add_node(ring, '10.0.0.21:11211')) FROM inc_rings WHERE algorithm = 'jump';
SELECT count(ring_remove_node(ring, '10.0.0.3:11211')) FROM inc_rings;
SELECT count(ring_add_node(ring, '10.0.0.7:11211', 0)) FROM inc_rings WHERE algorithm <> 'jump';
SELECT count(ring_add_node(ring, '10.0.0.22:11211')) FROM inc_rings WHERE algorithm = 'jump';
BEGIN;
SELECT count(ring_add_node(ring, '10.0.0.8:11211')) FROM inc_rings;
SELECT count(ring_add_node(ring, '10.0.0.9:11211')) FROM inc_rings;
COMMIT;
SELECT count(ring_pin(ring, 'key-1', '10.0.0.1:11211')) FROM inc_rings
 WHERE algorithm IN ('vnode', 'slots', 'maglev');
SELECT count(ring_add_node(ring, '10.0.0.23:11211')) FROM inc_rings
 WHERE algorithm NOT IN ('vnode', 'slots', 'maglev');
SELECT count(ring_add_node(ring, '10.0.0.10:11211')) FROM inc_rings;
SELECT ring, ring_version(ring) AS versions FROM inc_rings ORDER BY ring;

CREATE FUNCTION inc_fingerprints() RETURNS TABLE (ring text, version integer, answers text, ownership text,
                                                  built_from integer)
LANGUAGE plpgsql AS $$
DECLARE
    r record;
BEGIN
    FOR r IN SELECT i.ring, v FROM inc_rings i, generate_series(1, ring_version(i.ring)) v ORDER BY 1, 2 LOOP
        ring := r.ring;
        version := r.v;
        SELECT md5(string_agg(ring_shard(r.ring, k, r.v), ',' ORDER BY k)) INTO answers FROM inc_keys;
        IF (SELECT algorithm FROM inc_rings WHERE inc_rings.ring = r.ring) NOT IN ('rendezvous', 'jump') THEN
            SELECT md5(string_agg(o::text, ',' ORDER BY o::text)) INTO ownership FROM ring_ownership(r.ring, r.v) o;
        ELSE
            ownership := NULL;
        END IF;
        SELECT c.built_from INTO built_from FROM ring_cache_info() c
         WHERE c.ring = r.ring AND c.version = r.v;
        RETURN NEXT;
    END LOOP;
END
$$;

\c
CREATE TABLE inc_on AS SELECT * FROM inc_fingerprints();
-- which versions were built from another: the hashed 'vnode' rings' ones
-- whose previous version had no pin, from that version
SELECT ring, string_agg(version || ' from ' || built_from, ', ' ORDER BY version) AS built
  FROM inc_on WHERE built_from IS NOT NULL GROUP BY ring ORDER BY ring;
\c
SET consistent_ring.incremental_compile = off;
CREATE TABLE inc_off AS SELECT * FROM inc_fingerprints();
SELECT count(*) FILTER (WHERE built_from IS NOT NULL) AS built_from_another FROM inc_off;
RESET consistent_ring.incremental_compile;

-- the same answers and ownership, every ring, every version
SELECT count(*) AS versions,
       count(*) FILTER (WHERE a.answers IS DISTINCT FROM b.answers) AS answers_differ,
       count(*) FILTER (WHERE a.ownership IS DISTINCT FROM b.ownership) AS ownership_differs
  FROM inc_on a FULL JOIN inc_off b USING (ring, version);

SELECT count(ring_drop(ring)) FROM inc_rings;
DROP FUNCTION inc_fingerprints();
DROP TABLE inc_keys, inc_rings, inc_on, inc_off;
