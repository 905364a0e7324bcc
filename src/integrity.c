/*-------------------------------------------------------------------------
 *
 * integrity.c
 *	  check_data_integrity(): do the rows obey what the schema claims?
 *	  The run (findings held per unit, isolated scans, the caller's
 *	  rights), invalid unique indexes, transaction ID age, collation
 *	  versions, amcheck, and the driver.  Constraints are constraints.c,
 *	  sequences integrity_sequences.c.
 *
 * Catalog facts (disabled triggers, invalid unique indexes, sequence
 * headroom, freeze age, collation versions) are read in C.  Data facts
 * (orphans, CHECK violations, duplicate keys, amcheck) need a scan, which
 * is SQL: the orphan scan is the same anti-join that VALIDATE CONSTRAINT
 * runs (RI_Initial_Check), with the same work_mem, so it costs about the
 * same.  Every scan runs isolated (isolate.c) under AccessShareLock, so a
 * scan that fails, waits too long for a lock, or runs past
 * dbopt.check_timeout becomes a check_failed row and the rest go on.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/genam.h"
#include "access/htup_details.h"
#include "access/table.h"
#include "access/transam.h"
#include "access/xact.h"
#include "catalog/catalog.h"
#include "catalog/dependency.h"
#include "catalog/index.h"
#include "catalog/indexing.h"
#include "catalog/objectaddress.h"
#include "catalog/pg_am.h"
#include "catalog/pg_authid.h"
#include "catalog/pg_attrdef.h"
#include "catalog/pg_class.h"
#include "catalog/pg_collation.h"
#include "catalog/pg_constraint.h"
#include "catalog/pg_database.h"
#include "catalog/pg_depend.h"
#include "catalog/pg_index.h"
#include "catalog/pg_inherits.h"
#include "catalog/pg_operator.h"
#include "catalog/pg_rewrite.h"
#include "catalog/pg_sequence.h"
#include "catalog/pg_statistic_ext.h"
#include "catalog/pg_trigger.h"
#include "catalog/pg_type.h"
#include "commands/dbcommands.h"
#include "commands/vacuum.h"
#include "executor/spi.h"
#include "funcapi.h"
#include "miscadmin.h"
#include "nodes/pg_list.h"
#include "postmaster/autovacuum.h"
#include "utils/acl.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/fmgroids.h"
#include "utils/guc.h"
#include "utils/jsonb.h"
#include "utils/lsyscache.h"
#include "utils/memutils.h"
#include "utils/rel.h"
#include "utils/ruleutils.h"
#include "utils/syscache.h"

#include "dbopt/compat.h"
#include "dbopt/dbopt.h"
#include "dbopt/findings.h"
#include "dbopt/integrity.h"
#include "dbopt/integrity_internal.h"
#include "dbopt/isolate.h"
#include "dbopt/util.h"

/* Findings of one unit, held until its subtransaction is over. */
typedef struct Pending
{
	DboptFinding f;
	bool		has_rows;
	int64		rows;
	char	   *sample;			/* JSON array text, or NULL */
} Pending;

/* Objects one check passed over because the caller may not read them. */
typedef struct Skipped
{
	const char *check;
	int			n;
	char	   *first;
} Skipped;

/* A data scan: count the rows a query returns, keep the first few. */
typedef struct ScanUnit
{
	const char *sql;
	int			sample_limit;
	bool		ri_memory;		/* use VALIDATE's memory settings */
	MemoryContext outcxt;
	int64		count;
	char	   *sample;
} ScanUnit;

#define MAX_PROBLEMS_PER_OBJECT 100

bool
dbopt_integrity_oidset_contains(const OidSet *set, Oid oid)
{
	return set == NULL || bsearch(&oid, set->oids, set->n, sizeof(Oid), oid_cmp) != NULL;
}

void
dbopt_integrity_add_pending(IntegrityRun *run, DboptSeverity sev, const char *check,
							const char *object, const char *detail, const char *remediation,
							const char *fix_sql, bool has_rows, int64 rows, const char *sample)
{
	Pending    *p = palloc0(sizeof(Pending));

	p->f.severity = sev;
	p->f.check_name = check;
	p->f.object_name = object;
	p->f.detail = detail;
	p->f.remediation = remediation;
	p->f.fix_sql = fix_sql;
	p->has_rows = has_rows;
	p->rows = rows;
	p->sample = sample ? pstrdup(sample) : NULL;
	run->pending = lappend(run->pending, p);
}

/* Emit what the last units found; only ever outside a subtransaction. */
void
dbopt_integrity_flush_pending(IntegrityRun *run)
{
	ListCell   *lc;

	foreach(lc, run->pending)
	{
		Pending    *p = lfirst(lc);
		Datum		extra[2];
		bool		extra_null[2];

		extra[0] = Int64GetDatum(p->rows);
		extra_null[0] = !p->has_rows;
		extra_null[1] = (p->sample == NULL);
		extra[1] = extra_null[1] ? (Datum) 0 :
			DirectFunctionCall1(jsonb_in, CStringGetDatum(p->sample));
		dbopt_findings_add(&run->out, &p->f, extra, extra_null);
	}
	run->pending = NIL;
}

/* A check that could not run, with advice that fits the reason. */
void
dbopt_integrity_add_check_failed(IntegrityRun *run, const char *check, const char *object,
								 const DboptUnitError *err)
{
	const char *remediation;

	if (err->timed_out)
		remediation = "Raise dbopt.check_timeout, or check this table alone with target => and a quiet moment.";
	else if (err->lock_timeout)
		remediation = "Another session holds a conflicting lock; run again later or raise dbopt.lock_timeout.";
	else if (err->sqlerrcode == ERRCODE_INSUFFICIENT_PRIVILEGE)
		remediation = "Run as the table owner, or grant SELECT on the tables involved to the caller.";
	else
		remediation = "Fix the cause in the error text and run again; the other checks ran.";

	dbopt_integrity_add_pending(run, DBOPT_WARNING, "check_failed", object,
								psprintf("%s could not run: %s%s%s", check, err->message,
										 err->detail ? " " : "", err->detail ? err->detail : ""),
								remediation, NULL, false, 0, NULL);
}

/*
 * Run a data scan: fetch the first sample_limit rows (each a jsonb key),
 * then skip through the rest counting them.  Plans as a plain (not fast
 * start) query, like VALIDATE's own check.
 */
static void
scan_unit(void *arg)
{
	ScanUnit   *u = (ScanUnit *) arg;
	SPIPlanPtr	plan;
	Portal		portal;
	StringInfoData sample;
	int			nest = NewGUCNestLevel();

	if (u->ri_memory)
	{
		char		buf[32];

		snprintf(buf, sizeof(buf), "%d", maintenance_work_mem);
		dbopt_set_local_guc("work_mem", buf);
		dbopt_set_local_guc("hash_mem_multiplier", "1");
	}

	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "SPI_connect failed");
	plan = SPI_prepare(u->sql, 0, NULL);
	if (plan == NULL)
		elog(ERROR, "could not prepare integrity scan: %s",
			 SPI_result_code_string(SPI_result));
	portal = SPI_cursor_open(NULL, plan, NULL, NULL, true);

	initStringInfo(&sample);
	u->count = 0;
	if (u->sample_limit > 0)
	{
		SPI_cursor_fetch(portal, true, u->sample_limit);
		for (uint64 i = 0; i < SPI_processed; i++)
		{
			char	   *v = SPI_getvalue(SPI_tuptable->vals[i], SPI_tuptable->tupdesc, 1);

			appendStringInfoString(&sample, i == 0 ? "[" : ", ");
			appendStringInfoString(&sample, v ? v : "null");
		}
		u->count = SPI_processed;
		SPI_freetuptable(SPI_tuptable);
	}
	if (u->sample_limit <= 0 || u->count == u->sample_limit)
	{
		SPI_cursor_move(portal, true, FETCH_ALL);
		u->count += SPI_processed;
	}
	SPI_cursor_close(portal);

	u->sample = (sample.len > 0) ?
		MemoryContextStrdup(u->outcxt, psprintf("%s]", sample.data)) : NULL;
	SPI_finish();
	AtEOXact_GUC(true, nest);
}

bool
dbopt_integrity_run_scan(const char *sql, Oid owner_of, int sample_limit, bool ri_memory, int64 *count,
						 char **sample, DboptUnitError *err)
{
	ScanUnit	u;

	memset(&u, 0, sizeof(u));
	u.sql = sql;
	u.sample_limit = sample_limit;
	u.ri_memory = ri_memory;
	u.outcxt = CurrentMemoryContext;
	if (!dbopt_run_unit(scan_unit, &u, OidIsValid(owner_of) ? dbopt_unit_owner(owner_of) : InvalidOid, 0, dbopt_check_timeout_ms, err))
		return false;
	*count = u.count;
	*sample = u.sample;
	return true;
}

/* Count one object a check passed over for want of rights; see flush_skipped(). */
void
dbopt_integrity_note_skipped(IntegrityRun *run, const char *check, const char *object)
{
	ListCell   *lc;
	Skipped    *s;
	MemoryContext old = MemoryContextSwitchTo(run->runcxt);

	foreach(lc, run->skipped)
	{
		s = lfirst(lc);
		if (strcmp(s->check, check) == 0)
		{
			s->n++;
			MemoryContextSwitchTo(old);
			return;
		}
	}
	s = palloc0(sizeof(Skipped));
	s->check = pstrdup(check);
	s->n = 1;
	s->first = pstrdup(object ? object : "");
	run->skipped = lappend(run->skipped, s);
	MemoryContextSwitchTo(old);
}

/*
 * One info row per check for the objects the caller may not read: these
 * are not failures of the check, and one row per object would bury the
 * findings.
 */
static void
flush_skipped(IntegrityRun *run)
{
	ListCell   *lc;
	const char *who = GetUserNameFromId(GetUserId(), false);

	foreach(lc, run->skipped)
	{
		Skipped    *s = lfirst(lc);

		dbopt_integrity_add_pending(run, DBOPT_INFO, "check_failed", s->check,
									psprintf("%s skipped %d object(s) (the first: %s) because role %s may not read them: it has no SELECT on them and is not a member of %s.",
											 s->check, s->n, s->first, quote_identifier(who),
											 strcmp(s->check, "sequence_exhaustion") == 0 ?
											 "pg_read_all_stats (pg_monitor)" : "pg_stat_scan_tables (pg_monitor)"),
									"Run as the owner of the objects, grant pg_monitor (counts without sample rows) or pg_read_all_data (everything) to the caller.",
									NULL, false, 0, NULL);
	}
	run->skipped = NIL;
	dbopt_integrity_flush_pending(run);
}

/*
 * What the caller may learn from relid's rows; READ_NONE is counted for
 * flush_skipped().
 */
ReadAccess
dbopt_integrity_read_access(IntegrityRun *run, Oid relid, const char *check, const char *object)
{
	if (pg_class_aclcheck(relid, GetUserId(), ACL_SELECT) == ACLCHECK_OK)
		return READ_FULL;
	if (has_privs_of_role(GetUserId(), ROLE_PG_STAT_SCAN_TABLES))
		return READ_COUNTS;
	dbopt_integrity_note_skipped(run, check, object);
	return READ_NONE;
}

/* Whether the caller may read relid's rows; if not, the skip is counted. */
static bool
can_read(IntegrityRun *run, Oid relid, const char *check, const char *object)
{
	if (pg_class_aclcheck(relid, GetUserId(), ACL_SELECT) == ACLCHECK_OK)
		return true;
	dbopt_integrity_note_skipped(run, check, object);
	return false;
}

/* ---------- invalid unique indexes ---------- */

/*
 * An index REINDEX CONCURRENTLY left behind when it failed: the new copy
 * (_ccnew) before the swap, the old one (_ccold) after it.  Either is
 * dropped, never rebuilt: rebuilding a _ccnew makes a _ccnew_ccnew.
 */
bool
dbopt_is_reindex_leftover(const char *name)
{
	const char *p = strstr(name, "_ccnew");

	if (p == NULL)
		p = strstr(name, "_ccold");
	if (p == NULL)
		return false;
	p += 6;
	while (*p >= '0' && *p <= '9')
		p++;
	return *p == '\0';
}

/*
 * Queries over the keys of a unique index: *scan returns one jsonb per
 * duplicated key (the sample), *listing the same keys with their counts
 * for a person to read.
 */
static void
duplicate_key_queries(Oid indexrelid, char **scan, char **listing)
{
	HeapTuple	itup = SearchSysCache1(INDEXRELID, ObjectIdGetDatum(indexrelid));
	Form_pg_index idx;
	Oid			relid;
	int			nkeys;
	bool		nulls_equal;
	StringInfoData keys, obj, notnull;
	char	   *pred = NULL;
	char	   *where;
	bool		isnull;
	Datum		d;

	if (!HeapTupleIsValid(itup))
		elog(ERROR, "cache lookup failed for index %u", indexrelid);
	idx = (Form_pg_index) GETSTRUCT(itup);
	relid = idx->indrelid;
	nkeys = idx->indnkeyatts;
	nulls_equal = dbopt_index_nulls_not_distinct(idx);
	d = SysCacheGetAttr(INDEXRELID, itup, Anum_pg_index_indpred, &isnull);
	if (!isnull)
		pred = TextDatumGetCString(DirectFunctionCall3(pg_get_expr_ext, d,
													   ObjectIdGetDatum(relid),
													   BoolGetDatum(false)));
	ReleaseSysCache(itup);

	initStringInfo(&keys);
	initStringInfo(&obj);
	initStringInfo(&notnull);
	for (int k = 1; k <= nkeys; k++)
	{
		char	   *col = TextDatumGetCString(DirectFunctionCall3(pg_get_indexdef_ext,
																  ObjectIdGetDatum(indexrelid),
																  Int32GetDatum(k),
																  BoolGetDatum(false)));

		appendStringInfo(&keys, "%s(%s)", k > 1 ? ", " : "", col);
		appendStringInfo(&obj, "%s%s, (%s)", k > 1 ? ", " : "",
						 quote_literal_cstr(col), col);
		appendStringInfo(&notnull, " AND (%s) IS NOT NULL", col);
	}
	/* notnull starts with " AND ": drop it when nothing precedes it */
	if (pred)
		where = psprintf(" WHERE (%s)%s", pred, nulls_equal ? "" : notnull.data);
	else
		where = nulls_equal ? "" : psprintf(" WHERE %s", notnull.data + 5);
	*scan = psprintf("SELECT pg_catalog.jsonb_build_object(%s) FROM ONLY %s%s GROUP BY %s HAVING count(*) > 1",
					 obj.data, dbopt_qualified_relname(relid), where, keys.data);
	*listing = psprintf("SELECT %s, count(*) FROM ONLY %s%s GROUP BY %s HAVING count(*) > 1 ORDER BY count(*) DESC",
						keys.data, dbopt_qualified_relname(relid), where, keys.data);
}

/*
 * How many keys of a unique index are duplicated, counted as the table's
 * owner (the keys may be expressions the owner controls); -1 when the scan
 * could not run.  For analyze_index_usage(), which must not offer a
 * rebuild that is bound to fail.
 */
int64
dbopt_unique_duplicate_keys(Oid indexrelid)
{
	char	   *scan;
	char	   *listing;
	int64		count;
	char	   *sample;
	DboptUnitError err;

	duplicate_key_queries(indexrelid, &scan, &listing);
	if (!dbopt_integrity_run_scan(scan, IndexGetRelation(indexrelid, false), 0, false, &count, &sample, &err))
		return -1;
	return count;
}

/* The indexes of relid, from pg_index, that keep accepts. */
static List *
table_indexes(Oid relid, bool (*keep) (Form_pg_index idx))
{
	SysScanDesc scan = dbopt_catalog_scan(IndexRelationId, IndexIndrelidIndexId,
										  Anum_pg_index_indrelid, relid);
	HeapTuple	tup;
	List	   *result = NIL;

	while (HeapTupleIsValid(tup = systable_getnext(scan)))
	{
		Form_pg_index idx = (Form_pg_index) GETSTRUCT(tup);

		if (keep(idx))
			result = lappend_oid(result, idx->indexrelid);
	}
	dbopt_catalog_scan_end(scan);
	return result;
}

static bool
is_invalid_unique(Form_pg_index idx)
{
	return idx->indisunique && !idx->indisvalid;
}

static void
check_invalid_unique(IntegrityRun *run, Oid relid)
{
	ListCell   *lc;

	foreach(lc, table_indexes(relid, is_invalid_unique))
	{
		Oid			indexrelid = lfirst_oid(lc);
		char	   *object = dbopt_qualified_relname(indexrelid);
		char	   *sql;
		char	   *listing;
		ReadAccess	acc;
		int64		count;
		char	   *sample;
		DboptUnitError err;

		CHECK_FOR_INTERRUPTS();
		if (dbopt_is_reindex_leftover(get_rel_name(indexrelid)))
		{
			dbopt_integrity_add_pending(run, DBOPT_WARNING, "invalid_unique_index", object,
										psprintf("Unique index %s is the invalid leftover of a failed REINDEX CONCURRENTLY; writes still maintain it and may fail on its uniqueness.",
												 object),
										"Drop it (unless pg_stat_progress_create_index shows a REINDEX CONCURRENTLY running on the table now); rebuilding it would leave another leftover.",
										psprintf("DROP INDEX CONCURRENTLY %s;", object),
										false, 0, NULL);
			continue;
		}
		duplicate_key_queries(indexrelid, &sql, &listing);
		acc = dbopt_integrity_read_access(run, relid, "invalid_unique_index", object);
		if (acc == READ_NONE)
			continue;
		if (!dbopt_integrity_run_scan(sql, relid, acc == READ_FULL ? run->sample_limit : 0, false,
									  &count, &sample, &err))
		{
			dbopt_integrity_add_check_failed(run, "invalid_unique_index", object, &err);
			continue;
		}
		if (count > 0)
			dbopt_integrity_add_pending(run, DBOPT_CRITICAL, "invalid_unique_index", object,
										psprintf("Unique index %s is invalid and %lld key value(s) are duplicated in %s, so it cannot be rebuilt: the table has no uniqueness guarantee on these columns.",
												 object, (long long) count, dbopt_qualified_relname(relid)),
										psprintf("Resolve the duplicates first (remove or merge the rows; this lists them: %s;), then rebuild with REINDEX INDEX CONCURRENTLY %s; a rebuild before that fails and leaves an invalid %s_ccnew index behind.",
												 listing, object, get_rel_name(indexrelid)),
										NULL, true, count, sample);
		else
			dbopt_integrity_add_pending(run, DBOPT_WARNING, "invalid_unique_index", object,
										psprintf("Unique index %s is invalid (a failed CREATE INDEX CONCURRENTLY?) but no key is duplicated now.", object),
										"Rebuild it; writes go on during a concurrent reindex.",
										psprintf("REINDEX INDEX CONCURRENTLY %s;", object),
										true, 0, NULL);
	}
}

/* ---------- transaction ID age ---------- */

static int32
frozen_age(TransactionId xid)
{
	if (!TransactionIdIsNormal(xid))
		return 0;
	return (int32) (ReadNextTransactionId() - xid);
}

static void
add_xid_finding(IntegrityRun *run, const char *object, int32 age,
				const char *what, const char *fix)
{
	int32		critical = Max(vacuum_failsafe_age, autovacuum_freeze_max_age);
	bool		is_critical = age >= critical;

	if (age < autovacuum_freeze_max_age)
		return;
	dbopt_integrity_add_pending(run, is_critical ? DBOPT_CRITICAL : DBOPT_WARNING, "xid_wraparound",
								object,
								psprintf("%s has transaction ID age %d: past autovacuum_freeze_max_age (%d)%s; the server stops accepting writes at about 2,147,483,647 minus a safety margin.",
										 what, age, autovacuum_freeze_max_age,
										 is_critical ? psprintf(" and vacuum_failsafe_age (%d)", vacuum_failsafe_age) : ""),
								"Find what holds back freezing (long transactions, prepared transactions, replication slots, a stuck autovacuum), then freeze.",
								fix, false, 0, NULL);
}

static void
check_table_xid(IntegrityRun *run, Oid relid)
{
	HeapTuple	tup = SearchSysCache1(RELOID, ObjectIdGetDatum(relid));
	Form_pg_class cls;
	int32		age;
	Oid			toast;

	if (!HeapTupleIsValid(tup))
		return;
	cls = (Form_pg_class) GETSTRUCT(tup);
	age = frozen_age(cls->relfrozenxid);
	toast = cls->reltoastrelid;
	ReleaseSysCache(tup);
	if (OidIsValid(toast))
	{
		HeapTuple	ttup = SearchSysCache1(RELOID, ObjectIdGetDatum(toast));

		if (HeapTupleIsValid(ttup))
		{
			age = Max(age, frozen_age(((Form_pg_class) GETSTRUCT(ttup))->relfrozenxid));
			ReleaseSysCache(ttup);
		}
	}
	{
		char	   *name = dbopt_qualified_relname(relid);

		add_xid_finding(run, name, age, psprintf("Table %s", name),
						psprintf("VACUUM (FREEZE, VERBOSE) %s;", name));
	}
}

static void
check_database_xid(IntegrityRun *run)
{
	HeapTuple	tup = SearchSysCache1(DATABASEOID, ObjectIdGetDatum(MyDatabaseId));
	Form_pg_database db;

	if (!HeapTupleIsValid(tup))
		return;
	db = (Form_pg_database) GETSTRUCT(tup);
	add_xid_finding(run, quote_identifier(NameStr(db->datname)),
					frozen_age(db->datfrozenxid),
					psprintf("Database %s", quote_identifier(NameStr(db->datname))),
					"VACUUM (FREEZE, VERBOSE);");
	ReleaseSysCache(tup);
}

/* ---------- collation versions ---------- */

typedef struct CollIdx
{
	Oid			collid;
	Oid			indexid;
} CollIdx;

static int
collidx_cmp(const void *a, const void *b)
{
	const CollIdx *x = a, *y = b;

	if (x->collid != y->collid)
		return x->collid < y->collid ? -1 : 1;
	if (x->indexid != y->indexid)
		return x->indexid < y->indexid ? -1 : 1;
	return 0;
}

typedef struct CollUnit
{
	Oid		   *collids;
	int			n;
	MemoryContext outcxt;
	/* per collation: recorded and actual version, or NULL */
	char	  **recorded;
	char	  **actual;
	char	   *db_recorded;
	char	   *db_actual;
} CollUnit;

static char *
spi_text(int row, int col, MemoryContext cxt)
{
	char	   *v = SPI_getvalue(SPI_tuptable->vals[row], SPI_tuptable->tupdesc, col);

	return v ? MemoryContextStrdup(cxt, v) : NULL;
}

static void
coll_unit(void *arg)
{
	CollUnit   *u = arg;
	Oid			argtypes[1] = {OIDOID};
	Datum		values[1];

	SPI_connect();
	for (int i = 0; i < u->n; i++)
	{
		values[0] = ObjectIdGetDatum(u->collids[i]);
		if (SPI_execute_with_args("SELECT collversion, pg_catalog.pg_collation_actual_version(oid)"
								  " FROM pg_catalog.pg_collation WHERE oid = $1",
								  1, argtypes, values, NULL, true, 1) == SPI_OK_SELECT &&
			SPI_processed == 1)
		{
			u->recorded[i] = spi_text(0, 1, u->outcxt);
			u->actual[i] = spi_text(0, 2, u->outcxt);
		}
	}
	values[0] = ObjectIdGetDatum(MyDatabaseId);
	if (SPI_execute_with_args("SELECT datcollversion, pg_catalog.pg_database_collation_actual_version(oid)"
							  " FROM pg_catalog.pg_database WHERE oid = $1",
							  1, argtypes, values, NULL, true, 1) == SPI_OK_SELECT &&
		SPI_processed == 1)
	{
		u->db_recorded = spi_text(0, 1, u->outcxt);
		u->db_actual = spi_text(0, 2, u->outcxt);
	}
	SPI_finish();
}

/*
 * Collations whose recorded version differs from what the library reports
 * now: indexes sorted under the old rules may be silently wrong.  Only
 * collations that indexes depend on are asked (asking ICU about every
 * imported locale is slow), plus the database default.
 */
static void
check_collations(IntegrityRun *run, const OidSet *only)
{
	SysScanDesc scan = dbopt_catalog_scan(DependRelationId, DependReferenceIndexId,
										  Anum_pg_depend_refclassid, CollationRelationId);
	HeapTuple	tup;
	CollIdx    *pairs = NULL;
	int			npairs = 0, cap = 0;
	CollUnit	u;
	DboptUnitError err;

	while (HeapTupleIsValid(tup = systable_getnext(scan)))
	{
		Form_pg_depend dep = (Form_pg_depend) GETSTRUCT(tup);

		if (dep->classid != RelationRelationId || dep->refobjid == DEFAULT_COLLATION_OID ||
			get_rel_relkind(dep->objid) != RELKIND_INDEX)
			continue;
		if (only != NULL && !dbopt_integrity_oidset_contains(only, IndexGetRelation(dep->objid, true)))
			continue;
		if (npairs == cap)
		{
			cap = cap ? cap * 2 : 64;
			pairs = pairs ? repalloc(pairs, cap * sizeof(CollIdx)) : palloc(cap * sizeof(CollIdx));
		}
		pairs[npairs].collid = dep->refobjid;
		pairs[npairs].indexid = dep->objid;
		npairs++;
	}
	dbopt_catalog_scan_end(scan);

	if (npairs > 0)
		qsort(pairs, npairs, sizeof(CollIdx), collidx_cmp);

	memset(&u, 0, sizeof(u));
	u.outcxt = CurrentMemoryContext;
	u.collids = palloc(sizeof(Oid) * Max(npairs, 1));
	for (int i = 0; i < npairs; i++)
		if (i == 0 || pairs[i].collid != pairs[i - 1].collid)
			u.collids[u.n++] = pairs[i].collid;
	u.recorded = palloc0(sizeof(char *) * Max(u.n, 1));
	u.actual = palloc0(sizeof(char *) * Max(u.n, 1));

	if (!dbopt_run_isolated(coll_unit, &u, dbopt_check_timeout_ms, &err))
	{
		dbopt_integrity_add_check_failed(run, "collation_version_mismatch", NULL, &err);
		return;
	}

	for (int c = 0, p = 0; c < u.n; c++)
	{
		StringInfoData idxs, fix;
		char	   *collname;
		HeapTuple	ctup;

		initStringInfo(&idxs);
		initStringInfo(&fix);
		for (; p < npairs && pairs[p].collid == u.collids[c]; p++)
		{
			char	   *iname = dbopt_qualified_relname(pairs[p].indexid);

			if (idxs.len > 0 && strcmp(idxs.data + idxs.len - strlen(iname), iname) == 0)
				continue;
			appendStringInfo(&idxs, "%s%s", idxs.len ? ", " : "", iname);
			appendStringInfo(&fix, "REINDEX INDEX CONCURRENTLY %s; ", iname);
		}
		if (u.recorded[c] == NULL || u.actual[c] == NULL ||
			strcmp(u.recorded[c], u.actual[c]) == 0)
			continue;
		ctup = SearchSysCache1(COLLOID, ObjectIdGetDatum(u.collids[c]));
		if (!HeapTupleIsValid(ctup))
			continue;
		collname = quote_qualified_identifier(get_namespace_name(((Form_pg_collation) GETSTRUCT(ctup))->collnamespace),
											  NameStr(((Form_pg_collation) GETSTRUCT(ctup))->collname));
		ReleaseSysCache(ctup);
		appendStringInfo(&fix, "ALTER COLLATION %s REFRESH VERSION;", collname);
		dbopt_integrity_add_pending(run, DBOPT_WARNING, "collation_version_mismatch", collname,
									psprintf("Collation %s was recorded at version %s but the library now reports %s; indexes sorted under the old rules may return wrong results: %s.",
											 collname, u.recorded[c], u.actual[c], idxs.data),
									"Rebuild the dependent indexes, then record the new version.",
									fix.data, false, 0, NULL);
	}

	if (only == NULL && u.db_recorded && u.db_actual &&
		strcmp(u.db_recorded, u.db_actual) != 0)
	{
		const char *dbname = quote_identifier(get_database_name(MyDatabaseId));

		dbopt_integrity_add_pending(run, DBOPT_WARNING, "collation_version_mismatch", dbname,
									psprintf("The default collation of database %s was recorded at version %s but the library now reports %s; every index on text columns using the default collation may be affected.",
											 dbname, u.db_recorded, u.db_actual),
									"Rebuild the affected indexes (REINDEX DATABASE rebuilds all), then record the new version.",
									psprintf("REINDEX DATABASE %s; ALTER DATABASE %s REFRESH COLLATION VERSION;",
											 dbname, dbname),
									false, 0, NULL);
	}
}

/* ---------- amcheck ---------- */

typedef struct AmcheckUnit
{
	const char *sql;
	Oid			relid;
	MemoryContext outcxt;
	List	   *problems;		/* char * */
	int64		nproblems;
} AmcheckUnit;

static void
amcheck_unit(void *arg)
{
	AmcheckUnit *u = arg;
	Oid			argtypes[1] = {REGCLASSOID};
	Datum		values[1] = {ObjectIdGetDatum(u->relid)};
	int			rc;

	SPI_connect();
	rc = SPI_execute_with_args(u->sql, 1, argtypes, values, NULL, true, 0);
	if (rc != SPI_OK_SELECT)
		elog(ERROR, "amcheck query failed: %s", SPI_result_code_string(rc));
	u->nproblems = SPI_processed;
	for (uint64 i = 0; i < SPI_processed && i < MAX_PROBLEMS_PER_OBJECT; i++)
	{
		char	   *v = SPI_getvalue(SPI_tuptable->vals[i], SPI_tuptable->tupdesc, 1);

		if (v)
		{
			MemoryContext old = MemoryContextSwitchTo(u->outcxt);

			u->problems = lappend(u->problems, pstrdup(v));
			MemoryContextSwitchTo(old);
		}
	}
	SPI_finish();
}

static bool
is_corruption(int sqlerrcode)
{
	return sqlerrcode == ERRCODE_INDEX_CORRUPTED || sqlerrcode == ERRCODE_DATA_CORRUPTED;
}

/* An index bt_index_check() can check. */
static bool
is_checkable_btree(Form_pg_index idx)
{
	return idx->indisvalid && idx->indisready &&
		dbopt_relation_am(idx->indexrelid) == BTREE_AM_OID;
}

static void
check_amcheck(IntegrityRun *run, Oid relid)
{
	const char *nsp = quote_identifier(get_namespace_name(run->amcheck_nsp));
	char	   *relname = dbopt_qualified_relname(relid);
	List	   *indexes;
	ListCell   *lc;
	AmcheckUnit u;
	DboptUnitError err;

	if (!can_read(run, relid, "heap_corruption", relname))
		return;
	indexes = table_indexes(relid, is_checkable_btree);

	if (run->amcheck_heap)
	{
		memset(&u, 0, sizeof(u));
		u.sql = psprintf("SELECT format('block %%s, offset %%s%%s: %%s', blkno, offnum,"
						 " ', attribute ' || attnum, msg)"
						 " FROM %s.verify_heapam($1, on_error_stop => false, check_toast => true, skip => 'none')",
						 nsp);
		u.relid = relid;
		u.outcxt = CurrentMemoryContext;
		if (!dbopt_run_isolated(amcheck_unit, &u, dbopt_check_timeout_ms, &err))
		{
			if (is_corruption(err.sqlerrcode))
				dbopt_integrity_add_pending(run, DBOPT_CRITICAL, "heap_corruption", relname,
											psprintf("verify_heapam stopped: %s", err.message),
											"Restore the damaged rows from a backup; pg_surgery can remove tuples that block reads.",
											NULL, true, 1, NULL);
			else
				dbopt_integrity_add_check_failed(run, "heap_corruption", relname, &err);
		}
		else
		{
			foreach(lc, u.problems)
				dbopt_integrity_add_pending(run, DBOPT_CRITICAL, "heap_corruption", relname,
											psprintf("verify_heapam: %s", (char *) lfirst(lc)),
											"Restore the damaged rows from a backup; pg_surgery can remove tuples that block reads.",
											NULL, true, u.nproblems, NULL);
			if (u.nproblems > MAX_PROBLEMS_PER_OBJECT)
				dbopt_integrity_add_pending(run, DBOPT_CRITICAL, "heap_corruption", relname,
											psprintf("%lld more problems not listed.",
													 (long long) (u.nproblems - MAX_PROBLEMS_PER_OBJECT)),
											"Run verify_heapam() on the table for the full list.",
											NULL, true, u.nproblems, NULL);
		}
	}

	foreach(lc, indexes)
	{
		Oid			indexid = lfirst_oid(lc);
		char	   *iname = dbopt_qualified_relname(indexid);

		CHECK_FOR_INTERRUPTS();
		memset(&u, 0, sizeof(u));
		u.sql = psprintf("SELECT NULL::text FROM %s.bt_index_check($1, true)", nsp);
		u.relid = indexid;
		u.outcxt = CurrentMemoryContext;
		if (dbopt_run_isolated(amcheck_unit, &u, dbopt_check_timeout_ms, &err))
			continue;
		if (is_corruption(err.sqlerrcode))
			dbopt_integrity_add_pending(run, DBOPT_CRITICAL, "index_corruption", iname,
										psprintf("bt_index_check: %s%s%s", err.message,
												 err.detail ? " " : "", err.detail ? err.detail : ""),
										"Rebuild the index; if the table is damaged too (see heap_corruption) restore from a backup first.",
										psprintf("REINDEX INDEX CONCURRENTLY %s;", iname),
										true, 1, NULL);
		else
			dbopt_integrity_add_check_failed(run, "index_corruption", iname, &err);
	}
}

/* ---------- driver ---------- */

/* Tables to check: the target (its leaf partitions if partitioned) or all. */
List *
dbopt_integrity_tables_to_check(Oid target)
{
	List	   *result = NIL;

	if (OidIsValid(target))
	{
		char		kind = get_rel_relkind(target);

		if (kind == RELKIND_PARTITIONED_TABLE)
		{
			List	   *all = find_all_inheritors(target, NoLock, NULL);
			ListCell   *lc;

			foreach(lc, all)
			{
				char		k = get_rel_relkind(lfirst_oid(lc));

				if (k == RELKIND_RELATION || k == RELKIND_PARTITIONED_TABLE)
					result = lappend_oid(result, lfirst_oid(lc));
			}
		}
		else
			result = list_make1_oid(target);
	}
	else
		result = dbopt_user_relations((char[]) {RELKIND_RELATION, RELKIND_PARTITIONED_TABLE,
												RELKIND_MATVIEW, '\0'});
	return result;
}

void
dbopt_integrity_check_target_kind(Oid target)
{
	char		kind = get_rel_relkind(target);

	if (kind == '\0')
		ereport(ERROR,
				(errcode(ERRCODE_UNDEFINED_TABLE),
				 errmsg("relation with OID %u does not exist", target),
				 errdetail("It was dropped, or the number is not a relation's OID."),
				 errhint("Pass a table, or NULL to check every table.")));
	if (kind != RELKIND_RELATION && kind != RELKIND_PARTITIONED_TABLE &&
		kind != RELKIND_MATVIEW)
		ereport(ERROR,
				(errcode(ERRCODE_WRONG_OBJECT_TYPE),
				 errmsg("\"%s\" is not a table", get_rel_name(target)),
				 errdetail("Integrity checks run on tables, partitioned tables and materialized views."),
				 errhint("Pass a table, or NULL to check every table.")));
}

PG_FUNCTION_INFO_V1(dbopt_check_data_integrity);

Datum
dbopt_check_data_integrity(PG_FUNCTION_ARGS)
{
	Oid			target = PG_ARGISNULL(0) ? InvalidOid : PG_GETARG_OID(0);
	bool		deep = PG_ARGISNULL(1) ? false : PG_GETARG_BOOL(1);
	int			sample_limit = PG_ARGISNULL(2) ? 5 : PG_GETARG_INT32(2);
	bool		include_suppressed = PG_ARGISNULL(3) ? false : PG_GETARG_BOOL(3);
	IntegrityRun run;
	MemoryContext itemcxt;
	MemoryContext oldcxt;
	List	   *tables;
	ListCell   *lc;
	OidSet	   *only = NULL;

	if (sample_limit < 0 || sample_limit > 1000)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("sample_limit must be between 0 and 1000"),
				 errdetail("The value given was %d.", sample_limit),
				 errhint("Use 0 for counts without samples.")));
	if (OidIsValid(target))
		dbopt_integrity_check_target_kind(target);

	memset(&run, 0, sizeof(run));
	dbopt_findings_begin(&run.out, fcinfo, include_suppressed);
	run.deep = deep;
	run.sample_limit = sample_limit;
	run.runcxt = CurrentMemoryContext;
	if (deep)
	{
		char	   *ver = dbopt_extension_version("amcheck");

		if (ver != NULL)
		{
			run.amcheck_nsp = dbopt_extension_schema("amcheck");
			/* verify_heapam() arrived in amcheck 1.3 */
			run.amcheck_heap = strcmp(ver, "1.3") >= 0;
		}
		else
			ereport(NOTICE,
					(errmsg("amcheck is not installed: index_corruption and heap_corruption were not checked"),
					 errhint("CREATE EXTENSION amcheck; then run again with deep => true.")));
	}

	itemcxt = AllocSetContextCreate(CurrentMemoryContext, "dbopt integrity item",
									ALLOCSET_DEFAULT_SIZES);

	tables = dbopt_integrity_tables_to_check(target);
	if (OidIsValid(target))
	{
		int			i = 0;

		only = palloc(sizeof(OidSet));
		only->n = list_length(tables);
		only->oids = palloc(sizeof(Oid) * Max(only->n, 1));
		foreach(lc, tables)
			only->oids[i++] = lfirst_oid(lc);
		qsort(only->oids, only->n, sizeof(Oid), oid_cmp);
	}
	oldcxt = MemoryContextSwitchTo(itemcxt);

	/* Database-wide facts first. */
	if (only == NULL)
		check_database_xid(&run);
	check_collations(&run, only);
	dbopt_integrity_check_sequences(&run, only);
	dbopt_integrity_flush_pending(&run);
	MemoryContextReset(itemcxt);

	foreach(lc, tables)
	{
		Oid			relid = lfirst_oid(lc);
		char		kind;

		CHECK_FOR_INTERRUPTS();
		kind = get_rel_relkind(relid);
		if (kind == '\0')
			continue;			/* dropped meanwhile */

		dbopt_integrity_check_disabled_triggers(&run, relid);
		if (kind == RELKIND_RELATION)
			dbopt_integrity_check_constraints(&run, relid);
		if (kind != RELKIND_PARTITIONED_TABLE)
		{
			check_invalid_unique(&run, relid);
			check_table_xid(&run, relid);
			if (deep && OidIsValid(run.amcheck_nsp))
				check_amcheck(&run, relid);
		}
		dbopt_integrity_flush_pending(&run);
		MemoryContextReset(itemcxt);
	}
	flush_skipped(&run);

	MemoryContextSwitchTo(oldcxt);
	MemoryContextDelete(itemcxt);
	dbopt_findings_end(&run.out);
	return (Datum) 0;
}
