-- A canonical listing of the extension's objects and their definitions,
-- compared between a fresh install and an upgraded one.
\pset footer off
\pset tuples_only on
SELECT pg_describe_object(classid, objid, objsubid) AS member
  FROM pg_depend d JOIN pg_extension e ON d.refobjid = e.oid
 WHERE e.extname = 'consistent_ring' AND d.deptype = 'e' ORDER BY 1;
SELECT p.oid::regprocedure::text, pg_get_functiondef(p.oid), p.proacl, p.proconfig
  FROM pg_proc p JOIN pg_depend d ON d.objid = p.oid AND d.classid = 'pg_proc'::regclass
  JOIN pg_extension e ON d.refobjid = e.oid
 WHERE e.extname = 'consistent_ring' AND d.deptype = 'e' AND p.prokind <> 'a' ORDER BY 1;
SELECT c.oid::regclass::text, c.relkind, c.relacl, a.attnum, a.attname, format_type(a.atttypid, a.atttypmod),
       a.attnotnull, pg_get_expr(ad.adbin, ad.adrelid), a.attcollation::regcollation::text
  FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
  JOIN pg_attribute a ON a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped
  LEFT JOIN pg_attrdef ad ON ad.adrelid = c.oid AND ad.adnum = a.attnum
 WHERE n.nspname = 'consistent_ring' OR c.oid IN (
       SELECT objid FROM pg_depend d JOIN pg_extension e ON d.refobjid = e.oid
        WHERE e.extname = 'consistent_ring' AND d.classid = 'pg_class'::regclass)
 ORDER BY 1, 4;
SELECT conrelid::regclass::text, conname, pg_get_constraintdef(oid) FROM pg_constraint
 WHERE connamespace = 'consistent_ring'::regnamespace ORDER BY 1, 2;
SELECT indexrelid::regclass::text, pg_get_indexdef(indexrelid) FROM pg_index
 WHERE indrelid::regclass::text LIKE 'consistent_ring.%' ORDER BY 1;
SELECT tgrelid::regclass::text, tgname, pg_get_triggerdef(oid), tgenabled FROM pg_trigger
 WHERE NOT tgisinternal AND tgrelid::regclass::text LIKE 'consistent_ring.%' ORDER BY 1, 2;
SELECT c.oid::regclass::text, pg_get_viewdef(c.oid) FROM pg_class c
  JOIN pg_depend d ON d.objid = c.oid JOIN pg_extension e ON d.refobjid = e.oid
 WHERE e.extname = 'consistent_ring' AND c.relkind = 'v' ORDER BY 1;
SELECT extconfig::regclass[]::text, extcondition FROM pg_extension WHERE extname = 'consistent_ring';
SELECT nspname, nspacl FROM pg_namespace WHERE nspname = 'consistent_ring';
