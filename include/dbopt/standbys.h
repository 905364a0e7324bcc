/*-------------------------------------------------------------------------
 *
 * standbys.h
 *	  Index scans on registered hot standbys (standbys.c).
 *
 *-------------------------------------------------------------------------
 */
#ifndef DBOPT_STANDBYS_H
#define DBOPT_STANDBYS_H

#include "postgres.h"

#include "datatype/timestamp.h"
#include "nodes/pg_list.h"
#include "utils/hsearch.h"

/* One index's scans on the standbys, in the HTAB dbopt_standby_scans() returns. */
typedef struct DboptStandbyScan
{
	Oid			indexrelid;		/* the key: standbys keep the primary's OIDs */
	int64		scans;			/* summed over the standbys read; partitioned
								 * indexes sum their leaves */
} DboptStandbyScan;

/*
 * idx_scan of every user index on every registered standby that could be
 * read, as the caller (dblink's rules apply).  *nregistered: standbys
 * registered; *problems: one sentence (char *) per standby that could not
 * be read and per walsender that is not registered (*nunregistered of them); *latest_epoch: the
 * latest statistics epoch among the standbys read (0 if none).  Returns
 * NULL when nothing was read.  Never errors for a standby's sake.  On a
 * standby it reads nothing: the registry describes the primary's standbys.
 */
extern HTAB *dbopt_standby_scans(int *nregistered, int *nunregistered, List **problems,
								 TimestampTz *latest_epoch);

#endif							/* DBOPT_STANDBYS_H */
