/*-------------------------------------------------------------------------
 *
 * findings.c
 *	  The shared findings-row builder and the suppression list.
 *
 * Every check-style report returns (severity, check_name, object_name,
 * detail, remediation, fix_sql, <own columns>) and builds its rows only
 * here, so the shape and the suppression rules cannot drift between
 * reports.  Suppressions are read once per report call, sorted, and looked
 * up by binary search: O((findings + suppressions) log suppressions).
 * The rows go through a tuplesort (spilling past work_mem), so every report
 * returns them worst first without the caller's ORDER BY: severity rank,
 * then object_name and check_name in byte order (NULL last), then the
 * order the report added them, which keeps a check's own ranking.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "catalog/namespace.h"
#include "catalog/pg_collation.h"
#include "catalog/pg_operator.h"
#include "catalog/pg_type.h"
#include "executor/spi.h"
#include "executor/tuptable.h"
#include "miscadmin.h"
#include "utils/acl.h"
#include "utils/builtins.h"
#include "utils/lsyscache.h"
#include "utils/memutils.h"
#include "utils/timestamp.h"
#include "utils/tuplestore.h"

#include "dbopt/checks.h"
#include "dbopt/compat.h"
#include "dbopt/findings.h"
#include "dbopt/util.h"

struct DboptSuppression
{
	char	   *check_name;
	char	   *object_name;	/* NULL: every object of the check */
	char	   *reason;
	char	   *until;			/* NULL: no end */
};

static const char *const severity_names[] = {
	[DBOPT_CRITICAL] = "critical",
	[DBOPT_WARNING] = "warning",
	[DBOPT_INFO] = "info",
	[DBOPT_OK] = "ok",
};

const char *
dbopt_severity_name(DboptSeverity s)
{
	if ((int) s < 0 || (int) s >= lengthof(severity_names))
		elog(ERROR, "invalid dbopt severity %d", (int) s);
	return severity_names[s];
}

/* NULL object names (wildcards) sort first within a check. */
static int
suppression_cmp(const char *check_a, const char *obj_a,
				const char *check_b, const char *obj_b)
{
	int			c = strcmp(check_a, check_b);

	if (c != 0)
		return c;
	if (obj_a == NULL && obj_b == NULL)
		return 0;
	if (obj_a == NULL)
		return -1;
	if (obj_b == NULL)
		return 1;
	return strcmp(obj_a, obj_b);
}

static int
suppression_qsort_cmp(const void *a, const void *b)
{
	const DboptSuppression *x = a;
	const DboptSuppression *y = b;

	return suppression_cmp(x->check_name, x->object_name,
						   y->check_name, y->object_name);
}

static const DboptSuppression *
suppression_find(const DboptSuppressionSet *set, const char *check, const char *obj)
{
	int			lo = 0,
				hi = set->n - 1;

	while (lo <= hi)
	{
		int			mid = lo + (hi - lo) / 2;
		int			c = suppression_cmp(check, obj, set->items[mid].check_name,
										set->items[mid].object_name);

		if (c == 0)
			return &set->items[mid];
		if (c < 0)
			hi = mid - 1;
		else
			lo = mid + 1;
	}
	return NULL;
}

static Oid
suppressions_relid(void)
{
	Oid			nsp = get_namespace_oid("dbopt", false);
	Oid			relid = get_relname_relid("suppressions", nsp);

	if (!OidIsValid(relid))
		elog(ERROR, "table dbopt.suppressions is missing");
	return relid;
}

const DboptSuppression *
dbopt_suppression_match(const DboptSuppressionSet *set, const char *check_name,
						const char *object_name)
{
	const DboptSuppression *s = suppression_find(set, check_name, object_name);

	if (s == NULL && object_name != NULL)
		s = suppression_find(set, check_name, NULL);
	return s;
}

char *
dbopt_suppression_note(const DboptSuppression *s)
{
	return psprintf("[suppressed%s%s%s%s]",
					s->reason ? ": " : "", s->reason ? s->reason : "",
					s->until ? "; until " : "", s->until ? s->until : "");
}

DboptSuppressionSet *
dbopt_suppressions_load(MemoryContext cxt)
{
	Oid			relid = suppressions_relid();
	uint64		n;
	DboptSuppressionSet *set = MemoryContextAllocZero(cxt, sizeof(DboptSuppressionSet));

	if (pg_class_aclcheck(relid, GetUserId(), ACL_SELECT) != ACLCHECK_OK)
		ereport(ERROR,
				(errcode(ERRCODE_INSUFFICIENT_PRIVILEGE),
				 errmsg("permission denied for table dbopt.suppressions"),
				 errdetail("Every dbopt report reads the suppression list to hide accepted findings."),
				 errhint("Grant SELECT on dbopt.suppressions to this role, or grant it pg_monitor.")));

	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "SPI_connect failed");
	if (SPI_execute("SELECT check_name, object_name, reason, until::text"
					"  FROM dbopt.suppressions"
					" WHERE until IS NULL OR until > pg_catalog.now()",
					true, 0) != SPI_OK_SELECT)
		elog(ERROR, "could not read dbopt.suppressions");

	n = SPI_processed;
	set->n = (int) n;
	set->items = MemoryContextAllocZero(cxt, sizeof(DboptSuppression) * Max(n, 1));
	for (uint64 i = 0; i < n; i++)
	{
		HeapTuple	tup = SPI_tuptable->vals[i];
		TupleDesc	desc = SPI_tuptable->tupdesc;
		DboptSuppression *item = &set->items[i];
		char	   *v;

		v = SPI_getvalue(tup, desc, 1);
		item->check_name = MemoryContextStrdup(cxt, v ? v : "");
		v = SPI_getvalue(tup, desc, 2);
		item->object_name = v ? MemoryContextStrdup(cxt, v) : NULL;
		v = SPI_getvalue(tup, desc, 3);
		item->reason = v ? MemoryContextStrdup(cxt, v) : NULL;
		v = SPI_getvalue(tup, desc, 4);
		item->until = v ? MemoryContextStrdup(cxt, v) : NULL;
	}
	SPI_finish();

	if (set->n > 1)
		qsort(set->items, set->n, sizeof(DboptSuppression), suppression_qsort_cmp);
	return set;
}

/*
 * The sort runs over the report's columns plus two: the severity rank and
 * the sequence number of the row, the last key, so that ties keep the
 * order the report chose.
 */
static void
findings_sort_begin(DboptFindings *f, MemoryContext qcxt)
{
	int			natts = f->tupdesc->natts;
	TupleDesc	desc;
	MemoryContext old = MemoryContextSwitchTo(qcxt);
	AttrNumber	keys[4] = {natts + 1, 3, 2, natts + 2};
	Oid			ops[4] = {Int4LessOperator, TextLessOperator, TextLessOperator, Int8LessOperator};
	Oid			colls[4] = {InvalidOid, C_COLLATION_OID, C_COLLATION_OID, InvalidOid};
	bool		nulls_first[4] = {false, false, false, false};

	desc = CreateTemplateTupleDesc(natts + 2);
	for (int i = 1; i <= natts; i++)
		TupleDescCopyEntry(desc, i, f->tupdesc, i);
	TupleDescInitEntry(desc, natts + 1, "severity_rank", INT4OID, -1, 0);
	TupleDescInitEntry(desc, natts + 2, "seq", INT8OID, -1, 0);
	f->sortslot = MakeSingleTupleTableSlot(desc, &TTSOpsMinimalTuple);
	f->sort = tuplesort_begin_heap(desc, lengthof(keys), keys, ops, colls, nulls_first,
								   work_mem, NULL, TUPLESORT_NONE);
	MemoryContextSwitchTo(old);
}

void
dbopt_findings_end(DboptFindings *f)
{
	TupleTableSlot *slot = f->sortslot;

	if (f->sort == NULL)
		elog(ERROR, "dbopt_findings_end called twice");
	tuplesort_performsort(f->sort);
	while (tuplesort_gettupleslot(f->sort, true, false, slot, NULL))
	{
		CHECK_FOR_INTERRUPTS();
		slot_getallattrs(slot);
		/* The first natts columns are the report's. */
		tuplestore_putvalues(f->rsinfo->setResult, f->tupdesc,
							 slot->tts_values, slot->tts_isnull);
	}
	tuplesort_end(f->sort);
	f->sort = NULL;
	ExecDropSingleTupleTableSlot(slot);
	f->sortslot = NULL;
}

void
dbopt_findings_begin(DboptFindings *f, FunctionCallInfo fcinfo,
					 bool include_suppressed)
{
	ReturnSetInfo *rsinfo = (ReturnSetInfo *) fcinfo->resultinfo;
	MemoryContext qcxt;

	memset(f, 0, sizeof(*f));
	dbopt_init_materialized_srf(fcinfo);
	f->rsinfo = rsinfo;
	f->tupdesc = rsinfo->setDesc;
	f->include_suppressed = include_suppressed;

	/* The SQL declaration must start with the six shared text columns. */
	if (f->tupdesc->natts < DBOPT_FINDINGS_NCOLS)
		elog(ERROR, "findings report declares %d columns, needs at least %d",
			 f->tupdesc->natts, DBOPT_FINDINGS_NCOLS);
	for (int i = 0; i < DBOPT_FINDINGS_NCOLS; i++)
		if (TupleDescAttr(f->tupdesc, i)->atttypid != TEXTOID)
			elog(ERROR, "findings report column %d is not text", i + 1);
	f->nextra = f->tupdesc->natts - DBOPT_FINDINGS_NCOLS;

	qcxt = rsinfo->econtext->ecxt_per_query_memory;
	f->supp = dbopt_suppressions_load(qcxt);
	f->rowcxt = AllocSetContextCreate(qcxt, "dbopt findings row",
									  ALLOCSET_SMALL_SIZES);
	findings_sort_begin(f, qcxt);
}

static inline Datum
text_or_null(const char *s, bool *isnull)
{
	*isnull = (s == NULL);
	return s ? CStringGetTextDatum(s) : (Datum) 0;
}

bool
dbopt_findings_add(DboptFindings *f, const DboptFinding *row,
				   Datum *extra, bool *extra_null)
{
	const DboptSuppression *s;
	MemoryContext old;
	Datum	   *values;
	bool	   *nulls;
	const char *detail = row->detail;

	Assert(dbopt_check_is_known(row->check_name));

	if (f->sort == NULL)
		elog(ERROR, "dbopt_findings_add called after dbopt_findings_end");
	if (row->severity == DBOPT_OK && f->hide_passed)
		return false;

	s = dbopt_suppression_match(f->supp, row->check_name, row->object_name);
	if (s != NULL)
	{
		f->suppressed++;
		if (!f->include_suppressed)
			return false;
	}

	old = MemoryContextSwitchTo(f->rowcxt);
	/* Two more for the sort: severity rank and sequence. */
	values = palloc(sizeof(Datum) * (f->tupdesc->natts + 2));
	nulls = palloc(sizeof(bool) * (f->tupdesc->natts + 2));

	if (s != NULL)
		detail = psprintf("%s %s", detail ? detail : "", dbopt_suppression_note(s));

	values[0] = CStringGetTextDatum(dbopt_severity_name(row->severity));
	nulls[0] = false;
	values[1] = text_or_null(row->check_name, &nulls[1]);
	values[2] = text_or_null(row->object_name, &nulls[2]);
	values[3] = text_or_null(detail, &nulls[3]);
	values[4] = text_or_null(row->remediation, &nulls[4]);
	values[5] = text_or_null(row->fix_sql, &nulls[5]);
	for (int i = 0; i < f->nextra; i++)
	{
		values[DBOPT_FINDINGS_NCOLS + i] = extra ? extra[i] : (Datum) 0;
		nulls[DBOPT_FINDINGS_NCOLS + i] = extra ? (extra_null ? extra_null[i] : false) : true;
	}

	values[f->tupdesc->natts] = Int32GetDatum((int32) row->severity);
	nulls[f->tupdesc->natts] = false;
	values[f->tupdesc->natts + 1] = Int64GetDatum(f->emitted);
	nulls[f->tupdesc->natts + 1] = false;

	ExecClearTuple(f->sortslot);
	memcpy(f->sortslot->tts_values, values, sizeof(Datum) * (f->tupdesc->natts + 2));
	memcpy(f->sortslot->tts_isnull, nulls, sizeof(bool) * (f->tupdesc->natts + 2));
	ExecStoreVirtualTuple(f->sortslot);
	tuplesort_puttupleslot(f->sort, f->sortslot);
	MemoryContextSwitchTo(old);
	MemoryContextReset(f->rowcxt);
	f->emitted++;
	return true;
}

/*
 * Delete the suppression of (check_name $1, object_name $2), SPI connected
 * as dbopt's owner; the number of rows deleted.
 */
static uint64
delete_suppression(Oid *argtypes, Datum *args, const char *argnulls)
{
	if (SPI_execute_with_args("DELETE FROM dbopt.suppressions"
							  " WHERE check_name = $1"
							  "   AND object_name IS NOT DISTINCT FROM $2",
							  2, argtypes, args, argnulls, false, 0) != SPI_OK_DELETE)
		elog(ERROR, "could not delete suppression");
	return SPI_processed;
}

/*
 * dbopt.suppress(check_name, object_name, reason, until)
 *
 * Validates the check name against the registry, so a typo does not create
 * a suppression that never matches.
 */
PG_FUNCTION_INFO_V1(dbopt_suppress);

Datum
dbopt_suppress(PG_FUNCTION_ARGS)
{
	char	   *check_name;
	Datum		args[4];
	char		argnulls[4] = {' ', ' ', ' ', ' '};
	Oid			argtypes[4] = {TEXTOID, TEXTOID, TEXTOID, TIMESTAMPTZOID};
	char	   *reason;
	DboptIdentity id;

	if (PG_ARGISNULL(0))
		ereport(ERROR,
				(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
				 errmsg("check_name must not be null"),
				 errdetail("A suppression hides one check, for one object or for all of them."),
				 errhint("SELECT check_name FROM dbopt.check_names() lists the checks.")));
	check_name = text_to_cstring(PG_GETARG_TEXT_PP(0));
	if (!dbopt_check_is_known(check_name))
	{
		const char *closest = dbopt_check_closest(check_name);

		ereport(ERROR,
				(errcode(ERRCODE_UNDEFINED_OBJECT),
				 errmsg("unknown check name \"%s\"", check_name),
				 errdetail("Suppressions match the check_name column of dbopt reports."),
				 closest ? errhint("Did you mean \"%s\"?", closest) :
				 errhint("SELECT check_name FROM dbopt.check_names() lists the checks.")));
	}

	reason = PG_ARGISNULL(2) ? NULL : text_to_cstring(PG_GETARG_TEXT_PP(2));
	if (reason == NULL || reason[strspn(reason, " \t\r\n")] == '\0')
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("a suppression needs a reason"),
				 errdetail("The reason is shown next to the finding when include_suppressed is true."),
				 errhint("Say why the finding is accepted, for example \"reporting replica, index used there\".")));

	if (!PG_ARGISNULL(3) &&
		PG_GETARG_TIMESTAMPTZ(3) <= GetCurrentTransactionStartTimestamp())
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("suppression end time is not in the future"),
				 errdetail("A suppression that ends before now would never hide anything."),
				 errhint("Pass a later time, or NULL for no end.")));

	args[0] = PointerGetDatum(cstring_to_text(check_name));
	for (int i = 1; i < 4; i++)
	{
		args[i] = PG_GETARG_DATUM(i);
		if (PG_ARGISNULL(i))
			argnulls[i] = 'n';
	}

	/* EXECUTE on suppress() is the privilege: the table is written as dbopt's owner. */
	dbopt_elevate(&id);
	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "SPI_connect failed");
	/* Replace an existing suppression for the same (check, object). */
	(void) delete_suppression(argtypes, args, argnulls);
	if (SPI_execute_with_args("INSERT INTO dbopt.suppressions"
							  " (check_name, object_name, reason, until)"
							  " VALUES ($1, $2, $3, $4)",
							  4, argtypes, args, argnulls, false, 0) != SPI_OK_INSERT)
		elog(ERROR, "could not insert suppression");
	SPI_finish();
	dbopt_restore_identity(&id);
	dbopt_log_action("suppress", PG_ARGISNULL(1) ? check_name : psprintf("%s %s", check_name, TextDatumGetCString(args[1])),
					 "suppressed", -1, -1, TextDatumGetCString(args[2]));

	PG_RETURN_VOID();
}

/* dbopt.unsuppress(check_name, object_name): true when one was removed. */
PG_FUNCTION_INFO_V1(dbopt_unsuppress);

Datum
dbopt_unsuppress(PG_FUNCTION_ARGS)
{
	Datum		args[2];
	char		argnulls[2] = {' ', ' '};
	Oid			argtypes[2] = {TEXTOID, TEXTOID};
	uint64		n;
	DboptIdentity id;

	if (PG_ARGISNULL(0))
		ereport(ERROR,
				(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
				 errmsg("check_name must not be null"),
				 errdetail("A suppression is identified by its check name and object name."),
				 errhint("SELECT * FROM dbopt.suppressions lists them.")));
	args[0] = PG_GETARG_DATUM(0);
	args[1] = PG_ARGISNULL(1) ? (Datum) 0 : PG_GETARG_DATUM(1);
	if (PG_ARGISNULL(1))
		argnulls[1] = 'n';

	dbopt_elevate(&id);
	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "SPI_connect failed");
	n = delete_suppression(argtypes, args, argnulls);
	SPI_finish();
	dbopt_restore_identity(&id);
	if (n > 0)
		dbopt_log_action("unsuppress", PG_ARGISNULL(1) ? TextDatumGetCString(args[0]) :
						 psprintf("%s %s", TextDatumGetCString(args[0]), TextDatumGetCString(args[1])),
						 "unsuppressed", (int64) n, -1, NULL);
	PG_RETURN_BOOL(n > 0);
}
