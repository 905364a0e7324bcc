/*-------------------------------------------------------------------------
 *
 * integrity_sequences.c
 *	  The sequence_exhaustion check of check_data_integrity(): how near a
 *	  sequence is to its own limit, or to that of the narrowest column it
 *	  feeds directly or through foreign keys, and the script that widens
 *	  them to bigint with what would block it.
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
 * Scan pg_depend for the rows whose dependent object (or, with referenced,
 * whose referenced object) is classid/objid, and objsubid when it is >= 0.
 */
static SysScanDesc
depend_scan(Relation dep, bool referenced, Oid classid, Oid objid, int32 objsubid)
{
	ScanKeyData *key = palloc(sizeof(ScanKeyData) * 3);

	ScanKeyInit(&key[0], referenced ? Anum_pg_depend_refclassid : Anum_pg_depend_classid,
				BTEqualStrategyNumber, F_OIDEQ, ObjectIdGetDatum(classid));
	ScanKeyInit(&key[1], referenced ? Anum_pg_depend_refobjid : Anum_pg_depend_objid,
				BTEqualStrategyNumber, F_OIDEQ, ObjectIdGetDatum(objid));
	if (objsubid >= 0)
		ScanKeyInit(&key[2], referenced ? Anum_pg_depend_refobjsubid : Anum_pg_depend_objsubid,
					BTEqualStrategyNumber, F_INT4EQ, Int32GetDatum(objsubid));
	return systable_beginscan(dep, referenced ? DependReferenceIndexId : DependDependerIndexId,
							  true, NULL, objsubid >= 0 ? 3 : 2, key);
}

/*
 * Columns fed by a sequence: the owning column of a serial or identity, and
 * columns whose DEFAULT calls nextval() on it.
 */
static List *
sequence_columns(Oid seqid)
{
	Relation	rel = table_open(DependRelationId, AccessShareLock);
	SysScanDesc scan;
	HeapTuple	tup;
	List	   *cols = NIL;

	scan = depend_scan(rel, false, RelationRelationId, seqid, -1);
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

	scan = depend_scan(rel, true, RelationRelationId, seqid, -1);
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
	HeapTuple	tup = get_catalog_object_by_oid(rel, Anum_pg_rewrite_oid, ruleoid);
	Oid			result = InvalidOid;

	if (HeapTupleIsValid(tup))
		result = ((Form_pg_rewrite) GETSTRUCT(tup))->ev_class;
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
			SysScanDesc scan;
			HeapTuple	tup;

			if (att == InvalidAttrNumber)
				continue;
			scan = depend_scan(rel, true, RelationRelationId, r, att);
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

/*
 * The sequence's last value, read as the caller or, for a member of
 * pg_read_all_stats (pg_monitor), as its owner: how near a sequence is to
 * its limit is a monitoring figure, like the row counts that role shows.
 * False when it is not read (no rights, noted; failed, reported) or NULL.
 */
static bool
read_last_value(IntegrityRun *run, Oid seqid, const char *object, int64 *last)
{
	SeqUnit		u;
	DboptUnitError err;
	Oid			as_role;

	if (pg_class_aclcheck(seqid, GetUserId(), ACL_SELECT | ACL_USAGE) == ACLCHECK_OK)
		as_role = InvalidOid;
	else if (has_privs_of_role(GetUserId(), ROLE_PG_READ_ALL_STATS))
		as_role = dbopt_unit_owner(seqid);
	else
	{
		dbopt_integrity_note_skipped(run, "sequence_exhaustion", object);
		return false;
	}
	u.seqid = seqid;
	if (!dbopt_run_unit(seq_unit, &u, as_role, 0, dbopt_check_timeout_ms, &err))
	{
		dbopt_integrity_add_check_failed(run, "sequence_exhaustion", object, &err);
		return false;
	}
	*last = u.last;
	return !u.isnull;
}

/*
 * The nearest limit among the sequence's own and the types of the columns
 * in narrow (the fed ones first, nfed of them): sets *limit and *limit_by,
 * and *colnames to the fed columns.  True when a column sets the limit.
 */
static bool
narrowest_limit(List *narrow, int nfed, bool ascending, int64 *limit, const char **limit_by,
				char **colnames)
{
	ListCell   *lc;
	bool		judged_by_column = false;

	*limit_by = "its own limit";
	*colnames = NULL;
	foreach(lc, narrow)
	{
		ColRef	   *c = lfirst(lc);
		int64		tl;
		Oid			coltype = get_atttype(c->relid, c->attnum);
		char	   *colname = psprintf("%s.%s", dbopt_qualified_relname(c->relid),
									   quote_identifier(get_attname(c->relid, c->attnum, false)));

		if (foreach_current_index(lc) < nfed)
			*colnames = *colnames ? psprintf("%s, %s", *colnames, colname) : colname;
		if (type_limit(coltype, ascending, &tl) &&
			(ascending ? tl <= *limit : tl >= *limit))
		{
			*limit = tl;
			*limit_by = psprintf("the %s column %s", format_type_be(coltype), colname);
			judged_by_column = true;
		}
	}
	return judged_by_column;
}

/*
 * What to do about a sequence near its limit: widen the columns below
 * bigint (the fed ones and those foreign keys copy them into) and the
 * sequence, or only the sequence when no column limits it.  *fix is the
 * script when it can run as it is.
 */
static char *
widen_remediation(List *narrow, List *referencing, Oid seqid, Oid seqtype,
				  bool judged_by_column, char **fix)
{
	List	   *widen = NIL;
	ListCell   *lc;
	char	   *refs_text = "";
	char	   *blockers;
	char	   *script;

	*fix = NULL;
	foreach(lc, narrow)
		if (is_narrow_int(get_atttype(((ColRef *) lfirst(lc))->relid,
									  ((ColRef *) lfirst(lc))->attnum)))
			widen = lappend(widen, lfirst(lc));
	if (referencing != NIL)
		refs_text = psprintf(" Foreign keys copy its values into %s, which must become bigint too.",
							 colref_names(referencing));
	if (!judged_by_column)
	{
		if (seqtype != INT8OID)
			*fix = psprintf("ALTER SEQUENCE %s AS bigint;", dbopt_qualified_relname(seqid));
		return "Widen the sequence (or raise its MAXVALUE) before it runs out; nextval() fails once it is exhausted.";
	}
	blockers = alter_type_blockers(widen);
	script = widen_script(widen, seqid, seqtype != INT8OID);
	if (blockers != NULL)
		return psprintf("Widen the columns (and the sequence) to bigint before it runs out.%s ALTER COLUMN TYPE fails while these depend on the columns: %s. Save their definitions, drop them, run %s and re-create them, in one transaction. Each ALTER TABLE rewrites its table under an ACCESS EXCLUSIVE lock: plan a window, or migrate through new columns.",
						refs_text, blockers, script);
	*fix = script;
	return psprintf("Widen the columns (and the sequence) to bigint before it runs out.%s Each ALTER TABLE rewrites its table under an ACCESS EXCLUSIVE lock: plan a window, or migrate through new columns.",
					refs_text);
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
	int64		last;
	char	   *object = dbopt_qualified_relname(seqid);
	double		used;
	char	   *colnames;
	char	   *fix;
	char	   *remediation;
	bool		judged_by_column;
	Oid			seqtype;

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
			feeds |= dbopt_integrity_oidset_contains(only, ((ObjectAddress *) lfirst(lc))->objectId);
		if (!feeds)
			return;
	}
	if (!read_last_value(run, seqid, object, &last))
		return;

	/*
	 * Most sequences are far from any limit: below 75% of the smallest one
	 * a column could impose (smallint's), skip the dependency lookups.
	 */
	{
		int64		floor = ascending ? Min(seqlimit, PG_INT16_MAX) : Max(seqlimit, PG_INT16_MIN);

		if (floor != 0 && (double) last / (double) floor < 0.75)
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
	judged_by_column = narrowest_limit(narrow, list_length(cols), ascending, &limit, &limit_by,
									   &colnames);
	if (limit == 0)
		return;
	used = (double) last / (double) limit;
	if (used < 0.75)
		return;

	/* Only the columns narrower than bigint need widening. */
	remediation = widen_remediation(narrow, referencing, seqid, seqtype, judged_by_column, &fix);
	dbopt_integrity_add_pending(run, used >= 0.90 ? DBOPT_CRITICAL : DBOPT_WARNING,
												"sequence_exhaustion", object,
												psprintf("Sequence %s is at %lld, %.1f%% of %s (%lld)%s%s.",
														 object, (long long) last, used * 100.0, limit_by,
														 (long long) limit,
														 colnames ? "; it feeds " : "", colnames ? colnames : ""),
												remediation, fix, false, 0, NULL);
}

/*
 * seqs with the sequences on the other side of classid/objid's pg_depend
 * rows added once each: the objects that depend on it (referenced) or
 * that it depends on.
 */
static List *
add_depend_sequences(List *seqs, Relation dep, bool referenced, Oid classid, Oid objid)
{
	SysScanDesc scan = depend_scan(dep, referenced, classid, objid, -1);
	HeapTuple	tup;

	while (HeapTupleIsValid(tup = systable_getnext(scan)))
	{
		Form_pg_depend d = (Form_pg_depend) GETSTRUCT(tup);
		Oid			other_class = referenced ? d->classid : d->refclassid;
		Oid			other = referenced ? d->objid : d->refobjid;

		if (other_class == RelationRelationId && get_rel_relkind(other) == RELKIND_SEQUENCE)
			seqs = list_append_unique_oid(seqs, other);
	}
	systable_endscan(scan);
	return seqs;
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
		ScanKeyData key;
		SysScanDesc scan;
		HeapTuple	tup;
		List	   *defaults = NIL;
		ListCell   *lc;

		CHECK_FOR_INTERRUPTS();
		seqs = add_depend_sequences(seqs, dep, true, RelationRelationId, tables->oids[i]);

		ScanKeyInit(&key, Anum_pg_attrdef_adrelid, BTEqualStrategyNumber,
					F_OIDEQ, ObjectIdGetDatum(tables->oids[i]));
		scan = systable_beginscan(adrel, AttrDefaultIndexId, true, NULL, 1, &key);
		while (HeapTupleIsValid(tup = systable_getnext(scan)))
			defaults = lappend_oid(defaults, ((Form_pg_attrdef) GETSTRUCT(tup))->oid);
		systable_endscan(scan);

		foreach(lc, defaults)
			seqs = add_depend_sequences(seqs, dep, false, AttrDefaultRelationId, lfirst_oid(lc));
	}
	table_close(adrel, AccessShareLock);
	table_close(dep, AccessShareLock);
	return seqs;
}

/*
 * The share of its range a sequence has handed out, judged as
 * check_sequence() judges it: the last value over the nearest limit, its
 * own or that of the narrowest column it feeds directly or through foreign
 * keys; 0 when it has handed out nothing.  Read as the caller or, for a
 * member of pg_read_all_stats, as the owner.  False when it cannot be read.
 */
bool
dbopt_sequence_used_fraction(Oid seqid, double *used)
{
	HeapTuple	tup = SearchSysCache1(SEQRELID, ObjectIdGetDatum(seqid));
	bool		ascending;
	int64		limit;
	const char *limit_by;
	char	   *colnames;
	List	   *cols;
	List	   *narrow = NIL;
	ListCell   *lc;
	SeqUnit		u;
	DboptUnitError err;
	Oid			as_role;

	if (!HeapTupleIsValid(tup))
		return false;
	ascending = ((Form_pg_sequence) GETSTRUCT(tup))->seqincrement > 0;
	limit = ascending ? ((Form_pg_sequence) GETSTRUCT(tup))->seqmax :
		((Form_pg_sequence) GETSTRUCT(tup))->seqmin;
	ReleaseSysCache(tup);

	if (pg_class_aclcheck(seqid, GetUserId(), ACL_SELECT | ACL_USAGE) == ACLCHECK_OK)
		as_role = InvalidOid;
	else if (has_privs_of_role(GetUserId(), ROLE_PG_READ_ALL_STATS))
		as_role = dbopt_unit_owner(seqid);
	else
		return false;
	u.seqid = seqid;
	if (!dbopt_run_unit(seq_unit, &u, as_role, 0, dbopt_check_timeout_ms, &err))
		return false;

	cols = sequence_columns(seqid);
	foreach(lc, cols)
	{
		ColRef	   *c = palloc(sizeof(ColRef));

		c->relid = ((ObjectAddress *) lfirst(lc))->objectId;
		c->attnum = ((ObjectAddress *) lfirst(lc))->objectSubId;
		narrow = lappend(narrow, c);
	}
	add_referencing_columns(&narrow);
	(void) narrowest_limit(narrow, list_length(cols), ascending, &limit, &limit_by, &colnames);
	if (limit == 0)
		return false;
	*used = u.isnull ? 0.0 : (double) u.last / (double) limit;
	return true;
}

void
dbopt_integrity_check_sequences(IntegrityRun *run, const OidSet *only)
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
			dbopt_integrity_flush_pending(run);
			MemoryContextReset(seqcxt);
		}
		MemoryContextSwitchTo(old);
		MemoryContextDelete(seqcxt);
	}
}
