# Perl TAP: every dbopt function and procedure, called with one bad argument
# at a time, fails cleanly: no server crash, and no internal error (SQLSTATE
# XX000, a check left to an elog() or to luck).  The calls are generated from
# pg_proc, so new functions are covered too: each argument in turn gets NULL,
# '', ' ', a newline, a 100 kB string and values for its type (wrong relation
# kinds, infinities, huge intervals, 0, -1, integer limits, empty arrays...)
# while the others keep sane values that reach the deep code.  Trigger
# functions are called directly once.  Each call runs in its own psql (and,
# for functions, a rolled-back transaction), followed by a SELECT in the same
# session: a crash ends every session.  After a crash the test waits for the
# restart and goes on, so one crash does not hide another.  One ok() per
# function, with the failing calls in its diag; every call's outcome goes to
# tmp_check/log/009_bad_arguments_calls.tsv.
use strict;
use warnings;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use Time::HiRes qw(time);

my $started = time;

my $node = PostgreSQL::Test::Cluster->new('bad_arguments');
$node->init;
$node->append_conf('postgresql.conf', qq{
shared_preload_libraries = 'dbopt, pg_stat_statements'
dbopt.enable_worker = off
search_path = public
restart_after_crash = on
});
$node->start;

# Objects for the calls to work on.  Their state persists: each function
# call runs in a transaction that is rolled back.
my $busy_query = "SELECT count(*) FROM fz_plain WHERE note = 'row 5';\n";
$node->safe_psql('postgres', q{
	CREATE EXTENSION dbopt CASCADE;
	CREATE EXTENSION amcheck;
	CREATE EXTENSION hypopg;
	CREATE EXTENSION file_fdw;

	-- A plain table with rows and a timestamptz column; another one that
	-- references it through an unindexed, not yet validated foreign key.
	CREATE TABLE fz_plain (id bigint PRIMARY KEY, at timestamptz NOT NULL, org bigint NOT NULL,
	                       email text, phone text, note text);
	INSERT INTO fz_plain
	SELECT g, now() - g * interval '1 day', g % 3, 'user' || g || '@example.com', '+1 555 0100 ' || g, 'row ' || g
	  FROM generate_series(1, 300) g;
	CREATE INDEX fz_plain_at ON fz_plain (at);
	CREATE TABLE fz_ref (id bigint PRIMARY KEY, plain_id bigint);
	INSERT INTO fz_ref SELECT g, g FROM generate_series(1, 50) g;
	ALTER TABLE fz_ref ADD CONSTRAINT fz_ref_plain FOREIGN KEY (plain_id) REFERENCES fz_plain (id) NOT VALID;

	-- A table partitioned by range on timestamptz: a partition two months
	-- back, a default one, and the future ones manage_partitions() makes.
	CREATE TABLE fz_parted (at timestamptz NOT NULL, v int) PARTITION BY RANGE (at);
	SELECT format('CREATE TABLE fz_parted_old PARTITION OF fz_parted FOR VALUES FROM (%L) TO (%L)',
	              date_trunc('month', now()) - interval '2 months', date_trunc('month', now()) - interval '1 month')
	\gexec
	CREATE TABLE fz_parted_default PARTITION OF fz_parted DEFAULT;
	SELECT dbopt.manage_partitions('fz_parted', '1 month', premake => 2, retention => '1 year');
	SELECT count(*) FROM dbopt.create_future_partitions('fz_parted');
	INSERT INTO fz_parted SELECT now() - g * interval '1 hour', g FROM generate_series(1, 500) g;
	INSERT INTO fz_parted VALUES (now() + interval '10 years', 0);
	CREATE INDEX fz_parted_at ON fz_parted (at);

	-- Relations of the other kinds.
	CREATE VIEW fz_view AS SELECT id, at FROM fz_plain WHERE org = 1;
	CREATE MATERIALIZED VIEW fz_mv AS SELECT org, count(*) AS n FROM fz_plain GROUP BY org;
	CREATE UNIQUE INDEX fz_mv_org ON fz_mv (org);
	CREATE SEQUENCE fz_seq;
	CREATE TYPE fz_type AS (a int, b text);
	CREATE SERVER fz_files FOREIGN DATA WRAPPER file_fdw;
	CREATE FOREIGN TABLE fz_foreign (id bigint, at timestamptz) SERVER fz_files
	  OPTIONS (filename '/dev/null', format 'csv');

	-- dbopt state, so that calls find something to work on.
	SELECT dbopt.add_retention_policy('fz_plain', 'at', '250 days', batch_size => 20);
	SELECT dbopt.schedule_job('fz_job', 'sql', '1 hour', 'SELECT 1');
	SELECT dbopt.set_refresh_schedule('fz_mv', '1 day');
	SELECT dbopt.enable_audit('fz_plain', ARRAY['note']);
	UPDATE fz_plain SET email = upper(email) WHERE id <= 5;
	SELECT dbopt.mark_sensitive('fz_plain', 'email', 'email');
	SELECT dbopt.mark_sensitive('fz_plain', 'phone', 'phone');
	SELECT dbopt.enable_tenant_isolation('fz_ref', 'plain_id');
	SELECT dbopt.suppress('unused', 'public.fz_plain_at', 'fuzz test');
	ANALYZE;
} . $busy_query x 60);
note 'dbopt ' . $node->safe_psql('postgres', q{SELECT extversion FROM pg_extension WHERE extname = 'dbopt'});
my @snaps;
for (1 .. 3)
{
	$node->safe_psql('postgres', $busy_query x 10);
	push @snaps, $node->safe_psql('postgres', 'SELECT dbopt.take_snapshot()');
}
# Spread the snapshots over two days, so that detect_regressions() over
# intervals finds a baseline and a current window.
$node->safe_psql('postgres', qq{
	UPDATE dbopt.snapshots SET taken_at = now() - interval '2 days' WHERE snap_id = $snaps[0];
	UPDATE dbopt.snapshots SET taken_at = now() - interval '1 day 1 minute' WHERE snap_id = $snaps[1];
});
# A checkpoint, so that setup survives crash recovery as it is: without it,
# after a crash (wal_level = minimal) dbopt.jobs' sequence handed out ids
# already in use.
$node->safe_psql('postgres', 'CHECKPOINT');

# Sane values, by argument name (or function.argument) where the type alone
# or the default would not get past the first check; otherwise the declared
# default, or a value by type (below).
my %sane_by_name = (
	parent => q{'fz_parted'},
	matview => q{'fz_mv'},
	schema_name => q{'public'},
	check_name => q{'unused'},
	reason => q{'fuzz test'},
	partition_interval => q{'1 month'},
	older_than => q{'6 months'},
	schedule => q{'1 hour'},
	job_name => q{'fz_job'},
	'schedule_job.job_name' => q{'fz_new_job'},
	kind => q{'sql'},
	command => q{'SELECT 1'},
	'mark_sensitive.kind' => q{'email'},
	view_name => q{'fz_masked'},
	value => q{'alice@example.com'},
	plaintext => q{'hello'},
	key => q{'secret'},
	ciphertext => q{dbopt.encrypt_value('hello', 'secret')},
	time_column => q{'at'},
	tenant_column => q{'org'},
	column_name => q{'email'},
	n1 => 30,
	n2 => 30,
	snap => $snaps[0],
	from_id => $snaps[0],
	to_id => $snaps[2],
	baseline_from => $snaps[0],
	baseline_to => $snaps[1],
	current_from => $snaps[1],
	current_to => $snaps[2]);

my %sane_by_type = (
	regclass => q{'fz_plain'},
	'regclass[]' => q{ARRAY['fz_mv']},
	text => q{'fuzz'},
	'text[]' => q{ARRAY['note']},
	name => q{'fuzz'},
	interval => q{'1 day'},
	'timestamp with time zone' => 'now()',
	date => 'CURRENT_DATE',
	integer => 1,
	bigint => 1,
	'double precision' => 1,
	numeric => 1,
	bytea => q{'\x00'},
	oid => 1);

# Bad values: for every argument, then by type.
my @bad_for_all = ('NULL', q{''}, q{' '}, q{E'\n'}, q{repeat('x', 100000)});
my @wrong_relations = (
	q{'fz_view'}, q{'fz_plain_at'}, q{'fz_seq'}, q{'fz_type'}, q{'fz_mv'},
	q{'fz_parted_at'}, q{'fz_foreign'}, q{'fz_plain'}, q{'fz_parted'}, q{'fz_parted_old'},
	q{'pg_catalog.pg_class'},
	q{(SELECT reltoastrelid FROM pg_class WHERE relname = 'fz_plain')},
	q{'0'}, q{'4294967295'});
my %bad_by_type = (
	regclass => \@wrong_relations,
	'regclass[]' => [
		q{'{}'}, 'ARRAY[NULL]', q{ARRAY['fz_view', 'fz_seq', '0']}, q{ARRAY['fz_plain', 'fz_parted']},
		q{ARRAY['fz_mv', 'fz_mv']}, q{ARRAY['4294967295']}],
	text => [q{'x.y"''; --'}],
	name => [q{'x.y"''; --'}],
	'text[]' => [q{'{}'}, 'ARRAY[NULL]', q{ARRAY['']}, q{ARRAY['no such column']}],
	interval => [
		q{'infinity'}, q{'-infinity'}, q{'1000000 years'}, q{'-1000000 years'},
		q{'178000000 years'}, q{'0'}, q{'-1 day'}],
	'timestamp with time zone' => [
		q{'infinity'}, q{'-infinity'}, q{'4714-11-24 00:00:00+00 BC'}, q{'294276-12-31 23:59:59+00'}],
	date => [q{'infinity'}, q{'-infinity'}, q{'4714-11-24 BC'}, q{'5874897-12-31'}],
	integer => [0, -1, q{'2147483647'}, q{'-2147483648'}],
	bigint => [0, -1, q{'9223372036854775807'}, q{'-9223372036854775808'}],
	'double precision' => [0, -1, q{'NaN'}, q{'Infinity'}, q{'-Infinity'}, q{'1e308'}],
	bytea => [q{'\x'}]);

# Functions whose names say they would wait for long are left out.
my $skip_re = qr/sleep|wait/;

# Call results go to a file next to the server log, one line per call.
my $results_file = "$PostgreSQL::Test::Utils::log_path/009_bad_arguments_calls.tsv";
open(my $results, '>', $results_file) or die "could not write $results_file: $!";

my $log_offset = -s $node->logfile;

# Run one call in its own psql; returns undef when it ended cleanly, or a
# description of what went wrong.
sub run_call
{
	my ($sql, $is_procedure) = @_;
	my $script = "\\set VERBOSITY verbose\nSET statement_timeout = '20s';\n";
	$script .= $is_procedure
	  ? "$sql;\n"
	  : "BEGIN;\n\\o /dev/null\n$sql;\n\\o\nROLLBACK;\n";
	$script .= "SELECT 'still alive';\n";

	my $timed_out = 0;
	my $call_started = time;
	my (undef, $stdout, $stderr) = $node->psql('postgres', $script,
		on_error_stop => 0, timeout => 60, timed_out => \$timed_out);

	my @problems;
	push @problems, 'no answer after 60s despite statement_timeout' if $timed_out;
	my @errors = $stderr =~ /ERROR:\s+([0-9A-Z]{5}): (.*)/g;
	my ($location) = $stderr =~ /LOCATION:\s+(.*)/;
	my $outcome = @errors ? "$errors[0] $errors[1]" : 'ok';
	while (my ($state, $message) = splice(@errors, 0, 2))
	{
		push @problems, "internal error $state: $message" . ($location ? " ($location)" : '')
		  if $state =~ /^XX/;
	}

	# A crash ends every session; the log names the process that died.
	my $log = slurp_file($node->logfile, $log_offset);
	my ($crash) = $log =~ /^(.*(?:terminated by signal|server process .* was terminated|PANIC:).*)$/m;
	if ($crash)
	{
		$crash =~ s/^.*?\] //;
		push @problems, "server crash: $crash";
		$outcome = 'crash';
	}
	elsif ($timed_out)
	{
		# Whatever is still running would hold its locks: end it.
		$node->safe_psql('postgres',
			q{SELECT pg_terminate_backend(pid) FROM pg_stat_activity
			   WHERE backend_type = 'client backend' AND pid <> pg_backend_pid()});
		$outcome = 'hang';
	}
	elsif ($stdout !~ /still alive/)
	{
		my $why = join(' ', grep { /\S/ } split /\n/, $stderr);
		push @problems, "the session ended: $why";
		$outcome = "session ended: $why";
	}
	# After a crash, wait for the restart so that the next call finds a server.
	if ($outcome eq 'crash' || $stdout !~ /still alive/)
	{
		$node->poll_query_until('postgres', 'SELECT 1', '1')
		  or BAIL_OUT('the server does not answer SELECT 1 any more');
	}
	$log_offset = -s $node->logfile;

	$outcome =~ s/\s+/ /g;
	printf $results "%s\t%.2fs\t%s\n", $outcome, time - $call_started, $sql;
	return @problems ? join('; ', @problems) : undef;
}

# The functions and procedures of dbopt's schema that belong to dbopt (with
# another search_path, CASCADE installs pgcrypto and pg_stat_statements there
# too), procedures last since their COMMITs cannot be rolled back.
my @functions = map { [ split /\|/ ] } split /\n/, $node->safe_psql('postgres', q{
	SELECT p.oid, p.oid::regprocedure, p.proname, p.prokind, p.prorettype = 'trigger'::regtype, p.pronargdefaults
	  FROM pg_proc p
	  JOIN pg_depend d ON d.classid = 'pg_proc'::regclass AND d.objid = p.oid AND d.deptype = 'e'
	  JOIN pg_extension e ON e.oid = d.refobjid AND e.extname = 'dbopt'
	 WHERE p.pronamespace = 'dbopt'::regnamespace
	 ORDER BY p.prokind = 'p', p.proname, p.oid});
cmp_ok(scalar(@functions), '>', 40, 'the catalog lists dbopt\'s functions');

my $calls_made = 0;
for my $f (@functions)
{
	my ($oid, $signature, $fname, $kind, $is_trigger, $ndefaults) = @$f;
	if ($fname =~ $skip_re)
	{
		note "skipped $signature: it may sleep";
		next;
	}

	# Input arguments: name, SQL-quoted name, type.
	my @args = map { [ split /\|/, $_, -1 ] } split /\n/, $node->safe_psql('postgres', qq{
		SELECT coalesce(p.proargnames[a.n], ''), quote_ident(coalesce(p.proargnames[a.n], '')),
		       format_type(a.t, NULL)
		  FROM pg_proc p,
		       unnest(coalesce(p.proallargtypes, p.proargtypes::oid[])) WITH ORDINALITY a(t, n)
		 WHERE p.oid = $oid AND coalesce(p.proargmodes[a.n], 'i') IN ('i', 'b', 'v')
		 ORDER BY a.n});
	my $named = !grep { $_->[0] eq '' } @args;
	my $call_word = $kind eq 'p' ? 'CALL' : 'SELECT * FROM';
	my $qualified = "dbopt." . $node->safe_psql('postgres', "SELECT quote_ident('$fname')");

	# The sane value of each argument, undef to leave it to its default.
	my @sane;
	for my $i (0 .. $#args)
	{
		my ($name, undef, $type) = @{ $args[$i] };
		my $has_default = $named && $i >= @args - $ndefaults;
		my $value = $sane_by_name{"$fname.$name"} // $sane_by_name{$name};
		if ($type eq 'boolean')
		{
			$value = $name eq 'dry_run' ? 'true' : $has_default ? undef : 'false';
		}
		elsif (!defined $value && !$has_default)
		{
			$value = $sane_by_type{$type}
			  // die "no sane value for $signature argument $name of type $type";
		}
		push @sane, $value;
	}

	my $render = sub {
		my @values = @_;
		my @parts;
		for my $i (0 .. $#args)
		{
			next unless defined $values[$i];
			my ($name, $quoted, $type) = @{ $args[$i] };
			my $expr = "$values[$i]::$type";
			push @parts, $named ? "$quoted => $expr" : $expr;
		}
		return "$call_word $qualified(" . join(', ', @parts) . ")";
	};

	# The calls: the sane one, then each argument replaced in turn.
	my @calls;
	if ($is_trigger eq 't')
	{
		@calls = ("SELECT $qualified()");
	}
	else
	{
		push @calls, $render->(@sane);
		for my $i (0 .. $#args)
		{
			my ($name, undef, $type) = @{ $args[$i] };
			my @bad = (@bad_for_all, @{ $bad_by_type{$type} // [] });
			push @bad, ($sane[$i] // 'false') eq 'true' ? 'false' : 'true' if $type eq 'boolean';
			for my $value (@bad)
			{
				my @values = @sane;
				$values[$i] = $value;
				push @calls, $render->(@values);
			}
		}
	}
	my %seen;
	@calls = grep { !$seen{$_}++ } @calls;

	my @failures;
	for my $sql (@calls)
	{
		my $problem = run_call($sql, $kind eq 'p');
		push @failures, "$sql\n    -> $problem" if defined $problem;
	}
	$calls_made += @calls;
	ok(!@failures, "$signature: " . scalar(@calls) . " calls, no crash, no internal error")
	  or diag(join("\n", @failures));
}
close($results);

# And the server is still there at the end.
is($node->safe_psql('postgres', 'SELECT 1'), '1', 'the server still answers');
$node->stop;
note sprintf('%d calls in %.0fs; every call and its outcome: %s', $calls_made, time - $started, $results_file);
done_testing();
