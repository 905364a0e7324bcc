# Perl TAP: privilege attacks on dbopt.  Each block reproduces one way for
# a lesser role to get its own code run with a superuser's rights, and
# asserts only that the attacker gained nothing: its payload never ran as a
# superuser (no pwned row says so, no server log line says so) and the
# attacker is still not a superuser.  Whether the dbopt call itself then
# succeeds or fails is not checked.
#
#  1. A pg_monitor member with nothing but TEMP shadows the type "oid" in
#     pg_temp, (a) as an enum with a cast from regclass, (b) as a domain
#     whose CHECK calls its function; analyze_partition_distribution()
#     reads dbopt.partition_config as the extension owner with
#     "parent::oid" and runs it.
#  2. A pg_monitor member puts an operator =(oid, integer) in its own
#     schema, first on its search_path; the same read ("$1 = 0") runs it.
#  3. A role granted EXECUTE on apply_data_retention_policies(boolean)
#     shadows "oid" in its own schema on search_path (explicitly before
#     pg_catalog) and calls it with dry_run => true.
#  4. A database owner sets the database's search_path to its own schema
#     first and there defines clock_timestamp() and now(); the job workers
#     of a job the superuser scheduled (and a scheduler that starts after
#     the change) call them as a superuser.
#  5. A role granted schedule_job() schedules an sql job that (a) inserts
#     into a table with a deferred constraint trigger, which fires at the
#     worker's commit, or (b) sets search_path to its own schema with a
#     clock_timestamp(), which the run's bookkeeping then calls.
#  6. A superuser's maintenance runs the table owner's (alice's) code as a
#     superuser: (a) a BEFORE DELETE trigger under
#     apply_data_retention_policies(); (b) an IMMUTABLE function in a NOT
#     VALID CHECK under check_data_integrity() and validate_constraints();
#     (c) an IMMUTABLE function the planner folds in a statement that
#     pg_stat_statements recorded, under suggest_indexes(); (d) an operator
#     =(oid, integer) in a writable public schema, under
#     run_partition_maintenance(dry_run => true).
#  7. max_runtime: an sql job that traps query_canceled keeps running past
#     it, and is recorded as succeeded.
use strict;
use warnings;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use Time::HiRes qw(time sleep);

my $node = PostgreSQL::Test::Cluster->new('attacks');
$node->init;
$node->append_conf('postgresql.conf', qq{
shared_preload_libraries = 'dbopt, pg_stat_statements'
max_worker_processes = 20
dbopt.launcher_naptime = '1s'
});
$node->start;

# ---------- helpers ----------

# The attacker's payload, as PL/pgSQL statements: record who runs it and
# whether that role is a superuser, say so in the server log when it is
# one (a trace a rolled-back transaction leaves too), and try to make the
# attacker a superuser.  Every name is qualified: it may run under a
# hijacked search_path.  $label is an SQL expression.
sub payload
{
	my ($label, $attacker) = @_;
	return qq{
	INSERT INTO public.pwned
	  SELECT current_user, r.rolsuper, $label FROM pg_catalog.pg_roles r
	   WHERE r.rolname OPERATOR(pg_catalog.=) current_user;
	IF (SELECT r.rolsuper FROM pg_catalog.pg_roles r WHERE r.rolname OPERATOR(pg_catalog.=) current_user) THEN
	  RAISE WARNING 'dbopt-attack %: payload ran as % with superuser rights', $label, current_user;
	END IF;
	BEGIN
	  ALTER ROLE $attacker SUPERUSER;
	EXCEPTION WHEN OTHERS THEN NULL;
	END;};
}

# CREATE FUNCTION <head> in PL/pgSQL (SECURITY INVOKER, the default) with body.
sub plpgsql
{
	my ($head, $body) = @_;
	return "CREATE FUNCTION $head LANGUAGE plpgsql AS \$fn\$\nBEGIN$body\nEND\n\$fn\$;\n";
}

# Run SQL as a role (undef: the superuser) with psql, not safe_psql: a
# refused or failing dbopt call must not end the test.
sub attempt
{
	my ($db, $role, $sql) = @_;
	my %conn = defined $role ? (connstr => $node->connstr($db) . " user=$role") : ();
	my ($ret, $out, $err) = $node->psql($db, $sql, %conn);
	note('psql as ' . ($role // 'the superuser') . " in $db exited $ret: $err") if $ret != 0;
	return $ret;
}

# Every check query pins its own search_path: database 'victim' has a
# hostile one.
sub query
{
	my ($db, $sql) = @_;
	return $node->safe_psql($db, "SET search_path = pg_catalog, pg_temp;\n$sql");
}

# Poll a boolean query until it is true or the deadline (time()) passes;
# it is asked at least once.
sub wait_for
{
	my ($db, $sql, $deadline) = @_;
	while (1)
	{
		return 1 if query($db, $sql) eq 't';
		return 0 if time() >= $deadline;
		sleep(0.25);
	}
}

sub log_offset { return -s $node->logfile; }

# The assertions: nothing gained.  Then a clean slate for the next attack
# (the evidence out, the attacker's rights back), so that one attack that
# works does not make the next one look as if it did.
sub attacker_gained_nothing
{
	my ($db, $label, $attacker, $offset, $what) = @_;
	my @trace = grep { /dbopt-attack \Q$label\E: payload ran as \S+ with superuser rights/ }
	  split /\n/, slurp_file($node->logfile, $offset);

	is(query($db, "SELECT count(*) FROM public.pwned WHERE super AND what = '$label'"),
		'0', "$what: the payload did not run as a superuser");
	is(scalar(@trace), 0, "$what: no superuser run of the payload in the server log");
	is(query('postgres', "SELECT rolsuper FROM pg_roles WHERE rolname = '$attacker'"),
		'f', "$what: $attacker is still not a superuser");
	query($db, "DELETE FROM public.pwned WHERE what = '$label'");
	query('postgres', "ALTER ROLE $attacker NOSUPERUSER");
}

# ---------- the database, its managed partitioned table, the roles ----------

$node->safe_psql('postgres', 'CREATE DATABASE app');
$node->safe_psql('app', q{
	CREATE EXTENSION dbopt CASCADE;
	CREATE TABLE public.pwned (who name, super bool, what text);
	GRANT INSERT ON public.pwned TO PUBLIC;
	CREATE TABLE public."odd ""name; x" (at timestamptz NOT NULL, v int) PARTITION BY RANGE (at);
	CREATE ROLE mon1 LOGIN IN ROLE pg_monitor;
	CREATE ROLE mon2 LOGIN IN ROLE pg_monitor;
	CREATE SCHEMA mon2 AUTHORIZATION mon2;
	CREATE ROLE atk3 LOGIN;
	CREATE SCHEMA atk3 AUTHORIZATION atk3;
	GRANT USAGE ON SCHEMA dbopt TO atk3;
	GRANT EXECUTE ON FUNCTION dbopt.apply_data_retention_policies(boolean) TO atk3;
	CREATE ROLE atk5a LOGIN;
	CREATE SCHEMA atk5a AUTHORIZATION atk5a;
	CREATE ROLE atk5b LOGIN;
	CREATE SCHEMA atk5b AUTHORIZATION atk5b;
	GRANT USAGE ON SCHEMA dbopt TO atk5a, atk5b;
	GRANT EXECUTE ON FUNCTION dbopt.schedule_job(text, text, text, text, interval, integer, boolean) TO atk5a, atk5b;
	CREATE ROLE alice LOGIN;
	CREATE SCHEMA alice AUTHORIZATION alice;
	GRANT USAGE ON SCHEMA dbopt TO alice;
	GRANT EXECUTE ON FUNCTION dbopt.add_retention_policy(regclass, name, interval, text, regclass, integer, bigint, boolean, text), dbopt.add_retention_policy(regclass, name, text, text, regclass, integer, bigint, boolean, text) TO alice;
	CREATE TABLE public.events (id int, at timestamptz NOT NULL);
	INSERT INTO public.events SELECT g, now() - g * interval '1 day' FROM generate_series(1, 50) g;
});
attempt('app', undef, q{
	SELECT dbopt.manage_partitions('public."odd ""name; x"', '1 day', 3);
	SELECT count(*) FROM dbopt.create_future_partitions();
	SELECT dbopt.add_retention_policy('public.events', 'at', '10 days');
});
query('app', 'SELECT count(*) FROM dbopt.partition_config') eq '1'
  or die 'setup: the partitioned table is not managed';

# ---------- background attacks first: their jobs run while the rest goes on ----------

# 7. max_runtime '3 seconds'; the command swallows the cancel, 60 x 0.5 s.
attempt('app', undef, q{
	SELECT dbopt.schedule_job('stubborn', 'sql', '1 hour',
	  'DO $d$BEGIN FOR i IN 1..60 LOOP BEGIN PERFORM pg_sleep(0.5); EXCEPTION WHEN query_canceled THEN NULL; END; END LOOP; END$d$',
	  max_runtime => '3 seconds');
	UPDATE dbopt.jobs SET next_run_at = now() WHERE job_name = 'stubborn';
});

# 4. The database owner's search_path, met by the workers of the superuser's job.
my $off4 = log_offset();
$node->safe_psql('postgres', q{
	CREATE ROLE dbowner LOGIN;
	CREATE DATABASE victim OWNER dbowner;
});
$node->safe_psql('victim', q{
	CREATE EXTENSION dbopt CASCADE;
	CREATE TABLE public.pwned (who name, super bool, what text);
	GRANT INSERT ON public.pwned TO PUBLIC;
	CREATE TABLE public.ticks (at timestamptz DEFAULT pg_catalog.clock_timestamp());
});
attempt('victim', undef,
	q{SELECT dbopt.schedule_job('tick', 'sql', '1 second', 'INSERT INTO public.ticks DEFAULT VALUES')});
my $base4 = query('victim', 'SELECT coalesce(max(run_id), 0) FROM dbopt.job_runs');
attempt('victim', 'dbowner',
	"CREATE SCHEMA own;\n"
	  . plpgsql('own.clock_timestamp() RETURNS timestamptz',
		payload("'a4'", 'dbowner') . "\n\tRETURN pg_catalog.clock_timestamp();")
	  . plpgsql('own.now() RETURNS timestamptz',
		payload("'a4'", 'dbowner') . "\n\tRETURN pg_catalog.now();")
	  . "ALTER DATABASE victim SET search_path = own, pg_catalog;\n");
my $deadline4 = time() + 8;

# 5. A job's commit and its bookkeeping, after the job's own SQL.
my $off5 = log_offset();
attempt('app', 'atk5a',
	"CREATE TABLE atk5a.bait (x int);\n"
	  . plpgsql('atk5a.late() RETURNS trigger', payload("'a5a'", 'atk5a') . "\n\tRETURN NULL;")
	  . q{CREATE CONSTRAINT TRIGGER late AFTER INSERT ON atk5a.bait
	        DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION atk5a.late();
	      SELECT dbopt.schedule_job('a5a', 'sql', '1 second', 'INSERT INTO atk5a.bait VALUES (1)');});
attempt('app', 'atk5b',
	plpgsql('atk5b.clock_timestamp() RETURNS timestamptz',
		payload("'a5b'", 'atk5b') . "\n\tRETURN pg_catalog.clock_timestamp();")
	  . q{SELECT dbopt.schedule_job('a5b', 'sql', '1 second', 'SET search_path = atk5b, pg_catalog');});
my $deadline5 = time() + 8;

# ---------- 1. pg_temp.oid, by a pg_monitor member with only TEMP ----------

my $off = log_offset();
attempt('app', 'mon1',
	"CREATE TYPE pg_temp.oid AS ENUM ('hijacked');\n"
	  . plpgsql('pg_temp.to_oid(r pg_catalog.regclass) RETURNS pg_temp.oid',
		payload("'a1-cast'", 'mon1') . "\n\tRETURN 'hijacked';")
	  . q{CREATE CAST (pg_catalog.regclass AS pg_temp.oid) WITH FUNCTION pg_temp.to_oid(pg_catalog.regclass);
	      SELECT count(*) FROM dbopt.analyze_partition_distribution();});
attacker_gained_nothing('app', 'a1-cast', 'mon1', $off,
	'1a pg_temp.oid enum with a cast, analyze_partition_distribution()');

$off = log_offset();
attempt('app', 'mon1',
	plpgsql('pg_temp.check_oid(v pg_catalog.oid) RETURNS boolean',
		payload("'a1-domain'", 'mon1') . "\n\tRETURN true;")
	  . q{CREATE DOMAIN pg_temp.oid AS pg_catalog.oid CHECK (pg_temp.check_oid(VALUE));
	      SELECT count(*) FROM dbopt.analyze_partition_distribution();});
attacker_gained_nothing('app', 'a1-domain', 'mon1', $off,
	'1b pg_temp.oid domain with a CHECK, analyze_partition_distribution()');

# ---------- 2. =(oid, integer) in the pg_monitor member's own schema ----------

$off = log_offset();
attempt('app', 'mon2',
	"SET search_path = mon2, public;\n"
	  . plpgsql('mon2.oid_is(a pg_catalog.oid, b integer) RETURNS boolean',
		payload("'a2'", 'mon2') . "\n\tRETURN a OPERATOR(pg_catalog.=) b::pg_catalog.oid;")
	  . q{CREATE OPERATOR mon2.= (LEFTARG = pg_catalog.oid, RIGHTARG = integer, FUNCTION = mon2.oid_is);
	      SELECT count(*) FROM dbopt.analyze_partition_distribution();});
attacker_gained_nothing('app', 'a2', 'mon2', $off,
	'2 operator =(oid, integer) first on search_path, analyze_partition_distribution()');

# ---------- 3. a retention dry run by a role granted EXECUTE ----------

$off = log_offset();
attempt('app', 'atk3',
	plpgsql('atk3.check_oid(v pg_catalog.oid) RETURNS boolean',
		payload("'a3'", 'atk3') . "\n\tRETURN true;")
	  . q{CREATE DOMAIN atk3.oid AS pg_catalog.oid CHECK (atk3.check_oid(VALUE));
	      SET search_path = atk3, pg_catalog;
	      SELECT count(*) FROM dbopt.apply_data_retention_policies(dry_run => true);});
attacker_gained_nothing('app', 'a3', 'atk3', $off,
	'3 type oid shadowed on search_path, apply_data_retention_policies(dry_run => true)');

# ---------- 6. a superuser's maintenance and alice's code ----------

# alice's payload, called by each of her functions below with its label.
attempt('app', 'alice', plpgsql('alice.pwn(label text) RETURNS void', payload('label', 'alice')));

# 6a. A BEFORE DELETE trigger on alice's table under her retention policy.
$node->safe_psql('app', q{
	CREATE TABLE alice."odd ""name; x" (id int, at timestamptz NOT NULL);
	INSERT INTO alice."odd ""name; x" SELECT g, now() - g * interval '1 day' FROM generate_series(1, 50) g;
	ALTER TABLE alice."odd ""name; x" OWNER TO alice;
});
attempt('app', 'alice', q{
	CREATE FUNCTION alice.on_delete() RETURNS trigger LANGUAGE plpgsql AS $fn$
	BEGIN PERFORM alice.pwn('a6a'); RETURN OLD; END $fn$;
	CREATE TRIGGER on_delete BEFORE DELETE ON alice."odd ""name; x" FOR EACH ROW EXECUTE FUNCTION alice.on_delete();
	SELECT dbopt.add_retention_policy('alice."odd ""name; x"', 'at', '10 days');
});
$off = log_offset();
attempt('app', undef, q{SELECT * FROM dbopt.apply_data_retention_policies(dry_run => false)});
attacker_gained_nothing('app', 'a6a', 'alice', $off,
	'6a alice\'s BEFORE DELETE trigger, a superuser\'s apply_data_retention_policies()');

# 6b. An IMMUTABLE function in a NOT VALID CHECK of alice's table.
attempt('app', 'alice', q{
	CREATE FUNCTION alice.is_positive(v int) RETURNS boolean LANGUAGE plpgsql IMMUTABLE AS $fn$
	BEGIN PERFORM alice.pwn('a6b'); RETURN v > 0; END $fn$;
	CREATE TABLE alice.checked (v int);
	INSERT INTO alice.checked VALUES (1), (2), (-3);
	ALTER TABLE alice.checked ADD CONSTRAINT positive CHECK (alice.is_positive(v)) NOT VALID;
});
$off = log_offset();
attempt('app', undef, q{SELECT * FROM dbopt.check_data_integrity()});
attacker_gained_nothing('app', 'a6b', 'alice', $off,
	'6b alice\'s function in a CHECK, a superuser\'s check_data_integrity()');
$off = log_offset();
attempt('app', undef, q{SELECT * FROM dbopt.validate_constraints('alice.checked', dry_run => true)});
attacker_gained_nothing('app', 'a6b', 'alice', $off,
	'6b alice\'s function in a NOT VALID CHECK, a superuser\'s validate_constraints(dry_run => true)');

# 6c. An IMMUTABLE function the planner folds, in alice's recorded statement.
$node->safe_psql('app', q{
	CREATE TABLE alice.big (id int, pad text);
	INSERT INTO alice.big SELECT g, repeat('x', 60) FROM generate_series(1, 100000) g;
	ALTER TABLE alice.big OWNER TO alice;
	ANALYZE alice.big;
});
attempt('app', 'alice', q{
	CREATE FUNCTION alice.answer() RETURNS int LANGUAGE plpgsql IMMUTABLE AS $fn$
	BEGIN PERFORM alice.pwn('a6c'); RETURN 42; END $fn$;
	SELECT * FROM alice.big WHERE id = alice.answer();
	SELECT * FROM alice.big WHERE id = alice.answer();
	SELECT * FROM alice.big WHERE id = alice.answer();
});
query('app', q{SELECT count(*) > 0 FROM dbopt.pg_stat_statements WHERE query LIKE '%alice.answer()%'}) eq 't'
  or die 'setup: pg_stat_statements did not record alice\'s statement';
$off = log_offset();
attempt('app', undef, q{SELECT * FROM dbopt.suggest_indexes(min_calls => 1, min_mean_ms => 0)});
attacker_gained_nothing('app', 'a6c', 'alice', $off,
	'6c alice\'s folded IMMUTABLE function, a superuser\'s suggest_indexes()');

# 6d. =(oid, integer) in a public schema anyone may create in.
$node->safe_psql('app', 'GRANT CREATE ON SCHEMA public TO PUBLIC');
attempt('app', 'alice', q{
	CREATE FUNCTION public.oid_is(a pg_catalog.oid, b integer) RETURNS boolean LANGUAGE plpgsql AS $fn$
	BEGIN PERFORM alice.pwn('a6d'); RETURN a OPERATOR(pg_catalog.=) b::pg_catalog.oid; END $fn$;
	CREATE OPERATOR public.= (LEFTARG = pg_catalog.oid, RIGHTARG = integer, FUNCTION = public.oid_is);
});
$off = log_offset();
attempt('app', undef, q{SET search_path = "$user", public;    -- the default, said out loud
	SELECT * FROM dbopt.run_partition_maintenance(dry_run => true)});
attacker_gained_nothing('app', 'a6d', 'alice', $off,
	'6d alice\'s operator in public, a superuser\'s run_partition_maintenance(dry_run => true)');

# 6e. The reads added for issue #19 (rows a foreign key references, another
# tool's partition catalog) under a superuser whose search_path puts public
# before pg_catalog: alice's operator on her own domain sits in public.
attempt('app', undef, q{CREATE SCHEMA partman; CREATE EXTENSION pg_partman SCHEMA partman;});
attempt('app', 'alice', q{
	CREATE DOMAIN alice.ts AS timestamptz;
	CREATE FUNCTION public.ts_lt(a alice.ts, b timestamptz) RETURNS boolean LANGUAGE plpgsql AS $fn$
	BEGIN PERFORM alice.pwn('a6e'); RETURN a::timestamptz OPERATOR(pg_catalog.<) b; END $fn$;
	CREATE OPERATOR public.< (LEFTARG = alice.ts, RIGHTARG = timestamptz, FUNCTION = public.ts_lt);
	CREATE TABLE alice.rentals (id int PRIMARY KEY, at alice.ts NOT NULL);
	INSERT INTO alice.rentals SELECT g, now() - g * interval '1 day' FROM generate_series(1, 40) g;
	CREATE TABLE alice.payments (rental_id int REFERENCES alice.rentals);
	INSERT INTO alice.payments SELECT generate_series(20, 25);
	SELECT dbopt.add_retention_policy('alice.rentals', 'at', '10 days');
});
$off = log_offset();
attempt('app', undef, q{SET search_path = public, pg_catalog;
	SELECT * FROM dbopt.apply_data_retention_policies(dry_run => true);
	SELECT * FROM dbopt.apply_data_retention_policies();
	SELECT * FROM dbopt.run_partition_maintenance(dry_run => true);});
attacker_gained_nothing('app', 'a6e', 'alice', $off,
	'6e alice\'s operator in public first on the path, a superuser\'s retention over referenced rows and partition maintenance beside pg_partman');
is(query('app', q{SELECT count(*) FILTER (WHERE id BETWEEN 20 AND 25) || ' ' ||
	  count(*) FILTER (WHERE id BETWEEN 11 AND 40 AND id NOT BETWEEN 20 AND 25) FROM alice.rentals}), '6 0',
	'6e the rentals that payments reference are kept, the other old ones deleted');

# ---------- the background attacks' outcome ----------

# 4.
wait_for('victim', "SELECT count(*) >= 3 FROM dbopt.job_runs WHERE run_id > $base4 AND finished_at IS NOT NULL",
	$deadline4)
  or note('attack 4: fewer than 3 runs of the tick job finished in time');
attacker_gained_nothing('victim', 'a4', 'dbowner', $off4,
	'4 database owner\'s search_path with own.clock_timestamp()/now(), the superuser\'s job');

# 5.
wait_for('app', q{SELECT count(*) FILTER (WHERE j.job_name = 'a5a') >= 3 AND count(*) FILTER (WHERE j.job_name = 'a5b') >= 3
	  FROM dbopt.job_runs r JOIN dbopt.jobs j USING (job_id) WHERE r.finished_at IS NOT NULL}, $deadline5)
  or note('attack 5: fewer than 3 runs of each job finished in time');
attacker_gained_nothing('app', 'a5a', 'atk5a', $off5,
	'5a a deferred constraint trigger fired at the job worker\'s commit');
attacker_gained_nothing('app', 'a5b', 'atk5b', $off5,
	'5b SET search_path in the job\'s SQL, then the run\'s bookkeeping');

# 7. Within 15 s of its start, over and timed_out.
my $run7 = query('app', q{SELECT min(run_id) FROM dbopt.job_runs r JOIN dbopt.jobs j USING (job_id) WHERE j.job_name = 'stubborn'});
if ($run7 eq '')
{
	wait_for('app', q{SELECT count(*) > 0 FROM dbopt.job_runs r JOIN dbopt.jobs j USING (job_id) WHERE j.job_name = 'stubborn'},
		time() + 10);
	$run7 = query('app', q{SELECT min(run_id) FROM dbopt.job_runs r JOIN dbopt.jobs j USING (job_id) WHERE j.job_name = 'stubborn'});
}
my $status7 = '';
if ($run7 ne '')
{
	wait_for('app', qq{SELECT status <> 'running' OR clock_timestamp() > started_at + interval '15 seconds'
	  FROM dbopt.job_runs WHERE run_id = $run7}, time() + 20);
	$status7 = query('app', "SELECT status FROM dbopt.job_runs WHERE run_id = $run7");
}
isnt($status7, 'running', '7 a job that traps query_canceled is over within 15 s of its start (max_runtime 3 s)');
is($status7, 'timed_out', '7 and its run is recorded as timed_out');

$node->stop;
done_testing();
