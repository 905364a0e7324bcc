/*-------------------------------------------------------------------------
 *
 * index_advisor.c
 *	  suggest_indexes(): btree indexes that the planner says would make
 *	  the statements in pg_stat_statements cheaper.
 *
 * Each statement that passes the thresholds is parsed with its $n
 * parameters, their types inferred, and planned as a generic plan, here in
 * the server.  The plan is walked for the columns that sequential scans
 * filter, join or sort on, and that index scans filter after the index;
 * those give single-column candidates and two-column ones (equality first,
 * then a range or sort column).  With HypoPG installed, each candidate is
 * created as a hypothetical index and the statements that gave it are
 * planned again: the calls-weighted cost before and after is the evidence.
 * Without it, a selectivity estimate from pg_stats stands in, and says so.
 * A candidate is kept only if it is the cheapest for at least one
 * statement, so (a) and (a, b) are not both suggested for the same query.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include <ctype.h>

#include <math.h>

#include "access/htup_details.h"
#include "access/relation.h"
#include "catalog/partition.h"
#include "catalog/pg_inherits.h"
#include "catalog/pg_am.h"
#include "catalog/pg_index.h"
#include "catalog/pg_statistic.h"
#include "catalog/pg_type.h"
#include "commands/defrem.h"
#include "commands/prepare.h"
#include "executor/executor.h"
#include "executor/spi.h"
#include "fmgr.h"
#include "funcapi.h"
#include "miscadmin.h"
#include "nodes/nodeFuncs.h"
#include "nodes/plannodes.h"
#include "optimizer/optimizer.h"
#include "parser/parse_type.h"
#include "parser/parsetree.h"
#include "tcop/tcopprot.h"
#include "tcop/utility.h"
#include "utils/guc.h"
#include "utils/plancache.h"
#include "utils/acl.h"
#include "utils/builtins.h"
#include "utils/hsearch.h"
#include "utils/lsyscache.h"
#include "utils/memutils.h"
#include "utils/rel.h"
#include "utils/syscache.h"
#include "utils/tuplestore.h"

#include "dbopt/compat.h"
#include "dbopt/isolate.h"
#include "dbopt/util.h"
#include "dbopt/workload.h"

/* Tables smaller than this many pages get no suggestion. */
#define MIN_TABLE_PAGES 128
#define MAX_COLS 2

typedef struct Statement
{
	DboptStatement *ws;			/* the workload's: its text, role and parsed tree */
	int64		queryid;
	int64		calls;
	bool		explained;		/* cost below is EXPLAIN EXECUTE's (with hypopg) */
	double		cost;			/* generic plan's total cost, no new index */
	double		best_cost;		/* lowest cost any candidate gave */
	int			best;			/* that candidate, or -1 */
} Statement;

typedef struct CandKey
{
	Oid			relid;
	int16		ncols;
	AttrNumber	cols[MAX_COLS];
} CandKey;

typedef struct Candidate
{
	CandKey		key;			/* hash key: first */
	int			id;
	bool		eq[MAX_COLS];	/* compared by equality (else range or sort) */
	List	   *stmts;			/* int list: indexes into the statements */
	double		before;
	double		after;
	int64		bytes;
	bool		evaluated;
} Candidate;

/* Columns one statement uses on one relation. */
typedef struct RelUse
{
	Oid			relid;
	List	   *eq;				/* int lists of attnums */
	List	   *range;
	List	   *order;
} RelUse;

typedef struct Advisor
{
	Statement  *stmts;
	int			nstmts;
	HTAB	   *cands;
	List	   *cand_list;		/* Candidate *, in creation order */
	List	   *uses;			/* RelUse * of the statement being walked */
	PlannedStmt *pstmt;
	bool		hypopg;
	char	   *hypopg_schema;
	int			skipped_error;
	int			skipped_utility;
	int			skipped_privilege;
} Advisor;

/* ---------- the plan walk ---------- */

static RelUse *
rel_use(Advisor *a, Oid relid)
{
	ListCell   *lc;
	RelUse	   *u;

	foreach(lc, a->uses)
	{
		u = lfirst(lc);
		if (u->relid == relid)
			return u;
	}
	u = palloc0(sizeof(RelUse));
	u->relid = relid;
	a->uses = lappend(a->uses, u);
	return u;
}

/*
 * Record a column use.  A partition's column counts for its root
 * partitioned table (matched by name: partitions may number columns
 * differently), so that small partitions of a big table are judged, and
 * indexed, together.  kind: 1 equality, 0 range, 2 sort.
 */
static void
note_col(Advisor *a, Oid relid, AttrNumber attno, int kind)
{
	RelUse	   *u;

	if (get_rel_relispartition(relid))
	{
		Oid			root = llast_oid(get_partition_ancestors(relid));
		char	   *name = get_attname(relid, attno, true);
		AttrNumber	rattno = name ? get_attnum(root, name) : InvalidAttrNumber;

		if (rattno <= 0)
			return;
		relid = root;
		attno = rattno;
	}
	u = rel_use(a, relid);
	if (kind == 1)
		u->eq = list_append_unique_int(u->eq, attno);
	else if (kind == 0)
		u->range = list_append_unique_int(u->range, attno);
	else
		u->order = list_append_unique_int(u->order, attno);
}

/*
 * The table and column a Var stands for, following OUTER_VAR and
 * INNER_VAR down through the children's target lists to a scan.  Only a
 * plain table scanned by a sequential scan or an index scan counts.
 */
static bool
resolve_var(Advisor *a, Plan *plan, Var *var, Oid *relid, AttrNumber *attno)
{
	for (int depth = 0; depth < 32 && plan != NULL; depth++)
	{
		Plan	   *child;
		TargetEntry *tle;

		if (var->varattno <= 0)
			return false;
		if (var->varno == OUTER_VAR || var->varno == INNER_VAR)
		{
			child = (var->varno == OUTER_VAR) ? outerPlan(plan) : innerPlan(plan);
			if (child == NULL || var->varattno > list_length(child->targetlist))
				return false;
			tle = list_nth(child->targetlist, var->varattno - 1);
			if (!IsA(tle->expr, Var))
				return false;
			var = (Var *) tle->expr;
			plan = child;
			continue;
		}
		if (IsA(plan, SeqScan) || IsA(plan, IndexScan) || IsA(plan, BitmapHeapScan))
		{
			RangeTblEntry *rte;

			if (var->varno != ((Scan *) plan)->scanrelid)
				return false;
			rte = rt_fetch(var->varno, a->pstmt->rtable);
			if (rte->rtekind != RTE_RELATION || rte->relkind != RELKIND_RELATION)
				return false;
			*relid = rte->relid;
			*attno = var->varattno;
			return true;
		}
		/* Hash, Sort, Material and the like pass their child's columns through. */
		if (outerPlan(plan) == NULL || innerPlan(plan) != NULL)
			return false;
		if (var->varno != OUTER_VAR)
		{
			/* a scan-level Var above a non-scan: not one we can follow */
			return false;
		}
	}
	return false;
}

static Var *
strip_var(Node *n)
{
	while (n && IsA(n, RelabelType))
		n = (Node *) ((RelabelType *) n)->arg;
	return (n && IsA(n, Var)) ? (Var *) n : NULL;
}

/* Equality (true) or range (false) by the operator's btree strategy; -1 neither. */
static int
op_kind(Oid opno)
{
	List	   *interp = get_op_btree_interpretation(opno);
	ListCell   *lc;
	int			kind = -1;

	foreach(lc, interp)
	{
		OpBtreeInterpretation *o = lfirst(lc);

		if (o->strategy == BTEqualStrategyNumber)
			return 1;
		if (o->strategy != 0)
			kind = 0;
	}
	return kind;
}

/*
 * A clause "a op b", or "a op ANY (array)" by equality, that a btree can
 * use: its two arguments and op_kind(); false for any other clause.
 */
static bool
btree_clause(Node *clause, List **args, int *kind)
{
	Oid			opno;

	if (IsA(clause, OpExpr))
	{
		opno = ((OpExpr *) clause)->opno;
		*args = ((OpExpr *) clause)->args;
	}
	else if (IsA(clause, ScalarArrayOpExpr) && ((ScalarArrayOpExpr *) clause)->useOr)
	{
		opno = ((ScalarArrayOpExpr *) clause)->opno;
		*args = ((ScalarArrayOpExpr *) clause)->args;
	}
	else
		return false;
	if (list_length(*args) != 2 || (*kind = op_kind(opno)) < 0)
		return false;
	return !IsA(clause, ScalarArrayOpExpr) || *kind == 1;
}

/*
 * One qual clause: "column op something" where the something does not
 * depend on the same relation adds the column as equality or range.
 */
static void
note_clause(Advisor *a, Plan *plan, Node *clause, bool join)
{
	List	   *args;
	int			kind;

	if (!btree_clause(clause, &args, &kind))
		return;
	for (int side = 0; side < 2; side++)
	{
		Var		   *v = strip_var(list_nth(args, side));
		Node	   *other = list_nth(args, 1 - side);
		Oid			relid;
		AttrNumber	attno;

		if (v == NULL || !resolve_var(a, plan, v, &relid, &attno))
			continue;
		/* in a scan's own qual, the other side must not read the same row */
		if (!join && contain_var_clause(other))
			continue;
		note_col(a, relid, attno, kind);
	}
}

/*
 * An index scan's conditions, in index-column form (indexqual: the index
 * column on the left, as a Var of INDEX_VAR numbered by index column).
 * A btree descends only by a prefix of its columns: equality on each but
 * the last, any condition on the last.  A condition on a later column,
 * such as b = $1 on an index (a, b) with nothing on a, is checked against
 * every entry of the range read, like a filter.  Then all of the scan's
 * conditions are noted, so that an index leading with them is a candidate
 * (the "already covered" check drops those an index leads with).
 */
static void
note_index_quals(Advisor *a, Index scanrelid, Oid indexid, List *indexqual)
{
	RangeTblEntry *rte;
	HeapTuple	tup;
	Form_pg_index ix;
	int			nkeys;
	int		   *kinds;
	int		   *cols;
	int			n = 0,
				prefix = 0;
	bool		beyond = false;
	ListCell   *lc;

	if (indexqual == NIL || scanrelid == 0 || scanrelid > list_length(a->pstmt->rtable))
		return;
	rte = rt_fetch(scanrelid, a->pstmt->rtable);
	if (rte->rtekind != RTE_RELATION || rte->relkind != RELKIND_RELATION)
		return;
	/* other access methods have no leading columns to descend by */
	if (dbopt_relation_am(indexid) != BTREE_AM_OID)
		return;
	tup = SearchSysCache1(INDEXRELID, ObjectIdGetDatum(indexid));
	if (!HeapTupleIsValid(tup))
		return;
	ix = (Form_pg_index) GETSTRUCT(tup);
	nkeys = ix->indnkeyatts;
	kinds = palloc(sizeof(int) * list_length(indexqual));
	cols = palloc(sizeof(int) * list_length(indexqual));
	foreach(lc, indexqual)
	{
		List	   *args;
		int			kind;
		Var		   *v;

		if (!btree_clause(lfirst(lc), &args, &kind))
			continue;
		v = strip_var(linitial(args));
		if (v == NULL || v->varno != INDEX_VAR || v->varattno < 1 || v->varattno > nkeys)
			continue;
		kinds[n] = kind;
		cols[n++] = v->varattno;
	}
	/* the prefix the scan descends by */
	for (int col = 1; col <= nkeys; col++)
	{
		bool		any = false,
					eq = false;

		for (int i = 0; i < n; i++)
			if (cols[i] == col)
			{
				any = true;
				eq |= (kinds[i] == 1);
			}
		if (!any)
			break;
		prefix = col;
		if (!eq)
			break;
	}
	for (int i = 0; i < n; i++)
		beyond |= (cols[i] > prefix);
	for (int i = 0; beyond && i < n; i++)
	{
		AttrNumber	attno = ix->indkey.values[cols[i] - 1];

		if (attno > 0)
			note_col(a, rte->relid, attno, kinds[i]);
	}
	ReleaseSysCache(tup);
}

static void
note_quals(Advisor *a, Plan *plan, List *quals, bool join)
{
	ListCell   *lc;

	foreach(lc, quals)
		note_clause(a, plan, lfirst(lc), join);
}

/* Does this subtree end in a sequential scan, through pass-through nodes? */
static bool
over_seqscan(Plan *plan)
{
	while (plan && !IsA(plan, SeqScan) && outerPlan(plan) && !innerPlan(plan))
		plan = outerPlan(plan);
	return plan && IsA(plan, SeqScan);
}

static void
walk_plan(Advisor *a, Plan *plan)
{
	ListCell   *lc;

	if (plan == NULL)
		return;
	CHECK_FOR_INTERRUPTS();
	switch (nodeTag(plan))
	{
		case T_SeqScan:
			note_quals(a, plan, plan->qual, false);
			break;
		case T_IndexScan:
		case T_BitmapHeapScan:
			/* rows the index returned and the filter then threw away */
			note_quals(a, plan, plan->qual, false);
			if (plan->qual != NIL)
				note_quals(a, plan, IsA(plan, IndexScan) ? ((IndexScan *) plan)->indexqualorig
						   : ((BitmapHeapScan *) plan)->bitmapqualorig, false);
			if (IsA(plan, IndexScan))
				note_index_quals(a, ((Scan *) plan)->scanrelid, ((IndexScan *) plan)->indexid,
								 ((IndexScan *) plan)->indexqual);
			break;
		case T_IndexOnlyScan:
			note_index_quals(a, ((Scan *) plan)->scanrelid, ((IndexOnlyScan *) plan)->indexid,
							 ((IndexOnlyScan *) plan)->indexqual);
			break;
		case T_BitmapIndexScan:
			note_index_quals(a, ((Scan *) plan)->scanrelid, ((BitmapIndexScan *) plan)->indexid,
							 ((BitmapIndexScan *) plan)->indexqual);
			break;
		case T_NestLoop:
			if (over_seqscan(innerPlan(plan)))
				note_quals(a, plan, ((Join *) plan)->joinqual, true);
			break;
		case T_HashJoin:
			note_quals(a, plan, ((HashJoin *) plan)->hashclauses, true);
			break;
		case T_MergeJoin:
			note_quals(a, plan, ((MergeJoin *) plan)->mergeclauses, true);
			break;
		case T_Sort:
			if (over_seqscan(outerPlan(plan)) && ((Sort *) plan)->numCols > 0)
			{
				TargetEntry *tle = list_nth(plan->targetlist, ((Sort *) plan)->sortColIdx[0] - 1);
				Var		   *v = strip_var((Node *) tle->expr);
				Oid			relid;
				AttrNumber	attno;

				if (v && resolve_var(a, outerPlan(plan), v, &relid, &attno))
					note_col(a, relid, attno, 2);
			}
			break;
		default:
			break;
	}
	walk_plan(a, outerPlan(plan));
	walk_plan(a, innerPlan(plan));
	if (IsA(plan, Append))
		foreach(lc, ((Append *) plan)->appendplans)
			walk_plan(a, lfirst(lc));
	if (IsA(plan, SubqueryScan))
		walk_plan(a, ((SubqueryScan *) plan)->subplan);
}

static void
add_candidate(Advisor *a, Oid relid, int ncols, AttrNumber c1, AttrNumber c2, bool eq1, bool eq2, int stmt)
{
	CandKey		key;
	Candidate  *c;
	bool		found;

	memset(&key, 0, sizeof(key));
	key.relid = relid;
	key.ncols = ncols;
	key.cols[0] = c1;
	key.cols[1] = ncols > 1 ? c2 : 0;
	c = hash_search(a->cands, &key, HASH_ENTER, &found);
	if (!found)
	{
		c->id = list_length(a->cand_list);
		c->stmts = NIL;
		c->before = c->after = 0;
		c->bytes = 0;
		c->evaluated = false;
		c->eq[0] = eq1;
		c->eq[1] = eq2;
		a->cand_list = lappend(a->cand_list, c);
	}
	c->stmts = list_append_unique_int(c->stmts, stmt);
}

/* Candidates from what one statement's plan uses: equality first, then range or sort. */
static void
candidates_from_uses(Advisor *a, int stmt)
{
	ListCell   *lc,
			   *le,
			   *lr;

	foreach(lc, a->uses)
	{
		RelUse	   *u = lfirst(lc);

		foreach(le, u->eq)
		{
			int			e = lfirst_int(le);

			add_candidate(a, u->relid, 1, e, 0, true, false, stmt);
			foreach(lr, u->eq)
				if (lfirst_int(lr) != e)
					add_candidate(a, u->relid, 2, e, lfirst_int(lr), true, true, stmt);
			foreach(lr, u->range)
				if (!list_member_int(u->eq, lfirst_int(lr)))
					add_candidate(a, u->relid, 2, e, lfirst_int(lr), true, false, stmt);
			foreach(lr, u->order)
				if (!list_member_int(u->eq, lfirst_int(lr)))
					add_candidate(a, u->relid, 2, e, lfirst_int(lr), true, false, stmt);
		}
		foreach(lr, u->range)
			if (!list_member_int(u->eq, lfirst_int(lr)))
				add_candidate(a, u->relid, 1, lfirst_int(lr), 0, false, false, stmt);
		foreach(lr, u->order)
			if (!list_member_int(u->eq, lfirst_int(lr)))
				add_candidate(a, u->relid, 1, lfirst_int(lr), 0, false, false, stmt);
	}
}

/* ---------- planning ---------- */

/* A statement the workload planned: walk its plan.  Runs isolated. */
static void
plan_walk(DboptWorkload *w, int i, PlannedStmt *ps, void *arg)
{
	Advisor    *a = arg;
	Statement  *s = &a->stmts[i];

	s->cost = ps->planTree->total_cost;
	s->best_cost = s->cost;
	s->best = -1;
	a->pstmt = ps;
	a->uses = NIL;
	walk_plan(a, ps->planTree);
	candidates_from_uses(a, i);
}

/* The cost with HypoPG's indexes: EXPLAIN EXECUTE (see workload.h). */
static double
explain_cost(Statement *s)
{
	return dbopt_statement_explain_cost(s->ws);
}

/* ---------- candidates: checks, evaluation ---------- */

/* An existing valid, non-partial btree of rel leads with these columns. */
static bool
leads_with(Relation rel, const AttrNumber *cols, int ncols)
{
	List	   *idx = RelationGetIndexList(rel);
	ListCell   *lc;
	bool		covered = false;

	foreach(lc, idx)
	{
		HeapTuple	tup = SearchSysCache1(INDEXRELID, ObjectIdGetDatum(lfirst_oid(lc)));
		Form_pg_index ix;

		if (!HeapTupleIsValid(tup))
			continue;
		ix = (Form_pg_index) GETSTRUCT(tup);
		if (ix->indisvalid && ix->indnkeyatts >= ncols &&
			heap_attisnull(tup, Anum_pg_index_indpred, NULL) &&
			dbopt_relation_am(ix->indexrelid) == BTREE_AM_OID)
		{
			bool		prefix = true;

			for (int i = 0; i < ncols; i++)
				if (ix->indkey.values[i] != cols[i])
					prefix = false;
			covered = prefix;
		}
		ReleaseSysCache(tup);
		if (covered)
			break;
	}
	list_free(idx);
	return covered;
}

/*
 * Already covered: an index leads with the candidate's columns.  For a
 * partitioned table, a valid index on it, or one on every leaf partition
 * (each matched by column name).
 */
static bool
already_indexed(Relation rel, const CandKey *k)
{
	List	   *leaves;
	ListCell   *lc;
	bool		all = true;

	if (leads_with(rel, k->cols, k->ncols))
		return true;
	if (rel->rd_rel->relkind != RELKIND_PARTITIONED_TABLE)
		return false;
	leaves = find_all_inheritors(RelationGetRelid(rel), AccessShareLock, NULL);
	foreach(lc, leaves)
	{
		Relation	part;
		AttrNumber	cols[MAX_COLS];

		if (get_rel_relkind(lfirst_oid(lc)) != RELKIND_RELATION)
			continue;
		part = relation_open(lfirst_oid(lc), NoLock);
		for (int i = 0; i < k->ncols; i++)
			cols[i] = get_attnum(lfirst_oid(lc), get_attname(k->relid, k->cols[i], false));
		all = leads_with(part, cols, k->ncols);
		relation_close(part, NoLock);
		if (!all)
			break;
	}
	return all;
}

/*
 * Pages and rows of a table, or of all the leaf partitions of a
 * partitioned one (whose own pg_class row has none).  *plain is false if
 * a leaf is not a plain table (a foreign table takes no index).
 */
static void
rel_size(Relation rel, double *pages, double *tuples, bool *plain)
{
	List	   *rels;
	ListCell   *lc;

	*pages = *tuples = 0;
	*plain = true;
	if (rel->rd_rel->relkind != RELKIND_PARTITIONED_TABLE)
	{
		*pages = Max(rel->rd_rel->relpages, 0);
		*tuples = Max(rel->rd_rel->reltuples, 0);
		return;
	}
	rels = find_all_inheritors(RelationGetRelid(rel), NoLock, NULL);
	foreach(lc, rels)
	{
		HeapTuple	tup = SearchSysCache1(RELOID, ObjectIdGetDatum(lfirst_oid(lc)));
		Form_pg_class cl;

		if (!HeapTupleIsValid(tup))
			continue;
		cl = (Form_pg_class) GETSTRUCT(tup);
		if (cl->relkind == RELKIND_RELATION)
		{
			*pages += Max(cl->relpages, 0);
			*tuples += Max(cl->reltuples, 0);
		}
		else if (cl->relkind != RELKIND_PARTITIONED_TABLE)
			*plain = false;
		ReleaseSysCache(tup);
	}
}

/* "schema.table (col, col)" */
static char *
index_target(Oid relid, const CandKey *k)
{
	StringInfoData buf;

	initStringInfo(&buf);
	appendStringInfo(&buf, "%s (", quote_qualified_identifier(get_namespace_name(get_rel_namespace(relid)),
															  get_rel_name(relid)));
	for (int i = 0; i < k->ncols; i++)
		appendStringInfo(&buf, "%s%s", i ? ", " : "",
						 quote_identifier(get_attname(k->relid, k->cols[i], false)));
	appendStringInfoChar(&buf, ')');
	return buf.data;
}

/* A new index name for relid, as CREATE INDEX would choose it, not in used: unqualified. */
static char *
new_index_name(Oid relid, const CandKey *k, List **used)
{
	Oid			nsp = get_rel_namespace(relid);
	StringInfoData cols;

	initStringInfo(&cols);
	for (int i = 0; i < k->ncols; i++)
		appendStringInfo(&cols, "%s%s", i ? "_" : "", get_attname(k->relid, k->cols[i], false));
	for (int n = 0;; n++)
	{
		char	   *name = makeObjectName(get_rel_name(relid), cols.data, n ? psprintf("idx%d", n) : "idx");
		char	   *full = psprintf("%u.%s", nsp, name);

		if (!OidIsValid(get_relname_relid(name, nsp)) && !list_member(*used, makeString(full)))
		{
			*used = lappend(*used, makeString(full));
			return name;
		}
	}
}

/*
 * For a partitioned table: one CREATE INDEX ... ON ONLY per partitioned
 * table, one CREATE INDEX CONCURRENTLY per leaf partition, each attached
 * to its parent's index (the pattern the CREATE INDEX documentation
 * gives).  A plain CREATE INDEX on the parent would block writes to every
 * partition while all of them are built, and a partitioned table takes no
 * CONCURRENTLY.  Run statement by statement (as psql does with a script),
 * the parent's index turns valid when its last partition is attached; sent
 * as one multi-statement string, the first CONCURRENTLY fails and nothing
 * is left.
 */
static void
partitioned_index_sql(StringInfo buf, Oid relid, const char *qname, const CandKey *k, List **used)
{
	List	   *children = find_inheritance_children(relid, NoLock);
	ListCell   *lc;

	foreach(lc, children)
	{
		Oid			child = lfirst_oid(lc);
		char	   *cname = new_index_name(child, k, used);
		char	   *qcname = quote_qualified_identifier(get_namespace_name(get_rel_namespace(child)), cname);

		if (get_rel_relkind(child) == RELKIND_PARTITIONED_TABLE)
		{
			appendStringInfo(buf, "CREATE INDEX %s ON ONLY %s;\n", quote_identifier(cname), index_target(child, k));
			partitioned_index_sql(buf, child, qcname, k, used);
		}
		else
			appendStringInfo(buf, "CREATE INDEX CONCURRENTLY %s ON %s;\n", quote_identifier(cname), index_target(child, k));
		appendStringInfo(buf, "ALTER INDEX %s ATTACH PARTITION %s;\n", qname, qcname);
	}
}

static char *
index_sql(Relation rel, const CandKey *k)
{
	StringInfoData buf;
	List	   *used = NIL;
	char	   *name;

	initStringInfo(&buf);
	if (rel->rd_rel->relkind != RELKIND_PARTITIONED_TABLE)
	{
		appendStringInfo(&buf, "CREATE INDEX CONCURRENTLY ON %s", index_target(RelationGetRelid(rel), k));
		return buf.data;
	}
	name = new_index_name(RelationGetRelid(rel), k, &used);
	appendStringInfo(&buf, "CREATE INDEX %s ON ONLY %s;\n", quote_identifier(name), index_target(RelationGetRelid(rel), k));
	partitioned_index_sql(&buf, RelationGetRelid(rel),
						  quote_qualified_identifier(get_namespace_name(RelationGetNamespace(rel)), name), k, &used);
	buf.data[--buf.len] = '\0';	/* no last newline */
	return buf.data;
}

typedef struct HypoUnit
{
	Advisor    *a;
	Candidate  *c;
	const char *sql;
	Oid			created;
} HypoUnit;

/* Create the hypothetical index, plan the statements again, measure it, drop it. */
static void
hypo_unit(void *arg)
{
	HypoUnit   *h = arg;
	Advisor    *a = h->a;
	Candidate  *c = h->c;
	Oid			types[1] = {TEXTOID};
	Datum		values[1] = {CStringGetTextDatum(h->sql)};
	Oid			oidtype[1] = {OIDOID};
	Datum		created[1];
	bool		isnull;
	ListCell   *lc;
	MemoryContext outer = CurrentMemoryContext;

	SPI_connect();
	/* Costs without the index first, once per statement, measured the same way. */
	foreach(lc, c->stmts)
	{
		Statement  *s = &a->stmts[lfirst_int(lc)];

		if (!s->explained)
		{
			s->cost = s->best_cost = explain_cost(s);
			s->explained = true;
		}
	}
	h->created = DatumGetObjectId(dbopt_spi_value(psprintf("SELECT indexrelid FROM %s.hypopg_create_index($1)",
														   a->hypopg_schema),
												  1, types, values, &isnull));
	MemoryContextSwitchTo(outer);
	c->before = c->after = 0;
	foreach(lc, c->stmts)
	{
		Statement  *s = &a->stmts[lfirst_int(lc)];
		double		cost = explain_cost(s);

		c->before += s->calls * s->cost;
		c->after += s->calls * Min(cost, s->cost);
		if (cost < s->best_cost)
		{
			s->best_cost = cost;
			s->best = c->id;
		}
	}
	created[0] = ObjectIdGetDatum(h->created);
	c->bytes = DatumGetInt64(dbopt_spi_value(psprintf("SELECT %s.hypopg_relation_size($1), %s.hypopg_drop_index($1)",
													  a->hypopg_schema, a->hypopg_schema),
											 1, oidtype, created, &isnull));
	h->created = InvalidOid;
	SPI_finish();
}

/*
 * Without HypoPG: the cost of reading the matching rows through the index
 * instead of the sequential scan, from pg_stats selectivities (equality
 * 1/n_distinct, a range a third), as the planner's own defaults would.
 */
static void
heuristic(Advisor *a, Candidate *c, Relation rel)
{
	double		ntup,
				pages;
	double		sel = 1.0;
	bool		plain;
	double		width = 0;
	double		seqcost,
				idxcost;
	ListCell   *lc;

	rel_size(rel, &pages, &ntup, &plain);
	pages = Max(pages, 1);
	for (int i = 0; i < c->key.ncols; i++)
	{
		/* a partitioned table's statistics are of the whole tree */
		HeapTuple	st = SearchSysCache3(STATRELATTINH, ObjectIdGetDatum(c->key.relid),
										 Int16GetDatum(c->key.cols[i]),
										 BoolGetDatum(rel->rd_rel->relkind == RELKIND_PARTITIONED_TABLE));
		double		nd = 200;	/* the planner's default when there are no statistics */

		if (HeapTupleIsValid(st))
		{
			Form_pg_statistic s = (Form_pg_statistic) GETSTRUCT(st);

			nd = s->stadistinct > 0 ? s->stadistinct : -s->stadistinct * ntup;
			width += s->stawidth;
			ReleaseSysCache(st);
		}
		else
			width += 8;
		sel *= c->eq[i] ? 1.0 / Max(nd, 1) : 1.0 / 3.0;
	}
	seqcost = pages + ntup * 0.0125;	/* seq_page_cost and cpu_tuple + one operator */
	idxcost = 4.0 * Min(sel * ntup, pages) + sel * ntup * 0.0075 + log2(Max(ntup, 2)) * 0.0025 * 50;
	c->before = c->after = 0;
	foreach(lc, c->stmts)
	{
		Statement  *s = &a->stmts[lfirst_int(lc)];
		double		cost = s->cost - seqcost + idxcost;

		cost = Max(cost, idxcost);
		c->before += s->calls * s->cost;
		c->after += s->calls * Min(cost, s->cost);
		if (cost < s->best_cost)
		{
			s->best_cost = cost;
			s->best = c->id;
		}
	}
	/* entries: a tuple header and the key, aligned, plus a line pointer; pages 90% full */
	c->bytes = (int64) (ceil(ntup * (MAXALIGN(8 + width) + 4) / (BLCKSZ * 0.9)) + 1) * BLCKSZ;
}

/* ---------- the SQL function ---------- */

static int
cmp_savings(const ListCell *x, const ListCell *y)
{
	Candidate  *a = lfirst(x),
			   *b = lfirst(y);
	double		sa = a->before - a->after,
				sb = b->before - b->after;

	return (sa < sb) ? 1 : (sa > sb) ? -1 : 0;
}

static void
check_suggest_args(Oid pgss_nsp, int64 min_calls, double min_mean_ms, double min_improvement,
				   int32 max_suggestions)
{
	if (!OidIsValid(pgss_nsp) || !dbopt_library_preloaded("pg_stat_statements"))
		ereport(ERROR,
				(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
				 errmsg("suggest_indexes needs pg_stat_statements"),
				 errdetail("The statements to advise on come from pg_stat_statements in this database."),
				 errhint("Add pg_stat_statements to shared_preload_libraries, restart, and CREATE EXTENSION pg_stat_statements.")));
	if (min_calls < 0 || min_mean_ms < 0 || min_improvement < 0 || min_improvement > 100 || max_suggestions < 1)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("invalid suggest_indexes argument"),
				 errdetail("min_calls and min_mean_ms must not be negative, min_improvement_pct is between 0 and 100, max_suggestions at least 1."),
				 errhint("The defaults are 50, 1, 50 and 20.")));
}

/*
 * The first ncols columns of the one row a read-only query returns, as
 * int8 (NULL as 0), run under the pinned search_path; all 0 when it
 * returns no row.
 */
static void
pinned_int8_row(const char *sql, int nargs, Oid *types, Datum *values, int64 *out, int ncols)
{
	MemoryContext cxt = CurrentMemoryContext;
	int			pin = dbopt_pin_search_path();

	memset(out, 0, sizeof(int64) * ncols);
	SPI_connect();
	if (SPI_execute_with_args(sql, nargs, types, values, NULL, true, 0) == SPI_OK_SELECT && SPI_processed == 1)
		for (int i = 0; i < ncols; i++)
		{
			bool		isnull;
			Datum		d = SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, i + 1, &isnull);

			out[i] = isnull ? 0 : DatumGetInt64(d);
		}
	SPI_finish();
	AtEOXact_GUC(true, pin);
	MemoryContextSwitchTo(cxt);
}

/* The statements of this database, busiest first; each planned on its own. */
static void
plan_statements(Advisor *a, int64 min_calls, double min_mean_ms)
{
	MemoryContext cxt = CurrentMemoryContext;
	DboptWorkload *w = dbopt_workload_read(min_calls, min_mean_ms);

	MemoryContextSwitchTo(cxt);
	a->nstmts = w->nstmts;
	a->stmts = palloc0(sizeof(Statement) * Max(a->nstmts, 1));
	for (int i = 0; i < a->nstmts; i++)
	{
		a->stmts[i].ws = &w->stmts[i];
		a->stmts[i].queryid = w->stmts[i].queryid;
		a->stmts[i].calls = w->stmts[i].calls;
		a->stmts[i].best = -1;
	}
	dbopt_workload_plan(w, plan_walk, a);
	a->skipped_error = w->skipped_error;
	a->skipped_utility = w->skipped_utility;
	a->skipped_privilege = w->skipped_privilege;
}

/* Leave no hypothetical index behind, even after an error. */
static void
drop_hypothetical_index(Advisor *a, Oid indexrelid)
{
	MemoryContext cxt = CurrentMemoryContext;
	Oid			t[1] = {OIDOID};
	Datum		v[1] = {ObjectIdGetDatum(indexrelid)};
	int			pin = dbopt_pin_search_path();

	SPI_connect();
	SPI_execute_with_args(psprintf("SELECT %s.hypopg_drop_index($1)", a->hypopg_schema),
						  1, t, v, NULL, false, 0);
	SPI_finish();
	AtEOXact_GUC(true, pin);
	MemoryContextSwitchTo(cxt);
}

/* A big enough table that no index already covers, on btree-sortable columns. */
static bool
worth_evaluating(Relation rel, const Candidate *c)
{
	bool		ok;
	double		pages,
				tuples;

	/* a partitioned table by the sum of its partitions */
	rel_size(rel, &pages, &tuples, &ok);
	ok = ok && pages >= MIN_TABLE_PAGES && !already_indexed(rel, &c->key);
	for (int i = 0; ok && i < c->key.ncols; i++)
	{
		Oid			atttype = get_atttype(c->key.relid, c->key.cols[i]);

		ok = OidIsValid(GetDefaultOpClass(atttype, BTREE_AM_OID));
	}
	return ok;
}

/*
 * hypopg wants a plain CREATE INDEX.  On a partitioned table, HypoPG 1.3.1
 * shows the planner the hypothetical index on every partition a plan
 * scans, so the parent's index is measured as created by the fix.
 */
static void
evaluate_with_hypopg(Advisor *a, Candidate *c)
{
	HypoUnit	h = {a, c, psprintf("CREATE INDEX ON %s", index_target(c->key.relid, &c->key)), InvalidOid};
	DboptUnitError err;

	c->evaluated = dbopt_run_isolated(hypo_unit, &h, 0, &err);
	if (OidIsValid(h.created))
		drop_hypothetical_index(a, h.created);
}

/* Measure each candidate worth it: with HypoPG, or by the pg_stats estimate. */
static void
evaluate_candidates(Advisor *a)
{
	ListCell   *lc;

	foreach(lc, a->cand_list)
	{
		Candidate  *c = lfirst(lc);
		Relation	rel;
		bool		ok;

		CHECK_FOR_INTERRUPTS();
		rel = try_relation_open(c->key.relid, AccessShareLock);
		if (rel == NULL)
			continue;
		ok = worth_evaluating(rel, c);
		if (ok && a->hypopg)
			evaluate_with_hypopg(a, c);
		else if (ok)
		{
			heuristic(a, c, rel);
			c->evaluated = true;
		}
		relation_close(rel, AccessShareLock);
	}
}

/* The cheapest candidate of each statement, if it improves enough, most saving first. */
static List *
winning_candidates(Advisor *a, double min_improvement)
{
	List	   *kept = NIL;
	ListCell   *lc;

	foreach(lc, a->cand_list)
	{
		Candidate  *c = lfirst(lc);
		bool		wins = false;
		ListCell   *ls;

		if (!c->evaluated || c->before <= 0)
			continue;
		foreach(ls, c->stmts)
			if (a->stmts[lfirst_int(ls)].best == c->id)
				wins = true;
		if (wins && 100.0 * (1 - c->after / c->before) >= min_improvement)
			kept = lappend(kept, c);
	}
	list_sort(kept, cmp_savings);
	return kept;
}

/* What the table's statistics say of its writes and scans. */
enum
{
	TW_INS, TW_UPD, TW_HOT, TW_DEL, TW_SCANS, TW_N
};

static void
table_writes(Oid relid, int64 *tw)
{
	Oid			t[1] = {OIDOID};
	Datum		v[1] = {ObjectIdGetDatum(relid)};

	/* a partitioned table: the sums over its partitions (a plain table has no tree) */
	pinned_int8_row("SELECT pg_catalog.sum(n_tup_ins)::bigint, pg_catalog.sum(n_tup_upd)::bigint,"
					" pg_catalog.sum(n_tup_hot_upd)::bigint, pg_catalog.sum(n_tup_del)::bigint,"
					" pg_catalog.sum(coalesce(seq_scan, 0) OPERATOR(pg_catalog.+) coalesce(idx_scan, 0))::bigint"
					"  FROM pg_catalog.pg_stat_user_tables WHERE relid OPERATOR(pg_catalog.=) $1"
					"   OR relid OPERATOR(pg_catalog.=) ANY (SELECT relid FROM pg_catalog.pg_partition_tree($1))",
					1, t, v, tw, TW_N);
}

/* One row of the result. */
static void
emit_suggestion(ReturnSetInfo *rsinfo, const Advisor *a, const Candidate *c, Relation rel)
{
	Datum		out[12];
	bool		nulls[12] = {0};
	Datum	   *cols = palloc(sizeof(Datum) * c->key.ncols);
	Datum	   *qids = palloc(sizeof(Datum) * list_length(c->stmts));
	int64		calls = 0;
	int			n = 0;
	ListCell   *ls;
	double		entry,
				row,
				wo = 0,
				pages,
				tuples;
	bool		plain;
	int64		tw[TW_N];
	int64		written;
	StringInfoData detail;

	for (int i = 0; i < c->key.ncols; i++)
		cols[i] = CStringGetTextDatum(get_attname(c->key.relid, c->key.cols[i], false));
	foreach(ls, c->stmts)
	{
		qids[n++] = Int64GetDatum(a->stmts[lfirst_int(ls)].queryid);
		calls += a->stmts[lfirst_int(ls)].calls;
	}

	/* Write cost: every insert, delete and non-HOT update also writes an entry here. */
	table_writes(c->key.relid, tw);
	written = tw[TW_INS] + tw[TW_UPD] + tw[TW_DEL];
	rel_size(rel, &pages, &tuples, &plain);
	row = tuples > 0 ? pages * BLCKSZ / tuples : 100;
	entry = tuples > 0 ? (double) c->bytes / tuples : 16;
	if (written > 0)
		wo = 100.0 * ((double) (written - tw[TW_HOT]) / written) * entry / Max(row, 1);

	initStringInfo(&detail);
	appendStringInfo(&detail, "%d statement(s) with %lld calls; calls-weighted plan cost %.0f now, %.0f with the index",
					 list_length(c->stmts), (long long) calls, c->before, c->after);
	if (!a->hypopg)
		appendStringInfoString(&detail, "; hypopg is not installed in this database, so this is a pg_stats selectivity estimate, not verified by the planner (CREATE EXTENSION hypopg to verify)");
	/* as PgHero counts it: each row written is one write, each scan one read */
	if (written > tw[TW_SCANS])
		appendStringInfo(&detail, "; write-heavy table: %lld rows written against %lld scans since statistics started, and every insert, delete and non-HOT update would also write this index",
						 (long long) written, (long long) tw[TW_SCANS]);

	out[0] = ObjectIdGetDatum(c->key.relid);
	out[1] = PointerGetDatum(construct_array(cols, c->key.ncols, TEXTOID, -1, false, TYPALIGN_INT));
	out[2] = CStringGetTextDatum(index_sql(rel, &c->key));
	out[3] = PointerGetDatum(construct_array(qids, n, INT8OID, 8, FLOAT8PASSBYVAL, TYPALIGN_DOUBLE));
	out[4] = Int64GetDatum(calls);
	/* rounded for a reader; the thresholds were applied to the exact figures */
	out[5] = Float8GetDatum(dbopt_round(c->before, 2));
	out[6] = Float8GetDatum(dbopt_round(c->after, 2));
	out[7] = Float8GetDatum(dbopt_round(100.0 * (1 - c->after / c->before), 1));
	out[8] = Int64GetDatum(c->bytes);
	out[9] = Float8GetDatum(dbopt_round(wo, 1));
	out[10] = CStringGetTextDatum(a->hypopg ? "hypopg" : "heuristic");
	out[11] = CStringGetTextDatum(detail.data);
	tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc, out, nulls);
}

/*
 * What the thresholds and the limit left out.  It counts everything this
 * database ran, background sessions too, so it goes in the detail: the
 * message itself stays as stable as the workload advised on.
 */
static void
notice_left_out(const Advisor *a, Oid pgss_nsp, int64 min_calls, double min_mean_ms)
{
	int64		counts[2];		/* all statements, those passing the thresholds */
	int64		total,
				passing;
	StringInfoData left;
	Oid			types[3] = {INT8OID, FLOAT8OID, OIDOID};
	Datum		values[3] = {Int64GetDatum(min_calls), Float8GetDatum(min_mean_ms),
							 ObjectIdGetDatum(MyDatabaseId)};

	pinned_int8_row(psprintf("SELECT pg_catalog.count(*), pg_catalog.count(*) FILTER (WHERE pass) FROM"
							 " (SELECT pg_catalog.sum(calls) OPERATOR(pg_catalog.>=) $1"
							 "     AND pg_catalog.sum(total_exec_time) OPERATOR(pg_catalog./)"
							 "         nullif(pg_catalog.sum(calls), 0) OPERATOR(pg_catalog.>=) $2 AS pass"
							 "    FROM %s.pg_stat_statements(false)"
							 "   WHERE dbid OPERATOR(pg_catalog.=) $3 AND queryid IS NOT NULL"
							 "   GROUP BY queryid) s",
							 quote_identifier(get_namespace_name(pgss_nsp))),
					3, types, values, counts, 2);
	total = counts[0];
	passing = counts[1];
	initStringInfo(&left);
	appendStringInfo(&left, "%lld statement(s) below min_calls or min_mean_ms were not considered.",
					 (long long) Max(total - passing, 0));
	if (passing > a->nstmts && a->nstmts >= DBOPT_WORKLOAD_MAX_STATEMENTS)
		appendStringInfo(&left, " %lld more beyond the %d busiest were not considered.",
						 (long long) (passing - a->nstmts), DBOPT_WORKLOAD_MAX_STATEMENTS);
	ereport(NOTICE,
			(errmsg("suggest_indexes: %d statement(s) analysed, %d skipped: %d could not be planned, %d not plannable (DDL and other utility statements), %d on tables you may not read",
					a->nstmts - a->skipped_error - a->skipped_utility - a->skipped_privilege,
					a->skipped_error + a->skipped_utility + a->skipped_privilege,
					a->skipped_error, a->skipped_utility, a->skipped_privilege),
			 errdetail_internal("%s", left.data)));
}

PG_FUNCTION_INFO_V1(dbopt_suggest_indexes);

Datum
dbopt_suggest_indexes(PG_FUNCTION_ARGS)
{
	int64		min_calls = PG_GETARG_INT64(0);
	double		min_mean_ms = PG_GETARG_FLOAT8(1);
	double		min_improvement = PG_GETARG_FLOAT8(2);
	int32		max_suggestions = PG_GETARG_INT32(3);
	ReturnSetInfo *rsinfo = (ReturnSetInfo *) fcinfo->resultinfo;
	Oid			pgss_nsp = dbopt_extension_schema("pg_stat_statements");
	Oid			hypo_nsp = dbopt_extension_schema("hypopg");
	Advisor		a;
	HASHCTL		ctl;
	MemoryContext cxt,
				old;
	ListCell   *lc;
	int			emitted = 0;

	check_suggest_args(pgss_nsp, min_calls, min_mean_ms, min_improvement, max_suggestions);
	dbopt_init_materialized_srf(fcinfo);
	cxt = AllocSetContextCreate(CurrentMemoryContext, "dbopt suggest_indexes", ALLOCSET_DEFAULT_SIZES);
	old = MemoryContextSwitchTo(cxt);
	memset(&a, 0, sizeof(a));
	a.hypopg = OidIsValid(hypo_nsp);
	a.hypopg_schema = a.hypopg ? (char *) quote_identifier(get_namespace_name(hypo_nsp)) : NULL;
	memset(&ctl, 0, sizeof(ctl));
	ctl.keysize = sizeof(CandKey);
	ctl.entrysize = sizeof(Candidate);
	ctl.hcxt = cxt;
	a.cands = hash_create("dbopt index candidates", 256, &ctl, HASH_ELEM | HASH_BLOBS | HASH_CONTEXT);

	plan_statements(&a, min_calls, min_mean_ms);
	evaluate_candidates(&a);
	foreach(lc, winning_candidates(&a, min_improvement))
	{
		Relation	rel;

		if (emitted >= max_suggestions)
			break;
		rel = try_relation_open(((Candidate *) lfirst(lc))->key.relid, AccessShareLock);
		if (rel == NULL)
			continue;
		emit_suggestion(rsinfo, &a, lfirst(lc), rel);
		relation_close(rel, AccessShareLock);
		emitted++;
	}
	notice_left_out(&a, pgss_nsp, min_calls, min_mean_ms);
	MemoryContextSwitchTo(old);
	return (Datum) 0;
}
