# Perl TAP: the security checks that read the server's configuration, which
# a test cannot change from SQL: pg_hba.conf, ssl, log_connections,
# log_disconnections and data checksums.  A default test cluster fails
# them; a hardened one (checksums, a certificate, peer and hostssl scram
# only, connection logging) passes them.
use strict;
use warnings;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;

my @config_checks = qw(data_checksums_off logging_connections pg_hba_host_without_ssl pg_hba_md5
  pg_hba_password pg_hba_trust ssl_off);

sub states
{
	my ($node) = @_;
	my $list = join(',', map { "'$_'" } @config_checks);
	my %state;
	for my $line (split /\n/, $node->safe_psql('postgres', qq{
		SELECT check_name, string_agg(DISTINCT severity, ',' ORDER BY severity)
		  FROM dbopt.validate_security_configuration(include_passed => true)
		 WHERE check_name IN ($list) GROUP BY 1}))
	{
		my ($check, $sev) = split /\|/, $line;
		$state{$check} = $sev;
	}
	return \%state;
}

my $conf = "shared_preload_libraries = 'dbopt, pg_stat_statements'\ndbopt.enable_worker = off\n";

# A default test cluster: trust in pg_hba.conf, no SSL, no checksums.
my $plain = PostgreSQL::Test::Cluster->new('plain');
$plain->init;
$plain->append_conf('postgresql.conf', $conf);
$plain->append_conf('pg_hba.conf', "host all all 10.1.0.0/16 password\nhost all all 10.2.0.0/16 md5\n");
$plain->start;
$plain->safe_psql('postgres', 'CREATE EXTENSION dbopt CASCADE');
my $s = states($plain);
is($s->{pg_hba_trust}, 'critical,warning', 'pg_hba_trust: TCP trust lines are critical, local ones warnings');
is($s->{pg_hba_password}, 'critical', 'pg_hba_password: a line with password');
is($s->{pg_hba_md5}, 'warning', 'pg_hba_md5: a line with md5');
is($s->{pg_hba_host_without_ssl}, 'warning', 'pg_hba_host_without_ssl: host lines');
is($s->{ssl_off}, 'warning', 'ssl_off');
is($s->{logging_connections}, 'warning', 'logging_connections');
is($s->{data_checksums_off}, 'warning', 'data_checksums_off');

# A hardened one.
my $hard = PostgreSQL::Test::Cluster->new('hardened');
$hard->init(extra => ['--data-checksums']);
my $data = $hard->data_dir;
system_or_bail('openssl', 'req', '-new', '-x509', '-days', '2', '-nodes', '-subj', '/CN=localhost',
	'-keyout', "$data/server.key", '-out', "$data/server.crt");
chmod 0600, "$data/server.key";
$hard->append_conf('postgresql.conf',
	$conf . "ssl = on\nlog_connections = on\nlog_disconnections = on\npassword_encryption = 'scram-sha-256'\n");
open(my $hba, '>', "$data/pg_hba.conf") or die $!;
print $hba "local all all peer\nhostssl all all 127.0.0.1/32 scram-sha-256\nhostnossl all all 0.0.0.0/0 reject\n";
close($hba);
$hard->start;
$hard->safe_psql('postgres', 'CREATE EXTENSION dbopt CASCADE');
$s = states($hard);
for my $check (@config_checks)
{
	is($s->{$check}, 'ok', "$check passes on the hardened cluster");
}

done_testing();
