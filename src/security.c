/*-------------------------------------------------------------------------
 *
 * security.c
 *	  validate_security_configuration(): CIS-style checks of roles,
 *	  privileges, row-level security, pg_hba.conf, SSL, logging, checksums
 *	  and the sensitive columns dbopt knows about, all from SQL.
 *
 * Each check is one read-only query (run by sqlcheck.c) that returns the
 * findings it makes, nothing when the check passes: the registry's
 * (checks.c) checks of this report, whose queries are in
 * src/checks/security.sql.  A check the caller
 * cannot evaluate, typically pg_authid or pg_hba_file_rules without
 * superuser, becomes one 'info' row named check_skipped saying why; the
 * others still run.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "catalog/pg_collation.h"
#include "catalog/pg_type.h"
#include "fmgr.h"
#include "miscadmin.h"
#include "utils/builtins.h"
#include "utils/memutils.h"

#include "dbopt/checks.h"
#include "dbopt/dbopt.h"
#include "dbopt/findings.h"
#include "dbopt/sqlcheck.h"

PG_FUNCTION_INFO_V1(dbopt_validate_security_configuration);

Datum
dbopt_validate_security_configuration(PG_FUNCTION_ARGS)
{
	bool		include_passed = PG_GETARG_BOOL(0);
	bool		include_suppressed = PG_GETARG_BOOL(1);
	DboptFindings f;
	MemoryContext checkcxt;
	Oid			types[1] = {TEXTARRAYOID};
	Datum		values[1];

	dbopt_findings_begin(&f, fcinfo, include_suppressed);
	f.hide_passed = !include_passed;
	values[0] = DirectFunctionCall2Coll(text_to_array, DEFAULT_COLLATION_OID, CStringGetTextDatum(dbopt_tenant_columns ? dbopt_tenant_columns : ""),
									CStringGetTextDatum(","));
	checkcxt = AllocSetContextCreate(CurrentMemoryContext, "dbopt security check", ALLOCSET_DEFAULT_SIZES);
	for (int i = 0; i < dbopt_check_count(); i++)
	{
		const DboptCheck *c = dbopt_check_at(i);
		MemoryContext old;
		DboptUnitError err;
		List	   *rows;
		ListCell   *lc;
		DboptFinding row;

		if (c->query == NULL || strcmp(c->report, "validate_security_configuration") != 0)
			continue;
		CHECK_FOR_INTERRUPTS();
		old = MemoryContextSwitchTo(checkcxt);
		if (!dbopt_sql_check_rows(c->query, 1, types, values, &rows, &err))
		{
			row.severity = DBOPT_INFO;
			row.check_name = "check_skipped";
			row.object_name = c->name;
			row.detail = psprintf("%s could not be evaluated: %s", c->name, dbopt_unit_error_text(&err));
			row.remediation = "Run it as a superuser: it reads a catalog or view that only superusers may read.";
			row.fix_sql = NULL;
			dbopt_findings_add(&f, &row, NULL, NULL);
		}
		else if (rows == NIL)
		{
			row.severity = DBOPT_OK;
			row.check_name = c->name;
			row.object_name = NULL;
			row.detail = c->ok_detail;
			row.remediation = NULL;
			row.fix_sql = NULL;
			dbopt_findings_add(&f, &row, NULL, NULL);
		}
		else
			foreach(lc, rows)
		{
			DboptCheckRow *r = lfirst(lc);

			row.severity = r->severity;
			row.check_name = c->name;
			row.object_name = r->object_name;
			row.detail = r->detail;
			row.remediation = r->remediation;
			row.fix_sql = r->fix_sql;
			dbopt_findings_add(&f, &row, NULL, NULL);
		}
		MemoryContextSwitchTo(old);
		MemoryContextReset(checkcxt);
	}
	MemoryContextDelete(checkcxt);
	dbopt_findings_end(&f);
	return (Datum) 0;
}
