/*-------------------------------------------------------------------------
 *
 * guc.c
 *	  dbopt.* settings: the general ones (the checks' thresholds are
 *	  defined by the registry, checks.c) and the list status() reports.
 *
 * All settings live under the reserved "dbopt." prefix, so a misspelt
 * dbopt.* name is rejected instead of silently becoming a placeholder.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include <limits.h>

#include "pgtime.h"
#include "utils/guc.h"
#include "utils/guc_tables.h"
#include "utils/memutils.h"

#include "dbopt/checks.h"
#include "dbopt/compat.h"
#include "dbopt/dbopt.h"

int			dbopt_lock_timeout_ms = 5000;
int			dbopt_check_timeout_ms = 0;
int			dbopt_retention_batch_delay_ms = 0;
char	   *dbopt_timezone = NULL;
bool		dbopt_enable_worker = true;
int			dbopt_max_concurrent_jobs = 4;
int			dbopt_launcher_naptime_ms = 10000;
int			dbopt_job_history_retention_s = 30 * 86400;
int			dbopt_findings_history_retention_s = 90 * 86400;
char	   *dbopt_job_role = NULL;
char	   *dbopt_tenant_columns = NULL;

int			dbopt_max_partitions_per_call = 500;
int			dbopt_min_partition_interval_s = 3600;

/* A time zone pg_tzset() knows, or empty: a bad one must not stop the schedulers. */
static bool
check_timezone(char **newval, void **extra, GucSource source)
{
	if (*newval == NULL || (*newval)[0] == '\0' || pg_tzset(*newval) != NULL)
		return true;
	GUC_check_errdetail("\"%s\" is not a time zone name known to the server.", *newval);
	GUC_check_errhint("Use a name from pg_timezone_names, or an empty string for the server's TimeZone.");
	return false;
}

void
dbopt_define_gucs(void)
{
	DefineCustomIntVariable("dbopt.lock_timeout",
							"Longest wait for a lock by any dbopt function that changes things.",
							"On a timeout the object is skipped and reported; the run goes on. "
							"Zero is not allowed, because it would mean waiting forever.",
							&dbopt_lock_timeout_ms,
							5000, 1, INT_MAX,
							PGC_USERSET,
							GUC_UNIT_MS,
							NULL, NULL, NULL);

	DefineCustomIntVariable("dbopt.max_partitions_per_call",
							"Most partitions one call may create, or drop and detach.",
							"A call whose plan goes beyond it stops before changing anything.",
							&dbopt_max_partitions_per_call,
							500, 1, 100000,
							PGC_USERSET,
							0,
							NULL, NULL, NULL);

	DefineCustomIntVariable("dbopt.min_partition_interval",
							"Smallest partition_interval accepted for a table partitioned by time.",
							"Months count as 30 days.",
							&dbopt_min_partition_interval_s,
							3600, 1, INT_MAX,
							PGC_USERSET,
							GUC_UNIT_S,
							NULL, NULL, NULL);

	DefineCustomIntVariable("dbopt.check_timeout",
							"Longest time one integrity check may run before it is stopped and reported as check_failed.",
							"Applies to each data scan of check_data_integrity() and validate_constraints() "
							"on its own; the other checks still run.  Zero means no limit.",
							&dbopt_check_timeout_ms,
							0, 0, INT_MAX,
							PGC_USERSET,
							GUC_UNIT_MS,
							NULL, NULL, NULL);

	DefineCustomIntVariable("dbopt.retention_batch_delay",
							"Pause between two batches of CALL dbopt.run_data_retention().",
							"Gives vacuum, replicas and the application room between short "
							"transactions.  Zero means no pause.",
							&dbopt_retention_batch_delay_ms,
							0, 0, 3600 * 1000,
							PGC_USERSET,
							GUC_UNIT_MS,
							NULL, NULL, NULL);

	DefineCustomStringVariable("dbopt.timezone",
							   "Time zone in which cron schedules are read.",
							   "Empty means the server's TimeZone.",
							   &dbopt_timezone,
							   "",
							   PGC_USERSET,
							   0,
							   check_timezone, NULL, NULL);

	DefineCustomBoolVariable("dbopt.enable_worker",
							 "Whether dbopt's background worker runs scheduled jobs.",
							 "Off stops the schedulers at the next reload; the launcher stays and idles.",
							 &dbopt_enable_worker,
							 true,
							 PGC_SIGHUP,
							 0,
							 NULL, NULL, NULL);

	DefineCustomIntVariable("dbopt.max_concurrent_jobs",
							"Most jobs one database's scheduler runs at the same time.",
							"Each running job uses one background worker slot (max_worker_processes).",
							&dbopt_max_concurrent_jobs,
							4, 1, 100,
							PGC_SIGHUP,
							0,
							NULL, NULL, NULL);

	DefineCustomIntVariable("dbopt.launcher_naptime",
							"How often the launcher looks for databases with dbopt, and the longest a scheduler sleeps.",
							"CREATE EXTENSION dbopt in a new database is picked up within this time.",
							&dbopt_launcher_naptime_ms,
							10000, 100, 3600 * 1000,
							PGC_SIGHUP,
							GUC_UNIT_MS,
							NULL, NULL, NULL);

	DefineCustomIntVariable("dbopt.job_history_retention",
							"How long finished rows of dbopt.job_runs are kept.",
							"The scheduler deletes older ones once an hour.",
							&dbopt_job_history_retention_s,
							30 * 86400, 3600, INT_MAX,
							PGC_SIGHUP,
							GUC_UNIT_S,
							NULL, NULL, NULL);

	/* SUSET: pruning deletes history, which a caller of run_checks() must not shorten. */
	DefineCustomIntVariable("dbopt.findings_history_retention",
							"How long resolved findings are kept in dbopt.findings_history.",
							"run_checks() deletes older resolved findings, and older runs no finding refers to, "
							"at most 10000 rows of each per run.",
							&dbopt_findings_history_retention_s,
							90 * 86400, 3600, INT_MAX,
							PGC_SUSET,
							GUC_UNIT_S,
							NULL, NULL, NULL);

	DefineCustomStringVariable("dbopt.job_role",
							   "Ignored since 0.9: each job worker connects as its job's own role.",
							   "Kept so that configurations that set it still load.",
							   &dbopt_job_role,
							   "",
							   PGC_SIGHUP,
							   0,
							   NULL, NULL, NULL);

	DefineCustomStringVariable("dbopt.tenant_columns",
							   "Column names that hold a tenant, in order of preference.",
							   "The audit trigger records the first one a table has; security checks "
							   "report tables with one of them but no row-level security.",
							   &dbopt_tenant_columns,
							   "organization_id,tenant_id,org_id",
							   PGC_SUSET,
							   GUC_LIST_INPUT,
							   NULL, NULL, NULL);

	/* The thresholds of the checks, from the registry. */
	dbopt_define_check_settings();

	MarkGUCPrefixReserved("dbopt");
}

static int
compare_names(const void *a, const void *b)
{
	return strcmp(*(const char *const *) a, *(const char *const *) b);
}

/*
 * The names of dbopt's settings, sorted, read from the server's own table
 * of settings: every setting defined here or by the check registry, and
 * nothing else to keep in step.
 */
static const char **
setting_names(int *count)
{
	static const char **names = NULL;
	static int	n = 0;

	if (names == NULL)
	{
		int			nvars;
		struct config_generic **vars = dbopt_guc_variables(&nvars);
		const char **list = MemoryContextAlloc(TopMemoryContext, sizeof(char *) * Max(nvars, 1));

		for (int i = 0; i < nvars; i++)
			if (strncmp(vars[i]->name, "dbopt.", 6) == 0 &&
				(vars[i]->flags & GUC_CUSTOM_PLACEHOLDER) == 0)
				list[n++] = MemoryContextStrdup(TopMemoryContext, vars[i]->name);
		qsort(list, n, sizeof(char *), compare_names);
		names = list;
	}
	*count = n;
	return names;
}

int
dbopt_guc_count(void)
{
	int			n;

	setting_names(&n);
	return n;
}

const char *
dbopt_guc_name(int i)
{
	int			n;
	const char **names = setting_names(&n);

	Assert(i >= 0 && i < n);
	return names[i];
}
