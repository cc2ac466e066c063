#!/usr/bin/env bash
# Hostile calls: every function and procedure of consistent_ring (and of
# consistent_ring_plproxy when PL/Proxy is there), found in the catalog, is
# called with every argument in turn replaced by hostile values (NULL, empty,
# 1 MB, over-long names, extremes, NaN, huge, empty and 2-D arrays, tables
# the caller may not read, ...) while the others keep valid defaults, once
# as a role that owns nothing and once as the role that owns the rings.
# Each call runs in a subtransaction that is always rolled back
# (calls.sql).  The run fails if a call ends its backend, raises an
# SQLSTATE of class XX or one that the Errors section of doc/reference.md
# does not name, or leaves no result.  Runs against the server in the PG*
# environment (test/check.sh's cluster); after a crash it waits for the
# server and goes on with the next call, so one run lists every finding.
set -uo pipefail
cd "$(dirname "$0")"
export PGOPTIONS="-c client_min_messages=warning"
db=ring_hostile
roles="regress_hostile_nobody regress_hostile_owner"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
q() { psql -X -q -At -v ON_ERROR_STOP=1 -d "$db" "$@"; }
fail() { echo "$*"; echo "hostile test ... FAILED"; exit 1; }
wait_ready() {
    for _ in $(seq 1 150); do
        psql -X -At -d "$db" -c "SELECT 1" > /dev/null 2>&1 && return 0
        sleep 0.2
    done
    return 1
}
start=$(date +%s)

# the SQLSTATEs doc/reference.md documents: the 5-character codes in
# backticks in its "## Errors" section
documented=$(awk '/^## Errors/ { on = 1; next } on && /^#/ { on = 0 } on' ../../doc/reference.md |
             grep -oE '`[0-9A-Z]{5}[` ]' | grep -oE '[0-9A-Z]{5}' | sort -u | tr '\n' ' ')
documented=${documented% }
[ -n "$documented" ] || fail "no SQLSTATE found in the Errors section of doc/reference.md"
echo "SQLSTATEs documented in doc/reference.md: $documented"

# a database for the calls, two loopback databases standing in for servers
for d in "$db" "${db}_remote1" "${db}_remote2"; do
    psql -X -q -c "DROP DATABASE IF EXISTS $d" || fail "cannot drop database $d"
done
for r in $roles; do
    psql -X -q -c "DROP ROLE IF EXISTS $r" || fail "cannot drop role $r"
done
for d in "$db" "${db}_remote1" "${db}_remote2"; do
    psql -X -q -c "CREATE DATABASE $d" || fail "cannot create database $d"
done
for n in 1 2; do
    psql -X -q -v ON_ERROR_STOP=1 -d "${db}_remote$n" \
         -c "CREATE TABLE public.hostile_keys (k text PRIMARY KEY, v text)" \
         -c "INSERT INTO public.hostile_keys SELECT 'k' || i, 'v' FROM generate_series($n, 20, 2) i" \
         -c "GRANT ALL ON public.hostile_keys TO PUBLIC" \
         -c "CREATE TABLE public.hostile_secret (k text PRIMARY KEY, v text)" || fail "cannot set up ${db}_remote$n"
done
q -f objects.sql > "$tmp/setup.log" 2>&1 || { cat "$tmp/setup.log"; fail "objects.sql failed"; }
grep WARNING "$tmp/setup.log"
host=${PGHOST:-localhost}
port=${PGPORT:-5432}
for s in hostile_srv1:1 hostile_srv2:2 hostile_srv_private:1; do
    q -c "ALTER SERVER ${s%:*} OPTIONS (host '$host', port '$port', dbname '${db}_remote${s#*:}')" ||
        fail "cannot set the options of ${s%:*}"
done
q -f calls.sql > "$tmp/setup.log" 2>&1 || { cat "$tmp/setup.log"; fail "calls.sql failed"; }

# the test itself: every call resolves to the function it was generated
# for, and every hostile argument evaluates
wrong=$(q -c "SELECT format('call %s resolves to %s, not %s', call_id, resolved, fn) FROM hostile.check_resolution()") ||
    fail "cannot check which functions the calls resolve to"
[ -z "$wrong" ] || fail "$wrong"
q -c "DO \$\$ DECLARE a text; BEGIN
          FOR a IN SELECT DISTINCT arg FROM hostile.calls WHERE arg IS NOT NULL LOOP
              EXECUTE 'SELECT (' || a || ') IS NULL';
          END LOOP;
      END \$\$" || fail "a hostile argument does not evaluate"

# the server log, for the lines of a crash: HOSTILE_SERVER_LOG, else the
# log of the pg_lsclusters cluster on this port (pg_virtualenv's), else the
# logging collector's file
logfile=${HOSTILE_SERVER_LOG:-$(pg_lsclusters -h 2> /dev/null | awk -v p="$port" '$3 == p { print $7 }')}
if [ -z "$logfile" ]; then
    logfile=$(q -c "SELECT CASE WHEN pg_current_logfile() LIKE '/%' THEN pg_current_logfile()
                                ELSE current_setting('data_directory') || '/' || pg_current_logfile() END") || logfile=""
fi
started=$(q -c "SELECT pg_postmaster_start_time()")
# the rings and the servers' tables, which no call may change
state() {
    q -c "SELECT hostile.catalog_state()"
    for n in 1 2; do
        psql -X -q -At -d "${db}_remote$n" -c "SELECT md5(string_agg(t::text, ';' ORDER BY k)) FROM public.hostile_keys t"
    done
}
before=$(state) || fail "cannot read the rings"

# the calls, role by role; after a call that ends the backend, the next one
for role in $roles; do
    next=1
    while :; do
        logsize=0
        [ -n "$logfile" ] && [ -r "$logfile" ] && logsize=$(stat -c %s "$logfile")
        psql -X -q -d "$db" -v role="$role" -v next="$next" -f run_calls.sql > /dev/null 2> "$tmp/out"
        rc=$?
        if [ "$rc" = 0 ]; then
            break
        fi
        [ "$rc" = 2 ] || { cat "$tmp/out"; fail "psql failed (exit $rc)"; }
        wait_ready || fail "the server did not come back after a crash"
        crashed=$(q -c "SELECT min(call_id) FROM hostile.calls c WHERE call_id >= $next
                          AND NOT EXISTS (SELECT FROM hostile.results r WHERE r.call_id = c.call_id AND r.role = '$role')")
        [ -n "$crashed" ] || { cat "$tmp/out"; fail "connection lost after the last call"; }
        log="(server log not found)"
        if [ -n "$logfile" ] && [ -r "$logfile" ]; then
            log=$(tail -c +"$((logsize + 1))" "$logfile" |
                  grep -E 'terminated by signal|Failed process was running|TRAP|PANIC|^[^0-9]' | head -10 | cut -c 1-300)
        fi
        out=$(grep -vE '^\s*$' "$tmp/out" | head -5 | cut -c 1-300 | tr -s '\n\t' '  ')
        echo "INSERT INTO hostile.crashes VALUES ($crashed, '$role', :'out', :'log')" |
            q -v out="$out" -v log="$log" || fail "cannot record the crash of call $crashed"
        echo "call $crashed as $role ended the backend"
        next=$((crashed + 1))
        [ "$(q -c "SELECT count(*) FROM hostile.crashes")" -lt 40 ] || fail "more than 40 crashes, giving up"
    done
done

# still the same server, and it answers
alive=$(q -c "SELECT 1") || true
now=$(q -c "SELECT pg_postmaster_start_time()") || true
after=$(state) || true

psql -X -q -v ON_ERROR_STOP=1 -d "$db" -v documented="$documented" -f report.sql > "$tmp/report" 2>&1 || { cat "$tmp/report"; fail "report.sql failed"; }
grep -v '^counts ' "$tmp/report"
read -r _ crashes xx undocumented missing uncovered < <(grep '^counts ' "$tmp/report")
plproxy=$(q -c "SELECT count(*) FROM pg_extension WHERE extname = 'consistent_ring_plproxy'")
[ "$plproxy" = 1 ] || echo "consistent_ring_plproxy could not be created (no PL/Proxy?): its functions were not called"
echo "hostile: $(q -c "SELECT count(DISTINCT fn) || ' functions, ' || count(*) || ' calls per role' FROM hostile.calls"), $(($(date +%s) - start)) s"

ok=1
[ "$alive" = 1 ] || { echo "the server does not answer SELECT 1 at the end"; ok=0; }
[ "$now" = "$started" ] || { echo "the postmaster restarted: started $started, now $now"; ok=0; }
[ "$after" = "$before" ] || { echo "the calls changed the rings or the servers' tables: none was to commit"; ok=0; }
[ "$crashes" = 0 ] || { echo "$crashes calls ended their backend"; ok=0; }
[ "$xx" = 0 ] || { echo "$xx calls raised an SQLSTATE of class XX"; ok=0; }
[ "$undocumented" = 0 ] || { echo "$undocumented calls raised an SQLSTATE doc/reference.md does not document"; ok=0; }
[ "$missing" = 0 ] || { echo "$missing calls left no result"; ok=0; }
[ "$uncovered" = 0 ] || { echo "$uncovered functions of the extensions were not called"; ok=0; }
if [ "$ok" = 1 ]; then echo "hostile test ... ok"; else echo "hostile test ... FAILED"; exit 1; fi
