#!/usr/bin/env bash
# Crashes in the middle of ring changes: a backend killed (SIGKILL) while
# its change is uncommitted, and the server stopped in immediate mode right
# after a commit.  The ring must be at the old or the new version, never in
# between, and lookups must work.  Then one long-lived session (a psql
# kept open as a coprocess), started after the restart, answers before and
# after another session commits a change: the same backend must follow the
# new version and still answer the old one.
#
# Every answer (the owners of the keys key-1 .. key-5000, as one md5) is
# compared with an expectation computed apart from the extension: the
# owners of the layout each step should have, from the positions of
# test/vectors/churn.csv (test/vectors/hostile_reference.py,
# python3-xxhash) and the placement rules, in SQL.  Runs inside
# test/check.sh's cluster (pg_virtualenv), which it stops and starts with
# pg_ctlcluster.
set -euo pipefail
cd "$(dirname "$0")/../.."
export PGOPTIONS="-c client_min_messages=warning"
q() { psql -X -q -At -v ON_ERROR_STOP=1 -d ring_crash "$@"; }
wait_ready() {
    for _ in $(seq 1 100); do
        psql -X -At -d ring_crash -c "SELECT 1" > /dev/null 2>&1 && return 0
        sleep 0.2
    done
    echo "server did not come back"; return 1
}
# the version and the owners of the keys, as the extension answers
answers_sql="SELECT ring_version('c') || ' ' || md5(string_agg(ring_shard('c', 'key-' || i), ',' ORDER BY i))
               FROM generate_series(1, 5000) i"
answers() { q -c "$answers_sql"; }
# the version expected and the owners of the keys in a layout of
# 'node:weight' items, from the reference
expect() { local v=$1; shift; echo "$v $(q -c "SELECT ref_answers('{$(IFS=,; echo "$*")}')")"; }

psql -X -q -c "DROP DATABASE IF EXISTS ring_crash" -c "CREATE DATABASE ring_crash"
q -c "CREATE EXTENSION consistent_ring" > /dev/null
# the reference: positions of the keys and of the virtual nodes
# "<node>-<i>", and the owner of each key, first token at or after its
# position (wrapping round, equal tokens to the name first by bytes); a
# layout needing a token the vectors lack is an error
q > /dev/null <<'EOF'
CREATE TABLE ref_positions (string text PRIMARY KEY, position bigint NOT NULL);
\copy ref_positions FROM 'test/vectors/churn.csv' WITH (FORMAT csv, HEADER)
CREATE FUNCTION ref_answers(layout text[]) RETURNS text LANGUAGE plpgsql AS $$
DECLARE
    tokens int;
    needed int;
    result text;
BEGIN
    CREATE TEMP TABLE ref_tokens AS
    SELECT p.position AS token, split_part(l, ':', 1) AS node
      FROM unnest(layout) l
      CROSS JOIN LATERAL generate_series(0, 16 * split_part(l, ':', 2)::int - 1) i
      JOIN ref_positions p ON p.string = split_part(l, ':', 1) || '-' || i;
    SELECT count(*) INTO tokens FROM ref_tokens;
    SELECT sum(16 * split_part(l, ':', 2)::int) INTO needed FROM unnest(layout) l;
    IF tokens <> needed THEN
        RAISE EXCEPTION 'test/vectors/churn.csv has % of the % tokens of %', tokens, needed, layout;
    END IF;
    SELECT md5(string_agg(coalesce(
               (SELECT node FROM ref_tokens WHERE token >= p.position ORDER BY token, node COLLATE "C" LIMIT 1),
               (SELECT node FROM ref_tokens ORDER BY token, node COLLATE "C" LIMIT 1)), ',' ORDER BY i))
      INTO result
      FROM generate_series(1, 5000) i JOIN ref_positions p ON p.string = 'key-' || i;
    DROP TABLE ref_tokens;
    RETURN result;
END $$;
EOF
q -c "SELECT ring_create('c', 'vnode', 16)" -c "SELECT ring_add_node('c', 'n' || i) FROM generate_series(1, 5) i" > /dev/null
v1=$(expect 1 n1:1 n2:1 n3:1 n4:1 n5:1)
before=$(answers)
ok=1
check() {   # what, expected, got
    if [ "$3" = "$2" ]; then echo "$1: $3"; else echo "$1: expected $2, got $3"; ok=0; fi
}
check "version 1, five nodes" "$v1" "$before"

# 1. SIGKILL a backend holding an uncommitted change (its transaction has
#    added a node and reweighted another, then waits)
psql -X -q -d ring_crash -c "BEGIN" -c "SELECT ring_add_node('c', 'n6', 3)" \
     -c "SELECT ring_set_weight('c', 'n1', 0)" -c "SELECT pg_sleep(60)" > /dev/null 2>&1 &
client=$!
pid=""
for _ in $(seq 1 100); do
    pid=$(psql -X -At -d ring_crash -c "SELECT pid FROM pg_stat_activity WHERE query LIKE 'SELECT pg_sleep(60)%'")
    [ -n "$pid" ] && break
    sleep 0.1
done
[ -n "$pid" ] || { echo "changing backend not found"; exit 1; }
kill -9 "$pid"
wait "$client" || true
wait_ready
check "killed mid-change: still version 1" "$v1" "$(answers)"
v=$(q -c "SELECT ring_add_node('c', 'n7')")
[ "$v" = 2 ] || { echo "next change got version $v, expected 2"; ok=0; }
v2=$(expect 2 n1:1 n2:1 n3:1 n4:1 n5:1 n7:1)
check "the next change: version 2" "$v2" "$(answers)"

# 2. commit a change, then stop the server in immediate mode (no checkpoint)
q -c "SELECT ring_set_weight('c', 'n2', 3)" > /dev/null
v3=$(expect 3 n1:1 n2:3 n3:1 n4:1 n5:1 n7:1)
check "committed: version 3" "$v3" "$(answers)"
pg_ctlcluster 15 regress stop -m immediate
pg_ctlcluster 15 regress start
wait_ready
check "immediate stop after commit: the committed version 3 is there" "$v3" "$(answers)"

# 3. one session kept open across a change another session commits
coproc LONG { exec psql -X -q -At -v ON_ERROR_STOP=1 -d ring_crash 2>&1; }
long_pid=$LONG_PID
trap 'kill "$long_pid" 2> /dev/null || true' EXIT
ask() {     # the long-lived session's answer to one statement, on one line
    local line out=""
    printf '%s;\n\\echo __answered__\n' "$1" >&"${LONG[1]}"
    while IFS= read -r -t 120 line <&"${LONG[0]}"; do
        [ "$line" = __answered__ ] && { echo "$out"; return 0; }
        out="$out${out:+ }$line"
    done
    echo "(no answer: $out)"
}
backend=$(ask "SELECT pg_backend_pid() || ' ' || backend_start FROM pg_stat_activity WHERE pid = pg_backend_pid()")
[[ "$backend" =~ ^[0-9]+\ [0-9] ]] || { echo "long-lived session did not start: $backend"; ok=0; }
check "long-lived session, before the change: version 3" "$v3" "$(ask "$answers_sql")"
q -c "SELECT ring_add_node('c', 'n8', 2)" > /dev/null
v4=$(expect 4 n1:1 n2:3 n3:1 n4:1 n5:1 n7:1 n8:2)
check "long-lived session, after another session's commit: version 4" "$v4" "$(ask "$answers_sql")"
check "long-lived session, version 3 asked for" "${v3#* }" \
      "$(ask "SELECT md5(string_agg(ring_shard('c', 'key-' || i, 3), ',' ORDER BY i)) FROM generate_series(1, 5000) i")"
check "long-lived session: the same backend throughout" "$backend" \
      "$(ask "SELECT pg_backend_pid() || ' ' || backend_start FROM pg_stat_activity WHERE pid = pg_backend_pid()")"
check "a new session: version 4" "$v4" "$(answers)"
printf '\\q\n' >&"${LONG[1]}"
wait "$long_pid" || true

psql -X -q -c "DROP DATABASE ring_crash"
if [ "$ok" = 1 ]; then echo "crash test ... ok"; else echo "crash test ... FAILED"; exit 1; fi
