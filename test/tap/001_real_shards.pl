# Real shards: a coordinator and four shard servers on 127.0.0.1.
#
# 200,000 rows placed by a 3-node ring are moved by ring_migrate when a
# fourth node joins, its backend killed while it copies and the migration
# resumed; a second migration (a node leaves) is cancelled, resumed,
# interrupted by stopping a destination server and resumed again.  Every row's server
# and the checksums are checked from the outside.  PL/Proxy routes 10,000
# calls by the ring, each of which must land on the key's owner.
use strict;
use warnings;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use IPC::Run;
use Time::HiRes qw(time);

# TCP on 127.0.0.1, not Unix sockets: servers as an application sees them
$PostgreSQL::Test::Cluster::use_tcp     = 1;
$PostgreSQL::Test::Cluster::test_pghost = '127.0.0.1';

my $rows = 200_000;

my $coord = PostgreSQL::Test::Cluster->new('coordinator');
$coord->init;
$coord->append_conf("postgresql.conf", "shared_preload_libraries = 'consistent_ring'") if $ENV{RING_SHARED};
$coord->start;
my @shards;
for my $i (1 .. 4)
{
	my $s = PostgreSQL::Test::Cluster->new("shard$i");
	$s->init;
	$s->append_conf("postgresql.conf", "shared_preload_libraries = 'consistent_ring'") if $ENV{RING_SHARED};
	$s->start;
	$s->safe_psql('postgres', 'CREATE EXTENSION consistent_ring');
	$s->safe_psql('postgres',
		'CREATE TABLE songs (id text PRIMARY KEY, n integer, payload text)');
	# a destination made slow on demand, so that a migration can be
	# interrupted while it copies
	$s->safe_psql('postgres',
		'CREATE FUNCTION slow() RETURNS trigger LANGUAGE plpgsql'
		  . q{ AS $$BEGIN PERFORM pg_sleep(0.0002); RETURN NEW; END$$});
	$s->safe_psql('postgres',
		'CREATE FUNCTION whereami(k text) RETURNS integer LANGUAGE sql'
		  . q{ AS $$SELECT current_setting('port')::integer$$});
	$s->safe_psql('postgres',
		'CREATE FUNCTION whereami_now(k text) RETURNS integer LANGUAGE sql'
		  . q{ AS $$SELECT current_setting('port')::integer$$});
	push @shards, $s;
}

my $setup = "CREATE EXTENSION consistent_ring;\nCREATE EXTENSION postgres_fdw;\n"
  . "CREATE TABLE songs (id text PRIMARY KEY, n integer, payload text);\n"
  . "CREATE TABLE server_ports (server text PRIMARY KEY, port integer);\n";
for my $i (1 .. 4)
{
	my $port = $shards[ $i - 1 ]->port;
	$setup .=
	    "CREATE SERVER s$i FOREIGN DATA WRAPPER postgres_fdw"
	  . " OPTIONS (host '127.0.0.1', port '$port', dbname 'postgres');\n"
	  . "CREATE USER MAPPING FOR CURRENT_USER SERVER s$i;\n"
	  . "CREATE FOREIGN TABLE songs_s$i (id text, n integer, payload text) SERVER s$i"
	  . " OPTIONS (table_name 'songs', batch_size '1000', fetch_size '10000');\n"
	  . "INSERT INTO server_ports VALUES ('s$i', $port);\n";
}
$setup .= "CREATE VIEW all_songs AS\n"
  . join(" UNION ALL\n",
	map { "SELECT 's$_'::text AS server, id, n, payload FROM songs_s$_" } 1 .. 4)
  . ";\n";
$coord->safe_psql('postgres', $setup);

# version 1: three nodes
$coord->safe_psql(
	'postgres', q{
BEGIN;
SELECT ring_create('songs');
SELECT ring_add_node('songs', 'n' || i, server => 's' || i) FROM generate_series(1, 3) i;
COMMIT;
});
is($coord->safe_psql('postgres', "SELECT ring_version('songs')"), '1', 'ring at version 1');

# the rows, each on its server of version 1
for my $i (1 .. 3)
{
	$coord->safe_psql('postgres',
		"INSERT INTO songs_s$i SELECT 'song-' || g, g, md5(g::text)"
		  . " FROM generate_series(1, $rows) g WHERE ring_server('songs', 'song-' || g) = 's$i'");
}
my $checksum = $coord->safe_psql('postgres',
	'SELECT sum(hashtextextended((id, n, payload)::text, 0)) FROM all_songs');
is($coord->safe_psql('postgres', 'SELECT count(*) FROM all_songs'), $rows, 'rows loaded');

# Check from the outside: every row once, on its server at version v, and
# the checksum of all rows unchanged.
sub check_placement
{
	my ($v, $what) = @_;
	my $r = $coord->safe_psql(
		'postgres', qq{
SELECT count(*), count(DISTINCT id),
       count(*) FILTER (WHERE server IS DISTINCT FROM ring_server('songs', id, $v)),
       sum(hashtextextended((id, n, payload)::text, 0)) = $checksum
  FROM all_songs});
	is($r, "$rows|$rows|0|t", "$what: every row once, on its server of version $v, same checksum");
}
check_placement(1, 'loaded');

# A migration run by a psql of its own, to be interrupted: its stdin is
# /dev/null, so nothing is written to a psql whose connection was killed.
sub start_migration
{
	my ($sql) = @_;
	my ($out, $err) = ('', '');
	my $h = IPC::Run::start([ 'psql', '-X', '-d', $coord->connstr('postgres'), '-c', $sql ],
		'<', '/dev/null', '>', \$out, '2>', \$err);
	return ($h, \$err);
}

# version 2: a fourth node; ring_move lists what must move
$coord->safe_psql('postgres', "SELECT ring_add_node('songs', 'n4', server => 's4')");
my $to_move = $coord->safe_psql('postgres',
	"SELECT count(*) FROM all_songs WHERE ring_move('songs', id, 1, 2) IS NOT NULL");
ok($to_move > 0.2 * $rows && $to_move < 0.3 * $rows, "about 1/4 of the rows to move ($to_move)");

sub slow_down
{
	my ($shard, $on) = @_;
	$shard->safe_psql('postgres',
		$on
		? 'CREATE TRIGGER slow BEFORE INSERT ON songs FOR EACH ROW EXECUTE FUNCTION slow()'
		: 'DROP TRIGGER slow ON songs');
}

# the coordinator's backend is killed while it copies (s4, the new server,
# made slow), then the migration resumed
slow_down($shards[3], 1);
my ($bg, $bg_err) = start_migration("CALL ring_migrate('songs', 'id', 'songs', 1, 2, batch_size => 5000)");
$coord->poll_query_until('postgres',
	"SELECT count(*) > 0 FROM consistent_ring.migration_servers WHERE migration_id = 1 AND phase = 'copying'")
  or die 'the migration did not start copying';
# a second session may not move the same table meanwhile
my ($ret, $stdout, $stderr) = $coord->psql('postgres',
	"CALL ring_migrate('songs', 'id', 'songs', 1, 2, batch_size => 5000)");
like($stderr, qr/table public\.songs is being migrated by ring "songs" in another session/,
	'one session at a time migrates a table');
is( $coord->safe_psql('postgres',
		"SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity WHERE query LIKE 'CALL ring_migrate%'"),
	'1', 'the migrating backend is killed');
$bg->finish;
like($$bg_err, qr/terminating connection due to administrator command/, 'its session was told');
is($coord->safe_psql('postgres', 'SELECT finished_at IS NULL FROM consistent_ring.migrations WHERE migration_id = 1'),
	't', 'the killed migration is unfinished');
check_placement(1, 'after the kill (nothing cut over yet)');
slow_down($shards[3], 0);
my $t0 = time;
($ret, $stdout, $stderr) = $coord->psql('postgres',
	"CALL ring_migrate('songs', 'id', 'songs', 1, 2, batch_size => 5000)");
note(sprintf('resumed migration 1 to 2: %.2f s', time - $t0));
note($_) for grep { /NOTICE/ } split /\n/, $stderr;
is($ret, 0, 'migration 1 to 2 completes once resumed');
like($stderr, qr/resuming migration 1/, 'it resumes the killed migration');
like($stderr, qr/ring_migrate: server s\d: \d+ rows copied, \d+ changes replayed, \d+ rows verified, \d+ rows deleted/,
	'a notice per source');
is($coord->safe_psql('postgres', 'SELECT sum(rows_deleted) FROM consistent_ring.migration_servers WHERE migration_id = 1'),
	$to_move, 'it moved exactly the rows ring_move lists');
check_placement(2, 'after migration 1 to 2');
is($coord->safe_psql('postgres', 'SELECT verified FROM consistent_ring.migrations WHERE migration_id = 1'),
	't', 'every source verified its copies');

# version 3: n2 leaves; its rows go to the others.  Cancelled while it
# copies, resumed, then a destination (shard3) stopped mid-way, resumed.
$coord->safe_psql('postgres', "SELECT ring_remove_node('songs', 'n2')");
my $leaving = $coord->safe_psql('postgres', "SELECT count(*) FROM songs_s2");
slow_down($shards[0], 1);
($bg, $bg_err) = start_migration("CALL ring_migrate('songs', 'id', 'songs', 2, 3, batch_size => 1000)");
$coord->poll_query_until('postgres',
	"SELECT count(*) > 0 FROM consistent_ring.migration_servers WHERE migration_id = 2 AND phase = 'copying'")
  or die 'the migration did not start copying';
is( $coord->safe_psql('postgres',
		"SELECT count(pg_cancel_backend(pid)) FROM pg_stat_activity WHERE query LIKE 'CALL ring_migrate%'"),
	'1', 'the migration is cancelled');
$bg->finish;
like($$bg_err, qr/canceling statement due to user request/, 'its session was told');
# then resumed, and a destination server stopped mid-copy
($bg, $bg_err) = start_migration("CALL ring_migrate('songs', 'id', 'songs', 2, 3, batch_size => 1000)");
$coord->poll_query_until('postgres',
	"SELECT count(*) > 0 FROM pg_stat_activity WHERE query LIKE 'CALL ring_migrate%'")
  or die 'the migration did not start';
sleep 1;
$shards[2]->stop('immediate');
$bg->finish;
like($$bg_err, qr/ERROR:/, 'the migration failed with the server');
is($coord->safe_psql('postgres', 'SELECT finished_at IS NULL FROM consistent_ring.migrations WHERE migration_id = 2'),
	't', 'the migration is unfinished');

# while it is interrupted, ring_route tells where each key is: the source
# until its cutover; copies at destinations not cut over are not read
$shards[2]->start;
$t0 = time;
is( $coord->safe_psql(
		'postgres',
		"SELECT count(*) FILTER (WHERE ring_route('songs', id, 'songs') = server), count(DISTINCT id) FROM all_songs"),
	"$rows|$rows",
	'ring_route finds every key once where it is, mid-migration');
note(sprintf('ring_route on %d keys: %.2f s', $rows, time - $t0));
# and PL/Proxy calls routed as ring_route routes reach them, s2 included
# (no node of the newest version is on it: a partition after the nodes)
$coord->safe_psql(
	'postgres', q{
CREATE EXTENSION plproxy;
CREATE EXTENSION consistent_ring_plproxy;
CREATE FUNCTION whereami_now(k text) RETURNS integer LANGUAGE plproxy AS $$
    CLUSTER 'songs';
    RUN ON ring_partition('songs', k, 'songs'::regclass);
$$;
});
is( $coord->safe_psql(
		'postgres', q{
SELECT count(*) FILTER (WHERE whereami_now(id) = (SELECT port FROM server_ports WHERE server = ring_route('songs', id, 'songs'))),
       count(*) FILTER (WHERE ring_route('songs', id, 'songs') = 's2') > 0
  FROM (SELECT id FROM all_songs ORDER BY id LIMIT 3000) s}),
	'3000|t',
	'PL/Proxy calls through ring_partition(ring, key, table) land where ring_route says, mid-migration');
slow_down($shards[0], 0);

$t0 = time;
($ret, $stdout, $stderr) = $coord->psql('postgres',
	"CALL ring_migrate('songs', 'id', 'songs', 2, 3, batch_size => 1000)");
note(sprintf('resumed migration 2 to 3: %.2f s', time - $t0));
is($ret, 0, 'the resumed migration completes');
like($stderr, qr/resuming migration 2/, 'it resumes the interrupted migration');
check_placement(3, 'after the resumed migration 2 to 3');
is($coord->safe_psql('postgres', 'SELECT count(*) FROM songs_s2'), '0', 'nothing left on the removed node');
is($coord->safe_psql('postgres', 'SELECT verified FROM consistent_ring.migrations WHERE migration_id = 2'),
	't', 'the resumed migration verified its copies');

# PL/Proxy: 10,000 calls routed by the ring, each on the key's owner; the
# ring changes and the calls follow
$coord->safe_psql(
	'postgres', q{
CREATE FUNCTION whereami(k text) RETURNS integer LANGUAGE plproxy AS $$
    CLUSTER 'songs';
    RUN ON ring_partition('songs', k);
$$;
});
my $route_check = q{
SELECT count(*), count(*) FILTER (WHERE whereami(k) = (SELECT port FROM server_ports WHERE server = ring_server('songs', k)))
  FROM (SELECT 'song-' || g AS k FROM generate_series(1, 10000) g) s};
$t0 = time;
is($coord->safe_psql('postgres', $route_check), '10000|10000', 'PL/Proxy: 10,000 calls, each on the owner');
note(sprintf('10,000 PL/Proxy calls (with the check): %.2f s', time - $t0));
$coord->safe_psql('postgres', "SELECT ring_add_node('songs', 'n2b', server => 's2')");
is($coord->safe_psql('postgres', $route_check), '10000|10000',
	'PL/Proxy follows a ring change without reconfiguration');

# the view of nodes and servers: shard1 stopped is unreachable
$shards[0]->stop('fast');
is( $coord->safe_psql('postgres',
		"SELECT string_agg(node || ':' || reachable, ',' ORDER BY node) FROM ring_servers WHERE ring = 'songs'"),
	'n1:false,n2b:true,n3:true,n4:true',
	'ring_servers shows which servers answer');
$shards[0]->start;

$_->stop for @shards;
$coord->stop;
done_testing();
