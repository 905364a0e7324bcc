/*-------------------------------------------------------------------------
 *
 * partitions_internal.h
 *	  What the partition files share (partitions.c, partition_create.c,
 *	  partition_drops.c, partition_distribution.c): the key, bounds and
 *	  planned actions of one partitioned table, and the helpers over them.
 *	  Not for the rest of dbopt; that is partitions.h.
 *
 *-------------------------------------------------------------------------
 */
#ifndef DBOPT_PARTITIONS_INTERNAL_H
#define DBOPT_PARTITIONS_INTERNAL_H

#include "postgres.h"

#include "datatype/timestamp.h"
#include "fmgr.h"
#include "nodes/execnodes.h"
#include "nodes/parsenodes.h"
#include "nodes/pg_list.h"

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

/* What a run did with its planned partitions. */
typedef struct OpCounts
{
	int			done;			/* created, dropped or detached (or would be) */
	int			kept;			/* by rule: straddling, last remaining */
	int			skipped;		/* failed: lock timeout, dependency, ... */
	char	   *first_problem;	/* for a summary row */
	int			planned;		/* partitions this call planned to change */
} OpCounts;

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

/* partitions.c: keys, bounds and the tree of one partitioned table */
extern int	dbopt_part_bound_cmp(const KeyInfo *k, const Bound *a, const Bound *b);
extern char *dbopt_part_bound_text(const KeyInfo *k, const Bound *b);
extern PartitionBoundSpec *dbopt_part_stored_bound(Oid relid);
extern void dbopt_part_fill(const KeyInfo *k, Oid relid, Part *p);
extern int	dbopt_part_cmp(const void *a, const void *b, void *arg);
extern void dbopt_part_load_tree(Oid parent, Tree *t);
extern char *dbopt_part_load_tree_isolated(Oid parent, Tree *t);
extern char *dbopt_part_isolated_int8(const char *sql, int timeout_ms, int64 *n, bool *isnull);
extern bool dbopt_part_highest_key(const Tree *t, int64 *max);

/* partitions.c: other managers, and the checks of the arguments */
extern void dbopt_part_check_foreign_manager(Oid parent, bool force, const char *func);
extern void dbopt_part_check_parent(Oid parent);
extern void dbopt_part_check_owner(Oid parent, const char *func);
extern void dbopt_part_require_supported_key(const KeyInfo *k);
extern Step dbopt_part_parse_step(const KeyInfo *k, const char *argname, const char *text,
								  bool whole_days);
extern void dbopt_part_check_mode(const char *argname, const char *mode);
extern char *dbopt_part_min_interval_problem(const Step *s);

/* partitions.c: arithmetic on key values */
extern Datum dbopt_part_now_in_key(const KeyInfo *k);
extern int64 dbopt_part_int_value(const KeyInfo *k, Datum d);
extern bool dbopt_part_int_datum(const KeyInfo *k, int64 v, Datum *d);
extern bool dbopt_part_key_shift(const KeyInfo *k, Datum v, const Step *step, int sign, int times,
								 Datum *out);
extern Datum dbopt_part_key_shift_value(const KeyInfo *k, Datum v, const Step *step);
/* Start of the interval-sized slot holding v (partition_create.c). */
extern Datum dbopt_part_key_anchor(const KeyInfo *k, Datum v, const Step *step);
extern bool dbopt_part_retention_cutoff(const Tree *t, const Step *step, Bound *cutoff);

/* partitions.c: the registry, and runs over it */
extern List *dbopt_part_load_configs(Oid only);
extern char *dbopt_part_load_registered(const Config *c, Tree *t, bool *foreign);
typedef void (*DboptPartConfigFn) (Config *c, void *arg);
extern void dbopt_part_each_config(List *configs, DboptPartConfigFn fn, void *arg);
extern void dbopt_part_limit_ops(OpCounts *counts, List *ops, const char *verb);
extern void dbopt_part_record_skip(PartOp *op, const char *detail, const char *operation,
								   OpCounts *counts);

/* partition_create.c: the plan of one registered table, and carrying out its creates */
extern char *dbopt_part_plan_registered(const Config *c, Tree *t, MaintPlan *mp, bool *foreign);
extern void dbopt_part_run_create_ops(Tree *t, List *ops, bool move_default_rows, bool dry_run,
									  ReturnSetInfo *rsinfo, OpCounts *counts);

#endif							/* DBOPT_PARTITIONS_INTERNAL_H */
