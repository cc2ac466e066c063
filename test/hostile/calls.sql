--
-- The hostile calls, generated from the catalog: every function and
-- procedure that belongs to the extensions consistent_ring and
-- consistent_ring_plproxy (pg_depend, deptype 'e'), called once with valid
-- defaults for every argument, then once per hostile value of each
-- argument in turn while the others keep their defaults.  hostile.calls
-- holds each call's statement; hostile.call(id) runs one in a
-- subtransaction that is always rolled back, and records its SQLSTATE (or
-- ZZ999 for a call that returned) in hostile.results.
--
-- Values are SQL expressions (repeat('x', 1048576), not a megabyte of
-- literal).  Arguments of a fixed type are cast to it, so each call resolves
-- to the function it was generated for; hostile.check_resolution() checks
-- the calls whose function has polymorphic arguments.  Read by psql and by
-- a single-user backend with -j (see objects.sql).
--
CREATE SCHEMA hostile;

GRANT USAGE ON SCHEMA hostile TO PUBLIC;

CREATE TABLE hostile.calls (
    call_id integer PRIMARY KEY,
    fn regprocedure NOT NULL,
    extension name NOT NULL,
    argno integer NOT NULL,          -- 0: every argument at its default
    argname text,
    argtype text,
    label text NOT NULL,             -- the hostile value, in words
    expr text,                       -- the hostile value, as an SQL expression
    arg text,                        -- the same as the argument of the call (with its cast)
    stmt text NOT NULL
);

CREATE TABLE hostile.results (
    call_id integer NOT NULL,
    role name NOT NULL,
    sqlstate text NOT NULL,          -- ZZ999: the call returned
    message text,
    ms double precision,
    PRIMARY KEY (call_id, role)
);

-- calls that ended their backend (filled in by run.sh)
CREATE TABLE hostile.crashes (
    call_id integer NOT NULL,
    role name NOT NULL,
    output text,
    server_log text
);

GRANT SELECT ON hostile.calls TO PUBLIC;

GRANT INSERT ON hostile.results TO PUBLIC;

-- The valid value of an argument: from its name (and the function), else
-- from its type.  varied is the argument that gets a hostile value in this
-- call: ring_add_node's tokens only mean something on the 'cassandra' ring.
CREATE FUNCTION hostile.default_value(fname text, argname text, argtype regtype, varied text)
RETURNS text LANGUAGE plpgsql STABLE AS $$
DECLARE
    t text := format_type(argtype, NULL);
BEGIN
    IF argname = 'ring' THEN
        RETURN CASE WHEN fname = 'ring_create' THEN '''hostile_new'''
                    WHEN fname = 'ring_split_slots' THEN '''hs'''
                    WHEN fname = 'ring_assign_slots' THEN '''hd'''
                    WHEN fname = 'ring_add_node' AND varied = 'tokens' THEN '''hc'''
                    ELSE '''hr''' END;
    ELSIF argname IN ('old_ring', 'new_ring', 'cluster_name') THEN
        RETURN '''hr''';
    ELSIF argname = 'node' THEN
        RETURN CASE WHEN fname = 'ring_add_node' THEN '''n_new''' ELSE '''n1''' END;
    ELSIF argname = 'key' AND t = 'anyelement' THEN
        RETURN '1.5::numeric';
    ELSIF argname IN ('version', 'old_version') THEN
        RETURN '1';
    ELSIF argname = 'new_version' THEN
        RETURN '2';
    ELSIF argname IN ('n', 'fanout', 'buckets', 'batch_size') THEN
        RETURN '2';
    ELSIF argname = 'first_slot' THEN
        RETURN '0';
    ELSIF argname = 'last_slot' THEN
        RETURN '100';
    ELSIF argname = 'weight' THEN
        RETURN CASE WHEN fname = 'ring_set_weight' THEN '3' ELSE '1' END;
    ELSIF argname = 'zone' THEN
        RETURN '''z1''';
    ELSIF argname = 'tokens' THEN
        RETURN 'NULL';
    ELSIF argname = 'server' THEN
        RETURN CASE WHEN fname = 'ring_set_server' THEN '''hostile_srv2''' ELSE '''hostile_srv1''' END;
    ELSIF argname = 'role' THEN
        RETURN '''regress_hostile_nobody''';
    ELSIF argname = 'algorithm' THEN
        RETURN '''vnode''';
    ELSIF argname = 'vnodes' THEN
        RETURN '16';
    ELSIF argname IN ('slots', 'table_size', 'token_allocation') THEN
        RETURN 'NULL';
    ELSIF argname = 'tbl' THEN
        RETURN '''public.hostile_keys''';
    ELSIF argname = 'key_column' THEN
        RETURN '''k''';
    ELSIF argname = 'verify' THEN
        RETURN 'true';
    ELSIF argname = 'owner' THEN
        RETURN '''regress_hostile_owner''';
    ELSIF argname = 'public_lookup' THEN
        RETURN 'false';
    ELSIF argname = 'readers' THEN
        RETURN 'ARRAY[''regress_hostile_nobody''::regrole]';
    ELSIF argname = 'cascade_deletes' THEN
        RETURN 'false';
    ELSIF argname = 'op' THEN
        RETURN '''<''';
    ELSIF argname = 'catalog' THEN
        RETURN '''columns''';
    END IF;
    -- by type
    RETURN CASE t
        WHEN 'text' THEN '''k'''
        WHEN 'character varying' THEN '''k'''
        WHEN 'name' THEN '''k'''
        WHEN 'bytea' THEN '''\x6b'''
        WHEN 'smallint' THEN '1'
        WHEN 'integer' THEN '1'
        WHEN 'bigint' THEN '1'
        WHEN 'double precision' THEN '1'
        WHEN 'real' THEN '1'
        WHEN 'numeric' THEN '1'
        WHEN 'boolean' THEN 'true'
        WHEN 'uuid' THEN '''00000000-0000-0000-0000-000000000001'''
        WHEN 'regclass' THEN '''public.hostile_keys'''
        WHEN 'regrole' THEN '''regress_hostile_owner'''
        WHEN 'regtype' THEN '''text'''
        WHEN 'oid' THEN '1'
        WHEN 'json' THEN '''{}'''
        WHEN 'jsonb' THEN '''{}'''
        WHEN 'interval' THEN '''1 second'''
        WHEN 'timestamp with time zone' THEN '''2000-01-01 00:00:00+00'''
        WHEN 'anyelement' THEN '1.5::numeric'
        WHEN '"any"' THEN '''k''::text'
        ELSE CASE WHEN argtype::text LIKE '%[]' THEN '''{}''' END END;
END $$;

-- The hostile values of an argument, by its type and name: (label, expression).
CREATE FUNCTION hostile.hostile_values(argname text, argtype regtype)
RETURNS TABLE (label text, expr text) LANGUAGE plpgsql STABLE AS $$
DECLARE
    t text := format_type(argtype, NULL);
    elem regtype;
BEGIN
    SELECT typelem INTO elem FROM pg_type WHERE oid = argtype AND typcategory = 'A';
    IF t = 'anyelement' THEN
        -- concrete types that no fixed-type overload takes (a varchar
        -- would resolve to the text one)
        RETURN QUERY VALUES
            ('NULL numeric', 'NULL::numeric'),
            ('1M-element integer array', '(SELECT array_agg(i) FROM generate_series(1, 1000000) i)'),
            ('1 MB json string', 'to_json(repeat(''x'', 1048576))'),
            ('empty integer array', '''{}''::integer[]'),
            ('2-D integer array', '''{{1,2},{3,4}}''::integer[]'),
            ('numeric NaN', '''NaN''::numeric'),
            ('record', 'ROW(1, ''x'')');
        RETURN;
    ELSIF t = '"any"' THEN
        RETURN QUERY VALUES
            ('NULL text', 'NULL::text'),
            ('1 MB text', 'repeat(''x'', 1048576)'),
            ('65535-byte text', 'repeat(''x'', 65535)'),
            ('65536-byte text', 'repeat(''x'', 65536)'),
            ('1M-element integer array', '(SELECT array_agg(i) FROM generate_series(1, 1000000) i)'),
            ('empty integer array', '''{}''::integer[]'),
            ('2-D integer array', '''{{1,2},{3,4}}''::integer[]'),
            ('numeric NaN', '''NaN''::numeric'),
            ('record', 'ROW(1, ''x'')');
        RETURN;
    END IF;
    RETURN QUERY SELECT 'NULL', 'NULL';
    IF elem IS NOT NULL THEN
        RETURN QUERY VALUES
            ('empty array', '''{}'''),
            ('array of one NULL', 'ARRAY[NULL]'),
            ('2-D array', format('array_fill(%s::%s, ARRAY[2, 2])',
                                 hostile.default_value('', '', elem, ''), format_type(elem, NULL)));
        IF format_type(elem, NULL) IN ('smallint', 'integer', 'bigint') THEN
            RETURN QUERY VALUES
                -- distinct values, none of them the hostile rings' tokens
                ('1M-element array', format('(SELECT array_agg(i::%s) FROM generate_series(1001, 1001000) i)',
                                             format_type(elem, NULL))),
                ('array of the extremes', format('ARRAY[%s, %s]',
                                                  CASE format_type(elem, NULL) WHEN 'smallint' THEN '-32768'
                                                       WHEN 'integer' THEN '-2147483648'
                                                       ELSE '-9223372036854775808' END,
                                                  CASE format_type(elem, NULL) WHEN 'smallint' THEN '32767'
                                                       WHEN 'integer' THEN '2147483647'
                                                       ELSE '9223372036854775807' END));
        ELSE
            RETURN QUERY VALUES
                ('1M-element array', format('array_fill(%s::%s, ARRAY[1000000])',
                                             hostile.default_value('', '', elem, ''), format_type(elem, NULL)));
        END IF;
        RETURN;
    END IF;
    IF t IN ('text', 'character varying') THEN
        RETURN QUERY VALUES
            ('empty', ''''''),
            ('1 MB', 'repeat(''x'', 1048576)'),
            ('200 bytes', 'repeat(''n'', 200)'),
            ('201 bytes', 'repeat(''n'', 201)'),
            ('101 two-byte characters (202 bytes)', 'repeat(chr(233), 101)'),
            ('combining accent, CJK, 4-byte emoji', '''e'' || chr(769) || chr(26085) || chr(128512)'),
            ('control characters', 'chr(1) || chr(127) || chr(10) || ''%s\'''),
            ('whitespace', ''' ''');
        IF argname IN ('ring', 'old_ring', 'new_ring', 'cluster_name') THEN
            RETURN QUERY VALUES
                ('no such ring', '''hostile_nope'''),
                ('another role''s private ring', '''hp''');
        ELSIF argname = 'node' THEN
            RETURN QUERY VALUES ('no such node', '''nope''');
        ELSIF argname = 'server' THEN
            RETURN QUERY VALUES
                ('no such server', '''nope'''),
                ('a server without USAGE', '''hostile_srv_private''');
        ELSIF argname = 'role' THEN
            RETURN QUERY VALUES ('no such role', '''nope'''), ('PUBLIC', '''PUBLIC''');
        END IF;
    ELSIF t = 'name' THEN
        RETURN QUERY VALUES
            ('empty', ''''''),
            ('long (truncated to 63 bytes)', 'repeat(''c'', 1000)'),
            ('no such column', '''nope'''),
            ('another column', '''v''');
    ELSIF t = 'smallint' THEN
        RETURN QUERY VALUES ('min', '-32768'), ('max', '32767'), ('0', '0'), ('-1', '-1');
    ELSIF t = 'integer' THEN
        RETURN QUERY VALUES ('min', '-2147483648'), ('max', '2147483647'), ('0', '0'), ('-1', '-1');
    ELSIF t = 'bigint' THEN
        RETURN QUERY VALUES ('min', '-9223372036854775808'), ('max', '9223372036854775807'), ('0', '0'), ('-1', '-1');
    ELSIF t IN ('double precision', 'real') THEN
        RETURN QUERY VALUES
            ('NaN', '''NaN'''), ('Infinity', '''Infinity'''), ('-Infinity', '''-Infinity'''),
            ('max', '1.7976931348623157e308'), ('-max', '-1.7976931348623157e308'),
            ('smallest subnormal', '4.9e-324'), ('-0', '''-0'''), ('0', '0'), ('-1', '-1');
    ELSIF t = 'boolean' THEN
        RETURN QUERY VALUES ('true', 'true'), ('false', 'false');
    ELSIF t = 'bytea' THEN
        RETURN QUERY VALUES
            ('empty', ''''''),
            ('1 MB', 'convert_to(repeat(''x'', 1048576), ''SQL_ASCII'')'),
            ('NUL and invalid UTF-8', '''\x00ff80c3''');
    ELSIF t = 'uuid' THEN
        RETURN QUERY VALUES
            ('nil', '''00000000-0000-0000-0000-000000000000'''),
            ('max', '''ffffffff-ffff-ffff-ffff-ffffffffffff''');
    ELSIF t = 'regclass' THEN
        RETURN QUERY VALUES
            ('0', '0::oid'),
            ('a table the caller may not read', '''public.hostile_secret'''),
            ('a table the servers do not have', '''public.hostile_local'''),
            ('a sequence', '''public.hostile_seq'''),
            ('a system catalog', '''pg_catalog.pg_authid'''),
            ('an OID of nothing', '''4294967295''::oid');
    ELSIF t = 'regtype' THEN
        RETURN QUERY VALUES
            ('0', '0::oid'),
            ('an OID of nothing', '''4294967295''::oid'),
            ('a pseudo-type', '''trigger'''),
            ('a type without a btree operator class', '''point'''),
            ('an array type', '''integer[]''');
    ELSIF t = 'regrole' THEN
        RETURN QUERY VALUES
            ('0', '0::oid'),
            ('an OID of nothing', '''4294967295''::oid'),
            ('a superuser', '''postgres''');
    END IF;
END $$;

-- The calls of every function and procedure of the two extensions.
CREATE FUNCTION hostile.generate() RETURNS integer LANGUAGE plpgsql AS $$
DECLARE
    f record;
    names text[];
    types oid[];
    nargs integer;
    v record;
    i integer;
    j integer;
    args text[];
    call_id integer := 0;
    fname text;
    d text;
    hostile_arg text;
BEGIN
    FOR f IN
        SELECT p.oid, p.proname, n.nspname, p.prokind, string_to_array(p.proargtypes::text, ' ')::oid[] AS argtypes,
               p.proallargtypes, p.proargmodes, p.proargnames, p.proretset, p.prorettype, e.extname
          FROM pg_depend dep
          JOIN pg_extension e ON e.oid = dep.refobjid
          JOIN pg_proc p ON p.oid = dep.objid
          JOIN pg_namespace n ON n.oid = p.pronamespace
         WHERE dep.classid = 'pg_proc'::regclass AND dep.refclassid = 'pg_extension'::regclass
           AND dep.deptype = 'e' AND e.extname IN ('consistent_ring', 'consistent_ring_plproxy')
         ORDER BY e.extname, p.oid::regprocedure::text
    LOOP
        types := f.argtypes;
        nargs := coalesce(array_length(types, 1), 0);
        -- the names of the input arguments
        names := '{}';
        IF f.proallargtypes IS NULL THEN
            FOR i IN 1 .. nargs LOOP
                names := names || coalesce(nullif(f.proargnames[i], ''), '$' || i);
            END LOOP;
        ELSE
            FOR j IN 1 .. array_length(f.proallargtypes, 1) LOOP
                IF f.proargmodes[j] IN ('i', 'b', 'v') THEN
                    names := names || coalesce(nullif(f.proargnames[j], ''), '$' || (array_length(names, 1) + 1));
                END IF;
            END LOOP;
        END IF;
        fname := f.proname;
        -- argno 0 is the call with every default; then each argument in turn
        FOR i IN 0 .. nargs LOOP
            FOR v IN
                SELECT 'defaults' AS label, NULL AS expr WHERE i = 0
                UNION ALL
                SELECT h.label, h.expr FROM hostile.hostile_values(names[i], types[i]) h WHERE i > 0
            LOOP
                args := '{}';
                hostile_arg := NULL;
                FOR j IN 1 .. nargs LOOP
                    IF j = i THEN
                        d := v.expr;
                    ELSE
                        d := hostile.default_value(fname, names[j], types[j], CASE WHEN i > 0 THEN names[i] END);
                        IF d IS NULL THEN
                            RAISE EXCEPTION 'no default value for argument % (%) of %: add one to hostile.default_value',
                                names[j], format_type(types[j], NULL), f.oid::regprocedure;
                        END IF;
                    END IF;
                    IF format_type(types[j], NULL) IN ('anyelement', '"any"') THEN
                        args := args || ('(' || d || ')');
                    ELSE
                        args := args || ('(' || d || ')::' || format_type(types[j], NULL));
                    END IF;
                    IF j = i THEN
                        hostile_arg := args[j];
                    END IF;
                END LOOP;
                call_id := call_id + 1;
                INSERT INTO hostile.calls VALUES (
                    call_id, f.oid, f.extname, i,
                    CASE WHEN i > 0 THEN names[i] END,
                    CASE WHEN i > 0 THEN format_type(types[i], NULL) END,
                    v.label, v.expr, hostile_arg,
                    CASE WHEN f.prokind = 'p'
                         THEN format('CALL %I.%I(%s)', f.nspname, f.proname, array_to_string(args, ', '))
                         -- every row of a set, through its output function
                         WHEN f.proretset
                         THEN format('SELECT count(*), md5(string_agg(r::text, '','')) FROM %I.%I(%s) AS r',
                                     f.nspname, f.proname, array_to_string(args, ', '))
                         WHEN f.prorettype = 'trigger'::regtype
                         THEN format('SELECT %I.%I(%s)', f.nspname, f.proname, array_to_string(args, ', '))
                         ELSE format('SELECT md5((%I.%I(%s))::text)',
                                     f.nspname, f.proname, array_to_string(args, ', ')) END);
            END LOOP;
        END LOOP;
    END LOOP;
    RETURN call_id;
END $$;

-- One call, always rolled back: its SQLSTATE, ZZ999 if it returned.
CREATE FUNCTION hostile.call(id integer) RETURNS text LANGUAGE plpgsql AS $$
DECLARE
    s text;
    st text;
    msg text;
    t0 timestamptz := clock_timestamp();
BEGIN
    SELECT c.stmt INTO STRICT s FROM hostile.calls c WHERE c.call_id = id;
    BEGIN
        EXECUTE s;
        RAISE EXCEPTION 'returned' USING ERRCODE = 'ZZ999';
    EXCEPTION WHEN query_canceled OR others THEN
        GET STACKED DIAGNOSTICS st = RETURNED_SQLSTATE, msg = MESSAGE_TEXT;
    END;
    INSERT INTO hostile.results
    VALUES (id, current_user, st, CASE WHEN st <> 'ZZ999' THEN left(msg, 300) END,
            extract(epoch FROM clock_timestamp() - t0) * 1000);
    RETURN st;
END $$;

-- The calls whose function has polymorphic arguments, each compiled into a
-- temporary view: the function it resolves to must be the one it was
-- generated for.  Returns the calls that resolve to another one.
CREATE FUNCTION hostile.check_resolution()
RETURNS TABLE (call_id integer, fn regprocedure, resolved text) LANGUAGE plpgsql AS $$
DECLARE
    c record;
    got text;
BEGIN
    FOR c IN
        SELECT k.call_id, k.fn, k.stmt FROM hostile.calls k JOIN pg_proc p ON p.oid = k.fn
         WHERE p.prokind = 'f' AND EXISTS (SELECT FROM unnest(p.proargtypes::oid[]) t
                                            WHERE t IN ('anyelement'::regtype, '"any"'::regtype))
         ORDER BY k.call_id
    LOOP
        EXECUTE 'CREATE TEMP VIEW hostile_resolution AS ' || c.stmt;
        SELECT string_agg(DISTINCT d.refobjid::regprocedure::text, ', ') INTO got
          FROM pg_depend d JOIN pg_rewrite rw ON rw.oid = d.objid
          JOIN pg_proc p ON p.oid = d.refobjid
         WHERE d.classid = 'pg_rewrite'::regclass AND rw.ev_class = 'hostile_resolution'::regclass
           AND d.refclassid = 'pg_proc'::regclass
           AND p.proname = (SELECT proname FROM pg_proc WHERE oid = c.fn)
           AND p.pronamespace = (SELECT pronamespace FROM pg_proc WHERE oid = c.fn);
        DROP VIEW hostile_resolution;
        IF got IS DISTINCT FROM c.fn::text THEN
            call_id := c.call_id;
            fn := c.fn;
            resolved := got;
            RETURN NEXT;
        END IF;
    END LOOP;
END $$;

-- The contents of the extensions' tables (rings, versions, nodes, tokens,
-- pins, migration progress), as one hash: the same before and after the
-- calls if each was rolled back.
CREATE FUNCTION hostile.catalog_state() RETURNS text LANGUAGE plpgsql AS $$
DECLARE
    t regclass;
    h text;
    hashes text := '';
BEGIN
    FOR t IN
        SELECT c.oid FROM pg_depend d JOIN pg_extension e ON e.oid = d.refobjid JOIN pg_class c ON c.oid = d.objid
         WHERE d.classid = 'pg_class'::regclass AND d.refclassid = 'pg_extension'::regclass AND d.deptype = 'e'
           AND c.relkind = 'r' AND e.extname IN ('consistent_ring', 'consistent_ring_plproxy')
         ORDER BY c.oid::regclass::text
    LOOP
        EXECUTE format('SELECT md5(coalesce(string_agg(r::text, '';'' ORDER BY r::text), '''')) FROM %s r', t) INTO h;
        hashes := hashes || t::text || ':' || h || ' ';
    END LOOP;
    RETURN md5(hashes);
END $$;

SELECT hostile.generate() AS calls;
