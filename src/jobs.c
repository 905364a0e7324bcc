/*-------------------------------------------------------------------------
 *
 * jobs.c
 *	  The job registry (dbopt.jobs, dbopt.job_runs): schedule_job(),
 *	  alter_job(), unschedule_job(), set_refresh_schedule(), and running a
 *	  job, on demand with run_job() or, later, from the background worker.
 *
 * A job runs as the role that scheduled it (run_as); changing or running
 * a job needs that role's privileges.  Every run is written to
 * dbopt.job_runs as 'running' before the work starts, so a run whose
 * process died can be told apart from one that finished.  The work runs
 * in its own subtransaction under max_runtime: a failure is recorded with
 * its SQLSTATE and message, and changes nothing else.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include <limits.h>

#include "access/htup_details.h"
#include "access/xact.h"
#include "parser/analyze.h"
#include "tcop/pquery.h"
#include "tcop/tcopprot.h"
#include "tcop/utility.h"
#include "utils/portal.h"
#include "utils/snapmgr.h"
#include "common/pg_prng.h"
#include "catalog/namespace.h"
#include "catalog/pg_class.h"
#include "catalog/pg_type.h"
#include "executor/spi.h"
#include "funcapi.h"
#include "miscadmin.h"
#include "utils/acl.h"
#include "utils/builtins.h"
#include "utils/guc.h"
#include "utils/lsyscache.h"
#include "utils/regproc.h"
#include "utils/timestamp.h"

#include "dbopt/compat.h"
#include "dbopt/dbopt.h"
#include "dbopt/isolate.h"
#include "dbopt/jobs.h"
#include "dbopt/matviews.h"
#include "dbopt/schedule.h"
#include "dbopt/util.h"

static const char *const job_kinds[] = {
	"refresh_materialized_views", "snapshot", "retention",
	"partition_maintenance", "integrity_check", "sql", NULL
};

/* One row of dbopt.jobs (DboptJob in jobs.h). */
typedef struct DboptJob
{
	int64		job_id;
	char	   *name;
	char	   *kind;
	char	   *schedule;
	char	   *command;		/* NULL when none */
	Interval	max_runtime;
	int			max_retries;
	bool		enabled;
	Oid			run_as;			/* a role OID: renaming keeps the job */
	int			consecutive_failures;
} DboptJob;

typedef DboptJob Job;

/* to_regclass() or to_regprocedure() on a name: InvalidOid when there is none. */
static Oid
to_reg(PGFunction fn, const char *name)
{
	bool		isnull;
	Datum		d = dbopt_call_nullable(fn, 1, CStringGetTextDatum(name), &isnull);

	return isnull ? InvalidOid : DatumGetObjectId(d);
}

static void
no_such_job(const char *name)
{
	ereport(ERROR,
			(errcode(ERRCODE_UNDEFINED_OBJECT),
			 errmsg("job \"%s\" does not exist", name),
			 errdetail("No row of dbopt.jobs has that job_name."),
			 errhint("SELECT job_name FROM dbopt.jobs lists the jobs.")));
}

static Job *
load_job_where(const char *where, Oid argtype, Datum arg)
{
	Oid			argtypes[1] = {argtype};
	Datum		values[1] = {arg};
	MemoryContext cxt = CurrentMemoryContext;
	Job		   *j = NULL;
	DboptIdentity saved;

	dbopt_elevate(&saved);
	SPI_connect();
	if (SPI_execute_with_args(psprintf("SELECT job_id, job_name, kind, schedule, command, max_runtime, max_retries,"
									   " enabled, run_as, consecutive_failures FROM dbopt.jobs WHERE %s", where),
							  1, argtypes, values, NULL, true, 0) != SPI_OK_SELECT)
		elog(ERROR, "could not read dbopt.jobs");
	if (SPI_processed == 1)
	{
		HeapTuple	tup = SPI_tuptable->vals[0];
		TupleDesc	desc = SPI_tuptable->tupdesc;
		MemoryContext old = MemoryContextSwitchTo(cxt);
		bool		isnull;

		j = palloc0(sizeof(Job));
		j->job_id = DatumGetInt64(SPI_getbinval(tup, desc, 1, &isnull));
		j->name = SPI_getvalue(tup, desc, 2);
		j->kind = SPI_getvalue(tup, desc, 3);
		j->schedule = SPI_getvalue(tup, desc, 4);
		j->command = SPI_getvalue(tup, desc, 5);
		j->max_runtime = *DatumGetIntervalP(SPI_getbinval(tup, desc, 6, &isnull));
		j->max_retries = DatumGetInt32(SPI_getbinval(tup, desc, 7, &isnull));
		j->enabled = DatumGetBool(SPI_getbinval(tup, desc, 8, &isnull));
		j->run_as = DatumGetObjectId(SPI_getbinval(tup, desc, 9, &isnull));
		j->consecutive_failures = DatumGetInt32(SPI_getbinval(tup, desc, 10, &isnull));
		MemoryContextSwitchTo(old);
	}
	SPI_finish();
	dbopt_restore_identity(&saved);
	return j;
}

static Job *
load_job(const char *name)
{
	return load_job_where("job_name = $1", TEXTOID, CStringGetTextDatum(name));
}

/* The name of the role a job runs as, or its OID when the role was dropped. */
static char *
job_role_name(const Job *j)
{
	char	   *name = GetUserNameFromId(j->run_as, true);

	return name ? name : psprintf("%u", j->run_as);
}

/* Changing or running a job needs the privileges of the role it runs as. */
static void
require_job_role(const Job *j, const char *func)
{
	if (!has_privs_of_role(GetUserId(), j->run_as))
		ereport(ERROR,
				(errcode(ERRCODE_INSUFFICIENT_PRIVILEGE),
				 errmsg("must be a member of role \"%s\" to use %s() on job \"%s\"", job_role_name(j), func, j->name),
				 errdetail("Job \"%s\" runs as role \"%s\".", j->name, job_role_name(j)),
				 errhint("Run it as that role, or as a role that has its privileges.")));
}

static void
check_kind(const char *kind)
{
	int			i;

	for (i = 0; job_kinds[i]; i++)
		if (strcmp(kind, job_kinds[i]) == 0)
			return;
	ereport(ERROR,
			(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
			 errmsg("invalid job kind \"%s\"", kind),
			 errdetail("A job is one of refresh_materialized_views, snapshot, retention, partition_maintenance, integrity_check or sql."),
			 errhint("Use kind 'sql' with a command for anything else.")));
}

/* What command a kind takes: SQL for 'sql', one materialized view (or none) for refreshes. */
static void
check_command(const char *kind, const char *command)
{
	if (strcmp(kind, "sql") == 0)
	{
		if (command == NULL || command[strspn(command, " \t\r\n")] == '\0')
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("a job of kind sql needs a command"),
					 errdetail("The command is the SQL the job runs."),
					 errhint("For example: dbopt.schedule_job('vacuum-queue', 'sql', '5 minutes', 'VACUUM app.queue').")));
		return;
	}
	if (command == NULL)
		return;
	if (strcmp(kind, "refresh_materialized_views") == 0)
	{
		Oid			relid = to_reg(to_regclass, command);

		if (OidIsValid(relid) && get_rel_relkind(relid) == RELKIND_MATVIEW)
			return;
		ereport(ERROR,
				(errcode(ERRCODE_WRONG_OBJECT_TYPE),
				 errmsg("%s is not a materialized view", command),
				 errdetail("The command of a refresh_materialized_views job names one view, or is NULL for all of them."),
				 errhint("dbopt.set_refresh_schedule(view, schedule) schedules one view.")));
	}
	ereport(ERROR,
			(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
			 errmsg("a job of kind %s takes no command", kind),
			 errdetail("Only sql jobs, and refresh_materialized_views jobs naming one view, have a command."),
			 errhint("Pass command => NULL.")));
}

static void
check_limits(const Interval *max_runtime, int max_retries)
{
	Interval	zero;

	memset(&zero, 0, sizeof(zero));
	if (max_runtime && DatumGetInt32(DirectFunctionCall2(interval_cmp, IntervalPGetDatum(max_runtime),
														 IntervalPGetDatum(&zero))) <= 0)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("max_runtime must be a positive interval"),
				 errdetail("A run that takes longer is cancelled and recorded as timed_out."),
				 errhint("For example '10 minutes'.")));
	if (max_retries < 0 || max_retries > 100)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("max_retries must be between 0 and 100, not %d", max_retries),
				 errdetail("A failed run is retried with backoff at most this many times before the next scheduled run."),
				 errhint("The default is 3.")));
}

static TimestampTz
next_run(const char *schedule, TimestampTz after)
{
	DboptSchedule s;

	dbopt_parse_schedule(schedule, &s);
	return dbopt_schedule_next(&s, after);
}

/*
 * A job's settings as five statement parameters from values[0] on:
 * schedule, command (NULL when none), max_runtime, max_retries, enabled.
 */
static void
settings_params(Datum *values, char *nulls, const char *schedule, const char *command,
				const Interval *max_runtime, int max_retries, bool enabled)
{
	values[0] = CStringGetTextDatum(schedule);
	values[1] = command ? CStringGetTextDatum(command) : (Datum) 0;
	nulls[1] = command ? ' ' : 'n';
	values[2] = IntervalPGetDatum(max_runtime);
	values[3] = Int32GetDatum(max_retries);
	values[4] = BoolGetDatum(enabled);
}

static int64
insert_job(const char *name, const char *kind, const char *schedule, const char *command,
		   const Interval *max_runtime, int max_retries, bool enabled)
{
	Oid			argtypes[9] = {TEXTOID, TEXTOID, TEXTOID, TEXTOID, INTERVALOID, INT4OID, BOOLOID,
	REGROLEOID, TIMESTAMPTZOID};
	Datum		values[9];
	char		nulls[9] = {' ', ' ', ' ', ' ', ' ', ' ', ' ', ' ', ' '};
	HeapTuple	row;
	TupleDesc	desc;
	bool		isnull;

	values[0] = CStringGetTextDatum(name);
	values[1] = CStringGetTextDatum(kind);
	settings_params(values + 2, nulls + 2, schedule, command, max_runtime, max_retries, enabled);
	values[7] = ObjectIdGetDatum(GetUserId());
	values[8] = TimestampTzGetDatum(next_run(schedule, GetCurrentTransactionStartTimestamp()));
	row = dbopt_write_elevated("INSERT INTO dbopt.jobs (job_name, kind, schedule, command, max_runtime, max_retries,"
						 " enabled, run_as, next_run_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)"
						 " RETURNING job_id",
						 9, argtypes, values, nulls, &desc);
	dbopt_log_action("schedule_job", name, "scheduled", -1, -1,
					 psprintf("%s on %s%s", kind, schedule, enabled ? "" : ", disabled"));
	return DatumGetInt64(heap_getattr(row, 1, desc, &isnull));
}

PG_FUNCTION_INFO_V1(dbopt_schedule_job);

/* schedule_job(job_name, kind, schedule, command, max_runtime, max_retries, enabled) */
Datum
dbopt_schedule_job(PG_FUNCTION_ARGS)
{
	char	   *name;
	char	   *kind;
	char	   *schedule;
	char	   *command = PG_ARGISNULL(3) ? NULL : text_to_cstring(PG_GETARG_TEXT_PP(3));

	if (PG_ARGISNULL(0) || PG_ARGISNULL(1) || PG_ARGISNULL(2) || PG_ARGISNULL(4) ||
		PG_ARGISNULL(5) || PG_ARGISNULL(6))
		ereport(ERROR,
				(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
				 errmsg("job_name, kind, schedule, max_runtime, max_retries and enabled must not be null"),
				 errdetail("Only command may be NULL."),
				 errhint("For example: dbopt.schedule_job('nightly-integrity', 'integrity_check', '0 3 * * *').")));
	name = text_to_cstring(PG_GETARG_TEXT_PP(0));
	kind = text_to_cstring(PG_GETARG_TEXT_PP(1));
	schedule = text_to_cstring(PG_GETARG_TEXT_PP(2));
	if (name[0] == '\0')
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("job_name must not be empty"),
				 errdetail("Jobs are found by name."),
				 errhint("Pass a short name such as 'hourly-refresh'.")));
	check_kind(kind);
	(void) next_run(schedule, GetCurrentTransactionStartTimestamp());
	check_command(kind, command);
	check_limits(PG_GETARG_INTERVAL_P(4), PG_GETARG_INT32(5));
	if (load_job(name) != NULL)
		ereport(ERROR,
				(errcode(ERRCODE_DUPLICATE_OBJECT),
				 errmsg("job \"%s\" already exists", name),
				 errdetail("Job names are unique."),
				 errhint("Change it with dbopt.alter_job(), or remove it with dbopt.unschedule_job().")));
	PG_RETURN_INT64(insert_job(name, kind, schedule, command, PG_GETARG_INTERVAL_P(4),
							   PG_GETARG_INT32(5), PG_GETARG_BOOL(6)));
}

/*
 * Write a job's settings.  With restart (a new schedule, or a job switched
 * on) the next run counts from now and past failures are forgotten.
 */
static HeapTuple
update_job(Job *j, const char *schedule, const char *command, const Interval *max_runtime,
		   int max_retries, bool enabled, bool restart, const char *func)
{
	Oid			argtypes[7] = {INT8OID, TEXTOID, TEXTOID, INTERVALOID, INT4OID, BOOLOID, TIMESTAMPTZOID};
	Datum		values[7];
	char		nulls[7] = {' ', ' ', ' ', ' ', ' ', ' ', ' '};
	HeapTuple	row;

	check_command(j->kind, command);
	check_limits(max_runtime, max_retries);
	values[0] = Int64GetDatum(j->job_id);
	settings_params(values + 1, nulls + 1, schedule, command, max_runtime, max_retries, enabled);
	values[6] = TimestampTzGetDatum(next_run(schedule, GetCurrentTransactionStartTimestamp()));
	nulls[6] = restart ? ' ' : 'n';
	row = dbopt_write_elevated("UPDATE dbopt.jobs SET schedule = $2, command = $3, max_runtime = $4, max_retries = $5,"
						 " enabled = $6, next_run_at = coalesce($7, next_run_at),"
						 " consecutive_failures = CASE WHEN $7 IS NULL THEN consecutive_failures ELSE 0 END"
						 " WHERE job_id = $1 RETURNING *",
						 7, argtypes, values, nulls, NULL);
	dbopt_log_action(func, j->name, "altered", -1, -1,
					 psprintf("%s on %s%s", j->kind, schedule, enabled ? "" : ", disabled"));
	return row;
}

PG_FUNCTION_INFO_V1(dbopt_alter_job);

/* alter_job(job_name, schedule, command, max_runtime, max_retries, enabled): NULL keeps a setting. */
Datum
dbopt_alter_job(PG_FUNCTION_ARGS)
{
	Job		   *j;
	TupleDesc	desc;
	HeapTuple	row;
	bool		enabled;

	dbopt_require_arg(fcinfo, 0, "job_name");
	j = load_job(text_to_cstring(PG_GETARG_TEXT_PP(0)));
	if (j == NULL)
		no_such_job(text_to_cstring(PG_GETARG_TEXT_PP(0)));
	require_job_role(j, "alter_job");
	enabled = PG_ARGISNULL(5) ? j->enabled : PG_GETARG_BOOL(5);
	row = update_job(j,
					 PG_ARGISNULL(1) ? j->schedule : text_to_cstring(PG_GETARG_TEXT_PP(1)),
					 PG_ARGISNULL(2) ? j->command : text_to_cstring(PG_GETARG_TEXT_PP(2)),
					 PG_ARGISNULL(3) ? &j->max_runtime : PG_GETARG_INTERVAL_P(3),
					 PG_ARGISNULL(4) ? j->max_retries : PG_GETARG_INT32(4),
					 enabled, !PG_ARGISNULL(1) || (enabled && !j->enabled), "alter_job");
	if (get_call_result_type(fcinfo, NULL, &desc) != TYPEFUNC_COMPOSITE)
		elog(ERROR, "alter_job must return a composite type");
	PG_RETURN_DATUM(heap_copy_tuple_as_datum(row, desc));
}

static bool
delete_job(Job *j, const char *func)
{
	require_job_role(j, func);
	return dbopt_unregister_key("jobs", "job_id", Int64GetDatum(j->job_id), INT8OID,
								j->name, func, "its run history is removed too", "does not exist");
}

PG_FUNCTION_INFO_V1(dbopt_unschedule_job);

Datum
dbopt_unschedule_job(PG_FUNCTION_ARGS)
{
	char	   *name = text_to_cstring(PG_GETARG_TEXT_PP(0));
	Job		   *j = load_job(name);

	if (j == NULL)
	{
		ereport(NOTICE, (errmsg("job \"%s\" does not exist", name)));
		PG_RETURN_BOOL(false);
	}
	PG_RETURN_BOOL(delete_job(j, "unschedule_job"));
}

/* ---------- running a job ---------- */

typedef DboptJobOutcome JobOutcome;

typedef struct JobUnit
{
	Job		   *job;
	MemoryContext cxt;			/* outlives the unit's SPI memory */
	char	   *failure;		/* set when the job ran but part of it failed */
	char	   *summary;
} JobUnit;

/* The first row of a result as "n of m" style summary: (problems, total, first problem). */
static void
run_report(JobUnit *u, const char *sql, const char *what)
{
	bool		isnull;
	int64		bad,
				total;
	char	   *first;

	if (SPI_execute(sql, false, 0) != SPI_OK_SELECT || SPI_processed != 1)
		elog(ERROR, "could not run %s", sql);
	bad = DatumGetInt64(SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1, &isnull));
	total = DatumGetInt64(SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 2, &isnull));
	first = SPI_getvalue(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 3);
	if (bad > 0)
		u->failure = MemoryContextStrdup(u->cxt, psprintf(INT64_FORMAT " of " INT64_FORMAT " %s failed; first: %s",
														  bad, total, what, first ? first : "?"));
	else
		u->summary = MemoryContextStrdup(u->cxt, psprintf(INT64_FORMAT " %s", total, what));
}

static void
job_unit(void *arg)
{
	JobUnit    *u = arg;
	Job		   *j = u->job;

	u->cxt = CurrentMemoryContext;
	SPI_connect();
	if (strcmp(j->kind, "sql") == 0)
	{
		if (SPI_execute(j->command, false, 0) < 0)
			elog(ERROR, "could not run the job's command");
		u->summary = MemoryContextStrdup(u->cxt, psprintf("command ran, " UINT64_FORMAT " row(s)", SPI_processed));
	}
	else if (strcmp(j->kind, "refresh_materialized_views") == 0)
		run_report(u, j->command ?
				   psprintf("SELECT count(*) FILTER (WHERE status = 'error'), count(*),"
							" min(matview::text || ': ' || detail) FILTER (WHERE status = 'error')"
							" FROM dbopt.refresh_materialized_views(ARRAY[%s]::regclass[])",
							quote_literal_cstr(j->command)) :
				   "SELECT count(*) FILTER (WHERE status = 'error'), count(*),"
				   " min(matview::text || ': ' || detail) FILTER (WHERE status = 'error')"
				   " FROM dbopt.refresh_materialized_views()",
				   "view(s) refreshed");
	else if (strcmp(j->kind, "retention") == 0)
		run_report(u, "SELECT count(*) FILTER (WHERE status = 'error'), count(*),"
				   " min(relation::text || ': ' || detail) FILTER (WHERE status = 'error')"
				   " FROM dbopt.apply_data_retention_policies()",
				   "retention policies applied");
	else if (strcmp(j->kind, "partition_maintenance") == 0)
		run_report(u, "SELECT count(*) FILTER (WHERE status = 'error'), count(*),"
				   " min(parent::text || ': ' || detail) FILTER (WHERE status = 'error')"
				   " FROM dbopt.run_partition_maintenance()",
				   "partitioned table(s) maintained");
	else if (strcmp(j->kind, "integrity_check") == 0)
		run_report(u, "SELECT 0::int8, count(*) FILTER (WHERE severity = 'critical'), NULL::text"
				   " FROM dbopt.check_data_integrity()",
				   "critical integrity finding(s)");
	else if (strcmp(j->kind, "snapshot") == 0)
	{
		/* The hook for the snapshot capability: its function, once it exists. */
		if (!OidIsValid(to_reg(to_regprocedure, "dbopt.take_snapshot()")))
			ereport(ERROR,
					(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
					 errmsg("dbopt.take_snapshot() does not exist in this version"),
					 errdetail("Snapshot jobs run dbopt.take_snapshot(), which the snapshot capability provides."),
					 errhint("Keep the job disabled until the extension is updated to a version with snapshots.")));
		if (SPI_execute("SELECT dbopt.take_snapshot(), dbopt.purge_snapshots()", false, 0) != SPI_OK_SELECT)
			elog(ERROR, "could not run dbopt.take_snapshot()");
		u->summary = MemoryContextStrdup(u->cxt, psprintf("snapshot %s taken, %s old snapshot(s) purged",
														  SPI_getvalue(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1),
														  SPI_getvalue(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 2)));
	}
	/*
	 * Deferred triggers: a job worker commits as the job's role; run_job()
	 * by another member runs restricted, where core refuses to queue them.
	 */
	SPI_finish();
}

static int
runtime_ms(const Interval *iv)
{
	double		ms = (double) iv->time / 1000.0 +
		((double) iv->day + (double) iv->month * DAYS_PER_MONTH) * (double) (USECS_PER_DAY / 1000);

	return ms >= INT_MAX ? INT_MAX : (int) Max(ms, 1);
}

/* Write the run as 'running' (with our pid, so a dead run can be told apart); returns run_id. */
static int64
job_run_begin(Job *j)
{
	Oid			argtypes[2] = {INT8OID, INT4OID};
	Datum		values[2] = {Int64GetDatum(j->job_id), Int32GetDatum(MyProcPid)};
	TupleDesc	desc;
	bool		isnull;
	HeapTuple	row = dbopt_write_elevated("INSERT INTO dbopt.job_runs (job_id, status, pid) VALUES ($1, 'running', $2)"
									 " RETURNING run_id", 2, argtypes, values, NULL, &desc);

	return DatumGetInt64(heap_getattr(row, 1, desc, &isnull));
}

/* Do the job's work in a subtransaction under max_runtime, as the role it runs as. */
static void
job_run_work(Job *j, JobOutcome *out)
{
	JobUnit		u;
	DboptUnitError err;
	bool		ok;

	memset(out, 0, sizeof(*out));
	if (GetUserNameFromId(j->run_as, true) == NULL)
	{
		out->status = "failed";
		out->sqlstate = "42704";
		out->message = psprintf("the role with OID %u that the job runs as was dropped", j->run_as);
		return;
	}
	memset(&u, 0, sizeof(u));
	u.job = j;

	/*
	 * A job worker is connected as the job's role; run_job() by another
	 * member switches to it, restricted.  Only an sql job's own statements
	 * see the session's search_path.
	 */
	ok = dbopt_run_unit(job_unit, &u, j->run_as == GetUserId() ? InvalidOid : j->run_as,
						strcmp(j->kind, "sql") == 0 ? DBOPT_UNIT_CALLER_SEARCH_PATH : 0,
						runtime_ms(&j->max_runtime), &err);
	if (ok)
	{
		out->status = u.failure ? "failed" : "succeeded";
		out->message = u.failure ? u.failure : u.summary;
	}
	else
	{
		out->status = err.timed_out ? "timed_out" : "failed";
		out->sqlstate = unpack_sql_state(err.sqlerrcode);
		out->message = err.timed_out ?
			psprintf("cancelled after max_runtime %s",
					 DatumGetCString(DirectFunctionCall1(interval_out, IntervalPGetDatum(&j->max_runtime)))) :
			err.message;
	}
}

/*
 * When a scheduled job runs next: on its schedule after a success; after
 * the n-th failure in a row, its interval times 2^(n-1) (n capped at
 * max_retries), plus up to 10% jitter, at most a day.
 */
static TimestampTz
job_next_after(Job *j, const JobOutcome *out)
{
	DboptSchedule s;
	TimestampTz now = GetCurrentTimestamp();
	TimestampTz normal;
	TimestampTz first;
	int64		gap;
	int			n;
	double		delay;

	dbopt_parse_schedule(j->schedule, &s);
	normal = dbopt_schedule_next(&s, now);
	if (strcmp(out->status, "succeeded") == 0 || j->max_retries == 0)
		return normal;
	first = normal;
	gap = s.is_cron ? dbopt_schedule_next(&s, first) - first : normal - now;
	n = Min(j->consecutive_failures + 1, j->max_retries);
	delay = (double) gap * (double) (INT64CONST(1) << Min(n - 1, 30));
	delay *= 1.0 + 0.1 * pg_prng_double(&pg_global_prng_state);
	delay = Min(delay, (double) USECS_PER_DAY);
	return now + (int64) delay;
}

/*
 * Record a run's end on dbopt.job_runs and dbopt.jobs.  A scheduled run
 * that failed moves next_run_at to its backoff time (the scheduler already
 * moved it to the next regular time when the run started); a manual run
 * leaves the schedule alone.  Returns the run row.
 */
static HeapTuple
job_run_finish(Job *j, int64 run_id, const JobOutcome *out, bool scheduled)
{
	Oid			argtypes[6] = {INT8OID, TEXTOID, TEXTOID, TEXTOID, TIMESTAMPTZOID, BOOLOID};
	Datum		values[6];
	char		nulls[6] = {' ', ' ', ' ', ' ', ' ', ' '};
	HeapTuple	row;

	values[0] = Int64GetDatum(run_id);
	values[1] = CStringGetTextDatum(out->status);
	values[2] = out->sqlstate ? CStringGetTextDatum(out->sqlstate) : (Datum) 0;
	nulls[2] = out->sqlstate ? ' ' : 'n';
	values[3] = out->message ? CStringGetTextDatum(out->message) : (Datum) 0;
	nulls[3] = out->message ? ' ' : 'n';
	values[4] = scheduled ? TimestampTzGetDatum(job_next_after(j, out)) : (Datum) 0;
	nulls[4] = scheduled ? ' ' : 'n';
	values[5] = BoolGetDatum(scheduled);
	row = dbopt_write_elevated("WITH r AS (UPDATE dbopt.job_runs SET finished_at = pg_catalog.clock_timestamp(), status = $2,"
						 " sqlstate = $3, message = $4 WHERE run_id = $1 RETURNING *),"
						 " j AS (UPDATE dbopt.jobs SET last_run_at = (SELECT started_at FROM r), last_status = $2,"
						 " last_success_at = CASE WHEN $2 = 'succeeded' THEN (SELECT finished_at FROM r) ELSE last_success_at END,"
						 " consecutive_failures = CASE WHEN $2 = 'succeeded' THEN 0 ELSE consecutive_failures + 1 END,"
						 " next_run_at = CASE WHEN $6 AND $2 <> 'succeeded' THEN $5 ELSE next_run_at END"
						 " WHERE job_id = (SELECT job_id FROM r))"
						 " SELECT * FROM r",
						 6, argtypes, values, nulls, NULL);
	dbopt_log_action(scheduled ? "scheduled job" : "run_job", j->name, out->status, -1, -1, out->message);
	return row;
}

/* Run one job in this session and transaction (run_job). */
static HeapTuple
execute_job(Job *j)
{
	int64		run_id = job_run_begin(j);
	JobOutcome	out;

	job_run_work(j, &out);
	return job_run_finish(j, run_id, &out, false);
}

PG_FUNCTION_INFO_V1(dbopt_run_job);

Datum
dbopt_run_job(PG_FUNCTION_ARGS)
{
	char	   *name = text_to_cstring(PG_GETARG_TEXT_PP(0));
	Job		   *j = load_job(name);
	TupleDesc	desc;
	HeapTuple	row;

	if (j == NULL)
		no_such_job(name);
	require_job_role(j, "run_job");
	/* The lock a job worker holds while it runs this job. */
	if (!DatumGetBool(DirectFunctionCall2(pg_try_advisory_xact_lock_int4,
										  Int32GetDatum(DBOPT_JOB_LOCK_CLASS),
										  Int32GetDatum((int32) j->job_id))))
		ereport(ERROR,
				(errcode(ERRCODE_OBJECT_IN_USE),
				 errmsg("job \"%s\" is running now", name),
				 errdetail("The same job never runs twice at once."),
				 errhint("See pg_stat_activity (backend_type 'dbopt job') and try again when it ends.")));
	row = execute_job(j);
	if (get_call_result_type(fcinfo, NULL, &desc) != TYPEFUNC_COMPOSITE)
		elog(ERROR, "run_job must return a composite type");
	PG_RETURN_DATUM(heap_copy_tuple_as_datum(row, desc));
}

PG_FUNCTION_INFO_V1(dbopt_set_refresh_schedule);

/* set_refresh_schedule(matview, schedule): one view's refresh job, made, changed or removed. */
Datum
dbopt_set_refresh_schedule(PG_FUNCTION_ARGS)
{
	Oid			relid;
	char	   *view;
	char	   *name;
	Job		   *j;
	Interval	hour;

	if (PG_ARGISNULL(0))
		ereport(ERROR,
				(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
				 errmsg("matview must not be null"),
				 errdetail("The schedule belongs to one materialized view."),
				 errhint("For example: dbopt.set_refresh_schedule('app.mv_daily', '*/30 * * * *').")));
	relid = PG_GETARG_OID(0);
	dbopt_require_own_matview(relid, "Only materialized views have a refresh schedule.",
							  "Schedule other work with dbopt.schedule_job().");
	view = dbopt_qualified_relname(relid);
	name = psprintf("refresh %s", view);
	j = load_job(name);
	if (PG_ARGISNULL(1))
	{
		if (j != NULL)
			(void) delete_job(j, "set_refresh_schedule");
		PG_RETURN_NULL();
	}
	if (j != NULL)
	{
		require_job_role(j, "set_refresh_schedule");
		(void) update_job(j, text_to_cstring(PG_GETARG_TEXT_PP(1)), j->command, &j->max_runtime,
						  j->max_retries, true, true, "set_refresh_schedule");
		PG_RETURN_INT64(j->job_id);
	}
	memset(&hour, 0, sizeof(hour));
	hour.time = USECS_PER_HOUR;
	(void) next_run(text_to_cstring(PG_GETARG_TEXT_PP(1)), GetCurrentTransactionStartTimestamp());
	PG_RETURN_INT64(insert_job(name, "refresh_materialized_views", text_to_cstring(PG_GETARG_TEXT_PP(1)),
							   view, &hour, 3, true));
}

/* ---------- for the background worker (worker.c) ---------- */

/*
 * Run a CALL as a top-level statement through its own portal, as a client
 * session would, so that the procedure may commit: SPI would run it
 * atomically, and a background worker has no portal of its own.
 */
static void
run_top_level_call(const char *sql)
{
	List	   *raw = pg_parse_query(sql);
	RawStmt    *stmt = linitial_node(RawStmt, raw);
	bool		snap = analyze_requires_snapshot(stmt);
	List	   *queries;
	List	   *plans;
	Portal		portal;
	DestReceiver *dest = CreateDestReceiver(DestNone);
	QueryCompletion qc;

	if (snap)
		PushActiveSnapshot(GetTransactionSnapshot());
	queries = dbopt_analyze_and_rewrite(stmt, sql);
	plans = pg_plan_queries(queries, sql, CURSOR_OPT_PARALLEL_OK, NULL);
	if (snap)
		PopActiveSnapshot();
	portal = CreatePortal("", true, true);
	portal->visible = false;
	PortalDefineQuery(portal, NULL, sql, CreateCommandTag(stmt->stmt), plans, NULL);
	PortalStart(portal, NULL, 0, InvalidSnapshot);
	InitializeQueryCompletion(&qc);
	(void) PortalRun(portal, FETCH_ALL, true, true, dest, dest, &qc);
	PortalDrop(portal, false);
}

DboptJob *
dbopt_job_load(int64 job_id)
{
	return load_job_where("job_id = $1", INT8OID, Int64GetDatum(job_id));
}

const char *
dbopt_job_name(const DboptJob *j)
{
	return j->name;
}

bool
dbopt_job_enabled(const DboptJob *j)
{
	return j->enabled;
}

bool
dbopt_job_commits(const DboptJob *j)
{
	return strcmp(j->kind, "retention") == 0;
}

char *
dbopt_job_activity(const DboptJob *j)
{
	return psprintf("dbopt job %s: %s", j->name, j->command ? j->command : j->kind);
}

int64
dbopt_job_begin(DboptJob *j)
{
	return job_run_begin(j);
}

/*
 * The work of a scheduled run.  Retention runs as CALL run_data_retention()
 * without a surrounding atomic context, so that it commits batch by batch
 * and stops at max_runtime; the caller must be in a transaction that this
 * may commit and replace.  Other kinds run like run_job().
 */
void
dbopt_job_work(DboptJob *j, DboptJobOutcome *out)
{
	MemoryContext cxt = CurrentMemoryContext;

	if (strcmp(j->kind, "retention") != 0 || j->run_as != GetUserId())
	{
		job_run_work(j, out);
		return;
	}
	memset(out, 0, sizeof(*out));
	PG_TRY();
	{
		/* For the session: the procedure commits, which ends any nest level. */
		SetConfigOption("search_path", DBOPT_SAFE_SEARCH_PATH, PGC_USERSET, PGC_S_SESSION);
		run_top_level_call(psprintf("CALL dbopt.run_data_retention(%s)",
									quote_literal_cstr(DatumGetCString(DirectFunctionCall1(interval_out,
																						   IntervalPGetDatum(&j->max_runtime))))));
		MemoryContextSwitchTo(cxt);
		out->status = "succeeded";
		out->message = "retention policies applied, committing after every batch, stopping at max_runtime";
	}
	PG_CATCH();
	{
		ErrorData  *edata;

		MemoryContextSwitchTo(cxt);
		edata = CopyErrorData();
		FlushErrorState();
		AbortCurrentTransaction();
		StartTransactionCommand();
		MemoryContextSwitchTo(cxt);
		out->status = "failed";
		out->sqlstate = unpack_sql_state(edata->sqlerrcode);
		out->message = edata->message;
	}
	PG_END_TRY();
}

void
dbopt_job_finish(DboptJob *j, int64 run_id, const DboptJobOutcome *out)
{
	(void) job_run_finish(j, run_id, out, true);
}
