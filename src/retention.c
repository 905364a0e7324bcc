/*-------------------------------------------------------------------------
 *
 * retention.c
 *	  Row-retention policies: the registry (dbopt.retention_policies),
 *	  add_retention_policy() and remove_retention_policy(), and the checks
 *	  a policy's table, time column and archive table must pass, on
 *	  registration and again before every run.
 *
 * A policy keeps the rows of a table whose time column is at least
 * now() - keep; retention_run.c removes the older ones, and
 * retention_refs.c finds the foreign keys that point at the table.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/htup_details.h"
#include "access/relation.h"
#include "access/xact.h"
#include "catalog/pg_class.h"
#include "catalog/pg_type.h"
#include "executor/spi.h"
#include "funcapi.h"
#include "mb/pg_wchar.h"
#include "miscadmin.h"
#include "utils/acl.h"
#include "utils/builtins.h"
#include "utils/datum.h"
#include "utils/lsyscache.h"
#include "utils/rel.h"
#include "utils/timestamp.h"

#include "dbopt/compat.h"
#include "dbopt/dbopt.h"
#include "dbopt/retention_internal.h"
#include "dbopt/util.h"

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

/* The policy's table and time column: what both registering and running it need. */
void
dbopt_ret_check_table(Oid relid, const char *argname, const char *func, const char *column)
{
	require_table(relid, argname);
	require_owner(relid, func, "table");
	(void) check_time_column(relid, column);
}

/* The archive table of an archive-mode policy on relid. */
void
dbopt_ret_check_archive(Oid relid, Oid archive, const char *func)
{
	require_table(archive, "archive table");
	require_owner(archive, func, "archive table");
	check_archive_shape(relid, archive);
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

List *
dbopt_ret_load_policies(void)
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
	dbopt_ret_check_archive(relid, archive, "add_retention_policy");
	return archive;
}

/* The settings of a new policy that need no catalog lookup, in argument order. */
static void
check_settings(FunctionCallInfo fcinfo, Interval *keep, const char *mode, const char *on_referenced,
			   int batch_size, bool has_max, int64 max_rows)
{
	Interval	zero;

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
	if (strcmp(mode, "archive") != 0 && !PG_ARGISNULL(4))
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

	dbopt_ret_check_table(relid, "relation", "add_retention_policy", column);
	check_settings(fcinfo, keep, mode, on_referenced, batch_size, has_max, max_rows);
	is_archive = strcmp(mode, "archive") == 0;
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
