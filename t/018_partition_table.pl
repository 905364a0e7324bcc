# Perl TAP: partition_table() online (issue #22).  pgbench-style writers
# insert, update (moving rows across months) and delete on the table during
# the whole migration, and make the same change to a control table in the
# same transaction, so the control holds what the table would have held.
#  1. The first CALL is killed (kill -9, the server restarts) in the middle
#     of the copy; a second CALL resumes from the last committed batch and
#     swaps, while the writers go on.
#  2. After the swap the partitioned table holds exactly the control's rows.
#  3. A writer holding a row lock makes the swap give up after its attempts
#     under dbopt.lock_timeout, changing nothing; a later CALL swaps.
#  4. Writes after the swap, then undo: the original is back with them.
#  No writer waits for a lock on a table for as long as 1 s, which the
#  server itself reports (log_lock_waits, deadlock_timeout = 1s): the
#  migration queues its locks for at most dbopt.lock_timeout (300 ms) and
#  holds them briefly.
use strict;
use warnings;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use IPC::Run;
use Time::HiRes qw(sleep);

my $node = PostgreSQL::Test::Cluster->new('partition_table');
$node->init;
$node->append_conf('postgresql.conf', qq{
shared_preload_libraries = 'dbopt, pg_stat_statements'
search_path = public
restart_after_crash = on
dbopt.enable_worker = off
dbopt.lock_timeout = '300ms'
log_lock_waits = on
deadlock_timeout = '1s'
});
$node->start;

$node->safe_psql('postgres', q{
	CREATE EXTENSION dbopt CASCADE;
	CREATE SEQUENCE ids START 100001;
	CREATE TABLE "ev t" (id bigint PRIMARY KEY, at timestamptz NOT NULL, v int NOT NULL, note text);
	CREATE INDEX "ev t_at" ON "ev t" (at);
	INSERT INTO "ev t" SELECT g, timestamptz '2025-01-01 00:00+00' + g * interval '17 minutes', g % 1000, 'n' || g
	  FROM generate_series(1, 30000) g;
	CREATE TABLE ctl AS SELECT * FROM "ev t";
	ALTER TABLE ctl ADD PRIMARY KEY (id);
	ANALYZE;
});

# One transaction, one change, made to both tables alike.
my $script = PostgreSQL::Test::Utils::tempdir() . '/writes.sql';
open(my $fh, '>', $script) or die;
print $fh q{
\set id random(1, 40000)
\set v random(1, 1000)
\set op random(1, 4)
BEGIN;
INSERT INTO "ev t" (id, at, v) SELECT nextval('ids'), timestamptz '2025-01-01 00:00+00' + :id * interval '17 minutes', :v WHERE :op = 1;
INSERT INTO ctl (id, at, v) SELECT currval('ids'), timestamptz '2025-01-01 00:00+00' + :id * interval '17 minutes', :v WHERE :op = 1;
UPDATE "ev t" SET v = :v, note = 'u' WHERE id = :id AND :op = 2;
UPDATE ctl SET v = :v, note = 'u' WHERE id = :id AND :op = 2;
UPDATE "ev t" SET at = at + interval '40 days' WHERE id = :id AND :op = 3;
UPDATE ctl SET at = at + interval '40 days' WHERE id = :id AND :op = 3;
DELETE FROM "ev t" WHERE id = :id AND :op = 4;
DELETE FROM ctl WHERE id = :id AND :op = 4;
COMMIT;
};
close($fh);

my @writers;
sub start_writers
{
	my ($seconds) = @_;
	my ($out, $err) = ('', '');
	my $h = IPC::Run::start(
		[ 'pgbench', '-n', '-c', '2', '-T', $seconds, '-f', $script, $node->connstr('postgres') ],
		'>', \$out, '2>', \$err);
	push @writers, [ $h, \$out, \$err ];
	return $h;
}

# Stop them; unless after a crash, none may have failed.
sub stop_writers
{
	my ($crashed) = @_;
	my $errors = '';
	foreach my $w (@writers)
	{
		eval { $w->[0]->signal('TERM'); };
		eval { $w->[0]->finish; };
		$errors .= ${ $w->[2] };
	}
	@writers = ();
	is($errors =~ /ERROR|aborted/ ? $errors : '', '', 'the writers met no error') unless $crashed;
	return;
}

# Something that changes with every write to the control table.
sub control_version
{
	return $node->safe_psql('postgres', q{SELECT count(*) || '/' || sum(hashtext(c::text)) FROM ctl c});
}

sub same_as_control
{
	my ($table) = @_;
	return $node->safe_psql('postgres', qq{
		SELECT (SELECT count(*) FROM (SELECT * FROM $table EXCEPT ALL SELECT * FROM ctl) a)
		     + (SELECT count(*) FROM (SELECT * FROM ctl EXCEPT ALL SELECT * FROM $table) b)});
}

sub call_migration
{
	my ($out, $err) = ('', '');
	my $h = IPC::Run::start(
		[ 'psql', '-X', '-v', 'ON_ERROR_STOP=1', '-d', $node->connstr('postgres'),
		  '-c', q{SET dbopt.retention_batch_delay = '20ms'}, '-c', q{CALL dbopt.run_partition_migration('"ev t"')} ],
		'>', \$out, '2>', \$err);
	return ($h, \$out, \$err);
}

$node->safe_psql('postgres',
	q{SELECT count(*) FROM dbopt.partition_table('"ev t"', 'at', '1 month', premake => 2, batch_size => 500, dry_run => false)});

# 1. Writers, the first CALL, and kill -9 in the middle of the copy.
my $v0 = control_version();
start_writers(600);
my ($call1) = call_migration();
ok($node->poll_query_until('postgres',
	q{SELECT state = 'copying' AND rows_copied >= 5000 FROM dbopt.partition_migrations}),
	'the first CALL is copying');
my $pid = $node->safe_psql('postgres',
	q{SELECT pid FROM pg_stat_activity WHERE query LIKE '%run_partition_migration%' AND pid <> pg_backend_pid()});
like($node->safe_psql('postgres', "SELECT query FROM pg_stat_activity WHERE pid = $pid"),
	qr/^dbopt run_partition_migration: public\."ev t" copying, \d+ rows in \d+ batches so far$/,
	'pg_stat_activity shows the copy\'s progress');
kill 'KILL', $pid;
eval { $call1->finish; };
stop_writers(1);
$node->poll_query_until('postgres', 'SELECT true') or die 'no restart after the crash';
my $v1 = control_version();
isnt($v1, $v0, 'the writers wrote during the copy');
my ($copied, $state) = split /\|/, $node->safe_psql('postgres',
	q{SELECT rows_copied, state FROM dbopt.partition_migrations});
ok($copied > 0 && $copied < 30000, "the crash left the copy half done ($copied rows)");
is($state, 'copying', 'in state copying');
is($node->safe_psql('postgres', q{SELECT count(*) FROM "ev t_migrating"}), $copied,
	'the copy holds exactly the committed batches');

# The second CALL resumes while writers go on.
start_writers(600);
my ($call2, $out2, $err2) = call_migration();
ok($node->poll_query_until('postgres',
	q{SELECT state = 'swapped' FROM dbopt.partition_migrations}), 'the second CALL swaps');
eval { $call2->finish; };
like($$err2, qr/done: \d+ rows copied/, 'and reports the rows it copied');
ok($node->safe_psql('postgres', q{SELECT rows_copied FROM dbopt.partition_migrations}) >= $copied,
	'it went on from the last committed batch');
sleep(1);	# writers on the partitioned table
stop_writers();
isnt(control_version(), $v1, 'the writers wrote during the second CALL');

# 2. The partitioned table holds what the original would have held.
is($node->safe_psql('postgres', q{SELECT relkind FROM pg_class WHERE oid = '"ev t"'::regclass}), 'p',
	'"ev t" is partitioned now');
is(same_as_control('"ev t"'), '0', 'and holds exactly the control table\'s rows');
ok($node->safe_psql('postgres', q{SELECT count(*) FROM "ev t_default"}) >= 0
	&& $node->safe_psql('postgres', q{SELECT count(*) FROM "ev t"}) > 20000, 'rows are there');
is($node->safe_psql('postgres', q{SELECT count(*) FROM dbopt.partition_config WHERE parent = '"ev t"'::regclass}),
	'1', 'the table is registered with manage_partitions');
is($node->safe_psql('postgres', q{SELECT errors FROM dbopt.partition_migrations}), '0',
	'the killed run left no error behind (it never got to record one)');
like($node->safe_psql('postgres',
	q{SELECT string_agg(DISTINCT action, ',') FROM dbopt.maintenance_log WHERE operation = 'partition_migration'}),
	qr/copied.*swapped|swapped.*copied/, 'the steps are in the maintenance log');

# 4. Writes after the swap, then undo.
my $v2 = control_version();
start_writers(600);
sleep(2);
stop_writers();
isnt(control_version(), $v2, 'the writers wrote after the swap');
my $undo = $node->safe_psql('postgres', q{SELECT detail FROM dbopt.undo_partition_migration('"ev t"') WHERE action = 'carry_back'});
like($undo, qr/^[1-9]\d* captured write/, "undo carries the writes since the swap back ($undo)");
is($node->safe_psql('postgres', q{SELECT relkind FROM pg_class WHERE oid = '"ev t"'::regclass}), 'r',
	'"ev t" is the original table again');
is(same_as_control('"ev t"'), '0', 'with exactly the control table\'s rows');
is($node->safe_psql('postgres', q{SELECT count(*) FROM pg_class WHERE relname LIKE 'ev t\_%' AND relkind IN ('r', 'p')}),
	'0', 'the partitioned copy and its partitions are gone');
is($node->safe_psql('postgres', q{SELECT state FROM dbopt.partition_migrations}), 'undone', 'state undone');

# 3. A writer holding a lock: the swap gives up, nothing changes, a later CALL swaps.
$node->safe_psql('postgres',
	q{SELECT count(*) FROM dbopt.partition_table('"ev t"', 'at', '1 month', premake => 2, batch_size => 200, dry_run => false)});
# 5. Verification: a row slipped into the copy stops the migration before the swap.
my ($call4, $out4, $err4) = call_migration();
ok($node->poll_query_until('postgres', q{SELECT state = 'copying' FROM dbopt.partition_migrations WHERE state <> 'undone'}),
	'a third CALL is copying');
$node->safe_psql('postgres', q{INSERT INTO "ev t_migrating" VALUES (999999, '2025-03-01', 1, 'slipped in')});
eval { $call4->finish; };
like($$err4, qr/ERROR:  the copy of public."ev t" does not match the original\nDETAIL:  In partition range \d+ the original has \d+ rows and the copy \d+/,
	'verification finds the row that is not in the original');
is($node->safe_psql('postgres', q{SELECT relkind FROM pg_class WHERE oid = '"ev t"'::regclass}), 'r',
	'and nothing was swapped');
like($node->safe_psql('postgres', q{SELECT state || ' ' || errors || ' ' || last_error FROM dbopt.partition_migrations WHERE state <> 'undone'}),
	qr/^verifying 1 verify: In partition range/, 'the migration records why');
$node->safe_psql('postgres', q{DELETE FROM "ev t_migrating" WHERE id = 999999});

# 3. The copy is done; a writer holding a lock keeps the next CALL from swapping.
# Writers go on meanwhile: they queue behind each swap attempt's lock
# request, for no longer than dbopt.lock_timeout.
my $blocker = $node->background_psql('postgres');
$blocker->query_safe(q{BEGIN; UPDATE "ev t" SET v = v WHERE id = 1; UPDATE ctl SET v = v WHERE id = 1;});
start_writers(600);
my ($ret3, $out3, $err3) = $node->psql('postgres', q{CALL dbopt.run_partition_migration('"ev t"')});
is($ret3, 0, 'the CALL ends without an error');
like($err3, qr/swap attempt 3 of 3: .*lock/, 'after the swap was tried three times under dbopt.lock_timeout');
like($err3, qr/not swapped, the table stayed busy/, 'saying the table stayed busy');
is($node->safe_psql('postgres', q{SELECT relkind FROM pg_class WHERE oid = '"ev t"'::regclass}), 'r',
	'nothing was swapped');
$blocker->query_safe('COMMIT');
$blocker->quit;
stop_writers();
my ($ret, $stdout, $stderr) = $node->psql('postgres', q{CALL dbopt.run_partition_migration('"ev t"')});
is($ret, 0, 'a later CALL succeeds');
is($node->safe_psql('postgres', q{SELECT relkind FROM pg_class WHERE oid = '"ev t"'::regclass}), 'p',
	'and swaps');
is(same_as_control('"ev t"'), '0', 'with the control table\'s rows');
is($node->safe_psql('postgres', q{SELECT count(*) FROM dbopt.finish_partition_migration('"ev t"', drop_original => true)}),
	'3', 'finish drops the capture triggers and the original');
is($node->safe_psql('postgres', q{SELECT count(*) FROM dbopt.partition_migration_changes}), '0',
	'and the captured keys');

# The writers' statements take ROW EXCLUSIVE on the tables; the server
# logs a wait for it that lasts deadlock_timeout.
my $waits = slurp_file($node->logfile);
my @long = $waits =~ /(still waiting for RowExclusiveLock on relation[^\n]*)/g;
is(join("\n", @long), '', 'no writer waited 1 s for a table lock during the migrations');
like($waits, qr/still waiting for|statement: |LOG:/, 'the server log is read');

$node->stop;
done_testing();
