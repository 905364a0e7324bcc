/*-------------------------------------------------------------------------
 *
 * isolate.h
 *	  Run one unit of work so that its failure cannot stop the others.
 *
 * Reports that run many independent checks, and maintenance functions that
 * act on many objects, wrap each unit in dbopt_run_isolated().  A unit that
 * fails (permission, lock timeout, its own time limit, bad data) is rolled
 * back on its own and its error is returned; a cancel from the user or from
 * statement_timeout still stops the whole statement.
 *
 *-------------------------------------------------------------------------
 */
#ifndef DBOPT_ISOLATE_H
#define DBOPT_ISOLATE_H

#include "postgres.h"

#include "dbopt/privs.h"

typedef void (*DboptUnitFn) (void *arg);

typedef struct DboptUnitError
{
	int			sqlerrcode;
	bool		timed_out;		/* stopped by the unit's own time limit */
	bool		lock_timeout;	/* a lock was not granted within the wait */
	char	   *message;
	char	   *detail;
} DboptUnitError;

/*
 * Run fn(arg) in a subtransaction.  While it runs, lock waits are limited
 * to dbopt.lock_timeout and, if timeout_ms > 0, the unit is cancelled after
 * that long.  Returns true on success; otherwise fills *err (allocated in
 * the caller's memory context) and returns false.  Work done by a failed
 * unit is rolled back.
 *
 * fn must not emit rows into a tuplestore: rows written from inside the
 * subtransaction could reference resources that its rollback releases.
 */
extern bool dbopt_run_isolated(DboptUnitFn fn, void *arg, int timeout_ms,
							   DboptUnitError *err);

/*
 * The same, with options.  A unit runs under search_path = pg_catalog,
 * pg_temp unless flags has DBOPT_UNIT_CALLER_SEARCH_PATH (a job's own
 * SQL).  With as_role valid, it runs as that role under
 * SECURITY_RESTRICTED_OPERATION: a table's owner, for units that run code
 * the owner controls (triggers, CHECK expressions, partition keys), or a
 * job's role.  Whatever settings the unit changes, even with a plain SET,
 * are undone when it ends.
 */
#define DBOPT_UNIT_CALLER_SEARCH_PATH 0x01

/*
 * as_role for a unit that must run as a relation's owner: the owner, or,
 * when the relation is gone, a value that makes the unit fail without
 * running (never a silent run as the caller).
 */
#define DBOPT_UNIT_NO_OWNER ((Oid) 0xFFFFFFFF)
#define dbopt_unit_owner(relid) \
	(OidIsValid(dbopt_relation_owner(relid)) ? dbopt_relation_owner(relid) : DBOPT_UNIT_NO_OWNER)
extern bool dbopt_run_unit(DboptUnitFn fn, void *arg, Oid as_role, int flags,
						   int timeout_ms, DboptUnitError *err);

/*
 * Run fn(arg) in an internal subtransaction, with nothing else set: NULL
 * when it succeeds, else its error, copied into the caller's memory
 * context after the subtransaction is rolled back.  The caller decides
 * which errors to raise again (ReThrowError) and which to report.
 */
extern ErrorData *dbopt_try_subxact(DboptUnitFn fn, void *arg);

/*
 * In the current (sub)transaction, limit lock waits to dbopt.lock_timeout.
 * Returns the GUC nest level to pass to AtEOXact_GUC() when done.
 */
extern int	dbopt_push_lock_timeout(void);

/*
 * One line saying why a unit failed, for a 'skipped' row: the lock wait
 * named as such, otherwise the error message and its SQLSTATE.
 */
extern char *dbopt_unit_error_text(const DboptUnitError *err);

#endif							/* DBOPT_ISOLATE_H */
