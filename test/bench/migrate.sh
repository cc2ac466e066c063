#!/usr/bin/env bash
# ring_migrate against a hand-made COPY job moving the same rows: a
# coordinator database and four server databases of one cluster (reached
# through loopback postgres_fdw servers), 1,000,000 rows of about 120 bytes
# placed by a 3-node 'vnode' ring on servers 1-3; a fourth node on server 4
# joins and about a quarter of the rows move.
#
#   job           for each (source, destination) pair that ring_moves lists
#                 (the planning is not timed): COPY (SELECT ... WHERE <moves
#                 there>) TO STDOUT (FORMAT binary) piped by psql into
#                 COPY ... FROM STDIN (FORMAT binary) there, one pipe after
#                 the other, then DELETE ... WHERE <moves> at each source;
#                 placement computed at the source by the new ring imported
#                 there beforehand (shard_import, not timed).
#   ring_migrate  CALL ring_migrate(...) with its defaults (verify on).
#
# Three rounds (ROUNDS), each the job then ring_migrate, each from the
# same freshly loaded placement (not timed); every move must end with the
# same rows on each server (count and checksum per server, every row once,
# none on a server the new version does not place it on).  Prints each
# round's times, the medians' rows/s, their ratio (ring_migrate's over the
# job's) and fence time per source, ring_migrate's phases per source
# (polled from ring_migration_progress) and, when pg_stat_statements is
# loaded, what the servers spent the last round's moves on.
#
# Run: bash test/bench/migrate.sh (builds and installs consistent_ring and
# starts a throw-away cluster; inside a cluster's PG* environment it runs
# against that one).
set -euo pipefail
cd "$(dirname "$0")/../.."

if [ -z "${PGPORT:-}" ]; then
    bash test/setup.sh
    exec pg_virtualenv -t -v 15 -o shared_buffers=512MB \
        -o shared_preload_libraries=pg_stat_statements \
        bash test/bench/migrate.sh
fi

ROWS=${ROWS:-1000000}
ROUNDS=${ROUNDS:-3}
PARALLEL=${PARALLEL:-3}   # sources copied at once in the extra run of each round
declare -a par_s
# psql itself, not Debian's wrapper (which costs tens of ms a run)
PSQL=$("${PG_CONFIG:-/usr/lib/postgresql/15/bin/pg_config}" --bindir)/psql
export PGOPTIONS="-c client_min_messages=warning"
dir=$(mktemp -d)
poller=
trap 'rm -rf "$dir"; [ -n "$poller" ] && kill $poller 2>/dev/null; true' EXIT

q() {   # database, psql arguments...
    local db=$1
    shift
    "$PSQL" -X -q -At -v ON_ERROR_STOP=1 -d "$db" "$@"
}
now() { echo "$EPOCHREALTIME"; }
elapsed() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.3f", b - a }'; }

coord=migrate_coord
servers=(s1 s2 s3 s4)
db() { echo "migrate_$1"; }

echo "== setting up: coordinator $coord, servers ${servers[*]} (databases migrate_s1..4), $ROWS rows"
for d in "$coord" "${servers[@]/#/migrate_}"; do
    q postgres -c "DROP DATABASE IF EXISTS $d WITH (FORCE)" -c "CREATE DATABASE $d"
    q "$d" -c "CREATE EXTENSION consistent_ring"
done
pgss=$(q postgres -c "SELECT count(*) FROM pg_settings WHERE name = 'shared_preload_libraries' AND setting ~ 'pg_stat_statements'")
if [ "$pgss" = 1 ]; then
    q "$coord" -c "CREATE EXTENSION pg_stat_statements"
fi

q "$coord" > /dev/null <<'SQL'
CREATE EXTENSION postgres_fdw;
SELECT current_setting('port') AS port, split_part(current_setting('unix_socket_directories'), ',', 1) AS sock \gset
CREATE TABLE t (id bigint PRIMARY KEY, n integer, payload text);
SELECT format('CREATE SERVER %I FOREIGN DATA WRAPPER postgres_fdw OPTIONS (host %L, port %L, dbname %L);'
              ' CREATE USER MAPPING FOR CURRENT_USER SERVER %I;'
              ' CREATE FOREIGN TABLE %I (id bigint, n integer, payload text) SERVER %I OPTIONS (table_name %L)',
              s, :'sock', :'port', 'migrate_' || s, s, 't_' || s, s, 't')
  FROM unnest(ARRAY['s1', 's2', 's3', 's4']) s \gexec
SELECT ring_create('ring');
SELECT ring_add_node('ring', 'a', server => 's1');
SELECT ring_add_node('ring', 'b', server => 's2');
SELECT ring_add_node('ring', 'c', server => 's3');
CREATE TABLE phase_log (migration_id integer, source text, phase text, phase_started_at timestamptz,
                        updated_at timestamptz, seen_at timestamptz);
CREATE TABLE bench_rounds (round integer, migration_id integer, started double precision, ended double precision);
SQL
old=$(q "$coord" -c "SELECT ring_version('ring')")

# the initial placement, once, as one binary COPY file per server
for s in "${servers[@]}"; do
    q "$coord" -c "COPY (SELECT i::bigint, (i::bigint * 7919 % 1000003)::integer,
                            md5(i::text) || md5((i + 1)::text) || left(md5((i + 2)::text), 36)
                       FROM generate_series(1, $ROWS) i
                      WHERE ring_server('ring', i::bigint, $old) IS NOT DISTINCT FROM '$s')
                   TO STDOUT (FORMAT binary)" > "$dir/$s.copy"
done
new=$(q "$coord" -c "SELECT ring_add_node('ring', 'd', server => 's4')")

# the new version, imported at each server for the job ('migration bench' there)
q "$coord" -c "SELECT consistent_ring.ring_export('ring', $new)" > "$dir/ring.json"
for s in "${servers[@]}"; do
    echo "SELECT consistent_ring.shard_import('bench', :'def')" |
        q "$(db "$s")" -v def="$(cat "$dir/ring.json")" > /dev/null
done

# the pairs that carry rows, as a DBA planning the job by hand would list them
mapfile -t pairs < <(q "$coord" -c "
    SELECT DISTINCT o.server || ' ' || nn.server
      FROM ring_moves('ring', $old, $new) mv
      JOIN ring_nodes_at('ring', $old) o ON o.node = mv.from_node
      JOIN ring_nodes_at('ring', $new) nn ON nn.node = mv.to_node
     WHERE o.server <> nn.server ORDER BY 1")
declare -A carries
for p in "${pairs[@]}"; do carries[$p]=1; done

load() {   # the initial placement, freshly loaded, vacuumed and analyzed
    for s in "${servers[@]}"; do
        q "$(db "$s")" -c "DROP TABLE IF EXISTS t" -c "CREATE TABLE t (id bigint, n integer, payload text)" \
            -c "COPY t FROM STDIN (FORMAT binary)" < "$dir/$s.copy"
        q "$(db "$s")" -c "ALTER TABLE t ADD PRIMARY KEY (id)" -c "VACUUM (ANALYZE) t"
    done
    q postgres -c "CHECKPOINT"
}

declare -A count sum
check() {   # label version: every row once, on its server in the version; counts and checksums per server
    local label=$1 version=$2 total misplaced
    for s in "${servers[@]}"; do
        read -r count[$label.$s] sum[$label.$s] < <(q "$(db "$s")" -F ' ' \
            -c "SELECT count(*), coalesce(sum(hashtextextended(t::text, 0)), 0) FROM t")
    done
    read -r total misplaced < <(q "$coord" -F ' ' -c "
        SELECT count(*), count(*) FILTER (WHERE ring_server('ring', id, $version) IS DISTINCT FROM s)
          FROM (SELECT 's1' s, id FROM t_s1 UNION ALL SELECT 's2', id FROM t_s2
                UNION ALL SELECT 's3', id FROM t_s3 UNION ALL SELECT 's4', id FROM t_s4) x")
    if [ "$total" != "$ROWS" ] || [ "$misplaced" != 0 ]; then
        echo "FAILED: after $label: $total rows, $misplaced misplaced" >&2
        exit 1
    fi
}

pgss_reset() { [ "$pgss" = 1 ] && q "$coord" -c "SELECT pg_stat_statements_reset()" > /dev/null || true; }

# what the servers spent their time on (pg_stat_statements), by kind of statement
pgss_report() {   # title
    [ "$pgss" = 1 ] || return 0
    echo "$1"
    q "$coord" -F $'\t' <<'SQL' | awk -F'\t' '{ printf "  %-58s %-9s %6s %10s %10s\n", $1, $2, $3, $4, $5 }'
SELECT 'statement', 'database', 'calls', 'total ms', 'rows'
UNION ALL
SELECT * FROM (
SELECT kind, string_agg(DISTINCT replace(d.datname, 'migrate_', ''), ',' ORDER BY replace(d.datname, 'migrate_', '')),
       sum(calls)::text, round(sum(total_exec_time))::text, sum(rows)::text
  FROM (SELECT *, CASE
            WHEN query ~ '^COPY \(SELECT .*ring_server.*\) TO STDOUT' THEN 'COPY (SELECT moving rows) TO STDOUT'
            WHEN query ~ '^COPY \(SELECT .* ANY .*\) TO STDOUT' THEN 'COPY (SELECT recorded keys) TO STDOUT'
            WHEN query ~ '^COPY .* FROM STDIN' THEN 'COPY ... FROM STDIN'
            WHEN query ~ '^DELETE FROM ONLY .*ring_server' THEN 'DELETE earlier copies (destinations)'
            WHEN query ~ '^DELETE FROM ONLY' THEN 'DELETE recorded keys (destinations)'
            WHEN query ~ '^DELETE .*ring_server' THEN 'DELETE moved rows'
            WHEN query ~ 'shard_delete_moved' THEN 'shard_delete_moved (source)'
            WHEN query ~ 'hashtextextended' THEN 'verify: count and checksum of moving rows'
            WHEN query ~ 'TABLESAMPLE' THEN 'estimate (1% sample)'
            WHEN query ~ 'shard_take_changes' THEN 'shard_take_changes'
            WHEN query ~ 'shard_begin' THEN 'shard_begin'
            WHEN query ~ 'shard_cut' THEN 'shard_cut'
            WHEN query ~ 'shard_finish' THEN 'shard_finish'
            WHEN query ~* '^(BEGIN|COMMIT|SET|RESET)' THEN 'BEGIN / COMMIT / SET'
            ELSE 'other' END AS kind
          FROM (SELECT dbid, calls, total_exec_time, rows, regexp_replace(query, '\s+', ' ', 'g') AS query
                  FROM pg_stat_statements) p) s
  JOIN pg_database d ON d.oid = s.dbid
 WHERE d.datname LIKE 'migrate_s%'
 GROUP BY kind
 ORDER BY sum(total_exec_time) DESC) x;
SQL
}

# what starting a psql costs (the job starts two per pipe and one per delete)
t0=$(now)
for _ in 1 2 3 4 5; do q "$(db s1)" -c "SELECT 1" > /dev/null; done
psql_ms=$(awk -v s="$(elapsed "$t0" "$(now)")" 'BEGIN { printf "%.0f", s * 1000 / 5 }')

same_as() {   # label reference: the same rows on every server
    for s in "${servers[@]}"; do
        if [ "${count[$1.$s]}" != "${count[$2.$s]}" ] || [ "${sum[$1.$s]}" != "${sum[$2.$s]}" ]; then
            echo "FAILED: $s has ${count[$1.$s]} rows (checksum ${sum[$1.$s]}) after $1," \
                 "${count[$2.$s]} (checksum ${sum[$2.$s]}) after $2" >&2
            exit 1
        fi
    done
}

declare -A pair
declare -a job_s job_copy job_delete mig_s fences
moving=
run_job() {   # round
    local r=$1 copy=0 delete=0 start t0 out n rows=0
    start=$(now)
    for s in s1 s2 s3; do
        for d in "${servers[@]}"; do
            [ -n "${carries[$s $d]:-}" ] || continue
            t0=$(now)
            out=$(q "$(db "$s")" -c "COPY (SELECT id, n, payload FROM t WHERE ring_server('migration bench', id, $new) = '$d') TO STDOUT (FORMAT binary)" |
                  "$PSQL" -X -v ON_ERROR_STOP=1 -d "$(db "$d")" -c "COPY t FROM STDIN (FORMAT binary)")
            n=${out#COPY }
            pair[$s.$d]=$n
            rows=$((rows + n))
            copy=$(awk -v a="$copy" -v b="$(elapsed "$t0" "$(now)")" 'BEGIN { printf "%.3f", a + b }')
        done
        t0=$(now)
        q "$(db "$s")" -c "DELETE FROM t WHERE ring_server('migration bench', id, $new) <> '$s'"
        delete=$(awk -v a="$delete" -v b="$(elapsed "$t0" "$(now)")" 'BEGIN { printf "%.3f", a + b }')
    done
    job_s[r]=$(elapsed "$start" "$(now)")
    job_copy[r]=$copy
    job_delete[r]=$delete
    if [ -n "$moving" ] && [ "$moving" != "$rows" ]; then
        echo "FAILED: the job moved $rows rows in round $r, $moving before" >&2
        exit 1
    fi
    moving=$rows
}

run_migrate() {   # round
    local r=$1 start end poller_rows mid prev
    prev=$(q "$coord" -c "SELECT coalesce(max(migration_id), 0) FROM consistent_ring.migrations")
    # ring_migrate's phases per source, as a DBA would watch them (every 10 ms)
    q "$coord" > /dev/null <<SQL &
DO \$\$
DECLARE
    t0 timestamptz := clock_timestamp();
    prev integer := $prev;
    mid integer;
BEGIN
    LOOP
        SELECT max(migration_id) INTO mid FROM consistent_ring.migrations WHERE ring = 'ring' AND migration_id > prev;
        INSERT INTO phase_log
        SELECT p.migration_id, p.server, p.phase, p.phase_started_at, p.updated_at, clock_timestamp()
          FROM consistent_ring.migration_servers p
         WHERE p.migration_id = mid AND p.source
           AND NOT EXISTS (SELECT FROM phase_log l WHERE l.migration_id = p.migration_id
                                                      AND l.source = p.server AND l.phase = p.phase);
        UPDATE phase_log l SET updated_at = p.updated_at
          FROM consistent_ring.migration_servers p
         WHERE p.migration_id = mid AND p.migration_id = l.migration_id AND p.server = l.source AND p.phase = l.phase;
        EXIT WHEN EXISTS (SELECT FROM consistent_ring.migrations
                           WHERE migration_id = mid AND finished_at IS NOT NULL)
               OR clock_timestamp() > t0 + interval '10 minutes';
        PERFORM pg_sleep(0.01);
    END LOOP;
END \$\$;
SQL
    poller=$!
    start=$(now)
    PGOPTIONS="-c client_min_messages=notice" q "$coord" \
        -c "CALL ring_migrate('t', 'id', 'ring', $old, $new)" 2> "$dir/notices"
    end=$(now)
    mig_s[r]=$(elapsed "$start" "$end")
    wait $poller
    poller=
    mid=$(q "$coord" -c "SELECT max(migration_id) FROM consistent_ring.migrations WHERE ring = 'ring'")
    q "$coord" -c "INSERT INTO bench_rounds VALUES ($r, $mid, $start, $end)"
    read -r poller_rows fences[r] < <(q "$coord" -F ' ' -c "
        SELECT sum(rows_copied + changes_replayed), string_agg(to_char(fence_ms, 'FM9990.0'), ' ' ORDER BY source)
          FROM ring_migration_progress WHERE migration_id = $mid")
    if [ "$poller_rows" != "$moving" ]; then
        echo "FAILED: ring_migrate moved $poller_rows rows in round $r, the job $moving" >&2
        exit 1
    fi
}

for r in $(seq 1 "$ROUNDS"); do
    echo "== round $r of $ROUNDS: the job, then ring_migrate, then ring_migrate with parallel => $PARALLEL"
    load
    check "initial$r" "$old"
    [ "$r" = 1 ] || same_as "initial$r" initial1
    pgss_reset
    run_job "$r"
    pgss_report "== what the servers spent the job on in round $r (pg_stat_statements; COPY TO and FROM overlap)" > "$dir/pgss_job"
    check "job$r" "$new"
    same_as "job$r" job1
    load
    check "reloaded$r" "$old"
    same_as "reloaded$r" initial1
    pgss_reset
    run_migrate "$r"
    pgss_report "== what the servers spent ring_migrate on in round $r (pg_stat_statements; COPY TO and FROM overlap)" > "$dir/pgss_migrate"
    check "ring_migrate$r" "$new"
    same_as "ring_migrate$r" job1
    # and with the sources' copies side by side
    load
    check "reloaded_p$r" "$old"
    start=$(now)
    q "$coord" -c "CALL ring_migrate('t', 'id', 'ring', $old, $new, parallel => $PARALLEL)"
    par_s[r]=$(elapsed "$start" "$(now)")
    check "parallel$r" "$new"
    same_as "parallel$r" job1
done

cat "$dir/pgss_job" "$dir/pgss_migrate"
echo "== ring_migrate's notices (round $ROUNDS)"
sed 's/^/  /' "$dir/notices"
echo "== the job's pipes (rows per source -> destination)"
for s in s1 s2 s3; do
    line="  $s:"
    for d in "${servers[@]}"; do
        [ -n "${pair[$s.$d]:-}" ] && line+=" -> $d ${pair[$s.$d]}"
    done
    echo "$line"
done
echo "== ring_migrate's phases per source (seconds; polled every 10 ms from ring_migration_progress)"
printf '  %-6s %-7s %12s %10s %12s %10s %8s\n' round source "before copy" copying "catching up" "cut over" total
q "$coord" -F $'\t' <<'SQL' | awk -F'\t' '{ printf "  %-6s %-7s %12s %10s %12s %10s %8s\n", $1, $2, $3, $4, $5, $6, $7 }'
SELECT round, source, a, b, c, d, e FROM (
SELECT round, source,
       to_char(extract(epoch FROM copying - coalesce(lag(cut) OVER w, to_timestamp(started))), 'FM990.000') a,
       to_char(extract(epoch FROM coalesce(catching, cut) - copying), 'FM990.000') b,
       coalesce(to_char(extract(epoch FROM cut - catching), 'FM990.000'), '< 0.01') c,
       to_char(extract(epoch FROM done - cut), 'FM990.000') d,
       to_char(extract(epoch FROM cut - coalesce(lag(cut) OVER w, to_timestamp(started))), 'FM990.000') e
  FROM (SELECT b.round, b.started, l.source,
               max(l.phase_started_at) FILTER (WHERE l.phase = 'copying') AS copying,
               max(l.phase_started_at) FILTER (WHERE l.phase = 'catching up') AS catching,
               max(l.phase_started_at) FILTER (WHERE l.phase = 'cut over') AS cut,
               max(l.phase_started_at) FILTER (WHERE l.phase = 'done') AS done
          FROM phase_log l JOIN bench_rounds b USING (migration_id)
         GROUP BY b.round, b.started, l.source) x
WINDOW w AS (PARTITION BY round ORDER BY cut)
UNION ALL
SELECT b.round, 'after', '', '', '', '',
       to_char(b.ended - extract(epoch FROM max(l.phase_started_at)), 'FM990.000')
  FROM phase_log l JOIN bench_rounds b USING (migration_id)
 WHERE l.phase = 'cut over'
 GROUP BY b.round, b.ended) y
ORDER BY round, source = 'after', source;
SQL
echo "  (before copy: from the previous source's cutover (the first: from the CALL): connecting to the"
echo "   servers, checks, shard_begin, estimate; copying: deleting earlier copies at the destinations, the"
echo "   copy; catching up: replaying recorded keys, verifying, the fence; cut over: until the moved rows"
echo "   are deleted at the source, which runs while the next sources move; total: cutover to cutover;"
echo "   after: from the last cutover: the last deletes, shard_finish, psql's exit)"

echo "== rows per server (the same after every move: counts and checksums)"
printf '  %-8s %10s %10s\n' server before after
for s in "${servers[@]}"; do
    printf '  %-8s %10s %10s\n' "$s" "${count[initial1.$s]}" "${count[job1.$s]}"
done

echo "== each round (seconds; each pipe of the job starts two psql, each delete one: about $psql_ms ms each here doing nothing)"
printf '  %-6s %8s %12s %10s %15s %8s  %s\n' round job "job pipes" "job deletes" ring_migrate ratio "fence ms (per source)"
for r in $(seq 1 "$ROUNDS"); do
    printf '  %-6s %8s %12s %10s %15s %8s  %s\n' "$r" "${job_s[r]}" "${job_copy[r]}" "${job_delete[r]}" "${mig_s[r]}" \
        "$(awk -v j="${job_s[r]}" -v m="${mig_s[r]}" 'BEGIN { printf "%.2f", j / m }')" "${fences[r]// / \/ }"
done

median() { printf '%s\n' "$@" | sort -g | awk '{ v[NR] = $1 } END { print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }
job_med=$(median "${job_s[@]}")
mig_med=$(median "${mig_s[@]}")
fence_med=
for i in 1 2 3; do
    f=()
    for r in $(seq 1 "$ROUNDS"); do f+=("$(echo "${fences[r]}" | cut -d' ' -f"$i")"); done
    fence_med+="${fence_med:+ / }$(median "${f[@]}")"
done
echo "== moving $moving of $ROWS rows (version $old -> $new), medians of $ROUNDS rounds; no row misplaced after any move"
par_med=$(median "${par_s[@]}")
printf '  job: %.3f s; ring_migrate: %.3f s; ring_migrate with parallel => %d: %.3f s (%s)\n' "$job_med" "$mig_med" \
    "$PARALLEL" "$par_med" "$(awk -v j="$job_med" -v m="$par_med" 'BEGIN { printf "%.2f x the job", j / m }')"
printf '%-16s %-12s %-21s %-7s %s\n' "rows moving" "job rows/s" "ring_migrate rows/s" "ratio" "fence ms (per source)"
awk -v n="$moving" -v j="$job_med" -v m="$mig_med" -v f="$fence_med" 'BEGIN {
    printf "%-16d %-12d %-21d %-7.2f %s\n", n, n / j, n / m, j / m, f }'

for d in "$coord" "${servers[@]/#/migrate_}"; do
    q postgres -c "DROP DATABASE $d WITH (FORCE)"
done
