/*-------------------------------------------------------------------------
 *
 * report.c
 *	  report_html(): one self-contained HTML page over a snapshot window.
 *
 * The page has a summary, the top statements, the regressions between the
 * window's two halves, the current health findings, and inline SVG charts
 * over every snapshot in the window.  It refers to nothing outside itself:
 * no scripts, fonts, styles or images, and every text that comes from the
 * database is escaped, ':' included, so that no text in it can become a
 * link.  The data comes from dbopt's own SQL functions through SPI; the
 * page, the charts and their scales are made here.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include <math.h>

#include "catalog/pg_type.h"
#include "executor/spi.h"
#include "fmgr.h"
#include "lib/stringinfo.h"
#include "miscadmin.h"
#include "commands/dbcommands.h"
#include "utils/builtins.h"
#include "utils/timestamp.h"

#define CHART_W 760
#define CHART_H 240
#define PLOT_L 64				/* room for the y labels */
#define PLOT_R 16
#define PLOT_T 34
#define PLOT_B 28				/* room for the x labels */
#define TOP_STATEMENTS 20
#define CHART_STATEMENTS 5

static const char *const palette[] = {
	"#2563eb", "#dc2626", "#16a34a", "#9333ea", "#ea580c", "#0891b2"
};

typedef struct Series
{
	const char *name;
	double	   *y;
	bool	   *isnull;
} Series;

/* Text from the database, made safe for element content and attributes. */
static void
append_html(StringInfo buf, const char *s)
{
	if (s == NULL)
		return;
	for (; *s; s++)
	{
		switch (*s)
		{
			case '&':
				appendStringInfoString(buf, "&amp;");
				break;
			case '<':
				appendStringInfoString(buf, "&lt;");
				break;
			case '>':
				appendStringInfoString(buf, "&gt;");
				break;
			case '"':
				appendStringInfoString(buf, "&quot;");
				break;
			case '\'':
				appendStringInfoString(buf, "&#39;");
				break;
			case ':':
				/* "http://" in a query text must not read as a reference */
				appendStringInfoString(buf, "&#58;");
				break;
			default:
				appendStringInfoChar(buf, *s);
		}
	}
}

/* The smallest of 1, 2, 2.5, 5 times a power of ten that is >= v. */
static double
nice_ceiling(double v)
{
	double		p,
				f;

	if (v <= 0 || !isfinite(v))
		return 1;
	p = pow(10, floor(log10(v)));
	f = v / p;
	if (f <= 1)
		return p;
	if (f <= 2)
		return 2 * p;
	if (f <= 2.5)
		return 2.5 * p;
	if (f <= 5)
		return 5 * p;
	return 10 * p;
}

static void
append_number(StringInfo buf, double v)
{
	if (fabs(v) >= 100 || v == floor(v))
		appendStringInfo(buf, "%.0f", v);
	else if (fabs(v) >= 1)
		appendStringInfo(buf, "%.1f", v);
	else
		appendStringInfo(buf, "%.3g", v);
}

/*
 * A line chart of series over time (x: seconds since the epoch, labels:
 * the snapshot times).  Gaps where a value is missing break the line.
 */
static void
append_chart(StringInfo buf, const char *title, const char *unit, int n,
			 const double *x, const char *const *xlabel, const Series *series, int nseries)
{
	double		ymax = 0;
	double		xmin = n > 0 ? x[0] : 0;
	double		xmax = n > 0 ? x[n - 1] : 1;
	int			pw = CHART_W - PLOT_L - PLOT_R;
	int			ph = CHART_H - PLOT_T - PLOT_B;
	int			points = 0;

	for (int s = 0; s < nseries; s++)
		for (int i = 0; i < n; i++)
			if (!series[s].isnull[i])
			{
				ymax = Max(ymax, series[s].y[i]);
				points++;
			}
	ymax = nice_ceiling(ymax);
	if (xmax <= xmin)
		xmax = xmin + 1;

	appendStringInfo(buf, "<figure><svg role=\"img\" viewBox=\"0 0 %d %d\" width=\"%d\" height=\"%d\">",
					 CHART_W, CHART_H, CHART_W, CHART_H);
	appendStringInfoString(buf, "<title>");
	append_html(buf, title);
	appendStringInfo(buf, "</title><rect x=\"0\" y=\"0\" width=\"%d\" height=\"%d\" fill=\"#ffffff\"/>",
					 CHART_W, CHART_H);
	appendStringInfo(buf, "<text x=\"%d\" y=\"20\" class=\"t\">", PLOT_L);
	append_html(buf, title);
	appendStringInfoString(buf, " (");
	append_html(buf, unit);
	appendStringInfoString(buf, ")</text>");

	/* Grid and y labels. */
	for (int g = 0; g <= 4; g++)
	{
		double		gy = PLOT_T + ph - ph * g / 4.0;

		appendStringInfo(buf, "<line x1=\"%d\" x2=\"%d\" y1=\"%.1f\" y2=\"%.1f\" class=\"g\"/>",
						 PLOT_L, PLOT_L + pw, gy, gy);
		appendStringInfo(buf, "<text x=\"%d\" y=\"%.1f\" class=\"yl\">", PLOT_L - 6, gy + 4);
		append_number(buf, ymax * g / 4.0);
		appendStringInfoString(buf, "</text>");
	}
	if (n > 0)
	{
		appendStringInfo(buf, "<text x=\"%d\" y=\"%d\" class=\"xl\">", PLOT_L, PLOT_T + ph + 16);
		append_html(buf, xlabel[0]);
		appendStringInfo(buf, "</text><text x=\"%d\" y=\"%d\" class=\"xl\" text-anchor=\"end\">",
						 PLOT_L + pw, PLOT_T + ph + 16);
		append_html(buf, xlabel[n - 1]);
		appendStringInfoString(buf, "</text>");
	}

	if (points == 0)
		appendStringInfo(buf, "<text x=\"%d\" y=\"%d\" class=\"none\">no data in this window: it needs two snapshots or more</text>",
						 PLOT_L + 20, PLOT_T + ph / 2);

	for (int s = 0; s < nseries; s++)
	{
		const char *color = palette[s % lengthof(palette)];
		bool		open = false;

		for (int i = 0; i < n; i++)
		{
			double		px,
						py;

			if (series[s].isnull[i])
			{
				if (open)
					appendStringInfoString(buf, "\"/>");
				open = false;
				continue;
			}
			px = PLOT_L + pw * (x[i] - xmin) / (xmax - xmin);
			py = PLOT_T + ph - ph * (series[s].y[i] / ymax);
			if (!open)
				appendStringInfo(buf, "<polyline fill=\"none\" stroke=\"%s\" stroke-width=\"2\" points=\"", color);
			appendStringInfo(buf, "%.1f,%.1f ", px, py);
			open = true;
		}
		if (open)
			appendStringInfoString(buf, "\"/>");
		for (int i = 0; i < n; i++)
			if (!series[s].isnull[i])
				appendStringInfo(buf, "<circle cx=\"%.1f\" cy=\"%.1f\" r=\"2.5\" fill=\"%s\"/>",
								 PLOT_L + pw * (x[i] - xmin) / (xmax - xmin),
								 PLOT_T + ph - ph * (series[s].y[i] / ymax), color);
	}
	appendStringInfoString(buf, "</svg><figcaption>");
	for (int s = 0; s < nseries; s++)
	{
		appendStringInfo(buf, "<span class=\"key\"><span style=\"color:%s\">&#9632;</span> ",
						 palette[s % lengthof(palette)]);
		append_html(buf, series[s].name);
		appendStringInfoString(buf, "</span>");
	}
	appendStringInfoString(buf, "</figcaption></figure>\n");
}

/* Run a read-only query with snapshot ids as $1, $2, ... */
static void
query_ids(const char *sql, int nids, const int64 *ids)
{
	Oid			types[3];
	Datum		values[3];

	Assert(nids <= lengthof(types));
	for (int i = 0; i < nids; i++)
	{
		types[i] = INT8OID;
		values[i] = Int64GetDatum(ids[i]);
	}
	if (SPI_execute_with_args(sql, nids, types, values, NULL, false, 0) != SPI_OK_SELECT)
		elog(ERROR, "report_html: could not run %s", sql);
}

/* The same with the window as $1 and $2. */
static void
query(const char *sql, int64 from_id, int64 to_id)
{
	int64		ids[2] = {from_id, to_id};

	query_ids(sql, 2, ids);
}

static char *
value_at(uint64 row, int col)
{
	return SPI_getvalue(SPI_tuptable->vals[row], SPI_tuptable->tupdesc, col);
}

static double
double_at(uint64 row, int col, bool *isnull)
{
	Datum		d = SPI_getbinval(SPI_tuptable->vals[row], SPI_tuptable->tupdesc, col, isnull);

	return *isnull ? 0 : DatumGetFloat8(d);
}

/* A table of the current SPI result, one column per result column. */
static void
append_result_table(StringInfo buf, const char *const *headers, const char *empty)
{
	int			ncols = SPI_tuptable->tupdesc->natts;

	if (SPI_processed == 0)
	{
		appendStringInfoString(buf, "<p class=\"none\">");
		append_html(buf, empty);
		appendStringInfoString(buf, "</p>\n");
		return;
	}
	appendStringInfoString(buf, "<table><thead><tr>");
	for (int c = 0; c < ncols; c++)
	{
		appendStringInfoString(buf, "<th>");
		append_html(buf, headers[c]);
		appendStringInfoString(buf, "</th>");
	}
	appendStringInfoString(buf, "</tr></thead><tbody>\n");
	for (uint64 r = 0; r < SPI_processed; r++)
	{
		appendStringInfoString(buf, "<tr>");
		for (int c = 0; c < ncols; c++)
		{
			char	   *v = value_at(r, c + 1);
			Oid			t = SPI_gettypeid(SPI_tuptable->tupdesc, c + 1);
			bool		num = (t == INT8OID || t == FLOAT8OID || t == NUMERICOID || t == INT4OID);

			if (c == 0 && strcmp(headers[0], "severity") == 0 && v)
				appendStringInfo(buf, "<td class=\"sev %s\">", v);
			else
				appendStringInfoString(buf, num ? "<td class=\"n\">" : "<td>");
			if (c + 1 < ncols || num)
				append_html(buf, v);
			else
			{
				/* the last text column is long (a statement, a detail): keep it in a code block */
				appendStringInfoString(buf, "<code>");
				append_html(buf, v);
				appendStringInfoString(buf, "</code>");
			}
			appendStringInfoString(buf, "</td>");
		}
		appendStringInfoString(buf, "</tr>\n");
	}
	appendStringInfoString(buf, "</tbody></table>\n");
}

static const char *const css =
"body{font-family:system-ui,-apple-system,'Segoe UI',sans-serif;margin:24px auto;padding:0 16px;max-width:1100px;color:#1f2937;background:#f9fafb}"
"h1{font-size:1.6em;margin-bottom:4px}h2{font-size:1.2em;margin-top:32px;border-bottom:1px solid #d1d5db;padding-bottom:4px}"
"table{border-collapse:collapse;width:100%;font-size:.9em;background:#fff}"
"th,td{border:1px solid #e5e7eb;padding:4px 6px;text-align:left;vertical-align:top}"
"th{background:#f3f4f6}td.n{text-align:right;font-variant-numeric:tabular-nums;white-space:nowrap}"
"code{white-space:pre-wrap;word-break:break-word;font-size:.95em}"
"dl{display:grid;grid-template-columns:max-content auto;gap:4px 16px}dt{font-weight:600}dd{margin:0}"
"figure{margin:12px 0;background:#fff;border:1px solid #e5e7eb;display:inline-block}"
".t{font-size:14px;font-weight:600;fill:#111827}.g{stroke:#e5e7eb}.yl{font-size:11px;text-anchor:end;fill:#6b7280}"
".xl{font-size:11px;fill:#6b7280}.lg{font-size:11px;fill:#374151}.none{color:#6b7280;fill:#6b7280;font-size:13px}"
".sev{font-weight:600}.critical{color:#b91c1c}.warning{color:#b45309}.info{color:#1d4ed8}.ok{color:#15803d}"
".warn{background:#fef3c7;border:1px solid #f59e0b;padding:8px}"
"figcaption{font-size:12px;padding:0 8px 8px 8px;color:#374151;max-width:744px}.key{display:inline-block;margin-right:14px}";

/* The snapshots of the window, as chart series. */
typedef struct Window
{
	int			n;				/* snapshots */
	double	   *x;				/* their times, epoch seconds */
	char	  **xlabel;
	Series		tps;
	Series		hit;
	Series		conn[2];
	Series	   *stmt;			/* the top statements' mean time */
	int			nstmt;
	int64		mid_id;			/* the snapshot that splits the window in halves */
} Window;

static void
append_head(StringInfo buf, int64 from_id, int64 to_id)
{
	appendStringInfoString(buf, "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"/>"
						   "<meta name=\"viewport\" content=\"width=device-width\"/><title>dbopt report: ");
	append_html(buf, get_database_name(MyDatabaseId));
	appendStringInfo(buf, ", snapshots " INT64_FORMAT " to " INT64_FORMAT "</title><style>%s</style></head>\n<body>\n", from_id, to_id, css);
	appendStringInfoString(buf, "<h1>dbopt report: ");
	append_html(buf, get_database_name(MyDatabaseId));
	appendStringInfoString(buf, "</h1>\n");
}

static void
append_summary(StringInfo buf, int64 from_id, int64 to_id, bool untrusted)
{
	query("WITH me AS (SELECT oid FROM pg_catalog.pg_database WHERE datname = pg_catalog.current_database()),"
		  " c AS (SELECT * FROM dbopt.compare_snapshots($1, $2))"
		  " SELECT a.taken_at::text, b.taken_at::text, (b.taken_at - a.taken_at)::text,"
		  "       (SELECT count(*) FROM dbopt.snapshots s WHERE s.snap_id BETWEEN $1 AND $2),"
		  "       (SELECT count(*) FROM c), (SELECT sum(c.calls) FROM c),"
		  "       (SELECT round(sum(c.total_ms)::numeric / 1000, 1) FROM c),"
		  "       CASE WHEN same AND db.xc >= da.xc THEN"
		  "         round(((db.xc - da.xc) / nullif(extract(epoch FROM b.taken_at - a.taken_at), 0))::numeric, 1) END,"
		  "       CASE WHEN same AND db.hit >= da.hit AND db.rd >= da.rd THEN"
		  "         round(100 * (db.hit - da.hit)::numeric / nullif(db.hit - da.hit + db.rd - da.rd, 0), 2) END,"
		  "       pg_catalog.version()"
		  "  FROM dbopt.snapshots a, dbopt.snapshots b,"
		  "       LATERAL (SELECT xact_commit + xact_rollback AS xc, blks_hit AS hit, blks_read AS rd, stats_reset AS sr"
		  "                  FROM dbopt.snapshot_databases WHERE snap_id = a.snap_id AND datid = (SELECT oid FROM me)) da,"
		  "       LATERAL (SELECT xact_commit + xact_rollback AS xc, blks_hit AS hit, blks_read AS rd, stats_reset AS sr"
		  "                  FROM dbopt.snapshot_databases WHERE snap_id = b.snap_id AND datid = (SELECT oid FROM me)) db,"
		  "       LATERAL (SELECT da.sr IS NOT DISTINCT FROM db.sr AS same) r"
		  " WHERE a.snap_id = $1 AND b.snap_id = $2", from_id, to_id);
	appendStringInfoString(buf, "<h2>Summary</h2>\n<dl>");
	if (SPI_processed == 1)
	{
		static const char *const labels[] = {
			"From", "To", "Window", "Snapshots in the window", "Statements that ran",
			"Calls", "Execution time (s)", "Transactions per second", "Cache hit ratio (%)", "Server"
		};

		appendStringInfo(buf, "<dt>Snapshots</dt><dd>" INT64_FORMAT " to " INT64_FORMAT "</dd>", from_id, to_id);
		for (int c = 0; c < lengthof(labels); c++)
		{
			char	   *v = value_at(0, c + 1);

			appendStringInfoString(buf, "<dt>");
			append_html(buf, labels[c]);
			appendStringInfoString(buf, "</dt><dd>");
			append_html(buf, v ? v : "unknown");
			appendStringInfoString(buf, "</dd>");
		}
	}
	appendStringInfoString(buf, "</dl>\n");
	if (untrusted)
		appendStringInfoString(buf, "<p class=\"warn\">pg_stat_statements evicted entries or was reset within this window: "
							   "statement figures are incomplete (flag evicted_or_reset).</p>\n");
}

static void
series_alloc(Series *s, int n)
{
	s->y = palloc0(sizeof(double) * Max(n, 1));
	s->isnull = palloc0(sizeof(bool) * Max(n, 1));
}

/* Per snapshot in the window: time, transactions, blocks, connections. */
static void
read_snapshots(Window *w, int64 from_id, int64 to_id)
{
	bool		isnull;
	int			n;
	double		pxc = 0,
				phit = 0,
				prd = 0;
	bool		pnull = true;
	char	   *preset = NULL;

	query("SELECT extract(epoch FROM s.taken_at)::float8, to_char(s.taken_at, 'YYYY-MM-DD HH24:MI:SS'),"
		  "       (d.xact_commit + d.xact_rollback)::float8, d.blks_hit::float8, d.blks_read::float8,"
		  "       (s.server->>'connections')::float8, (s.server->>'max_connections')::float8, s.snap_id,"
		  "       coalesce(d.stats_reset::text, '')"
		  "  FROM dbopt.snapshots s"
		  "  LEFT JOIN dbopt.snapshot_databases d ON d.snap_id = s.snap_id"
		  "       AND d.datid = (SELECT oid FROM pg_catalog.pg_database WHERE datname = pg_catalog.current_database())"
		  " WHERE s.snap_id BETWEEN $1 AND $2 ORDER BY s.snap_id", from_id, to_id);
	n = w->n = (int) SPI_processed;
	w->x = palloc0(sizeof(double) * Max(n, 1));
	w->xlabel = palloc0(sizeof(char *) * Max(n, 1));
	series_alloc(&w->tps, n);
	series_alloc(&w->hit, n);
	for (int s = 0; s < 2; s++)
		series_alloc(&w->conn[s], n);
	for (int i = 0; i < n; i++)
	{
		bool		n1,
					n2,
					n3;
		double		xc = double_at(i, 3, &n1),
					h = double_at(i, 4, &n2),
					r = double_at(i, 5, &n3);
		char	   *reset = value_at(i, 9);
		double	   *x = w->x;

		x[i] = double_at(i, 1, &isnull);
		w->xlabel[i] = value_at(i, 2);
		w->conn[0].y[i] = double_at(i, 6, &w->conn[0].isnull[i]);
		w->conn[1].y[i] = double_at(i, 7, &w->conn[1].isnull[i]);
		if (i > (n - 1) / 2 && w->mid_id == 0)
			w->mid_id = DatumGetInt64(SPI_getbinval(SPI_tuptable->vals[i - 1], SPI_tuptable->tupdesc, 8, &isnull));
		/* Rates belong to the interval that ends at this snapshot; a reset (stats_reset moved, or counters fell after a crash) shows as a gap. */
		w->tps.isnull[i] = w->hit.isnull[i] = true;
		if (i > 0 && !pnull && !n1 && !n2 && !n3 && x[i] > x[i - 1] && xc >= pxc && h >= phit && r >= prd &&
			preset && reset && strcmp(preset, reset) == 0)
		{
			w->tps.y[i] = (xc - pxc) / (x[i] - x[i - 1]);
			w->tps.isnull[i] = false;
			if (h - phit + r - prd > 0)
			{
				w->hit.y[i] = 100 * (h - phit) / (h - phit + r - prd);
				w->hit.isnull[i] = false;
			}
		}
		pxc = xc;
		phit = h;
		prd = r;
		pnull = n1 || n2 || n3;
		preset = reset;
	}
}

/* The top statements' mean time per interval. */
static void
read_statements(Window *w, int64 from_id, int64 to_id)
{
	int			n = w->n;
	Series	   *stmt;
	int			nstmt = 0;
	bool		isnull;

	/* Rows come grouped by statement and ordered by snapshot; snapshots are matched to x by time order. */
	int64	   *snap_ids = palloc0(sizeof(int64) * Max(n, 1));
	SPITupleTable *rows;
	uint64		nrows;
	char	   *prev = NULL;
	double		pcalls = 0,
				ptotal = 0;
	int64		psnap = -1;

	query("WITH top AS (SELECT queryid, query FROM dbopt.compare_snapshots($1, $2) ORDER BY total_ms DESC NULLS LAST LIMIT " CppAsString2(CHART_STATEMENTS) ")"
		  " SELECT t.queryid::text, s.snap_id, sum(s.calls)::float8, sum(s.total_exec_time),"
		  "        'queryid ' || t.queryid || ': ' || left(regexp_replace(min(t.query), '\\s+', ' ', 'g'), 70)"
		  "   FROM top t JOIN dbopt.snapshot_statements s ON s.queryid = t.queryid"
		  "  WHERE s.snap_id BETWEEN $1 AND $2"
		  "    AND s.dbid = (SELECT oid FROM pg_catalog.pg_database WHERE datname = pg_catalog.current_database())"
		  "  GROUP BY t.queryid, s.snap_id ORDER BY t.queryid, s.snap_id", from_id, to_id);
	stmt = palloc0(sizeof(Series) * CHART_STATEMENTS);
	rows = SPI_tuptable;
	nrows = SPI_processed;

	/* The window's snapshot ids, in order, to place each row. */
	query("SELECT snap_id FROM dbopt.snapshots WHERE snap_id BETWEEN $1 AND $2 ORDER BY snap_id", from_id, to_id);
	for (int i = 0; i < n && (uint64) i < SPI_processed; i++)
		snap_ids[i] = DatumGetInt64(SPI_getbinval(SPI_tuptable->vals[i], SPI_tuptable->tupdesc, 1, &isnull));
	for (uint64 r = 0; r < nrows; r++)
	{
		char	   *qid = SPI_getvalue(rows->vals[r], rows->tupdesc, 1);
		int64		snap = DatumGetInt64(SPI_getbinval(rows->vals[r], rows->tupdesc, 2, &isnull));
		double		calls = DatumGetFloat8(SPI_getbinval(rows->vals[r], rows->tupdesc, 3, &isnull));
		double		total = DatumGetFloat8(SPI_getbinval(rows->vals[r], rows->tupdesc, 4, &isnull));
		int			at = -1;

		CHECK_FOR_INTERRUPTS();
		if (prev == NULL || strcmp(prev, qid) != 0)
		{
			if (nstmt == CHART_STATEMENTS)
				break;
			stmt[nstmt].name = SPI_getvalue(rows->vals[r], rows->tupdesc, 5);
			stmt[nstmt].y = palloc0(sizeof(double) * Max(n, 1));
			stmt[nstmt].isnull = palloc(sizeof(bool) * Max(n, 1));
			memset(stmt[nstmt].isnull, true, sizeof(bool) * Max(n, 1));
			nstmt++;
			prev = qid;
			psnap = -1;
		}
		for (int i = 0; i < n; i++)
			if (snap_ids[i] == snap)
				at = i;
		/* Absent from the snapshot before: new in this interval, counted from zero. */
		if (at > 0 && psnap != snap_ids[at - 1])
			pcalls = ptotal = 0;
		if (at > 0 && calls > pcalls && total >= ptotal)
		{
			stmt[nstmt - 1].y[at] = (total - ptotal) / (calls - pcalls);
			stmt[nstmt - 1].isnull[at] = false;
		}
		pcalls = calls;
		ptotal = total;
		psnap = snap;
	}
	w->stmt = stmt;
	w->nstmt = nstmt;
}

static void
append_charts(StringInfo buf, const Window *w)
{
	const char *const *xlabel = (const char *const *) w->xlabel;

	appendStringInfoString(buf, "<h2>Charts</h2>\n");
	append_chart(buf, "Transactions per second", "this database, between snapshots", w->n, w->x, xlabel, &w->tps, 1);
	append_chart(buf, "Cache hit ratio", "%, this database, between snapshots", w->n, w->x, xlabel, &w->hit, 1);
	append_chart(buf, "Connections", "client backends, server-wide", w->n, w->x, xlabel, w->conn, 2);
	append_chart(buf, "Mean time of the top statements", "ms per call, between snapshots", w->n, w->x, xlabel, w->stmt, w->nstmt);
}

static void
append_top_statements(StringInfo buf, int64 from_id, int64 to_id)
{
	static const char *const h[] = {"queryid", "calls", "total ms", "mean ms", "rows", "hit %", "share %", "flags", "statement"};

	appendStringInfo(buf, "<h2>Top statements by total time</h2>\n");
	query("SELECT queryid, calls, round(total_ms::numeric, 1), round(mean_ms::numeric, 3), rows,"
		  "       round((100 * hit_ratio)::numeric, 1), round(share_of_total_pct::numeric, 1),"
		  "       array_to_string(flags, ' '), CASE WHEN length(query) > 600 THEN left(query, 600) || ' ...' ELSE query END"
		  "  FROM dbopt.compare_snapshots($1, $2) ORDER BY total_ms DESC NULLS LAST LIMIT " CppAsString2(TOP_STATEMENTS), from_id, to_id);
	append_result_table(buf, h, "No statement ran in this window, or pg_stat_statements was not available.");
}

/* Regressions: the second half of the window against the first. */
static void
append_regressions(StringInfo buf, int64 from_id, int64 to_id, const Window *w)
{
	static const char *const h[] = {"queryid", "baseline calls", "current calls", "baseline mean ms", "current mean ms",
	"added ms per call", "added ms per s", "share %", "ratio", "p-value", "statement"};
	int64		mid_id = w->mid_id;
	int64		ids[3] = {from_id, mid_id, to_id};

	appendStringInfoString(buf, "<h2>Regressions</h2>\n");
	if (w->n < 3 || mid_id <= from_id || mid_id >= to_id)
	{
		appendStringInfoString(buf, "<p class=\"none\">A window of three snapshots or more is needed to compare its halves.</p>\n");
		return;
	}
	appendStringInfo(buf, "<p>Snapshots " INT64_FORMAT " to " INT64_FORMAT " against " INT64_FORMAT " to " INT64_FORMAT
					 ", with dbopt.detect_regressions() defaults: at least 20 calls in each, 1.5 times slower, p &lt;= 0.01 (Welch), "
					 "at least 1 ms more per call and 1%% of the current half's time; the most time added per second first.</p>\n",
					 mid_id, to_id, from_id, mid_id);
	query_ids("SELECT queryid, baseline_calls, current_calls, round(baseline_mean_ms::numeric, 3),"
			  "       round(current_mean_ms::numeric, 3), round(added_ms_per_call::numeric, 3),"
			  "       round(added_ms_per_s::numeric, 3), round(current_share_pct::numeric, 1),"
			  "       round(ratio::numeric, 2), p_value, query"
			  "  FROM dbopt.detect_regressions($1, $2, $2, $3) LIMIT 20", 3, ids);
	append_result_table(buf, h, "No statement got significantly slower.");
}

static void
append_health(StringInfo buf, int64 from_id, int64 to_id)
{
	static const char *const h[] = {"severity", "check", "object", "value", "threshold", "detail"};

	appendStringInfoString(buf, "<h2>Health now</h2>\n");
	query("SELECT severity, check_name, object_name, round(value::numeric, 2), round(threshold::numeric, 2), detail"
		  "  FROM dbopt.health_check() WHERE severity <> 'ok'"
		  " ORDER BY CASE severity WHEN 'critical' THEN 0 WHEN 'warning' THEN 1 WHEN 'info' THEN 2 ELSE 3 END, check_name",
		  from_id, to_id);
	append_result_table(buf, h, "Every health check is ok.");
}

/* Clear errors for a bad window; true when pg_stat_statements did not keep its counters in it. */
static bool
window_untrusted(int64 from_id, int64 to_id)
{
	bool		isnull;

	query("SELECT dbopt.check_snapshot_window($1, $2)", from_id, to_id);
	return DatumGetBool(SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1, &isnull));
}

PG_FUNCTION_INFO_V1(dbopt_report_html);

Datum
dbopt_report_html(PG_FUNCTION_ARGS)
{
	Window		w = {0, NULL, NULL, {"transactions/s", NULL, NULL}, {"cache hit %", NULL, NULL},
	{{"client connections", NULL, NULL}, {"max_connections", NULL, NULL}}, NULL, 0, 0};
	int64		from_id = PG_GETARG_INT64(0);
	int64		to_id = PG_GETARG_INT64(1);
	StringInfoData buf;
	bool		untrusted;

	initStringInfo(&buf);
	SPI_connect();
	untrusted = window_untrusted(from_id, to_id);
	append_head(&buf, from_id, to_id);
	append_summary(&buf, from_id, to_id, untrusted);
	read_snapshots(&w, from_id, to_id);
	read_statements(&w, from_id, to_id);
	append_charts(&buf, &w);
	append_top_statements(&buf, from_id, to_id);
	append_regressions(&buf, from_id, to_id, &w);
	append_health(&buf, from_id, to_id);

	appendStringInfo(&buf, "<p class=\"none\">Made by dbopt.report_html(" INT64_FORMAT ", " INT64_FORMAT ") at ", from_id, to_id);
	append_html(&buf, timestamptz_to_str(GetCurrentTimestamp()));
	appendStringInfoString(&buf, ".</p>\n</body></html>\n");

	SPI_finish();
	PG_RETURN_TEXT_P(cstring_to_text_with_len(buf.data, buf.len));
}
