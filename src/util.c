/*-------------------------------------------------------------------------
 *
 * util.c
 *	  Catalog and SPI utilities shared by dbopt's reports.
 *
 * Catalog reads go through syscache or systable scans; SPI is used only
 * where SQL is the natural tool (views of other extensions, for example).
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include <ctype.h>

#include <sys/stat.h>

#include "access/genam.h"
#include "access/htup_details.h"
#include "access/relation.h"
#include "access/table.h"
#include "catalog/catalog.h"
#include "catalog/indexing.h"
#include "catalog/namespace.h"
#include "catalog/pg_inherits.h"
#include "catalog/pg_namespace.h"
#include "storage/bufmgr.h"
#include "storage/lmgr.h"
#include "catalog/pg_authid.h"
#include "catalog/pg_class.h"
#include "catalog/pg_extension.h"
#include "catalog/pg_type.h"
#include "executor/spi.h"
#include "miscadmin.h"
#include "nodes/pg_list.h"
#include "optimizer/plancat.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/fmgroids.h"
#include "utils/guc.h"
#include "utils/lsyscache.h"
#include "utils/rel.h"
#include "utils/syscache.h"
#include "utils/varlena.h"
#include "access/xact.h"
#include "utils/resowner.h"
#include "utils/timestamp.h"

#include "dbopt/compat.h"
#include "dbopt/isolate.h"
#include "dbopt/util.h"

/* Start a scan returning the pg_extension row for extname, if any. */
static HeapTuple
extension_tuple(Relation rel, const char *extname, SysScanDesc *scan)
{
	ScanKeyData key;

	ScanKeyInit(&key, Anum_pg_extension_extname, BTEqualStrategyNumber,
				F_NAMEEQ, CStringGetDatum(extname));
	*scan = systable_beginscan(rel, ExtensionNameIndexId, true, NULL, 1, &key);
	return systable_getnext(*scan);
}

char *
dbopt_extension_version(const char *extname)
{
	Relation	rel = table_open(ExtensionRelationId, AccessShareLock);
	SysScanDesc scan;
	HeapTuple	tup = extension_tuple(rel, extname, &scan);
	char	   *result = NULL;

	if (HeapTupleIsValid(tup))
	{
		bool		isnull;
		Datum		d = heap_getattr(tup, Anum_pg_extension_extversion,
									 RelationGetDescr(rel), &isnull);

		if (!isnull)
			result = text_to_cstring(DatumGetTextPP(d));
	}
	systable_endscan(scan);
	table_close(rel, AccessShareLock);
	return result;
}

Oid
dbopt_extension_schema(const char *extname)
{
	Relation	rel = table_open(ExtensionRelationId, AccessShareLock);
	SysScanDesc scan;
	HeapTuple	tup = extension_tuple(rel, extname, &scan);
	Oid			result = InvalidOid;

	if (HeapTupleIsValid(tup))
		result = ((Form_pg_extension) GETSTRUCT(tup))->extnamespace;
	systable_endscan(scan);
	table_close(rel, AccessShareLock);
	return result;
}

bool
dbopt_extension_available(const char *extname)
{
	char		sharepath[MAXPGPATH];
	char		path[MAXPGPATH];
	struct stat st;

	get_share_path(my_exec_path, sharepath);
	snprintf(path, sizeof(path), "%s/extension/%s.control", sharepath, extname);
	return stat(path, &st) == 0;
}

char *
dbopt_qualified_relname(Oid relid)
{
	char	   *nsp = get_namespace_name(get_rel_namespace(relid));
	char	   *rel = get_rel_name(relid);

	if (nsp == NULL || rel == NULL)
		return psprintf("%u", relid);
	return quote_qualified_identifier(nsp, rel);
}

Oid
dbopt_relation_am(Oid relid)
{
	HeapTuple	tup = SearchSysCache1(RELOID, ObjectIdGetDatum(relid));
	Oid			am = InvalidOid;

	if (HeapTupleIsValid(tup))
	{
		am = ((Form_pg_class) GETSTRUCT(tup))->relam;
		ReleaseSysCache(tup);
	}
	return am;
}

HeapTuple
dbopt_write_elevated(const char *sql, int nargs, Oid *argtypes, Datum *values,
			   const char *nulls, TupleDesc *desc)
{
	HeapTuple	row;
	int			rc;
	MemoryContext caller = CurrentMemoryContext;
	DboptIdentity saved;

	dbopt_elevate(&saved);
	SPI_connect();
	rc = SPI_execute_with_args(sql, nargs, argtypes, values, nulls, false, 0);
	if (rc < 0 || SPI_tuptable == NULL || SPI_processed != 1)
		elog(ERROR, "could not run %s", sql);
	row = SPI_copytuple(SPI_tuptable->vals[0]);
	if (desc)
	{
		MemoryContext old = MemoryContextSwitchTo(caller);

		*desc = CreateTupleDescCopy(SPI_tuptable->tupdesc);
		MemoryContextSwitchTo(old);
	}
	SPI_finish();
	dbopt_restore_identity(&saved);
	return row;
}

bool
dbopt_unregister_key(const char *table, const char *column, Datum key, Oid keytype,
					 const char *object_name, const char *operation,
					 const char *log_detail, const char *absent)
{
	Oid			argtypes[1] = {keytype};
	Datum		values[1] = {key};
	char	   *sql = psprintf("DELETE FROM dbopt.%s WHERE %s = $1",
							   quote_identifier(table), quote_identifier(column));
	uint64		n;
	DboptIdentity saved;

	dbopt_elevate(&saved);
	SPI_connect();
	if (SPI_execute_with_args(sql, 1, argtypes, values, NULL, false, 0) != SPI_OK_DELETE)
		elog(ERROR, "could not run %s", sql);
	n = SPI_processed;
	SPI_finish();
	dbopt_restore_identity(&saved);
	if (n > 0)
		dbopt_log_action(operation, object_name, "unregistered", -1, -1, log_detail);
	else
		ereport(NOTICE, (errmsg("%s %s", object_name, absent)));
	return n > 0;
}

bool
dbopt_unregister(const char *table, const char *column, Oid relid, const char *operation,
				 const char *log_detail, const char *absent, const char *owner_detail)
{
	/* A dropped table leaves a stale row that anyone allowed to call may clear. */
	if (get_rel_relkind(relid) != '\0')
		dbopt_require_owner(relid, "%s", owner_detail);
	return dbopt_unregister_key(table, column, ObjectIdGetDatum(relid), REGCLASSOID,
								dbopt_qualified_relname(relid), operation, log_detail, absent);
}

bool
dbopt_library_preloaded(const char *libname)
{
	const char *setting = GetConfigOption("shared_preload_libraries", true, false);
	char	   *raw;
	List	   *names;
	ListCell   *lc;
	bool		found = false;

	if (setting == NULL)
		return false;
	raw = pstrdup(setting);
	if (!SplitDirectoriesString(raw, ',', &names))
		return false;
	foreach(lc, names)
	{
		const char *name = (const char *) lfirst(lc);
		const char *base = strrchr(name, '/');

		size_t		len;

		base = base ? base + 1 : name;
		len = strlen(base);
		if (len > 3 && strcmp(base + len - 3, ".so") == 0)
			len -= 3;
		if (len == strlen(libname) && strncmp(base, libname, len) == 0)
			found = true;
	}
	list_free_deep(names);
	pfree(raw);
	return found;
}

Datum
dbopt_spi_value(const char *sql, int nargs, Oid *types, Datum *values, bool *isnull)
{
	/* Not read-only: what this transaction wrote before must be visible. */
	if (SPI_execute_with_args(sql, nargs, types, values, NULL, false, 0) < 0 || SPI_processed != 1)
		elog(ERROR, "could not run %s", sql);
	return SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1, isnull);
}

int64
dbopt_spi_int8(const char *sql, bool *isnull)
{
	int			rc = SPI_execute(sql, true, 1);
	Datum		d;

	if (rc != SPI_OK_SELECT)
		elog(ERROR, "SPI_execute failed for \"%s\": %s", sql,
			 SPI_result_code_string(rc));
	*isnull = true;
	if (SPI_processed == 0)
		return 0;
	d = SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1, isnull);
	if (*isnull)
		return 0;
	switch (SPI_gettypeid(SPI_tuptable->tupdesc, 1))
	{
		case INT8OID:
			return DatumGetInt64(d);
		case INT4OID:
			return DatumGetInt32(d);
		default:
			elog(ERROR, "dbopt_spi_int8: query \"%s\" does not return an integer", sql);
	}
	return 0;					/* keep compiler quiet */
}

/*
 * Main-fork bytes of a permanent or unlogged relation from its files,
 * segment by segment as md.c lays them out: every segment but the last is
 * full, so a short one ends the relation.  A missing file counts as empty
 * (an unlogged relation on a standby, a rewrite in progress).
 */
static int64
main_fork_file_size(Oid spcoid, Oid filenumber)
{
	char	   *base = dbopt_main_fork_path(spcoid, filenumber);
	char		path[MAXPGPATH];
	const off_t full = (off_t) RELSEG_SIZE * BLCKSZ;
	int64		size = 0;

	for (unsigned int seg = 0;; seg++)
	{
		struct stat st;

		if (seg == 0)
			strlcpy(path, base, sizeof(path));
		else
			snprintf(path, sizeof(path), "%s.%u", base, seg);
		if (stat(path, &st) < 0)
		{
			if (errno == ENOENT)
				break;
			ereport(ERROR,
					(errcode_for_file_access(),
					 errmsg("could not stat file \"%s\": %m", path)));
		}
		/* whole blocks, as RelationGetNumberOfBlocks() counts them */
		size += (int64) (st.st_size / BLCKSZ) * BLCKSZ;
		if (st.st_size < full)
			break;
	}
	pfree(base);
	return size;
}

/*
 * Main-fork bytes of one relation, or -1 when it is locked or gone.  Never
 * waits for a lock.  Once the lock is ours the syscache is current, and the
 * pg_class row is enough to find the files: building a relcache entry (for
 * an index, its access method and operator class support too) is most of
 * the cost of opening a relation, and a report at 100,000 indexes pays it
 * 100,000 times.  Mapped, shared and temporary relations take the relcache
 * path.
 */
static int64
leaf_size_nowait(Oid relid)
{
	Relation	rel;
	int64		size = 0;
	HeapTuple	tup;
	Form_pg_class form;
	bool		has_storage,
				direct;
	Oid			spcoid,
				filenumber;

	if (!ConditionalLockRelationOid(relid, AccessShareLock))
		return -1;
	tup = SearchSysCache1(RELOID, ObjectIdGetDatum(relid));
	if (!HeapTupleIsValid(tup))
	{
		UnlockRelationOid(relid, AccessShareLock);
		return -1;
	}
	form = (Form_pg_class) GETSTRUCT(tup);
	has_storage = RELKIND_HAS_STORAGE(form->relkind);
	direct = OidIsValid(form->relfilenode) && !form->relisshared &&
		(form->relpersistence == RELPERSISTENCE_PERMANENT ||
		 form->relpersistence == RELPERSISTENCE_UNLOGGED);
	spcoid = OidIsValid(form->reltablespace) ? form->reltablespace : MyDatabaseTableSpace;
	filenumber = form->relfilenode;
	ReleaseSysCache(tup);
	if (!has_storage || direct)
	{
		if (has_storage)
			size = main_fork_file_size(spcoid, filenumber);
		UnlockRelationOid(relid, AccessShareLock);
		return size;
	}
	rel = try_relation_open(relid, NoLock);
	if (rel == NULL)
	{
		UnlockRelationOid(relid, AccessShareLock);
		return -1;
	}
	if (RELKIND_HAS_STORAGE(rel->rd_rel->relkind))
		size = (int64) RelationGetNumberOfBlocks(rel) * BLCKSZ;
	relation_close(rel, NoLock);
	UnlockRelationOid(relid, AccessShareLock);
	return size;
}

/*
 * Planner rows and main-fork bytes of one leaf, plus its TOAST table and
 * indexes.  Same no-wait rule as leaf_size_nowait().
 */
static bool
leaf_stats_nowait(Oid relid, double *rows, int64 *bytes)
{
	Relation	rel;
	List	   *indexes;
	ListCell   *lc;
	bool		ok = true;

	if (!ConditionalLockRelationOid(relid, AccessShareLock))
		return false;
	rel = try_relation_open(relid, NoLock);
	if (rel == NULL)
	{
		UnlockRelationOid(relid, AccessShareLock);
		return false;
	}
	*rows = 0;
	*bytes = 0;
	if (RELKIND_HAS_STORAGE(rel->rd_rel->relkind))
	{
		BlockNumber pages;
		double		allvisfrac;

		BlockNumber curpages = RelationGetNumberOfBlocks(rel);

		*bytes = (int64) curpages * BLCKSZ;
		if (curpages > 0 && rel->rd_rel->relpages > 0 && rel->rd_rel->reltuples >= 0)
		{
			/* The planner's density times today's size, without a second look at the file. */
			*rows = rel->rd_rel->reltuples / rel->rd_rel->relpages * curpages;
		}
		else if (curpages > 0)
		{
			estimate_rel_size(rel, NULL, &pages, rows, &allvisfrac);
			/* The planner pads never-vacuumed tables to 10 pages; a report should not. */
			if (rel->rd_rel->relpages == 0 && pages > curpages)
				*rows = *rows * curpages / pages;
		}
	}
	if (OidIsValid(rel->rd_rel->reltoastrelid))
	{
		int64		sz = leaf_size_nowait(rel->rd_rel->reltoastrelid);

		ok = ok && sz >= 0;
		*bytes += Max(sz, 0);
	}
	indexes = RelationGetIndexList(rel);
	foreach(lc, indexes)
	{
		int64		sz = leaf_size_nowait(lfirst_oid(lc));

		ok = ok && sz >= 0;
		*bytes += Max(sz, 0);
	}
	list_free(indexes);
	relation_close(rel, NoLock);
	UnlockRelationOid(relid, AccessShareLock);
	return ok;
}

bool
dbopt_relation_stats_nowait(Oid relid, int64 *rows, int64 *bytes)
{
	List	   *leaves;
	ListCell   *lc;
	double		total_rows = 0;
	int64		total_bytes = 0;
	bool		ok = true;

	if (get_rel_relkind(relid) == RELKIND_PARTITIONED_TABLE)
		leaves = find_all_inheritors(relid, NoLock, NULL);
	else
		leaves = list_make1_oid(relid);
	foreach(lc, leaves)
	{
		double		r;
		int64		b;

		CHECK_FOR_INTERRUPTS();
		if (get_rel_relkind(lfirst_oid(lc)) == RELKIND_PARTITIONED_TABLE)
			continue;
		if (!leaf_stats_nowait(lfirst_oid(lc), &r, &b))
		{
			ok = false;
			break;
		}
		total_rows += r;
		total_bytes += b;
	}
	list_free(leaves);
	*rows = ok ? (int64) (total_rows + 0.5) : -1;
	*bytes = ok ? total_bytes : -1;
	return ok;
}

int64
dbopt_relation_size_nowait(Oid relid)
{
	return dbopt_relation_size_nowait_relkind(relid, get_rel_relkind(relid));
}

/* The same, for a caller that has read relkind already (no syscache lookup). */
int64
dbopt_relation_size_nowait_relkind(Oid relid, char relkind)
{
	List	   *leaves;
	ListCell   *lc;
	int64		total = 0;

	if (relkind != RELKIND_PARTITIONED_TABLE && relkind != RELKIND_PARTITIONED_INDEX)
		return leaf_size_nowait(relid);

	leaves = find_all_inheritors(relid, NoLock, NULL);
	foreach(lc, leaves)
	{
		Oid			child = lfirst_oid(lc);
		int64		sz;

		CHECK_FOR_INTERRUPTS();
		if (child == relid)
			continue;
		sz = leaf_size_nowait(child);
		if (sz < 0)
			return -1;
		total += sz;
	}
	list_free(leaves);
	return total;
}

Oid
dbopt_schema_filter(const char *schema_name)
{
	Oid			nsp = get_namespace_oid(schema_name, true);

	if (!OidIsValid(nsp))
		ereport(ERROR,
				(errcode(ERRCODE_UNDEFINED_SCHEMA),
				 errmsg("schema \"%s\" does not exist", schema_name),
				 errdetail("The schema_name argument limits the report to one schema."),
				 errhint("Pass NULL for every schema, or check the spelling (names are case-sensitive).")));
	return nsp;
}

bool
dbopt_is_user_namespace(Oid nspid)
{
	if (nspid == PG_CATALOG_NAMESPACE || nspid == PG_TOAST_NAMESPACE)
		return false;
	if (IsToastNamespace(nspid) || isOtherTempNamespace(nspid))
		return false;
	{
		char	   *name = get_namespace_name(nspid);

		if (name == NULL || strcmp(name, "information_schema") == 0)
			return false;
	}
	return true;
}

static SPIPlanPtr log_plan = NULL;

void
dbopt_log_action(const char *operation, const char *object_name,
				 const char *action, int64 rows, int64 bytes,
				 const char *detail)
{
	DboptLogEntry e = {operation, object_name, action, rows, bytes, detail};

	dbopt_log_actions(list_make1(&e));
}

/* A text[] or int8[] of one field of every entry; NULL where absent. */
static Datum
log_array(List *entries, int field)
{
	int			n = list_length(entries);
	Datum	   *elems = palloc(sizeof(Datum) * Max(n, 1));
	bool	   *nulls = palloc0(sizeof(bool) * Max(n, 1));
	int			dims[1] = {n};
	int			lbs[1] = {1};
	bool		is_int = field == 3 || field == 4;
	ListCell   *lc;

	foreach(lc, entries)
	{
		DboptLogEntry *e = lfirst(lc);
		int			i = foreach_current_index(lc);

		switch (field)
		{
			case 0:
				elems[i] = CStringGetTextDatum(e->operation);
				break;
			case 1:
				elems[i] = CStringGetTextDatum(e->object_name);
				break;
			case 2:
				elems[i] = CStringGetTextDatum(e->action);
				break;
			case 3:
			case 4:
				{
					int64		v = field == 3 ? e->rows : e->bytes;

					nulls[i] = v < 0;
					elems[i] = Int64GetDatum(v);
				}
				break;
			default:
				nulls[i] = e->detail == NULL;
				elems[i] = e->detail ? CStringGetTextDatum(e->detail) : (Datum) 0;
				break;
		}
	}
	return PointerGetDatum(construct_md_array(elems, nulls, 1, dims, lbs,
											  is_int ? INT8OID : TEXTOID,
											  is_int ? 8 : -1, is_int ? FLOAT8PASSBYVAL : false,
											  is_int ? TYPALIGN_DOUBLE : TYPALIGN_INT));
}

void
dbopt_log_actions(List *entries)
{
	Oid			argtypes[7] = {TEXTARRAYOID, TEXTARRAYOID, TEXTARRAYOID, INT8ARRAYOID, INT8ARRAYOID,
	TEXTARRAYOID, NAMEOID};
	Datum		values[7];
	int			rc;
	int			f;
	ListCell   *lc;
	DboptIdentity saved;

	if (entries == NIL)
		return;
	/* A library newer than the installed SQL (before 0.3 there was no log): the server log only. */
	if (OidIsValid(get_relname_relid("maintenance_log", get_namespace_oid("dbopt", true))))
	{
		for (f = 0; f < 6; f++)
			values[f] = log_array(entries, f);
		/* The caller, not the owner a unit may be running as. */
		values[6] = DirectFunctionCall1(namein, CStringGetDatum(GetUserNameFromId(GetOuterUserId(), false)));

		/* The log is dbopt's: written as its owner, naming the real caller. */
		dbopt_elevate(&saved);
		SPI_connect();
		/* Planned once per session: a run that drops 500 partitions logs 500 rows. */
		if (log_plan == NULL)
		{
			SPIPlanPtr	plan = SPI_prepare("INSERT INTO dbopt.maintenance_log"
										   " (operation, object_name, action, rows, bytes, detail, role_name)"
										   " SELECT o, n, a, r, b, d, $7"
										   " FROM ROWS FROM (pg_catalog.unnest($1), pg_catalog.unnest($2), pg_catalog.unnest($3),"
										   " pg_catalog.unnest($4), pg_catalog.unnest($5), pg_catalog.unnest($6))"
										   " AS u(o, n, a, r, b, d)",
										   7, argtypes);

			if (plan == NULL || SPI_keepplan(plan) != 0)
				elog(ERROR, "could not plan the insert into dbopt.maintenance_log");
			log_plan = plan;
		}
		rc = SPI_execute_plan(log_plan, values, NULL, false, 0);
		if (rc != SPI_OK_INSERT)
			elog(ERROR, "could not write dbopt.maintenance_log: %s", SPI_result_code_string(rc));
		SPI_finish();
		dbopt_restore_identity(&saved);
	}
	foreach(lc, entries)
	{
		DboptLogEntry *e = lfirst(lc);

		ereport(LOG,
				(errmsg("dbopt.%s: %s %s%s%s", e->operation, e->action, e->object_name,
						e->detail ? ": " : "", e->detail ? e->detail : "")));
	}
}

SysScanDesc
dbopt_catalog_scan(Oid catalog, Oid indexid, AttrNumber attno, Oid value)
{
	Relation	rel = table_open(catalog, AccessShareLock);
	ScanKeyData key;

	/* systable_beginscan() copies the key. */
	ScanKeyInit(&key, attno, BTEqualStrategyNumber, F_OIDEQ, ObjectIdGetDatum(value));
	return systable_beginscan(rel, indexid, true, NULL, 1, &key);
}

void
dbopt_catalog_scan_end(SysScanDesc scan)
{
	Relation	rel = scan->heap_rel;

	systable_endscan(scan);
	table_close(rel, AccessShareLock);
}

List *
dbopt_user_relations(const char *relkinds)
{
	Relation	rel = table_open(RelationRelationId, AccessShareLock);
	SysScanDesc scan = systable_beginscan(rel, InvalidOid, false, NULL, 0, NULL);
	HeapTuple	tup;
	List	   *result = NIL;

	while (HeapTupleIsValid(tup = systable_getnext(scan)))
	{
		Form_pg_class cls = (Form_pg_class) GETSTRUCT(tup);

		if (strchr(relkinds, cls->relkind) != NULL &&
			dbopt_is_user_namespace(cls->relnamespace))
			result = lappend_oid(result, cls->oid);
	}
	systable_endscan(scan);
	table_close(rel, AccessShareLock);
	list_sort(result, list_oid_cmp);
	return result;
}

void
dbopt_require_own_table(Oid relid, const char *what)
{
	char		kind = get_rel_relkind(relid);

	if (kind != RELKIND_RELATION && kind != RELKIND_PARTITIONED_TABLE)
		ereport(ERROR,
				(errcode(ERRCODE_WRONG_OBJECT_TYPE),
				 errmsg("%s is not a table", dbopt_qualified_relname(relid)),
				 errdetail("%s works on tables and partitioned tables.", what),
				 errhint("Name the table the view or other object reads.")));
	dbopt_require_owner(relid, "%s changes the table.", what);
}

char *
dbopt_column_names(TupleDesc desc, bool skip_generated)
{
	StringInfoData buf;
	int			i;

	initStringInfo(&buf);
	for (i = 0; i < desc->natts; i++)
	{
		Form_pg_attribute att = TupleDescAttr(desc, i);

		if (att->attisdropped || (skip_generated && att->attgenerated))
			continue;
		appendStringInfo(&buf, "%s%s", buf.len ? ", " : "", quote_identifier(NameStr(att->attname)));
	}
	return buf.data;
}

char *
dbopt_relation_column_names(Oid relid, bool skip_generated, bool keep_lock)
{
	Relation	rel = relation_open(relid, AccessShareLock);
	char	   *cols = dbopt_column_names(RelationGetDescr(rel), skip_generated);

	relation_close(rel, keep_lock ? NoLock : AccessShareLock);
	return cols;
}

void
dbopt_run_ddl(const char *sql)
{
	DboptIdentity saved;
	int			nest;

	dbopt_elevate(&saved);
	nest = dbopt_push_lock_timeout();
	SPI_connect();
	if (SPI_execute(sql, false, 0) != SPI_OK_UTILITY)
		elog(ERROR, "could not run %s", sql);
	SPI_finish();
	AtEOXact_GUC(true, nest);
	dbopt_restore_identity(&saved);
}

AttrNumber
dbopt_require_column(Oid relid, const char *column, const char *detail, const char *hint)
{
	AttrNumber	att = column ? get_attnum(relid, column) : InvalidAttrNumber;

	if (att <= 0)
	{
		char	   *table = dbopt_qualified_relname(relid);

		ereport(ERROR,
				(errcode(ERRCODE_UNDEFINED_COLUMN),
				 errmsg("column \"%s\" of %s does not exist", column ? column : "NULL", table),
				 errdetail("%s", detail),
				 hint ? errhint("%s", hint)
				 : errhint("SELECT attname FROM pg_attribute WHERE attrelid = '%s'::regclass AND attnum > 0 lists them.",
						   table)));
	}
	return att;
}

/* 22004 for a NULL argument; steering says it decides what is destroyed. */
static void
null_argument(FunctionCallInfo fcinfo, int argno, const char *name, bool steering)
{
	const char *func = get_func_name(fcinfo->flinfo->fn_oid);

	if (!PG_ARGISNULL(argno))
		return;
	ereport(ERROR,
			(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
			 errmsg("%s must not be null", name),
			 steering ? errdetail("%s decides what %s() changes; a NULL is not taken for either answer.", name, func)
			 : errdetail("%s() needs a value for %s.", func, name),
			 steering ? errhint("Pass true or false, or leave the argument out to use its default.")
			 : errhint("Pass a value, or leave the argument out to use its default.")));
}

void
dbopt_require_arg(FunctionCallInfo fcinfo, int argno, const char *name)
{
	null_argument(fcinfo, argno, name, false);
}

bool
dbopt_steering_bool(FunctionCallInfo fcinfo, int argno, const char *name)
{
	null_argument(fcinfo, argno, name, true);
	return PG_GETARG_BOOL(argno);
}

#ifndef DBOPT_HAVE_SOFT_INPUT
typedef struct IntervalIn
{
	const char *text;
	Interval   *out;
} IntervalIn;

static void
interval_in_unit(void *arg)
{
	IntervalIn *in = arg;

	*in->out = *DatumGetIntervalP(DirectFunctionCall3(interval_in, CStringGetDatum(in->text),
													  ObjectIdGetDatum(InvalidOid), Int32GetDatum(-1)));
}
#endif

bool
dbopt_interval_in_safe(const char *text, Interval *out, char **problem)
{
#ifdef DBOPT_HAVE_SOFT_INPUT
	ErrorSaveContext escontext = {T_ErrorSaveContext};
	Datum		d;

	escontext.details_wanted = true;
	if (!DirectInputFunctionCallSafe(interval_in, (char *) text, InvalidOid, -1,
									 (Node *) &escontext, &d))
	{
		*problem = pstrdup(escontext.error_data->message);
		return false;
	}
	*out = *DatumGetIntervalP(d);
	return true;
#else
	/* A subtransaction, so that rolling back the failed call is complete. */
	IntervalIn	in = {text, out};
	ErrorData  *edata = dbopt_try_subxact(interval_in_unit, &in);

	if (edata == NULL)
		return true;
	if (ERRCODE_TO_CATEGORY(edata->sqlerrcode) != ERRCODE_DATA_EXCEPTION)
		ReThrowError(edata);
	*problem = edata->message;
	return false;
#endif
}

char *
dbopt_trimmed(const char *text)
{
	const char *end;

	while (isspace((unsigned char) *text))
		text++;
	end = text + strlen(text);
	while (end > text && isspace((unsigned char) end[-1]))
		end--;
	return pnstrdup(text, end - text);
}

bool
dbopt_is_bare_number(const char *text)
{
	const char *c = text;
	bool		digits = false;

	while (isspace((unsigned char) *c))
		c++;
	if (*c == '+' || *c == '-')
		c++;
	for (; *c; c++)
	{
		if (isdigit((unsigned char) *c))
			digits = true;
		else if (*c != '.')
			break;
	}
	while (isspace((unsigned char) *c))
		c++;
	/* Zero is zero in any unit. */
	return digits && *c == '\0' && strtod(text, NULL) != 0;
}

void
dbopt_require_unit(const char *argname, const char *text, const char *what)
{
	if (!dbopt_is_bare_number(text))
		return;
	ereport(ERROR,
			(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
			 errmsg("%s \"%s\" has no unit", argname, text),
			 what ?
			 errdetail("%s, so %s is an interval; PostgreSQL would read a bare number as seconds.",
					   what, argname) :
			 errdetail("PostgreSQL reads a bare number as seconds, which is rarely what a retention or age means, so %s needs its unit.",
					   argname),
			 errhint("Write the unit: '%s days', '%s months' or '%s hours'.",
					 dbopt_trimmed(text), dbopt_trimmed(text), dbopt_trimmed(text))));
}

Interval *
dbopt_interval_arg(const char *argname, const char *text)
{
	Interval   *iv = palloc(sizeof(Interval));
	char	   *problem = NULL;

	dbopt_require_unit(argname, text, NULL);
	if (!dbopt_interval_in_safe(text, iv, &problem))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("invalid %s \"%s\"", argname, text),
				 errdetail("%s must be an interval: %s.", argname, problem),
				 errhint("Use a literal such as '90 days', '6 months' or '24 hours'.")));
	return iv;
}

Interval *
dbopt_interval_or_text_arg(FunctionCallInfo fcinfo, int argno, const char *argname)
{
	Oid			type = get_fn_expr_argtype(fcinfo->flinfo, argno);

	if (type == TEXTOID)
		return dbopt_interval_arg(argname, text_to_cstring(PG_GETARG_TEXT_PP(argno)));
	if (type != INTERVALOID)
		elog(ERROR, "could not tell the type of argument %s", argname);
	return PG_GETARG_INTERVAL_P(argno);
}
