/*-------------------------------------------------------------------------
 *
 * partition_distribution.c
 *	  analyze_partition_distribution(): rows and bytes per partition, with
 *	  flags for empty and oversized partitions, gaps, rows in the default
 *	  partition, a missing next partition and one straddling retention.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/htup_details.h"
#include "access/relation.h"
#include "access/xact.h"
#include "catalog/namespace.h"
#include "catalog/partition.h"
#include "catalog/pg_depend.h"
#include "commands/extension.h"
#include "catalog/pg_class.h"
#include "catalog/pg_type.h"
#include "executor/spi.h"
#include "funcapi.h"
#include "lib/stringinfo.h"
#include "mb/pg_wchar.h"
#include "miscadmin.h"
#include "nodes/parsenodes.h"
#include "partitioning/partdesc.h"
#include "storage/lmgr.h"
#include "utils/builtins.h"
#include "utils/datum.h"
#include "utils/date.h"
#include "utils/float.h"
#include "utils/fmgrprotos.h"
#include "utils/guc.h"
#include "utils/lsyscache.h"
#include "utils/partcache.h"
#include "utils/rel.h"
#include "utils/syscache.h"
#include "utils/timestamp.h"

#include "dbopt/compat.h"
#include "dbopt/dbopt.h"
#include "dbopt/isolate.h"
#include "dbopt/partitions.h"
#include "dbopt/partitions_internal.h"
#include "dbopt/util.h"

/* hi - lo as an interval, for a time key. */
static Interval *
bound_width(const KeyInfo *k, const Bound *lo, const Bound *hi)
{
	Datum		a = hi->value;
	Datum		b = lo->value;

	if (k->typid == DATEOID)
	{
		a = DirectFunctionCall1(date_timestamp, a);
		b = DirectFunctionCall1(date_timestamp, b);
	}
	/* timestamptz and timestamp share a representation. */
	return DatumGetIntervalP(DirectFunctionCall2(timestamp_mi, a, b));
}

static Config *
find_config(List *configs, Oid parent)
{
	ListCell   *lc;

	foreach(lc, configs)
	{
		Config	   *c = lfirst(lc);

		if (c->parent == parent)
			return c;
	}
	return NULL;
}

/* ---------- analyze_partition_distribution() ---------- */

typedef struct DistRow
{
	Part	   *part;
	int64		rows;
	int64		bytes;
	bool		counted;
	List	   *flags;
} DistRow;

static int
int64_cmp(const void *a, const void *b)
{
	int64		x = *(const int64 *) a;
	int64		y = *(const int64 *) b;

	return x < y ? -1 : x > y ? 1 : 0;
}

/*
 * Rows and bytes of each partition (counted when exact), their total, the
 * median size of the non-default ones (0 with fewer than three), the
 * newest range partition, and the sub-partitioned children.
 */
static void
measure_partitions(Tree *t, bool exact, DistRow *rows, int n, int64 *total_rows,
				   int64 *median, int *newest, List **subs)
{
	int64	   *sizes = palloc(sizeof(int64) * Max(n, 1));
	int			nsizes = 0;
	int			i;

	*total_rows = 0;
	*median = 0;
	*newest = -1;
	for (i = 0; i < n; i++)
	{
		DistRow    *r = &rows[i];

		CHECK_FOR_INTERRUPTS();
		r->part = i < t->nparts ? &t->parts[i] : t->def;
		(void) dbopt_relation_stats_nowait(r->part->relid, &r->rows, &r->bytes);
		if (exact)
		{
			int64		cnt = 0;
			bool		isnull;

			if (dbopt_part_isolated_int8(psprintf("SELECT count(*) FROM %s",
															 dbopt_qualified_relname(r->part->relid)),
													dbopt_check_timeout_ms, &cnt, &isnull) == NULL)
			{
				r->rows = cnt;
				r->counted = true;
			}
			else
				r->flags = lappend(r->flags, "not_counted");
		}
		if (r->rows > 0)
			*total_rows += r->rows;
		if (!r->part->is_default && r->bytes >= 0)
			sizes[nsizes++] = r->bytes;
		if (r->part->is_range)
			*newest = i;
		if (r->part->relkind == RELKIND_PARTITIONED_TABLE)
			*subs = lappend_oid(*subs, r->part->relid);
	}
	if (nsizes >= 3)
	{
		qsort(sizes, nsizes, sizeof(int64), int64_cmp);
		*median = nsizes % 2 ? sizes[nsizes / 2] : (sizes[nsizes / 2 - 1] + sizes[nsizes / 2]) / 2;
	}
}

/* Whether the default partition holds any row (counted, or looked for). */
static bool
default_has_rows(const DistRow *r)
{
	int64		any = r->rows;
	bool		isnull;

	if (!r->counted &&
		dbopt_part_isolated_int8(psprintf("SELECT count(*) FROM (SELECT 1 FROM %s LIMIT 1) s",
													 dbopt_qualified_relname(r->part->relid)),
											dbopt_check_timeout_ms, &any, &isnull) != NULL)
		any = 0;
	return any > 0;
}

/*
 * Whether a time-keyed table lacks the partition one step from now; the
 * step is the registered interval, else the newest partition's width.
 */
static bool
missing_future(const Tree *t, const Config *cfg, const Part *newest)
{
	Step		step;
	Bound		ahead;
	bool		covered = false;
	int			j;

	step.n = 0;
	if (cfg)
		step = dbopt_part_parse_step(&t->key, "partition_interval", cfg->interval, t->key.typid == DATEOID);
	else if (newest->lo.kind == 0 && newest->hi.kind == 0)
		step.iv = bound_width(&t->key, &newest->lo, &newest->hi);
	else
		step.iv = NULL;
	ahead.kind = 0;
	if (newest->hi.kind > 0)
		covered = true;
	else if (step.iv != NULL &&
			 dbopt_part_key_shift(&t->key, dbopt_part_now_in_key(&t->key), &step, 1, 1, &ahead.value))
	{
		for (j = 0; j < t->nparts && !covered; j++)
			covered = t->parts[j].is_range &&
				dbopt_part_bound_cmp(&t->key, &t->parts[j].lo, &ahead) <= 0 &&
				dbopt_part_bound_cmp(&t->key, &ahead, &t->parts[j].hi) < 0;
	}
	return !covered;
}

/*
 * Seconds from now to the end of the range partitions that follow on from
 * the one holding now without a gap: +Inf when they reach MAXVALUE, 0 when
 * no partition holds now.  False for a table not range-partitioned on a
 * time key, or whose partitions could not be read in time.
 */
bool
dbopt_partition_runway(Oid parent, double *seconds)
{
	Tree		t;
	Bound		now;
	Bound	   *end = NULL;
	Datum		from;
	Datum		to;
	int			j;

	if (dbopt_part_load_tree_isolated(parent, &t) != NULL ||
		!t.key.supported || !t.key.is_time)
		return false;
	now.kind = 0;
	now.value = dbopt_part_now_in_key(&t.key);
	for (j = 0; j < t.nparts; j++)
	{
		Part	   *p = &t.parts[j];

		if (!p->is_range)
			continue;
		if (end == NULL ?
			(dbopt_part_bound_cmp(&t.key, &p->lo, &now) <= 0 &&
			 dbopt_part_bound_cmp(&t.key, &now, &p->hi) < 0) :
			dbopt_part_bound_cmp(&t.key, &p->lo, end) == 0)
			end = &p->hi;
		else if (end != NULL)
			break;
	}
	if (end == NULL)
	{
		*seconds = 0;
		return true;
	}
	if (end->kind > 0)
	{
		*seconds = get_float8_infinity();
		return true;
	}
	/* As timestamps: a date key counts from this moment, not from midnight. */
	from = DirectFunctionCall1(timestamptz_timestamp,
							   TimestampTzGetDatum(GetCurrentTransactionStartTimestamp()));
	to = end->value;
	if (t.key.typid == DATEOID)
		to = DirectFunctionCall1(date_timestamp, to);
	else if (t.key.typid == TIMESTAMPTZOID)
		from = TimestampTzGetDatum(GetCurrentTransactionStartTimestamp());
	*seconds = Max(0.0, (double) (DatumGetTimestamp(to) - DatumGetTimestamp(from)) / USECS_PER_SEC);
	return true;
}

/* One row of analyze_partition_distribution(). */
static void
put_distribution_row(ReturnSetInfo *rsinfo, const Tree *t, const DistRow *r, int64 total_rows)
{
	const Part *p = r->part;
	Datum		values[9];
	bool		nulls[9] = {0};
	ArrayBuildState *astate = NULL;
	ListCell   *lc;

	values[0] = ObjectIdGetDatum(t->key.parent);
	values[1] = CStringGetTextDatum(dbopt_qualified_relname(p->relid));
	if (p->is_range && t->key.attnum != 0)
	{
		values[2] = CStringGetTextDatum(dbopt_part_bound_text(&t->key, &p->lo));
		values[3] = CStringGetTextDatum(dbopt_part_bound_text(&t->key, &p->hi));
	}
	else
		nulls[2] = nulls[3] = true;
	values[4] = BoolGetDatum(p->is_default);
	values[5] = Int64GetDatum(r->rows);
	nulls[5] = r->rows < 0;
	values[6] = Int64GetDatum(r->bytes);
	nulls[6] = r->bytes < 0;
	if (r->rows >= 0 && total_rows > 0)
		values[7] = DirectFunctionCall2(numeric_round,
										DirectFunctionCall1(float8_numeric,
															Float8GetDatum(100.0 * r->rows / total_rows)),
										Int32GetDatum(2));
	else
		values[7] = DirectFunctionCall1(int4_numeric, Int32GetDatum(0));
	foreach(lc, r->flags)
		astate = accumArrayResult(astate, CStringGetTextDatum(lfirst(lc)), false, TEXTOID,
								  CurrentMemoryContext);
	values[8] = astate ? makeArrayResult(astate, CurrentMemoryContext) :
		PointerGetDatum(construct_empty_array(TEXTOID));
	tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc, values, nulls);
}

static void
distribution_of(Tree *t, Config *cfg, bool exact, ReturnSetInfo *rsinfo, MemoryContext itemcxt)
{
	int			n = t->nparts + (t->def ? 1 : 0);
	DistRow    *rows = palloc0(sizeof(DistRow) * Max(n, 1));
	int64		median;
	int64		total_rows;
	int			newest;
	int			i;
	bool		is_range = t->key.supported;
	Bound		cutoff = {0, 0};
	bool		have_cutoff = false;
	List	   *subs = NIL;
	ListCell   *lc;

	measure_partitions(t, exact, rows, n, &total_rows, &median, &newest, &subs);
	if (is_range && cfg && cfg->retention)
	{
		Step		keep = dbopt_part_parse_step(&t->key, "retention", cfg->retention, false);

		have_cutoff = dbopt_part_retention_cutoff(t, &keep, &cutoff);
	}

	for (i = 0; i < n; i++)
	{
		DistRow    *r = &rows[i];
		Part	   *p = r->part;

		if (r->rows == 0 || (!r->counted && r->bytes == 0))
			r->flags = lappend(r->flags, "empty");
		if (median > 0 && r->bytes > 3 * median)
			r->flags = lappend(r->flags, "oversized");
		if (p->is_default && default_has_rows(r))
			r->flags = lappend(r->flags, "default_has_rows");
		if (is_range && p->is_range && i > 0 && rows[i - 1].part->is_range &&
			dbopt_part_bound_cmp(&t->key, &rows[i - 1].part->hi, &p->lo) < 0)
			r->flags = lappend(r->flags, "gap_before");
		if (i == newest && t->key.is_time && missing_future(t, cfg, p))
			r->flags = lappend(r->flags, "missing_future");
		if (have_cutoff && p->is_range &&
			dbopt_part_bound_cmp(&t->key, &p->lo, &cutoff) < 0 && dbopt_part_bound_cmp(&t->key, &cutoff, &p->hi) < 0)
			r->flags = lappend(r->flags, "straddles_retention");
		put_distribution_row(rsinfo, t, r, total_rows);
	}

	/* Sub-partitioned children: their own partitions follow, one level at a time. */
	foreach(lc, subs)
	{
		Tree		sub;
		char	   *problem = dbopt_part_load_tree_isolated(lfirst_oid(lc), &sub);

		if (problem == NULL)
			distribution_of(&sub, NULL, exact, rsinfo, itemcxt);
	}
}

PG_FUNCTION_INFO_V1(dbopt_analyze_partition_distribution);

Datum
dbopt_analyze_partition_distribution(PG_FUNCTION_ARGS)
{
	ReturnSetInfo *rsinfo = (ReturnSetInfo *) fcinfo->resultinfo;
	Oid			only = PG_ARGISNULL(0) ? InvalidOid : PG_GETARG_OID(0);
	bool		exact = PG_ARGISNULL(1) ? false : PG_GETARG_BOOL(1);
	List	   *parents = NIL;
	List	   *configs;
	ListCell   *lc;
	MemoryContext itemcxt;
	MemoryContext old;
	int			nest;

	if (OidIsValid(only))
	{
		dbopt_part_check_parent(only);
		parents = list_make1_oid(only);
	}
	else
	{
		foreach(lc, dbopt_user_relations("p"))
			if (!get_rel_relispartition(lfirst_oid(lc)))
				parents = lappend_oid(parents, lfirst_oid(lc));
	}
	configs = dbopt_part_load_configs(InvalidOid);
	dbopt_init_materialized_srf(fcinfo);
	nest = dbopt_push_lock_timeout();
	itemcxt = AllocSetContextCreate(CurrentMemoryContext, "dbopt partition parent",
									ALLOCSET_DEFAULT_SIZES);
	old = MemoryContextSwitchTo(itemcxt);
	foreach(lc, parents)
	{
		Tree		t;
		char	   *problem;

		CHECK_FOR_INTERRUPTS();
		problem = dbopt_part_load_tree_isolated(lfirst_oid(lc), &t);
		if (problem != NULL)
		{
			if (OidIsValid(only))
				ereport(ERROR,
						(errcode(ERRCODE_LOCK_NOT_AVAILABLE),
						 errmsg("could not read the partitions of %s", dbopt_qualified_relname(only)),
						 errdetail("%s.", problem),
						 errhint("Retry when the table is not being altered.")));
			ereport(WARNING,
					(errmsg("analyze_partition_distribution: skipped %s",
							dbopt_qualified_relname(lfirst_oid(lc))),
					 errdetail("%s.", problem)));
		}
		else
			distribution_of(&t, find_config(configs, lfirst_oid(lc)), exact, rsinfo, itemcxt);
		MemoryContextReset(itemcxt);
	}
	MemoryContextSwitchTo(old);
	MemoryContextDelete(itemcxt);
	AtEOXact_GUC(true, nest);
	return (Datum) 0;
}
