/*-------------------------------------------------------------------------
 *
 * matviews.h
 *	  What matviews.c offers the job runner.
 *
 *-------------------------------------------------------------------------
 */
#ifndef DBOPT_MATVIEWS_H
#define DBOPT_MATVIEWS_H

#include "postgres.h"

/*
 * relid is a materialized view the caller owns, or an error; detail and
 * hint explain a relation that is not a materialized view.
 */
extern void dbopt_require_own_matview(Oid relid, const char *detail, const char *hint);

#endif							/* DBOPT_MATVIEWS_H */
