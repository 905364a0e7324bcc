/*-------------------------------------------------------------------------
 *
 * status.c
 *	  dbopt.status(): is dbopt itself set up right on this server?
 *
 * Versions of the SQL objects and the library, preloading, the state of
 * pg_stat_statements, optional companion extensions, and every dbopt.*
 * setting, in the findings shape with one extra column, value.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "catalog/namespace.h"
#include "executor/spi.h"
#include "fmgr.h"
#include "lib/stringinfo.h"
#include "miscadmin.h"
#include "utils/builtins.h"
#include "utils/guc.h"
#include "utils/lsyscache.h"
#include "utils/varlena.h"

#include "dbopt/dbopt.h"
#include "dbopt/findings.h"
#include "dbopt/registry.h"
#include "dbopt/util.h"

typedef struct Companion
{
	const char *name;
	const char *package;		/* Debian package that ships it */
	const char *used_for;
} Companion;

static const Companion companions[] = {
	{"amcheck", "postgresql-15 (contrib)", "index_corruption and heap_corruption checks"},
	{"hypopg", "postgresql-15-hypopg", "planner-verified index suggestions"},
	{"pg_cron", "postgresql-15-cron", "scheduling dbopt from SQL as an alternative to its worker"},
	{"pg_partman", "postgresql-15-partman", "side-by-side partition benchmarks and migration"},
	{"pgstattuple", "postgresql-15 (contrib)", "exact bloat figures where estimates are not enough"},
};

static void
add_row(DboptFindings *f, DboptSeverity sev, const char *check,
		const char *object, const char *detail, const char *remediation,
		const char *fix_sql, const char *value)
{
	DboptFinding row = {sev, check, object, detail, remediation, fix_sql};
	Datum		extra[1];
	bool		extra_null[1];

	extra[0] = value ? CStringGetTextDatum(value) : (Datum) 0;
	extra_null[0] = (value == NULL);
	dbopt_findings_add(f, &row, extra, extra_null);
}

static void
report_versions(DboptFindings *f)
{
	char	   *ext = dbopt_extension_version("dbopt");

	if (ext != NULL && strcmp(ext, DBOPT_VERSION) == 0)
		add_row(f, DBOPT_OK, "extension_version", "dbopt",
				psprintf("Extension %s and library %s match.", ext, DBOPT_VERSION),
				NULL, NULL, ext);
	else
		add_row(f, DBOPT_WARNING, "extension_version", "dbopt",
				psprintf("Extension objects are version %s but the loaded library is %s.",
						 ext ? ext : "(not installed)", DBOPT_VERSION),
				"Update the extension to the library's version, or install the matching library.",
				psprintf("ALTER EXTENSION dbopt UPDATE TO %s;",
						 quote_literal_cstr(DBOPT_VERSION)),
				ext);
}

/*
 * shared_preload_libraries with libname appended, as an ALTER SYSTEM line.
 * Each element is quoted on its own: one quoted string holding a comma
 * would be taken as a single library name.
 */
static char *
preload_fix_sql(const char *libname)
{
	const char *cur = GetConfigOption("shared_preload_libraries", true, false);
	StringInfoData buf;
	List	   *names = NIL;
	ListCell   *lc;

	initStringInfo(&buf);
	appendStringInfoString(&buf, "ALTER SYSTEM SET shared_preload_libraries = ");
	if (cur != NULL && !SplitDirectoriesString(pstrdup(cur), ',', &names))
		names = NIL;
	foreach(lc, names)
		appendStringInfo(&buf, "%s, ", quote_literal_cstr((char *) lfirst(lc)));
	appendStringInfo(&buf, "%s; -- then restart", quote_literal_cstr(libname));
	return buf.data;
}

static void
report_preload(DboptFindings *f)
{
	if (dbopt_preloaded)
		add_row(f, DBOPT_OK, "library_preloaded", "dbopt",
				"The library is loaded through shared_preload_libraries.",
				NULL, NULL, "true");
	else
		add_row(f, DBOPT_WARNING, "library_preloaded", "dbopt",
				"The library was loaded on first use; the background worker cannot run.",
				"Add dbopt to shared_preload_libraries and restart the server.",
				preload_fix_sql("dbopt"), "false");
}

static void
report_pg_stat_statements(DboptFindings *f)
{
	const char *max_setting = GetConfigOption("pg_stat_statements.max", true, false);
	Oid			nsp = dbopt_extension_schema("pg_stat_statements");
	const char *qnsp;
	int64		max_entries,
				entries,
				dealloc;
	bool		isnull;
	char	   *sql;

	if (!dbopt_library_preloaded("pg_stat_statements") || max_setting == NULL)
	{
		add_row(f, DBOPT_WARNING, "pg_stat_statements_loaded", "pg_stat_statements",
				"pg_stat_statements is not in shared_preload_libraries, so there are no statement statistics.",
				"Add pg_stat_statements to shared_preload_libraries and restart the server.",
				preload_fix_sql("pg_stat_statements"), "false");
		return;
	}
	if (!OidIsValid(nsp))
	{
		add_row(f, DBOPT_WARNING, "pg_stat_statements_loaded", "pg_stat_statements",
				"The library is preloaded but the extension is not installed in this database.",
				"Create the extension in this database.",
				"CREATE EXTENSION pg_stat_statements;", "false");
		return;
	}
	add_row(f, DBOPT_OK, "pg_stat_statements_loaded", "pg_stat_statements",
			"pg_stat_statements is preloaded and installed.", NULL, NULL, "true");

	qnsp = quote_identifier(get_namespace_name(nsp));
	max_entries = pg_strtoint64(max_setting);

	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "SPI_connect failed");
	/* showtext => false: the count must not read the query-text file. */
	sql = psprintf("SELECT count(*) FROM %s.pg_stat_statements(false)", qnsp);
	entries = dbopt_spi_int8(sql, &isnull);
	sql = psprintf("SELECT dealloc FROM %s.pg_stat_statements_info", qnsp);
	dealloc = dbopt_spi_int8(sql, &isnull);
	SPI_finish();

	{
		double		pct = max_entries > 0 ? 100.0 * entries / max_entries : 0;
		char	   *value = psprintf("%lld/%lld", (long long) entries,
									 (long long) max_entries);
		char	   *detail = psprintf("%lld of %lld entries used (%.1f%%).",
									  (long long) entries, (long long) max_entries, pct);

		if (pct >= 90.0)
			add_row(f, DBOPT_WARNING, "pg_stat_statements_fill", "pg_stat_statements",
					detail,
					"Raise pg_stat_statements.max so that rare statements are not evicted before snapshots see them.",
					psprintf("ALTER SYSTEM SET pg_stat_statements.max = %lld; -- then restart",
							 (long long) Max(max_entries * 2, 1000)),
					value);
		else
			add_row(f, DBOPT_OK, "pg_stat_statements_fill", "pg_stat_statements",
					detail, NULL, NULL, value);
	}

	if (dealloc > 0)
		add_row(f, DBOPT_WARNING, "pg_stat_statements_deallocations", "pg_stat_statements",
				psprintf("%lld times entries were evicted since the last reset; "
						 "statistics of evicted statements are incomplete.",
						 (long long) dealloc),
				"Raise pg_stat_statements.max, or set pg_stat_statements.track to 'top'.",
				NULL, psprintf("%lld", (long long) dealloc));
	else
		add_row(f, DBOPT_OK, "pg_stat_statements_deallocations", "pg_stat_statements",
				"No entries were evicted since the last reset.", NULL, NULL, "0");
}

static void
report_companions(DboptFindings *f)
{
	for (int i = 0; i < lengthof(companions); i++)
	{
		const Companion *c = &companions[i];
		char	   *version = dbopt_extension_version(c->name);

		if (version != NULL)
			add_row(f, DBOPT_OK, "companion_extension", c->name,
					psprintf("Installed, version %s; used for %s.", version, c->used_for),
					NULL, NULL, psprintf("installed %s", version));
		else if (dbopt_extension_available(c->name))
			add_row(f, DBOPT_INFO, "companion_extension", c->name,
					psprintf("Available on this server but not installed in this database; used for %s.",
							 c->used_for),
					"Create the extension where you want dbopt to use it.",
					psprintf("CREATE EXTENSION %s;", quote_identifier(c->name)),
					"available");
		else
			add_row(f, DBOPT_INFO, "companion_extension", c->name,
					psprintf("Not available on this server; used for %s.", c->used_for),
					psprintf("Install the package %s.", c->package),
					NULL, "absent");
	}
}

static void
report_settings(DboptFindings *f)
{
	for (int i = 0; i < dbopt_guc_count(); i++)
	{
		const char *name = dbopt_guc_name(i);
		const char *varname;
		char	   *value = GetConfigOptionByName(name, &varname, false);

		add_row(f, DBOPT_OK, "setting", name,
				psprintf("%s = %s", name, value), NULL, NULL, value);
	}
}

/* This database's dbopt has jobs (0.6 on); before, status() must not read their tables. */
static bool
jobs_installed(void)
{
	Oid			nsp = get_namespace_oid("dbopt", true);

	return OidIsValid(nsp) && OidIsValid(get_relname_relid("job_runs", nsp)) &&
		OidIsValid(get_relname_relid("job_status", nsp));
}

/* The worker in this database: is it running, and are jobs failing or overdue? */
static void
report_worker(DboptFindings *f)
{
	int64		launcher,
				scheduler,
				failing,
				overdue,
				skipped;
	bool		isnull;

	if (!dbopt_preloaded)
		return;					/* library_preloaded already says the worker cannot run */
	if (!dbopt_enable_worker)
	{
		add_row(f, DBOPT_INFO, "worker", "dbopt",
				"dbopt.enable_worker is off: scheduled jobs do not run.",
				"Turn it on to run dbopt.jobs on their schedules.",
				"ALTER SYSTEM SET dbopt.enable_worker = on; SELECT pg_reload_conf();", "disabled");
		return;
	}
	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "SPI_connect failed");
	launcher = dbopt_spi_int8("SELECT count(*) FROM pg_catalog.pg_stat_activity WHERE backend_type = 'dbopt launcher'",
							  &isnull);
	scheduler = dbopt_spi_int8("SELECT count(*) FROM pg_catalog.pg_stat_activity"
							   " WHERE backend_type = 'dbopt scheduler' AND datid = (SELECT oid FROM pg_catalog.pg_database"
							   " WHERE datname = pg_catalog.current_database())", &isnull);
	failing = overdue = skipped = 0;
	if (jobs_installed())
	{
		failing = dbopt_spi_int8("SELECT count(*) FROM dbopt.jobs WHERE enabled AND consecutive_failures > 0", &isnull);
		overdue = dbopt_spi_int8("SELECT count(*) FROM dbopt.job_status WHERE overdue", &isnull);
		/* Runs that could not start: a dropped role (the job is then disabled), NOLOGIN. */
		skipped = dbopt_spi_int8("SELECT count(*) FROM dbopt.jobs WHERE last_status = 'skipped'", &isnull);
	}
	SPI_finish();

	if (launcher == 0 || scheduler == 0)
		add_row(f, DBOPT_WARNING, "worker", "dbopt",
				launcher == 0 ? "The dbopt launcher is not running, so no job runs." :
				"No dbopt scheduler runs in this database yet; the launcher starts one within dbopt.launcher_naptime.",
				"Check the server log for dbopt messages, and that max_worker_processes leaves room for the launcher, one scheduler per database and the jobs.",
				NULL, launcher == 0 ? "launcher not running" : "scheduler not running");
	else if (failing > 0 || overdue > 0 || skipped > 0)
		add_row(f, DBOPT_WARNING, "worker", "dbopt",
				psprintf("The worker runs; %lld enabled job(s) failed last time, %lld are overdue and %lld could not start last time.",
						 (long long) failing, (long long) overdue, (long long) skipped),
				"See dbopt.job_status and the messages in dbopt.job_runs (status skipped says why a run could not start: its role was dropped, which disables the job, or may not log in).",
				NULL, psprintf("%lld failing, %lld overdue, %lld skipped", (long long) failing, (long long) overdue,
							   (long long) skipped));
	else
		add_row(f, DBOPT_OK, "worker", "dbopt",
				"The launcher and this database's scheduler run; no enabled job is failing or overdue.",
				NULL, NULL, "running");
}

/*
 * Background worker slots.  Needed at worst: the launcher, a scheduler per
 * database that uses dbopt, and dbopt.max_concurrent_jobs jobs in each.
 * Available: max_worker_processes less the other background workers
 * running now (logical replication, other extensions; parallel query
 * workers come and go and are left out).
 */
static void
report_worker_slots(DboptFindings *f)
{
	int64		others,
				skipped_for_slots,
				ndb;
	int64		needed,
				available;
	bool		isnull;

	if (!dbopt_preloaded || !dbopt_enable_worker)
		return;
	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "SPI_connect failed");
	others = dbopt_spi_int8("SELECT count(*) FROM pg_catalog.pg_stat_activity"
							" WHERE backend_type NOT IN ('client backend', 'autovacuum launcher', 'autovacuum worker',"
							" 'background writer', 'checkpointer', 'walwriter', 'archiver', 'startup', 'walreceiver',"
							" 'walsender', 'standalone backend', 'parallel worker')"
							" AND backend_type NOT LIKE 'dbopt %'", &isnull);
	/* Since the server started: a restart with more slots ends the shortfall. */
	skipped_for_slots = dbopt_spi_int8("SELECT count(*) FROM dbopt.job_runs WHERE status = 'skipped'"
									   " AND message LIKE 'no background worker slot%'"
									   " AND started_at > greatest(pg_catalog.now() - interval '1 day',"
									   " pg_catalog.pg_postmaster_start_time())", &isnull);
	SPI_finish();
	ndb = Max(dbopt_registry_count(), 1);
	needed = 1 + ndb + ndb * (int64) dbopt_max_concurrent_jobs;
	available = (int64) max_worker_processes - others;
	{
		char	   *arithmetic = psprintf("Needed at worst: 1 launcher + %lld scheduler(s), one per database that uses dbopt,"
										  " + %lld x dbopt.max_concurrent_jobs (%d) jobs = %lld; available: max_worker_processes (%d)"
										  " - %lld other background worker(s) running now = %lld.",
										  (long long) ndb, (long long) ndb, dbopt_max_concurrent_jobs, (long long) needed,
										  max_worker_processes, (long long) others, (long long) available);
		char	   *fix = psprintf("ALTER SYSTEM SET max_worker_processes = %lld;  -- then restart the server",
								   (long long) (needed + others));
		char	   *value = psprintf("%lld of %lld", (long long) needed, (long long) available);

		if (skipped_for_slots > 0)
			add_row(f, DBOPT_CRITICAL, "worker_slots", "dbopt",
					psprintf("%lld job run(s) since the server started (in the last day) found no free background worker slot and were skipped.  %s",
							 (long long) skipped_for_slots, arithmetic),
					"Raise max_worker_processes (a restart), or lower dbopt.max_concurrent_jobs.", fix, value);
		else if (needed > available)
			add_row(f, DBOPT_WARNING, "worker_slots", "dbopt",
					psprintf("The slots may run short when jobs overlap.  %s", arithmetic),
					"Raise max_worker_processes (a restart), or lower dbopt.max_concurrent_jobs.", fix, value);
		else
			add_row(f, DBOPT_OK, "worker_slots", "dbopt", arithmetic, NULL, NULL, value);
	}
}

/* Runs recorded 'skipped' in the last day, by reason. */
static void
report_jobs_skipped(DboptFindings *f)
{
	char	   *summary = NULL;
	int64		total = 0;

	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "SPI_connect failed");
	if (SPI_execute("SELECT pg_catalog.string_agg(pg_catalog.format('%s run(s): %s', n, reason), '; ' ORDER BY n DESC),"
					" pg_catalog.sum(n)::pg_catalog.int8"
					" FROM (SELECT pg_catalog.count(*) AS n,"
					"        CASE WHEN message LIKE 'no background worker slot%' THEN 'no free background worker slot'"
					"             WHEN message LIKE '%was dropped%' THEN 'the job''s role was dropped'"
					"             WHEN message LIKE '%cannot log in%' THEN 'the job''s role cannot log in'"
					"             WHEN message LIKE 'its schedule could not be read%' THEN 'the schedule could not be read'"
					"             ELSE message END AS reason"
					"        FROM dbopt.job_runs WHERE status = 'skipped' AND started_at > pg_catalog.now() - interval '1 day'"
					"       GROUP BY 2) s", true, 1) == SPI_OK_SELECT && SPI_processed == 1)
	{
		bool		isnull;
		Datum		d = SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 2, &isnull);

		if (!isnull)
		{
			total = DatumGetInt64(d);
			summary = SPI_getvalue(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1);
		}
	}
	if (total > 0)
		add_row(f, DBOPT_WARNING, "jobs_skipped", "dbopt",
				psprintf("In the last day: %s.", summary),
				"See dbopt.job_runs (status skipped) for each run and its reason.",
				NULL, psprintf("%lld", (long long) total));
	else
		add_row(f, DBOPT_OK, "jobs_skipped", "dbopt", "No job run was skipped in the last day.", NULL, NULL, "0");
	SPI_finish();
}

PG_FUNCTION_INFO_V1(dbopt_status);

Datum
dbopt_status(PG_FUNCTION_ARGS)
{
	DboptFindings f;

	dbopt_findings_begin(&f, fcinfo, PG_GETARG_BOOL(0));
	f.hide_passed = !PG_GETARG_BOOL(1);
	report_versions(&f);
	report_preload(&f);
	report_pg_stat_statements(&f);
	report_companions(&f);
	report_worker(&f);
	if (jobs_installed())
	{
		report_worker_slots(&f);
		report_jobs_skipped(&f);
	}
	report_settings(&f);
	dbopt_findings_end(&f);
	return (Datum) 0;
}
