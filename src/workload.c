/*-------------------------------------------------------------------------
 *
 * workload.c
 *	  The statements of pg_stat_statements, loaded once and planned in the
 *	  server (see workload.h).
 *
 * Each statement is parsed as pg_stat_statements stored it, with $n in
 * place of constants: typed literals it kept as "interval $3" are first
 * written "$3::interval", a PREPARE's declared types are used, the other
 * parameter types are inferred as an extended-protocol Parse infers them.
 * It is then planned as a generic plan, as the role that ran it,
 * restricted, and kept only if the caller may read what it reads.  Its
 * analyzed tree is kept, so planning it again (with a hypothetical index,
 * or with an index hidden) does not parse it again.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include <ctype.h>

#include "access/genam.h"
#include "access/htup_details.h"
#include "access/table.h"
#include "catalog/indexing.h"
#include "catalog/pg_db_role_setting.h"
#include "catalog/pg_type.h"
#include "commands/prepare.h"
#include "executor/spi.h"
#include "miscadmin.h"
#include "nodes/plannodes.h"
#include "optimizer/optimizer.h"
#include "parser/parse_type.h"
#include "tcop/tcopprot.h"
#include "tcop/utility.h"
#include "utils/acl.h"
#include "utils/array.h"
#include "utils/fmgroids.h"
#include "utils/rel.h"
#include "utils/builtins.h"
#include "utils/guc.h"
#include "utils/lsyscache.h"
#include "utils/memutils.h"
#include "utils/plancache.h"

#include "dbopt/compat.h"
#include "dbopt/isolate.h"
#include "dbopt/privs.h"
#include "dbopt/util.h"
#include "dbopt/workload.h"

/* Statements read from pg_stat_statements, at most. */

/*
 * Type names that a typed literal may start with.  pg_stat_statements
 * replaces the literal of "interval '1 month'" by a parameter and keeps the
 * type name: "interval $3", which does not parse.  Longest spellings first.
 */
/* bsearch() over a sorted List of OIDs: the key is an Oid, the element a ListCell. */
static char *role_search_path(Oid role, MemoryContext cxt);

static int
oid_cell_cmp(const void *key, const void *cell)
{
	Oid			a = *(const Oid *) key;
	Oid			b = ((const ListCell *) cell)->oid_value;

	return (a > b) - (a < b);
}

static const char *const literal_types[] = {
	"timestamp with time zone", "timestamp without time zone",
	"time with time zone", "time without time zone", "double precision",
	"character varying", "timestamptz", "timestamp", "interval", "timetz",
	"date", "time", "numeric", "decimal", "smallint", "integer", "bigint",
	"int2", "int4", "int8", "int", "float4", "float8", "real", "boolean", "bool",
	"text", "varchar", "char", "bpchar", "jsonb", "json", "uuid", "inet", "cidr",
	"macaddr", "bytea", "money", "oid", NULL
};

/*
 * The statement with every "<type> $n" written "$n::<type>", outside
 * quoted strings, quoted identifiers and comments, so that normalized typed
 * literals plan with their type.  A name is matched only as a whole word.
 */
static char *
typed_params_to_casts(const char *q)
{
	StringInfoData out;
	const char *c = q;

	initStringInfo(&out);
	while (*c)
	{
		int			t;
		bool		done = false;

		if (*c == '\'' || *c == '"')
		{
			char		quote = *c;

			appendStringInfoChar(&out, *c++);
			while (*c && *c != quote)
				appendStringInfoChar(&out, *c++);
			if (*c)
				appendStringInfoChar(&out, *c++);
			continue;
		}
		if (c[0] == '-' && c[1] == '-')
		{
			while (*c && *c != '\n')
				appendStringInfoChar(&out, *c++);
			continue;
		}
		if (c[0] == '/' && c[1] == '*')
		{
			const char *end = strstr(c + 2, "*/");
			int			len = end ? (int) (end + 2 - c) : (int) strlen(c);

			appendBinaryStringInfo(&out, c, len);
			c += len;
			continue;
		}
		/* A word start: not after a name character, a dot or a dollar. */
		if (isalpha((unsigned char) *c) &&
			(c == q || !(isalnum((unsigned char) c[-1]) || c[-1] == '_' || c[-1] == '.' || c[-1] == '$')))
		{
			for (t = 0; literal_types[t] != NULL && !done; t++)
			{
				size_t		len = strlen(literal_types[t]);
				const char *p = c + len;
				const char *num;

				if (pg_strncasecmp(c, literal_types[t], len) != 0 ||
					isalnum((unsigned char) *p) || *p == '_')
					continue;
				while (*p == ' ' || *p == '\t' || *p == '\n' || *p == '\r')
					p++;
				if (p == c + len || *p != '$' || !isdigit((unsigned char) p[1]))
					continue;
				num = ++p;
				while (isdigit((unsigned char) *p))
					p++;
				if (isalnum((unsigned char) *p) || *p == '_')
					continue;
				appendStringInfo(&out, "$%.*s::%s", (int) (p - num), num, literal_types[t]);
				c = p;
				done = true;
			}
			if (done)
				continue;
			/* Copy the whole word, so no type name is matched inside it. */
			while (isalnum((unsigned char) *c) || *c == '_')
				appendStringInfoChar(&out, *c++);
			continue;
		}
		appendStringInfoChar(&out, *c++);
	}
	return out.data;
}

DboptWorkload *
dbopt_workload_read(int64 min_calls, double min_mean_ms)
{
	DboptWorkload *w = palloc0(sizeof(DboptWorkload));
	Oid			pgss_nsp = dbopt_extension_schema("pg_stat_statements");
	Oid			types[3] = {INT8OID, FLOAT8OID, OIDOID};
	Datum		values[3];
	MemoryContext old;
	int			pin;

	w->cxt = AllocSetContextCreate(CurrentMemoryContext, "dbopt workload", ALLOCSET_DEFAULT_SIZES);
	w->available = OidIsValid(pgss_nsp) && dbopt_library_preloaded("pg_stat_statements");
	w->stmts = MemoryContextAllocZero(w->cxt, sizeof(DboptStatement));
	if (!w->available)
		return w;

	/* The statements of this database, busiest first, summed over users. */
	values[0] = Int64GetDatum(min_calls);
	values[1] = Float8GetDatum(min_mean_ms);
	values[2] = ObjectIdGetDatum(MyDatabaseId);
	pin = dbopt_pin_search_path();
	SPI_connect();
	if (SPI_execute_with_args(psprintf("SELECT queryid, min(query), sum(calls)::bigint,"
									   " (pg_catalog.array_agg(userid ORDER BY calls DESC))[1]"
									   "  FROM %s.pg_stat_statements(true)"
									   " WHERE dbid OPERATOR(pg_catalog.=) $3 AND queryid IS NOT NULL"
									   " GROUP BY queryid"
									   " HAVING sum(calls) OPERATOR(pg_catalog.>=) $1"
									   "    AND sum(total_exec_time) OPERATOR(pg_catalog./) nullif(sum(calls), 0) OPERATOR(pg_catalog.>=) $2"
									   " ORDER BY sum(total_exec_time) DESC LIMIT " CppAsString2(DBOPT_WORKLOAD_MAX_STATEMENTS),
									   quote_identifier(get_namespace_name(pgss_nsp))),
							  3, types, values, NULL, true, 0) != SPI_OK_SELECT)
		elog(ERROR, "could not read pg_stat_statements");
	old = MemoryContextSwitchTo(w->cxt);
	w->nstmts = (int) SPI_processed;
	w->stmts = palloc0(sizeof(DboptStatement) * Max(w->nstmts, 1));
	for (int i = 0; i < w->nstmts; i++)
	{
		DboptStatement *s = &w->stmts[i];
		bool		isnull;

		s->queryid = DatumGetInt64(SPI_getbinval(SPI_tuptable->vals[i], SPI_tuptable->tupdesc, 1, &isnull));
		s->query = SPI_getvalue(SPI_tuptable->vals[i], SPI_tuptable->tupdesc, 2);
		s->calls = DatumGetInt64(SPI_getbinval(SPI_tuptable->vals[i], SPI_tuptable->tupdesc, 3, &isnull));
		s->userid = DatumGetObjectId(SPI_getbinval(SPI_tuptable->vals[i], SPI_tuptable->tupdesc, 4, &isnull));

		/*
		 * Planning folds functions the text names, so it runs as the role
		 * that ran the statement, restricted, with that role's own
		 * search_path: neither the caller nor anyone else chooses what the
		 * names resolve to, and no role's code runs with another's rights.
		 */
		s->search_path = role_search_path(s->userid, w->cxt);
	}
	MemoryContextSwitchTo(old);
	/* SPI_finish() returns to the caller's context; old was SPI's own */
	SPI_finish();
	AtEOXact_GUC(true, pin);
	return w;
}

/* ---------- the statement's role ---------- */

/* search_path from one pg_db_role_setting row, or NULL. */
static char *
setting_search_path(Relation rel, Oid db, Oid role)
{
	ScanKeyData keys[2];
	SysScanDesc scan;
	HeapTuple	tup;
	char	   *result = NULL;

	ScanKeyInit(&keys[0], Anum_pg_db_role_setting_setdatabase, BTEqualStrategyNumber,
				F_OIDEQ, ObjectIdGetDatum(db));
	ScanKeyInit(&keys[1], Anum_pg_db_role_setting_setrole, BTEqualStrategyNumber,
				F_OIDEQ, ObjectIdGetDatum(role));
	scan = systable_beginscan(rel, DbRoleSettingDatidRolidIndexId, true, NULL, 2, keys);
	if (HeapTupleIsValid(tup = systable_getnext(scan)))
	{
		bool		isnull;
		Datum		d = heap_getattr(tup, Anum_pg_db_role_setting_setconfig,
									 RelationGetDescr(rel), &isnull);
		Datum	   *elems;
		int			n;

		if (!isnull)
		{
			deconstruct_array(DatumGetArrayTypeP(d), TEXTOID, -1, false, TYPALIGN_INT,
							  &elems, NULL, &n);
			for (int i = 0; i < n && result == NULL; i++)
			{
				char	   *item = TextDatumGetCString(elems[i]);

				if (strncmp(item, "search_path=", 12) == 0)
					result = pstrdup(item + 12);
			}
		}
	}
	systable_endscan(scan);
	return result;
}

/*
 * The search_path a role's sessions in this database start with: ALTER
 * ROLE ... IN DATABASE, ALTER ROLE, ALTER DATABASE, else PostgreSQL's
 * default.  Never the caller's setting, which the caller chooses.
 */
static char *
role_search_path(Oid role, MemoryContext cxt)
{
	Relation	rel = table_open(DbRoleSettingRelationId, AccessShareLock);
	char	   *path = setting_search_path(rel, MyDatabaseId, role);

	if (path == NULL)
		path = setting_search_path(rel, InvalidOid, role);
	if (path == NULL)
		path = setting_search_path(rel, MyDatabaseId, InvalidOid);
	table_close(rel, AccessShareLock);
	return MemoryContextStrdup(cxt, path ? path : "\"$user\", public");
}

void
dbopt_workload_use_path(const DboptStatement *s)
{
	if (s->search_path == NULL)
		return;					/* the caller's, who may act as the role */
	dbopt_set_local_guc("search_path", s->search_path);
}

/* ---------- the plan walk: which indexes a plan scans ---------- */

static void
plan_indexes_walk(Plan *plan, List **out)
{
	ListCell   *lc;
	List	   *children = NIL;

	if (plan == NULL)
		return;
	check_stack_depth();
	switch (nodeTag(plan))
	{
		case T_IndexScan:
			*out = list_append_unique_oid(*out, ((IndexScan *) plan)->indexid);
			break;
		case T_IndexOnlyScan:
			*out = list_append_unique_oid(*out, ((IndexOnlyScan *) plan)->indexid);
			break;
		case T_BitmapIndexScan:
			*out = list_append_unique_oid(*out, ((BitmapIndexScan *) plan)->indexid);
			break;
		case T_Append:
			children = ((Append *) plan)->appendplans;
			break;
		case T_MergeAppend:
			children = ((MergeAppend *) plan)->mergeplans;
			break;
		case T_BitmapAnd:
			children = ((BitmapAnd *) plan)->bitmapplans;
			break;
		case T_BitmapOr:
			children = ((BitmapOr *) plan)->bitmapplans;
			break;
		case T_SubqueryScan:
			plan_indexes_walk(((SubqueryScan *) plan)->subplan, out);
			break;
		case T_CustomScan:
			children = ((CustomScan *) plan)->custom_plans;
			break;
		default:
			break;
	}
	foreach(lc, children)
		plan_indexes_walk(lfirst(lc), out);
	plan_indexes_walk(outerPlan(plan), out);
	plan_indexes_walk(innerPlan(plan), out);
}

List *
dbopt_plan_indexes(PlannedStmt *ps)
{
	List	   *out = NIL;
	ListCell   *lc;

	plan_indexes_walk(ps->planTree, &out);
	/* subqueries: the init plans and the correlated ones alike */
	foreach(lc, ps->subplans)
		plan_indexes_walk(lfirst(lc), &out);
	list_sort(out, list_oid_cmp);
	return out;
}

/* ---------- planning ---------- */

typedef struct PlanUnit
{
	DboptWorkload *w;
	int			stmt;
	DboptPlanCallback cb;
	void	   *arg;
	MemoryContext plancxt;		/* where the plan is made */
	Oid			caller;			/* whose privileges decide what is kept */
} PlanUnit;

/* Parse, infer parameter types, plan generically, check.  Runs isolated. */
static void
plan_unit(void *arg)
{
	PlanUnit   *p = arg;
	DboptStatement *s = &p->w->stmts[p->stmt];
	MemoryContext outer;
	char	   *text;
	List	   *raw;
	RawStmt    *rs;
	Oid		   *types = NULL;
	int			ntypes = 0;
	List	   *trees;
	PlannedStmt *ps;
	bool		denied;

	dbopt_workload_use_path(s);
	outer = MemoryContextSwitchTo(p->w->cxt);
	text = typed_params_to_casts(s->query);
	raw = pg_parse_query(text);

	if (list_length(raw) != 1)
	{
		s->status = DBOPT_STMT_UTILITY;
		MemoryContextSwitchTo(outer);
		return;
	}
	rs = linitial(raw);
	/* PREPARE name (types) AS statement: what EXECUTE runs, with its declared types */
	if (IsA(rs->stmt, PrepareStmt))
	{
		PrepareStmt *prep = (PrepareStmt *) rs->stmt;
		ListCell   *lc;
		RawStmt    *inner = makeNode(RawStmt);

		ntypes = list_length(prep->argtypes);
		types = palloc0(sizeof(Oid) * Max(ntypes, 1));
		foreach(lc, prep->argtypes)
			types[foreach_current_index(lc)] = typenameTypeId(NULL, lfirst(lc));
		inner->stmt = prep->query;
		inner->stmt_location = rs->stmt_location;
		inner->stmt_len = rs->stmt_len;
		rs = inner;
	}
	if (!IsA(rs->stmt, SelectStmt) && !IsA(rs->stmt, InsertStmt) &&
		!IsA(rs->stmt, UpdateStmt) && !IsA(rs->stmt, DeleteStmt))
	{
		s->status = DBOPT_STMT_UTILITY;
		MemoryContextSwitchTo(outer);
		return;
	}
	trees = dbopt_analyze_varparams(rs, text, &types, &ntypes);
	if (list_length(trees) != 1 || ((Query *) linitial(trees))->commandType == CMD_UTILITY)
	{
		s->status = DBOPT_STMT_UTILITY;
		MemoryContextSwitchTo(outer);
		return;
	}
	if (p->w->only_rels != NIL)
	{
		List	   *rels = NIL,
				   *inval = NIL;
		bool		rls;
		ListCell   *lc;
		bool		named = false;

		extract_query_dependencies(linitial(trees), &rels, &inval, &rls);
		foreach(lc, rels)
		{
			Oid			key = lfirst_oid(lc);

			named = named || bsearch(&key, p->w->only_rels->elements, list_length(p->w->only_rels),
									 sizeof(ListCell), oid_cell_cmp) != NULL;
		}
		if (!named)
		{
			s->status = DBOPT_STMT_UNRELATED;
			MemoryContextSwitchTo(outer);
			return;
		}
	}
	MemoryContextSwitchTo(p->plancxt);
	ps = pg_plan_query(copyObject(linitial(trees)), text, CURSOR_OPT_PARALLEL_OK, NULL);
	/* Only statements the caller could run: the plan shows their tables. */
	{
		DboptIdentity as_caller;

		dbopt_become_keep_path(p->caller, &as_caller);
		denied = !dbopt_rt_permissions_ok(ps);
		dbopt_restore_identity(&as_caller);
	}
	/* the relations even when denied: a report on one table counts what it skipped */
	MemoryContextSwitchTo(p->w->cxt);
	s->relids = list_copy(ps->relationOids);
	list_sort(s->relids, list_oid_cmp);
	list_deduplicate_oid(s->relids);
	if (denied)
	{
		s->status = DBOPT_STMT_DENIED;
		MemoryContextSwitchTo(outer);
		return;
	}
	s->querytrees = trees;
	s->parsed = text;
	s->raw = rs;
	s->types = types;
	s->ntypes = ntypes;
	s->cost = ps->planTree->total_cost;
	s->indexes = dbopt_plan_indexes(ps);
	MemoryContextSwitchTo(outer);
	if (p->cb)
		p->cb(p->w, p->stmt, ps, p->arg);
	s->status = DBOPT_STMT_PLANNED;
}

void
dbopt_workload_plan(DboptWorkload *w, DboptPlanCallback cb, void *arg)
{
	MemoryContext tmp = AllocSetContextCreate(w->cxt, "dbopt workload plan", ALLOCSET_DEFAULT_SIZES);

	for (int i = 0; i < w->nstmts; i++)
	{
		DboptStatement *s = &w->stmts[i];
		PlanUnit	p = {w, i, cb, arg, cb ? CurrentMemoryContext : tmp, GetUserId()};
		DboptUnitError err;

		CHECK_FOR_INTERRUPTS();
		if (s->query == NULL || GetUserNameFromId(s->userid, true) == NULL)
			s->status = DBOPT_STMT_ERROR;
		else
		{
			/*
			 * As the statement's role, restricted.  A caller with that role's
			 * privileges could run it as that role anyway: its own
			 * search_path is tried first (a DBA's SET search_path before
			 * suggest_indexes()), then the role's.  Anyone else gets only
			 * the role's, which the caller does not choose.
			 */
			char	   *own_path = s->search_path;
			bool		trusted = has_privs_of_role(GetUserId(), s->userid);

			bool		ok;

			s->search_path = trusted ? NULL : own_path;
			ok = dbopt_run_unit(plan_unit, &p, s->userid, DBOPT_UNIT_CALLER_SEARCH_PATH, 0, &err);
			if (!ok && trusted)
			{
				s->search_path = own_path;
				s->status = DBOPT_STMT_UNPLANNED;
				ok = dbopt_run_unit(plan_unit, &p, s->userid, DBOPT_UNIT_CALLER_SEARCH_PATH, 0, &err);
			}
			if (!ok)
				s->status = DBOPT_STMT_ERROR;
		}
		if (s->status == DBOPT_STMT_ERROR)
			w->skipped_error++;
		else if (s->status == DBOPT_STMT_UTILITY)
			w->skipped_utility++;
		else if (s->status == DBOPT_STMT_DENIED)
			w->skipped_privilege++;
		MemoryContextReset(tmp);
	}
	MemoryContextDelete(tmp);
}

typedef struct OidStmts
{
	Oid			oid;			/* hash key */
	List	   *stmts;
} OidStmts;

static void
map_add(HTAB *h, Oid oid, int stmt)
{
	bool		found;
	OidStmts   *e = hash_search(h, &oid, HASH_ENTER, &found);

	if (!found)
		e->stmts = NIL;
	e->stmts = lappend_int(e->stmts, stmt);
}

DboptWorkload *
dbopt_workload_load(int64 min_calls)
{
	return dbopt_workload_load_for(min_calls, NIL);
}

DboptWorkload *
dbopt_workload_load_for(int64 min_calls, List *rels)
{
	DboptWorkload *w = dbopt_workload_read(min_calls, 0);
	HASHCTL		ctl;
	MemoryContext old;

	/* sorted and unique, so each statement's relations are looked up by bisection */
	if (rels != NIL)
	{
		old = MemoryContextSwitchTo(w->cxt);
		rels = list_copy(rels);
		list_sort(rels, list_oid_cmp);
		list_deduplicate_oid(rels);
		MemoryContextSwitchTo(old);
	}
	w->only_rels = rels;
	dbopt_workload_plan(w, NULL, NULL);
	memset(&ctl, 0, sizeof(ctl));
	ctl.keysize = sizeof(Oid);
	ctl.entrysize = sizeof(OidStmts);
	ctl.hcxt = w->cxt;
	w->by_index = hash_create("dbopt workload indexes", 256, &ctl, HASH_ELEM | HASH_BLOBS | HASH_CONTEXT);
	w->by_rel = hash_create("dbopt workload relations", 256, &ctl, HASH_ELEM | HASH_BLOBS | HASH_CONTEXT);
	old = MemoryContextSwitchTo(w->cxt);
	for (int i = 0; i < w->nstmts; i++)
	{
		ListCell   *lc;

		CHECK_FOR_INTERRUPTS();

		if (w->stmts[i].status != DBOPT_STMT_PLANNED)
			continue;
		foreach(lc, w->stmts[i].indexes)
			map_add(w->by_index, lfirst_oid(lc), i);
		foreach(lc, w->stmts[i].relids)
			map_add(w->by_rel, lfirst_oid(lc), i);
	}
	MemoryContextSwitchTo(old);
	return w;
}

static List *
map_get(HTAB *h, Oid oid)
{
	OidStmts   *e = h ? hash_search(h, &oid, HASH_FIND, NULL) : NULL;

	return e ? e->stmts : NIL;
}

List *
dbopt_workload_by_index(DboptWorkload *w, Oid indexrelid)
{
	return map_get(w->by_index, indexrelid);
}

List *
dbopt_workload_by_rel(DboptWorkload *w, Oid relid)
{
	return map_get(w->by_rel, relid);
}

PlannedStmt *
dbopt_statement_replan(DboptStatement *s)
{
	Assert(s->status == DBOPT_STMT_PLANNED);
	return pg_plan_query(copyObject(linitial(s->querytrees)), s->parsed, CURSOR_OPT_PARALLEL_OK, NULL);
}

/*
 * The generic plan's cost as EXPLAIN EXECUTE sees it.  HypoPG shows its
 * hypothetical indexes to the planner only inside a plain EXPLAIN, so the
 * statement is stored as a prepared statement (the way PREPARE does) and
 * explained with NULL parameters under plan_cache_mode =
 * force_generic_plan, which makes the values irrelevant to the plan.  It
 * is made afresh each time: creating a hypothetical index invalidates no
 * cached plan, and it is a session object, so it never outlives the call.
 */
double
dbopt_statement_explain_cost(DboptStatement *s)
{
	const char *name = "dbopt_advise";
	CachedPlanSource *src = CreateCachedPlan(s->raw, s->parsed, CreateCommandTag(s->raw->stmt));
	StringInfoData sql;
	double		cost = 0;

	CompleteCachedPlan(src, copyObject(s->querytrees), NULL, s->types, s->ntypes,
					   NULL, NULL, CURSOR_OPT_PARALLEL_OK, true);
	StorePreparedStatement(name, src, false);
	PG_TRY();
	{
		char	   *json,
				   *at;
		int			nest;
		DboptIdentity as_user;

		initStringInfo(&sql);
		appendStringInfo(&sql, "EXPLAIN (FORMAT JSON) EXECUTE %s", name);
		for (int i = 0; i < s->ntypes; i++)
			appendStringInfoString(&sql, i == 0 ? "(NULL" : ", NULL");
		if (s->ntypes > 0)
			appendStringInfoChar(&sql, ')');
		/* Planning folds the statement's functions: as its role, restricted. */
		dbopt_become_keep_path(s->userid, &as_user);
		nest = NewGUCNestLevel();
		dbopt_workload_use_path(s);
		dbopt_set_local_guc("plan_cache_mode", "force_generic_plan");
		/* our EXPLAINs must not crowd the users' statements out of pg_stat_statements */
		if (GetConfigOption("pg_stat_statements.track_utility", true, false) != NULL)
			dbopt_set_local_guc("pg_stat_statements.track_utility", "off");
		if (SPI_execute(sql.data, false, 0) != SPI_OK_UTILITY || SPI_processed < 1)
			elog(ERROR, "could not explain %s", name);
		AtEOXact_GUC(true, nest);
		dbopt_restore_identity(&as_user);
		json = SPI_getvalue(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1);
		/* the first "Total Cost" is the top plan node's */
		at = json ? strstr(json, "\"Total Cost\": ") : NULL;
		if (at == NULL)
			elog(ERROR, "EXPLAIN gave no cost for %s", name);
		cost = strtod(at + strlen("\"Total Cost\": "), NULL);
	}
	PG_FINALLY();
	{
		DropPreparedStatement(name, false);
	}
	PG_END_TRY();
	return cost;
}

