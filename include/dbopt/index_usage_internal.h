/*-------------------------------------------------------------------------
 *
 * index_usage_internal.h
 *	  What the index analysis files share (index_usage.c, index_verdicts.c,
 *	  unindexed_fk.c).  Not for the rest of dbopt.
 *
 *-------------------------------------------------------------------------
 */
#ifndef DBOPT_INDEX_USAGE_INTERNAL_H
#define DBOPT_INDEX_USAGE_INTERNAL_H

#include "postgres.h"

/* Whether the first ncols key columns of an index are exactly cols, in any order. */
extern bool dbopt_iu_leading_keys_are(const int16 *keyatts, int nkeys,
									  const int16 *cols, int ncols);

#endif							/* DBOPT_INDEX_USAGE_INTERNAL_H */
