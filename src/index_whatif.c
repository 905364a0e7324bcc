/*-------------------------------------------------------------------------
 *
 * index_whatif.c
 *	  simulate_drop_index(): what the statements in pg_stat_statements
 *	  would cost if an index were dropped, without dropping it.
 *
 * The workload (workload.c) is planned once as it is.  The statements on
 * the index's table are then planned again with the index hidden from the
 * planner: a get_relation_info hook takes it out of the relation's index
 * list while a "hidden set" is active, and the set is active only for the
 * duration of that one planning (cleared in PG_FINALLY).  A partitioned
 * index is hidden with every partition index attached to it.  No DDL, no
 * lock beyond what planning takes.  HypoPG (1.3.1 in Debian 12) cannot
 * hide an index, hence the hook.
 *
 * Only the top-level planning sees the hidden set: a planner hook counts
 * how deep planning is nested, so that a function folded at plan time
 * that plans statements of its own (and may cache their plans) plans them
 * with every index.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "catalog/index.h"
#include "catalog/partition.h"
#include "catalog/pg_class.h"
#include "catalog/pg_inherits.h"
#include "fmgr.h"
#include "funcapi.h"
#include "miscadmin.h"
#include "optimizer/pathnode.h"
#include "optimizer/plancat.h"
#include "optimizer/planner.h"
#include "utils/builtins.h"
#include "storage/lmgr.h"
#include "utils/lsyscache.h"
#include "utils/syscache.h"
#include "utils/memutils.h"
#include "utils/numeric.h"
#include "utils/tuplestore.h"

#include "dbopt/compat.h"
#include "dbopt/index_whatif.h"
#include "dbopt/isolate.h"
#include "dbopt/util.h"
#include "dbopt/workload.h"

/* cost_without above cost_with times this counts as worse, for the C API */
#define WORSE_RATIO 1.10

static get_relation_info_hook_type prev_get_relation_info = NULL;
static planner_hook_type prev_planner = NULL;

/*
 * The indexes hidden from the planner; none (almost always) when nhidden
 * is 0.  In TopMemoryContext: a set left behind would stay visible.
 */
static Oid *hidden_oids = NULL;
static int	nhidden = 0;
static int	planner_depth = 0;
static bool planner_entered = false;

/* ---------- the hooks ---------- */

static PlannedStmt *
whatif_planner(Query *parse, const char *query_string, int cursorOptions,
			   ParamListInfo boundParams)
{
	PlannedStmt *volatile result;

	if (nhidden == 0)
		return prev_planner ? prev_planner(parse, query_string, cursorOptions, boundParams)
			: standard_planner(parse, query_string, cursorOptions, boundParams);
	planner_depth++;
	planner_entered = true;
	PG_TRY();
	{
		result = prev_planner ? prev_planner(parse, query_string, cursorOptions, boundParams)
			: standard_planner(parse, query_string, cursorOptions, boundParams);
	}
	PG_FINALLY();
	{
		planner_depth--;
	}
	PG_END_TRY();
	return result;
}

static void
whatif_get_relation_info(PlannerInfo *root, Oid relationObjectId, bool inhparent,
						 RelOptInfo *rel)
{
	ListCell   *lc;

	if (prev_get_relation_info)
		prev_get_relation_info(root, relationObjectId, inhparent, rel);
	if (nhidden == 0 || planner_depth != 1)
		return;
	foreach(lc, rel->indexlist)
	{
		IndexOptInfo *ix = lfirst(lc);

		for (int i = 0; i < nhidden; i++)
			if (hidden_oids[i] == ix->indexoid)
			{
				rel->indexlist = foreach_delete_current(rel->indexlist, lc);
				break;
			}
	}
}

static void
hide_indexes(List *oids)
{
	ListCell   *lc;

	hidden_oids = MemoryContextAlloc(TopMemoryContext, sizeof(Oid) * Max(list_length(oids), 1));
	foreach(lc, oids)
		hidden_oids[foreach_current_index(lc)] = lfirst_oid(lc);
	nhidden = list_length(oids);
}

static void
unhide_indexes(void)
{
	nhidden = 0;
	if (hidden_oids)
		pfree(hidden_oids);
	hidden_oids = NULL;
}

void
dbopt_whatif_init(void)
{
	prev_get_relation_info = get_relation_info_hook;
	get_relation_info_hook = whatif_get_relation_info;
	prev_planner = planner_hook;
	planner_hook = whatif_planner;
}

/* ---------- planning without the index ---------- */

typedef struct ReplanUnit
{
	DboptStatement *s;
	List	   *hidden;
	List	   *keepers;
	double		cost;
	bool		keeper_used;
} ReplanUnit;

static bool
oid_lists_intersect(List *a, List *b)
{
	ListCell   *lc;

	foreach(lc, a)
		if (list_member_oid(b, lfirst_oid(lc)))
			return true;
	return false;
}

/* Plan the statement with the indexes hidden.  Runs isolated, as its role. */
static void
replan_unit(void *arg)
{
	ReplanUnit *r = arg;
	PlannedStmt *volatile ps = NULL;

	/* a function folded during a what-if planning that starts another one */
	if (hidden_oids != NULL)
		ereport(ERROR,
				(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
				 errmsg("a what-if planning cannot run inside another"),
				 errdetail("A function called while a statement was planned without an index asked for another what-if planning."),
				 errhint("Call simulate_drop_index() and analyze_index_usage() from the top level.")));
	dbopt_workload_use_path(r->s);
	planner_depth = 0;
	planner_entered = false;
	hide_indexes(r->hidden);
	PG_TRY();
	{
		ps = dbopt_statement_replan(r->s);
	}
	PG_FINALLY();
	{
		unhide_indexes();
	}
	PG_END_TRY();
	/* a planner hook that does not chain would have planned with the index */
	if (!planner_entered)
		elog(ERROR, "dbopt's planner hook was not called; another extension's planner hook does not chain");
	r->cost = ps->planTree->total_cost;
	r->keeper_used = r->keepers != NIL && oid_lists_intersect(dbopt_plan_indexes(ps), r->keepers);
}

/* The index with, when it is partitioned, every partition index under it. */
static List *
index_and_partitions(Oid indexrelid)
{
	if (get_rel_relkind(indexrelid) == RELKIND_PARTITIONED_INDEX)
		return find_all_inheritors(indexrelid, NoLock, NULL);
	return list_make1_oid(indexrelid);
}

typedef struct WhatifRow
{
	int			stmt;
	bool		uses;
	bool		planned;		/* planned without the index */
	bool		keeper;
	double		with;
	double		without;
} WhatifRow;

/*
 * Plan the given statements (an int List, sorted, unique) with the index
 * hidden: those whose plan scans it, or all when replan_all.  Rows in
 * *rows, in the caller's memory context; returns how many.
 */
static int
whatif_rows(DboptWorkload *w, List *stmts, List *hidden, List *keepers, bool replan_all,
			WhatifRow **rows)
{
	MemoryContext outer = CurrentMemoryContext;
	MemoryContext tmp = AllocSetContextCreate(outer, "dbopt whatif", ALLOCSET_DEFAULT_SIZES);
	ListCell   *lc;
	int			n = 0;

	*rows = palloc0(sizeof(WhatifRow) * Max(list_length(stmts), 1));
	foreach(lc, stmts)
	{
		DboptStatement *s = &w->stmts[lfirst_int(lc)];
		WhatifRow  *row = &(*rows)[n++];

		CHECK_FOR_INTERRUPTS();
		row->stmt = lfirst_int(lc);
		row->uses = oid_lists_intersect(s->indexes, hidden);
		row->with = row->without = s->cost;
		row->planned = true;
		if (row->uses || replan_all)
		{
			ReplanUnit	r = {s, hidden, keepers, 0, false};
			DboptUnitError err;

			MemoryContextSwitchTo(tmp);
			/* as the first plan was made: its role, restricted, the caller's path */
			row->planned = dbopt_run_unit(replan_unit, &r, s->userid, DBOPT_UNIT_CALLER_SEARCH_PATH, 0, &err);
			MemoryContextSwitchTo(outer);
			MemoryContextReset(tmp);
			row->without = r.cost;
			row->keeper = r.keeper_used;
		}
	}
	MemoryContextDelete(tmp);
	return n;
}

static List *
tables_of(List *indexes)
{
	List	   *out = NIL;
	ListCell   *lc;

	foreach(lc, indexes)
	{
		Oid			table = IndexGetRelation(lfirst_oid(lc), true);

		/* a partition's index dropped meanwhile: its table no longer counts */
		if (OidIsValid(table))
			out = list_append_unique_oid(out, table);
	}
	return out;
}

/* An int List, sorted, without repeats (PostgreSQL 15 has no list_deduplicate_int). */
static List *
sorted_unique(List *l)
{
	List	   *out = NIL;
	ListCell   *lc;

	list_sort(l, list_int_cmp);
	foreach(lc, l)
		if (out == NIL || llast_int(out) != lfirst_int(lc))
			out = lappend_int(out, lfirst_int(lc));
	return out;
}

/*
 * The statements whose plans scan one of the indexes (by_index) or that
 * name one of the tables, sorted, without repeats.
 */
static List *
statements_of(DboptWorkload *w, List *oids, bool by_index)
{
	List	   *found = NIL;
	ListCell   *lc;

	foreach(lc, oids)
		found = list_concat(found, by_index ? dbopt_workload_by_index(w, lfirst_oid(lc)) :
							dbopt_workload_by_rel(w, lfirst_oid(lc)));
	return sorted_unique(found);
}

/* ---------- the C API, for analyze_index_usage ---------- */

void
dbopt_whatif_index(DboptWorkload *w, Oid indexrelid, Oid keeper, DboptWhatif *out)
{
	List	   *hidden,
			   *keepers = NIL,
			   *using,
			   *touching;
	WhatifRow  *rows;
	int			n;

	memset(out, 0, sizeof(*out));
	out->available = w->available;
	out->max_ratio = 1;
	if (!w->available || w->nstmts == 0)
		return;
	hidden = index_and_partitions(indexrelid);
	using = statements_of(w, hidden, true);
	touching = statements_of(w, tables_of(hidden), false);
	out->nstatements = list_length(touching);
	if (using == NIL)
		return;					/* no plan scans it: nothing to plan */
	if (OidIsValid(keeper))
		keepers = index_and_partitions(keeper);
	n = whatif_rows(w, using, hidden, keepers, false, &rows);
	for (int i = 0; i < n; i++)
	{
		out->nusing++;
		if (!rows[i].planned)
		{
			out->nfailed++;
			continue;
		}
		if (rows[i].keeper)
			out->nkeeper++;
		if (rows[i].without > rows[i].with * WORSE_RATIO)
			out->nworse++;
		if (rows[i].with > 0 && rows[i].without / rows[i].with > out->max_ratio)
			out->max_ratio = rows[i].without / rows[i].with;
	}
}

/* ---------- the SQL function ---------- */

static int
cmp_rows(const void *x, const void *y)
{
	const WhatifRow *a = x,
			   *b = y;
	double		ra = a->with > 0 ? a->without / a->with : 1,
				rb = b->with > 0 ? b->without / b->with : 1;

	if (a->uses != b->uses)
		return a->uses ? -1 : 1;
	if (ra != rb)
		return ra > rb ? -1 : 1;
	return a->stmt - b->stmt;
}

static Datum
cost_numeric(double cost)
{
	return DirectFunctionCall2(numeric_round, DirectFunctionCall1(float8_numeric, Float8GetDatum(cost)),
							   Int32GetDatum(2));
}

/* The index argument, checked and locked, and min_calls. */
static Oid
simulate_args(FunctionCallInfo fcinfo, int64 *min_calls)
{
	Oid			indexrelid;
	char		relkind;

	dbopt_require_arg(fcinfo, 0, "index");
	dbopt_require_arg(fcinfo, 1, "min_calls");
	indexrelid = PG_GETARG_OID(0);
	*min_calls = PG_GETARG_INT64(1);
	if (*min_calls < 0)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("min_calls must not be negative"),
				 errdetail("simulate_drop_index() plans the statements with at least min_calls calls."),
				 errhint("The default is 1; 0 takes every statement.")));
	relkind = get_rel_relkind(indexrelid);
	if (relkind == '\0')
		ereport(ERROR,
				(errcode(ERRCODE_UNDEFINED_TABLE),
				 errmsg("relation with OID %u does not exist", indexrelid),
				 errdetail("It was dropped after its name was resolved."),
				 errhint("Pass the index by name, e.g. 'public.orders_customer_idx'.")));
	if (relkind != RELKIND_INDEX && relkind != RELKIND_PARTITIONED_INDEX)
		ereport(ERROR,
				(errcode(ERRCODE_WRONG_OBJECT_TYPE),
				 errmsg("%s is not an index", dbopt_qualified_relname(indexrelid)),
				 errdetail("simulate_drop_index() plans the workload without one index."),
				 errhint("SELECT indexrelid::regclass FROM pg_index WHERE indrelid = '%s'::regclass lists a table's indexes.",
						 dbopt_qualified_relname(indexrelid))));
	if (!OidIsValid(dbopt_extension_schema("pg_stat_statements")) ||
		!dbopt_library_preloaded("pg_stat_statements"))
		ereport(ERROR,
				(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
				 errmsg("simulate_drop_index needs pg_stat_statements"),
				 errdetail("The statements to plan without the index come from pg_stat_statements in this database."),
				 errhint("Add pg_stat_statements to shared_preload_libraries, restart, and CREATE EXTENSION pg_stat_statements.")));

	/* The lock planning takes anyway, taken first so that the index stays. */
	LockRelationOid(indexrelid, AccessShareLock);
	if (!SearchSysCacheExists1(RELOID, ObjectIdGetDatum(indexrelid)))
		ereport(ERROR,
				(errcode(ERRCODE_UNDEFINED_TABLE),
				 errmsg("relation with OID %u does not exist", indexrelid),
				 errdetail("It was dropped after its name was resolved."),
				 errhint("Pass the index by name, e.g. 'public.orders_customer_idx'.")));
	return indexrelid;
}

/* What the rows say, for the NOTICE. */
typedef struct WhatifTally
{
	int			nusing;
	int			nworse;
	int			nfailed;
	double		max_pct;
	int64		max_queryid;
} WhatifTally;

/* A row per statement planned both ways; the others are counted as failed. */
static void
emit_whatif_rows(ReturnSetInfo *rsinfo, DboptWorkload *w, WhatifRow *rows, int n, WhatifTally *t)
{
	for (int i = 0; i < n; i++)
	{
		DboptStatement *s = &w->stmts[rows[i].stmt];
		Datum		values[6];
		bool		nulls[6] = {0};
		Datum		with,
					without;

		if (rows[i].uses)
			t->nusing++;
		if (!rows[i].planned)
		{
			t->nfailed++;
			continue;
		}
		with = cost_numeric(rows[i].with);
		without = cost_numeric(rows[i].without);
		if (DatumGetInt32(DirectFunctionCall2(numeric_cmp, without, with)) > 0)
		{
			double		pct = rows[i].with > 0 ? 100.0 * (rows[i].without / rows[i].with - 1) : 0;

			t->nworse++;
			if (pct > t->max_pct || t->max_queryid == 0)
			{
				t->max_pct = pct;
				t->max_queryid = s->queryid;
			}
		}
		values[0] = Int64GetDatum(s->queryid);
		values[1] = CStringGetTextDatum(s->query);
		values[2] = Int64GetDatum(s->calls);
		values[3] = with;
		values[4] = without;
		values[5] = BoolGetDatum(rows[i].uses);
		tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc, values, nulls);
	}
}

PG_FUNCTION_INFO_V1(dbopt_simulate_drop_index);

Datum
dbopt_simulate_drop_index(PG_FUNCTION_ARGS)
{
	ReturnSetInfo *rsinfo = (ReturnSetInfo *) fcinfo->resultinfo;
	int64		min_calls;
	Oid			indexrelid = simulate_args(fcinfo, &min_calls);
	DboptWorkload *w;
	List	   *hidden,
			   *tables,
			   *touching,
			   *names = NIL;
	ListCell   *lc;
	WhatifRow  *rows;
	WhatifTally t = {0, 0, 0, 0, 0};
	int			n,
				ndenied = 0;
	char	   *table;
	MemoryContext cxt,
				old;

	dbopt_init_materialized_srf(fcinfo);
	cxt = AllocSetContextCreate(CurrentMemoryContext, "dbopt simulate_drop_index", ALLOCSET_DEFAULT_SIZES);
	old = MemoryContextSwitchTo(cxt);
	hidden = index_and_partitions(indexrelid);
	tables = tables_of(hidden);
	table = dbopt_qualified_relname(IndexGetRelation(indexrelid, false));

	/*
	 * Only the statements that name the table (or a partitioned parent of
	 * it) are planned, then planned again, using the index or not.  Under
	 * plain inheritance a parent is not known without a catalog walk: all
	 * are planned.
	 */
	foreach(lc, tables)
	{
		Oid			relid = lfirst_oid(lc);

		if (get_rel_relispartition(relid))
			names = list_concat(names, get_partition_ancestors(relid));
		else if (has_superclass(relid))
		{
			names = NIL;
			break;
		}
		names = lappend_oid(names, relid);
	}
	w = dbopt_workload_load_for(min_calls, names);
	MemoryContextSwitchTo(cxt);
	touching = statements_of(w, tables, false);
	for (int i = 0; i < w->nstmts; i++)
		if (w->stmts[i].status == DBOPT_STMT_DENIED && oid_lists_intersect(w->stmts[i].relids, tables))
			ndenied++;
	n = whatif_rows(w, touching, hidden, NIL, true, &rows);
	qsort(rows, n, sizeof(WhatifRow), cmp_rows);
	emit_whatif_rows(rsinfo, w, rows, n, &t);

	ereport(NOTICE,
			(errmsg("simulate_drop_index: %d statement(s) on %s, %d using the index, %d costing more without it%s",
					n - t.nfailed, table, t.nusing, t.nworse,
					ndenied > 0 ? psprintf("; %d skipped: you may not run them", ndenied) : ""),
			 t.nworse > 0 ?
			 errdetail("At most +%.0f%% (queryid %lld). Of the %d statement(s) read, %d could not be planned, %d are utility statements, %d could not be planned without the index.",
					   t.max_pct, (long long) t.max_queryid, w->nstmts, w->skipped_error, w->skipped_utility, t.nfailed) :
			 errdetail("Of the %d statement(s) read, %d could not be planned, %d are utility statements, %d could not be planned without the index.",
					   w->nstmts, w->skipped_error, w->skipped_utility, t.nfailed)));
	MemoryContextSwitchTo(old);
	MemoryContextDelete(cxt);
	return (Datum) 0;
}
