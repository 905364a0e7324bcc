/*-------------------------------------------------------------------------
 *
 * metrics.c
 *	  dbopt.metric_values() and dbopt.metrics(): dbopt's state as gauges
 *	  for Prometheus.  metric_values() is the table (metric, labels, value)
 *	  that prometheus-postgres-exporter's query file selects from;
 *	  metrics() renders the same samples as text exposition (OpenMetrics,
 *	  which Prometheus' own text parser also reads), for node-exporter's
 *	  textfile collector or any scraper.
 *
 * Open findings, the last run_checks() run, jobs, snapshots and
 * materialized views come from dbopt's own tables and views, read as the
 * caller; partition runway and sequence headroom from the catalog, with
 * the code the partition and integrity reports use.  Nothing is written,
 * so it runs on a hot standby.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "common/shortest_dec.h"
#include "executor/spi.h"
#include "fmgr.h"
#include "funcapi.h"
#include "lib/stringinfo.h"
#include "miscadmin.h"
#include "utils/builtins.h"
#include "utils/float.h"
#include "utils/jsonb.h"
#include "utils/memutils.h"

#include "dbopt/compat.h"
#include "dbopt/integrity.h"
#include "dbopt/partitions.h"
#include "dbopt/util.h"

#define MAX_LABELS 2

/*
 * Seconds from a time (an SQL expression) to now, never below 0 (a run
 * that finished after this transaction started); NULL stays NULL.
 */
#define AGE_SECONDS(t) \
	"CASE WHEN " t " IS NOT NULL THEN GREATEST(0, pg_catalog.date_part('epoch'," \
	" pg_catalog.now() OPERATOR(pg_catalog.-) " t ")) END"

typedef struct Family
{
	const char *name;
	const char *help;
	const char *labels[MAX_LABELS];
} Family;

/*
 * Every family is a gauge.  The order here is the order of the output;
 * the README's metric list follows it.
 */
enum
{
	F_FINDINGS_OPEN,
	F_CHECK_RUN_AGE,
	F_CHECK_RUN_ERRORS,
	F_JOB_SINCE_SUCCESS,
	F_JOB_FAILURES,
	F_JOB_OVERDUE,
	F_JOB_ENABLED,
	F_SNAPSHOT_AGE,
	F_MATVIEW_AGE,
	F_MATVIEW_OVERDUE,
	F_MATVIEW_POPULATED,
	F_PARTITION_RUNWAY,
	F_SEQUENCE_USED,
	N_FAMILIES
};

static const Family families[N_FAMILIES] = {
	{"dbopt_findings_open",
		"Open findings (dbopt.findings) by severity and check; every check of the registry has a series for each severity, 0 when none is open.",
	{"severity", "check"}},
	{"dbopt_check_run_age_seconds",
		"Seconds since the last finished run_checks() run; NaN when none has finished.", {NULL}},
	{"dbopt_check_run_errors",
		"Reports that failed in the last finished run_checks() run; NaN when none has finished.", {NULL}},
	{"dbopt_job_seconds_since_success",
		"Seconds since the job last succeeded; NaN when it never has.", {"job", "kind"}},
	{"dbopt_job_consecutive_failures",
		"Failed runs of the job since its last success.", {"job", "kind"}},
	{"dbopt_job_overdue",
		"1 when an enabled job has not succeeded within twice its schedule's interval (dbopt.job_status), else 0.",
	{"job", "kind"}},
	{"dbopt_job_enabled",
		"1 when the job is enabled, else 0.", {"job", "kind"}},
	{"dbopt_snapshot_age_seconds",
		"Seconds since the newest performance snapshot; NaN when there is none.", {NULL}},
	{"dbopt_matview_refresh_age_seconds",
		"Seconds since dbopt last refreshed the materialized view successfully (dbopt.matview_freshness); NaN when it never has.",
	{"matview"}},
	{"dbopt_matview_overdue",
		"1 when a scheduled refresh has not succeeded within twice its interval (dbopt.matview_freshness), else 0; 0 when no job refreshes the view.",
	{"matview"}},
	{"dbopt_matview_populated",
		"1 when the materialized view is populated, else 0.", {"matview"}},
	{"dbopt_partition_runway_seconds",
		"Seconds from now to the end of the unbroken run of partitions holding now, per time-partitioned table registered with manage_partitions(); 0 when no partition holds now, +Inf up to MAXVALUE.",
	{"parent"}},
	{"dbopt_sequence_used_ratio",
		"Share of its range a sequence has handed out: last value over the nearest of its own limit and that of the narrowest column it feeds, as the sequence_exhaustion check judges it.",
	{"sequence"}},
};

typedef struct Sample
{
	char	   *labels[MAX_LABELS];
	double		value;
} Sample;

/*
 * Samples per family, in output order, kept in cxt (SPI calls switch
 * contexts on their own: nothing here relies on the current one).
 */
typedef struct Collected
{
	MemoryContext cxt;
	List	   *samples[N_FAMILIES];
} Collected;

static void
add_sample(Collected *c, int family, const char *l0, const char *l1, double value)
{
	MemoryContext old = MemoryContextSwitchTo(c->cxt);
	Sample	   *s = palloc0(sizeof(Sample));

	s->labels[0] = l0 ? pstrdup(l0) : NULL;
	s->labels[1] = l1 ? pstrdup(l1) : NULL;
	s->value = value;
	c->samples[family] = lappend(c->samples[family], s);
	MemoryContextSwitchTo(old);
}

/*
 * One query over dbopt's tables: its first nlabels columns are label
 * values (text), the others float8 values of the families listed, in
 * order.  A NULL value is NaN.
 */
static void
collect_query(Collected *c, const char *sql, int nlabels, const int *fams, int nfams)
{
	uint64		i;

	if (SPI_execute(sql, true, 0) != SPI_OK_SELECT)
		elog(ERROR, "dbopt metrics: query failed: %s", sql);
	for (i = 0; i < SPI_processed; i++)
	{
		HeapTuple	tup = SPI_tuptable->vals[i];
		TupleDesc	desc = SPI_tuptable->tupdesc;
		char	   *l[MAX_LABELS] = {NULL, NULL};
		int			k;

		CHECK_FOR_INTERRUPTS();
		for (k = 0; k < nlabels; k++)
			l[k] = SPI_getvalue(tup, desc, k + 1);
		for (k = 0; k < nfams; k++)
		{
			bool		isnull;
			Datum		d = SPI_getbinval(tup, desc, nlabels + k + 1, &isnull);

			add_sample(c, fams[k], l[0], l[1],
					   isnull ? get_float8_nan() : DatumGetFloat8(d));
		}
	}
}

static int
sample_label_cmp(const ListCell *a, const ListCell *b)
{
	return strcmp(((Sample *) lfirst(a))->labels[0], ((Sample *) lfirst(b))->labels[0]);
}

/* Sequence headroom, one sequence at a time in its own memory context. */
static void
collect_sequences(Collected *c)
{
	List	   *seqs = dbopt_user_relations("S");
	ListCell   *lc;
	MemoryContext itemcxt = AllocSetContextCreate(CurrentMemoryContext, "dbopt metrics sequence",
												  ALLOCSET_SMALL_SIZES);

	foreach(lc, seqs)
	{
		MemoryContext old;
		double		used;
		bool		ok;
		char	   *name;

		CHECK_FOR_INTERRUPTS();
		old = MemoryContextSwitchTo(itemcxt);
		ok = dbopt_sequence_used_fraction(lfirst_oid(lc), &used);
		name = ok ? dbopt_qualified_relname(lfirst_oid(lc)) : NULL;
		MemoryContextSwitchTo(old);
		if (ok && name != NULL)
			add_sample(c, F_SEQUENCE_USED, name, NULL, used);
		MemoryContextReset(itemcxt);
	}
	MemoryContextDelete(itemcxt);
	list_sort(c->samples[F_SEQUENCE_USED], sample_label_cmp);
}

/* Partition runway of each registered parent, in the order of their names. */
static void
collect_partitions(Collected *c)
{
	List	   *parents = NIL;
	ListCell   *lc;
	uint64		i;
	MemoryContext itemcxt;

	if (SPI_execute("SELECT parent FROM dbopt.partition_config ORDER BY parent::pg_catalog.text COLLATE \"C\"",
					true, 0) != SPI_OK_SELECT)
		elog(ERROR, "dbopt metrics: could not read dbopt.partition_config");
	for (i = 0; i < SPI_processed; i++)
	{
		bool		isnull;
		Datum		d = SPI_getbinval(SPI_tuptable->vals[i], SPI_tuptable->tupdesc, 1, &isnull);

		if (!isnull)
			parents = lappend_oid(parents, DatumGetObjectId(d));
	}
	itemcxt = AllocSetContextCreate(CurrentMemoryContext, "dbopt metrics partition parent",
									ALLOCSET_DEFAULT_SIZES);
	foreach(lc, parents)
	{
		MemoryContext old;
		double		secs;
		bool		ok;
		char	   *name = NULL;

		CHECK_FOR_INTERRUPTS();
		old = MemoryContextSwitchTo(itemcxt);
		ok = dbopt_partition_runway(lfirst_oid(lc), &secs);
		if (ok)
			name = dbopt_qualified_relname(lfirst_oid(lc));
		MemoryContextSwitchTo(old);
		if (ok && name != NULL)
			add_sample(c, F_PARTITION_RUNWAY, name, NULL, secs);
		MemoryContextReset(itemcxt);
	}
	MemoryContextDelete(itemcxt);
}

/* Every sample, in the caller's memory context. */
static Collected *
collect(void)
{
	Collected  *c = palloc0(sizeof(Collected));

	c->cxt = CurrentMemoryContext;
	SPI_connect();
	{
		static const int findings[] = {F_FINDINGS_OPEN};
		static const int runs[] = {F_CHECK_RUN_AGE, F_CHECK_RUN_ERRORS};
		static const int jobs[] = {F_JOB_SINCE_SUCCESS, F_JOB_FAILURES, F_JOB_OVERDUE, F_JOB_ENABLED};
		static const int snaps[] = {F_SNAPSHOT_AGE};
		static const int matviews[] = {F_MATVIEW_AGE, F_MATVIEW_OVERDUE, F_MATVIEW_POPULATED};

		/* Each check with each severity, so that a count of 0 is a series too. */
		collect_query(c,
					  "SELECT s.severity, k.check_name,"
					  "       pg_catalog.count(f.check_name)::pg_catalog.float8"
					  "  FROM (SELECT n.check_name FROM dbopt.check_names() n"
					  "        UNION SELECT o.check_name FROM dbopt.findings o) k"
					  " CROSS JOIN (VALUES (1, 'critical'), (2, 'warning'), (3, 'info')) s(rank, severity)"
					  "  LEFT JOIN dbopt.findings f"
					  "    ON f.check_name OPERATOR(pg_catalog.=) k.check_name"
					  "   AND f.severity OPERATOR(pg_catalog.=) s.severity"
					  " GROUP BY k.check_name, s.rank, s.severity"
					  " ORDER BY k.check_name COLLATE \"C\", s.rank",
					  2, findings, lengthof(findings));
		collect_query(c,
					  "SELECT " AGE_SECONDS("r.finished_at") ","
					  "       CASE WHEN r.finished_at IS NOT NULL"
					  "            THEN COALESCE(pg_catalog.cardinality(r.errors), 0)::pg_catalog.float8 END"
					  "  FROM (SELECT 1) one"
					  "  LEFT JOIN LATERAL (SELECT x.finished_at, x.errors FROM dbopt.check_runs x"
					  "                      WHERE x.finished_at IS NOT NULL"
					  "                      ORDER BY x.finished_at DESC LIMIT 1) r ON true",
					  0, runs, lengthof(runs));
		collect_query(c,
					  "SELECT j.job_name, j.kind,"
					  "       " AGE_SECONDS("j.last_success_at") ","
					  "       j.consecutive_failures::pg_catalog.float8,"
					  "       COALESCE(j.overdue, false)::pg_catalog.int4::pg_catalog.float8,"
					  "       j.enabled::pg_catalog.int4::pg_catalog.float8"
					  "  FROM dbopt.job_status j ORDER BY j.job_name COLLATE \"C\"",
					  2, jobs, lengthof(jobs));
		collect_query(c,
					  "SELECT " AGE_SECONDS("s.t")
					  "  FROM (SELECT pg_catalog.max(x.taken_at) FROM dbopt.snapshots x) s(t)",
					  0, snaps, lengthof(snaps));
		collect_query(c,
					  "SELECT m.matview::pg_catalog.text,"
					  "       " AGE_SECONDS("m.last_refresh") ","
					  "       COALESCE(m.overdue, false)::pg_catalog.int4::pg_catalog.float8,"
					  "       m.populated::pg_catalog.int4::pg_catalog.float8"
					  "  FROM dbopt.matview_freshness m ORDER BY m.matview::pg_catalog.text COLLATE \"C\"",
					  1, matviews, lengthof(matviews));
		collect_partitions(c);
	}
	SPI_finish();
	collect_sequences(c);
	return c;
}

/* ---------- metric_values() ---------- */

static JsonbValue
jstring(const char *s)
{
	JsonbValue	v;

	v.type = jbvString;
	v.val.string.val = (char *) s;
	v.val.string.len = strlen(s);
	return v;
}

PG_FUNCTION_INFO_V1(dbopt_metric_values);

Datum
dbopt_metric_values(PG_FUNCTION_ARGS)
{
	ReturnSetInfo *rsinfo = (ReturnSetInfo *) fcinfo->resultinfo;
	Collected  *c = collect();
	int			f;

	dbopt_init_materialized_srf(fcinfo);
	for (f = 0; f < N_FAMILIES; f++)
	{
		ListCell   *lc;

		foreach(lc, c->samples[f])
		{
			Sample	   *s = lfirst(lc);
			JsonbParseState *state = NULL;
			JsonbValue *res;
			Datum		values[3];
			bool		nulls[3] = {0};
			int			k;

			pushJsonbValue(&state, WJB_BEGIN_OBJECT, NULL);
			for (k = 0; k < MAX_LABELS && families[f].labels[k] != NULL; k++)
			{
				JsonbValue	key = jstring(families[f].labels[k]);
				JsonbValue	val = jstring(s->labels[k] ? s->labels[k] : "");

				pushJsonbValue(&state, WJB_KEY, &key);
				pushJsonbValue(&state, WJB_VALUE, &val);
			}
			res = pushJsonbValue(&state, WJB_END_OBJECT, NULL);
			values[0] = CStringGetTextDatum(families[f].name);
			values[1] = JsonbPGetDatum(JsonbValueToJsonb(res));
			values[2] = Float8GetDatum(s->value);
			tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc, values, nulls);
		}
	}
	return (Datum) 0;
}

/* ---------- metrics() ---------- */

/* A label value: backslash, double quote and newline escaped. */
static void
append_label_value(StringInfo buf, const char *v)
{
	for (; *v; v++)
	{
		if (*v == '\\')
			appendStringInfoString(buf, "\\\\");
		else if (*v == '"')
			appendStringInfoString(buf, "\\\"");
		else if (*v == '\n')
			appendStringInfoString(buf, "\\n");
		else
			appendStringInfoChar(buf, *v);
	}
}

/* A value as both text formats spell it: NaN, +Inf, -Inf, or a number. */
static void
append_value(StringInfo buf, double v)
{
	if (isnan(v))
		appendStringInfoString(buf, "NaN");
	else if (isinf(v))
		appendStringInfoString(buf, v > 0 ? "+Inf" : "-Inf");
	else
	{
		char		num[64];

		/* The shortest text that reads back exactly, whatever extra_float_digits is. */
		(void) double_to_shortest_decimal_buf(v, num);
		appendStringInfoString(buf, num);
	}
}

PG_FUNCTION_INFO_V1(dbopt_metrics);

Datum
dbopt_metrics(PG_FUNCTION_ARGS)
{
	Collected  *c = collect();
	StringInfoData buf;
	int			f;

	initStringInfo(&buf);
	for (f = 0; f < N_FAMILIES; f++)
	{
		ListCell   *lc;

		/* Help texts hold no backslash or newline, which would need escaping. */
		appendStringInfo(&buf, "# HELP %s %s\n# TYPE %s gauge\n",
						 families[f].name, families[f].help, families[f].name);
		foreach(lc, c->samples[f])
		{
			Sample	   *s = lfirst(lc);
			int			k;

			appendStringInfoString(&buf, families[f].name);
			for (k = 0; k < MAX_LABELS && families[f].labels[k] != NULL; k++)
			{
				appendStringInfo(&buf, "%s%s=\"", k == 0 ? "{" : ",", families[f].labels[k]);
				append_label_value(&buf, s->labels[k] ? s->labels[k] : "");
				appendStringInfoChar(&buf, '"');
			}
			if (k > 0)
				appendStringInfoChar(&buf, '}');
			appendStringInfoChar(&buf, ' ');
			append_value(&buf, s->value);
			appendStringInfoChar(&buf, '\n');
		}
	}
	/* OpenMetrics ends here; Prometheus' text parser reads it as a comment. */
	appendStringInfoString(&buf, "# EOF\n");
	PG_RETURN_TEXT_P(cstring_to_text_with_len(buf.data, buf.len));
}
