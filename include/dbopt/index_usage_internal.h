/*-------------------------------------------------------------------------
 *
 * index_usage_internal.h
 *	  What the index analysis files share: index_usage.c collects one
 *	  IdxEntry per index and emits the rows, index_verdicts.c judges them,
 *	  unindexed_fk.c knows which index serves a foreign key.  Not for the
 *	  rest of dbopt.
 *
 *-------------------------------------------------------------------------
 */
#ifndef DBOPT_INDEX_USAGE_INTERNAL_H
#define DBOPT_INDEX_USAGE_INTERNAL_H

#include "postgres.h"

#include "datatype/timestamp.h"
#include "utils/builtins.h"

#include "dbopt/findings.h"
#include "dbopt/index_evidence.h"

/* Finding codes, in the order they are reported. */
typedef enum IdxCode
{
	CODE_UNUSED,
	CODE_UNUSED_RECENT,
	CODE_DUPLICATE,
	CODE_REDUNDANT,
	CODE_INVALID,
	CODE_BLOATED,
	NUM_CODES
} IdxCode;

/* One index as the report sees it: its signature, evidence and verdicts. */
typedef struct IdxEntry
{
	Oid			indexrelid;
	Oid			indrelid;
	char	   *extension;		/* the table belongs to this extension */
	Oid			amoid;
	char	   *schemaname;
	char	   *tablename;
	char	   *indexname;
	char	   *qualname;		/* quoted schema.index, the finding's object */
	char	   *qualtable;
	char		relkind;		/* RELKIND_INDEX or RELKIND_PARTITIONED_INDEX */
	bool		is_unique;
	bool		is_primary;
	bool		is_valid;
	bool		is_replident;
	bool		nulls_not_distinct;
	bool		attached;		/* partition of a partitioned index */
	bool		backs_constraint;
	bool		has_exprs;
	bool		has_pred;
	int			nkeys;
	char	  **keys;			/* one signature element per key column */
	int16	   *keyatts;		/* key column numbers, 0 for expressions */
	const char *serves_fk;		/* sole index covering this FK, or NULL */
	char	   *incl;			/* INCLUDE columns, "" if none */
	char	   *pred;			/* predicate without parse locations, "" if none */
	int64		size;			/* -1 unknown */
	int64		table_size;
	int64		scans;
	int64		tup_read;
	int64		tup_fetched;
	int64		bloat;			/* -1: no trustworthy estimate */
	bool		code[NUM_CODES];
	const char *note[NUM_CODES];	/* suppression note when shown anyway */
	const char *twin;			/* kept duplicate or covering index (qualname) */
	int64		dup_keys;		/* invalid unique: duplicated keys, -1 unknown */
	Oid			twin_oid;
	struct IdxEntry *covering;	/* redundant: the entry that covers it (until sorted) */
	bool		idle_long;		/* idle past min_stats_age, but scans seen before */
	Oid			twin_parent;	/* the kept twin is attached to this partitioned index */
	DboptEvidence ev;			/* partitioned: leaves summed, idle the shortest */
	int64		standby_scans;	/* -1: no standby registered */
	const char *confidence;		/* for unused, duplicate, redundant */
	char	   *conf_reasons;
	/* the what-if check: plans of pg_stat_statements' statements without it */
	bool		wi_done;
	bool		wi_available;
	int			wi_statements;	/* on its table */
	int			wi_using;		/* planned with it */
	int			wi_keeper;		/* of those, planned with the twin without it */
	int			wi_worse;		/* of those, costing over 10% more without it */
	int			wi_failed;		/* of those, that failed to plan without it */
	int			wi_unplanned;	/* statements naming its table that could not be planned */
	double		wi_max_ratio;
} IdxEntry;

/* Standbys as analyze_index_usage() sees them. */
typedef struct StandbyInfo
{
	int			registered;
	int			read;			/* registered and read */
	int			unregistered;	/* streaming from here, not registered */
	char	   *problem;		/* the first one, for the reasons */
	TimestampTz latest_epoch;	/* of the standbys read: their statistics start */
	TimestampTz now;
} StandbyInfo;

/* A foreign key's referencing side, for "this index serves a foreign key". */
typedef struct FkRef
{
	Oid			conrelid;
	char	   *name;
	int			ncols;
	int16	   *cols;
	int			covers;			/* valid indexes whose leading keys are cols */
} FkRef;

/* The finding codes' names, indexed by IdxCode. */
extern const char *const dbopt_iu_code_names[NUM_CODES];

/* Whether key is in arr, sorted with oid_cmp. */
static inline bool
dbopt_iu_oid_in(const Oid *arr, int n, Oid key)
{
	return n > 0 && bsearch(&key, arr, n, sizeof(Oid), oid_cmp) != NULL;
}


/* Whether the first ncols key columns of an index are exactly cols, in any order. */
extern bool dbopt_iu_leading_keys_are(const int16 *keyatts, int nkeys,
									  const int16 *cols, int ncols);

/* index_verdicts.c, in the order analyze_index_usage() calls them */
extern void dbopt_iu_classify(IdxEntry *arr, int n, int64 min_age, FkRef *fks, int nfks);
extern void dbopt_iu_whatif(IdxEntry *arr, int n);
extern void dbopt_iu_grade(IdxEntry *arr, int n, const StandbyInfo *sb);
extern void dbopt_iu_apply_suppressions(IdxEntry *arr, int n, const DboptSuppressionSet *supp,
										bool include_suppressed);
extern void dbopt_iu_advise(const IdxEntry *e, const char *standby_problem,
							char **rec, char **fix);

#endif							/* DBOPT_INDEX_USAGE_INTERNAL_H */
