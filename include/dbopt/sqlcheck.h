/*-------------------------------------------------------------------------
 *
 * sqlcheck.h
 *	  Checks written as one read-only query each (health_check(),
 *	  validate_security_configuration()).
 *
 * A check's query returns (severity text, object_name text, detail text,
 * remediation text, fix_sql text) and optionally a sixth column, value
 * double precision.  It runs isolated: a failure (a privilege, the
 * dbopt.check_timeout limit) comes back as an error for the caller to
 * report, and the other checks still run.
 *
 *-------------------------------------------------------------------------
 */
#ifndef DBOPT_SQLCHECK_H
#define DBOPT_SQLCHECK_H

#include "postgres.h"

#include "nodes/pg_list.h"

#include "dbopt/findings.h"
#include "dbopt/isolate.h"

typedef struct DboptCheckRow
{
	DboptSeverity severity;
	char	   *object_name;
	char	   *detail;
	char	   *remediation;
	char	   *fix_sql;
	bool		value_null;
	double		value;
} DboptCheckRow;

/*
 * Run one check's query with the given parameters.  On success *rows holds
 * its DboptCheckRow rows, in query order, in the caller's memory context.
 */
extern bool dbopt_sql_check_rows(const char *sql, int nargs, Oid *types, Datum *values,
								 List **rows, DboptUnitError *err);

#endif							/* DBOPT_SQLCHECK_H */
