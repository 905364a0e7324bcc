/*-------------------------------------------------------------------------
 *
 * findings.h
 *	  The one findings shape every check-style report returns.
 *
 * Rows are (severity, check_name, object_name, detail, remediation,
 * fix_sql) followed by the report's own columns.  Reports build them only
 * through dbopt_findings_add(), which also applies dbopt.suppressions, and
 * end with dbopt_findings_end(), which returns them sorted: severity
 * (critical, warning, info, ok), then object_name and check_name in byte
 * order (NULL last), then the order the report added them.
 *
 *-------------------------------------------------------------------------
 */
#ifndef DBOPT_FINDINGS_H
#define DBOPT_FINDINGS_H

#include "postgres.h"

#include "fmgr.h"
#include "funcapi.h"

#define DBOPT_FINDINGS_NCOLS 6

typedef enum DboptSeverity
{
	DBOPT_CRITICAL,
	DBOPT_WARNING,
	DBOPT_INFO,
	DBOPT_OK
} DboptSeverity;

typedef struct DboptFinding
{
	DboptSeverity severity;
	const char *check_name;		/* registered code, see checks.c */
	const char *object_name;	/* qualified and quoted, or NULL */
	const char *detail;
	const char *remediation;
	const char *fix_sql;		/* ready to run, or NULL */
} DboptFinding;

typedef struct DboptSuppression DboptSuppression;

/* Active suppressions, sorted by (check_name, object_name). */
typedef struct DboptSuppressionSet
{
	DboptSuppression *items;
	int			n;
} DboptSuppressionSet;

/*
 * Load the active suppressions into cxt.  Reports that are not in the
 * findings shape (per-object inventories with finding codes) use this and
 * dbopt_suppression_match() directly.
 */
extern DboptSuppressionSet *dbopt_suppressions_load(MemoryContext cxt);

/*
 * The suppression hiding (check_name, object_name), or NULL: an exact match
 * first, then a wildcard (object_name NULL) for the check.
 */
extern const DboptSuppression *dbopt_suppression_match(const DboptSuppressionSet *set,
													   const char *check_name,
													   const char *object_name);

/* "[suppressed: reason; until ts]", to append to a detail text. */
extern char *dbopt_suppression_note(const DboptSuppression *s);

typedef struct DboptFindings
{
	ReturnSetInfo *rsinfo;
	TupleDesc	tupdesc;
	int			nextra;			/* report's own columns */
	bool		include_suppressed;
	bool		hide_passed;	/* drop 'ok' rows (include_passed => false) */
	struct Tuplesortstate *sort;	/* rows until dbopt_findings_end() */
	TupleTableSlot *sortslot;	/* the report's columns, rank, sequence */
	DboptSuppressionSet *supp;
	MemoryContext rowcxt;		/* reset after every row */
	int64		emitted;
	int64		suppressed;
} DboptFindings;

/*
 * Set up a materialized result for the calling SRF, check its declared
 * shape, and load the active suppressions.
 */
extern void dbopt_findings_begin(DboptFindings *f, FunctionCallInfo fcinfo,
								 bool include_suppressed);

/*
 * Emit one row unless suppressed.  extra/extra_null carry the report's own
 * columns (f->nextra of them); both may be NULL when nextra is 0, or to emit
 * all-NULL extras.  Returns true when the row was emitted.
 */
extern bool dbopt_findings_add(DboptFindings *f, const DboptFinding *row,
							   Datum *extra, bool *extra_null);

/* Sort the rows added and hand them to the caller; call once, last. */
extern void dbopt_findings_end(DboptFindings *f);

extern const char *dbopt_severity_name(DboptSeverity s);

#endif							/* DBOPT_FINDINGS_H */
