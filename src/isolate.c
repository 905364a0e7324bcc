/*-------------------------------------------------------------------------
 *
 * isolate.c
 *	  Subtransaction runner shared by reports and maintenance functions.
 *
 * Owns the per-unit time limit (a USER_TIMEOUT registered on first use)
 * and the dbopt.lock_timeout wait limit.  A unit's own time limit raises
 * the same cancel as a user's Ctrl-C; a flag set by our handler tells the
 * two apart, so only our limit is turned into a reportable failure.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/xact.h"
#include "miscadmin.h"
#include "storage/latch.h"
#include "utils/elog.h"
#include "utils/guc.h"
#include "utils/resowner.h"
#include "utils/timeout.h"
#include "utils/timestamp.h"

#include "dbopt/dbopt.h"
#include "dbopt/isolate.h"
#include "dbopt/privs.h"

static TimeoutId unit_timeout_id = MAX_TIMEOUTS;

/*
 * The time limits of the units now running, outermost first (0: none).
 * The timer is armed at the earliest, so an inner unit can shorten the
 * time left but never extend or cancel an outer limit.  When it fires, the
 * deadline it was armed at tells which unit's limit it was.
 */
#define MAX_UNIT_DEPTH 64
static TimestampTz unit_deadlines[MAX_UNIT_DEPTH];
static int	unit_depth = 0;
static TimestampTz armed_deadline = 0;
static volatile TimestampTz fired_deadline = 0;

static void
unit_timeout_handler(void)
{
	fired_deadline = armed_deadline;
	QueryCancelPending = true;
	InterruptPending = true;
	SetLatch(MyLatch);
}

/* A transaction that ends in error ends every unit in it. */
static void
units_at_abort(XactEvent event, void *arg)
{
	if (event != XACT_EVENT_ABORT && event != XACT_EVENT_PARALLEL_ABORT)
		return;
	unit_depth = 0;
	fired_deadline = 0;
	if (armed_deadline != 0)
	{
		disable_timeout(unit_timeout_id, false);
		armed_deadline = 0;
	}
}

/* Arm the timer at the earliest deadline of the units still running. */
static void
rearm(void)
{
	TimestampTz earliest = 0;

	for (int i = 0; i < unit_depth; i++)
		if (unit_deadlines[i] != 0 && (earliest == 0 || unit_deadlines[i] < earliest))
			earliest = unit_deadlines[i];
	if (unit_timeout_id == MAX_TIMEOUTS)
	{
		if (earliest == 0)
			return;
		unit_timeout_id = RegisterTimeout(USER_TIMEOUT, unit_timeout_handler);
		RegisterXactCallback(units_at_abort, NULL);
	}
	if (earliest == armed_deadline)
		return;
	armed_deadline = earliest;
	if (earliest == 0)
		disable_timeout(unit_timeout_id, false);
	else
		enable_timeout_at(unit_timeout_id, earliest);
}

int
dbopt_push_lock_timeout(void)
{
	int			nest = NewGUCNestLevel();

	dbopt_set_local_guc("lock_timeout", psprintf("%d", dbopt_lock_timeout_ms));
	return nest;
}

bool
dbopt_run_isolated(DboptUnitFn fn, void *arg, int timeout_ms,
				   DboptUnitError *err)
{
	return dbopt_run_unit(fn, arg, InvalidOid, 0, timeout_ms, err);
}

bool
dbopt_run_unit(DboptUnitFn fn, void *arg, Oid as_role, int flags,
			   int timeout_ms, DboptUnitError *err)
{
	MemoryContext oldcxt = CurrentMemoryContext;
	ResourceOwner oldowner = CurrentResourceOwner;
	volatile bool ok = true;
	TimestampTz mine = timeout_ms > 0 ?
		TimestampTzPlusMilliseconds(GetCurrentTimestamp(), timeout_ms) : 0;

	memset(err, 0, sizeof(*err));
	if (as_role == DBOPT_UNIT_NO_OWNER)
	{
		/* The relation whose owner it should run as is gone: run nothing. */
		err->sqlerrcode = ERRCODE_UNDEFINED_TABLE;
		err->message = pstrdup("the relation was dropped meanwhile");
		return false;
	}
	if (unit_depth >= MAX_UNIT_DEPTH)
		elog(ERROR, "dbopt units nested more than %d deep", MAX_UNIT_DEPTH);

	BeginInternalSubTransaction(NULL);
	MemoryContextSwitchTo(oldcxt);
	unit_deadlines[unit_depth++] = mine;
	rearm();

	PG_TRY();
	{
		DboptIdentity id;
		int			nest;

		/* The subtransaction's abort undoes the switch and the settings. */
		/* dbopt_become() pins the path itself; the nest level then undoes both. */
		if (OidIsValid(as_role) && (flags & DBOPT_UNIT_CALLER_SEARCH_PATH))
			dbopt_become_keep_path(as_role, &id);
		else if (OidIsValid(as_role))
			dbopt_become(as_role, &id);
		nest = (flags & DBOPT_UNIT_CALLER_SEARCH_PATH) || OidIsValid(as_role) ?
			NewGUCNestLevel() : dbopt_pin_search_path();
		dbopt_set_local_guc("lock_timeout", psprintf("%d", dbopt_lock_timeout_ms));
		fn(arg);
		if (mine != 0 && fired_deadline == mine)
		{
			if (!QueryCancelPending)
			{
				/* The unit caught our cancel and went on: still out of time. */
				ereport(ERROR,
						(errcode(ERRCODE_QUERY_CANCELED),
						 errmsg("canceling statement due to dbopt time limit")));
			}
			/* Fired after the unit's last interrupt check: withdraw the cancel. */
			QueryCancelPending = false;
			fired_deadline = 0;
		}
		else if (fired_deadline != 0 && !QueryCancelPending)
		{
			/* An outer unit's limit, caught in here: it still applies out there. */
			QueryCancelPending = true;
			InterruptPending = true;
		}
		/* Settings the unit made, even with plain SET, end with it. */
		AtEOXact_GUC(false, nest);
		if (OidIsValid(as_role))
			dbopt_restore_identity(&id);

		unit_depth--;
		rearm();
		ReleaseCurrentSubTransaction();
		MemoryContextSwitchTo(oldcxt);
		CurrentResourceOwner = oldowner;
	}
	PG_CATCH();
	{
		ErrorData  *edata;
		bool		ours = (mine != 0 && fired_deadline == mine);

		if (ours)
			fired_deadline = 0;
		unit_depth--;
		rearm();

		MemoryContextSwitchTo(oldcxt);
		edata = CopyErrorData();
		FlushErrorState();
		RollbackAndReleaseCurrentSubTransaction();
		MemoryContextSwitchTo(oldcxt);
		CurrentResourceOwner = oldowner;

		/* A cancel that is not ours (the user's, or an outer unit's limit): stop. */
		if (edata->sqlerrcode == ERRCODE_QUERY_CANCELED && !ours)
			ReThrowError(edata);

		err->sqlerrcode = edata->sqlerrcode;
		err->timed_out = ours;
		err->lock_timeout = (edata->sqlerrcode == ERRCODE_LOCK_NOT_AVAILABLE);
		if (ours)
			err->message = psprintf("stopped after its time limit of %d ms",
									timeout_ms);
		else
			err->message = edata->message ? pstrdup(edata->message) : pstrdup("unknown error");
		err->detail = edata->detail ? pstrdup(edata->detail) : NULL;
		FreeErrorData(edata);
		ok = false;
	}
	PG_END_TRY();

	return ok;
}

ErrorData *
dbopt_try_subxact(DboptUnitFn fn, void *arg)
{
	MemoryContext cxt = CurrentMemoryContext;
	ResourceOwner owner = CurrentResourceOwner;
	ErrorData  *volatile edata = NULL;

	BeginInternalSubTransaction(NULL);
	MemoryContextSwitchTo(cxt);
	PG_TRY();
	{
		fn(arg);
		ReleaseCurrentSubTransaction();
		MemoryContextSwitchTo(cxt);
		CurrentResourceOwner = owner;
	}
	PG_CATCH();
	{
		MemoryContextSwitchTo(cxt);
		edata = CopyErrorData();
		FlushErrorState();
		RollbackAndReleaseCurrentSubTransaction();
		MemoryContextSwitchTo(cxt);
		CurrentResourceOwner = owner;
	}
	PG_END_TRY();
	return edata;
}

char *
dbopt_unit_error_text(const DboptUnitError *err)
{
	if (err->lock_timeout)
		return psprintf("lock not granted within dbopt.lock_timeout (%d ms); another session holds a conflicting lock",
						dbopt_lock_timeout_ms);
	if (err->timed_out)
		return pstrdup(err->message);
	return psprintf("%s (SQLSTATE %s)", err->message, unpack_sql_state(err->sqlerrcode));
}
