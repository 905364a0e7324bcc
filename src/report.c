/*-------------------------------------------------------------------------
 *
 * report.c
 *	  report_html(): one self-contained HTML page over a snapshot window.
 *
 * The page has a summary, charts (the server's, and one small chart per
 * top statement with its own scale, so that one slow statement does not
 * flatten the others), the top statements, the regressions between the
 * window's two halves, table and index scans and I/O, WAL, the findings
 * history of the window and the current health findings.  dbopt's own
 * statements and tables are left out unless include_dbopt.  The page
 * refers to nothing outside itself: no scripts, fonts, styles or images,
 * and every text that comes from the database is escaped, ':' included,
 * so that no text in it can become a link.  The data comes from dbopt's
 * tables and SQL functions through SPI; the page, the charts and their
 * scales are made here.
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
#include "mb/pg_wchar.h"
#include "utils/builtins.h"
#include "utils/datetime.h"
#include "utils/timestamp.h"

#define CHART_W 520
#define CHART_H 250
#define PLOT_L 78				/* room for the y labels ("2 min 30 s") */
#define PLOT_R 30				/* room for half of the last x label */
#define PLOT_T 34
#define PLOT_B 30				/* room for the x labels */
#define TOP_STATEMENTS 20
#define CHART_STATEMENTS 6
#define LEGEND_CHARS 400		/* a statement's text under its chart */
#define TOP_OBJECTS 20

static const char *const palette[] = {
	"#2563eb", "#dc2626", "#16a34a", "#9333ea", "#ea580c", "#0891b2"
};

typedef struct Series
{
	const char *name;
	double	   *y;
	bool	   *isnull;
} Series;

/*
 * Text from the database, made safe for element content and attributes.
 * ':' too: "http://" in a query text must not read as a reference.
 */
static void
append_html(StringInfo buf, const char *s)
{
	static const char *const entity[][2] = {
		{"&", "&amp;"}, {"<", "&lt;"}, {">", "&gt;"}, {"\"", "&quot;"},
		{"'", "&#39;"}, {":", "&#58;"},
	};

	if (s == NULL)
		return;
	for (; *s; s++)
	{
		const char *out = NULL;

		for (int i = 0; i < (int) lengthof(entity) && out == NULL; i++)
			if (*s == entity[i][0][0])
				out = entity[i][1];
		if (out != NULL)
			appendStringInfoString(buf, out);
		else
			appendStringInfoChar(buf, *s);
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

/* A duration in milliseconds for people: "0.25 ms", "7.5 s", "3 min 12 s", "2 h". */
static void
append_duration(StringInfo buf, double ms)
{
	double		s;

	if (!isfinite(ms))
	{
		appendStringInfoString(buf, "unknown");
		return;
	}
	if (ms < 0)
	{
		appendStringInfoChar(buf, '-');
		ms = -ms;
	}
	if (ms < 1000)
	{
		if (ms == 0)
			appendStringInfoString(buf, "0");
		else if (ms < 1)
			appendStringInfo(buf, "%.2g ms", ms);
		else
		{
			append_number(buf, ms);
			appendStringInfoString(buf, " ms");
		}
		return;
	}
	s = ms / 1000;
	if (s < 59.95)
	{
		append_number(buf, round(s * 10) / 10);
		appendStringInfoString(buf, " s");
	}
	else if (s < 3599.5)
	{
		long		t = lround(s);

		appendStringInfo(buf, "%ld min", t / 60);
		if (t % 60)
			appendStringInfo(buf, " %ld s", t % 60);
	}
	else if (s < 86370)
	{
		long		t = lround(s / 60);

		appendStringInfo(buf, "%ld h", t / 60);
		if (t % 60)
			appendStringInfo(buf, " %ld min", t % 60);
	}
	else
	{
		long		t = lround(s / 3600);

		appendStringInfo(buf, "%ld d", t / 24);
		if (t % 24)
			appendStringInfo(buf, " %ld h", t % 24);
	}
}

/* Epoch seconds to the session's local time. */
static void
local_time(double epoch, struct pg_tm *tm, double *frac)
{
	TimestampTz ts;
	fsec_t		fsec;
	int			tz;

	ts = (TimestampTz) ((epoch - (double) ((POSTGRES_EPOCH_JDATE - UNIX_EPOCH_JDATE) * SECS_PER_DAY)) * USECS_PER_SEC);
	if (timestamp2tm(ts, &tz, tm, &fsec, NULL, NULL) != 0)
		memset(tm, 0, sizeof(*tm));
	*frac = fsec / (double) USECS_PER_SEC;
}

/* The session time zone's offset east of UTC at that time, in seconds. */
static double
utc_offset(double epoch)
{
	struct pg_tm tm;
	double		frac;

	local_time(epoch, &tm, &frac);
	return tm.tm_gmtoff;
}

/*
 * Time ticks: the smallest step from this list that gives at most six
 * ticks, placed on round local times.
 */
static const double time_steps[] = {
	0.1, 0.2, 0.5, 1, 2, 5, 10, 15, 30, 60, 120, 300, 600, 900, 1800,
	3600, 7200, 10800, 21600, 43200, 86400, 172800, 604800, 2592000
};

static void
append_time_label(StringInfo buf, double epoch, double step, bool days)
{
	struct pg_tm tm;
	double		frac;

	local_time(epoch, &tm, &frac);
	if (days)
		appendStringInfo(buf, "%02d-%02d %02d&#58;%02d", tm.tm_mon, tm.tm_mday, tm.tm_hour, tm.tm_min);
	else if (step < 1)
		appendStringInfo(buf, "%02d&#58;%02d&#58;%02d.%d", tm.tm_hour, tm.tm_min, tm.tm_sec, (int) floor(frac * 10 + 0.5) % 10);
	else if (step < 60)
		appendStringInfo(buf, "%02d&#58;%02d&#58;%02d", tm.tm_hour, tm.tm_min, tm.tm_sec);
	else
		appendStringInfo(buf, "%02d&#58;%02d", tm.tm_hour, tm.tm_min);
}

/*
 * A line chart of series over time (x: seconds since the epoch), scaled to
 * its own data from zero; with duration, y values are milliseconds.  The
 * SVG has a viewBox and no fixed size, so it scales with the page.  Gaps
 * where a value is missing break the line; a point alone is a short dash.
 */
static void
append_chart(StringInfo buf, const char *title, const char *unit, bool duration,
			 int n, const double *x, const Series *series, int nseries, const char *legend)
{
	double		ymax = 0,
				ystep;
	int			nyticks;
	double		xmin = n > 0 ? x[0] : 0;
	double		xmax = n > 0 ? x[n - 1] : 1;
	int			pw = CHART_W - PLOT_L - PLOT_R;
	int			ph = CHART_H - PLOT_T - PLOT_B;
	int			points = 0;
	bool		whole = !duration;

	for (int s = 0; s < nseries; s++)
		for (int i = 0; i < n; i++)
			if (!series[s].isnull[i])
			{
				ymax = Max(ymax, series[s].y[i]);
				whole = whole && series[s].y[i] == floor(series[s].y[i]);
				points++;
			}
	/* About four steps of 1, 2, 2.5 or 5 times a power of ten, the data under the top one. */
	ystep = nice_ceiling(ymax / 4);
	/* Counts (connections) get whole steps: no tick at 0.25 of a session. */
	if (whole && ystep < 1)
		ystep = 1;
	else if (whole && ystep != floor(ystep))
		ystep = ceil(ystep / 5) * 5;	/* 2.5 becomes 5 */
	nyticks = (int) ceil(ymax / ystep - 1e-9);
	nyticks = Max(nyticks, whole ? 2 : 1);
	ymax = ystep * nyticks;
	if (xmax <= xmin)
		xmax = xmin + 1;

	appendStringInfo(buf, "<figure class=\"chart\"><svg role=\"img\" viewBox=\"0 0 %d %d\" preserveAspectRatio=\"xMidYMid meet\">",
					 CHART_W, CHART_H);
	appendStringInfoString(buf, "<title>");
	append_html(buf, title);
	appendStringInfo(buf, "</title><rect x=\"0\" y=\"0\" width=\"%d\" height=\"%d\" fill=\"#ffffff\"/>",
					 CHART_W, CHART_H);
	appendStringInfo(buf, "<rect class=\"plot\" x=\"%d\" y=\"%d\" width=\"%d\" height=\"%d\" fill=\"none\"/>",
					 PLOT_L, PLOT_T, pw, ph);
	appendStringInfo(buf, "<text x=\"%d\" y=\"20\" class=\"t\">", 8);
	append_html(buf, title);
	appendStringInfoString(buf, " <tspan class=\"u\">(");
	append_html(buf, unit);
	appendStringInfoString(buf, ")</tspan></text>");

	/* Grid and y labels. */
	for (int g = 0; g <= nyticks; g++)
	{
		double		gy = PLOT_T + ph - ph * (double) g / nyticks;

		appendStringInfo(buf, "<line x1=\"%d\" x2=\"%d\" y1=\"%.1f\" y2=\"%.1f\" class=\"%s\"/>",
						 PLOT_L, PLOT_L + pw, gy, gy, g == 0 ? "ax" : "g");
		appendStringInfo(buf, "<text x=\"%d\" y=\"%.1f\" class=\"yl\">", PLOT_L - 6, gy + 4);
		if (duration)
			append_duration(buf, ystep * g);
		else
			append_number(buf, ystep * g);
		appendStringInfoString(buf, "</text>");
	}

	/* Time ticks. */
	if (n > 0)
	{
		double		span = xmax - xmin;
		double		step = time_steps[lengthof(time_steps) - 1];
		double		off = utc_offset(xmin);
		struct pg_tm tm0,
					tm1;
		double		f;
		bool		days;

		for (int i = 0; i < lengthof(time_steps); i++)
			if (span / time_steps[i] <= 6)
			{
				step = time_steps[i];
				break;
			}
		local_time(xmin, &tm0, &f);
		local_time(xmax, &tm1, &f);
		days = step >= 86400 || tm0.tm_mday != tm1.tm_mday || tm0.tm_mon != tm1.tm_mon;
		for (double t = ceil((xmin + off) / step - 1e-9) * step - off; t <= xmax + 1e-9; t += step)
		{
			double		px = PLOT_L + pw * (t - xmin) / span;

			appendStringInfo(buf, "<line x1=\"%.1f\" x2=\"%.1f\" y1=\"%d\" y2=\"%d\" class=\"tk\"/>",
							 px, px, PLOT_T + ph, PLOT_T + ph + 4);
			appendStringInfo(buf, "<text x=\"%.1f\" y=\"%d\" class=\"xl\">", px, PLOT_T + ph + 17);
			append_time_label(buf, t, step, days);
			appendStringInfoString(buf, "</text>");
		}
	}

	if (points == 0)
		appendStringInfo(buf, "<text x=\"%d\" y=\"%d\" class=\"none\">no data in this window: it needs two snapshots or more</text>",
						 PLOT_L + 20, PLOT_T + ph / 2);

	for (int s = 0; s < nseries; s++)
	{
		const char *color = palette[s % lengthof(palette)];

		for (int i = 0; i < n; i++)
		{
			int			j = i;

			if (series[s].isnull[i])
				continue;
			while (j + 1 < n && !series[s].isnull[j + 1])
				j++;
			appendStringInfo(buf, "<polyline class=\"line\" fill=\"none\" stroke=\"%s\" stroke-width=\"2\" points=\"", color);
			if (j == i)
			{
				double		px = PLOT_L + pw * (x[i] - xmin) / (xmax - xmin);
				double		py = PLOT_T + ph - ph * (series[s].y[i] / ymax);

				appendStringInfo(buf, "%.1f,%.1f %.1f,%.1f", px - 4, py, px + 4, py);
			}
			else
				for (int k = i; k <= j; k++)
					appendStringInfo(buf, "%s%.1f,%.1f", k > i ? " " : "",
									 PLOT_L + pw * (x[k] - xmin) / (xmax - xmin),
									 PLOT_T + ph - ph * (series[s].y[k] / ymax));
			appendStringInfoString(buf, "\"/>");
			i = j;
		}
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
	if (legend)
	{
		appendStringInfoString(buf, "<span class=\"q\">");
		append_html(buf, legend);
		appendStringInfoString(buf, "</span>");
	}
	appendStringInfoString(buf, "</figcaption></figure>\n");
}

/*
 * dbopt's own statements: those naming the schema dbopt (calls of dbopt's
 * functions, and dbopt's own queries when pg_stat_statements.track = all)
 * or reading pg_stat_statements (the report's and snapshots' scaffolding,
 * and any tool's).  An unqualified call with dbopt on the search_path is
 * not recognised.
 */
#define OWN_STATEMENT(col) \
	"(coalesce(" col ", '') ~* '(^|[^[:alnum:]_$\"])\"?dbopt\"?[[:space:]]*[.]'" \
	" OR coalesce(" col ", '') ~* 'pg_stat_statements')"
/*
 * With pg_stat_statements.track = all, a DO block's or a CALL's time is
 * also counted in the statements it ran, which are listed on their own:
 * such wrappers are left out of the statement figures, charts and tables.
 */
#define WRAPPER_STATEMENT(col) \
	"(pg_catalog.current_setting('pg_stat_statements.track', true) = 'all'" \
	" AND coalesce(" col ", '') ~* '^[[:space:]]*(do|call)([^[:alnum:]_]|$)')"
/* Local time to the second; the time zone is named once, in the summary. */
#define TS(col) "to_char(" col ", 'YYYY-MM-DD HH24:MI:SS')"

/*
 * Run a read-only query with snapshot ids as $1, $2, ... and, after them,
 * whether to include dbopt's own statements and objects.
 */
static void
query_ids(const char *sql, int nids, const int64 *ids, bool include_dbopt)
{
	Oid			types[4];
	Datum		values[4];

	Assert(nids < lengthof(types));
	for (int i = 0; i < nids; i++)
	{
		types[i] = INT8OID;
		values[i] = Int64GetDatum(ids[i]);
	}
	types[nids] = BOOLOID;
	values[nids] = BoolGetDatum(include_dbopt);
	if (SPI_execute_with_args(sql, nids + 1, types, values, NULL, false, 0) != SPI_OK_SELECT)
		elog(ERROR, "report_html: could not run %s", sql);
}

/* The same with the window as $1 and $2, and include_dbopt as $3. */
static void
query(const char *sql, int64 from_id, int64 to_id, bool include_dbopt)
{
	int64		ids[2] = {from_id, to_id};

	query_ids(sql, 2, ids, include_dbopt);
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
	appendStringInfoString(buf, "<div class=\"scroll\"><table><thead><tr>");
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
			{
				appendStringInfoString(buf, "<td class=\"sev ");
				append_html(buf, v);
				appendStringInfoString(buf, "\">");
			}
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
	appendStringInfoString(buf, "</tbody></table></div>\n");
}

/* Fluid: the page takes the window's width and the charts share it. */
static const char *const css =
"body{font-family:system-ui,-apple-system,'Segoe UI',sans-serif;margin:24px 0;padding:0 24px;color:#1f2937;background:#f9fafb}"
"h1{font-size:1.6em;margin-bottom:4px}h2{font-size:1.25em;margin-top:32px;border-bottom:1px solid #d1d5db;padding-bottom:4px}"
"h3{font-size:1.05em;margin:20px 0 4px}"
".scroll{overflow-x:auto}"
"table{border-collapse:collapse;width:100%;font-size:.9em;background:#fff}"
"th,td{border:1px solid #e5e7eb;padding:4px 6px;text-align:left;vertical-align:top}"
"th{background:#f3f4f6}td.n{text-align:right;font-variant-numeric:tabular-nums;white-space:nowrap}"
"code{white-space:pre-wrap;overflow-wrap:anywhere;font-size:.95em}"
"dl{display:grid;grid-template-columns:max-content auto;gap:4px 16px}dt{font-weight:600}dd{margin:0}"
".charts{display:grid;grid-template-columns:repeat(auto-fill,minmax(420px,1fr));gap:12px}"
"figure.chart{margin:0;background:#fff;border:1px solid #e5e7eb;min-width:0}"
"figure.chart svg{display:block;width:100%;height:auto}"
".t{font-size:14px;font-weight:600;fill:#111827}.u{font-weight:400;fill:#4b5563}.g{stroke:#eef0f3}.ax,.tk{stroke:#9ca3af}"
".yl{font-size:11px;text-anchor:end;fill:#4b5563}.xl{font-size:11px;text-anchor:middle;fill:#4b5563}"
".none{color:#6b7280;fill:#6b7280;font-size:13px}"
".sev{font-weight:600}.critical{color:#b91c1c}.warning{color:#b45309}.info{color:#1d4ed8}.ok{color:#15803d}"
".warn{background:#fef3c7;border:1px solid #f59e0b;padding:8px}"
"figcaption{font-size:12px;padding:0 10px 10px 10px;color:#374151;overflow-wrap:break-word}"
".key{display:inline-block;margin-right:14px}"
".q{display:block;font-family:ui-monospace,'DejaVu Sans Mono',monospace;font-size:11px;color:#374151;margin-top:2px}";

/* The snapshots of the window, as chart series. */
typedef struct Window
{
	int			n;				/* snapshots */
	double	   *x;				/* their times, epoch seconds */
	Series		tps;
	Series		hit;
	Series		conn[2];
	Series	   *stmt;			/* the top statements' mean time */
	char	  **stmt_text;		/* and their texts */
	int			nstmt;
	int64		mid_id;			/* the snapshot that splits the window in halves */
} Window;

static void
append_head(StringInfo buf, int64 from_id, int64 to_id)
{
	appendStringInfoString(buf, "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"/>"
						   "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\"/><title>dbopt report: ");
	append_html(buf, get_database_name(MyDatabaseId));
	appendStringInfo(buf, ", snapshots " INT64_FORMAT " to " INT64_FORMAT "</title><style>%s</style></head>\n<body>\n", from_id, to_id, css);
	appendStringInfoString(buf, "<h1>dbopt report: ");
	append_html(buf, get_database_name(MyDatabaseId));
	appendStringInfoString(buf, "</h1>\n");
}

static void
append_dt(StringInfo buf, const char *label)
{
	appendStringInfoString(buf, "<dt>");
	append_html(buf, label);
	appendStringInfoString(buf, "</dt><dd>");
}

/* One <dt>/<dd> pair; if_null stands in for a NULL value. */
static void
append_item(StringInfo buf, const char *label, const char *value, const char *if_null)
{
	append_dt(buf, label);
	append_html(buf, value ? value : if_null);
	appendStringInfoString(buf, "</dd>");
}

static void
append_duration_item(StringInfo buf, const char *label, double ms)
{
	append_dt(buf, label);
	append_duration(buf, ms);
	appendStringInfoString(buf, "</dd>");
}

static void
append_summary(StringInfo buf, int64 from_id, int64 to_id, bool include_dbopt, bool untrusted)
{
	bool		isnull;

	query("WITH me AS (SELECT oid FROM pg_catalog.pg_database WHERE datname = pg_catalog.current_database()),"
		  " c0 AS (SELECT c.*, " OWN_STATEMENT("c.query") " AS own, " WRAPPER_STATEMENT("c.query") " AS wrapper"
		  "          FROM dbopt.compare_snapshots($1, $2) c),"
		  " c AS (SELECT * FROM c0 WHERE ($3 OR NOT own) AND NOT wrapper)"
		  " SELECT " TS("a.taken_at") ", " TS("b.taken_at") ", extract(epoch FROM b.taken_at - a.taken_at)::float8,"
		  "       (SELECT count(*) FROM dbopt.snapshots s WHERE s.snap_id BETWEEN $1 AND $2),"
		  "       (SELECT count(*) FROM c), (SELECT sum(c.calls) FROM c),"
		  "       (SELECT sum(c.total_ms) FROM c)::float8,"
		  "       CASE WHEN same AND db.xc >= da.xc THEN"
		  "         round(((db.xc - da.xc) / nullif(extract(epoch FROM b.taken_at - a.taken_at), 0))::numeric, 1) END,"
		  "       CASE WHEN same AND db.hit >= da.hit AND db.rd >= da.rd THEN"
		  "         round(100 * (db.hit - da.hit)::numeric / nullif(db.hit - da.hit + db.rd - da.rd, 0), 2) END,"
		  "       pg_catalog.version(), pg_catalog.current_setting('TimeZone'),"
		  "       (SELECT count(*) FROM c0 WHERE own), (SELECT sum(c0.calls) FROM c0 WHERE own),"
		  "       (SELECT sum(c0.total_ms) FROM c0 WHERE own)::float8,"
		  "       (SELECT count(*) FROM c0 WHERE wrapper AND NOT own)"
		  "  FROM dbopt.snapshots a, dbopt.snapshots b,"
		  "       LATERAL (SELECT xact_commit + xact_rollback AS xc, blks_hit AS hit, blks_read AS rd, stats_reset AS sr"
		  "                  FROM dbopt.snapshot_databases WHERE snap_id = a.snap_id AND datid = (SELECT oid FROM me)) da,"
		  "       LATERAL (SELECT xact_commit + xact_rollback AS xc, blks_hit AS hit, blks_read AS rd, stats_reset AS sr"
		  "                  FROM dbopt.snapshot_databases WHERE snap_id = b.snap_id AND datid = (SELECT oid FROM me)) db,"
		  "       LATERAL (SELECT da.sr IS NOT DISTINCT FROM db.sr AS same) r"
		  " WHERE a.snap_id = $1 AND b.snap_id = $2", from_id, to_id, include_dbopt);
	appendStringInfoString(buf, "<h2>Summary</h2>\n<dl>");
	if (SPI_processed == 1)
	{
		char	   *own = value_at(0, 12);

		appendStringInfo(buf, "<dt>Snapshots</dt><dd>" INT64_FORMAT " to " INT64_FORMAT "</dd>", from_id, to_id);
		append_item(buf, "From", value_at(0, 1), "");
		append_item(buf, "To", value_at(0, 2), "");
		append_item(buf, "Time zone", value_at(0, 11), "");
		append_duration_item(buf, "Window", 1000 * double_at(0, 3, &isnull));
		append_item(buf, "Snapshots in the window", value_at(0, 4), "");
		append_item(buf, "Statements that ran", value_at(0, 5), "");
		append_item(buf, "Calls", value_at(0, 6), "0");
		append_duration_item(buf, "Execution time", double_at(0, 7, &isnull));
		append_item(buf, "Transactions per second", value_at(0, 8), "unknown");
		append_item(buf, "Cache hit ratio (%)", value_at(0, 9), "unknown");
		append_dt(buf, include_dbopt ? "dbopt's own statements (included)" : "dbopt's own statements (excluded)");
		append_html(buf, own);
		appendStringInfoString(buf, strcmp(own, "1") == 0 ? " statement, " : " statements, ");
		append_html(buf, value_at(0, 13) ? value_at(0, 13) : "0");
		appendStringInfoString(buf, " calls, ");
		append_duration(buf, double_at(0, 14, &isnull));
		appendStringInfoString(buf, "</dd>");
		if (strcmp(value_at(0, 15), "0") != 0)
		{
			append_dt(buf, "DO blocks and CALLs (left out)");
			append_html(buf, value_at(0, 15));
			appendStringInfoString(buf, ": with pg_stat_statements.track = all, the statements they ran are counted on their own</dd>");
		}
		append_item(buf, "Server", value_at(0, 10), "");
	}
	appendStringInfoString(buf, "</dl>\n");
	if (!include_dbopt)
		appendStringInfo(buf, "<p class=\"none\">Statements that call dbopt&#39;s functions or read pg_stat_statements "
						 "(dbopt&#39;s snapshots and reports, and monitoring tools) are left out of the statement "
						 "figures, charts and tables, and dbopt&#39;s own tables and indexes of the table and index "
						 "sections; dbopt.report_html(" INT64_FORMAT ", " INT64_FORMAT ", true) includes them.</p>\n",
						 from_id, to_id);
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

	query("SELECT extract(epoch FROM s.taken_at)::float8, NULL,"
		  "       (d.xact_commit + d.xact_rollback)::float8, d.blks_hit::float8, d.blks_read::float8,"
		  "       (s.server->>'connections')::float8, (s.server->>'max_connections')::float8, s.snap_id,"
		  "       coalesce(d.stats_reset::text, '')"
		  "  FROM dbopt.snapshots s"
		  "  LEFT JOIN dbopt.snapshot_databases d ON d.snap_id = s.snap_id"
		  "       AND d.datid = (SELECT oid FROM pg_catalog.pg_database WHERE datname = pg_catalog.current_database())"
		  " WHERE s.snap_id BETWEEN $1 AND $2 ORDER BY s.snap_id", from_id, to_id, false);
	n = w->n = (int) SPI_processed;
	w->x = palloc0(sizeof(double) * Max(n, 1));
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
read_statements(Window *w, int64 from_id, int64 to_id, bool include_dbopt)
{
	int			n = w->n;
	Series	   *stmt;
	char	  **text;
	int			nstmt = 0;
	bool		isnull;

	/* Rows come grouped by statement (the most total time first) and ordered by snapshot. */
	int64	   *snap_ids = palloc0(sizeof(int64) * Max(n, 1));
	SPITupleTable *rows;
	uint64		nrows;
	char	   *prev = NULL;
	double		pcalls = 0,
				ptotal = 0;
	int64		psnap = -1;

	query("WITH top AS (SELECT queryid, query, total_ms FROM dbopt.compare_snapshots($1, $2) c"
		  "              WHERE ($3 OR NOT " OWN_STATEMENT("c.query") ") AND NOT " WRAPPER_STATEMENT("c.query")
		  "              ORDER BY total_ms DESC NULLS LAST LIMIT " CppAsString2(CHART_STATEMENTS) ")"
		  " SELECT t.queryid::text, s.snap_id, sum(s.calls)::float8, sum(s.total_exec_time),"
		  "        'queryid ' || t.queryid,"
		  "        regexp_replace(min(t.query), '\\s+', ' ', 'g')"
		  "   FROM top t JOIN dbopt.snapshot_statements s ON s.queryid = t.queryid"
		  "  WHERE s.snap_id BETWEEN $1 AND $2"
		  "    AND s.dbid = (SELECT oid FROM pg_catalog.pg_database WHERE datname = pg_catalog.current_database())"
		  "  GROUP BY t.queryid, s.snap_id"
		  "  ORDER BY min(t.total_ms) DESC NULLS LAST, t.queryid, s.snap_id", from_id, to_id, include_dbopt);
	stmt = palloc0(sizeof(Series) * CHART_STATEMENTS);
	text = palloc0(sizeof(char *) * CHART_STATEMENTS);
	rows = SPI_tuptable;
	nrows = SPI_processed;

	/* The window's snapshot ids, in order, to place each row. */
	query("SELECT snap_id FROM dbopt.snapshots WHERE snap_id BETWEEN $1 AND $2 ORDER BY snap_id", from_id, to_id, false);
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
			char	   *t;

			if (nstmt == CHART_STATEMENTS)
				break;
			stmt[nstmt].name = SPI_getvalue(rows->vals[r], rows->tupdesc, 5);
			t = SPI_getvalue(rows->vals[r], rows->tupdesc, 6);
			/* Long texts end at a word, with an ellipsis. */
			if (t && strlen(t) > LEGEND_CHARS)
			{
				int			cut = pg_mbcliplen(t, strlen(t), LEGEND_CHARS);
				char	   *sp;

				t[cut] = '\0';
				sp = strrchr(t, ' ');
				if (sp && sp - t > LEGEND_CHARS / 2)
					*sp = '\0';
				t = psprintf("%s \xe2\x80\xa6", t);
			}
			text[nstmt] = t;
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
	w->stmt_text = text;
	w->nstmt = nstmt;
}

static void
append_charts(StringInfo buf, const Window *w)
{
	appendStringInfoString(buf, "<h2>Charts</h2>\n<div class=\"charts\">\n");
	append_chart(buf, "Transactions per second", "this database", false, w->n, w->x, &w->tps, 1, NULL);
	append_chart(buf, "Cache hit ratio", "%, this database", false, w->n, w->x, &w->hit, 1, NULL);
	/* max_connections goes in the legend: drawn, it would flatten the line. */
	{
		Series		conn = w->conn[0];

		for (int i = w->n - 1; i >= 0; i--)
			if (!w->conn[1].isnull[i])
			{
				conn.name = psprintf("client connections (max_connections %.0f)", w->conn[1].y[i]);
				break;
			}
		append_chart(buf, "Connections", "client backends, server-wide", false, w->n, w->x, &conn, 1, NULL);
	}
	appendStringInfoString(buf, "</div>\n<h3>Mean time per call of the top statements</h3>\n"
						   "<p class=\"none\">One chart per statement, the most total time first, each with its own scale; "
						   "each point covers the interval that ends at that snapshot.</p>\n");
	if (w->nstmt == 0)
	{
		appendStringInfoString(buf, "<p class=\"none\">No statement ran in this window, or pg_stat_statements was not available.</p>\n");
		return;
	}
	appendStringInfoString(buf, "<div class=\"charts\">\n");
	for (int s = 0; s < w->nstmt; s++)
	{
		char	   *title = psprintf("#%d %s", s + 1, w->stmt[s].name);
		Series		one = w->stmt[s];

		one.name = "mean per call";
		append_chart(buf, title, "time per call", true, w->n, w->x, &one, 1, w->stmt_text[s]);
	}
	appendStringInfoString(buf, "</div>\n");
}

static void
append_top_statements(StringInfo buf, int64 from_id, int64 to_id, bool include_dbopt)
{
	static const char *const h[] = {"queryid", "calls", "total ms", "mean ms", "rows", "hit %", "share %", "flags", "statement"};

	appendStringInfo(buf, "<h2>Top statements by total time</h2>\n");
	query("SELECT queryid, calls, round(total_ms::numeric, 1), round(mean_ms::numeric, 3), rows,"
		  "       round((100 * hit_ratio)::numeric, 1), round(share_of_total_pct::numeric, 1),"
		  "       array_to_string(flags, ' '), CASE WHEN length(query) > 600 THEN left(query, 600) || ' ...' ELSE query END"
		  "  FROM dbopt.compare_snapshots($1, $2) c"
		  " WHERE ($3 OR NOT " OWN_STATEMENT("c.query") ") AND NOT " WRAPPER_STATEMENT("c.query")
		  " ORDER BY total_ms DESC NULLS LAST LIMIT " CppAsString2(TOP_STATEMENTS), from_id, to_id, include_dbopt);
	append_result_table(buf, h, "No statement ran in this window, or pg_stat_statements was not available.");
}

/* Regressions: the second half of the window against the first. */
static void
append_regressions(StringInfo buf, int64 from_id, int64 to_id, const Window *w, bool include_dbopt)
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
			  "  FROM dbopt.detect_regressions($1, $2, $2, $3) r WHERE $4 OR NOT " OWN_STATEMENT("r.query")
			  " LIMIT 20", 3, ids, include_dbopt);
	append_result_table(buf, h, "No statement got significantly slower.");
}

/*
 * A counter's growth over the window: NULL where it fell (a reset) or was
 * not recorded; an object new in the window counts from zero.
 */
/* The tables of the extension itself (their indexes go with them). */
#define DBOPT_TABLE(relid) \
	"(" relid " IN (SELECT d.objid FROM pg_catalog.pg_depend d JOIN pg_catalog.pg_extension e ON e.oid = d.refobjid" \
	" WHERE e.extname = 'dbopt' AND d.refclassid = 'pg_catalog.pg_extension'::pg_catalog.regclass" \
	" AND d.classid = 'pg_catalog.pg_class'::pg_catalog.regclass AND d.deptype = 'e'))"
#define GROWTH(col) "CASE WHEN a.snap_id IS NULL THEN b." col " WHEN b." col " >= a." col " THEN b." col " - a." col " END"
#define HIT_PCT(read, hit) "round(100 * (" GROWTH(hit) ")::numeric / nullif((" GROWTH(hit) ") + (" GROWTH(read) "), 0), 1)"

static void
append_tables(StringInfo buf, int64 from_id, int64 to_id, bool include_dbopt)
{
	static const char *const h[] = {"table", "seq scans", "rows read by seq scans", "index scans",
	"heap blocks read", "heap hit %", "index blocks read", "index hit %", "rows written"};

	appendStringInfoString(buf, "<h2>Tables: scans and I/O</h2>\n");
	query("WITH g AS ("
		  " SELECT b.relation, " GROWTH("seq_scan") " AS seq, " GROWTH("seq_tup_read") " AS seq_rows, "
		  GROWTH("idx_scan") " AS idx, " GROWTH("heap_blks_read") " AS hr, " HIT_PCT("heap_blks_read", "heap_blks_hit") " AS hh, "
		  GROWTH("idx_blks_read") " AS ir, " HIT_PCT("idx_blks_read", "idx_blks_hit") " AS ih, "
		  "(" GROWTH("n_tup_ins") ") + (" GROWTH("n_tup_upd") ") + (" GROWTH("n_tup_del") ") AS written, "
		  "coalesce(" GROWTH("heap_blks_read") ", 0) + coalesce(" GROWTH("heap_blks_hit") ", 0)"
		  " + coalesce(" GROWTH("idx_blks_read") ", 0) + coalesce(" GROWTH("idx_blks_hit") ", 0) AS blocks"
		  "   FROM dbopt.snapshot_tables b"
		  "   LEFT JOIN dbopt.snapshot_tables a ON a.snap_id = $1 AND a.relid = b.relid"
		  "  WHERE b.snap_id = $2 AND ($3 OR NOT " DBOPT_TABLE("b.relid") "))"
		  " SELECT relation, seq, seq_rows, idx, hr, hh, ir, ih, written FROM g"
		  "  WHERE coalesce(seq, 0) + coalesce(idx, 0) + coalesce(written, 0) + blocks > 0"
		  "  ORDER BY blocks DESC, coalesce(seq_rows, 0) DESC, relation LIMIT " CppAsString2(TOP_OBJECTS),
		  from_id, to_id, include_dbopt);
	if (SPI_processed > 0)
		appendStringInfoString(buf, "<p class=\"none\">Growth over the window, the tables with the most blocks read or "
							   "found in shared buffers first (at most " CppAsString2(TOP_OBJECTS) "); empty where a counter "
							   "was reset or was not recorded (block counts need snapshots of dbopt 0.13 or later).</p>\n");
	append_result_table(buf, h, "No table was scanned, read or written in this window.");
}

static void
append_indexes(StringInfo buf, int64 from_id, int64 to_id, bool include_dbopt)
{
	static const char *const h[] = {"index", "table", "scans", "entries read", "rows fetched", "blocks read", "hit %"};

	appendStringInfoString(buf, "<h2>Indexes: scans and I/O</h2>\n");
	query("WITH g AS ("
		  " SELECT b.index_name, t.relation, " GROWTH("idx_scan") " AS scans, " GROWTH("idx_tup_read") " AS rd, "
		  GROWTH("idx_tup_fetch") " AS fetched, " GROWTH("idx_blks_read") " AS br, " HIT_PCT("idx_blks_read", "idx_blks_hit") " AS bh, "
		  "coalesce(" GROWTH("idx_blks_read") ", 0) + coalesce(" GROWTH("idx_blks_hit") ", 0) AS blocks"
		  "   FROM dbopt.snapshot_indexes b"
		  "   LEFT JOIN dbopt.snapshot_indexes a ON a.snap_id = $1 AND a.indexrelid = b.indexrelid"
		  "   LEFT JOIN dbopt.snapshot_tables t ON t.snap_id = $2 AND t.relid = b.relid"
		  "  WHERE b.snap_id = $2 AND ($3 OR NOT " DBOPT_TABLE("b.relid") "))"
		  " SELECT index_name, relation, scans, rd, fetched, br, bh FROM g"
		  "  WHERE coalesce(scans, 0) + blocks > 0"
		  "  ORDER BY blocks DESC, coalesce(scans, 0) DESC, index_name LIMIT " CppAsString2(TOP_OBJECTS),
		  from_id, to_id, include_dbopt);
	append_result_table(buf, h, "No index was scanned or read in this window.");
}

/* pg_stat_wal over the window, from snapshots.server->'wal'. */
static void
append_wal(StringInfo buf, int64 from_id, int64 to_id)
{
	static const char *const label[] = {"WAL records", "Full-page images", "WAL written",
	"Waits for a full WAL buffer"};

	appendStringInfoString(buf, "<h2>WAL</h2>\n");
	query("WITH d AS (SELECT coalesce(a.server ? 'wal' AND b.server ? 'wal', false) AS recorded,"
		  "       a.server->'wal'->>'stats_reset' IS NOT DISTINCT FROM b.server->'wal'->>'stats_reset' AS same_reset,"
		  "       (b.server->'wal'->>'wal_records')::numeric - (a.server->'wal'->>'wal_records')::numeric AS records,"
		  "       (b.server->'wal'->>'wal_fpi')::numeric - (a.server->'wal'->>'wal_fpi')::numeric AS fpi,"
		  "       (b.server->'wal'->>'wal_bytes')::numeric - (a.server->'wal'->>'wal_bytes')::numeric AS bytes,"
		  "       (b.server->'wal'->>'wal_buffers_full')::numeric - (a.server->'wal'->>'wal_buffers_full')::numeric AS full_waits,"
		  "       nullif(extract(epoch FROM b.taken_at - a.taken_at), 0) AS seconds"
		  "  FROM dbopt.snapshots a, dbopt.snapshots b WHERE a.snap_id = $1 AND b.snap_id = $2)"
		  " SELECT recorded, same_reset,"
		  "        pg_catalog.format('%s (%s per second)', records, round(records / seconds, 1)), fpi,"
		  "        pg_catalog.format('%s (%s per second)', pg_catalog.pg_size_pretty(bytes),"
		  "                          pg_catalog.pg_size_pretty(round(bytes / seconds))),"
		  "        full_waits"
		  "   FROM d", from_id, to_id, false);
	if (SPI_processed != 1 || strcmp(value_at(0, 1), "t") != 0)
	{
		appendStringInfoString(buf, "<p class=\"none\">These snapshots do not record pg_stat_wal: snapshots taken before dbopt 0.13 do not.</p>\n");
		return;
	}
	if (strcmp(value_at(0, 2), "t") != 0)
	{
		appendStringInfoString(buf, "<p class=\"none\">pg_stat_wal was reset within this window.</p>\n");
		return;
	}
	appendStringInfoString(buf, "<p class=\"none\">Server-wide (pg_stat_wal), over the window.</p>\n<dl>");
	for (int i = 0; i < (int) lengthof(label); i++)
		append_item(buf, label[i], value_at(0, 3 + i), "");
	appendStringInfoString(buf, "</dl>\n");
}

/* Findings dbopt.run_checks() recorded as new or resolved within the window. */
static void
append_findings(StringInfo buf, int64 from_id, int64 to_id)
{
	static const char *const h[] = {"severity", "event", "at", "report", "check", "object", "detail"};

	appendStringInfoString(buf, "<h2>Findings new and resolved in the window</h2>\n");
	query("WITH w AS (SELECT a.taken_at AS t0, b.taken_at AS t1 FROM dbopt.snapshots a, dbopt.snapshots b"
		  "            WHERE a.snap_id = $1 AND b.snap_id = $2),"
		  " e AS (SELECT f.*, 'new' AS event, f.first_seen AS at FROM dbopt.findings_history f, w"
		  "        WHERE f.first_seen >= w.t0 AND f.first_seen <= w.t1"
		  "       UNION ALL"
		  "       SELECT f.*, 'resolved', f.resolved_at FROM dbopt.findings_history f, w"
		  "        WHERE f.resolved_at >= w.t0 AND f.resolved_at <= w.t1)"
		  " SELECT severity, event, " TS("at") ", report, check_name, object_name, detail"
		  "   FROM e ORDER BY at, finding_id, event LIMIT 200", from_id, to_id, false);
	if (SPI_processed > 0)
		appendStringInfoString(buf, "<p class=\"none\">From dbopt.findings_history, as dbopt.run_checks() recorded them "
							   "(at most 200, the oldest first).</p>\n");
	append_result_table(buf, h, "No finding was recorded as new or resolved in this window (dbopt.run_checks() records them in dbopt.findings_history).");
}

static void
append_health(StringInfo buf, int64 from_id, int64 to_id)
{
	static const char *const h[] = {"severity", "check", "object", "value", "threshold", "detail"};

	appendStringInfoString(buf, "<h2>Health now</h2>\n");
	query("SELECT severity, check_name, object_name, round(value::numeric, 2), round(threshold::numeric, 2), detail"
		  "  FROM dbopt.health_check() WHERE severity <> 'ok'"
		  " ORDER BY CASE severity WHEN 'critical' THEN 0 WHEN 'warning' THEN 1 WHEN 'info' THEN 2 ELSE 3 END, check_name",
		  from_id, to_id, false);
	append_result_table(buf, h, "Every health check is ok.");
}

/* Clear errors for a bad window; true when pg_stat_statements did not keep its counters in it. */
static bool
window_untrusted(int64 from_id, int64 to_id)
{
	bool		isnull;

	query("SELECT dbopt.check_snapshot_window($1, $2)", from_id, to_id, false);
	return DatumGetBool(SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1, &isnull));
}

PG_FUNCTION_INFO_V1(dbopt_report_html);

Datum
dbopt_report_html(PG_FUNCTION_ARGS)
{
	Window		w = {0, NULL, {"transactions/s", NULL, NULL}, {"cache hit %", NULL, NULL},
	{{"client connections", NULL, NULL}, {"max_connections", NULL, NULL}}, NULL, NULL, 0, 0};
	int64		from_id = PG_GETARG_INT64(0);
	int64		to_id = PG_GETARG_INT64(1);
	bool		include_dbopt = PG_GETARG_BOOL(2);
	StringInfoData buf;
	bool		untrusted;

	initStringInfo(&buf);
	SPI_connect();
	untrusted = window_untrusted(from_id, to_id);
	append_head(&buf, from_id, to_id);
	append_summary(&buf, from_id, to_id, include_dbopt, untrusted);
	read_snapshots(&w, from_id, to_id);
	read_statements(&w, from_id, to_id, include_dbopt);
	append_charts(&buf, &w);
	append_top_statements(&buf, from_id, to_id, include_dbopt);
	append_regressions(&buf, from_id, to_id, &w, include_dbopt);
	append_tables(&buf, from_id, to_id, include_dbopt);
	append_indexes(&buf, from_id, to_id, include_dbopt);
	append_wal(&buf, from_id, to_id);
	append_findings(&buf, from_id, to_id);
	append_health(&buf, from_id, to_id);

	appendStringInfo(&buf, "<p class=\"none\">Made by dbopt.report_html(" INT64_FORMAT ", " INT64_FORMAT ", %s) at ",
					 from_id, to_id, include_dbopt ? "true" : "false");
	{
		struct pg_tm tm;
		fsec_t		fsec;
		int			tz;
		const char *tzn;

		if (timestamp2tm(GetCurrentTimestamp(), &tz, &tm, &fsec, &tzn, NULL) == 0)
			appendStringInfo(&buf, "%04d-%02d-%02d %02d&#58;%02d&#58;%02d", tm.tm_year, tm.tm_mon, tm.tm_mday,
							 tm.tm_hour, tm.tm_min, tm.tm_sec);
	}
	appendStringInfoString(&buf, ".</p>\n</body></html>\n");

	SPI_finish();
	PG_RETURN_TEXT_P(cstring_to_text_with_len(buf.data, buf.len));
}
