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
#include "catalog/pg_class.h"
#include "utils/lsyscache.h"
#include "utils/syscache.h"

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

/*
 * The steps enable_tenant_isolation() or disable_tenant_isolation() will
 * take on relid, from its state now: the one plan the dry and the real
 * run both follow, as DDL (sql) and as words (steps).
 */
static void
plan_tenant(Oid relid, bool enable, const char *table, const char *cond,
			StringInfo sql, StringInfo steps)
{
	HeapTuple	tup = SearchSysCache1(RELOID, ObjectIdGetDatum(relid));
	bool		rls = false,
				force = false;
	bool		ours = tenant_policy_count(relid, true) > 0;
	int64		others = tenant_policy_count(relid, false);

	if (HeapTupleIsValid(tup))
	{
		rls = ((Form_pg_class) GETSTRUCT(tup))->relrowsecurity;
		force = ((Form_pg_class) GETSTRUCT(tup))->relforcerowsecurity;
		ReleaseSysCache(tup);
	}
#define STEP(words, ...) \
	do { appendStringInfo(steps, "%s%s", steps->len ? ", " : "", words); \
		 appendStringInfo(sql, __VA_ARGS__); } while (0)
	if (enable)
	{
		if (!rls)
			STEP("enable row-level security", " ALTER TABLE %s ENABLE ROW LEVEL SECURITY;", table);
		if (!force)
			STEP("force row-level security", " ALTER TABLE %s FORCE ROW LEVEL SECURITY;", table);
		if (ours)
			STEP("replace policy " TENANT_POLICY, " DROP POLICY " TENANT_POLICY " ON %s;", table);
		else
			appendStringInfo(steps, "%screate policy " TENANT_POLICY, steps->len ? ", " : "");
		appendStringInfo(sql, " CREATE POLICY " TENANT_POLICY " ON %s USING (%s) WITH CHECK (%s)",
						 table, cond, cond);
		return;
	}
	/* Without our policy there is nothing of ours to undo. */
	if (!ours)
		return;
	STEP("drop policy " TENANT_POLICY, " DROP POLICY " TENANT_POLICY " ON %s;", table);
	/* Other policies keep RLS on: only ours goes. */
	if (others > 0)
		return;
	if (force)
		STEP("no force row-level security", " ALTER TABLE %s NO FORCE ROW LEVEL SECURITY;", table);
	if (rls)
		STEP("disable row-level security", " ALTER TABLE %s DISABLE ROW LEVEL SECURITY;", table);
#undef STEP
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
	StringInfoData sql,
				steps;

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
	cond = psprintf("%s = NULLIF(pg_catalog.current_setting(%s, true), '')::%s",
					quote_identifier(column), quote_literal_cstr(setting),
					format_type_be(get_atttype(relid, att)));
	initStringInfo(&sql);
	initStringInfo(&steps);
	plan_tenant(relid, true, table, cond, &sql, &steps);
	if (!dry_run)
		dbopt_run_ddl(sql.data);
	dbopt_log_action("enable_tenant_isolation", table, dry_run ? "would enable" : "enabled", 1, -1, cond);
	PG_RETURN_TEXT_P(cstring_to_text(psprintf("%s row-level security on %s: rows where %s (%s)",
											  dry_run ? "would force" : "forced", table, cond, steps.data)));
}

PG_FUNCTION_INFO_V1(dbopt_disable_tenant_isolation);

Datum
dbopt_disable_tenant_isolation(PG_FUNCTION_ARGS)
{
	Oid			relid;
	bool		dry_run = dbopt_steering_bool(fcinfo, 1, "dry_run");
	char	   *table;
	StringInfoData sql,
				steps;

	dbopt_require_arg(fcinfo, 0, "relation");
	relid = PG_GETARG_OID(0);
	dbopt_require_own_table(relid, "disable_tenant_isolation()");
	table = dbopt_qualified_relname(relid);
	initStringInfo(&sql);
	initStringInfo(&steps);
	plan_tenant(relid, false, table, NULL, &sql, &steps);
	if (steps.len == 0)
	{
		dbopt_log_action("disable_tenant_isolation", table, "unchanged", 0, -1, "no tenant isolation policy");
		PG_RETURN_TEXT_P(cstring_to_text(psprintf("no tenant isolation on %s", table)));
	}
	if (!dry_run)
		dbopt_run_ddl(sql.data);
	dbopt_log_action("disable_tenant_isolation", table, dry_run ? "would disable" : "disabled", 1, -1, steps.data);
	PG_RETURN_TEXT_P(cstring_to_text(psprintf("%s tenant isolation on %s (%s)", dry_run ? "would remove" : "removed",
											  table, steps.data)));
}
