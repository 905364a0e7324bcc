# Perl TAP: run_checks() alerts.  A session that LISTENs on dbopt_alerts
# receives one JSON payload for a new critical finding (orphan rows under a
# foreign key marked valid whose trigger is disabled: fk_orphan_rows,
# critical), and nothing when the next run sees the same finding again, or
# when notify is false.
use strict;
use warnings;
use JSON::PP;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;

my $node = PostgreSQL::Test::Cluster->new('alerts');
$node->init;
$node->append_conf('postgresql.conf', qq{
shared_preload_libraries = 'dbopt, pg_stat_statements'
dbopt.enable_worker = off
});
$node->start;
$node->safe_psql('postgres', q{
	CREATE EXTENSION dbopt CASCADE;
	CREATE TABLE parent (id int PRIMARY KEY);
	CREATE TABLE child (id int PRIMARY KEY, parent_id int REFERENCES parent);
	CREATE INDEX ON child (parent_id);
	ALTER TABLE child DISABLE TRIGGER ALL;
	INSERT INTO child VALUES (1, 42);
});

my $listener = $node->background_psql('postgres');
$listener->query_safe('LISTEN dbopt_alerts');

# The payloads the listener has received by now.
sub received
{
	my $out = $listener->query_safe('SELECT 1');
	return map { decode_json($_) }
	  ($out =~ /^Asynchronous notification "dbopt_alerts" with payload "(.*)" received from server process/mg);
}

my $rows = $node->safe_psql('postgres', q{
	SELECT severity || ' ' || check_name || ' ' || new FROM dbopt.run_checks(ARRAY['check_data_integrity'])
	 WHERE check_name = 'fk_orphan_rows'});
is($rows, 'critical fk_orphan_rows true', 'the orphan row is a new critical finding');
my $run_id = $node->safe_psql('postgres', 'SELECT max(run_id) FROM dbopt.check_runs');
my $first_seen = $node->safe_psql('postgres',
	q{SELECT first_seen FROM dbopt.findings WHERE check_name = 'fk_orphan_rows'});

my @alerts = received();
my @fk = grep { $_->{check_name} eq 'fk_orphan_rows' } @alerts;
is(scalar @fk, 1, 'the listening session receives one notification for it');
my $a = $fk[0] // {};
is($a->{severity}, 'critical', 'payload: severity');
is($a->{report}, 'check_data_integrity', 'payload: report');
like($a->{object_name} // '', qr/child/, 'payload: object_name names the referencing table');
like($a->{detail} // '', qr/\S/, 'payload: detail');
is($a->{run_id}, $run_id, 'payload: run_id of the run that opened it');
is($a->{first_seen}, $first_seen, 'payload: first_seen as recorded');
is($a->{database}, 'postgres', 'payload: database');
is(scalar(grep { $_->{severity} ne 'critical' } @alerts), 0, 'only critical findings are sent');

# The same finding seen again: not new, no alert.
$rows = $node->safe_psql('postgres', q{
	SELECT new FROM dbopt.run_checks(ARRAY['check_data_integrity']) WHERE check_name = 'fk_orphan_rows'});
is($rows, 'f', 'the second run sees the same episode');
is(scalar(received()), 0, 'and sends nothing');

# A new critical finding with notify => false: recorded, not sent.
$node->safe_psql('postgres', q{
	CREATE TABLE child2 (id int PRIMARY KEY, parent_id int REFERENCES parent);
	ALTER TABLE child2 DISABLE TRIGGER ALL;
	INSERT INTO child2 VALUES (1, 43);
});
$rows = $node->safe_psql('postgres', q{
	SELECT count(*) FROM dbopt.run_checks(ARRAY['check_data_integrity'], notify => false)
	 WHERE check_name = 'fk_orphan_rows' AND new});
is($rows, '1', 'a second orphan is new');
is(scalar(received()), 0, 'notify => false sends nothing');

$listener->quit;
$node->stop;
done_testing();
