/*-------------------------------------------------------------------------
 *
 * sqlcheck.c
 *	  Running a check that is one read-only query, isolated, and reading
 *	  its rows in the findings shape.  See sqlcheck.h.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "executor/spi.h"

#include "dbopt/dbopt.h"
#include "dbopt/sqlcheck.h"

typedef struct CheckUnit
{
	const char *sql;
	int			nargs;
	Oid		   *types;
	Datum	   *values;
	List	   *rows;
} CheckUnit;

static DboptSeverity
severity_from_text(const char *s)
{
	if (s && strcmp(s, "critical") == 0)
		return DBOPT_CRITICAL;
	if (s && strcmp(s, "warning") == 0)
		return DBOPT_WARNING;
	if (s && strcmp(s, "info") == 0)
		return DBOPT_INFO;
	if (s && strcmp(s, "ok") == 0)
		return DBOPT_OK;
	elog(ERROR, "a check returned severity \"%s\"", s ? s : "NULL");
	return DBOPT_OK;			/* keep the compiler quiet */
}

/* Runs inside dbopt_run_isolated(); rows land in the caller's context. */
static void
check_unit(void *arg)
{
	CheckUnit  *u = (CheckUnit *) arg;
	MemoryContext outer = CurrentMemoryContext;

	SPI_connect();
	if (SPI_execute_with_args(u->sql, u->nargs, u->types, u->values, NULL, true, 0) != SPI_OK_SELECT)
		elog(ERROR, "check query did not run: %s", u->sql);
	MemoryContextSwitchTo(outer);
	for (uint64 i = 0; i < SPI_processed; i++)
	{
		HeapTuple	tup = SPI_tuptable->vals[i];
		TupleDesc	desc = SPI_tuptable->tupdesc;
		DboptCheckRow *r = palloc0(sizeof(DboptCheckRow));

		r->severity = severity_from_text(SPI_getvalue(tup, desc, 1));
		r->object_name = SPI_getvalue(tup, desc, 2);
		r->detail = SPI_getvalue(tup, desc, 3);
		r->remediation = SPI_getvalue(tup, desc, 4);
		r->fix_sql = SPI_getvalue(tup, desc, 5);
		r->value_null = true;
		if (desc->natts >= 6)
		{
			Datum		v = SPI_getbinval(tup, desc, 6, &r->value_null);

			r->value = r->value_null ? 0 : DatumGetFloat8(v);
		}
		u->rows = lappend(u->rows, r);
	}
	SPI_finish();
}

bool
dbopt_sql_check_rows(const char *sql, int nargs, Oid *types, Datum *values,
					 List **rows, DboptUnitError *err)
{
	CheckUnit	u = {sql, nargs, types, values, NIL};
	bool		ok = dbopt_run_isolated(check_unit, &u, dbopt_check_timeout_ms, err);

	*rows = ok ? u.rows : NIL;
	return ok;
}
