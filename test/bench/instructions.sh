#!/usr/bin/env bash
# Instructions per row of the lookup functions, counted by callgrind in a
# single-user backend: stable where wall-clock timings are not (a busy or
# virtual machine).  For each expression, a run of
#   SELECT count(<expr>) FROM <table>    (100,000 keys)
# minus a run of SELECT count(<column>) FROM <table>, both after the same
# warm-up (rings compiled), divided by the rows.  The table keys holds
# text keys 'song-N' (k) and integers 1 .. 100,000 (i); the others hold one
# column each, so that a key type compares with text of the same bytes:
#   ints (i integer), digits (k text, the same numbers' digits),
#   uuids (u uuid), uuid_texts (k text, the same uuids' 36-byte form).
# ring_shard('r4to5', i) over keys also counts reading i past k in each
# tuple (about 35 instructions a row), which count(k) does not: compare
# integers with text on ints and digits.
# Uses the installed consistent_ring; run test/setup.sh first (make bench
# does).
#
#   bash test/bench/instructions.sh
#   CORE_ONLY=1 bash test/bench/instructions.sh   # 'vnode' rows only
set -euo pipefail
cd "$(dirname "$0")"
bindir=$(${PG_CONFIG:-/usr/lib/postgresql/15/bin/pg_config} --bindir)
rows=100000
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
chown postgres "$tmp"
runuser -u postgres -- "$bindir/initdb" -D "$tmp/data" -A trust -E UTF8 --locale=C > /dev/null

single() {
    runuser -u postgres -- "$bindir/postgres" --single -D "$tmp/data" postgres > "$tmp/out.log" 2>&1
    if grep -q "ERROR:" "$tmp/out.log"; then cat "$tmp/out.log"; exit 1; fi
}

single <<SQL
CREATE EXTENSION consistent_ring;
CREATE TABLE keys AS SELECT 'song-' || i AS k, i FROM generate_series(1, $rows) i;
CREATE TABLE ints AS SELECT i FROM generate_series(1, $rows) i;
CREATE TABLE digits AS SELECT i::text AS k FROM generate_series(1, $rows) i;
CREATE TABLE uuids AS SELECT md5(i::text)::uuid AS u FROM generate_series(1, $rows) i;
CREATE TABLE uuid_texts AS SELECT u::text AS k FROM uuids;
SELECT ring_create('r4to5');
SELECT count(ring_add_node('r4to5', 'db' || i)) FROM generate_series(1, 4) i;
SELECT ring_add_node('r4to5', 'db5');
SELECT ring_create('r1000');
SELECT count(ring_add_node('r1000', 'node' || i)) FROM generate_series(1, 1000) i;
VACUUM (FREEZE, ANALYZE);
CHECKPOINT;
SQL
[ -n "${CORE_ONLY:-}" ] || single <<SQL
SELECT ring_create('redis5', 'redis');
SELECT count(ring_add_node('redis5', 'db' || i)) FROM generate_series(1, 5) i;
SELECT ring_create('ketama5', 'ketama');
SELECT count(ring_add_node('ketama5', 'db' || i || ':11211')) FROM generate_series(1, 5) i;
SELECT ring_create('cassandra5', 'cassandra');
SELECT count(ring_add_node('cassandra5', 'db' || i)) FROM generate_series(1, 5) i;
SELECT ring_create('jump5', 'jump');
SELECT count(ring_add_node('jump5', 'db' || i)) FROM generate_series(1, 5) i;
SQL

warmup="SELECT ring_shard('r4to5', 'x'), ring_shard('r4to5', 'x', 1), ring_shard('r1000', 'x');"
warm_algorithms="SELECT ring_shard('redis5', 'x'), ring_shard('ketama5', 'x'), ring_shard('cassandra5', 'x'), ring_shard('jump5', 'x');"

# instructions of one single-user run of the warm-up and count(expr) over
# table ($2, keys if not given)
count_ir() {
    echo "$warmup" > "$tmp/q.sql"
    [ -n "${CORE_ONLY:-}" ] || echo "$warm_algorithms" >> "$tmp/q.sql"
    echo "SELECT count($1) FROM ${2:-keys};" >> "$tmp/q.sql"
    chmod 644 "$tmp/q.sql"
    runuser -u postgres -- valgrind --tool=callgrind --callgrind-out-file=/dev/null \
        --log-file="$tmp/cg.log" \
        "$bindir/postgres" --single -D "$tmp/data" postgres < "$tmp/q.sql" > "$tmp/out.log" 2>&1
    if grep -q "ERROR:" "$tmp/out.log"; then cat "$tmp/out.log" >&2; exit 1; fi
    sed -n 's/.*Collected : *\([0-9]*\).*/\1/p' "$tmp/cg.log"
}

# each row: expression, table, the table's key column (the baseline)
declare -A base
printf '%-52s %s\n' "expression (over count(column))" "instructions/row"
while IFS='|' read -r expr table column; do
    [ -n "$expr" ] || continue
    if [ "$expr" = "--" ]; then
        [ -n "${CORE_ONLY:-}" ] && break
        continue
    fi
    [ -n "${base[$table]:-}" ] || base[$table]=$(count_ir "$column" "$table")
    ir=$(count_ir "$expr" "$table")
    label=$expr
    [ "$table" = keys ] || label="$expr ($table)"
    printf '%-52s %d\n' "$label" $(( (ir - ${base[$table]}) / rows ))
done <<'ROWS'
hashtextextended(k, 0)|keys|k
ring_hash('r4to5', k)|keys|k
ring_shard('r4to5', k)|keys|k
ring_shard('r1000', k)|keys|k
ring_shard('r4to5', i)|keys|k
ring_move('r4to5', k, 1, 2)|keys|k
ring_shard('r4to5', i)|ints|i
ring_shard('r4to5', k)|digits|k
ring_hash('r4to5', i)|ints|i
ring_hash('r4to5', k)|digits|k
ring_shard('r4to5', u)|uuids|u
ring_shard('r4to5', k)|uuid_texts|k
--
ring_shard('redis5', k)|keys|k
ring_shard('ketama5', k)|keys|k
ring_shard('cassandra5', k)|keys|k
ring_shard('jump5', k)|keys|k
ROWS
