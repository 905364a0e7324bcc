# Perl TAP: every fix_sql a report prints runs, as printed, on the state it
# describes, and leaves no debris (no new invalid index, no _ccnew).
#
# The runner finds the reports itself: every function in schema dbopt with
# a fix_sql output column, no required argument, and EXECUTE for pg_monitor
# (the read-only reports).  Each fix runs in its own psql session with
# ON_ERROR_STOP, statement by statement as a person pasting it would, so
# CONCURRENTLY statements run outside a transaction.
use strict;
use warnings;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;

my $node = PostgreSQL::Test::Cluster->new('fixsql');
$node->init;
# The OS user, and so the test role, may be called dbopt: keep "$user" out
# of the search path so tables land in public.
$node->append_conf('postgresql.conf', qq{
shared_preload_libraries = 'dbopt, pg_stat_statements'
dbopt.enable_worker = off
search_path = public
});
$node->start;

$node->safe_psql('postgres', q{
	CREATE EXTENSION dbopt CASCADE;

	-- (a) invalid unique indexes: one over duplicated keys, one whose
	-- duplicates are gone, and the _ccnew leftover of a REINDEX
	-- CONCURRENTLY that failed on duplicates.
	CREATE TABLE dup_keys (email text);
	INSERT INTO dup_keys VALUES ('a'), ('a'), ('b');
	CREATE TABLE dup_gone (email text);
	INSERT INTO dup_gone VALUES ('a'), ('a'), ('b');
	CREATE TABLE dup_left (email text);
	INSERT INTO dup_left VALUES ('x'), ('x');

	-- (b) int4 serials at 93%: one referenced by a foreign key whose
	-- column is int4 too; one with the same and a view on the key.
	CREATE TABLE seq_parent (id serial PRIMARY KEY, v text);
	CREATE TABLE seq_child (parent_id int PRIMARY KEY REFERENCES seq_parent);
	CREATE TABLE seq_grandchild (child_id int REFERENCES seq_child);
	SELECT setval('seq_parent_id_seq', 1997160000);
	INSERT INTO seq_parent VALUES (DEFAULT, 'p');
	INSERT INTO seq_child SELECT id FROM seq_parent;
	CREATE TABLE viewed_parent (id serial PRIMARY KEY);
	CREATE TABLE viewed_child (parent_id int REFERENCES viewed_parent);
	SELECT setval('viewed_parent_id_seq', 1997160000);
	CREATE VIEW viewed_ids AS SELECT parent_id FROM viewed_child;

	-- An int4 identity near its limit, no foreign key.
	CREATE TABLE ident (id int GENERATED ALWAYS AS IDENTITY);
	SELECT setval(pg_get_serial_sequence('ident', 'id'), 2000000000);

	-- Indexes: a duplicate pair and a redundant one; an unindexed
	-- foreign key.
	CREATE TABLE idx_t (a int, b int);
	CREATE INDEX idx_t_a1 ON idx_t (a);
	CREATE INDEX idx_t_a2 ON idx_t (a);
	CREATE INDEX idx_t_ab ON idx_t (a, b);
	CREATE TABLE fk_parent (id int PRIMARY KEY);
	INSERT INTO fk_parent VALUES (1);
	CREATE TABLE fk_child (parent_id int REFERENCES fk_parent);

	-- Constraints: NOT VALID and clean, NOT VALID with orphans, a
	-- disabled foreign key trigger.
	CREATE TABLE nv (id int PRIMARY KEY, n int);
	INSERT INTO nv VALUES (1, 1);
	ALTER TABLE nv ADD CONSTRAINT nv_pos CHECK (n > 0) NOT VALID;
	CREATE TABLE orphans (parent_id int);
	INSERT INTO orphans VALUES (1), (2);
	ALTER TABLE orphans ADD CONSTRAINT orphans_fk FOREIGN KEY (parent_id) REFERENCES fk_parent NOT VALID;
	CREATE TABLE trig_child (parent_id int REFERENCES fk_parent);
	ALTER TABLE trig_child DISABLE TRIGGER ALL;

	-- A collation whose recorded version no longer matches.
	CREATE COLLATION coll_x (provider = icu, locale = 'und');
	CREATE TABLE colltab (t text COLLATE coll_x);
	CREATE INDEX colltab_t_idx ON colltab (t);
	UPDATE pg_collation SET collversion = '0.1' WHERE collname = 'coll_x';
});
# Each CREATE INDEX CONCURRENTLY fails on the duplicates, leaving it invalid.
for my $t ('dup_keys', 'dup_gone', 'dup_left')
{
	my ($rc) = $node->psql('postgres', "CREATE UNIQUE INDEX CONCURRENTLY ${t}_email_key ON $t (email)");
	isnt($rc, 0, "the unique index on $t fails to build");
}
$node->safe_psql('postgres', q{DELETE FROM dup_gone WHERE ctid <> (SELECT min(ctid) FROM dup_gone WHERE email = 'a') AND email = 'a'});
my ($rc) = $node->psql('postgres', 'REINDEX INDEX CONCURRENTLY dup_left_email_key');
isnt($rc, 0, 'REINDEX CONCURRENTLY fails on duplicates');
is($node->safe_psql('postgres',
	q{SELECT count(*) FROM pg_class WHERE relname = 'dup_left_email_key_ccnew'}),
	'1', 'and leaves a _ccnew index behind');

my $invalid_sql = q{SELECT coalesce(string_agg(indexrelid::regclass::text, ',' ORDER BY 1), '')
	FROM pg_index WHERE NOT indisvalid};
my %invalid_before = map { $_ => 1 } split /,/, $node->safe_psql('postgres', $invalid_sql);

# The reports: read-only (granted to pg_monitor), callable without
# arguments, returning fix_sql.
my @reports = split /\n/, $node->safe_psql('postgres', q{
	SELECT p.oid::regproc::text FROM pg_proc p
	 WHERE p.pronamespace = 'dbopt'::regnamespace
	   AND 'fix_sql' = ANY (p.proargnames)
	   AND p.pronargs = p.pronargdefaults
	   AND has_function_privilege('pg_monitor', p.oid, 'EXECUTE')
	 ORDER BY 1});
ok(scalar(grep { $_ eq 'dbopt.check_data_integrity' } @reports), 'check_data_integrity is among the reports');
ok(scalar(grep { $_ eq 'dbopt.analyze_index_usage' } @reports), 'analyze_index_usage is among the reports');
ok(scalar(grep { $_ eq 'dbopt.find_unindexed_foreign_keys' } @reports), 'find_unindexed_foreign_keys is among the reports');
note('reports: ' . join(', ', @reports));

# Collect every fix first, so that each runs on the state its report saw.
my @fixes;
for my $r (@reports)
{
	my $out = $node->safe_psql('postgres',
		"SELECT coalesce(object_name, '') || E'\\x1f' || fix_sql FROM (SELECT * FROM $r()) f"
		. " WHERE fix_sql IS NOT NULL",
		extra_params => [ '-R', "\x1e" ]) if $r ne 'dbopt.analyze_index_usage';
	$out = $node->safe_psql('postgres',
		"SELECT indexname || E'\\x1f' || fix_sql FROM $r() WHERE fix_sql IS NOT NULL",
		extra_params => [ '-R', "\x1e" ]) if $r eq 'dbopt.analyze_index_usage';
	for my $row (split /\x1e/, $out)
	{
		my ($obj, $fix) = split /\x1f/, $row, 2;
		next unless defined $fix;
		push @fixes, [ $r, $obj, $fix ];
	}
}
ok(scalar(@fixes) >= 8, 'the scenarios produce fixes (' . scalar(@fixes) . ')');

my %fix_of;
my %ran;
for my $f (@fixes)
{
	my ($r, $obj, $fix) = @$f;
	$fix_of{"$r $obj"} = $fix;
	# Two reports may offer the same fix (a _ccnew leftover): run it once.
	next if $ran{$fix}++;
	my ($frc, $stdout, $stderr) = $node->psql('postgres', $fix, on_error_stop => 1);
	is($frc, 0, "$r: fix for $obj runs") or diag("fix_sql: $fix\nerror: $stderr");
}

# (a): no fix for the duplicated keys, a listing query instead; the
# leftover is dropped, the clean one rebuilt.
ok(!exists $fix_of{'dbopt.check_data_integrity public.dup_keys_email_key'},
	'no fix_sql for an invalid unique index over duplicated keys');
ok(!exists $fix_of{'dbopt.analyze_index_usage dup_keys_email_key'},
	'analyze_index_usage offers no rebuild over duplicated keys either');
like($node->safe_psql('postgres', q{
	SELECT remediation FROM dbopt.check_data_integrity('dup_keys') WHERE check_name = 'invalid_unique_index'}),
	qr/Resolve the duplicates first .*SELECT \(email\), count\(\*\) FROM ONLY public\.dup_keys/,
	'the remediation gives the query that lists the duplicates');
is($node->safe_psql('postgres', q{
	SELECT count(*) FROM pg_class WHERE relname LIKE '%\_ccnew%'}), '0', 'the _ccnew leftover is gone');
is($node->safe_psql('postgres', q{
	SELECT indisvalid FROM pg_index WHERE indexrelid = 'dup_gone_email_key'::regclass}), 't',
	'the invalid unique index without duplicates was rebuilt');

# (b): the foreign key chain became bigint with the key; the viewed one
# has no fix and names the view.
is($node->safe_psql('postgres', q{
	SELECT string_agg(attrelid::regclass || '.' || attname || ':' || format_type(atttypid, NULL), ',' ORDER BY attrelid::regclass::text)
	  FROM pg_attribute WHERE attname IN ('id', 'parent_id', 'child_id')
	   AND attrelid IN ('seq_parent'::regclass, 'seq_child'::regclass, 'seq_grandchild'::regclass)}),
	'seq_child.parent_id:bigint,seq_grandchild.child_id:bigint,seq_parent.id:bigint',
	'the sequence fix widened the key and every column referencing it');
is($node->safe_psql('postgres', q{SELECT format_type(seqtypid, NULL) FROM pg_sequence WHERE seqrelid = 'seq_parent_id_seq'::regclass}),
	'bigint', 'and the sequence');
is($node->safe_psql('postgres', q{SELECT format_type(seqtypid, NULL) FROM pg_sequence WHERE seqrelid = pg_get_serial_sequence('ident', 'id')::regclass}),
	'bigint', 'the identity sequence became bigint with its column');
ok(!exists $fix_of{'dbopt.check_data_integrity public.viewed_parent_id_seq'},
	'no fix_sql when a view blocks ALTER COLUMN TYPE');
like($node->safe_psql('postgres', q{
	SELECT remediation FROM dbopt.check_data_integrity('viewed_parent') WHERE check_name = 'sequence_exhaustion'}),
	qr/public\.viewed_child\.parent_id.*view public\.viewed_ids/,
	'the remediation names the referencing column and the view');

# Debris: no index is newly invalid.
my @new_invalid = grep { !$invalid_before{$_} } split /,/, $node->safe_psql('postgres', $invalid_sql);
is_deeply(\@new_invalid, [], 'no fix left a new invalid index');

# Run the data reports again: every fix did its job, so none is offered
# again (a next step, such as VALIDATE after deleting orphans, may be).
my @again;
for my $f (@fixes)
{
	my ($r, $obj, $fix) = @$f;
	next if $r eq 'dbopt.status' || $r eq 'dbopt.health_check' || $r eq 'dbopt.validate_security_configuration';
	push @again, "$r $obj" if $node->safe_psql('postgres',
		"SELECT count(*) FROM $r() WHERE fix_sql = " . "'" . ($fix =~ s/'/''/gr) . "'") ne '0';
}
is_deeply(\@again, [], 'after the fixes no data report offers the same fix again');

$node->stop;
done_testing();
