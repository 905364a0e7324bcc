/*-------------------------------------------------------------------------
 *
 * snapshots.c
 *	  take_snapshot() and purge_snapshots(): cumulative statistics recorded
 *	  into dbopt.snapshot_* tables for later comparison.
 *
 * pg_stat_statements is read, never reset, so other tools keep their
 * numbers; its eviction count and reset time go with each snapshot so a
 * comparison can tell a window it cannot trust.  Statement texts are read
 * only when a statement is new (reading them loads the whole texts file)
 * and kept once per (dbid, queryid).  Sizes come from pg_class (pages and
 * the block size), not from a file-system call per relation, so a
 * snapshot of a database with hundreds of thousands of indexes stays one
 * set-based statement per view.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include <math.h>

#include "access/xact.h"
#include "catalog/namespace.h"
#include "executor/spi.h"
#include "fmgr.h"
#include "miscadmin.h"
#include "utils/builtins.h"
#include "utils/lsyscache.h"
#include "utils/memutils.h"
#include "utils/timestamp.h"

#include "dbopt/index_evidence.h"
#include "dbopt/dbopt.h"
#include "dbopt/util.h"

static void
run(const char *sql, int nargs, Oid *types, Datum *values)
{
	if (SPI_execute_with_args(sql, nargs, types, values, NULL, false, 0) < 0)
		elog(ERROR, "could not run %s", sql);
}

/* The first column of the one row a statement returns. */
static Datum
spi_value(const char *sql, int nargs, Oid *types, Datum *values)
{
	bool		isnull;

	return dbopt_spi_value(sql, nargs, types, values, &isnull);
}

/*
 * take_snapshot()'s statements, planned once per backend and kept: the
 * scheduler's job workers and a DBA's session take snapshot after snapshot,
 * and parsing and planning them each time cost a noticeable share of a
 * snapshot.  The plan cache re-plans them after DDL on their tables; those
 * naming pg_stat_statements' schema are prepared again if it moves.
 */
enum
{
	SNAP_START,					/* the new id, the time, pgss_info, the previous snapshot's */
	SNAP_START_NO_PGSS,
	SNAP_STATEMENTS,
	SNAP_ANY_NEW_TEXT,
	SNAP_TEXTS,
	SNAP_HEADER,
	SNAP_DATABASES,
	SNAP_TABLES,
	SNAP_INDEXES,
	SNAP_OBSERVE,
	SNAP_FORGET,
	SNAP_NPLANS
};

static SPIPlanPtr snap_plans[SNAP_NPLANS];
static char *snap_plans_pgss;	/* schema the pgss plans were made for */

/* Also look for statements without a text every this many snapshots; see below. */
#define TEXT_RECHECK_EVERY 16

static SPIPlanPtr
snap_plan(int which, const char *q)
{
	Oid			types[6] = {INT8OID, TIMESTAMPTZOID, BOOLOID, INT8OID, TIMESTAMPTZOID, INT8OID};
	Oid			obs_types[2] = {TIMESTAMPTZOID, TIMESTAMPTZOID};
	Oid		   *argtypes = types;
	int			nargs = 1;
	char	   *sql;
	SPIPlanPtr	plan;

	if (snap_plans[which])
		return snap_plans[which];
	switch (which)
	{
		case SNAP_START:
			nargs = 0;
			sql = psprintf("SELECT pg_catalog.nextval('dbopt.snapshots_snap_id_seq'), pg_catalog.clock_timestamp(),"
						   "       i.dealloc, i.stats_reset, p.pgss_entries, p.pgss_dealloc, p.pgss_stats_reset"
						   "  FROM %s.pg_stat_statements_info i"
						   "  LEFT JOIN LATERAL (SELECT pgss_entries, pgss_dealloc, pgss_stats_reset FROM dbopt.snapshots"
						   "                      WHERE pgss_available ORDER BY snap_id DESC LIMIT 1) p ON true", q);
			break;
		case SNAP_START_NO_PGSS:
			nargs = 0;
			sql = "SELECT pg_catalog.nextval('dbopt.snapshots_snap_id_seq'), pg_catalog.clock_timestamp()";
			break;
		case SNAP_STATEMENTS:
			sql = psprintf("INSERT INTO dbopt.snapshot_statements"
						   " SELECT $1, userid, dbid, queryid, toplevel, calls, total_exec_time, mean_exec_time,"
						   "        stddev_exec_time, plans, total_plan_time, rows, shared_blks_hit, shared_blks_read,"
						   "        shared_blks_dirtied, shared_blks_written, temp_blks_read, temp_blks_written, wal_bytes"
						   "   FROM %s.pg_stat_statements(false) WHERE queryid IS NOT NULL", q);
			break;
		case SNAP_ANY_NEW_TEXT:
			sql = "SELECT EXISTS (SELECT dbid, queryid FROM dbopt.snapshot_statements WHERE snap_id = $1"
				" EXCEPT SELECT dbid, queryid FROM dbopt.query_texts)";
			break;
		case SNAP_TEXTS:
			nargs = 0;
			sql = psprintf("INSERT INTO dbopt.query_texts (dbid, queryid, query)"
						   " SELECT DISTINCT ON (s.dbid, s.queryid) s.dbid, s.queryid, s.query"
						   "   FROM %s.pg_stat_statements(true) s"
						   "  WHERE s.queryid IS NOT NULL"
						   " ON CONFLICT DO NOTHING", q);
			break;
		case SNAP_HEADER:
			nargs = 6;
			sql = "INSERT INTO dbopt.snapshots (snap_id, taken_at, pgss_available, pgss_dealloc, pgss_stats_reset, pgss_entries, server)"
				" SELECT $1, $2, $3, $4, $5, $6, jsonb_build_object("
				"  'bgwriter', (SELECT to_jsonb(b) FROM pg_catalog.pg_stat_bgwriter b),"
				"  'archiver', (SELECT to_jsonb(a) FROM pg_catalog.pg_stat_archiver a),"
				"  'wal', (SELECT to_jsonb(w) FROM pg_catalog.pg_stat_wal w),"
				"  'replication', (SELECT coalesce(jsonb_agg(jsonb_build_object('application_name', application_name,"
				"      'state', state, 'write_lag', write_lag, 'flush_lag', flush_lag, 'replay_lag', replay_lag,"
				"      'replay_lag_bytes', pg_catalog.pg_wal_lsn_diff(CASE WHEN pg_catalog.pg_is_in_recovery()"
				"        THEN pg_catalog.pg_last_wal_replay_lsn() ELSE pg_catalog.pg_current_wal_lsn() END, replay_lsn))), '[]')"
				"      FROM pg_catalog.pg_stat_replication),"
				"  'activity', (SELECT coalesce(jsonb_object_agg(k, n), '{}') FROM (SELECT coalesce(state, 'background')"
				"      || '/' || coalesce(wait_event_type, 'none') AS k, count(*) AS n FROM pg_catalog.pg_stat_activity GROUP BY 1) s),"
				"  'oldest_xact_age_s', (SELECT extract(epoch FROM max(pg_catalog.clock_timestamp() - xact_start))"
				"      FROM pg_catalog.pg_stat_activity WHERE backend_type = 'client backend'),"
				"  'oldest_query_age_s', (SELECT extract(epoch FROM max(pg_catalog.clock_timestamp() - query_start))"
				"      FROM pg_catalog.pg_stat_activity WHERE state = 'active' AND backend_type = 'client backend'),"
				"  'connections', (SELECT count(*) FROM pg_catalog.pg_stat_activity WHERE backend_type = 'client backend'),"
				"  'max_connections', pg_catalog.current_setting('max_connections')::int,"
				"  'role_limits', (SELECT coalesce(jsonb_agg(jsonb_build_object('role', r.rolname, 'limit', r.rolconnlimit,"
				"      'connections', (SELECT count(*) FROM pg_catalog.pg_stat_activity a WHERE a.usesysid = r.oid))), '[]')"
				"      FROM pg_catalog.pg_roles r WHERE r.rolconnlimit >= 0))";
			break;
		case SNAP_DATABASES:
			sql = "INSERT INTO dbopt.snapshot_databases"
				" SELECT $1, datid, datname, numbackends, xact_commit, xact_rollback, blks_read, blks_hit, tup_returned,"
				"        tup_fetched, tup_inserted, tup_updated, tup_deleted, conflicts, temp_files, temp_bytes, deadlocks,"
				"        blk_read_time, blk_write_time, stats_reset"
				"   FROM pg_catalog.pg_stat_database WHERE datid <> 0";
			break;
		case SNAP_TABLES:
			sql = "INSERT INTO dbopt.snapshot_tables"
				" SELECT $1, s.relid, pg_catalog.quote_ident(s.schemaname) || '.' || pg_catalog.quote_ident(s.relname),"
				"        seq_scan, seq_tup_read, idx_scan, idx_tup_fetch, n_tup_ins, n_tup_upd, n_tup_del, n_tup_hot_upd,"
				"        n_live_tup, n_dead_tup, vacuum_count, autovacuum_count, analyze_count, autoanalyze_count,"
				"        last_vacuum, last_autovacuum, last_analyze, last_autoanalyze,"
				"        c.relpages::bigint * pg_catalog.current_setting('block_size')::bigint,"
				"        io.heap_blks_read, io.heap_blks_hit, io.idx_blks_read, io.idx_blks_hit"
				"   FROM pg_catalog.pg_stat_user_tables s JOIN pg_catalog.pg_class c ON c.oid = s.relid"
				"   LEFT JOIN pg_catalog.pg_statio_user_tables io ON io.relid = s.relid";
			break;
		case SNAP_OBSERVE:
		case SNAP_FORGET:
			argtypes = obs_types;
			nargs = (which == SNAP_OBSERVE) ? 2 : 1;
			sql = (char *) (which == SNAP_OBSERVE ? dbopt_observe_indexes_sql : dbopt_forget_indexes_sql);
			break;
		default:
			sql = "INSERT INTO dbopt.snapshot_indexes"
				" SELECT $1, s.indexrelid, s.relid,"
				"        pg_catalog.quote_ident(s.schemaname) || '.' || pg_catalog.quote_ident(s.indexrelname),"
				"        idx_scan, idx_tup_read, idx_tup_fetch,"
				"        c.relpages::bigint * pg_catalog.current_setting('block_size')::bigint,"
				"        io.idx_blks_read, io.idx_blks_hit"
				"   FROM pg_catalog.pg_stat_user_indexes s JOIN pg_catalog.pg_class c ON c.oid = s.indexrelid"
				"   LEFT JOIN pg_catalog.pg_statio_user_indexes io ON io.indexrelid = s.indexrelid";
			break;
	}
	plan = SPI_prepare(sql, nargs, argtypes);
	if (plan == NULL)
		elog(ERROR, "could not prepare a take_snapshot() statement: %s", SPI_result_code_string(SPI_result));
	SPI_keepplan(plan);
	snap_plans[which] = plan;
	return plan;
}

static void
snap_run(int which, const char *q, Datum *values, const char *nulls, int expect)
{
	int			rc = SPI_execute_plan(snap_plan(which, q), values, nulls, false, 0);

	if (rc != expect)
		elog(ERROR, "take_snapshot() statement %d returned %d", which, rc);
}

static Datum
col(int c, bool *isnull)
{
	return SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, c, isnull);
}

PG_FUNCTION_INFO_V1(dbopt_take_snapshot);

Datum
dbopt_take_snapshot(PG_FUNCTION_ARGS)
{
	Oid			nsp = dbopt_extension_schema("pg_stat_statements");
	bool		pgss = OidIsValid(nsp) && dbopt_library_preloaded("pg_stat_statements");
	const char *q = pgss ? quote_identifier(get_namespace_name(nsp)) : NULL;
	Datum		hv[6];			/* snap_id, taken_at, pgss, dealloc, stats_reset, entries */
	char		hn[7] = "      ";
	bool		isnull;
	DboptIdentity saved;

	if (!pgss)
		ereport(NOTICE,
				(errmsg("take_snapshot: pg_stat_statements is not available, so no statement statistics are recorded"),
				 errdetail("Everything else is recorded."),
				 errhint("Add pg_stat_statements to shared_preload_libraries, restart, and CREATE EXTENSION pg_stat_statements.")));

	/* pg_stat_statements moved to another schema: prepare its statements again. */
	if (pgss && (snap_plans_pgss == NULL || strcmp(snap_plans_pgss, q) != 0))
	{
		int			pgss_plans[] = {SNAP_START, SNAP_STATEMENTS, SNAP_TEXTS};

		for (int i = 0; i < lengthof(pgss_plans); i++)
			if (snap_plans[pgss_plans[i]])
			{
				SPI_freeplan(snap_plans[pgss_plans[i]]);
				snap_plans[pgss_plans[i]] = NULL;
			}
		if (snap_plans_pgss)
			pfree(snap_plans_pgss);
		snap_plans_pgss = MemoryContextStrdup(TopMemoryContext, q);
	}

	/* dbopt's tables are written as the extension owner; the statistics views are read as well. */
	dbopt_elevate(&saved);
	SPI_connect();
	snap_run(pgss ? SNAP_START : SNAP_START_NO_PGSS, q, NULL, NULL, SPI_OK_SELECT);
	hv[0] = col(1, &isnull);
	hv[1] = col(2, &isnull);
	hv[2] = BoolGetDatum(pgss);
	hn[3] = hn[4] = hn[5] = 'n';
	if (pgss)
	{
		bool		dealloc_null,
					reset_null,
					prev_entries_null,
					prev_dealloc_null,
					prev_reset_null;
		Datum		dealloc = col(3, &dealloc_null),
					reset = col(4, &reset_null),
					prev_entries = col(5, &prev_entries_null),
					prev_dealloc = col(6, &prev_dealloc_null),
					prev_reset = col(7, &prev_reset_null);
		bool		same_entries;

		hv[3] = dealloc;
		hn[3] = dealloc_null ? 'n' : ' ';
		hv[4] = reset;
		hn[4] = reset_null ? 'n' : ' ';
		snap_run(SNAP_STATEMENTS, q, hv, NULL, SPI_OK_INSERT);
		hv[5] = Int64GetDatum((int64) SPI_processed);
		hn[5] = ' ';

		/*
		 * Texts are read only when a statement may be new: reading them
		 * loads the whole texts file.  Entries are only ever added, evicted
		 * (dealloc goes up) or reset (stats_reset moves), so the same count,
		 * evictions and reset time as the previous snapshot mean the same
		 * statements.  Only a reset of single entries can hide a new one;
		 * every TEXT_RECHECK_EVERY snapshots a full comparison catches it.
		 */
		same_entries = !prev_entries_null && DatumGetInt64(prev_entries) == (int64) SPI_processed &&
			!dealloc_null && !prev_dealloc_null && DatumGetInt64(dealloc) == DatumGetInt64(prev_dealloc) &&
			!reset_null && !prev_reset_null && DatumGetTimestampTz(reset) == DatumGetTimestampTz(prev_reset);
		if (!same_entries)
			snap_run(SNAP_TEXTS, q, NULL, NULL, SPI_OK_INSERT);
		else if (DatumGetInt64(hv[0]) % TEXT_RECHECK_EVERY == 0)
		{
			snap_run(SNAP_ANY_NEW_TEXT, q, hv, NULL, SPI_OK_SELECT);
			if (DatumGetBool(col(1, &isnull)))
				snap_run(SNAP_TEXTS, q, NULL, NULL, SPI_OK_INSERT);
		}
	}
	snap_run(SNAP_HEADER, q, hv, hn, SPI_OK_INSERT);
	snap_run(SNAP_DATABASES, q, hv, NULL, SPI_OK_INSERT);
	snap_run(SNAP_TABLES, q, hv, NULL, SPI_OK_INSERT);
	snap_run(SNAP_INDEXES, q, hv, NULL, SPI_OK_INSERT);
	/* Observation windows: the snapshot's time and the epoch it saw (installs from 0.11). */
	if (OidIsValid(get_relname_relid("index_observations", get_namespace_oid("dbopt", false))))
	{
		Datum		ov[2];
		TimestampTz epoch;
		const char *source;

		dbopt_stats_epoch(&epoch, &source);
		ov[0] = hv[1];
		ov[1] = TimestampTzGetDatum(epoch);
		snap_run(SNAP_OBSERVE, q, ov, NULL, SPI_OK_INSERT);
		snap_run(SNAP_FORGET, q, ov, NULL, SPI_OK_DELETE);
	}
	SPI_finish();
	dbopt_restore_identity(&saved);
	PG_RETURN_DATUM(hv[0]);
}

/* The snapshots purge_snapshots() takes, in its dry run and its real one alike. */
#define PURGE_SNAPSHOTS "taken_at < pg_catalog.now() - $1"
#define FORGET_SCANS "scans > 0 AND last_used < pg_catalog.now() - $1"

PG_FUNCTION_INFO_V1(dbopt_purge_snapshots);

Datum
dbopt_purge_snapshots(PG_FUNCTION_ARGS)
{
	Oid			types[1] = {INTERVALOID};
	Datum		values[1];
	bool		dry_run = dbopt_steering_bool(fcinfo, 1, "dry_run");
	Interval	zero;
	int64		n;
	int64		forgotten = 0;
	DboptIdentity saved;

	dbopt_require_arg(fcinfo, 0, "keep");
	values[0] = IntervalPGetDatum(dbopt_interval_or_text_arg(fcinfo, 0, "keep"));
	memset(&zero, 0, sizeof(zero));
	if (DatumGetInt32(DirectFunctionCall2(interval_cmp, values[0], IntervalPGetDatum(&zero))) < 0)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("keep must not be negative"),
				 errdetail("Snapshots older than now() minus keep are deleted."),
				 errhint("Use '0' to delete every snapshot, or for example '14 days'.")));
	dbopt_elevate(&saved);
	SPI_connect();
	/*
	 * A scan seen only in the purged snapshots no longer keeps its index
	 * "used": both runs count those indexes, the real one resets them.
	 */
	if (OidIsValid(get_relname_relid("index_observations", get_namespace_oid("dbopt", false))))
		forgotten = DatumGetInt64(spi_value(dry_run
											? "SELECT pg_catalog.count(*) FROM dbopt.index_observations WHERE " FORGET_SCANS
											: "WITH u AS (UPDATE dbopt.index_observations SET scans = 0 WHERE " FORGET_SCANS
											" RETURNING 1) SELECT pg_catalog.count(*) FROM u",
											1, types, values));
	if (dry_run)
		n = DatumGetInt64(spi_value("SELECT count(*) FROM dbopt.snapshots WHERE " PURGE_SNAPSHOTS,
									1, types, values));
	else
	{
		n = DatumGetInt64(spi_value("WITH d AS (DELETE FROM dbopt.snapshots WHERE " PURGE_SNAPSHOTS " RETURNING snap_id),"
									" s AS (DELETE FROM dbopt.snapshot_statements WHERE snap_id IN (SELECT snap_id FROM d)),"
									" b AS (DELETE FROM dbopt.snapshot_databases WHERE snap_id IN (SELECT snap_id FROM d)),"
									" t AS (DELETE FROM dbopt.snapshot_tables WHERE snap_id IN (SELECT snap_id FROM d)),"
									" i AS (DELETE FROM dbopt.snapshot_indexes WHERE snap_id IN (SELECT snap_id FROM d))"
									" SELECT count(*) FROM d", 1, types, values));
		run("DELETE FROM dbopt.query_texts t WHERE NOT EXISTS (SELECT FROM dbopt.snapshot_statements s"
			" WHERE s.dbid = t.dbid AND s.queryid = t.queryid)", 0, NULL, NULL);
	}
	SPI_finish();
	dbopt_restore_identity(&saved);
	/* Every run is logged, a dry run and one that found nothing too. */
	dbopt_log_action("purge_snapshots", "dbopt.snapshots", dry_run ? "would delete" : "deleted", n, -1,
					 psprintf("snapshots older than %s; %lld index(es) whose only scans seen were in them",
							  DatumGetCString(DirectFunctionCall1(interval_out, values[0])),
							  (long long) forgotten));
	PG_RETURN_INT64(n);
}

/* ---------- Welch's t-test ---------- */

/*
 * Continued fraction of the regularized incomplete beta function, by the
 * modified Lentz method.
 */
static double
beta_cf(double a, double b, double x)
{
	const double tiny = 1e-300;
	double		c = 1.0,
				d = 1.0 - (a + b) * x / (a + 1.0),
				h;
	int			m;

	if (fabs(d) < tiny)
		d = tiny;
	d = 1.0 / d;
	h = d;
	for (m = 1; m <= 300; m++)
	{
		int			m2 = 2 * m;
		double		num = m * (b - m) * x / ((a + m2 - 1.0) * (a + m2));
		double		del;

		d = 1.0 + num * d;
		d = fabs(d) < tiny ? tiny : d;
		c = 1.0 + num / c;
		c = fabs(c) < tiny ? tiny : c;
		d = 1.0 / d;
		h *= d * c;
		num = -(a + m) * (a + b + m) * x / ((a + m2) * (a + m2 + 1.0));
		d = 1.0 + num * d;
		d = fabs(d) < tiny ? tiny : d;
		c = 1.0 + num / c;
		c = fabs(c) < tiny ? tiny : c;
		d = 1.0 / d;
		del = d * c;
		h *= del;
		if (fabs(del - 1.0) < 1e-14)
			break;
	}
	return h;
}

/* Regularized incomplete beta I_x(a, b). */
static double
incomplete_beta(double a, double b, double x)
{
	double		front;

	if (x <= 0.0)
		return 0.0;
	if (x >= 1.0)
		return 1.0;
	front = exp(lgamma(a + b) - lgamma(a) - lgamma(b) + a * log(x) + b * log(1.0 - x));
	if (x < (a + 1.0) / (a + b + 2.0))
		return front * beta_cf(a, b, x) / a;
	return 1.0 - front * beta_cf(b, a, 1.0 - x) / b;
}

PG_FUNCTION_INFO_V1(dbopt_welch_p_value);

/*
 * welch_p_value(mean1, var1, n1, mean2, var2, n2): the one-sided p-value of
 * Welch's t-test that the second sample's mean is greater than the first's
 * (sample variances).  NULL when a sample has fewer than two values.
 */
Datum
dbopt_welch_p_value(PG_FUNCTION_ARGS)
{
	double		m1 = PG_GETARG_FLOAT8(0),
				v1 = PG_GETARG_FLOAT8(1),
				n1 = PG_GETARG_FLOAT8(2),
				m2 = PG_GETARG_FLOAT8(3),
				v2 = PG_GETARG_FLOAT8(4),
				n2 = PG_GETARG_FLOAT8(5);
	double		se1,
				se2,
				t,
				df,
				p;

	if (n1 < 2 || n2 < 2 || v1 < 0 || v2 < 0)
		PG_RETURN_NULL();
	se1 = v1 / n1;
	se2 = v2 / n2;
	if (se1 + se2 <= 0)
		PG_RETURN_FLOAT8(m2 > m1 ? 0.0 : 1.0);	/* no spread: any difference is certain */
	t = (m2 - m1) / sqrt(se1 + se2);
	df = (se1 + se2) * (se1 + se2) /
		(se1 * se1 / (n1 - 1) + se2 * se2 / (n2 - 1));
	/* P(T > t) for Student's t with df degrees of freedom. */
	p = 0.5 * incomplete_beta(df / 2.0, 0.5, df / (df + t * t));
	PG_RETURN_FLOAT8(t > 0 ? p : 1.0 - p);
}
