# Compiled rings in shared memory (shared_preload_libraries =
# 'consistent_ring'), across backends that come and go, a backend killed
# (crash and restart of the server), many sessions asking for a new version
# at once, and a shared area too small for the ring.
use strict;
use warnings;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use IPC::Run;
use Time::HiRes qw(time);

$PostgreSQL::Test::Cluster::use_tcp     = 1;
$PostgreSQL::Test::Cluster::test_pghost = '127.0.0.1';

my $node = PostgreSQL::Test::Cluster->new('shared');
$node->init;
$node->append_conf('postgresql.conf', "shared_preload_libraries = 'consistent_ring'\nrestart_after_crash = on");
$node->start;
$node->safe_psql('postgres', 'CREATE EXTENSION consistent_ring');
$node->safe_psql('postgres', q{
	SELECT ring_create('big', 'vnode', 128);
	SELECT ring_add_node('big', 'node' || i) FROM generate_series(1, 300) i;
});

my $owners_sql = q{SELECT md5(string_agg(ring_shard('big', 'k' || i), ',' ORDER BY i))
  FROM generate_series(1, 5000) i};
my $shared_sql = q{SELECT string_agg(format('%s:%s', version, backends), ' ' ORDER BY version)
  FROM ring_shared_cache() WHERE ring = 'big'};

# a session that stays
my ($in, $out, $err) = ('', '', '');
my $stay = IPC::Run::start(
	[ 'psql', '-XAtq', '-d', $node->connstr('postgres') ],
	'<', \$in, '>', \$out, '2>', \$err);
sub stay_query
{
	my ($sql) = @_;
	$out = '';
	$in .= "$sql;\nSELECT 'done';\n";
	$stay->pump until $out =~ /done\n\z/ || !$stay->pumpable;
	$out =~ s/done\n\z//;
	chomp $out;
	return $out;
}

my $v1 = $node->safe_psql('postgres', q{SELECT ring_version('big')});
my $owners = stay_query($owners_sql);
is($node->safe_psql('postgres', $shared_sql), "$v1:1",
	'the version a session compiled is in shared memory, used by that session');

# other sessions use it without compiling it; their references go with them
for my $i (1 .. 5)
{
	is($node->safe_psql('postgres', $owners_sql), $owners, "session $i: the same owners");
}
ok($node->poll_query_until('postgres', "$shared_sql", "$v1:1"),
	'sessions that ended dropped their references');
is($node->safe_psql('postgres',
		"SELECT ($owners_sql) = '$owners'; " . $shared_sql),
	"t\n$v1:2", 'a second session holds the one shared copy, and gives the same owners');

# many sessions ask for a new version at once: it is compiled once
$node->safe_psql('postgres', q{SELECT ring_add_node('big', 'node301')});
my $v2 = $v1 + 1;
my $script = $node->basedir . '/lookup.sql';
PostgreSQL::Test::Utils::append_to_file($script,
	"\\set k random(1, 1000000)\nSELECT ring_shard('big', 'k' || :k);\n");
my ($pgb_out, $pgb_err) = ('', '');
IPC::Run::run([ 'pgbench', '-n', '-c', '16', '-j', '2', '-t', '200', '-f', $script,
		'-d', $node->connstr('postgres') ], '>', \$pgb_out, '2>', \$pgb_err)
  or diag($pgb_err);
like($pgb_out, qr/number of failed transactions: 0/, '16 sessions looked up the new version, no failure');
is($node->safe_psql('postgres',
		q{SELECT string_agg(format('%s:%s', version, coalesce(built_from, -1)), ' ' ORDER BY version)
		  FROM ring_shared_cache() WHERE ring = 'big'}),
	"$v1:-1 $v2:$v1", 'the new version compiled once, from the previous one');
my $owners2 = $node->safe_psql('postgres', $owners_sql);
is(stay_query($owners_sql), $owners2, 'the staying session follows the new version');
is($node->safe_psql('postgres',
		qq{SELECT count(*) FROM generate_series(1, 5000) i
		   WHERE ring_shard('big', 'k' || i) IS DISTINCT FROM ring_shard('big', 'k' || i, $v1)
		     AND ring_shard('big', 'k' || i) IS DISTINCT FROM 'node301'}),
	'0', 'only keys of the new node moved');

# a backend that holds a lock the compiling backend waits for does not wait
# for that backend for ever: after a second it compiles the version itself
$node->safe_psql('postgres', q{SELECT ring_add_node('big', 'node302')});
stay_query('BEGIN; LOCK TABLE consistent_ring.nodes IN ACCESS EXCLUSIVE MODE');
my ($b_out, $b_err) = ('', '');
my $builder = IPC::Run::start(
	[ 'psql', '-XAtq', '-d', $node->connstr('postgres'), '-c', q{SELECT ring_shard('big', 'k1')} ],
	'>', \$b_out, '2>', \$b_err);
ok($node->poll_query_until('postgres',
		q{SELECT count(*) > 0 FROM pg_locks WHERE NOT granted AND relation = 'consistent_ring.nodes'::regclass}),
	'a backend compiling the new version waits for the lock');
my $t0 = time;
my $held = stay_query(q{SELECT ring_shard('big', 'k1'), (SELECT shared FROM ring_cache_info()
	WHERE ring = 'big' AND version = ring_version('big'))});
cmp_ok(time - $t0, '<', 30, 'the lock holder did not wait for the builder');
stay_query('COMMIT');
is($held, $node->safe_psql('postgres', q{SELECT ring_shard('big', 'k1')}) . '|f',
	'the lock holder compiled the version privately instead of waiting, and found the owner a new session finds');
$builder->finish;
is($b_out, $node->safe_psql('postgres', q{SELECT ring_shard('big', 'k1')}) . "\n",
	'the builder went on once the lock was released');

# a backend killed while it holds a shared ring: the server restarts with
# empty shared memory, and the rings are compiled again
my $owners_before_crash = stay_query($owners_sql);
my $pid = stay_query('SELECT pg_backend_pid()');
kill 'KILL', $pid;
$stay->finish;
ok($node->poll_query_until('postgres', 'SELECT 1', '1'), 'the server is back after the crash');
is($node->safe_psql('postgres', $shared_sql), '', 'shared memory was reset by the restart');
is($node->safe_psql('postgres', $owners_sql), $owners_before_crash, 'the same owners after the restart');
ok($node->poll_query_until('postgres', $shared_sql, ($v2 + 1) . ":0"), 'compiled again into shared memory');

# DROP and CREATE EXTENSION: the new extension's rings, never the old ones
$node->safe_psql('postgres', q{
	DROP EXTENSION consistent_ring;
	CREATE EXTENSION consistent_ring;
	SELECT ring_create('big', 'vnode', 128);
	SELECT ring_add_node('big', 'other');
});
is($node->safe_psql('postgres', q{SELECT ring_shard('big', 'k1'), ring_version('big')}),
	'other|1', 'a recreated extension does not find the old rings');

# an area too small for the ring: compiled privately, the same answers
$node->safe_psql('postgres', q{
	SELECT ring_add_node('big', 'node' || i) FROM generate_series(1, 300) i;
	SELECT ring_remove_node('big', 'other');
});
my $owners3 = $node->safe_psql('postgres', $owners_sql);
$node->append_conf('postgresql.conf', "consistent_ring.shared_cache_size = '256kB'");
$node->restart;
is($node->safe_psql('postgres',
		$owners_sql . q{; SELECT shared FROM ring_cache_info() WHERE ring = 'big'}),
	"$owners3\nf", 'no room in shared memory: a private compile, the same answers');

# not preloaded: private, whatever the setting says
$node->append_conf('postgresql.conf', "shared_preload_libraries = ''");
$node->restart;
is($node->safe_psql('postgres',
		$owners_sql . q{; SELECT shared FROM ring_cache_info() WHERE ring = 'big'; } . $shared_sql),
	"$owners3\nf\n", 'without preloading, each backend compiles its own');

$node->stop;
done_testing();
