/*-------------------------------------------------------------------------
 *
 * partitions.c
 *	  Range-partition management: the registry (dbopt.partition_config),
 *	  future partitions, retention by whole partitions, and the
 *	  distribution report.
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
#include "dbopt/util.h"

/* A range bound: MINVALUE (-1), a value (0) or MAXVALUE (1). */
typedef struct Bound
{
	int			kind;
	Datum		value;
} Bound;

/* The single-column range key of one partitioned table. */
typedef struct KeyInfo
{
	Oid			parent;
	char		strategy;
	bool		supported;		/* one plain column of a supported type */
	char	   *unsupported;	/* why not, when !supported */
	AttrNumber	attnum;
	char	   *attname;
	Oid			typid;			/* base type */
	int16		typlen;
	bool		typbyval;
	bool		is_time;
	Oid			collation;
	FmgrInfo	cmp;
} KeyInfo;

typedef struct Part
{
	Oid			relid;
	char		relkind;
	bool		is_default;
	bool		is_range;
	Bound		lo;
	Bound		hi;
} Part;

/* A partitioned table and its direct partitions, non-default ones sorted by bound. */
typedef struct Tree
{
	KeyInfo		key;
	Part	   *parts;
	int			nparts;			/* non-default */
	Part	   *def;			/* default partition, or NULL */
} Tree;

/* The step between bounds: an interval for time keys, a count for integer keys. */
typedef struct Step
{
	Interval   *iv;
	int64		n;
} Step;

/* One row of the partition_config registry. */
typedef struct Config
{
	Oid			parent;
	char	   *interval;
	int			premake;
	char	   *retention;
	char	   *mode;
	bool		backfill;		/* also fill gaps below the newest partition */
	bool		force;			/* managed although another tool manages it too */
} Config;

/* One action on one partition, planned before anything is done. */
typedef enum PartAction
{
	PA_DROP,
	PA_DETACH,
	PA_CREATE,
	PA_SKIP
} PartAction;

typedef struct PartOp
{
	PartAction	action;
	Oid			parent;
	Oid			relid;			/* existing partition; InvalidOid for PA_CREATE */
	char	   *name;			/* qualified name */
	char	   *relname;		/* unqualified, for PA_CREATE */
	Bound		lo;
	Bound		hi;
	char	   *lo_text;
	char	   *hi_text;
	int64		rows;
	int64		bytes;
	char	   *detail;
	char	   *fix_sql;
	int64		default_rows;	/* PA_CREATE: rows in the default partition in range */
	Bound		cutoff;			/* PA_DROP/PA_DETACH: re-checked under lock */
	KeyInfo    *key;
	bool		require_empty;	/* PA_DROP: refuse if it holds rows (archive mode) */
	bool		done;			/* dropped or detached (or would be, in a dry run) */
} PartOp;

#define PART_CREATE_LIMIT 10000
#define PART_SKIP_LIMIT 1000000	/* steps walked below a retention cutoff */

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

static int
bound_cmp(const KeyInfo *k, const Bound *a, const Bound *b)
{
	if (a->kind != b->kind)
		return a->kind < b->kind ? -1 : 1;
	if (a->kind != 0)
		return 0;
	return DatumGetInt32(FunctionCall2Coll((FmgrInfo *) &k->cmp, k->collation,
										   a->value, b->value));
}

static char *
bound_text(const KeyInfo *k, const Bound *b)
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
static PartitionBoundSpec *
stored_bound(Oid relid)
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

static void
fill_part(const KeyInfo *k, Oid relid, Part *p)
{
	PartitionBoundSpec *spec = stored_bound(relid);

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

static int
part_cmp(const void *a, const void *b, void *arg)
{
	const Part *pa = a;
	const Part *pb = b;

	if (!pa->is_range || !pb->is_range)
		return (int) pb->is_range - (int) pa->is_range;
	return bound_cmp(arg, &pa->lo, &pb->lo);
}

/*
 * Read a partitioned table's key and direct partitions.  The parent is
 * locked ACCESS SHARE (waiting at most lock_timeout, which the caller has
 * set); that keeps every existing partition's bounds fixed until we end,
 * since detaching needs a stronger lock on the parent.
 */
static void
load_tree(Oid parent, Tree *t)
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

		fill_part(&t->key, pd->oids[i], &p);
		if (p.is_default)
		{
			t->def = palloc(sizeof(Part));
			*t->def = p;
		}
		else
			t->parts[t->nparts++] = p;
	}
	if (t->key.strategy == PARTITION_STRATEGY_RANGE && t->key.attnum != 0)
		qsort_arg(t->parts, t->nparts, sizeof(Part), part_cmp, &t->key);
	relation_close(rel, NoLock);
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
static char *
isolated_int8(const char *sql, int timeout_ms, int64 *n, bool *isnull)
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
static bool
highest_key(const Tree *t, int64 *max)
{
	int64		best = 0;
	bool		found = false;
	bool		isnull = true;
	int			i;
	const char *col = quote_identifier(t->key.attname);

	if (t->def && isolated_int8(psprintf("SELECT max(%s)::int8 FROM %s", col,
										 dbopt_qualified_relname(t->def->relid)),
								0, &best, &isnull) == NULL && !isnull)
		found = true;
	for (i = t->nparts - 1; i >= 0; i--)
	{
		int64		m = 0;

		CHECK_FOR_INTERRUPTS();
		if (isolated_int8(psprintf("SELECT max(%s)::int8 FROM %s", col,
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

/* ---------- arguments ---------- */

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
static void
check_foreign_manager(Oid parent, bool force, const char *func)
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


static void
check_parent(Oid parent)
{
	if (get_rel_relkind(parent) != RELKIND_PARTITIONED_TABLE)
		ereport(ERROR,
				(errcode(ERRCODE_WRONG_OBJECT_TYPE),
				 errmsg("\"%s\" is not a partitioned table", dbopt_qualified_relname(parent)),
				 errdetail("dbopt manages the partitions of range-partitioned tables."),
				 errhint("Pass the partitioned parent table, not one of its partitions.")));
}

static void
check_owner(Oid parent, const char *func)
{
	if (!dbopt_relation_ownercheck(parent, GetUserId()))
		ereport(ERROR,
				(errcode(ERRCODE_INSUFFICIENT_PRIVILEGE),
				 errmsg("must be owner of table %s", get_rel_name(parent)),
				 errdetail("%s() changes the partitions of %s, which only its owner may do.",
						   func, dbopt_qualified_relname(parent)),
				 errhint("Run it as the owner of the table, or as a member of the owning role.")));
}

static void
require_supported_key(const KeyInfo *k)
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
static Step
parse_step(const KeyInfo *k, const char *argname, const char *text, bool whole_days)
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

static Datum
now_in_key(const KeyInfo *k)
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

static int64
int_value(const KeyInfo *k, Datum d)
{
	return k->typid == INT2OID ? DatumGetInt16(d) :
		k->typid == INT4OID ? DatumGetInt32(d) : DatumGetInt64(d);
}

static bool
int_datum(const KeyInfo *k, int64 v, Datum *d)
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
static bool
key_shift(const KeyInfo *k, Datum v, const Step *step, int sign, int times, Datum *out)
{
	if (!k->is_time)
	{
		int64		delta, r;

		if (pg_mul_s64_overflow(step->n, (int64) times * sign, &delta) ||
			pg_add_s64_overflow(int_value(k, v), delta, &r))
			return false;
		return int_datum(k, r, out);
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
static Datum
key_shift_value(const KeyInfo *k, Datum v, const Step *step)
{
	Datum		out = v;

	(void) key_shift(k, v, step, 1, 1, &out);
	return out;
}

/*
 * For an integer key: the last bound on v's grid (v + n * step) at or below
 * limit, so that a walk below a retention cutoff costs one step, not
 * billions.
 */
static Datum
int_floor_step(const KeyInfo *k, Datum v, const Step *step, Datum limit)
{
	int64		from = int_value(k, v);
	int64		to = int_value(k, limit);
	int64		n;
	Datum		out;

	if (to <= from)
		return key_shift_value(k, v, step);
	/* (to - from) may overflow int64 only for bigint keys spanning the whole range. */
	n = (int64) (((uint64) to - (uint64) from) / (uint64) step->n);
	if (n < 1 || !key_shift(k, v, step, 1, 1, &out))
		return key_shift_value(k, v, step);
	if (!int_datum(k, (int64) ((uint64) from + (uint64) n * (uint64) step->n), &out))
		return key_shift_value(k, v, step);
	return out;
}

/* hi - lo as an interval, for a time key. */
static Interval *
bound_width(const KeyInfo *k, const Bound *lo, const Bound *hi)
{
	Datum		a = hi->value;
	Datum		b = lo->value;

	if (k->typid == DATEOID)
	{
		a = DirectFunctionCall1(date_timestamp, a);
		b = DirectFunctionCall1(date_timestamp, b);
	}
	/* timestamptz and timestamp share a representation. */
	return DatumGetIntervalP(DirectFunctionCall2(timestamp_mi, a, b));
}

/* Start of the interval-sized slot holding v, for a table with no partitions yet. */
static Datum
key_anchor(const KeyInfo *k, Datum v, const Step *step)
{
	const char *unit;
	Datum		u;

	if (!k->is_time)
	{
		int64		x = int_value(k, v);
		int64		a = x - ((x % step->n) + step->n) % step->n;
		Datum		d;

		return int_datum(k, a, &d) ? d : v;
	}
	if (step->iv->month > 0)
		unit = step->iv->month % 12 == 0 ? "year" : "month";
	else if (step->iv->day > 0)
		unit = step->iv->day % 7 == 0 ? "week" : "day";
	else if (step->iv->time >= USECS_PER_HOUR)
		unit = "hour";
	else
		unit = "minute";
	u = CStringGetTextDatum(unit);
	switch (k->typid)
	{
		case TIMESTAMPTZOID:
			return DirectFunctionCall2(timestamptz_trunc, u, v);
		case TIMESTAMPOID:
			return DirectFunctionCall2(timestamp_trunc, u, v);
		default:
			return DirectFunctionCall1(timestamp_date,
									   DirectFunctionCall2(timestamp_trunc, u,
														   DirectFunctionCall1(date_timestamp, v)));
	}
}

/* ---------- output rows ---------- */

/* Columns of drop_old_partitions(). */
static void
put_drop_row(ReturnSetInfo *rsinfo, const PartOp *op, const char *action)
{
	Datum		values[8];
	bool		nulls[8] = {0};

	values[0] = ObjectIdGetDatum(op->parent);
	values[1] = CStringGetTextDatum(op->name);
	values[2] = op->lo_text ? CStringGetTextDatum(op->lo_text) : (Datum) 0;
	nulls[2] = op->lo_text == NULL;
	values[3] = op->hi_text ? CStringGetTextDatum(op->hi_text) : (Datum) 0;
	nulls[3] = op->hi_text == NULL;
	values[4] = CStringGetTextDatum(action);
	values[5] = Int64GetDatum(op->rows);
	nulls[5] = op->rows < 0;
	values[6] = Int64GetDatum(op->bytes);
	nulls[6] = op->bytes < 0;
	values[7] = op->detail ? CStringGetTextDatum(op->detail) : (Datum) 0;
	nulls[7] = op->detail == NULL;
	tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc, values, nulls);
}

/* Columns of create_future_partitions(). */
static void
put_create_row(ReturnSetInfo *rsinfo, const PartOp *op, const char *action, int64 moved)
{
	Datum		values[8];
	bool		nulls[8] = {0};

	values[0] = ObjectIdGetDatum(op->parent);
	values[1] = CStringGetTextDatum(op->name);
	values[2] = CStringGetTextDatum(op->lo_text);
	values[3] = CStringGetTextDatum(op->hi_text);
	values[4] = CStringGetTextDatum(action);
	values[5] = Int64GetDatum(moved);
	nulls[5] = moved < 0;
	values[6] = op->detail ? CStringGetTextDatum(op->detail) : (Datum) 0;
	nulls[6] = op->detail == NULL;
	values[7] = op->fix_sql ? CStringGetTextDatum(op->fix_sql) : (Datum) 0;
	nulls[7] = op->fix_sql == NULL;
	tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc, values, nulls);
}

/* ---------- the registry ---------- */

static List *
load_configs(Oid only)
{
	List	   *result = NIL;
	MemoryContext cxt = CurrentMemoryContext;
	Oid			argtypes[1] = {OIDOID};
	Datum		values[1] = {ObjectIdGetDatum(only)};
	uint64		i;
	DboptIdentity saved;

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
	for (i = 0; i < SPI_processed; i++)
	{
		HeapTuple	tup = SPI_tuptable->vals[i];
		TupleDesc	desc = SPI_tuptable->tupdesc;
		MemoryContext old = MemoryContextSwitchTo(cxt);
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
		MemoryContextSwitchTo(old);
	}
	SPI_finish();
	dbopt_restore_identity(&saved);
	return result;
}

static Config *
find_config(List *configs, Oid parent)
{
	ListCell   *lc;

	foreach(lc, configs)
	{
		Config	   *c = lfirst(lc);

		if (c->parent == parent)
			return c;
	}
	return NULL;
}

static void
check_mode(const char *argname, const char *mode)
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
static char *
min_interval_problem(const Step *s)
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
	if (min_interval_problem(&s))
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

	check_parent(parent);
	check_owner(parent, "manage_partitions");
	load_tree(parent, &t);
	require_supported_key(&t.key);
	check_min_interval(&t.key, parse_step(&t.key, "partition_interval", interval, t.key.typid == DATEOID));
	if (retention)
		(void) parse_step(&t.key, "retention", retention, false);
	if (premake < 0 || premake > 1000)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("premake must be between 0 and 1000, not %d", premake),
				 errdetail("premake is the number of partitions kept ready beyond the current one."),
				 errhint("Most tables use 2 to 7.")));
	check_mode("retention_mode", mode);
	check_foreign_manager(parent, force, "manage_partitions");

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

	result = dbopt_register("INSERT INTO dbopt.partition_config AS c"
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
	bool		exists = get_rel_relkind(parent) != '\0';

	/* A dropped parent leaves a stale row that anyone allowed to run this may clear. */
	if (exists)
		check_owner(parent, "unmanage_partitions");
	PG_RETURN_BOOL(dbopt_unregister("partition_config", "parent", parent, "unmanage_partitions",
									NULL, "is not registered with dbopt.manage_partitions()"));
}

/* ---------- retention ---------- */

static PartOp *
new_op(PartAction action, const Tree *t, const Part *p)
{
	PartOp	   *op = palloc0(sizeof(PartOp));

	op->action = action;
	op->parent = t->key.parent;
	op->relid = p->relid;
	op->name = dbopt_qualified_relname(p->relid);
	op->lo = p->lo;
	op->hi = p->hi;
	op->lo_text = bound_text(&t->key, &p->lo);
	op->hi_text = bound_text(&t->key, &p->hi);
	op->key = (KeyInfo *) &t->key;
	op->rows = -1;
	op->bytes = -1;
	return op;
}

static bool
same_key_column(const KeyInfo *parent, const KeyInfo *child)
{
	return child->supported && child->typid == parent->typid &&
		strcmp(child->attname, parent->attname) == 0;
}

/*
 * Plan retention for one partitioned table: the partitions whose whole
 * range lies below cutoff, oldest first.  A straddling sub-partitioned
 * child keyed on the same column is examined in turn; its own partitions
 * may qualify.  The last non-default partition of a table is never
 * planned for removal.
 */
static List *
plan_retention(Tree *t, const Bound *cutoff, PartAction action, List *ops)
{
	int			i;
	int			nqual = 0;
	PartOp	   *last_qual = NULL;

	for (i = 0; i < t->nparts; i++)
	{
		Part	   *p = &t->parts[i];

		CHECK_FOR_INTERRUPTS();
		if (!p->is_range || !OidIsValid(p->relid))
			continue;			/* planned partitions are never removed */
		if (bound_cmp(&t->key, &p->hi, cutoff) <= 0)
		{
			PartOp	   *op = new_op(action, t, p);

			op->cutoff = *cutoff;
			op->detail = psprintf("range lies wholly below the cutoff %s",
								  bound_text(&t->key, cutoff));
			ops = lappend(ops, op);
			nqual++;
			last_qual = op;
		}
		else if (bound_cmp(&t->key, &p->lo, cutoff) < 0)
		{
			Tree	   *sub;

			if (p->relkind == RELKIND_PARTITIONED_TABLE)
			{
				sub = palloc(sizeof(Tree));
				load_tree(p->relid, sub);
				if (same_key_column(&t->key, &sub->key))
				{
					ops = plan_retention(sub, cutoff, action, ops);
					continue;
				}
			}
			{
				PartOp	   *op = new_op(PA_SKIP, t, p);

				op->detail = psprintf("straddles the cutoff %s: it may hold newer rows, so it stays",
									  bound_text(&t->key, cutoff));
				ops = lappend(ops, op);
			}
		}
		else
			break;				/* sorted: the rest are newer */
	}
	if (nqual > 0 && nqual == t->nparts)
	{
		last_qual->action = PA_SKIP;
		last_qual->detail = pstrdup("the last remaining partition of its table stays, so that new rows have somewhere to go");
	}
	return ops;
}

typedef struct RemoveUnit
{
	PartOp	   *op;
	bool		parent_locked;	/* set once the parent's lock is granted */
} RemoveUnit;

static void
remove_unit(void *arg)
{
	RemoveUnit *u = arg;
	PartOp	   *op = u->op;
	PartitionBoundSpec *spec;
	Part		now_part;
	char	   *sql;

	/* Parent first, as queries do; then the partition. */
	LockRelationOid(op->parent, AccessExclusiveLock);
	u->parent_locked = true;
	LockRelationOid(op->relid, AccessExclusiveLock);

	/* Under lock, confirm the partition is still where we saw it. */
	/*
	 * The parent has been locked since the plan was made, so the partition
	 * cannot have moved to another parent; it may have been dropped, or its
	 * bounds changed through a detach and re-attach by this very session.
	 */
	spec = stored_bound(op->relid);
	if (spec == NULL || !get_rel_relispartition(op->relid))
		ereport(ERROR,
				(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
				 errmsg("partition was detached or dropped by another session")));
	fill_part(op->key, op->relid, &now_part);
	if (!now_part.is_range || bound_cmp(op->key, &now_part.hi, &op->cutoff) > 0)
		ereport(ERROR,
				(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
				 errmsg("partition bounds changed meanwhile")));
	if (op->require_empty)
	{
		/* Not read-only: this transaction's own deletes must be visible. */
		SPI_connect();
		if (SPI_execute(psprintf("SELECT FROM ONLY %s LIMIT 1", op->name), false, 1) != SPI_OK_SELECT)
			elog(ERROR, "could not read %s", op->name);
		if (SPI_processed > 0)
			ereport(ERROR,
					(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
					 errmsg("partition received rows after they were archived"),
					 errdetail("Only an empty partition is dropped in archive mode, so that no row is lost."),
					 errhint("The next run archives the new rows first.")));
		SPI_finish();
	}

	if (op->action == PA_DROP)
		sql = psprintf("DROP TABLE %s", op->name);
	else
		sql = psprintf("ALTER TABLE %s DETACH PARTITION %s",
					   dbopt_qualified_relname(op->parent), op->name);
	SPI_connect();
	if (SPI_execute(sql, false, 0) != SPI_OK_UTILITY)
		elog(ERROR, "could not run %s", sql);
	SPI_finish();
}

/* The maintenance_log row of a partition dropped or detached, in cxt. */
static DboptLogEntry *
removed_entry(MemoryContext cxt, const PartOp *op)
{
	MemoryContext old = MemoryContextSwitchTo(cxt);
	DboptLogEntry *e = palloc(sizeof(DboptLogEntry));

	e->operation = "drop_old_partitions";
	e->object_name = pstrdup(op->name);
	e->action = op->action == PA_DROP ? "dropped" : "detached";
	e->rows = op->rows;
	e->bytes = op->bytes;
	e->detail = op->action == PA_DROP ?
		psprintf("range [%s, %s) of %s", op->lo_text, op->hi_text,
				 dbopt_qualified_relname(op->parent)) :
		psprintf("range [%s, %s) detached from %s; kept as a plain table",
				 op->lo_text, op->hi_text, dbopt_qualified_relname(op->parent));
	MemoryContextSwitchTo(old);
	return e;
}

/* What a run did with its planned partitions. */
typedef struct OpCounts
{
	int			done;			/* created, dropped or detached (or would be) */
	int			kept;			/* by rule: straddling, last remaining */
	int			skipped;		/* failed: lock timeout, dependency, ... */
	char	   *first_problem;	/* for a summary row */
	int			planned;		/* partitions this call planned to change */
} OpCounts;

/*
 * The blast-radius limit: one call creates, drops or detaches at most
 * dbopt.max_partitions_per_call partitions.  Checked on the plan, before
 * the first change, and the same in a dry run, so the two agree.
 */
static void
limit_ops(OpCounts *counts, List *ops, const char *verb)
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
static void
record_skip(PartOp *op, const char *detail, const char *operation, OpCounts *counts)
{
	op->detail = (char *) detail;
	counts->skipped++;
	if (counts->first_problem == NULL)
		counts->first_problem = MemoryContextStrdup(GetMemoryChunkContext(counts),
													psprintf("%s: %s", op->name, op->detail));
	dbopt_log_action(operation, op->name, "skipped", op->rows, op->bytes, op->detail);
}

/*
 * Carry out (or, in a dry run, describe) a retention plan, one isolated
 * unit per partition, emitting a row per partition.  rsinfo may be NULL
 * when only counts are wanted.
 */
static void
run_retention_ops(List *ops, bool dry_run, ReturnSetInfo *rsinfo, OpCounts *counts,
				  MemoryContext itemcxt, DboptBetweenUnits between, void *between_arg)
{
	ListCell   *lc;
	Oid			busy_parent = InvalidOid;
	char	   *busy_reason = NULL;
	/* Rows for what is done, written together before any commit and at the end. */
	MemoryContext logcxt = GetMemoryChunkContext(counts);
	List	   *done_log = NIL;

	limit_ops(counts, ops, "drop or detach");
	foreach(lc, ops)
	{
		PartOp	   *op = lfirst(lc);
		const char *action;

		CHECK_FOR_INTERRUPTS();
		(void) dbopt_relation_stats_nowait(op->relid, &op->rows, &op->bytes);
		if (op->action == PA_SKIP)
		{
			action = "skipped";
			counts->kept++;
		}
		else if (!dry_run && op->parent == busy_parent)
		{
			/* One wait per parent: the application keeps the parent busy. */
			action = "skipped";
			record_skip(op, busy_reason, "drop_old_partitions", counts);
		}
		else if (dry_run)
		{
			action = op->action == PA_DROP ? "would drop" : "would detach";
			counts->done++;
			op->done = true;
		}
		else
		{
			RemoveUnit	u;
			DboptUnitError err;

			u.op = op;
			u.parent_locked = false;
			/* DROP needs the partition's owner, DETACH the parent's; as them, never as a superuser caller. */
			if (dbopt_run_unit(remove_unit, &u, dbopt_unit_owner(op->action == PA_DROP ? op->relid : op->parent), 0, 0, &err))
			{
				action = op->action == PA_DROP ? "dropped" : "detached";
				counts->done++;
				op->done = true;
				{
					MemoryContext old = MemoryContextSwitchTo(logcxt);

					done_log = lappend(done_log, removed_entry(logcxt, op));
					MemoryContextSwitchTo(old);
				}
			}
			else
			{
				char	   *why = dbopt_unit_error_text(&err);

				action = "skipped";
				if (err.lock_timeout && !u.parent_locked)
				{
					busy_parent = op->parent;
					busy_reason = MemoryContextStrdup(GetMemoryChunkContext(counts),
													  psprintf("parent %s is in use: %s",
															   dbopt_qualified_relname(op->parent), why));
					why = busy_reason;
				}
				record_skip(op, why, "drop_old_partitions", counts);
			}
		}
		if (rsinfo)
			put_drop_row(rsinfo, op, action);
		if (itemcxt)
			MemoryContextReset(itemcxt);
		if (between && op->action != PA_SKIP)
		{
			/* between() may commit: the rows go first. */
			dbopt_log_actions(done_log);
			done_log = NIL;
			if (!between(between_arg))
				break;
		}
	}
	dbopt_log_actions(done_log);
}

/* run_retention_ops() with a memory context reset after each partition. */
static void
run_retention_ops_per_item(List *ops, bool dry_run, ReturnSetInfo *rsinfo, OpCounts *counts,
						   DboptBetweenUnits between, void *between_arg)
{
	MemoryContext itemcxt = AllocSetContextCreate(CurrentMemoryContext, "dbopt partition item",
												  ALLOCSET_SMALL_SIZES);
	MemoryContext old = MemoryContextSwitchTo(itemcxt);

	run_retention_ops(ops, dry_run, rsinfo, counts, itemcxt, between, between_arg);
	MemoryContextSwitchTo(old);
	MemoryContextDelete(itemcxt);
}

/* Cutoff for "older than step" in the key type, or false if it underflows. */
static bool
retention_cutoff(const Tree *t, const Step *step, Bound *cutoff)
{
	const KeyInfo *k = &t->key;
	Datum		base;

	cutoff->kind = 0;
	if (k->is_time)
		base = now_in_key(k);
	else
	{
		/* Integer keys: relative to the highest key in the table. */
		int64		max;

		if (!highest_key(t, &max) || !int_datum(k, max, &base))
			return false;
	}
	return key_shift(k, base, step, -1, 1, &cutoff->value);
}

PG_FUNCTION_INFO_V1(dbopt_drop_old_partitions);

/* drop_old_partitions(parent, older_than, mode, dry_run): any range-partitioned table. */
Datum
dbopt_drop_old_partitions(PG_FUNCTION_ARGS)
{
	ReturnSetInfo *rsinfo = (ReturnSetInfo *) fcinfo->resultinfo;
	Oid			parent;
	char	   *older_than;
	char	   *mode;
	bool		dry_run = dbopt_steering_bool(fcinfo, 3, "dry_run");
	Tree		t;
	Step		step;
	Bound		cutoff;
	List	   *ops;
	OpCounts *counts;
	int			nest;

	if (PG_ARGISNULL(0) || PG_ARGISNULL(1) || PG_ARGISNULL(2))
		ereport(ERROR,
				(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
				 errmsg("parent, older_than and mode must not be null"),
				 errdetail("Nothing is dropped without a table and an age."),
				 errhint("For example: dbopt.drop_old_partitions('app.events', '24 months', dry_run => true).")));
	parent = PG_GETARG_OID(0);
	older_than = text_to_cstring(PG_GETARG_TEXT_PP(1));
	mode = text_to_cstring(PG_GETARG_TEXT_PP(2));

	check_parent(parent);
	check_owner(parent, "drop_old_partitions");
	check_mode("mode", mode);
	check_foreign_manager(parent, dbopt_steering_bool(fcinfo, 4, "force"), "drop_old_partitions");
	nest = dbopt_push_lock_timeout();
	load_tree(parent, &t);
	require_supported_key(&t.key);
	step = parse_step(&t.key, "older_than", older_than, false);

	dbopt_init_materialized_srf(fcinfo);
	counts = palloc0(sizeof(OpCounts));
	if (!retention_cutoff(&t, &step, &cutoff))
	{
		ereport(NOTICE,
				(errmsg("drop_old_partitions: no cutoff for %s", dbopt_qualified_relname(parent)),
				 errdetail("The table has no rows to measure an integer key's age from, or the cutoff is out of range.")));
		AtEOXact_GUC(true, nest);
		return (Datum) 0;
	}
	ops = plan_retention(&t, &cutoff, strcmp(mode, "drop") == 0 ? PA_DROP : PA_DETACH, NIL);
	run_retention_ops_per_item(ops, dry_run, rsinfo, counts, NULL, NULL);
	AtEOXact_GUC(true, nest);
	ereport(NOTICE,
			(errmsg("drop_old_partitions%s: %d partition(s) %s, %d kept by rule, %d skipped",
					dry_run ? " dry run" : "", counts->done,
					dry_run ? "would go" : (strcmp(mode, "drop") == 0 ? "dropped" : "detached"),
					counts->kept, counts->skipped)));
	return (Datum) 0;
}

static char *load_tree_isolated(Oid parent, Tree *t);

/*
 * Retention policies (retention.c) on a table range-partitioned by their
 * time column: drop the partitions wholly older than cutoff, by the rules
 * above.  between() runs after each partition acted on; returning false
 * stops the run there.
 */
void
dbopt_drop_partitions_below(Oid parent, const char *column, TimestampTz cutoff,
							bool dry_run, bool require_empty,
							DboptBetweenUnits between, void *between_arg,
							DboptPartitionDrops *out)
{
	Tree		t;
	Bound		cb;
	List	   *ops;
	ListCell   *lc;
	OpCounts   *counts = palloc0(sizeof(OpCounts));
	char	   *problem;

	memset(out, 0, sizeof(*out));
	problem = load_tree_isolated(parent, &t);
	if (problem != NULL)
	{
		/* Rows may still go; the partitions wait for the next run. */
		out->applies = true;
		out->skipped = 1;
		out->first_problem = psprintf("%s: %s", dbopt_qualified_relname(parent), problem);
		return;
	}
	if (!t.key.supported || !t.key.is_time || strcmp(t.key.attname, column) != 0)
		return;
	out->applies = true;

	/* The cutoff in the key type; a date rounds down, so only older days qualify. */
	cb.kind = 0;
	cb.value = t.key.typid == TIMESTAMPTZOID ? TimestampTzGetDatum(cutoff) :
		t.key.typid == TIMESTAMPOID ?
		DirectFunctionCall1(timestamptz_timestamp, TimestampTzGetDatum(cutoff)) :
		DirectFunctionCall1(timestamptz_date, TimestampTzGetDatum(cutoff));

	ops = plan_retention(&t, &cb, PA_DROP, NIL);
	foreach(lc, ops)
		((PartOp *) lfirst(lc))->require_empty = require_empty;
	run_retention_ops_per_item(ops, dry_run, NULL, counts, between, between_arg);
	foreach(lc, ops)
	{
		PartOp	   *op = lfirst(lc);

		if (op->done)
		{
			out->relids = lappend_oid(out->relids, op->relid);
			if (op->rows > 0)
				out->rows += op->rows;
		}
	}
	out->dropped = counts->done;
	out->skipped = counts->skipped;
	out->first_problem = counts->first_problem;
}

/* A parent that cannot be processed: one row saying why. */
static void
put_parent_skip(ReturnSetInfo *rsinfo, Oid parent, const char *detail)
{
	PartOp		op;

	memset(&op, 0, sizeof(op));
	op.parent = parent;
	op.name = get_rel_relkind(parent) ? dbopt_qualified_relname(parent) : psprintf("%u", parent);
	op.rows = -1;
	op.bytes = -1;
	op.detail = (char *) detail;
	put_drop_row(rsinfo, &op, "skipped");
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

typedef struct LoadUnit
{
	Oid			parent;
	Tree	   *tree;
} LoadUnit;

static void
load_unit(void *arg)
{
	LoadUnit   *u = arg;

	load_tree(u->parent, u->tree);
}

/* load_tree() that reports instead of failing (lock timeout on the parent). */
static char *
load_tree_isolated(Oid parent, Tree *t)
{
	LoadUnit	u = {parent, t};
	DboptUnitError err;

	if (dbopt_run_isolated(load_unit, &u, 0, &err))
		return NULL;
	return dbopt_unit_error_text(&err);
}

PG_FUNCTION_INFO_V1(dbopt_drop_old_partitions_months);

/* drop_old_partitions(retention_months, dry_run): every registered parent. */
Datum
dbopt_drop_old_partitions_months(PG_FUNCTION_ARGS)
{
	ReturnSetInfo *rsinfo = (ReturnSetInfo *) fcinfo->resultinfo;
	int			months;
	bool		dry_run = dbopt_steering_bool(fcinfo, 1, "dry_run");
	List	   *configs;
	ListCell   *lc;
	Interval	iv = {0};
	Step		step;
	OpCounts *counts;
	MemoryContext itemcxt;
	MemoryContext old;

	if (PG_ARGISNULL(0) || PG_GETARG_INT32(0) < 1)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("retention_months must be at least 1"),
				 errdetail("Partitions whose whole range is older than this many months are dropped or detached."),
				 errhint("For example: SELECT * FROM dbopt.drop_old_partitions(24, dry_run => true);")));
	months = PG_GETARG_INT32(0);
	iv.month = months;
	step.iv = &iv;
	step.n = 0;

	dbopt_init_materialized_srf(fcinfo);
	counts = palloc0(sizeof(OpCounts));
	configs = load_configs(InvalidOid);
	itemcxt = AllocSetContextCreate(CurrentMemoryContext, "dbopt partition parent",
									ALLOCSET_DEFAULT_SIZES);
	old = MemoryContextSwitchTo(itemcxt);
	foreach(lc, configs)
	{
		Config	   *c = lfirst(lc);
		char	   *problem = registered_parent_problem(c->parent);
		Tree		t;
		Bound		cutoff;
		int			nest;

		CHECK_FOR_INTERRUPTS();
		nest = dbopt_push_lock_timeout();
		if (problem == NULL && !c->force)
			problem = foreign_manager(c->parent);
		if (problem == NULL)
			problem = load_tree_isolated(c->parent, &t);
		if (problem == NULL && !t.key.is_time)
			problem = pstrdup("integer partition key: retention_months applies to time keys; use drop_old_partitions(parent, older_than)");
		if (problem == NULL && !retention_cutoff(&t, &step, &cutoff))
			problem = pstrdup("the cutoff is out of range for the key type");
		if (problem != NULL)
		{
			put_parent_skip(rsinfo, c->parent, problem);
			counts->skipped++;
		}
		else
			run_retention_ops(plan_retention(&t, &cutoff,
											 strcmp(c->mode, "drop") == 0 ? PA_DROP : PA_DETACH, NIL),
							  dry_run, rsinfo, counts, NULL, NULL, NULL);
		AtEOXact_GUC(true, nest);
		MemoryContextReset(itemcxt);
	}
	MemoryContextSwitchTo(old);
	MemoryContextDelete(itemcxt);
	ereport(NOTICE,
			(errmsg("drop_old_partitions%s: %d registered table(s), %d partition(s) %s, %d kept by rule, %d skipped",
					dry_run ? " dry run" : "", list_length(configs), counts->done,
					dry_run ? "would go" : "removed", counts->kept, counts->skipped)));
	return (Datum) 0;
}

/* ---------- future partitions ---------- */

/* How existing partitions are named: prefix, the lower bound formatted, tail. */
typedef struct NamePattern
{
	const char *fmt;			/* to_char() format; "" for an integer key; NULL: none */
	char	   *prefix;
	char	   *tail;
} NamePattern;

/* Formats tried against existing names, those with longer output first. */
static const char *const name_formats[] = {
	"YYYYMMDD_HH24MISS", "YYYY_MM_DD_HH24MISS", "YYYYMMDD_HH24MI", "YYYY_MM_DD_HH24MI",
	"YYYYMMDDHH24", "YYYY_MM_DD", "YYYYMMDD", "IYYY\"w\"IW", "YYYY_MM", "YYYYMM",
	"YYYY\"q\"Q", "YYYY", NULL
};

static char *
format_bound(const KeyInfo *k, const char *fmt, Datum v)
{
	Datum		f;

	if (!k->is_time)
		return psprintf("%lld", (long long) int_value(k, v));
	f = CStringGetTextDatum(fmt);
	if (k->typid == TIMESTAMPTZOID)
		return TextDatumGetCString(DirectFunctionCall2(timestamptz_to_char, v, f));
	if (k->typid == TIMESTAMPOID)
		return TextDatumGetCString(DirectFunctionCall2(timestamp_to_char, v, f));
	return TextDatumGetCString(DirectFunctionCall2(timestamp_to_char,
												   DirectFunctionCall1(date_timestamp, v), f));
}

/* Does name read prefix + formatted + tail, with the same prefix and tail as *pat? */
static bool
name_fits(const char *name, const char *formatted, NamePattern *pat, bool first)
{
	const char *at = NULL;
	const char *c;

	/* The last occurrence: parent names may contain digits too. */
	for (c = strstr(name, formatted); c; c = strstr(c + 1, formatted))
		at = c;
	if (at == NULL)
		return false;
	if (first)
	{
		pat->prefix = pnstrdup(name, at - name);
		pat->tail = pstrdup(at + strlen(formatted));
		return true;
	}
	return strlen(pat->prefix) == (size_t) (at - name) &&
		strncmp(name, pat->prefix, at - name) == 0 &&
		strcmp(at + strlen(formatted), pat->tail) == 0;
}

/*
 * The naming pattern the newest partitions (up to three) share, so that
 * new partitions sit beside them as one set (pg_partman's "_p2024_01",
 * "_p20240101"; a hand-made "_202401").  pat->fmt is NULL when they share
 * none.
 */
static void
infer_name_pattern(const Tree *t, NamePattern *pat)
{
	int			sample[3];
	int			nsample = 0;
	int			i;
	int			f;

	memset(pat, 0, sizeof(*pat));
	for (i = t->nparts - 1; i >= 0 && nsample < 3; i--)
		if (t->parts[i].is_range && t->parts[i].lo.kind == 0 && OidIsValid(t->parts[i].relid))
			sample[nsample++] = i;
	if (nsample == 0)
		return;
	for (f = 0; t->key.is_time ? name_formats[f] != NULL : f == 0; f++)
	{
		const char *fmt = t->key.is_time ? name_formats[f] : "";
		bool		fits = true;

		for (i = 0; i < nsample && fits; i++)
		{
			Part	   *p = &t->parts[sample[i]];

			char	   *name = get_rel_name(p->relid);

			/* Dropped meanwhile: no pattern to follow. */
			fits = name != NULL &&
				name_fits(name, format_bound(&t->key, fmt, p->lo.value), pat, i == 0);
		}
		if (fits)
		{
			pat->fmt = fmt;
			return;
		}
	}
}

/*
 * A name unused in the schema: the existing partitions' pattern when they
 * share one, else <parent>_pYYYYMMDD (time) or <parent>_p<lower> (integer);
 * _2, _3, ... is added on a clash.
 */
static char *
new_partition_name(const KeyInfo *k, const Step *step, const NamePattern *pat, Oid nsp,
				   const char *parent_name, const Bound *lo, List *taken)
{
	char	   *base_prefix;
	char	   *suffix;
	char	   *name;
	int			n;

	if (pat->fmt != NULL)
	{
		base_prefix = pat->prefix;
		suffix = psprintf("%s%s", format_bound(k, pat->fmt, lo->value), pat->tail);
		if (strlen(base_prefix) + strlen(suffix) + 4 > NAMEDATALEN - 1)
			pat = NULL;			/* too long for a name: the default scheme */
	}
	if (pat == NULL || pat->fmt == NULL)
	{
		base_prefix = (char *) parent_name;
		if (k->is_time)
			suffix = psprintf("_p%s", format_bound(k, step->iv->month == 0 && step->iv->day == 0 ?
												   "YYYYMMDD_HH24MI" : "YYYYMMDD", lo->value));
		else
			suffix = psprintf("_p%s", format_bound(k, "", lo->value));
	}

	for (n = 1;; n++)
	{
		char	   *s = n == 1 ? suffix : psprintf("%s_%d", suffix, n);
		int			room = NAMEDATALEN - 1 - strlen(s);
		int			keep = pg_mbcliplen(base_prefix, strlen(base_prefix), room);
		ListCell   *lc;
		bool		used = false;

		name = psprintf("%.*s%s", keep, base_prefix, s);
		foreach(lc, taken)
			used = used || strcmp(lfirst(lc), name) == 0;
		if (!used && !OidIsValid(get_relname_relid(name, nsp)))
			return name;
	}
}

/*
 * Columns copied when default-partition rows move: every live column that
 * is not generated (those are recomputed on insert).
 */
static char *
movable_columns(Oid parent)
{
	Relation	rel = relation_open(parent, AccessShareLock);
	TupleDesc	desc = RelationGetDescr(rel);
	StringInfoData buf;
	int			i;

	initStringInfo(&buf);
	for (i = 0; i < desc->natts; i++)
	{
		Form_pg_attribute att = TupleDescAttr(desc, i);

		if (att->attisdropped || att->attgenerated)
			continue;
		appendStringInfo(&buf, "%s%s", buf.len ? ", " : "", quote_identifier(NameStr(att->attname)));
	}
	relation_close(rel, NoLock);
	return buf.data;
}

static char *
create_sql(const PartOp *op)
{
	Oid			nsp = get_rel_namespace(op->parent);

	return psprintf("CREATE TABLE %s.%s PARTITION OF %s FOR VALUES FROM (%s) TO (%s)",
					quote_identifier(get_namespace_name(nsp)), quote_identifier(op->relname),
					dbopt_qualified_relname(op->parent),
					quote_literal_cstr(op->lo_text), quote_literal_cstr(op->hi_text));
}

/*
 * The statements that move a range's rows out of the default partition
 * into a new partition, in order: stage them in a table of their own,
 * create the partition (now that no default row blocks it), and copy them
 * in.  Run in one transaction, so a failure anywhere loses nothing and
 * leaves no staging table.  The staging table is an unlogged table beside
 * the parent, not a temporary one: the statements run as the parent's
 * owner under SECURITY_RESTRICTED_OPERATION, which forbids temporary
 * tables.
 */
static List *
move_statements(const PartOp *op, const Part *def)
{
	char	   *cols = movable_columns(op->parent);
	char	   *defname = dbopt_qualified_relname(def->relid);
	const char *key = quote_identifier(op->key->attname);
	char	   *newname = psprintf("%s.%s",
								   quote_identifier(get_namespace_name(get_rel_namespace(op->parent))),
								   quote_identifier(op->relname));
	char	   *stage = psprintf("%s.%s",
								 quote_identifier(get_namespace_name(get_rel_namespace(op->parent))),
								 quote_identifier(psprintf("%.*s_dbopt_moving",
														   pg_mbcliplen(get_rel_name(op->parent),
																		strlen(get_rel_name(op->parent)), 40),
														   get_rel_name(op->parent))));
	List	   *stmts = NIL;

	stmts = lappend(stmts, psprintf("CREATE UNLOGGED TABLE %s (LIKE %s)",
									stage, dbopt_qualified_relname(op->parent)));
	stmts = lappend(stmts, psprintf("WITH moved AS (DELETE FROM %s WHERE %s >= %s AND %s < %s RETURNING %s)"
									" INSERT INTO %s (%s) SELECT %s FROM moved",
									defname, key, quote_literal_cstr(op->lo_text),
									key, quote_literal_cstr(op->hi_text), cols, stage, cols, cols));
	stmts = lappend(stmts, create_sql(op));
	stmts = lappend(stmts, psprintf("INSERT INTO %s (%s) OVERRIDING SYSTEM VALUE SELECT %s FROM %s",
									newname, cols, cols, stage));
	stmts = lappend(stmts, psprintf("DROP TABLE %s", stage));
	return stmts;
}

static char *
statements_script(List *stmts)
{
	StringInfoData buf;
	ListCell   *lc;

	initStringInfo(&buf);
	appendStringInfo(&buf, "BEGIN; SET LOCAL lock_timeout = '%dms'; ", dbopt_lock_timeout_ms);
	foreach(lc, stmts)
		appendStringInfo(&buf, "%s; ", (char *) lfirst(lc));
	appendStringInfoString(&buf, "COMMIT;");
	return buf.data;
}

/* Rows of the default partition that fall in [lo, hi); NULL or why not counted. */
static char *
default_rows_in_range(const PartOp *op, const Part *def, int64 *n)
{
	char	   *sql = psprintf("SELECT count(*) FROM %s WHERE %s >= %s AND %s < %s",
							   dbopt_qualified_relname(def->relid),
							   quote_identifier(op->key->attname), quote_literal_cstr(op->lo_text),
							   quote_identifier(op->key->attname), quote_literal_cstr(op->hi_text));
	bool		isnull;

	*n = 0;
	return isolated_int8(sql, dbopt_check_timeout_ms, n, &isnull);
}

/*
 * Plan the partitions that make the table cover up to premake steps past
 * now (time keys) or past the highest key (integer keys).
 *
 * Where it starts: by default at the partition holding that point, or the
 * newest partition below it, as pg_partman does, so stretches below the
 * newest partition stay as they are; with backfill, at the oldest
 * partition, so every gap between existing partitions is filled too.  No
 * partition is planned whose whole range lies below floor (the retention
 * cutoff), which the same run's retention would drop at once.  Every
 * uncovered stretch is filled with whole steps, or with the exact remainder
 * up to the next existing partition, so nothing overlaps.
 */
static List *
plan_future(Tree *t, const Step *step, int premake, bool backfill, const Bound *floor,
			char **problem)
{
	KeyInfo    *k = &t->key;
	Bound		cur = {0, 0};
	Bound		target;
	Bound		pos;
	List	   *ops = NIL;
	List	   *taken = NIL;
	int			i;
	char	   *parent_name = get_rel_name(k->parent);
	Oid			nsp = get_rel_namespace(k->parent);
	NamePattern pattern;
	int			skipped = 0;

	/* Registered before the limit, or the limit was lowered since. */
	*problem = min_interval_problem(step);
	if (*problem != NULL)
		return NIL;
	if (k->is_time)
		cur.value = now_in_key(k);
	else
	{
		int64		max;

		if (!highest_key(t, &max))
		{
			/* Empty: start at the lowest bound, or at zero. */
			max = 0;
			for (i = 0; i < t->nparts; i++)
				if (t->parts[i].is_range && t->parts[i].lo.kind == 0)
				{
					max = int_value(k, t->parts[i].lo.value);
					break;
				}
		}
		if (!int_datum(k, max, &cur.value))
		{
			*problem = pstrdup("highest key is out of range");
			return NIL;
		}
	}
	target.kind = 0;
	if (!key_shift(k, cur.value, step, 1, premake, &target.value))
	{
		target.kind = 1;		/* premake reaches past the type's range */
	}

	pos.kind = 0;
	pos.value = (Datum) 0;
	if (backfill && t->nparts > 0 && t->parts[0].is_range)
		pos = t->parts[0].lo.kind == 0 ? t->parts[0].lo : t->parts[0].hi;
	else
	{
		/* The partition holding cur, else the newest one below it. */
		int			below = -1;
		bool		found = false;

		for (i = 0; i < t->nparts; i++)
		{
			Part	   *p = &t->parts[i];

			if (!p->is_range)
				continue;
			if (bound_cmp(k, &p->lo, &cur) <= 0 && bound_cmp(k, &cur, &p->hi) < 0)
			{
				pos = p->hi;
				found = true;
				break;
			}
			if (bound_cmp(k, &p->hi, &cur) <= 0)
				below = i;
		}
		if (!found)
		{
			if (below >= 0)
				pos = t->parts[below].hi;
			else
				pos.value = key_anchor(k, cur.value, step);
		}
	}
	infer_name_pattern(t, &pattern);

	i = 0;
	while (pos.kind == 0 && bound_cmp(k, &pos, &target) <= 0)
	{
		Bound		next;
		PartOp	   *op;

		CHECK_FOR_INTERRUPTS();
		while (i < t->nparts && (!t->parts[i].is_range || bound_cmp(k, &t->parts[i].hi, &pos) <= 0))
			i++;
		if (i < t->nparts && bound_cmp(k, &t->parts[i].lo, &pos) <= 0)
		{
			pos = t->parts[i].hi;	/* already covered */
			continue;
		}
		next.kind = 0;
		if (!key_shift(k, pos.value, step, 1, 1, &next.value))
		{
			*problem = psprintf("the next partition after %s would pass the range of type %s",
								bound_text(k, &pos), format_type_be(k->typid));
			break;
		}
		if (i < t->nparts && bound_cmp(k, &t->parts[i].lo, &next) < 0)
			next = t->parts[i].lo;	/* fill the gap exactly */
		if (floor != NULL && bound_cmp(k, &next, floor) <= 0)
		{
			/* Retention would drop it: never created.  Integer keys jump. */
			if (!k->is_time && next.value == key_shift_value(k, pos.value, step))
			{
				/* As far as the cutoff, or the next existing partition if nearer. */
				Bound		limit = *floor;

				if (i < t->nparts && bound_cmp(k, &t->parts[i].lo, &limit) < 0)
					limit = t->parts[i].lo;
				if (limit.kind == 0)
					next.value = int_floor_step(k, pos.value, step, limit.value);
			}
			pos = next;
			if (++skipped > PART_SKIP_LIMIT)
			{
				*problem = psprintf("more than %d partition intervals lie between the oldest partition and the retention cutoff; check partition_interval",
									PART_SKIP_LIMIT);
				break;
			}
			continue;
		}

		op = palloc0(sizeof(PartOp));
		op->action = PA_CREATE;
		op->parent = k->parent;
		op->key = k;
		op->lo = pos;
		op->hi = next;
		op->lo_text = bound_text(k, &pos);
		op->hi_text = bound_text(k, &next);
		op->relname = new_partition_name(k, step, &pattern, nsp, parent_name, &pos, taken);
		taken = lappend(taken, op->relname);
		op->name = psprintf("%s.%s", quote_identifier(get_namespace_name(nsp)),
							quote_identifier(op->relname));
		op->rows = -1;
		op->bytes = -1;
		ops = lappend(ops, op);
		if (list_length(ops) >= PART_CREATE_LIMIT)
		{
			*problem = psprintf("stopped after %d new partitions; check partition_interval", PART_CREATE_LIMIT);
			break;
		}
		pos = next;
	}
	return ops;
}

typedef struct CreateUnit
{
	PartOp	   *op;
	List	   *stmts;
	int64		moved;
} CreateUnit;

static void
create_unit(void *arg)
{
	CreateUnit *u = arg;
	ListCell   *lc;

	/* Parent first, then (inside CREATE) the default partition. */
	LockRelationOid(u->op->parent, AccessExclusiveLock);
	SPI_connect();
	u->moved = 0;
	foreach(lc, u->stmts)
	{
		int			rc = SPI_execute(lfirst(lc), false, 0);

		if (rc < 0)
			elog(ERROR, "could not run %s: %s", (char *) lfirst(lc), SPI_result_code_string(rc));
		if (rc == SPI_OK_INSERT && foreach_current_index(lc) == 1)
			u->moved = SPI_processed;
		else if (rc == SPI_OK_INSERT && (int64) SPI_processed != u->moved)
			ereport(ERROR,
					(errcode(ERRCODE_INTERNAL_ERROR),
					 errmsg("moved %lld rows out of the default partition but inserted %lld",
							(long long) u->moved, (long long) SPI_processed)));
	}
	SPI_finish();
	dbopt_log_action("create_future_partitions", u->op->name, "created",
					 u->moved, -1,
					 u->moved > 0 ?
					 psprintf("range [%s, %s); %lld row(s) moved from the default partition",
							  u->op->lo_text, u->op->hi_text, (long long) u->moved) :
					 psprintf("range [%s, %s)", u->op->lo_text, u->op->hi_text));
}

/* Create (or describe) the planned partitions of one table. */
static void
run_create_ops(Tree *t, List *ops, bool move_default_rows, bool dry_run,
			   ReturnSetInfo *rsinfo, OpCounts *counts)
{
	ListCell   *lc;

	limit_ops(counts, ops, "create");
	foreach(lc, ops)
	{
		PartOp	   *op = lfirst(lc);
		int64		in_default = 0;
		char	   *count_problem = t->def ? default_rows_in_range(op, t->def, &in_default) : NULL;
		List	   *stmts;
		const char *action;
		int64		moved = -1;

		CHECK_FOR_INTERRUPTS();
		stmts = in_default > 0 ? move_statements(op, t->def) : list_make1(create_sql(op));
		if (count_problem != NULL)
		{
			action = "skipped";
			op->detail = psprintf("could not check the default partition: %s", count_problem);
			counts->skipped++;
		}
		else if (in_default > 0 && !move_default_rows)
		{
			action = "default_has_rows";
			op->detail = psprintf("the default partition %s holds %lld row(s) in [%s, %s), so the partition cannot be created; move them with fix_sql or move_default_rows => true",
								  dbopt_qualified_relname(t->def->relid), (long long) in_default,
								  op->lo_text, op->hi_text);
			op->fix_sql = statements_script(stmts);
			moved = in_default;
			counts->skipped++;
			if (!dry_run)
				dbopt_log_action("create_future_partitions", op->name, "skipped", in_default, -1, op->detail);
		}
		else if (dry_run)
		{
			action = "would create";
			op->done = true;
			if (in_default > 0)
			{
				op->detail = psprintf("range [%s, %s); would move %lld row(s) from the default partition",
									  op->lo_text, op->hi_text, (long long) in_default);
				moved = in_default;
			}
			op->fix_sql = statements_script(stmts);
			counts->done++;
		}
		else
		{
			CreateUnit	u;
			DboptUnitError err;

			u.op = op;
			u.stmts = stmts;
			if (dbopt_run_unit(create_unit, &u, dbopt_unit_owner(op->parent), 0, 0, &err))
			{
				action = "created";
				op->done = true;
				moved = u.moved;
				if (u.moved > 0)
					op->detail = psprintf("%lld row(s) moved from the default partition", (long long) u.moved);
				counts->done++;
			}
			else
			{
				action = "skipped";
				op->fix_sql = statements_script(stmts);
				record_skip(op, dbopt_unit_error_text(&err), "create_future_partitions", counts);
			}
		}
		if (rsinfo)
			put_create_row(rsinfo, op, action, moved);
	}
}

/* ---------- one plan for dry and real runs ---------- */

/* What one maintenance call plans for one registered table. */
typedef struct MaintPlan
{
	List	   *creates;		/* PA_CREATE ops, oldest first */
	bool		has_cutoff;
	Bound		cutoff;
	PartAction	remove_action;
	char	   *problem;		/* the table cannot be planned: why */
	char	   *note;			/* planned, with a remark */
} MaintPlan;

/* t with the planned partitions added, sorted, as the retention step will find it. */
static Tree *
tree_with_planned(const Tree *t, List *creates)
{
	Tree	   *v = palloc(sizeof(Tree));
	ListCell   *lc;

	*v = *t;
	v->parts = palloc0(sizeof(Part) * (t->nparts + list_length(creates) + 1));
	memcpy(v->parts, t->parts, sizeof(Part) * t->nparts);
	foreach(lc, creates)
	{
		PartOp	   *op = lfirst(lc);
		Part	   *p = &v->parts[v->nparts++];

		p->relid = InvalidOid;
		p->relkind = RELKIND_RELATION;
		p->is_range = true;
		p->lo = op->lo;
		p->hi = op->hi;
	}
	qsort_arg(v->parts, v->nparts, sizeof(Part), part_cmp, &v->key);
	return v;
}

/*
 * The plan of one registered table, made once and used by the dry run and
 * the real run alike: the partitions to create (never below the retention
 * cutoff), then the retention step over the table as it will be after
 * them.  Only carrying it out differs between the two.
 */
static void
plan_maintenance(const Config *c, Tree *t, MaintPlan *mp)
{
	Step		step;

	memset(mp, 0, sizeof(*mp));
	mp->remove_action = strcmp(c->mode, "drop") == 0 ? PA_DROP : PA_DETACH;
	/* Registered before units were required: report, do not guess. */
	if (t->key.is_time &&
		(dbopt_is_bare_number(c->interval) || (c->retention && dbopt_is_bare_number(c->retention))))
	{
		mp->problem = psprintf("partition_interval '%s' or retention '%s' has no unit; register it again with dbopt.manage_partitions()",
							   c->interval, c->retention ? c->retention : "");
		return;
	}
	step = parse_step(&t->key, "partition_interval", c->interval, t->key.typid == DATEOID);
	if (c->retention)
	{
		Step		keep = parse_step(&t->key, "retention", c->retention, false);

		mp->has_cutoff = retention_cutoff(t, &keep, &mp->cutoff);
	}
	mp->creates = plan_future(t, &step, c->premake, c->backfill,
							  mp->has_cutoff ? &mp->cutoff : NULL, &mp->note);
}

/*
 * The retention step of a plan, over the table as the create step left it
 * (or, in a dry run, would leave it): its partitions plus the planned ones
 * that were (or would be) created.  A partition that a default row blocks
 * is missing in both runs alike; one that a lock kept from being created
 * is missing only in the real run.
 */
static List *
plan_removes(const MaintPlan *mp, const Tree *t)
{
	List	   *done = NIL;
	ListCell   *lc;

	if (!mp->has_cutoff)
		return NIL;
	foreach(lc, mp->creates)
		if (((PartOp *) lfirst(lc))->done)
			done = lappend(done, lfirst(lc));
	return plan_retention(tree_with_planned(t, done), &mp->cutoff, mp->remove_action, NIL);
}

/* Registered parents to work on: one (which must be registered) or all. */
static List *
target_configs(Oid parent, const char *func)
{
	List	   *configs = load_configs(parent);

	if (OidIsValid(parent) && configs == NIL)
		ereport(ERROR,
				(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
				 errmsg("%s is not registered for partition management",
						dbopt_qualified_relname(parent)),
				 errdetail("%s() takes the partition width and premake from dbopt.partition_config.", func),
				 errhint("Register it first: SELECT dbopt.manage_partitions('%s', '1 month');",
						 dbopt_qualified_relname(parent))));
	return configs;
}

PG_FUNCTION_INFO_V1(dbopt_create_future_partitions);

Datum
dbopt_create_future_partitions(PG_FUNCTION_ARGS)
{
	ReturnSetInfo *rsinfo = (ReturnSetInfo *) fcinfo->resultinfo;
	Oid			only = PG_ARGISNULL(0) ? InvalidOid : PG_GETARG_OID(0);
	bool		move_default_rows = dbopt_steering_bool(fcinfo, 1, "move_default_rows");
	bool		dry_run = dbopt_steering_bool(fcinfo, 2, "dry_run");
	List	   *configs;
	ListCell   *lc;
	OpCounts *counts;
	MemoryContext itemcxt;
	MemoryContext old;

	if (OidIsValid(only))
	{
		check_parent(only);
		check_owner(only, "create_future_partitions");
	}
	configs = target_configs(only, "create_future_partitions");
	dbopt_init_materialized_srf(fcinfo);
	counts = palloc0(sizeof(OpCounts));
	itemcxt = AllocSetContextCreate(CurrentMemoryContext, "dbopt partition parent",
									ALLOCSET_DEFAULT_SIZES);
	old = MemoryContextSwitchTo(itemcxt);
	foreach(lc, configs)
	{
		Config	   *c = lfirst(lc);
		char	   *problem = registered_parent_problem(c->parent);
		Tree		t;
		MaintPlan	mp;
		int			nest = dbopt_push_lock_timeout();

		CHECK_FOR_INTERRUPTS();
		if (problem == NULL && !c->force)
			problem = foreign_manager(c->parent);
		if (problem == NULL)
			problem = load_tree_isolated(c->parent, &t);
		if (problem == NULL && !t.key.supported)
			problem = t.key.unsupported;
		if (problem == NULL)
		{
			plan_maintenance(c, &t, &mp);
			problem = mp.problem;
		}
		if (problem != NULL)
		{
			if (OidIsValid(only))
				ereport(ERROR,
						(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
						 errmsg("cannot create partitions for %s", dbopt_qualified_relname(c->parent)),
						 errdetail("%s.", problem),
						 errhint("Retry later, or fix the registration with dbopt.manage_partitions().")));
			ereport(WARNING,
					(errmsg("create_future_partitions: skipped %s", dbopt_qualified_relname(c->parent)),
					 errdetail("%s.", problem)));
			counts->skipped++;
		}
		else
		{
			run_create_ops(&t, mp.creates, move_default_rows, dry_run, rsinfo, counts);
			if (mp.note)
				ereport(WARNING,
						(errmsg("create_future_partitions: %s", dbopt_qualified_relname(c->parent)),
						 errdetail("%s.", mp.note)));
		}
		AtEOXact_GUC(true, nest);
		MemoryContextReset(itemcxt);
	}
	MemoryContextSwitchTo(old);
	MemoryContextDelete(itemcxt);
	ereport(NOTICE,
			(errmsg("create_future_partitions%s: %d partition(s) %s, %d skipped",
					dry_run ? " dry run" : "", counts->done,
					dry_run ? "would be created" : "created", counts->skipped)));
	return (Datum) 0;
}

/* ---------- run_partition_maintenance() ---------- */

PG_FUNCTION_INFO_V1(dbopt_run_partition_maintenance);

Datum
dbopt_run_partition_maintenance(PG_FUNCTION_ARGS)
{
	ReturnSetInfo *rsinfo = (ReturnSetInfo *) fcinfo->resultinfo;
	bool		dry_run = dbopt_steering_bool(fcinfo, 0, "dry_run");
	List	   *configs;
	ListCell   *lc;
	MemoryContext itemcxt;
	MemoryContext old;

	dbopt_init_materialized_srf(fcinfo);
	configs = load_configs(InvalidOid);
	itemcxt = AllocSetContextCreate(CurrentMemoryContext, "dbopt partition parent",
									ALLOCSET_DEFAULT_SIZES);
	old = MemoryContextSwitchTo(itemcxt);
	foreach(lc, configs)
	{
		Config	   *c = lfirst(lc);
		char	   *problem = registered_parent_problem(c->parent);
		OpCounts *cc = palloc0(sizeof(OpCounts));
		OpCounts *rc = palloc0(sizeof(OpCounts));
		int			nest = dbopt_push_lock_timeout();
		Tree		t;
		Datum		values[7];
		bool		nulls[7] = {0};
		const char *status;
		StringInfoData detail;
		MaintPlan	mp;
		bool		foreign = false;

		CHECK_FOR_INTERRUPTS();
		initStringInfo(&detail);

		if (problem == NULL && !c->force)
			foreign = (problem = foreign_manager(c->parent)) != NULL;
		if (problem == NULL)
			problem = load_tree_isolated(c->parent, &t);
		if (problem == NULL && !t.key.supported)
			problem = t.key.unsupported;
		if (problem == NULL)
		{
			plan_maintenance(c, &t, &mp);
			problem = mp.problem;
		}
		if (problem == NULL)
		{
			List	   *removes;

			run_create_ops(&t, mp.creates, false, dry_run, NULL, cc);
			if (mp.note)
				appendStringInfo(&detail, "%s; ", mp.note);
			if (cc->first_problem)
				appendStringInfo(&detail, "%s; ", cc->first_problem);
			removes = plan_removes(&mp, &t);
			if (removes != NIL)
				run_retention_ops(removes, dry_run, NULL, rc, NULL, NULL, NULL);
			if (rc->first_problem)
				appendStringInfo(&detail, "%s; ", rc->first_problem);
			if (dry_run && (mp.creates != NIL || rc->done > 0))
				appendStringInfoString(&detail, "the real run takes each lock under dbopt.lock_timeout and skips what it cannot lock; ");
		}
		if (problem != NULL)
		{
			/* Another role's table is not ours to touch: skipped, not failed. */
			status = foreign || (get_rel_relkind(c->parent) != '\0' &&
								 !dbopt_relation_ownercheck(c->parent, GetUserId())) ? "skipped" : "error";
			appendStringInfoString(&detail, problem);
		}
		else if (dry_run)
			status = "dry_run";
		else
			status = (cc->skipped + rc->skipped) > 0 ? "partial" : "ok";
		if (!dry_run && problem == NULL)
		{
			Oid			argtypes[1] = {OIDOID};
			Datum		args[1] = {ObjectIdGetDatum(c->parent)};
			DboptIdentity saved;

			dbopt_elevate(&saved);
			SPI_connect();
			SPI_execute_with_args("UPDATE dbopt.partition_config SET last_maintenance_at = pg_catalog.now()"
								  " WHERE parent = $1::regclass", 1, argtypes, args, NULL, false, 0);
			SPI_finish();
			dbopt_restore_identity(&saved);
		}
		AtEOXact_GUC(true, nest);

		values[0] = ObjectIdGetDatum(c->parent);
		values[1] = Int32GetDatum(cc->done);
		values[2] = Int32GetDatum(strcmp(c->mode, "drop") == 0 ? rc->done : 0);
		values[3] = Int32GetDatum(strcmp(c->mode, "detach") == 0 ? rc->done : 0);
		values[4] = Int32GetDatum(cc->skipped + rc->skipped);
		values[5] = CStringGetTextDatum(status);
		if (detail.len >= 2 && detail.data[detail.len - 2] == ';')
			detail.data[detail.len - 2] = '\0';
		values[6] = CStringGetTextDatum(detail.data);
		nulls[6] = detail.data[0] == '\0';
		tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc, values, nulls);
		MemoryContextReset(itemcxt);
	}
	MemoryContextSwitchTo(old);
	MemoryContextDelete(itemcxt);
	return (Datum) 0;
}

/* ---------- analyze_partition_distribution() ---------- */

typedef struct DistRow
{
	Part	   *part;
	int64		rows;
	int64		bytes;
	bool		counted;
	List	   *flags;
} DistRow;

static int
int64_cmp(const void *a, const void *b)
{
	int64		x = *(const int64 *) a;
	int64		y = *(const int64 *) b;

	return x < y ? -1 : x > y ? 1 : 0;
}

static void
distribution_of(Tree *t, Config *cfg, bool exact, ReturnSetInfo *rsinfo, MemoryContext itemcxt)
{
	int			n = t->nparts + (t->def ? 1 : 0);
	DistRow    *rows = palloc0(sizeof(DistRow) * Max(n, 1));
	int64	   *sizes = palloc(sizeof(int64) * Max(n, 1));
	int			nsizes = 0;
	int64		median = 0;
	int64		total_rows = 0;
	int			newest = -1;
	int			i;
	bool		is_range = t->key.supported;
	Bound		cutoff = {0, 0};
	bool		have_cutoff = false;
	List	   *subs = NIL;
	ListCell   *lc;

	for (i = 0; i < n; i++)
	{
		DistRow    *r = &rows[i];

		CHECK_FOR_INTERRUPTS();
		r->part = i < t->nparts ? &t->parts[i] : t->def;
		(void) dbopt_relation_stats_nowait(r->part->relid, &r->rows, &r->bytes);
		if (exact)
		{
			int64		cnt = 0;
			bool		isnull;

			if (isolated_int8(psprintf("SELECT count(*) FROM %s",
									   dbopt_qualified_relname(r->part->relid)),
							  dbopt_check_timeout_ms, &cnt, &isnull) == NULL)
			{
				r->rows = cnt;
				r->counted = true;
			}
			else
				r->flags = lappend(r->flags, "not_counted");
		}
		if (r->rows > 0)
			total_rows += r->rows;
		if (!r->part->is_default && r->bytes >= 0)
			sizes[nsizes++] = r->bytes;
		if (r->part->is_range)
			newest = i;
		if (r->part->relkind == RELKIND_PARTITIONED_TABLE)
			subs = lappend_oid(subs, r->part->relid);
	}
	if (nsizes >= 3)
	{
		qsort(sizes, nsizes, sizeof(int64), int64_cmp);
		median = nsizes % 2 ? sizes[nsizes / 2] : (sizes[nsizes / 2 - 1] + sizes[nsizes / 2]) / 2;
	}
	if (is_range && cfg && cfg->retention)
	{
		Step		keep = parse_step(&t->key, "retention", cfg->retention, false);

		have_cutoff = retention_cutoff(t, &keep, &cutoff);
	}

	for (i = 0; i < n; i++)
	{
		DistRow    *r = &rows[i];
		Part	   *p = r->part;
		Datum		values[9];
		bool		nulls[9] = {0};
		ArrayBuildState *astate = NULL;

		if (r->rows == 0 || (!r->counted && r->bytes == 0))
			r->flags = lappend(r->flags, "empty");
		if (median > 0 && r->bytes > 3 * median)
			r->flags = lappend(r->flags, "oversized");
		if (p->is_default)
		{
			int64		any = r->rows;
			bool		isnull;

			if (!r->counted &&
				isolated_int8(psprintf("SELECT count(*) FROM (SELECT 1 FROM %s LIMIT 1) s",
									   dbopt_qualified_relname(p->relid)),
							  dbopt_check_timeout_ms, &any, &isnull) != NULL)
				any = 0;
			if (any > 0)
				r->flags = lappend(r->flags, "default_has_rows");
		}
		if (is_range && p->is_range && i > 0 && rows[i - 1].part->is_range &&
			bound_cmp(&t->key, &rows[i - 1].part->hi, &p->lo) < 0)
			r->flags = lappend(r->flags, "gap_before");
		if (i == newest && t->key.is_time)
		{
			Step		step;
			Bound		ahead;
			bool		covered = false;
			int			j;

			step.n = 0;
			if (cfg)
				step = parse_step(&t->key, "partition_interval", cfg->interval, t->key.typid == DATEOID);
			else if (p->lo.kind == 0 && p->hi.kind == 0)
				step.iv = bound_width(&t->key, &p->lo, &p->hi);
			else
				step.iv = NULL;
			ahead.kind = 0;
			if (p->hi.kind > 0)
				covered = true;
			else if (step.iv != NULL &&
					 key_shift(&t->key, now_in_key(&t->key), &step, 1, 1, &ahead.value))
			{
				for (j = 0; j < t->nparts && !covered; j++)
					covered = t->parts[j].is_range &&
						bound_cmp(&t->key, &t->parts[j].lo, &ahead) <= 0 &&
						bound_cmp(&t->key, &ahead, &t->parts[j].hi) < 0;
			}
			if (!covered)
				r->flags = lappend(r->flags, "missing_future");
		}
		if (have_cutoff && p->is_range &&
			bound_cmp(&t->key, &p->lo, &cutoff) < 0 && bound_cmp(&t->key, &cutoff, &p->hi) < 0)
			r->flags = lappend(r->flags, "straddles_retention");

		values[0] = ObjectIdGetDatum(t->key.parent);
		values[1] = CStringGetTextDatum(dbopt_qualified_relname(p->relid));
		if (p->is_range && t->key.attnum != 0)
		{
			values[2] = CStringGetTextDatum(bound_text(&t->key, &p->lo));
			values[3] = CStringGetTextDatum(bound_text(&t->key, &p->hi));
		}
		else
			nulls[2] = nulls[3] = true;
		values[4] = BoolGetDatum(p->is_default);
		values[5] = Int64GetDatum(r->rows);
		nulls[5] = r->rows < 0;
		values[6] = Int64GetDatum(r->bytes);
		nulls[6] = r->bytes < 0;
		if (r->rows >= 0 && total_rows > 0)
			values[7] = DirectFunctionCall2(numeric_round,
											DirectFunctionCall1(float8_numeric,
																Float8GetDatum(100.0 * r->rows / total_rows)),
											Int32GetDatum(2));
		else
			values[7] = DirectFunctionCall1(int4_numeric, Int32GetDatum(0));
		foreach(lc, r->flags)
			astate = accumArrayResult(astate, CStringGetTextDatum(lfirst(lc)), false, TEXTOID,
									  CurrentMemoryContext);
		values[8] = astate ? makeArrayResult(astate, CurrentMemoryContext) :
			PointerGetDatum(construct_empty_array(TEXTOID));
		tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc, values, nulls);
	}

	/* Sub-partitioned children: their own partitions follow, one level at a time. */
	foreach(lc, subs)
	{
		Tree		sub;
		char	   *problem = load_tree_isolated(lfirst_oid(lc), &sub);

		if (problem == NULL)
			distribution_of(&sub, NULL, exact, rsinfo, itemcxt);
	}
}

PG_FUNCTION_INFO_V1(dbopt_analyze_partition_distribution);

Datum
dbopt_analyze_partition_distribution(PG_FUNCTION_ARGS)
{
	ReturnSetInfo *rsinfo = (ReturnSetInfo *) fcinfo->resultinfo;
	Oid			only = PG_ARGISNULL(0) ? InvalidOid : PG_GETARG_OID(0);
	bool		exact = PG_ARGISNULL(1) ? false : PG_GETARG_BOOL(1);
	List	   *parents = NIL;
	List	   *configs;
	ListCell   *lc;
	MemoryContext itemcxt;
	MemoryContext old;
	int			nest;

	if (OidIsValid(only))
	{
		check_parent(only);
		parents = list_make1_oid(only);
	}
	else
	{
		foreach(lc, dbopt_user_relations("p"))
			if (!get_rel_relispartition(lfirst_oid(lc)))
				parents = lappend_oid(parents, lfirst_oid(lc));
	}
	configs = load_configs(InvalidOid);
	dbopt_init_materialized_srf(fcinfo);
	nest = dbopt_push_lock_timeout();
	itemcxt = AllocSetContextCreate(CurrentMemoryContext, "dbopt partition parent",
									ALLOCSET_DEFAULT_SIZES);
	old = MemoryContextSwitchTo(itemcxt);
	foreach(lc, parents)
	{
		Tree		t;
		char	   *problem;

		CHECK_FOR_INTERRUPTS();
		problem = load_tree_isolated(lfirst_oid(lc), &t);
		if (problem != NULL)
		{
			if (OidIsValid(only))
				ereport(ERROR,
						(errcode(ERRCODE_LOCK_NOT_AVAILABLE),
						 errmsg("could not read the partitions of %s", dbopt_qualified_relname(only)),
						 errdetail("%s.", problem),
						 errhint("Retry when the table is not being altered.")));
			ereport(WARNING,
					(errmsg("analyze_partition_distribution: skipped %s",
							dbopt_qualified_relname(lfirst_oid(lc))),
					 errdetail("%s.", problem)));
		}
		else
			distribution_of(&t, find_config(configs, lfirst_oid(lc)), exact, rsinfo, itemcxt);
		MemoryContextReset(itemcxt);
	}
	MemoryContextSwitchTo(old);
	MemoryContextDelete(itemcxt);
	AtEOXact_GUC(true, nest);
	return (Datum) 0;
}
