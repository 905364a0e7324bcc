/*-------------------------------------------------------------------------
 *
 * matviews.c
 *	  refresh_materialized_views(): every materialized view (or the ones
 *	  named) refreshed in dependency order, each on its own, and the
 *	  history behind dbopt.matview_freshness.
 *
 * The order comes from pg_depend: a view's _RETURN rule depends on the
 * relations its query reads, and a plain view in between is followed to
 * the materialized views under it.  Views are sorted topologically (Kahn,
 * ties by name), so a view built on another is refreshed after it.  Each
 * refresh is one isolated unit under dbopt.lock_timeout; a view whose
 * input failed or was skipped is skipped too, since refreshing it would
 * only copy stale data.  One plan (plan_refreshes) serves the dry run and
 * the real one; only a failure at run time can make them differ.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/genam.h"
#include "access/htup_details.h"
#include "access/relation.h"
#include "access/table.h"
#include "catalog/dependency.h"
#include "catalog/indexing.h"
#include "catalog/pg_class.h"
#include "catalog/pg_depend.h"
#include "catalog/pg_index.h"
#include "catalog/pg_rewrite.h"
#include "catalog/pg_type.h"
#include "executor/spi.h"
#include "funcapi.h"
#include "lib/binaryheap.h"
#include "miscadmin.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/fmgroids.h"
#include "utils/lsyscache.h"
#include "utils/memutils.h"
#include "utils/rel.h"
#include "utils/syscache.h"
#include "utils/timestamp.h"

#include "dbopt/compat.h"
#include "dbopt/dbopt.h"
#include "dbopt/isolate.h"
#include "dbopt/matviews.h"
#include "dbopt/util.h"

/* One materialized view in the refresh graph. */
typedef struct MatView
{
	Oid			relid;
	char	   *name;			/* qualified */
	bool		wanted;			/* listed (or all) */
	List	   *inputs;			/* indexes of the views it reads */
	List	   *dependents;		/* indexes of the views that read it */
	int			pending;		/* inputs not yet ordered */
	bool		refresh;		/* planned: refreshed, else skipped */
	const char *method;
	const char *status;
	char	   *detail;
	double		ms;
} MatView;

/* The _RETURN rule of a view or materialized view, or InvalidOid. */
static Oid
return_rule(Oid relid)
{
	HeapTuple	tup = SearchSysCache2(RULERELNAME, ObjectIdGetDatum(relid),
									  CStringGetDatum("_RETURN"));
	Oid			rule = InvalidOid;

	if (HeapTupleIsValid(tup))
	{
		rule = ((Form_pg_rewrite) GETSTRUCT(tup))->oid;
		ReleaseSysCache(tup);
	}
	return rule;
}

/* Relations a rule reads, from pg_depend, each once. */
static List *
rule_reads(Oid rule)
{
	Relation	dep = table_open(DependRelationId, AccessShareLock);
	ScanKeyData key[2];
	SysScanDesc scan;
	HeapTuple	tup;
	List	   *result = NIL;

	ScanKeyInit(&key[0], Anum_pg_depend_classid, BTEqualStrategyNumber, F_OIDEQ,
				ObjectIdGetDatum(RewriteRelationId));
	ScanKeyInit(&key[1], Anum_pg_depend_objid, BTEqualStrategyNumber, F_OIDEQ,
				ObjectIdGetDatum(rule));
	scan = systable_beginscan(dep, DependDependerIndexId, true, NULL, 2, key);
	while (HeapTupleIsValid(tup = systable_getnext(scan)))
	{
		Form_pg_depend d = (Form_pg_depend) GETSTRUCT(tup);

		if (d->refclassid == RelationRelationId)
			result = list_append_unique_oid(result, d->refobjid);
	}
	systable_endscan(scan);
	table_close(dep, AccessShareLock);
	return result;
}

/*
 * The materialized views that relid's query reads, directly or through
 * plain views, added to *found.
 */
static void
matviews_read_by(Oid relid, List **found, List **seen)
{
	Oid			rule = return_rule(relid);
	List	   *reads;
	ListCell   *lc;

	if (!OidIsValid(rule))
		return;
	reads = rule_reads(rule);
	foreach(lc, reads)
	{
		Oid			ref = lfirst_oid(lc);
		char		kind;

		if (ref == relid || list_member_oid(*seen, ref))
			continue;
		*seen = lappend_oid(*seen, ref);
		kind = get_rel_relkind(ref);
		if (kind == RELKIND_MATVIEW)
			*found = lappend_oid(*found, ref);
		else if (kind == RELKIND_VIEW)
			matviews_read_by(ref, found, seen);
	}
}

/* views[] is sorted by OID. */
static int
find_view(MatView *views, int n, Oid relid)
{
	int			lo = 0,
				hi = n - 1;

	while (lo <= hi)
	{
		int			mid = lo + (hi - lo) / 2;

		if (views[mid].relid == relid)
			return mid;
		if (views[mid].relid < relid)
			lo = mid + 1;
		else
			hi = mid - 1;
	}
	return -1;
}

/* binaryheap is a max-heap: the alphabetically first name must compare highest. */
static int
name_order(Datum a, Datum b, void *arg)
{
	MatView    *views = arg;

	return strcmp(views[DatumGetInt32(b)].name, views[DatumGetInt32(a)].name);
}

/*
 * Order every materialized view so that each comes after the ones it
 * reads; returns indexes into views.  Kahn's algorithm, O((V + E) log V).
 */
static int *
refresh_order(MatView *views, int n)
{
	binaryheap *ready = binaryheap_allocate(Max(n, 1), name_order, views);
	int		   *order = palloc(sizeof(int) * Max(n, 1));
	int			k = 0;
	int			i;

	for (i = 0; i < n; i++)
	{
		views[i].pending = list_length(views[i].inputs);
		if (views[i].pending == 0)
			binaryheap_add_unordered(ready, Int32GetDatum(i));
	}
	binaryheap_build(ready);
	while (!binaryheap_empty(ready))
	{
		int			v = DatumGetInt32(binaryheap_remove_first(ready));
		ListCell   *lc;

		order[k++] = v;
		foreach(lc, views[v].dependents)
		{
			int			d = lfirst_int(lc);

			if (--views[d].pending == 0)
				binaryheap_add(ready, Int32GetDatum(d));
		}
	}
	/* A cycle cannot be built with CREATE MATERIALIZED VIEW; keep any rest anyway. */
	for (i = 0; i < n && k < n; i++)
		if (views[i].pending > 0)
			order[k++] = i;
	binaryheap_free(ready);
	return order;
}

/* Whether a materialized view holds data (REFRESH of a reader fails otherwise). */
static bool
matview_populated(Oid relid)
{
	HeapTuple	tup = SearchSysCache1(RELOID, ObjectIdGetDatum(relid));
	bool		populated = true;

	if (HeapTupleIsValid(tup))
	{
		populated = ((Form_pg_class) GETSTRUCT(tup))->relispopulated;
		ReleaseSysCache(tup);
	}
	return populated;
}

/*
 * Whether REFRESH ... CONCURRENTLY can run: the view is populated and has
 * a unique, valid, non-partial index on plain columns.  *why says what is
 * missing.
 */
static bool
can_refresh_concurrently(Oid relid, char **why)
{
	Relation	rel = relation_open(relid, AccessShareLock);
	List	   *indexes = RelationGetIndexList(rel);
	ListCell   *lc;
	bool		found = false;

	if (!rel->rd_rel->relispopulated)
	{
		*why = pstrdup("not populated yet, so CONCURRENTLY is not possible");
		list_free(indexes);
		relation_close(rel, AccessShareLock);
		return false;
	}

	foreach(lc, indexes)
	{
		HeapTuple	tup = SearchSysCache1(INDEXRELID, ObjectIdGetDatum(lfirst_oid(lc)));
		Form_pg_index ind;
		int			i;
		bool		plain = true;

		if (!HeapTupleIsValid(tup))
			continue;
		ind = (Form_pg_index) GETSTRUCT(tup);
		for (i = 0; i < ind->indnkeyatts; i++)
			if (ind->indkey.values[i] == 0)
				plain = false;
		if (ind->indisunique && ind->indisvalid && ind->indimmediate && plain &&
			heap_attisnull(tup, Anum_pg_index_indpred, NULL) &&
			heap_attisnull(tup, Anum_pg_index_indexprs, NULL))
			found = true;
		ReleaseSysCache(tup);
		if (found)
			break;
	}
	list_free(indexes);
	relation_close(rel, AccessShareLock);
	if (!found)
		*why = pstrdup("no unique index on plain columns, so CONCURRENTLY is not possible; readers wait for the refresh");
	return found;
}

/*
 * The plan, shared by dry and real runs: for each wanted view in refresh
 * order, refreshed (and how) or skipped (and why).  A view that reads one
 * that is not populated and is not refreshed before it would fail, so it
 * is skipped; so is one that reads a view the plan skips.
 */
static void
plan_refreshes(MatView *views, int *order, int n, bool concurrently)
{
	for (int i = 0; i < n; i++)
	{
		MatView    *v = &views[order[i]];
		ListCell   *ic;
		MatView    *bad = NULL;
		const char *why = NULL;

		if (!v->wanted)
			continue;
		v->method = "skipped";
		v->status = "skipped";
		v->refresh = false;
		foreach(ic, v->inputs)
		{
			MatView    *in = &views[lfirst_int(ic)];

			if (in->wanted && !in->refresh)
			{
				bad = in;
				why = "skipped";
			}
			else if (!in->refresh && !matview_populated(in->relid))
			{
				bad = in;
				why = "not populated";
			}
		}
		if (bad)
			v->detail = psprintf("reads %s, which was not refreshed (%s)", bad->name, why);
		else if (!dbopt_relation_ownercheck(v->relid, GetUserId()))
			v->detail = pstrdup("not the owner of the materialized view");
		else
		{
			v->refresh = true;
			v->status = NULL;
			v->method = concurrently && can_refresh_concurrently(v->relid, &v->detail)
				? "concurrently" : "plain";
		}
	}
}

typedef struct RefreshUnit
{
	MatView    *v;
	bool		concurrently;
} RefreshUnit;

static void
refresh_unit(void *arg)
{
	RefreshUnit *u = arg;
	char	   *sql = psprintf("REFRESH MATERIALIZED VIEW %s%s",
							   u->concurrently ? "CONCURRENTLY " : "", u->v->name);

	SPI_connect();
	if (SPI_execute(sql, false, 0) != SPI_OK_UTILITY)
		elog(ERROR, "could not run %s", sql);
	SPI_finish();
}

/* Keep the refresh in dbopt.matview_refreshes (as the extension owner) and the maintenance log. */
static void
record_refresh(MatView *v)
{
	Oid			argtypes[5] = {OIDOID, TEXTOID, FLOAT8OID, TEXTOID, TEXTOID};
	Datum		values[5];
	char		nulls[5] = {' ', ' ', ' ', ' ', ' '};
	DboptIdentity saved;

	values[0] = ObjectIdGetDatum(v->relid);
	values[1] = CStringGetTextDatum(v->method);
	/* kept as shown: matview_freshness.last_duration_ms reads it */
	values[2] = Float8GetDatum(dbopt_round(v->ms, 1));
	values[3] = CStringGetTextDatum(v->status);
	values[4] = v->detail ? CStringGetTextDatum(v->detail) : (Datum) 0;
	nulls[4] = v->detail ? ' ' : 'n';
	dbopt_elevate(&saved);
	SPI_connect();
	if (SPI_execute_with_args("INSERT INTO dbopt.matview_refreshes (matview, method, duration_ms, status, detail)"
							  " VALUES ($1, $2, $3, $4, $5)",
							  5, argtypes, values, nulls, false, 0) != SPI_OK_INSERT)
		elog(ERROR, "could not write dbopt.matview_refreshes");
	SPI_finish();
	dbopt_restore_identity(&saved);
	dbopt_log_action("refresh_materialized_views", v->name,
					 strcmp(v->status, "ok") == 0 ? psprintf("refreshed %s", v->method) : v->status,
					 -1, dbopt_relation_size_nowait(v->relid),
					 v->detail ? v->detail : psprintf("%.1f ms", v->ms));
}

static void
put_row(ReturnSetInfo *rsinfo, MatView *v)
{
	Datum		values[5];
	bool		nulls[5] = {0};

	values[0] = ObjectIdGetDatum(v->relid);
	values[1] = CStringGetTextDatum(v->method);
	values[2] = Float8GetDatum(dbopt_round(v->ms, 1));
	nulls[2] = strcmp(v->status, "ok") != 0 && strcmp(v->status, "error") != 0;
	values[3] = CStringGetTextDatum(v->status);
	values[4] = v->detail ? CStringGetTextDatum(v->detail) : (Datum) 0;
	nulls[4] = v->detail == NULL;
	tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc, values, nulls);
}

void
dbopt_require_own_matview(Oid relid, const char *detail, const char *hint)
{
	if (get_rel_relkind(relid) == '\0')
		ereport(ERROR,
				(errcode(ERRCODE_UNDEFINED_TABLE),
				 errmsg("relation with OID %u does not exist", relid),
				 errdetail("%s", detail),
				 errhint("%s", hint)));
	if (get_rel_relkind(relid) != RELKIND_MATVIEW)
		ereport(ERROR,
				(errcode(ERRCODE_WRONG_OBJECT_TYPE),
				 errmsg("%s is not a materialized view",
						OidIsValid(relid) ? dbopt_qualified_relname(relid) : "NULL"),
				 errdetail("%s", detail),
				 errhint("%s", hint)));
	dbopt_require_owner(relid, "Only the owner of %s may refresh it.", dbopt_qualified_relname(relid));
}

/*
 * The views argument: each a materialized view the caller owns, added to
 * *all (a view in a non-user schema) and returned; NIL when NULL.
 */
static List *
listed_views(FunctionCallInfo fcinfo, List **all)
{
	ArrayType  *arr;
	Datum	   *elems;
	bool	   *enulls;
	int			nelems;
	List	   *listed = NIL;

	if (PG_ARGISNULL(0))
		return NIL;
	arr = PG_GETARG_ARRAYTYPE_P(0);
	deconstruct_array(arr, REGCLASSOID, sizeof(Oid), true, TYPALIGN_INT, &elems, &enulls, &nelems);
	for (int i = 0; i < nelems; i++)
	{
		Oid			relid = enulls[i] ? InvalidOid : DatumGetObjectId(elems[i]);

		if (enulls[i])
			ereport(ERROR,
					(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
					 errmsg("views must not contain NULL"),
					 errdetail("Each element names one materialized view to refresh."),
					 errhint("Pass NULL instead of the array to refresh every materialized view in user schemas.")));
		dbopt_require_own_matview(relid, "Only materialized views can be refreshed.",
								  "Pass NULL to refresh every materialized view in user schemas.");
		listed = list_append_unique_oid(listed, relid);
		*all = list_append_unique_oid(*all, relid);
	}
	list_sort(*all, list_oid_cmp);
	return listed;
}

/* The graph, over every view, so that order holds through unlisted ones. */
static MatView *
view_graph(List *all, List *listed, bool every)
{
	int			n = list_length(all);
	MatView    *views = palloc0(sizeof(MatView) * Max(n, 1));
	int			i = 0;
	ListCell   *lc;

	foreach(lc, all)
	{
		views[i].relid = lfirst_oid(lc);
		views[i].name = dbopt_qualified_relname(views[i].relid);
		views[i].wanted = every || list_member_oid(listed, views[i].relid);
		i++;
	}
	for (i = 0; i < n; i++)
	{
		List	   *found = NIL;
		List	   *seen = NIL;
		ListCell   *fc;

		CHECK_FOR_INTERRUPTS();
		matviews_read_by(views[i].relid, &found, &seen);
		foreach(fc, found)
		{
			int			j = find_view(views, n, lfirst_oid(fc));

			if (j < 0 || j == i)
				continue;
			views[i].inputs = lappend_int(views[i].inputs, j);
			views[j].dependents = lappend_int(views[j].dependents, i);
		}
	}
	return views;
}

/* Refresh one view the plan refreshes, unless an input failed now, after the plan. */
static void
refresh_view(MatView *views, MatView *v)
{
	ListCell   *ic;
	MatView    *bad = NULL;
	RefreshUnit u;
	DboptUnitError err;
	TimestampTz began;

	foreach(ic, v->inputs)
	{
		MatView    *in = &views[lfirst_int(ic)];

		if (in->status && strcmp(in->status, "ok") != 0)
			bad = in;
	}
	if (bad)
	{
		v->method = "skipped";
		v->status = "skipped";
		v->detail = psprintf("reads %s, which was not refreshed (%s)", bad->name, bad->status);
		return;
	}
	began = GetCurrentTimestamp();
	u.v = v;
	u.concurrently = strcmp(v->method, "concurrently") == 0;
	if (dbopt_run_isolated(refresh_unit, &u, 0, &err))
		v->status = "ok";
	else
	{
		v->status = err.lock_timeout ? "skipped" : "error";
		v->detail = dbopt_unit_error_text(&err);
	}
	v->ms = (double) (GetCurrentTimestamp() - began) / 1000.0;
}

PG_FUNCTION_INFO_V1(dbopt_refresh_materialized_views);

/* refresh_materialized_views(views regclass[], concurrently boolean, dry_run boolean) */
Datum
dbopt_refresh_materialized_views(PG_FUNCTION_ARGS)
{
	ReturnSetInfo *rsinfo = (ReturnSetInfo *) fcinfo->resultinfo;
	bool		concurrently = PG_ARGISNULL(1) ? true : PG_GETARG_BOOL(1);
	bool		dry_run = dbopt_steering_bool(fcinfo, 2, "dry_run");
	List	   *all = dbopt_user_relations("m");
	List	   *listed;
	MatView    *views;
	int			n;
	int		   *order;
	int			nok = 0,
				nerr = 0,
				nskip = 0;

	/* Named views: each must be a materialized view the caller owns. */
	listed = listed_views(fcinfo, &all);
	n = list_length(all);
	views = view_graph(all, listed, PG_ARGISNULL(0));
	order = refresh_order(views, n);
	plan_refreshes(views, order, n, concurrently);

	/* Only this last step differs between a dry run and a real one. */
	dbopt_init_materialized_srf(fcinfo);
	for (int i = 0; i < n; i++)
	{
		MatView    *v = &views[order[i]];

		CHECK_FOR_INTERRUPTS();
		if (!v->wanted)
			continue;
		if (v->refresh && dry_run)
		{
			v->status = "dry_run";
			/* What the plan cannot know. */
			v->detail = psprintf("%s%sskipped if its lock is not granted within dbopt.lock_timeout; an error in its query, or in an input's refresh, leaves it (and what reads it) not refreshed",
								 v->detail ? v->detail : "", v->detail ? "; " : "");
		}
		else if (v->refresh)
			refresh_view(views, v);
		if (!dry_run)
			record_refresh(v);
		if (strcmp(v->status, "ok") == 0 || strcmp(v->status, "dry_run") == 0)
			nok++;
		else if (strcmp(v->status, "error") == 0)
			nerr++;
		else
			nskip++;
		put_row(rsinfo, v);
	}
	ereport(NOTICE,
			(errmsg("refresh_materialized_views%s: %d %s, %d failed, %d skipped",
					dry_run ? " dry run" : "", nok, dry_run ? "would refresh" : "refreshed", nerr, nskip)));
	return (Datum) 0;
}
