/*-------------------------------------------------------------------------
 *
 * partitions.c
 *	  Range-partition management, what its functions share: the registry
 *	  (dbopt.partition_config, manage_partitions(), unmanage_partitions()),
 *	  a partitioned table's key and bounds, arithmetic on key values, the
 *	  other partition managers, and the checks and limits every call
 *	  applies.  Creating partitions is partition_create.c, dropping them
 *	  partition_drops.c, the report partition_distribution.c.
 *
 * Every bound comes from pg_class.relpartbound and is compared with the
 * partition key's own btree comparison function, as a value of the key
 * type; partition names are never parsed.  Each partition that is
 * created, dropped or detached is one isolated unit under
 * dbopt.lock_timeout, taking the parent's lock before the child's, so a
 * busy partition is skipped and reported instead of queueing the
 * application behind us.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/htup_details.h"
#include "access/relation.h"
#include "access/xact.h"
#include "catalog/namespace.h"
#include "catalog/partition.h"
#include "catalog/pg_depend.h"
#include "commands/extension.h"
#include "catalog/pg_class.h"
#include "catalog/pg_type.h"
#include "executor/spi.h"
#include "funcapi.h"
#include "lib/stringinfo.h"
#include "mb/pg_wchar.h"
#include "miscadmin.h"
#include "nodes/parsenodes.h"
#include "partitioning/partdesc.h"
#include "storage/lmgr.h"
#include "utils/builtins.h"
#include "utils/datum.h"
#include "utils/date.h"
#include "utils/fmgrprotos.h"
#include "utils/guc.h"
#include "utils/lsyscache.h"
#include "utils/partcache.h"
#include "utils/rel.h"
#include "utils/syscache.h"
#include "utils/timestamp.h"

#include "dbopt/compat.h"
#include "dbopt/dbopt.h"
#include "dbopt/isolate.h"
#include "dbopt/partitions.h"
#include "dbopt/partitions_internal.h"
#include "dbopt/util.h"

/* ---------- keys and bounds ---------- */

static bool
type_is_time(Oid typid)
{
	return typid == TIMESTAMPTZOID || typid == TIMESTAMPOID || typid == DATEOID;
}

static bool
type_is_int(Oid typid)
{
	return typid == INT2OID || typid == INT4OID || typid == INT8OID;
}

static void
load_key(Relation rel, KeyInfo *k)
{
	PartitionKey pk = RelationGetPartitionKey(rel);

	memset(k, 0, sizeof(*k));
	k->parent = RelationGetRelid(rel);
	k->strategy = pk->strategy;
	if (pk->strategy != PARTITION_STRATEGY_RANGE)
		k->unsupported = pstrdup("it is not partitioned by RANGE");
	else if (pk->partnatts != 1)
		k->unsupported = psprintf("its partition key has %d columns; dbopt manages single-column keys", pk->partnatts);
	else if (pk->partattrs[0] == 0)
		k->unsupported = pstrdup("its partition key is an expression, not a column");
	else
	{
		k->attnum = pk->partattrs[0];
		k->attname = get_attname(k->parent, k->attnum, false);
		k->typid = getBaseType(pk->parttypid[0]);
		if (!type_is_time(k->typid) && !type_is_int(k->typid))
			k->unsupported = psprintf("its partition key column \"%s\" has type %s; dbopt manages timestamptz, timestamp, date, smallint, integer and bigint keys",
									  k->attname, format_type_be(pk->parttypid[0]));
	}
	k->supported = (k->unsupported == NULL);
	k->is_time = type_is_time(k->typid);
	k->typlen = pk->parttyplen[0];
	k->typbyval = pk->parttypbyval[0];
	k->collation = pk->partcollation[0];
	if (pk->partnatts >= 1)
		fmgr_info_copy(&k->cmp, &pk->partsupfunc[0], CurrentMemoryContext);
}

int
dbopt_part_bound_cmp(const KeyInfo *k, const Bound *a, const Bound *b)
{
	if (a->kind != b->kind)
		return a->kind < b->kind ? -1 : 1;
	if (a->kind != 0)
		return 0;
	return DatumGetInt32(FunctionCall2Coll((FmgrInfo *) &k->cmp, k->collation,
										   a->value, b->value));
}

char *
dbopt_part_bound_text(const KeyInfo *k, const Bound *b)
{
	Oid			outfn;
	bool		isvarlena;

	if (b->kind < 0)
		return pstrdup("MINVALUE");
	if (b->kind > 0)
		return pstrdup("MAXVALUE");
	getTypeOutputInfo(k->typid, &outfn, &isvarlena);
	return OidOutputFunctionCall(outfn, b->value);
}

static Bound
range_datum_bound(const KeyInfo *k, PartitionRangeDatum *prd)
{
	Bound		b;

	b.kind = prd->kind == PARTITION_RANGE_DATUM_MINVALUE ? -1 :
		prd->kind == PARTITION_RANGE_DATUM_MAXVALUE ? 1 : 0;
	b.value = (Datum) 0;
	if (b.kind == 0)
	{
		Const	   *c = castNode(Const, prd->value);

		b.value = datumCopy(c->constvalue, k->typbyval, k->typlen);
	}
	return b;
}

/* The partition bound of relid as stored in the catalog, or NULL. */
PartitionBoundSpec *
dbopt_part_stored_bound(Oid relid)
{
	HeapTuple	tup = SearchSysCache1(RELOID, ObjectIdGetDatum(relid));
	Datum		d;
	bool		isnull;
	PartitionBoundSpec *spec = NULL;

	if (!HeapTupleIsValid(tup))
		return NULL;
	d = SysCacheGetAttr(RELOID, tup, Anum_pg_class_relpartbound, &isnull);
	if (!isnull)
		spec = castNode(PartitionBoundSpec, stringToNode(TextDatumGetCString(d)));
	ReleaseSysCache(tup);
	return spec;
}

void
dbopt_part_fill(const KeyInfo *k, Oid relid, Part *p)
{
	PartitionBoundSpec *spec = dbopt_part_stored_bound(relid);

	memset(p, 0, sizeof(*p));
	p->relid = relid;
	p->relkind = get_rel_relkind(relid);
	if (spec == NULL)
		return;
	p->is_default = spec->is_default;
	if (!spec->is_default && spec->strategy == PARTITION_STRATEGY_RANGE &&
		list_length(spec->lowerdatums) == 1)
	{
		p->is_range = true;
		p->lo = range_datum_bound(k, linitial(spec->lowerdatums));
		p->hi = range_datum_bound(k, linitial(spec->upperdatums));
	}
}

int
dbopt_part_cmp(const void *a, const void *b, void *arg)
{
	const Part *pa = a;
	const Part *pb = b;

	if (!pa->is_range || !pb->is_range)
		return (int) pb->is_range - (int) pa->is_range;
	return dbopt_part_bound_cmp(arg, &pa->lo, &pb->lo);
}

/*
 * Read a partitioned table's key and direct partitions.  The parent is
 * locked ACCESS SHARE (waiting at most lock_timeout, which the caller has
 * set); that keeps every existing partition's bounds fixed until we end,
 * since detaching needs a stronger lock on the parent.
 */
void
dbopt_part_load_tree(Oid parent, Tree *t)
{
	Relation	rel = relation_open(parent, AccessShareLock);
	PartitionDesc pd;
	int			i;

	memset(t, 0, sizeof(*t));
	load_key(rel, &t->key);
	pd = RelationGetPartitionDesc(rel, true);
	t->parts = palloc0(sizeof(Part) * Max(pd->nparts, 1));
	for (i = 0; i < pd->nparts; i++)
	{
		Part		p;

		dbopt_part_fill(&t->key, pd->oids[i], &p);
		if (p.is_default)
		{
			t->def = palloc(sizeof(Part));
			*t->def = p;
		}
		else
			t->parts[t->nparts++] = p;
	}
	if (t->key.strategy == PARTITION_STRATEGY_RANGE && t->key.attnum != 0)
		qsort_arg(t->parts, t->nparts, sizeof(Part), dbopt_part_cmp, &t->key);
	relation_close(rel, NoLock);
}

typedef struct LoadUnit
{
	Oid			parent;
	Tree	   *tree;
} LoadUnit;

static void
load_unit(void *arg)
{
	LoadUnit   *u = arg;

	dbopt_part_load_tree(u->parent, u->tree);
}

/* dbopt_part_load_tree() that reports instead of failing (lock timeout on the parent). */
char *
dbopt_part_load_tree_isolated(Oid parent, Tree *t)
{
	LoadUnit	u = {parent, t};
	DboptUnitError err;

	if (dbopt_run_isolated(load_unit, &u, 0, &err))
		return NULL;
	return dbopt_unit_error_text(&err);
}

/* ---------- counting under a time and lock limit ---------- */

typedef struct CountUnit
{
	const char *sql;
	int64		n;
	bool		isnull;
} CountUnit;

static void
count_unit(void *arg)
{
	CountUnit  *u = arg;
	bool		isnull;

	SPI_connect();
	u->n = dbopt_spi_int8(u->sql, &isnull);
	SPI_finish();
	u->isnull = isnull;
}

/*
 * Run a one-value int8 query in its own unit, so that a locked table or a
 * slow scan becomes a reportable problem rather than an error.  Returns
 * NULL or why it failed.
 */
char *
dbopt_part_isolated_int8(const char *sql, int timeout_ms, int64 *n, bool *isnull)
{
	CountUnit	u = {sql, 0, true};
	DboptUnitError err;

	if (!dbopt_run_isolated(count_unit, &u, timeout_ms, &err))
		return dbopt_unit_error_text(&err);
	*n = u.n;
	*isnull = u.isnull;
	return NULL;
}

/*
 * Highest key in the table, looked for from the newest partition down (and
 * in the default partition), so that a large table is not scanned whole.
 */
bool
dbopt_part_highest_key(const Tree *t, int64 *max)
{
	int64		best = 0;
	bool		found = false;
	bool		isnull = true;
	int			i;
	const char *col = quote_identifier(t->key.attname);

	if (t->def && dbopt_part_isolated_int8(psprintf("SELECT max(%s)::int8 FROM %s", col,
													dbopt_qualified_relname(t->def->relid)),
										   0, &best, &isnull) == NULL && !isnull)
		found = true;
	for (i = t->nparts - 1; i >= 0; i--)
	{
		int64		m = 0;

		CHECK_FOR_INTERRUPTS();
		if (dbopt_part_isolated_int8(psprintf("SELECT max(%s)::int8 FROM %s", col,
											  dbopt_qualified_relname(t->parts[i].relid)),
									 0, &m, &isnull) != NULL || isnull)
			continue;
		if (!found || m > best)
			best = m;
		found = true;
		break;
	}
	*max = best;
	return found;
}

/* ---------- other partition managers ---------- */

typedef struct ManagerUnit
{
	Oid			parent;
	Oid			catalog;		/* the other extension's own table */
	bool		partman;		/* pg_partman's part_config, else TimescaleDB's hypertable */
	bool		found;
} ManagerUnit;

static void
manager_unit(void *arg)
{
	ManagerUnit *u = arg;
	char	   *nsp = get_namespace_name(get_rel_namespace(u->parent));
	char	   *rel = get_rel_name(u->parent);
	Oid			argtypes[2];
	Datum		args[2];
	char	   *sql;
	bool		isnull;

	if (u->partman)
	{
		/* pg_partman keeps "schema.table", as given to create_parent(). */
		argtypes[0] = argtypes[1] = TEXTOID;
		args[0] = CStringGetTextDatum(psprintf("%s.%s", nsp, rel));
		args[1] = CStringGetTextDatum(dbopt_qualified_relname(u->parent));
		sql = psprintf("SELECT pg_catalog.count(*) FROM %s WHERE parent_table OPERATOR(pg_catalog.=) ANY (ARRAY[$1, $2])",
					   dbopt_qualified_relname(u->catalog));
	}
	else
	{
		argtypes[0] = argtypes[1] = NAMEOID;
		args[0] = DirectFunctionCall1(namein, CStringGetDatum(nsp));
		args[1] = DirectFunctionCall1(namein, CStringGetDatum(rel));
		sql = psprintf("SELECT pg_catalog.count(*) FROM %s WHERE schema_name OPERATOR(pg_catalog.=) $1"
					   " AND table_name OPERATOR(pg_catalog.=) $2", dbopt_qualified_relname(u->catalog));
	}
	SPI_connect();
	if (SPI_execute_with_args(sql, 2, argtypes, args, NULL, true, 0) != SPI_OK_SELECT)
		elog(ERROR, "could not run %s", sql);
	u->found = DatumGetInt64(SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1, &isnull)) > 0;
	SPI_finish();
}

/*
 * The ordinary table relname in nspname that belongs to extension ext, or
 * InvalidOid: a view or a table someone put in its place is not the
 * extension's catalog and is never read.
 */
static Oid
extension_table(Oid ext, Oid nsp, const char *relname)
{
	Oid			relid = OidIsValid(nsp) ? get_relname_relid(relname, nsp) : InvalidOid;

	if (!OidIsValid(relid) || get_rel_relkind(relid) != RELKIND_RELATION ||
		getExtensionOfObject(RelationRelationId, relid) != ext)
		return InvalidOid;
	return relid;
}

/*
 * The other tool that manages parent's partitions, or NULL.  Two managers
 * of one table undo each other's work (names, premake, retention), so dbopt
 * stays away unless told otherwise.  Each catalog is read as the owner of
 * its own extension, restricted, never as dbopt's owner: whoever installed
 * pg_partman may own its tables, and reading them must not run anything
 * with more rights than theirs.  A catalog that is missing, replaced or
 * unreadable means "maybe", which also keeps dbopt away.
 */
static char *
foreign_manager(Oid parent)
{
	static const char *const names[2] = {"pg_partman", "timescaledb"};
	int			i;

	for (i = 0; i < 2; i++)
	{
		Oid			ext = get_extension_oid(names[i], true);
		ManagerUnit u;
		DboptUnitError err;

		if (!OidIsValid(ext))
			continue;
		memset(&u, 0, sizeof(u));
		u.parent = parent;
		u.partman = i == 0;
		u.catalog = u.partman ?
			extension_table(ext, dbopt_extension_schema(names[i]), "part_config") :
			extension_table(ext, get_namespace_oid("_timescaledb_catalog", true), "hypertable");
		if (!OidIsValid(u.catalog))
			return psprintf("%s is installed but its catalog table is missing or not its own", names[i]);
		if (!dbopt_run_unit(manager_unit, &u, dbopt_extension_owner_of(names[i]), 0, 0, &err))
			return psprintf("%s may manage it (its catalog could not be read: %s)", names[i],
							dbopt_unit_error_text(&err));
		if (u.found)
			return psprintf("%s manages its partitions", u.partman ? "pg_partman" : "TimescaleDB");
	}
	return NULL;
}

/* For functions given one table: refuse a table another tool manages, unless forced. */
void
dbopt_part_check_foreign_manager(Oid parent, bool force, const char *func)
{
	char	   *who;

	if (force || (who = foreign_manager(parent)) == NULL)
		return;
	ereport(ERROR,
			(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
			 errmsg("%s is managed by another tool", dbopt_qualified_relname(parent)),
			 errdetail("%s() refuses because %s; two managers of one table undo each other's partitions.",
					   func, who),
			 errhint("Unmanage it there first (for pg_partman: DELETE its row from part_config), or pass force => true.")));
}

/* ---------- arguments ---------- */


void
dbopt_part_check_parent(Oid parent)
{
	if (get_rel_relkind(parent) != RELKIND_PARTITIONED_TABLE)
		ereport(ERROR,
				(errcode(ERRCODE_WRONG_OBJECT_TYPE),
				 errmsg("\"%s\" is not a partitioned table", dbopt_qualified_relname(parent)),
				 errdetail("dbopt manages the partitions of range-partitioned tables."),
				 errhint("Pass the partitioned parent table, not one of its partitions.")));
}

static char *
owner_detail(const char *func, Oid parent)
{
	return psprintf("%s() changes the partitions of %s, which only its owner may do.",
					func, dbopt_qualified_relname(parent));
}

void
dbopt_part_check_owner(Oid parent, const char *func)
{
	dbopt_require_owner(parent, "%s", owner_detail(func, parent));
}

void
dbopt_part_require_supported_key(const KeyInfo *k)
{
	if (!k->supported)
		ereport(ERROR,
				(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
				 errmsg("dbopt cannot manage the partitions of %s", dbopt_qualified_relname(k->parent)),
				 errdetail("The table cannot be managed because %s.", k->unsupported),
				 errhint("dbopt manages tables partitioned BY RANGE on one timestamptz, timestamp, date, smallint, integer or bigint column.")));
}

/*
 * Parse an interval literal (time keys) or integer literal (integer keys)
 * given for argument argname, with a clear error when it does not fit.
 */
Step
dbopt_part_parse_step(const KeyInfo *k, const char *argname, const char *text, bool whole_days)
{
	Step		s = {NULL, 0};

	if (k->is_time)
	{
		Interval   *iv = palloc(sizeof(Interval));
		char	   *problem = NULL;

		dbopt_require_unit(argname, text,
						   psprintf("The key \"%s\" is of type %s", k->attname, format_type_be(k->typid)));
		(void) dbopt_interval_in_safe(text, iv, &problem);
		if (problem == NULL &&
			(iv->month < 0 || iv->day < 0 || iv->time < 0 ||
			 (iv->month == 0 && iv->day == 0 && iv->time == 0)))
			problem = pstrdup("it must be a positive interval");
		if (problem == NULL && whole_days && iv->time != 0)
			problem = pstrdup("a date key needs whole days, weeks, months or years");
		if (problem != NULL)
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("invalid %s \"%s\" for partition key \"%s\" of type %s",
							argname, text, k->attname, format_type_be(k->typid)),
					 errdetail("The key is a time column, so %s must be an interval literal: %s.",
							   argname, problem),
					 errhint("Use a literal such as '1 day', '1 month' or '24 months'.")));
		s.iv = iv;
	}
	else
	{
		char	   *end;
		int64		n;
		int64		limit = k->typid == INT2OID ? PG_INT16_MAX :
			k->typid == INT4OID ? PG_INT32_MAX : PG_INT64_MAX;

		errno = 0;
		n = strtoi64(text, &end, 10);
		while (*end == ' ')
			end++;
		if (errno != 0 || end == text || *end != '\0' || n <= 0 || n > limit)
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("invalid %s \"%s\" for partition key \"%s\" of type %s",
							argname, text, k->attname, format_type_be(k->typid)),
					 errdetail("The key is an integer column, so %s must be a positive integer literal no larger than %lld.",
							   argname, (long long) limit),
					 errhint("Use a literal such as '100000'.")));
		s.n = n;
	}
	return s;
}

/* ---------- arithmetic on key values ---------- */

Datum
dbopt_part_now_in_key(const KeyInfo *k)
{
	TimestampTz now = GetCurrentTransactionStartTimestamp();

	switch (k->typid)
	{
		case TIMESTAMPTZOID:
			return TimestampTzGetDatum(now);
		case TIMESTAMPOID:
			return DirectFunctionCall1(timestamptz_timestamp, TimestampTzGetDatum(now));
		default:
			return DirectFunctionCall1(timestamptz_date, TimestampTzGetDatum(now));
	}
}

int64
dbopt_part_int_value(const KeyInfo *k, Datum d)
{
	return k->typid == INT2OID ? DatumGetInt16(d) :
		k->typid == INT4OID ? DatumGetInt32(d) : DatumGetInt64(d);
}

bool
dbopt_part_int_datum(const KeyInfo *k, int64 v, Datum *d)
{
	if (k->typid == INT2OID && (v < PG_INT16_MIN || v > PG_INT16_MAX))
		return false;
	if (k->typid == INT4OID && (v < PG_INT32_MIN || v > PG_INT32_MAX))
		return false;
	*d = k->typid == INT2OID ? Int16GetDatum((int16) v) :
		k->typid == INT4OID ? Int32GetDatum((int32) v) : Int64GetDatum(v);
	return true;
}

/*
 * v + sign * times * step in the key type.  Returns false when the result
 * does not fit the type.  Dates are truncated, which moves a retention
 * cutoff earlier, never later.
 */
bool
dbopt_part_key_shift(const KeyInfo *k, Datum v, const Step *step, int sign, int times, Datum *out)
{
	if (!k->is_time)
	{
		int64		delta, r;

		if (pg_mul_s64_overflow(step->n, (int64) times * sign, &delta) ||
			pg_add_s64_overflow(dbopt_part_int_value(k, v), delta, &r))
			return false;
		return dbopt_part_int_datum(k, r, out);
	}
	else
	{
		Interval	iv = *step->iv;
		Datum		r = v;
		int			i;

		if (sign < 0)
		{
			iv.month = -iv.month;
			iv.day = -iv.day;
			iv.time = -iv.time;
		}
		/* One step at a time: month arithmetic does not compose by multiplying. */
		for (i = 0; i < times; i++)
		{
			switch (k->typid)
			{
				case TIMESTAMPTZOID:
					r = DirectFunctionCall2(timestamptz_pl_interval, r, IntervalPGetDatum(&iv));
					if (TIMESTAMP_NOT_FINITE(DatumGetTimestampTz(r)))
						return false;
					break;
				case TIMESTAMPOID:
					r = DirectFunctionCall2(timestamp_pl_interval, r, IntervalPGetDatum(&iv));
					if (TIMESTAMP_NOT_FINITE(DatumGetTimestamp(r)))
						return false;
					break;
				default:
					r = DirectFunctionCall2(date_pl_interval, r, IntervalPGetDatum(&iv));
					if (TIMESTAMP_NOT_FINITE(DatumGetTimestamp(r)))
						return false;
					r = DirectFunctionCall1(timestamp_date, r);
					break;
			}
		}
		*out = r;
		return true;
	}
}

/* v + one integer step (the caller knows it fits). */
Datum
dbopt_part_key_shift_value(const KeyInfo *k, Datum v, const Step *step)
{
	Datum		out = v;

	(void) dbopt_part_key_shift(k, v, step, 1, 1, &out);
	return out;
}

/* Cutoff for "older than step" in the key type, or false if it underflows. */
bool
dbopt_part_retention_cutoff(const Tree *t, const Step *step, Bound *cutoff)
{
	const KeyInfo *k = &t->key;
	Datum		base;

	cutoff->kind = 0;
	if (k->is_time)
		base = dbopt_part_now_in_key(k);
	else
	{
		/* Integer keys: relative to the highest key in the table. */
		int64		max;

		if (!dbopt_part_highest_key(t, &max) || !dbopt_part_int_datum(k, max, &base))
			return false;
	}
	return dbopt_part_key_shift(k, base, step, -1, 1, &cutoff->value);
}

/* ---------- the registry ---------- */

List *
dbopt_part_load_configs(Oid only)
{
	List	   *result = NIL;
	MemoryContext cxt = CurrentMemoryContext;
	Oid			argtypes[1] = {OIDOID};
	Datum		values[1] = {ObjectIdGetDatum(only)};
	uint64		i;
	DboptIdentity saved;
	MemoryContext old;

	dbopt_elevate(&saved);
	SPI_connect();
	/* Through jsonb: the columns of 0.10 may be missing before the update. */
	if (SPI_execute_with_args("SELECT parent::oid, partition_interval, premake, retention, retention_mode,"
							  " coalesce((pg_catalog.to_jsonb(c) OPERATOR(pg_catalog.->>) 'backfill')::boolean, false),"
							  " coalesce((pg_catalog.to_jsonb(c) OPERATOR(pg_catalog.->>) 'force')::boolean, false)"
							  " FROM dbopt.partition_config c"
							  " WHERE $1 = 0 OR parent = $1::regclass ORDER BY parent::oid",
							  1, argtypes, values, NULL, true, 0) != SPI_OK_SELECT)
		elog(ERROR, "could not read dbopt.partition_config");
	/* The rows are built in the caller's context, to outlive SPI's. */
	old = MemoryContextSwitchTo(cxt);
	for (i = 0; i < SPI_processed; i++)
	{
		HeapTuple	tup = SPI_tuptable->vals[i];
		TupleDesc	desc = SPI_tuptable->tupdesc;
		Config	   *c = palloc0(sizeof(Config));
		bool		isnull;

		c->parent = DatumGetObjectId(SPI_getbinval(tup, desc, 1, &isnull));
		c->interval = SPI_getvalue(tup, desc, 2);
		c->premake = DatumGetInt32(SPI_getbinval(tup, desc, 3, &isnull));
		c->retention = SPI_getvalue(tup, desc, 4);
		c->mode = SPI_getvalue(tup, desc, 5);
		c->backfill = DatumGetBool(SPI_getbinval(tup, desc, 6, &isnull));
		c->force = DatumGetBool(SPI_getbinval(tup, desc, 7, &isnull));
		result = lappend(result, c);
	}
	MemoryContextSwitchTo(old);
	SPI_finish();
	dbopt_restore_identity(&saved);
	return result;
}

/* Why a registered parent cannot be processed right now, or NULL. */
static char *
registered_parent_problem(Oid parent)
{
	if (get_rel_relkind(parent) == '\0')
		return psprintf("table with OID %u no longer exists; remove it with dbopt.unmanage_partitions(%u)",
						parent, parent);
	if (get_rel_relkind(parent) != RELKIND_PARTITIONED_TABLE)
		return pstrdup("no longer a partitioned table");
	if (!dbopt_relation_ownercheck(parent, GetUserId()))
		return pstrdup("not the owner of the table");
	return NULL;
}

/*
 * A registered parent's tree, for a run over the registry; NULL, or why it
 * cannot be worked on now: gone, not the caller's, another tool's (then
 * *foreign is set), or its lock is busy.
 */
char *
dbopt_part_load_registered(const Config *c, Tree *t, bool *foreign)
{
	char	   *problem = registered_parent_problem(c->parent);

	*foreign = false;
	if (problem == NULL && !c->force)
		*foreign = (problem = foreign_manager(c->parent)) != NULL;
	if (problem == NULL)
		problem = dbopt_part_load_tree_isolated(c->parent, t);
	return problem;
}

void
dbopt_part_check_mode(const char *argname, const char *mode)
{
	if (strcmp(mode, "drop") != 0 && strcmp(mode, "detach") != 0)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("invalid %s \"%s\"", argname, mode),
				 errdetail("A partition past retention is either dropped or detached."),
				 errhint("Use 'drop', or 'detach' to keep old partitions as plain tables in the same schema.")));
}

/* Seconds a time step spans, months as 30 days; -1 for an integer step. */
static double
step_seconds(const Step *s)
{
	if (s->iv == NULL)
		return -1;
	return (double) s->iv->month * DAYS_PER_MONTH * SECS_PER_DAY +
		(double) s->iv->day * SECS_PER_DAY + (double) s->iv->time / USECS_PER_SEC;
}

/* The other blast-radius limit: no partition_interval below dbopt.min_partition_interval. */
char *
dbopt_part_min_interval_problem(const Step *s)
{
	double		secs = step_seconds(s);

	if (secs < 0 || secs >= dbopt_min_partition_interval_s)
		return NULL;
	return psprintf("partition_interval spans %.0f seconds, less than dbopt.min_partition_interval (%d s)",
					secs, dbopt_min_partition_interval_s);
}

static void
check_min_interval(const KeyInfo *k, Step s)
{
	if (dbopt_part_min_interval_problem(&s))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("partition_interval of %s is too small", dbopt_qualified_relname(k->parent)),
				 errdetail("It spans %.0f seconds; dbopt.min_partition_interval is %d s, because so many partitions would fill the lock table.",
						   step_seconds(&s), dbopt_min_partition_interval_s),
				 errhint("Use a wider interval such as '1 day'.  To allow it for this session: SET dbopt.min_partition_interval = '%.0fs';",
						 step_seconds(&s))));
}

PG_FUNCTION_INFO_V1(dbopt_manage_partitions);

Datum
dbopt_manage_partitions(PG_FUNCTION_ARGS)
{
	Oid			parent;
	char	   *interval;
	int			premake;
	char	   *retention;
	char	   *mode;
	Tree		t;
	TupleDesc	desc;
	bool		backfill = dbopt_steering_bool(fcinfo, 5, "backfill");
	bool		force = dbopt_steering_bool(fcinfo, 6, "force");
	Oid			argtypes[10] = {OIDOID, TEXTOID, INT4OID, TEXTOID, TEXTOID, NAMEOID, OIDOID, NAMEOID,
	BOOLOID, BOOLOID};
	Datum		values[10];
	char		nulls[10] = {' ', ' ', ' ', ' ', ' ', ' ', ' ', ' ', ' ', ' '};
	HeapTuple	result;

	if (PG_ARGISNULL(0) || PG_ARGISNULL(1) || PG_ARGISNULL(2) || PG_ARGISNULL(4))
		ereport(ERROR,
				(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
				 errmsg("parent, partition_interval, premake and retention_mode must not be null"),
				 errdetail("Only retention may be NULL, meaning that partitions are kept forever."),
				 errhint("Pass the table, its partition width such as '1 month', and how many partitions to keep ready.")));
	parent = PG_GETARG_OID(0);
	interval = text_to_cstring(PG_GETARG_TEXT_PP(1));
	premake = PG_GETARG_INT32(2);
	retention = PG_ARGISNULL(3) ? NULL : text_to_cstring(PG_GETARG_TEXT_PP(3));
	mode = text_to_cstring(PG_GETARG_TEXT_PP(4));

	dbopt_part_check_parent(parent);
	dbopt_part_check_owner(parent, "manage_partitions");
	dbopt_part_load_tree(parent, &t);
	dbopt_part_require_supported_key(&t.key);
	check_min_interval(&t.key, dbopt_part_parse_step(&t.key, "partition_interval", interval, t.key.typid == DATEOID));
	if (retention)
		(void) dbopt_part_parse_step(&t.key, "retention", retention, false);
	if (premake < 0 || premake > 1000)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("premake must be between 0 and 1000, not %d", premake),
				 errdetail("premake is the number of partitions kept ready beyond the current one."),
				 errhint("Most tables use 2 to 7.")));
	dbopt_part_check_mode("retention_mode", mode);
	dbopt_part_check_foreign_manager(parent, force, "manage_partitions");

	if (get_call_result_type(fcinfo, NULL, &desc) != TYPEFUNC_COMPOSITE)
		elog(ERROR, "manage_partitions must return a composite type");

	values[0] = ObjectIdGetDatum(parent);
	values[1] = CStringGetTextDatum(interval);
	values[2] = Int32GetDatum(premake);
	values[3] = retention ? CStringGetTextDatum(retention) : (Datum) 0;
	nulls[3] = retention ? ' ' : 'n';
	values[4] = CStringGetTextDatum(mode);
	values[5] = DirectFunctionCall1(namein, CStringGetDatum(t.key.attname));
	values[6] = ObjectIdGetDatum(t.key.typid);
	values[7] = DirectFunctionCall1(namein, CStringGetDatum(GetUserNameFromId(GetUserId(), false)));
	values[8] = BoolGetDatum(backfill);
	values[9] = BoolGetDatum(force);

	result = dbopt_write_elevated("INSERT INTO dbopt.partition_config AS c"
							  " (parent, partition_interval, premake, retention, retention_mode, key_column, key_type, registered_by,"
							  " backfill, force)"
							  " VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)"
							  " ON CONFLICT (parent) DO UPDATE SET partition_interval = excluded.partition_interval,"
							  " premake = excluded.premake, retention = excluded.retention,"
							  " retention_mode = excluded.retention_mode, key_column = excluded.key_column,"
							  " key_type = excluded.key_type, registered_by = excluded.registered_by,"
							  " backfill = excluded.backfill, force = excluded.force"
							  " RETURNING c.*",
							10, argtypes, values, nulls, NULL);

	dbopt_log_action("manage_partitions", dbopt_qualified_relname(parent), "registered", -1, -1,
					 psprintf("interval %s, premake %d, retention %s (%s)%s%s", interval, premake,
							  retention ? retention : "none", mode,
							  backfill ? ", backfill" : "", force ? ", forced beside another manager" : ""));
	PG_RETURN_DATUM(heap_copy_tuple_as_datum(result, desc));
}

PG_FUNCTION_INFO_V1(dbopt_unmanage_partitions);

Datum
dbopt_unmanage_partitions(PG_FUNCTION_ARGS)
{
	Oid			parent = PG_GETARG_OID(0);

	PG_RETURN_BOOL(dbopt_unregister("partition_config", "parent", parent, "unmanage_partitions",
									NULL, "is not registered with dbopt.manage_partitions()",
									owner_detail("unmanage_partitions", parent)));
}

/* ---------- runs: counts and limits ---------- */

/*
 * fn for each registered parent in configs, in turn: each under
 * dbopt.lock_timeout, in a memory context of its own that is reset after
 * it.
 */
void
dbopt_part_each_config(List *configs, DboptPartConfigFn fn, void *arg)
{
	MemoryContext itemcxt = AllocSetContextCreate(CurrentMemoryContext, "dbopt partition parent",
												  ALLOCSET_DEFAULT_SIZES);
	MemoryContext old = MemoryContextSwitchTo(itemcxt);
	ListCell   *lc;

	foreach(lc, configs)
	{
		int			nest;

		CHECK_FOR_INTERRUPTS();
		nest = dbopt_push_lock_timeout();
		fn(lfirst(lc), arg);
		AtEOXact_GUC(true, nest);
		MemoryContextReset(itemcxt);
	}
	MemoryContextSwitchTo(old);
	MemoryContextDelete(itemcxt);
}

/*
 * The blast-radius limit: one call creates, drops or detaches at most
 * dbopt.max_partitions_per_call partitions.  Checked on the plan, before
 * the first change, and the same in a dry run, so the two agree.
 */
void
dbopt_part_limit_ops(OpCounts *counts, List *ops, const char *verb)
{
	ListCell   *lc;
	int			n = 0;

	foreach(lc, ops)
		if (((PartOp *) lfirst(lc))->action != PA_SKIP)
			n++;
	counts->planned += n;
	if (counts->planned > dbopt_max_partitions_per_call)
		ereport(ERROR,
				(errcode(ERRCODE_PROGRAM_LIMIT_EXCEEDED),
				 errmsg("this call would %s %d partitions, more than dbopt.max_partitions_per_call (%d)",
						verb, counts->planned, dbopt_max_partitions_per_call),
				 errdetail("Nothing was changed.  The limit stops a partition_interval or retention far smaller than meant from filling the lock table."),
				 errhint("Check the partition_interval in dbopt.partition_config.  To allow it for this session: SET dbopt.max_partitions_per_call = %d;",
						 counts->planned)));
}

/*
 * A unit that failed: the partition is skipped with the reason, counted,
 * remembered for the summary and logged, outside the rolled-back unit.
 */
void
dbopt_part_record_skip(PartOp *op, const char *detail, const char *operation, OpCounts *counts)
{
	op->detail = (char *) detail;
	counts->skipped++;
	if (counts->first_problem == NULL)
		counts->first_problem = MemoryContextStrdup(GetMemoryChunkContext(counts),
													psprintf("%s: %s", op->name, op->detail));
	dbopt_log_action(operation, op->name, "skipped", op->rows, op->bytes, op->detail);
}
