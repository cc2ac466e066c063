-- The figures and findings of a hostile run; :documented is the SQLSTATEs
-- of the Errors section of doc/reference.md, separated by spaces.
\pset footer off
\pset border 1
\pset null '(null)'
CREATE TEMP VIEW documented AS
    SELECT unnest(string_to_array(:'documented', ' ')) AS sqlstate;
CREATE TEMP VIEW outcomes AS
    SELECT c.call_id, c.fn, c.extension, c.argno, c.argname, c.label, c.arg, r.role, r.sqlstate, r.message, r.ms
      FROM hostile.calls c JOIN hostile.results r USING (call_id);

\echo == functions and procedures covered (from pg_depend)
SELECT c.extension, count(DISTINCT c.fn) AS functions, count(*) AS calls_each_role,
       (SELECT count(*) FROM pg_depend d JOIN pg_extension e ON e.oid = d.refobjid
         WHERE d.classid = 'pg_proc'::regclass AND d.refclassid = 'pg_extension'::regclass
           AND d.deptype = 'e' AND e.extname = c.extension) AS in_catalog
  FROM hostile.calls c GROUP BY 1 ORDER BY 1;

\echo == calls per role
SELECT role, count(*) AS calls, count(*) FILTER (WHERE sqlstate = 'ZZ999') AS returned,
       count(*) FILTER (WHERE sqlstate <> 'ZZ999') AS errors,
       (SELECT count(*) FROM hostile.crashes k WHERE k.role = o.role) AS crashes,
       round(sum(ms)::numeric / 1000, 1) AS seconds, round(max(ms)::numeric) AS slowest_ms
  FROM outcomes o GROUP BY 1 ORDER BY 1;

\echo == SQLSTATEs seen (ZZ999: returned)
SELECT sqlstate, count(*) FILTER (WHERE role = 'regress_hostile_nobody') AS nobody,
       count(*) FILTER (WHERE role = 'regress_hostile_owner') AS owner,
       CASE WHEN sqlstate = 'ZZ999' THEN 'returned'
            WHEN sqlstate IN (SELECT sqlstate FROM documented) THEN 'documented'
            ELSE 'NOT DOCUMENTED' END AS errors_table
  FROM outcomes GROUP BY 1 ORDER BY 1;

\echo == calls with every argument at its default that did not return (but the role that owns nothing being refused a change)
SELECT fn, role, sqlstate, message FROM outcomes
 WHERE argno = 0 AND sqlstate <> 'ZZ999' AND NOT (role = 'regress_hostile_nobody' AND sqlstate = '42501'
                                                  AND message LIKE 'must be owner of ring%')
 ORDER BY fn::text, role;

\echo == the slowest calls
SELECT fn, argname, label, role, sqlstate, round(ms::numeric) AS ms FROM outcomes ORDER BY ms DESC LIMIT 5;

\echo == FINDING: calls that ended the backend
\x on
SELECT k.role, c.fn, c.argname, c.label, c.arg, k.output, k.server_log
  FROM hostile.crashes k JOIN hostile.calls c USING (call_id) ORDER BY c.call_id, k.role;
\x off

\echo == FINDING: SQLSTATEs of class XX
SELECT fn, argname, label, arg, string_agg(DISTINCT role, ', ') AS roles, sqlstate, min(message) AS message
  FROM outcomes WHERE sqlstate LIKE 'XX%' GROUP BY fn, argname, label, arg, sqlstate ORDER BY fn::text, argname, label;

\echo == FINDING: SQLSTATEs doc/reference.md does not document
SELECT sqlstate, fn, argname, label, string_agg(DISTINCT role, ', ') AS roles, min(message) AS message
  FROM outcomes
 WHERE sqlstate <> 'ZZ999' AND sqlstate NOT IN (SELECT sqlstate FROM documented) AND sqlstate NOT LIKE 'XX%'
 GROUP BY sqlstate, fn, argname, label ORDER BY sqlstate, fn::text, argname, label;

\echo == FINDING: calls without a result (neither a SQLSTATE nor a crash)
SELECT c.call_id, c.fn, c.argname, c.label, ro.role
  FROM hostile.calls c CROSS JOIN (VALUES ('regress_hostile_nobody'::name), ('regress_hostile_owner')) ro(role)
 WHERE NOT EXISTS (SELECT FROM hostile.results r WHERE r.call_id = c.call_id AND r.role = ro.role)
   AND NOT EXISTS (SELECT FROM hostile.crashes k WHERE k.call_id = c.call_id AND k.role = ro.role)
 ORDER BY c.call_id, ro.role;

-- one line for run.sh: crashes, XX errors, undocumented SQLSTATEs, missing
-- results, functions in the catalog without calls
\pset tuples_only on
\pset format unaligned
\pset fieldsep ' '
SELECT 'counts',
       (SELECT count(*) FROM hostile.crashes),
       (SELECT count(*) FROM outcomes WHERE sqlstate LIKE 'XX%'),
       (SELECT count(*) FROM outcomes WHERE sqlstate <> 'ZZ999' AND sqlstate NOT LIKE 'XX%'
                                        AND sqlstate NOT IN (SELECT sqlstate FROM documented)),
       (SELECT count(*) FROM hostile.calls c
          CROSS JOIN (VALUES ('regress_hostile_nobody'::name), ('regress_hostile_owner')) ro(role)
         WHERE NOT EXISTS (SELECT FROM hostile.results r WHERE r.call_id = c.call_id AND r.role = ro.role)
           AND NOT EXISTS (SELECT FROM hostile.crashes k WHERE k.call_id = c.call_id AND k.role = ro.role)),
       (SELECT count(*) FROM pg_depend d JOIN pg_extension e ON e.oid = d.refobjid
         WHERE d.classid = 'pg_proc'::regclass AND d.refclassid = 'pg_extension'::regclass AND d.deptype = 'e'
           AND e.extname IN ('consistent_ring', 'consistent_ring_plproxy')
           AND d.objid NOT IN (SELECT fn FROM hostile.calls));
