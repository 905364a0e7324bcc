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

#include "dbopt/dbopt.h"
#include "dbopt/isolate.h"
#include "dbopt/privs.h"

static TimeoutId unit_timeout_id = MAX_TIMEOUTS;
static volatile sig_atomic_t unit_timed_out = false;

static void
unit_timeout_handler(void)
{
	unit_timed_out = true;
	QueryCancelPending = true;
	InterruptPending = true;
	SetLatch(MyLatch);
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

	if (timeout_ms > 0 && unit_timeout_id == MAX_TIMEOUTS)
		unit_timeout_id = RegisterTimeout(USER_TIMEOUT, unit_timeout_handler);

	memset(err, 0, sizeof(*err));
	unit_timed_out = false;

	BeginInternalSubTransaction(NULL);
	MemoryContextSwitchTo(oldcxt);

	PG_TRY();
	{
		DboptIdentity id;
		int			nest;

		/* The subtransaction's abort undoes the switch and the settings. */
		if (OidIsValid(as_role) && (flags & DBOPT_UNIT_CALLER_SEARCH_PATH))
			dbopt_become_keep_path(as_role, &id);
		else if (OidIsValid(as_role))
			dbopt_become(as_role, &id);
		nest = (flags & DBOPT_UNIT_CALLER_SEARCH_PATH) ?
			NewGUCNestLevel() : dbopt_pin_search_path();
		dbopt_set_local_guc("lock_timeout", psprintf("%d", dbopt_lock_timeout_ms));
		if (timeout_ms > 0)
			enable_timeout_after(unit_timeout_id, timeout_ms);
		fn(arg);
		if (timeout_ms > 0)
		{
			disable_timeout(unit_timeout_id, false);
			if (unit_timed_out && !QueryCancelPending)
			{
				/* The unit caught our cancel and went on: still out of time. */
				ereport(ERROR,
						(errcode(ERRCODE_QUERY_CANCELED),
						 errmsg("canceling statement due to dbopt time limit")));
			}
			/* Fired after the unit's last interrupt check: withdraw the cancel. */
			if (unit_timed_out)
			{
				QueryCancelPending = false;
				unit_timed_out = false;
			}
		}
		/* Settings the unit made, even with plain SET, end with it. */
		AtEOXact_GUC(false, nest);
		if (OidIsValid(as_role))
			dbopt_restore_identity(&id);

		ReleaseCurrentSubTransaction();
		MemoryContextSwitchTo(oldcxt);
		CurrentResourceOwner = oldowner;
	}
	PG_CATCH();
	{
		ErrorData  *edata;
		bool		ours;

		if (timeout_ms > 0)
			disable_timeout(unit_timeout_id, false);
		ours = unit_timed_out;
		unit_timed_out = false;

		MemoryContextSwitchTo(oldcxt);
		edata = CopyErrorData();
		FlushErrorState();
		RollbackAndReleaseCurrentSubTransaction();
		MemoryContextSwitchTo(oldcxt);
		CurrentResourceOwner = oldowner;

		/* A cancel that is not ours belongs to the user: stop everything. */
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
