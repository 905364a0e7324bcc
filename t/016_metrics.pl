# Perl TAP: dbopt.metrics() through the tools that read it.  promtool
# (Debian package prometheus) checks the text, with no lint problem, on an
# empty database and on one with a job, a snapshot, a materialized view, a
# managed partitioned table, sequences and findings with awkward names.
# Debian's prometheus-postgres-exporter, run as this OS user on a free
# loopback port with contrib/postgres_exporter/dbopt-queries.yaml, serves
# the same series with the same values.  The test command installs both
# packages; without a binary its part is skipped.
use strict;
use warnings;
use File::Spec;
use HTTP::Tiny;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use Time::HiRes qw(usleep);

my $promtool = '/usr/bin/promtool';
my $exporter = '/usr/bin/prometheus-postgres-exporter';
my $queries = File::Spec->rel2abs('contrib/postgres_exporter/dbopt-queries.yaml');

my $node = PostgreSQL::Test::Cluster->new('metrics');
$node->init;
$node->append_conf('postgresql.conf', "shared_preload_libraries = 'dbopt, pg_stat_statements'\ndbopt.enable_worker = off");
$node->start;
$node->safe_psql('postgres', q{
	CREATE EXTENSION dbopt CASCADE;
	CREATE ROLE monitor LOGIN IN ROLE pg_monitor;
});

# promtool check metrics: exit 0 and nothing printed (a lint problem is a
# line naming the metric).
sub promtool_check
{
	my ($text, $name) = @_;
	my $file = "${PostgreSQL::Test::Utils::tmp_check}/metrics_$name.prom";
	PostgreSQL::Test::Utils::append_to_file($file, $text);
	my ($stdout, $stderr);
	my $ok = IPC::Run::run([ $promtool, 'check', 'metrics' ], '<', $file, '>', \$stdout, '2>', \$stderr);
	ok($ok, "promtool check metrics accepts the $name text");
	is($stdout . $stderr, '', "promtool reports no problem in the $name text");
}

my $empty = $node->safe_psql('postgres', 'SELECT dbopt.metrics()', extra_params => [ '-U', 'monitor' ]);
like($empty, qr/^dbopt_snapshot_age_seconds NaN$/m, 'no snapshot: its age is NaN');
like($empty, qr/^dbopt_check_run_age_seconds NaN$/m, 'no run_checks() run: its age is NaN');
like($empty, qr/^dbopt_findings_open\{severity="critical",check="fk_orphan_rows"\} 0$/m,
	'no findings: zero-valued series');
like($empty, qr/\n# EOF$/, 'the text ends with # EOF');

$node->safe_psql('postgres', <<'SQL');
	CREATE SCHEMA app;
	CREATE TABLE app."ev ""q""; x\y" (ts timestamptz NOT NULL) PARTITION BY RANGE (ts);
	SELECT dbopt.manage_partitions('app."ev ""q""; x\y"', '1 day', premake => 3);
	SELECT dbopt.create_future_partitions('app."ev ""q""; x\y"');
	CREATE SEQUENCE app."seq ""a""; b" MAXVALUE 200;
	SELECT setval('app."seq ""a""; b"', 50);
	CREATE MATERIALIZED VIEW app.mv AS SELECT 1 AS a;
	SELECT dbopt.schedule_job('job "q"; \ x', 'sql', '1 hour', 'SELECT 1');
	SELECT dbopt.schedule_job('failing', 'sql', '1 hour', 'SELECT 1 / 0', max_retries => 0);
	SELECT dbopt.run_job('job "q"; \ x');
	SELECT dbopt.run_job('failing');
	SELECT dbopt.take_snapshot();
	INSERT INTO dbopt.check_runs (run_id, started_at, finished_at, reports, findings)
	VALUES (1, now(), now(), '{integrity}', 2);
	INSERT INTO dbopt.findings_history (run_id, report, check_name, object_name, severity, first_seen, last_seen)
	VALUES (1, 'integrity', 'fk_orphan_rows', 'app.a', 'warning', now(), now()),
	       (1, 'integrity', E'odd "check" \\ \nname', 'app.b', 'info', now(), now());
SQL
my $full = $node->safe_psql('postgres', 'SELECT dbopt.metrics()', extra_params => [ '-U', 'monitor' ]);
like($full, qr/^dbopt_findings_open\{severity="info",check="odd \\"check\\" \\\\ \\nname"\} 1$/m,
	'a check name with a quote, a backslash and a newline is escaped');
like($full, qr/^dbopt_sequence_used_ratio\{sequence="app.\\"seq \\"\\"a\\"\\"; b\\""\} 0.25$/m,
	'sequence headroom of a sequence with quotes in its name');
like($full, qr/^dbopt_job_consecutive_failures\{job="failing",kind="sql"\} 1$/m, 'a failing job counts its failures');

SKIP:
{
	skip "promtool is not installed ($promtool; Debian package prometheus)", 4 unless -x $promtool;
	promtool_check($empty, 'empty');
	promtool_check($full, 'full');
}

# Every series of metric_values() that does not move with the clock, as
# name{labels} => value, in the exporter's spelling.
my %expected;
my $expected_sql = <<'SQL';
	SELECT metric || coalesce('{' || (SELECT string_agg(key || '="' ||
	           replace(replace(replace(v, E'\\', E'\\\\'), '"', E'\\"'), E'\n', E'\\n') || '"', ','
	           ORDER BY key) FROM jsonb_each_text(labels) AS e(key, v)) || '}', ''),
	       CASE WHEN value = 'NaN' THEN 'NaN' ELSE value::text END
	  FROM dbopt.metric_values()
	 WHERE metric NOT LIKE '%age_seconds' AND metric NOT IN ('dbopt_job_seconds_since_success', 'dbopt_partition_runway_seconds')
SQL
for my $row (split /\n/, $node->safe_psql('postgres', $expected_sql))
{
	my ($series, $value) = split /\|/, $row, 2;
	$expected{$series} = $value;
}
ok(keys %expected > 200, 'metric_values() has the series to compare (' . scalar(keys %expected) . ')');

SKIP:
{
	skip "prometheus-postgres-exporter is not installed ($exporter)", 5 unless -x $exporter;

	my $port = PostgreSQL::Test::Cluster::get_free_port();
	my $dsn = sprintf('host=%s port=%d user=monitor dbname=postgres sslmode=disable', $node->host, $node->port);
	my $log = "${PostgreSQL::Test::Utils::tmp_check}/exporter.log";
	local $ENV{DATA_SOURCE_NAME} = $dsn;
	my $h = IPC::Run::start(
		[ $exporter, "--web.listen-address=127.0.0.1:$port", "--extend.query-path=$queries",
		  '--disable-settings-metrics', '--log.level=warn' ],
		'<', \undef, '>', $log, '2>&1');

	# Up to 30 seconds for it to listen.
	my $http = HTTP::Tiny->new(timeout => 10);
	my $res;
	for (1 .. 60)
	{
		$res = $http->get("http://127.0.0.1:$port/metrics");
		last if $res->{success} && $res->{content} =~ /^dbopt_/m;
		usleep(500_000);
	}
	ok($res->{success}, 'the exporter serves /metrics') or diag(slurp_file($log));
	my $body = $res->{content} // '';

	# The exporter may add labels of its own (server); compare on ours.
	my %got;
	for my $line (split /\n/, $body)
	{
		next unless $line =~ /^(dbopt_[a-z_]+)(?:\{(.*)\})? (\S+)$/;
		my ($name, $labels, $value) = ($1, $2 // '', $3);
		my @pairs = grep { $_ !~ /^server=/ } ($labels =~ /([a-z_]+="(?:[^"\\]|\\.)*")/g);
		$got{ $name . (@pairs ? '{' . join(',', sort @pairs) . '}' : '') } = $value;
	}
	my @missing = grep { !exists $got{$_} } sort keys %expected;
	my @differ = grep { exists $got{$_} && $got{$_} + 0 != $expected{$_} + 0
		  && !($got{$_} eq 'NaN' && $expected{$_} eq 'NaN') } sort keys %expected;
	is(scalar(@missing), 0, 'every series of metric_values() is served by the exporter')
	  or diag(join("\n", @missing[0 .. ($#missing < 9 ? $#missing : 9)]));
	is(scalar(@differ), 0, 'with the same values')
	  or diag(join("\n", map { "$_: $got{$_} <> $expected{$_}" } @differ));
	like($body, qr/^dbopt_partition_runway_seconds\{[^}]*parent="app.\\"ev \\"\\"q\\"\\"; x\\\\y\\""[^}]*\} [0-9.e+]+$/m,
		'partition runway of a table with a quote, a backslash and a semicolon in its name');
	like($body, qr/^dbopt_snapshot_age_seconds(\{[^}]*\})? [0-9.e+-]+$/m, 'snapshot age, a number');

	$h->signal('TERM');
	$h->finish;
}

$node->stop;
done_testing();
