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

#include <sys/stat.h>

#include "access/genam.h"
#include "access/htup_details.h"
#include "access/table.h"
#include "catalog/indexing.h"
#include "catalog/pg_extension.h"
#include "catalog/pg_type.h"
#include "executor/spi.h"
#include "miscadmin.h"
#include "nodes/pg_list.h"
#include "utils/builtins.h"
#include "utils/fmgroids.h"
#include "utils/guc.h"
#include "utils/lsyscache.h"
#include "utils/rel.h"
#include "utils/varlena.h"

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
