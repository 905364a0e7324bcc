/*-------------------------------------------------------------------------
 *
 * partition_migrate.c
 *	  Partitioning an existing table online: partition_table() (the plan),
 *	  CALL run_partition_migration() (create, capture, copy, replay,
 *	  verify, swap), finish_partition_migration() and
 *	  undo_partition_migration().
 *
 * The plan is built from the catalogs and recorded step by step in
 * dbopt.partition_migration_steps; a run carries out the steps not yet
 * done, each in its own transaction, so that a run stopped by an error, a
 * cancel or a crash resumes where it stopped.  Writes to the original
 * during the copy are captured by a trigger (the key of every row
 * written, in dbopt.partition_migration_changes); replay deletes each
 * captured key from the copy and inserts the row the original holds now,
 * so applying a key twice, or after the copy took the row, ends the same.
 * The copy walks the primary key (keyset), one committed batch at a time,
 * and replay starts only once the copy is done, so the two never insert
 * the same key.
 *
 * Verification compares the row count and an order-independent checksum
 * (the sum of a hash of each row) of the original and the copy, leaving
 * out the keys captured but not yet replayed: dbopt reads those keys from
 * its log, and the table's owner compares the tables with the keys as a
 * parameter, both in one registered snapshot.  The swap then replays the
 * keys left under lock and compares them alone.  The swap is one
 * transaction under dbopt.lock_timeout, retried a few times.
 *
 * Everything that reads or writes the user's tables runs as the table's
 * owner under SECURITY_RESTRICTED_OPERATION with a pinned search_path
 * (dbopt_run_unit); dbopt's owner only reads and writes dbopt's own tables
 * (and owns the capture triggers' functions, which write its log).
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/genam.h"
#include "access/nbtree.h"
#include "access/htup_details.h"
#include "access/relation.h"
#include "access/table.h"
#include "access/transam.h"
#include "access/xact.h"
#include "catalog/dependency.h"
#include "catalog/indexing.h"
#include "catalog/namespace.h"
#include "catalog/pg_am.h"
#include "catalog/pg_class.h"
#include "catalog/pg_constraint.h"
#include "catalog/pg_depend.h"
#include "catalog/pg_index.h"
#include "catalog/pg_inherits.h"
#include "catalog/pg_namespace.h"
#include "catalog/pg_partitioned_table.h"
#include "catalog/pg_policy.h"
#include "catalog/pg_proc.h"
#include "catalog/pg_publication.h"
#include "catalog/pg_publication_rel.h"
#include "catalog/pg_rewrite.h"
#include "catalog/pg_statistic_ext.h"
#include "catalog/pg_trigger.h"
#include "catalog/pg_type.h"
#include "commands/comment.h"
#include "commands/defrem.h"
#include "commands/tablespace.h"
#include "executor/spi.h"
#include "funcapi.h"
#include "lib/stringinfo.h"
#include "mb/pg_wchar.h"
#include "miscadmin.h"
#include "nodes/makefuncs.h"
#include "nodes/nodeFuncs.h"
#include "nodes/parsenodes.h"
#include "pgstat.h"
#include "storage/latch.h"
#include "storage/lock.h"
#include "utils/acl.h"
#include "utils/builtins.h"
#include "utils/date.h"
#include "utils/fmgroids.h"
#include "utils/guc.h"
#include "utils/jsonb.h"
#include "utils/lsyscache.h"
#include "utils/memutils.h"
#include "utils/regproc.h"
#include "utils/rel.h"
#include "utils/ruleutils.h"
#include "utils/snapmgr.h"
#include "utils/syscache.h"
#include "utils/timestamp.h"
#include "utils/typcache.h"

#include "dbopt/compat.h"
#include "dbopt/dbopt.h"
#include "dbopt/isolate.h"
#include "dbopt/partitions_internal.h"
#include "dbopt/util.h"

#define OPERATION "partition_migration"
#define CAPTURE_TRIGGER "dbopt_partition_capture"
#define GUARD_TRIGGER "dbopt_partition_no_truncate"
#define SWAP_ATTEMPTS 3
#define MAX_NEW_PARTITIONS 2000

/* Who runs a step: the table's owner, the extension owner, or the run itself. */
typedef enum RunAs
{
	RA_OWNER,
	RA_DBOPT,
	RA_NONE
} RunAs;

static const char *const run_as_names[] = {"owner", "dbopt", "none"};

typedef struct MStep
{
	int			step;
	char	   *phase;
	char	   *action;
	char	   *object;
	char	   *detail;
	char	   *sql;
	RunAs		run_as;
	bool		done;
} MStep;

/* Everything a migration needs to know about its table, built once. */
typedef struct Mig
{
	int64		id;
	Oid			relid;
	Oid			nsp;
	Oid			owner;
	char	   *nspname;
	char	   *relname;
	char	   *qname;			/* the original's name: after the swap, the copy's */
	char	   *copy_relname;
	Oid			copy_relid;		/* the copy made, once made (recorded) */
	char	   *copy_qname;
	char	   *premig_relname;
	char	   *premig_qname;
	char	   *column;
	char	   *interval;
	int			premake;
	int			batch_size;
	KeyInfo		key;
	Step		stepsize;
	int			npk;
	char	  **pkcols;			/* quoted */
	char	  **pknames;		/* raw */
	char	  **pktypes;		/* qualified type names, for casts from text */
	Oid		   *pktypids;		/* the key columns' types as planned */
	char	   *cols;			/* every live column, quoted */
	char	   *ins_cols;		/* without the generated ones */
	char	   *bounds_array;	/* partition bounds, for width_bucket() */
	char	   *part_with;		/* the original's storage parameters, for each partition */
	const char *row_hash;		/* a row's 64-bit hash, as SQL over alias t */
	int			nparts;
	char	   *capture_fn;		/* qualified */
	char	   *reverse_fn;
	List	   *taken;			/* names planned in the schema */
	List	   *steps;
	bool		dry_run;
} Mig;

/* ---------- small helpers ---------- */

static char *
qualify(const char *nspname, const char *relname)
{
	return psprintf("%s.%s", quote_identifier(nspname), quote_identifier(relname));
}

static void
add_step(Mig *m, const char *phase, const char *action, const char *object, RunAs run_as,
		 const char *sql, const char *fmt,...) pg_attribute_printf(7, 8);

static void
add_step(Mig *m, const char *phase, const char *action, const char *object, RunAs run_as,
		 const char *sql, const char *fmt,...)
{
	MStep	   *s = palloc0(sizeof(MStep));
	StringInfoData buf;

	initStringInfo(&buf);
	if (fmt)
	{
		for (;;)
		{
			va_list		args;
			int			needed;

			va_start(args, fmt);
			needed = appendStringInfoVA(&buf, fmt, args);
			va_end(args);
			if (needed == 0)
				break;
			enlargeStringInfo(&buf, needed);
		}
	}
	s->step = list_length(m->steps) + 1;
	s->phase = pstrdup(phase);
	s->action = pstrdup(action);
	s->object = object ? pstrdup(object) : NULL;
	s->detail = fmt ? buf.data : NULL;
	s->sql = sql ? pstrdup(sql) : NULL;
	s->run_as = run_as;
	m->steps = lappend(m->steps, s);
}

/* A name free in the schema and not yet planned: base, cut to fit, then suffix. */
static char *
free_name(Mig *m, const char *base, const char *suffix)
{
	int			n;

	for (n = 1;; n++)
	{
		char	   *s = n == 1 ? pstrdup(suffix) : psprintf("%s%d", suffix, n);
		int			keep = pg_mbcliplen(base, strlen(base), NAMEDATALEN - 1 - strlen(s));
		char	   *name = psprintf("%.*s%s", keep, base, s);
		ListCell   *lc;
		bool		used = OidIsValid(get_relname_relid(name, m->nsp));

		foreach(lc, m->taken)
			used = used || strcmp(lfirst(lc), name) == 0;
		if (!used)
		{
			m->taken = lappend(m->taken, name);
			return name;
		}
	}
}

static void
refuse(Mig *m, const char *detail, const char *hint)
{
	ereport(ERROR,
			(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
			 errmsg("cannot partition %s online", m->qname),
			 errdetail("%s", detail),
			 errhint("%s", hint)));
}

static char *
jsonb_key_expr(Mig *m, const char *alias)
{
	StringInfoData buf;
	int			i;

	initStringInfo(&buf);
	appendStringInfoString(&buf, "pg_catalog.jsonb_build_object(");
	for (i = 0; i < m->npk; i++)
		appendStringInfo(&buf, "%s%s, %s.%s", i ? ", " : "", quote_literal_cstr(m->pknames[i]),
						 alias, m->pkcols[i]);
	appendStringInfoChar(&buf, ')');
	return buf.data;
}

/* Column i of the key held in the jsonb expression j, in its own type. */
static char *
key_value(Mig *m, const char *j, int i)
{
	return psprintf("pg_catalog.jsonb_extract_path_text(%s, %s)::%s", j,
					quote_literal_cstr(m->pknames[i]), m->pktypes[i]);
}

/* alias's key equals the key in jsonb j, column by column. */
static char *
key_match(Mig *m, const char *alias, const char *j)
{
	StringInfoData buf;
	int			i;

	initStringInfo(&buf);
	for (i = 0; i < m->npk; i++)
		appendStringInfo(&buf, "%s%s.%s OPERATOR(pg_catalog.=) %s", i ? " AND " : "", alias,
						 m->pkcols[i], key_value(m, j, i));
	return buf.data;
}

static char *
pk_list(Mig *m, const char *alias, const char *suffix)
{
	StringInfoData buf;
	int			i;

	initStringInfo(&buf);
	for (i = 0; i < m->npk; i++)
		appendStringInfo(&buf, "%s%s%s%s%s", i ? ", " : "", alias ? alias : "", alias ? "." : "",
						 m->pkcols[i], suffix ? suffix : "");
	return buf.data;
}

/*
 * The statement of one copy batch: the batch_size rows after the last key
 * copied ($1, a jsonb object; NULL at first), inserted into the copy; it
 * returns how many, and the new last key.  SPI plans it for the values
 * given, so the NULL test folds away and the key bound uses the index.
 */
static char *
copy_sql(Mig *m)
{
	StringInfoData buf;
	int			i;

	initStringInfo(&buf);
	appendStringInfo(&buf, "WITH i AS (INSERT INTO %s (%s) OVERRIDING SYSTEM VALUE SELECT %s FROM %s t"
					 " WHERE $1 IS NULL OR %s(%s) OPERATOR(pg_catalog.>) %s(",
					 m->copy_qname, m->ins_cols, m->ins_cols, m->qname,
					 m->npk > 1 ? "ROW" : "", pk_list(m, "t", NULL), m->npk > 1 ? "ROW" : "");
	for (i = 0; i < m->npk; i++)
		appendStringInfo(&buf, "%s%s", i ? ", " : "", key_value(m, "$1", i));
	/* the last key built once, not for each row the top-N sort reads */
	appendStringInfo(&buf, ") ORDER BY %s LIMIT $2 RETURNING %s)"
					 " SELECT (SELECT pg_catalog.count(*) FROM i),"
					 " (SELECT %s FROM (SELECT %s FROM i ORDER BY %s LIMIT 1) b)::pg_catalog.text",
					 pk_list(m, "t", NULL), pk_list(m, NULL, NULL),
					 jsonb_key_expr(m, "b"), pk_list(m, NULL, NULL), pk_list(m, NULL, " DESC"));
	return buf.data;
}

/*
 * The rows of src and dst per partition range: count and checksum, in
 * one statement.  $1 is a jsonb array of keys: with only, the keys to
 * compare; otherwise the keys captured and not yet replayed, left out.
 * The statement reads nothing of dbopt's, so it runs as the table owner.
 */
static char *
verify_sql(Mig *m, const char *src, const char *dst, bool only, bool per_range)
{
	const char *filter;
	const char *group = per_range ?
		psprintf("pg_catalog.width_bucket(t.%s, %s)", quote_identifier(m->column), m->bounds_array) : "0";

	filter = psprintf("%sEXISTS (SELECT FROM pg_catalog.jsonb_array_elements($1) e(k) WHERE %s)",
					  only ? "" : "NOT ", key_match(m, "t", "e.k"));
	/* sum() of bigint hashes is exact (numeric), and cheaper than summing numerics */
	if (!per_range)
		/* totals: no grouping or join, which cost twice the two scans */
		return psprintf("WITH o AS (SELECT pg_catalog.count(*) AS n, pg_catalog.sum(%s) AS h FROM %s t WHERE %s),"
						" c AS (SELECT pg_catalog.count(*) AS n, pg_catalog.sum(%s) AS h FROM %s t WHERE %s)"
						" SELECT 0, o.n, c.n, (o.n OPERATOR(pg_catalog.=) c.n AND o.h IS NOT DISTINCT FROM c.h) FROM o, c",
						m->row_hash, src, filter, m->row_hash, dst, filter);
	return psprintf("WITH o AS (SELECT %s AS b, pg_catalog.count(*) AS n, pg_catalog.sum(%s) AS h"
					" FROM %s t WHERE %s GROUP BY 1),"
					" c AS (SELECT %s AS b, pg_catalog.count(*) AS n, pg_catalog.sum(%s) AS h"
					" FROM %s t WHERE %s GROUP BY 1)"
					" SELECT COALESCE(o.b, c.b), COALESCE(o.n, 0), COALESCE(c.n, 0),"
					" (o.h IS NOT DISTINCT FROM c.h AND o.n IS NOT DISTINCT FROM c.n)"
					" FROM o FULL JOIN c ON o.b OPERATOR(pg_catalog.=) c.b ORDER BY 1",
					group, m->row_hash, src, filter, group, m->row_hash, dst, filter);
}

/* The body of a capture trigger function: the key of every row written. */
static char *
capture_fn_sql(Mig *m, const char *fname, bool reverse, const char *target)
{
	const char *ins = psprintf("INSERT INTO dbopt.partition_migration_changes (original, reverse, key) VALUES (%u, %s, ",
							   m->relid, reverse ? "true" : "false");
	StringInfoData guard;
	char	   *body;
	int			i;

	/*
	 * This function runs as dbopt's owner: a key whose type the table's
	 * owner changed since the plan (to one with a cast to json of theirs)
	 * must not reach jsonb_build_object().
	 */
	initStringInfo(&guard);
	for (i = 0; i < m->npk; i++)
		appendStringInfo(&guard, "%s(TG_OP <> 'INSERT' AND pg_catalog.pg_typeof(OLD.%s)::pg_catalog.oid OPERATOR(pg_catalog.<>) %u)"
						 " OR (TG_OP <> 'DELETE' AND pg_catalog.pg_typeof(NEW.%s)::pg_catalog.oid OPERATOR(pg_catalog.<>) %u)",
						 i ? " OR " : "", m->pkcols[i], m->pktypids[i], m->pkcols[i], m->pktypids[i]);
	body = psprintf("BEGIN\n"
								"  IF TG_OP = 'TRUNCATE' THEN\n"
								"    RAISE EXCEPTION 'cannot truncate %%: a partition migration is under way', TG_TABLE_NAME\n"
								"      USING HINT = 'Finish or undo the migration first (dbopt.finish_partition_migration, dbopt.undo_partition_migration).';\n"
								"  END IF;\n"
								"  IF %s THEN\n"
								"    RAISE EXCEPTION 'the primary key of %% changed type during a partition migration', TG_TABLE_NAME\n"
								"      USING HINT = 'Undo the migration (dbopt.undo_partition_migration) and plan it again.';\n"
								"  END IF;\n"
								"  IF TG_OP <> 'INSERT' THEN %s%s); END IF;\n"
								"  IF TG_OP <> 'DELETE' THEN %s%s); END IF;\n"
								"  RETURN NULL;\n"
								"END",
								guard.data, ins, jsonb_key_expr(m, "OLD"), ins, jsonb_key_expr(m, "NEW"));

	/*
	 * ALWAYS: writes under session_replication_role = replica (a
	 * subscription's apply worker, a restore with triggers disabled) must be
	 * captured too, or the copy swapped in lacks them.
	 */
	return psprintf("CREATE FUNCTION %s() RETURNS trigger LANGUAGE plpgsql SECURITY DEFINER"
					" SET search_path = pg_catalog, pg_temp AS %s;"
					" REVOKE ALL ON FUNCTION %s() FROM PUBLIC;"
					" COMMENT ON FUNCTION %s() IS %s;"
					" CREATE TRIGGER " CAPTURE_TRIGGER " AFTER INSERT OR UPDATE OR DELETE ON %s"
					" FOR EACH ROW EXECUTE FUNCTION %s();"
					" CREATE TRIGGER " GUARD_TRIGGER " BEFORE TRUNCATE ON %s"
					" FOR EACH STATEMENT EXECUTE FUNCTION %s();"
					" ALTER TABLE %s ENABLE ALWAYS TRIGGER " CAPTURE_TRIGGER ";"
					" ALTER TABLE %s ENABLE ALWAYS TRIGGER " GUARD_TRIGGER,
					fname, quote_literal_cstr(body), fname, fname,
					quote_literal_cstr(psprintf("dbopt partition migration of %s: captures the keys written%s",
												m->qname, reverse ? " after the swap, for undo" : "")),
					target, fname, target, fname, target, target);
}

static char *
drop_capture_sql(const char *fname, const char *target)
{
	return psprintf("DROP TRIGGER IF EXISTS " CAPTURE_TRIGGER " ON %s;"
					" DROP TRIGGER IF EXISTS " GUARD_TRIGGER " ON %s;"
					" DROP FUNCTION IF EXISTS %s()", target, target, fname);
}

/* ---------- the plan ---------- */

static bool
type_is_time(Oid t)
{
	return t == TIMESTAMPTZOID || t == TIMESTAMPOID || t == DATEOID;
}

/* The key of the future partitioned table, as partitions.c describes one. */
static void
load_migration_key(Mig *m, AttrNumber attnum, Oid atttype, Oid collation)
{
	KeyInfo    *k = &m->key;
	Oid			opclass;
	Oid			opfamily;
	Oid			cmpproc;

	memset(k, 0, sizeof(*k));
	k->parent = m->relid;
	k->strategy = PARTITION_STRATEGY_RANGE;
	k->attnum = attnum;
	k->attname = pstrdup(m->column);
	k->typid = getBaseType(atttype);
	k->is_time = type_is_time(k->typid);
	if (!k->is_time && k->typid != INT2OID && k->typid != INT4OID && k->typid != INT8OID)
		refuse(m, psprintf("Column %s has type %s, which dbopt cannot use as a range partition key.",
						   quote_identifier(m->column), format_type_be(atttype)),
			   "dbopt partitions by one timestamptz, timestamp, date, smallint, integer or bigint column.");
	get_typlenbyval(k->typid, &k->typlen, &k->typbyval);
	k->collation = collation;
	k->supported = true;
	opclass = GetDefaultOpClass(k->typid, BTREE_AM_OID);
	opfamily = get_opclass_family(opclass);
	cmpproc = get_opfamily_proc(opfamily, k->typid, k->typid, BTORDER_PROC);
	fmgr_info(cmpproc, &k->cmp);
}

/* Start of the interval-sized slot holding v. */
static Datum
anchor(Mig *m, Datum v)
{
	return dbopt_part_key_anchor(&m->key, v, &m->stepsize);
}

static char *
bound_suffix(Mig *m, Datum v)
{
	KeyInfo    *k = &m->key;
	Datum		f;

	if (!k->is_time)
		return psprintf("_p%lld", (long long) dbopt_part_int_value(k, v));
	f = CStringGetTextDatum(m->stepsize.iv->month == 0 && m->stepsize.iv->day == 0 ?
							"YYYYMMDD_HH24MI" : "YYYYMMDD");
	if (k->typid == TIMESTAMPTZOID)
		return psprintf("_p%s", TextDatumGetCString(DirectFunctionCall2(timestamptz_to_char, v, f)));
	if (k->typid == TIMESTAMPOID)
		return psprintf("_p%s", TextDatumGetCString(DirectFunctionCall2(timestamp_to_char, v, f)));
	return psprintf("_p%s", TextDatumGetCString(DirectFunctionCall2(timestamp_to_char,
																	DirectFunctionCall1(date_timestamp, v), f)));
}

typedef struct MinMax
{
	Mig		   *m;
	Datum		min;
	Datum		max;
	bool		empty;
} MinMax;

static void
minmax_unit(void *arg)
{
	MinMax	   *u = arg;
	bool		isnull;
	const char *col = quote_identifier(u->m->column);

	SPI_connect();
	if (SPI_execute(psprintf("SELECT pg_catalog.min(%s), pg_catalog.max(%s) FROM %s", col, col, u->m->qname),
					true, 0) != SPI_OK_SELECT)
		elog(ERROR, "could not read the range of %s", u->m->qname);
	u->min = SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1, &u->empty);
	u->max = SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 2, &isnull);
	if (!u->empty)
	{
		u->min = SPI_datumTransfer(u->min, u->m->key.typbyval, u->m->key.typlen);
		u->max = SPI_datumTransfer(u->max, u->m->key.typbyval, u->m->key.typlen);
	}
	SPI_finish();
}

/* The partitions: from the slot of the oldest row to the newest (or now), plus premake. */
static void
plan_partitions(Mig *m)
{
	MinMax		u;
	DboptUnitError err;
	KeyInfo    *k = &m->key;
	Bound		lo,
				hi,
				end;
	StringInfoData bounds;
	int			ahead = -1;
	const char *type = format_type_be_qualified(k->typid);

	memset(&u, 0, sizeof(u));
	u.m = m;
	if (!dbopt_run_unit(minmax_unit, &u, m->owner, 0, 0, &err))
		ereport(ERROR, (errcode(err.sqlerrcode), errmsg("%s", err.message),
						err.detail ? errdetail("%s", err.detail) : 0));
	lo.kind = hi.kind = end.kind = 0;
	if (u.empty)
		u.min = u.max = k->is_time ? dbopt_part_now_in_key(k) : (Datum) 0;
	if (!k->is_time && u.empty)
		(void) dbopt_part_int_datum(k, 0, &u.min), u.max = u.min;
	lo.value = anchor(m, u.min);
	end.value = u.max;
	if (k->is_time)
	{
		Bound		now = {0, dbopt_part_now_in_key(k)};

		if (dbopt_part_bound_cmp(k, &now, &end) > 0)
			end = now;
	}
	initStringInfo(&bounds);
	appendStringInfo(&bounds, "ARRAY[%s", quote_literal_cstr(dbopt_part_bound_text(k, &lo)));
	for (;;)
	{
		char	   *name;
		char	   *lo_text = dbopt_part_bound_text(k, &lo);
		char	   *hi_text;

		CHECK_FOR_INTERRUPTS();
		if (!dbopt_part_key_shift(k, lo.value, &m->stepsize, 1, 1, &hi.value))
			break;				/* the type's end: the default partition holds the rest */
		hi_text = dbopt_part_bound_text(k, &hi);
		name = free_name(m, m->relname, bound_suffix(m, lo.value));
		add_step(m, "setup", "create_partition", qualify(m->nspname, name), RA_OWNER,
				 psprintf("CREATE TABLE %s PARTITION OF %s FOR VALUES FROM (%s) TO (%s)%s",
						  qualify(m->nspname, name), m->copy_qname,
						  quote_literal_cstr(lo_text), quote_literal_cstr(hi_text), m->part_with),
				 "range [%s, %s)", lo_text, hi_text);
		appendStringInfo(&bounds, ", %s", quote_literal_cstr(hi_text));
		m->nparts++;
		if (m->nparts > MAX_NEW_PARTITIONS)
			refuse(m, psprintf("The rows of %s span more than %d partitions of %s (from %s to %s).",
							   quote_identifier(m->column), MAX_NEW_PARTITIONS, m->interval,
							   dbopt_part_bound_text(k, &(Bound) {0, u.min}),
							   dbopt_part_bound_text(k, &(Bound) {0, u.max})),
				   "Choose a wider partition_interval.");
		if (ahead < 0 && dbopt_part_bound_cmp(k, &hi, &end) > 0)
			ahead = 0;
		else if (ahead >= 0)
			ahead++;
		lo = hi;
		if (ahead >= m->premake)
			break;
	}
	appendStringInfo(&bounds, "]::%s[]", type);
	m->bounds_array = bounds.data;
	{
		char	   *def = free_name(m, m->relname, "_default");

		add_step(m, "setup", "create_partition", qualify(m->nspname, def), RA_OWNER,
				 psprintf("CREATE TABLE %s PARTITION OF %s DEFAULT%s", qualify(m->nspname, def), m->copy_qname, m->part_with),
				 "default partition: rows outside the planned ranges (such as rows written during the migration beyond them) land here");
	}
	if (u.empty)
		add_step(m, "setup", "note", m->qname, RA_NONE, NULL,
				 "the table is empty: partitions start at the current %s", k->is_time ? "time" : "value 0");
	else
		add_step(m, "setup", "note", m->qname, RA_NONE, NULL,
				 "%d partition(s) of %s from the data's range [%s, %s] plus %d ahead",
				 m->nparts, m->interval, dbopt_part_bound_text(k, &(Bound) {0, u.min}),
				 dbopt_part_bound_text(k, &(Bound) {0, u.max}), m->premake);
}

/* The relation a rewrite rule belongs to. */
static Oid
rule_relation(Oid ruleoid)
{
	Relation	rw = table_open(RewriteRelationId, AccessShareLock);
	ScanKeyData key;
	SysScanDesc scan;
	HeapTuple	tup;
	Oid			relid = InvalidOid;

	ScanKeyInit(&key, Anum_pg_rewrite_oid, BTEqualStrategyNumber, F_OIDEQ, ObjectIdGetDatum(ruleoid));
	scan = systable_beginscan(rw, RewriteOidIndexId, true, NULL, 1, &key);
	if (HeapTupleIsValid(tup = systable_getnext(scan)))
		relid = ((Form_pg_rewrite) GETSTRUCT(tup))->ev_class;
	systable_endscan(scan);
	table_close(rw, AccessShareLock);
	return relid;
}

static Oid
type_namespace(Oid typid)
{
	HeapTuple	tup = SearchSysCache1(TYPEOID, ObjectIdGetDatum(typid));
	Oid			nsp = InvalidOid;

	if (HeapTupleIsValid(tup))
	{
		nsp = ((Form_pg_type) GETSTRUCT(tup))->typnamespace;
		ReleaseSysCache(tup);
	}
	return nsp;
}

static char
constraint_type(Oid conoid)
{
	HeapTuple	tup = SearchSysCache1(CONSTROID, ObjectIdGetDatum(conoid));
	char		t = '\0';

	if (HeapTupleIsValid(tup))
	{
		t = ((Form_pg_constraint) GETSTRUCT(tup))->contype;
		ReleaseSysCache(tup);
	}
	return t;
}

/* Refuse a table that other objects read by OID: views, rules, SQL-body functions. */
static void
check_dependents(Mig *m)
{
	Relation	dep = table_open(DependRelationId, AccessShareLock);
	ScanKeyData key[2];
	SysScanDesc scan;
	HeapTuple	tup;

	ScanKeyInit(&key[0], Anum_pg_depend_refclassid, BTEqualStrategyNumber, F_OIDEQ,
				ObjectIdGetDatum(RelationRelationId));
	ScanKeyInit(&key[1], Anum_pg_depend_refobjid, BTEqualStrategyNumber, F_OIDEQ,
				ObjectIdGetDatum(m->relid));
	scan = systable_beginscan(dep, DependReferenceIndexId, true, NULL, 2, key);
	while (HeapTupleIsValid(tup = systable_getnext(scan)))
	{
		Form_pg_depend d = (Form_pg_depend) GETSTRUCT(tup);

		if (d->classid == RewriteRelationId)
		{
			Oid			owner = rule_relation(d->objid);
			if (owner == m->relid)
				refuse(m, "The table has rewrite rules, which cannot be carried to a partitioned table.",
					   "Drop the rules (or replace them with triggers) first.");
			refuse(m, psprintf("View %s reads the table; after the swap it would go on reading the original.",
							   OidIsValid(owner) ? dbopt_qualified_relname(owner) : "(unknown)"),
				   "Drop the dependent views and recreate them after the migration.");
		}
		if (d->classid == ProcedureRelationId)
			refuse(m, psprintf("Function %s (a SQL-standard body) reads the table by OID.",
							   format_procedure(d->objid)),
				   "Recreate the function with a string body, or after the migration.");
	}
	systable_endscan(scan);
	table_close(dep, AccessShareLock);
}

/* Built-in types whose text form reads back as the same value in any session. */
static bool
key_type_round_trips(Oid t)
{
	switch (t)
	{
		case BOOLOID:
		case INT2OID:
		case INT4OID:
		case INT8OID:
		case NUMERICOID:
		case OIDOID:
		case TEXTOID:
		case VARCHAROID:
		case BPCHAROID:
		case NAMEOID:
		case CHAROID:
		case UUIDOID:
		case BYTEAOID:
		case DATEOID:
		case TIMEOID:
		case TIMETZOID:
		case TIMESTAMPOID:
		case TIMESTAMPTZOID:
		case INETOID:
		case CIDROID:
		case MACADDROID:
		case MACADDR8OID:
		case BITOID:
		case VARBITOID:
		case PG_LSNOID:
			return true;
		default:
			return false;
	}
}

/* The primary key: its columns become the replay key; they must be plain built-in types. */
static void
load_pk(Mig *m, Relation rel)
{
	Oid			pkoid = RelationGetPrimaryKeyIndex(rel);
	HeapTuple	tup;
	Form_pg_index ind;
	int			i;

	if (!OidIsValid(pkoid))
		refuse(m, "The table has no primary key; change capture and replay find rows by their key.",
			   "Add a primary key first (ALTER TABLE ... ADD PRIMARY KEY, or USING INDEX of a unique index built CONCURRENTLY).");
	tup = SearchSysCache1(INDEXRELID, ObjectIdGetDatum(pkoid));
	if (!HeapTupleIsValid(tup))
		elog(ERROR, "cache lookup failed for index %u", pkoid);
	ind = (Form_pg_index) GETSTRUCT(tup);
	m->npk = ind->indnkeyatts;
	m->pkcols = palloc(sizeof(char *) * m->npk);
	m->pknames = palloc(sizeof(char *) * m->npk);
	m->pktypes = palloc(sizeof(char *) * m->npk);
	m->pktypids = palloc(sizeof(Oid) * m->npk);
	for (i = 0; i < m->npk; i++)
	{
		AttrNumber	a = ind->indkey.values[i];
		Form_pg_attribute att = TupleDescAttr(RelationGetDescr(rel), a - 1);
		Oid			base = getBaseType(att->atttypid);

		m->pknames[i] = pstrdup(NameStr(att->attname));
		m->pkcols[i] = pstrdup(quote_identifier(NameStr(att->attname)));
		/*
		 * Keys are converted to jsonb and cast from text by dbopt's owner:
		 * a type the owner made (an enum) may carry casts of its own.
		 */
		if (get_typ_typrelid(base) != InvalidOid || OidIsValid(get_element_type(base)) ||
			base >= FirstNormalObjectId || type_namespace(base) != PG_CATALOG_NAMESPACE)
			refuse(m, psprintf("Primary key column %s has type %s, which change capture cannot carry as a key.",
							   m->pkcols[i], format_type_be(att->atttypid)),
				   "dbopt carries keys of built-in scalar types and domains over them.");
		/*
		 * A key is captured as text in the writer's session and cast back in
		 * dbopt's: types whose text depends on session settings
		 * (extra_float_digits, IntervalStyle, lc_monetary, search_path for the
		 * reg* types) could come back as another key, so that replay and
		 * the swap's comparison miss the row written.
		 */
		if (!key_type_round_trips(base))
			refuse(m, psprintf("Primary key column %s has type %s, whose text form depends on session settings, so a captured key might not find its row again.",
							   m->pkcols[i], format_type_be(att->atttypid)),
				   "dbopt carries keys of integer, numeric, text, uuid, date and time, boolean, bytea, network and bit string types.");
		m->pktypids[i] = att->atttypid;
		/* cast to the base type: no domain CHECK to run on a key read back */
		m->pktypes[i] = format_type_be_qualified(base);
	}
	ReleaseSysCache(tup);
}

static bool
index_has_column(Oid indexoid, AttrNumber attnum, bool *expressions)
{
	HeapTuple	tup = SearchSysCache1(INDEXRELID, ObjectIdGetDatum(indexoid));
	Form_pg_index ind = (Form_pg_index) GETSTRUCT(tup);
	bool		found = false;
	int			i;

	*expressions = false;
	for (i = 0; i < ind->indnkeyatts; i++)
	{
		if (ind->indkey.values[i] == attnum)
			found = true;
		if (ind->indkey.values[i] == 0)
			*expressions = true;
	}
	ReleaseSysCache(tup);
	return found;
}

/* Key columns of an index, quoted, comma separated. */
static char *
index_key_columns(Oid indexoid, Oid relid)
{
	HeapTuple	tup = SearchSysCache1(INDEXRELID, ObjectIdGetDatum(indexoid));
	Form_pg_index ind = (Form_pg_index) GETSTRUCT(tup);
	StringInfoData buf;
	int			i;

	initStringInfo(&buf);
	for (i = 0; i < ind->indnkeyatts; i++)
		appendStringInfo(&buf, "%s%s", i ? ", " : "",
						 quote_identifier(get_attname(relid, ind->indkey.values[i], false)));
	ReleaseSysCache(tup);
	return buf.data;
}

/* Rename of an original index or constraint out of the way, and back on undo. */
static void
plan_index_names(Mig *m, const char *oldname, const char *tmpname, bool is_constraint)
{
	char	   *premig = free_name(m, oldname, "_premig");
	const char *q_old = quote_identifier(oldname);
	const char *q_tmp = quote_identifier(tmpname);
	const char *q_pre = quote_identifier(premig);

	if (is_constraint)
	{
		add_step(m, "swap", "rename_constraint", qualify(m->nspname, oldname), RA_OWNER,
				 psprintf("ALTER TABLE %s RENAME CONSTRAINT %s TO %s", m->premig_qname, q_old, q_pre),
				 "the original's %s becomes %s", q_old, q_pre);
		add_step(m, "swap", "rename_constraint", qualify(m->nspname, tmpname), RA_OWNER,
				 psprintf("ALTER TABLE %s RENAME CONSTRAINT %s TO %s", m->qname, q_tmp, q_old), NULL);
		add_step(m, "undo", "rename_constraint", qualify(m->nspname, oldname), RA_OWNER,
				 psprintf("ALTER TABLE %s RENAME CONSTRAINT %s TO %s", m->copy_qname, q_old, q_tmp), NULL);
		add_step(m, "undo", "rename_constraint", qualify(m->nspname, premig), RA_OWNER,
				 psprintf("ALTER TABLE %s RENAME CONSTRAINT %s TO %s", m->qname, q_pre, q_old), NULL);
	}
	else
	{
		add_step(m, "swap", "rename_index", qualify(m->nspname, oldname), RA_OWNER,
				 psprintf("ALTER INDEX %s RENAME TO %s", qualify(m->nspname, oldname), q_pre),
				 "the original's index %s becomes %s", q_old, q_pre);
		add_step(m, "swap", "rename_index", qualify(m->nspname, tmpname), RA_OWNER,
				 psprintf("ALTER INDEX %s RENAME TO %s", qualify(m->nspname, tmpname), q_old), NULL);
		add_step(m, "undo", "rename_index", qualify(m->nspname, oldname), RA_OWNER,
				 psprintf("ALTER INDEX %s RENAME TO %s", qualify(m->nspname, oldname), q_tmp), NULL);
		add_step(m, "undo", "rename_index", qualify(m->nspname, premig), RA_OWNER,
				 psprintf("ALTER INDEX %s RENAME TO %s", qualify(m->nspname, premig), q_old), NULL);
	}
}

static char *
comment_step_sql(const char *kind, const char *name, Oid objid, Oid classid)
{
	char	   *c = GetComment(objid, classid, 0);

	return c ? psprintf("COMMENT ON %s %s IS %s", kind, name, quote_literal_cstr(c)) : NULL;
}

/* Primary key, unique constraints and indexes, built on the copy after the copy. */
/* The storage parameters of relid as "prefix.name = 'value'" items of a WITH list. */
static void
append_reloptions(StringInfo buf, Oid relid, const char *prefix)
{
	HeapTuple	tup = SearchSysCache1(RELOID, ObjectIdGetDatum(relid));
	bool		isnull;
	Datum		d;
	Datum	   *elems;
	int			n,
				i;

	if (!HeapTupleIsValid(tup))
		return;
	d = SysCacheGetAttr(RELOID, tup, Anum_pg_class_reloptions, &isnull);
	if (!isnull)
	{
		deconstruct_array(DatumGetArrayTypeP(d), TEXTOID, -1, false, TYPALIGN_INT, &elems, NULL, &n);
		for (i = 0; i < n; i++)
		{
			char	   *opt = TextDatumGetCString(elems[i]);
			char	   *eq = strchr(opt, '=');

			if (eq == NULL)
				continue;
			*eq = '\0';
			appendStringInfo(buf, "%s%s%s = %s", buf->len ? ", " : "", prefix, quote_identifier(opt),
							 quote_literal_cstr(eq + 1));
		}
	}
	ReleaseSysCache(tup);
}

/* Appends "; COMMENT ON ..." to sql when the object has a comment. */
static char *
with_comment(char *sql, const char *kind, const char *name, Oid objid, Oid classid)
{
	char	   *c = comment_step_sql(kind, name, objid, classid);

	return c ? psprintf("%s; %s", sql, c) : sql;
}

static void
plan_indexes(Mig *m, Relation rel)
{
	List	   *indexes = RelationGetIndexList(rel);
	ListCell   *lc;
	const char *col = quote_identifier(m->column);

	foreach(lc, indexes)
	{
		Oid			idx = lfirst_oid(lc);
		HeapTuple	tup = SearchSysCache1(INDEXRELID, ObjectIdGetDatum(idx));
		Form_pg_index ind = (Form_pg_index) GETSTRUCT(tup);
		Oid			con = get_index_constraint(idx);
		char	   *name = get_rel_name(idx);
		char	   *tmp;
		bool		expr;
		bool		has = index_has_column(idx, m->key.attnum, &expr);
		bool		isunique = ind->indisunique;
		bool		isprimary = ind->indisprimary;
		bool		valid = ind->indisvalid;
		bool		nnd = dbopt_index_nulls_not_distinct(ind);
		char	   *comment;

		ReleaseSysCache(tup);
		CHECK_FOR_INTERRUPTS();
		if (!valid)
		{
			add_step(m, "index", "skip_index", qualify(m->nspname, name), RA_NONE, NULL,
					 "invalid index (a failed CREATE INDEX CONCURRENTLY) is not carried over");
			continue;
		}
		tmp = free_name(m, name, "_pm");
		if (OidIsValid(con) && constraint_type(con) == CONSTRAINT_EXCLUSION)
			refuse(m, psprintf("Exclusion constraint %s cannot be carried to a partitioned table unless it compares %s by equality.",
							   quote_identifier(name), col),
				   "Drop the exclusion constraint, or replace it, before partitioning.");
		if (OidIsValid(con) && (isprimary || constraint_type(con) == CONSTRAINT_UNIQUE))
		{
			char	   *def = pg_get_constraintdef_command(con);
			char	   *cols = index_key_columns(idx, m->relid);
			char	   *deferrable = strstr(def, " DEFERRABLE") ? pstrdup(strstr(def, " DEFERRABLE")) : "";

			if (!has)
				cols = psprintf("%s, %s", cols, col);
			add_step(m, "index", isprimary ? "primary_key" : "unique_constraint", qualify(m->nspname, name),
					 RA_OWNER,
					 with_comment(psprintf("ALTER TABLE %s ADD CONSTRAINT %s %s%s (%s)%s", m->copy_qname, quote_identifier(tmp),
										   isprimary ? "PRIMARY KEY" : "UNIQUE", nnd ? " NULLS NOT DISTINCT" : "", cols, deferrable),
								  "CONSTRAINT", psprintf("%s ON %s", quote_identifier(tmp), m->copy_qname), con,
								  ConstraintRelationId),
					 has ? "carried over as it is (it holds %s)" :
					 "becomes (%s): PostgreSQL requires the partition column in every unique key of a partitioned table, so uniqueness is enforced per partition range only",
					 has ? col : cols);
			plan_index_names(m, name, tmp, true);
		}
		else
		{
			char	   *def = pg_get_indexdef_string(idx);
			char	   *prefix = psprintf("CREATE %sINDEX %s ON %s ", isunique ? "UNIQUE " : "",
										  quote_identifier(name), m->qname);

			if (strncmp(def, prefix, strlen(prefix)) != 0)
				elog(ERROR, "unexpected definition of index %s: %s", name, def);
			if (isunique && !has)
			{
				if (expr)
					refuse(m, psprintf("Unique index %s is on expressions and lacks %s, which a unique index of a partitioned table must hold.",
									   quote_identifier(name), col),
						   "Replace it with a unique index that includes the partition column, or drop it, first.");
				def = psprintf("CREATE UNIQUE INDEX %s ON %s USING btree (%s, %s)%s",
							   quote_identifier(tmp), m->copy_qname, index_key_columns(idx, m->relid), col,
							   strstr(def, " WHERE ") ? strstr(def, " WHERE ") : "");
				add_step(m, "index", "unique_index", qualify(m->nspname, name), RA_OWNER, def,
						 "becomes unique on (%s, %s): the partition column must be in every unique index of a partitioned table",
						 index_key_columns(idx, m->relid), col);
			}
			else
				add_step(m, "index", "index", qualify(m->nspname, name), RA_OWNER,
						 psprintf("CREATE %sINDEX %s ON %s %s", isunique ? "UNIQUE " : "", quote_identifier(tmp),
								  m->copy_qname, def + strlen(prefix)),
						 "carried over as it is");
			plan_index_names(m, name, tmp, false);
		}
		comment = comment_step_sql("INDEX", qualify(m->nspname, name), idx, RelationRelationId);
		if (comment)
			add_step(m, "swap", "comment", qualify(m->nspname, name), RA_OWNER, comment, NULL);
	}
}

static const char *
trigger_enable_clause(char e)
{
	return e == TRIGGER_FIRES_ALWAYS ? "ENABLE ALWAYS" : e == TRIGGER_FIRES_ON_REPLICA ? "ENABLE REPLICA" :
		e == TRIGGER_DISABLED ? "DISABLE" : "ENABLE";
}

/*
 * User triggers: created on the copy at the swap (so that none fires
 * during the copy or replay), and disabled on the original so that undo's
 * carrying back does not fire them twice.
 */
static void
plan_triggers(Mig *m)
{
	Relation	tg = table_open(TriggerRelationId, AccessShareLock);
	ScanKeyData key;
	SysScanDesc scan;
	HeapTuple	tup;

	ScanKeyInit(&key, Anum_pg_trigger_tgrelid, BTEqualStrategyNumber, F_OIDEQ, ObjectIdGetDatum(m->relid));
	scan = systable_beginscan(tg, TriggerRelidNameIndexId, true, NULL, 1, &key);
	while (HeapTupleIsValid(tup = systable_getnext(scan)))
	{
		Form_pg_trigger t = (Form_pg_trigger) GETSTRUCT(tup);
		char	   *name = NameStr(t->tgname);
		char	   *def;
		const char *q = quote_identifier(name);
		bool		isnull;

		if (t->tgisinternal)
			continue;
		if (strcmp(name, CAPTURE_TRIGGER) == 0 || strcmp(name, GUARD_TRIGGER) == 0)
			refuse(m, psprintf("The table already has a trigger named %s.", q),
				   "A partition migration is under way, or was left half done; see dbopt.partition_migrations.");
		if (OidIsValid(t->tgconstraint))
			refuse(m, psprintf("Constraint trigger %s cannot be carried over by dbopt.", q),
				   "Drop it before the migration and recreate it on the partitioned table afterwards.");
		(void) heap_getattr(tup, Anum_pg_trigger_tgnewtable, RelationGetDescr(tg), &isnull);
		if (!isnull && TRIGGER_FOR_ROW(t->tgtype))
			refuse(m, psprintf("Row trigger %s uses transition tables, which partitioned tables do not allow on row triggers.", q),
				   "Make it a statement trigger, or drop it before the migration.");
		(void) heap_getattr(tup, Anum_pg_trigger_tgoldtable, RelationGetDescr(tg), &isnull);
		if (!isnull && TRIGGER_FOR_ROW(t->tgtype))
			refuse(m, psprintf("Row trigger %s uses transition tables, which partitioned tables do not allow on row triggers.", q),
				   "Make it a statement trigger, or drop it before the migration.");
		def = TextDatumGetCString(DirectFunctionCall1(pg_get_triggerdef, ObjectIdGetDatum(t->oid)));
		def = with_comment(def, "TRIGGER", psprintf("%s ON %s", q, m->qname), t->oid, TriggerRelationId);
		add_step(m, "swap", "trigger", psprintf("%s on %s", q, m->qname), RA_OWNER,
				 t->tgenabled == TRIGGER_FIRES_ON_ORIGIN ? def :
				 psprintf("%s; ALTER TABLE %s %s TRIGGER %s", def, m->qname, trigger_enable_clause(t->tgenabled), q),
				 "created on the partitioned table at the swap, not before, so that it does not fire for copied or replayed rows");
		if (t->tgenabled != TRIGGER_DISABLED)
		{
			add_step(m, "swap", "disable_trigger", psprintf("%s on %s", q, m->premig_qname), RA_OWNER,
					 psprintf("ALTER TABLE %s DISABLE TRIGGER %s", m->premig_qname, q),
					 "kept disabled on the original, so that carrying writes back on undo does not fire it twice");
			add_step(m, "undo", "enable_trigger", psprintf("%s on %s", q, m->qname), RA_OWNER,
					 psprintf("ALTER TABLE %s %s TRIGGER %s", m->qname, trigger_enable_clause(t->tgenabled), q), NULL);
		}
	}
	systable_endscan(scan);
	table_close(tg, AccessShareLock);
}

static const char *
privilege_names[] = {"INSERT", "SELECT", "UPDATE", "DELETE", "TRUNCATE", "REFERENCES", "TRIGGER"};
static const AclMode privilege_bits[] = {ACL_INSERT, ACL_SELECT, ACL_UPDATE, ACL_DELETE, ACL_TRUNCATE,
ACL_REFERENCES, ACL_TRIGGER};

/* GRANT statements for an ACL (of the table, or of one column when column != NULL). */
static void
plan_acl(Mig *m, Datum acldatum, const char *column, StringInfo out)
{
	Acl		   *acl = DatumGetAclPCopy(acldatum);
	AclItem    *items = ACL_DAT(acl);
	int			i,
				p;

	for (i = 0; i < ACL_NUM(acl); i++)
	{
		AclItem    *it = &items[i];
		const char *grantee;

		if (it->ai_grantee == m->owner && column == NULL)
			continue;			/* the owner's own rights come with ownership */
		grantee = it->ai_grantee == ACL_ID_PUBLIC ? "PUBLIC" :
			quote_identifier(GetUserNameFromId(it->ai_grantee, false));
		for (p = 0; p < lengthof(privilege_bits); p++)
		{
			if (!(ACLITEM_GET_PRIVS(*it) & privilege_bits[p]))
				continue;
			appendStringInfo(out, "%sGRANT %s%s%s%s ON %s TO %s%s", out->len ? "; " : "",
							 privilege_names[p], column ? " (" : "", column ? quote_identifier(column) : "",
							 column ? ")" : "", m->qname, grantee,
							 (ACLITEM_GET_GOPTIONS(*it) & privilege_bits[p]) ? " WITH GRANT OPTION" : "");
		}
	}
}

static void
plan_grants(Mig *m, Relation rel)
{
	HeapTuple	tup = SearchSysCache1(RELOID, ObjectIdGetDatum(m->relid));
	bool		isnull;
	Datum		acl = SysCacheGetAttr(RELOID, tup, Anum_pg_class_relacl, &isnull);
	StringInfoData buf;
	int			i;

	initStringInfo(&buf);
	if (!isnull)
		plan_acl(m, acl, NULL, &buf);
	ReleaseSysCache(tup);
	for (i = 0; i < RelationGetDescr(rel)->natts; i++)
	{
		Form_pg_attribute att = TupleDescAttr(RelationGetDescr(rel), i);
		HeapTuple	at;

		if (att->attisdropped)
			continue;
		at = SearchSysCache2(ATTNUM, ObjectIdGetDatum(m->relid), Int16GetDatum(att->attnum));
		acl = SysCacheGetAttr(ATTNUM, at, Anum_pg_attribute_attacl, &isnull);
		if (!isnull)
			plan_acl(m, acl, NameStr(att->attname), &buf);
		ReleaseSysCache(at);
	}
	if (buf.len > 0)
		add_step(m, "swap", "grants", m->qname, RA_OWNER, buf.data,
				 "the original's table and column privileges (granted anew by the owner)");
}

static void
plan_policies(Mig *m, Relation rel)
{
	Relation	pol = table_open(PolicyRelationId, AccessShareLock);
	ScanKeyData key;
	SysScanDesc scan;
	HeapTuple	tup;
	StringInfoData buf;

	if (rel->rd_rel->relforcerowsecurity)
		refuse(m, "The table has FORCE ROW LEVEL SECURITY, so its owner, who copies the rows, would see only some of them.",
			   "ALTER TABLE ... NO FORCE ROW LEVEL SECURITY for the migration; the plan sets it again at the swap.");
	initStringInfo(&buf);
	if (rel->rd_rel->relrowsecurity)
		appendStringInfo(&buf, "ALTER TABLE %s ENABLE ROW LEVEL SECURITY", m->qname);
	ScanKeyInit(&key, Anum_pg_policy_polrelid, BTEqualStrategyNumber, F_OIDEQ, ObjectIdGetDatum(m->relid));
	scan = systable_beginscan(pol, PolicyPolrelidPolnameIndexId, true, NULL, 1, &key);
	while (HeapTupleIsValid(tup = systable_getnext(scan)))
	{
		Form_pg_policy p = (Form_pg_policy) GETSTRUCT(tup);
		bool		isnull;
		Datum		roles = heap_getattr(tup, Anum_pg_policy_polroles, RelationGetDescr(pol), &isnull);
		Datum		qual = heap_getattr(tup, Anum_pg_policy_polqual, RelationGetDescr(pol), &isnull);
		bool		qual_null = isnull;
		Datum		check = heap_getattr(tup, Anum_pg_policy_polwithcheck, RelationGetDescr(pol), &isnull);
		bool		check_null = isnull;
		ArrayType  *arr = DatumGetArrayTypeP(roles);
		Datum	   *elems;
		int			n,
					i;
		StringInfoData to;
		const char *cmd = p->polcmd == '*' ? "ALL" : p->polcmd == 'r' ? "SELECT" : p->polcmd == 'a' ? "INSERT" :
			p->polcmd == 'w' ? "UPDATE" : "DELETE";

		deconstruct_array(arr, OIDOID, sizeof(Oid), true, TYPALIGN_INT, &elems, NULL, &n);
		initStringInfo(&to);
		for (i = 0; i < n; i++)
		{
			Oid			r = DatumGetObjectId(elems[i]);

			appendStringInfo(&to, "%s%s", i ? ", " : "",
							 r == ACL_ID_PUBLIC ? "PUBLIC" : quote_identifier(GetUserNameFromId(r, false)));
		}
		appendStringInfo(&buf, "%sCREATE POLICY %s ON %s AS %s FOR %s TO %s", buf.len ? "; " : "",
						 quote_identifier(NameStr(p->polname)), m->qname,
						 p->polpermissive ? "PERMISSIVE" : "RESTRICTIVE", cmd, to.data);
		if (!qual_null)
			appendStringInfo(&buf, " USING (%s)",
							 TextDatumGetCString(DirectFunctionCall2(pg_get_expr, qual, ObjectIdGetDatum(m->relid))));
		if (!check_null)
			appendStringInfo(&buf, " WITH CHECK (%s)",
							 TextDatumGetCString(DirectFunctionCall2(pg_get_expr, check, ObjectIdGetDatum(m->relid))));
		{
			char	   *c = comment_step_sql("POLICY", psprintf("%s ON %s", quote_identifier(NameStr(p->polname)), m->qname),
											 p->oid, PolicyRelationId);

			if (c)
				appendStringInfo(&buf, "; %s", c);
		}
	}
	systable_endscan(scan);
	table_close(pol, AccessShareLock);
	if (buf.len > 0)
		add_step(m, "swap", "row_security", m->qname, RA_OWNER, buf.data,
				 "row-level security and the original's policies, created at the swap");
}

/* Foreign keys out of the table and into it. */
static void
plan_foreign_keys(Mig *m)
{
	Relation	conrel = table_open(ConstraintRelationId, AccessShareLock);
	SysScanDesc scan;
	HeapTuple	tup;

	/* One pass over pg_constraint: a table's foreign keys in are not indexed by confrelid. */
	scan = systable_beginscan(conrel, InvalidOid, false, NULL, 0, NULL);
	while (HeapTupleIsValid(tup = systable_getnext(scan)))
	{
		Form_pg_constraint c = (Form_pg_constraint) GETSTRUCT(tup);
		char	   *def;
		const char *q;
		char	   *nv;

		if (c->contype != CONSTRAINT_FOREIGN || (c->conrelid != m->relid && c->confrelid != m->relid))
			continue;
		CHECK_FOR_INTERRUPTS();
		q = quote_identifier(NameStr(c->conname));
		def = pg_get_constraintdef_command(c->oid);
		/* "ALTER TABLE x ADD CONSTRAINT n FOREIGN KEY ...": keep the definition only */
		def = strstr(def, " FOREIGN KEY ");
		if (def == NULL)
			elog(ERROR, "unexpected definition of constraint %s", q);
		def = pstrdup(def + 1);
		if ((nv = strstr(def, " NOT VALID")) != NULL)
			*nv = '\0';
		if (c->conrelid == m->relid && c->confrelid == m->relid)
			refuse(m, psprintf("Foreign key %s references the table itself.", q),
				   "Drop it for the migration and add it again afterwards (NOT VALID, then VALIDATE).");
		if (c->conrelid == m->relid)
		{
			/*
			 * PostgreSQL 15 cannot add a NOT VALID foreign key to a
			 * partitioned table, and validating under the swap's lock
			 * would scan the whole table: it goes on the copy once the
			 * copy has caught up, validated there, before the swap.
			 */
			if (!c->convalidated)
				refuse(m, psprintf("Foreign key %s is NOT VALID; a partitioned table's foreign keys must be validated.", q),
					   "VALIDATE CONSTRAINT it first (or drop it).");
			add_step(m, "constrain", "foreign_key_out", psprintf("%s on %s", q, m->copy_qname), RA_OWNER,
					 with_comment(psprintf("ALTER TABLE %s ADD CONSTRAINT %s %s", m->copy_qname, q, def),
								  "CONSTRAINT", psprintf("%s ON %s", q, m->copy_qname), c->oid, ConstraintRelationId),
					 "added to the copy once it has caught up, and validated there (PostgreSQL 15 cannot add a NOT VALID foreign key to a partitioned table); until the swap, deleting a referenced row the copy still holds, before its replay, fails as it would on the original");
		}
		else
		{
			bool		isnull;
			Datum		confkey = heap_getattr(tup, Anum_pg_constraint_confkey, RelationGetDescr(conrel), &isnull);
			ArrayType  *arr = DatumGetArrayTypeP(confkey);
			int16	   *keys = (int16 *) ARR_DATA_PTR(arr);
			int			i,
						n = ARR_DIMS(arr)[0];
			bool		has = false;
			char	   *ref = dbopt_qualified_relname(c->conrelid);

			for (i = 0; i < n; i++)
				has = has || keys[i] == m->key.attnum;
			if (!has)
				refuse(m, psprintf("Foreign key %s of %s references a key of the table without %s; a partitioned table's unique keys must all hold the partition column, so it could not be re-pointed.",
								   q, ref, quote_identifier(m->column)),
					   "Add the partition column to the referencing table and to the foreign key (referencing a unique key that includes it), or drop the foreign key, before partitioning.");
			if (dbopt_relation_owner(c->conrelid) != m->owner)
				refuse(m, psprintf("Foreign key %s belongs to %s, which another role owns; re-pointing it needs its owner.", q, ref),
					   "Run the migration when both tables have the same owner, or drop the foreign key first.");
			add_step(m, "swap", "foreign_key_in", psprintf("%s on %s", q, ref), RA_OWNER,
					 with_comment(psprintf("ALTER TABLE %s DROP CONSTRAINT %s; ALTER TABLE %s ADD CONSTRAINT %s %s NOT VALID",
										   ref, q, ref, q, def),
								  "CONSTRAINT", psprintf("%s ON %s", q, ref), c->oid, ConstraintRelationId),
					 "re-pointed at the partitioned table (NOT VALID at the swap, validated right after)");
			add_step(m, "undo", "foreign_key_in", psprintf("%s on %s", q, ref), RA_OWNER,
					 psprintf("ALTER TABLE %s DROP CONSTRAINT %s", ref, q), NULL);
			add_step(m, "undo_late", "foreign_key_in", psprintf("%s on %s", q, ref), RA_OWNER,
					 with_comment(psprintf("ALTER TABLE %s ADD CONSTRAINT %s %s NOT VALID", ref, q, def),
								  "CONSTRAINT", psprintf("%s ON %s", q, ref), c->oid, ConstraintRelationId), NULL);
			if (c->convalidated)
			{
				add_step(m, "after", "validate", psprintf("%s on %s", q, ref), RA_OWNER,
						 psprintf("ALTER TABLE %s VALIDATE CONSTRAINT %s", ref, q), NULL);
				add_step(m, "undo_after", "validate", psprintf("%s on %s", q, ref), RA_OWNER,
						 psprintf("ALTER TABLE %s VALIDATE CONSTRAINT %s", ref, q), NULL);
			}
		}
	}
	systable_endscan(scan);
	table_close(conrel, AccessShareLock);
}

/* Sequences the table owns: serial ones change owner, identity ones carry their position. */
static void
plan_sequences(Mig *m)
{
	List	   *seqs = getOwnedSequences(m->relid);
	ListCell   *lc;

	foreach(lc, seqs)
	{
		Oid			seq = lfirst_oid(lc);
		Oid			tab;
		int32		col;
		char	   *seqname = dbopt_qualified_relname(seq);
		char	   *colname;

		if (sequenceIsOwned(seq, DEPENDENCY_AUTO, &tab, &col))
		{
			colname = get_attname(m->relid, col, false);
			add_step(m, "swap", "sequence", seqname, RA_OWNER,
					 psprintf("ALTER SEQUENCE %s OWNED BY %s.%s", seqname, m->qname, quote_identifier(colname)),
					 "the serial column's sequence (the default of both tables) moves to the partitioned table");
			add_step(m, "undo_late", "sequence", seqname, RA_OWNER,
					 psprintf("ALTER SEQUENCE %s OWNED BY %s.%s", seqname, m->qname, quote_identifier(colname)), NULL);
		}
		else if (sequenceIsOwned(seq, DEPENDENCY_INTERNAL, &tab, &col))
		{
			const char *lit_col;

			colname = get_attname(m->relid, col, false);
			lit_col = quote_literal_cstr(quote_identifier(colname));
			add_step(m, "swap", "identity", psprintf("%s.%s", m->qname, quote_identifier(colname)), RA_OWNER,
					 psprintf("SELECT pg_catalog.setval(pg_catalog.pg_get_serial_sequence(%s, %s), v, true)"
							  " FROM (SELECT pg_catalog.pg_sequence_last_value(%s::pg_catalog.regclass) v) s WHERE v IS NOT NULL",
							  quote_literal_cstr(m->qname), lit_col, quote_literal_cstr(seqname)),
					 "the identity column of the partitioned table (its own sequence, created by LIKE ... INCLUDING IDENTITY) continues from %s",
					 seqname);
			add_step(m, "undo_late", "identity", psprintf("%s.%s", m->qname, quote_identifier(colname)), RA_OWNER,
					 psprintf("SELECT pg_catalog.setval(%s::pg_catalog.regclass, v, true)"
							  " FROM (SELECT pg_catalog.pg_sequence_last_value(pg_catalog.pg_get_serial_sequence(%s, %s)::pg_catalog.regclass) v) s"
							  " WHERE v IS NOT NULL",
							  quote_literal_cstr(seqname), quote_literal_cstr(m->copy_qname), lit_col), NULL);
		}
	}
}

static void
plan_publications(Mig *m)
{
	List	   *pubs = GetRelationPublications(m->relid);
	ListCell   *lc;

	foreach(lc, pubs)
	{
		Oid			pub = lfirst_oid(lc);
		HeapTuple	tup = SearchSysCache2(PUBLICATIONRELMAP, ObjectIdGetDatum(m->relid), ObjectIdGetDatum(pub));
		char	   *pname = get_publication_name(pub, false);
		const char *q = quote_identifier(pname);

		if (HeapTupleIsValid(tup))
		{
			bool		nq,
						na;

			(void) SysCacheGetAttr(PUBLICATIONRELMAP, tup, Anum_pg_publication_rel_prqual, &nq);
			(void) SysCacheGetAttr(PUBLICATIONRELMAP, tup, Anum_pg_publication_rel_prattrs, &na);
			ReleaseSysCache(tup);
			if (!nq || !na)
				refuse(m, psprintf("Publication %s publishes the table with a row filter or a column list.", q),
					   "Remove the table from the publication for the migration and add it back afterwards.");
		}
		else
			continue;			/* FOR ALL TABLES or FOR TABLES IN SCHEMA: the new table is in it too */
		add_step(m, "swap", "publication", q, RA_DBOPT,
				 psprintf("ALTER PUBLICATION %s DROP TABLE %s; ALTER PUBLICATION %s ADD TABLE %s",
						  q, m->premig_qname, q, m->qname),
				 "the partitioned table takes the original's place in the publication (its changes are published per partition unless publish_via_partition_root)");
		add_step(m, "undo_late", "publication", q, RA_DBOPT,
				 psprintf("ALTER PUBLICATION %s DROP TABLE %s; ALTER PUBLICATION %s ADD TABLE %s",
						  q, m->copy_qname, q, m->qname), NULL);
	}
}

/*
 * A row's hash for the checksum: hash_record_extended() when every column
 * type has an extended hash function (twice as fast), else a hash of the
 * row's text.  Either compares rows by their types' equality.
 */
static const char *
row_hash_sql(Relation rel)
{
	TupleDesc	desc = RelationGetDescr(rel);
	StringInfoData row;
	bool		hashable = true;
	int			i;

	/*
	 * ROW(t.a, t.b, ...) rather than the whole-row t: on the partitioned
	 * copy, t would be converted to the parent's row type row by row (four
	 * times slower).
	 */
	initStringInfo(&row);
	for (i = 0; i < desc->natts; i++)
	{
		Form_pg_attribute att = TupleDescAttr(desc, i);
		TypeCacheEntry *tc;

		if (att->attisdropped)
			continue;
		appendStringInfo(&row, "%st.%s", row.len ? ", " : "", quote_identifier(NameStr(att->attname)));
		tc = lookup_type_cache(att->atttypid, TYPECACHE_HASH_EXTENDED_PROC);
		if (!OidIsValid(tc->hash_extended_proc))
			hashable = false;
	}
	return hashable ? psprintf("pg_catalog.hash_record_extended(ROW(%s), 0)", row.data) :
		psprintf("pg_catalog.hashtextextended(ROW(%s)::pg_catalog.text, 0)", row.data);
}

/*
 * dbopt's own settings keyed by the table's OID, moved at the swap to the
 * table that bears the name (to: InvalidOid), or on undo back from it to
 * the original (to: the original).  Runs as dbopt under the swap's locks.
 */
static char *
settings_sql(Mig *m, Oid to, const char *name)
{
	const char *now = psprintf("%s::pg_catalog.regclass", quote_literal_cstr(name));
	const char *from = OidIsValid(to) ? now : psprintf("%u::pg_catalog.oid", m->relid);
	const char *dest = OidIsValid(to) ? psprintf("%u::pg_catalog.oid", to) : now;

	return psprintf("UPDATE dbopt.retention_policies SET relation = %s WHERE relation OPERATOR(pg_catalog.=) %s;"
					" UPDATE dbopt.retention_policies SET archive_table = %s WHERE archive_table OPERATOR(pg_catalog.=) %s;"
					" UPDATE dbopt.sensitive_columns SET relation = %s WHERE relation OPERATOR(pg_catalog.=) %s",
					dest, from, dest, from, dest, from);
}

/*
 * Check everything and build the whole plan: the forward steps, and those
 * of finish and undo.  Nothing is changed.
 */
static void
build_plan(Mig *m)
{
	Relation	rel;
	AttrNumber	attnum;
	Form_pg_attribute att;
	char	   *comment;
	char		ident;
	int			nest;

	m->owner = dbopt_relation_owner(m->relid);
	m->nsp = get_rel_namespace(m->relid);
	m->nspname = get_namespace_name(m->nsp);
	m->relname = get_rel_name(m->relid);
	m->qname = qualify(m->nspname, m->relname);
	dbopt_require_owner(m->relid, "partition_table() rebuilds the table as a partitioned one; only its owner may.");

	/* Bounds are written as text and read back by another session: ISO, always. */
	nest = NewGUCNestLevel();
	dbopt_set_local_guc("DateStyle", "ISO, YMD");
	dbopt_set_local_guc("IntervalStyle", "postgres");

	rel = relation_open(m->relid, AccessShareLock);
	switch (rel->rd_rel->relkind)
	{
		case RELKIND_RELATION:
			break;
		case RELKIND_PARTITIONED_TABLE:
			refuse(m, "The table is partitioned already.",
				   "Use dbopt.manage_partitions() to have dbopt keep its partitions.");
			break;
		default:
			refuse(m, "It is not a table.", "partition_table() converts ordinary tables.");
	}
	if (rel->rd_rel->relpersistence == RELPERSISTENCE_UNLOGGED)
		refuse(m, "The table is unlogged; dbopt converts logged tables only, so that a crash cannot lose the copy.",
			   "ALTER TABLE ... SET LOGGED first, or partition it offline.");
	if (rel->rd_rel->relpersistence == RELPERSISTENCE_TEMP)
		refuse(m, "The table is temporary.", "Temporary tables live for a session; partition them offline.");
	if (rel->rd_rel->relispartition)
		refuse(m, "The table is a partition of another table.", "Partition the parent instead.");
	if (find_inheritance_children(m->relid, NoLock) != NIL)
		refuse(m, "The table has inheritance children, whose rows a partitioned table cannot hold.",
			   "Detach the children (ALTER TABLE child NO INHERIT ...) first.");
	if (has_superclass(m->relid) || OidIsValid(rel->rd_rel->reloftype))
		refuse(m, "The table inherits from another table or is a typed table.",
			   "Detach it (NO INHERIT, NOT OF) first.");
	if (rel->rd_rel->relhasrules)
		refuse(m, "The table has rewrite rules, which cannot be carried to a partitioned table.",
			   "Drop the rules (or replace them with triggers) first.");
	check_dependents(m);
	ident = rel->rd_rel->relreplident;
	if (ident == REPLICA_IDENTITY_INDEX)
		refuse(m, "The table's replica identity is an index; dbopt does not carry that over.",
			   "ALTER TABLE ... REPLICA IDENTITY DEFAULT (or FULL) for the migration and set it again afterwards.");

	attnum = dbopt_require_column(m->relid, m->column, "The partition column must be a column of the table.", NULL);
	att = TupleDescAttr(RelationGetDescr(rel), attnum - 1);
	load_migration_key(m, attnum, att->atttypid, att->attcollation);
	if (att->attgenerated)
		refuse(m, psprintf("Column %s is generated.", quote_identifier(m->column)),
			   "Partition by a stored, ordinary column.");
	if (!att->attnotnull)
		refuse(m, psprintf("Column %s may hold NULL; it is going to be part of the primary key, which cannot.",
						   quote_identifier(m->column)),
			   "ALTER TABLE ... ALTER COLUMN ... SET NOT NULL first (after filling any NULLs).");
	m->stepsize = dbopt_part_parse_step(&m->key, "partition_interval", m->interval, m->key.typid == DATEOID);
	/* manage_partitions() registers the table at the end: its limits apply now */
	if (dbopt_part_min_interval_problem(&m->stepsize))
		refuse(m, psprintf("Its %s.", dbopt_part_min_interval_problem(&m->stepsize)),
			   "Use a wider interval such as '1 day'.");
	load_pk(m, rel);
	m->cols = dbopt_column_names(RelationGetDescr(rel), false);
	m->ins_cols = dbopt_column_names(RelationGetDescr(rel), true);
	m->row_hash = row_hash_sql(rel);

	m->copy_relname = free_name(m, m->relname, "_migrating");
	m->copy_qname = qualify(m->nspname, m->copy_relname);
	m->premig_relname = free_name(m, m->relname, "_premigration");
	m->premig_qname = qualify(m->nspname, m->premig_relname);
	m->capture_fn = psprintf("dbopt.%s", quote_identifier(psprintf("partition_capture_%u", m->relid)));
	m->reverse_fn = psprintf("dbopt.%s", quote_identifier(psprintf("partition_capture_%u_undo", m->relid)));

	/* setup: the partitioned copy, without indexes, and its partitions */
	{
		StringInfoData with;
		Oid			spc = rel->rd_rel->reltablespace;

		initStringInfo(&with);
		append_reloptions(&with, m->relid, "");
		if (OidIsValid(rel->rd_rel->reltoastrelid))
			append_reloptions(&with, rel->rd_rel->reltoastrelid, "toast.");
		m->part_with = with.len ? psprintf(" WITH (%s)", with.data) : "";
		add_step(m, "setup", "create_table", m->copy_qname, RA_OWNER,
				 psprintf("CREATE TABLE %s (LIKE %s INCLUDING ALL EXCLUDING INDEXES) PARTITION BY RANGE (%s)%s%s",
						  m->copy_qname, m->qname, quote_identifier(m->column),
						  OidIsValid(spc) ? " TABLESPACE " : "",
						  OidIsValid(spc) ? quote_identifier(get_tablespace_name(spc)) : ""),
				 "columns, defaults, generated columns, identity, CHECK and NOT NULL constraints, column and CHECK comments, storage and statistics come with LIKE%s%s; indexes are built after the copy",
				 OidIsValid(spc) ? "; the table's tablespace becomes the partitions' default" : "",
				 with.len ? psprintf("; the partitions planned here get the table's storage parameters (%s), which a partitioned table cannot hold, so partitions made later by manage_partitions() do not",
									 with.data) : "");
	}
	add_step(m, "setup", "ownership", m->copy_qname, RA_NONE, NULL,
			 "the partitioned table and its partitions are created by, and owned by, %s, the original's owner",
			 quote_identifier(GetUserNameFromId(m->owner, false)));
	plan_partitions(m);
	add_step(m, "capture", "capture_trigger", m->qname, RA_DBOPT,
			 capture_fn_sql(m, m->capture_fn, false, m->qname),
			 "every insert, update and delete on the table from now on records the row's key for replay; TRUNCATE is refused until the migration ends");
	add_step(m, "copy", "copy", m->copy_qname, RA_NONE, copy_sql(m),
			 "rows copied in primary key order, %d per committed batch, pausing dbopt.retention_batch_delay between batches; resumable from the last key", m->batch_size);
	plan_indexes(m, rel);
	add_step(m, "replay", "replay", m->copy_qname, RA_NONE, NULL,
			 "the captured keys are applied to the copy: each key deleted and inserted again as the original holds it now");
	plan_foreign_keys(m);
	add_step(m, "verify", "verify", m->copy_qname, RA_NONE, verify_sql(m, m->qname, m->copy_qname, false, false),
			 "row count and checksum (the sum of a 64-bit hash of every row) equal in the original and the copy, in one snapshot; as every row's partition follows from its key, equal multisets of rows mean equal counts per partition range; a mismatch stops before the swap");
	add_step(m, "verify", "locate", m->copy_qname, RA_NONE, verify_sql(m, m->qname, m->copy_qname, false, true),
			 "only when the totals differ: the same per partition range, to say where");
	add_step(m, "swap_lock", "lock", m->qname, RA_NONE,
			 psprintf("LOCK TABLE %s, %s IN ACCESS EXCLUSIVE MODE", m->qname, m->copy_qname),
			 "one short transaction under dbopt.lock_timeout (retried %d times): the last captured keys replayed and compared, then the steps below", SWAP_ATTEMPTS);
	add_step(m, "swap_lock", "compare", m->copy_qname, RA_NONE, verify_sql(m, m->qname, m->copy_qname, true, true),
			 "the keys replayed under the lock compared between the original and the copy");
	add_step(m, "swap_first", "rename", m->qname, RA_OWNER,
			 psprintf("ALTER TABLE %s RENAME TO %s; ALTER TABLE %s RENAME TO %s", m->qname,
					  quote_identifier(m->premig_relname), m->copy_qname, quote_identifier(m->relname)),
			 "the original is kept as %s", m->premig_qname);
	plan_triggers(m);
	plan_policies(m, rel);
	plan_grants(m, rel);
	comment = comment_step_sql("TABLE", m->qname, m->relid, RelationRelationId);
	if (comment)
		add_step(m, "swap", "comment", m->qname, RA_OWNER, comment, NULL);
	if (ident == REPLICA_IDENTITY_FULL || ident == REPLICA_IDENTITY_NOTHING)
		add_step(m, "swap", "replica_identity", m->qname, RA_OWNER,
				 psprintf("ALTER TABLE %s REPLICA IDENTITY %s", m->qname, ident == REPLICA_IDENTITY_FULL ? "FULL" : "NOTHING"),
				 NULL);
	plan_sequences(m);
	plan_publications(m);
	add_step(m, "swap_last", "dbopt_settings", m->qname, RA_DBOPT, settings_sql(m, InvalidOid, m->qname),
			 "dbopt's settings of the table follow it: its retention policy (or its role as another's archive) and its sensitive columns");
	add_step(m, "swap_last", "capture_trigger", m->qname, RA_DBOPT,
			 capture_fn_sql(m, m->reverse_fn, true, m->qname),
			 "writes to the partitioned table are recorded too, so that undo can carry them back");
	add_step(m, "register", "register", m->qname, RA_OWNER,
			 psprintf("SELECT dbopt.manage_partitions(%s::pg_catalog.regclass, %s, %d)",
					  quote_literal_cstr(m->qname), quote_literal_cstr(m->interval), m->premake),
			 "dbopt keeps future partitions from now on (dbopt.partition_config)");

	/* finish */
	add_step(m, "finish", "drop_capture", m->premig_qname, RA_DBOPT, drop_capture_sql(m->capture_fn, m->premig_qname), NULL);
	add_step(m, "finish", "drop_capture", m->qname, RA_DBOPT, drop_capture_sql(m->reverse_fn, m->qname), NULL);
	add_step(m, "finish_drop", "drop_original", m->premig_qname, RA_OWNER,
			 psprintf("DROP TABLE %s", m->premig_qname), "only with drop_original => true");

	/* undo, besides the steps the planners above added */
	add_step(m, "undo_check", "compare", m->premig_qname, RA_NONE, verify_sql(m, m->qname, m->premig_qname, true, true),
			 "the writes since the swap carried back to the original, and compared");
	add_step(m, "undo_first", "drop_capture", m->premig_qname, RA_DBOPT, drop_capture_sql(m->capture_fn, m->premig_qname), NULL);
	add_step(m, "undo_first", "drop_capture", m->qname, RA_DBOPT, drop_capture_sql(m->reverse_fn, m->qname), NULL);
	add_step(m, "undo_first", "dbopt_settings", m->qname, RA_DBOPT, settings_sql(m, m->relid, m->qname), NULL);
	add_step(m, "undo_first", "unregister", m->qname, RA_DBOPT,
			 psprintf("DELETE FROM dbopt.partition_config WHERE parent OPERATOR(pg_catalog.=) %s::pg_catalog.regclass",
					  quote_literal_cstr(m->qname)), NULL);
	add_step(m, "undo_rename", "rename", m->qname, RA_OWNER,
			 psprintf("ALTER TABLE %s RENAME TO %s; ALTER TABLE %s RENAME TO %s", m->qname,
					  quote_identifier(m->copy_relname), m->premig_qname, quote_identifier(m->relname)), NULL);
	add_step(m, "undo_drop", "drop_copy", m->copy_qname, RA_OWNER, psprintf("DROP TABLE %s", m->copy_qname), NULL);

	relation_close(rel, AccessShareLock);
	AtEOXact_GUC(true, nest);
}

/* ---------- recording and loading a migration ---------- */

/* Phases partition_table() shows: the forward plan. */
static bool
forward_phase(const char *phase)
{
	return strncmp(phase, "finish", 6) != 0 && strncmp(phase, "undo", 4) != 0;
}

static void
put_step_row(ReturnSetInfo *rsinfo, int step, const char *action, const char *object,
			 const char *detail, const char *sql)
{
	Datum		values[5];
	bool		nulls[5] = {0};

	values[0] = Int32GetDatum(step);
	values[1] = CStringGetTextDatum(action);
	values[2] = object ? CStringGetTextDatum(object) : (Datum) 0;
	nulls[2] = object == NULL;
	values[3] = detail ? CStringGetTextDatum(detail) : (Datum) 0;
	nulls[3] = detail == NULL;
	values[4] = sql ? CStringGetTextDatum(sql) : (Datum) 0;
	nulls[4] = sql == NULL;
	tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc, values, nulls);
}

static void
record_plan(Mig *m)
{
	Oid			types[10] = {OIDOID, NAMEOID, NAMEOID, NAMEOID, TEXTOID, INT4OID, INT4OID, NAMEOID, NAMEOID, NAMEOID};
	Datum		vals[10];
	HeapTuple	row;
	bool		isnull;
	DboptIdentity saved;
	ListCell   *lc;
	TupleDesc	desc;

	vals[0] = ObjectIdGetDatum(m->relid);
	vals[1] = DirectFunctionCall1(namein, CStringGetDatum(m->nspname));
	vals[2] = DirectFunctionCall1(namein, CStringGetDatum(m->relname));
	vals[3] = DirectFunctionCall1(namein, CStringGetDatum(m->column));
	vals[4] = CStringGetTextDatum(m->interval);
	vals[5] = Int32GetDatum(m->premake);
	vals[6] = Int32GetDatum(m->batch_size);
	vals[7] = DirectFunctionCall1(namein, CStringGetDatum(GetUserNameFromId(GetUserId(), false)));
	vals[8] = DirectFunctionCall1(namein, CStringGetDatum(m->copy_relname));
	vals[9] = DirectFunctionCall1(namein, CStringGetDatum(m->premig_relname));
	row = dbopt_write_elevated("INSERT INTO dbopt.partition_migrations (original, schema_name, table_name,"
							   " partition_column, partition_interval, premake, batch_size, planned_by,"
							   " copy_name, premigration_name)"
							   " VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10) RETURNING id",
							   10, types, vals, NULL, &desc);
	m->id = DatumGetInt64(heap_getattr(row, 1, desc, &isnull));

	dbopt_elevate(&saved);
	SPI_connect();
	foreach(lc, m->steps)
	{
		MStep	   *s = lfirst(lc);
		Oid			st[8] = {INT8OID, INT4OID, TEXTOID, TEXTOID, TEXTOID, TEXTOID, TEXTOID, TEXTOID};
		Datum		sv[8];
		char		sn[8] = {' ', ' ', ' ', ' ', ' ', ' ', ' ', ' '};

		sv[0] = Int64GetDatum(m->id);
		sv[1] = Int32GetDatum(s->step);
		sv[2] = CStringGetTextDatum(s->phase);
		sv[3] = CStringGetTextDatum(s->action);
		sv[4] = s->object ? CStringGetTextDatum(s->object) : (Datum) 0;
		sn[4] = s->object ? ' ' : 'n';
		sv[5] = s->detail ? CStringGetTextDatum(s->detail) : (Datum) 0;
		sn[5] = s->detail ? ' ' : 'n';
		sv[6] = s->sql ? CStringGetTextDatum(s->sql) : (Datum) 0;
		sn[6] = s->sql ? ' ' : 'n';
		sv[7] = CStringGetTextDatum(run_as_names[s->run_as]);
		if (SPI_execute_with_args("INSERT INTO dbopt.partition_migration_steps"
								  " (migration, step, phase, action, object, detail, sql, run_as)"
								  " VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
								  8, st, sv, sn, false, 0) != SPI_OK_INSERT)
			elog(ERROR, "could not record the plan");
	}
	SPI_finish();
	dbopt_restore_identity(&saved);
	dbopt_log_action(OPERATION, m->qname, "planned", -1, -1,
					 psprintf("migration %lld: by %s, %s, %d partition(s), %d step(s)", (long long) m->id,
							  quote_identifier(m->column), m->interval, m->nparts, list_length(m->steps)));
}

/* The open migration of relid (the original, or after the swap the copy); 0 if none. */
static int64
find_migration(Oid relid, char **state)
{
	Oid			types[1] = {OIDOID};
	Datum		vals[1] = {ObjectIdGetDatum(relid)};
	DboptIdentity saved;
	int64		id = 0;
	MemoryContext cxt = CurrentMemoryContext;

	dbopt_elevate(&saved);
	SPI_connect();
	if (SPI_execute_with_args("SELECT id, state FROM dbopt.partition_migrations"
							  " WHERE (original OPERATOR(pg_catalog.=) $1 OR copy OPERATOR(pg_catalog.=) $1)"
							  " AND state NOT IN ('finished', 'undone', 'failed') ORDER BY id DESC LIMIT 1",
							  1, types, vals, NULL, true, 0) != SPI_OK_SELECT)
		elog(ERROR, "could not read dbopt.partition_migrations");
	if (SPI_processed == 1)
	{
		bool		isnull;
		MemoryContext old;

		id = DatumGetInt64(SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1, &isnull));
		old = MemoryContextSwitchTo(cxt);
		*state = SPI_getvalue(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 2);
		MemoryContextSwitchTo(old);
	}
	SPI_finish();
	dbopt_restore_identity(&saved);
	return id;
}

/*
 * A recorded migration, rebuilt as a Mig from its row and steps: the
 * names come from the row, the statements from the steps.
 */
typedef struct Loaded
{
	Mig			m;
	char	   *state;
	int64		rows_copied;
	int			batches;
	char	   *last_key;		/* jsonb text, or NULL */
	Oid			copy;
} Loaded;

static void
load_migration(int64 id, Loaded *l)
{
	Oid			types[1] = {INT8OID};
	Datum		vals[1] = {Int64GetDatum(id)};
	DboptIdentity saved;
	MemoryContext cxt = CurrentMemoryContext;
	MemoryContext old;
	uint64		i;
	bool		isnull;
	TupleDesc	d;
	HeapTuple	t;

	memset(l, 0, sizeof(*l));
	l->m.id = id;
	dbopt_elevate(&saved);
	SPI_connect();
	if (SPI_execute_with_args("SELECT original, copy, schema_name::text, table_name::text, partition_column::text,"
							  " partition_interval, premake, batch_size, state, rows_copied, batches, last_key::text,"
							  " copy_name::text, premigration_name::text"
							  " FROM dbopt.partition_migrations WHERE id OPERATOR(pg_catalog.=) $1",
							  1, types, vals, NULL, true, 0) != SPI_OK_SELECT || SPI_processed != 1)
		elog(ERROR, "partition migration %lld is gone", (long long) id);
	t = SPI_tuptable->vals[0];
	d = SPI_tuptable->tupdesc;
	old = MemoryContextSwitchTo(cxt);
	l->m.relid = DatumGetObjectId(SPI_getbinval(t, d, 1, &isnull));
	l->copy = DatumGetObjectId(SPI_getbinval(t, d, 2, &isnull));
	if (isnull)
		l->copy = InvalidOid;
	l->m.copy_relid = l->copy;
	l->m.nspname = SPI_getvalue(t, d, 3);
	l->m.relname = SPI_getvalue(t, d, 4);
	l->m.column = SPI_getvalue(t, d, 5);
	l->m.interval = SPI_getvalue(t, d, 6);
	l->m.premake = DatumGetInt32(SPI_getbinval(t, d, 7, &isnull));
	l->m.batch_size = DatumGetInt32(SPI_getbinval(t, d, 8, &isnull));
	l->state = SPI_getvalue(t, d, 9);
	l->rows_copied = DatumGetInt64(SPI_getbinval(t, d, 10, &isnull));
	l->batches = DatumGetInt32(SPI_getbinval(t, d, 11, &isnull));
	l->last_key = SPI_getvalue(t, d, 12);
	l->m.copy_relname = SPI_getvalue(t, d, 13);
	l->m.premig_relname = SPI_getvalue(t, d, 14);
	MemoryContextSwitchTo(old);

	if (SPI_execute_with_args("SELECT step, phase, action, object, detail, sql, run_as, done_at IS NOT NULL"
							  " FROM dbopt.partition_migration_steps WHERE migration OPERATOR(pg_catalog.=) $1 ORDER BY step",
							  1, types, vals, NULL, true, 0) != SPI_OK_SELECT)
		elog(ERROR, "could not read the steps of partition migration %lld", (long long) id);
	old = MemoryContextSwitchTo(cxt);
	for (i = 0; i < SPI_processed; i++)
	{
		MStep	   *s = palloc0(sizeof(MStep));
		char	   *ra;

		t = SPI_tuptable->vals[i];
		d = SPI_tuptable->tupdesc;
		s->step = DatumGetInt32(SPI_getbinval(t, d, 1, &isnull));
		s->phase = SPI_getvalue(t, d, 2);
		s->action = SPI_getvalue(t, d, 3);
		s->object = SPI_getvalue(t, d, 4);
		s->detail = SPI_getvalue(t, d, 5);
		s->sql = SPI_getvalue(t, d, 6);
		ra = SPI_getvalue(t, d, 7);
		s->run_as = strcmp(ra, "owner") == 0 ? RA_OWNER : strcmp(ra, "dbopt") == 0 ? RA_DBOPT : RA_NONE;
		s->done = DatumGetBool(SPI_getbinval(t, d, 8, &isnull));
		l->m.steps = lappend(l->m.steps, s);
	}
	MemoryContextSwitchTo(old);
	SPI_finish();
	dbopt_restore_identity(&saved);
}

/* ---------- running ---------- */

/* The key and columns of a recorded migration, read again from the original. */
static void
derive(Mig *m, bool swapped)
{
	Relation	rel = try_relation_open(m->relid, AccessShareLock);
	AttrNumber	attnum;

	if (rel == NULL)
		ereport(ERROR,
				(errcode(ERRCODE_UNDEFINED_TABLE),
				 errmsg("the original table of partition migration %lld is gone", (long long) m->id),
				 errdetail("It was dropped after the migration was planned."),
				 errhint("The migration cannot go on; plan it again.")));
	m->owner = rel->rd_rel->relowner;
	m->nsp = get_namespace_oid(m->nspname, false);
	/* every statement names the tables: they must still bear the names planned */
	if (RelationGetNamespace(rel) != m->nsp ||
		strcmp(RelationGetRelationName(rel), swapped ? m->premig_relname : m->relname) != 0)
		ereport(ERROR,
				(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
				 errmsg("the original table of partition migration %lld was renamed or moved", (long long) m->id),
				 errdetail("It is %s now; the migration's statements name it %s.",
						   dbopt_qualified_relname(m->relid),
						   qualify(m->nspname, swapped ? m->premig_relname : m->relname)),
				 errhint("Rename it back to go on.")));
	m->qname = qualify(m->nspname, m->relname);
	m->copy_qname = qualify(m->nspname, m->copy_relname);
	m->premig_qname = qualify(m->nspname, m->premig_relname);
	m->capture_fn = psprintf("dbopt.%s", quote_identifier(psprintf("partition_capture_%u", m->relid)));
	m->reverse_fn = psprintf("dbopt.%s", quote_identifier(psprintf("partition_capture_%u_undo", m->relid)));
	attnum = get_attnum(m->relid, m->column);
	m->key.attnum = attnum;
	load_pk(m, rel);
	m->cols = dbopt_column_names(RelationGetDescr(rel), false);
	m->ins_cols = dbopt_column_names(RelationGetDescr(rel), true);
	relation_close(rel, AccessShareLock);
}

static void
migration_sleep(int ms)
{
	TimestampTz until = TimestampTzPlusMilliseconds(GetCurrentTimestamp(), ms);

	for (;;)
	{
		long		left = TimestampDifferenceMilliseconds(GetCurrentTimestamp(), until);

		if (left <= 0)
			break;
		(void) WaitLatch(MyLatch, WL_LATCH_SET | WL_TIMEOUT | WL_EXIT_ON_PM_DEATH, left, PG_WAIT_EXTENSION);
		ResetLatch(MyLatch);
		CHECK_FOR_INTERRUPTS();
	}
}

/* Run sql (one or more statements) as the current role, or as dbopt's owner. */
static void
exec_as(const char *sql, RunAs run_as)
{
	DboptIdentity saved;

	if (sql == NULL || run_as == RA_NONE)
		return;
	if (run_as == RA_DBOPT)
		dbopt_elevate(&saved);
	SPI_connect();
	if (SPI_execute(sql, false, 0) < 0)
		elog(ERROR, "could not run %s", sql);
	SPI_finish();
	if (run_as == RA_DBOPT)
		dbopt_restore_identity(&saved);
}

static void
write_dbopt(const char *sql, int64 id, int step, const char *text)
{
	Oid			types[3] = {INT8OID, INT4OID, TEXTOID};
	Datum		vals[3];
	char		nulls[3] = {' ', ' ', ' '};
	DboptIdentity saved;

	vals[0] = Int64GetDatum(id);
	vals[1] = Int32GetDatum(step);
	vals[2] = text ? CStringGetTextDatum(text) : (Datum) 0;
	nulls[2] = text ? ' ' : 'n';
	dbopt_elevate(&saved);
	SPI_connect();
	if (SPI_execute_with_args(sql, 3, types, vals, nulls, false, 0) < 0)
		elog(ERROR, "could not run %s", sql);
	SPI_finish();
	dbopt_restore_identity(&saved);
}

static void
mark_done(Mig *m, MStep *s)
{
	write_dbopt("UPDATE dbopt.partition_migration_steps SET done_at = pg_catalog.clock_timestamp()"
				" WHERE migration OPERATOR(pg_catalog.=) $1 AND step OPERATOR(pg_catalog.=) $2 AND $3 IS NULL",
				m->id, s->step, NULL);
	s->done = true;
}

static void
set_state(Mig *m, const char *state)
{
	write_dbopt("UPDATE dbopt.partition_migrations SET state = $3, updated = pg_catalog.clock_timestamp(),"
				" started = COALESCE(started, pg_catalog.clock_timestamp()),"
				" swapped_at = CASE WHEN $3 OPERATOR(pg_catalog.=) 'swapped' THEN pg_catalog.clock_timestamp() ELSE swapped_at END,"
				" finished_at = CASE WHEN $3 IN ('finished', 'undone') THEN pg_catalog.clock_timestamp() ELSE finished_at END"
				" WHERE id OPERATOR(pg_catalog.=) $1 AND $2 OPERATOR(pg_catalog.=) 0",
				m->id, 0, state);
}

static void
record_error(Mig *m, const char *text)
{
	write_dbopt("UPDATE dbopt.partition_migrations SET errors = errors + 1, last_error = $3,"
				" updated = pg_catalog.clock_timestamp() WHERE id OPERATOR(pg_catalog.=) $1 AND $2 OPERATOR(pg_catalog.=) 0",
				m->id, 0, text);
}

static MStep *
find_step(Mig *m, const char *phase, const char *action)
{
	ListCell   *lc;

	foreach(lc, m->steps)
	{
		MStep	   *s = lfirst(lc);

		if (strcmp(s->phase, phase) == 0 && strcmp(s->action, action) == 0)
			return s;
	}
	return NULL;
}

/* One step with SQL, as the table owner (restricted) or as dbopt. */
typedef struct StepUnit
{
	Mig		   *m;
	MStep	   *s;
	bool		record;			/* mark it done and log it, in the same transaction */
} StepUnit;

/*
 * The relation bearing name (in the migration's schema) must be expected,
 * locked in lockmode so that it keeps the name until the transaction ends;
 * the names were checked when the run began, but other sessions may have
 * renamed since.
 */
static void
check_named(Mig *m, const char *relname, Oid expected, LOCKMODE lockmode)
{
	Oid			r = RangeVarGetRelid(makeRangeVar(m->nspname, (char *) relname, -1), lockmode, true);

	if (r != expected)
		ereport(ERROR,
				(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
				 errmsg("%s was renamed, moved or replaced during the partition migration", qualify(m->nspname, relname)),
				 errdetail("It was renamed, moved or replaced since the migration began; nothing was changed."),
				 errhint("Rename the tables back and call it again.")));
}

/*
 * Before a step that dbopt's owner runs on a relation of the user's
 * (creating or dropping the capture triggers): the relation it names must
 * still be the table owner's, and keep its name until the step commits,
 * or dbopt would put or drop triggers on a relation that only shares the
 * name.
 */
static void
check_dbopt_target(Mig *m, MStep *s)
{
	List	   *names;
	Oid			r;

	if (s->run_as != RA_DBOPT || s->object == NULL || strcmp(s->action, "publication") == 0)
		return;
	names = stringToQualifiedNameList(s->object);
	/* the lock the step takes anyway: a rename waiting for it comes first, then is seen */
	r = RangeVarGetRelid(makeRangeVarFromNameList(names),
						 strcmp(s->action, "capture_trigger") == 0 ? ShareRowExclusiveLock :
						 strcmp(s->action, "drop_capture") == 0 ? AccessExclusiveLock : AccessShareLock, true);
	if (OidIsValid(r) && dbopt_relation_owner(r) != m->owner)
		ereport(ERROR,
				(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
				 errmsg("%s belongs to another role than the migrated table", s->object),
				 errdetail("A relation of another role bears the name the migration's step %d names; nothing was changed.", s->step),
				 errhint("Rename the tables back and call it again.")));
}

static void
step_unit(void *arg)
{
	StepUnit   *u = arg;

	check_dbopt_target(u->m, u->s);
	/* DROP TABLE names the original: it must be the original */
	if (strcmp(u->s->action, "drop_original") == 0)
		check_named(u->m, u->m->premig_relname, u->m->relid, AccessExclusiveLock);
	exec_as(u->s->sql, u->s->run_as);
	if (u->record && strcmp(u->s->phase, "setup") == 0 && strcmp(u->s->action, "create_table") == 0)
	{
		/* the copy is known by its OID from now on: see check_copy() */
		u->m->copy_relid = get_relname_relid(u->m->copy_relname, u->m->nsp);
		write_dbopt("UPDATE dbopt.partition_migrations SET copy = $2::pg_catalog.oid"
					" WHERE id OPERATOR(pg_catalog.=) $1 AND $3 IS NULL", u->m->id, (int) u->m->copy_relid, NULL);
	}
	if (u->record)
		mark_done(u->m, u->s);
	if (u->record && u->s->sql && u->s->run_as != RA_NONE)
	{
		dbopt_log_action(OPERATION, u->s->object ? u->s->object : u->m->qname, u->s->action, -1, -1,
						 psprintf("migration %lld, step %d%s%s", (long long) u->m->id, u->s->step,
								  u->s->detail ? ": " : "", u->s->detail ? u->s->detail : ""));
	}
}

/* Copy one batch. */
typedef struct CopyUnit
{
	Mig		   *m;
	const char *sql;
	char	   *last_key;		/* in and out */
	int64		n;
	MemoryContext cxt;
} CopyUnit;

static void
copy_unit(void *arg)
{
	CopyUnit   *u = arg;
	Oid			types[2] = {JSONBOID, INT8OID};
	Datum		vals[2];
	char		nulls[2] = {' ', ' '};
	bool		isnull;
	char	   *key;

	vals[0] = u->last_key ? DirectFunctionCall1(jsonb_in, CStringGetDatum(u->last_key)) : (Datum) 0;
	nulls[0] = u->last_key ? ' ' : 'n';
	vals[1] = Int64GetDatum(u->m->batch_size);
	SPI_connect();
	if (SPI_execute_with_args(u->sql, 2, types, vals, nulls, false, 0) != SPI_OK_SELECT || SPI_processed != 1)
		elog(ERROR, "could not copy a batch into %s", u->m->copy_qname);
	u->n = DatumGetInt64(SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1, &isnull));
	key = SPI_getvalue(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 2);
	if (key)
		u->last_key = MemoryContextStrdup(u->cxt, key);
	SPI_finish();
	if (u->n > 0)
		write_dbopt("UPDATE dbopt.partition_migrations SET rows_copied = rows_copied + $2, batches = batches + 1,"
					" last_key = $3::pg_catalog.jsonb, state = 'copying', updated = pg_catalog.clock_timestamp()"
					" WHERE id OPERATOR(pg_catalog.=) $1", u->m->id, (int) u->n, u->last_key);
}

/*
 * Apply up to batch_size captured keys to dst from src: each key deleted
 * from dst, then inserted as src holds it now (if it does).  With compare,
 * the keys are then compared between the two (under the swap's lock).
 */
typedef struct ReplayUnit
{
	Mig		   *m;
	bool		reverse;
	const char *src;
	const char *dst;
	const char *compare_sql;	/* NULL: no comparison */
	int64		n;				/* captured rows consumed */
	int64		total;			/* over the units */
	int64		checked;		/* rows compared */
} ReplayUnit;

static void
replay_unit(void *arg)
{
	ReplayUnit *u = arg;
	Mig		   *m = u->m;
	Oid			types[3] = {OIDOID, BOOLOID, INT4OID};
	Datum		vals[3];
	DboptIdentity saved;
	bool		isnull;
	Datum		keys = (Datum) 0;
	Oid			ktypes[1] = {JSONBOID};
	uint64		i;

	vals[0] = ObjectIdGetDatum(m->relid);
	vals[1] = BoolGetDatum(u->reverse);
	vals[2] = Int32GetDatum(m->batch_size);
	dbopt_elevate(&saved);
	SPI_connect();
	if (SPI_execute_with_args("WITH d AS (DELETE FROM dbopt.partition_migration_changes c WHERE c.id IN"
							  " (SELECT id FROM dbopt.partition_migration_changes WHERE original OPERATOR(pg_catalog.=) $1"
							  " AND reverse OPERATOR(pg_catalog.=) $2 ORDER BY id LIMIT $3) RETURNING c.key)"
							  " SELECT pg_catalog.jsonb_agg(DISTINCT d.key), pg_catalog.count(*) FROM d",
							  3, types, vals, NULL, false, 0) != SPI_OK_SELECT)
		elog(ERROR, "could not read the captured changes");
	u->n = DatumGetInt64(SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 2, &isnull));
	if (u->n > 0)
		keys = SPI_datumTransfer(SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1, &isnull), false, -1);
	SPI_finish();
	dbopt_restore_identity(&saved);
	if (u->n == 0)
		return;
	u->total += u->n;

	SPI_connect();
	if (SPI_execute_with_args(psprintf("DELETE FROM %s t USING pg_catalog.jsonb_array_elements($1) e(k) WHERE %s",
									   u->dst, key_match(m, "t", "e.k")),
							  1, ktypes, &keys, NULL, false, 0) != SPI_OK_DELETE)
		elog(ERROR, "could not replay into %s", u->dst);
	if (SPI_execute_with_args(psprintf("INSERT INTO %s (%s) OVERRIDING SYSTEM VALUE SELECT %s FROM %s t"
									   " WHERE EXISTS (SELECT FROM pg_catalog.jsonb_array_elements($1) e(k) WHERE %s)",
									   u->dst, m->ins_cols, m->ins_cols, u->src, key_match(m, "t", "e.k")),
							  1, ktypes, &keys, NULL, false, 0) != SPI_OK_INSERT)
		elog(ERROR, "could not replay into %s", u->dst);
	SPI_finish();
	if (u->compare_sql)
	{
		/* as the owner, like the replay: the keys come as a parameter */
		SPI_connect();
		if (SPI_execute_with_args(u->compare_sql, 1, ktypes, &keys, NULL, false, 0) != SPI_OK_SELECT)
			elog(ERROR, "could not compare the replayed rows");
		for (i = 0; i < SPI_processed; i++)
		{
			HeapTuple	t = SPI_tuptable->vals[i];
			TupleDesc	d = SPI_tuptable->tupdesc;

			if (!DatumGetBool(SPI_getbinval(t, d, 4, &isnull)))
				ereport(ERROR,
						(errcode(ERRCODE_DATA_CORRUPTED),
						 errmsg("the replayed rows differ between %s and %s", u->src, u->dst),
						 errdetail("In partition range %s: %s rows against %s, or different contents.",
								   SPI_getvalue(t, d, 1), SPI_getvalue(t, d, 2), SPI_getvalue(t, d, 3)),
						 errhint("Nothing was swapped; see dbopt.partition_migrations and report it.")));
			u->checked += DatumGetInt64(SPI_getbinval(t, d, 2, &isnull));
		}
		SPI_finish();
	}
}

/* Compare everything but the keys not yet replayed. */
typedef struct VerifyUnit
{
	Mig		   *m;
	const char *sql;
	int64		rows;
	int64		copy_rows;
	int			ranges;
	char	   *problem;
	MemoryContext cxt;
} VerifyUnit;

/*
 * The keys captured and not yet replayed, as a jsonb array, read as dbopt
 * (the table's owner cannot read dbopt's log) in the snapshot given.
 */
static Datum
pending_keys(Mig *m, Snapshot snap)
{
	Oid			types[1] = {OIDOID};
	Datum		vals[1];
	DboptIdentity saved;
	SPIPlanPtr	plan;
	bool		isnull;
	Datum		keys;

	vals[0] = ObjectIdGetDatum(m->relid);
	dbopt_elevate(&saved);
	SPI_connect();
	plan = SPI_prepare("SELECT COALESCE(pg_catalog.jsonb_agg(DISTINCT c.key), '[]') FROM dbopt.partition_migration_changes c"
					   " WHERE c.original OPERATOR(pg_catalog.=) $1 AND NOT c.reverse", 1, types);
	if (plan == NULL || SPI_execute_snapshot(plan, vals, NULL, snap, InvalidSnapshot, true, false, 1) != SPI_OK_SELECT ||
		SPI_processed != 1)
		elog(ERROR, "could not read the captured changes");
	keys = SPI_datumTransfer(SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1, &isnull), false, -1);
	SPI_finish();
	dbopt_restore_identity(&saved);
	return keys;
}

/*
 * Before the copy is verified, swapped in or dropped: the relation bearing
 * its name must be the copy this migration made, locked in lockmode.  A
 * migration planned before the OID was recorded accepts a partitioned
 * table of the owner's.  Returns InvalidOid when none bears the name.
 */
static Oid
check_copy(Mig *m, LOCKMODE lockmode)
{
	Oid			r = RangeVarGetRelid(makeRangeVar(m->nspname, m->copy_relname, -1), lockmode, true);

	if (OidIsValid(r) &&
		(OidIsValid(m->copy_relid) ? r != m->copy_relid :
		 get_rel_relkind(r) != RELKIND_PARTITIONED_TABLE || dbopt_relation_owner(r) != m->owner))
		ereport(ERROR,
				(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
				 errmsg("%s is not the copy partition migration %lld made", m->copy_qname, (long long) m->id),
				 errdetail("The copy was renamed, or dropped and replaced, since it was made; dbopt neither compares, swaps in nor drops another relation."),
				 errhint("Rename the relation that bears the name, then undo the migration with dbopt.undo_partition_migration() and plan it again.")));
	return r;
}

static void
verify_unit(void *arg)
{
	VerifyUnit *u = arg;
	uint64		i;
	bool		isnull;
	Oid			types[1] = {JSONBOID};
	Datum		keys;
	SPIPlanPtr	plan;
	Snapshot	snap;

	/*
	 * As the table's owner (the unit's identity), restricted: the pending
	 * keys, read by dbopt, come as a parameter, and one snapshot serves both
	 * statements, so a key is left out exactly when its write is visible.
	 */
	if (strstr(u->sql, "dbopt.partition_migration_changes") != NULL)
		ereport(ERROR,
				(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
				 errmsg("partition migration %lld was planned by an older dbopt", (long long) u->m->id),
				 errdetail("Its verification reads dbopt's log as the table owner, which this version no longer does."),
				 errhint("Undo it with dbopt.undo_partition_migration() and plan it again.")));
	if (!OidIsValid(check_copy(u->m, AccessShareLock)))
		ereport(ERROR,
				(errcode(ERRCODE_UNDEFINED_TABLE),
				 errmsg("the copy %s of partition migration %lld is gone", u->m->copy_qname, (long long) u->m->id),
				 errdetail("It was dropped after it was made."),
				 errhint("Undo the migration with dbopt.undo_partition_migration() and plan it again.")));
	snap = RegisterSnapshot(GetTransactionSnapshot());
	keys = pending_keys(u->m, snap);
	/* a few dozen ranges, which the planner takes for as many groups as rows: hash them */
	dbopt_set_local_guc("enable_sort", "off");
	SPI_connect();
	/* parallel, as SPI_execute() would plan it: both tables are read in full */
	plan = SPI_prepare_cursor(u->sql, 1, types, CURSOR_OPT_PARALLEL_OK);
	if (plan == NULL || SPI_execute_snapshot(plan, &keys, NULL, snap, InvalidSnapshot, true, false, 0) != SPI_OK_SELECT)
		elog(ERROR, "could not verify %s", u->m->copy_qname);
	for (i = 0; i < SPI_processed; i++)
	{
		HeapTuple	t = SPI_tuptable->vals[i];
		TupleDesc	d = SPI_tuptable->tupdesc;

		u->ranges++;
		u->rows += DatumGetInt64(SPI_getbinval(t, d, 2, &isnull));
		u->copy_rows += DatumGetInt64(SPI_getbinval(t, d, 3, &isnull));
		if (!DatumGetBool(SPI_getbinval(t, d, 4, &isnull)) && u->problem == NULL)
			u->problem = MemoryContextStrdup(u->cxt,
											 psprintf("In partition range %s the original has %s rows and the copy %s%s.",
													  SPI_getvalue(t, d, 1), SPI_getvalue(t, d, 2), SPI_getvalue(t, d, 3),
													  strcmp(SPI_getvalue(t, d, 2), SPI_getvalue(t, d, 3)) == 0 ?
													  ", with different contents" : ""));
	}
	SPI_finish();
	UnregisterSnapshot(snap);
}

/* The swap: one transaction, as the table owner. */
typedef struct SwapUnit
{
	Mig		   *m;
	int64		replayed;
	int64		checked;
} SwapUnit;

static const char *const swap_phases[] = {"swap_first", "swap", "swap_last", NULL};

static void
swap_unit(void *arg)
{
	SwapUnit   *u = arg;
	Mig		   *m = u->m;
	MStep	   *lock = find_step(m, "swap_lock", "lock");
	MStep	   *cmp = find_step(m, "swap_lock", "compare");
	ReplayUnit	r;
	int			p;
	ListCell   *lc;

	SPI_connect();
	if (SPI_execute(lock->sql, false, 0) < 0)
		elog(ERROR, "could not lock");
	SPI_finish();
	/* the original, too, may have been renamed since the run checked its name */
	check_named(m, m->relname, m->relid, AccessExclusiveLock);
	(void) check_copy(m, AccessExclusiveLock);
	memset(&r, 0, sizeof(r));
	r.m = m;
	r.src = m->qname;
	r.dst = m->copy_qname;
	r.compare_sql = cmp->sql;
	do
	{
		CHECK_FOR_INTERRUPTS();
		replay_unit(&r);
	} while (r.n > 0);
	u->replayed = r.total;
	u->checked = r.checked;
	for (p = 0; swap_phases[p]; p++)
	{
		foreach(lc, m->steps)
		{
			MStep	   *s = lfirst(lc);

			if (strcmp(s->phase, swap_phases[p]) != 0)
				continue;
			exec_as(s->sql, s->run_as);
			mark_done(m, s);
		}
	}
	mark_done(m, lock);
	mark_done(m, cmp);
	write_dbopt("UPDATE dbopt.partition_migrations SET copy = $3::pg_catalog.regclass::pg_catalog.oid"
				" WHERE id OPERATOR(pg_catalog.=) $1 AND $2 OPERATOR(pg_catalog.=) 0", m->id, 0, m->qname);
	set_state(m, "swapped");
	dbopt_log_action(OPERATION, m->qname, "swapped", u->replayed, -1,
					 psprintf("migration %lld: %lld captured change(s) replayed under lock and %lld row(s) compared; the original is %s",
							  (long long) m->id, (long long) u->replayed, (long long) u->checked, m->premig_qname));
}

/* A unit failed: remember it on the migration, commit that, and raise it. */
static void
fail(Mig *m, const char *what, DboptUnitError *err)
{
	char	   *text = psprintf("%s: %s", what, dbopt_unit_error_text(err));

	record_error(m, text);
	dbopt_log_action(OPERATION, m->qname, "error", -1, -1, psprintf("migration %lld: %s", (long long) m->id, text));
	SPI_commit();
	ereport(ERROR,
			(errcode(err->sqlerrcode ? err->sqlerrcode : ERRCODE_INTERNAL_ERROR),
			 errmsg("partition migration of %s stopped at %s: %s", m->qname, what, err->message),
			 err->detail ? errdetail("%s", err->detail) : 0,
			 errhint("Nothing was swapped.  Fix the cause and CALL dbopt.run_partition_migration() again: it resumes from the last step done, or undo what was made with dbopt.undo_partition_migration().")));
}

static void
run_copy(Mig *m, MStep *s, Loaded *l, MemoryContext cxt)
{
	CopyUnit	u;
	DboptUnitError err;

	memset(&u, 0, sizeof(u));
	u.m = m;
	u.sql = s->sql;
	u.last_key = l->last_key;
	u.cxt = cxt;
	set_state(m, "copying");
	SPI_commit();
	for (;;)
	{
		CHECK_FOR_INTERRUPTS();
		pgstat_report_activity(STATE_RUNNING,
							   psprintf("dbopt run_partition_migration: %s copying, %lld rows in %d batches so far",
										m->qname, (long long) l->rows_copied, l->batches));
		/*
		 * A batch and its last key commit together, so a crash that loses
		 * the last commits loses both: the run resumes from an earlier key.
		 * No need to wait for each flush.
		 */
		dbopt_set_local_guc("synchronous_commit", "off");
		if (!dbopt_run_unit(copy_unit, &u, m->owner, 0, 0, &err))
			fail(m, "copy", &err);
		l->rows_copied += u.n;
		if (u.n > 0)
			l->batches++;
		if (u.n < m->batch_size)
		{
			mark_done(m, s);
			dbopt_log_action(OPERATION, m->copy_qname, "copied", l->rows_copied, -1,
							 psprintf("migration %lld: %d batch(es)", (long long) m->id, l->batches));
			SPI_commit();
			return;
		}
		SPI_commit();
		migration_sleep(dbopt_retention_batch_delay_ms);
	}
}

static void
run_replay(Mig *m, MStep *s)
{
	ReplayUnit	r;
	DboptUnitError err;

	memset(&r, 0, sizeof(r));
	r.m = m;
	r.src = m->qname;
	r.dst = m->copy_qname;
	set_state(m, "replaying");
	SPI_commit();
	do
	{
		CHECK_FOR_INTERRUPTS();
		pgstat_report_activity(STATE_RUNNING,
							   psprintf("dbopt run_partition_migration: %s replaying captured changes, %lld so far",
										m->qname, (long long) r.total));
		/* a batch and the log rows it consumed commit together (see run_copy) */
		dbopt_set_local_guc("synchronous_commit", "off");
		if (!dbopt_run_unit(replay_unit, &r, m->owner, 0, 0, &err))
			fail(m, "replay", &err);
		write_dbopt("UPDATE dbopt.partition_migrations SET changes_replayed = changes_replayed + $2,"
					" updated = pg_catalog.clock_timestamp() WHERE id OPERATOR(pg_catalog.=) $1 AND $3 IS NULL",
					m->id, (int) r.n, NULL);
		SPI_commit();
	} while (r.n >= m->batch_size);
	if (s == NULL)
		return;
	mark_done(m, s);
	dbopt_log_action(OPERATION, m->copy_qname, "replayed", r.total, -1,
					 psprintf("migration %lld: captured changes applied", (long long) m->id));
	SPI_commit();
}

static void
run_verify(Mig *m, MStep *s, MemoryContext cxt)
{
	VerifyUnit	v;
	DboptUnitError err;

	/* catch up first, so that few keys are left out of the comparison */
	run_replay(m, NULL);
	memset(&v, 0, sizeof(v));
	v.m = m;
	v.sql = s->sql;
	v.cxt = cxt;
	set_state(m, "verifying");
	SPI_commit();
	pgstat_report_activity(STATE_RUNNING, psprintf("dbopt run_partition_migration: %s verifying", m->qname));
	if (!dbopt_run_unit(verify_unit, &v, m->owner, 0, 0, &err))
		fail(m, "verify", &err);
	if (v.problem)
	{
		/* the totals differ: say in which range (another snapshot, so it may find none) */
		VerifyUnit	w;

		memset(&w, 0, sizeof(w));
		w.m = m;
		w.sql = find_step(m, "verify", "locate")->sql;
		w.cxt = cxt;
		if (dbopt_run_unit(verify_unit, &w, m->owner, 0, 0, &err) && w.problem)
			v.problem = w.problem;
		else
			v.problem = psprintf("In all, the original has %lld rows and the copy %lld, or different contents.",
								 (long long) v.rows, (long long) v.copy_rows);
	}
	if (v.problem)
	{
		record_error(m, psprintf("verify: %s", v.problem));
		dbopt_log_action(OPERATION, m->copy_qname, "verify failed", v.rows, -1, v.problem);
		SPI_commit();
		ereport(ERROR,
				(errcode(ERRCODE_DATA_CORRUPTED),
				 errmsg("the copy of %s does not match the original", m->qname),
				 errdetail("%s", v.problem),
				 errhint("Nothing was swapped.  Undo the migration with dbopt.undo_partition_migration() and report it.")));
	}
	mark_done(m, s);
	dbopt_log_action(OPERATION, m->copy_qname, "verified", v.rows, -1,
					 psprintf("migration %lld: row counts and checksums equal", (long long) m->id));
	SPI_commit();
}

/* The swap, retried; false when the lock was never granted (nothing changed). */
static bool
run_swap(Mig *m)
{
	SwapUnit	u;
	DboptUnitError err;
	int			attempt;

	for (attempt = 1; attempt <= SWAP_ATTEMPTS; attempt++)
	{
		memset(&u, 0, sizeof(u));
		u.m = m;
		pgstat_report_activity(STATE_RUNNING,
							   psprintf("dbopt run_partition_migration: %s swapping (attempt %d)", m->qname, attempt));
		if (dbopt_run_unit(swap_unit, &u, m->owner, 0, 0, &err))
		{
			SPI_commit();
			return true;
		}
		if (!err.lock_timeout)
			fail(m, "swap", &err);
		ereport(NOTICE,
				(errmsg("partition migration of %s: swap attempt %d of %d: %s", m->qname, attempt, SWAP_ATTEMPTS,
						dbopt_unit_error_text(&err))));
		SPI_commit();
		migration_sleep(Min(dbopt_lock_timeout_ms, 1000) * attempt);
	}
	/* Writers kept the table busy: next time, replay and verify again before locking. */
	record_error(m, psprintf("swap: the lock was not granted within dbopt.lock_timeout in %d attempts", SWAP_ATTEMPTS));
	write_dbopt("UPDATE dbopt.partition_migration_steps SET done_at = NULL WHERE migration OPERATOR(pg_catalog.=) $1"
				" AND phase OPERATOR(pg_catalog.=) 'verify' AND $2 OPERATOR(pg_catalog.=) 0 AND $3 IS NULL", m->id, 0, NULL);
	dbopt_log_action(OPERATION, m->qname, "swap skipped", -1, -1,
					 psprintf("migration %lld: lock not granted in %d attempts; nothing swapped", (long long) m->id, SWAP_ATTEMPTS));
	SPI_commit();
	return false;
}

/* The order a run takes; the swap_lock step carries out the swap_* phases itself. */
static const char *const run_phases_order[] = {"setup", "capture", "copy", "index", "replay", "constrain",
"verify", "swap_lock", "after", "register", NULL};

static void
run_migration(int64 id, MemoryContext cxt)
{
	Loaded		l;
	Mig		   *m = &l.m;
	ListCell   *lc;

	int			p;

	load_migration(id, &l);
	derive(m, strcmp(l.state, "swapped") == 0);
	set_state(m, strcmp(l.state, "planned") == 0 ? "copying" : l.state);
	SPI_commit();
	for (p = 0; run_phases_order[p]; p++)
	foreach(lc, m->steps)
	{
		MStep	   *s = lfirst(lc);

		if (s->done || strcmp(s->phase, run_phases_order[p]) != 0 ||
			(strcmp(s->phase, "swap_lock") == 0 && strcmp(s->action, "lock") != 0))
			continue;
		CHECK_FOR_INTERRUPTS();
		if (strcmp(s->action, "copy") == 0)
			run_copy(m, s, &l, cxt);
		else if (strcmp(s->action, "replay") == 0)
			run_replay(m, s);
		else if (strcmp(s->action, "verify") == 0)
			run_verify(m, s, cxt);
		else if (strcmp(s->action, "lock") == 0)
		{
			/* replay and verify may have been reset by a swap that gave up */
			MStep	   *vf = find_step(m, "verify", "verify");

			if (!vf->done)
				run_verify(m, vf, cxt);
			if (!run_swap(m))
			{
				ereport(NOTICE,
						(errmsg("partition migration of %s: not swapped, the table stayed busy", m->qname),
						 errdetail("The lock was not granted within dbopt.lock_timeout (%d ms) in %d attempts; nothing was changed.",
								   dbopt_lock_timeout_ms, SWAP_ATTEMPTS),
						 errhint("CALL dbopt.run_partition_migration() again at a quieter time; it replays and verifies again, then swaps.")));
				return;
			}
		}
		else
		{
			StepUnit	u = {m, s, true};
			DboptUnitError err;

			if (s->sql && s->run_as != RA_NONE)
				pgstat_report_activity(STATE_RUNNING,
									   psprintf("dbopt run_partition_migration: %s step %d, %s", m->qname, s->step, s->action));
			if (!dbopt_run_unit(step_unit, &u, m->owner, 0, 0, &err))
				fail(m, psprintf("step %d (%s %s)", s->step, s->action, s->object ? s->object : ""), &err);
			SPI_commit();
		}
	}
	ereport(NOTICE,
			(errmsg("partition migration of %s done: %lld rows copied in %d batches; the original is kept as %s",
					m->qname, (long long) l.rows_copied, l.batches, m->premig_qname),
			 errhint("Check the table, then SELECT dbopt.finish_partition_migration(...) (drop_original => true drops the original), or dbopt.undo_partition_migration(...) to swap back.")));
}

/*
 * One session at a time per migration: a CALL holds this lock across its
 * commits (a session lock), finish and undo for their transaction.
 */
#define MIGRATION_LOCK_FIELD4 22

static void
migration_locktag(LOCKTAG *tag, int64 id)
{
	SET_LOCKTAG_ADVISORY(*tag, MyDatabaseId, (uint32) ((uint64) id >> 32), (uint32) id, MIGRATION_LOCK_FIELD4);
}

static void
lock_migration(int64 id, bool session, const char *qname)
{
	LOCKTAG		tag;

	migration_locktag(&tag, id);
	if (LockAcquire(&tag, ExclusiveLock, session, true) == LOCKACQUIRE_NOT_AVAIL)
		ereport(ERROR,
				(errcode(ERRCODE_LOCK_NOT_AVAILABLE),
				 errmsg("partition migration %lld of %s is running in another session", (long long) id, qname),
				 errdetail("One session at a time carries out a migration."),
				 errhint("Wait for it to end; dbopt.partition_migrations and pg_stat_activity show its progress.")));
}

/* ---------- entry points ---------- */

PG_FUNCTION_INFO_V1(dbopt_partition_table);

Datum
dbopt_partition_table(PG_FUNCTION_ARGS)
{
	ReturnSetInfo *rsinfo = (ReturnSetInfo *) fcinfo->resultinfo;
	Mig			m;
	ListCell   *lc;
	char	   *state = NULL;
	int			n = 0;

	memset(&m, 0, sizeof(m));
	dbopt_require_arg(fcinfo, 0, "relation");
	dbopt_require_arg(fcinfo, 1, "partition_column");
	dbopt_require_arg(fcinfo, 2, "partition_interval");
	dbopt_require_arg(fcinfo, 3, "premake");
	dbopt_require_arg(fcinfo, 4, "batch_size");
	m.dry_run = dbopt_steering_bool(fcinfo, 5, "dry_run");
	m.relid = PG_GETARG_OID(0);
	m.column = pstrdup(NameStr(*PG_GETARG_NAME(1)));
	m.interval = dbopt_trimmed(text_to_cstring(PG_GETARG_TEXT_PP(2)));
	m.premake = PG_GETARG_INT32(3);
	m.batch_size = PG_GETARG_INT32(4);
	if (get_rel_relkind(m.relid) == '\0')
		ereport(ERROR,
				(errcode(ERRCODE_UNDEFINED_TABLE),
				 errmsg("relation with OID %u does not exist", m.relid),
				 errdetail("partition_table() needs an existing table."),
				 errhint("Pass the table's name, such as 'public.events'.")));
	if (m.premake < 0 || m.premake > 1000)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("premake must be between 0 and 1000, not %d", m.premake),
				 errdetail("premake is the number of partitions created beyond the newest row (and beyond now, for a time key)."),
				 errhint("Most tables use 2 to 7.")));
	if (m.batch_size < 1 || m.batch_size > 1000000)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("batch_size must be between 1 and 1000000, not %d", m.batch_size),
				 errdetail("batch_size is how many rows each committed batch of the copy takes."),
				 errhint("The default, 10000, keeps each transaction short.")));
	if (m.interval[0] == '\0')
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("partition_interval must not be empty"),
				 errdetail("It is the width of one partition."),
				 errhint("Use a literal such as '1 month' (time keys) or '100000' (integer keys).")));
	dbopt_require_owner(m.relid, "partition_table() rebuilds the table as a partitioned one; only its owner may.");
	dbopt_init_materialized_srf(fcinfo);
	if (find_migration(m.relid, &state) != 0)
		ereport(ERROR,
				(errcode(ERRCODE_OBJECT_IN_USE),
				 errmsg("a partition migration of %s is already open (state %s)", dbopt_qualified_relname(m.relid), state),
				 errdetail("One migration per table at a time."),
				 errhint("Finish it (run_partition_migration, finish_partition_migration) or undo it first.")));
	build_plan(&m);
	if (!m.dry_run)
		record_plan(&m);
	foreach(lc, m.steps)
	{
		MStep	   *s = lfirst(lc);

		if (forward_phase(s->phase))
			put_step_row(rsinfo, ++n, s->action, s->object, s->detail, s->sql);
	}
	if (!m.dry_run)
		ereport(NOTICE,
				(errmsg("partition migration %lld of %s recorded", (long long) m.id, m.qname),
				 errhint("CALL dbopt.run_partition_migration(%s) to carry it out.", quote_literal_cstr(m.qname))));
	return (Datum) 0;
}

PG_FUNCTION_INFO_V1(dbopt_run_partition_migration);

Datum
dbopt_run_partition_migration(PG_FUNCTION_ARGS)
{
	CallContext *call = (fcinfo->context && IsA(fcinfo->context, CallContext)) ?
		(CallContext *) fcinfo->context : NULL;
	Oid			relid;
	char	   *state = NULL;
	int64		id;
	MemoryContext caller = CurrentMemoryContext;
	MemoryContext cxt;

	if (call == NULL || call->atomic)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_TRANSACTION_TERMINATION),
				 errmsg("run_partition_migration must be called with CALL outside a transaction block"),
				 errdetail("It commits after every batch, which is not possible inside BEGIN ... COMMIT, a multi-statement query string or a function."),
				 errhint("Run CALL dbopt.run_partition_migration('schema.table') on its own.")));
	dbopt_require_arg(fcinfo, 0, "relation");
	relid = PG_GETARG_OID(0);
	if (get_rel_relkind(relid) == '\0')
		ereport(ERROR,
				(errcode(ERRCODE_UNDEFINED_TABLE),
				 errmsg("relation with OID %u does not exist", relid),
				 errdetail("run_partition_migration() needs the table being migrated."),
				 errhint("Pass the table's name, such as 'public.events'.")));
	dbopt_require_owner(relid, "run_partition_migration() rebuilds the table as a partitioned one; only its owner may.");
	id = find_migration(relid, &state);
	if (id == 0)
		ereport(ERROR,
				(errcode(ERRCODE_UNDEFINED_OBJECT),
				 errmsg("no partition migration of %s is planned", dbopt_qualified_relname(relid)),
				 errdetail("run_partition_migration() carries out a plan that partition_table() recorded."),
				 errhint("SELECT * FROM dbopt.partition_table(...) with dry_run => false first.")));
	cxt = AllocSetContextCreate(PortalContext ? PortalContext : TopMemoryContext,
								"dbopt run_partition_migration", ALLOCSET_DEFAULT_SIZES);
	MemoryContextSwitchTo(cxt);
	lock_migration(id, true, dbopt_qualified_relname(relid));
	PG_TRY();
	{
		SPI_connect_ext(SPI_OPT_NONATOMIC);
		MemoryContextSwitchTo(cxt);
		run_migration(id, cxt);
		SPI_finish();
	}
	PG_FINALLY();
	{
		LOCKTAG		tag;

		migration_locktag(&tag, id);
		LockRelease(&tag, ExclusiveLock, true);
	}
	PG_END_TRY();
	MemoryContextSwitchTo(caller);
	MemoryContextDelete(cxt);
	PG_RETURN_VOID();
}

/* Finish and undo: a swapped migration of relation, with its owner calling. */
static int64
swapped_migration(Oid relid, const char *func, Loaded *l, bool any_state)
{
	char	   *state = NULL;
	int64		id;

	if (get_rel_relkind(relid) == '\0')
		ereport(ERROR,
				(errcode(ERRCODE_UNDEFINED_TABLE),
				 errmsg("relation with OID %u does not exist", relid),
				 errdetail("%s() needs the migrated table.", func),
				 errhint("Pass the table's name, such as 'public.events'.")));
	dbopt_require_owner(relid, "%s() changes the migrated table; only its owner may.", func);
	id = find_migration(relid, &state);
	if (id == 0 || (!any_state && strcmp(state, "swapped") != 0))
		ereport(ERROR,
				(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
				 errmsg("%s has no swapped partition migration", dbopt_qualified_relname(relid)),
				 errdetail(id == 0 ? "No migration of it is open." : "Its migration is in state %s.", state),
				 errhint("%s() applies after CALL dbopt.run_partition_migration() has swapped the tables.", func)));
	lock_migration(id, false, dbopt_qualified_relname(relid));
	load_migration(id, l);
	derive(&l->m, strcmp(l->state, "swapped") == 0);
	/* finish and undo name the partitioned table too: it must be the one swapped in */
	if (strcmp(l->state, "swapped") == 0 && get_relname_relid(l->m.relname, l->m.nsp) != l->copy)
		ereport(ERROR,
				(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
				 errmsg("the partitioned table of partition migration %lld is no longer %s", (long long) id, l->m.qname),
				 errdetail("%s() changes the table swapped in under that name, which was renamed, moved or replaced.", func),
				 errhint("Rename it back to go on.")));
	return id;
}

/* Steps of the given phases, in phase order: carried out, or listed for a dry run. */
static void
run_phases(Mig *m, const char *const *phases, bool dry_run, ReturnSetInfo *rsinfo, int *n)
{
	int			p;
	ListCell   *lc;

	for (p = 0; phases[p]; p++)
		foreach(lc, m->steps)
		{
			MStep	   *s = lfirst(lc);

			if (strcmp(s->phase, phases[p]) != 0 || s->sql == NULL || s->run_as == RA_NONE)
				continue;
			if (!dry_run)
			{
				StepUnit	u = {m, s, true};
				DboptUnitError err;

				if (!dbopt_run_unit(step_unit, &u, m->owner, 0, 0, &err))
					ereport(ERROR,
							(errcode(err.sqlerrcode ? err.sqlerrcode : ERRCODE_INTERNAL_ERROR),
							 errmsg("step %d (%s %s) failed: %s", s->step, s->action, s->object ? s->object : "", err.message),
							 err.detail ? errdetail("%s", err.detail) : errdetail("Nothing was changed."),
							 errhint("Fix the cause and call it again.")));
			}
			put_step_row(rsinfo, ++*n, s->action, s->object, s->detail, s->sql);
		}
}

static void
forget_changes(Mig *m)
{
	write_dbopt("DELETE FROM dbopt.partition_migration_changes WHERE original OPERATOR(pg_catalog.=) $1::pg_catalog.oid"
				" AND $2 OPERATOR(pg_catalog.=) 0 AND $3 IS NULL", m->relid, 0, NULL);
}

PG_FUNCTION_INFO_V1(dbopt_finish_partition_migration);

Datum
dbopt_finish_partition_migration(PG_FUNCTION_ARGS)
{
	ReturnSetInfo *rsinfo = (ReturnSetInfo *) fcinfo->resultinfo;
	bool		drop_original;
	bool		dry_run;
	Loaded		l;
	int			n = 0;
	static const char *const phases[] = {"finish", NULL};
	static const char *const drop_phases[] = {"finish_drop", NULL};

	dbopt_require_arg(fcinfo, 0, "relation");
	drop_original = dbopt_steering_bool(fcinfo, 1, "drop_original");
	dry_run = dbopt_steering_bool(fcinfo, 2, "dry_run");
	dbopt_init_materialized_srf(fcinfo);
	(void) swapped_migration(PG_GETARG_OID(0), "finish_partition_migration", &l, false);
	run_phases(&l.m, phases, dry_run, rsinfo, &n);
	if (drop_original)
		run_phases(&l.m, drop_phases, dry_run, rsinfo, &n);
	if (!dry_run)
	{
		forget_changes(&l.m);
		set_state(&l.m, "finished");
		dbopt_log_action(OPERATION, l.m.qname, "finished", -1, -1,
						 psprintf("migration %lld: capture triggers dropped; the original %s", (long long) l.m.id,
								  drop_original ? "dropped" : psprintf("kept as %s", l.m.premig_qname)));
	}
	return (Datum) 0;
}

typedef struct UndoUnit
{
	Mig		   *m;
	int64		carried;
	int64		checked;
} UndoUnit;

static void
undo_unit(void *arg)
{
	UndoUnit   *u = arg;
	Mig		   *m = u->m;
	ReplayUnit	r;

	SPI_connect();
	if (SPI_execute(psprintf("LOCK TABLE %s, %s IN ACCESS EXCLUSIVE MODE", m->qname, m->premig_qname), false, 0) < 0)
		elog(ERROR, "could not lock");
	SPI_finish();
	/*
	 * Checked again under the lock, held to the end: undo renames the table
	 * bearing the name and drops it, which must be the copy swapped in.
	 */
	check_named(m, m->relname, m->copy_relid, AccessExclusiveLock);
	check_named(m, m->premig_relname, m->relid, AccessExclusiveLock);
	memset(&r, 0, sizeof(r));
	r.m = m;
	r.reverse = true;
	r.src = m->qname;
	r.dst = m->premig_qname;
	r.compare_sql = find_step(m, "undo_check", "compare")->sql;
	do
	{
		CHECK_FOR_INTERRUPTS();
		replay_unit(&r);
	} while (r.n > 0);
	u->carried = r.total;
	u->checked = r.checked;
}

/* Drop the copy, if it is still the one made. */
static void
drop_copy_unit(void *arg)
{
	StepUnit   *u = arg;

	if (OidIsValid(check_copy(u->m, AccessExclusiveLock)))
		exec_as(u->s->sql, u->s->run_as);
}

/*
 * Undo before the swap: the table never changed; the capture trigger, the
 * copy and the captured keys go.
 */
static void
abandon_migration(Mig *m, bool dry_run, ReturnSetInfo *rsinfo)
{
	MStep		steps[2];
	int			i;

	memset(steps, 0, sizeof(steps));
	steps[0].action = "drop_capture";
	steps[0].object = m->qname;
	steps[0].sql = drop_capture_sql(m->capture_fn, m->qname);
	steps[0].run_as = RA_DBOPT;
	steps[1].action = "drop_copy";
	steps[1].object = m->copy_qname;
	steps[1].sql = psprintf("DROP TABLE IF EXISTS %s", m->copy_qname);
	steps[1].run_as = RA_OWNER;
	for (i = 0; i < 2; i++)
	{
		if (!dry_run)
		{
			StepUnit	u = {m, &steps[i], false};
			DboptUnitError err;

			if (!dbopt_run_unit(i == 1 ? drop_copy_unit : step_unit, &u, m->owner, 0, 0, &err))
				ereport(ERROR,
						(errcode(err.sqlerrcode ? err.sqlerrcode : ERRCODE_INTERNAL_ERROR),
						 errmsg("undo of the partition migration of %s failed: %s", m->qname, err.message),
						 err.detail ? errdetail("%s", err.detail) : errdetail("Nothing was changed."),
						 errhint(err.lock_timeout ? "The table was busy; call it again." : "Fix the cause and call it again.")));
		}
		put_step_row(rsinfo, i + 1, steps[i].action, steps[i].object,
					 i == 0 ? "the migration never swapped: the table is as it was; its capture trigger goes" : NULL,
					 steps[i].sql);
	}
	if (!dry_run)
	{
		forget_changes(m);
		set_state(m, "undone");
		dbopt_log_action(OPERATION, m->qname, "undone", -1, -1,
						 psprintf("migration %lld: abandoned before the swap; the copy dropped", (long long) m->id));
	}
}

PG_FUNCTION_INFO_V1(dbopt_undo_partition_migration);

Datum
dbopt_undo_partition_migration(PG_FUNCTION_ARGS)
{
	ReturnSetInfo *rsinfo = (ReturnSetInfo *) fcinfo->resultinfo;
	bool		dry_run;
	Loaded		l;
	Mig		   *m = &l.m;
	int			n = 0;
	UndoUnit	u;
	DboptUnitError err;
	static const char *const phases[] = {"undo_first", "undo_rename", "undo", "undo_late", "undo_drop",
	"undo_after", NULL};

	dbopt_require_arg(fcinfo, 0, "relation");
	dry_run = dbopt_steering_bool(fcinfo, 1, "dry_run");
	dbopt_init_materialized_srf(fcinfo);
	(void) swapped_migration(PG_GETARG_OID(0), "undo_partition_migration", &l, true);
	if (strcmp(l.state, "swapped") != 0)
	{
		abandon_migration(m, dry_run, rsinfo);
		return (Datum) 0;
	}
	if (!OidIsValid(get_relname_relid(m->premig_relname, m->nsp)) ||
		get_relname_relid(m->premig_relname, m->nsp) != m->relid)
		ereport(ERROR,
				(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
				 errmsg("the original of %s is no longer kept as %s", m->qname, m->premig_qname),
				 errdetail("Undo swaps back to the original table, which was dropped or renamed."),
				 errhint("Nothing can be swapped back; finish the migration with dbopt.finish_partition_migration().")));
	memset(&u, 0, sizeof(u));
	u.m = m;
	if (!dry_run)
	{
		if (!dbopt_run_unit(undo_unit, &u, m->owner, 0, 0, &err))
			ereport(ERROR,
					(errcode(err.sqlerrcode ? err.sqlerrcode : ERRCODE_INTERNAL_ERROR),
					 errmsg("undo of the partition migration of %s failed: %s", m->qname, err.message),
					 err.detail ? errdetail("%s", err.detail) : errdetail("Nothing was changed."),
					 errhint(err.lock_timeout ? "The tables were busy; call it again." : "Fix the cause and call it again.")));
	}
	put_step_row(rsinfo, ++n, "carry_back", m->premig_qname,
				 dry_run ? "the writes captured since the swap would be applied to the original under lock" :
				 psprintf("%lld captured write(s) since the swap applied to the original, %lld row(s) compared",
						  (long long) u.carried, (long long) u.checked), NULL);
	run_phases(m, phases, dry_run, rsinfo, &n);
	if (!dry_run)
	{
		forget_changes(m);
		set_state(m, "undone");
		dbopt_log_action(OPERATION, m->qname, "undone", u.carried, -1,
						 psprintf("migration %lld: swapped back; the partitioned copy dropped", (long long) m->id));
	}
	return (Datum) 0;
}
