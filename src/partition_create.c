/*-------------------------------------------------------------------------
 *
 * partition_create.c
 *	  Future partitions: the plan (premake steps ahead, gaps, names that
 *	  follow the existing partitions'), create_future_partitions(), and
 *	  moving rows out of the default partition when asked.
 *
 * The plan of one registered table (plan_maintenance()) is made once and
 * serves the dry run and the real run alike, here and in
 * run_partition_maintenance() (partition_drops.c).
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

#define PART_CREATE_LIMIT 10000
#define PART_SKIP_LIMIT 1000000	/* steps walked below a retention cutoff */

/* ---------- arithmetic on new bounds ---------- */

/*
 * For an integer key: the last bound on v's grid (v + n * step) at or below
 * limit, so that a walk below a retention cutoff costs one step, not
 * billions.
 */
static Datum
int_floor_step(const KeyInfo *k, Datum v, const Step *step, Datum limit)
{
	int64		from = dbopt_part_int_value(k, v);
	int64		to = dbopt_part_int_value(k, limit);
	int64		n;
	Datum		out;

	if (to <= from)
		return dbopt_part_key_shift_value(k, v, step);
	/* (to - from) may overflow int64 only for bigint keys spanning the whole range. */
	n = (int64) (((uint64) to - (uint64) from) / (uint64) step->n);
	if (n < 1 || !dbopt_part_key_shift(k, v, step, 1, 1, &out))
		return dbopt_part_key_shift_value(k, v, step);
	if (!dbopt_part_int_datum(k, (int64) ((uint64) from + (uint64) n * (uint64) step->n), &out))
		return dbopt_part_key_shift_value(k, v, step);
	return out;
}

/* Start of the interval-sized slot holding v, for a table with no partitions yet. */
Datum
dbopt_part_key_anchor(const KeyInfo *k, Datum v, const Step *step)
{
	const char *unit;
	Datum		u;

	if (!k->is_time)
	{
		int64		x = dbopt_part_int_value(k, v);
		int64		a = x - ((x % step->n) + step->n) % step->n;
		Datum		d;

		return dbopt_part_int_datum(k, a, &d) ? d : v;
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
		return psprintf("%lld", (long long) dbopt_part_int_value(k, v));
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
	/* Every live column but the generated ones, recomputed on insert. */
	char	   *cols = dbopt_relation_column_names(op->parent, true, true);
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
	return dbopt_part_isolated_int8(sql, dbopt_check_timeout_ms, n, &isnull);
}

/*
 * The point the table must cover premake steps past: now for a time key;
 * for an integer key the highest key, or (empty) the lowest bound, or zero.
 */
static bool
plan_now(Tree *t, Bound *cur, char **problem)
{
	KeyInfo    *k = &t->key;
	int64		max;
	int			i;

	cur->kind = 0;
	if (k->is_time)
	{
		cur->value = dbopt_part_now_in_key(k);
		return true;
	}
	if (!dbopt_part_highest_key(t, &max))
	{
		/* Empty: start at the lowest bound, or at zero. */
		max = 0;
		for (i = 0; i < t->nparts; i++)
			if (t->parts[i].is_range && t->parts[i].lo.kind == 0)
			{
				max = dbopt_part_int_value(k, t->parts[i].lo.value);
				break;
			}
	}
	if (!dbopt_part_int_datum(k, max, &cur->value))
	{
		*problem = pstrdup("highest key is out of range");
		return false;
	}
	return true;
}

/*
 * Where planning starts: the oldest partition with backfill; else the end
 * of the partition holding cur, else of the newest one below it, else the
 * start of cur's slot.
 */
static Bound
plan_start(const Tree *t, const Step *step, const Bound *cur, bool backfill)
{
	const KeyInfo *k = &t->key;
	Bound		pos = {0, 0};
	int			below = -1;
	int			i;

	if (backfill && t->nparts > 0 && t->parts[0].is_range)
		return t->parts[0].lo.kind == 0 ? t->parts[0].lo : t->parts[0].hi;
	for (i = 0; i < t->nparts; i++)
	{
		const Part *p = &t->parts[i];

		if (!p->is_range)
			continue;
		if (dbopt_part_bound_cmp(k, &p->lo, cur) <= 0 && dbopt_part_bound_cmp(k, cur, &p->hi) < 0)
			return p->hi;
		if (dbopt_part_bound_cmp(k, &p->hi, cur) <= 0)
			below = i;
	}
	if (below >= 0)
		return t->parts[below].hi;
	pos.value = dbopt_part_key_anchor(k, cur->value, step);
	return pos;
}

/* A planned partition [lo, hi), named beside its neighbours. */
static PartOp *
planned_create(KeyInfo *k, const Step *step, const NamePattern *pattern, const Bound *lo,
			   const Bound *hi, List *taken)
{
	PartOp	   *op = palloc0(sizeof(PartOp));
	Oid			nsp = get_rel_namespace(k->parent);

	op->action = PA_CREATE;
	op->parent = k->parent;
	op->key = k;
	op->lo = *lo;
	op->hi = *hi;
	op->lo_text = dbopt_part_bound_text(k, lo);
	op->hi_text = dbopt_part_bound_text(k, hi);
	op->relname = new_partition_name(k, step, pattern, nsp, get_rel_name(k->parent), lo, taken);
	op->name = psprintf("%s.%s", quote_identifier(get_namespace_name(nsp)),
						quote_identifier(op->relname));
	op->rows = -1;
	op->bytes = -1;
	return op;
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
	Bound		cur;
	Bound		target;
	Bound		pos;
	List	   *ops = NIL;
	List	   *taken = NIL;
	int			i;
	NamePattern pattern;
	int			skipped = 0;

	/* Registered before the limit, or the limit was lowered since. */
	*problem = dbopt_part_min_interval_problem(step);
	if (*problem != NULL)
		return NIL;
	if (!plan_now(t, &cur, problem))
		return NIL;
	target.kind = 0;
	if (!dbopt_part_key_shift(k, cur.value, step, 1, premake, &target.value))
	{
		target.kind = 1;		/* premake reaches past the type's range */
	}

	pos = plan_start(t, step, &cur, backfill);
	infer_name_pattern(t, &pattern);

	i = 0;
	while (pos.kind == 0 && dbopt_part_bound_cmp(k, &pos, &target) <= 0)
	{
		Bound		next;
		PartOp	   *op;

		CHECK_FOR_INTERRUPTS();
		while (i < t->nparts && (!t->parts[i].is_range || dbopt_part_bound_cmp(k, &t->parts[i].hi, &pos) <= 0))
			i++;
		if (i < t->nparts && dbopt_part_bound_cmp(k, &t->parts[i].lo, &pos) <= 0)
		{
			pos = t->parts[i].hi;	/* already covered */
			continue;
		}
		next.kind = 0;
		if (!dbopt_part_key_shift(k, pos.value, step, 1, 1, &next.value))
		{
			*problem = psprintf("the next partition after %s would pass the range of type %s",
								dbopt_part_bound_text(k, &pos), format_type_be(k->typid));
			break;
		}
		if (i < t->nparts && dbopt_part_bound_cmp(k, &t->parts[i].lo, &next) < 0)
			next = t->parts[i].lo;	/* fill the gap exactly */
		if (floor != NULL && dbopt_part_bound_cmp(k, &next, floor) <= 0)
		{
			/* Retention would drop it: never created.  Integer keys jump. */
			if (!k->is_time && next.value == dbopt_part_key_shift_value(k, pos.value, step))
			{
				/* As far as the cutoff, or the next existing partition if nearer. */
				Bound		limit = *floor;

				if (i < t->nparts && dbopt_part_bound_cmp(k, &t->parts[i].lo, &limit) < 0)
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

		op = planned_create(k, step, &pattern, &pos, &next, taken);
		taken = lappend(taken, op->relname);
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
void
dbopt_part_run_create_ops(Tree *t, List *ops, bool move_default_rows, bool dry_run,
						  ReturnSetInfo *rsinfo, OpCounts *counts)
{
	ListCell   *lc;

	dbopt_part_limit_ops(counts, ops, "create");
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
				dbopt_part_record_skip(op, dbopt_unit_error_text(&err), "create_future_partitions", counts);
			}
		}
		if (rsinfo)
			put_create_row(rsinfo, op, action, moved);
	}
}

/* ---------- one plan for dry and real runs ---------- */

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
	step = dbopt_part_parse_step(&t->key, "partition_interval", c->interval, t->key.typid == DATEOID);
	if (c->retention)
	{
		Step		keep = dbopt_part_parse_step(&t->key, "retention", c->retention, false);

		mp->has_cutoff = dbopt_part_retention_cutoff(t, &keep, &mp->cutoff);
	}
	mp->creates = plan_future(t, &step, c->premake, c->backfill,
							  mp->has_cutoff ? &mp->cutoff : NULL, &mp->note);
}

/*
 * Load and plan one registered table, for create_future_partitions() and
 * run_partition_maintenance(); NULL, or why it cannot be planned now
 * (*foreign: because another tool manages it).
 */
char *
dbopt_part_plan_registered(const Config *c, Tree *t, MaintPlan *mp, bool *foreign)
{
	char	   *problem = dbopt_part_load_registered(c, t, foreign);

	if (problem == NULL && !t->key.supported)
		problem = t->key.unsupported;
	if (problem == NULL)
	{
		plan_maintenance(c, t, mp);
		problem = mp->problem;
	}
	return problem;
}

/* Registered parents to work on: one (which must be registered) or all. */
static List *
target_configs(Oid parent, const char *func)
{
	List	   *configs = dbopt_part_load_configs(parent);

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

/* What create_future_partitions() carries from one table to the next. */
typedef struct CreateRun
{
	Oid			only;
	bool		move_default_rows;
	bool		dry_run;
	ReturnSetInfo *rsinfo;
	OpCounts   *counts;
} CreateRun;

static void
create_for_parent(Config *c, void *arg)
{
	CreateRun  *run = arg;
	char	   *problem;
	Tree		t;
	MaintPlan	mp;
	bool		foreign;

	problem = dbopt_part_plan_registered(c, &t, &mp, &foreign);
	if (problem != NULL)
	{
		if (OidIsValid(run->only))
			ereport(ERROR,
					(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
					 errmsg("cannot create partitions for %s", dbopt_qualified_relname(c->parent)),
					 errdetail("%s.", problem),
					 errhint("Retry later, or fix the registration with dbopt.manage_partitions().")));
		ereport(WARNING,
				(errmsg("create_future_partitions: skipped %s", dbopt_qualified_relname(c->parent)),
				 errdetail("%s.", problem)));
		run->counts->skipped++;
	}
	else
	{
		dbopt_part_run_create_ops(&t, mp.creates, run->move_default_rows, run->dry_run,
											 run->rsinfo, run->counts);
		if (mp.note)
			ereport(WARNING,
					(errmsg("create_future_partitions: %s", dbopt_qualified_relname(c->parent)),
					 errdetail("%s.", mp.note)));
	}
}

Datum
dbopt_create_future_partitions(PG_FUNCTION_ARGS)
{
	CreateRun	run;
	List	   *configs;

	run.rsinfo = (ReturnSetInfo *) fcinfo->resultinfo;
	run.only = PG_ARGISNULL(0) ? InvalidOid : PG_GETARG_OID(0);
	run.move_default_rows = dbopt_steering_bool(fcinfo, 1, "move_default_rows");
	run.dry_run = dbopt_steering_bool(fcinfo, 2, "dry_run");
	if (OidIsValid(run.only))
	{
		dbopt_part_check_parent(run.only);
		dbopt_part_check_owner(run.only, "create_future_partitions");
	}
	configs = target_configs(run.only, "create_future_partitions");
	dbopt_init_materialized_srf(fcinfo);
	run.counts = palloc0(sizeof(OpCounts));
	dbopt_part_each_config(configs, create_for_parent, &run);
	ereport(NOTICE,
			(errmsg("create_future_partitions%s: %d partition(s) %s, %d skipped",
					run.dry_run ? " dry run" : "", run.counts->done,
					run.dry_run ? "would be created" : "created", run.counts->skipped)));
	return (Datum) 0;
}
