/*-------------------------------------------------------------------------
 *
 * partition_drops.c
 *	  Retention by whole partitions: drop_old_partitions() (one table, or
 *	  every registered one), the partition step of row-retention policies
 *	  (dbopt_drop_partitions_below()), and run_partition_maintenance(),
 *	  which creates (partition_create.c) and then drops by one plan.
 *
 * A partition goes only when its whole range lies below the cutoff, and
 * the last one of a table never goes.  Each drop or detach is re-checked
 * under the parent's and the partition's lock, as the partition's owner
 * (DROP) or the parent's (DETACH).
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

/* ---------- output rows ---------- */

/* Columns of drop_old_partitions(). */
static void
put_drop_row(ReturnSetInfo *rsinfo, const PartOp *op, const char *action)
{
	Datum		values[8];
	bool		nulls[8] = {0};

	values[0] = ObjectIdGetDatum(op->parent);
	values[1] = CStringGetTextDatum(op->name);
	values[2] = op->lo_text ? CStringGetTextDatum(op->lo_text) : (Datum) 0;
	nulls[2] = op->lo_text == NULL;
	values[3] = op->hi_text ? CStringGetTextDatum(op->hi_text) : (Datum) 0;
	nulls[3] = op->hi_text == NULL;
	values[4] = CStringGetTextDatum(action);
	values[5] = Int64GetDatum(op->rows);
	nulls[5] = op->rows < 0;
	values[6] = Int64GetDatum(op->bytes);
	nulls[6] = op->bytes < 0;
	values[7] = op->detail ? CStringGetTextDatum(op->detail) : (Datum) 0;
	nulls[7] = op->detail == NULL;
	tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc, values, nulls);
}

/* A parent that cannot be processed: one row saying why. */
static void
put_parent_skip(ReturnSetInfo *rsinfo, Oid parent, const char *detail)
{
	PartOp		op;

	memset(&op, 0, sizeof(op));
	op.parent = parent;
	op.name = get_rel_relkind(parent) ? dbopt_qualified_relname(parent) : psprintf("%u", parent);
	op.rows = -1;
	op.bytes = -1;
	op.detail = (char *) detail;
	put_drop_row(rsinfo, &op, "skipped");
}

/* ---------- retention ---------- */

static PartOp *
new_op(PartAction action, const Tree *t, const Part *p)
{
	PartOp	   *op = palloc0(sizeof(PartOp));

	op->action = action;
	op->parent = t->key.parent;
	op->relid = p->relid;
	op->name = dbopt_qualified_relname(p->relid);
	op->lo = p->lo;
	op->hi = p->hi;
	op->lo_text = dbopt_part_bound_text(&t->key, &p->lo);
	op->hi_text = dbopt_part_bound_text(&t->key, &p->hi);
	op->key = (KeyInfo *) &t->key;
	op->rows = -1;
	op->bytes = -1;
	return op;
}

static bool
same_key_column(const KeyInfo *parent, const KeyInfo *child)
{
	return child->supported && child->typid == parent->typid &&
		strcmp(child->attname, parent->attname) == 0;
}

/*
 * Plan retention for one partitioned table: the partitions whose whole
 * range lies below cutoff, oldest first.  A straddling sub-partitioned
 * child keyed on the same column is examined in turn; its own partitions
 * may qualify.  The last non-default partition of a table is never
 * planned for removal.
 */
static List *
plan_retention(Tree *t, const Bound *cutoff, PartAction action, List *ops)
{
	int			i;
	int			nqual = 0;
	PartOp	   *last_qual = NULL;

	for (i = 0; i < t->nparts; i++)
	{
		Part	   *p = &t->parts[i];

		CHECK_FOR_INTERRUPTS();
		if (!p->is_range || !OidIsValid(p->relid))
			continue;			/* planned partitions are never removed */
		if (dbopt_part_bound_cmp(&t->key, &p->hi, cutoff) <= 0)
		{
			PartOp	   *op = new_op(action, t, p);

			op->cutoff = *cutoff;
			op->detail = psprintf("range lies wholly below the cutoff %s",
								  dbopt_part_bound_text(&t->key, cutoff));
			ops = lappend(ops, op);
			nqual++;
			last_qual = op;
		}
		else if (dbopt_part_bound_cmp(&t->key, &p->lo, cutoff) < 0)
		{
			Tree	   *sub;

			if (p->relkind == RELKIND_PARTITIONED_TABLE)
			{
				sub = palloc(sizeof(Tree));
				dbopt_part_load_tree(p->relid, sub);
				if (same_key_column(&t->key, &sub->key))
				{
					ops = plan_retention(sub, cutoff, action, ops);
					continue;
				}
			}
			{
				PartOp	   *op = new_op(PA_SKIP, t, p);

				op->detail = psprintf("straddles the cutoff %s: it may hold newer rows, so it stays",
									  dbopt_part_bound_text(&t->key, cutoff));
				ops = lappend(ops, op);
			}
		}
		else
			break;				/* sorted: the rest are newer */
	}
	if (nqual > 0 && nqual == t->nparts)
	{
		last_qual->action = PA_SKIP;
		last_qual->detail = pstrdup("the last remaining partition of its table stays, so that new rows have somewhere to go");
	}
	return ops;
}

typedef struct RemoveUnit
{
	PartOp	   *op;
	bool		parent_locked;	/* set once the parent's lock is granted */
} RemoveUnit;

static void
remove_unit(void *arg)
{
	RemoveUnit *u = arg;
	PartOp	   *op = u->op;
	PartitionBoundSpec *spec;
	Part		now_part;
	char	   *sql;

	/* Parent first, as queries do; then the partition. */
	LockRelationOid(op->parent, AccessExclusiveLock);
	u->parent_locked = true;
	LockRelationOid(op->relid, AccessExclusiveLock);

	/* Under lock, confirm the partition is still where we saw it. */
	/*
	 * The parent has been locked since the plan was made, so the partition
	 * cannot have moved to another parent; it may have been dropped, or its
	 * bounds changed through a detach and re-attach by this very session.
	 */
	spec = dbopt_part_stored_bound(op->relid);
	if (spec == NULL || !get_rel_relispartition(op->relid))
		ereport(ERROR,
				(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
				 errmsg("partition was detached or dropped by another session")));
	dbopt_part_fill(op->key, op->relid, &now_part);
	if (!now_part.is_range || dbopt_part_bound_cmp(op->key, &now_part.hi, &op->cutoff) > 0)
		ereport(ERROR,
				(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
				 errmsg("partition bounds changed meanwhile")));
	if (op->require_empty)
	{
		/* Not read-only: this transaction's own deletes must be visible. */
		SPI_connect();
		if (SPI_execute(psprintf("SELECT FROM ONLY %s LIMIT 1", op->name), false, 1) != SPI_OK_SELECT)
			elog(ERROR, "could not read %s", op->name);
		if (SPI_processed > 0)
			ereport(ERROR,
					(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
					 errmsg("partition received rows after they were archived"),
					 errdetail("Only an empty partition is dropped in archive mode, so that no row is lost."),
					 errhint("The next run archives the new rows first.")));
		SPI_finish();
	}

	if (op->action == PA_DROP)
		sql = psprintf("DROP TABLE %s", op->name);
	else
		sql = psprintf("ALTER TABLE %s DETACH PARTITION %s",
					   dbopt_qualified_relname(op->parent), op->name);
	SPI_connect();
	if (SPI_execute(sql, false, 0) != SPI_OK_UTILITY)
		elog(ERROR, "could not run %s", sql);
	SPI_finish();
}

/* The maintenance_log row of a partition dropped or detached, in cxt. */
static DboptLogEntry *
removed_entry(MemoryContext cxt, const PartOp *op)
{
	MemoryContext old = MemoryContextSwitchTo(cxt);
	DboptLogEntry *e = palloc(sizeof(DboptLogEntry));

	e->operation = "drop_old_partitions";
	e->object_name = pstrdup(op->name);
	e->action = op->action == PA_DROP ? "dropped" : "detached";
	e->rows = op->rows;
	e->bytes = op->bytes;
	e->detail = op->action == PA_DROP ?
		psprintf("range [%s, %s) of %s", op->lo_text, op->hi_text,
				 dbopt_qualified_relname(op->parent)) :
		psprintf("range [%s, %s) detached from %s; kept as a plain table",
				 op->lo_text, op->hi_text, dbopt_qualified_relname(op->parent));
	MemoryContextSwitchTo(old);
	return e;
}

/*
 * Carry out (or, in a dry run, describe) a retention plan, one isolated
 * unit per partition, emitting a row per partition.  rsinfo may be NULL
 * when only counts are wanted.
 */
static void
run_retention_ops(List *ops, bool dry_run, ReturnSetInfo *rsinfo, OpCounts *counts,
				  MemoryContext itemcxt, DboptBetweenUnits between, void *between_arg)
{
	ListCell   *lc;
	Oid			busy_parent = InvalidOid;
	char	   *busy_reason = NULL;
	/* Rows for what is done, written together before any commit and at the end. */
	MemoryContext logcxt = GetMemoryChunkContext(counts);
	List	   *done_log = NIL;

	dbopt_part_limit_ops(counts, ops, "drop or detach");
	foreach(lc, ops)
	{
		PartOp	   *op = lfirst(lc);
		const char *action;

		CHECK_FOR_INTERRUPTS();
		(void) dbopt_relation_stats_nowait(op->relid, &op->rows, &op->bytes);
		if (op->action == PA_SKIP)
		{
			action = "skipped";
			counts->kept++;
		}
		else if (!dry_run && op->parent == busy_parent)
		{
			/* One wait per parent: the application keeps the parent busy. */
			action = "skipped";
			dbopt_part_record_skip(op, busy_reason, "drop_old_partitions", counts);
		}
		else if (dry_run)
		{
			action = op->action == PA_DROP ? "would drop" : "would detach";
			counts->done++;
			op->done = true;
		}
		else
		{
			RemoveUnit	u;
			DboptUnitError err;

			u.op = op;
			u.parent_locked = false;
			/* DROP needs the partition's owner, DETACH the parent's; as them, never as a superuser caller. */
			if (dbopt_run_unit(remove_unit, &u, dbopt_unit_owner(op->action == PA_DROP ? op->relid : op->parent), 0, 0, &err))
			{
				action = op->action == PA_DROP ? "dropped" : "detached";
				counts->done++;
				op->done = true;
				{
					MemoryContext old = MemoryContextSwitchTo(logcxt);

					done_log = lappend(done_log, removed_entry(logcxt, op));
					MemoryContextSwitchTo(old);
				}
			}
			else
			{
				char	   *why = dbopt_unit_error_text(&err);

				action = "skipped";
				if (err.lock_timeout && !u.parent_locked)
				{
					busy_parent = op->parent;
					busy_reason = MemoryContextStrdup(GetMemoryChunkContext(counts),
													  psprintf("parent %s is in use: %s",
															   dbopt_qualified_relname(op->parent), why));
					why = busy_reason;
				}
				dbopt_part_record_skip(op, why, "drop_old_partitions", counts);
			}
		}
		if (rsinfo)
			put_drop_row(rsinfo, op, action);
		if (itemcxt)
			MemoryContextReset(itemcxt);
		if (between && op->action != PA_SKIP)
		{
			/* between() may commit: the rows go first. */
			dbopt_log_actions(done_log);
			done_log = NIL;
			if (!between(between_arg))
				break;
		}
	}
	dbopt_log_actions(done_log);
}

/* run_retention_ops() with a memory context reset after each partition. */
static void
run_retention_ops_per_item(List *ops, bool dry_run, ReturnSetInfo *rsinfo, OpCounts *counts,
						   DboptBetweenUnits between, void *between_arg)
{
	MemoryContext itemcxt = AllocSetContextCreate(CurrentMemoryContext, "dbopt partition item",
												  ALLOCSET_SMALL_SIZES);
	MemoryContext old = MemoryContextSwitchTo(itemcxt);

	run_retention_ops(ops, dry_run, rsinfo, counts, itemcxt, between, between_arg);
	MemoryContextSwitchTo(old);
	MemoryContextDelete(itemcxt);
}

PG_FUNCTION_INFO_V1(dbopt_drop_old_partitions);

/* drop_old_partitions(parent, older_than, mode, dry_run): any range-partitioned table. */
Datum
dbopt_drop_old_partitions(PG_FUNCTION_ARGS)
{
	ReturnSetInfo *rsinfo = (ReturnSetInfo *) fcinfo->resultinfo;
	Oid			parent;
	char	   *older_than;
	char	   *mode;
	bool		dry_run = dbopt_steering_bool(fcinfo, 3, "dry_run");
	Tree		t;
	Step		step;
	Bound		cutoff;
	List	   *ops;
	OpCounts *counts;
	int			nest;

	if (PG_ARGISNULL(0) || PG_ARGISNULL(1) || PG_ARGISNULL(2))
		ereport(ERROR,
				(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
				 errmsg("parent, older_than and mode must not be null"),
				 errdetail("Nothing is dropped without a table and an age."),
				 errhint("For example: dbopt.drop_old_partitions('app.events', '24 months', dry_run => true).")));
	parent = PG_GETARG_OID(0);
	older_than = text_to_cstring(PG_GETARG_TEXT_PP(1));
	mode = text_to_cstring(PG_GETARG_TEXT_PP(2));

	dbopt_part_check_parent(parent);
	dbopt_part_check_owner(parent, "drop_old_partitions");
	dbopt_part_check_mode("mode", mode);
	dbopt_part_check_foreign_manager(parent, dbopt_steering_bool(fcinfo, 4, "force"), "drop_old_partitions");
	nest = dbopt_push_lock_timeout();
	dbopt_part_load_tree(parent, &t);
	dbopt_part_require_supported_key(&t.key);
	step = dbopt_part_parse_step(&t.key, "older_than", older_than, false);

	dbopt_init_materialized_srf(fcinfo);
	counts = palloc0(sizeof(OpCounts));
	if (!dbopt_part_retention_cutoff(&t, &step, &cutoff))
	{
		ereport(NOTICE,
				(errmsg("drop_old_partitions: no cutoff for %s", dbopt_qualified_relname(parent)),
				 errdetail("The table has no rows to measure an integer key's age from, or the cutoff is out of range.")));
		AtEOXact_GUC(true, nest);
		return (Datum) 0;
	}
	ops = plan_retention(&t, &cutoff, strcmp(mode, "drop") == 0 ? PA_DROP : PA_DETACH, NIL);
	run_retention_ops_per_item(ops, dry_run, rsinfo, counts, NULL, NULL);
	AtEOXact_GUC(true, nest);
	ereport(NOTICE,
			(errmsg("drop_old_partitions%s: %d partition(s) %s, %d kept by rule, %d skipped",
					dry_run ? " dry run" : "", counts->done,
					dry_run ? "would go" : (strcmp(mode, "drop") == 0 ? "dropped" : "detached"),
					counts->kept, counts->skipped)));
	return (Datum) 0;
}

/*
 * Retention policies (retention_run.c) on a table range-partitioned by their
 * time column: drop the partitions wholly older than cutoff, by the rules
 * above.  between() runs after each partition acted on; returning false
 * stops the run there.
 */
void
dbopt_drop_partitions_below(Oid parent, const char *column, TimestampTz cutoff,
							bool dry_run, bool require_empty,
							DboptBetweenUnits between, void *between_arg,
							DboptPartitionDrops *out)
{
	Tree		t;
	Bound		cb;
	List	   *ops;
	ListCell   *lc;
	OpCounts   *counts = palloc0(sizeof(OpCounts));
	char	   *problem;

	memset(out, 0, sizeof(*out));
	problem = dbopt_part_load_tree_isolated(parent, &t);
	if (problem != NULL)
	{
		/* Rows may still go; the partitions wait for the next run. */
		out->applies = true;
		out->skipped = 1;
		out->first_problem = psprintf("%s: %s", dbopt_qualified_relname(parent), problem);
		return;
	}
	if (!t.key.supported || !t.key.is_time || strcmp(t.key.attname, column) != 0)
		return;
	out->applies = true;

	/* The cutoff in the key type; a date rounds down, so only older days qualify. */
	cb.kind = 0;
	cb.value = t.key.typid == TIMESTAMPTZOID ? TimestampTzGetDatum(cutoff) :
		t.key.typid == TIMESTAMPOID ?
		DirectFunctionCall1(timestamptz_timestamp, TimestampTzGetDatum(cutoff)) :
		DirectFunctionCall1(timestamptz_date, TimestampTzGetDatum(cutoff));

	ops = plan_retention(&t, &cb, PA_DROP, NIL);
	foreach(lc, ops)
		((PartOp *) lfirst(lc))->require_empty = require_empty;
	run_retention_ops_per_item(ops, dry_run, NULL, counts, between, between_arg);
	foreach(lc, ops)
	{
		PartOp	   *op = lfirst(lc);

		if (op->done)
		{
			out->relids = lappend_oid(out->relids, op->relid);
			if (op->rows > 0)
				out->rows += op->rows;
		}
	}
	out->dropped = counts->done;
	out->skipped = counts->skipped;
	out->first_problem = counts->first_problem;
}

PG_FUNCTION_INFO_V1(dbopt_drop_old_partitions_months);

/* drop_old_partitions(retention_months, dry_run): every registered parent. */
/* What drop_old_partitions(retention_months) carries from one table to the next. */
typedef struct DropRun
{
	Step		step;
	bool		dry_run;
	ReturnSetInfo *rsinfo;
	OpCounts   *counts;
} DropRun;

static void
drop_for_parent(Config *c, void *arg)
{
	DropRun    *run = arg;
	char	   *problem;
	Tree		t;
	Bound		cutoff;
	bool		foreign;

	problem = dbopt_part_load_registered(c, &t, &foreign);
	if (problem == NULL && !t.key.is_time)
		problem = pstrdup("integer partition key: retention_months applies to time keys; use drop_old_partitions(parent, older_than)");
	if (problem == NULL && !dbopt_part_retention_cutoff(&t, &run->step, &cutoff))
		problem = pstrdup("the cutoff is out of range for the key type");
	if (problem != NULL)
	{
		put_parent_skip(run->rsinfo, c->parent, problem);
		run->counts->skipped++;
	}
	else
		run_retention_ops(plan_retention(&t, &cutoff,
										 strcmp(c->mode, "drop") == 0 ? PA_DROP : PA_DETACH, NIL),
						  run->dry_run, run->rsinfo, run->counts, NULL, NULL, NULL);
}

Datum
dbopt_drop_old_partitions_months(PG_FUNCTION_ARGS)
{
	DropRun		run;
	Interval	iv = {0};
	List	   *configs;

	run.rsinfo = (ReturnSetInfo *) fcinfo->resultinfo;
	run.dry_run = dbopt_steering_bool(fcinfo, 1, "dry_run");
	if (PG_ARGISNULL(0) || PG_GETARG_INT32(0) < 1)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("retention_months must be at least 1"),
				 errdetail("Partitions whose whole range is older than this many months are dropped or detached."),
				 errhint("For example: SELECT * FROM dbopt.drop_old_partitions(24, dry_run => true);")));
	iv.month = PG_GETARG_INT32(0);
	run.step.iv = &iv;
	run.step.n = 0;

	dbopt_init_materialized_srf(fcinfo);
	run.counts = palloc0(sizeof(OpCounts));
	configs = dbopt_part_load_configs(InvalidOid);
	dbopt_part_each_config(configs, drop_for_parent, &run);
	ereport(NOTICE,
			(errmsg("drop_old_partitions%s: %d registered table(s), %d partition(s) %s, %d kept by rule, %d skipped",
					run.dry_run ? " dry run" : "", list_length(configs), run.counts->done,
					run.dry_run ? "would go" : "removed", run.counts->kept, run.counts->skipped)));
	return (Datum) 0;
}

/* ---------- run_partition_maintenance() ---------- */

/* t with the planned partitions added, sorted, as the retention step will find it. */
static Tree *
tree_with_planned(const Tree *t, List *creates)
{
	Tree	   *v = palloc(sizeof(Tree));
	ListCell   *lc;

	*v = *t;
	v->parts = palloc0(sizeof(Part) * (t->nparts + list_length(creates) + 1));
	memcpy(v->parts, t->parts, sizeof(Part) * t->nparts);
	foreach(lc, creates)
	{
		PartOp	   *op = lfirst(lc);
		Part	   *p = &v->parts[v->nparts++];

		p->relid = InvalidOid;
		p->relkind = RELKIND_RELATION;
		p->is_range = true;
		p->lo = op->lo;
		p->hi = op->hi;
	}
	qsort_arg(v->parts, v->nparts, sizeof(Part), dbopt_part_cmp, &v->key);
	return v;
}

/*
 * The retention step of a plan, over the table as the create step left it
 * (or, in a dry run, would leave it): its partitions plus the planned ones
 * that were (or would be) created.  A partition that a default row blocks
 * is missing in both runs alike; one that a lock kept from being created
 * is missing only in the real run.
 */
static List *
plan_removes(const MaintPlan *mp, const Tree *t)
{
	List	   *done = NIL;
	ListCell   *lc;

	if (!mp->has_cutoff)
		return NIL;
	foreach(lc, mp->creates)
		if (((PartOp *) lfirst(lc))->done)
			done = lappend(done, lfirst(lc));
	return plan_retention(tree_with_planned(t, done), &mp->cutoff, mp->remove_action, NIL);
}

PG_FUNCTION_INFO_V1(dbopt_run_partition_maintenance);

/* What run_partition_maintenance() carries from one table to the next. */
typedef struct MaintRun
{
	bool		dry_run;
	ReturnSetInfo *rsinfo;
} MaintRun;

/* Creates, then drops or detaches, by one plan; what happened goes into detail. */
static void
maintain_planned(Tree *t, MaintPlan *mp, bool dry_run, OpCounts *cc, OpCounts *rc,
				 StringInfo detail)
{
	List	   *removes;

	dbopt_part_run_create_ops(t, mp->creates, false, dry_run, NULL, cc);
	if (mp->note)
		appendStringInfo(detail, "%s; ", mp->note);
	if (cc->first_problem)
		appendStringInfo(detail, "%s; ", cc->first_problem);
	removes = plan_removes(mp, t);
	if (removes != NIL)
		run_retention_ops(removes, dry_run, NULL, rc, NULL, NULL, NULL);
	if (rc->first_problem)
		appendStringInfo(detail, "%s; ", rc->first_problem);
	if (dry_run && (mp->creates != NIL || rc->done > 0))
		appendStringInfoString(detail, "the real run takes each lock under dbopt.lock_timeout and skips what it cannot lock; ");
}

static void
maintain_parent(Config *c, void *arg)
{
	MaintRun   *run = arg;
	bool		dry_run = run->dry_run;
	char	   *problem;
	OpCounts   *cc = palloc0(sizeof(OpCounts));
	OpCounts   *rc = palloc0(sizeof(OpCounts));
	Tree		t;
	Datum		values[7];
	bool		nulls[7] = {0};
	const char *status;
	StringInfoData detail;
	MaintPlan	mp;
	bool		foreign;

	initStringInfo(&detail);
	problem = dbopt_part_plan_registered(c, &t, &mp, &foreign);
	if (problem == NULL)
		maintain_planned(&t, &mp, dry_run, cc, rc, &detail);
	if (problem != NULL)
	{
		/* Another role's table is not ours to touch: skipped, not failed. */
		status = foreign || (get_rel_relkind(c->parent) != '\0' &&
							 !dbopt_relation_ownercheck(c->parent, GetUserId())) ? "skipped" : "error";
		appendStringInfoString(&detail, problem);
	}
	else if (dry_run)
		status = "dry_run";
	else
		status = (cc->skipped + rc->skipped) > 0 ? "partial" : "ok";
	if (!dry_run && problem == NULL)
	{
		Oid			argtypes[1] = {OIDOID};
		Datum		args[1] = {ObjectIdGetDatum(c->parent)};
		DboptIdentity saved;

		dbopt_elevate(&saved);
		SPI_connect();
		SPI_execute_with_args("UPDATE dbopt.partition_config SET last_maintenance_at = pg_catalog.now()"
							  " WHERE parent = $1::regclass", 1, argtypes, args, NULL, false, 0);
		SPI_finish();
		dbopt_restore_identity(&saved);
	}

	values[0] = ObjectIdGetDatum(c->parent);
	values[1] = Int32GetDatum(cc->done);
	values[2] = Int32GetDatum(strcmp(c->mode, "drop") == 0 ? rc->done : 0);
	values[3] = Int32GetDatum(strcmp(c->mode, "detach") == 0 ? rc->done : 0);
	values[4] = Int32GetDatum(cc->skipped + rc->skipped);
	values[5] = CStringGetTextDatum(status);
	if (detail.len >= 2 && detail.data[detail.len - 2] == ';')
		detail.data[detail.len - 2] = '\0';
	values[6] = CStringGetTextDatum(detail.data);
	nulls[6] = detail.data[0] == '\0';
	tuplestore_putvalues(run->rsinfo->setResult, run->rsinfo->setDesc, values, nulls);
}

Datum
dbopt_run_partition_maintenance(PG_FUNCTION_ARGS)
{
	MaintRun	run;

	run.rsinfo = (ReturnSetInfo *) fcinfo->resultinfo;
	run.dry_run = dbopt_steering_bool(fcinfo, 0, "dry_run");
	dbopt_init_materialized_srf(fcinfo);
	dbopt_part_each_config(dbopt_part_load_configs(InvalidOid), maintain_parent, &run);
	return (Datum) 0;
}
