# Perl TAP: what check_data_integrity() can only show on a cluster we may
# damage or age: amcheck findings on a corrupted index and heap, and
# xid_wraparound once tables are older than autovacuum_freeze_max_age.
use strict;
use warnings;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;

# ---- corruption ----
my $node = PostgreSQL::Test::Cluster->new('corrupt');
$node->init;
# The OS user, and so the test role, may be called dbopt: keep "$user" out
# of the search path so tables land in public.
$node->append_conf('postgresql.conf', "shared_preload_libraries = 'dbopt, pg_stat_statements'\nautovacuum = off\nsearch_path = public");
$node->start;
$node->safe_psql('postgres', q{
	CREATE EXTENSION dbopt CASCADE;
	CREATE EXTENSION amcheck;
	CREATE TABLE idx_victim (v int);
	INSERT INTO idx_victim SELECT 1000000 + g FROM generate_series(1, 1000) g;
	CREATE INDEX idx_victim_v ON idx_victim (v);
	CREATE TABLE heap_victim (v int);
	INSERT INTO heap_victim SELECT g FROM generate_series(1, 10) g;
	CREATE TABLE healthy (v int PRIMARY KEY);
	INSERT INTO healthy SELECT generate_series(1, 100);
	VACUUM FREEZE healthy;
	CHECKPOINT;
});

is($node->safe_psql('postgres',
	q{SELECT count(*) FROM dbopt.check_data_integrity(deep => true)
	   WHERE check_name IN ('index_corruption', 'heap_corruption', 'check_failed')}),
	'0', 'an undamaged cluster has no amcheck findings');

my $idx_file = $node->data_dir . '/' . $node->safe_psql('postgres',
	"SELECT pg_relation_filepath('idx_victim_v')");
my $heap_file = $node->data_dir . '/' . $node->safe_psql('postgres',
	"SELECT pg_relation_filepath('heap_victim')");
$node->stop;

# Index: overwrite one key in a leaf page with a smaller one, breaking the
# item order and hiding a heap tuple from the index.
{
	open(my $fh, '+<:raw', $idx_file) or die "open $idx_file: $!";
	local $/;
	my $data = <$fh>;
	my $pos = index($data, pack('l<', 1000500));
	die 'key not found in index file' if $pos < 0;
	seek($fh, $pos, 0);
	print $fh pack('l<', 1000001);
	close($fh);
}

# Heap: give the first tuple an xmin from the future.
{
	open(my $fh, '+<:raw', $heap_file) or die "open $heap_file: $!";
	my $page;
	read($fh, $page, 8192) == 8192 or die 'short read';
	my $lp = unpack('V', substr($page, 24, 4));
	my $off = $lp & 0x7FFF;
	seek($fh, $off, 0);
	print $fh pack('V', 0xFFFFFFF0);
	close($fh);
}
$node->start;

my $rows = $node->safe_psql('postgres', q{
	SELECT severity || '|' || check_name || '|' || object_name || '|' || coalesce(fix_sql, '')
	  FROM dbopt.check_data_integrity(deep => true)
	 WHERE check_name IN ('index_corruption', 'heap_corruption')
	 ORDER BY check_name, object_name});
my @rows = split /\n/, $rows;
is(scalar(@rows), 2, 'one finding per damaged object');
is($rows[0], 'critical|heap_corruption|public.heap_victim|',
	'verify_heapam reports the damaged heap tuple');
is($rows[1],
	'critical|index_corruption|public.idx_victim_v|REINDEX INDEX CONCURRENTLY public.idx_victim_v;',
	'bt_index_check reports the damaged index with a REINDEX fix');
like($node->safe_psql('postgres', q{
	SELECT detail FROM dbopt.check_data_integrity('heap_victim', deep => true)
	 WHERE check_name = 'heap_corruption'}),
	qr/^verify_heapam: block 0, offset 1: xmin 4294967280/,
	'the heap finding names block, offset and problem');
is($node->safe_psql('postgres', q{
	SELECT count(*) FROM dbopt.check_data_integrity()
	 WHERE check_name IN ('index_corruption', 'heap_corruption')}),
	'0', 'amcheck runs only with deep');
is($node->safe_psql('postgres', q{
	SELECT count(*) FROM dbopt.check_data_integrity('healthy', deep => true)}),
	'0', 'a healthy table next to damaged ones has no findings');
$node->stop;

# ---- wraparound ----
# A prepared transaction holds back freezing, as a forgotten one would in
# production; then enough transactions pass to exceed the (lowered)
# autovacuum_freeze_max_age.
my $old = PostgreSQL::Test::Cluster->new('xidage');
$old->init;
$old->append_conf('postgresql.conf', qq{
shared_preload_libraries = 'dbopt, pg_stat_statements'
autovacuum_freeze_max_age = 100000
max_prepared_transactions = 2
synchronous_commit = off
search_path = public
});
$old->start;
$old->safe_psql('postgres', q{
	CREATE EXTENSION dbopt CASCADE;
	CREATE TABLE old_table (v int);
	INSERT INTO old_table VALUES (1);
	BEGIN; SELECT txid_current(); PREPARE TRANSACTION 'held';
	CREATE PROCEDURE burn(n int) LANGUAGE plpgsql AS $$
	BEGIN
		FOR i IN 1..n LOOP PERFORM txid_current(); COMMIT; END LOOP;
	END $$;
});
is($old->safe_psql('postgres',
	q{SELECT count(*) FROM dbopt.check_data_integrity() WHERE check_name = 'xid_wraparound'}),
	'0', 'young tables are not reported');
$old->safe_psql('postgres', 'CALL burn(110000)');
$old->safe_psql('postgres', 'VACUUM (FREEZE) old_table');

$rows = $old->safe_psql('postgres', q{
	SELECT severity || '|' || object_name || '|' || fix_sql
	  FROM dbopt.check_data_integrity() WHERE check_name = 'xid_wraparound'
	   AND object_name !~ '^dbopt[.]'
	 ORDER BY object_name});
@rows = split /\n/, $rows;
# (dbopt's own tables predate the held transaction too; they are not listed
# here so that adding one does not change this test.)
is_deeply(\@rows, [
	'warning|postgres|VACUUM (FREEZE, VERBOSE);',
	'warning|public.old_table|VACUUM (FREEZE, VERBOSE) public.old_table;' ],
	'the database and every table that cannot be frozen are reported, with fixes');
like($old->safe_psql('postgres', q{
	SELECT detail FROM dbopt.check_data_integrity('old_table') WHERE check_name = 'xid_wraparound'}),
	qr/^Table public\.old_table has transaction ID age \d+: past autovacuum_freeze_max_age \(100000\)/,
	'detail gives the age and the threshold');
$old->safe_psql('postgres', "ROLLBACK PREPARED 'held'");
$old->stop;

done_testing();
