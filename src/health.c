/*-------------------------------------------------------------------------
 *
 * health.c
 *	  health_check(): the server's health as findings, each with its
 *	  measured value and the threshold it was held against, optionally
 *	  sent to listeners with NOTIFY dbopt_alerts.
 *
 * Every check is one read-only query over the statistics views, because
 * that is what SQL is for: the registry's (checks.c) checks of report
 * health_check, whose queries are in src/checks/health.sql.  sqlcheck.c
 * runs each isolated, so one that fails (a privilege, a time limit)
 * becomes a check_failed row and the others still run.  A query returns
 * its rows worst first, ok ones included: the rows that are not ok are
 * reported, and when there are none the worst ok row stands for the
 * check, so every check appears once with a value.  Thresholds are the
 * dbopt.health_* settings, named after their checks.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include <math.h>

#include "access/xlog.h"
#include "catalog/pg_type.h"
#include "commands/async.h"
#include "commands/dbcommands.h"
#include "executor/spi.h"
#include "fmgr.h"
#include "lib/stringinfo.h"
#include "mb/pg_wchar.h"
#include "miscadmin.h"
#include "utils/builtins.h"
#include "utils/json.h"
#include "utils/lsyscache.h"
#include "utils/memutils.h"
#include "utils/timestamp.h"

#include "dbopt/checks.h"
#include "dbopt/compat.h"
#include "dbopt/dbopt.h"
#include "dbopt/findings.h"
#include "dbopt/isolate.h"
#include "dbopt/sqlcheck.h"
#include "dbopt/util.h"

#define ALERT_CHANNEL "dbopt_alerts"

/*
 * NOTIFY dbopt_alerts with the finding as JSON.  Long details are clipped
 * so the payload stays under the server's limit.
 */
static void
send_alert(const char *check, const DboptCheckRow *r, double threshold)
{
	StringInfoData buf;
	char	   *detail = r->detail ? r->detail : "";
	int			len = pg_mbcliplen(detail, strlen(detail), 2000);

	initStringInfo(&buf);
	appendStringInfoString(&buf, "{\"database\":");
	escape_json(&buf, get_database_name(MyDatabaseId));
	appendStringInfo(&buf, ",\"severity\":\"%s\",\"check_name\":", dbopt_severity_name(r->severity));
	escape_json(&buf, check);
	appendStringInfoString(&buf, ",\"object_name\":");
	if (r->object_name)
		escape_json(&buf, r->object_name);
	else
		appendStringInfoString(&buf, "null");
	appendStringInfoString(&buf, ",\"detail\":");
	escape_json(&buf, pnstrdup(detail, len));
	if (r->value_null)
		appendStringInfoString(&buf, ",\"value\":null");
	else
		appendStringInfo(&buf, ",\"value\":%.15g", r->value);
	appendStringInfo(&buf, ",\"threshold\":%.15g,\"at\":", threshold);
	escape_json(&buf, timestamptz_to_str(GetCurrentTimestamp()));
	appendStringInfoChar(&buf, '}');
	Async_Notify(ALERT_CHANNEL, buf.data);
}

/*
 * Values are percentages, seconds, bytes or counts: one decimal is all a
 * reader needs (96.1, not 96.09030837004406).  The severity was decided on
 * the exact figure.  Past 2^53 / 10 the figure is whole already.
 */
static double
round_value(double v)
{
	return fabs(v) < 1e14 ? round(v * 10) / 10 : v;
}

static bool
emit(DboptFindings *f, const char *check, const DboptCheckRow *r, double threshold, bool notify)
{
	DboptFinding row;
	Datum		extra[2];
	bool		extra_null[2] = {r->value_null, false};
	DboptCheckRow rounded = *r;

	rounded.value = round_value(r->value);
	r = &rounded;

	row.severity = r->severity;
	row.check_name = check;
	row.object_name = r->object_name;
	row.detail = r->detail;
	row.remediation = r->remediation;
	row.fix_sql = r->fix_sql;
	extra[0] = Float8GetDatum(r->value);
	extra[1] = Float8GetDatum(threshold);
	/* Suppressed findings are not alerted, even when shown. */
	if (notify && r->severity != DBOPT_OK &&
		dbopt_suppression_match(f->supp, check, r->object_name) == NULL)
		send_alert(check, r, threshold);
	return dbopt_findings_add(f, &row, extra, extra_null);
}

PG_FUNCTION_INFO_V1(dbopt_health_check);

Datum
dbopt_health_check(PG_FUNCTION_ARGS)
{
	bool		notify = PG_GETARG_BOOL(0);
	bool		include_suppressed = PG_GETARG_BOOL(1);
	bool		include_passed = PG_GETARG_BOOL(2);
	Oid			pgss_nsp = dbopt_extension_schema("pg_stat_statements");
	bool		pgss = OidIsValid(pgss_nsp) && dbopt_library_preloaded("pg_stat_statements");
	DboptFindings f;
	MemoryContext checkcxt;
	MemoryContext oldcxt;

	if (notify && RecoveryInProgress())
		ereport(ERROR,
				(errcode(ERRCODE_READ_ONLY_SQL_TRANSACTION),
				 errmsg("health_check cannot notify on a standby"),
				 errdetail("NOTIFY is not possible during recovery."),
				 errhint("Run it with notify => false here, or with notify => true on the primary.")));

	dbopt_findings_begin(&f, fcinfo, include_suppressed);
	f.hide_passed = !include_passed;
	checkcxt = AllocSetContextCreate(CurrentMemoryContext, "dbopt health check",
									 ALLOCSET_DEFAULT_SIZES);
	for (int i = 0; i < dbopt_check_count(); i++)
	{
		const DboptCheck *c = dbopt_check_at(i);
		DboptUnitError err;
		Oid			types[2] = {FLOAT8OID, FLOAT8OID};
		Datum		values[2];
		double		threshold;
		const char *sql;
		List	   *rows = NIL;
		bool		reported = false;
		ListCell   *lc;

		if (c->query == NULL || strcmp(c->report, "health_check") != 0)
			continue;
		CHECK_FOR_INTERRUPTS();
		oldcxt = MemoryContextSwitchTo(checkcxt);
		threshold = dbopt_check_threshold(c);

		if (c->needs_pgss && !pgss)
		{
			DboptCheckRow	r = {DBOPT_INFO, NULL,
				"pg_stat_statements is not available, so this check cannot run",
				"Add pg_stat_statements to shared_preload_libraries, restart, and CREATE EXTENSION pg_stat_statements.",
			NULL, true, 0};

			emit(&f, c->name, &r, threshold, notify);
			MemoryContextSwitchTo(oldcxt);
			MemoryContextReset(checkcxt);
			continue;
		}
		sql = dbopt_check_query(c, c->needs_pgss ? get_namespace_name(pgss_nsp) : NULL);

		values[0] = Float8GetDatum(threshold);
		values[1] = Float8GetDatum(dbopt_setting_value(&c->second));
		if (!dbopt_sql_check_rows(sql, 2, types, values, &rows, &err))
		{
			DboptCheckRow	r = {DBOPT_WARNING, (char *) c->name, dbopt_unit_error_text(&err),
				"Run health_check() as a superuser or a member of pg_monitor; if a time limit stopped it, raise dbopt.check_timeout.",
			NULL, true, 0};

			emit(&f, "check_failed", &r, threshold, notify);
			MemoryContextSwitchTo(oldcxt);
			MemoryContextReset(checkcxt);
			continue;
		}

		foreach(lc, rows)
		{
			DboptCheckRow  *r = lfirst(lc);

			if (r->severity != DBOPT_OK)
			{
				emit(&f, c->name, r, threshold, notify);
				reported = true;
			}
		}
		if (!reported)
		{
			DboptCheckRow	none = {DBOPT_OK, NULL, (char *) c->ok_detail, NULL, NULL, true, 0};

			emit(&f, c->name, rows != NIL ? linitial(rows) : &none, threshold, false);
		}
		MemoryContextSwitchTo(oldcxt);
		MemoryContextReset(checkcxt);
	}
	MemoryContextDelete(checkcxt);
	dbopt_findings_end(&f);
	return (Datum) 0;
}
