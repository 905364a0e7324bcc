/*-------------------------------------------------------------------------
 *
 * retention.h
 *	  What retention.c offers the job worker.
 *
 *-------------------------------------------------------------------------
 */
#ifndef DBOPT_RETENTION_H
#define DBOPT_RETENTION_H

#include "postgres.h"

#include "datatype/timestamp.h"

/*
 * Apply every retention policy, committing after each batch and partition
 * (CALL run_data_retention()).  The caller's transaction must be one that
 * may be committed: no subtransaction, no snapshot held, not atomic.
 * deadline 0 means no limit.
 */
extern void dbopt_retention_run_committing(TimestampTz deadline);

#endif							/* DBOPT_RETENTION_H */
