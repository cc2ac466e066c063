-- Churn test: one ring changed continuously while clients look keys up.
\set ON_ERROR_STOP 1
SET client_min_messages = warning;
DROP DATABASE IF EXISTS churn;
CREATE DATABASE churn;
\c churn
CREATE EXTENSION consistent_ring;
SELECT ring_create('churn', 'vnode', 16);
-- 'anchor' is never removed or drained, so lookups never meet an empty ring
SELECT ring_add_node('churn', 'anchor');

-- what every lookup saw: the version its statement saw and the answers
CREATE UNLOGGED TABLE churn_log (v int, k int, owner text, moved ring_move_result);

-- one change per call, always a real change (so one call = one version)
CREATE FUNCTION churn_step(n int, w int) RETURNS int LANGUAGE plpgsql AS $$
DECLARE
    nname text := 'n' || n;
    cur double precision;
BEGIN
    SELECT weight INTO cur FROM ring_nodes WHERE ring = 'churn' AND ring_nodes.node = nname;
    IF NOT FOUND THEN
        RETURN ring_add_node('churn', nname, w);
    ELSIF w = 0 AND n % 2 = 0 THEN
        RETURN ring_remove_node('churn', nname);
    ELSIF cur = w THEN
        RETURN ring_set_weight('churn', nname, (w + 1) % 4);
    ELSE
        RETURN ring_set_weight('churn', nname, w);
    END IF;
END $$;
