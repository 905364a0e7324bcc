/*-------------------------------------------------------------------------
 *
 * integrity.h
 *	  What check_data_integrity() knows that other reports need.
 *
 *-------------------------------------------------------------------------
 */
#ifndef DBOPT_INTEGRITY_H
#define DBOPT_INTEGRITY_H

#include "postgres.h"

/* Whether an index name is a leftover of a failed REINDEX CONCURRENTLY. */
extern bool dbopt_is_reindex_leftover(const char *name);

/*
 * Duplicated keys of a unique index, counted as the table's owner; -1 when
 * they could not be counted.
 */
extern int64 dbopt_unique_duplicate_keys(Oid indexrelid);

/*
 * The share of its range a sequence has handed out, as the
 * sequence_exhaustion check judges it (the nearest of its own limit and
 * that of the narrowest column it feeds); false when it cannot be read.
 */
extern bool dbopt_sequence_used_fraction(Oid seqid, double *used);

#endif							/* DBOPT_INTEGRITY_H */
