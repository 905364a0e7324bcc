/*-------------------------------------------------------------------------
 *
 * dbopt.c
 *	  Library entry point: module magic, _PG_init, preload detection.
 *
 * The library works both preloaded and loaded on first use.  SQL functions
 * always work; features that need shared memory or a background worker call
 * dbopt_require_preloaded() so the DBA gets an error with a hint rather than
 * a silent no-op.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "fmgr.h"
#include "miscadmin.h"

#include "dbopt/dbopt.h"
#include "dbopt/index_whatif.h"
#include "dbopt/registry.h"

PG_MODULE_MAGIC;

bool		dbopt_preloaded = false;

void		_PG_init(void);

void
_PG_init(void)
{
	dbopt_preloaded = process_shared_preload_libraries_in_progress;
	dbopt_define_gucs();
	/* the what-if drop's planner hooks do nothing until it hides an index */
	dbopt_whatif_init();
	if (dbopt_preloaded)
	{
		dbopt_registry_init();
		dbopt_register_launcher();
	}
}

void
dbopt_require_preloaded(const char *feature)
{
	if (!dbopt_preloaded)
		ereport(ERROR,
				(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
				 errmsg("%s requires dbopt to be loaded via shared_preload_libraries",
						feature),
				 errdetail("The library was loaded on first use in this session, not at server start."),
				 errhint("Add dbopt to shared_preload_libraries in postgresql.conf and restart the server.")));
}
