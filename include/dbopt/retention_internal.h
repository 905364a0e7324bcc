/*-------------------------------------------------------------------------
 *
 * retention_internal.h
 *	  What the row-retention files share (retention.c, retention_refs.c,
 *	  retention_run.c): one policy, what one run of it did, and the
 *	  helpers each file offers the others.  Not for the rest of dbopt.
 *
 *-------------------------------------------------------------------------
 */
#ifndef DBOPT_RETENTION_INTERNAL_H
#define DBOPT_RETENTION_INTERNAL_H

#include "postgres.h"

#include "datatype/timestamp.h"
#include "lib/stringinfo.h"
#include "nodes/pg_list.h"

/* One row of dbopt.retention_policies. */
typedef struct Policy
{
	Oid			relid;
	char	   *time_column;
	Interval   *keep;
	char	   *keep_text;
	bool		archive;
	Oid			archive_relid;
	int			batch_size;
	int64		max_rows;		/* 0: no limit */
	bool		enabled;
	bool		error_if_referenced;	/* on_referenced = 'error' */
} Policy;

/* What one policy did in one run. */
typedef struct Outcome
{
	TimestampTz cutoff;
	int64		deleted;
	int64		archived;
	int			dropped;
	int			batches;
	double		longest_batch_ms;
	const char *status;
	StringInfoData detail;
	bool		stopped;		/* out of time or rows: resumes next run */
	bool		failed;
	bool		lock_busy;
} Outcome;

/* retention.c: the registry and its checks */
extern List *dbopt_ret_load_policies(void);
extern void dbopt_ret_check_table(Oid relid, const char *argname, const char *func,
								  const char *column);
extern void dbopt_ret_check_archive(Oid relid, Oid archive, const char *func);

/* retention_refs.c: foreign keys that point at a policy's table */
extern char *dbopt_ret_referencing_keys(Oid relid);
extern List *dbopt_ret_blocking_keys(Oid relid);
extern char *dbopt_ret_unreferenced_filter(List *keys, Oid policy_relid, Oid target,
										   const char *name);
extern bool dbopt_ret_check_referenced(Policy *p, List *blocking, Outcome *o);

/* retention_run.c */
extern void dbopt_ret_add_detail(Outcome *o, const char *fmt,...) pg_attribute_printf(2, 3);

#endif							/* DBOPT_RETENTION_INTERNAL_H */
