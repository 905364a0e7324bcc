/*-------------------------------------------------------------------------
 *
 * jobs.h
 *	  What the background worker needs from the job registry (jobs.c).
 *
 *-------------------------------------------------------------------------
 */
#ifndef DBOPT_JOBS_H
#define DBOPT_JOBS_H

#include "postgres.h"

typedef struct DboptJob DboptJob;

/* "dbop": first key of the advisory lock held on a job while it runs. */
#define DBOPT_JOB_LOCK_CLASS 0x64626f70

typedef struct DboptJobOutcome
{
	const char *status;			/* succeeded, failed, timed_out */
	const char *sqlstate;
	const char *message;
} DboptJobOutcome;

/* The job, or NULL when it was removed.  Needs a transaction. */
extern DboptJob *dbopt_job_load(int64 job_id);
extern const char *dbopt_job_name(const DboptJob *j);
extern bool dbopt_job_enabled(const DboptJob *j);
/* Whether its work commits on its own (no snapshot may be held around it). */
extern bool dbopt_job_commits(const DboptJob *j);
/* What pg_stat_activity.query shows while it runs. */
extern char *dbopt_job_activity(const DboptJob *j);

/* Record the run as 'running'; commit before doing the work. */
extern int64 dbopt_job_begin(DboptJob *j);
/* Do the work; failures are caught and described in *out. */
extern void dbopt_job_work(DboptJob *j, DboptJobOutcome *out);
/* Record the end and the next run, backing off after failures. */
extern void dbopt_job_finish(DboptJob *j, int64 run_id, const DboptJobOutcome *out);


#endif							/* DBOPT_JOBS_H */
