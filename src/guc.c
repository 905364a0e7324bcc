/*-------------------------------------------------------------------------
 *
 * guc.c
 *	  dbopt.* settings: their definitions and the list status() reports.
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

#include "dbopt/dbopt.h"

int			dbopt_lock_timeout_ms = 5000;
double		dbopt_index_bloat_threshold = 30.0;
int			dbopt_check_timeout_ms = 0;
int			dbopt_retention_batch_delay_ms = 0;
char	   *dbopt_timezone = NULL;
bool		dbopt_enable_worker = true;
int			dbopt_max_concurrent_jobs = 4;
int			dbopt_launcher_naptime_ms = 10000;
int			dbopt_job_history_retention_s = 30 * 86400;
char	   *dbopt_job_role = NULL;
char	   *dbopt_tenant_columns = NULL;

/* health_check() thresholds; each is named after the check it sets. */
double		dbopt_health_cache_hit_ratio = 95.0;
double		dbopt_health_connection_utilization = 80.0;
int			dbopt_health_idle_in_transaction_s = 300;
int			dbopt_health_long_running_query_s = 300;
int			dbopt_health_slow_queries = 10;
int			dbopt_health_slow_query_time_ms = 1000;
int			dbopt_health_replication_lag_mb = 1024;
int			dbopt_health_xid_wraparound = 1000000000;
int			dbopt_health_archive_lag_s = 900;
double		dbopt_health_dead_tuple_ratio = 20.0;
double		dbopt_health_table_bloat = 50.0;
int			dbopt_health_autovacuum_stale_s = 86400;
double		dbopt_health_checkpoints_requested = 20.0;
int			dbopt_health_temp_file_usage_mb = 1024;
/* Only health.c's SQL reads it, through current_setting(). */
static int	dbopt_health_checkpoints_min_sample = 20;
int			dbopt_max_partitions_per_call = 500;
int			dbopt_min_partition_interval_s = 3600;

typedef struct ThresholdDef
{
	const char *name;
	const char *desc;
	int			unit;			/* GUC_UNIT_*, or 0 */
	int		   *ivar;			/* an integer setting ... */
	double	   *rvar;			/* ... or a real one */
	double		boot;
	double		max;
} ThresholdDef;

static const ThresholdDef thresholds[] = {
	{"dbopt.health_cache_hit_ratio", "Percentage of block reads served from shared buffers below which health_check() warns.", 0, NULL, &dbopt_health_cache_hit_ratio, 95, 100},
	{"dbopt.health_connection_utilization", "Percentage of available connections (server-wide, and of a role's CONNECTION LIMIT) above which health_check() warns.", 0, NULL, &dbopt_health_connection_utilization, 80, 100},
	{"dbopt.health_idle_in_transaction", "Age of an idle-in-transaction session above which health_check() reports it.", GUC_UNIT_S, &dbopt_health_idle_in_transaction_s, NULL, 300, INT_MAX},
	{"dbopt.health_long_running_query", "Age of a running statement above which health_check() reports it.", GUC_UNIT_S, &dbopt_health_long_running_query_s, NULL, 300, INT_MAX},
	{"dbopt.health_slow_queries", "Number of slow statements in pg_stat_statements above which health_check() warns.", 0, &dbopt_health_slow_queries, NULL, 10, INT_MAX},
	{"dbopt.health_slow_query_time", "Mean execution time from which health_check() counts a statement as slow.", GUC_UNIT_MS, &dbopt_health_slow_query_time_ms, NULL, 1000, INT_MAX},
	{"dbopt.health_replication_lag", "Replay lag of a standby, or WAL kept by an inactive replication slot, above which health_check() warns.", GUC_UNIT_MB, &dbopt_health_replication_lag_mb, NULL, 1024, INT_MAX},
	{"dbopt.health_xid_wraparound", "Transaction ID age of a database above which health_check() warns (critical past vacuum_failsafe_age).", 0, &dbopt_health_xid_wraparound, NULL, 1000000000, 2000000000},
	{"dbopt.health_archive_lag", "Age of the last archived WAL, while WAL waits to be archived, above which health_check() warns.", GUC_UNIT_S, &dbopt_health_archive_lag_s, NULL, 900, INT_MAX},
	{"dbopt.health_dead_tuple_ratio", "Percentage of dead tuples in a table above which health_check() warns.", 0, NULL, &dbopt_health_dead_tuple_ratio, 20, 100},
	{"dbopt.health_table_bloat", "Estimated percentage of a table's size that is bloat above which health_check() warns.", 0, NULL, &dbopt_health_table_bloat, 50, 100},
	{"dbopt.health_autovacuum_stale", "Age of the last vacuum of a table that needs one above which health_check() warns.", GUC_UNIT_S, &dbopt_health_autovacuum_stale_s, NULL, 86400, INT_MAX},
	{"dbopt.health_checkpoints_min_sample", "Fewest checkpoints since statistics were reset from which health_check() judges the share of requested checkpoints.", 0, &dbopt_health_checkpoints_min_sample, NULL, 20, INT_MAX},
	{"dbopt.health_checkpoints_requested", "Percentage of checkpoints that were requested rather than timed above which health_check() warns.", 0, NULL, &dbopt_health_checkpoints_requested, 20, 100},
	{"dbopt.health_temp_file_usage", "Temporary file bytes written by a database since the last snapshot above which health_check() warns.", GUC_UNIT_MB, &dbopt_health_temp_file_usage_mb, NULL, 1024, INT_MAX},
};

static const char *const guc_names[] = {
	"dbopt.check_timeout",
	"dbopt.enable_worker",
	"dbopt.health_archive_lag",
	"dbopt.health_autovacuum_stale",
	"dbopt.health_cache_hit_ratio",
	"dbopt.health_checkpoints_min_sample",
	"dbopt.health_checkpoints_requested",
	"dbopt.health_connection_utilization",
	"dbopt.health_dead_tuple_ratio",
	"dbopt.health_idle_in_transaction",
	"dbopt.health_long_running_query",
	"dbopt.health_replication_lag",
	"dbopt.health_slow_queries",
	"dbopt.health_slow_query_time",
	"dbopt.health_table_bloat",
	"dbopt.health_temp_file_usage",
	"dbopt.health_xid_wraparound",
	"dbopt.index_bloat_threshold",
	"dbopt.job_history_retention",
	"dbopt.job_role",
	"dbopt.launcher_naptime",
	"dbopt.lock_timeout",
	"dbopt.max_concurrent_jobs",
	"dbopt.max_partitions_per_call",
	"dbopt.min_partition_interval",
	"dbopt.retention_batch_delay",
	"dbopt.tenant_columns",
	"dbopt.timezone",
};

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

	DefineCustomRealVariable("dbopt.index_bloat_threshold",
							 "Estimated bloat, in percent of an index's size, above which analyze_index_usage() reports it as bloated.",
							 "The estimate is statistical; indexes under 1 MB are never reported.",
							 &dbopt_index_bloat_threshold,
							 30.0, 0.0, 100.0,
							 PGC_USERSET,
							 0,
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

	/* Thresholds only change what a report says, so anyone may set them. */
	for (int i = 0; i < lengthof(thresholds); i++)
	{
		const ThresholdDef *t = &thresholds[i];

		if (t->ivar)
			DefineCustomIntVariable(t->name, t->desc, "Documented with dbopt.health_check() in README.md.",
									t->ivar, (int) t->boot, 0, (int) t->max,
									PGC_USERSET, t->unit, NULL, NULL, NULL);
		else
			DefineCustomRealVariable(t->name, t->desc, "Documented with dbopt.health_check() in README.md.",
									 t->rvar, t->boot, 0, t->max,
									 PGC_USERSET, 0, NULL, NULL, NULL);
	}

	MarkGUCPrefixReserved("dbopt");
}

int
dbopt_guc_count(void)
{
	return lengthof(guc_names);
}

const char *
dbopt_guc_name(int i)
{
	Assert(i >= 0 && i < lengthof(guc_names));
	return guc_names[i];
}
