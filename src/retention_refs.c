/*-------------------------------------------------------------------------
 *
 * retention_refs.c
 *	  The foreign keys that point at a retention policy's table: the
 *	  sentence that names them, the keys whose ON DELETE NO ACTION or
 *	  RESTRICT makes a referenced row undeletable, the filter that leaves
 *	  such rows out of a batch, and the count of them made before any row
 *	  goes (on_referenced).
 *
 * A row another table references under such a key would fail its whole
 * batch, so retention_run.c builds every batch with the filter here and
 * runs dbopt_ret_check_referenced() first.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/genam.h"
#include "access/htup_details.h"
#include "access/table.h"
#include "catalog/partition.h"
#include "catalog/pg_class.h"
#include "catalog/pg_constraint.h"
#include "catalog/pg_inherits.h"
#include "catalog/pg_operator.h"
#include "catalog/pg_type.h"
#include "executor/spi.h"
#include "lib/stringinfo.h"
#include "utils/builtins.h"
#include "utils/lsyscache.h"
#include "utils/syscache.h"
#include "utils/timestamp.h"

#include "dbopt/compat.h"
#include "dbopt/dbopt.h"
#include "dbopt/isolate.h"
#include "dbopt/retention_internal.h"
#include "dbopt/util.h"

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
char *
dbopt_ret_referencing_keys(Oid relid)
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
List *
dbopt_ret_blocking_keys(Oid relid)
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

/*
 * " AND NOT EXISTS ..." for every blocking key that applies to heap target
 * (named name), or "".
 */
char *
dbopt_ret_unreferenced_filter(List *keys, Oid policy_relid, Oid target, const char *name)
{
	StringInfoData buf;
	ListCell   *lc;

	initStringInfo(&buf);
	foreach(lc, keys_for(keys, policy_relid, target))
		appendStringInfo(&buf, " AND NOT %s", key_exists(lfirst(lc), name));
	return buf.data;
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
bool
dbopt_ret_check_referenced(Policy *p, List *blocking, Outcome *o)
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
			dbopt_ret_add_detail(o, "error referenced_rows_unknown: foreign key %s (ON DELETE %s) blocks deletes, but %s, so dbopt cannot see which rows it references as the owner of %s; nothing was deleted.  Give both tables one owner, or make the key ON DELETE CASCADE or SET NULL if that is meant",
								 key->name, key->action, key->opaque, dbopt_qualified_relname(p->relid));
			return false;
		}
		if (!dbopt_run_unit(referenced_unit, &u, dbopt_unit_owner(p->relid), 0, dbopt_check_timeout_ms, &err))
		{
			o->failed = true;
			dbopt_ret_add_detail(o, "error referenced_rows_unknown: could not count the rows %s references (%s); nothing was deleted",
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
		dbopt_ret_add_detail(o, "error referenced_rows: " INT64_FORMAT " row(s) older than the cutoff are referenced (%s), and on_referenced is 'error', so nothing was deleted",
							 total, which.data);
		return false;
	}
	dbopt_ret_add_detail(o, "referenced_rows_kept: " INT64_FORMAT " row(s) older than the cutoff stay because foreign keys reference them (%s)",
						 total, which.data);
	return true;
}
