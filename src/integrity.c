/*-------------------------------------------------------------------------
 *
 * integrity.c
 *	  check_data_integrity() and validate_constraints(): do the rows obey
 *	  what the schema claims, or is about to claim?
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

typedef struct IntegrityRun
{
	DboptFindings out;
	bool		deep;
	int			sample_limit;
	Oid			amcheck_nsp;	/* InvalidOid: amcheck not installed */
	bool		amcheck_heap;	/* verify_heapam() available */
	List	   *pending;
	List	   *skipped;		/* Skipped per check, for the caller's rights */
	MemoryContext runcxt;		/* lives for the whole call */
} IntegrityRun;

/* Objects one check passed over because the caller may not read them. */
typedef struct Skipped
{
	const char *check;
	int			n;
	char	   *first;
} Skipped;

/*
 * How far the caller may look into a relation's rows.  A member of
 * pg_stat_scan_tables (pg_monitor) may run scans that yield aggregate
 * figures, as pgstattuple does: the scan then runs as the owner and only
 * counts come back, never sample rows.
 */
typedef enum ReadAccess
{
	READ_NONE,
	READ_COUNTS,
	READ_FULL
} ReadAccess;

/* One constraint of a table, as the scans need it. */
typedef struct ConInfo
{
	Oid			oid;
	char	   *name;
	char		contype;
	bool		validated;
	bool		islocal;
	Oid			relid;
	Oid			frelid;
	char		matchtype;
	int			nkeys;
	AttrNumber	conkey[INDEX_MAX_KEYS];
	AttrNumber	confkey[INDEX_MAX_KEYS];
	Oid			pfeqop[INDEX_MAX_KEYS];
	char	   *conbin;			/* CHECK expression tree, as stored */
	char	   *checkexpr;		/* ... deparsed on first use, see check_expr() */
	bool		referenced_clone;	/* per-partition copy on the PK side */
} ConInfo;

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

/* The tables a run covers, sorted; NULL means every table. */
typedef struct OidSet
{
	Oid		   *oids;
	int			n;
} OidSet;

static bool
oidset_contains(const OidSet *set, Oid oid)
{
	return set == NULL || bsearch(&oid, set->oids, set->n, sizeof(Oid), oid_cmp) != NULL;
}

static void
add_pending(IntegrityRun *run, DboptSeverity sev, const char *check,
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
static void
flush_pending(IntegrityRun *run)
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
static void
add_check_failed(IntegrityRun *run, const char *check, const char *object,
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

	add_pending(run, DBOPT_WARNING, "check_failed", object,
				psprintf("%s could not run: %s%s%s", check, err->message,
						 err->detail ? " " : "", err->detail ? err->detail : ""),
				remediation, NULL, false, 0, NULL);
}

static char *
qualified_constraint(Oid relid, const char *conname)
{
	return psprintf("%s.%s", dbopt_qualified_relname(relid),
					quote_identifier(conname));
}

static char *
column_name(Oid relid, AttrNumber attnum)
{
	return get_attname(relid, attnum, false);
}

/* "::type" when a value of type from must be cast to reach type to. */
static const char *
cast_to(Oid from, Oid to)
{
	if (from == to || !OidIsValid(to))
		return "";
	return psprintf("::%s", format_type_be_qualified(to));
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
		(void) set_config_option("work_mem", buf, PGC_USERSET, PGC_S_SESSION,
								 GUC_ACTION_SAVE, true, 0, false);
		(void) set_config_option("hash_mem_multiplier", "1", PGC_USERSET,
								 PGC_S_SESSION, GUC_ACTION_SAVE, true, 0, false);
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

static bool
run_scan(const char *sql, Oid owner_of, int sample_limit, bool ri_memory, int64 *count,
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
static void
note_skipped(IntegrityRun *run, const char *check, const char *object)
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

		add_pending(run, DBOPT_INFO, "check_failed", s->check,
					psprintf("%s skipped %d object(s) (the first: %s) because role %s may not read them: it has no SELECT on them and is not a member of %s.",
							 s->check, s->n, s->first, quote_identifier(who),
							 strcmp(s->check, "sequence_exhaustion") == 0 ?
							 "pg_read_all_stats (pg_monitor)" : "pg_stat_scan_tables (pg_monitor)"),
					"Run as the owner of the objects, grant pg_monitor (counts without sample rows) or pg_read_all_data (everything) to the caller.",
					NULL, false, 0, NULL);
	}
	run->skipped = NIL;
	flush_pending(run);
}

/*
 * What the caller may learn from relid's rows; READ_NONE is counted for
 * flush_skipped().
 */
static ReadAccess
read_access(IntegrityRun *run, Oid relid, const char *check, const char *object)
{
	if (pg_class_aclcheck(relid, GetUserId(), ACL_SELECT) == ACLCHECK_OK)
		return READ_FULL;
	if (has_privs_of_role(GetUserId(), ROLE_PG_STAT_SCAN_TABLES))
		return READ_COUNTS;
	note_skipped(run, check, object);
	return READ_NONE;
}

/* Whether the caller may read relid's rows; if not, the skip is counted. */
static bool
can_read(IntegrityRun *run, Oid relid, const char *check, const char *object)
{
	if (pg_class_aclcheck(relid, GetUserId(), ACL_SELECT) == ACLCHECK_OK)
		return true;
	note_skipped(run, check, object);
	return false;
}

/* ---------- constraints of one table ---------- */

static void
int2_array(HeapTuple tup, TupleDesc desc, int attno, AttrNumber *out, int *n)
{
	bool		isnull;
	Datum		d = heap_getattr(tup, attno, desc, &isnull);
	ArrayType  *arr;

	*n = 0;
	if (isnull)
		return;
	arr = DatumGetArrayTypeP(d);
	*n = Min(ArrayGetNItems(ARR_NDIM(arr), ARR_DIMS(arr)), INDEX_MAX_KEYS);
	memcpy(out, ARR_DATA_PTR(arr), *n * sizeof(int16));
}

/*
 * The constraints on relid, and its primary key columns (npk = 0 when it
 * has none).  A foreign key copied onto the referencing table for each
 * partition of a partitioned referenced table is marked referenced_clone:
 * its own orphan scan would wrongly count rows that point at the other
 * partitions.
 */
static List *
table_constraints(Oid relid, AttrNumber *pkcols, int *npk)
{
	Relation	rel = table_open(ConstraintRelationId, AccessShareLock);
	ScanKeyData key;
	SysScanDesc scan;
	HeapTuple	tup;
	List	   *result = NIL;

	*npk = 0;
	ScanKeyInit(&key, Anum_pg_constraint_conrelid, BTEqualStrategyNumber,
				F_OIDEQ, ObjectIdGetDatum(relid));
	scan = systable_beginscan(rel, ConstraintRelidTypidNameIndexId, true,
							  NULL, 1, &key);
	while (HeapTupleIsValid(tup = systable_getnext(scan)))
	{
		Form_pg_constraint con = (Form_pg_constraint) GETSTRUCT(tup);
		ConInfo    *c;

		if (con->contype == CONSTRAINT_PRIMARY)
		{
			int2_array(tup, RelationGetDescr(rel), Anum_pg_constraint_conkey, pkcols, npk);
			continue;
		}
		if (con->contype != CONSTRAINT_FOREIGN && con->contype != CONSTRAINT_CHECK)
			continue;

		c = palloc0(sizeof(ConInfo));
		c->oid = con->oid;
		c->name = pstrdup(NameStr(con->conname));
		c->contype = con->contype;
		c->validated = con->convalidated;
		c->islocal = con->conislocal;
		c->relid = relid;
		if (con->contype == CONSTRAINT_FOREIGN)
		{
			c->frelid = con->confrelid;
			c->matchtype = con->confmatchtype;
			dbopt_deconstruct_fk(tup, &c->nkeys, c->conkey, c->confkey, c->pfeqop);
			if (OidIsValid(con->conparentid))
			{
				HeapTuple	ptup = SearchSysCache1(CONSTROID,
												   ObjectIdGetDatum(con->conparentid));

				if (HeapTupleIsValid(ptup))
				{
					c->referenced_clone =
						((Form_pg_constraint) GETSTRUCT(ptup))->conrelid == relid;
					ReleaseSysCache(ptup);
				}
			}
		}
		else
		{
			bool		isnull;
			Datum		bin = heap_getattr(tup, Anum_pg_constraint_conbin,
										   RelationGetDescr(rel), &isnull);

			if (isnull)
				continue;
			c->conbin = TextDatumGetCString(bin);
		}
		result = lappend(result, c);
	}
	systable_endscan(scan);
	table_close(rel, AccessShareLock);
	return result;
}

/* Whether any pg_trigger row with attno = value (via indexid) is disabled. */
static bool
any_trigger_disabled(Oid indexid, AttrNumber attno, Oid value)
{
	Relation	rel = table_open(TriggerRelationId, AccessShareLock);
	ScanKeyData key;
	SysScanDesc scan;
	HeapTuple	tup;
	bool		found = false;

	ScanKeyInit(&key, attno, BTEqualStrategyNumber, F_OIDEQ, ObjectIdGetDatum(value));
	scan = systable_beginscan(rel, indexid, true, NULL, 1, &key);
	while (!found && HeapTupleIsValid(tup = systable_getnext(scan)))
		found = ((Form_pg_trigger) GETSTRUCT(tup))->tgenabled == TRIGGER_DISABLED;
	systable_endscan(scan);
	table_close(rel, AccessShareLock);
	return found;
}

/* Whether any trigger enforcing this constraint is disabled. */
static bool
constraint_has_disabled_trigger(Oid conoid)
{
	return any_trigger_disabled(TriggerConstraintIndexId, Anum_pg_trigger_tgconstraint, conoid);
}

/* jsonb_build_object('col', alias.col, ...) over the given columns. */
static void
append_key_object(StringInfo q, const char *alias, Oid relid,
				  const AttrNumber *cols, int ncols)
{
	appendStringInfoString(q, "pg_catalog.jsonb_build_object(");
	if (ncols == 0)
		appendStringInfo(q, "'ctid', %s.ctid::text", alias);
	for (int i = 0; i < ncols; i++)
	{
		char	   *name = column_name(relid, cols[i]);

		appendStringInfo(q, "%s%s, %s.%s", i ? ", " : "",
						 quote_literal_cstr(name), alias, quote_identifier(name));
	}
	appendStringInfoChar(q, ')');
}

/*
 * The orphan query VALIDATE CONSTRAINT runs, returning each orphan's key:
 * a left join to the referenced table keeping the rows with no partner,
 * compared with the constraint's own PK = FK operators.  MATCH SIMPLE
 * skips rows with any NULL key column; MATCH FULL only rows with all NULL,
 * so partly NULL keys count as violations.
 */
static const char *
only_kw(Oid relid)
{
	return get_rel_relkind(relid) == RELKIND_PARTITIONED_TABLE ? "" : "ONLY ";
}

static char *
fk_orphan_from(const ConInfo *c)
{
	StringInfoData q;

	initStringInfo(&q);
	appendStringInfo(&q, " FROM %s%s fk LEFT OUTER JOIN %s%s pk ON (",
					 only_kw(c->relid), dbopt_qualified_relname(c->relid),
					 only_kw(c->frelid), dbopt_qualified_relname(c->frelid));
	for (int i = 0; i < c->nkeys; i++)
	{
		HeapTuple	optup = SearchSysCache1(OPEROID, ObjectIdGetDatum(c->pfeqop[i]));
		Form_pg_operator op;
		Oid			pktype = get_atttype(c->frelid, c->confkey[i]);
		Oid			fktype = get_atttype(c->relid, c->conkey[i]);

		if (!HeapTupleIsValid(optup))
			elog(ERROR, "cache lookup failed for operator %u", c->pfeqop[i]);
		op = (Form_pg_operator) GETSTRUCT(optup);
		appendStringInfo(&q, "%spk.%s%s OPERATOR(%s.%s) fk.%s%s",
						 i ? " AND " : "",
						 quote_identifier(column_name(c->frelid, c->confkey[i])),
						 cast_to(pktype, op->oprleft),
						 quote_identifier(get_namespace_name(op->oprnamespace)),
						 NameStr(op->oprname),
						 quote_identifier(column_name(c->relid, c->conkey[i])),
						 cast_to(fktype, op->oprright));
		ReleaseSysCache(optup);
		/* As the server does: compare under a nondeterministic PK collation. */
		{
			Oid			typid;
			int32		typmod;
			Oid			collid;

			get_atttypetypmodcoll(c->frelid, c->confkey[i], &typid, &typmod, &collid);
			if (OidIsValid(collid) && collid != DEFAULT_COLLATION_OID &&
				!get_collation_isdeterministic(collid))
			{
				HeapTuple	ctup = SearchSysCache1(COLLOID, ObjectIdGetDatum(collid));

				if (HeapTupleIsValid(ctup))
				{
					Form_pg_collation coll = (Form_pg_collation) GETSTRUCT(ctup);

					appendStringInfo(&q, " COLLATE %s",
									 quote_qualified_identifier(get_namespace_name(coll->collnamespace),
																NameStr(coll->collname)));
					ReleaseSysCache(ctup);
				}
			}
		}
	}
	appendStringInfo(&q, ") WHERE pk.%s IS NULL AND (",
					 quote_identifier(column_name(c->frelid, c->confkey[0])));
	for (int i = 0; i < c->nkeys; i++)
		appendStringInfo(&q, "%sfk.%s IS NOT NULL",
						 i ? (c->matchtype == FKCONSTR_MATCH_FULL ? " OR " : " AND ") : "",
						 quote_identifier(column_name(c->relid, c->conkey[i])));
	appendStringInfoChar(&q, ')');
	return q.data;
}

static char *
fk_orphan_sql(const ConInfo *c)
{
	StringInfoData q;

	initStringInfo(&q);
	appendStringInfoString(&q, "SELECT ");
	append_key_object(&q, "fk", c->relid, c->conkey, c->nkeys);
	appendStringInfoString(&q, fk_orphan_from(c));
	return q.data;
}

/*
 * Deparsing opens the relation for its column names, which is costly in a
 * fresh backend; most CHECK constraints are never scanned, so do it late.
 */
static const char *
check_expr(ConInfo *c)
{
	if (c->checkexpr == NULL)
		c->checkexpr = deparse_expression(stringToNode(c->conbin),
										  deparse_context_for(get_rel_name(c->relid), c->relid),
										  false, false);
	return c->checkexpr;
}

static char *
check_violation_sql(ConInfo *c, const AttrNumber *pkcols, int npk)
{
	StringInfoData q;

	initStringInfo(&q);
	appendStringInfoString(&q, "SELECT ");
	append_key_object(&q, "t", c->relid, pkcols, npk);
	appendStringInfo(&q, " FROM %s%s t WHERE (%s) IS FALSE",
					 only_kw(c->relid), dbopt_qualified_relname(c->relid),
					 check_expr(c));
	return q.data;
}

static char *
validate_sql(const ConInfo *c)
{
	return psprintf("ALTER TABLE %s VALIDATE CONSTRAINT %s;",
					dbopt_qualified_relname(c->relid), quote_identifier(c->name));
}

/*
 * Count the rows violating one FK or CHECK constraint.  Returns false (and
 * fills *err) when the scan could not run.
 */
static bool
count_violations(ConInfo *c, const AttrNumber *pkcols, int npk,
				 int sample_limit, bool as_owner, int64 *count, char **sample,
				 DboptUnitError *err)
{
	if (c->contype == CONSTRAINT_FOREIGN)
		return run_scan(fk_orphan_sql(c), as_owner ? c->relid : InvalidOid, sample_limit,
						true, count, sample, err);
	return run_scan(check_violation_sql(c, pkcols, npk), c->relid, sample_limit, false,
					count, sample, err);
}

static void
check_constraints(IntegrityRun *run, Oid relid)
{
	AttrNumber	pkcols[INDEX_MAX_KEYS];
	int			npk;
	List	   *cons = table_constraints(relid, pkcols, &npk);
	ListCell   *lc;

	foreach(lc, cons)
	{
		ConInfo    *c = lfirst(lc);
		bool		is_fk = (c->contype == CONSTRAINT_FOREIGN);
		const char *check = is_fk ? "fk_orphan_rows" : "check_violation";
		char	   *object = qualified_constraint(relid, c->name);
		bool		trig_off = false;
		ReadAccess	acc;
		int64		count;
		char	   *sample;
		DboptUnitError err;

		CHECK_FOR_INTERRUPTS();
		if (is_fk && c->referenced_clone)
			continue;
		if (is_fk)
			trig_off = constraint_has_disabled_trigger(c->oid);
		if (c->validated && !trig_off && !run->deep)
			continue;
		acc = read_access(run, relid, check, object);
		if (acc != READ_NONE && is_fk)
			acc = Min(acc, read_access(run, c->frelid, check, object));
		if (acc == READ_NONE)
			continue;

		if (!count_violations(c, pkcols, npk, acc == READ_FULL ? run->sample_limit : 0,
							  acc != READ_FULL, &count, &sample, &err))
		{
			add_check_failed(run, check, object, &err);
			continue;
		}

		if (count > 0)
		{
			const char *why;
			char	   *detail;
			char	   *remediation;
			char	   *fix = NULL;

			if (!c->validated)
				why = "the constraint is NOT VALID";
			else if (trig_off)
				why = "the constraint is marked valid, but a trigger enforcing it is disabled";
			else
				why = "the constraint is marked valid; the rows were probably loaded with session_replication_role = replica or triggers disabled";

			if (is_fk)
			{
				detail = psprintf("%lld row(s) of %s reference no row of %s (MATCH %s); %s.",
								  (long long) count, dbopt_qualified_relname(relid),
								  dbopt_qualified_relname(c->frelid),
								  c->matchtype == FKCONSTR_MATCH_FULL ? "FULL" : "SIMPLE",
								  why);
				remediation = psprintf("Insert the missing rows into %s, set the keys to NULL, or delete the orphans (fix_sql deletes them; review it first), then validate the constraint.",
									   dbopt_qualified_relname(c->frelid));
				fix = psprintf("DELETE FROM %s%s WHERE ctid IN (SELECT fk.ctid%s);",
							   only_kw(relid), dbopt_qualified_relname(relid),
							   fk_orphan_from(c));
			}
			else
			{
				detail = psprintf("%lld row(s) of %s fail CHECK (%s); %s.",
								  (long long) count, dbopt_qualified_relname(relid),
								  check_expr(c), why);
				remediation = psprintf("Correct or delete the violating rows (SELECT * FROM ONLY %s WHERE (%s) IS FALSE lists them), then validate the constraint.",
									   dbopt_qualified_relname(relid), check_expr(c));
			}
			add_pending(run, c->validated ? DBOPT_CRITICAL : DBOPT_WARNING,
						check, object, detail, remediation, fix, true, count, sample);
		}
		else if (!c->validated)
			add_pending(run, DBOPT_INFO, "not_valid_constraint", object,
						psprintf("%s %s is NOT VALID but no row violates it.",
								 is_fk ? "Foreign key" : "CHECK constraint",
								 quote_identifier(c->name)),
						"Validate it: VALIDATE CONSTRAINT takes only a SHARE UPDATE EXCLUSIVE lock, so writes go on (dbopt.validate_constraints() does this for every such constraint).",
						validate_sql(c), true, 0, NULL);
	}
}

/* ---------- disabled constraint triggers ---------- */

typedef struct DisabledTrig
{
	Oid			conoid;
	char	   *names;
	char	   *fix;
	int			n;
} DisabledTrig;

static bool
trigger_disabled(Oid trigoid)
{
	return any_trigger_disabled(TriggerOidIndexId, Anum_pg_trigger_oid, trigoid);
}

static void
check_disabled_triggers(IntegrityRun *run, Oid relid)
{
	Relation	rel = table_open(TriggerRelationId, AccessShareLock);
	ScanKeyData key;
	SysScanDesc scan;
	HeapTuple	tup;
	List	   *groups = NIL;
	ListCell   *lc;
	char	   *relname = dbopt_qualified_relname(relid);

	ScanKeyInit(&key, Anum_pg_trigger_tgrelid, BTEqualStrategyNumber,
				F_OIDEQ, ObjectIdGetDatum(relid));
	scan = systable_beginscan(rel, TriggerRelidNameIndexId, true, NULL, 1, &key);
	while (HeapTupleIsValid(tup = systable_getnext(scan)))
	{
		Form_pg_trigger trig = (Form_pg_trigger) GETSTRUCT(tup);
		DisabledTrig *g = NULL;
		const char *tgname;

		if (!OidIsValid(trig->tgconstraint) || trig->tgenabled != TRIGGER_DISABLED)
			continue;
		/* A clone disabled along with its parent is reported at the parent. */
		if (OidIsValid(trig->tgparentid) && trigger_disabled(trig->tgparentid))
			continue;
		foreach(lc, groups)
			if (((DisabledTrig *) lfirst(lc))->conoid == trig->tgconstraint)
				g = lfirst(lc);
		tgname = quote_identifier(NameStr(trig->tgname));
		if (g == NULL)
		{
			g = palloc0(sizeof(DisabledTrig));
			g->conoid = trig->tgconstraint;
			g->names = pstrdup(tgname);
			g->fix = psprintf("ALTER TABLE %s ENABLE TRIGGER %s;", relname, tgname);
			groups = lappend(groups, g);
		}
		else
		{
			g->names = psprintf("%s, %s", g->names, tgname);
			g->fix = psprintf("%s ALTER TABLE %s ENABLE TRIGGER %s;", g->fix, relname, tgname);
		}
		g->n++;
	}
	systable_endscan(scan);
	table_close(rel, AccessShareLock);

	foreach(lc, groups)
	{
		DisabledTrig *g = lfirst(lc);
		HeapTuple	ctup = SearchSysCache1(CONSTROID, ObjectIdGetDatum(g->conoid));
		Form_pg_constraint con;
		char	   *conname;
		char	   *owner;

		if (!HeapTupleIsValid(ctup))
			continue;
		con = (Form_pg_constraint) GETSTRUCT(ctup);
		conname = pstrdup(NameStr(con->conname));
		owner = dbopt_qualified_relname(con->conrelid);
		add_pending(run, DBOPT_WARNING, "disabled_constraint_trigger",
					qualified_constraint(relid, conname),
					psprintf("%d trigger(s) on %s enforcing %s %s on %s are disabled (%s): rows changed meanwhile were not checked.",
							 g->n, relname,
							 con->contype == CONSTRAINT_FOREIGN ? "foreign key" : "constraint",
							 quote_identifier(conname), owner, g->names),
					"Enable the triggers, then run dbopt.check_data_integrity(deep => true) on the tables involved to find rows that slipped through.",
					g->fix, false, 0, NULL);
		ReleaseSysCache(ctup);
	}
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
	if (!run_scan(scan, IndexGetRelation(indexrelid, false), 0, false, &count, &sample, &err))
		return -1;
	return count;
}

static void
check_invalid_unique(IntegrityRun *run, Oid relid)
{
	Relation	rel = table_open(IndexRelationId, AccessShareLock);
	ScanKeyData key;
	SysScanDesc scan;
	HeapTuple	tup;
	List	   *bad = NIL;
	ListCell   *lc;

	ScanKeyInit(&key, Anum_pg_index_indrelid, BTEqualStrategyNumber,
				F_OIDEQ, ObjectIdGetDatum(relid));
	scan = systable_beginscan(rel, IndexIndrelidIndexId, true, NULL, 1, &key);
	while (HeapTupleIsValid(tup = systable_getnext(scan)))
	{
		Form_pg_index idx = (Form_pg_index) GETSTRUCT(tup);

		if (idx->indisunique && !idx->indisvalid)
			bad = lappend_oid(bad, idx->indexrelid);
	}
	systable_endscan(scan);
	table_close(rel, AccessShareLock);

	foreach(lc, bad)
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
			add_pending(run, DBOPT_WARNING, "invalid_unique_index", object,
						psprintf("Unique index %s is the invalid leftover of a failed REINDEX CONCURRENTLY; writes still maintain it and may fail on its uniqueness.",
								 object),
						"Drop it (unless pg_stat_progress_create_index shows a REINDEX CONCURRENTLY running on the table now); rebuilding it would leave another leftover.",
						psprintf("DROP INDEX CONCURRENTLY %s;", object),
						false, 0, NULL);
			continue;
		}
		duplicate_key_queries(indexrelid, &sql, &listing);
		acc = read_access(run, relid, "invalid_unique_index", object);
		if (acc == READ_NONE)
			continue;
		if (!run_scan(sql, relid, acc == READ_FULL ? run->sample_limit : 0, false,
					  &count, &sample, &err))
		{
			add_check_failed(run, "invalid_unique_index", object, &err);
			continue;
		}
		if (count > 0)
			add_pending(run, DBOPT_CRITICAL, "invalid_unique_index", object,
						psprintf("Unique index %s is invalid and %lld key value(s) are duplicated in %s, so it cannot be rebuilt: the table has no uniqueness guarantee on these columns.",
								 object, (long long) count, dbopt_qualified_relname(relid)),
						psprintf("Resolve the duplicates first (remove or merge the rows; this lists them: %s;), then rebuild with REINDEX INDEX CONCURRENTLY %s; a rebuild before that fails and leaves an invalid %s_ccnew index behind.",
								 listing, object, get_rel_name(indexrelid)),
						NULL, true, count, sample);
		else
			add_pending(run, DBOPT_WARNING, "invalid_unique_index", object,
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
	add_pending(run, is_critical ? DBOPT_CRITICAL : DBOPT_WARNING, "xid_wraparound",
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

/* ---------- sequences ---------- */

/* Largest (or, for a descending sequence, smallest) value a type holds. */
static bool
type_limit(Oid typid, bool ascending, int64 *limit)
{
	switch (typid)
	{
		case INT2OID:
			*limit = ascending ? PG_INT16_MAX : PG_INT16_MIN;
			return true;
		case INT4OID:
			*limit = ascending ? PG_INT32_MAX : PG_INT32_MIN;
			return true;
		case INT8OID:
			*limit = ascending ? PG_INT64_MAX : PG_INT64_MIN;
			return true;
	}
	return false;
}

typedef struct SeqUnit
{
	Oid			seqid;
	int64		last;
	bool		isnull;
} SeqUnit;

static void
seq_unit(void *arg)
{
	SeqUnit    *u = arg;

	u->last = dbopt_sequence_last_value(u->seqid, &u->isnull);
}

/*
 * Columns fed by a sequence: the owning column of a serial or identity, and
 * columns whose DEFAULT calls nextval() on it.
 */
static List *
sequence_columns(Oid seqid)
{
	Relation	rel = table_open(DependRelationId, AccessShareLock);
	ScanKeyData key[2];
	SysScanDesc scan;
	HeapTuple	tup;
	List	   *cols = NIL;

	ScanKeyInit(&key[0], Anum_pg_depend_classid, BTEqualStrategyNumber,
				F_OIDEQ, ObjectIdGetDatum(RelationRelationId));
	ScanKeyInit(&key[1], Anum_pg_depend_objid, BTEqualStrategyNumber,
				F_OIDEQ, ObjectIdGetDatum(seqid));
	scan = systable_beginscan(rel, DependDependerIndexId, true, NULL, 2, key);
	while (HeapTupleIsValid(tup = systable_getnext(scan)))
	{
		Form_pg_depend dep = (Form_pg_depend) GETSTRUCT(tup);

		if (dep->refclassid == RelationRelationId && dep->refobjsubid > 0 &&
			(dep->deptype == DEPENDENCY_AUTO || dep->deptype == DEPENDENCY_INTERNAL))
		{
			ObjectAddress *a = palloc(sizeof(ObjectAddress));

			ObjectAddressSubSet(*a, RelationRelationId, dep->refobjid, dep->refobjsubid);
			cols = lappend(cols, a);
		}
	}
	systable_endscan(scan);

	ScanKeyInit(&key[0], Anum_pg_depend_refclassid, BTEqualStrategyNumber,
				F_OIDEQ, ObjectIdGetDatum(RelationRelationId));
	ScanKeyInit(&key[1], Anum_pg_depend_refobjid, BTEqualStrategyNumber,
				F_OIDEQ, ObjectIdGetDatum(seqid));
	scan = systable_beginscan(rel, DependReferenceIndexId, true, NULL, 2, key);
	while (HeapTupleIsValid(tup = systable_getnext(scan)))
	{
		Form_pg_depend dep = (Form_pg_depend) GETSTRUCT(tup);

		if (dep->classid == AttrDefaultRelationId)
		{
			ObjectAddress col = GetAttrDefaultColumnAddress(dep->objid);
			ListCell   *lc;
			bool		seen = false;

			if (!OidIsValid(col.objectId))
				continue;
			foreach(lc, cols)
			{
				ObjectAddress *a = lfirst(lc);

				seen |= (a->objectId == col.objectId && a->objectSubId == col.objectSubId);
			}
			if (!seen)
			{
				ObjectAddress *a = palloc(sizeof(ObjectAddress));

				*a = col;
				cols = lappend(cols, a);
			}
		}
	}
	systable_endscan(scan);
	table_close(rel, AccessShareLock);
	return cols;
}

/* A column, and what widening it involves. */
typedef struct ColRef
{
	Oid			relid;
	AttrNumber	attnum;
} ColRef;

static bool
colref_member(List *cols, Oid relid, AttrNumber attnum)
{
	ListCell   *lc;

	foreach(lc, cols)
	{
		ColRef	   *c = lfirst(lc);

		if (c->relid == relid && c->attnum == attnum)
			return true;
	}
	return false;
}

static bool
is_narrow_int(Oid typid)
{
	return typid == INT2OID || typid == INT4OID;
}

/*
 * Add to *cols every smallint or integer column whose top-level foreign key
 * references a column already in *cols, and so on down the chain: they
 * hold the same values, so they run out at the same time.  (Per-partition
 * copies of a foreign key are left out: ALTER TABLE on the parent reaches
 * them.)
 */
static void
add_referencing_columns(List **cols)
{
	Relation	rel = table_open(ConstraintRelationId, AccessShareLock);

	for (int i = 0; i < list_length(*cols); i++)
	{
		ColRef		target = *(ColRef *) list_nth(*cols, i);
		SysScanDesc scan = systable_beginscan(rel, InvalidOid, false, NULL, 0, NULL);
		HeapTuple	tup;

		while (HeapTupleIsValid(tup = systable_getnext(scan)))
		{
			Form_pg_constraint con = (Form_pg_constraint) GETSTRUCT(tup);
			int			nkeys;
			AttrNumber	conkey[INDEX_MAX_KEYS];
			AttrNumber	confkey[INDEX_MAX_KEYS];
			Oid			pfeqop[INDEX_MAX_KEYS];

			if (con->contype != CONSTRAINT_FOREIGN || con->confrelid != target.relid ||
				OidIsValid(con->conparentid))
				continue;
			dbopt_deconstruct_fk(tup, &nkeys, conkey, confkey, pfeqop);
			for (int k = 0; k < nkeys; k++)
			{
				if (confkey[k] != target.attnum ||
					!is_narrow_int(get_atttype(con->conrelid, conkey[k])) ||
					colref_member(*cols, con->conrelid, conkey[k]))
					continue;
				{
					ColRef	   *c = palloc(sizeof(ColRef));

					c->relid = con->conrelid;
					c->attnum = conkey[k];
					*cols = lappend(*cols, c);
				}
			}
		}
		systable_endscan(scan);
	}
	table_close(rel, AccessShareLock);
}

/* The relation a rewrite rule belongs to (a view's own rule: the view). */
static Oid
rule_relation(Oid ruleoid)
{
	Relation	rel = table_open(RewriteRelationId, AccessShareLock);
	ScanKeyData key;
	SysScanDesc scan;
	HeapTuple	tup;
	Oid			result = InvalidOid;

	ScanKeyInit(&key, Anum_pg_rewrite_oid, BTEqualStrategyNumber,
				F_OIDEQ, ObjectIdGetDatum(ruleoid));
	scan = systable_beginscan(rel, RewriteOidIndexId, true, NULL, 1, &key);
	if (HeapTupleIsValid(tup = systable_getnext(scan)))
		result = ((Form_pg_rewrite) GETSTRUCT(tup))->ev_class;
	systable_endscan(scan);
	table_close(rel, AccessShareLock);
	return result;
}

/*
 * Objects that make ALTER COLUMN ... TYPE fail on one of the columns (or
 * the same column of an inheritor, which the ALTER reaches too): views and
 * rules, triggers, policies, generated columns, anything else the server
 * does not rebuild by itself.  Indexes, constraints, defaults, statistics
 * objects and owned sequences it rebuilds or keeps.  Descriptions, comma
 * separated, or NULL.
 */
static char *
alter_type_blockers(List *cols)
{
	Relation	rel = table_open(DependRelationId, AccessShareLock);
	StringInfoData out;
	ListCell   *lc;

	initStringInfo(&out);
	foreach(lc, cols)
	{
		ColRef	   *c = lfirst(lc);
		char	   *attname = get_attname(c->relid, c->attnum, false);
		List	   *rels = find_all_inheritors(c->relid, NoLock, NULL);
		ListCell   *lc2;

		foreach(lc2, rels)
		{
			Oid			r = lfirst_oid(lc2);
			AttrNumber	att = get_attnum(r, attname);
			ScanKeyData key[3];
			SysScanDesc scan;
			HeapTuple	tup;

			if (att == InvalidAttrNumber)
				continue;
			ScanKeyInit(&key[0], Anum_pg_depend_refclassid, BTEqualStrategyNumber,
						F_OIDEQ, ObjectIdGetDatum(RelationRelationId));
			ScanKeyInit(&key[1], Anum_pg_depend_refobjid, BTEqualStrategyNumber,
						F_OIDEQ, ObjectIdGetDatum(r));
			ScanKeyInit(&key[2], Anum_pg_depend_refobjsubid, BTEqualStrategyNumber,
						F_INT4EQ, Int32GetDatum(att));
			scan = systable_beginscan(rel, DependReferenceIndexId, true, NULL, 3, key);
			while (HeapTupleIsValid(tup = systable_getnext(scan)))
			{
				Form_pg_depend dep = (Form_pg_depend) GETSTRUCT(tup);
				ObjectAddress obj;
				char	   *desc;

				if (dep->classid == ConstraintRelationId ||
					dep->classid == AttrDefaultRelationId ||
					dep->classid == StatisticExtRelationId ||
					(dep->classid == RelationRelationId && dep->objsubid == 0 &&
					 (get_rel_relkind(dep->objid) == RELKIND_INDEX ||
					  get_rel_relkind(dep->objid) == RELKIND_PARTITIONED_INDEX ||
					  get_rel_relkind(dep->objid) == RELKIND_SEQUENCE)))
					continue;
				ObjectAddressSubSet(obj, dep->classid, dep->objid, dep->objsubid);
				/* A view's rule: name the view. */
				if (dep->classid == RewriteRelationId)
				{
					Oid			ev = rule_relation(dep->objid);

					if (OidIsValid(ev))
					{
						char		k = get_rel_relkind(ev);

						desc = psprintf("%s %s",
										k == RELKIND_VIEW ? "view" :
										k == RELKIND_MATVIEW ? "materialized view" : "a rule on",
										dbopt_qualified_relname(ev));
					}
					else
						desc = getObjectDescription(&obj, true);
				}
				else
					desc = getObjectDescription(&obj, true);
				if (desc == NULL || strstr(out.data, desc) != NULL)
					continue;
				appendStringInfo(&out, "%s%s", out.len ? ", " : "", desc);
			}
			systable_endscan(scan);
		}
	}
	table_close(rel, AccessShareLock);
	return out.len ? out.data : NULL;
}

/*
 * The script that widens the columns to bigint, one ALTER TABLE per table
 * (one rewrite each), in one transaction, then the sequence.
 */
static char *
widen_script(List *cols, Oid seqid, bool widen_seq)
{
	StringInfoData out;
	List	   *done = NIL;
	ListCell   *lc;

	initStringInfo(&out);
	appendStringInfoString(&out, "BEGIN;");
	foreach(lc, cols)
	{
		ColRef	   *c = lfirst(lc);
		ListCell   *lc2;
		bool		first = true;

		if (list_member_oid(done, c->relid))
			continue;
		done = lappend_oid(done, c->relid);
		appendStringInfo(&out, " ALTER TABLE %s", dbopt_qualified_relname(c->relid));
		for_each_cell(lc2, cols, lc)
		{
			ColRef	   *c2 = lfirst(lc2);

			if (c2->relid != c->relid)
				continue;
			appendStringInfo(&out, "%s ALTER COLUMN %s TYPE bigint", first ? "" : ",",
							 quote_identifier(get_attname(c2->relid, c2->attnum, false)));
			first = false;
		}
		appendStringInfoChar(&out, ';');
	}
	if (widen_seq)
		appendStringInfo(&out, " ALTER SEQUENCE %s AS bigint;", dbopt_qualified_relname(seqid));
	appendStringInfoString(&out, " COMMIT;");
	return out.data;
}

static char *
colref_names(List *cols)
{
	StringInfoData out;
	ListCell   *lc;

	initStringInfo(&out);
	foreach(lc, cols)
	{
		ColRef	   *c = lfirst(lc);

		appendStringInfo(&out, "%s%s.%s", out.len ? ", " : "",
						 dbopt_qualified_relname(c->relid),
						 quote_identifier(get_attname(c->relid, c->attnum, false)));
	}
	return out.data;
}

static void
check_sequence(IntegrityRun *run, Oid seqid, const OidSet *only)
{
	HeapTuple	tup = SearchSysCache1(SEQRELID, ObjectIdGetDatum(seqid));
	Form_pg_sequence seq;
	bool		ascending;
	int64		seqlimit;
	int64		limit;
	const char *limit_by;
	List	   *cols = NIL;
	List	   *narrow = NIL;	/* fed or referencing columns below bigint */
	List	   *referencing = NIL;
	ListCell   *lc;
	SeqUnit		u;
	DboptUnitError err;
	char	   *object = dbopt_qualified_relname(seqid);
	double		used;
	char	   *colnames = NULL;
	char	   *fix = NULL;
	char	   *remediation;
	char	   *refs_text = "";
	bool		judged_by_column = false;
	Oid			seqtype;
	Oid			as_role;

	if (!HeapTupleIsValid(tup))
		return;
	seq = (Form_pg_sequence) GETSTRUCT(tup);
	ascending = seq->seqincrement > 0;
	seqlimit = ascending ? seq->seqmax : seq->seqmin;
	seqtype = seq->seqtypid;
	ReleaseSysCache(tup);

	if (only != NULL)
	{
		bool		feeds = false;

		cols = sequence_columns(seqid);
		foreach(lc, cols)
			feeds |= oidset_contains(only, ((ObjectAddress *) lfirst(lc))->objectId);
		if (!feeds)
			return;
	}

	/*
	 * How near a sequence is to its limit is a monitoring figure, like the
	 * row counts pg_read_all_stats shows: its members (pg_monitor) get it,
	 * read as the sequence's owner.
	 */
	if (pg_class_aclcheck(seqid, GetUserId(), ACL_SELECT | ACL_USAGE) == ACLCHECK_OK)
		as_role = InvalidOid;
	else if (has_privs_of_role(GetUserId(), ROLE_PG_READ_ALL_STATS))
		as_role = dbopt_unit_owner(seqid);
	else
	{
		note_skipped(run, "sequence_exhaustion", object);
		return;
	}
	u.seqid = seqid;
	if (!dbopt_run_unit(seq_unit, &u, as_role, 0, dbopt_check_timeout_ms, &err))
	{
		add_check_failed(run, "sequence_exhaustion", object, &err);
		return;
	}
	if (u.isnull)
		return;

	/*
	 * Most sequences are far from any limit: below 75% of the smallest one
	 * a column could impose (smallint's), skip the dependency lookups.
	 */
	{
		int64		floor = ascending ? Min(seqlimit, PG_INT16_MAX) : Max(seqlimit, PG_INT16_MIN);

		if (floor != 0 && (double) u.last / (double) floor < 0.75)
			return;
	}
	if (cols == NIL)
		cols = sequence_columns(seqid);

	/* The fed columns, then the foreign keys that copy their values. */
	foreach(lc, cols)
	{
		ObjectAddress *a = lfirst(lc);
		ColRef	   *c = palloc(sizeof(ColRef));

		c->relid = a->objectId;
		c->attnum = a->objectSubId;
		narrow = lappend(narrow, c);
	}
	add_referencing_columns(&narrow);
	for_each_from(lc, narrow, list_length(cols))
		referencing = lappend(referencing, lfirst(lc));

	limit = seqlimit;
	limit_by = "its own limit";
	foreach(lc, narrow)
	{
		ColRef	   *c = lfirst(lc);
		int64		tl;
		Oid			coltype = get_atttype(c->relid, c->attnum);
		char	   *colname = psprintf("%s.%s", dbopt_qualified_relname(c->relid),
									   quote_identifier(get_attname(c->relid, c->attnum, false)));

		if (foreach_current_index(lc) < list_length(cols))
			colnames = colnames ? psprintf("%s, %s", colnames, colname) : colname;
		if (type_limit(coltype, ascending, &tl) &&
			(ascending ? tl <= limit : tl >= limit))
		{
			limit = tl;
			limit_by = psprintf("the %s column %s", format_type_be(coltype), colname);
			judged_by_column = true;
		}
	}

	if (limit == 0)
		return;
	used = (double) u.last / (double) limit;
	if (used < 0.75)
		return;

	/* Only the columns narrower than bigint need widening. */
	{
		List	   *widen = NIL;

		foreach(lc, narrow)
			if (is_narrow_int(get_atttype(((ColRef *) lfirst(lc))->relid,
										  ((ColRef *) lfirst(lc))->attnum)))
				widen = lappend(widen, lfirst(lc));
		if (referencing != NIL)
			refs_text = psprintf(" Foreign keys copy its values into %s, which must become bigint too.",
								 colref_names(referencing));
		if (judged_by_column)
		{
			char	   *blockers = alter_type_blockers(widen);
			char	   *script = widen_script(widen, seqid, seqtype != INT8OID);

			if (blockers != NULL)
				remediation = psprintf("Widen the columns (and the sequence) to bigint before it runs out.%s ALTER COLUMN TYPE fails while these depend on the columns: %s. Save their definitions, drop them, run %s and re-create them, in one transaction. Each ALTER TABLE rewrites its table under an ACCESS EXCLUSIVE lock: plan a window, or migrate through new columns.",
									   refs_text, blockers, script);
			else
			{
				fix = script;
				remediation = psprintf("Widen the columns (and the sequence) to bigint before it runs out.%s Each ALTER TABLE rewrites its table under an ACCESS EXCLUSIVE lock: plan a window, or migrate through new columns.",
									   refs_text);
			}
		}
		else
		{
			if (seqtype != INT8OID)
				fix = psprintf("ALTER SEQUENCE %s AS bigint;", object);
			remediation = "Widen the sequence (or raise its MAXVALUE) before it runs out; nextval() fails once it is exhausted.";
		}
	}
	add_pending(run, used >= 0.90 ? DBOPT_CRITICAL : DBOPT_WARNING,
				"sequence_exhaustion", object,
				psprintf("Sequence %s is at %lld, %.1f%% of %s (%lld)%s%s.",
						 object, (long long) u.last, used * 100.0, limit_by,
						 (long long) limit,
						 colnames ? "; it feeds " : "", colnames ? colnames : ""),
				remediation, fix, false, 0, NULL);
}

/*
 * Sequences feeding the given tables, found from the tables' side: owned
 * sequences (serial, identity) depend on the table; a DEFAULT nextval()
 * depends on the sequence.  Each sequence once.
 */
static List *
sequences_of_tables(const OidSet *tables)
{
	Relation	dep = table_open(DependRelationId, AccessShareLock);
	Relation	adrel = table_open(AttrDefaultRelationId, AccessShareLock);
	List	   *seqs = NIL;

	for (int i = 0; i < tables->n; i++)
	{
		ScanKeyData key[2];
		SysScanDesc scan;
		HeapTuple	tup;
		List	   *defaults = NIL;
		ListCell   *lc;

		CHECK_FOR_INTERRUPTS();
		ScanKeyInit(&key[0], Anum_pg_depend_refclassid, BTEqualStrategyNumber,
					F_OIDEQ, ObjectIdGetDatum(RelationRelationId));
		ScanKeyInit(&key[1], Anum_pg_depend_refobjid, BTEqualStrategyNumber,
					F_OIDEQ, ObjectIdGetDatum(tables->oids[i]));
		scan = systable_beginscan(dep, DependReferenceIndexId, true, NULL, 2, key);
		while (HeapTupleIsValid(tup = systable_getnext(scan)))
		{
			Form_pg_depend d = (Form_pg_depend) GETSTRUCT(tup);

			if (d->classid == RelationRelationId &&
				get_rel_relkind(d->objid) == RELKIND_SEQUENCE)
				seqs = list_append_unique_oid(seqs, d->objid);
		}
		systable_endscan(scan);

		ScanKeyInit(&key[0], Anum_pg_attrdef_adrelid, BTEqualStrategyNumber,
					F_OIDEQ, ObjectIdGetDatum(tables->oids[i]));
		scan = systable_beginscan(adrel, AttrDefaultIndexId, true, NULL, 1, key);
		while (HeapTupleIsValid(tup = systable_getnext(scan)))
			defaults = lappend_oid(defaults, ((Form_pg_attrdef) GETSTRUCT(tup))->oid);
		systable_endscan(scan);

		foreach(lc, defaults)
		{
			ScanKeyInit(&key[0], Anum_pg_depend_classid, BTEqualStrategyNumber,
						F_OIDEQ, ObjectIdGetDatum(AttrDefaultRelationId));
			ScanKeyInit(&key[1], Anum_pg_depend_objid, BTEqualStrategyNumber,
						F_OIDEQ, ObjectIdGetDatum(lfirst_oid(lc)));
			scan = systable_beginscan(dep, DependDependerIndexId, true, NULL, 2, key);
			while (HeapTupleIsValid(tup = systable_getnext(scan)))
			{
				Form_pg_depend d = (Form_pg_depend) GETSTRUCT(tup);

				if (d->refclassid == RelationRelationId &&
					get_rel_relkind(d->refobjid) == RELKIND_SEQUENCE)
					seqs = list_append_unique_oid(seqs, d->refobjid);
			}
			systable_endscan(scan);
		}
	}
	table_close(adrel, AccessShareLock);
	table_close(dep, AccessShareLock);
	return seqs;
}

static void
check_sequences(IntegrityRun *run, const OidSet *only)
{
	List	   *seqs = NIL;
	ListCell   *lc;

	if (only == NULL)
		seqs = dbopt_user_relations((char[]) {RELKIND_SEQUENCE, '\0'});
	else
		seqs = sequences_of_tables(only);

	{
		MemoryContext seqcxt = AllocSetContextCreate(CurrentMemoryContext,
													 "dbopt sequence check",
													 ALLOCSET_SMALL_SIZES);
		MemoryContext old = MemoryContextSwitchTo(seqcxt);

		foreach(lc, seqs)
		{
			CHECK_FOR_INTERRUPTS();
			check_sequence(run, lfirst_oid(lc), only);
			flush_pending(run);
			MemoryContextReset(seqcxt);
		}
		MemoryContextSwitchTo(old);
		MemoryContextDelete(seqcxt);
	}
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
	Relation	rel = table_open(DependRelationId, AccessShareLock);
	ScanKeyData key;
	SysScanDesc scan;
	HeapTuple	tup;
	CollIdx    *pairs = NULL;
	int			npairs = 0, cap = 0;
	CollUnit	u;
	DboptUnitError err;

	ScanKeyInit(&key, Anum_pg_depend_refclassid, BTEqualStrategyNumber,
				F_OIDEQ, ObjectIdGetDatum(CollationRelationId));
	scan = systable_beginscan(rel, DependReferenceIndexId, true, NULL, 1, &key);
	while (HeapTupleIsValid(tup = systable_getnext(scan)))
	{
		Form_pg_depend dep = (Form_pg_depend) GETSTRUCT(tup);

		if (dep->classid != RelationRelationId || dep->refobjid == DEFAULT_COLLATION_OID ||
			get_rel_relkind(dep->objid) != RELKIND_INDEX)
			continue;
		if (only != NULL && !oidset_contains(only, IndexGetRelation(dep->objid, true)))
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
	systable_endscan(scan);
	table_close(rel, AccessShareLock);

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
		add_check_failed(run, "collation_version_mismatch", NULL, &err);
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
		add_pending(run, DBOPT_WARNING, "collation_version_mismatch", collname,
					psprintf("Collation %s was recorded at version %s but the library now reports %s; indexes sorted under the old rules may return wrong results: %s.",
							 collname, u.recorded[c], u.actual[c], idxs.data),
					"Rebuild the dependent indexes, then record the new version.",
					fix.data, false, 0, NULL);
	}

	if (only == NULL && u.db_recorded && u.db_actual &&
		strcmp(u.db_recorded, u.db_actual) != 0)
	{
		const char *dbname = quote_identifier(get_database_name(MyDatabaseId));

		add_pending(run, DBOPT_WARNING, "collation_version_mismatch", dbname,
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

static void
check_amcheck(IntegrityRun *run, Oid relid)
{
	const char *nsp = quote_identifier(get_namespace_name(run->amcheck_nsp));
	char	   *relname = dbopt_qualified_relname(relid);
	List	   *indexes = NIL;
	Relation	rel;
	ScanKeyData key;
	SysScanDesc scan;
	HeapTuple	tup;
	ListCell   *lc;
	AmcheckUnit u;
	DboptUnitError err;

	if (!can_read(run, relid, "heap_corruption", relname))
		return;

	rel = table_open(IndexRelationId, AccessShareLock);
	ScanKeyInit(&key, Anum_pg_index_indrelid, BTEqualStrategyNumber,
				F_OIDEQ, ObjectIdGetDatum(relid));
	scan = systable_beginscan(rel, IndexIndrelidIndexId, true, NULL, 1, &key);
	while (HeapTupleIsValid(tup = systable_getnext(scan)))
	{
		Form_pg_index idx = (Form_pg_index) GETSTRUCT(tup);

		if (idx->indisvalid && idx->indisready &&
			dbopt_relation_am(idx->indexrelid) == BTREE_AM_OID)
			indexes = lappend_oid(indexes, idx->indexrelid);
	}
	systable_endscan(scan);
	table_close(rel, AccessShareLock);

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
				add_pending(run, DBOPT_CRITICAL, "heap_corruption", relname,
							psprintf("verify_heapam stopped: %s", err.message),
							"Restore the damaged rows from a backup; pg_surgery can remove tuples that block reads.",
							NULL, true, 1, NULL);
			else
				add_check_failed(run, "heap_corruption", relname, &err);
		}
		else
		{
			foreach(lc, u.problems)
				add_pending(run, DBOPT_CRITICAL, "heap_corruption", relname,
							psprintf("verify_heapam: %s", (char *) lfirst(lc)),
							"Restore the damaged rows from a backup; pg_surgery can remove tuples that block reads.",
							NULL, true, u.nproblems, NULL);
			if (u.nproblems > MAX_PROBLEMS_PER_OBJECT)
				add_pending(run, DBOPT_CRITICAL, "heap_corruption", relname,
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
			add_pending(run, DBOPT_CRITICAL, "index_corruption", iname,
						psprintf("bt_index_check: %s%s%s", err.message,
								 err.detail ? " " : "", err.detail ? err.detail : ""),
						"Rebuild the index; if the table is damaged too (see heap_corruption) restore from a backup first.",
						psprintf("REINDEX INDEX CONCURRENTLY %s;", iname),
						true, 1, NULL);
		else
			add_check_failed(run, "index_corruption", iname, &err);
	}
}

/* ---------- driver ---------- */

/* Tables to check: the target (its leaf partitions if partitioned) or all. */
static List *
tables_to_check(Oid target)
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

static void
check_target_kind(Oid target)
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
		check_target_kind(target);

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

	tables = tables_to_check(target);
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
	check_sequences(&run, only);
	flush_pending(&run);
	MemoryContextReset(itemcxt);

	foreach(lc, tables)
	{
		Oid			relid = lfirst_oid(lc);
		char		kind;

		CHECK_FOR_INTERRUPTS();
		kind = get_rel_relkind(relid);
		if (kind == '\0')
			continue;			/* dropped meanwhile */

		check_disabled_triggers(&run, relid);
		if (kind == RELKIND_RELATION)
			check_constraints(&run, relid);
		if (kind != RELKIND_PARTITIONED_TABLE)
		{
			check_invalid_unique(&run, relid);
			check_table_xid(&run, relid);
			if (deep && OidIsValid(run.amcheck_nsp))
				check_amcheck(&run, relid);
		}
		flush_pending(&run);
		MemoryContextReset(itemcxt);
	}
	flush_skipped(&run);

	MemoryContextSwitchTo(oldcxt);
	MemoryContextDelete(itemcxt);
	return (Datum) 0;
}

/* ---------- validate_constraints() ---------- */

typedef struct ValidateUnit
{
	const ConInfo *con;
} ValidateUnit;

static void
validate_unit(void *arg)
{
	ValidateUnit *u = arg;
	char	   *sql = validate_sql(u->con);
	int			rc;

	SPI_connect();
	rc = SPI_execute(sql, false, 0);
	if (rc != SPI_OK_UTILITY)
		elog(ERROR, "VALIDATE CONSTRAINT failed: %s", SPI_result_code_string(rc));
	SPI_finish();
	dbopt_log_action("validate_constraints",
					 qualified_constraint(u->con->relid, u->con->name),
					 "validated", 0, -1, "no violating rows");
}

static void
put_validate_row(ReturnSetInfo *rsinfo, const ConInfo *c, const char *action,
				 const char *detail)
{
	Datum		values[4];
	bool		nulls[4] = {false, false, false, false};

	values[0] = CStringGetTextDatum(c->name);
	values[1] = ObjectIdGetDatum(c->relid);
	values[2] = CStringGetTextDatum(action);
	values[3] = CStringGetTextDatum(detail);
	tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc, values, nulls);
}

static char *
violations_text(int64 count, const ConInfo *c)
{
	return psprintf("%lld %s; see dbopt.check_data_integrity(%s)",
					(long long) count,
					c->contype == CONSTRAINT_FOREIGN ? "orphan row(s)" : "row(s) failing the CHECK",
					quote_literal_cstr(dbopt_qualified_relname(c->relid)));
}

/*
 * One step of validate_constraints(): what the dry run describes and the
 * real run carries out.  Only the last step differs between them.
 */
typedef struct ValidateStep
{
	ConInfo    *con;
	bool		validate;		/* else skipped, for detail's reason */
	char	   *detail;
	int			covered_by;		/* an earlier step whose VALIDATE recurses here, or -1 */
	bool		done;			/* real run: validated */
} ValidateStep;

/* Whether VALIDATE of this CHECK also validates the copies in child tables. */
static bool
check_recurses(const ConInfo *c)
{
	HeapTuple	tup;
	bool		noinherit = true;

	if (c->contype != CONSTRAINT_CHECK)
		return false;
	tup = SearchSysCache1(CONSTROID, ObjectIdGetDatum(c->oid));
	if (HeapTupleIsValid(tup))
	{
		noinherit = ((Form_pg_constraint) GETSTRUCT(tup))->connoinherit;
		ReleaseSysCache(tup);
	}
	return !noinherit;
}

/*
 * Violating rows as VALIDATE sees them: a CHECK that recurses is checked
 * in every child table too, so it is counted over all of them (the
 * integrity report counts per table, with ONLY).
 */
static bool
validate_count(ConInfo *c, const AttrNumber *pkcols, int npk, int64 *count,
			   DboptUnitError *err)
{
	char	   *sample;

	if (check_recurses(c))
		return run_scan(psprintf("SELECT 1 FROM %s t WHERE (%s) IS FALSE",
								 dbopt_qualified_relname(c->relid), check_expr(c)),
						c->relid, 0, false, count, &sample, err);
	return count_violations(c, pkcols, npk, 0, false, count, &sample, err);
}

/*
 * The plan: every NOT VALID constraint of the tables, in table order, with
 * what will happen to it.  A constraint that an earlier step's VALIDATE
 * reaches through inheritance is validated with it, not on its own.
 */
static ValidateStep *
plan_validation(List *tables, int *nsteps)
{
	List	   *cons_all = NIL;
	ValidateStep *steps;
	ListCell   *lc;
	int			n = 0;

	foreach(lc, tables)
	{
		Oid			relid = lfirst_oid(lc);
		AttrNumber	pkcols[INDEX_MAX_KEYS];
		int			npk;
		ListCell   *lc2;

		if (get_rel_relkind(relid) != RELKIND_RELATION &&
			get_rel_relkind(relid) != RELKIND_PARTITIONED_TABLE)
			continue;
		foreach(lc2, table_constraints(relid, pkcols, &npk))
		{
			ConInfo    *c = lfirst(lc2);

			/* Inherited copies are validated through their parent. */
			if (c->validated || !c->islocal || c->referenced_clone)
				continue;
			cons_all = lappend(cons_all, c);
		}
	}
	steps = palloc0(sizeof(ValidateStep) * Max(list_length(cons_all), 1));
	foreach(lc, cons_all)
	{
		ValidateStep *s = &steps[n];
		ConInfo    *c = lfirst(lc);
		AttrNumber	pkcols[INDEX_MAX_KEYS];
		int			npk;
		DboptUnitError err;
		int64		count;

		CHECK_FOR_INTERRUPTS();
		s->con = c;
		s->covered_by = -1;
		if (!dbopt_relation_ownercheck(c->relid, GetUserId()))
		{
			s->detail = pstrdup("not the owner of the table");
			n++;
			continue;
		}
		for (int i = 0; i < n && s->covered_by < 0; i++)
			if (steps[i].validate && steps[i].covered_by < 0 && check_recurses(steps[i].con) &&
				c->contype == CONSTRAINT_CHECK && strcmp(steps[i].con->name, c->name) == 0 &&
				list_member_oid(find_all_inheritors(steps[i].con->relid, NoLock, NULL), c->relid))
				s->covered_by = i;
		if (s->covered_by >= 0)
		{
			s->validate = true;
			s->detail = psprintf("validated with %s", qualified_constraint(steps[s->covered_by].con->relid,
																			 steps[s->covered_by].con->name));
			n++;
			continue;
		}
		(void) table_constraints(c->relid, pkcols, &npk);
		if (!validate_count(c, pkcols, npk, &count, &err))
		{
			/* VALIDATE may still pass: its own scan runs with other rights and limits. */
			s->validate = true;
			s->detail = psprintf("violations not counted (%s), so validation may fail", err.message);
		}
		else if (count > 0)
			s->detail = violations_text(count, c);
		else
		{
			s->validate = true;
			s->detail = pstrdup("no violating rows");
		}
		n++;
	}
	*nsteps = n;
	return steps;
}

PG_FUNCTION_INFO_V1(dbopt_validate_constraints);

Datum
dbopt_validate_constraints(PG_FUNCTION_ARGS)
{
	Oid			target = PG_ARGISNULL(0) ? InvalidOid : PG_GETARG_OID(0);
	bool		dry_run = dbopt_steering_bool(fcinfo, 1, "dry_run");
	ReturnSetInfo *rsinfo = (ReturnSetInfo *) fcinfo->resultinfo;
	ValidateStep *steps;
	int			nsteps;
	int			nvalidated = 0, nskipped = 0, nwould = 0;

	if (OidIsValid(target))
	{
		check_target_kind(target);
		if (!dbopt_relation_ownercheck(target, GetUserId()))
			ereport(ERROR,
					(errcode(ERRCODE_INSUFFICIENT_PRIVILEGE),
					 errmsg("must be owner of table %s", get_rel_name(target)),
					 errdetail("validate_constraints() changes constraints, which only the table owner may do."),
					 errhint("Run it as the owner of %s, or as a member of the owning role.",
							 dbopt_qualified_relname(target))));
	}

	dbopt_init_materialized_srf(fcinfo);
	steps = plan_validation(tables_to_check(target), &nsteps);

	for (int i = 0; i < nsteps; i++)
	{
		ValidateStep *s = &steps[i];
		ConInfo    *c = s->con;
		DboptUnitError err;
		ValidateUnit u;
		int64		count;

		CHECK_FOR_INTERRUPTS();
		if (!s->validate)
		{
			put_validate_row(rsinfo, c, "skipped", s->detail);
			nskipped++;
			continue;
		}
		if (dry_run)
		{
			/* What the plan cannot know: the lock, and rows written after the count. */
			put_validate_row(rsinfo, c, "would validate",
							 psprintf("%s; skipped if its lock is not granted within dbopt.lock_timeout, or if rows written after this plan violate it",
									  s->detail));
			nwould++;
			continue;
		}
		if (s->covered_by >= 0 && steps[s->covered_by].done)
		{
			s->done = true;
			put_validate_row(rsinfo, c, "validated", s->detail);
			nvalidated++;
			continue;
		}
		u.con = c;
		if (dbopt_run_unit(validate_unit, &u, dbopt_unit_owner(c->relid), 0, 0, &err))
		{
			s->done = true;
			put_validate_row(rsinfo, c, "validated", s->detail);
			nvalidated++;
		}
		else if (err.lock_timeout)
		{
			put_validate_row(rsinfo, c, "skipped", dbopt_unit_error_text(&err));
			nskipped++;
		}
		else if ((err.sqlerrcode == ERRCODE_FOREIGN_KEY_VIOLATION ||
				  err.sqlerrcode == ERRCODE_CHECK_VIOLATION))
		{
			AttrNumber	pkcols[INDEX_MAX_KEYS];
			int			npk;

			(void) table_constraints(c->relid, pkcols, &npk);
			put_validate_row(rsinfo, c, "skipped",
							 validate_count(c, pkcols, npk, &count, &err) && count > 0
							 ? violations_text(count, c) : pstrdup(err.message));
			nskipped++;
		}
		else
		{
			put_validate_row(rsinfo, c, "skipped", err.message);
			nskipped++;
		}
	}

	if (dry_run)
		ereport(NOTICE,
				(errmsg("validate_constraints dry run: %d would be validated, %d skipped",
						nwould, nskipped)));
	else
		ereport(NOTICE,
				(errmsg("validate_constraints: %d validated, %d skipped",
						nvalidated, nskipped)));
	return (Datum) 0;
}
