/*-------------------------------------------------------------------------
 *
 * checks.h
 *	  The registry of checks (src/checks.c): every check_name a report can
 *	  emit, with its threshold settings and, for checks written in SQL,
 *	  its query (src/checks/<report>.sql).
 *
 *-------------------------------------------------------------------------
 */
#ifndef DBOPT_CHECKS_H
#define DBOPT_CHECKS_H

#include "postgres.h"

/*
 * A dbopt.* setting a check is held against.  A setting that several
 * checks share is described by the first of them; the others name it only.
 */
typedef struct DboptSetting
{
	const char *name;			/* "dbopt.health_cache_hit_ratio", or NULL */
	const char *description;	/* NULL: described by an earlier check */
	int			unit;			/* GUC_UNIT_*, or 0 */
	bool		real;			/* a real setting, else an integer one */
	double		boot;
	double		max;
	const char *long_description;	/* NULL: "Documented with dbopt.<report>()" */
} DboptSetting;

typedef struct DboptCheck
{
	const char *name;
	const char *report;			/* the SQL function that emits it */
	const char *description;	/* what it finds, and its severity rules */
	/*
	 * For a check written as one query: the query, returning (severity,
	 * object_name, detail, remediation, fix_sql[, value]); $1 is the
	 * threshold in the value's unit, $2 the second setting.  NULL for a
	 * check made by the report's C code.
	 */
	const char *query;
	const char *ok_detail;		/* the ok row's detail when no row comes back */
	DboptSetting threshold;		/* $1 */
	double		scale;			/* threshold's unit to the value's unit; 0 means 1 */
	DboptSetting second;		/* $2 */
	bool		needs_pgss;		/* the query reads pg_stat_statements (@pgss@) */
} DboptCheck;

extern int	dbopt_check_count(void);
extern const DboptCheck *dbopt_check_at(int i);
extern bool dbopt_check_is_known(const char *check_name);
extern const char *dbopt_check_closest(const char *check_name);

/* Setting values, in the settings' own units. */
extern double dbopt_setting_value(const DboptSetting *s);
extern double dbopt_check_threshold_of(const char *check_name, const char *report);
extern double dbopt_check_threshold(const DboptCheck *c);	/* scaled */

/* The query with its tokens (@pgss@, @checkpoint_counts@) filled in. */
extern char *dbopt_check_query(const DboptCheck *c, const char *pgss_schema);

/* Defines every threshold setting (called from _PG_init via guc.c). */
extern void dbopt_define_check_settings(void);

#endif							/* DBOPT_CHECKS_H */
