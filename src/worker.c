/*-------------------------------------------------------------------------
 *
 * worker.c
 *	  dbopt's background workers: one launcher per server, one scheduler
 *	  per database that has dbopt installed, and one short-lived worker per
 *	  job run.
 *
 * The launcher starts after recovery (never on a standby) and keeps a
 * scheduler running in each database on the list registry.c keeps (the
 * databases that use dbopt); it connects to no other database, except
 * once, on the first start with no list yet.  A scheduler pins its own
 * settings, then, once a tick inside an error boundary: it records as
 * 'crashed' (or 'timed_out') the runs of job workers that ended without
 * recording their end, claims each due job in a unit of its own (a
 * schedule that cannot be read disables that job, and only it), and
 * starts a job worker per claimed job, at most dbopt.max_concurrent_jobs
 * at a time.  A due run that cannot start is recorded 'skipped' with the
 * reason; one that found no free worker slot is due again at once.  A job
 * worker connects as the job's role, holds an advisory lock on its job for
 * its life, records the run as 'running' and commits, does the work, and
 * records the end.  The scheduler ends a job worker still running 5 s past
 * max_runtime.  A scheduler leaves when its database is dropped, renamed
 * or copied (registry.c signals it), taking its job workers with it;
 * otherwise its job workers finish on their own.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/genam.h"
#include "access/htup_details.h"
#include "access/table.h"
#include "access/xact.h"
#include "catalog/namespace.h"
#include "catalog/pg_database.h"
#include "catalog/pg_type.h"
#include "commands/dbcommands.h"
#include "commands/extension.h"
#include "executor/spi.h"
#include "miscadmin.h"
#include "pgstat.h"
#include "postmaster/bgworker.h"
#include "postmaster/interrupt.h"
#include "storage/ipc.h"
#include "storage/latch.h"
#include "storage/lmgr.h"
#include "storage/proc.h"
#include "tcop/tcopprot.h"
#include "utils/builtins.h"
#include "utils/guc.h"
#include "utils/lsyscache.h"
#include "utils/memutils.h"
#include "utils/snapmgr.h"
#include "utils/timestamp.h"

#include "dbopt/dbopt.h"
#include "dbopt/isolate.h"
#include "dbopt/jobs.h"
#include "dbopt/registry.h"
#include "utils/acl.h"
#include "utils/array.h"
#include "dbopt/compat.h"
#include "dbopt/util.h"

PGDLLEXPORT void dbopt_launcher_main(Datum arg);
PGDLLEXPORT void dbopt_scheduler_main(Datum arg);
PGDLLEXPORT void dbopt_job_main(Datum arg);

typedef struct Child
{
	int64		key;			/* database OID (launcher) or job_id (scheduler) */
	BackgroundWorkerHandle *handle;
	TimestampTz kill_at;		/* job workers: max_runtime plus a grace; 0 none */
	bool		terminated;		/* we ended it at kill_at */
} Child;

/* How long a job past its max_runtime may take to stop by itself. */
#define JOB_KILL_GRACE_MS 5000

/* Job workers that ended since the last look, for the scheduler to account for. */
typedef struct EndedJob
{
	int64		job_id;
	bool		terminated;
} EndedJob;

static List *ended_jobs = NIL;	/* in TopMemoryContext */

/* This scheduler's database, by name, for log lines written outside a transaction. */
static char my_dbname[NAMEDATALEN] = "?";

static List *children = NIL;	/* in TopMemoryContext */

/* ---------- registration ---------- */

void
dbopt_register_launcher(void)
{
	BackgroundWorker w;

	memset(&w, 0, sizeof(w));
	w.bgw_flags = BGWORKER_SHMEM_ACCESS | BGWORKER_BACKEND_DATABASE_CONNECTION;
	w.bgw_start_time = BgWorkerStart_RecoveryFinished;
	w.bgw_restart_time = 10;
	snprintf(w.bgw_library_name, BGW_MAXLEN, "dbopt");
	snprintf(w.bgw_function_name, BGW_MAXLEN, "dbopt_launcher_main");
	snprintf(w.bgw_name, BGW_MAXLEN, "dbopt launcher");
	snprintf(w.bgw_type, BGW_MAXLEN, "dbopt launcher");
	RegisterBackgroundWorker(&w);
}

/* Start a dynamic worker that tells us when it ends; NULL when no slot is free. */
static BackgroundWorkerHandle *
start_child(const char *function, const char *type, const char *name, Datum arg,
			const void *extra, Size extralen, bool complain)
{
	BackgroundWorker w;
	BackgroundWorkerHandle *handle;
	MemoryContext old;
	bool		ok;

	memset(&w, 0, sizeof(w));
	w.bgw_flags = BGWORKER_SHMEM_ACCESS | BGWORKER_BACKEND_DATABASE_CONNECTION;
	w.bgw_start_time = BgWorkerStart_RecoveryFinished;
	w.bgw_restart_time = BGW_NEVER_RESTART;
	snprintf(w.bgw_library_name, BGW_MAXLEN, "dbopt");
	snprintf(w.bgw_function_name, BGW_MAXLEN, "%s", function);
	snprintf(w.bgw_name, BGW_MAXLEN, "%s", name);
	snprintf(w.bgw_type, BGW_MAXLEN, "%s", type);
	w.bgw_main_arg = arg;
	w.bgw_notify_pid = MyProcPid;
	if (extra)
		memcpy(w.bgw_extra, extra, Min(extralen, BGW_EXTRALEN));
	/* The handle outlives this loop's memory. */
	old = MemoryContextSwitchTo(TopMemoryContext);
	ok = RegisterDynamicBackgroundWorker(&w, &handle);
	MemoryContextSwitchTo(old);
	if (!ok)
	{
		if (complain)
			ereport(LOG,
				(errmsg("dbopt: could not start %s: no background worker slot is free", name),
				 errhint("Raise max_worker_processes.")));
		return NULL;
	}
	return handle;
}

/* Forget children that have ended; whether key still has a live one. */
static bool
child_running(int64 key)
{
	ListCell   *lc;
	bool		found = false;

	foreach(lc, children)
	{
		Child	   *c = lfirst(lc);
		pid_t		pid;

		if (GetBackgroundWorkerPid(c->handle, &pid) == BGWH_STOPPED)
		{
			if (c->kill_at != 0)
			{
				MemoryContext old = MemoryContextSwitchTo(TopMemoryContext);
				EndedJob   *e = palloc(sizeof(EndedJob));

				e->job_id = c->key;
				e->terminated = c->terminated;
				ended_jobs = lappend(ended_jobs, e);
				MemoryContextSwitchTo(old);
			}
			children = foreach_delete_current(children, lc);
			pfree(c->handle);
			pfree(c);
			continue;
		}
		if (c->key == key)
			found = true;
	}
	return found;
}

static void
add_child(int64 key, BackgroundWorkerHandle *handle, TimestampTz kill_at)
{
	MemoryContext old = MemoryContextSwitchTo(TopMemoryContext);
	Child	   *c = palloc(sizeof(Child));

	c->key = key;
	c->handle = handle;
	c->kill_at = kill_at;
	c->terminated = false;
	children = lappend(children, c);
	MemoryContextSwitchTo(old);
}

/*
 * End job workers past max_runtime plus the grace: a job's SQL can trap
 * the cancel that its own time limit raises, but not this.  Returns the
 * milliseconds until the next such deadline (or LONG_MAX).
 */
static long
enforce_max_runtime(void)
{
	ListCell   *lc;
	TimestampTz now = GetCurrentTimestamp();
	long		next = LONG_MAX;

	foreach(lc, children)
	{
		Child	   *c = lfirst(lc);

		if (c->kill_at == 0 || c->terminated)
			continue;
		if (now >= c->kill_at)
		{
			ereport(LOG,
					(errmsg("dbopt: job " INT64_FORMAT " in database \"%s\" ran past its max_runtime; ending its worker",
							c->key, my_dbname)));
			TerminateBackgroundWorker(c->handle);
			c->terminated = true;
		}
		else
			next = Min(next, TimestampDifferenceMilliseconds(now, c->kill_at));
	}
	return next;
}

/*
 * A scheduler leaving: its job workers go too when a command needs the
 * database to itself (DROP DATABASE and the like); otherwise they finish
 * and record their runs themselves.
 */
static void
stop_children(int code, Datum arg)
{
	ListCell   *lc;

	dbopt_registry_scheduler(MyDatabaseId, 0);
	if (!dbopt_registry_paused(MyDatabaseId))
		return;
	foreach(lc, children)
		TerminateBackgroundWorker(((Child *) lfirst(lc))->handle);
}

static void
worker_sleep(long ms)
{
	(void) WaitLatch(MyLatch, WL_LATCH_SET | WL_TIMEOUT | WL_EXIT_ON_PM_DEATH,
					 Max(ms, 10), PG_WAIT_EXTENSION);
	ResetLatch(MyLatch);
	CHECK_FOR_INTERRUPTS();
	if (ConfigReloadPending)
	{
		ConfigReloadPending = false;
		ProcessConfigFile(PGC_SIGHUP);
	}
}

/* ---------- launcher ---------- */

/*
 * The databases to start a scheduler in, with their names, allocated in
 * loopcxt: those on the registry's list (want), or all that take
 * connections when probing.  A listed database that takes no connections
 * is said in the log once (closed_dbs, in TopMemoryContext).
 */
static void
databases_to_schedule(bool probe, List *want, List **closed_dbs, MemoryContext loopcxt,
					  List **dbs, List **names)
{
	Relation	rel;
	SysScanDesc scan;
	HeapTuple	tup;

	StartTransactionCommand();
	rel = table_open(DatabaseRelationId, AccessShareLock);
	scan = systable_beginscan(rel, InvalidOid, false, NULL, 0, NULL);
	while (HeapTupleIsValid(tup = systable_getnext(scan)))
	{
		Form_pg_database db = (Form_pg_database) GETSTRUCT(tup);

		/*
		 * A listed database that takes no connections: its jobs cannot run,
		 * and no row can say so there; the log says it, once.
		 */
		if (!db->datallowconn && !probe && list_member_oid(want, db->oid) &&
			!list_member_oid(*closed_dbs, db->oid))
		{
			MemoryContext xcxt = MemoryContextSwitchTo(TopMemoryContext);

			*closed_dbs = lappend_oid(*closed_dbs, db->oid);
			MemoryContextSwitchTo(xcxt);
			ereport(LOG,
					(errmsg("dbopt: database \"%s\" does not accept connections; its dbopt jobs do not run until it does",
							NameStr(db->datname))));
		}
		else if (db->datallowconn && list_member_oid(*closed_dbs, db->oid))
		{
			MemoryContext xcxt = MemoryContextSwitchTo(TopMemoryContext);

			*closed_dbs = list_delete_oid(*closed_dbs, db->oid);
			MemoryContextSwitchTo(xcxt);
		}
		/* Only databases on the list, but all of them when probing. */
		if (db->datallowconn && !db->datistemplate &&
			(probe || list_member_oid(want, db->oid)))
		{
			MemoryContext xcxt = MemoryContextSwitchTo(loopcxt);

			*dbs = lappend_oid(*dbs, db->oid);
			*names = lappend(*names, pstrdup(NameStr(db->datname)));
			MemoryContextSwitchTo(xcxt);
		}
	}
	systable_endscan(scan);
	table_close(rel, AccessShareLock);
	CommitTransactionCommand();
	MemoryContextSwitchTo(loopcxt);
}

/*
 * A scheduler for each database that has none running.  When no slot is
 * free, wait a little for one rather than leave a database out.  Each
 * round starts one database further on, so none is always last.
 */
static void
start_schedulers(List *dbs, List *names, int round)
{
	for (int i = 0; i < list_length(dbs); i++)
	{
		int			k = (i + round) % list_length(dbs);
		Oid			dboid = list_nth_oid(dbs, k);
		BackgroundWorkerHandle *h = NULL;
		int			tries;

		if (child_running(dboid))
			continue;
		for (tries = 0; tries < 40 && h == NULL; tries++)
		{
			h = start_child("dbopt_scheduler_main", "dbopt scheduler",
							psprintf("dbopt scheduler for database \"%s\"", (char *) list_nth(names, k)),
							ObjectIdGetDatum(dboid), NULL, 0, tries == 39);
			if (h == NULL)
			{
				worker_sleep(25);
				(void) child_running(-1);
			}
		}
		if (h)
			add_child(dboid, h, 0);
	}
}

void
dbopt_launcher_main(Datum arg)
{
	MemoryContext loopcxt;
	TimestampTz last_scan = 0;
	int			round = 0;
	bool		probe;
	List	   *closed_dbs = NIL;	/* in TopMemoryContext: said once each */

	pqsignal(SIGHUP, SignalHandlerForConfigReload);
	pqsignal(SIGTERM, die);
	BackgroundWorkerUnblockSignals();
	BackgroundWorkerInitializeConnection(NULL, NULL, 0);
	pgstat_report_appname("dbopt launcher");
	loopcxt = AllocSetContextCreate(TopMemoryContext, "dbopt launcher loop", ALLOCSET_DEFAULT_SIZES);
	probe = dbopt_registry_launcher_start();
	if (probe)
		ereport(LOG,
				(errmsg("dbopt: no list of the databases that use dbopt yet; looking in each database once")));

	for (;;)
	{
		long		since;

		CHECK_FOR_INTERRUPTS();
		/* Children ending and registry changes set our latch; look at most once a second. */
		since = (long) ((GetCurrentTimestamp() - last_scan) / 1000);
		if (last_scan != 0 && since < Min(dbopt_launcher_naptime_ms, 1000))
		{
			worker_sleep(Min(dbopt_launcher_naptime_ms, 1000) - since);
			continue;
		}
		last_scan = GetCurrentTimestamp();
		if (dbopt_enable_worker)
		{
			List	   *want = probe ? NIL : dbopt_registry_due();
			List	   *dbs = NIL;
			List	   *names = NIL;
			MemoryContext old = MemoryContextSwitchTo(loopcxt);

			pgstat_report_activity(STATE_RUNNING, "dbopt launcher: starting schedulers");
			databases_to_schedule(probe, want, &closed_dbs, loopcxt, &dbs, &names);
			probe = false;
			start_schedulers(dbs, names, round);
			round++;
			MemoryContextSwitchTo(old);
			MemoryContextReset(loopcxt);
		}
		pgstat_report_activity(STATE_IDLE, NULL);
		worker_sleep(dbopt_launcher_naptime_ms);
	}
}

/* ---------- scheduler ---------- */

/* dbopt is installed here, at a version that has jobs. */
static bool
jobs_table_exists(void)
{
	Oid			nsp;

	if (!OidIsValid(get_extension_oid("dbopt", true)))
		return false;
	nsp = get_namespace_oid("dbopt", true);
	return OidIsValid(nsp) && OidIsValid(get_relname_relid("job_runs", nsp));
}

/*
 * Runs left 'running' by processes that are gone: 'timed_out' when we
 * ended the job's worker after max_runtime (job_id in timed_out), else
 * 'crashed'.
 */
static void
mark_ended_runs(Datum timed_out)
{
	Oid			argtypes[1] = {INT8ARRAYOID};
	Datum		values[1] = {timed_out};

	SPI_execute_with_args("WITH c AS (UPDATE dbopt.job_runs r"
						  " SET status = CASE WHEN r.job_id = ANY ($1) THEN 'timed_out' ELSE 'crashed' END,"
						  " finished_at = pg_catalog.clock_timestamp(),"
						  " message = CASE WHEN r.job_id = ANY ($1)"
						  " THEN 'its worker was ended after max_runtime and a grace of 5 s'"
						  " ELSE 'the process running it ended before it finished' END"
						  " WHERE status = 'running' AND NOT EXISTS (SELECT FROM pg_catalog.pg_stat_activity a"
						  " WHERE a.pid = r.pid)"
						  " RETURNING job_id, status)"
						  " UPDATE dbopt.jobs j SET last_status = c.status,"
						  " consecutive_failures = j.consecutive_failures + 1"
						  " FROM c WHERE c.job_id = j.job_id",
						  1, argtypes, values, NULL, false, 0);
}

/* Record a due run that could not start, and why; disable the job if asked. */
static void
record_skipped(int64 job_id, const char *why, bool disable)
{
	Oid			argtypes[3] = {INT8OID, TEXTOID, BOOLOID};
	Datum		values[3] = {Int64GetDatum(job_id), CStringGetTextDatum(why), BoolGetDatum(disable)};

	SPI_execute_with_args("WITH r AS (INSERT INTO dbopt.job_runs (job_id, status, finished_at, message)"
						  " VALUES ($1, 'skipped', pg_catalog.clock_timestamp(), $2) RETURNING job_id)"
						  " UPDATE dbopt.jobs SET last_status = 'skipped', enabled = enabled AND NOT $3"
						  " WHERE job_id = (SELECT job_id FROM r)",
						  3, argtypes, values, NULL, false, 0);
	ereport(LOG, (errmsg("dbopt: job " INT64_FORMAT " in database \"%s\" skipped: %s",
						 job_id, my_dbname, why)));
}

/*
 * The ids of the job workers that we terminated, as an int8[]: those seen
 * ended (the list is emptied), and those not yet seen so.  A terminated
 * worker leaves pg_stat_activity before its handle says it stopped; its
 * run is timed_out all the same, not crashed.
 */
static Datum
take_ended_jobs(void)
{
	ListCell   *lc;
	Datum	   *ids = palloc(sizeof(Datum) * (list_length(ended_jobs) + list_length(children) + 1));
	int			n = 0;

	foreach(lc, ended_jobs)
	{
		EndedJob   *e = lfirst(lc);

		if (e->terminated)
			ids[n++] = Int64GetDatum(e->job_id);
	}
	foreach(lc, children)
	{
		Child	   *c = lfirst(lc);

		if (c->kill_at != 0 && c->terminated)
			ids[n++] = Int64GetDatum(c->key);
	}
	list_free_deep(ended_jobs);
	ended_jobs = NIL;
	return PointerGetDatum(construct_array(ids, n, INT8OID, sizeof(int64), FLOAT8PASSBYVAL, TYPALIGN_DOUBLE));
}

typedef struct JobExtra
{
	Oid			dboid;
	Oid			roleoid;
} JobExtra;

/* A job claimed for this tick. */
typedef struct DueJob
{
	int64		job_id;
	Oid			role;
	TimestampTz kill_at;
} DueJob;

/* Move a due job's next run before it starts; a schedule that cannot be read fails here. */
typedef struct ClaimUnit
{
	int64		job_id;
} ClaimUnit;

static void
claim_unit(void *arg)
{
	ClaimUnit  *u = arg;
	Oid			argtypes[1] = {INT8OID};
	Datum		values[1] = {Int64GetDatum(u->job_id)};

	SPI_connect();
	if (SPI_execute_with_args("UPDATE dbopt.jobs SET next_run_at = dbopt.schedule_next_run(schedule, pg_catalog.clock_timestamp())"
							  " WHERE job_id = $1", 1, argtypes, values, NULL, false, 0) != SPI_OK_UPDATE)
		elog(ERROR, "could not move the next run of job " INT64_FORMAT, u->job_id);
	SPI_finish();
}

/*
 * One tick: account for ended job workers, prune history, claim the due
 * jobs (into *due) and say how long to sleep.  Runs in its own
 * transaction; the caller catches what it throws.
 */
static void
scheduler_tick(MemoryContext loopcxt, TimestampTz *last_prune, List **due, long *sleep_ms)
{
	int			running = list_length(children);

	SetCurrentStatementStartTimestamp();
	StartTransactionCommand();
	SPI_connect();
	PushActiveSnapshot(GetTransactionSnapshot());
	if (!jobs_table_exists())
	{
		/* DROP EXTENSION, or a version without jobs (ALTER EXTENSION UPDATE brings them). */
		PopActiveSnapshot();
		SPI_finish();
		CommitTransactionCommand();
		dbopt_registry_set(MyDatabaseId, false);
		proc_exit(0);
	}
	/* Every tick: a worker of an earlier scheduler may have ended too. */
	mark_ended_runs(take_ended_jobs());
	if (GetCurrentTimestamp() - *last_prune > USECS_PER_HOUR)
	{
		char	   *sql = psprintf("DELETE FROM dbopt.job_runs WHERE finished_at < pg_catalog.now() - interval '%d seconds'",
								   dbopt_job_history_retention_s);

		SPI_execute(sql, false, 0);
		*last_prune = GetCurrentTimestamp();
	}

	/*
	 * Due jobs, oldest first; each one's next run moves before it starts.
	 * A job worker connects as the job's role, so a role that was dropped
	 * or may not log in cannot run it: that run is recorded 'skipped', and
	 * a dropped role's jobs are disabled.  So is a job whose schedule
	 * cannot be read: it must not stop the others.
	 */
	if (SPI_execute("SELECT j.job_id, j.run_as::pg_catalog.oid, r.rolname IS NULL, coalesce(r.rolcanlogin, false),"
					" (pg_catalog.clock_timestamp() + j.max_runtime)::pg_catalog.timestamptz,"
					" r.rolname IS NULL OR pg_catalog.has_database_privilege(r.oid, pg_catalog.current_database(), 'CONNECT')"
					" FROM dbopt.jobs j LEFT JOIN pg_catalog.pg_authid r ON r.oid = j.run_as::pg_catalog.oid"
					" WHERE j.enabled AND j.next_run_at <= pg_catalog.clock_timestamp()"
					" ORDER BY j.next_run_at, j.job_id", false, 0) == SPI_OK_SELECT)
	{
		uint64		n = SPI_processed;
		SPITupleTable *tt = SPI_tuptable;

		for (uint64 i = 0; i < n; i++)
		{
			bool		isnull;
			int64		job_id = DatumGetInt64(SPI_getbinval(tt->vals[i], tt->tupdesc, 1, &isnull));
			Oid			role = DatumGetObjectId(SPI_getbinval(tt->vals[i], tt->tupdesc, 2, &isnull));
			bool		dropped = DatumGetBool(SPI_getbinval(tt->vals[i], tt->tupdesc, 3, &isnull));
			bool		canlogin = DatumGetBool(SPI_getbinval(tt->vals[i], tt->tupdesc, 4, &isnull));
			TimestampTz deadline = DatumGetTimestampTz(SPI_getbinval(tt->vals[i], tt->tupdesc, 5, &isnull));
			bool		canconnect = DatumGetBool(SPI_getbinval(tt->vals[i], tt->tupdesc, 6, &isnull));
			ClaimUnit	cu = {job_id};
			DboptUnitError err;

			CHECK_FOR_INTERRUPTS();
			if (child_running(job_id) || running >= dbopt_max_concurrent_jobs)
				continue;
			if (!dbopt_run_isolated(claim_unit, &cu, 0, &err))
			{
				record_skipped(job_id, psprintf("its schedule could not be read (%s); the job is disabled until alter_job() fixes it",
												dbopt_unit_error_text(&err)), true);
				continue;
			}
			if (dropped)
			{
				record_skipped(job_id, psprintf("the role with OID %u that the job runs as was dropped; the job is disabled", role), true);
				continue;
			}
			if (!canconnect)
			{
				record_skipped(job_id, psprintf("role \"%s\" that the job runs as may not connect to database \"%s\" (CONNECT privilege)",
												GetUserNameFromId(role, false), my_dbname), false);
				continue;
			}
			if (!canlogin && !DBOPT_BGW_NOLOGIN_OK)
			{
				record_skipped(job_id, psprintf("role \"%s\" that the job runs as cannot log in, and a job worker connects as the job's role",
												GetUserNameFromId(role, false)), false);
				continue;
			}
			{
				/* SPI's memory ends with the transaction; the list must not. */
				MemoryContext spicxt = MemoryContextSwitchTo(loopcxt);
				DueJob	   *dj = palloc(sizeof(DueJob));

				dj->job_id = job_id;
				dj->role = role;
				dj->kill_at = TimestampTzPlusMilliseconds(deadline, JOB_KILL_GRACE_MS);
				*due = lappend(*due, dj);
				MemoryContextSwitchTo(spicxt);
			}
			running++;
		}
	}
	/* Sleep until the next job is due, or the naptime. */
	if (SPI_execute("SELECT (extract(epoch FROM pg_catalog.min(next_run_at) - pg_catalog.clock_timestamp()) * 1000)::pg_catalog.float8"
					" FROM dbopt.jobs WHERE enabled", false, 0) == SPI_OK_SELECT && SPI_processed == 1)
	{
		bool		isnull;
		Datum		d = SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1, &isnull);

		if (!isnull)
			*sleep_ms = (long) Max(Min(DatumGetFloat8(d), (double) dbopt_launcher_naptime_ms), 10.0);
	}
	PopActiveSnapshot();
	SPI_finish();
	CommitTransactionCommand();
}

/*
 * Due runs that found no free background worker slot: recorded 'skipped'
 * with the reason, and due again at once, so the next tick tries again
 * rather than the next scheduled time.
 */
static void
record_no_slot(List *job_ids)
{
	ListCell   *lc;

	if (job_ids == NIL)
		return;
	SetCurrentStatementStartTimestamp();
	StartTransactionCommand();
	SPI_connect();
	PushActiveSnapshot(GetTransactionSnapshot());
	foreach(lc, job_ids)
	{
		int64		job_id = *(int64 *) lfirst(lc);
		Oid			argtypes[1] = {INT8OID};
		Datum		values[1] = {Int64GetDatum(job_id)};

		record_skipped(job_id, psprintf("no background worker slot was free (max_worker_processes = %d); tried again at the next tick",
										max_worker_processes), false);
		SPI_execute_with_args("UPDATE dbopt.jobs SET next_run_at = pg_catalog.clock_timestamp() WHERE job_id = $1",
							  1, argtypes, values, NULL, false, 0);
	}
	PopActiveSnapshot();
	SPI_finish();
	CommitTransactionCommand();
}

void
dbopt_scheduler_main(Datum arg)
{
	Oid			dboid = DatumGetObjectId(arg);
	MemoryContext loopcxt;
	volatile TimestampTz last_prune = 0;
	bool		installed;
	volatile int failures = 0;

	pqsignal(SIGHUP, SignalHandlerForConfigReload);
	pqsignal(SIGTERM, die);
	BackgroundWorkerUnblockSignals();
	BackgroundWorkerInitializeConnectionByOid(dboid, InvalidOid, 0);
	pgstat_report_appname("dbopt scheduler");

	/*
	 * The scheduler runs as the bootstrap superuser: settings the database
	 * owner gave the database (ALTER DATABASE ... SET) must not steer it.
	 */
	SetConfigOption("search_path", DBOPT_SAFE_SEARCH_PATH, PGC_SUSET, PGC_S_OVERRIDE);
	SetConfigOption("default_transaction_read_only", "off", PGC_SUSET, PGC_S_OVERRIDE);
	SetConfigOption("statement_timeout", "0", PGC_SUSET, PGC_S_OVERRIDE);
	SetConfigOption("lock_timeout", "0", PGC_SUSET, PGC_S_OVERRIDE);
	SetConfigOption("idle_in_transaction_session_timeout", "0", PGC_SUSET, PGC_S_OVERRIDE);

	StartTransactionCommand();
	installed = jobs_table_exists();
	{
		char	   *name = get_database_name(MyDatabaseId);

		if (name)
			strlcpy(my_dbname, name, sizeof(my_dbname));
	}
	CommitTransactionCommand();
	/* The launcher's list follows what this database has. */
	dbopt_registry_set(MyDatabaseId, installed);
	if (!installed || !dbopt_enable_worker)
		proc_exit(0);

	before_shmem_exit(stop_children, (Datum) 0);
	dbopt_registry_scheduler(MyDatabaseId, MyProcPid);
	loopcxt = AllocSetContextCreate(TopMemoryContext, "dbopt scheduler loop", ALLOCSET_DEFAULT_SIZES);

	for (;;)
	{
		List	   *due = NIL;
		List	   *no_slot = NIL;
		ListCell   *lc;
		long		sleep_ms = dbopt_launcher_naptime_ms;
		MemoryContext old;

		CHECK_FOR_INTERRUPTS();
		/* Off, or a command (DROP DATABASE, RENAME, TEMPLATE) needs the database. */
		if (!dbopt_enable_worker || dbopt_registry_paused(MyDatabaseId))
			proc_exit(0);
		old = MemoryContextSwitchTo(loopcxt);
		(void) child_running(-1);	/* reap */
		pgstat_report_activity(STATE_RUNNING, "dbopt scheduler: looking for due jobs");

		/* The error boundary: a failed tick is logged, backed off and retried. */
		PG_TRY();
		{
			TimestampTz pruned = last_prune;

			scheduler_tick(loopcxt, &pruned, &due, &sleep_ms);
			last_prune = pruned;
			failures = 0;
		}
		PG_CATCH();
		{
			MemoryContextSwitchTo(loopcxt);
			EmitErrorReport();
			FlushErrorState();
			AbortCurrentTransaction();
			MemoryContextSwitchTo(loopcxt);
			failures++;
			due = NIL;
			sleep_ms = Min((long) dbopt_launcher_naptime_ms << Min(failures, 6), 60000L);
			ereport(LOG,
					(errmsg("dbopt: the scheduler of database \"%s\" failed %d time(s) in a row; next try in %ld ms",
							my_dbname, failures, sleep_ms)));
		}
		PG_END_TRY();
		MemoryContextSwitchTo(loopcxt);

		/* Start the claimed jobs only now, so that their workers see the claim. */
		foreach(lc, due)
		{
			DueJob	   *dj = lfirst(lc);
			JobExtra	extra = {MyDatabaseId, dj->role};
			BackgroundWorkerHandle *h;

			h = start_child("dbopt_job_main", "dbopt job",
							psprintf("dbopt job " INT64_FORMAT " in database \"%s\"", dj->job_id, my_dbname),
							Int64GetDatum(dj->job_id), &extra, sizeof(extra), true);
			if (h)
				add_child(dj->job_id, h, dj->kill_at);
			else
				no_slot = lappend(no_slot, &dj->job_id);
		}
		PG_TRY();
		{
			record_no_slot(no_slot);
		}
		PG_CATCH();
		{
			MemoryContextSwitchTo(loopcxt);
			EmitErrorReport();
			FlushErrorState();
			AbortCurrentTransaction();
		}
		PG_END_TRY();
		sleep_ms = Min(sleep_ms, Max(enforce_max_runtime(), 10));
		MemoryContextSwitchTo(old);
		MemoryContextReset(loopcxt);
		pgstat_report_activity(STATE_IDLE, NULL);
		if (due != NIL && no_slot == NIL)
			sleep_ms = Min(sleep_ms, 100);
		else if (no_slot != NIL)
			sleep_ms = Min(sleep_ms, 1000);
		worker_sleep(sleep_ms);
	}
}

/* ---------- job worker ---------- */

/*
 * dbopt's bookkeeping before and after a job must not fail on the settings
 * a database or role gives sessions (read-only, statement timeouts); the
 * job's own work runs with them.
 */
static void
bookkeeping_settings(bool on)
{
	static const char *const names[] = {"default_transaction_read_only", "statement_timeout",
	"lock_timeout", "idle_in_transaction_session_timeout"};

	for (int i = 0; i < lengthof(names); i++)
		SetConfigOption(names[i],
						on ? (i == 0 ? "off" : "0") : GetConfigOptionResetString(names[i]),
						PGC_SUSET, PGC_S_SESSION);
}

void
dbopt_job_main(Datum arg)
{
	int64		job_id = DatumGetInt64(arg);
	JobExtra	extra;
	DboptJob   *job;
	int64		run_id;
	bool		locked;
	DboptJobOutcome out;
	MemoryContext jobcxt;

	memcpy(&extra, MyBgworkerEntry->bgw_extra, sizeof(extra));
	pqsignal(SIGHUP, SignalHandlerForConfigReload);
	pqsignal(SIGTERM, die);
	BackgroundWorkerUnblockSignals();
	BackgroundWorkerInitializeConnectionByOid(extra.dboid, extra.roleoid, DBOPT_BGW_CONNECT_FLAGS);
	pgstat_report_appname("dbopt job");
	/* The job and its outcome live across the three transactions below. */
	jobcxt = AllocSetContextCreate(TopMemoryContext, "dbopt job", ALLOCSET_DEFAULT_SIZES);

	/* Claim the job for our life, then record the run and commit it. */
	bookkeeping_settings(true);
	SetCurrentStatementStartTimestamp();
	StartTransactionCommand();
	MemoryContextSwitchTo(jobcxt);
	PushActiveSnapshot(GetTransactionSnapshot());
	locked = DatumGetBool(DirectFunctionCall2(pg_try_advisory_lock_int4,
											  Int32GetDatum(DBOPT_JOB_LOCK_CLASS),
											  Int32GetDatum((int32) job_id)));
	job = locked ? dbopt_job_load(job_id) : NULL;
	if (job == NULL || !dbopt_job_enabled(job))
	{
		PopActiveSnapshot();
		CommitTransactionCommand();
		proc_exit(0);
	}
	run_id = dbopt_job_begin(job);
	PopActiveSnapshot();
	CommitTransactionCommand();

	/* The work, in its own transaction (retention commits batch by batch). */
	bookkeeping_settings(false);
	SetCurrentStatementStartTimestamp();
	StartTransactionCommand();
	MemoryContextSwitchTo(jobcxt);
	pgstat_report_activity(STATE_RUNNING, dbopt_job_activity(job));
	if (dbopt_job_commits(job))
		dbopt_job_work(job, &out);
	else
	{
		PushActiveSnapshot(GetTransactionSnapshot());
		dbopt_job_work(job, &out);
		PopActiveSnapshot();
	}
	CommitTransactionCommand();

	/* The end, and the next run, after undoing what the job's SET statements left. */
	ResetAllOptions();
	bookkeeping_settings(true);
	SetCurrentStatementStartTimestamp();
	StartTransactionCommand();
	MemoryContextSwitchTo(jobcxt);
	PushActiveSnapshot(GetTransactionSnapshot());
	job = dbopt_job_load(job_id);
	if (job != NULL)
		dbopt_job_finish(job, run_id, &out);
	PopActiveSnapshot();
	CommitTransactionCommand();
	pgstat_report_activity(STATE_IDLE, NULL);
	proc_exit(0);
}
