/*-------------------------------------------------------------------------
 *
 * partitions.h
 *	  What the partition files offer the rest of dbopt: retention by
 *	  whole partitions for a row-retention policy (partition_drops.c).
 *
 *-------------------------------------------------------------------------
 */
#ifndef DBOPT_PARTITIONS_H
#define DBOPT_PARTITIONS_H

#include "postgres.h"

#include "datatype/timestamp.h"
#include "nodes/pg_list.h"

/*
 * Called between two units of a long run (after a batch, after a
 * partition); the procedure commits and sleeps here.  Returning false
 * stops the run.
 */
typedef bool (*DboptBetweenUnits) (void *arg);

typedef struct DboptPartitionDrops
{
	bool		applies;		/* range-partitioned on that time column */
	int			dropped;		/* or would be, in a dry run */
	int			skipped;		/* lock busy, rows arrived, ... */
	int64		rows;			/* planner's estimate of the rows they held */
	List	   *relids;			/* partitions dropped, or that would be */
	char	   *first_problem;
} DboptPartitionDrops;

/*
 * Drop the partitions of parent wholly older than cutoff, when parent is
 * range-partitioned on column, with drop_old_partitions()' rules and
 * locking.  With require_empty a partition that still holds rows stays.
 */
extern void dbopt_drop_partitions_below(Oid parent, const char *column, TimestampTz cutoff,
										bool dry_run, bool require_empty,
										DboptBetweenUnits between, void *between_arg,
										DboptPartitionDrops *out);

/*
 * Seconds from now to the end of the unbroken run of range partitions
 * holding now (+Inf to MAXVALUE, 0 when none holds now), for a table
 * range-partitioned on a time key; false otherwise, or when its partitions
 * could not be read within dbopt.lock_timeout.
 */
extern bool dbopt_partition_runway(Oid parent, double *seconds);

#endif							/* DBOPT_PARTITIONS_H */
