#!/usr/bin/env bash
# Logical replication of the ring catalog to a second server on 127.0.0.1:
# a long-lived session on the subscriber keeps looking keys up while the
# publisher changes the ring, and must give, for every version that
# arrives, exactly the publisher's answers.  Runs inside test/check.sh's
# cluster (the publisher, wal_level = logical), and makes the subscriber
# with pg_createcluster.
set -euo pipefail
cd "$(dirname "$0")"
export PGOPTIONS="-c client_min_messages=warning"
sub_port=$((PGPORT + 101))
tmp=$(mktemp -d)
chmod 755 "$tmp"
cleanup() { pg_dropcluster --stop 15 ring_sub > /dev/null 2>&1 || true; rm -rf "$tmp"; }
trap cleanup EXIT

pub() { psql -X -q -At -v ON_ERROR_STOP=1 -d ring_pub "$@"; }
sub() { psql -X -q -At -v ON_ERROR_STOP=1 -h 127.0.0.1 -p "$sub_port" -d ring_sub "$@"; }

[ "$(psql -X -At -c 'SHOW wal_level')" = logical ] || { echo "replication test needs wal_level = logical"; exit 1; }
pg_createcluster 15 ring_sub -p "$sub_port" -d "$tmp/data" > /dev/null
pg_ctlcluster 15 ring_sub start
runuser -u postgres -- psql -X -q -h /var/run/postgresql -p "$sub_port" -d postgres -c "ALTER USER postgres PASSWORD '$PGPASSWORD'"

psql -X -q -c "DROP DATABASE IF EXISTS ring_pub" -c "CREATE DATABASE ring_pub"
pub -c "CREATE EXTENSION consistent_ring"
pub -c "CREATE TABLE expected (version int, k int, owner text, PRIMARY KEY (version, k))"
pub -c "CREATE PUBLICATION rings FOR TABLE consistent_ring.rings, consistent_ring.versions, consistent_ring.nodes, consistent_ring.tokens, consistent_ring.pins, expected"
sub -c "CREATE DATABASE ring_sub" -d postgres
sub -c "CREATE EXTENSION consistent_ring"
sub -c "CREATE TABLE expected (version int, k int, owner text, PRIMARY KEY (version, k))"
sub -c "CREATE SUBSCRIPTION rings CONNECTION 'host=127.0.0.1 port=$PGPORT dbname=ring_pub user=postgres password=$PGPASSWORD' PUBLICATION rings"

# the subscriber session: for each version as it arrives, compare its
# lookups with the publisher's answers for that version
cat > "$tmp/follow.sql" <<'SQL'
CREATE TEMP TABLE seen (version int, keys int, wrong int, cached int);
DO $$
DECLARE
    v int;
    n int;
    deadline timestamptz := clock_timestamp() + interval '60 seconds';
BEGIN
    WHILE clock_timestamp() < deadline LOOP
        SELECT coalesce(max(version), 0) INTO v FROM consistent_ring.rings WHERE name = 'rep';
        IF v > 0 AND NOT EXISTS (SELECT 1 FROM seen WHERE version = v)
           AND (SELECT count(*) FROM expected WHERE version = v) = 500
           AND ring_version('rep') = v THEN
            SELECT count(*) FILTER (WHERE e.owner IS DISTINCT FROM ring_shard('rep', e.k)) INTO n
              FROM expected e WHERE e.version = v;
            INSERT INTO seen VALUES (v, 500, n, (SELECT count(*) FROM ring_cache_info()));
            EXIT WHEN v >= 30;
        END IF;
        PERFORM pg_sleep(0.02);
    END LOOP;
END $$;
SELECT count(*), coalesce(sum(keys), 0), coalesce(sum(wrong), 0), coalesce(max(version), 0),
       coalesce(max(cached), 0) FROM seen;
SQL
sub -f "$tmp/follow.sql" > "$tmp/follow.out" &
follower=$!

pub -c "SELECT ring_create('rep', 'vnode', 32)" > /dev/null
for v in $(seq 1 30); do
    case $((v % 3)) in
        1) pub -c "SELECT ring_add_node('rep', 'n$v', $((v % 4)) + 1)" > /dev/null ;;
        2) pub -c "SELECT ring_set_weight('rep', 'n$((v - 1))', 0.5)" > /dev/null ;;
        0) pub -c "SELECT ring_add_node('rep', 'm$v')" > /dev/null ;;
    esac
    pub -c "INSERT INTO expected SELECT $v, k, ring_shard('rep', k) FROM generate_series(1, 500) k"
    sleep 0.3
done
wait "$follower"
read -r versions keys wrong last cached < <(tr '|' ' ' < "$tmp/follow.out")

sub -c "DROP SUBSCRIPTION rings"
psql -X -q -c "DROP DATABASE ring_pub"
echo "replication: 30 ring versions on the publisher; the subscriber session checked $versions versions as they arrived (last $last), $keys lookups, $wrong wrong; at most $cached compiled rings kept (applied changes invalidate the cache)"
if [ "$wrong" = 0 ] && [ "$versions" -ge 10 ] && [ "$last" = 30 ] && [ "$cached" -le 3 ]; then
    echo "replication test ... ok"
else
    echo "replication test ... FAILED"; exit 1
fi
