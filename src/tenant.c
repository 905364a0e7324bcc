/*-------------------------------------------------------------------------
 *
 * tenant.c
 *	  enable_tenant_isolation() and disable_tenant_isolation(): one
 *	  row-level security policy per table that shows a session only the
 *	  rows of the tenant named in a setting.
 *
 * The policy compares the tenant column with current_setting(setting,
 * true), cast to the column's type; an unset or empty setting is NULL, so a
 * session that has not said who it is sees no rows and may write none.
 * RLS is forced, so the table's owner is held to it too.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "catalog/pg_type.h"
#include "executor/spi.h"
#include "fmgr.h"
#include "miscadmin.h"
#include "utils/builtins.h"
#include "utils/lsyscache.h"

#include "dbopt/util.h"

#define TENANT_POLICY "dbopt_tenant_isolation"

/* Policies on relid: dbopt's own (ours) or the others. */
static int64
tenant_policy_count(Oid relid, bool ours)
{
	bool		isnull;
	int64		n;

	SPI_connect();
	n = dbopt_spi_int8(psprintf("SELECT count(*) FROM pg_catalog.pg_policy WHERE polrelid = %u AND polname %s '" TENANT_POLICY "'",
								relid, ours ? "=" : "<>"), &isnull);
	SPI_finish();
	return n;
}

PG_FUNCTION_INFO_V1(dbopt_enable_tenant_isolation);

Datum
dbopt_enable_tenant_isolation(PG_FUNCTION_ARGS)
{
	Oid			relid;
	char	   *column;
	char	   *setting;
	bool		dry_run = dbopt_steering_bool(fcinfo, 3, "dry_run");
	AttrNumber	att;
	char	   *table;
	char	   *cond;
	char	   *what;
	bool		has_policy;

	dbopt_require_arg(fcinfo, 0, "relation");
	dbopt_require_arg(fcinfo, 1, "tenant_column");
	dbopt_require_arg(fcinfo, 2, "setting_name");
	relid = PG_GETARG_OID(0);
	column = NameStr(*PG_GETARG_NAME(1));
	setting = text_to_cstring(PG_GETARG_TEXT_PP(2));
	dbopt_require_own_table(relid, "enable_tenant_isolation()");
	att = dbopt_require_column(relid, column, "tenant_column names the column that holds each row's tenant.",
							   "For example dbopt.enable_tenant_isolation('app.invoices', 'organization_id').");
	if (strchr(setting, '.') == NULL || strchr(setting, '.') == setting || setting[strlen(setting) - 1] == '.')
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("invalid setting name \"%s\"", setting),
				 errdetail("The tenant is read from a custom setting, whose name has a prefix and a dot."),
				 errhint("Use for example 'app.current_organization_id', set by the application with SET.")));
	table = dbopt_qualified_relname(relid);
	has_policy = tenant_policy_count(relid, true) > 0;
	cond = psprintf("%s = NULLIF(pg_catalog.current_setting(%s, true), '')::%s",
					quote_identifier(column), quote_literal_cstr(setting),
					format_type_be(get_atttype(relid, att)));
	what = psprintf("row-level security on %s: rows where %s", table, cond);
	if (!dry_run)
		dbopt_run_ddl(psprintf("ALTER TABLE %s ENABLE ROW LEVEL SECURITY;"
							   " ALTER TABLE %s FORCE ROW LEVEL SECURITY;"
							   " %s%s%s"
							   " CREATE POLICY " TENANT_POLICY " ON %s USING (%s) WITH CHECK (%s)",
							   table, table,
							   has_policy ? "DROP POLICY " TENANT_POLICY " ON " : "",
							   has_policy ? table : "", has_policy ? ";" : "",
							   table, cond, cond));
	dbopt_log_action("enable_tenant_isolation", table, dry_run ? "would enable" : "enabled", 1, -1, cond);
	PG_RETURN_TEXT_P(cstring_to_text(psprintf("%s %s", dry_run ? "would force" : "forced", what)));
}

PG_FUNCTION_INFO_V1(dbopt_disable_tenant_isolation);

Datum
dbopt_disable_tenant_isolation(PG_FUNCTION_ARGS)
{
	Oid			relid;
	bool		dry_run = dbopt_steering_bool(fcinfo, 1, "dry_run");
	char	   *table;
	int64		others;

	dbopt_require_arg(fcinfo, 0, "relation");
	relid = PG_GETARG_OID(0);
	dbopt_require_own_table(relid, "disable_tenant_isolation()");
	table = dbopt_qualified_relname(relid);
	others = tenant_policy_count(relid, false);
	/* Other policies keep RLS on: only ours goes. */
	if (!dry_run)
		dbopt_run_ddl(others > 0
					  ? psprintf("DROP POLICY IF EXISTS " TENANT_POLICY " ON %s", table)
					  : psprintf("DROP POLICY IF EXISTS " TENANT_POLICY " ON %s;"
								 " ALTER TABLE %s NO FORCE ROW LEVEL SECURITY;"
								 " ALTER TABLE %s DISABLE ROW LEVEL SECURITY", table, table, table));
	dbopt_log_action("disable_tenant_isolation", table, dry_run ? "would disable" : "disabled", 1, -1,
					 others > 0 ? "other policies keep row-level security on" : "row-level security off");
	PG_RETURN_TEXT_P(cstring_to_text(psprintf("%s tenant isolation on %s%s", dry_run ? "would remove" : "removed",
											  table, others > 0 ? "; row-level security stays on for its other policies" : "")));
}
