/*-------------------------------------------------------------------------
 *
 * retention.c
 *	  Row-retention policies: the registry (dbopt.retention_policies),
 *	  apply_data_retention_policies() and CALL dbopt.run_data_retention().
 *
 * A policy keeps the rows of a table whose time column is at least
 * now() - keep.  Older rows go in batches.  Each batch is one statement in
 * its own subtransaction (in the procedure, its own transaction), and no
 * batch goes back over ground an earlier one covered: with a btree index
 * leading on the time column a batch starts where the last one ended
 * (keyset), without one the heap is walked once in block ranges.
 *
 * Every DELETE repeats "time_column < cutoff" as an ordinary qual, not only
 * the ctid list: when another session updates a chosen row meanwhile, the
 * executor re-checks that qual against the new version, so a row moved past
 * the cutoff is kept.  In archive mode the batch deletes and inserts in one
 * statement and fails unless the archive took every row it deleted.
 *
 * A table range-partitioned on the time column loses whole partitions
 * first (partition_drops.c); in archive mode they are emptied into the
 * archive before they go.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/genam.h"
#include "access/htup_details.h"
#include "access/relation.h"
#include "access/table.h"
#include "access/xact.h"
#include "catalog/indexing.h"
#include "catalog/partition.h"
#include "catalog/pg_am.h"
#include "catalog/pg_class.h"
#include "catalog/pg_constraint.h"
#include "catalog/pg_index.h"
#include "catalog/pg_operator.h"
#include "catalog/pg_inherits.h"
#include "catalog/pg_type.h"
#include "executor/spi.h"
#include "funcapi.h"
#include "lib/stringinfo.h"
#include "mb/pg_wchar.h"
#include "miscadmin.h"
#include "nodes/parsenodes.h"
#include "pgstat.h"
#include "storage/bufmgr.h"
#include "storage/itemptr.h"
#include "storage/latch.h"
#include "utils/builtins.h"
#include "utils/date.h"
#include "utils/datetime.h"
#include "utils/datum.h"
#include "utils/fmgroids.h"
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
#include "dbopt/util.h"

/* One row of dbopt.retention_policies. */
typedef struct Policy
{
	Oid			relid;
	char	   *time_column;
	Interval   *keep;
	char	   *keep_text;
	bool		archive;
	Oid			archive_relid;
	int			batch_size;
	int64		max_rows;		/* 0: no limit */
	bool		enabled;
	bool		error_if_referenced;	/* on_referenced = 'error' */
} Policy;

/* What one policy did in one run. */
typedef struct Outcome
{
	TimestampTz cutoff;
	int64		deleted;
	int64		archived;
	int			dropped;
	int			batches;
	double		longest_batch_ms;
	const char *status;
	StringInfoData detail;
	bool		stopped;		/* out of time or rows: resumes next run */
	bool		failed;
	bool		lock_busy;
} Outcome;

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

static const char *const policy_modes[] = {"delete", "archive"};

/* ---------- validation ---------- */

static bool
time_type(Oid typid)
{
	return typid == TIMESTAMPTZOID || typid == TIMESTAMPOID || typid == DATEOID;
}

static char *
owner_detail(Oid relid, const char *func, const char *what)
{
	return psprintf("%s() deletes rows of %s %s, which only its owner may do.",
					func, what, dbopt_qualified_relname(relid));
}

static void
require_owner(Oid relid, const char *func, const char *what)
{
	dbopt_require_owner(relid, "%s", owner_detail(relid, func, what));
}

static void
require_table(Oid relid, const char *argname)
{
	char		kind = get_rel_relkind(relid);

	if (kind == '\0')
		ereport(ERROR,
				(errcode(ERRCODE_UNDEFINED_TABLE),
				 errmsg("relation with OID %u does not exist", relid),
				 errdetail("The %s was dropped after the policy was registered.", argname),
				 errhint("Remove the policy with dbopt.remove_retention_policy().")));
	if (kind != RELKIND_RELATION && kind != RELKIND_PARTITIONED_TABLE)
		ereport(ERROR,
				(errcode(ERRCODE_WRONG_OBJECT_TYPE),
				 errmsg("%s is not a table", dbopt_qualified_relname(relid)),
				 errdetail("The %s of a retention policy must be a table or a partitioned table.", argname),
				 errhint("Views, materialized views and foreign tables keep no rows of their own to delete.")));
}

/* The time column's base type, or an error saying what is wrong with it. */
static Oid
check_time_column(Oid relid, const char *column)
{
	AttrNumber	attnum = get_attnum(relid, column);
	Oid			typid;

	if (attnum == InvalidAttrNumber || attnum < 0)
		ereport(ERROR,
				(errcode(ERRCODE_UNDEFINED_COLUMN),
				 errmsg("column \"%s\" of relation %s does not exist", column,
						dbopt_qualified_relname(relid)),
				 errdetail("A retention policy needs the column that holds each row's time."),
				 errhint("Name a column of type timestamptz, timestamp or date.")));
	typid = getBaseType(get_atttype(relid, attnum));
	if (!time_type(typid))
		ereport(ERROR,
				(errcode(ERRCODE_DATATYPE_MISMATCH),
				 errmsg("column \"%s\" of relation %s has type %s", column,
						dbopt_qualified_relname(relid), format_type_be(get_atttype(relid, attnum))),
				 errdetail("A row's age is measured on a timestamptz, timestamp or date column."),
				 errhint("Name a time column, or keep integer-keyed data with dbopt.manage_partitions().")));
	return typid;
}

/* Every column of source exists in archive with the same type. */
static void
check_archive_shape(Oid source, Oid archive)
{
	Relation	rel = relation_open(source, AccessShareLock);
	TupleDesc	desc = RelationGetDescr(rel);
	int			i;

	if (archive == source)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("a table cannot be its own archive"),
				 errdetail("Archived rows would be deleted and inserted into the same table."),
				 errhint("Pass another table as archive_table, or NULL to have one created.")));
	for (i = 0; i < desc->natts; i++)
	{
		Form_pg_attribute att = TupleDescAttr(desc, i);
		AttrNumber	a;

		if (att->attisdropped)
			continue;
		a = get_attnum(archive, NameStr(att->attname));
		if (a == InvalidAttrNumber || a < 0 || get_atttype(archive, a) != att->atttypid)
			ereport(ERROR,
					(errcode(ERRCODE_DATATYPE_MISMATCH),
					 errmsg("archive table %s does not match %s",
							dbopt_qualified_relname(archive), dbopt_qualified_relname(source)),
					 a == InvalidAttrNumber || a < 0 ?
					 errdetail("Column \"%s\" is missing from the archive.", NameStr(att->attname)) :
					 errdetail("Column \"%s\" has type %s in the archive, not %s.", NameStr(att->attname),
							   format_type_be(get_atttype(archive, a)), format_type_be(att->atttypid)),
					 errhint("Every column of the table must exist in the archive with the same type; pass NULL to have a matching table created.")));
	}
	relation_close(rel, AccessShareLock);
}

/* Quoted list of the source's columns, the shape an archived row has. */
static char *
column_list(Oid relid)
{
	Relation	rel = relation_open(relid, AccessShareLock);
	char	   *cols = dbopt_column_names(RelationGetDescr(rel), false);

	relation_close(rel, AccessShareLock);
	return cols;
}

static int
cstring_list_cmp(const ListCell *a, const ListCell *b)
{
	return strcmp(lfirst(a), lfirst(b));
}

/*
 * Foreign keys that point at relid, as one sentence, or NULL.  pg_constraint
 * has no index on confrelid; it is small enough to scan once per policy.
 * Sorted, so the sentence does not follow the catalog's physical order.
 */
static char *
referencing_keys(Oid relid)
{
	Relation	rel = table_open(ConstraintRelationId, AccessShareLock);
	SysScanDesc scan = systable_beginscan(rel, InvalidOid, false, NULL, 0, NULL);
	HeapTuple	tup;
	StringInfoData buf;
	List	   *items = NIL;
	ListCell   *lc;

	initStringInfo(&buf);
	while (HeapTupleIsValid(tup = systable_getnext(scan)))
	{
		Form_pg_constraint con = (Form_pg_constraint) GETSTRUCT(tup);
		const char *action;

		if (con->contype != CONSTRAINT_FOREIGN || con->confrelid != relid ||
			OidIsValid(con->conparentid))
			continue;
		switch (con->confdeltype)
		{
			case FKCONSTR_ACTION_CASCADE:
				action = "ON DELETE CASCADE: referencing rows are deleted too";
				break;
			case FKCONSTR_ACTION_SETNULL:
				action = "ON DELETE SET NULL";
				break;
			case FKCONSTR_ACTION_SETDEFAULT:
				action = "ON DELETE SET DEFAULT";
				break;
			case FKCONSTR_ACTION_RESTRICT:
				action = "ON DELETE RESTRICT: rows it references stay";
				break;
			default:
				action = "ON DELETE NO ACTION: rows it references stay";
				break;
		}
		items = lappend(items, psprintf("%s on %s (%s)", quote_identifier(NameStr(con->conname)),
										dbopt_qualified_relname(con->conrelid), action));
	}
	systable_endscan(scan);
	table_close(rel, AccessShareLock);
	list_sort(items, cstring_list_cmp);
	foreach(lc, items)
		appendStringInfo(&buf, "%s%s", buf.len ? ", " : "", (char *) lfirst(lc));
	return buf.len ? psprintf("referenced by %s", buf.data) : NULL;
}

/* A foreign key whose ON DELETE NO ACTION / RESTRICT makes a referenced row undeletable. */
typedef struct BlockingKey
{
	char	   *name;			/* constraint, and the table it is on */
	char	   *action;
	Oid			referenced;		/* the policy's table, or one of its partitions */
	char	   *opaque;			/* why its rows cannot be read as the table's owner */
	char	   *from;			/* "[ONLY] referencing table", qualified */
	int			nkeys;
	char	   *refcol[INDEX_MAX_KEYS];	/* quoted, on the referencing table */
	char	   *op[INDEX_MAX_KEYS];		/* OPERATOR(schema.=) */
	char	   *col[INDEX_MAX_KEYS];	/* quoted, on the referenced table */
} BlockingKey;

static int
blocking_key_cmp(const ListCell *a, const ListCell *b)
{
	return strcmp(((BlockingKey *) lfirst(a))->name, ((BlockingKey *) lfirst(b))->name);
}

/* EXISTS (a row of the referencing table that points at target's row). */
static char *
key_exists(const BlockingKey *k, const char *target)
{
	StringInfoData buf;
	int			i;

	initStringInfo(&buf);
	appendStringInfo(&buf, "EXISTS (SELECT FROM %s dbopt_ref WHERE ", k->from);
	/* The key's operator takes the referenced column first. */
	for (i = 0; i < k->nkeys; i++)
		appendStringInfo(&buf, "%s%s.%s %s dbopt_ref.%s", i ? " AND " : "",
						 target, k->col[i], k->op[i], k->refcol[i]);
	appendStringInfoChar(&buf, ')');
	return buf.data;
}

/* "OPERATOR(schema.op)" for an operator OID, so no search_path picks another. */
static char *
qualified_operator(Oid opno)
{
	HeapTuple	tup = SearchSysCache1(OPEROID, ObjectIdGetDatum(opno));
	Form_pg_operator op;
	char	   *result;

	if (!HeapTupleIsValid(tup))
		elog(ERROR, "cache lookup failed for operator %u", opno);
	op = (Form_pg_operator) GETSTRUCT(tup);
	result = psprintf("OPERATOR(%s.%s)", quote_identifier(get_namespace_name(op->oprnamespace)),
					  NameStr(op->oprname));
	ReleaseSysCache(tup);
	return result;
}

/*
 * The foreign keys that point at relid (or, for a partitioned table, at one
 * of its partitions) with ON DELETE NO ACTION or RESTRICT: a row they
 * reference cannot be deleted, and one such row would fail its whole
 * batch.  Each comes with what a batch needs to leave referenced rows
 * where they are: an EXISTS test written with the key's own equality
 * operators.  That test reads the referencing table as relid's owner, so a
 * key whose table belongs to another role, or forces row-level security,
 * is marked opaque: its rows cannot be read as that owner without running
 * the other role's code or missing rows.
 */
static List *
blocking_keys(Oid relid)
{
	Relation	rel = table_open(ConstraintRelationId, AccessShareLock);
	SysScanDesc scan = systable_beginscan(rel, InvalidOid, false, NULL, 0, NULL);
	HeapTuple	tup;
	List	   *result = NIL;
	List	   *targets = get_rel_relkind(relid) == RELKIND_PARTITIONED_TABLE ?
		find_all_inheritors(relid, NoLock, NULL) : list_make1_oid(relid);
	Oid			owner = dbopt_relation_owner(relid);

	while (HeapTupleIsValid(tup = systable_getnext(scan)))
	{
		Form_pg_constraint con = (Form_pg_constraint) GETSTRUCT(tup);
		AttrNumber	conkey[INDEX_MAX_KEYS];
		AttrNumber	confkey[INDEX_MAX_KEYS];
		Oid			pf_eq[INDEX_MAX_KEYS];
		int			nkeys;
		int			i;
		BlockingKey *k;
		HeapTuple	ctup;

		if (con->contype != CONSTRAINT_FOREIGN || !list_member_oid(targets, con->confrelid) ||
			OidIsValid(con->conparentid) ||
			(con->confdeltype != FKCONSTR_ACTION_NOACTION && con->confdeltype != FKCONSTR_ACTION_RESTRICT))
			continue;
		DeconstructFkConstraintRow(tup, &nkeys, conkey, confkey, pf_eq, NULL, NULL, NULL, NULL);
		k = palloc0(sizeof(BlockingKey));
		k->name = psprintf("%s on %s", quote_identifier(NameStr(con->conname)),
						   dbopt_qualified_relname(con->conrelid));
		k->action = con->confdeltype == FKCONSTR_ACTION_RESTRICT ? "RESTRICT" : "NO ACTION";
		k->referenced = con->confrelid;
		/* A plain table's inheritance children are not under its key. */
		k->from = psprintf("%s%s", get_rel_relkind(con->conrelid) == RELKIND_RELATION ? "ONLY " : "",
						   dbopt_qualified_relname(con->conrelid));
		ctup = SearchSysCache1(RELOID, ObjectIdGetDatum(con->conrelid));
		if (HeapTupleIsValid(ctup))
		{
			Form_pg_class c = (Form_pg_class) GETSTRUCT(ctup);

			if (c->relowner != owner)
				k->opaque = psprintf("%s belongs to another role", dbopt_qualified_relname(con->conrelid));
			else if (c->relrowsecurity && c->relforcerowsecurity)
				k->opaque = psprintf("%s forces row-level security", dbopt_qualified_relname(con->conrelid));
			ReleaseSysCache(ctup);
		}
		k->nkeys = nkeys;
		for (i = 0; i < nkeys; i++)
		{
			k->refcol[i] = pstrdup(quote_identifier(get_attname(con->conrelid, conkey[i], false)));
			k->op[i] = qualified_operator(pf_eq[i]);
			k->col[i] = pstrdup(quote_identifier(get_attname(con->confrelid, confkey[i], false)));
		}
		result = lappend(result, k);
	}
	systable_endscan(scan);
	table_close(rel, AccessShareLock);
	list_sort(result, blocking_key_cmp);
	return result;
}

/* The keys that apply to one heap: those on the policy's table, on it, or on a partition above it. */
static List *
keys_for(List *keys, Oid policy_relid, Oid target)
{
	List	   *result = NIL;
	List	   *above = NIL;
	ListCell   *lc;

	if (target != policy_relid && get_rel_relispartition(target))
		above = get_partition_ancestors(target);
	foreach(lc, keys)
	{
		BlockingKey *k = lfirst(lc);

		if (k->referenced == policy_relid || k->referenced == target ||
			list_member_oid(above, k->referenced))
			result = lappend(result, k);
	}
	return result;
}

/* " AND NOT EXISTS ..." for every blocking key, over table name, or "". */
static char *
unreferenced_filter(List *keys, const char *name)
{
	StringInfoData buf;
	ListCell   *lc;

	initStringInfo(&buf);
	foreach(lc, keys)
		appendStringInfo(&buf, " AND NOT %s", key_exists(lfirst(lc), name));
	return buf.data;
}

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

/* ---------- the registry ---------- */

/*
 * The policies the caller may run: on tables it owns (a superuser owns
 * all, including tables dropped since).  Others' policies are neither run
 * nor named, so a role's own retention job never fails on them.
 */
static List *
mine(List *policies)
{
	List	   *result = NIL;
	ListCell   *lc;

	foreach(lc, policies)
	{
		Policy	   *p = lfirst(lc);
		Oid			owner = dbopt_relation_owner(p->relid);

		if (OidIsValid(owner) ? has_privs_of_role(GetUserId(), owner) : superuser())
			result = lappend(result, p);
	}
	list_free(policies);
	return result;
}

static List *
load_policies(void)
{
	List	   *result = NIL;
	MemoryContext cxt = CurrentMemoryContext;
	uint64		i;
	DboptIdentity saved;

	dbopt_elevate(&saved);
	SPI_connect();
	/* Least recently run first, so a run cut short by time moves on next call. */
	if (SPI_execute("SELECT relation::oid, time_column, keep, mode, archive_table::oid,"
					" batch_size, coalesce(max_rows_per_run, 0), enabled, keep::text,"
					" coalesce(pg_catalog.to_jsonb(p) OPERATOR(pg_catalog.->>) 'on_referenced', 'skip')"
					" FROM dbopt.retention_policies p"
					" ORDER BY last_run_at NULLS FIRST, relation::oid",
					true, 0) != SPI_OK_SELECT)
		elog(ERROR, "could not read dbopt.retention_policies");
	for (i = 0; i < SPI_processed; i++)
	{
		HeapTuple	tup = SPI_tuptable->vals[i];
		TupleDesc	desc = SPI_tuptable->tupdesc;
		MemoryContext old = MemoryContextSwitchTo(cxt);
		Policy	   *p = palloc0(sizeof(Policy));
		bool		isnull;

		p->relid = DatumGetObjectId(SPI_getbinval(tup, desc, 1, &isnull));
		p->time_column = SPI_getvalue(tup, desc, 2);
		p->keep = DatumGetIntervalP(datumCopy(SPI_getbinval(tup, desc, 3, &isnull), false, sizeof(Interval)));
		p->archive = strcmp(SPI_getvalue(tup, desc, 4), "archive") == 0;
		p->archive_relid = DatumGetObjectId(SPI_getbinval(tup, desc, 5, &isnull));
		if (isnull)
			p->archive_relid = InvalidOid;
		p->batch_size = DatumGetInt32(SPI_getbinval(tup, desc, 6, &isnull));
		p->max_rows = DatumGetInt64(SPI_getbinval(tup, desc, 7, &isnull));
		p->enabled = DatumGetBool(SPI_getbinval(tup, desc, 8, &isnull));
		p->keep_text = SPI_getvalue(tup, desc, 9);
		p->error_if_referenced = strcmp(SPI_getvalue(tup, desc, 10), "error") == 0;
		result = lappend(result, p);
		MemoryContextSwitchTo(old);
	}
	SPI_finish();
	dbopt_restore_identity(&saved);
	return mine(result);
}

/* The archive table for a new policy: given, or <table>_archive, made if missing. */
static Oid
archive_for(Oid relid, Oid given)
{
	char	   *relname = get_rel_name(relid);
	Oid			nsp = get_rel_namespace(relid);
	char	   *name;
	Oid			archive;
	int			len = strlen(relname);

	if (OidIsValid(given))
		archive = given;
	else
	{
		const int	suffix = strlen("_archive");

		if (len > NAMEDATALEN - 1 - suffix)
			len = pg_mbcliplen(relname, len, NAMEDATALEN - 1 - suffix);
		name = psprintf("%.*s_archive", len, relname);
		archive = get_relname_relid(name, nsp);
		if (!OidIsValid(archive))
		{
			char	   *qname = quote_qualified_identifier(get_namespace_name(nsp), name);

			/* As the caller, who then owns the archive. */
			SPI_connect();
			if (SPI_execute(psprintf("CREATE TABLE %s (LIKE %s)", qname,
									 dbopt_qualified_relname(relid)),
							false, 0) != SPI_OK_UTILITY)
				elog(ERROR, "could not create archive table %s", qname);
			SPI_finish();
			CommandCounterIncrement();
			archive = get_relname_relid(name, nsp);
			dbopt_log_action("add_retention_policy", dbopt_qualified_relname(archive),
							 "created", -1, -1,
							 psprintf("archive table for %s", dbopt_qualified_relname(relid)));
		}
	}
	require_table(archive, "archive table");
	require_owner(archive, "add_retention_policy", "archive table");
	check_archive_shape(relid, archive);
	return archive;
}

PG_FUNCTION_INFO_V1(dbopt_add_retention_policy);

/*
 * add_retention_policy(relation, time_column, keep, mode, archive_table,
 *						batch_size, max_rows_per_run, enabled)
 */
Datum
dbopt_add_retention_policy(PG_FUNCTION_ARGS)
{
	Oid			relid;
	char	   *column;
	Interval   *keep;
	char	   *mode;
	Oid			archive = InvalidOid;
	int			batch_size;
	bool		has_max = !PG_ARGISNULL(6);
	int64		max_rows = has_max ? PG_GETARG_INT64(6) : 0;
	bool		enabled;
	Interval	zero;
	TupleDesc	desc;
	Oid			argtypes[10] = {OIDOID, NAMEOID, INTERVALOID, TEXTOID, OIDOID, INT4OID, INT8OID, BOOLOID, NAMEOID,
	TEXTOID};
	Datum		values[10];
	char		nulls[10] = {' ', ' ', ' ', ' ', ' ', ' ', ' ', ' ', ' ', ' '};
	HeapTuple	result;
	bool		is_archive;
	char	   *on_referenced;

	if (PG_ARGISNULL(0) || PG_ARGISNULL(1) || PG_ARGISNULL(2) || PG_ARGISNULL(3) ||
		PG_ARGISNULL(5) || PG_ARGISNULL(7) || PG_ARGISNULL(8))
		ereport(ERROR,
				(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
				 errmsg("relation, time_column, keep, mode, batch_size, enabled and on_referenced must not be null"),
				 errdetail("Only archive_table and max_rows_per_run may be NULL."),
				 errhint("For example: dbopt.add_retention_policy('app.events', 'created_at', '90 days').")));
	relid = PG_GETARG_OID(0);
	column = NameStr(*PG_GETARG_NAME(1));
	keep = dbopt_interval_or_text_arg(fcinfo, 2, "keep");
	on_referenced = text_to_cstring(PG_GETARG_TEXT_PP(8));
	mode = text_to_cstring(PG_GETARG_TEXT_PP(3));
	batch_size = PG_GETARG_INT32(5);
	enabled = PG_GETARG_BOOL(7);

	require_table(relid, "relation");
	require_owner(relid, "add_retention_policy", "table");
	(void) check_time_column(relid, column);
	memset(&zero, 0, sizeof(zero));
	if (DatumGetInt32(DirectFunctionCall2(interval_cmp, IntervalPGetDatum(keep),
										  IntervalPGetDatum(&zero))) <= 0)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("keep must be a positive interval, not %s",
						DatumGetCString(DirectFunctionCall1(interval_out, IntervalPGetDatum(keep)))),
				 errdetail("Rows older than now() minus keep are deleted; a zero or negative keep would delete current rows."),
				 errhint("For example '90 days' or '13 months'.")));
	if (strcmp(mode, policy_modes[0]) != 0 && strcmp(mode, policy_modes[1]) != 0)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("invalid mode \"%s\"", mode),
				 errdetail("Old rows are either deleted or moved to an archive table."),
				 errhint("Use 'delete' or 'archive'.")));
	is_archive = strcmp(mode, "archive") == 0;
	if (!is_archive && !PG_ARGISNULL(4))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("archive_table is only used in archive mode"),
				 errdetail("In delete mode old rows are deleted and kept nowhere."),
				 errhint("Pass mode => 'archive' to move old rows to %s.",
						 dbopt_qualified_relname(PG_GETARG_OID(4)))));
	if (strcmp(on_referenced, "skip") != 0 && strcmp(on_referenced, "error") != 0)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("invalid on_referenced \"%s\"", on_referenced),
				 errdetail("A row that a foreign key with ON DELETE NO ACTION or RESTRICT references cannot be deleted; the policy either keeps such rows or stops."),
				 errhint("Use 'skip' (keep referenced rows, counted in detail) or 'error' (stop the policy while any exist).  CASCADE happens only where the foreign key itself says ON DELETE CASCADE.")));
	if (batch_size < 1 || batch_size > 1000000)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("batch_size must be between 1 and 1000000, not %d", batch_size),
				 errdetail("Each batch is one statement; a huge batch is one long transaction."),
				 errhint("The default of 10000 rows keeps a batch well under a second on most tables.")));
	if (has_max && max_rows < 1)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("max_rows_per_run must be positive or NULL, not " INT64_FORMAT, max_rows),
				 errdetail("It caps the rows one run removes from this table."),
				 errhint("Pass NULL for no cap.")));
	if (is_archive)
		archive = archive_for(relid, PG_ARGISNULL(4) ? InvalidOid : PG_GETARG_OID(4));

	if (get_call_result_type(fcinfo, NULL, &desc) != TYPEFUNC_COMPOSITE)
		elog(ERROR, "add_retention_policy must return a composite type");
	values[0] = ObjectIdGetDatum(relid);
	values[1] = PG_GETARG_DATUM(1);
	values[2] = IntervalPGetDatum(keep);
	values[3] = CStringGetTextDatum(mode);
	values[4] = ObjectIdGetDatum(archive);
	nulls[4] = is_archive ? ' ' : 'n';
	values[5] = Int32GetDatum(batch_size);
	values[6] = Int64GetDatum(max_rows);
	nulls[6] = has_max ? ' ' : 'n';
	values[7] = BoolGetDatum(enabled);
	values[8] = DirectFunctionCall1(namein, CStringGetDatum(GetUserNameFromId(GetUserId(), false)));
	values[9] = CStringGetTextDatum(on_referenced);

	result = dbopt_write_elevated("INSERT INTO dbopt.retention_policies AS p"
							  " (relation, time_column, keep, mode, archive_table, batch_size, max_rows_per_run,"
							  "  enabled, registered_by, on_referenced)"
							  " VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)"
							  " ON CONFLICT (relation) DO UPDATE SET time_column = excluded.time_column,"
							  " keep = excluded.keep, mode = excluded.mode, archive_table = excluded.archive_table,"
							  " batch_size = excluded.batch_size, max_rows_per_run = excluded.max_rows_per_run,"
							  " enabled = excluded.enabled, registered_by = excluded.registered_by,"
							  " on_referenced = excluded.on_referenced"
							  " RETURNING p.*",
							10, argtypes, values, nulls, NULL);

	dbopt_log_action("add_retention_policy", dbopt_qualified_relname(relid), "registered", -1, -1,
					 psprintf("keep %s by %s, %s%s%s, batches of %d%s",
							  DatumGetCString(DirectFunctionCall1(interval_out, IntervalPGetDatum(keep))),
							  quote_identifier(column), mode,
							  is_archive ? " to " : "",
							  is_archive ? dbopt_qualified_relname(archive) : "",
							  batch_size, enabled ? "" : ", disabled"));
	PG_RETURN_DATUM(heap_copy_tuple_as_datum(result, desc));
}

PG_FUNCTION_INFO_V1(dbopt_remove_retention_policy);

Datum
dbopt_remove_retention_policy(PG_FUNCTION_ARGS)
{
	Oid			relid = PG_GETARG_OID(0);

	PG_RETURN_BOOL(dbopt_unregister("retention_policies", "relation", relid, "remove_retention_policy",
									"the table's rows are left as they are", "has no retention policy",
									owner_detail(relid, "remove_retention_policy", "table")));
}

/* ---------- units ---------- */

/* Leaf partitions are read with their partition constraint, so newer ones plan as empty. */
static int
push_constraint_exclusion(void)
{
	int			nest = NewGUCNestLevel();

	(void) set_config_option("constraint_exclusion", "on", PGC_USERSET, PGC_S_SESSION,
							 GUC_ACTION_SAVE, true, 0, false);
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

	require_table(p->relid, "table");
	require_owner(p->relid, u->operation, "table");
	(void) check_time_column(p->relid, p->time_column);
	if (p->archive)
	{
		require_table(p->archive_relid, "archive table");
		require_owner(p->archive_relid, u->operation, "archive table");
		check_archive_shape(p->relid, p->archive_relid);
		u->columns = column_list(p->relid);
	}
	u->references = referencing_keys(p->relid);
	u->blocking = blocking_keys(p->relid);
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

static void
add_detail(Outcome *o, const char *fmt,...) pg_attribute_printf(2, 3);

static void
add_detail(Outcome *o, const char *fmt,...)
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
		add_detail(o, "%s: %s; the rest goes on the next run", t->name, dbopt_unit_error_text(err));
	}
	else
	{
		o->failed = true;
		add_detail(o, "SQLSTATE %s: %s%s%s (in %s, after %d batch(es))",
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
		add_detail(o, "max_rows_per_run (" INT64_FORMAT ") reached; the rest goes on the next run",
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
			  unreferenced_filter(keys_for(blocking, p->relid, t->relid), t->name));
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
		add_detail(o, "%d partition(s) %s (wholly older than the cutoff%s)", drops->dropped,
				   r->dry_run ? "would be dropped" : "dropped",
				   p->archive ? "; emptied into the archive first" :
				   psprintf(", about " INT64_FORMAT " rows", drops->rows));
	if (drops->skipped > 0)
		add_detail(o, "%d partition(s) skipped, first: %s", drops->skipped, drops->first_problem);
	if (r->out_of_time)
		o->stopped = true;
}

typedef struct ReferencedUnit
{
	Policy	   *p;
	Oid			relid;			/* where the keys point */
	List	   *keys;			/* counted together: a row referenced twice counts once */
	TimestampTz cutoff;
	int64		n;
} ReferencedUnit;

/* Rows of relid older than the cutoff that any of the keys references. */
static void
referenced_unit(void *arg)
{
	ReferencedUnit *u = arg;
	char	   *name = dbopt_qualified_relname(u->relid);
	Oid			argtypes[1] = {TIMESTAMPTZOID};
	Datum		values[1] = {TimestampTzGetDatum(u->cutoff)};
	StringInfoData any;
	ListCell   *lc;
	char	   *sql;
	bool		isnull;

	initStringInfo(&any);
	foreach(lc, u->keys)
		appendStringInfo(&any, "%s%s", any.len ? " OR " : "",
						 key_exists(lfirst(lc), name));
	/* A plain table's inheritance children are not the policy's. */
	sql = psprintf("SELECT pg_catalog.count(*) FROM %s%s WHERE %s OPERATOR(pg_catalog.<) $1 AND (%s)",
				   get_rel_relkind(u->relid) == RELKIND_RELATION ? "ONLY " : "", name,
				   quote_identifier(u->p->time_column), any.data);

	SPI_connect();
	if (SPI_execute_with_args(sql, 1, argtypes, values, NULL, true, 0) != SPI_OK_SELECT)
		elog(ERROR, "could not run %s", sql);
	u->n = DatumGetInt64(SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1, &isnull));
	SPI_finish();
}

/*
 * Count, per blocking key, the old rows it references, and say so.  Both
 * runs do this before any row goes, so a dry run promises what the real
 * run does: those rows stay (counted in detail), or, with on_referenced =
 * 'error', the policy stops before touching anything.  What cannot be
 * known (an opaque key, a count that fails or runs out of time) stops the
 * policy in both runs: a batch would otherwise meet a referenced row and
 * fail halfway.  Returns false when the policy must stop.
 */
static bool
check_referenced(Policy *p, List *blocking, Outcome *o)
{
	ListCell   *lc;
	int64		total = 0;
	StringInfoData which;
	bool		one_table = true;
	DboptUnitError err;

	initStringInfo(&which);
	foreach(lc, blocking)
	{
		BlockingKey *key = lfirst(lc);
		ReferencedUnit u = {p, key->referenced, list_make1(key), o->cutoff, 0};

		CHECK_FOR_INTERRUPTS();
		if (key->opaque)
		{
			o->failed = true;
			add_detail(o, "error referenced_rows_unknown: foreign key %s (ON DELETE %s) blocks deletes, but %s, so dbopt cannot see which rows it references as the owner of %s; nothing was deleted.  Give both tables one owner, or make the key ON DELETE CASCADE or SET NULL if that is meant",
					   key->name, key->action, key->opaque, dbopt_qualified_relname(p->relid));
			return false;
		}
		if (!dbopt_run_unit(referenced_unit, &u, dbopt_unit_owner(p->relid), 0, dbopt_check_timeout_ms, &err))
		{
			o->failed = true;
			add_detail(o, "error referenced_rows_unknown: could not count the rows %s references (%s); nothing was deleted",
					   key->name, dbopt_unit_error_text(&err));
			return false;
		}
		if (u.n > 0)
			appendStringInfo(&which, "%s" INT64_FORMAT " by %s (ON DELETE %s)",
							 which.len ? ", " : "", u.n, key->name, key->action);
		total += u.n;
		one_table = one_table && key->referenced == ((BlockingKey *) linitial(blocking))->referenced;
	}
	if (total == 0)
		return true;
	if (list_length(blocking) > 1 && one_table)
	{
		ReferencedUnit all = {p, ((BlockingKey *) linitial(blocking))->referenced, blocking, o->cutoff, 0};

		if (dbopt_run_unit(referenced_unit, &all, dbopt_unit_owner(p->relid), 0, dbopt_check_timeout_ms, &err))
			total = all.n;
	}
	if (p->error_if_referenced)
	{
		o->failed = true;
		add_detail(o, "error referenced_rows: " INT64_FORMAT " row(s) older than the cutoff are referenced (%s), and on_referenced is 'error', so nothing was deleted",
				   total, which.data);
		return false;
	}
	add_detail(o, "referenced_rows_kept: " INT64_FORMAT " row(s) older than the cutoff stay because foreign keys reference them (%s)",
			   total, which.data);
	return true;
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
		add_detail(o, "policy disabled");
		return;
	}
	memset(&pu, 0, sizeof(pu));
	pu.p = p;
	pu.operation = r->operation;
	if (!dbopt_run_isolated(prepare_unit, &pu, 0, &err))
	{
		o->failed = true;
		o->status = err.lock_timeout ? "skipped" : "error";
		add_detail(o, "%s", err.lock_timeout ? dbopt_unit_error_text(&err) :
				   psprintf("SQLSTATE %s: %s", unpack_sql_state(err.sqlerrcode), err.message));
		return;
	}
	if (pu.references)
		add_detail(o, "%s", pu.references);
	partitioned = pu.relkind == RELKIND_PARTITIONED_TABLE;
	if (pu.blocking != NIL && !check_referenced(p, pu.blocking, o))
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
		add_detail(o, "warning time_column_not_indexed: no btree index leads on %s in %s, so batches walk the heap in block ranges",
				   quote_identifier(p->time_column), unindexed.data);

	if (partitioned && p->archive && pu.blocking == NIL && !o->failed && !o->lock_busy && !o->stopped)
		drop_partitions(r, p, o, &drops);

done:
	if (o->stopped && r->out_of_time)
		add_detail(o, "stopped at max_duration; the next call resumes");
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
	policies = load_policies();
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
	policies = load_policies();
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
