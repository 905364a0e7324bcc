/*-------------------------------------------------------------------------
 *
 * unindexed_fk.c
 *	  Foreign keys and the indexes that serve them:
 *	  dbopt.find_unindexed_foreign_keys(), and the "leading keys are the
 *	  foreign key's columns" test analyze_index_usage() shares to tell which
 *	  index is the only one serving a foreign key.
 *
 * An index serves a foreign key when its leading key columns are exactly
 * the referencing columns, in any order: that is what the referenced
 * side's DELETE and key UPDATE look up.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/genam.h"
#include "access/htup_details.h"
#include "access/table.h"
#include "catalog/indexing.h"
#include "catalog/pg_class.h"
#include "catalog/pg_constraint.h"
#include "catalog/pg_index.h"
#include "catalog/pg_inherits.h"
#include "catalog/pg_type.h"
#include "fmgr.h"
#include "miscadmin.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/fmgroids.h"
#include "utils/lsyscache.h"
#include "utils/memutils.h"
#include "utils/rel.h"
#include "utils/syscache.h"

#include "dbopt/findings.h"
#include "dbopt/index_usage_internal.h"
#include "dbopt/util.h"

/* Whether the first ncols key columns of an index are exactly cols, in any order. */
bool
dbopt_iu_leading_keys_are(const int16 *keyatts, int nkeys, const int16 *cols, int ncols)
{
	int			matched = 0;

	if (nkeys < ncols)
		return false;
	for (int i = 0; i < ncols; i++)
		for (int k = 0; k < ncols; k++)
			if (keyatts[i] == cols[k])
			{
				matched++;
				break;
			}
	return matched == ncols;
}

/*
 * Whether some valid, non-partial index on relid has exactly the FK columns
 * (in any order) as its leading key columns: what the referenced side's
 * DELETE/UPDATE lookups need.
 */
static bool
fk_is_indexed(Oid relid, const int16 *fkcols, int nfk)
{
	SysScanDesc scan = dbopt_catalog_scan(IndexRelationId, IndexIndrelidIndexId,
										  Anum_pg_index_indrelid, relid);
	HeapTuple	tup;
	bool		found = false;

	while (!found && HeapTupleIsValid(tup = systable_getnext(scan)))
	{
		Form_pg_index idx = (Form_pg_index) GETSTRUCT(tup);

		if (!idx->indisvalid || !heap_attisnull(tup, Anum_pg_index_indpred, NULL))
			continue;
		found = dbopt_iu_leading_keys_are(idx->indkey.values, idx->indnkeyatts, fkcols, nfk);
	}
	dbopt_catalog_scan_end(scan);
	return found;
}

/* Planner's row estimate; leaf partitions summed; -1 when never analyzed. */
static int64
rows_estimate(Oid relid)
{
	List	   *rels;
	ListCell   *lc;
	double		total = 0;
	bool		known = false;

	rels = (get_rel_relkind(relid) == RELKIND_PARTITIONED_TABLE)
		? find_all_inheritors(relid, NoLock, NULL) : list_make1_oid(relid);
	foreach(lc, rels)
	{
		HeapTuple	tup;

		CHECK_FOR_INTERRUPTS();
		tup = SearchSysCache1(RELOID, ObjectIdGetDatum(lfirst_oid(lc)));
		if (!HeapTupleIsValid(tup))
			continue;
		if (((Form_pg_class) GETSTRUCT(tup))->relkind == RELKIND_RELATION &&
			((Form_pg_class) GETSTRUCT(tup))->reltuples >= 0)
		{
			total += ((Form_pg_class) GETSTRUCT(tup))->reltuples;
			known = true;
		}
		ReleaseSysCache(tup);
	}
	list_free(rels);
	return known ? (int64) total : -1;
}

#define FK_WARN_ROWS 1000

PG_FUNCTION_INFO_V1(dbopt_find_unindexed_foreign_keys);

Datum
dbopt_find_unindexed_foreign_keys(PG_FUNCTION_ARGS)
{
	DboptFindings f;
	Oid			nspfilter = InvalidOid;
	Relation	rel;
	SysScanDesc scan;
	HeapTuple	tup;
	MemoryContext itemcxt;

	if (!PG_ARGISNULL(0))
		nspfilter = dbopt_schema_filter(text_to_cstring(PG_GETARG_TEXT_PP(0)));
	dbopt_findings_begin(&f, fcinfo, !PG_ARGISNULL(1) && PG_GETARG_BOOL(1));
	if (f.nextra != 4)
		elog(ERROR, "find_unindexed_foreign_keys declares %d extra columns, expected 4",
			 f.nextra);

	itemcxt = AllocSetContextCreate(CurrentMemoryContext, "dbopt fk item",
									ALLOCSET_DEFAULT_SIZES);
	rel = table_open(ConstraintRelationId, AccessShareLock);
	scan = systable_beginscan(rel, InvalidOid, false, NULL, 0, NULL);
	while (HeapTupleIsValid(tup = systable_getnext(scan)))
	{
		Form_pg_constraint con = (Form_pg_constraint) GETSTRUCT(tup);
		Oid			nsp;
		bool		isnull;
		Datum		d;
		ArrayType  *arr;
		int16	   *cols;
		int			nfk;
		MemoryContext old;

		CHECK_FOR_INTERRUPTS();
		/* Partitions' cloned copies are covered by their parent's row. */
		if (con->contype != CONSTRAINT_FOREIGN || OidIsValid(con->conparentid))
			continue;
		nsp = get_rel_namespace(con->conrelid);
		if (!OidIsValid(nsp) || !dbopt_is_user_namespace(nsp) ||
			(OidIsValid(nspfilter) && nsp != nspfilter))
			continue;

		old = MemoryContextSwitchTo(itemcxt);
		d = heap_getattr(tup, Anum_pg_constraint_conkey, RelationGetDescr(rel), &isnull);
		if (isnull)
			elog(ERROR, "foreign key %u has no columns", con->oid);
		arr = DatumGetArrayTypeP(d);
		nfk = ARR_DIMS(arr)[0];
		cols = (int16 *) ARR_DATA_PTR(arr);

		if (!fk_is_indexed(con->conrelid, cols, nfk))
		{
			bool		partitioned = get_rel_relkind(con->conrelid) == RELKIND_PARTITIONED_TABLE;
			char	   *table = dbopt_qualified_relname(con->conrelid);
			char	   *reftable = dbopt_qualified_relname(con->confrelid);
			StringInfoData collist;
			Datum	   *colnames = palloc(sizeof(Datum) * nfk);
			int64		rows = rows_estimate(con->conrelid);
			DboptFinding row;
			Datum		extra[4];
			bool		extra_null[4] = {false, false, false, false};

			initStringInfo(&collist);
			for (int i = 0; i < nfk; i++)
			{
				char	   *att = get_attname(con->conrelid, cols[i], false);

				appendStringInfo(&collist, "%s%s", i ? ", " : "", quote_identifier(att));
				colnames[i] = CStringGetTextDatum(att);
			}

			row.severity = (rows >= FK_WARN_ROWS) ? DBOPT_WARNING : DBOPT_INFO;
			row.check_name = "fk_without_index";
			row.object_name = psprintf("%s.%s", table, quote_identifier(NameStr(con->conname)));
			row.detail = psprintf("Foreign key %s (%s) references %s, but no valid index on %s starts with those columns; "
								  "every DELETE or key UPDATE on %s scans %s (%s rows).",
								  quote_identifier(NameStr(con->conname)), collist.data,
								  reftable, table, reftable, table,
								  rows >= 0 ? psprintf(INT64_FORMAT, rows) : "unknown number of");
			row.remediation = partitioned
				? "Create the index on the partitioned table (CONCURRENTLY is not supported there), or create it CONCURRENTLY on each partition first and then on the parent."
				: "Create an index on the referencing columns.";
			row.fix_sql = partitioned
				? psprintf("CREATE INDEX ON %s (%s);", table, collist.data)
				: psprintf("CREATE INDEX CONCURRENTLY ON %s (%s);", table, collist.data);

			extra[0] = ObjectIdGetDatum(con->conrelid);
			extra[1] = ObjectIdGetDatum(con->confrelid);
			extra[2] = PointerGetDatum(construct_array(colnames, nfk, TEXTOID, -1, false,
													   TYPALIGN_INT));
			extra[3] = Int64GetDatum(rows);
			extra_null[3] = (rows < 0);
			dbopt_findings_add(&f, &row, extra, extra_null);
		}
		MemoryContextSwitchTo(old);
		MemoryContextReset(itemcxt);
	}
	systable_endscan(scan);
	table_close(rel, AccessShareLock);
	dbopt_findings_end(&f);
	return (Datum) 0;
}
