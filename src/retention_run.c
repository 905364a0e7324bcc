/*-------------------------------------------------------------------------
 *
 * retention_run.c
 *	  Running the row-retention policies: apply_data_retention_policies()
 *	  (one transaction) and CALL dbopt.run_data_retention() (a commit after
 *	  every batch), the batches, whole partitions, archive mode, and what a
 *	  run records.
 *
 * Older rows go in batches.  Each batch is one statement in its own
 * subtransaction (in the procedure, its own transaction), and no batch
 * goes back over ground an earlier one covered: with a btree index leading
 * on the time column a batch starts where the last one ended (keyset),
 * without one the heap is walked once in block ranges.
 *
 * Every DELETE repeats "time_column < cutoff" as an ordinary qual, not only
 * the ctid list: when another session updates a chosen row meanwhile, the
 * executor re-checks that qual against the new version, so a row moved past
 * the cutoff is kept.  In archive mode the batch deletes and inserts in one
 * statement and fails unless the archive took every row it deleted.  Rows
 * that foreign keys hold are left out of every batch (retention_refs.c).
 *
 * A table range-partitioned on the time column loses whole partitions
 * first (partition_drops.c); in archive mode they are emptied into the
 * archive before they go.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/htup_details.h"
#include "access/relation.h"
#include "access/xact.h"
#include "catalog/partition.h"
#include "catalog/pg_am.h"
#include "catalog/pg_class.h"
#include "catalog/pg_index.h"
#include "catalog/pg_inherits.h"
#include "catalog/pg_type.h"
#include "executor/spi.h"
#include "funcapi.h"
#include "lib/stringinfo.h"
#include "miscadmin.h"
#include "nodes/parsenodes.h"
#include "pgstat.h"
#include "storage/bufmgr.h"
#include "storage/itemptr.h"
#include "storage/latch.h"
#include "utils/builtins.h"
#include "utils/date.h"
#include "utils/datetime.h"
#include "utils/guc.h"
#include "utils/lsyscache.h"
#include "utils/memutils.h"
#include "utils/rel.h"
#include "utils/syscache.h"
#include "utils/timestamp.h"

#include "dbopt/compat.h"
#include "dbopt/dbopt.h"
#include "dbopt/isolate.h"
#include "dbopt/partitions.h"
#include "dbopt/retention_internal.h"
#include "dbopt/util.h"

/* A run over the policies: the function (one transaction) or the procedure. */
typedef struct Runner
{
	bool		dry_run;
	bool		commit;			/* procedure: commit after every unit */
	TimestampTz deadline;		/* 0: none */
	bool		out_of_time;
	MemoryContext cxt;			/* survives the procedure's commits */
	const char *operation;		/* name in maintenance_log */
} Runner;

/* One heap the row phase works on: the table itself or one leaf partition. */
typedef struct Target
{
	Oid			relid;
	char	   *name;
	bool		gone;			/* dropped meanwhile */
	bool		indexed;
	bool		may_hold;		/* has rows older than the cutoff */
	BlockNumber nblocks;
	int			blocks_per_batch;
} Target;

/* Whether a valid, non-partial btree index leads on attnum. */
static bool
has_time_index(Relation rel, AttrNumber attnum)
{
	List	   *indexes = RelationGetIndexList(rel);
	ListCell   *lc;
	bool		found = false;

	foreach(lc, indexes)
	{
		Oid			indexoid = lfirst_oid(lc);
		HeapTuple	tup = SearchSysCache1(INDEXRELID, ObjectIdGetDatum(indexoid));
		Form_pg_index ind;

		if (!HeapTupleIsValid(tup))
			continue;
		ind = (Form_pg_index) GETSTRUCT(tup);
		if (ind->indisvalid && ind->indnkeyatts >= 1 && ind->indkey.values[0] == attnum &&
			heap_attisnull(tup, Anum_pg_index_indpred, NULL) &&
			dbopt_relation_am(indexoid) == BTREE_AM_OID)
			found = true;
		ReleaseSysCache(tup);
		if (found)
			break;
	}
	list_free(indexes);
	return found;
}

/* ---------- units ---------- */

/* Leaf partitions are read with their partition constraint, so newer ones plan as empty. */
static int
push_constraint_exclusion(void)
{
	int			nest = NewGUCNestLevel();

	dbopt_set_local_guc("constraint_exclusion", "on");
	return nest;
}

typedef struct PrepareUnit
{
	Policy	   *p;
	const char *operation;
	char	   *references;
	char		relkind;
	char	   *columns;
	List	   *blocking;		/* BlockingKey: rows they reference stay */
} PrepareUnit;

/* Everything that can make a policy fail before a row is touched. */
static void
prepare_unit(void *arg)
{
	PrepareUnit *u = arg;
	Policy	   *p = u->p;

	dbopt_ret_check_table(p->relid, "table", u->operation, p->time_column);
	if (p->archive)
	{
		dbopt_ret_check_archive(p->relid, p->archive_relid, u->operation);
		/* The source's columns, the shape an archived row has. */
		u->columns = dbopt_relation_column_names(p->relid, false, false);
	}
	u->references = dbopt_ret_referencing_keys(p->relid);
	u->blocking = dbopt_ret_blocking_keys(p->relid);
	u->relkind = get_rel_relkind(p->relid);
}

typedef struct TargetUnit
{
	Target	   *t;
	Policy	   *p;
	TimestampTz cutoff;
} TargetUnit;

/* Look at one heap: is it indexed on the time column, has it old rows. */
static void
target_unit(void *arg)
{
	TargetUnit *u = arg;
	Target	   *t = u->t;
	Relation	rel = try_relation_open(t->relid, AccessShareLock);
	AttrNumber	attnum;
	const char *col = quote_identifier(u->p->time_column);
	Oid			argtypes[1] = {TIMESTAMPTZOID};
	Datum		values[1];
	const char *sql;
	int			nest;
	bool		isnull;
	double		per_page = 0;

	if (rel == NULL)
	{
		t->gone = true;
		return;
	}
	attnum = get_attnum(t->relid, u->p->time_column);
	t->indexed = has_time_index(rel, attnum);
	t->nblocks = RelationGetNumberOfBlocks(rel);
	if (rel->rd_rel->relpages > 0 && rel->rd_rel->reltuples > 0)
		per_page = rel->rd_rel->reltuples / rel->rd_rel->relpages;
	if (per_page < 1)
		per_page = 50;			/* never analyzed: a typical narrow row */
	t->blocks_per_batch = (int) Max(1, Min(u->p->batch_size / per_page, 131072));
	relation_close(rel, NoLock);

	values[0] = TimestampTzGetDatum(u->cutoff);
	nest = push_constraint_exclusion();
	SPI_connect();
	/*
	 * With an index, ask for the oldest row: a bare LIMIT 1 lets the planner
	 * seq-scan from the heap's start, which in an append-only table holds
	 * the newest rows (a fifth of a 1M-row run went there).
	 */
	sql = t->indexed ?
		psprintf("SELECT pg_catalog.count(*) FROM (SELECT FROM ONLY %s WHERE %s OPERATOR(pg_catalog.<) $1 ORDER BY %s LIMIT 1) s",
				 t->name, col, col) :
		psprintf("SELECT pg_catalog.count(*) FROM (SELECT FROM ONLY %s WHERE %s OPERATOR(pg_catalog.<) $1 LIMIT 1) s",
				 t->name, col);
	if (SPI_execute_with_args(sql, 1, argtypes, values, NULL, true, 0) != SPI_OK_SELECT)
		elog(ERROR, "could not run %s", sql);
	t->may_hold = DatumGetInt64(SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1, &isnull)) > 0;
	SPI_finish();
	AtEOXact_GUC(true, nest);
}

/* The statements of one heap's batches, built once per heap. */
typedef struct BatchSql
{
	char	   *boundary[2];	/* [lo exclusive]: the time just past a batch */
	char	   *range[2];		/* remove rows in [lo, hi) (or (lo, hi)) */
	char	   *range_count[2];
	char	   *tie;			/* remove rows at exactly lo, by ctid */
	char	   *tie_count;		/* dry run: rows at exactly lo a tie batch may take */
	char	   *blocks;			/* no index: remove rows in a block range, by ctid */
	char	   *blocks_count;
} BatchSql;

typedef enum BatchKind
{
	BK_RANGE,					/* keyset: every old row in [lo, hi) */
	BK_TIE,						/* more rows share lo than one batch takes */
	BK_BLOCKS					/* no index: a range of heap blocks */
} BatchKind;

/*
 * One batch, and the position of the walk over one heap.  A dry run takes
 * the same steps with counts in place of deletes, so it makes the same
 * batches a real run would.
 */
typedef struct BatchUnit
{
	BatchSql   *sql;
	bool		dry_run;
	bool		archive;
	bool		indexed;
	Oid			coltype;
	TimestampTz cutoff;
	int64		limit;
	/* keyset walk */
	Datum		lo;
	bool		lo_exclusive;
	int64		skip;			/* dry run: rows at lo already counted */
	/* block walk */
	BlockNumber start;
	BlockNumber end;
	int64		range_left;		/* dry run: rows left in the range, -1 unknown */
	/* this batch */
	BatchKind	kind;
	bool		last;
	Datum		hi;
	int64		deleted;
	int64		archived;
	int64		chosen;			/* rows the batch picked; more than deleted when
								 * other sessions moved some past the cutoff */
} BatchUnit;

static Datum
time_infinity(Oid typid, bool plus)
{
	if (typid == DATEOID)
		return DateADTGetDatum(plus ? DATEVAL_NOEND : DATEVAL_NOBEGIN);
	return Int64GetDatum(plus ? DT_NOEND : DT_NOBEGIN);	/* timestamp and timestamptz */
}

static int64
spi_count(const char *sql, int nargs, Oid *types, Datum *vals)
{
	bool		isnull;

	return DatumGetInt64(dbopt_spi_value(sql, nargs, types, vals, &isnull));
}

static void
batch_unit(void *arg)
{
	BatchUnit  *u = arg;
	BatchSql   *q = u->sql;
	Oid			types[4];
	Datum		vals[4];
	ItemPointerData from,
				to;
	const char *stmt;

	u->deleted = u->archived = u->chosen = 0;
	u->last = false;
	types[1] = TIMESTAMPTZOID;
	vals[1] = TimestampTzGetDatum(u->cutoff);
	types[2] = INT8OID;
	SPI_connect();
	if (u->indexed)
	{
		types[0] = types[3] = u->coltype;
		vals[0] = u->lo;
		vals[2] = Int64GetDatum(u->limit + u->skip);
		if (SPI_execute_with_args(q->boundary[u->lo_exclusive], 3, types, vals, NULL, false, 0) != SPI_OK_SELECT)
			elog(ERROR, "could not run %s", q->boundary[u->lo_exclusive]);
		if (SPI_processed == 0)
		{
			u->last = true;
			u->hi = time_infinity(u->coltype, true);
		}
		else
		{
			bool		isnull;

			u->hi = SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1, &isnull);
		}
		/* Times are passed by value, so equal values are equal Datums. */
		u->kind = (!u->last && !u->lo_exclusive && u->hi == u->lo) ? BK_TIE : BK_RANGE;
		stmt = u->kind == BK_TIE ? q->tie : q->range[u->lo_exclusive];
		vals[3] = u->hi;
		if (u->dry_run && u->kind == BK_RANGE)
			u->deleted = spi_count(q->range_count[u->lo_exclusive], 4, types, vals) - u->skip;
		else if (u->dry_run)
		{
			/* The rows at lo a tie batch may take: unreferenced, not yet counted. */
			int64		left = spi_count(q->tie_count, 4, types, vals) - u->skip;

			u->deleted = Max(0, Min(u->limit, left));
		}
	}
	else
	{
		u->kind = BK_BLOCKS;
		types[0] = types[3] = TIDOID;
		ItemPointerSet(&from, u->start, 0);
		ItemPointerSet(&to, u->end, 0);
		vals[0] = PointerGetDatum(&from);
		vals[3] = PointerGetDatum(&to);
		stmt = q->blocks;
		if (u->dry_run)
		{
			if (u->range_left < 0)
				u->range_left = spi_count(q->blocks_count, 4, types, vals);
			u->deleted = Min(u->limit, u->range_left);
			u->range_left -= u->deleted;
		}
	}
	vals[2] = Int64GetDatum(u->limit);

	if (!u->dry_run)
	{
		HeapTuple	tup;
		bool		isnull;

		int			rc = SPI_execute_with_args(stmt, 4, types, vals, NULL, false, 0);

		if (rc == SPI_OK_DELETE)
			u->deleted = u->chosen = (int64) SPI_processed;
		else
		{
			if (rc != SPI_OK_SELECT || SPI_processed != 1)
				elog(ERROR, "could not run %s", stmt);
			tup = SPI_tuptable->vals[0];
			u->deleted = DatumGetInt64(SPI_getbinval(tup, SPI_tuptable->tupdesc, 1, &isnull));
			u->archived = DatumGetInt64(SPI_getbinval(tup, SPI_tuptable->tupdesc, 2, &isnull));
			u->chosen = DatumGetInt64(SPI_getbinval(tup, SPI_tuptable->tupdesc, 3, &isnull));
			if (isnull)
				u->chosen = u->deleted;
		}
		if (u->archive && u->archived != u->deleted)
			ereport(ERROR,
					(errcode(ERRCODE_DATA_EXCEPTION),
					 errmsg("the archive took " INT64_FORMAT " of " INT64_FORMAT " rows", u->archived, u->deleted),
					 errdetail("A trigger or rule on the archive table dropped rows; the batch was rolled back so that nothing is lost."),
					 errhint("Make the archive table accept every row.")));
	}
	else
	{
		u->chosen = u->deleted;
		if (u->archive)
			u->archived = u->deleted;
	}
	SPI_finish();
}

/* ---------- running a policy ---------- */

static void
retention_sleep(int ms)
{
	TimestampTz until = TimestampTzPlusMilliseconds(GetCurrentTimestamp(), ms);

	for (;;)
	{
		long		left = TimestampDifferenceMilliseconds(GetCurrentTimestamp(), until);

		if (left <= 0)
			break;
		(void) WaitLatch(MyLatch, WL_LATCH_SET | WL_TIMEOUT | WL_EXIT_ON_PM_DEATH,
						 left, PG_WAIT_EXTENSION);
		ResetLatch(MyLatch);
		CHECK_FOR_INTERRUPTS();
	}
}

/* Between two units: the procedure commits and pauses; both check the clock. */
static bool
between_units(void *arg)
{
	Runner	   *r = arg;

	if (r->commit)
	{
		MemoryContext old = MemoryContextSwitchTo(r->cxt);

		SPI_commit();
		MemoryContextSwitchTo(old);
		retention_sleep(dbopt_retention_batch_delay_ms);
	}
	CHECK_FOR_INTERRUPTS();
	if (r->deadline != 0 && GetCurrentTimestamp() >= r->deadline)
	{
		r->out_of_time = true;
		return false;
	}
	return true;
}

void
dbopt_ret_add_detail(Outcome *o, const char *fmt,...)
{
	va_list		args;

	if (o->detail.len > 0)
		appendStringInfoString(&o->detail, "; ");
	for (;;)
	{
		int			needed;

		va_start(args, fmt);
		needed = appendStringInfoVA(&o->detail, fmt, args);
		va_end(args);
		if (needed == 0)
			break;
		enlargeStringInfo(&o->detail, needed);
	}
}

/* A batch failed: a lock wait ends the policy for now, anything else is an error. */
static void
batch_failed(Outcome *o, Target *t, DboptUnitError *err)
{
	if (err->lock_timeout)
	{
		o->lock_busy = true;
		dbopt_ret_add_detail(o, "%s: %s; the rest goes on the next run", t->name, dbopt_unit_error_text(err));
	}
	else
	{
		o->failed = true;
		dbopt_ret_add_detail(o, "SQLSTATE %s: %s%s%s (in %s, after %d batch(es))",
							 unpack_sql_state(err->sqlerrcode), err->message,
							 err->detail ? ": " : "", err->detail ? err->detail : "",
							 t->name, o->batches);
	}
}


/*
 * The removal statement: a DELETE that repeats the cutoff.  In archive
 * mode, and with a chooser (a query for the ctids of one batch), it is a
 * data-modifying CTE yielding one row (deleted, archived, chosen): how many
 * rows the chooser picked tells the block walk whether its range is done,
 * even when other sessions' updates kept some of them.  Otherwise a plain
 * DELETE skips the CTE's tuplestore, which costs a third of a batch.
 */
static char *
removal_sql(const char *name, const char *where, const char *chooser, const char *col,
			const char *archive, const char *columns)
{
	StringInfoData buf;

	if (!archive && !chooser)
		return psprintf("DELETE FROM ONLY %s WHERE %s AND %s < $2", name, where, col);
	initStringInfo(&buf);
	appendStringInfoString(&buf, "WITH ");
	if (chooser)
		appendStringInfo(&buf, "c AS (%s), ", chooser);
	appendStringInfo(&buf, "d AS (DELETE FROM ONLY %s WHERE %s AND %s < $2 RETURNING %s)",
					 name, chooser ? "ctid = ANY (ARRAY(SELECT ctid FROM c))" : where, col,
					 archive ? columns : "1");
	if (archive)
		appendStringInfo(&buf, ", a AS (INSERT INTO %s (%s) SELECT %s FROM d RETURNING 1)",
						 archive, columns, columns);
	appendStringInfo(&buf, " SELECT (SELECT count(*) FROM d), %s, %s",
					 archive ? "(SELECT count(*) FROM a)" : "0::int8",
					 chooser ? "(SELECT count(*) FROM c)" : "NULL::int8");
	return buf.data;
}

/* The statements of one heap's batches, rows that others' foreign keys reference left out (keep). */
static void
batch_sql(BatchSql *q, const Policy *p, const Target *t, const char *columns, const char *keep)
{
	const char *col = quote_identifier(p->time_column);
	const char *archive = p->archive ? dbopt_qualified_relname(p->archive_relid) : NULL;

	for (int x = 0; x < 2; x++)
	{
		const char *op = x ? ">" : ">=";
		char	   *w = psprintf("%s %s $1 AND %s < $4%s", col, op, col, keep);

		q->boundary[x] = psprintf("SELECT %s FROM ONLY %s WHERE %s %s $1 AND %s < $2 ORDER BY %s OFFSET $3 LIMIT 1",
								  col, t->name, col, op, col, col);
		q->range[x] = removal_sql(t->name, w, NULL, col, archive, columns);
		q->range_count[x] = psprintf("SELECT count(*) FROM ONLY %s WHERE %s AND %s < $2", t->name, w, col);
	}
	q->tie = removal_sql(t->name,
						 psprintf("ctid = ANY (ARRAY(SELECT ctid FROM ONLY %s WHERE %s = $1 AND %s < $2%s LIMIT $3)) AND %s = $1",
								  t->name, col, col, keep, col),
						 NULL, col, archive, columns);
	q->tie_count = psprintf("SELECT pg_catalog.count(*) FROM ONLY %s WHERE %s OPERATOR(pg_catalog.=) $1"
							" AND %s OPERATOR(pg_catalog.<) $2%s AND $3 IS NOT NULL AND $4 IS NOT NULL",
							t->name, col, col, keep);
	q->blocks = removal_sql(t->name, NULL,
							psprintf("SELECT ctid FROM ONLY %s WHERE ctid >= $1 AND ctid < $4 AND %s < $2%s LIMIT $3",
									 t->name, col, keep),
							col, archive, columns);
	q->blocks_count = psprintf("SELECT count(*) FROM ONLY %s WHERE ctid >= $1 AND ctid < $4 AND %s < $2%s",
							   t->name, col, keep);
}

/* Where the next batch starts; true when the heap is done. */
static bool
next_batch(BatchUnit *u, bool dry_run, int64 limit)
{
	switch (u->kind)
	{
		case BK_RANGE:
			if (u->last)
				return true;
			u->lo = u->hi;
			u->lo_exclusive = false;
			u->skip = 0;
			break;
		case BK_TIE:
			if (u->deleted == 0)
				u->lo_exclusive = true; /* the rows left at lo stay (referenced, or changed under us) */
			else if (dry_run)
				u->skip += u->deleted;
			break;
		case BK_BLOCKS:
			if (u->chosen < limit)
			{
				u->start = u->end;
				u->range_left = -1;
			}
			break;
	}
	return false;
}

/*
 * The rows the next batch may take: the batch size, within what
 * max_rows_per_run leaves; false when that is reached (the policy stops).
 */
static bool
batch_limit(const Policy *p, Outcome *o, int64 *limit)
{
	int64		left = p->max_rows - o->deleted;

	*limit = p->batch_size;
	if (p->max_rows <= 0)
		return true;
	if (left <= 0)
	{
		o->stopped = true;
		dbopt_ret_add_detail(o, "max_rows_per_run (" INT64_FORMAT ") reached; the rest goes on the next run",
							 p->max_rows);
		return false;
	}
	*limit = Min(*limit, left);
	return true;
}

/* Remove (or count) one heap's old rows in batches; false when the policy must stop. */
static bool
run_target(Runner *r, Policy *p, Target *t, const char *columns, List *blocking, Outcome *o)
{
	BatchSql	q;
	BatchUnit	u;

	batch_sql(&q, p, t, columns,
			  dbopt_ret_unreferenced_filter(blocking, p->relid, t->relid, t->name));
	memset(&u, 0, sizeof(u));
	u.sql = &q;
	u.dry_run = r->dry_run;
	u.archive = p->archive;
	u.indexed = t->indexed;
	u.coltype = getBaseType(get_atttype(t->relid, get_attnum(t->relid, p->time_column)));
	u.cutoff = o->cutoff;
	u.lo = time_infinity(u.coltype, false);
	u.range_left = -1;

	for (;;)
	{
		int64		limit;
		DboptUnitError err;
		TimestampTz began;

		CHECK_FOR_INTERRUPTS();
		if (!batch_limit(p, o, &limit))
			return false;
		if (!t->indexed)
		{
			if (u.start >= t->nblocks)
				return true;
			u.end = (BlockNumber) Min((uint64) u.start + t->blocks_per_batch, (uint64) MaxBlockNumber);
		}
		u.limit = limit;

		began = GetCurrentTimestamp();
		if (!dbopt_run_unit(batch_unit, &u, dbopt_unit_owner(t->relid), 0, 0, &err))
		{
			batch_failed(o, t, &err);
			return false;
		}
		if (u.deleted > 0)
		{
			o->batches++;
			o->deleted += u.deleted;
			o->archived += u.archived;
			o->longest_batch_ms = Max(o->longest_batch_ms,
									  (double) (GetCurrentTimestamp() - began) / 1000.0);
		}
		if (next_batch(&u, r->dry_run, limit))
			return true;

		if (u.deleted > 0 && !between_units(r))
		{
			o->stopped = true;
			return false;
		}
		else if (u.deleted == 0 && r->deadline != 0 && GetCurrentTimestamp() >= r->deadline)
		{
			r->out_of_time = true;
			o->stopped = true;
			return false;
		}
	}
}

/* Whether relid or one of its ancestors is in the list. */
static bool
in_or_under(Oid relid, List *relids)
{
	List	   *ancestors;
	ListCell   *lc;

	if (list_member_oid(relids, relid))
		return true;
	ancestors = get_partition_ancestors(relid);
	foreach(lc, ancestors)
	{
		if (list_member_oid(relids, lfirst_oid(lc)))
			return true;
	}
	return false;
}

/* The heaps a policy's rows live in: the table, or its leaf partitions. */
static List *
policy_targets(Policy *p, char relkind, List *dropped)
{
	List	   *relids;
	List	   *targets = NIL;
	ListCell   *lc;

	if (relkind != RELKIND_PARTITIONED_TABLE)
		relids = list_make1_oid(p->relid);
	else
		relids = find_all_inheritors(p->relid, NoLock, NULL);
	foreach(lc, relids)
	{
		Oid			relid = lfirst_oid(lc);
		Target	   *t;

		CHECK_FOR_INTERRUPTS();	/* a table may have thousands of partitions */

		if (get_rel_relkind(relid) != RELKIND_RELATION || in_or_under(relid, dropped))
			continue;
		t = palloc0(sizeof(Target));
		t->relid = relid;
		t->name = dbopt_qualified_relname(relid);
		targets = lappend(targets, t);
	}
	return targets;
}

/* Whole partitions, for a table range-partitioned on the time column. */
static void
drop_partitions(Runner *r, Policy *p, Outcome *o, DboptPartitionDrops *drops)
{
	dbopt_drop_partitions_below(p->relid, p->time_column, o->cutoff, r->dry_run, p->archive,
								r->dry_run ? NULL : between_units, r, drops);
	if (!drops->applies)
		return;
	o->dropped = drops->dropped;
	if (drops->dropped > 0)
		dbopt_ret_add_detail(o, "%d partition(s) %s (wholly older than the cutoff%s)", drops->dropped,
							 r->dry_run ? "would be dropped" : "dropped",
							 p->archive ? "; emptied into the archive first" :
							 psprintf(", about " INT64_FORMAT " rows", drops->rows));
	if (drops->skipped > 0)
		dbopt_ret_add_detail(o, "%d partition(s) skipped, first: %s", drops->skipped, drops->first_problem);
	if (r->out_of_time)
		o->stopped = true;
}

static void
run_policy(Runner *r, Policy *p, Outcome *o)
{
	PrepareUnit pu;
	DboptUnitError err;
	DboptPartitionDrops drops;
	List	   *targets;
	ListCell   *lc;
	StringInfoData unindexed;
	bool		partitioned;
	MemoryContext tcxt;

	memset(&drops, 0, sizeof(drops));
	o->cutoff = DatumGetTimestampTz(DirectFunctionCall2(timestamptz_mi_interval,
														TimestampTzGetDatum(GetCurrentTransactionStartTimestamp()),
														IntervalPGetDatum(p->keep)));
	if (!p->enabled)
	{
		o->status = "skipped";
		dbopt_ret_add_detail(o, "policy disabled");
		return;
	}
	memset(&pu, 0, sizeof(pu));
	pu.p = p;
	pu.operation = r->operation;
	if (!dbopt_run_isolated(prepare_unit, &pu, 0, &err))
	{
		o->failed = true;
		o->status = err.lock_timeout ? "skipped" : "error";
		dbopt_ret_add_detail(o, "%s", err.lock_timeout ? dbopt_unit_error_text(&err) :
							 psprintf("SQLSTATE %s: %s", unpack_sql_state(err.sqlerrcode), err.message));
		return;
	}
	if (pu.references)
		dbopt_ret_add_detail(o, "%s", pu.references);
	partitioned = pu.relkind == RELKIND_PARTITIONED_TABLE;
	if (pu.blocking != NIL && !dbopt_ret_check_referenced(p, pu.blocking, o))
		goto done;

	/*
	 * Delete mode drops whole partitions first; archive mode empties them
	 * first.  Under a blocking key, rows go one batch at a time instead, so
	 * that referenced rows can stay.
	 */
	if (partitioned && !p->archive && pu.blocking == NIL)
	{
		drop_partitions(r, p, o, &drops);
		if (o->stopped)
			goto done;
	}

	targets = policy_targets(p, pu.relkind, r->dry_run && !p->archive ? drops.relids : NIL);
	initStringInfo(&unindexed);
	/* Per heap: a table with thousands of partitions must not pile up statements. */
	tcxt = AllocSetContextCreate(CurrentMemoryContext, "dbopt retention heap", ALLOCSET_SMALL_SIZES);
	foreach(lc, targets)
	{
		Target	   *t = lfirst(lc);
		TargetUnit	tu;
		MemoryContext old = MemoryContextSwitchTo(tcxt);
		bool		go_on = true;

		CHECK_FOR_INTERRUPTS();
		tu.t = t;
		tu.p = p;
		tu.cutoff = o->cutoff;
		if (!dbopt_run_isolated(target_unit, &tu, 0, &err))
		{
			batch_failed(o, t, &err);
			go_on = false;
		}
		else if (!t->gone)
		{
			if (!t->indexed && (t->may_hold || !partitioned))
				appendStringInfo(&unindexed, "%s%s", unindexed.len ? ", " : "", t->name);
			if (t->may_hold && !run_target(r, p, t, pu.columns, pu.blocking, o))
				go_on = false;
		}
		MemoryContextSwitchTo(old);
		MemoryContextReset(tcxt);
		if (!go_on)
			break;
	}
	MemoryContextDelete(tcxt);
	if (unindexed.len > 0)
		dbopt_ret_add_detail(o, "warning time_column_not_indexed: no btree index leads on %s in %s, so batches walk the heap in block ranges",
							 quote_identifier(p->time_column), unindexed.data);

	if (partitioned && p->archive && pu.blocking == NIL && !o->failed && !o->lock_busy && !o->stopped)
		drop_partitions(r, p, o, &drops);

done:
	if (o->stopped && r->out_of_time)
		dbopt_ret_add_detail(o, "stopped at max_duration; the next call resumes");
	if (o->failed)
		o->status = "error";
	else if (o->lock_busy)
		o->status = "skipped";
	else
		o->status = r->dry_run ? "dry_run" : "ok";
}

/* Remember the run on the policy row and in the maintenance log. */
static void
record_outcome(Runner *r, Policy *p, Outcome *o, double ms)
{
	char	   *name = get_rel_relkind(p->relid) != '\0' ?
		dbopt_qualified_relname(p->relid) : psprintf("%u", p->relid);
	char	   *cutoff = DatumGetCString(DirectFunctionCall1(timestamptz_out,
															 TimestampTzGetDatum(o->cutoff)));
	const char *action;

	if (strcmp(o->status, "ok") == 0)
		action = p->archive ? "archived" : "deleted";
	else if (strcmp(o->status, "dry_run") == 0)
		action = p->archive ? "would archive" : "would delete";
	else
		action = o->status;
	dbopt_log_action(r->operation, name, action, o->deleted, -1,
					 psprintf("cutoff %s; %d batch(es), longest %.1f ms; %d partition(s) dropped; took %.1f ms%s%s",
							  cutoff, o->batches, o->longest_batch_ms, o->dropped, ms,
							  o->detail.len ? "; " : "", o->detail.data));

	/* A run cut short is not a run: the policy stays first in line. */
	if (!r->dry_run && !o->stopped)
	{
		Oid			argtypes[3] = {OIDOID, INT8OID, TEXTOID};
		Datum		values[3];
		DboptIdentity saved;

		values[0] = ObjectIdGetDatum(p->relid);
		values[1] = Int64GetDatum(o->deleted);
		values[2] = CStringGetTextDatum(o->status);
		dbopt_elevate(&saved);
		SPI_connect();
		if (SPI_execute_with_args("UPDATE dbopt.retention_policies SET last_run_at = pg_catalog.clock_timestamp(),"
								  " last_rows = $2, last_status = $3 WHERE relation = $1::regclass",
								  3, argtypes, values, NULL, false, 0) != SPI_OK_UPDATE)
			elog(ERROR, "could not update dbopt.retention_policies");
		SPI_finish();
		dbopt_restore_identity(&saved);
	}
}

/* ---------- entry points ---------- */

PG_FUNCTION_INFO_V1(dbopt_apply_data_retention_policies);

Datum
dbopt_apply_data_retention_policies(PG_FUNCTION_ARGS)
{
	ReturnSetInfo *rsinfo = (ReturnSetInfo *) fcinfo->resultinfo;
	Runner		r;
	List	   *policies;
	ListCell   *lc;
	MemoryContext itemcxt;
	int			nok = 0,
				nother = 0;
	int64		total = 0;

	memset(&r, 0, sizeof(r));
	r.dry_run = dbopt_steering_bool(fcinfo, 0, "dry_run");
	r.operation = "apply_data_retention_policies";
	r.cxt = CurrentMemoryContext;
	dbopt_init_materialized_srf(fcinfo);
	policies = dbopt_ret_load_policies();
	itemcxt = AllocSetContextCreate(CurrentMemoryContext, "dbopt retention policy",
									ALLOCSET_DEFAULT_SIZES);
	foreach(lc, policies)
	{
		Policy	   *p = lfirst(lc);
		MemoryContext old = MemoryContextSwitchTo(itemcxt);
		Outcome		o;
		TimestampTz began = GetCurrentTimestamp();
		double		ms;
		Datum		values[10];
		bool		nulls[10] = {0};

		memset(&o, 0, sizeof(o));
		initStringInfo(&o.detail);
		run_policy(&r, p, &o);
		ms = (double) (GetCurrentTimestamp() - began) / 1000.0;
		record_outcome(&r, p, &o, ms);
		if (strcmp(o.status, "ok") == 0 || strcmp(o.status, "dry_run") == 0)
			nok++;
		else
			nother++;
		total += o.deleted;

		values[0] = ObjectIdGetDatum(p->relid);
		values[1] = CStringGetTextDatum(p->archive ? "archive" : "delete");
		values[2] = TimestampTzGetDatum(o.cutoff);
		values[3] = Int64GetDatum(o.deleted);
		values[4] = Int64GetDatum(o.archived);
		values[5] = Int32GetDatum(o.dropped);
		values[6] = Int32GetDatum(o.batches);
		values[7] = Float8GetDatum(ms);
		values[8] = CStringGetTextDatum(o.status);
		values[9] = CStringGetTextDatum(o.detail.data);
		nulls[9] = o.detail.len == 0;
		tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc, values, nulls);
		MemoryContextSwitchTo(old);
		MemoryContextReset(itemcxt);
	}
	MemoryContextDelete(itemcxt);
	ereport(NOTICE,
			(errmsg("apply_data_retention_policies%s: %d polic%s ok, %d skipped or failed, " INT64_FORMAT " row(s) %s",
					r.dry_run ? " dry run" : "", nok, nok == 1 ? "y" : "ies", nother, total,
					r.dry_run ? "would go" : "removed")));
	return (Datum) 0;
}

/*
 * The committing run behind CALL run_data_retention() and the worker's
 * retention jobs: each batch and partition commits on its own.  The
 * caller must be in a transaction that may be committed (not atomic, not
 * in a subtransaction, holding no snapshot); deadline 0 means no limit.
 */
static void
retention_run_committing(TimestampTz deadline)
{
	Runner		r;
	List	   *policies;
	ListCell   *lc;
	MemoryContext itemcxt;
	MemoryContext caller = CurrentMemoryContext;
	int			done = 0;

	memset(&r, 0, sizeof(r));
	r.commit = true;
	r.operation = "run_data_retention";
	r.deadline = deadline;
	r.cxt = AllocSetContextCreate(PortalContext ? PortalContext : TopMemoryContext,
								  "dbopt run_data_retention", ALLOCSET_DEFAULT_SIZES);
	MemoryContextSwitchTo(r.cxt);
	SPI_connect_ext(SPI_OPT_NONATOMIC);
	MemoryContextSwitchTo(r.cxt);
	policies = dbopt_ret_load_policies();
	itemcxt = AllocSetContextCreate(r.cxt, "dbopt retention policy", ALLOCSET_DEFAULT_SIZES);
	foreach(lc, policies)
	{
		Policy	   *p = lfirst(lc);
		Outcome		o;
		TimestampTz began = GetCurrentTimestamp();
		double		ms;

		if (r.deadline != 0 && began >= r.deadline)
		{
			ereport(NOTICE,
					(errmsg("run_data_retention: max_duration reached after %d of %d policies; the next call resumes",
							done, list_length(policies))));
			break;
		}
		MemoryContextSwitchTo(itemcxt);
		memset(&o, 0, sizeof(o));
		initStringInfo(&o.detail);
		pgstat_report_activity(STATE_RUNNING,
							   psprintf("dbopt run_data_retention: %s", dbopt_qualified_relname(p->relid)));
		run_policy(&r, p, &o);
		ms = (double) (GetCurrentTimestamp() - began) / 1000.0;
		record_outcome(&r, p, &o, ms);
		ereport(NOTICE,
				(errmsg("run_data_retention: %s %s: " INT64_FORMAT " deleted, " INT64_FORMAT " archived, %d partition(s) dropped, %d batch(es), longest %.1f ms",
						get_rel_relkind(p->relid) != '\0' ? dbopt_qualified_relname(p->relid) : psprintf("%u", p->relid),
						o.status, o.deleted, o.archived, o.dropped, o.batches, o.longest_batch_ms),
				 o.detail.len ? errdetail("%s.", o.detail.data) : 0));
		MemoryContextSwitchTo(r.cxt);
		SPI_commit();
		MemoryContextSwitchTo(r.cxt);
		MemoryContextReset(itemcxt);
		if (!o.stopped)
			done++;
		if (r.out_of_time)
		{
			ereport(NOTICE,
					(errmsg("run_data_retention: max_duration reached; the next call resumes")));
			break;
		}
	}
	SPI_finish();
	MemoryContextSwitchTo(caller);
	MemoryContextDelete(r.cxt);
}

PG_FUNCTION_INFO_V1(dbopt_run_data_retention);

/*
 * CALL dbopt.run_data_retention(max_duration): the same work as the
 * function, committing after every batch and partition so no transaction
 * holds locks or an xmin for long.  Progress needs no bookkeeping: the
 * next call computes a new cutoff and finds whatever old rows are left.
 */
Datum
dbopt_run_data_retention(PG_FUNCTION_ARGS)
{
	CallContext *call = (fcinfo->context && IsA(fcinfo->context, CallContext)) ?
		(CallContext *) fcinfo->context : NULL;
	TimestampTz started = GetCurrentTimestamp();
	TimestampTz deadline = 0;

	if (call == NULL || call->atomic)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_TRANSACTION_TERMINATION),
				 errmsg("run_data_retention must be called with CALL outside a transaction block"),
				 errdetail("It commits after every batch, which is not possible inside BEGIN ... COMMIT, a multi-statement query string or a function."),
				 errhint("Run CALL dbopt.run_data_retention() on its own, or SELECT dbopt.apply_data_retention_policies() for one transaction.")));
	if (!PG_ARGISNULL(0))
	{
		deadline = DatumGetTimestampTz(DirectFunctionCall2(timestamptz_pl_interval,
														   TimestampTzGetDatum(started),
														   PG_GETARG_DATUM(0)));
		if (deadline <= started)
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("max_duration must be positive"),
					 errdetail("It is how long this call may run before it stops cleanly."),
					 errhint("Pass NULL to run until every policy is done.")));
	}
	retention_run_committing(deadline);
	PG_RETURN_VOID();
}
