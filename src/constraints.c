/*-------------------------------------------------------------------------
 *
 * constraints.c
 *	  Foreign keys and CHECK constraints against the rows: the orphan and
 *	  violation scans and the disabled constraint triggers of
 *	  check_data_integrity(), and validate_constraints(), which validates
 *	  what no row violates.
 *
 * The orphan scan is the anti-join VALIDATE CONSTRAINT runs
 * (RI_Initial_Check), with the constraint's own operators and the same
 * work_mem; it runs through integrity.c's isolated scans.
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
	SysScanDesc scan = dbopt_catalog_scan(ConstraintRelationId, ConstraintRelidTypidNameIndexId,
										  Anum_pg_constraint_conrelid, relid);
	TupleDesc	desc = RelationGetDescr(scan->heap_rel);
	HeapTuple	tup;
	List	   *result = NIL;

	*npk = 0;
	while (HeapTupleIsValid(tup = systable_getnext(scan)))
	{
		Form_pg_constraint con = (Form_pg_constraint) GETSTRUCT(tup);
		ConInfo    *c;

		if (con->contype == CONSTRAINT_PRIMARY)
		{
			int2_array(tup, desc, Anum_pg_constraint_conkey, pkcols, npk);
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
										   desc, &isnull);

			if (isnull)
				continue;
			c->conbin = TextDatumGetCString(bin);
		}
		result = lappend(result, c);
	}
	dbopt_catalog_scan_end(scan);
	return result;
}

/* Whether any pg_trigger row with attno = value (via indexid) is disabled. */
static bool
any_trigger_disabled(Oid indexid, AttrNumber attno, Oid value)
{
	SysScanDesc scan = dbopt_catalog_scan(TriggerRelationId, indexid, attno, value);
	HeapTuple	tup;
	bool		found = false;

	while (!found && HeapTupleIsValid(tup = systable_getnext(scan)))
		found = ((Form_pg_trigger) GETSTRUCT(tup))->tgenabled == TRIGGER_DISABLED;
	dbopt_catalog_scan_end(scan);
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
		return dbopt_integrity_run_scan(fk_orphan_sql(c), as_owner ? c->relid : InvalidOid, sample_limit,
										true, count, sample, err);
	return dbopt_integrity_run_scan(check_violation_sql(c, pkcols, npk), c->relid, sample_limit, false,
									count, sample, err);
}

void
dbopt_integrity_check_constraints(IntegrityRun *run, Oid relid)
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
		acc = dbopt_integrity_read_access(run, relid, check, object);
		if (acc != READ_NONE && is_fk)
			acc = Min(acc, dbopt_integrity_read_access(run, c->frelid, check, object));
		if (acc == READ_NONE)
			continue;

		if (!count_violations(c, pkcols, npk, acc == READ_FULL ? run->sample_limit : 0,
							  acc != READ_FULL, &count, &sample, &err))
		{
			dbopt_integrity_add_check_failed(run, check, object, &err);
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
			dbopt_integrity_add_pending(run, c->validated ? DBOPT_CRITICAL : DBOPT_WARNING,
										check, object, detail, remediation, fix, true, count, sample);
		}
		else if (!c->validated)
			dbopt_integrity_add_pending(run, DBOPT_INFO, "not_valid_constraint", object,
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

void
dbopt_integrity_check_disabled_triggers(IntegrityRun *run, Oid relid)
{
	SysScanDesc scan = dbopt_catalog_scan(TriggerRelationId, TriggerRelidNameIndexId,
										  Anum_pg_trigger_tgrelid, relid);
	HeapTuple	tup;
	List	   *groups = NIL;
	ListCell   *lc;
	char	   *relname = dbopt_qualified_relname(relid);

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
	dbopt_catalog_scan_end(scan);

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
		dbopt_integrity_add_pending(run, DBOPT_WARNING, "disabled_constraint_trigger",
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
		return dbopt_integrity_run_scan(psprintf("SELECT 1 FROM %s t WHERE (%s) IS FALSE",
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
		dbopt_integrity_check_target_kind(target);
		dbopt_require_owner(target, "validate_constraints() changes constraints, which only the table owner may do.");
	}

	dbopt_init_materialized_srf(fcinfo);
	steps = plan_validation(dbopt_integrity_tables_to_check(target), &nsteps);

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
