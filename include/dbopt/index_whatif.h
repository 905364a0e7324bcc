/*-------------------------------------------------------------------------
 *
 * index_whatif.h
 *	  What the workload's plans would cost without an index (see
 *	  index_whatif.c).
 *
 *-------------------------------------------------------------------------
 */
#ifndef DBOPT_INDEX_WHATIF_H
#define DBOPT_INDEX_WHATIF_H

#include "postgres.h"

#include "dbopt/workload.h"

typedef struct DboptWhatif
{
	bool		available;		/* pg_stat_statements readable */
	int			nstatements;	/* statements touching the table (the caller may run) */
	int			nusing;			/* whose plan uses the index */
	int			nkeeper;		/* of those, whose plan without it uses keeper */
	int			nworse;			/* of those, cost_without > cost_with * 1.10 */
	int			nfailed;		/* of those, that failed to plan without it */
	double		max_ratio;		/* max cost_without / cost_with over nusing, 1 if none */
} DboptWhatif;

/* Install the planner hooks; from _PG_init. */
extern void dbopt_whatif_init(void);

/*
 * The workload with the index hidden from the planner: only the statements
 * whose plan scans it (or, for a partitioned index, one of its partitions)
 * are planned again, so an index no plan uses costs no planning.  keeper
 * (InvalidOid for none) is an index the plans might fall back on.  Never
 * raises for a statement that fails to plan: it is counted in nfailed.
 */
extern void dbopt_whatif_index(DboptWorkload *w, Oid indexrelid, Oid keeper, DboptWhatif *out);

#endif							/* DBOPT_INDEX_WHATIF_H */
