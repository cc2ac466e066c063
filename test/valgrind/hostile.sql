-- A sample of the hostile calls (test/hostile/) under valgrind, after
-- test/hostile/objects.sql and calls.sql: every generated call once, the
-- even call_ids as the rings' owner and the odd ones as the role that owns
-- nothing (the hostile suite makes each call as both).  So every function
-- and every kind of hostile value comes up (a function without arguments
-- has a single call: under one of the roles).  Left out: the calls whose hostile value
-- is a 1M-element array (building one takes seconds under memcheck, and a
-- million tokens tens of seconds), which the hostile suite makes outside
-- valgrind.  The figures are a WARNING, the level a single-user backend
-- prints.  A single-user backend reads this with -j: each statement ends
-- with a semicolon and a blank line.  There is no postmaster to connect to:
-- the servers point at a closed port, so calls that connect fail at once.
ALTER SERVER hostile_srv1 OPTIONS (host '127.0.0.1', port '1', dbname 'nowhere');

ALTER SERVER hostile_srv2 OPTIONS (host '127.0.0.1', port '1', dbname 'nowhere');

ALTER SERVER hostile_srv_private OPTIONS (host '127.0.0.1', port '1', dbname 'nowhere');

CREATE VIEW hostile.valgrind_sample AS
    SELECT call_id, CASE call_id % 2 WHEN 0 THEN 'regress_hostile_owner' ELSE 'regress_hostile_nobody' END AS role
      FROM hostile.calls
     WHERE label NOT LIKE '1M-element%';

GRANT SELECT ON hostile.valgrind_sample TO PUBLIC;

SET consistent_ring.default_ring = 'hr';

SET ROLE regress_hostile_owner;

SELECT count(hostile.call(call_id)) FROM hostile.valgrind_sample WHERE role = current_user;

RESET ROLE;

SET ROLE regress_hostile_nobody;

SELECT count(hostile.call(call_id)) FROM hostile.valgrind_sample WHERE role = current_user;

RESET ROLE;

DO $$
BEGIN
    RAISE WARNING 'hostile calls: % of % generated (% functions), % returned, % errors',
        (SELECT count(*) FROM hostile.results), (SELECT count(*) FROM hostile.calls),
        (SELECT count(DISTINCT c.fn) FROM hostile.calls c JOIN hostile.results r USING (call_id)),
        (SELECT count(*) FROM hostile.results WHERE sqlstate = 'ZZ999'),
        (SELECT count(*) FROM hostile.results WHERE sqlstate <> 'ZZ999');
END $$;
