-- The calls of hostile.calls from :next on, as the role :role, each its own
-- statement (so statement_timeout applies to each, and a call that ends the
-- backend leaves the results of those before it).  run.sh starts it again
-- after such a call.
SET ROLE :"role";
-- a call that takes longer is recorded with SQLSTATE 57014 (undocumented)
SET statement_timeout = '60s';
-- the ring of the one-argument ring_shard(key)
SET consistent_ring.default_ring = 'hr';
SELECT format('SELECT hostile.call(%s)', call_id) FROM hostile.calls WHERE call_id >= :next ORDER BY call_id
\gexec
