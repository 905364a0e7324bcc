/*-------------------------------------------------------------------------
 *
 * run_checks.c
 *	  dbopt.run_checks(): run the read-only check-style reports and keep
 *	  the history of their findings in dbopt.findings_history.
 *
 * Each report runs as the caller, in its own subtransaction: one that
 * fails is recorded in dbopt.check_runs.errors and neither stops the
 * others nor resolves its own open findings.  The findings are then
 * merged into the history as the extension owner (dbopt_write_elevated):
 * a finding still seen updates its open episode, a new one opens an
 * episode, and an open one that a report which ran no longer sees is
 * resolved.  Each run also prunes resolved episodes older than
 * dbopt.findings_history_retention, at most PRUNE_CAP rows per table.
 * New critical findings are sent as NOTIFY dbopt_alerts.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/htup_details.h"
#include "access/xlog.h"
#include "catalog/pg_type.h"
#include "commands/async.h"
#include "commands/dbcommands.h"
#include "executor/spi.h"
#include "funcapi.h"
#include "lib/stringinfo.h"
#include "mb/pg_wchar.h"
#include "miscadmin.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/json.h"
#include "utils/lsyscache.h"
#include "utils/memutils.h"
#include "utils/timestamp.h"
#include "utils/tuplestore.h"

#include "dbopt/compat.h"
#include "dbopt/dbopt.h"
#include "dbopt/findings.h"
#include "dbopt/isolate.h"
#include "dbopt/privs.h"
#include "dbopt/util.h"

#define ALERT_CHANNEL "dbopt_alerts"

/* Rows of each table one run prunes at most; the next run goes on. */
#define PRUNE_CAP 10000

/*
 * The reports, in the order they run, and the query that gives their
 * non-ok findings in the findings shape.  They run as the caller, under
 * the function's pinned search_path.  analyze_index_usage() and
 * analyze_partition_distribution() list objects with finding codes; their
 * codes are given a severity here.
 */
typedef struct ReportDef
{
	const char *name;
	const char *sql;
} ReportDef;

static const ReportDef reports[] = {
	{"status",
		"SELECT severity, check_name, object_name, detail, remediation, fix_sql"
		"  FROM dbopt.status() WHERE severity <> 'ok'"},
	{"analyze_index_usage",
		"SELECT CASE WHEN c.code IN ('redundant', 'unused_recent_stats') THEN 'info'"
		"            ELSE 'warning' END,"
		"       c.code, u.index::text, u.recommendation, u.recommendation, u.fix_sql"
		"  FROM dbopt.analyze_index_usage() u, unnest(u.findings) AS c(code)"},
	{"find_unindexed_foreign_keys",
		"SELECT severity, check_name, object_name, detail, remediation, fix_sql"
		"  FROM dbopt.find_unindexed_foreign_keys() WHERE severity <> 'ok'"},
	{"check_data_integrity",
		"SELECT severity, check_name, object_name, detail, remediation, fix_sql"
		"  FROM dbopt.check_data_integrity(deep => false) WHERE severity <> 'ok'"},
	{"health_check",
		"SELECT severity, check_name, object_name, detail, remediation, fix_sql"
		"  FROM dbopt.health_check(notify => false) WHERE severity <> 'ok'"},
	{"validate_security_configuration",
		"SELECT severity, check_name, object_name, detail, remediation, fix_sql"
		"  FROM dbopt.validate_security_configuration() WHERE severity <> 'ok'"},
	{"analyze_partition_distribution",
		"SELECT CASE WHEN f.flag IN ('missing_future', 'default_has_rows', 'gap_before')"
		"            THEN 'warning' ELSE 'info' END,"
		"       f.flag, d.partition_name,"
		"       format('partition %s of %s: %s (%s rows, %s, %s%% of the rows)', d.partition_name,"
		"              d.parent, f.flag, coalesce(d.row_estimate::text, 'unknown'),"
		"              coalesce(pg_size_pretty(d.bytes), 'unknown size'), d.share_pct),"
		"       'See analyze_partition_distribution() in the README for what the flag means and what to do.',"
		"       NULL::text"
		"  FROM dbopt.analyze_partition_distribution() d, unnest(d.flags) AS f(flag)"
		" WHERE f.flag NOT IN ('not_counted', 'empty')"},
};

#define NREPORTS lengthof(reports)

/* The findings collected from the reports, as parallel text arrays. */
typedef struct Collected
{
	MemoryContext cxt;
	const DboptSuppressionSet *supp;
	ArrayBuildState *cols[7];	/* report, severity, check, object, detail, remediation, fix_sql */
} Collected;

typedef struct ReportUnit
{
	const ReportDef *def;
	Collected  *into;
} ReportUnit;

static const char *
report_list(void)
{
	StringInfoData buf;

	initStringInfo(&buf);
	for (int i = 0; i < NREPORTS; i++)
		appendStringInfo(&buf, "%s%s", i ? ", " : "", reports[i].name);
	return buf.data;
}

static void
add_text(Collected *c, int col, const char *s)
{
	c->cols[col] = accumArrayResult(c->cols[col],
									s ? PointerGetDatum(cstring_to_text(s)) : (Datum) 0,
									s == NULL, TEXTOID, c->cxt);
}

/*
 * Run one report as the caller and collect its findings.  Rows are
 * collected only once the query has run through, so a failing report
 * leaves nothing behind (the caller also drops what it added).
 */
static void
report_unit(void *arg)
{
	ReportUnit *u = arg;
	Collected  *c = u->into;

	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "SPI_connect failed");
	if (SPI_execute(u->def->sql, false, 0) != SPI_OK_SELECT)
		elog(ERROR, "could not run report %s", u->def->name);
	for (uint64 i = 0; i < SPI_processed; i++)
	{
		HeapTuple	tup = SPI_tuptable->vals[i];
		TupleDesc	desc = SPI_tuptable->tupdesc;
		char	   *v[6];
		MemoryContext old;

		CHECK_FOR_INTERRUPTS();
		for (int k = 0; k < 6; k++)
			v[k] = SPI_getvalue(tup, desc, k + 1);
		if (v[0] == NULL || v[1] == NULL)
			continue;
		/* Reports hide suppressed findings; the partition flags are matched here. */
		if (dbopt_suppression_match(c->supp, v[1], v[2]) != NULL)
			continue;
		old = MemoryContextSwitchTo(c->cxt);
		add_text(c, 0, u->def->name);
		for (int k = 0; k < 6; k++)
			add_text(c, k + 1, v[k]);
		MemoryContextSwitchTo(old);
	}
	SPI_finish();
}

/* The requested reports, validated; NULL means all. */
static bool *
requested_reports(FunctionCallInfo fcinfo)
{
	bool	   *want = palloc0(sizeof(bool) * NREPORTS);
	ArrayType  *arr;
	Datum	   *elems;
	bool	   *nulls;
	int			n;
	bool		any = false;

	if (PG_ARGISNULL(0))
	{
		for (int i = 0; i < NREPORTS; i++)
			want[i] = true;
		return want;
	}
	arr = PG_GETARG_ARRAYTYPE_P(0);
	deconstruct_array(arr, TEXTOID, -1, false, TYPALIGN_INT, &elems, &nulls, &n);
	for (int e = 0; e < n; e++)
	{
		char	   *name;
		int			i;

		CHECK_FOR_INTERRUPTS();
		if (nulls[e])
			ereport(ERROR,
					(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
					 errmsg("reports must not contain null"),
					 errdetail("Element %d of reports is null.", e + 1),
					 errhint("Name the reports to run (%s), or pass NULL for all of them.", report_list())));
		name = TextDatumGetCString(elems[e]);
		if (name[strspn(name, " \t\r\n\f\v")] == '\0')
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("reports must not contain an empty name"),
					 errdetail("Element %d of reports is empty or only white space.", e + 1),
					 errhint("Name the reports to run (%s), or pass NULL for all of them.", report_list())));
		for (i = 0; i < NREPORTS; i++)
			if (strcmp(name, reports[i].name) == 0)
				break;
		if (i == NREPORTS)
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("unknown report \"%s\"",
							pnstrdup(name, pg_mbcliplen(name, strlen(name), 64))),
					 errdetail("run_checks() runs the read-only check-style reports, named as their functions."),
					 errhint("The reports are: %s.", report_list())));
		want[i] = true;
		any = true;
	}
	if (!any)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("reports must name at least one report"),
				 errdetail("An empty array would run nothing."),
				 errhint("Name the reports to run (%s), or pass NULL for all of them.", report_list())));
	return want;
}

static Datum
text_array_of(bool *want, bool ok_only, bool *ran_ok)
{
	ArrayBuildState *a = NULL;

	for (int i = 0; i < NREPORTS; i++)
		if (want[i] && (!ok_only || ran_ok[i]))
			a = accumArrayResult(a, CStringGetTextDatum(reports[i].name), false, TEXTOID,
								 CurrentMemoryContext);
	return a ? makeArrayResult(a, CurrentMemoryContext) :
		PointerGetDatum(construct_empty_array(TEXTOID));
}

/* NOTIFY dbopt_alerts with a new critical finding, its detail clipped. */
static void
send_alert(const char *report, const char *check, const char *object,
		   const char *detail, int64 run_id, const char *first_seen)
{
	StringInfoData buf;
	const char *d = detail ? detail : "";

	initStringInfo(&buf);
	appendStringInfoString(&buf, "{\"database\":");
	escape_json(&buf, get_database_name(MyDatabaseId));
	appendStringInfoString(&buf, ",\"severity\":\"critical\",\"report\":");
	escape_json(&buf, report);
	appendStringInfoString(&buf, ",\"check_name\":");
	escape_json(&buf, check);
	appendStringInfoString(&buf, ",\"object_name\":");
	if (object)
		escape_json(&buf, object);
	else
		appendStringInfoString(&buf, "null");
	appendStringInfoString(&buf, ",\"detail\":");
	escape_json(&buf, pnstrdup(d, pg_mbcliplen(d, strlen(d), 2000)));
	appendStringInfo(&buf, ",\"run_id\":" INT64_FORMAT ",\"first_seen\":", run_id);
	escape_json(&buf, first_seen);
	appendStringInfoChar(&buf, '}');
	Async_Notify(ALERT_CHANNEL, buf.data);
}

/*
 * Merge the collected findings into the history, in one statement: the
 * check_runs row, the episodes still seen, those opened, and those resolved
 * (only for the reports that ran).  Keys are compared with hashable
 * expressions (a NULL object_name is a key of its own), so the merge is a
 * hash join, not a loop over pairs.
 */
static const char *const merge_sql =
"WITH run AS ("
"  INSERT INTO dbopt.check_runs (started_at, reports, errors) VALUES ($1, $2, $11)"
"  RETURNING run_id),"
" f AS ("
"  SELECT DISTINCT ON (u.report, u.check_name, u.object_name) u.*,"
"         u.object_name IS NULL AS obj_null, coalesce(u.object_name, '') AS obj"
"    FROM ROWS FROM (pg_catalog.unnest($4::text[]), pg_catalog.unnest($5::text[]),"
"                    pg_catalog.unnest($6::text[]), pg_catalog.unnest($7::text[]),"
"                    pg_catalog.unnest($8::text[]), pg_catalog.unnest($9::text[]),"
"                    pg_catalog.unnest($10::text[]))"
"         AS u(report, severity, check_name, object_name, detail, remediation, fix_sql)"
"   ORDER BY u.report, u.check_name, u.object_name,"
"            pg_catalog.array_position(ARRAY['critical', 'warning', 'info'], u.severity)),"
" open AS ("
"  SELECT h.finding_id, h.report, h.check_name, h.object_name IS NULL AS obj_null,"
"         coalesce(h.object_name, '') AS obj"
"    FROM dbopt.findings_history h WHERE h.resolved_at IS NULL),"
" seen AS ("
"  UPDATE dbopt.findings_history h"
"     SET run_id = (SELECT run_id FROM run), last_seen = $1,"
"         previous_severity = CASE WHEN h.severity OPERATOR(pg_catalog.<>) f.severity"
"                                  THEN h.severity ELSE h.previous_severity END,"
"         severity_changed_at = CASE WHEN h.severity OPERATOR(pg_catalog.<>) f.severity"
"                                    THEN $1 ELSE h.severity_changed_at END,"
"         severity = f.severity, detail = f.detail, remediation = f.remediation, fix_sql = f.fix_sql"
"    FROM open o, f"
"   WHERE h.finding_id OPERATOR(pg_catalog.=) o.finding_id"
"     AND o.report OPERATOR(pg_catalog.=) f.report AND o.check_name OPERATOR(pg_catalog.=) f.check_name"
"     AND o.obj OPERATOR(pg_catalog.=) f.obj AND o.obj_null OPERATOR(pg_catalog.=) f.obj_null"
"  RETURNING h.finding_id),"
" opened AS ("
"  INSERT INTO dbopt.findings_history (run_id, report, check_name, object_name, severity, detail,"
"                                      remediation, fix_sql, first_seen, last_seen)"
"  SELECT (SELECT run_id FROM run), f.report, f.check_name, f.object_name, f.severity, f.detail,"
"         f.remediation, f.fix_sql, $1, $1"
"    FROM f"
"   WHERE NOT EXISTS (SELECT FROM open o"
"                      WHERE o.report OPERATOR(pg_catalog.=) f.report"
"                        AND o.check_name OPERATOR(pg_catalog.=) f.check_name"
"                        AND o.obj OPERATOR(pg_catalog.=) f.obj"
"                        AND o.obj_null OPERATOR(pg_catalog.=) f.obj_null)"
"  RETURNING finding_id),"
" gone AS ("
"  UPDATE dbopt.findings_history h SET resolved_at = $1"
"    FROM open o"
"   WHERE h.finding_id OPERATOR(pg_catalog.=) o.finding_id"
"     AND o.report OPERATOR(pg_catalog.=) ANY ($3)"
"     AND NOT EXISTS (SELECT FROM f"
"                      WHERE o.report OPERATOR(pg_catalog.=) f.report"
"                        AND o.check_name OPERATOR(pg_catalog.=) f.check_name"
"                        AND o.obj OPERATOR(pg_catalog.=) f.obj"
"                        AND o.obj_null OPERATOR(pg_catalog.=) f.obj_null)"
"  RETURNING h.finding_id)"
" SELECT (SELECT run_id FROM run),"
"        (SELECT pg_catalog.array_agg(finding_id) FROM opened),"
"        (SELECT pg_catalog.count(*) FROM seen), (SELECT pg_catalog.count(*) FROM gone)";

/* The open findings of the reports run, in the order every report uses. */
static const char *const open_sql =
"SELECT h.severity, h.check_name, h.object_name, h.detail, h.remediation, h.fix_sql,"
"       h.report, h.first_seen,"
"       coalesce(h.finding_id OPERATOR(pg_catalog.=) ANY ($2), false) AS new"
"  FROM dbopt.findings_history h"
" WHERE h.resolved_at IS NULL AND h.report OPERATOR(pg_catalog.=) ANY ($1)"
" ORDER BY pg_catalog.array_position(ARRAY['critical', 'warning', 'info'], h.severity),"
"          h.object_name IS NULL, h.object_name COLLATE pg_catalog.\"C\", h.check_name COLLATE pg_catalog.\"C\", h.report";

PG_FUNCTION_INFO_V1(dbopt_run_checks);

/*
 * dbopt.run_checks(reports text[] DEFAULT NULL, notify boolean DEFAULT true)
 */
Datum
dbopt_run_checks(PG_FUNCTION_ARGS)
{
	ReturnSetInfo *rsinfo = (ReturnSetInfo *) fcinfo->resultinfo;
	bool	   *want;
	bool		notify;
	bool		ran_ok[NREPORTS] = {0};
	ArrayBuildState *errors = NULL;
	Collected	c;
	TimestampTz started = GetCurrentTimestamp();
	Oid			argtypes[11];
	Datum		values[11];
	char		nulls[11];
	HeapTuple	row;
	TupleDesc	rowdesc;
	bool		isnull;
	int64		run_id;
	Datum		opened;
	bool		opened_null;
	DboptIdentity id;
	MemoryContext callcxt = CurrentMemoryContext;

	dbopt_require_arg(fcinfo, 1, "notify");
	want = requested_reports(fcinfo);
	notify = PG_GETARG_BOOL(1);
	if (RecoveryInProgress())
		ereport(ERROR,
				(errcode(ERRCODE_READ_ONLY_SQL_TRANSACTION),
				 errmsg("run_checks() cannot run on a standby"),
				 errdetail("It records the findings in dbopt's tables, which a standby cannot write."),
				 errhint("Run it on the primary; the reports themselves run on a standby.")));

	dbopt_init_materialized_srf(fcinfo);

	memset(&c, 0, sizeof(c));
	c.cxt = AllocSetContextCreate(callcxt, "dbopt run_checks findings", ALLOCSET_DEFAULT_SIZES);
	c.supp = dbopt_suppressions_load(callcxt);

	for (int i = 0; i < NREPORTS; i++)
	{
		ReportUnit	u = {&reports[i], &c};
		int			kept[7];
		ErrorData  *edata;

		if (!want[i])
			continue;
		for (int k = 0; k < 7; k++)
			kept[k] = c.cols[k] ? c.cols[k]->nelems : 0;
		edata = dbopt_try_subxact(report_unit, &u);
		if (edata == NULL)
		{
			ran_ok[i] = true;
			continue;
		}
		/* The user's cancel or statement_timeout stops the run. */
		if (edata->sqlerrcode == ERRCODE_QUERY_CANCELED)
			ReThrowError(edata);
		/* Drop what the failed report had collected. */
		for (int k = 0; k < 7; k++)
			if (c.cols[k])
				c.cols[k]->nelems = kept[k];
		errors = accumArrayResult(errors,
								  CStringGetTextDatum(psprintf("%s: %s (SQLSTATE %s)", reports[i].name,
															   edata->message ? edata->message : "unknown error",
															   unpack_sql_state(edata->sqlerrcode))),
								  false, TEXTOID, callcxt);
		ereport(WARNING,
				(errmsg("report %s failed: %s", reports[i].name,
						edata->message ? edata->message : "unknown error"),
				 errdetail("Its open findings stay as they were; the other reports ran."),
				 errhint("The error is kept in dbopt.check_runs.errors.")));
		FreeErrorData(edata);
	}

	for (int k = 0; k < 11; k++)
	{
		argtypes[k] = TEXTARRAYOID;
		nulls[k] = ' ';
	}
	argtypes[0] = TIMESTAMPTZOID;
	values[0] = TimestampTzGetDatum(started);
	values[1] = text_array_of(want, false, ran_ok);
	values[2] = text_array_of(want, true, ran_ok);
	for (int k = 0; k < 7; k++)
		values[3 + k] = c.cols[k] ? makeArrayResult(c.cols[k], callcxt) :
			PointerGetDatum(construct_empty_array(TEXTOID));
	values[10] = errors ? makeArrayResult(errors, callcxt) : (Datum) 0;
	nulls[10] = errors ? ' ' : 'n';
	row = dbopt_write_elevated(merge_sql, 11, argtypes, values, nulls, &rowdesc);
	run_id = DatumGetInt64(heap_getattr(row, 1, rowdesc, &isnull));
	opened = heap_getattr(row, 2, rowdesc, &opened_null);
	if (opened_null)
		opened = PointerGetDatum(construct_empty_array(INT8OID));

	/* History past its retention: resolved episodes, then runs nothing refers to. */
	{
		Oid			ptypes[2] = {TIMESTAMPTZOID, INT4OID};
		Datum		pvals[2];
		TimestampTz cutoff = started - (TimestampTz) dbopt_findings_history_retention_s * USECS_PER_SEC;

		pvals[0] = TimestampTzGetDatum(cutoff);
		pvals[1] = Int32GetDatum(PRUNE_CAP);
		(void) dbopt_write_elevated("WITH d AS (DELETE FROM dbopt.findings_history h"
									"  WHERE h.finding_id OPERATOR(pg_catalog.=) ANY (ARRAY("
									"    SELECT o.finding_id FROM dbopt.findings_history o"
									"     WHERE o.resolved_at OPERATOR(pg_catalog.<) $1"
									"     ORDER BY o.resolved_at LIMIT $2)) RETURNING 1)"
									" SELECT pg_catalog.count(*) FROM d",
									2, ptypes, pvals, NULL, NULL);
		(void) dbopt_write_elevated("WITH d AS (DELETE FROM dbopt.check_runs r"
									"  WHERE r.run_id OPERATOR(pg_catalog.=) ANY (ARRAY("
									"    SELECT o.run_id FROM dbopt.check_runs o"
									"     WHERE o.started_at OPERATOR(pg_catalog.<) $1"
									"       AND NOT EXISTS (SELECT FROM dbopt.findings_history h"
									"                        WHERE h.run_id OPERATOR(pg_catalog.=) o.run_id)"
									"     ORDER BY o.run_id LIMIT $2)) RETURNING 1)"
									" SELECT pg_catalog.count(*) FROM d",
									2, ptypes, pvals, NULL, NULL);
	}

	/* The open findings, read as dbopt's owner: the caller may not read the history. */
	{
		Oid			otypes[2] = {TEXTARRAYOID, INT8ARRAYOID};
		Datum		ovals[2] = {values[1], opened};
		Oid			ftypes[2] = {INT8OID, INT8OID};
		Datum		fvals[2];
		int64		nopen;

		dbopt_elevate(&id);
		if (SPI_connect() != SPI_OK_CONNECT)
			elog(ERROR, "SPI_connect failed");
		if (SPI_execute_with_args(open_sql, 2, otypes, ovals, NULL, false, 0) != SPI_OK_SELECT)
			elog(ERROR, "could not read dbopt.findings_history");
		nopen = (int64) SPI_processed;
		for (uint64 i = 0; i < SPI_processed; i++)
		{
			HeapTuple	tup = SPI_tuptable->vals[i];
			TupleDesc	desc = SPI_tuptable->tupdesc;
			Datum		v[9];
			bool		n[9];
			MemoryContext old;

			CHECK_FOR_INTERRUPTS();
			heap_deform_tuple(tup, desc, v, n);
			old = MemoryContextSwitchTo(rsinfo->econtext->ecxt_per_query_memory);
			tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc, v, n);
			MemoryContextSwitchTo(old);
			if (notify && DatumGetBool(v[8]) &&
				strcmp(TextDatumGetCString(v[0]), "critical") == 0)
				send_alert(TextDatumGetCString(v[6]), TextDatumGetCString(v[1]),
						   n[2] ? NULL : TextDatumGetCString(v[2]),
						   n[3] ? NULL : TextDatumGetCString(v[3]), run_id,
						   timestamptz_to_str(DatumGetTimestampTz(v[7])));
		}
		SPI_finish();
		dbopt_restore_identity(&id);

		fvals[0] = Int64GetDatum(run_id);
		fvals[1] = Int64GetDatum(nopen);
		(void) dbopt_write_elevated("UPDATE dbopt.check_runs"
									"   SET finished_at = pg_catalog.clock_timestamp(), findings = $2"
									" WHERE run_id OPERATOR(pg_catalog.=) $1 RETURNING run_id",
									2, ftypes, fvals, NULL, NULL);
	}

	MemoryContextDelete(c.cxt);
	return (Datum) 0;
}
