--
-- ring_svg: pictures of a ring and of what moves between versions.
--
SELECT ring_create('pic', 'vnode', 16);
BEGIN;
SELECT ring_add_node('pic', 'db' || i) FROM generate_series(1, 4) i;
COMMIT;
SELECT ring_add_node('pic', 'db5 <&"''>');

-- well-formed XML (names escaped), one legend entry per node, one arc per
-- maximal run of one owner
SELECT ring_svg('pic')::xml IS DOCUMENT AS well_formed,
       (SELECT count(*) FROM regexp_matches(ring_svg('pic'), '<rect x="440"', 'g')) AS legend_entries,
       ring_svg('pic') LIKE '%db5 &lt;&amp;&quot;&apos;&gt;%' AS name_escaped,
       (SELECT count(*) FROM regexp_matches(ring_svg('pic', 1), '<path ', 'g'))
         = (SELECT count(*) FROM (SELECT owner IS DISTINCT FROM lag(owner) OVER (ORDER BY t) AS starts
                                    FROM (SELECT ring_hash('pic', n || '-' || i) AS t, n AS owner
                                            FROM unnest(ARRAY['db1', 'db2', 'db3', 'db4']) n,
                                                 generate_series(0, 15) i) x) y
             WHERE starts) AS one_arc_per_run;

-- the moves picture: one outer arc per ring_moves row, and the moving share
SELECT ring_svg('pic', 1, 2)::xml IS DOCUMENT AS well_formed,
       (SELECT count(*) FROM regexp_matches(ring_svg('pic', 1, 2), 'A198\.0 198\.0', 'g'))
         = (SELECT count(*) FROM ring_moves('pic', 1, 2)) AS one_arc_per_move,
       ring_svg('pic', 1, 2) LIKE '%outer band: ' ||
         (SELECT to_char(100 * sum(range_end::numeric - range_start + 1) / 2^64, 'FM990.0')
            FROM ring_moves('pic', 1, 2)) || '% moves%' AS moving_share_shown;

-- a version without nodes is a grey circle; a single node a whole circle
SELECT ring_svg('pic', 0) LIKE '%<circle%' AS empty_ring;
SELECT ring_create('one', 'vnode', 1);
SELECT ring_add_node('one', 'only');
SELECT ring_svg('one')::xml IS DOCUMENT AS whole_circle;

-- long multibyte names are cut in the legend on a character boundary
SELECT ring_add_node('one', repeat('a', 31) || 'éé');
SELECT length(convert_to(ring_svg('one'), 'UTF8')) AS utf8_bytes;

-- NULL ring: NULL; errors as for any lookup
SELECT ring_svg(NULL) IS NULL AS null_ring;
SELECT ring_svg('nope');
SELECT ring_svg('pic', 9);
SELECT ring_svg('pic', 0, 9);

SELECT ring_drop('pic');
SELECT ring_drop('one');
