/*-------------------------------------------------------------------------
 *
 * index_evidence.h
 *	  Statistics epoch and per-index observation windows.
 *
 *-------------------------------------------------------------------------
 */
#ifndef DBOPT_INDEX_EVIDENCE_H
#define DBOPT_INDEX_EVIDENCE_H

#include "datatype/timestamp.h"
#include "utils/hsearch.h"

/* One row of dbopt.index_observations, as analyze_index_usage() reads it. */
typedef struct DboptObservation
{
	Oid			indexrelid;
	TimestampTz first_seen;
	TimestampTz last_seen;
	int64		last_idx_scan;
	int64		scans;			/* scans seen over every window */
	int64		idle;			/* usecs observed without a scan, up to last_seen */
	int			resets;			/* windows a reset cut short */
} DboptObservation;

/* What is known about one index's usage. */
typedef struct DboptEvidence
{
	bool		history;		/* snapshots have observed it */
	int64		scans;			/* scans seen, snapshots and live counter together */
	int64		idle;			/* usecs observed without a scan; -1 scanned in the open window */
	TimestampTz since;			/* observation began */
	int			resets;			/* resets (crashes included) met along the way */
	bool		birth_known;	/* its file's creation time bounds the observation */
} DboptEvidence;

/* The latest statistics reset the server shows, and what it was. */
extern void dbopt_stats_epoch(TimestampTz *epoch, const char **source);

/* take_snapshot()'s upsert: $1 the snapshot time, $2 the epoch. */
extern const char *const dbopt_observe_indexes_sql;
extern const char *const dbopt_forget_indexes_sql;

extern HTAB *dbopt_observations_load(TimestampTz *latest);
extern void dbopt_index_evidence(HTAB *obs, TimestampTz latest, Oid indexrelid, int64 live,
								 TimestampTz epoch, TimestampTz now, DboptEvidence *ev);

#endif
